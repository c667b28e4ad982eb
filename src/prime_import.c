/* prime_import.c - models from PyTorch and NumPy in one call: tensor lists
 * from .pt (torch.save zip, prime_pickle.c), .npz (stored or compressed) and
 * .npy, and the key layouts of the PRIME authors' code recognized
 * (docs/model-format.md, "Importing"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_archive.h"

/* "float32", "int64", ... */
const char *prime_dtype_name(enum prime_dtype dt) {
    switch (dt) {
    case PRIME_DT_F32: return "float32";
    case PRIME_DT_F64: return "float64";
    case PRIME_DT_F16: return "float16";
    case PRIME_DT_I64: return "int64";
    case PRIME_DT_I32: return "int32";
    case PRIME_DT_I8: return "int8";
    case PRIME_DT_U8: return "uint8";
    case PRIME_DT_BOOL: return "bool";
    }
    return "unknown";
}

void prime_tensors_free(prime_tensor_list *l) {
    if (!l) return;
    for (int i = 0; l->t && i < l->n; i++) free(l->t[i].data);
    free(l->t);
    l->t = NULL, l->n = 0;
}

/* The tensor named `name`, or NULL. */
const prime_tensor *prime_tensors_find(const prime_tensor_list *l, const char *name) {
    for (int i = 0; l && i < l->n; i++)
        if (!strcmp(l->t[i].name, name)) return &l->t[i];
    return NULL;
}

/* Index of the "<prefix>/data.pkl" entry of a torch.save zip, or -1. */
static int find_pkl(const prime_zip *z) {
    for (int i = 0; i < z->count; i++) {
        const char *s = strchr(z->e[i].name, '/');
        if (s && !strcmp(s + 1, "data.pkl")) return i;
    }
    return -1;
}

/* Reads a torch.save zip into tensors; 0 or -1. */
int prime_pt_read(const uint8_t *b, size_t n, prime_tensor_list *out) {
    prime_zip z;
    if (prime_zip_open(&z, b, n, ".pt") != 0) return -1;
    int pi = find_pkl(&z);
    if (pi < 0) { prime_zip_close(&z); return prime_error(".pt: no <name>/data.pkl in the zip: not a torch.save checkpoint"); }
    char prefix[PRIME_ZIP_MAX_NAME + 1];
    size_t pl = (size_t)(strchr(z.e[pi].name, '/') - z.e[pi].name) + 1;
    memcpy(prefix, z.e[pi].name, pl);
    prefix[pl] = 0;
    if (z.e[pi].usize > PRIME_PICKLE_MAX_BYTES) {
        prime_error(".pt: data.pkl of %zu bytes (cap %u)", z.e[pi].usize, PRIME_PICKLE_MAX_BYTES);
        prime_zip_close(&z);
        return -1;
    }
    uint8_t *pkl;
    size_t len;
    int rc = prime_zip_read(&z, pi, &pkl, &len);
    if (rc == 0) {
        rc = prime_pickle_state_dict(pkl, len, &z, prefix, out);
        free(pkl);
    }
    prime_zip_close(&z);
    snprintf(out->format, sizeof out->format, "pt");
    return rc;
}

