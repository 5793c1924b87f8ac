"""Vocabulary, reading, splits, streams and the built-in corpora."""

import json

import numpy as np
import pytest
import torch

from rnntui.core.data.builtin import BUILTIN, build_python_corpus, generate_brackets, resolve_corpus
from rnntui.core.data.corpus import CorpusError, Vocab, check_windows, corpus_from_text, load_corpus, read_text
from rnntui.core.data.streams import Streams


def test_vocab_is_sorted_set_and_round_trips():
    v = Vocab.from_text("hello, world")
    assert v.chars == "".join(sorted(set("hello, world")))
    ids = v.encode("world")
    assert ids.dtype == np.uint8
    assert v.decode(ids) == "world"


def test_vocab_wide_characters_use_int32():
    text = "".join(chr(0x4E00 + i) for i in range(300))
    v = Vocab.from_text(text)
    assert v.encode(text).dtype == np.int32
    assert v.decode(v.encode(text)) == text


def test_encode_unknown_raises_and_encode_known_skips():
    v = Vocab("abc")
    with pytest.raises(KeyError):
        v.encode("abz")
    ids, skipped = v.encode_known("azbzyc")
    assert v.decode(ids) == "abc" and skipped == "zy"


def test_read_text_bom_and_crlf(tmp_path):
    p = tmp_path / "t.txt"
    p.write_bytes(b"\xef\xbb\xbfone\r\ntwo\rthree\n")
    assert read_text(p) == "one\ntwo\nthree\n"


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "empty"),
        (b"ab\x00cd", "NUL"),
        (b"\xff\xfe\xfa abc", "UTF-8"),
    ],
)
def test_bad_files_give_one_line_reason(tmp_path, content, reason):
    p = tmp_path / "bad.txt"
    p.write_bytes(content)
    with pytest.raises(CorpusError) as e:
        read_text(p)
    assert reason in str(e.value) and str(p) in str(e.value) and "\n" not in str(e.value)


def test_missing_and_directory(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match="directory"):
        read_text(tmp_path)


def test_split_is_contiguous_last_fraction():
    c = corpus_from_text("x", "abcdefghij" * 10, val_frac=0.1)
    assert len(c.val) == 10 and len(c.train) == 90
    assert c.vocab.decode(c.val) == "abcdefghij"
    assert np.array_equal(np.concatenate([c.train, c.val]), c.data)


def test_too_short_for_a_window():
    c = corpus_from_text("short.txt", "abcdefghij" * 3, val_frac=0.1)
    with pytest.raises(CorpusError, match="too short"):
        check_windows(c, seq_len=64, batch_size=4)
    check_windows(c, seq_len=2, batch_size=4)


def test_streams_are_contiguous_windows():
    data = np.arange(1000) % 200
    s = Streams(data.astype(np.uint8), batch=4, seq_len=10, device=torch.device("cpu"))
    x0, y0 = s.window(0)
    x1, _ = s.window(1)
    assert x0.shape == (4, 10) and x0.dtype == torch.long
    assert torch.equal(y0[:, :-1], x0[:, 1:])  # targets are inputs shifted by one
    assert torch.equal(x1[:, 0], y0[:, -1])  # window 1 continues exactly where window 0 ended
    assert s.windows == (1000 // 4 - 1) // 10
    assert torch.equal(s.window(s.windows)[0], x0)  # wraps to the start after an epoch


def test_streams_shrink_batch_for_tiny_data():
    s = Streams(np.zeros(100, dtype=np.uint8), batch=64, seq_len=20, device=torch.device("cpu"))
    assert s.batch == 100 // 21 and s.windows >= 1


def test_builtin_shipped_corpora_load():
    for name in ("tiny", "brackets"):
        c = load_corpus(name)
        assert len(c.data) > 1000 and len(c.vocab) > 10
    assert "python" in BUILTIN


def test_brackets_generator_is_deterministic_and_balanced():
    a, b = generate_brackets(5000, seed=3), generate_brackets(5000, seed=3)
    assert a == b and len(a) >= 5000
    line = a.splitlines()[0]
    depth = 0
    for ch in line.split("=", 1)[1]:
        depth += ch in "([{"
        depth -= ch in ")]}"
        assert depth >= 0
    assert depth == 0


def test_python_corpus_is_deterministic_and_cached(tmp_path, monkeypatch):
    from rnntui.core.data import builtin

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path))
    small = build_python_corpus(target_chars=50_000)
    assert small == build_python_corpus(target_chars=50_000)
    assert "def " in small and small.isascii()
    monkeypatch.setattr("rnntui.core.data.builtin.PYTHON_TARGET_CHARS", 50_000)  # read when the build runs
    builds = []
    real_build = builtin.build_python_corpus
    monkeypatch.setattr(
        "rnntui.core.data.builtin.build_python_corpus", lambda *a, **kw: builds.append(1) or real_build(*a, **kw)
    )
    path = resolve_corpus("python")
    assert path == tmp_path / "python.txt" and path.read_text() == small  # built at the patched size
    assert len(builds) == 1
    assert resolve_corpus("python") == path and len(builds) == 1  # cached: the second call built nothing


