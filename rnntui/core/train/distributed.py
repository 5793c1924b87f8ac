"""Data-parallel training over torch.distributed: who this process is, and the few collectives the loop needs
(each rank's share of the streams and of a checkpoint: ranks.py).

    torchrun --nproc-per-node 4 -m rnntui train CORPUS ...

torchrun starts one process per rank and gives each RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE and
MASTER_ADDR/MASTER_PORT. `init_from_env` reads them, joins the process group (NCCL on CUDA, gloo on the
CPU) and returns a `Dist`. Without that environment it returns `Dist()`: one process, no process group,
and every helper here a no-op, so a plain `rnntui train` pays nothing.

Every collective here must be called by every rank at the same point of the loop, or all ranks wait until
the group's timeout: the loop only calls them at steps every rank agrees on (log intervals, validation
steps, the end), never from a probe, a sample or a save that only rank 0 makes. The stop flag, the save
flag and the clock of a time budget ride on the one all-reduce of each log interval (loop.py), so a
stop costs no collective of its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as tdist

from rnntui.core.config import RnntuiError

TIMEOUT_ENV = "RNNTUI_DIST_TIMEOUT"  # seconds a rank waits for the others (joining, or any collective)
DEFAULT_TIMEOUT_S = 300.0  # longer than anything rank 0 does alone mid-run (a validation pass, a save)


class DistError(RnntuiError):
    """The process group cannot be joined, the ranks disagree, or a rank was lost: one line."""


# -----------------------------------------------------------------------------
# this process's place in the group


@dataclass(frozen=True)
class Dist:
    rank: int = 0  # this process among all of them; rank 0 validates, saves, logs and prints
    world_size: int = 1  # processes training the model together (1: no process group at all)
    local_rank: int = 0  # this process among those on its machine: picks its GPU
    backend: str = ""  # "nccl" (CUDA) or "gloo" (CPU); "" for a single process
    local_world_size: int = 1  # processes on this machine (they share its cores)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """Each rank on a machine takes its own GPU."""
        if self.enabled and device.type == "cuda":
            return torch.device("cuda", self.local_rank)
        return device

    # ---- collectives (no-ops for a single process) -------------------------------------------

    def all_reduce_mean(self, t: torch.Tensor) -> torch.Tensor:
        """The mean of a small tensor over all ranks, in place (and returned)."""
        if self.enabled:
            _guard(self, tdist.all_reduce, t)
            t /= self.world_size
        return t

    def all_gather(self, t: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's copy of a same-shaped tensor, in rank order ([t] for a single process)."""
        if not self.enabled:
            return [t]
        t = t.contiguous()
        out = [torch.empty_like(t) for _ in range(self.world_size)]
        _guard(self, tdist.all_gather, out, t)
        return out

    def agree(self, what: dict[str, Any], device: torch.device) -> None:
        """Check that every rank holds the same values (corpus fingerprint, settings): a DistError naming
        the first difference on every rank otherwise, before they would train on different things."""
        if not self.enabled:
            return
        names = list(what)
        mine = torch.tensor([_digest(what[k]) for k in names], dtype=torch.int64, device=device)
        table = torch.stack(self.all_gather(mine)).cpu()  # (world, len(names))
        for j, name in enumerate(names):
            ranks = [r for r in range(self.world_size) if table[r, j] != table[0, j]]
            if ranks:
                raise DistError(
                    f"rank {self.rank}: ranks disagree on the {name} (rank {ranks[0]} differs from "
                    f"rank 0); every rank must be started with the same arguments and files"
                )

    def close(self) -> None:
        """Leave the group together: a rank that tears its connections down while another still talks
        to it can make gloo's background threads abort that process ('terminate called ...')."""
        if not (self.enabled and tdist.is_initialized()):
            return
        try:
            if self.backend == "gloo":
                tdist.monitored_barrier(timeout=timedelta(seconds=CLOSE_WAIT_S))
            else:
                tdist.barrier()
        except Exception:  # a rank is gone: nothing to wait for
            pass
        tdist.destroy_process_group()


CLOSE_WAIT_S = 10  # how long a finishing rank waits for the others before leaving the group


def _digest(value: Any) -> int:
    """A 60-bit hash of a JSON-able value (fits an int64 tensor)."""
    raw = json.dumps(value, sort_keys=True, default=str).encode()
    return int(hashlib.sha256(raw).hexdigest()[:15], 16)


