"""Runs that last (issue 9): the metrics log's round trip, probe thinning, the follower, the golden record
format, `rnntui runs` over real, old and junk folders, the comparison core, and `rnntui compare` end to end."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, TINY, tiny_args

from rnntui.cli import main
from rnntui.core import events as ev
from rnntui.core.analysis.compare import (
    NO_PROBES,
    compare_row,
    fmt_kept,
    format_table,
    gradient_kept,
    kept_summary,
    reach_back,
    reach_curves,
    run_kept,
    run_labels,
    sentence,
)
from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.runs.folder import RunDir
from rnntui.core.runs.listing import list_runs, summary_of
from rnntui.core.runs.records import MetricsLog, ProbeThinner, to_record
from rnntui.core.runs.runlog import Follower, RunLog, read_log, read_records
from rnntui.core.train.experiments import COMPARE_PROBE_BUDGET
from rnntui.core.units import format_count, format_duration

GOLDEN = Path(__file__).resolve().parent / "golden" / "records.jsonl"
SMALL = [*tiny_args(seq_len=40), "--no-bf16", "--eval-every", "0", "--val-chars", "2000"]


# -----------------------------------------------------------------------------
# fixed events: the golden file and the round trip


def _probe(step: int, last: np.ndarray, total: np.ndarray | None = None) -> ev.ProbeSnapshot:
    last = np.asarray(last, dtype=np.float32)
    total = last * 2 if total is None else np.asarray(total, dtype=np.float32)
    L, T = last.shape
    return ev.ProbeSnapshot(step, total, last, "ab", np.zeros((L, 2, 3), np.float32))


def fixed_events() -> list:
    cfg = TrainConfig(corpus="tiny", model=ModelConfig(kind="lstm", vocab_size=40, hidden=16, layers=1))
    return [
        ev.RunStarted(
            config=cfg,
            vocab="ab",
            n_params=1234,
            device="cpu",
            run_dir="/runs/lstm-1x16-tiny",
            start_step=0,
            total_steps=30,
            steps_per_epoch=6,
            train_chars=1647,
            val_chars=182,
            wall_s=0.0,
        ),
        ev.StepMetrics(
            step=10,
            epoch=1.6666666667,
            loss=3.123456789,
            lr=0.0049876543,
            grad_norm=0.987654321,
            chars_per_s=12345.678,
            elapsed_s=1.2345678,
            progress=0.333,
            eta_s=2.5,
            chars_seen=1600,
            wall_s=1.2345678,
        ),
        ev.StepMetrics(
            step=20,
            epoch=3.3333333333,
            loss=math.nan,
            lr=0.005,
            grad_norm=math.inf,
            chars_per_s=0.0,
            elapsed_s=2.0,
            progress=0.667,
            eta_s=None,
            chars_seen=3200,
            wall_s=2.0,
        ),
        ev.EvalMetrics(step=20, val_loss=2.5, val_bpc=2.5 / math.log(2), best_val_loss=2.5, full=False),
        _probe(20, [[1e-12, 0.001234567, 0.5, 1.0]], total=[[4.0, 3.0, 2.0, 1.0]]),
        ev.Sample(step=20, prime="", text='the cat\n"sat"', temperature=0.8),
        ev.CheckpointSaved(step=20, path="/runs/lstm-1x16-tiny/best.pt", kind="best", wall_time=1.0e9),
        ev.Paused(step=20, paused=True),
        ev.Validating(step=30, done=1, total=2),
        ev.RunFinished(
            step=30,
            reason="completed",
            message="finished at step 30",
            train_loss=2.4,
            val_loss=2.25,
            best_val_loss=2.25,
            latest_path=None,
            best_path=None,
            elapsed_s=3.0,
        ),
    ]


@pytest.fixture
def fixed_clock(monkeypatch):
    monkeypatch.setattr("rnntui.core.runs.records.time.time", lambda: 1_700_000_000.0)


def test_to_record_matches_the_golden_file(fixed_clock):
    records = [r for e in fixed_events() if (r := to_record(e)) is not None]
    lines = [json.dumps(r) for r in records]
    assert lines == GOLDEN.read_text(encoding="utf-8").splitlines()
    assert to_record(ev.Paused(1, True)) is None and to_record(ev.Validating(1, 1, 2)) is None


def test_log_round_trip_survives_a_torn_last_line(tmp_path, fixed_clock):
    path = tmp_path / "metrics.jsonl"
    log = MetricsLog(path)
    for e in fixed_events():
        log.write(e)
    log.close()
    whole = path.read_text()
    with open(path, "a") as f:  # what SIGKILL mid-write leaves: half a record, no newline
        f.write('{"type": "step", "step": 40, "loss": 2.')
    records = read_records(path)
    assert [json.dumps(r) for r in records] == whole.splitlines()
    run = read_log(path)
    assert run.steps == [10, 20] and math.isnan(run.loss[1]) and run.val_steps == [20]
    assert run.probes[0][2].shape == (1, 4) and run.probes[0][2][0, 1] == pytest.approx(0.00123)
    assert run.samples == [(20, "", 'the cat\n"sat"', 0.8)] and run.saved == {"best": 20}
    assert run.end is not None and run.end["val_loss"] == 2.25
    # a later invocation appends to the same log after the torn line: its records still read back
    with open(path, "a") as f:
        f.write("\n")
    log = MetricsLog(path)
    log.write(ev.StepMetrics(50, 8.0, 2.0, 0.001, 0.5, 1000.0, 1.0, 1.0, 0.0, 8000, 9.0))
    log.close()
    assert read_log(path).steps == [10, 20, 50]


def test_metrics_log_kinds_filter(tmp_path):
    path = tmp_path / "m.jsonl"
    log = MetricsLog(path, kinds=("step", "eval"))
    for e in fixed_events():
        log.write(e)
    log.close()
    assert [r["type"] for r in read_records(path)] == ["step", "step", "eval"]


# -----------------------------------------------------------------------------
# probe thinning


def _kept_steps(thinner: ProbeThinner, steps) -> list[int]:
    return [s for s in steps if thinner.keep(s, elapsed_s=s * 0.01)]


def test_thinner_with_a_step_budget_keeps_at_most_about_500_evenly():
    kept = _kept_steps(ProbeThinner(total_steps=100_000, seconds=None), range(1, 100_001))
    assert 450 <= len(kept) <= 501
    assert set(np.diff(kept)) == {200}  # evenly: one every total/500 steps
    short = _kept_steps(ProbeThinner(total_steps=300, seconds=None), range(1, 301))
    assert short == list(range(1, 301))  # a short run keeps every probe


def test_thinner_with_a_time_budget_spreads_over_the_seconds():
    t = ProbeThinner(total_steps=None, seconds=50.0)  # one every 0.1 s
    kept = [s for s in range(1, 5001) if t.keep(s, elapsed_s=s * 0.01)]
    assert 450 <= len(kept) <= 501 and set(np.diff(kept)) <= {10, 11}


def test_thinner_open_ended_doubles_its_stride():
    kept = _kept_steps(ProbeThinner(total_steps=None, seconds=None, cap=10), range(1, 1000))
    gaps = np.diff(kept)
    assert list(gaps[:9]) == [1] * 9 and list(gaps[10:19]) == [2] * 9 and list(gaps[20:29]) == [4] * 9
    assert len(kept) < 80  # log2 growth, not one per step


# -----------------------------------------------------------------------------
# following a growing file


def test_follower_reads_only_whole_new_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    f = Follower(path)
    assert f.poll() == []  # not there yet
    path.write_text('{"type": "start", "step": 0}\n')
    assert [r["type"] for r in f.poll()] == ["start"]
    assert f.poll() == []
    with open(path, "a") as out:
        out.write('{"type": "step", "step": 10, "lo')  # a line written in two halves
        out.flush()
        assert f.poll() == []
        out.write('ss": 3.5}\n{"type": "eval", "step": 10, "val_loss": 3.0}\n')
    recs = f.poll()
    assert [(r["type"], r["step"]) for r in recs] == [("step", 10), ("eval", 10)] and recs[0]["loss"] == 3.5
    with open(path, "a") as out:
        out.write('garbage that is not json\n{"type": "end", "step": 10}\n')
    assert [r["type"] for r in f.poll()] == ["end"]


# -----------------------------------------------------------------------------
# comparison core, from logs with known numbers


def _decay_probe(step: int, rates: list[float], T: int = 40) -> ev.ProbeSnapshot:
    """grad_last[l, T-1-k] = 10**(-rate_l * k): the gradient kept k steps back is exactly that."""
    k = np.arange(T)[::-1]  # steps back of each column, t on the right
    return _probe(step, np.array([10.0 ** (-r * k) for r in rates]))


def _log(
    tmp_path: Path,
    name: str,
    probes: list[ev.ProbeSnapshot],
    speeds=(100.0, 5000.0, 300.0),
    vals=(3.0, 2.5, 2.75),
    end_val: float | None = 2.6,
) -> RunLog:
    path = tmp_path / f"{name}.jsonl"
    log = MetricsLog(path)
    for i, s in enumerate(speeds):
        log.write(ev.StepMetrics(10 * (i + 1), 0.1, 3.0, 0.005, 1.0, s, float(i + 1), 0.5, None, 100, float(i + 1)))
    for i, v in enumerate(vals):
        log.write(ev.EvalMetrics(10 * (i + 1), v, v / math.log(2), v, False))
    for p in probes:
        log.write(p)
    if end_val is not None:
        log.write(ev.RunFinished(30, "completed", "", 2.0, end_val, 2.5))
    log.close()
    return read_log(path)


def _three_logs(tmp_path):
    # rnn: the first probe (flat) is older than the last five, whose rates average to 0.3125 per step
    rnn = _log(
        tmp_path,
        "rnn",
        [_decay_probe(1, [0.0])]
        + [_decay_probe(s, [r]) for s, r in zip(range(2, 7), (0.25, 0.375, 0.25, 0.375, 0.3125))],
    )
    lstm = _log(tmp_path, "lstm", [_decay_probe(5, [0.0625, 0.1875])])  # two layers: 1e-2 and 1e-6 at 32 back
    gru = _log(tmp_path, "gru", [_decay_probe(5, [0.0625])], end_val=None)
    return rnn, lstm, gru


def test_gradient_kept_is_log_averaged_over_the_last_probes(tmp_path):
    rnn, lstm, _ = _three_logs(tmp_path)
    assert gradient_kept(rnn, 16)[0] == pytest.approx(1e-5, rel=0.02)  # arithmetic mean would be ~4e-5
    assert gradient_kept(rnn, 32)[0] == pytest.approx(1e-10, rel=0.02)
    assert gradient_kept(rnn, 16, probes=1)[0] == pytest.approx(10 ** (-0.3125 * 16), rel=0.02)
    assert gradient_kept(lstm, 32) == pytest.approx([1e-2, 1e-6], rel=0.02)
    assert run_kept(lstm, 32) == pytest.approx(1e-4, rel=0.02)  # geometric mean over layers
    assert gradient_kept(rnn, 40) is None  # the 40-step window does not reach 40 steps back
    assert gradient_kept(RunLog(), 16) is None and run_kept(RunLog(), 16) is None


def test_reach_back_indexes_by_steps_back():
    r = reach_back(np.array([[0.25, 0.5, 1.0], [1.0, 1.0, 0.0]]))
    assert r[0].tolist() == [1.0, 0.5, 0.25] and np.isnan(r[1]).all()  # zero at t: undefined


def test_compare_table_and_sentence_from_known_logs(tmp_path):
    rnn, lstm, gru = _three_logs(tmp_path)
    rows = [compare_row(c, log) for c, log in zip(("rnn", "lstm", "gru"), (rnn, lstm, gru))]
    r = rows[0]
    assert r.val_loss == 2.6 and r.best_val_loss == 2.5 and r.chars_per_s == 300.0 and r.steps == 30
    assert r.val_bpc == pytest.approx(2.6 / math.log(2))
    assert rows[2].val_loss == 2.75  # no end record: the last evaluation
    assert sentence(rows) == "32 steps back, rnn keeps 1e-10 of the gradient, lstm 1e-4, gru 1e-2."
    assert sentence(rows, k=16) == "16 steps back, rnn keeps 1e-5 of the gradient, lstm 1e-2, gru 0.1."
    table = format_table(rows).splitlines()
    assert table[0].split() == [
        "run",
        "steps",
        "val",
        "loss",
        "val",
        "bpc",
        "chars/s",
        "kept@16",
        "kept@32",
        "reach90",
        "vs",
        "n-gram",
    ]
    assert table[1].split() == [
        "rnn",
        "30",
        "2.6000",
        "3.751",
        "300",
        "1e-5",
        "1e-10",
        "-",
        "-",
    ]  # no checkpoint, no baseline
    assert table[3].split() == ["gru", "30", "2.7500", "3.967", "300", "0.1", "1e-2", "-", "-"]
    with_ngram = compare_row("gru", gru, ngram=2.95)  # the final val loss against the best n-gram's
    assert with_ngram.vs_ngram == pytest.approx(-0.2) and format_table([with_ngram]).splitlines()[1].endswith("-0.20")
    with_reach = replace(rows[1], reach90=23)  # cmd_compare fills it from each run's checkpoint
    assert format_table([with_reach]).splitlines()[1].split()[-2] == "23"


def test_sentence_falls_back_and_says_what_is_missing(tmp_path):
    short = _log(tmp_path, "short", [_decay_probe(5, [0.25], T=20)])  # seq-len 20: 32 back is out of reach
    none = _log(tmp_path, "none", [])
    rows = [compare_row("rnn", short), compare_row("lstm", none)]
    assert sentence(rows) == "16 steps back, rnn keeps 1e-4 of the gradient (lstm: no probe reaching that far)."
    assert sentence([compare_row("lstm", none)]).startswith("No gradient probes")
    # the figures as data, for a caller that words them itself, and a note that goes before the full stop
    summary = kept_summary(rows)
    assert summary.k == 16 and [label for label, _ in summary.kept] == ["rnn"] and summary.missing == ("lstm",)
    assert kept_summary([compare_row("lstm", none)]) is None and sentence([]) == ""
    assert sentence(rows, note="latest probes").endswith("that far) (latest probes).")
    assert sentence([compare_row("lstm", none)], note="latest probes") == NO_PROBES
    assert format_table([compare_row("lstm", none)]).splitlines()[1].split()[-3:] == ["-", "-", "-"]


def test_labels_and_formats():
    cfg = lambda kind="rnn", layers=1, clip=1.0: {
        "model": {"kind": kind, "layers": layers, "hidden": 8},
        "clip": clip,
        "lr": 0.01,
        "corpus": "tiny",
        "seed": 0,
    }
    assert run_labels([cfg("rnn"), cfg("lstm")], ["a", "b"]) == ["rnn", "lstm"]
    assert run_labels([cfg(clip=1.0), cfg(clip=0.0)], ["a", "b"]) == ["clip 1", "clip off"]
    assert run_labels([cfg(layers=1), cfg(layers=2)], ["a", "b"]) == ["1 layer", "2 layers"]
    assert run_labels([cfg(), cfg()], ["a", "b"]) == ["a", "b"]  # nothing differs: the run names
    assert run_labels([cfg("rnn", 1, 1.0), cfg("lstm", 2, 0.0)], ["a", "b"]) == ["a", "b"]  # too much differs
    assert run_labels([cfg("rnn"), None], ["a", "b"]) == ["a", "b"]  # a config unknown
    assert [fmt_kept(x) for x in (3.4e-11, 2.6e-4, 0.26, 1.0, None)] == ["3e-11", "3e-4", "0.3", "1", "-"]
    assert format_duration(42, words=True) == "42s" and format_duration(725, words=True) == "12m 05s"
    assert format_duration(3 * 86400, words=True) == "3d 0h" and format_duration(725) == "12:05"
    assert format_count(950) == "950" and format_count(12_345) == "12.3k" and format_count(4_560_000) == "4.56M"


def test_reach_curves_pick_the_probe_near_a_step(tmp_path):
    rnn, _, _ = _three_logs(tmp_path)
    step, curves = reach_curves(rnn, step=3)
    assert step == 3 and curves.shape == (1, 40) and curves[0, 16] == pytest.approx(1e-6, rel=0.02)
    assert reach_curves(rnn)[0] == 6 and reach_curves(RunLog()) is None


# -----------------------------------------------------------------------------
# rnntui runs: new runs, an old checkpoint-only run, a killed one, junk


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    for cell in ("gru", "rnn", "lstm"):  # oldest first
        assert main(["train", TINY, "--model", cell, "--steps", "8", "--out-dir", str(out), *SMALL]) == 0
    old = out / "gru-1x16-tiny"  # a run from before run logs: only its checkpoints
    (old / "run.json").unlink()
    (old / "metrics.jsonl").unlink()
    killed = out / "killed-run"  # run.json says running, its process is gone (SIGKILL)
    shutil.copytree(out / "rnn-1x16-tiny", killed)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    info = RunDir(killed).read_info()
    RunDir(killed).write_info(
        replace(
            info, name="killed-run", state="running", pid=dead.pid, steps=3, chars_seen=0, updated=info.updated - 3600
        )
    )  # run.json lagging the log
    (out / "notes.txt").write_text("not a run")
    (out / "empty").mkdir()
    (out / "other").mkdir()
    (out / "other" / "readme.md").write_text("# nothing here")
    (out / ".hidden").mkdir()
    (out / ".hidden" / "run.json").write_text("{}")
    broken = out / "broken"  # a run folder whose only checkpoint is not one
    broken.mkdir()
    (broken / "latest.pt").write_text("hello")
    return out


def test_list_runs_reads_new_old_and_killed_runs_and_skips_junk(runs_dir):
    runs = {r.name: r for r in list_runs(runs_dir)}
    assert set(runs) == {"gru-1x16-tiny", "rnn-1x16-tiny", "lstm-1x16-tiny", "killed-run", "broken"}
    lstm = runs["lstm-1x16-tiny"]
    assert (lstm.model, lstm.hidden, lstm.layers, lstm.steps, lstm.state) == ("lstm", 16, 1, 8, "completed")
    assert lstm.chars_seen == 8 * 4 * 40 and lstm.has_log and lstm.corpus == TINY and lstm.wall_s > 0
    assert lstm.best_val_loss is not None and lstm.best_val_bpc == pytest.approx(lstm.best_val_loss / math.log(2))
    old = runs["gru-1x16-tiny"]  # listed from its checkpoint
    assert (old.model, old.hidden, old.steps, old.has_log, old.state) == ("gru", 16, 8, False, "unknown")
    assert old.best_val_loss is not None and old.chars_seen == 8 * 4 * 40 and old.n_params > 0
    killed = runs["killed-run"]
    assert killed.state == "killed" and (killed.steps, killed.chars_seen) == (8, 8 * 4 * 40)  # caught up from the log
    assert runs["broken"].state == "unknown" and "not a checkpoint" in runs["broken"].message
    order = [r.name for r in list_runs(runs_dir)]
    assert order.index("lstm-1x16-tiny") < order.index("rnn-1x16-tiny") < order.index("killed-run")
    ups = [r.updated for r in list_runs(runs_dir)]
    assert ups == sorted(ups, reverse=True)
    assert [r.name for r in list_runs(runs_dir / "rnn-1x16-tiny")] == ["rnn-1x16-tiny"]  # a run folder itself
    assert list_runs(runs_dir / "missing") == [] and summary_of(runs_dir / "other") is None


def test_listing_runs_with_logs_never_imports_torch(runs_dir):
    code = (
        "import sys; from rnntui.core.runs.listing import list_runs; import rnntui.core.analysis.compare; "
        f"rows = list_runs({str(runs_dir / 'lstm-1x16-tiny')!r}); "
        "print(len(rows), rows[0].model, 'torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.stdout.split() == ["1", "lstm", "False"], out.stderr[-500:]


def test_runs_command_table_and_json(runs_dir, capsys):
    assert main(["runs", str(runs_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "model", "corpus", "steps"]
    row = next(line for line in lines if line.startswith("lstm-1x16-tiny")).split()
    assert row[1:5] == ["lstm", "1x16", "tiny.txt", "8"] and "completed" in row
    assert not any(n in "\n".join(lines) for n in ("notes", "empty", "other", "hidden"))
    assert main(["runs", str(runs_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 5
    for d in data:
        assert {"name", "path", "model", "hidden", "layers", "corpus", "steps", "best_val_loss", "state"} <= set(d)
    lstm = next(d for d in data if d["name"] == "lstm-1x16-tiny")
    assert (lstm["model"], lstm["hidden"], lstm["layers"], lstm["steps"]) == ("lstm", 16, 1, 8)
    assert Path(lstm["path"]) == runs_dir / "lstm-1x16-tiny"


def test_runs_on_an_empty_or_missing_folder(tmp_path, capsys, monkeypatch):
    assert main(["runs", str(tmp_path)]) == 0 and "no runs under" in capsys.readouterr().out
    assert main(["runs", str(tmp_path), "--json"]) == 0 and json.loads(capsys.readouterr().out) == []
    monkeypatch.chdir(tmp_path)  # the default folder, ./checkpoints, not there yet: nothing to list
    assert main(["runs"]) == 0 and "no runs under checkpoints" in capsys.readouterr().out


# -----------------------------------------------------------------------------
# bad input: one line, exit 2


def _main(argv: list[str]) -> int:
    """main() as the shell sees it: argparse's errors exit through SystemExit."""
    try:
        return main(argv)
    except SystemExit as e:
        return int(e.code)


