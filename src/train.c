/* train.c - native mask trainer (edge-popup over random memristor weights).
 *
 * Network (the PRIME paper, arXiv 2407.18625), activations HWC (channel fastest):
 *   x_t [34][34][2] -> conv1 5x5 p1 -> I1 [32][32][12] -> LIF -> s1
 *   -> pool2 -> p1 [16][16][12] -> conv2 5x5 -> I2 [12][12][64] -> LIF -> s2
 *   -> pool2 -> [6][6][64] -> CHW flatten p2 [2304] -> fc -> Io [10] -> output cell
 * Loss: cross-entropy of logits = mean over t of the output membrane.
 * Backward: BPTT through all T steps, surrogate dS/dU = 1 for |U - th| < 0.5.
 *
 * The layer kernels are in train_kern.c. Every sum runs in a fixed order, so
 * results do not depend on SIMD width or thread count: a batch is cut
 * into PRIME_TR_CHUNKS fixed chunks, each accumulating its own gradient buffer, and
 * the chunk buffers are added in chunk order.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "train.h"
#include "train_internal.h"
#include "pmath.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


/* ================================================================ params */

prime_train_params prime_train_default_params(void) {
    return (prime_train_params){.T = 10, .epochs = 14, .batch = 128, .opt = PRIME_OPT_ADAM, .lr = 1e-3f, .wd = 5e-4f,
                                .momentum = 0.9f, .sparsity = 0.5f, .seed = 1, .read_noise = 0.05f, .threads = 2,
                                .verbose = 1};
}

/* the structs: train_internal.h */

/* ================================================================ network */

double prime_tr_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int lif_smooth(const prime_trainer *tr) { return tr->p.smooth_spikes; }

/* HWC [H][W][C] -> CHW [C][H][W]. */
static void hwc_to_chw(float *out, const float *in, int H, int W, int C) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++)
                out[((size_t)c * H + y) * W + x] = in[((size_t)y * W + x) * C + c];
}

static void chw_to_hwc(float *out, const float *in, int H, int W, int C) {
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                out[((size_t)y * W + x) * C + c] = in[((size_t)c * H + y) * W + x];
}

/* Cross-entropy of logits against label; fills dlog = softmax - onehot. */
static double xent(const float *logits, int nc, int label, float *dlog) {
    double mx = logits[0];
    for (int i = 1; i < nc; i++) if (logits[i] > mx) mx = logits[i];
    double e[PRIME_MAX_CLASSES], z = 0;
    for (int i = 0; i < nc; i++) { e[i] = prime_exp(logits[i] - mx); z += e[i]; }
    if (dlog)
        for (int i = 0; i < nc; i++) dlog[i] = (float)(e[i] / z) - (i == label ? 1.0f : 0.0f);
    return prime_log(z) + mx - logits[label];
}

/* Forward one sample whose input is already in ws->x (HWC per step); stores
 * the membranes for BPTT; writes logits; returns loss (label < 0: 0). */
