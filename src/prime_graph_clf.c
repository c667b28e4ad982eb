/* prime_graph_clf.c - a hand-wired classifier (prime_core.c) as a layer graph
 * run by the graph executor (docs/graph.md, "The classifier as a graph"): the
 * same layers, keys (so the same formed chip and read-noise streams), masks,
 * measured maps, device and run policy. tests/c/golden.c checks that it gives
 * the classifier's outputs bit for bit (and so tests/golden/). */
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_graph_internal.h"
#include "prime_internal.h"
#include "prime_vae_internal.h"

/* The classifier of architecture a as a graph (prime_internal.h): conv + LIF,
 * avgpool, ..., flatten, FC + output cell; keys = the layer indices, so the
 * chip and the read-noise streams are the layers'. 0 or -1. */
int prime_clf_desc(const prime_arch *a, prime_gdesc *d, int *node_of) {
    memset(d, 0, sizeof *d);
    prime_gnode *n = prime_gdesc_add(d, 0, PRIME_G_INPUT);
    n->c = a->in_c, n->h = a->in_h, n->w = a->in_w;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        if (L->op == PRIME_OP_FC && !prime_gdesc_add(d, 0, PRIME_G_FLATTEN)) return -1; /* the FC reads CHW rows */
        n = prime_gdesc_add(d, 0, L->op == PRIME_OP_CONV ? PRIME_G_CONV : L->op == PRIME_OP_FC ? PRIME_G_FC : PRIME_G_AVGPOOL);
        if (!n) return -1;
        node_of[l] = d->g[0].n - 1;
        n->k = L->op == PRIME_OP_FC ? 1 : L->k;
        if (L->op != PRIME_OP_AVGPOOL) {
            n->c = L->out_c, n->stride = L->op == PRIME_OP_CONV ? L->stride : 1, n->pad = L->op == PRIME_OP_CONV ? L->pad : 0;
            n->scale = L->scale, n->sparsity = L->sparsity, n->key = l;
        }
        n->neuron = L->neuron == PRIME_NEURON_LIF ? PRIME_GN_LIF : L->neuron == PRIME_NEURON_OUTPUT ? PRIME_GN_OUTPUT : PRIME_GN_NONE;
        n->th = L->th, n->decay = L->decay, n->leak = L->leak;
    }
    d->T = a->T, d->readout = PRIME_GR_MEAN, d->in_dac = 1, d->out_node = -1;
    return 0;
}

/* The graph of classifier c with its parameters, a model of its own; NULL on error. */
prime_gmodel *prime_graph_from_classifier(const prime_ctx *c) {
    if (!c) { prime_error("prime_graph_from_classifier: NULL context"); return NULL; }
    const prime_arch *a = &c->arch;
    prime_gdesc d;
    int node_of[PRIME_MAX_LAYERS];
    if (prime_clf_desc(a, &d, node_of) != 0) return NULL;
    prime_gmodel *m = prime_graph_create(&d, &c->g->dev);
    if (!m) return NULL;
    int rc = prime_graph_set_run(m, &c->g->run);
    for (int l = 0; rc == 0 && l < a->n_layers; l++) {
        const pg_node *w = &c->g->n[0][c->node[l]];
        if (!w->rows) continue;
        const size_t nw = (size_t)w->rows * w->cols;
        float *v = malloc(nw * sizeof(float));
        if (!v) { rc = prime_error("out of memory"); break; }
        for (size_t j = 0; j < nw; j++) v[j] = w->mask[j];
        rc = prime_graph_set_param(m, 0, node_of[l], "mask", v, nw);
        if (rc == 0 && w->measured) {
            rc = prime_graph_set_param(m, 0, node_of[l], "gpos", w->gp_on, nw);
            if (rc == 0) rc = prime_graph_set_param(m, 0, node_of[l], "gneg", w->gn_on, nw);
        }
        free(v);
    }
    if (rc == 0) rc = prime_graph_set_devfx_with(m, &c->g->dev, &c->g->fx);
    if (rc) { prime_graph_free(m); return NULL; }
    return m;
}

/* Adds the FSVAE LIF after a folded BN as an affine node. */
static prime_gnode *bn_lif(prime_gdesc *d, const prime_vae_arch *a) {
    prime_gnode *n = prime_gdesc_add(d, 0, PRIME_G_AFFINE);
    if (n) n->neuron = PRIME_GN_FSVAE, n->th = a->th, n->tau = a->keep;
    return n;
}

