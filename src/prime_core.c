/* prime_core.c - the memristor macro, the layers and the spiking network.
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
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"
#include "simd.h"

/* ============================================================ kernels */

/* y[0..n) += a * x[0..n): the crossbar's accumulate, vectorized over columns. */
static void k_axpy(float *restrict y, const float *restrict x, float a, int n) {
    int j = 0;
#ifndef PRIME_SCALAR
    pv va = pv_set1(a);
    for (; j + PV_W <= n; j += PV_W) pv_store(y + j, pv_add(pv_load(y + j), pv_mul(va, pv_load(x + j))));
#endif
    for (; j < n; j++) y[j] = y[j] + a * x[j];
}

/* Hidden LIF cell over n neurons (reference.md §2, in this order):
 * U *= 1 - s; U *= 1 - decay; U += I; U = LeakyReLU(U); s = U > th. */
static void k_lif(float *restrict u, float *restrict s, const float *restrict in, int n,
                  float keep, float leak, float th) {
    int j = 0;
#ifndef PRIME_SCALAR
    pv one = pv_set1(1.0f), vk = pv_set1(keep), vl = pv_set1(leak), vt = pv_set1(th), zero = pv_set1(0.0f);
    for (; j + PV_W <= n; j += PV_W) {
        pv U = pv_load(u + j), S = pv_load(s + j);
        U = pv_mul(U, pv_add(one, pv_mul(pv_set1(-1.0f), S)));
        U = pv_mul(U, vk);
        U = pv_add(U, pv_load(in + j));
        U = pv_select(pv_gt(U, zero), U, pv_mul(U, vl));
        pv_store(u + j, U);
        pv_store(s + j, pv_and(pv_gt(U, vt), one));
    }
#endif
    for (; j < n; j++) {
        float U = u[j];
        U = U * (1.0f + -1.0f * s[j]);
        U = U * keep;
        U = U + in[j];
        U = U > 0.0f ? U : U * leak;
        u[j] = U;
        s[j] = U > th ? 1.0f : 0.0f;
    }
}

/* Output cell: U = LeakyReLU(U + I); sum += U. */
static void k_output(float *restrict u, float *restrict sum, const float *restrict in, int n, float leak) {
    for (int j = 0; j < n; j++) {
        float U = u[j] + in[j];
        U = U > 0.0f ? U : U * leak;
        u[j] = U;
        sum[j] = sum[j] + U;
    }
}

/* ============================================================ device model */

enum { ST_ON = 0, ST_OFF = 2, ST_PROG = 4, ST_FAULT = 6, ST_READ = 8 };

/* Returns the formed on-state conductance of cell `cell` of pair i (uS). */
float prime_dev_form_on(const prime_device *d, int layer, int cell, size_t i) {
    double z = prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_ON + cell, i);
    double g;
    if (d->g_dist == PRIME_DIST_LOGNORMAL) {
        double m = d->g_mean, s = d->g_sd;
        double s2 = prime_log(1.0 + (s * s) / (m * m));
        double mu = prime_log(m) - 0.5 * s2;
        g = prime_exp(mu + sqrt(s2) * z);
    } else {
        g = d->g_mean + d->g_sd * z;
    }
    if (g < 0) g = 0;
    if (g > d->g_max) g = d->g_max;
    return (float)g;
}

/* Returns the conductance a reset (pruned) cell ends at: the off state plus
 * programming noise (Gaussian, clipped at 2 sigma), never below 0 (uS). */
float prime_dev_form_off(const prime_device *d, int layer, int cell, size_t i) {
    double g = d->g_off + d->g_off_sd * prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_OFF + cell, i);
    double z = prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_PROG + cell, i);
    if (z > 2) z = 2;
    if (z < -2) z = -2;
    g += z * d->prog_noise * d->g_mean;
    return (float)(g < 0 ? 0 : g);
}

/* Returns the fault of a cell: 0 none, 1 stuck at on, 2 stuck at off. */
int prime_dev_fault(const prime_device *d, int layer, int cell, size_t i) {
    if (d->stuck_on <= 0 && d->stuck_off <= 0) return 0;
    double u = prime_rand_uniform(d->chip_seed, (uint64_t)layer * 16 + ST_FAULT + cell, i);
    if (u < d->stuck_on) return 1;
    if (u < (double)d->stuck_on + d->stuck_off) return 2;
    return 0;
}

/* Samples the formed on/off conductances of weight layer l (unless the user
 * gave a measured map for it). */