static double sample_forward(prime_trainer *tr, prime_tr_ws *ws, int label,
                             float *logits, float *dlog) {
    int T = tr->p.T, sm = lif_smooth(tr);
    int n0 = tr->H0 * tr->W0 * tr->C0, n1 = tr->H1 * tr->W1 * tr->C1;
    int n1p = tr->H1p * tr->W1p * tr->C1, n2 = tr->H2 * tr->W2 * tr->C2;
    int n2p = tr->H2p * tr->W2p * tr->C2, NC = tr->NC;
    float *u1 = ws->U1, *u2 = ws->U2;
    float uo[PRIME_MAX_CLASSES], io[PRIME_MAX_CLASSES];
    memset(ws->S1, 0, sizeof(float) * n1);
    memset(ws->S2, 0, sizeof(float) * n2);
    float *cu1 = ws->gi1, *cu2 = ws->gi2; /* running membranes (scratch) */
    memset(cu1, 0, sizeof(float) * n1);
    memset(cu2, 0, sizeof(float) * n2);
    for (int c = 0; c < NC; c++) { uo[c] = 0; logits[c] = 0; }
    for (int t = 0; t < T; t++) {
        prime_tr_conv_forward(ws->I1, ws->x + (size_t)t * n0, tr->L[0].weff, tr->H0,
                         tr->W0, tr->C0, tr->C1, tr->k1, tr->pad1);
        prime_tr_lif_forward(cu1, ws->S1, ws->I1, n1, tr->th1, tr->dec1, tr->leak1, sm);
        memcpy(u1 + (size_t)t * n1, cu1, sizeof(float) * n1);
        float *p1 = ws->P1 + (size_t)t * n1p;
        prime_tr_pool_forward(p1, ws->S1, tr->H1, tr->W1, tr->C1, tr->pk1);
        prime_tr_conv_forward(ws->I2, p1, tr->L[1].weff, tr->H1p, tr->W1p, tr->C1,
                         tr->C2, tr->k2, tr->pad2);
        prime_tr_lif_forward(cu2, ws->S2, ws->I2, n2, tr->th2, tr->dec2, tr->leak2, sm);
        memcpy(u2 + (size_t)t * n2, cu2, sizeof(float) * n2);
        prime_tr_pool_forward(ws->Q2, ws->S2, tr->H2, tr->W2, tr->C2, tr->pk2);
        float *p2 = ws->P2 + (size_t)t * n2p;
        hwc_to_chw(p2, ws->Q2, tr->H2p, tr->W2p, tr->C2);
        prime_tr_fc_forward(io, p2, tr->L[2].weff, n2p, NC);
        for (int c = 0; c < NC; c++) {
            float v = uo[c] + io[c];
            uo[c] = v > 0.0f ? v : tr->leako * v;
            ws->Uo[t * NC + c] = uo[c];
            logits[c] += uo[c];
        }
    }
    for (int c = 0; c < NC; c++) logits[c] /= (float)T;
    if (label < 0) return 0;
    return xent(logits, NC, label, dlog);
}

/* BPTT of one sample after sample_forward; adds dL/dweff to g[0..2]. */
static void sample_backward(prime_trainer *tr, prime_tr_ws *ws, const float *dlog,
                            float *const *g) {
    int T = tr->p.T, sm = lif_smooth(tr), NC = tr->NC;
    int n0 = tr->H0 * tr->W0 * tr->C0, n1 = tr->H1 * tr->W1 * tr->C1;
    int n1p = tr->H1p * tr->W1p * tr->C1, n2 = tr->H2 * tr->W2 * tr->C2;
    int n2p = tr->H2p * tr->W2p * tr->C2;
    float gco[PRIME_MAX_CLASSES], gio[PRIME_MAX_CLASSES];
    for (int c = 0; c < NC; c++) gco[c] = 0;
    memset(ws->ga1, 0, sizeof(float) * n1);
    memset(ws->ga2, 0, sizeof(float) * n2);
    for (int t = T - 1; t >= 0; t--) {
        /* output cell: U_t = lrelu(U_{t-1} + I_t); logits = mean U_t */
        for (int c = 0; c < NC; c++) {
            float gu = dlog[c] / (float)T + gco[c];
            float u = ws->Uo[t * NC + c];
            gco[c] = gu * (u > 0.0f ? 1.0f : tr->leako);
            gio[c] = gco[c];
        }
        const float *p2 = ws->P2 + (size_t)t * n2p;
        prime_tr_fc_backward(g[2], ws->gp2, gio, p2, tr->L[2].weff, n2p, NC);
        chw_to_hwc(ws->gq2, ws->gp2, tr->H2p, tr->W2p, tr->C2);
        prime_tr_pool_backward(ws->g2, ws->gq2, tr->H2, tr->W2, tr->C2, tr->pk2);
        prime_tr_lif_backward(ws->gi2, ws->ga2, ws->g2, ws->U2 + (size_t)t * n2, n2,
                         tr->th2, tr->dec2, tr->leak2, sm);
        const float *p1 = ws->P1 + (size_t)t * n1p;
        prime_tr_conv_backward(g[1], ws->gp1, ws->gi2, p1, tr->wt2, tr->H1p, tr->W1p,
                          tr->C1, tr->C2, tr->k2, tr->pad2);
        prime_tr_pool_backward(ws->g1, ws->gp1, tr->H1, tr->W1, tr->C1, tr->pk1);
        prime_tr_lif_backward(ws->gi1, ws->ga1, ws->g1, ws->U1 + (size_t)t * n1, n1,
                         tr->th1, tr->dec1, tr->leak1, sm);
        prime_tr_conv_backward(g[0], NULL, ws->gi1, ws->x + (size_t)t * n0, NULL,
                          tr->H0, tr->W0, tr->C0, tr->C1, tr->k1, tr->pad1);
    }
}

