/* train_vae.c - edge-popup trainer of the inpainting network (see train_vae.h).
 *
 * Choices written down (docs/inpainting.md):
 *   - LIF BPTT: the reset factor (1 - o_prev) is detached; rectangular surrogate.
 *   - Bernoulli latent: q = mean of k spikes of the posterior LIF; z ~ Bernoulli(q),
 *     straight-through (dz/dq = 1). The prior runs the same cell on z_(t-1)
 *     (detached); the KL between Bernoulli(q) and Bernoulli(p) (q, p clamped to
 *     [0.01, 0.99]) replaces FSVAE's MMD.
 *   - Masks: edge-popup, top (1 - sparsity) |score| per layer; a pruned pair
 *     keeps its off-state residual weight; dL/dscore = dL/dw * (w_on - w_off) * sign(score).
 */
#include "train_vae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime_internal.h"
#include "train.h"

/* ============================================================ kernels */

/* y = x W over F frames (forward of conv, transposed conv, fc). */
void prime_vt_lin_forward(const prime_vae_layer *g, const int *conn, size_t nconn, const float *W,
                     const float *x, float *y, int F) {
    const int OC = g->cols, IC = g->in_c, KK = g->k * g->k;
    const size_t nin = (size_t)g->in_c * g->in_h * g->in_w, nout = (size_t)g->out_c * g->out_h * g->out_w;
    for (int f = 0; f < F; f++) {
        const float *xf = x + f * nin;
        float *yf = y + f * nout;
        memset(yf, 0, nout * sizeof(float));
        if (!conn) {
            for (int r = 0; r < g->rows; r++) {
                float xv = xf[r];
                if (xv == 0.0f) continue;
                const float *w = W + (size_t)r * OC;
                for (int j = 0; j < OC; j++) yf[j] = yf[j] + xv * w[j];
            }
            continue;
        }
        for (size_t c = 0; c < nconn; c++) {
            const int *e = conn + 3 * c;
            const float *xi = xf + (size_t)e[0] * IC;
            float *a = yf + (size_t)e[1] * OC;
            for (int ic = 0; ic < IC; ic++) {
                float xv = xi[ic];
                if (xv == 0.0f) continue;
                const float *w = W + (size_t)(ic * KK + e[2]) * OC;
                for (int j = 0; j < OC; j++) a[j] = a[j] + xv * w[j];
            }
        }
    }
}

/* dW += x^T dy, dx = dy W^T (if dx). */
void prime_vt_lin_backward(const prime_vae_layer *g, const int *conn, size_t nconn, const float *W,
                      const float *x, const float *dy, float *dW, float *dx, int F) {
    const int OC = g->cols, IC = g->in_c, KK = g->k * g->k;
    const size_t nin = (size_t)g->in_c * g->in_h * g->in_w, nout = (size_t)g->out_c * g->out_h * g->out_w;
    if (dx) memset(dx, 0, (size_t)F * nin * sizeof(float));
    for (int f = 0; f < F; f++) {
        const float *xf = x + f * nin, *df = dy + f * nout;
        float *dxf = dx ? dx + f * nin : NULL;
        if (!conn) {
            for (int r = 0; r < g->rows; r++) {
                const float *w = W + (size_t)r * OC;
                float xv = xf[r];
                if (xv != 0.0f) {
                    float *gw = dW + (size_t)r * OC;
                    for (int j = 0; j < OC; j++) gw[j] += xv * df[j];
                }
                if (dxf) {
                    float s = 0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : s) /* dot product: reassociation allowed */
#endif
                    for (int j = 0; j < OC; j++) s += w[j] * df[j];
                    dxf[r] = s;
                }
            }
            continue;
        }
        for (size_t c = 0; c < nconn; c++) {
            const int *e = conn + 3 * c;
            const float *xi = xf + (size_t)e[0] * IC, *d = df + (size_t)e[1] * OC;
            for (int ic = 0; ic < IC; ic++) {
                size_t r = (size_t)(ic * KK + e[2]) * OC;
                float xv = xi[ic];
                if (xv != 0.0f) {
                    float *gw = dW + r;
                    for (int j = 0; j < OC; j++) gw[j] += xv * d[j];
                }
                if (dxf) {
                    const float *w = W + r;
                    float s = 0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : s) /* dot product: reassociation allowed */
#endif
                    for (int j = 0; j < OC; j++) s += w[j] * d[j];
                    dxf[(size_t)e[0] * IC + ic] += s;
                }
            }
        }
    }
}

