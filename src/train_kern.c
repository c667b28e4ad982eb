/* train_kern.c - the layer kernels of the mask trainer (src/train.c), declared in
 * train.h: conv, avgpool and fc forward/backward pairs with their plain
 * references, and the hidden LIF step and its BPTT step. Activations HWC
 * (channel fastest), weights [row][col] as in prime.h.
 *
 * Every sum runs in a fixed order, the one of a scatter from each non-zero
 * input (spikes and events are sparse): the fast kernels (register-held rows,
 * gathers) add the same terms in that same order, one multiply-then-add at a
 * time, so results do not depend on SIMD width, build or thread count
 * (tests/c/test_train.c checks them bit for bit against a float scatter).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "train.h"
#include "simd.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"

#define PRIME_TR_MAXTERMS 256  /* terms of one tr_rows call (longer sums are split) */
#define PRIME_TR_GATHER_MIN 32 /* conv layers with fewer output channels scatter */
#define PRIME_TR_GATHER_MAXHW 4096 /* dw gather: input planes up to this many pixels */
#define PRIME_TR_GATHER_MAXIN 8192 /* forward gather: inputs up to this many values */
/* ================================================================ kernels */

/* y[0..n) += a * x[0..n), element-wise (multiply, then add: the same
 * rounding in every build). With AVX the compiler's own vectorization of the
 * plain loop is wider; otherwise (the -O2 library build) simd.h vectors. */
static inline void axpy(float *restrict y, const float *restrict x, float a, int n) {
    int i = 0;
#if !defined(PRIME_SCALAR) && !defined(__AVX__)
    pv va = pv_set1(a);
    for (; i + PV_W <= n; i += PV_W)
        pv_store(y + i, pv_add(pv_load(y + i), pv_mul(va, pv_load(x + i))));
#endif
    for (; i < n; i++) y[i] += a * x[i];
}

/* ---------------------------------------------------------------- row sums */
/* y[i] += a[j] * p[j][off + i] for i in [0, n), terms j = 0 .. m-1 in order.
 * Per element this is the multiply-then-add sequence of m axpy calls (so the
 * same bits), but a block of y stays in registers over all m terms: one load
 * of x per multiply-add instead of load y, load x, store y. The block is 8
 * vectors wide; on x86-64 an AVX2 copy (8 lanes, same IEEE operations) is
 * picked at run time. Vectors are GCC/clang vector extensions (element-wise
 * only, like simd.h); -DPRIME_NO_SIMD keeps the scalar loop. */
#define TR_V8(OP) OP(0) OP(1) OP(2) OP(3) OP(4) OP(5) OP(6) OP(7)
#define TR_LD(q) tr_vt s##q = {0}; if (TR_NV > q) s##q = *(tr_vt *)(y + i + q * TR_VW);
#define TR_MA(q) if (TR_NV > q) s##q += aj * *(const tr_vt *)(x + q * TR_VW);
#define TR_ST(q) if (TR_NV > q) *(tr_vt *)(y + i + q * TR_VW) = s##q;
/* one block of NV vectors (NV <= 8: 16 registers hold 8 sums, the factor, a product) */
#define TR_BLOCK(NV)                                                                  \
    {                                                                                 \
        enum { TR_NV = NV };                                                          \
        TR_V8(TR_LD)                                                                  \
        for (int j = 0; j < m; j++) {                                                 \
            const float *x = p[j] + off + i;                                          \
            tr_vt aj = (tr_vt){0} + a[j];                                             \
            TR_V8(TR_MA)                                                              \
        }                                                                             \
        TR_V8(TR_ST)                                                                  \
        i += NV * TR_VW;                                                              \
    }
/* blocks of 8 vectors, one block of the 1..7 vectors left, then HT-wide half
 * vectors (if HW > 0), then scalars */
