/* prime_core.c - the classification network: its context on a layer graph.
 *
 * Data flow of one timestep (docs/architecture.md has the picture):
 *
 *   input frame [C][H][W] --DAC--> rows of the crossbar tiles of layer 0
 *     --(G+ - G-) * scale, read noise--> column currents --ADC--> digital sum
 *     of the row tiles --> LIF cell --> spikes --> avg pool (digital) --> ...
 *     --> FC tiles --> output cell --> mean membrane = logits --> early stop?
 *
 * The network is a layer graph (prime_clf_desc, prime_graph_clf.c) and the
 * graph executor (prime_graph_run.c) runs its timesteps: the read of every
 * weight layer is prime_xbar_read (prime_crossbar.c), the cells are
 * prime_kernels.c's, the stop is prime_policy.c's. This file keeps the
 * classifier's API: its context, layers as the API numbers them, masks,
 * conductance maps, tiling, step mode and result.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_graph_internal.h"
#include "prime_internal.h"

/* ============================================================ context */

pg_node *prime_ctx_layer(const prime_ctx *c, int l, int weights) {
    if (!c) { prime_error("NULL context"); return NULL; }
    if (l < 0 || l >= c->arch.n_layers) { prime_error("layer %d out of range 0..%d", l, c->arch.n_layers - 1); return NULL; }
    pg_node *w = &c->g->n[0][c->node[l]];
    if (weights && !w->rows) { prime_error("layer %d has no weights (a pool)", l); return NULL; }
    return w;
}

/* Programs weight layer l of a classification context from its mask. */
int prime_program_layer(prime_ctx *c, int l) { return prime_graph_program(c->g, 0, c->node[l], 0); }

/* The graph run of the classifier's run policy. */
static prime_grun grun_of(const prime_run *r) {
    prime_grun g = prime_graph_default_run();
    g.policy = r->policy == PRIME_STOP_CONFIDENCE ? PRIME_GP_CONFIDENCE : PRIME_GP_NONE;
    g.alpha = r->alpha, g.threshold = r->threshold, g.min_steps = r->min_steps, g.noise_seed = r->noise_seed;
    return g;
}

