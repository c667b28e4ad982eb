/* prime_model.c - the classifier's model file (docs/model-format.md), and the
 * entry points every network shares (prime_model_kind, prime_model_convert).
 *
 * A model file stores what regenerates the chip: the architecture, the device
 * parameters with the forming seed, the default run policy and one bit per
 * weight (the mask), and, where the cells are not regenerable from the chip
 * seed (a measured map or imported weights, prime_set_conductances), the
 * on-state conductances themselves. prime_save writes version 2, the sectioned
 * container of prime_modelfile.h (sections ARCH, DEV, DVFX, RUN, MASK, COND;
 * DVFX, the device effects, only when one is on);
 * prime_load also reads version 1 (masks only) and the draft version 2 of
 * 2026-12-02 (version 1 + a conductance section; kind word 0). A CRC-32 closes
 * the file, so a truncated, corrupted or foreign file is an error, never a crash.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_opts.h"
#include "prime.h"
#include "prime_internal.h"
#include "prime_modelfile.h"

#define V1_MAGIC "PRIMEMDL"
#define V1_VERSION 1u        /* masks only */
#define V1_VERSION_COND 2u   /* draft: masks + conductance section, kind word 0 */
#define ARCH_LAYER_BYTES 44u /* op, out_c, k, stride, pad, neuron; th, decay, leak, scale, sparsity */
#define RUN_BYTES 24u
#define DRAFT_FX_TAG 0x58465644u /* "DVFX": the draft's device-effects block (u32 tag, u32 n, n bytes of text) */

/* The classifier's sections, in file order (prime_modelfile.h). */
static const prime_mf_spec CLF_SECTIONS[] = {
    {"ARCH", 1}, {"DEV ", 1}, {"DVFX", 0}, {"RUN ", 1}, {"MASK", 1}, {"COND", 0},
};
#define N_CLF_SECTIONS (int)(sizeof CLF_SECTIONS / sizeof CLF_SECTIONS[0])

static const char *layer_name(int l, char buf[16]) {
    snprintf(buf, 16, "%d", l);
    return buf;
}

/* ============================================================ pieces */

static void put_arch(prime_buf *b, const prime_arch *a) {
    prime_wr_u32(b, (uint32_t)a->task), prime_wr_u32(b, (uint32_t)a->T);
    prime_wr_u32(b, (uint32_t)a->in_c), prime_wr_u32(b, (uint32_t)a->in_h), prime_wr_u32(b, (uint32_t)a->in_w);
    prime_wr_u32(b, (uint32_t)a->n_classes), prime_wr_u32(b, (uint32_t)a->n_layers);
    for (int i = 0; i < a->n_layers; i++) {
        const prime_layer *l = &a->layers[i];
        prime_wr_u32(b, (uint32_t)l->op), prime_wr_u32(b, (uint32_t)l->out_c), prime_wr_u32(b, (uint32_t)l->k);
        prime_wr_u32(b, (uint32_t)l->stride), prime_wr_u32(b, (uint32_t)l->pad), prime_wr_u32(b, (uint32_t)l->neuron);
        prime_wr_f32(b, l->th), prime_wr_f32(b, l->decay), prime_wr_f32(b, l->leak), prime_wr_f32(b, l->scale);
        prime_wr_f32(b, l->sparsity);
    }
}

static void put_run(prime_buf *b, const prime_run *r) {
    prime_wr_u32(b, (uint32_t)r->policy), prime_wr_f32(b, r->alpha), prime_wr_f32(b, r->threshold);
    prime_wr_u32(b, (uint32_t)r->min_steps), prime_wr_u64(b, r->noise_seed);
}

/* Reads a u32 that must fit an int field in [lo, hi]; flags *bad otherwise. */
static int get_int(prime_rbuf *r, int lo, int hi, int *bad) {
    uint32_t v = prime_rd_u32(r);
    if (v > (uint32_t)hi || (int)v < lo) *bad = 1;
    return (int)v;
}

