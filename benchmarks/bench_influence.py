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


def bench_brackets(path: str, n: int, window: int, method: str) -> None:
    """At closing brackets of the validation split: where the influence on predicting the bracket peaks,
    read two ways (plain: log p(closer); contrastive: its log-odds against the other two closers), over
    all closers and split by what lies between the pair: no other bracket ("flat", as `(beta)`) or
    other brackets opened and closed in between ("nested", where the opener is the top of a stack)."""
    ckpt = load_checkpoint(path)
    model, vocab, cfg = model_from_checkpoint(ckpt)
    corpus = load_corpus(cfg.corpus, cfg.val_frac, vocab)
    text = vocab.decode(corpus.val)
    ids = corpus.val.astype(np.int64)
    pairs = [(c, o) for c, o in opener_of(text).items() if c >= window and c - o > 1][:n]  # not "()"
    nested = np.array([any(ch in OPEN + CLOSE for ch in text[o + 1 : c]) for c, o in pairs])
    closers = torch.tensor([vocab.chars.index(ch) for ch in CLOSE])  # (3,)
    readings: dict[str, dict[str, list]] = {r: {"top": [], "rank": [], "past": []} for r in ("plain", "contrast")}
    right = []  # the model ranks the right closer first among the three
    for s in range(0, len(pairs), 32):
        chunk = pairs[s : s + 32]
        ends = np.array([c - 1 for c, _ in chunk])  # the last character read before the closing bracket
        windows = torch.from_numpy(ids[ends[:, None] + np.arange(-window + 1, 1)[None]])  # (b, W)
        targets = torch.from_numpy(ids[ends + 1])  # (b,) the closing bracket
        for name, contrast in (("plain", None), ("contrast", closers)):
            scores, logp, _ = attribute(model, windows, None, targets, method, contrast=contrast)
            for (c, o), row in zip(chunk, normalise(scores)):  # (W,) shares; the opener is at W - (c - o)
                at = row[window - (c - o)]
                readings[name]["top"].append(int(np.argmax(row) == window - (c - o)))
                readings[name]["rank"].append(int((row > at).sum()) + 1)
                # the last character read decides *when* the group closes and draws the most gradient in
                # about half the closers: is the opener the strongest of the rest?
                readings[name]["past"].append(int(np.argmax(row[:-1]) == window - (c - o)))
        right += list(
            logp[:, closers.numpy()].argmax(1) == (closers.numpy()[None] == targets.numpy()[:, None]).argmax(1)
        )
    right_a = np.array(right)
    d = np.array([c - o for c, o in pairs])
    print(
        f"{path}: {cfg.model.kind} {cfg.model.layers}x{cfg.model.hidden}, {method}, {len(pairs)} closing brackets "
        f"of the validation split ({(~nested).sum()} flat, {nested.sum()} nested; distance to the opener "
        f"{d.min()}-{d.max()}, median flat {int(np.median(d[~nested]))}, nested {int(np.median(d[nested]))})"
    )
    print(
        "| pairs | n | right closer first | opener strongest: plain | median rank | contrastive | median rank "
        "| contrastive, the last character aside |"
    )
    for label, m in (("all", np.ones_like(nested)), ("flat", ~nested), ("nested", nested)):
        if not m.any():
            continue
        p_, c_ = readings["plain"], readings["contrast"]
        top = lambda r: f"{np.mean(np.array(r['top'])[m]):.0%}"
        past = lambda r: f"{np.mean(np.array(r['past'])[m]):.0%}"
        rank = lambda r: f"{int(np.median(np.array(r['rank'])[m]))}"
        print(
            f"| {label} | {m.sum()} | {right_a[m].mean():.0%} | {top(p_)} | {rank(p_)} | {top(c_)} | {rank(c_)} | {past(c_)} |"
        )


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
        bench_brackets(args.brackets, args.pairs, args.window, args.method)


if __name__ == "__main__":
    main()