#define BN_EPS 1e-5f

/* Batch norm forward with batch statistics (see train_vae.h). */
void prime_vt_bn_forward(float *y, float *out, size_t N, int n, int C, const float *gamma,
                    const float *beta, float *mean, float *invstd) {
    size_t per = N * (size_t)n / C;
    double *s = calloc(2 * (size_t)C, sizeof(double));
    if (!s) return;
    for (size_t i = 0; i < N * (size_t)n; i++) s[i % C] += y[i];
    for (int c = 0; c < C; c++) mean[c] = (float)(s[c] / per);
    for (size_t i = 0; i < N * (size_t)n; i++) { double d = y[i] - mean[i % C]; s[C + i % C] += d * d; }
    for (int c = 0; c < C; c++) invstd[c] = (float)(1.0 / sqrt(s[C + c] / per + BN_EPS));
    for (size_t i = 0; i < N * (size_t)n; i++) {
        int c = (int)(i % C);
        float xh = (y[i] - mean[c]) * invstd[c];
        y[i] = xh;
        out[i] = gamma[c] * xh + beta[c];
    }
    free(s);
}

/* Batch norm backward: dy = invstd/M (M dxh - sum dxh - xh sum dxh xh). */
void prime_vt_bn_backward(const float *dout, const float *xhat, size_t N, int n, int C,
                     const float *gamma, const float *invstd, float *dy, float *dgamma, float *dbeta) {
    size_t per = N * (size_t)n / C;
    double *s = calloc(2 * (size_t)C, sizeof(double));
    if (!s) return;
    for (size_t i = 0; i < N * (size_t)n; i++) {
        int c = (int)(i % C);
        dgamma[c] += dout[i] * xhat[i];
        dbeta[c] += dout[i];
        double dxh = (double)dout[i] * gamma[c];
        s[c] += dxh, s[C + c] += dxh * xhat[i];
    }
    for (size_t i = 0; i < N * (size_t)n; i++) {
        int c = (int)(i % C);
        double dxh = (double)dout[i] * gamma[c];
        dy[i] = (float)(invstd[c] / per * (per * dxh - s[c] - xhat[i] * s[C + c]));
    }
    free(s);
}

/* Inpainting LIF forward, x overwritten by the membrane u. */
void prime_vt_lif_forward(float *xu, float *s, int B, int T, int n, float keep, float th) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *u = xu + ((size_t)b * T + t) * n, *o = s + ((size_t)b * T + t) * n;
            const float *up = t ? u - n : NULL, *op = t ? o - n : NULL;
            for (int j = 0; j < n; j++) {
                float v = t ? keep * up[j] * (1.0f - op[j]) + u[j] : u[j];
                u[j] = v;
                o[j] = v > th ? 1.0f : 0.0f;
            }
        }
}

/* LIF backward through time (reset detached); t outer so memory runs contiguously. */
void prime_vt_lif_backward(const float *u, const float *s, const float *ds, float *dx, int B, int T,
                      int n, float keep, float th, float a) {
    const float sg = 1.0f / (2.0f * a);
    float *carry = calloc((size_t)n, sizeof(float));
    if (!carry) return;
    for (int b = 0; b < B; b++) {
        memset(carry, 0, (size_t)n * sizeof(float));
        for (int t = T - 1; t >= 0; t--) {
            size_t o = ((size_t)b * T + t) * n;
            for (int j = 0; j < n; j++) {
                float du = carry[j] + (fabsf(u[o + j] - th) < a ? ds[o + j] * sg : 0.0f);
                dx[o + j] = du;
                /* du_t / du_(t-1) = keep * (1 - o_(t-1)) */
                carry[j] = t ? du * keep * (1.0f - s[o - n + j]) : 0.0f;
            }
        }
    }
    free(carry);
}

