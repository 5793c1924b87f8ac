"""Probes: gradient flow against autograd through explicit cells and a NumPy BPTT; hidden states."""

import numpy as np
import numpy_bptt  # tests/ is on sys.path: pytest prepends the test file's folder
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from rnntui.core.analysis.probes import gradient_flow, hidden_states
from rnntui.core.config import ModelConfig
from rnntui.core.model.cells import CharModel

KINDS = ("rnn", "lstm", "gru")
V, E, H, B, T = 11, 8, 16, 3, 12


def make_model(kind: str, layers: int = 1, hidden: int = H, seed: int = 0, scale: float = 2.0) -> CharModel:
    torch.manual_seed(seed)
    model = CharModel(ModelConfig(kind=kind, vocab_size=V, embed=E, hidden=hidden, layers=layers))
    with torch.no_grad():  # larger than default init: gradients neither vanish to 0 nor look alike
        for p in model.rnn.parameters():
            p.mul_(scale)
    return model


def batch(seed: int = 0, b: int = B, t: int = T) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (b, t), generator=g), torch.randint(0, V, (b, t), generator=g)


def random_state(model: CharModel, b: int = B, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    L, Hd = model.cfg.layers, model.cfg.hidden
    h = 0.5 * torch.randn(L, b, Hd, generator=g)
    return (h, 0.5 * torch.randn(L, b, Hd, generator=g)) if model.cfg.kind == "lstm" else h


def row_norms(grads: torch.Tensor | np.ndarray) -> np.ndarray:
    """(..., B, H) gradients -> (...) the probe's statistic: L2 norm over units, mean over rows."""
    g = grads.detach().numpy() if isinstance(grads, torch.Tensor) else grads
    return np.linalg.norm(g, axis=-1).mean(axis=-1)


# -----------------------------------------------------------------------------
# reference: autograd through an explicit loop over nn.*Cell with the fused module's weights


def make_cells(model: CharModel) -> list[nn.Module]:
    cell_cls = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[model.cfg.kind]
    cells = []
    for l in range(model.cfg.layers):
        cell = cell_cls(E if l == 0 else model.cfg.hidden, model.cfg.hidden)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(model.rnn, f"{name}_l{l}"))
        cells.append(cell)
    return cells


def cell_reference(model: CharModel, x, y, state) -> tuple[np.ndarray, np.ndarray]:
    """(grad_total, grad_last) by two independent autograd.grad calls on a time-major cell loop."""
    kind, L = model.cfg.kind, model.cfg.layers
    cells = make_cells(model)
    b = x.shape[0]
    if state is None:
        state = model.init_state(b)
    h = [state[0][l] if kind == "lstm" else state[l] for l in range(L)]
    c = [state[1][l] for l in range(L)] if kind == "lstm" else None
    emb = model.embed(x)
    hs = [[] for _ in range(L)]
    for t in range(x.shape[1]):  # time outside, layers inside: the opposite order of models.unroll
        inp = emb[:, t]
        for l, cell in enumerate(cells):
            if kind == "lstm":
                h[l], c[l] = cell(inp, (h[l], c[l]))
            else:
                h[l] = cell(inp, h[l])
            hs[l].append(h[l])
            inp = h[l]
    logits = model.head(torch.stack(hs[-1], dim=1))  # (b, T, V)
    flat = [v for layer in hs for v in layer]
    # per-stream mean over the window, summed over streams == batch mean times b
    total = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1)) * b
    last = F.cross_entropy(logits[:, -1], y[:, -1], reduction="sum")
    g_total = torch.autograd.grad(total, flat, retain_graph=True)
    g_last = torch.autograd.grad(last, flat)
    shape = (L, x.shape[1], b, model.cfg.hidden)
    return row_norms(torch.stack(g_total).view(shape)), row_norms(torch.stack(g_last).view(shape))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("carried", [False, True])
def test_gradient_flow_matches_cell_loop(kind, layers, carried):
    model = make_model(kind, layers)
    x, y = batch()
    state = random_state(model) if carried else None
    grad_total, grad_last = gradient_flow(model, x, y, state)
    assert grad_total.shape == grad_last.shape == (layers, T)
    assert grad_total.dtype == grad_last.dtype == np.float32
    ref_total, ref_last = cell_reference(model, x, y, state)
    np.testing.assert_allclose(grad_total, ref_total, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grad_last, ref_last, rtol=1e-4, atol=1e-6)
    # the total gradient is more than the head's direct term: it differs from step to step
    assert np.all(grad_total > 0) and np.ptp(grad_total[-1]) > 1e-3 * grad_total[-1].max()


