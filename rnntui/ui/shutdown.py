"""How the app ends: q asks whether to stop the run (latest.pt is saved); SIGTERM (a timeout, docker
stop) and SIGHUP (the terminal window closed) stop and save as quitting does, and exit 128 + the signal.

A mixin of RnntuiApp; it must come before App in the bases, as it overrides App.action_quit.
"""
from __future__ import annotations

import asyncio
import os
import signal

from textual.worker import WorkerFailed

from rnntui.terminal import silence_terminal
from rnntui.ui.screens.dialogs import QuitDialog


class Shutdown:
    """The host app provides session and running; on_mount calls _catch_stop_signals."""

    # ---- SIGTERM and SIGHUP ------------------------------------------------------------------------

    def _catch_stop_signals(self) -> None:
        """SIGTERM (timeout, docker stop) and SIGHUP (the terminal window closed) save as quitting does."""
        loop = asyncio.get_running_loop()
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                try:
                    loop.add_signal_handler(getattr(signal, name), self.on_stop_signal, getattr(signal, name))
                except (NotImplementedError, RuntimeError, ValueError):
                    pass  # not the main thread (tests), or a platform without them

    def on_stop_signal(self, signum: int) -> None:
        hangup = signum == getattr(signal, "SIGHUP", None)
        if hangup:
            silence_terminal()  # the terminal is gone: the app's output goes nowhere while it saves
        if self.running:
            self.run_worker(self.stop_and_exit(128 + signum, hard=hangup), group="quit", exit_on_error=False)
        elif hangup:
            os._exit(128 + signum)
        else:
            self.exit(128 + signum)

    # ---- q ---------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if not self.running:
            self.exit(0)
            return

        def chosen(save: bool | None) -> None:
            if save:  # waiting happens in an async worker so the screen keeps repainting meanwhile
                self.run_worker(self.stop_and_exit(), group="quit", exit_on_error=False)

        self.push_screen(QuitDialog(), chosen)

    async def stop_and_exit(self, code: int = 0, hard: bool = False) -> None:
        """Stop the run, wait for the worker (the engine validates and writes latest.pt), then exit.

        hard=True (the terminal is gone) ends the process once latest.pt is written: Textual's orderly
        exit would wait forever to restore a terminal that no longer exists."""
        self.notify("stopping: validating and saving latest.pt…", timeout=60)
        self.session.stop.set()
        self.session.pause.clear()
        try:
            await self.session.worker.wait()
        except WorkerFailed:
            pass  # already reported by on_worker_state_changed
        if hard:
            os._exit(code)
        self.exit(code)