/* Frames uint8 [T][C][H][W] -> ws->x float HWC per step. */
static void load_input_u8(prime_trainer *tr, prime_tr_ws *ws, const uint8_t *x) {
    int H = tr->H0, W = tr->W0, C = tr->C0;
    for (int t = 0; t < tr->p.T; t++) {
        const uint8_t *src = x + (size_t)t * C * H * W;
        float *dst = ws->x + (size_t)t * C * H * W;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H * W; i++) dst[(size_t)i * C + c] = src[(size_t)c * H * W + i];
    }
}

static void load_input_f(prime_trainer *tr, prime_tr_ws *ws, const float *x) {
    size_t n0 = (size_t)tr->H0 * tr->W0 * tr->C0;
    for (int t = 0; t < tr->p.T; t++)
        chw_to_hwc(ws->x + t * n0, x + t * n0, tr->H0, tr->W0, tr->C0);
}

/* ================================================================ masks */

/* mask = 1 for all but the floor(sparsity * n) smallest |score| (ties by index). */
static int compute_mask(prime_tr_wlayer *L, float sparsity) { return prime_tr_mask_from_scores(L->score, L->n, sparsity, L->mask); }

/* Effective weights for one batch (noise = 1: hw-aware read noise keyed by
 * `draw`), then the transposed conv2 copy. */
int prime_tr_make_weff(prime_trainer *tr, int noise, uint64_t draw) {
    for (int l = 0; l < PRIME_TR_NW; l++) {
        prime_tr_wlayer *L = &tr->L[l];
        if (tr->p.baseline) {
            memcpy(L->weff, L->score, sizeof(float) * L->n);
            continue;
        }
        if (compute_mask(L, tr->p.sparsity) != 0) return -1;
        const int hw = noise && tr->p.hw_aware && tr->p.read_noise > 0;
        const int cond = hw && tr->p.noise_model == PRIME_TR_NOISE_CONDUCTANCE;
        for (size_t i = 0; i < L->n; i++) {
            float w = L->mask[i] ? L->w[i] : L->r ? L->r[i] : 0.0f;
            if (hw && (L->mask[i] || cond)) {
                float z = tr->p.read_noise * (float)prime_rand_normal(tr->p.seed ^ 0x6e6f697365ull, draw * 8 + l, i);
                if (cond) w += z * (L->mask[i] ? L->s_on[i] : L->s_off[i]);
                else w *= 1.0f + z;
            }
            L->weff[i] = w;
        }
    }
    prime_tr_conv_transpose(tr->wt2, tr->L[1].weff, tr->C1, tr->C2, tr->k2);
    return 0;
}

/* ================================================================ create */

