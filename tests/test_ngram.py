"""The n-gram baselines (rnntui/core/analysis/ngram): the models against an oracle and the formulas, the
cache against damage, and the figures where a loss is read (`rnntui train`'s summary, `rnntui runs`)."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest
from helpers import ROOT, TINY, tiny_args
from hypothesis import given, settings
from hypothesis import strategies as st

from rnntui.core.analysis.ngram import baselines as bl
from rnntui.core.analysis.ngram.gain import CLASSES, char_gain, classes_of, gain_by_class, gain_sentence
from rnntui.core.analysis.ngram.model import MAX_ORDER, fit, unigram_log_probs, unigram_loss
from rnntui.core.data.corpus import corpus_fingerprint, corpus_from_text, load_corpus
from rnntui.core.units import format_count

SMALL = [*tiny_args(seq_len=40), "--no-bf16", "--eval-every", "0", "--val-chars", "2000"]


# -----------------------------------------------------------------------------
# an oracle: text from a known order-2 Markov source, whose entropy rate is computed exactly


def markov_source(V: int, seed: int) -> tuple[np.ndarray, float, np.ndarray]:
    """(T (V, V, V) with T[a, b, c] = P(c | a b), the entropy rate in nats/char, the stationary
    distribution over the pairs (a, b) as (V*V,))."""
    rng = np.random.default_rng(seed)
    T = rng.dirichlet(np.full(V, 0.4), size=(V, V))  # peaked rows: an entropy rate well below ln V
    P = np.zeros((V * V, V * V))  # the chain on pairs: (a, b) -> (b, c)
    for a in range(V):
        for b in range(V):
            P[a * V + b, b * V : (b + 1) * V] = T[a, b]
    w, v = np.linalg.eig(P.T)
    pi = np.real(v[:, np.argmin(np.abs(w - 1))])
    pi /= pi.sum()
    H = float(-(pi.reshape(V, V)[:, :, None] * T * np.log(T)).sum())
    return T, H, pi


def markov_text(T: np.ndarray, pi: np.ndarray, chains: int, length: int, seed: int) -> np.ndarray:
    """(chains, length) ids: independent chains started from the stationary distribution, all stepped at once."""
    V = T.shape[0]
    rng = np.random.default_rng(seed)
    x = np.zeros((chains, length), np.int64)
    pair = rng.choice(V * V, size=chains, p=pi)
    x[:, 0], x[:, 1] = pair // V, pair % V
    cum = np.cumsum(T, axis=2)  # (V, V, V)
    for t in range(2, length):
        u = rng.random(chains)[:, None]
        x[:, t] = np.minimum((u > cum[x[:, t - 2], x[:, t - 1]]).sum(axis=1), V - 1)
    return x


def test_order_3_ngram_reaches_the_entropy_rate_of_an_order_2_markov_source():
    V = 6
    T, H, pi = markov_source(V, seed=0)
    train = markov_text(T, pi, chains=1000, length=300, seed=1)  # 300k characters in 1,000 pieces
    val = markov_text(T, pi, chains=50, length=2000, seed=2)  # 100k characters, scored with full context
    model = fit(train.reshape(-1), V, order=4, bounds=np.arange(0, train.size + 1, train.shape[1]))
    scored = np.ones(val.shape, bool)
    scored[:, :2] = False  # the first two characters of each piece have less than the source's context
    ce = model.cross_entropies(val.reshape(-1), np.arange(0, val.size + 1, val.shape[1]), scored.reshape(-1))
    assert H < math.log(V) - 0.3  # the source is far from uniform: the test can tell the orders apart
    assert abs(ce[3] - H) < 0.02, (ce, H)  # two characters of context: all the source has
    assert abs(ce[4] - H) < 0.02  # one more character adds nothing (and smoothing costs little)
    assert ce[2] > H + 0.1  # one character of context is not enough


# -----------------------------------------------------------------------------
# the formulas: a slow reference from Chen & Goodman's definitions, with dicts and loops


def reference_discounts(counts: list[int]) -> list[float]:
    """[0, D1, D2, D3+]: Y = n1 / (n1 + 2 n2), D_r = r - (r + 1) Y n_{r+1} / n_r, in [0.05, r] (r/2 if undefined)."""
    n = {r: sum(1 for c in counts if c == r) for r in (1, 2, 3, 4)}
    out = [0.0]
    for r in (1, 2, 3):
        try:
            d = r - (r + 1) * (n[1] / (n[1] + 2 * n[2])) * n[r + 1] / n[r]
        except ZeroDivisionError:
            d = r / 2
        out.append(min(max(d, 0.05), r))
    return out


def reference_kn(pieces: list[list[int]], V: int, order: int):
    """P(w | ctx) for interpolated modified Kneser-Ney, spelled out as the paper writes it; no k-gram is
    counted across two pieces."""
    raw = {k: Counter(tuple(t[i : i + k]) for t in pieces for i in range(len(t) - k + 1)) for k in range(1, order + 1)}
    cont = {}
    for k in range(1, order):
        left = defaultdict(set)
        for g in raw[k + 1]:
            left[g[1:]].add(g[0])
        cont[k] = Counter({g: len(s) for g, s in left.items()})

    def table(counts):
        d = reference_discounts(list(counts.values()))
        tot, gam = Counter(), Counter()
        for g, c in counts.items():
            tot[g[:-1]] += c
            gam[g[:-1]] += d[min(c, 3)]
        return counts, tot, gam, d

    tabs = {("raw", k): table(raw[k]) for k in range(2, order + 1)}
    tabs.update({("cont", k): table(cont[k]) for k in range(1, order)})

    def prob(ctx: list[int], w: int) -> float:
        p = 1.0 / V
        for k in range(1, order + 1):
            h = tuple(ctx[len(ctx) - (k - 1) :]) if k > 1 else ()
            if len(h) < k - 1:
                break
            counts, tot, gam, d = tabs[("raw" if k == order else "cont", k)]
            if tot[h] > 0:
                c = counts[h + (w,)]
                p = (c - d[min(c, 3)] + gam[h] * p) / tot[h]
        return p

    return prob


@pytest.mark.parametrize("cuts", [(), (400, 401, 900)])
def test_vectorised_model_matches_the_reference_character_for_character(cuts):
    text = Path(TINY).read_text(encoding="utf-8")
    chars = sorted(set(text)) + ["#", "@"]  # two characters the text never holds: still finite
    ids = np.array([chars.index(c) for c in text])
    train, val = ids[:1500], np.append(ids[1500:], [len(chars) - 1, len(chars) - 2, 3])
    bounds = np.array([0, *cuts, len(train)])  # pieces, one of a single character: nothing counted across
    model = fit(train, len(chars), order=5, bounds=bounds)
    for order in (2, 3, 5):
        prob = reference_kn([list(train[a:b]) for a, b in zip(bounds, bounds[1:])], len(chars), order)
        want = np.log([prob(list(val[max(0, i - order + 1) : i]), int(val[i])) for i in range(len(val))])
        got = model.log_probs(val, order)
        assert np.isfinite(got).all() and np.allclose(got, want, rtol=0, atol=1e-12)


def test_grouping_by_one_sort_matches_numpy_unique_on_both_paths():
    from rnntui.core.analysis.ngram.model import _group

    key = np.random.default_rng(0).integers(0, 50, size=1000)
    want_uniq, want_inv, want_counts = np.unique(key, return_inverse=True, return_counts=True)
    for bound in (50, 1 << 62):  # key and position packed in one int64; too wide for that: an argsort
        uniq, rank, counts, one = _group(key.copy(), bound)
        assert (uniq == want_uniq).all() and (rank == want_inv).all() and (counts == want_counts).all()
        assert (key[one] == uniq).all()


def test_a_vocabulary_over_256_characters_uses_wide_ids():
    rng = np.random.default_rng(3)
    text = "".join(chr(0x400 + int(i)) for i in rng.integers(0, 300, size=3000) // 3 * 3)  # 100 of 300 used
    corpus = corpus_from_text("wide", text + "".join(chr(0x400 + i) for i in range(300)), val_frac=0.1)
    assert len(corpus.vocab) == 300 and corpus.data.dtype == np.int32
    model = bl.fit_corpus(corpus)
    prob = reference_kn([list(corpus.train.astype(int))], 300, 3)
    val = corpus.val.astype(np.int64)
    want = np.log([prob(list(val[max(0, i - 2) : i]), int(val[i])) for i in range(len(val))])
    assert np.allclose(model.log_probs(val, 3), want, rtol=0, atol=1e-12)


@settings(max_examples=40, deadline=None)
@given(V=st.integers(2, 7), data=st.data())
def test_kn_probabilities_sum_to_one_over_the_vocabulary(V, data):
    train = data.draw(st.lists(st.integers(0, V - 2), min_size=1, max_size=300))  # V-1: one never seen
    ctx = data.draw(st.lists(st.integers(0, V - 1), max_size=MAX_ORDER + 1))
    model = fit(np.array(train), V, order=MAX_ORDER)
    for order in range(2, MAX_ORDER + 1):
        p = [math.exp(model.log_probs(np.array(ctx + [w]), order)[-1]) for w in range(V)]
        assert min(p) > 0 and sum(p) == pytest.approx(1.0, abs=1e-12)


def test_a_character_outside_the_vocabulary_scores_nan_and_breaks_context():
    model = fit(np.array([0, 1, 2, 0, 1, 2, 0, 1, 2]), 3, order=3)
    lp = model.log_probs(np.array([0, 1, 7, 0, 1]))
    assert np.isnan(lp[2]) and np.isfinite(np.delete(lp, 2)).all()
    assert lp[4] == model.log_probs(np.array([0, 1]))[1]  # context resumes after the unknown one: just "0"


def test_a_text_is_scored_through_the_vocabulary():
    model = fit(np.array([0, 1, 2, 0, 1, 2, 0, 1, 2]), 3, order=3)
    lp = model.text_log_probs("abc", "ab?ab")  # "?" is not in the vocabulary
    assert np.isnan(lp[2]) and np.array_equal(
        np.delete(lp, 2), np.delete(model.log_probs(np.array([0, 1, -1, 0, 1])), 2)
    )
    assert len(model.text_log_probs("abc", "")) == 0


def test_uniform_and_unigram_against_a_hand_count():
    # train "aab", vocab {a, b, c}: add-one gives a 3/6, b 2/6, c 1/6
    assert np.allclose(np.exp(unigram_log_probs(np.array([0, 0, 1]), 3)), [3 / 6, 2 / 6, 1 / 6])
    assert unigram_loss(np.array([0, 0, 1]), np.array([0, 2]), 3) == pytest.approx(
        -(math.log(3 / 6) + math.log(1 / 6)) / 2
    )
    # through compute(): 16 training characters "abab...", validation "aacab" (val_frac 0.25 of 20 -> 5)
    corpus = corpus_from_text("hand", "ab" * 8 + "aacab"[:4], val_frac=0.2)
    assert (len(corpus.train), len(corpus.val)) == (16, 4)
    b = bl.compute(corpus, corpus_fingerprint(corpus))
    V = 3  # a, b, c
    p = {"a": (8 + 1) / (16 + V), "b": (8 + 1) / (16 + V), "c": (0 + 1) / (16 + V)}
    assert b.uniform == math.log(3)
    assert b.unigram == pytest.approx(-sum(math.log(p[c]) for c in "aaca") / 4)
    assert (b.train_chars, b.fit_chars, b.val_chars, b.eval_chars, b.sampled) == (16, 16, 4, 4, False)
    assert [o for o, _ in b.ngram] == [2, 3, 4, 5, 6] and all(math.isfinite(v) for _, v in b.ngram)


def test_large_splits_are_sampled_and_the_result_says_so():
    corpus = load_corpus("brackets", 0.1)
    b = bl.compute(corpus, corpus_fingerprint(corpus), fit_bound=20_000, eval_bound=3_000)
    assert b.sampled and b.fit_chars == 20_000 // bl.CHUNKS * bl.CHUNKS and b.train_chars == len(corpus.train)
    assert b.eval_chars == 3_000 // bl.CHUNKS * bl.CHUNKS and b.val_chars == len(corpus.val)
    assert f"fitted on {format_count(b.fit_chars)} of {format_count(b.train_chars)} training chars" in bl.gain_line(
        b, 1.0
    )
    spans = bl.spread(1000, 100, pieces=4)
    assert spans == [(0, 25), (325, 350), (650, 675), (975, 1000)] and bl.spread(50, 100) == [(0, 50)]


# -----------------------------------------------------------------------------
# where the network beats counting


def test_gain_by_class_summarises_by_kind_of_character():
    text = 'ab (1) "x"\n'
    assert [CLASSES[k] for k in classes_of(text)] == [
        "letters",
        "letters",
        "whitespace",
        "brackets and quotes",
        "digits",
        "brackets and quotes",
        "whitespace",
        "brackets and quotes",
        "letters",
        "brackets and quotes",
        "whitespace",
    ]
    model = np.full(len(text), -1.0)
    model[0] = np.nan  # the inspector has no prediction for the first character
    ngram = np.full(len(text), -1.5)
    ngram[[3, 5, 7, 9]] = -3.0  # the network is 2 nats better on the brackets and quotes
    rows = {r.name: r for r in gain_by_class(model, ngram, text)}
    assert rows["brackets and quotes"].chars == 4 and rows["brackets and quotes"].gain == pytest.approx(2.0)
    assert rows["letters"].chars == 2 and rows["letters"].gain == pytest.approx(0.5)  # t=0 left out
    assert rows["digits"].total == pytest.approx(0.5) and "punctuation" not in rows
    assert np.isnan(char_gain(model, ngram)[0])
    assert gain_sentence(list(rows.values()), "5-gram", min_chars=1) == (
        "The network's gain over the 5-gram is largest on brackets and quotes (+2.00 nats/char) and letters (+0.50)."
    )
    with pytest.raises(ValueError):
        gain_by_class(model[:3], ngram[:3], text)


# -----------------------------------------------------------------------------
# the cache


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_cache_round_trip_and_damaged_entries_are_rebuilt(cache, capsys):
    corpus = load_corpus(TINY, 0.1)
    fp = corpus_fingerprint(corpus)
    assert bl.cached(fp, 0.1) is None
    b = bl.baselines_for(corpus)
    path = bl.entry(fp, 0.1)
    assert path.is_file() and bl.cached(fp, 0.1) == b and bl.baselines_for(corpus) == b
    assert bl.cached(fp, 0.2) is None and bl.cached("../../etc", 0.1) is None  # other split; not a fingerprint
    good = path.read_text()
    loss = f"{b.ngram[0][1]!r}"
    damaged = [
        good[: len(good) // 2],
        "",
        "[]",
        good.replace(loss, repr(b.ngram[0][1] + 0.5)),  # CRC fails
        good.replace('"format": 1', '"format": 0'),
        "\x00" * 10,
    ]
    for text in damaged:
        path.write_text(text)
        assert bl.cached(fp, 0.1) is None, text[:40]
        assert bl.baselines_for(corpus).ngram == b.ngram  # recomputed, never read
        assert json.loads(path.read_text())["crc32"] and bl.cached(fp, 0.1) is not None  # and rewritten
    path.unlink()
    os.mkfifo(path)  # a FIFO where the entry should be: refused at once, never blocked on
    assert bl.cached(fp, 0.1) is None
    assert bl.baselines_for(corpus).ngram == b.ngram  # computed; the FIFO is replaced by the entry
    assert capsys.readouterr().err == ""


def test_an_unusable_cache_folder_costs_one_warning_line(tmp_path, monkeypatch, capsys):
    corpus = load_corpus(TINY, 0.1)  # encoded while the cache still works
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("RNNTUI_CACHE", str(blocker))
    first, second = bl.baselines_for(corpus), bl.baselines_for(corpus)
    assert first.ngram == second.ngram
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("rnntui: warning: cannot cache the n-gram baselines")


# -----------------------------------------------------------------------------
# where a loss is read: the real command line on the tiny corpus


def _cli(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "RNNTUI_CACHE": str(cache)}
    return subprocess.run([sys.executable, "-m", "rnntui", *args], capture_output=True, text=True, env=env, timeout=300)


def test_train_summary_and_runs_json_read_the_loss_against_the_ngrams(tmp_path, monkeypatch):
    out, cache = tmp_path / "runs", tmp_path / "cache"
    r = _cli("train", TINY, "--steps", "5", "--out-dir", str(out), *SMALL, cache=cache)
    assert r.returncode == 0, r.stderr[-2000:]
    val = float(re.search(r"^val loss +([0-9.]+) nats/char", r.stdout, re.M).group(1))
    line = re.search(r"^vs best n-gram \(([2-6])-gram ([0-9.]+)\): ([+-][0-9.]+) nats/char$", r.stdout, re.M)
    assert line, r.stdout
    order, best, gain = int(line.group(1)), float(line.group(2)), float(line.group(3))
    assert gain == pytest.approx(val - best, abs=0.011)
    assert re.search(r"^baselines \(nats/char\): uniform [0-9.]+, unigram [0-9.]+, 2-gram", r.stdout, re.M)
    # runs --json reads them from the cache the train command filled
    rows = json.loads(_cli("runs", str(out), "--json", cache=cache).stdout)
    assert rows[0]["ngram_order"] == order and rows[0]["ngram_val_loss"] == pytest.approx(best, abs=0.005)
    assert rows[0]["unigram_val_loss"] > rows[0]["ngram_val_loss"]
    table = _cli("runs", str(out), cache=cache).stdout.splitlines()
    assert "vs n-gram" in table[0] and f"{rows[0]['best_val_loss'] - rows[0]['ngram_val_loss']:+.2f}" in table[1]
    # another cache folder holds none: null, and `runs` never computes them; filled once computed there
    empty = tmp_path / "empty"
    rows = json.loads(_cli("runs", str(out), "--json", cache=empty).stdout)
    assert (rows[0]["ngram_order"], rows[0]["ngram_val_loss"], rows[0]["unigram_val_loss"]) == (None, None, None)
    assert not (empty / "corpora").exists()
    monkeypatch.setenv("RNNTUI_CACHE", str(empty))
    b = bl.baselines_for(load_corpus(TINY, 0.1))  # as the app's worker would, found by the run's fingerprint
    rows = json.loads(_cli("runs", str(out), "--json", cache=empty).stdout)
    assert (rows[0]["ngram_order"], rows[0]["ngram_val_loss"], rows[0]["unigram_val_loss"]) == (*b.best, b.unigram)
