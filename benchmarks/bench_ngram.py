"""The n-gram baselines: their figures on real corpora, and the time and memory of computing them for a
100 MB corpus, where the fit is bounded by sampling (rnntui/core/analysis/ngram/baselines.py).

    python benchmarks/bench_ngram.py                         # tiny-shakespeare, brackets, a 100 MB file
    python benchmarks/bench_ngram.py --big-mb 0              # the figures only
    python benchmarks/bench_ngram.py --corpus FILE --big-mb 20

Each measurement runs in a fresh process that first loads the corpus (encoded once beforehand, so the
load is a memory-mapped cache hit) and then computes the baselines, nothing cached: the time is that of
compute() alone; the memory is numpy's peak traced allocation during it (tracemalloc sees numpy's
buffers) and the child's peak RSS (wait4) beside that of a child that only loads the corpus.

The 100 MB file is tiny-shakespeare repeated with variations (each copy's speeches shuffled in another
order, every k-th line upper-cased for a k that changes with the copy), written to --dir and deleted
afterwards; it is never committed. Its validation split repeats the training text, so its figures say
nothing about language: it is there for the time and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHAKESPEARE = "/work/shared/corpora/tinyshakespeare.txt"

CHILD = """
import json, sys, time, tracemalloc
from rnntui.core.data.corpus import load_corpus
from rnntui.core.analysis.ngram.baselines import compute
c = load_corpus(sys.argv[1], 0.1)
c.train[-1], c.val[-1]
out = {"chars": len(c.data)}
if sys.argv[2] == "compute":
    tracemalloc.start()
    t, cpu = time.perf_counter(), time.process_time()
    b = compute(c, "0" * 16)
    out.update(wall=time.perf_counter() - t, cpu=time.process_time() - cpu, traced=tracemalloc.get_traced_memory()[1],
               baselines=b.to_json())
print(json.dumps(out))
"""


def varied_copies(source: Path, path: Path, mb: int) -> Path:
    """tiny-shakespeare repeated to `mb` MB, each copy different: speeches shuffled, some lines upper-cased."""
    speeches = source.read_text(encoding="utf-8").split("\n\n")
    rng = random.Random(0)
    with open(path, "w", encoding="utf-8") as f:
        written, copy = 0, 0
        while written < mb * 1_000_000:
            order = speeches[:]
            rng.shuffle(order)
            k = 3 + copy % 11
            text = "\n\n".join(order)
            lines = text.split("\n")
            text = "\n".join(line.upper() if i % k == 0 else line for i, line in enumerate(lines)) + "\n\n"
            text = text[: mb * 1_000_000 - written]
            f.write(text)
            written, copy = written + len(text.encode("utf-8")), copy + 1
    return path


def child(path: str, mode: str, cache: Path) -> tuple[dict, float]:
    """(the child's JSON, its peak RSS in bytes)."""
    env = {**os.environ, "RNNTUI_CACHE": str(cache), "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, path, mode], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"child failed ({mode} {path}): {err[-2000:]}")
    return json.loads(out), usage.ru_maxrss * 1024


def measure(name: str, path: str, cache: Path) -> None:
    child(path, "load", cache)  # encode once: the measured children hit the cache
    base, base_rss = child(path, "load", cache)
    got, rss = child(path, "compute", cache)
    b = got["baselines"]
    grams = "  ".join(f"{o}-gram {v:.3f}" for o, v in b["ngram"])
    print(
        f"{name}: {got['chars']:,} chars, vocab {b['vocab']}; fitted on {b['fit_chars']:,} of "
        f"{b['train_chars']:,} training chars, scored on {b['eval_chars']:,} of {b['val_chars']:,} validation chars"
    )
    print(f"  uniform {b['uniform']:.3f}  unigram {b['unigram']:.3f}  {grams}  (nats/char)")
    print(
        f"  compute: wall {got['wall']:.2f} s, CPU {got['cpu']:.2f} s; peak traced {got['traced'] / 2**20:,.0f} MiB; "
        f"peak RSS {rss / 2**20:,.0f} MiB (loading alone {base_rss / 2**20:,.0f} MiB)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--corpus", action="append", help=f"corpus files or built-in names (default: {SHAKESPEARE}, brackets)"
    )
    p.add_argument("--big-mb", type=int, default=100, help="size of the generated corpus (0: none)")
    p.add_argument("--dir", default=tempfile.gettempdir(), help="where the generated file and its cache go")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ngram-", dir=args.dir))
    try:
        for c in args.corpus or [SHAKESPEARE, "brackets"]:
            measure(Path(c).name, c, work / "cache")
        if args.big_mb:
            t = time.perf_counter()
            big = varied_copies(Path(SHAKESPEARE), work / f"shakespeare-x{args.big_mb}mb.txt", args.big_mb)
            print(f"(generated {big.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t:.0f} s)")
            measure(big.name, str(big), work / "cache")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
