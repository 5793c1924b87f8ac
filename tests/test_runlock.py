"""Two processes, one run folder: real `rnntui train` processes racing for folders, many times over.

Each race starts its processes behind a barrier: every process first imports torch and the engine (the
slow part), says it is ready, and waits for a start file; all of them then reach the run folder within
a few milliseconds of each other, as `for s in 1 2 3 4; do rnntui train ... & done` does on a fast
machine. The models are tiny (30 steps of a 1x16 GRU) so the file stays about a minute.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from helpers import rnntui_env, tiny_args

ENV = rnntui_env()  # one torch thread each: four at once on a few cores
S = tiny_args()  # the default cell, a 1x16 GRU
ROUNDS = 3  # races of each kind: a race lost once in three is seen

BARRIER = textwrap.dedent("""
    import os, sys, time
    import rnntui.cli, rnntui.cli.train, rnntui.cli.progress, rnntui.core.train.engine  # the slow imports first
    ready, go = sys.argv[1], sys.argv[2]
    open(ready, "w").close()
    while not os.path.exists(go):
        time.sleep(0.001)
    sys.exit(rnntui.cli.main(sys.argv[3:]))
""")


def release(tmp: Path, *argvs: list[str]) -> list[subprocess.Popen]:
    """Start one `rnntui` per argv and release them together; the running processes."""
    tmp.mkdir(parents=True, exist_ok=True)
    go = tmp / f"go-{time.monotonic_ns()}"
    procs, ready = [], []
    for i, argv in enumerate(argvs):
        ready.append(tmp / f"{go.name}-ready{i}")
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", BARRIER, str(ready[i]), str(go), *argv],
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    deadline = time.monotonic() + 120
    while not all(r.exists() for r in ready):
        assert all(p.poll() is None for p in procs), "a racer died before the start"
        assert time.monotonic() < deadline, "the racers never got ready"
        time.sleep(0.01)
    go.touch()
    return procs


def race(tmp: Path, *argvs: list[str]) -> list[tuple[int, str]]:
    """Start one `rnntui` per argv, release them together; (exit status, stderr) of each."""
    return [(p.wait(timeout=180), p.communicate()[1]) for p in release(tmp, *argvs)]


def rnntui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnntui", *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )


def records(run: Path) -> list[dict]:
    return [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines() if x.strip()]


def kinds(run: Path, kind: str) -> list[dict]:
    return [r for r in records(run) if r["type"] == kind]


def one_line(stderr: str) -> bool:
    lines = [x for x in stderr.strip().splitlines() if x.startswith("rnntui: error")]
    return len(lines) == 1 and stderr.strip().splitlines()[-1] == lines[0] and "Traceback" not in stderr


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def runs_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_dir()}


def train(out: Path, name: str, *extra: str) -> None:
    r = rnntui("train", "tiny", "--steps", "30", *S, "--out-dir", str(out), "--run-name", name, *extra)
    assert r.returncode == 0, r.stderr


# -----------------------------------------------------------------------------
# 1. parallel new runs: one folder each


def test_four_parallel_runs_get_four_folders(tmp_path):
    for k in range(ROUNDS):
        out = tmp_path / f"round{k}"
        got = race(
            tmp_path,
            *(["train", "tiny", "--steps", "30", "--seed", str(s), *S, "--out-dir", str(out)] for s in (1, 2, 3, 4)),
        )
        assert [rc for rc, _ in got] == [0, 0, 0, 0], [err[-400:] for _, err in got]
        assert runs_in(out) == {"gru-1x16-tiny", "gru-1x16-tiny-2", "gru-1x16-tiny-3", "gru-1x16-tiny-4"}
        seeds = set()
        for run in out.iterdir():
            assert len(kinds(run, "start")) == 1, run  # one run's log, not four merged
            steps = [r["step"] for r in kinds(run, "step")]
            assert steps and len(steps) == len(set(steps)) and steps[-1] == 30, (run, steps)
            info = json.loads((run / "run.json").read_text())
            assert info["name"] == run.name and info["state"] == "completed" and info["steps"] == 30
            seeds.add(info["config"]["seed"])
        assert seeds == {1, 2, 3, 4}  # every run kept its own folder (no checkpoint lost)
        moved = [err for _, err in got if "holds another run" in err]
        assert len(moved) == 3, got  # the three that moved to a fresh name say so


# -----------------------------------------------------------------------------
# 2. --overwrite never deletes a live run


def wait_for_step(run: Path, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ((run / "metrics.jsonl").is_file() and kinds(run, "step")):
        assert proc.poll() is None, "the live run ended early"
        assert time.monotonic() < deadline, "the live run never logged a step"
        time.sleep(0.05)


def test_overwrite_refuses_a_live_run_and_leaves_it_intact(tmp_path):
    run = tmp_path / "L"
    live = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rnntui",
            "train",
            "tiny",
            "--steps",
            "10000000",
            *S,
            "--out-dir",
            str(tmp_path),
            "--run-name",
            "L",
        ],
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_step(run, live)
        for _ in range(2):
            r = rnntui(
                "train", "tiny", "--steps", "30", *S, "--out-dir", str(tmp_path), "--run-name", "L", "--overwrite"
            )
            assert r.returncode == 2 and one_line(r.stderr), r.stderr
            assert "in use" in r.stderr and f"process {live.pid}" in r.stderr and "L" in r.stderr, r.stderr
            assert live.poll() is None and runs_in(tmp_path) == {"L"}
            assert json.loads((run / "run.json").read_text())["pid"] == live.pid
            assert len(kinds(run, "start")) == 1
    finally:
        live.send_signal(signal.SIGTERM)
        rc = live.wait(timeout=120)
    assert rc == 128 + signal.SIGTERM
    info = json.loads((run / "run.json").read_text())
    assert info["state"] == "stopped" and info["pid"] == live.pid and len(kinds(run, "start")) == 1
    steps = [r["step"] for r in kinds(run, "step")]
    assert len(steps) == len(set(steps)) and (run / "latest.pt").is_file()


# -----------------------------------------------------------------------------
# 3. two resumes of one checkpoint: one proceeds, the other is refused


def test_two_resumes_started_together_one_proceeds(tmp_path):
    """The winner trains on (a budget it cannot finish here) until the loser has been refused, then is
    stopped: with a short budget a racer scheduled late could start after the winner had finished, which
    is a legitimate second resume, not a race."""
    run = tmp_path / "R"
    train(tmp_path, "R")
    for k in range(1, ROUNDS + 1):
        procs = release(
            tmp_path / "barrier",
            *(
                ["train", "--resume", str(run / "latest.pt"), "--steps", "1000000", "--no-samples", "--device", "cpu"]
                for _ in range(2)
            ),
        )
        deadline = time.monotonic() + 180
        while all(p.poll() is None for p in procs):
            assert time.monotonic() < deadline, "neither resume ended"
            time.sleep(0.05)
        loser = next(p for p in procs if p.poll() is not None)
        winner = next(p for p in procs if p is not loser)
        refused = loser.communicate()[1]
        assert loser.returncode == 2 and one_line(refused) and str(run) in refused, refused
        assert winner.poll() is None, "the winner ended first: it was not trained on while the loser was refused"
        winner.send_signal(signal.SIGTERM)
        said = winner.communicate(timeout=180)[1]
        assert winner.returncode == 143, said[-400:]
        assert runs_in(tmp_path) == {"R", "barrier"}  # the refused one made no folder
        assert len(kinds(run, "start")) == k + 1
        done = [r["step"] for r in kinds(run, "step")]
        assert len(done) == len(set(done)) and done == sorted(done), done  # no step trained twice
        assert json.loads((run / "run.json").read_text())["steps"] >= done[-1]


# -----------------------------------------------------------------------------
# 4. a checkpoint in another run's folder starts a new folder


def test_a_checkpoint_copied_into_another_runs_folder_resumes_in_a_new_folder(tmp_path):
    train(tmp_path, "A")
    train(tmp_path, "B", "--model", "lstm", "--hidden", "24")  # another architecture
    shutil.copy(tmp_path / "A" / "latest.pt", tmp_path / "B" / "from-a.pt")
    before_a, before_b = files_of(tmp_path / "A"), files_of(tmp_path / "B")
    r = rnntui(
        "train", "--resume", str(tmp_path / "B" / "from-a.pt"), "--steps", "40", "--no-samples", "--device", "cpu"
    )
    assert r.returncode == 0, r.stderr
    assert files_of(tmp_path / "B") == before_b and files_of(tmp_path / "A") == before_a  # both untouched
    assert runs_in(tmp_path) == {"A", "B", "A-2"}
    new = tmp_path / "A-2"
    said = "".join(r.stderr.split())  # the note, however the progress printer wrapped it
    assert f"inanewfolder{new}:" in said and f"{tmp_path / 'B'}isnotitsrun'sfolder" in said, r.stderr
    info = json.loads((new / "run.json").read_text())
    assert info["name"] == "A-2" and info["steps"] == 40 and info["config"]["model"]["kind"] == "gru"
    assert [x["step"] for x in kinds(new, "start")] == [30]
    # the new folder is the run's own: resuming its checkpoint continues it in place
    r = rnntui("train", "--resume", str(new / "latest.pt"), "--steps", "50", "--no-samples", "--device", "cpu")
    assert r.returncode == 0 and runs_in(tmp_path) == {"A", "B", "A-2"}, r.stderr
    assert len(kinds(new, "start")) == 2


# -----------------------------------------------------------------------------
# 5. a folder of runs that itself looks like a run


def test_runs_lists_the_runs_under_a_folder_that_looks_like_a_run(tmp_path):
    out = tmp_path / "checkpoints"
    out.mkdir()
    train(out, "one", "--metrics", str(out / "metrics.jsonl"))  # the top folder gets a metrics.jsonl
    train(out, "two")
    shutil.copy(out / "one" / "latest.pt", out / "copy.pt")  # and a checkpoint
    r = rnntui("runs", str(out))
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    assert sorted(names) == ["one", "two"], r.stdout
    r = rnntui("runs", str(out), "--json")
    assert sorted(x["name"] for x in json.loads(r.stdout)) == ["one", "two"]
    r = rnntui("runs", str(out / "one"))  # a run folder given itself still lists itself
    assert [line.split()[0] for line in r.stdout.splitlines()[1:]] == ["one"], r.stdout
    # resuming the stray copy starts a new run folder among the others, not in the folder of runs
    r = rnntui("train", "--resume", str(out / "copy.pt"), "--steps", "40", "--no-samples", "--device", "cpu")
    assert r.returncode == 0, r.stderr
    assert runs_in(out) == {"one", "two", "one-2"} and not (out / "run.json").exists()
    r = rnntui("watch", str(out))
    assert r.returncode == 2 and one_line(r.stderr) and "holds run folders" in r.stderr, r.stderr


# -----------------------------------------------------------------------------
# the lock itself


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from rnntui.core.runs.lock import RunLock
    lock = RunLock.take(Path(sys.argv[1]))
    print("held", flush=True)
    time.sleep(600)
""")