def _one_line_error(capsys, code: int, *words: str) -> None:
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for w in words:
        assert w in err


def test_runs_and_watch_bad_input(runs_dir, tmp_path, capsys):
    _one_line_error(capsys, _main(["runs", str(tmp_path / "nope")]), "no such folder")
    _one_line_error(capsys, _main(["runs", str(runs_dir / "notes.txt")]), "not a folder")
    _one_line_error(capsys, _main(["watch", str(tmp_path / "nope")]), "no such run folder")
    _one_line_error(capsys, _main(["watch", str(runs_dir / "other")]), "not a run folder")
    _one_line_error(capsys, _main(["watch", str(runs_dir / "notes.txt")]), "not a run folder")
    _one_line_error(capsys, _main(["watch", str(runs_dir / "gru-1x16-tiny")]), "no run log", "--checkpoint")
    _one_line_error(capsys, _main(["watch"]), "RUN_DIR")


def test_watch_opens_the_tui_on_the_run_folder(runs_dir, monkeypatch):
    seen = {}
    monkeypatch.setattr("rnntui.ui.app.run_tui", lambda **kw: seen.update(kw) or 0)
    assert main(["watch", str(runs_dir / "lstm-1x16-tiny")]) == 0
    assert seen == {"watch": str(runs_dir / "lstm-1x16-tiny")}
    assert main(["watch", str(runs_dir / "lstm-1x16-tiny" / "metrics.jsonl")]) == 0  # a file of the run
    assert seen == {"watch": str(runs_dir / "lstm-1x16-tiny")}


