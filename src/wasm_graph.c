/* wasm_graph.c - flat entry points for layer-graph models (prime_graph.h,
 * docs/graph.md), for wasm/prime-graph.js; wasm build only, beside
 * wasm_api.c and with its conventions: structs cross as arrays of doubles
 * whose lengths and offsets are the PW_G_* constants of wasm_abi.h, seeds as
 * doubles (exact up to 2^53), 0 / a pointer on success and -1 / 0 on error
 * with prime_last_error() set.
 *
 * Exported as they are (wasm/exports.json): prime_graph_load,
 * prime_graph_free, prime_graph_is_file, prime_graph_import_knows,
 * prime_graph_readout, prime_graph_set_choices, prime_graph_get_choices,
 * prime_graph_node_spikes, prime_graph_node_output, prime_graph_param_size,
 * prime_graph_get_param, prime_graph_set_param. */
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_graph.h"
#include "wasm_abi.h"
#include "wasm_internal.h"

_Static_assert(PW_G_MAX_GRAPHS == PRIME_G_MAX_GRAPHS, "PW_G_MAX_GRAPHS");
_Static_assert(PW_G_MAX_NODES == PRIME_G_MAX_NODES, "PW_G_MAX_NODES");

/* The description: PW_G_HEAD doubles (n_graphs, T, out_node, readout,
 * out_decay, anchored, in_dac, macs_conn, n_out, node counts), then
 * PW_G_NODE_FIELDS per node, graph by graph. Returns the doubles written, or -1. */
PW_EXPORT int pw_graph_info(const prime_gmodel *m, double *o) {
    const prime_gdesc *d = prime_graph_desc(m);
    if (!d || !o) return prime_error("pw_graph_info: NULL argument");
    const int on = d->out_node >= 0 ? d->out_node : d->g[0].n - 1;
    const prime_gnode *O = &d->g[0].node[on];
    double h[PW_G_HEAD] = {d->n_graphs, d->T, on, d->readout, d->out_decay, d->anchored, d->in_dac, d->macs_conn,
                           (double)O->oc * O->oh * O->ow};
    for (int g = 0; g < PRIME_G_MAX_GRAPHS; g++) h[9 + g] = g < d->n_graphs ? d->g[g].n : 0;
    memcpy(o, h, sizeof h);
    int k = PW_G_HEAD;
    for (int g = 0; g < d->n_graphs; g++)
        for (int i = 0; i < d->g[g].n; i++, k += PW_G_NODE_FIELDS) {
            const prime_gnode *N = &d->g[g].node[i];
            double v[] = {N->op, N->in[0], N->in[1], N->c, N->h, N->w, N->k, N->stride, N->pad, N->out_pad,
                          N->bias, N->crossbar, N->scale, N->sparsity, N->neuron, N->th, N->decay, N->leak, N->tau,
                          N->qbits, N->qmax, N->sub[0], N->sub[1], N->mode, N->key, N->nkey, N->oc, N->oh, N->ow};
            _Static_assert(sizeof v == PW_G_NODE_FIELDS * sizeof(double), "PW_G_NODE_FIELDS");
            memcpy(o + k, v, sizeof v);
        }
    return k;
}

/* ------------------------------------------------------------ device and run */

PW_EXPORT int pw_graph_get_device(const prime_gmodel *m, double *o) {
    if (!m || !o) return prime_error("pw_graph_get_device: NULL argument");
    prime_device d = prime_graph_get_device(m);
    pw_dev_to(&d, o);
    return 0;
}
/* Applies a device (wasm_api.c's order, checked); re-forms the crossbar nodes if a forming field changed. */
PW_EXPORT int pw_graph_set_device(prime_gmodel *m, const double *v) {
    prime_device d;
    if (!m || !v) return prime_error("pw_graph_set_device: NULL argument");
    if (pw_dev_from(v, &d) != 0) return -1;
    return prime_graph_set_device(m, &d);
}