/* Decayed-membrane readout forward. */
void prime_vt_readout_forward(const float *y, float *recon, int B, int T, int n, float keep) {
    for (int b = 0; b < B; b++)
        for (int j = 0; j < n; j++) {
            float acc = 0;
            for (int t = 0; t < T; t++) acc = keep * acc + y[((size_t)b * T + t) * n + j];
            recon[(size_t)b * n + j] = tanhf(acc);
        }
}

/* Readout backward: dy_t = drecon (1 - recon^2) keep^(T-1-t). */
void prime_vt_readout_backward(const float *recon, const float *drecon, float *dy, int B, int T,
                          int n, float keep) {
    for (int b = 0; b < B; b++)
        for (int j = 0; j < n; j++) {
            float r = recon[(size_t)b * n + j];
            float g = drecon[(size_t)b * n + j] * (1.0f - r * r);
            for (int t = T - 1; t >= 0; t--) {
                dy[((size_t)b * T + t) * n + j] = g;
                g *= keep;
            }
        }
}

/* Bernoulli KL summed over n (clamped); gradients into dq, dp if given. */
double prime_vt_kl(const float *q, const float *p, size_t n, float *dq, float *dp) {
    double kl = 0;
    for (size_t i = 0; i < n; i++) {
        double a = q[i] < 0.01f ? 0.01 : q[i] > 0.99f ? 0.99 : q[i];
        double b = p[i] < 0.01f ? 0.01 : p[i] > 0.99f ? 0.99 : p[i];
        kl += a * log(a / b) + (1 - a) * log((1 - a) / (1 - b));
        if (dq) dq[i] = (q[i] >= 0.01f && q[i] <= 0.99f) ? (float)(log(a / b) - log((1 - a) / (1 - b))) : 0.0f;
        if (dp) dp[i] = (p[i] >= 0.01f && p[i] <= 0.99f) ? (float)(-a / b + (1 - a) / (1 - b)) : 0.0f;
    }
    return kl;
}

/* ============================================================ trainer */

typedef struct {
    prime_vae_layer g;
    int *conn;
    size_t nconn, nw, nout;
    float *w_on, *w_off;          /* formed weights (mask mode) */
    float *score, *gs, *ms, *vs;  /* scores or weights, grad, Adam */
    float *weff;                  /* weights of this batch */
    uint8_t *mask;
    float *bias, *gb, *mb, *vb;   /* digital layers */
    float *gamma, *beta, *gg, *gbt, *mg, *vg, *mbt, *vbt, *rmean, *rvar, *mean, *invstd;
    float *xh, *u, *s;            /* [F][nout] activations of the batch */
} tlayer;

struct prime_vt {
    prime_vae_arch a;
    prime_device dev;
    prime_vt_params p;
    tlayer L[PRIME_VAE_LAYERS];
    int Bcap, npix;
    float *x0, *q, *z, *zprev, *pp, *dq, *dpp, *yout, *recon, *target, *drecon;
    float *d1, *d2, *d3;          /* scratch [F][max n] */
    size_t maxn;
    uint64_t adam_t;
};

prime_vt_params prime_vt_default_params(void) {
    return (prime_vt_params){.lr = 1e-3f, .beta = 0.01f, .hole_weight = 1.0f, .surrogate = 0.5f, .bn_momentum = 0.1f,
                             .seed = 1};
}

