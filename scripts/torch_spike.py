"""torch_spike.py - the spike of the trainers' PyTorch peers (scripts/bench-torch-train.py,
scripts/bench-torch-train-vae.py): s = U > th forward, a boxcar surrogate backward,
dS/dU = scale for |U - th| < half_width (src/train.c: scale 1, half-width 0.5;
src/train_vae.c: scale 1 / (2 half-width), half-width 0.5)."""
import torch


def spike_fn(th, half_width, scale):
    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, u):
            ctx.save_for_backward(u)
            return (u > th).to(u.dtype)

        @staticmethod
        def backward(ctx, g):
            (u,) = ctx.saved_tensors
            return g * ((u - th).abs() < half_width).to(g.dtype) * scale

    return Spike.apply
