/* test_core.c - unit tests of the C core: a hand-computed network, the LIF
 * order, the device model, the model file (round trip, truncation, bit flips,
 * random bytes, foreign fields), NumPy import, images, parameter checks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_archive.h"

#include "check.h"
#include "crc_ref.h"

/* ============================================================ helpers */

/* A tiny network: input 2 (as 2x1x1), FC 2->2 + LIF, FC 2->2 + output. */
static prime_arch tiny_arch(float decay) {
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.T = 4, a.in_c = 2, a.in_h = 1, a.in_w = 1, a.n_classes = 2, a.n_layers = 2;
    prime_layer *l = &a.layers[0];
    l->op = PRIME_OP_FC, l->out_c = 2, l->neuron = PRIME_NEURON_LIF, l->th = 0.5f, l->decay = decay, l->leak = 0.125f, l->scale = 1.0f;
    l = &a.layers[1];
    l->op = PRIME_OP_FC, l->out_c = 2, l->neuron = PRIME_NEURON_OUTPUT, l->leak = 0.125f, l->scale = 1.0f;
    return a;
}

static prime_device ideal_device(void) {
    prime_device d = prime_default_device();
    d.adc_bits = 0, d.dac_bits = 0, d.read_noise = 0, d.prog_noise = 0;
    return d;
}

/* Sets layer l's weights exactly: G+ = 10 + w/2, G- = 10 - w/2 (measured map). */
static int set_weights(prime_ctx *c, int l, const float *w, size_t n) {
    float gp[16], gn[16];
    for (size_t i = 0; i < n; i++) gp[i] = 10 + w[i] / 2, gn[i] = 10 - w[i] / 2;
    return prime_set_conductances(c, l, gp, gn, n);
}

static prime_ctx *tiny_ctx(float decay) {
    prime_arch a = tiny_arch(decay);
    prime_device d = ideal_device();
    prime_ctx *c = prime_create(&a, &d);
    if (!c) return NULL;
    /* matrix order [row = input][col = output] */
    float w0[4] = {1.0f, -0.5f, 0.25f, 0.75f};
    float w1[4] = {0.5f, -1.0f, 2.0f, 0.25f};
    if (set_weights(c, 0, w0, 4) || set_weights(c, 1, w1, 4)) { prime_free(c); return NULL; }
    return c;
}

/* ============================================================ tests */