static float *fz(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* Makes a trainer; scores Uniform(+-1/sqrt(fan_in)), baseline weights start
 * at the formed weights of the same chip. NULL on error. */
prime_vt *prime_vt_new(const prime_vae_arch *a, const prime_device *d, const prime_vt_params *p) {
    prime_vt *tr = calloc(1, sizeof *tr);
    if (!tr) return NULL;
    tr->a = *a, tr->dev = *d, tr->p = *p;
    tr->npix = a->size * a->size;
    prime_vae_arch am = *a;
    am.software = 0;
    prime_vae *chip = prime_vae_create(&am, d);
    if (!chip) { free(tr); return NULL; }
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        tlayer *L = &tr->L[i];
        prime_vae_layer_info(a, i, &L->g);
        L->nw = (size_t)L->g.rows * L->g.cols;
        L->nout = (size_t)L->g.out_c * L->g.out_h * L->g.out_w;
        if (L->nout > tr->maxn) tr->maxn = L->nout;
        if (L->g.op != PRIME_VAE_FC) L->conn = prime_vae_connections(a, i, &L->nconn);
        L->score = fz(L->nw), L->gs = fz(L->nw), L->ms = fz(L->nw), L->vs = fz(L->nw), L->weff = fz(L->nw);
        float b = 1.0f / sqrtf((float)L->g.rows);
        if (L->g.crossbar) {
            L->w_on = fz(L->nw), L->w_off = fz(L->nw), L->mask = calloc(L->nw, 1);
            prime_vae_get_formed(chip, i, 1, L->w_on, L->nw);
            prime_vae_get_formed(chip, i, 0, L->w_off, L->nw);
            for (size_t j = 0; j < L->nw; j++)
                L->score[j] = a->software ? L->w_on[j]
                                          : (float)((2 * prime_rand_uniform(p->seed, 0x73636f7265ull + i, j) - 1) * b);
        } else {
            for (size_t j = 0; j < L->nw; j++)
                L->score[j] = (float)((2 * prime_rand_uniform(p->seed, 0x64696769ull + i, j) - 1) * b);
            L->bias = fz(L->nout), L->gb = fz(L->nout), L->mb = fz(L->nout), L->vb = fz(L->nout);
            for (size_t j = 0; j < L->nout; j++) L->bias[j] = 0.1f;
        }
        int C = L->g.out_c;
        L->gamma = fz(C), L->beta = fz(C), L->gg = fz(C), L->gbt = fz(C), L->mg = fz(C), L->vg = fz(C);
        L->mbt = fz(C), L->vbt = fz(C), L->rmean = fz(C), L->rvar = fz(C), L->mean = fz(C), L->invstd = fz(C);
        for (int c = 0; c < C; c++) L->gamma[c] = 1.0f, L->rvar[c] = 1.0f;
    }
    prime_vae_free(chip);
    return tr;
}

/* Frees a trainer; NULL is fine. */
void prime_vt_free(prime_vt *tr) {
    if (!tr) return;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        tlayer *L = &tr->L[i];
        void *ps[] = {L->conn, L->w_on, L->w_off, L->score, L->gs, L->ms, L->vs, L->weff, L->mask, L->bias,
                      L->gb, L->mb, L->vb, L->gamma, L->beta, L->gg, L->gbt, L->mg, L->vg, L->mbt, L->vbt,
                      L->rmean, L->rvar, L->mean, L->invstd, L->xh, L->u, L->s};
        for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) free(ps[j]);
    }
    void *ps[] = {tr->x0, tr->q, tr->z, tr->zprev, tr->pp, tr->dq, tr->dpp, tr->yout, tr->recon,
                  tr->target, tr->drecon, tr->d1, tr->d2, tr->d3};
    for (size_t j = 0; j < sizeof ps / sizeof ps[0]; j++) free(ps[j]);
    free(tr);
}

/* (Re)allocates the batch buffers for B images; 0 or -1. */
static int ensure_batch(prime_vt *tr, int B) {
    if (B <= tr->Bcap) return 0;
    const int T = tr->a.T;
    size_t F = (size_t)B * T;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        tlayer *L = &tr->L[i];
        free(L->xh), free(L->u), free(L->s);
        L->xh = fz(F * L->nout), L->u = fz(F * L->nout), L->s = fz(F * L->nout);
        if (!L->xh || !L->u || !L->s) return prime_error("train: out of memory");
    }
    float **bufs[] = {&tr->x0, &tr->yout, &tr->d1, &tr->d2, &tr->d3};
    size_t sz[] = {F * tr->npix, F * tr->npix, F * tr->maxn, F * tr->maxn, F * tr->maxn};
    for (int j = 0; j < 5; j++) { free(*bufs[j]); if (!(*bufs[j] = fz(sz[j]))) return prime_error("train: out of memory"); }
    float **lat[] = {&tr->q, &tr->z, &tr->zprev, &tr->pp, &tr->dq, &tr->dpp};
    for (int j = 0; j < 6; j++) { free(*lat[j]); if (!(*lat[j] = fz(F * tr->a.latent))) return prime_error("train: out of memory"); }
    float **img[] = {&tr->recon, &tr->target, &tr->drecon};
    for (int j = 0; j < 3; j++) { free(*img[j]); if (!(*img[j] = fz((size_t)B * tr->npix))) return prime_error("train: out of memory"); }
    tr->Bcap = B;
    return 0;
}

