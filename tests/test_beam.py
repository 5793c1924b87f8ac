"""Beam search: width 1 is greedy, every score is the text's log-probability under the model, and the
linear search (back-pointers) returns exactly what the quadratic one it replaced returned."""

import math
import os
import pty
import random
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from test_sampling import VOCAB, make_model

from rnntui.core.config import ConfigError
from rnntui.core.data.corpus import Vocab
from rnntui.core.generate.beam import Beam, StopMatcher, beam_search, check_width, log_softmax, top_k
from rnntui.core.generate.sampling import Sampler

# -----------------------------------------------------------------------------
# the oracle: the search as it was before it kept back-pointers (every step copied every beam's text and
# per-character log-probs: quadratic in the length, but obviously right), kept verbatim to compare against


def old_beam_search(sampler, prime="", width=8, length=200, length_norm=False, stop="", cancel=None):
    check_width(width)
    if length < 0:
        raise ConfigError(f"length must be >= 0, not {length}")
    state = sampler.primed(prime)
    V = len(sampler.vocab)
    hs = state.hs[None].copy()  # (B, L*H) with B = 1 live beam to start
    cs = None if state.cs is None else state.cs[None].copy()  # (B, L, H)
    logits = state.logits[None].astype(np.float64)  # (B, V)
    texts: list[str] = [""]
    lps: list[tuple[float, ...]] = [()]  # per-character log-probs of each live beam
    scores = np.zeros(1)  # (B,) summed log-probs of the live beams
    done: list[Beam] = []
    chars = sampler.vocab.chars
    for t in range(length):
        if cancel is not None and cancel.is_set():
            break
        logp = log_softmax(logits)  # (B, V)
        total = (scores[:, None] + logp).ravel()  # (B*V,)
        best = np.argsort(-total, kind="stable")[: width - len(done) if stop else width]  # ties: lower index
        beam_of, char_of = np.divmod(best, V)
        live_b, live_c, new_texts, new_scores, new_lps = [], [], [], [], []
        for b, c, s in zip(beam_of.tolist(), char_of.tolist(), total[best].tolist()):
            text, lp = texts[b] + chars[c], lps[b] + (float(logp[b, c]),)
            if stop and text.endswith(stop):
                done.append(Beam(text, s, True, lp))
            else:
                live_b.append(b)
                live_c.append(c)
                new_texts.append(text)
                new_scores.append(s)
                new_lps.append(lp)
        texts, scores, lps = new_texts, np.array(new_scores), new_lps
        if not texts or (stop and len(done) >= width):
            break
        if t + 1 < length:  # the last character needs no step
            idx = np.array(live_b)
            hs, cs, logits = sampler.step_batch(hs[idx], None if cs is None else cs[idx], np.array(live_c))
    beams = done + [Beam(text, float(s), False, lp) for text, s, lp in zip(texts, scores, lps)]
    beams.sort(key=lambda b: -b.rank_score(length_norm))  # sort is stable: equal scores keep their order
    return beams[:width]


AB = Vocab.from_text("ab\n")  # three characters: stop strings like "abab" and "aab" end beams often


def model_logprob(model, prime: str, text: str) -> float:
    """Sum of ln p(text[t] | prime + text[:t]) from the torch model itself."""
    ids = VOCAB.encode(prime + text).tolist()
    with torch.no_grad():
        logits, _ = model(torch.tensor([ids]))
    logp = torch.log_softmax(logits[0].double(), dim=-1)  # (T, V)
    k = len(prime)
    return float(sum(logp[k - 1 + t, ids[k + t]] for t in range(len(text))))


@pytest.mark.parametrize("kind,layers", [("rnn", 1), ("lstm", 2), ("gru", 3)])
def test_width_one_is_argmax(kind, layers):
    sampler = Sampler.from_model(make_model(kind, layers=layers), VOCAB)
    (beam,) = beam_search(sampler, "a(", width=1, length=60)
    assert beam.text == sampler.sample("a(", length=60, argmax=True)
    assert not beam.finished


