/* prime_vae_io.c - the inpainting network's parameters (masks, weights, BN,
 * latent layers, stored conductance maps), its model file (version 2 sections
 * in the container of prime_modelfile.h; version 1 .pvae read), and the
 * inpainting metrics. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_opts.h"
#include "prime.h"
#include "prime_internal.h"
#include "prime_vae_internal.h"
#include "prime_modelfile.h"

/* ============================================================ parameters */
/* Returns crossbar layer i with n = rows*cols checked, or NULL. */
static vlayer *get_layer(const prime_vae *v, int i, size_t n, int crossbar) {
    if (!v) { prime_error("NULL network"); return NULL; }
    if (i < 0 || i >= PRIME_VAE_LAYERS) { prime_error("vae layer %d out of range", i); return NULL; }
    vlayer *L = (vlayer *)&v->L[i];
    if (L->g.crossbar != crossbar) { prime_error("vae layer %d is %s", i, crossbar ? "digital" : "a crossbar layer"); return NULL; }
    if (n != (size_t)L->g.rows * L->g.cols) { prime_error("vae layer %d has %zu weights, not %zu", i, (size_t)L->g.rows * L->g.cols, n); return NULL; }
    return L;
}

int prime_vae_set_mask(prime_vae *v, int i, const uint8_t *mask, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (v->a.software) return prime_error("a software model has weights, not masks");
    for (size_t p = 0; p < n; p++) L->mask[p] = mask[p] ? 1 : 0;
    prime_vae_program(v, i);
    return 0;
}

int prime_vae_set_weights(prime_vae *v, int i, const float *w, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (!v->a.software) return prime_error("weights can only be set on a software model (set masks)");
    memcpy(L->wt, w, n * sizeof(float));
    memset(L->g2, 0, n * sizeof(float));
    prime_vae_program(v, i);
    return 0;
}

int prime_vae_get_formed(const prime_vae *v, int i, int kept, float *w, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (v->a.software) return prime_error("a software model has no formed conductances");
    for (size_t p = 0; p < n; p++)
        w[p] = kept ? (L->gp_on[p] - L->gn_on[p]) * v->a.scale : (L->gp_off[p] - L->gn_off[p]) * v->a.scale;
    return 0;
}

int prime_vae_set_bn(prime_vae *v, int i, const float *a, const float *b, size_t n) {
    if (!v || i < 0 || i >= PRIME_VAE_LAYERS) return prime_error("vae set_bn: bad layer");
    vlayer *L = &v->L[i];
    if (!L->g.bn || n != (size_t)L->g.out_c) return prime_error("vae layer %d: no batch norm with %zu channels", i, n);
    memcpy(L->bn_a, a, n * sizeof(float));
    memcpy(L->bn_b, b, n * sizeof(float));
    return 0;
}

int prime_vae_set_digital(prime_vae *v, int i, const float *w, size_t nw, const float *bias, size_t nb) {
    vlayer *L = get_layer(v, i, nw, 0);
    if (!L) return -1;
    if (nb != L->nout) return prime_error("vae layer %d has %zu biases, not %zu", i, L->nout, nb);
    memcpy(L->wt, w, nw * sizeof(float));
    memcpy(L->bias, bias, nb * sizeof(float));
    return 0;
}

int prime_vae_get_weights(const prime_vae *v, int i, float *w, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    memcpy(w, L->wt, n * sizeof(float));
    return 0;
}

int prime_vae_get_bn(const prime_vae *v, int i, float *a, float *b, size_t n) {
    if (!v || i < 0 || i >= PRIME_VAE_LAYERS) return prime_error("vae get_bn: bad layer");
    const vlayer *L = &v->L[i];
    if (!L->g.bn || n != (size_t)L->g.out_c) return prime_error("vae layer %d: no batch norm with %zu channels", i, n);
    memcpy(a, L->bn_a, n * sizeof(float));
    memcpy(b, L->bn_b, n * sizeof(float));
    return 0;
}

int prime_vae_get_digital(const prime_vae *v, int i, float *w, size_t nw, float *bias, size_t nb) {
    vlayer *L = get_layer(v, i, nw, 0);
    if (!L) return -1;
    if (nb != L->nout) return prime_error("vae layer %d has %zu biases, not %zu", i, L->nout, nb);
    memcpy(w, L->wt, nw * sizeof(float));
    memcpy(bias, L->bias, nb * sizeof(float));
    return 0;
}

