"""A closed terminal (issue 18): the real `rnntui` in a real pseudo-terminal, whose master is then closed.

Closing the master is what closing a terminal window, an ssh session or a tmux session does: the kernel
hangs the tty up, and sends SIGHUP and SIGCONT to the session leader. "sighup": the app is the session
leader of its tty (as under a terminal emulator), so it gets the signals; a shell forwarding the hang-up
to its job is played by a second SIGHUP to the process group. "eio": the app has the tty as stdin and
stdout but is not its session's leader, so no signal comes; only its reads (end-of-file) and writes
(EIO) tell it. Before the fix, "eio" hung every time, on every screen (training went on, nothing was
saved): Textual's input thread spins on the end-of-file, its writer thread dies on EIO and the UI thread
then blocks on the writer's full queue. "sighup" hung in 4 of 7 tries in tmux (the same block, reached
before the app's SIGHUP handler ran on the event loop); these pty runs did not hit that race on the old
code, and are kept so that the signal path is tried many times.

Each case waits for the app to be up (reads the screen until a known text shows), drives it with keys,
closes the terminal, and asserts the process ended (a 20 s bound: a hang check, not a timing), its
exit status, and the run folder: latest.pt written and loadable, run.json no longer 'running'.
"""

from __future__ import annotations

import codecs
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers import (
    CTRL_R,
    CTRL_S,
    ENTER,
    ESCAPES,
    GONE_WITHIN_S,
    HANGUP,
    TAB,
    UP_WITHIN_S,
    assert_saved_and_stopped,
    has_trained,
)

fcntl = pytest.importorskip("fcntl")  # POSIX pseudo-terminals
termios = pytest.importorskip("termios")

# -----------------------------------------------------------------------------
# a terminal the test can close


