/* test_model_v2_vae.c - the inpainting VAE in model file version 2
 * (docs/model-format.md): the shipped .pvae files (version 1) convert to
 * version 2 and give identical outputs (inpaint and generate, with read noise
 * and the early stop: bit-identical images, steps, m_t, counters, energy);
 * save -> load keeps stored conductance maps, digital layers, BN and the run
 * defaults; every truncation, 10,000 bit flips and crafted bad fields of a
 * version-2 VAE file are clear errors naming the field, never a crash (also
 * under make asan). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "bad_files.h"
#include "crc_ref.h"
#include "data.h"
#include "pmath.h"
#include "prime.h"

static uint32_t rd32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static void wr32(uint8_t *b, uint32_t v) { for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k)); }

static void *vae_load(const uint8_t *b, size_t n) { return prime_vae_load(b, n); }
static void vae_free(void *v) { prime_vae_free(v); }

/* What one inpaint or generate gives: result fields and every step's image. */
typedef struct {
    prime_vae_result r;
    float *img; /* steps_used * size * size */
} outcome;

static outcome run(prime_vae *v, int gen, float eta, uint64_t seed) {
    const prime_vae_arch *a = prime_vae_get_arch(v);
    const int np = a->size * a->size;
    outcome o;
    memset(&o, 0, sizeof o);
    prime_device d = prime_vae_get_device(v);
    d.read_noise = eta;
    prime_vae_run r = prime_vae_get_run(v);
    r.noise_seed = seed;
    float *x = malloc((size_t)np * sizeof(float));
    for (int p = 0; p < np; p++) x[p] = (float)(2 * prime_rand_uniform(seed, 3, (uint64_t)p) - 1);
    int rc = prime_vae_set_device(v, &d) || prime_vae_set_run(v, &r) ||
             (gen ? prime_vae_generate(v, seed, &o.r) : prime_vae_inpaint(v, x, NULL, &o.r));
    free(x);
    if (rc) { o.r.steps_used = -1; return o; }
    o.img = malloc((size_t)o.r.steps_used * np * sizeof(float));
    for (int t = 0; t < o.r.steps_used; t++) memcpy(o.img + (size_t)t * np, prime_vae_recon(v, t), (size_t)np * sizeof(float));
    return o;
}

static int same(const outcome *x, const outcome *y, int np) {
    return x->r.steps_used > 0 && x->r.steps_used == y->r.steps_used && !memcmp(&x->r, &y->r, sizeof x->r) &&
           !memcmp(x->img, y->img, (size_t)x->r.steps_used * np * sizeof(float));
}

/* The same outcomes on both networks: inpaint and generate, noise off and on. */
static void expect_same(prime_vae *v1, prime_vae *v2, const char *what) {
    const int np = prime_vae_get_arch(v1)->size * prime_vae_get_arch(v1)->size;
    for (int k = 0; k < 4; k++) {
        int gen = k >= 2;
        float eta = (k & 1) ? 0.05f : 0.0f;
        outcome a = run(v1, gen, eta, 11 + (uint64_t)k), b = run(v2, gen, eta, 11 + (uint64_t)k);
        CHECK(same(&a, &b, np), "%s: %s, read noise %.2f: identical (steps %d/%d, energy %.6g/%.6g pJ)", what,
              gen ? "generate" : "inpaint", (double)eta, a.r.steps_used, b.r.steps_used, a.r.energy_pj, b.r.energy_pj);
        free(a.img), free(b.img);
    }
}

