"""Frozen configuration for a model and a training run.

Stdlib only: the CLI, the engine and the TUI all build these, and checkpoints store them as plain dicts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

MODEL_KINDS = ("rnn", "lstm", "gru")
# weight blocks per layer, the rows of W_ih / W_hh per hidden unit in PyTorch's layout: tanh RNN 1;
# GRU r, z, n; LSTM i, f, g, o (FLOPs, memory estimates and the NumPy twin all read it)
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
DEVICES = ("auto", "cpu", "cuda", "mps")
SCHEDULES = ("wsd", "cosine", "step", "constant")


class RnntuiError(Exception):
    """Any error caused by the user's input: the message is one line meant for a user, no traceback."""


class ConfigError(RnntuiError):
    """A setting is out of range."""


# -----------------------------------------------------------------------------
# limits and help: the one table that config.validate, the setup form and the CLI's help all read


@dataclass(frozen=True)
class Limit:
    help: str  # what the setting does, for --help and the form (the default is added by describe())
    lo: float | None = None  # smallest allowed value (None: no lower bound)
    hi: float | None = None  # largest allowed value (None: no upper bound, only finite)
    lo_open: bool = False  # True: lo itself is refused (x > lo rather than x >= lo)
    hi_open: bool = False  # True: hi itself is refused (x < hi rather than x <= hi)
    integer: bool = False  # whole numbers only
    choices: tuple[str, ...] = ()  # for text settings: the allowed values

    def phrase(self) -> str:
        """What is allowed, in a few words: 'a whole number 1-8192', 'a number in [0, 1)'."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.integer:
            if self.hi is None:
                return f"a whole number >= {self.lo:g}" if self.lo is not None else "a whole number"
            if self.lo is None:
                return f"a whole number <= {self.hi:g}"
            return f"a whole number {int(self.lo)}-{int(self.hi)}"
        if self.lo is not None and self.hi is not None:
            return f"a number in {'(' if self.lo_open else '['}{self.lo:g}, {self.hi:g}{')' if self.hi_open else ']'}"
        if self.lo is not None:
            return f"a number {'>' if self.lo_open else '>='} {self.lo:g}"
        return "a finite number"

    def allows(self, value: Any) -> bool:
        if self.choices:
            return value in self.choices
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not isinstance(value, int):
            return False
        if isinstance(value, float) and not math.isfinite(value):  # (ints may exceed a float: no isfinite)
            return False
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        return self.hi is None or (value < self.hi if self.hi_open else value <= self.hi)


MAX_SEED = 2**63 - 1  # torch.manual_seed takes a 64-bit seed; beyond it is an OverflowError

# ModelConfig and TrainConfig field name -> its limit. Fields not listed here (names, paths, flags)
# are checked by validate() alone.
LIMITS: dict[str, Limit] = {
    # model
    "kind": Limit("recurrent cell", choices=MODEL_KINDS),
    "embed": Limit("embedding size", 1, 8192, integer=True),
    "hidden": Limit("units per layer", 1, 8192, integer=True),
    "layers": Limit("stacked layers", 1, 16, integer=True),
    "dropout": Limit("dropout between layers and before the output", 0, 1, hi_open=True),
    # run
    "seq_len": Limit("BPTT window: timesteps per training window", 1, 100_000, integer=True),
    "batch_size": Limit("parallel streams (per process under torchrun)", 1, 100_000, integer=True),
    "lr": Limit("peak learning rate", 0, 10, lo_open=True, hi_open=True),
    "weight_decay": Limit("AdamW weight decay", 0, 10, hi_open=True),
    "clip": Limit("gradient clipping by global norm; 0 disables", 0),
    "val_frac": Limit("validation fraction at the end of the text", 0, 0.9, lo_open=True, hi_open=True),
    "seed": Limit("random seed", 0, MAX_SEED, integer=True),
    "steps": Limit("total optimiser steps of the run", 1, integer=True),
    "epochs": Limit("total passes over the training split", 0, lo_open=True),
    "minutes": Limit("wall-clock minutes for this invocation", 0, lo_open=True),
    "schedule": Limit("lr schedule after warm-up", choices=SCHEDULES),
    "warmup": Limit("linear warm-up steps", 0, integer=True),
    "min_lr_frac": Limit("the schedule ends at this fraction of lr", 0, 1),
    "eval_every": Limit("steps between validation passes; 0: only at the end", 0, integer=True),
    "eval_windows": Limit("windows per intermediate validation", 1, integer=True),
    "val_chars": Limit(
        "characters of the closing validation, spread over the split; 0: the whole split", 0, integer=True
    ),
    "log_every": Limit("steps between metrics events", 1, integer=True),
    "probe_hz": Limit("most probe snapshots per second; 0 disables", 0),
    "probe_budget": Limit("most fraction of wall time spent on probes", 0, 1),
    "sample_every_s": Limit("seconds between samples while training; 0 disables", 0),
    "sample_len": Limit("characters per sample while training", 1, integer=True),
    "checkpoint_minutes": Limit("minutes between periodic saves of latest.pt", 0, lo_open=True),
    "device": Limit("auto: cuda, then mps, then cpu", choices=DEVICES),
}


def flag(name: str) -> str:
    """The setting's name as the command line spells it (without the dashes): seq_len -> seq-len."""
    return "model" if name == "kind" else name.replace("_", "-")


