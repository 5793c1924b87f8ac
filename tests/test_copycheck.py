"""The memorisation check against a brute-force search, its cache, and the corpus it reads.

The check runs on the suffix array of the training text (its order and the novelty curve are tested in
test_novelty.py); spans longer than the array's sorted depth (64) are followed up in the text."""

import os
import random
import subprocess
import sys
import time

import numpy as np
import pytest

from rnntui.core.config import ConfigError
from rnntui.core.generate.copycheck import CopyIndex
from rnntui.core.generate.suffixes import DEPTH


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
        assert train.find(span) == report.corpus_at  # where the span first occurs in the training text
        assert report.corpus_line == train.count("\n", 0, report.corpus_at) + 1
    if report.longest < DEPTH:
        assert report.longest_at == (at if report.longest else 0)  # the first of the longest spans


def test_copied_text_reports_everything_and_new_text_nothing():
    rng = random.Random(0)
    train = random_text(rng, 5000, "abcdefgh \n")
    idx = CopyIndex.from_text(train, 8)
    copied = idx.check(train[1234 : 1234 + 500])
    assert copied.share == 1.0 and copied.longest == 500 and copied.corpus_at == 1234
    assert copied.spans == ((0, 500),)
    fresh = idx.check("zzzz yyyy " * 20)
    assert fresh.copied == 0 and fresh.longest == 0 and fresh.spans == ()
    assert "copied 0%" in fresh.summary() and "100%" in copied.summary()


@pytest.mark.parametrize("seed", range(6))
def test_spans_longer_than_the_sorted_depth_among_many_repeats(seed):
    # a block repeated with a few changed characters: every 64-gram of a copy occurs many times, so the
    # longest span (up to hundreds of characters) is found among many candidates, then followed in the text
    rng = random.Random(seed)
    block = random_text(rng, 150, "abc \n")
    copies = []
    for _ in range(30):
        b = list(block)
        for _ in range(rng.randint(0, 3)):
            b[rng.randrange(len(b))] = rng.choice("abc \n")
        copies.append("".join(b))
    train = "".join(copies)
    a = rng.randrange(len(train) - 400)
    gen = random_text(rng, 20, "abcz") + train[a : a + rng.randint(65, 400)] + "z" + train[a + 7 : a + 90]
    for n in (1, 8, DEPTH):
        report = CopyIndex.from_text(train, n).check(gen)
        starts, longest, _ = brute(train, gen, n)
        assert report.copied == len(starts)
        assert report.longest == longest and longest > DEPTH
        span = gen[report.longest_at : report.longest_at + report.longest]
        assert train.find(span) == report.corpus_at


def test_short_texts_and_bad_n():
    idx = CopyIndex.from_text("hello world", 8)
    assert idx.check("hello").ngrams == 0 and idx.check("").copied == 0
    assert CopyIndex.from_text("", 1).check("abc").copied == 0  # an empty training text matches nothing
    for n in (0, DEPTH + 1):  # the index measures matches up to DEPTH characters
        with pytest.raises(ConfigError, match="n-gram"):
            CopyIndex.from_text("hello", n)


def test_corpus_index_is_cached_and_rebuilt_when_the_file_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\n" * 50 + "a unique tail line\n")
    idx = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    files = sorted((tmp_path / "cache" / "copycheck").iterdir())
    assert len(files) == 2
    again = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert isinstance(again.sa, np.memmap) and np.array_equal(again.sa, idx.sa)
    assert again.check("the cat sat on the mat").share == 1.0
    assert again.check("a unique tail line").copied == 0  # the validation split is not training text
    four = CopyIndex.for_corpus(str(corpus), 0.1, 4)
    assert four.n == 4 and isinstance(four.sa, np.memmap)  # one index serves every n
    assert len(list((tmp_path / "cache" / "copycheck").iterdir())) == 2
    corpus.write_text("something else entirely\n" * 40)
    assert CopyIndex.for_corpus(str(corpus), 0.1, 8).check("the cat sat").copied == 0


def test_missing_corpus_is_a_config_error(tmp_path):
    with pytest.raises(Exception) as err:
        CopyIndex.for_corpus(str(tmp_path / "gone.txt"), 0.1, 8)
    assert "gone.txt" in str(err.value)


# -----------------------------------------------------------------------------
# the cache: keyed like the corpus cache, and never at the cost of the check


def _cache_files(tmp_path):
    return sorted((tmp_path / "cache" / "copycheck").glob("*.npy"))


