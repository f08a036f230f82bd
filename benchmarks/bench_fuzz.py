"""Decoder fuzz benchmark: >= 1 M mutated notification payloads per shipped profile through the
full decode path (``StrapDecoder.feed``: codec, profile fit, timebase, assembled streams).

For each profile a clean stream (the codecs' own encoders, ``tests/devices/fuzz_streams.py``) is
fed again and again with a share of its payloads mutated (bit flips, byte overwrites,
truncations, extensions, random bytes, zero and 0xFF runs). Reported per profile:

* **escapes**: exceptions out of ``feed`` (must be 0);
* **internal**: exceptions the decoder's safety net caught (a bug a packet reached; should be 0);
* **absurd gaps**: gaps larger than the host time since the stream's previous block allows
  (rate x (elapsed + 1 s) + 512 samples; must be 0);
* **accounting**: rounds with duplicated packets and swapped pairs (random positions) in which
  delivered + booked-lost samples differ from what was sent, or a duplicate became samples
  (must be 0; the Myo has no counter and is left out).

Run: ``make bench BENCH=fuzz`` or ``.venv/bin/python benchmarks/bench_fuzz.py [--payloads N]``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "devices"))

from fuzz_streams import MUTATIONS, PROFILES, clean_stream, feed, mutate  # noqa: E402

from myoflow.devices.codec import DecodeError  # noqa: E402
from myoflow.devices.profiles import load_profile  # noqa: E402
from myoflow.devices.protocols import get_protocol  # noqa: E402

from _common import finish, machine, print_figures  # noqa: E402

SECONDS = 20.0
RATE = 0.5  # share of payloads mutated in a fuzz round


def fuzz_profile(name: str, payloads: int, seed: int) -> dict[str, float]:
    profile = load_profile(name)
    clean = clean_stream(profile, SECONDS, seed)
    rng = np.random.default_rng(seed)
    mutated = fed = escapes = internal = absurd = 0
    t0 = time.perf_counter()
    for k, items in enumerate(_rounds(clean, rng)):
        if mutated >= payloads:
            break
        res = feed(profile, items)
        mutated += sum(a is not b for a, b in zip(items, clean, strict=True))
        fed += len(items)
        escapes += len(res.escapes)
        absurd += len(res.absurd)
        internal += res.decoder.discarded().get("internal error", 0)
        if res.escapes or res.absurd:  # a reproducer: feed(profile, replay(name, seed, k))
            print(f"  {name} round {k} (seed {seed}): replay(\"{name}\", {seed}, {k}) gives "
                  f"{(res.escapes + res.absurd)[0]}", flush=True)  # fmt: skip
    wall = time.perf_counter() - t0
    return {
        "mutated": mutated,
        "fed": fed,
        "escapes": escapes,
        "internal": internal,
        "absurd_gaps": absurd,
        "us_per_payload": 1e6 * wall / fed,
    }


def _rounds(clean: list, rng: np.random.Generator) -> Iterator[list]:
    """Fuzz rounds of ``clean``: each item mutated with probability :data:`RATE` (the clean
    item itself where it is not)."""
    kinds = np.array(MUTATIONS)
    while True:
        pick = rng.random(len(clean)) < RATE
        how = kinds[rng.integers(len(kinds), size=len(clean))]
        yield [
            (h, u, mutate(p, str(how[i]), rng)) if pick[i] else clean[i] for i, (h, u, p) in enumerate(clean)
        ]


def replay(name: str, seed: int, round_no: int) -> list:
    """The items of fuzz round ``round_no`` of profile ``name`` (a reproducer printed by a run)."""
    clean = clean_stream(load_profile(name), SECONDS, seed)
    rounds = _rounds(clean, np.random.default_rng(seed))
    for _ in range(round_no):
        next(rounds)
    return next(rounds)


def _kinds(name: str, items: list) -> list:
    protocol = get_protocol(load_profile(name).protocol)
    out = []
    for _, u, p in items:
        try:
            packet = protocol.decode(p)
        except DecodeError:
            out.append(None)
            continue
        out.append((u, packet.kind) if packet.n_samples else None)
    return out


def accounting(name: str, rounds: int, seed: int) -> dict[str, int]:
    """Duplicates and swapped pairs at random places: counts of rounds that got it wrong."""
    if name.startswith("myo"):
        return {"rounds": 0, "wrong": 0}
    profile = load_profile(name)
    clean = clean_stream(profile, SECONDS, seed)
    want = feed(profile, clean).samples
    kinds = _kinds(name, clean)
    rng = np.random.default_rng(seed + 1)
    wrong = 0
    for _ in range(rounds):
        items = list(clean)
        dup = sorted({int(i) for i in rng.integers(5, len(items), 20) if kinds[i] is not None}, reverse=True)
        for i in dup:
            items.insert(i + 1, (items[i][0], items[i][1], items[i][2]))
        got = feed(profile, items)
        if got.samples != want or got.lost or got.unknown_gaps:
            wrong += 1
        items = list(clean)
        # not at the very start: a stream begins at the first packet seen, so a first packet
        # that arrives after the second can be neither delivered nor booked
        for i in sorted({int(i) for i in rng.integers(20, len(items) - 10, 20)}):
            j = next((k for k in range(i + 1, i + 10) if kinds[k] == kinds[i]), None)
            if kinds[i] is not None and j is not None:
                (h1, u1, p1), (h2, u2, p2) = items[i], items[j]
                items[i], items[j] = (h1, u2, p2), (h2, u1, p1)
        got = feed(profile, items)
        if got.unknown_gaps or any(got.samples.get(s, 0) + got.lost.get(s, 0) != n for s, n in want.items()):
            wrong += 1
    return {"rounds": 2 * rounds, "wrong": wrong}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payloads", type=int, default=1_000_000, help="mutated payloads per profile")
    parser.add_argument("--rounds", type=int, default=20, help="duplicate/reorder rounds per profile")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the first discard of each kind is logged; not here
    figures: dict[str, object] = {"machine": machine(), "payloads_per_profile": args.payloads}
    print(f"{'profile':24s} {'mutated':>9s} {'fed':>9s} {'escapes':>7s} {'internal':>8s} "
          f"{'absurd':>6s} {'us/payload':>10s} {'acct rounds':>11s} {'wrong':>5s}")  # fmt: skip
    for name in PROFILES:
        f = fuzz_profile(name, args.payloads, args.seed)
        a = accounting(name, args.rounds, args.seed)
        print(
            f"{name:24s} {f['mutated']:9d} {f['fed']:9d} {f['escapes']:7d} {f['internal']:8d} "
            f"{f['absurd_gaps']:6d} {f['us_per_payload']:10.1f} {a['rounds']:11d} {a['wrong']:5d}",
            flush=True,
        )
        for key, value in {**f, "accounting_rounds": a["rounds"], "accounting_wrong": a["wrong"]}.items():
            figures[f"{name}.{key}"] = value
    total = {k: sum(v for n, v in figures.items() if n.endswith("." + k)) for k in ("escapes", "internal")}
    total["absurd_gaps"] = sum(v for n, v in figures.items() if n.endswith(".absurd_gaps"))
    total["accounting_wrong"] = sum(v for n, v in figures.items() if n.endswith(".accounting_wrong"))
    print_figures(total)
    finish({**figures, **{f"total.{k}": v for k, v in total.items()}})


if __name__ == "__main__":
    main()