/* Hand-computed, all values exact in binary (decay 0.5, leak 1/8). */
static void test_hand_computed(void) {
    prime_ctx *c = tiny_ctx(0.5f);
    CHECK(c != NULL, "tiny ctx: %s", prime_last_error());
    if (!c) return;
    /* inputs x_t = (x0, x1) */
    float x[4][2] = {{0.5f, 0.0f}, {0.5f, 1.0f}, {0.0f, 0.0f}, {1.0f, 1.0f}};
    /* layer 0 currents I = x0*[1, -0.5] + x1*[0.25, 0.75]:
     *  t1 (0.5, -0.25)   t2 (0.75, 0.5)   t3 (0, 0)   t4 (1.25, 0.25)
     * LIF (U*=1-s; U*=0.5; U+=I; leaky 1/8; s = U > 0.5):
     *  n0: t1 U=0.5 s0 | t2 U=0.25+0.75=1.0 s1 | t3 U=0 (reset) s0 | t4 U=1.25 s1
     *  n1: t1 U=-0.25 -> -0.03125 s0 | t2 U=-0.015625+0.5=0.484375 s0 |
     *      t3 U=0.2421875 s0 | t4 U=0.12109375+0.25=0.37109375 s0
     * spikes: t2 (1,0), t4 (1,0)
     * output I = s0*[0.5, -1] + s1*[2, 0.25]: t2, t4: (0.5, -1); else 0
     * output U = leaky(U + I): t1 (0,0) t2 (0.5, -0.125) t3 (0.5, -0.015625)
     *  t4 (1.0, leaky(-1.015625) = -0.126953125)
     * logits = mean U = ((0+0.5+0.5+1)/4, (0-0.125-0.015625-0.126953125)/4) */
    float in[4 * 2];
    for (int t = 0; t < 4; t++) in[2 * t] = x[t][0], in[2 * t + 1] = x[t][1];
    prime_result r;
    int rc = prime_classify(c, in, 4, &r);
    CHECK(rc == 0, "classify: %s", prime_last_error());
    CHECK(r.spikes[0] == 2, "layer 0 spikes %g (expected 2)", r.spikes[0]);
    CHECK(r.logits[0] == 0.5f, "logit 0 = %.9g (expected 0.5)", r.logits[0]);
    CHECK(r.logits[1] == -0.06689453125f, "logit 1 = %.9g (expected -0.06689453125)", r.logits[1]);
    CHECK(r.label == 0 && r.steps_used == 4, "label %d steps %d", r.label, r.steps_used);
    /* step mode gives the same states, step by step */
    float expect_u1[4] = {-0.03125f, 0.484375f, 0.2421875f, 0.37109375f};
    float expect_s0[4] = {0, 1, 0, 1};
    prime_begin(c, in, 4);
    int ok = 1;
    for (int t = 0; t < 4; t++) {
        CHECK_INT(prime_step(c), 1, "step %d ran", t);
        size_t n;
        const float *u = prime_layer_state(c, 0, 0, &n);
        float u1 = u[1];
        const float *s = prime_layer_state(c, 0, 1, &n);
        if (u1 != expect_u1[t] || s[0] != expect_s0[t]) ok = 0;
    }
    CHECK(ok, "step-mode membrane/spikes match the hand computation");
    CHECK_INT(prime_step(c), 0, "step after T returns 0");
    /* counters: dense MACs 2*2 per layer per step; DAC drives = non-zero inputs */
    CHECK(r.counters.macs_dense == 4 * 8, "dense MACs %g", r.counters.macs_dense);
    CHECK(r.counters.dac_drives == 5 + 2, "DAC drives %g (5 input, 2 spikes)", r.counters.dac_drives);
    CHECK(r.counters.cell_reads == 7 * 4, "cell reads %g", r.counters.cell_reads);
    prime_free(c);
}

/* A plain re-implementation of the reference equations (decay 0.8) agrees. */
static void test_reference_equations(void) {
    prime_ctx *c = tiny_ctx(0.8f);
    if (!c) { CHECK(0, "ctx"); return; }
    float w0[2][2] = {{1.0f, -0.5f}, {0.25f, 0.75f}}, w1[2][2] = {{0.5f, -1.0f}, {2.0f, 0.25f}};
    float in[8] = {0.3f, 0.1f, 0.9f, 0.0f, 0.2f, 0.7f, 0.6f, 0.6f};
    float U[2] = {0, 0}, S[2] = {0, 0}, O[2] = {0, 0}, M[2] = {0, 0};
    int spikes = 0;
    for (int t = 0; t < 4; t++) {
        float I[2], s_prev[2] = {S[0], S[1]};
        for (int j = 0; j < 2; j++) {
            I[j] = 0.0f;
            for (int i = 0; i < 2; i++) I[j] = I[j] + in[2 * t + i] * w0[i][j];
            U[j] = U[j] * (1.0f - s_prev[j]);
            U[j] = U[j] * (1.0f - 0.8f);
            U[j] = U[j] + I[j];
            U[j] = U[j] > 0 ? U[j] : 0.125f * U[j];
            S[j] = U[j] > 0.5f ? 1.0f : 0.0f;
            spikes += (int)S[j];
        }
        for (int j = 0; j < 2; j++) {
            float J = 0.0f;
            for (int i = 0; i < 2; i++) J = J + S[i] * w1[i][j];
            O[j] = O[j] + J;
            O[j] = O[j] > 0 ? O[j] : 0.125f * O[j];
            M[j] = M[j] + O[j];
        }
    }
    prime_result r;
    prime_classify(c, in, 4, &r);
    CHECK(r.spikes[0] == spikes, "spikes %g vs reference %d", r.spikes[0], spikes);
    CHECK(fabsf(r.logits[0] - M[0] / 4) < 1e-6f && fabsf(r.logits[1] - M[1] / 4) < 1e-6f,
          "logits %.9g %.9g vs reference %.9g %.9g", r.logits[0], r.logits[1], M[0] / 4, M[1] / 4);
    prime_free(c);
}

