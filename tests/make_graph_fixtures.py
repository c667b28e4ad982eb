#!/usr/bin/python3
"""make_graph_fixtures.py DIR - checkpoints for tests/c/test_graph.c: the
authors' FSVAE layout (tests/make_fsvae_ckpt.py) and broken copies of it, one
fault each (an extra entry, a wrong shape, a wrong dtype, a missing entry)."""
import os
import subprocess
import sys

import torch

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
good = os.path.join(d, "fsvae.pt")
subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make_fsvae_ckpt.py"), good, "2"], check=True,
               stdout=subprocess.DEVNULL)
sd = torch.load(good)


def variant(name, change):
    s = dict(sd)
    change(s)
    torch.save(s, os.path.join(d, name))


variant("fsvae-extra.pt", lambda s: s.__setitem__("decoder.0.gain", torch.ones(32)))
variant("fsvae-shape.pt", lambda s: s.__setitem__("encoder.1.weight", torch.zeros(32, 16, 3, 3, 1)))
variant("fsvae-dtype.pt", lambda s: s.__setitem__("decoder.1.bias", torch.zeros(32, dtype=torch.int32)))
variant("fsvae-missing.pt", lambda s: s.pop("final_layer.1.scores"))