@pytest.mark.parametrize("how", ["edited in place", "replaced by rename"])
def test_a_corpus_changed_with_its_size_and_mtime_kept_is_indexed_again(tmp_path, monkeypatch, how):
    # size and mtime alone missed both: an edit whose mtime is set back (touch -r, rsync -t), and a new
    # file renamed over the old one; the ctime and the inode tell them apart, as for the corpus cache
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "c.txt"
    old, new = "the cat sat on the mat\n" * 50, "a dog ran in the fog\n" * 50
    assert len(old) != len(new)
    new = (new * 2)[: len(old)]  # the same size
    corpus.write_text(old)
    st = corpus.stat()
    assert CopyIndex.for_corpus(str(corpus), 0.1, 8).check("the cat sat on the mat").share == 1.0
    if how == "edited in place":
        time.sleep(0.05)  # past the file system's timestamp tick, so the edit's ctime differs
        corpus.write_text(new)
    else:
        (tmp_path / "new.txt").write_text(new)
        os.replace(tmp_path / "new.txt", corpus)
    os.utime(corpus, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert corpus.stat().st_size == st.st_size and corpus.stat().st_mtime_ns == st.st_mtime_ns
    index = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert index.check("a dog ran in the fog").share == 1.0
    assert index.check("the cat sat on the mat").copied == 0
    assert len(_cache_files(tmp_path)) == 4  # a second entry, for the new version


def test_foreign_cache_files_are_not_used(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\n" * 50)
    want = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    sa_file = next(f for f in _cache_files(tmp_path) if f.name.endswith(".sa.npy"))
    np.save(sa_file, np.zeros(len(want.sa), np.float64))  # the right length, a foreign dtype
    again = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert again.sa.dtype == want.sa.dtype and np.array_equal(again.sa, want.sa)
    np.save(sa_file, want.sa[:-1])  # a truncated index
    assert np.array_equal(CopyIndex.for_corpus(str(corpus), 0.1, 8).sa, want.sa)
    sa_file.unlink()
    sa_file.mkdir()  # not a file at all: rebuilt in memory, the cache write warns
    assert np.array_equal(CopyIndex.for_corpus(str(corpus), 0.1, 8).sa, want.sa)


@pytest.mark.parametrize("damage", ["cut short", "zeros", "shuffled", "reversed"])
def test_a_damaged_cache_entry_is_rebuilt(tmp_path, monkeypatch, damage):
    # the right dtype and length but not this text's order: sampled pairs out of order or repeated
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "c.txt"
    corpus.write_text(random_text(random.Random(5), 20_000, "abcdefgh \n"))
    want = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    sa_file = next(f for f in _cache_files(tmp_path) if f.name.endswith(".sa.npy"))
    good = np.array(want.sa)
    if damage == "cut short":
        sa_file.write_bytes(sa_file.read_bytes()[: sa_file.stat().st_size // 2])
    else:
        bad = {
            "zeros": np.zeros_like(good),
            "shuffled": np.random.default_rng(0).permutation(good),
            "reversed": good[::-1].copy(),
        }[damage]
        np.save(sa_file, bad)
    again = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert np.array_equal(again.sa, good)
    assert np.array_equal(np.load(sa_file), good)  # and the cache entry is written again
    text = corpus.read_text()[100:400]
    assert again.check(text).share == 1.0 and again.check(text).corpus_at == 100


def test_corpora_whose_names_differ_after_a_dot_keep_their_own_index(tmp_path, monkeypatch):
    # the cache names were once made with Path.with_suffix, which cut a stem at its first dot: a.one.txt
    # and a.two.txt then shared one file, and two corpora of the same length were given each other's index
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    one, two = tmp_path / "a.one.txt", tmp_path / "a.two.txt"
    one.write_text("the cat sat on the mat\n" * 50)
    two.write_text("a dog ran in the fog!!\n" * 50)
    assert one.stat().st_size == two.stat().st_size
    assert CopyIndex.for_corpus(str(one), 0.1, 8).check("the cat sat on").share == 1.0
    assert CopyIndex.for_corpus(str(two), 0.1, 8).check("a dog ran in").share == 1.0
    assert CopyIndex.for_corpus(str(one), 0.1, 8).check("the cat sat on").share == 1.0
    assert len(_cache_files(tmp_path)) == 4


@pytest.mark.parametrize("cache", ["/dev/null/x", "a-file/x"])
def test_sample_copy_check_with_an_unusable_cache_warns_once_and_checks(checkpoint, tmp_path, cache):
    # the text is already printed when the index is built: a cache that cannot be written costs one
    # warning line (as the corpus cache's does), the check still runs, the exit status is 0
    (tmp_path / "a-file").write_text("not a folder")
    env = {**os.environ, "RNNTUI_CACHE": cache}
    r = subprocess.run(
        [sys.executable, "-m", "rnntui", "sample", str(checkpoint), "--length", "60", "--seed", "2", "--copy-check"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == 61 and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert all(x.startswith("rnntui: ") for x in lines), lines
    assert len([x for x in lines if "cannot cache the copy-check index" in x]) == 1
    assert len([x for x in lines if "copy check against" in x and "8-grams" in x]) == 1
    assert len([x for x in lines if x.startswith("rnntui: novel substrings by length: 1:")]) == 1


@pytest.mark.parametrize("n", ["0", str(DEPTH + 1)])
def test_sample_ngram_out_of_range_is_one_line_before_loading(tmp_path, n):
    r = subprocess.run(
        [sys.executable, "-m", "rnntui", "sample", str(tmp_path / "none.pt"), "--copy-check", "--ngram", n],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and f"--ngram must be 1-{DEPTH}" in r.stderr


def test_an_index_that_would_not_fit_in_memory_is_refused_in_one_line(tmp_path, monkeypatch):
    # the build's peak (4-17 bytes per character) is checked against the memory available, as corpus
    # loading checks its ids: a refusal names the corpus and the sizes, and leaves no cache file behind
    import rnntui.core.generate.copycheck as copycheck

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\n" * 50)
    monkeypatch.setattr(copycheck, "host_available_bytes", lambda: 1000)
    with pytest.raises(ConfigError) as err:
        CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert str(corpus) in str(err.value) and "GB of memory" in str(err.value) and "\n" not in str(err.value)
    assert _cache_files(tmp_path) == []
