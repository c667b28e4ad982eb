/* prime_graph_io.c - the graph model file (docs/graph.md, "File").
 *
 *   "PRIMEMDL"  u32 version 2  u32 total bytes  u32 kind "GRPH"
 *   section GDSC: the description (graphs, nodes, T, readout)
 *   section GDEV: the device, field by field (table below)
 *   section GRUN: the run defaults
 *   section GPRM: per weight node: measured flag, mask bits, measured
 *                 conductances (G+, G-) or digital weights, bias; per affine
 *                 node a and b
 *   u32 CRC-32 of every byte before it
 *
 * Each section is u32 tag, u32 length, payload; every number little-endian.
 * The reader checks the size, the CRC, every tag and length, then every
 * field: the first bad one is named in the error and nothing is kept. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_archive.h"
#include "prime_graph_internal.h"
#include "prime_internal.h"
#include "prime_modelfile.h"

#define GRAPH_KIND 0x48505247u /* "GRPH" */
#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

/* ------------------------------------------------------------ field tables */

enum { F_I32, F_F32, F_U64 };
typedef struct { const char *name; int type; size_t off; } gfield;

#define NF(f, t) {#f, t, offsetof(prime_gnode, f)}
static const gfield node_fields[] = {
    NF(op, F_I32), NF(in[0], F_I32), NF(in[1], F_I32), NF(c, F_I32), NF(h, F_I32), NF(w, F_I32),
    NF(k, F_I32), NF(stride, F_I32), NF(pad, F_I32), NF(out_pad, F_I32), NF(bias, F_I32),
    NF(crossbar, F_I32), NF(scale, F_F32), NF(sparsity, F_F32), NF(neuron, F_I32), NF(th, F_F32),
    NF(decay, F_F32), NF(leak, F_F32), NF(tau, F_F32), NF(qbits, F_I32), NF(qmax, F_F32),
    NF(sub[0], F_I32), NF(sub[1], F_I32), NF(mode, F_I32), NF(key, F_I32), NF(nkey, F_I32),
};
#define DF(f, t) {#f, t, offsetof(prime_device, f)}
static const gfield dev_fields[] = {
    DF(chip_seed, F_U64), DF(g_dist, F_I32), DF(g_mean, F_F32), DF(g_sd, F_F32), DF(g_off, F_F32),
    DF(g_off_sd, F_F32), DF(g_max, F_F32), DF(prog_noise, F_F32), DF(stuck_on, F_F32), DF(stuck_off, F_F32),
    DF(read_noise, F_F32), DF(noise_mode, F_I32), DF(adc_bits, F_I32), DF(adc_fs, F_F32), DF(dac_bits, F_I32),
    DF(v_read, F_F32), DF(e_cell_pj, F_F32), DF(e_adc_fom_fj, F_F32), DF(e_dac_pj, F_F32),
    DF(e_neuron_pj, F_F32), DF(e_mac_pj, F_F32),
};
#define RF(f, t) {#f, t, offsetof(prime_grun, f)}
static const gfield run_fields[] = {
    RF(policy, F_I32), RF(alpha, F_F32), RF(threshold, F_F32), RF(m_div, F_F32), RF(m_th, F_F32),
    RF(m_window, F_I32), RF(min_steps, F_I32), RF(ideal, F_I32), RF(generate, F_I32),
    RF(noise_seed, F_U64), RF(latent_seed, F_U64),
};
#define GF(f, t) {#f, t, offsetof(prime_gdesc, f)}
static const gfield desc_fields[] = {
    GF(n_graphs, F_I32), GF(T, F_I32), GF(out_node, F_I32), GF(readout, F_I32), GF(out_decay, F_F32),
    GF(anchored, F_I32), GF(in_dac, F_I32), GF(macs_conn, F_I32),
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static size_t fields_bytes(const gfield *f, size_t n) {
    size_t b = 0;
    for (size_t i = 0; i < n; i++) b += f[i].type == F_U64 ? 8 : 4;
    return b;
}

/* ------------------------------------------------------------ writer */

static void w32(prime_buf *b, uint32_t v) {
    const uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    prime_buf_put(b, x, 4);
}
static void wfloats(prime_buf *b, const float *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        w32(b, u);
    }
}
static void wfields(prime_buf *b, const void *s, const gfield *f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)s + f[i].off;
        if (f[i].type == F_U64) {
            uint64_t v;
            memcpy(&v, p, 8);
            w32(b, (uint32_t)v), w32(b, (uint32_t)(v >> 32));
        } else {
            uint32_t v;
            memcpy(&v, p, 4);
            w32(b, v);
        }
    }
}
/* Starts a section: tag and a length patched by sec_end. */
static size_t sec_begin(prime_buf *b, uint32_t tag) {
    w32(b, tag), w32(b, 0);
    return b->n;
}
static void sec_end(prime_buf *b, size_t at) {
    if (b->oom) return;
    uint32_t len = (uint32_t)(b->n - at);
    for (int k = 0; k < 4; k++) b->p[at - 4 + k] = (uint8_t)(len >> (8 * k));
}