/* Reads every .npy entry of an .npz; 0 or -1. */
static int npz_read(const uint8_t *b, size_t n, prime_tensor_list *out) {
    prime_zip z;
    if (prime_zip_open(&z, b, n, ".npz") != 0) return -1;
    snprintf(out->format, sizeof out->format, "npz");
    if (z.count > PRIME_IMPORT_MAX_TENSORS) { prime_error(".npz: %d entries (cap %d)", z.count, PRIME_IMPORT_MAX_TENSORS); prime_zip_close(&z); return -1; }
    out->t = calloc(z.count ? (size_t)z.count : 1, sizeof *out->t);
    if (!out->t) { prime_zip_close(&z); return prime_error(".npz: out of memory"); }
    size_t total = 0;
    for (int i = 0; i < z.count; i++) {
        const char *name = z.e[i].name;
        size_t nl = strlen(name);
        if (nl < 5 || strcmp(name + nl - 4, ".npy") || nl - 4 > PRIME_TENSOR_MAX_NAME) {
            prime_error(".npz: entry %s is not a <name>.npy array", name);
            prime_zip_close(&z);
            return -1;
        }
        uint8_t *eb;
        size_t en;
        if (prime_zip_read(&z, i, &eb, &en) != 0) { prime_zip_close(&z); return -1; }
        prime_tensor *t = &out->t[out->n];
        int rc = prime_npy_read_typed(eb, en, &t->data, t->shape, &t->ndim, &t->dtype);
        free(eb);
        if (rc != 0) { prime_error(".npz: %s: %s", name, prime_last_error()); prime_zip_close(&z); return -1; }
        memcpy(t->name, name, nl - 4);
        t->name[nl - 4] = 0;
        t->count = 1;
        for (int d = 0; d < t->ndim; d++) t->count *= (size_t)t->shape[d];
        out->n++;
        total += t->count;
        if (total > PRIME_IMPORT_MAX_ELEMENTS) { prime_zip_close(&z); return prime_error(".npz: more than %u elements in all (cap)", PRIME_IMPORT_MAX_ELEMENTS); }
    }
    prime_zip_close(&z);
    return 0;
}

/* Reads the tensors of a .pt, .npz or .npy; 0 or -1 (the list freed). */
int prime_tensors_read(const uint8_t *b, size_t n, prime_tensor_list *out) {
    if (!b || !out) return prime_error("prime_tensors_read: NULL argument");
    memset(out, 0, sizeof *out);
    if (n > PRIME_IMPORT_MAX_BYTES) return prime_error("checkpoint of %zu bytes (cap %u)", n, PRIME_IMPORT_MAX_BYTES);
    int rc;
    if (prime_zip_is_zip(b, n)) {
        prime_zip z;
        if (prime_zip_open(&z, b, n, "zip") != 0) return -1;
        int pt = find_pkl(&z) >= 0;
        prime_zip_close(&z);
        rc = pt ? prime_pt_read(b, n, out) : npz_read(b, n, out);
    } else if (n >= 6 && !memcmp(b, "\x93NUMPY", 6)) {
        prime_tensor *t = calloc(1, sizeof *t);
        if (!t) return prime_error(".npy: out of memory");
        out->t = t;
        snprintf(out->format, sizeof out->format, "npy");
        snprintf(t->name, sizeof t->name, "array");
        rc = prime_npy_read_typed(b, n, &t->data, t->shape, &t->ndim, &t->dtype);
        if (rc == 0) {
            out->n = 1, t->count = 1;
            for (int d = 0; d < t->ndim; d++) t->count *= (size_t)t->shape[d];
        }
    } else if (n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5) {
        return prime_error("a bare pickle or a legacy (non-zip) torch.save file: re-save it with torch >= 1.6 (zip format), "
                           "e.g. torch.save(torch.load(f, map_location='cpu'), f2)");
    } else if (n >= 262 && !memcmp(b + 257, "ustar", 5)) {
        return prime_error("a legacy tar-format torch.save file: re-save it with torch >= 1.6 (zip format)");
    } else if (prime_zip_is_zip(b, n) == 0 && n >= 4 && !memcmp(b, "PK\x03\x04", 4)) {
        return prime_error("a zip without its end-of-central-directory record: the file is truncated");
    } else {
        return prime_error("not a checkpoint: expected a PyTorch .pt/.pth (torch.save zip), a NumPy .npz or a .npy");
    }
    if (rc != 0) prime_tensors_free(out);
    return rc;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The authors' mask rule (their layer.py): keep where |s| >= the k-th
 * smallest |s|, k = 1 + round(0.01 * q * (n - 1)), q = 100 * sparsity, in
 * Python's float arithmetic and round-half-even. 0 or -1. */
int prime_mask_from_scores(const float *s, size_t n, float sparsity, uint8_t *mask) {
    if (!s || !mask || n == 0) return prime_error("prime_mask_from_scores: bad argument");
    if (!(sparsity >= 0 && sparsity <= 1)) return prime_error("mask from scores: sparsity %g outside [0, 1]", sparsity);
    float *a = malloc(n * sizeof(float));
    if (!a) return prime_error("mask from scores: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(s[i])) { free(a); return prime_error("scores: value %zu is not finite", i); }
        a[i] = fabsf(s[i]);
    }
    qsort(a, n, sizeof(float), cmp_float);
    double q = (double)sparsity * 100.0;
    size_t k = 1 + (size_t)nearbyint(0.01 * q * (double)(n - 1)); /* ties to even, as Python's round */
    float kth = a[k - 1];
    free(a);
    for (size_t i = 0; i < n; i++) mask[i] = fabsf(s[i]) >= kth;
    return 0;
}

/* ------------------------------------------------------------ layouts */

/* The PRIME classification network's weight layers in the authors' keys. */
static const struct { const char *key; int layer; } clf_keys[] = {
    {"features.conv0", 0}, {"features.conv1", 2}, {"classifier.linear0", 4},
};

/* Key prefixes of the FSVAE state_dict of the authors' Inpainting code. */
static const char *const fsvae_prefixes[] = {"encoder.", "before_latent_layer.", "decoder_input.", "decoder.",
                                             "final_layer.", "prior.layers.", "posterior.layers."};

static int is_fsvae(const prime_tensor_list *l) {
    int hits = 0;
    for (int i = 0; i < l->n; i++)
        for (size_t p = 0; p < sizeof fsvae_prefixes / sizeof fsvae_prefixes[0]; p++)
            if (!strncmp(l->t[i].name, fsvae_prefixes[p], strlen(fsvae_prefixes[p]))) { hits++; break; }
    return hits > 0 && prime_tensors_find(l, "before_latent_layer.weight") != NULL;
}

static const char *shape_str(const prime_tensor *t, char *buf, size_t n) {
    size_t o = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < t->ndim && o < n; d++) o += (size_t)snprintf(buf + o, n - o, d ? ", %d" : "%d", t->shape[d]);
    if (o < n) snprintf(buf + o, n - o, t->ndim == 1 ? ",)" : ")");
    return buf;
}

