"""The pure Rich renderables, rendered to a recording console and checked for their content."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment

from rnntui.core.analysis.horizon import horizons
from rnntui.ui.renderables import GradFlow, Heatmap, HLine, LineChart, LossChart, NormChart, Series, colored_text
from rnntui.ui.renderables.colors import DEFAULT_RAMP, NAN_LEVEL, level_rgb, quantize
from rnntui.ui.renderables.traincharts import CLIP_STYLE, ema


def console(width: int, height: int) -> Console:
    return Console(record=True, width=width, height=height, color_system="truecolor", file=io.StringIO())


def render_text(renderable, width: int = 60, height: int = 15) -> str:
    c = console(width, height)
    c.print(renderable, height=height)
    return c.export_text()


def render_lines(renderable, width: int = 60, height: int = 15) -> list[list[Segment]]:
    c = console(width, height)
    return c.render_lines(renderable, c.options.update(height=height), pad=False)


def assert_size(text: str, width: int, height: int) -> None:
    lines = text.rstrip("\n").split("\n")
    assert len(lines) == height
    assert all(cell_len(line) == width for line in lines), [cell_len(line) for line in lines]


def tick_labels(text: str) -> list[float]:
    """The left axis labels: whatever precedes "┤" on each plot row."""
    return [float(line.split("┤")[0]) for line in text.split("\n") if "┤" in line]


# -----------------------------------------------------------------------------
# line charts


def test_loss_chart_legend_shows_latest_values_in_nats_and_bpc():
    steps = np.arange(200)
    text = render_text(LossChart(steps, np.linspace(3.0, 1.5, 200), [50, 100, 199], [2.5, 2.0, 1.5]))
    assert "train 1.50" in text
    assert "val 1.50 (2.16 bpc)" in text  # 1.5 / ln 2 = 2.164
    assert "nats" in text and "bpc" in text
    ema_value = float(text.split("ema ")[1].split(")")[0])
    assert 1.5 < ema_value < 1.7  # the smoothed curve lags behind a falling loss


def test_right_axis_is_bits_per_char_of_the_left_ticks():
    text = render_text(LossChart(np.arange(100), np.linspace(4.0, 1.0, 100), [], []), width=70, height=14)
    rows = [line for line in text.split("\n") if "┤" in line]
    assert len(rows) >= 3
    for line in rows:
        nats, bits = float(line.split("┤")[0]), float(line.split()[-1])
        assert bits == pytest.approx(nats / math.log(2), abs=0.006)


def test_y_range_follows_the_data():
    x = np.arange(500)
    labels = tick_labels(render_text(LineChart([Series(x, 150 + 50 * np.sin(x / 30), "red", "s")])))
    assert len(labels) >= 3
    assert min(labels) >= 90 and max(labels) <= 210  # not anchored at zero
    labels = tick_labels(render_text(LineChart([Series(x, 1e-3 + 1e-4 * np.cos(x / 9), "red", "s")])))
    assert len(labels) >= 2 and all(0.0008 <= v <= 0.0012 for v in labels)


def test_log_scale_labels_are_powers_of_ten_and_nonpositive_values_are_skipped():
    x = np.arange(1000)
    y = 10.0 ** np.linspace(-3, 1, 1000)
    y[::7] = 0.0  # skipped on a log axis, never a log of zero
    y[::11] = -1.0
    labels = tick_labels(render_text(LineChart([Series(x, y, "blue", "norm")], log_y=True), height=12))
    assert len(labels) >= 3
    assert all(float(np.log10(v)).is_integer() for v in labels)
    assert labels == sorted(labels, reverse=True)
    assert min(labels) <= 0.01 and max(labels) >= 1


def test_validation_points_are_drawn_as_markers():
    steps = np.arange(1000)
    val_steps = np.array([0, 250, 500, 750, 999])
    text = render_text(LossChart(steps, np.linspace(3, 1.5, 1000), val_steps, np.linspace(3, 1.6, 5)), width=80)
    plot_rows = [line for line in text.split("\n") if "│" in line or "┤" in line]
    assert sum(line.count("●") for line in plot_rows) == 5


def test_hundred_thousand_points_fill_exactly_the_given_size():
    rng = np.random.default_rng(0)
    x = np.arange(100_000)
    y = 1.5 + np.exp(-x / 8000) + 0.1 * rng.standard_normal(len(x))
    chart = LossChart(x, y, x[::5000], y[::5000])
    for width, height in ((60, 15), (120, 40), (33, 7)):
        assert_size(render_text(chart, width, height), width, height)
    text = render_text(chart, 60, 15)
    assert "100k" in text  # the last step on the x axis, compact


def test_empty_and_degenerate_inputs_do_not_crash():
    empty = np.array([])
    for chart in (
        LossChart(empty, empty, empty, empty),
        NormChart(empty, empty, clip=1.0),
        LineChart([Series(np.arange(5), np.full(5, np.nan), "red", "nan")]),
        LineChart([]),
    ):
        text = render_text(chart, 50, 8)
        assert "waiting for data" in text
        assert_size(text, 50, 8)
    for chart in (  # one point, a constant, and a tiny height: drawn, still the exact size
        LossChart([7], [2.0], [], []),
        LineChart([Series(np.arange(50), np.full(50, 3.0), "red", "flat")]),
        LineChart([Series(np.arange(50), np.arange(50.0), "red", "s")], height=2),
    ):
        text = render_text(chart, 40, chart.height)
        assert_size(text, 40, chart.height)
        assert "waiting" not in text


def test_norm_chart_marks_the_clip_threshold_and_the_clipped_share():
    steps = np.arange(400)
    norms = np.where(steps % 2 == 0, 0.3, 3.0)
    chart = NormChart(steps, norms, clip=1.0, height=10)
    text = render_text(chart, 80, 10)
    assert "clip 1.0 · 50% clipped" in text  # short enough not to be cut at a panel's width
    clip_color = chart.hlines[0].style
    assert clip_color == CLIP_STYLE
    rows_with_clip = [
        line
        for line in render_lines(chart, 80, 10)[1:-1]
        if any(s.style is not None and s.style.color is not None and s.style.color.name == CLIP_STYLE for s in line)
    ]
    assert len(rows_with_clip) == 1  # one dashed line, at the threshold's own row


def test_hlines_extend_the_y_range():
    chart = LineChart([Series(np.arange(10), np.full(10, 1.0), "red", "s")], hlines=[HLine(5.0, "blue", "five")])
    labels = tick_labels(render_text(chart, 60, 12))
    assert max(labels) >= 5


def test_ema_matches_tensorboard_debiased_smoothing():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(3000) + 2
    y[[5, 100, 2000]] = np.nan
    for w in (0.0, 0.01, 0.5, 0.9, 0.999):  # chunk lengths from 100 to 1024, and no smoothing
        last, n, ref = 0.0, 0, []
        for v in y:
            if not np.isfinite(v):
                ref.append(np.nan)
                continue
            last, n = last * w + (1 - w) * v, n + 1
            ref.append(last / (1 - w**n) if w else v)
        np.testing.assert_allclose(ema(y, w), ref, rtol=1e-9, atol=1e-12)


# -----------------------------------------------------------------------------
# gradient flow


def test_gradflow_verdict_states_the_horizon_and_threshold():
    T = 64
    back = np.arange(T)[::-1]  # steps back from t at each index
    decaying = 0.5**back  # (T,) halves with every step back: below 1e-6 at 20 steps back
    text = render_text(GradFlow(np.ones((1, T)), decaying[None], height=10), 120, 10)
    assert "layer 1: gradient stays above 1e-6 of its value at t for 19 steps (memory horizon 19, vanishing)" in text
    text = render_text(GradFlow(np.ones((2, T)), np.full((2, T), 0.3), height=14), 120, 14)
    assert "layer 1: " in text and "at least 63 steps" in text and "vanishing" not in text
    assert "layer 2: horizon at least 63 steps (healthy)" in text  # the other layer: a one-line summary
    text = render_text(GradFlow(np.ones((1, T)), (1.5**back)[None], height=10), 120, 10)
    assert "exploding" in text
    # narrow: a shorter wording that keeps the number and the verdict
    text = render_text(GradFlow(np.ones((1, T)), decaying[None], height=10), 50, 10)
    assert "layer 1: horizon 19 steps (vanishing)" in text


def test_gradflow_uses_the_given_smoothed_horizons():
    T = 32
    g = np.full((1, T), 0.3)
    smoothed = horizons((0.5 ** np.arange(T)[::-1])[None])
    text = render_text(GradFlow(np.ones((1, T)), g, height=8, horizons=smoothed), 120, 8)
    assert "for 19 steps" in text and "at least" not in text


def test_gradflow_bars_use_eighths_so_adjacent_decades_differ():
    g = np.array([[1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e0, 1e0]])  # one decade per step
    lines = render_text(GradFlow(np.ones_like(g), g, height=8), 40, 8).split("\n")
    plot = [line.split("┤" if "┤" in line else "│", 1)[1] for line in lines[1:] if "┤" in line or "│" in line]
    # per timestep (5 columns each at 40 - labels wide), the column's total height in eighths
    heights = []
    for col in range(len(plot[0])):
        blocks = " ▁▂▃▄▅▆▇█"
        heights.append(sum(blocks.index(row[col]) if row[col] in blocks else 0 for row in plot))
    runs = [h for i, h in enumerate(heights) if i == 0 or h != heights[i - 1]]  # one entry per bar
    assert len(runs) == 6 and runs == sorted(runs)  # each decade taller than the last: 6 distinct heights
    assert "1e-2" in text_of_rows(lines) and "1e-4" in text_of_rows(lines)  # decades labelled


def text_of_rows(lines: list[str]) -> str:
    return "\n".join(lines)


def test_gradflow_total_has_its_own_strip_and_the_layer_key_shows():
    T = 16
    last = np.stack([np.full(T, 1e-2), np.full(T, 1e-1)])
    total = np.stack([np.linspace(1e-6, 1.0, T), np.ones(T)])
    text = render_text(GradFlow(total, last, height=10, layer=1), 90, 10)
    lines = text.split("\n")
    assert lines[0].startswith("layer 2:")  # the selected layer is the large one
    strip = next(line for line in lines if line.lstrip().startswith("tot"))
    assert "▁" in strip  # a flat total sits on its own scale, not over the bars
    assert "layer 1: horizon" in text  # the other layer summarised on one line
    assert "v layer 2/2" in text  # how to switch layer, in the panel itself
    assert "•" not in text


def test_gradflow_rightmost_column_is_the_last_step():
    T, width = 16, 60
    grad_last = np.full(T, 1e-4)
    grad_last[-1] = 1.0  # only the last timestep is large
    text = render_text(GradFlow(np.full((1, T), 1e-4), grad_last[None], height=8), width, 8)
    lines = text.split("\n")
    plot = [line for line in lines if "│" in line or "┤" in line]
    top = plot[0].split("┤" if "┤" in plot[0] else "│", 1)[1]
    assert top.rstrip() and top.rstrip() == top  # the tall bar reaches the right edge
    assert top.strip() and top.index(top.strip()[0]) > len(top) // 2  # and only on the right
    axis = next(line for line in lines if "t-15" in line)
    assert axis.rstrip().endswith("t") and axis.index("t-15") < axis.rindex("t")


def test_gradflow_downsamples_long_windows_keeping_spikes():
    T = 500
    grad_last = np.full(T, 1e-3)
    grad_last[250] = 10.0
    text = render_text(GradFlow(np.ones((1, T)), grad_last[None], height=8), 60, 8)
    assert_size(text, 60, 8)
    top = [line for line in text.split("\n") if "│" in line or "┤" in line][0]
    assert "█" in top  # the spike survives the max per column
    assert "t-499" in text


def test_gradflow_handles_zeros_nan_and_layer_selection():
    g = np.array([[0.0, np.nan, 1e-3, 1e-2], [np.inf, 0.0, 1e-2, 1e-1]])
    text = render_text(GradFlow(g, g, height=12), 60, 12)
    assert_size(text, 60, 12)
    text = render_text(GradFlow(g, g, height=8, layer=1), 60, 8)
    assert text.startswith("layer 2") and "layer 1: horizon" in text
    assert_size(render_text(GradFlow(g, g, height=4, layer=1), 60, 4), 60, 4)  # tiny: still exact
    text = render_text(GradFlow(np.zeros((2, 8)), np.zeros((2, 8))), 60, 8)
    assert "all gradients are zero" in text
    assert "waiting" in render_text(GradFlow(np.zeros((2, 0)), np.zeros((2, 0))), 60, 8)


# -----------------------------------------------------------------------------
# heatmap and coloured text


def test_heatmap_shows_the_text_with_visible_control_characters():
    text = "hi there\n\tx"
    values = np.zeros((4, len(text)))
    out = render_text(Heatmap(values, text), 60, 8)
    assert "hi·there⏎→x" in out
    assert "u0" in out and "u3" in out
    out = render_text(Heatmap(values, text, row_labels=["a", "b", "c", "d"]), 60, 8)
    assert any(line.startswith("d ") for line in out.split("\n")) and "u3" not in out


def test_heatmap_footer_reports_hidden_units_and_chars():
    values = np.zeros((50, 200))
    out = render_text(Heatmap(values, "x" * 200), 100, 12)
    assert "units 0-9 of 50 (PgUp/PgDn)" in out  # 12 lines: text row, 10 units, footer
    assert "chars 0-96 of 200" in out  # 100 columns less the "u9 " labels
    assert_size(out, 100, 12)
    out = render_text(Heatmap(values, "x" * 200, row_offset=48, col_offset=1000, max_rows=4), 100, 30)
    assert "units 46-49 of 50" in out and "chars 104-199 of 200" in out  # offsets clamped to the end
    out = render_text(Heatmap(np.zeros((3, 20)), "y" * 20), 60, 10)
    assert "units 0-2 of 3" in out and "PgUp" not in out and "chars 0-19 of 20" in out


def test_heatmap_cursor_column_is_highlighted_and_kept_in_view():
    text = "abcdefghij" * 20
    values = np.zeros((5, len(text)))
    lines = render_lines(Heatmap(values, text, cursor=3), 60, 8)
    row = lines[1]  # the first unit row: label, then cells
    cells = "".join(s.text for s in row)
    col = cells.index("│")
    assert col == len("u0 ") + 3
    styled = [s for s in row if s.text == "│"][0].style
    assert styled.color is not None and styled.bgcolor is not None  # a contrasting bar on the cell's colour
    assert all(s.style.color is None for s in row[1:] if s.text.strip() == "")
    text_row = lines[0]
    assert [s.text for s in text_row if s.style and s.style.reverse] == ["d"]
    out = render_text(Heatmap(values, text, cursor=150), 60, 8)  # beyond the first window: scrolled to it
    lo, hi = (int(v) for v in out.split("chars ")[1].split(" of")[0].split("-"))
    assert lo <= 150 <= hi


def test_heatmap_colours_of_minus_one_zero_and_plus_one_differ():
    values = np.array([[-1.0, -1.0, 0.0, 0.0, 1.0, 1.0, np.nan]])
    row = render_lines(Heatmap(values, "abcdefg"), 40, 4)[1]
    colours = [s.style.bgcolor for s in row[1:] if s.style is not None and s.style.bgcolor is not None]
    assert len(colours) == 3 and len({c.get_truecolor() for c in colours}) == 3
    neg, mid, pos = (c.get_truecolor() for c in colours)
    assert neg.blue > neg.red and pos.red > pos.blue  # blue for negative, red for positive
    assert sum(mid) < sum(neg) and sum(mid) < sum(pos)  # a dark middle
    assert "-1" in render_text(Heatmap(values, "abcdefg"), 60, 4) and "+1" in render_text(Heatmap(values, "ab"), 60, 4)


def test_heatmap_empty_and_exact_size():
    assert "no hidden states" in render_text(Heatmap(np.zeros((0, 0)), ""), 40, 5)
    rng = np.random.default_rng(0)
    out = render_text(Heatmap(np.tanh(rng.standard_normal((256, 96))), "z" * 96), 60, 15)
    assert_size(out, 60, 15)


def test_colored_text_keeps_the_text_and_colours_each_character():
    text = "ab\ncd"
    acts = np.array([-1.0, 1.0, 0.0, 1.0, np.nan])
    t = colored_text(text, acts, cursor=0)
    assert t.plain == text
    bg = {}
    for span in t.spans:
        for i in range(span.start, span.end):
            if span.style.bgcolor is not None:
                bg[i] = span.style.bgcolor.get_truecolor()
    assert bg[0] != bg[1] and bg[1] == bg[3] and 4 not in bg  # NaN: uncoloured
    assert any(span.style.reverse and span.start == 0 for span in t.spans)
    assert all(span.end <= 1 for span in colored_text("abc", np.array([0.5])).spans)  # rest uncoloured
    out = render_text(t, 40, 2)
    assert out.split("\n")[:2] == ["ab", "cd"]


def test_quantize_is_monotonic_and_maps_nan_apart():
    lv = quantize(np.array([-5.0, -1.0, -0.5, 0.0, 0.5, 1.0, 5.0, np.nan]))
    assert list(lv[:7]) == sorted(lv[:7]) and lv[0] == lv[1] == 0 and lv[5] == lv[6] == 20 and lv[3] == 10
    assert lv[7] == NAN_LEVEL
    colours = {level_rgb(0), level_rgb(10), level_rgb(20)}
    assert len(colours) == 3  # all three differ (a chained != never compared level 0 with level 20)


def test_heatmap_half_blocks_show_two_units_per_row():
    values = np.zeros((40, 30))
    values[1] = 1.0  # unit 1: the lower half of the first row
    out = render_text(Heatmap(values, "x" * 30, half=True, row_labels=[str(u) for u in range(40)]), 90, 12)
    assert "0,1" in out and "2,3" in out  # each row names its two units
    assert "units 0-19 of 40 (PgUp/PgDn)" in out  # 12 lines: text, 10 rows of two units, footer
    assert_size(out, 90, 12)
    row = render_lines(Heatmap(values, "x" * 30, half=True), 60, 12)[1]
    cell = [s for s in row if "▀" in s.text][0]
    assert cell.style.color.get_truecolor() != cell.style.bgcolor.get_truecolor()  # unit 0 over unit 1
    assert tuple(cell.style.bgcolor.get_truecolor()) == level_rgb(20)


def test_heatmap_paging_by_units_shown_never_skips_a_unit():
    values = np.zeros((60, 200))
    for half in (False, True):
        seen, offset = [], 0
        for _ in range(20):
            hm = Heatmap(values, "x" * 200, row_offset=offset, half=half, order="variance")
            r0, units, *_ = hm.window(40, 10)  # narrow: the footer takes two lines
            out = render_text(hm, 40, 10)
            assert f"#{r0 + 1}-{r0 + units} of 60" in out
            seen.extend(range(r0, r0 + units))
            if r0 + units >= 60:
                break
            offset = r0 + units
        assert sorted(set(seen)) == list(range(60))  # every unit shown (the last page may overlap)


def test_heatmap_ramp_comes_from_the_caller_and_legend_is_short():
    light = ((0, 90, 200), (245, 245, 245), (200, 30, 30))  # a light theme's ramp: zero is near-white
    values = np.array([[0.0, 0.0]])
    row = render_lines(Heatmap(values, "ab", ramp=light), 40, 4)[1]
    bg = [s.style.bgcolor.get_truecolor() for s in row if s.style is not None and s.style.bgcolor is not None]
    assert tuple(bg[0]) == (245, 245, 245)
    assert level_rgb(10, ramp=DEFAULT_RAMP) != level_rgb(10, ramp=light)
    out = render_text(Heatmap(values, "ab", vmin=-4.21087, vmax=4.21087), 80, 4)
    assert "-4.21" in out and "+4.21" in out and "4.2108" not in out


def test_a_single_loss_point_gets_readable_ticks():
    # the EMA of one point differs from it by a rounding error: the axis must not zoom into that
    text = render_text(LossChart(np.array([10]), np.array([3.6889003753662108]), np.zeros(0), np.zeros(0)), 70, 12)
    labels = tick_labels(text)
    assert labels and all(len(f"{v:g}") <= 4 for v in labels), labels


def test_confidence_puts_nan_in_the_middle_band_and_leaves_it_out_of_the_cost():
    from rnntui.ui.renderables.confidence import band, bits_per_char

    assert [band(p) for p in (0.05, math.nan, np.float32("nan"), 0.95)] == [0, 2, 2, 4]
    assert bits_per_char([0.5, math.nan, 0.0, 0.25]) == 1.5  # -mean(log2 .5, log2 .25); NaN and 0 skipped
    assert bits_per_char([math.nan]) is None
