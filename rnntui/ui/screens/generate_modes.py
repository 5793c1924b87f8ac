"""What each way of generating says about itself: the title of the pane it fills and the settings saved with
its text (sampling at one temperature or three side by side, beam search, step mode), and what a beam
search's pane shows while it runs. Pure: the Generate screen (generate.py) puts them in its panes.
"""

from __future__ import annotations

from rich.text import Text

from rnntui.core.generate.settings import GenerationSettings

SIDE_BY_SIDE = (0.5, 1.0, 1.5)  # the temperatures of the three panes side by side (ctrl+o)

Header = tuple[str, dict[str, object]]  # (pane title, settings saved with the text)


def temperatures(s: GenerationSettings, side_by_side: bool) -> tuple[float, ...]:
    """One pane per temperature: the three of SIDE_BY_SIDE, or the one chosen (argmax: one pane)."""
    return SIDE_BY_SIDE if side_by_side and not s.argmax else (s.temperature,)


def sample_header(s: GenerationSettings, t: float) -> Header:
    """A sampled pane at temperature t (or the argmax pane)."""
    mode = "argmax" if s.argmax else f"T {t:.2f}" + (f" · top-k {s.top_k}" if s.top_k else "")
    saved: dict[str, object] = dict(
        mode="argmax" if s.argmax else "sample", temperature=t, top_k=s.top_k, seed=s.seed, length=s.length
    )
    return f"{mode} · seed {s.seed}", saved


def beam_header(s: GenerationSettings) -> Header:
    saved = dict(
        mode="beam", width=s.beam_width, length=s.length, length_norm=s.length_norm, ends_at_newline=s.beam_stop == "\n"
    )
    return f"beam search · width {s.beam_width}" + (" · per char" if s.length_norm else ""), saved


def step_header(s: GenerationSettings) -> Header:
    return f"step mode · seed {s.seed}", dict(mode="step", temperature=s.temperature, top_k=s.top_k, seed=s.seed)


def searching(width: int, done: int = 0, total: int = 0) -> Text:
    """What a beam search's pane shows until its beams come back."""
    count = f" {done:,} of {total:,} characters" if total else ""
    return Text(f"searching {width} beams…{count}", style="dim italic")
