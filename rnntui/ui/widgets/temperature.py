"""A keyboard slider for the sampling temperature, 0.1 to 2.0: left/right step 0.1, home/end jump."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

LOW, HIGH, STEP = 0.1, 2.0, 0.1


class TemperatureSlider(Widget, can_focus=True):
    BINDINGS = [
        Binding("left,minus", "nudge(-1)", "colder", show=False),
        Binding("right,plus,equals_sign", "nudge(1)", "hotter", show=False),
        Binding("home", "set(0.1)", show=False),
        Binding("end", "set(2.0)", show=False),
    ]

    value: reactive[float] = reactive(1.0)

    class Changed(Message):
        def __init__(self, slider: TemperatureSlider, value: float) -> None:
            super().__init__()
            self.slider, self.value = slider, value

    def __init__(self, value: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.set_reactive(TemperatureSlider.value, value)

    def validate_value(self, value: float) -> float:
        return round(min(HIGH, max(LOW, value)), 2)

    def watch_value(self, value: float) -> None:
        self.post_message(self.Changed(self, value))

    def action_nudge(self, direction: int) -> None:
        self.value += direction * STEP

    def action_set(self, value: float) -> None:
        self.value = value

    def render(self) -> Text:
        width = max(4, self.content_size.width - 12)
        filled = round((self.value - LOW) / (HIGH - LOW) * width)
        bar = Text("━" * filled, style="bold") + Text("●", style="bold") + Text("─" * (width - filled), style="dim")
        return Text(f"T {self.value:4.2f}  ") + bar + Text("  ◂▸")
