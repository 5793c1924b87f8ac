"""Memory horizons of rnn / lstm / gru, measured the way the dashboard shows them.

Trains each cell with identical settings (same seed, same data) through rnntui.core.train.engine.Trainer,
feeds every ProbeSnapshot to a HorizonSmoother, and prints the horizon per cell and layer at the end.

    # the README's table: default 2x256 models, a few hundred steps, brackets and tiny-shakespeare
    PYTHONPATH=. python benchmarks/bench_horizon.py --corpus brackets --steps 300
    PYTHONPATH=. python benchmarks/bench_horizon.py --corpus ../shared/corpora/tinyshakespeare.txt --steps 300
    # the ordering check of tests/test_horizon.py over 5 seeds (rnn shorter than lstm and gru in each)
    PYTHONPATH=. python benchmarks/bench_horizon.py --tiny --seeds 0,1,2,3,4

CPU timings vary with the machine's load; the horizons do not depend on speed except through which steps
the probes land on (probes are time-based unless --probe-hz is huge).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rnntui.core.analysis.horizon import THRESHOLD, HorizonSmoother, horizons
from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.data.corpus import corpus_from_text
from rnntui.core.events import ProbeSnapshot, RunFinished
from rnntui.core.train.engine import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's root: tests/ is importable
from tests.test_horizon import copy_text, tiny_config  # one definition of the tiny check

KINDS = ("rnn", "lstm", "gru")


def measure(cfg: TrainConfig, thresholds: tuple[float, ...]) -> tuple[list[list[int | None]], float, float]:
    """(horizons per threshold per layer, final train loss, seconds)."""
    smoother = HorizonSmoother()
    t0 = time.perf_counter()
    loss = float("nan")
    corpus = corpus_from_text("copy", copy_text(), cfg.val_frac) if cfg.corpus == "copy" else None
    for e in Trainer(cfg, corpus=corpus).run():
        if isinstance(e, ProbeSnapshot):
            smoother.add(e)
        elif isinstance(e, RunFinished):
            loss = e.train_loss if e.train_loss is not None else loss
    curve = smoother.curve()
    out = [[h.steps for h in horizons(curve, th)] for th in thresholds]
    return out, loss, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default="brackets")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--seeds", default="1337")
    p.add_argument(
        "--tiny",
        action="store_true",
        help="the test's tiny settings on its generated text (ignores --corpus and --steps)",
    )
    p.add_argument("--probe-hz", type=float, default=1e9, help="1e9: probe every step")
    p.add_argument("--kinds", default=",".join(KINDS))
    args = p.parse_args()
    if args.tiny:  # as the test runs it: one thread, so the numbers are the test's
        import torch

        torch.set_num_threads(1)
    thresholds = tuple(sorted({THRESHOLD, 1e-3, 1e-4, 1e-6}, reverse=True))  # the app's, and others to compare
    ok = 0
    seeds = [int(s) for s in args.seeds.split(",")]
    for seed in seeds:
        found = {}
        for kind in args.kinds.split(","):
            if args.tiny:
                cfg = tiny_config(kind, seed)
            else:
                cfg = TrainConfig(
                    corpus=args.corpus,
                    model=ModelConfig(kind=kind),
                    steps=args.steps,
                    seed=seed,
                    save=False,
                    probe_hz=args.probe_hz,
                    probe_budget=1.0,
                    sample_every_s=0,
                    eval_every=0,
                    log_every=50,
                )
            hz, loss, secs = measure(cfg, thresholds)
            found[kind] = hz[thresholds.index(THRESHOLD)]  # the ordering is judged at the app's threshold
            cols = "  ".join(
                f"@{th:g}: " + " / ".join("-" if s is None else str(s) for s in row) for th, row in zip(thresholds, hz)
            )
            m = cfg.model
            print(
                f"seed {seed}  {kind:<4} {m.layers}x{m.hidden}  loss {loss:.3f}  {secs:5.0f}s  "
                f"horizon per layer {cols}",
                flush=True,
            )
        if all(k in found for k in KINDS):
            big = 10**9  # an undecidable horizon (None) never counts as ordered
            ordered = all(
                (r if r is not None else big) < (o if o is not None else -1)
                for k in ("lstm", "gru")
                for r, o in zip(found["rnn"], found[k])
            )
            ok += ordered
            print(f"seed {seed}: rnn shorter than lstm and gru in every layer at {THRESHOLD:g}: {ordered}", flush=True)
    if len(seeds) > 1:
        print(f"ordered in {ok} of {len(seeds)} seeds")


if __name__ == "__main__":
    main()