/* Early stop: confidence policy stops at the first step above threshold. */
static void test_early_stop(void) {
    prime_ctx *c = tiny_ctx(0.5f);
    if (!c) { CHECK(0, "ctx"); return; }
    float in[8] = {0.5f, 0, 0.5f, 1, 0, 0, 1, 1};
    prime_result full;
    prime_classify(c, in, 4, &full);
    prime_run r = prime_default_run();
    r.policy = PRIME_STOP_CONFIDENCE, r.alpha = 0.25f;
    r.threshold = full.confidence[1] - 1e-4f; /* step 2 is the first above it */
    CHECK(full.confidence[0] < r.threshold, "step 1 is below the threshold");
    CHECK_INT(prime_set_run(c, &r), 0, "set_run");
    prime_result es;
    prime_classify(c, in, 4, &es);
    CHECK(es.steps_used == 2, "early stop after %d steps (expected 2)", es.steps_used);
    CHECK(es.energy_pj < full.energy_pj, "early stop saves energy (%g < %g)", es.energy_pj, full.energy_pj);
    CHECK(es.baseline_pj == full.baseline_pj, "baseline is the full-T network");
    r.min_steps = 3;
    prime_set_run(c, &r);
    prime_classify(c, in, 4, &es);
    CHECK(es.steps_used == 3, "min_steps 3 respected (%d)", es.steps_used);
    r.alpha = 0;
    CHECK(prime_set_run(c, &r) == -1 && strstr(prime_last_error(), "alpha"), "alpha 0 rejected: %s", prime_last_error());
    prime_free(c);
}

