"""Step mode: generation one character at a time, with the distribution shown and the choice left to the user.

A Stepper holds one stream of a Sampler. At each step it exposes the model's distribution (softmax at
temperature 1) and the distribution a draw would use (softmax(logits / T) over the top k), proposes a
character drawn from the latter, and lets the caller accept it, pick another, or undo. Every step pushes
a copy of the state and of the RNG, so undo returns to exactly where the stream was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnntui.core.config import ConfigError
from rnntui.core.generate.numpy_net import SamplerState
from rnntui.core.generate.sampling import Sampler, top_k_logits
from rnntui.core.generate.settings import check_temperature, check_top_k

# -----------------------------------------------------------------------------
# distributions


def probabilities(logits: np.ndarray, temperature: float = 1.0, top_k: int = 0) -> np.ndarray:
    """The distribution a draw samples from: softmax(logits / T) over the top_k largest (0: all). (V,) f64.

    The characters kept are sampling.top_k_logits', the sampler's own; the others get probability 0.
    """
    z, keep = top_k_logits(logits, temperature, top_k)
    if keep is not None:  # back to (V,): -inf outside the top k
        full = np.full(logits.shape, -np.inf)
        full[keep] = z
        z = full
    p = np.exp(z - z.max())
    return p / p.sum()


def entropy_bits(p: np.ndarray) -> float:
    """Shannon entropy of a distribution, in bits (0 log 0 = 0)."""
    nz = p[p > 0]
    return float(-(nz * np.log2(nz)).sum())


# -----------------------------------------------------------------------------
# what the UI shows at one step (plain data: no arrays cross into the UI)


@dataclass(frozen=True)
class Candidate:
    char: str  # the character
    p_model: float  # its probability at temperature 1, no top-k
    p_chosen: float  # its probability at the chosen temperature and top-k (0 if cut by top-k)


@dataclass(frozen=True)
class StepView:
    step: int  # characters generated so far
    candidates: tuple[Candidate, ...]  # the likeliest first (the same order at any T); the proposal included
    proposal: str  # the character a draw at the chosen settings picked
    entropy_model: float  # bits, of the distribution at temperature 1
    entropy_chosen: float  # bits, of the distribution at the chosen temperature and top-k
    temperature: float  # the chosen temperature
    top_k: int  # the chosen top-k (0: off)


# -----------------------------------------------------------------------------
# the stepper


@dataclass(frozen=True)
class _Saved:
    state: SamplerState  # copy of the stream before the step
    rng: Mapping[str, Any]  # the RNG's bit-generator state before the step's draw
    proposal: int  # the proposal shown before the step


class Stepper:
    def __init__(
        self, sampler: Sampler, prime: str = "", temperature: float = 1.0, top_k: int = 0, seed: int | None = None
    ) -> None:
        self.sampler = sampler
        self.state = sampler.primed(prime)  # the stream; its logits predict the next character
        self.rng = np.random.default_rng(seed)
        self.chars: list[str] = []  # generated so far
        self.probs: list[float] = []  # the model's probability (T 1) of each generated character
        self._undo: list[_Saved] = []
        self.temperature, self.top_k = 1.0, 0
        self._rng_before: Mapping[str, Any] = self.rng.bit_generator.state  # for re-drawing when settings change
        self.proposal = 0
        self.set_sampling(temperature, top_k)

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def set_sampling(self, temperature: float, top_k: int) -> None:
        """Change T / top-k; the proposal is redrawn with the same random number."""
        check_temperature(temperature)
        check_top_k(top_k)
        self.temperature, self.top_k = float(temperature), int(top_k)
        self.rng.bit_generator.state = self._rng_before
        self.proposal = self._draw()

    def distributions(self) -> tuple[np.ndarray, np.ndarray]:
        """(model, chosen): (V,) probabilities at T 1 and at the chosen T / top-k."""
        logits = self.state.logits
        return probabilities(logits), probabilities(logits, self.temperature, self.top_k)

    def view(self, n: int = 10) -> StepView:
        p_model, p_chosen = self.distributions()
        order = [int(i) for i in np.argsort(-p_model, kind="stable")[:n]]
        if self.proposal not in order:
            order.append(self.proposal)
        chars = self.sampler.vocab.chars
        cands = tuple(Candidate(chars[i], float(p_model[i]), float(p_chosen[i])) for i in order)
        return StepView(
            len(self.chars),
            cands,
            chars[self.proposal],
            entropy_bits(p_model),
            entropy_bits(p_chosen),
            self.temperature,
            self.top_k,
        )

    # ---- moves

    def choose(self, ch: str) -> None:
        """Append ch (any vocabulary character) and advance the model by it."""
        vocab = self.sampler.vocab
        if ch not in vocab:
            raise ConfigError(f"{ch!r} is not in the model's vocabulary")
        idx = vocab.index[ch]
        p = probabilities(self.state.logits)[idx]
        self._undo.append(_Saved(self.sampler.copy_state(self.state), self._rng_before, self.proposal))
        self.sampler.step(self.state, idx)
        self.chars.append(ch)
        self.probs.append(float(p))
        self.proposal = self._draw()

    def accept(self) -> str:
        """Take the proposal; returns it."""
        ch = self.sampler.vocab.chars[self.proposal]
        self.choose(ch)
        return ch

    def undo(self) -> bool:
        """Back one step, to exactly the state, RNG and proposal before it; False at the start."""
        if not self._undo:
            return False
        saved = self._undo.pop()
        self.state = saved.state
        self.chars.pop()
        self.probs.pop()
        self._rng_before = saved.rng
        self.rng.bit_generator.state = saved.rng
        self.proposal = self._draw()
        return True

    def _draw(self) -> int:
        """Draw the proposal from the chosen distribution, remembering the RNG state before it."""
        self._rng_before = self.rng.bit_generator.state
        p = probabilities(self.state.logits, self.temperature, self.top_k)
        cdf = np.cumsum(p)
        return min(int(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right")), p.size - 1)
