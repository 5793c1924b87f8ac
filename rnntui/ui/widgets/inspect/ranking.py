"""How the inspector orders the units of the shown layer and state: by variance over the text, by index, or
by how well each one tracks a text feature ("find neurons": a correlation, or a marked range's score).

numpy only (rnntui.core.analysis.features), so nothing here imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rnntui.core.analysis.features import (
    FEATURES,
    FeatureError,
    correlation,
    rank,
    selection_scores,
    text_feature,
    variance_order,
)
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


def ranked(v: View, sort: str, feature: str, pattern: str, select_top: bool = False) -> View:
    """The view with its units ordered by unit_ranking (select_top: the first of the order selected, else
    the same unit). Raises FeatureError as unit_ranking does."""
    order, scores, label = unit_ranking(v, sort, feature, pattern)
    unit = int(order[0]) if select_top else v.unit
    return replace(v, order=order, scores=scores, ranking=label, unit=unit)


@dataclass
class UnitOrder:
    """The unit order the user chose on the Inspect screen: s's sort and what the last find looked for."""

    sort: str = "variance"  # one of SORTS
    feature: str = "quotes"  # the feature of the last find (a key of FEATURES)
    found: bool = False  # a find has run, so the "feature" sort has something to sort by
    pattern: str = ""  # regular expression of the regex feature

    def apply(self, v: View, select_top: bool = False) -> tuple[View, str]:
        """v in this order, and a warning for the user ("" none): a feature that cannot be computed says
        why, and the order falls back to variance."""
        sort = "variance" if self.sort == "feature" and not self.found else self.sort
        try:
            return ranked(v, sort, self.feature, self.pattern, select_top), ""
        except FeatureError as e:
            self.sort, self.found = "variance", False
            return self.apply(v, select_top)[0], str(e)

    def find(self, v: View, feature: str) -> tuple[View, str]:
        """Order by the feature from now on: v so ordered, its best unit selected, and a warning as apply's,
        or saying that the feature never changes over the text (so no unit can track it)."""
        self.feature, self.found, self.sort = feature, True, "feature"
        view, warning = self.apply(v, select_top=True)
        if not warning and view.ranking.endswith(CONSTANT_NOTE):
            warning = (
                f"{FEATURES[feature]} does not change over this text, so no unit can track it; f tries the next feature"
            )
        return view, warning

    def next_find(self, selection: tuple[int, int] | None) -> str:
        """The feature f looks for next (next_feature)."""
        return next_feature(self.feature if self.found else None, self.pattern, selection)
