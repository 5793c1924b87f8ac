"""The shared units: bits per char, durations, the visible-character map, unknown characters."""
import math

import pytest
from rich.cells import cell_len

from rnntui.core.units import WIDE, bits_per_char, format_duration, unknown_chars, visible_char


def test_bits_per_char():
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert bits_per_char(math.log(256)) == pytest.approx(8.0)


@pytest.mark.parametrize("seconds,shown", [(0, "0:00"), (59.9, "0:59"), (61, "1:01"), (3599, "59:59"),
                                            (3600, "1:00:00"), (90061, "25:01:01")])
def test_format_duration(seconds, shown):
    assert format_duration(seconds) == shown


def test_format_duration_unknown():
    assert format_duration(None) == format_duration(math.inf) == format_duration(math.nan) == "–"
    assert format_duration(None, missing="--:--") == "--:--"


def test_visible_char_one_map():
    assert visible_char("\n") == ("⏎", True) and visible_char("\t") == ("→", True)
    assert visible_char(" ") == ("·", True) and visible_char("\x01") == ("␁", True)
    assert visible_char("a") == ("a", False) and visible_char("é") == ("é", False)
    assert visible_char("中") == (WIDE, True) and visible_char("\u0301") == (WIDE, True)  # wide, combining


def test_visible_glyphs_take_one_cell():
    for ch in "\n\t \r\x00\x1f\x7f a~é€中\u0301\u200b😀":
        glyph, _ = visible_char(ch)
        assert cell_len(glyph) == 1, repr(ch)


def test_unknown_chars():
    assert unknown_chars("abc", "abZcZé") == "Zé"  # distinct, in order of first appearance
    assert unknown_chars({"a": 0, "b": 1}, "abba") == ""
