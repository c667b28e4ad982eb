/* prime_image.c - image input through stb_image (the only file that compiles
 * it): PNG, JPEG, BMP and GIF from memory -> grayscale -> resized floats.
 *
 * The build uses Debian's stb_image 2.27 (libstb-dev) as it is. Before stb
 * sees a file, image_precheck() below reads its header with our own code:
 * the dimensions are capped at PRIME_IMAGE_MAX_SIDE before anything is
 * allocated, a JPEG's Huffman tables are validated (2.27 writes past its size
 * table on code counts above 256), and a PNG's chunk lengths must fit the
 * file and its image data must be present. Limits: docs/web.md, "Images". */
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
/* Every allocation of stb goes through a cap: the largest a 4096 x 4096 image
 * needs is 128 MiB (16-bit RGBA), while a PNG's zlib stream can inflate to
 * about 1,000 times its size and stb grows its output buffer as long as the
 * data lasts. Beyond the cap stb reports "outofmem" and frees what it had. */
#define PRIME_IMAGE_MAX_ALLOC ((size_t)256 << 20)
static void *img_malloc(size_t n) { return n > PRIME_IMAGE_MAX_ALLOC ? NULL : malloc(n); }
static void *img_realloc(void *p, size_t n) { return n > PRIME_IMAGE_MAX_ALLOC ? NULL : realloc(p, n); }
#define STBI_MALLOC(n) img_malloc(n)
#define STBI_REALLOC(p, n) img_realloc(p, n)
#define STBI_FREE(p) free(p)
#define STBI_MAX_DIMENSIONS PRIME_IMAGE_MAX_SIDE /* second line behind image_precheck */
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

/* ============================================================ header check */

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }

/* 0 if w x h is within 1..PRIME_IMAGE_MAX_SIDE on both sides, else -1 with a message. */
static int check_dims(const char *fmt, int64_t w, int64_t h) {
    if (w < 1 || h < 1 || w > PRIME_IMAGE_MAX_SIDE || h > PRIME_IMAGE_MAX_SIDE)
        return prime_error("image: %s declares %lld x %lld pixels (1 .. %d per side accepted)", fmt,
                           (long long)w, (long long)h, PRIME_IMAGE_MAX_SIDE);
    return 0;
}

/* PNG: every chunk (length, type, data, CRC) must lie inside the file, the
 * first is a 13-byte IHDR with the dimensions, and an IDAT with data comes
 * before IEND (stb 2.27 adds an offset to a NULL buffer on an empty IDAT and
 * asks for a chunk's length in memory before reading it). 0 or -1. */
static int check_png(const uint8_t *b, size_t n) {
    size_t at = 8;
    int idat = 0;
    for (int first = 1;; first = 0) {
        if (n - at < 12) return prime_error("image: PNG truncated (chunk header at byte %zu of %zu)", at, n);
        uint32_t len = be32(b + at);
        const uint8_t *type = b + at + 4;
        if (len > n - at - 12)
            return prime_error("image: PNG chunk %.4s at byte %zu declares %u bytes, the file has %zu left",
                               (const char *)type, at, len, n - at - 12);
        if (first) {
            if (memcmp(type, "IHDR", 4) != 0 || len != 13) return prime_error("image: PNG does not start with a 13-byte IHDR chunk");
            if (check_dims("PNG", be32(b + at + 8), be32(b + at + 12))) return -1;
        }
        if (memcmp(type, "IDAT", 4) == 0) {
            if (len == 0) return prime_error("image: PNG has an empty IDAT chunk at byte %zu", at);
            idat = 1;
        }
        if (memcmp(type, "IEND", 4) == 0) break;
        at += 12 + (size_t)len;
    }
    if (!idat) return prime_error("image: PNG has no image data (no IDAT chunk before IEND)");
    return 0;
}

/* JPEG DHT segment body (after its length): per table, class 0/1 and id 0..3,
 * 16 code counts summing to at most 256, and the symbols inside the segment;
 * the tables fill the segment exactly. Sets bit class*4 + id of *defined per
 * table. 0 or -1. */