int prime_vae_latent_uniforms(const prime_vae *v, double *u, size_t n) {
    if (!v || !u) return prime_error("prime_vae_latent_uniforms: NULL argument");
    if (n != (size_t)v->a.T * v->a.latent) return prime_error("latent uniforms: n = %zu, need T*latent = %d", n, v->a.T * v->a.latent);
    for (int t = 0; t < v->a.T; t++)
        for (int d = 0; d < v->a.latent; d++) u[(size_t)t * v->a.latent + d] = prime_vae_latent_uniform(v, v->inference, t, d);
    return 0;
}
/* ============================================================ file */

/* Version 2 (prime_save's container, prime_modelfile.h; docs/model-format.md),
 * network kind PRIME_MODEL_VAE, sections in this order: */
static const prime_mf_spec VAE_SECTIONS[] = {
    {"VARC", 1}, /* architecture: u32 ch, latent, k, T, size, software; f32 th, keep, out_keep, scale, sparsity */
    {"DEV ", 1}, /* device (prime_mf_put_device) */
    {"DVFX", 0}, /* device effects, only when one is on (prime_mf_put_devfx) */
    {"VRUN", 1}, /* run: u32 policy; f32 m_div, m_th; u32 m_window, min_steps; u64 noise_seed, latent_seed */
    {"MASK", 0}, /* macro models: per crossbar layer a bit mask */
    {"WGT ", 0}, /* software models: per crossbar layer u32 n, n f32 weights */
    {"DIGI", 1}, /* per digital layer (post, prior): u32 n, n f32 weights, u32 m, m f32 biases */
    {"BN  ", 1}, /* per BN layer: u32 C, C f32 a, C f32 b (y = a x + b) */
    {"COND", 0}, /* macro models with stored maps: per crossbar layer a map entry (prime_mf_put_map) */
};
#define N_VAE_SECTIONS (int)(sizeof VAE_SECTIONS / sizeof VAE_SECTIONS[0])
static const char *const VAE_NAMES[PRIME_VAE_LAYERS] = {"enc1", "enc2", "enc3", "encfc", "post", "prior",
                                                        "decfc", "dec1", "dec2", "dec3", "out"};

/* Replaces crossbar layer i's on-state by a map (uS); 0 or -1. */
int prime_vae_set_conductances(prime_vae *v, int i, const float *gpos, const float *gneg, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (!gpos || !gneg) return prime_error("prime_vae_set_conductances: NULL map");
    if (v->a.software) return prime_error("a software model has weights, not conductances");
    for (size_t p = 0; p < n; p++)
        if (!(gpos[p] >= 0 && gpos[p] < PRIME_MF_MAX_G && gneg[p] >= 0 && gneg[p] < PRIME_MF_MAX_G))
            return prime_error("conductance map of vae layer %s: value %zu is not a conductance in [0, 1e6) uS", VAE_NAMES[i], p);
    memcpy(L->gp_on, gpos, n * sizeof(float));
    memcpy(L->gn_on, gneg, n * sizeof(float));
    L->n->measured = 1;
    prime_vae_program(v, i);
    return 0;
}

