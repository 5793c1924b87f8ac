"""The headless CLI as a user runs it: train, sample, corpora, and every bad input -> one line, exit 2."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from helpers import TINY, rnntui_env, tiny_args

from rnntui.cli import main
from rnntui.core.runs.checkpoints import CheckpointError, load_checkpoint

SMALL = tiny_args("lstm")


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "rnntui", *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=rnntui_env()
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("ck")
    metrics = out / "m.jsonl"
    code = main(
        ["train", TINY, "--steps", "30", "--out-dir", str(out), "--eval-every", "10", "--metrics", str(metrics), *SMALL]
    )
    assert code == 0
    return out / "lstm-1x16-tiny", metrics


def test_train_writes_checkpoints_and_metrics(trained, capsys):
    run_dir, metrics = trained
    assert (run_dir / "latest.pt").exists() and (run_dir / "best.pt").exists()
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    steps = [r for r in rows if r["type"] == "step"]
    evals = [r for r in rows if r["type"] == "eval"]
    assert steps[-1]["step"] == 30 and evals[-1]["step"] == 30
    assert set(steps[0]) == {
        "type",
        "step",
        "epoch",
        "loss",
        "lr",
        "grad_norm",
        "chars_per_s",
        "elapsed_s",
        "chars_seen",
        "wall_s",
    }
    assert set(evals[0]) == {"type", "step", "val_loss", "val_bpc", "full"}
    ckpt = load_checkpoint(run_dir / "latest.pt")
    for key in ("model", "optimizer", "config", "vocab", "step", "rng", "history", "best_val_loss", "state"):
        assert key in ckpt


def test_train_prints_final_losses_and_paths(tmp_path, capsys):
    assert main(["train", TINY, "--steps", "5", "--out-dir", str(tmp_path), *SMALL]) == 0
    out = capsys.readouterr().out
    assert "val loss" in out and "bits/char" in out and "latest checkpoint:" in out


def test_sample_prints_only_text(trained):
    run_dir, _ = trained
    r = run_cli("sample", str(run_dir / "latest.pt"), "--prime", "The ", "--length", "50", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("The ") and len(r.stdout) == len("The ") + 50 + 1
    again = run_cli("sample", str(run_dir / "latest.pt"), "--prime", "The ", "--length", "50", "--seed", "3")
    assert again.stdout == r.stdout


def test_sample_flags_unknown_prime_chars(trained):
    run_dir, _ = trained
    r = run_cli("sample", str(run_dir / "latest.pt"), "--prime", "Zé", "--length", "5")
    assert r.returncode == 0 and "é" in r.stderr and "not in the vocabulary" in r.stderr


def test_resume_continues_to_total_steps(trained, tmp_path, capsys):
    run_dir, _ = trained
    assert (
        main(
            [
                "train",
                "--resume",
                str(run_dir / "latest.pt"),
                "--steps",
                "40",
                "--run-name",
                "more",
                "--out-dir",
                str(tmp_path),
                "--no-samples",
            ]
        )
        == 0
    )
    assert load_checkpoint(tmp_path / "more" / "latest.pt")["step"] == 40


def test_resume_leaves_bf16_to_this_machine_unless_given(trained):
    from rnntui.cli.train import train_config, train_parser

    ckpt = str(trained[0] / "latest.pt")
    assert train_config(train_parser().parse_args(["--resume", ckpt])).bf16 is None  # auto, re-resolved
    assert train_config(train_parser().parse_args(["--resume", ckpt, "--bf16"])).bf16 is True


def test_corpora_lists_builtins(tmp_path):
    env = {**os.environ, "RNNTUI_CACHE": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-m", "rnntui", "corpora"], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == 0
    for name in ("python", "tiny", "brackets"):
        assert name in r.stdout


# -----------------------------------------------------------------------------
# bad input: one line on stderr, exit 2, no traceback


def _bad(tmp_path, name, content: bytes | None):
    p = tmp_path / name
    if content is not None:
        p.write_bytes(content)
    return p


@pytest.mark.parametrize(
    "name,content,reason",
    [
        ("missing.txt", None, "no such file"),
        ("empty.txt", b"", "empty"),
        ("bin.txt", b"\x00\x01\x02" * 100, "not a text file"),
        ("latin1.txt", "caf\xe9 ".encode("latin-1") * 100, "not UTF-8"),
        ("short.txt", b"hello", "too short"),
    ],
)
def test_train_bad_corpus(tmp_path, name, content, reason):
    p = _bad(tmp_path, name, content)
    r = run_cli("train", str(p), "--steps", "1", "--out-dir", str(tmp_path))
    assert r.returncode == 2
    assert reason in r.stderr and str(p) in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_train_directory_and_bad_values(tmp_path):
    r = run_cli("train", str(tmp_path), "--steps", "1")
    assert r.returncode == 2 and "directory" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("train", TINY, "--lr", "-1", "--out-dir", str(tmp_path))
    assert r.returncode == 2 and "lr" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("train", TINY, "--weight-decay", "-0.1", "--out-dir", str(tmp_path))
    assert r.returncode == 2 and "weight-decay" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("train", TINY, "--steps", "1", "--minutes", "1")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


class Evil:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_bad_checkpoints_are_refused_without_running_code(tmp_path, trained):
    run_dir, _ = trained
    good = (run_dir / "latest.pt").read_bytes()
    cases = {
        "garbage.pt": b"not a checkpoint at all" * 10,
        "truncated.pt": good[: len(good) // 2],
        "evil.pt": pickle.dumps(Evil()),
    }
    evil_zip = tmp_path / "evil_zip.pt"
    torch.save({"format": "rnntui-checkpoint", "x": Evil()}, evil_zip)
    torch.save({"hello": torch.zeros(2)}, tmp_path / "foreign.pt")
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    for name in [*cases, "evil_zip.pt", "foreign.pt"]:
        with pytest.raises(CheckpointError):
            load_checkpoint(tmp_path / name)
        r = run_cli("sample", str(tmp_path / name), cwd=tmp_path)
        assert r.returncode == 2, (name, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, (name, r.stderr)
    assert not (tmp_path / "pwned").exists()


def test_sample_bad_values(trained):
    run_dir, _ = trained
    r = run_cli("sample", str(run_dir / "latest.pt"), "--temperature", "0")
    assert r.returncode == 2 and "temperature" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def wait_for_steps(run_dir: Path, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Block until the run's own log has a step record: training is under way (no sleep-timing)."""
    deadline = time.monotonic() + timeout
    log = run_dir / "metrics.jsonl"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"train exited early: {proc.communicate()[1]}")
        if log.exists() and '"type": "step"' in log.read_text():
            return
        time.sleep(0.05)
    raise AssertionError("no step record within the timeout")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_saves_latest_and_exits_non_zero(tmp_path, sig):
    p = subprocess.Popen(
        [sys.executable, "-m", "rnntui", "train", TINY, "--steps", "100000", "--out-dir", str(tmp_path), *SMALL],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=rnntui_env(),
    )
    run_dir = tmp_path / "lstm-1x16-tiny"
    wait_for_steps(run_dir, p)
    p.send_signal(sig)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 128 + sig, err  # 130, 143, 129: a script can tell it from a completed run
    assert "Traceback" not in err
    assert 0 < load_checkpoint(run_dir / "latest.pt")["step"] < 100000
    info = json.loads((run_dir / "run.json").read_text())
    assert info["state"] == "stopped" and info["steps"] == load_checkpoint(run_dir / "latest.pt")["step"]
    if sig != signal.SIGHUP:  # SIGHUP means the terminal is gone: the output goes nowhere
        assert "stopped" in out


