"""The novelty curve and the suffix array under it, against brute force: Python's `in` over the training
text for every substring, and sorted() over every suffix."""

import os
import random
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntui.core.data.corpus import Vocab, load_corpus
from rnntui.core.generate import suffixes
from rnntui.core.generate.copycheck import CopyIndex
from rnntui.core.generate.novelty import MAX_LENGTH, SHOWN, NoveltyCurve, novelty_curve, percent
from rnntui.core.generate.suffixes import DEPTH, match_lengths, prefix_doubling


def brute_curve(train: str, gen: str, top: int = MAX_LENGTH) -> tuple[list[int], list[int]]:
    """torch-rnn's novel_substrings.py, counted: every substring of every length, looked up with `in`."""
    substrings, novel = [], []
    for L in range(1, top + 1):
        subs = [gen[i : i + L] for i in range(len(gen) - L + 1)]
        substrings.append(len(subs))
        novel.append(sum(s not in train for s in subs))
    return substrings, novel


def random_text(rng: random.Random, size: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(size))


@pytest.fixture(params=["numpy", "libdivsufsort"])
def builder(request, monkeypatch):
    """Each test once with the numpy builder and once with libdivsufsort (when the extra is installed)."""
    if request.param == "numpy":
        monkeypatch.setattr(suffixes, "libdivsufsort", lambda: None)
    else:
        pytest.importorskip("pydivsufsort")
    return request.param


def ids_of(text: str) -> np.ndarray:
    return Vocab.from_text(text).encode(text) if text else np.zeros(0, np.uint8)


# -----------------------------------------------------------------------------
# the suffix array's order


@pytest.mark.parametrize("seed", range(40))
def test_suffix_order_matches_sorted_suffixes(seed, monkeypatch):
    rng = random.Random(seed)
    alphabet = ["a", "ab", "abc", "abcdefgh \n", "ab" * 3 + "c"][seed % 5]
    text = random_text(rng, rng.randint(0, 400), alphabet)
    if seed % 4 == 0:  # long repeats: ties past the sorted depth
        text = (text[:70] or "x") * rng.randint(2, 6) + text
    monkeypatch.setattr(suffixes, "WINDOW", [3, 17, 1 << 22][seed % 3])  # windows that cut through groups
    depth = [DEPTH, 8, 3, 1][seed % 4]
    sa = prefix_doubling(ids_of(text), depth)
    assert sorted(sa.tolist()) == list(range(len(text)))  # a permutation of the positions
    assert [text[p : p + depth] for p in sa] == sorted(text[p : p + depth] for p in range(len(text)))


def test_suffix_order_beyond_256_characters(builder):
    # int32 ids: libdivsufsort's bindings take bytes, so the numpy builder serves these corpora
    rng = random.Random(1)
    text = random_text(rng, 3000, "".join(chr(0x4E00 + k) for k in range(300)) + "ab")
    ids = ids_of(text)
    assert ids.dtype == np.int32
    sa = suffixes.suffix_array(ids)
    assert [text[p : p + DEPTH] for p in sa] == sorted(text[p : p + DEPTH] for p in range(len(text)))


def test_libdivsufsort_gives_the_complete_order():
    pytest.importorskip("pydivsufsort")
    rng = random.Random(2)
    for size in (1, 2, 50, 700):
        text = random_text(rng, size, "ab\n")
        assert [text[p:] for p in suffixes.suffix_array(ids_of(text))] == sorted(text[p:] for p in range(size))


# -----------------------------------------------------------------------------
# the longest matches and the curve, against brute force


