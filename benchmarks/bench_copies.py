"""Identical bare training loops in one process, taking turns: does one copy of a model run slow for a whole
process with nothing of the engine's in it? (issue 21, section 4: the "slow throughout" runs)

    python benchmarks/bench_copies.py tinyshakespeare.txt --copies 6 --seconds 150
    THP_MEM_ALLOC_ENABLE=1 python benchmarks/bench_copies.py tinyshakespeare.txt   # PyTorch's huge-page knob

Each round runs every copy for --steps steps (the order reversed every other round, so none always goes
first); a copy's speed in a round is the round's median time over its own, so the machine's drift
cancels. Prints one JSON line: each copy's median speed over the run and over each half (a copy slow in
both halves is slow for the process, not for a moment), and the process's chars/s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from bench_train import BareSteps

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.data.corpus import load_corpus
from rnntui.core.model.heap import keep_heap


def med(xs: list[float]) -> float:
    return round(statistics.median(xs), 3)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("--model", default="lstm", choices=("rnn", "lstm", "gru"))
    p.add_argument("--copies", type=int, default=6)
    p.add_argument("--seconds", type=float, default=150.0)
    p.add_argument("--steps", type=int, default=10, help="steps per copy per round")
    a = p.parse_args()
    keep_heap()  # as the engine and bench_train do
    corpus = load_corpus(a.corpus)
    cfg = TrainConfig(
        corpus=a.corpus,
        model=ModelConfig(kind=a.model, hidden=256, layers=2, vocab_size=len(corpus.vocab)),
        seq_len=64,
        batch_size=32,
        device="cpu",
        bf16=False,
    )
    copies = [BareSteps(cfg, corpus) for _ in range(a.copies)]
    for c in copies:
        c.run(3)  # warm-up, not timed
    times: list[list[float]] = [[] for _ in copies]  # [copy][round] seconds
    t_end, r = time.perf_counter() + a.seconds, 0
    while time.perf_counter() < t_end:
        for i in range(a.copies) if r % 2 == 0 else reversed(range(a.copies)):
            times[i].append(copies[i].run(a.steps))
        r += 1
    # speed of each copy in each round, against the round's median copy
    rel = [[statistics.median(t[k] for t in times) / times[i][k] for k in range(r)] for i in range(a.copies)]
    print(
        json.dumps(
            {
                "model": a.model,
                "thp": os.environ.get("THP_MEM_ALLOC_ENABLE"),
                "rounds": r,
                "speed": [med(x) for x in rel],
                "first_half": [med(x[: r // 2]) for x in rel],
                "second_half": [med(x[r // 2 :]) for x in rel],
                "chars_per_s": round(a.copies * r * a.steps * cfg.batch_size * cfg.seq_len / sum(map(sum, times))),
            }
        )
    )


if __name__ == "__main__":
    main()