#define TR_ROWS_BODY(VT, VW, HT, HW)                                                  \
    typedef VT tr_vt;                                                                 \
    enum { TR_VW = VW };                                                              \
    int i = 0;                                                                        \
    while (i + 8 * TR_VW <= n) TR_BLOCK(8)                                            \
    switch ((n - i) / TR_VW) {                                                        \
    case 7: TR_BLOCK(7) break;                                                        \
    case 6: TR_BLOCK(6) break;                                                        \
    case 5: TR_BLOCK(5) break;                                                        \
    case 4: TR_BLOCK(4) break;                                                        \
    case 3: TR_BLOCK(3) break;                                                        \
    case 2: TR_BLOCK(2) break;                                                        \
    case 1: TR_BLOCK(1) break;                                                        \
    default: break;                                                                   \
    }                                                                                 \
    if (HW > 0) for (; i + (HW) <= n; i += (HW)) {                                    \
        HT s0 = *(HT *)(y + i);                                                       \
        for (int j = 0; j < m; j++) s0 += ((HT){0} + a[j]) * *(const HT *)(p[j] + off + i); \
        *(HT *)(y + i) = s0;                                                          \
    }                                                                                 \
    for (; i < n; i++) {                                                              \
        float s = y[i];                                                               \
        for (int j = 0; j < m; j++) s += a[j] * p[j][off + i];                        \
        y[i] = s;                                                                     \
    }

#if defined(PRIME_NO_SIMD) || !(defined(__GNUC__) || defined(__clang__))
static void tr_rows(float *restrict y, int n, const float *restrict a,
                    const float *const *restrict p, size_t off, int m) {
    for (int i = 0; i < n; i++) {
        float s = y[i];
        for (int j = 0; j < m; j++) s += a[j] * p[j][off + i];
        y[i] = s;
    }
}
#else
typedef float tr_v4 __attribute__((vector_size(16), aligned(4), may_alias));
static void tr_rows_v4(float *restrict y, int n, const float *restrict a,
                       const float *const *restrict p, size_t off, int m) {
    TR_ROWS_BODY(tr_v4, 4, tr_v4, 0)
}
#if defined(__x86_64__)
typedef float tr_v8 __attribute__((vector_size(32), aligned(4), may_alias));
__attribute__((target("avx2"))) static void tr_rows_v8(float *restrict y, int n,
                                                       const float *restrict a,
                                                       const float *const *restrict p,
                                                       size_t off, int m) {
    TR_ROWS_BODY(tr_v8, 8, tr_v4, 4)
}
#endif
static void tr_rows(float *restrict y, int n, const float *restrict a,
                    const float *const *restrict p, size_t off, int m) {
#if defined(__x86_64__)
    static int avx2 = -1; /* benign race: every thread stores the same value */
    if (avx2 < 0) avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    if (avx2) { tr_rows_v8(y, n, a, p, off, m); return; }
#endif
    tr_rows_v4(y, n, a, p, off, m);
}
#endif

/* Element-wise kernels get an AVX2 copy too (picked by the loader: same IEEE
 * operations on 8 lanes instead of 4, so the same bits). */
#if defined(__x86_64__) && !defined(PRIME_NO_SIMD) && (defined(__GNUC__) || defined(__clang__))
#define TR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TR_CLONES
#endif

/* ---------------------------------------------------------------- conv2d */
/* Narrow layers (OC < PRIME_TR_GATHER_MIN, conv1's 12 channels) scatter from
 * each non-zero input with axpy: a row of OC floats is too short to pay for
 * gathering its terms. out must be zero. */
static void conv_forward_scatter(float *out, const float *in, const float *w, int H, int W,
                                 int C, int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                float v = in[(y * W + x) * C + c];
                if (v == 0.0f) continue;
                for (int ky = 0; ky < k; ky++) {
                    int oy = y + pad - ky;
                    if (oy < 0 || oy >= OH) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ox = x + pad - kx;
                        if (ox < 0 || ox >= OW) continue;
                        axpy(out + ((size_t)oy * OW + ox) * OC,
                             w + (size_t)((c * k + ky) * k + kx) * OC, v, OC);
                    }
                }
            }
}