/* Serializes the network as a version-2 model file; 0 or -1. */
int prime_vae_save(const prime_vae *v, uint8_t **out, size_t *n) {
    if (!v || !out || !n) return prime_error("prime_vae_save: NULL argument");
    const prime_vae_arch *a = &v->a;
    const prime_vae_run *r = &v->run;
    prime_buf b = {0};
    int measured = 0;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) measured |= v->L[i].g.crossbar && v->L[i].n->measured;
    prime_mf_begin(&b, PRIME_MODEL_VAE);
    size_t s = prime_mf_section(&b, "VARC");
    const int ai[6] = {a->ch, a->latent, a->k, a->T, a->size, a->software};
    for (int k = 0; k < 6; k++) prime_wr_u32(&b, (uint32_t)ai[k]);
    prime_wr_f32(&b, a->th), prime_wr_f32(&b, a->keep), prime_wr_f32(&b, a->out_keep), prime_wr_f32(&b, a->scale);
    prime_wr_f32(&b, a->sparsity);
    prime_mf_section_end(&b, s);
    if (prime_mf_put_dev(&b, &v->g->dev, &v->g->fx) != 0) { free(b.p); return -1; }
    s = prime_mf_section(&b, "VRUN");
    prime_wr_u32(&b, (uint32_t)r->policy), prime_wr_f32(&b, r->m_div), prime_wr_f32(&b, r->m_th);
    prime_wr_u32(&b, (uint32_t)r->m_window), prime_wr_u32(&b, (uint32_t)r->min_steps);
    prime_wr_u64(&b, r->noise_seed), prime_wr_u64(&b, r->latent_seed);
    prime_mf_section_end(&b, s);
    s = prime_mf_section(&b, a->software ? "WGT " : "MASK");
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        const vlayer *L = &v->L[i];
        size_t nw = (size_t)L->g.rows * L->g.cols;
        if (!L->g.crossbar) continue;
        if (!a->software) { prime_mf_put_mask(&b, L->mask, nw); continue; }
        prime_wr_u32(&b, (uint32_t)nw);
        for (size_t k = 0; k < nw; k++) prime_wr_f32(&b, L->wt[k]);
    }
    prime_mf_section_end(&b, s);
    s = prime_mf_section(&b, "DIGI");
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        const vlayer *L = &v->L[i];
        size_t nw = (size_t)L->g.rows * L->g.cols;
        if (L->g.crossbar) continue;
        prime_wr_u32(&b, (uint32_t)nw);
        for (size_t k = 0; k < nw; k++) prime_wr_f32(&b, L->wt[k]);
        prime_wr_u32(&b, (uint32_t)L->nout);
        for (size_t k = 0; k < L->nout; k++) prime_wr_f32(&b, L->bias[k]);
    }
    prime_mf_section_end(&b, s);
    s = prime_mf_section(&b, "BN  ");
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        const vlayer *L = &v->L[i];
        if (!L->g.bn) continue;
        prime_wr_u32(&b, (uint32_t)L->g.out_c);
        for (int k = 0; k < L->g.out_c; k++) prime_wr_f32(&b, L->bn_a[k]);
        for (int k = 0; k < L->g.out_c; k++) prime_wr_f32(&b, L->bn_b[k]);
    }
    prime_mf_section_end(&b, s);
    if (measured) {
        s = prime_mf_section(&b, "COND");
        for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
            const vlayer *L = &v->L[i];
            if (L->g.crossbar) prime_mf_put_map(&b, L->n->measured, L->gp_on, L->gn_on, (size_t)L->g.rows * L->g.cols);
        }
        prime_mf_section_end(&b, s);
    }
    return prime_mf_finish(&b, out, n);
}

/* Reads one u32 count that must equal `want`; 0 or -1 naming what it counts. */
static int get_count(prime_rbuf *r, uint64_t want, const char *what, const char *sec, const char *name) {
    uint32_t k = prime_rd_u32(r);
    if (r->bad) return prime_error("%s: section '%s' truncated at %s", what, sec, name);
    if (k != want) return prime_error("%s: section '%s': %s holds %u values, the architecture needs %llu", what, sec, name, k,
                                      (unsigned long long)want);
    return 0;
}

static int set_opts(void *v, const char *const *kv, int n) { return prime_vae_set_device_options(v, kv, n); }

