"""How much arithmetic one training character costs, and what share of the machine a run uses (MFU).

The counting convention, nanoGPT's (its estimate_mfu, after the PaLM paper's appendix B):

- only matrix multiplications count, a (m x k) @ (k x n) product as 2*m*n*k FLOPs (a multiply and an add);
  biases, gate nonlinearities, the elementwise cell updates, dropout, the softmax and the optimiser are
  left out (they are a few percent at any useful width, and no dense-matmul peak measures them);
- the embedding is a table lookup: 0 FLOPs;
- per character, i.e. per (stream, timestep): layer l with input width I (embed for the first layer,
  hidden after) and G gate blocks (rnn 1, gru 3, lstm 4) does x_t @ W_ih^T (2*I*G*H) and
  h_{t-1} @ W_hh^T (2*H*G*H); the output head does h_t @ W^T (2*H*V);
- the backward pass costs twice the forward (a gradient for the input and one for the weights), so a
  training character costs 3x the forward: equivalently 6 x the number of matmul weights.

MFU = achieved FLOP/s / peak FLOP/s, achieved = chars/s x FLOPs per char, and the peak is this machine's
measured dense matmul throughput at the training dtype (peak.py), not a datasheet number.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rnntui.core.config import GATES, ModelConfig

if TYPE_CHECKING:
    from rnntui.core import events as ev

BACKWARD_FACTOR = 2  # backward FLOPs per forward FLOP (input gradient + weight gradient)


# -----------------------------------------------------------------------------
# the count


def forward_flops_per_char(model: ModelConfig, vocab_size: int | None = None) -> int:
    """Matmul FLOPs of one character's forward pass (`vocab_size`: default model.vocab_size)."""
    V = model.vocab_size if vocab_size is None else vocab_size
    G, H = GATES[model.kind], model.hidden
    total = 0
    for layer in range(model.layers):
        width_in = model.embed if layer == 0 else H
        total += 2 * width_in * G * H  # x_t @ W_ih^T: (1, I) @ (I, G*H)
        total += 2 * H * G * H  # h_{t-1} @ W_hh^T: (1, H) @ (H, G*H)
    total += 2 * H * V  # the head: (1, H) @ (H, V)
    return total


def flops_per_char(model: ModelConfig, vocab_size: int | None = None) -> int:
    """Matmul FLOPs of one training character: forward and backward (3x the forward)."""
    return (1 + BACKWARD_FACTOR) * forward_flops_per_char(model, vocab_size)


# -----------------------------------------------------------------------------
# achieved and utilised


def achieved_flops(chars_per_s: float, per_char: int) -> float:
    """FLOP/s a run achieves at `chars_per_s` training characters per second."""
    return chars_per_s * per_char


def mfu(chars_per_s: float, per_char: int, peak: float) -> float | None:
    """Model FLOPs utilisation: the achieved FLOP/s as a share of the peak (None when either is unknown).

    Not clipped to 1: a share above 1 means the peak was measured low (a busy machine), and says so."""
    if not (peak > 0 and math.isfinite(peak) and chars_per_s >= 0 and math.isfinite(chars_per_s)):
        return None
    return achieved_flops(chars_per_s, per_char) / peak


# -----------------------------------------------------------------------------
# wording


def format_flops(x: float, unit: str = "FLOP/s") -> str:
    """'189 GFLOP/s', '2.36 MFLOP', '312 TFLOP/s': three significant figures and an SI prefix."""
    if not math.isfinite(x):
        return f"? {unit}"
    for prefix, size in (("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            v = x / size
            return f"{v:.3g} {prefix}{unit}" if v < 1000 else f"{v:.0f} {prefix}{unit}"
    return f"{x:.3g} {unit}"


def describe_peak(t: ev.Throughput) -> str:
    """'peak 189 GFLOP/s fp32, measured: 1024x1024 matmul, 2 threads, best of 50' ('' without a peak)."""
    if t.peak_flops is None:
        return ""
    return f"peak {format_flops(t.peak_flops)} {t.peak_dtype}, {t.peak_how}"


def format_share(share: float | None) -> str:
    """An MFU as a percentage: '42%', '3.5%', '0.04%' (two significant figures under 10%), '<0.01%'; '?'
    when unknown; '>100%' when the run beat the peak (it was measured low: the figure itself means nothing)."""
    if share is None or not math.isfinite(share):
        return "?"
    if share > 1:
        return ">100%"
    pct = share * 100
    if pct < 0.01:
        return "<0.01%" if pct > 0 else "0%"
    return f"{pct:.0f}%" if pct >= 9.95 else f"{pct:.2g}%"
