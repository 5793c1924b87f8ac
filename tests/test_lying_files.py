"""Files that lie (issue 18, items 9-11): a run folder's run.json, metrics.jsonl and checkpoints as a hostile
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
import time
from pathlib import Path

import pytest
import torch
from helpers import rnntui_env, tiny_args

from rnntui.core.config import ModelConfig, RnntuiError
from rnntui.core.model import memory
from rnntui.core.runs.checkpoints import CheckpointError, load_checkpoint
from rnntui.core.runs.files import RunDirError
from rnntui.core.runs.folder import RunDir
from rnntui.core.runs.listing import list_runs
from rnntui.core.runs.records import LogError, MetricsLog
from rnntui.core.runs.runlog import Follower, read_log, read_records

SMALL = tiny_args("gru")


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnntui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=rnntui_env(),
        stdin=subprocess.DEVNULL,
    )


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
    from rnntui.core.runs.folder import new_info

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


async def test_the_runs_screen_lists_the_lying_folders_as_bad_rows(lying):
    """The app's Runs screen reads the same listing: a FIFO among the folders, and no hang."""
    from fake_engine import wait_for
    from test_ui_runs import make_app

    from rnntui.ui.screens.runs import RunsScreen
    from rnntui.ui.screens.setup import SetupScreen

    app = make_app(lying)
    n = 1 + len(BAD_INFO) + len(BAD_LOG)
    async with app.run_test(size=(140, 50)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.press("ctrl+r")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, RunsScreen) and app.screen.query_one("#runs-table").row_count == n,
            timeout=30,
        )
        table = app.screen.query_one("#runs-table")
        states = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[9]) for i in range(n)}
        assert states.pop("good") == "completed" and set(states.values()) == {"bad"}


async def test_watch_reads_past_a_deeply_nested_line(tmp_path):
    """A watched run whose log holds 100,000 `[` (once a RecursionError toast on the setup screen)."""
    from fake_engine import notifications, wait_for
    from test_ui_runs import make_app, make_run

    from rnntui.ui.screens.train import TrainScreen

    run = make_run(tmp_path, "deep", state="running", end=False, steps=50, updated=time.time())
    with open(run.metrics, "a") as f:
        f.write("[" * 100_000 + "\n")
        f.write(json.dumps({"type": "step", "step": 60, "loss": 1.0, "chars_seen": 7680, "wall_s": 6.0}) + "\n")
    app = make_app(tmp_path, watch=str(run.path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, TrainScreen) and app.state.metrics is not None and app.state.metrics.step == 60
            ),
            timeout=30,
        )
        await wait_for(pilot, lambda: len(app.screen.query("#samples-text")) == 1)  # mounted: a clean exit
        assert not any("Error" in str(note) for note in notifications(app))


# -----------------------------------------------------------------------------
# 10. checkpoints: every field, and the memory of the model they describe


def _spoil(d: dict, name: str) -> dict:
    d = dict(d)
    if name == "step":
        d["step"] = "x"
    elif name == "model":
        d["model"] = []
    elif name == "val_history":
        d["val_history"] = [1]
    elif name == "head.bias":
        d["model"] = {k: v for k, v in d["model"].items() if k != "head.bias"}
    elif name == "shape":
        d["model"] = {**d["model"], "head.weight": torch.zeros(3, 3)}
    elif name == "nan":
        d["model"] = {**d["model"], "head.bias": torch.full_like(d["model"]["head.bias"], float("nan"))}
    elif name == "vocab":
        d["vocab"] = d["vocab"][:-1]
    elif name == "config":
        d["config"] = {**d["config"], "seq_len": "64"}
    elif name == "optimizer":
        d["optimizer"] = {"state": {0: {"step": torch.tensor(1.0)}}, "param_groups": d["optimizer"]["param_groups"]}
    elif name == "rng":
        d["rng"] = {"torch": torch.zeros(5056, dtype=torch.uint8)}
    elif name == "state":
        d["state"] = [torch.zeros(2, 4, 99)]
    elif name == "history":
        d["history"] = {"steps": [1, 2], "values": [1.0]}
    elif name == "best_val_loss":
        d["best_val_loss"] = "low"
    return d


