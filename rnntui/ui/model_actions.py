"""Generate from and inspect a model: the live weights of the run training here, or a checkpoint opened
on the setup screen or named on the command line (`rnntui inspect CKPT`).

A mixin of RnntuiApp, as run_actions.py is (a run folder's weights go through RunActions.run_weights).
Weights are never copied on the UI thread: the screens call the source they are given in a worker.
"""
from __future__ import annotations

from pathlib import Path

from rnntui.ui.screens.generate import GenerateScreen


class ModelActions:
    """The host app provides session, state, view, ckpt, ckpt_path, gen_panel, inspect_text."""

    def weights_source(self, from_ckpt: bool = False) -> tuple[object, str, str] | None:
        """(source callable, vocabulary, title) for the current run, else the opened checkpoint."""
        if not from_ckpt and self.session is not None and self.session.trainer is not None and self.state.started:
            return self.session.snapshot, self.state.started.vocab, "live weights: each Generate copies the current step"
        if self.ckpt is not None:
            ckpt = self.ckpt
            return (lambda: ckpt), ckpt["vocab"], f"{self.ckpt_path} (step {ckpt.get('step', 0):,})"
        return None

    def action_generate(self) -> None:
        if self.view is not None:  # a run folder: its latest checkpoint, reloaded each time
            self.run_weights(None, "generate")
        else:
            self.open_generate()

    def open_generate(self, from_ckpt: bool = False) -> None:
        source = self.weights_source(from_ckpt)
        if source is None:
            self.notify("no model yet: start training or open a checkpoint", severity="warning")
        elif not isinstance(self.screen, GenerateScreen):
            live = self.session is not None and self.session.trainer is not None and self.state.started
            where = str(self.state.run_dir) if live or not self.ckpt_path else str(Path(self.ckpt_path).parent)
            what = f"live weights of {where}" if live else str(self.ckpt_path)
            self.push_screen(GenerateScreen(*source, panel=self.gen_panel, checkpoint=what, save_dir=where))

    def action_inspect(self) -> None:
        if self.view is not None:
            self.run_weights(None, "inspect")
        else:
            self.open_inspect()

    def open_inspect(self, ckpt: dict | None = None, text: str | None = None) -> None:
        from rnntui.ui.screens.inspect import InspectScreen  # the inspector pulls in its own widgets

        source = ckpt
        if source is None and self.session is not None and self.session.trainer is not None:
            # live weights: copied inside the inspector's worker, never on the UI thread under the
            # trainer's lock (a large model on a GPU would freeze the screen)
            source = self.session.snapshot
        source = source or self.ckpt
        if source is None:
            self.notify("no model yet: start training or open a checkpoint", severity="warning")
            return
        self.push_screen(InspectScreen(source, text))

    def load_for_inspect(self, path: str) -> None:
        def body() -> None:
            from rnntui.ui.worker import load_checkpoint

            ckpt = load_checkpoint(path)  # a CheckpointError is reported by on_worker_state_changed
            self.call_from_thread(self._inspect_loaded, path, ckpt)

        self.notify(f"loading {path}…", timeout=2)
        self.run_worker(body, thread=True, group="load", name="load", exit_on_error=False)

    def _inspect_loaded(self, path: str, ckpt: dict) -> None:
        self.ckpt, self.ckpt_path = ckpt, path
        self.open_inspect(ckpt, self.inspect_text)
