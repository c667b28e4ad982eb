/* prime_core.c - the classification network: its context and its timestep.
 *
 * Data flow of one timestep (docs/architecture.md has the picture):
 *
 *   input frame [C][H][W] --DAC--> rows of the crossbar tiles of layer 0
 *     --(G+ - G-) * scale, read noise--> column currents --ADC--> digital sum
 *     of the row tiles --> LIF cell --> spikes --> avg pool (digital) --> ...
 *     --> FC tiles --> output cell --> mean membrane = logits --> early stop?
 *
 * Activations are kept channels-last (HWC) inside, so every kernel runs along
 * the output channels with the vector macros of simd.h. Accumulation is
 * event-driven: only inputs that are non-zero (spikes, events) drive rows.
 * The read of every weight layer is prime_xbar_read (prime_crossbar.c), the
 * cells are prime_kernels.c's, the stop is prime_policy.c's.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_crossbar.h"
#include "prime_internal.h"
#include "prime_kernels.h"

/* ============================================================ device */

/* Samples the formed on/off conductances of weight layer l (unless the user
 * gave a measured map for it). */
static void form_layer(prime_ctx *c, int l) {
    wlayer *w = &c->w[l];
    prime_dev_form(&c->dev, l, (size_t)w->rows * w->cols, w->measured, w->gp_on, w->gn_on, w->gp_off, w->gn_off);
}

/* Programs weight layer l of a classification context from its mask. */
int prime_program_layer(prime_ctx *c, int l) {
    wlayer *w = &c->w[l];
    size_t n = (size_t)w->rows * w->cols;
    int rc = 0;
    if (prime_fx_programs(&c->fx))
        rc = prime_dev_program_fx(&c->dev, &c->fx, l, w->rows, w->cols, w->mask, w->gp_on, w->gn_on, w->gp_off,
                                  w->gn_off, c->arch.layers[l].scale, w->gp, w->gn, w->gpe, w->gne, w->wt, w->g2);
    else
        prime_dev_program(&c->dev, l, n, w->mask, w->gp_on, w->gn_on, w->gp_off, w->gn_off, c->arch.layers[l].scale,
                          w->gp, w->gn, w->wt, w->g2);
    w->colmax = prime_dev_colmax(w->wt, w->rows, w->cols);
    prime_xbar *X = &c->xb[l];
    X->colmax = w->colmax;
    X->gp = w->gpe ? w->gpe : w->gp, X->gn = w->gne ? w->gne : w->gn;
    X->fx = &c->fx, X->adc_unit = w->adc_unit;
    return rc;
}

/* ============================================================ context */

/* Allocates the state block of c (u, s, cur, out per layer, the crossbar
 * scratch, the frame, the sums) and points c's state into it: every buffer
 * one inference writes. 0 or -1. */
static int ctx_alloc_state(prime_ctx *c, const prime_ctx_plan *plan) {
    const prime_arch *a = &c->arch;
    const size_t acc = (size_t)plan->acc;
    c->sblock = calloc((size_t)plan->state, sizeof(float));
    c->xs.active = calloc(acc ? acc : 1, 1);
    c->input = NULL, c->input_cap = 0;
    if (!c->sblock || !c->xs.active) return prime_error("out of memory allocating the model");
    float *s = c->sblock;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        size_t out = (size_t)L->out_c * L->out_h * L->out_w;
        c->st[l].u = s, s += out;
        c->st[l].s = s, s += out;
        c->st[l].cur = s, s += out;
        c->st[l].out = s, s += out;
        c->st[l].n = out;
    }
    prime_xscratch *xs = &c->xs;
    xs->acc = s, s += acc;
    xs->var = s, s += acc;
    c->frame = s, s += c->max_act;
    c->view = s, s += c->max_act;
    c->sum = s, s += PRIME_MAX_CLASSES;
    const size_t rowcap = (size_t)plan->rowcap, colcap = (size_t)plan->colcap;
    xs->rowoff = (int32_t *)s, s += rowcap; /* int32 and float are both 4 bytes */
    xs->rowval = s, s += rowcap;
    xs->rowval2 = s, s += rowcap;
    xs->zbuf = s, s += colcap;
    xs->pixcnt = (int32_t *)s, s += c->max_act;
    xs->pixoff = (int32_t *)s, s += c->max_act;
    xs->pixval = s, s += c->max_act;
    xs->pixval2 = s;
    xs->xpad = NULL; /* no transposed conv in a classifier */
    return 0;
}

