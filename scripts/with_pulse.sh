#!/usr/bin/env bash
# Run one command with a private, userspace PulseAudio server whose default sink is a null
# sink (no sound card needed), then stop the server.
#   scripts/with_pulse.sh COMMAND [ARGS...]
# Inside, PULSE_SERVER points at the server, MYOFLOW_NULL_SINK names the sink; record what was
# played with: parec -d "$MYOFLOW_NULL_SINK.monitor" ... PortAudio reaches the server through
# ALSA's pulse plugin. The server and its runtime folder are removed when the command ends (or
# this script is killed), so a test never leaves a sound server behind.
# Needs pulseaudio and pulseaudio-utils (scripts/ensure_system_libs.sh audio installs them).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: with_pulse.sh COMMAND [ARGS...]" >&2; exit 2; }
command -v pulseaudio >/dev/null || { echo "with_pulse.sh: pulseaudio is missing" >&2; exit 3; }
command -v pactl >/dev/null || { echo "with_pulse.sh: pactl is missing (pulseaudio-utils)" >&2; exit 3; }

runtime=$(mktemp -d)
export XDG_RUNTIME_DIR="$runtime" PULSE_RUNTIME_PATH="$runtime/pulse" PULSE_STATE_PATH="$runtime/state"
export PULSE_SERVER="unix:$runtime/pulse/native" MYOFLOW_NULL_SINK=myoflow_null
pulseaudio --daemonize=no -n --exit-idle-time=-1 --disallow-exit --disable-shm=yes \
  --load="module-null-sink sink_name=$MYOFLOW_NULL_SINK rate=48000 channels=1" \
  --load="module-native-protocol-unix auth-anonymous=1" --log-target=stderr --log-level=error \
  2>"$runtime/pulse.log" &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$runtime"; }
trap cleanup EXIT INT TERM
for _ in $(seq 100); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl info >/dev/null 2>&1 || { echo "with_pulse.sh: PulseAudio did not start:" >&2; cat "$runtime/pulse.log" >&2; exit 3; }
pactl set-default-sink "$MYOFLOW_NULL_SINK"
set +e
"$@"
code=$?
set -e
exit $code
