"""An independent NumPy tanh RNN: forward pass and backpropagation through time, written from the equations.

    x_t   = E[id_t]                  (embedding lookup; or a given input vector)
    a_t   = W_xh x_t + b_ih + W_hh h_{t-1} + b_hh
    h_t   = tanh(a_t)                (stacked: layer l's x_t is layer l-1's h_t)
    z_t   = W_hy h_t + b_y           (linear head on the top layer)
    loss  = sum_{b,t} w_t * CE(softmax(z_{b,t}), y_{b,t})

Backward, top layer down, t = T..1:
    dh_t  = (top: W_hy^T dz_t | below: W_xh'^T da'_t of the layer above) + W_hh^T da_{t+1}
    da_t  = dh_t * (1 - h_t^2)

The tests use it as a reference for rnntui.core.analysis.probes on `rnn` models; it shares no code with rnntui.
Everything is float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# -----------------------------------------------------------------------------
# parameters


@dataclass
class Layer:
    w_xh: np.ndarray  # (H, D) input weights
    w_hh: np.ndarray  # (H, H) recurrent weights
    b_ih: np.ndarray  # (H,) input bias
    b_hh: np.ndarray  # (H,) recurrent bias


@dataclass
class Net:
    layers: list[Layer]  # bottom to top
    embed: np.ndarray | None = None  # (V, E) embedding table; None when inputs are vectors
    w_hy: np.ndarray | None = None  # (V, H) head weights; None for a forward-only network
    b_y: np.ndarray | None = None  # (V,) head bias


def net_from_torch(model) -> Net:
    """Copy a CharModel('rnn')'s weights into float64 arrays (the only place torch is touched)."""

    def a(t):
        return t.detach().cpu().double().numpy().copy()

    r = model.rnn
    layers = [
        Layer(
            a(getattr(r, f"weight_ih_l{l}")),
            a(getattr(r, f"weight_hh_l{l}")),
            a(getattr(r, f"bias_ih_l{l}")),
            a(getattr(r, f"bias_hh_l{l}")),
        )
        for l in range(r.num_layers)
    ]
    return Net(layers, a(model.embed.weight), a(model.head.weight), a(model.head.bias))


# -----------------------------------------------------------------------------
# forward


def inputs_to_vectors(net: Net, inputs: np.ndarray) -> np.ndarray:
    """Integer ids (B, T) or (T,) go through the embedding; float vectors (B, T, D) or (T, D) pass as is."""
    inputs = np.asarray(inputs)
    if np.issubdtype(inputs.dtype, np.integer):
        xs = net.embed[inputs]
    else:
        xs = inputs.astype(np.float64)
    return xs if xs.ndim == 3 else xs[None]  # (B, T, D)


def forward(net: Net, inputs: np.ndarray, h0: np.ndarray | None = None) -> list[np.ndarray]:
    """Hidden states of every layer: a list of (B, T, H) arrays, bottom layer first.

    h0: (L, B, H) initial state, zeros when None.
    """
    x = inputs_to_vectors(net, inputs)  # (B, T, D)
    B, T, _ = x.shape
    hs = []
    for l, p in enumerate(net.layers):
        H = p.w_hh.shape[0]
        h = np.zeros((B, H)) if h0 is None else np.asarray(h0[l], dtype=np.float64)
        out = np.empty((B, T, H))
        for t in range(T):
            h = np.tanh(x[:, t] @ p.w_xh.T + p.b_ih + h @ p.w_hh.T + p.b_hh)
            out[:, t] = h
        hs.append(out)
        x = out
    return hs


def logits(net: Net, hs: list[np.ndarray]) -> np.ndarray:
    return hs[-1] @ net.w_hy.T + net.b_y  # (B, T, V)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def weighted_loss(net: Net, hs: list[np.ndarray], targets: np.ndarray, w: np.ndarray) -> float:
    """sum_{b,t} w_t * -log p(y_{b,t})."""
    p = softmax(logits(net, hs))  # (B, T, V)
    B, T = targets.shape
    nll = -np.log(p[np.arange(B)[:, None], np.arange(T)[None, :], targets])  # (B, T)
    return float((nll * w[None, :]).sum())


# -----------------------------------------------------------------------------
# backward through time


def bptt(
    net: Net, inputs: np.ndarray, targets: np.ndarray, w: np.ndarray, h0: np.ndarray | None = None
) -> list[np.ndarray]:
    """dLoss/dh_t for every layer and step, Loss = sum_{b,t} w_t CE_{b,t}: list of (B, T, H), bottom first.

    The gradient at h_t is the total one: the head's direct term (or the layer above) plus everything that
    flows back from h_{t+1} through the recurrence.
    """
    hs = forward(net, inputs, h0)
    targets = np.asarray(targets)
    B, T = targets.shape
    dz = softmax(logits(net, hs))  # dCE/dz = p - onehot(y)
    dz[np.arange(B)[:, None], np.arange(T)[None, :], targets] -= 1.0
    dz *= w[None, :, None]
    from_above = dz @ net.w_hy  # (B, T, H_top): gradient arriving at the top layer's h_t from outside
    grads = [None] * len(net.layers)
    for l in reversed(range(len(net.layers))):
        p, h = net.layers[l], hs[l]
        dh = np.empty_like(h)
        da_next = np.zeros((B, h.shape[2]))  # da_{t+1}; nothing beyond the window
        for t in reversed(range(T)):
            dh[:, t] = from_above[:, t] + da_next @ p.w_hh
            da_next = dh[:, t] * (1.0 - h[:, t] ** 2)  # da_t, used as da_{t+1} by step t-1
        grads[l] = dh
        # the layer below sees this layer's input gradient: dL/dx_t = W_xh^T da_t
        da = dh * (1.0 - h**2)  # (B, T, H)
        from_above = da @ p.w_xh
    return grads
