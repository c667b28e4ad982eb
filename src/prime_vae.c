/* prime_vae.c - the inpainting network (a pruned fully spiking VAE) on the macro.
 *
 * the PRIME paper's inpainting network (arXiv 2407.18625), docs/inpainting.md. One timestep, step-major (the early
 * stop needs the reconstruction after every step):
 *
 *   masked image 1x32x32 --DAC--> enc1..enc3 (3x3 s2 conv) --> encfc
 *     each: crossbar read (read noise, ADC per row tile) -> folded BN -> LIF
 *   --> post (digital FC + bias, LIF, k spikes per latent) -> q = mean of k
 *   --> z ~ Bernoulli(q) --> decfc --> dec1..dec3 (3x3 s2 transposed conv)
 *   --> out (3x3 s1 transposed conv, crossbar) -> acc = 0.8 acc + y
 *   --> recon_t = tanh(acc) --> m_t = sum |recon_t - recon_t-1| / 100 --> stop?
 *
 * The network is a layer graph (prime_vae_desc, prime_graph_clf.c) run by
 * the graph executor (prime_graph_run.c), as the classifier is: the crossbar
 * layers are masks over random conductances formed with the device model
 * (prime_device.c) and read by the one crossbar read of the engine
 * (prime_xbar_read, prime_crossbar.c). This file keeps the network's API:
 * geometry, its context, run, input and hole, step mode, results.
 * Inpainting never runs the prior network (PRIOR). Generation
 * (prime_vae_generate, end of file) runs it in place of the encoder and the
 * posterior: z_t ~ Bernoulli(p(z_t | z_(t-1))) --> the same decoder and readout.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_crossbar.h"
#include "prime_internal.h"
#include "prime_vae_internal.h"

/* ============================================================ geometry */

/* Returns the paper's architecture (PRIME, arXiv 2407.18625). */
prime_vae_arch prime_vae_default_arch(void) {
    return (prime_vae_arch){.ch = 32, .latent = 128, .k = 20, .T = 16, .size = 32, .th = 0.2f, .keep = 0.25f,
                            .out_keep = 0.8f, .scale = 0.003f, .sparsity = 0.5f, .software = 0};
}

/* Returns the default run: convergence stop, m = L1 / 100, m < 0.2 after 3 decreases. */
prime_vae_run prime_vae_default_run(void) {
    return (prime_vae_run){.policy = PRIME_VAE_STOP_CONVERGENCE, .m_div = 100.0f, .m_th = 0.2f, .m_window = 3,
                           .min_steps = 1, .noise_seed = 1, .latent_seed = 7};
}

/* Returns the default macro with differential weight sd 6.916 uS (§3). */
prime_device prime_vae_default_device(void) {
    prime_device d = prime_default_device();
    d.g_sd = 6.916f / 1.41421356f;
    return d;
}

/* Fills *o with the geometry of layer i (HWC activations); 0 or -1. */
int prime_vae_layer_info(const prime_vae_arch *a, int i, prime_vae_layer *o) {
    if (!a || !o) return prime_error("prime_vae_layer_info: NULL argument");
    if (i < 0 || i >= PRIME_VAE_LAYERS) return prime_error("vae layer %d out of range 0..%d", i, PRIME_VAE_LAYERS - 1);
    const int C = a->ch, L = a->latent, S = a->size, s8 = a->size / 8;
    memset(o, 0, sizeof *o);
    o->k = 3, o->stride = 2, o->pad = 1, o->crossbar = 1, o->bn = 1, o->lif = 1;
    switch (i) {
    case PRIME_VAE_ENC1: o->op = PRIME_VAE_CONV; o->in_c = 1; o->in_h = S; o->out_c = C; o->out_h = S / 2; break;
    case PRIME_VAE_ENC2: o->op = PRIME_VAE_CONV; o->in_c = C; o->in_h = S / 2; o->out_c = C; o->out_h = S / 4; break;
    case PRIME_VAE_ENC3: o->op = PRIME_VAE_CONV; o->in_c = C; o->in_h = S / 4; o->out_c = C; o->out_h = s8; break;
    case PRIME_VAE_ENCFC: o->op = PRIME_VAE_FC; o->in_c = C; o->in_h = s8; o->out_c = L; o->out_h = 1; break;
    case PRIME_VAE_POST: case PRIME_VAE_PRIOR:
        o->op = PRIME_VAE_FC; o->in_c = L; o->in_h = 1; o->out_c = L * a->k; o->out_h = 1;
        o->crossbar = 0, o->bn = 0, o->bias = 1; break;
    case PRIME_VAE_DECFC: o->op = PRIME_VAE_FC; o->in_c = L; o->in_h = 1; o->out_c = C; o->out_h = s8; break;
    case PRIME_VAE_DEC1: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = s8; o->out_c = C; o->out_h = S / 4; break;
    case PRIME_VAE_DEC2: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = S / 4; o->out_c = C; o->out_h = S / 2; break;
    case PRIME_VAE_DEC3: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = S / 2; o->out_c = C; o->out_h = S; break;
    case PRIME_VAE_OUT: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = S; o->out_c = 1; o->out_h = S;
        o->stride = 1, o->bn = 0, o->lif = 0; break;
    }
    o->in_w = o->in_h, o->out_w = o->out_h;
    if (o->op == PRIME_VAE_FC) {
        o->k = 1, o->stride = 1, o->pad = 0;
        o->rows = o->in_c * o->in_h * o->in_w;
        o->cols = o->out_c * o->out_h * o->out_w;
    } else {
        o->rows = o->in_c * o->k * o->k;
        o->cols = o->out_c;
    }
    return 0;
}