# -----------------------------------------------------------------------------
# the streamed loader: chunk boundaries, cache, progress, bad files (issues 10 and 12)

import builtins  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from rnntui.core.data import cache as corpus_cache  # noqa: E402
from rnntui.core.data import read as corpus_read  # noqa: E402
from rnntui.core.data.corpus import corpus_info, encode_file  # noqa: E402
from rnntui.core.model import memory  # noqa: E402

MIXED = "\ufeffH\u00e9llo, w\u00f6rld \u2014 caf\u00e9\r\nline two\rthree \U0001f600 end\r\n" * 7


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder of the test's own."""
    d = tmp_path / "cache"
    monkeypatch.setenv("RNNTUI_CACHE", str(d))
    return d / "corpora"


def _expected(raw: bytes) -> str:
    return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64, 1 << 20])
def test_streamed_load_equals_whole_text_encoding_at_every_chunk_size(tmp_path, cache, monkeypatch, chunk):
    # tiny chunks put CRLFs and every byte of 2-, 3- and 4-byte characters across chunk boundaries
    monkeypatch.setattr(corpus_read, "CHUNK", chunk)
    raw = MIXED.encode("utf-8")
    p = tmp_path / "mixed.txt"
    p.write_bytes(raw)
    text = _expected(raw)
    c = load_corpus(str(p))
    assert c.vocab.chars == "".join(sorted(set(text))) and "\r" not in c.vocab.chars
    assert np.array_equal(c.data, Vocab.from_text(text).encode(text))
    assert c.data.dtype == np.uint8
    assert read_text(p) == text


