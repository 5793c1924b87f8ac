"""`rnntui corpora`: the built-in corpora with their size and vocabulary."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rnntui.cli.options import Parser
from rnntui.core.textsafe import visible


def cmd_corpora(argv: Sequence[str]) -> int:
    Parser(prog="rnntui corpora", description="List the built-in corpora.").parse_args(argv)
    from rnntui.core.config import RnntuiError
    from rnntui.core.data.builtin import BUILTIN, cache_dir, resolve_corpus
    from rnntui.core.data.corpus import corpus_info

    print(f"{'name':<10} {'chars':>10} {'vocab':>6}  file")
    for name in BUILTIN:
        try:
            if name == "python" and not (cache_dir() / "python.txt").exists():
                print("(building the python corpus from the standard library on first use...)", file=sys.stderr)
            path = resolve_corpus(name)
            info = corpus_info(str(path))  # streamed and cached: no whole text held in Python
            print(f"{name:<10} {info.chars:>10,} {info.vocab:>6}  {visible(str(path))}")
        except RnntuiError as e:
            print(f"{name:<10} {'-':>10} {'-':>6}  unavailable: {visible(str(e))}")
    print("Any UTF-8 text file works too: rnntui train PATH")
    return 0