/* The crossbar read's geometry of layer g (weights attached by the caller). */
static prime_xbar vae_xbar(const prime_vae_layer *g) {
    return (prime_xbar){.op = g->op == PRIME_VAE_FC ? PRIME_XB_FC : g->op == PRIME_VAE_CONV ? PRIME_XB_CONV : PRIME_XB_TCONV,
                        .in_c = g->in_c, .in_h = g->in_h, .in_w = g->in_w, .out_c = g->out_c, .out_h = g->out_h,
                        .out_w = g->out_w, .k = g->k, .stride = g->stride, .pad = g->pad, .fc_chw = 0,
                        .rows = g->rows, .cols = g->cols,
                        .row_tiles = (g->rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE};
}

/* Connection list of a conv / tconv layer: (in pos, out pos, ky*k+kx) triples,
 * grouped by input position; malloc'ed, NULL on error. */
int *prime_vae_connections(const prime_vae_arch *a, int i, size_t *n) {
    prime_vae_layer g = {0};
    if (prime_vae_layer_info(a, i, &g) != 0) return NULL;
    if (g.op == PRIME_VAE_FC) { prime_error("vae layer %d is fully connected", i); return NULL; }
    prime_xbar X = vae_xbar(&g);
    return prime_xbar_connections(&X, n);
}

/* ============================================================ context */

/* Checks an architecture and its size against the caps of prime.h; 0 or -1. (The
 * model prime_vae_create builds is planned again, node by node, by prime_graph_plan.) */
int prime_vae_arch_check(const prime_vae_arch *a) {
    if (a->ch < 1 || a->ch > 256) return prime_error("vae: ch = %d out of 1..256", a->ch);
    if (a->latent < 1 || a->latent > 1024) return prime_error("vae: latent = %d out of 1..1024", a->latent);
    if (a->k < 1 || a->k > 64) return prime_error("vae: k = %d out of 1..64", a->k);
    if (a->T < 1 || a->T > PRIME_MAX_T) return prime_error("vae: T = %d out of 1..%d", a->T, PRIME_MAX_T);
    if (a->size < 8 || a->size > 256 || a->size % 8) return prime_error("vae: size = %d (a multiple of 8, 8..256)", a->size);
    if (!(a->th > 0 && a->th < 100) || !(a->keep >= 0 && a->keep <= 1) || !(a->out_keep >= 0 && a->out_keep <= 1) ||
        !(a->scale > 0 && a->scale < 1e3f) || !(a->sparsity >= 0 && a->sparsity < 1))
        return prime_error("vae: th, keep, out_keep, scale or sparsity out of range");
    if (a->software != 0 && a->software != 1) return prime_error("vae: software = %d (0 macro, 1 software)", a->software);
    /* the network's size, in 64 bits (weights, state, scratch of every layer), against the caps */
    uint64_t cells = 0, floats = 0, state = 0, acc = 0, ints = 0, pixcap = 0, rowcap = 0, colcap = 0, padcap = 0;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(a, i, &g);
        uint64_t n = (uint64_t)g.rows * g.cols, nout = (uint64_t)g.out_c * g.out_h * g.out_w;
        uint64_t nin = (uint64_t)g.in_c * g.in_h * g.in_w, rt = ((uint64_t)g.rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
        if (g.crossbar && n > PRIME_MAX_LAYER_CELLS)
            return prime_error("vae layer %d: %d x %d weight matrix above the cap of %d cells", i, g.rows, g.cols,
                               PRIME_MAX_LAYER_CELLS);
        cells += g.crossbar ? n : 0;
        floats += (g.crossbar ? 8 * n : n + nout) + 2 * (uint64_t)g.out_c;
        state += 3 * nout;
        if (rt * nout > acc) acc = rt * nout;
        if (g.op != PRIME_VAE_FC) /* connection triples, then the gather list */
            ints += 3 * (uint64_t)g.in_h * g.in_w * g.k * g.k + (uint64_t)g.out_h * g.out_w + 1 +
                    2 * (uint64_t)g.in_h * g.in_w * g.k * g.k;
        if (nin > pixcap) pixcap = nin;
        if ((uint64_t)g.rows > rowcap) rowcap = (uint64_t)g.rows;
        if ((uint64_t)g.cols > colcap) colcap = (uint64_t)g.cols;
        uint64_t np = (uint64_t)g.in_c * (g.in_h + 2 * g.pad) * (g.in_w + 2 * g.pad);
        if (g.op != PRIME_VAE_FC && np > padcap) padcap = np;
    }
    uint64_t npix = (uint64_t)a->size * a->size;
    state += 2 * acc + 3 * npix + 2 * (uint64_t)a->latent + (uint64_t)PRIME_MAX_T * npix;
    ints += 4 * pixcap + 3 * rowcap + colcap + padcap;
    uint64_t bytes = 4 * (floats + state + ints) + cells + acc;
    if (cells > PRIME_MAX_MODEL_CELLS)
        return prime_error("vae: %llu crossbar cells, above the model cap of %d", (unsigned long long)cells, PRIME_MAX_MODEL_CELLS);
    if (state > PRIME_MAX_STATE_FLOATS)
        return prime_error("vae: state of %llu floats, above the model cap of %d", (unsigned long long)state,
                           PRIME_MAX_STATE_FLOATS);
    if (bytes > PRIME_MAX_CTX_BYTES || bytes > SIZE_MAX)
        return prime_error("vae: the network needs %llu bytes, above the cap of %u", (unsigned long long)bytes,
                           PRIME_MAX_CTX_BYTES);
    return 0;
}

/* Programs crossbar layer i from its mask (the device model's prime_dev_program). */
int prime_vae_program(prime_vae *v, int i) {
    const vlayer *L = &v->L[i];
    return L->g.crossbar ? prime_graph_program(v->g, 0, (int)(L->n - v->g->n[0]), 0) : 0;
}

/* The graph run of the network's run parameters. */
static prime_grun grun_of(const prime_vae_run *r) {
    prime_grun g = prime_graph_default_run();
    g.policy = r->policy == PRIME_VAE_STOP_CONVERGENCE ? PRIME_GP_CONVERGENCE : PRIME_GP_NONE;
    g.m_div = r->m_div, g.m_th = r->m_th, g.m_window = r->m_window, g.min_steps = r->min_steps;
    g.noise_seed = r->noise_seed, g.latent_seed = r->latent_seed;
    return g;
}

/* Returns a network with masks at keep, BN identity, latent weights 0; NULL on error. */
prime_vae *prime_vae_create(const prime_vae_arch *a, const prime_device *dev) {
    if (!a || !dev) { prime_error("prime_vae_create: NULL argument"); return NULL; }
    if (prime_vae_arch_check(a) != 0 || prime_device_check(dev) != 0) return NULL;
    prime_vae *v = calloc(1, sizeof *v);
    if (!v) { prime_error("out of memory"); return NULL; }
    v->a = *a, v->run = prime_vae_default_run();
    v->npix = a->size * a->size;
    prime_gdesc d;
    int node_of[PRIME_VAE_LAYERS], bn_of[PRIME_VAE_LAYERS];
    prime_grun r = grun_of(&v->run);
    v->img = malloc((size_t)v->npix * sizeof(float));
    if (!v->img || prime_vae_desc(a, &d, node_of, bn_of) != 0 || !(v->g = prime_graph_create(&d, dev)) ||
        prime_graph_set_run(v->g, &r) != 0) {
        if (!v->img) prime_error("out of memory");
        prime_vae_free(v);
        return NULL;
    }
    prime_gmodel *m = v->g;
    m->in_range = 1.0f; /* pixels in [-1, 1]: the DAC's full scale is 1 */
    m->dac_zeros = 1;
    m->software = a->software;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        prime_vae_layer_info(a, i, &L->g);
        const int sg = i == PRIME_VAE_POST ? 1 : i == PRIME_VAE_PRIOR ? 2 : 0;
        pg_node *n = &m->n[sg][node_of[i]];
        L->n = n, L->nout = (size_t)L->g.out_c * L->g.out_h * L->g.out_w;
        L->gp_on = n->gp_on, L->gn_on = n->gn_on, L->gp_off = n->gp_off, L->gn_off = n->gn_off;
        L->wt = n->wt, L->g2 = n->g2, L->mask = n->mask, L->bias = n->bias;
        L->bn_a = bn_of[i] >= 0 ? m->n[0][bn_of[i]].aff_a : NULL, L->bn_b = bn_of[i] >= 0 ? m->n[0][bn_of[i]].aff_b : NULL;
        if (a->software && L->g.crossbar) { /* free weights, zero until set */
            const size_t nw = (size_t)L->g.rows * L->g.cols;
            memset(L->wt, 0, nw * sizeof(float)), memset(L->g2, 0, nw * sizeof(float));
            prime_vae_program(v, i);
        }
    }
    return v;
}

