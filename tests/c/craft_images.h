/* craft_images.h - small image files written by hand (PNG, BMP, GIF, JPEG),
 * for the image tests (tests/c/test_image.c) and the fuzz seed corpus
 * (tests/fuzz/make_seeds.c). Formats from their specifications: PNG (W3C
 * PNG 2nd ed.), BMP (BITMAPINFOHEADER), GIF89a, JPEG baseline (ITU T.81).
 * Each writer takes gray levels g[y*w + x] and returns a malloc'ed file
 * (caller frees) and its size in *n; NULL on no memory. Needs zlib. */
#ifndef CRAFT_IMAGES_H
#define CRAFT_IMAGES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef struct { uint8_t *p; size_t n, cap; } craft_buf;

static void cb_put(craft_buf *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        size_t c = (b->n + n) * 2 + 64;
        uint8_t *q = realloc(b->p, c);
        if (!q) abort(); /* test and seed tool only */
        b->p = q, b->cap = c;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void cb_u8(craft_buf *b, unsigned v) { uint8_t c = (uint8_t)v; cb_put(b, &c, 1); }
static void cb_be16(craft_buf *b, unsigned v) { cb_u8(b, v >> 8); cb_u8(b, v); }
static void cb_be32(craft_buf *b, uint32_t v) { cb_be16(b, v >> 16); cb_be16(b, v & 0xFFFF); }
static void cb_le16(craft_buf *b, unsigned v) { cb_u8(b, v); cb_u8(b, v >> 8); }
static void cb_le32(craft_buf *b, uint32_t v) { cb_le16(b, v & 0xFFFF); cb_le16(b, v >> 16); }

/* One PNG chunk: length, type, data, CRC-32 of type + data. */
static void craft_png_chunk(craft_buf *b, const char *type, const uint8_t *d, uint32_t len) {
    cb_be32(b, len);
    cb_put(b, type, 4);
    if (len) cb_put(b, d, len);
    uLong c = crc32(0L, (const Bytef *)type, 4);
    if (len) c = crc32(c, d, len);
    cb_be32(b, (uint32_t)c);
}

/* 8-bit grayscale PNG, filter 0 on every row, one IDAT. */
static uint8_t *craft_png(const uint8_t *g, int w, int h, size_t *n) {
    craft_buf b = {0};
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
    cb_put(&b, sig, 8);
    uint8_t ihdr[13] = {0};
    for (int i = 0; i < 4; i++) ihdr[i] = (uint8_t)(w >> (24 - 8 * i)), ihdr[4 + i] = (uint8_t)(h >> (24 - 8 * i));
    ihdr[8] = 8, ihdr[9] = 0; /* 8 bits, grayscale */
    craft_png_chunk(&b, "IHDR", ihdr, 13);
    size_t raw_n = (size_t)(w + 1) * h;
    uint8_t *raw = calloc(raw_n, 1);
    for (int y = 0; y < h; y++) memcpy(raw + (size_t)y * (w + 1) + 1, g + (size_t)y * w, (size_t)w);
    uLongf zn = compressBound(raw_n);
    uint8_t *z = malloc(zn);
    compress(z, &zn, raw, raw_n);
    craft_png_chunk(&b, "IDAT", z, (uint32_t)zn);
    craft_png_chunk(&b, "IEND", NULL, 0);
    free(raw), free(z);
    *n = b.n;
    return b.p;
}

/* 24-bit bottom-up BMP with a 40-byte BITMAPINFOHEADER. */
static uint8_t *craft_bmp(const uint8_t *g, int w, int h, size_t *n) {
    craft_buf b = {0};
    uint32_t row = ((uint32_t)w * 3 + 3) / 4 * 4, img = row * h;
    cb_put(&b, "BM", 2), cb_le32(&b, 54 + img), cb_le32(&b, 0), cb_le32(&b, 54);
    cb_le32(&b, 40), cb_le32(&b, (uint32_t)w), cb_le32(&b, (uint32_t)h), cb_le16(&b, 1), cb_le16(&b, 24);
    cb_le32(&b, 0), cb_le32(&b, img), cb_le32(&b, 2835), cb_le32(&b, 2835), cb_le32(&b, 0), cb_le32(&b, 0);
    for (int y = h - 1; y >= 0; y--) {
        for (int x = 0; x < w; x++) { uint8_t v = g[(size_t)y * w + x]; cb_u8(&b, v), cb_u8(&b, v), cb_u8(&b, v); }
        for (uint32_t k = (uint32_t)w * 3; k < row; k++) cb_u8(&b, 0);
    }
    *n = b.n;
    return b.p;
}

/* GIF89a with a 128-level gray palette (pixel = g / 2). LZW with minimum code
 * size 7: codes stay 8 bits wide because a clear code is sent every 100
 * pixels, before the table reaches 256 entries. */
static uint8_t *craft_gif(const uint8_t *g, int w, int h, size_t *n) {
    craft_buf b = {0};
    cb_put(&b, "GIF89a", 6), cb_le16(&b, (unsigned)w), cb_le16(&b, (unsigned)h);
    cb_u8(&b, 0xF6), cb_u8(&b, 0), cb_u8(&b, 0); /* global table, 8 bits colour, 128 entries */
    for (int i = 0; i < 128; i++) { uint8_t v = (uint8_t)(i * 2 + i / 64); cb_u8(&b, v), cb_u8(&b, v), cb_u8(&b, v); }
    cb_u8(&b, 0x2C), cb_le16(&b, 0), cb_le16(&b, 0), cb_le16(&b, (unsigned)w), cb_le16(&b, (unsigned)h), cb_u8(&b, 0);
    cb_u8(&b, 7);
    craft_buf codes = {0};
    size_t np = (size_t)w * h;
    for (size_t i = 0; i < np; i++) {
        if (i % 100 == 0) cb_u8(&codes, 128);
        cb_u8(&codes, g[i] >> 1);
    }
    cb_u8(&codes, 129);
    for (size_t at = 0; at < codes.n; at += 255) {
        size_t k = codes.n - at < 255 ? codes.n - at : 255;
        cb_u8(&b, (unsigned)k), cb_put(&b, codes.p + at, k);
    }
    cb_u8(&b, 0), cb_u8(&b, 0x3B);
    free(codes.p);
    *n = b.n;
    return b.p;
}

/* Bit writer of the JPEG entropy-coded segment (0xFF stuffed with 0x00). */
typedef struct { craft_buf *b; uint32_t acc; int bits; } craft_bits;
static void cbits_put(craft_bits *w, uint32_t code, int len) {
    for (int i = len - 1; i >= 0; i--) {
        w->acc = w->acc << 1 | ((code >> i) & 1);
        if (++w->bits == 8) {
            cb_u8(w->b, w->acc);
            if ((w->acc & 0xFF) == 0xFF) cb_u8(w->b, 0);
            w->acc = 0, w->bits = 0;
        }
    }
}

/* Baseline JPEG, one component, each 8x8 block flat at the mean of its pixels
 * (DC only, every AC coefficient zero). Quantization all 1; DC table: the 12
 * categories as 4-bit codes; AC table: end-of-block only (1-bit code). */
static uint8_t *craft_jpeg(const uint8_t *g, int w, int h, size_t *n) {
    craft_buf b = {0};
    cb_be16(&b, 0xFFD8);
    cb_be16(&b, 0xFFDB), cb_be16(&b, 67), cb_u8(&b, 0);
    for (int i = 0; i < 64; i++) cb_u8(&b, 1);
    cb_be16(&b, 0xFFC0), cb_be16(&b, 11), cb_u8(&b, 8), cb_be16(&b, (unsigned)h), cb_be16(&b, (unsigned)w);
    cb_u8(&b, 1), cb_u8(&b, 1), cb_u8(&b, 0x11), cb_u8(&b, 0);
    cb_be16(&b, 0xFFC4), cb_be16(&b, 2 + 17 + 12), cb_u8(&b, 0x00);
    for (int i = 1; i <= 16; i++) cb_u8(&b, i == 4 ? 12 : 0);
    for (int i = 0; i < 12; i++) cb_u8(&b, (unsigned)i);
    cb_be16(&b, 0xFFC4), cb_be16(&b, 2 + 17 + 1), cb_u8(&b, 0x10), cb_u8(&b, 1);
    for (int i = 2; i <= 16; i++) cb_u8(&b, 0);
    cb_u8(&b, 0x00);
    cb_be16(&b, 0xFFDA), cb_be16(&b, 8), cb_u8(&b, 1), cb_u8(&b, 1), cb_u8(&b, 0x00);
    cb_u8(&b, 0), cb_u8(&b, 63), cb_u8(&b, 0);
    craft_bits bw = {&b, 0, 0};
    int pred = 0;
    for (int by = 0; by < (h + 7) / 8; by++)
        for (int bx = 0; bx < (w + 7) / 8; bx++) {
            int sum = 0, cnt = 0;
            for (int y = by * 8; y < by * 8 + 8 && y < h; y++)
                for (int x = bx * 8; x < bx * 8 + 8 && x < w; x++) sum += g[(size_t)y * w + x], cnt++;
            int dc = 8 * (sum / cnt - 128), diff = dc - pred, mag = diff < 0 ? -diff : diff, cat = 0;
            pred = dc;
            while (mag >> cat) cat++;
            cbits_put(&bw, (uint32_t)cat, 4);
            if (cat) cbits_put(&bw, (uint32_t)(diff < 0 ? diff - 1 : diff) & ((1u << cat) - 1), cat);
            cbits_put(&bw, 0, 1); /* end of block */
        }
    if (bw.bits) cbits_put(&bw, 0xFF, 8 - bw.bits); /* pad with 1 bits */
    cb_be16(&b, 0xFFD9);
    *n = b.n;
    return b.p;
}

#endif
