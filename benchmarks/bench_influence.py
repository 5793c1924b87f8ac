"""Influence of past characters: the inspector's time per cursor move, effective context, the bracket check.

    # time at one cursor position: 2x256 rnn/lstm/gru, 300 characters, 2 threads (Captum too if installed)
    PYTHONPATH=. python benchmarks/bench_influence.py --time
    # effective context of trained checkpoints on their validation split (README, "Reading the numbers")
    PYTHONPATH=. python benchmarks/bench_influence.py --context RUN/latest.pt [RUN2/latest.pt ...]
    # on brackets: does the influence on predicting a closing bracket peak at its opening bracket?
    PYTHONPATH=. python benchmarks/bench_influence.py --brackets RUN/latest.pt

Timings vary with the machine's load; the influence figures do not (no randomness in context.py).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from rnntui.core.analysis.context import POSITIONS, effective_context
from rnntui.core.analysis.influence import (
    GRADIENT_X_INPUT,
    IG_STEPS,
    INTEGRATED_GRADIENTS,
    WINDOW,
    _inputs_only,
    _last_log_probs,
    attribute,
    influence,
    normalise,
)
from rnntui.core.config import ModelConfig
from rnntui.core.data.corpus import load_corpus
from rnntui.core.model.cells import CharModel
from rnntui.core.runs.checkpoints import load_checkpoint, model_from_checkpoint

KINDS = ("rnn", "lstm", "gru")
OPEN, CLOSE = "([{", ")]}"


def _median_ms(fn, reps: int) -> float:
    fn()  # warm-up: the first call allocates
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


# -----------------------------------------------------------------------------
# time per cursor move


def bench_time(reps: int, threads: int, hidden: int, layers: int, window: int) -> None:
    torch.set_num_threads(threads)
    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {threads} threads; "
        f"{layers}x{hidden}, embed 64, vocab 65, {window} characters; median of {reps}"
    )
    try:
        from captum.attr import InputXGradient
    except ImportError:
        InputXGradient = None
    ids = np.random.default_rng(0).integers(0, 65, window + 200)  # 200 before the window: the prefix run too
    for kind in KINDS:
        torch.manual_seed(0)
        m = CharModel(ModelConfig(kind=kind, vocab_size=65, embed=64, hidden=hidden, layers=layers)).eval()
        state = torch.zeros(layers, 1, hidden)
        state = (state, state.clone()) if kind == "lstm" else state
        win = torch.from_numpy(ids[-window:])[None]
        cursor = _median_ms(lambda: attribute(m, win, state), reps)  # what CursorInfluence.at runs
        prefix = _median_ms(lambda: influence(m, ids, window=window), reps)  # + the 200-char prefix, forward
        ig = _median_ms(lambda: attribute(m, win, state, method=INTEGRATED_GRADIENTS), max(3, reps // 4))
        line = (
            f"{kind:4s}  gradient x input {cursor:6.1f} ms  (with a 200-char prefix {prefix:6.1f} ms)  "
            f"integrated gradients ({IG_STEPS} steps) {ig:7.1f} ms"
        )
        if InputXGradient is not None:

            def f(emb):
                out, _ = m.rnn(emb, state)
                return torch.log_softmax(m.head(out[:, -1]), dim=-1)

            def captum_once():
                emb = m.embed(win).detach().requires_grad_(True)
                tgt = int(f(emb).argmax())
                return InputXGradient(f).attribute(emb, target=tgt).norm(dim=-1)

            line += f"  Captum InputXGradient {_median_ms(captum_once, reps):6.1f} ms"
        print(line, flush=True)


# -----------------------------------------------------------------------------
# effective context of checkpoints


def bench_context(paths: list[str], positions: int, window: int, method: str) -> None:
    for path in paths:
        ckpt = load_checkpoint(path)
        model, vocab, cfg = model_from_checkpoint(ckpt)
        corpus = load_corpus(cfg.corpus, cfg.val_frac, vocab)
        t0 = time.perf_counter()
        ec = effective_context(model, corpus.val, window=window, positions=positions, method=method)
        dt = time.perf_counter() - t0
        q = np.percentile(ec.reaches, [25, 75])
        print(
            f"{path}: {cfg.model.kind} {cfg.model.layers}x{cfg.model.hidden} on {cfg.corpus}, step "
            f"{ckpt.get('step')}: reach90 median {ec.median_reach} (quartiles {q[0]:.0f}-{q[1]:.0f}), "
            f"pooled {ec.curve_reach}; {ec.curve_line()}  [{dt:.1f} s, {ec.positions} predictions]",
            flush=True,
        )


# -----------------------------------------------------------------------------
# brackets: the influence on a closing bracket against its opening bracket


def opener_of(text: str) -> dict[int, int]:
    """closing bracket position -> its opening bracket's position (quotes are plain text here)."""
    stack, out = [], {}
    for i, ch in enumerate(text):
        if ch in OPEN:
            stack.append(i)
        elif ch in CLOSE and stack:
            out[i] = stack.pop()
    return out