/* dw += in x gout by scatter from each non-zero input (narrow layers). */
static void conv_dw_scatter(float *dw, const float *gout, const float *in, int H, int W,
                            int C, int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                float v = in[(y * W + x) * C + c];
                if (v == 0.0f) continue;
                for (int ky = 0; ky < k; ky++) {
                    int oy = y + pad - ky;
                    if (oy < 0 || oy >= OH) continue;
                    for (int kx = 0; kx < k; kx++) {
                        int ox = x + pad - kx;
                        if (ox < 0 || ox >= OW) continue;
                        axpy(dw + (size_t)((c * k + ky) * k + kx) * OC,
                             gout + ((size_t)oy * OW + ox) * OC, v, OC);
                    }
                }
            }
}

/* dw += in x gout, each dw row gathering the non-zero inputs of its channel
 * (listed once per channel, raster order) into one tr_rows call. */
static void conv_dw_gather(float *dw, const float *gout, const float *in, int H, int W,
                           int C, int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    float a[PRIME_TR_MAXTERMS], nv[PRIME_TR_GATHER_MAXHW];
    const float *p[PRIME_TR_MAXTERMS];
    short ny[PRIME_TR_GATHER_MAXHW], nx[PRIME_TR_GATHER_MAXHW];
    for (int c = 0; c < C; c++) {
        int nz = 0;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                float v = in[((size_t)y * W + x) * C + c];
                if (v != 0.0f) { nv[nz] = v; ny[nz] = (short)y; nx[nz++] = (short)x; }
            }
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                float *row = dw + (size_t)((c * k + ky) * k + kx) * OC;
                int m = 0;
                for (int e = 0; e < nz; e++) {
                    int oy = ny[e] + pad - ky, ox = nx[e] + pad - kx;
                    if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                    a[m] = nv[e];
                    p[m++] = gout + ((size_t)oy * OW + ox) * OC;
                    if (m == PRIME_TR_MAXTERMS) { tr_rows(row, OC, a, p, 0, m); m = 0; }
                }
                tr_rows(row, OC, a, p, 0, m);
            }
    }
}

/* in [H][W][C], w [(ic*k+ky)*k+kx][OC], out [OH][OW][OC], OH = H + 2 pad - k + 1.
 * Fast version: each output row gathers its non-zero inputs (spikes and events
 * are sparse, zero inputs cost nothing) in input raster order (y, x, c), the
 * order in which a scatter from each input would add them: the same bits as
 * the scatter, with the output row held in registers (tr_rows). */
void prime_tr_conv_forward(float *out, const float *in, const float *w, int H, int W,
                      int C, int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    memset(out, 0, sizeof(float) * (size_t)OH * OW * OC);
    if (OC < PRIME_TR_GATHER_MIN || H * W * C > PRIME_TR_GATHER_MAXIN) {
        conv_forward_scatter(out, in, w, H, W, C, OC, k, pad);
        return;
    }
    /* the non-zero channels of every input pixel, listed once */
    short nzn[PRIME_TR_GATHER_MAXIN], nzc[PRIME_TR_GATHER_MAXIN];
    for (int q = 0; q < H * W; q++) {
        int cnt = 0;
        for (int c = 0; c < C; c++)
            if (in[(size_t)q * C + c] != 0.0f) nzc[q * C + cnt++] = (short)c;
        nzn[q] = (short)cnt;
    }
    float a[PRIME_TR_MAXTERMS];
    const float *p[PRIME_TR_MAXTERMS];
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            float *o = out + ((size_t)oy * OW + ox) * OC;
            int m = 0;
            for (int ky = 0; ky < k; ky++) {
                int y = oy - pad + ky;
                if (y < 0 || y >= H) continue;
                for (int kx = 0; kx < k; kx++) {
                    int x = ox - pad + kx, q = y * W + x;
                    if (x < 0 || x >= W) continue;
                    for (int e = 0; e < nzn[q]; e++) {
                        int c = nzc[q * C + e];
                        a[m] = in[(size_t)q * C + c];
                        p[m++] = w + (size_t)((c * k + ky) * k + kx) * OC;
                        if (m == PRIME_TR_MAXTERMS) { tr_rows(o, OC, a, p, 0, m); m = 0; }
                    }
                }
            }
            tr_rows(o, OC, a, p, 0, m);
        }
}

