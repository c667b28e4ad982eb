/* prime_core.c - the memristor macro, the layers and the spiking network.
 *
 * Data flow of one timestep (docs/architecture.md has the picture):
 *
 *   input frame [C][H][W] --DAC--> rows of the crossbar tiles of layer 0
 *     --(G+ - G-) * scale, read noise--> column currents --ADC--> digital sum
 *     of the row tiles --> LIF cell --> spikes --> avg pool (digital) --> ...
 *     --> FC tiles --> output cell --> mean membrane = logits --> early stop?
 *
 * Activations are kept channels-last (HWC) inside, so every kernel runs along
 * the output channels with the vector macros of simd.h. Accumulation is
 * event-driven: only inputs that are non-zero (spikes, events) drive rows.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"
#include "simd.h"

/* ============================================================ kernels */

/* The kernels and the layer step stay separate functions: with everything
 * inlined into prime_step (clang, then binaryen), V8 compiles one huge wasm
 * function ~25 % slower (docs/performance.md); native loses nothing. */
#define PRIME_NOINLINE __attribute__((noinline))

/* y[0..n) += a * x[0..n): the crossbar's accumulate, vectorized over columns. */
static inline __attribute__((always_inline)) void k_axpy(float *restrict y, const float *restrict x, float a, int n) {
    int j = 0;
#ifndef PRIME_SCALAR
    pv va = pv_set1(a);
    for (; j + PV_W <= n; j += PV_W) pv_store(y + j, pv_add(pv_load(y + j), pv_mul(va, pv_load(x + j))));
#endif
    for (; j < n; j++) y[j] = y[j] + a * x[j];
}

/* Hidden LIF cell over n neurons (reference.md §2, in this order):
 * U *= 1 - s; U *= 1 - decay; U += I; U = LeakyReLU(U); s = U > th. */
PRIME_NOINLINE static void k_lif(float *restrict u, float *restrict s, const float *restrict in, int n,
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
PRIME_NOINLINE static void k_output(float *restrict u, float *restrict sum, const float *restrict in, int n, float leak) {
    for (int j = 0; j < n; j++) {
        float U = u[j] + in[j];
        U = U > 0.0f ? U : U * leak;
        u[j] = U;
        sum[j] = sum[j] + U;
    }
}

/* Number of ones in a 0/1 spike vector (exact in any order: integers < 2^24). */
PRIME_NOINLINE static double k_count(const float *restrict s, int n) {
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

/* The read of one output position over its active rows, in registers:
 * out[j] = 0 + val[0]*W[off[0]+j] + val[1]*W[off[1]+j] + ... (k in order) for
 * j < n. The same sums, in the same order, as k_axpy scattering row by row
 * into a zeroed accumulator, so both give identical bits. */
PRIME_NOINLINE void k_gather(float *restrict out, const float *restrict W, const int32_t *restrict off,
                     const float *restrict val, int cnt, int n) {
    int j = 0;
#ifndef PRIME_SCALAR
    for (; j + 8 * PV_W <= n; j += 8 * PV_W) { /* 32 columns: 8 accumulators */
        pv a0 = pv_set1(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            pv v = pv_set1(val[k]);
            a0 = pv_add(a0, pv_mul(v, pv_load(w)));
            a1 = pv_add(a1, pv_mul(v, pv_load(w + PV_W)));
            a2 = pv_add(a2, pv_mul(v, pv_load(w + 2 * PV_W)));
            a3 = pv_add(a3, pv_mul(v, pv_load(w + 3 * PV_W)));
            a4 = pv_add(a4, pv_mul(v, pv_load(w + 4 * PV_W)));
            a5 = pv_add(a5, pv_mul(v, pv_load(w + 5 * PV_W)));
            a6 = pv_add(a6, pv_mul(v, pv_load(w + 6 * PV_W)));
            a7 = pv_add(a7, pv_mul(v, pv_load(w + 7 * PV_W)));
        }
        pv_store(out + j, a0), pv_store(out + j + PV_W, a1);
        pv_store(out + j + 2 * PV_W, a2), pv_store(out + j + 3 * PV_W, a3);
        pv_store(out + j + 4 * PV_W, a4), pv_store(out + j + 5 * PV_W, a5);
        pv_store(out + j + 6 * PV_W, a6), pv_store(out + j + 7 * PV_W, a7);
    }
    for (; j + 2 * PV_W <= n; j += 2 * PV_W) {
        pv a0 = pv_set1(0.0f), a1 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            pv v = pv_set1(val[k]);
            a0 = pv_add(a0, pv_mul(v, pv_load(w)));
            a1 = pv_add(a1, pv_mul(v, pv_load(w + PV_W)));
        }
        pv_store(out + j, a0), pv_store(out + j + PV_W, a1);
    }
    for (; j + PV_W <= n; j += PV_W) {
        pv a0 = pv_set1(0.0f);
        for (int k = 0; k < cnt; k++) a0 = pv_add(a0, pv_mul(pv_set1(val[k]), pv_load(W + off[k] + j)));
        pv_store(out + j, a0);
    }
#endif
    for (; j < n; j++) {
        float a = 0.0f;
        for (int k = 0; k < cnt; k++) a = a + val[k] * W[off[k] + j];
        out[j] = a;
    }
}

/* One tile's column reads at one position, n columns: v = a (+ eta*sqrt(var)*z
 * when z is given) (-> ADC of `bits` over [-fs, fs) when bits > 0), cur += v.
 * Element for element the operations of prime_dev_adc: identical bits. */
PRIME_NOINLINE void k_readout(float *restrict cur, const float *restrict a, const float *restrict var,
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
        if (bits) v = prime_dev_adc(v, fs, bits);
        cur[j] = cur[j] + v;
    }
}

/* Average pool k x k over HWC: y = (0 + x00 + x01 + ...) * 1/k^2, vectorized
 * over channels. */
