"""A footer that fits: Textual's Footer, but when the keys do not fit in the terminal's width it leaves out
whole entries, the last ones first, instead of cutting one in half at the edge ("f1 Hel" at 80 columns).

Bindings are listed in priority order (the screen's first, then the app's), so what goes is what matters
least; the entries named in `keep` (the help, which lists every key) never go, nor the command palette's
(docked right). A left-out key still works, and the help and the palette (ctrl+p) still list it.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup


def _width(widget: Widget) -> int:
    """The columns a footer entry takes: its content, padding and border, and its margin."""
    big = Size(10_000, 1)
    styles = widget.styles
    return widget.get_content_width(big, big) + styles.gutter.width + styles.margin.width


class FittingFooter(Footer):
    def __init__(self, *, keep: tuple[str, ...] = ("app.help", "help"), **kwargs) -> None:
        super().__init__(**kwargs)
        self.keep = keep  # actions whose entry is never left out

    async def recompose(self) -> None:
        await super().recompose()  # (the bindings changed: a new set of entries)
        self.call_after_refresh(self.fit)

    def on_resize(self) -> None:
        self.fit()

    def entries(self) -> tuple[list[list[Widget]], list[Widget]]:
        """The entries left to right (a key, or a group's keys with its label), and the docked ones."""
        entries: list[list[Widget]] = []
        docked: list[Widget] = []
        for child in self.children:
            if child.has_class("-command-palette"):
                docked.append(child)
            elif isinstance(child, FooterLabel) and entries and isinstance(entries[-1][0], KeyGroup):
                entries[-1].append(child)  # a group's label belongs with its keys
            else:
                entries.append([child])
        return entries, docked

    def fit(self) -> None:
        if not self.is_attached or self.size.width == 0:
            return
        entries, docked = self.entries()
        room = self.size.width - sum(_width(w) for w in docked)
        widths = [sum(_width(w) for w in entry) for entry in entries]
        shown = [True] * len(entries)
        for i in reversed(range(len(entries))):  # the last entries go first
            if sum(w for w, s in zip(widths, shown) if s) <= room:
                break
            if not any(isinstance(w, FooterKey) and w.action in self.keep for w in entries[i]):
                shown[i] = False
        for entry, show in zip(entries, shown):
            for w in entry:
                w.display = show
