/* prime_util.c - errors, architecture helpers and default parameters. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_internal.h"

/* ============================================================ errors */

#if defined(__EMSCRIPTEN__) || defined(__wasm__)
#define PRIME_TLS
#else
#define PRIME_TLS _Thread_local
#endif

static PRIME_TLS char g_err[512];

/* Returns the message of the thread's last error ("" if none); never NULL. */
const char *prime_last_error(void) { return g_err; }

/* Formats the thread's last error; always returns -1. The message may quote
 * prime_last_error() itself ("model file: %s"): formatted apart, then copied. */
int prime_error(const char *fmt, ...) {
    char msg[sizeof g_err];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(g_err, msg, sizeof msg);
    return -1;
}

/* Frees a buffer that a prime_* function malloc'ed for the caller. */
void prime_free_buffer(void *p) { free(p); }

/* ============================================================ architecture */

/* Returns the PRIME N-MNIST classification network of the PRIME paper (arXiv 2407.18625). */
prime_arch prime_arch_nmnist(void) {
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.task = PRIME_TASK_CLASSIFY;
    a.T = 10;
    a.in_c = 2, a.in_h = 34, a.in_w = 34;
    a.n_classes = 10;
    prime_layer conv = {0};
    conv.op = PRIME_OP_CONV, conv.stride = 1, conv.neuron = PRIME_NEURON_LIF;
    conv.th = 0.2f, conv.decay = 0.8f, conv.leak = 0.1f, conv.scale = 0.01f, conv.sparsity = 0.5f;
    prime_layer pool = {0};
    pool.op = PRIME_OP_AVGPOOL, pool.k = 2, pool.stride = 2;
    a.layers[0] = conv, a.layers[0].out_c = 12, a.layers[0].k = 5, a.layers[0].pad = 1;
    a.layers[1] = pool;
    a.layers[2] = conv, a.layers[2].out_c = 64, a.layers[2].k = 5, a.layers[2].pad = 0;
    a.layers[3] = pool;
    prime_layer fc = {0};
    fc.op = PRIME_OP_FC, fc.out_c = 10, fc.neuron = PRIME_NEURON_OUTPUT;
    fc.leak = 0.1f, fc.scale = 0.01f, fc.sparsity = 0.5f, fc.k = 1, fc.stride = 1;
    a.layers[4] = fc;
    a.n_layers = 5;
    prime_arch_finalize(&a);
    return a;
}

/* Derives every layer's input/output shape from the previous one and checks
 * the architecture; returns 0, or -1 with a message naming the layer. */
