/* prime_kernels.h - the engine's kernels (prime_kernels.c), internal.
 *
 * The kernels stay separate, non-inlined functions: with everything inlined
 * into one step function (clang, then binaryen), V8 compiles one huge wasm
 * function ~25 % slower (docs/performance.md); native loses nothing. The two
 * small accumulate helpers are inlined where the crossbar read uses them. */
#ifndef PRIME_KERNELS_H
#define PRIME_KERNELS_H

#include <stdint.h>

#include "pmath.h"
#include "simd.h"

#define PRIME_NOINLINE __attribute__((noinline))

/* A kernel with PRIME_CLONES gets an AVX2 copy too, picked by the loader on
 * x86-64 CPUs that have it (native builds): the same IEEE operations on the
 * same lanes in VEX form (no FMA: avx2 does not enable it, and the builds
 * keep -ffp-contract=off), so the same bits in fewer instructions. (Not under
 * ThreadSanitizer: its instrumented ifunc resolvers run before it starts.) */
#if defined(__x86_64__) && !defined(PRIME_SCALAR) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#define PRIME_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PRIME_CLONES
#endif

/* y[0..n) += a * x[0..n): the crossbar's accumulate, vectorized over columns. */
static inline __attribute__((always_inline)) void prime_axpy(float *restrict y, const float *restrict x, float a,
                                                             int n) {
    int j = 0;
#ifndef PRIME_SCALAR
    pv va = pv_set1(a);
    for (; j + PV_W <= n; j += PV_W) pv_store(y + j, pv_add(pv_load(y + j), pv_mul(va, pv_load(x + j))));
#endif
    for (; j < n; j++) y[j] = y[j] + a * x[j];
}

/* y += a * x and, when y2, y2 += a2 * x2 over n columns in one pass: the
 * operations of two prime_axpy calls, element for element (identical bits). */
static inline __attribute__((always_inline)) void prime_axpy2(float *restrict y, const float *restrict x, float a,
                                                              float *restrict y2, const float *restrict x2, float a2,
                                                              int n) {
    if (!y2) { prime_axpy(y, x, a, n); return; }
    int j = 0;
#ifndef PRIME_SCALAR
    const pv va = pv_set1(a), va2 = pv_set1(a2);
    for (; j + PV_W <= n; j += PV_W) {
        pv_store(y + j, pv_add(pv_load(y + j), pv_mul(va, pv_load(x + j))));
        pv_store(y2 + j, pv_add(pv_load(y2 + j), pv_mul(va2, pv_load(x2 + j))));
    }
#endif
    for (; j < n; j++) y[j] = y[j] + a * x[j], y2[j] = y2[j] + a2 * x2[j];
}

/* PRIME hidden LIF over n neurons (keep = 1 - decay): U *= 1 - s; U *= keep;
 * U += I; U = LeakyReLU(U); s = U > th. */
void prime_kernel_lif(float *restrict u, float *restrict s, const float *restrict in, int n, float keep, float leak,
                      float th);
/* PRIME output cell: U = LeakyReLU(U + I); sum += U. */
void prime_kernel_output(float *restrict u, float *restrict sum, const float *restrict in, int n, float leak);
/* Number of ones in a 0/1 spike vector (exact: integers < 2^24). */
double prime_kernel_count(const float *restrict s, int n);
/* out[j] = 0 + W[off[0]+j] + W[off[1]+j] + ... for j < n: prime_kernel_gather of 0/1 inputs. */
void prime_kernel_gather1(float *restrict out, const float *restrict W, const int32_t *restrict off, int cnt, int n);
/* Average pool K x K, stride K, HWC: C channels, input width IW, output OH x OW. */
void prime_kernel_avgpool(const float *restrict x, float *restrict y, int C, int IW, int K, int OH, int OW);
/* FSVAE LIF over npos x C (HWC): x = bn_a*I + bn_b | I + bias | I; u = keep*u*(1-s) + x; s = u > th.
 * Returns the spikes. */
float prime_kernel_fsvae_lif(float *restrict u, float *restrict s, const float *restrict cur, const float *restrict bn_a,
                             const float *restrict bn_b, const float *restrict bias, int npos, int C, float keep,
                             float th);
/* tanh from the deterministic exp (same bits in every build), inline. */
static inline float prime_kernel_tanh(float x) {
    if (x > 20) return 1.0f;
    if (x < -20) return -1.0f;
    double e = prime_exp(2.0 * x);
    return (float)((e - 1) / (e + 1));
}

#endif
