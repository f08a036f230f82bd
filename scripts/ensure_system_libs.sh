#!/usr/bin/env bash
# Make sure the system libraries Qt needs to render offscreen are present.
# Installs the missing ones with apt-get when running as root; otherwise names them and how to install.
set -euo pipefail

# shared library (as ldconfig names it) -> Debian package
declare -A libs=(
  [libEGL.so.1]=libegl1
  [libGL.so.1]=libgl1
  [libxkbcommon.so.0]=libxkbcommon0
  [libfontconfig.so.1]=libfontconfig1
  [libdbus-1.so.3]=libdbus-1-3
  [libglib-2.0.so.0]=libglib2.0-0
)
missing=()
for lib in "${!libs[@]}"; do
  ldconfig -p 2>/dev/null | grep -q "$lib" || missing+=("${libs[$lib]}")
done
# Qt offscreen renders text with whatever fonts fontconfig finds; it needs at least one.
if ! { command -v fc-list >/dev/null && [ -n "$(fc-list 2>/dev/null | head -n 1)" ]; }; then
  missing+=(fonts-dejavu-core fontconfig)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system libraries Qt needs offscreen: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "myoflow: Qt needs these system packages, which are missing: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
