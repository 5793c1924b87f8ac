"""What a metrics record may hold: the fields each record type's readers use, and their types.

A metrics.jsonl line is read by `runs`, `watch`, the Runs and Compare screens and the replay; any process
(or a person, or a disk that lost a write) may have put it there. check_record() is the one gate: a
record that passes has every field its readers use typed (finite numbers, whole numbers >= 0, text that
prints), so no reader converts or guards a field itself.
"""

from __future__ import annotations

from typing import Any

from rnntui.core.runs import fields as fv

_NUM = "num"  # a finite number
_NULLABLE = "num?"  # a finite number or null (the writer's NaN or inf: JSON has neither)
_INT = "int"  # a whole number >= 0
_STR = "str"
_BOOL = "bool"
_CURVES = "curves"  # a (layers, T) table of numbers or nulls
SCHEMA: dict[str, dict[str, str]] = {  # record type -> the fields its readers use, and their kinds
    "step": {
        "epoch": _NUM,
        "loss": _NULLABLE,
        "lr": _NULLABLE,
        "grad_norm": _NULLABLE,
        "chars_per_s": _NUM,
        "elapsed_s": _NUM,
        "chars_seen": _INT,
        "wall_s": _NUM,
    },
    "eval": {"val_loss": _NULLABLE, "val_bpc": _NULLABLE, "full": _BOOL},
    "probe": {"grad_total": _CURVES, "grad_last": _CURVES},
    "sample": {"prime": _STR, "text": _STR, "temperature": _NUM},
    "checkpoint": {"kind": _STR, "path": _STR},
    "start": {"time": _NUM, "wall_s": _NUM},
    "end": {"reason": _STR, "message": _STR, "val_loss": _NULLABLE},
}


# -----------------------------------------------------------------------------
# the gate


def check_record(rec: Any) -> dict[str, Any] | None:
    """The record with every field its readers use typed, or None when it is not a record of ours: no
    "type", a "step" that is not a whole number >= 0, or a known field of the wrong type, non-finite or
    out of range. A null where the writer never writes one reads as the field missing; fields no reader
    uses, and records of types this version does not know, pass as they are."""
    if not isinstance(rec, dict) or not isinstance(rec.get("type"), str) or not fv.valid(fv.whole, rec.get("step")):
        return None
    out = dict(rec)
    for name, kind in SCHEMA.get(rec["type"], {}).items():
        v = rec.get(name)
        if v is None:
            if kind != _NULLABLE:
                out.pop(name, None)
            continue
        try:
            out[name] = _checked(kind, v, name)
        except fv.FieldError:
            return None
    return out


def _checked(kind: str, v: Any, name: str) -> Any:
    if kind in (_NUM, _NULLABLE):
        fv.number(v, name)
        return v  # as written (an int stays an int): a record read back is the record written
    if kind == _INT:
        return fv.whole(v, name)
    if kind == _STR:
        return fv.text(v, name)
    if kind == _BOOL:
        return fv.flag(v, name)
    rows = v if isinstance(v, list) and v and all(isinstance(r, list) for r in v) else None
    if rows is None or len({len(r) for r in rows}) != 1:
        raise fv.FieldError(f"{name} must be a table of numbers")
    for r in rows:
        for x in r:
            fv.maybe(fv.number, x, name)
    return v
