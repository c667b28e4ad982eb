#!/usr/bin/python3
"""dvs_emulator.py - a second, independent event-camera model, for testing only
(never for training): static images -> N-MNIST-like event frames.

    /usr/bin/python3 scripts/dvs_emulator.py SAMPLES.psmp OUT.pfrm [--n N] [--T 10] [--seed S]
        [--jobs K] [--KEY VALUE ...]   (keys: see PARAMS below; K processes, default all cores)

It is written from another pixel model than the simulator's synthesizer
(src/events.c, docs/data.md), in another language, so that a model that only
learned the first one's quirks shows it (docs/data.md, "The independent event
model"). Where the first model samples the image bilinearly and lets a pixel fire
at every crossing of a fixed threshold on log(I + 0.3), this one renders the
digit as a monitor does (square pixels, a gamma, a black level), blurs it with the
lens's point-spread function, integrates it over each pixel's area, and feeds it
to a pixel in the style of v2e (Hu, Liu and Delbruck, "v2e: from video frames to
realistic DVS events", CVPR Workshops 2021): a linear-logarithmic photoreceptor,
a first-order low-pass whose cut-off scales with the light, ON and OFF thresholds
drawn per pixel, a refractory period, leak events and shot noise. The motion is
three straight saccades at constant speed along a triangle (Orchard et al.,
"Converting static image datasets to spiking neuromorphic datasets using
saccades", Front. Neurosci. 2015, record three ~100 ms saccades).

Frames are binned as the simulator's (equal number of events per frame,
channel 0 OFF, 1 ON, counts clipped at 255) and written as PFRM (docs/data.md).
"""
import os
import sys
import time
from multiprocessing import Pool

import numpy as np

PARAMS = {
    "size": 34,             # sensor side, pixels
    "amplitude": 3.0,       # triangle side of the saccade path, sensor pixels
    "duration_ms": 300.0,   # three saccades
    "dt_ms": 0.5,           # simulation step
    "motion": 1.0,          # 1: the camera follows the triangle (as recorded), the image moves the other way; 0: the image does
    "psf_sigma": 0.6,       # lens blur, sensor pixels (Gaussian)
    "monitor_gamma": 2.2,   # displayed luminance = (value)^gamma
    "black_level": 0.02,    # monitor black relative to white
    "lux_scale": 200.0,     # white on the sensor, in arbitrary photocurrent units
    "lin_log_knee": 20.0,   # below this photocurrent the photoreceptor is linear (v2e's lin-log)
    "cutoff_hz": 200.0,     # low-pass cut-off at white; scales with the light
    "theta_on": 0.2,        # mean ON threshold, log units
    "theta_off": 0.2,       # mean OFF threshold, log units
    "theta_sigma": 0.03,    # per-pixel threshold spread
    "refractory_ms": 1.0,   # a pixel is blind this long after an event
    "leak_hz": 0.1,         # ON leak events per pixel per second
    "shot_hz": 1.0,         # shot-noise events per pixel per second (both polarities)
}


SUB = 8  # fine grid per sensor pixel: motion in 1/8 px steps, light integrated over each pixel


def prepare(img, P):
    """The displayed digit seen through the lens, on a fine grid with a margin of
    amplitude + 2 sensor pixels: monitor pixels are squares of luminance
    black + (1 - black) * value^gamma, blurred by a Gaussian point-spread function."""
    size, s = int(P["size"]), SUB
    h, w = img.shape
    M = int(np.ceil(P["amplitude"])) + 2
    n = (size + 2 * M) * s
    u = (np.arange(n) + 0.5) / s - 0.5 - M  # sensor coordinate of each fine sample
    iy = np.floor(u - (size - h) / 2 + 0.5).astype(int)
    ix = np.floor(u - (size - w) / 2 + 0.5).astype(int)
    lum = P["black_level"] + (1 - P["black_level"]) * np.clip(img, 0, 1) ** P["monitor_gamma"]
    inside = (iy[:, None] >= 0) & (iy[:, None] < h) & (ix[None, :] >= 0) & (ix[None, :] < w)
    fine = np.where(inside, lum[np.clip(iy, 0, h - 1)][:, np.clip(ix, 0, w - 1)], P["black_level"])
    sig = max(P["psf_sigma"] * s, 1e-6)
    r = int(np.ceil(3 * sig))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sig) ** 2)
    k /= k.sum()
    K = np.zeros((n, n))  # blur as a band matrix, edges held at their value
    for d in range(-r, r + 1):
        K[np.arange(n), np.clip(np.arange(n) + d, 0, n - 1)] += k[d + r]
    return K @ fine @ K.T, M


