"""The NumPy sampler: its step reproduces CharModel, and the sampling options behave as documented."""

import threading

import numpy as np
import pytest
import torch

from rnntui.core.config import ConfigError, ModelConfig, TrainConfig, config_to_dict
from rnntui.core.data.corpus import Vocab
from rnntui.core.generate.sampling import Sampler
from rnntui.core.model.cells import CharModel

VOCAB = Vocab.from_text("\nabcdefghij (){}[]'\"=:.,")


def make_model(
    kind: str = "lstm", layers: int = 1, hidden: int = 16, embed: int = 8, seed: int = 0, vocab: Vocab = VOCAB
) -> CharModel:
    torch.manual_seed(seed)
    model = CharModel(ModelConfig(kind=kind, vocab_size=len(vocab), embed=embed, hidden=hidden, layers=layers))
    with torch.no_grad():  # larger than default init so gates saturate and mistakes in the step show
        for p in model.parameters():
            p.mul_(3.0)
    return model.eval()


def model_logits(model: CharModel, ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]))
    return logits[0].numpy()  # (T, V)


def sampler_logits(sampler: Sampler, ids: list[int]) -> np.ndarray:
    state = sampler.new_state()
    return np.stack([sampler.step(state, i).copy() for i in ids])  # (T, V)


# -----------------------------------------------------------------------------
# the NumPy step against the fused module


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("layers,embed,hidden", [(1, 8, 16), (3, 12, 16), (2, 32, 8)])
def test_step_matches_fused_forward(kind, layers, embed, hidden):
    model = make_model(kind, layers=layers, hidden=hidden, embed=embed)
    ids = [int(i) for i in np.random.default_rng(1).integers(len(VOCAB), size=40)]
    want = model_logits(model, ids)
    got = sampler_logits(Sampler.from_model(model, VOCAB), ids)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_from_checkpoint_dict_bf16():
    model = make_model("gru", layers=2)
    cfg = TrainConfig(corpus="tiny", model=model.cfg)
    ckpt = {
        "model": {k: v.to(torch.bfloat16) for k, v in model.state_dict().items()},
        "config": config_to_dict(cfg),
        "vocab": VOCAB.chars,
        "step": 7,
    }
    sampler = Sampler.from_checkpoint(ckpt)
    model.load_state_dict({k: v.float() for k, v in ckpt["model"].items()})  # same rounded weights
    ids = VOCAB.encode("def f(a):\n  b = 'c'\n").tolist()
    np.testing.assert_allclose(sampler_logits(sampler, ids), model_logits(model, ids), rtol=1e-4, atol=1e-4)
    assert len(sampler.sample("def", length=30, seed=0)) == 30


def test_sampler_copies_weights():
    model = make_model("lstm")
    sampler = Sampler.from_model(model, VOCAB)
    before = sampler.sample("abc", length=50, seed=3)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    assert sampler.sample("abc", length=50, seed=3) == before


def test_mismatched_weights_raise_config_error():
    model = make_model("lstm")
    weights = {k: v.numpy() for k, v in model.state_dict().items()}
    with pytest.raises(ConfigError, match="vocabulary"):
        Sampler(weights, model.cfg, Vocab("abc"))
    del weights["rnn.bias_hh_l0"]
    with pytest.raises(ConfigError, match="bias_hh_l0"):
        Sampler(weights, model.cfg, VOCAB)


# -----------------------------------------------------------------------------
# sampling options


@pytest.fixture(scope="module")
def model():
    return make_model("lstm", layers=2)


@pytest.fixture(scope="module")
def sampler(model):
    return Sampler.from_model(model, VOCAB)


def test_same_seed_same_text_different_seeds_differ(sampler):
    a = sampler.sample("ab", temperature=1.5, length=120, seed=42)
    assert len(a) == 120
    assert sampler.sample("ab", temperature=1.5, length=120, seed=42) == a
    others = {sampler.sample("ab", temperature=1.5, length=120, seed=s) for s in range(1, 4)}
    assert a not in others and len(others) == 3


def test_argmax_follows_model_argmax(model, sampler):
    text = sampler.sample("a(", length=25, argmax=True, seed=1)
    assert text == sampler.sample("a(", length=25, argmax=True, seed=2)
    ids = VOCAB.encode("a(" + text).tolist()
    greedy = model_logits(model, ids).argmax(axis=-1)  # (T,) the model's choice after each prefix
    assert VOCAB.decode(greedy[1:-1]) == text  # the last position predicts past the text


def test_top_k_one_is_argmax(sampler):
    greedy = sampler.sample("ij", length=60, argmax=True)
    for seed in (0, 1):
        assert sampler.sample("ij", temperature=2.0, top_k=1, length=60, seed=seed) == greedy


