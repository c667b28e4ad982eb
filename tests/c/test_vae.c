/* test_vae.c - the inpainting network: layers against finite differences and
 * naive references, trainer vs simulator, file round trip, early stop rule. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"
#include "train_vae.h"

#include "check.h"

static float rnd(uint64_t s, uint64_t i) { return (float)(2 * prime_rand_uniform(s, 99, i) - 1); }

/* max |a - b| / max(1e-2, |a| + |b|) over n */
static double relerr(const double *a, const double *b, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / fmax(1e-2, fabs(a[i]) + fabs(b[i]));
        if (e > m) m = e;
    }
    return m;
}

/* ------------------------------------------------------------ geometry */
static void test_geometry(void) {
    prime_vae_arch a = prime_vae_default_arch();
    int oh[PRIME_VAE_LAYERS] = {16, 8, 4, 1, 1, 1, 4, 8, 16, 32, 32};
    int rows[PRIME_VAE_LAYERS] = {9, 288, 288, 512, 128, 128, 128, 288, 288, 288, 288};
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        CHECK_INT(prime_vae_layer_info(&a, i, &g), 0, "layer_info %d", i);
        CHECK(g.out_h == oh[i] && g.rows == rows[i], "layer %d: out_h %d rows %d", i, g.out_h, g.rows);
    }
    CHECK_INT(prime_vae_layer_info(&a, 11, &(prime_vae_layer){0}), -1, "layer 11 must fail");
    /* the digital baseline counts connections: a 3x3 stride-2 transposed conv
     * from h x h has (3h - 1)^2 (in, out, tap) triples (per axis, input i and
     * tap k land on 2i - 1 + k; only i = 0, k = 0 falls off), not 4h^2 x 9 */
    for (int i = 7; i <= 9; i++) {
        prime_vae_layer g;
        size_t n = 0;
        prime_vae_layer_info(&a, i, &g);
        int *c = prime_vae_connections(&a, i, &n);
        const size_t h = (size_t)g.in_h;
        CHECK(c && n == (3 * h - 1) * (3 * h - 1), "tconv %d: %zu connections, expected %zu", i, n, (3 * h - 1) * (3 * h - 1));
        free(c);
    }
    printf("geometry: paper shapes 32->16->8->4, fc 512->128, decoder 4->8->16->32 ok\n");
}

/* ------------------------------------------------------------ conv / tconv / fc */
/* Naive reference: out[o][oc] by the definition of conv / transposed conv. */
static void naive_lin(const prime_vae_layer *g, const float *W, const float *x, float *y) {
    const int K = g->k, S = g->stride, P = g->pad, IC = g->in_c, OC = g->cols;
    if (g->op == PRIME_VAE_FC) {
        for (int j = 0; j < OC; j++) {
            double s = 0;
            for (int r = 0; r < g->rows; r++) s += (double)x[r] * W[(size_t)r * OC + j];
            y[j] = (float)s;
        }
        return;
    }
    for (int oy = 0; oy < g->out_h; oy++)
        for (int ox = 0; ox < g->out_w; ox++)
            for (int oc = 0; oc < OC; oc++) {
                double s = 0;
                for (int ic = 0; ic < IC; ic++)
                    for (int ky = 0; ky < K; ky++)
                        for (int kx = 0; kx < K; kx++) {
                            int iy, ix;
                            if (g->op == PRIME_VAE_CONV) { iy = oy * S - P + ky, ix = ox * S - P + kx; }
                            else { /* oy = iy*S - P + ky */
                                int ty = oy + P - ky, tx = ox + P - kx;
                                if (ty < 0 || tx < 0 || ty % S || tx % S) continue;
                                iy = ty / S, ix = tx / S;
                            }
                            if (iy < 0 || ix < 0 || iy >= g->in_h || ix >= g->in_w) continue;
                            s += (double)x[((size_t)iy * g->in_w + ix) * IC + ic] * W[(size_t)((ic * K + ky) * K + kx) * OC + oc];
                        }
                y[((size_t)oy * g->out_w + ox) * OC + oc] = (float)s;
            }
}