/* Reads, finalizes and checks an architecture (canonical fields too); 0 or -1. */
static int get_arch(prime_rbuf *r, prime_arch *a, const char *what) {
    int bf = 0;
    memset(a, 0, sizeof *a);
    a->task = get_int(r, 0, 0, &bf);
    a->T = get_int(r, 1, PRIME_MAX_T, &bf);
    a->in_c = get_int(r, 1, 4096, &bf), a->in_h = get_int(r, 1, 4096, &bf), a->in_w = get_int(r, 1, 4096, &bf);
    a->n_classes = get_int(r, 2, PRIME_MAX_CLASSES, &bf);
    a->n_layers = get_int(r, 1, PRIME_MAX_LAYERS, &bf);
    if (bf || r->bad)
        return prime_error("%s: bad architecture header (task, T, input shape, classes or layer count out of range)", what);
    for (int i = 0; i < a->n_layers; i++) {
        prime_layer *l = &a->layers[i];
        l->op = get_int(r, 1, 3, &bf), l->out_c = get_int(r, 1, 4096, &bf), l->k = get_int(r, 0, 15, &bf);
        l->stride = get_int(r, 0, 8, &bf), l->pad = get_int(r, 0, 15, &bf), l->neuron = get_int(r, 0, 2, &bf);
        l->th = prime_rd_f32(r), l->decay = prime_rd_f32(r), l->leak = prime_rd_f32(r), l->scale = prime_rd_f32(r);
        l->sparsity = prime_rd_f32(r);
        if (bf || r->bad) return prime_error("%s: layer %d has a field out of range or is truncated", what, i);
    }
    prime_arch stored = *a;
    if (prime_arch_finalize(a) != 0) return -1;
    /* canonical: the fields finalize derives (pool stride, pad, out_c; FC k,
     * stride, pad) must already hold what prime_save writes */
    for (int i = 0; i < a->n_layers; i++) {
        const prime_layer *s = &stored.layers[i], *l = &a->layers[i];
        if (s->out_c != l->out_c || s->k != l->k || s->stride != l->stride || s->pad != l->pad)
            return prime_error("%s: layer %d (%s) is not canonical: out_c %d k %d stride %d pad %d, expected %d %d %d %d", what,
                               i, l->op == PRIME_OP_FC ? "FC" : l->op == PRIME_OP_CONV ? "conv" : "pool", s->out_c, s->k,
                               s->stride, s->pad, l->out_c, l->k, l->stride, l->pad);
    }
    return 0;
}

static int get_run(prime_rbuf *r, prime_run *run, const char *what) {
    run->policy = (int)prime_rd_u32(r), run->alpha = prime_rd_f32(r), run->threshold = prime_rd_f32(r);
    run->min_steps = (int)prime_rd_u32(r), run->noise_seed = prime_rd_u64(r);
    if (r->bad) return prime_error("%s truncated in the run parameters", what);
    return 0;
}

/* Reads the masks of every weight layer of c and programs them; 0 or -1. */
static int get_masks(prime_ctx *c, prime_rbuf *r, const char *what) {
    char nm[16];
    for (int i = 0; i < c->arch.n_layers; i++) {
        pg_node *w = &c->g->n[0][c->node[i]];
        if (!w->rows) continue;
        if (prime_mf_get_mask(r, w->mask, (size_t)w->rows * w->cols, what, layer_name(i, nm)) != 0) return -1;
        prime_program_layer(c, i);
    }
    return 0;
}

/* Reads the conductance section (a flag per weight layer, maps) into c;
 * returns the number of maps stored, or -1. */
static int get_maps(prime_ctx *c, prime_rbuf *r, const char *what) {
    char nm[16];
    int stored = 0;
    for (int i = 0; i < c->arch.n_layers; i++) {
        const pg_node *w = &c->g->n[0][c->node[i]];
        if (!w->rows) continue;
        size_t nw = (size_t)w->rows * w->cols;
        float *g;
        if (prime_mf_get_map(r, nw, &g, what, layer_name(i, nm)) != 0) return -1;
        int rc = g ? prime_set_conductances(c, i, g, g + nw, nw) : 0;
        stored += g != NULL;
        free(g);
        if (rc) return -1;
    }
    return stored;
}