/* Checks that t is a float tensor of the PyTorch shape of weight layer L. */
static int check_weight_tensor(const prime_tensor *t, const prime_layer *L) {
    char got[96];
    if (t->dtype != PRIME_DT_F32 && t->dtype != PRIME_DT_F64 && t->dtype != PRIME_DT_F16)
        return prime_error("entry %s has dtype %s, a float dtype (float32, float64, float16) is needed", t->name, prime_dtype_name(t->dtype));
    int ok = L->op == PRIME_OP_CONV
                 ? t->ndim == 4 && t->shape[0] == L->out_c && t->shape[1] == L->in_c && t->shape[2] == L->k && t->shape[3] == L->k
                 : t->ndim == 2 && t->shape[0] == prime_layer_cols(L) && t->shape[1] == prime_layer_rows(L);
    if (!ok) {
        if (L->op == PRIME_OP_CONV)
            return prime_error("entry %s has shape %s, the layer needs (%d, %d, %d, %d)", t->name, shape_str(t, got, sizeof got), L->out_c,
                               L->in_c, L->k, L->k);
        return prime_error("entry %s has shape %s, the layer needs (%d, %d)", t->name, shape_str(t, got, sizeof got), prime_layer_cols(L),
                           prime_layer_rows(L));
    }
    for (size_t i = 0; i < t->count; i++)
        if (!isfinite(t->data[i])) return prime_error("entry %s: value %zu is not finite", t->name, i);
    return 0;
}

