/* prime_kernels.c - the vector kernels of the engine, each beside its plain form.
 *
 * Every kernel is written once against the macros of simd.h, with a scalar
 * tail that is also the whole kernel in the -DPRIME_NO_SIMD build; both do the
 * same float operations in the same order, so every build gives the same bits.
 * prime_set_reference_kernels(1) makes the crossbar read (prime_crossbar.c) use
 * its plain reference paths instead, so tests can compare the two.
 */
#include <math.h>
#include <stdint.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"
#include "prime_kernels.h"
#include "simd.h"

/* Forces the plain reference kernels (tests compare them with the fast ones). */
static int reference_kernels = 0;
void prime_set_reference_kernels(int on) { reference_kernels = on != 0; }
int prime_reference_kernels(void) { return reference_kernels; }

/* Hidden LIF cell over n neurons (the PRIME paper, arXiv 2407.18625, in this order):
 * U *= 1 - s; U *= 1 - decay; U += I; U = LeakyReLU(U); s = U > th. */
PRIME_CLONES PRIME_NOINLINE void prime_kernel_lif(float *restrict u, float *restrict s, const float *restrict in, int n,
                  float keep, float leak, float th) {
    int j = 0;
#ifndef PRIME_SCALAR
    pv one = pv_set1(1.0f), vk = pv_set1(keep), vl = pv_set1(leak), vt = pv_set1(th), zero = pv_set1(0.0f);
    for (; j + PV_W <= n; j += PV_W) {
        pv U = pv_load(u + j), S = pv_load(s + j);
        U = pv_mul(U, pv_add(one, pv_mul(pv_set1(-1.0f), S)));
        U = pv_mul(U, vk);
        U = pv_add(U, pv_load(in + j));
        U = pv_select(pv_gt(U, zero), U, pv_mul(U, vl));
        pv_store(u + j, U);
        pv_store(s + j, pv_and(pv_gt(U, vt), one));
    }
#endif
    for (; j < n; j++) {
        float U = u[j];
        U = U * (1.0f + -1.0f * s[j]);
        U = U * keep;
        U = U + in[j];
        U = U > 0.0f ? U : U * leak;
        u[j] = U;
        s[j] = U > th ? 1.0f : 0.0f;
    }
}

/* Output cell: U = LeakyReLU(U + I); sum += U. */
PRIME_NOINLINE void prime_kernel_output(float *restrict u, float *restrict sum, const float *restrict in, int n, float leak) {
    for (int j = 0; j < n; j++) {
        float U = u[j] + in[j];
        U = U > 0.0f ? U : U * leak;
        u[j] = U;
        sum[j] = sum[j] + U;
    }
}

/* Number of ones in a 0/1 spike vector (exact in any order: integers < 2^24). */
PRIME_CLONES PRIME_NOINLINE double prime_kernel_count(const float *restrict s, int n) {
    int j = 0;
    float tot = 0.0f;
#ifndef PRIME_SCALAR
    pv a = pv_set1(0.0f);
    for (; j + PV_W <= n; j += PV_W) a = pv_add(a, pv_load(s + j));
    float lanes[PV_W];
    pv_store(lanes, a);
    for (int k = 0; k < PV_W; k++) tot += lanes[k];
#endif
    for (; j < n; j++) tot += s[j];
    return tot;
}

/* The gather of one output position over its active rows, in registers:
 * out[j] = 0 + v0*W[off[0]+j] + v1*W[off[1]+j] + ... (k in order) for j < n,
 * with v = val[k], or without the multiplies when `ones` (0/1 spike inputs:
 * 1 * w == w exactly, so the same bits). The same sums, in the same
 * order, as k_axpy scattering row by row into a zeroed accumulator, so gather
 * and scatter give identical bits. Inlined into its two entry points with
 * `ones` a constant, so each compiles to its own loop. */
