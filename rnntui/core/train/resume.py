"""A training loop's checkpoint, both ways: `restore` puts a Checkpoint into a freshly built TrainLoop
(weights, optimiser, histories, learning-rate plan, generators, carried state); `pack` builds the
Checkpoint a save writes from the loop as it is now.

Plain functions of the loop: loop.py holds the steps of training, this module what has to survive from
one invocation of it to the next. Distributed, `share` gathers every rank's carried state and generator
first, so rank 0's checkpoint resumes as one process holding all the streams would.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch

from rnntui.core.runs.checkpoints import Checkpoint, WeightsSnapshot
from rnntui.core.train.distributed import gather_rngs, gather_streams, rank_rng, rank_streams
from rnntui.core.train.history import History
from rnntui.core.model.cells import map_state

if TYPE_CHECKING:  # loop.py imports this module
    from rnntui.core.train.loop import TrainLoop

# -----------------------------------------------------------------------------
# resuming: a checkpoint into a new loop


def restore(loop: TrainLoop, ckpt: Checkpoint) -> None:
    """Called from TrainLoop.__init__ once the model, optimiser, streams and budget exist."""
    loop.model.load_state_dict(ckpt.snapshot.weights)
    if ckpt.optimizer is not None:
        loop.opt.load_state_dict(ckpt.optimizer)
    loop.step = ckpt.step
    loop.losses = History.from_dict(ckpt.history)
    loop.grad_norms = History.from_dict(ckpt.grad_history)
    loop.val_hist = list(ckpt.val_history)
    loop.best = ckpt.best_val_loss if ckpt.best_val_loss is not None else math.inf
    loop.chars0, loop.wall0 = ckpt.chars_seen, ckpt.wall_s
    # the same step budget continues the same plan exactly; a new one re-plans the decay from here
    same = ckpt.plan_steps is not None and ckpt.plan_steps == loop.budget.total_steps
    loop.plan_start = ckpt.plan_start if same else ckpt.step
    _restore_rng(loop, ckpt)
    if ckpt.state is not None and loop.step % loop.train.windows != 0:
        saved = [s.to(loop.device) for s in ckpt.state]  # each (layers, streams of all ranks, H)
        if saved[0].size(1) == loop.global_batch:  # same streams: take this rank's slice of them
            mine = rank_streams(loop.dist, saved, loop.train.batch)
            loop.state = tuple(mine) if len(mine) == 2 else mine[0]
        else:  # other streams (another --batch-size or world size): they start afresh
            loop.notes.append(
                f"the checkpoint carried the state of {saved[0].size(1)} streams and this run has "
                f"{loop.global_batch} (processes x --batch-size): the streams start afresh at step {loop.step}")


def _restore_rng(loop: TrainLoop, ckpt: Checkpoint) -> None:
    rng = rank_rng(loop.dist, ckpt.rng)
    if rng is None:  # a rank the checkpoint's run did not have: a seed of its own
        torch.manual_seed(loop.cfg.seed + loop.dist.rank + loop.step)
        return
    if rng.get("torch") is not None:
        torch.set_rng_state(rng["torch"])
    if loop.device.type == "cuda" and rng.get("cuda") is not None:
        torch.cuda.set_rng_state(rng["cuda"], loop.device)


# -----------------------------------------------------------------------------
# saving: the loop into a checkpoint


def rng_state(device: torch.device) -> dict[str, Any]:
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def share(loop: TrainLoop) -> None:
    """Distributed: gather every rank's carried state and generator for rank 0's next save.

    A collective: every rank calls it at the same step (saves are decided at log intervals, validation
    at fixed steps); a second call at the same step is a no-op, so a save after a validation costs
    nothing more and rank 0 can then validate and write alone while the others go on."""
    if not loop.dist.enabled or not loop.cfg.save or loop.shared_step == loop.step:
        return
    loop.shared_step = loop.step
    loop.shared_state = gather_streams(loop.dist, loop.state)  # (layers, N*B, H) each
    loop.shared_rngs = gather_rngs(loop.dist, rng_state(loop.device), loop.device)


def pack(loop: TrainLoop) -> Checkpoint:
    """Everything a resume needs. Distributed: call share(loop) first, on every rank."""
    weights = {k: v.detach().cpu() for k, v in loop.model.state_dict().items()}
    state, rng = loop.state, rng_state(loop.device)
    if loop.dist.enabled:  # the streams of all ranks, as one process with their total batch holds them
        state, rng = loop.shared_state, {**rng, "ranks": loop.shared_rngs}
    st = None if state is None else list(map_state(lambda s: s.detach().cpu(), state, as_list=True))
    return Checkpoint(
        snapshot=WeightsSnapshot(weights, loop.cfg, loop.corpus.vocab.chars, loop.step),
        optimizer=loop.opt.state_dict(), state=st, rng=rng, world_size=loop.dist.world_size,
        history=loop.losses.to_dict(), grad_history=loop.grad_norms.to_dict(), val_history=list(loop.val_hist),
        best_val_loss=None if math.isinf(loop.best) else loop.best, corpus=loop.cfg.corpus,
        corpus_fingerprint=loop.corpus_fingerprint, plan_start=loop.plan_start,
        plan_steps=loop.budget.total_steps, chars_seen=loop.chars_seen(), wall_s=loop.wall0 + loop.elapsed(),
    )
