/* test_model_v2.c - model file version 2: conductance maps that are not
 * regenerable from the chip seed survive save -> load (identical outputs, also
 * with read noise and after a re-forming device change), the shipped version-1
 * files and the draft version 2 load and convert with identical outputs, and
 * every truncation, bit flip and crafted bad field of a
 * version-2 file is a clear error (docs/model-format.md). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "bad_files.h"
#include "crc_ref.h"
#include "pmath.h"
#include "prime.h"

static uint32_t rd32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static void wr32(uint8_t *b, uint32_t v) { for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k)); }

/* A small classifier: conv 1->4 k3 p1 + LIF, pool 2, FC 64 -> 3 + output cell. */
static prime_arch small_arch(void) {
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.T = 4, a.in_c = 1, a.in_h = 8, a.in_w = 8, a.n_classes = 3, a.n_layers = 3;
    a.layers[0] = (prime_layer){.op = PRIME_OP_CONV, .out_c = 4, .k = 3, .stride = 1, .pad = 1, .neuron = PRIME_NEURON_LIF,
                                .th = 0.2f, .decay = 0.8f, .leak = 0.1f, .scale = 0.01f, .sparsity = 0.5f};
    a.layers[1] = (prime_layer){.op = PRIME_OP_AVGPOOL, .k = 2, .stride = 2};
    a.layers[2] = (prime_layer){.op = PRIME_OP_FC, .out_c = 3, .k = 1, .stride = 1, .neuron = PRIME_NEURON_OUTPUT,
                                .leak = 0.1f, .scale = 0.01f, .sparsity = 0.5f};
    prime_arch_finalize(&a);
    return a;
}

/* Random masks on every weight layer, a measured map (uS) on the layers of `which` (bit l). */
static void program(prime_ctx *c, unsigned which, uint64_t seed) {
    const prime_arch *a = prime_get_arch(c);
    for (int l = 0; l < a->n_layers; l++) {
        size_t nw = prime_layer_weights(&a->layers[l]);
        if (!nw) continue;
        uint8_t *m = malloc(nw);
        float *gp = malloc(nw * sizeof(float)), *gn = malloc(nw * sizeof(float));
        for (size_t i = 0; i < nw; i++) {
            m[i] = prime_rand_u64(seed, (uint64_t)l, i) & 1;
            gp[i] = (float)(30 + 15 * prime_rand_normal(seed, 100 + (uint64_t)l, i));
            gn[i] = (float)(30 + 15 * prime_rand_normal(seed, 200 + (uint64_t)l, i));
            if (gp[i] < 0) gp[i] = 0;
            if (gn[i] < 0) gn[i] = 0;
        }
        CHECK(prime_set_mask(c, l, m, nw) == 0, "mask of layer %d", l);
        if (which >> l & 1) CHECK(prime_set_conductances(c, l, gp, gn, nw) == 0, "conductances of layer %d", l);
        free(m), free(gp), free(gn);
    }
}

static void *clf_load(const uint8_t *b, size_t n) { return prime_load(b, n); }
static void clf_free(void *c) { prime_free(c); }

/* Two classifications give the same bits (logits, spikes, counters, energy). */
static int same_result(const prime_result *x, const prime_result *y) {
    return x->label == y->label && x->steps_used == y->steps_used && !memcmp(x->logits, y->logits, sizeof x->logits) &&
           !memcmp(x->spikes, y->spikes, sizeof x->spikes) && !memcmp(&x->counters, &y->counters, sizeof x->counters) &&
           x->energy_pj == y->energy_pj;
}

/* Classifies the input of seed s with read noise eta on model c. */
static prime_result run(prime_ctx *c, float eta, uint64_t s) {
    const prime_arch *a = prime_get_arch(c);
    size_t n = (size_t)a->T * a->in_c * a->in_h * a->in_w;
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) x[i] = (float)(prime_rand_u64(s, 9, i) % 4 == 0 ? prime_rand_u64(s, 10, i) % 3 : 0);
    prime_device d = prime_get_device(c);
    d.read_noise = eta;
    prime_run r = prime_get_run(c);
    prime_result res;
    memset(&res, 0, sizeof res);
    if (prime_set_device(c, &d) || prime_set_run(c, &r) || prime_classify(c, x, a->T, &res)) res.label = -1;
    free(x);
    return res;
}

