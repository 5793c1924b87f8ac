"""The training engine: truncated BPTT as a generator of events.

    for event in Trainer(cfg).run(stop, pause):
        ...  # RunStarted, StepMetrics, EvalMetrics, ProbeSnapshot, Sample, CheckpointSaved, Paused, RunFinished

The hot loop does no host sync except at log intervals: losses and gradient norms accumulate as device
tensors and are read with .item() every cfg.log_every steps.
"""
from __future__ import annotations

import math
import threading
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import torch

from rnntui.core import events as ev
from rnntui.core.checkpoints import FORMAT, VERSION, CheckpointError, config_of, load_checkpoint, save_checkpoint
from rnntui.core.config import ConfigError, TrainConfig, config_to_dict
from rnntui.core.corpus import Corpus, Streams, Vocab, bits_per_char, check_windows, load_corpus
from rnntui.core.devices import native_bf16, resolve_device
from rnntui.core.evaluation import evaluate
from rnntui.core.history import History
from rnntui.core.models import CharModel, detach_state, loss_fn
from rnntui.core.probes import gradient_flow, hidden_states, probe_text_ids
from rnntui.core.sampling import Sampler
from rnntui.core.schedule import Budget, lr_at

DIVERGE_FACTOR = 1.5  # a loss above 1.5x ln(V), worse than a uniform guess, counts as diverged


def run_name_for(cfg: TrainConfig) -> str:
    stem = Path(cfg.corpus).stem or "corpus"
    m = cfg.model
    return f"{m.kind}-{m.layers}x{m.hidden}-{stem}"


# -----------------------------------------------------------------------------
# the trainer