SPOILED = [
    "step",
    "model",
    "val_history",
    "head.bias",
    "shape",
    "nan",
    "vocab",
    "config",
    "optimizer",
    "rng",
    "state",
    "history",
    "best_val_loss",
]
ISSUE_CASES = ["step", "model", "val_history", "head.bias"]  # the issue's four, each through every command


@pytest.fixture(scope="module")
def spoiled(good, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("spoiled")
    d = torch.load(good / "latest.pt", weights_only=True)
    for name in SPOILED:
        torch.save(_spoil(d, name), folder / f"{name}.pt")
    return folder


@pytest.mark.parametrize("name", SPOILED)
def test_each_bad_checkpoint_field_is_one_line_naming_it(spoiled, name):
    p = spoiled / f"{name}.pt"
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(p)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"{p}: bad checkpoint: ")
    assert name.split(".")[0] in message or name in ("shape", "nan", "head.bias"), message


@pytest.mark.parametrize("name", ISSUE_CASES)
def test_bad_checkpoints_through_sample_inspect_and_resume(spoiled, tmp_path, name):
    p = str(spoiled / f"{name}.pt")
    one_line(cli("sample", p, "--length", "5"), p, "bad checkpoint")
    one_line(cli("inspect", p), p, "bad checkpoint")  # refused before the app opens
    one_line(
        cli("train", "tiny", "--resume", p, "--steps", "30", *SMALL, "--out-dir", str(tmp_path)), p, "bad checkpoint"
    )


def _huge(good: Path, folder: Path) -> Path:
    """A checkpoint whose config asks for a 16x8192 LSTM, with the small real state dict: the config alone
    must be refused, before any model is built (building it would take ~34 GB for the weights alone)."""
    d = torch.load(good / "latest.pt", weights_only=True)
    d["config"] = {**d["config"], "model": {**d["config"]["model"], "kind": "lstm", "hidden": 8192, "layers": 16}}
    p = folder / "huge.pt"
    torch.save(d, p)
    return p


def test_a_checkpoint_too_large_for_memory_is_refused_before_building(good, tmp_path):
    p = str(_huge(good, tmp_path))
    need = memory.inference_bytes(ModelConfig(kind="lstm", hidden=8192, layers=16), 65)
    # ~100 GB: refused as too large on any ordinary machine; on a larger one the small state dict is refused
    said = "too large" if (memory.host_available_bytes() or 0) * memory.FIT_FRACTION < need else "does not fit"
    for args in (("sample", p, "--length", "5"), ("inspect", p)):
        one_line(cli(*args, timeout=60), said)


def test_every_model_build_checks_memory_first(good, tmp_path, monkeypatch):
    """generate and inspect from a checkpoint dict (what the app does) refuse before CharModel exists."""
    from rnntui.core.analysis import inspect
    from rnntui.core.generate import sampling
    from rnntui.core.model import cells as models
    from rnntui.core.runs import checkpoints

    ckpt = load_checkpoint(good / "latest.pt")
    monkeypatch.setattr(memory, "host_available_bytes", lambda: 1000)  # a machine with 1 kB free

    def never(*a, **kw):
        raise AssertionError("the model was built before its memory was checked")

    monkeypatch.setattr(checkpoints, "CharModel", never)
    monkeypatch.setattr(models, "CharModel", never)
    for build in (
        lambda: inspect.inspect_checkpoint(ckpt, "hello"),
        lambda: sampling.Sampler.from_checkpoint(ckpt),
        lambda: load_checkpoint(good / "latest.pt"),
    ):
        with pytest.raises(RnntuiError, match="too large"):
            build()