static void test_lin(void) {
    prime_vae_arch a = prime_vae_default_arch();
    a.ch = 3, a.latent = 5, a.k = 2, a.size = 16;
    int layers[] = {PRIME_VAE_ENC1, PRIME_VAE_ENC2, PRIME_VAE_ENCFC, PRIME_VAE_DECFC, PRIME_VAE_DEC1, PRIME_VAE_DEC3, PRIME_VAE_OUT};
    for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
        int i = layers[li];
        prime_vae_layer g;
        prime_vae_layer_info(&a, i, &g);
        size_t nc = 0, nin = (size_t)g.in_c * g.in_h * g.in_w, nout = (size_t)g.out_c * g.out_h * g.out_w;
        int *conn = g.op == PRIME_VAE_FC ? NULL : prime_vae_connections(&a, i, &nc);
        size_t nw = (size_t)g.rows * g.cols;
        float *W = malloc(nw * 4), *x = malloc(nin * 4), *y = malloc(nout * 4), *yr = malloc(nout * 4);
        float *c = malloc(nout * 4), *dW = calloc(nw, 4), *dx = malloc(nin * 4);
        for (size_t j = 0; j < nw; j++) W[j] = rnd(1 + i, j);
        for (size_t j = 0; j < nin; j++) x[j] = (j % 3 == 0) ? 0.0f : rnd(2 + i, j); /* zeros: skipped rows */
        for (size_t j = 0; j < nout; j++) c[j] = rnd(3 + i, j);
        prime_vt_lin_forward(&g, conn, nc, W, x, y, 1);
        naive_lin(&g, W, x, yr);
        double md = 0;
        for (size_t j = 0; j < nout; j++) md = fmax(md, fabs(y[j] - yr[j]));
        CHECK(md < 1e-4, "layer %d forward vs naive: max diff %g", i, md);
        /* L = sum c*y: dL/dW, dL/dx vs central differences (the op is linear: exact) */
        prime_vt_lin_backward(&g, conn, nc, W, x, c, dW, dx, 1);
        double an[40], fd[40];
        int m = 0;
        for (int t = 0; t < 20; t++) {
            size_t j = (size_t)prime_rand_u64(7, i, t) % nw;
            double e = 1e-2, lp = 0, lm = 0;
            float w0 = W[j];
            W[j] = w0 + (float)e; naive_lin(&g, W, x, yr); for (size_t o = 0; o < nout; o++) lp += c[o] * yr[o];
            W[j] = w0 - (float)e; naive_lin(&g, W, x, yr); for (size_t o = 0; o < nout; o++) lm += c[o] * yr[o];
            W[j] = w0;
            an[m] = dW[j], fd[m++] = (lp - lm) / (2 * e);
            j = (size_t)prime_rand_u64(8, i, t) % nin;
            float x0 = x[j];
            lp = lm = 0;
            x[j] = x0 + (float)e; naive_lin(&g, W, x, yr); for (size_t o = 0; o < nout; o++) lp += c[o] * yr[o];
            x[j] = x0 - (float)e; naive_lin(&g, W, x, yr); for (size_t o = 0; o < nout; o++) lm += c[o] * yr[o];
            x[j] = x0;
            /* dW of a zero input is skipped (its row is not driven) but dx is not */
            an[m] = dx[j], fd[m++] = (lp - lm) / (2 * e);
        }
        /* dx at every sampled input (odd entries); dW is checked below with all
         * inputs non-zero, since a zero input drives no row and gets no dW */
        double ex = 0;
        for (int t = 1; t < m; t += 2) ex = fmax(ex, fabs(an[t] - fd[t]) / fmax(1e-2, fabs(an[t]) + fabs(fd[t])));
        CHECK(ex < 1e-3, "layer %d dx vs finite differences: rel err %g", i, ex);
        free(W), free(x), free(y), free(yr), free(c), free(dW), free(dx), free(conn);
    }
    /* dW with every input non-zero (so every row is driven) */
    prime_vae_layer g;
    prime_vae_layer_info(&a, PRIME_VAE_DEC2, &g);
    size_t nc, nin = (size_t)g.in_c * g.in_h * g.in_w, nout = (size_t)g.out_c * g.out_h * g.out_w, nw = (size_t)g.rows * g.cols;
    int *conn = prime_vae_connections(&a, PRIME_VAE_DEC2, &nc);
    float *W = malloc(nw * 4), *x = malloc(nin * 4), *yr = malloc(nout * 4), *c = malloc(nout * 4), *dW = calloc(nw, 4);
    for (size_t j = 0; j < nw; j++) W[j] = rnd(11, j);
    for (size_t j = 0; j < nin; j++) x[j] = rnd(12, j);
    for (size_t j = 0; j < nout; j++) c[j] = rnd(13, j);
    prime_vt_lin_backward(&g, conn, nc, W, x, c, dW, NULL, 1);
    double an[20], fd[20];
    for (int t = 0; t < 20; t++) {
        size_t j = (size_t)prime_rand_u64(9, 0, t) % nw;
        double e = 1e-2, lp = 0, lm = 0;
        float w0 = W[j];
        W[j] = w0 + (float)e; naive_lin(&g, W, x, yr); for (size_t o = 0; o < nout; o++) lp += c[o] * yr[o];
        W[j] = w0 - (float)e; naive_lin(&g, W, x, yr); for (size_t o = 0; o < nout; o++) lm += c[o] * yr[o];
        W[j] = w0;
        an[t] = dW[j], fd[t] = (lp - lm) / (2 * e);
    }
    double e = relerr(an, fd, 20);
    CHECK(e < 1e-3, "tconv dW vs finite differences: rel err %g", e);
    printf("conv / tconv / fc: forward = naive reference, dW and dx = finite differences (rel err %.1e)\n", e);
    free(W), free(x), free(yr), free(c), free(dW), free(conn);
}

/* ------------------------------------------------------------ batch norm */
static double bn_loss(const float *y0, size_t N, int n, int C, const float *gm, const float *bt, const float *c) {
    size_t tot = N * n;
    float *y = malloc(tot * 4), *o = malloc(tot * 4), mean[8], inv[8];
    memcpy(y, y0, tot * 4);
    prime_vt_bn_forward(y, o, N, n, C, gm, bt, mean, inv);
    double L = 0;
    for (size_t i = 0; i < tot; i++) L += c[i] * o[i] * o[i]; /* non-linear in o: checks the full Jacobian */
    free(y), free(o);
    return L;
}

