/* prime_internal.h - the context's layout, shared by the core's .c files. */
#ifndef PRIME_INTERNAL_H
#define PRIME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"

/* One weight layer on the crossbar. All arrays point into ctx->wblock and are
 * [rows][cols] (rows = fan-in, cols = outputs), one entry per differential pair. */
typedef struct {
    int rows, cols;
    int row_tiles, col_tiles, first_array;
    int measured;           /* gp_on/gn_on came from a measured map */
    float *gp_on, *gn_on;   /* formed on-state conductances, uS */
    float *gp_off, *gn_off; /* where a reset (pruned) cell ends, uS */
    float *gp, *gn;         /* programmed now (mask, faults applied), uS */
    float *wt;              /* (gp - gn) * scale */
    float *g2;              /* (gp^2 + gn^2) * scale^2, for column noise */
    uint8_t *mask;          /* 1 keep, 0 pruned */
    float colmax;           /* largest sum |wt| over a tile's column */
} wlayer;

/* Per-layer state, HWC, into ctx->sblock. */
typedef struct {
    float *u, *s, *cur, *out;
    size_t n;
} lstate;

struct prime_ctx {
    prime_arch arch;
    prime_device dev;
    prime_run run;
    wlayer w[PRIME_MAX_LAYERS];
    lstate st[PRIME_MAX_LAYERS];
    float *wblock, *sblock;
    uint8_t *active;       /* [tile][pos]: did any row drive this read */
    float *acc, *var;      /* [tile][pos][oc] partial sums / noise variances */
    float *frame, *view, *sum;
    int32_t *rowoff;       /* crossbar scratch: active rows (offset r * cols) */
    float *rowval, *rowval2, *zbuf; /* their inputs, inputs^2, column noise */
    int32_t *pixcnt, *pixoff; /* per input pixel: non-zero channels, their row offsets */
    float *pixval, *pixval2;  /* and their values, values^2 */
    size_t n_in, max_act;
    int n_arrays;
    /* the inference in progress */
    float *input;
    size_t input_cap;
    float in_max;
    int T, t, done, armed;
    uint64_t inference, inference_now;
    float conf[PRIME_MAX_T];
    int step_label[PRIME_MAX_T];
    double spikes[PRIME_MAX_LAYERS];
    prime_counters cnt;
    int energy_adc_bits;
};

prime_ctx *prime_ctx_new(const prime_arch *arch, const prime_device *dev);

/* What a context for a finalized architecture allocates, every count in 64
 * bits so nothing wraps (not even in wasm's 32-bit size_t). prime_arch_plan
 * (prime_util.c) fills it and refuses sizes over the caps of prime.h; ctx_alloc
 * allocates exactly these. */
typedef struct {
    uint64_t cells;          /* pairs of all weight layers (8 floats + 1 mask byte each) */
    uint64_t ns;             /* outputs of all layers (u, s, cur, out each) */
    uint64_t acc;            /* [tile][pos][oc] scratch entries (floats; `active` bytes) */
    uint64_t max_act, n_in;  /* largest activation (or input) / input values per frame */
    uint64_t rowcap, colcap; /* crossbar scratch: active rows, columns */
    uint64_t state;          /* floats of the state block */
    uint64_t bytes;          /* weights + state + active + the largest input (T = PRIME_MAX_T) */
} prime_ctx_plan;
int prime_arch_plan(const prime_arch *a, prime_ctx_plan *p);

/* The device model, for other networks built on the same macro (e.g. the
 * inpainting VAE). `layer` keys the random streams; i is the pair index. */
float prime_dev_form_on(const prime_device *d, int layer, int cell, size_t i);  /* formed G, uS */
float prime_dev_form_off(const prime_device *d, int layer, int cell, size_t i); /* reset G + prog. noise */
int prime_dev_fault(const prime_device *d, int layer, int cell, size_t i);      /* 0, 1 stuck on, 2 off */
float prime_dev_adc(float v, float fs, int bits);   /* signed ADC over [-fs, fs) */
/* A growable byte buffer for the writers (.prime, .pvae, ONNX): appends
 * never fail loudly; on allocation failure `oom` is set and later appends are
 * dropped, so a writer checks it once at the end. Start from {0}; free(p). */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} prime_buf;
void prime_buf_put(prime_buf *b, const void *src, size_t n);

/* Programs n pairs from their mask (faults applied): gp/gn, wt, g2 out. */
void prime_dev_program(const prime_device *d, int layer, size_t n, const uint8_t *mask, const float *gp_on,
                       const float *gn_on, const float *gp_off, const float *gn_off, float scale, float *gp,
                       float *gn, float *wt, float *g2);
float prime_dev_colmax(const float *wt, int rows, int cols); /* ADC full scale at input 1 */
float prime_dev_dac(float x, float xmax, int bits); /* 2^bits steps over [-xmax, xmax] */
void prime_program_layer(prime_ctx *c, int l);

/* Kernels (prime_core.c): a standard normal for the column read noise, a pure
 * function of (base, ctr) (ziggurat over a SplitMix64 counter stream), and a
 * switch that forces the plain reference kernels (scatter over inputs, one
 * ADC at a time) so tests can check the fast ones give identical bits. */
float prime_dev_normal(uint64_t base, uint64_t ctr);
/* z[j] = prime_dev_normal(base, ctr0 + j) for j < n, by its fast path (same values); its tables are set up by the
 * first prime_dev_normal call, so call that once before. */
void zig_normals(float *restrict z, uint64_t base, uint64_t ctr0, int n);
extern int prime_kernel_reference;
/* out[j] = 0 + val[0]*W[off[0]+j] + val[1]*W[off[1]+j] + ... for j < n (k in order). */
void k_gather(float *restrict out, const float *restrict W, const int32_t *restrict off,
              const float *restrict val, int cnt, int n);
/* One read of n columns: v = a (+ eta*sqrt(var)*z if z) (-> ADC of `bits` over
 * [-fs, fs) if bits > 0); cur += v. The same bits as prime_dev_adc per column. */
void k_readout(float *restrict cur, const float *restrict a, const float *restrict var,
               const float *restrict z, int n, float eta, float fs, int bits);

#endif
