"""train/optimizer.py: the run's AdamW is PyTorch's fused kernel where the device has one, it takes the same
steps as the default implementation, and a checkpoint saved by either kernel resumes with this run's."""

import threading

import pytest
import torch
from helpers import tiny_config

from rnntui.core.config import ModelConfig, TrainConfig
from rnntui.core.data.corpus import corpus_from_text
from rnntui.core.model.cells import CharModel, loss_fn
from rnntui.core.runs.checkpoints import load_checkpoint, save_checkpoint
from rnntui.core.train.loop import TrainLoop
from rnntui.core.train.optimizer import adamw, as_built

TEXT = ("a stitch in time saves nine; (nested (brackets)) close. " * 30 + "\n") * 3
CPU = torch.device("cpu")


def cfg_for(vocab: int, kind: str = "lstm") -> TrainConfig:
    """helpers.tiny_config's 2x16 model, sized to `vocab`, with weight decay (so AdamW's decoupled decay
    is exercised too), 30 steps, no run folder, fp32."""
    model = ModelConfig(kind=kind, hidden=16, layers=2, embed=8, vocab_size=vocab)
    return tiny_config(".", model=model, weight_decay=0.1, steps=30, save=False, bf16=False)


def test_the_cpu_optimizer_is_fused_and_keeps_the_configs_settings():
    cfg = cfg_for(20)
    opt = adamw(CharModel(cfg.model).parameters(), cfg)
    g = opt.param_groups[0]
    assert g["fused"] is True and g["lr"] == cfg.lr and g["weight_decay"] == cfg.weight_decay


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_fused_takes_the_default_implementations_steps(kind):
    """The oracle: PyTorch's default (per-tensor) AdamW on a copy of the same model, fed the same batches."""
    cfg = cfg_for(20, kind)
    torch.manual_seed(0)
    a = CharModel(cfg.model)
    b = CharModel(cfg.model)
    b.load_state_dict(a.state_dict())
    fused = adamw(a.parameters(), cfg)
    plain = torch.optim.AdamW(b.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    assert plain.param_groups[0]["fused"] is not True
    gen = torch.Generator().manual_seed(1)
    for _ in range(20):
        x = torch.randint(0, 20, (4, 16), generator=gen)  # (B, T)
        y = torch.randint(0, 20, (4, 16), generator=gen)
        for model, opt in ((a, fused), (b, plain)):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x)[0], y).backward()
            opt.step()
    for (k, wa), wb in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(wa, wb, rtol=1e-5, atol=1e-6, msg=k)
    assert not torch.equal(a.state_dict()["head.weight"], CharModel(cfg.model).state_dict()["head.weight"])


def loop_for(cfg: TrainConfig) -> TrainLoop:
    corpus = corpus_from_text("mem", TEXT, 0.1)
    return TrainLoop(cfg, corpus, CPU, None, threading.Lock(), fingerprint="f00d")


def test_a_checkpoint_from_the_default_kernel_resumes_fused_on_the_same_steps(tmp_path):
    """A checkpoint written before this change (its optimiser unfused) resumes on the fused kernel, and
    the resumed run takes the steps an unfused one would, to rounding."""
    corpus = corpus_from_text("mem", TEXT, 0.1)
    cfg = cfg_for(len(corpus.vocab))
    old = loop_for(cfg)
    old.opt = torch.optim.AdamW(old.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)  # as before
    for _ in range(5):
        old.optimise()
    save_checkpoint(tmp_path / "old.pt", old.state_dict())
    ck = load_checkpoint(tmp_path / "old.pt")
    assert ck["optimizer"]["param_groups"][0]["fused"] is not True  # the saved choice: the default kernel
    new = loop_for(cfg)
    new.load_state_dict(ck)
    assert new.opt.param_groups[0]["fused"] is True  # resumed on this run's kernel, not the saved one
    for _ in range(5):
        old.optimise()
        new.optimise()
    for (k, wa), wb in zip(old.model.state_dict().items(), new.model.state_dict().values()):
        torch.testing.assert_close(wa, wb, rtol=1e-5, atol=1e-6, msg=k)
    assert new.step == 10


def test_as_built_changes_only_the_kernel_flags():
    cfg = cfg_for(20)
    model = CharModel(cfg.model)
    saved = torch.optim.AdamW(model.parameters(), lr=0.5, weight_decay=0.25, foreach=True).state_dict()
    fitted = as_built(saved, adamw(model.parameters(), cfg))
    g, s = fitted["param_groups"][0], saved["param_groups"][0]
    assert g["fused"] is True and g["foreach"] is None  # fused and foreach cannot both be set
    assert {k: v for k, v in g.items() if k not in ("fused", "foreach")} == {
        k: v for k, v in s.items() if k not in ("fused", "foreach")
    }
    assert fitted["state"] is saved["state"] and s["foreach"] is True  # the saved dict itself is left alone


# -----------------------------------------------------------------------------
# opening a checkpoint builds no optimiser (that would import torch._dynamo: seconds per `rnntui sample`)


def test_the_checked_adamw_settings_are_a_built_adamws():
    from rnntui.core.runs.checkpoint_check import adamw_defaults

    built = torch.optim.AdamW([torch.zeros(1)]).param_groups[0]
    assert adamw_defaults() == {k: v for k, v in built.items() if k != "params"}


def test_opening_a_checkpoint_does_not_import_dynamo(tmp_path):
    import subprocess
    import sys

    from helpers import rnntui_env

    loop = loop_for(cfg_for(len(corpus_from_text("mem", TEXT, 0.1).vocab)))
    loop.optimise()
    save_checkpoint(tmp_path / "c.pt", loop.state_dict())
    code = (
        "import sys; from rnntui.core.runs.checkpoints import load_checkpoint; "
        f"ck = load_checkpoint({str(tmp_path / 'c.pt')!r}); "
        "print(ck['step'], 'torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=rnntui_env(), timeout=120)
    assert out.returncode == 0 and out.stdout.split() == ["1", "False"], out.stderr[-600:]


def test_checking_a_checkpoint_leaves_the_random_state_alone(tmp_path):
    from rnntui.core.runs.checkpoints import load_checkpoint

    loop = loop_for(cfg_for(len(corpus_from_text("mem", TEXT, 0.1).vocab)))
    save_checkpoint(tmp_path / "c.pt", loop.state_dict())
    torch.manual_seed(7)
    want = torch.rand(3)
    torch.manual_seed(7)
    load_checkpoint(tmp_path / "c.pt")  # builds the model to learn its layout
    assert torch.equal(torch.rand(3), want)