static int set_opts(void *c, const char *const *kv, int n) { return prime_set_device_options(c, kv, n); }

/* ============================================================ version 2 */

int prime_save(const prime_ctx *c, uint8_t **out, size_t *n) {
    if (!c || !out || !n) return prime_error("prime_save: NULL argument");
    const prime_arch *a = &c->arch;
    prime_buf b = {0};
    int measured = 0;
    for (int i = 0; i < a->n_layers; i++) measured |= c->g->n[0][c->node[i]].rows && c->g->n[0][c->node[i]].measured;
    prime_mf_begin(&b, PRIME_MODEL_CLASSIFIER);
    size_t s = prime_mf_section(&b, "ARCH");
    put_arch(&b, a);
    prime_mf_section_end(&b, s);
    if (prime_mf_put_dev(&b, &c->g->dev, &c->g->fx) != 0) { free(b.p); return -1; }
    s = prime_mf_section(&b, "RUN ");
    put_run(&b, &c->run);
    prime_mf_section_end(&b, s);
    s = prime_mf_section(&b, "MASK");
    for (int i = 0; i < a->n_layers; i++) {
        const pg_node *w = &c->g->n[0][c->node[i]];
        if (w->rows) prime_mf_put_mask(&b, w->mask, (size_t)w->rows * w->cols);
    }
    prime_mf_section_end(&b, s);
    if (measured) { /* only where a layer's cells are not regenerable from the chip seed */
        s = prime_mf_section(&b, "COND");
        for (int i = 0; i < a->n_layers; i++) {
            const pg_node *w = &c->g->n[0][c->node[i]];
            if (w->rows) prime_mf_put_map(&b, w->measured, w->gp_on, w->gn_on, (size_t)w->rows * w->cols);
        }
        prime_mf_section_end(&b, s);
    }
    return prime_mf_finish(&b, out, n);
}

/* The exact MASK / COND section lengths the architecture implies are checked
 * before anything is built (a header declaring a huge layer costs nothing). */
static uint64_t mask_bytes(const prime_arch *a) {
    uint64_t len = 0;
    for (int i = 0; i < a->n_layers; i++)
        if (prime_layer_rows(&a->layers[i])) len += 8 + ((uint64_t)prime_layer_weights(&a->layers[i]) + 7) / 8;
    return len;
}

static prime_ctx *load_v2(const uint8_t *bytes, size_t n) {
    const char *what = "model file";
    prime_mf mf;
    if (prime_mf_want_kind(bytes, n, PRIME_MODEL_CLASSIFIER, what) != 0) return NULL;
    if (prime_mf_open(bytes, n, CLF_SECTIONS, N_CLF_SECTIONS, &mf, what) != 0) return NULL;
    prime_arch a;
    prime_rbuf r = prime_mf_reader(prime_mf_get(&mf, "ARCH"));
    if (get_arch(&r, &a, what) != 0 || prime_mf_done(&r, what, "ARCH") != 0) return NULL;
    prime_device d;
    r = prime_mf_reader(prime_mf_get(&mf, "DEV "));
    if (prime_mf_get_device(&r, &d, what) != 0 || prime_mf_done(&r, what, "DEV ") != 0) return NULL;
    prime_run run;
    r = prime_mf_reader(prime_mf_get(&mf, "RUN "));
    if (get_run(&r, &run, what) != 0 || prime_mf_done(&r, what, "RUN ") != 0) return NULL;
    const prime_mf_sec *ms = prime_mf_get(&mf, "MASK");
    if (ms->n != mask_bytes(&a)) {
        prime_error("model file: section 'MASK' holds %u bytes, the architecture needs %llu", ms->n,
                    (unsigned long long)mask_bytes(&a));
        return NULL;
    }
    const prime_mf_sec *cs = prime_mf_get(&mf, "COND");
    prime_ctx *c = prime_ctx_new(&a, &d);
    if (!c) return NULL;
    if (prime_set_run(c, &run) != 0) { prime_error("model file: %s", prime_last_error()); prime_free(c); return NULL; }
    r = prime_mf_reader(ms);
    if (get_masks(c, &r, what) != 0 || prime_mf_done(&r, what, "MASK") != 0) { prime_free(c); return NULL; }
    int stored = 0;
    if (cs) {
        r = prime_mf_reader(cs);
        stored = get_maps(c, &r, what);
        if (stored < 0 || prime_mf_done(&r, what, "COND") != 0) { prime_free(c); return NULL; }
    }
    if (prime_mf_load_end(&mf, stored, set_opts, c, what) != 0) { prime_free(c); return NULL; }
    return c;
}