PRIME_NOINLINE static void k_avgpool(const prime_layer *L, const float *restrict x, float *restrict y) {
    const int C = L->in_c, IW = L->in_w, K = L->k, OH = L->out_h, OW = L->out_w;
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

/* ------------------------------------------------ read noise: a fast normal
 *
 * Column read noise needs one standard normal per column read (~20,000 per
 * timestep of the PRIME network), so it gets its own generator: the ziggurat
 * of Marsaglia & Tsang (2000) in Doornik's form (2005, independent bits for
 * the strip and the value), 128 strips, over a counter-based stream (64 bits
 * = SplitMix64 at position ctr of a stream keyed by `base`). 98.8 % of draws
 * cost one hash, a table look-up and a multiply; the rest use the wedge test
 * or the exact tail (prime_exp/prime_log: same bits in every build). */
#define ZIG_C 128
#define ZIG_R 3.442619855899
#define ZIG_V 9.91256303526217e-3
static double zig_x[ZIG_C + 1], zig_r[ZIG_C];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void) {
    double f = prime_exp(-0.5 * ZIG_R * ZIG_R);
    zig_x[0] = ZIG_V / f;
    zig_x[1] = ZIG_R;
    zig_x[ZIG_C] = 0;
    for (int i = 2; i < ZIG_C; i++) {
        zig_x[i] = sqrt(-2 * prime_log(ZIG_V / zig_x[i - 1] + f));
        f = prime_exp(-0.5 * zig_x[i] * zig_x[i]);
    }
    for (int i = 0; i < ZIG_C; i++) zig_r[i] = zig_x[i + 1] / zig_x[i];
}

/* 64 random bits: SplitMix64 of stream `base` at position ctr. */
static inline uint64_t sm64(uint64_t base, uint64_t ctr) { return prime_mix64(base + ctr * 0x9e3779b97f4a7c15ull); }

/* Returns a standard normal, a pure function of (base, ctr < 2^40). */
float prime_dev_normal(uint64_t base, uint64_t ctr) {
    pthread_once(&zig_once, zig_init);
    const uint64_t base2 = base ^ 0x2545f4914f6cdd1dull; /* extra uniforms */
    for (uint64_t k = 0; k < 64; k++) {
        uint64_t c2 = (ctr << 6) | k, h = sm64(base, c2);
        int i = (int)(h & (ZIG_C - 1));
        double u = ((double)(int64_t)(h >> 11) + 0.5) * (1.0 / 4503599627370496.0) - 1.0; /* (-1, 1), 53 bits */
        if (fabs(u) < zig_r[i]) return (float)(u * zig_x[i]);
        if (i == 0) { /* the base strip's tail beyond R (Marsaglia 1964) */
            for (uint64_t j = 0; j < 64; j++) {
                uint64_t g = sm64(base2, (c2 << 6) | j);
                double u1 = ((double)(g >> 32) + 0.5) * (1.0 / 4294967296.0);
                double u2 = ((double)(g & 0xffffffffu) + 0.5) * (1.0 / 4294967296.0);
                double xt = prime_log(u1) / ZIG_R, yt = prime_log(u2);
                if (-2 * yt >= xt * xt) return (float)(u < 0 ? xt - ZIG_R : ZIG_R - xt);
            }
            return (float)(u < 0 ? -ZIG_R : ZIG_R);
        }
        double xv = u * zig_x[i];
        double f0 = prime_exp(-0.5 * (zig_x[i] * zig_x[i] - xv * xv));
        double f1 = prime_exp(-0.5 * (zig_x[i + 1] * zig_x[i + 1] - xv * xv));
        double u3 = ((double)(sm64(base2, c2 << 6) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        if (f1 + u3 * (f0 - f1) < 1.0) return (float)xv;
    }
    return 0.0f; /* probability ~0.012^64: never */
}

/* z[j] = prime_dev_normal(base, ctr0 + j) for j < n, the fast path (98.8 %
 * of draws) inline: the hash input base + (ctr << 6) * phi steps by a
 * constant (same 64-bit value, one multiply less); the rest start over in
 * prime_dev_normal, which repeats this first step and goes on: same value. */
PRIME_NOINLINE void zig_normals(float *restrict z, uint64_t base, uint64_t ctr0, int n) {
    const uint64_t phi = 0x9e3779b97f4a7c15ull;
    uint64_t s = base + (ctr0 << 6) * phi;
    for (int j = 0; j < n; j++, s += phi << 6) {
        const uint64_t h = prime_mix64(s);
        const int i = (int)(h & (ZIG_C - 1));
        const double u = ((double)(int64_t)(h >> 11) + 0.5) * (1.0 / 4503599627370496.0) - 1.0;
        z[j] = fabs(u) < zig_r[i] ? (float)(u * zig_x[i]) : prime_dev_normal(base, ctr0 + (uint64_t)j);
    }
}

/* Forces the plain reference kernels (tests compare them with the fast ones). */
int prime_kernel_reference = 0;

/* ============================================================ device model */

enum { ST_ON = 0, ST_OFF = 2, ST_PROG = 4, ST_FAULT = 6, ST_READ = 8 };

/* Returns the formed on-state conductance of cell `cell` of pair i (uS). */
float prime_dev_form_on(const prime_device *d, int layer, int cell, size_t i) {
    double z = prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_ON + cell, i);
    double g;
    if (d->g_dist == PRIME_DIST_LOGNORMAL) {
        double m = d->g_mean, s = d->g_sd;
        double s2 = prime_log(1.0 + (s * s) / (m * m));
        double mu = prime_log(m) - 0.5 * s2;
        g = prime_exp(mu + sqrt(s2) * z);
    } else {
        g = d->g_mean + d->g_sd * z;
    }
    if (g < 0) g = 0;
    if (g > d->g_max) g = d->g_max;
    return (float)g;
}

/* Returns the conductance a reset (pruned) cell ends at: the off state plus
 * programming noise (Gaussian, clipped at 2 sigma), never below 0 (uS). */
float prime_dev_form_off(const prime_device *d, int layer, int cell, size_t i) {
    double g = d->g_off + d->g_off_sd * prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_OFF + cell, i);
    double z = prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_PROG + cell, i);
    if (z > 2) z = 2;
    if (z < -2) z = -2;
    g += z * d->prog_noise * d->g_mean;
    return (float)(g < 0 ? 0 : g);
}

/* Returns the fault of a cell: 0 none, 1 stuck at on, 2 stuck at off. */
int prime_dev_fault(const prime_device *d, int layer, int cell, size_t i) {
    if (d->stuck_on <= 0 && d->stuck_off <= 0) return 0;
    double u = prime_rand_uniform(d->chip_seed, (uint64_t)layer * 16 + ST_FAULT + cell, i);
    if (u < d->stuck_on) return 1;
    if (u < (double)d->stuck_on + d->stuck_off) return 2;
    return 0;
}

/* Samples the formed on/off conductances of weight layer l (unless the user
 * gave a measured map for it). */
static void form_layer(prime_ctx *c, int l) {
    wlayer *w = &c->w[l];
    size_t n = (size_t)w->rows * w->cols;
    for (size_t i = 0; i < n; i++) {
        if (!w->measured) {
            w->gp_on[i] = prime_dev_form_on(&c->dev, l, 0, i);
            w->gn_on[i] = prime_dev_form_on(&c->dev, l, 1, i);
        }
        w->gp_off[i] = prime_dev_form_off(&c->dev, l, 0, i);
        w->gn_off[i] = prime_dev_form_off(&c->dev, l, 1, i);
    }
}