/* Frees the network; NULL is fine. */
void prime_vae_free(prime_vae *v) {
    if (!v) return;
    prime_graph_free(v->g);
    free(v->img);
    free(v);
}

const prime_vae_arch *prime_vae_get_arch(const prime_vae *v) { return v ? &v->a : NULL; }
prime_device prime_vae_get_device(const prime_vae *v) { return v->g->dev; }

/* Applies device parameters; re-forms the conductances if a forming field changed. */
int prime_vae_set_device(prime_vae *v, const prime_device *d) {
    if (!v) return prime_error("prime_vae_set_device: NULL network");
    return prime_graph_set_device(v->g, d); /* device_wire.c: re-forms / re-programs only if needed */
}

prime_vae_run prime_vae_get_run(const prime_vae *v) { return v->run; }

/* Applies the run parameters; 0 or -1. */
int prime_vae_set_run(prime_vae *v, const prime_vae_run *r) {
    if (!v || !r) return prime_error("prime_vae_set_run: NULL argument");
    if (r->policy != PRIME_VAE_STOP_NONE && r->policy != PRIME_VAE_STOP_CONVERGENCE) return prime_error("vae run: policy %d (0 none, 1 convergence)", r->policy);
    if (!(r->m_div > 0) || !(r->m_th >= 0)) return prime_error("vae run: m_div must be > 0 and m_th >= 0");
    if (r->m_window < 1 || r->m_window > PRIME_MAX_T) return prime_error("vae run: m_window = %d out of 1..%d", r->m_window, PRIME_MAX_T);
    prime_grun g = grun_of(r);
    if (prime_graph_apply_run(v->g, &g, "vae run") != 0) return -1;
    v->run = *r, v->inference = 0;
    return 0;
}

