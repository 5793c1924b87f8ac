"""Data-parallel training (torch.distributed, gloo on the CPU): 2 ranks x batch B follow the trajectory of one
process with batch 2B, and every way a distributed start or run can fail is one line.

Ranks are real processes (subprocesses given the environment torchrun would give them), one thread each.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from rnntui.core import events as ev
from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.data.corpus import corpus_from_text
from rnntui.core.runs.checkpoints import Checkpoint
from rnntui.core.train.distributed import Dist
from rnntui.core.train.engine import Trainer
from rnntui.core.train.ranks import rank_slice

ROOT = Path(__file__).resolve().parent.parent
TEXT = ("the quick brown fox jumps over the lazy dog. " * 40 + "\n") * 3
B = 2  # streams per rank

# One rank: the same tiny run as `reference` below, written to run under the environment torchrun gives.
WORKER = textwrap.dedent("""
    import json, sys
    import torch
    from rnntui.core import events as ev
    from rnntui.core.config import ModelConfig, TrainConfig
    from rnntui.core.data.corpus import corpus_from_text
    from rnntui.core.train.distributed import init_from_env
    from rnntui.core.train.engine import Trainer

    cfg = TrainConfig(**json.loads(sys.argv[1]), model=ModelConfig(**json.loads(sys.argv[2])))
    resume = sys.argv[4] if len(sys.argv) > 4 else None
    dist = init_from_env("cpu")
    steps = []
    try:
        corpus = corpus_from_text("mem", sys.argv[3], cfg.val_frac)
        for e in Trainer(cfg, resume=resume, corpus=corpus, dist=dist).run():
            if isinstance(e, ev.StepMetrics):
                steps.append([e.step, e.loss, e.grad_norm])
    finally:
        dist.close()
    print(json.dumps({"rank": dist.rank, "world": dist.world_size, "threads": torch.get_num_threads(),
                      "steps": steps}))