/* Programs n pairs of layer `layer` from their mask: kept pairs at their
 * formed state, pruned pairs reset to off, stuck cells at their fault. Writes
 * the programmed conductances gp/gn, the weights wt = (gp - gn) * scale and
 * g2 = (gp^2 + gn^2) * scale^2 (column noise). Shared by every network. */
void prime_dev_program(const prime_device *d, int layer, size_t n, const uint8_t *mask, const float *gp_on,
                       const float *gn_on, const float *gp_off, const float *gn_off, float sc, float *gp_out,
                       float *gn_out, float *wt, float *g2) {
    for (size_t i = 0; i < n; i++) {
        float gp = mask[i] ? gp_on[i] : gp_off[i];
        float gn = mask[i] ? gn_on[i] : gn_off[i];
        int f = prime_dev_fault(d, layer, 0, i);
        if (f) gp = f == 1 ? d->g_max : d->g_off;
        f = prime_dev_fault(d, layer, 1, i);
        if (f) gn = f == 1 ? d->g_max : d->g_off;
        gp_out[i] = gp, gn_out[i] = gn;
        wt[i] = (gp - gn) * sc;
        g2[i] = (gp * gp + gn * gn) * (sc * sc);
    }
}

/* Returns the ADC full scale of a [rows][cols] matrix at input 1: the largest
 * |column current| any 512-row tile can carry (never 0). */
float prime_dev_colmax(const float *wt, int rows, int cols) {
    double mx = 0;
    for (int r0 = 0; r0 < rows; r0 += PRIME_ARRAY_SIZE) {
        int r1 = r0 + PRIME_ARRAY_SIZE < rows ? r0 + PRIME_ARRAY_SIZE : rows;
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int r = r0; r < r1; r++) s += fabsf(wt[(size_t)r * cols + j]);
            if (s > mx) mx = s;
        }
    }
    return (float)(mx > 0 ? mx : 1e-12);
}

/* Programs weight layer l of a classification context from its mask. */
void prime_program_layer(prime_ctx *c, int l) {
    wlayer *w = &c->w[l];
    size_t n = (size_t)w->rows * w->cols;
    prime_dev_program(&c->dev, l, n, w->mask, w->gp_on, w->gn_on, w->gp_off, w->gn_off, c->arch.layers[l].scale,
                      w->gp, w->gn, w->wt, w->g2);
    w->colmax = prime_dev_colmax(w->wt, w->rows, w->cols);
}

/* ============================================================ context */

/* Allocates the context's buffers for c->arch; 0 or -1. Every block size
 * comes from prime_arch_plan (64-bit, capped) and must fit size_t. */
static int ctx_alloc(prime_ctx *c) {
    const prime_arch *a = &c->arch;
    prime_ctx_plan plan;
    if (prime_arch_plan(a, &plan) != 0) return -1;
    if (plan.bytes > SIZE_MAX) return prime_error("the model needs %llu bytes, more than this build can address",
                                                  (unsigned long long)plan.bytes);
    size_t nw = (size_t)plan.cells, acc = (size_t)plan.acc;
    int arrays = 0;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        if (prime_layer_rows(L)) {
            wlayer *w = &c->w[l];
            w->rows = prime_layer_rows(L), w->cols = prime_layer_cols(L);
            w->row_tiles = (w->rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
            w->col_tiles = (2 * w->cols + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
            w->first_array = arrays;
            arrays += w->row_tiles * w->col_tiles;
        }
    }
    c->max_act = (size_t)plan.max_act;
    c->n_arrays = arrays;
    c->n_in = (size_t)plan.n_in;
    /* one block for the weights: 8 floats + 1 mask byte per pair */
    c->wblock = malloc(nw * (8 * sizeof(float) + 1) + 16);
    /* one block for the state: u, s, cur, out per layer + sums + buffers */
    c->sblock = calloc((size_t)plan.state, sizeof(float));
    c->active = calloc(acc ? acc : 1, 1);
    c->input = NULL;
    if (!c->wblock || !c->sblock || !c->active) return prime_error("out of memory allocating the model");
    float *p = c->wblock;
    size_t total = nw;
    uint8_t *mb = (uint8_t *)(p + 8 * total);
    for (int l = 0; l < a->n_layers; l++) {
        wlayer *w = &c->w[l];
        if (!w->rows) continue;
        size_t n = (size_t)w->rows * w->cols;
        w->gp_on = p, p += n;
        w->gn_on = p, p += n;
        w->gp_off = p, p += n;
        w->gn_off = p, p += n;
        w->gp = p, p += n;
        w->gn = p, p += n;
        w->wt = p, p += n;
        w->g2 = p, p += n;
        w->mask = mb, mb += n;
        memset(w->mask, 1, n);
    }
    float *s = c->sblock;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        size_t out = (size_t)L->out_c * L->out_h * L->out_w;
        c->st[l].u = s, s += out;
        c->st[l].s = s, s += out;
        c->st[l].cur = s, s += out;
        c->st[l].out = s, s += out;
        c->st[l].n = out;
    }
    c->acc = s, s += acc;
    c->var = s, s += acc;
    c->frame = s, s += c->max_act;
    c->view = s, s += c->max_act;
    c->sum = s, s += PRIME_MAX_CLASSES;
    const size_t rowcap = (size_t)plan.rowcap, colcap = (size_t)plan.colcap;
    c->rowoff = (int32_t *)s, s += rowcap; /* int32 and float are both 4 bytes */
    c->rowval = s, s += rowcap;
    c->rowval2 = s, s += rowcap;
    c->zbuf = s, s += colcap;
    c->pixcnt = (int32_t *)s, s += c->max_act;
    c->pixoff = (int32_t *)s, s += c->max_act;
    c->pixval = s, s += c->max_act;
    c->pixval2 = s;
    return 0;
}

/* Makes a context for a finalized architecture and device; NULL on error. */
prime_ctx *prime_ctx_new(const prime_arch *arch, const prime_device *dev) {
    prime_arch a = *arch;
    if (prime_arch_finalize(&a) != 0) return NULL;
    if (prime_device_check(dev) != 0) return NULL;
    prime_ctx *c = calloc(1, sizeof *c);
    if (!c) { prime_error("out of memory"); return NULL; }
    c->arch = a;
    c->dev = *dev;
    c->run = prime_default_run();
    if (ctx_alloc(c) != 0) { prime_free(c); return NULL; }
    for (int l = 0; l < a.n_layers; l++)
        if (c->w[l].rows) form_layer(c, l), prime_program_layer(c, l);
    return c;
}