/* Serializes a graph model (malloc'ed, prime_free_buffer); 0 or -1. */
int prime_graph_save(const prime_gmodel *m, uint8_t **out, size_t *n) {
    if (!m || !out || !n) return prime_error("prime_graph_save: NULL argument");
    prime_buf b = {0};
    prime_buf_put(&b, "PRIMEMDL", 8);
    w32(&b, 2), w32(&b, 0), w32(&b, GRAPH_KIND);
    size_t s = sec_begin(&b, TAG('G', 'D', 'S', 'C'));
    wfields(&b, &m->d, desc_fields, COUNT(desc_fields));
    for (int g = 0; g < m->d.n_graphs; g++) {
        w32(&b, (uint32_t)m->d.g[g].n);
        for (int i = 0; i < m->d.g[g].n; i++) wfields(&b, &m->d.g[g].node[i], node_fields, COUNT(node_fields));
    }
    sec_end(&b, s);
    s = sec_begin(&b, TAG('G', 'D', 'E', 'V'));
    wfields(&b, &m->dev, dev_fields, COUNT(dev_fields));
    sec_end(&b, s);
    s = sec_begin(&b, TAG('G', 'R', 'U', 'N'));
    wfields(&b, &m->run, run_fields, COUNT(run_fields));
    sec_end(&b, s);
    s = sec_begin(&b, TAG('G', 'P', 'R', 'M'));
    for (int g = 0; g < m->d.n_graphs; g++)
        for (int i = 0; i < m->d.g[g].n; i++) {
            const prime_gnode *N = &m->d.g[g].node[i];
            const pg_node *R = &m->n[g][i];
            const size_t nw = (size_t)R->rows * R->cols;
            if (N->op == PRIME_G_AFFINE) { wfloats(&b, R->aff_a, (size_t)N->oc), wfloats(&b, R->aff_b, (size_t)N->oc); continue; }
            if (!prime_graph_weighted(N)) continue;
            w32(&b, (uint32_t)R->measured);
            if (N->crossbar) {
                for (size_t j = 0; j < nw; j += 8) {
                    uint8_t byte = 0;
                    for (size_t q = 0; q < 8 && j + q < nw; q++) byte |= (uint8_t)(R->mask[j + q] << q);
                    prime_buf_put(&b, &byte, 1);
                }
                if (R->measured) wfloats(&b, R->gp_on, nw), wfloats(&b, R->gn_on, nw);
            } else wfloats(&b, R->wt, nw);
            if (N->bias) wfloats(&b, R->bias, (size_t)R->cols);
        }
    sec_end(&b, s);
    if (!b.oom && b.n + 4 > UINT32_MAX) { free(b.p); return prime_error("graph model file over 4 GB"); }
    if (!b.oom) {
        const uint32_t total = (uint32_t)(b.n + 4);
        for (int k = 0; k < 4; k++) b.p[12 + k] = (uint8_t)(total >> (8 * k));
        w32(&b, prime_crc32(b.p, b.n));
    }
    if (b.oom) { free(b.p); return prime_error("out of memory saving the graph model"); }
    *out = b.p, *n = b.n;
    return 0;
}

/* ------------------------------------------------------------ reader */

typedef struct {
    const uint8_t *p;
    size_t n, off;
} gcur;

static int r32(gcur *c, uint32_t *v) {
    if (c->n - c->off < 4) return -1;
    const uint8_t *q = c->p + c->off;
    *v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
    c->off += 4;
    return 0;
}
/* Reads fields into struct s; the payload length was checked by the caller. */
static void rfields(gcur *c, void *s, const gfield *f, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = (uint8_t *)s + f[i].off;
        uint32_t lo = 0, hi = 0;
        r32(c, &lo);
        if (f[i].type == F_U64) {
            r32(c, &hi);
            uint64_t v = (uint64_t)lo | (uint64_t)hi << 32;
            memcpy(p, &v, 8);
        } else memcpy(p, &lo, 4);
    }
}
/* Opens section `tag` at the cursor: its payload must be `want` bytes (0: any, *len set). */
static int sec_open(gcur *c, uint32_t tag, const char *name, uint64_t want, size_t *len) {
    uint32_t t, l;
    if (r32(c, &t) || r32(c, &l)) return prime_error("graph model file: truncated before section %s", name);
    if (t != tag) return prime_error("graph model file: section %s expected at byte %zu, found tag 0x%08x", name, c->off - 8, t);
    if (l > c->n - c->off) return prime_error("graph model file: section %s of %u bytes runs past the end", name, l);
    if (want && l != want) return prime_error("graph model file: section %s has %u bytes, %llu expected", name, l, (unsigned long long)want);
    if (len) *len = l;
    return 0;
}