static void test_bn(void) {
    const size_t N = 6;
    const int n = 8, C = 4;
    size_t tot = N * n;
    float y[48], xh[48], o[48], c[48], gm[4] = {1.2f, 0.7f, -0.5f, 2}, bt[4] = {0.1f, -0.2f, 0.3f, 0}, mean[4], inv[4];
    for (size_t i = 0; i < tot; i++) y[i] = rnd(21, i) * 3 + (float)(i % C), c[i] = rnd(22, i);
    memcpy(xh, y, sizeof y);
    prime_vt_bn_forward(xh, o, N, n, C, gm, bt, mean, inv);
    double m0 = 0, v0 = 0;
    for (size_t i = 0; i < tot; i += C) m0 += xh[i], v0 += xh[i] * xh[i];
    CHECK(fabs(m0 / (tot / C)) < 1e-5 && fabs(v0 / (tot / C) - 1) < 1e-3, "bn: xhat mean %g var %g", m0, v0);
    float dout[48], dy[48], dg[4] = {0}, db[4] = {0};
    for (size_t i = 0; i < tot; i++) dout[i] = 2 * c[i] * o[i];
    prime_vt_bn_backward(dout, xh, N, n, C, gm, inv, dy, dg, db);
    double an[60], fd[60];
    int m = 0;
    const double e = 1e-3;
    for (size_t i = 0; i < tot; i += 3) {
        float yp[48];
        memcpy(yp, y, sizeof y);
        yp[i] = y[i] + (float)e; double lp = bn_loss(yp, N, n, C, gm, bt, c);
        yp[i] = y[i] - (float)e; double lm = bn_loss(yp, N, n, C, gm, bt, c);
        an[m] = dy[i], fd[m++] = (lp - lm) / (2 * e);
    }
    for (int k = 0; k < C; k++) {
        float g2[4];
        memcpy(g2, gm, sizeof g2);
        g2[k] = gm[k] + (float)e; double lp = bn_loss(y, N, n, C, g2, bt, c);
        g2[k] = gm[k] - (float)e; double lm = bn_loss(y, N, n, C, g2, bt, c);
        an[m] = dg[k], fd[m++] = (lp - lm) / (2 * e);
        float b2[4];
        memcpy(b2, bt, sizeof b2);
        b2[k] = bt[k] + (float)e; lp = bn_loss(y, N, n, C, gm, b2, c);
        b2[k] = bt[k] - (float)e; lm = bn_loss(y, N, n, C, gm, b2, c);
        an[m] = db[k], fd[m++] = (lp - lm) / (2 * e);
    }
    double err = relerr(an, fd, m);
    CHECK(err < 2e-2, "bn backward vs finite differences: rel err %g", err);
    printf("batch norm: dy, dgamma, dbeta = finite differences (rel err %.1e)\n", err);
}

/* ------------------------------------------------------------ LIF */
/* L = sum c * o_soft(u_t) with the hard spike (reset) held fixed: exactly what
 * the BPTT with detached reset and rectangular surrogate differentiates. */
static double lif_soft_loss(const float *x, const float *reset, const float *c, int T, int n, float keep, float th, float a) {
    double L = 0;
    for (int j = 0; j < n; j++) {
        float u = 0;
        for (int t = 0; t < T; t++) {
            u = t ? keep * u * (1.0f - reset[(t - 1) * n + j]) + x[t * n + j] : x[t * n + j];
            double s = (u - th + a) / (2 * a);
            s = s < 0 ? 0 : s > 1 ? 1 : s;
            L += c[t * n + j] * s;
        }
    }
    return L;
}

static void test_lif(void) {
    const int T = 16, n = 6;
    const float keep = 0.25f, th = 0.2f, a = 0.5f;
    float x[96], u[96], s[96], c[96], dx[96];
    for (int i = 0; i < T * n; i++) x[i] = 0.3f * rnd(31, i) + 0.1f, c[i] = rnd(32, i);
    memcpy(u, x, sizeof x);
    prime_vt_lif_forward(u, s, 1, T, n, keep, th);
    /* forward against the formula, step by step */
    int ok = 1;
    for (int j = 0; j < n; j++) {
        float uu = 0, oo = 0;
        for (int t = 0; t < T; t++) {
            uu = keep * uu * (1 - oo) + x[t * n + j];
            oo = uu > th ? 1.0f : 0.0f;
            if (uu != u[t * n + j] || oo != s[t * n + j]) ok = 0;
        }
    }
    CHECK(ok, "lif forward differs from u = 0.25 u (1 - o) + x, o = u > 0.2");
    double spikes = 0;
    for (int i = 0; i < T * n; i++) spikes += s[i];
    CHECK(spikes > 5 && spikes < T * n - 5, "lif test needs some spikes (%g)", spikes);
    prime_vt_lif_backward(u, s, c, dx, 1, T, n, keep, th, a);
    double an[96], fd[96];
    int m = 0;
    const double e = 1e-3;
    for (int i = 0; i < T * n; i++) {
        float xp[96];
        memcpy(xp, x, sizeof x);
        xp[i] = x[i] + (float)e; double lp = lif_soft_loss(xp, s, c, T, n, keep, th, a);
        xp[i] = x[i] - (float)e; double lm = lif_soft_loss(xp, s, c, T, n, keep, th, a);
        an[m] = dx[i], fd[m++] = (lp - lm) / (2 * e);
    }
    double err = relerr(an, fd, m);
    CHECK(err < 1e-2, "lif BPTT vs finite differences of the surrogate: rel err %g", err);
    printf("LIF: forward = formula, BPTT = finite differences of the surrogate (rel err %.1e, %g spikes)\n", err, spikes);
}

