"""Reading a corpus file in bounded chunks: the checks on the file, and its characters as code arrays.

A corpus may be gigabytes, so it is never held as one Python str: the file is read a few MB at a time,
each chunk cut between whole UTF-8 characters (and never between a CR and its LF), and turned into an
array of code points (uint8 for an ASCII chunk, uint32 otherwise) that the caller folds into a
vocabulary or into ids. The messages are one line naming the file, as everywhere in rnntui.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnntui.core.config import RnntuiError
from rnntui.core.model import memory

CHUNK = 4 << 20  # bytes read at a time: big enough for numpy to be fast, small next to any corpus
SNIFF = 64 << 10  # bytes looked at to tell UTF-16/32 from UTF-8
BOM = b"\xef\xbb\xbf"
Progress = Callable[[int, int], None]  # (bytes read so far, bytes to read in all)


class CorpusError(RnntuiError):
    """The text cannot be used; the message is one line naming the file and the reason."""


# -----------------------------------------------------------------------------
# the file itself: a regular, readable, non-empty UTF-8 file


@dataclass(frozen=True)
class FileKey:
    """What identifies one version of a file: a changed size or mtime means changed content. The inode
    and ctime catch what those miss: a file replaced by rename, or copied in with its old mtime kept."""

    path: str  # resolved absolute path
    size: int  # bytes
    mtime_ns: int  # modification time, nanoseconds
    ctime_ns: int  # status change time: moves on every write, and cannot be set back by touch or rsync
    inode: int  # st_ino: a new file under the same name is another file


def file_key(p: Path) -> FileKey:
    """Stat the file and refuse anything that is not a regular file, in one line."""
    try:
        st = p.stat()
    except FileNotFoundError:
        raise CorpusError(f"{p}: no such file") from None
    except OSError as e:
        raise CorpusError(f"{p}: cannot read ({e.strerror or e})") from None
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise CorpusError(f"{p}: is a directory, not a text file")
    if stat.S_ISFIFO(mode):
        raise CorpusError(f"{p}: is a pipe (FIFO), not a regular file; save its output to a file first")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        raise CorpusError(f"{p}: is a device, not a regular file; a corpus must be a text file")
    if not stat.S_ISREG(mode):
        raise CorpusError(f"{p}: is not a regular file; a corpus must be a text file")
    if st.st_size == 0:
        raise CorpusError(f"{p}: file is empty")
    return FileKey(str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def sniff_encoding(p: Path, head: bytes, size: int) -> None:
    """Name UTF-16/UTF-32 (a BOM, or NULs in every other byte) instead of calling it binary."""

    def wide(kind: str) -> CorpusError:
        return CorpusError(f"{p}: looks like {kind}; convert it to UTF-8, e.g. iconv -f {kind} -t UTF-8 {p} > out.txt")

    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") and size % 4 == 0:
        raise wide("UTF-32")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") and size % 2 == 0:
        raise wide("UTF-16")
    n = len(head) // 4 * 4
    if n < 4 or b"\x00" not in head:
        return
    nul = np.frombuffer(head[:n], dtype=np.uint8).reshape(-1, 4) == 0  # (n/4, 4)
    share = nul.mean(axis=0)  # the share of NULs at each byte position mod 4
    if (share[1:] > 0.9).all() or (share[:3] > 0.9).all():  # ASCII text as UTF-32 LE / BE
        raise wide("UTF-32")
    even, odd = share[[0, 2]].mean(), share[[1, 3]].mean()
    if max(even, odd) > 0.5 and min(even, odd) < 0.05:  # mostly-ASCII text as UTF-16 LE / BE
        raise wide("UTF-16")


# -----------------------------------------------------------------------------
# memory: refuse up front what cannot fit


def check_memory(p: Path, size: int, n_ids: int, itemsize: int) -> None:
    """The ids (plus a working margin) must fit in the memory available now."""
    avail = memory.host_available_bytes()  # the cgroup's limit too: a container kills, it does not refuse
    need = n_ids * itemsize + 16 * CHUNK
    if avail is not None and need > avail:
        raise CorpusError(
            f"{p}: too large to load: {size / 1e9:.2f} GB of text needs about {need / 1e9:.2f} GB of memory "
            f"for its character ids ({itemsize} byte{'s' if itemsize > 1 else ''} per char), and "
            f"{avail / 1e9:.2f} GB is available"
        )


# -----------------------------------------------------------------------------
# chunks of whole characters


def _cut(buf: bytes) -> int:
    """How much of buf ends on a whole character and not on a CR (its LF may be in the next read)."""
    n = len(buf)
    i = n - 1
    while i > n - 4 and i > 0 and buf[i] & 0xC0 == 0x80:  # back over continuation bytes to the lead
        i -= 1
    lead = buf[i] if n else 0
    if lead >= 0xC0:  # a multi-byte lead: is its whole sequence here?
        need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        n = n if i + need <= n else i
    if n and buf[n - 1] == 0x0D:
        n -= 1
    return n


def pieces(
    p: Path, key: FileKey, progress: Progress | None = None, done: int = 0, total: int | None = None
) -> Iterator[tuple[bytes, int]]:
    """The file as (bytes, offset) pieces of whole characters, BOM removed; offsets count after the BOM.

    Raises CorpusError for NUL bytes (naming UTF-16/32 when it looks like it). `done`/`total` place this
    pass within a longer job for `progress`.
    """
    total = key.size if total is None else total
    try:
        f = open(p, "rb")
    except OSError as e:
        raise CorpusError(f"{p}: cannot read ({e.strerror or e})") from None
    with f:
        try:
            head = f.read(SNIFF)
            sniff_encoding(p, head, key.size)
            read = len(BOM) if head.startswith(BOM) else 0  # offsets in messages count after the BOM
            f.seek(read)
        except OSError as e:
            raise CorpusError(f"{p}: cannot read ({e.strerror or e})") from None
        carry, offset = b"", 0
        while True:
            try:
                data = f.read(CHUNK)
            except OSError as e:
                raise CorpusError(f"{p}: cannot read ({e.strerror or e})") from None
            read += len(data)
            buf = carry + data if carry else data
            cut = _cut(buf) if data else len(buf)
            piece, carry = buf[:cut], buf[cut:]
            if b"\x00" in piece:
                raise CorpusError(f"{p}: not a text file (contains NUL bytes)")
            if progress is not None and data:
                progress(done + read, total)
            if piece:
                yield piece, offset
            offset += len(piece)
            if not data:
                break
    if read != key.size:
        raise changed(p, key.size, read)


def changed(p: Path, before: int, after: int) -> CorpusError:
    what = "rewritten" if before == after else f"{before:,} bytes, then {after:,}"
    return CorpusError(f"{p}: changed while being read ({what}); load it again once it is complete")


def decode(p: Path, piece: bytes, offset: int) -> str:
    """A piece as text, line ends normalised (CRLF and lone CR -> LF)."""
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(f"{p}: not UTF-8 text (undecodable byte at offset {offset + e.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def codes(p: Path, piece: bytes, offset: int) -> np.ndarray:
    """A piece's characters as code points: (n,) uint8 for ASCII (no decoding at all), else uint32."""
    if piece.isascii():
        if b"\r" in piece:
            piece = piece.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return np.frombuffer(piece, dtype=np.uint8)
    return np.frombuffer(decode(p, piece, offset).encode("utf-32-le"), dtype=np.uint32)