/* Reference: the textbook gather, one output at a time. */
void prime_tr_conv_forward_ref(float *out, const float *in, const float *w, int H,
                          int W, int C, int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int oc = 0; oc < OC; oc++) {
                double s = 0;
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int y = oy - pad + ky, x = ox - pad + kx;
                            if (y < 0 || y >= H || x < 0 || x >= W) continue;
                            s += (double)in[(y * W + x) * C + c] *
                                 w[(size_t)((c * k + ky) * k + kx) * OC + oc];
                        }
                out[((size_t)oy * OW + ox) * OC + oc] = (float)s;
            }
}

/* wt[oc][ky][kx][ic] = w[(ic*k+ky)*k+kx][oc], so din rows are contiguous. */
void prime_tr_conv_transpose(float *wt, const float *w, int C, int OC, int k) {
    for (int oc = 0; oc < OC; oc++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int c = 0; c < C; c++)
                    wt[((size_t)(oc * k + ky) * k + kx) * C + c] =
                        w[(size_t)((c * k + ky) * k + kx) * OC + oc];
}

/* gout [OH][OW][OC]: dw += sum over positions of in x gout, each dw row
 * gathering the non-zero inputs of its channel in raster order (the order of a
 * scatter from each input: same bits); din [H][W][C] = sum of gout * w in
 * (oy, ox, oc) order, skipping zero gout, one register-held din row segment per
 * (position, ky) over all output channels. */
void prime_tr_conv_backward(float *dw, float *din, const float *gout, const float *in,
                       const float *wt, int H, int W, int C, int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    if (OC < PRIME_TR_GATHER_MIN || H * W > PRIME_TR_GATHER_MAXHW)
        conv_dw_scatter(dw, gout, in, H, W, C, OC, k, pad);
    else
        conv_dw_gather(dw, gout, in, H, W, C, OC, k, pad);
    float a[PRIME_TR_MAXTERMS];
    const float *p[PRIME_TR_MAXTERMS];
    if (!din) return;
    memset(din, 0, sizeof(float) * (size_t)H * W * C);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            const float *g = gout + ((size_t)oy * OW + ox) * OC;
            int kx0 = pad - ox > 0 ? pad - ox : 0;
            int kx1 = W + pad - ox < k ? W + pad - ox : k;
            if (kx1 <= kx0) continue;
            for (int oc0 = 0; oc0 < OC; oc0 += PRIME_TR_MAXTERMS) {
                int m = 0;
                for (int oc = oc0; oc < OC && oc < oc0 + PRIME_TR_MAXTERMS; oc++) {
                    if (g[oc] == 0.0f) continue;
                    a[m] = g[oc];
                    p[m++] = wt + ((size_t)oc * k * k + kx0) * C;
                }
                if (m == 0) continue;
                for (int ky = 0; ky < k; ky++) {
                    int y = oy - pad + ky;
                    if (y < 0 || y >= H) continue;
                    tr_rows(din + ((size_t)y * W + (ox - pad + kx0)) * C, (kx1 - kx0) * C, a, p,
                            (size_t)ky * k * C, m);
                }
            }
        }
}

/* Reference backward: plain loops over every (position, weight). */
void prime_tr_conv_backward_ref(float *dw, float *din, const float *gout,
                           const float *in, const float *w, int H, int W, int C,
                           int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    if (din) memset(din, 0, sizeof(float) * (size_t)H * W * C);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int c = 0; c < C; c++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int y = oy - pad + ky, x = ox - pad + kx;
                        if (y < 0 || y >= H || x < 0 || x >= W) continue;
                        size_t r = (size_t)((c * k + ky) * k + kx) * OC;
                        for (int oc = 0; oc < OC; oc++) {
                            float g = gout[((size_t)oy * OW + ox) * OC + oc];
                            dw[r + oc] += in[(y * W + x) * C + c] * g;
                            if (din) din[(y * W + x) * C + c] += w[r + oc] * g;
                        }
                    }
}

