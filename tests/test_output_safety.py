"""Output that fails, and text from outside that must be shown, not obeyed (issue 18, items 6-8 and 11).

A broken pipe, a --metrics pipe or FIFO, markup in names and typed text, escape sequences in a corpus,
its samples and run names, and a strict UTF-8 stdout. The CLI cases run `rnntui` in real processes with
real pipes, FIFOs and pseudo-terminals; the app cases run under Pilot (with notifications on, since a
toast is where markup used to be parsed) and once in a real pseudo-terminal.
"""
from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from rich.cells import cell_len

from fake_engine import FakeTrainer, notifications, wait_for
from rnntui.core.checkpoints import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TINY = str(ROOT / "corpora" / "tiny.txt")
SMALL = ["--model", "gru", "--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch-size", "4",
         "--device", "cpu"]
HOSTILE = "\x1b]0;PWNED\x07"  # sets the terminal's title
CLEAR_RED = "\x1b[2J\x1b[31m"  # clears the screen and paints it red
ESC_TEXT = ("Some text \x1b]0;PWNED\x07 and more text.\n" "A line \x1b[2J\x1b[31m in red.\n") * 60
ESC_NAME = "e\x1b]0;PWNED\x07"  # a run folder name (legal: only / and NUL are not)


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "TERM": "xterm-256color", **extra}


def rnntui(*args: str | bytes) -> list:
    return [sys.executable, "-m", "rnntui", *args]


def cli(*args: str | bytes, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(rnntui(*args), capture_output=True, timeout=timeout, env=kw.pop("env", env()), **kw)


def run_in_pty(args: list, stderr=None, timeout: float = 120, env_=None) -> tuple[int, bytes, bytes]:
    """(status, what reached the terminal, stderr when it was piped) of a command on a real pty."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave if stderr is None else stderr,
                         env=env_ or env())
    os.close(slave)
    out = read_until_closed(master, timeout, p)
    err = p.stderr.read() if p.stderr is not None else b""
    return p.wait(timeout=30), out, err


def read_until_closed(master: int, timeout: float, p: subprocess.Popen) -> bytes:
    chunks, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every process holding the terminal has closed it
                break
            if not data:
                break
            chunks.append(data)
    else:
        p.kill()
        raise AssertionError("the command did not finish in time")
    os.close(master)
    return b"".join(chunks)


def run_info(run: Path) -> dict:
    return json.loads((run / "run.json").read_text())


def no_traceback(stderr: bytes) -> bool:
    return b"Traceback" not in stderr and b"Exception ignored" not in stderr


# -----------------------------------------------------------------------------
# the one function: textsafe.visible


def test_visible_shows_every_control_character_one_for_one():
    from rnntui.core.textsafe import OTHER, UNDECODABLE, visible

    text = "a\x00b\x1bc\x07d\x7fe\x9bf\u202eg\udce9h\ri\nj\tk"
    one = visible(text)
    assert one == f"a␀b␛c␇d␡e{OTHER}f{OTHER}g{UNDECODABLE}h␍i⏎j→k" and len(one) == len(text)
    assert visible(text, multiline=True) == f"a␀b␛c␇d␡e{OTHER}f{OTHER}g{UNDECODABLE}h␍i\nj\tk"
    plain = "héllo wörld 中文 😀 [b]markup[/b] ‮"[:-1]
    assert visible(plain) is plain  # nothing to replace: the same object, no copy
    for ch in map(chr, [*range(0x20), *range(0x7F, 0xA0)]):
        assert "\x1b" not in visible(ch) and cell_len(visible(ch)) == 1, repr(ch)
    assert visible(ESC_TEXT, multiline=True).encode().count(b"\x1b") == 0


def test_visible_char_one_map():
    from rnntui.core.textsafe import WIDE, visible_char

    assert visible_char("\n") == ("⏎", True) and visible_char("\t") == ("→", True)
    assert visible_char(" ") == ("·", True) and visible_char("\x01") == ("␁", True)
    assert visible_char("a") == ("a", False) and visible_char("é") == ("é", False)
    assert visible_char("中") == (WIDE, True) and visible_char("\u0301") == (WIDE, True)  # wide, combining
    assert visible_char("\x1b") == ("␛", True) and visible_char("\x9b")[0] != "\x9b"


def test_visible_glyphs_take_one_cell():
    from rnntui.core.textsafe import visible_char

    for ch in "\n\t \r\x00\x1f\x7f a~é€中\u0301\u200b😀\x85\x9b\u202e\udcff":
        glyph, _ = visible_char(ch)
        assert cell_len(glyph) == 1, repr(ch)
