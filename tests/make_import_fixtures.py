#!/usr/bin/python3
"""make_import_fixtures.py OUTDIR - checkpoints for tests/c/test_import.c,
written with torch and numpy (Debian python3-torch, python3-numpy):

  types.pt      a state_dict of every storage type the importer reads, values
                k/4 (k = 0, 1, ...), a transposed view, a view with a storage
                offset, a 0-dim int64 and a Parameter; its storage locations
                rewritten to 'cuda:0' (as a checkpoint saved on a GPU)
  clf.pt        the PRIME authors' classification layout (features.conv0/conv1,
                classifier.linear0, weight + scores), random, seed 5
  clf-masks.npz the masks torch computes from clf.pt's scores by the authors'
                rule (kthvalue), PyTorch layout
  clf.npz       clf.pt's tensors as an np.savez_compressed file
  legacy.pt     the same state_dict in the legacy (non-zip) format
  bad-shape.pt, bad-dtype.pt, missing.pt, extra.pt   clf.pt broken one way each
  small.npz     three arrays, np.savez_compressed (a = arange(24)/4 as (2, 3, 4))
"""
import io
import os
import sys
import zipfile

import numpy as np
import torch

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def vals(n, dtype):
    return (torch.arange(n, dtype=torch.float64) / 4).to(dtype)


base = vals(12, torch.float32).reshape(3, 4)
sd = {
    "f32": vals(6, torch.float32).reshape(2, 3),
    "f64": vals(5, torch.float64),
    "f16": vals(4, torch.float16).reshape(2, 2),
    "i64": torch.arange(4, dtype=torch.int64) - 2,
    "i32": torch.arange(3, dtype=torch.int32) * 7,
    "u8": torch.arange(5, dtype=torch.uint8) * 50,
    "b": torch.tensor([True, False, True]),
    "transposed": base.t(),             # stride (1, 4): a view, not contiguous
    "offset": base[1:],                 # storage offset 4, shares base's storage
    "scalar": torch.tensor(41, dtype=torch.int64),
    "param": torch.nn.Parameter(vals(3, torch.float32)),
}
buf = io.BytesIO()
torch.save(sd, buf)
# a checkpoint saved on a GPU: rewrite the location strings of data.pkl
zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
with zipfile.ZipFile(os.path.join(out, "types.pt"), "w", zipfile.ZIP_STORED) as zout:
    for info in zin.infolist():
        data = zin.read(info.filename)
        if info.filename.endswith("data.pkl"):
            data = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            assert b"cuda:0" in data
        zout.writestr(info.filename, data)

g = torch.Generator().manual_seed(5)
shapes = {"features.conv0": (12, 2, 5, 5), "features.conv1": (64, 12, 5, 5), "classifier.linear0": (10, 2304)}
clf, masks = {}, {}
for i, (k, shp) in enumerate(shapes.items()):
    w = torch.randn(shp, generator=g) * 6.352
    fan_in = int(np.prod(shp[1:]))
    s = (torch.rand(shp, generator=g) * 2 - 1) / fan_in ** 0.5
    if i == 0:
        s.view(-1)[:40] = s.view(-1)[40]  # ties at the threshold are kept
    clf[k + ".weight"], clf[k + ".scores"] = w, s
    a = s.abs().flatten()
    kth = a.kthvalue(1 + round(0.01 * 50 * (a.numel() - 1))).values.item()
    masks[f"mask{i}"] = (s.abs() >= kth).numpy()
torch.save(clf, os.path.join(out, "clf.pt"))
np.savez(os.path.join(out, "clf-masks.npz"), **masks)
np.savez_compressed(os.path.join(out, "clf.npz"), **{k: v.numpy() for k, v in clf.items()})
torch.save(sd, os.path.join(out, "legacy.pt"), _use_new_zipfile_serialization=False)
rng = np.random.default_rng(3)
np.savez_compressed(os.path.join(out, "small.npz"), a=np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 4,
                    b=rng.integers(0, 2, 200).astype(bool), c=np.zeros(300, np.float64))
# the classification layout, each broken one way (tests name the entry in the error)
bad = dict(clf)
bad["features.conv1.weight"] = torch.zeros(64, 12, 3, 3)
torch.save(bad, os.path.join(out, "bad-shape.pt"))
bad = dict(clf)
bad["features.conv0.scores"] = torch.zeros(12, 2, 5, 5, dtype=torch.int64)
torch.save(bad, os.path.join(out, "bad-dtype.pt"))
bad = dict(clf)
del bad["classifier.linear0.scores"]
torch.save(bad, os.path.join(out, "missing.pt"))
bad = dict(clf)
bad["features.conv0.bias"] = torch.zeros(12)
torch.save(bad, os.path.join(out, "extra.pt"))
print(f"wrote {out}/types.pt, clf.pt, clf-masks.npz, clf.npz, legacy.pt, small.npz")
