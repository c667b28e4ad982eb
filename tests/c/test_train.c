/* test_train.c - gradient checks of the mask trainer and a CI-sized training run.
 *
 * Gradients: every layer's backward against central finite differences of a
 * random linear read-out L = sum(out * R). The LIF is checked with smooth
 * spikes (spike = clamp(U - th + 0.5, 0, 1), whose derivative is exactly the
 * surrogate), so the surrogate-defined gradient is a true gradient there.
 * Coordinates whose +-eps step crosses a kink (LeakyReLU at 0, clamp ends) are
 * detected by a large second difference and skipped (counted).
 * Tolerance: |fd - an| <= 2e-2 * max(|fd|, |an|) + abs_tol, per coordinate;
 * whole-network checks use directional derivatives (see test_network).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "train.h"
#include "data.h"
#include "pmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

static float urand(uint64_t s, uint64_t i) { return (float)(2 * prime_rand_uniform(7, s, i) - 1); }

/* Sparse non-negative "event count" tensor. */
static void fill_sparse(float *x, size_t n, uint64_t s, float density) {
    for (size_t i = 0; i < n; i++) {
        double u = prime_rand_uniform(9, s, i);
        x[i] = u < density ? (float)(1 + (int)(u / density * 3)) * 0.5f : 0.0f;
    }
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* Compares analytic an[] against fd[] (with 2nd differences sd[]); prints the
 * max relative diff over checked coordinates. */
static void compare(const char *name, const double *an, const double *fd, const double *sd,
                    int n, double abs_tol, double kink_tol) {
    double mx = 0;
    int bad = 0, skipped = 0;
    for (int i = 0; i < n; i++) {
        if (sd && fabs(sd[i]) > kink_tol) { skipped++; continue; }
        double d = fabs(an[i] - fd[i]), m = fmax(fabs(an[i]), fabs(fd[i]));
        if (m > abs_tol) mx = fmax(mx, d / m);
        if (d > 2e-2 * m + abs_tol) bad++;
    }
    char msg[256];
    snprintf(msg, sizeof msg, "%s gradient vs finite differences: %d coords, max rel diff %.2e, "
             "%d out of tolerance, %d skipped at kinks", name, n, mx, bad, skipped);
    CHECKV(bad == 0 && skipped < n / 4, "%s", msg);
}

/* ================================================================ layers */

static void test_conv(int pad) {
    int H = 9, W = 8, C = 3, OC = 5, k = 3;
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    size_t ni = (size_t)H * W * C, nw = (size_t)C * k * k * OC, no = (size_t)OH * OW * OC;
    float *in = malloc(ni * 4), *w = malloc(nw * 4), *wt = malloc(nw * 4), *out = malloc(no * 4),
          *ref = malloc(no * 4), *R = malloc(no * 4), *dw = calloc(nw, 4), *dwr = calloc(nw, 4),
          *din = malloc(ni * 4), *dinr = malloc(ni * 4);
    fill_sparse(in, ni, 1, 0.4f);
    for (size_t i = 0; i < nw; i++) w[i] = urand(2, i);
    for (size_t i = 0; i < no; i++) R[i] = urand(3, i);
    prime_tr_conv_forward(out, in, w, H, W, C, OC, k, pad);
    prime_tr_conv_forward_ref(ref, in, w, H, W, C, OC, k, pad);
    double mx = 0;
    for (size_t i = 0; i < no; i++) mx = fmax(mx, fabs(out[i] - ref[i]));
    char msg[200];
    snprintf(msg, sizeof msg, "conv pad %d: fast forward = reference (max abs diff %.2e, tol 1e-5)", pad, mx);
    CHECKV(mx < 1e-5, "%s", msg);
    prime_tr_conv_transpose(wt, w, C, OC, k);
    prime_tr_conv_backward(dw, din, R, in, wt, H, W, C, OC, k, pad);
    prime_tr_conv_backward_ref(dwr, dinr, R, in, w, H, W, C, OC, k, pad);
    mx = 0;
    for (size_t i = 0; i < nw; i++) mx = fmax(mx, fabs(dw[i] - dwr[i]));
    for (size_t i = 0; i < ni; i++) mx = fmax(mx, fabs(din[i] - dinr[i]));
    snprintf(msg, sizeof msg, "conv pad %d: fast backward = reference (max abs diff %.2e, tol 1e-5)", pad, mx);
    CHECKV(mx < 1e-5, "%s", msg);
    /* finite differences on w and on in (L is linear: exact up to rounding) */
    double *an = malloc((nw + ni) * 8), *fd = malloc((nw + ni) * 8);
    float eps = 1e-2f;
    for (size_t i = 0; i < nw + ni; i++) {
        float *p = i < nw ? &w[i] : &in[i - nw];
        float o = *p;
        *p = o + eps; prime_tr_conv_forward_ref(out, in, w, H, W, C, OC, k, pad);
        double lp = dot(out, R, no);
        *p = o - eps; prime_tr_conv_forward_ref(out, in, w, H, W, C, OC, k, pad);
        double lm = dot(out, R, no);
        *p = o;
        fd[i] = (lp - lm) / (2 * eps);
        an[i] = i < nw ? dw[i] : din[i - nw];
    }
    snprintf(msg, sizeof msg, "conv pad %d (w and input)", pad);
    compare(msg, an, fd, NULL, (int)(nw + ni), 1e-4, 0);
    free(an); free(fd);
    free(in); free(w); free(wt); free(out); free(ref); free(R); free(dw); free(dwr); free(din); free(dinr);
}

/* The float scatter every fast kernel must match bit for bit (the summation
 * order of the trainer's earlier axpy kernels): dw, din and out accumulate
 * one multiply-then-add at a time in input raster / (oy, ox, oc) order. */
static void scatter_conv(float *out, float *dw, float *din, const float *in, const float *w,
                         const float *gout, int H, int W, int C, int OC, int k, int pad) {
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    memset(out, 0, sizeof(float) * (size_t)OH * OW * OC);
    memset(din, 0, sizeof(float) * (size_t)H * W * C);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++) {
                float v = in[(y * W + x) * C + c];
                if (v == 0.0f) continue;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int oy = y + pad - ky, ox = x + pad - kx;
                        if (oy < 0 || oy >= OH || ox < 0 || ox >= OW) continue;
                        size_t r = (size_t)((c * k + ky) * k + kx) * OC, o = ((size_t)oy * OW + ox) * OC;
                        for (int oc = 0; oc < OC; oc++) {
                            out[o + oc] += v * w[r + oc];
                            dw[r + oc] += v * gout[o + oc];
                        }
                    }
            }
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int oc = 0; oc < OC; oc++) {
                float g = gout[((size_t)oy * OW + ox) * OC + oc];
                if (g == 0.0f) continue;
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++) {
                        int y = oy - pad + ky, x = ox - pad + kx;
                        if (y < 0 || y >= H || x < 0 || x >= W) continue;
                        for (int c = 0; c < C; c++)
                            din[(y * W + x) * C + c] += g * w[(size_t)((c * k + ky) * k + kx) * OC + oc];
                    }
            }
}

