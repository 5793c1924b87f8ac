"""Fuzz tests of every reader of outside data (issue 18): run.json, metrics.jsonl lines, checkpoints' fields
and the corpus preview, with Hypothesis (property-based testing: it generates the inputs, and shrinks a
failure to its smallest case).

The property is the same everywhere: whatever the file holds, the reader gives a clean result or raises
rnntui's own error (RnntuiError: one line for the user); any other exception is a traceback a user would
see, and fails the test. Each result is then used as the program uses it (listed, printed, replayed,
sampled from, resumed), since a value that passes a reader but breaks its user is the same bug.

The example budget is fixed and the examples derandomized, so CI runs the same cases every time in
bounded time (FUZZ below); run with HYPOTHESIS_EXAMPLES=2000 to search harder.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import socket
import tempfile
import threading
from pathlib import Path

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnntui.core import events as ev
from rnntui.core.config import ModelConfig, RnntuiError, TrainConfig, config_to_dict
from rnntui.core.data.corpus import Vocab, corpus_info, read_text
from rnntui.core.runs.checkpoints import Checkpoint, CheckpointError, check_dict
from rnntui.core.runs.files import RunDirError
from rnntui.core.runs.folder import RunDir
from rnntui.core.runs.info import RunInfo
from rnntui.core.runs.listing import list_runs
from rnntui.core.runs.records import to_record
from rnntui.core.runs.runlog import Follower, RunLog, parse_lines, read_records
from rnntui.core.runs.summary import runs_table

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# any JSON value, the odd ones included: NaN and infinities (Python's json reads and writes them), ints
# past 64 bits, lone surrogates, deep-ish nesting
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["\ud800", "\x00", "x" * 300, "", "1"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


def _write(p: Path, data: bytes) -> None:
    p.write_bytes(data)


def _encodes(text: str) -> None:
    text.encode("utf-8")  # what a strict UTF-8 stdout does to it: raises on a lone surrogate


# -----------------------------------------------------------------------------
# run.json


def _good_info() -> dict:
    cfg = TrainConfig(corpus="tiny", model=ModelConfig(kind="lstm", hidden=16, layers=2, vocab_size=65), steps=100)
    return RunInfo(
        name="r",
        config=config_to_dict(cfg),
        corpus="tiny",
        corpus_fingerprint="abc",
        created=1.7e9,
        updated=1.7e9 + 60,
        state="running",
        steps=50,
        chars_seen=6400,
        wall_s=12.5,
        best_val_loss=1.5,
        final_val_loss=None,
        n_params=999,
        device="cpu",
        pid=os.getpid(),
        host=socket.gethostname(),
        world_size=1,
        message="",
    ).to_dict()


GOOD_INFO = _good_info()
INFO_PATHS = (
    [(k,) for k in GOOD_INFO]
    + [("config", k) for k in GOOD_INFO["config"]]
    + [("config", "model", k) for k in GOOD_INFO["config"]["model"]]
)


@st.composite
def info_dicts(draw) -> object:
    """A real run.json with up to three fields replaced by any JSON value or deleted; sometimes any JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    d = copy.deepcopy(GOOD_INFO)
    for path in draw(st.lists(st.sampled_from(INFO_PATHS), min_size=1, max_size=3)):
        parent = d
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(json_values)
    return d


def _use_the_folder(folder: Path) -> None:
    """What `runs`, `runs --json`, the Runs screen and watch do with a run folder."""
    from rnntui.ui.screens.runs_table import row_cells
    from rnntui.ui.workers.replay import RunView

    run = RunDir(folder)
    try:
        info = run.load_info()
    except RunDirError:
        info = None
    if info is not None:
        info.train_config.validate()
        info.live_state()
        json.dumps(info.to_dict())
    rows = list_runs(folder.parent)
    assert [r.name for r in rows] == [folder.name]
    if info is None and (folder / "run.json").exists():
        assert rows[0].state == "bad" and rows[0].message
    _encodes(runs_table(rows))
    for r in rows:
        _encodes(json.dumps(r.to_json(), allow_nan=False, ensure_ascii=False))
        row_cells(r, False)
    view = RunView.open(folder)
    view.phase()
    view.poll()


@FUZZ
@given(info_dicts())
def test_fuzz_run_json_fields(d):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        _write(folder / "run.json", json.dumps(d).encode("utf-8", "surrogatepass"))
        _use_the_folder(folder)