/* The device model: weight spread, off-state, faults, re-forming, noise. */
static void test_device(void) {
    prime_arch a = prime_arch_nmnist();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    CHECK(c != NULL, "create PRIME network: %s", prime_last_error());
    if (!c) return;
    size_t n = prime_layer_weights(&a.layers[4]);
    CHECK(n == 23040, "FC has 2304x10 weights (%zu)", n);
    float *w = malloc(n * sizeof(float)), *w2 = malloc(n * sizeof(float));
    prime_get_weights(c, 4, 1, w, n);
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) s += w[i] / 0.01, s2 += (w[i] / 0.01) * (w[i] / 0.01);
    double mean = s / n, sd = sqrt(s2 / n - mean * mean);
    CHECK(fabs(mean) < 0.15 && fabs(sd - 6.352) < 0.15, "differential weight mean %.3f sd %.3f (N(0, 6.352))", mean, sd);
    /* prune everything: weights collapse to the off-state residual, not zero */
    uint8_t *m = calloc(n, 1);
    prime_set_mask(c, 4, m, n);
    prime_get_weights(c, 4, 0, w2, n);
    double mx = 0, nz = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(w2[i])), nz += w2[i] != 0;
    CHECK(mx > 0 && mx < 0.01 * 2, "pruned pairs keep a small residual (max |w| %.4g)", mx);
    CHECK(nz > n * 0.99, "residuals are not exact zeros (%g of %zu non-zero)", nz, n);
    /* a new chip seed changes the formed weights; the same seed restores them */
    prime_device d2 = d;
    d2.chip_seed = 77;
    prime_set_device(c, &d2);
    prime_get_weights(c, 4, 1, w2, n);
    CHECK(memcmp(w, w2, n * sizeof(float)) != 0, "new chip seed forms new conductances");
    prime_set_device(c, &d);
    prime_get_weights(c, 4, 1, w2, n);
    CHECK(memcmp(w, w2, n * sizeof(float)) == 0, "the same seed forms the same chip");
    /* stuck-at faults: about the given fraction of cells pinned */
    d2 = d, d2.stuck_on = 0.1f;
    memset(m, 1, n);
    prime_set_mask(c, 4, m, n);
    prime_set_device(c, &d2);
    prime_get_weights(c, 4, 0, w2, n);
    int big = 0;
    for (size_t i = 0; i < n; i++) big += fabs(w2[i]) > 0.2;
    CHECK(big > n * 0.12 && big < n * 0.24, "stuck-on cells give large weights (%d of %zu)", big, n);
    /* lognormal distribution option: positive cells, same mean */
    d2 = d, d2.g_dist = PRIME_DIST_LOGNORMAL;
    prime_set_device(c, &d2);
    float *ga = malloc(512 * 512 * sizeof(float));
    prime_get_array(c, 1, ga, 512 * 512); /* conv2: 300 rows x 128 columns */
    double gs = 0;
    int cnt = 0, neg = 0;
    for (int r = 0; r < 300; r++)
        for (int k = 0; k < 128; k++) { float g = ga[r * 512 + k]; if (g > 5) gs += g, cnt++; neg += g < 0; }
    CHECK(neg == 0 && fabs(gs / cnt - 30) < 1.0, "lognormal cells: mean %.2f uS, %d negative", gs / cnt, neg);
    CHECK(ga[300 * 512] == 0 && ga[128] == 0, "unused cells of an array are 0");
    d2 = d, d2.read_noise = 0.6f;
    CHECK(prime_set_device(c, &d2) == -1 && strstr(prime_last_error(), "read_noise"), "read noise 0.6 rejected: %s", prime_last_error());
    d2 = d, d2.adc_bits = 1;
    CHECK_INT(prime_set_device(c, &d2), -1, "1-bit ADC rejected");
    d2 = d, d2.g_mean = NAN;
    CHECK_INT(prime_set_device(c, &d2), -1, "NaN conductance rejected");
    free(ga), free(m), free(w), free(w2);
    prime_free(c);
}

/* Column-summed read noise has the statistics of per-cell noise. */
static void test_noise_equivalence(void) {
    prime_ctx *c = tiny_ctx(0.5f);
    if (!c) { CHECK(0, "ctx"); return; }
    /* one read of layer 0 at input (1, 1): I0 = 1.25; the per-cell variance is
     * eta^2 * sum x^2 (G+^2 + G-^2) * scale^2 */
    float in[2] = {1.0f, 1.0f};
    prime_device d = ideal_device();
    d.read_noise = 0.05f;
    double gsq = 0;
    float w0[2] = {1.0f, 0.25f};
    for (int i = 0; i < 2; i++) { double gp = 10 + w0[i] / 2, gn = 10 - w0[i] / 2; gsq += gp * gp + gn * gn; }
    double expect_sd = 0.05 * sqrt(gsq);
    for (int mode = 0; mode < 2; mode++) {
        d.noise_mode = mode;
        prime_set_device(c, &d);
        prime_run r = prime_default_run();
        prime_set_run(c, &r);
        double s = 0, s2 = 0;
        int N = 4000;
        for (int k = 0; k < N; k++) {
            prime_begin(c, in, 1);
            prime_step(c);
            size_t n;
            const float *cur = prime_layer_state(c, 0, 2, &n);
            s += cur[0], s2 += (double)cur[0] * cur[0];
        }
        double mean = s / N, sd = sqrt(s2 / N - mean * mean);
        CHECK(fabs(mean - 1.25) < 4 * expect_sd / sqrt(N), "%s noise: mean %.4f (1.25)", mode ? "cell" : "column", mean);
        CHECK(fabs(sd / expect_sd - 1) < 0.06, "%s noise: sd %.5f vs exact %.5f", mode ? "cell" : "column", sd, expect_sd);
    }
    prime_free(c);
}