/* Allocates the context's buffers for c->arch; 0 or -1. Every block size
 * comes from prime_arch_plan (64-bit, capped) and must fit size_t. */
static int ctx_alloc(prime_ctx *c) {
    const prime_arch *a = &c->arch;
    prime_ctx_plan plan;
    if (prime_arch_plan(a, &plan) != 0) return -1;
    if (plan.bytes > SIZE_MAX) return prime_error("the model needs %llu bytes, more than this build can address",
                                                  (unsigned long long)plan.bytes);
    size_t nw = (size_t)plan.cells;
    int arrays = 0;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        if (prime_layer_rows(L)) {
            wlayer *w = &c->w[l];
            w->rows = prime_layer_rows(L), w->cols = prime_layer_cols(L);
            w->row_tiles = (w->rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
            w->col_tiles = (2 * w->cols + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
            w->first_array = arrays;
            arrays += w->row_tiles * w->col_tiles;
        }
    }
    c->max_act = (size_t)plan.max_act;
    c->n_arrays = arrays;
    c->n_in = (size_t)plan.n_in;
    /* one block for the weights: 8 floats + 1 mask byte per pair */
    c->wblock = malloc(nw * (8 * sizeof(float) + 1) + 16);
    if (!c->wblock) return prime_error("out of memory allocating the model");
    if (ctx_alloc_state(c, &plan) != 0) return -1;
    float *p = c->wblock;
    size_t total = nw;
    uint8_t *mb = (uint8_t *)(p + 8 * total);
    for (int l = 0; l < a->n_layers; l++) {
        wlayer *w = &c->w[l];
        if (!w->rows) continue;
        size_t n = (size_t)w->rows * w->cols;
        w->gp_on = p, p += n;
        w->gn_on = p, p += n;
        w->gp_off = p, p += n;
        w->gn_off = p, p += n;
        w->gp = p, p += n;
        w->gn = p, p += n;
        w->wt = p, p += n;
        w->g2 = p, p += n;
        w->mask = mb, mb += n;
        memset(w->mask, 1, n);
    }
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        const wlayer *w = &c->w[l];
        if (!w->rows) continue;
        const int fc = L->op == PRIME_OP_FC;
        c->xb[l] = (prime_xbar){.op = fc ? PRIME_XB_FC : PRIME_XB_CONV, .in_c = L->in_c, .in_h = L->in_h,
                                .in_w = L->in_w, .out_c = L->out_c, .out_h = L->out_h, .out_w = L->out_w,
                                .k = fc ? 1 : L->k, .stride = fc ? 1 : L->stride, .pad = fc ? 0 : L->pad,
                                .fc_chw = 1, .rows = w->rows, .cols = w->cols, .row_tiles = w->row_tiles,
                                .wt = w->wt, .g2 = w->g2, .gp = w->gp, .gn = w->gn, .scale = L->scale,
                                .colmax = w->colmax,
                                /* every tap of every output position, padding included */
                                .dense_macs = (double)L->out_h * L->out_w * w->rows * w->cols};
    }
    return 0;
}

/* Makes a context for a finalized architecture and device; NULL on error. */
prime_ctx *prime_ctx_new(const prime_arch *arch, const prime_device *dev) {
    prime_arch a = *arch;
    if (prime_arch_finalize(&a) != 0) return NULL;
    if (prime_device_check(dev) != 0) return NULL;
    prime_ctx *c = calloc(1, sizeof *c);
    if (!c) { prime_error("out of memory"); return NULL; }
    c->arch = a;
    c->dev = *dev;
    c->fx = prime_fx_for(dev);
    c->run = prime_default_run();
    if (ctx_alloc(c) != 0) { prime_free(c); return NULL; }
    for (int l = 0; l < a.n_layers; l++)
        if (c->w[l].rows) form_layer(c, l), prime_program_layer(c, l);
    return c;
}

/* Returns a context with every mask at keep; NULL on error. */
prime_ctx *prime_create(const prime_arch *arch, const prime_device *dev) {
    if (!arch || !dev) { prime_error("prime_create: NULL argument"); return NULL; }
    return prime_ctx_new(arch, dev);
}

/* A context for one more thread: a copy of c (device, run, the weight views)
 * that reads c's weights and owns only a fresh state block, so it must be
 * freed (prime_free) before c and used only while c's weights do not change.
 * NULL on error. */
