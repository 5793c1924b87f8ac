"""The inspector's computation: features, scores, and the model run (tiny models, short texts)."""

import math

import numpy as np
import pytest
import torch

from rnntui.core.analysis.features import (
    FeatureError,
    after_newline,
    bracket_depth,
    correlation,
    inside_quotes,
    line_position,
    rank,
    regex_match,
    saturation,
    selection_scores,
    text_feature,
    text_range,
    variance_order,
)
from rnntui.core.analysis.inspect import InspectError, default_text, inspect_checkpoint, inspect_model
from rnntui.core.config import ModelConfig, TrainConfig, config_to_dict
from rnntui.core.data.corpus import Vocab
from rnntui.core.model.cells import CharModel, unroll

VOCAB = Vocab.from_text("abc ()[]'\"\n")


def tiny(kind: str, layers: int = 2, hidden: int = 8, seed: int = 0) -> CharModel:
    torch.manual_seed(seed)
    return CharModel(ModelConfig(kind=kind, vocab_size=len(VOCAB), embed=4, hidden=hidden, layers=layers)).eval()


# -----------------------------------------------------------------------------
# features of constructed strings


def test_quotes_open_on_the_quote_and_close_after_it():
    t = "a\"b'c\"d'e\nf'g\nh"
    #    a " b ' c " d ' e \n f ' g \n h
    want = [0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]
    assert inside_quotes(t).tolist() == want  # ' inside "..." is text; a newline ends an open string


def test_bracket_depth_nested_and_unbalanced():
    assert bracket_depth("([{x}])").tolist() == [1, 2, 3, 3, 2, 1, 0]
    assert bracket_depth(")(a))(").tolist() == [0, 1, 1, 0, 0, 1]


def test_line_position_and_newline():
    t = "ab\ncde\n\nf"
    assert line_position(t).tolist() == [0, 1, 2, 0, 1, 2, 3, 0, 0]
    assert after_newline(t).tolist() == [0, 0, 1, 0, 0, 0, 1, 1, 0]


def test_regex_and_range():
    assert regex_match("ab12c3", r"[0-9]+").tolist() == [0, 0, 1, 1, 0, 1]
    with pytest.raises(FeatureError):
        regex_match("abc", "(")
    assert text_range(5, 1, 3).tolist() == [0, 1, 1, 0, 0]
    with pytest.raises(FeatureError):
        text_feature("abc", "range", span=(2, 2))
    with pytest.raises(FeatureError):
        text_feature("abc", "regex")


# -----------------------------------------------------------------------------
# scoring constructed activations


def test_correlation_matches_numpy_and_ranks_by_magnitude():
    rng = np.random.default_rng(0)
    f = (rng.random(200) > 0.5).astype(np.float32)
    acts = np.stack(
        [0.5 * rng.standard_normal(200), -f, 2 * f + 1, np.full(200, 0.3), f + 0.8 * rng.standard_normal(200)], axis=1
    ).astype(np.float32)  # (T, 5)
    r = correlation(acts, f)
    want = [np.corrcoef(acts[:, i], f)[0, 1] for i in (0, 1, 2, 4)]
    np.testing.assert_allclose(r[[0, 1, 2, 4]], want, atol=1e-5)
    assert r[3] == 0.0  # a constant unit has no correlation, not NaN
    assert rank(r)[:3].tolist() == [1, 2, 4]  # |r| = 1, 1 (stable), then the noisy copy


def test_selection_scores_on_inside_off_around():
    T = 30
    inside = np.zeros(T, bool)
    inside[10:15] = True
    acts = np.zeros((T, 4), np.float32)
    acts[10:15, 0] = 0.9  # on exactly inside: perfect match
    acts[:, 1] = 0.9  # always on: no match
    acts[10:15, 2] = -0.9  # strongly negative inside: perfect match with a minus sign
    acts[8:15, 3] = 0.9  # on inside and 2 of the 10 surrounding steps
    s = selection_scores(acts, inside, threshold=0.5)
    np.testing.assert_allclose(s, [1.0, 0.0, -1.0, 0.8], atol=1e-6)
    assert rank(s)[:2].tolist() == [0, 2]
    with pytest.raises(FeatureError):
        selection_scores(acts, np.zeros(T, bool))


def test_saturation_and_variance_order():
    acts = np.array([[0.95, 0.1, -0.99], [0.95, -0.1, 0.0], [0.5, 0.3, -0.95], [0.0, 0.0, 0.0]], np.float32)
    np.testing.assert_allclose(saturation(acts), [0.5, 0.0, 0.5])
    assert variance_order(acts).tolist() == [2, 0, 1]


# -----------------------------------------------------------------------------
# the model run