def bench_brackets(path: str, n: int, window: int) -> None:
    ckpt = load_checkpoint(path)
    model, vocab, cfg = model_from_checkpoint(ckpt)
    corpus = load_corpus(cfg.corpus, cfg.val_frac, vocab)
    text = vocab.decode(corpus.val)
    ids = corpus.val.astype(np.int64)
    pairs = [(c, o) for c, o in opener_of(text).items() if c >= window and c - o > 1][:n]  # not "()"
    at_opener, strongest_is_opener, beyond_1, rank = [], 0, 0, []
    for s in range(0, len(pairs), 32):
        chunk = pairs[s : s + 32]
        ends = np.array([c - 1 for c, _ in chunk])  # the last character read before the closing bracket
        windows = torch.from_numpy(ids[ends[:, None] + np.arange(-window + 1, 1)[None]])
        targets = torch.from_numpy(ids[ends + 1])  # the closing bracket
        shares = normalise(attribute(model, windows, None, targets, GRADIENT_X_INPUT)[0])  # (b, W)
        for (c, o), row in zip(chunk, shares):
            d = c - o  # the opener is d characters before the closing bracket: window index W - d
            at = row[window - d] if d <= window else 0.0
            at_opener.append(at)
            strongest_is_opener += int(np.argmax(row) == window - d)
            others = np.delete(row, [window - d, window - 1]) if d > 1 else row[:-1]
            beyond_1 += int(at > others.max())  # the opener beats everything but the character just read
            rank.append(int((row > at).sum()) + 1)
    k = len(pairs)
    hit_c, rank_c, right_type = _which_closer(model, vocab, ids, pairs, window)
    print(
        f"{path}: {cfg.model.kind} {cfg.model.layers}x{cfg.model.hidden}, {k} closing brackets of the "
        f"validation split (distance to the opener {min(c - o for c, o in pairs)}-{max(c - o for c, o in pairs)})"
    )
    print(
        f"  strongest influence on the opening bracket: {strongest_is_opener}/{k} "
        f"({strongest_is_opener / k:.0%}); the opener ahead of every character but the last: {beyond_1 / k:.0%}; "
        f"median rank of the opener {int(np.median(rank))}; mean share at the opener {np.mean(at_opener):.3f} "
        f"(uniform would be {1 / window:.3f})"
    )
    print(
        f"  which closer (the right bracket's log-odds against the other two): the right type likeliest "
        f"{right_type}/{k} ({right_type / k:.0%}); opener strongest {hit_c}/{k} ({hit_c / k:.0%}), "
        f"median rank {int(np.median(rank_c))}"
    )


def _which_closer(model, vocab, ids: np.ndarray, pairs, window: int) -> tuple[int, list[int], int]:
    """A contrastive reading (Yin & Neubig 2022): attribute log p(right closer) - logsumexp(log p(the other
    closers)), which asks "why this bracket and not another" rather than "why a bracket now" (the latter
    is mostly the last few characters). Gradient x input, as in the app. (opener strongest, opener's rank
    per bracket, brackets whose right type the model ranks first among the closers)."""
    closers = torch.tensor([vocab.chars.index(ch) for ch in CLOSE])  # (3,)
    hit, ranks, right = 0, [], 0
    for s in range(0, len(pairs), 32):
        chunk = pairs[s : s + 32]
        ends = np.array([c - 1 for c, _ in chunk])
        windows = torch.from_numpy(ids[ends[:, None] + np.arange(-window + 1, 1)[None]])  # (b, W)
        tgt = torch.from_numpy(ids[ends + 1])  # (b,) the right closer
        with _inputs_only(model):
            emb = model.embed(windows).detach()  # (b, W, E)
            x = emb.clone().requires_grad_(True)
            lp = _last_log_probs(model, x, None)  # (b, V)
            is_right = closers[None, :] == tgt[:, None]  # (b, 3)
            others = torch.logsumexp(lp[:, closers].masked_fill(is_right, -1e9), dim=1)  # (b,)
            (g,) = torch.autograd.grad((lp.gather(1, tgt[:, None])[:, 0] - others).sum(), x)
            shares = normalise((g * emb).norm(dim=-1).double().numpy())  # (b, W)
            right += int((lp[:, closers].argmax(1) == is_right.int().argmax(1)).sum())
        for (c, o), row in zip(chunk, shares):
            at = row[window - (c - o)]
            hit += int(np.argmax(row) == window - (c - o))
            ranks.append(int((row > at).sum()) + 1)
    return hit, ranks, right


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time", action="store_true")
    p.add_argument("--context", nargs="+", metavar="CKPT")
    p.add_argument("--brackets", metavar="CKPT")
    p.add_argument("--reps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--window", type=int, default=WINDOW)
    p.add_argument("--positions", type=int, default=POSITIONS)
    p.add_argument("--method", default=GRADIENT_X_INPUT)
    p.add_argument("--pairs", type=int, default=300, help="closing brackets examined by --brackets")
    args = p.parse_args()
    if args.time:
        bench_time(args.reps, args.threads, args.hidden, args.layers, args.window)
    torch.set_num_threads(args.threads)
    if args.context:
        bench_context(args.context, args.positions, args.window, args.method)
    if args.brackets:
        bench_brackets(args.brackets, args.pairs, args.window)


if __name__ == "__main__":
    main()
