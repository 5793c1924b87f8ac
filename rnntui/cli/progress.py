"""What `rnntui train` prints: a Rich progress bar with loss, chars/s and ETA, samples as they come, and a
closing summary of losses and checkpoint paths.

Text from outside (the run name, notices quoting paths, samples) is printed as Text, never as markup, and
through textsafe.visible: a control character in it is shown, not obeyed."""
from __future__ import annotations

import math
import sys

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from rnntui.core import events as ev
from rnntui.core.textsafe import visible
from rnntui.core.units import bits_per_char, format_duration


class TrainProgress:
    """Consumes engine events; a context manager around a live progress bar on stderr."""

    def __init__(self, show_samples: bool = True, quiet: bool = False):
        self.console = Console(stderr=True)
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.show_samples = show_samples
        self.quiet = quiet  # print nothing (ranks other than 0 of a distributed run): only track the outcome
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"),
            console=self.console, transient=False,
        )
        self.task: TaskID | None = None
        self.load_task: TaskID | None = None  # shown while a large corpus is read for the first time
        self.exit_code = 0
        self.reason = ""  # the RunFinished reason once the run ended
        self.last_val: float | None = None
        self.latest_path: str | None = None  # latest.pt once the run ended, if one was written

    def __enter__(self) -> "TrainProgress":
        if not self.quiet:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.quiet:
            self.progress.stop()

    def update(self, e: ev.Event) -> None:
        p = self.progress
        if self.quiet:
            if isinstance(e, ev.RunFinished):
                self.reason, self.exit_code = e.reason, 1 if e.reason == "diverged" else 0
            return
        if isinstance(e, ev.Loading):
            if self.load_task is None:
                self.load_task = p.add_task("load", total=1.0, completed=0, info="reading the corpus", eta="")
            p.update(self.load_task, completed=e.done / max(e.total, 1),
                     info=f"reading the corpus: {e.done / 2**20:,.0f} of {e.total / 2**20:,.0f} MB")
        elif isinstance(e, ev.RunStarted):
            if self.load_task is not None:
                p.remove_task(self.load_task)
            if e.notice:
                self.console.print(Text.assemble(("note: ", "yellow"), visible(e.notice)), highlight=False)
            c = e.config
            m = c.model
            self.console.print(Text.assemble(
                (visible(c.run_name), "bold"), f": {m.kind} {m.layers}x{m.hidden} (embed {m.embed}), "
                f"{e.n_params:,} parameters on {e.device}{' (bf16 autocast)' if c.bf16 else ''}; "
                f"{e.train_chars:,} train / {e.val_chars:,} val chars, "
                f"vocab {len(e.vocab)}, {e.steps_per_epoch:,} step{'' if e.steps_per_epoch == 1 else 's'} per epoch"
                + (f"; resuming from step {e.start_step}" if e.start_step else "")), highlight=False)
            self.task = p.add_task("train", total=1.0, completed=0, info="starting", eta="--:--")
        elif isinstance(e, ev.StepMetrics) and self.task is not None:
            val = f"  val {self.last_val:.3f}" if self.last_val is not None else ""
            info = (f"step {e.step}  ep {e.epoch:.2f}  loss {e.loss:.3f}{val}  "
                    f"{e.chars_per_s / 1000:.1f}k chars/s")
            p.update(self.task, completed=e.progress, info=info, eta=format_duration(e.eta_s, missing="--:--"))
        elif isinstance(e, ev.Validating) and self.task is not None:
            p.update(self.task, info=f"step {e.step}  validating {e.done}/{e.total} windows")
        elif isinstance(e, ev.EvalMetrics):
            self.last_val = e.val_loss
        elif isinstance(e, ev.Sample) and self.show_samples:
            p.console.print(f"[dim]--- sample at step {e.step} (temperature {e.temperature}) ---[/]")
            p.console.print(visible(e.text, multiline=True), markup=False, highlight=False)
        elif isinstance(e, ev.RunFinished):
            self._finish(e)

    def _finish(self, e: ev.RunFinished) -> None:
        self.reason, self.latest_path = e.reason, e.latest_path
        if self.task is not None and e.reason == "completed":
            self.progress.update(self.task, completed=1.0)
        self.progress.stop()
        lines = [f"{e.reason}: {visible(e.message)} ({e.elapsed_s:.1f} s)"]
        if e.train_loss is not None:
            lines.append(f"train loss {e.train_loss:.4f} nats/char ({bits_per_char(e.train_loss):.4f} bits/char)")
        if e.val_loss is not None:
            lines.append(f"val loss   {e.val_loss:.4f} nats/char ({bits_per_char(e.val_loss):.4f} bits/char), "
                         f"perplexity {math.exp(e.val_loss):.2f}")
        if e.best_val_loss is not None:
            lines.append(f"best val   {e.best_val_loss:.4f} nats/char")
        if e.latest_path:
            lines.append(f"latest checkpoint: {visible(e.latest_path)}")
        if e.best_path:
            lines.append(f"best checkpoint:   {visible(e.best_path)}")
        print("\n".join(lines), flush=True)
        if e.reason == "diverged":
            print(f"rnntui: error: {visible(e.message)}", file=sys.stderr)
            self.exit_code = 1
