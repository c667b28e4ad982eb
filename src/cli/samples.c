/* samples.c - prime-samples: the first N images of a dataset split as a small
 * sample file for the web page (format in docs/data.md).
 *
 *     prime-samples DATASET SPLIT N OUT [EVENT_SEED]
 *     prime-samples mnist test 200 web/samples-mnist.bin
 *
 * The page rebuilds each image as f32 = u8 / 255 and synthesizes its events
 * with prime_events_from_image(seed = event_seed + index), which is exactly
 * what prime_frames_from_images does for the trainer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "prime.h"

#define SAMPLES_VERSION 1u

/* ---------------------------------------------------------------- output */

static void put32(uint8_t *b, uint32_t v) {
    for (int i = 0; i < 4; i++) b[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, uint64_t v) {
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
}

/* Builds the sample file for images 0..n-1 of im; returns a malloc'ed buffer
 * (caller frees) and its size in *len, or NULL with a message. */
static uint8_t *build(const prime_images *im, int n, uint64_t seed, size_t *len) {
    size_t px = (size_t)im->w * im->h;
    *len = 28 + (size_t)n * 4 + (size_t)n + (size_t)n * px;
    uint8_t *b = malloc(*len);
    if (!b) {
        prime_error("out of memory");
        return NULL;
    }
    memcpy(b, "PSMP", 4);
    put32(b + 4, SAMPLES_VERSION);
    put32(b + 8, (uint32_t)n);
    put32(b + 12, (uint32_t)im->w);
    put32(b + 16, (uint32_t)im->h);
    put64(b + 20, seed);
    uint8_t *idx = b + 28, *lab = idx + (size_t)n * 4, *pix = lab + n;
    for (int i = 0; i < n; i++) {
        put32(idx + 4 * (size_t)i, (uint32_t)i); /* index within the split */
        lab[i] = im->y[i];
        for (size_t k = 0; k < px; k++) {
            float v = im->x[(size_t)i * px + k];
            int q = (int)(v * 255.0f + 0.5f);
            pix[(size_t)i * px + k] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
        }
    }
    return b;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr,
                "usage: prime-samples DATASET SPLIT N OUT [EVENT_SEED]\n"
                "  DATASET fashion | mnist, SPLIT train | test, N images from the start,\n"
                "  EVENT_SEED default %llu (prime_default_event_params().seed)\n",
                (unsigned long long)prime_default_event_params().seed);
        return 2;
    }
    char *end;
    long n = strtol(argv[3], &end, 10);
    if (*end || n < 1 || n > 1000000) {
        fprintf(stderr, "prime-samples: N must be a positive integer, got \"%s\"\n", argv[3]);
        return 2;
    }
    uint64_t seed = prime_default_event_params().seed;
    if (argc == 6) {
        seed = strtoull(argv[5], &end, 10);
        if (*end || !*argv[5]) {
            fprintf(stderr, "prime-samples: EVENT_SEED must be an integer, got \"%s\"\n", argv[5]);
            return 2;
        }
    }
    prime_images im;
    if (prime_images_load(argv[1], argv[2], &im) != 0) {
        fprintf(stderr, "prime-samples: %s\n", prime_last_error());
        return 1;
    }
    if (n > im.n) {
        fprintf(stderr, "prime-samples: %s %s has only %d images, asked for %ld\n", argv[1],
                argv[2], im.n, n);
        prime_images_free(&im);
        return 1;
    }
    size_t len;
    int w = im.w, h = im.h;
    uint8_t *b = build(&im, (int)n, seed, &len);
    prime_images_free(&im);
    if (!b) {
        fprintf(stderr, "prime-samples: %s\n", prime_last_error());
        return 1;
    }
    FILE *f = fopen(argv[4], "wb");
    int ok = f && fwrite(b, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    free(b);
    if (!ok) {
        fprintf(stderr, "prime-samples: cannot write %s\n", argv[4]);
        return 1;
    }
    printf("%s: %ld %s/%s images of %dx%d, event seed %llu, %zu bytes\n", argv[4], n, argv[1],
           argv[2], w, h, (unsigned long long)seed, len);
    return 0;
}