/* Bytes of a saved random-mask PRIME model. */
static uint8_t *saved_model(size_t *n, prime_ctx **out) {
    prime_arch a = prime_arch_nmnist();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    for (int l = 0; l < a.n_layers; l++) {
        size_t nw = prime_layer_weights(&a.layers[l]);
        if (!nw) continue;
        uint8_t *m = malloc(nw);
        for (size_t i = 0; i < nw; i++) m[i] = prime_rand_u64(3, l, i) & 1;
        prime_set_mask(c, l, m, nw);
        free(m);
    }
    uint8_t *b;
    prime_save(c, &b, n);
    *out = c;
    return b;
}


/* Model file: round trip, truncations, bit flips, random bytes, bad fields. */
static void test_model_file(void) {
    size_t n;
    prime_ctx *c;
    uint8_t *b = saved_model(&n, &c);
    CHECK(n < 6000, "PRIME model file is small (%zu bytes)", n);
    prime_ctx *c2 = prime_load(b, n);
    CHECK(c2 != NULL, "round trip load: %s", prime_last_error());
    if (!c2) return;
    int same = 1;
    for (int l = 0; l < 5; l++) {
        size_t nw = prime_layer_weights(&prime_get_arch(c)->layers[l]);
        if (!nw) continue;
        uint8_t *m1 = malloc(nw), *m2 = malloc(nw);
        float *w1 = malloc(nw * 4), *w2 = malloc(nw * 4);
        prime_get_mask(c, l, m1, nw), prime_get_mask(c2, l, m2, nw);
        prime_get_weights(c, l, 0, w1, nw), prime_get_weights(c2, l, 0, w2, nw);
        same &= !memcmp(m1, m2, nw) && !memcmp(w1, w2, nw * 4);
        free(m1), free(m2), free(w1), free(w2);
    }
    CHECK(same, "masks and programmed weights survive save/load");
    uint8_t *b2;
    size_t n2;
    prime_save(c2, &b2, &n2);
    CHECK(n2 == n && !memcmp(b, b2, n), "save(load(file)) == file");
    prime_free_buffer(b2);
    prime_free(c2);
    /* every truncation is an error */
    int ok = 1;
    for (size_t k = 0; k < n; k++) {
        prime_ctx *x = prime_load(b, k);
        if (x) ok = 0, prime_free(x);
        if (!*prime_last_error()) ok = 0;
    }
    CHECK(ok, "every truncation of the file is rejected with a message");
    /* every single bit flip is an error */
    uint8_t *f = malloc(n);
    ok = 1;
    for (size_t k = 0; k < n * 8; k++) {
        memcpy(f, b, n);
        f[k / 8] ^= (uint8_t)(1u << (k % 8));
        prime_ctx *x = prime_load(f, n);
        if (x) ok = 0, prime_free(x);
    }
    CHECK(ok, "all %zu single-bit flips are rejected", n * 8);
    /* random bytes, with and without the magic */
    ok = 1;
    for (int k = 0; k < 2000; k++) {
        size_t len = 1 + prime_rand_u64(9, 1, k) % 8000;
        uint8_t *r = malloc(len);
        for (size_t i = 0; i < len; i++) r[i] = (uint8_t)prime_rand_u64(9, 2 + k, i);
        if (k % 2 && len > 16) memcpy(r, "PRIMEMDL\x01\0\0\0", 12), r[12] = (uint8_t)len, r[13] = (uint8_t)(len >> 8), r[14] = 0, r[15] = 0, fix_crc(r, len);
        prime_ctx *x = prime_load(r, len);
        if (x) ok = 0, prime_free(x);
        free(r);
    }
    CHECK(ok, "2000 random files (half with a valid magic, size and CRC) are rejected");
    /* foreign fields with a valid CRC: each gives a message naming the problem (version 3: versions 1 and 2
     * exist). Version 2 layout: 24-byte header (kind at 16, section count at 20), then section ARCH (tag at
     * 24, length at 28, T at 36, n_layers at 56, layer 0's op at 60 and out_c at 64) */
    struct { size_t off; uint32_t val; const char *msg; } bad[] = {
        {8, 3, "version"}, {16, 7, "network kind 7"}, {20, 3, "bytes after the last of its 3 sections"},
        {24, 0x58585858u, "section 'XXXX' is not one of"}, {28, 60000, "section 'ARCH' declares 60000 bytes"},
        {36, 0, "architecture"}, {56, 99, "architecture"}, {60, 9, "layer 0"}, {64, 0, "layer 0"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        memcpy(f, b, n);
        for (int i = 0; i < 4; i++) f[bad[k].off + i] = (uint8_t)(bad[k].val >> (8 * i));
        fix_crc(f, n);
        prime_ctx *x = prime_load(f, n);
        CHECK(!x && strstr(prime_last_error(), bad[k].msg), "field at %zu = %u rejected: %s", bad[k].off, bad[k].val, prime_last_error());
        if (x) prime_free(x);
    }
    free(f);
    prime_free_buffer(b);
    prime_free(c);
}

/* Builds a .npy of float32 values with the given shape. */
static size_t make_npy(uint8_t *out, const float *v, const int *shape, int nd) {
    char h[128], sh[64] = "";
    size_t count = 1;
    for (int i = 0; i < nd; i++) {
        char t[16];
        snprintf(t, sizeof t, "%d, ", shape[i]);
        strcat(sh, t);
        count *= shape[i];
    }
    int hl = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }", sh);
    while ((10 + hl + 1) % 64) h[hl++] = ' ';
    h[hl++] = '\n';
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    out[8] = (uint8_t)hl, out[9] = 0;
    memcpy(out + 10, h, hl);
    memcpy(out + 10 + hl, v, count * 4);
    return 10 + hl + count * 4;
}