prime_ctx *prime_ctx_worker(const prime_ctx *c) {
    prime_ctx_plan plan;
    if (prime_arch_plan(&c->arch, &plan) != 0) return NULL;
    prime_ctx *k = malloc(sizeof *k);
    if (!k) { prime_error("out of memory"); return NULL; }
    *k = *c;
    k->shares_weights = 1;
    k->sblock = NULL, k->xs.active = NULL;
    if (ctx_alloc_state(k, &plan) != 0) { prime_free(k); return NULL; }
    return k;
}

/* Frees a context and everything it owns; NULL is fine. */
void prime_free(prime_ctx *c) {
    if (!c) return;
    if (!c->shares_weights) free(c->wblock), free(c->fxblock); /* a worker reads its parent's */
    free(c->sblock);
    free(c->xs.active);
    free(c->input);
    free(c);
}

/* Returns the context's architecture (owned by the context). */
const prime_arch *prime_get_arch(const prime_ctx *c) { return &c->arch; }
/* Returns a copy of the device parameters. */
prime_device prime_get_device(const prime_ctx *c) { return c->dev; }
/* Returns a copy of the run parameters. */
prime_run prime_get_run(const prime_ctx *c) { return c->run; }

/* Applies device parameters, re-forming the chip only when needed; 0 or -1. */
int prime_set_device(prime_ctx *c, const prime_device *d) {
    if (!c) return prime_error("prime_set_device: NULL context");
    if (!d) return prime_error("set_device: NULL argument");
    prime_devfx_params fx = c->fx;
    fx.read.eta = d->read_noise;
    return prime_set_devfx_with(c, d, &fx); /* device_wire.c: re-forms / re-programs only if needed */
}

/* Applies the run policy and restarts the noise stream; 0 or -1. */
int prime_set_run(prime_ctx *c, const prime_run *r) {
    if (!c || !r) return prime_error("prime_set_run: NULL argument");
    if (r->policy != PRIME_STOP_NONE && r->policy != PRIME_STOP_CONFIDENCE)
        return prime_error("run: policy %d (0 none, 1 confidence)", r->policy);
    if (!(r->alpha > 0 && r->alpha <= 1000)) return prime_error("run: alpha = %g out of (0, 1000]", (double)r->alpha);
    if (!(r->threshold >= 0 && r->threshold <= 1)) return prime_error("run: threshold = %g out of [0, 1]", (double)r->threshold);
    if (r->min_steps < 1 || r->min_steps > PRIME_MAX_T) return prime_error("run: min_steps = %d out of 1..%d", r->min_steps, PRIME_MAX_T);
    c->run = *r;
    c->inference = 0;
    return 0;
}

/* Returns the weight layer l or NULL with an error. */
static wlayer *get_wlayer(const prime_ctx *c, int l, size_t n) {
    if (!c) { prime_error("NULL context"); return NULL; }
    if (l < 0 || l >= c->arch.n_layers) { prime_error("layer %d out of range 0..%d", l, c->arch.n_layers - 1); return NULL; }
    wlayer *w = (wlayer *)&c->w[l];
    if (!w->rows) { prime_error("layer %d has no weights (a pool)", l); return NULL; }
    if (n != (size_t)w->rows * w->cols) { prime_error("layer %d has %zu weights, not %zu", l, (size_t)w->rows * w->cols, n); return NULL; }
    return w;
}

/* Sets layer l's mask (1 byte per pair) and re-programs it; 0 or -1. */
int prime_set_mask(prime_ctx *c, int l, const uint8_t *mask, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    for (size_t i = 0; i < n; i++) w->mask[i] = mask[i] ? 1 : 0;
    prime_program_layer(c, l);
    return 0;
}

/* Copies layer l's mask into mask[n]; 0 or -1. */
int prime_get_mask(const prime_ctx *c, int l, uint8_t *mask, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    memcpy(mask, w->mask, n);
    return 0;
}

/* Copies layer l's weights (programmed, or formed on-state if kept) to w[n]. */
int prime_get_weights(const prime_ctx *c, int l, int kept, float *out, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    float sc = c->arch.layers[l].scale;
    for (size_t i = 0; i < n; i++) out[i] = kept ? (w->gp_on[i] - w->gn_on[i]) * sc : w->wt[i];
    return 0;
}