/* Fast conv kernels (register-held gather, tails of every width) against the
 * float scatter: identical bits, for the narrow (scatter) and wide (gather) paths. */
static void test_conv_bits(int OC, int pad, int C) {
    int H = 13, W = 11, k = 5;
    int OH = H + 2 * pad - k + 1, OW = W + 2 * pad - k + 1;
    size_t ni = (size_t)H * W * C, nw = (size_t)C * k * k * OC, no = (size_t)OH * OW * OC;
    float *in = malloc(ni * 4), *w = malloc(nw * 4), *wt = malloc(nw * 4), *g = malloc(no * 4),
          *o1 = malloc(no * 4), *o2 = malloc(no * 4), *dw1 = calloc(nw, 4), *dw2 = calloc(nw, 4),
          *di1 = malloc(ni * 4), *di2 = malloc(ni * 4);
    fill_sparse(in, ni, 11 + OC, 0.3f);
    for (size_t i = 0; i < nw; i++) w[i] = urand(12, i);
    for (size_t i = 0; i < no; i++) g[i] = prime_rand_uniform(7, 13, i) < 0.2 ? 0.0f : urand(14, i);
    for (size_t i = 0; i < nw; i++) dw1[i] = dw2[i] = urand(15, i); /* accumulates onto a sum */
    prime_tr_conv_transpose(wt, w, C, OC, k);
    prime_tr_conv_forward(o1, in, w, H, W, C, OC, k, pad);
    prime_tr_conv_backward(dw1, di1, g, in, wt, H, W, C, OC, k, pad);
    scatter_conv(o2, dw2, di2, in, w, g, H, W, C, OC, k, pad);
    CHECKV(memcmp(o1, o2, no * 4) == 0 && memcmp(dw1, dw2, nw * 4) == 0 && memcmp(di1, di2, ni * 4) == 0,
           "conv %d->%d ch pad %d: fast forward, dw, din bit-identical to the float scatter", C, OC, pad);
    free(in); free(w); free(wt); free(g); free(o1); free(o2); free(dw1); free(dw2); free(di1); free(di2);
}