/* ------------------------------------------------------------ readout, KL */
static void test_readout_kl(void) {
    const int T = 16, n = 5;
    float y[80], r[5], c[5], dy[80];
    for (int i = 0; i < T * n; i++) y[i] = 0.2f * rnd(41, i);
    for (int j = 0; j < n; j++) c[j] = rnd(42, j);
    prime_vt_readout_forward(y, r, 1, T, n, 0.8f);
    double acc = 0;
    for (int t = 0; t < T; t++) acc += pow(0.8, T - 1 - t) * y[t * n];
    CHECK(fabs(tanh(acc) - r[0]) < 1e-6, "readout: %g vs %g", tanh(acc), r[0]);
    prime_vt_readout_backward(r, c, dy, 1, T, n, 0.8f);
    double an[80], fd[80];
    for (int i = 0; i < T * n; i++) {
        float yp[80], rp[5];
        double lp = 0, lm = 0, e = 1e-3;
        memcpy(yp, y, sizeof y);
        yp[i] = y[i] + (float)e; prime_vt_readout_forward(yp, rp, 1, T, n, 0.8f); for (int j = 0; j < n; j++) lp += c[j] * rp[j];
        yp[i] = y[i] - (float)e; prime_vt_readout_forward(yp, rp, 1, T, n, 0.8f); for (int j = 0; j < n; j++) lm += c[j] * rp[j];
        an[i] = dy[i], fd[i] = (lp - lm) / (2 * e);
    }
    double err = relerr(an, fd, T * n);
    CHECK(err < 1e-2, "readout backward: rel err %g", err);
    float q[6] = {0.1f, 0.5f, 0.9f, 0.3f, 0.7f, 0.45f}, p[6] = {0.5f, 0.2f, 0.6f, 0.3f, 0.95f, 0.05f}, dq[6], dp[6];
    prime_vt_kl(q, p, 6, dq, dp);
    double an2[12], fd2[12];
    for (int i = 0; i < 6; i++) {
        float qq[6], pp[6];
        double e = 1e-3;
        memcpy(qq, q, sizeof q), memcpy(pp, p, sizeof p);
        qq[i] = q[i] + (float)e; double lp = prime_vt_kl(qq, p, 6, NULL, NULL);
        qq[i] = q[i] - (float)e; double lm = prime_vt_kl(qq, p, 6, NULL, NULL);
        an2[i] = dq[i], fd2[i] = (lp - lm) / (2 * e);
        pp[i] = p[i] + (float)e; lp = prime_vt_kl(q, pp, 6, NULL, NULL);
        pp[i] = p[i] - (float)e; lm = prime_vt_kl(q, pp, 6, NULL, NULL);
        an2[6 + i] = dp[i], fd2[6 + i] = (lp - lm) / (2 * e);
    }
    double e2 = relerr(an2, fd2, 12);
    CHECK(e2 < 1e-2, "Bernoulli KL gradient: rel err %g", e2);
    CHECK(prime_vt_kl(q, q, 6, NULL, NULL) < 1e-12, "KL(q||q) must be 0");
    printf("readout tanh(sum 0.8^(T-1-t) x_t) and Bernoulli KL: finite differences (rel err %.1e, %.1e)\n", err, e2);
}

/* ------------------------------------------------------------ network */
static float *test_images(int n) {
    float *x = malloc(sizeof(float) * 1024 * n);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 1024; p++) {
            int y = p / 32, xx = p % 32;
            double d = hypot(y - 16 + 2 * i, xx - 15.5 + i) - 8;
            x[i * 1024 + p] = (float)(fabs(d) < 2.0 ? 1 : -1);
        }
    return x;
}

static prime_device ideal(void) {
    prime_device d = prime_vae_default_device();
    d.read_noise = 0, d.adc_bits = 0, d.dac_bits = 0;
    return d;
}

/* Latent bias pattern of the small test network: +5 (all k spikes fire, q = 1)
 * or -5 (none, q = 0) per latent variable. */
static float latent_bias(size_t j, int k) { return ((j / k) % 3) ? 5.0f : -5.0f; }

/* A small trainer (ch 6, latent 16, k 4, ideal device) whose BN parameters
 * keep every layer spiking and whose posterior is deterministic: weights 0,
 * biases latent_bias, so z = q in {0, 1}. NULL on error. */
