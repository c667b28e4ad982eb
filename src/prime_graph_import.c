/* prime_graph_import.c - networks as graphs, and checkpoints into them
 * (docs/graph.md, "Import").
 *
 * prime_graph_fsvae: the PRIME authors' pruned FSVAE (their
 * Inpainting/fsvae_models, MNIST config) as three graphs; prime_graph_fashion:
 * the companion paper's Fashion-MNIST CNN (arXiv 2311.07164). The importer
 * maps a state_dict onto one of them by a table of key prefixes: weights to
 * measured conductances (G+ - G- = w) or digital weights, masks from scores
 * by the authors' rule (prime_mask_from_scores), biases, (td)BN folded into
 * an affine node. Entries that match no layer, missing entries, wrong shapes
 * and wrong dtypes are errors that name the entry. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_graph_internal.h"

#define VTH 0.2f /* the authors' Vth, a factor of tdBN (snn_layers.py) */

/* ============================================================ networks */

/* Adds a weight node and, when `aff`, an affine node with neuron `neu` after it. */
static void wnode(prime_gdesc *d, int g, int op, int c, int k, int s, int p, int op_pad, int xbar, int aff, int neu) {
    prime_gnode *n = prime_gdesc_add(d, g, op);
    n->c = c, n->k = k, n->stride = s, n->pad = p, n->out_pad = op_pad, n->crossbar = xbar, n->scale = 0.003f;
    n->bias = 1;
    if (!aff) return;
    n = prime_gdesc_add(d, g, PRIME_G_AFFINE);
    n->neuron = neu, n->th = VTH, n->tau = 0.25f;
}

/* The authors' FSVAE: encoder 3 x (conv 3x3 s2 + tdBN + LIF), FC + tdBN + LIF,
 * the latent (posterior graph 1, prior graph 2: 3 x (FC + tdBN(alpha 2) + LIF)),
 * FC + tdBN + LIF, view, 3 x (tconv 3x3 s2 + tdBN + LIF), tconv 3x3 s1;
 * readout tanh(sum_t 0.8^(T-1-t) y_t). */
prime_gdesc prime_graph_fsvae(int L, int k, int ch, int T) {
    prime_gdesc d;
    memset(&d, 0, sizeof d);
    prime_gnode *n = prime_gdesc_add(&d, 0, PRIME_G_INPUT);
    n->c = 1, n->h = n->w = 32;
    for (int i = 0; i < 3; i++) wnode(&d, 0, PRIME_G_CONV, ch, 3, 2, 1, 0, 1, 1, PRIME_GN_FSVAE);
    prime_gdesc_add(&d, 0, PRIME_G_FLATTEN);
    wnode(&d, 0, PRIME_G_FC, L, 1, 1, 0, 0, 1, 1, PRIME_GN_FSVAE);
    n = prime_gdesc_add(&d, 0, PRIME_G_LATENT);
    n->c = L, n->k = k, n->sub[0] = 1, n->sub[1] = 2;
    wnode(&d, 0, PRIME_G_FC, ch * 16, 1, 1, 0, 0, 1, 1, PRIME_GN_FSVAE);
    n = prime_gdesc_add(&d, 0, PRIME_G_RESHAPE);
    n->c = ch, n->h = n->w = 4;
    for (int i = 0; i < 3; i++) wnode(&d, 0, PRIME_G_TCONV, ch, 3, 2, 1, 1, 1, 1, PRIME_GN_FSVAE);
    wnode(&d, 0, PRIME_G_TCONV, 1, 3, 1, 1, 0, 1, 0, 0);
    for (int g = 1; g <= 2; g++) {
        n = prime_gdesc_add(&d, g, PRIME_G_INPUT);
        n->c = g == 1 ? 2 * L : L, n->h = n->w = 1;
        wnode(&d, g, PRIME_G_FC, 2 * L, 1, 1, 0, 0, 0, 1, PRIME_GN_FSVAE);
        wnode(&d, g, PRIME_G_FC, 4 * L, 1, 1, 0, 0, 0, 1, PRIME_GN_FSVAE);
        wnode(&d, g, PRIME_G_FC, k * L, 1, 1, 0, 0, 0, 1, PRIME_GN_FSVAE);
    }
    d.T = T, d.readout = PRIME_GR_TANH, d.out_decay = 0.8f, d.anchored = 1, d.in_dac = 1, d.out_node = -1;
    return d;
}