/* ---------------------------------------------------------------- avgpool */
/* in [H][W][C] -> out [H/k][W/k][C], mean of each k x k window. */
void prime_tr_pool_forward(float *out, const float *in, int H, int W, int C, int k) {
    int OH = H / k, OW = W / k;
    float inv = 1.0f / (float)(k * k);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            float *o = out + ((size_t)oy * OW + ox) * C;
            for (int c = 0; c < C; c++) o[c] = 0;
            for (int dy = 0; dy < k; dy++)
                for (int dx = 0; dx < k; dx++)
                    axpy(o, in + ((size_t)(oy * k + dy) * W + ox * k + dx) * C, 1.0f, C);
            for (int c = 0; c < C; c++) o[c] *= inv;
        }
}

/* din [H][W][C] = gout [H/k][W/k][C] / k^2 spread over each window. */
void prime_tr_pool_backward(float *din, const float *gout, int H, int W, int C, int k) {
    int OH = H / k, OW = W / k;
    float inv = 1.0f / (float)(k * k);
    memset(din, 0, sizeof(float) * (size_t)H * W * C);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int dy = 0; dy < k; dy++)
                for (int dx = 0; dx < k; dx++)
                    axpy(din + ((size_t)(oy * k + dy) * W + ox * k + dx) * C,
                         gout + ((size_t)oy * OW + ox) * C, inv, C);
}

/* ---------------------------------------------------------------- fc */
/* in [N], w [N][M], out [M] = in . w (rows with zero input skipped). */
void prime_tr_fc_forward(float *out, const float *in, const float *w, int N, int M) {
    for (int m = 0; m < M; m++) out[m] = 0;
    for (int i = 0; i < N; i++)
        if (in[i] != 0.0f) axpy(out, w + (size_t)i * M, in[i], M);
}

/* dw [N][M] += in x gout; din [N] = w . gout (overwritten, may be NULL). */
void prime_tr_fc_backward(float *dw, float *din, const float *gout, const float *in,
                     const float *w, int N, int M) {
    for (int i = 0; i < N; i++) {
        if (in[i] != 0.0f) axpy(dw + (size_t)i * M, gout, in[i], M);
        if (din) {
            float s = 0;
            for (int m = 0; m < M; m++) s += w[(size_t)i * M + m] * gout[m];
            din[i] = s;
        }
    }
}

/* ---------------------------------------------------------------- LIF */
/* One step, n cells: a = U(1-s); b = a(1-decay); c = b + I; U = lrelu(c);
 * s = U > th (smooth: clamp(U - th + 0.5, 0, 1)). */
void prime_tr_lif_forward(float *U, float *s, const float *I, int n, float th,
                     float decay, float leak, int smooth) {
    float keep = 1.0f - decay;
    if (smooth) {
        for (int i = 0; i < n; i++) {
            float a = U[i] * (1.0f - s[i]);
            float c = a * keep + I[i];
            float u = c > 0.0f ? c : leak * c;
            U[i] = u;
            float z = u - th + 0.5f;
            s[i] = z < 0.0f ? 0.0f : (z > 1.0f ? 1.0f : z);
        }
        return;
    }
    int i = 0;
#ifndef PRIME_SCALAR /* the same operations on PV_W lanes (simd.h), selects for the branches */
    pv vk = pv_set1(keep), vl = pv_set1(leak), vt = pv_set1(th), one = pv_set1(1.0f), zero = pv_set1(0.0f);
    for (; i + PV_W <= n; i += PV_W) {
        pv a = pv_mul(pv_load(U + i), pv_sub(one, pv_load(s + i)));
        pv c = pv_add(pv_mul(a, vk), pv_load(I + i));
        pv u = pv_select(pv_gt(c, zero), c, pv_mul(vl, c));
        pv_store(U + i, u);
        pv_store(s + i, pv_select(pv_gt(u, vt), one, zero));
    }
#endif
    for (; i < n; i++) {
        float a = U[i] * (1.0f - s[i]);
        float c = a * keep + I[i], lc = leak * c;
        float u = c > 0.0f ? c : lc;
        U[i] = u;
        s[i] = u > th ? 1.0f : 0.0f;
    }
}

