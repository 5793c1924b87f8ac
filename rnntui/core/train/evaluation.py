"""Validation: the mean cross-entropy over the held-out split, with state carried as in training."""

from __future__ import annotations

import math
import threading
from collections.abc import Generator
from typing import Any

import torch

from rnntui.core.data.streams import Streams
from rnntui.core.model.cells import CharModel, loss_fn


def windows_for(streams: Streams, chars: int) -> int | None:
    """Windows per stream that cover about `chars` characters (None: the whole split, for chars == 0).

    The B streams start evenly over the split, so a capped pass samples the whole split evenly, as
    nanoGPT bounds its evaluation, instead of reading only its beginning."""
    if chars <= 0:
        return None
    return max(1, math.ceil(chars / (streams.batch * streams.seq_len)))


def total_windows(streams: Streams, max_windows: int | None) -> int:
    n = len(range(0, streams.streams.size(1) - 1, streams.seq_len))
    return n if max_windows is None else min(n, max_windows)


@torch.no_grad()
def iter_evaluate(
    model: CharModel, streams: Streams, max_windows: int | None, autocast: Any, stop: threading.Event | None = None
) -> Generator[tuple[int, int], None, float | None]:
    """Yields (windows done, windows in all) as it goes; returns the mean loss per character.

    A set `stop` ends the pass early: the mean over the windows done so far is returned (None if none).
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
    try:
        for i, s in enumerate(starts):
            if stop is not None and stop.is_set():
                break
            chunk = streams.streams[:, s : min(s + T + 1, L)].long()  # (B, <=T+1)
            x, y = chunk[:, :-1], chunk[:, 1:]
            with autocast():
                logits, state = model(x, state)
            total += loss_fn(logits, y) * y.numel()
            count += y.numel()
            yield i + 1, len(starts)
    finally:
        model.train(was_training)
    return total.item() / count if count else None


def evaluate(
    model: CharModel, streams: Streams, max_windows: int | None, autocast: Any, stop: threading.Event | None = None
) -> float | None:
    """iter_evaluate without the progress."""
    gen = iter_evaluate(model, streams, max_windows, autocast, stop)
    while True:
        try:
            next(gen)
        except StopIteration as done:
            return done.value
