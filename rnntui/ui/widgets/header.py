"""The screens' header: Textual's Header, safe when its screen is replaced right after mounting.

Textual's Header (8.x) fills its title from a coroutine queued at mount; when the screen is switched away
before that coroutine runs (`rnntui watch` on a short log opens the dashboard over the setup screen within
a frame), the coroutine finds the title widget already gone and raises NoMatches, which ends the app.
Here the late title is simply dropped: the header it was for is being removed.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widget import Widget
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class AppHeader(Header):
    def _on_mount(self, event: Mount) -> None:
        """Header._on_mount with the title's NoMatches caught; Textual calls the mount handler of every class
        in the MRO, so this one runs Widget's itself and stops the dispatch before Header's."""
        Widget._on_mount(self, event)
        event.prevent_default()

        async def set_title() -> None:
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except (NoMatches, NoScreen):  # this header is leaving its screen: the title is for nobody
                pass

        for obj, name in (
            (self.app, "title"),
            (self.app, "sub_title"),
            (self.screen, "title"),
            (self.screen, "sub_title"),
        ):
            self.watch(obj, name, set_title)