static void test_pool_fc(void) {
    int H = 6, W = 4, C = 3, k = 2;
    size_t ni = (size_t)H * W * C, no = ni / 4;
    float in[72], out[18], R[18], din[72];
    double an[72], fd[72];
    for (size_t i = 0; i < ni; i++) in[i] = urand(4, i);
    for (size_t i = 0; i < no; i++) R[i] = urand(5, i);
    prime_tr_pool_backward(din, R, H, W, C, k);
    for (size_t i = 0; i < ni; i++) {
        float o = in[i], eps = 1e-2f;
        in[i] = o + eps; prime_tr_pool_forward(out, in, H, W, C, k); double lp = dot(out, R, no);
        in[i] = o - eps; prime_tr_pool_forward(out, in, H, W, C, k); double lm = dot(out, R, no);
        in[i] = o;
        fd[i] = (lp - lm) / (2 * eps);
        an[i] = din[i];
    }
    compare("avgpool", an, fd, NULL, (int)ni, 1e-4, 0);

    int N = 20, M = 7;
    float x[20], w[140], o2[7], R2[7], dw[140] = {0}, dx[20];
    double an2[160], fd2[160];
    fill_sparse(x, N, 6, 0.5f);
    for (int i = 0; i < N * M; i++) w[i] = urand(7, i);
    for (int i = 0; i < M; i++) R2[i] = urand(8, i);
    prime_tr_fc_backward(dw, dx, R2, x, w, N, M);
    for (int i = 0; i < N * M + N; i++) {
        float *p = i < N * M ? &w[i] : &x[i - N * M], o = *p, eps = 1e-2f;
        *p = o + eps; prime_tr_fc_forward(o2, x, w, N, M); double lp = dot(o2, R2, M);
        *p = o - eps; prime_tr_fc_forward(o2, x, w, N, M); double lm = dot(o2, R2, M);
        *p = o;
        fd2[i] = (lp - lm) / (2 * eps);
        an2[i] = i < N * M ? dw[i] : dx[i - N * M];
    }
    compare("fc (w and input)", an2, fd2, NULL, N * M + N, 1e-4, 0);
}

/* LIF over T steps: L = sum_t s_t . R_t, gradient w.r.t. every I_t. */
static double lif_loss(const float *I, const float *R, int n, int T, float *Ust) {
    float U[16] = {0}, s[16] = {0};
    double L = 0;
    for (int t = 0; t < T; t++) {
        prime_tr_lif_forward(U, s, I + t * n, n, 0.2f, 0.8f, 0.1f, 1);
        if (Ust) memcpy(Ust + t * n, U, sizeof(float) * n);
        L += dot(s, R + t * n, n);
    }
    return L;
}

