/* prime_crossbar.c - the crossbar read, the one every weight layer of every
 * network goes through (docs/architecture.md, docs/device.md).
 *
 *   input (HWC, DAC levels) --non-zero inputs drive rows--> per row tile:
 *   column sums of x * (G+ - G-) * scale (and of x^2 (G+^2 + G-^2) scale^2 for
 *   the column read noise) --> + read noise --> ADC per column read -->
 *   digital sum of the row tiles --> output currents; counters.
 *
 * Accumulation has one plain reference, the scatter (every non-zero input adds
 * its rows to the outputs it reaches; also the path of per-cell read noise),
 * and fast paths that visit the same rows in the same order per accumulator
 * (gathers in registers, a dense read of a one-column output layer), so every
 * path gives identical bits; prime_set_reference_kernels(1) forces the
 * reference (tests/c/test_kernels.c compares them).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_crossbar.h"
#include "prime_internal.h"
#include "prime_kernels.h"
#include "simd.h"

/* Output positions of one read: 1 for FC (all outputs are columns). */
static size_t xb_npos(const prime_xbar *X) { return X->op == PRIME_XB_FC ? 1 : (size_t)X->out_h * X->out_w; }

/* Raises *need to what layer X needs of each scratch array. */
void prime_xbar_need(const prime_xbar *X, prime_xneed *need) {
    const uint64_t acc = (uint64_t)X->row_tiles * xb_npos(X) * X->cols;
    const uint64_t pix = (uint64_t)X->in_c * X->in_h * X->in_w;
    const uint64_t pad = X->op == PRIME_XB_TCONV ? (uint64_t)X->in_c * (X->in_h + 2 * X->pad) * (X->in_w + 2 * X->pad) : 0;
    if (acc > need->acc) need->acc = acc;
    if ((uint64_t)X->rows > need->rows) need->rows = (uint64_t)X->rows;
    if ((uint64_t)X->cols > need->cols) need->cols = (uint64_t)X->cols;
    if (pix > need->pix) need->pix = pix;
    if (pad > need->pad) need->pad = pad;
}

/* Connection list of a conv / tconv layer (see prime_crossbar.h). */
int *prime_xbar_connections(const prime_xbar *X, size_t *n) {
    if (X->op == PRIME_XB_FC) { prime_error("a fully connected layer has no connection list"); return NULL; }
    size_t cap = (size_t)X->in_h * X->in_w * X->k * X->k * 3;
    int *c = malloc((cap ? cap : 1) * sizeof(int)), m = 0;
    if (!c) { prime_error("out of memory"); return NULL; }
    const int K = X->k, S = X->stride, P = X->pad;
    for (int iy = 0; iy < X->in_h; iy++)
        for (int ix = 0; ix < X->in_w; ix++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++) {
                    int oy, ox;
                    if (X->op == PRIME_XB_CONV) { /* out[oy] += in[oy*S - P + ky] */
                        int ty = iy + P - ky, tx = ix + P - kx;
                        if (ty < 0 || tx < 0 || ty % S || tx % S) continue;
                        oy = ty / S, ox = tx / S;
                    } else { /* transposed: out[iy*S - P + ky] += in[iy] */
                        oy = iy * S - P + ky, ox = ix * S - P + kx;
                        if (oy < 0 || ox < 0) continue;
                    }
                    if (oy >= X->out_h || ox >= X->out_w) continue;
                    c[m * 3] = iy * X->in_w + ix, c[m * 3 + 1] = oy * X->out_w + ox, c[m * 3 + 2] = ky * K + kx;
                    m++;
                }
    *n = (size_t)m;
    return c;
}

/* The connections grouped by output position, each group in connection order
 * (input positions ascending): a gather meets every output's rows in the
 * order the scatter adds them. A stable counting sort. */
