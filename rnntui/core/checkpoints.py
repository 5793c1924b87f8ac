"""Checkpoints: one self-describing dict of plain types and tensors, written atomically and loaded with
torch.load(weights_only=True), so a checkpoint can never run code and a crash never leaves half a file."""
from __future__ import annotations

import os
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from rnntui.core.config import RnntuiError, TrainConfig, config_from_dict
from rnntui.core.corpus import Vocab
from rnntui.core.models import CharModel

FORMAT = "rnntui-checkpoint"
VERSION = 1
REQUIRED = ("model", "config", "vocab", "step")


class CheckpointError(RnntuiError):
    """A checkpoint cannot be used; the message is one line naming the file."""


# -----------------------------------------------------------------------------
# writing


def save_checkpoint(path: str | os.PathLike, ckpt: dict[str, Any]) -> None:
    """Write to a temp file in the same folder, fsync, then rename over the target (atomic on POSIX)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save({"format": FORMAT, "version": VERSION, **ckpt}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# -----------------------------------------------------------------------------
# reading


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load on the CPU and validate. Every failure is a CheckpointError with one line."""
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"{p}: no such checkpoint")
    if p.is_dir():
        raise CheckpointError(f"{p}: is a directory; give the .pt file (e.g. {p / 'latest.pt'})")
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
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{p}: not an rnntui checkpoint")
    if ckpt.get("version") != VERSION:
        raise CheckpointError(f"{p}: checkpoint version {ckpt.get('version')} is not supported (expected {VERSION})")
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise CheckpointError(f"{p}: checkpoint is missing {', '.join(missing)}")
    return ckpt


def config_of(ckpt: dict[str, Any]) -> TrainConfig:
    try:
        return config_from_dict(ckpt["config"])
    except (TypeError, ValueError, KeyError) as e:
        raise CheckpointError(f"checkpoint has an invalid config ({e})") from None


def model_from_checkpoint(ckpt: dict[str, Any]) -> tuple[CharModel, Vocab, TrainConfig]:
    """Rebuild the model on the CPU in eval mode (move it with .to(device) if needed)."""
    cfg = config_of(ckpt)
    vocab = Vocab(ckpt["vocab"])
    if cfg.model.vocab_size != len(vocab):
        raise CheckpointError("checkpoint's vocabulary does not match its model")
    model = CharModel(cfg.model)
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError, TypeError) as e:
        raise CheckpointError(f"checkpoint weights do not fit its model ({str(e).splitlines()[0][:100]})") from None
    model.eval()
    return model, vocab, cfg
