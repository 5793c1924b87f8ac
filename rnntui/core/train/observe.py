"""What training shows of itself between steps: gradient-flow probes and text samples.

    obs = Observer(cfg, corpus, device, dist)      beside the TrainLoop, one per run
    if obs.probe_due(loop): yield obs.probe(loop)
    if obs.sample_due(loop): yield obs.sample(loop)

Both are time-based, not step-based, so a slow model is probed as often per minute as a fast one, and the
time is the run's own (loop.elapsed(): training time, which leaves out a pause and the time an experiment
or a benchmark holds the run suspended while others train), the clock the budget is held against too: a
run among three side by side is probed per minute of its own training as it would be alone. Probes
are budgeted (cfg.probe_budget: the share of training time they may take) with a floor no budget can
starve: one at least every PROBE_FLOOR_STEPS steps or PROBE_FLOOR_S seconds (EARLY_FLOOR_S in the run's
first EARLY_S), and one at the end. Rank 0 alone probes (its own streams) and samples. An Observer keeps
its own clocks and only reads the loop: the loop's last window and the state it began with, its model and
step.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import torch

from rnntui.core import events as ev
from rnntui.core.analysis.probes import gradient_flow, hidden_states, probe_text_ids
from rnntui.core.config import TrainConfig
from rnntui.core.data.corpus import Corpus
from rnntui.core.generate.sampling import Sampler
from rnntui.core.model.cells import map_state
from rnntui.core.train.distributed import Dist

if TYPE_CHECKING:
    from rnntui.core.train.loop import TrainLoop

PROBE_STREAMS = 8  # streams per gradient-flow probe: more streams, a steadier curve
# The floor: a probe at least every PROBE_FLOOR_STEPS steps or PROBE_FLOOR_S seconds, whatever the budget
# says. A probe of the default 2x256 cells costs about one training step on a CPU (the unrolled twin runs
# op by op), so at the default 0.5% budget an LSTM is probed about every 30 s; the floor is set so that it
# never outruns the budget at that size (200 steps was 20 s of an LSTM: 0.75% of its time, and a run held
# under 98% of a bare loop's speed; issue 21, BENCHMARKS.md).
PROBE_FLOOR_STEPS = 500
PROBE_FLOOR_S = 30.0
# In a run's first minute, where the picture changes fastest and a user is watching it form, the floor is
# a probe every 5 s instead (a 2x256 GRU: about 2.5% of that minute). Benchmarks time from after it.
EARLY_S = 60.0
EARLY_FLOOR_S = 5.0


class Observer:
    """When to probe and sample, the clocks that decide it, and the events they make."""

    def __init__(self, cfg: TrainConfig, corpus: Corpus, device: torch.device, dist: Dist) -> None:
        self.cfg, self.dist = cfg, dist
        self.probe_ids = probe_text_ids(corpus, cfg.probe_text, device)  # (T,) the heatmap's text
        self.probe_s = 0.0  # time spent probing, held against cfg.probe_budget
        self.last_probe = self.last_sample = -math.inf  # on the run's clock, loop.elapsed()
        self.last_probe_step = -(10**9)

    # ---- probes: time-based, budgeted, with a floor no budget can starve ----------------------------

    def probe_due(self, loop: TrainLoop) -> bool:
        cfg = self.cfg
        if cfg.probe_hz <= 0 or not self.dist.is_main:  # rank 0 probes its own streams, alone
            return False
        if self.last_probe == -math.inf:
            return True
        now = loop.elapsed()  # read once: the floor and the budget compare the same instant
        since = now - self.last_probe
        every_s = EARLY_FLOOR_S if now < EARLY_S else PROBE_FLOOR_S
        floor = loop.step - self.last_probe_step >= PROBE_FLOOR_STEPS or since >= every_s
        rate_ok = since >= 1.0 / cfg.probe_hz and self.probe_s <= cfg.probe_budget * now
        return floor or rate_ok

    def last_probe_due(self, loop: TrainLoop) -> bool:
        """A run ends with a probe of its last weights (unless one was just taken): the horizon that
        `compare`, `runs` and a finished run's dashboard read is then the trained model's, however few
        probes the budget allowed on the way (a 300-step run may otherwise hold only its step-1 probe)."""
        return self.cfg.probe_hz > 0 and self.dist.is_main and loop.x is not None and self.last_probe_step != loop.step

    def probe(self, loop: TrainLoop) -> ev.ProbeSnapshot:
        t = time.perf_counter()  # the probe's own cost, held against the budget
        self.last_probe, self.last_probe_step = loop.elapsed(), loop.step
        assert loop.x is not None and loop.y is not None  # a probe follows a step
        n = min(PROBE_STREAMS, loop.x.size(0))
        st = None if loop.state_in is None else map_state(lambda s: s[:, :n], loop.state_in)
        g_total, g_last = gradient_flow(loop.model, loop.x[:n], loop.y[:n], st)
        hid, cell = hidden_states(loop.model, self.probe_ids)
        text = loop.corpus.vocab.decode(self.probe_ids.tolist())
        self.probe_s += time.perf_counter() - t
        return ev.ProbeSnapshot(loop.step, g_total, g_last, text, hid, cell, self.cfg.clip)

    # ---- samples ----------------------------------------------------------------------------------

    def sample_due(self, loop: TrainLoop) -> bool:
        cfg = self.cfg
        return cfg.sample_every_s > 0 and self.dist.is_main and loop.elapsed() - self.last_sample >= cfg.sample_every_s

    def sample(self, loop: TrainLoop) -> ev.Sample:
        self.last_sample = loop.elapsed()
        with loop.lock:
            sampler = Sampler.from_model(loop.model, loop.corpus.vocab)
        text = sampler.sample("", temperature=0.8, length=self.cfg.sample_len, seed=self.cfg.seed + loop.step)
        return ev.Sample(loop.step, "", text, 0.8)
