"""The cache of encoded corpora: a corpus file's character ids as a memory-mapped .npy, so a second start
on the same file reads none of its text.

One entry per file path, in <cache dir>/corpora/: `<hash of path>.npy` (the ids) and `<hash>.json` (the
vocabulary, the file version it was made from (path, size, mtime, ctime, inode), the ids' length, dtype
and a CRC-32 of vocabulary and ids). An entry is used only when every one of those agrees with the file
as it is now and with the .npy as it is on disk; anything else (a changed file, a truncated or foreign
.npy, a half-written sidecar) is ignored and the entry rebuilt. A cache that cannot be written (read-only, full) costs a warning line, never the load.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import zlib
from dataclasses import asdict
from pathlib import Path

import numpy as np

from rnntui.core.data.builtin import cache_dir
from rnntui.core.data.read import FileKey
from rnntui.core.runs.files import remove_stale_temps

FORMAT = 1  # bump when the layout changes: older entries are then rebuilt, never misread
_warned: set[str] = set()  # cache folders already warned about in this process


def entry(key: FileKey) -> tuple[Path, Path]:
    """The (.npy, .json) paths of a file's entry: named by its path, so an edited file replaces its own."""
    stem = hashlib.sha256(key.path.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    d = cache_dir() / "corpora"
    return d / f"{stem}.npy", d / f"{stem}.json"


def _crc(chars: str, ids: np.ndarray) -> int:
    """CRC-32 of the vocabulary and the ids together: a sidecar that does not belong to its .npy fails."""
    crc, step = zlib.crc32(chars.encode("utf-8", "surrogatepass")), 1 << 24
    for s in range(0, len(ids), step):  # in slices, so a memory-mapped array is never copied whole
        crc = zlib.crc32(np.ascontiguousarray(ids[s : s + step]).data.cast("B"), crc)
    return crc


# -----------------------------------------------------------------------------
# reading an entry: trust nothing that does not check out


def load(key: FileKey) -> tuple[str, np.ndarray] | None:
    """(vocabulary chars, ids memory-mapped read-only) when a valid entry for this file version exists."""
    npy, meta_path = entry(key)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != asdict(key):
            return None
        chars, n, dtype, crc = meta["chars"], meta["n"], np.dtype(meta["dtype"]), meta["crc32"]
        if not (isinstance(chars, str) and chars and "".join(sorted(set(chars))) == chars):
            return None
        if dtype != np.dtype(np.uint8 if len(chars) <= 256 else np.int32) or not isinstance(n, int):
            return None
        ids = np.load(npy, mmap_mode="r", allow_pickle=False)
        if ids.shape != (n,) or ids.dtype != dtype or _crc(chars, ids) != crc:
            return None
        return chars, ids
    except Exception:  # any unreadable or malformed entry is simply not used
        return None


# -----------------------------------------------------------------------------
# writing an entry: atomically, and never at the cost of the load


def _write_npy(f, ids: np.ndarray) -> None:
    """The .npy format, data written in slices by plain file writes: a full disk raises ENOSPC with its
    message (numpy's tofile says only "requested and written"), and no second copy is ever made."""
    np.lib.format.write_array_header_1_0(f, np.lib.format.header_data_from_array_1_0(ids))
    step = 1 << 24
    for s in range(0, len(ids), step):
        f.write(np.ascontiguousarray(ids[s : s + step]).data.cast("B"))


def save(key: FileKey, chars: str, ids: np.ndarray) -> bool:
    """Write the entry; on any OS error (read-only, full disk) remove the leftovers, warn once, go on."""
    npy, meta_path = entry(key)
    tag = f"{os.getpid()}-{threading.get_ident()}"  # two loads in one process (setup screen + run)
    tmps = [p.with_name(f".{p.name}.tmp{tag}") for p in (npy, meta_path)]
    meta = {
        "format": FORMAT,
        "key": asdict(key),
        "chars": chars,
        "n": int(len(ids)),
        "dtype": ids.dtype.name,
        "crc32": _crc(chars, ids),
    }
    try:
        npy.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale(npy, meta_path)
        meta_path.unlink(missing_ok=True)  # no moment where an old sidecar describes a new .npy
        with open(tmps[0], "wb") as f:
            _write_npy(f, ids)
        os.replace(tmps[0], npy)
        with open(tmps[1], "w", encoding="utf-8") as f:
            json.dump(meta, f)
        os.replace(tmps[1], meta_path)
        return True
    except OSError as e:
        for tmp in tmps:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
        warn_uncached(npy.parent, "the encoded corpus", "read again", e)
        return False


def warn_uncached(folder: Path, what: str, again: str, e: OSError) -> None:
    """The one line a cache that cannot be written costs, once per folder and process (the copy check's
    index cache says it here too): `what` is what was not cached, `again` what happens to it next time."""
    if str(folder) not in _warned:
        _warned.add(str(folder))
        print(
            f"rnntui: warning: cannot cache {what} in {folder} ({e.strerror or e}); it will be {again} next time",
            file=sys.stderr,
        )


def _remove_stale(*paths: Path) -> None:
    """Temp files a killed save left behind (up to the ids' size): removed once their process is gone."""
    for path in paths:
        remove_stale_temps(path.parent, f".{path.name}.tmp*")