/* Returns a context with every mask at keep; NULL on error. */
prime_ctx *prime_create(const prime_arch *arch, const prime_device *dev) {
    if (!arch || !dev) { prime_error("prime_create: NULL argument"); return NULL; }
    return prime_ctx_new(arch, dev);
}

/* Frees a context and everything it owns; NULL is fine. */
void prime_free(prime_ctx *c) {
    if (!c) return;
    free(c->wblock);
    free(c->sblock);
    free(c->active);
    free(c->input);
    free(c);
}

/* Returns the context's architecture (owned by the context). */
const prime_arch *prime_get_arch(const prime_ctx *c) { return &c->arch; }
/* Returns a copy of the device parameters. */
prime_device prime_get_device(const prime_ctx *c) { return c->dev; }
/* Returns a copy of the run parameters. */
prime_run prime_get_run(const prime_ctx *c) { return c->run; }

/* True when the two devices differ in a field that shapes the formed chip. */
static int forming_changed(const prime_device *a, const prime_device *b) {
    return a->chip_seed != b->chip_seed || a->g_dist != b->g_dist || a->g_mean != b->g_mean ||
           a->g_sd != b->g_sd || a->g_off != b->g_off || a->g_off_sd != b->g_off_sd ||
           a->g_max != b->g_max || a->prog_noise != b->prog_noise || a->stuck_on != b->stuck_on ||
           a->stuck_off != b->stuck_off;
}

/* Applies device parameters, re-forming the chip only when needed; 0 or -1. */
int prime_set_device(prime_ctx *c, const prime_device *d) {
    if (!c || !d) return prime_error("prime_set_device: NULL argument");
    if (prime_device_check(d) != 0) return -1;
    int reform = forming_changed(&c->dev, d);
    c->dev = *d;
    if (reform)
        for (int l = 0; l < c->arch.n_layers; l++)
            if (c->w[l].rows) form_layer(c, l), prime_program_layer(c, l);
    return 0;
}

/* Applies the run policy and restarts the noise stream; 0 or -1. */
int prime_set_run(prime_ctx *c, const prime_run *r) {
    if (!c || !r) return prime_error("prime_set_run: NULL argument");
    if (r->policy != PRIME_STOP_NONE && r->policy != PRIME_STOP_CONFIDENCE)
        return prime_error("run: policy %d (0 none, 1 confidence)", r->policy);
    if (!(r->alpha > 0 && r->alpha <= 1000)) return prime_error("run: alpha = %g out of (0, 1000]", (double)r->alpha);
    if (!(r->threshold >= 0 && r->threshold <= 1)) return prime_error("run: threshold = %g out of [0, 1]", (double)r->threshold);
    if (r->min_steps < 1 || r->min_steps > PRIME_MAX_T) return prime_error("run: min_steps = %d out of 1..%d", r->min_steps, PRIME_MAX_T);
    c->run = *r;
    c->inference = 0;
    return 0;
}

/* Returns the weight layer l or NULL with an error. */
static wlayer *get_wlayer(const prime_ctx *c, int l, size_t n) {
    if (!c) { prime_error("NULL context"); return NULL; }
    if (l < 0 || l >= c->arch.n_layers) { prime_error("layer %d out of range 0..%d", l, c->arch.n_layers - 1); return NULL; }
    wlayer *w = (wlayer *)&c->w[l];
    if (!w->rows) { prime_error("layer %d has no weights (a pool)", l); return NULL; }
    if (n != (size_t)w->rows * w->cols) { prime_error("layer %d has %zu weights, not %zu", l, (size_t)w->rows * w->cols, n); return NULL; }
    return w;
}

/* Sets layer l's mask (1 byte per pair) and re-programs it; 0 or -1. */
int prime_set_mask(prime_ctx *c, int l, const uint8_t *mask, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++) w->mask[i] = mask[i] ? 1 : 0;
    prime_program_layer(c, l);
    return 0;
}

/* Copies layer l's mask into mask[n]; 0 or -1. */
int prime_get_mask(const prime_ctx *c, int l, uint8_t *mask, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    memcpy(mask, w->mask, n);
    return 0;
}

/* Copies layer l's weights (programmed, or formed on-state if kept) to w[n]. */
int prime_get_weights(const prime_ctx *c, int l, int kept, float *out, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    float sc = c->arch.layers[l].scale;
    for (size_t i = 0; i < n; i++) out[i] = kept ? (w->gp_on[i] - w->gn_on[i]) * sc : w->wt[i];
    return 0;
}

/* Replaces layer l's formed conductances by a measured map; 0 or -1. */
int prime_set_conductances(prime_ctx *c, int l, const float *gpos, const float *gneg, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++)
        if (!(gpos[i] >= 0 && gpos[i] < 1e6 && gneg[i] >= 0 && gneg[i] < 1e6))
            return prime_error("conductance map of layer %d: value %zu is not a conductance in [0, 1e6) uS", l, i);
    memcpy(w->gp_on, gpos, n * sizeof(float));
    memcpy(w->gn_on, gneg, n * sizeof(float));
    w->measured = 1;
    prime_program_layer(c, l);
    return 0;
}

/* ============================================================ tiling */

