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
from fake_engine import FakeTrainer, notifications, wait_for
from helpers import TINY, rnntui_env, tiny_args
from rich.cells import cell_len

from rnntui.core.runs.checkpoints import load_checkpoint

SMALL = tiny_args("gru", samples=True)  # the samples are where escape sequences are shown
HOSTILE = "\x1b]0;PWNED\x07"  # sets the terminal's title
CLEAR_RED = "\x1b[2J\x1b[31m"  # clears the screen and paints it red
ESC_TEXT = ("Some text \x1b]0;PWNED\x07 and more text.\nA line \x1b[2J\x1b[31m in red.\n") * 60
ESC_NAME = "e\x1b]0;PWNED\x07"  # a run folder name (legal: only / and NUL are not)


def env(**extra: str) -> dict[str, str]:
    """The user's thread count, as before: with one (faster steps), the run that
    test_train_piped_to_head_saves_and_exits_141 pipes to `head -3` was stopped at step 0 in about half of
    the tries, a timing that test depends on."""
    return rnntui_env(one_thread=False, **{"COLUMNS": "200", "TERM": "xterm-256color", **extra})


def rnntui(*args: str | bytes) -> list:
    return [sys.executable, "-m", "rnntui", *args]


def cli(*args: str | bytes, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(rnntui(*args), capture_output=True, timeout=timeout, env=kw.pop("env", env()), **kw)


def run_in_pty(args: list, stderr=None, timeout: float = 120, env_=None) -> tuple[int, bytes, bytes]:
    """(status, what reached the terminal, stderr when it was piped) of a command on a real pty."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
    p = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave if stderr is None else stderr, env=env_ or env())
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


# -----------------------------------------------------------------------------
# runs to read: one named with markup, one with an escape sequence, trained on a pty


@pytest.fixture(scope="module")
def trained_esc(tmp_path_factory) -> dict:
    """Two runs: one named with markup on tiny, one named with an escape sequence on a corpus full of
    them, trained on a real pty with samples printed (what a user's terminal receives)."""
    root = tmp_path_factory.mktemp("runs")
    corpus = tmp_path_factory.mktemp("corpus") / "esc-corpus.txt"
    corpus.write_text(ESC_TEXT, encoding="utf-8")
    markup = cli("train", TINY, "--steps", "5", "--out-dir", str(root), "--run-name", "x[@a=(]", *SMALL, "--no-samples")
    status, shown, _ = run_in_pty(
        rnntui("train", str(corpus), "--steps", "10", "--out-dir", str(root), "--run-name", ESC_NAME, *SMALL)
    )
    return {
        "root": root,
        "corpus": corpus,
        "markup": markup,
        "esc_status": status,
        "esc_shown": shown,
        "esc": root / ESC_NAME,
    }


# -----------------------------------------------------------------------------
# 6. output that fails (cli/output.py): a broken pipe stops a run as a signal does, latest.pt saved,
# run.json "stopped", status 141


def test_guarded_stream_on_a_closed_pipe(monkeypatch):
    """In process: a write into a pipe with no reader neither raises nor is retried; the status is 141."""
    from rnntui.cli.output import guarded_output, on_output_failure

    r, w = os.pipe()
    os.close(r)
    pipe = io.TextIOWrapper(io.FileIO(w, "w"), encoding="utf-8", line_buffering=True)
    monkeypatch.setattr(sys, "stdout", pipe)
    heard = []
    with guarded_output() as out:
        on_output_failure(heard.append)
        for _ in range(3):
            print("x" * 100_000)  # raises BrokenPipeError unguarded
    assert len(heard) == 1 and heard[0].errno == 32 and out.exit_status(0) == 141
    assert out.exit_status(143) == 143  # a signal that stopped the command first keeps its status
    assert sys.stdout is pipe
    pipe.write("after")
    pipe.flush()  # the descriptor now points at /dev/null: Python's flush at exit cannot fail either
    pipe.close()


def test_train_piped_to_head_saves_and_exits_141(tmp_path):
    """`rnntui train ... 2>&1 | head -3`: the old code died at the first sample (exit 1, no latest.pt,
    run.json 'failed: GeneratorExit')."""
    p = subprocess.Popen(
        rnntui("train", TINY, "--steps", "100000", "--out-dir", str(tmp_path), *SMALL),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env(COLUMNS="80"),
    )
    run = tmp_path / "gru-1x16-tiny"
    # head -3, once the run has trained a step: the first lines (header, the FLOPs and the peak, which a
    # machine measures when its cache has none) can all come before step 1, and a stop at step 0 saves none
    deadline = time.monotonic() + 60
    while b'"type": "step"' not in _read(run / "metrics.jsonl") and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [p.stdout.readline() for _ in range(3)]
    p.stdout.close()
    assert p.wait(timeout=120) == 141, lines
    info = run_info(run)
    assert info["state"] == "stopped" and 0 < info["steps"] < 100000, info
    assert load_checkpoint(run / "latest.pt")["step"] == info["steps"]


def _read(path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def test_train_with_stdout_closed_says_one_line_and_no_traceback(tmp_path):
    p = subprocess.Popen(
        rnntui("train", TINY, "--steps", "100000", "--out-dir", str(tmp_path), *SMALL, "--no-samples"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    p.stdout.close()  # the reader is gone before anything was written: the run stops at once
    _, err = p.communicate(timeout=120)
    assert p.returncode == 141 and no_traceback(err), err.decode()
    assert err.decode().strip().splitlines()[-1].startswith("rnntui: error: output failed (Broken pipe)")
    assert run_info(tmp_path / "gru-1x16-tiny")["state"] == "stopped"


def test_a_signal_before_the_pipe_closes_keeps_its_status(tmp_path):
    """--no-samples piped to head: the old code exited 1, not 143, when the summary hit the closed pipe."""
    p = subprocess.Popen(
        rnntui("train", TINY, "--steps", "100000", "--out-dir", str(tmp_path), *SMALL, "--no-samples"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env(),
    )
    p.stdout.readline()  # the run's first line: it is training
    metrics = tmp_path / "gru-1x16-tiny" / "metrics.jsonl"
    end = time.monotonic() + 60
    while '"type": "step"' not in (metrics.read_text() if metrics.exists() else "") and time.monotonic() < end:
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    # the header and throughput lines written before the signal, then the progress bar's last line, drawn
    # (off a terminal: only) as the stopped run closes it: the signal came first
    while (line := p.stdout.readline()) and not line.startswith(b"train "):
        pass
    p.stdout.close()  # head has its lines: the summary after it meets a closed pipe
    assert p.wait(timeout=120) == 143
    info = run_info(tmp_path / "gru-1x16-tiny")
    assert info["state"] == "stopped" and load_checkpoint(tmp_path / "gru-1x16-tiny" / "latest.pt")["step"] > 0


def test_sample_piped_to_head_ends_quietly(tmp_path, trained_esc):
    p = subprocess.Popen(
        rnntui("sample", str(trained_esc["esc"] / "latest.pt"), "--length", "200000"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(),
    )
    p.stdout.read(10)  # head -c 10
    p.stdout.close()
    _, err = p.communicate(timeout=120)
    assert p.returncode == 141 and no_traceback(err), err.decode()


def test_metrics_to_a_pipe_whose_reader_goes_away(tmp_path):
    """--metrics >(head -c 3000): the records reach the pipe; when its reader leaves, the run stops and saves."""
    r, w = os.pipe()
    p = subprocess.Popen(
        rnntui(
            "train",
            TINY,
            "--steps",
            "100000",
            "--out-dir",
            str(tmp_path),
            *SMALL,
            "--no-samples",
            "--metrics",
            f"/dev/fd/{w}",
        ),
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env(),
    )
    os.close(w)
    got = b""
    while got.count(b"\n") < 3 and (chunk := os.read(r, 3000)):  # head -c 3000
        got += chunk
    os.close(r)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 141 and no_traceback(err), err.decode()
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith(f"rnntui: error: /dev/fd/{w}: Broken pipe: training stopped; latest checkpoint:"), last
    assert json.loads(got.splitlines()[0])["type"] == "step"
    run = tmp_path / "gru-1x16-tiny"
    assert run_info(run)["state"] == "stopped" and load_checkpoint(run / "latest.pt")["step"] > 0


def test_metrics_to_a_fifo_works_with_a_reader_and_is_refused_without(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    r = cli(
        "train",
        TINY,
        "--steps",
        "20",
        "--out-dir",
        str(tmp_path / "a"),
        *SMALL,
        "--no-samples",
        "--metrics",
        str(fifo),
        timeout=60,
    )  # the old code waited for a reader forever
    assert r.returncode == 2 and no_traceback(r.stderr)
    assert r.stderr.decode().strip() == f"rnntui: error: {fifo}: a pipe with no reader (start its reader first)"
    assert not (tmp_path / "a").exists()  # refused before any run folder

    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.extend(open(fifo, "rb")))  # read to the end
    reader.start()
    time.sleep(0.2)
    r = cli(
        "train", TINY, "--steps", "20", "--out-dir", str(tmp_path / "b"), *SMALL, "--no-samples", "--metrics", str(fifo)
    )
    reader.join(timeout=60)
    assert r.returncode == 0, r.stderr
    assert [json.loads(x)["step"] for x in lines if b'"step"' in x][-1] == 20


# -----------------------------------------------------------------------------
# 7 and 8 on the command line: markup is text, control characters are shown


def test_run_name_with_markup_trains(trained_esc):
    r = trained_esc["markup"]
    assert r.returncode == 0 and no_traceback(r.stderr), r.stderr.decode()  # the old code: MarkupError
    assert b"x[@a=(]: gru 1x16" in r.stderr
    assert run_info(trained_esc["root"] / "x[@a=(]")["state"] == "completed"


def test_train_on_a_terminal_shows_escape_sequences(trained_esc):
    shown = trained_esc["esc_shown"]
    assert trained_esc["esc_status"] == 0, shown.decode(errors="replace")
    assert b"\x1b]0;PWNED" not in shown and b"\x07" not in shown  # no title set, no bell (in a sample either)
    assert CLEAR_RED.encode() not in shown
    assert "e␛]0;PWNED␇".encode() in shown  # the run name, shown (in bold)
    assert b"--- sample at step " in shown and "␛".encode() in shown.split(b"--- sample at step ")[1]


def test_runs_on_a_terminal_shows_names_not_sequences(trained_esc):
    status, shown, _ = run_in_pty(rnntui("runs", str(trained_esc["root"])))
    assert status == 0 and b"\x1b" not in shown, shown
    assert "e␛]0;PWNED␇ ".encode() in shown and b"x[@a=(] " in shown


def test_error_lines_show_the_names_they_quote(tmp_path):
    r = cli("train", str(tmp_path / f"missing{HOSTILE}.txt"), "--steps", "5", *SMALL)
    assert r.returncode == 2 and b"\x1b" not in r.stderr and "missing␛]0;PWNED␇.txt".encode() in r.stderr


def test_sample_is_byte_exact_to_a_pipe_and_shown_on_a_terminal(trained_esc):
    ckpt = str(trained_esc["esc"] / "latest.pt")
    prime = f"Some text {HOSTILE}{CLEAR_RED}"
    r = cli("sample", ckpt, "--prime", prime, "--length", "50", "--seed", "1")
    assert r.returncode == 0 and r.stdout.startswith(prime.encode()), r.stdout  # to a pipe: as generated
    status, shown, err = run_in_pty(
        rnntui("sample", ckpt, "--prime", prime, "--length", "300", "--seed", "1"), stderr=subprocess.PIPE
    )
    assert status == 0 and no_traceback(err)
    assert b"\x1b" not in shown and b"\x07" not in shown, shown  # the prime, and every sampled ESC and BEL
    assert "Some text ␛]0;PWNED␇␛[2J␛[31m".encode() in shown


# -----------------------------------------------------------------------------
# 11. a strict UTF-8 stdout and bytes that are not UTF-8


def test_output_encoding_keeps_bytes_and_escapes_the_rest():
    from rnntui.cli.output import ERRORS

    assert "caf\udce9 \udcff".encode("utf-8", ERRORS) == b"caf\xe9 \xff"  # undecodable bytes go out as they came
    assert "a—b\udcff".encode("latin-1", ERRORS) == b"a\\u2014b\xff"  # what latin-1 lacks: an escape


def test_strict_utf8_sample_with_a_byte_prime(trained_esc):
    """--prime $'\\xff' arrives as a lone surrogate: it goes out as the same byte (to a pipe), or as �
    (to a terminal); the old code raised UnicodeEncodeError."""
    strict = env(PYTHONIOENCODING="utf-8:strict")
    ckpt = str(trained_esc["esc"] / "latest.pt").encode()
    r = cli(b"sample", ckpt, b"--prime", b"\xff", b"--length", b"20", b"--seed", b"1", env=strict)
    assert r.returncode == 0 and no_traceback(r.stderr), r.stderr.decode()
    assert r.stdout.startswith(b"\xff")
    status, shown, err = run_in_pty(
        rnntui(b"sample", ckpt, b"--prime", b"\xff", b"--length", b"20"), stderr=subprocess.PIPE, env_=strict
    )
    assert status == 0 and no_traceback(err) and shown.startswith("\ufffd".encode()), shown


def test_strict_utf8_runs_after_a_file_name_that_is_not_utf8(tmp_path):
    corpus = os.path.join(os.fsencode(tmp_path), b"caf\xe9.txt")
    with open(corpus, "wb") as f:
        f.write(Path(TINY).read_bytes())
    strict = env(PYTHONIOENCODING="utf-8:strict")
    out = str(tmp_path / "ck")
    r = cli(b"train", corpus, b"--steps", b"5", b"--out-dir", out.encode(), *SMALL, b"--no-samples", env=strict)
    assert r.returncode == 0 and no_traceback(r.stderr), r.stderr.decode()
    r = cli("runs", out, env=strict)
    assert r.returncode == 0 and no_traceback(r.stderr), r.stderr.decode()
    assert "gru-1x16-caf\ufffd ".encode() in r.stdout and "caf\ufffd.txt".encode() in r.stdout


# -----------------------------------------------------------------------------
# the app: typed text and names are text, corpus text and samples are shown


async def test_inspector_takes_markup_typed_as_a_unit_and_a_regex(trained_esc):
    from textual.content import Content

    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.inspect import InspectScreen
    from rnntui.ui.widgets.inspect.panels import UnitList

    app = RnntuiApp(inspect_checkpoint=str(trained_esc["esc"] / "latest.pt"), inspect_text=ESC_TEXT[:200])
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen) and app.screen.view is not None, 60)
        await pilot.press("u", "left_square_bracket", "slash", "right_square_bracket", "enter")
        await wait_for(pilot, lambda: any("no unit '[/]'" in n.message for n in notifications(app)))
        await pilot.pause(0.3)  # the toast is drawn: the old code exited here with a MarkupError
        await pilot.press("slash", "left_square_bracket", "slash", "right_square_bracket", "enter")
        await wait_for(pilot, lambda: "/[/]/" in app.screen.view.ranking, 30)  # the unit list's title
        await pilot.pause(0.3)
        assert app.is_running and isinstance(app.screen, InspectScreen)
        shown = Content.from_markup(app.screen.query_one(UnitList).border_title).plain  # the getter gives markup
        assert "/[/]/" in shown, shown


async def test_setup_refuses_a_missing_corpus_named_like_markup(tmp_path, monkeypatch):
    """`rnntui 'no[/pe'` and ctrl+s: the old code exited with a MarkupError from the toast."""
    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.setup import SetupScreen

    monkeypatch.chdir(tmp_path)
    app = RnntuiApp(corpus="no[/pe", trainer_factory=FakeTrainer)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen) and app.screen.corpus_error is not None)
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("no[/pe" in n.message for n in notifications(app)))
        await pilot.pause(0.3)
        assert app.is_running and isinstance(app.screen, SetupScreen) and app.session is None


async def test_a_run_named_with_markup_and_escapes_starts_and_shows(tmp_path):
    """From the setup screen to the dashboard with a run named 'no[/pe' and one named with ESC: the
    header, the notifications and the samples show them; nothing is parsed or sent."""
    from dataclasses import replace

    from textual.widgets._header import HeaderTitle

    from rnntui.core.events import Sample
    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.setup import SetupScreen
    from rnntui.ui.screens.train import TrainScreen
    from rnntui.ui.widgets.samples import SamplesPanel

    class EscTrainer(FakeTrainer):
        steps = 60

        def run(self, stop, pause):
            for e in super().run(stop, pause):
                yield Sample(e.step, "", f"sample {HOSTILE}{CLEAR_RED} [/] end", 0.8) if isinstance(e, Sample) else e

    for name in ("no[/pe", f"x{CLEAR_RED}red"):
        app = RnntuiApp(corpus="tiny", trainer_factory=EscTrainer)
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
            await pilot.pause()
            cfg = app.screen.read_config()
            app.start_run(replace(cfg, run_name=name, out_dir=str(tmp_path)))
            await wait_for(pilot, lambda: isinstance(app.screen, TrainScreen) and app.state.finished is not None)
            await pilot.pause(0.3)
            title = str(app.screen.query_one(HeaderTitle).render())
            assert app.is_running and "\x1b" not in title and name.replace("\x1b", "␛") in title
            samples = app.screen.query_one(SamplesPanel).content().plain
            assert "sample ␛]0;PWNED␇␛[2J␛[31m [/] end" in samples and "\x1b" not in samples


async def test_runs_screen_and_delete_dialog_show_odd_names(trained_esc):
    from textual.widgets import DataTable, Label

    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.runs import ConfirmDelete, RunsScreen

    app = RnntuiApp(corpus="tiny", trainer_factory=FakeTrainer, runs_root=str(trained_esc["root"]))
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await pilot.pause()
        app.push_screen(RunsScreen(trained_esc["root"]))
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunsScreen) and sum(t.row_count for t in app.screen.query(DataTable)) >= 2,
            30,
        )
        table = app.screen.query_one(DataTable)
        names = {table.get_row_at(i)[1].plain for i in range(table.row_count)}
        assert {"x[@a=(]", "e␛]0;PWNED␇"} <= names
        while app.screen.current().name != "x[@a=(]":
            await pilot.press("down")
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDelete))
        said = " ".join(str(label.render()) for label in app.screen.query(Label))
        assert "Delete run x[@a=(]?" in said
        await pilot.press("n")
        await pilot.pause(0.3)
        assert app.is_running and (trained_esc["root"] / "x[@a=(]").exists()