static void test_lif(void) {
    enum { n = 16, T = 8 };
    float I[n * T], R[n * T], Ust[n * T], gI[n * T], ga[n];
    double an[n * T], fd[n * T], sd[n * T];
    for (int i = 0; i < n * T; i++) { I[i] = 0.6f * urand(10, i) + 0.1f; R[i] = urand(11, i); }
    double L0 = lif_loss(I, R, n, T, Ust);
    memset(ga, 0, sizeof ga);
    for (int t = T - 1; t >= 0; t--)
        prime_tr_lif_backward(gI + t * n, ga, R + t * n, Ust + t * n, n, 0.2f, 0.8f, 0.1f, 1);
    for (int i = 0; i < n * T; i++) {
        float o = I[i], eps = 1e-3f;
        I[i] = o + eps; double lp = lif_loss(I, R, n, T, NULL);
        I[i] = o - eps; double lm = lif_loss(I, R, n, T, NULL);
        I[i] = o;
        fd[i] = (lp - lm) / (2 * eps);
        sd[i] = (lp - 2 * L0 + lm) / eps; /* ~eps for smooth, ~jump at a kink */
        an[i] = gI[i];
    }
    compare("LIF (smooth spikes = surrogate), BPTT over 8 steps", an, fd, sd, n * T, 1e-3, 2e-2);
}

/* ================================================================ network */

static void test_network(void) {
    prime_train_params p = prime_train_default_params();
    p.smooth_spikes = 1;
    p.threads = 1;
    p.seed = 3;
    p.T = 4; /* fewer steps, fewer kinks: BPTT is still exercised */
    p.sparsity = 0; /* pruned weights sit at weff = 0, exactly on the LeakyReLU
                       kink of any cell they alone feed: check away from it */
    prime_trainer *tr = prime_trainer_create(&p);
    if (!tr) { CHECKV(0, "%s", prime_last_error()); return; }
    size_t nx = (size_t)p.T * 2 * 34 * 34;
    float *x = malloc(nx * 4);
    fill_sparse(x, nx, 12, 0.05f);
    int nl = prime_trainer_n_weight_layers(tr);
    float *g[3];
    for (int l = 0; l < nl; l++) g[l] = calloc(prime_trainer_layer_size(tr, l), 4);
    float lg[16];
    double L0 = prime_trainer_sample_grad_f(tr, x, 3, g, lg);
    printf("network (smooth) loss %.4f, logits[0..2] %.4f %.4f %.4f\n", L0, lg[0], lg[1], lg[2]);
    /* Directional derivatives along random +-1 directions (every weight of a
     * layer moved by eps): float rounding in the dense smooth network is
     * ~1e-5 in the loss, so single-weight differences of conv1 (whose
     * gradients are tiny) drown in it; a whole-layer direction does not.
     * (Built with -Dfloat=double the same check agrees to ~1e-6.) */
    const char *names[3] = {"network conv1 (3 directions)", "network conv2 (3 directions)",
                            "network fc (3 directions)"};
    for (int l = 0; l < nl; l++) {
        enum { K = 3 };
        double an[K], fd[K];
        float *w = prime_trainer_weff(tr, l);
        size_t n = prime_trainer_layer_size(tr, l);
        float *w0 = malloc(n * sizeof(float));
        memcpy(w0, w, n * sizeof(float));
        float eps = 1e-4f;
        /* conv1 sits under two LIF layers: its differences carry the most
         * rounding noise (measured 1-6 % in float, 1e-6 in double) */
        double tol = l == 0 ? 1e-1 : 5e-2;
        for (int k = 0; k < K; k++) {
            an[k] = 0;
            for (size_t i = 0; i < n; i++) an[k] += (prime_rand_u64(13, l * 8 + k, i) & 1 ? 1 : -1) * g[l][i];
            for (size_t i = 0; i < n; i++) w[i] = w0[i] + eps * (prime_rand_u64(13, l * 8 + k, i) & 1 ? 1 : -1);
            double lp = prime_trainer_sample_grad_f(tr, x, 3, NULL, NULL);
            for (size_t i = 0; i < n; i++) w[i] = w0[i] - eps * (prime_rand_u64(13, l * 8 + k, i) & 1 ? 1 : -1);
            double lm = prime_trainer_sample_grad_f(tr, x, 3, NULL, NULL);
            memcpy(w, w0, n * sizeof(float));
            fd[k] = (lp - lm) / (2 * eps);
        }
        double mx = 0;
        int bad = 0;
        for (int k = 0; k < K; k++) {
            double d = fabs(an[k] - fd[k]) / fmax(fabs(an[k]), fabs(fd[k]));
            mx = fmax(mx, d);
            bad += d > tol;
        }
        char msg[200];
        snprintf(msg, sizeof msg, "%s: max rel diff %.2e (tol %.0e)", names[l], mx, tol);
        CHECKV(bad == 0, "%s", msg);
        free(w0);
    }
    /* single weights of conv2 and fc: the largest gradients */
    for (int l = 1; l < nl; l++) {
        enum { K = 20 };
        double an[K], fd[K], sd[K], gmax = 0;
        float *w = prime_trainer_weff(tr, l);
        size_t n = prime_trainer_layer_size(tr, l);
        for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(g[l][i]));
        for (int k = 0; k < K; k++) {
            size_t i = prime_rand_u64(13, l, k) % n;
            for (int r = 0; r < 200; r++) {
                size_t j = prime_rand_u64(14, l * 100 + k, r) % n;
                if (fabs(g[l][j]) > fabs(g[l][i])) i = j;
            }
            float o = w[i], eps = 1e-3f;
            w[i] = o + eps; double lp = prime_trainer_sample_grad_f(tr, x, 3, NULL, NULL);
            w[i] = o - eps; double lm = prime_trainer_sample_grad_f(tr, x, 3, NULL, NULL);
            w[i] = o;
            fd[k] = (lp - lm) / (2 * eps);
            sd[k] = (lp - 2 * L0 + lm) / eps;
            an[k] = g[l][i];
        }
        compare(l == 1 ? "network conv2 (single weights)" : "network fc (single weights)",
                an, fd, sd, K, 2e-3 * gmax + 1e-5, 0.2 * gmax + 1e-4);
    }
    for (int l = 0; l < nl; l++) free(g[l]);
    free(x);
    prime_trainer_free(tr);
}

