/* make_seeds.c - writes the seed corpus of the C fuzz harnesses with the
 * project's own writers (prime_save, prime_vae_save, prime_clf_save,
 * a version-1 .pvae writer of its own for the read-only format,
 * prime_nmnist_write, prime_frames_save) and the hand-made images of
 * tests/c/craft_images.h: small valid inputs, one directory per harness.
 * The NumPy seeds come from tests/fuzz/make-corpus.sh (numpy itself).
 *
 *     make_seeds OUTDIR     (OUTDIR/model, OUTDIR/vae, ... must exist)
 */
#include <stdio.h>

#include "../c/craft_images.h"
#include "classifier.h"
#include "data.h"
#include "fuzz_common.h"
#include "prime_graph.h"

static const char *outdir;

/* Writes n bytes to OUTDIR/dir/name; exits on failure (a tool, not the library). */
static void put(const char *dir, const char *name, const void *b, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", outdir, dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) { fprintf(stderr, "make_seeds: cannot write %s\n", path); exit(1); }
}

static void die_if(int bad, const char *what) {
    if (bad) { fprintf(stderr, "make_seeds: %s: %s\n", what, prime_last_error()); exit(1); }
}

static void models(void) {
    prime_arch a = fuzz_tiny_arch();
    prime_device d = prime_default_device();
    for (int k = 0; k < 3; k++) {
        if (k == 1) d.read_noise = 0.05f, d.adc_bits = 6, d.dac_bits = 4;
        if (k == 2) d.g_dist = PRIME_DIST_LOGNORMAL, d.stuck_on = 0.01f, d.stuck_off = 0.01f, d.noise_mode = PRIME_NOISE_CELL;
        prime_ctx *c = prime_create(&a, &d);
        die_if(!c, "prime_create");
        uint8_t *b;
        size_t n;
        die_if(prime_save(c, &b, &n) != 0, "prime_save");
        char name[32];
        snprintf(name, sizeof name, "tiny%d.prime", k);
        put("model", name, b, n);
        prime_free_buffer(b);
        prime_free(c);
    }
}

/* Version-2 model files (tests/fuzz/fuzz_model_v2.c): the tiny network with a
 * stored conductance map on every weight layer, and on the first only. */
static void models_v2(void) {
    prime_arch a = fuzz_tiny_arch();
    prime_device d = prime_default_device();
    for (int k = 0; k < 2; k++) {
        prime_ctx *c = prime_create(&a, &d);
        die_if(!c, "prime_create");
        for (int l = 0, w = 0; l < a.n_layers; l++) {
            size_t nw = prime_layer_weights(&a.layers[l]);
            if (!nw || (k == 1 && w++ > 0)) continue;
            float *g = malloc(2 * nw * sizeof(float));
            die_if(!g, "malloc");
            for (size_t i = 0; i < 2 * nw; i++) g[i] = 10.0f + (float)(i % 17) * 2.5f;
            die_if(prime_set_conductances(c, l, g, g + nw, nw) != 0, "prime_set_conductances");
            free(g);
        }
        uint8_t *b;
        size_t n;
        die_if(prime_save(c, &b, &n) != 0, "prime_save");
        char name[32];
        snprintf(name, sizeof name, "tiny-v2-%d.prime", k);
        put("model_v2", name, b, n);
        put("model", name, b, n);
        prime_free_buffer(b);
        prime_free(c);
    }
}

/* A version-1 .pvae (read-only format, docs/model-format.md) of network v,
 * written here for the seeds since the library writes version 2 only. */
static void put_pvae_v1(prime_vae *v, const char *name) {
    const prime_vae_arch *a = prime_vae_get_arch(v);
    prime_device d = prime_vae_get_device(v);
    size_t cap = 64 + sizeof d, n = 0;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(a, i, &g);
        cap += 8 * ((size_t)g.rows * g.cols + (size_t)g.out_c * g.out_h * g.out_w + 2 * (size_t)g.out_c);
    }
    uint8_t *b = malloc(cap);
    die_if(!b, "malloc");
    uint32_t ver = 1;
    int32_t ai[6] = {a->ch, a->latent, a->k, a->T, a->size, a->software};
    float af[5] = {a->th, a->keep, a->out_keep, a->scale, a->sparsity};
    memcpy(b, "PRIMEVAE", 8), memcpy(b + 8, &ver, 4), memcpy(b + 12, ai, 24), memcpy(b + 36, af, 20);
    memcpy(b + 56, &d, sizeof d), n = 56 + sizeof d;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(a, i, &g);
        size_t nw = (size_t)g.rows * g.cols, nout = (size_t)g.out_c * g.out_h * g.out_w;
        float *w = malloc(4 * (nw + nout + 2 * (size_t)g.out_c) + 4);
        die_if(!w, "malloc");
        if (g.crossbar && !a->software) memset(b + n, 1, nw), n += nw; /* every mask keep */
        else if (g.crossbar) die_if(prime_vae_get_weights(v, i, w, nw) != 0, "get weights"), memcpy(b + n, w, 4 * nw), n += 4 * nw;
        else {
            die_if(prime_vae_get_digital(v, i, w, nw, w + nw, nout) != 0, "get digital");
            memcpy(b + n, w, 4 * (nw + nout)), n += 4 * (nw + nout);
        }
        if (g.bn) {
            die_if(prime_vae_get_bn(v, i, w, w + g.out_c, (size_t)g.out_c) != 0, "get bn");
            memcpy(b + n, w, 8 * (size_t)g.out_c), n += 8 * (size_t)g.out_c;
        }
        free(w);
    }
    die_if(prime_vae_load(b, n) == NULL, "the v1 seed must load"); /* (leaks one tiny network: a tool) */
    put("vae", name, b, n);
    free(b);
}