""")

MODEL = dict(kind="lstm", hidden=16, layers=2, embed=8)


def run_kw(tmp_path, **kw):
    base = dict(
        corpus="mem",
        seq_len=16,
        batch_size=B,
        lr=1e-2,
        steps=6,
        eval_every=0,
        log_every=1,
        probe_hz=0,
        sample_every_s=0,
        device="cpu",
        bf16=False,
        warmup=3,
        schedule="constant",
        out_dir=str(tmp_path),
        run_name="ddp",
        save=True,
    )
    base.update(kw)
    return base


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_env(rank: int, world: int, port: int, tmp_path, timeout_s: float = 30) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TORCHELASTIC")}
    env.update(
        PYTHONPATH=str(ROOT),
        OMP_NUM_THREADS="1",
        RNNTUI_CACHE=str(tmp_path / "cache"),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        LOCAL_WORLD_SIZE=str(world),
        RNNTUI_DIST_TIMEOUT=str(timeout_s),
    )
    return env


def start_ranks(argv_of, tmp_path, world=2, timeout_s: float = 120, cwd=None) -> list[subprocess.Popen]:
    port = free_port()
    return [
        subprocess.Popen(
            [sys.executable, *argv_of(r)],
            env=rank_env(r, world, port, tmp_path, timeout_s),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd or tmp_path,
        )
        for r in range(world)
    ]


def finish(procs, timeout=120) -> list[tuple[int, str, str]]:
    out = []
    for p in procs:
        try:
            so, se = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("a rank hung")
        out.append((p.returncode, so, se))
    return out


def run_ranks(tmp_path, *resume, **kw) -> list[dict]:
    """Both ranks of WORKER to the end; each one's summary. A failure to join (another process on this
    shared machine took the free port first, or a rank started long after the other) is retried once."""
    for attempt in range(2):
        procs = start_ranks(
            lambda r: ["-c", WORKER, json.dumps(run_kw(tmp_path, **kw)), json.dumps(MODEL), TEXT, *resume],
            tmp_path,
            timeout_s=120,
        )
        results = finish(procs, timeout=300)
        if attempt == 0 and any("cannot join the process group" in se for *_, se in results):
            continue
        break
    for rc, _so, se in results:
        assert rc == 0, se[-2000:]
    ranks = [json.loads(so.strip().splitlines()[-1]) for _, so, _ in results]
    # the logged loss and gradient norm are means over the ranks: every rank reports the same numbers
    assert ranks[0]["steps"] == ranks[1]["steps"]
    return ranks


def losses(events):
    return [(e.step, e.loss, e.grad_norm) for e in events if isinstance(e, ev.StepMetrics)]


def reference(tmp_path, resume=None, **kw):
    """One process with the global batch: 2 x B streams."""
    kw.setdefault("run_name", "single")
    cfg = TrainConfig(**run_kw(tmp_path, batch_size=2 * B, **kw), model=ModelConfig(**MODEL))
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as each rank has
    try:
        return list(Trainer(cfg, resume=resume, corpus=corpus_from_text("mem", TEXT, cfg.val_frac)).run())
    finally:
        torch.set_num_threads(before)


# -----------------------------------------------------------------------------
# the trajectory


def test_rank_slices_tile_the_single_process_layout():
    data = torch.arange(1000).numpy()
    parts = [rank_slice(data, 3, 7, Dist(rank=r, world_size=4)) for r in range(4)]
    single_len = len(data) // 12  # one process, 12 streams
    assert all(len(p) == 3 * single_len for p in parts)
    assert (torch.from_numpy(data[: 12 * single_len]) == torch.cat([torch.from_numpy(p) for p in parts])).all()
    assert rank_slice(data, 3, 7, Dist()) is data


def test_each_rank_resumes_its_own_streams_and_generator():
    from rnntui.core.train.ranks import rank_rng, rank_streams

    h = torch.arange(2 * 6 * 3).view(2, 6, 3)  # (layers, 3 ranks x 2 streams, H)
    parts = [rank_streams(Dist(rank=r, world_size=3), [h], 2)[0] for r in range(3)]
    assert all(p.shape == (2, 2, 3) for p in parts) and torch.equal(torch.cat(parts, dim=1), h)
    rng = {"torch": "main", "ranks": [{"torch": "r0"}, {"torch": "r1"}]}
    assert rank_rng(Dist(rank=1, world_size=2), rng) == {"torch": "r1"}
    assert rank_rng(Dist(rank=0, world_size=4), rng) is rng  # another world size: rank 0 takes the main one,
    assert rank_rng(Dist(rank=3, world_size=4), rng) is None  # the others seed afresh
    assert rank_rng(Dist(), rng) is rng


def test_two_gloo_ranks_follow_one_process_with_twice_the_batch(tmp_path):
    ranks = run_ranks(tmp_path)
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world"] == 2 and r["threads"] == 1 for r in ranks)
    dist_steps = ranks[0]["steps"]

    single = losses(reference(tmp_path, steps=12))
    assert [s for s, *_ in dist_steps] == [1, 2, 3, 4, 5, 6]
    for (s1, l1, g1), (s2, l2, g2) in zip(dist_steps, single):
        assert s1 == s2
        assert l1 == pytest.approx(l2, rel=1e-5) and g1 == pytest.approx(g2, rel=1e-5)
    assert dist_steps[0][1] != dist_steps[-1][1]  # it trained

    # rank 0 alone wrote the run, with every rank's carried state: one process with batch 2B resumes it
    ckpt = Checkpoint.load(tmp_path / "ddp" / "latest.pt")
    assert ckpt.step == 6 and ckpt.world_size == 2 and ckpt.state[0].shape == (2, 2 * B, 16)
    assert len(ckpt.rng["ranks"]) == 2
    info = json.loads((tmp_path / "ddp" / "run.json").read_text())
    assert info["world_size"] == 2 and info["state"] == "completed"
    resumed = losses(reference(tmp_path, resume=str(tmp_path / "ddp" / "latest.pt"), steps=12))
    assert [s for s, *_ in resumed] == list(range(7, 13))
    for (s1, l1, _), (s2, l2, _) in zip(resumed, single[6:]):
        assert s1 == s2 and l1 == pytest.approx(l2, rel=1e-5)


def test_two_ranks_resume_two_ranks_exactly(tmp_path):
    run_ranks(tmp_path, steps=6)
    resumed = run_ranks(tmp_path, str(tmp_path / "ddp" / "latest.pt"), steps=12)[0]["steps"]
    single = losses(reference(tmp_path, steps=12))
    assert [s for s, *_ in resumed] == list(range(7, 13))
    for (s1, l1, _), (s2, l2, _) in zip(resumed, single[6:]):
        assert s1 == s2 and l1 == pytest.approx(l2, rel=1e-5)
    assert Checkpoint.load(tmp_path / "ddp" / "latest.pt").step == 12


def test_resume_with_other_streams_says_the_state_is_dropped(tmp_path):
    first = reference(tmp_path, steps=5, run_name="a")
    latest = first[-1].latest_path
    cfg = TrainConfig(**run_kw(tmp_path, batch_size=3, run_name="a", steps=8), model=ModelConfig(**MODEL))
    trainer = Trainer(cfg, resume=latest, corpus=corpus_from_text("mem", TEXT, cfg.val_frac))
    events = list(trainer.run())
    assert events[-1].reason == "completed"
    assert "state of 4 streams and this run has 3" in events[0].notice and "afresh" in events[0].notice


# -----------------------------------------------------------------------------
# failures: one line on every rank, in bounded time


def one_error_line(stderr: str, only: bool = True) -> str:
    """The one error line (with only=False, rank 0's progress lines may come before it)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("rnntui: error: ")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr[-3000:]
    assert not only or len(lines) == 1, stderr[-3000:]
    assert lines[-1] == errors[0]
    return errors[0]


def test_ranks_that_disagree_on_the_corpus_each_fail_with_one_line(tmp_path):
    for r, line in enumerate(("first text, the one of rank zero.\n", "second text: it belongs to rank one!\n")):
        (tmp_path / f"c{r}.txt").write_text(line * 60)
    argv = lambda r: [
        "-m",
        "rnntui",
        "train",
        f"c{r}.txt",
        "--steps",
        "3",
        "--device",
        "cpu",
        "--no-bf16",
        "--hidden",
        "8",
        "--layers",
        "1",
        "--batch-size",
        "2",
        "--seq-len",
        "8",
    ]
    for rc, _so, se in finish(start_ranks(argv, tmp_path)):
        assert rc == 2
        assert "ranks disagree on the corpus" in one_error_line(se)
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").rglob("*.pt"))


def test_an_unreachable_rendezvous_fails_with_one_line(tmp_path):
    (tmp_path / "c.txt").write_text("some text to train on.\n" * 50)
    # rank 1 of 2, and nobody listens at MASTER_ADDR:MASTER_PORT
    procs = start_ranks(
        lambda r: ["-m", "rnntui", "train", "c.txt", "--steps", "2", "--device", "cpu"], tmp_path, world=2, timeout_s=2
    )
    procs[0].kill()  # only rank 1 is kept: it waits for a rank 0 that never comes
    procs[0].communicate()
    rc, so, se = finish(procs[1:], timeout=60)[0]
    assert rc == 2
    line = one_error_line(se)
    assert "rank 1: cannot join the process group at 127.0.0.1:" in line and "within 2 s" in line


def test_a_lost_rank_fails_the_others_with_one_line_and_keeps_the_run(tmp_path):
    (tmp_path / "c.txt").write_text(TEXT * 4)
    argv = lambda r: [
        "-m",
        "rnntui",
        "train",
        "c.txt",
        "--steps",
        "100000",
        "--device",
        "cpu",
        "--no-bf16",
        "--hidden",
        "16",
        "--layers",
        "1",
        "--batch-size",
        "2",
        "--seq-len",
        "16",
        "--run-name",
        "lost",
        "--no-samples",
    ]
    procs = start_ranks(argv, tmp_path, timeout_s=60)
    metrics = tmp_path / "checkpoints" / "lost" / "metrics.jsonl"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (metrics.exists() and '"step"' in metrics.read_text()):
        time.sleep(0.2)
    procs[1].kill()  # rank 1 dies mid-run
    rc, so, se = finish(procs[:1], timeout=60)[0]
    procs[1].communicate()
    assert rc == 2
    assert "rank 0: lost contact with the other ranks" in one_error_line(se, only=False)
    info = json.loads((tmp_path / "checkpoints" / "lost" / "run.json").read_text())
    assert info["state"] == "failed" and info["world_size"] == 2


def test_sigterm_stops_every_rank_at_the_same_step_and_rank_0_saves(tmp_path):
    (tmp_path / "c.txt").write_text(TEXT * 4)
    argv = lambda r: [
        "-m",
        "rnntui",
        "train",
        "c.txt",
        "--steps",
        "100000",
        "--device",
        "cpu",
        "--no-bf16",
        "--hidden",
        "16",
        "--layers",
        "1",
        "--batch-size",
        "2",
        "--seq-len",
        "16",
        "--run-name",
        "term",
        "--no-samples",
    ]
    procs = start_ranks(argv, tmp_path)
    metrics = tmp_path / "checkpoints" / "term" / "metrics.jsonl"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and not (metrics.exists() and '"step"' in metrics.read_text()):
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGTERM)  # one rank is enough: the stop flag reaches the others
    results = finish(procs)
    # rank 1 got the signal (143); rank 0 stopped because it did, and exits as a stopped run (130)
    assert [rc for rc, *_ in results] == [130, 143], [se[-1000:] for *_, se in results]
    assert results[1][1] == "" and results[1][2] == ""  # rank 1 printed nothing
    info = json.loads((tmp_path / "checkpoints" / "term" / "run.json").read_text())
    ckpt = Checkpoint.load(tmp_path / "checkpoints" / "term" / "latest.pt")
    assert info["state"] == "stopped" and ckpt.step == info["steps"] and ckpt.step % 10 == 0
    assert ckpt.state[0].shape == (1, 4, 16)


# -----------------------------------------------------------------------------
# threads per rank under torchrun


@pytest.mark.parametrize(
    "omp, parent_has_it, expect_override",
    [
        ("1", False, True),  # torchrun's own default of 1: replaced by the rank's share of the cores
        ("1", True, False),  # the user asked torchrun for 1 thread: kept
        ("3", False, False),  # any other value is the user's: kept
        (None, False, True),
    ],
)
def test_threads_per_rank_replace_only_torchruns_default(monkeypatch, omp, parent_has_it, expect_override):
    from rnntui.core.train import distributed

    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "test")
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    parent = [b"PATH=/bin"] + ([b"OMP_NUM_THREADS=1"] if parent_has_it else [])
    monkeypatch.setattr(distributed, "_parent_environ", lambda: parent)
    monkeypatch.setattr(distributed.os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        n = distributed.set_threads(local_world_size=2)
        assert (n == 4) == expect_override and torch.get_num_threads() == (4 if expect_override else 1)
    finally:
        torch.set_num_threads(before)
