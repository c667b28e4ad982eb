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

/* The graph of classifier c with its parameters; NULL on error. */
prime_gmodel *prime_graph_from_classifier(const prime_ctx *c) {
    if (!c) { prime_error("prime_graph_from_classifier: NULL context"); return NULL; }
    const prime_arch *a = &c->arch;
    prime_gdesc d;
    memset(&d, 0, sizeof d);
    prime_gnode *n = prime_gdesc_add(&d, 0, PRIME_G_INPUT);
    n->c = a->in_c, n->h = a->in_h, n->w = a->in_w;
    int node_of[PRIME_MAX_LAYERS];
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        if (L->op == PRIME_OP_FC && !prime_gdesc_add(&d, 0, PRIME_G_FLATTEN)) return NULL; /* the FC reads CHW rows */
        n = prime_gdesc_add(&d, 0, L->op == PRIME_OP_CONV ? PRIME_G_CONV : L->op == PRIME_OP_FC ? PRIME_G_FC : PRIME_G_AVGPOOL);
        if (!n) return NULL;
        node_of[l] = d.g[0].n - 1;
        n->k = L->op == PRIME_OP_FC ? 1 : L->k;
        if (L->op != PRIME_OP_AVGPOOL) {
            n->c = L->out_c, n->stride = L->op == PRIME_OP_CONV ? L->stride : 1, n->pad = L->op == PRIME_OP_CONV ? L->pad : 0;
            n->scale = L->scale, n->sparsity = L->sparsity, n->key = l;
        }
        n->neuron = L->neuron == PRIME_NEURON_LIF ? PRIME_GN_LIF : L->neuron == PRIME_NEURON_OUTPUT ? PRIME_GN_OUTPUT : PRIME_GN_NONE;
        n->th = L->th, n->decay = L->decay, n->leak = L->leak;
    }
    d.T = a->T, d.readout = PRIME_GR_MEAN, d.in_dac = 1, d.out_node = -1;
    prime_gmodel *m = prime_graph_create(&d, &c->dev);
    if (!m) return NULL;
    prime_grun r = prime_graph_default_run();
    r.policy = c->run.policy == PRIME_STOP_CONFIDENCE ? PRIME_GP_CONFIDENCE : PRIME_GP_NONE;
    r.alpha = c->run.alpha, r.threshold = c->run.threshold, r.min_steps = c->run.min_steps, r.noise_seed = c->run.noise_seed;
    int rc = prime_graph_set_run(m, &r);
    for (int l = 0; rc == 0 && l < a->n_layers; l++) {
        const wlayer *w = &c->w[l];
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
    if (rc) { prime_graph_free(m); return NULL; }
    return m;
}
