"""Memory available inside a container (issue 18, item 11): the checks read min(MemAvailable, the cgroup's
limit minus its working set), so inside a small limit a large model is refused rather than killed.

The cgroup trees are made-up folders laid out as the kernel lays out /sys/fs/cgroup (v2 and v1), with a
made-up /proc beside them: host_available_bytes() takes both roots.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rnntui.core.config import ConfigError, ModelConfig
from rnntui.core.model import memory


def _proc(tmp_path: Path, cgroup: str, mem_available_kb: int = 64 << 20) -> Path:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(f"MemTotal: {mem_available_kb * 2} kB\nMemAvailable: {mem_available_kb} kB\n")
    (proc / "self" / "cgroup").write_text(cgroup)
    return proc


def _cg(d: Path, **files: str) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (d / name.replace("_", ".", 1)).write_text(text)


def test_cgroup_v2_limit_minus_working_set(tmp_path):
    proc = _proc(tmp_path, "0::/box/job\n")
    cg = tmp_path / "cg"
    _cg(cg / "box", memory_max="max\n", memory_current="5000000000\n")  # no limit above the job
    _cg(
        cg / "box" / "job",
        memory_max=f"{2 << 30}\n",
        memory_current=f"{1 << 30}\n",
        memory_stat=f"anon 1\ninactive_file {256 << 20}\nactive_file 2\n",
    )
    assert memory.cgroup_headroom(proc, cg) == (2 << 30) - (1 << 30) + (256 << 20)
    assert memory.host_available_bytes(proc, cg) == (2 << 30) - (1 << 30) + (256 << 20)  # below MemAvailable
    _cg(cg / "box", memory_max=f"{1 << 30}\n", memory_current=f"{900 << 20}\n")  # a tighter parent wins
    assert memory.host_available_bytes(proc, cg) == (1 << 30) - (900 << 20)


def test_cgroup_v1_and_a_container_without_a_cgroup_namespace(tmp_path):
    proc = _proc(tmp_path, "5:cpu:/\n4:memory:/docker/abc\n0::/\n")
    cg = tmp_path / "cg"
    _cg(cg / "memory", memory_limit_in_bytes="9223372036854771712\n", memory_usage_in_bytes="1\n")  # none
    assert memory.cgroup_headroom(proc, cg) is None  # /docker/abc is not mounted: the root is the container's
    _cg(
        cg / "memory",
        memory_limit_in_bytes=f"{512 << 20}\n",
        memory_usage_in_bytes=f"{300 << 20}\n",
        memory_stat=f"cache 5\ntotal_inactive_file {100 << 20}\n",
    )
    assert memory.host_available_bytes(proc, cg) == (512 << 20) - (200 << 20)


def test_no_cgroup_limit_leaves_mem_available(tmp_path):
    proc = _proc(tmp_path, "0::/\n", mem_available_kb=1 << 20)
    assert memory.host_available_bytes(proc, tmp_path / "nothing") == 1 << 30


def test_a_model_too_large_for_the_container_is_refused(tmp_path, monkeypatch):
    proc = _proc(tmp_path, "0::/\n")
    _cg(tmp_path / "cg", memory_max=f"{256 << 20}\n", memory_current=f"{200 << 20}\n")
    real = memory.host_available_bytes
    monkeypatch.setattr(memory, "host_available_bytes", lambda *a: real(proc, tmp_path / "cg"))
    with pytest.raises(ConfigError, match="too large .* 59 MB available"):
        memory.check_fits(ModelConfig(hidden=1024, layers=2), 65, 32, 64, "cpu")
    with pytest.raises(ConfigError, match="too large"):
        memory.check_model_fits(ModelConfig(hidden=1024, layers=2), 65)
