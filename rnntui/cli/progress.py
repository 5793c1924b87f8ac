"""What `rnntui train` prints: a Rich progress bar with loss, chars/s, MFU and ETA, samples as they come,
and a closing summary of losses, throughput and checkpoint paths.

MFU (core/model/flops.py) is the achieved matmul FLOP/s as a share of the device's measured peak
(core/model/peak.py); the engine reads or measures the peak before the first step and sends it as a
Throughput event.

Text from outside (the run name, notices quoting paths, samples) is printed as Text, never as markup, and
through textsafe.visible: a control character in it is shown, not obeyed."""

from __future__ import annotations

import math
import sys

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from rnntui.core import events as ev
from rnntui.core.model.flops import achieved_flops, describe_peak, format_flops, format_share, mfu
from rnntui.core.textsafe import visible
from rnntui.core.units import bits_per_char, format_duration

OTHER_COLUMNS = 38  # what the bar's other columns (name, bar of a few cells, %, elapsed, ETA) leave the info


class TrainProgress:
    """Consumes engine events; a context manager around a live progress bar on stderr."""

    def __init__(self, show_samples: bool = True, quiet: bool = False):
        self.console = Console(stderr=True)
        self.out = Console(file=sys.stdout, highlight=False, soft_wrap=True)
        self.show_samples = show_samples
        self.quiet = quiet  # print nothing (ranks other than 0 of a distributed run): only track the outcome
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            console=self.console,
            transient=False,
        )
        self.task: TaskID | None = None
        self.load_task: TaskID | None = None  # shown while a large corpus is read for the first time
        self.exit_code = 0
        self.reason = ""  # the RunFinished reason once the run ended
        self.last_val: float | None = None
        self.latest_path: str | None = None  # latest.pt once the run ended, if one was written
        # throughput: the engine's FLOPs per char and peak (None: not told yet), processes sharing the chars
        self.throughput: ev.Throughput | None = None
        self.ranks = 1
        self.chars0 = 0  # chars_seen when this invocation started (a resumed run's earlier chars)
        self.last: ev.StepMetrics | None = None  # the latest step metrics, for the closing throughput
        self.val_loss: float | None = None  # the closing validation loss (else the best) once the run ended

    def __enter__(self) -> TrainProgress:
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
            p.update(
                self.load_task,
                completed=e.done / max(e.total, 1),
                info=f"reading the corpus: {e.done / 2**20:,.0f} of {e.total / 2**20:,.0f} MB",
            )
        elif isinstance(e, ev.RunStarted):
            if self.load_task is not None:
                p.remove_task(self.load_task)
            if e.notice:
                self.console.print(Text.assemble(("note: ", "yellow"), visible(e.notice)), highlight=False)
            c = e.config
            m = c.model
            self.console.print(
                Text.assemble(
                    (visible(c.run_name), "bold"),
                    f": {m.kind} {m.layers}x{m.hidden} (embed {m.embed}), "
                    f"{e.n_params:,} parameters on {e.device}{' (bf16 autocast)' if c.bf16 else ''}; "
                    f"{e.train_chars:,} train / {e.val_chars:,} val chars, "
                    f"vocab {len(e.vocab)}, {e.steps_per_epoch:,} step{'' if e.steps_per_epoch == 1 else 's'} per epoch"
                    + (f"; resuming from step {e.start_step}" if e.start_step else ""),
                ),
                highlight=False,
            )
            self.task = p.add_task("train", total=1.0, completed=0, info="starting", eta="--:--")
            self.chars0 = e.chars_seen
        elif isinstance(e, ev.StepMetrics) and self.task is not None:
            self.last = e
            p.update(self.task, completed=e.progress, info=self.info(e), eta=format_duration(e.eta_s, missing="--:--"))
        elif isinstance(e, ev.Validating) and self.task is not None:
            p.update(self.task, info=f"step {e.step}  validating {e.done}/{e.total} windows")
        elif isinstance(e, ev.EvalMetrics):
            self.last_val = e.val_loss
        elif isinstance(e, ev.Sample) and self.show_samples:
            p.console.print(f"[dim]--- sample at step {e.step} (temperature {e.temperature}) ---[/]")
            p.console.print(visible(e.text, multiline=True), markup=False, highlight=False)
        elif isinstance(e, ev.Throughput):
            self.set_throughput(e)
        elif isinstance(e, ev.RunFinished):
            self._finish(e)

    def info(self, e: ev.StepMetrics) -> str:
        """The bar's text: step, epoch, loss, val, chars/s, MFU; at a width where not all fit, the epoch goes
        first, then chars/s, then val, so the line never wraps or ends in an ellipsis."""
        parts = {
            "step": f"step {e.step}",
            "ep": f"ep {e.epoch:.2f}",
            "loss": f"loss {e.loss:.3f}",
            "val": f"val {self.last_val:.3f}" if self.last_val is not None else "",
            "speed": f"{e.chars_per_s / 1000:.1f}k chars/s",
            "mfu": f"MFU {format_share(share)}" if (share := self.mfu(e.chars_per_s)) is not None else "",
        }
        room = self.console.width - OTHER_COLUMNS
        for drop in ("", "ep", "speed", "val", "mfu"):
            parts.pop(drop, None)
            info = "  ".join(x for x in parts.values() if x)
            if len(info) <= room:
                break
        return info

    # ---- throughput and MFU

    def set_throughput(self, e: ev.Throughput) -> None:
        """The engine's Throughput: say that the peak is being measured (the first step waits for it), or
        the model's FLOPs per char and the peak MFU is read against."""
        if e.measuring:
            if not self.quiet:
                why = (
                    "again: this run beat the cached one, so it was measured low"
                    if self.throughput is not None and self.throughput.peak_flops
                    else "for MFU (once per machine, unless the machine is busy)"
                )
                self.console.print(f"measuring the {e.peak_dtype} matmul peak {why}", highlight=False, soft_wrap=True)
            return
        self.throughput, self.ranks = e, max(1, e.ranks)
        if self.quiet:
            return
        line = f"{format_flops(e.flops_per_char, 'FLOP')}/char (matmuls, forward + backward); "
        if e.peak_flops is None:
            line += f"MFU not shown: {e.note}" if e.note else "MFU not shown"
        else:
            took = f" ({e.peak_seconds:.1f} s, not training time)" if e.peak_seconds else ""
            line += f"{describe_peak(e)}{took}" + (f", per process of {self.ranks}" if self.ranks > 1 else "")
        self.console.print(line, highlight=False, soft_wrap=True)  # one line in a log file too: no wrapping

    def mfu(self, chars_per_s: float) -> float | None:
        """The share of the peak that `chars_per_s` (over all processes) uses, per process."""
        t = self.throughput
        if t is None or t.peak_flops is None:
            return None
        return mfu(chars_per_s / self.ranks, t.flops_per_char, t.peak_flops)

    def _throughput_line(self) -> str | None:
        """'throughput 4.1k chars/s x 2.36 MFLOP/char = 9.8 GFLOP/s: MFU 6.0% of peak 162 GFLOP/s fp32 (...)'."""
        e, t = self.last, self.throughput
        if e is None or t is None or e.elapsed_s <= 0:
            return None
        cps = (e.chars_seen - self.chars0) / e.elapsed_s  # the run's mean, validation and probes included
        line = (
            f"throughput {cps / 1000:.1f}k chars/s x {format_flops(t.flops_per_char, 'FLOP')}/char = "
            f"{format_flops(achieved_flops(cps / self.ranks, t.flops_per_char))}"
            + (" per process" if self.ranks > 1 else "")
        )
        if t.peak_flops is None:
            return line
        share = self.mfu(cps)
        line += f": MFU {format_share(share)} of {describe_peak(t)}"
        if share is not None and share > 1:  # no run beats the peak: it was measured low, twice (the engine retries)
            line += (
                "\nMFU over 100%: the peak was measured while the machine was busier than it was for this run "
                "(it was measured again during the run and read low again); compare MFU on a quiet machine"
            )
        return line

    def _finish(self, e: ev.RunFinished) -> None:
        self.reason, self.latest_path = e.reason, e.latest_path
        self.val_loss = e.val_loss if e.val_loss is not None else e.best_val_loss
        if self.task is not None and e.reason == "completed":
            self.progress.update(self.task, completed=1.0)
        self.progress.stop()
        lines = [f"{e.reason}: {visible(e.message)} ({e.elapsed_s:.1f} s)"]
        if e.train_loss is not None:
            lines.append(f"train loss {e.train_loss:.4f} nats/char ({bits_per_char(e.train_loss):.4f} bits/char)")
        if e.val_loss is not None:
            lines.append(
                f"val loss   {e.val_loss:.4f} nats/char ({bits_per_char(e.val_loss):.4f} bits/char), "
                f"perplexity {math.exp(e.val_loss):.2f}"
            )
        if e.best_val_loss is not None:
            lines.append(f"best val   {e.best_val_loss:.4f} nats/char")
        if (line := self._throughput_line()) is not None:
            lines.append(line)
        if e.latest_path:
            lines.append(f"latest checkpoint: {visible(e.latest_path)}")
        if e.best_path:
            lines.append(f"best checkpoint:   {visible(e.best_path)}")
        print("\n".join(lines), flush=True)
        if e.reason == "diverged":
            print(f"rnntui: error: {visible(e.message)}", file=sys.stderr)
            self.exit_code = 1