def test_streamed_load_ascii_and_wide_vocabularies(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(corpus_read, "CHUNK", 100)
    ascii_text = "abc\r\ndef\r" * 50 + "end"
    wide = "".join(chr(0x4E00 + i) for i in range(300)) * 3
    for name, text in (("a.txt", ascii_text), ("w.txt", wide)):
        p = tmp_path / name
        p.write_bytes(text.encode("utf-8"))
        want = _expected(text.encode("utf-8"))
        c = load_corpus(str(p))
        assert c.data.dtype == (np.uint8 if name == "a.txt" else np.int32)
        assert c.vocab.decode(c.data) == want


def test_undecodable_offset_is_absolute_across_chunks(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(corpus_read, "CHUNK", 4)
    p = tmp_path / "bad.txt"
    p.write_bytes(b"\xef\xbb\xbf" + b"abcdefghij\xffxyz")  # offsets count after the BOM, as before
    with pytest.raises(CorpusError, match=r"undecodable byte at offset 10\)"):
        load_corpus(str(p))


def test_progress_reports_bytes_over_both_passes_and_not_on_a_cache_hit(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(corpus_read, "CHUNK", 1000)
    p = tmp_path / "t.txt"
    p.write_text("hello world\n" * 500)
    size = p.stat().st_size
    calls = []
    load_corpus(str(p), progress=lambda done, total: calls.append((done, total)))
    assert len(calls) >= 2 * (size // 1000)  # every chunk of both passes
    assert all(total == 2 * size for _, total in calls)
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and dones[-1] == 2 * size and dones[0] <= 1000
    calls.clear()
    load_corpus(str(p), progress=lambda done, total: calls.append((done, total)))
    assert calls == []  # a cache hit reads no text


def _opens(monkeypatch, path) -> list:
    """Record every open() of `path` (the loader reads the text with the builtin open)."""
    seen, real = [], builtins.open

    def spy(file, *args, **kwargs):
        if os.fspath(file) == os.fspath(path):
            seen.append(file)
        return real(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    return seen


def test_second_load_reads_no_text_and_memory_maps_the_ids(tmp_path, cache, monkeypatch):
    p = tmp_path / "t.txt"
    p.write_text("the cat sat on the mat\n" * 200)
    first = load_corpus(str(p))
    opened = _opens(monkeypatch, p)
    second = load_corpus(str(p))
    assert opened == []
    assert isinstance(second.data, np.memmap) and not second.data.flags.writeable
    assert np.array_equal(first.data, second.data) and first.vocab.chars == second.vocab.chars
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 1_000_000))  # touched: read again
    load_corpus(str(p))
    assert len(opened) == 2  # both passes


def test_a_changed_file_is_encoded_again(tmp_path, cache):
    p = tmp_path / "t.txt"
    p.write_text("aaaa bbbb\n" * 100)
    st = p.stat()
    assert load_corpus(str(p)).vocab.chars == "\n ab"
    p.write_text("zzzz yyyy\n" * 100)  # same size; make the mtime differ even on a coarse clock
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    c = load_corpus(str(p))
    assert c.vocab.chars == "\n yz" and c.vocab.decode(c.data[:10]) == "zzzz yyyy\n"


def _damage(npy, meta, how):
    if how == "truncated":
        npy.write_bytes(npy.read_bytes()[:-7])
    elif how == "flipped":
        b = bytearray(npy.read_bytes())
        b[-3] ^= 1
        npy.write_bytes(bytes(b))
    elif how == "foreign":
        np.save(npy, np.zeros(len(np.load(npy)), dtype=np.uint8))
    elif how == "garbage-npy":
        npy.write_bytes(b"not a numpy file at all")
    elif how == "garbage-json":
        meta.write_text("{not json")
    elif how == "wrong-vocab":
        m = json.loads(meta.read_text())
        m["chars"] = "ab"
        meta.write_text(json.dumps(m))
    elif how == "pickle":
        np.save(npy, np.array([object()] * 3, dtype=object), allow_pickle=True)
    elif how == "no-sidecar":
        meta.unlink()


@pytest.mark.parametrize(
    "how", ["truncated", "flipped", "foreign", "garbage-npy", "garbage-json", "wrong-vocab", "pickle", "no-sidecar"]
)
def test_a_damaged_cache_entry_is_never_trusted_and_is_rebuilt(tmp_path, cache, monkeypatch, how):
    p = tmp_path / "t.txt"
    p.write_text("some text to cache, with a few letters\n" * 50)
    want = load_corpus(str(p))
    want_data = np.array(want.data)
    (npy,) = cache.glob("*.npy")
    (meta,) = cache.glob("*.json")
    _damage(npy, meta, how)
    opened = _opens(monkeypatch, p)
    c = load_corpus(str(p))
    assert len(opened) == 2  # the text was read again, not the damaged entry
    assert np.array_equal(c.data, want_data) and c.vocab.chars == want.vocab.chars
    opened.clear()
    load_corpus(str(p))
    assert opened == []  # and the rebuilt entry is good


def test_an_unwritable_cache_costs_one_warning_line_not_the_load(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("RNNTUI_CACHE", str(blocker / "cache"))  # a folder under a file: never creatable
    p = tmp_path / "t.txt"
    p.write_text("hello there\n" * 20)
    for _ in range(2):
        c = load_corpus(str(p))
        assert c.vocab.decode(c.data) == "hello there\n" * 20
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "warning: cannot cache" in err and "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway")
def test_a_read_only_cache_folder_is_not_an_error(tmp_path, monkeypatch):
    d = tmp_path / "ro"
    (d / "corpora").mkdir(parents=True)
    os.chmod(d / "corpora", 0o555)
    monkeypatch.setenv("RNNTUI_CACHE", str(d))
    p = tmp_path / "t.txt"
    p.write_text("hello there\n" * 20)
    assert len(load_corpus(str(p)).data) == 240
    os.chmod(d / "corpora", 0o755)


def test_a_full_disk_while_caching_leaves_no_temp_file(tmp_path, cache, monkeypatch, capsys):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(corpus_cache, "_write_npy", full)
    monkeypatch.setattr(corpus_cache, "_warned", set())
    p = tmp_path / "t.txt"
    p.write_text("hello there\n" * 20)
    assert len(load_corpus(str(p)).data) == 240
    assert list(cache.iterdir()) == []
    assert "No space left on device" in capsys.readouterr().err


@pytest.mark.parametrize("change", ["grow", "shrink", "rewrite"])
def test_a_file_changing_while_it_loads_is_one_line(tmp_path, cache, monkeypatch, change):
    monkeypatch.setattr(corpus_read, "CHUNK", 1000)
    p = tmp_path / "t.txt"
    p.write_text("abcdefghi\n" * 1000)
    st = p.stat()

    def meddle(done, total):
        if done == 1000:  # during the first pass
            if change == "grow":
                with open(p, "a") as f:
                    f.write("more\n")
            elif change == "shrink":
                os.truncate(p, 5000)
            else:
                p.write_text("ABCDEFGHI\n" * 1000)
                os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))

    with pytest.raises(CorpusError, match="changed while being read") as e:
        load_corpus(str(p), progress=meddle)
    assert "\n" not in str(e.value) and str(p) in str(e.value)
    assert list(cache.glob("*.npy")) == []  # nothing half-true was cached


def test_a_checkpoint_vocabulary_is_kept_and_unknown_characters_named(tmp_path, cache):
    p = tmp_path / "t.txt"
    p.write_text("bad cab\n" * 30)
    for _ in range(2):  # the first load encodes, the second comes from the cache: the same answers
        same = load_corpus(str(p), vocab=Vocab("\n abcd"))
        assert same.vocab.chars == "\n abcd" and same.vocab.decode(same.data[:8]) == "bad cab\n"
        wider = load_corpus(str(p), vocab=Vocab("".join(chr(0x4E00 + i) for i in range(300)) + "\n abcd"))
        assert wider.data.dtype == np.int32 and wider.vocab.decode(wider.data[:8]) == "bad cab\n"
        with pytest.raises(CorpusError, match=r"character 'd' is not in the checkpoint's vocabulary"):
            load_corpus(str(p), vocab=Vocab("\n abc"))


def test_a_corpus_must_be_a_regular_file(tmp_path, cache):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = [(fifo, "pipe"), (tmp_path, "directory"), ("/dev/zero", "device")]
    for path, reason in cases:
        for load in (read_text, load_corpus):
            with pytest.raises(CorpusError, match=reason) as e:  # at once: a FIFO is never opened
                load(str(path))
            assert "\n" not in str(e.value)


def test_a_file_too_large_for_memory_is_refused_up_front(tmp_path, cache, monkeypatch):
    p = tmp_path / "t.txt"
    p.write_text("abc\n" * 1000)
    monkeypatch.setattr(memory, "host_available_bytes", lambda: 1_000_000)
    opened = _opens(monkeypatch, p)
    with pytest.raises(CorpusError, match=r"too large to load: .* GB is available") as e:
        load_corpus(str(p))
    assert opened == [] and "\n" not in str(e.value)
    monkeypatch.setattr(memory, "host_available_bytes", lambda: None)  # unknown: no refusal
    assert len(load_corpus(str(p)).data) == 4000


@pytest.mark.parametrize(
    "encoding,kind",
    [
        ("utf-16", "UTF-16"),
        ("utf-16-le", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-le", "UTF-32"),
    ],
)
def test_utf16_and_utf32_files_are_named_with_a_fix(tmp_path, cache, encoding, kind):
    p = tmp_path / "wide.txt"
    p.write_bytes("Plain old text, in the wrong encoding.\n".encode(encoding) * 20)
    with pytest.raises(CorpusError) as e:
        load_corpus(str(p))
    msg = str(e.value)
    assert f"looks like {kind}" in msg and f"iconv -f {kind} -t UTF-8 {p}" in msg and "NUL" not in msg


def test_nul_bytes_that_are_not_utf16_still_say_nul(tmp_path, cache, monkeypatch):
    monkeypatch.setattr(corpus_read, "CHUNK", 16)
    p = tmp_path / "late.txt"
    p.write_bytes(b"plain text " * 10 + b"\x00\x00" + b"more text")
    with pytest.raises(CorpusError, match="contains NUL bytes"):
        load_corpus(str(p))


def test_corpus_info_matches_the_corpus(tmp_path, cache):
    p = tmp_path / "t.txt"
    p.write_text("one two three\n" * 100)
    info, c = corpus_info(str(p), preview_chars=20), load_corpus(str(p))
    assert (info.chars, info.vocab, info.n_train, info.n_val) == (len(c.data), len(c.vocab), len(c.train), len(c.val))
    assert info.preview == "one two three\none tw" and info.path == p


def test_encode_file_is_the_cache_path(tmp_path, cache):
    p = tmp_path / "t.txt"
    p.write_text("xyz\n" * 10)
    chars, ids = encode_file(p)
    assert chars == "\nxyz" and ids.dtype == np.uint8 and len(ids) == 40
    assert len(list(cache.glob("*.npy"))) == 1 and len(list(cache.glob("*.json"))) == 1


def test_corpus_module_does_not_import_torch():
    code = "import sys, rnntui.core.data.corpus as c; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert out.stdout.split() == ["False"]


def test_probe_text_looks_for_a_line_start_in_a_bounded_prefix():
    from rnntui.core.analysis.probes import probe_text_ids

    early = corpus_from_text("x", "abc\n" + "x" * 200, val_frac=0.99)
    ids = probe_text_ids(early, "", torch.device("cpu"), length=8)
    assert early.vocab.decode(ids) == "xxxxxxxx" and int(ids[0]) == early.vocab.index["x"]
    text = "a" * 100_000 + "\n" + "b" * 200  # the first newline lies beyond the bounded look
    late = corpus_from_text("y", text, val_frac=0.999)
    assert late.vocab.decode(probe_text_ids(late, "", torch.device("cpu"), length=5)) == "aaaaa"


def test_a_killed_save_leaves_no_temp_file_behind_for_long(tmp_path, cache):
    p = tmp_path / "t.txt"
    p.write_text("hello there\n" * 20)
    encode_file(p)
    (npy,) = cache.glob("*.npy")
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    ).stdout.strip()  # a pid that has exited
    stale = cache / f".{npy.name}.tmp{dead}-1"
    live = cache / f".{npy.name}.tmp{os.getpid()}-99"  # a save in progress in a live process
    stale.write_bytes(b"half an array")
    live.write_bytes(b"being written")
    p.write_text("hello again\n" * 20)  # a new version (a new mtime too): encoded and saved again
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 1_000_000))
    encode_file(p)
    assert not stale.exists() and live.exists()


def test_a_file_replaced_with_its_old_size_and_mtime_is_still_read_again(tmp_path, cache):
    # rsync -t or cp -p: same size, same mtime, other content; the inode and ctime tell it apart
    p, q = tmp_path / "t.txt", tmp_path / "new.txt"
    p.write_text("aaaa\n" * 50)
    st = p.stat()
    assert load_corpus(str(p)).vocab.chars == "\na"
    q.write_text("bbbb\n" * 50)
    os.utime(q, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(q, p)
    assert p.stat().st_mtime_ns == st.st_mtime_ns and p.stat().st_size == st.st_size
    assert load_corpus(str(p)).vocab.chars == "\nb"


def test_building_a_builtin_corpus_in_an_unwritable_cache_is_one_line(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("RNNTUI_CACHE", str(blocker / "cache"))
    monkeypatch.setattr("rnntui.core.data.builtin.build_python_corpus", lambda target_chars=0: "x = 1\n" * 100)
    with pytest.raises(CorpusError, match=r"python: cannot build the corpus in .*RNNTUI_CACHE") as e:
        resolve_corpus("python")
    assert "\n" not in str(e.value)
