"""Stop signals at random early moments: is everything the straps delivered stored?

Real signals (SIGTERM, SIGHUP, SIGINT, picked at random) to real ``myoflow record --virtual``
subprocesses (real time), two ways:

* **after**: ``--runs`` times, 0-3 s after the recorder printed ``recording ...`` (the straps
  connected). Must: exit 128 + signal, state ``final``, and per stream the samples stored equal
  the samples the strap reported delivered in its final status line; no traceback.
* **early**: ``--runs`` times, 0.2-3 s after the process started (it is still loading modules,
  building the virtual session or connecting). Must: exit 128 + signal, no traceback, and either
  a finalised file as above or the line "nothing recorded ... no file written" and no file.
  A signal in the first ~0.3 s, before the command runs at all (the interpreter and myoflow's
  modules loading), gets Python's default (terminated; a KeyboardInterrupt traceback for
  Ctrl-C); nothing is open then. Such runs are counted as ``before_command``, not as bad.

Run: ``make bench BENCH=signals`` or ``.venv/bin/python benchmarks/bench_signals.py [--runs N]``.
Each run takes 3-10 s on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

from _common import finish, machine, print_figures

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from strap_status import delivered_samples  # noqa: E402

SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def _record(out: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "myoflow.cli", "record", "--virtual", "--seconds", "300", "--out", str(out)]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal
    )  # fmt: skip


def _stored(path: Path) -> tuple[str, dict[str, int]]:
    with h5py.File(path, "r") as f:
        return str(f.attrs.get("state")), {k: int(f["streams"][k]["raw"].shape[0]) for k in f["streams"]}


def one(tmp: Path, i: int, sig: signal.Signals, delay: float, after_start: bool) -> dict[str, object]:
    out = tmp / f"r{i}.h5"
    proc = _record(out)
    if after_start:
        line = proc.stdout.readline()
        if not line.startswith("recording "):
            proc.kill()
            return {"ok": False, "why": f"no 'recording' line: {line!r}"}
    time.sleep(delay)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=180)
    res: dict[str, object] = {"rc": proc.returncode, "file": out.exists()}
    if proc.returncode == -sig and not out.exists() and "myoflow" not in stderr.replace("/myoflow/", ""):
        # before the command ran (the interpreter and myoflow's modules loading, ~0.3 s):
        # Python's default - terminated, or a KeyboardInterrupt traceback for Ctrl-C
        res.update(ok=True, before_command=True)
        return res
    ok = proc.returncode == 128 + sig and "Traceback" not in stderr
    if out.exists():
        state, stored = _stored(out)
        # the file's stream groups are named strap_stream
        delivered = {k.replace("/", "_", 1): n for k, n in delivered_samples(stdout).items()}
        res.update(state=state, stored=stored, delivered=delivered)
        ok = ok and state == "final" and stored == delivered
        empty = [k for k, n in stored.items() if n == 0]
        ok = ok and all(f"{k.replace('_', '/', 1)}: no samples were received" in stderr for k in empty)
    else:
        ok = ok and not after_start and "nothing" in stdout + stderr  # "nothing recorded/was written"
    res["ok"] = ok
    if not ok:
        res["stderr"] = stderr[-300:]
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each kind")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    figures: dict[str, object] = {"machine": machine()}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, lo, hi in (("after", 0.0, 3.0), ("early", 0.2, 3.0)):
            bad = files = default = 0
            for i in range(args.runs):
                sig = rng.choice(SIGNALS)
                delay = rng.uniform(lo, hi)
                res = one(Path(tmp), i, sig, delay, kind == "after")
                files += bool(res.get("file"))
                default += bool(res.get("before_command"))
                bad += not res["ok"]
                print(f"{kind:5s} {sig.name:7s} at {delay:4.2f} s: {res}", flush=True)
                for p in Path(tmp).iterdir():
                    p.unlink()
            figures.update({f"{kind}.runs": args.runs, f"{kind}.files": files, f"{kind}.bad": bad})
            figures[f"{kind}.before_command"] = default
    print_figures({k: v for k, v in figures.items() if k != "machine"})
    finish(figures)


if __name__ == "__main__":
    main()