/* The four shipped .pvae files: version 1 -> prime_model_convert -> version 2, same outputs. */
static void test_shipped(void) {
    const char *files[] = {"models/inpaint-mnist.pvae", "models/inpaint-fashion.pvae", "models/inpaint-mnist-software.pvae",
                           "models/inpaint-fashion-software.pvae"};
    for (int f = 0; f < 4; f++) {
        size_t n = 0, n2 = 0, n3 = 0;
        uint8_t *b = NULL, *v2 = NULL, *v3 = NULL;
        if (!CHECK(prime_read_file(files[f], &b, &n) == 0, "%s is readable (run from the repository root)", files[f])) continue;
        CHECK_INT(prime_model_kind(b, n), PRIME_MODEL_VAE, "%s is an inpainting model", files[f]);
        CHECK(prime_model_convert(b, n, &v2, &n2) == 0, "%s converts: %s", files[f], prime_last_error());
        if (!v2) { free(b); continue; }
        CHECK(!memcmp(v2, "PRIMEMDL", 8) && rd32(v2 + 8) == 2 && rd32(v2 + 16) == PRIME_MODEL_VAE,
              "%s: PRIMEMDL version 2, kind VAE", files[f]);
        CHECK_INT(prime_model_kind(v2, n2), PRIME_MODEL_VAE, "the converted file says it is a VAE");
        prime_vae *a = prime_vae_load(b, n), *c = prime_vae_load(v2, n2);
        CHECK(a && c, "both load: %s", prime_last_error());
        CHECK(c && prime_vae_save(c, &v3, &n3) == 0 && n3 == n2 && !memcmp(v2, v3, n2), "%s: save(load(v2)) = v2 (%zu bytes)",
              files[f], n2);
        if (a && c) expect_same(a, c, files[f]);
        prime_ctx *x = prime_load(v2, n2);
        CHECK(!x && strstr(prime_last_error(), "inpainting model"), "prime_load of a VAE file says what it is: %s",
              prime_last_error());
        prime_free(x);
        prime_vae_free(a), prime_vae_free(c);
        prime_free_buffer(v2), prime_free_buffer(v3), free(b);
    }
}

/* A small macro VAE with random masks, BN, digital layers and stored maps on `which` layers (bit i). */
static prime_vae *small_vae(unsigned which, uint64_t seed) {
    prime_vae_arch a = prime_vae_default_arch();
    a.ch = 4, a.latent = 8, a.k = 3, a.T = 4, a.size = 16;
    prime_device d = prime_vae_default_device();
    prime_vae *v = prime_vae_create(&a, &d);
    if (!v) return NULL;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(&a, i, &g);
        size_t nw = (size_t)g.rows * g.cols;
        float *w = malloc((nw + (size_t)g.cols + 2 * (size_t)g.out_c) * 2 * sizeof(float) + 8);
        uint8_t *m = malloc(nw);
        for (size_t k = 0; k < nw; k++) {
            m[k] = prime_rand_u64(seed, (uint64_t)i, k) & 1;
            w[k] = (float)(0.3 * prime_rand_normal(seed, 50 + (uint64_t)i, k));
            w[nw + k] = (float)(30 + 12 * prime_rand_uniform(seed, 70 + (uint64_t)i, k));
        }
        if (g.crossbar) {
            prime_vae_set_mask(v, i, m, nw);
            if (which >> i & 1) {
                float *gn = malloc(nw * sizeof(float));
                for (size_t k = 0; k < nw; k++) gn[k] = (float)(25 + 10 * prime_rand_uniform(seed, 90 + (uint64_t)i, k));
                CHECK(prime_vae_set_conductances(v, i, w + nw, gn, nw) == 0, "map on layer %d: %s", i, prime_last_error());
                free(gn);
            }
        } else {
            float *bias = w + nw;
            for (int k = 0; k < g.cols; k++) bias[k] = (float)(prime_rand_normal(seed, 80, (uint64_t)k));
            prime_vae_set_digital(v, i, w, nw, bias, (size_t)g.cols);
        }
        if (g.bn) {
            float *ba = malloc(2 * (size_t)g.out_c * sizeof(float));
            for (int k = 0; k < g.out_c; k++) ba[k] = (float)(1 + 0.5 * prime_rand_normal(seed, 60, (uint64_t)k)),
                                             ba[g.out_c + k] = (float)(0.1 * prime_rand_normal(seed, 61, (uint64_t)k));
            prime_vae_set_bn(v, i, ba, ba + g.out_c, (size_t)g.out_c);
            free(ba);
        }
        free(w), free(m);
    }
    prime_vae_run r = prime_vae_get_run(v);
    r.m_th = 0.35f, r.m_window = 2, r.latent_seed = 99;
    prime_vae_set_run(v, &r);
    return v;
}

