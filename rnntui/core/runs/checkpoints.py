"""Checkpoints: one self-describing dict of plain types and tensors, written atomically and loaded with
torch.load(weights_only=True), so a checkpoint can never run code and a crash never leaves half a file.

On disk a checkpoint is a plain dict, written in one place: TrainLoop.state_dict() (rnntui.core.train.loop)
lists every field. Read back, it is checked field by field (checkpoint_check.py) and seen as a `Checkpoint`
(everything a resumed run needs) or a `WeightsSnapshot` (weights, config and vocabulary only: what
generation and the inspector need).
"""

from __future__ import annotations

import errno
import math
import os
import pickle
import stat
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnntui.core.config import RnntuiError, TrainConfig
from rnntui.core.data.corpus import Vocab
from rnntui.core.model import memory
from rnntui.core.model.cells import CharModel
from rnntui.core.runs import fields as fv
from rnntui.core.runs.checkpoint_check import check_checkpoint
from rnntui.core.runs.fields import FieldError, checked_config
from rnntui.core.runs.files import atomic_write, file_kind

FORMAT = "rnntui-checkpoint"
VERSION = 1
REQUIRED = ("model", "config", "vocab", "step")


class CheckpointError(RnntuiError):
    """A checkpoint cannot be used; the message is one line naming the file."""


# -----------------------------------------------------------------------------
# the typed views


@dataclass(frozen=True)
class WeightsSnapshot:
    """Weights to generate from or inspect: no optimiser state, safe to hand to another thread."""

    weights: dict[str, torch.Tensor]  # CPU state_dict of the CharModel
    config: TrainConfig  # the run's configuration (its model field builds the network)
    vocab: str  # the model's characters, sorted
    step: int  # optimiser steps the weights have seen

    def model(self) -> CharModel:
        """Rebuild the model on the CPU in eval mode; one that would not fit in memory is refused first."""
        if self.config.model.vocab_size != len(self.vocab):
            raise CheckpointError("checkpoint's vocabulary does not match its model")
        memory.check_model_fits(self.config.model, len(self.vocab))
        model = CharModel(self.config.model)
        try:
            model.load_state_dict(self.weights)
        except (RuntimeError, KeyError, TypeError) as e:
            raise CheckpointError(f"checkpoint weights do not fit its model ({str(e).splitlines()[0][:100]})") from None
        return model.eval()


@dataclass(frozen=True)
class Checkpoint:
    """Everything a run needs to continue exactly where it stopped: a checked checkpoint dict, typed
    (TrainLoop.state_dict() writes the dict, TrainLoop.load_state_dict() reads this)."""

    snapshot: WeightsSnapshot  # weights, config, vocabulary, step
    optimizer: dict[str, Any] | None = None  # AdamW state_dict
    state: list[torch.Tensor] | None = None  # recurrent state carried between windows: [h] or [h, c]
    rng: dict[str, Any] = field(default_factory=dict)  # {"torch": ByteTensor, "cuda": ByteTensor | None}
    history: dict[str, Any] = field(default_factory=dict)  # History.to_dict() of the training loss
    grad_history: dict[str, Any] = field(default_factory=dict)  # History.to_dict() of the gradient norm
    val_history: list[tuple[int, float]] = field(default_factory=list)  # (step, val_loss)
    best_val_loss: float | None = None  # nats per char, on this run's corpus
    corpus: str = ""  # built-in name or path the run trained on
    corpus_fingerprint: str = ""  # content hash of the encoded corpus ("" in old checkpoints)
    plan_start: int = 0  # step where the current learning-rate plan began (a resume that extends the budget re-plans)
    plan_steps: int | None = None  # the step budget that plan decays towards (None: time budget or open-ended)
    chars_seen: int = 0  # training characters consumed so far
    wall_s: float = 0.0  # training wall time so far, over all invocations
    world_size: int = 1  # processes that trained it (distributed runs)

    @property
    def step(self) -> int:
        return self.snapshot.step

    @property
    def config(self) -> TrainConfig:
        return self.snapshot.config

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Checkpoint:
        """From a dict load_checkpoint checked (checkpoint_check.py): the conversions cannot fail."""
        best = d.get("best_val_loss")
        return cls(
            snapshot=weights_of(d),
            optimizer=d.get("optimizer"),
            state=d.get("state"),
            rng=d.get("rng") or {},
            history=d.get("history") or {},
            grad_history=d.get("grad_history") or {},
            val_history=[(int(s), float(v)) for s, v in d.get("val_history") or []],
            best_val_loss=float(best) if best is not None and math.isfinite(best) else None,
            corpus=str(d.get("corpus") or d["config"].get("corpus", "")),
            corpus_fingerprint=str(d.get("corpus_fingerprint") or ""),
            plan_start=int(d.get("plan_start") or 0),
            plan_steps=d.get("plan_steps"),
            chars_seen=int(d.get("chars_seen") or 0),
            wall_s=float(d.get("wall_s") or 0.0),
            world_size=int(d.get("world_size") or 1),
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> Checkpoint:
        return cls.from_dict(load_checkpoint(path))


def weights_of(x: dict[str, Any] | WeightsSnapshot | Checkpoint) -> WeightsSnapshot:
    """A WeightsSnapshot from a checkpoint dict, a Checkpoint or a snapshot."""
    if isinstance(x, WeightsSnapshot):
        return x
    if isinstance(x, Checkpoint):
        return x.snapshot
    return WeightsSnapshot(x["model"], config_of(x), str(x["vocab"]), int(x.get("step", 0)))


# -----------------------------------------------------------------------------
# writing


def save_checkpoint(path: str | os.PathLike, ckpt: dict[str, Any]) -> None:
    """Write a checkpoint dict (TrainLoop.state_dict()) to a temp file in the same folder, fsync, rename
    over the target, fsync the folder (files.atomic_write). A dict without "format" and "version" is
    given this module's.

    Any failure (a full disk, a vanished folder) leaves the previous file intact, removes the temp file
    and raises a one-line CheckpointError naming the file."""
    path = Path(path)
    data = {"format": FORMAT, "version": VERSION, **ckpt}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: torch.save(data, f))
    except (OSError, RuntimeError) as e:
        raise CheckpointError(f"{path}: could not save ({_why(e, path)}); the previous checkpoint is kept") from None


