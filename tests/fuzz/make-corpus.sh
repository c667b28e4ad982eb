#!/usr/bin/env bash
# make-corpus.sh - writes the seed corpus of the fuzz harnesses to
# build/fuzz/corpus/<harness>/ (not committed): the C seeds with the project's
# own writers (build/fuzz/make_seeds, from tests/fuzz/make_seeds.c) and the
# NumPy seeds with numpy (Debian python3-numpy). Run by tests/fuzz/run.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
C=build/fuzz/corpus
rm -rf "$C"
for h in model model_v2 vae clf npy npz tensors image nmnist frames events device graph; do mkdir -p "$C/$h"; done
build/fuzz/make_seeds "$C"
/usr/bin/python3 - "$C" <<'PY'
import io, sys, zipfile
import numpy as np
c = sys.argv[1]
rng = np.random.default_rng(1)
# .npy: the dtypes and layouts prime_npy_read meets
arrs = {
    'f4': rng.standard_normal((3, 4)).astype('<f4'),
    'f8': rng.standard_normal((2, 3, 2)).astype('<f8'),
    'u1': np.arange(12, dtype='u1').reshape(3, 4),
    'i8': np.arange(6, dtype='<i8'),
    'bool': np.array([True, False, True]),
    'fortran': np.asfortranarray(rng.standard_normal((3, 2)).astype('<f4')),
    'scalar': np.array(2.5, dtype='<f4'),
    'big-endian': np.arange(4, dtype='>f4'),
}
for k, a in arrs.items():
    np.save(f'{c}/npy/{k}.npy', a)
# .npz for the tiny network of fuzz_common.h: weight layers 0 (conv 3x2x3x3) and 1 (FC 3x48)
shapes = [(3, 2, 3, 3), (3, 48)]
def npz(name, **kw):
    np.savez(f'{c}/npz/{name}.npz', **kw)
npz('masks', mask0=(rng.random(shapes[0]) < 0.5).astype('u1'), mask1=(rng.random(shapes[1]) < 0.5))
npz('weights', weight0=rng.standard_normal(shapes[0]).astype('<f4') * 5, weight1=rng.standard_normal(shapes[1]).astype('<f8') * 5)
npz('conductances', gpos1=np.full(shapes[1], 25.0, '<f4'), gneg1=np.full(shapes[1], 20.0, '<f4'))
npz('all', mask0=np.ones(shapes[0], 'u1'), weight1=np.zeros(shapes[1], '<f4'), gpos0=np.full(shapes[0], 30, '<f4'), gneg0=np.full(shapes[0], 28, '<f4'))
# .pt / .npz / .npy seeds of the importer's tensor readers (fuzz_tensors): small
# state_dicts saved by torch (Debian python3-torch; skipped with a note if absent)
import collections
np.savez_compressed(f'{c}/tensors/compressed.npz', weight0=rng.standard_normal((3, 2, 3, 3)).astype('<f4'), mask1=np.ones((3, 48), 'u1'))
np.savez(f'{c}/tensors/stored.npz', a=np.arange(6, dtype='<f8').reshape(2, 3))
np.save(f'{c}/tensors/one.npy', np.linspace(0, 1, 5, dtype='<f4'))
try:
    import torch
    g = torch.Generator().manual_seed(1)
    sd = collections.OrderedDict()
    sd['features.conv0.weight'] = torch.randn(3, 2, 5, 5, generator=g)
    sd['features.conv0.scores'] = torch.rand(3, 2, 5, 5, generator=g)
    sd['classifier.linear0.weight'] = torch.randn(10, 12, generator=g).t().contiguous().t()  # a strided view
    sd['count'] = torch.tensor([3], dtype=torch.int64)
    sd['flags'] = torch.ones(4, dtype=torch.bool)
    sd['half'] = torch.randn(4, generator=g).half()
    torch.save(sd, f'{c}/tensors/state_dict.pt')
    torch.save({'state_dict': {'w': torch.zeros(2, 2, dtype=torch.float64)}, 'epoch': 3, 'name': 'x'}, f'{c}/tensors/nested.pt')
    torch.save({'t': torch.arange(10.0)[2:8]}, f'{c}/tensors/offset.pt')
except ImportError:
    print('tensors: python3-torch missing, no .pt seeds (./build.sh setup installs it)')
PY
for h in "$C"/*/; do printf '%s: %s seeds\n' "$(basename "$h")" "$(ls "$h" | wc -l)"; done
