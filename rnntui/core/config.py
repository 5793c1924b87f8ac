"""Frozen configuration for a model and a training run.

Stdlib only: the CLI, the engine and the TUI all build these, and checkpoints store them as plain dicts.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

MODEL_KINDS = ("rnn", "lstm", "gru")
DEVICES = ("auto", "cpu", "cuda", "mps")
SCHEDULES = ("wsd", "cosine", "step", "constant")


class RnntuiError(Exception):
    """Any error caused by the user's input: the message is one line meant for a user, no traceback."""


class ConfigError(RnntuiError):
    """A setting is out of range."""


# -----------------------------------------------------------------------------
# model


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "gru"  # recurrent cell: rnn (tanh), lstm or gru (gru learned fastest per CPU minute)
    vocab_size: int = 0  # number of distinct characters; filled in from the corpus
    embed: int = 64  # size of the character embedding fed to the first layer
    hidden: int = 256  # units per recurrent layer
    layers: int = 2  # stacked recurrent layers
    dropout: float = 0.0  # dropout between layers and before the output head

    def validate(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ConfigError(f"model must be one of {', '.join(MODEL_KINDS)}, not {self.kind!r}")
        for name in ("embed", "hidden", "layers"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if self.hidden > 8192 or self.embed > 8192 or self.layers > 16:
            raise ConfigError("model too large: hidden/embed at most 8192, layers at most 16")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError("dropout must be in [0, 1)")


# -----------------------------------------------------------------------------
# training run


@dataclass(frozen=True)
class TrainConfig:
    corpus: str = "python"  # built-in corpus name or a path to a UTF-8 text file
    model: ModelConfig = field(default_factory=ModelConfig)  # the network to train
    seq_len: int = 64  # BPTT window: timesteps per training window
    batch_size: int = 32  # parallel contiguous streams (32 beat 64 per CPU minute: more updates)
    lr: float = 5e-3  # peak learning rate of AdamW
    weight_decay: float = 0.1  # AdamW decoupled weight decay, on every parameter (1.6-min val 1.49 vs 1.51 without)
    clip: float = 1.0  # clip the global gradient norm to this (0 disables clipping)
    val_frac: float = 0.1  # last fraction of the corpus held out for validation
    seed: int = 1337  # seeds weights, dropout and the sampling during training
    steps: int | None = None  # total optimiser steps of the run (resume continues up to it)
    epochs: float | None = None  # total passes over the training split (alternative to steps)
    minutes: float | None = None  # wall-clock budget of this invocation (alternative to steps)
    schedule: str = "wsd"  # after warm-up: wsd (flat, then linear decay over the last 30%), cosine, step, constant
    warmup: int = 30  # linear warm-up steps
    min_lr_frac: float = 0.05  # the schedule decays to this fraction of lr at the end of the budget
    eval_every: int = 250  # steps between validation passes (0: only at the end)
    eval_windows: int = 40  # cap on windows per intermediate validation (and the pass of a stopped run)
    val_chars: int = 500_000  # characters of the closing validation, spread evenly over the split (0: all)
    log_every: int = 10  # steps between metrics events (each one is a device sync)
    probe_hz: float = 2.0  # most probe snapshots per second (0 disables probes)
    probe_budget: float = 0.02  # most fraction of wall time spent on probes
    probe_text: str = ""  # text for the hidden-state heatmap; empty: a slice of validation
    sample_every_s: float = 15.0  # seconds between samples during training (0 disables)
    sample_len: int = 160  # characters per sample during training
    checkpoint_minutes: float = 2.0  # minutes between periodic saves of latest.pt
    device: str = "auto"  # auto, cpu, cuda or mps
    bf16: bool | None = None  # bf16 autocast; None: on where the GPU or CPU computes bf16 natively
    run_name: str = ""  # folder under out_dir; empty: derived from model and corpus
    out_dir: str = "checkpoints"  # where run folders are written
    save: bool = True  # write checkpoints at all (tests and benchmarks turn this off)

    def validate(self) -> None:
        self.model.validate()
        if self.seq_len < 1 or self.seq_len > 100_000:
            raise ConfigError("seq-len must be between 1 and 100000")
        if self.batch_size < 1 or self.batch_size > 100_000:
            raise ConfigError("batch-size must be between 1 and 100000")
        if not (self.lr > 0 and self.lr < 10):
            raise ConfigError("lr must be in (0, 10)")
        if not 0.0 <= self.weight_decay < 10:
            raise ConfigError("weight-decay must be in [0, 10)")
        if self.clip < 0:
            raise ConfigError("clip must be >= 0")
        if not 0.0 < self.val_frac < 0.9:
            raise ConfigError("val-frac must be in (0, 0.9)")
        given = [x for x in (self.steps, self.epochs, self.minutes) if x is not None]
        if len(given) > 1:
            raise ConfigError("give only one of --steps, --epochs, --minutes")
        if self.steps is not None and self.steps < 1:
            raise ConfigError("steps must be at least 1")
        if self.epochs is not None and not self.epochs > 0:
            raise ConfigError("epochs must be > 0")
        if self.minutes is not None and not self.minutes > 0:
            raise ConfigError("minutes must be > 0")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"schedule must be one of {', '.join(SCHEDULES)}")
        if self.device not in DEVICES:
            raise ConfigError(f"device must be one of {', '.join(DEVICES)}")
        if self.val_chars < 0:
            raise ConfigError("val-chars must be >= 0 (0: the whole validation split)")
        if self.warmup < 0 or self.eval_every < 0 or self.eval_windows < 1 or self.log_every < 1:
            raise ConfigError("warmup/eval-every must be >= 0, eval-windows/log-every >= 1")


# -----------------------------------------------------------------------------
# plain-dict round trip (checkpoints hold only plain types so weights_only loading works)


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    return asdict(cfg)


def config_from_dict(d: dict[str, Any]) -> TrainConfig:
    d = dict(d)
    known_model = {f.name for f in fields(ModelConfig)}
    model = ModelConfig(**{k: v for k, v in dict(d.pop("model", {})).items() if k in known_model})
    known = {f.name for f in fields(TrainConfig)}
    return TrainConfig(model=model, **{k: v for k, v in d.items() if k in known})


def with_model(cfg: TrainConfig, **changes: Any) -> TrainConfig:
    """Copy of cfg with some ModelConfig fields changed."""
    return replace(cfg, model=replace(cfg.model, **changes))


def suggested_model(device: str) -> ModelConfig:
    """Defaults sized for the device: a GPU can afford a much larger network in the same minutes."""
    if device == "cuda":
        return ModelConfig(hidden=512, layers=3, embed=128, dropout=0.2)
    return ModelConfig()