/* Loads a version-2 file of kind VAE; NULL on error. */
static prime_vae *load_v2(const uint8_t *bytes, size_t n) {
    const char *what = "inpainting model";
    prime_mf mf;
    if (prime_mf_want_kind(bytes, n, PRIME_MODEL_VAE, what) != 0) return NULL;
    if (prime_mf_open(bytes, n, VAE_SECTIONS, N_VAE_SECTIONS, &mf, what) != 0) return NULL;
    prime_rbuf r = prime_mf_reader(prime_mf_get(&mf, "VARC"));
    uint32_t ai[6];
    for (int k = 0; k < 6; k++) ai[k] = prime_rd_u32(&r);
    prime_vae_arch a;
    a.th = prime_rd_f32(&r), a.keep = prime_rd_f32(&r), a.out_keep = prime_rd_f32(&r), a.scale = prime_rd_f32(&r);
    a.sparsity = prime_rd_f32(&r);
    if (prime_mf_done(&r, what, "VARC") != 0) return NULL;
    for (int k = 0; k < 6; k++)
        if (ai[k] > 65536) {
            static const char *const nm[6] = {"ch", "latent", "k", "T", "size", "software"};
            prime_error("inpainting model: %s = %u out of range", nm[k], ai[k]);
            return NULL;
        }
    a.ch = (int)ai[0], a.latent = (int)ai[1], a.k = (int)ai[2], a.T = (int)ai[3], a.size = (int)ai[4], a.software = (int)ai[5];
    if (prime_vae_arch_check(&a) != 0) { prime_error("inpainting model: %s", prime_last_error()); return NULL; }
    prime_device d;
    r = prime_mf_reader(prime_mf_get(&mf, "DEV "));
    if (prime_mf_get_device(&r, &d, what) != 0 || prime_mf_done(&r, what, "DEV ") != 0) return NULL;
    r = prime_mf_reader(prime_mf_get(&mf, "VRUN"));
    prime_vae_run run;
    uint32_t pol = prime_rd_u32(&r);
    run.m_div = prime_rd_f32(&r), run.m_th = prime_rd_f32(&r);
    uint32_t win = prime_rd_u32(&r), mins = prime_rd_u32(&r);
    run.noise_seed = prime_rd_u64(&r), run.latent_seed = prime_rd_u64(&r);
    if (prime_mf_done(&r, what, "VRUN") != 0) return NULL;
    if (pol > 1) { prime_error("inpainting model: run policy %u (0 none, 1 convergence)", pol); return NULL; }
    if (!isfinite(run.m_div) || !isfinite(run.m_th)) { prime_error("inpainting model: run m_div or m_th not finite"); return NULL; }
    if (win > PRIME_MAX_T || mins > PRIME_MAX_T) { prime_error("inpainting model: run m_window %u or min_steps %u above %d", win, mins, PRIME_MAX_T); return NULL; }
    run.policy = (enum prime_vae_policy)pol, run.m_window = (int)win, run.min_steps = (int)mins;
    /* which weight section, and every section's exact length, before anything is built */
    const prime_mf_sec *ms = prime_mf_get(&mf, "MASK"), *ws = prime_mf_get(&mf, "WGT "), *cs = prime_mf_get(&mf, "COND");
    if (a.software ? (!ws || ms || cs) : (!ms || ws)) {
        prime_error("inpainting model: a %s model needs section '%s'%s", a.software ? "software" : "macro",
                    a.software ? "WGT " : "MASK", a.software ? " and no MASK or COND" : " and no WGT");
        return NULL;
    }
    uint64_t lw = 0, ld = 0, lb = 0;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(&a, i, &g);
        uint64_t nw = (uint64_t)g.rows * g.cols, nout = (uint64_t)g.out_c * g.out_h * g.out_w;
        if (g.crossbar) lw += a.software ? 4 + 4 * nw : 8 + (nw + 7) / 8;
        else ld += 8 + 4 * (nw + nout);
        if (g.bn) lb += 4 + 8 * (uint64_t)g.out_c;
    }
    const prime_mf_sec *ds = prime_mf_get(&mf, "DIGI"), *bs = prime_mf_get(&mf, "BN  ");
    const prime_mf_sec *xs = a.software ? ws : ms;
    if (xs->n != lw || ds->n != ld || bs->n != lb) {
        const char *t = xs->n != lw ? xs->tag : ds->n != ld ? "DIGI" : "BN  ";
        uint64_t want = xs->n != lw ? lw : ds->n != ld ? ld : lb, got = xs->n != lw ? xs->n : ds->n != ld ? ds->n : bs->n;
        prime_error("inpainting model: section '%s' holds %llu bytes, the architecture needs %llu", t,
                    (unsigned long long)got, (unsigned long long)want);
        return NULL;
    }
    prime_vae *v = prime_vae_create(&a, &d);
    if (!v) return NULL;
    if (prime_vae_set_run(v, &run) != 0) { prime_error("inpainting model: %s", prime_last_error()); prime_vae_free(v); return NULL; }
    prime_rbuf rx = prime_mf_reader(xs), rd = prime_mf_reader(ds), rb = prime_mf_reader(bs), rc = prime_mf_reader(cs);
    int stored = 0;
    char name[48];
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        size_t nw = (size_t)L->g.rows * L->g.cols;
        int bad = 0;
        if (L->g.crossbar && a.software) {
            snprintf(name, sizeof name, "layer %s weights", VAE_NAMES[i]);
            bad = get_count(&rx, nw, what, "WGT ", name) || prime_mf_get_floats(&rx, L->wt, nw, what, name);
            if (!bad) memset(L->g2, 0, nw * sizeof(float)), prime_vae_program(v, i);
        } else if (L->g.crossbar) {
            bad = prime_mf_get_mask(&rx, L->mask, nw, what, VAE_NAMES[i]);
            if (!bad) prime_vae_program(v, i);
        } else {
            snprintf(name, sizeof name, "layer %s weights", VAE_NAMES[i]);
            bad = get_count(&rd, nw, what, "DIGI", name) || prime_mf_get_floats(&rd, L->wt, nw, what, name);
            snprintf(name, sizeof name, "layer %s bias", VAE_NAMES[i]);
            bad = bad || get_count(&rd, L->nout, what, "DIGI", name) || prime_mf_get_floats(&rd, L->bias, L->nout, what, name);
        }
        if (!bad && L->g.bn) {
            snprintf(name, sizeof name, "layer %s BN a", VAE_NAMES[i]);
            bad = get_count(&rb, (uint64_t)L->g.out_c, what, "BN  ", name) ||
                  prime_mf_get_floats(&rb, L->bn_a, (size_t)L->g.out_c, what, name);
            snprintf(name, sizeof name, "layer %s BN b", VAE_NAMES[i]);
            bad = bad || prime_mf_get_floats(&rb, L->bn_b, (size_t)L->g.out_c, what, name);
        }
        if (!bad && cs && L->g.crossbar) {
            float *g;
            bad = prime_mf_get_map(&rc, nw, &g, what, VAE_NAMES[i]);
            if (!bad && g) bad = prime_vae_set_conductances(v, i, g, g + nw, nw) != 0, stored++;
            free(g);
        }
        if (bad) { prime_vae_free(v); return NULL; }
    }
    if (prime_mf_done(&rx, what, xs->tag) || prime_mf_done(&rd, what, "DIGI") || prime_mf_done(&rb, what, "BN  ") ||
        (cs && prime_mf_done(&rc, what, "COND"))) {
        prime_vae_free(v);
        return NULL;
    }
    if (prime_mf_load_end(&mf, stored, set_opts, v, what) != 0) { prime_vae_free(v); return NULL; }
    return v;
}

