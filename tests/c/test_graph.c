/* test_graph.c - the layer-graph engine (src/prime_graph*.c, docs/graph.md):
 * invalid graphs refused with the field named, every op and neuron run,
 * save -> load gives identical outputs (noise on and off, inpaint and
 * generate), truncations and bit flips of a model file are clear errors,
 * the authors' FSVAE layout imports and its faults are named. The torch
 * comparisons are scripts/graph-check.py's (tests/node/graph.test.mjs). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "crc_ref.h"
#include "data.h"
#include "pmath.h"
#include "prime.h"
#include "prime_graph.h"
#include "prime_internal.h"

#define FIX "build/graph-fixtures"

static int has(const char *needle) { return strstr(prime_last_error(), needle) != NULL; }

/* A graph with every op but the latent: conv+LIF, avgpool, digital conv +
 * ReLU-q, tconv + FSVAE LIF, concat, maxpool, affine + LIF, flatten, FC + output cell. */
static prime_gdesc small_desc(void) {
    prime_gdesc d;
    memset(&d, 0, sizeof d);
    prime_gnode *n = prime_gdesc_add(&d, 0, PRIME_G_INPUT);
    n->c = 2, n->h = n->w = 8;
    n = prime_gdesc_add(&d, 0, PRIME_G_CONV);
    n->c = 4, n->k = 3, n->pad = 1, n->bias = 1, n->neuron = PRIME_GN_LIF;
    prime_gdesc_add(&d, 0, PRIME_G_AVGPOOL)->k = 2;
    n = prime_gdesc_add(&d, 0, PRIME_G_CONV);
    n->c = 3, n->k = 3, n->stride = 2, n->pad = 1, n->crossbar = 0, n->bias = 1, n->neuron = PRIME_GN_RELUQ, n->qmax = 1.5f;
    n = prime_gdesc_add(&d, 0, PRIME_G_TCONV);
    n->c = 2, n->k = 3, n->stride = 2, n->pad = 1, n->out_pad = 1, n->neuron = PRIME_GN_FSVAE, n->th = 0.05f;
    n = prime_gdesc_add(&d, 0, PRIME_G_CONCAT);
    n->in[0] = 2, n->in[1] = 4;
    prime_gdesc_add(&d, 0, PRIME_G_MAXPOOL)->k = 2;
    prime_gdesc_add(&d, 0, PRIME_G_AFFINE)->neuron = PRIME_GN_LIF;
    prime_gdesc_add(&d, 0, PRIME_G_FLATTEN);
    n = prime_gdesc_add(&d, 0, PRIME_G_FC);
    n->c = 5, n->neuron = PRIME_GN_OUTPUT;
    d.T = 6, d.readout = PRIME_GR_MEAN, d.in_dac = 1;
    return d;
}

/* Random parameters for every node of m (masks, digital weights, biases, affines). */
static void randomize(prime_gmodel *m, uint64_t seed) {
    const prime_gdesc *d = prime_graph_desc(m);
    static const char *what[] = {"mask", "weight", "bias", "affine_a", "affine_b"};
    for (int g = 0; g < d->n_graphs; g++)
        for (int i = 0; i < d->g[g].n; i++)
            for (int w = 0; w < 5; w++) {
                const prime_gnode *N = &d->g[g].node[i];
                if ((w == 1 && N->crossbar) || (w == 0 && !N->crossbar)) continue;
                size_t n = prime_graph_param_size(m, g, i, what[w]);
                if (!n) continue;
                float *v = malloc(n * sizeof(float));
                for (size_t j = 0; j < n; j++) {
                    double u = prime_rand_uniform(seed, (uint64_t)(g * 64 + i) * 8 + w, j);
                    v[j] = w == 0 ? (u < 0.5) : w == 1 ? (float)(u - 0.5) * 0.6f : w == 3 ? 0.5f + (float)u : (float)(u - 0.4) * 0.3f;
                }
                CHECK(prime_graph_set_param(m, g, i, what[w], v, n) == 0, "set %s of (%d, %d): %s", what[w], g, i, prime_last_error());
                free(v);
            }
}

