#!/usr/bin/python3
"""realism.py - how real are synthesized events? The PRIME authors' classification
network, trained on the real N-MNIST recordings, run on our frames.

    /usr/bin/python3 scripts/realism.py [FRAMES.pfrm ...] [--n N] [--ckpt PATH] [--threshold 0.8]

With no frame file it makes the default one: the first N (default 200) digits of
the mnist test split (docs/data.md) through the simulator's event synthesizer
(build/prime-samples + scripts/event-frames.mjs, events seeded as the trainer's
test split). For each frame file it prints the accuracy over all T steps and, with
the paper's early stop (after step t, p = softmax(mean logits / 2); stop when
max p > threshold), the accuracy, mean steps and load saved (1 - steps / T; the
paper reports 77.0 % on the real recordings, docs/results.md).

The checkpoint is the authors' state_dict (keys features.conv0/conv1 and
classifier.linear0, each weight + scores); default ../shared/authors/classification.pt
beside the checkout, or $PRIME_AUTHORS_CKPT. It is never copied into the repo.
The forward is written from the paper's equations (docs/architecture.md): effective
weight = weight * 0.01 * mask, mask = |score| >= the k-th smallest |score| with
k = 1 + round(0.01 * 50 * (n - 1)); hidden LIF: reset, decay 0.8, + I,
LeakyReLU(0.1), spike at U > 0.2; output cell U = LeakyReLU(U + I), logits = mean U.
"""
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arg(args, name, default, conv):
    if name in args:
        i = args.index(name)
        v = conv(args[i + 1])
        del args[i:i + 2]
        return v
    return default


def read_pfrm(path):
    """PFRM frame file (docs/data.md) -> (frames [n][T][2][h][w] float32, labels)."""
    b = open(path, "rb").read()
    if len(b) < 36 or b[:4] != b"PFRM":
        raise SystemExit(f"{path}: not a PFRM frame file")
    version, n, T, c, h, w = (int(v) for v in np.frombuffer(b, "<u4", 6, 4))
    if version != 2:
        raise SystemExit(f"{path}: PFRM version {version} not supported (2)")
    need = 36 + n + n * T * c * h * w
    if len(b) != need:
        raise SystemExit(f"{path}: {len(b)} bytes, its header says {need}")
    labels = np.frombuffer(b, np.uint8, n, 36).astype(np.int64)
    x = np.frombuffer(b, np.uint8, n * T * c * h * w, 36 + n).reshape(n, T, c, h, w)
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(labels)


def mask_from_scores(scores, sparsity=0.5):
    a = scores.abs().flatten()
    k = 1 + round(0.01 * sparsity * 100 * (a.numel() - 1))
    kth = a.kthvalue(k).values.item()
    return (scores.abs() >= kth).float()


def load_authors(path):
    sd = torch.load(path, map_location="cpu")
    net = {}
    for key in ("features.conv0", "features.conv1", "classifier.linear0"):
        w, s = sd[key + ".weight"].float(), sd[key + ".scores"].float()
        net[key] = w * 0.01 * mask_from_scores(s)
    return net


@torch.no_grad()
def forward_steps(net, x):
    """x [B][T][2][34][34] -> mean logits after each step, [B][T][10]."""
    B, T = x.shape[:2]
    u0 = s0 = u1 = s1 = u2 = None
    total, out = 0, []
    for t in range(T):
        i0 = F.conv2d(x[:, t], net["features.conv0"], stride=1, padding=1)
        u0 = i0 if u0 is None else u0 * (1 - s0) * (1 - 0.8) + i0
        u0 = F.leaky_relu(u0, 0.1)
        s0 = (u0 > 0.2).float()
        i1 = F.conv2d(F.avg_pool2d(s0, 2), net["features.conv1"], stride=1, padding=0)
        u1 = i1 if u1 is None else u1 * (1 - s1) * (1 - 0.8) + i1
        u1 = F.leaky_relu(u1, 0.1)
        s1 = (u1 > 0.2).float()
        i2 = F.avg_pool2d(s1, 2).flatten(1) @ net["classifier.linear0"].t()
        u2 = F.leaky_relu(i2 if u2 is None else u2 + i2, 0.1)
        total = total + u2
        out.append(total / (t + 1))
    return torch.stack(out, 1)


def score(net, frames, labels, threshold):
    logits = torch.cat([forward_steps(net, frames[i:i + 100]) for i in range(0, len(frames), 100)])
    n, T = logits.shape[:2]
    full = (logits[:, -1].argmax(1) == labels).float().mean().item()
    conf = F.softmax(logits / 2, dim=2).max(2).values  # [n][T]
    fired = conf > threshold
    stop = torch.where(fired.any(1), fired.float().argmax(1), torch.full((n,), T - 1))
    pred = logits[torch.arange(n), stop].argmax(1)
    steps = (stop + 1).float().mean().item()
    return {"n": n, "T": T, "acc_full": 100 * full, "acc_stop": 100 * (pred == labels).float().mean().item(),
            "steps": steps, "saved": 100 * (1 - steps / T)}


def default_frames(n):
    os.makedirs(os.path.join(ROOT, "build/realism"), exist_ok=True)
    psmp = os.path.join(ROOT, f"build/realism/mnist-test-{n}.psmp")
    out = os.path.join(ROOT, f"build/realism/mnist-test-{n}.pfrm")
    tool = os.path.join(ROOT, "build/prime-samples")
    if not os.path.exists(tool):
        raise SystemExit("build/prime-samples is missing: run ./build.sh native first")
    subprocess.run([tool, "mnist", "test", str(n), psmp, "1001"], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    subprocess.run(["node", os.path.join(ROOT, "scripts/event-frames.mjs"), psmp, out], check=True)
    return [out]


def main():
    args = sys.argv[1:]
    n = arg(args, "--n", 200, int)
    threshold = arg(args, "--threshold", 0.8, float)
    default_ckpt = os.environ.get("PRIME_AUTHORS_CKPT", os.path.join(ROOT, "..", "shared", "authors", "classification.pt"))
    ckpt = arg(args, "--ckpt", default_ckpt, str)
    if not os.path.exists(ckpt):
        raise SystemExit(f"the authors' checkpoint is absent ({ckpt}): nothing to score "
                         "(give --ckpt PATH or PRIME_AUTHORS_CKPT)")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    net = load_authors(ckpt)
    files = args or default_frames(n)
    print(f"authors' network ({os.path.basename(ckpt)}), early stop softmax(mean/2) > {threshold}; "
          "paper on real N-MNIST: 77.0 % load saved")
    for f in files:
        t0 = time.time()
        frames, labels = read_pfrm(f)
        frames, labels = frames[:n], labels[:n]
        r = score(net, frames, labels, threshold)
        print(f"{os.path.relpath(f, ROOT)}: {r['n']} samples, accuracy {r['acc_full']:.1f} % (all {r['T']} steps), "
              f"with early stop {r['acc_stop']:.1f} %, mean steps {r['steps']:.2f}, load saved {r['saved']:.1f} % "
              f"({time.time() - t0:.1f} s)")


if __name__ == "__main__":
    main()