static prime_vt *live_trainer(prime_vae_arch *a) {
    *a = prime_vae_default_arch();
    a->ch = 6, a->latent = 16, a->k = 4;
    prime_device d = ideal();
    prime_vt_params p = prime_vt_default_params();
    prime_vt *tr = prime_vt_new(a, &d, &p);
    CHECK(tr != NULL, "prime_vt_new: %s", prime_last_error());
    if (!tr) return NULL;
    size_t n;
    float *w = prime_vt_param(tr, PRIME_VAE_POST, 0, &n);
    memset(w, 0, n * 4);
    float *b = prime_vt_param(tr, PRIME_VAE_POST, 1, &n);
    for (size_t j = 0; j < n; j++) b[j] = latent_bias(j, a->k);
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        for (int which = 2; which <= 5; which++) {
            float *q = prime_vt_param(tr, i, which, &n);
            if (!q || !n || i == PRIME_VAE_POST || i == PRIME_VAE_PRIOR) continue;
            for (size_t j = 0; j < n; j++)
                q[j] = which == 2 ? 40 + 10 * rnd(50 + i, j) : which == 3 ? 0.3f * rnd(60 + i, j)
                     : which == 4 ? 0.01f * rnd(70 + i, j) : 0.5f;
        }
    }
    return tr;
}

static void test_network(void) {
    prime_vae_arch a;
    prime_device d = ideal();
    prime_vt *tr = live_trainer(&a);
    if (!tr) return;
    const int B = 3;
    float *x = test_images(B), rec[3 * 1024];
    prime_vt_reconstruct(tr, x, B, rec);
    prime_vae *v = prime_vt_export(tr);
    CHECK(v != NULL, "export: %s", prime_last_error());
    if (!v) return;
    prime_vae_run run = prime_vae_default_run();
    run.policy = 0;
    prime_vae_set_run(v, &run);
    double md = 0, spread = 0;
    prime_vae_result r;
    for (int i = 0; i < B; i++) {
        CHECK_INT(prime_vae_inpaint(v, x + i * 1024, NULL, &r), 0, "inpaint: %s", prime_last_error());
        const float *o = prime_vae_recon(v, a.T - 1);
        for (int p2 = 0; p2 < 1024; p2++) md = fmax(md, fabs(o[p2] - rec[i * 1024 + p2])), spread += fabs(o[p2]);
    }
    CHECK(md < 1e-4, "simulator (ideal device) vs trainer forward: max diff %g", md);
    CHECK(spread / (B * 1024) > 1e-3, "reconstruction is identically 0 (dead network)");
    CHECK(r.spikes > 0 && r.counters.cell_reads > 0 && r.energy_pj > 0 && r.steps_used == a.T, "counters");
    printf("network: simulator (ideal device) = trainer eval forward, max diff %.1e (mean |recon| %.3f)\n", md, spread / (B * 1024));

    /* file round trip */
    uint8_t *bytes;
    size_t nb;
    CHECK_INT(prime_vae_save(v, &bytes, &nb), 0, "save");
    prime_vae *v2 = prime_vae_load(bytes, nb);
    CHECK(v2 != NULL, "load: %s", prime_last_error());
    CHECK(prime_vae_load(bytes, nb - 1) == NULL && strstr(prime_last_error(), "truncated"), "truncated file must fail");
    bytes[0] = 'X';
    CHECK(prime_vae_load(bytes, nb) == NULL, "bad magic must fail");
    prime_free_buffer(bytes);
    if (v2) {
        prime_vae_set_run(v2, &run);
        prime_vae_inpaint(v2, x + 2 * 1024, NULL, &r);
        CHECK(memcmp(prime_vae_recon(v2, a.T - 1), prime_vae_recon(v, a.T - 1), 4096) == 0, "reload changes the output");
    }

    /* read noise: deterministic per seed, changes the output; ADC counted */
    prime_device dn = prime_vae_default_device();
    dn.read_noise = 0.1f;
    prime_vae_set_device(v, &dn);
    float o1[1024];
    prime_vae_set_run(v, &run);
    prime_vae_inpaint(v, x, NULL, &r);
    memcpy(o1, prime_vae_recon(v, a.T - 1), 4096);
    prime_vae_set_run(v, &run);
    prime_vae_inpaint(v, x, NULL, &r);
    CHECK(memcmp(o1, prime_vae_recon(v, a.T - 1), 4096) == 0, "same noise seed must give the same output");
    prime_vae_inpaint(v, x, NULL, &r);
    double dd = 0;
    for (int p2 = 0; p2 < 1024; p2++) dd += fabs(o1[p2] - prime_vae_recon(v, a.T - 1)[p2]);
    CHECK(dd > 0, "read noise 0.1 must change the next inference");
    CHECK(r.counters.adc_conversions > 0 && r.energy_ratio > 0, "adc counters");

    /* convergence early stop: the rule applied to the m_t of a full run */
    prime_vae_set_device(v, &d);
    for (int img = 0; img < B; img++) {
        run.policy = 0;
        prime_vae_set_run(v, &run);
        prime_vae_inpaint(v, x + img * 1024, NULL, &r);
        float m[PRIME_MAX_T], full[PRIME_MAX_T][64];
        for (int t = 0; t < a.T; t++) m[t] = r.m[t], memcpy(full[t], prime_vae_recon(v, t) + 400, 256);
        float th = 1e9f;
        int expect = a.T;
        for (int t = 4; t < a.T; t++)
            if (m[t] < m[t - 1] && m[t - 1] < m[t - 2] && m[t - 2] < m[t - 3] && m[t] < th) { expect = t + 1; break; }
        run.policy = 1, run.m_th = th;
        prime_vae_set_run(v, &run);
        prime_vae_inpaint(v, x + img * 1024, NULL, &r);
        CHECK(r.steps_used == expect, "early stop after %d steps, rule says %d", r.steps_used, expect);
        CHECK(memcmp(prime_vae_recon(v, r.steps_used - 1) + 400, full[r.steps_used - 1], 256) == 0, "per-step recon differs");
        CHECK(prime_vae_recon(v, r.steps_used) == NULL, "recon beyond the stop must be NULL");
    }
    run.m_th = 0; /* never */
    prime_vae_set_run(v, &run);
    prime_vae_inpaint(v, x, NULL, &r);
    CHECK(r.steps_used == a.T, "m_th 0 must never stop");

    /* free-form hole and the metrics */
    uint8_t hole[1024] = {0};
    for (int p2 = 0; p2 < 1024; p2++) hole[p2] = (p2 / 32 + p2 % 32) % 7 == 0;
    CHECK_INT(prime_vae_inpaint(v, x, hole, &r), 0, "free-form hole");
    double mse, psnr, ssim;
    prime_vae_metrics(x, x, hole, 32, 32, &mse, &psnr, &ssim);
    CHECK(mse == 0 && fabs(ssim - 1) < 1e-9, "metrics of identical images: mse %g ssim %g", mse, ssim);
    float y2[1024];
    for (int p2 = 0; p2 < 1024; p2++) y2[p2] = x[p2] + (hole[p2] ? 0.2f : 0);
    prime_vae_metrics(y2, x, hole, 32, 32, &mse, &psnr, &ssim);
    CHECK(fabs(mse - 0.04) < 1e-6 && fabs(psnr - 10 * log10(4 / 0.04)) < 1e-4 && ssim < 1, "metrics: mse %g psnr %g", mse, psnr);
    float bad[1024];
    memcpy(bad, x, sizeof bad);
    bad[5] = 3;
    CHECK_INT(prime_vae_inpaint(v, bad, NULL, &r), -1, "pixel outside [-1, 1] must fail");
    prime_vae_free(v2);
    prime_vae_free(v);
    free(x);
    prime_vt_free(tr);
    printf("file round trip, read noise, convergence stop rule, free-form holes, metrics ok\n");
}