static inline __attribute__((always_inline)) void gather(float *restrict out, const float *restrict W,
                                                         const int32_t *restrict off, const float *restrict val,
                                                         int cnt, int n, const int ones) {
    int j = 0;
#ifndef PRIME_SCALAR
#define ACC(a, w) ((a) = ones ? pv_add((a), pv_load(w)) : pv_add((a), pv_mul(v, pv_load(w))))
    for (; j + 8 * PV_W <= n; j += 8 * PV_W) { /* 32 columns: 8 accumulators */
        pv a0 = pv_set1(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            const pv v = pv_set1(ones ? 1.0f : val[k]);
            ACC(a0, w), ACC(a1, w + PV_W), ACC(a2, w + 2 * PV_W), ACC(a3, w + 3 * PV_W);
            ACC(a4, w + 4 * PV_W), ACC(a5, w + 5 * PV_W), ACC(a6, w + 6 * PV_W), ACC(a7, w + 7 * PV_W);
        }
        pv_store(out + j, a0), pv_store(out + j + PV_W, a1);
        pv_store(out + j + 2 * PV_W, a2), pv_store(out + j + 3 * PV_W, a3);
        pv_store(out + j + 4 * PV_W, a4), pv_store(out + j + 5 * PV_W, a5);
        pv_store(out + j + 6 * PV_W, a6), pv_store(out + j + 7 * PV_W, a7);
    }
    for (; j + 4 * PV_W <= n; j += 4 * PV_W) { /* 16 columns */
        pv a0 = pv_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            const pv v = pv_set1(ones ? 1.0f : val[k]);
            ACC(a0, w), ACC(a1, w + PV_W), ACC(a2, w + 2 * PV_W), ACC(a3, w + 3 * PV_W);
        }
        pv_store(out + j, a0), pv_store(out + j + PV_W, a1);
        pv_store(out + j + 2 * PV_W, a2), pv_store(out + j + 3 * PV_W, a3);
    }
    for (; j + 2 * PV_W <= n; j += 2 * PV_W) {
        pv a0 = pv_set1(0.0f), a1 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            const pv v = pv_set1(ones ? 1.0f : val[k]);
            ACC(a0, w), ACC(a1, w + PV_W);
        }
        pv_store(out + j, a0), pv_store(out + j + PV_W, a1);
    }
    for (; j + PV_W <= n; j += PV_W) {
        pv a0 = pv_set1(0.0f);
        for (int k = 0; k < cnt; k++) {
            const pv v = pv_set1(ones ? 1.0f : val[k]);
            ACC(a0, W + off[k] + j);
        }
        pv_store(out + j, a0);
    }
#undef ACC
#endif
    for (; j < n; j++) {
        float a = 0.0f;
        if (ones)
            for (int k = 0; k < cnt; k++) a = a + W[off[k] + j];
        else
            for (int k = 0; k < cnt; k++) a = a + val[k] * W[off[k] + j];
        out[j] = a;
    }
}

#if defined(__x86_64__) && !defined(PRIME_SCALAR) && (defined(__GNUC__) || defined(__clang__))
/* The same gather on 8-lane AVX vectors, chosen at run time where the CPU
 * has AVX2 (native x86-64 builds only; the library is compiled for baseline
 * SSE2). Every lane still computes a = a + v*w (or a + w) per row in k order,
 * IEEE single, no FMA (avx2 does not enable it, and -ffp-contract=off): the
 * same bits as the 4-lane and the scalar loops. What it saves is
 * instructions: VEX forms take the weights as a memory operand and keep v
 * (two instructions per 8 multiply-adds instead of three per 4), and 8
 * accumulators cover 64 columns, conv2's whole row, in one pass. */
#include <immintrin.h>
#define PRIME_GATHER_AVX2 1
#define AVX2_FN __attribute__((target("avx2")))
static inline __attribute__((always_inline)) AVX2_FN void gather_v8(float *restrict out, const float *restrict W,
                                                                    const int32_t *restrict off,
                                                                    const float *restrict val, int cnt, int n,
                                                                    const int ones) {
    int j = 0;
#define ACC8(a, w) ((a) = ones ? _mm256_add_ps((a), _mm256_loadu_ps(w)) : _mm256_add_ps((a), _mm256_mul_ps(v, _mm256_loadu_ps(w))))
#define V8(k) (ones ? _mm256_set1_ps(1.0f) : _mm256_set1_ps(val[k]))
    for (; j + 64 <= n; j += 64) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            const __m256 v = V8(k);
            ACC8(a0, w), ACC8(a1, w + 8), ACC8(a2, w + 16), ACC8(a3, w + 24);
            ACC8(a4, w + 32), ACC8(a5, w + 40), ACC8(a6, w + 48), ACC8(a7, w + 56);
        }
        _mm256_storeu_ps(out + j, a0), _mm256_storeu_ps(out + j + 8, a1);
        _mm256_storeu_ps(out + j + 16, a2), _mm256_storeu_ps(out + j + 24, a3);
        _mm256_storeu_ps(out + j + 32, a4), _mm256_storeu_ps(out + j + 40, a5);
        _mm256_storeu_ps(out + j + 48, a6), _mm256_storeu_ps(out + j + 56, a7);
    }
    for (; j + 32 <= n; j += 32) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            const __m256 v = V8(k);
            ACC8(a0, w), ACC8(a1, w + 8), ACC8(a2, w + 16), ACC8(a3, w + 24);
        }
        _mm256_storeu_ps(out + j, a0), _mm256_storeu_ps(out + j + 8, a1);
        _mm256_storeu_ps(out + j + 16, a2), _mm256_storeu_ps(out + j + 24, a3);
    }
    for (; j + 16 <= n; j += 16) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            const __m256 v = V8(k);
            ACC8(a0, w), ACC8(a1, w + 8);
        }
        _mm256_storeu_ps(out + j, a0), _mm256_storeu_ps(out + j + 8, a1);
    }
    for (; j + 8 <= n; j += 8) {
        __m256 a0 = _mm256_setzero_ps();
        for (int k = 0; k < cnt; k++) {
            const __m256 v = V8(k);
            ACC8(a0, W + off[k] + j);
        }
        _mm256_storeu_ps(out + j, a0);
    }
