"""Form helpers shared by the screens that read Input fields."""
from __future__ import annotations

from typing import Iterable

from textual.screen import Screen
from textual.widgets import Input


def all_valid(screen: Screen, ids: Iterable[str]) -> bool:
    """Validate the inputs in order; focus the first refused one and say why. True when all pass."""
    for key in ids:
        field = screen.query_one(f"#{key}", Input)
        result = field.validate(field.value)
        if result is not None and not result.is_valid:
            field.focus()
            screen.notify(result.failure_descriptions[0], severity="error")
            return False
    return True