static void vaes(void) {
    for (int sw = 0; sw < 2; sw++) {
        prime_vae_arch a = fuzz_tiny_vae_arch();
        a.software = sw;
        prime_device d = prime_vae_default_device();
        prime_vae *v = prime_vae_create(&a, &d);
        die_if(!v, "prime_vae_create");
        uint8_t *b;
        size_t n;
        put_pvae_v1(v, sw ? "tiny-software-v1.pvae" : "tiny-v1.pvae");
        if (!sw) { /* a stored conductance map on enc1 (section COND) */
            prime_vae_layer g;
            prime_vae_layer_info(&a, PRIME_VAE_ENC1, &g);
            size_t nw = (size_t)g.rows * g.cols;
            float *m = malloc(2 * nw * sizeof(float));
            die_if(!m, "malloc");
            for (size_t i = 0; i < 2 * nw; i++) m[i] = 12.0f + (float)(i % 13) * 3.0f;
            die_if(prime_vae_set_conductances(v, PRIME_VAE_ENC1, m, m + nw, nw) != 0, "prime_vae_set_conductances");
            free(m);
        }
        die_if(prime_vae_save(v, &b, &n) != 0, "prime_vae_save");
        put("vae", sw ? "tiny-software-v2.pmdl" : "tiny-map-v2.pmdl", b, n);
        put("model_v2", sw ? "tiny-vae-software-v2.pmdl" : "tiny-vae-map-v2.pmdl", b, n);
        prime_free_buffer(b);
        prime_vae_free(v);
    }
}

static void classifiers(void) {
    int dims[2][3] = {{8, 16, 3}, {4, 4, 2}};
    for (int k = 0; k < 2; k++) {
        prime_clf *c = prime_clf_create(dims[k][0], dims[k][1], dims[k][2], 7 + k);
        die_if(!c, "prime_clf_create");
        uint8_t *b;
        size_t n;
        die_if(prime_clf_save(c, &b, &n) != 0, "prime_clf_save");
        put("clf", k ? "tiny4.pclf" : "tiny8.pclf", b, n);
        free(b);
        prime_clf_free(c);
    }
}

/* A test picture of w x h: a bright ring on dark ground. */
static void ring(uint8_t *g, int w, int h) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int dx = 2 * x - w, dy = 2 * y - h, r2 = dx * dx + dy * dy, R = w < h ? w : h;
            g[y * w + x] = (r2 > R * R / 4 && r2 < R * R) ? 230 : 20;
        }
}

static void images(void) {
    typedef uint8_t *(*writer)(const uint8_t *, int, int, size_t *);
    const char *ext[4] = {"png", "bmp", "gif", "jpg"};
    writer wr[4] = {craft_png, craft_bmp, craft_gif, craft_jpeg};
    int sizes[3][2] = {{16, 16}, {13, 7}, {40, 24}};
    uint8_t g[40 * 24], f[8192];
    for (int s = 0; s < 3; s++) {
        ring(g, sizes[s][0], sizes[s][1]);
        for (int k = 0; k < 4; k++) {
            size_t n;
            uint8_t *b = wr[k](g, sizes[s][0], sizes[s][1], &n);
            if (n + 1 > sizeof f) { free(b); continue; }
            f[0] = (uint8_t)(s == 0 ? 27 : s == 1 ? 0x80 | 27 : 3); /* 28x28, 28x28 inverted, 4x4 */
            memcpy(f + 1, b, n);
            char name[32];
            snprintf(name, sizeof name, "ring%dx%d.%s", sizes[s][0], sizes[s][1], ext[k]);
            put("image", name, f, n + 1);
            free(b);
        }
    }
}

