#!/usr/bin/env bash
# Run one command inside a private Xvfb X server, then stop the server.
#   scripts/with_xvfb.sh [-s WIDTHxHEIGHT] COMMAND [ARGS...]
# The server gets the first free display number (Xvfb -displayfd), DISPLAY is exported to the
# command, and the server is stopped when the command ends (or this script is killed), so a
# test never leaves an X server behind. The command's exit code is returned.
# Needs Xvfb (scripts/ensure_system_libs.sh x11 installs it).
set -euo pipefail
size=1920x1080
if [ "${1:-}" = "-s" ]; then size=$2; shift 2; fi
[ $# -gt 0 ] || { echo "usage: with_xvfb.sh [-s WxH] COMMAND [ARGS...]" >&2; exit 2; }
command -v Xvfb >/dev/null || { echo "with_xvfb.sh: Xvfb is missing (apt-get install xvfb)" >&2; exit 3; }

fifo=$(mktemp -u)
mkfifo "$fifo"
Xvfb -displayfd 3 -screen 0 "${size}x24" -nolisten tcp -noreset 3>"$fifo" 2>/dev/null &
xvfb=$!
cleanup() { kill "$xvfb" 2>/dev/null || true; wait "$xvfb" 2>/dev/null || true; rm -f "$fifo"; }
trap cleanup EXIT INT TERM
display=""
read -r -t 30 display <"$fifo" || true
[ -n "$display" ] || { echo "with_xvfb.sh: Xvfb did not start within 30 s" >&2; exit 3; }
export DISPLAY=":$display"
unset WAYLAND_DISPLAY
set +e
"$@"
code=$?
set -e
exit $code