@FUZZ
@given(
    st.binary(max_size=600) | st.builds(lambda d, cut: json.dumps(d).encode()[:cut], info_dicts(), st.integers(0, 2000))
)
def test_fuzz_run_json_bytes(data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        _write(folder / "run.json", data)
        _use_the_folder(folder)


# -----------------------------------------------------------------------------
# metrics.jsonl


def _real_records() -> list[dict]:
    probe = ev.ProbeSnapshot(
        step=20,
        grad_total=np.ones((2, 4), np.float32),
        grad_last=np.full((2, 4), 0.5, np.float32),
        text="",
        hidden=np.zeros((2, 0, 1), np.float32),
    )
    events = [
        ev.StepMetrics(
            step=10,
            epoch=0.5,
            loss=2.0,
            lr=1e-3,
            grad_norm=0.5,
            chars_per_s=100.0,
            elapsed_s=1.0,
            progress=0.1,
            eta_s=None,
            chars_seen=640,
            wall_s=1.0,
        ),
        ev.EvalMetrics(20, 1.9, 2.7, 1.9, False),
        probe,
        ev.Sample(20, "a", "text", 0.8),
        ev.CheckpointSaved(20, "/x/latest.pt", "latest", 0.0),
        ev.RunFinished(30, "completed", "finished", 1.8, 1.9, 1.9),
    ]
    recs = [to_record(e) for e in events]
    return [{"type": "start", "step": 0, "time": 1.7e9, "wall_s": 0.0}] + [r for r in recs if r is not None]


REAL_RECORDS = _real_records()


@st.composite
def records(draw) -> object:
    """A real record with a field replaced or deleted, a record of any type with any fields, or any JSON."""
    pick = draw(st.integers(0, 5))
    if pick == 0:
        return draw(json_values)
    if pick == 1:
        return {
            "type": draw(st.sampled_from([r["type"] for r in REAL_RECORDS]) | st.text(max_size=4)),
            "step": draw(scalars),
            **draw(st.dictionaries(st.text(max_size=10), json_values, max_size=3)),
        }
    rec = dict(draw(st.sampled_from(REAL_RECORDS)))
    key = draw(st.sampled_from(sorted(rec)))
    if draw(st.booleans()):
        rec.pop(key)
    else:
        rec[key] = draw(json_values)
    return rec


def _use_the_records(recs: list[dict]) -> None:
    """What the runs listing, compare, the replay and watch do with a log's records."""
    from rnntui.core.analysis.compare import compare_row
    from rnntui.ui.state import RunState
    from rnntui.ui.workers.replay import Replayer

    log = RunLog().extend(recs)
    log.probe_near(None)
    log.probe_near(5)
    compare_row("x", log)
    replayer, state = Replayer(TrainConfig(steps=100)), RunState()
    for rec in recs:
        event = replayer.event(rec)
        if event is not None:
            state.apply(event)


@FUZZ
@given(st.lists(records(), max_size=8))
def test_fuzz_metrics_lines(values):
    lines = [json.dumps(v) for v in values]
    recs = parse_lines(lines)
    _use_the_records(recs)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        (folder / "metrics.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
        _use_the_folder(folder)  # no run.json: the summary comes from the log


@FUZZ
@given(
    st.lists(
        st.binary(max_size=80)
        | st.sampled_from([b"[" * 5000, b"{" * 3000, b'{"type": "step", "step": 1', b"\xff\xfe", b"\x00" * 10, b"\r"]),
        max_size=8,
    ),
    st.integers(1, 64),
)
def test_fuzz_metrics_bytes(pieces, chunk):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        p = folder / "metrics.jsonl"
        data = b"\n".join(pieces)
        p.write_bytes(data)
        whole = read_records(p)
        follower = Follower(p)  # the same bytes arriving a few at a time, as a watched log grows
        p.write_bytes(b"")
        got = []
        for i in range(0, len(data), chunk):
            with open(p, "ab") as f:
                f.write(data[i : i + chunk])
            got += follower.poll()
        assert got + follower.rest() == whole
        _use_the_records(whole)
        if whole:
            _use_the_folder(folder)


# -----------------------------------------------------------------------------
# checkpoints


@functools.cache
def real_ckpt() -> dict:
    """A real checkpoint of a small LSTM after a few steps: optimiser state, rng, histories, carried state.
    (A cached function, not a fixture: Hypothesis would print a fixture's 50 kB repr with every example.)"""
    from rnntui.core.data.corpus import corpus_from_text
    from rnntui.core.train.engine import Trainer

    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(
            corpus="mem",
            model=ModelConfig(kind="lstm", hidden=8, layers=2, embed=4),
            seq_len=8,
            batch_size=2,
            steps=6,
            eval_every=3,
            eval_windows=1,
            log_every=1,
            probe_hz=0,
            sample_every_s=0,
            out_dir=out,
            run_name="r",
            device="cpu",
            warmup=1,
            bf16=False,
        )
        text = "the cat sat on the mat. " * 20
        list(Trainer(cfg, corpus=corpus_from_text("mem", text, cfg.val_frac)).run())
        return torch.load(Path(out) / "r" / "latest.pt", weights_only=True)


def _paths(d: dict) -> list[tuple]:
    """Every field of a checkpoint dict worth changing, as a path of keys."""
    out = [(k,) for k in d]
    out += [("config", k) for k in d["config"]] + [("config", "model", k) for k in d["config"]["model"]]
    out += [("model", k) for k in d["model"]]
    out += [("optimizer", "param_groups", 0, k) for k in d["optimizer"]["param_groups"][0]]
    out += [("optimizer", "state", i, k) for i in list(d["optimizer"]["state"])[:2] for k in d["optimizer"]["state"][i]]
    out += [("rng", k) for k in d["rng"]] + [
        ("state", 0),
        ("history", "steps"),
        ("history", "values"),
        ("grad_history", "stride"),
        ("val_history", 0),
    ]
    return out


tensors = st.builds(
    lambda shape, dtype, fill: torch.full(shape, fill).to(dtype),
    st.lists(st.integers(0, 5), max_size=3).map(tuple),
    st.sampled_from([torch.float32, torch.float64, torch.float16, torch.int64, torch.uint8, torch.bool]),
    st.sampled_from([0.0, 1.0, -1.0, math.nan, math.inf]),
)


@st.composite
def spoiled_ckpt(draw) -> dict:
    """The real checkpoint with one or two fields deleted, reshaped, or replaced by a tensor or any JSON."""
    d = copy.deepcopy(real_ckpt())
    for path in draw(st.lists(st.sampled_from(_paths(d)), min_size=1, max_size=2)):
        parent = d
        for key in path[:-1]:
            try:
                parent = parent[key]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if not isinstance(parent, (dict, list)):
            continue
        action = draw(st.integers(0, 3))
        if action == 0 and isinstance(parent, dict):
            parent.pop(path[-1], None)
            continue
        if isinstance(parent, list) and not (0 <= path[-1] < len(parent)):
            continue
        old = parent.get(path[-1]) if isinstance(parent, dict) else parent[path[-1]]
        if action == 1 and isinstance(old, torch.Tensor) and old.dim() > 0:  # the same tensor, another shape
            new = old.clone().reshape(-1)[: max(0, old.numel() - draw(st.integers(1, 3)))]
        else:
            new = draw(tensors) if action == 2 else draw(json_values)
        parent[path[-1]] = new
    return d


def _use_the_checkpoint(d: dict) -> None:
    """What sample, inspect, the app's generate and a resume do with a checkpoint that loaded."""
    from rnntui.core.analysis.inspect import inspect_model
    from rnntui.core.data.corpus import corpus_from_text
    from rnntui.core.generate.sampling import Sampler
    from rnntui.core.train.loop import TrainLoop

    ck = Checkpoint.from_dict(d)
    model = ck.snapshot.model()
    vocab = Vocab(ck.snapshot.vocab)
    inspect_model(model, vocab, vocab.chars[:3] * 2)
    "".join(Sampler.from_checkpoint(d).stream("", temperature=1.0, length=5, seed=0))
    # a resume: the command line's settings with the checkpoint's model, on text of its characters
    cfg = TrainConfig(
        corpus="mem",
        model=ck.config.model,
        seq_len=8,
        batch_size=2,
        steps=12,
        log_every=1,
        probe_hz=0,
        sample_every_s=0,
        save=False,
        device="cpu",
        warmup=1,
        bf16=False,
    )
    corpus = corpus_from_text("mem", vocab.chars * (500 // len(vocab.chars) + 1), cfg.val_frac, vocab)
    rng = torch.get_rng_state()
    try:
        loop = TrainLoop(cfg, corpus, torch.device("cpu"), None, threading.Lock(), ckpt=ck)
        loop.optimise()  # one step from the restored weights, optimiser state and carried state
    finally:
        torch.set_rng_state(rng)


@FUZZ
@given(st.data())
def test_fuzz_checkpoint_fields(data):
    d = data.draw(spoiled_ckpt())
    try:
        check_dict(d, "fuzz.pt")
    except CheckpointError as e:
        assert "\n" not in str(e) and str(e).startswith("fuzz.pt: ")
        return
    _use_the_checkpoint(d)


def test_the_real_checkpoint_passes_and_is_used():
    check_dict(real_ckpt(), "real.pt")
    _use_the_checkpoint(copy.deepcopy(real_ckpt()))


# -----------------------------------------------------------------------------
# the corpus preview (the setup screen's first lines of a corpus, and inspect --file)


@FUZZ
@given(
    st.binary(max_size=300)
    | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))
    | st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfeh\x00i\x00", b"a\r\nb\rc", b"\x1b]0;x\x07", b"\xed\xa0\x80"])
)
def test_fuzz_corpus_preview(data):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "corpus.txt"
        p.write_bytes(data)
        for read in (lambda: corpus_info(str(p)).preview, lambda: read_text(str(p))):
            try:
                text = read()
            except RnntuiError as e:
                assert "\n" not in str(e)
                continue
            assert isinstance(text, str)
            _encodes(text)


def test_fuzz_is_bounded_and_deterministic():
    """CI's budget: a fixed number of examples, derandomized, no example database."""
    assert FUZZ.max_examples == EXAMPLES and FUZZ.derandomize and FUZZ.database is None and FUZZ.deadline is None