/* sqrt(G+^2 + G-^2) * scale of layer l's pairs (on-state, or as programmed); 0 or -1. */
int prime_get_noise_weights(const prime_ctx *c, int l, int kept, float *out, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
    if (!w) return -1;
    float sc = c->arch.layers[l].scale;
    for (size_t i = 0; i < n; i++)
        out[i] = kept ? sqrtf(w->gp_on[i] * w->gp_on[i] + w->gn_on[i] * w->gn_on[i]) * sc : sqrtf(w->g2[i]);
    return 0;
}

/* Replaces layer l's formed conductances by a measured map; 0 or -1. */
int prime_set_conductances(prime_ctx *c, int l, const float *gpos, const float *gneg, size_t n) {
    wlayer *w = get_wlayer(c, l, n);
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
    const wlayer *w = &c->w[l];
    memset(t, 0, sizeof *t);
    if (!w->rows) return prime_error("layer %d has no weights (a pool)", l);
    t->rows = w->rows, t->cols = w->cols;
    t->row_tiles = w->row_tiles, t->col_tiles = w->col_tiles;
    t->arrays = w->row_tiles * w->col_tiles;
    t->fill = (double)w->rows * 2 * w->cols / ((double)t->arrays * PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
    t->first_array = w->first_array;
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
        const wlayer *w = &c->w[l];
        if (!w->rows || a < w->first_array || a >= w->first_array + w->row_tiles * w->col_tiles) continue;
        int k = a - w->first_array, rt = k / w->col_tiles, ct = k % w->col_tiles;
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

/* Resets the state and the counters for a new input. */
static void reset_state(prime_ctx *c) {
    for (int l = 0; l < c->arch.n_layers; l++) {
        size_t n = c->st[l].n;
        memset(c->st[l].u, 0, n * sizeof(float));
        memset(c->st[l].s, 0, n * sizeof(float));
        memset(c->st[l].cur, 0, n * sizeof(float));
        memset(c->st[l].out, 0, n * sizeof(float));
        c->spikes[l] = 0;
    }
    memset(c->sum, 0, PRIME_MAX_CLASSES * sizeof(float));
    memset(&c->cnt, 0, sizeof c->cnt);
    memset(c->conf, 0, sizeof c->conf);
    c->t = 0;
    c->done = 0;
}

/* Runs timestep c->t: frame -> layers -> output sums. */
PRIME_NOINLINE static void run_step(prime_ctx *c) {
    const prime_arch *a = &c->arch;
    const int C = a->in_c, H = a->in_h, W = a->in_w;
    const float *src = c->input + (size_t)c->t * c->n_in;
    /* [C][H][W] -> HWC with DAC quantization */
    float *x = c->frame;
    for (int ch = 0; ch < C; ch++)
        for (int i = 0; i < H * W; i++) {
            float v = src[(size_t)ch * H * W + i];
            if (c->dev.dac_bits && v != 0.0f) v = prime_dev_dac(v, c->in_max, c->dev.dac_bits);
            x[(size_t)i * C + ch] = v;
        }
    if (c->dac_unit && c->dev.dac_bits) /* DACs with non-idealities (device_wire.c): one per input value */
        for (int ch = 0; ch < C; ch++)
            for (int i = 0; i < H * W; i++) {
                float v = src[(size_t)ch * H * W + i];
                if (v != 0.0f)
                    x[(size_t)i * C + ch] = prime_fx_dac(&c->fx.dac, c->dac_unit[(size_t)ch * H * W + i], v, c->in_max,
                                                         c->dev.dac_bits, &c->cnt.dac_clipped);
            }
    float xmax = c->in_max;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        lstate *st = &c->st[l];
        const int n = (int)st->n;
        if (L->op == PRIME_OP_AVGPOOL) {
            prime_kernel_avgpool(x, st->out, L->in_c, L->in_w, L->k, L->out_h, L->out_w);
            c->cnt.neuron_updates += n;
            x = st->out;
        } else {
            const prime_xread rd = {.noise_seed = c->run.noise_seed, .inference = c->inference_now, .t = c->t,
                                    .key = l, .xmax = xmax};
            prime_xbar_read(&c->xb[l], &c->xs, &c->dev, &rd, x, st->cur, &c->cnt);
            c->energy_adc_bits = c->dev.adc_bits ? c->dev.adc_bits : 16;
            if (L->neuron == PRIME_NEURON_LIF) {
                prime_kernel_lif(st->u, st->s, st->cur, n, 1.0f - L->decay, L->leak, L->th);
                c->spikes[l] += prime_kernel_count(st->s, n);
                x = st->s; /* the next layer reads the spikes in place */
            } else if (L->neuron == PRIME_NEURON_OUTPUT) {
                prime_kernel_output(st->u, c->sum, st->cur, n, L->leak);
                x = st->u;
            } else {
                x = st->cur;
            }
            c->cnt.neuron_updates += n;
        }
        xmax = 1.0f; /* spikes and their pools live in [0, 1] */
    }
    c->t++;
    c->cnt.timesteps = c->t;
    /* confidence after this step */
    c->conf[c->t - 1] = prime_policy_confidence(c->sum, a->n_classes, c->t, c->run.alpha, &c->step_label[c->t - 1]);
    if (c->t >= c->T) c->done = 1;
    if (c->run.policy == PRIME_STOP_CONFIDENCE && c->t >= c->run.min_steps && c->conf[c->t - 1] > c->run.threshold)
        c->done = 1;
}

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
    float mx;
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
    c->in_max = mx > 0 ? mx : 1.0f;
    c->T = T;
    reset_state(c);
    c->armed = 1;
    c->inference_now = c->inference++;
    return 0;
}

