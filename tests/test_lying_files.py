"""Files that lie (issue 18, item 9): a run folder's run.json and metrics.jsonl as a hostile
user leaves them, through the real command line. (Item 11's memory inside a container: test_memory.py.)

The run folders are real: one tiny run trained by `rnntui train` in a subprocess, copied and then broken
with real FIFOs, symbolic links to /dev/zero, oversized and torn lines. Every command runs in a subprocess
with a timeout (a hang fails the test instead of stalling it) and must answer with one line or a row marked
bad, never a traceback.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from rnntui.core.records import Follower, LogError, MetricsLog, read_log, read_records
from rnntui.core.runlist import list_runs
from rnntui.core.runs import RunDir, RunDirError

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--model", "gru", "--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16", "--batch-size", "4",
         "--device", "cpu", "--no-samples"]


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "rnntui", *args], capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


def one_line(r: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2 with one error line, the last thing on stderr, naming `words`; no traceback."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and lines and lines[-1].startswith("rnntui: error: "), r.stderr
    assert sum(x.startswith("rnntui: error") for x in lines) == 1, r.stderr
    for w in words:
        assert w in lines[-1], r.stderr


def finishes(fn, seconds: float = 20):
    """fn() in a thread: its result (or its exception, raised here), or a failed test if it has not returned
    in `seconds` (a hang)."""
    box: dict = {}

    def body() -> None:
        try:
            box["out"] = fn()
        except BaseException as e:  # handed to the test's thread
            box["error"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn} still running after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["out"]


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A real run folder: 20 steps of a tiny GRU trained by `rnntui train`."""
    out = tmp_path_factory.mktemp("trained")
    r = cli("train", "tiny", "--steps", "20", *SMALL, "--out-dir", str(out), "--run-name", "good")
    assert r.returncode == 0, r.stderr
    return out / "good"


def copy_run(good: Path, root: Path, name: str) -> RunDir:
    shutil.copytree(good, root / name)
    return RunDir(root / name)


# -----------------------------------------------------------------------------
# 9. run.json and metrics.jsonl that lie


def _deep(p: Path) -> None:
    p.write_text("[" * 100_000)


BAD_INFO = {  # name -> how its run.json is broken
    "list": lambda p: p.write_text("[]"),
    "inf-updated": lambda p: p.write_text(p.read_text().replace('"updated": ', '"updated": 1e999, "x": ')),
    "text-pid": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "pid": "1"})),
    "bad-config": lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "config": {"model": 5}})),
    "not-json": lambda p: p.write_text('{"name": '),
    "deep": _deep,
    "huge": lambda p: p.write_bytes(b" " * (2 << 20)),
    "fifo": lambda p: (p.unlink(), os.mkfifo(p)),
    "dev-zero": lambda p: (p.unlink(), p.symlink_to("/dev/zero")),
    "folder": lambda p: (p.unlink(), p.mkdir()),
}
BAD_LOG = {  # name -> how its metrics.jsonl is broken, with run.json intact
    "log-fifo": lambda p: (p.unlink(), os.mkfifo(p)),
    "log-dev-zero": lambda p: (p.unlink(), p.symlink_to("/dev/zero")),
}


@pytest.fixture(scope="module")
def lying(good, tmp_path_factory) -> Path:
    """A folder of runs: one good, one per way of breaking run.json or metrics.jsonl."""
    root = tmp_path_factory.mktemp("lying")
    copy_run(good, root, "good")
    for name, spoil in BAD_INFO.items():
        spoil(copy_run(good, root, name).info_path)
    for name, spoil in BAD_LOG.items():
        spoil(copy_run(good, root, name).metrics)
    return root


def test_runs_lists_each_bad_folder_as_one_bad_row(lying):
    r = cli("runs", str(lying), "--json", timeout=60)  # a FIFO used to hang this for ever
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert set(rows) == {"good", *BAD_INFO, *BAD_LOG}
    assert rows["good"]["state"] == "completed" and rows["good"]["steps"] == 20
    for name in [*BAD_INFO, *BAD_LOG]:
        assert rows[name]["state"] == "bad" and rows[name]["message"].startswith(str(lying / name)), rows[name]
        assert "\n" not in rows[name]["message"]
    assert "pid must be a whole number" in rows["text-pid"]["message"]
    assert "FIFO" in rows["fifo"]["message"] and "device" in rows["log-dev-zero"]["message"]


def test_runs_table_marks_the_bad_rows_and_says_why_on_stderr(lying):
    r = cli("runs", str(lying), timeout=60)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    states = {line.split()[0]: line.split()[-3] for line in r.stdout.splitlines()[1:]}
    assert states.pop("good") == "completed" and set(states.values()) == {"bad"}
    warnings = r.stderr.strip().splitlines()
    assert len(warnings) == len(BAD_INFO) + len(BAD_LOG) and all(w.startswith("rnntui: warning: ") for w in warnings)