# -----------------------------------------------------------------------------
# reference: the independent NumPy BPTT (rnn only)


@pytest.mark.parametrize("layers", [1, 2])
def test_gradient_flow_matches_numpy_bptt(layers):
    model = make_model("rnn", layers)
    x, y = batch(seed=3)
    state = random_state(model, seed=4)
    grad_total, grad_last = gradient_flow(model, x, y, state)
    net = numpy_bptt.net_from_torch(model)
    h0 = state.double().numpy()
    # forward agrees with the fused module before comparing gradients
    with torch.no_grad():
        logits, _ = model(x, state)
    hs = numpy_bptt.forward(net, x.numpy(), h0)
    np.testing.assert_allclose(numpy_bptt.logits(net, hs), logits.numpy(), rtol=1e-4, atol=1e-5)
    w_total = np.full(T, 1.0 / T)  # each stream's mean loss over the window
    w_last = np.zeros(T)
    w_last[-1] = 1.0  # only the last step's loss
    ref_total, ref_last = (
        np.stack([row_norms(g.transpose(1, 0, 2)) for g in numpy_bptt.bptt(net, x.numpy(), y.numpy(), w, h0)])
        for w in (w_total, w_last)
    )  # each (L, T): (B, T, H) -> (T, B, H) -> norms
    np.testing.assert_allclose(grad_total, ref_total, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grad_last, ref_last, rtol=1e-4, atol=1e-6)


def test_numpy_bptt_matches_finite_differences():
    # The reference itself is checked against the definition of a derivative, in float64.
    model = make_model("rnn", layers=2, hidden=5)
    net = numpy_bptt.net_from_torch(model)
    x, y = batch(seed=5, b=2, t=6)
    x, y = x.numpy(), y.numpy()
    w = np.linspace(0.5, 1.5, 6)
    h0 = np.random.default_rng(0).normal(0, 0.5, (2, 2, 5))
    grads = numpy_bptt.bptt(net, x, y, w, h0)
    # perturb h0 of the bottom layer: dLoss/dh0 = W_hh^T da_1, from the returned dh_1
    da1 = grads[0][:, 0] * (1 - numpy_bptt.forward(net, x, h0)[0][:, 0] ** 2)
    analytic = da1 @ net.layers[0].w_hh  # (2, 5)
    eps = 1e-6
    numeric = np.zeros_like(h0[0])
    for idx in np.ndindex(*numeric.shape):
        hp, hm = h0.copy(), h0.copy()
        hp[0][idx] += eps
        hm[0][idx] -= eps
        lp = numpy_bptt.weighted_loss(net, numpy_bptt.forward(net, x, hp), y, w)
        lm = numpy_bptt.weighted_loss(net, numpy_bptt.forward(net, x, hm), y, w)
        numeric[idx] = (lp - lm) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_numpy_forward_reproduces_worked_example():
    # "I love this movie" through a 3-unit tanh RNN with 2-d inputs, zero biases and h_0 = 0.
    layer = numpy_bptt.Layer(
        w_xh=np.array([[0.5, -0.3], [0.2, 0.7], [-0.1, 0.4]]),
        w_hh=np.array([[0.1, 0.4, -0.2], [-0.3, 0.2, 0.5], [0.3, -0.1, 0.1]]),
        b_ih=np.zeros(3),
        b_hh=np.zeros(3),
    )
    X = np.array([[1.0, 0.0], [0.5, 0.8], [0.3, 0.7], [0.9, 0.1]])
    (hs,) = numpy_bptt.forward(numpy_bptt.Net([layer]), X)
    np.testing.assert_allclose(hs[0, 0], [0.4621, 0.1974, -0.0997], atol=5e-5)
    np.testing.assert_allclose(hs[0, 1], [0.1539, 0.4707, 0.3618], atol=5e-5)
    np.testing.assert_allclose(hs[0, -1], [0.5597, 0.4605, -0.0660], atol=5e-5)


# -----------------------------------------------------------------------------
# the curve the panel exists for: vanishing gradients in a tanh RNN, not in an LSTM