/* The authors' classification state_dict -> weights and masks of c. */
static int import_classification(prime_ctx *c, const prime_tensor_list *l) {
    const prime_arch *a = prime_get_arch(c);
    const prime_tensor *w[3] = {0}, *s[3] = {0};
    for (int i = 0; i < l->n; i++) {
        const prime_tensor *t = &l->t[i];
        int found = 0;
        for (int k = 0; k < 3 && !found; k++) {
            size_t kl = strlen(clf_keys[k].key);
            if (strncmp(t->name, clf_keys[k].key, kl) || t->name[kl] != '.') continue;
            const char *f = t->name + kl + 1;
            const prime_tensor **slot = !strcmp(f, "weight") ? &w[k] : !strcmp(f, "scores") ? &s[k] : NULL;
            if (slot) *slot = t, found = 1;
        }
        if (!found)
            return prime_error("entry %s matches no layer of the PRIME classification network (features.conv0, features.conv1, "
                               "classifier.linear0, each .weight and .scores)", t->name);
    }
    for (int k = 0; k < 3; k++)
        if (!w[k] || !s[k]) return prime_error("entry %s.%s is missing (the classification layout needs weight and scores of every layer)",
                                               clf_keys[k].key, w[k] ? "scores" : "weight");
    prime_device d = prime_get_device(c);
    for (int k = 0; k < 3; k++) {
        const int li = clf_keys[k].layer;
        const prime_layer *L = &a->layers[li];
        if (check_weight_tensor(w[k], L) || check_weight_tensor(s[k], L)) return -1;
        const int rows = prime_layer_rows(L), cols = prime_layer_cols(L);
        const size_t nw = (size_t)rows * cols;
        float *gp = malloc(nw * 2 * sizeof(float));
        uint8_t *tm = malloc(nw * 2);
        if (!gp || !tm) { free(gp); free(tm); return prime_error("import: out of memory"); }
        float *gn = gp + nw;
        uint8_t *mk = tm + nw;
        int rc = prime_mask_from_scores(s[k]->data, nw, L->sparsity, tm);
        /* PyTorch [out][in...] -> matrix [row][col]; w = G+ - G-, G+- = g_mean +- w/2 */
        for (int o = 0; rc == 0 && o < cols; o++)
            for (int r = 0; r < rows; r++) {
                size_t src = (size_t)o * rows + r, dst = (size_t)r * cols + o;
                float half = w[k]->data[src] * 0.5f;
                float p = d.g_mean + half, q = d.g_mean - half;
                if (p < 0) q -= p, p = 0;
                if (q < 0) p -= q, q = 0;
                gp[dst] = p, gn[dst] = q, mk[dst] = tm[src];
            }
        if (rc == 0) rc = prime_set_conductances(c, li, gp, gn, nw);
        if (rc == 0) rc = prime_set_mask(c, li, mk, nw);
        free(gp);
        free(tm);
        if (rc != 0) return prime_error("layer %s: %s", clf_keys[k].key, prime_last_error());
    }
    return 0;
}

/* A model from a checkpoint in a known layout; NULL on error. */
prime_ctx *prime_import_model(const uint8_t *b, size_t n, const prime_device *dev) {
    if (!b) { prime_error("prime_import_model: NULL argument"); return NULL; }
    prime_tensor_list l;
    if (prime_tensors_read(b, n, &l) != 0) return NULL;
    prime_arch a = prime_arch_nmnist();
    prime_device d = dev ? *dev : prime_default_device();
    prime_ctx *c = NULL;
    if (l.n == 0) prime_error("%s: no tensors in the file", l.format);
    else if (is_fsvae(&l))
        prime_error("%s: the FSVAE state_dict of the PRIME authors' Inpainting code (%d tensors, e.g. %s) is a layer-graph model, "
                    "not a classifier: import it with prime_graph_import (`prime import CKPT OUT` writes a graph model file)",
                    l.format, l.n, l.t[0].name);
    else if (!strcmp(l.format, "npz") && (!strncmp(l.t[0].name, "mask", 4) || !strncmp(l.t[0].name, "weight", 6) ||
                                           !strncmp(l.t[0].name, "gpos", 4) || !strncmp(l.t[0].name, "gneg", 4))) {
        c = prime_create(&a, &d);
        if (c && prime_import_npz(c, b, n) < 0) { prime_free(c); c = NULL; }
    } else {
        c = prime_create(&a, &d);
        if (c && import_classification(c, &l) != 0) {
            prime_error("%s: %s", l.format, prime_last_error());
            prime_free(c);
            c = NULL;
        }
    }
    prime_tensors_free(&l);
    return c;
}