/* Version 1 (.pvae; read only): "PRIMEVAE", u32 version 1, arch (11 x 4
 * bytes), device (u64 seed + 20 x 4 bytes, struct order), then per layer in
 * order: crossbar: mask bytes (or float weights if software); digital:
 * weights, biases; BN layers: a[out_c], b[out_c]. The length must match
 * exactly. The run is the default (prime_vae_default_run). */
#define VAE_MAGIC "PRIMEVAE"
#define DEV_WORDS 20
_Static_assert(sizeof(prime_device) == 8 + 4 * DEV_WORDS, "prime_device layout: update the .pvae reader");

typedef struct { const uint8_t *p; size_t n, at; int err; } rbuf;
static void get(rbuf *b, void *dst, size_t n) {
    if (b->err || b->at + n > b->n) { b->err = 1; return; }
    memcpy(dst, b->p + b->at, n);
    b->at += n;
}

static prime_vae *load_v1(const uint8_t *bytes, size_t n) {
    rbuf b = {bytes, n, 0, 0};
    char magic[8];
    uint32_t ver = 0;
    get(&b, magic, 8);
    get(&b, &ver, 4);
    if (b.err || memcmp(magic, VAE_MAGIC, 8) != 0) { prime_error("not an inpainting model (magic PRIMEVAE or PRIMEMDL version 2)"); return NULL; }
    if (ver != 1) { prime_error("inpainting model version %u (this build reads .pvae version 1 and model files of version 2)", ver); return NULL; }
    int32_t ai[6];
    float af[5];
    get(&b, ai, sizeof ai);
    get(&b, af, sizeof af);
    prime_vae_arch a = {ai[0], ai[1], ai[2], ai[3], ai[4], af[0], af[1], af[2], af[3], af[4], ai[5]};
    prime_device d = prime_vae_default_device();
    get(&b, &d.chip_seed, 8);
    get(&b, (uint8_t *)&d + 8, 4 * DEV_WORDS);
    if (b.err) { prime_error("inpainting model: truncated header"); return NULL; }
    if (prime_vae_arch_check(&a) != 0) { prime_error("inpainting model: %s", prime_last_error()); return NULL; }
    /* the exact length follows from the header: checked before anything is built */
    uint64_t expect = b.at;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(&a, i, &g);
        uint64_t nw = (uint64_t)g.rows * g.cols, nout = (uint64_t)g.out_c * g.out_h * g.out_w;
        expect += g.crossbar ? (a.software ? 4 * nw : nw) : 4 * (nw + nout);
        if (g.bn) expect += 8 * (uint64_t)g.out_c;
    }
    if (expect != n) {
        prime_error("inpainting model: its architecture needs %llu bytes, the file has %zu (%s)", (unsigned long long)expect,
                    n, n < expect ? "truncated" : "trailing bytes");
        return NULL;
    }
    prime_vae *v = prime_vae_create(&a, &d);
    if (!v) return NULL;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        size_t nw = (size_t)L->g.rows * L->g.cols;
        if (L->g.crossbar) {
            if (a.software) { get(&b, L->wt, nw * 4); if (!b.err) memset(L->g2, 0, nw * 4); }
            else get(&b, L->mask, nw);
            if (!b.err) prime_vae_program(v, i);
        } else {
            get(&b, L->wt, nw * 4);
            get(&b, L->bias, L->nout * 4);
        }
        if (L->g.bn) get(&b, L->bn_a, L->g.out_c * 4), get(&b, L->bn_b, L->g.out_c * 4);
    }
    if (b.err || b.at != n) {
        prime_vae_free(v);
        prime_error("inpainting model: %s", b.err ? "truncated" : "trailing bytes");
        return NULL;
    }
    return v;
}

