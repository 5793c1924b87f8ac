"""The generation panel's finished text: checked for passages copied from the training corpus, copied
to the clipboard, or saved with the settings that made it.

A mixin of GenerateScreen (one concept per module), as StepMode is. The copy check runs in a thread worker
(it may build the corpus's n-gram index first) and reports each pane's result as a message.
"""
from __future__ import annotations

import time
from functools import partial

from textual.widget import Widget

from rnntui.ui import gen_worker as gw
from rnntui.ui.forms import all_valid
from rnntui.ui.widgets.gen_panes import GenPane


class GeneratedText:
    """The host screen provides origin, run_id, save_dir, _value and the GenPanes."""

    # ---- copy check ------------------------------------------------------------------------------

    def _copy_check(self) -> None:
        panes = list(self.query(GenPane))
        if self.origin is None or not any(p.text for p in panes) or not all_valid(self, ("ngram",)):
            return
        body = partial(gw.copy_check, self.post_message, self.origin, self._value("ngram"),
                       [p.text for p in panes], self.run_id)
        self.run_worker(body, thread=True, group="copycheck", name="copycheck", exit_on_error=False)

    def on_copy_checked(self, msg: gw.CopyChecked) -> None:
        panes = list(self.query(GenPane))
        if msg.run == self.run_id and msg.pane < len(panes):
            panes[msg.pane].report = msg.report
            panes[msg.pane].redraw()
            if isinstance(msg.report, str) and msg.pane == 0:
                self.notify(msg.report, timeout=4, markup=False)

    # ---- keeping the text ------------------------------------------------------------------------

    def _pane(self) -> GenPane:
        """The pane holding focus, else the first one."""
        focused = self.focused
        while focused is not None and not isinstance(focused, GenPane):
            focused = focused.parent if isinstance(focused.parent, Widget) else None
        return focused or self.query_one(GenPane)

    def action_copy_pane(self) -> None:
        pane = self._pane()
        if not pane.text:
            self.notify("nothing generated yet", timeout=2)
            return
        self.app.copy_to_clipboard(pane.seed_text + pane.text)
        self.notify(f"copied {len(pane.seed_text + pane.text):,} characters ({pane.border_title})", timeout=3)

    def action_save(self) -> None:
        panes = [p for p in self.query(GenPane) if p.text]
        if not panes:
            self.notify("nothing generated yet", timeout=2)
            return
        path = self.save_dir / f"generated-{time.strftime('%Y%m%d-%H%M%S')}.txt"
        try:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(p.saved_block() for p in panes), encoding="utf-8")
        except OSError as e:
            self.notify(f"could not save: {e}", severity="error", timeout=6, markup=False)
            return
        self.notify(f"saved {len(panes)} pane(s) to {path}", timeout=6, markup=False)
