"""Built-in corpora: small texts shipped inside the package (rnntui/corpora/, package data, so a wheel
carries them), a generated bracket/quote corpus, and `python`, assembled on the user's machine from the
standard library's own source (never committed)."""

from __future__ import annotations

import os
import random
import sysconfig
from pathlib import Path

from rnntui.core.data.read import CorpusError

SHIPPED_DIR = Path(__file__).resolve().parents[2] / "corpora"  # rnntui/corpora/: in the checkout and installed
PYTHON_TARGET_CHARS = 3_000_000  # a few MB: enough to learn from, quick to build


def cache_dir() -> Path:
    """Where corpora built on this machine go: $RNNTUI_CACHE, else ~/.cache/rnntui."""
    d = os.environ.get("RNNTUI_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "rnntui")
    return Path(d)


# -----------------------------------------------------------------------------
# python: the standard library's .py files, a deterministic selection


def build_python_corpus(target_chars: int | None = None) -> str:
    """Concatenate stdlib modules in sorted path order, skipping tests and generated tables.

    Sorted order and a fixed cap make the corpus the same on every machine with the same Python.
    target_chars None: PYTHON_TARGET_CHARS, read at call time (so a test or a caller can change it).
    """
    if target_chars is None:
        target_chars = PYTHON_TARGET_CHARS
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = ("test", "tests", "idle_test", "site-packages", "lib2to3", "encodings", "pydoc_data", "__pycache__")
    parts, total = [], 0
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if any(part in skip for part in rel.parts[:-1]) or rel.name.startswith("test_"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not text.isascii() or len(text) > 200_000:  # keep the vocabulary small; skip huge tables
            continue
        parts.append(f"# file: {rel.as_posix()}\n{text.rstrip()}\n\n")
        total += len(parts[-1])
        if total >= target_chars:
            break
    return "".join(parts)


def python_corpus_path() -> Path:
    """Build once, then reuse the cached file. Written atomically so a killed build leaves no half file."""
    path = cache_dir() / "python.txt"
    if path.exists() and path.stat().st_size > 0:
        return path
    text = build_python_corpus()
    if not text:
        raise CorpusError("python: no standard-library sources found to build the corpus from")
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        _unlink(tmp)
        raise _unwritable("python", path.parent, e) from None
    return path


def _unwritable(name: str, folder: Path, e: OSError) -> CorpusError:
    return CorpusError(
        f"{name}: cannot build the corpus in {folder} ({e.strerror or e}); set RNNTUI_CACHE to a writable folder"
    )


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


# -----------------------------------------------------------------------------
# brackets: synthetic text with long-range structure (nesting depth, open quotes, line position)


def generate_brackets(n_chars: int = 300_000, seed: int = 0) -> str:
    """Lines of nested (), [] and {} groups with quoted strings and words inside.

    A model can only predict the closing characters by counting depth and remembering which quote is
    open, so units that track depth and "inside a string" appear within minutes of training.
    """
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "x", "y", "key", "value", "node", "leaf", "zip", "pop"]
    pairs = [("(", ")"), ("[", "]"), ("{", "}")]

    def string() -> str:
        q = rng.choice(['"', "'"])
        body = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        return f"{q}{body}{q}"

    def group(depth: int) -> str:
        o, c = rng.choice(pairs)
        items = []
        for _ in range(rng.randint(1, 3)):
            r = rng.random()
            if depth < 5 and r < 0.45:
                items.append(group(depth + 1))
            elif r < 0.7:
                items.append(string())
            else:
                items.append(rng.choice(words) if rng.random() < 0.6 else str(rng.randint(0, 999)))
        return o + ", ".join(items) + c

    lines, total = [], 0
    while total < n_chars:
        line = f"{rng.choice(words)} = {group(0)}"
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


# -----------------------------------------------------------------------------
# the registry


SHIPPED = {
    "tiny": "tiny.txt",  # ~2 KB of prose written for this project: tests and quick demos
    "brackets": "brackets.txt",  # generate_brackets() with its defaults, shipped so it needs no build
}
BUILTIN = ("python", *SHIPPED)


def resolve_corpus(name: str) -> Path:
    """A built-in name or a path -> a file path. Unknown names that are not files are an error."""
    if name == "python":
        return python_corpus_path()
    if name in SHIPPED and not Path(name).exists():
        path = SHIPPED_DIR / SHIPPED[name]
        if not path.exists():  # only a broken install gets here: the files are package data
            raise CorpusError(f"{name}: built-in corpus file {path} is missing; reinstall rnntui")
        return path
    return Path(name)