static void form_layer(prime_ctx *c, int l) {
    wlayer *w = &c->w[l];
    size_t n = (size_t)w->rows * w->cols;
    for (size_t i = 0; i < n; i++) {
        if (!w->measured) {
            w->gp_on[i] = prime_dev_form_on(&c->dev, l, 0, i);
            w->gn_on[i] = prime_dev_form_on(&c->dev, l, 1, i);
        }
        w->gp_off[i] = prime_dev_form_off(&c->dev, l, 0, i);
        w->gn_off[i] = prime_dev_form_off(&c->dev, l, 1, i);
    }
}

/* Programs layer l from its mask: kept pairs at their formed state, pruned
 * pairs reset to off, stuck cells at their fault; derives the weights, the
 * squared conductances for column noise and the ADC full scale. */
void prime_program_layer(prime_ctx *c, int l) {
    wlayer *w = &c->w[l];
    const prime_layer *L = &c->arch.layers[l];
    const prime_device *d = &c->dev;
    size_t n = (size_t)w->rows * w->cols;
    float sc = L->scale;
    for (size_t i = 0; i < n; i++) {
        float gp = w->mask[i] ? w->gp_on[i] : w->gp_off[i];
        float gn = w->mask[i] ? w->gn_on[i] : w->gn_off[i];
        int f = prime_dev_fault(d, l, 0, i);
        if (f) gp = f == 1 ? d->g_max : d->g_off;
        f = prime_dev_fault(d, l, 1, i);
        if (f) gn = f == 1 ? d->g_max : d->g_off;
        w->gp[i] = gp, w->gn[i] = gn;
        w->wt[i] = (gp - gn) * sc;
        w->g2[i] = (gp * gp + gn * gn) * (sc * sc);
    }
    /* ADC full scale: the largest |column current| any row tile can carry at
     * input 1 (then times the layer's input full scale at run time). */
    double mx = 0;
    for (int rt = 0; rt < w->row_tiles; rt++) {
        int r0 = rt * PRIME_ARRAY_SIZE, r1 = r0 + PRIME_ARRAY_SIZE;
        if (r1 > w->rows) r1 = w->rows;
        for (int j = 0; j < w->cols; j++) {
            double s = 0;
            for (int r = r0; r < r1; r++) s += fabsf(w->wt[(size_t)r * w->cols + j]);
            if (s > mx) mx = s;
        }
    }
    w->colmax = (float)(mx > 0 ? mx : 1e-12);
}

/* ============================================================ context */