int *prime_xbar_gather_list(const prime_xbar *X, const int *conn, size_t nconn) {
    const size_t npos = (size_t)X->out_h * X->out_w;
    int *g = malloc(sizeof(int) * (npos + 1 + 2 * nconn));
    if (!g) { prime_error("out of memory"); return NULL; }
    int *start = g, *pair = g + npos + 1;
    memset(start, 0, sizeof(int) * (npos + 1));
    for (size_t c = 0; c < nconn; c++) start[conn[3 * c + 1] + 1]++;
    for (size_t p = 0; p < npos; p++) start[p + 1] += start[p];
    for (size_t c = 0; c < nconn; c++) {
        const int *e = conn + 3 * c;
        int k = start[e[1]]++;
        pair[2 * k] = e[0], pair[2 * k + 1] = e[2];
    }
    for (size_t p = npos; p > 0; p--) start[p] = start[p - 1];
    start[0] = 0;
    return g;
}

/* ============================================================ accumulation */

/* The reference: every non-zero input adds its rows of weights to the outputs
 * it reaches (input positions ascending, then channels, then taps), per row
 * tile; with per-cell noise each cell read draws its own Gaussians. acc/var/
 * active must be zero on entry. Returns the rows driven. */
static double scatter(const prime_xbar *X, prime_xscratch *s, const prime_noise_params *rp, const prime_xread *rd,
                      const float *x, uint64_t nstream, int noise_col, int noise_cell) {
    const int OC = X->cols, OH = X->out_h, OW = X->out_w, IC = X->in_c, IH = X->in_h, IW = X->in_w;
    const size_t npos = xb_npos(X), out = npos * OC;
    const uint64_t nkey = rd->noise_seed;
    const int fc = X->op == PRIME_XB_FC, tc = X->op == PRIME_XB_TCONV;
    const int K = fc ? 1 : X->k, S = fc ? 1 : X->stride, P = fc ? 0 : X->pad;
    double drives = 0;
    for (int iy = 0; iy < IH; iy++)
        for (int ix = 0; ix < IW; ix++)
            for (int ic = 0; ic < IC; ic++) {
                float v = x[((size_t)iy * IW + ix) * IC + ic];
                if (v == 0.0f) continue;
                /* conv: the taps that land on an output, oy = (iy + P - ky) / S in [0, OH) */
                int ky0 = iy + P - S * (OH - 1), ky1 = iy + P, kx0 = ix + P - S * (OW - 1), kx1 = ix + P;
                if (fc || tc) ky0 = kx0 = 0, ky1 = kx1 = K - 1;
                if (ky0 < 0) ky0 = 0;
                if (ky1 > K - 1) ky1 = K - 1;
                if (kx0 < 0) kx0 = 0;
                if (kx1 > K - 1) kx1 = K - 1;
                for (int ky = ky0; ky <= ky1; ky++) {
                    int oy = 0;
                    if (tc) { /* transposed: oy = iy*S - P + ky */
                        oy = iy * S - P + ky;
                        if (oy < 0 || oy >= OH) continue;
                    } else if (!fc) {
                        if ((iy + P - ky) % S) continue;
                        oy = (iy + P - ky) / S;
                    }
                    for (int kx = kx0; kx <= kx1; kx++) {
                        int ox = 0;
                        if (tc) {
                            ox = ix * S - P + kx;
                            if (ox < 0 || ox >= OW) continue;
                        } else if (!fc) {
                            if ((ix + P - kx) % S) continue;
                            ox = (ix + P - kx) / S;
                        }
                        size_t r;
                        if (!fc) r = ((size_t)ic * K + ky) * K + kx;
                        else if (X->fc_chw) r = ((size_t)ic * IH + iy) * IW + ix;
                        else r = ((size_t)iy * IW + ix) * IC + ic;
                        const int tile = (int)(r / PRIME_ARRAY_SIZE);
                        const size_t pos = fc ? 0 : (size_t)oy * OW + ox;
                        float *a = s->acc + (size_t)tile * out + pos * OC;
                        if (noise_cell) {
                            for (int j = 0; j < OC; j++) {
                                uint64_t ctr = ((pos * X->rows + r) * OC + j) * 2;
                                float np = (float)prime_rand_normal(nkey, nstream, ctr);
                                float nn = (float)prime_rand_normal(nkey, nstream, ctr + 1);
                                size_t i = r * OC + j; /* the read model's per-cell form */
                                a[j] = a[j] + v * prime_fx_noise_cell(rp, X->gp[i], X->gn[i], X->scale, np, nn);
                            }
                        } else {
                            prime_axpy(a, X->wt + r * OC, v, OC);
                            if (noise_col) prime_axpy(s->var + (size_t)tile * out + pos * OC, X->g2 + r * OC, v * v, OC);
                        }
                        s->active[(size_t)tile * npos + pos] = 1;
                        drives += 1;
                    }
                }
            }
    return drives;
}