/* ============================================================ version 1 (and the draft version 2) */

/* Version 1: magic, u32 version, u32 size, arch, device, run, masks,
 * [draft version 2: conductance section], CRC. Read only. */
static prime_ctx *load_v1(const uint8_t *bytes, size_t n) {
    const char *what = "model file";
    prime_rbuf r = {bytes, n, 8, 0};
    uint32_t version = prime_rd_u32(&r), total = prime_rd_u32(&r);
    if (r.bad) { prime_error("model file truncated in its header (%zu bytes)", n); return NULL; }
    if (version != V1_VERSION && version != V1_VERSION_COND) {
        prime_error("model file version %u is not supported (this build reads 1 and 2)", version);
        return NULL;
    }
    if (total != n) { prime_error("model file size %zu differs from the %u bytes its header declares (truncated or padded)", n, total); return NULL; }
    if (n < 16) { prime_error("model file truncated"); return NULL; }
    if (prime_mf_crc_bad(bytes, n)) { prime_error("model file checksum mismatch: the file is corrupted"); return NULL; }
    r.n = n - 4;
    prime_arch a;
    if (get_arch(&r, &a, what) != 0) return NULL;
    /* the file must hold every mask the architecture declares: its exact
     * length follows from the header, checked before anything is built */
    uint64_t expect = r.off + PRIME_MF_DEVICE_BYTES + RUN_BYTES + mask_bytes(&a) + 4;
    uint32_t fx_len = 0; /* the draft's device-effects block, if any */
    if (version == V1_VERSION_COND) { /* the draft's conductance section: walk its flags and counts */
        prime_rbuf w = {bytes, n - 4, (size_t)(expect - 4 < n ? expect - 4 : n), 0};
        int any = 0;
        for (int i = 0; i < a.n_layers; i++) {
            if (!prime_layer_rows(&a.layers[i])) continue;
            uint32_t flag = prime_rd_u32(&w);
            if (w.bad) { prime_error("model file truncated in the conductance section (flag of layer %d)", i); return NULL; }
            if (flag > 1) { prime_error("model file: conductance flag of layer %d is %u (0 formed, 1 stored)", i, flag); return NULL; }
            expect += 4;
            if (!flag) continue;
            uint64_t nw = prime_layer_weights(&a.layers[i]);
            uint32_t fw = prime_rd_u32(&w);
            if (w.bad) { prime_error("model file truncated in the conductance section (pairs of layer %d)", i); return NULL; }
            if (fw != nw) {
                prime_error("model file: conductance map of layer %d holds %u pairs, the architecture needs %llu", i, fw,
                            (unsigned long long)nw);
                return NULL;
            }
            expect += 4 + 8 * nw;
            if ((w.n - w.off) / 8 < nw) { prime_error("model file truncated in the conductance map of layer %d", i); return NULL; }
            w.off += (size_t)(8 * nw);
            any = 1;
        }
        if (w.n - w.off >= 8 && prime_rd_u32(&w) == DRAFT_FX_TAG) { /* the draft's device effects, just before the CRC */
            fx_len = prime_rd_u32(&w);
            if (fx_len == 0 || fx_len >= PRIME_MF_DVFX_MAX || w.n - w.off != fx_len) {
                prime_error("model file: bad device-effects block (length %u)", fx_len);
                return NULL;
            }
            expect += 8 + (uint64_t)fx_len;
            any = 1;
        }
        if (!any) { prime_error("model file: version 2 with no stored conductance map nor device effects (a version-1 file has neither)"); return NULL; }
    }
    if (expect != n) {
        prime_error("model file: its architecture needs %llu bytes (masks included), the file has %zu",
                    (unsigned long long)expect, n);
        return NULL;
    }
    prime_device d;
    if (prime_mf_get_device(&r, &d, what) != 0) return NULL;
    prime_run run;
    if (get_run(&r, &run, what) != 0) return NULL;
    prime_ctx *c = prime_ctx_new(&a, &d);
    if (!c) return NULL;
    if (prime_set_run(c, &run) != 0) { prime_error("model file: %s", prime_last_error()); prime_free(c); return NULL; }
    if (get_masks(c, &r, what) != 0 || (version == V1_VERSION_COND && get_maps(c, &r, what) < 0)) { prime_free(c); return NULL; }
    if (fx_len) {
        const prime_mf_sec fs = {"DVFX", r.p + r.off + 8, fx_len};
        r.off += 8 + (size_t)fx_len;
        if (prime_mf_apply_devfx(&fs, set_opts, c, what) != 0) { prime_free(c); return NULL; }
    }
    if (r.off != r.n) { prime_error("model file has %zu unexpected bytes after the masks", r.n - r.off); prime_free(c); return NULL; }
    return c;
}

