#!/usr/bin/python3
"""bench-torch-vae.py - the inpainting network (docs/inpainting.md) in PyTorch on the
CPU: the reference equations on the simulator's effective weights, at zero
noise and ideal ADC/DAC, for speed and agreement (called by
scripts/bench-inpaint.mjs; never part of the tests).

    /usr/bin/python3 scripts/bench-torch-vae.py META.json IMAGES.f32 N OUT.f32 [--repeat R] [--threads K]

META.json (written from the JS API, ip.layers / ip.getParams): {"T", "size",
"ch", "latent", "k", "keep", "th", "decay", "uniforms": "raw float64 [T][latent]",
"layers": [{"op": "conv"|"tconv"|"fc", "inC", "inH", "outC", "outH", "rows",
"cols", "crossbar", "bn", "w": file, "a", "b", "bias": files}]}: raw float32
files; a crossbar matrix is [rows][cols] with rows (ic, ky, kx) for conv and
transposed conv, HWC indices for fc. IMAGES.f32: N x size x size in [-1, 1]
(centre 8x8 hole). Writes the final reconstructions to OUT.f32 and prints one
JSON object: latency at batch 1, throughput at batch N (CPU time).
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

ENC1, ENC2, ENC3, ENCFC, POST, PRIOR, DECFC, DEC1, DEC2, DEC3, OUT = range(11)


def load(meta_path):
    meta = json.load(open(meta_path))
    base = os.path.dirname(meta_path)
    raw = lambda f, dt=np.float32: torch.from_numpy(np.fromfile(os.path.join(base, f), dtype=dt).copy())
    layers = []
    for L in meta["layers"]:
        L = dict(L)
        if "w" not in L:  # the prior: not run by inpainting
            layers.append(L)
            continue
        w = raw(L["w"]).reshape(L["rows"], L["cols"])
        if L["op"] == "conv":  # rows (ic, ky, kx), cols oc -> [oc][ic][3][3]
            w = w.reshape(L["inC"], 3, 3, L["cols"]).permute(3, 0, 1, 2).contiguous()
        elif L["op"] == "tconv":  # -> [ic][oc][3][3] (conv_transpose2d)
            w = w.reshape(L["inC"], 3, 3, L["cols"]).permute(0, 3, 1, 2).contiguous()
        L["W"] = w
        if "a" in L:
            L["A"], L["B"] = raw(L["a"]), raw(L["b"])
        if "bias" in L:
            L["BIAS"] = raw(L["bias"])
        layers.append(L)
    u = raw(meta["uniforms"], np.float64).reshape(meta["T"], meta["latent"])
    return meta, layers, u


@torch.no_grad()
def forward(meta, layers, u, x):
    """x: [B][1][S][S] (centre hole applied here) -> reconstruction after T steps."""
    B, S, C, s8 = x.shape[0], meta["size"], meta["ch"], meta["size"] // 8
    keep, th, decay, k, lat = meta["keep"], meta["th"], meta["decay"], meta["k"], meta["latent"]
    hole = torch.zeros(1, 1, S, S)
    hole[..., S // 2 - 4 : S // 2 + 4, S // 2 - 4 : S // 2 + 4] = 1
    x0 = x * (1 - hole) - hole
    u_state, s_state, acc = {}, {}, None

    def bn(i, c):
        A, Bb = layers[i]["A"], layers[i]["B"]
        if c.dim() == 4:
            A, Bb = A.view(1, -1, 1, 1), Bb.view(1, -1, 1, 1)
        return A * c + Bb

    def lif(i, c):  # u = keep*u*(1 - o) + x; o = u > th
        U = c if i not in u_state else keep * u_state[i] * (1 - s_state[i]) + c
        u_state[i], s_state[i] = U, (U > th).float()
        return s_state[i]

    for t in range(meta["T"]):
        h = x0
        for i in (ENC1, ENC2, ENC3):
            h = lif(i, bn(i, F.conv2d(h, layers[i]["W"], stride=2, padding=1)))
        h = h.permute(0, 2, 3, 1).reshape(B, -1)  # HWC flatten, as the crossbar rows
        h = lif(ENCFC, bn(ENCFC, h @ layers[ENCFC]["W"]))
        s = lif(POST, h @ layers[POST]["W"] + layers[POST]["BIAS"])
        q = s.reshape(B, lat, k).sum(2) / k
        h = (u[t].unsqueeze(0) < q.double()).float()
        h = (h @ layers[DECFC]["W"]).reshape(B, s8, s8, C).permute(0, 3, 1, 2)
        h = lif(DECFC, bn(DECFC, h))
        for i in (DEC1, DEC2, DEC3):
            h = lif(i, bn(i, F.conv_transpose2d(h, layers[i]["W"], stride=2, padding=1, output_padding=1)))
        y = F.conv_transpose2d(h, layers[OUT]["W"], stride=1, padding=1)
        acc = y if acc is None else decay * acc + y
    return torch.tanh(acc)


def main():
    args = sys.argv[1:]
    meta_path, img_path, n, out_path = args[0], args[1], int(args[2]), args[3]
    repeat = int(args[args.index("--repeat") + 1]) if "--repeat" in args else 3
    threads = int(args[args.index("--threads") + 1]) if "--threads" in args else 1
    torch.set_num_threads(threads)
    meta, layers, u = load(meta_path)
    S = meta["size"]
    x = torch.from_numpy(np.fromfile(img_path, dtype=np.float32)[: n * S * S].reshape(n, 1, S, S).copy())
    forward(meta, layers, u, x[:1])  # warm-up
    lat, thr = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        rec = torch.cat([forward(meta, layers, u, x[i : i + 1]) for i in range(n)])
        lat.append(time.process_time() - c0)
    for _ in range(repeat):
        c0 = time.process_time()
        batched = forward(meta, layers, u, x)
        thr.append(time.process_time() - c0)
    rec.numpy().astype(np.float32).tofile(out_path)
    med, medb = statistics.median(lat), statistics.median(thr)
    print(json.dumps({
        "engine": f"pytorch {torch.__version__} cpu, {threads} thread(s)",
        "n": n, "T": meta["T"], "repeats": repeat,
        "ms_per_image": med / n * 1e3, "batch_ms_per_image": medb / n * 1e3,
        "batch_vs_single_max_diff": float((batched - rec).abs().max()),
    }))


if __name__ == "__main__":
    main()
