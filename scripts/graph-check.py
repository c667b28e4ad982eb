#!/usr/bin/python3
"""graph-check.py - the layer-graph engine against torch forwards written from
the papers' and the authors' equations (docs/graph.md, "Checks").

    /usr/bin/python3 scripts/graph-check.py [--n 16] [--json OUT] [--raw]

FSVAE (the PRIME authors' Pruning_FSVAE, MNIST config, Inpainting/fsvae_models):
  1. tests/make_fsvae_ckpt.py makes a checkpoint in their state_dict layout
     (random weights, scores, tdBN statistics); its tdBN statistics are then
     calibrated on the inputs (batch statistics over N, H, W, T, as tdBN's
     training pass keeps them), so that every layer spikes at a useful rate
     (--raw: the random statistics as made);
  2. `build/prime-graph import` turns it into a graph model file;
  3. `build/prime-graph run --ideal --choices C.npy` runs it with the latent
     choices C (one of k per channel and step, drawn here);
  4. a torch forward of the authors' equations (Conv3d / ConvTranspose3d with
     the trailing time axis, weight * 0.003 * mask, tdBN alpha*Vth*(x-mu)/sigma
     *gamma+beta, LIF u = 0.25 u (1-o) + x, o = u > 0.2, the posterior's
     sequential sampling with the same choices, MembraneOutputLayer) gives the
     reconstruction after every step (the early-exit form: sum over s <= t of
     0.8^(T-1-s) y_s, tanh).
  Every step's reconstruction must agree within 1e-4, except on samples where
  a membrane sits within 1e-6 of the threshold in torch's forward (listed).
Fashion CNN (arXiv 2311.07164, reference.md §5): a torch module with random
  weights (sd 6.352, scale 0.01), random scores (masks keep 50 %), BatchNorm
  statistics from a pass over the inputs, 4-bit ReLUs over [0, 2]; saved,
  imported, run on Fashion-MNIST test images (Debian dataset-fashion-mnist),
  logits within 1e-4 except where a pre-quantization value sits within 1e-6
  of a rounding boundary (listed).
Exit 0 on pass, 1 on a mismatch.
"""
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "build", "graph")
VTH, TAU, SCALE = 0.2, 0.25, 0.003


def arg(name, default, conv=str):
    a = sys.argv
    return conv(a[a.index(name) + 1]) if name in a else default


def images(n, size, lo=-1.0):
    """n Fashion-MNIST test images (or seeded noise when the package is absent), 28x28 in [0, 1]
    or padded to `size` and scaled to [lo, 1]."""
    path = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    if os.path.exists(path):
        with gzip.open(path) as f:
            x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n].astype(np.float32) / 255
    else:
        x = np.random.default_rng(5).random((n, 28, 28), dtype=np.float32)
    if size == 28:
        return x[:, None]
    p = (size - 28) // 2
    x = np.pad(x * (1 - lo) + lo, ((0, 0), (p, p), (p, p)), constant_values=lo)
    c = size // 2 - 4
    x[:, c:c + 8, c:c + 8] = lo  # the inpainting hole (reference.md §3)
    return x[:, None].astype(np.float32)


def prime_graph(*a):
    r = subprocess.run([os.path.join(ROOT, "build", "prime-graph"), *a], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"graph-check: prime-graph {' '.join(a)} failed: {r.stderr.strip()}")
    return r.stdout


# ------------------------------------------------------------------ FSVAE (torch, the authors' equations)

