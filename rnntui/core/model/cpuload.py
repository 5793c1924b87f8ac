"""How busy the machine is with other work: the share of all CPU time other processes take over an interval.

peak.py uses it to tell a matmul peak measured on a quiet machine from one measured beside a training run
(which reads many times low and would make every later MFU read over 100%).

    others = OtherLoad()
    ...                      # the work being timed
    others.share()  ->  0.63 (other processes used 63% of all CPUs meanwhile)
"""

from __future__ import annotations

import os
import time


class OtherLoad:
    """Other processes' share of all CPU time from construction to share(): the machine's busy time from
    /proc/stat less this process's own CPU time, over wall time x CPUs. 0.0 where /proc/stat is missing
    (not Linux): the measurement is then trusted, as before."""

    def __init__(self) -> None:
        self.t, self.own, self.ticks = time.perf_counter(), time.process_time(), _busy_ticks()

    def share(self) -> float:
        ticks = _busy_ticks()
        if ticks is None or self.ticks is None:
            return 0.0
        wall = (time.perf_counter() - self.t) * (os.cpu_count() or 1)
        busy = (ticks - self.ticks) / os.sysconf("SC_CLK_TCK")  # every process, this one included
        return min(1.0, max(0.0, (busy - (time.process_time() - self.own)) / max(wall, 1e-9)))


def _busy_ticks() -> int | None:
    """The machine's non-idle CPU time in clock ticks since boot (/proc/stat's first line), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except (OSError, UnicodeDecodeError):
        return None
    if len(fields) < 8 or fields[0] != "cpu" or not all(x.isdigit() for x in fields[1:8]):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(x) for x in fields[1:8])
    steal = int(fields[8]) if len(fields) > 8 and fields[8].isdigit() else 0
    return user + nice + system + irq + softirq + steal