# -----------------------------------------------------------------------------
# sample: beam search, copy check and their bad values


def test_sample_beam_prints_the_best_beam_and_its_score(trained):
    run_dir, _ = trained
    ckpt = str(run_dir / "latest.pt")
    r = run_cli("sample", ckpt, "--prime", "The ", "--length", "40", "--beam", "1")
    greedy = run_cli("sample", ckpt, "--prime", "The ", "--length", "40", "--argmax")
    assert r.returncode == 0, r.stderr
    assert r.stdout == greedy.stdout  # width 1 is greedy decoding
    wide = run_cli(
        "sample", ckpt, "--prime", "The ", "--length", "40", "--beam", "4", "--beam-stop", "\\n", "--length-norm"
    )
    assert wide.returncode == 0, wide.stderr
    assert wide.stdout.startswith("The ") and "bits/char" in wide.stderr and "log-prob" in wide.stderr
    assert "\n" not in wide.stdout[:-1] or wide.stdout[:-1].endswith("\n")  # ends at the stop, if any


def test_sample_copy_check_reports_on_stderr_only(trained):
    run_dir, _ = trained
    r = run_cli("sample", str(run_dir / "latest.pt"), "--length", "120", "--seed", "1", "--copy-check", "--ngram", "4")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == 121 and "copy check" not in r.stdout
    line = [x for x in r.stderr.splitlines() if "copy check" in x]
    assert len(line) == 1 and "4-grams" in line[0] and "copied" in line[0]


def test_sample_copy_check_with_the_corpus_gone(trained, tmp_path):
    run_dir, _ = trained
    ckpt = torch.load(run_dir / "latest.pt", weights_only=False)
    ckpt["config"]["corpus"] = str(tmp_path / "moved-away.txt")
    torch.save(ckpt, tmp_path / "moved.pt")
    r = run_cli("sample", str(tmp_path / "moved.pt"), "--length", "10", "--copy-check")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "moved-away.txt" in r.stderr and "missing" in r.stderr


@pytest.mark.parametrize(
    "flags,word",
    [
        (["--beam", "0"], "--beam"),
        (["--beam", "33"], "--beam"),
        (["--copy-check", "--ngram", "0"], "--ngram"),
        (["--ngram", "5"], "--copy-check"),
        (["--temperature", "0"], "--temperature"),
        (["--temperature", "-1"], "--temperature"),
        (["--temperature", "nan"], "--temperature"),
        (["--top-k", "-1"], "--top-k"),
        (["--length", "-1"], "--length"),
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**63 + 1)], "--seed"),
        (["--beam", "2", "--argmax"], "--argmax"),
        (["--beam", "2", "--top-k", "3"], "--top-k"),
        (["--beam", "2", "--temperature", "0.5"], "--temperature"),
        (["--length-norm"], "--beam"),
        (["--beam-stop", "x"], "--beam"),
        (["--beam", "3", "--beam-stop", ""], "--beam-stop"),
    ],
)
def test_sample_flag_bad_values_one_line_exit_2(trained, flags, word, capsys):
    run_dir, _ = trained
    code = main(["sample", str(run_dir / "latest.pt"), *flags])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("rnntui: error: ") and word in err
