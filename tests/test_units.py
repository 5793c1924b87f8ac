"""The shared units: bits per char, durations, unknown characters (the visible-character map: test_output_safety.py)."""

import math

import pytest

from rnntui.core.units import bits_per_char, format_duration, unknown_chars


def test_bits_per_char():
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert bits_per_char(math.log(256)) == pytest.approx(8.0)


@pytest.mark.parametrize(
    "seconds,shown",
    [(0, "0:00"), (59.9, "0:59"), (61, "1:01"), (3599, "59:59"), (3600, "1:00:00"), (90061, "25:01:01")],
)
def test_format_duration(seconds, shown):
    assert format_duration(seconds) == shown


def test_format_duration_unknown():
    assert format_duration(None) == format_duration(math.inf) == format_duration(math.nan) == "–"
    assert format_duration(None, missing="--:--") == "--:--"


def test_unknown_chars():
    assert unknown_chars("abc", "abZcZé") == "Zé"  # distinct, in order of first appearance
    assert unknown_chars({"a": 0, "b": 1}, "abba") == ""