class Fsvae:
    def __init__(self, sd, L=128, k=20, ch=32):
        self.sd, self.L, self.k, self.ch = sd, L, k, ch
        self.calib = False
        self.margin = None

    def mask(self, key):
        s = self.sd[key + ".scores"].abs()
        kth = s.flatten().kthvalue(1 + round(0.01 * 50 * (s.numel() - 1))).values.item()
        return (s >= kth).float()

    def bn(self, key, x, alpha):
        sd = self.sd
        if self.calib:  # tdBN statistics over (N, H, W, T) per channel
            dims = [d for d in range(x.dim()) if d != 1]
            sd[key + ".running_mean"] = x.mean(dims)
            sd[key + ".running_var"] = x.var(dims, unbiased=False) + 1e-3
        shape = [1, -1] + [1] * (x.dim() - 2)
        m, v = sd[key + ".running_mean"].view(shape), sd[key + ".running_var"].view(shape)
        x = alpha * VTH * (x - m) / torch.sqrt(v + 1e-5)
        return x * sd[key + ".weight"].view(shape) + sd[key + ".bias"].view(shape)

    def lif(self, x):
        u = torch.zeros(x.shape[:-1])
        o = torch.zeros(x.shape[:-1])
        out = torch.zeros(x.shape)
        for t in range(x.shape[-1]):
            u = TAU * u * (1 - o) + x[..., t]
            m = (u - VTH).abs().flatten(1).min(1).values
            self.margin = m if self.margin is None else torch.minimum(self.margin, m)
            o = (u > VTH).float()
            out[..., t] = o
        return out

    def conv(self, key, x, stride, pad, tr=False, out_pad=0, bn=True):
        w = self.sd[key + ".weight"] * SCALE * self.mask(key)
        if tr:
            y = F.conv_transpose3d(x, w, self.sd[key + ".bias"], (stride, stride, 1), (pad, pad, 0), (out_pad, out_pad, 0))
        else:
            y = F.conv3d(x, w, self.sd[key + ".bias"], (stride, stride, 1), (pad, pad, 0))
        return self.lif(self.bn(key + ".bn", y, 1)) if bn else y

    def linear(self, key, x, pruned=True, alpha=1):  # x: (N, C, T)
        w = self.sd[key + ".weight"] * (SCALE * self.mask(key) if pruned else 1)
        y = F.linear(x.transpose(1, 2), w, self.sd[key + ".bias"]).transpose(1, 2)
        return self.lif(self.bn(key + ".bn", y[:, :, None, None, :], alpha)[:, :, 0, 0, :])

    def mlp(self, name, x):
        for i in range(3):
            x = self.linear(f"{name}.layers.{i}", x, pruned=False, alpha=2)
        return x

    def posterior(self, x, choices):  # x (N, L, T); choices (N, T, L) -> z (N, L, T)
        N, L, T = x.shape
        k = self.k
        idx = torch.as_tensor(choices, dtype=torch.int64) + torch.arange(0, L * k, k)[None, None, :]  # (N, T, L)
        zm = torch.zeros(N, L, 1)
        for t in range(T - 1):
            q = self.mlp("posterior", torch.cat([x[..., :t + 1], zm], 1))[..., -1]  # (N, L*k)
            zm = torch.cat([zm, torch.gather(q, 1, idx[:, t])[..., None]], -1)
        q = self.mlp("posterior", torch.cat([x, zm], 1))  # (N, L*k, T)
        return torch.stack([torch.gather(q[..., t], 1, idx[:, t]) for t in range(T)], -1)

    def forward(self, img, choices, T=16):
        x = torch.as_tensor(img)[..., None].repeat(1, 1, 1, 1, T)  # (N, 1, H, W, T)
        for i in range(3):
            x = self.conv(f"encoder.{i}", x, 2, 1)
        x = self.linear("before_latent_layer", torch.flatten(x, 1, 3))
        z = self.posterior(x, choices)
        y = self.linear("decoder_input", z).view(len(img), self.ch, 4, 4, T)
        for key in ("decoder.0", "decoder.1", "final_layer.0"):
            y = self.conv(key, y, 2, 1, tr=True, out_pad=1)
        y = self.conv("final_layer.1", y, 1, 1, tr=True, bn=False)  # (N, 1, 32, 32, T)
        coef = torch.pow(0.8, torch.arange(T - 1, -1, -1))
        return torch.tanh(torch.cumsum(y * coef, -1)).permute(0, 4, 1, 2, 3).flatten(2)  # (N, T, 1024) after each step