@pytest.mark.parametrize(
    "args,words",
    [
        (["--models", "rnn,tanh", "--steps", "5"], ["unknown cell 'tanh'"]),
        (["--models", "rnn", "--steps", "5"], ["at least two"]),
        (["--models", "rnn,lstm,rnn", "--steps", "5"], ["twice"]),
        (["--models", "rnn,lstm"], ["--steps", "--minutes"]),
        (["--models", "rnn,lstm", "--steps", "5", "--minutes", "1"], ["not allowed"]),
        (["--models", "rnn,lstm", "--steps", "5", "--lr", "-1"], ["lr"]),
        (["--models", "rnn,lstm", "--steps", "5", "--resume", "x.pt"], ["unrecognized"]),
        (["--models", "rnn,lstm", "--steps", "5", "--run-name", "a/b"], ["plain folder name"]),
    ],
)
def test_compare_bad_input(tmp_path, capsys, args, words):
    _one_line_error(capsys, _main(["compare", TINY, *args, "--out-dir", str(tmp_path)]), *words)
    assert not any(tmp_path.iterdir())  # nothing trained, nothing written


def test_compare_bad_corpus(tmp_path, capsys):
    _one_line_error(
        capsys,
        _main(
            [
                "compare",
                str(tmp_path / "missing.txt"),
                "--models",
                "rnn,gru",
                "--steps",
                "5",
                "--out-dir",
                str(tmp_path),
            ]
        ),
        "missing.txt",
    )


