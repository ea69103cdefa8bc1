"""PyTorch's CPU AdamW over the layouts of vecopt's LayoutBench: the same tensor sizes (16M parameters as one tensor,
GPT-2 small's 148 shapes scaled, 10,000 of log-uniform sizes 1..64K, 100,000 of 1..1,024), each its own tensor.

    python3 bench/src/main/python/torch_layouts.py [--threads 1,2] [--steps 20] [--impl foreach,fused]

Prints Mparams/s (the median of --steps timed steps after 3 warm-up steps) per layout, thread count and
implementation (torch.optim.AdamW with foreach=True, or fused=True where this PyTorch has a fused CPU AdamW), with the
settings of LayoutBench (lr 3e-4, betas 0.9/0.95, eps 1e-8, weight decay 0.1). The sizes follow LayoutBench.sizes:
the same seeds would not give the same random sizes in Python, so the log-uniform layouts are drawn again here with
the same distribution and count, and scaled to the same total.
"""
import argparse
import math
import random
import statistics
import time

import torch

SIZE = 16_777_216


def gpt2_sizes():
    d, vocab, ctx = 768, 50257, 1024
    block = [d, d, d * 3 * d, 3 * d, d * d, d, d, d, d * 4 * d, 4 * d, 4 * d * d, d]
    return [vocab * d, ctx * d] + block * 12 + [d, d]


def log_uniform(count, hi, seed):
    r = random.Random(seed)
    return [int(math.exp(r.uniform(0, math.log(hi)))) for _ in range(count)]


def sizes(layout):
    s = {"flat": lambda: [SIZE], "gpt2": gpt2_sizes, "10k": lambda: log_uniform(10_000, 1 << 16, 10),
         "100k": lambda: log_uniform(100_000, 1 << 10, 100)}[layout]()
    total = sum(s)
    out = [max(1, round(x * SIZE / total)) for x in s[:-1]]
    out.append(SIZE - sum(out))
    assert out[-1] >= 1
    return out


def run(layout, threads, impl, steps):
    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(1)
    params = []
    for n in sizes(layout):
        p = torch.nn.Parameter(torch.empty(n).uniform_(-0.05, 0.05, generator=g))
        p.grad = torch.empty(n).uniform_(-0.01, 0.01, generator=g)
        params.append(p)
    kw = {"foreach": True} if impl == "foreach" else {"fused": True}
    opt = torch.optim.AdamW(params, lr=3e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, **kw)
    for _ in range(3):
        opt.step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t0)
    return SIZE / statistics.median(times) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--impl", default="foreach,fused")
    ap.add_argument("--layouts", default="flat,gpt2,10k,100k")
    a = ap.parse_args()
    print(f"torch {torch.__version__}; AdamW over {SIZE} parameters; Mparams/s, median of {a.steps} steps")
    for layout in a.layouts.split(","):
        for impl in a.impl.split(","):
            for t in [int(x) for x in a.threads.split(",")]:
                try:
                    print(f"{layout:5s} {impl:8s} threads {t}: {run(layout, t, impl, a.steps):8.1f}", flush=True)
                except (RuntimeError, TypeError) as e:
                    print(f"{layout:5s} {impl:8s} threads {t}: not available ({str(e).splitlines()[0]})", flush=True)


if __name__ == "__main__":
    main()
