/* prime_npz.c - the NumPy .npy reader and the .npz importer into an existing
 * classifier (prime_import_npz; docs/model-format.md, "Importing"). Moved out
 * of prime_model.c unchanged when the model file grew its version-2 container. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_internal.h"
#include "prime_archive.h"

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
        if (c->g->n[0][c->node[l]].rows) widx[nwl++] = l;
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
                    const pg_node *w = &c->g->n[0][c->node[l]];
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
                    float *gn = gp + nw, gm = c->g->dev.g_mean;
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
