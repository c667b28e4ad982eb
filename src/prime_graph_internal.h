/* prime_graph_internal.h - the layer-graph model's layout, shared by
 * prime_graph.c (checks, context, parameters), prime_graph_run.c (the
 * executor), prime_graph_io.c (model file) and prime_graph_import.c. */
#ifndef PRIME_GRAPH_INTERNAL_H
#define PRIME_GRAPH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"
#include "prime_crossbar.h"
#include "prime_graph.h"

/* One node at run time. Weight ops: [rows][cols] arrays (crossbar: the
 * device model's eight arrays and the mask; digital: wt only, g2 zeros). */
typedef struct {
    size_t nin, nout;
    int rows, cols, measured;
    float *gp_on, *gn_on, *gp_off, *gn_off, *gp, *gn, *wt, *g2;
    uint8_t *mask;
    float *bias, *aff_a, *aff_b;
    prime_xbar xb;
    int *gat;
    float *y, *u, *s, *sum; /* op output, membrane, spikes (HWC), a scratch sum */
    const float *out;       /* what the next node reads: y, s or u */
    int binary, unit;       /* output is exactly 0/1; output lies in [0, 1] */
    int *choice;            /* LATENT: [T][c] picks of the last run */
    int forced;             /* LATENT: choice holds given picks */
    double spikes;
} pg_node;

struct prime_gmodel {
    prime_gdesc d;
    prime_device dev;
    prime_grun run;
    pg_node *n[PRIME_G_MAX_GRAPHS];
    prime_xscratch xs;
    int n_out;              /* values of the readout */
    float *cur, *acc, *hist; /* readout: this step (CHW), accumulator, [T][n_out] history */
    float in_max;
    uint64_t inference;
    int steps;
    prime_counters cnt;
    double digital_macs, digital_dense; /* digital layers: MACs done, MACs of a dense engine */
};

/* Geometry checks and the size plan of a description (prime_graph.c). */
int prime_graph_plan(prime_gdesc *d, uint64_t *bytes);
/* Programs crossbar node (g, i) from its mask; forms it first when `form`. */
void prime_graph_program(prime_gmodel *m, int g, int i, int form);
/* The device / noise key of node (g, i). */
int prime_graph_key(const prime_gdesc *d, int g, int i);
int prime_graph_nkey(const prime_gdesc *d, int g, int i);
/* Output node of graph 0. */
int prime_graph_out_node(const prime_gdesc *d);
/* 1 when node N is a weight op. */
static inline int prime_graph_weighted(const prime_gnode *N) {
    return N->op == PRIME_G_CONV || N->op == PRIME_G_TCONV || N->op == PRIME_G_FC;
}

#endif