/* Masks from the scores (all but the floor(sparsity*n) smallest |score|) and
 * the batch's effective weights. */
static void make_weff(prime_vt *tr) {
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        tlayer *L = &tr->L[i];
        if (!L->g.crossbar || tr->a.software) { memcpy(L->weff, L->score, L->nw * sizeof(float)); continue; }
        if (prime_tr_mask_from_scores(L->score, L->nw, tr->a.sparsity, L->mask) != 0) continue;
        for (size_t j = 0; j < L->nw; j++) L->weff[j] = L->mask[j] ? L->w_on[j] : L->w_off[j];
    }
}

/* Forward of layer i over F frames: x -> (lin [+bias]) -> BN -> LIF; output in L->s
 * (or L->u = raw output for the OUT layer). eval = 1 uses running statistics. */
static void layer_forward(prime_vt *tr, int i, const float *x, int B, int eval) {
    tlayer *L = &tr->L[i];
    const int T = tr->a.T, F = B * T, n = (int)L->nout, C = L->g.out_c;
    float *y = L->g.lif ? L->xh : L->u;
    prime_vt_lin_forward(&L->g, L->conn, L->nconn, L->weff, x, y, F);
    if (!L->g.lif) return;
    if (L->g.bn && !eval) {
        prime_vt_bn_forward(y, L->u, F, n, C, L->gamma, L->beta, L->mean, L->invstd);
        float m = tr->p.bn_momentum;
        size_t per = (size_t)F * n / C;
        if (tr->adam_t == 0) m = 1.0f; /* first batch: start from its statistics */
        for (int c = 0; c < C; c++) {
            float var = 1.0f / (L->invstd[c] * L->invstd[c]) - BN_EPS;
            L->rmean[c] = (1 - m) * L->rmean[c] + m * L->mean[c];
            L->rvar[c] = (1 - m) * L->rvar[c] + m * var * (float)per / (float)(per > 1 ? per - 1 : 1);
        }
    } else if (L->g.bn) { /* folded, same arithmetic as prime_vae.c */
        for (size_t j = 0; j < (size_t)F * n; j++) {
            int c = (int)(j % C);
            float a = L->gamma[c] / sqrtf(L->rvar[c] + BN_EPS);
            float b = L->beta[c] - L->rmean[c] * a;
            L->u[j] = a * y[j] + b;
        }
    } else {
        for (size_t j = 0; j < (size_t)F * n; j++) L->u[j] = y[j] + L->bias[j % n];
    }
    prime_vt_lif_forward(L->u, L->s, B, T, n, tr->a.keep, tr->a.th);
}

/* Backward of layer i given ds (grad of its spikes, or of its raw output for
 * OUT) in tr->d1; writes dx into dx (may be NULL). Uses d2 as scratch. */
static void layer_backward(prime_vt *tr, int i, const float *x, int B, float *ds, float *dx) {
    tlayer *L = &tr->L[i];
    const int T = tr->a.T, F = B * T, n = (int)L->nout, C = L->g.out_c;
    float *dy = ds;
    if (L->g.lif) {
        prime_vt_lif_backward(L->u, L->s, ds, tr->d2, B, T, n, tr->a.keep, tr->a.th, tr->p.surrogate);
        if (L->g.bn) {
            prime_vt_bn_backward(tr->d2, L->xh, F, n, C, L->gamma, L->invstd, ds, L->gg, L->gbt);
            dy = ds;
        } else {
            for (size_t j = 0; j < (size_t)F * n; j++) L->gb[j % n] += tr->d2[j];
            dy = tr->d2;
        }
    }
    prime_vt_lin_backward(&L->g, L->conn, L->nconn, L->weff, x, dy, L->gs, dx, F);
}