/* Makes a context for a finalized architecture and device; NULL on error. */
prime_ctx *prime_ctx_new(const prime_arch *arch, const prime_device *dev) {
    prime_arch a = *arch;
    if (prime_arch_finalize(&a) != 0) return NULL;
    if (prime_device_check(dev) != 0) return NULL;
    prime_ctx_plan plan;
    if (prime_arch_plan(&a, &plan) != 0) return NULL; /* the caps of prime.h, named as the classifier has them */
    if (plan.bytes > SIZE_MAX) {
        prime_error("the model needs %llu bytes, more than this build can address", (unsigned long long)plan.bytes);
        return NULL;
    }
    prime_ctx *c = calloc(1, sizeof *c);
    if (!c) { prime_error("out of memory"); return NULL; }
    c->arch = a;
    c->run = prime_default_run();
    c->max_act = (size_t)plan.max_act, c->n_in = (size_t)plan.n_in;
    prime_gdesc d;
    if (prime_clf_desc(&a, &d, c->node) != 0 || !(c->g = prime_graph_create(&d, dev))) { prime_free(c); return NULL; }
    prime_grun r = grun_of(&c->run);
    c->view = malloc((c->max_act ? c->max_act : 1) * sizeof(float));
    if (!c->view || prime_graph_set_run(c->g, &r) != 0) { prime_free(c); prime_error("out of memory allocating the model"); return NULL; }
    for (int l = 0; l < a.n_layers; l++) {
        const pg_node *w = &c->g->n[0][c->node[l]];
        if (w->rows) c->n_arrays += ((w->rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE) *
                                    ((2 * w->cols + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE);
    }
    return c;
}

/* Returns a context with every mask at keep; NULL on error. */
prime_ctx *prime_create(const prime_arch *arch, const prime_device *dev) {
    if (!arch || !dev) { prime_error("prime_create: NULL argument"); return NULL; }
    return prime_ctx_new(arch, dev);
}

/* A context for one more thread: a copy of c (device, run) whose model reads
 * c's weights and owns only a fresh state, so it must be freed (prime_free)
 * before c and used only while c's weights do not change. NULL on error. */
prime_ctx *prime_ctx_worker(const prime_ctx *c) {
    prime_ctx *k = malloc(sizeof *k);
    if (!k) { prime_error("out of memory"); return NULL; }
    *k = *c;
    k->shares_weights = 1;
    k->input = NULL, k->input_cap = 0, k->armed = 0;
    k->g = prime_graph_worker(c->g);
    k->view = malloc((c->max_act ? c->max_act : 1) * sizeof(float));
    if (!k->g || !k->view) { prime_free(k); prime_error("out of memory"); return NULL; }
    return k;
}

/* Frees a context and everything it owns; NULL is fine. */
void prime_free(prime_ctx *c) {
    if (!c) return;
    prime_graph_free(c->g); /* a worker's model frees only its own state */
    free(c->view);
    free(c->input);
    free(c);
}

/* Returns the context's architecture (owned by the context). */
const prime_arch *prime_get_arch(const prime_ctx *c) { return &c->arch; }
/* Returns a copy of the device parameters. */
prime_device prime_get_device(const prime_ctx *c) { return c->g->dev; }
/* Returns a copy of the run parameters. */
prime_run prime_get_run(const prime_ctx *c) { return c->run; }

/* Applies device parameters, re-forming the chip only when needed; 0 or -1. */
int prime_set_device(prime_ctx *c, const prime_device *d) {
    if (!c) return prime_error("prime_set_device: NULL context");
    return prime_graph_set_device(c->g, d); /* device_wire.c: re-forms / re-programs only if needed */
}

/* Makes (d, fx) the classifier's device and effects (prime_internal.h). */
int prime_set_devfx_with(prime_ctx *c, const prime_device *d, const prime_devfx_params *fx) {
    if (!c) return prime_error("set_devfx: NULL argument");
    return prime_graph_set_devfx_with(c->g, d, fx);
}

/* Applies the run policy and restarts the noise stream; 0 or -1. */
int prime_set_run(prime_ctx *c, const prime_run *r) {
    if (!c || !r) return prime_error("prime_set_run: NULL argument");
    if (r->policy != PRIME_STOP_NONE && r->policy != PRIME_STOP_CONFIDENCE)
        return prime_error("run: policy %d (0 none, 1 confidence)", r->policy);
    if (!(r->alpha > 0 && r->alpha <= 1000)) return prime_error("run: alpha = %g out of (0, 1000]", (double)r->alpha);
    if (!(r->threshold >= 0 && r->threshold <= 1)) return prime_error("run: threshold = %g out of [0, 1]", (double)r->threshold);
    prime_grun g = grun_of(r);
    if (prime_graph_apply_run(c->g, &g, "run") != 0) return -1;
    c->run = *r, c->inference = 0; /* the noise stream restarts */
    return 0;
}

/* Returns the weight layer l, checked to have n pairs, or NULL with an error. */
static pg_node *get_wlayer(const prime_ctx *c, int l, size_t n) {
    pg_node *w = prime_ctx_layer(c, l, 1);
    if (!w) return NULL;
    if (n != (size_t)w->rows * w->cols) { prime_error("layer %d has %zu weights, not %zu", l, (size_t)w->rows * w->cols, n); return NULL; }
    return w;
}

/* Sets layer l's mask (1 byte per pair) and re-programs it; 0 or -1. */
int prime_set_mask(prime_ctx *c, int l, const uint8_t *mask, size_t n) {
    pg_node *w = get_wlayer(c, l, n);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++) w->mask[i] = mask[i] ? 1 : 0;
    prime_program_layer(c, l);
    return 0;
}

/* Copies layer l's mask into mask[n]; 0 or -1. */
int prime_get_mask(const prime_ctx *c, int l, uint8_t *mask, size_t n) {
    pg_node *w = get_wlayer(c, l, n);
    if (!w) return -1;
    memcpy(mask, w->mask, n);
    return 0;
}

/* Copies layer l's weights (programmed, or formed on-state if kept) to w[n]. */
int prime_get_weights(const prime_ctx *c, int l, int kept, float *out, size_t n) {
    pg_node *w = get_wlayer(c, l, n);
    if (!w) return -1;
    float sc = c->arch.layers[l].scale;
    for (size_t i = 0; i < n; i++) out[i] = kept ? (w->gp_on[i] - w->gn_on[i]) * sc : w->wt[i];
    return 0;
}

/* sqrt(G+^2 + G-^2) * scale of layer l's pairs (on-state, or as programmed); 0 or -1. */
int prime_get_noise_weights(const prime_ctx *c, int l, int kept, float *out, size_t n) {
    pg_node *w = get_wlayer(c, l, n);
    if (!w) return -1;
    float sc = c->arch.layers[l].scale;
    for (size_t i = 0; i < n; i++)
        out[i] = kept ? sqrtf(w->gp_on[i] * w->gp_on[i] + w->gn_on[i] * w->gn_on[i]) * sc : sqrtf(w->g2[i]);
    return 0;
}

/* Replaces layer l's formed conductances by a measured map; 0 or -1. */
int prime_set_conductances(prime_ctx *c, int l, const float *gpos, const float *gneg, size_t n) {
    pg_node *w = get_wlayer(c, l, n);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++)
        if (!(gpos[i] >= 0 && gpos[i] < 1e6 && gneg[i] >= 0 && gneg[i] < 1e6))
            return prime_error("conductance map of layer %d: value %zu is not a conductance in [0, 1e6) uS", l, i);
    memcpy(w->gp_on, gpos, n * sizeof(float));
    memcpy(w->gn_on, gneg, n * sizeof(float));
    w->measured = 1;
    prime_program_layer(c, l);
    return 0;
}

