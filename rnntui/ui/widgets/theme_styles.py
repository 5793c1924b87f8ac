"""Chart colours from the theme: the Rich styles of a widget's component classes (values in rnntui.tcss).

The renderables take their colours as parameters with hex defaults, for drawing standalone (tests,
exports); a widget passes the styles its component classes get from the stylesheet, so a theme change
(ctrl+t) recolours the charts and a light theme gets the darker set rnntui.tcss gives it.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.style import Style
from textual.widget import Widget


def component_styles(widget: Widget, names: Sequence[str], defaults: Sequence[Style | str]) -> tuple[Style | str, ...]:
    """The widget's Rich style for each component class name (only what the class sets, not the widget's
    own colours); the defaults while the widget has no styles yet (not mounted)."""
    try:
        return tuple(widget.get_component_rich_style(name, partial=True) for name in names)
    except KeyError:  # the stylesheet has not been applied to the widget yet
        return tuple(defaults)
