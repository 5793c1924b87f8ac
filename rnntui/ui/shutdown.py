"""How the app ends when the user is not the one ending it: SIGTERM (a timeout, docker stop) stops and saves
as quitting does and exits 143; a closed terminal (SIGHUP, or its tty hung up without a signal) saves and
exits 129 without the app drawing another frame.

Shutdown is a plain object the app owns: it is given a way to read the app's current session and the app's
handler for SIGTERM, and installs the signal handlers once the event loop runs (App.on_mount). Quitting
with q (ask, stop, save, exit) is the app's own action.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable

from rnntui.terminal import detach_terminal, exit_when_done, watch_for_hangup
from rnntui.ui.workers.session import Session

HANGUP_EXIT = 128 + 1  # 128 + SIGHUP's number, whether or not the signal came
HANGUP_SAVE_BOUND_S = 30.0  # after a hang-up, exit by then even if the save has not finished (a stuck disk)


class Shutdown:
    def __init__(self, session: Callable[[], Session | None], on_stop_signal: Callable[[int], None]) -> None:
        self.session = session  # the app's current session (read from any thread)
        self.on_stop_signal = on_stop_signal  # the app's SIGTERM handler, called on the event loop
        self._hangup_once = threading.Lock()  # the first notice of a hang-up acts, later ones return

    def install(self, headless: bool) -> None:
        """SIGTERM (timeout, docker stop) saves as quitting does, through the app: the terminal is still
        there, so the app exits in order and restores it. A closed terminal: see below. Call from the
        event loop; headless (Pilot tests) has no terminal of its own to lose, and the test process's
        signals are its own."""
        loop = asyncio.get_running_loop()
        if hasattr(signal, "SIGTERM"):
            try:
                loop.add_signal_handler(signal.SIGTERM, self.on_stop_signal, signal.SIGTERM)
            except (NotImplementedError, RuntimeError, ValueError):
                pass  # not the main thread (tests), or a platform without it
        if headless:
            return
        if hasattr(signal, "SIGHUP"):
            try:
                signal.signal(signal.SIGHUP, self._on_sighup)
            except ValueError:
                pass  # not the main thread
        watch_for_hangup(self.terminal_gone)  # a hang-up that comes without a signal (not the session leader)

    # ---- a closed terminal -----------------------------------------------------------------------
    # Closing the window (or the ssh session, or the tmux session) hangs the tty up. Textual does not
    # notice: its input thread takes the endless end-of-file for "no key yet" and spins, and its writer
    # thread dies on the first EIO, after which the UI thread blocks for good putting the next frame into
    # the writer's full queue (App._display -> WriterThread.write). A SIGTERM or a SIGHUP handled through
    # the event loop then never runs. So nothing here goes through the loop, the screen or the driver: a
    # plain signal handler (Python runs it on the main thread even while that is blocked on the queue) and
    # a thread watching the tty both call terminal_gone, which works from any thread.

    def _on_sighup(self, signum: int, frame: object) -> None:
        if hasattr(signal, "SIGCONT"):  # the kernel sends SIGCONT with the hang-up; Textual's handler for
            signal.signal(signal.SIGCONT, signal.SIG_DFL)  # it would restart application mode on the dead tty
        self.terminal_gone()

    def terminal_gone(self) -> None:
        """Stop reading and writing the terminal, stop the run (it saves latest.pt; the closing validation
        is cut short, nobody is there to read it), and exit 129 once the training thread has returned, or
        after HANGUP_SAVE_BOUND_S if it never does. The first call acts; later ones return at once."""
        if not self._hangup_once.acquire(blocking=False):
            return
        detach_terminal()  # the input thread waits quietly; the writers' frames go to /dev/null
        session, done = self.session(), None
        if session is not None and session.worker is not None and not session.done.is_set():
            session.hurry()
            done = session.done
        exit_when_done(done, HANGUP_EXIT, HANGUP_SAVE_BOUND_S)