/* ================================================================ training */

/* Same seed, 1 vs 2 threads: identical masks after a short run on random data. */
static void test_determinism(void) {
    prime_frames f = {.n = 48, .T = 10, .c = 2, .h = 34, .w = 34};
    size_t ss = prime_frames_sample_size(&f);
    f.x = malloc(ss * f.n);
    f.y = malloc(f.n);
    for (size_t i = 0; i < ss * f.n; i++) f.x[i] = prime_rand_u64(15, 0, i) % 16 == 0 ? 1 : 0;
    for (int i = 0; i < f.n; i++) f.y[i] = (uint8_t)(i % 10);
    float *w[2];
    size_t n[2];
    for (int r = 0; r < 2; r++) {
        prime_train_params p = prime_train_default_params();
        p.epochs = 1; p.batch = 16; p.threads = r + 1; p.verbose = 0; p.seed = 5;
        p.lr = 1e-2f;
        prime_trainer *tr = prime_trainer_create(&p);
        if (!tr || prime_trainer_fit(tr, &f, NULL) != 0) { CHECKV(0, "%s", prime_last_error()); return; }
        n[r] = prime_trainer_layer_size(tr, 1);
        w[r] = malloc(n[r] * 4);
        memcpy(w[r], prime_trainer_weff(tr, 1), n[r] * 4);
        prime_trainer_free(tr);
    }
    CHECKV(n[0] == n[1] && memcmp(w[0], w[1], n[0] * 4) == 0,
          "same seed, 1 and 2 threads: bit-identical masks after 3 batches");
    free(w[0]); free(w[1]); free(f.x); free(f.y);
}