static void grun_to(const prime_grun *r, double *o) {
    double v[] = {r->policy, r->alpha, r->threshold, r->m_div, r->m_th, r->m_window, r->min_steps, r->ideal,
                  r->generate, (double)r->noise_seed, (double)r->latent_seed};
    _Static_assert(sizeof v == PW_G_RUN_FIELDS * sizeof(double), "PW_G_RUN_FIELDS");
    memcpy(o, v, sizeof v);
}
PW_EXPORT void pw_graph_default_run(double *o) { prime_grun r = prime_graph_default_run(); grun_to(&r, o); }
PW_EXPORT int pw_graph_get_run(const prime_gmodel *m, double *o) {
    if (!m || !o) return prime_error("pw_graph_get_run: NULL argument");
    prime_grun r = prime_graph_get_run(m);
    grun_to(&r, o);
    return 0;
}
/* Applies a run (PW_G_RUN_FIELDS doubles, checked here and by prime_graph_set_run). */
PW_EXPORT int pw_graph_set_run(prime_gmodel *m, const double *v) {
    if (!m || !v) return prime_error("pw_graph_set_run: NULL argument");
    prime_grun r;
    if (pw_as_int(v[0], "run: policy", 0, 2, &r.policy) || pw_as_float(v[1], "run: alpha", &r.alpha) ||
        pw_as_float(v[2], "run: threshold", &r.threshold) || pw_as_float(v[3], "run: mDiv", &r.m_div) ||
        pw_as_float(v[4], "run: mTh", &r.m_th) || pw_as_int(v[5], "run: mWindow", 1, PRIME_MAX_T, &r.m_window) ||
        pw_as_int(v[6], "run: minSteps", 1, PRIME_MAX_T, &r.min_steps) || pw_as_int(v[7], "run: ideal", 0, 1, &r.ideal) ||
        pw_as_int(v[8], "run: generate", 0, 1, &r.generate) || pw_as_seed(v[9], "run: noiseSeed", &r.noise_seed) ||
        pw_as_seed(v[10], "run: latentSeed", &r.latent_seed))
        return -1;
    return prime_graph_set_run(m, &r);
}

/* ------------------------------------------------------------ run */

/* Result as PW_G_RES_DOUBLES doubles (wasm_abi.h). */
static void gres_to(const prime_gresult *r, double *o) {
    memset(o, 0, PW_G_RES_DOUBLES * sizeof(double));
    double h[] = {r->steps_used, r->T, r->label, r->n_out, r->energy_pj, r->baseline_pj, r->energy_ratio,
                  r->digital_macs, r->spikes};
    _Static_assert(sizeof h == PW_G_RES_HEAD * sizeof(double), "PW_G_RES_HEAD");
    memcpy(o, h, sizeof h);
    const prime_counters *k = &r->counters;
    double c[] = {k->cell_reads, k->adc_conversions, k->dac_drives, k->vmm_reads, k->neuron_updates, k->macs_dense,
                  k->timesteps, k->adc_clipped, k->dac_clipped};
    _Static_assert(sizeof c == PW_G_COUNTERS * sizeof(double), "PW_G_COUNTERS");
    memcpy(o + PW_G_RES_COUNTERS, c, sizeof c);
    for (int t = 0; t < r->steps_used && t < PRIME_MAX_T; t++)
        o[PW_G_RES_CONFIDENCE + t] = r->confidence[t], o[PW_G_RES_M + t] = r->m[t];
}
/* Runs one input ([frames][C][H][W] of graph 0's input; frames 1 or T) with
 * the model's device and run; o: gres_to. 0 or -1. The readout after every
 * step: prime_graph_readout. */
PW_EXPORT int pw_graph_run(prime_gmodel *m, const float *x, int frames, double *o) {
    prime_gresult r;
    if (!o) return prime_error("pw_graph_run: NULL result");
    if (prime_graph_run(m, x, frames, &r) != 0) return -1;
    gres_to(&r, o);
    return 0;
}
/* Generation from the prior with the pass index `seed` (an integer in 0..2^53). 0 or -1. */
PW_EXPORT int pw_graph_generate(prime_gmodel *m, double seed, double *o) {
    uint64_t s;
    prime_gresult r;
    if (!o) return prime_error("pw_graph_generate: NULL result");
    if (pw_as_seed(seed, "generate: seed", &s) != 0 || prime_graph_generate(m, s, &r) != 0) return -1;
    gres_to(&r, o);
    return 0;
}

/* ------------------------------------------------------------ files */

/* Saves the model (docs/graph.md, "File"): a malloc'ed buffer (pw_free), its size in *n; 0 on error. */
PW_EXPORT uint8_t *pw_graph_save(const prime_gmodel *m, size_t *n) {
    uint8_t *b;
    if (!n) { prime_error("pw_graph_save: NULL size"); return NULL; }
    if (prime_graph_save(m, &b, n) != 0) return NULL;
    return b;
}
/* Imports a checkpoint in a layout prime_graph_import knows (the PRIME
 * authors' FSVAE state_dict, the Fashion CNN layout; .pt or .npz) onto
 * device `dev` (PW_DEV_FIELDS doubles) or, NULL, the default device. */
PW_EXPORT prime_gmodel *pw_graph_import(const uint8_t *b, size_t n, const double *dev) {
    prime_device d = prime_default_device();
    if (dev && pw_dev_from(dev, &d) != 0) return NULL;
    return prime_graph_import(b, n, &d);
}