/* conv_scatter's body for stride S: inlined with S = 1 as a constant, so the
 * offset tests and divisions fold away. */
static inline __attribute__((always_inline)) long conv_scatter_s(const prime_xbar *X, prime_xscratch *s,
                                                                 const float *x, int noise_col, const int S) {
    const int OC = X->cols, OH = X->out_h, OW = X->out_w;
    const int IC = X->in_c, IH = X->in_h, IW = X->in_w, K = X->k, P = X->pad;
    float *var = noise_col ? s->var : NULL;
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
                        prime_axpy2(s->acc + o, X->wt + r, v, var ? var + o : NULL, X->g2 + r, v2, OC);
                        s->active[pos] = 1;
                        drives++;
                    }
                }
            }
        }
    return drives;
}

/* Fast conv scatter for sparse inputs on one row tile: the reference's loop
 * (same order, identical bits) without its per-offset tests. acc/var/active
 * zero on entry. Returns the rows driven. */
PRIME_NOINLINE static double conv_scatter(const prime_xbar *X, prime_xscratch *s, const float *x, int noise_col) {
    if (X->stride == 1) return (double)conv_scatter_s(X, s, x, noise_col, 1);
    return (double)conv_scatter_s(X, s, x, noise_col, X->stride);
}

/* Lists the non-zero channels of each of npix input pixels (branch-free):
 * pixcnt[p], row offsets c*stride and (unless ones) values and squares at
 * p*IC. Returns the number listed. */
static inline __attribute__((always_inline)) size_t compact(prime_xscratch *s, const float *x, int npix, int IC, int stride, int ones, int squares) {
    size_t tot = 0;
    for (int p = 0; p < npix; p++) {
        const float *xp = x + (size_t)p * IC;
        int32_t *po = s->pixoff + (size_t)p * IC;
        float *pv1 = s->pixval + (size_t)p * IC, *pv2 = s->pixval2 + (size_t)p * IC;
        int n = 0;
        if (ones)
            for (int c = 0; c < IC; c++) po[n] = c * stride, n += xp[c] != 0.0f;
        else if (squares)
            for (int c = 0; c < IC; c++) {
                float v = xp[c];
                po[n] = c * stride, pv1[n] = v, pv2[n] = v * v;
                n += v != 0.0f;
            }
        else
            for (int c = 0; c < IC; c++) po[n] = c * stride, pv1[n] = xp[c], n += xp[c] != 0.0f;
        s->pixcnt[p] = n;
        tot += (size_t)n;
    }
    return tot;
}

/* acc (and var with noise) of n active rows, offsets off, values val and
 * squares val2 (ignored when ones), into the layer's columns. */
static void accumulate(const prime_xbar *X, float *acc, float *var, const int32_t *off, const float *val,
                       const float *val2, int n, int ones, int noise) {
    if (ones) {
        prime_kernel_gather1(acc, X->wt, off, n, X->cols);
        if (noise) prime_kernel_gather1(var, X->g2, off, n, X->cols);
    } else {
        prime_kernel_gather(acc, X->wt, off, val, n, X->cols);
        if (noise) prime_kernel_gather(var, X->g2, off, val2, n, X->cols);
    }
}

/* Fast conv accumulation on one row tile: each input pixel lists its
 * non-zero channels (compact); each output position collects the lists of the pixels
 * under its kernel in the order the scatter meets them ((ky, kx), then
 * channels) and gathers them in registers. Writes acc/var/active of the
 * active reads only. Returns the rows driven. */
