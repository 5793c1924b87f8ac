"""`rnntui inspect CHECKPOINT [--text TEXT | --file PATH] [--json | --effective-context]`: the inspector,
opened on a checkpoint; or, with --json or --effective-context, its numbers printed without the app.

--json prints one object for the prediction after the text's last character (scripts are written
against it): {"next": [[char, prob], ...5], "influence": [one share per character of the text],
"reach90": int, "method": str, "target": char, "strongest": {"char", "distance"}, "summary": str,
"window": int, "text": str}. Without --text or --file it reads what the inspector opens on: the first
3,000 characters of the checkpoint corpus's validation split (or the built-in text when it is absent).
--effective-context prints how far back the model looks over held-out text (rnntui.core.analysis.context):
a sentence and the influence within 1, 2, 4... characters, or with --json one object.
These two are headless: guarded output (cli/output.py), as for the commands in cli.HEADLESS.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rnntui.cli.options import Parser, fail

METHODS = ("gradient-x-input", "integrated-gradients")  # rnntui.core.analysis.influence.METHODS (torch-free here)


def inspect_parser() -> Parser:
    p = Parser(prog="rnntui inspect", description="Explore a model's hidden states over a text.")
    p.add_argument("checkpoint")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--text", help="text to run the model over")
    g.add_argument("--file", help="file whose text to run the model over")
    a = p.add_argument
    a(
        "--json",
        action="store_true",
        help="print the prediction after the text's last character and each "
        "character's influence on it as one JSON object, without opening the app",
    )
    a(
        "--effective-context",
        action="store_true",
        help="print how far back the model looks: influence "
        "against distance, averaged over predictions of the corpus's validation split (or of --text/--file)",
    )
    a(
        "--method",
        choices=METHODS,
        help="attribution method (default gradient-x-input; integrated-gradients is about 10x slower)",
    )
    a(
        "--window",
        type=int,
        help="characters the influence is measured over (default: the whole text, up to "
        "the last 10,000, for --json; 300 for --effective-context)",
    )
    a("--positions", type=int, help="predictions averaged by --effective-context (default 128)")
    return p


def cmd_inspect(argv: Sequence[str]) -> int:
    args = inspect_parser().parse_args(argv)
    if args.json or args.effective_context:
        from rnntui.cli.output import guarded_output

        with guarded_output() as output:
            status = _headless(args)
        return output.exit_status(status)
    for name in ("method", "window", "positions"):
        if getattr(args, name) is not None:
            return fail(f"--{name} goes with --json or --effective-context (the app does not take it)")
    from rnntui.core.config import RnntuiError

    text = args.text
    try:
        from rnntui.core.runs.checkpoints import load_checkpoint

        load_checkpoint(args.checkpoint)  # fail fast with a one-line message, before the TUI opens
        if args.file:
            from rnntui.core.data.corpus import read_text

            text = read_text(args.file)
    except RnntuiError as e:
        return fail(str(e))
    from rnntui.ui.app import run_tui

    return run_tui(inspect_checkpoint=args.checkpoint, inspect_text=text)


# -----------------------------------------------------------------------------
# headless


def _headless(args: Any) -> int:
    if args.window is not None and args.window < 1:
        return fail(f"--window must be at least 1 (got {args.window})")
    if args.positions is not None and not args.effective_context:
        return fail("--positions goes with --effective-context")
    if args.positions is not None and args.positions < 1:
        return fail(f"--positions must be at least 1 (got {args.positions})")
    from rnntui.core.config import RnntuiError

    try:
        from rnntui.core.data.corpus import read_text
        from rnntui.core.runs.checkpoints import load_checkpoint

        ckpt = load_checkpoint(args.checkpoint)
        text = read_text(args.file) if args.file else args.text
        if text is not None and not text:
            return fail("the text is empty: give at least one character")
        if args.effective_context:
            return _print_context(ckpt, text, args)
        return _print_prediction(ckpt, text, args)
    except RnntuiError as e:
        return fail(str(e))
    except OSError as e:
        return fail(f"{e.filename or ''}: {e.strerror or e}".lstrip(": "))


def _print_prediction(ckpt: dict, text: str | None, args: Any) -> int:
    import numpy as np

    from rnntui.core.analysis.influence import GRADIENT_X_INPUT, influence, reach, spread, strongest, summary
    from rnntui.core.analysis.inspect import TOP_K, InspectError, align, default_text
    from rnntui.core.runs.checkpoints import model_from_checkpoint

    model, vocab, cfg = model_from_checkpoint(ckpt)
    if text is None:
        text = default_text(cfg, vocab)  # what the inspector opens on
    ids, _, pos_of = align(text, vocab)
    if ids.size == 0:
        raise InspectError("none of the text's characters are in the model's vocabulary")
    method = args.method or GRADIENT_X_INPUT
    infl = influence(model, ids, window=args.window, method=method)  # None: the whole text
    shares = spread(infl.weights, pos_of[ids.size - infl.weights.size :], len(text))  # (len(text),)
    top = np.argsort(-infl.probs, kind="stable")[: min(TOP_K, len(vocab))]
    d = strongest(shares)
    out = {
        "next": [[vocab.chars[i], round(float(infl.probs[i]), 6)] for i in top],
        "influence": [float(x) for x in shares],
        "reach90": reach(shares),
        "method": method,
        "target": vocab.chars[infl.target],  # the next character whose log-probability was explained
        "strongest": None if d is None else {"char": text[-d], "distance": d},
        "summary": summary(text, shares),
        "window": int(infl.weights.size),  # model steps attributed (characters outside the vocabulary: 0)
        "text": text,
    }
    print(json.dumps(out, ensure_ascii=True))  # every control character escaped
    return 0


def _print_context(ckpt: dict, text: str | None, args: Any) -> int:
    from rnntui.core.analysis.context import POSITIONS, checkpoint_context
    from rnntui.core.analysis.influence import GRADIENT_X_INPUT, WINDOW
    from rnntui.core.textsafe import visible

    method = args.method or GRADIENT_X_INPUT
    ec = checkpoint_context(
        ckpt, text, window=args.window or WINDOW, positions=args.positions or POSITIONS, method=method
    )
    assert ec is not None  # None only when a stop event cuts it short, and none is given here
    source = "the given text" if text is not None else "the validation split"
    if args.json:
        cfg = ckpt.get("config", {})
        corpus = cfg.get("corpus") if isinstance(cfg, dict) else None
        print(
            json.dumps(
                {**ec.to_json(), "source": "text" if text is not None else "validation", "corpus": corpus},
                ensure_ascii=True,
            )
        )
    else:
        print(f"{ec.sentence()}, on {visible(source)}")
        print(ec.curve_line())
    return 0
