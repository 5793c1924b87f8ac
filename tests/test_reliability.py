"""Never lose a run, and every failure is one line: the reliability issue's items, each reproduced.

Engine-level cases run in-process on an in-memory corpus; the CLI cases run `rnntui` in a subprocess as a
user would. The full-disk case mounts a small tmpfs and is skipped where mounting is not allowed.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest
import torch
from helpers import TEXT, TINY, rnntui_env, tiny_args, tiny_config

from rnntui.core import events as ev
from rnntui.core.config import ConfigError, ModelConfig, TrainConfig
from rnntui.core.data.corpus import corpus_from_text
from rnntui.core.model.memory import check_fits
from rnntui.core.runs.checkpoints import CheckpointError, load_checkpoint, save_checkpoint
from rnntui.core.runs.files import RunDirError, remove_stale_temps
from rnntui.core.runs.folder import RunDir
from rnntui.core.train.engine import Trainer

OTHER = ("the lazy dog jumps over the quick brown fox. " * 40 + "\n") * 3  # the same characters
SMALL = tiny_args("lstm")


def cfg(tmp_path, **kw) -> TrainConfig:
    """helpers.tiny_config as a 1x16 GRU for 10 steps, no evaluation."""
    gru = ModelConfig(kind="gru", hidden=16, layers=1, embed=8)
    return tiny_config(tmp_path, **{"model": gru, "steps": 10, "eval_every": 0, "warmup": 2, **kw})


def train(c, text=TEXT, stop=None, **kw):
    return list(Trainer(c, corpus=corpus_from_text("mem", text, c.val_frac), **kw).run(stop))


def cli(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "rnntui", *args], capture_output=True, text=True, timeout=timeout, env=rnntui_env()
    )


def one_line(stderr: str) -> bool:
    """One error line, the last thing printed (train's progress lines may come before it), no traceback."""
    lines = stderr.strip().splitlines()
    return (
        bool(lines)
        and lines[-1].startswith("rnntui: error: ")
        and "Traceback" not in stderr
        and sum(x.startswith("rnntui: error") for x in lines) == 1
    )


# -----------------------------------------------------------------------------
# 1. a run folder belongs to one run


def test_a_second_run_with_the_same_name_gets_a_fresh_folder(tmp_path):
    first = train(cfg(tmp_path))
    best_before = (tmp_path / "run" / "best.pt").read_bytes()
    second = train(cfg(tmp_path, seed=7))
    assert first[0].run_dir.endswith("run") and second[0].run_dir.endswith("run-2")
    assert "holds another run" in second[0].notice and "--overwrite" in second[0].notice
    assert (tmp_path / "run" / "best.pt").read_bytes() == best_before  # the first run is untouched
    assert json.loads((tmp_path / "run-2" / "run.json").read_text())["name"] == "run-2"


def test_overwrite_replaces_the_run(tmp_path):
    train(cfg(tmp_path))
    again = train(cfg(tmp_path, seed=7), overwrite=True)
    assert again[0].run_dir.endswith("run") and not (tmp_path / "run-2").exists()
    records = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["type"] for r in records].count("start") == 1  # the old log went with the old run


def test_resume_on_other_text_is_refused_unless_forced(tmp_path):
    train(cfg(tmp_path))
    latest = str(tmp_path / "run" / "latest.pt")
    with pytest.raises(CheckpointError, match="--force-corpus"):
        train(cfg(tmp_path, steps=20), text=OTHER, resume=latest)
    events = train(cfg(tmp_path, steps=20), text=OTHER, resume=latest, force_corpus=True)
    assert events[0].val_history == ()  # losses on other text are never compared with the old best
    assert events[-1].reason == "completed"


# -----------------------------------------------------------------------------
# 3, 4. the closing validation is bounded and a stop request ends it


def test_closing_validation_is_bounded_by_val_chars(tmp_path):
    big = "abc def ghi. " * 2000 + "\n"
    events = train(cfg(tmp_path, val_chars=4 * 16 * 2, save=False), text=big)
    final = [e for e in events if isinstance(e, ev.EvalMetrics)][-1]
    assert not final.full  # 2 windows of a ~2,600-char split
    whole = train(cfg(tmp_path, val_chars=0, save=False), text=big)
    assert [e for e in whole if isinstance(e, ev.EvalMetrics)][-1].full


def test_a_stop_during_the_closing_validation_ends_it_and_still_saves(tmp_path):
    stop = threading.Event()
    events = []
    for e in Trainer(cfg(tmp_path, steps=10, val_chars=0), corpus=corpus_from_text("mem", TEXT * 20)).run(stop):
        events.append(e)
        if isinstance(e, ev.StepMetrics) and e.step == 10:
            stop.set()  # the budget is spent: the closing pass starts with the stop already requested
    assert events[-1].reason == "completed" and events[-1].latest_path
    assert not any(isinstance(e, ev.EvalMetrics) and e.full for e in events)
    assert load_checkpoint(tmp_path / "run" / "latest.pt")["step"] == 10


