#!/usr/bin/env bash
# Screenshots of the dashboard for docs/img/, on the virtual straps (real time, ~22 s each):
#   mat view at 1366x768 and 1920x1080, desk view at 1500x950.
# Renders in a private Xvfb X server on Qt's xcb plugin when Xvfb is installed (what a desktop
# shows), offscreen otherwise. Usage: scripts/screenshots.sh [OUT_DIR]  (default docs/img)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/img}
mkdir -p "$out"
bin=.venv/bin/myoflow
run() {  # run ARGS... : the dashboard, in Xvfb when available
  if command -v Xvfb >/dev/null; then
    env -u QT_QPA_PLATFORM bash scripts/with_xvfb.sh -s 1920x1080 "$bin" dashboard --no-sound "$@"
  else
    QT_QPA_PLATFORM=offscreen "$bin" dashboard --no-sound "$@"
  fi
}
for size in 1366x768 1920x1080; do
  run --virtual --seconds 21 --view mat --size "$size" --screenshot "$out/mat-$size.png"
done
run --virtual --seconds 23 --screenshot "$out/dashboard.png"