/* save -> load of the PRIME network with measured maps on two layers. */
static void test_round_trip(void) {
    prime_arch a = prime_arch_nmnist();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    program(c, 1u << 0 | 1u << 4, 5);
    uint8_t *b;
    size_t n;
    CHECK(prime_save(c, &b, &n) == 0, "save a model with conductance maps");
    CHECK_INT(rd32(b + 8), 2, "a model with maps is saved as version 2");
    prime_ctx *c2 = prime_load(b, n);
    CHECK(c2 != NULL, "the version-2 file loads: %s", prime_last_error());
    if (!c2) { prime_free_buffer(b), prime_free(c); return; }
    for (int k = 0; k < 3; k++) {
        float eta = k == 0 ? 0.0f : 0.05f;
        prime_result r1 = run(c, eta, (uint64_t)k + 1), r2 = run(c2, eta, (uint64_t)k + 1);
        CHECK(r1.label >= 0 && same_result(&r1, &r2), "input %d, read noise %.2f: reloaded = saved (label %d, logit0 %.9g vs %.9g)",
              k, (double)eta, r1.label, (double)r1.logits[0], (double)r2.logits[0]);
    }
    /* the maps are not regenerable: a model with the same seed and masks but formed cells differs */
    prime_ctx *c3 = prime_create(&a, &d);
    program(c3, 0, 5);
    prime_result r1 = run(c, 0, 1), r3 = run(c3, 0, 1);
    CHECK(!same_result(&r1, &r3), "without the stored maps the outputs differ (the maps matter)");
    /* the maps survive a re-forming device change (new chip seed), on both */
    prime_device d2 = prime_get_device(c);
    d2.chip_seed = 99;
    CHECK(prime_set_device(c, &d2) == 0 && prime_set_device(c2, &d2) == 0, "re-form both with another chip seed");
    r1 = run(c, 0.05f, 7);
    prime_result r2 = run(c2, 0.05f, 7);
    CHECK(same_result(&r1, &r2), "after re-forming: reloaded = saved");
    float w1[600], w2[600];
    CHECK(prime_get_weights(c, 0, 1, w1, 600) == 0 && prime_get_weights(c2, 0, 1, w2, 600) == 0 &&
          !memcmp(w1, w2, sizeof w1), "layer 0's measured on-state weights kept over the re-forming");
    /* save of the loaded model: the same bytes */
    prime_set_device(c2, &d);
    uint8_t *b2;
    size_t n2;
    CHECK(prime_save(c2, &b2, &n2) == 0 && n2 == n && !memcmp(b, b2, n), "save(load(file)) = file (%zu bytes)", n);
    prime_free_buffer(b2);
    prime_free_buffer(b);
    prime_free(c), prime_free(c2), prime_free(c3);
}

/* Version-1 classifier files (the first shipped digits model, kept as a fixture, and
 * models/random-nmnist.prime) load, convert to version 2 (prime_model_convert, as
 * `prime convert`) and give identical outputs; the shipped classifiers are version 2
 * (they were converted so); the draft version 2 (version 1 + a conductance section,
 * kind word 0) still loads. */
static void test_version1(void) {
    const char *shipped[] = {"models/nmnist-digits.prime", "models/nmnist-fashion.prime"};
    static uint8_t buf[1 << 16];
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(shipped[f], "rb");
        if (!CHECK(fp != NULL, "%s is readable (run from the repository root)", shipped[f])) continue;
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        CHECK(n > 24 && rd32(buf + 8) == 2 && prime_model_kind(buf, n) == PRIME_MODEL_CLASSIFIER,
              "%s is a version-2 classifier", shipped[f]);
        prime_ctx *c = prime_load(buf, n);
        CHECK(c != NULL, "%s loads: %s", shipped[f], prime_last_error());
        prime_free(c);
    }
    const char *files[] = {"tests/assets/nmnist-digits-v1.prime", "models/random-nmnist.prime"};
    for (int f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "rb");
        if (!CHECK(fp != NULL, "%s is readable (run from the repository root)", files[f])) continue;
        size_t n = fread(buf, 1, sizeof buf, fp);
        fclose(fp);
        CHECK_INT(rd32(buf + 8), 1, "%s is version 1", files[f]);
        CHECK_INT(prime_model_kind(buf, n), PRIME_MODEL_CLASSIFIER, "%s is a classifier", files[f]);
        uint8_t *b, *b2;
        size_t m, m2;
        prime_ctx *c = prime_load(buf, n);
        CHECK(c && prime_model_convert(buf, n, &b, &m) == 0, "%s converts: %s", files[f], prime_last_error());
        if (!c) continue;
        CHECK(rd32(b + 8) == 2 && rd32(b + 16) == PRIME_MODEL_CLASSIFIER && !memcmp(b + 24, "ARCH", 4),
              "version 2, kind classifier, first section ARCH");
        prime_ctx *c2 = prime_load(b, m);
        CHECK(c2 != NULL, "the converted file loads: %s", prime_last_error());
        CHECK(c2 && prime_save(c2, &b2, &m2) == 0 && m2 == m && !memcmp(b, b2, m), "save(load(v2)) = v2 (%zu bytes)", m);
        if (c2) prime_free_buffer(b2);
        for (int k = 0; c2 && k < 2; k++) {
            prime_result r1 = run(c, k ? 0.05f : 0.0f, 3 + (uint64_t)k), r2 = run(c2, k ? 0.05f : 0.0f, 3 + (uint64_t)k);
            CHECK(r1.label >= 0 && same_result(&r1, &r2), "%s, read noise %s: v1 = v2 outputs", files[f], k ? "0.05" : "0");
        }
        prime_vae *v = prime_vae_load(b, m);
        CHECK(!v && strstr(prime_last_error(), "a classifier"), "prime_vae_load of a classifier says what it is: %s",
              prime_last_error());
        prime_free_buffer(b);
        prime_free(c), prime_free(c2);
    }
}