int prime_graph_is_file(const uint8_t *b, size_t n) {
    return b && n >= 20 && !memcmp(b, "PRIMEMDL", 8) && b[8] == 2 && !b[9] && !b[10] && !b[11] &&
           !memcmp(b + 16, "GRPH", 4);
}

static int read_floats(gcur *c, float *v, size_t n) {
    for (size_t j = 0; j < n; j++) {
        uint32_t u;
        if (r32(c, &u)) return -1;
        memcpy(&v[j], &u, 4);
    }
    return 0;
}

/* Reads the parameter section into m; 0 or -1 naming the node and field. */
static int read_params(prime_gmodel *m, gcur *c) {
    float *tmp = NULL;
    size_t cap = 0;
    int rc = 0;
    for (int g = 0; rc == 0 && g < m->d.n_graphs; g++)
        for (int i = 0; rc == 0 && i < m->d.g[g].n; i++) {
            const prime_gnode *N = &m->d.g[g].node[i];
            pg_node *R = &m->n[g][i];
            size_t nw = (size_t)R->rows * R->cols, need = N->op == PRIME_G_AFFINE ? (size_t)N->oc : nw;
            if (N->op != PRIME_G_AFFINE && !prime_graph_weighted(N)) continue;
            if (need > cap) {
                free(tmp);
                tmp = malloc((need ? need : 1) * sizeof(float));
                cap = need;
                if (!tmp) return prime_error("out of memory reading the graph model");
            }
            const char *what[2] = {"affine_a", "affine_b"};
            if (N->op == PRIME_G_AFFINE) {
                for (int k = 0; rc == 0 && k < 2; k++) {
                    read_floats(c, tmp, need);
                    rc = prime_graph_set_param(m, g, i, what[k], tmp, need);
                }
                continue;
            }
            uint32_t meas = 0;
            r32(c, &meas);
            if (meas > 1 || (meas && !N->crossbar)) { rc = prime_error("graph %d node %d: measured flag %u (0 or 1, crossbar only)", g, i, meas); break; }
            if (N->crossbar) {
                for (size_t j = 0; j < nw; j++) tmp[j] = (float)((c->p[c->off + j / 8] >> (j % 8)) & 1);
                c->off += (nw + 7) / 8;
                rc = prime_graph_set_param(m, g, i, "mask", tmp, nw);
                if (meas) {
                    read_floats(c, tmp, nw);
                    if (rc == 0) rc = prime_graph_set_param(m, g, i, "gpos", tmp, nw);
                    read_floats(c, tmp, nw);
                    if (rc == 0) rc = prime_graph_set_param(m, g, i, "gneg", tmp, nw);
                }
            } else {
                read_floats(c, tmp, nw);
                rc = prime_graph_set_param(m, g, i, "weight", tmp, nw);
            }
            if (rc == 0 && N->bias) {
                read_floats(c, tmp, (size_t)R->cols);
                rc = prime_graph_set_param(m, g, i, "bias", tmp, (size_t)R->cols);
            }
        }
    free(tmp);
    return rc;
}

