"""Chars/s of the NumPy sampler against a naive loop over the fused torch module, at batch 1.

python benchmarks/bench_sampling.py                       # random 2x512 LSTM, vocab 65
python benchmarks/bench_sampling.py --kind gru --hidden 256
python benchmarks/bench_sampling.py --checkpoint checkpoints/run/latest.pt
"""

from __future__ import annotations

import argparse
import time

import torch

from rnntui.core.config import ModelConfig, config_from_dict
from rnntui.core.data.corpus import Vocab
from rnntui.core.generate.sampling import Sampler
from rnntui.core.model.cells import CharModel

TARGET = 2000.0  # chars/s the sampler must reach on a 2x512 LSTM (issue 2)
VOCAB65 = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # tiny-shakespeare's 65


def build(args: argparse.Namespace) -> tuple[CharModel, Vocab]:
    if args.checkpoint:
        ckpt = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
        cfg = config_from_dict(ckpt["config"]).model
        model = CharModel(cfg)
        model.load_state_dict({k: v.float() for k, v in ckpt["model"].items()})
        return model.eval(), Vocab(ckpt["vocab"])
    vocab = Vocab(
        VOCAB65[: args.vocab] if args.vocab <= len(VOCAB65) else "".join(chr(0x100 + i) for i in range(args.vocab))
    )
    torch.manual_seed(0)
    cfg = ModelConfig(kind=args.kind, vocab_size=len(vocab), embed=args.embed, hidden=args.hidden, layers=args.layers)
    return CharModel(cfg).eval(), vocab


def time_sampler(sampler: Sampler, n: int, temperature: float, top_k: int) -> float:
    t0 = time.perf_counter()
    count = sum(1 for _ in sampler.stream("\n", temperature=temperature, top_k=top_k, length=n, seed=0))
    return count / (time.perf_counter() - t0)


@torch.no_grad()
def time_naive(model: CharModel, n: int, temperature: float) -> float:
    # what one would write first: the fused module called one character at a time, torch sampling
    gen = torch.Generator().manual_seed(0)
    x, state = torch.zeros(1, 1, dtype=torch.long), None
    t0 = time.perf_counter()
    for _ in range(n):
        logits, state = model(x, state)  # (1, 1, V)
        probs = torch.softmax(logits[0, -1] / temperature, dim=-1)
        x = torch.multinomial(probs, 1, generator=gen).view(1, 1)
    return n / (time.perf_counter() - t0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", default="lstm", choices=["rnn", "lstm", "gru"])
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--vocab", type=int, default=65)
    p.add_argument("--chars", type=int, default=3000, help="characters per timing")
    p.add_argument("--naive-chars", type=int, default=None, help="characters for the naive loop (default: --chars)")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--checkpoint", help="time a real model from this checkpoint instead")
    args = p.parse_args()

    model, vocab = build(args)
    cfg = model.cfg
    t0 = time.perf_counter()
    sampler = Sampler.from_model(model, vocab)
    build_ms = (time.perf_counter() - t0) * 1e3
    print(
        f"model: {cfg.kind} {cfg.layers}x{cfg.hidden}, embed {cfg.embed}, vocab {len(vocab)}, "
        f"{model.n_params():,} params; torch threads {torch.get_num_threads()}"
    )
    print(f"sampler built in {build_ms:.0f} ms")
    time_sampler(sampler, min(200, args.chars), args.temperature, args.top_k)  # warm caches
    fast = time_sampler(sampler, args.chars, args.temperature, args.top_k)
    print(f"numpy sampler : {fast:8.0f} chars/s  ({args.chars} chars)")
    naive_n = args.naive_chars or args.chars
    time_naive(model, min(20, naive_n), args.temperature)  # warm-up: first calls build oneDNN state
    naive = time_naive(model, naive_n, args.temperature)
    print(f"naive nn.{cfg.kind.upper()} : {naive:8.0f} chars/s  ({naive_n} chars)")
    print(f"speed-up      : {fast / naive:8.1f}x")
    print(f"{'PASS' if fast >= TARGET else 'FAIL'}: {fast:.0f} chars/s vs target {TARGET:.0f}")


if __name__ == "__main__":
    main()