def _guard(dist: Dist, fn: Any, *args: Any) -> None:
    """Run a collective; a lost or stuck rank becomes one line instead of a traceback."""
    try:
        fn(*args)
    except RuntimeError as e:  # DistBackendError, DistNetworkError, gloo's and NCCL's own errors
        raise lost_rank(dist, e) from None


def lost_rank(dist: Dist, e: BaseException) -> DistError:
    return DistError(
        f"rank {dist.rank}: lost contact with the other ranks (one failed, or did not answer "
        f"within {timeout_s():g} s): {_first_line(e)}"
    )


def _first_line(e: BaseException) -> str:
    """The gist of a torch/gloo/NCCL error: its first sentence without the C++ source location."""
    first = (str(e).strip().splitlines() or [type(e).__name__])[0]
    first = re.sub(r"^\[[^\]]*\.(cpp|cc|h):\d+\]\s*", "", first)
    return first.split(". ")[0][:160]


def is_dist_failure(e: BaseException) -> bool:
    """A failure of the process group rather than of this rank's own work."""
    if isinstance(e, tdist.DistError):
        return True
    text = str(e)
    return isinstance(e, RuntimeError) and any(
        s in text for s in ("gloo", "Gloo", "NCCL", "Connection closed", "Connection reset", "timed out", "Timed out")
    )


# -----------------------------------------------------------------------------
# joining the group


def under_torchrun() -> bool:
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def timeout_s() -> float:
    try:
        t = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))
    except ValueError:
        raise DistError(f"{TIMEOUT_ENV} must be a number of seconds") from None
    if not t > 0:
        raise DistError(f"{TIMEOUT_ENV} must be > 0")
    return t


def init_from_env(device_name: str = "auto") -> Dist:
    """Join the process group torchrun describes in the environment, or return Dist() without one."""
    if not under_torchrun():
        return Dist()
    from rnntui.core.model.devices import resolve_device

    try:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    except ValueError:
        raise DistError("RANK, WORLD_SIZE, LOCAL_RANK must be integers (set by torchrun)") from None
    set_threads(local_world)
    if world <= 1:
        return Dist(rank=0, world_size=1, local_rank=local_rank)
    device = resolve_device(device_name)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if backend == "nccl":
        if local_rank >= torch.cuda.device_count():
            raise DistError(
                f"rank {rank}: LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} GPU(s) "
                "here; give --nproc-per-node at most the number of GPUs"
            )
        torch.cuda.set_device(local_rank)
    where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
    try:
        tdist.init_process_group(backend, timeout=timedelta(seconds=timeout_s()), rank=rank, world_size=world)
    except (RuntimeError, ValueError, OSError) as e:  # DistNetworkError/DistStoreError are RuntimeErrors
        raise DistError(
            f"rank {rank}: cannot join the process group at {where} within {timeout_s():g} s ({_first_line(e)})"
        ) from None
    return Dist(rank=rank, world_size=world, local_rank=local_rank, backend=backend, local_world_size=local_world)


def set_threads(local_world_size: int) -> int:
    """Share this machine's cores among its ranks: max(1, cores // ranks) threads each.

    torchrun sets OMP_NUM_THREADS=1 for every worker unless the user gave it; one thread per rank wastes
    most of a CPU node, and the default of all cores per rank makes the ranks' OpenMP threads spin against
    each other (10-40x slower measured on 2 cores). A value the user gave explicitly is kept."""
    if _user_threads() is not None:
        return torch.get_num_threads()
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    n = max(1, cores // max(1, local_world_size))
    torch.set_num_threads(n)
    return n


def _user_threads() -> str | None:
    """OMP_NUM_THREADS as the user gave it, or None when unset or set only by torchrun's default.

    torchrun writes OMP_NUM_THREADS=1 into its workers' environment when the user did not set it. Its own
    environment as it was started (/proc/<torchrun>/environ, our parent) tells which happened; where that
    cannot be read, a 1 under torchrun is taken for its default."""
    value = os.environ.get("OMP_NUM_THREADS")
    if value is None or value.strip() != "1" or "TORCHELASTIC_RUN_ID" not in os.environ:
        return value
    parent = _parent_environ()
    if parent is None:
        return None
    return value if any(v.startswith(b"OMP_NUM_THREADS=") for v in parent) else None


def _parent_environ() -> list[bytes] | None:
    """The environment our parent (torchrun) was started with, or None where it cannot be read."""
    try:
        with open(f"/proc/{os.getppid()}/environ", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return None
