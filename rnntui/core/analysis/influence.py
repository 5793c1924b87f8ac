"""Influence of past characters: which earlier characters one prediction actually uses.

    infl = influence(model, ids)            the prediction after ids[-1], attributed to the last WINDOW ids
    infl.weights                            (W,) each character's share, oldest first, summing to 1
    reach(weights), strongest(weights)      "within the last 23 characters", "41 characters back"
    summary(chars, weights)                 the sentence the inspector and `rnntui inspect --json` show
    CursorInfluence(ckpt, inspection).at(t) the inspector's: one window from the stored state, ~30 ms

The method, gradient x input (Shrikumar et al. 2016, "Not just a black box"): the quantity explained is
log p(c | x_1..x_t), the log-probability of one next character c (the model's likeliest unless the
caller names one). With e_s the embedding of the character s steps back and g_s = d log p / d e_s,
a_s = g_s * e_s (E values) is the first-order estimate of each embedding component's contribution.
One number per character is ||a_s||_2, and the numbers are divided by their sum: a share of the
influence. The L2 norm is the reduction Ecco (Alammar 2021) uses for its gradient x input and
integrated-gradients views. The signed sum over components (AllenNLP's SimpleGradient takes |sum|)
lets components cancel, and on the copy oracle of tests/test_influence.py it was the less faithful one.
There it put the peak on a noise character 6 steps back instead of the key 10 back; the norm found the key.

INTEGRATED_GRADIENTS (Sundararajan et al. 2017) is offered as a second method: the same reduction of
e_s * the average gradient along the straight path from all-zero embeddings to the real ones (Gauss-Legendre,
IG_STEPS points, Captum's quadrature). A saturated memory has a small local gradient, and the path
integral sees what that gradient misses. The cost is IG_STEPS forward/backward passes in one batch,
4-12x gradient x input here (bench_influence.py): `rnntui inspect --method integrated-gradients`, and
the inspector on a key, not by default. tests/test_influence.py shows the difference on brackets: at a
closing bracket IG puts its opening bracket first, gradient x input the recent letters.

Plain autograd, not Captum. Captum computes the same numbers (tests/test_influence.py checks ours against
its InputXGradient and IntegratedGradients when it is installed) in the same time: both about 30 ms for
a 2x256 LSTM over 300 characters, benchmarks/bench_influence.py. But it would add matplotlib and tqdm
to the app's dependencies for one multiply and one norm. So Captum is a dev dependency, the test's
independent oracle.

A window starts from a state: the one the caller passes (the inspector's stored h, c), else the state
the characters before the window leave (run without gradient), else zeros. Characters before the window
are not attributed: their influence reaches the prediction only through that state, which is held fixed.
Everything runs on the CPU; only numpy leaves this module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rnntui.core.config import RnntuiError
from rnntui.core.model.cells import CharModel, State
from rnntui.core.textsafe import visible

GRADIENT_X_INPUT = "gradient-x-input"
INTEGRATED_GRADIENTS = "integrated-gradients"
METHODS = (GRADIENT_X_INPUT, INTEGRATED_GRADIENTS)
WINDOW = 300  # characters attributed at the inspector's cursor (the 300; ~30 ms for a 2x256 LSTM)
SHARE = 0.9  # reach(): the distance back within which this share of the influence lies
IG_STEPS = 20  # integrated gradients' quadrature points (Captum defaults to 50; see bench_influence.py)
LONGEST = 10_000  # most characters one attribution runs back through (a 2x256 LSTM keeps ~12 KB a step)


class InfluenceError(RnntuiError):
    """No influence can be measured (no characters, too little held-out text)."""


# -----------------------------------------------------------------------------
# the attribution, batched: B windows at once, one backward pass


@contextmanager
def _inputs_only(model: CharModel) -> Iterator[None]:
    """Gradients for the inputs only, for the duration: a fused LSTM kernel otherwise computes every
    weight's gradient too (about a fifth of the time). The flags are put back as they were."""
    flags = [p.requires_grad for p in model.parameters()]
    model.requires_grad_(False)
    try:
        with torch.enable_grad():
            yield
    finally:
        for p, f in zip(model.parameters(), flags):
            p.requires_grad_(f)


def _last_log_probs(model: CharModel, emb: torch.Tensor, state: State | None) -> torch.Tensor:
    # emb: (B, T, E) -> (B, V) log-probabilities of the character after the last step (no dropout: eval)
    out, _ = model.rnn(emb, state)  # (B, T, H)
    return torch.log_softmax(model.head(out[:, -1]).float(), dim=-1)