/* BPTT step: from dL/ds_t (gs), dL/da_{t+1} (ga in) and U_t, gives dL/dI_t
 * (gI) and dL/da_t (ga out). s_t feeds both the next layer and the reset
 * a_{t+1} = U_t (1 - s_t), so dL/ds_t = gs - ga U_t, and
 * dL/dU_t = dL/ds_t * surrogate + ga (1 - s_t). */
void prime_tr_lif_backward(float *gI, float *ga, const float *gs, const float *U,
                      int n, float th, float decay, float leak, int smooth) {
    float keep = 1.0f - decay;
    if (smooth) {
        for (int i = 0; i < n; i++) {
            float u = U[i];
            float z = u - th + 0.5f;
            float s = z < 0.0f ? 0.0f : (z > 1.0f ? 1.0f : z);
            float d = u - th;
            float sg = (d > -0.5f && d < 0.5f) ? 1.0f : 0.0f;
            float gan = ga[i];
            float gst = gs[i] - gan * u;
            float gU = gst * sg + gan * (1.0f - s);
            float gc = gU * (u > 0.0f ? 1.0f : leak);
            gI[i] = gc;
            ga[i] = gc * keep;
        }
        return;
    }
    int i = 0;
#ifndef PRIME_SCALAR /* the same operations on PV_W lanes (simd.h), selects for the branches */
    pv vk = pv_set1(keep), vl = pv_set1(leak), vt = pv_set1(th), one = pv_set1(1.0f), zero = pv_set1(0.0f);
    pv mh = pv_set1(-0.5f), ph = pv_set1(0.5f);
    for (; i + PV_W <= n; i += PV_W) {
        pv u = pv_load(U + i);
        pv sv = pv_select(pv_gt(u, vt), one, zero);
        pv d = pv_sub(u, vt);
        pv sg = pv_select(pv_and(pv_gt(d, mh), pv_gt(ph, d)), one, zero);
        pv gan = pv_load(ga + i);
        pv gst = pv_sub(pv_load(gs + i), pv_mul(gan, u));
        pv gU = pv_add(pv_mul(gst, sg), pv_mul(gan, pv_sub(one, sv)));
        pv gc = pv_mul(gU, pv_select(pv_gt(u, zero), one, vl));
        pv_store(gI + i, gc);
        pv_store(ga + i, pv_mul(gc, vk));
    }
#endif
    for (; i < n; i++) {
        float u = U[i];
        float s = u > th ? 1.0f : 0.0f;
        float d = u - th;
        float sg = ((d > -0.5f) & (d < 0.5f)) ? 1.0f : 0.0f;
        float gan = ga[i];
        float gst = gs[i] - gan * u;
        float gU = gst * sg + gan * (1.0f - s);
        float gc = gU * (u > 0.0f ? 1.0f : leak);
        gI[i] = gc;
        ga[i] = gc * keep;
    }
}

/* ================================================================ masks */

typedef struct { float a; int i; } score_key;

static int key_cmp(const void *x, const void *y) {
    const score_key *p = x, *q = y;
    if (p->a < q->a) return -1;
    if (p->a > q->a) return 1;
    return (p->i > q->i) - (p->i < q->i);
}

int prime_tr_mask_from_scores(const float *score, size_t n, float sparsity, uint8_t *mask) {
    score_key *k = malloc(sizeof(score_key) * (n ? n : 1));
    if (!k) return prime_error("train: out of memory");
    for (size_t i = 0; i < n; i++) k[i].a = fabsf(score[i]), k[i].i = (int)i;
    qsort(k, n, sizeof *k, key_cmp);
    const size_t npr = (size_t)floor((double)sparsity * (double)n);
    for (size_t j = 0; j < n; j++) mask[k[j].i] = j < npr ? 0 : 1;
    free(k);
    return 0;
}