prime_ctx *prime_load(const uint8_t *bytes, size_t n) {
    if (!bytes) { prime_error("prime_load: NULL bytes"); return NULL; }
    if (n < 8 || memcmp(bytes, V1_MAGIC, 8) != 0) {
        if (n >= 8 && !memcmp(bytes, "PRIMEVAE", 8))
            prime_error("an inpainting model (.pvae), not a classifier: load it with prime_vae_load / P.load");
        else
            prime_error("not a PRIME-sim model file (magic \"PRIMEMDL\" missing)");
        return NULL;
    }
    return prime_mf_is_v2(bytes, n) ? load_v2(bytes, n) : load_v1(bytes, n);
}

/* ============================================================ every network */

int prime_model_kind(const uint8_t *b, size_t n) {
    if (!b) return prime_error("prime_model_kind: NULL bytes");
    if (n >= 8 && !memcmp(b, "PRIMEVAE", 8)) return PRIME_MODEL_VAE;
    if (n >= 8 && !memcmp(b, V1_MAGIC, 8)) {
        if (!prime_mf_is_v2(b, n)) return PRIME_MODEL_CLASSIFIER; /* version 1 (or the draft 2) */
        uint32_t k = (uint32_t)b[16] | (uint32_t)b[17] << 8 | (uint32_t)b[18] << 16 | (uint32_t)b[19] << 24;
        if (k == PRIME_MODEL_CLASSIFIER || k == PRIME_MODEL_VAE || k == PRIME_MODEL_GRAPH) return (int)k;
        return prime_error("model file: network kind %u is not known to this build (1 classifier, 2 inpainting VAE, \"GRPH\" layer graph)", k);
    }
    return prime_error("not a PRIME-sim model file (magic \"PRIMEMDL\" or \"PRIMEVAE\" missing)");
}

int prime_model_convert(const uint8_t *b, size_t n, uint8_t **out, size_t *on) {
    if (!b || !out || !on) return prime_error("prime_model_convert: NULL argument");
    int kind = prime_model_kind(b, n);
    if (kind == PRIME_MODEL_CLASSIFIER) {
        prime_ctx *c = prime_load(b, n);
        if (!c) return -1;
        int rc = prime_save(c, out, on);
        prime_free(c);
        return rc;
    }
    if (kind == PRIME_MODEL_VAE) {
        prime_vae *v = prime_vae_load(b, n);
        if (!v) return -1;
        int rc = prime_vae_save(v, out, on);
        prime_vae_free(v);
        return rc;
    }
    if (kind == PRIME_MODEL_GRAPH) return prime_error("%s; it is version 2 already, not converted here", PRIME_MF_GRAPH_MSG);
    return -1;
}