# -----------------------------------------------------------------------------
# rnntui compare, end to end as a user runs it


def test_compare_trains_each_cell_and_prints_the_table(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnntui",
            "compare",
            TINY,
            "--models",
            "rnn,lstm",
            "--steps",
            "30",
            "--out-dir",
            str(tmp_path),
            *SMALL,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    runs = {s.name: s for s in list_runs(tmp_path)}
    assert set(runs) == {"compare-rnn-tiny", "compare-lstm-tiny"}
    for cell in ("rnn", "lstm"):
        s = runs[f"compare-{cell}-tiny"]
        assert (s.model, s.steps, s.state, s.has_log) == (cell, 30, "completed", True)
        info = RunDir(s.path).read_info()
        assert info.config["seed"] == 1337 and info.config["seq_len"] == 40 and info.config["steps"] == 30
        assert info.config["probe_budget"] == COMPARE_PROBE_BUDGET  # as the app's experiments probe
    out = r.stdout.splitlines()
    head = next(i for i, line in enumerate(out) if line.startswith("run ") and "kept@32" in line)
    assert out[head + 1].split()[:2] == ["rnn", "30"] and out[head + 2].split()[:2] == ["lstm", "30"]
    assert re.fullmatch(r"[+-]\d+\.\d\d", out[head + 1].split()[-1])  # vs n-gram: the tiny corpus's, computed
    assert out[head].split()[-3] == "reach90" and all(out[head + i].split()[-2].isdigit() for i in (1, 2))
    assert out[head + 3].startswith("32 steps back, rnn keeps ") and ", lstm " in out[head + 3]
    # the same data: both logs' first step saw the same characters (same seed, same corpus, same budget)
    logs = [read_log(runs[f"compare-{c}-tiny"].path / "metrics.jsonl") for c in ("rnn", "lstm")]
    assert logs[0].chars_seen == logs[1].chars_seen and logs[0].steps == logs[1].steps
