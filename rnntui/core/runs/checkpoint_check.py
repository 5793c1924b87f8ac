"""Everything a checkpoint file holds, checked before anything uses it.

torch.load(weights_only=True) guarantees a checkpoint runs no code, not that it makes sense: a file
copied from elsewhere, written by another version or edited by hand may hold a step that is text, a
state dict missing a tensor or shaped for another model, or a config that asks for a model larger than
the machine. check_checkpoint() reads every field the commands use (sample, inspect, resume, the app's
generate and inspect) and raises FieldError, one line naming the field, on the first that is wrong, so
no command meets a wrong value as a traceback half-way through. The model's memory is checked before
its shapes: a config too large for the machine is refused without building anything.

    check_checkpoint(d)                 every field, and the memory its model needs
    expected_weights(model_cfg)         name -> shape of the state dict the config describes
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from rnntui.core.config import ModelConfig
from rnntui.core.model.cells import CharModel
from rnntui.core.model.memory import check_model_fits, n_params
from rnntui.core.runs import fields as fv
from rnntui.core.runs.fields import FieldError, checked_config

RNG_BYTES = {"cuda": 16}  # a CUDA generator's state is its seed and offset (the CPU one's size: torch's own)


def check_checkpoint(d: dict[str, Any], fits: bool = True, available: int | None = None) -> None:
    """Raise FieldError (or the memory check's ConfigError) on the first field that is wrong.

    `fits`: also refuse a model that would not fit in memory once built (`available` bytes, default the
    machine's); off only for readers that never build it (the runs listing)."""
    cfg = checked_config(d.get("config"))
    m = cfg.model
    vocab = d.get("vocab")
    if not isinstance(vocab, str) or not vocab or list(vocab) != sorted(set(vocab)):
        raise FieldError(f"vocab must be the model's distinct characters in order, not {fv.show(vocab)}")
    try:
        vocab.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: no text can hold it
        raise FieldError("vocab holds a character that is not Unicode text") from None
    if m.vocab_size != len(vocab):
        raise FieldError(f"config says {m.vocab_size} characters and vocab holds {len(vocab)}")
    fv.whole(d.get("step"), "step")
    if fits:
        check_model_fits(m, len(vocab), available)
    shapes = expected_weights(m)
    _check_weights(d.get("model"), shapes)
    _check_optimizer(d.get("optimizer"), list(shapes.values()))
    _check_state(d.get("state"), m)
    _check_rng(d.get("rng"), "rng", top=True)
    for name in ("history", "grad_history"):
        _check_history(d.get(name), name)
    pairs = _optional(d, "val_history", list, "a list of [step, loss] pairs") or []
    for i, p in enumerate(pairs):
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise FieldError(f"val_history[{i}] must be a [step, loss] pair, not {fv.show(p)}")
        fv.whole(p[0], f"val_history[{i}] step")
        fv.number(p[1], f"val_history[{i}] loss")
    checks: dict[str, Callable[..., object]] = {
        "best_val_loss": fv.number,
        "corpus": fv.text,
        "corpus_fingerprint": fv.text,
        "plan_start": fv.whole,
        "chars_seen": fv.whole,
        "n_params": fv.whole,
    }
    for name, check in checks.items():
        fv.maybe(check, d.get(name), name)
    fv.maybe(fv.whole, d.get("plan_steps"), "plan_steps", lo=1)
    fv.maybe(fv.whole, d.get("world_size"), "world_size", lo=1)
    fv.maybe(fv.number, d.get("wall_s"), "wall_s", lo=0)


def _optional(d: dict[str, Any], name: str, kind: type, what: str) -> Any:
    v = d.get(name)
    if v is not None and not isinstance(v, kind):
        raise FieldError(f"{name} must be {what}, not {fv.show(v)}")
    return v


# -----------------------------------------------------------------------------
# tensors


# Weights above this many bytes are laid out on the meta device (allocating nothing); smaller ones on the
# CPU, which is quicker there: on meta the initialisers run PyTorch's reference ops, whose first call
# imports torch._dynamo (about 2 s on a small CPU, paid by every `rnntui sample` and `inspect`).
META_ABOVE_BYTES = 1 << 26


def expected_weights(m: ModelConfig) -> dict[str, tuple[int, ...]]:
    """The state dict CharModel(m) has, as name -> shape: a large model is built on the meta device, so
    it allocates nothing, and the model's own code is the one home of its layout. The initialisers' draws
    come from a forked generator: opening a checkpoint leaves the caller's random state as it was."""
    meta = 4 * n_params(m, m.vocab_size) > META_ABOVE_BYTES
    with torch.random.fork_rng(devices=[]), torch.device("meta" if meta else "cpu"):  # draws leave no trace
        model = CharModel(m)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _tensor(t: Any, name: str, shape: tuple[int, ...] | None = None, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A dense CPU tensor of real numbers (or exactly `dtype`), of `shape` if given, every value finite."""
    ok = isinstance(t, torch.Tensor) and t.layout == torch.strided and t.device.type == "cpu"
    if ok and dtype is not None:
        ok = t.dtype == dtype
    elif ok:
        ok = t.dtype.is_floating_point
    if not ok:
        raise FieldError(f"{name} must be a CPU tensor of {dtype or 'real numbers'}, not {_describe(t)}")
    if shape is not None and tuple(t.shape) != shape:
        raise FieldError(f"{name} has shape {tuple(t.shape)}, and the model in the config needs {shape}")
    if dtype is None and not bool(torch.isfinite(t).all()):
        raise FieldError(f"{name} holds NaN or infinite values")
    return t


def _describe(t: Any) -> str:
    if isinstance(t, torch.Tensor):
        return f"a {t.layout} {t.dtype} tensor on {t.device.type}"
    return fv.show(t)


def _check_weights(w: Any, shapes: dict[str, tuple[int, ...]]) -> None:
    if not isinstance(w, dict):
        raise FieldError(f"model must be the network's state dict, not {fv.show(w)}")
    missing = [k for k in shapes if k not in w]
    extra = [fv.show(k) for k in w if k not in shapes]
    if missing or extra:
        said = ([f"missing {', '.join(missing[:3])}"] if missing else []) + (
            [f"unexpected {', '.join(extra[:3])}"] if extra else []
        )
        raise FieldError(f"model's state dict does not fit the config's model ({'; '.join(said)})")
    for k, shape in shapes.items():
        _tensor(w[k], f"model[{k}]", shape)


def adamw_defaults() -> dict[str, Any]:
    """AdamW's param-group settings with their defaults, read from its signature rather than from an
    optimiser built for the purpose: building one imports torch._dynamo (PyTorch wraps add_param_group in
    torch._disable_dynamo), about 2 s on a small CPU that `rnntui sample` and `inspect` would pay for each
    checkpoint they open. AdamW is Adam with decoupled weight decay, a setting its signature does not list."""
    sig = inspect.signature(torch.optim.AdamW.__init__).parameters
    return {k: p.default for k, p in sig.items() if k not in ("self", "params")} | {"decoupled_weight_decay": True}


def _check_optimizer(o: Any, shapes: list[tuple[int, ...]]) -> None:
    """AdamW's state dict over the model's parameters, in the order CharModel.parameters() lists them."""
    if o is None:
        return
    if not isinstance(o, dict) or not isinstance(o.get("state"), dict) or not isinstance(o.get("param_groups"), list):
        raise FieldError(f"optimizer must be AdamW's state dict, not {fv.show(o)}")
    groups = o["param_groups"]
    params = groups[0].get("params") if len(groups) == 1 and isinstance(groups[0], dict) else None
    if (
        not isinstance(params, list)
        or [type(i) for i in params] != [int] * len(shapes)
        or params != list(range(len(shapes)))
    ):
        raise FieldError(f"optimizer must hold one group of the model's {len(shapes)} parameters")
    fresh = adamw_defaults()  # the settings of the AdamW rnntui's loop creates
    for key, default in fresh.items():
        if key == "params" or (key not in groups[0] and (default is None or isinstance(default, bool))):
            continue  # a flag left out takes its default when loaded; a number left out is a KeyError in step()
        v, name = groups[0].get(key), f"optimizer {key}"
        if key == "betas":
            if not isinstance(v, (list, tuple)) or len(v) != 2 or not all(0 <= fv.number(b, name) < 1 for b in v):
                raise FieldError(f"{name} must be two numbers in [0, 1), not {fv.show(v)}")
        elif isinstance(default, float):
            fv.number(v, name, lo=0)
        elif not (v is None or isinstance(v, bool)) or (key == "capturable" and v):  # capturable: CUDA only
            raise FieldError(f"{name} must be {default!r}, not {fv.show(v)}")
    amsgrad = groups[0].get("amsgrad") is True  # its state has a third tensor
    for i, s in o["state"].items():
        if not fv.valid(fv.whole, i, hi=len(shapes) - 1) or not isinstance(s, dict):
            raise FieldError(f"optimizer state {fv.show(i)} is not one of the model's parameters")
        step = _tensor(s.get("step"), f"optimizer state {i} step")
        if step.numel() != 1 or float(step) < 0:
            raise FieldError(f"optimizer state {i} step must be one number >= 0")
        for key in ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if amsgrad else ()):
            t = _tensor(s.get(key), f"optimizer state {i} {key}", shapes[i])
            if key != "exp_avg" and bool((t < 0).any()):  # squares: a negative one is a NaN at the next step
                raise FieldError(f"optimizer state {i} {key} holds negative values")


def _check_state(st: Any, m: ModelConfig) -> None:
    """The recurrent state carried between windows: [h] (rnn, gru) or [h, c] (lstm), each (L, N, H)."""
    if st is None:
        return
    n = 2 if m.kind == "lstm" else 1
    if not isinstance(st, (list, tuple)) or len(st) != n:
        raise FieldError(f"state must be a list of {n} tensor{'s' if n > 1 else ''} for a {m.kind}, not {fv.show(st)}")
    first = _tensor(st[0], "state[0]")
    if first.dim() != 3 or first.size(0) != m.layers or first.size(2) != m.hidden or first.size(1) < 1:
        raise FieldError(
            f"state[0] has shape {tuple(first.shape)}, not (layers {m.layers}, streams, hidden {m.hidden})"
        )
    for i in range(1, n):
        _tensor(st[i], f"state[{i}]", tuple(first.shape))


def _check_rng(r: Any, name: str, top: bool = False) -> None:
    """{"torch": the CPU generator's state, "cuda": ... or None, "ranks": [one per process] (top only)}."""
    if r is None:
        return
    if not isinstance(r, dict):
        raise FieldError(f"{name} must be a mapping of generator states, not {fv.show(r)}")
    if r.get("torch") is not None:
        t = _tensor(r["torch"], f"{name} torch", dtype=torch.uint8)
        try:
            torch.Generator().set_state(t)  # a generator of its own: the check changes no random numbers
        except RuntimeError:
            raise FieldError(f"{name} torch is not a CPU generator's state") from None
    if r.get("cuda") is not None:
        _tensor(r["cuda"], f"{name} cuda", (RNG_BYTES["cuda"],), dtype=torch.uint8)
    ranks = r.get("ranks")
    if ranks is not None:
        if not top or not isinstance(ranks, list):
            raise FieldError(f"{name} ranks must be a list of generator states, not {fv.show(ranks)}")
        for i, rank in enumerate(ranks):
            if not isinstance(rank, dict) or "ranks" in rank:
                raise FieldError(f"{name} ranks[{i}] must be a generator state, not {fv.show(rank)}")
            _check_rng(rank, f"{name} ranks[{i}]")


def _check_history(h: Any, name: str) -> None:
    """History.to_dict(): {"steps": [int], "values": [float], "stride": int}, as many steps as values."""
    if h is None or (isinstance(h, dict) and not h):
        return
    if not isinstance(h, dict):
        raise FieldError(f"{name} must be a mapping, not {fv.show(h)}")
    steps, values = h.get("steps", []), h.get("values", [])
    if not isinstance(steps, list) or not isinstance(values, list) or len(steps) != len(values):
        raise FieldError(f"{name} must hold as many steps as values")
    for s in steps:
        fv.whole(s, f"{name} step")
    for v in values:
        fv.number(v, f"{name} value")
    fv.whole(h.get("stride", 1), f"{name} stride", lo=1)