/* Input frames: the masked image repeated T times. */
static void make_input(prime_vt *tr, const float *clean, int B) {
    const int T = tr->a.T, S = tr->a.size, c0 = S / 2 - 4;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int p = 0; p < tr->npix; p++) {
                int y = p / S, x = p % S;
                int hole = y >= c0 && y < c0 + 8 && x >= c0 && x < c0 + 8;
                tr->x0[((size_t)b * T + t) * tr->npix + p] = hole ? -1.0f : clean[(size_t)b * tr->npix + p];
            }
}

/* Full forward; returns nothing, fills recon, q, z, pp. */
static void forward(prime_vt *tr, int B, uint64_t step, int eval) {
    const int T = tr->a.T, Lt = tr->a.latent, k = tr->a.k;
    const float *x = tr->x0;
    for (int i = PRIME_VAE_ENC1; i <= PRIME_VAE_ENCFC; i++) { layer_forward(tr, i, x, B, eval); x = tr->L[i].s; }
    layer_forward(tr, PRIME_VAE_POST, x, B, eval);
    const float *sp = tr->L[PRIME_VAE_POST].s;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t f = (size_t)b * T + t;
            for (int d = 0; d < Lt; d++) {
                float q = 0;
                for (int j = 0; j < k; j++) q = q + sp[f * Lt * k + d * k + j];
                q = q / (float)k;
                tr->q[f * Lt + d] = q;
                double u = prime_rand_uniform(tr->p.seed ^ 0x7a7a7aull, step * 4096 + f, (uint64_t)d);
                tr->z[f * Lt + d] = u < q ? 1.0f : 0.0f;
                tr->zprev[f * Lt + d] = t ? tr->z[(f - 1) * Lt + d] : 0.0f;
            }
        }
    layer_forward(tr, PRIME_VAE_PRIOR, tr->zprev, B, eval);
    const float *pr = tr->L[PRIME_VAE_PRIOR].s;
    for (size_t f = 0; f < (size_t)B * T; f++)
        for (int d = 0; d < Lt; d++) {
            float p = 0;
            for (int j = 0; j < k; j++) p = p + pr[f * Lt * k + d * k + j];
            tr->pp[f * Lt + d] = p / (float)k;
        }
    x = tr->z;
    for (int i = PRIME_VAE_DECFC; i <= PRIME_VAE_OUT; i++) {
        layer_forward(tr, i, x, B, eval);
        x = tr->L[i].g.lif ? tr->L[i].s : tr->L[i].u;
    }
    prime_vt_readout_forward(tr->L[PRIME_VAE_OUT].u, tr->recon, B, T, tr->npix, tr->a.out_keep);
}

/* Adam step on one array. */
static void adam(float *w, float *g, float *m, float *v, size_t n, float lr, uint64_t t) {
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        w[i] -= lr * (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
        g[i] = 0;
    }
}

