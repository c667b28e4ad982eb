#!/usr/bin/python3
"""bench-torch.py - the PRIME classification network in PyTorch on the CPU: the
reference equations (the PRIME paper, arXiv 2407.18625) on the simulator's effective weights,
for speed and agreement (called by scripts/bench.mjs; never part of the tests).

    /usr/bin/python3 scripts/bench-torch.py WEIGHTS.json FRAMES.f32 N [--repeat R] [--threads K]

WEIGHTS.json: {"T":..., "layers": [{"op": "conv"|"avgpool"|"fc", "k", "stride",
"pad", "neuron": "lif"|"output"|"none", "th", "decay", "leak", "shape": [...],
"file": "raw float32, the layer's [rows][cols] matrix (prime_get_weights)"}]}.
FRAMES.f32: N x [T][2][34][34] float32. Prints one JSON object: latency at
batch 1, throughput at batch N, labels and logits of every sample.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def load(meta_path):
    meta = json.load(open(meta_path))
    base = os.path.dirname(meta_path)
    layers = []
    for L in meta["layers"]:
        L = dict(L)
        if L["op"] != "avgpool":
            w = np.fromfile(os.path.join(base, L["file"]), dtype=np.float32)
            rows, cols = L["rows"], L["cols"]
            w = torch.from_numpy(w.reshape(rows, cols).copy())
            if L["op"] == "conv":  # rows (ic, ky, kx), cols oc -> [oc][ic][k][k]
                w = w.t().contiguous().reshape(cols, L["in_c"], L["k"], L["k"])
            L["w"] = w
        layers.append(L)
    return meta, layers


@torch.no_grad()
def forward(layers, x, T):
    """x: [B][T][C][H][W] -> logits [B][K] (mean output membrane over T steps)."""
    B = x.shape[0]
    u = [None] * len(layers)
    s = [None] * len(layers)
    total = None
    for t in range(T):
        h = x[:, t]
        for i, L in enumerate(layers):
            if L["op"] == "avgpool":
                h = F.avg_pool2d(h, L["k"], L["stride"])
                continue
            if L["op"] == "conv":
                cur = F.conv2d(h, L["w"], stride=L["stride"], padding=L["pad"])
            else:
                cur = h.reshape(B, -1) @ L["w"]
            if L["neuron"] == "lif":  # reset, decay, +I, LeakyReLU, threshold
                U = cur if u[i] is None else u[i] * (1 - s[i]) * (1 - L["decay"]) + cur
                u[i] = F.leaky_relu(U, L["leak"])
                s[i] = (u[i] > L["th"]).float()
                h = s[i]
            elif L["neuron"] == "output":  # U = LeakyReLU(U + I); sum += U
                u[i] = F.leaky_relu(cur if u[i] is None else u[i] + cur, L["leak"])
                total = u[i] if total is None else total + u[i]
                h = u[i]
            else:
                h = cur
    return total / T


def main():
    args = sys.argv[1:]
    meta_path, frames_path, n = args[0], args[1], int(args[2])
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 5
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 1
    torch.set_num_threads(threads)
    meta, layers = load(meta_path)
    T = meta["T"]
    x = np.fromfile(frames_path, dtype=np.float32)[: n * T * 2 * 34 * 34]
    x = torch.from_numpy(x.reshape(n, T, 2, 34, 34).copy())
    forward(layers, x[:1], T)  # warm-up
    lat = []
    for _ in range(repeat):
        t0 = time.process_time()
        logits = [forward(layers, x[i : i + 1], T)[0] for i in range(n)]
        lat.append(time.process_time() - t0)
    thr = []
    for _ in range(repeat):
        t0 = time.process_time()
        batched = forward(layers, x, T)
        thr.append(time.process_time() - t0)
    logits = torch.stack(logits)
    med, medb = statistics.median(lat), statistics.median(thr)
    print(json.dumps({
        "engine": f"pytorch {torch.__version__} cpu, {threads} thread(s)",
        "n": n, "T": T, "repeats": repeat,
        "ms_per_sample": med / n * 1e3, "samples_per_s": n / med,
        "batch_ms_per_sample": medb / n * 1e3, "batch_samples_per_s": n / medb,
        "batch_vs_single_max_diff": float((batched - logits).abs().max()),
        "labels": logits.argmax(1).tolist(),
        "logits": [[round(float(v), 7) for v in row] for row in logits],
    }))


if __name__ == "__main__":
    main()