/* ------------------------------------------------------------ generation */

/* Sets the prior: weight wd from latent d to its own k spikes (0 elsewhere),
 * bias bias(j) per spike j. */
static void set_prior(prime_vae *v, const prime_vae_arch *a, float wd, float (*bias)(size_t, int)) {
    const int L = a->latent, K = a->k;
    float *w = calloc((size_t)L * L * K, sizeof(float)), *b = malloc(sizeof(float) * L * K);
    for (int d = 0; d < L; d++)
        for (int j = 0; j < K; j++) w[(size_t)d * L * K + d * K + j] = wd;
    for (int j = 0; j < L * K; j++) b[j] = bias((size_t)j, K);
    CHECK_INT(prime_vae_set_digital(v, PRIME_VAE_PRIOR, w, (size_t)L * L * K, b, (size_t)L * K), 0, "set prior: %s", prime_last_error());
    free(w), free(b);
}
static float bias_on(size_t j, int k) { (void)j, (void)k; return 5.0f; }
static float bias_half(size_t j, int k) { return (int)(j % k) < k / 2 ? 5.0f : -5.0f; } /* p = 1/2 */

static void test_generate(void) {
    prime_vae_arch a;
    prime_vt *tr = live_trainer(&a);
    if (!tr) return;
    prime_vae *v = prime_vt_export(tr);
    CHECK(v != NULL, "export: %s", prime_last_error());
    if (!v) { prime_vt_free(tr); return; }
    prime_vae_run run = prime_vae_default_run();
    run.policy = 0;
    prime_vae_set_run(v, &run);
    const size_t img = 1024 * sizeof(float);
    prime_vae_result r, ri;

    /* a prior that samples the posterior's fixed z at every step drives the
     * same decoder: generation = inpainting, step by step, bit for bit */
    float *x = test_images(1), inp[PRIME_MAX_T][1024];
    CHECK_INT(prime_vae_inpaint(v, x, NULL, &ri), 0, "inpaint: %s", prime_last_error());
    for (int t = 0; t < a.T; t++) memcpy(inp[t], prime_vae_recon(v, t), img);
    set_prior(v, &a, 0, latent_bias);
    CHECK_INT(prime_vae_generate(v, 5, &r), 0, "generate: %s", prime_last_error());
    CHECK(r.steps_used == a.T && r.T == a.T, "generate ran %d of %d steps", r.steps_used, a.T);
    int same = 1;
    for (int t = 0; t < a.T; t++) same &= memcmp(inp[t], prime_vae_recon(v, t), img) == 0;
    CHECK(same, "generation with z fixed to the posterior's differs from the inpainting decoder");
    CHECK(prime_vae_recon(v, a.T) == NULL, "no image beyond T");
    CHECK(r.energy_pj > 0 && r.energy_pj < ri.energy_pj && r.counters.cell_reads > 0 && r.counters.cell_reads < ri.counters.cell_reads,
          "generation runs the decoder only: energy %g vs inpaint %g", r.energy_pj, ri.energy_pj);
    CHECK(r.digital_macs > 0 && r.baseline_pj > 0, "prior MACs and baseline counted");

    /* z_(-1) = 0 and the recurrence: weight -10 on z_(t-1), bias +5 gives
     * z = 1, 0, 1, ... ; bias +5 alone gives z = 1 always */
    float alt[2][1024];
    set_prior(v, &a, -10, bias_on);
    prime_vae_generate(v, 5, &r);
    memcpy(alt[0], prime_vae_recon(v, 0), img), memcpy(alt[1], prime_vae_recon(v, 1), img);
    set_prior(v, &a, 0, bias_on);
    prime_vae_generate(v, 5, &r);
    CHECK(memcmp(alt[0], prime_vae_recon(v, 0), img) == 0, "step 0: the prior must see z_(-1) = 0");
    CHECK(memcmp(alt[1], prime_vae_recon(v, 1), img) != 0, "step 1: the prior must see z_0");

    /* seeded: same seed, same image (even with read noise and other calls in
     * between); another seed, another image; values in [-1, 1] */
    set_prior(v, &a, 0, bias_half);
    prime_device dn = prime_vae_default_device();
    dn.read_noise = 0.1f;
    prime_vae_set_device(v, &dn);
    float g1[PRIME_MAX_T][1024];
    CHECK_INT(prime_vae_generate(v, 1, &r), 0, "generate: %s", prime_last_error());
    for (int t = 0; t < a.T; t++) memcpy(g1[t], prime_vae_recon(v, t), img);
    double e1 = r.energy_pj;
    prime_vae_inpaint(v, x, NULL, &ri);
    prime_vae_generate(v, 2, &r);
    double diff = 0, lo = 1, hi = -1;
    for (int p = 0; p < 1024; p++) {
        float q = prime_vae_recon(v, a.T - 1)[p];
        diff += fabs(q - g1[a.T - 1][p]);
        lo = fmin(lo, q), hi = fmax(hi, q);
    }
    CHECK(diff > 1, "seeds 1 and 2 give the same image (sum |diff| %g)", diff);
    CHECK(lo >= -1 && hi <= 1 && hi > lo, "generated values in [-1, 1]: %g..%g", lo, hi);
    prime_vae_generate(v, 1, &r);
    same = r.energy_pj == e1;
    for (int t = 0; t < a.T; t++) same &= memcmp(g1[t], prime_vae_recon(v, t), img) == 0;
    CHECK(same, "seed 1 again must give the same images and energy");

    /* bad arguments */
    CHECK(prime_vae_generate(NULL, 1, &r) == -1 && strstr(prime_last_error(), "NULL"), "NULL network must fail");
    CHECK_INT(prime_vae_generate(v, 1, NULL), -1, "NULL result must fail");
    printf("generation: prior-driven decoder = inpainting decoder, z_(-1) = 0 and recurrence, seeded, errors ok\n");
    prime_vae_free(v);
    prime_vt_free(tr);
    free(x);
}

