"""Experiments: one training config per variant of a preset, the form's (or the command line's) settings
with the few changes that make the point, e.g. rnn vs lstm vs gru for vanishing gradients.

    cfgs = experiment_configs("vanishing", base)   # [TrainConfig, ...]: same seed, data and budget

Pure config: no torch. The app trains the configs side by side (ui/workers/experiment.py's ExperimentSession) and
compares them live.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rnntui.core.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    name: str  # shown on the setup screen
    what: str  # one line: what the experiment shows
    variants: tuple[tuple[str, dict], ...]  # (label, changes to the form's config) per run


# a comparison reads each cell's horizon from its last probes: compared runs (the app's experiments and
# `rnntui compare`) probe at 2% of training time (a plain run: 0.5%, for speed), so that a run of a few
# hundred steps still has several probes to average
COMPARE_PROBE_BUDGET = 0.02
HIGH_LR = 0.05  # "clipping": ten times the default rate, where an unclipped RNN's gradient spikes
PRESETS = {
    "vanishing": Preset(
        "vanishing gradients",
        "rnn vs lstm vs gru: how far back the gradient reaches",
        (("rnn", {"kind": "rnn"}), ("lstm", {"kind": "lstm"}), ("gru", {"kind": "gru"})),
    ),
    "clipping": Preset(
        "clipping",
        f"an rnn at lr {HIGH_LR:g}, gradient clipped at 1 vs not clipped",
        (
            ("clip1", {"kind": "rnn", "lr": HIGH_LR, "clip": 1.0}),
            ("noclip", {"kind": "rnn", "lr": HIGH_LR, "clip": 0.0}),
        ),
    ),
    "depth": Preset(
        "depth",
        "1, 2 and 3 layers: speed against loss",
        (("1layer", {"layers": 1}), ("2layers", {"layers": 2}), ("3layers", {"layers": 3})),
    ),
}


def experiment_configs(key: str, base: TrainConfig) -> list[TrainConfig]:
    """One config per run of a preset: the form's settings (same seed, data and budget) with the
    preset's changes, each in its own run folder under the same out_dir, probing at the comparison's rate."""
    preset = PRESETS[key]
    stem = Path(base.corpus).stem or "corpus"
    out = []
    for label, changes in preset.variants:
        model = {k: v for k, v in changes.items() if k in ("kind", "layers", "hidden")}
        train = {k: v for k, v in changes.items() if k not in model}
        name = f"exp-{key}-{label}-{stem}"
        cfg = replace(
            base, model=replace(base.model, **model), run_name=name, probe_budget=COMPARE_PROBE_BUDGET, **train
        )
        cfg.validate()
        out.append(cfg)
    return out