/* The companion paper's Fashion CNN (reference.md §5): 4-bit ReLUs over [0, 2]. */
prime_gdesc prime_graph_fashion(void) {
    prime_gdesc d;
    memset(&d, 0, sizeof d);
    prime_gnode *n = prime_gdesc_add(&d, 0, PRIME_G_INPUT);
    n->c = 1, n->h = n->w = 28;
    prime_gdesc_add(&d, 0, PRIME_G_MAXPOOL)->k = 2;
    n = prime_gdesc_add(&d, 0, PRIME_G_CONV);
    n->c = 64, n->k = 3;
    n = prime_gdesc_add(&d, 0, PRIME_G_AFFINE);
    n->neuron = PRIME_GN_RELUQ, n->qbits = 4, n->qmax = 2.0f;
    n = prime_gdesc_add(&d, 0, PRIME_G_CONV);
    n->c = 16, n->k = 3;
    prime_gdesc_add(&d, 0, PRIME_G_MAXPOOL)->k = 2;
    n = prime_gdesc_add(&d, 0, PRIME_G_AFFINE);
    n->neuron = PRIME_GN_RELUQ, n->qbits = 4, n->qmax = 2.0f;
    prime_gdesc_add(&d, 0, PRIME_G_FLATTEN);
    n = prime_gdesc_add(&d, 0, PRIME_G_FC);
    n->c = 128, n->neuron = PRIME_GN_RELUQ, n->qbits = 4, n->qmax = 2.0f;
    prime_gdesc_add(&d, 0, PRIME_G_FC)->c = 10;
    d.T = 1, d.readout = PRIME_GR_LOGITS, d.in_dac = 1, d.out_node = -1;
    return d;
}

/* ============================================================ layouts */

typedef struct {
    const char *key;  /* state_dict prefix */
    int g, node, aff; /* weight node, its affine node (-1: none) */
    float alpha;      /* tdBN alpha (0: plain BatchNorm) */
    int conv5d;       /* conv weights carry a trailing time axis of 1 (Conv3d) */
} layer_map;

static const layer_map fsvae_map[] = {
    {"encoder.0", 0, 1, 2, 1, 1}, {"encoder.1", 0, 3, 4, 1, 1}, {"encoder.2", 0, 5, 6, 1, 1},
    {"before_latent_layer", 0, 8, 9, 1, 1}, {"decoder_input", 0, 11, 12, 1, 1}, {"decoder.0", 0, 14, 15, 1, 1},
    {"decoder.1", 0, 16, 17, 1, 1}, {"final_layer.0", 0, 18, 19, 1, 1}, {"final_layer.1", 0, 20, -1, 1, 1},
    {"posterior.layers.0", 1, 1, 2, 2, 1}, {"posterior.layers.1", 1, 3, 4, 2, 1}, {"posterior.layers.2", 1, 5, 6, 2, 1},
    {"prior.layers.0", 2, 1, 2, 2, 1}, {"prior.layers.1", 2, 3, 4, 2, 1}, {"prior.layers.2", 2, 5, 6, 2, 1},
    {NULL, 0, 0, 0, 0, 0}};
static const char *const fsvae_buffers[] = {"posterior.initial_input", "prior.initial_input", NULL};

/* Fashion: "bn1" folds into node 3, "bn2" into node 6 (BatchNorm2d, no alpha). */
static const layer_map fashion_map[] = {
    {"conv1", 0, 2, -1, 0, 0}, {"conv2", 0, 4, -1, 0, 0}, {"fc1", 0, 8, -1, 0, 0}, {"fc2", 0, 9, -1, 0, 0},
    {"bn1", 0, -1, 3, 0, 0}, {"bn2", 0, -1, 6, 0, 0}, {NULL, 0, 0, 0, 0, 0}};

