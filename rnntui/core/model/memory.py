"""Will it fit? An estimate of a model's memory, checked before the model is built, and the one place
that says how much memory there is.

A model that does not fit fails late and badly: an allocation traceback, or the OOM killer after a minute
of silence. The estimates are deliberately simple and err high: training needs parameters x 16 bytes
(fp32 weights, gradients and AdamW's two moments) plus the activations a fused kernel keeps for backward;
loading a checkpoint to generate or inspect needs parameters x 12 bytes (the loaded weights, the model's
own copy, the sampler's float32 tables).

The memory available is the host's MemAvailable, or less when this process's cgroup (a container's
memory limit) leaves less: past that limit the kernel kills the process rather than failing an
allocation, so a model too large for the container must be refused, not started.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnntui.core.config import GATES, ConfigError, ModelConfig

FIT_FRACTION = 0.9  # refuse when the estimate is above this share of the memory available
NO_LIMIT = 1 << 60  # cgroup v1 writes "no limit" as 2**63 minus a page; anything this large is none


def n_params(m: ModelConfig, vocab_size: int) -> int:
    """Trainable parameters of CharModel (embedding, recurrent layers with both biases, head)."""
    g, h = GATES[m.kind], m.hidden
    rec = sum(g * h * ((m.embed if layer == 0 else h) + h) + 2 * g * h for layer in range(m.layers))
    return vocab_size * m.embed + rec + h * vocab_size + vocab_size


def training_bytes(m: ModelConfig, vocab_size: int, batch: int, seq_len: int) -> int:
    """Bytes one training step needs: weights, gradients, AdamW state, activations (fp32)."""
    g = GATES[m.kind]
    per_char = m.embed + m.layers * m.hidden * (g + 2) + 3 * vocab_size  # kept for backward, per timestep
    activations = 2 * batch * seq_len * per_char * 4  # the backward pass needs about as much again
    return 16 * n_params(m, vocab_size) + activations


def inference_bytes(m: ModelConfig, vocab_size: int) -> int:
    """Bytes to build a model from a checkpoint and run it (generate, inspect): three fp32 copies."""
    return 12 * n_params(m, vocab_size)


# -----------------------------------------------------------------------------
# how much memory there is


def available_bytes(device: str) -> int | None:
    """Memory a run may use: free GPU memory on CUDA, host_available_bytes() otherwise; None when unknown."""
    if device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    return host_available_bytes()


def host_available_bytes(proc: Path = Path("/proc"), cgroups: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes a new allocation may take: min(MemAvailable, the cgroup's limit - its usage); None when unknown.

    `proc` and `cgroups` are where /proc and the cgroup mount are (tests point them at made-up trees)."""
    found = [n for n in (_mem_available(proc), cgroup_headroom(proc, cgroups)) if n is not None]
    if found:
        return min(found)
    try:  # no /proc (macOS): what the OS calls free pages
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _mem_available(proc: Path) -> int | None:
    try:
        with open(proc / "meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cgroup_headroom(proc: Path = Path("/proc"), cgroups: Path = Path("/sys/fs/cgroup")) -> int | None:
    """Bytes left under this process's tightest cgroup memory limit (v2 memory.max, v1
    memory.limit_in_bytes, over the cgroup and its ancestors); None when there is no limit.

    Usage counts the page cache, which the kernel drops before it kills anything, so the inactive file
    pages are left out of it (as container runtimes do for their "working set")."""
    try:
        lines = (proc / "self" / "cgroup").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    found: list[int] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, rel = parts
        if hierarchy == "0" and controllers == "":  # v2: one unified tree
            found += _headrooms(cgroups, rel, "memory.max", "memory.current", "inactive_file")
        elif "memory" in controllers.split(","):  # v1: the memory controller's own tree
            found += _headrooms(
                cgroups / "memory", rel, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"
            )
    return min(found) if found else None


def _headrooms(mount: Path, rel: str, limit_file: str, usage_file: str, inactive_key: str) -> list[int]:
    """limit - (usage - inactive file pages) of the cgroup at `rel` and of every ancestor that has a limit."""
    leaf = mount / rel.strip("/")
    if not leaf.is_dir():  # a container without a cgroup namespace: its own cgroup is mounted at the root
        leaf = mount
    out, d = [], leaf
    while True:
        limit = _read_int(d / limit_file)  # v2 writes "max" for no limit: not a number, skipped
        if limit is not None and limit < NO_LIMIT:
            usage = _read_int(d / usage_file) or 0
            inactive = _stat_value(d / "memory.stat", inactive_key)
            out.append(max(0, limit - max(0, usage - inactive)))
        if d == mount or mount not in d.parents:
            return out
        d = d.parent


def _read_int(p: Path) -> int | None:
    try:
        return int(p.read_text().strip())
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def _stat_value(p: Path, key: str) -> int:
    try:
        for line in p.read_text().splitlines():
            name, _, value = line.partition(" ")
            if name == key:
                return int(value)
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return 0


# -----------------------------------------------------------------------------
# the checks


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def check_fits(
    m: ModelConfig, vocab_size: int, batch: int, seq_len: int, device: str, available: int | None = None
) -> None:
    """Raise a one-line ConfigError with the figures and a size that would fit, when it would not."""
    have = available if available is not None else available_bytes(device)
    need = training_bytes(m, vocab_size, batch, seq_len)
    if have is None or need <= FIT_FRACTION * have:
        return
    hint = ""
    for hidden in (4096, 2048, 1024, 512, 256, 128, 64):
        if (
            hidden < m.hidden
            and training_bytes(_with_hidden(m, hidden), vocab_size, batch, seq_len) <= FIT_FRACTION * have
        ):
            hint = f"; --hidden {hidden} would fit"
            break
    raise _too_large(m, vocab_size, need, have, "to train", device, hint)


def check_model_fits(m: ModelConfig, vocab_size: int, available: int | None = None) -> None:
    """Before a checkpoint's model is built on the CPU (generate, inspect, resume): refuse, in one line,
    one that would not fit, instead of allocating until the machine or the container gives out."""
    have = available if available is not None else host_available_bytes()
    need = inference_bytes(m, vocab_size)
    if have is not None and need > FIT_FRACTION * have:
        raise _too_large(m, vocab_size, need, have, "to load", "cpu", "")


def _too_large(m: ModelConfig, vocab_size: int, need: int, have: int, verb: str, device: str, hint: str) -> ConfigError:
    return ConfigError(
        f"model too large for this machine: {m.layers}x{m.hidden} {m.kind} has {n_params(m, vocab_size) / 1e6:,.1f}M "
        f"parameters and needs about {_gb(need)} {verb}, {_gb(have)} available on {device}{hint}"
    )


def _with_hidden(m: ModelConfig, hidden: int) -> ModelConfig:
    from dataclasses import replace

    return replace(m, hidden=hidden)