def check(name: str, value: Any) -> None:
    """Raise ConfigError, in one line, if value is not allowed for the setting `name`."""
    limit = LIMITS[name]
    if isinstance(value, float) and not math.isfinite(value):
        raise _not_finite(name, value)
    if not limit.allows(value):
        raise ConfigError(f"{flag(name)} must be {limit.phrase()}, not {value!r}")


def _not_finite(name: str, value: float) -> ConfigError:
    # one message for nan and inf in any float setting: `--clip nan` would silently disable clipping
    # (every comparison with nan is False) and `--minutes inf` would never end
    return ConfigError(f"{flag(name)} must be a finite number, not {value}")


def default(name: str) -> Any:
    """The default of a ModelConfig or TrainConfig field."""
    for cls in (ModelConfig, TrainConfig):
        for f in fields(cls):
            if f.name == name and f.name != "model":
                return f.default_factory() if callable(f.default_factory) else f.default
    raise KeyError(name)


def describe(name: str) -> str:
    """Help text for a setting with its default: describe('hidden') -> 'units per layer (default 256)'."""
    value = default(name)
    shown = f"{value:g}" if isinstance(value, float) else value
    return LIMITS[name].help + ("" if value is None else f" (default {shown})")


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
        _check_fields(self)


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
    probe_budget: float = 0.005  # most fraction of wall time spent on probes (0.5%: see observe.py)
    probe_text: str = ""  # text for the hidden-state heatmap; empty: a slice of validation
    sample_every_s: float = 15.0  # seconds between samples during training (0 disables)
    sample_len: int = 160  # characters per sample during training
    checkpoint_minutes: float = 2.0  # minutes of training (pauses left out) between periodic saves of latest.pt
    device: str = "auto"  # auto, cpu, cuda or mps
    bf16: bool | None = None  # bf16 autocast; None: on where the GPU or CPU computes bf16 natively
    run_name: str = ""  # folder under out_dir; empty: derived from model and corpus
    out_dir: str = "checkpoints"  # where run folders are written
    save: bool = True  # write checkpoints at all (tests and benchmarks turn this off)

    def validate(self) -> None:
        self.model.validate()
        _check_fields(self)
        given = [x for x in (self.steps, self.epochs, self.minutes) if x is not None]
        if len(given) > 1:
            raise ConfigError("give only one of --steps, --epochs, --minutes")


def _check_fields(cfg: ModelConfig | TrainConfig) -> None:
    """Every float must be finite (nan would silently disable a comparison, inf never ends), then
    every field in LIMITS must lie within it. Optional settings (None) are not checked."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise _not_finite(f.name, value)
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.name in LIMITS and value is not None:
            check(f.name, value)


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


def suggested_model(device: str) -> ModelConfig:
    """Defaults sized for the device: a GPU can afford a much larger network in the same minutes."""
    if device == "cuda":
        return ModelConfig(hidden=512, layers=3, embed=128, dropout=0.2)
    return ModelConfig()