@pytest.mark.parametrize("kind,layers", [("rnn", 2), ("lstm", 1), ("gru", 2)])
def test_scores_are_summed_log_probs_under_the_model(kind, layers):
    model = make_model(kind, layers=layers)
    sampler = Sampler.from_model(model, VOCAB)
    beams = beam_search(sampler, "fe", width=8, length=40)
    assert len(beams) == 8 and len({b.text for b in beams}) == 8
    assert [b.logprob for b in beams] == sorted((b.logprob for b in beams), reverse=True)
    for b in beams:
        assert len(b.text) == 40
        assert b.logprob == pytest.approx(model_logprob(model, "fe", b.text), abs=1e-3)
        assert sum(b.char_logprobs) == pytest.approx(b.logprob) and len(b.char_logprobs) == 40
        assert b.bits_per_char == pytest.approx(-b.logprob / math.log(2) / 40)


def test_step_batch_matches_step():
    sampler = Sampler.from_model(make_model("lstm", layers=2), VOCAB)
    states = [sampler.primed(p) for p in ("ab", "c", "ij(")]
    hs = np.stack([s.hs for s in states])
    cs = np.stack([s.cs for s in states])
    ids = np.array([3, 5, 7])
    hs2, cs2, logits = sampler.step_batch(hs, cs, ids)
    for k, s in enumerate(states):
        want = sampler.step(s, int(ids[k])).copy()
        np.testing.assert_allclose(logits[k], want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(hs2[k], s.hs, rtol=1e-5, atol=1e-5)


def test_a_wider_beam_finds_at_least_the_greedy_score_here():
    model = make_model("gru", layers=1, seed=4)
    sampler = Sampler.from_model(model, VOCAB)
    greedy = beam_search(sampler, "ab", width=1, length=30)[0]
    wide = beam_search(sampler, "ab", width=16, length=30)[0]
    assert wide.logprob >= greedy.logprob - 1e-9


def test_stop_string_and_length_normalisation():
    model = make_model("lstm", layers=1, seed=2)
    sampler = Sampler.from_model(model, VOCAB)
    beams = beam_search(sampler, "ab", width=6, length=25, stop="a")
    assert any(b.finished for b in beams)
    for b in beams:
        assert b.finished == b.text.endswith("a") and "a" not in b.text[:-1]
        assert b.logprob == pytest.approx(model_logprob(model, "ab", b.text), abs=1e-3)
    normed = beam_search(sampler, "ab", width=6, length=25, stop="a", length_norm=True)
    per_char = [b.logprob / len(b.text) for b in normed]
    assert per_char == sorted(per_char, reverse=True)
    plain = [b.logprob for b in beams]
    assert plain == sorted(plain, reverse=True)


def test_bad_arguments():
    sampler = Sampler.from_model(make_model("rnn"), VOCAB)
    for width in (0, 33):
        with pytest.raises(ConfigError, match="beam width"):
            beam_search(sampler, "a", width=width, length=5)
    assert beam_search(sampler, "a", width=3, length=0) == [Beam("", 0.0, False, ())]


# -----------------------------------------------------------------------------
# the linear search against the oracle


@pytest.mark.parametrize("seed", range(6))
def test_same_beams_as_the_old_search_without_a_stop_string(seed):
    rng = random.Random(seed)
    kind = ("rnn", "lstm", "gru")[seed % 3]
    sampler = Sampler.from_model(make_model(kind, layers=1 + seed % 2, seed=seed), VOCAB)
    for width, length in ((1, 50), (3, 1), (8, 120), (32, 60), (rng.randint(2, 32), rng.randint(2, 200))):
        prime = rng.choice(["", "a(", "fe", "zz", "[x]"])  # "zz": unknown, skipped
        got = beam_search(sampler, prime, width, length, length_norm=seed % 2 == 1)
        assert got == old_beam_search(sampler, prime, width, length, length_norm=seed % 2 == 1)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize(
    "stop", ["a", "\n", "ab", "aa", "abab", "aab", "aba", "baab", "abaab", "aabaa", "bbbb", "x", "ax", "aaaaaaaa"]
)
def test_same_beams_as_the_old_search_with_a_stop_string(seed, stop):
    # "x" is not in the vocabulary: no beam can end; the others overlap themselves in the ways KMP's
    # fallback handles (a wrong fallback was caught by "aab" and "aabaa" at width 16-32 on most seeds)
    kind = ("rnn", "lstm", "gru")[seed % 3]
    model = make_model(kind, layers=1, hidden=12, seed=seed, vocab=AB)
    if seed % 2:  # softer weights: flatter distributions, so the beams explore more different texts
        with torch.no_grad():
            for p in model.parameters():
                p.mul_(0.3)
    sampler = Sampler.from_model(model, AB)
    for width, length in ((32, 40), (16, 60), (5, 90), (2, 7), (1, 30), (3, 1)):
        for norm in (False, True):
            got = beam_search(sampler, "ab", width, length, norm, stop)
            assert got == old_beam_search(sampler, "ab", width, length, norm, stop), (width, length, norm)


def test_ties_are_ranked_as_the_old_search_ranked_them():
    # zero weights: every character has probability 1/3, so all beams of one length tie and only the
    # order rules (earlier beam, lower id, ended beams before live ones) decide what is returned
    model = make_model("lstm", layers=1, hidden=4, vocab=AB)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    sampler = Sampler.from_model(model, AB)
    ended = 0
    for stop in ("a", "ab", "aab", "bab", "\n"):
        for width, length in ((32, 12), (7, 9), (4, 5)):
            for norm in (False, True):
                got = beam_search(sampler, "", width, length, norm, stop)
                assert got == old_beam_search(sampler, "", width, length, norm, stop), (stop, width, length)
                ended += sum(b.finished for b in got)
    assert ended > 50  # ended and live beams did meet in the ranking


def test_same_beams_as_the_old_search_on_a_larger_model_with_a_newline_stop():
    sampler = Sampler.from_model(make_model("gru", layers=2, hidden=32, seed=11), VOCAB)
    for prime in ("a", "(b", ""):
        for norm in (False, True):
            got = beam_search(sampler, prime, 12, 150, norm, "\n")
            assert got == old_beam_search(sampler, prime, 12, 150, norm, "\n")


def test_cancel_and_progress():
    sampler = Sampler.from_model(make_model("lstm", layers=1, hidden=12, seed=3, vocab=AB), AB)
    cancel, seen = threading.Event(), []

    def progress(done, total):
        seen.append((done, total))
        if done == 17:
            cancel.set()

    got = beam_search(sampler, "a", 6, 500, stop="bab", cancel=cancel, progress=progress)
    assert seen == [(k, 500) for k in range(1, 18)]
    assert got == old_beam_search(sampler, "a", 6, 17, stop="bab")  # what the first 17 characters gave
    cancel.set()
    assert beam_search(sampler, "a", 6, 500, cancel=cancel) == [Beam("", 0.0, False, ())]


@pytest.mark.parametrize("seed", range(20))
def test_stop_matcher_is_endswith(seed):
    rng = random.Random(seed)
    vocab = Vocab.from_text("abc")
    stop = "".join(rng.choice("abc") for _ in range(rng.randint(1, 6)))
    m = StopMatcher(stop, vocab)
    text, state = "", np.zeros(1, np.int32)
    for _ in range(300):
        c = rng.choice("abc")
        text += c
        state = m.advance(state, np.array([vocab.index[c]]))
        assert (state[0] == len(stop)) == text.endswith(stop)
        if state[0] == len(stop):
            text, state = "", np.zeros(1, np.int32)  # as a beam ends there
        else:  # the state is the longest prefix of stop that the text ends with
            assert state[0] == max(k for k in range(len(stop)) if text.endswith(stop[:k]))


@pytest.mark.parametrize("seed", range(10))
def test_top_k_is_the_stable_argsort(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(-4, 2, size=rng.integers(1, 300)).astype(np.float64)  # many ties
    if seed % 3 == 0:
        scores[rng.integers(0, len(scores), 3)] = np.nan
    if seed % 3 == 1:
        scores[:] = rng.normal(size=len(scores))
    for k in (1, 2, 5, 32, len(scores), len(scores) + 3):
        np.testing.assert_array_equal(top_k(scores, k), np.argsort(-scores, kind="stable")[:k])


# -----------------------------------------------------------------------------
# progress: `rnntui sample --beam` on a real terminal, and the app's worker (checkpoint: conftest.py)


def sample_on_a_terminal(args: list[str], progress_after_s: float | None = None) -> tuple[int, str, bytes]:
    """`rnntui sample ARGS` with stderr on a pseudo-terminal and stdout on a pipe: (exit status, stdout,
    the terminal's bytes). progress_after_s: set the CLI's delay before the progress line first shows."""
    code = "import sys; from rnntui.cli import main; sys.exit(main(['sample', *sys.argv[1:]]))"
    if progress_after_s is not None:
        code = f"import rnntui.cli.sample as s; s.PROGRESS_AFTER_S = {progress_after_s}; " + code
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave
    )
    os.close(slave)
    err = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    out = proc.stdout.read().decode()
    return proc.wait(timeout=120), out, err


def test_cli_beam_progress_on_a_terminal_then_erased(checkpoint):
    from rnntui.core.runs.checkpoints import load_checkpoint

    want = beam_search(Sampler.from_checkpoint(load_checkpoint(str(checkpoint))), "Th", 4, 600)[0].text
    code, out, err = sample_on_a_terminal([str(checkpoint), "--prime", "Th", "--beam", "4", "--length", "600"], 0)
    assert code == 0, err
    assert out == "Th" + want + "\n"  # stdout untouched by the progress line
    assert b"\rrnntui: beam search, width 4: 1 of 600 characters\x1b[K" in err
    last = err.rindex(b" of 600 characters\x1b[K")
    assert err[last:].startswith(b" of 600 characters\x1b[K\r\x1b[K")  # erased once the search ended
    assert b"rnntui: beam 4: best log-prob" in err[last:]


def test_cli_beam_progress_not_on_a_short_search_nor_off_a_terminal(checkpoint):
    code, out, err = sample_on_a_terminal([str(checkpoint), "--beam", "4", "--length", "50"])
    assert code == 0 and b"beam search, width" not in err and len(out) == 51
    piped = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, rnntui.cli.sample as s; s.PROGRESS_AFTER_S = 0; sys.exit(s.cmd_sample(sys.argv[1:]))",
            str(checkpoint),
            "--beam",
            "4",
            "--length",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert piped.returncode == 0 and "beam search, width" not in piped.stderr and "\x1b" not in piped.stderr


def test_app_worker_posts_beam_progress_then_the_beams(ckpt, monkeypatch):
    from rnntui.ui.workers import generation as gw

    monkeypatch.setattr(gw, "BEAM_PROGRESS_S", 0.0)
    posted = []
    from rnntui.core.generate.settings import GenerationSettings

    settings = GenerationSettings(prime="The ", beam_width=3, length=40)
    gw.beam(posted.append, lambda: ckpt, settings, 7, threading.Event())
    kinds = [type(m).__name__ for m in posted]
    assert kinds == ["GenStarted"] + ["BeamProgress"] * 40 + ["BeamDone"]
    assert [(m.run, m.width, m.done, m.total) for m in posted[1:-1]] == [(7, 3, k, 40) for k in range(1, 41)]
    want = beam_search(Sampler.from_checkpoint(ckpt), "The ", 3, 40)
    assert [b.text for b in posted[-1].beams] == [b.text for b in want]