/* Reads a graph model file; NULL + an error naming the first bad field. */
prime_gmodel *prime_graph_load(const uint8_t *b, size_t n) {
    if (!b) { prime_error("prime_graph_load: NULL argument"); return NULL; }
    if (n < 24 || memcmp(b, "PRIMEMDL", 8)) { prime_error("graph model file: %s", n < 24 ? "truncated header" : "bad magic (not a PRIME model file)"); return NULL; }
    gcur c = {b, n, 8};
    uint32_t ver, total, kind;
    r32(&c, &ver), r32(&c, &total), r32(&c, &kind);
    if (ver != 2) { prime_error("graph model file: version %u (this reader: 2)", ver); return NULL; }
    if (kind != GRAPH_KIND) { prime_error("graph model file: kind 0x%08x is not a graph (a classifier file: prime_load)", kind); return NULL; }
    if (total != n) { prime_error("graph model file: header says %u bytes, the file has %zu (truncated or padded)", total, n); return NULL; }
    if (prime_mf_crc_bad(b, n)) { prime_error("graph model file: CRC mismatch (corrupted)"); return NULL; }
    c.n = n - 4;
    size_t len;
    prime_gdesc d;
    memset(&d, 0, sizeof d);
    if (sec_open(&c, TAG('G', 'D', 'S', 'C'), "GDSC", 0, &len) != 0) return NULL;
    const size_t end = c.off + len, hb = fields_bytes(desc_fields, COUNT(desc_fields)), nb = fields_bytes(node_fields, COUNT(node_fields));
    if (len < hb) { prime_error("graph model file: section GDSC of %zu bytes is shorter than its header", len); return NULL; }
    rfields(&c, &d, desc_fields, COUNT(desc_fields));
    if (d.n_graphs < 1 || d.n_graphs > PRIME_G_MAX_GRAPHS) { prime_error("graph model file: n_graphs = %d out of 1..%d", d.n_graphs, PRIME_G_MAX_GRAPHS); return NULL; }
    for (int g = 0; g < d.n_graphs; g++) {
        uint32_t cnt;
        if (end - c.off < 4 || r32(&c, &cnt)) { prime_error("graph model file: GDSC ends before graph %d", g); return NULL; }
        if (cnt < 1 || cnt > PRIME_G_MAX_NODES) { prime_error("graph model file: graph %d has %u nodes (1..%d)", g, cnt, PRIME_G_MAX_NODES); return NULL; }
        if (end - c.off < (size_t)cnt * nb) { prime_error("graph model file: GDSC ends inside the nodes of graph %d", g); return NULL; }
        d.g[g].n = (int)cnt;
        for (uint32_t i = 0; i < cnt; i++) rfields(&c, &d.g[g].node[i], node_fields, COUNT(node_fields));
    }
    if (c.off != end) { prime_error("graph model file: GDSC has %zu bytes after the nodes", end - c.off); return NULL; }
    if (prime_graph_check(&d) != 0) { prime_error("graph model file: %s", prime_last_error()); return NULL; }
    prime_device dev;
    memset(&dev, 0, sizeof dev);
    if (sec_open(&c, TAG('G', 'D', 'E', 'V'), "GDEV", fields_bytes(dev_fields, COUNT(dev_fields)), NULL) != 0) return NULL;
    rfields(&c, &dev, dev_fields, COUNT(dev_fields));
    if (prime_device_check(&dev) != 0) { prime_error("graph model file: device: %s", prime_last_error()); return NULL; }
    prime_grun run;
    memset(&run, 0, sizeof run);
    if (sec_open(&c, TAG('G', 'R', 'U', 'N'), "GRUN", fields_bytes(run_fields, COUNT(run_fields)), NULL) != 0) return NULL;
    rfields(&c, &run, run_fields, COUNT(run_fields));
    prime_gmodel *m = prime_graph_create(&d, &dev);
    if (!m) { prime_error("graph model file: %s", prime_last_error()); return NULL; }
    if (prime_graph_set_run(m, &run) != 0) { prime_error("graph model file: run: %s", prime_last_error()); prime_graph_free(m); return NULL; }
    /* the parameter section's length depends on the measured flags: walk them first (exact, in order) */
    if (sec_open(&c, TAG('G', 'P', 'R', 'M'), "GPRM", 0, &len) != 0) { prime_graph_free(m); return NULL; }
    {
        gcur w = c;
        uint64_t exact = 0;
        for (int g = 0; g < d.n_graphs; g++)
            for (int i = 0; i < d.g[g].n; i++) {
                const prime_gnode *N = &m->d.g[g].node[i];
                const pg_node *R = &m->n[g][i];
                const uint64_t nw = (uint64_t)R->rows * R->cols;
                if (N->op == PRIME_G_AFFINE) { exact += 8 * (uint64_t)N->oc; continue; }
                if (!prime_graph_weighted(N)) continue;
                uint32_t meas = 0;
                if (exact + 4 <= len) { w.off = (size_t)(c.off + exact); r32(&w, &meas); }
                exact += 4 + (N->crossbar ? (nw + 7) / 8 + (meas == 1 ? 8 * nw : 0) : 4 * nw) + (N->bias ? 4 * (uint64_t)R->cols : 0);
            }
        if (len != exact) {
            prime_error("graph model file: section GPRM has %zu bytes, %llu expected", len, (unsigned long long)exact);
            prime_graph_free(m);
            return NULL;
        }
    }
    if (read_params(m, &c) != 0) { prime_error("graph model file: parameters: %s", prime_last_error()); prime_graph_free(m); return NULL; }
    if (c.off != c.n) { prime_error("graph model file: %zu bytes after the last section", c.n - c.off); prime_graph_free(m); return NULL; }
    return m;
}