/* Runs in (or generates) and copies every step's readout; returns the result. */
static prime_gresult run_all(prime_gmodel *m, const float *in, float *hist) {
    prime_gresult r;
    memset(&r, 0, sizeof r);
    const prime_grun ru = prime_graph_get_run(m);
    prime_graph_set_run(m, &ru); /* restarts the noise and latent streams (inference 0) */
    CHECK(prime_graph_run(m, in, 1, &r) == 0, "run: %s", prime_last_error());
    for (int t = 0; t < r.steps_used; t++) {
        size_t n;
        const float *h = prime_graph_readout(m, t, &n);
        memcpy(hist + (size_t)t * n, h, n * sizeof(float));
    }
    return r;
}

/* save -> load gives the same outputs, counters and energy, bit for bit. */
static void check_roundtrip(prime_gmodel *m, const float *in, const char *what) {
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK(prime_graph_save(m, &b, &n) == 0, "%s: save: %s", what, prime_last_error());
    prime_gmodel *r = prime_graph_load(b, n);
    CHECK(r != NULL, "%s: load: %s", what, prime_last_error());
    if (r) {
        const prime_gdesc *d = prime_graph_desc(m);
        const size_t nh = (size_t)d->T * 4096;
        float *h0 = calloc(nh, sizeof(float)), *h1 = calloc(nh, sizeof(float));
        prime_gresult a = run_all(m, in, h0), c = run_all(r, in, h1);
        CHECK(a.steps_used == c.steps_used && !memcmp(h0, h1, nh * sizeof(float)) && !memcmp(&a.counters, &c.counters, sizeof a.counters) &&
                  a.energy_pj == c.energy_pj && a.spikes == c.spikes,
              "%s: save -> load gives identical readouts, counters and energy (%d steps, %.0f spikes)", what, a.steps_used, a.spikes);
        uint8_t *b2;
        size_t n2;
        CHECK(prime_graph_save(r, &b2, &n2) == 0 && n2 == n && !memcmp(b, b2, n), "%s: the reloaded model saves to the same bytes", what);
        prime_free_buffer(b2);
        free(h0), free(h1);
    }
    prime_graph_free(r);
    prime_free_buffer(b);
}

static void test_errors(void) {
    prime_device dev = prime_default_device();
    prime_gdesc d = small_desc();
    d.g[0].node[3].op = 99;
    CHECK(!prime_graph_create(&d, &dev) && has("graph 0 node 3: unknown op 99"), "unknown op named: %s", prime_last_error());
    d = small_desc(), d.g[0].node[2].in[0] = 5;
    CHECK(!prime_graph_create(&d, &dev) && has("node 2 (avgpool): input 5 is not an earlier node"), "forward input: %s", prime_last_error());
    d = small_desc(), d.g[0].node[5].in[1] = 1;
    CHECK(!prime_graph_create(&d, &dev) && has("node 5 (concat): inputs of 4 x 4 and 8 x 8"), "concat shapes: %s", prime_last_error());
    d = small_desc(), d.g[0].node[1].neuron = 9;
    CHECK(!prime_graph_create(&d, &dev) && has("unknown neuron 9"), "unknown neuron: %s", prime_last_error());
    d = small_desc(), d.g[0].node[1].k = 13;
    CHECK(!prime_graph_create(&d, &dev) && has("node 1 (conv): input 8 x 8 gives an output"), "conv too big: %s", prime_last_error());
    d = small_desc(), d.g[0].node[4].out_pad = 2;
    CHECK(!prime_graph_create(&d, &dev) && has("out_pad 2"), "out_pad: %s", prime_last_error());
    d = small_desc(), d.T = 0;
    CHECK(!prime_graph_create(&d, &dev) && has("T = 0"), "T: %s", prime_last_error());
    d = small_desc(), d.g[0].node[9].c = 1 << 22;
    CHECK(!prime_graph_create(&d, &dev) && has("above the cap"), "size cap: %s", prime_last_error());
    d = small_desc(), d.g[0].node[8].neuron = PRIME_GN_LIF;
    CHECK(!prime_graph_create(&d, &dev) && has("data-movement"), "neuron on a flatten: %s", prime_last_error());
    prime_gdesc f = prime_graph_fsvae(8, 3, 4, 4);
    f.g[2].node[5].c = 7;
    CHECK(!prime_graph_create(&f, &dev) && has("prior graph 2 gives"), "latent sub-graph output: %s", prime_last_error());
    f = prime_graph_fsvae(8, 3, 4, 4), f.g[0].node[13].c = 5;
    CHECK(!prime_graph_create(&f, &dev) && has("node 13 (reshape): shape 5 x 4 x 4 for 64 values"), "reshape: %s", prime_last_error());
    d = small_desc();
    prime_gmodel *m = prime_graph_create(&d, &dev);
    CHECK(m != NULL, "the small graph is valid: %s", prime_last_error());
    float v[4] = {0, 1, 0.5f, 1};
    CHECK(prime_graph_set_param(m, 0, 1, "mask", v, 3) != 0 && has("has 72 values, not 3"), "param size: %s", prime_last_error());
    float *mk = calloc(72, sizeof(float));
    mk[7] = 0.5f;
    CHECK(prime_graph_set_param(m, 0, 1, "mask", mk, 72) != 0 && has("mask value 7 = 0.5"), "mask value: %s", prime_last_error());
    CHECK(prime_graph_set_param(m, 0, 1, "weight", mk, 72) != 0 && has("crossbar node"), "crossbar weights read only: %s", prime_last_error());
    CHECK(prime_graph_set_param(m, 0, 2, "bias", mk, 4) != 0 && has("no parameter \"bias\""), "no such param: %s", prime_last_error());
    free(mk);
    float in[128] = {0};
    in[5] = NAN;
    prime_gresult r;
    CHECK(prime_graph_run(m, in, 1, &r) != 0 && has("input value 5"), "NaN input: %s", prime_last_error());
    prime_grun ru = prime_graph_default_run();
    ru.policy = PRIME_GP_CONVERGENCE;
    CHECK(prime_graph_set_run(m, &ru) != 0 && has("tanh readout"), "policy/readout mismatch: %s", prime_last_error());
    prime_graph_free(m);
}