/* ------------------------------------------------------------ fast kernels */

/* The fast read path (gathers, add-only for spikes, shared readout) against
 * the plain scatter (prime_set_reference_kernels(1)): identical reconstructions,
 * steps and counters at noise 0 and 0.1, ADC 14 and 6 bits, on a random
 * network whose BN keeps the layers firing; ch 60 puts the convs on two row
 * tiles (the fast path then falls back), the fc layers on several. */
static void test_fast_kernels(void) {
    const int chs[2] = {8, 60};
    float *x = test_images(2);
    for (int c = 0; c < 2; c++) {
        prime_vae_arch a = prime_vae_default_arch();
        a.ch = chs[c], a.latent = 40, a.k = 5, a.T = 6;
        prime_device d = prime_vae_default_device();
        prime_vae *v = prime_vae_create(&a, &d);
        CHECK(v != NULL, "create: %s", prime_last_error());
        if (!v) continue;
        for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
            prime_vae_layer g;
            prime_vae_layer_info(&a, i, &g);
            size_t n = (size_t)g.rows * g.cols;
            if (g.crossbar) {
                uint8_t *m = malloc(n);
                for (size_t j = 0; j < n; j++) m[j] = rnd(10 + i, j) > 0;
                prime_vae_set_mask(v, i, m, n);
                free(m);
            } else {
                float *w = malloc(n * 4), *b = malloc(g.cols * 4);
                for (size_t j = 0; j < n; j++) w[j] = 0.5f * rnd(20 + i, j);
                for (int j = 0; j < g.cols; j++) b[j] = 0.3f * rnd(30 + i, j);
                prime_vae_set_digital(v, i, w, n, b, g.cols);
                free(w), free(b);
            }
            if (g.bn) {
                float ba[256], bb[256];
                for (int j = 0; j < g.out_c; j++) ba[j] = 8.0f / sqrtf((float)g.rows) * (1 + 0.5f * rnd(40 + i, j)), bb[j] = 0.2f * rnd(50 + i, j);
                prime_vae_set_bn(v, i, ba, bb, g.out_c);
            }
        }
        for (int k = 0; k < 4; k++) {
            d.read_noise = (k & 1) ? 0.1f : 0, d.adc_bits = (k & 2) ? 6 : 14;
            prime_vae_set_device(v, &d);
            float out[2][2][1024];
            prime_vae_result r[2];
            for (int ref = 0; ref < 2; ref++) {
                prime_set_reference_kernels(ref);
                prime_vae_run run = prime_vae_default_run();
                run.policy = 0;
                prime_vae_set_run(v, &run);
                for (int img = 0; img < 2; img++) {
                    prime_vae_inpaint(v, x + img * 1024, NULL, &r[ref]);
                    memcpy(out[ref][img], prime_vae_recon(v, a.T - 1), 4096);
                }
            }
            prime_set_reference_kernels(0);
            CHECK(memcmp(out[0], out[1], sizeof out[0]) == 0, "ch %d noise %g adc %d: fast != reference reconstruction", a.ch,
                  (double)d.read_noise, d.adc_bits);
            CHECK(r[0].counters.cell_reads == r[1].counters.cell_reads && r[0].counters.adc_conversions == r[1].counters.adc_conversions &&
                  r[0].spikes == r[1].spikes && r[0].digital_macs == r[1].digital_macs && r[0].spikes > 0,
                  "ch %d: counters differ (cell reads %g / %g, spikes %g / %g)", a.ch, r[0].counters.cell_reads,
                  r[1].counters.cell_reads, r[0].spikes, r[1].spikes);
        }
        if (a.ch == 8) { /* per-cell read noise (the reference form, the classifier's): the one crossbar read honours it */
            float out[3][1024];
            prime_vae_result rc[3];
            for (int k = 0; k < 3; k++) {
                d.read_noise = 0.1f, d.adc_bits = 14, d.noise_mode = k < 2 ? PRIME_NOISE_CELL : PRIME_NOISE_COLUMN;
                prime_vae_set_device(v, &d);
                prime_vae_run run = prime_vae_default_run();
                run.policy = 0;
                prime_vae_set_run(v, &run);
                prime_vae_inpaint(v, x, NULL, &rc[k]);
                memcpy(out[k], prime_vae_recon(v, a.T - 1), 4096);
            }
            d.noise_mode = PRIME_NOISE_COLUMN;
            CHECK(!memcmp(out[0], out[1], 4096) && rc[0].spikes == rc[1].spikes && rc[0].spikes != rc[2].spikes,
                  "cell noise: deterministic, and not the column draw (spikes %g, %g; column %g)", rc[0].spikes,
                  rc[1].spikes, rc[2].spikes);
        }
        prime_vae_free(v);
    }
    free(x);
    printf("fast read path = reference scatter (ch 8 and 60, noise 0 / 0.1, ADC 14 / 6): identical bits\n");
}

