"""A CharModel's forward step in NumPy, on a float32 copy of its weights: what the sampler (sampling.py),
step mode (stepping.py) and beam search (beam.py) run, one character at a time.

At batch 1 a step is a handful of matrix-vector products, and the per-call overhead of the fused
nn.LSTM (oneDNN reorders its weights on every call) dominates: ~300 chars/s for a 2x512 LSTM. The same
step in NumPy on a float32 copy of the weights runs at several thousand chars/s, so generation never
touches torch in its hot loop. It also works on a copy, so a model that keeps training is not disturbed.

Layout tricks, all applied once when the net is built:
- The first layer's input projection depends only on the character: a (V, P) table replaces the
  embedding lookup and the first matrix product.
- sigmoid(x) = 0.5 * tanh(x / 2) + 0.5: the rows of sigmoid gates are pre-scaled by 0.5, so one tanh over
  the whole gate vector serves every gate.
- Hidden states of all layers live in one flat vector [h_0, h_1, ...]; layer l > 0 reads the contiguous
  slice [h_{l-1} (new), h_l (old)] with a single product against the concatenated [W_ih | W_hh].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.core.config import GATES, ConfigError, ModelConfig
from rnntui.core.data.corpus import Vocab

# -----------------------------------------------------------------------------
# per-stream state: every buffer a step writes, allocated once


@dataclass(frozen=True)
class SamplerState:
    hs: np.ndarray  # (L*H,) hidden states of all layers, flat so adjacent layers form one slice
    cs: np.ndarray | None  # (L, H) LSTM cell states, None for rnn and gru
    pre: np.ndarray  # (P,) pre-activations of the layer being stepped (reused by every layer)
    logits: np.ndarray  # (V,) output of the last step; overwritten by the next one


# -----------------------------------------------------------------------------
# the net


class NumpyNet:
    """A CharModel's weights folded into the layout above, and its step. Thread-safe: each stream owns its
    SamplerState, and the weights are only read."""

    def __init__(self, weights: dict[str, np.ndarray], model_cfg: ModelConfig, vocab: Vocab) -> None:
        model_cfg.validate()
        if len(vocab) != model_cfg.vocab_size:
            raise ConfigError(f"vocabulary has {len(vocab)} characters but the model expects {model_cfg.vocab_size}")
        self.cfg, self.vocab = model_cfg, vocab
        kind, H, L, V, E = model_cfg.kind, model_cfg.hidden, model_cfg.layers, len(vocab), model_cfg.embed
        G = GATES[kind]
        expected = {"embed.weight": (V, E), "head.weight": (V, H), "head.bias": (V,)}
        for l in range(L):
            expected |= {
                f"rnn.weight_ih_l{l}": (G * H, E if l == 0 else H),
                f"rnn.weight_hh_l{l}": (G * H, H),
                f"rnn.bias_ih_l{l}": (G * H,),
                f"rnn.bias_hh_l{l}": (G * H,),
            }
        w = {}
        for name, shape in expected.items():
            if name not in weights:
                raise ConfigError(f"model weights lack {name}")
            w[name] = np.array(weights[name], dtype=np.float64)  # a copy; float64 while folding
            if w[name].shape != shape:
                raise ConfigError(f"{name} has shape {w[name].shape}, expected {shape}")

        # (G*H, ...) PyTorch rows -> the sampler's pre-activation layout, sigmoid rows halved:
        #   rnn  [a]                       lstm [i/2, f/2, o/2, g]   (reordered so sigmoids are contiguous)
        #   gru  [(r,z)/2 input+recurrent, W_hn h + b_hn, W_in x + b_in]  (n needs its two halves apart)
        def rows(m: np.ndarray) -> list[np.ndarray]:
            parts = np.split(m, G, axis=0)
            if kind == "lstm":
                i, f, g, o = parts
                return [i / 2, f / 2, o / 2, g]
            if kind == "gru":
                r, z, n = parts
                return [r / 2, z / 2, n]
            return parts

        self._P = {"rnn": H, "lstm": 4 * H, "gru": 4 * H}[kind]
        self._W, self._b = [], []  # layer l > 0: (P, 2H) product with [h_{l-1}; h_l], bias (P,)
        for l in range(L):
            wi, wh = rows(w[f"rnn.weight_ih_l{l}"]), rows(w[f"rnn.weight_hh_l{l}"])
            bi, bh = rows(w[f"rnn.bias_ih_l{l}"]), rows(w[f"rnn.bias_hh_l{l}"])
            if kind == "gru":
                # one product yields [r+z sums, W_hn h, W_in x]; the zero blocks keep the two n halves apart
                W_x = np.concatenate([wi[0], wi[1], np.zeros_like(wi[2]), wi[2]])  # (4H, In)
                W_h = np.concatenate([wh[0], wh[1], wh[2], np.zeros_like(wh[2])])  # (4H, H)
                b = np.concatenate([bi[0] + bh[0], bi[1] + bh[1], bh[2], bi[2]])  # (4H,)
            else:
                W_x, W_h = np.concatenate(wi), np.concatenate(wh)  # (P, In), (P, H)
                b = np.concatenate(bi) + np.concatenate(bh)  # (P,): both biases simply add
            if l == 0:
                # the character fixes the input part: (V, P) table; the recurrent product skips the
                # zero block of a GRU by writing only the first 3H rows
                self._table = np.ascontiguousarray(w["embed.weight"] @ W_x.T + b, dtype=np.float32)
                self._W0 = np.ascontiguousarray(W_h[: 3 * H] if kind == "gru" else W_h, dtype=np.float32)
            else:
                self._W.append(np.ascontiguousarray(np.concatenate([W_x, W_h], axis=1), dtype=np.float32))
                self._b.append(np.ascontiguousarray(b, dtype=np.float32))
        self._head_w = np.ascontiguousarray(w["head.weight"], dtype=np.float32)  # (V, H)
        self._head_b = np.ascontiguousarray(w["head.bias"], dtype=np.float32)  # (V,)

    # ---- the step

    def new_state(self) -> SamplerState:
        """Zero state, as CharModel starts; each stream owns one."""
        L, H = self.cfg.layers, self.cfg.hidden
        return SamplerState(
            hs=np.zeros(L * H, dtype=np.float32),
            cs=np.zeros((L, H), dtype=np.float32) if self.cfg.kind == "lstm" else None,
            pre=np.empty(self._P, dtype=np.float32),
            logits=np.empty(len(self.vocab), dtype=np.float32),
        )

    def step(self, state: SamplerState, idx: int) -> np.ndarray:
        """Feed character id idx; updates state in place and returns its logits buffer (V,)."""
        kind, H = self.cfg.kind, self.cfg.hidden
        hs, pre = state.hs, state.pre
        for l in range(self.cfg.layers):
            h = hs[l * H : (l + 1) * H]  # (H,) view: written in place below
            if l == 0:
                n = self._W0.shape[0]
                np.dot(self._W0, h, out=pre[:n])
                pre[:n] += self._table[idx, :n]
                if n < self._P:
                    pre[n:] = self._table[idx, n:]
            else:
                np.dot(self._W[l - 1], hs[(l - 1) * H : (l + 1) * H], out=pre)  # [h_{l-1} new; h_l old]
                pre += self._b[l - 1]
            if kind == "rnn":
                np.tanh(pre, out=h)
            elif kind == "lstm":
                np.tanh(pre, out=pre)
                sig = pre[: 3 * H]  # i, f, o: sigmoid = 0.5 * tanh(x/2) + 0.5, rows were halved
                sig *= 0.5
                sig += 0.5
                i, f, o, g = pre[:H], pre[H : 2 * H], pre[2 * H : 3 * H], pre[3 * H :]
                assert state.cs is not None  # an LSTM's state has its cells
                c = state.cs[l]
                c *= f
                i *= g
                c += i  # c = f*c + i*g
                np.tanh(c, out=h)
                h *= o
            else:  # gru: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h = (1 - z) * n + z * h
                rz = pre[: 2 * H]
                np.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                r, z, hn, xn = pre[:H], pre[H : 2 * H], pre[2 * H : 3 * H], pre[3 * H :]
                hn *= r
                hn += xn
                np.tanh(hn, out=hn)  # n
                h -= hn
                h *= z
                h += hn  # n + z*(h - n)
        logits = state.logits
        np.dot(self._head_w, hs[(self.cfg.layers - 1) * H :], out=logits)
        logits += self._head_b
        return logits

    def step_batch(
        self, hs: np.ndarray, cs: np.ndarray | None, ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Feed one character to each of B streams at once (beam search); returns new (hs, cs) and logits.

        hs: (B, L*H), cs: (B, L, H) or None, ids: (B,). Inputs are not modified (beams get reordered
        between steps, so each step works on fresh arrays). Returns (hs, cs, logits (B, V)).
        """
        kind, H, L = self.cfg.kind, self.cfg.hidden, self.cfg.layers
        hs = hs.copy()
        cs = cs.copy() if cs is not None else None
        for l in range(L):
            h = hs[:, l * H : (l + 1) * H]  # (B, H) view
            if l == 0:
                n = self._W0.shape[0]
                pre = self._table[ids].copy()  # (B, P)
                pre[:, :n] += h @ self._W0.T
            else:
                pre = hs[:, (l - 1) * H : (l + 1) * H] @ self._W[l - 1].T + self._b[l - 1]  # (B, P)
            if kind == "rnn":
                h[:] = np.tanh(pre)
            elif kind == "lstm":
                t = np.tanh(pre)
                sig = t[:, : 3 * H] * 0.5 + 0.5
                i, f, o, g = sig[:, :H], sig[:, H : 2 * H], sig[:, 2 * H :], t[:, 3 * H :]
                assert cs is not None  # an LSTM's beams carry their cells
                cs[:, l] = f * cs[:, l] + i * g
                h[:] = o * np.tanh(cs[:, l])
            else:
                rz = np.tanh(pre[:, : 2 * H]) * 0.5 + 0.5
                r, z = rz[:, :H], rz[:, H:]
                nn = np.tanh(pre[:, 3 * H :] + r * pre[:, 2 * H : 3 * H])
                h[:] = nn + z * (h - nn)
        logits = hs[:, (L - 1) * H :] @ self._head_w.T + self._head_b  # (B, V)
        return hs, cs, logits

    def copy_state(self, state: SamplerState) -> SamplerState:
        """An independent copy (step mode keeps one per step so undo restores it exactly)."""
        return SamplerState(
            hs=state.hs.copy(),
            cs=None if state.cs is None else state.cs.copy(),
            pre=np.empty_like(state.pre),
            logits=state.logits.copy(),
        )