def test_grad_last_vanishes_for_rnn_not_lstm():
    t = 16
    x, y = batch(seed=7, b=4, t=t)
    torch.manual_seed(0)
    rnn = CharModel(ModelConfig(kind="rnn", vocab_size=V, embed=E, hidden=32, layers=1))
    with torch.no_grad():  # recurrent weights with spectral norm exactly 0.5
        q, _ = torch.linalg.qr(torch.randn(32, 32))
        rnn.rnn.weight_hh_l0.copy_(0.5 * q)
    _, g_rnn = gradient_flow(rnn, x, y, None)
    # |tanh'| <= 1 and ||W_hh|| = 0.5: each step back at least halves the gradient of loss_T, row by row
    assert np.all(g_rnn[0, :-1] <= 0.5 * g_rnn[0, 1:] * (1 + 1e-4))
    rnn_ratio = g_rnn[-1, 0] / g_rnn[-1, -1]
    assert rnn_ratio < 0.5 ** (t - 1)
    # An LSTM at its own init (forget bias 1) carries the same loss back through the cell state.
    torch.manual_seed(0)
    lstm = CharModel(ModelConfig(kind="lstm", vocab_size=V, embed=E, hidden=32, layers=1))
    _, g_lstm = gradient_flow(lstm, x, y, None)
    lstm_ratio = g_lstm[-1, 0] / g_lstm[-1, -1]
    assert lstm_ratio > 1e-3 and lstm_ratio > 100 * rnn_ratio


# -----------------------------------------------------------------------------
# side effects


@pytest.mark.parametrize("training", [True, False])
def test_gradient_flow_has_no_side_effects(training):
    model = make_model("lstm", layers=2)
    model.train(training)
    x, y = batch()
    params = list(model.parameters())
    assert all(p.grad is None for p in params)
    gradient_flow(model, x, y, random_state(model))
    assert all(p.grad is None for p in params)  # a fresh model keeps no .grad at all
    assert model.training is training and all(m.training is training for m in model.modules())
    # existing gradients (a training step in progress) are left exactly as they were
    for p in params:
        p.grad = torch.full_like(p, 0.25)
    before = [p.detach().clone() for p in params]
    state = random_state(model)
    state_copy = tuple(s.clone() for s in state)
    with torch.no_grad():  # the engine may call it from inside a no_grad region
        grad_total, _ = gradient_flow(model, x, y, state)
    assert np.all(grad_total > 0)
    assert all(torch.equal(p.grad, torch.full_like(p, 0.25)) for p in params)
    assert all(torch.equal(p, b) for p, b in zip(params, before))
    assert all(torch.equal(s, c) and not s.requires_grad for s, c in zip(state, state_copy))


# -----------------------------------------------------------------------------
# hidden states


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("layers", [1, 2])
def test_hidden_states(kind, layers):
    model = make_model(kind, layers, scale=3.0).eval()
    ids = torch.randint(0, V, (20,), generator=torch.Generator().manual_seed(9))
    h, c = hidden_states(model, ids)
    assert h.shape == (layers, 20, H) and h.dtype == np.float32
    assert np.all(np.abs(h) <= 1.0)
    assert np.ptp(h) > 0.5  # the weights are large enough to use the range
    with torch.no_grad():
        out, final = model.rnn(model.embed(ids[None]))  # (1, T, H) top layer
    np.testing.assert_allclose(h[-1], out[0].numpy(), rtol=1e-5, atol=1e-5)
    final_h = final[0] if kind == "lstm" else final
    np.testing.assert_allclose(h[:, -1], final_h[:, 0].numpy(), rtol=1e-5, atol=1e-5)
    if kind == "lstm":
        assert c.shape == h.shape and c.dtype == np.float32
        np.testing.assert_allclose(c[:, -1], final[1][:, 0].numpy(), rtol=1e-5, atol=1e-5)
    else:
        assert c is None


def test_hidden_states_ignore_dropout_in_train_mode():
    torch.manual_seed(0)
    model = CharModel(ModelConfig(kind="gru", vocab_size=V, embed=E, hidden=H, layers=2, dropout=0.5)).train()
    ids = torch.randint(0, V, (15,))
    a, _ = hidden_states(model, ids)
    b, _ = hidden_states(model, ids)
    model.eval()
    with torch.no_grad():
        out, _ = model.rnn(model.embed(ids[None]))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(a[-1], out[0].numpy(), rtol=1e-5, atol=1e-5)