def check_fsvae(n, raw):
    os.makedirs(OUT, exist_ok=True)
    ckpt = os.path.join(OUT, "fsvae-raw.pt")
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tests", "make_fsvae_ckpt.py"), ckpt, "3"], check=True, capture_output=True)
    sd = torch.load(ckpt, map_location="cpu")
    x = images(n, 32)
    rng = np.random.default_rng(11)
    choices = rng.integers(0, 20, (n, 16, 128)).astype(np.int32)
    net = Fsvae(sd)
    if not raw:
        with torch.no_grad():
            net.calib = True
            net.forward(x, choices)
            net.calib = False
        ckpt = os.path.join(OUT, "fsvae.pt")
        torch.save(sd, ckpt)
    model = os.path.join(OUT, "fsvae.prime")
    prime_graph("import", ckpt, model)
    np.save(os.path.join(OUT, "fsvae-in.npy"), x)
    np.save(os.path.join(OUT, "fsvae-choices.npy"), choices)
    prime_graph("run", model, os.path.join(OUT, "fsvae-in.npy"), os.path.join(OUT, "fsvae-out.npy"), "--ideal",
                "--choices", os.path.join(OUT, "fsvae-choices.npy"))
    got = np.load(os.path.join(OUT, "fsvae-out.npy"))
    margins, ref = [], []
    with torch.no_grad():
        for i in range(n):  # one at a time: the margin is per sample
            net.margin = None
            ref.append(net.forward(x[i:i + 1], choices[i:i + 1])[0].numpy())
            margins.append(net.margin.item())
    ref = np.stack(ref)
    d = np.abs(got - ref).max(axis=(1, 2))
    near = [i for i in range(n) if margins[i] < 1e-6]
    bad = [i for i in range(n) if d[i] > 1e-4 and i not in near]
    far = [d[i] for i in range(n) if i not in near]
    res = {"n": n, "max_diff": float(d.max()), "max_diff_far": float(max(far) if far else 0), "near_threshold": near,
           "near_agree": [i for i in near if d[i] <= 1e-4], "mismatches": bad, "min_margin": float(min(margins)),
           "recon_range": [float(ref.min()), float(ref.max())], "calibrated": not raw}
    print(f"FSVAE ({'random' if raw else 'calibrated'} tdBN statistics), {n} inputs x 16 steps, ideal device, the same latent choices: "
          f"max |recon diff| {res['max_diff']:.2e} over all samples and steps; smallest |u - th| of any membrane in torch "
          f"{res['min_margin']:.1e} ({len(near)} samples have one within 1e-6: of these {len(res['near_agree'])} agree within 1e-4; "
          f"{res['max_diff_far']:.2e} on the others); recon in [{ref.min():.3f}, {ref.max():.3f}], std {ref.std():.3f}")
    return res


# ------------------------------------------------------------------ Fashion CNN

def quant(x, margin):
    step = torch.tensor(2.0 / 15, dtype=torch.float32)
    r = x / step + 0.5
    m = (r - torch.floor(r)).flatten(1)  # distance to a rounding boundary, in steps
    margin[0] = torch.minimum(margin[0], torch.minimum(m, 1 - m).min(1).values * step)
    return torch.clamp(torch.floor(r), 0, 15) * step


def masked(sd, k):
    """weight * 0.01 * mask, the mask from |scores| by the authors' rule."""
    s = sd[k + ".scores"].abs()
    kth = s.flatten().kthvalue(1 + round(0.01 * 50 * (s.numel() - 1))).values.item()
    return sd[k + ".weight"] * 0.01 * (s >= kth).float()


def bn2d(sd, k, y):
    return F.batch_norm(y, sd[k + ".running_mean"], sd[k + ".running_var"], sd[k + ".weight"], sd[k + ".bias"], False, 0, 1e-5)