async def test_corpus_preview_shows_escape_sequences(trained_esc):
    from rnntui.ui.app import RnntuiApp
    from rnntui.ui.screens.setup import SetupScreen

    app = RnntuiApp(corpus=str(trained_esc["corpus"]), trainer_factory=FakeTrainer)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, SetupScreen) and "PWNED" in str(app.screen.query_one("#corpus-preview").render())
            ),
            30,
        )
        preview = str(app.screen.query_one("#corpus-preview").render())
        assert "\x1b" not in preview and "\x07" not in preview and "text ␛]0;PWNED␇ and" in preview


def test_the_app_on_a_terminal_does_not_send_a_corpus_escape(trained_esc):
    """The real app on a pty opens the corpus (its preview on the setup screen), then ctrl+q: the old code
    set the terminal's title to PWNED."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    p = subprocess.Popen(
        rnntui(str(trained_esc["corpus"])), stdin=slave, stdout=slave, stderr=slave, env=env(), start_new_session=True
    )
    os.close(slave)
    seen, end = b"", time.monotonic() + 90
    while b"PWNED" not in seen and time.monotonic() < end and p.poll() is None:
        if select.select([master], [], [], 0.5)[0]:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    time.sleep(0.5)
    os.write(master, b"\x11")  # ctrl+q
    seen += read_until_closed(master, 60, p)
    assert p.wait(timeout=30) == 0
    assert b"PWNED" in seen and b"\x1b]0;PWNED" not in seen and b"PWNED\x07" not in seen