/* The latent sampling's uniform for step t, variable d of inference `inf`
 * (the executor's latent node draws the same). */
double prime_vae_latent_uniform(const prime_vae *v, uint64_t inf, int t, int d) {
    return prime_rand_uniform(v->run.latent_seed, prime_mix64(inf * 64 + (uint64_t)t), (uint64_t)d);
}

/* ============================================================ a pass */

/* The masked input image into v->img; 0 or -1 naming a bad pixel. */
static int vae_input(prime_vae *v, const float *img, const uint8_t *hole) {
    const int S = v->a.size, c0 = S / 2 - 4;
    for (int p = 0; p < v->npix; p++) {
        float x = img[p];
        if (!isfinite(x) || x < -1.0001f || x > 1.0001f) return prime_error("inpaint: pixel %d = %g is not in [-1, 1]", p, (double)x);
        int y = p / S, xx = p % S;
        int in_hole = hole ? hole[p] != 0 : (y >= c0 && y < c0 + 8 && xx >= c0 && xx < c0 + 8);
        v->img[p] = in_hole ? -1.0f : x;
    }
    return 0;
}

/* The result after the steps run so far (counters, energy) into v->res. */
static void vae_result(prime_vae *v) {
    prime_gresult g;
    prime_vae_result *o = &v->res;
    memset(o, 0, sizeof *o);
    if (prime_graph_result(v->g, &g) != 0) return;
    const int t = g.steps_used;
    o->T = v->a.T, o->steps_used = t;
    memcpy(o->m, g.m, sizeof o->m);
    o->spikes = g.spikes, o->counters = g.counters, o->digital_macs = g.digital_macs, o->energy_pj = g.energy_pj;
    /* digital baseline: every layer dense (incl. the latent FC) for all T steps */
    const vlayer *P = &v->L[v->g->run.generate ? PRIME_VAE_PRIOR : PRIME_VAE_POST];
    const prime_counters *k = &o->counters;
    o->baseline_pj = prime_dev_baseline(&v->g->dev, k->macs_dense / t + (double)P->g.rows * P->g.cols, k->neuron_updates / t, v->a.T);
    o->energy_ratio = o->energy_pj > 0 ? o->baseline_pj / o->energy_pj : 0;
}