@pytest.mark.parametrize("seed", range(16))
def test_match_lengths_and_curve_match_brute_force(seed, builder):
    rng = random.Random(seed)
    alphabet = "ab\n" if seed % 2 else "abcde \n"
    train = random_text(rng, rng.randint(1, 500), alphabet)
    pieces = [random_text(rng, rng.randint(0, 6), alphabet + "z")]  # z: a character the corpus lacks
    for _ in range(rng.randint(0, 4)):  # copied stretches, some longer than the sorted depth
        a = rng.randrange(len(train))
        pieces.append(train[a : a + rng.randint(1, 100)])
        pieces.append(random_text(rng, rng.randint(0, 8), alphabet + "z"))
    gen = "".join(pieces)
    index = CopyIndex.from_text(train, 1)
    m, at, p = match_lengths(index.train, index.sa, index.encode(gen))
    for i in range(len(gen)):
        longest = 0
        while longest < DEPTH and i + longest < len(gen) and gen[i : i + longest + 1] in train:
            longest += 1
        assert m[i] == longest
        assert train[at[i] : at[i] + longest] == gen[i : i + longest]  # the position found is a real match
        below = [q for q in range(len(train)) if train[q : q + DEPTH] < gen[i : i + DEPTH]]
        assert p[i] == len(below)  # the insertion point: the suffixes sorting before the 64 characters
    curve = index.novelty(gen)
    assert (list(curve.substrings), list(curve.novel)) == brute_curve(train, gen)
    assert index.check(gen).novelty == curve  # the copy check carries the same curve


@settings(max_examples=150, deadline=None)
@given(train=st.text(alphabet="ab\nc", max_size=120), gen=st.text(alphabet="ab\ncz", max_size=80))
def test_curve_property(train, gen):
    curve = CopyIndex.from_text(train, 1).novelty(gen)
    assert (list(curve.substrings), list(curve.novel)) == brute_curve(train, gen)
    assert [L for L, _ in curve.points()] == list(range(1, min(len(gen), MAX_LENGTH) + 1))
    half = next((L for L, f in curve.points() if f >= 0.5), None)
    assert curve.half == half


@settings(max_examples=150, deadline=None)
@given(
    base=st.text(alphabet="ab\nc", min_size=1, max_size=40),
    reps=st.integers(1, 6),
    pieces=st.lists(
        st.one_of(st.text(alphabet="ab\ncz", max_size=30), st.tuples(st.integers(0, 240), st.integers(1, 150))),
        max_size=12,
    ),
)
def test_running_curve_equals_the_curve_of_the_whole_text(base, reps, pieces):
    # the live chart's curve, extended chunk by chunk (copied stretches longer than 64 cut anywhere), is
    # at every step the curve of the whole text so far
    train = base * reps  # long repeats: matches that reach the depth and run across chunk boundaries
    index = CopyIndex.from_text(train, 1)
    running, text = index.running_novelty(), ""
    for piece in pieces:
        piece = piece if isinstance(piece, str) else train[piece[0] : piece[0] + piece[1]]
        text += piece
        assert running.extend(piece) == index.novelty(text)
    assert running.text == text and running.extend("") == index.novelty(text)


def test_running_curve_at_every_cut_of_a_long_copy():
    # a copied stretch of 150 characters cut in two at every place: the starts whose match ran into the old
    # end (up to 63 characters back) must be searched again, and no more is needed
    train = random_text(random.Random(4), 400, "abcdefghij \n")
    index = CopyIndex.from_text(train, 1)
    gen = train[:150] + "z" + train[200:260]
    for cut in range(1, len(gen)):
        running = index.running_novelty()
        running.extend(gen[:cut])
        assert running.extend(gen[cut:]) == index.novelty(gen), cut


# -----------------------------------------------------------------------------
# edge cases and the summary line


def test_empty_generation_unknown_characters_and_lengths_beyond_the_text():
    index = CopyIndex.from_text("the cat sat on the mat\n" * 20)
    empty = index.novelty("")
    assert empty.substrings == (0,) * MAX_LENGTH and empty.novel == (0,) * MAX_LENGTH
    assert empty.points() == () and empty.half is None and empty.fraction(1) is None
    assert empty.summary() == "novel substrings: no generated text to measure"
    alien = index.novelty("zzq€")  # no character of it is in the corpus
    assert alien.points() == ((1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0)) and alien.half == 1
    short = index.novelty("cat")
    assert short.fraction(1) == 0.0 and short.fraction(3) == 0.0
    assert short.fraction(4) is None and short.fraction(0) is None and short.fraction(MAX_LENGTH + 1) is None
    assert short.half is None and "fewer than half are novel at every length up to 3" in short.summary()
    assert CopyIndex.from_text("", 1).novelty("abc").points() == ((1, 1.0), (2, 1.0), (3, 1.0))


