"""Vocabulary, reading, splits, streams and the built-in corpora."""
import numpy as np
import pytest
import torch

from rnntui.core.builtin import BUILTIN, build_python_corpus, generate_brackets, resolve_corpus
from rnntui.core.corpus import (CorpusError, Streams, Vocab, check_windows, corpus_from_text,
                                load_corpus, read_text)


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


@pytest.mark.parametrize("content,reason", [
    (b"", "empty"), (b"ab\x00cd", "NUL"), (b"\xff\xfe\xfa abc", "UTF-8"),
])
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
    from rnntui.core import builtin

    monkeypatch.setenv("RNNTUI_CACHE", str(tmp_path))
    small = build_python_corpus(target_chars=50_000)
    assert small == build_python_corpus(target_chars=50_000)
    assert "def " in small and small.isascii()
    monkeypatch.setattr("rnntui.core.builtin.PYTHON_TARGET_CHARS", 50_000)  # read when the build runs
    builds = []
    real_build = builtin.build_python_corpus
    monkeypatch.setattr("rnntui.core.builtin.build_python_corpus",
                        lambda *a, **kw: builds.append(1) or real_build(*a, **kw))
    path = resolve_corpus("python")
    assert path == tmp_path / "python.txt" and path.read_text() == small  # built at the patched size
    assert len(builds) == 1
    assert resolve_corpus("python") == path and len(builds) == 1  # cached: the second call built nothing
