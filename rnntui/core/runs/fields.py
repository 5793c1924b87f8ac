"""Values read from files that another process, an older rnntui or a person may have written: run.json,
metrics.jsonl records and checkpoints. Each check returns the value with its type made sure of, or raises
FieldError naming the field in one line; nothing read from a file reaches the code untyped.

    whole(d.get("steps"), "steps")              -> int in [0, 2**63)
    number(d.get("wall_s"), "wall_s", lo=0)     -> finite float
    text(d.get("corpus"), "corpus")             -> str that prints (lone surrogates replaced)
    checked_config(d["config"])                 -> TrainConfig, every field typed and in range

Stdlib only: listing runs never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import fields
from typing import Any, TypeVar

from rnntui.core.config import ConfigError, ModelConfig, RnntuiError, TrainConfig, config_from_dict

MAX_INT = 2**63 - 1  # what torch, numpy and float() all take without overflowing
MAX_VOCAB = 0x110000  # one entry per Unicode code point at most
MAX_TIME = 253402300799.0  # the last second of the year 9999: the latest time.localtime() can show
T = TypeVar("T")


class FieldError(RnntuiError):
    """A value read from a file has the wrong type or is out of range: one line naming the field."""


def show(v: Any) -> str:
    """The value as the message quotes it: one line (a tensor's repr has many), cut short (a field may
    hold a megabyte)."""
    if hasattr(v, "shape") and hasattr(v, "dtype"):  # a tensor or an array: its kind, not its values
        return f"a {type(v).__name__} of shape {tuple(v.shape)}"
    r = " ".join(repr(v).split())
    return r if len(r) <= 40 else r[:37] + "..."


def whole(v: Any, name: str, lo: int = 0, hi: int = MAX_INT) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        bound = f">= {lo}" if hi == MAX_INT else f"{lo}-{hi}"
        raise FieldError(f"{name} must be a whole number {bound}, not {show(v)}")
    return v


def number(v: Any, name: str, lo: float | None = None, hi: float | None = None) -> float:
    """A finite number (an int is taken as a float) in [lo, hi] (None: no bound)."""
    ok = isinstance(v, (int, float)) and not isinstance(v, bool)
    if ok and isinstance(v, int):
        ok = abs(v) <= MAX_INT  # float() of a 400-digit int overflows
    x = float(v) if ok else math.nan
    if not (math.isfinite(x) and (lo is None or x >= lo) and (hi is None or x <= hi)):
        bound = "" if lo is None and hi is None else f" >= {lo:g}" if hi is None else f" in [{lo or 0:g}, {hi:g}]"
        raise FieldError(f"{name} must be a finite number{bound}, not {show(v)}")
    return x


def text(v: Any, name: str) -> str:
    """A string; lone surrogates (JSON's "\\ud800", a file name's undecodable byte) would make every later
    print fail: each becomes U+FFFD, the mark textsafe.visible shows for such a byte."""
    if not isinstance(v, str):
        raise FieldError(f"{name} must be text, not {show(v)}")
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        v = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in v)
    return v


def flag(v: Any, name: str) -> bool:
    if not isinstance(v, bool):
        raise FieldError(f"{name} must be true or false, not {show(v)}")
    return v


def maybe(check: Callable[..., T], v: Any, name: str, **kw: Any) -> T | None:
    """None stays None; anything else must pass `check`."""
    return None if v is None else check(v, name, **kw)


def valid(check: Callable[..., Any], v: Any, **kw: Any) -> bool:
    try:
        check(v, "", **kw)
    except FieldError:
        return False
    return True


# -----------------------------------------------------------------------------
# a configuration read from a file


_KINDS: dict[str, Callable[[Any, str], Any]] = {"str": text, "int": whole, "float": number, "bool": flag}


def checked_config(d: Any, name: str = "config") -> TrainConfig:
    """A TrainConfig from a file's plain dict: every field's type checked (by its annotation), then
    TrainConfig.validate(). Unknown keys are ignored and missing ones take their defaults, as
    config_from_dict does, so a file from an older or newer rnntui still reads."""
    if not isinstance(d, dict):
        raise FieldError(f"{name} must be a mapping, not {show(d)}")
    model = d.get("model", {})
    if not isinstance(model, dict):
        raise FieldError(f"{name}.model must be a mapping, not {show(model)}")
    clean: dict[str, Any] = {}
    for cls, values, where in ((ModelConfig, model, f"{name}.model"), (TrainConfig, d, name)):
        out = clean.setdefault("model", {}) if cls is ModelConfig else clean
        for f in fields(cls):
            if f.name == "model" or f.name not in values:
                continue
            v = values[f.name]
            kinds = [k.strip() for k in str(f.type).split("|")]  # "int | None" -> ["int", "None"]
            out[f.name] = None if v is None and "None" in kinds else _KINDS[kinds[0]](v, f"{where}.{f.name}")
    whole(clean["model"].get("vocab_size", 0), f"{name}.model.vocab_size", hi=MAX_VOCAB)
    cfg = config_from_dict(clean)  # the checked values: an int given for a float is now a float
    try:
        cfg.validate()
    except ConfigError as e:
        raise FieldError(f"{name}: {e}") from None
    return cfg