int prime_arch_finalize(prime_arch *a) {
    if (a->task != PRIME_TASK_CLASSIFY) return prime_error("architecture: unknown task %d", a->task);
    if (a->T < 1 || a->T > PRIME_MAX_T) return prime_error("architecture: T = %d out of 1..%d", a->T, PRIME_MAX_T);
    if (a->n_layers < 1 || a->n_layers > PRIME_MAX_LAYERS)
        return prime_error("architecture: %d layers (1..%d allowed)", a->n_layers, PRIME_MAX_LAYERS);
    if (a->in_c < 1 || a->in_h < 1 || a->in_w < 1 || a->in_c > PRIME_MAX_DIM || a->in_h > PRIME_MAX_DIM ||
        a->in_w > PRIME_MAX_DIM)
        return prime_error("architecture: input shape %dx%dx%d out of range (1..%d each)", a->in_c, a->in_h, a->in_w,
                           PRIME_MAX_DIM);
    if ((int64_t)a->in_c * a->in_h * a->in_w > PRIME_MAX_INPUT)
        return prime_error("architecture: input %dx%dx%d has more than %d values", a->in_c, a->in_h, a->in_w,
                           PRIME_MAX_INPUT);
    int c = a->in_c, h = a->in_h, w = a->in_w;
    for (int i = 0; i < a->n_layers; i++) {
        prime_layer *l = &a->layers[i];
        l->in_c = c, l->in_h = h, l->in_w = w;
        if (l->neuron < PRIME_NEURON_NONE || l->neuron > PRIME_NEURON_OUTPUT)
            return prime_error("layer %d: unknown neuron type %d", i, l->neuron);
        if (!(l->leak >= 0 && l->leak <= 1)) return prime_error("layer %d: LeakyReLU slope out of [0,1]", i);
        if (!(l->decay >= 0 && l->decay <= 1)) return prime_error("layer %d: decay out of [0,1]", i);
        if (!isfinite(l->th) || !isfinite(l->scale)) return prime_error("layer %d: threshold or scale not finite", i);
        if (!(l->sparsity >= 0 && l->sparsity <= 1)) return prime_error("layer %d: sparsity out of [0,1]", i);
        switch (l->op) {
        case PRIME_OP_CONV:
            if (l->k < 1 || l->k > 15 || l->stride < 1 || l->stride > 8 || l->pad < 0 || l->pad >= l->k)
                return prime_error("layer %d: conv kernel %d stride %d pad %d out of range", i, l->k, l->stride, l->pad);
            if (l->out_c < 1 || l->out_c > 4096) return prime_error("layer %d: %d output channels", i, l->out_c);
            l->out_h = (h + 2 * l->pad - l->k) / l->stride + 1;
            l->out_w = (w + 2 * l->pad - l->k) / l->stride + 1;
            if (h + 2 * l->pad < l->k || w + 2 * l->pad < l->k)
                return prime_error("layer %d: kernel %d larger than padded input %dx%d", i, l->k, h, w);
            break;
        case PRIME_OP_AVGPOOL:
            if (l->k < 1 || l->k > 8) return prime_error("layer %d: pool size %d out of range", i, l->k);
            if (l->neuron != PRIME_NEURON_NONE) return prime_error("layer %d: a pool has no neuron", i);
            l->stride = l->k, l->pad = 0;
            l->out_c = c, l->out_h = h / l->k, l->out_w = w / l->k;
            if (l->out_h < 1 || l->out_w < 1) return prime_error("layer %d: pool %d larger than input", i, l->k);
            break;
        case PRIME_OP_FC:
            if (l->out_c < 1 || l->out_c > 4096) return prime_error("layer %d: %d outputs", i, l->out_c);
            l->k = 1, l->stride = 1, l->pad = 0;
            l->out_h = 1, l->out_w = 1;
            break;
        default:
            return prime_error("layer %d: unknown op %d", i, l->op);
        }
        /* 64-bit sizes, so no product wraps: fan-in (FC: the flattened input), cells, outputs */
        int64_t rows = l->op == PRIME_OP_CONV ? (int64_t)c * l->k * l->k : l->op == PRIME_OP_FC ? (int64_t)c * h * w : 0;
        int64_t outs = (int64_t)l->out_c * l->out_h * l->out_w;
        if (rows > PRIME_MAX_FAN_IN)
            return prime_error("layer %d: fan-in %lld above the cap of %d rows", i, (long long)rows, PRIME_MAX_FAN_IN);
        if (rows * l->out_c > PRIME_MAX_LAYER_CELLS)
            return prime_error("layer %d: %lld x %d weight matrix above the cap of %d cells", i, (long long)rows,
                               l->out_c, PRIME_MAX_LAYER_CELLS);
        if (outs > PRIME_MAX_LAYER_OUTPUTS)
            return prime_error("layer %d: %lld outputs above the cap of %d", i, (long long)outs, PRIME_MAX_LAYER_OUTPUTS);
        c = l->out_c, h = l->out_h, w = l->out_w;
    }
    const prime_layer *last = &a->layers[a->n_layers - 1];
    if (last->neuron != PRIME_NEURON_OUTPUT) return prime_error("architecture: last layer must have the output cell");
    int64_t nout = (int64_t)last->out_c * last->out_h * last->out_w;
    if (nout != a->n_classes || a->n_classes < 2 || a->n_classes > PRIME_MAX_CLASSES)
        return prime_error("architecture: output size %lld does not match %d classes (2..%d)", (long long)nout,
                           a->n_classes, PRIME_MAX_CLASSES);
    for (int i = 0; i < a->n_layers - 1; i++)
        if (a->layers[i].neuron == PRIME_NEURON_OUTPUT) return prime_error("layer %d: output cell before the last layer", i);
    prime_ctx_plan plan;
    return prime_arch_plan(a, &plan);
}