/* Allocates the context's buffers for c->arch; 0 or -1. */
static int ctx_alloc(prime_ctx *c) {
    const prime_arch *a = &c->arch;
    size_t nw = 0, ns = 0, acc = 0, in = (size_t)a->in_c * a->in_h * a->in_w;
    int arrays = 0;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        size_t out = (size_t)L->out_c * L->out_h * L->out_w;
        ns += out;
        if (out > c->max_act) c->max_act = out;
        if (prime_layer_rows(L)) {
            wlayer *w = &c->w[l];
            w->rows = prime_layer_rows(L), w->cols = prime_layer_cols(L);
            w->row_tiles = (w->rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
            w->col_tiles = (2 * w->cols + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
            w->first_array = arrays;
            arrays += w->row_tiles * w->col_tiles;
            nw += (size_t)w->rows * w->cols;
            size_t t = (size_t)w->row_tiles * out;
            if (t > acc) acc = t;
        }
    }
    if (in > c->max_act) c->max_act = in;
    c->n_arrays = arrays;
    c->n_in = in;
    /* one block for the weights: 8 floats + 1 mask byte per pair */
    c->wblock = malloc(nw * (8 * sizeof(float) + 1) + 16);
    /* one block for the state: u, s, cur, out per layer + sums + buffers */
    size_t nstate = 4 * ns + 2 * acc + 2 * c->max_act + PRIME_MAX_CLASSES;
    c->sblock = calloc(nstate, sizeof(float));
    c->active = calloc(acc ? acc : 1, 1);
    c->input = NULL;
    if (!c->wblock || !c->sblock || !c->active) return prime_error("out of memory allocating the model");
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
    c->acc = s, s += acc;
    c->var = s, s += acc;
    c->frame = s, s += c->max_act;
    c->view = s, s += c->max_act;
    c->sum = s;
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

/* Frees a context and everything it owns; NULL is fine. */
void prime_free(prime_ctx *c) {
    if (!c) return;
    free(c->wblock);
    free(c->sblock);
    free(c->active);
    free(c->input);
    free(c);
}

/* Returns the context's architecture (owned by the context). */
const prime_arch *prime_get_arch(const prime_ctx *c) { return &c->arch; }
/* Returns a copy of the device parameters. */
prime_device prime_get_device(const prime_ctx *c) { return c->dev; }
/* Returns a copy of the run parameters. */
prime_run prime_get_run(const prime_ctx *c) { return c->run; }

/* True when the two devices differ in a field that shapes the formed chip. */
static int forming_changed(const prime_device *a, const prime_device *b) {
    return a->chip_seed != b->chip_seed || a->g_dist != b->g_dist || a->g_mean != b->g_mean ||
           a->g_sd != b->g_sd || a->g_off != b->g_off || a->g_off_sd != b->g_off_sd ||
           a->g_max != b->g_max || a->prog_noise != b->prog_noise || a->stuck_on != b->stuck_on ||
           a->stuck_off != b->stuck_off;
}

/* Applies device parameters, re-forming the chip only when needed; 0 or -1. */
int prime_set_device(prime_ctx *c, const prime_device *d) {
    if (!c || !d) return prime_error("prime_set_device: NULL argument");
    if (prime_device_check(d) != 0) return -1;
    int reform = forming_changed(&c->dev, d);
    c->dev = *d;
    if (reform)
        for (int l = 0; l < c->arch.n_layers; l++)
            if (c->w[l].rows) form_layer(c, l), prime_program_layer(c, l);
    return 0;
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

/* ============================================================ macro read */

/* Quantizes a value to a signed ADC of `bits` over [-fs, fs). */
float prime_dev_adc(float v, float fs, int bits) {
    float half = (float)(1 << (bits - 1));
    float lsb = fs / half;
    float q = floorf(v / lsb + 0.5f);
    if (q > half - 1) q = half - 1;
    if (q < -half) q = -half;
    return q * lsb;
}

/* Quantizes an input to the DAC: 2^bits steps over [-xmax, xmax]. */
float prime_dev_dac(float x, float xmax, int bits) {
    float steps = (float)(1u << bits);
    float q = floorf(x / xmax * steps + 0.5f);
    if (q > steps) q = steps;
    if (q < -steps) q = -steps;
    return q / steps * xmax;
}

/* One crossbar layer for one timestep: x (HWC, in_c*in_h*in_w, already DAC
 * levels) -> cur (HWC, out). Row tiles accumulate separately, each gets its
 * read noise and ADC conversion, then the tiles are summed digitally. */
static void crossbar(prime_ctx *c, int l, const float *x, float xmax, float *cur, int t) {
    const prime_layer *L = &c->arch.layers[l];
    const wlayer *w = &c->w[l];
    const prime_device *d = &c->dev;
    const int OC = w->cols, OH = L->out_h, OW = L->out_w;
    const int IC = L->in_c, IH = L->in_h, IW = L->in_w;
    const size_t npos = (size_t)OH * OW, out = npos * OC;
    const int RT = w->row_tiles;
    const int noise_col = d->read_noise > 0 && d->noise_mode == PRIME_NOISE_COLUMN;
    const int noise_cell = d->read_noise > 0 && d->noise_mode == PRIME_NOISE_CELL;
    const float eta = d->read_noise;
    const uint64_t nkey = c->run.noise_seed;
    const uint64_t nstream = prime_mix64(((uint64_t)c->inference_now << 24) ^ ((uint64_t)t << 8) ^ (uint64_t)l) ;
    float *acc = c->acc, *var = c->var;
    uint8_t *act = c->active;
    memset(acc, 0, sizeof(float) * out * RT);
    if (noise_col) memset(var, 0, sizeof(float) * out * RT);
    memset(act, 0, npos * RT);
    double drives = 0;

    if (L->op == PRIME_OP_FC) {
        /* rows are the CHW flatten index; x is HWC */
        for (int h = 0; h < IH; h++)
            for (int ww = 0; ww < IW; ww++)
                for (int ic = 0; ic < IC; ic++) {
                    float v = x[((size_t)h * IW + ww) * IC + ic];
                    if (v == 0.0f) continue;
                    size_t r = ((size_t)ic * IH + h) * IW + ww;
                    int tile = (int)(r / PRIME_ARRAY_SIZE);
                    const float *wr = w->wt + r * OC;
                    float *a = acc + (size_t)tile * out;
                    if (noise_cell) {
                        for (int j = 0; j < OC; j++) {
                            uint64_t ctr = (r * OC + j) * 2;
                            float np = (float)prime_rand_normal(nkey, nstream, ctr);
                            float nn = (float)prime_rand_normal(nkey, nstream, ctr + 1);
                            size_t i = r * OC + j;
                            float g = w->gp[i] * (1.0f + eta * np) - w->gn[i] * (1.0f + eta * nn);
                            a[j] = a[j] + v * (g * L->scale);
                        }
                    } else {
                        k_axpy(a, wr, v, OC);
                        if (noise_col) k_axpy(var + (size_t)tile * out, w->g2 + r * OC, v * v, OC);
                    }
                    act[tile] = 1;
                    drives += 1;
                }
    } else {
        const int K = L->k, S = L->stride, P = L->pad;
        for (int iy = 0; iy < IH; iy++)
            for (int ix = 0; ix < IW; ix++)
                for (int ic = 0; ic < IC; ic++) {
                    float v = x[((size_t)iy * IW + ix) * IC + ic];
                    if (v == 0.0f) continue;
                    for (int ky = 0; ky < K; ky++) {
                        int ty = iy + P - ky;
                        if (ty < 0 || ty % S) continue;
                        int oy = ty / S;
                        if (oy >= OH) continue;
                        for (int kx = 0; kx < K; kx++) {
                            int tx = ix + P - kx;
                            if (tx < 0 || tx % S) continue;
                            int ox = tx / S;
                            if (ox >= OW) continue;
                            size_t r = ((size_t)ic * K + ky) * K + kx;
                            int tile = (int)(r / PRIME_ARRAY_SIZE);
                            size_t pos = (size_t)oy * OW + ox;
                            float *a = acc + (size_t)tile * out + pos * OC;
                            if (noise_cell) {
                                for (int j = 0; j < OC; j++) {
                                    uint64_t ctr = ((pos * w->rows + r) * OC + j) * 2;
                                    float np = (float)prime_rand_normal(nkey, nstream, ctr);
                                    float nn = (float)prime_rand_normal(nkey, nstream, ctr + 1);
                                    size_t i = r * OC + j;
                                    float g = w->gp[i] * (1.0f + eta * np) - w->gn[i] * (1.0f + eta * nn);
                                    a[j] = a[j] + v * (g * L->scale);
                                }
                            } else {
                                k_axpy(a, w->wt + r * OC, v, OC);
                                if (noise_col) k_axpy(var + (size_t)tile * out + pos * OC, w->g2 + r * OC, v * v, OC);
                            }
                            act[(size_t)tile * npos + pos] = 1;
                            drives += 1;
                        }
                    }
                }
    }

    /* noise, ADC per tile, digital sum over tiles */
    memset(cur, 0, sizeof(float) * out);
    double conversions = 0, reads = 0;
    const float fs = d->adc_fs * w->colmax * xmax;
    for (int tile = 0; tile < RT; tile++) {
        const float *a = acc + (size_t)tile * out, *vr = var + (size_t)tile * out;
        for (size_t pos = 0; pos < npos; pos++) {
            if (!act[(size_t)tile * npos + pos]) continue;
            reads += 1;
            conversions += OC;
            for (int j = 0; j < OC; j++) {
                size_t o = pos * OC + j;
                float v = a[o];
                if (noise_col) {
                    double z = prime_rand_normal(nkey, nstream ^ 0x5bd1e995u, ((uint64_t)tile * out + o));
                    v = v + (float)(eta * sqrt((double)vr[o]) * z);
                }
                if (d->adc_bits) v = prime_dev_adc(v, fs, d->adc_bits);
                cur[o] = cur[o] + v;
            }
        }
    }
    c->cnt.dac_drives += drives;
    c->cnt.cell_reads += drives * 2 * OC;
    c->cnt.adc_conversions += conversions;
    c->cnt.vmm_reads += reads;
    c->cnt.macs_dense += (double)npos * w->rows * OC;
    c->energy_adc_bits = d->adc_bits ? d->adc_bits : 16;
}

/* Average pool k x k over HWC. */
static void avgpool(const prime_layer *L, const float *x, float *y) {
    const int C = L->in_c, IW = L->in_w, K = L->k, OH = L->out_h, OW = L->out_w;
    const float inv = 1.0f / (float)(K * K);
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++) {
            float *o = y + ((size_t)oy * OW + ox) * C;
            memset(o, 0, sizeof(float) * C);
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++)
                    k_axpy(o, x + ((size_t)(oy * K + ky) * IW + (ox * K + kx)) * C, 1.0f, C);
            for (int ch = 0; ch < C; ch++) o[ch] = o[ch] * inv;
        }
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
static void run_step(prime_ctx *c) {
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
    float xmax = c->in_max;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        lstate *st = &c->st[l];
        const int n = (int)st->n;
        if (L->op == PRIME_OP_AVGPOOL) {
            avgpool(L, x, st->out);
            c->cnt.neuron_updates += n;
        } else {
            crossbar(c, l, x, xmax, st->cur, c->t);
            if (L->neuron == PRIME_NEURON_LIF) {
                k_lif(st->u, st->s, st->cur, n, 1.0f - L->decay, L->leak, L->th);
                double sp = 0;
                for (int i = 0; i < n; i++) sp += st->s[i];
                c->spikes[l] += sp;
                memcpy(st->out, st->s, n * sizeof(float));
            } else if (L->neuron == PRIME_NEURON_OUTPUT) {
                k_output(st->u, c->sum, st->cur, n, L->leak);
                memcpy(st->out, st->u, n * sizeof(float));
            } else {
                memcpy(st->out, st->cur, n * sizeof(float));
            }
            c->cnt.neuron_updates += n;
        }
        x = st->out;
        xmax = 1.0f; /* spikes and their pools live in [0, 1] */
    }
    c->t++;
    c->cnt.timesteps = c->t;
    /* confidence after this step */
    const int K = a->n_classes;
    double lg[PRIME_MAX_CLASSES], mx = -1e300, den = 0;
    int best = 0;
    for (int k = 0; k < K; k++) {
        lg[k] = (double)(c->sum[k] / (float)c->t) / c->run.alpha;
        if (lg[k] > mx) mx = lg[k], best = k;
    }
    for (int k = 0; k < K; k++) den += prime_exp(lg[k] - mx);
    c->conf[c->t - 1] = (float)(1.0 / den);
    c->step_label[c->t - 1] = best;
    if (c->t >= c->T) c->done = 1;
    if (c->run.policy == PRIME_STOP_CONFIDENCE && c->t >= c->run.min_steps && c->conf[c->t - 1] > c->run.threshold)
        c->done = 1;
}

/* Copies an input, resets the state and arms step mode; 0 or -1. */
int prime_begin(prime_ctx *c, const float *input, int T) {
    if (!c || !input) return prime_error("prime_begin: NULL argument");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("T = %d out of 1..%d", T, PRIME_MAX_T);
    size_t n = (size_t)T * c->n_in;
    if (c->input_cap < n) {
        float *p = realloc(c->input, n * sizeof(float));
        if (!p) return prime_error("out of memory for the input (%zu floats)", n);
        c->input = p, c->input_cap = n;
    }
    float mx = 0;
    for (size_t i = 0; i < n; i++) {
        float v = input[i];
        if (!isfinite(v)) return prime_error("input value %zu is not finite", i);
        if (fabsf(v) > 1e6f) return prime_error("input value %zu = %g is out of range (|x| <= 1e6)", i, (double)v);
        if (fabsf(v) > mx) mx = fabsf(v);
        c->input[i] = v;
    }
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
    double e_adc = d->e_adc_fom_fj * 1e-3 * ldexp(1.0, c->energy_adc_bits ? c->energy_adc_bits : 16);
    r->energy_pj = k->cell_reads * d->e_cell_pj + k->adc_conversions * e_adc + k->dac_drives * d->e_dac_pj +
                   k->neuron_updates * d->e_neuron_pj;
    /* digital baseline: the dense network for all T steps */
    double per_step_macs = k->macs_dense / c->t, per_step_neurons = k->neuron_updates / c->t;
    r->baseline_pj = (per_step_macs * d->e_mac_pj + per_step_neurons * d->e_neuron_pj) * c->T;
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

/* Returns layer l's state after the last step in CHW order (context-owned). */
const float *prime_layer_state(prime_ctx *c, int l, int what, size_t *n) {
    if (!c) { prime_error("NULL context"); return NULL; }
    if (l < 0 || l >= c->arch.n_layers) { prime_error("layer %d out of range", l); return NULL; }
    if (what < 0 || what > 2) { prime_error("state %d (0 membrane, 1 spikes, 2 current)", what); return NULL; }
    const prime_layer *L = &c->arch.layers[l];
    const lstate *st = &c->st[l];
    const float *src = what == 0 ? st->u : what == 1 ? st->s : st->cur;
    if (L->op == PRIME_OP_AVGPOOL) src = st->out; /* a pool has only its output */
    const int C = L->out_c, HW = L->out_h * L->out_w;
    for (int ch = 0; ch < C; ch++)
        for (int i = 0; i < HW; i++) c->view[(size_t)ch * HW + i] = src[(size_t)i * C + ch];
    if (n) *n = st->n;
    return c->view;
}