#undef ACC8
#undef V8
    if (j < n) gather(out + j, W + j, off, val, cnt, n - j, ones); /* the last 1..7 columns: 4-wide, then scalar */
}
static AVX2_FN void gather_v8_val(float *restrict out, const float *restrict W, const int32_t *restrict off,
                                   const float *restrict val, int cnt, int n) {
    gather_v8(out, W, off, val, cnt, n, 0);
}
static AVX2_FN void gather_v8_one(float *restrict out, const float *restrict W, const int32_t *restrict off, int cnt,
                                   int n) {
    gather_v8(out, W, off, NULL, cnt, n, 1);
}
static int use_avx2 = -1; /* every thread stores the same value (relaxed atomics: no data race) */
static inline int have_avx2(void) {
    int v = __atomic_load_n(&use_avx2, __ATOMIC_RELAXED);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") ? 1 : 0;
        __atomic_store_n(&use_avx2, v, __ATOMIC_RELAXED);
    }
    return v;
}
#endif

/* The vector width the gathers use on this CPU: "avx2" (8 lanes), "sse2" or
 * "wasm-simd128" (4), "scalar" (bench-frames reports it: the peak it implies). */
const char *prime_kernel_isa(void) {
#ifdef PRIME_GATHER_AVX2
    if (have_avx2()) return "avx2";
#endif
    return PRIME_SIMD_NAME;
}

/* out[j] = 0 + val[0]*W[off[0]+j] + ... (k in order), j < n (see gather). */
PRIME_NOINLINE void prime_kernel_gather(float *restrict out, const float *restrict W, const int32_t *restrict off,
                                        const float *restrict val, int cnt, int n) {
#ifdef PRIME_GATHER_AVX2
    if (have_avx2()) { gather_v8_val(out, W, off, val, cnt, n); return; }
#endif
    gather(out, W, off, val, cnt, n, 0);
}

/* out[j] = 0 + W[off[0]+j] + W[off[1]+j] + ... (k in order), j < n: the
 * gather of 0/1 inputs without the multiplies (identical bits). */
PRIME_NOINLINE void prime_kernel_gather1(float *restrict out, const float *restrict W, const int32_t *restrict off,
                                         int cnt, int n) {
#ifdef PRIME_GATHER_AVX2
    if (have_avx2()) { gather_v8_one(out, W, off, cnt, n); return; }
#endif
    gather(out, W, off, NULL, cnt, n, 1);
}

/* One tile's column reads at one position, n columns: v = a (+ eta*sqrt(var)*z
 * when z is given) (-> ADC of `bits` over [-fs, fs) when bits > 0), cur += v.
 * Element for element the operations of prime_dev_adc: identical bits. */
