"""Time the TUI's renderables with realistic data: milliseconds per frame (build + render to lines).

    python benchmarks/bench_render.py [--repeat N]

Each timing builds the renderable from numpy arrays (as a widget does on every refresh) and renders it
to lines the way Textual does (Console.render -> Segment.split_and_crop_lines), without terminal output.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import numpy as np
from rich.console import Console
from rich.segment import Segment

from rnntui.ui.renderables import GradFlow, Heatmap, LossChart, NormChart, colored_text


def frame_ms(build: Callable[[], object], width: int, height: int, repeat: int) -> float:
    """Median milliseconds to build and render one frame of width x height."""
    console = Console(file=io.StringIO(), width=width, height=height, color_system="truecolor")
    options = console.options.update(width=width, height=height)
    times = []
    for _ in range(repeat + 2):  # two warm-up frames fill the style caches
        t0 = time.perf_counter()
        lines = list(Segment.split_and_crop_lines(console.render(build(), options), width, pad=True))
        times.append((time.perf_counter() - t0) * 1000)
        assert len(lines) <= height
    return statistics.median(times[2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30, help="frames timed per case (median reported)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)

    # A 100k-step run: a falling, noisy training loss, validation every 500 steps, gradient norms.
    steps = np.arange(100_000)
    loss = (1.4 + 2.8 * np.exp(-steps / 6000) + 0.12 * rng.standard_normal(len(steps))).astype(np.float32)
    val_steps = steps[::500]
    val_loss = 1.5 + 2.8 * np.exp(-val_steps / 6000)
    norms = np.exp(0.5 * rng.standard_normal(len(steps))) * (0.3 + 2 * np.exp(-steps / 3000))
    # Gradient flow of a 2-layer tanh RNN over a 64-step window; a 256-unit hidden state over 96 chars.
    back = np.arange(64)[::-1]
    grad_last = np.stack([0.05 * 0.7**back, 0.02 * 0.9**back]).astype(np.float32)
    grad_total = grad_last.cumsum(axis=1)[:, ::-1] + 1e-3
    text = ('def main(argv):\n\tif len(argv) > 1:\n\t\treturn run("x", argv[1])\n' * 3)[:96]
    hidden = np.tanh(1.5 * rng.standard_normal((256, len(text)))).astype(np.float32)

    cases = [
        ("LossChart 100k steps + val", lambda: LossChart(steps, loss, val_steps, val_loss), (120, 20), (60, 15)),
        ("LossChart 100k, log y", lambda: LossChart(steps, loss, val_steps, val_loss, log_y=True), (120, 20), (60, 15)),
        ("NormChart 100k steps", lambda: NormChart(steps, norms, clip=1.0), (120, 10), (60, 15)),
        ("GradFlow 2 layers x 64", lambda: GradFlow(grad_total, grad_last), (120, 20), (60, 15)),
        ("Heatmap 256 units x 96 chars", lambda: Heatmap(hidden, text, cursor=40), (120, 40), (60, 15)),
        ("colored_text 96 chars", lambda: colored_text(text, hidden[3], cursor=10), (120, 5), (60, 5)),
    ]
    print(f"{'renderable':32} {'size':>8} {'ms/frame':>9}   {'size':>8} {'ms/frame':>9}")
    for name, build, big, small in cases:
        row = f"{name:32}"
        for w, h in (big, small):
            row += f" {f'{w}x{h}':>8} {frame_ms(build, w, h, args.repeat):9.2f}  "
        print(row)


if __name__ == "__main__":
    main()