def test_summary_line_and_percentages():
    m = np.array([3, 2, 1, 0] * 50)  # matches of 3 characters at most
    curve = novelty_curve(m)
    assert curve.fraction(4) == 1.0 and curve.half == 3  # 99 of the 199 2-grams: just under half
    line = curve.summary()
    assert line.startswith("novel substrings by length: 1:25% 2:50% 3:75% 5:100%")
    assert line.endswith("; half are novel from length 3")
    assert [int(x) for x in re.findall(r"(\d+):", line)] == [L for L in SHOWN if L <= len(m)]
    assert (percent(0.0), percent(0.001), percent(0.5), percent(0.999), percent(1.0)) == (
        "0%",
        "<1%",
        "50%",
        ">99%",
        "100%",
    )
    assert NoveltyCurve((2, 1), (0, 1)).points() == ((1, 0.0), (2, 1.0))


# -----------------------------------------------------------------------------
# the cache and the command line


def test_cache_round_trip_and_a_damaged_entry(tmp_path, monkeypatch, builder):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    corpus = tmp_path / "c.txt"
    rng = random.Random(3)
    corpus.write_text(random_text(rng, 30_000, "abcdefgh \n"))
    text = corpus.read_text()
    gen = text[500:700] + random_text(rng, 200, "abcdefghz \n")
    first = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    want = brute_curve(text[: len(text) - 3000], gen, 20)
    assert [list(x[:20]) for x in (first.novelty(gen).substrings, first.novelty(gen).novel)] == list(want)
    (sa_file,) = (tmp_path / "cache" / "copycheck").glob("*.sa.npy")
    again = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert isinstance(again.sa, np.memmap) and again.novelty(gen) == first.novelty(gen)
    raw = bytearray(sa_file.read_bytes())
    raw[len(raw) // 2 : len(raw) // 2 + 4000] = os.urandom(4000)  # a damaged entry: a run of random bytes
    sa_file.write_bytes(bytes(raw))
    rebuilt = CopyIndex.for_corpus(str(corpus), 0.1, 8)
    assert not isinstance(rebuilt.sa, np.memmap) and rebuilt.novelty(gen) == first.novelty(gen)
    assert np.array_equal(np.load(sa_file), np.asarray(first.sa))


def test_sample_copy_check_prints_the_curve_and_leaves_stdout_alone(checkpoint, tmp_path):
    import torch

    env = {**os.environ, "RNNTUI_CACHE": str(tmp_path / "cache")}
    args = [sys.executable, "-m", "rnntui", "sample", str(checkpoint), "--length", "80", "--seed", "3"]
    plain = subprocess.run(args, capture_output=True, timeout=120, env=env)
    r = subprocess.run([*args, "--copy-check"], capture_output=True, timeout=120, env=env)
    assert r.returncode == 0 and plain.returncode == 0, r.stderr
    assert r.stdout == plain.stdout  # the text alone, byte for byte
    lines = r.stderr.decode().splitlines()
    assert len(lines) == 2 and lines[0].startswith("rnntui: copy check against ")  # the curve comes after
    assert lines[1].startswith("rnntui: novel substrings by length: 1:")
    # the printed shares, against brute force over the checkpoint's training split
    cfg = torch.load(checkpoint, weights_only=False)["config"]
    corpus = load_corpus(cfg["corpus"], cfg.get("val_frac", 0.1))
    train = corpus.vocab.decode(corpus.train)
    gen = r.stdout.decode()[:-1]  # the text, less the newline the command ends it with
    substrings, novel = brute_curve(train, gen)
    printed = dict(re.findall(r"(\d+):(\S+?%)", lines[1]))
    assert printed == {str(L): percent(novel[L - 1] / substrings[L - 1]) for L in SHOWN if L <= len(gen)}
    half = next((L for L in range(1, len(gen) + 1) if novel[L - 1] * 2 >= substrings[L - 1]), None)
    assert lines[1].endswith(f"half are novel from length {half}" if half else f"up to {min(len(gen), MAX_LENGTH)}")
