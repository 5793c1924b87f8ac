"""Thread-worker body of the Inspect screen's model run, and the messages the inspector's workers post.

The model runs over the text once (rnntui.core.analysis.inspect, torch) in a thread worker; progress comes
back at most every PROGRESS_S, and the finished Inspection (numpy arrays only) as one message. The
vs-n-gram comparison (widgets/inspect/gain.py: compute_text_gain) comes back as GainLoaded; the influence
workers are in influence.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from textual.message import Message

from rnntui.core.config import RnntuiError

PROGRESS_S = 0.1  # at most ten progress updates a second from the worker


class InspectProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done, self.total = done, total  # model steps run so far, of all


class InspectLoaded(Message):
    def __init__(self, inspection) -> None:
        super().__init__()
        self.inspection = inspection  # rnntui.core.analysis.inspect.Inspection (numpy arrays only)


class GainLoaded(Message):
    def __init__(self, gain) -> None:
        super().__init__()
        self.gain = gain  # rnntui.core.analysis.ngram.gain.TextGain (numpy arrays and floats)


def run_inspection(post: Callable[[Message], object], source, text: str | None, stop: threading.Event) -> None:
    """Run the model over the text (None: a slice of the checkpoint corpus's validation split) and post the
    Inspection; `source` is a checkpoint dict or WeightsSnapshot (None: no weights yet, an error)."""
    from rnntui.core.analysis.inspect import inspect_checkpoint  # imports torch: only ever in this thread

    last = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_S:
            last = time.monotonic()
            post(InspectProgress(done, total))

    if source is None:
        raise RnntuiError("no weights yet: wait for the first training step")
    ins = inspect_checkpoint(source, text, stop=stop, progress=progress)
    if ins is not None:
        post(InspectLoaded(ins))