static int setup_dims(prime_trainer *tr) {
    prime_arch *a = &tr->a;
    if (prime_arch_finalize(a) != 0) return -1;
    static const enum prime_op ops[5] = {PRIME_OP_CONV, PRIME_OP_AVGPOOL, PRIME_OP_CONV, PRIME_OP_AVGPOOL, PRIME_OP_FC};
    if (a->n_layers != 5) return prime_error("train: expected the 5-layer N-MNIST network, got %d layers", a->n_layers);
    for (int i = 0; i < 5; i++)
        if (a->layers[i].op != ops[i])
            return prime_error("train: layer %d has op %d, expected %d", i, (int)a->layers[i].op, (int)ops[i]);
    const prime_layer *c1 = &a->layers[0], *q1 = &a->layers[1], *c2 = &a->layers[2],
                      *q2 = &a->layers[3], *f = &a->layers[4];
    if (c1->stride != 1 || c2->stride != 1 || q1->stride != q1->k || q2->stride != q2->k)
        return prime_error("train: only stride-1 convs and non-overlapping pools are supported");
    tr->li[0] = 0; tr->li[1] = 2; tr->li[2] = 4;
    tr->C0 = a->in_c; tr->H0 = a->in_h; tr->W0 = a->in_w;
    tr->k1 = c1->k; tr->pad1 = c1->pad; tr->C1 = c1->out_c; tr->H1 = c1->out_h; tr->W1 = c1->out_w;
    tr->pk1 = q1->k; tr->H1p = q1->out_h; tr->W1p = q1->out_w;
    tr->k2 = c2->k; tr->pad2 = c2->pad; tr->C2 = c2->out_c; tr->H2 = c2->out_h; tr->W2 = c2->out_w;
    tr->pk2 = q2->k; tr->H2p = q2->out_h; tr->W2p = q2->out_w;
    tr->NC = f->out_c;
    if (tr->NC != a->n_classes || tr->NC > PRIME_MAX_CLASSES)
        return prime_error("train: %d outputs for %d classes", tr->NC, a->n_classes);
    if (f->in_c * f->in_h * f->in_w != tr->C2 * tr->H2p * tr->W2p)
        return prime_error("train: fc input does not match pool2 output");
    tr->th1 = c1->th; tr->dec1 = c1->decay; tr->leak1 = c1->leak;
    tr->th2 = c2->th; tr->dec2 = c2->decay; tr->leak2 = c2->leak;
    tr->leako = f->leak;
    return 0;
}

prime_trainer *prime_trainer_create(const prime_train_params *p) {
    if (!p) { prime_error("train: NULL params"); return NULL; }
    prime_device d = prime_default_device();
    d.chip_seed = p->seed;
    return prime_trainer_create_on(p, &d);
}

