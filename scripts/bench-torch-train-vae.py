#!/usr/bin/python3
"""bench-torch-train-vae.py - the inpainting trainer of src/train_vae.c in PyTorch on the CPU,
for speed (called by scripts/bench-train.sh --vae; never part of the tests).

    /usr/bin/python3 scripts/bench-torch-train-vae.py [--batches 2] [--batch 32] [--ch 16]
                     [--threads 1,2] [--baseline]

The same network, loss, optimizer and batch as src/train_vae.c (docs/inpainting.md),
layer-major over all B*T frames: enc1-3 conv 3x3 stride 2 pad 1 + batch norm (batch
statistics) + LIF, encoder fc + BN + LIF, posterior fc (bias) + LIF, q = mean of k
spikes, z ~ Bernoulli(q) straight-through, prior fc on z_(t-1) (detached), decoder fc
+ BN + LIF, dec1-3 transposed conv 3x3 stride 2 + BN + LIF, out transposed conv 3x3
stride 1, readout tanh(sum_t keep_out^(T-1-t) y_t); loss = weighted MSE + beta KL of
Bernoulli(q) against Bernoulli(p) (clamped to [0.01, 0.99]); LIF U_t = keep U_(t-1)
(1 - s_(t-1)) + I_t with the reset detached, th 0.2, keep 0.25, rectangular surrogate
of half-width 0.5; edge-popup masks (half of each crossbar layer's |score| pruned,
straight-through) or free weights (--baseline); Adam lr 1e-3. Inputs: random images in
[-1, 1] with the centre 8x8 blanked. Prints one JSON line per thread count: images
(batch samples) per second of process CPU time and of wall time.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from torch_spike import spike_fn

TH, KEEP, OUT_KEEP, SUR, BETA = 0.2, 0.25, 0.8, 0.5, 0.01


spike = spike_fn(TH, SUR, 1 / (2 * SUR))


def lif(I, B, T):
    """I [B*T][...] -> spikes [B*T][...], time-major within each sample."""
    I = I.reshape(B, T, -1)
    U, s, out = None, None, []
    for t in range(T):
        U = I[:, t] if t == 0 else KEEP * U * (1 - s.detach()) + I[:, t]
        s = spike(U)
        out.append(s)
    return torch.stack(out, 1).reshape(B * T, -1)


class Masked(torch.nn.Module):
    """A crossbar layer: edge-popup over fixed random weights, or free weights."""

    def __init__(self, shape, baseline, g):
        super().__init__()
        self.baseline = baseline
        self.w = torch.randn(shape, generator=g) * 0.05
        self.score = torch.nn.Parameter(torch.rand(shape, generator=g) * 2 - 1)

    def weight(self):
        if self.baseline:
            return self.score
        a = self.score.abs()
        thr = a.detach().flatten().kthvalue(a.numel() // 2).values
        return self.w * ((a.detach() > thr).to(a.dtype) + a - a.detach())


class VAE(torch.nn.Module):
    def __init__(self, ch, latent, k, baseline):
        super().__init__()
        g = torch.Generator().manual_seed(1)
        C, L = ch, latent
        self.C, self.L, self.k = C, L, k
        self.enc = torch.nn.ModuleList([Masked((C, 1, 3, 3), baseline, g), Masked((C, C, 3, 3), baseline, g),
                                        Masked((C, C, 3, 3), baseline, g)])
        self.encfc = Masked((L, C * 16), baseline, g)
        self.post = torch.nn.Linear(L, L * k)
        self.prior = torch.nn.Linear(L, L * k)
        self.decfc = Masked((C * 16, L), baseline, g)
        self.dec = torch.nn.ModuleList([Masked((C, C, 3, 3), baseline, g) for _ in range(3)])
        self.out = Masked((C, 1, 3, 3), baseline, g)
        self.bn = torch.nn.ModuleList([torch.nn.BatchNorm2d(C) for _ in range(3)] + [torch.nn.BatchNorm1d(L)] +
                                      [torch.nn.BatchNorm1d(C * 16)] + [torch.nn.BatchNorm2d(C) for _ in range(3)])

    def forward(self, x, B, T):  # x [B*T][1][32][32]
        C, L, k = self.C, self.L, self.k
        h = x
        for i, m in enumerate(self.enc):
            h = self.bn[i](F.conv2d(h, m.weight(), stride=2, padding=1))
            h = lif(h, B, T).reshape(h.shape)
        h = lif(self.bn[3](h.flatten(1) @ self.encfc.weight().t()), B, T)
        q = lif(self.post(h), B, T).reshape(B * T, L, k).mean(2)
        z = (torch.rand(q.shape) < q.detach()).to(q.dtype) + q - q.detach()
        zp = torch.cat([torch.zeros(B, 1, L), z.detach().reshape(B, T, L)[:, :-1]], 1).reshape(B * T, L)
        p = lif(self.prior(zp), B, T).reshape(B * T, L, k).mean(2)
        h = lif(self.bn[4](z @ self.decfc.weight().t()), B, T).reshape(B * T, C, 4, 4)
        for i, m in enumerate(self.dec):
            h = self.bn[5 + i](F.conv_transpose2d(h, m.weight(), stride=2, padding=1, output_padding=1))
            h = lif(h, B, T).reshape(h.shape)
        y = F.conv_transpose2d(h, self.out.weight(), padding=1).reshape(B, T, -1)
        acc = 0
        for t in range(T):
            acc = OUT_KEEP * acc + y[:, t]
        return torch.tanh(acc), q, p


def kl(q, p):
    q, p = q.clamp(0.01, 0.99), p.clamp(0.01, 0.99)
    return (q * (q / p).log() + (1 - q) * ((1 - q) / (1 - p)).log()).mean()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--ch", type=int, default=16)
    ap.add_argument("--latent", type=int, default=128)
    ap.add_argument("--k", type=int, default=20)
    ap.add_argument("--T", type=int, default=16)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--baseline", action="store_true")
    a = ap.parse_args()
    g = torch.Generator().manual_seed(2)
    B, T = a.batch, a.T
    hole = torch.zeros(32, 32, dtype=torch.bool)
    hole[12:20, 12:20] = True
    imgs = [torch.rand(B, 1, 32, 32, generator=g) * 2 - 1 for _ in range(a.batches)]
    for th in [int(v) for v in a.threads.split(",")]:
        torch.set_num_threads(th)
        torch.manual_seed(3)
        net = VAE(a.ch, a.latent, a.k, a.baseline)
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)

        def step(clean):
            x = clean.masked_fill(hole, -1.0).repeat_interleave(T, 0)  # [B*T][1][32][32]
            opt.zero_grad()
            recon, q, p = net(x, B, T)
            loss = F.mse_loss(recon, clean.flatten(1)) + BETA * kl(q, p)
            loss.backward()
            opt.step()

        step(imgs[0])  # warm-up
        c0, t0 = time.process_time(), time.perf_counter()
        for im in imgs:
            step(im)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        n = a.batches * B
        print(json.dumps({"engine": f"PyTorch {torch.__version__} CPU", "mode": "baseline" if a.baseline else "masks",
                          "threads": th, "batch": B, "T": T, "samples": n, "cpu_s": round(cpu, 4),
                          "wall_s": round(wall, 4), "samples_per_cpu_s": round(n / cpu, 2),
                          "samples_per_wall_s": round(n / wall, 2)}), flush=True)


if __name__ == "__main__":
    main()
