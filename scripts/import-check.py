#!/usr/bin/python3
"""import-check.py - the importer's acceptance check on the PRIME authors'
classification checkpoint (docs/model-format.md, "Importing").

    /usr/bin/python3 scripts/import-check.py [--ckpt PATH] [--n 200] [--json OUT]

1. `build/prime import CKPT OUT.prime`: one command; OUT is a version-2 model
   file (imported weights stored), and its outputs must equal those of the
   checkpoint itself (imported in memory by the same code) bit for bit. A
   build whose model file cannot hold imported weights refuses to write OUT
   (exit 3): the check then says the save -> reload part is not checked.
2. `build/prime eval MODEL FRAMES --ideal --stop 0.8` on N synthesized test
   digits (build/prime-samples mnist test N, seed 1001, scripts/event-frames.mjs),
   ideal device: no off-state residual, no noise, ideal ADC/DAC.
3. A torch forward written from the authors' equations (scripts/realism.py:
   weight * 0.01 * mask, mask from scores; LIF reset, decay 0.8, + I,
   LeakyReLU 0.1, spike at U > 0.2; output U = LeakyReLU(U + I), logits =
   mean U) on the same frames; early stop after step t when
   max softmax(mean/2) > 0.8.
Labels and stop steps must be equal, logits within 1e-4, except for samples
where a membrane sits within 1e-6 of a threshold in torch's forward (listed).
Exit 0 on pass, 1 on a mismatch, 2 when the checkpoint is absent (a skip;
the caller fails under CI=true).
"""
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import realism  # noqa: E402


def frames_file(n):
    """The default N-digit PFRM file, made afresh under build/realism/ (a file left by
    an older build may hold another format or other events; making it takes ~2 s)."""
    return realism.default_frames(n)[0]


@torch.no_grad()
def forward_margins(net, x):
    """realism.forward_steps plus, per sample, the smallest |U - th| of any
    hidden membrane at any step (where a float rounding could flip a spike)."""
    B, T = x.shape[:2]
    u0 = s0 = u1 = s1 = u2 = None
    total, out = 0, []
    margin = torch.full((B,), float("inf"))
    for t in range(T):
        i0 = F.conv2d(x[:, t], net["features.conv0"], stride=1, padding=1)
        u0 = i0 if u0 is None else u0 * (1 - s0) * (1 - 0.8) + i0
        u0 = F.leaky_relu(u0, 0.1)
        margin = torch.minimum(margin, (u0 - 0.2).abs().flatten(1).min(1).values)
        s0 = (u0 > 0.2).float()
        i1 = F.conv2d(F.avg_pool2d(s0, 2), net["features.conv1"], stride=1, padding=0)
        u1 = i1 if u1 is None else u1 * (1 - s1) * (1 - 0.8) + i1
        u1 = F.leaky_relu(u1, 0.1)
        margin = torch.minimum(margin, (u1 - 0.2).abs().flatten(1).min(1).values)
        s1 = (u1 > 0.2).float()
        i2 = F.avg_pool2d(s1, 2).flatten(1) @ net["classifier.linear0"].t()
        u2 = F.leaky_relu(i2 if u2 is None else u2 + i2, 0.1)
        total = total + u2
        out.append(total / (t + 1))
    return torch.stack(out, 1), margin


