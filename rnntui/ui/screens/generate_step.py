"""The generation panel's step mode: the model advances one character per key, the user chooses.

A mixin of GenerateScreen (one concept per module): it builds a core Stepper from a fresh snapshot in a
thread worker, shows its candidates in the StepCandidates, and applies the panel's Take / Undo messages. The
Stepper's arithmetic is a few small NumPy products per key, cheap enough for the UI thread.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial

from rnntui.core.config import RnntuiError
from rnntui.ui import gen_worker as gw
from rnntui.ui.forms import all_valid
from rnntui.ui.widgets.gen_panes import GenPane, StepCandidates


class StepMode:
    """Step-mode handlers; the host screen provides panel, vocab, source, _sync, _value, _layout..."""

    async def action_step_mode(self) -> None:
        if self.stepper is not None or self.has_class("-stepping"):
            await self._leave_step_mode()
            return
        if not all_valid(self, ("topk", "seed")):
            return
        s = self._sync()
        run = self._new_run()
        (pane,) = await self._layout(1)
        s = replace(s, seed=self._next_seed())
        pane.reset(f"step mode · seed {s.seed}", "".join(c for c in s.prime if c in self.vocab),
                   self._settings_dict(mode="step", temperature=s.temperature, top_k=s.top_k, seed=s.seed))
        self.add_class("-stepping")
        panel = self.query_one(StepCandidates)
        panel.view = None
        panel.display = True
        panel.focus()
        body = partial(gw.stepper, self.post_message, self.source, s, run)
        self.run_worker(body, thread=True, group="generate", name="stepper", exit_on_error=False)

    def on_stepper_ready(self, msg: gw.StepperReady) -> None:
        if msg.run == self.run_id and self.has_class("-stepping"):
            self.stepper = msg.stepper
            self.query_one(StepCandidates).show(self.stepper.view())

    def _restep(self) -> None:
        """Show the stepper's state: the text so far in the pane, the candidates in the chart."""
        topk = self._value("topk") if all_valid(self, ("topk",)) else 0
        try:
            self.stepper.set_sampling(self.panel.gen.temperature, topk)
        except RnntuiError as e:
            self.notify(str(e), severity="warning", timeout=3)
        self.query_one(GenPane).set_text(self.stepper.text, self.stepper.probs)
        self.query_one(StepCandidates).show(self.stepper.view())

    def on_step_candidates_take(self, msg: StepCandidates.Take) -> None:
        if self.stepper is None or not msg.char:
            return
        try:
            self.stepper.choose(msg.char)
        except RnntuiError as e:
            self.notify(str(e), severity="warning", timeout=3)
            return
        self._restep()

    def on_step_candidates_undo(self, _msg: StepCandidates.Undo) -> None:
        if self.stepper is not None and self.stepper.undo():
            self._restep()

    async def _leave_step_mode(self, check: bool = True) -> None:
        if not self.has_class("-stepping"):
            return
        self.stepper = None
        self.remove_class("-stepping")
        self.query_one(StepCandidates).display = False
        self.query_one("#prime").focus()
        if check:
            self._copy_check()
