"""The inspector's input line, for a unit number (u) or a regular expression (/).

Hidden, so never focused, until the screen calls ask(); enter checks the answer (a unit the model has, a
regular expression that compiles: a refused one is a notification and nothing else) and answers with an
Answered message for the screen to act on. Setting `asking` back to "" (enter, or esc on the screen)
hides it.
"""

from __future__ import annotations

import re

from textual.message import Message
from textual.reactive import var
from textual.widgets import Input


class AskLine(Input):
    class Answered(Message):
        def __init__(self, what: str, value: str) -> None:
            super().__init__()
            self.what, self.value = what, value  # what was asked ("unit" or "regex"), the answer stripped
            #                                      (a unit's: a number below the model's units)

    # what the open line asks for: "unit" or "regex"; "" hides it. A var: showing the line and moving the
    # focus is the watcher's job, there is nothing to repaint. init=False: hidden from the start
    # (display is set in __init__), and no watcher before the line is mounted
    asking: var[str] = var("", init=False)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.display = False
        self.units = 0  # hidden units of the inspected model: a unit's answer must be below this

    def ask(self, what: str, units: int, pattern: str) -> None:
        """Open the line for a unit number of `units` or a regular expression (starting at `pattern`)."""
        self.units = units
        self.placeholder = (
            f"unit number 0-{units - 1}, enter" if what == "unit" else "regular expression, enter (e.g. [0-9]+)"
        )
        self.value = pattern if what == "regex" else ""
        self.asking = what  # shows the line and focuses it

    def watch_asking(self, what: str) -> None:
        self.display = bool(what)
        if what:
            self.focus()
        else:
            self.screen.set_focus(None)  # the keys go back to the screen's bindings

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        what, self.asking = self.asking, ""
        value = event.value.strip()
        if what == "unit" and (not value.isdigit() or int(value) >= self.units):
            self.notify(f"no unit {value!r}: 0-{self.units - 1}", severity="warning")
            return
        if what == "regex" and value:
            try:
                re.compile(value)
            except re.error as e:
                self.notify(f"bad regular expression: {e}", severity="error")
                return
        self.post_message(self.Answered(what, value))