def render(pre, P, dx, dy):
    """Photocurrent per sensor pixel [size][size] with the image moved by (dx, dy):
    the mean of the fine grid over each pixel's area."""
    fine, M = pre
    size, s = int(P["size"]), SUB
    oy, ox = M * s - int(round(dy * s)), M * s - int(round(dx * s))
    win = fine[oy:oy + size * s, ox:ox + size * s]
    return win.reshape(size, s, size, s).mean((1, 3)) * P["lux_scale"]


def lin_log(I, knee):
    """v2e-style photoreceptor: linear below the knee, logarithmic above, continuous."""
    return np.where(I < knee, I / knee * np.log(knee), np.log(np.maximum(I, knee)))


def path(P, t_ms):
    """Displacement of the image at time t: three straight saccades at constant speed
    along the triangle of docs/data.md, point-reflected when the camera moves."""
    A = P["amplitude"] * (-1 if P["motion"] else 1)
    V = [(0.0, -A / 2), (A / 2, A / 2), (-A / 2, A / 2)]
    third = P["duration_ms"] / 3
    s = min(int(t_ms // third), 2)
    u = min(1.0, (t_ms - s * third) / third)
    a, b = V[s], V[(s + 1) % 3]
    return a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u


def events(img, P, rng):
    """One image -> events as arrays (t_ms, x, y, p), sorted by time."""
    size = int(P["size"])
    th_on = np.maximum(0.01, rng.normal(P["theta_on"], P["theta_sigma"], (size, size)))
    th_off = np.maximum(0.01, rng.normal(P["theta_off"], P["theta_sigma"], (size, size)))
    pre = prepare(img, P)
    I = render(pre, P, *path(P, 0.0))
    lp = lin_log(I, P["lin_log_knee"])
    ref = lp.copy()
    blind_until = np.zeros((size, size))
    out_t, out_x, out_y, out_p = [], [], [], []
    white = P["lux_scale"]
    dt = P["dt_ms"]
    steps = int(round(P["duration_ms"] / dt))
    # at most this many events per pixel and step: the refractory period limits the rate;
    # what a blind pixel misses stays in (lp - ref) and fires once it can
    burst = max(1, int(dt / P["refractory_ms"])) if P["refractory_ms"] > 0 else 1 << 30
    for k in range(1, steps + 1):
        t = k * dt
        I = render(pre, P, *path(P, t))
        # low-pass: cut-off proportional to the light (dimmer pixels are slower)
        fc = P["cutoff_hz"] * np.clip(I / white, 0.05, 1.0)
        a = np.clip(2 * np.pi * fc * dt * 1e-3, 0, 1)
        lp = lp + a * (lin_log(I, P["lin_log_knee"]) - lp)
        ref -= P["leak_hz"] * dt * 1e-3 * th_on  # leak: the reference drifts down, ON events
        ready = blind_until <= t
        d = lp - ref
        n_on = np.minimum(np.where(ready & (d >= th_on), np.floor(d / th_on), 0), burst).astype(int)
        n_off = np.minimum(np.where(ready & (-d >= th_off), np.floor(-d / th_off), 0), burst).astype(int)
        for n, pol, th in ((n_on, 1, th_on), (n_off, 0, th_off)):
            ys, xs = np.nonzero(n)
            if len(ys):
                # a burst of m events spread evenly over the step, then the refractory period
                m = n[ys, xs]
                j = np.arange(m.sum()) - np.repeat(np.cumsum(m) - m, m)  # index within its burst
                out_t.append(t - dt + dt * (j + 1) / (np.repeat(m, m) + 1))
                out_x.append(np.repeat(xs, m)), out_y.append(np.repeat(ys, m))
                out_p.append(np.full(m.sum(), pol))
            ref += np.where(n > 0, (1 if pol else -1) * n * th, 0)
            blind_until = np.where(n > 0, t + P["refractory_ms"], blind_until)
    # shot noise: Poisson events of random polarity at every pixel
    n_shot = rng.poisson(P["shot_hz"] * P["duration_ms"] * 1e-3, (size, size))
    ys, xs = np.nonzero(n_shot)
    m = n_shot[ys, xs]
    out_t.append(rng.uniform(0, P["duration_ms"], m.sum()))
    out_x.append(np.repeat(xs, m)), out_y.append(np.repeat(ys, m))
    out_p.append(rng.integers(0, 2, m.sum()))
    t, x, y, p = (np.concatenate(v) for v in (out_t, out_x, out_y, out_p))
    order = np.argsort(t, kind="stable")
    return t[order], x[order], y[order], p[order]


def bin_frames(x, y, p, T, size):
    """Equal number of events per frame, as prime_events_bin: [T][2][size][size] counts."""
    n = len(x)
    fr = np.zeros((T, 2, size, size), np.int64)
    for k in range(T):
        lo, hi = k * n // T, (k + 1) * n // T
        np.add.at(fr[k], (p[lo:hi], y[lo:hi], x[lo:hi]), 1)
    return np.minimum(fr, 255).astype(np.uint8)


def one_sample(job):
    """Frames of one image: job = (image, params, T, seed, index); seeded per index,
    so the result does not depend on how the samples are spread over processes."""
    img, P, T, seed, index = job
    rng = np.random.default_rng([seed, index])
    t, x, y, p = events(img, P, rng)
    if len(t) < T:
        raise SystemExit(f"sample {index}: {len(t)} events cannot fill {T} frames")
    return len(t), bin_frames(x, y, p, T, int(P["size"])).tobytes()


def read_psmp(path):
    b = open(path, "rb").read()
    if b[:4] != b"PSMP":
        raise SystemExit(f"{path}: not a PSMP sample file")
    n, w, h = (int(v) for v in np.frombuffer(b, "<u4", 3, 8))
    seed = int(np.frombuffer(b, "<u8", 1, 20)[0])
    idx = np.frombuffer(b, "<u4", n, 28)
    labels = np.frombuffer(b, np.uint8, n, 28 + 4 * n)
    px = np.frombuffer(b, np.uint8, n * w * h, 28 + 5 * n).reshape(n, h, w)
    return px.astype(np.float64) / 255.0, labels, idx, seed


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        raise SystemExit(__doc__)
    src, dst = args[0], args[1]
    opt = dict(PARAMS, n=0, T=10, seed=7, jobs=os.cpu_count() or 1)
    rest = args[2:]
    for i in range(0, len(rest), 2):
        key = rest[i].lstrip("-")
        if key not in opt or i + 1 >= len(rest):
            raise SystemExit(f"unknown option {rest[i]} (known: {', '.join(opt)})")
        opt[key] = float(rest[i + 1])
    imgs, labels, idx, _ = read_psmp(src)
    n = len(imgs) if not opt["n"] else min(int(opt["n"]), len(imgs))
    T, size = int(opt["T"]), int(opt["size"])
    P = {k: opt[k] for k in PARAMS}
    # PFRM version 2, fingerprint 0: frames from another event model (docs/data.md)
    out = bytearray(b"PFRM" + np.array([2, n, T, 2, size, size, 0, 0], "<u4").tobytes())
    out += labels[:n].tobytes()
    t0, total = time.time(), 0
    jobs = [(imgs[i], P, T, int(opt["seed"]), int(idx[i])) for i in range(n)]
    with Pool(max(1, int(opt["jobs"]))) as pool:
        for i, (count, frames) in enumerate(pool.imap(one_sample, jobs, chunksize=4)):
            total += count
            out += frames
            if sys.stderr.isatty() and (i + 1) % 20 == 0:
                sys.stderr.write(f"\r{i + 1}/{n} samples")
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    tmp = dst + ".tmp"
    open(tmp, "wb").write(out)
    os.replace(tmp, dst)
    print(f"{dst}: {n} samples, T = {T}, {total / n:.0f} events per sample, {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
