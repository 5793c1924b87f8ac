"""CharModel: shapes, initialisation, parameter count, dropout placement, and the unrolled twin."""

import math
import warnings

import pytest
import torch

from rnntui.core.config import ModelConfig
from rnntui.core.model.cells import CharModel, detach_state, loss_fn, unroll

KINDS = ("rnn", "lstm", "gru")


def make_model(
    kind: str, layers: int = 1, hidden: int = 16, embed: int = 8, vocab: int = 11, dropout: float = 0.0, seed: int = 0
) -> CharModel:
    torch.manual_seed(seed)
    return CharModel(
        ModelConfig(kind=kind, vocab_size=vocab, embed=embed, hidden=hidden, layers=layers, dropout=dropout)
    )


def random_state(model: CharModel, batch: int, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    L, H = model.cfg.layers, model.cfg.hidden
    h = 0.5 * torch.randn(L, batch, H, generator=g)
    return (h, 0.5 * torch.randn(L, batch, H, generator=g)) if model.cfg.kind == "lstm" else h


# -----------------------------------------------------------------------------
# shapes and initialisation


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_output_shapes(kind, layers):
    model = make_model(kind, layers=layers)
    x = torch.randint(0, 11, (3, 7))
    logits, state = model(x)
    assert logits.shape == (3, 7, 11)
    states = state if kind == "lstm" else (state,)
    assert len(states) == (2 if kind == "lstm" else 1)
    for s in states:
        assert s.shape == (layers, 3, 16)
    init = model.init_state(3)
    assert [s.shape for s in (init if kind == "lstm" else (init,))] == [s.shape for s in states]
    # a carried, detached state is accepted back
    logits2, _ = model(x, detach_state(state))
    assert logits2.shape == logits.shape


@pytest.mark.parametrize("kind", KINDS)
def test_initial_loss_is_near_uniform(kind):
    # A fresh model should be unsure of every character: cross-entropy near ln(V), not far above it.
    V = 65
    model = make_model(kind, layers=2, hidden=128, embed=32, vocab=V)
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, V, (8, 64), generator=g)
    y = torch.randint(0, V, (8, 64), generator=g)
    with torch.no_grad():
        logits, _ = model(x)
    loss = loss_fn(logits, y).item()
    assert abs(loss - math.log(V)) < 0.1, loss


@pytest.mark.parametrize("layers", [1, 2])
def test_lstm_forget_bias_is_one(layers):
    model = make_model("lstm", layers=layers)
    H = model.cfg.hidden
    for l in range(layers):
        b = getattr(model.rnn, f"bias_ih_l{l}") + getattr(model.rnn, f"bias_hh_l{l}")  # gates i, f, g, o
        assert torch.equal(b[H : 2 * H], torch.ones(H))
        # the other gates keep PyTorch's random init
        assert not torch.equal(b[:H], torch.ones(H))


@pytest.mark.parametrize("kind", KINDS)
def test_parameter_count(kind):
    model = make_model(kind, layers=2)
    E, H, V = 8, 16, 11
    G = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    # embedding + layer 0 + layer 1 + head, counted from the equations
    expected = V * E + G * H * (E + H + 2) + G * H * (H + H + 2) + H * V + V
    assert model.n_params() == expected == sum(p.numel() for p in model.parameters())


def test_dropout_between_layers_only_when_stacked():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # PyTorch warns when a 1-layer fused module gets dropout
        one = make_model("lstm", layers=1, dropout=0.3)
        two = make_model("lstm", layers=2, dropout=0.3)
    assert one.rnn.dropout == 0.0
    assert two.rnn.dropout == pytest.approx(0.3)
    assert one.drop.p == pytest.approx(0.3)  # the head's dropout stays


# -----------------------------------------------------------------------------
# the unrolled twin reproduces the fused module


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("carried", [False, True])
def test_unroll_matches_fused(kind, layers, carried):
    model = make_model(kind, layers=layers).eval()
    with torch.no_grad():  # larger than default init so gates saturate and a wrong formula shows
        for p in model.rnn.parameters():
            p.mul_(3.0)
    x = torch.randint(0, 11, (3, 9), generator=torch.Generator().manual_seed(2))
    state = random_state(model, 3) if carried else None
    with torch.no_grad():
        logits, final = model(x, state)
        u = unroll(model, x, state, record_gates=True)
    torch.testing.assert_close(u.logits, logits, atol=1e-5, rtol=1e-5)
    finals = final if kind == "lstm" else (final,)
    ufinals = u.state if kind == "lstm" else (u.state,)
    for a, b in zip(ufinals, finals):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    # every step of every layer, not just the last one, against the fused module's per-layer outputs
    inp = model.embed(x)
    for l in range(layers):
        fused = type(model.rnn)(
            inp.shape[-1], model.cfg.hidden, batch_first=True, **({"nonlinearity": "tanh"} if kind == "rnn" else {})
        )
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(fused, f"{name}_l0").data.copy_(getattr(model.rnn, f"{name}_l{l}").data)
        if state is None:
            s = None
        elif kind == "lstm":
            s = tuple(t[l : l + 1] for t in state)
        else:
            s = state[l : l + 1]
        with torch.no_grad():
            out, _ = fused(inp, s)
        torch.testing.assert_close(torch.stack(u.hs[l], dim=1), out, atol=1e-5, rtol=1e-5)
        inp = out
    if kind == "rnn":
        torch.testing.assert_close(torch.tanh(u.pre_x + u.pre_h)[-1], torch.stack(u.hs[-1], dim=1))