/* Loads a network saved by prime_vae_save (version 2) or a .pvae (version 1); NULL on error. */
prime_vae *prime_vae_load(const uint8_t *bytes, size_t n) {
    if (!bytes) { prime_error("prime_vae_load: NULL bytes"); return NULL; }
    if (n >= 12 && !memcmp(bytes, PRIME_MF_MAGIC, 8) && bytes[8] == PRIME_MF_VERSION && !bytes[9] && !bytes[10] &&
        !bytes[11] && (n < 20 || prime_mf_is_v2(bytes, n)))
        return load_v2(bytes, n); /* (a version-2 word with kind 0 is the classifier's draft layout) */
    if (n >= 8 && !memcmp(bytes, PRIME_MF_MAGIC, 8)) {
        prime_error("a classifier model file (PRIMEMDL version 1), not an inpainting model: load it with prime_load / P.load");
        return NULL;
    }
    return load_v1(bytes, n);
}
/* ============================================================ metrics */

/* MSE / PSNR in the hole, SSIM (7x7 uniform window, data range 2, constants
 * of Wang et al. 2004) over the composite image; 0 or -1. */
int prime_vae_metrics(const float *recon, const float *clean, const uint8_t *hole,
                      int w, int h, double *mse, double *psnr, double *ssim) {
    if (!recon || !clean || w < 7 || h < 7) return prime_error("prime_vae_metrics: bad arguments");
    double se = 0;
    int n = 0;
    for (int p = 0; p < w * h; p++)
        if (!hole || hole[p]) { double d = (double)recon[p] - clean[p]; se += d * d; n++; }
    double m = n ? se / n : 0;
    if (mse) *mse = m;
    if (psnr) *psnr = m > 0 ? 10 * log10(4.0 / m) : 99.0;
    if (ssim) {
        const double L = 2, C1 = (0.01 * L) * (0.01 * L), C2 = (0.03 * L) * (0.03 * L);
        double acc = 0;
        int cnt = 0;
        for (int y = 0; y + 7 <= h; y++)
            for (int x = 0; x + 7 <= w; x++) {
                double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
                for (int dy = 0; dy < 7; dy++)
                    for (int dx = 0; dx < 7; dx++) {
                        int p = (y + dy) * w + x + dx;
                        double av = (!hole || hole[p]) ? recon[p] : clean[p], bv = clean[p];
                        sa += av, sb += bv, saa += av * av, sbb += bv * bv, sab += av * bv;
                    }
                const double N = 49;
                double ma = sa / N, mb = sb / N;
                double va = (saa - N * ma * ma) / (N - 1), vb = (sbb - N * mb * mb) / (N - 1);
                double cab = (sab - N * ma * mb) / (N - 1);
                acc += ((2 * ma * mb + C1) * (2 * cab + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
                cnt++;
            }
        *ssim = acc / cnt;
    }
    return 0;
}