def test_anatomy_of_a_tanh_rnn_by_hand():
    vocab = Vocab("ab")
    model = CharModel(ModelConfig(kind="rnn", vocab_size=2, embed=2, hidden=2, layers=1)).eval()
    with torch.no_grad():
        model.embed.weight.copy_(torch.eye(2))
        model.rnn.weight_ih_l0.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        model.rnn.bias_ih_l0.copy_(torch.tensor([0.5, 0.0]))
        model.rnn.weight_hh_l0.copy_(torch.tensor([[0.0, 1.0], [-1.0, 0.0]]))
        model.rnn.bias_hh_l0.copy_(torch.tensor([0.0, -0.5]))
        model.head.weight.copy_(torch.eye(2))
        model.head.bias.zero_()
    ins = inspect_model(model, vocab, "ab")
    # step 0 reads 'a' = e0 from h = 0: pre_x = W_ih e0 + b_ih = (1.5, 0), pre_h = b_hh = (0, -0.5)
    h0 = (math.tanh(1.5), math.tanh(-0.5))
    # step 1 reads 'b' = e1: pre_x = (0.5, 2), pre_h = W_hh h0 + b_hh = (h0[1], -h0[0] - 0.5)
    ph1 = (h0[1], -h0[0] - 0.5)
    h1 = (math.tanh(0.5 + ph1[0]), math.tanh(2.0 + ph1[1]))
    np.testing.assert_allclose(ins.pre_x[0, :, :], [[1.5, 0.0], [0.5, 2.0]], atol=1e-6)
    np.testing.assert_allclose(ins.pre_h[0, :, :], [[0.0, -0.5], ph1], atol=1e-6)
    np.testing.assert_allclose(ins.h[0], [h0, h1], atol=1e-6)
    np.testing.assert_allclose(ins.from_input[0], [1.5, math.hypot(0.5, 2.0)], atol=1e-6)
    np.testing.assert_allclose(ins.from_state[0], [0.5, math.hypot(*ph1)], atol=1e-6)
    # the head is the identity: P(b after a) = softmax(h0)[1]
    p_b = math.exp(h0[1]) / (math.exp(h0[0]) + math.exp(h0[1]))
    assert math.isnan(ins.p_char[0]) and math.isnan(ins.loss[0])
    np.testing.assert_allclose(ins.p_char[1], p_b, atol=1e-6)
    np.testing.assert_allclose(ins.loss[1], -math.log(p_b), atol=1e-5)
    assert ins.top_ids[0].tolist() == [0, 1] and abs(ins.top_p[0].sum() - 1) < 1e-6


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_chunked_run_equals_one_shot(kind):
    model = tiny(kind)
    text = "(a 'b' [c])\n" * 8
    one, chunked = inspect_model(model, VOCAB, text, window=1000), inspect_model(model, VOCAB, text, window=7)
    for name in ("h", "c", "from_input", "from_state", "pre_x", "pre_h", "top_p", "p_char"):
        a, b = getattr(one, name), getattr(chunked, name)
        if a is None:
            assert b is None
        else:
            np.testing.assert_allclose(a, b, atol=1e-5, equal_nan=True)
    for g in one.gate_mean:
        np.testing.assert_allclose(one.gate_mean[g], chunked.gate_mean[g], atol=1e-6)
        np.testing.assert_array_equal(one.gate_high[g], chunked.gate_high[g])
    assert one.h.dtype == np.float32 and one.h.shape == (2, len(text), 8)


def test_lstm_gates_and_anatomy_match_unroll():
    model = tiny("lstm", layers=1)
    text = "a(b)c 'a'\n" * 3
    ins = inspect_model(model, VOCAB, text, window=5)
    x = torch.tensor([VOCAB.index[ch] for ch in text]).unsqueeze(0)
    with torch.no_grad():
        u = unroll(model, x, None, record_gates=True)
    f, i, g = (u.gates[k][0, 0].numpy() for k in "fig")  # (T, H)
    c = torch.stack(u.cs[0], dim=1)[0].numpy()
    c_prev = np.vstack([np.zeros((1, 8)), c[:-1]])
    np.testing.assert_allclose(ins.c[0], c, atol=1e-6)
    np.testing.assert_allclose(ins.gate_mean["f"][0], f.mean(axis=1), atol=1e-6)
    np.testing.assert_allclose(ins.gate_high["f"][0], (f > 0.9).mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(ins.from_state[0], np.linalg.norm(f * c_prev, axis=1), atol=1e-5)
    np.testing.assert_allclose(ins.from_input[0], np.linalg.norm(i * g, axis=1), atol=1e-5)


def test_characters_outside_the_vocabulary_are_skipped_and_marked():
    model = tiny("gru")
    ins = inspect_model(model, VOCAB, "abZ(éc)")
    clean = inspect_model(model, VOCAB, "ab(c)")
    assert ins.step_of.tolist() == [0, 1, -1, 2, -1, 3, 4]
    assert ins.pos_of.tolist() == [0, 1, 3, 5, 6]
    assert ins.skipped == "Zé" and ins.text == "abZ(éc)"
    np.testing.assert_allclose(ins.h, clean.h, atol=1e-6)  # the model never saw Z or é
    with pytest.raises(InspectError):
        inspect_model(model, VOCAB, "XYZ")


def test_checkpoint_entry_point_and_default_text():
    model = tiny("lstm", layers=1)
    cfg = TrainConfig(corpus="/nonexistent/corpus.txt", model=model.cfg)
    ckpt = {
        "format": "rnntui-checkpoint",
        "version": 1,
        "model": model.state_dict(),
        "config": config_to_dict(cfg),
        "vocab": VOCAB.chars,
        "step": 0,
    }
    text = default_text(cfg, VOCAB, n_chars=200)  # corpus missing: the fallback the model reads best
    assert set(text) <= set(VOCAB.chars + "abcdefghijklmnopqrstuvwxyz0123456789 ,{}=")
    ins = inspect_checkpoint(ckpt, "a(b)")
    np.testing.assert_allclose(ins.h, inspect_model(model, VOCAB, "a(b)").h, atol=1e-6)