static int check_dht(const uint8_t *p, size_t len, size_t at, unsigned *defined) {
    while (len > 0) {
        if (len < 17) return prime_error("image: JPEG Huffman table (DHT at byte %zu) truncated by its segment length", at);
        int tc = p[0] >> 4, th = p[0] & 15;
        if (tc > 1 || th > 3) return prime_error("image: JPEG Huffman table (DHT at byte %zu) has class %d id %d (0..1, 0..3 allowed)", at, tc, th);
        size_t sum = 0;
        for (int i = 1; i <= 16; i++) sum += p[i];
        if (sum > 256) return prime_error("image: JPEG Huffman table (DHT at byte %zu) declares %zu codes (at most 256)", at, sum);
        if (17 + sum > len) return prime_error("image: JPEG Huffman table (DHT at byte %zu) has %zu symbols, its segment holds %zu", at, sum, len - 17);
        *defined |= 1u << (tc * 4 + th);
        p += 17 + sum, len -= 17 + sum;
    }
    return 0;
}

/* What the segments before a scan defined: Huffman tables (bit class*4 + id),
 * quantization tables (bit id), the frame's components and its mode. */
typedef struct {
    unsigned dht, dqt;
    int sof, progressive, ncomp;
    int comp_id[4], comp_tq[4];
} jpeg_state;

/* JPEG SOS header: every component of the scan is one of the frame's, its
 * quantization table and the Huffman tables the scan decodes with are
 * defined (stb 2.27 keeps its tables in uninitialised memory and reads past
 * maxcode[] on a table no DHT defined). 0 or -1. */
static int check_sos(const uint8_t *p, size_t len, size_t at, const jpeg_state *st) {
    if (!st->sof) return prime_error("image: JPEG scan at byte %zu before any frame header (SOF)", at);
    if (len < 1 || len < 1 + 2 * (size_t)p[0] + 3) return prime_error("image: JPEG scan header at byte %zu too short", at);
    int ns = p[0];
    const uint8_t *sel = p + 1 + 2 * ns; /* Ss, Se, Ah/Al */
    int need_dc = !st->progressive || (sel[0] == 0 && (sel[2] >> 4) == 0);
    int need_ac = !st->progressive || sel[0] != 0;
    for (int i = 0; i < ns; i++) {
        int id = p[1 + 2 * i], td = p[2 + 2 * i] >> 4, ta = p[2 + 2 * i] & 15, c = 0;
        while (c < st->ncomp && st->comp_id[c] != id) c++;
        if (c == st->ncomp) return prime_error("image: JPEG scan at byte %zu names component %d, which the frame does not have", at, id);
        if (!(st->dqt >> st->comp_tq[c] & 1))
            return prime_error("image: JPEG component %d uses quantization table %d, which no DQT defined before the scan at byte %zu", id, st->comp_tq[c], at);
        if ((need_dc && (td > 3 || !(st->dht >> td & 1))) || (need_ac && (ta > 3 || !(st->dht >> (4 + ta) & 1))))
            return prime_error("image: JPEG scan at byte %zu uses Huffman table DC %d / AC %d, which no DHT defined before it", at, td, ta);
    }
    return 0;
}

/* JPEG: walks the markers from SOI to EOI the way stb does (fill bytes 0xFF,
 * padding between segments, entropy-coded data after SOS up to the next
 * marker that is not a restart), so every DHT stb would read is validated
 * here first and every scan uses tables defined before it; the first SOF
 * gives the dimensions. 0 or -1. */
