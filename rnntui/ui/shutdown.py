"""How the app ends: q asks whether to stop the run (latest.pt is saved); SIGTERM (a timeout, docker stop)
stops and saves as quitting does and exits 143; a closed terminal (SIGHUP, or its tty hung up without a
signal) saves and exits 129 without the app drawing another frame.

A mixin of RnntuiApp; it must come before App in the bases, as it overrides App.action_quit.
"""
from __future__ import annotations

import asyncio
import signal
import threading

from textual.worker import WorkerFailed

from rnntui.terminal import detach_terminal, exit_when_done, watch_for_hangup
from rnntui.ui.screens.dialogs import QuitDialog

HANGUP_EXIT = 128 + 1  # 128 + SIGHUP's number, whether or not the signal came
HANGUP_SAVE_BOUND_S = 30.0  # after a hang-up, exit by then even if the save has not finished (a stuck disk)


class Shutdown:
    """The host app provides session and running; on_mount calls _catch_stop_signals."""

    # ---- SIGTERM ---------------------------------------------------------------------------------

    def _catch_stop_signals(self) -> None:
        """SIGTERM (timeout, docker stop) saves as quitting does, through the app: the terminal is still
        there, so the app exits in order and restores it. A closed terminal: _catch_hangup."""
        loop = asyncio.get_running_loop()
        if hasattr(signal, "SIGTERM"):
            try:
                loop.add_signal_handler(signal.SIGTERM, self.on_stop_signal, signal.SIGTERM)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (tests), or a platform without it
        self._catch_hangup()

    def on_stop_signal(self, signum: int) -> None:
        if self.running:
            self.run_worker(self.stop_and_exit(128 + signum), group="quit", exit_on_error=False)
        else:
            self.exit(128 + signum)

    # ---- a closed terminal -----------------------------------------------------------------------
    # Closing the window (or the ssh session, or the tmux session) hangs the tty up. Textual does not
    # notice: its input thread takes the endless end-of-file for "no key yet" and spins, and its writer
    # thread dies on the first EIO, after which the UI thread blocks for good putting the next frame into
    # the writer's full queue (App._display -> WriterThread.write). A SIGTERM or a SIGHUP handled through
    # the event loop then never runs. So nothing here goes through the loop, the screen or the driver: a
    # plain signal handler (Python runs it on the main thread even while that is blocked on the queue) and
    # a thread watching the tty both call _terminal_gone, which works from any thread.

    def _catch_hangup(self) -> None:
        if self.is_headless:
            return  # Pilot tests: no terminal of ours to lose, and the test process's signals are its own
        self._hangup_once = threading.Lock()
        if hasattr(signal, "SIGHUP"):
            try:
                signal.signal(signal.SIGHUP, self._on_sighup)
            except ValueError:
                pass  # not the main thread
        watch_for_hangup(self._terminal_gone)  # a hang-up that comes without a signal (not the session leader)

    def _on_sighup(self, signum: int, frame: object) -> None:
        if hasattr(signal, "SIGCONT"):  # the kernel sends SIGCONT with the hang-up; Textual's handler for
            signal.signal(signal.SIGCONT, signal.SIG_DFL)  # it would restart application mode on the dead tty
        self._terminal_gone()

    def _terminal_gone(self) -> None:
        """Stop reading and writing the terminal, stop the run (it saves latest.pt; the closing validation
        is cut short, nobody is there to read it), and exit 129 once the training thread has returned, or
        after HANGUP_SAVE_BOUND_S if it never does. The first call acts; later ones return at once."""
        if not self._hangup_once.acquire(blocking=False):
            return
        detach_terminal()  # the input thread waits quietly; the writers' frames go to /dev/null
        session, done = self.session, None
        if session is not None and session.worker is not None and not session.done.is_set():
            session.stop.set()
            session.pause.clear()
            for trainer in [session.trainer, *getattr(session, "trainers", [])]:
                hurry = getattr(trainer, "hurry", None)
                if hurry is not None:
                    hurry()
            done = session.done
        exit_when_done(done, HANGUP_EXIT, HANGUP_SAVE_BOUND_S)

    # ---- q ---------------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if not self.running:
            self.exit(0)
            return

        def chosen(save: bool | None) -> None:
            if save:  # waiting happens in an async worker so the screen keeps repainting meanwhile
                self.run_worker(self.stop_and_exit(), group="quit", exit_on_error=False)

        self.push_screen(QuitDialog(), chosen)

    async def stop_and_exit(self, code: int = 0) -> None:
        """Stop the run, wait for the worker (the engine validates and writes latest.pt), then exit."""
        self.notify("stopping: validating and saving latest.pt…", timeout=60)
        self.session.stop.set()
        self.session.pause.clear()
        try:
            await self.session.worker.wait()
        except WorkerFailed:
            pass  # already reported by on_worker_state_changed
        self.exit(code)
