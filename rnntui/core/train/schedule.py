"""The run's budget (steps, epochs or minutes) and the learning-rate schedule that knows it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnntui.core.config import TrainConfig


@dataclass(frozen=True)
class Budget:
    total_steps: int | None  # target step count (steps/epochs), None for a time budget or open-ended
    seconds: float | None  # wall-clock budget of this invocation, None otherwise

    @classmethod
    def of(cls, cfg: TrainConfig, steps_per_epoch: int) -> Budget:
        if cfg.steps is not None:
            return cls(cfg.steps, None)
        if cfg.epochs is not None:
            return cls(max(1, math.ceil(cfg.epochs * steps_per_epoch)), None)
        if cfg.minutes is not None:
            return cls(None, cfg.minutes * 60.0)
        return cls(None, None)  # open-ended: runs until stopped, lr stays at its peak after warm-up

    def progress(self, step: int, elapsed_s: float) -> float:
        """Fraction of the budget used, 0..1 (0 when open-ended)."""
        if self.total_steps is not None:
            return min(1.0, step / self.total_steps)
        if self.seconds is not None:
            return min(1.0, elapsed_s / self.seconds)
        return 0.0

    def done(self, step: int, elapsed_s: float) -> bool:
        if self.total_steps is not None:
            return step >= self.total_steps
        return self.seconds is not None and elapsed_s >= self.seconds


def lr_at(cfg: TrainConfig, step: int, progress: float) -> float:
    """Linear warm-up over cfg.warmup steps, then decay by progress through the budget.

    Decaying to a small lr at the end of the budget is worth a lot on a short run: the last minutes
    average out the noise of the large steps taken early.
    """
    if cfg.warmup and step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    low = cfg.lr * cfg.min_lr_frac
    if cfg.schedule == "cosine":
        return low + (cfg.lr - low) * 0.5 * (1.0 + math.cos(math.pi * progress))
    if cfg.schedule == "wsd":  # warm-up, stable, then a linear decay over the last 30% of the budget
        return cfg.lr if progress < 0.7 else low + (cfg.lr - low) * (1.0 - progress) / 0.3
    if cfg.schedule == "step":  # halve at 50%, 75% and 90% of the budget
        return cfg.lr * 0.5 ** sum(progress >= m for m in (0.5, 0.75, 0.9))
    return cfg.lr
