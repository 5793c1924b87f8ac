"""Training throughput of the engine (probes on, at their default rate) against a bare fused PyTorch loop
of the same model, in the same process, alternating so machine noise hits both alike. The bare loop's
AdamW is PyTorch's default, as a bare loop is written; --bare-adamw fused gives it the engine's fused
kernel (train/optimizer.py), so the ratio reads the engine's own overhead alone.

    python benchmarks/bench_train.py ../shared/corpora/tinyshakespeare.txt --seconds 20 --rounds 4

Each round times the bare loop, then the engine writing its run folder as `rnntui train` does (run.json,
metrics.jsonl with every step, eval, probe and sample record, checkpoints) into a temporary directory,
and (--engine both, the default) the engine with no run folder at all, in alternating order, so the cost
of the log shows as its own ratio; the time spent inside the run-folder writer is also clocked directly
(the throughput ratios swing by 10% or more on a shared machine; the writer's own time does not).
Prints chars/s and the ratios (target: engine >= 97% of bare).

--paired (the way to read the target on a shared machine): one bare loop and one engine run (with its run
folder) live side by side in the process and take turns every few logged steps, each turn the same number
of steps; the engine's generator is suspended while the bare loop runs, and that time is credited to it
as idle (Trainer.credit_idle, as experiments do), so its probe budget and clocks count its own time only.
Turns a second or two apart see the same machine, so the drift that moves 30-second rounds by 10% cancels
in each pair's ratio. The turns begin after the engine's first minute of training, alone and not timed:
there it probes every 5 s for the user watching the picture form (observe.py), a start-up cost, not a
rate.

    python benchmarks/bench_train.py ../shared/corpora/tinyshakespeare.txt --paired --seconds 240

--repeat N and --model all (the check of issue 21: every cell, every dtype, >= 0.98 in each run): each
measurement is its own process (a slow run of the issue was slow throughout, so the unit of steadiness is
the process, not the turn), N rounds of rnn, lstm and gru, in fp32 and, where the CPU computes bf16
natively, bf16; then a table of each cell's ratio per run with its spread.

    python benchmarks/bench_train.py ../shared/corpora/tinyshakespeare.txt --paired --model all --repeat 5

--control adds, per cell, the same pairing with a second bare loop (a model of its own) in the engine's
place: on a shared machine two identical loops read 0.96-1.04 of each other per 40-second run, which is
the floor under any ratio this script prints. The engine's own work (run-folder writer, probes, samples)
is also clocked directly in the timed turns, the figure that noise does not move.

    python benchmarks/bench_train.py ../shared/corpora/tinyshakespeare.txt --paired --model all --repeat 5 --control
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import torch

from rnntui.core import events as ev
from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.data.corpus import load_corpus
from rnntui.core.data.streams import Streams
from rnntui.core.model.cells import CharModel, detach_state, loss_fn
from rnntui.core.model.devices import native_bf16
from rnntui.core.model.heap import keep_heap
from rnntui.core.runs import writer as runwriter_mod
from rnntui.core.train.engine import Trainer
from rnntui.core.train.loop import TrainLoop
from rnntui.core.train.observe import EARLY_S, Observer

# --bare-adamw: the bare loop's optimiser. "default" is PyTorch's AdamW as a bare loop is written (the
# engine's fused kernel, train/optimizer.py, then counts in the engine's favour); "fused" gives the bare
# loop the engine's kernel too, so a ratio reads the engine's own overhead alone. main() sets it.
BARE_ADAMW = "default"


def bare_adamw(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    fused = {"fused": True} if BARE_ADAMW == "fused" else {}
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, **fused)


def bare_loop(cfg: TrainConfig, corpus, seconds: float) -> float:
    """The reference: the same model, data, AdamW settings (its kernel: --bare-adamw) and autocast, nothing else."""
    autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if cfg.bf16 else contextlib.nullcontext
    torch.manual_seed(cfg.seed)
    model = CharModel(cfg.model)
    opt = bare_adamw(model, cfg)
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


class Clock:
    """Times one method of a class from outside (every call, in every instance): the direct measure of what
    the engine's own work costs (the run-folder writer, the probes, the samples), immune to the machine
    noise that moves a throughput ratio by a few percent."""

    def __init__(self, cls: type, name: str) -> None:
        self.seconds, self.calls = 0.0, 0
        inner = getattr(cls, name)

        def timed(obj, *args, **kwargs):
            t = time.perf_counter()
            try:
                return inner(obj, *args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - t
                self.calls += 1

        setattr(cls, name, timed)

    def reset(self) -> None:
        self.seconds, self.calls = 0.0, 0


def engine_run(cfg: TrainConfig, corpus, seconds: float, out_dir: str | None = None) -> tuple[float, int, int]:
    """chars/s of Trainer.run over a time budget (validation off, so only training and probes count), the
    probe snapshots it took, and the bytes of metrics.jsonl it wrote (out_dir: its run folder goes there;
    None: no run folder, nothing written)."""
    run_cfg = replace(
        cfg,
        minutes=seconds / 60.0,
        steps=None,
        save=out_dir is not None,
        out_dir=out_dir or cfg.out_dir,
        run_name="bench",
    )
    logged: list[ev.StepMetrics] = []
    probes, run_dir = 0, ""
    for e in Trainer(run_cfg, corpus=corpus).run(threading.Event()):
        if isinstance(e, ev.StepMetrics):
            logged.append(e)
        elif isinstance(e, ev.ProbeSnapshot):
            probes += 1
        elif isinstance(e, ev.RunStarted):
            run_dir = e.run_dir
    log_bytes = (Path(run_dir) / "metrics.jsonl").stat().st_size if run_dir else 0
    if len(logged) < 2:
        raise SystemExit(
            f"bench_train: only {len(logged)} metrics event(s) in {seconds:.0f} s: the machine is "
            "too slow or too loaded for this model; give more --seconds or a smaller model"
        )
    # measure from the first logged step after the probes' first minute (denser probes: observe.py), so
    # model construction and warm-up are excluded, as in bare_loop; a shorter run from its first log
    a, b = next((e for e in logged if e.elapsed_s >= EARLY_S and e is not logged[-1]), logged[0]), logged[-1]
    return (b.step - a.step) * cfg.batch_size * cfg.seq_len / (b.elapsed_s - a.elapsed_s), probes, log_bytes


class BareSteps:
    """bare_loop() cut into turns: the same model, data, optimiser and autocast, `steps` at a time."""

    def __init__(self, cfg: TrainConfig, corpus) -> None:
        self.autocast = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if cfg.bf16 else contextlib.nullcontext
        torch.manual_seed(cfg.seed)
        self.model = CharModel(cfg.model)
        self.opt = bare_adamw(self.model, cfg)
        self.streams = Streams(corpus.train, cfg.batch_size, cfg.seq_len, torch.device("cpu"))
        self.clip, self.state, self.step = cfg.clip, None, 0

    def run(self, steps: int) -> float:
        """Seconds for `steps` steps, ending with a host sync (as the engine's log interval does)."""
        t0 = time.perf_counter()
        for _ in range(steps):
            x, y = self.streams.window(self.step % self.streams.windows)
            with self.autocast():
                logits, state = self.model(x, self.state)
                loss = loss_fn(logits, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
            self.opt.step()
            self.state = detach_state(state)
            self.step += 1
        loss.item()
        return time.perf_counter() - t0


def paired_run(
    cfg: TrainConfig, corpus, seconds: float, out_dir: str, logs_per_turn: int, on_start=lambda: None
) -> list[tuple[int, float, float]]:
    """(steps, engine seconds, bare seconds) per turn, over about `seconds` of wall time after the warm-up
    (the engine's first EARLY_S of training, where it probes more often: observe.py). on_start(): called
    when the warm-up ends and the timed turns begin."""
    run_cfg = replace(cfg, minutes=None, steps=None, epochs=None, save=True, out_dir=out_dir, run_name="paired")
    trainer, stop = Trainer(run_cfg, corpus=corpus), threading.Event()
    events = trainer.run(stop)
    bare = BareSteps(cfg, corpus)
    bare.run(3)  # warm-up, not timed
    # the engine's warm-up, alone: up to its first logged step past the probes' first minute
    step = next(e for e in events if isinstance(e, ev.StepMetrics) and e.elapsed_s >= EARLY_S).step
    on_start()
    turns: list[tuple[int, float, float]] = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        t0, logs = time.perf_counter(), 0
        for e in events:  # the engine's turn: up to its logs_per_turn-th StepMetrics
            if isinstance(e, ev.StepMetrics):
                logs += 1
                if logs == logs_per_turn:
                    break
        t_engine = time.perf_counter() - t0
        steps, step = e.step - step, e.step
        t_bare = bare.run(steps)  # the bare loop's turn: the same number of steps
        trainer.credit_idle(t_bare)
        turns.append((steps, t_engine, t_bare))
    stop.set()
    for _ in events:  # the closing validation and save, not timed
        pass
    return turns


def control_run(cfg: TrainConfig, corpus, seconds: float, steps: int) -> list[tuple[int, float, float]]:
    """paired_run's turns with a second bare loop (a model, optimiser and streams of its own, as the engine
    has) in the engine's place: what the pairing reads when both sides do the same work."""
    a, b = BareSteps(cfg, corpus), BareSteps(cfg, corpus)
    a.run(3), b.run(3)  # warm-up, not timed
    turns: list[tuple[int, float, float]] = []
    t_end = time.perf_counter() + seconds
    while time.perf_counter() < t_end:
        turns.append((steps, b.run(steps), a.run(steps)))  # b in the engine's place, first in each turn
    return turns


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("--model", default="gru", choices=("rnn", "lstm", "gru", "all"), help="cell, or all three")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--rounds", type=int, default=4)  # single rounds swing by ±8% on a shared 2-core machine
    p.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="bf16 autocast in both loops (default: the engine's, on where the CPU has native bf16)",
    )
    p.add_argument(
        "--engine",
        choices=("log", "nolog", "both"),
        default="both",
        help="time the engine writing its run folder (log), with none (nolog), or both (default)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        help="torch threads for both loops (default: torch's; 1 is steadier on a loaded machine)",
    )
    p.add_argument(
        "--paired",
        action="store_true",
        help="bare loop and engine take turns every few logged steps for --seconds in all (see above)",
    )
    p.add_argument("--logs-per-turn", type=int, default=2, help="--paired: logged steps (of 10) per turn")
    p.add_argument("--repeat", type=int, default=1, help="--paired: measurements per cell and dtype, each in a process")
    p.add_argument("--target", type=float, default=0.98, help="--repeat: the ratio every measurement must reach")
    p.add_argument("--probe-budget", type=float, default=None, help="the engine's probe budget (default: its own)")
    p.add_argument("--probe-hz", type=float, default=None, help="the engine's most probes per second (0: none)")
    p.add_argument("--sample-every", type=float, default=None, help="the engine's seconds between samples (0: none)")
    p.add_argument(
        "--control",
        action="store_true",
        help="--paired: a second bare loop (a model of its own) in the engine's place: the measurement's own spread",
    )
    p.add_argument(
        "--bare-adamw",
        choices=("default", "fused"),
        default="default",
        help="the bare loop's AdamW: PyTorch's default, as a bare loop is written (default), or fused as the engine's",
    )
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # a child of --repeat: last line is JSON
    a = p.parse_args()
    global BARE_ADAMW
    BARE_ADAMW = a.bare_adamw
    if a.model == "all" or a.repeat > 1:
        if not a.paired:
            p.error("--model all and --repeat take --paired (one process per measurement)")
        repeat_report(a)
        return
    keep_heap()  # as the engine does at construction: the bare loop's first round gets the same heap
    if a.threads:
        torch.set_num_threads(a.threads)
    corpus = load_corpus(a.corpus)
    bf16 = native_bf16(torch.device("cpu")) if a.bf16 is None else a.bf16
    cfg = TrainConfig(
        corpus=a.corpus,
        model=ModelConfig(kind=a.model, hidden=a.hidden, layers=a.layers, vocab_size=len(corpus.vocab)),
        seq_len=a.seq_len,
        batch_size=a.batch_size,
        eval_every=0,
        save=False,
        device="cpu",
        bf16=bf16,
        val_chars=20_000,
    )  # the closing validation is not timed: keep it short
    observe = {"probe_budget": a.probe_budget, "probe_hz": a.probe_hz, "sample_every_s": a.sample_every}
    cfg = replace(cfg, **{k: v for k, v in observe.items() if v is not None})  # the engine's defaults unless given
    print(
        f"{a.model} {a.layers}x{a.hidden}, seq {a.seq_len}, batch {a.batch_size}, bf16 {bf16}, "
        f"torch threads {torch.get_num_threads()}, {a.seconds:.0f} s per measurement, the bare loop's AdamW "
        f"{a.bare_adamw}; the engine's probes: budget "
        f"{cfg.probe_budget:g}, at most {cfg.probe_hz:g}/s; samples every {cfg.sample_every_s:g} s"
    )
    if a.paired:
        paired_report(cfg, corpus, a.seconds, a.logs_per_turn, a.json, a.control)
        return
    modes = ("log", "nolog") if a.engine == "both" else (a.engine,)
    bare: list[float] = []
    eng: dict[str, list[float]] = {m: [] for m in modes}
    clock, log_s = Clock(runwriter_mod.RunWriter, "write"), []
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        for r in range(a.rounds):
            bare.append(bare_loop(cfg, corpus, a.seconds))
            line = f"round {r + 1}: bare {bare[-1]:,.0f} chars/s"
            for m in modes if r % 2 == 0 else modes[::-1]:  # alternate the order: no mode always goes first
                before = clock.seconds
                cps, probes, log_bytes = engine_run(cfg, corpus, a.seconds, tmp if m == "log" else None)
                eng[m].append(cps)
                if m == "log":
                    log_s.append(clock.seconds - before)
                what = (
                    f", {log_bytes / 1024:.0f} KB of metrics.jsonl, writer {log_s[-1] * 1000:.0f} ms"
                    if m == "log"
                    else ""
                )
                line += f"   engine/{m} {cps:,.0f} ({probes} probes{what}) ratio {cps / bare[-1]:.3f}"
            print(line, flush=True)
    med = statistics.median(bare)
    print(f"median: bare {med:,.0f}" + "".join(f"  engine/{m} {statistics.median(v):,.0f}" for m, v in eng.items()))
    for m, v in eng.items():
        ratio = statistics.median(v) / med
        print(f"engine/{m} vs bare: ratio {ratio:.3f}  {'PASS' if ratio >= 0.97 else 'FAIL'} (target >= 0.97)")
    if log_s:
        per_run = a.seconds + 0.0  # each engine run trains for this long (plus an untimed closing validation)
        print(
            f"time in the run-folder writer: {', '.join(f'{x * 1000:.0f} ms' for x in log_s)} per {per_run:.0f} s "
            f"run, i.e. {100 * statistics.median(log_s) / per_run:.2f}% of training time (median)"
        )
    if len(modes) == 2:
        per_round = [x / y for x, y in zip(eng["log"], eng["nolog"])]
        print(
            f"log vs nolog (the log's own cost), per round: {', '.join(f'{x:.3f}' for x in per_round)}; "
            f"median {statistics.median(per_round):.3f}"
        )


def paired_report(
    cfg: TrainConfig, corpus, seconds: float, logs_per_turn: int, as_json: bool = False, control: bool = False
) -> None:
    clocks = {
        "writer": Clock(runwriter_mod.RunWriter, "write"),
        "probes": Clock(Observer, "probe"),
        "samples": Clock(Observer, "sample"),
        "checkpoints": Clock(TrainLoop, "save"),  # latest.pt every cfg.checkpoint_minutes of the run's own time
    }
    if control:
        turns = control_run(cfg, corpus, seconds, logs_per_turn * cfg.log_every)
    else:
        with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
            turns = paired_run(cfg, corpus, seconds, tmp, logs_per_turn, lambda: [c.reset() for c in clocks.values()])
    side = "a second bare loop" if control else "engine (with its run folder)"
    steps = sum(t[0] for t in turns)
    eng_s, bare_s = sum(t[1] for t in turns), sum(t[2] for t in turns)
    chars = steps * cfg.batch_size * cfg.seq_len
    pair = sorted(b / e for _, e, b in turns)  # bare time / engine time: the engine's speed relative to bare
    q = lambda f: pair[min(len(pair) - 1, int(f * len(pair)))]
    print(f"{len(turns)} turns of {turns[0][0] if turns else 0} steps each side, {steps:,} steps each")
    print(f"bare {chars / bare_s:,.0f} chars/s   {side} {chars / eng_s:,.0f} chars/s")
    print(f"per-turn ratio {side}/bare: median {statistics.median(pair):.3f}, middle half {q(0.25):.3f}-{q(0.75):.3f}")
    ratio = bare_s / eng_s
    print(f"{side} vs bare over all turns: ratio {ratio:.3f}  {'PASS' if ratio >= 0.98 else 'FAIL'} (target >= 0.98)")
    own = sum(c.seconds for c in clocks.values())  # the engine's own work in the timed turns, clocked directly
    print(
        f"the engine's own work: {own * 1000:.0f} ms, {100 * own / eng_s:.2f}% of its time ("
        + ", ".join(f"{k} {c.calls} x {1000 * c.seconds / max(c.calls, 1):.0f} ms" for k, c in clocks.items())
        + ")"
    )
    if as_json:
        result = {
            "ratio": ratio,
            "turn_median": statistics.median(pair),
            "bare": chars / bare_s,
            "engine": chars / eng_s,
            "own": own / eng_s,
            "parts": {k: c.seconds / eng_s for k, c in clocks.items()},  # the own work by part, as shares
        }
        print(json.dumps(result), flush=True)


# -----------------------------------------------------------------------------
# --repeat / --model all: one process per measurement, a table at the end


def repeat_report(a: argparse.Namespace) -> None:
    cells = ("rnn", "lstm", "gru") if a.model == "all" else (a.model,)
    if a.bf16 is None:  # fp32 always; bf16 too where this CPU computes it natively (the engine's default)
        dtypes = ("fp32", "bf16") if native_bf16(torch.device("cpu")) else ("fp32",)
    else:
        dtypes = ("bf16",) if a.bf16 else ("fp32",)
    common = [a.corpus, "--paired", "--json", "--seconds", str(a.seconds), "--logs-per-turn", str(a.logs_per_turn)]
    common += ["--hidden", str(a.hidden), "--layers", str(a.layers), "--seq-len", str(a.seq_len)]
    common += ["--batch-size", str(a.batch_size), "--bare-adamw", a.bare_adamw] + (
        ["--threads", str(a.threads)] if a.threads else []
    )
    for flag, v in (("--probe-budget", a.probe_budget), ("--probe-hz", a.probe_hz), ("--sample-every", a.sample_every)):
        common += [flag, str(v)] if v is not None else []
    sides = ("engine", "control") if a.control else ("engine",)  # control: bare vs bare, the spread alone
    rows = [(c, d, side) for c in cells for d in dtypes for side in sides]
    ratios: dict[tuple[str, str, str], list[float]] = {row: [] for row in rows}
    own: dict[tuple[str, str, str], list[float]] = {row: [] for row in rows}
    for r in range(a.repeat):
        for cell, dt, side in rows:  # round-robin: a slow stretch of the machine hits every row, not one
            argv = [sys.executable, __file__, *common, "--model", cell, "--bf16" if dt == "bf16" else "--no-bf16"]
            out = subprocess.run(argv + (["--control"] if side == "control" else []), capture_output=True, text=True)
            if out.returncode != 0 or not out.stdout.strip():
                raise SystemExit(f"bench_train: {cell} {dt} {side} run {r + 1} failed:\n{out.stderr[-2000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            ratios[cell, dt, side].append(result["ratio"])
            own[cell, dt, side].append(result["own"])
            print(
                f"run {r + 1}/{a.repeat} {cell} {dt} {side}: /bare {result['ratio']:.3f} (per-turn median "
                f"{result['turn_median']:.3f}; bare {result['bare']:,.0f}, {side} {result['engine']:,.0f} chars/s; "
                f"the engine's own work {100 * result['own']:.2f}%"
                + "".join(f", {k} {100 * v:.2f}%" for k, v in result.get("parts", {}).items() if side == "engine")
                + ")",
                flush=True,
            )
    print(
        f"\nagainst the bare loop (its AdamW {a.bare_adamw}), paired, {a.seconds:.0f} s per run, one process per run (target >= {a.target}):"
    )
    head = "| cell | dtype | side | " + " | ".join(f"run {i + 1}" for i in range(a.repeat))
    head += " | min | median | max | own work (median) | |"
    print(head + "\n" + "|---" * (head.count("|") - 1) + "|")
    failed = 0
    for (cell, dt, side), v in ratios.items():
        ok = min(v) >= a.target
        failed += not ok and side == "engine"
        cols = " | ".join(f"{x:.3f}" for x in v)
        work = f"{100 * statistics.median(own[cell, dt, side]):.2f}%" if side == "engine" else "–"
        print(
            f"| {cell} | {dt} | {side} | {cols} | {min(v):.3f} | {statistics.median(v):.3f} | {max(v):.3f} | {work} "
            f"| {'PASS' if ok else 'FAIL'} |"
        )
    engines = sum(side == "engine" for *_, side in rows)
    print(f"{'PASS' if not failed else 'FAIL'}: {engines - failed} of {engines} cells at >= {a.target} in every run")


if __name__ == "__main__":
    main()