/* ------------------------------------------------------------ training */
static void test_training(void) {
    prime_vae_arch a = prime_vae_default_arch();
    a.ch = 4, a.latent = 8, a.k = 4;
    prime_device d = ideal();
    prime_vt_params p = prime_vt_default_params();
    p.lr = 1e-2f;
    for (int sw = 0; sw < 2; sw++) {
        a.software = sw;
        prime_vt *tr = prime_vt_new(&a, &d, &p);
        float *x = test_images(4);
        double first = 0, last = 0;
        for (int s = 0; s < 40; s++) {
            double parts[3];
            prime_vt_train_batch(tr, x, 4, s, parts);
            if (s < 5) first += parts[0];
            if (s >= 35) last += parts[0];
        }
        CHECK(last < 0.9 * first, "%s: reconstruction loss %g -> %g did not fall", sw ? "software" : "masks", first / 5, last / 5);
        printf("training (%s, 4 images, 40 steps): mse %.3f -> %.3f\n", sw ? "software" : "masks", first / 5, last / 5);
        free(x);
        prime_vt_free(tr);
    }
}

/* A resumed run continues exactly: 3 steps, checkpoint, 2 more == 5 in a row. */
static void test_checkpoint(void) {
    prime_vae_arch a = prime_vae_default_arch();
    a.ch = 4, a.latent = 8, a.k = 4;
    prime_device d = ideal();
    prime_vt_params p = prime_vt_default_params();
    float *x = test_images(2);
    prime_vt *t1 = prime_vt_new(&a, &d, &p), *t2 = prime_vt_new(&a, &d, &p);
    double l1 = 0, l2 = 0;
    for (int s = 0; s < 3; s++) prime_vt_train_batch(t1, x, 2, s, NULL);
    const char *path = "build/test_vae.ckpt";
    CHECK_INT(prime_vt_save(t1, path), 0, "save checkpoint: %s", prime_last_error());
    for (int s = 3; s < 5; s++) l1 = prime_vt_train_batch(t1, x, 2, s, NULL);
    CHECK(prime_vt_load(t2, path) == 0 && prime_vt_steps(t2) == 3, "load checkpoint: %s", prime_last_error());
    for (int s = 3; s < 5; s++) l2 = prime_vt_train_batch(t2, x, 2, s, NULL);
    CHECK(l1 == l2, "resumed loss %.9g vs uninterrupted %.9g", l2, l1);
    remove(path);
    prime_vt_free(t1), prime_vt_free(t2), free(x);
    printf("checkpoint: resumed run = uninterrupted run (loss %.6f)\n", l1);
}

int main(void) {
    test_geometry();
    test_lin();
    test_bn();
    test_lif();
    test_readout_kl();
    test_network();
    test_generate();
    test_fast_kernels();
    test_training();
    test_checkpoint();
    return check_summary();
}