class Trainer:
    def __init__(self, cfg: TrainConfig, resume: str | None = None, corpus: Corpus | None = None):
        self.cfg = cfg
        self.resume = resume
        self._corpus = corpus  # tests pass an in-memory corpus; normally loaded in run()
        self._lock = threading.Lock()  # held around weight updates; snapshot() takes it to copy
        self._model: CharModel | None = None
        self._vocab: Vocab | None = None
        self._step = 0
        self._save_requested = threading.Event()

    # ---- called from other threads ---------------------------------------------------------------

    def snapshot(self) -> dict | None:
        """A checkpoint-format dict of the current weights, copied between two optimiser steps."""
        if self._model is None:
            return None
        with self._lock:
            weights = {k: v.detach().to("cpu", copy=True) for k, v in self._model.state_dict().items()}
            step = self._step
        return {"format": FORMAT, "version": VERSION, "model": weights,
                "config": config_to_dict(self.cfg), "vocab": self._vocab.chars, "step": step}

    def request_save(self) -> None:
        self._save_requested.set()

    # ---- the run ---------------------------------------------------------------------------------

    def _prepare(self) -> tuple[dict | None, Corpus, torch.device]:
        ckpt = load_checkpoint(self.resume) if self.resume else None
        if ckpt is not None:
            old = config_of(ckpt)
            # the architecture is the checkpoint's; the run settings are the caller's
            self.cfg = replace(self.cfg, model=old.model,
                               run_name=self.cfg.run_name or Path(self.resume).resolve().parent.name)
        self.cfg.validate()
        device = resolve_device(self.cfg.device)
        if self.cfg.bf16 and device.type == "mps":
            raise ConfigError("bf16 autocast is not supported on mps; use --no-bf16")
        vocab = Vocab(ckpt["vocab"]) if ckpt is not None else None
        corpus = self._corpus or load_corpus(self.cfg.corpus, self.cfg.val_frac, vocab=vocab)
        if vocab is not None and corpus.vocab.chars != vocab.chars:
            raise CheckpointError("corpus vocabulary differs from the checkpoint's")
        check_windows(corpus, self.cfg.seq_len, self.cfg.batch_size)
        model_cfg = replace(self.cfg.model, vocab_size=len(corpus.vocab))
        bf16 = native_bf16(device) if self.cfg.bf16 is None else self.cfg.bf16
        self.cfg = replace(self.cfg, model=model_cfg, bf16=bf16, run_name=self.cfg.run_name or run_name_for(self.cfg))
        return ckpt, corpus, device

    def run(self, stop: threading.Event | None = None, pause: threading.Event | None = None) -> Iterator[ev.Event]:
        stop = stop or threading.Event()
        pause = pause or threading.Event()
        ckpt, corpus, device = self._prepare()
        cfg = self.cfg
        torch.manual_seed(cfg.seed)
        model = CharModel(cfg.model).to(device)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        train = Streams(corpus.train, cfg.batch_size, cfg.seq_len, device)
        val = Streams(corpus.val, min(cfg.batch_size, 16), cfg.seq_len, device)
        budget = Budget.of(cfg, train.windows)
        run_dir = Path(cfg.out_dir) / cfg.run_name
        latest_path, best_path = run_dir / "latest.pt", run_dir / "best.pt"
        # weights, optimiser state and the loss stay fp32; autocast runs the matmuls in bf16
        autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if cfg.bf16 else nullcontext

        losses = History()
        val_hist: list[tuple[int, float]] = []
        step, best, state = 0, math.inf, None
        if ckpt is not None:
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["optimizer"])
            step = int(ckpt["step"])
            losses = History.from_dict(ckpt.get("history", {}))
            val_hist = [(int(s), float(v)) for s, v in ckpt.get("val_history", [])]
            best = float(ckpt.get("best_val_loss") or math.inf)
            torch.set_rng_state(ckpt["rng"]["torch"])
            if device.type == "cuda" and ckpt["rng"].get("cuda") is not None:
                torch.cuda.set_rng_state(ckpt["rng"]["cuda"])
            if ckpt.get("state") is not None and step % train.windows != 0:
                saved = [s.to(device) for s in ckpt["state"]]
                if saved[0].size(1) == train.batch:
                    state = tuple(saved) if len(saved) == 2 else saved[0]
        self._model, self._vocab, self._step = model, corpus.vocab, step
        start_step = step
        initial_loss = math.log(len(corpus.vocab))

        def checkpoint() -> dict:
            st = None if state is None else [s.detach().cpu() for s in (state if isinstance(state, tuple) else (state,))]
            return {
                "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
                "optimizer": opt.state_dict(), "config": config_to_dict(cfg), "vocab": corpus.vocab.chars,
                "step": step, "epoch": step / train.windows, "state": st,
                "rng": {"torch": torch.get_rng_state(),
                        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None},
                "history": losses.to_dict(), "val_history": [list(p) for p in val_hist],
                "best_val_loss": None if math.isinf(best) else best, "corpus": cfg.corpus,
                "n_params": model.n_params(),
            }

        def save(path: Path, kind: str) -> ev.CheckpointSaved | None:
            if not cfg.save:
                return None
            save_checkpoint(path, checkpoint())
            return ev.CheckpointSaved(step, str(path), kind, time.time())

        def record_eval(v: float, full: bool) -> Iterator[ev.Event]:
            """Keep a validation result, report it, and write best.pt when it improved."""
            nonlocal best
            val_hist.append((step, v))
            improved = v < best
            best = min(best, v)
            yield ev.EvalMetrics(step, v, bits_per_char(v), best, full=full)
            if improved and (e := save(best_path, "best")):
                yield e

        yield ev.RunStarted(
            config=cfg, vocab=corpus.vocab.chars, n_params=model.n_params(), device=str(device),
            run_dir=str(run_dir) if cfg.save else "", start_step=start_step, total_steps=budget.total_steps,
            steps_per_epoch=train.windows, train_chars=len(corpus.train), val_chars=len(corpus.val),
            history_steps=tuple(losses.steps), history_loss=tuple(losses.values), val_history=tuple(val_hist),
            initial_loss=initial_loss,
        )

        probe_ids = probe_text_ids(corpus, cfg.probe_text, device)
        model.train()
        t0 = time.perf_counter()
        paused_s = probe_s = 0.0
        last_log_t, last_log_step = t0, step
        last_probe = last_sample = -math.inf
        last_save = t0
        loss_acc = torch.zeros((), device=device)
        gn_acc = torch.zeros((), device=device)
        n_acc = 0
        train_loss = None
        reason, message = "completed", ""
        clip = cfg.clip if cfg.clip > 0 else math.inf

        def elapsed() -> float:
            return time.perf_counter() - t0 - paused_s

        while not budget.done(step, elapsed()):
            if stop.is_set():
                reason, message = "stopped", f"stopped at step {step}"
                break
            if pause.is_set():
                yield ev.Paused(step, True)
                p0 = time.perf_counter()
                while pause.is_set() and not stop.is_set():
                    if self._save_requested.is_set():
                        self._save_requested.clear()
                        if (e := save(latest_path, "latest")):
                            yield e
                    stop.wait(0.05)
                paused_s += time.perf_counter() - p0
                last_log_t += time.perf_counter() - p0
                yield ev.Paused(step, False)
                continue

            # ---- one optimiser step ----
            k = step % train.windows
            if k == 0:
                state = None  # a new epoch starts each stream over: no carried state across the wrap
            x, y = train.window(k)  # (B, T) each
            state_in = state
            lr = lr_at(cfg, step, budget.progress(step, elapsed()))
            for g in opt.param_groups:
                g["lr"] = lr
            with autocast():
                logits, state = model(x, state)  # (B, T, V)
                loss = loss_fn(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            with self._lock:
                opt.step()
                step += 1
                self._step = step
            state = detach_state(state)
            loss_acc += loss.detach()
            gn_acc += gn.detach()
            n_acc += 1

            # ---- metrics, at log intervals only (each .item() is a device sync) ----
            at_end = budget.done(step, elapsed())
            if step % cfg.log_every == 0 or at_end or stop.is_set():
                train_loss = loss_acc.item() / n_acc
                grad_norm = gn_acc.item() / n_acc
                loss_acc.zero_()
                gn_acc.zero_()
                n_acc = 0
                if not math.isfinite(train_loss) or not math.isfinite(grad_norm) or train_loss > DIVERGE_FACTOR * initial_loss:
                    reason = "diverged"
                    message = (f"loss {train_loss:.3g} at step {step}: training diverged; lower --lr "
                               f"(now {cfg.lr:g}) or --clip (now {cfg.clip:g}). The last good checkpoint is kept.")
                    break
                losses.add(step, train_loss)
                now = time.perf_counter()
                cps = (step - last_log_step) * train.batch * cfg.seq_len / max(now - last_log_t, 1e-9)
                last_log_t, last_log_step = now, step
                el = elapsed()
                prog = budget.progress(step, el)
                if budget.total_steps is not None:
                    eta = (budget.total_steps - step) * train.batch * cfg.seq_len / max(cps, 1e-9)
                elif budget.seconds is not None:
                    eta = max(0.0, budget.seconds - el)
                else:
                    eta = None
                yield ev.StepMetrics(step, step / train.windows, train_loss, lr, grad_norm, cps, el, prog, eta)

                # periodic save, only right after a finite-loss check so no diverged weights are written
                if self._save_requested.is_set() or now - last_save >= cfg.checkpoint_minutes * 60:
                    self._save_requested.clear()
                    last_save = now
                    if (e := save(latest_path, "latest")):
                        yield e

            # ---- validation ----
            if cfg.eval_every and step % cfg.eval_every == 0 and not at_end:
                yield from record_eval(evaluate(model, val, cfg.eval_windows, autocast), full=False)

            # ---- probes: time-based, and never more than probe_budget of the wall time ----
            now = time.perf_counter()
            if cfg.probe_hz > 0 and now - last_probe >= 1.0 / cfg.probe_hz and (
                    last_probe == -math.inf or probe_s <= cfg.probe_budget * elapsed()):
                last_probe = now
                n = min(4, x.size(0))
                st = None if state_in is None else tuple(s[:, :n] for s in state_in) if isinstance(state_in, tuple) else state_in[:, :n]
                g_total, g_last = gradient_flow(model, x[:n], y[:n], st)
                hid, cell = hidden_states(model, probe_ids)
                yield ev.ProbeSnapshot(step, g_total, g_last, corpus.vocab.decode(probe_ids.tolist()), hid, cell, cfg.clip)
                probe_s += time.perf_counter() - now
            if cfg.sample_every_s > 0 and now - last_sample >= cfg.sample_every_s:
                last_sample = now
                s0 = time.perf_counter()
                with self._lock:
                    sampler = Sampler.from_model(model, corpus.vocab)
                text = sampler.sample("", temperature=0.8, length=cfg.sample_len, seed=cfg.seed + step)
                yield ev.Sample(step, "", text, 0.8)
                probe_s += time.perf_counter() - s0

        # ---- the end: a validation pass, then latest.pt ----
        # A completed run is scored on the whole validation split. A stopped one (Ctrl+C, quit) gets the
        # capped pass, so the user does not wait on a large split before latest.pt is written.
        val_loss = None
        latest = best_p = None
        if reason != "diverged":
            full = reason == "completed"
            val_loss = evaluate(model, val, None if full else cfg.eval_windows, autocast)
            yield from record_eval(val_loss, full)
            if (e := save(latest_path, "latest")):
                yield e
            if cfg.save:
                latest = str(latest_path)
        if cfg.save and best_path.exists():
            best_p = str(best_path)
        if latest is None and cfg.save and latest_path.exists():
            latest = str(latest_path)
        if reason == "completed":
            message = f"finished at step {step}"
        yield ev.RunFinished(step, reason, message, train_loss, val_loss, None if math.isinf(best) else best,
                             latest, best_p, elapsed())
