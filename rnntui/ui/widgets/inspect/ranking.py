"""How the inspector orders the units of the shown layer and state: by variance over the text, by index, or
by how well each one tracks a text feature ("find neurons": a correlation, or a marked range's score).

numpy only (rnntui.core.analysis.features), so nothing here imports torch.
"""

from __future__ import annotations

import numpy as np

from rnntui.core.analysis.features import FEATURES, correlation, rank, selection_scores, text_feature, variance_order
from rnntui.ui.widgets.inspect.view import View

SORTS = ("variance", "feature", "index")  # s cycles the unit order through these
CONSTANT_NOTE = "constant over this text, all r = 0"  # ranking label suffix when a feature never changes


def next_sort(sort: str, found: bool) -> str:
    """The order s switches to: the next of SORTS, skipping "feature" until a find has run."""
    sorts = [s for s in SORTS if s != "feature" or found]
    return sorts[(sorts.index(sort) + 1) % len(sorts)] if sort in sorts else sorts[0]


def next_feature(last: str | None, pattern: str, selection: tuple[int, int] | None) -> str:
    """The feature f finds next after `last` (None: no find yet): regex only with a pattern, range only
    with a marked range."""
    names = [n for n in FEATURES if (n != "regex" or pattern) and (n != "range" or selection)]
    return names[(names.index(last) + 1) % len(names)] if last in names else names[0]


def unit_ranking(v: View, sort: str, feature: str, pattern: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """(order (H,), scores (H,) or None for the index order, label for the unit list's title).

    sort is one of SORTS; "feature" ranks by `feature` (a key of FEATURES; `pattern` is the regex
    feature's expression). Raises rnntui.core.analysis.features.FeatureError when the feature cannot be computed.
    """
    acts = v.acts  # (T, H)
    if sort == "index":
        return np.arange(acts.shape[1]), None, "units by index"
    if sort != "feature":
        return variance_order(acts), acts.var(axis=0), "units by variance"
    ins, span = v.ins, v.selection
    feat = text_feature(ins.text, feature, pattern, span)[ins.pos_of]  # (T,) in step space
    if feature == "range":
        assert span is not None  # text_feature refused a range without one
        scores = selection_scores(acts, feat > 0, v.threshold)
        label = f"match {span[0]}-{span[1] - 1} · threshold {v.threshold:.2f} (+/-)"
    else:
        scores = correlation(acts, feat)
        label = f"r with {FEATURES[feature]}" + (f" /{pattern}/" if feature == "regex" else "")
        if feat.size and feat.min() == feat.max():  # nothing to track: every r is 0, say why
            label += f" · {CONSTANT_NOTE}"
    return rank(scores), scores, label