static void test_small(void) {
    prime_device dev = prime_default_device();
    prime_gdesc d = small_desc();
    prime_gmodel *m = prime_graph_create(&d, &dev);
    if (!CHECK(m != NULL, "create: %s", prime_last_error())) return;
    randomize(m, 3);
    float in[128];
    for (int j = 0; j < 128; j++) in[j] = (float)prime_rand_uniform(9, 1, (uint64_t)j) * 2.0f;
    float h[6 * 4096];
    prime_gresult r = run_all(m, in, h);
    CHECK(r.steps_used == 6 && r.spikes > 0 && r.counters.adc_conversions > 0 && r.digital_macs > 0 && r.energy_pj > 0,
          "every op runs: %d steps, %.0f spikes, %.0f conversions, %.0f digital MACs", r.steps_used, r.spikes,
          r.counters.adc_conversions, r.digital_macs);
    int moved = 0;
    for (int j = 0; j < 5; j++) moved |= h[5 * 5 + j] != 0;
    CHECK(moved, "the readout is not all zero");
    check_roundtrip(m, in, "small graph, ideal ADC off, no noise");
    prime_device dn = dev;
    dn.read_noise = 0.05f, dn.adc_bits = 8, dn.dac_bits = 6;
    CHECK(prime_graph_set_device(m, &dn) == 0, "noisy device: %s", prime_last_error());
    float h2[6 * 4096];
    run_all(m, in, h2);
    CHECK(memcmp(h, h2, sizeof(float) * 30) != 0, "read noise and the ADC change the readout");
    check_roundtrip(m, in, "small graph, read noise 0.05, 8-bit ADC, 6-bit DAC");
    prime_set_reference_kernels(1);
    float h3[6 * 4096];
    prime_gresult r3 = run_all(m, in, h3);
    prime_set_reference_kernels(0);
    float h4[6 * 4096];
    prime_gresult r4 = run_all(m, in, h4);
    CHECK(!memcmp(h3, h4, sizeof(float) * 30) && r3.spikes == r4.spikes, "the reference kernels give the same bits");
    prime_grun ru = prime_graph_default_run();
    ru.policy = PRIME_GP_CONFIDENCE, ru.threshold = 0.2f;
    CHECK(prime_graph_set_run(m, &ru) == 0, "confidence policy: %s", prime_last_error());
    r = run_all(m, in, h);
    CHECK(r.steps_used == 1 && r.confidence[0] > 0.2f, "the confidence stop fires after step 1 (conf %.3f)", r.confidence[0]);
    prime_graph_free(m);
}