# -----------------------------------------------------------------------------
# 5, 6, 7. saving: a full disk, an unwritable folder, temp files of killed saves


def test_a_failed_save_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch):
    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"model": {}, "config": {}, "vocab": "ab", "step": 1})
    import rnntui.core.runs.checkpoints as ck

    def full_disk(obj, f):
        f.write(b"x" * 100)
        raise RuntimeError(
            "[enforce fail at inline_container.cc:778] . PytorchStreamWriter failed writing file "
            "data/0: file write failed / unexpected pos 64 vs 0"
        )

    monkeypatch.setattr(ck.torch, "save", full_disk)
    monkeypatch.setattr(ck, "_why", lambda e, p: "no space left on device")
    with pytest.raises(CheckpointError, match=r"latest\.pt: could not save \(no space left on device\)"):
        save_checkpoint(path, {"model": {}, "config": {}, "vocab": "ab", "step": 2})
    # the file is a stand-in, not a whole checkpoint (load_checkpoint would refuse its empty model): read it raw
    assert torch.load(path, weights_only=True)["step"] == 1 and list(tmp_path.iterdir()) == [path]


@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_is_one_line_and_keeps_the_checkpoint(small_tmpfs):
    r = cli("train", TINY, "--steps", "20", "--out-dir", str(small_tmpfs), *SMALL)
    assert r.returncode == 0, r.stderr
    run = small_tmpfs / "lstm-1x16-tiny"
    free = os.statvfs(small_tmpfs).f_bavail * os.statvfs(small_tmpfs).f_frsize
    (small_tmpfs / "filler").write_bytes(b"\0" * max(0, free - 12_000))  # room for logs, not a checkpoint
    r = cli("train", "--resume", str(run / "latest.pt"), "--steps", "40")
    assert r.returncode == 2 and one_line(r.stderr), r.stderr
    assert "no space left" in r.stderr and str(run) in r.stderr
    assert load_checkpoint(run / "latest.pt")["step"] == 20  # the previous checkpoint is intact
    assert not [p for p in run.iterdir() if ".tmp" in p.name]


def test_metrics_on_a_full_disk_names_the_file(small_tmpfs):
    (small_tmpfs / "filler").write_bytes(b"\0" * (os.statvfs(small_tmpfs).f_bavail * os.statvfs(small_tmpfs).f_frsize))
    m = small_tmpfs / "m.jsonl"
    r = cli("train", TINY, "--steps", "20", "--out-dir", str(small_tmpfs.parent / "ck"), "--metrics", str(m), *SMALL)
    assert r.returncode == 2 and one_line(r.stderr) and "m.jsonl" in r.stderr, r.stderr


