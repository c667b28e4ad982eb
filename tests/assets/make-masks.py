#!/usr/bin/env python3
"""make-masks.py - draws the free-form hole masks of the mask-shape study
(docs/inpainting.md) as 64x64 grayscale PNGs: white = unknown pixel.
Standard library only; rerun from the repository root to regenerate."""
import math, struct, zlib

def png(path, rows):
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

S = 64
def draw(inside):
    return [[255 if inside(x + 0.5, y + 0.5) else 0 for x in range(S)] for y in range(S)]

# a brush stroke: a wave from left to right through the centre, 7 px wide
def stroke(x, y):
    return 8 <= x <= 56 and abs(y - (32 + 12 * math.sin((x - 8) / 48 * 2 * math.pi))) < 3.5
png("tests/assets/mask-stroke.png", draw(stroke))

# three blobs (discs) of radius 6..9 around the centre
blobs = [(22, 24, 8), (40, 30, 9), (30, 44, 6)]
png("tests/assets/mask-blobs.png", draw(lambda x, y: any((x - cx) ** 2 + (y - cy) ** 2 < r * r for cx, cy, r in blobs)))