static const char *const fields[] = {"weight", "bias", "scores", "bn.weight", "bn.bias", "bn.running_mean",
                                     "bn.running_var", "bn.num_batches_tracked"};
enum { FW, FB, FS, BW, BB, BM, BV, BN_T, NFIELDS };

static char *shape_of(const prime_tensor *t, char *buf, size_t n) {
    size_t o = (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < t->ndim && o < n; i++) o += (size_t)snprintf(buf + o, n - o, i ? ", %d" : "%d", t->shape[i]);
    if (o < n) snprintf(buf + o, n - o, ")");
    return buf;
}

/* Checks t's dtype (float) and shape (ndim dims of want). 0 or -1. */
static int check_tensor(const prime_tensor *t, int ndim, const int *want) {
    char got[96];
    if (t->dtype != PRIME_DT_F32 && t->dtype != PRIME_DT_F64 && t->dtype != PRIME_DT_F16)
        return prime_error("entry %s has dtype %s, a float dtype is needed", t->name, prime_dtype_name(t->dtype));
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == want[i];
    if (!ok) {
        char w[96];
        size_t o = (size_t)snprintf(w, sizeof w, "(");
        for (int i = 0; i < ndim && o < sizeof w; i++) o += (size_t)snprintf(w + o, sizeof w - o, i ? ", %d" : "%d", want[i]);
        if (o < sizeof w) snprintf(w + o, sizeof w - o, ")");
        return prime_error("entry %s has shape %s, the layer needs %s", t->name, shape_of(t, got, sizeof got), w);
    }
    for (size_t i = 0; i < t->count; i++)
        if (!isfinite(t->data[i])) return prime_error("entry %s: value %zu is not finite", t->name, i);
    return 0;
}

/* The torch weight (conv [out][in][k][k], tconv [in][out][k][k], fc [out][in])
 * as the crossbar matrix [rows][cols]. */
static void to_matrix(const float *src, float *dst, const prime_gnode *N, int in_c) {
    const int K = N->k, KK = K * K, oc = N->oc;
    if (N->op == PRIME_G_FC) {
        const size_t rows = (size_t)in_c;
        for (int o = 0; o < oc; o++)
            for (size_t r = 0; r < rows; r++) dst[r * oc + o] = src[(size_t)o * rows + r];
        return;
    }
    for (int o = 0; o < oc; o++)
        for (int i = 0; i < in_c; i++)
            for (int t = 0; t < KK; t++) {
                size_t s = N->op == PRIME_G_CONV ? ((size_t)o * in_c + i) * KK + t : ((size_t)i * oc + o) * KK + t;
                dst[((size_t)i * KK + t) * oc + o] = src[s];
            }
}

