"""Runs in TensorBoard: a real `rnntui train --tensorboard` process and `rnntui export`, read back with
TensorBoard's own reader (EventAccumulator) and checked against the run folder's metrics.jsonl; the one line
that says what to install when the package is missing."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboard")  # the dev extra installs it; CI runs these

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rnntui.cli import main
from rnntui.core.analysis.horizon import HorizonSmoother
from rnntui.core.runs.runlog import read_records

LN2 = math.log(2.0)
SMALL = ["--hidden", "32", "--embed", "8", "--layers", "2", "--eval-every", "10", "--device", "cpu"]
INSTALL = "pip install 'rnntui[tensorboard]'"


def board(folder: Path) -> tuple[dict[str, list[tuple[int, float]]], list[tuple[int, str]]]:
    """({tag: [(step, value)]}, [(step, sample text)]) as TensorBoard's reader reads a run's folder."""
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})  # 0: keep every event
    acc.Reload()
    scalars = {tag: [(s.step, s.value) for s in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    texts = (
        [(t.step, t.tensor_proto.string_val[0].decode()) for t in acc.Tensors("samples/text_summary")]
        if "samples/text_summary" in acc.Tags()["tensors"]
        else []
    )
    return scalars, texts


def expected(metrics: Path) -> dict[str, list[tuple[int, float]]]:
    """What metrics.jsonl says each tag must hold, worked out here from the records themselves (the memory
    horizon the way the app works it out: the smoothed last-step gradient of the recent probes)."""
    want: dict[str, list[tuple[int, float]]] = {}
    smoother = HorizonSmoother()

    def put(tag, step, value):
        if value is not None:
            want.setdefault(tag, []).append((step, value))

    for r in read_records(metrics):
        if r["type"] == "step":
            put("loss/train", r["step"], r["loss"])
            put("bpc/train", r["step"], r["loss"] / LN2)
            put("optim/lr", r["step"], r["lr"])
            put("optim/grad_norm", r["step"], r["grad_norm"])
            put("speed/chars_per_s", r["step"], r["chars_per_s"])
        elif r["type"] == "eval":
            put("loss/val", r["step"], r["val_loss"])
            put("bpc/val", r["step"], r["val_bpc"])
        elif r["type"] == "probe":
            smoother.add(np.array(r["grad_last"], dtype=np.float64), r["step"])
            for h in smoother.horizons():
                put(f"horizon/layer_{h.layer + 1}", r["step"], h.steps)
    return want


def assert_matches(got: dict, want: dict) -> None:
    assert sorted(got) == sorted(want)
    for tag in want:
        assert [s for s, _ in got[tag]] == [s for s, _ in want[tag]], tag  # the same steps, in order
        assert np.allclose([v for _, v in got[tag]], [v for _, v in want[tag]], rtol=1e-6, atol=0), tag  # float32


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A real `rnntui train --tensorboard` process: (run folder, its TensorBoard folder, the process)."""
    tmp = tmp_path_factory.mktemp("tb")
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnntui",
            "train",
            "tiny",
            "--steps",
            "30",
            *SMALL,
            "--out-dir",
            str(tmp / "runs"),
            "--run-name",
            "tb",
            "--tensorboard",
            str(tmp / "board"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr
    return tmp / "runs" / "tb", tmp / "board" / "tb", p


def test_a_live_written_run_reads_back_as_its_metrics(live):
    run, folder, _ = live
    got, texts = board(folder)
    want = expected(run / "metrics.jsonl")
    assert {
        "loss/train",
        "bpc/train",
        "loss/val",
        "bpc/val",
        "optim/lr",
        "optim/grad_norm",
        "speed/chars_per_s",
        "horizon/layer_1",
        "horizon/layer_2",
    } <= set(want)  # the run logged every kind of record
    assert [s for s, _ in want["loss/train"]] == [10, 20, 30] and [s for s, _ in want["loss/val"]][:2] == [10, 20]
    assert_matches(got, want)
    samples = [r for r in read_records(run / "metrics.jsonl") if r["type"] == "sample"]
    assert samples and [s for s, _ in texts] == [r["step"] for r in samples]
    for (_, text), r in zip(texts, samples):
        assert "temperature 0.8" in text
        assert all(("    " + line) in text for line in r["text"].split("\n"))  # every line, as a code block


def test_export_reads_back_as_the_metrics(live, tmp_path, capsys):
    run, _, _ = live
    assert main(["export", str(run), "--tensorboard", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and f"to {tmp_path / 'tb'}, steps " in out and f"--logdir {tmp_path}" in out
    got, texts = board(tmp_path / "tb")
    assert_matches(got, expected(run / "metrics.jsonl"))
    assert texts == board(live[1])[1]  # the live-written samples, the same


def test_export_again_needs_overwrite_and_then_replaces(live, tmp_path, capsys):
    run, _, _ = live
    assert main(["export", str(run / "metrics.jsonl"), "--tensorboard", str(tmp_path)]) == 0  # a file of the run
    capsys.readouterr()
    assert main(["export", str(run), "--tensorboard", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds TensorBoard events (use --overwrite" in err
    assert main(["export", str(run), "--tensorboard", str(tmp_path), "--overwrite"]) == 0
    assert len(list((tmp_path / "tb").glob("events.out.tfevents.*"))) == 1  # replaced, not doubled
    assert_matches(board(tmp_path / "tb")[0], expected(run / "metrics.jsonl"))


def test_export_of_dot_inside_a_run_is_named_after_the_run(live, tmp_path, monkeypatch, capsys):
    run, _, _ = live
    monkeypatch.chdir(run)
    assert main(["export", ".", "--tensorboard", str(tmp_path)]) == 0, capsys.readouterr().err
    assert_matches(board(tmp_path / "tb")[0], expected(run / "metrics.jsonl"))


def test_export_refuses_what_is_not_one_run(live, tmp_path, capsys):
    run, _, _ = live
    (tmp_path / "empty").mkdir()
    for target, words in (
        (tmp_path / "missing", "no such run folder"),
        (run.parent, "holds run folders, not one run"),
        (tmp_path / "empty", "has no metrics.jsonl to export"),
    ):
        assert main(["export", str(target), "--tensorboard", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and words in err, err
    with pytest.raises(SystemExit) as e:
        main(["export", str(run)])  # no format: argparse's one line
    assert e.value.code == 2 and "--tensorboard" in capsys.readouterr().err


def test_a_tensorboard_folder_that_cannot_be_written_stops_the_run_in_one_line(tmp_path, capsys):
    (tmp_path / "board").write_text("a file where the folder should be")
    code = main(
        [
            "train",
            "tiny",
            "--steps",
            "30",
            *SMALL,
            "--out-dir",
            str(tmp_path / "runs"),
            "--tensorboard",
            str(tmp_path / "board"),
            "--no-samples",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot write TensorBoard events" in err and "training stopped" in err and "Traceback" not in err


# -----------------------------------------------------------------------------
# without the package

BLOCKED = """
import sys
class NoTensorBoard:  # as if the package were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "tensorboard":
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, NoTensorBoard())
if sys.argv[1:] == ["--imports"]:
    import rnntui.cli.train, rnntui.cli.export, rnntui.cli.progress, rnntui.core.runs.tensorboard
    print("imported")
    raise SystemExit(0)
from rnntui.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _blocked(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKED, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_without_tensorboard_the_flags_say_what_to_install(live, tmp_path):
    run, _, _ = live
    for args in (
        ["export", str(run), "--tensorboard", str(tmp_path / "out")],
        [
            "train",
            "tiny",
            "--steps",
            "5",
            *SMALL,
            "--out-dir",
            str(tmp_path / "runs"),
            "--tensorboard",
            str(tmp_path / "out"),
        ],
    ):
        p = _blocked(*args, cwd=tmp_path)
        assert p.returncode == 2, p.stderr
        assert p.stderr.count("\n") == 1 and INSTALL in p.stderr and "Traceback" not in p.stderr, p.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()  # refused before anything started


def test_without_tensorboard_everything_else_imports(tmp_path):
    p = _blocked("--imports", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == "imported\n", p.stderr