static void test_latent(void) {
    prime_device dev = prime_vae_default_device();
    prime_gdesc d = prime_graph_fsvae(8, 3, 4, 5);
    prime_gmodel *m = prime_graph_create(&d, &dev);
    if (!CHECK(m != NULL, "a small FSVAE graph: %s", prime_last_error())) return;
    randomize(m, 5);
    float in[1024];
    for (int j = 0; j < 1024; j++) in[j] = (float)prime_rand_uniform(4, 2, (uint64_t)j) * 2 - 1;
    float h[5 * 1024];
    prime_gresult r = run_all(m, in, h);
    int ch[40], ch2[40];
    CHECK(prime_graph_get_choices(m, 10, ch, 40) == 0, "choices of the run: %s", prime_last_error());
    int ok = 1;
    for (int j = 0; j < 40; j++) ok &= ch[j] >= 0 && ch[j] < 3;
    CHECK(ok && r.spikes > 0, "latent picks in 0..k-1, %.0f spikes", r.spikes);
    /* the next run (inference 1) draws other choices; forced ones give the first run's output */
    prime_gresult r2;
    CHECK(prime_graph_run(m, in, 1, &r2) == 0 && prime_graph_get_choices(m, 10, ch2, 40) == 0 && memcmp(ch, ch2, sizeof ch),
          "another inference draws other choices");
    CHECK(prime_graph_set_choices(m, 10, ch, 40) == 0, "set choices: %s", prime_last_error());
    CHECK(prime_graph_run(m, in, 1, &r2) == 0, "run: %s", prime_last_error());
    prime_graph_get_choices(m, 10, ch2, 40);
    int same = !memcmp(ch, ch2, sizeof ch);
    for (int t = 0; t < 5; t++) same &= !memcmp(prime_graph_readout(m, t, NULL), h + t * 1024, 1024 * sizeof(float));
    CHECK(same, "given the first run's choices, a later inference gives its reconstruction, bit for bit");
    CHECK(prime_graph_set_choices(m, 10, ch, 39) != 0 && has("T * c = 40"), "choice count: %s", prime_last_error());
    ch[3] = 3;
    CHECK(prime_graph_set_choices(m, 10, ch, 40) != 0 && has("choice 3 = 3"), "choice range: %s", prime_last_error());
    prime_graph_set_choices(m, 10, NULL, 0);
    check_roundtrip(m, in, "small FSVAE, inpainting");
    prime_grun ru = prime_graph_get_run(m);
    ru.generate = 1;
    CHECK(prime_graph_set_run(m, &ru) == 0, "generate mode: %s", prime_last_error());
    check_roundtrip(m, NULL, "small FSVAE, generation from the prior");
    ru.generate = 0, ru.policy = PRIME_GP_CONVERGENCE, ru.m_th = 1e9f;
    CHECK(prime_graph_set_run(m, &ru) == 0, "convergence policy: %s", prime_last_error());
    prime_graph_free(m);
}

/* Every truncation and 10,000 bit flips of a saved model: an error, never a crash. */
static void test_bad_files(void) {
    prime_device dev = prime_default_device();
    prime_gdesc d = small_desc();
    prime_gmodel *m = prime_graph_create(&d, &dev);
    randomize(m, 7);
    float gp[72];
    for (int j = 0; j < 72; j++) gp[j] = 20.0f + j; /* a measured map: the file carries conductances too */
    CHECK(prime_graph_set_param(m, 0, 1, "gpos", gp, 72) == 0, "measured map: %s", prime_last_error());
    uint8_t *b;
    size_t n;
    CHECK(prime_graph_save(m, &b, &n) == 0, "save: %s", prime_last_error());
    prime_graph_free(m);
    int fails = 0, named = 0;
    for (size_t k = 0; k < n; k++) {
        prime_gmodel *r = prime_graph_load(b, k);
        fails += r == NULL;
        named += r == NULL && prime_last_error()[0];
        prime_graph_free(r);
    }
    CHECK(fails == (int)n && named == (int)n, "every truncation (%zu) refused with a message (%d)", n, named);
    uint8_t *c = malloc(n);
    int flips = 0, refused = 0, crc_named = 0;
    for (int k = 0; k < 10000; k++) {
        memcpy(c, b, n);
        size_t at = (size_t)(prime_rand_uniform(13, 1, (uint64_t)k) * (double)n);
        c[at] ^= (uint8_t)(1u << (k % 8));
        prime_gmodel *r = prime_graph_load(c, n);
        flips++;
        refused += r == NULL;
        crc_named += r == NULL && (has("CRC") || has("bytes") || has("magic") || has("version") || has("kind"));
        prime_graph_free(r);
    }
    CHECK(refused == flips && crc_named == flips, "10,000 bit flips refused (%d), each by the header or CRC check (%d)", refused, crc_named);
    /* flips with the CRC made good: the field checks answer (or the value is valid), never a crash */
    int loaded = 0, msg = 0;
    for (int k = 0; k < 3000; k++) {
        memcpy(c, b, n);
        size_t at = 20 + (size_t)(prime_rand_uniform(17, 1, (uint64_t)k) * (double)(n - 24));
        c[at] ^= (uint8_t)(1u << (k % 8));
        fix_crc(c, n);
        prime_gmodel *r = prime_graph_load(c, n);
        loaded += r != NULL;
        msg += r == NULL && prime_last_error()[0];
        prime_graph_free(r);
    }
    CHECK(loaded + msg == 3000, "3,000 flips with a good CRC: %d load (a still-valid value), %d refused with a message", loaded, msg);
    /* a named field: node 1's op (GDSC: 20-byte header, 8-byte section head, 8 desc fields, node count, node 0) */
    memcpy(c, b, n);
    const size_t op1 = 16 + 4 + 8 + 8 * 4 + 4 + 26 * 4;
    c[op1] = 77, fix_crc(c, n);
    CHECK(!prime_graph_load(c, n) && has("graph 0 node 1: unknown op 77"), "a bad field is named: %s", prime_last_error());
    memcpy(c, b, n);
    c[op1 + 4 * 14] = 9, fix_crc(c, n); /* node 1's neuron */
    CHECK(!prime_graph_load(c, n) && has("unknown neuron 9"), "a bad neuron is named: %s", prime_last_error());
    free(c);
    prime_free_buffer(b);
}

