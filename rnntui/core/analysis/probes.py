"""Probes: the data behind the gradient-flow and hidden-state panels.

Training runs the fused recurrent kernel, which hides every h_t inside one op. The probes instead run
`models.unroll`, the step-by-step twin with the same weights, on a small batch, where each h_t is a tensor
of its own and autograd can give the gradient reaching it. They never touch the parameters' .grad (only
torch.autograd.grad with the h_t as inputs), so a probe between optimiser steps cannot pollute training.
All results are small float32 numpy arrays on the host.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from rnntui.core.data.corpus import Corpus
from rnntui.core.model.cells import CharModel, State, detach_state, map_state, unroll

# -----------------------------------------------------------------------------
# gradient flow over one BPTT window


def gradient_flow(
    model: CharModel, x: torch.Tensor, y: torch.Tensor, state: State | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer, per-timestep gradient norms of one window: (grad_total, grad_last), each (L, T) float32.

    grad_total[l, t] = ||dL/dh_t|| with L the window's mean loss: the total gradient through the recurrence
      (direct term from the head or the layer above, plus everything flowing back from h_{t+1}).
    grad_last[l, t] = ||d loss_T / dh_t||: how much of the last step's loss reaches back to step t, the
      curve that vanishes for a tanh RNN and survives in an LSTM.

    Both are taken per stream (each row's loss is its own mean over the window, so the numbers do not
    depend on how many streams are probed): the L2 norm over the H units of row b, then the mean over
    the B rows. x, y: (B, T) ids on the model's device; state: the carried state (detached here).
    Dropout is not applied (unroll has none), so the model's train/eval mode is neither used nor changed.
    """
    B, T = x.shape
    if state is not None:
        state = detach_state(state)
        # the batch is run twice (see below), so the state is too
        state = map_state(lambda s: s.repeat(1, 2, 1), state)
    with torch.enable_grad(), torch.autocast(x.device.type, enabled=False):
        # Rows are independent, so one pass over the batch stacked twice yields both curves from a single
        # backward: rows [0, B) carry the window's mean loss, rows [B, 2B) only the last step's loss.
        # At a batch of a few rows the doubled matmuls cost about the same as the single ones.
        # (no retain=True: autograd.grad returns the gradients at the h_t without storing .grad on them)
        u = unroll(model, x.repeat(2, 1), state)
        nll = F.cross_entropy(u.logits.float().transpose(1, 2), y.repeat(2, 1), reduction="none")  # (2B, T)
        loss = nll[:B].mean(dim=1).sum() + nll[B:, -1].sum()
        hs = [h for layer in u.hs for h in layer]  # L*T tensors of (2B, H)
        grads = torch.autograd.grad(loss, hs)
    g = torch.stack(grads).view(len(u.hs), T, 2 * B, -1)  # (L, T, 2B, H)
    norms = g.float().norm(dim=-1)  # (L, T, 2B)
    grad_total = norms[:, :, :B].mean(dim=-1)  # (L, T)
    grad_last = norms[:, :, B:].mean(dim=-1)  # (L, T)
    out = torch.stack([grad_total, grad_last]).cpu().numpy().astype(np.float32)  # one host copy
    return out[0], out[1]


# -----------------------------------------------------------------------------
# hidden states over a probe text


def hidden_states(model: CharModel, ids: torch.Tensor) -> tuple[np.ndarray, np.ndarray | None]:
    """h_t of every layer over a text, (L, T, H) float32, and c_t (L, T, H) for an LSTM, else None.

    ids: (T,) long on the model's device. Starts from the zero state; no dropout (eval semantics).
    """
    with torch.no_grad(), torch.autocast(ids.device.type, enabled=False):
        u = unroll(model, ids.view(1, -1))
        h = torch.stack([torch.stack(layer) for layer in u.hs])[:, :, 0]  # (L, T, H)
        c = torch.stack([torch.stack(layer) for layer in u.cs])[:, :, 0] if u.cs is not None else None
    return (h.float().cpu().numpy(), c.float().cpu().numpy() if c is not None else None)


# -----------------------------------------------------------------------------
# the fixed text of the hidden-state heatmap


def probe_text_ids(corpus: Corpus, text: str, device: torch.device, length: int = 96) -> torch.Tensor:
    """`text`'s known characters as ids, or, when it is empty, `length` chars of validation text.

    The slice starts at a line start so the heatmap's text reads naturally: the first one within the
    split's first 64K characters (a bounded look, whatever the corpus's size).
    """
    if text:
        ids, _ = corpus.vocab.encode_known(text)
        if ids:
            return torch.tensor(ids, dtype=torch.long, device=device)
    val = corpus.val
    nl = corpus.vocab.index.get("\n")
    start = 0
    if nl is not None:
        hits = (val[: min(max(1, len(val) - length), 1 << 16)] == nl).nonzero()[0]
        start = int(hits[0]) + 1 if len(hits) else 0
    return torch.from_numpy(val[start : start + length].astype("int64")).to(device)