static void events(void) {
    float img[12 * 12];
    uint8_t g[12 * 12];
    ring(g, 12, 12);
    for (int i = 0; i < 144; i++) img[i] = g[i] / 255.0f;
    prime_event_params p = prime_default_event_params();
    p.size = 16, p.duration_us = 30000, p.steps_per_saccade = 10, p.noise_rate = 1;
    prime_event *ev;
    size_t count;
    die_if(prime_events_from_image(img, 12, 12, &p, &ev, &count) != 0, "events_from_image");
    uint8_t *b;
    size_t n;
    die_if(prime_nmnist_write(ev, count, &b, &n) != 0, "nmnist_write");
    put("nmnist", "ring.bin", b, n);
    put("nmnist", "ring-50.bin", b, n < 250 ? n : 250);
    prime_free_buffer(b);
    prime_free_buffer(ev);
    /* fuzz_events input: field mask, w, h, T, bin size (2 bytes), fields, pixels */
    for (int k = 0; k < 3; k++) {
        uint8_t s[512];
        size_t m = 0;
        s[m++] = (uint8_t)(k == 0 ? 0 : 0x7F);
        if (k) {
            prime_event_params q = p;
            q.size = k == 1 ? 20 : 34, q.steps_per_saccade = k == 1 ? 5 : 2, q.seed = 3 + k, q.amplitude = 2.5f;
            memcpy(s + m, &q.size, 4), m += 4;
            memcpy(s + m, &q.contrast, 4), m += 4;
            memcpy(s + m, &q.noise_rate, 4), m += 4;
            memcpy(s + m, &q.duration_us, 4), m += 4;
            memcpy(s + m, &q.steps_per_saccade, 4), m += 4;
            memcpy(s + m, &q.amplitude, 4), m += 4;
            memcpy(s + m, &q.seed, 8), m += 8;
        }
        s[m++] = 11, s[m++] = 11, s[m++] = (uint8_t)(k + 1), s[m++] = (uint8_t)(k == 2 ? 34 : 16), s[m++] = 0;
        for (int i = 0; i < 144; i++) s[m++] = g[i];
        char name[32];
        snprintf(name, sizeof name, "params%d.bin", k);
        put("events", name, s, m);
    }
    /* frame cache: 2 samples of T 2 x 2 x 4 x 4 */
    prime_frames fr = {2, 2, 2, 4, 4, NULL, NULL};
    uint8_t x[2 * 2 * 2 * 4 * 4], y[2] = {3, 7};
    for (size_t i = 0; i < sizeof x; i++) x[i] = (uint8_t)(i % 5);
    fr.x = x, fr.y = y;
    char path[1024];
    snprintf(path, sizeof path, "%s/frames/tiny.pfrm", outdir);
    die_if(prime_frames_save(&fr, path) != 0, "frames_save");
}

static void devices(void) {
    /* fuzz_device input: word mask, device words, run mask, run fields, T, pixels */
    prime_device d = prime_default_device();
    for (int k = 0; k < 3; k++) {
        uint8_t s[512];
        size_t m = 0;
        uint32_t mask = k == 0 ? 0 : 0xFFFFFFFFu >> (32 - (int)(sizeof d / 4));
        memcpy(s + m, &mask, 4), m += 4;
        if (k) {
            prime_device e = d;
            if (k == 2) e.read_noise = 0.1f, e.adc_bits = 8, e.dac_bits = 4, e.chip_seed = 99;
            memcpy(s + m, &e, sizeof e), m += sizeof e;
        }
        s[m++] = (uint8_t)(k == 0 ? 0 : 0x3F);
        if (k) {
            prime_run r = prime_default_run();
            r.policy = PRIME_STOP_CONFIDENCE, r.threshold = 0.5f;
            memcpy(s + m, &r.policy, 4), m += 4;
            memcpy(s + m, &r.alpha, 4), m += 4;
            memcpy(s + m, &r.threshold, 4), m += 4;
            memcpy(s + m, &r.min_steps, 4), m += 4;
            memcpy(s + m, &r.noise_seed, 8), m += 8;
        }
        s[m++] = 1;
        for (int i = 0; i < 256; i++) s[m++] = (uint8_t)(i * 7 % 4);
        char name[32];
        snprintf(name, sizeof name, "device%d.bin", k);
        put("device", name, s, m);
    }
}

/* Graph model files (fuzz_graph): the Fashion CNN and a small FSVAE (latent
 * 8, k 3, 4 channels, T 4) with a measured map on one layer. */
static void graphs(void) {
    prime_device dev = prime_default_device();
    for (int k = 0; k < 2; k++) {
        prime_gdesc d = k ? prime_graph_fsvae(8, 3, 4, 4) : prime_graph_fashion();
        prime_gmodel *m = prime_graph_create(&d, &dev);
        die_if(!m, "graph model");
        if (k) {
            float g[288];
            for (int i = 0; i < 36; i++) g[i] = 10.0f + (float)i;
            die_if(prime_graph_set_param(m, 0, 1, "gpos", g, 36) != 0, "graph gpos");
        }
        uint8_t *b;
        size_t n;
        die_if(prime_graph_save(m, &b, &n) != 0, "graph save");
        put("graph", k ? "fsvae-small.prime" : "fashion.prime", b, n);
        prime_free_buffer(b);
        prime_graph_free(m);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_seeds OUTDIR\n"); return 2; }
    outdir = argv[1];
    models();
    models_v2();
    vaes();
    classifiers();
    images();
    events();
    devices();
    graphs();
    return 0;
}