prime_trainer *prime_trainer_create_on(const prime_train_params *p, const prime_device *dev) {
    if (!p || !dev) { prime_error("train: NULL params"); return NULL; }
    if (p->T < 1 || p->T > PRIME_MAX_T) { prime_error("train: T must be 1..%d", PRIME_MAX_T); return NULL; }
    if (p->batch < 1) { prime_error("train: batch must be >= 1"); return NULL; }
    if (!(p->sparsity >= 0 && p->sparsity < 1)) { prime_error("train: sparsity must be in [0, 1)"); return NULL; }
    prime_trainer *tr = calloc(1, sizeof *tr);
    if (!tr) { prime_error("train: out of memory"); return NULL; }
    tr->p = *p;
    tr->a = prime_arch_nmnist();
    tr->a.T = p->T;
    if (p->c1 < 0 || p->c1 > 256 || p->c2 < 0 || p->c2 > 256) {
        prime_error("train: conv channels %d, %d out of 1..256", p->c1, p->c2);
        goto fail;
    }
    if (p->c1) tr->a.layers[0].out_c = p->c1;
    if (p->c2) tr->a.layers[2].out_c = p->c2;
    if (setup_dims(tr) != 0) goto fail;
    for (int l = 0; l < 5; l++) tr->a.layers[l].sparsity = p->sparsity;

    /* one arena: per layer w, r, score, weff, m, v; then wt2, chunk grads */
    size_t ntot = 0;
    for (int l = 0; l < PRIME_TR_NW; l++) {
        const prime_layer *pl = &tr->a.layers[tr->li[l]];
        tr->L[l].rows = prime_layer_rows(pl);
        tr->L[l].cols = prime_layer_cols(pl);
        tr->L[l].n = prime_layer_weights(pl);
        ntot += tr->L[l].n;
    }
    tr->ntot = ntot;
    size_t nwt2 = tr->L[1].n;
    tr->arena = calloc(8 * ntot + nwt2 + (size_t)PRIME_TR_CHUNKS * ntot, sizeof(float));
    uint8_t *masks = calloc(ntot, 1);
    if (!tr->arena || !masks) { free(masks); prime_error("train: out of memory"); goto fail; }
    float *q = tr->arena;
    uint8_t *mq = masks;
    for (int l = 0; l < PRIME_TR_NW; l++) {
        prime_tr_wlayer *L = &tr->L[l];
        L->w = q; q += L->n;
        L->r = q; q += L->n;
        L->score = q; q += L->n;
        L->weff = q; q += L->n;
        L->m = q; q += L->n;
        L->v = q; q += L->n;
        L->s_on = q; q += L->n;
        L->s_off = q; q += L->n;
        L->mask = mq; mq += L->n;
        if (!p->hw_aware) L->r = NULL;
        if (!p->hw_aware || p->noise_model != PRIME_TR_NOISE_CONDUCTANCE) L->s_on = L->s_off = NULL;
    }
    tr->wt2 = q; q += nwt2;
    tr->gchunk = q;

    if (!p->baseline) {
        tr->ctx = prime_create(&tr->a, dev);
        if (!tr->ctx) goto fail;
        for (int l = 0; l < PRIME_TR_NW; l++) {
            prime_tr_wlayer *L = &tr->L[l];
            if (prime_get_weights(tr->ctx, tr->li[l], 1, L->w, L->n) != 0) goto fail;
            if (L->s_on && prime_get_noise_weights(tr->ctx, tr->li[l], 1, L->s_on, L->n) != 0) goto fail;
            if (L->r) { /* off-state residuals: prune everything, read, restore */
                memset(L->mask, 0, L->n);
                if (prime_set_mask(tr->ctx, tr->li[l], L->mask, L->n) != 0) goto fail;
                if (prime_get_weights(tr->ctx, tr->li[l], 0, L->r, L->n) != 0) goto fail;
                if (L->s_off && prime_get_noise_weights(tr->ctx, tr->li[l], 0, L->s_off, L->n) != 0) goto fail;
                memset(L->mask, 1, L->n);
                if (prime_set_mask(tr->ctx, tr->li[l], L->mask, L->n) != 0) goto fail;
            }
        }
    }
    /* scores (or baseline weights): Uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
    for (int l = 0; l < PRIME_TR_NW; l++) {
        prime_tr_wlayer *L = &tr->L[l];
        double b = 1.0 / sqrt((double)L->rows);
        for (size_t i = 0; i < L->n; i++)
            L->score[i] = (float)((2 * prime_rand_uniform(p->seed, 0x73636f7265ull + l, i) - 1) * b);
    }

    /* workspaces */
    int T = p->T;
    size_t n0 = (size_t)tr->H0 * tr->W0 * tr->C0, n1 = (size_t)tr->H1 * tr->W1 * tr->C1;
    size_t n1p = (size_t)tr->H1p * tr->W1p * tr->C1, n2 = (size_t)tr->H2 * tr->W2 * tr->C2;
    size_t n2p = (size_t)tr->H2p * tr->W2p * tr->C2;
    size_t per = T * (n0 + n1 + n1p + n2 + n2p + tr->NC) + 5 * n1 + 5 * n2 + 3 * n2p + n1p
                 + 2 * n2p;
    tr->nthreads = p->threads < 1 ? 1 : (p->threads > 64 ? 64 : p->threads);
    tr->ws = calloc(tr->nthreads, sizeof(prime_tr_ws));
    tr->wsarena = calloc(per * tr->nthreads, sizeof(float));
    if (!tr->ws || !tr->wsarena) { prime_error("train: out of memory"); goto fail; }
    for (int i = 0; i < tr->nthreads; i++) {
        prime_tr_ws *w = &tr->ws[i];
        float *z = tr->wsarena + per * i;
        w->x = z; z += T * n0;
        w->U1 = z; z += T * n1;
        w->P1 = z; z += T * n1p;
        w->U2 = z; z += T * n2;
        w->P2 = z; z += T * n2p;
        w->Uo = z; z += T * tr->NC;
        w->I1 = z; z += n1; w->S1 = z; z += n1; w->g1 = z; z += n1;
        w->ga1 = z; z += n1; w->gi1 = z; z += n1;
        w->I2 = z; z += n2; w->S2 = z; z += n2; w->g2 = z; z += n2;
        w->ga2 = z; z += n2; w->gi2 = z; z += n2;
        w->Q2 = z; z += n2p; w->gp2 = z; z += n2p; w->gq2 = z; z += n2p;
        w->gp1 = z; z += n1p;
    }
    if (prime_tr_make_weff(tr, 0, 0) != 0) goto fail;
    return tr;
fail:
    prime_trainer_free(tr);
    return NULL;
}

