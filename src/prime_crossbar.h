/* prime_crossbar.h - the one crossbar read of the engine (prime_crossbar.c), internal.
 *
 * Every weight layer of every network (conv, transposed conv, fully
 * connected) is a matrix [rows][cols] of differential pairs, tiled on
 * 512 x 512 arrays, and is read by prime_xbar_read: event-driven
 * accumulation of the driven rows per row tile, read noise, one ADC
 * conversion per column read, the digital sum of the tiles, the counters. */
#ifndef PRIME_CROSSBAR_H
#define PRIME_CROSSBAR_H

#include <stddef.h>
#include <stdint.h>

#include "device_fx.h"
#include "prime.h"

enum prime_xb_op { PRIME_XB_CONV = 1, PRIME_XB_TCONV = 2, PRIME_XB_FC = 3 };

/* A weight layer as the read sees it. Activations are HWC. Matrix rows:
 * (ic*k + ky)*k + kx for conv and transposed conv; for FC the input index,
 * in CHW order when fc_chw (the classifier's flatten) or HWC order. Columns:
 * output channels (FC: every output, out_h = out_w = 1 or the HWC index). */
typedef struct {
    enum prime_xb_op op;
    int in_c, in_h, in_w, out_c, out_h, out_w;
    int k, stride, pad;     /* tconv: out = in*stride (output padding stride - 1) */
    int fc_chw;
    int rows, cols, row_tiles;
    const float *wt, *g2;   /* (gp - gn)*scale and the column-noise coefficient (gp^2 + gn^2)*scale^2, [rows][cols] */
    const float *gp, *gn;   /* conductances as read, uS (cell noise; with IR drop the effective ones) */
    float scale, colmax;    /* software scale; ADC full scale at input 1 (prime_dev_colmax) */
    const int *gat;         /* tconv: prime_xbar_gather_list, or NULL (the reference scatter) */
    double dense_macs;      /* what a dense digital engine multiplies per read of the layer */
    /* device effects (device_fx.h, docs/device.md); NULL: none. The read-noise
     * model enters through g2 (its column coefficient, fixed at programming)
     * and its gain; conversions go through prime_fx_adc (clipped ones
     * counted) when adc_unit is set or adc_fs < 1. */
    const prime_devfx_params *fx;
    const prime_conv_unit *adc_unit; /* [row_tiles][cols] ADC converters of the chip, NULL: ideal */
} prime_xbar;

/* Scratch of one read, sized by prime_xbar_need for the largest layer it serves. */
typedef struct {
    float *acc, *var;       /* [tile][pos][col] partial sums, noise variances */
    uint8_t *active;        /* [tile][pos]: did any row drive this read */
    int32_t *rowoff;        /* active rows of one read (offset row * cols) */
    float *rowval, *rowval2;/* and their inputs, inputs^2 */
    float *zbuf;            /* column noise, cols */
    int32_t *pixcnt, *pixoff; /* per input pixel: non-zero channels, their row offsets */
    float *pixval, *pixval2;  /* and their values, values^2 */
    float *xpad;            /* tconv read dense: zero-padded CHW input */
} prime_xscratch;

/* What one read needs of each scratch array, in entries (64 bits: no wrap). */
typedef struct {
    uint64_t acc, rows, cols, pix, pad;
} prime_xneed;
/* Raises *need to what layer X needs (call for every layer, from zero). */
void prime_xbar_need(const prime_xbar *X, prime_xneed *need);

/* One read: the noise stream, the input's range and kind. */
typedef struct {
    uint64_t noise_seed;    /* the run's read-noise seed */
    uint64_t inference;     /* which inference (keys the stream with t and key) */
    int t, key;             /* timestep, stream key of the layer */
    float xmax;             /* largest input (DAC full scale): ADC full scale = adc_fs*colmax*xmax */
    int ones;               /* the input is 0/1 spikes (the gathers skip the multiplies) */
    int ideal;              /* no read noise, ideal ADC (software baseline) */
} prime_xread;

/* Reads layer X for input x (HWC, already DAC levels): cur (HWC, npos*cols)
 * = sum over row tiles of ADC(sum of driven rows + read noise); adds the
 * work to *k (dac_drives, cell_reads, adc_conversions, vmm_reads, macs_dense). */
void prime_xbar_read(const prime_xbar *X, prime_xscratch *s, const prime_device *d, const prime_xread *r,
                     const float *x, float *cur, prime_counters *k);

/* Connection list of a conv / tconv layer: (input pos, output pos, ky*k+kx)
 * triples grouped by input position, *n of them; malloc'ed, NULL on error. */
int *prime_xbar_connections(const prime_xbar *X, size_t *n);
/* The gather list of a tconv layer from its connections: start[npos + 1],
 * then (input pos, tap) pairs per output position in connection order;
 * malloc'ed, NULL on error. */
int *prime_xbar_gather_list(const prime_xbar *X, const int *conn, size_t nconn);

#endif