def test_top_k_restricts_choices(model, sampler):
    # after a fixed prime, the first character with top_k=3 is always among the model's 3 best
    logits = model_logits(model, VOCAB.encode("fe").tolist())[-1]
    best = {VOCAB.chars[i] for i in np.argsort(logits)[-3:]}
    firsts = {sampler.sample("fe", temperature=5.0, top_k=3, length=1, seed=s) for s in range(40)}
    assert firsts <= best and len(firsts) > 1


def test_unknown_prime_chars_reported_and_skipped(sampler):
    assert sampler.unknown_chars("ab€c✓€") == "€✓"
    assert sampler.unknown_chars("abc") == ""
    assert sampler.sample("ab€c✓", length=40, seed=5) == sampler.sample("abc", length=40, seed=5)
    # a prime of only unknown characters behaves like an empty one (starts after "\n")
    assert sampler.sample("€€", length=40, seed=5) == sampler.sample("", length=40, seed=5)
    assert sampler.sample("", length=40, seed=5) == sampler.sample("\n", length=40, seed=5)


def test_empty_prime_without_newline_draws_a_start():
    vocab = Vocab("abcdef")
    s = Sampler.from_model(make_model("gru", vocab=vocab), vocab)
    text = s.sample("", length=30, seed=9)
    assert len(text) == 30 and set(text) <= set("abcdef")
    assert s.sample("", length=30, seed=9) == text
    assert s.sample("", length=0, seed=9) == ""


def test_stop_event_ends_stream_early(sampler):
    stop = threading.Event()
    out = []
    for ch in sampler.stream("a", length=1000, seed=0, stop=stop):
        out.append(ch)
        if len(out) == 7:
            stop.set()
    assert len(out) == 7
    assert sampler.sample("a", length=100, stop=stop) == ""  # set before the start: nothing


def test_streams_are_independent(sampler):
    a, b = sampler.stream("ab", length=50, seed=1), sampler.stream("cd", length=50, seed=2)
    interleaved = [(x, y) for x, y in zip(a, b)]
    assert "".join(x for x, _ in interleaved) == sampler.sample("ab", length=50, seed=1)
    assert "".join(y for _, y in interleaved) == sampler.sample("cd", length=50, seed=2)


@pytest.mark.parametrize(
    "kwargs,word",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"temperature": float("nan")}, "temperature"),
        ({"top_k": -1}, "top-k"),
        ({"length": -5}, "length"),
    ],
)
def test_bad_arguments_raise_config_error_at_call(sampler, kwargs, word):
    with pytest.raises(ConfigError, match=word) as err:
        sampler.stream("a", **kwargs)  # raised on the call, not on the first next()
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "kwargs,word",
    [
        ({"temperature": 0.0}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"top_k": -1}, "top-k"),
        ({"length": -1}, "length"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**63 + 1}, "seed"),
        ({"beam_width": 0}, "beam"),
        ({"beam_width": 33}, "beam"),
    ],
)
def test_generation_settings_check_their_ranges_in_one_line(kwargs, word):
    """The one set of generation settings (the CLI, the panel's workers): each range checked by validate()."""
    from rnntui.core.generate.settings import GenerationSettings

    GenerationSettings().validate()  # the defaults are valid
    GenerationSettings(seed=2**63, beam_width=32, argmax=True, length_norm=True, beam_stop="\n").validate()
    with pytest.raises(ConfigError, match=f"^{word} must be") as err:
        GenerationSettings(**kwargs).validate()
    assert "\n" not in str(err.value)


def test_tiny_temperature_is_greedy(sampler):
    assert sampler.sample("ab", temperature=1e-6, length=40, seed=0) == sampler.sample("ab", length=40, argmax=True)


# -----------------------------------------------------------------------------
# scored streams and step mode


def torch_distribution(logits: np.ndarray, temperature: float, top_k: int) -> np.ndarray:
    z = torch.tensor(logits, dtype=torch.float64) / temperature
    if top_k:
        kth = torch.topk(z, top_k).values[-1]
        z = torch.where(z >= kth, z, torch.tensor(-float("inf"), dtype=torch.float64))
    return torch.softmax(z, dim=-1).numpy()


def test_stream_scored_gives_the_models_probabilities(model, sampler):
    scored = list(sampler.stream_scored("ab", temperature=1.3, top_k=5, length=30, seed=4))
    text = "".join(c for c, _ in scored)
    assert text == sampler.sample("ab", temperature=1.3, top_k=5, length=30, seed=4)
    logits = model_logits(model, VOCAB.encode("ab" + text).tolist())  # (T, V)
    want = torch.softmax(torch.tensor(logits, dtype=torch.float64), dim=-1).numpy()
    for t, (c, p) in enumerate(scored):
        assert p == pytest.approx(want[1 + t, VOCAB.index[c]], rel=1e-4)


