#!/usr/bin/python3
"""make_fsvae_ckpt.py OUT.pt [SEED] - a torch checkpoint in the state_dict
layout of the PRIME authors' pruned FSVAE (their Inpainting code, MNIST
config: 1 input channel, hidden channels [32, 32, 32], latent 128, k 20),
random weights, scores and tdBN statistics. For the importer's FSVAE path
(docs/model-format.md, "Importing"): tests/c/test_import.c checks that it reads
and is recognized; the engine's graph import will check it against a torch
forward.

The layout, from the authors' fsvae_models (facts, not their code):
  encoder.{0,1,2}         Conv3d 3x3x1, stride 2, pad 1, bias; weight (out, in, 3, 3, 1)
                          (a trailing 1: time is the last axis), scores of the same
                          shape, tdBN (BatchNorm2d statistics) as .bn.*
  before_latent_layer     Linear 512 -> 128, bias, scores, tdBN
  posterior.layers.{0,1,2} Linear 256 -> 256 -> 512 -> 128*k, bias, tdBN (alpha 2);
  prior.layers.{0,1,2}    Linear 128 -> 256 -> 512 -> 128*k, bias, tdBN (alpha 2);
                          both with an initial_input buffer (1, 128, 1); no scores
  decoder_input           Linear 128 -> 512, bias, scores, tdBN
  decoder.{0,1}           ConvTranspose3d 3x3x1, stride 2, pad 1, output pad 1, bias;
                          weight (in, out, 3, 3, 1), scores, tdBN
  final_layer.0           as decoder; final_layer.1: ConvTranspose3d 32 -> 1, stride 1,
                          bias, scores, no tdBN
Tensors are CHW(T) as in the authors' code.
"""
import sys
from collections import OrderedDict

import torch

out = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
g = torch.Generator().manual_seed(seed)
C, K, L, H = 1, 20, 128, [32, 32, 32]
sd = OrderedDict()


def rnd(*shape, sd_=1.0):
    return torch.randn(*shape, generator=g) * sd_


def bn(prefix, n):
    sd[prefix + ".weight"] = 1 + 0.1 * rnd(n)
    sd[prefix + ".bias"] = 0.1 * rnd(n)
    sd[prefix + ".running_mean"] = 0.1 * rnd(n)
    sd[prefix + ".running_var"] = 0.5 + torch.rand(n, generator=g)
    sd[prefix + ".num_batches_tracked"] = torch.tensor(1000, dtype=torch.int64)


def layer(prefix, wshape, nout, pruned=True, norm=True):
    fan_in = 1
    for s in wshape[1:]:
        fan_in *= s
    sd[prefix + ".weight"] = rnd(*wshape, sd_=6.91593)  # "similar to rram weights"
    sd[prefix + ".bias"] = 0.1 * rnd(nout)
    if pruned:
        sd[prefix + ".scores"] = (torch.rand(*wshape, generator=g) * 2 - 1) / fan_in ** 0.5
    if norm:
        bn(prefix + ".bn", nout)


cin = C
for i, h in enumerate(H):
    layer(f"encoder.{i}", (h, cin, 3, 3, 1), h)
    cin = h
layer("before_latent_layer", (L, H[-1] * 16), L)
for name, first in (("prior", L), ("posterior", 2 * L)):
    layer(f"{name}.layers.0", (2 * L, first), 2 * L, pruned=False)
    layer(f"{name}.layers.1", (4 * L, 2 * L), 4 * L, pruned=False)
    layer(f"{name}.layers.2", (L * K, 4 * L), L * K, pruned=False)
    sd[f"{name}.initial_input"] = torch.zeros(1, L, 1)
layer("decoder_input", (H[-1] * 16, L), H[-1] * 16)
rev = H[::-1]
for i in range(len(rev) - 1):
    layer(f"decoder.{i}", (rev[i], rev[i + 1], 3, 3, 1), rev[i + 1])  # transposed: [in][out]
layer("final_layer.0", (rev[-1], rev[-1], 3, 3, 1), rev[-1])
layer("final_layer.1", (rev[-1], C, 3, 3, 1), C, norm=False)
torch.save(sd, out)
print(f"wrote {out}: {len(sd)} tensors, {sum(t.numel() for t in sd.values())} values")
