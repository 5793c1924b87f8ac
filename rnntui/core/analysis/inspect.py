"""The inspector's computation: run a trained model once over a text and keep everything the Inspect
screen shows, as float32 numpy arrays (no tensors leave this module).

The model runs step by step (models.unroll) so the gates and the input/recurrent split of every step can be
read. Long texts go through in windows that carry the state, so memory stays at a few (L, T, H) arrays.
Characters outside the vocabulary stay in the text (the screen shows and marks them) but the model skips
them; `step_of` and `pos_of` map text positions to model steps and back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnntui.core.config import RnntuiError, TrainConfig
from rnntui.core.data.corpus import CorpusError, Vocab, load_corpus
from rnntui.core.model.cells import CharModel, unroll
from rnntui.core.runs.checkpoints import model_from_checkpoint

TOP_K = 5  # next-character predictions kept per step
WINDOW = 256  # steps per unroll call; the state is carried from one window to the next
MAX_CHARS = 50_000  # longer texts are cut (the cut is recorded in Inspection.total_chars)
MAX_FLOATS = 1 << 25  # cap on L*T*H per stored array (128 MB of float32), cuts T for very wide models
DEFAULT_CHARS = 3_000  # length of the default validation slice
SHOWN_GATES = {"lstm": ("f", "i", "o"), "gru": ("r", "z"), "rnn": ()}  # gates the screen summarises
LOW, HIGH = 0.1, 0.9  # a gate is saturated below LOW or above HIGH


class InspectError(RnntuiError):
    """The text cannot be inspected with this model (e.g. none of its characters are in the vocabulary)."""


@dataclass(frozen=True)
class Inspection:
    text: str  # the text shown, cut to the length limit
    total_chars: int  # length of the text as given, before any cut
    kind: str  # rnn, lstm or gru
    vocab: str  # the model's characters
    step_of: np.ndarray  # (N,) int32 model step of each text position, -1 where the char was skipped
    pos_of: np.ndarray  # (T,) int32 text position of each model step
    h: np.ndarray  # (L, T, H) hidden state after each step
    c: np.ndarray | None  # (L, T, H) LSTM cell state after each step; None for rnn/gru
    gate_mean: dict[str, np.ndarray]  # gate -> (L, T) mean over units (LSTM f,i,o; GRU r,z)
    gate_low: dict[str, np.ndarray]  # gate -> (L, H) fraction of steps each unit's gate is below LOW
    gate_high: dict[str, np.ndarray]  # gate -> (L, H) fraction of steps each unit's gate is above HIGH
    from_input: np.ndarray  # (L, T) L2 norm of the input's share: rnn W_ih x_t+b_ih, lstm i*g, gru (1-z)*n
    from_state: np.ndarray  # (L, T) the previous state's share: rnn W_hh h_{t-1}+b_hh, lstm f*c_{t-1}, gru z*h_{t-1}
    pre_x: np.ndarray | None  # (L, T, H) rnn only: W_ih x_t + b_ih per unit, before the tanh
    pre_h: np.ndarray | None  # (L, T, H) rnn only: W_hh h_{t-1} + b_hh per unit, before the tanh
    top_ids: np.ndarray  # (T, K) int32 most likely next characters after step t, best first
    top_p: np.ndarray  # (T, K) their probabilities
    p_char: np.ndarray  # (T,) probability given to step t's character before it was read; NaN at t=0
    loss: np.ndarray  # (T,) -ln p_char in nats; NaN at t=0

    @property
    def layers(self) -> int:
        return self.h.shape[0]

    @property
    def steps(self) -> int:
        return self.h.shape[1]

    @property
    def hidden(self) -> int:
        return self.h.shape[2]

    @property
    def skipped(self) -> str:
        """The distinct characters of the text that are not in the vocabulary."""
        return "".join(dict.fromkeys(ch for ch, s in zip(self.text, self.step_of) if s < 0))

    def mean_loss(self) -> float:
        return float(np.nanmean(self.loss)) if self.steps > 1 else float("nan")


# -----------------------------------------------------------------------------
# text -> model steps


def align(text: str, vocab: Vocab) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids of the known characters, and the maps text position -> step (-1: skipped) and step -> position."""
    index = vocab.index
    ids = np.fromiter((index.get(ch, -1) for ch in text), dtype=np.int64, count=len(text))  # (N,)
    known = ids >= 0
    step_of = np.where(known, np.cumsum(known) - 1, -1).astype(np.int32)
    pos_of = np.flatnonzero(known).astype(np.int32)
    return ids[known], step_of, pos_of


# -----------------------------------------------------------------------------
# the run