/* Runs one timestep; 1 if it ran, 0 if finished, -1 on error. */
int prime_step(prime_ctx *c) {
    if (!c) return prime_error("NULL context");
    if (!c->armed) return prime_error("prime_step before prime_begin");
    if (c->done) return 0;
    run_step(c);
    return 1;
}

/* Fills *r with the result after the steps run so far; 0 or -1. */
int prime_result_get(const prime_ctx *c, prime_result *r) {
    if (!c || !r) return prime_error("NULL argument");
    if (!c->armed || c->t == 0) return prime_error("no step has run yet");
    const prime_arch *a = &c->arch;
    const prime_device *d = &c->dev;
    memset(r, 0, sizeof *r);
    r->T = c->T;
    r->steps_used = c->t;
    r->n_classes = a->n_classes;
    r->n_layers = a->n_layers;
    double mx = -1e300, den = 0, e[PRIME_MAX_CLASSES];
    for (int k = 0; k < a->n_classes; k++) {
        r->logits[k] = c->sum[k] / (float)c->t;
        if (r->logits[k] > mx) mx = r->logits[k], r->label = k;
    }
    for (int k = 0; k < a->n_classes; k++) den += (e[k] = prime_exp(((double)r->logits[k] - mx) / c->run.alpha));
    for (int k = 0; k < a->n_classes; k++) r->probs[k] = (float)(e[k] / den);
    for (int t = 0; t < c->t; t++) r->confidence[t] = c->conf[t], r->step_label[t] = c->step_label[t];
    for (int l = 0; l < a->n_layers; l++) r->spikes[l] = c->spikes[l];
    r->counters = c->cnt;
    const prime_counters *k = &c->cnt;
    r->energy_pj = prime_dev_energy(d, k, 0, c->energy_adc_bits);
    /* digital baseline: the dense network for all T steps */
    r->baseline_pj = prime_dev_baseline(d, k->macs_dense / c->t, k->neuron_updates / c->t, c->T);
    r->energy_ratio = r->energy_pj > 0 ? r->baseline_pj / r->energy_pj : 0;
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
    if (!c) { prime_error("NULL context"); return NULL; }
    if (l < 0 || l >= c->arch.n_layers) { prime_error("layer %d out of range", l); return NULL; }
    if ((int)what < PRIME_STATE_MEMBRANE || (int)what > PRIME_STATE_CURRENT) {
        prime_error("state %d (0 membrane, 1 spikes, 2 current)", (int)what);
        return NULL;
    }
    const prime_layer *L = &c->arch.layers[l];
    const lstate *st = &c->st[l];
    const float *src = what == PRIME_STATE_MEMBRANE ? st->u : what == PRIME_STATE_SPIKES ? st->s : st->cur;
    if (L->op == PRIME_OP_AVGPOOL) src = st->out; /* a pool has only its output */
    const int C = L->out_c, HW = L->out_h * L->out_w;
    for (int ch = 0; ch < C; ch++)
        for (int i = 0; i < HW; i++) c->view[(size_t)ch * HW + i] = src[(size_t)i * C + ch];
    if (n) *n = st->n;
    return c->view;
}
