"""The setup form's parts, apart from the screen that arranges them: the numeric fields (their labels and
their validators, built from the config's limits), the values they show for a config and the config they
make, path completion, and the form's blocks (corpus, model and training, checkpoint, experiment) as the
screen composes them.
"""

from __future__ import annotations

import os
from dataclasses import replace

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester
from textual.widgets import Button, Input, Label, Select, Static

from rnntui.core.config import MODEL_KINDS, ModelConfig, TrainConfig
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
# the blocks of the form


def corpus_block(builtin: str, path: str) -> ComposeResult:
    """A built-in corpus (`builtin` selected) or a file's `path`, and what the corpus holds once read."""
    with Vertical(id="corpus-col", classes="setup-box") as box:
        box.border_title = "corpus"
        yield Select(
            [(v, k) for k, v in BUILTIN_LABELS.items()],
            value=builtin,
            allow_blank=False,
            id="corpus-builtin",
        )
        yield Input(
            path,
            placeholder="or a UTF-8 text file: type a path (→ accepts)",
            suggester=PathSuggester(),
            id="corpus-path",
        )
        yield Static("loading corpus…", id="corpus-info")
        yield Static("", id="corpus-preview")


def model_block(defaults: TrainConfig) -> ComposeResult:
    """The cell kind, every field of FIELDS filled from `defaults` (each with its line for a refusal), and
    the device (the list is filled in once the devices are found)."""
    values = form_values(defaults)
    with Vertical(id="model-col", classes="setup-box") as box:
        box.border_title = "model and training"
        with Horizontal(classes="field"):
            yield Label("kind", classes="field-label")
            yield Select([(k, k) for k in MODEL_KINDS], value=defaults.model.kind, allow_blank=False, id="kind")
        yield Static("", classes="why")
        for key, (label, validators, kind) in FIELDS.items():
            with Horizontal(classes="field"):
                yield Label(label, classes="field-label")
                yield Input(
                    values[key],
                    type=kind,
                    validators=validators,
                    id=key,
                    valid_empty=key in OPTIONAL,
                    placeholder="empty: until stopped" if key == "steps" else "",
                )
            yield Static("", id=f"{key}-why", classes="why")
        with Horizontal(classes="field"):
            yield Label("device", classes="field-label")
            yield Select([("auto (finding devices…)", "auto")], value="auto", allow_blank=False, id="device")


def checkpoint_block(path: str) -> ComposeResult:
    """A checkpoint's path, what it holds once loaded, and what can be done with it (enabled then)."""
    with Vertical(id="ckpt-box", classes="setup-box") as box:
        box.border_title = "or open a checkpoint"
        yield Input(
            path,
            placeholder="path to a .pt checkpoint (→ accepts), enter loads",
            suggester=PathSuggester(),
            id="ckpt-path",
        )
        yield Static("", id="ckpt-info")
        with Horizontal(id="ckpt-buttons"):
            yield Button("Continue training", id="resume", disabled=True)
            yield Button("Generate", id="generate", disabled=True)
            yield Button("Inspect", id="inspect", disabled=True)


def checkpoint_line(ckpt: dict, cfg: TrainConfig) -> str:
    """What an opened checkpoint holds, in one line (raw: the caller shows it through textsafe.visible)."""
    m = cfg.model
    return (
        f"{m.kind} {m.layers}x{m.hidden} · step {ckpt.get('step', 0):,} · vocabulary {len(ckpt['vocab'])}"
        f" · corpus {cfg.corpus}"
    )


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