/* Imports one mapped layer of the tensors f[] into m. 0 or -1. */
static int import_layer(prime_gmodel *m, const layer_map *L, const prime_tensor *const *f, const prime_device *dev) {
    const prime_gdesc *d = prime_graph_desc(m);
    int rc = 0;
    if (L->node >= 0) {
        const prime_gnode *N = &d->g[L->g].node[L->node];
        const pg_node *R = &m->n[L->g][L->node];
        const int fc = N->op == PRIME_G_FC, in_c = fc ? R->rows : R->rows / (N->k * N->k);
        int shape[5] = {N->oc, in_c, N->k, N->k, 1}, nd = fc ? 2 : L->conv5d ? 5 : 4;
        if (N->op == PRIME_G_TCONV) shape[0] = in_c, shape[1] = N->oc;
        if (fc) shape[1] = R->rows;
        const char *need = !f[FW] ? "weight" : N->crossbar && !f[FS] ? "scores" : N->bias && !f[FB] ? "bias" : NULL;
        if (need) return prime_error("entry %s.%s is missing", L->key, need);
        if (!N->crossbar && f[FS]) return prime_error("entry %s: this layer is not pruned (digital), it has no scores", f[FS]->name);
        if (check_tensor(f[FW], nd, shape) || (f[FS] && check_tensor(f[FS], nd, shape))) return -1;
        if (f[FB] && !N->bias) return prime_error("entry %s: the layer has no bias", f[FB]->name);
        if (f[FB] && check_tensor(f[FB], 1, &N->oc)) return -1;
        const size_t nw = (size_t)R->rows * R->cols;
        float *w = malloc(nw * 3 * sizeof(float));
        uint8_t *mk = malloc(nw);
        if (!w || !mk) { free(w), free(mk); return prime_error("import: out of memory"); }
        float *gp = w + nw, *gn = gp + nw;
        to_matrix(f[FW]->data, w, N, fc ? R->rows : in_c);
        if (N->crossbar) {
            rc = prime_mask_from_scores(f[FS]->data, nw, N->sparsity, mk);
            for (size_t j = 0; rc == 0 && j < nw; j++) gp[j] = mk[j]; /* torch layout -> matrix, as floats */
            if (rc == 0) to_matrix(gp, gn, N, fc ? R->rows : in_c);
            if (rc == 0) rc = prime_graph_set_param(m, L->g, L->node, "mask", gn, nw);
            for (size_t j = 0; rc == 0 && j < nw; j++) { /* G+ - G- = w around the mean formed conductance */
                const float half = 0.5f * w[j], base = dev->g_mean > fabsf(half) ? dev->g_mean : fabsf(half);
                gp[j] = base + half, gn[j] = base - half;
            }
            if (rc == 0) rc = prime_graph_set_param(m, L->g, L->node, "gpos", gp, nw);
            if (rc == 0) rc = prime_graph_set_param(m, L->g, L->node, "gneg", gn, nw);
        } else {
            rc = prime_graph_set_param(m, L->g, L->node, "weight", w, nw);
        }
        if (rc == 0 && f[FB]) rc = prime_graph_set_param(m, L->g, L->node, "bias", f[FB]->data, (size_t)N->oc);
        free(w), free(mk);
        if (rc) return prime_error("layer %s: %s", L->key, prime_last_error());
    }
    if (L->aff >= 0) {
        const int C = d->g[L->g].node[L->aff].oc;
        for (int k = BW; k <= BV; k++) {
            if (!f[k]) return prime_error("entry %s.%s is missing", L->key, L->node >= 0 ? fields[k] : fields[k] + 3);
            if (check_tensor(f[k], 1, &C)) return -1;
        }
        float *a = malloc(2 * (size_t)C * sizeof(float));
        if (!a) return prime_error("import: out of memory");
        const float sc = L->alpha > 0 ? L->alpha * VTH : 1.0f; /* tdBN: alpha * Vth * (x - mu) / sigma * gamma + beta */
        for (int c = 0; c < C; c++) {
            const float var = f[BV]->data[c];
            if (!(var >= 0)) { free(a); return prime_error("entry %s: variance %d = %g is negative", f[BV]->name, c, var); }
            a[c] = sc * f[BW]->data[c] / sqrtf(var + 1e-5f);
            a[C + c] = f[BB]->data[c] - a[c] * f[BM]->data[c];
        }
        rc = prime_graph_set_param(m, L->g, L->aff, "affine_a", a, (size_t)C);
        if (rc == 0) rc = prime_graph_set_param(m, L->g, L->aff, "affine_b", a + C, (size_t)C);
        free(a);
        if (rc) return prime_error("layer %s: %s", L->key, prime_last_error());
    }
    return 0;
}

/* Which layout the tensors are: 1 FSVAE, 2 Fashion CNN, 0 neither. */
static int layout_of(const prime_tensor_list *l) {
    if (prime_tensors_find(l, "before_latent_layer.weight")) return 1;
    if (prime_tensors_find(l, "conv1.scores") && prime_tensors_find(l, "fc2.weight")) return 2;
    return 0;
}

