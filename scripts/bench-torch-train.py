#!/usr/bin/python3
"""bench-torch-train.py - the mask trainer of src/train.c in PyTorch on the CPU, for speed
(called by scripts/bench-train.sh; never part of the tests).

    /usr/bin/python3 scripts/bench-torch-train.py [--batches 4] [--batch 32] [--T 10]
                     [--threads 1,2] [--baseline] [--density 0.06]

The same network, loss, optimizer and batch as src/train.c (docs/training.md):
conv1 2->12 5x5 pad 1 + LIF, avgpool 2, conv2 12->64 5x5 + LIF, avgpool 2, fc
2304->10 + leaky output cell, logits = mean over T of the output membrane,
cross-entropy; LIF th 0.2, decay 0.8, leak 0.1, reset a = U (1 - s) with the
spike's surrogate dS/dU = 1 for |U - th| < 0.5 (the gradient also flows
through the reset, as in src/train.c); edge-popup masks (the 50 % smallest
|score| of each layer pruned, straight-through dL/dscore = dL/dweff * w *
sign(score)); Adam (lr 1e-3, L2 weight decay 5e-4 added to the gradient, as
torch.optim.Adam's weight_decay does). --baseline trains float weights instead.
The inputs are random binary event frames of the given density (a dense engine
does the same work for any input). Prints one JSON line per thread count:
samples/s by process CPU time (time.process_time, all threads) and wall time.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from torch_spike import spike_fn

TH, DECAY, LEAK = 0.2, 0.8, 0.1


spike = spike_fn(TH, 0.5, 1.0)  # the boxcar surrogate of src/train.c


def lif_step(U, s, I):
    """One hidden LIF step: a = U (1 - s); U = lrelu(a (1 - decay) + I); s = U > th."""
    U = F.leaky_relu(U * (1 - s) * (1 - DECAY) + I, LEAK)
    return U, spike(U)


class Net(torch.nn.Module):
    def __init__(self, baseline):
        super().__init__()
        self.baseline = baseline
        shapes = [(12, 2, 5, 5), (64, 12, 5, 5), (10, 2304)]
        g = torch.Generator().manual_seed(1)
        # formed weights of a chip stand-in (fixed) and the trainable scores / weights
        self.w = [torch.randn(s, generator=g) * 0.01 for s in shapes]
        fan = [2 * 25, 12 * 25, 2304]
        self.score = torch.nn.ParameterList(
            [torch.nn.Parameter((torch.rand(s, generator=g) * 2 - 1) / f ** 0.5) for s, f in zip(shapes, fan)])

    def weights(self):
        if self.baseline:
            return list(self.score)
        out = []
        for w, s in zip(self.w, self.score):
            a = s.abs()
            k = a.numel() // 2  # sparsity 0.5: prune the k smallest |score|
            thr = a.detach().flatten().kthvalue(k).values
            mask = (a.detach() > thr).to(w.dtype)
            out.append(w * (mask + a - a.detach()))  # straight-through: d/ds = w sign(s)
        return out

    def forward(self, x):  # x [B][T][2][34][34]
        w1, w2, w3 = self.weights()
        B, T = x.shape[0], x.shape[1]
        U1 = torch.zeros(B, 12, 32, 32)
        s1 = torch.zeros_like(U1)
        U2 = torch.zeros(B, 64, 12, 12)
        s2 = torch.zeros_like(U2)
        Uo = torch.zeros(B, 10)
        logits = 0
        for t in range(T):
            U1, s1 = lif_step(U1, s1, F.conv2d(x[:, t], w1, padding=1))
            p1 = F.avg_pool2d(s1, 2)
            U2, s2 = lif_step(U2, s2, F.conv2d(p1, w2))
            p2 = F.avg_pool2d(s2, 2).flatten(1)
            Uo = F.leaky_relu(Uo + p2 @ w3.t(), LEAK)
            logits = logits + Uo
        return logits / T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--T", type=int, default=10)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--density", type=float, default=0.06)
    ap.add_argument("--baseline", action="store_true")
    a = ap.parse_args()
    g = torch.Generator().manual_seed(2)
    xs = [(torch.rand(a.batch, a.T, 2, 34, 34, generator=g) < a.density).float() for _ in range(a.batches)]
    ys = [torch.randint(0, 10, (a.batch,), generator=g) for _ in range(a.batches)]
    for th in [int(v) for v in a.threads.split(",")]:
        torch.set_num_threads(th)
        net = Net(a.baseline)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=5e-4)

        def step(x, y):
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()

        step(xs[0], ys[0])  # warm-up (allocator, kernels)
        c0, t0 = time.process_time(), time.perf_counter()
        for x, y in zip(xs, ys):
            step(x, y)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        n = a.batches * a.batch
        print(json.dumps({"engine": f"PyTorch {torch.__version__} CPU", "mode": "baseline" if a.baseline else "masks",
                          "threads": th, "batch": a.batch, "T": a.T, "samples": n, "cpu_s": round(cpu, 4),
                          "wall_s": round(wall, 4), "samples_per_cpu_s": round(n / cpu, 2),
                          "samples_per_wall_s": round(n / wall, 2)}), flush=True)


if __name__ == "__main__":
    main()
