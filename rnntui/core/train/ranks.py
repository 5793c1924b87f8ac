"""Each rank's share of a distributed run (distributed.py): its slice of the training streams, its part of a
checkpoint's carried state and generators on resume, and all of them gathered back for rank 0's save.

The layout is always that of one process holding every rank's streams, (layers, N*B, H) for N ranks of
batch B, so a run resumes exactly on the same world size, or on another with the streams started afresh.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rnntui.core.model.cells import State, map_state
from rnntui.core.train.distributed import Dist, DistError

# -----------------------------------------------------------------------------
# the data each rank trains on


def rank_slice(data: np.ndarray, batch: int, seq_len: int, dist: Dist) -> np.ndarray:
    """This rank's part of the streams one process with batch world_size x batch would build.

    Streams cuts a split into `batch` contiguous streams of len(data) // batch characters. With N ranks of
    batch B, the layout is that of one process with N*B streams, and rank r takes streams [r*B, (r+1)*B):
    the characters a step sees are the same as in the single process, so the trajectories match."""
    if not dist.enabled:
        return data
    total = dist.world_size * batch
    if len(data) // (seq_len + 1) < total:
        raise DistError(
            f"training split too short ({len(data):,} chars) for {dist.world_size} ranks x {batch} "
            f"streams of at least {seq_len + 1} chars; use a smaller --batch-size or --seq-len"
        )
    length = len(data) // total
    return data[dist.rank * batch * length : (dist.rank + 1) * batch * length]


def rank_streams(dist: Dist, saved: list[torch.Tensor], batch: int) -> list[torch.Tensor]:
    """This rank's streams [r*B, (r+1)*B) of a checkpoint's carried state, (layers, N*B, H) -> (layers, B, H)."""
    r = dist.rank
    return [s[:, r * batch : (r + 1) * batch].contiguous() for s in saved]


def gather_streams(dist: Dist, state: State | None) -> State | None:
    """Every rank's carried state as one: (layers, B, H) per rank -> (layers, N*B, H), the layout one process
    with batch N*B holds (a collective; None when no step has run since the epoch began, on every rank)."""
    if state is None:
        return None
    return map_state(lambda s: torch.cat(dist.all_gather(s), dim=1), state)


def gather_rngs(dist: Dist, rng: dict[str, Any], device: torch.device) -> list[dict[str, Any]]:
    """Every rank's generator states, in rank order (a collective), as CPU tensors for a checkpoint."""
    ranks = [{"torch": t.cpu()} for t in dist.all_gather(rng["torch"].to(device))]
    if rng.get("cuda") is not None:
        for r, t in zip(ranks, dist.all_gather(rng["cuda"].to(device))):
            r["cuda"] = t.cpu()
    return ranks


def rank_rng(dist: Dist, rng: dict[str, Any]) -> dict[str, Any] | None:
    """The generator state this rank resumes with: its own from a run of the same world size, else the
    checkpoint's main one for rank 0, and None (seed afresh) for the other ranks."""
    ranks = rng.get("ranks") or []
    if dist.enabled and len(ranks) == dist.world_size:
        return ranks[dist.rank]
    return rng if dist.rank == 0 else None
