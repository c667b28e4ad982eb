/* prime_image.c - image input through stb_image (the only file that compiles
 * it): PNG, JPEG, BMP and GIF from memory -> grayscale -> resized floats. */
#include <stdlib.h>
#include <string.h>

#include "prime.h"

/* stb_image, restricted to the formats we accept, no stdio, no HDR, and no
 * assert() (an assert would abort the wasm instance on a bad file). */
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC /* its functions static: the library exports only prime_* */
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_NO_STDIO
#define STBI_NO_HDR
#define STBI_NO_LINEAR
#define STBI_ASSERT(x) ((void)0)
#define STBI_MAX_DIMENSIONS 8192
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb_image.h> /* Debian libstb-dev: /usr/include/stb */
#if defined(__GNUC__)
#pragma GCC diagnostic pop
/* With stb static (inlined here), gcc checks it at the end of the file: it declares one function it never
 * defines, and at -O2 it sees the io callbacks of a memory-only context as maybe uninitialized (never read) */
#pragma GCC diagnostic ignored "-Wunused-function"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

/* Resizes a w x h float image to ow x oh: area average when shrinking along an
 * axis, bilinear when enlarging; 0 or -1. */
int prime_image_resize(const float *in, int w, int h, float *out, int ow, int oh) {
    if (!in || !out) return prime_error("prime_image_resize: NULL argument");
    if (w < 1 || h < 1 || ow < 1 || oh < 1 || w > 8192 || h > 8192 || ow > 8192 || oh > 8192)
        return prime_error("image resize: sizes %dx%d -> %dx%d out of range 1..8192", w, h, ow, oh);
    for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            double acc = 0, wsum = 0;
            if (w >= ow && h >= oh) {
                /* box [x0, x1) x [y0, y1) in source pixels, partial coverage weighted */
                double x0 = (double)ox * w / ow, x1 = (double)(ox + 1) * w / ow;
                double y0 = (double)oy * h / oh, y1 = (double)(oy + 1) * h / oh;
                for (int y = (int)y0; y < h && y < y1; y++) {
                    double wy = (y + 1 < y1 ? y + 1 : y1) - (y > y0 ? y : y0);
                    for (int x = (int)x0; x < w && x < x1; x++) {
                        double wx = (x + 1 < x1 ? x + 1 : x1) - (x > x0 ? x : x0);
                        acc += wx * wy * in[(size_t)y * w + x];
                        wsum += wx * wy;
                    }
                }
                out[(size_t)oy * ow + ox] = (float)(wsum > 0 ? acc / wsum : 0);
            } else {
                double sx = ((double)ox + 0.5) * w / ow - 0.5, sy = ((double)oy + 0.5) * h / oh - 0.5;
                if (sx < 0) sx = 0;
                if (sy < 0) sy = 0;
                int x0 = (int)sx, y0 = (int)sy;
                int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
                double fx = sx - x0, fy = sy - y0;
                double top = in[(size_t)y0 * w + x0] * (1 - fx) + in[(size_t)y0 * w + x1] * fx;
                double bot = in[(size_t)y1 * w + x0] * (1 - fx) + in[(size_t)y1 * w + x1] * fx;
                out[(size_t)oy * ow + ox] = (float)(top * (1 - fy) + bot * fy);
            }
        }
    }
    return 0;
}

/* Decodes image bytes to grayscale [0,1] floats of out_w x out_h (optionally
 * inverted); 0 or -1 with stb_image's reason. */
int prime_image_decode(const uint8_t *bytes, size_t n, int out_w, int out_h, int invert, float *out) {
    if (!bytes || !out) return prime_error("prime_image_decode: NULL argument");
    if (n == 0 || n > 64u * 1024 * 1024) return prime_error("image: %zu bytes (1 byte .. 64 MiB accepted)", n);
    if (out_w < 1 || out_h < 1 || out_w > 4096 || out_h > 4096) return prime_error("image: output size %dx%d out of range", out_w, out_h);
    int w, h, comp;
    stbi_uc *px = stbi_load_from_memory(bytes, (int)n, &w, &h, &comp, 2); /* gray + alpha */
    if (!px) return prime_error("image could not be decoded (%s); PNG, JPEG, BMP and GIF are accepted", stbi_failure_reason());
    float *g = malloc((size_t)w * h * sizeof(float));
    if (!g) { stbi_image_free(px); return prime_error("image: out of memory for %dx%d pixels", w, h); }
    for (size_t i = 0; i < (size_t)w * h; i++) {
        /* composite on white paper when inverting (drawings), on black otherwise */
        float v = px[2 * i] / 255.0f, a = px[2 * i + 1] / 255.0f;
        float bg = invert ? 1.0f : 0.0f;
        v = v * a + bg * (1.0f - a);
        g[i] = invert ? 1.0f - v : v;
    }
    stbi_image_free(px);
    int rc = prime_image_resize(g, w, h, out, out_w, out_h);
    free(g);
    return rc;
}

/* Inflates raw deflate data (no zlib header: a zip entry) with stb_image's
 * decoder into a fresh malloc'ed buffer of exactly `expected` bytes; fails
 * (never allocating more) when the stream is bad or does not give exactly
 * `expected` bytes, or when `expected` exceeds `cap`. 0 or -1. */
int prime_inflate_raw(const uint8_t *src, size_t n, size_t expected, size_t cap, uint8_t **out) {
    if (!src || !out) return prime_error("prime_inflate_raw: NULL argument");
    *out = NULL;
    if (expected > cap || expected > 0x7ffffffeu) return prime_error("inflate: %zu bytes declared, more than the cap of %zu", expected, cap);
    if (n > 0x7fffffffu) return prime_error("inflate: %zu compressed bytes, too many", n);
    /* one spare byte: a stream that would give more than declared then fills it and is caught */
    uint8_t *o = malloc(expected + 1);
    if (!o) return prime_error("inflate: out of memory for %zu bytes", expected);
    /* stb's decoder (v2.27) reports the end of its input while it still
     * holds fewer than 16 bits to peek at, though the last codes may be
     * shorter: a zlib stream has its 4-byte Adler trailer there, a zip entry
     * has nothing. Zero padding stands in for it; decoding past the real end
     * is caught by the size check here and the entry's CRC-32 (prime_zip.c). */
    uint8_t *in = malloc(n + 8);
    if (!in) { free(o); return prime_error("inflate: out of memory for %zu bytes", n); }
    memcpy(in, src, n);
    memset(in + n, 0, 8);
    int got = stbi_zlib_decode_noheader_buffer((char *)o, (int)expected + 1, (const char *)in, (int)n + 8);
    free(in);
    if (got < 0) {
        free(o);
        return prime_error("inflate: bad or truncated deflate data (%s)", stbi_failure_reason());
    }
    if ((size_t)got != expected) {
        free(o);
        return prime_error("inflate: gave %d bytes, the entry declares %zu", got, expected);
    }
    *out = o;
    return 0;
}
