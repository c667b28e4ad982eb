/* fuzz_common.h - shared pieces of the libFuzzer harnesses (tests/fuzz/fuzz_*.c)
 * and the seed generator (make_seeds.c): the tiny models every harness builds,
 * and a byte reader that turns fuzz input into parameter values.
 * docs/fuzzing.md describes the harnesses. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"

/* A small classification network: 2x8x8 input, conv 2->3 (k3, pad 1) + LIF,
 * pool 2, FC 48 -> 3 + output; T = 2. Costs microseconds per step. */
static inline prime_arch fuzz_tiny_arch(void) {
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.task = PRIME_TASK_CLASSIFY, a.T = 2, a.in_c = 2, a.in_h = 8, a.in_w = 8, a.n_classes = 3;
    prime_layer conv = {0};
    conv.op = PRIME_OP_CONV, conv.stride = 1, conv.k = 3, conv.pad = 1, conv.out_c = 3;
    conv.neuron = PRIME_NEURON_LIF, conv.th = 0.2f, conv.decay = 0.8f, conv.leak = 0.1f, conv.scale = 0.01f, conv.sparsity = 0.5f;
    prime_layer pool = {0};
    pool.op = PRIME_OP_AVGPOOL, pool.k = 2, pool.stride = 2;
    prime_layer fc = {0};
    fc.op = PRIME_OP_FC, fc.out_c = 3, fc.neuron = PRIME_NEURON_OUTPUT, fc.k = 1, fc.stride = 1;
    fc.leak = 0.1f, fc.scale = 0.01f, fc.sparsity = 0.5f;
    a.layers[0] = conv, a.layers[1] = pool, a.layers[2] = fc;
    a.n_layers = 3;
    prime_arch_finalize(&a);
    return a;
}

/* The smallest inpainting network the format allows: ch 2, latent 4, k 2, T 2, 8x8. */
static inline prime_vae_arch fuzz_tiny_vae_arch(void) {
    prime_vae_arch a = prime_vae_default_arch();
    a.ch = 2, a.latent = 4, a.k = 2, a.T = 2, a.size = 8;
    return a;
}

/* Reads fuzz bytes as values: each call takes the next bytes (zeros past the end). */
typedef struct { const uint8_t *p; size_t n, at; } fuzz_in;
static inline void fz_take(fuzz_in *f, void *dst, size_t k) {
    memset(dst, 0, k);
    size_t m = f->n - f->at < k ? f->n - f->at : k;
    if (m) memcpy(dst, f->p + f->at, m);
    f->at += m;
}
static inline uint8_t fz_u8(fuzz_in *f) { uint8_t v; fz_take(f, &v, 1); return v; }
static inline uint32_t fz_u32(fuzz_in *f) { uint32_t v; fz_take(f, &v, 4); return v; }

/* Total weights of an architecture (cells to form). */
static inline size_t fuzz_arch_weights(const prime_arch *a) {
    size_t s = 0;
    for (int i = 0; i < a->n_layers && i < PRIME_MAX_LAYERS; i++) s += prime_layer_weights(&a->layers[i]);
    return s;
}

#endif