/* Fills *p with the sizes of a context for the finalized architecture a, in
 * 64 bits; 0, or -1 naming the model cap (prime.h) a size exceeds. */
int prime_arch_plan(const prime_arch *a, prime_ctx_plan *p) {
    memset(p, 0, sizeof *p);
    p->n_in = (uint64_t)a->in_c * a->in_h * a->in_w;
    p->max_act = p->n_in;
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        uint64_t out = (uint64_t)L->out_c * L->out_h * L->out_w;
        p->ns += out;
        if (out > p->max_act) p->max_act = out;
        uint64_t rows = L->op == PRIME_OP_CONV ? (uint64_t)L->in_c * L->k * L->k
                      : L->op == PRIME_OP_FC ? (uint64_t)L->in_c * L->in_h * L->in_w : 0;
        if (!rows) continue;
        uint64_t cols = (uint64_t)L->out_c, row_tiles = (rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
        p->cells += rows * cols;
        if (row_tiles * out > p->acc) p->acc = row_tiles * out;
        if (row_tiles * PRIME_ARRAY_SIZE > p->rowcap) p->rowcap = row_tiles * PRIME_ARRAY_SIZE;
        if (cols > p->colcap) p->colcap = cols;
    }
    /* u, s, cur, out per layer; acc, var; frame, view; sums; 3 row and 1 column
     * scratch; 4 per-pixel lists (what a layer graph of the classifier holds) */
    p->state = 4 * p->ns + 2 * p->acc + 2 * p->max_act + PRIME_MAX_CLASSES + 3 * p->rowcap + p->colcap + 4 * p->max_act;
    p->bytes = p->cells * (8 * sizeof(float) + 1) + 16 + p->state * sizeof(float) + (p->acc ? p->acc : 1) +
               (uint64_t)PRIME_MAX_T * p->n_in * sizeof(float);
    if (p->cells > PRIME_MAX_MODEL_CELLS)
        return prime_error("architecture: %llu cells in all, above the model cap of %d", (unsigned long long)p->cells,
                           PRIME_MAX_MODEL_CELLS);
    if (p->state > PRIME_MAX_STATE_FLOATS)
        return prime_error("architecture: state of %llu floats, above the model cap of %d", (unsigned long long)p->state,
                           PRIME_MAX_STATE_FLOATS);
    if (p->bytes > PRIME_MAX_CTX_BYTES)
        return prime_error("architecture: the model needs %llu bytes, above the cap of %u", (unsigned long long)p->bytes,
                           PRIME_MAX_CTX_BYTES);
    return 0;
}

/* Returns the rows (fan-in) of a weight layer's matrix, 0 for a pool. */
int prime_layer_rows(const prime_layer *l) {
    if (l->op == PRIME_OP_CONV) return l->in_c * l->k * l->k;
    if (l->op == PRIME_OP_FC) return l->in_c * l->in_h * l->in_w;
    return 0;
}

/* Returns the columns (outputs) of a weight layer's matrix, 0 for a pool. */
int prime_layer_cols(const prime_layer *l) {
    return (l->op == PRIME_OP_CONV || l->op == PRIME_OP_FC) ? l->out_c : 0;
}

/* Returns rows * cols, the number of differential pairs of a layer. */
size_t prime_layer_weights(const prime_layer *l) {
    return (size_t)prime_layer_rows(l) * (size_t)prime_layer_cols(l);
}