void prime_trainer_free(prime_trainer *tr) {
    if (!tr) return;
    if (tr->ctx) prime_free(tr->ctx);
    free(tr->L[0].mask);
    free(tr->arena);
    free(tr->wsarena);
    free(tr->ws);
    free(tr);
}

prime_ctx *prime_trainer_ctx(prime_trainer *tr) { return tr ? tr->ctx : NULL; }
int prime_trainer_n_weight_layers(const prime_trainer *tr) { (void)tr; return PRIME_TR_NW; }
size_t prime_trainer_layer_size(const prime_trainer *tr, int wl) {
    return (tr && wl >= 0 && wl < PRIME_TR_NW) ? tr->L[wl].n : 0;
}
float *prime_trainer_weff(prime_trainer *tr, int wl) {
    return (tr && wl >= 0 && wl < PRIME_TR_NW) ? tr->L[wl].weff : NULL;
}
void prime_trainer_refresh(prime_trainer *tr) {
    if (tr) prime_tr_make_weff(tr, 0, 0);
}
int prime_trainer_refresh_noisy(prime_trainer *tr, uint64_t draw) {
    return tr ? prime_tr_make_weff(tr, 1, draw) : prime_error("train: NULL trainer");
}

/* Recomputes only the transposed copy (after tests edit weff directly). */
static void sync_wt2(prime_trainer *tr) {
    prime_tr_conv_transpose(tr->wt2, tr->L[1].weff, tr->C1, tr->C2, tr->k2);
}

double prime_trainer_sample_grad(prime_trainer *tr, const uint8_t *x, int label,
                                 float *const *grads, float *logits) {
    if (!tr || !x || label < 0 || label >= tr->NC) { prime_error("train: bad sample"); return NAN; }
    float lg[PRIME_MAX_CLASSES], dl[PRIME_MAX_CLASSES];
    sync_wt2(tr);
    load_input_u8(tr, &tr->ws[0], x);
    double loss = sample_forward(tr, &tr->ws[0], label, lg, dl);
    if (grads) sample_backward(tr, &tr->ws[0], dl, grads);
    if (logits) memcpy(logits, lg, sizeof(float) * tr->NC);
    return loss;
}

double prime_trainer_sample_grad_f(prime_trainer *tr, const float *x, int label,
                                   float *const *grads, float *logits) {
    if (!tr || !x || label < 0 || label >= tr->NC) { prime_error("train: bad sample"); return NAN; }
    float lg[PRIME_MAX_CLASSES], dl[PRIME_MAX_CLASSES];
    sync_wt2(tr);
    load_input_f(tr, &tr->ws[0], x);
    double loss = sample_forward(tr, &tr->ws[0], label, lg, dl);
    if (grads) sample_backward(tr, &tr->ws[0], dl, grads);
    if (logits) memcpy(logits, lg, sizeof(float) * tr->NC);
    return loss;
}

/* ================================================================ threads */

typedef struct { prime_tr_job *job; int tid; } prime_tr_targ;