static inline __attribute__((always_inline)) double conv_gather_t(const prime_xbar *X, prime_xscratch *s,
                                                                   const float *x, int noise, const int ones) {
    const int OC = X->cols, OH = X->out_h, OW = X->out_w;
    const int IC = X->in_c, IH = X->in_h, IW = X->in_w, K = X->k, S = X->stride, P = X->pad;
    int32_t *off = s->rowoff;
    float *val = s->rowval, *val2 = s->rowval2;
    if (!ones) compact(s, x, IH * IW, IC, K * K * OC, 0, noise); /* spikes: listed by prime_xbar_read */
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
                    const int p = prow + kx, m = s->pixcnt[p], base = (ky * K + kx) * OC;
                    const int32_t *po = s->pixoff + (size_t)p * IC;
                    const float *pv1 = s->pixval + (size_t)p * IC, *pv2 = s->pixval2 + (size_t)p * IC;
                    if (ones)
                        for (int q = 0; q < m; q++) off[n + q] = base + po[q];
                    else
                        for (int q = 0; q < m; q++) off[n + q] = base + po[q], val[n + q] = pv1[q];
                    if (!ones && noise)
                        for (int q = 0; q < m; q++) val2[n + q] = pv2[q];
                    n += m;
                }
            }
            if (!n) continue;
            s->active[pos] = 1;
            drives += n;
            accumulate(X, s->acc + pos * OC, s->var + pos * OC, off, val, val2, n, ones, noise);
        }
    }
    return drives;
}

/* conv_gather_t with `ones` a constant (two loops, no test per row). */
PRIME_NOINLINE static double conv_gather(const prime_xbar *X, prime_xscratch *s, const float *x, int ones, int noise) {
    return ones ? conv_gather_t(X, s, x, noise, 1) : conv_gather_t(X, s, x, noise, 0);
}

/* Fast tconv accumulation on one row tile, by the gather list X->gat: per
 * output position its (input pixel, tap) pairs in the scatter's order.
 * Returns the rows driven. */
static inline __attribute__((always_inline)) double tconv_gather_t(const prime_xbar *X, prime_xscratch *s,
                                                                    const float *x, int noise, const int ones) {
    const int OC = X->cols, IC = X->in_c, KK = X->k * X->k;
    const int npix = X->in_h * X->in_w, npos = X->out_h * X->out_w;
    if (!compact(s, x, npix, IC, KK * OC, ones, 1)) return 0; /* no input: nothing is read */
    const int *start = X->gat, *pair = X->gat + npos + 1;
    int32_t *off = s->rowoff;
    float *val = s->rowval, *val2 = s->rowval2;
    double drives = 0;
    for (int pos = 0; pos < npos; pos++) {
        int n = 0;
        for (int e = start[pos]; e < start[pos + 1]; e++) {
            const int p = pair[2 * e], base = pair[2 * e + 1] * OC, m = s->pixcnt[p];
            const int32_t *po = s->pixoff + (size_t)p * IC;
            const float *pv1 = s->pixval + (size_t)p * IC, *pv2 = s->pixval2 + (size_t)p * IC;
            if (ones)
                for (int q = 0; q < m; q++) off[n + q] = base + po[q];
            else
                for (int q = 0; q < m; q++) off[n + q] = base + po[q], val[n + q] = pv1[q], val2[n + q] = pv2[q];
            n += m;
        }
        if (!n) continue;
        accumulate(X, s->acc + (size_t)pos * OC, s->var + (size_t)pos * OC, off, val, val2, n, ones, noise);
        s->active[pos] = 1;
        drives += n;
    }
    return drives;
}

/* tconv_gather_t with `ones` a constant. */
PRIME_NOINLINE static double tconv_gather(const prime_xbar *X, prime_xscratch *s, const float *x, int ones, int noise) {
    return ones ? tconv_gather_t(X, s, x, noise, 1) : tconv_gather_t(X, s, x, noise, 0);
}

/* fc_gather's row walk, inlined with chw a constant: the active rows of each
 * row tile (at most 64) in the scatter's order (the HWC walk of the input). */