/* The draft version 2 of 2026-12-02 (files `prime import` wrote before the
 * container): version 1's layout + a conductance section; it still loads. */
static void test_draft_v2(void) {
    prime_arch a = small_arch();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    program(c, 1u << 2, 12);
    uint8_t *b;
    size_t n;
    prime_save(c, &b, &n);
    /* rebuild the draft layout from the sections: header 16 bytes, ARCH, DEV, RUN, MASK payloads, COND payload, CRC */
    uint8_t *t = malloc(n);
    size_t o = 16, at = 24;
    memcpy(t, "PRIMEMDL", 8), wr32(t + 8, 2);
    for (uint32_t i = 0; i < rd32(b + 20); i++) {
        uint32_t len = rd32(b + at + 4);
        memcpy(t + o, b + at + 8, len), o += len, at += 8 + len;
    }
    wr32(t + 12, (uint32_t)(o + 4)), o += 4, fix_crc(t, o);
    prime_ctx *c2 = prime_load(t, o);
    CHECK(c2 != NULL, "a draft version-2 file (%zu bytes) loads: %s", o, prime_last_error());
    uint8_t *b2;
    size_t n2;
    CHECK(c2 && prime_save(c2, &b2, &n2) == 0 && n2 == n && !memcmp(b, b2, n), "it saves as the version-2 container");
    if (c2) prime_free_buffer(b2);
    prime_result r1 = run(c, 0.05f, 2), r2 = c2 ? run(c2, 0.05f, 2) : r1;
    CHECK(c2 && same_result(&r1, &r2), "the draft file gives the model's outputs");
    free(t), prime_free_buffer(b), prime_free(c), prime_free(c2);
}

/* Every truncation, 10,000 bit flips and crafted fields of a small v2 file: errors, never a crash. */
static void test_bad_files(void) {
    prime_arch a = small_arch();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    CHECK(c != NULL, "small classifier: %s", prime_last_error());
    if (!c) return;
    program(c, 1u << 2, 11);
    uint8_t *b;
    size_t n;
    prime_save(c, &b, &n);
    int silent, loaded = bf_truncations(b, n, clf_load, clf_free, &silent);
    CHECK(loaded == 0 && silent == 0, "all %zu truncations are errors with a message", n);
    loaded = bf_flips(b, n, 10000, 77, clf_load, clf_free);
    uint8_t *t = malloc(n);
    CHECK_INT(loaded, 0, "10,000 single bit flips are errors (the CRC)");
    /* crafted, CRC fixed: the conductance section starts after the masks */
    const size_t fc = prime_layer_weights(&a.layers[2]), conv = prime_layer_weights(&a.layers[0]);
    const size_t sec = n - 4 - (4 + 4 + 4 + 8 * fc); /* layer 0 flag 0, layer 2 flag 1, count, maps */
    CHECK_INT(rd32(b + sec), 0, "layer 0 has no map (flag 0)");
    CHECK_INT(rd32(b + sec + 4), 1, "layer 2 has a map (flag 1)");
    CHECK_INT(rd32(b + sec + 8), fc, "layer 2's map holds its %zu pairs", fc);
    (void)conv;
    memcpy(t, b, n), wr32(t + sec + 4, 2), fix_crc(t, n);
    prime_ctx *x = prime_load(t, n);
    CHECK(!x && strstr(prime_last_error(), "conductance flag of layer 2"), "flag 2: %s", prime_last_error());
    prime_free(x);
    memcpy(t, b, n), wr32(t + sec + 8, (uint32_t)fc + 1), fix_crc(t, n);
    x = prime_load(t, n);
    CHECK(!x && strstr(prime_last_error(), "layer 2 holds"), "wrong pair count: %s", prime_last_error());
    prime_free(x);
    float nan = NAN;
    memcpy(t, b, n), memcpy(t + sec + 12 + 4 * 5, &nan, 4), fix_crc(t, n);
    x = prime_load(t, n);
    CHECK(!x && strstr(prime_last_error(), "gpos[5]"), "NaN conductance named: %s", prime_last_error());
    prime_free(x);
    float neg = -1;
    memcpy(t, b, n), memcpy(t + sec + 12 + 4 * (fc + 2), &neg, 4), fix_crc(t, n);
    x = prime_load(t, n);
    CHECK(!x && strstr(prime_last_error(), "gneg[2]"), "negative conductance named: %s", prime_last_error());
    prime_free(x);
    memcpy(t, b, n), wr32(t + sec + 4, 0), fix_crc(t, n);
    x = prime_load(t, n);
    CHECK(!x, "a flag cleared without removing its map: length error: %s", prime_last_error());
    prime_free(x);
    free(t);
    prime_free_buffer(b);
    prime_free(c);
}

int main(void) {
    test_round_trip();
    test_version1();
    test_draft_v2();
    test_bad_files();
    return check_summary();
}
