/* test_image.c - image input: hand-made PNG, BMP, GIF and JPEG files decode,
 * and the header check of src/prime_image.c refuses what Debian's stb_image
 * 2.27 mishandles (JPEG Huffman counts above 256, PNG chunk lengths beyond
 * the file, empty or missing PNG image data) and headers that declare more
 * than PRIME_IMAGE_MAX_SIDE pixels, quickly and with a message that says why.
 *
 * Prints one line per check and "N passed, M failed"; exit code 1 on failure.
 * Run under ASan + UBSan by ./build.sh test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "craft_images.h"
#include "prime.h"

static int n_pass, n_fail;

static void check(int ok, const char *fmt, ...) {
    va_list a;
    va_start(a, fmt);
    printf("%s: ", ok ? "ok  " : "FAIL");
    vprintf(fmt, a);
    printf("\n");
    va_end(a);
    if (ok) n_pass++;
    else n_fail++;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Decodes b to 8x8; returns rc, leaves the error message in prime_last_error. */
static int decode8(const uint8_t *b, size_t n, float *out) { return prime_image_decode(b, n, 8, 8, 0, out); }

/* 1 if rc is -1 and the message contains `what`; prints the message. */
static int refused(int rc, const char *what) { return rc == -1 && strstr(prime_last_error(), what) != NULL; }

/* A 16x16 test picture: left half dark (32), right half bright (224). */
static void picture(uint8_t *g) {
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) g[y * 16 + x] = x < 8 ? 32 : 224;
}

static void test_valid(void) {
    uint8_t g[256];
    picture(g);
    typedef uint8_t *(*writer)(const uint8_t *, int, int, size_t *);
    const char *names[4] = {"PNG", "BMP", "GIF", "JPEG"};
    writer wr[4] = {craft_png, craft_bmp, craft_gif, craft_jpeg};
    for (int f = 0; f < 4; f++) {
        size_t n;
        uint8_t *b = wr[f](g, 16, 16, &n);
        float out[64];
        int rc = decode8(b, n, out);
        /* left column ~32/255, right column ~224/255 (GIF: 128 levels, JPEG: DC only) */
        int ok = rc == 0 && out[0] > 0.10f && out[0] < 0.15f && out[7] > 0.85f && out[7] < 0.90f;
        check(ok, "hand-made %s (%zu bytes) decodes: %s (%.3f %.3f)", names[f], n,
              rc ? prime_last_error() : "ok", rc ? 0 : out[0], rc ? 0 : out[7]);
        free(b);
    }
}