/* save -> load with maps (not regenerable from the chip seed), run defaults, re-forming. */
static void test_round_trip(void) {
    prime_vae *v = small_vae(1u << PRIME_VAE_ENC2 | 1u << PRIME_VAE_DEC1, 5);
    if (!CHECK(v != NULL, "small vae: %s", prime_last_error())) return;
    uint8_t *b, *b2;
    size_t n, n2;
    CHECK(prime_vae_save(v, &b, &n) == 0, "save");
    prime_vae *w = prime_vae_load(b, n);
    CHECK(w != NULL, "reload: %s", prime_last_error());
    if (!w) { prime_free_buffer(b), prime_vae_free(v); return; }
    CHECK(prime_vae_save(w, &b2, &n2) == 0 && n2 == n && !memcmp(b, b2, n), "save(load(file)) = file (%zu bytes)", n);
    prime_free_buffer(b2);
    prime_vae_run r1 = prime_vae_get_run(v), r2 = prime_vae_get_run(w);
    CHECK(r1.policy == r2.policy && r1.m_div == r2.m_div && r1.m_th == r2.m_th && r1.m_window == r2.m_window &&
          r1.min_steps == r2.min_steps && r1.noise_seed == r2.noise_seed && r1.latent_seed == r2.latent_seed, "the run defaults are in the file (m_th %.2f, latent seed %llu)", (double)r2.m_th,
          (unsigned long long)r2.latent_seed);
    expect_same(v, w, "small VAE with 2 stored maps");
    prime_vae *z = small_vae(0, 5);
    const int np = 16 * 16;
    outcome o1 = run(v, 0, 0, 1), o3 = run(z, 0, 0, 1);
    CHECK(!same(&o1, &o3, np), "without the stored maps the outputs differ (the maps matter)");
    free(o1.img), free(o3.img);
    prime_device d = prime_vae_get_device(v);
    d.chip_seed = 1234;
    CHECK(prime_vae_set_device(v, &d) == 0 && prime_vae_set_device(w, &d) == 0, "re-form both with another chip seed");
    expect_same(v, w, "after re-forming");
    size_t nw = 9 * 4 * 4;
    float k1[144], k2[144];
    CHECK(prime_vae_get_formed(v, PRIME_VAE_ENC2, 1, k1, nw) == 0 && prime_vae_get_formed(w, PRIME_VAE_ENC2, 1, k2, nw) == 0 &&
          !memcmp(k1, k2, sizeof k1), "enc2's stored on-state kept over the re-forming");
    /* a software model has weights, not maps */
    prime_vae_arch sa = *prime_vae_get_arch(v);
    sa.software = 1;
    prime_vae *s = prime_vae_create(&sa, &d);
    float g[144] = {0};
    CHECK(s && prime_vae_set_conductances(s, PRIME_VAE_ENC2, g, g, nw) != 0, "software model: no maps (%s)", prime_last_error());
    CHECK(prime_vae_set_conductances(v, PRIME_VAE_POST, g, g, 8 * 24) != 0, "digital layer: no maps (%s)", prime_last_error());
    g[3] = NAN;
    CHECK(prime_vae_set_conductances(v, PRIME_VAE_ENC2, g, g, nw) != 0 && strstr(prime_last_error(), "value 3"),
          "NaN conductance refused: %s", prime_last_error());
    prime_vae_free(s), prime_vae_free(z), prime_vae_free(w), prime_vae_free(v);
    prime_free_buffer(b);
}

/* Offset of section `tag`'s payload in a version-2 file, or 0. */
static size_t section(const uint8_t *b, size_t n, const char *tag, uint32_t *len) {
    size_t at = 24;
    for (uint32_t i = 0; i < rd32(b + 20) && at + 8 <= n; i++) {
        uint32_t l = rd32(b + at + 4);
        if (!memcmp(b + at, tag, 4)) { *len = l; return at + 8; }
        at += 8 + l;
    }
    return 0;
}

static void expect_error(const uint8_t *t, size_t n, const char *needle, const char *what) {
    prime_vae *x = prime_vae_load(t, n);
    CHECK(!x && strstr(prime_last_error(), needle), "%s: %s", what, prime_last_error());
    prime_vae_free(x);
}

