"""Training throughput of the engine (probes on, at their default rate) against a bare fused PyTorch loop
of the same model, in the same process, alternating so machine noise hits both alike.

    python benchmarks/bench_train.py ../shared/corpora/tinyshakespeare.txt --seconds 20 --rounds 4

Prints chars/s for both and the ratio (target: engine >= 97% of bare).
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import threading
import time

import torch

from rnntui.core import events as ev
from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.corpus import load_corpus
from rnntui.core.devices import native_bf16
from rnntui.core.engine import Trainer
from rnntui.core.models import CharModel, detach_state, loss_fn
from rnntui.core.streams import Streams


def bare_loop(cfg: TrainConfig, corpus, seconds: float) -> float:
    """The reference: the same model, data, optimiser and autocast, nothing else."""
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if cfg.bf16 else contextlib.nullcontext
    torch.manual_seed(cfg.seed)
    model = CharModel(cfg.model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    streams = Streams(corpus.train, cfg.batch_size, cfg.seq_len, torch.device("cpu"))
    state, step, chars = None, 0, 0
    for _ in range(3):  # warm-up steps, not timed
        x, y = streams.window(step)
        with autocast():
            logits, state = model(x, state)
            loss = loss_fn(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        state = detach_state(state)
        step += 1
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        x, y = streams.window(step)
        with autocast():
            logits, state = model(x, state)
            loss = loss_fn(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        opt.step()
        state = detach_state(state)
        step += 1
        chars += x.numel()
    loss.item()
    return chars / (time.perf_counter() - t0)


def engine_run(cfg: TrainConfig, corpus, seconds: float) -> tuple[float, int]:
    """chars/s of Trainer.run over a time budget (validation off, so only training and probes count)."""
    run_cfg = TrainConfig(**{**cfg.__dict__, "minutes": seconds / 60.0, "steps": None})
    logged: list[ev.StepMetrics] = []
    probes = 0
    for e in Trainer(run_cfg, corpus=corpus).run(threading.Event()):
        if isinstance(e, ev.StepMetrics):
            logged.append(e)
        elif isinstance(e, ev.ProbeSnapshot):
            probes += 1
    # measure from the first logged step so model construction and warm-up are excluded, as in bare_loop
    a, b = logged[0], logged[-1]
    return (b.step - a.step) * cfg.batch_size * cfg.seq_len / (b.elapsed_s - a.elapsed_s), probes


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("--model", default="gru")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rounds", type=int, default=4)  # single rounds swing by ±8% on a shared 2-core machine
    p.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                   help="bf16 autocast in both loops (default: the engine's, on where the CPU has native bf16)")
    a = p.parse_args()
    corpus = load_corpus(a.corpus)
    bf16 = native_bf16(torch.device("cpu")) if a.bf16 is None else a.bf16
    cfg = TrainConfig(corpus=a.corpus, model=ModelConfig(kind=a.model, hidden=a.hidden, layers=a.layers,
                      vocab_size=len(corpus.vocab)), seq_len=a.seq_len, batch_size=a.batch_size,
                      eval_every=0, sample_every_s=15.0, save=False, device="cpu", bf16=bf16)
    print(f"{a.model} {a.layers}x{a.hidden}, seq {a.seq_len}, batch {a.batch_size}, bf16 {bf16}, "
          f"torch threads {torch.get_num_threads()}, {a.seconds:.0f} s per measurement")
    bare, eng = [], []
    for r in range(a.rounds):
        bare.append(bare_loop(cfg, corpus, a.seconds))
        cps, probes = engine_run(cfg, corpus, a.seconds)
        eng.append(cps)
        print(f"round {r + 1}: bare {bare[-1]:,.0f} chars/s   engine {eng[-1]:,.0f} chars/s "
              f"({probes} probe snapshots)   ratio {eng[-1] / bare[-1]:.3f}")
    ratio = statistics.median(eng) / statistics.median(bare)
    print(f"median: bare {statistics.median(bare):,.0f}  engine {statistics.median(eng):,.0f}  "
          f"ratio {ratio:.3f}  {'PASS' if ratio >= 0.97 else 'FAIL'} (target >= 0.97)")


if __name__ == "__main__":
    main()
