"""The memory horizon (rnntui.core.analysis.horizon): exact on synthetic curves, and in the right order on real
rnn / lstm / gru runs trained by the engine."""

from __future__ import annotations

import math
import random
from dataclasses import replace

import numpy as np
import pytest

from rnntui.core.analysis.horizon import (
    EXPLODING_ABOVE,
    THRESHOLD,
    VANISHING_BELOW,
    WINDOW,
    HorizonSmoother,
    fmt_threshold,
    horizons,
    layer_horizon,
    verdict_line,
)


def decay(T: int, per_step: float) -> np.ndarray:
    """(T,) a curve that is 1 at t (the last entry) and multiplies by per_step with each step back."""
    return per_step ** np.arange(T)[::-1].astype(np.float64)


# -----------------------------------------------------------------------------
# the statistic on known curves


def test_horizon_counts_the_steps_back_above_the_threshold():
    # 10^(-0.27 k): above 1e-3 up to k = 11 (10^-2.97), below from k = 12 (10^-3.24)
    h = layer_horizon(decay(64, 10**-0.27), threshold=1e-3)
    assert (h.steps, h.at_least, h.window, h.threshold) == (11, False, 64, 1e-3)
    assert layer_horizon(decay(64, 10**-0.27), threshold=1e-6).steps == 22  # a stated threshold changes it
    assert THRESHOLD == 1e-6 and layer_horizon(decay(64, 10**-0.27)).steps == 22  # the default
    assert layer_horizon(decay(64, 10**-0.27)).word == "vanishing"  # 22 < VANISHING_BELOW
    flat = layer_horizon(np.full(64, 0.3))
    assert (flat.steps, flat.at_least, flat.word) == (63, True, "healthy")
    slow = layer_horizon(decay(64, 10**-0.15))  # 1e-6 passed 40 steps back (10^-6.0 at exactly 40)
    assert (slow.steps, slow.word) in ((39, "healthy"), (40, "healthy"))


def test_horizon_ends_at_the_first_drop_even_if_the_curve_comes_back():
    g = np.ones(32)
    g[-6] = 1e-8  # 5 steps back the gradient is gone; a later rise does not extend the horizon
    assert layer_horizon(g).steps == 4


def test_exploding_and_undecidable_curves():
    grows = layer_horizon(decay(40, 1.2))  # 1.2x larger with every step back
    assert grows.word == "exploding" and grows.peak >= EXPLODING_ABOVE
    assert layer_horizon(np.array([1.0, 0.0])).word == ""  # nothing at t to compare with
    assert layer_horizon(np.array([1.0, np.nan])).steps is None
    assert layer_horizon(np.array([1.0])).steps is None  # one step: no "back"
    nan_inside = np.ones(16)
    nan_inside[3] = np.nan  # a non-finite value counts as nothing reaching back
    assert layer_horizon(nan_inside).steps == 16 - 1 - 3 - 1


def test_horizons_take_any_number_of_layers_and_timesteps():
    g = np.stack([decay(100, 0.5), np.full(100, 2.0), decay(100, 0.9)])  # (3, 100)
    hs = horizons(g, threshold=1e-3)
    assert [h.layer for h in hs] == [0, 1, 2]
    assert [h.steps for h in hs] == [9, 99, 65]
    assert horizons(decay(8, 0.5))[0].steps == 7  # a single (T,) curve is one layer; at least 7 in 8 steps


def test_smoother_averages_in_log_space_and_restarts_on_a_new_shape():
    sm = HorizonSmoother(window=3)
    sm.add(decay(32, 0.2))  # horizon 4
    sm.add(decay(32, 0.001 ** (1 / 30)))  # 1e-3 reached exactly 30 steps back
    # geometric mean of the two: per step sqrt(0.2 * 10^-0.1) = 10^-0.3995: 1e-3 passed 8 steps back
    np.testing.assert_allclose(sm.curve()[0], np.sqrt(decay(32, 0.2) * decay(32, 0.001 ** (1 / 30))), rtol=1e-9)
    assert sm.horizons(threshold=1e-3)[0].steps == 7
    for _ in range(3):  # the window keeps only the newest 3
        sm.add(np.full(32, 0.5))
    assert len(sm) == 3 and sm.horizons()[0].at_least
    sm.add(np.ones((2, 16)))  # another model: a new average
    assert len(sm) == 1 and sm.curve().shape == (2, 16)


def test_smoother_damps_one_noisy_probe():
    sm = HorizonSmoother(window=8)
    for _ in range(7):
        sm.add(decay(64, 0.8))  # horizon 30 at 1e-3
    noisy = decay(64, 0.8)
    noisy[:-1] *= 1e-4  # one probe where nothing reaches back
    sm.add(noisy)
    assert layer_horizon(noisy, threshold=1e-3).steps == 0
    assert sm.horizons(threshold=1e-3)[0].steps >= 25  # the average barely moves


def test_smoother_takes_snapshots_with_their_step():
    class Snap:
        step, grad_last = 420, np.ones((1, 8))

    sm = HorizonSmoother()
    sm.add(Snap())
    assert sm.last_step == 420 and HorizonSmoother().horizons() == []


