"""One set of generation settings: what `rnntui sample`, the generation panel and its thread workers all
mean by "generate this way", with the ranges checked in one place.

    s = GenerationSettings(prime="ROMEO:", temperature=0.8, top_k=40, length=300, seed=1)
    s.validate()                                    # ConfigError: one line naming the setting
    sampler.stream(s.prime, s.temperature, s.top_k, s.length, s.seed, s.argmax)
    beam_search(sampler, s.prime, s.beam_width, s.length, s.length_norm, s.beam_stop)

Which decoder runs (sampling, step mode or beam search) is the caller's choice, not a setting: the command
line's --beam N, the panel's Generate / Step / Beam. So a panel can keep a beam width and a stop text while
it samples. Stdlib only: the CLI checks its flags with this before loading anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnntui.core.config import ConfigError

MAX_BEAM_WIDTH = 32  # beams searched at most (each is one row of a batched step)
MAX_SEED = 2**63  # np.random.default_rng takes any seed >= 0; `rnntui sample --seed` has always taken up to 2**63
# the copy check's index measures matches up to this many characters: the largest n of its n-grams and the
# novelty curve's longest length (kept here, not in suffixes.py, so that the CLI reads it without numpy)
MATCH_DEPTH = 64


@dataclass(frozen=True)
class GenerationSettings:
    prime: str = ""  # seed text the model reads first; characters outside its vocabulary are skipped
    temperature: float = 1.0  # > 0: the logits are divided by it (lower: safer and more repetitive)
    top_k: int = 0  # draw among the k likeliest characters (0: all of them)
    length: int = 500  # characters to generate after the prime
    seed: int | None = None  # RNG seed: the same seed and settings repeat a text (None: a fresh one each time)
    argmax: bool = False  # sampling: always take the likeliest character (temperature and top-k ignored)
    beam_width: int = 8  # beam search: beams kept at each step (1 is greedy)
    length_norm: bool = False  # beam search: rank ended beams by log-probability per character
    beam_stop: str = ""  # beam search: a beam ends when it writes this text ("": beams run to the length)

    def validate(self) -> None:
        """Raise ConfigError, in one line naming the setting as the command line spells it, for a value out
        of range. Which settings apply together (argmax or beam search) is for the caller to say."""
        check_temperature(self.temperature)
        check_top_k(self.top_k)
        check_length(self.length)
        if self.seed is not None and not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be 0 to 2**63, not {self.seed}")
        if not 1 <= self.beam_width <= MAX_BEAM_WIDTH:
            raise ConfigError(f"beam must be 1 to {MAX_BEAM_WIDTH}, not {self.beam_width}")


# -----------------------------------------------------------------------------
# the checks the sampler and step mode make too (they may be called without a GenerationSettings)


def check_temperature(temperature: float) -> None:
    if not (temperature > 0 and math.isfinite(temperature)):
        raise ConfigError(f"temperature must be a finite number > 0, not {temperature}")


def check_top_k(top_k: int) -> None:
    if top_k < 0:
        raise ConfigError(f"top-k must be >= 0 (0: all characters), not {top_k}")


def check_length(length: int) -> None:
    if length < 0:
        raise ConfigError(f"length must be >= 0, not {length}")