/* hw-aware noise in the conductance form: prime_get_noise_weights against the
 * conductances of the array itself, then the trainer's noisy weights: (weff -
 * w) / (eta s) is N(0, 1) on kept and pruned pairs; in the weight form the
 * pruned pairs carry no noise and the kept ones (weff / w - 1) / eta is N(0, 1).
 * Also --channels: a 6,16 network trains and reports its sizes. */
static void test_noise_models(void) {
    prime_arch a = prime_arch_nmnist();
    prime_device d = prime_default_device();
    d.chip_seed = 3;
    prime_ctx *c = prime_create(&a, &d);
    CHECKV(c != NULL, "context: %s", c ? "" : prime_last_error());
    if (!c) return;
    const size_t n0 = (size_t)prime_layer_rows(&a.layers[0]) * prime_layer_cols(&a.layers[0]);
    float *s = malloc(n0 * 4), *arr = malloc(512 * 512 * 4);
    int ok = prime_get_noise_weights(c, 0, 0, s, n0) == 0 && prime_get_array(c, 0, arr, 512 * 512) == 0;
    double worst = 0;
    const int cols = prime_layer_cols(&a.layers[0]);
    for (size_t i = 0; ok && i < n0; i++) {
        float gp = arr[(i / cols) * 512 + 2 * (i % cols)], gn = arr[(i / cols) * 512 + 2 * (i % cols) + 1];
        double want = sqrt((double)gp * gp + (double)gn * gn) * a.layers[0].scale;
        double e = fabs(s[i] - want) / want;
        if (e > worst) worst = e;
    }
    CHECKV(ok && worst < 1e-6, "noise weights = sqrt(G+^2 + G-^2) * scale of the array's cells (worst rel. error %.2g)", worst);
    CHECKV(prime_get_noise_weights(c, 1, 0, s, n0) != 0, "noise weights: a pooling layer is refused (%s)", prime_last_error());
    free(s); free(arr);
    prime_free(c);

    for (int model = 0; model < 2; model++) {
        prime_train_params p = prime_train_default_params();
        p.verbose = 0, p.seed = 3, p.hw_aware = 1, p.read_noise = 0.1f, p.noise_model = model;
        prime_trainer *tr = prime_trainer_create(&p);
        CHECKV(tr != NULL, "hw-aware trainer: %s", tr ? "" : prime_last_error());
        if (!tr) return;
        const size_t n = prime_trainer_layer_size(tr, 1);
        float *w = malloc(n * 4);
        memcpy(w, prime_trainer_weff(tr, 1), n * 4); /* no noise: kept at w, pruned at the residual */
        const uint8_t *mk = prime_trainer_mask(tr, 1);
        double z[2][2] = {{0}}; /* [pruned/kept][sum, sum of squares] */
        size_t cnt[2] = {0}, moved_pruned = 0;
        float *sn = malloc(n * 4), *sf = malloc(n * 4);
        prime_device dd = prime_default_device();
        dd.chip_seed = 3;
        prime_ctx *ref = prime_create(&a, &dd);
        uint8_t *m0 = calloc(n, 1);
        ok = ref && prime_get_noise_weights(ref, 2, 1, sn, n) == 0 && prime_set_mask(ref, 2, m0, n) == 0 &&
             prime_get_noise_weights(ref, 2, 0, sf, n) == 0 && prime_trainer_refresh_noisy(tr, 7) == 0;
        const float *wn = prime_trainer_weff(tr, 1);
        for (size_t i = 0; ok && i < n; i++) {
            int k = mk[i] ? 1 : 0;
            double v;
            if (model == 1) v = (wn[i] - w[i]) / (0.1 * (k ? sn[i] : sf[i]));
            else if (k) v = (wn[i] / w[i] - 1) / 0.1;
            else { moved_pruned += wn[i] != w[i]; continue; }
            z[k][0] += v, z[k][1] += v * v, cnt[k]++;
        }
        for (int k = model ? 0 : 1; ok && k < 2; k++) {
            double mean = z[k][0] / cnt[k], sd = sqrt(z[k][1] / cnt[k] - mean * mean);
            CHECKV(fabs(mean) < 0.04 && fabs(sd - 1) < 0.03, "%s noise, %s pairs of conv2 (%zu): z mean %.4f sd %.4f",
                   model ? "conductance" : "weight", k ? "kept" : "pruned", cnt[k], mean, sd);
        }
        if (model == 0) CHECK_INT(moved_pruned, 0, "weight noise leaves the pruned pairs at their residual");
        CHECKV(ok, "noise check ran (%s)", ok ? "" : prime_last_error());
        prime_free(ref);
        free(m0); free(sn); free(sf); free(w);
        prime_trainer_free(tr);
    }

    prime_train_params p = prime_train_default_params();
    p.verbose = 0, p.c1 = 6, p.c2 = 16;
    prime_trainer *tr = prime_trainer_create(&p);
    CHECKV(tr && prime_trainer_layer_size(tr, 0) == 50 * 6 && prime_trainer_layer_size(tr, 1) == 150 * 16 &&
           prime_trainer_layer_size(tr, 2) == 16 * 36 * 10, "--channels 6,16: layer sizes 300, 2400, 5760");
    prime_trainer_free(tr);
    p.c1 = 300;
    tr = prime_trainer_create(&p);
    CHECKV(tr == NULL, "--channels 300: refused (%s)", prime_last_error());
    prime_trainer_free(tr);
}