def inspect_model(
    model: CharModel,
    vocab: Vocab,
    text: str,
    window: int = WINDOW,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Inspection | None:
    """Run the model over text once. Returns None if `stop` was set before the end."""
    cfg = model.cfg
    L, H = cfg.layers, cfg.hidden
    total = len(text)
    text = text[: min(MAX_CHARS, total)]
    ids, step_of, pos_of = align(text, vocab)
    max_steps = max(1, MAX_FLOATS // (L * H))
    if len(ids) > max_steps:  # a very wide model: cut the text so each array stays bounded
        text = text[: int(pos_of[max_steps - 1]) + 1]
        ids, step_of, pos_of = align(text, vocab)
    T = len(ids)
    if T == 0:
        raise InspectError("none of the text's characters are in the model's vocabulary")
    K = min(TOP_K, len(vocab))
    gnames = SHOWN_GATES[cfg.kind]
    f32 = np.float32
    h_all = np.empty((L, T, H), f32)
    c_all = np.empty((L, T, H), f32) if cfg.kind == "lstm" else None
    px_all = np.empty((L, T, H), f32) if cfg.kind == "rnn" else None
    ph_all = np.empty((L, T, H), f32) if cfg.kind == "rnn" else None
    gate_mean = {g: np.empty((L, T), f32) for g in gnames}
    gate_low = {g: np.zeros((L, H), np.int64) for g in gnames}  # counts until the end
    gate_high = {g: np.zeros((L, H), np.int64) for g in gnames}
    from_input, from_state = np.empty((L, T), f32), np.empty((L, T), f32)
    top_ids, top_p = np.empty((T, K), np.int32), np.empty((T, K), f32)
    p_char = np.full(T, np.nan, f32)

    x_all = torch.from_numpy(ids)  # (T,)
    state = model.init_state(1)
    with torch.no_grad():
        for s in range(0, T, window):
            if stop is not None and stop.is_set():
                return None
            e = min(T, s + window)
            h_prev = state[0] if isinstance(state, tuple) else state  # (L, 1, H) state before step s
            c_prev = state[1] if isinstance(state, tuple) else None
            u = unroll(model, x_all[s:e].unsqueeze(0), state, record_gates=True)
            gates = u.gates or {}  # each (L, 1, W, H); none for a plain RNN (its pre_x, pre_h instead)
            for layer in range(L):
                hs = torch.stack(u.hs[layer], dim=1)[0]  # (W, H)
                h_all[layer, s:e] = hs.numpy()
                before_h = torch.cat([h_prev[layer], hs[:-1]])  # (W, H) h_{t-1}
                if cfg.kind == "rnn":
                    assert u.pre_x is not None and u.pre_h is not None and px_all is not None and ph_all is not None
                    px, ph = u.pre_x[layer, 0], u.pre_h[layer, 0]  # (W, H)
                    px_all[layer, s:e], ph_all[layer, s:e] = px.numpy(), ph.numpy()
                    inp, rec = px, ph
                elif cfg.kind == "lstm":
                    assert u.cs is not None and c_all is not None and c_prev is not None
                    cs = torch.stack(u.cs[layer], dim=1)[0]  # (W, H)
                    c_all[layer, s:e] = cs.numpy()
                    before_c = torch.cat([c_prev[layer], cs[:-1]])  # (W, H) c_{t-1}
                    inp = gates["i"][layer, 0] * gates["g"][layer, 0]
                    rec = gates["f"][layer, 0] * before_c
                else:
                    z = gates["z"][layer, 0]
                    inp, rec = (1 - z) * gates["n"][layer, 0], z * before_h
                from_input[layer, s:e] = inp.norm(dim=-1).numpy()
                from_state[layer, s:e] = rec.norm(dim=-1).numpy()
                for g in gnames:
                    v = gates[g][layer, 0]  # (W, H)
                    gate_mean[g][layer, s:e] = v.mean(dim=-1).numpy()
                    gate_low[g][layer] += (v < LOW).sum(dim=0).numpy()
                    gate_high[g][layer] += (v > HIGH).sum(dim=0).numpy()
            probs = torch.softmax(u.logits[0].float(), dim=-1)  # (W, V) over the next character
            tp, ti = probs.topk(K, dim=-1)
            top_p[s:e], top_ids[s:e] = tp.numpy(), ti.numpy()
            nxt = x_all[s + 1 : e + 1]  # the characters that actually came next (one fewer at the end)
            p_char[s + 1 : s + 1 + len(nxt)] = probs[torch.arange(len(nxt)), nxt].numpy()
            state = u.state
            if progress is not None:
                progress(e, T)
    with np.errstate(divide="ignore"):
        loss = (-np.log(p_char)).astype(f32)
    return Inspection(
        text=text,
        total_chars=total,
        kind=cfg.kind,
        vocab=vocab.chars,
        step_of=step_of,
        pos_of=pos_of,
        h=h_all,
        c=c_all,
        gate_mean=gate_mean,
        gate_low={g: (n / T).astype(f32) for g, n in gate_low.items()},
        gate_high={g: (n / T).astype(f32) for g, n in gate_high.items()},
        from_input=from_input,
        from_state=from_state,
        pre_x=px_all,
        pre_h=ph_all,
        top_ids=top_ids,
        top_p=top_p,
        p_char=p_char,
        loss=loss,
    )


# -----------------------------------------------------------------------------
# default text and the entry point used by the screen's worker


BUILTIN_TEXT = (
    "The model reads one character at a time and keeps a state.\n"
    'config = {"name": "demo", "sizes": [3, 4, (5, 6)], "ok": True}\n'
    "print('inside a string (with brackets) and out again')\n"
)


def default_text(cfg: TrainConfig, vocab: Vocab, n_chars: int = DEFAULT_CHARS) -> str:
    """A slice from the start of the checkpoint corpus's validation split; built-in text if it is absent."""
    try:
        corpus = load_corpus(cfg.corpus, cfg.val_frac)
        text = corpus.vocab.decode(corpus.val[:n_chars])
        if text.strip():
            return text
    except (CorpusError, OSError):
        pass
    from rnntui.core.data.builtin import generate_brackets

    # pick whichever fallback the model can read more of (a bracket-trained model has no capitals)
    candidates = [BUILTIN_TEXT * 4, generate_brackets(n_chars, seed=1)[:n_chars]]
    return max(candidates, key=lambda t: sum(ch in vocab for ch in t) / len(t))


def inspect_checkpoint(
    ckpt: dict[str, Any],
    text: str | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Inspection | None:
    """Checkpoint-format dict (load_checkpoint or Trainer.snapshot) -> Inspection, on the CPU."""
    model, vocab, cfg = model_from_checkpoint(ckpt)
    if not text:
        text = default_text(cfg, vocab)
    return inspect_model(model, vocab, text, stop=stop, progress=progress)
