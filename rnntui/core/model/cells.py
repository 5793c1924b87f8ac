"""Character models: embedding -> fused nn.RNN/LSTM/GRU -> dropout -> linear head.

The fused module trains (cuDNN on CUDA, oneDNN on CPU). `unroll` is its step-by-step twin: the same
weights applied one timestep at a time in plain tensor code, so probes can read the gradient reaching
every h_t and the inspector can read the gates. A test checks the twin reproduces the fused module.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from rnntui.core.config import ModelConfig

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # h, or (h, c) for an LSTM; each (L, B, H)


class CharModel(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        cfg.validate()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed)
        rnn_cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cfg.kind]
        extra = {"nonlinearity": "tanh"} if cfg.kind == "rnn" else {}
        drop = cfg.dropout if cfg.layers > 1 else 0.0
        self.rnn = rnn_cls(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, dropout=drop, **extra)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, cfg.vocab_size)
        if cfg.kind == "lstm":
            # Forget-gate bias 1 (Jozefowicz et al. 2015): the cell starts out remembering, so gradients
            # flow through c_t early in training. PyTorch adds bias_ih and bias_hh; gate order i, f, g, o.
            H = cfg.hidden
            with torch.no_grad():
                for name, p in self.rnn.named_parameters():
                    if name.startswith("bias_ih"):
                        p[H : 2 * H].fill_(1.0)
                    elif name.startswith("bias_hh"):
                        p[H : 2 * H].fill_(0.0)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def init_state(self, batch: int, device: torch.device | str = "cpu") -> State:
        h = torch.zeros(self.cfg.layers, batch, self.cfg.hidden, device=device)
        return (h, h.clone()) if self.cfg.kind == "lstm" else h

    def forward(self, x: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        # x: (B, T) character ids
        emb = self.embed(x)  # (B, T, E)
        out, state = self.rnn(emb, state)  # (B, T, H)
        logits = self.head(self.drop(out))  # (B, T, V)
        return logits, state


def map_state(fn, state: State, as_list: bool = False):
    """Apply fn to h (and c): the one place that knows a state is h or (h, c), as word_language_model's
    repackage_hidden does. as_list=True returns [h] or [h, c], the checkpoint's plain layout."""
    if isinstance(state, tuple):
        out = tuple(fn(s) for s in state)
        return list(out) if as_list else out
    return [fn(state)] if as_list else fn(state)


def detach_state(state: State) -> State:
    """Cut the graph; keep the carried state in fp32 (under bf16 autocast the kernel returns bf16)."""
    return map_state(lambda s: s.detach().float(), state)


def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), targets.reshape(-1))


# -----------------------------------------------------------------------------
# the unrolled twin: one timestep at a time with the fused module's own weights


@dataclass
class Unrolled:
    logits: torch.Tensor  # (B, T, V)
    hs: list[list[torch.Tensor]]  # hs[layer][t]: (B, H) hidden state after step t
    cs: list[list[torch.Tensor]] | None  # LSTM cell states, same layout
    gates: dict[str, torch.Tensor] | None  # name -> (L, B, T, H), only when record_gates
    pre_x: torch.Tensor | None  # (L, B, T, H) input contribution W_ih x_t + b_ih (rnn, record_gates)
    pre_h: torch.Tensor | None  # (L, B, T, H) recurrent contribution W_hh h_{t-1} + b_hh (rnn)
    state: State  # final state, fused layout


def layer_weights(model: CharModel, layer: int) -> tuple[torch.Tensor, ...]:
    r = model.rnn
    return (
        getattr(r, f"weight_ih_l{layer}"),
        getattr(r, f"weight_hh_l{layer}"),
        getattr(r, f"bias_ih_l{layer}"),
        getattr(r, f"bias_hh_l{layer}"),
    )


def unroll(model: CharModel, x: torch.Tensor, state: State | None = None, record_gates: bool = False) -> Unrolled:
    """Run the model step by step. Dropout is not applied (use in eval-like diagnostics).

    Every h_t (and c_t) is returned as its own tensor, so autograd.grad can give dL/dh_t through the
    recurrence, the quantity a fused kernel hides (see probes.py).
    """
    cfg = model.cfg
    B, T = x.shape
    L = cfg.layers
    if state is None:
        state = model.init_state(B, x.device)
    h0 = state[0] if isinstance(state, tuple) else state
    c0 = state[1] if isinstance(state, tuple) else None
    inp = model.embed(x)  # (B, T, E)
    hs: list[list[torch.Tensor]] = []
    cs: list[list[torch.Tensor]] | None = [] if cfg.kind == "lstm" else None
    gates: dict[str, list[torch.Tensor]] = {}
    pre_x_all, pre_h_all = [], []
    finals_h, finals_c = [], []
    for layer in range(L):
        w_ih, w_hh, b_ih, b_hh = layer_weights(model, layer)
        xw = inp @ w_ih.t() + b_ih  # (B, T, G*H): input projections for all steps at once
        h = h0[layer]
        c = c0[layer] if c0 is not None else None
        h_list, c_list = [], []
        g_rec: dict[str, list[torch.Tensor]] = {}
        for t in range(T):
            hw = h @ w_hh.t() + b_hh  # (B, G*H)
            if cfg.kind == "rnn":
                if record_gates:
                    g_rec.setdefault("pre_x", []).append(xw[:, t])
                    g_rec.setdefault("pre_h", []).append(hw)
                h = torch.tanh(xw[:, t] + hw)
            elif cfg.kind == "lstm":
                i, f, g, o = (xw[:, t] + hw).chunk(4, dim=-1)
                i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                assert c is not None  # an LSTM's state always has its cell
                c = f * c + i * g
                h = o * torch.tanh(c)
                if record_gates:
                    for k, v in (("i", i), ("f", f), ("g", g), ("o", o)):
                        g_rec.setdefault(k, []).append(v)
            else:  # gru, PyTorch's formulation: n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
                xr, xz, xn = xw[:, t].chunk(3, dim=-1)
                hr, hz, hn = hw.chunk(3, dim=-1)
                r = torch.sigmoid(xr + hr)
                z = torch.sigmoid(xz + hz)
                n = torch.tanh(xn + r * hn)
                h = (1 - z) * n + z * h
                if record_gates:
                    for k, v in (("r", r), ("z", z), ("n", n)):
                        g_rec.setdefault(k, []).append(v)
            h_list.append(h)
            if c is not None:
                c_list.append(c)
        hs.append(h_list)
        if cs is not None:
            cs.append(c_list)
        finals_h.append(h)
        if c is not None:
            finals_c.append(c)
        for k, per_step in g_rec.items():
            stacked = torch.stack(per_step, dim=1)  # (B, T, H)
            if k == "pre_x":
                pre_x_all.append(stacked)
            elif k == "pre_h":
                pre_h_all.append(stacked)
            else:
                gates.setdefault(k, []).append(stacked)
        inp = torch.stack(h_list, dim=1)  # (B, T, H) feeds the next layer
    logits = model.head(inp)  # (B, T, V)
    h_final = torch.stack(finals_h)
    final: State = (h_final, torch.stack(finals_c)) if cfg.kind == "lstm" else h_final
    return Unrolled(
        logits=logits,
        hs=hs,
        cs=cs,
        gates={k: torch.stack(v) for k, v in gates.items()} if record_gates and gates else None,
        pre_x=torch.stack(pre_x_all) if pre_x_all else None,
        pre_h=torch.stack(pre_h_all) if pre_h_all else None,
        state=final,
    )