/* Wraps files in a stored (uncompressed) zip: local headers, central
 * directory and end record, CRC-32 filled in. */
static size_t make_zip(uint8_t *out, const char **names, uint8_t **data, size_t *lens, int k) {
    size_t o = 0, offs[8];
    uint32_t crcs[8];
    for (int i = 0; i < k; i++) {
        size_t nl = strlen(names[i]);
        uint8_t h[30] = {0x50, 0x4b, 0x03, 0x04, 20, 0};
        crcs[i] = prime_crc32(data[i], lens[i]);
        for (int j = 0; j < 4; j++) h[14 + j] = (uint8_t)(crcs[i] >> (8 * j)), h[18 + j] = h[22 + j] = (uint8_t)(lens[i] >> (8 * j));
        h[26] = (uint8_t)nl;
        offs[i] = o;
        memcpy(out + o, h, 30), o += 30;
        memcpy(out + o, names[i], nl), o += nl;
        memcpy(out + o, data[i], lens[i]), o += lens[i];
    }
    size_t cd = o;
    for (int i = 0; i < k; i++) {
        size_t nl = strlen(names[i]);
        uint8_t h[46] = {0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0};
        for (int j = 0; j < 4; j++)
            h[16 + j] = (uint8_t)(crcs[i] >> (8 * j)), h[20 + j] = h[24 + j] = (uint8_t)(lens[i] >> (8 * j)),
            h[42 + j] = (uint8_t)(offs[i] >> (8 * j));
        h[28] = (uint8_t)nl;
        memcpy(out + o, h, 46), o += 46;
        memcpy(out + o, names[i], nl), o += nl;
    }
    size_t cds = o - cd;
    memset(out + o, 0, 22); /* end of central directory, no comment */
    memcpy(out + o, "PK\x05\x06", 4);
    out[o + 8] = out[o + 10] = (uint8_t)k;
    for (int j = 0; j < 4; j++) out[o + 12 + j] = (uint8_t)(cds >> (8 * j)), out[o + 16 + j] = (uint8_t)(cd >> (8 * j));
    return o + 22;
}

