"""The optimiser: AdamW, with PyTorch's fused kernel wherever the device has one.

    opt = adamw(model.parameters(), cfg)     at the start of a run
    opt.load_state_dict(as_built(saved, opt))  on resume: a checkpoint keeps the kernel this run chose

PyTorch's default AdamW on CPU updates one parameter tensor at a time, about ten elementwise passes over
each; the fused kernel (`fused=True`: CPU, CUDA and MPS in PyTorch >= 2.4) does the whole update in one
pass. The math is AdamW's either way (the same moments, the same step). Measured on the default 2x256
LSTM on this project's 2-core CPU: 4.0 ms of a 137 ms step by default, 1.3 ms fused (BENCHMARKS.md). It
is what nanoGPT's configure_optimizers does on CUDA. Where a device has no fused kernel the constructor
says so, and the default implementation is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from rnntui.core.config import TrainConfig

__all__ = ["adamw", "as_built"]


def adamw(params: Iterable[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW at cfg's learning rate and weight decay: fused where the parameters' device has the kernel."""
    params = list(params)
    try:
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    except RuntimeError:  # "fused=True requires all the params to be ... on a supported device"
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def as_built(saved: dict[str, Any], opt: torch.optim.Optimizer) -> dict[str, Any]:
    """A saved optimiser state dict with this optimiser's kernel choice in place of the saved one.

    load_state_dict() takes every group setting from the saved dict, `fused` and `foreach` included, so a
    checkpoint written by the default kernel (or on another device) would otherwise resume unfused; it
    also places each `step` counter where the saved choice wants it, so the choice is set before loading,
    not after. Neither flag changes the math."""
    built = opt.param_groups[0]
    groups = [{**g, "fused": built.get("fused"), "foreach": built.get("foreach")} for g in saved["param_groups"]]
    return {**saved, "param_groups": groups}
