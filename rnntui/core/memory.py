"""Will it fit? An estimate of a run's memory, checked before the model is built.

A model that does not fit fails late and badly: an allocation traceback, or the OOM killer after a minute
of silence. The estimate is deliberately simple and errs high: parameters x 16 bytes (fp32 weights,
gradients and AdamW's two moments) plus the activations a fused kernel keeps for backward.
"""
from __future__ import annotations

from rnntui.core.config import ConfigError, ModelConfig

GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per layer
FIT_FRACTION = 0.9  # refuse when the estimate is above this share of the memory available


def n_params(m: ModelConfig, vocab_size: int) -> int:
    """Trainable parameters of CharModel (embedding, recurrent layers with both biases, head)."""
    g, h = GATES[m.kind], m.hidden
    rec = sum(g * h * ((m.embed if layer == 0 else h) + h) + 2 * g * h for layer in range(m.layers))
    return vocab_size * m.embed + rec + h * vocab_size + vocab_size


def training_bytes(m: ModelConfig, vocab_size: int, batch: int, seq_len: int) -> int:
    """Bytes one training step needs: weights, gradients, AdamW state, activations (fp32)."""
    g = GATES[m.kind]
    per_char = m.embed + m.layers * m.hidden * (g + 2) + 3 * vocab_size  # kept for backward, per timestep
    activations = 2 * batch * seq_len * per_char * 4  # the backward pass needs about as much again
    return 16 * n_params(m, vocab_size) + activations


def available_bytes(device: str) -> int | None:
    """Memory a run may use: free GPU memory on CUDA, MemAvailable on Linux; None when unknown."""
    if device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def check_fits(m: ModelConfig, vocab_size: int, batch: int, seq_len: int, device: str,
               available: int | None = None) -> None:
    """Raise a one-line ConfigError with the figures and a size that would fit, when it would not."""
    have = available if available is not None else available_bytes(device)
    need = training_bytes(m, vocab_size, batch, seq_len)
    if have is None or need <= FIT_FRACTION * have:
        return
    hint = ""
    for hidden in (4096, 2048, 1024, 512, 256, 128, 64):
        if hidden < m.hidden and training_bytes(_with_hidden(m, hidden), vocab_size, batch, seq_len) <= FIT_FRACTION * have:
            hint = f"; --hidden {hidden} would fit"
            break
    raise ConfigError(
        f"model too large for this machine: {m.layers}x{m.hidden} {m.kind} has {n_params(m, vocab_size) / 1e6:,.1f}M "
        f"parameters and needs about {_gb(need)} to train, {_gb(have)} available on {device}{hint}")


def _with_hidden(m: ModelConfig, hidden: int) -> ModelConfig:
    from dataclasses import replace

    return replace(m, hidden=hidden)