def test_readers_never_block_on_a_fifo_or_a_device(lying):
    for name in ("fifo", "dev-zero"):
        run = RunDir(lying / name)
        assert finishes(run.read_info) is None
        with pytest.raises(RunDirError, match="not a regular file"):
            finishes(run.load_info)
    for name in ("log-fifo", "log-dev-zero"):
        metrics = RunDir(lying / name).metrics
        assert finishes(lambda: read_records(metrics)) == [] and finishes(Follower(metrics).poll) == []
    assert len(finishes(lambda: list_runs(lying))) == 1 + len(BAD_INFO) + len(BAD_LOG)


@pytest.mark.parametrize("name", ["fifo", "log-dev-zero"])
def test_watch_refuses_a_lying_folder_in_one_line(lying, name):
    one_line(cli("watch", str(lying / name), timeout=60), "not a regular file")


def test_a_deeply_nested_or_oversized_line_is_skipped_and_the_rest_read(good, tmp_path):
    run = copy_run(good, tmp_path, "r")
    whole = read_records(run.metrics)
    with open(run.metrics, "a") as f:
        f.write("[" * 100_000 + "\n")  # used to raise RecursionError in every reader
        f.write('{"type": "sample", "step": 1, "text": "' + "x" * (5 << 20) + '"}\n')  # longer than any record
        f.write('{"type": "step", "step": 21, "loss": 1.5, "chars_seen": "many"}\n')  # a field of the wrong type
        f.write('{"type": "step", "step": 22, "loss": 1.5, "wall_s": 1e999}\n')  # not finite
        f.write('{"type": "step", "step": 23, "loss": 1.5}\n')
    assert read_records(run.metrics) == whole + [{"type": "step", "step": 23, "loss": 1.5}]
    assert read_log(run.metrics).steps[-1] == 23
    follower = Follower(run.metrics)
    assert follower.poll()[-1]["step"] == 23 and follower._partial == b""
    assert [r.name for r in list_runs(tmp_path)] == ["r"] and list_runs(tmp_path)[0].state == "completed"


def test_a_follower_holds_at_most_one_line_of_an_endless_one(tmp_path):
    p = tmp_path / "metrics.jsonl"
    p.write_bytes(b'{"type": "step", "step": 1}\n' + b"x" * (9 << 20))  # 9 MB and no end of line yet
    f = Follower(p)
    assert [r["step"] for r in f.poll()] == [1] and f._partial == b"" and f._skipping
    with open(p, "ab") as out:
        out.write(b'\n{"type": "step", "step": 2}\n')
    assert [r["step"] for r in f.poll()] == [2]


def test_resume_never_appends_through_a_symlinked_log(good, tmp_path):
    run = copy_run(good, tmp_path, "r")
    target = tmp_path / "elsewhere.jsonl"
    run.metrics.rename(target)
    run.metrics.symlink_to(target)
    before = target.read_bytes()
    one_line(cli("train", "tiny", "--resume", str(run.latest), "--steps", "30", *SMALL), "symbolic link")
    assert target.read_bytes() == before


def test_the_run_folder_log_must_be_a_regular_file(tmp_path):
    fifo = tmp_path / "metrics.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(LogError, match="not a regular file"):
        finishes(lambda: MetricsLog(fifo, run_file=True))  # O_NONBLOCK: refused, not waited on


def test_atomic_writes_never_follow_a_planted_link(tmp_path):
    run = RunDir(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / f".run.json.tmp{os.getpid()}").symlink_to(victim)
    with pytest.raises(RunDirError):
        run.write_info(_info())
    assert victim.read_text() == "keep me"


def _info():
    from rnntui.core.config import TrainConfig, config_to_dict
    from rnntui.core.runs import new_info

    return new_info(RunDir(Path("x")), config_to_dict(TrainConfig()), "tiny", "f", 1, "cpu")


def test_an_append_after_a_torn_line_starts_a_new_line(good, tmp_path):
    run = copy_run(good, tmp_path, "r")
    with open(run.metrics, "a") as f:  # what a writer killed mid-record leaves
        f.write('{"type": "step", "step": 21, "lo')
    r = cli("train", "tiny", "--resume", str(run.latest), "--steps", "30", *SMALL)
    assert r.returncode == 0, r.stderr
    starts = [rec["step"] for rec in read_records(run.metrics) if rec["type"] == "start"]
    assert starts == [0, 20]  # the resume's start record used to be glued onto the torn line and lost
    assert read_log(run.metrics).steps[-1] == 30