static void subset(prime_frames *dst, const prime_frames *src, int a, int n) {
    *dst = *src;
    size_t ss = prime_frames_sample_size(src);
    dst->n = n;
    dst->x = src->x + ss * a;
    dst->y = src->y + a;
}

static void test_training(void) {
    prime_images im;
    if (prime_images_load("mnist", "train", &im) != 0) {
        CHECK_DATA(0, "CI training run: mnist data not available: %s", prime_last_error());
        return;
    }
    int ntr = 960, nte = 300;
    if (im.n > ntr + nte) im.n = ntr + nte;
    prime_frames all;
    if (prime_frames_from_images(&im, 10, 34, 1, &all) != 0) {
        CHECKV(0, "%s", prime_last_error());
        prime_images_free(&im);
        return;
    }
    prime_images_free(&im);
    prime_frames tr_f, te_f;
    subset(&tr_f, &all, 0, ntr);
    subset(&te_f, &all, ntr, all.n - ntr);
    prime_train_params p = prime_train_default_params();
    p.epochs = 1; p.batch = 32; p.lr = 1e-3f; p.verbose = 0; p.seed = 1;
    prime_trainer *tr = prime_trainer_create(&p);
    if (!tr) { CHECKV(0, "%s", prime_last_error()); prime_frames_free(&all); return; }
    double a0, l0, a1, l1;
    prime_trainer_evaluate(tr, &te_f, 0, &a0, &l0);
    clock_t c0 = clock();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = prime_trainer_fit(tr, &tr_f, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    (void)c0;
    prime_trainer_evaluate(tr, &te_f, 0, &a1, &l1);
    double dt = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    printf("CI run: %d train samples x %d epochs in %.1f s (%.1f samples/s); test loss %.3f -> %.3f, "
           "acc %.1f%% -> %.1f%% (n=%d)\n", ntr, p.epochs, dt, ntr * p.epochs / dt, l0, l1,
           100 * a0, 100 * a1, te_f.n);
    CHECKV(rc == 0, "CI training run completes");
    CHECKV(l1 < l0, "CI training run: test loss falls");
    CHECKV(a1 > 0.30, "CI training run: test accuracy > 30% (chance 10%)");
    prime_trainer_free(tr);
    prime_frames_free(&all);
}

int main(void) {
    test_conv(0);
    test_conv(1);
    test_conv_bits(12, 1, 2);
    test_conv_bits(64, 0, 12);
    test_conv_bits(61, 2, 3);
    test_conv_bits(37, 0, 5);
    test_pool_fc();
    test_lif();
    test_network();
    test_determinism();
    test_noise_models();
    test_training();
    return check_summary();
}