def test_wording():
    h = layer_horizon(decay(64, 10**-0.27))
    assert verdict_line(h) == (
        "layer 1: gradient stays above 1e-6 of its value at t for 22 steps (memory horizon 22, vanishing)"
    )
    assert verdict_line(h, short=True) == "layer 1: horizon 22 steps (vanishing)"
    assert "above 1e-3 of its value" in verdict_line(layer_horizon(decay(64, 0.5), threshold=1e-3))
    flat = horizons(np.full((2, 64), 0.3))[1]
    assert verdict_line(flat) == (
        "layer 2: gradient stays above 1e-6 of its value at t for at least 63 steps "
        "(memory horizon at least 63, healthy)"
    )
    assert "exploding, up to" in verdict_line(layer_horizon(decay(40, 1.2)), short=True)
    assert verdict_line(layer_horizon(np.array([1.0, 0.0]))) == "layer 1: no gradient at t to compare with"
    assert fmt_threshold(1e-3) == "1e-3" and fmt_threshold(5e-4) == "5e-4" and fmt_threshold(THRESHOLD)
    assert VANISHING_BELOW > 0


# -----------------------------------------------------------------------------
# real runs: the RNN's horizon is clearly shorter than the LSTM's and the GRU's


def copy_text(n_lines: int = 2000, seed: int = 0) -> str:
    """Lines "Xabba...abX": the last character repeats the first, 8 to 24 steps later, so predicting it
    needs memory; a gated cell learns to keep it, a tanh RNN's gradient fades before it gets there."""
    r = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        x = r.choice("ABCDEFGH")
        lines.append(x + "".join(r.choice("ab") for _ in range(r.randint(8, 24))) + x)
    return "\n".join(lines) + "\n"


def tiny_config(kind: str, seed: int):
    """The tiny settings the ordering is pinned at (benchmarks/bench_horizon.py --tiny uses them too).

    Hidden 48: at 32 the LSTM had learned too little memory in 200 steps to stay ahead of the RNN in every
    seed (seed 3: rnn 36, lstm 34 at 1e-6); at 48 the gap is 18 steps or more in seeds 0-4."""
    from rnntui.core.config import ModelConfig, TrainConfig

    return TrainConfig(
        corpus="copy",
        model=ModelConfig(kind=kind, hidden=48, layers=1, embed=16),
        seq_len=64,
        batch_size=16,
        lr=1e-2,
        steps=200,
        seed=seed,
        save=False,
        probe_hz=1e9,
        probe_budget=1.0,
        sample_every_s=0,
        eval_every=0,
        log_every=50,
        device="cpu",
    )


def trained_horizons(kind: str, seed: int, tmp_path) -> list:
    """The horizons a run's dashboard shows at its end: the smoother's average of the run's last WINDOW
    probes. Probing every step of 200 costs most of the test's time and only the last WINDOW count, so the
    run trains unprobed to step 200 - WINDOW, is stopped (latest.pt), and resumes on the same plan with a
    probe after every step: the same weights and the same probes as one run probed throughout (resume is
    exact: test_engine.py; a probe draws no random numbers)."""
    import threading

    from rnntui.core.data.corpus import corpus_from_text
    from rnntui.core.events import ProbeSnapshot, StepMetrics
    from rnntui.core.train.engine import Trainer

    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # the machine is shared; one thread is also deterministic
    cfg = tiny_config(kind, seed)
    corpus = corpus_from_text("copy", copy_text(), cfg.val_frac)
    unprobed = replace(cfg, probe_hz=0, save=True, out_dir=str(tmp_path), run_name=kind, log_every=1)
    stop, until = threading.Event(), cfg.steps - WINDOW
    for e in Trainer(unprobed, corpus=corpus).run(stop):
        if isinstance(e, StepMetrics) and e.step >= until:
            stop.set()
    probed = replace(cfg, save=True, out_dir=str(tmp_path), run_name=kind)
    smoother = HorizonSmoother()
    steps = []
    for e in Trainer(probed, resume=str(tmp_path / kind / "latest.pt"), corpus=corpus).run():
        if isinstance(e, ProbeSnapshot):
            assert e.grad_last.shape == (1, 64)
            smoother.add(e)
            steps.append(e.step)
    assert steps[-WINDOW:] == list(range(until + 1, cfg.steps + 1)), steps  # the last WINDOW steps, each probed
    return smoother.horizons()


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_rnn_horizon_is_clearly_shorter_than_lstm_and_gru(seed, tmp_path):
    found = {kind: trained_horizons(kind, seed, tmp_path)[0] for kind in ("rnn", "lstm", "gru")}
    rnn = found["rnn"]
    for kind in ("lstm", "gru"):  # clearly: at least 8 steps apart (measured: 18 or more in seeds 0-4)
        assert rnn.steps + 8 <= found[kind].steps, {k: (h.steps, h.word) for k, h in found.items()}
    # the gated cells read "healthy"; the RNN's word follows its number (at 1x48 it read "vanishing" in 4 of 5
    # seeds: seed 3's 34 steps is just past VANISHING_BELOW), so the line is checked to state that number
    assert found["lstm"].word == found["gru"].word == "healthy"
    assert f"memory horizon {rnn.steps}, {rnn.word}" in verdict_line(rnn) and math.isfinite(rnn.peak)