/* Worker: takes chunks in turn; chunk c covers samples [c n / nc, (c+1) n / nc). */
static void *worker(void *arg) {
    prime_tr_targ *ta = arg;
    prime_tr_job *j = ta->job;
    prime_trainer *tr = j->tr;
    prime_tr_ws *ws = &tr->ws[ta->tid];
    size_t ss = prime_frames_sample_size(j->f);
    float lg[PRIME_MAX_CLASSES], dl[PRIME_MAX_CLASSES];
    for (;;) {
        int c = atomic_fetch_add(&j->next, 1);
        if (c >= j->nchunks) break;
        int a = (int)((long)c * j->n / j->nchunks), b = (int)((long)(c + 1) * j->n / j->nchunks);
        float *g[PRIME_TR_NW];
        if (j->backward) {
            float *base = tr->gchunk + (size_t)c * tr->ntot;
            memset(base, 0, sizeof(float) * tr->ntot);
            for (int l = 0; l < PRIME_TR_NW; l++) { g[l] = base; base += tr->L[l].n; }
        }
        double ls = 0;
        int cor = 0;
        for (int s = a; s < b; s++) {
            int i = j->idx ? j->idx[s] : s;
            int y = j->f->y[i];
            load_input_u8(tr, ws, j->f->x + ss * i);
            ls += sample_forward(tr, ws, y, lg, dl);
            int am = 0;
            for (int k = 1; k < tr->NC; k++) if (lg[k] > lg[am]) am = k;
            cor += am == y;
            if (j->backward) sample_backward(tr, ws, dl, g);
        }
        j->loss[c] = ls;
        j->correct[c] = cor;
    }
    return NULL;
}

/* Runs a job on the trainer's threads; 0 or -1. */
int prime_tr_run_job(prime_trainer *tr, prime_tr_job *j) {
    pthread_t th[64];
    prime_tr_targ ta[64];
    atomic_store(&j->next, 0);
    int nt = tr->nthreads < j->nchunks ? tr->nthreads : j->nchunks, started = 0;
    for (int i = 1; i < nt; i++) {
        ta[i].job = j; ta[i].tid = i;
        if (pthread_create(&th[i], NULL, worker, &ta[i]) != 0) break;
        started = i;
    }
    ta[0].job = j; ta[0].tid = 0;
    worker(&ta[0]);
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
    return 0;
}

int prime_trainer_evaluate(prime_trainer *tr, const prime_frames *f, int n,
                           double *acc, double *loss) {
    if (!tr || !f) return prime_error("train: NULL argument");
    if (f->T != tr->p.T || f->c != tr->C0 || f->h != tr->H0 || f->w != tr->W0)
        return prime_error("train: frames are [%d][%d][%d][%d], network wants [%d][%d][%d][%d]",
                           f->T, f->c, f->h, f->w, tr->p.T, tr->C0, tr->H0, tr->W0);
    if (n <= 0 || n > f->n) n = f->n;
    if (prime_tr_make_weff(tr, 0, 0) != 0) return -1;
    double ls = 0;
    long cor = 0;
    static const int CH = 1024 * PRIME_TR_EVAL_CHUNK;
    prime_tr_job *j = calloc(1, sizeof *j);
    if (!j) return prime_error("train: out of memory");
    for (int s0 = 0; s0 < n; s0 += CH) {
        int m = n - s0 < CH ? n - s0 : CH;
        int *idx = malloc(sizeof(int) * m);
        if (!idx) { free(j); return prime_error("train: out of memory"); }
        for (int i = 0; i < m; i++) idx[i] = s0 + i;
        j->tr = tr; j->f = f; j->idx = idx; j->n = m; j->backward = 0;
        j->nchunks = (m + PRIME_TR_EVAL_CHUNK - 1) / PRIME_TR_EVAL_CHUNK;
        prime_tr_run_job(tr, j);
        for (int c = 0; c < j->nchunks; c++) { ls += j->loss[c]; cor += j->correct[c]; }
        free(idx);
    }
    free(j);
    if (acc) *acc = (double)cor / n;
    if (loss) *loss = ls / n;
    return 0;
}

/* ================================================================ optimizer */

