"""Form helpers shared by the screens that read Input fields: validators built from the config's limits
(rnntui.core.config.LIMITS, the same table config.validate() reads), and a check of a whole form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from textual.screen import Screen
from textual.validation import ValidationResult, Validator
from textual.widgets import Input

from rnntui.core.config import LIMITS


class WithinLimits(Validator):
    """Accepts the text of a number that config.validate() would accept for the setting `name`.

    The failure reads "LABEL: a whole number 1-8192" (", or empty" when the field may be left empty).
    """

    def __init__(self, name: str, label: str, optional: bool = False) -> None:
        self.limit = LIMITS[name]
        reason = f"{label}: {self.limit.phrase()}" + (", or empty" if optional else "")
        super().__init__(failure_description=reason)
        self.optional = optional  # empty text is allowed (the setting is then None)

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.success() if self.optional else self.failure()
        try:
            number = int(text) if self.limit.integer else float(text)
        except ValueError:
            return self.failure()
        return self.success() if self.limit.allows(number) else self.failure()


def limit_field(
    name: str, label: str, optional: bool = False, said: str | None = None
) -> tuple[str, list[Validator], Literal["integer", "number"]]:
    """(label, validators, Input type) for a numeric setting of ModelConfig or TrainConfig.

    said: how the failure message names the field, when the label reads badly alone ("or minutes").
    """
    kind: Literal["integer", "number"] = "integer" if LIMITS[name].integer else "number"
    return label, [WithinLimits(name, said or label, optional)], kind


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