static void test_import(void) {
    size_t n;
    uint8_t *b;
    if (!CHECK_DATA(prime_read_file(FIX "/fsvae.pt", &b, &n) == 0, FIX "/fsvae.pt (tests/make_graph_fixtures.py, needs python3-torch)")) return;
    CHECK(prime_graph_import_knows(b, n) == 1, "the FSVAE layout is recognized");
    prime_gmodel *m = prime_graph_import(b, n, NULL);
    free(b);
    if (!CHECK(m != NULL, "the authors' FSVAE imports: %s", prime_last_error())) return;
    const prime_gdesc *d = prime_graph_desc(m);
    CHECK(d->n_graphs == 3 && d->g[0].n == 21 && d->g[1].n == 7 && d->g[0].node[10].op == PRIME_G_LATENT,
          "graph 0 with 21 nodes, posterior and prior with 7 each");
    float mk[9 * 32], s = 0;
    CHECK(prime_graph_get_param(m, 0, 1, "mask", mk, 288) == 0, "mask: %s", prime_last_error());
    for (int j = 0; j < 288; j++) s += mk[j];
    CHECK(s == 144, "encoder.0's mask keeps 144 of 288 (sparsity 0.5: %g)", s);
    float in[1024];
    for (int j = 0; j < 1024; j++) in[j] = (j % 32 > 8 && j % 32 < 24) ? 0.8f : -1.0f;
    check_roundtrip(m, in, "imported FSVAE, default device");
    prime_graph_free(m);
    static const struct { const char *file, *msg; } bad[] = {
        {"fsvae-extra.pt", "entry decoder.0.gain (float32, shape (32)) matches no layer of the PRIME authors' FSVAE"},
        {"fsvae-shape.pt", "entry encoder.1.weight has shape (32, 16, 3, 3, 1), the layer needs (32, 32, 3, 3, 1)"},
        {"fsvae-dtype.pt", "entry decoder.1.bias has dtype int32"},
        {"fsvae-missing.pt", "entry final_layer.1.scores is missing"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, FIX "/%s", bad[k].file);
        if (prime_read_file(path, &b, &n) != 0) { CHECK(0, "fixture %s: %s", path, prime_last_error()); continue; }
        CHECK(!prime_graph_import(b, n, NULL) && has(bad[k].msg), "%s: %s", bad[k].file, prime_last_error());
        free(b);
    }
}

int main(void) {
    int have = system("/usr/bin/python3 tests/make_graph_fixtures.py " FIX " >/dev/null 2>&1") == 0;
    if (!have) printf("note: the fixtures could not be made (python3-torch missing?)\n");
    test_errors();
    test_small();
    test_latent();
    test_bad_files();
    test_import();
    return check_summary();
}