double prime_vt_train_batch(prime_vt *tr, const float *clean, int B, uint64_t step, double parts[3]) {
    if (ensure_batch(tr, B) != 0) return NAN;
    const int T = tr->a.T, Lt = tr->a.latent, k = tr->a.k, S = tr->a.size, c0 = S / 2 - 4, np = tr->npix;
    const size_t F = (size_t)B * T;
    make_weff(tr);
    make_input(tr, clean, B);
    forward(tr, B, step, 0);
    /* loss */
    double rec = 0, hole = 0, wsum = 0;
    for (int b = 0; b < B; b++)
        for (int p = 0; p < np; p++) {
            int y = p / S, x = p % S, h = y >= c0 && y < c0 + 8 && x >= c0 && x < c0 + 8;
            float w = h ? tr->p.hole_weight : 1.0f;
            size_t i = (size_t)b * np + p;
            double d = (double)tr->recon[i] - clean[i];
            rec += w * d * d, wsum += w;
            if (h) hole += d * d;
            tr->drecon[i] = (float)(2 * w * d);
        }
    for (size_t i = 0; i < (size_t)B * np; i++) tr->drecon[i] = (float)(tr->drecon[i] / wsum);
    rec /= wsum;
    double kl = prime_vt_kl(tr->q, tr->pp, F * Lt, tr->dq, tr->dpp) / (double)(F * Lt);
    float kscale = (float)(tr->p.beta / (double)(F * Lt));
    /* backward: readout -> out -> dec3 .. decfc -> z -> post -> encoder */
    prime_vt_readout_backward(tr->recon, tr->drecon, tr->d1, B, T, np, tr->a.out_keep);
    float *ds = tr->d1, *dx = tr->d3;
    for (int i = PRIME_VAE_OUT; i >= PRIME_VAE_DECFC; i--) {
        const float *x = i == PRIME_VAE_DECFC ? tr->z : tr->L[i - 1].s;
        layer_backward(tr, i, x, B, ds, dx);
        float *t = ds; ds = dx; dx = t;
    }
    /* ds = dL/dz; straight-through dq = dz (+ KL), spread over the k spikes */
    float *dpost = dx;
    for (size_t f = 0; f < F; f++)
        for (int d = 0; d < Lt; d++) {
            float g = (ds[f * Lt + d] + kscale * tr->dq[f * Lt + d]) / (float)k;
            for (int j = 0; j < k; j++) dpost[(f * Lt + d) * k + j] = g;
        }
    layer_backward(tr, PRIME_VAE_POST, tr->L[PRIME_VAE_ENCFC].s, B, dpost, ds);
    /* prior: only the KL reaches it; its input z_(t-1) is detached */
    for (size_t f = 0; f < F; f++)
        for (int d = 0; d < Lt; d++) {
            float g = kscale * tr->dpp[f * Lt + d] / (float)k;
            for (int j = 0; j < k; j++) dpost[(f * Lt + d) * k + j] = g;
        }
    layer_backward(tr, PRIME_VAE_PRIOR, tr->zprev, B, dpost, NULL);
    for (int i = PRIME_VAE_ENCFC; i >= PRIME_VAE_ENC1; i--) {
        const float *x = i == PRIME_VAE_ENC1 ? tr->x0 : tr->L[i - 1].s;
        layer_backward(tr, i, x, B, ds, i == PRIME_VAE_ENC1 ? NULL : dx);
        float *t = ds; ds = dx; dx = t;
    }
    /* updates */
    tr->adam_t++;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        tlayer *L = &tr->L[i];
        if (L->g.crossbar && !tr->a.software)
            for (size_t j = 0; j < L->nw; j++) {
                float s = L->score[j];
                L->gs[j] *= (L->w_on[j] - L->w_off[j]) * (s > 0 ? 1.0f : s < 0 ? -1.0f : 0.0f);
            }
        adam(L->score, L->gs, L->ms, L->vs, L->nw, tr->p.lr, tr->adam_t);
        if (L->bias) adam(L->bias, L->gb, L->mb, L->vb, L->nout, tr->p.lr, tr->adam_t);
        if (L->g.bn) {
            adam(L->gamma, L->gg, L->mg, L->vg, L->g.out_c, tr->p.lr, tr->adam_t);
            adam(L->beta, L->gbt, L->mbt, L->vbt, L->g.out_c, tr->p.lr, tr->adam_t);
        }
    }
    if (parts) parts[0] = rec, parts[1] = kl, parts[2] = hole / (B * 64.0);
    return rec + tr->p.beta * kl;
}