/* Maps every tensor of l onto table map and imports the layers. 0 or -1. */
static int import_tensors(prime_gmodel *m, const prime_tensor_list *l, const layer_map *map, const char *const *buffers,
                          const char *what, const prime_device *dev) {
    enum { MAXL = 16 };
    const prime_tensor *f[MAXL][NFIELDS];
    memset(f, 0, sizeof f);
    for (int i = 0; i < l->n; i++) {
        const prime_tensor *t = &l->t[i];
        int done = 0;
        for (int b = 0; buffers && buffers[b] && !done; b++)
            if (!strcmp(t->name, buffers[b])) {
                for (size_t j = 0; j < t->count; j++)
                    if (t->data[j] != 0) return prime_error("entry %s: a non-zero initial z is not supported", t->name);
                done = 1;
            }
        for (int k = 0; map[k].key && !done; k++) {
            const size_t kl = strlen(map[k].key);
            if (strncmp(t->name, map[k].key, kl) || t->name[kl] != '.') continue;
            const char *rest = t->name + kl + 1;
            for (int q = 0; q < NFIELDS && !done; q++) {
                const char *fn = map[k].node < 0 ? (q >= BW ? fields[q] + 3 : NULL) : fields[q];
                if (!fn || strcmp(rest, fn)) continue;
                if (q == BN_T) {
                    if (t->dtype != PRIME_DT_I64 || t->count != 1) return prime_error("entry %s: an int64 scalar is needed", t->name);
                } else if ((q >= BW && map[k].aff < 0) || (q < BW && map[k].node < 0)) break;
                f[k][q] = t, done = 1;
            }
        }
        if (!done) return prime_error("entry %s (%s, shape %s) matches no layer of the %s", t->name, prime_dtype_name(t->dtype),
                                      shape_of(t, (char[96]){0}, 96), what);
    }
    for (int k = 0; map[k].key; k++)
        if (import_layer(m, &map[k], f[k], dev) != 0) return -1;
    return 0;
}

int prime_graph_import_knows(const uint8_t *b, size_t n) {
    prime_tensor_list l;
    if (!b || prime_tensors_read(b, n, &l) != 0) return 0;
    int k = layout_of(&l);
    prime_tensors_free(&l);
    return k;
}

/* A graph model from a .pt in a known layout; NULL + an error naming the entry. */
prime_gmodel *prime_graph_import(const uint8_t *b, size_t n, const prime_device *dev) {
    if (!b) { prime_error("prime_graph_import: NULL argument"); return NULL; }
    prime_tensor_list l;
    if (prime_tensors_read(b, n, &l) != 0) return NULL;
    const int kind = layout_of(&l);
    prime_device dv = dev ? *dev : prime_default_device();
    prime_gmodel *m = NULL;
    if (!kind) {
        prime_error("%s: not a layout the graph importer knows (the PRIME authors' FSVAE: before_latent_layer.*; the Fashion CNN: "
                    "conv1.scores ... fc2.weight)", l.format);
    } else {
        int latent = 128, k = 20, ch = 32;
        if (kind == 1) { /* sizes from the tensors: before_latent_layer (L, 16 ch), posterior's last layer (L*k, 4L) */
            const prime_tensor *bl = prime_tensors_find(&l, "before_latent_layer.weight");
            const prime_tensor *pl = prime_tensors_find(&l, "posterior.layers.2.weight");
            if (bl->ndim == 2 && bl->shape[0] > 0 && bl->shape[1] % 16 == 0) latent = bl->shape[0], ch = bl->shape[1] / 16;
            if (pl && pl->ndim == 2 && latent > 0 && pl->shape[0] % latent == 0) k = pl->shape[0] / latent;
        }
        prime_gdesc d = kind == 1 ? prime_graph_fsvae(latent, k, ch, 16) : prime_graph_fashion();
        m = prime_graph_create(&d, &dv);
        if (m && import_tensors(m, &l, kind == 1 ? fsvae_map : fashion_map, kind == 1 ? fsvae_buffers : NULL,
                                kind == 1 ? "PRIME authors' FSVAE" : "Fashion CNN", &dv) != 0) {
            prime_error("%s: %s", l.format, prime_last_error());
            prime_graph_free(m);
            m = NULL;
        }
        if (m && kind == 1) {
            prime_grun r = prime_graph_default_run();
            r.policy = PRIME_GP_CONVERGENCE;
            prime_graph_set_run(m, &r);
        }
    }
    prime_tensors_free(&l);
    return m;
}
