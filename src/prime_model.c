/* prime_model.c - the .prime model file (docs/model-format.md) and the NumPy
 * .npy / .npz importer.
 *
 * A model file stores what regenerates the chip: the architecture, the device
 * parameters with the forming seed, the default run policy and one bit per
 * weight (the mask). Version 2 adds, after the masks, the conductance section:
 * the on-state conductances of every layer whose cells are not regenerable
 * from the chip seed (a measured map or imported weights, prime_set_conductances).
 * prime_save writes version 1 when no layer has such a map (the same bytes as
 * before), version 2 otherwise. A CRC-32 closes the file, so a truncated,
 * corrupted or foreign file is an error, never a crash.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device_opts.h"
#include "prime.h"
#include "prime_internal.h"
#include "prime_archive.h"

/* The device-effects section (docs/model-format.md): tag, u32 length, then
 * that many bytes of "key=value\n" lines (prime_devfx_to_text), just before
 * the CRC of a version-2 file. Written only when an effect is on. */
#define FX_TAG 0x58465644u /* "DVFX" */
#define FX_MAX 16384

#define MODEL_MAGIC "PRIMEMDL"
#define MODEL_VERSION 1u    /* masks only */
#define MODEL_VERSION_COND 2u /* masks + conductance section */

/* ============================================================ CRC-32 */