/* ============================================================ parameters */

/* Returns the default device: the PRIME paper's network and macro (arXiv 2407.18625; docs/device.md). */
prime_device prime_default_device(void) {
    return (prime_device){
        .chip_seed = 2024,
        .g_dist = PRIME_DIST_NORMAL,
        .g_mean = 30.0f,
        .g_sd = 4.4915f, /* 6.352 / sqrt(2): G+ - G- ~ N(0, 6.352) uS */
        .g_off = 0.5f,
        .g_off_sd = 0.1f,
        .g_max = 60.0f,
        .prog_noise = 0.0015f,
        .stuck_on = 0.0f,
        .stuck_off = 0.0f,
        .read_noise = 0.0f,
        .noise_mode = PRIME_NOISE_COLUMN,
        .adc_bits = 14,
        .adc_fs = 1.0f,
        .dac_bits = 16,
        .v_read = 0.2f,
        .e_cell_pj = 0.012f,  /* 0.2 V^2 * 30 uS * 10 ns */
        .e_adc_fom_fj = 1.0f, /* Walden FoM, 1 fJ/step: E = FoM * 2^bits */
        .e_dac_pj = 0.5f,
        .e_neuron_pj = 0.1f,
        .e_mac_pj = 2.73f, /* 8-bit MAC 0.23 pJ + 1 byte from 32 KB SRAM 2.5 pJ */
    };
}

/* Checks every device field; returns 0, or -1 with a message naming it. */
int prime_device_check(const prime_device *d) {
#define RANGE(f, lo, hi) \
    if (!((double)d->f >= (lo) && (double)d->f <= (hi))) \
        return prime_error("device: " #f " = %g out of range [%g, %g]", (double)d->f, (double)(lo), (double)(hi))
    if (d->g_dist != PRIME_DIST_NORMAL && d->g_dist != PRIME_DIST_LOGNORMAL)
        return prime_error("device: g_dist = %d (0 normal, 1 lognormal)", d->g_dist);
    RANGE(g_mean, 0.001, 10000);
    RANGE(g_sd, 0, 10000);
    RANGE(g_off, 0, 10000);
    RANGE(g_off_sd, 0, 10000);
    RANGE(g_max, 0, 100000);
    RANGE(prog_noise, 0, 1);
    RANGE(stuck_on, 0, 1);
    RANGE(stuck_off, 0, 1);
    if (d->stuck_on + d->stuck_off > 1) return prime_error("device: stuck_on + stuck_off > 1");
    RANGE(read_noise, 0, 0.5);
    if (d->noise_mode != PRIME_NOISE_COLUMN && d->noise_mode != PRIME_NOISE_CELL)
        return prime_error("device: noise_mode = %d (0 column, 1 cell)", d->noise_mode);
    RANGE(adc_bits, 0, 24);
    if (d->adc_bits == 1) return prime_error("device: adc_bits = 1 (a signed ADC needs at least 2 bits; 0 = ideal)");
    RANGE(adc_fs, 1e-6, 100);
    RANGE(dac_bits, 0, 24);
    RANGE(v_read, 0, 10);
    RANGE(e_cell_pj, 0, 1e6);
    RANGE(e_adc_fom_fj, 0, 1e6);
    RANGE(e_dac_pj, 0, 1e6);
    RANGE(e_neuron_pj, 0, 1e6);
    RANGE(e_mac_pj, 0, 1e6);
#undef RANGE
    return 0;
}

/* Returns the default run policy: no early stop, alpha 2, threshold 0.8. */
prime_run prime_default_run(void) {
    return (prime_run){.policy = PRIME_STOP_NONE, .alpha = 2.0f, .threshold = 0.8f, .min_steps = 1, .noise_seed = 1};
}

void prime_buf_put(prime_buf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->n + n) cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}
