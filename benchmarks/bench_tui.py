"""Benchmark the TUI during real CPU training: key-to-screen latency and training throughput vs headless.

    python benchmarks/bench_tui.py CORPUS [--seconds 20] [--hidden 256] [--layers 2] [--kind lstm]

1. Headless (in a child process): Trainer(cfg).run for --seconds; throughput = mean chars/s of its metrics after warm-up.
2. In the app (run_test, 120x40, headless driver): the same config for the same seconds while a key is
   sent every --key-every seconds ("l", the loss chart's log toggle). Latency = time from posting the key until the
   loss panel has rendered the new view; the training throughput is read from the same metrics events.
Throughput is steps per second of training wall time (after the first metrics event) x batch x seq len.
Targets: median latency < 100 ms; in-app throughput >= 90% of headless. Default run: about a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import threading
import time
from dataclasses import replace

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.events import StepMetrics

WARMUP_EVENTS = 1  # the first metrics event includes start-up costs


def throughput(events: list[StepMetrics], chars_per_step: int) -> float:
    """Training chars/s between the first (warm-up) and the last metrics event: steps over wall time."""
    if len(events) <= WARMUP_EVENTS:
        return 0.0
    a, b = events[WARMUP_EVENTS - 1], events[-1]
    return (b.step - a.step) * chars_per_step / max(1e-9, b.elapsed_s - a.elapsed_s)


def headless(cfg: TrainConfig) -> float:
    from rnntui.core.train.engine import Trainer

    events = [e for e in Trainer(cfg).run(threading.Event(), threading.Event()) if isinstance(e, StepMetrics)]
    return throughput(events, cfg.batch_size * cfg.seq_len)


async def in_app(cfg: TrainConfig, seconds: float, key_every: float) -> tuple[float, list[float]]:
    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.setup import SetupScreen
    from rnntui.ui.screens.train import TrainScreen
    from rnntui.ui.widgets.charts import LossPanel

    app = RnntuiApp()
    latencies: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, SetupScreen):
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        app.start_run(cfg)
        while not (isinstance(app.screen, TrainScreen) and app.state.started is not None):
            await pilot.pause(0.05)
        panel = app.screen.query_one(LossPanel)
        rendered: dict[bool, float] = {}
        render = panel.render

        def timed_render():  # note when a frame showing the requested view is built
            rendered.setdefault(panel.log_y, time.perf_counter())
            return render()

        panel.render = timed_render
        t_end = time.perf_counter() + seconds
        while time.perf_counter() < t_end and app.state.finished is None:
            want = not panel.log_y
            rendered.pop(want, None)
            t0 = time.perf_counter()
            app.simulate_key("l")  # posted like a terminal key; pilot.press would also wait for idle
            while want not in rendered and time.perf_counter() - t0 < 2.0:
                await asyncio.sleep(0.001)
            latencies.append(rendered.get(want, time.perf_counter()) - t0)
            await asyncio.sleep(key_every)
        while app.state.finished is None:  # the minutes budget ends the run
            await pilot.pause(0.1)
        events = [
            StepMetrics(
                **{k: r[k] for k in ("step", "epoch", "loss", "lr", "grad_norm", "chars_per_s", "elapsed_s")},
                progress=0.0,
                eta_s=None,
            )
            for r in app.state.records
            if r["type"] == "step"
        ]
    return throughput(events, cfg.batch_size * cfg.seq_len), latencies


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", help="a built-in corpus name or a text file")
    ap.add_argument("--seconds", type=float, default=20.0, help="training seconds per phase")
    ap.add_argument(
        "--key-every", type=float, default=0.5, help="seconds between key presses (each one redraws the loss chart)"
    )
    ap.add_argument("--kind", default="gru")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()
    cfg = TrainConfig(
        corpus=args.corpus,
        model=ModelConfig(kind=args.kind, hidden=args.hidden, layers=args.layers),
        seq_len=args.seq_len,
        batch_size=args.batch_size,
        minutes=args.seconds / 60,
        save=False,
        device="cpu",
        eval_every=0,
    )
    print(
        f"config: {args.kind} {args.layers}x{args.hidden}, seq {args.seq_len}, batch {args.batch_size}, "
        f"bf16 autocast as the engine defaults (on where the CPU has native bf16), "
        f"{args.seconds:g} s per phase, a key every {args.key_every:g} s, corpus {args.corpus}"
    )
    # Headless runs in a child process: torch ops in this process's main thread would leave an OpenMP
    # team behind that competes with the app's training thread (measured: 26k -> 18k chars/s), a cost
    # the real app never pays since it runs torch only in its worker.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply(headless, (replace(cfg, minutes=None, steps=3),))  # warm-up: kernels, corpus cache
        base = pool.apply(headless, (cfg,))
    # chars/s assume the full batch; a corpus too short for it (the engine shrinks the batch) overstates both
    print(f"headless training: {base:,.0f} chars/s")
    rate, lat = asyncio.run(in_app(cfg, args.seconds, args.key_every))
    lat_ms = sorted(x * 1000 for x in lat)
    med = statistics.median(lat_ms) if lat_ms else float("nan")
    p90 = lat_ms[min(len(lat_ms) - 1, int(0.9 * len(lat_ms)))] if lat_ms else float("nan")
    ratio = rate / base if base else float("nan")
    print(
        f"in-app training:   {rate:,.0f} chars/s  ({ratio:.0%} of headless; target >= 90%: "
        f"{'ok' if ratio >= 0.9 else 'MISSED'})"
    )
    print(
        f"key-to-screen latency over {len(lat_ms)} presses: median {med:.1f} ms, p90 {p90:.1f} ms "
        f"(target median < 100 ms: {'ok' if med < 100 else 'MISSED'}; {med / 100:.2f}x of target)"
    )


if __name__ == "__main__":
    main()
