/* prime_modelfile.c - the model file version 2 container shared by every
 * network (prime_modelfile.h, docs/model-format.md): header, section walk,
 * CRC, and the sections two networks share (device, masks, conductance maps). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_opts.h"
#include "prime.h"
#include "prime_internal.h"
#include "prime_modelfile.h"

/* ============================================================ bytes */

uint32_t prime_mf_crc(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

void prime_wr_u32(prime_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    prime_buf_put(b, x, 4);
}
void prime_wr_u64(prime_buf *b, uint64_t v) { prime_wr_u32(b, (uint32_t)v), prime_wr_u32(b, (uint32_t)(v >> 32)); }
void prime_wr_f32(prime_buf *b, float f) {
    uint32_t v;
    memcpy(&v, &f, 4);
    prime_wr_u32(b, v);
}

uint32_t prime_rd_u32(prime_rbuf *r) {
    if (r->bad || r->off > r->n || r->n - r->off < 4) { r->bad = 1; return 0; }
    const uint8_t *q = r->p + r->off;
    r->off += 4;
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}
uint64_t prime_rd_u64(prime_rbuf *r) {
    uint64_t lo = prime_rd_u32(r);
    return lo | (uint64_t)prime_rd_u32(r) << 32;
}
float prime_rd_f32(prime_rbuf *r) {
    uint32_t v = prime_rd_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}
static void patch_u32(prime_buf *b, size_t at, uint32_t v) {
    if (b->oom || at + 4 > b->n) return;
    for (int k = 0; k < 4; k++) b->p[at + k] = (uint8_t)(v >> (8 * k));
}
static uint32_t peek_u32(const uint8_t *q) {
    return (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
}

/* ============================================================ writer */

void prime_mf_begin(prime_buf *b, uint32_t kind) {
    prime_buf_put(b, PRIME_MF_MAGIC, 8);
    prime_wr_u32(b, PRIME_MF_VERSION);
    prime_wr_u32(b, 0); /* size, patched by finish */
    prime_wr_u32(b, kind);
    prime_wr_u32(b, 0); /* section count, counted by section_end */
}

size_t prime_mf_section(prime_buf *b, const char *tag) {
    prime_buf_put(b, tag, 4);
    size_t at = b->n;
    prime_wr_u32(b, 0);
    return at;
}

void prime_mf_section_end(prime_buf *b, size_t at) {
    if (b->oom) return;
    patch_u32(b, at, (uint32_t)(b->n - at - 4));
    patch_u32(b, 20, peek_u32(b->p + 20) + 1);
}

int prime_mf_finish(prime_buf *b, uint8_t **out, size_t *n) {
    if (!b->oom && b->n + 4 > UINT32_MAX) { free(b->p); return prime_error("model file above 4 GiB"); }
    patch_u32(b, 12, (uint32_t)(b->n + 4));
    if (!b->oom) prime_wr_u32(b, prime_mf_crc(b->p, b->n));
    if (b->oom) { free(b->p); return prime_error("out of memory saving the model"); }
    *out = b->p, *n = b->n;
    return 0;
}

/* ============================================================ reader */

uint32_t prime_mf_kind(const uint8_t *b, size_t n) { return b && n >= 20 ? peek_u32(b + 16) : 0; }

int prime_mf_is_v2(const uint8_t *b, size_t n) {
    return b && n >= PRIME_MF_HEAD && !memcmp(b, PRIME_MF_MAGIC, 8) && peek_u32(b + 8) == PRIME_MF_VERSION &&
           peek_u32(b + 16) != 0;
}

int prime_mf_open(const uint8_t *b, size_t n, const prime_mf_spec *spec, int nspec, prime_mf *mf, const char *what) {
    memset(mf, 0, sizeof *mf);
    if (!b) return prime_error("%s: NULL bytes", what);
    if (n < 8 || memcmp(b, PRIME_MF_MAGIC, 8) != 0) return prime_error("%s: magic \"PRIMEMDL\" missing", what);
    if (n < PRIME_MF_HEAD + 4) return prime_error("%s truncated in its header (%zu bytes)", what, n);
    uint32_t version = peek_u32(b + 8), size = peek_u32(b + 12);
    if (version != PRIME_MF_VERSION) return prime_error("%s: version %u is not version 2", what, version);
    if (size != n)
        return prime_error("%s: file size %zu differs from the %u bytes its header declares (truncated or padded)", what, n,
                           size);
    if (prime_mf_crc_bad(b, n)) return prime_error("%s: checksum mismatch: the file is corrupted", what);
    mf->kind = peek_u32(b + 16);
    uint32_t count = peek_u32(b + 20);
    if (count > PRIME_MF_MAX_SECTIONS) return prime_error("%s: section count %u above %d", what, count, PRIME_MF_MAX_SECTIONS);
    size_t at = PRIME_MF_HEAD, end = n - 4;
    for (uint32_t i = 0; i < count; i++) {
        if (end - at < 8) return prime_error("%s: section %u of %u truncated (header)", what, i, count);
        prime_mf_sec *s = &mf->s[i];
        memcpy(s->tag, b + at, 4);
        s->tag[4] = 0;
        for (int k = 0; k < 4; k++)
            if (s->tag[k] < 0x20 || s->tag[k] > 0x7e) return prime_error("%s: section %u has a tag that is not text", what, i);
        s->n = peek_u32(b + at + 4);
        at += 8;
        if (s->n > end - at)
            return prime_error("%s: section '%s' declares %u bytes, %zu are left", what, s->tag, s->n, end - at);
        s->p = b + at;
        at += s->n;
    }
    if (at != end) return prime_error("%s: %zu bytes after the last of its %u sections", what, end - at, count);
    mf->count = (int)count;
    /* against the table: known, in its order, once; the required ones present */
    int next = 0;
    for (int i = 0; i < mf->count; i++) {
        int k = 0;
        while (k < nspec && strcmp(spec[k].tag, mf->s[i].tag)) k++;
        if (k == nspec) return prime_error("%s: section '%s' is not one of this network's", what, mf->s[i].tag);
        if (k < next) return prime_error("%s: section '%s' is out of order or repeated", what, mf->s[i].tag);
        for (int j = next; j < k; j++)
            if (spec[j].required) return prime_error("%s: section '%s' missing", what, spec[j].tag);
        next = k + 1;
    }
    for (int j = next; j < nspec; j++)
        if (spec[j].required) return prime_error("%s: section '%s' missing", what, spec[j].tag);
    return 0;
}

const prime_mf_sec *prime_mf_get(const prime_mf *mf, const char *tag) {
    for (int i = 0; i < mf->count; i++)
        if (!strcmp(mf->s[i].tag, tag)) return &mf->s[i];
    return NULL;
}

prime_rbuf prime_mf_reader(const prime_mf_sec *s) {
    prime_rbuf r = {s ? s->p : NULL, s ? s->n : 0, 0, 0};
    return r;
}

int prime_mf_done(const prime_rbuf *r, const char *what, const char *tag) {
    if (r->bad) return prime_error("%s: section '%s' is shorter than its contents need", what, tag);
    if (r->off != r->n) return prime_error("%s: section '%s' has %zu bytes more than its contents need", what, tag, r->n - r->off);
    return 0;
}

/* ============================================================ shared sections */

void prime_mf_put_device(prime_buf *b, const prime_device *d) {
    prime_wr_u64(b, d->chip_seed);
    prime_wr_u32(b, (uint32_t)d->g_dist);
    prime_wr_f32(b, d->g_mean), prime_wr_f32(b, d->g_sd), prime_wr_f32(b, d->g_off), prime_wr_f32(b, d->g_off_sd);
    prime_wr_f32(b, d->g_max), prime_wr_f32(b, d->prog_noise), prime_wr_f32(b, d->stuck_on), prime_wr_f32(b, d->stuck_off);
    prime_wr_f32(b, d->read_noise);
    prime_wr_u32(b, (uint32_t)d->noise_mode), prime_wr_u32(b, (uint32_t)d->adc_bits);
    prime_wr_f32(b, d->adc_fs);
    prime_wr_u32(b, (uint32_t)d->dac_bits);
    prime_wr_f32(b, d->v_read), prime_wr_f32(b, d->e_cell_pj), prime_wr_f32(b, d->e_adc_fom_fj);
    prime_wr_f32(b, d->e_dac_pj), prime_wr_f32(b, d->e_neuron_pj), prime_wr_f32(b, d->e_mac_pj);
}

int prime_mf_get_device(prime_rbuf *r, prime_device *d, const char *what) {
    memset(d, 0, sizeof *d);
    d->chip_seed = prime_rd_u64(r);
    uint32_t dist = prime_rd_u32(r);
    d->g_mean = prime_rd_f32(r), d->g_sd = prime_rd_f32(r), d->g_off = prime_rd_f32(r), d->g_off_sd = prime_rd_f32(r);
    d->g_max = prime_rd_f32(r), d->prog_noise = prime_rd_f32(r), d->stuck_on = prime_rd_f32(r), d->stuck_off = prime_rd_f32(r);
    d->read_noise = prime_rd_f32(r);
    uint32_t mode = prime_rd_u32(r), adc = prime_rd_u32(r);
    d->adc_fs = prime_rd_f32(r);
    uint32_t dac = prime_rd_u32(r);
    d->v_read = prime_rd_f32(r), d->e_cell_pj = prime_rd_f32(r), d->e_adc_fom_fj = prime_rd_f32(r);
    d->e_dac_pj = prime_rd_f32(r), d->e_neuron_pj = prime_rd_f32(r), d->e_mac_pj = prime_rd_f32(r);
    if (r->bad) return prime_error("%s truncated in the device parameters", what);
    /* enums and ints through u32: out-of-range words must not wrap into range */
    if (dist > 1) return prime_error("%s: device g_dist = %u (0 normal, 1 lognormal)", what, dist);
    if (mode > 1) return prime_error("%s: device noise_mode = %u (0 column, 1 cell)", what, mode);
    if (adc > 64) return prime_error("%s: device adc_bits = %u out of range", what, adc);
    if (dac > 64) return prime_error("%s: device dac_bits = %u out of range", what, dac);
    d->g_dist = (enum prime_dist)dist, d->noise_mode = (enum prime_noise_mode)mode;
    d->adc_bits = (int)adc, d->dac_bits = (int)dac;
    if (prime_device_check(d) != 0) return prime_error("%s: %s", what, prime_last_error());
    return 0;
}

void prime_mf_put_mask(prime_buf *b, const uint8_t *mask, size_t n) {
    prime_wr_u32(b, (uint32_t)n), prime_wr_u32(b, (uint32_t)((n + 7) / 8));
    uint8_t byte = 0;
    for (size_t k = 0; k < n; k++) {
        if (mask[k]) byte |= (uint8_t)(1u << (k & 7));
        if ((k & 7) == 7 || k + 1 == n) prime_buf_put(b, &byte, 1), byte = 0;
    }
}

int prime_mf_get_mask(prime_rbuf *r, uint8_t *mask, size_t n, const char *what, const char *layer) {
    size_t nb = (n + 7) / 8;
    uint32_t fw = prime_rd_u32(r), fb = prime_rd_u32(r);
    if (r->bad) return prime_error("%s truncated before the mask of layer %s", what, layer);
    if (fw != n || fb != nb)
        return prime_error("%s: mask of layer %s holds %u weights in %u bytes, the architecture needs %zu in %zu", what, layer,
                           fw, fb, n, nb);
    if (r->n - r->off < nb) { r->bad = 1; return prime_error("%s truncated in the mask of layer %s", what, layer); }
    for (size_t k = 0; k < n; k++) mask[k] = (r->p[r->off + k / 8] >> (k & 7)) & 1;
    r->off += nb;
    return 0;
}

void prime_mf_put_map(prime_buf *b, int stored, const float *gpos, const float *gneg, size_t n) {
    prime_wr_u32(b, stored ? 1u : 0u);
    if (!stored) return;
    prime_wr_u32(b, (uint32_t)n);
    for (size_t k = 0; k < n; k++) prime_wr_f32(b, gpos[k]);
    for (size_t k = 0; k < n; k++) prime_wr_f32(b, gneg[k]);
}

int prime_mf_get_map(prime_rbuf *r, size_t n, float **g, const char *what, const char *layer) {
    *g = NULL;
    uint32_t flag = prime_rd_u32(r);
    if (r->bad) return prime_error("%s truncated in the conductance section (flag of layer %s)", what, layer);
    if (flag > 1) return prime_error("%s: conductance flag of layer %s is %u (0 formed, 1 stored)", what, layer, flag);
    if (!flag) return 0;
    uint32_t fw = prime_rd_u32(r);
    if (r->bad) return prime_error("%s truncated in the conductance section (pairs of layer %s)", what, layer);
    if (fw != n)
        return prime_error("%s: conductance map of layer %s holds %u pairs, the architecture needs %zu", what, layer, fw, n);
    if ((r->n - r->off) / 8 < n) { r->bad = 1; return prime_error("%s truncated in the conductance map of layer %s", what, layer); }
    float *m = malloc(2 * n * sizeof(float) + 1);
    if (!m) return prime_error("out of memory reading the conductance map of layer %s", layer);
    for (size_t k = 0; k < 2 * n; k++) {
        m[k] = prime_rd_f32(r);
        if (!(m[k] >= 0 && m[k] < PRIME_MF_MAX_G)) {
            prime_error("%s: conductance map of layer %s: %s[%zu] = %g is not a conductance in [0, 1e6) uS", what, layer,
                        k < n ? "gpos" : "gneg", k % n, (double)m[k]);
            free(m);
            return -1;
        }
    }
    *g = m;
    return 0;
}

int prime_mf_get_floats(prime_rbuf *r, float *dst, size_t n, const char *what, const char *name) {
    if ((r->n - r->off) / 4 < n) { r->bad = 1; return prime_error("%s truncated in %s", what, name); }
    for (size_t k = 0; k < n; k++) {
        dst[k] = prime_rd_f32(r);
        if (!isfinite(dst[k])) return prime_error("%s: %s[%zu] = %g is not finite", what, name, k, (double)dst[k]);
    }
    return 0;
}

int prime_mf_put_devfx(prime_buf *b, const prime_device *d, const prime_devfx_params *fx) {
    char t[PRIME_MF_DVFX_MAX];
    const int n = prime_devfx_to_text(d, fx, t, sizeof t);
    if (n < 0) return prime_error("saving the model: the device effects do not fit %d bytes", PRIME_MF_DVFX_MAX);
    if (n == 0) return 0; /* every effect off: no section */
    const size_t s = prime_mf_section(b, "DVFX");
    prime_buf_put(b, t, (size_t)n);
    prime_mf_section_end(b, s);
    return 0;
}

int prime_mf_apply_devfx(const prime_mf_sec *s, int (*set)(void *net, const char *const *kv, int n), void *net,
                         const char *what) {
    if (!s->n || s->n >= PRIME_MF_DVFX_MAX)
        return prime_error("%s: section 'DVFX' holds %u bytes (1 to %d of key=value lines)", what, s->n, PRIME_MF_DVFX_MAX - 1);
    if (memchr(s->p, 0, s->n)) return prime_error("%s: section 'DVFX' holds a NUL byte (key=value text lines)", what);
    char *t = malloc((size_t)s->n + 1);
    if (!t) return prime_error("%s: out of memory reading the device effects", what);
    memcpy(t, s->p, s->n), t[s->n] = 0;
    const char *kv[PRIME_MF_DVFX_LINES];
    int m = 0, rc = 0;
    for (char *p = t; *p && !rc;) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        if (*p) {
            if (m == PRIME_MF_DVFX_LINES) rc = prime_error("%s: section 'DVFX' holds more than %d settings", what, PRIME_MF_DVFX_LINES);
            else kv[m++] = p;
        }
        if (!e) break;
        p = e + 1;
    }
    if (!rc && set(net, kv, m) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", prime_last_error());
        rc = prime_error("%s: section 'DVFX': %s", what, msg);
    }
    free(t);
    return rc;
}

int prime_mf_load_end(const prime_mf *mf, int stored, int (*set)(void *net, const char *const *kv, int n), void *net,
                      const char *what) {
    if (prime_mf_get(mf, "COND") && !stored)
        return prime_error("%s: section 'COND' stores no conductance map (leave the section out)", what);
    const prime_mf_sec *fs = prime_mf_get(mf, "DVFX");
    return fs ? prime_mf_apply_devfx(fs, set, net, what) : 0;
}

int prime_mf_crc_bad(const uint8_t *b, size_t n) {
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* fuzz builds (tests/fuzz): mutations must reach the parser */
    return n < 4 || prime_mf_crc(b, n - 4) != peek_u32(b + n - 4);
#else
    (void)b, (void)n;
    return 0;
#endif
}

int prime_mf_want_kind(const uint8_t *b, size_t n, uint32_t want, const char *what) {
    const uint32_t kind = prime_mf_kind(b, n);
    if (kind == want || n < 20) return 0; /* a short file: prime_mf_open names what is missing */
    return prime_error("%s: network kind %u is not %s (%s)", what, kind,
                       want == PRIME_MODEL_CLASSIFIER ? "a classifier" : "an inpainting VAE",
                       kind == PRIME_MODEL_VAE          ? "an inpainting model: load it with prime_vae_load / P.load"
                       : kind == PRIME_MODEL_CLASSIFIER ? "a classifier: load it with prime_load / P.load"
                       : kind == PRIME_MODEL_GRAPH      ? PRIME_MF_GRAPH_MSG
                                                        : "unknown kind");
}

int prime_mf_put_dev(prime_buf *b, const prime_device *d, const prime_devfx_params *fx) {
    const size_t s = prime_mf_section(b, "DEV ");
    prime_mf_put_device(b, d);
    prime_mf_section_end(b, s);
    return prime_mf_put_devfx(b, d, fx);
}
