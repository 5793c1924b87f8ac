"""run.json: what a run is and where it stands (RunInfo), every field checked when it is read.

    info = RunInfo.from_dict(json.loads(text))   FieldError naming the field that does not hold
    info.train_config                            the run's TrainConfig
    info.live_state()                            "killed" for a "running" run whose process is gone

Any process, or a person, may have written the file: nothing reads a field before from_dict has checked it
(fields.py). The folder reads and writes it (folder.py: RunDir.load_info, write_info). Stdlib only.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from rnntui.core.config import TrainConfig, config_from_dict
from rnntui.core.runs import fields as fv
from rnntui.core.runs.fields import FieldError, checked_config
from rnntui.core.runs.files import pid_alive

STATES = ("running", "completed", "stopped", "diverged", "failed")
# what RunInfo.live_state and `runs` can show besides STATES; "bad": a run.json or log that cannot be used
SHOWN_STATES = STATES + ("killed", "unknown", "bad")


# -----------------------------------------------------------------------------
# run.json


@dataclass(frozen=True)
class RunInfo:
    name: str  # the folder's name
    config: dict[str, Any]  # the resolved TrainConfig as a plain dict
    corpus: str  # built-in name or the path the run was started with
    corpus_fingerprint: str  # content hash of the encoded corpus (refuses resuming on other text)
    created: float  # time.time() when the run began
    updated: float  # time.time() of the last write
    state: str  # one of STATES
    steps: int  # optimiser steps done
    chars_seen: int  # training characters consumed (steps x batch x seq_len, summed over resumes)
    wall_s: float  # training wall time, summed over invocations
    best_val_loss: float | None = None  # nats per char
    final_val_loss: float | None = None  # the last end-of-invocation validation
    n_params: int = 0  # trainable parameters
    device: str = ""  # device of the latest invocation
    pid: int = 0  # process writing the run while state is running
    host: str = ""  # machine of that process
    world_size: int = 1  # processes in a distributed run
    message: str = ""  # one line: why it stopped, diverged or failed

    @property
    def train_config(self) -> TrainConfig:
        return config_from_dict(self.config)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> RunInfo:
        """run.json's object with every field checked (any process, or a person, may have written it):
        a FieldError naming the field otherwise. Unknown keys are ignored; optional ones may be missing."""
        if not isinstance(d, dict):
            raise FieldError(f"not a JSON object ({type(d).__name__})")
        missing = [f.name for f in fields(cls) if f.name not in d and f.default is MISSING]
        if missing:
            raise FieldError(f"has no {', '.join(missing)}")
        if d["state"] not in STATES:
            raise FieldError(f"state must be one of {', '.join(STATES)}, not {fv.show(d['state'])}")
        values = {k: check(d[k], k) for k, check in _INFO_CHECKS.items() if k in d}
        checked_config(d["config"])  # raises: the config must build a valid TrainConfig (train_config)
        return cls(**values)

    def alive(self) -> bool:
        """True while a process on this machine is still training the run (or one elsewhere may be)."""
        if self.state != "running":
            return False
        if self.host and self.host != socket.gethostname():
            return True  # cannot tell from here: trust the file
        return pid_alive(self.pid)

    def live_state(self) -> str:
        """The state to show: a "running" run whose process is gone reads "killed" (SIGKILL, a crash,
        a lost machine), since nothing will ever update its run.json again."""
        if self.state == "running" and not self.alive():
            return "killed"
        return self.state


def _maybe_number(v: Any, name: str) -> float | None:
    return fv.maybe(fv.number, v, name)


_INFO_CHECKS: dict[str, Callable[[Any, str], Any]] = {  # RunInfo field -> its check (fields.py)
    "name": fv.text,
    "config": lambda v, name: v,
    "corpus": fv.text,
    "corpus_fingerprint": fv.text,
    "created": lambda v, name: fv.number(v, name, lo=0, hi=fv.MAX_TIME),
    "updated": lambda v, name: fv.number(v, name, lo=0, hi=fv.MAX_TIME),
    "state": fv.text,
    "steps": fv.whole,
    "chars_seen": fv.whole,
    "wall_s": lambda v, name: fv.number(v, name, lo=0),
    "best_val_loss": _maybe_number,
    "final_val_loss": _maybe_number,
    "n_params": fv.whole,
    "device": fv.text,
    "pid": fv.whole,
    "host": fv.text,
    "world_size": lambda v, name: fv.whole(v, name, lo=1),
    "message": fv.text,
}