/* Exports masks (or weights), folded BN and latent layers; NULL on error. */
prime_vae *prime_vt_export(prime_vt *tr) {
    prime_vae *v = prime_vae_create(&tr->a, &tr->dev);
    if (!v) return NULL;
    make_weff(tr);
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        tlayer *L = &tr->L[i];
        int rc = 0;
        if (L->g.crossbar) rc = tr->a.software ? prime_vae_set_weights(v, i, L->weff, L->nw)
                                               : prime_vae_set_mask(v, i, L->mask, L->nw);
        else rc = prime_vae_set_digital(v, i, L->score, L->nw, L->bias, L->nout);
        if (rc == 0 && L->g.bn) {
            int C = L->g.out_c;
            float *a = fz(2 * (size_t)C);
            if (!a) rc = -1;
            for (int c = 0; rc == 0 && c < C; c++) {
                a[c] = L->gamma[c] / sqrtf(L->rvar[c] + BN_EPS);
                a[C + c] = L->beta[c] - L->rmean[c] * a[c];
            }
            if (rc == 0) rc = prime_vae_set_bn(v, i, a, a + C, C);
            free(a);
        }
        if (rc != 0) { prime_vae_free(v); return NULL; }
    }
    return v;
}

/* Checkpoint: the Adam step count, then per layer score, bias, gamma, beta,
 * running mean / var and every Adam moment (raw floats): resuming from it
 * continues the run exactly. */
static int ckpt_io(prime_vt *tr, const char *path, int save) {
    FILE *f = fopen(path, save ? "wb" : "rb");
    if (!f) return prime_error("cannot open %s", path);
    int ok = (save ? fwrite(&tr->adam_t, 8, 1, f) : fread(&tr->adam_t, 8, 1, f)) == 1;
    for (int i = 0; i < PRIME_VAE_LAYERS && ok; i++) {
        tlayer *L = &tr->L[i];
        size_t C = (size_t)L->g.out_c, nb = L->bias ? L->nout : 0;
        float *arr[] = {L->score, L->ms, L->vs, L->bias, L->mb, L->vb, L->gamma, L->beta, L->rmean, L->rvar,
                        L->mg, L->vg, L->mbt, L->vbt};
        size_t n[] = {L->nw, L->nw, L->nw, nb, nb, nb, C, C, C, C, C, C, C, C};
        for (int j = 0; j < 14 && ok; j++)
            if (n[j]) ok = (save ? fwrite(arr[j], 4, n[j], f) : fread(arr[j], 4, n[j], f)) == n[j];
    }
    if (ok && !save) ok = fgetc(f) == EOF;
    fclose(f);
    return ok ? 0 : prime_error("checkpoint %s: short %s or wrong shape", path, save ? "write" : "read");
}
/* Adam steps taken (= batches trained). */
uint64_t prime_vt_steps(const prime_vt *tr) { return tr->adam_t; }
int prime_vt_save(const prime_vt *tr, const char *path) { return ckpt_io((prime_vt *)tr, path, 1); }
int prime_vt_load(prime_vt *tr, const char *path) { return ckpt_io(tr, path, 0); }

/* Eval-mode reconstructions of B images; 0 or -1. */
int prime_vt_reconstruct(prime_vt *tr, const float *clean, int B, float *recon) {
    if (ensure_batch(tr, B) != 0) return -1;
    make_weff(tr);
    make_input(tr, clean, B);
    forward(tr, B, 0, 1);
    memcpy(recon, tr->recon, (size_t)B * tr->npix * sizeof(float));
    return 0;
}

/* Parameter arrays for tests (see train_vae.h). */
float *prime_vt_param(prime_vt *tr, int i, int which, size_t *n) {
    if (!tr || i < 0 || i >= PRIME_VAE_LAYERS) return NULL;
    tlayer *L = &tr->L[i];
    size_t C = (size_t)L->g.out_c;
    switch (which) {
    case 0: *n = L->nw; return L->score;
    case 1: *n = L->bias ? L->nout : 0; return L->bias;
    case 2: *n = L->g.bn ? C : 0; return L->g.bn ? L->gamma : NULL;
    case 3: *n = L->g.bn ? C : 0; return L->g.bn ? L->beta : NULL;
    case 4: *n = C; return L->rmean;
    case 5: *n = C; return L->rvar;
    }
    return NULL;
}
