/* prime_graph_internal.h - the layer-graph model's layout, shared by
 * prime_graph.c (checks, context, parameters), prime_graph_run.c (the
 * executor), prime_graph_io.c (model file) and prime_graph_import.c. */
#ifndef PRIME_GRAPH_INTERNAL_H
#define PRIME_GRAPH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "device_fx.h"
#include "prime.h"
#include "prime_crossbar.h"
#include "prime_graph.h"

/* One node at run time. Weight ops: [rows][cols] arrays (crossbar: the
 * device model's eight arrays and the mask; digital: wt only, g2 zeros).
 * A worker (prime_graph_worker) shares its parent's weight arrays. */
typedef struct pg_node {
    size_t nin, nout;
    int rows, cols, measured;
    float *gp_on, *gn_on, *gp_off, *gn_off, *gp, *gn, *wt, *g2;
    uint8_t *mask;
    float *gpe, *gne;       /* IR drop on: effective read conductances G f (in fxblock), else NULL */
    prime_conv_unit *adc_unit; /* non-ideal ADC: [row_tiles][cols] converters (in fxblock), else NULL */
    float *bias, *aff_a, *aff_b;
    prime_xbar xb;
    int *gat;
    float *y, *u, *s, *sum; /* op output, membrane, spikes (HWC), a scratch sum */
    const float *out;       /* what the next node reads: y, s or u */
    int binary, unit;       /* output is exactly 0/1; output lies in [0, 1] */
    int inplace;            /* a FLATTEN that only FC nodes read (in place, CHW): not computed */
    int *choice;            /* LATENT: [T][c] picks of the last run */
    int forced;             /* LATENT: choice holds given picks */
    double spikes;
} pg_node;

struct prime_gmodel {
    prime_gdesc d;
    prime_device dev;
    prime_grun run;
    prime_devfx_params fx;  /* device effects beside dev (device_wire.c); read.eta = dev.read_noise */
    void *fxblock;          /* what the effects need: gpe/gne, ADC and DAC converters */
    prime_conv_unit *dac_unit; /* non-ideal DAC: one per input value [C][H][W], else NULL */
    pg_node *n[PRIME_G_MAX_GRAPHS];
    prime_xscratch xs;
    int n_out;              /* values of the readout */
    float *cur, *acc, *hist; /* readout: this step (CHW), accumulator, [hist_T][n_out] history */
    int hist_T;
    float in_max;
    /* set by the networks built on a model (prime_core.c, prime_vae.c), not in the file */
    float in_range;         /* > 0: the DAC's full scale (the VAE's [-1, 1]), else the input's largest |x| */
    int dac_zeros;          /* 1: a non-ideal DAC converts zero inputs too (the VAE's pixels) */
    int software;           /* 1: crossbar nodes are free float weights read ideally, counted as crossbar reads */
    int shares;             /* a worker: the weights are its parent's */
    uint64_t inference;     /* the next pass */
    /* the pass in progress (prime_graph_begin / step) */
    uint64_t inf_now;
    const float *input;     /* caller's frames (frames 1: converted once at begin) */
    int frames, T, t, from, armed, done, label;
    int steps;
    float conf[PRIME_MAX_T], mval[PRIME_MAX_T];
    int step_label[PRIME_MAX_T];
    prime_counters cnt;
    double digital_macs, digital_dense; /* digital layers: MACs done, MACs of a dense engine */
};

/* Geometry checks and the size plan of a description (prime_graph.c). */
int prime_graph_plan(prime_gdesc *d, uint64_t *bytes);
/* Programs crossbar node (g, i) from its mask (with the device effects of
 * m->fx); forms it first when `form`. 0, or -1 (out of memory in the IR-drop factors). */
int prime_graph_program(prime_gmodel *m, int g, int i, int form);
/* Forms crossbar node (g, i) (a measured map keeps its on-state). */
void prime_graph_form(prime_gmodel *m, int g, int i);
/* Points node (g, i)'s read at its current conductances and converters. */
void prime_graph_rebind(prime_gmodel *m, int g, int i);
/* Makes (d, fx) the model's device and effects (device_wire.c); 0 or -1, nothing changed on error. */
int prime_graph_set_devfx_with(prime_gmodel *m, const prime_device *d, const prime_devfx_params *fx);
/* The run of a network built on m (classifier, VAE): min_steps checked with
 * the network's name (what), then prime_graph_set_run. 0 or -1. */
int prime_graph_apply_run(prime_gmodel *m, const prime_grun *r, const char *what);
/* A model for one more thread: m's weights, a state of its own; free it
 * (prime_graph_free) before m. NULL on error. */
prime_gmodel *prime_graph_worker(const prime_gmodel *m);
/* Step mode: begin (input checked by the caller: finite, mx its largest |x|;
 * frames 1 or T; T 0: the description's; the input must live until the last
 * step), one step (1 ran, 0 finished), the result so far. */
int prime_graph_begin_checked(prime_gmodel *m, const float *input, int frames, int T, float mx);
int prime_graph_step(prime_gmodel *m);
int prime_graph_result(const prime_gmodel *m, prime_gresult *r);
/* The device / noise key of node (g, i). */
static inline int prime_graph_key(const prime_gdesc *d, int g, int i) {
    const int k = d->g[g].node[i].key;
    return k >= 0 ? k : 64 * g + i;
}
static inline int prime_graph_nkey(const prime_gdesc *d, int g, int i) {
    const int k = d->g[g].node[i].nkey;
    return k >= 0 ? k : prime_graph_key(d, g, i);
}
/* Output node of graph 0. */
static inline int prime_graph_out_node(const prime_gdesc *d) { return d->out_node >= 0 ? d->out_node : d->g[0].n - 1; }
/* 1 when node N is a weight op. */
static inline int prime_graph_weighted(const prime_gnode *N) {
    return N->op == PRIME_G_CONV || N->op == PRIME_G_TCONV || N->op == PRIME_G_FC;
}

#endif