static inline __attribute__((always_inline)) void fc_rows(const prime_xbar *X, prime_xscratch *s, const float *x,
                                                          int *cnt, const int chw) {
    const int OC = X->cols, IC = X->in_c, IH = X->in_h, IW = X->in_w;
    for (int h = 0; h < IH; h++)
        for (int ww = 0; ww < IW; ww++)
            for (int ic = 0; ic < IC; ic++) {
                float v = x[((size_t)h * IW + ww) * IC + ic];
                if (v == 0.0f) continue;
                int r = chw ? (ic * IH + h) * IW + ww : (h * IW + ww) * IC + ic, tile = r / PRIME_ARRAY_SIZE;
                int k = tile * PRIME_ARRAY_SIZE + cnt[tile]++;
                s->rowoff[k] = r * OC, s->rowval[k] = v;
            }
}

/* Fast FC accumulation: per row tile (at most 64), the active rows in the
 * scatter's order, gathered in registers. Returns the rows driven. */
PRIME_NOINLINE static double fc_gather(const prime_xbar *X, prime_xscratch *s, const float *x, int ones, int noise) {
    const int OC = X->cols, RT = X->row_tiles;
    int cnt[64] = {0};
    int32_t *off = s->rowoff;
    float *val = s->rowval, *val2 = s->rowval2;
    if (X->fc_chw) fc_rows(X, s, x, cnt, 1);
    else fc_rows(X, s, x, cnt, 0);
    double drives = 0;
    for (int tile = 0; tile < RT; tile++) {
        int n = cnt[tile], b = tile * PRIME_ARRAY_SIZE;
        if (!n) continue;
        s->active[tile] = 1;
        drives += n;
        if (noise && !ones)
            for (int k = b; k < b + n; k++) val2[k] = val[k] * val[k];
        accumulate(X, s->acc + (size_t)tile * OC, s->var + (size_t)tile * OC, off + b, val + b, val2 + b, n, ones,
                   noise);
    }
    return drives;
}

/* A one-column, stride-1 transposed conv with K = 2*pad + 1 (an output
 * layer): its input is dense (most decoder neurons spike), so it is read
 * dense, PV_W output positions per vector, every lane adding its rows in the
 * scatter's order (inputs ascending, then channels). A row whose input is 0
 * adds +-0, which leaves a sum that started at +0 unchanged (a sum of finite
 * floats from +0 is never -0): the same bits as the event-driven reference.
 * Counts the rows driven per position as the reference does. */
PRIME_NOINLINE static double tconv_dense(const prime_xbar *X, prime_xscratch *s, const float *x, int noise) {
    const int IC = X->in_c, H = X->in_h, W = X->in_w, K = X->k, P = X->pad, KK = K * K;
    const int PW = W + 2 * P, plane = (H + 2 * P) * PW;
    float *xp = s->xpad;
    memset(xp, 0, sizeof(float) * (size_t)IC * plane);
    for (int p = 0; p < H * W; p++) { /* HWC -> zero-padded CHW, and the non-zero inputs per pixel */
        const float *xi = x + (size_t)p * IC;
        float *o = xp + (size_t)(p / W + P) * PW + p % W + P;
        int n = 0;
        for (int c = 0; c < IC; c++) o[(size_t)c * plane] = xi[c], n += xi[c] != 0.0f;
        s->pixcnt[p] = n;
    }
    const int *start = X->gat, *pair = X->gat + H * W + 1;
    double drives = 0;
    for (int pos = 0; pos < H * W; pos++) {
        int n = 0;
        for (int e = start[pos]; e < start[pos + 1]; e++) n += s->pixcnt[pair[2 * e]];
        s->active[pos] = n > 0;
        drives += n;
    }
    for (int oy = 0; oy < H; oy++) {
        int ox = 0;
#ifndef PRIME_SCALAR
        for (; ox + PV_W <= W; ox += PV_W) {
            pv a = pv_set1(0.0f), a2 = a;
            for (int ky = K - 1; ky >= 0; ky--) /* input row oy + P - ky ascending */
                for (int kx = K - 1; kx >= 0; kx--) {
                    const float *xr = xp + (size_t)(oy + 2 * P - ky) * PW + ox + 2 * P - kx;
                    const float *w = X->wt + ky * K + kx, *g2 = X->g2 + ky * K + kx;
                    for (int c = 0; c < IC; c++) {
                        pv xv = pv_load(xr + (size_t)c * plane);
                        a = pv_add(a, pv_mul(xv, pv_set1(w[c * KK])));
                        if (noise) a2 = pv_add(a2, pv_mul(pv_mul(xv, xv), pv_set1(g2[c * KK])));
                    }
                }
            pv_store(s->acc + oy * W + ox, a), pv_store(s->var + oy * W + ox, a2);
        }
#endif
        for (; ox < W; ox++) {
            float a = 0.0f, a2 = 0.0f;
            for (int ky = K - 1; ky >= 0; ky--)
                for (int kx = K - 1; kx >= 0; kx--) {
                    const float *xr = xp + (size_t)(oy + 2 * P - ky) * PW + ox + 2 * P - kx;
                    const float *w = X->wt + ky * K + kx, *g2 = X->g2 + ky * K + kx;
                    for (int c = 0; c < IC; c++) {
                        float xv = xr[(size_t)c * plane];
                        a = a + xv * w[c * KK];
                        if (noise) a2 = a2 + xv * xv * g2[c * KK];
                    }
                }
            s->acc[oy * W + ox] = a, s->var[oy * W + ox] = a2;
        }
    }
    return drives;
}

