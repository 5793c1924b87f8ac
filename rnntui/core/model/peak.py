"""The machine's measured dense matmul throughput: the denominator of MFU (flops.py).

A datasheet peak says little about a shared 2-core VM or a laptop on battery, so the peak is measured:
square matmuls of about the model's gate width (matmul_size), at the training dtype, best of many short samples,
within a second or two. A measurement taken while other processes kept the CPUs busy (their share of the
CPU time during it, read from /proc/stat) is a lower bound, not the machine's speed: two matmul threads
that must wait for each other behind someone else's run many times slower (one taken beside a training
run read 12x low, and every MFU after it read over 100%). Such a peak is used for this run, said to be
low, and not cached, so the next run measures again. The result is otherwise cached per machine, torch version, thread count, device, dtype and
size in <cache dir>/peak.json, so only the first run on a machine pays for it; a cache that cannot be
read is measured again, one that cannot be written costs a warning line.

    peak = device_peak("cpu", bf16=False, size=1024)   # cached, or measured now (throughput.py: a run's events)
    peak.how()  ->  "measured: 1024x1024 matmul, 2 threads, best of 50"
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from rnntui.core import events as ev
from rnntui.core.config import GATES, ModelConfig
from rnntui.core.data.builtin import cache_dir
from rnntui.core.data.cache import warn_uncached
from rnntui.core.model.cpuload import OtherLoad
from rnntui.core.runs.files import RunDirError, atomic_write_bytes, read_regular

FORMAT = 2  # bump when an entry's meaning changes: older entries are then measured again (1: 50 ms samples)
REPEATS = 50  # timed samples; the best one is the peak (the others lost time to something else)
# Each sample runs enough matmuls to take about this long: shorter than the scheduler's slice, so on a
# busy machine some samples run with the cores to themselves and the best is the machine's speed. 50 ms
# samples (FORMAT 1) each averaged over the other processes: at a load average of 8 on 2 cores one
# measurement read 1.1 GFLOP/s where 2 ms samples read 160-168 in the same minute.
SAMPLE_S = 0.002
BUDGET_S = 1.5  # the measurement stops after this long, whatever it has (an emulated bf16 is slow)
MAX_ENTRIES = 64  # the cache keeps the newest this many measurements
BUSY_SHARE = 0.2  # other processes' share of all CPU time during a measurement above which it is not trusted
MIN_SIZE = 256  # the smallest side measured (and the first, to learn how fast this machine is)
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class Peak:
    flops: float  # FLOP/s: the best sample's 2*n^3 * matmuls / seconds
    dtype: str  # "fp32" or "bf16": the training dtype the matmuls ran in
    device: str  # torch device type: "cpu", "cuda" or "mps"
    machine: str  # the CPU's model name, or the GPU's
    size: int  # n of the n x n @ n x n matmuls
    threads: int  # torch's intra-op threads (CPU); 0 on a GPU
    repeats: int  # timed samples taken
    cached: bool = False  # read from the cache rather than measured by this process
    seconds: float = 0.0  # time spent measuring (0 when cached)
    busy: float = 0.0  # other processes' share of all CPU time while it was measured (0 on a GPU, or unknown)

    @property
    def low(self) -> bool:
        """Measured beside other work (busy above BUSY_SHARE): a lower bound, used but not cached."""
        return self.busy > BUSY_SHARE

    def how(self) -> str:
        """'measured: 1024x1024 matmul, 2 threads, best of 50' (' (cached)' when read back; ', beside other
        processes (63% of the CPUs): likely low, measured again next run' when not trusted)."""
        threads = f", {self.threads} thread{'' if self.threads == 1 else 's'}" if self.device == "cpu" else ""
        said = f"measured: {self.size}x{self.size} matmul{threads}, best of {self.repeats}"
        if self.low:
            return said + f", beside other processes ({self.busy:.0%} of the CPUs): likely low, measured again next run"
        return said + (" (cached)" if self.cached else "")

    def short(self) -> str:
        """'1024² matmul ×10' (', cached' when read back, ', busy: low' when not trusted): the status panel's."""
        return f"{self.size}² matmul ×{self.repeats}" + (
            ", busy: low" if self.low else ", cached" if self.cached else ""
        )

    def event(self, per_char: int, ranks: int = 1) -> ev.Throughput:
        """The Throughput event the engine sends: this peak and the model's FLOPs per char (flops.describe_peak
        words it: 'peak 189 GFLOP/s fp32, measured: 1024x1024 matmul, 2 threads, best of 50')."""
        return ev.Throughput(per_char, self.flops, self.dtype, self.how(), self.short(), self.seconds, ranks)


def matmul_size(model: ModelConfig) -> int:
    """The side of the measured square: the model's widest matmul dimension (its gate block, G*H, or the
    embedding), rounded up to a power of two, within 256..4096 (smaller does not fill a core's pipeline;
    larger takes too long on a CPU and says nothing more about this model)."""
    widest = max(GATES[model.kind] * model.hidden, model.embed, model.vocab_size)
    return min(4096, max(MIN_SIZE, 1 << max(0, widest - 1).bit_length()))


# -----------------------------------------------------------------------------
# measuring


def measure_peak(
    device: str | torch.device, dtype: str, size: int, repeats: int = REPEATS, budget_s: float = BUDGET_S
) -> Peak:
    """Time `repeats` samples of n x n matmuls in `dtype` on `device`; the fastest sample is the peak.

    A 256x256 matmul first: if `size` would take more than a tenth of the budget per matmul (an emulated
    bf16 runs at a few GFLOP/s), the side is halved until it does not, and the Peak says which it used."""
    dev = torch.device(device)
    t_start, others = time.perf_counter(), OtherLoad() if dev.type == "cpu" else None
    warm = _operands(dev, dtype, MIN_SIZE)
    small = min(_timed(dev, *warm, 1) for _ in range(5))  # the first call is cold; the best of the rest
    while size > MIN_SIZE and 2.0 * size**3 / (2.0 * MIN_SIZE**3 / small) > budget_s / 10:
        size //= 2
    a, b = _operands(dev, dtype, size)  # (n, n) each
    one = _timed(dev, a, b, 1)  # warm-up: oneDNN/cuBLAS pick their kernels on the first call
    one = min(one, _timed(dev, a, b, 1))
    per_sample = max(1, min(10_000, int(SAMPLE_S / max(one, 1e-9))))  # matmuls per timed sample
    best, taken = math.inf, 0
    while taken < repeats and (taken == 0 or time.perf_counter() - t_start < budget_s):
        best = min(best, _timed(dev, a, b, per_sample) / per_sample)
        taken += 1
    return Peak(
        flops=2.0 * size**3 / best,
        dtype=dtype,
        device=dev.type,
        machine=machine_name(dev),
        size=size,
        threads=torch.get_num_threads() if dev.type == "cpu" else 0,
        repeats=taken,
        seconds=time.perf_counter() - t_start,
        busy=others.share() if others is not None else 0.0,
    )


def _operands(dev: torch.device, dtype: str, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator(device="cpu").manual_seed(0)
    a, b = (torch.randn(size, size, generator=gen).to(dev, DTYPES[dtype]) for _ in range(2))  # (n, n) each
    return a, b


def _timed(dev: torch.device, a: torch.Tensor, b: torch.Tensor, n: int) -> float:
    _sync(dev)
    t = time.perf_counter()
    for _ in range(n):
        torch.mm(a, b)  # (n, n) @ (n, n)
    _sync(dev)
    return time.perf_counter() - t


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    elif dev.type == "mps":
        torch.mps.synchronize()


def machine_name(device: str | torch.device) -> str:
    """The GPU's name, or the CPU's model name (lscpu's "Model name", from /proc/cpuinfo where there is one)."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name") and ":" in line:
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    caps: dict = getattr(torch.cpu, "get_capabilities", dict)()  # torch >= 2.8
    return str(caps.get("cpu_name") or platform.processor() or platform.machine() or "unknown CPU")


# -----------------------------------------------------------------------------
# the cache: one JSON file, keyed by everything the number depends on


def cache_path() -> Path:
    return cache_dir() / "peak.json"


def cache_key(device: str | torch.device, dtype: str, size: int) -> str:
    dev = torch.device(device)
    threads = f"{torch.get_num_threads()} threads" if dev.type == "cpu" else "gpu"
    return " | ".join((machine_name(dev), f"torch {torch.__version__}", threads, dev.type, dtype, f"{size}x{size}"))


def dtype_name(bf16: bool) -> str:
    return "bf16" if bf16 else "fp32"


def cached_peak(device: str | torch.device, bf16: bool, size: int) -> Peak | None:
    """The cached measurement for this machine, torch, thread count, device, dtype and size, or None."""
    entry = _read_cache().get(cache_key(device, dtype_name(bf16), size))
    if not isinstance(entry, dict):
        return None
    flops, repeats, measured = entry.get("flops"), entry.get("repeats"), entry.get("size")
    if not (isinstance(flops, (int, float)) and math.isfinite(flops) and flops > 0):
        return None
    if not (_whole(repeats, 1, 1000) and _whole(measured, 1, size)):
        return None
    assert isinstance(repeats, int) and isinstance(measured, int)  # what _whole checked
    dev = torch.device(device)
    return Peak(
        flops=float(flops),
        dtype=dtype_name(bf16),
        device=dev.type,
        machine=machine_name(dev),
        size=measured,
        threads=torch.get_num_threads() if dev.type == "cpu" else 0,
        repeats=repeats,
        cached=True,
    )


def _whole(x: object, lo: int, hi: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi


def device_peak(device: str | torch.device, bf16: bool, size: int) -> Peak:
    """The cached peak, or a fresh measurement (a second or two) that is then cached unless it was taken
    beside other work (Peak.low)."""
    peak = cached_peak(device, bf16, size)
    if peak is None:
        peak = measure_peak(device, dtype_name(bf16), size)
        if not peak.low:
            store_peak(peak, cache_key(device, peak.dtype, size))
    return peak


def forget_peak(device: str | torch.device, bf16: bool, size: int) -> None:
    """Drop the cached entry: a run achieved more than it (MFU over 100%), so it was measured low."""
    entries, key = _read_cache(), cache_key(device, dtype_name(bf16), size)
    if entries.pop(key, None) is not None:
        _write_cache(entries)


def store_peak(peak: Peak, key: str) -> None:
    entries = _read_cache()
    entries.pop(key, None)
    entries[key] = {"flops": peak.flops, "repeats": peak.repeats, "size": peak.size, "time": round(time.time(), 3)}
    _write_cache(dict(list(entries.items())[-MAX_ENTRIES:]))  # insertion order: the newest last


def _write_cache(entries: dict[str, object]) -> None:
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps({"format": FORMAT, "entries": entries}, indent=1).encode())
    except (OSError, RunDirError) as e:
        err = e if isinstance(e, OSError) else OSError(str(e))
        warn_uncached(path.parent, "the measured matmul peak", "measured again", err)


def _read_cache() -> dict[str, object]:
    """The cache's entries; {} for a missing, foreign or malformed file (it is measured again)."""
    try:
        data = json.loads(read_regular(cache_path(), 1 << 20).decode("utf-8"))
    except (RunDirError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("entries"), dict):
        return {}
    return dict(data["entries"])
