"""The inspector's widgets (rnntui.ui.screens.inspect composes them) and what they draw: the View.

view.py       View (the frozen snapshot the screen builds on every key) and ViewWidget, the widgets' base
ranking.py    the unit order: by variance, by index, or by a text feature (UnitOrder: the user's choice)
moves.py      what the cursor and unit keys do to the View
text.py       the text coloured by one unit, with the cursor and the prediction strip
panels.py     the run line, the read-outs at the cursor, the predictions, the step anatomy, the ranked unit list
heatmap.py    units x characters around the cursor
ask.py        the input line for a unit number or a regular expression (it checks the answer)
gain.py       the vs-n-gram mode: the gain's colour scale and the summary by kind of character
influence.py  the influence of past characters at the cursor, and the effective context
"""

from rnntui.ui.widgets.inspect.ask import AskLine
from rnntui.ui.widgets.inspect.heatmap import InspectHeatmap
from rnntui.ui.widgets.inspect.panels import AnatomyPanel, CursorPanel, PredPanel, RunLine, UnitList
from rnntui.ui.widgets.inspect.ranking import CONSTANT_NOTE, SORTS, next_feature, next_sort, unit_ranking
from rnntui.ui.widgets.inspect.text import InspectText
from rnntui.ui.widgets.inspect.view import View, ViewWidget

__all__ = [
    "AnatomyPanel",
    "AskLine",
    "CONSTANT_NOTE",
    "CursorPanel",
    "InspectHeatmap",
    "InspectText",
    "PredPanel",
    "RunLine",
    "SORTS",
    "UnitList",
    "View",
    "ViewWidget",
    "next_feature",
    "next_sort",
    "unit_ranking",
]