/* Fills *t with how layer l sits on the 512x512 arrays; 0 or -1. */
int prime_get_tiling(const prime_ctx *c, int l, prime_tiling *t) {
    if (!c || !t) return prime_error("NULL argument");
    if (l < 0 || l >= c->arch.n_layers) return prime_error("layer %d out of range", l);
    const wlayer *w = &c->w[l];
    memset(t, 0, sizeof *t);
    if (!w->rows) return prime_error("layer %d has no weights (a pool)", l);
    t->rows = w->rows, t->cols = w->cols;
    t->row_tiles = w->row_tiles, t->col_tiles = w->col_tiles;
    t->arrays = w->row_tiles * w->col_tiles;
    t->fill = (double)w->rows * 2 * w->cols / ((double)t->arrays * PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
    t->first_array = w->first_array;
    return 0;
}

/* Returns the number of 512x512 arrays the model occupies. */
int prime_total_arrays(const prime_ctx *c) { return c ? c->n_arrays : 0; }

/* Writes the programmed conductances of array `a` (512*512, row-major,
 * columns in G+/G- pairs, unused 0) into out; 0 or -1. */
int prime_get_array(const prime_ctx *c, int a, float *out, size_t n) {
    if (!c || !out) return prime_error("NULL argument");
    if (a < 0 || a >= c->n_arrays) return prime_error("array %d out of range 0..%d", a, c->n_arrays - 1);
    if (n < (size_t)PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE) return prime_error("array buffer too small");
    memset(out, 0, sizeof(float) * PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
    for (int l = 0; l < c->arch.n_layers; l++) {
        const wlayer *w = &c->w[l];
        if (!w->rows || a < w->first_array || a >= w->first_array + w->row_tiles * w->col_tiles) continue;
        int k = a - w->first_array, rt = k / w->col_tiles, ct = k % w->col_tiles;
        for (int r = 0; r < PRIME_ARRAY_SIZE; r++) {
            int row = rt * PRIME_ARRAY_SIZE + r;
            if (row >= w->rows) break;
            for (int pc = 0; pc < PRIME_ARRAY_SIZE; pc++) {
                int phys = ct * PRIME_ARRAY_SIZE + pc, j = phys / 2;
                if (j >= w->cols) break;
                size_t i = (size_t)row * w->cols + j;
                out[(size_t)r * PRIME_ARRAY_SIZE + pc] = (phys & 1) ? w->gn[i] : w->gp[i];
            }
        }
    }
    return 0;
}

/* ============================================================ macro read */

/* Quantizes a value to a signed ADC of `bits` over [-fs, fs). */
float prime_dev_adc(float v, float fs, int bits) {
    float half = (float)(1 << (bits - 1));
    float lsb = fs / half;
    float q = floorf(v / lsb + 0.5f);
    if (q > half - 1) q = half - 1;
    if (q < -half) q = -half;
    return q * lsb;
}

/* Quantizes an input to the DAC: 2^bits steps over [-xmax, xmax]. */
float prime_dev_dac(float x, float xmax, int bits) {
    float steps = (float)(1u << bits);
    float q = floorf(x / xmax * steps + 0.5f);
    if (q > steps) q = steps;
    if (q < -steps) q = -steps;
    return q / steps * xmax;
}

/* Reference accumulation (also the path for cell noise, multi-tile convs and
 * very sparse inputs): every non-zero input adds its rows of weights to the
 * outputs it reaches (scatter). acc/var/act must be zero on entry. Returns
 * the rows driven. */
static double scatter(prime_ctx *c, int l, const float *x, uint64_t nstream) {
    const prime_layer *L = &c->arch.layers[l];
    const wlayer *w = &c->w[l];
    const prime_device *d = &c->dev;
    const int OC = w->cols, OH = L->out_h, OW = L->out_w;
    const int IC = L->in_c, IH = L->in_h, IW = L->in_w;
    const size_t npos = (size_t)OH * OW, out = npos * OC;
    const int noise_col = d->read_noise > 0 && d->noise_mode == PRIME_NOISE_COLUMN;
    const int noise_cell = d->read_noise > 0 && d->noise_mode == PRIME_NOISE_CELL;
    const float eta = d->read_noise;
    const uint64_t nkey = c->run.noise_seed;
    float *acc = c->acc, *var = c->var;
    uint8_t *act = c->active;
    double drives = 0;
    const int fc = L->op == PRIME_OP_FC;
    const int K = fc ? 1 : L->k, S = fc ? 1 : L->stride, P = fc ? 0 : L->pad;
    for (int iy = 0; iy < IH; iy++)
        for (int ix = 0; ix < IW; ix++)
            for (int ic = 0; ic < IC; ic++) {
                float v = x[((size_t)iy * IW + ix) * IC + ic];
                if (v == 0.0f) continue;
                /* kernel offsets that land on an output: oy = (iy + P - ky) / S in [0, OH) */
                int ky0 = iy + P - S * (OH - 1), ky1 = iy + P, kx0 = ix + P - S * (OW - 1), kx1 = ix + P;
                if (fc) ky0 = ky1 = kx0 = kx1 = 0;
                if (ky0 < 0) ky0 = 0;
                if (ky1 > K - 1) ky1 = K - 1;
                if (kx0 < 0) kx0 = 0;
                if (kx1 > K - 1) kx1 = K - 1;
                for (int ky = ky0; ky <= ky1; ky++) {
                    if ((iy + P - ky) % S) continue;
                    int oy = fc ? 0 : (iy + P - ky) / S;
                    for (int kx = kx0; kx <= kx1; kx++) {
                        if ((ix + P - kx) % S) continue;
                        int ox = fc ? 0 : (ix + P - kx) / S;
                        /* matrix row: CHW flatten index (FC) or (ic, ky, kx) (conv) */
                        size_t r = fc ? ((size_t)ic * IH + iy) * IW + ix : ((size_t)ic * K + ky) * K + kx;
                        int tile = (int)(r / PRIME_ARRAY_SIZE);
                        size_t pos = (size_t)oy * OW + ox;
                        float *a = acc + (size_t)tile * out + pos * OC;
                        if (noise_cell) {
                            for (int j = 0; j < OC; j++) {
                                uint64_t ctr = ((pos * w->rows + r) * OC + j) * 2;
                                float np = (float)prime_rand_normal(nkey, nstream, ctr);
                                float nn = (float)prime_rand_normal(nkey, nstream, ctr + 1);
                                size_t i = r * OC + j;
                                float g = w->gp[i] * (1.0f + eta * np) - w->gn[i] * (1.0f + eta * nn);
                                a[j] = a[j] + v * (g * L->scale);
                            }
                        } else {
                            k_axpy(a, w->wt + r * OC, v, OC);
                            if (noise_col) k_axpy(var + (size_t)tile * out + pos * OC, w->g2 + r * OC, v * v, OC);
                        }
                        act[(size_t)tile * npos + pos] = 1;
                        drives += 1;
                    }
                }
            }
    return drives;
}

/* y += a * x and, when y2, y2 += a2 * x2 over n columns in one pass: the
 * operations of two k_axpy calls, element for element (identical bits). */
static inline __attribute__((always_inline)) void k_axpy2(float *restrict y, const float *restrict x, float a,
                                                          float *restrict y2, const float *restrict x2, float a2, int n) {
    if (!y2) { k_axpy(y, x, a, n); return; }
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

/* conv_scatter's body for stride S: inlined with S = 1 as a constant (the
 * PRIME convs), so the offset tests and divisions fold away. */
static inline __attribute__((always_inline)) long conv_scatter_s(prime_ctx *c, const prime_layer *L, const wlayer *w,
                                                                 const float *x, int noise_col, const int S) {
    const int OC = w->cols, OH = L->out_h, OW = L->out_w;
    const int IC = L->in_c, IH = L->in_h, IW = L->in_w, K = L->k, P = L->pad;
    float *var = noise_col ? c->var : NULL;
    long drives = 0;
    for (int iy = 0; iy < IH; iy++)
        for (int ix = 0; ix < IW; ix++) {
            const float *xp = x + ((size_t)iy * IW + ix) * IC;
            /* offsets with oy = (iy + P - ky) / S in [0, OH), exact division */
            int ky0 = iy + P - S * (OH - 1), ky1 = iy + P, kx0 = ix + P - S * (OW - 1), kx1 = ix + P;
            if (ky0 < 0) ky0 = 0;
            if (ky1 > K - 1) ky1 = K - 1;
            if (kx0 < 0) kx0 = 0;
            if (kx1 > K - 1) kx1 = K - 1;
            for (int ic = 0; ic < IC; ic++) {
                const float v = xp[ic], v2 = v * v;
                if (v == 0.0f) continue;
                for (int ky = ky0; ky <= ky1; ky++) {
                    if ((iy + P - ky) % S) continue;
                    const int oy = (iy + P - ky) / S;
                    const size_t r0 = ((size_t)(ic * K + ky) * K) * OC;
                    for (int kx = kx0; kx <= kx1; kx++) {
                        if ((ix + P - kx) % S) continue;
                        const size_t pos = (size_t)oy * OW + (ix + P - kx) / S, o = pos * OC, r = r0 + (size_t)kx * OC;
                        k_axpy2(c->acc + o, w->wt + r, v, var ? var + o : NULL, w->g2 + r, v2, OC);
                        c->active[pos] = 1;
                        drives++;
                    }
                }
            }
        }
    return drives;
}

/* Fast conv scatter for sparse inputs on one row tile: the reference's loop
 * (same order, identical bits) without its per-offset tests. acc/var/act
 * zero on entry. Returns the rows driven. */
PRIME_NOINLINE static double conv_scatter(prime_ctx *c, int l, const float *x, int noise_col) {
    const prime_layer *L = &c->arch.layers[l];
    const wlayer *w = &c->w[l];
    if (L->stride == 1) return (double)conv_scatter_s(c, L, w, x, noise_col, 1);
    return (double)conv_scatter_s(c, L, w, x, noise_col, L->stride);
}

/* Fast conv accumulation for a layer on one row tile. First each input
 * pixel lists its non-zero channels; then each output position collects the
 * lists of the pixels under its kernel in the order the scatter meets them
 * ((ky, kx, ic)) and k_gather reads them in registers. Returns rows driven. */
PRIME_NOINLINE static double conv_gather(prime_ctx *c, int l, const float *x, int noise_col) {
    const prime_layer *L = &c->arch.layers[l];
    const wlayer *w = &c->w[l];
    const int OC = w->cols, OH = L->out_h, OW = L->out_w;
    const int IC = L->in_c, IH = L->in_h, IW = L->in_w, K = L->k, S = L->stride, P = L->pad;
    int32_t *off = c->rowoff, *pcnt = c->pixcnt, *poff = c->pixoff;
    float *val = c->rowval, *val2 = c->rowval2, *pval = c->pixval, *pval2 = c->pixval2;
    for (int p = 0; p < IH * IW; p++) { /* branch-free compaction per pixel */
        const float *xp = x + (size_t)p * IC;
        int32_t *po = poff + (size_t)p * IC;
        float *pv1 = pval + (size_t)p * IC, *pv2 = pval2 + (size_t)p * IC;
        int n = 0;
        for (int ic = 0; ic < IC; ic++) {
            float v = xp[ic];
            po[n] = ic * K * K * OC, pv1[n] = v, pv2[n] = v * v;
            n += v != 0.0f;
        }
        pcnt[p] = n;
    }
    double drives = 0;
    for (int oy = 0; oy < OH; oy++) {
        const int ky0 = P - oy * S > 0 ? P - oy * S : 0, ky1 = IH + P - oy * S < K ? IH + P - oy * S : K;
        for (int ox = 0; ox < OW; ox++) {
            const int kx0 = P - ox * S > 0 ? P - ox * S : 0, kx1 = IW + P - ox * S < K ? IW + P - ox * S : K;
            const size_t pos = (size_t)oy * OW + ox;
            int n = 0;
            for (int ky = ky0; ky < ky1; ky++) {
                const int prow = (oy * S - P + ky) * IW + (ox * S - P);
                for (int kx = kx0; kx < kx1; kx++) {
                    const int p = prow + kx, m = pcnt[p], base = (ky * K + kx) * OC;
                    const int32_t *po = poff + (size_t)p * IC;
                    const float *pv1 = pval + (size_t)p * IC, *pv2 = pval2 + (size_t)p * IC;
                    for (int q = 0; q < m; q++) off[n + q] = base + po[q], val[n + q] = pv1[q];
                    if (noise_col)
                        for (int q = 0; q < m; q++) val2[n + q] = pv2[q];
                    n += m;
                }
            }
            if (!n) continue;
            c->active[pos] = 1;
            drives += n;
            k_gather(c->acc + pos * OC, w->wt, off, val, n, OC);
            if (noise_col) k_gather(c->var + pos * OC, w->g2, off, val2, n, OC);
        }
    }
    return drives;
}

/* Fast FC accumulation: per row tile, the active rows in the scatter's order
 * (HWC walk of the input), gathered in registers. Returns the rows driven. */
PRIME_NOINLINE static double fc_gather(prime_ctx *c, int l, const float *x, int noise_col) {
    const prime_layer *L = &c->arch.layers[l];
    const wlayer *w = &c->w[l];
    const int OC = w->cols, IC = L->in_c, IH = L->in_h, IW = L->in_w, RT = w->row_tiles;
    int cnt[64] = {0};
    int32_t *off = c->rowoff;
    float *val = c->rowval, *val2 = c->rowval2;
    for (int h = 0; h < IH; h++)
        for (int ww = 0; ww < IW; ww++)
            for (int ic = 0; ic < IC; ic++) {
                float v = x[((size_t)h * IW + ww) * IC + ic];
                if (v == 0.0f) continue;
                int r = (ic * IH + h) * IW + ww, tile = r / PRIME_ARRAY_SIZE;
                int k = tile * PRIME_ARRAY_SIZE + cnt[tile]++;
                off[k] = r * OC, val[k] = v;
            }
    double drives = 0;
    for (int tile = 0; tile < RT; tile++) {
        int n = cnt[tile], b = tile * PRIME_ARRAY_SIZE;
        if (!n) continue;
        c->active[tile] = 1;
        drives += n;
        k_gather(c->acc + (size_t)tile * OC, w->wt, off + b, val + b, n, OC);
        if (noise_col) {
            for (int k = b; k < b + n; k++) val2[k] = val[k] * val[k];
            k_gather(c->var + (size_t)tile * OC, w->g2, off + b, val2 + b, n, OC);
        }
    }
    return drives;
}

/* One crossbar layer for one timestep: x (HWC, in_c*in_h*in_w, already DAC
 * levels) -> cur (HWC, out). Row tiles accumulate separately, each gets its
 * read noise and ADC conversion, then the tiles are summed digitally. */
PRIME_NOINLINE static void crossbar(prime_ctx *c, int l, const float *x, float xmax, float *cur, int t) {
    const prime_layer *L = &c->arch.layers[l];
    const wlayer *w = &c->w[l];
    const prime_device *d = &c->dev;
    const int OC = w->cols, OH = L->out_h, OW = L->out_w;
    const size_t npos = (size_t)OH * OW, out = npos * OC;
    const int RT = w->row_tiles;
    const int noise_col = d->read_noise > 0 && d->noise_mode == PRIME_NOISE_COLUMN;
    const int noise_cell = d->read_noise > 0 && d->noise_mode == PRIME_NOISE_CELL;
    const float eta = d->read_noise;
    const uint64_t nstream = prime_mix64(((uint64_t)c->inference_now << 24) ^ ((uint64_t)t << 8) ^ (uint64_t)l) ;
    const uint64_t nbase = prime_mix64(c->run.noise_seed ^ prime_mix64(nstream ^ 0x5bd1e995u));
    float *acc = c->acc, *var = c->var;
    uint8_t *act = c->active;
    memset(act, 0, npos * RT);
    double drives;
    int path = 0; /* 0 scatter, 1 conv gather, 2 fc gather */
    if (!prime_kernel_reference && !noise_cell) {
        if (L->op == PRIME_OP_FC && RT <= 64) path = 2;
        else if (L->op == PRIME_OP_CONV && RT == 1) {
            /* Scatter pays a load and a store more per active (row, column),
             * gather a visit per (position, kernel pixel): measured cost
             * model, both give identical bits. */
            const size_t nin = (size_t)L->in_c * L->in_h * L->in_w;
            size_t nz = 0;
            for (size_t i = 0; i < nin; i++) nz += x[i] != 0.0f;
            if (nz * (size_t)(OC / 2 + 2) >= 4 * npos) path = 1;
        }
    }
    if (path == 2) drives = fc_gather(c, l, x, noise_col);
    else if (path == 1) drives = conv_gather(c, l, x, noise_col);
    else {
        memset(acc, 0, sizeof(float) * out * RT);
        if (noise_col) memset(var, 0, sizeof(float) * out * RT);
        if (!prime_kernel_reference && !noise_cell && L->op == PRIME_OP_CONV && RT == 1) drives = conv_scatter(c, l, x, noise_col);
        else drives = scatter(c, l, x, nstream);
    }

    /* noise, ADC per tile, digital sum over tiles */
    memset(cur, 0, sizeof(float) * out);
    double conversions = 0, reads = 0;
    const float fs = d->adc_fs * w->colmax * xmax;
    const int bits = d->adc_bits;
    if (noise_col) pthread_once(&zig_once, zig_init);
    for (int tile = 0; tile < RT; tile++) {
        const float *a = acc + (size_t)tile * out, *vr = var + (size_t)tile * out;
        for (size_t pos = 0; pos < npos; pos++) {
            if (!act[(size_t)tile * npos + pos]) continue;
            reads += 1;
            conversions += OC;
            const size_t o0 = pos * OC;
            const uint64_t ctr0 = (uint64_t)tile * out + o0; /* noise counter of column 0 */
            if (!prime_kernel_reference) {
                if (noise_col) zig_normals(c->zbuf, nbase, ctr0, OC);
                k_readout(cur + o0, a + o0, vr + o0, noise_col ? c->zbuf : NULL, OC, eta, fs, bits);
                continue;
            }
            for (int j = 0; j < OC; j++) { /* the reference: one column at a time */
                float v = a[o0 + j];
                if (noise_col) v = v + (eta * sqrtf(vr[o0 + j])) * prime_dev_normal(nbase, ctr0 + j);
                if (bits) v = prime_dev_adc(v, fs, bits);
                cur[o0 + j] = cur[o0 + j] + v;
            }
        }
    }
    c->cnt.dac_drives += drives;
    c->cnt.cell_reads += drives * 2 * OC;
    c->cnt.adc_conversions += conversions;
    c->cnt.vmm_reads += reads;
    c->cnt.macs_dense += (double)npos * w->rows * OC;
    c->energy_adc_bits = d->adc_bits ? d->adc_bits : 16;
}

/* ============================================================ network */

/* Resets the state and the counters for a new input. */
static void reset_state(prime_ctx *c) {
    for (int l = 0; l < c->arch.n_layers; l++) {
        size_t n = c->st[l].n;
        memset(c->st[l].u, 0, n * sizeof(float));
        memset(c->st[l].s, 0, n * sizeof(float));
        memset(c->st[l].cur, 0, n * sizeof(float));
        memset(c->st[l].out, 0, n * sizeof(float));
        c->spikes[l] = 0;
    }
    memset(c->sum, 0, PRIME_MAX_CLASSES * sizeof(float));
    memset(&c->cnt, 0, sizeof c->cnt);
    memset(c->conf, 0, sizeof c->conf);
    c->t = 0;
    c->done = 0;
}

/* Runs timestep c->t: frame -> layers -> output sums. */
PRIME_NOINLINE static void run_step(prime_ctx *c) {
    const prime_arch *a = &c->arch;
    const int C = a->in_c, H = a->in_h, W = a->in_w;
    const float *src = c->input + (size_t)c->t * c->n_in;
    /* [C][H][W] -> HWC with DAC quantization */
    float *x = c->frame;
    for (int ch = 0; ch < C; ch++)
        for (int i = 0; i < H * W; i++) {
            float v = src[(size_t)ch * H * W + i];
            if (c->dev.dac_bits && v != 0.0f) v = prime_dev_dac(v, c->in_max, c->dev.dac_bits);
            x[(size_t)i * C + ch] = v;
        }
    float xmax = c->in_max;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        lstate *st = &c->st[l];
        const int n = (int)st->n;
        if (L->op == PRIME_OP_AVGPOOL) {
            k_avgpool(L, x, st->out);
            c->cnt.neuron_updates += n;
            x = st->out;
        } else {
            crossbar(c, l, x, xmax, st->cur, c->t);
            if (L->neuron == PRIME_NEURON_LIF) {
                k_lif(st->u, st->s, st->cur, n, 1.0f - L->decay, L->leak, L->th);
                c->spikes[l] += k_count(st->s, n);
                x = st->s; /* the next layer reads the spikes in place */
            } else if (L->neuron == PRIME_NEURON_OUTPUT) {
                k_output(st->u, c->sum, st->cur, n, L->leak);
                x = st->u;
            } else {
                x = st->cur;
            }
            c->cnt.neuron_updates += n;
        }
        xmax = 1.0f; /* spikes and their pools live in [0, 1] */
    }
    c->t++;
    c->cnt.timesteps = c->t;
    /* confidence after this step */
    const int K = a->n_classes;
    double lg[PRIME_MAX_CLASSES], mx = -1e300, den = 0;
    int best = 0;
    for (int k = 0; k < K; k++) {
        lg[k] = (double)(c->sum[k] / (float)c->t) / c->run.alpha;
        if (lg[k] > mx) mx = lg[k], best = k;
    }
    for (int k = 0; k < K; k++) den += prime_exp(lg[k] - mx);
    c->conf[c->t - 1] = (float)(1.0 / den);
    c->step_label[c->t - 1] = best;
    if (c->t >= c->T) c->done = 1;
    if (c->run.policy == PRIME_STOP_CONFIDENCE && c->t >= c->run.min_steps && c->conf[c->t - 1] > c->run.threshold)
        c->done = 1;
}

/* Copies an input, resets the state and arms step mode; 0 or -1. */
int prime_begin(prime_ctx *c, const float *input, int T) {
    if (!c || !input) return prime_error("prime_begin: NULL argument");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("T = %d out of 1..%d", T, PRIME_MAX_T);
    size_t n = (size_t)T * c->n_in;
    if (c->input_cap < n) {
        float *p = realloc(c->input, n * sizeof(float));
        if (!p) return prime_error("out of memory for the input (%zu floats)", n);
        c->input = p, c->input_cap = n;
    }
    float mx = 0;
    for (size_t i = 0; i < n; i++) {
        float v = input[i];
        if (!isfinite(v)) return prime_error("input value %zu is not finite", i);
        if (fabsf(v) > 1e6f) return prime_error("input value %zu = %g is out of range (|x| <= 1e6)", i, (double)v);
        if (fabsf(v) > mx) mx = fabsf(v);
        c->input[i] = v;
    }
    c->in_max = mx > 0 ? mx : 1.0f;
    c->T = T;
    reset_state(c);
    c->armed = 1;
    c->inference_now = c->inference++;
    return 0;
}

/* Runs one timestep; 1 if it ran, 0 if finished, -1 on error. */
int prime_step(prime_ctx *c) {
    if (!c) return prime_error("NULL context");
    if (!c->armed) return prime_error("prime_step before prime_begin");
    if (c->done) return 0;
    run_step(c);
    return 1;
}

/* Fills *r with the result after the steps run so far; 0 or -1. */
int prime_result_get(const prime_ctx *c, prime_result *r) {
    if (!c || !r) return prime_error("NULL argument");
    if (!c->armed || c->t == 0) return prime_error("no step has run yet");
    const prime_arch *a = &c->arch;
    const prime_device *d = &c->dev;
    memset(r, 0, sizeof *r);
    r->T = c->T;
    r->steps_used = c->t;
    r->n_classes = a->n_classes;
    r->n_layers = a->n_layers;
    double mx = -1e300, den = 0, e[PRIME_MAX_CLASSES];
    for (int k = 0; k < a->n_classes; k++) {
        r->logits[k] = c->sum[k] / (float)c->t;
        if (r->logits[k] > mx) mx = r->logits[k], r->label = k;
    }
    for (int k = 0; k < a->n_classes; k++) den += (e[k] = prime_exp(((double)r->logits[k] - mx) / c->run.alpha));
    for (int k = 0; k < a->n_classes; k++) r->probs[k] = (float)(e[k] / den);
    for (int t = 0; t < c->t; t++) r->confidence[t] = c->conf[t], r->step_label[t] = c->step_label[t];
    for (int l = 0; l < a->n_layers; l++) r->spikes[l] = c->spikes[l];
    r->counters = c->cnt;
    const prime_counters *k = &c->cnt;
    double e_adc = d->e_adc_fom_fj * 1e-3 * ldexp(1.0, c->energy_adc_bits ? c->energy_adc_bits : 16);
    r->energy_pj = k->cell_reads * d->e_cell_pj + k->adc_conversions * e_adc + k->dac_drives * d->e_dac_pj +
                   k->neuron_updates * d->e_neuron_pj;
    /* digital baseline: the dense network for all T steps */
    double per_step_macs = k->macs_dense / c->t, per_step_neurons = k->neuron_updates / c->t;
    r->baseline_pj = (per_step_macs * d->e_mac_pj + per_step_neurons * d->e_neuron_pj) * c->T;
    r->energy_ratio = r->energy_pj > 0 ? r->baseline_pj / r->energy_pj : 0;
    return 0;
}

/* Runs an input to the end or early stop and fills *r; 0 or -1. */
int prime_classify(prime_ctx *c, const float *input, int T, prime_result *r) {
    if (!r) return prime_error("prime_classify: NULL result");
    if (prime_begin(c, input, T) != 0) return -1;
    while (prime_step(c) == 1) {}
    return prime_result_get(c, r);
}

/* Returns layer l's state after the last step in CHW order (context-owned). */
const float *prime_layer_state(prime_ctx *c, int l, int what, size_t *n) {
    if (!c) { prime_error("NULL context"); return NULL; }
    if (l < 0 || l >= c->arch.n_layers) { prime_error("layer %d out of range", l); return NULL; }
    if (what < 0 || what > 2) { prime_error("state %d (0 membrane, 1 spikes, 2 current)", what); return NULL; }
    const prime_layer *L = &c->arch.layers[l];
    const lstate *st = &c->st[l];
    const float *src = what == 0 ? st->u : what == 1 ? st->s : st->cur;
    if (L->op == PRIME_OP_AVGPOOL) src = st->out; /* a pool has only its output */
    const int C = L->out_c, HW = L->out_h * L->out_w;
    for (int ch = 0; ch < C; ch++)
        for (int i = 0; i < HW; i++) c->view[(size_t)ch * HW + i] = src[(size_t)i * C + ch];
    if (n) *n = st->n;
    return c->view;
}
