"""model/heap.py: with glibc's heap kept, a training step of the fused LSTM stops page-faulting.

Counted, not timed: minor page faults per step (getrusage) of the same tiny-but-not-too-tiny LSTM loop in
two fresh processes, one with keep_heap() and one without. oneDNN's per-call buffers are megabytes, so
without it each step maps fresh pages."""

from __future__ import annotations

import subprocess
import sys

import pytest

LOOP = """
import resource, sys, torch
if sys.argv[1] == "keep":
    from rnntui.core.model.heap import keep_heap
    assert keep_heap() and keep_heap()  # set, and a second call is a no-op that still says so
torch.manual_seed(0)
torch.set_num_threads(1)
lstm = torch.nn.LSTM(64, 256, num_layers=2, batch_first=True)
opt = torch.optim.AdamW(lstm.parameters())
x = torch.randn(32, 64, 64)  # (B, T, E)

def step():
    out, _ = lstm(x)
    opt.zero_grad()
    out.square().mean().backward()
    opt.step()

for _ in range(3):  # warm-up: the heap grows to its working size
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


def faults_per_step(mode: str) -> float:
    r = subprocess.run([sys.executable, "-c", LOOP, mode], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return float(r.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_kept_heap_stops_the_page_faults_of_each_step():
    plain, kept = faults_per_step("plain"), faults_per_step("keep")
    assert plain > 200  # the cost being removed is there to begin with (megabytes of fresh pages a step)
    assert kept < plain / 4, (plain, kept)