PRIME_CLONES PRIME_NOINLINE void prime_kernel_readout(float *restrict cur, const float *restrict a, const float *restrict var,
                      const float *restrict z, int n, float eta, float fs, int bits) {
    int j = 0;
#ifndef PRIME_SCALAR
    const float half = bits ? (float)(1 << (bits - 1)) : 1.0f;
    const pv veta = pv_set1(eta), vlsb = pv_set1(fs / half), vp5 = pv_set1(0.5f);
    const pv hi = pv_set1(half), lo = pv_set1(-half - 1.0f), hi1 = pv_set1(half - 1.0f), lo1 = pv_set1(-half);
    for (; j + PV_W <= n; j += PV_W) {
        pv v = pv_load(a + j);
        if (z) v = pv_add(v, pv_mul(pv_mul(veta, pv_sqrt(pv_load(var + j))), pv_load(z + j)));
        if (bits) { /* clamp into [-half-1, half] first (floor stays exact), then to the codes */
            pv q = pv_add(pv_div(v, vlsb), vp5);
            q = pv_max(pv_min(q, hi), lo);
            q = pv_floor(q);
            q = pv_max(pv_min(q, hi1), lo1);
            v = pv_mul(q, vlsb);
        }
        pv_store(cur + j, pv_add(pv_load(cur + j), v));
    }
#endif
    for (; j < n; j++) {
        float v = a[j];
        if (z) v = v + (eta * sqrtf(var[j])) * z[j];
        if (bits) v = prime_adc(v, fs, bits);
        cur[j] = cur[j] + v;
    }
}

/* Average pool K x K, stride K, over HWC (C channels, input width IW, output
 * OH x OW): y = (0 + x00 + x01 + ...) * 1/K^2, vectorized over channels.
 * Inlined with K a constant for the common 2 x 2. */
static inline __attribute__((always_inline)) void avgpool(const float *restrict x, float *restrict y, int C, int IW,
                                                          const int K, int OH, int OW) {
    const float inv = 1.0f / (float)(K * K);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            float *o = y + ((size_t)oy * OW + ox) * C;
            const float *x0 = x + ((size_t)oy * K * IW + (size_t)ox * K) * C;
            int ch = 0;
#ifndef PRIME_SCALAR
            for (; ch + PV_W <= C; ch += PV_W) {
                pv a = pv_set1(0.0f);
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) a = pv_add(a, pv_load(x0 + ((size_t)ky * IW + kx) * C + ch));
                pv_store(o + ch, pv_mul(a, pv_set1(inv)));
            }
#endif
            for (; ch < C; ch++) {
                float a = 0.0f;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) a = a + x0[((size_t)ky * IW + kx) * C + ch];
                o[ch] = a * inv;
            }
        }
}

/* Average pool K x K, stride K, HWC (see avgpool). */
PRIME_CLONES PRIME_NOINLINE void prime_kernel_avgpool(const float *restrict x, float *restrict y, int C, int IW, int K, int OH,
                                         int OW) {
    if (K == 2) avgpool(x, y, C, IW, 2, OH, OW);
    else avgpool(x, y, C, IW, K, OH, OW);
}

/* The FSVAE LIF (Kamata et al. 2022) over npos positions of C channels (HWC):
 * x = bn_a*I + bn_b (folded BN per channel, when bn_a) or I + bias (per
 * neuron, when bias) or I; u = keep*u*(1 - s) + x; s = u > th. Returns the
 * spikes (a count: exact in any order). */
PRIME_CLONES PRIME_NOINLINE float prime_kernel_fsvae_lif(float *restrict u, float *restrict s, const float *restrict cur,
                                            const float *restrict bn_a, const float *restrict bn_b,
                                            const float *restrict bias, int npos, int C, float keep, float th) {
    float cnt = 0.0f;
    for (int p = 0; p < npos; p++, u += C, s += C, cur += C, bias = bias ? bias + C : NULL) {
        int j = 0;
#ifndef PRIME_SCALAR
        const pv one = pv_set1(1.0f), vk = pv_set1(keep), vt = pv_set1(th);
        pv n4 = pv_set1(0.0f);
        for (; j + PV_W <= C; j += PV_W) {
            pv x = pv_load(cur + j);
            if (bn_a) x = pv_add(pv_mul(pv_load(bn_a + j), x), pv_load(bn_b + j));
            else if (bias) x = pv_add(x, pv_load(bias + j));
            pv U = pv_add(pv_mul(pv_mul(vk, pv_load(u + j)), pv_sub(one, pv_load(s + j))), x);
            pv S = pv_and(pv_gt(U, vt), one);
            pv_store(u + j, U), pv_store(s + j, S);
            n4 = pv_add(n4, S);
        }
        float lanes[PV_W];
        pv_store(lanes, n4);
        for (int q = 0; q < PV_W; q++) cnt += lanes[q];
#endif
        for (; j < C; j++) {
            float x = cur[j];
            if (bn_a) x = bn_a[j] * x + bn_b[j];
            else if (bias) x = x + bias[j];
            float U = keep * u[j] * (1.0f - s[j]) + x;
            u[j] = U;
            s[j] = U > th ? 1.0f : 0.0f;
            cnt += s[j];
        }
    }
    return cnt;
}