def test_an_unwritable_out_dir_is_found_before_the_first_step(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = cli("train", TINY, "--steps", "100000", "--out-dir", str(blocker), *SMALL, timeout=60)
    assert r.returncode == 2 and one_line(r.stderr) and "cannot write" in r.stderr, r.stderr
    with pytest.raises(RunDirError):
        RunDir(blocker / "run").prepare()


KILL_MID_SAVE = textwrap.dedent("""
    import os, signal, sys
    import rnntui.core.runs.checkpoints as ck
    from rnntui.core.config import ModelConfig, TrainConfig
    from rnntui.core.data.corpus import corpus_from_text
    from rnntui.core.train.engine import Trainer
    real_save, saves = ck.torch.save, []
    def torn_save(obj, f):
        saves.append(1)
        if len(saves) == 3:  # the third save: write half of it, then die as a SIGKILL would leave it
            f.write(b"PK" + b"x" * 5000); f.flush(); os.kill(os.getpid(), signal.SIGKILL)
        real_save(obj, f)
    ck.torch.save = torn_save
    cfg = TrainConfig(corpus="mem", model=ModelConfig(kind="gru", hidden=16, layers=1, embed=8), seq_len=16,
                      batch_size=4, steps=1000, eval_every=0, log_every=5, probe_hz=0, sample_every_s=0,
                      checkpoint_minutes=1e-6, out_dir=sys.argv[1], run_name="run", device="cpu")
    for e in Trainer(cfg, corpus=corpus_from_text("mem", "the quick brown fox. " * 300)).run():
        pass
""")


def test_sigkill_during_a_save_leaves_a_loadable_checkpoint_and_the_next_run_cleans_up(tmp_path):
    r = subprocess.run(
        [sys.executable, "-c", KILL_MID_SAVE, str(tmp_path)],
        capture_output=True,
        text=True,
        env=rnntui_env(),
        timeout=120,
    )
    assert r.returncode == -signal.SIGKILL, r.stderr
    run = RunDir(tmp_path / "run")
    assert [p.name for p in run.path.glob(".latest.pt.tmp*")]  # the torn temp file is there...
    assert load_checkpoint(run.latest)["step"] == 10  # ...and latest.pt is the last whole save
    assert run.read_info().state == "running" and not run.read_info().alive()  # killed: its pid is gone
    events = train(cfg(tmp_path, steps=20), text="the quick brown fox. " * 300, resume=str(run.latest))
    assert events[-1].reason == "completed" and not list(run.path.glob(".*.tmp*"))
    assert load_checkpoint(run.latest)["step"] == 20


def test_remove_stale_temps_keeps_a_live_writers_file(tmp_path):
    mine = tmp_path / f".latest.pt.tmp{os.getppid()}"  # a live process's temp file
    dead = tmp_path / ".best.pt.tmp999999999"
    for p in (mine, dead):
        p.write_bytes(b"x")
    assert remove_stale_temps(tmp_path) == [dead] and mine.exists()


# -----------------------------------------------------------------------------
# 8-11. input that used to end in a traceback or a misleading message


def test_a_model_too_large_is_refused_with_the_figures():
    with pytest.raises(ConfigError, match=r"needs about .* GB .* available .*--hidden \d+ would fit"):
        check_fits(ModelConfig(kind="lstm", hidden=8192, layers=16), 65, 32, 64, "cpu", available=16 * 10**9)
    check_fits(ModelConfig(), 65, 32, 64, "cpu", available=16 * 10**9)  # the defaults fit easily


def test_cli_refuses_a_huge_model_at_once():
    r = cli("train", TINY, "--hidden", "8192", "--layers", "16", "--device", "cpu", timeout=60)
    assert r.returncode == 2 and one_line(r.stderr) and "too large" in r.stderr, r.stderr


def test_a_text_file_given_as_a_checkpoint_says_so(tmp_path):
    p = tmp_path / "notes.pt"
    p.write_text("hello, this is not a checkpoint\n")
    with pytest.raises(CheckpointError, match="not a checkpoint .*text file"):
        load_checkpoint(p)
    p.write_text("a" + "é" * 300)  # the 512-byte head ends mid-character: still text
    with pytest.raises(CheckpointError, match="not a checkpoint .*text file"):
        load_checkpoint(p)


def test_binary_bytes_without_a_nul_are_not_called_text(tmp_path):
    p = tmp_path / "noise.pt"
    p.write_bytes(bytes(range(1, 256)) * 4)  # no NUL in the head, yet no text
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(p)
    assert "text file" not in str(e.value) and "noise.pt" in str(e.value)


# -----------------------------------------------------------------------------
# resuming with a larger budget re-plans the decay


def test_resume_with_a_larger_budget_replans_the_decay(tmp_path):
    c = cfg(tmp_path, steps=20, log_every=1, warmup=0)
    done = train(c)
    lr_end = [e.lr for e in done if isinstance(e, ev.StepMetrics)][-1]
    assert lr_end < 0.25 * c.lr  # the first plan decayed to the end of its 20 steps
    more = train(cfg(tmp_path, steps=60, log_every=1, warmup=0), resume=str(tmp_path / "run" / "latest.pt"))
    lrs = [e.lr for e in more if isinstance(e, ev.StepMetrics)]
    assert lrs[0] == c.lr  # a new plan from step 20: flat at the peak for 70% of the 40 new steps...
    assert lrs[-1] < 0.25 * c.lr  # ...then decayed again by its end
    ck = load_checkpoint(tmp_path / "run" / "latest.pt")
    assert ck["plan_start"] == 20 and ck["plan_steps"] == 60


def test_checkpoints_record_run_facts(tmp_path):
    train(cfg(tmp_path))
    ck = load_checkpoint(tmp_path / "run" / "latest.pt")
    assert ck["corpus"] == "mem" and len(ck["corpus_fingerprint"]) == 16 and ck["chars_seen"] == 10 * 4 * 16
    assert isinstance(ck["grad_history"], dict) and ck["wall_s"] > 0
    assert torch.is_tensor(ck["rng"]["torch"])


# -----------------------------------------------------------------------------
# a long first load shows its progress (the CLI's bar and the app's status read these events)


def test_loading_a_large_corpus_reports_progress_before_the_run_starts(tmp_path, monkeypatch):
    import rnntui.core.data.corpus as corpus

    monkeypatch.setattr(corpus, "LOADING_EVERY_S", 0.001)
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    big = tmp_path / "big.txt"
    big.write_text("the quick brown fox jumps over the lazy dog.\n" * 200_000)  # 9 MB: 3+ chunks a pass
    events = []
    # val_chars: the closing validation scores 2,000 characters, not the default 500,000 (7,800 windows of
    # a 4x16 batch: nearly all of this test's time); what is checked happens before RunStarted
    for e in Trainer(cfg(tmp_path, corpus=str(big), steps=1, save=False, val_chars=2000)).run():
        events.append(e)
    first_run = next(i for i, e in enumerate(events) if isinstance(e, ev.RunStarted))
    loading = [e for e in events[:first_run] if isinstance(e, ev.Loading)]
    assert loading and all(0 < e.done <= e.total for e in loading)
    assert not any(isinstance(e, ev.Loading) for e in events[first_run:])