/* One optimizer step on every layer with the batch gradient gsum / B. */
void prime_tr_opt_step(prime_trainer *tr, float lr, int B) {
    const prime_train_params *p = &tr->p;
    const float *gs = tr->gchunk; /* chunk 0 holds the ordered sum */
    double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    double bc1 = 1 - pow(b1, (double)tr->step), bc2 = 1 - pow(b2, (double)tr->step);
    for (int l = 0; l < PRIME_TR_NW; l++) {
        prime_tr_wlayer *L = &tr->L[l];
        for (size_t i = 0; i < L->n; i++) {
            float g = gs[i] / (float)B;
            if (!p->baseline) { /* straight-through: dL/dscore = dL/dweff * w * sign */
                float s = L->score[i];
                g = g * L->w[i] * (s > 0 ? 1.0f : (s < 0 ? -1.0f : 0.0f));
            }
            g += p->wd * L->score[i];
            if (p->opt == PRIME_OPT_ADAM) {
                L->m[i] = (float)(b1 * L->m[i] + (1 - b1) * g);
                L->v[i] = (float)(b2 * L->v[i] + (1 - b2) * (double)g * g);
                double mh = L->m[i] / bc1, vh = L->v[i] / bc2;
                L->score[i] -= (float)(lr * mh / (sqrt(vh) + eps));
            } else {
                L->m[i] = p->momentum * L->m[i] + g;
                L->score[i] -= lr * L->m[i];
            }
        }
        gs += L->n;
    }
}

/* ================================================================ step-wise use (src/train_wasm.c) */

int prime_trainer_batch(prime_trainer *tr, const prime_frames *train, const int *idx, int m,
                        float lr, double *loss, int *correct) {
    if (!tr || !train || !idx || m < 1 || m > train->n) return prime_error("train: bad batch");
    if (train->T != tr->p.T || train->c != tr->C0 || train->h != tr->H0 || train->w != tr->W0)
        return prime_error("train: frames are [%d][%d][%d][%d], network wants [%d][%d][%d][%d]",
                           train->T, train->c, train->h, train->w, tr->p.T, tr->C0, tr->H0, tr->W0);
    prime_tr_job *j = calloc(1, sizeof *j);
    if (!j) return prime_error("train: out of memory");
    tr->step++;
    if (prime_tr_make_weff(tr, 1, (uint64_t)tr->step) != 0) { free(j); return -1; }
    j->tr = tr; j->f = train; j->idx = idx; j->n = m; j->backward = 1;
    j->nchunks = m < PRIME_TR_CHUNKS ? m : PRIME_TR_CHUNKS;
    prime_tr_run_job(tr, j);
    for (int c = 1; c < j->nchunks; c++) {
        float *d = tr->gchunk, *s = tr->gchunk + (size_t)c * tr->ntot;
        for (size_t i = 0; i < tr->ntot; i++) d[i] += s[i];
    }
    double bl = 0;
    int bc = 0;
    for (int c = 0; c < j->nchunks; c++) { bl += j->loss[c]; bc += j->correct[c]; }
    free(j);
    prime_tr_opt_step(tr, lr, m);
    if (loss) *loss = bl;
    if (correct) *correct = bc;
    return 0;
}

int prime_trainer_warm_start(prime_trainer *tr, int wl, const uint8_t *mask, size_t n) {
    if (!tr || wl < 0 || wl >= PRIME_TR_NW || !mask || n != tr->L[wl].n)
        return prime_error("train: warm start needs layer 0..%d and its full mask", PRIME_TR_NW - 1);
    prime_tr_wlayer *L = &tr->L[wl];
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) kept += mask[i] != 0;
    if (n - kept != (size_t)floor((double)tr->p.sparsity * (double)n))
        return prime_error("train: warm-start mask prunes %zu of %zu, the trainer prunes %.0f",
                           n - kept, n, floor((double)tr->p.sparsity * (double)n));
    double b = 1.0 / sqrt((double)L->rows);
    for (size_t i = 0; i < n; i++) { /* |score| in (0, b] pruned, (b, 2b] kept; sign kept */
        float s = L->score[i], a = fabsf(s);
        float mag = (float)(mask[i] ? b + (a > 0 ? a : b * 0.5) : (a > 0 ? a : b * 0.5));
        L->score[i] = s < 0 ? -mag : mag;
    }
    return prime_tr_make_weff(tr, 0, 0);
}

const uint8_t *prime_trainer_mask(const prime_trainer *tr, int wl) {
    return (tr && wl >= 0 && wl < PRIME_TR_NW) ? tr->L[wl].mask : NULL;
}

int prime_trainer_layer_index(const prime_trainer *tr, int wl) {
    return (tr && wl >= 0 && wl < PRIME_TR_NW) ? tr->li[wl] : -1;
}
