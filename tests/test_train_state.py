"""The training loop's state in one place (issue 19): TrainLoop.state_dict() is the checkpoint, load_state_dict()
puts one back, credit_pause() is the one way to take time out of its clocks, and no other module writes its
attributes. (Resuming exactly through checkpoint files: test_engine.py, test_distributed.py.)"""

import ast
import threading
from pathlib import Path

import torch

import rnntui
from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.data.corpus import corpus_from_text
from rnntui.core.runs.checkpoints import check_dict, load_checkpoint, save_checkpoint
from rnntui.core.train.loop import TrainLoop

TEXT = ("the quick brown fox jumps over the lazy dog. " * 40 + "\n") * 3
CPU = torch.device("cpu")


def tiny_loop() -> TrainLoop:
    """A loop as the Trainer builds one (its model sized to the corpus's vocabulary), without a run folder."""
    corpus = corpus_from_text("mem", TEXT, 0.1)
    model = ModelConfig(kind="gru", hidden=16, layers=2, embed=8, vocab_size=len(corpus.vocab))
    cfg = TrainConfig(
        corpus="mem",
        model=model,
        seq_len=16,
        batch_size=4,
        lr=1e-2,
        steps=40,
        warmup=3,
        val_frac=0.1,
        save=False,
        probe_hz=0,
        sample_every_s=0,
        device="cpu",
        bf16=False,
    )
    return TrainLoop(cfg, corpus, CPU, None, threading.Lock(), fingerprint="f00d")


# -----------------------------------------------------------------------------
# the state dict, both ways


def test_a_state_dict_loaded_into_a_new_loop_takes_the_same_steps(tmp_path):
    a = tiny_loop()
    for _ in range(5):
        a.optimise()
    save_checkpoint(tmp_path / "a.pt", a.state_dict())  # (in memory the dict shares a's tensors, as torch's do)
    b = tiny_loop()
    b.load_state_dict(load_checkpoint(tmp_path / "a.pt"))  # the checked dict, after construction
    assert b.step == b.start_step == b.at_start.step == 5 and b.state is not None
    for _ in range(3):
        a.optimise()
        b.optimise()
    for (k, wa), wb in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(wa, wb), k
    assert all(torch.equal(x, y) for x, y in zip(a.state, b.state))  # the carried state went on alike
    assert b.state_dict()["corpus_fingerprint"] == "f00d" and b.state_dict()["plan_steps"] == 40


def test_every_field_the_state_dict_writes_is_checked_on_load():
    """checkpoint_check.py reads each field state_dict() writes: a field added to one and not the other fails."""
    loop = tiny_loop()
    loop.optimise()
    read: set[str] = set()

    class Spy(dict):
        def get(self, k, default=None):
            read.add(k)
            return super().get(k, default)

        def __getitem__(self, k):
            read.add(k)
            return super().__getitem__(k)

    d = loop.state_dict()
    check_dict(Spy(d), "spy.pt")
    assert read == set(d), (set(d) - read, read - set(d))


# -----------------------------------------------------------------------------
# the clocks


def test_credit_pause_takes_time_out_of_the_clocks():
    loop = tiny_loop()
    before = loop.elapsed()
    loop.credit_pause(100.0)
    assert loop.elapsed() < before - 99  # budgets, chars/s and wall time leave it out
    loop.credit_pause(-5.0)  # nothing to credit
    assert loop.elapsed() < before - 99


# -----------------------------------------------------------------------------
# nobody else writes the loop


def _loop_ref(node: ast.AST) -> bool:
    """`loop`, `self.loop` or `self._loop`: how the modules name a TrainLoop they hold."""
    return (isinstance(node, ast.Name) and node.id == "loop") or (
        isinstance(node, ast.Attribute) and node.attr in ("loop", "_loop")
    )


def _on_loop(node: ast.AST) -> bool:
    """An attribute (or item of one) of a loop: loop.x, loop.x.y, loop.x[i]."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if _loop_ref(node.value):
            return True
        node = node.value
    return False


MUTATORS = {"append", "insert", "extend", "add", "clear", "pop", "update", "remove", "zero_", "copy_"}


def loop_writes(source: str) -> list[int]:
    """Lines that assign to a loop's attributes or change one in place."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            targets = [ast.Attribute(value=node.args[0], attr="?")] if node.args else []
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            targets = [node.func.value]
        flat = [e for t in targets for e in (t.elts if isinstance(t, ast.Tuple) else [t])]
        if any(_on_loop(t) for t in flat):
            lines.append(node.lineno)
    return sorted(lines)


def test_nothing_outside_the_loop_writes_its_attributes():
    package = Path(rnntui.__path__[0])
    own = {package / "core" / "train" / "loop.py", package / "core" / "train" / "state.py"}
    found = {
        str(p.relative_to(package)): lines
        for p in sorted(package.rglob("*.py"))
        if p not in own
        if (lines := loop_writes(p.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_writes_check_sees_a_write():
    assert loop_writes(
        "loop.paused_s += 1\nself._loop.step = 3\nloop.notes.insert(0, 'x')\n"
        "a, loop.best = 1, 2\nsetattr(loop, 'x', 1)\n"
    ) == [1, 2, 3, 4, 5]
    assert loop_writes("self.loop = loop\nloop.credit_pause(1.0)\nx = loop.step\n") == []