/* Begins a pass of the executor on v->img (inpainting) or from the prior (gen); 0 or -1. */
static int vae_begin(prime_vae *v, int gen) {
    prime_gmodel *m = v->g;
    prime_grun r = m->run;
    r.generate = gen;
    m->run = r;
    m->inference = v->inference; /* keys the read-noise and latent streams of the pass */
    v->steps = 0, v->stepping = 0;
    return prime_graph_begin_checked(m, gen ? NULL : v->img, 1, 0, 1.0f);
}

/* Runs a begun pass to its end; counts it. */
static int vae_run(prime_vae *v, prime_vae_result *r) {
    while (prime_graph_step(v->g) == 1) {}
    v->steps = v->g->steps;
    v->inference++;
    vae_result(v);
    *r = v->res;
    return 0;
}

/* Inpaints one image (see prime.h); 0 or -1. */
int prime_vae_inpaint(prime_vae *v, const float *img, const uint8_t *hole, prime_vae_result *r) {
    if (!v || !img || !r) return prime_error("prime_vae_inpaint: NULL argument");
    if (vae_input(v, img, hole) != 0 || vae_begin(v, 0) != 0) return -1;
    return vae_run(v, r);
}

/* ============================================================ step mode */

/* Step mode of an inpaint: the input as prime_vae_inpaint, no step run yet; 0 or -1. */
int prime_vae_begin(prime_vae *v, const float *img, const uint8_t *hole) {
    if (!v || !img) return prime_error("prime_vae_begin: NULL argument");
    if (vae_input(v, img, hole) != 0 || vae_begin(v, 0) != 0) return -1;
    memset(&v->res, 0, sizeof v->res);
    v->stepping = 1;
    return 0;
}

/* Runs the next step: 1 if it ran, 0 when finished (T or the early stop), -1 without a begin. */
int prime_vae_step(prime_vae *v) {
    if (!v) return prime_error("prime_vae_step: NULL network");
    if (!v->stepping) return v->steps ? 0 : prime_error("prime_vae_step: call prime_vae_begin first");
    if (prime_graph_step(v->g) != 1) return -1;
    v->steps = v->g->steps;
    if (v->g->done) v->stepping = 0, v->inference++; /* the pass is over: as prime_vae_inpaint */
    vae_result(v);
    return 1;
}

/* The result after the steps run so far (step mode, or the last pass); 0 or -1. */
int prime_vae_result_get(const prime_vae *v, prime_vae_result *r) {
    if (!v || !r) return prime_error("prime_vae_result_get: NULL argument");
    *r = v->res;
    return 0;
}

/* Image after step t of the last inpaint or generate (owned by v), or NULL. */
const float *prime_vae_recon(const prime_vae *v, int t) {
    if (!v) { prime_error("NULL network"); return NULL; }
    if (t < 0 || t >= v->steps) { prime_error("step %d was not run (0..%d)", t, v->steps - 1); return NULL; }
    return v->g->hist + (size_t)t * v->npix;
}


/* ============================================================ generation */

/* Generates one image from the prior (see prime.h); 0 or -1. The pass index
 * that keys the read-noise and latent streams is the seed for this call, so
 * the result depends on the seed only, not on earlier calls. */
int prime_vae_generate(prime_vae *v, uint64_t seed, prime_vae_result *r) {
    if (!v || !r) return prime_error("prime_vae_generate: NULL argument");
    const uint64_t pass = v->inference;
    v->inference = seed;
    int rc = vae_begin(v, 1);
    if (rc == 0) rc = vae_run(v, r);
    v->g->run.generate = 0;
    v->inference = pass;
    return rc;
}