def fashion_forward(sd, x, margin, calib=False):
    y = F.conv2d(F.max_pool2d(x, 2), masked(sd, "conv1"))
    if calib:
        sd["bn1.running_mean"], sd["bn1.running_var"] = y.mean((0, 2, 3)), y.var((0, 2, 3))
    y = F.max_pool2d(F.conv2d(quant(bn2d(sd, "bn1", y), margin), masked(sd, "conv2")), 2)
    if calib:
        sd["bn2.running_mean"], sd["bn2.running_var"] = y.mean((0, 2, 3)), y.var((0, 2, 3))
    y = quant(F.linear(quant(bn2d(sd, "bn2", y), margin).flatten(1), masked(sd, "fc1")), margin)
    return F.linear(y, masked(sd, "fc2"))


def check_fashion(n):
    g = torch.Generator().manual_seed(21)
    sd = {}
    for k, shape in (("conv1", (64, 1, 3, 3)), ("conv2", (16, 64, 3, 3)), ("fc1", (128, 400)), ("fc2", (10, 128))):
        fan = int(np.prod(shape[1:]))
        sd[k + ".weight"] = torch.randn(*shape, generator=g) * 6.352
        sd[k + ".scores"] = (torch.rand(*shape, generator=g) * 2 - 1) / fan ** 0.5
    for k, c in (("bn1", 64), ("bn2", 16)):
        sd[k + ".weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        sd[k + ".bias"] = 0.5 + 0.1 * torch.randn(c, generator=g)
        sd[k + ".running_mean"] = torch.zeros(c)
        sd[k + ".running_var"] = torch.ones(c)
        sd[k + ".num_batches_tracked"] = torch.tensor(0)
    x = images(max(n, 64), 28)
    with torch.no_grad():  # BatchNorm statistics from a pass over the inputs
        fashion_forward(sd, torch.as_tensor(x), [torch.full((len(x),), float("inf"))], calib=True)
    x = x[:n]
    ckpt, model = os.path.join(OUT, "fashion.pt"), os.path.join(OUT, "fashion.prime")
    torch.save(sd, ckpt)
    prime_graph("import", ckpt, model)
    np.save(os.path.join(OUT, "fashion-in.npy"), x)
    prime_graph("run", model, os.path.join(OUT, "fashion-in.npy"), os.path.join(OUT, "fashion-out.npy"), "--ideal")
    got = np.load(os.path.join(OUT, "fashion-out.npy"))[:, 0]
    margin = [torch.full((n,), float("inf"))]
    with torch.no_grad():
        ref = fashion_forward(sd, torch.as_tensor(x), margin).numpy()
    d = np.abs(got - ref).max(1)
    near = [i for i in range(n) if margin[0][i] < 1e-6]
    bad = [i for i in range(n) if d[i] > 1e-4 and i not in near]
    far = [d[i] for i in range(n) if i not in near]
    res = {"n": n, "max_diff": float(d.max()), "max_diff_far": float(max(far) if far else 0), "near_boundary": near,
           "near_agree": [i for i in near if d[i] <= 1e-4], "mismatches": bad, "labels_equal": int((got.argmax(1) == ref.argmax(1)).sum()),
           "logit_range": [float(ref.min()), float(ref.max())]}
    print(f"Fashion CNN, {n} Fashion-MNIST test images, ideal device: max |logit diff| {res['max_diff_far']:.2e} on the "
          f"{n - len(near)} images with every pre-quantization value >= 1e-6 from a rounding boundary ({res['max_diff']:.2e} over "
          f"all); near-boundary {near} "
          f"(of these within 1e-4: {res['near_agree']}); labels equal {res['labels_equal']}/{n}; logits in [{ref.min():.2f}, {ref.max():.2f}]")
    return res


def main():
    torch.set_num_threads(1)
    n = arg("--n", 16, int)
    res = {"fsvae": check_fsvae(n, "--raw" in sys.argv), "fashion": check_fashion(n)}
    jout = arg("--json", None)
    if jout:
        with open(jout, "w") as f:
            json.dump(res, f, indent=1)
    bad = res["fsvae"]["mismatches"] or res["fashion"]["mismatches"]
    print("graph-check: " + ("FAIL" if bad else "pass"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
