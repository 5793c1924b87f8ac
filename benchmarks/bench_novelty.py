"""The copy check's suffix array: build time and peak memory of each builder, opening it from the cache,
and the latency of checking 2,000 generated characters (copied n-grams + longest span + novelty curve).

    python benchmarks/bench_novelty.py                           # tiny-shakespeare + a 100 MB file
    python benchmarks/bench_novelty.py --big-mb 100 1000         # + 1 GB (libdivsufsort only: see below)
    python benchmarks/bench_novelty.py --big-mb 0                # tiny-shakespeare only

The big file (written once under /tmp, never in the repository) is bench_copycheck.py's word salad:
words drawn from tiny-shakespeare's with their frequencies, in lines of 4-15 words, so prose statistics
and few long repeats. Each build runs in a fresh child process that loads the ids from an .npy first;
its peak memory is the child's peak RSS (ru_maxrss) less its RSS once the ids are loaded, which counts
what tracemalloc misses (libdivsufsort allocates through ctypes). The numpy builder is skipped above
--numpy-max-mb (default 200) and where its peak (~17 bytes per character) would not fit in the memory
available now. Check latency is the median
of 20 checks of each of three texts (bench_copycheck.queries: fresh words, half copied, all copied);
CPU time (process_time) is printed beside wall time: on a shared, loaded machine it is the steadier.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_copycheck import SHAKESPEARE, generated_file, queries

from rnntui.core.data.corpus import Vocab, encode_file
from rnntui.core.generate import suffixes
from rnntui.core.generate.copycheck import SAMPLED, CopyIndex, _looks_sorted
from rnntui.core.model.memory import host_available_bytes


def _rss_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _build_child(ids_file: str, sa_file: str, builder: str, out: mp.Queue) -> None:
    ids = np.load(ids_file)
    base = _rss_peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    sa = suffixes.prefix_doubling(ids) if builder == "numpy" else suffixes.suffix_array(ids)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _rss_peak_mb() - base
    np.save(sa_file, sa)
    out.put((wall, cpu, peak, sa.dtype.itemsize))


def build(ids_file: Path, sa_file: Path, builder: str, n: int) -> None:
    q: mp.Queue = mp.get_context("spawn").Queue()
    p = mp.get_context("spawn").Process(target=_build_child, args=(str(ids_file), str(sa_file), builder, q))
    p.start()
    wall, cpu, peak, item = q.get()
    p.join()
    print(
        f"  build, {builder:>13}: wall {wall:7.2f} s, CPU {cpu:7.2f} s, peak {peak:8,.0f} MiB "
        f"({peak * 2**20 / n:4.1f} bytes/char); index {item * n / 2**20:,.0f} MiB ({item} bytes/char)"
    )


def bench(name: str, text_for_queries: str, chars: str, ids: np.ndarray, workdir: Path, numpy_max_mb: int) -> None:
    n = len(ids)
    print(f"{name}: {n:,} chars, {len(chars)} distinct")
    ids_file, sa_file = workdir / "bench-novelty-ids.npy", workdir / "bench-novelty-sa.npy"
    np.save(ids_file, ids)
    avail = host_available_bytes() or 0
    builders = ["libdivsufsort"] if suffixes.libdivsufsort() is not None and ids.dtype == np.uint8 else []
    if n > numpy_max_mb * 1_000_000:
        print(
            f"  build, {'numpy':>13}: skipped (over --numpy-max-mb {numpy_max_mb}: ~{17 * n / 2**30:.0f} GiB at "
            "its peak on a shared machine)"
        )
    elif 17 * n + 64 * suffixes.WINDOW < avail * 0.8:
        builders.append("numpy")
    else:
        print(
            f"  build, {'numpy':>13}: skipped (~{17 * n / 2**30:.0f} GiB at its peak; {avail / 2**30:.0f} GiB "
            "available)"
        )
    for b in builders:
        build(ids_file, sa_file, b, n)
    lines_file = workdir / "bench-novelty-lines.npy"
    nl = chars.find("\n")
    np.save(lines_file, np.flatnonzero(ids == nl) if nl >= 0 else np.zeros(0, np.int64))
    t0 = time.perf_counter()
    sa = np.load(sa_file, mmap_mode="r")  # as the cache opens it (CopyIndex._cached)
    ok = _looks_sorted(ids, sa)  # what the cache does before it trusts the file
    index = CopyIndex(ids, Vocab(chars), 8, sa, np.load(lines_file))
    t_open = time.perf_counter() - t0
    qs = queries(text_for_queries, np.random.default_rng(1))
    t0 = time.perf_counter()
    index.check(qs["fresh"])
    t_first = time.perf_counter() - t0
    print(
        f"  open the cached index (memory-mapped, {SAMPLED:,} pairs checked: {ok}): {t_open * 1e3:.0f} ms; "
        f"first check after opening: {t_first * 1e3:.0f} ms"
    )
    for label, q in qs.items():
        for what, fn in (("check + curve", index.check), ("curve only", index.novelty)):
            times, cpu = [], []
            for _ in range(20):
                t0, c0 = time.perf_counter(), time.process_time()
                r = fn(q)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            rep = r if what == "check + curve" else None
            extra = (
                f"  (copied {rep.share:.0%}, longest {rep.longest:,}, half novel from {rep.novelty.half})"
                if rep
                else ""
            )
            print(
                f"  2,000 chars, {label:>11}, {what:>13}: wall median {statistics.median(times) * 1e3:6.1f} ms, "
                f"CPU median {statistics.median(cpu) * 1e3:6.1f} ms{extra}"
            )
    del index, sa
    for f in (ids_file, sa_file, lines_file):
        f.unlink(missing_ok=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default=SHAKESPEARE)
    ap.add_argument("--big-mb", type=int, nargs="*", default=[100], help="sizes of generated files (0: none)")
    ap.add_argument("--workdir", default="/tmp", help="where the ids and index files of a run go (removed)")
    ap.add_argument("--numpy-max-mb", type=int, default=200, help="build with numpy only up to this size")
    args = ap.parse_args()
    work = Path(args.workdir)
    text = Path(args.corpus).read_text(encoding="utf-8")
    vocab = Vocab.from_text(text)
    bench(Path(args.corpus).name, text, vocab.chars, vocab.encode(text), work, args.numpy_max_mb)
    for mb in [m for m in args.big_mb if m]:
        t0 = time.perf_counter()
        path = generated_file(Path(f"/tmp/rnntui-bench-novelty-{mb}mb.txt"), text, mb)
        if time.perf_counter() - t0 > 1:
            print(f"(generated {path} in {time.perf_counter() - t0:.0f} s)")
        chars, ids = encode_file(path)  # streamed, and cached like any corpus: a second run reads no text
        with open(path, encoding="utf-8") as f:
            head = f.read(20_000_000)  # the queries' words and excerpts: the first 20 MB
        bench(f"generated {mb} MB", head, chars, np.asarray(ids), work, args.numpy_max_mb)


if __name__ == "__main__":
    main()