def attribute(
    model: CharModel,
    windows: torch.Tensor,
    state: State | None = None,
    targets: torch.Tensor | None = None,
    method: str = GRADIENT_X_INPUT,
    ig_steps: int = IG_STEPS,
    contrast: torch.Tensor | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """windows (B, T) ids -> (scores (B, T) float64 >= 0, not yet normalised; log-probabilities (B, V) of
    the next character; targets (B,) the ids whose log-probability was explained: `targets`, or each
    window's likeliest next character). `state`: the state each window starts from (None: zeros).
    `contrast` (K,) ids: explain the target against these alternatives instead (see _explained)."""
    if method not in METHODS:
        raise InfluenceError(f"unknown attribution method {method!r} (choose {', '.join(METHODS)})")
    with _inputs_only(model):
        emb = model.embed(windows).detach()  # (B, T, E)
        if method == GRADIENT_X_INPUT:
            x = emb.clone().requires_grad_(True)
            logp = _last_log_probs(model, x, state)  # (B, V)
            tgt = logp.argmax(dim=-1) if targets is None else targets
            (grad,) = torch.autograd.grad(_explained(logp, tgt, contrast).sum(), x)  # windows are independent
            attr = grad * emb  # (B, T, E)
        else:
            with torch.no_grad():
                logp = _last_log_probs(model, emb, state)
            tgt = logp.argmax(dim=-1) if targets is None else targets
            nodes, weights = np.polynomial.legendre.leggauss(ig_steps)  # on [-1, 1]; moved to [0, 1]
            alpha = torch.tensor((nodes + 1) / 2, dtype=emb.dtype)  # (S,)
            w = torch.tensor(weights / 2, dtype=emb.dtype)  # (S,) sums to 1
            B = emb.shape[0]
            path = (alpha[:, None, None, None] * emb).reshape(ig_steps * B, *emb.shape[1:])  # (S*B, T, E)
            path.requires_grad_(True)
            rep = None if state is None else _repeat_state(state, ig_steps)
            lp = _explained(_last_log_probs(model, path, rep), tgt.repeat(ig_steps), contrast)  # (S*B,)
            (grad,) = torch.autograd.grad((lp.view(ig_steps, B) * w[:, None]).sum(), path)
            attr = grad.view(ig_steps, B, *emb.shape[1:]).sum(dim=0) * emb  # (B, T, E): weights already in
    scores = attr.norm(dim=-1).double().numpy()  # (B, T)
    return scores, logp.detach().double().numpy(), tgt.numpy()


def _explained(logp: torch.Tensor, tgt: torch.Tensor, contrast: torch.Tensor | None) -> torch.Tensor:
    """(N, V) log-probabilities -> (N,) the quantity attributed: log p(target), or with `contrast` (K,) ids
    the target's log-odds against the other alternatives, log p(target) - logsumexp(log p(the others)).
    The second asks "why this character and not those" (Yin & Neubig, 2022, contrastive explanations):
    at a closing bracket, "why `)` and not `]` or `}`", where the plain reading mostly answers "why a
    bracket now", which the last few characters decide."""
    own = logp.gather(1, tgt[:, None])[:, 0]  # (N,)
    if contrast is None:
        return own
    others = logp[:, contrast].masked_fill(contrast[None, :] == tgt[:, None], -1e9)  # (N, K): the target out
    return own - torch.logsumexp(others, dim=1)


def _repeat_state(state: State, n: int) -> State:
    """(L, B, H) -> (L, n*B, H), the batch order of the integrated-gradients path (step-major)."""
    if isinstance(state, tuple):
        h, c = state
        return h.repeat(1, n, 1), c.repeat(1, n, 1)
    return state.repeat(1, n, 1)


def normalise(scores: np.ndarray) -> np.ndarray:
    """Rows of non-negative scores -> shares summing to 1 (a row with no finite positive total: zeros)."""
    s = np.where(np.isfinite(scores), np.maximum(scores, 0.0), 0.0)
    total = s.sum(axis=-1, keepdims=True)
    return np.divide(s, total, out=np.zeros_like(s), where=total > 0)


# -----------------------------------------------------------------------------
# reading a vector of shares (oldest first: the last entry is the character just read, 1 back)


def reach(weights: np.ndarray, share: float = SHARE) -> int | None:
    """The smallest d such that the last d characters hold `share` of the influence (None: no influence)."""
    w = np.asarray(weights, dtype=np.float64)[::-1]  # index d-1: d characters back
    total = w.sum()
    if not total > 0:
        return None
    cum = np.cumsum(w) / total
    return int(np.searchsorted(cum, share - 1e-9) + 1)  # first d whose cumulative share reaches it


def strongest(weights: np.ndarray) -> int | None:
    """How many characters back the largest share is (1: the last character; None: no influence)."""
    w = np.asarray(weights, dtype=np.float64)
    if not (w.size and w.max() > 0):
        return None
    return int(np.argmax(w[::-1]) + 1)  # a tie goes to the nearer character


def _name(ch: str) -> str:
    """A character as the sentence quotes it: `(`, the space, `⏎`."""
    return "the space" if ch == " " else f"the `{visible(ch)}`"


def _chars(n: int) -> str:
    return f"{n} character" + ("s" if n != 1 else "")


def summary(chars: str, weights: np.ndarray, share: float = SHARE) -> str:
    """ "90% of the influence lies within the last 23 characters; the strongest is the `(` 41 characters
    back". chars and weights are aligned (the last of each is the character just read)."""
    r, d = reach(weights, share), strongest(weights)
    if r is None or d is None:
        return "no influence reaches this prediction (its gradient is zero)"
    within = "the last character" if r == 1 else f"the last {r} characters"
    where = "just before" if d == 1 else f"{_chars(d)} back"
    return f"{share:.0%} of the influence lies within {within}; the strongest is {_name(chars[-d])} {where}"


def spread(weights: np.ndarray, positions: Sequence[int] | np.ndarray, n_chars: int) -> np.ndarray:
    """Shares of model steps -> shares of text positions ((n_chars,) float64; 0 where no step is): for a
    text with characters the vocabulary lacks, which the model skips (inspect.align's pos_of)."""
    out = np.zeros(n_chars, dtype=np.float64)
    out[np.asarray(positions, dtype=np.int64)] = weights
    return out


# -----------------------------------------------------------------------------
# one prediction


@dataclass(frozen=True)
class Influence:
    method: str  # GRADIENT_X_INPUT or INTEGRATED_GRADIENTS
    weights: np.ndarray  # (W,) float64 share of each character of the window, oldest first; sums to 1 (0s: none)
    target: int  # vocabulary id of the next character whose log-probability is explained
    probs: np.ndarray  # (V,) float64 the model's distribution over the next character

    @property
    def reach90(self) -> int | None:
        return reach(self.weights)

    @property
    def strongest(self) -> int | None:
        return strongest(self.weights)


def _state_from(model: CharModel, start: tuple[np.ndarray, np.ndarray | None] | None) -> State | None:
    """(h (L, H), c (L, H) or None) numpy -> the model's (L, 1, H) state layout."""
    if start is None:
        return None
    h = torch.from_numpy(np.ascontiguousarray(start[0], dtype=np.float32))[:, None, :]
    if model.cfg.kind == "lstm":
        return (h, torch.from_numpy(np.ascontiguousarray(start[1], dtype=np.float32))[:, None, :])
    return h


def influence(
    model: CharModel,
    ids: Sequence[int] | np.ndarray,
    window: int | None = WINDOW,
    start: tuple[np.ndarray, np.ndarray | None] | None = None,
    method: str = GRADIENT_X_INPUT,
    target: int | None = None,
) -> Influence:
    """The prediction after the last of `ids` (model ids, read from `start` or zeros), attributed to the
    last `window` of them (None: all, up to LONGEST). The ones before only set the state it starts from."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.size == 0:
        raise InfluenceError("no characters to attribute the prediction to")
    n = min(ids.size, LONGEST) if window is None else max(1, min(int(window), ids.size, LONGEST))
    state = _state_from(model, start)
    if ids.size > n:  # the prefix: forward only, it gives the window's first state
        with torch.no_grad():
            emb = model.embed(torch.from_numpy(ids[: ids.size - n])[None])
            _, state = model.rnn(emb, state)
    tgt = None if target is None else torch.tensor([int(target)])
    scores, logp, t = attribute(model, torch.from_numpy(ids[-n:])[None], state, tgt, method)
    probs = np.exp(logp[0])
    return Influence(method=method, weights=normalise(scores)[0], target=int(t[0]), probs=probs / probs.sum())


# -----------------------------------------------------------------------------
# the inspector's: any step of an Inspection, from its stored states


class CursorInfluence:
    """Influence at any step of one Inspection (rnntui.core.analysis.inspect), for the inspector's cursor.

    Holds its own CPU copy of the model (built from the checkpoint dict the Inspection came from) and
    the text's ids. at(step) runs only the window ending at that step, starting from the Inspection's
    stored state before it: the prediction is the full text's, the attribution covers `window` steps.
    Build it and call at() in a worker thread: it imports torch and each call takes tens of milliseconds.
    """

    def __init__(
        self, ckpt: dict[str, Any] | Any, inspection: Any, window: int = WINDOW, method: str = GRADIENT_X_INPUT
    ) -> None:
        from rnntui.core.analysis.inspect import align
        from rnntui.core.runs.checkpoints import model_from_checkpoint

        if method not in METHODS:
            raise InfluenceError(f"unknown attribution method {method!r} (choose {', '.join(METHODS)})")
        self.model, vocab, _ = model_from_checkpoint(ckpt)
        self.model.requires_grad_(False)
        self.ids, _, _ = align(inspection.text, vocab)  # (T,) the steps the Inspection ran
        self.inspection, self.window, self.method = inspection, max(1, int(window)), method

    def at(self, step: int, target: int | None = None) -> Influence:
        """The prediction after model step `step` (0-based; Inspection.step_of maps a text position),
        attributed to steps max(0, step - window + 1) .. step: weights[i] belongs to that first step + i."""
        ins = self.inspection
        if not 0 <= step < len(self.ids):
            raise InfluenceError(f"step {step} is outside the text (0..{len(self.ids) - 1})")
        first = max(0, step - self.window + 1)
        start = None
        if first > 0:  # the state after step first-1, as the Inspection stored it
            start = (ins.h[:, first - 1], ins.c[:, first - 1] if ins.c is not None else None)
        return influence(
            self.model, self.ids[first : step + 1], window=None, start=start, method=self.method, target=target
        )