def _why(e: BaseException, path: Path) -> str:
    """torch.save reports a full disk as a RuntimeError ('unexpected pos'): name the real cause."""
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return "no space left on device"
    try:
        import shutil

        if shutil.disk_usage(path.parent).free < 1 << 20:
            return "no space left on device"
    except OSError:
        pass
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e).strip().splitlines()[0][:100] if str(e).strip() else type(e).__name__


# -----------------------------------------------------------------------------
# reading


def _looks_like_text(p: Path) -> bool:
    try:
        head = p.open("rb").read(512)
    except OSError:
        return False
    if not head or head.startswith(b"PK") or b"\0" in head:
        return False
    try:  # text decodes; one binary file in eight has no NUL in its first 512 bytes by chance
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.reason == "unexpected end of data"  # only a character cut at the 512th byte
    return True


def load_checkpoint(path: str | os.PathLike, fits: bool = True) -> dict[str, Any]:
    """Load on the CPU and check every field (checkpoint_check.py). Every failure is a CheckpointError
    with one line; so is a model that would not fit in memory once built, unless `fits` is False (for a
    reader that never builds it: the runs listing)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CheckpointError(f"{p}: no such checkpoint") from None
    except OSError as e:
        raise CheckpointError(f"{p}: cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CheckpointError(f"{p}: is a directory; give the .pt file (e.g. {p / 'latest.pt'})")
    if not stat.S_ISREG(st.st_mode):  # a FIFO would hang the reader, a device never end
        raise CheckpointError(f"{p}: {file_kind(st.st_mode)}, not a checkpoint file")
    have = memory.host_available_bytes() if fits else None
    if have is not None and st.st_size > memory.FIT_FRACTION * have:  # torch.load reads every tensor into memory
        raise CheckpointError(
            f"{p}: too large to load: the file is {st.st_size / 1e9:.1f} GB and "
            f"{have / 1e9:.1f} GB of memory is available"
        )
    if _looks_like_text(p):
        raise CheckpointError(
            f"{p}: not a checkpoint (it is a text file; checkpoints are the .pt files in a run folder)"
        )
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols; we report below
            warnings.simplefilter("ignore")
            ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        # weights_only refuses any pickle that would import or call code
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unsupported content"
        if "weights_only" in str(e) or "global" in str(e).lower():
            raise CheckpointError(f"{p}: refused: loading it would need to run pickled code") from None
        raise CheckpointError(f"{p}: not a valid checkpoint ({first[:120]})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, AttributeError, TypeError) as e:
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{p}: corrupt or truncated checkpoint ({msg[:120]})") from None
    except Exception as e:  # torch raises assorted types for garbage input; never show a traceback
        raise CheckpointError(f"{p}: unreadable checkpoint ({type(e).__name__})") from None
    check_dict(ckpt, p, fits)
    return ckpt


def check_dict(ckpt: Any, where: str | os.PathLike, fits: bool = True) -> None:
    """A loaded checkpoint's format, version and every field; CheckpointError naming `where` otherwise."""
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("format"), str) or ckpt["format"] != FORMAT:
        raise CheckpointError(f"{where}: not an rnntui checkpoint")
    if not fv.valid(fv.whole, ckpt.get("version")) or ckpt["version"] != VERSION:  # (a tensor has no plain !=)
        raise CheckpointError(
            f"{where}: checkpoint version {fv.show(ckpt.get('version'))} is not supported (expected {VERSION})"
        )
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"{where}: checkpoint is missing {', '.join(missing)}")
    try:
        check_checkpoint(ckpt, fits)
    except FieldError as e:
        raise CheckpointError(f"{where}: bad checkpoint: {e}") from None
    except RnntuiError as e:  # the memory check
        raise CheckpointError(f"{where}: {e}") from None


def config_of(ckpt: dict[str, Any]) -> TrainConfig:
    try:
        return checked_config(ckpt.get("config"))
    except FieldError as e:
        raise CheckpointError(f"checkpoint has an invalid config ({e})") from None


def model_from_checkpoint(ckpt: dict[str, Any] | WeightsSnapshot | Checkpoint) -> tuple[CharModel, Vocab, TrainConfig]:
    """Rebuild the model on the CPU in eval mode (move it with .to(device) if needed)."""
    snap = weights_of(ckpt)
    return snap.model(), Vocab(snap.vocab), snap.config