class Terminal:
    """`rnntui ARGS` in a new 120x40 pseudo-terminal. A thread drains the screen output (an app whose
    output nobody reads blocks, like one on a dead terminal) and keeps it for wait_for."""

    def __init__(self, args: list[str], cwd: Path, leader: bool):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color"}
        for size in ("COLUMNS", "LINES"):  # the size is the tty's
            env.pop(size, None)

        def take_tty() -> None:  # in the child, after setsid: the tty becomes its controlling terminal
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rnntui", *args],
            cwd=cwd,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=take_tty if leader else None,
        )
        os.close(slave)
        self.leader = leader
        self.text = ""  # everything the app wrote, less the escape sequences
        self.raw_tail = b""  # the last bytes the app wrote, as written
        self._partial = b""  # an escape sequence cut by the end of a read, completed by the next
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while not self._closing.is_set():
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.raw_tail = (self.raw_tail + data)[-4096:]
                data, self._partial = self._partial + data, b""
                cut = data.rfind(b"\x1b")
                if cut != -1 and len(data) - cut < 64 and not ESCAPES.match(data, cut):
                    data, self._partial = data[:cut], data[cut:]
                self.text += self._decode(ESCAPES.sub(b"", data))

    def wait_for(self, what: str | None = None, until=None) -> None:
        """Until `what` shows on the screen (or until() is true); fails if the app exits first."""
        end = time.monotonic() + UP_WITHIN_S
        while not (what in self.text if what else until()):
            if self.proc.poll() is not None:
                pytest.fail(f"rnntui exited {self.proc.returncode} before {what or until}:\n{self.text[-2000:]}")
            if time.monotonic() > end:
                pytest.fail(f"never saw {what or until}:\n{self.text[-2000:]}")
            time.sleep(0.05)

    def keys(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> int:
        """Close the terminal as a window closing does; the exit status, once the process has ended."""
        self._closing.set()
        self._reader.join()
        os.close(self.master)  # the tty hangs up (and the kernel signals the session leader)
        self.master = -1
        if self.leader:
            try:
                os.killpg(self.proc.pid, signal.SIGHUP)  # a shell passing the hang-up on to its job
            except ProcessLookupError:
                pass
        try:
            return self.proc.wait(GONE_WITHIN_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"rnntui still running {GONE_WITHIN_S:.0f} s after its terminal closed")

    def end(self) -> None:
        """After the test, whatever happened: the process and the terminal are gone."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self.master != -1:
            self._closing.set()
            self._reader.join()
            os.close(self.master)
            self.master = -1


@pytest.fixture
def terminal():
    """terminal(args, cwd, leader): a Terminal, ended after the test even if the test failed."""
    opened: list[Terminal] = []

    def open_one(args: list[str], cwd: Path, leader: bool) -> Terminal:
        opened.append(Terminal(args, cwd, leader))
        return opened[-1]

    yield open_one
    for term in opened:
        term.end()


# -----------------------------------------------------------------------------
# a run under way (tiny_run, the run folder it continues: conftest.py)


def start_training(terminal, tiny_run: Path, cwd: Path, leader: bool) -> Terminal:
    """The setup screen with the tiny checkpoint open (its 1x16 shape fills the form), ctrl+s, and the
    run's first step taken."""
    term = terminal(["--checkpoint", str(tiny_run / "latest.pt")], cwd, leader)
    term.wait_for("1x16 · step 5")
    term.keys(CTRL_S)
    term.wait_for(until=lambda: has_trained(cwd))
    return term


# -----------------------------------------------------------------------------
# training: several times, as the hang came in 4 of 7 tries


@pytest.mark.parametrize(
    "leader, generating",
    [
        *(pytest.param(True, False, id=f"sighup-{i}") for i in range(3)),
        pytest.param(True, True, id="sighup-generating-during-the-run"),
        pytest.param(False, False, id="eio-no-signal"),
    ],
)
def test_closing_the_terminal_during_training_saves_and_exits(terminal, tiny_run, tmp_path, leader, generating):
    term = start_training(terminal, tiny_run, tmp_path, leader)
    if generating:  # g: the generation panel over the run; ctrl+r: generate from the current weights
        term.keys(b"g")
        term.wait_for("text to continue")
        term.keys(CTRL_R)
    time.sleep(0.5)
    assert term.close() == HANGUP
    assert_saved_and_stopped(tmp_path)


def test_sigterm_during_training_still_saves_and_exits_143(terminal, tiny_run, tmp_path):
    """The terminal stays: SIGTERM stops the run through the app, which restores the terminal."""
    term = start_training(terminal, tiny_run, tmp_path, leader=True)
    term.proc.send_signal(signal.SIGTERM)
    try:
        code = term.proc.wait(GONE_WITHIN_S)
    except subprocess.TimeoutExpired:
        pytest.fail("rnntui still running after SIGTERM")
    assert code == 128 + signal.SIGTERM
    assert_saved_and_stopped(tmp_path)
    term._reader.join(GONE_WITHIN_S)  # it reads to the end of what the app wrote
    assert b"\x1b[?1049l" in term.raw_tail  # it left the alternate screen: the terminal is restored


# -----------------------------------------------------------------------------
# every other screen: nothing to save, the process ends


def test_closing_the_terminal_on_the_idle_setup_screen_exits(terminal, tmp_path):
    term = terminal(["tiny"], tmp_path, leader=True)
    term.wait_for("vocabulary 43")  # the corpus is loaded: the screen is up and idle
    assert term.close() == HANGUP
    assert not (tmp_path / "checkpoints").exists()


def test_closing_the_terminal_without_a_signal_on_the_setup_screen_exits(terminal, tmp_path):
    term = terminal(["tiny"], tmp_path, leader=False)
    term.wait_for("vocabulary 43")
    assert term.close() == HANGUP


def test_closing_the_terminal_while_generating_from_a_checkpoint_exits(terminal, tiny_run, tmp_path):
    term = terminal(["--checkpoint", str(tiny_run / "latest.pt")], tmp_path, leader=True)
    term.wait_for("1x16 · step 5")
    term.keys(TAB + ENTER)  # from "Continue training" to "Generate", pressed
    term.wait_for("text to continue")
    term.keys(CTRL_R)
    assert term.close() == HANGUP


def test_closing_the_terminal_while_inspecting_exits(terminal, tiny_run, tmp_path):
    term = terminal(["inspect", str(tiny_run / "latest.pt")], tmp_path, leader=True)
    term.wait_for("units by variance")
    assert term.close() == HANGUP


def test_closing_the_terminal_while_watching_a_run_exits_and_writes_nothing(terminal, tiny_run, tmp_path):
    run = tmp_path / "watched"
    shutil.copytree(tiny_run, run)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    term = terminal(["watch", str(run)], tmp_path, leader=False)
    term.wait_for("gradient reaching back")
    assert term.close() == HANGUP
    assert {name: (run / name).read_bytes() for name in before} == before


def test_the_process_ends_even_if_the_save_never_does():
    """The bound after a hang-up: a save that never finishes (a stuck disk) does not keep the process."""
    never = (
        "import threading, time\nfrom rnntui.terminal import exit_when_done\n"
        "exit_when_done(threading.Event(), 129, bound_s=0.5)\ntime.sleep(60)"
    )
    assert subprocess.run([sys.executable, "-c", never], timeout=30).returncode == HANGUP
