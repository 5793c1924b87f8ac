"""Keep the C heap's memory between training steps (glibc on Linux), so a step does not page-fault.

PyTorch on CPU takes every tensor's memory from malloc and gives it back when the tensor dies. The
fused LSTM runs through oneDNN, whose per-call workspace and weight reorders are allocations of
megabytes; glibc serves large blocks with mmap (and trims the heap's top when a large block is freed),
so the next step gets fresh pages from the kernel and faults on each one. How many depends on the
process's allocation history, so two copies of one model in one process could run 20% apart for a
whole run (issue 21, section 4): counted with getrusage, the engine's LSTM took about 970 minor faults
per step and the bare loop about 610; with the settings below, 4 and 51.

The settings: never trim the heap below 1 GiB of free memory at its top, and serve every block from the
heap instead of mmap (blocks still larger than a thread arena's heap fall back to mmap by themselves).
Memory a run has used stays with the process until it ends, which is what a training process wants.
A no-op where glibc's mallopt is absent (macOS, musl, Windows).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["keep_heap"]

# ----------------------------------------------------------------------------------------------------
# glibc's mallopt parameters (malloc.h)

M_TRIM_THRESHOLD = -1  # free memory at the heap's top above this is returned to the kernel
M_MMAP_MAX = -4  # how many blocks may be served by mmap at once (0: none, all from the heap)
TRIM_BYTES = 1 << 30  # 1 GiB: in practice, never trim during a run

_done = False


def keep_heap() -> bool:
    """Set the two glibc options once per process; True when they were set (False: not glibc)."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc: nothing to set
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_TRIM_THRESHOLD, TRIM_BYTES)) and bool(mallopt(M_MMAP_MAX, 0))
    return _done
