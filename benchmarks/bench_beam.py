"""Beam search time against length: linear means each doubling of the length about doubles the time.

    python benchmarks/bench_beam.py                                # 32 beams, 1k..32k chars, random GRU 2x256
    python benchmarks/bench_beam.py --hidden 16 --layers 1         # the tiny model of BENCHMARKS.md
    python benchmarks/bench_beam.py --lengths 1000 2000 --width 8
    python benchmarks/bench_beam.py --stop '\\n'                    # with a stop string (--beam-stop)
    python benchmarks/bench_beam.py --checkpoint checkpoints/run/latest.pt
    python benchmarks/bench_beam.py --old --lengths 1000 2000 4000 8000 16000   # the quadratic search it replaced

One process, one search per length, in order; the model is the training default (GRU 2x256, embed 64)
with random weights over tiny-shakespeare's 65 characters unless --checkpoint names a trained one (the
search's cost does not depend on what the weights say, only on the shapes, until a stop string ends it).
Wall and CPU (process_time) seconds are both printed: on a shared machine the CPU time is the steadier.
--old times the search as it was before back-pointers (kept in tests/test_beam.py as the tests' oracle).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench_sampling import build  # one way to build the benchmark model (benchmarks/ is on sys.path)

from rnntui.core.generate.beam import beam_search
from rnntui.core.generate.sampling import Sampler


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lengths", type=int, nargs="+", default=[1000, 2000, 4000, 8000, 16000, 32000])
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--stop", default="", help="stop string (typed escapes \\n and \\t as in rnntui sample)")
    p.add_argument("--prime", default="\n")
    p.add_argument("--kind", default="gru", choices=["rnn", "lstm", "gru"])
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--checkpoint", help="time a real model from this checkpoint instead")
    p.add_argument("--old", action="store_true", help="time the old quadratic search (the tests' oracle)")
    args = p.parse_args()
    search = beam_search
    if args.old:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # test_beam imports its siblings
        from test_beam import old_beam_search as search

    model, vocab = build(args)
    sampler = Sampler.from_model(model, vocab)
    stop = args.stop.replace("\\n", "\n").replace("\\t", "\t")
    cfg = model.cfg
    print(
        f"model: {cfg.kind} {cfg.layers}x{cfg.hidden}, embed {cfg.embed}, vocab {len(vocab)}; "
        f"width {args.width}" + (f", stop {stop!r}" if stop else "") + ("; the OLD search" if args.old else "")
    )
    search(sampler, args.prime, args.width, 50, stop=stop)  # warm-up: first calls allocate
    print(f"{'chars':>8} {'wall s':>8} {'cpu s':>8} {'x prev':>7} {'chars/s':>9}  best beam")
    prev = None
    for n in args.lengths:
        t0, c0 = time.perf_counter(), time.process_time()
        beams = search(sampler, args.prime, args.width, n, stop=stop)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        ratio = f"{wall / prev:7.2f}" if prev else f"{'':>7}"
        best = beams[0]
        print(
            f"{n:8,} {wall:8.2f} {cpu:8.2f} {ratio} {n / wall:9,.0f}  {len(best.text):,} chars, "
            f"log-prob {best.logprob:.1f}" + (" (stopped)" if best.finished else "")
        )
        prev = wall


if __name__ == "__main__":
    main()