/* Every truncation, 10,000 bit flips and crafted fields (CRC fixed) of a small v2 VAE file. */
static void test_bad_files(void) {
    prime_vae_arch a = prime_vae_default_arch();
    a.ch = 2, a.latent = 4, a.k = 2, a.T = 2, a.size = 8;
    prime_device d = prime_vae_default_device();
    prime_vae *v = prime_vae_create(&a, &d);
    if (!CHECK(v != NULL, "tiny vae: %s", prime_last_error())) return;
    float gp[18], gn[18];
    for (int k = 0; k < 18; k++) gp[k] = 20.0f + k, gn[k] = 40.0f - k;
    prime_vae_set_conductances(v, PRIME_VAE_ENC1, gp, gn, 18);
    uint8_t *b;
    size_t n;
    prime_vae_save(v, &b, &n);
    prime_vae_free(v);
    int silent, loaded = bf_truncations(b, n, vae_load, vae_free, &silent);
    CHECK(loaded == 0 && silent == 0, "all %zu truncations are errors with a message (%d loaded)", n, loaded);
    loaded = bf_flips(b, n, 10000, 78, vae_load, vae_free);
    uint8_t *t = malloc(n);
    CHECK_INT(loaded, 0, "10,000 single bit flips are errors (the CRC)");
    /* crafted, CRC fixed: each names the first bad field */
    uint32_t len;
    size_t va = section(b, n, "VARC", &len), bn = section(b, n, "BN  ", &len), dg = section(b, n, "DIGI", &len);
    size_t cd = section(b, n, "COND", &len), vr = section(b, n, "VRUN", &len), dv = section(b, n, "DEV ", &len);
    CHECK(va && bn && dg && cd && vr && dv, "the file has sections VARC, DEV, VRUN, DIGI, BN, COND");
    float nan = NAN, neg = -2;
    memcpy(t, b, n), memcpy(t + bn + 4 + 4 * 1, &nan, 4), fix_crc(t, n);
    expect_error(t, n, "layer enc1 BN a[1]", "NaN in enc1's BN a");
    memcpy(t, b, n), memcpy(t + dg + 4 + 4 * 3, &nan, 4), fix_crc(t, n);
    expect_error(t, n, "layer post weights[3]", "NaN in post's weights");
    memcpy(t, b, n), wr32(t + dg, 7), fix_crc(t, n);
    expect_error(t, n, "post weights holds 7 values", "wrong count of post's weights");
    memcpy(t, b, n), memcpy(t + cd + 8 + 4 * (18 + 2), &neg, 4), fix_crc(t, n);
    expect_error(t, n, "gneg[2]", "negative conductance of enc1");
    memcpy(t, b, n), wr32(t + cd, 2), fix_crc(t, n);
    expect_error(t, n, "conductance flag of layer enc1 is 2", "flag 2");
    memcpy(t, b, n), wr32(t + va, 0), fix_crc(t, n);
    expect_error(t, n, "ch = 0", "ch 0");
    memcpy(t, b, n), wr32(t + va + 4 * 5, 2), fix_crc(t, n);
    expect_error(t, n, "software = 2", "software 2");
    memcpy(t, b, n), wr32(t + va + 4 * 5, 1), fix_crc(t, n);
    expect_error(t, n, "software model needs section 'WGT '", "software flag on a macro file");
    memcpy(t, b, n), wr32(t + vr, 5), fix_crc(t, n);
    expect_error(t, n, "run policy 5", "policy 5");
    memcpy(t, b, n), memcpy(t + dv + 8 + 4 * 2, &nan, 4), fix_crc(t, n);
    expect_error(t, n, "g_sd", "NaN device g_sd");
    memcpy(t, b, n), memcpy(t + dv - 8, "BN  ", 4), fix_crc(t, n);
    expect_error(t, n, "section 'DEV ' missing", "DEV section renamed BN");
    memcpy(t, b, n), memcpy(t + dv - 8, "VARC", 4), fix_crc(t, n);
    expect_error(t, n, "out of order or repeated", "DEV section renamed VARC (repeated)");
    memcpy(t, b, n), memcpy(t + dv - 8, "DFXX", 4), fix_crc(t, n);
    expect_error(t, n, "section 'DFXX' is not one of", "an unknown section");
    memcpy(t, b, n), wr32(t + 16, PRIME_MODEL_CLASSIFIER), fix_crc(t, n);
    expect_error(t, n, "a classifier", "kind word of a classifier");
    prime_ctx *c = prime_load(t, n);
    CHECK(!c && strstr(prime_last_error(), "section 'VARC' is not one of"), "as a classifier: %s", prime_last_error());
    prime_free(c);
    free(t);
    prime_free_buffer(b);
}

int main(void) {
    test_shipped();
    test_round_trip();
    test_bad_files();
    return check_summary();
}
