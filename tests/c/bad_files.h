/* bad_files.h - the model-file tests' two sweeps over damaged copies of a
 * good file (every truncation; seeded single-bit flips), for any loader;
 * header-only, shared by test_model_v2.c and test_model_v2_vae.c. */
#ifndef PRIME_TEST_BAD_FILES_H
#define PRIME_TEST_BAD_FILES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"

typedef void *(*bf_load)(const uint8_t *b, size_t n);
typedef void (*bf_free)(void *model);

/* Loads every truncation b[0..k), k < n; returns how many loaded and sets
 * *silent to how many failed without a message. */
static inline int bf_truncations(const uint8_t *b, size_t n, bf_load load, bf_free fr, int *silent) {
    int loaded = 0;
    *silent = 0;
    for (size_t k = 0; k < n; k++) {
        void *x = load(b, k);
        loaded += x != NULL, *silent += !x && !*prime_last_error();
        fr(x);
    }
    return loaded;
}

/* Loads `count` copies of b with one bit flipped (bit and byte from seed);
 * returns how many loaded. */
static inline int bf_flips(const uint8_t *b, size_t n, int count, uint64_t seed, bf_load load, bf_free fr) {
    uint8_t *t = malloc(n);
    int loaded = 0;
    for (int k = 0; t && k < count; k++) {
        memcpy(t, b, n);
        uint64_t h = prime_rand_u64(seed, 0, (uint64_t)k);
        t[h % n] ^= (uint8_t)(1u << (h >> 32 & 7));
        void *x = load(t, n);
        loaded += x != NULL;
        fr(x);
    }
    free(t);
    return t ? loaded : -1;
}

#endif