def prime_eval(model, frames, *opts):
    r = subprocess.run([os.path.join(ROOT, "build/prime"), "eval", model, frames, "--ideal", *opts],
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def main():
    args = sys.argv[1:]
    n = realism.arg(args, "--n", 200, int)
    ckpt = realism.arg(args, "--ckpt", os.environ.get("PRIME_AUTHORS_CKPT", os.path.join(ROOT, "..", "shared", "authors",
                                                                                          "classification.pt")), str)
    jout = realism.arg(args, "--json", None, str)
    if not os.path.exists(ckpt):
        print(f"import-check: the authors' checkpoint is absent ({ckpt}): skipped")
        return 2
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    frames = frames_file(n)
    out = os.path.join(ROOT, "build/realism/classification-import.prime")
    t0 = time.time()
    imp = subprocess.run([os.path.join(ROOT, "build/prime"), "import", ckpt, out], capture_output=True, text=True)
    t_import = time.time() - t0
    if imp.returncode not in (0, 3):
        print(f"import-check: FAIL: prime import exited {imp.returncode}: {imp.stderr.strip()}")
        return 1
    saved = imp.returncode == 0
    print(f"prime import: exit {imp.returncode} in {t_import * 1e3:.0f} ms (process): {(imp.stdout or imp.stderr).strip()}")
    stop = prime_eval(ckpt, frames, "--stop", "0.8")
    full = prime_eval(ckpt, frames, "--no-stop")
    if saved:
        for name, ref, got in (("stop", stop, prime_eval(out, frames, "--stop", "0.8")),
                               ("no-stop", full, prime_eval(out, frames, "--no-stop"))):
            if ref["samples"] != got["samples"]:
                print(f"import-check: FAIL: the saved model file gives other outputs than the checkpoint ({name})")
                return 1
        print("save -> reload: the model file gives the checkpoint's outputs bit for bit")
    else:
        print("save -> reload: NOT checked (this build's model file cannot hold imported weights)")
    x, labels = realism.read_pfrm(frames)
    net = realism.load_authors(ckpt)
    logits, margin = [], []
    for i in range(0, len(x), 50):
        lg, mg = forward_margins(net, x[i:i + 50])
        logits.append(lg), margin.append(mg)
    logits, margin = torch.cat(logits), torch.cat(margin)
    T = logits.shape[1]
    conf = F.softmax(logits / 2, dim=2).max(2).values
    fired = conf > 0.8
    tstop = torch.where(fired.any(1), fired.float().argmax(1), torch.full((len(x),), T - 1))
    near = [i for i in range(len(x)) if margin[i] < 1e-6]
    lab_eq = steps_eq = 0
    max_d = max_d_full = max_all = 0.0
    near_same = 0
    bad = []
    for i in range(len(x)):
        s, f = stop["samples"][i], full["samples"][i]
        ref = logits[i, tstop[i]]
        d = (torch.tensor(s["logits"]) - ref).abs().max().item()
        df = (torch.tensor(f["logits"]) - logits[i, T - 1]).abs().max().item()
        same = s["label"] == ref.argmax().item() and s["steps"] == tstop[i].item() + 1
        lab_eq += s["label"] == ref.argmax().item()
        steps_eq += s["steps"] == tstop[i].item() + 1
        max_all = max(max_all, d, df)
        if i not in near:
            max_d, max_d_full = max(max_d, d), max(max_d_full, df)
        else:
            near_same += same and d <= 1e-4 and df <= 1e-4
        if (not same or d > 1e-4 or df > 1e-4) and i not in near:
            bad.append(i)
    acc = sum(s["label"] == s["truth"] for s in stop["samples"]) / len(x)
    steps = sum(s["steps"] for s in stop["samples"]) / len(x)
    res = {"n": len(x), "labels_equal": lab_eq, "steps_equal": steps_eq, "max_logit_diff_stop": max_d,
           "max_logit_diff_T": max_d_full, "near_threshold": near, "near_agree": near_same, "max_logit_diff_all": max_all, "mismatches": bad,
           "import_ms": stop["load_ms"], "accuracy": acc, "mean_steps": steps, "saved": saved}
    print(f"{len(x)} digits, ideal device: labels equal {lab_eq}/{len(x)}, stop steps equal {steps_eq}/{len(x)}, "
          f"max |logit diff| {max_d:.2e} at the stop, {max_d_full:.2e} after T = {T}; import {stop['load_ms']:.1f} ms; "
          f"accuracy {100 * acc:.1f} %, mean steps {steps:.2f}")
    print(f"membranes within 1e-6 of a threshold: {len(near)} samples {near[:20]}; of these {near_same} agree anyway "
          f"(max |logit diff| over all {len(x)}: {max_all:.2e})")
    if jout:
        with open(jout, "w") as f:
            json.dump(res, f, indent=1)
    if bad:
        print(f"import-check: FAIL on samples {bad[:20]}")
        return 1
    print("import-check: pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
