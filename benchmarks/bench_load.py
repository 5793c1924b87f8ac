"""Loading a large corpus: wall time and peak memory of the first load (streamed, two passes) and of a
second load (memory-mapped from the cache), each in a fresh process, on a generated file.

    python benchmarks/bench_load.py --mb 100 1000
    python benchmarks/bench_load.py --mb 100 --old     # also the pre-streaming loader, for comparison

The file is generated here (synthetic words, brackets, digits and a few non-ASCII characters; never a
real text) in --dir, and deleted afterwards with its cache. Peak RSS is ru_maxrss of each child process
(os.wait4), so it includes the interpreter and numpy (the "baseline" column: a child that imports the
loader and loads nothing). Targets (issue 10): 100 MB <= 0.4 GB peak; 1 GB <= 2.5 GB peak.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "alpha beta gamma delta key value node leaf zip pop the of and to in is it that with for as on "
    "café naïve déjà über — “quoted” x y z"
).split()

CHILD = """
import os, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
from rnntui.core.data.corpus import corpus_from_text, load_corpus
t = time.perf_counter()
if mode == "load":
    c = load_corpus(path)
elif mode == "old":  # the loader before streaming: whole bytes, whole str, whole UTF-32, int64 ids
    raw = open(path, "rb").read()
    text = raw.decode("utf-8-sig").replace("\\r\\n", "\\n").replace("\\r", "\\n")
    del raw
    c = corpus_from_text(path, text)
    del text
if mode != "none":
    c.train[-1], c.val[-1]  # both splits reachable
print(time.perf_counter() - t, len(c.data) if mode != "none" else 0)
"""


def make_file(path: Path, mb: int, seed: int = 0) -> None:
    """Lines of words, bracket groups and numbers; 8 distinct 1 MB blocks cycled to the size asked."""
    rng = random.Random(seed)
    blocks = []
    for _ in range(8):
        parts, size = [], 0
        while size < 1 << 20:
            line = " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))
            if rng.random() < 0.3:
                line = f"{line} ({' '.join(rng.choices(WORDS, k=2))}) [{rng.randint(0, 999)}]"
            parts.append(line + "\n")
            size += len(parts[-1]) + 2  # about: a few characters are 2-3 bytes
        blocks.append("".join(parts).encode("utf-8"))
    with open(path, "wb") as f:
        written, i = 0, 0
        while written < mb * 1_000_000:
            b = blocks[i % len(blocks)][: mb * 1_000_000 - written]
            b = b[: len(b.decode("utf-8", "ignore").encode("utf-8"))]  # never cut a character in two
            if not b:
                break
            f.write(b)
            written, i = written + len(b), i + 1


def peak_rss(mode: str, path: Path, cache: Path) -> tuple[float, float, int, int]:
    """(wall s incl. start-up, load s, chars, peak RSS bytes), the child reaped with wait4 for its rusage."""
    env = {**os.environ, "RNNTUI_CACHE": str(cache), "PYTHONPATH": str(ROOT)}
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: keep Popen from waiting again
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"child {mode!r} failed ({proc.returncode}):\n{err.strip()}")
    load_s, chars = out.split()
    return wall, float(load_s), int(chars), usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=int, nargs="+", default=[100], help="file sizes to try, in MB (10^6 bytes)")
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the file and its cache go")
    ap.add_argument("--old", action="store_true", help="also time the pre-streaming loader (~24x the file!)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rnntui-bench-load-", dir=args.dir))
    try:
        _, _, _, base = peak_rss("none", work / "none", work / "cache")
        print(f"baseline (interpreter + numpy + the loader, nothing loaded): {base / 1e9:.3f} GB peak RSS")
        print(
            f"{'file':>8} {'load':<16} {'wall s':>7} {'load s':>7} {'MB/s':>7} {'peak RSS GB':>12} "
            f"{'RSS/file':>9} {'less baseline':>14}"
        )
        for mb in args.mb:
            path, cache = work / f"corpus-{mb}mb.txt", work / "cache"
            t = time.perf_counter()
            make_file(path, mb)
            size = path.stat().st_size
            print(f"(generated {size / 1e6:,.0f} MB in {time.perf_counter() - t:.1f} s)")
            shutil.rmtree(cache, ignore_errors=True)
            modes = [("load", "first (streamed)"), ("load", "second (cached)")]
            if args.old:
                modes.append(("old", "old (whole text)"))
            for mode, label in modes:
                wall, load_s, chars, rss = peak_rss(mode, path, cache)
                print(
                    f"{size / 1e6:>6,.0f}MB {label:<16} {wall:>7.2f} {load_s:>7.2f} {size / 1e6 / load_s:>7.0f} "
                    f"{rss / 1e9:>12.3f} {rss / size:>9.2f} {(rss - base) / size:>14.2f}",
                    flush=True,
                )
            path.unlink()
            shutil.rmtree(cache, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