/* The readout with converter effects: per active read and column, the
 * column noise (the same normals as the fast path), then prime_fx_adc with
 * the column's converter of the tile (device_fx.h), clipped ones counted. */
static void readout_fx(const prime_xbar *X, prime_xscratch *s, const prime_devfx_params *fx, float *cur, int noise_col,
                       float eta, uint64_t nbase, float fs, int bits, double *reads, double *conversions, double *clipped) {
    const int OC = X->cols, RT = X->row_tiles;
    const size_t npos = xb_npos(X), out = npos * OC;
    const prime_conv_unit ideal_unit = {0.0f, 1.0f};
    for (int tile = 0; tile < RT; tile++) {
        const float *a = s->acc + (size_t)tile * out, *vr = s->var + (size_t)tile * out;
        const prime_conv_unit *u = X->adc_unit ? X->adc_unit + (size_t)tile * OC : NULL;
        for (size_t pos = 0; pos < npos; pos++) {
            if (!s->active[(size_t)tile * npos + pos]) continue;
            *reads += 1, *conversions += OC;
            const size_t o0 = pos * OC;
            if (noise_col) prime_dev_normals(s->zbuf, nbase, (uint64_t)tile * out + o0, OC);
            for (int j = 0; j < OC; j++) {
                float v = a[o0 + j];
                if (noise_col) v = v + prime_fx_noise_column(eta, vr[o0 + j], s->zbuf[j]);
                v = prime_fx_adc(&fx->adc, u ? u[j] : ideal_unit, v, fs, bits, clipped);
                cur[o0 + j] = cur[o0 + j] + v;
            }
        }
    }
}

/* ============================================================ the read */