/* ============================================================ tiling */

/* Fills *t with how layer l sits on the 512x512 arrays; 0 or -1. */
int prime_get_tiling(const prime_ctx *c, int l, prime_tiling *t) {
    if (!c || !t) return prime_error("NULL argument");
    if (l < 0 || l >= c->arch.n_layers) return prime_error("layer %d out of range", l);
    memset(t, 0, sizeof *t);
    int first = 0;
    for (int k = 0; k <= l; k++) {
        const pg_node *w = &c->g->n[0][c->node[k]];
        t->rows = w->rows, t->cols = w->cols;
        t->row_tiles = (w->rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
        t->col_tiles = (2 * w->cols + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
        t->first_array = first;
        if (w->rows) first += t->row_tiles * t->col_tiles;
    }
    if (!t->rows) { memset(t, 0, sizeof *t); return prime_error("layer %d has no weights (a pool)", l); }
    t->arrays = t->row_tiles * t->col_tiles;
    t->fill = (double)t->rows * 2 * t->cols / ((double)t->arrays * PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
    return 0;
}

/* Returns the number of 512x512 arrays the model occupies. */
int prime_total_arrays(const prime_ctx *c) { return c ? c->n_arrays : 0; }

/* Writes the programmed conductances of array `a` (512*512, row-major,
 * columns in G+/G- pairs, unused 0) into out; 0 or -1. */
int prime_get_array(const prime_ctx *c, int a, float *out, size_t n) {
    if (!c || !out) return prime_error("NULL argument");
    if (a < 0 || a >= c->n_arrays) return prime_error("array %d out of range 0..%d", a, c->n_arrays - 1);
    if (n < (size_t)PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE) return prime_error("array buffer too small");
    memset(out, 0, sizeof(float) * PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
    for (int l = 0; l < c->arch.n_layers; l++) {
        const pg_node *w = &c->g->n[0][c->node[l]];
        prime_tiling tl;
        if (!w->rows || prime_get_tiling(c, l, &tl) != 0) continue;
        if (a < tl.first_array || a >= tl.first_array + tl.arrays) continue;
        int k = a - tl.first_array, rt = k / tl.col_tiles, ct = k % tl.col_tiles;
        for (int r = 0; r < PRIME_ARRAY_SIZE; r++) {
            int row = rt * PRIME_ARRAY_SIZE + r;
            if (row >= w->rows) break;
            for (int pc = 0; pc < PRIME_ARRAY_SIZE; pc++) {
                int phys = ct * PRIME_ARRAY_SIZE + pc, j = phys / 2;
                if (j >= w->cols) break;
                size_t i = (size_t)row * w->cols + j;
                out[(size_t)r * PRIME_ARRAY_SIZE + pc] = (phys & 1) ? w->gn[i] : w->gp[i];
            }
        }
    }
    return 0;
}

/* ============================================================ network */

/* Checks n input values (finite, |x| <= 1e6) and sets *mx to the largest |x|;
 * 0 or -1 naming the value. */
int prime_input_check(const float *x, size_t n, float *mx) {
    float m = 0;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) return prime_error("input value %zu is not finite", i);
        if (fabsf(v) > 1e6f) return prime_error("input value %zu = %g is out of range (|x| <= 1e6)", i, (double)v);
        if (fabsf(v) > m) m = fabsf(v);
    }
    *mx = m;
    return 0;
}

/* Copies an input, resets the state and arms step mode; 0 or -1. */
int prime_begin(prime_ctx *c, const float *input, int T) {
    if (!c || !input) return prime_error("prime_begin: NULL argument");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("T = %d out of 1..%d", T, PRIME_MAX_T);
    float mx = 0;
    if (prime_input_check(input, (size_t)T * c->n_in, &mx) != 0) return -1;
    return prime_begin_checked(c, input, T, mx);
}

/* prime_begin for an input already checked (T in range, values by
 * prime_input_check, whose largest |x| is mx); 0 or -1. */
int prime_begin_checked(prime_ctx *c, const float *input, int T, float mx) {
    size_t n = (size_t)T * c->n_in;
    if (c->input_cap < n) {
        float *p = realloc(c->input, n * sizeof(float));
        if (!p) return prime_error("out of memory for the input (%zu floats)", n);
        c->input = p, c->input_cap = n;
    }
    memcpy(c->input, input, n * sizeof(float));
    c->g->inference = c->inference; /* keys this inference's read-noise stream */
    if (prime_graph_begin_checked(c->g, c->input, T, T, mx) != 0) return -1;
    c->inference++;
    c->armed = 1;
    return 0;
}

/* Runs one timestep; 1 if it ran, 0 if finished, -1 on error. */
int prime_step(prime_ctx *c) {
    if (!c) return prime_error("NULL context");
    if (!c->armed) return prime_error("prime_step before prime_begin");
    return prime_graph_step(c->g);
}

/* Fills *r with the result after the steps run so far; 0 or -1. */
int prime_result_get(const prime_ctx *c, prime_result *r) {
    if (!c || !r) return prime_error("NULL argument");
    const prime_gmodel *m = c->g;
    if (!c->armed || m->t == 0) return prime_error("no step has run yet");
    const prime_arch *a = &c->arch;
    prime_gresult g;
    if (prime_graph_result(m, &g) != 0) return -1;
    memset(r, 0, sizeof *r);
    r->T = g.T;
    r->steps_used = g.steps_used;
    r->n_classes = a->n_classes;
    r->n_layers = a->n_layers;
    double mx = -1e300, den = 0, e[PRIME_MAX_CLASSES];
    for (int k = 0; k < a->n_classes; k++) {
        r->logits[k] = g.out[k]; /* the mean membrane */
        if (r->logits[k] > mx) mx = r->logits[k], r->label = k;
    }
    for (int k = 0; k < a->n_classes; k++) den += (e[k] = prime_exp(((double)r->logits[k] - mx) / c->run.alpha));
    for (int k = 0; k < a->n_classes; k++) r->probs[k] = (float)(e[k] / den);
    for (int t = 0; t < g.steps_used; t++) r->confidence[t] = m->conf[t], r->step_label[t] = m->step_label[t];
    for (int l = 0; l < a->n_layers; l++) r->spikes[l] = m->n[0][c->node[l]].spikes;
    r->counters = g.counters;
    r->energy_pj = g.energy_pj;
    r->baseline_pj = g.baseline_pj; /* the dense network for all T steps */
    r->energy_ratio = g.energy_ratio;
    return 0;
}

/* Runs an input to the end or early stop and fills *r; 0 or -1. */
int prime_classify(prime_ctx *c, const float *input, int T, prime_result *r) {
    if (!r) return prime_error("prime_classify: NULL result");
    if (prime_begin(c, input, T) != 0) return -1;
    while (prime_step(c) == 1) {}
    return prime_result_get(c, r);
}

/* prime_classify of an input already checked (see prime_begin_checked). */
int prime_classify_checked(prime_ctx *c, const float *input, int T, float mx, prime_result *r) {
    if (prime_begin_checked(c, input, T, mx) != 0) return -1;
    while (prime_step(c) == 1) {}
    return prime_result_get(c, r);
}

/* Returns layer l's state after the last step in CHW order (context-owned). */
const float *prime_layer_state(prime_ctx *c, int l, enum prime_state what, size_t *n) {
    const pg_node *R = prime_ctx_layer(c, l, 0);
    if (!R) return NULL;
    if ((int)what < PRIME_STATE_MEMBRANE || (int)what > PRIME_STATE_CURRENT) {
        prime_error("state %d (0 membrane, 1 spikes, 2 current)", (int)what);
        return NULL;
    }
    const prime_layer *L = &c->arch.layers[l];
    const float *src = what == PRIME_STATE_MEMBRANE ? R->u : what == PRIME_STATE_SPIKES ? R->s : R->y;
    if (L->op == PRIME_OP_AVGPOOL) src = R->y; /* a pool has only its output */
    const int C = L->out_c, HW = L->out_h * L->out_w;
    for (int ch = 0; ch < C; ch++)
        for (int i = 0; i < HW; i++) c->view[(size_t)ch * HW + i] = src[(size_t)i * C + ch];
    if (n) *n = R->nout;
    return c->view;
}
