"""Beam search: width 1 is greedy, every score is the text's log-probability under the model."""
import math

import numpy as np
import pytest
import torch

from rnntui.core.beam import Beam, beam_search
from rnntui.core.config import ConfigError
from rnntui.core.sampling import Sampler
from test_sampling import VOCAB, make_model


def model_logprob(model, prime: str, text: str) -> float:
    """Sum of ln p(text[t] | prime + text[:t]) from the torch model itself."""
    ids = VOCAB.encode(prime + text).tolist()
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]))
    logp = torch.log_softmax(logits[0].double(), dim=-1)  # (T, V)
    k = len(prime)
    return float(sum(logp[k - 1 + t, ids[k + t]] for t in range(len(text))))


@pytest.mark.parametrize("kind,layers", [("rnn", 1), ("lstm", 2), ("gru", 3)])
def test_width_one_is_argmax(kind, layers):
    sampler = Sampler.from_model(make_model(kind, layers=layers), VOCAB)
    (beam,) = beam_search(sampler, "a(", width=1, length=60)
    assert beam.text == sampler.sample("a(", length=60, argmax=True)
    assert not beam.finished


@pytest.mark.parametrize("kind,layers", [("rnn", 2), ("lstm", 1), ("gru", 2)])
def test_scores_are_summed_log_probs_under_the_model(kind, layers):
    model = make_model(kind, layers=layers)
    sampler = Sampler.from_model(model, VOCAB)
    beams = beam_search(sampler, "fe", width=8, length=40)
    assert len(beams) == 8 and len({b.text for b in beams}) == 8
    assert [b.logprob for b in beams] == sorted((b.logprob for b in beams), reverse=True)
    for b in beams:
        assert len(b.text) == 40
        assert b.logprob == pytest.approx(model_logprob(model, "fe", b.text), abs=1e-3)
        assert sum(b.char_logprobs) == pytest.approx(b.logprob) and len(b.char_logprobs) == 40
        assert b.bits_per_char == pytest.approx(-b.logprob / math.log(2) / 40)


def test_step_batch_matches_step():
    sampler = Sampler.from_model(make_model("lstm", layers=2), VOCAB)
    states = [sampler.primed(p) for p in ("ab", "c", "ij(")]
    hs = np.stack([s.hs for s in states])
    cs = np.stack([s.cs for s in states])
    ids = np.array([3, 5, 7])
    hs2, cs2, logits = sampler.step_batch(hs, cs, ids)
    for k, s in enumerate(states):
        want = sampler.step(s, int(ids[k])).copy()
        np.testing.assert_allclose(logits[k], want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(hs2[k], s.hs, rtol=1e-5, atol=1e-5)


def test_a_wider_beam_finds_at_least_the_greedy_score_here():
    model = make_model("gru", layers=1, seed=4)
    sampler = Sampler.from_model(model, VOCAB)
    greedy = beam_search(sampler, "ab", width=1, length=30)[0]
    wide = beam_search(sampler, "ab", width=16, length=30)[0]
    assert wide.logprob >= greedy.logprob - 1e-9


def test_stop_string_and_length_normalisation():
    model = make_model("lstm", layers=1, seed=2)
    sampler = Sampler.from_model(model, VOCAB)
    beams = beam_search(sampler, "ab", width=6, length=25, stop="a")
    assert any(b.finished for b in beams)
    for b in beams:
        assert b.finished == b.text.endswith("a") and "a" not in b.text[:-1]
        assert b.logprob == pytest.approx(model_logprob(model, "ab", b.text), abs=1e-3)
    normed = beam_search(sampler, "ab", width=6, length=25, stop="a", length_norm=True)
    per_char = [b.logprob / len(b.text) for b in normed]
    assert per_char == sorted(per_char, reverse=True)
    plain = [b.logprob for b in beams]
    assert plain == sorted(plain, reverse=True)


def test_bad_arguments():
    sampler = Sampler.from_model(make_model("rnn"), VOCAB)
    for width in (0, 33):
        with pytest.raises(ConfigError, match="beam width"):
            beam_search(sampler, "a", width=width, length=5)
    assert beam_search(sampler, "a", width=3, length=0) == [Beam("", 0.0, False, ())]
