"""The memorisation check against a brute-force search, its cache, and the corpus it reads."""
import random

import numpy as np
import pytest

from rnntui.core.config import ConfigError
from rnntui.core.copycheck import CopyIndex, build_keys, ngram_hashes


def brute(train: str, gen: str, n: int):
    """Every n-gram and every substring checked with `in`: slow, obviously right."""
    starts = [i for i in range(len(gen) - n + 1) if gen[i : i + n] in train]
    longest, at = 0, 0
    for i in range(len(gen)):
        for j in range(len(gen), i + max(n, longest + 1) - 1, -1):
            if gen[i:j] in train:
                if j - i > longest:
                    longest, at = j - i, i
                break
    return starts, longest, at


def random_text(rng: random.Random, size: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("n", [1, 3, 5, 8])
def test_matches_brute_force(seed, n):
    rng = random.Random(seed * 31 + n)
    alphabet = "ab\n" if seed % 3 == 0 else "abcde \n"
    train = random_text(rng, rng.randint(50, 400), alphabet)
    pieces = [random_text(rng, rng.randint(1, 6), alphabet + "z")]  # z: a character the corpus lacks
    for _ in range(rng.randint(0, 4)):  # splice in copied stretches
        a = rng.randrange(len(train))
        pieces.append(train[a : a + rng.randint(1, 30)])
        pieces.append(random_text(rng, rng.randint(0, 8), alphabet + "z"))
    gen = "".join(pieces)
    report = CopyIndex.from_text(train, n).check(gen)
    starts, longest, at = brute(train, gen, n)
    assert report.ngrams == max(0, len(gen) - n + 1)
    assert report.copied == len(starts)
    covered = {i for a, b in report.spans for i in range(a, b - n + 1)}
    assert covered == set(starts)
    assert report.longest == (longest if longest >= n else 0)
    if report.longest:
        span = gen[report.longest_at : report.longest_at + report.longest]
        assert train[report.corpus_at : report.corpus_at + report.longest] == span
        assert report.corpus_line == train.count("\n", 0, report.corpus_at) + 1


def test_copied_text_reports_everything_and_new_text_nothing():
    rng = random.Random(0)
    train = random_text(rng, 5000, "abcdefgh \n")
    idx = CopyIndex.from_text(train, 8)
    copied = idx.check(train[1234:1234 + 500])
    assert copied.share == 1.0 and copied.longest == 500 and copied.corpus_at == 1234
    assert copied.spans == ((0, 500),)
    fresh = idx.check("zzzz yyyy " * 20)
    assert fresh.copied == 0 and fresh.longest == 0 and fresh.spans == ()
    assert "copied 0%" in fresh.summary() and "100%" in copied.summary()


def test_hash_collisions_are_verified_away():
    # with almost every bit of the hash given to positions, different n-grams share key ranges
    rng = random.Random(3)
    train = random_text(rng, 3000, "abcd")
    idx = CopyIndex.from_text(train, 6)
    idx.bits = np.uint64(60)
    idx.keys = np.sort((ngram_hashes(idx.train, 6) >> idx.bits << idx.bits) | np.arange(len(train) - 5, dtype=np.uint64))
    gen = random_text(random.Random(4), 300, "abcd")
    starts, longest, _ = brute(train, gen, 6)
    report = idx.check(gen)
    assert report.copied == len(starts) and report.longest == longest


def test_short_texts_and_bad_n():
    idx = CopyIndex.from_text("hello world", 8)
    assert idx.check("hello").ngrams == 0 and idx.check("").copied == 0
    assert len(build_keys(np.zeros(3, np.uint8), 8)) == 0
    with pytest.raises(ConfigError, match="n-gram"):
        CopyIndex.from_text("hello", 0)


def test_corpus_index_is_cached_and_rebuilt_when_the_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\n" * 50 + "a unique tail line\n")
    idx = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    files = sorted((tmp_path / "cache" / "copycheck").iterdir())
    assert len(files) == 2
    again = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert isinstance(again.keys, np.memmap) and np.array_equal(again.keys, idx.keys)
    assert again.check("the cat sat on the mat").share == 1.0
    assert again.check("a unique tail line").copied == 0  # the validation split is not training text
    CopyIndex.for_corpus(str(corpus), 0.1, 4)
    assert len(list((tmp_path / "cache" / "copycheck").iterdir())) == 4  # n is part of the key
    corpus.write_text("something else entirely\n" * 40)
    assert CopyIndex.for_corpus(str(corpus), 0.1, 8).check("the cat sat").copied == 0


def test_missing_corpus_is_a_config_error(tmp_path):
    with pytest.raises(Exception) as err:
        CopyIndex.for_corpus(str(tmp_path / "gone.txt"), 0.1, 8)
    assert "gone.txt" in str(err.value)