def test_step_mode_and_the_sampler_keep_the_same_top_k_under_ties():
    """One top-k filter: with ties at the k-th value, step mode's distribution is non-zero exactly on the
    characters the sampler's draws can pick."""
    from rnntui.core.generate.sampling import top_k_logits
    from rnntui.core.generate.stepping import probabilities

    logits = np.array([0.5, 2.0, 1.0, 1.0, 1.0, 1.0, -3.0, 1.0], dtype=np.float32)  # five tied for 2nd place
    _, keep = top_k_logits(logits, 0.7, 3)
    support = set(np.flatnonzero(probabilities(logits, 0.7, 3)).tolist())
    assert len(support) == 3 and support == set(keep.tolist())
    rng = np.random.default_rng(0)
    assert {Sampler._draw(logits, 0.7, 3, rng) for _ in range(300)} == support


@pytest.mark.parametrize("kind,layers", [("rnn", 1), ("lstm", 2), ("gru", 2)])
@pytest.mark.parametrize("temperature,top_k", [(1.0, 0), (0.5, 0), (1.7, 4), (0.8, 1)])
def test_step_mode_distribution_is_softmax_over_top_k(kind, layers, temperature, top_k):
    from rnntui.core.generate.stepping import Stepper

    m = make_model(kind, layers=layers)
    stepper = Stepper(Sampler.from_model(m, VOCAB), "ab(", temperature, top_k, seed=0)
    for ch in "x = 'c'":
        if ch in VOCAB:
            stepper.choose(ch)
    logits = model_logits(m, VOCAB.encode("ab(" + stepper.text).tolist())[-1]
    p_model, p_chosen = stepper.distributions()
    np.testing.assert_allclose(p_model, torch_distribution(logits, 1.0, 0), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(p_chosen, torch_distribution(logits, temperature, top_k), rtol=1e-4, atol=1e-7)
    view = stepper.view(10)
    assert [c.p_model for c in view.candidates[:10]] == sorted((c.p_model for c in view.candidates[:10]), reverse=True)
    assert view.proposal in {c.char for c in view.candidates} and p_chosen[VOCAB.index[view.proposal]] > 0
    want_h = -(p_chosen[p_chosen > 0] * np.log2(p_chosen[p_chosen > 0])).sum()
    assert view.entropy_chosen == pytest.approx(want_h, rel=1e-6)


def test_step_mode_accepting_proposals_is_sampling_and_undo_is_exact(sampler):
    from rnntui.core.generate.stepping import Stepper

    stepper = Stepper(sampler, "ab", 1.2, 0, seed=11)
    for _ in range(5):
        stepper.accept()
    before = (
        stepper.text,
        stepper.state.hs.copy(),
        stepper.state.cs.copy(),
        stepper.state.logits.copy(),
        stepper.rng.bit_generator.state,
        stepper.proposal,
        list(stepper.probs),
    )
    stepper.choose("x" if "x" in VOCAB else "a")  # a hand-picked character, then sampling on from it
    stepper.accept()
    stepper.choose("(")
    for _ in range(3):
        assert stepper.undo()
    after = (
        stepper.text,
        stepper.state.hs,
        stepper.state.cs,
        stepper.state.logits,
        stepper.rng.bit_generator.state,
        stepper.proposal,
        stepper.probs,
    )
    assert after[0] == before[0] and after[4] == before[4] and after[5] == before[5] and after[6] == before[6]
    for a, b in zip(after[1:4], before[1:4]):
        assert np.array_equal(a, b)
    for _ in range(5):
        assert stepper.undo()
    assert not stepper.undo() and stepper.text == ""
    with pytest.raises(ConfigError, match="vocabulary"):
        stepper.choose("€")


def test_changing_temperature_redraws_the_proposal_with_the_same_number(sampler):
    from rnntui.core.generate.stepping import Stepper

    stepper = Stepper(sampler, "ab", 1.0, 0, seed=5)
    stepper.set_sampling(1e-6, 0)
    p_model, _ = stepper.distributions()
    assert VOCAB.index[stepper.view().proposal] == int(np.argmax(p_model))
    stepper.set_sampling(1.0, 0)
    first = stepper.proposal
    stepper.set_sampling(1.0, 0)
    assert stepper.proposal == first
    with pytest.raises(ConfigError):
        stepper.set_sampling(0.0, 0)