static void test_npz(void) {
    prime_ctx *c = tiny_ctx(0.5f);
    if (!c) { CHECK(0, "ctx"); return; }
    /* PyTorch layout [out][in]: mask0 = [[1,0],[0,1]], weight1 = [[1,2],[3,4]] */
    float m0[4] = {1, 0, 0, 1}, w1[4] = {1, 2, 3, 4};
    int shape[2] = {2, 2};
    uint8_t npy0[256], npy1[256], zip[1024];
    size_t l0 = make_npy(npy0, m0, shape, 2), l1 = make_npy(npy1, w1, shape, 2);
    const char *names[2] = {"mask0.npy", "weight1.npy"};
    uint8_t *data[2] = {npy0, npy1};
    size_t lens[2] = {l0, l1};
    size_t zl = make_zip(zip, names, data, lens, 2);
    int used = prime_import_npz(c, zip, zl);
    CHECK(used == 2, "npz import used %d arrays: %s", used, prime_last_error());
    uint8_t m[4];
    prime_get_mask(c, 0, m, 4);
    CHECK(m[0] == 1 && m[1] == 0 && m[2] == 0 && m[3] == 1, "mask transposed to [in][out]");
    float w[4];
    prime_get_weights(c, 1, 1, w, 4);
    /* matrix [in][out]: w[in0][out1] = torch[out1][in0] = 3 */
    CHECK(w[0] == 1 && w[1] == 3 && w[2] == 2 && w[3] == 4, "weights transposed (%g %g %g %g)", w[0], w[1], w[2], w[3]);
    float *arr;
    int sh[8], nd;
    CHECK(prime_npy_read(npy1, l1, &arr, sh, &nd) == 0 && nd == 2 && arr[3] == 4, "npy read");
    prime_free_buffer(arr);
    CHECK_INT(prime_npy_read(npy1, l1 - 3, &arr, sh, &nd), -1, "truncated npy rejected: %s", prime_last_error());
    int bad_shape[2] = {3, 2};
    float w6[6] = {1, 2, 3, 4, 5, 6};
    l0 = make_npy(npy0, w6, bad_shape, 2);
    lens[0] = l0;
    zl = make_zip(zip, names, data, lens, 1);
    CHECK(prime_import_npz(c, zip, zl) == -1 && strstr(prime_last_error(), "shape"), "wrong shape rejected: %s", prime_last_error());
    /* a measured map: gpos0 replaces the positive cells of layer 0 */
    float gp[4] = {20, 21, 22, 23};
    l0 = make_npy(npy0, gp, shape, 2);
    const char *gname[1] = {"gpos0.npy"};
    lens[0] = l0;
    zl = make_zip(zip, gname, data, lens, 1);
    prime_get_weights(c, 0, 1, w, 4);
    float before = w[0];
    CHECK_INT(prime_import_npz(c, zip, zl), 1, "gpos0 imported: %s", prime_last_error());
    prime_get_weights(c, 0, 1, w, 4);
    /* torch [out][in] -> matrix [in][out]: G+[in0][out1] = 22 */
    CHECK(w[0] != before && w[1] == 22 - (10 - -0.5f / 2), "measured G+ used (%g)", w[1]);
    int ok = 1;
    for (size_t k = 0; k < zl; k++) if (prime_import_npz(c, zip, k) >= 0) ok = 0;
    CHECK(ok, "every truncated npz is rejected");
    prime_free(c);
}

/* A 4x4 BMP (24-bit) written by hand. */
static size_t make_bmp(uint8_t *b) {
    size_t rowb = 12, img = rowb * 4, n = 54 + img;
    memset(b, 0, n);
    b[0] = 'B', b[1] = 'M', b[2] = (uint8_t)n, b[10] = 54, b[14] = 40, b[18] = 4, b[22] = 4, b[26] = 1, b[28] = 24;
    b[34] = (uint8_t)img;
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            uint8_t v = (x >= 2) ? 255 : 0; /* right half white */
            b[54 + y * rowb + x * 3] = b[54 + y * rowb + x * 3 + 1] = b[54 + y * rowb + x * 3 + 2] = v;
        }
    return n;
}

