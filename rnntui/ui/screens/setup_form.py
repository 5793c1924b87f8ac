"""The setup form's parts, apart from the screen that arranges them: the numeric fields (their labels and
their validators, built from the config's limits), the values they show for a config and the config they
make, path completion, and the experiment block.
"""

from __future__ import annotations

import os
from dataclasses import replace

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import Button, Select

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.ui.screens.forms import limit_field

# -----------------------------------------------------------------------------
# the fields


# field id -> (label, validators, input type); every value is refused at the field with the reason, from
# the same limits config.validate() applies
FIELDS = {
    "hidden": limit_field("hidden", "hidden"),
    "layers": limit_field("layers", "layers"),
    "embed": limit_field("embed", "embedding"),
    "dropout": limit_field("dropout", "dropout"),
    "seq_len": limit_field("seq_len", "seq len"),
    "batch": limit_field("batch_size", "batch size"),
    "lr": limit_field("lr", "learning rate"),
    "clip": limit_field("clip", "grad clip", said="clip (0 disables)"),
    "steps": limit_field("steps", "budget steps", optional=True, said="steps"),
    "minutes": limit_field("minutes", "or minutes", optional=True, said="minutes"),
}
OPTIONAL = {"steps", "minutes"}  # empty means: no budget of that kind


def model_values(m: ModelConfig) -> dict[str, str]:
    return {"hidden": str(m.hidden), "layers": str(m.layers), "embed": str(m.embed), "dropout": f"{m.dropout:g}"}


def config_from_form(
    v: dict[str, str], kind: str, corpus: str, device: str, previous: TrainConfig | None = None
) -> TrainConfig:
    """The TrainConfig of the fields' texts `v` (validated by their fields first); settings the form has no
    field for stay as the previous run had them. The caller runs config.validate() on it."""
    model = ModelConfig(
        kind=kind, hidden=int(v["hidden"]), layers=int(v["layers"]), embed=int(v["embed"]), dropout=float(v["dropout"])
    )
    cfg = TrainConfig(
        corpus=corpus,
        model=model,
        seq_len=int(v["seq_len"]),
        batch_size=int(v["batch"]),
        lr=float(v["lr"]),
        clip=float(v["clip"]),
        steps=int(v["steps"]) if v["steps"] else None,
        minutes=float(v["minutes"]) if v["minutes"] else None,
        device=device,
    )
    if previous is None:
        return cfg
    return replace(
        previous,
        corpus=cfg.corpus,
        model=replace(
            previous.model, **{f: getattr(model, f) for f in ("kind", "hidden", "layers", "embed", "dropout")}
        ),
        seq_len=cfg.seq_len,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        clip=cfg.clip,
        steps=cfg.steps,
        minutes=cfg.minutes,
        device=cfg.device,
        run_name="",
        epochs=None,
    )


def form_values(cfg: TrainConfig) -> dict[str, str]:
    """The text of every field in FIELDS for a config (an empty budget field: no budget of that kind)."""
    return model_values(cfg.model) | {
        "seq_len": str(cfg.seq_len),
        "batch": str(cfg.batch_size),
        "lr": f"{cfg.lr:g}",
        "clip": f"{cfg.clip:g}",
        "steps": "" if cfg.steps is None else str(cfg.steps),
        "minutes": "" if cfg.minutes is None else f"{cfg.minutes:g}",
    }


# -----------------------------------------------------------------------------
# corpus and checkpoint paths


BUILTIN_LABELS = {
    "python": "python (the stdlib's source)",
    "tiny": "tiny (2 KB, quick demos)",
    "brackets": "brackets (nested structure)",
}  # rnntui.core.data.builtin.BUILTIN, without torch


class PathSuggester(Suggester):
    """Completes file and folder names as the user types a path."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        head, tail = os.path.split(os.path.expanduser(value))
        try:
            names = sorted(n for n in os.listdir(head or ".") if n.startswith(tail) and not n.startswith("."))
        except OSError:
            return None
        if not names or names[0] == tail:
            return None
        full = os.path.join(head, names[0]) if head else names[0]
        return value[: len(value) - len(tail)] + names[0] + ("/" if os.path.isdir(full) else "")


# -----------------------------------------------------------------------------
# experiments: several runs of the form's settings, shown together in Compare as they train


def experiment_block() -> ComposeResult:
    from rnntui.core.train.experiments import PRESETS

    with Vertical(id="exp-box", classes="setup-box") as box:
        box.border_title = "or run an experiment (the form's settings, one run per variant, compared live)"
        with Horizontal(id="exp-row"):
            yield Select(
                [(f"{p.name}: {p.what}", key) for key, p in PRESETS.items()],
                value="vanishing",
                allow_blank=False,
                id="exp-preset",
            )
            yield Button("Run experiment", id="exp-start")
