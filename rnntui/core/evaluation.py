"""Validation: the mean cross-entropy over the held-out split, with state carried as in training."""
from __future__ import annotations

from typing import Any

import torch

from rnntui.core.models import CharModel, loss_fn
from rnntui.core.streams import Streams


@torch.no_grad()
def evaluate(model: CharModel, streams: Streams, max_windows: int | None, autocast: Any) -> float:
    """Mean cross-entropy per character over the validation streams, state carried across windows.

    max_windows=None covers the whole split, the short tail window included. `autocast` is a factory of
    context managers (torch.autocast for bf16, else nullcontext), the same one training uses.
    """
    was_training = model.training
    model.eval()
    T, L = streams.seq_len, streams.streams.size(1)
    state, total, count = None, torch.zeros((), device=streams.streams.device), 0
    starts = range(0, L - 1, T)
    if max_windows is not None:
        starts = starts[:max_windows]
    for s in starts:
        chunk = streams.streams[:, s : min(s + T + 1, L)].long()  # (B, <=T+1)
        x, y = chunk[:, :-1], chunk[:, 1:]
        with autocast():
            logits, state = model(x, state)
        total += loss_fn(logits, y) * y.numel()
        count += y.numel()
    model.train(was_training)
    return total.item() / max(count, 1)