static void test_images(void) {
    uint8_t bmp[128];
    size_t n = make_bmp(bmp);
    float out[4];
    CHECK_INT(prime_image_decode(bmp, n, 2, 2, 0, out), 0, "BMP decodes: %s", prime_last_error());
    CHECK(out[0] == 0 && out[1] == 1 && out[2] == 0 && out[3] == 1, "area resize 4x4 -> 2x2 (%g %g %g %g)", out[0], out[1], out[2], out[3]);
    CHECK(prime_image_decode(bmp, n, 2, 2, 1, out) == 0 && out[0] == 1 && out[1] == 0, "invert");
    uint8_t junk[64];
    for (int i = 0; i < 64; i++) junk[i] = (uint8_t)(i * 37);
    CHECK(prime_image_decode(junk, 64, 28, 28, 0, out) == -1 && strstr(prime_last_error(), "decoded"), "junk rejected: %s", prime_last_error());
    int ok = 1;
    float big[28 * 28];
    for (size_t k = 0; k < n; k++) prime_image_decode(bmp, k, 28, 28, 0, big); /* must not crash */
    for (size_t k = 0; k < n * 8; k += 3) {
        uint8_t f[128];
        memcpy(f, bmp, n);
        f[k / 8] ^= (uint8_t)(1 << (k % 8));
        int rc = prime_image_decode(f, n, 28, 28, 0, big);
        if (rc != 0 && !*prime_last_error()) ok = 0;
    }
    CHECK(ok, "truncated and bit-flipped images: an error or an image, never a crash");
    float up[16];
    float src[4] = {0, 1, 0, 1};
    CHECK(prime_image_resize(src, 2, 2, up, 4, 4) == 0 && up[0] == 0 && up[3] == 1, "bilinear upscale");
}

static void test_arch_checks(void) {
    prime_arch a = prime_arch_nmnist();
    CHECK(a.layers[2].out_h == 12 && a.layers[3].out_h == 6 && prime_layer_rows(&a.layers[4]) == 2304,
          "PRIME shapes 34 -> 32 -> 16 -> 12 -> 6, FC fan-in 2304");
    prime_arch b = a;
    b.layers[0].k = 40;
    CHECK_INT(prime_arch_finalize(&b), -1, "kernel larger than input rejected: %s", prime_last_error());
    b = a, b.n_classes = 7;
    CHECK(prime_arch_finalize(&b) == -1 && strstr(prime_last_error(), "classes"), "class count mismatch rejected");
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    float x[10];
    prime_result r;
    CHECK_INT(prime_begin(c, x, 0), -1, "T = 0 rejected");
    float *in = calloc(10 * 2 * 34 * 34, sizeof(float));
    in[5] = NAN;
    CHECK(prime_classify(c, in, 10, &r) == -1 && strstr(prime_last_error(), "finite"), "NaN input rejected");
    in[5] = 0;
    CHECK(prime_classify(c, in, 10, &r) == 0 && r.spikes[0] == 0, "all-zero input: no spikes, no crash");
    CHECK(r.counters.cell_reads == 0, "all-zero input reads no cells (event-driven)");
    CHECK_INT(prime_step(c), 0, "finished");
    CHECK(prime_layer_state(c, 9, 0, NULL) == NULL, "bad layer index rejected");
    uint8_t m[3];
    CHECK_INT(prime_set_mask(c, 1, m, 3), -1, "mask on a pool rejected");
    CHECK(prime_set_mask(c, 0, m, 3) == -1 && strstr(prime_last_error(), "600"), "mask size checked: %s", prime_last_error());
    prime_tiling t;
    prime_get_tiling(c, 4, &t);
    CHECK(t.row_tiles == 5 && t.col_tiles == 1 && prime_total_arrays(c) == 7, "tiling: FC on 5 arrays, 7 in all");
    free(in);
    prime_free(c);
}

int main(void) {
    test_hand_computed();
    test_reference_equations();
    test_early_stop();
    test_device();
    test_noise_equivalence();
    test_model_file();
    test_npz();
    test_images();
    test_arch_checks();
    return check_summary();
}