/* Returns the CRC-32 (IEEE 802.3, as zlib) of n bytes. */
static uint32_t crc32_bytes(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* ============================================================ writer */

static void put_u32(prime_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    prime_buf_put(b, x, 4);
}
static void put_u64(prime_buf *b, uint64_t v) { put_u32(b, (uint32_t)v), put_u32(b, (uint32_t)(v >> 32)); }
static void put_f32(prime_buf *b, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(b, v);
}

/* Serializes ctx into a malloc'ed buffer (*out, caller frees); 0 or -1. */
int prime_save(const prime_ctx *c, uint8_t **out, size_t *n) {
    if (!c || !out || !n) return prime_error("prime_save: NULL argument");
    const prime_arch *a = &c->arch;
    const prime_device *d = &c->dev;
    prime_buf b = {0};
    int measured = 0;
    for (int i = 0; i < a->n_layers; i++) measured |= c->w[i].rows && c->w[i].measured;
    char fxt[FX_MAX];
    int nfx = prime_devfx_to_text(d, &c->fx, fxt, sizeof fxt);
    if (nfx < 0) return prime_error("prime_save: the device effects do not fit %d bytes", FX_MAX);
    prime_buf_put(&b, MODEL_MAGIC, 8);
    put_u32(&b, measured || nfx ? MODEL_VERSION_COND : MODEL_VERSION);
    put_u32(&b, 0); /* total size, patched below */
    put_u32(&b, (uint32_t)a->task), put_u32(&b, (uint32_t)a->T);
    put_u32(&b, (uint32_t)a->in_c), put_u32(&b, (uint32_t)a->in_h), put_u32(&b, (uint32_t)a->in_w);
    put_u32(&b, (uint32_t)a->n_classes), put_u32(&b, (uint32_t)a->n_layers);
    for (int i = 0; i < a->n_layers; i++) {
        const prime_layer *l = &a->layers[i];
        put_u32(&b, (uint32_t)l->op), put_u32(&b, (uint32_t)l->out_c), put_u32(&b, (uint32_t)l->k);
        put_u32(&b, (uint32_t)l->stride), put_u32(&b, (uint32_t)l->pad), put_u32(&b, (uint32_t)l->neuron);
        put_f32(&b, l->th), put_f32(&b, l->decay), put_f32(&b, l->leak), put_f32(&b, l->scale), put_f32(&b, l->sparsity);
    }
    put_u64(&b, d->chip_seed);
    put_u32(&b, (uint32_t)d->g_dist);
    put_f32(&b, d->g_mean), put_f32(&b, d->g_sd), put_f32(&b, d->g_off), put_f32(&b, d->g_off_sd);
    put_f32(&b, d->g_max), put_f32(&b, d->prog_noise), put_f32(&b, d->stuck_on), put_f32(&b, d->stuck_off);
    put_f32(&b, d->read_noise);
    put_u32(&b, (uint32_t)d->noise_mode), put_u32(&b, (uint32_t)d->adc_bits);
    put_f32(&b, d->adc_fs);
    put_u32(&b, (uint32_t)d->dac_bits);
    put_f32(&b, d->v_read), put_f32(&b, d->e_cell_pj), put_f32(&b, d->e_adc_fom_fj);
    put_f32(&b, d->e_dac_pj), put_f32(&b, d->e_neuron_pj), put_f32(&b, d->e_mac_pj);
    put_u32(&b, (uint32_t)c->run.policy), put_f32(&b, c->run.alpha), put_f32(&b, c->run.threshold);
    put_u32(&b, (uint32_t)c->run.min_steps), put_u64(&b, c->run.noise_seed);
    for (int i = 0; i < a->n_layers; i++) {
        const wlayer *w = &c->w[i];
        if (!w->rows) continue;
        size_t nw = (size_t)w->rows * w->cols, nb = (nw + 7) / 8;
        put_u32(&b, (uint32_t)nw), put_u32(&b, (uint32_t)nb);
        uint8_t byte = 0;
        for (size_t k = 0; k < nw; k++) {
            if (w->mask[k]) byte |= (uint8_t)(1u << (k & 7));
            if ((k & 7) == 7 || k + 1 == nw) prime_buf_put(&b, &byte, 1), byte = 0;
        }
    }
    /* version 2: per weight layer a u32 flag; 1: u32 pairs, then the on-state
     * G+ and G- of every pair (f32, uS, matrix order) */
    for (int i = 0; i < a->n_layers && (measured || nfx); i++) {
        const wlayer *w = &c->w[i];
        if (!w->rows) continue;
        size_t nw = (size_t)w->rows * w->cols;
        put_u32(&b, (uint32_t)w->measured);
        if (!w->measured) continue;
        put_u32(&b, (uint32_t)nw);
        for (size_t k = 0; k < nw; k++) put_f32(&b, w->gp_on[k]);
        for (size_t k = 0; k < nw; k++) put_f32(&b, w->gn_on[k]);
    }
    if (nfx) put_u32(&b, FX_TAG), put_u32(&b, (uint32_t)nfx), prime_buf_put(&b, fxt, (size_t)nfx);
    if (b.oom) { free(b.p); return prime_error("out of memory saving the model"); }
    uint32_t total = (uint32_t)(b.n + 4);
    for (int k = 0; k < 4; k++) b.p[12 + k] = (uint8_t)(total >> (8 * k));
    put_u32(&b, crc32_bytes(b.p, b.n));
    if (b.oom) { free(b.p); return prime_error("out of memory saving the model"); }
    *out = b.p, *n = b.n;
    return 0;
}

/* ============================================================ reader */

typedef struct {
    const uint8_t *p;
    size_t n, off;
    int bad;
} rbuf;

static uint32_t get_u32(rbuf *r) {
    if (r->off + 4 > r->n) { r->bad = 1; return 0; }
    const uint8_t *q = r->p + r->off;
    r->off += 4;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}
static uint64_t get_u64(rbuf *r) {
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}
static float get_f32(rbuf *r) {
    uint32_t v = get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
/* Reads a u32 that must fit an int field in [lo, hi]; flags `bad` otherwise. */
static int get_int(rbuf *r, int lo, int hi, int *bad_field) {
    uint32_t v = get_u32(r);
    if (v > (uint32_t)hi || (int)v < lo) *bad_field = 1;
    return (int)v;
}

/* Walks the conductance section of a version-2 file that starts at byte `at`
 * (after the masks) to find its length, checking each layer's flag and pair
 * count before anything is allocated; *expect += the section's bytes. 0 or -1. */
static int cond_section_length(const prime_arch *a, const uint8_t *bytes, size_t n, uint64_t at, uint64_t *expect) {
    rbuf r = {bytes, n >= 4 ? n - 4 : 0, (size_t)(at < n ? at : n), 0};
    uint64_t len = 0;
    int any = 0;
    for (int i = 0; i < a->n_layers; i++) {
        if (!prime_layer_rows(&a->layers[i])) continue;
        uint32_t flag = get_u32(&r);
        if (r.bad) return prime_error("model file truncated in the conductance section (flag of layer %d)", i);
        if (flag > 1) return prime_error("model file: conductance flag of layer %d is %u (0 formed, 1 stored)", i, flag);
        len += 4;
        if (!flag) continue;
        uint64_t nw = prime_layer_weights(&a->layers[i]);
        uint32_t fw = get_u32(&r);
        if (r.bad) return prime_error("model file truncated in the conductance section (pairs of layer %d)", i);
        if (fw != nw)
            return prime_error("model file: conductance map of layer %d holds %u pairs, the architecture needs %llu", i,
                               fw, (unsigned long long)nw);
        len += 4 + 8 * nw;
        if (r.off + 8 * nw > r.n) return prime_error("model file truncated in the conductance map of layer %d", i);
        r.off += (size_t)(8 * nw);
        any = 1;
    }
    /* the device-effects section, if any, closes a version-2 file */
    uint32_t tag = get_u32(&r);
    if (!r.bad && tag == FX_TAG) {
        uint32_t fl = get_u32(&r);
        if (r.bad || fl == 0 || fl >= FX_MAX || r.off + fl != r.n)
            return prime_error("model file: bad device-effects section (length %u)", fl);
        len += 8 + fl;
        any = 1;
    }
    if (!any) return prime_error("model file: version 2 with no stored conductance map nor device effects (a version-1 file has neither)");
    *expect += len;
    return 0;
}

/* Reads the conductance section (lengths checked by cond_section_length) into
 * c's layers and re-programs them; the first bad value is named. 0 or -1. */
static int read_cond_section(prime_ctx *c, rbuf *r) {
    for (int i = 0; i < c->arch.n_layers; i++) {
        wlayer *w = &c->w[i];
        if (!w->rows || !get_u32(r)) continue;
        size_t nw = (size_t)get_u32(r);
        float *g = malloc(2 * nw * sizeof(float));
        if (!g) return prime_error("out of memory reading the conductance map of layer %d", i);
        for (size_t k = 0; k < 2 * nw; k++) g[k] = get_f32(r);
        for (size_t k = 0; k < 2 * nw && !r->bad; k++)
            if (!(g[k] >= 0 && g[k] < 1e6f)) {
                prime_error("model file: conductance map of layer %d: %s[%zu] = %g is not a conductance in [0, 1e6) uS", i,
                            k < nw ? "gpos" : "gneg", k % nw, (double)g[k]);
                free(g);
                return -1;
            }
        int rc = r->bad ? prime_error("model file truncated in the conductance map of layer %d", i)
                        : prime_set_conductances(c, i, g, g + nw, nw);
        free(g);
        if (rc) return -1;
    }
    return 0;
}

/* Reads the device-effects section (its length checked by
 * cond_section_length) and applies it; a bad line is named. 0 or -1. */
static int read_fx_section(prime_ctx *c, rbuf *r) {
    if (get_u32(r) != FX_TAG) return prime_error("model file: unexpected bytes after the conductance section");
    uint32_t fl = get_u32(r);
    char *t = malloc((size_t)fl + 1);
    if (!t) return prime_error("out of memory reading the device effects");
    memcpy(t, r->p + r->off, fl), t[fl] = 0;
    r->off += fl;
    const char *kv[256];
    int m = 0, rc = 0;
    for (char *p = t; *p && !rc;) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        if (*p) {
            if (m == 256) rc = prime_error("model file: more than 256 device-effect settings");
            else kv[m++] = p;
        }
        if (!e) break;
        p = e + 1;
    }
    if (!rc && prime_set_device_options(c, kv, m) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", prime_last_error());
        rc = prime_error("model file: device effects: %s", msg);
    }
    free(t);
    return rc;
}

/* Returns a context from model file bytes; NULL with a clear error. */
prime_ctx *prime_load(const uint8_t *bytes, size_t n) {
    if (!bytes) { prime_error("prime_load: NULL bytes"); return NULL; }
    if (n < 8 || memcmp(bytes, MODEL_MAGIC, 8) != 0) {
        prime_error("not a PRIME-sim model file (magic \"PRIMEMDL\" missing)");
        return NULL;
    }
    rbuf r = {bytes, n, 8, 0};
    uint32_t version = get_u32(&r), total = get_u32(&r);
    if (r.bad) { prime_error("model file truncated in its header (%zu bytes)", n); return NULL; }
    if (version != MODEL_VERSION && version != MODEL_VERSION_COND) {
        prime_error("model file version %u is not supported (this build reads %u and %u)", version, MODEL_VERSION,
                    MODEL_VERSION_COND);
        return NULL;
    }
    if (total != n) { prime_error("model file size %zu differs from the %u bytes its header declares (truncated or padded)", n, total); return NULL; }
    if (n < 16) { prime_error("model file truncated"); return NULL; }
    uint32_t crc = (uint32_t)bytes[n - 4] | (uint32_t)bytes[n - 3] << 8 | (uint32_t)bytes[n - 2] << 16 | (uint32_t)bytes[n - 1] << 24;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* fuzz builds (tests/fuzz): mutations must reach the parser */
    if (crc32_bytes(bytes, n - 4) != crc) { prime_error("model file checksum mismatch: the file is corrupted"); return NULL; }
#else
    (void)crc;
#endif
    r.n = n - 4;
    int bf = 0;
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.task = get_int(&r, 0, 0, &bf);
    a.T = get_int(&r, 1, PRIME_MAX_T, &bf);
    a.in_c = get_int(&r, 1, 4096, &bf), a.in_h = get_int(&r, 1, 4096, &bf), a.in_w = get_int(&r, 1, 4096, &bf);
    a.n_classes = get_int(&r, 2, PRIME_MAX_CLASSES, &bf);
    a.n_layers = get_int(&r, 1, PRIME_MAX_LAYERS, &bf);
    if (bf || r.bad) { prime_error("model file: bad architecture header (task, T, input shape, classes or layer count out of range)"); return NULL; }
    for (int i = 0; i < a.n_layers; i++) {
        prime_layer *l = &a.layers[i];
        l->op = get_int(&r, 1, 3, &bf), l->out_c = get_int(&r, 1, 4096, &bf), l->k = get_int(&r, 0, 15, &bf);
        l->stride = get_int(&r, 0, 8, &bf), l->pad = get_int(&r, 0, 15, &bf), l->neuron = get_int(&r, 0, 2, &bf);
        l->th = get_f32(&r), l->decay = get_f32(&r), l->leak = get_f32(&r), l->scale = get_f32(&r), l->sparsity = get_f32(&r);
        if (bf || r.bad) { prime_error("model file: layer %d has a field out of range or is truncated", i); return NULL; }
    }
    prime_arch stored = a;
    if (prime_arch_finalize(&a) != 0) return NULL;
    /* canonical: the fields finalize derives (pool stride, pad, out_c; FC k,
     * stride, pad) must already hold what prime_save writes */
    for (int i = 0; i < a.n_layers; i++) {
        const prime_layer *s = &stored.layers[i], *l = &a.layers[i];
        if (s->out_c != l->out_c || s->k != l->k || s->stride != l->stride || s->pad != l->pad) {
            prime_error("model file: layer %d (%s) is not canonical: out_c %d k %d stride %d pad %d, expected %d %d %d %d", i,
                        l->op == PRIME_OP_FC ? "FC" : l->op == PRIME_OP_CONV ? "conv" : "pool", s->out_c, s->k, s->stride,
                        s->pad, l->out_c, l->k, l->stride, l->pad);
            return NULL;
        }
    }
    /* the file must hold every mask the architecture declares: its exact
     * length follows from the header, checked before anything is built */
    uint64_t expect = r.off + 8 + 4 * 20 + 4 * 4 + 8 + 4; /* device, run, CRC */
    for (int i = 0; i < a.n_layers; i++)
        if (prime_layer_rows(&a.layers[i])) expect += 8 + ((uint64_t)prime_layer_weights(&a.layers[i]) + 7) / 8;
    if (version == MODEL_VERSION_COND && cond_section_length(&a, bytes, n, expect - 4, &expect) != 0) return NULL;
    if (expect != n) {
        prime_error("model file: its architecture needs %llu bytes (masks included), the file has %zu",
                    (unsigned long long)expect, n);
        return NULL;
    }
    prime_device d;
    memset(&d, 0, sizeof d);
    d.chip_seed = get_u64(&r);
    d.g_dist = (int)get_u32(&r);
    d.g_mean = get_f32(&r), d.g_sd = get_f32(&r), d.g_off = get_f32(&r), d.g_off_sd = get_f32(&r);
    d.g_max = get_f32(&r), d.prog_noise = get_f32(&r), d.stuck_on = get_f32(&r), d.stuck_off = get_f32(&r);
    d.read_noise = get_f32(&r);
    d.noise_mode = (int)get_u32(&r), d.adc_bits = (int)get_u32(&r);
    d.adc_fs = get_f32(&r);
    d.dac_bits = (int)get_u32(&r);
    d.v_read = get_f32(&r), d.e_cell_pj = get_f32(&r), d.e_adc_fom_fj = get_f32(&r);
    d.e_dac_pj = get_f32(&r), d.e_neuron_pj = get_f32(&r), d.e_mac_pj = get_f32(&r);
    if (r.bad) { prime_error("model file truncated in the device parameters"); return NULL; }
    if (prime_device_check(&d) != 0) { prime_error("model file: %s", prime_last_error()); return NULL; }
    prime_run run;
    run.policy = (int)get_u32(&r), run.alpha = get_f32(&r), run.threshold = get_f32(&r);
    run.min_steps = (int)get_u32(&r), run.noise_seed = get_u64(&r);
    if (r.bad) { prime_error("model file truncated in the run parameters"); return NULL; }
    prime_ctx *c = prime_ctx_new(&a, &d);
    if (!c) return NULL;
    if (prime_set_run(c, &run) != 0) { prime_error("model file: %s", prime_last_error()); prime_free(c); return NULL; }
    for (int i = 0; i < a.n_layers; i++) {
        wlayer *w = &c->w[i];
        if (!w->rows) continue;
        size_t nw = (size_t)w->rows * w->cols, nb = (nw + 7) / 8;
        uint32_t fw = get_u32(&r), fb = get_u32(&r);
        if (r.bad) { prime_error("model file truncated before the mask of layer %d", i); prime_free(c); return NULL; }
        if (fw != nw || fb != nb) {
            prime_error("model file: mask of layer %d holds %u weights in %u bytes, the architecture needs %zu in %zu", i, fw, fb, nw, nb);
            prime_free(c);
            return NULL;
        }
        if (r.off + nb > r.n) { prime_error("model file truncated in the mask of layer %d", i); prime_free(c); return NULL; }
        for (size_t k = 0; k < nw; k++) w->mask[k] = (r.p[r.off + k / 8] >> (k & 7)) & 1;
        r.off += nb;
        prime_program_layer(c, i);
    }
    if (version == MODEL_VERSION_COND && read_cond_section(c, &r) != 0) { prime_free(c); return NULL; }
    if (version == MODEL_VERSION_COND && r.off + 8 <= r.n && read_fx_section(c, &r) != 0) { prime_free(c); return NULL; }
    if (r.off != r.n) { prime_error("model file has %zu unexpected bytes after the masks", r.n - r.off); prime_free(c); return NULL; }
    return c;
}

/* ============================================================ NumPy */

/* Parses one .npy array into malloc'ed floats; 0 or -1. */
int prime_npy_read(const uint8_t *b, size_t n, float **data, int shape[8], int *ndim) {
    enum prime_dtype dt;
    return prime_npy_read_typed(b, n, data, shape, ndim, &dt);
}

/* prime_npy_read that also gives the file's dtype; 0 or -1. */
int prime_npy_read_typed(const uint8_t *b, size_t n, float **data, int shape[8], int *ndim, enum prime_dtype *dtype) {
    if (!b || !data || !shape || !ndim || !dtype) return prime_error("prime_npy_read: NULL argument");
    *data = NULL;
    if (n < 10 || memcmp(b, "\x93NUMPY", 6) != 0) return prime_error(".npy: magic \\x93NUMPY missing");
    int major = b[6];
    size_t hlen, hoff;
    if (major == 1) hlen = (size_t)b[8] | (size_t)b[9] << 8, hoff = 10;
    else if (major == 2 || major == 3) {
        if (n < 12) return prime_error(".npy: truncated header");
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24, hoff = 12;
    } else return prime_error(".npy: version %d not supported", major);
    if (hlen > n - hoff) return prime_error(".npy: header longer than the file");
    char h[4096];
    if (hlen >= sizeof h) return prime_error(".npy: header too long");
    memcpy(h, b + hoff, hlen);
    h[hlen] = 0;
    const char *dp = strstr(h, "'descr'"), *fp = strstr(h, "'fortran_order'"), *sp = strstr(h, "'shape'");
    if (!dp || !fp || !sp) return prime_error(".npy: header lacks descr, fortran_order or shape");
    const char *q = strchr(dp + 7, '\'');
    if (!q) return prime_error(".npy: bad descr");
    char descr[16] = {0};
    const char *q2 = strchr(q + 1, '\'');
    if (!q2 || q2 - q - 1 >= (long)sizeof descr) return prime_error(".npy: bad descr");
    memcpy(descr, q + 1, (size_t)(q2 - q - 1));
    if (strstr(fp, "True") && strstr(fp, "True") < fp + 25) return prime_error(".npy: Fortran order not supported (save with C order)");
    const char *par = strchr(sp, '(');
    if (!par) return prime_error(".npy: bad shape");
    int nd = 0;
    size_t count = 1;
    const char *s = par + 1;
    while (*s && *s != ')') {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        if (*s < '0' || *s > '9') return prime_error(".npy: bad shape");
        unsigned long long v = strtoull(s, (char **)&s, 10);
        if (nd >= 8) return prime_error(".npy: more than 8 dimensions");
        if (v > 100000000ull) return prime_error(".npy: dimension %llu too large", v);
        shape[nd++] = (int)v;
        count *= (size_t)v;
        if (count > 100000000u) return prime_error(".npy: array too large");
    }
    int size, kind; /* kind: 0 float, 1 signed, 2 unsigned, 3 bool */
    int le = descr[0] == '<' || descr[0] == '|' || descr[0] == '=';
    if (!le) return prime_error(".npy: dtype %s is not little-endian", descr);
    if (!strcmp(descr + 1, "f4")) size = 4, kind = 0, *dtype = PRIME_DT_F32;
    else if (!strcmp(descr + 1, "f8")) size = 8, kind = 0, *dtype = PRIME_DT_F64;
    else if (!strcmp(descr + 1, "u1")) size = 1, kind = 2, *dtype = PRIME_DT_U8;
    else if (!strcmp(descr + 1, "b1")) size = 1, kind = 3, *dtype = PRIME_DT_BOOL;
    else if (!strcmp(descr + 1, "i1")) size = 1, kind = 1, *dtype = PRIME_DT_I8;
    else if (!strcmp(descr + 1, "i4")) size = 4, kind = 1, *dtype = PRIME_DT_I32;
    else if (!strcmp(descr + 1, "i8")) size = 8, kind = 1, *dtype = PRIME_DT_I64;
    else return prime_error(".npy: dtype %s not supported (f4, f8, u1, b1, i1, i4, i8)", descr);
    size_t off = hoff + hlen;
    if (count * (size_t)size > n - off) return prime_error(".npy: data truncated (%zu of %zu bytes)", n - off, count * (size_t)size);
    float *out = malloc((count ? count : 1) * sizeof(float));
    if (!out) return prime_error(".npy: out of memory");
    const uint8_t *p = b + off;
    for (size_t i = 0; i < count; i++, p += size) {
        if (kind == 0 && size == 4) { memcpy(&out[i], p, 4); }
        else if (kind == 0) { double v; memcpy(&v, p, 8); out[i] = (float)v; }
        else if (size == 1) out[i] = kind == 1 ? (float)(int8_t)p[0] : (float)p[0];
        else if (size == 4) { int32_t v; memcpy(&v, p, 4); out[i] = (float)v; }
        else { int64_t v; memcpy(&v, p, 8); out[i] = (float)v; }
    }
    *data = out, *ndim = nd;
    return 0;
}


/* Converts a PyTorch-layout array of weight layer l ([out][in][k][k] or
 * [out][in]) to matrix order [row][col]; 0 or -1. */
static int to_matrix(const prime_ctx *c, int l, const float *src, const int *shape, int nd, float *dst, const char *name) {
    const prime_layer *L = &c->arch.layers[l];
    const int rows = prime_layer_rows(L), cols = prime_layer_cols(L);
    if (L->op == PRIME_OP_CONV) {
        if (nd != 4 || shape[0] != L->out_c || shape[1] != L->in_c || shape[2] != L->k || shape[3] != L->k)
            return prime_error("%s: shape must be (%d, %d, %d, %d) for layer %d", name, L->out_c, L->in_c, L->k, L->k, l);
    } else if (nd != 2 || shape[0] != cols || shape[1] != rows)
        return prime_error("%s: shape must be (%d, %d) for layer %d", name, cols, rows, l);
    for (int o = 0; o < cols; o++)
        for (int r = 0; r < rows; r++) dst[(size_t)r * cols + o] = src[(size_t)o * rows + r];
    return 0;
}

/* Imports "mask<i>" / "weight<i>" / "gpos<i>" / "gneg<i>" arrays (i = index
 * among weight layers, PyTorch layout) from a stored .npz into ctx; returns
 * the number of arrays used, or -1. */
int prime_import_npz(prime_ctx *c, const uint8_t *b, size_t n) {
    if (!c || !b) return prime_error("prime_import_npz: NULL argument");
    int widx[PRIME_MAX_LAYERS], nwl = 0, used = 0;
    if (!prime_zip_is_zip(b, n)) {
        if (n >= 6 && !memcmp(b, "\x93NUMPY", 6))
            return prime_error(".npz expected, got a single .npy: wrap it with numpy.savez(path, mask0=...)");
        if (n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5)
            return prime_error(".npz expected, got a pickle (a legacy torch.save file?): re-save it with torch >= 1.6 and import it with prime import / prime_import_model");
        return prime_error(".npz: not a zip file, or truncated (no end-of-central-directory record)");
    }
    prime_zip z;
    if (prime_zip_open(&z, b, n, ".npz") != 0) return -1;
    for (int k = 0; k < z.count; k++) {
        const char *nm = z.e[k].name, *sl = strrchr(nm, '/');
        if (sl && !strcmp(sl + 1, "data.pkl")) {
            prime_error(".npz expected, got a PyTorch checkpoint (torch.save zip with %s): import it with prime import CKPT OUT, "
                               "prime_import_model or P.importModel", nm);
            prime_zip_close(&z);
            return -1;
        }
    }
    for (int l = 0; l < c->arch.n_layers; l++)
        if (c->w[l].rows) widx[nwl++] = l;
    for (int zi = 0; zi < z.count; zi++) {
        const char *name = z.e[zi].name;
        /* kind: 1 mask, 2 weight, 3 gpos, 4 gneg (measured conductance map) */
        int kind = !strncmp(name, "mask", 4) ? 1 : !strncmp(name, "weight", 6) ? 2 : !strncmp(name, "gpos", 4) ? 3
                 : !strncmp(name, "gneg", 4) ? 4 : 0;
        int is_mask = kind == 1;
        if (!kind) {
            prime_error(".npz: entry %s matches no layer (expected mask<i>, weight<i>, gpos<i> or gneg<i>, i in 0..%d)", name, nwl - 1);
            prime_zip_close(&z);
            return -1;
        }
        {
            size_t plen = kind == 2 ? 6 : 4;
            char *end;
            long i = strtol(name + plen, &end, 10);
            if (end == name + plen || strcmp(end, ".npy") || i < 0 || i >= nwl) {
                prime_error(".npz: entry %s: expected mask<i>, weight<i>, gpos<i> or gneg<i> (.npy) with i in 0..%d", name, nwl - 1);
                prime_zip_close(&z);
                return -1;
            }
            int l = widx[i];
            float *arr = NULL;
            int shape[8], nd;
            uint8_t *eb;
            size_t en;
            if (prime_zip_read(&z, zi, &eb, &en) != 0) { prime_zip_close(&z); return -1; }
            int prc = prime_npy_read(eb, en, &arr, shape, &nd);
            free(eb);
            if (prc != 0) {
                prime_error(".npz: %s: %s", name, prime_last_error());
                prime_zip_close(&z);
                return -1;
            }
            size_t nw = prime_layer_weights(&c->arch.layers[l]);
            float *m = malloc(nw * sizeof(float));
            int rc = m ? to_matrix(c, l, arr, shape, nd, m, name) : prime_error("out of memory");
            free(arr);
            if (rc == 0 && is_mask) {
                uint8_t *mk = malloc(nw);
                if (!mk) rc = prime_error("out of memory");
                else {
                    for (size_t k = 0; k < nw; k++) mk[k] = m[k] != 0.0f;
                    rc = prime_set_mask(c, l, mk, nw);
                    free(mk);
                }
            } else if (rc == 0 && kind >= 3) {
                /* one side of a measured map: the other side stays as formed */
                float *g = malloc(nw * sizeof(float) * 2);
                if (!g) rc = prime_error("out of memory");
                else {
                    float *gp = g, *gn = g + nw;
                    const wlayer *w = &c->w[l];
                    memcpy(gp, w->gp_on, nw * sizeof(float));
                    memcpy(gn, w->gn_on, nw * sizeof(float));
                    memcpy(kind == 3 ? gp : gn, m, nw * sizeof(float));
                    rc = prime_set_conductances(c, l, gp, gn, nw);
                    free(g);
                }
            } else if (rc == 0) {
                float *gp = malloc(nw * sizeof(float) * 2);
                if (!gp) rc = prime_error("out of memory");
                else {
                    float *gn = gp + nw, gm = c->dev.g_mean;
                    for (size_t k = 0; k < nw; k++) {
                        if (!isfinite(m[k])) { rc = prime_error(".npz: %s has a non-finite value", name); break; }
                        float half = m[k] * 0.5f;
                        gp[k] = gm + half, gn[k] = gm - half;
                        if (gp[k] < 0) gn[k] -= gp[k], gp[k] = 0;
                        if (gn[k] < 0) gp[k] -= gn[k], gn[k] = 0;
                    }
                    if (rc == 0) rc = prime_set_conductances(c, l, gp, gn, nw);
                    free(gp);
                }
            }
            free(m);
            if (rc != 0) { prime_zip_close(&z); return -1; }
            used++;
        }
    }
    prime_zip_close(&z);
    if (used == 0) return prime_error(".npz: no mask<i>, weight<i>, gpos<i> or gneg<i> arrays found");
    return used;
}
