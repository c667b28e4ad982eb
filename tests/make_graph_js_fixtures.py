#!/usr/bin/python3
"""make_graph_js_fixtures.py DIR - checkpoints and inputs for
tests/node/graph-js.test.mjs and tests/browser/graph.test.mjs (layer-graph
models through the wasm API and the page; docs/graph.md):

  fsvae.pt         the PRIME authors' FSVAE state_dict layout, random values
                   (tests/make_fsvae_ckpt.py, seed 2)
  fsvae.npz        the same tensors, np.savez_compressed
  fashion.pt       the Fashion CNN layout (docs/graph.md, "Import"), random
                   weights and scores, BatchNorm statistics of N(0, 1) inputs
  fsvae-in.npy     4 inputs (4, 1, 32, 32) in [-1, 1] with the central 8 x 8 hole at -1
  fashion-in.npy   4 inputs (4, 1, 28, 28) in [0, 1]
Seeded: the same files every run."""
import os
import subprocess
import sys

import numpy as np
import torch

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
pt = os.path.join(d, "fsvae.pt")
subprocess.run([sys.executable, os.path.join(here, "make_fsvae_ckpt.py"), pt, "2"], check=True, stdout=subprocess.DEVNULL)
sd = torch.load(pt, map_location="cpu")
np.savez_compressed(os.path.join(d, "fsvae.npz"), **{k: v.numpy() for k, v in sd.items()})

g = torch.Generator().manual_seed(21)
fs = {}
for k, shape in (("conv1", (64, 1, 3, 3)), ("conv2", (16, 64, 3, 3)), ("fc1", (128, 400)), ("fc2", (10, 128))):
    fan = int(np.prod(shape[1:]))
    fs[k + ".weight"] = torch.randn(*shape, generator=g) * 6.352
    fs[k + ".scores"] = (torch.rand(*shape, generator=g) * 2 - 1) / fan ** 0.5
for k, c, mean, var in (("bn1", 64, 0.0, 4.0), ("bn2", 16, 0.0, 4.0)):
    fs[k + ".weight"] = 1 + 0.1 * torch.randn(c, generator=g)
    fs[k + ".bias"] = 0.5 + 0.1 * torch.randn(c, generator=g)
    fs[k + ".running_mean"] = torch.full((c,), mean)
    fs[k + ".running_var"] = torch.full((c,), var)
    fs[k + ".num_batches_tracked"] = torch.tensor(0)
torch.save(fs, os.path.join(d, "fashion.pt"))

rng = np.random.default_rng(5)
x = rng.random((4, 1, 32, 32), dtype=np.float32) * 2 - 1
x[:, :, 12:20, 12:20] = -1
np.save(os.path.join(d, "fsvae-in.npy"), x.astype(np.float32))
np.save(os.path.join(d, "fashion-in.npy"), rng.random((4, 1, 28, 28), dtype=np.float32))
print(f"make_graph_js_fixtures: wrote {d}")