static void test_jpeg(void) {
    float out[64];
    /* the 9-byte file of the report: a DHT whose length runs past the end of
     * the file and whose counts (read as zeros by stb past the end) sum to 510 */
    static const uint8_t j9[9] = {0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x13, 0x00, 0xFF, 0xFF};
    int rc = decode8(j9, 9, out);
    check(refused(rc, "DHT") || refused(rc, "declares"), "9-byte JPEG refused: %s", prime_last_error());
    /* a well-formed DHT segment whose 16 counts sum to 512 (stb 2.27 writes past h->size) */
    uint8_t d[64];
    size_t k = 0;
    d[k++] = 0xFF, d[k++] = 0xD8, d[k++] = 0xFF, d[k++] = 0xC4, d[k++] = 0x00, d[k++] = 19, d[k++] = 0x00;
    for (int i = 0; i < 16; i++) d[k++] = 32;
    d[k++] = 0xFF, d[k++] = 0xD9;
    rc = decode8(d, k, out);
    check(refused(rc, "512 codes"), "DHT with 512 codes refused: %s", prime_last_error());
    /* the same counts behind a valid picture's first segments */
    uint8_t g[256];
    picture(g);
    size_t n;
    uint8_t *b = craft_jpeg(g, 16, 16, &n);
    uint8_t *c = malloc(n + 64);
    size_t dq = 2 + 2 + 67; /* SOI, DQT segment */
    memcpy(c, b, dq);
    memcpy(c + dq, d + 2, k - 4); /* the bad DHT */
    memcpy(c + dq + k - 4, b + dq, n - dq);
    rc = decode8(c, n + k - 4, out);
    check(refused(rc, "512 codes"), "bad DHT among valid segments refused: %s", prime_last_error());
    /* class 2 / id 5 */
    memcpy(c, b, n);
    size_t dht = dq + 2 + 11; /* after SOF0 */
    c[dht + 4] = 0x25;
    rc = decode8(c, n, out);
    check(refused(rc, "class 2 id 5"), "DHT class/id out of range refused: %s", prime_last_error());
    /* counts that fit 256 but not the segment: 12 codes declared, segment cut to 5 symbols */
    memcpy(c, b, n);
    c[dht + 3] = 2 + 17 + 5;
    rc = decode8(c, n, out);
    check(refused(rc, "segment holds"), "DHT symbols beyond its segment refused: %s", prime_last_error());
    /* a DHT after the scan (progressive files define tables between scans) */
    memcpy(c, b, n - 2);
    memcpy(c + n - 2, d + 2, k - 4);
    memcpy(c + n - 2 + k - 4, b + n - 2, 2);
    rc = decode8(c, n + k - 4, out);
    check(refused(rc, "512 codes"), "bad DHT after the entropy-coded data refused: %s", prime_last_error());
    /* a scan naming Huffman tables no DHT defined (stb 2.27 then decodes with
     * uninitialised tables and reads past maxcode[]): AC table 1 */
    memcpy(c, b, n);
    size_t sos = n - 2; /* find the SOS marker */
    while (sos > 0 && !(c[sos] == 0xFF && c[sos + 1] == 0xDA)) sos--;
    c[sos + 6] = 0x01;
    rc = decode8(c, n, out);
    check(refused(rc, "DC 0 / AC 1, which no DHT defined"), "scan with an undefined Huffman table refused: %s", prime_last_error());
    c[sos + 6] = 0x00, c[sos + 5] = 2; /* component 2: not in the frame */
    rc = decode8(c, n, out);
    check(refused(rc, "component 2"), "scan naming a component the frame lacks refused: %s", prime_last_error());
    c[sos + 5] = 1;
    c[6] = 0x01; /* the DQT (after SOI and its length) defines table 1, the component uses 0 */
    rc = decode8(c, n, out);
    check(refused(rc, "quantization table 0"), "component with an undefined quantization table refused: %s", prime_last_error());
    /* dimensions from SOF0 */
    memcpy(c, b, n);
    size_t sof = dq;
    c[sof + 5] = 0x20, c[sof + 6] = 0x00; /* height 8192 */
    rc = decode8(c, n, out);
    check(refused(rc, "8192"), "JPEG declaring 8192 rows refused: %s", prime_last_error());
    free(b), free(c);
}

