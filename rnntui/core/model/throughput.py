"""A run's Throughput events (events.py): the model's FLOPs per char and the peak MFU is read against.

The engine sends them after RunStarted; the CLI's progress line and the status panel turn each logged
step's chars/s into MFU with them. A peak can still be low although its measurement looked quiet (another
process may have started after it was cached): a run that achieves more than the peak (MFU over 100%)
proves it, so PeakCheck forgets the cached entry and measures again, once per run, and the engine sends the
new Throughput (its time credited back, as the first measurement's is).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import torch

from rnntui.core import events as ev
from rnntui.core.config import ModelConfig
from rnntui.core.model.flops import flops_per_char, mfu
from rnntui.core.model.peak import cached_peak, device_peak, dtype_name, forget_peak, matmul_size


def throughput(model: ModelConfig, device: str | torch.device, bf16: bool, ranks: int = 1) -> Iterator[ev.Throughput]:
    """The Throughput events of a run (events.py): the model's FLOPs per char and the device's peak, cached
    or measured now, in which case a first event says so (the measurement takes a second or two). A peak
    that cannot be measured is a note, never the reason a run fails."""
    per_char, size = flops_per_char(model), matmul_size(model)
    try:
        peak = cached_peak(device, bf16, size)
        if peak is None:
            yield ev.Throughput(per_char, peak_dtype=dtype_name(bf16), ranks=ranks, measuring=True)
            peak = device_peak(device, bf16, size)
    except Exception as x:
        why = str(x).splitlines()[0] if str(x) else type(x).__name__
        yield ev.Throughput(per_char, ranks=ranks, note=f"the peak could not be measured ({why})")
        return
    yield peak.event(per_char, ranks)


class PeakCheck:
    """The run's peak, watched: events() sends the Throughput events (first the cached or measured peak;
    after doubts() said yes, a fresh measurement); doubts() says yes once, when a logged step beat the peak."""

    def __init__(self, model: ModelConfig, device: str | torch.device, bf16: bool, ranks: int = 1) -> None:
        self.model, self.device, self.bf16, self.ranks = model, device, bf16, ranks
        self.last: ev.Throughput | None = None  # the newest event sent
        self.rechecked = False  # measured again already: a second low reading is shown, not chased

    def events(self, credit: Callable[[float], None]) -> Iterator[ev.Throughput]:
        """The peak's Throughput events; `credit` is told the seconds spent measuring (not training time)."""
        t = time.perf_counter()
        for e in throughput(self.model, self.device, self.bf16, self.ranks):
            credit(time.perf_counter() - t)
            self.last = e
            yield e
            t = time.perf_counter()

    def doubts(self, chars_per_s: float) -> bool:
        """True (once per run) when `chars_per_s` (all processes) is more than the peak allows; the cached
        entry is then forgotten, so events() measures again."""
        t = self.last
        if self.rechecked or t is None or t.peak_flops is None:
            return False
        share = mfu(chars_per_s / self.ranks, t.flops_per_char, t.peak_flops)
        if share is None or share <= 1:
            return False
        self.rechecked = True
        forget_peak(self.device, self.bf16, matmul_size(self.model))
        return True
