"""Sampling text from a trained character model, one character at a time, in NumPy: how the next character
is drawn (temperature, top-k, argmax) from the logits of the model's NumPy twin (numpy_net.py).

    sampler = Sampler.from_checkpoint(ckpt)          or Sampler.from_model(model, vocab) while it trains
    sampler.sample("ROMEO:", temperature=0.8, top_k=20, length=200, seed=1)
    for ch in sampler.stream(...): ...               one character at a time (stop: a threading.Event)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from rnntui.core.data.corpus import Vocab
from rnntui.core.generate.numpy_net import NumpyNet, SamplerState
from rnntui.core.generate.settings import check_length, check_temperature, check_top_k

if TYPE_CHECKING:  # the sampler itself never needs torch
    from rnntui.core.model.cells import CharModel

# -----------------------------------------------------------------------------
# temperature and top-k: what a draw may pick, for the sampler's streams and step mode (stepping.py)


def top_k_logits(logits: np.ndarray, temperature: float, top_k: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(z, keep): the logits divided by the temperature, over the characters a draw may pick.

    top_k 0 (or >= V) keeps them all: z is (V,) and keep None. Otherwise z is (k,), the k largest, and keep
    (k,) their ids, unordered; ties at the k-th value are broken as np.argpartition breaks them."""
    z = logits.astype(np.float64) / temperature  # (V,) float64: exp of large logits stays finite
    if not 0 < top_k < z.size:
        return z, None
    keep = np.argpartition(z, -top_k)[-top_k:]  # (k,) ids of the k largest, unordered
    return z[keep], keep


# -----------------------------------------------------------------------------
# the sampler


class Sampler(NumpyNet):
    """Generates text from a CharModel's weights. Thread-safe: streams share only read-only weights."""

    # ---- constructors

    @classmethod
    def from_checkpoint(cls, ckpt: dict[str, Any]) -> Sampler:
        """From a checkpoint dict: "model" state_dict (any dtype or device), "config", "vocab"."""
        from rnntui.core.model.memory import check_model_fits
        from rnntui.core.runs.checkpoints import weights_of

        snap = weights_of(ckpt)
        check_model_fits(snap.config.model, len(snap.vocab))  # before the copies below are made
        weights = {k: v.detach().float().cpu().numpy() for k, v in snap.weights.items()}
        return cls(weights, snap.config.model, Vocab(snap.vocab))

    @classmethod
    def from_model(cls, model: CharModel, vocab: Vocab) -> Sampler:
        """From a live CharModel (copies its weights, so training may go on)."""
        weights = {k: v.detach().float().cpu().numpy() for k, v in model.state_dict().items()}
        return cls(weights, model.cfg, vocab)

    def primed(self, prime: str) -> SamplerState:
        """A state after feeding the prime's known characters (or "\n" when none and it is known)."""
        state = self.new_state()
        ids, _ = self.vocab.encode_known(prime)
        if not ids and "\n" in self.vocab:
            ids = [self.vocab.index["\n"]]
        if not ids:  # nothing to start from: a uniform start (logits all zero)
            state.logits[:] = 0.0
        for idx in ids:
            self.step(state, idx)
        return state

    # ---- sampling

    def unknown_chars(self, prime: str) -> str:
        """Distinct characters of prime outside the vocabulary, in order of appearance; streams skip them."""
        return self.vocab.encode_known(prime)[1]

    def stream(
        self,
        prime: str = "",
        temperature: float = 1.0,
        top_k: int = 0,
        length: int = 200,
        seed: int | None = None,
        argmax: bool = False,
        stop: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield `length` generated characters (the prime itself is not yielded).

        The prime's known characters set the state; unknown ones are skipped (see unknown_chars). With no
        usable prime the model starts after "\\n", as at the start of a line, if the vocabulary has it;
        otherwise from a character drawn with the seed, which is yielded as the first character.
        top_k=0 samples from the full distribution; argmax ignores temperature and top_k. `stop` is
        checked before every character. Arguments are checked here, before the first character.
        """
        check_temperature(temperature)
        check_top_k(top_k)
        check_length(length)
        return self._generate(prime, float(temperature), int(top_k), int(length), seed, argmax, stop)

    def sample(
        self,
        prime: str = "",
        temperature: float = 1.0,
        top_k: int = 0,
        length: int = 200,
        seed: int | None = None,
        argmax: bool = False,
        stop: threading.Event | None = None,
    ) -> str:
        """The whole continuation as one string (shorter if stop was set)."""
        return "".join(self.stream(prime, temperature, top_k, length, seed, argmax, stop))

    def stream_scored(
        self,
        prime: str = "",
        temperature: float = 1.0,
        top_k: int = 0,
        length: int = 200,
        seed: int | None = None,
        argmax: bool = False,
        stop: threading.Event | None = None,
    ) -> Iterator[tuple[str, float]]:
        """As stream, with the probability the model gave each character (softmax at T 1, no top-k).

        The same characters as stream() with the same arguments; a start character drawn without a
        model prediction (no usable prime, no "\n" in the vocabulary) gets 1/V.
        """
        self.stream(prime, temperature, top_k, length, seed, argmax, stop)  # checks the arguments
        return self._generate(prime, float(temperature), int(top_k), int(length), seed, argmax, stop, scored=True)

    def _generate(
        self,
        prime: str,
        temperature: float,
        top_k: int,
        length: int,
        seed: int | None,
        argmax: bool,
        stop: threading.Event | None,
        scored: bool = False,
    ) -> Iterator[Any]:
        rng = np.random.default_rng(seed)
        state = self.new_state()
        ids, _ = self.vocab.encode_known(prime)
        if not ids and length > 0:
            if "\n" in self.vocab:
                ids = [self.vocab.index["\n"]]
            else:
                ids = [int(rng.integers(len(self.vocab)))]
                ch = self.vocab.chars[ids[0]]
                yield (ch, 1.0 / len(self.vocab)) if scored else ch
                length -= 1
        logits = state.logits
        for idx in ids:
            if stop is not None and stop.is_set():
                return
            logits = self.step(state, idx)
        for n in range(length):
            if stop is not None and stop.is_set():
                return
            idx = int(np.argmax(logits)) if argmax else self._draw(logits, temperature, top_k, rng)
            if scored:
                z = logits.astype(np.float64)
                yield self.vocab.chars[idx], float(1.0 / np.exp(z - z[idx]).sum())  # softmax(z)[idx]
            else:
                yield self.vocab.chars[idx]
            if n + 1 < length:  # the last character needs no step
                logits = self.step(state, idx)

    @staticmethod
    def _draw(logits: np.ndarray, temperature: float, top_k: int, rng: np.random.Generator) -> int:
        z, keep = top_k_logits(logits, temperature, top_k)
        p = np.exp(z - z.max())
        cdf = np.cumsum(p)
        # side="right": a zero-probability entry has cdf equal to its neighbour's and is never picked
        j = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), z.size - 1)
        return int(keep[j]) if keep is not None else j
