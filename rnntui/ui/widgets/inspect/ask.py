"""The inspector's input line, for a unit number (u) or a regular expression (/).

Hidden, so never focused, until the screen sets `asking`; enter answers with an Answered message for the
screen to check and act on, and setting `asking` back to "" (enter, or esc on the screen) hides it.
"""

from __future__ import annotations

from textual.message import Message
from textual.reactive import var
from textual.widgets import Input


class AskLine(Input):
    class Answered(Message):
        def __init__(self, what: str, value: str) -> None:
            super().__init__()
            self.what, self.value = what, value  # what was asked ("unit" or "regex"), the answer stripped

    # what the open line asks for: "unit" or "regex"; "" hides it. A var: showing the line and moving the
    # focus is the watcher's job, there is nothing to repaint. init=False: hidden from the start
    # (display is set in __init__), and no watcher before the line is mounted
    asking: var[str] = var("", init=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.display = False

    def watch_asking(self, what: str) -> None:
        self.display = bool(what)
        if what:
            self.focus()
        else:
            self.screen.set_focus(None)  # the keys go back to the screen's bindings

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        what, self.asking = self.asking, ""
        self.post_message(self.Answered(what, event.value.strip()))