static void test_png(void) {
    float out[64];
    uint8_t g[256];
    picture(g);
    size_t n;
    uint8_t *b = craft_png(g, 16, 16, &n);
    uint8_t *c = malloc(n + 64);
    size_t idat = 8 + 25; /* signature, IHDR chunk */
    /* IDAT length 0x7FFFFFF0: stb 2.27 asks for 2 GiB before reading it */
    memcpy(c, b, n);
    c[idat] = 0x7F, c[idat + 1] = 0xFF, c[idat + 2] = 0xFF, c[idat + 3] = 0xF0;
    int rc = decode8(c, n, out);
    check(refused(rc, "declares 2147483632 bytes"), "PNG chunk length beyond the file refused: %s", prime_last_error());
    /* an empty IDAT before the real one */
    craft_buf e = {0};
    cb_put(&e, b, idat);
    craft_png_chunk(&e, "IDAT", NULL, 0);
    cb_put(&e, b + idat, n - idat);
    rc = decode8(e.p, e.n, out);
    check(refused(rc, "empty IDAT"), "PNG with an empty IDAT refused: %s", prime_last_error());
    free(e.p);
    /* no IDAT at all: signature, IHDR, IEND */
    memcpy(c, b, idat);
    memcpy(c + idat, b + n - 12, 12);
    rc = decode8(c, idat + 12, out);
    check(refused(rc, "no IDAT"), "PNG without image data refused: %s", prime_last_error());
    /* truncated in a chunk */
    rc = decode8(b, n - 6, out);
    check(rc == -1 && *prime_last_error(), "truncated PNG refused: %s", prime_last_error());
    /* 8192 x 8192 in IHDR (CRC fixed up, so only the size check can refuse it) */
    memcpy(c, b, n);
    c[16 + 2] = 0x20, c[16 + 6] = 0x20, c[16 + 3] = 0, c[16 + 7] = 0;
    uLong crc = crc32(0L, c + 12, 17);
    for (int i = 0; i < 4; i++) c[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
    rc = decode8(c, n, out);
    check(refused(rc, "8192 x 8192"), "PNG declaring 8192 x 8192 refused: %s", prime_last_error());
    free(b), free(c);
    /* a zlib bomb: a 16 x 16 PNG whose IDAT inflates to 160 MB of zeros (stb keeps
     * doubling its output buffer); refused at the allocation cap, not by the system */
    z_stream z;
    memset(&z, 0, sizeof z);
    deflateInit(&z, 9);
    static uint8_t zeros[1 << 20];
    craft_buf zb = {0};
    uint8_t chunk[1 << 16];
    for (int i = 0; i <= 160; i++) {
        z.next_in = zeros, z.avail_in = i < 160 ? sizeof zeros : 0;
        do {
            z.next_out = chunk, z.avail_out = sizeof chunk;
            deflate(&z, i < 160 ? Z_NO_FLUSH : Z_FINISH);
            cb_put(&zb, chunk, sizeof chunk - z.avail_out);
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    b = craft_png(g, 16, 16, &n);
    craft_buf bomb = {0};
    cb_put(&bomb, b, idat);
    craft_png_chunk(&bomb, "IDAT", zb.p, (uint32_t)zb.n);
    craft_png_chunk(&bomb, "IEND", NULL, 0);
    double t0 = now();
    rc = decode8(bomb.p, bomb.n, out);
    double dt = now() - t0;
    check(refused(rc, "outofmem"), "PNG zlib bomb (%zu bytes -> 160 MB) refused at the allocation cap in %.2f s: %s", bomb.n, dt, prime_last_error());
    free(b), free(zb.p), free(bomb.p);
}

static void test_huge_headers(void) {
    float out[64];
    /* 35-byte GIF declaring 8192 x 8192 */
    uint8_t gif[35] = "GIF89a";
    gif[6] = 0x00, gif[7] = 0x20, gif[8] = 0x00, gif[9] = 0x20, gif[10] = 0x80;
    gif[13 + 6] = 0x2C; /* after a 2-entry palette: image descriptor */
    gif[13 + 6 + 5] = 0x00, gif[13 + 6 + 6] = 0x20, gif[13 + 6 + 7] = 0x00, gif[13 + 6 + 8] = 0x20;
    gif[29] = 2, gif[30] = 2, gif[31] = 0x4C, gif[32] = 0x01, gif[33] = 0, gif[34] = 0x3B;
    double t0 = now();
    int rc = decode8(gif, sizeof gif, out);
    double dt = now() - t0;
    check(refused(rc, "8192 x 8192") && dt < 0.1, "35-byte GIF declaring 8192 x 8192 refused in %.3f ms: %s", dt * 1e3, prime_last_error());
    /* 54-byte BMP declaring 8192 x 8192, and one declaring 4096 x 4096 (within the
     * cap, but the file cannot hold its 48 MB of rows) */
    uint8_t bmp[54] = {'B', 'M'};
    bmp[10] = 54, bmp[14] = 40, bmp[19] = 0x20, bmp[23] = 0x20, bmp[26] = 1, bmp[28] = 24;
    t0 = now();
    rc = decode8(bmp, sizeof bmp, out);
    dt = now() - t0;
    check(refused(rc, "8192 x 8192") && dt < 0.1, "54-byte BMP declaring 8192 x 8192 refused in %.3f ms: %s", dt * 1e3, prime_last_error());
    bmp[19] = 0x10, bmp[23] = 0x10;
    rc = decode8(bmp, sizeof bmp, out);
    check(refused(rc, "the file has 54"), "54-byte BMP declaring 4096 x 4096 refused: %s", prime_last_error());
    bmp[22] = 0, bmp[23] = 0, bmp[24] = 0, bmp[25] = 0x80; /* height INT32_MIN */
    rc = decode8(bmp, sizeof bmp, out);
    check(refused(rc, "2147483648"), "BMP with height INT32_MIN refused: %s", prime_last_error());
    /* unknown signature */
    static const uint8_t junk[16] = "not an image....";
    rc = decode8(junk, sizeof junk, out);
    check(refused(rc, "not a PNG, JPEG, BMP or GIF"), "unknown format refused: %s", prime_last_error());
    /* the largest accepted side still decodes (a compressed 4096 x 4096 PNG) */
    uint8_t *g = calloc((size_t)PRIME_IMAGE_MAX_SIDE * PRIME_IMAGE_MAX_SIDE, 1);
    size_t n;
    uint8_t *b = craft_png(g, PRIME_IMAGE_MAX_SIDE, PRIME_IMAGE_MAX_SIDE, &n);
    t0 = now();
    rc = decode8(b, n, out);
    dt = now() - t0;
    check(rc == 0, "%d x %d PNG (%zu bytes) decodes in %.2f s: %s", PRIME_IMAGE_MAX_SIDE, PRIME_IMAGE_MAX_SIDE, n, dt, rc ? prime_last_error() : "ok");
    free(b), free(g);
}

int main(void) {
    test_valid();
    test_jpeg();
    test_png();
    test_huge_headers();
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
