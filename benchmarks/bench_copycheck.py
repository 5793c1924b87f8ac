"""The memorisation check: index build time and memory, and the latency of checking 2,000 characters.

    python benchmarks/bench_copycheck.py                                    # tiny-shakespeare + a 100 MB file
    python benchmarks/bench_copycheck.py --corpus FILE --big-mb 0           # one corpus only
    python benchmarks/bench_copycheck.py --big-mb 20 --big-file /tmp/x.txt  # a smaller generated file

The generated file (written once, outside the repository) is words drawn from the first corpus's
vocabulary of words with their frequencies, in lines of 4-15 words: text with the n-gram statistics of
prose and few long repeats. Memory is numpy's peak traced allocation during the build (tracemalloc sees
numpy's buffers) and the index's own size. Check latency is the median of 20 checks of three texts:
fresh (random words: few copies), half copied (alternating 200-char excerpts and random words) and all
copied (one 2,000-char excerpt: the longest span is the whole text). CPU time (process_time) is printed
beside wall time: on a shared, loaded machine it is the steadier of the two. (tracemalloc misses what
libdivsufsort allocates in C: bench_novelty.py measures the suffix array's builds by RSS, and the curve.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

from rnntui.core.data.corpus import Vocab
from rnntui.core.generate.copycheck import CopyIndex

SHAKESPEARE = "/work/shared/corpora/tinyshakespeare.txt"


def generated_file(path: Path, source: str, mb: int, seed: int = 0) -> Path:
    if path.exists() and path.stat().st_size >= mb * 1_000_000:
        return path
    words, counts = np.unique(np.array(source.split()), return_counts=True)
    p = counts / counts.sum()
    rng = np.random.default_rng(seed)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        written = 0
        while written < mb * 1_000_000:
            picks = words[rng.choice(len(words), size=200_000, p=p)]
            breaks = np.cumsum(rng.integers(4, 16, size=len(picks) // 4 + 1))
            lines = [" ".join(picks[a:b]) for a, b in zip(np.r_[0, breaks[:-1]], breaks) if a < len(picks)]
            chunk = "\n".join(lines) + "\n"
            f.write(chunk)
            written += len(chunk)
    os.replace(tmp, path)
    return path


def queries(text: str, rng: np.random.Generator) -> dict[str, str]:
    words = text[:2_000_000].split()
    fresh = " ".join(rng.choice(words, size=600))[:2000]
    half = []
    while sum(map(len, half)) < 2000:
        a = int(rng.integers(len(text) - 200))
        half += [text[a : a + 200], " ".join(rng.choice(words, size=40))[:200]]
    a = int(rng.integers(len(text) - 2000))
    return {"fresh": fresh, "half copied": "".join(half)[:2000], "all copied": text[a : a + 2000]}


def bench(name: str, text: str, n: int) -> None:
    vocab = Vocab.from_text(text)
    t0 = time.perf_counter()
    ids = vocab.encode(text)
    t_enc = time.perf_counter() - t0
    tracemalloc.start()
    t0 = time.perf_counter()
    index = CopyIndex(ids, vocab, n)
    t_build = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{name}: {len(text):,} chars, n={n}: encode {t_enc:.2f} s, index build {t_build:.2f} s, "
        f"index {index.sa.nbytes / 2**20:,.1f} MiB, peak traced during build {peak / 2**20:,.1f} MiB"
    )
    rng = np.random.default_rng(1)
    for label, q in queries(text, rng).items():
        index.check(q)  # warm
        times, cpu = [], []
        for _ in range(20):
            t0, c0 = time.perf_counter(), time.process_time()
            r = index.check(q)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(
            f"  check 2,000 chars, {label:>11}: wall median {statistics.median(times) * 1e3:6.2f} ms, "
            f"max {max(times) * 1e3:6.2f} ms, CPU median {statistics.median(cpu) * 1e3:6.2f} ms  "
            f"(copied {r.share:.0%}, longest {r.longest:,})"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=SHAKESPEARE)
    ap.add_argument("--ngram", type=int, default=8)
    ap.add_argument("--big-mb", type=int, default=100, help="size of the generated file (0: skip it)")
    ap.add_argument("--big-file", default="/tmp/rnntui-bench-copycheck.txt")
    args = ap.parse_args()
    text = Path(args.corpus).read_text(encoding="utf-8")
    bench(Path(args.corpus).name, text, args.ngram)
    if args.big_mb:
        t0 = time.perf_counter()
        path = generated_file(Path(args.big_file), text, args.big_mb)
        print(f"(generated {path} in {time.perf_counter() - t0:.0f} s)" if time.perf_counter() - t0 > 1 else "")
        big = path.read_text(encoding="utf-8")
        bench(f"generated {len(big) / 1e6:.0f} MB", big, args.ngram)


if __name__ == "__main__":
    main()
