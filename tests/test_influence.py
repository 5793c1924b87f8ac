"""Influence of past characters (core/analysis/influence.py, context.py) and `rnntui inspect --json`.

The oracle: a generated text in which one character, exactly KEY_BACK positions back, is the only thing
the next character can be predicted from. A trained LSTM's influence must peak there, and a tanh RNN
that has not learned the task must not. Captum, when installed, checks the numbers independently.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, TINY, rnntui_env, tiny_args

from rnntui.core.analysis.context import checkpoint_context, effective_context, prediction_ends
from rnntui.core.analysis.influence import (
    GRADIENT_X_INPUT,
    IG_STEPS,
    INTEGRATED_GRADIENTS,
    CursorInfluence,
    InfluenceError,
    attribute,
    influence,
    normalise,
    reach,
    spread,
    strongest,
    summary,
)
from rnntui.core.config import ModelConfig, TrainConfig, config_to_dict
from rnntui.core.data.corpus import Vocab
from rnntui.core.model.cells import CharModel, loss_fn

# -----------------------------------------------------------------------------
# the oracle: the answer is the key exactly KEY_BACK characters back, and nothing else says which or when

KEY_BACK = 20
NOISE, KEYS, ANSWERS = "abcdefgh", "0123", "WXYZ"
VOCAB = Vocab("".join(sorted(NOISE + KEYS + ANSWERS)))


def key_text(blocks: int, seed: int, k: int = KEY_BACK) -> str:
    """Blocks "2" + k-1 random letters a-h + "Y" + 0-4 more: the answer W-Z names the key 0-3 exactly k
    characters before it. The letters between are noise, so the key is the only character that says
    which answer comes, and when (the model has to count)."""
    r = random.Random(seed)
    out = []
    for _ in range(blocks):
        i = r.randrange(len(KEYS))
        noise = "".join(r.choice(NOISE) for _ in range(k - 1))
        out.append(KEYS[i] + noise + ANSWERS[i] + "".join(r.choice(NOISE) for _ in range(r.randint(0, 4))))
    return "".join(out)


# The distance is learned in stages (10, then 15, then 20 back): an LSTM trained at 20 from the start sat
# at chance for 3,000 steps. Through this curriculum (1,200 steps, a few seconds on one core) it names every answer
# and its influence peaks at the key, 2.4x the strongest other distance. Longer is not safer: at the
# former 1,200 + 600 + 1,200 steps the peak was 1.3x, and from 2,700 to 2,850 steps it sat 11 back.
CURRICULUM = ((10, 600), (15, 300), (KEY_BACK, 300))


def train_on_keys(kind: str, seed: int = 0, hidden: int = 32, curriculum=CURRICULUM) -> CharModel:
    """A 1-layer model trained with the project's CharModel and loss on key_text: Adam, windows of 64.
    (One torch thread, as for every model trained in the test process: conftest.py.)"""
    torch.manual_seed(seed)
    model = CharModel(ModelConfig(kind=kind, vocab_size=len(VOCAB), embed=16, hidden=hidden, layers=1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(seed)
    T, B = 64, 16
    for k, steps in curriculum:
        data = torch.from_numpy(VOCAB.encode(key_text(2000, seed * 100 + k, k)).astype(np.int64))
        for _ in range(steps):
            s = torch.randint(0, len(data) - T - 1, (B,), generator=g)
            idx = s[:, None] + torch.arange(T)[None]  # (B, T)
            logits, _ = model(data[idx])
            loss = loss_fn(logits, data[idx + 1])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
    return model.eval()


def answer_influence(model: CharModel, method: str = GRADIENT_X_INPUT) -> tuple[np.ndarray, float]:
    """(mean share at each distance 1..60 over the answers of a fresh text, index d-1; the accuracy of
    the model's likeliest next character at those answers)."""
    text = key_text(60, seed=12345)
    ids = VOCAB.encode(text).astype(np.int64)
    W = 60
    ends = np.array([p - 1 for p, ch in enumerate(text) if ch in ANSWERS and p > W])  # last char read
    windows = torch.from_numpy(ids[ends[:, None] + np.arange(-W + 1, 1)[None]])
    targets = torch.from_numpy(ids[ends + 1])
    scores, logp, _ = attribute(model, windows, None, targets, method)
    accuracy = float((logp.argmax(axis=1) == ids[ends + 1]).mean())
    return normalise(scores).mean(axis=0)[::-1], accuracy


@pytest.fixture(scope="module")
def key_lstm() -> CharModel:
    return train_on_keys("lstm")


@pytest.fixture(scope="module")
def key_rnn() -> CharModel:
    """A tanh RNN that has not learned the task: untrained (seeded initial weights). Training costs test
    time and proves nothing more: trained at the full distance from the start a tanh RNN stayed at chance,
    and through the LSTM's curriculum one learned to name 72% of the answers while its influence still
    peaked 12 back, not at the key (gradient x input sees the local sensitivity, which in a tanh RNN is
    dominated by recent characters)."""
    torch.manual_seed(0)
    return CharModel(ModelConfig(kind="rnn", vocab_size=len(VOCAB), embed=16, hidden=32, layers=1)).eval()


def test_a_trained_lstm_looks_exactly_key_back(key_lstm):
    curve, accuracy = answer_influence(key_lstm)
    assert accuracy > 0.9  # it learned the task (chance: 1/4 of the answers)
    assert int(np.argmax(curve)) + 1 == KEY_BACK
    others = np.delete(curve, KEY_BACK - 1)
    assert curve[KEY_BACK - 1] > 1.2 * others.max()  # a clear peak, not a tie with the noise
    ig_curve, _ = answer_influence(key_lstm, INTEGRATED_GRADIENTS)
    assert int(np.argmax(ig_curve)) + 1 == KEY_BACK


def test_a_tanh_rnn_that_did_not_learn_the_task_does_not(key_rnn):
    curve, accuracy = answer_influence(key_rnn)
    assert accuracy < 0.5  # the same training left it near chance
    assert int(np.argmax(curve)) + 1 != KEY_BACK
    assert curve[KEY_BACK - 1] < 0.5 * curve.max()  # nothing special at the key


# -----------------------------------------------------------------------------
# brackets: at a closing bracket, the influence peaks at its opening bracket

PAIRS = {"(": ")", "[": "]", "{": "}"}
BR_VOCAB = Vocab("".join(sorted(set("()[]{} abcdefgh"))))


def bracket_text(groups: int, seed: int) -> str:
    """Groups "(" + 2-10 random letters + ")" (or [] or {}) and a space: which closing bracket comes is
    said only by the opening one, up to 11 characters back; when it comes, by the count of letters."""
    r = random.Random(seed)
    out = []
    for _ in range(groups):
        o = r.choice("([{")
        out.append(o + "".join(r.choice("abcdefgh") for _ in range(r.randint(2, 10))) + PAIRS[o] + " ")
    return "".join(out)


@pytest.fixture(scope="module")
def bracket_lstm() -> CharModel:
    """A 1x32 LSTM, 1,500 Adam steps on windows of 32 (~3 s on one core)."""
    torch.manual_seed(0)
    model = CharModel(ModelConfig(kind="lstm", vocab_size=len(BR_VOCAB), embed=16, hidden=32, layers=1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    data = torch.from_numpy(BR_VOCAB.encode(bracket_text(3000, 1)).astype(np.int64))
    g = torch.Generator().manual_seed(0)
    for _ in range(1500):
        idx = torch.randint(0, len(data) - 33, (16,), generator=g)[:, None] + torch.arange(32)[None]
        loss = loss_fn(model(data[idx])[0], data[idx + 1])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
    return model.eval()


def closing_shares(model: CharModel, method: str) -> tuple[np.ndarray, np.ndarray, float]:
    """(shares (N, W) of the 14 characters before each closing bracket of a fresh text, the window index
    of each one's opening bracket, the share of closings whose bracket type the model gets right)."""
    text, W = bracket_text(200, seed=99), 14
    ids = BR_VOCAB.encode(text).astype(np.int64)
    stack, pairs = [], []
    for i, ch in enumerate(text):
        if ch in PAIRS:
            stack.append(i)
        elif ch in ")]}":
            o = stack.pop()
            if i >= W:
                pairs.append((i, o))
    ends = np.array([c - 1 for c, _ in pairs])  # the last character read: the prediction is the closer
    at = np.array([W - (c - o) for c, o in pairs])  # the opener's index in the window
    windows = torch.from_numpy(ids[ends[:, None] + np.arange(-W + 1, 1)[None]])
    scores, logp, _ = attribute(model, windows, None, torch.from_numpy(ids[ends + 1]), method)
    closers = [int(BR_VOCAB.encode(c)[0]) for c in ")]}"]
    right_type = float((np.array(closers)[logp[:, closers].argmax(axis=1)] == ids[ends + 1]).mean())
    return normalise(scores), at, right_type


def test_at_a_closing_bracket_the_influence_peaks_at_its_opening_bracket(bracket_lstm):
    shares, at, right_type = closing_shares(bracket_lstm, INTEGRATED_GRADIENTS)
    assert right_type > 0.95  # it learned which bracket closes
    rows = np.arange(len(at))
    rank = np.array([(row > row[a]).sum() + 1 for row, a in zip(shares, at)])
    assert np.median(rank) == 1  # the opener is the strongest character for most closings
    inside = [row[a + 1 :].max() for row, a in zip(shares, at)]  # the strongest letter of the group (or last)
    assert shares[rows, at].mean() > 1.5 * np.mean(inside)
    # gradient x input (the inspector's cursor method) does not see it here: the memory of the opener is
    # saturated (its local gradient is small) and the prediction's timing, read from the recent letters,
    # dominates. This is the case the help and influence.py's docstring warn about.
    gxi, _, _ = closing_shares(bracket_lstm, GRADIENT_X_INPUT)
    assert np.median([(row > row[a]).sum() + 1 for row, a in zip(gxi, at)]) > 1


# -----------------------------------------------------------------------------
# reading shares


def test_reach_and_strongest_of_hand_made_vectors():
    assert reach([0.0, 0.0, 0.0, 1.0]) == 1 and strongest([0.0, 0.0, 0.0, 1.0]) == 1
    assert reach([0.5, 0.0, 0.0, 0.5]) == 4  # half is 4 back: 90% needs all four
    assert reach([0.05, 0.05, 0.9]) == 1  # exactly 90% in the last one counts
    assert reach(np.full(10, 0.1)) == 9 and reach(np.full(10, 0.1), share=0.5) == 5
    assert reach([0.3, 0.1, 0.6]) == 3 and strongest([0.3, 0.1, 0.6]) == 1 and strongest([0.6, 0.1, 0.3]) == 3
    assert strongest([0.4, 0.2, 0.4]) == 1  # a tie goes to the nearer character
    assert reach(np.zeros(4)) is None and strongest(np.zeros(4)) is None and strongest(np.zeros(0)) is None


def test_normalise_makes_shares_and_survives_nothing():
    s = normalise(np.array([[1.0, 3.0], [0.0, 0.0], [np.nan, 2.0], [-1.0, 1.0]]))
    assert s.tolist() == [[0.25, 0.75], [0.0, 0.0], [0.0, 1.0], [0.0, 1.0]]


def test_summary_words_and_control_characters():
    w = np.zeros(45)
    w[-41], w[-3:] = 0.5, [0.1, 0.2, 0.2]
    chars = "x" * 4 + "(" + "y" * 40
    assert summary(chars, w) == (
        "90% of the influence lies within the last 41 characters; the strongest is the `(` 41 characters back"
    )
    assert summary("a\x1b", np.array([0.0, 1.0])) == (
        "90% of the influence lies within the last character; the strongest is the `␛` just before"
    )
    assert "the space 2 characters back" in summary("a b", np.array([0.0, 0.8, 0.2]))
    assert summary("ab", np.zeros(2)).startswith("no influence")
    assert spread(np.array([0.25, 0.75]), [0, 2], 4).tolist() == [0.25, 0.0, 0.75, 0.0]


# -----------------------------------------------------------------------------
# one prediction, windows and states

SMALL_VOCAB = 12


def small(kind: str, seed: int = 0) -> CharModel:
    torch.manual_seed(seed)
    return CharModel(ModelConfig(kind=kind, vocab_size=SMALL_VOCAB, embed=6, hidden=10, layers=2)).eval()


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_influence_is_a_share_per_character_of_the_window(kind):
    m = small(kind)
    ids = np.random.default_rng(0).integers(0, SMALL_VOCAB, 40)
    a = influence(m, ids, window=25)
    assert a.weights.shape == (25,) and (a.weights >= 0).all() and a.weights.sum() == pytest.approx(1.0)
    assert a.probs.shape == (SMALL_VOCAB,) and a.probs.sum() == pytest.approx(1.0)
    assert a.target == int(np.argmax(a.probs)) and 1 <= a.reach90 <= 25
    assert influence(m, ids, window=None).weights.shape == (40,)
    assert influence(m, ids, target=3).target == 3
    # the window starts from the state the characters before it leave: the prediction is the whole text's
    full = influence(m, ids, window=None)
    np.testing.assert_allclose(a.probs, full.probs, rtol=1e-5, atol=1e-7)
    with pytest.raises(InfluenceError):
        influence(m, [])
    with pytest.raises(InfluenceError):
        influence(m, ids, method="occlusion")


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_cursor_influence_reads_the_inspections_stored_state(kind):
    from rnntui.core.analysis.inspect import inspect_model

    vocab = Vocab.from_text("abc ()")
    torch.manual_seed(1)
    cfg = TrainConfig(corpus="tiny", model=ModelConfig(kind=kind, vocab_size=len(vocab), embed=4, hidden=8, layers=2))
    model = CharModel(cfg.model).eval()
    ckpt = {"model": model.state_dict(), "config": config_to_dict(cfg), "vocab": vocab.chars, "step": 1}
    text = "(ab (c) a)b c(" * 6
    ins = inspect_model(model, vocab, text)
    cursor = CursorInfluence(ckpt, ins, window=16)
    ids = vocab.encode(text).astype(np.int64)
    for step in (0, 5, 40, len(ids) - 1):
        got = cursor.at(step)
        want = influence(model, ids[: step + 1], window=16)  # the prefix run again, fused
        np.testing.assert_allclose(got.weights, want.weights, rtol=1e-4, atol=1e-6)
        assert got.weights.size == min(16, step + 1)
    with pytest.raises(InfluenceError):
        cursor.at(len(ids))


# -----------------------------------------------------------------------------
# effective context


def test_effective_context_is_the_mean_of_single_predictions():
    m = small("lstm")
    ids = np.random.default_rng(2).integers(0, SMALL_VOCAB, 200)
    ec = effective_context(m, ids, window=30, positions=7, batch=3)
    ends = prediction_ends(200, 30, 7)
    assert ends[0] == 29 and ends[-1] == 198 and ec.positions == 7
    singles = [influence(m, ids[p - 29 : p + 1], window=None, target=int(ids[p + 1])) for p in ends]
    mean = np.mean([s.weights for s in singles], axis=0)[::-1]
    np.testing.assert_allclose(ec.curve[1:], mean, rtol=1e-5, atol=1e-8)
    assert ec.curve[0] == 0 and ec.curve.sum() == pytest.approx(1.0) and ec.curve.shape == (31,)
    assert sorted(ec.reaches.tolist()) == sorted(s.reach90 for s in singles)
    assert ec.median_reach == sorted(s.reach90 for s in singles)[3]
    assert ec.cumulative(30) == pytest.approx(1.0) and ec.to_json()["reach90"] == ec.median_reach
    assert "median over 7 predictions, 30 characters read" in ec.sentence()
    short = effective_context(m, ids[:10], window=30, positions=50)  # a short text: a shorter window
    assert short.window == 9 and short.positions == 1
    with pytest.raises(InfluenceError):
        effective_context(m, ids[:1])


def test_checkpoint_context_over_a_given_text():
    vocab = Vocab("ab")
    cfg = TrainConfig(
        corpus="/nonexistent/corpus.txt", model=ModelConfig(kind="gru", vocab_size=2, embed=2, hidden=4, layers=1)
    )
    ckpt = {"model": CharModel(cfg.model).state_dict(), "config": config_to_dict(cfg), "vocab": vocab.chars, "step": 1}
    ec = checkpoint_context(ckpt, "ab?" * 30, window=10, positions=5)  # ? is skipped, as the inspector does
    assert ec.window == 10 and ec.positions == 5
    with pytest.raises(InfluenceError, match="corpus cannot be read"):
        checkpoint_context(ckpt)


# -----------------------------------------------------------------------------
# Captum, the independent oracle (a dev dependency: skipped where it is not installed)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_the_attribution_is_captums(kind):
    captum = pytest.importorskip("captum.attr")
    m = small(kind, seed=3)
    ids = torch.from_numpy(np.random.default_rng(3).integers(0, SMALL_VOCAB, (2, 30)))
    h0 = torch.randn(2, 2, 10) * 0.5  # a carried state, as the inspector's windows start from
    state = (h0, torch.randn(2, 2, 10) * 0.5) if kind == "lstm" else h0
    targets = torch.tensor([4, 7])

    def f(emb):  # (N, T, E) embeddings -> (N, V) next-character log-probabilities
        n = emb.shape[0] // 2  # integrated gradients stacks its path steps along the batch
        st = tuple(s.repeat(1, n, 1) for s in state) if isinstance(state, tuple) else state.repeat(1, n, 1)
        out, _ = m.rnn(emb, st)
        return torch.log_softmax(m.head(out[:, -1]), dim=-1)

    emb = m.embed(ids).detach().requires_grad_(True)  # as Captum wants its inputs
    for method, theirs in (
        (GRADIENT_X_INPUT, captum.InputXGradient(f).attribute(emb, target=targets)),
        (
            INTEGRATED_GRADIENTS,
            captum.IntegratedGradients(f).attribute(
                emb, target=targets, n_steps=IG_STEPS, method="gausslegendre", internal_batch_size=2 * IG_STEPS
            ),
        ),
    ):
        ours, _, _ = attribute(m, ids, state, targets, method)
        np.testing.assert_allclose(
            normalise(ours), normalise(theirs.detach().norm(dim=-1).double().numpy()), rtol=1e-4, atol=1e-7
        )


@pytest.mark.parametrize("method", [GRADIENT_X_INPUT, INTEGRATED_GRADIENTS])
def test_the_contrastive_attribution_is_captums(method):
    """attribute(contrast=...) explains the target's log-odds against the other alternatives; Captum,
    given a forward function that computes those log-odds its own way (one column per alternative, each
    against the rest), must agree."""
    captum = pytest.importorskip("captum.attr")
    m = small("lstm", seed=4)
    ids = torch.from_numpy(np.random.default_rng(4).integers(0, SMALL_VOCAB, (3, 25)))
    contrast = torch.tensor([2, 5, 9])
    targets = torch.tensor([5, 2, 9])

    def log_odds(emb):  # (N, T, E) -> (N, K): column k is alternative k's log-odds against the other K-1
        out, _ = m.rnn(emb)
        lp = torch.log_softmax(m.head(out[:, -1]), dim=-1)[:, contrast]  # (N, K)
        rest = [torch.cat([lp[:, :k], lp[:, k + 1 :]], dim=1) for k in range(len(contrast))]
        return torch.stack([lp[:, k] - torch.logsumexp(r, dim=1) for k, r in enumerate(rest)], dim=1)

    emb = m.embed(ids).detach().requires_grad_(True)
    column = torch.tensor([int((contrast == t).nonzero()) for t in targets])
    if method == GRADIENT_X_INPUT:
        theirs = captum.InputXGradient(log_odds).attribute(emb, target=column)
    else:
        theirs = captum.IntegratedGradients(log_odds).attribute(
            emb, target=column, n_steps=IG_STEPS, method="gausslegendre", internal_batch_size=3 * IG_STEPS
        )
    ours, _, _ = attribute(m, ids, None, targets, method, contrast=contrast)
    plain, _, _ = attribute(m, ids, None, targets, method)
    np.testing.assert_allclose(
        normalise(ours), normalise(theirs.detach().norm(dim=-1).double().numpy()), rtol=1e-4, atol=1e-7
    )
    assert not np.allclose(normalise(ours), normalise(plain), atol=1e-3)  # a different question, other shares


# -----------------------------------------------------------------------------
# rnntui inspect --json, end to end as a script runs it


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "rnntui", *args], capture_output=True, text=True, timeout=120, cwd=ROOT, env=rnntui_env()
    )


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    from rnntui.cli import main

    out = tmp_path_factory.mktemp("ck")
    assert main(["train", TINY, "--steps", "10", "--out-dir", str(out), *tiny_args("lstm", layers=2)]) == 0
    return str(out / "lstm-2x16-tiny" / "latest.pt")


def test_inspect_json_interface(tiny_ckpt):
    text = "The (king) said\x1b[31m \u00e9 hi"  # ESC and é: not in tiny's vocabulary, skipped with 0
    r = run_cli("inspect", tiny_ckpt, "--text", text, "--json")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("\n") == 1 and "\x1b" not in r.stdout  # one line, control characters escaped
    d = json.loads(r.stdout)
    assert len(d["next"]) == 5 and all(isinstance(c, str) and len(c) == 1 for c, _ in d["next"])
    probs = [p for _, p in d["next"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    infl = d["influence"]
    assert len(infl) == len(text) and min(infl) >= 0 and math.isclose(sum(infl), 1.0, rel_tol=1e-9)
    assert infl[text.index("\x1b")] == 0 and infl[text.index("\u00e9")] == 0
    assert d["reach90"] == reach(np.array(infl)) and d["method"] == "gradient-x-input"
    assert d["target"] == d["next"][0][0] and d["text"] == text
    assert text[-d["strongest"]["distance"]] == d["strongest"]["char"]
    assert d["summary"].startswith("90% of the influence lies within the last")
    ig = json.loads(
        run_cli(
            "inspect",
            tiny_ckpt,
            "--text",
            "hello (world",
            "--json",
            "--method",
            "integrated-gradients",
            "--window",
            "5",
        ).stdout
    )
    assert ig["method"] == "integrated-gradients" and ig["window"] == 5 and sum(ig["influence"][:-5]) == 0


def test_inspect_json_without_text_uses_the_inspectors_default_and_effective_context(tiny_ckpt):
    d = json.loads(run_cli("inspect", tiny_ckpt, "--json").stdout)
    assert len(d["text"]) > 100 and len(d["influence"]) == len(d["text"])  # the validation slice
    r = run_cli("inspect", tiny_ckpt, "--effective-context", "--json", "--window", "40", "--positions", "8")
    assert r.returncode == 0, r.stderr
    ec = json.loads(r.stdout)
    assert ec["window"] == 40 and ec["positions"] == 8 and len(ec["curve"]) == 41 and ec["source"] == "validation"
    assert 1 <= ec["reach90"] <= 40 and math.isclose(sum(ec["curve"]), 1.0, rel_tol=1e-5)
    r = run_cli("inspect", tiny_ckpt, "--effective-context", "--text", "the king and the queen " * 10)
    assert r.returncode == 0 and "of the influence lies within" in r.stdout and "within 1:" in r.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["--text", "", "--json"], "empty"),
        (["--text", "\u00e9\u00e9", "--json"], "vocabulary"),
        (["--window", "0", "--json"], "--window"),
        (["--positions", "3", "--json"], "--positions goes with --effective-context"),
        (["--method", "integrated-gradients"], "goes with --json"),
    ],
)
def test_inspect_headless_bad_input_is_one_line(tiny_ckpt, args, words):
    r = run_cli("inspect", tiny_ckpt, *args)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and words in r.stderr and "Traceback" not in r.stderr


def test_inspect_json_bad_checkpoint_is_one_line(tmp_path):
    bad = tmp_path / "x.pt"
    bad.write_bytes(b"\x80not a checkpoint")
    r = run_cli("inspect", str(bad), "--text", "abc", "--json")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and r.stderr.startswith("rnntui: error:")
