"""The engine's event stream: small frozen dataclasses, no tensors.

The trainer yields these; the CLI prints them, the TUI turns each into a Textual message. Arrays are
small float32 numpy copies; events holding arrays compare by identity (eq=False), so they are safe to
put in a Textual reactive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnntui.core.config import TrainConfig


@dataclass(frozen=True, slots=True)
class RunStarted:
    config: TrainConfig  # the resolved configuration (vocab size, run name filled in)
    vocab: str  # the model's characters, sorted
    n_params: int  # trainable parameters
    device: str  # the torch device the run uses, e.g. "cpu" or "cuda:0"
    run_dir: str  # folder of latest.pt / best.pt ("" when not saving)
    start_step: int  # 0, or the step a resumed run continues from
    total_steps: int | None  # target steps, None for a time budget
    steps_per_epoch: int  # optimiser steps per pass over the training split
    train_chars: int  # characters in the training split
    val_chars: int  # characters in the validation split
    history_steps: tuple[int, ...] = ()  # loss history carried over by a resumed run
    history_loss: tuple[float, ...] = ()
    val_history: tuple[tuple[int, float], ...] = ()  # (step, val_loss) carried over
    initial_loss: float = 0.0  # ln(vocab): the loss of a uniform guess
    wall_s: float = 0.0  # training wall time of earlier invocations (a resumed run's clock starts here)
    chars_seen: int = 0  # training characters consumed by earlier invocations
    notice: str = ""  # one line the user should read first, e.g. that the run folder was renamed
    grad_norm_history: tuple[tuple[int, float], ...] = ()  # (step, grad norm) carried over by a resumed run
    best_val_loss: float | None = None  # best validation loss of the run so far (a resumed run's)
    last_saved_step: int | None = None  # step of the checkpoint a resumed run continues from


@dataclass(frozen=True, slots=True)
class StepMetrics:
    step: int  # optimiser steps done
    epoch: float  # passes over the training split, fractional
    loss: float  # mean training loss of the last logged step (nats per char)
    lr: float  # learning rate used by that step
    grad_norm: float  # global gradient norm before clipping
    chars_per_s: float  # training throughput since the previous metrics event
    elapsed_s: float  # wall time of this invocation spent training
    progress: float  # fraction of the budget done, 0..1 (steps, epochs or minutes)
    eta_s: float | None  # estimated seconds left, None when unknown
    chars_seen: int = 0  # training characters consumed by the run so far, over all invocations
    wall_s: float = 0.0  # training wall time of the run so far, over all invocations


@dataclass(frozen=True, slots=True)
class EvalMetrics:
    step: int
    val_loss: float  # mean cross-entropy over the validation windows (nats per char)
    val_bpc: float  # the same in bits per char
    best_val_loss: float  # best so far in this run, this one included
    full: bool  # True when the whole validation split was covered


@dataclass(frozen=True, slots=True, eq=False)
class ProbeSnapshot:
    step: int
    # Gradient flow over one BPTT window, from a step-by-step diagnostic pass on the training batch.
    grad_total: np.ndarray  # (layers, T) ||dL/dh_t||: total gradient through the recurrence
    grad_last: np.ndarray  # (layers, T) ||d loss_T / dh_t||: how much of the last loss reaches back to t
    # Hidden states over a fixed probe text.
    text: str  # the probe text, one column per character
    hidden: np.ndarray  # (layers, len(text), H) h_t in [-1, 1]
    cell: np.ndarray | None = None  # (layers, len(text), H) c_t for an LSTM, else None
    clip: float = 0.0  # the clipping threshold, for the gradient-norm chart


@dataclass(frozen=True, slots=True)
class Sample:
    step: int
    prime: str
    text: str  # generated continuation (without the prime)
    temperature: float


@dataclass(frozen=True, slots=True)
class CheckpointSaved:
    step: int
    path: str
    kind: str  # "latest" or "best"
    wall_time: float  # time.time() when written


@dataclass(frozen=True, slots=True)
class Loading:
    done: int  # bytes of the corpus read so far
    total: int  # bytes in the corpus file


@dataclass(frozen=True, slots=True)
class Validating:
    step: int
    done: int  # validation windows done in this pass
    total: int  # windows the pass covers


@dataclass(frozen=True, slots=True)
class Paused:
    step: int
    paused: bool  # True when training just paused, False when it resumed


@dataclass(frozen=True, slots=True)
class RunFinished:
    step: int
    reason: str  # "completed", "stopped", "diverged" or "error"
    message: str  # one line for a user, e.g. which setting to lower
    train_loss: float | None  # last training loss
    val_loss: float | None  # final validation loss (whole split) when one was run
    best_val_loss: float | None
    latest_path: str | None = None
    best_path: str | None = None
    elapsed_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Throughput:
    """What MFU is read against (core/model/flops.py, peak.py): sent after RunStarted, before the first step.
    MFU = StepMetrics.chars_per_s / ranks * flops_per_char / peak_flops."""

    flops_per_char: int  # matmul FLOPs of one training character, forward + backward
    peak_flops: float | None = None  # the device's measured dense matmul FLOP/s at the training dtype (None: unknown)
    peak_dtype: str = ""  # the dtype the peak was measured in: "fp32" or "bf16"
    peak_how: str = ""  # how: "measured: 1024x1024 matmul, 2 threads, best of 10 (cached)"
    peak_short: str = ""  # the same, short: "1024² matmul ×10, cached"
    peak_seconds: float = 0.0  # time this run spent measuring it (0: cached); credited back, not training time
    ranks: int = 1  # processes sharing StepMetrics.chars_per_s (torchrun): MFU is per process
    measuring: bool = False  # the peak is being measured now (a second or two); a second Throughput follows
    note: str = ""  # why there is no peak, when peak_flops is None and not measuring


Event = (
    Loading
    | Validating
    | RunStarted
    | StepMetrics
    | EvalMetrics
    | ProbeSnapshot
    | Sample
    | CheckpointSaved
    | Paused
    | RunFinished
    | Throughput
)