static int check_jpeg(const uint8_t *b, size_t n) {
    jpeg_state st;
    memset(&st, 0, sizeof st);
    size_t at = 0;
    while (at < n && b[at] == 0xFF) at++; /* SOI: FF..FF D8 (checked by the caller) */
    at++;
    for (;;) {
        while (at < n && b[at] != 0xFF) at++;   /* padding between segments */
        while (at < n && b[at] == 0xFF) at++;   /* fill bytes */
        if (at >= n) return 0;                  /* no EOI: stb reports what is missing */
        size_t mpos = at - 1;
        int m = b[at++];
        if (m == 0xD9) return 0;                                 /* EOI */
        if (m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD8)) continue; /* no length */
        if (n - at < 2) return prime_error("image: JPEG truncated in the segment at byte %zu", mpos);
        size_t len = be16(b + at);
        if (len < 2 || len > n - at)
            return prime_error("image: JPEG segment 0x%02X at byte %zu declares %zu bytes, the file has %zu left", m, mpos, len, n - at);
        const uint8_t *p = b + at + 2;
        size_t body = len - 2;
        if (m == 0xC4 && check_dht(p, body, mpos, &st.dht)) return -1;
        if (m == 0xDB) /* DQT: note the tables defined (stb checks the rest) */
            for (size_t q = 0; q < body && (p[q] >> 4) <= 1; q += (p[q] >> 4) ? 129 : 65) st.dqt |= 1u << (p[q] & 15);
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && !st.sof) { /* SOFn */
            if (body < 6) return prime_error("image: JPEG frame header at byte %zu too short", mpos);
            if (check_dims("JPEG", be16(p + 3), be16(p + 1))) return -1;
            st.sof = 1, st.progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE;
            st.ncomp = p[5] < 4 ? p[5] : 4;
            for (int c = 0; c < st.ncomp && 6 + 3 * (size_t)c + 2 < body; c++)
                st.comp_id[c] = p[6 + 3 * c], st.comp_tq[c] = p[8 + 3 * c] & 15;
        }
        if (m == 0xDA && check_sos(p, body, mpos, &st)) return -1;
        at += len;
        if (m == 0xDA) { /* entropy-coded data: skip to the next marker that is not RSTn or stuffing */
            for (;;) {
                while (at < n && b[at] != 0xFF) at++;
                size_t q = at;
                while (q < n && b[q] == 0xFF) q++;
                if (q >= n) return 0;
                if (b[q] != 0x00 && !(b[q] >= 0xD0 && b[q] <= 0xD7)) break;
                at = q + 1;
            }
        }
    }
}

/* BMP: dimensions from the DIB header (12-byte core header: 16-bit fields,
 * otherwise 32-bit, negative height = top-down), and the file must hold the
 * uncompressed rows it declares. 0 or -1. */
static int check_bmp(const uint8_t *b, size_t n) {
    if (n < 26) return prime_error("image: BMP truncated in its header (%zu bytes)", n);
    uint32_t hsz = le32(b + 14);
    int64_t w, h;
    uint32_t bpp;
    if (hsz == 12) {
        w = le16(b + 18), h = le16(b + 20), bpp = le16(b + 24);
    } else {
        if (n < 30) return prime_error("image: BMP truncated in its header (%zu bytes)", n);
        w = (int32_t)le32(b + 18), h = (int32_t)le32(b + 22), bpp = le16(b + 28);
        if (h < 0) h = -h;
    }
    if (check_dims("BMP", w, h)) return -1;
    uint64_t row = ((uint64_t)w * bpp + 31) / 32 * 4;
    if (row * (uint64_t)h > n)
        return prime_error("image: BMP declares %lld x %lld pixels at %u bits (%llu bytes), the file has %zu",
                           (long long)w, (long long)h, bpp, (unsigned long long)(row * h), n);
    return 0;
}

/* Recognises the format by its signature (as stb does) and checks the
 * header; 0 or -1 with a message that names what is wrong. */
static int image_precheck(const uint8_t *b, size_t n) {
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    if (n >= 8 && memcmp(b, png_sig, 8) == 0) return check_png(b, n);
    size_t f = 0;
    while (f < n && b[f] == 0xFF) f++;
    if (f > 0 && f < n && b[f] == 0xD8) return check_jpeg(b, n);
    if (n >= 2 && b[0] == 'B' && b[1] == 'M') return check_bmp(b, n);
    if (n >= 6 && memcmp(b, "GIF8", 4) == 0) {
        if (n < 10) return prime_error("image: GIF truncated in its header (%zu bytes)", n);
        return check_dims("GIF", le16(b + 6), le16(b + 8));
    }
    return prime_error("image could not be decoded: not a PNG, JPEG, BMP or GIF file (no known signature)");
}

/* ============================================================ decode, resize */

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
    if (image_precheck(bytes, n)) return -1;
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