/* The inpainting network of architecture a as graphs (prime_vae_internal.h):
 * 3 x conv, affine + FSVAE LIF; FC; the latent in mode 1 with the digital
 * posterior and prior as graphs 1 and 2; FC, reshape (HWC), affine + LIF;
 * 3 x tconv; the output tconv; tanh readout acc = 0.8 acc + y; device keys
 * i, noise keys i + 32. */
int prime_vae_desc(const prime_vae_arch *a, prime_gdesc *d, int *node_of, int *bn_of) {
    memset(d, 0, sizeof *d);
    prime_gnode *n = prime_gdesc_add(d, 0, PRIME_G_INPUT);
    n->c = 1, n->h = n->w = a->size;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        if (prime_vae_layer_info(a, i, &g) != 0) return -1;
        bn_of[i] = -1;
        if (i == PRIME_VAE_PRIOR) { node_of[i] = 1; continue; }
        if (i == PRIME_VAE_POST) { /* the latent: posterior graph 1 on x_t, prior graph 2 on z_(t-1) */
            n = prime_gdesc_add(d, 0, PRIME_G_LATENT);
            if (!n) return -1;
            n->c = a->latent, n->k = a->k, n->sub[0] = 1, n->sub[1] = 2, n->mode = 1;
            for (int s = 1; s <= 2; s++) {
                n = prime_gdesc_add(d, s, PRIME_G_INPUT);
                n->c = a->latent, n->h = n->w = 1;
                n = prime_gdesc_add(d, s, PRIME_G_FC);
                n->c = a->latent * a->k, n->crossbar = 0, n->bias = 1, n->neuron = PRIME_GN_FSVAE, n->th = a->th, n->tau = a->keep;
            }
            node_of[i] = 1;
            continue;
        }
        n = prime_gdesc_add(d, 0, g.op == PRIME_VAE_FC ? PRIME_G_FC : g.op == PRIME_VAE_CONV ? PRIME_G_CONV : PRIME_G_TCONV);
        if (!n) return -1;
        node_of[i] = d->g[0].n - 1;
        n->c = g.op == PRIME_VAE_FC ? g.cols : g.out_c, n->k = g.k, n->stride = g.stride, n->pad = g.pad;
        n->out_pad = g.op == PRIME_VAE_TCONV && g.stride > 1 ? g.stride - 1 : 0;
        n->scale = a->scale, n->sparsity = a->sparsity, n->key = i, n->nkey = i + 32;
        if (g.op == PRIME_VAE_FC && g.out_h > 1) { /* the columns are the HWC index of out_c x out_h x out_w */
            n = prime_gdesc_add(d, 0, PRIME_G_RESHAPE);
            if (!n) return -1;
            n->c = g.out_c, n->h = g.out_h, n->w = g.out_w, n->mode = 1;
        }
        if (g.bn) {
            if (!bn_lif(d, a)) return -1;
            bn_of[i] = d->g[0].n - 1;
        }
    }
    d->T = a->T, d->readout = PRIME_GR_TANH, d->out_decay = a->out_keep, d->in_dac = 1, d->macs_conn = 1, d->out_node = -1;
    return 0;
}

/* The graph of inpainting network v (on the macro), a model of its own; NULL on error. */
prime_gmodel *prime_graph_from_vae(const prime_vae *v) {
    if (!v) { prime_error("prime_graph_from_vae: NULL network"); return NULL; }
    if (v->a.software) { prime_error("prime_graph_from_vae: a software network (free weights) is not on the macro"); return NULL; }
    uint8_t *b;
    size_t n;
    if (prime_graph_save(v->g, &b, &n) != 0) return NULL;
    prime_gmodel *m = prime_graph_load(b, n);
    free(b);
    if (m) m->in_range = v->g->in_range, m->dac_zeros = v->g->dac_zeros; /* the network's, not in the file */
    if (m && (prime_graph_set_run(m, &v->g->run) != 0 || prime_graph_set_devfx_with(m, &v->g->dev, &v->g->fx) != 0)) {
        prime_graph_free(m);
        return NULL;
    }
    return m;
}