/* Reads layer X for one timestep (see prime_crossbar.h). */
PRIME_NOINLINE void prime_xbar_read(const prime_xbar *X, prime_xscratch *s, const prime_device *d,
                                    const prime_xread *rd, const float *x, float *cur, prime_counters *k) {
    const int OC = X->cols, RT = X->row_tiles;
    const size_t npos = xb_npos(X), out = npos * OC;
    /* the read-noise model: its gain (eta = read_noise for conductance and
     * weight); its per-column coefficient is X->g2, fixed at programming */
    const prime_devfx_params *fx = rd->ideal ? NULL : X->fx;
    const float eta = !fx || fx->read.model <= PRIME_NM_WEIGHT ? d->read_noise : prime_fx_noise_gain(&fx->read);
    const int noisy = !rd->ideal && eta > 0;
    const int noise_col = noisy && d->noise_mode == PRIME_NOISE_COLUMN;
    const int noise_cell = noisy && d->noise_mode == PRIME_NOISE_CELL;
    const uint64_t nstream = prime_mix64(((uint64_t)rd->inference << 24) ^ ((uint64_t)rd->t << 8) ^ (uint64_t)rd->key);
    const uint64_t nbase = prime_mix64(rd->noise_seed ^ prime_mix64(nstream ^ 0x5bd1e995u));
    const int ref = prime_reference_kernels();
    memset(s->active, 0, npos * RT);
    double drives;
    enum { SCATTER, CONV_SCATTER, CONV_GATHER, TCONV_GATHER, TCONV_DENSE, FC_GATHER } path = SCATTER;
    if (!ref && !noise_cell) {
        if (X->op == PRIME_XB_FC && RT <= 64) path = FC_GATHER;
        else if (X->op == PRIME_XB_CONV && RT == 1) {
            /* Scatter pays a load and a store more per active (row, column),
             * gather a visit per (position, kernel pixel): measured cost
             * model, both give identical bits. For spikes the gather's
             * lists of the non-zero inputs (as cheap) give the count. */
            size_t nz = 0;
            if (rd->ones) nz = compact(s, x, X->in_h * X->in_w, X->in_c, X->k * X->k * OC, 1, 0);
            else
                for (size_t i = 0, nin = (size_t)X->in_c * X->in_h * X->in_w; i < nin; i++) nz += x[i] != 0.0f;
            path = nz * (size_t)(OC / 2 + 2) >= 4 * npos ? CONV_GATHER : CONV_SCATTER;
        } else if (X->op == PRIME_XB_TCONV && RT == 1 && X->gat) {
            path = OC == 1 && X->stride == 1 && X->k == 2 * X->pad + 1 ? TCONV_DENSE : TCONV_GATHER;
        }
    }
    if (path == SCATTER || path == CONV_SCATTER) {
        memset(s->acc, 0, sizeof(float) * out * RT);
        if (noise_col) memset(s->var, 0, sizeof(float) * out * RT);
    }
    switch (path) {
    case FC_GATHER: drives = fc_gather(X, s, x, rd->ones, noise_col); break;
    case CONV_GATHER: drives = conv_gather(X, s, x, rd->ones, noise_col); break;
    case TCONV_GATHER: drives = tconv_gather(X, s, x, rd->ones, noise_col); break;
    case TCONV_DENSE: drives = tconv_dense(X, s, x, noise_col); break;
    case CONV_SCATTER: drives = conv_scatter(X, s, x, noise_col); break;
    default: {
        prime_noise_params rp = {.model = PRIME_NM_CONDUCTANCE}; /* the per-cell form of the read model */
        if (fx) rp = fx->read;
        if (rp.model <= PRIME_NM_WEIGHT) rp.eta = d->read_noise;
        drives = scatter(X, s, &rp, rd, x, nstream, noise_col, noise_cell);
        break;
    }
    }

    /* noise, ADC per tile, digital sum over tiles */
    memset(cur, 0, sizeof(float) * out);
    double conversions = 0, reads = 0;
    const float fs = d->adc_fs * X->colmax * rd->xmax;
    const int bits = rd->ideal ? 0 : d->adc_bits;
    /* converters with non-idealities, or a range that may clip: one
     * prime_fx_adc per conversion, the clipped ones counted */
    const int adc_fx = bits && fx && (X->adc_unit || d->adc_fs < 1.0f);
    if (noise_col) prime_dev_normal_init();
    if (adc_fx) {
        readout_fx(X, s, fx, cur, noise_col, eta, nbase, fs, bits, &reads, &conversions, &k->adc_clipped);
    } else {
        for (int tile = 0; tile < RT; tile++) {
            const float *a = s->acc + (size_t)tile * out, *vr = s->var + (size_t)tile * out;
            for (size_t pos = 0; pos < npos; pos++) {
                if (!s->active[(size_t)tile * npos + pos]) continue;
                reads += 1;
                conversions += OC;
                const size_t o0 = pos * OC;
                const uint64_t ctr0 = (uint64_t)tile * out + o0; /* noise counter of column 0 */
                if (!ref) {
                    if (noise_col) prime_dev_normals(s->zbuf, nbase, ctr0, OC);
                    prime_kernel_readout(cur + o0, a + o0, vr + o0, noise_col ? s->zbuf : NULL, OC, eta, fs, bits);
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
    }
    k->dac_drives += drives;
    k->cell_reads += drives * 2 * OC;
    k->adc_conversions += conversions;
    k->vmm_reads += reads;
    k->macs_dense += X->dense_macs;
}