def hold(folder: Path) -> subprocess.Popen:
    """Another process holding the folder's lock (as a training process does), until killed."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], env=ENV, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "held"
    return p


def test_a_lock_held_by_a_sigkilled_process_is_free_again(tmp_path):
    from rnntui.core.runs.lock import RunBusy, RunLock, lock_holder

    folder = tmp_path / "run"
    folder.mkdir()
    for _ in range(ROUNDS):
        p = hold(folder)
        assert lock_holder(folder) == f"process {p.pid} on {os.uname().nodename}"
        with pytest.raises(RunBusy, match=f"in use by process {p.pid}"):
            RunLock.take(folder)
        p.kill()
        p.wait()
        assert lock_holder(folder) is None
        RunLock.take(folder).release()


def test_one_process_cannot_take_a_folder_twice_and_reading_writes_nothing(tmp_path):
    from rnntui.core.runs.lock import RunBusy, RunLock, lock_holder

    folder = tmp_path / "run"
    folder.mkdir()
    assert lock_holder(folder) is None and not list(folder.iterdir())  # a probe never creates the lock file
    lock = RunLock.take(folder)
    assert lock_holder(folder) == f"process {os.getpid()} on {os.uname().nodename}"  # the same process sees it
    with pytest.raises(RunBusy):
        RunLock.take(folder)  # flock is per open file: a second take in the same process is refused too
    lock.release()
    lock.release()  # twice is harmless
    RunLock.take(folder).release()


def test_delete_refuses_a_live_run_and_a_folder_of_runs(tmp_path):
    from rnntui.core.runs.files import RunDirError
    from rnntui.core.runs.lock import RunBusy
    from rnntui.core.runs.placement import delete_run

    runs = tmp_path / "checkpoints"
    live, done = runs / "live", runs / "done"
    for f in (live, done):
        f.mkdir(parents=True)
        (f / "run.json").write_text("{}")
    (runs / "metrics.jsonl").write_text("")  # the folder of runs looks like a run itself
    p = hold(live)
    try:
        with pytest.raises(RunBusy, match=f"process {p.pid}"):
            delete_run(tmp_path / "checkpoints" / ".." / "checkpoints" / "live")  # another spelling of its path
        assert (live / "run.json").is_file()
        with pytest.raises(RunDirError, match="holds run folders"):
            delete_run(runs)
        assert (done / "run.json").is_file()
        delete_run(done)
        assert not done.exists()
    finally:
        p.kill()
        p.wait()
    delete_run(live)
    assert not live.exists()
