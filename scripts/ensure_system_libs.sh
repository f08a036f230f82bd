#!/usr/bin/env bash
# Make sure the system packages myoflow's dashboard needs are present, by group:
#   offscreen  Qt rendering without a display (always needed by the tests)
#   x11        Qt's xcb platform plugin on a real X display, plus Xvfb and xdotool for the
#              tests that run the dashboard in a real X server
#   audio      PortAudio (sound biofeedback), a userspace PulseAudio server and its tools (the
#              audio tests play into a null sink and record it back), espeak-ng (spoken cues)
#   reports    poppler-utils (pdftoppm, pdftotext, pdfinfo): the tests render and read back the
#              PDF reports and plots
# Usage: ensure_system_libs.sh [offscreen] [x11] [audio] [reports]   (no argument: all four)
# Installs the missing packages with apt-get when running as root; otherwise names them and
# how to install them. Exit 1 only when an offscreen package is missing and cannot be installed
# (the x11 and audio tests skip, saying which package is missing).
set -euo pipefail

groups=("$@")
[ ${#groups[@]} -eq 0 ] && groups=(offscreen x11 audio reports)

# shared library (as ldconfig names it) -> Debian package
declare -A offscreen_libs=(
  [libEGL.so.1]=libegl1
  [libGL.so.1]=libgl1
  [libxkbcommon.so.0]=libxkbcommon0
  [libfontconfig.so.1]=libfontconfig1
  [libdbus-1.so.3]=libdbus-1-3
  [libglib-2.0.so.0]=libglib2.0-0
)
# what Qt 6's xcb platform plugin (libqxcb.so, libQt6XcbQpa) loads, beyond the offscreen set;
# the same table is in src/myoflow/dashboard/platform.py (which names the missing one at start-up)
declare -A x11_libs=(
  [libxcb-cursor.so.0]=libxcb-cursor0
  [libxcb-icccm.so.4]=libxcb-icccm4
  [libxcb-keysyms.so.1]=libxcb-keysyms1
  [libxcb-image.so.0]=libxcb-image0
  [libxcb-render-util.so.0]=libxcb-render-util0
  [libxcb-randr.so.0]=libxcb-randr0
  [libxcb-shape.so.0]=libxcb-shape0
  [libxcb-xfixes.so.0]=libxcb-xfixes0
  [libxcb-xkb.so.1]=libxcb-xkb1
  [libxcb-sync.so.1]=libxcb-sync1
  [libxcb-shm.so.0]=libxcb-shm0
  [libxcb-render.so.0]=libxcb-render0
  [libxkbcommon-x11.so.0]=libxkbcommon-x11-0
  [libX11-xcb.so.1]=libx11-xcb1
  [libSM.so.6]=libsm6
  [libICE.so.6]=libice6
)
declare -A x11_tools=([Xvfb]=xvfb [xdotool]=xdotool [xauth]=xauth)
declare -A audio_libs=([libportaudio.so.2]=libportaudio2)
declare -A audio_tools=([pulseaudio]=pulseaudio [pactl]=pulseaudio-utils [parec]=pulseaudio-utils [espeak-ng]=espeak-ng)
declare -A reports_tools=([pdftoppm]=poppler-utils [pdftotext]=poppler-utils [pdfinfo]=poppler-utils)

missing_offscreen=()
missing_other=()
# (listed once: "ldconfig -p | grep -q" fails under pipefail when grep stops reading early)
libraries=$(ldconfig -p 2>/dev/null || true)
have_lib() { grep -qF "$1" <<<"$libraries"; }
for group in "${groups[@]}"; do
  case "$group" in
    offscreen)
      for lib in "${!offscreen_libs[@]}"; do have_lib "$lib" || missing_offscreen+=("${offscreen_libs[$lib]}"); done
      # Qt renders text with whatever fonts fontconfig finds; it needs at least one.
      if ! { command -v fc-list >/dev/null && [ -n "$(fc-list 2>/dev/null | head -n 1)" ]; }; then
        missing_offscreen+=(fonts-dejavu-core fontconfig)
      fi
      ;;
    x11)
      for lib in "${!x11_libs[@]}"; do have_lib "$lib" || missing_other+=("${x11_libs[$lib]}"); done
      for tool in "${!x11_tools[@]}"; do command -v "$tool" >/dev/null || missing_other+=("${x11_tools[$tool]}"); done
      ;;
    audio)
      for lib in "${!audio_libs[@]}"; do have_lib "$lib" || missing_other+=("${audio_libs[$lib]}"); done
      for tool in "${!audio_tools[@]}"; do command -v "$tool" >/dev/null || missing_other+=("${audio_tools[$tool]}"); done
      # PortAudio reaches PulseAudio/PipeWire through ALSA's pulse plugin
      compgen -G "/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so" >/dev/null || missing_other+=(libasound2-plugins)
      ;;
    reports)
      for tool in "${!reports_tools[@]}"; do command -v "$tool" >/dev/null || missing_other+=("${reports_tools[$tool]}"); done
      ;;
    *) echo "ensure_system_libs.sh: unknown group '$group' (offscreen, x11, audio or reports)" >&2; exit 2 ;;
  esac
done
mapfile -t missing < <(printf '%s\n' "${missing_offscreen[@]}" "${missing_other[@]}" | grep -v '^$' | sort -u)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages for the dashboard (${groups[*]}): ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "myoflow: these system packages are missing: ${missing[*]}" >&2
echo "Install them with: sudo apt-get install ${missing[*]}" >&2
[ ${#missing_offscreen[@]} -eq 0 ] || exit 1
exit 0
