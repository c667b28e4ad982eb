/* prime_graph.c - layer graphs: descriptions, their checks and size plan,
 * the model context, its device and parameters (docs/graph.md). The
 * executor is prime_graph_run.c; every weight op is read by prime_xbar_read
 * (prime_crossbar.c) and formed / programmed by the device model
 * (prime_device.c), the same code as the hand-wired networks. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_crossbar.h"
#include "prime_graph_internal.h"
#include "prime_internal.h"

/* ============================================================ descriptions */

/* Appends a node with the defaults (see prime_graph.h); NULL when full. */
prime_gnode *prime_gdesc_add(prime_gdesc *d, int g, int op) {
    if (!d || g < 0 || g >= PRIME_G_MAX_GRAPHS || d->g[g].n >= PRIME_G_MAX_NODES) {
        prime_error("graph %d: no room for another node (cap %d)", g, PRIME_G_MAX_NODES);
        return NULL;
    }
    if (d->n_graphs <= g) d->n_graphs = g + 1;
    if (!d->T) d->T = 1, d->out_node = -1, d->out_decay = 0.8f;
    prime_ggraph *G = &d->g[g];
    prime_gnode *n = &G->node[G->n];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->in[0] = G->n - 1, n->in[1] = -1;
    n->stride = 1, n->k = 1, n->crossbar = 1, n->scale = 0.01f, n->sparsity = 0.5f;
    n->th = 0.2f, n->decay = 0.8f, n->leak = 0.1f, n->tau = 0.25f, n->qbits = 4, n->qmax = 1.0f;
    n->sub[0] = n->sub[1] = -1;
    n->key = n->nkey = -1;
    G->n++;
    return n;
}

prime_grun prime_graph_default_run(void) {
    return (prime_grun){.policy = PRIME_GP_NONE, .alpha = 2.0f, .threshold = 0.8f, .m_div = 100.0f, .m_th = 0.2f,
                        .m_window = 3, .min_steps = 1, .noise_seed = 1, .latent_seed = 7};
}


static const char *const op_names[] = {"input", "conv", "tconv", "fc", "avgpool", "maxpool",
                                       "flatten", "concat", "affine", "reshape", "latent"};

#define NODE_ERR(...) prime_node_error(g, i, N->op, __VA_ARGS__)
static int prime_node_error(int g, int i, int op, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int prime_node_error(int g, int i, int op, const char *fmt, ...) {
    char msg[200];
    va_list a;
    va_start(a, fmt);
    vsnprintf(msg, sizeof msg, fmt, a);
    va_end(a);
    return prime_error("graph %d node %d (%s): %s", g, i, op >= 0 && op < PRIME_G_OPS ? op_names[op] : "?", msg);
}

static int bad_f(float v, float lo, float hi) { return !(v >= lo && v <= hi); }

/* Checks node i of graph g (inputs before it checked) and fills its output
 * shape; adds its sizes to the totals. 0 or -1. */
static int check_node(prime_gdesc *d, int g, int i, uint64_t *cells, uint64_t *dig, uint64_t *state, uint64_t *need) {
    prime_ggraph *G = &d->g[g];
    prime_gnode *N = &G->node[i];
    if (N->op < 0 || N->op >= PRIME_G_OPS) return prime_error("graph %d node %d: unknown op %d (0..%d)", g, i, N->op, PRIME_G_OPS - 1);
    if ((N->op == PRIME_G_INPUT) != (i == 0)) return NODE_ERR(i ? "only node 0 is the input" : "node 0 must be the input");
    if (N->neuron < 0 || N->neuron >= PRIME_GN_KINDS) return NODE_ERR("unknown neuron %d (0..%d)", N->neuron, PRIME_GN_KINDS - 1);
    const prime_gnode *A = NULL, *B = NULL;
    if (N->op != PRIME_G_INPUT) {
        if (N->in[0] < 0 || N->in[0] >= i) return NODE_ERR("input %d is not an earlier node (0..%d)", N->in[0], i - 1);
        A = &G->node[N->in[0]];
    }
    if (N->op == PRIME_G_CONCAT) {
        if (N->in[1] < 0 || N->in[1] >= i) return NODE_ERR("second input %d is not an earlier node (0..%d)", N->in[1], i - 1);
        B = &G->node[N->in[1]];
    } else if (N->in[1] != -1) return NODE_ERR("a second input (%d) is only for concat", N->in[1]);
    if (N->neuron && (N->op == PRIME_G_INPUT || N->op == PRIME_G_FLATTEN || N->op == PRIME_G_RESHAPE ||
                      N->op == PRIME_G_CONCAT || N->op == PRIME_G_LATENT))
        return NODE_ERR("a neuron on a data-movement node (put it on the node before)");
    if (g > 0 && i == 0 && (N->h != 1 || N->w != 1)) return NODE_ERR("a sub-graph's input is c x 1 x 1");
    if (N->key < -1 || N->nkey < -1) return NODE_ERR("key %d, nkey %d (-1: the default, or >= 0)", N->key, N->nkey);
    const int D = PRIME_MAX_DIM;
    const uint64_t nin = A ? (uint64_t)A->oc * A->oh * A->ow : 0;
    int K = N->k, S = N->stride, P = N->pad;
    switch (N->op) {
    case PRIME_G_INPUT:
        if (N->c < 1 || N->c > D || N->h < 1 || N->h > D || N->w < 1 || N->w > D)
            return NODE_ERR("shape %d x %d x %d out of 1..%d", N->c, N->h, N->w, D);
        N->oc = N->c, N->oh = N->h, N->ow = N->w;
        break;
    case PRIME_G_CONV: case PRIME_G_TCONV:
        if (K < 1 || K > 15 || S < 1 || S > 8 || P < 0 || P >= K) return NODE_ERR("k %d, stride %d, pad %d (k 1..15, stride 1..8, pad 0..k-1)", K, S, P);
        if (N->op == PRIME_G_CONV && N->out_pad) return NODE_ERR("out_pad is for tconv");
        if (N->out_pad < 0 || (N->op == PRIME_G_TCONV && N->out_pad >= S)) return NODE_ERR("out_pad %d out of 0..stride-1", N->out_pad);
        if (N->c < 1 || N->c > D) return NODE_ERR("%d output channels out of 1..%d", N->c, D);
        N->oc = N->c;
        if (N->op == PRIME_G_CONV) N->oh = (A->oh + 2 * P - K) / S + 1, N->ow = (A->ow + 2 * P - K) / S + 1;
        else N->oh = (A->oh - 1) * S - 2 * P + K + N->out_pad, N->ow = (A->ow - 1) * S - 2 * P + K + N->out_pad;
        if (A->oh + 2 * P < K || A->ow + 2 * P < K || N->oh < 1 || N->ow < 1 || N->oh > D || N->ow > D)
            return NODE_ERR("input %d x %d gives an output of %d x %d", A->oh, A->ow, N->oh, N->ow);
        break;
    case PRIME_G_FC:
        if (N->c < 1 || N->c > PRIME_MAX_LAYER_OUTPUTS) return NODE_ERR("%d outputs out of 1..%d", N->c, PRIME_MAX_LAYER_OUTPUTS);
        N->oc = N->c, N->oh = N->ow = 1;
        break;
    case PRIME_G_AVGPOOL: case PRIME_G_MAXPOOL:
        if (K < 1 || K > 16 || A->oh < K || A->ow < K) return NODE_ERR("k %d on a %d x %d input (k 1..16, <= the input)", K, A->oh, A->ow);
        N->oc = A->oc, N->oh = A->oh / K, N->ow = A->ow / K;
        break;
    case PRIME_G_FLATTEN:
        if (nin > PRIME_MAX_LAYER_OUTPUTS) return NODE_ERR("%llu values", (unsigned long long)nin);
        N->oc = (int)nin, N->oh = N->ow = 1;
        break;
    case PRIME_G_CONCAT:
        if (A->oh != B->oh || A->ow != B->ow) return NODE_ERR("inputs of %d x %d and %d x %d", A->oh, A->ow, B->oh, B->ow);
        if (A->oc + B->oc > PRIME_MAX_LAYER_OUTPUTS) return NODE_ERR("too many channels");
        N->oc = A->oc + B->oc, N->oh = A->oh, N->ow = A->ow;
        break;
    case PRIME_G_AFFINE: N->oc = A->oc, N->oh = A->oh, N->ow = A->ow; break;
    case PRIME_G_RESHAPE:
        if (N->c < 1 || N->h < 1 || N->w < 1 || N->c > PRIME_MAX_LAYER_OUTPUTS || N->h > D || N->w > D ||
            (uint64_t)N->c * N->h * N->w != nin)
            return NODE_ERR("shape %d x %d x %d for %llu values", N->c, N->h, N->w, (unsigned long long)nin);
        if (N->mode != 0 && N->mode != 1) return NODE_ERR("mode %d (0 CHW order, 1 HWC order)", N->mode);
        N->oc = N->c, N->oh = N->h, N->ow = N->w;
        break;
    case PRIME_G_LATENT: {
        if (g != 0) return NODE_ERR("a latent node belongs to graph 0");
        if (N->c < 1 || N->c > 4096 || N->k < 1 || N->k > 64) return NODE_ERR("c %d, k %d (c 1..4096, k 1..64)", N->c, N->k);
        if (N->mode != 0 && N->mode != 1) return NODE_ERR("mode %d (0 pick one of k, 1 Bernoulli of the mean)", N->mode);
        for (int j = 0; j < 2; j++) {
            int s = N->sub[j];
            if (s < 1 || s >= d->n_graphs) return NODE_ERR("%s graph %d out of 1..%d", j ? "prior" : "posterior", s, d->n_graphs - 1);
            const prime_ggraph *sg = &d->g[s];
            const prime_gnode *in = &sg->node[0], *last = &sg->node[sg->n - 1];
            const uint64_t want = j ? (uint64_t)N->c : nin + (N->mode ? 0 : (uint64_t)N->c);
            if ((uint64_t)in->oc * in->oh * in->ow != want)
                return NODE_ERR("%s graph %d takes %d values, needs %llu (%s)", j ? "prior" : "posterior", s, in->oc * in->oh * in->ow,
                                (unsigned long long)want, j ? "z_(t-1)" : N->mode ? "x_t" : "x_t then z_(t-1)");
            if ((uint64_t)last->oc * last->oh * last->ow != (uint64_t)N->c * N->k)
                return NODE_ERR("%s graph %d gives %d values, needs c*k = %d", j ? "prior" : "posterior", s,
                                last->oc * last->oh * last->ow, N->c * N->k);
        }
        N->oc = N->c, N->oh = N->ow = 1;
        break;
    }
    }
    if (N->neuron == PRIME_GN_LIF || N->neuron == PRIME_GN_OUTPUT || N->neuron == PRIME_GN_FSVAE) {
        if (bad_f(N->th, -1e3f, 1e3f) || bad_f(N->decay, 0, 1) || bad_f(N->leak, 0, 1) || bad_f(N->tau, 0, 1))
            return NODE_ERR("neuron th %g, decay %g, leak %g, tau %g (th |.| <= 1e3, the others in [0, 1])", N->th, N->decay, N->leak, N->tau);
    } else if (N->neuron == PRIME_GN_RELUQ && (N->qbits < 1 || N->qbits > 16 || bad_f(N->qmax, 1e-6f, 1e6f)))
        return NODE_ERR("relu: qbits %d (1..16), qmax %g ((0, 1e6])", N->qbits, N->qmax);
    const uint64_t nout = (uint64_t)N->oc * N->oh * N->ow;
    if (nout > PRIME_MAX_LAYER_OUTPUTS) return NODE_ERR("%llu outputs, above the cap of %d", (unsigned long long)nout, PRIME_MAX_LAYER_OUTPUTS);
    *state += 4 * nout;
    if (prime_graph_weighted(N)) {
        if (N->crossbar != 0 && N->crossbar != 1) return NODE_ERR("crossbar = %d (0 digital, 1 macro)", N->crossbar);
        if (N->bias != 0 && N->bias != 1) return NODE_ERR("bias = %d (0 or 1)", N->bias);
        if (bad_f(N->scale, 1e-9f, 1e3f) || bad_f(N->sparsity, 0, 0.999999f)) return NODE_ERR("scale %g ((0, 1e3]) or sparsity %g ([0, 1))", N->scale, N->sparsity);
        const prime_gnode *src = A->op == PRIME_G_FLATTEN && N->op == PRIME_G_FC ? &G->node[A->in[0]] : A;
        const uint64_t rows = N->op == PRIME_G_FC ? nin : (uint64_t)A->oc * K * K, cols = (uint64_t)N->oc;
        if (rows > PRIME_MAX_FAN_IN) return NODE_ERR("fan-in %llu above the cap of %d", (unsigned long long)rows, PRIME_MAX_FAN_IN);
        if (rows * cols > PRIME_MAX_LAYER_CELLS) return NODE_ERR("%llu x %llu weights above the cap of %d", (unsigned long long)rows, (unsigned long long)cols, PRIME_MAX_LAYER_CELLS);
        const uint64_t rt = (rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
        if (N->crossbar) *cells += rows * cols;
        else *dig += rows * cols;
        const uint64_t npos = N->op == PRIME_G_FC ? 1 : (uint64_t)N->oh * N->ow;
        const uint64_t pix = (uint64_t)src->oc * src->oh * src->ow;
        const uint64_t pad = N->op == PRIME_G_TCONV ? (uint64_t)A->oc * (A->oh + 2 * P) * (A->ow + 2 * P) : 0;
        uint64_t v[5] = {rt * npos * cols, rt * PRIME_ARRAY_SIZE, cols, pix, pad};
        for (int j = 0; j < 5; j++) if (v[j] > need[j]) need[j] = v[j];
        *state += cols + (N->op != PRIME_G_FC ? 5 * (uint64_t)A->oh * A->ow * K * K + npos + 1 : 0);
    }
    return 0;
}

/* Checks every graph of d, fills the output shapes and the bytes a model
 * needs; 0 or -1 with the first bad field named. */
int prime_graph_plan(prime_gdesc *d, uint64_t *bytes) {
    if (!d) return prime_error("graph: NULL description");
    if (d->n_graphs < 1 || d->n_graphs > PRIME_G_MAX_GRAPHS) return prime_error("graph: %d graphs (1..%d)", d->n_graphs, PRIME_G_MAX_GRAPHS);
    if (d->T < 1 || d->T > PRIME_MAX_T) return prime_error("graph: T = %d out of 1..%d", d->T, PRIME_MAX_T);
    if (d->readout < 0 || d->readout > PRIME_GR_TANH) return prime_error("graph: readout %d (0 logits, 1 mean, 2 tanh)", d->readout);
    if (bad_f(d->out_decay, 0, 1) || (d->anchored != 0 && d->anchored != 1) || (d->in_dac != 0 && d->in_dac != 1) ||
        (d->macs_conn != 0 && d->macs_conn != 1))
        return prime_error("graph: out_decay %g ([0, 1]), anchored %d, in_dac %d, macs_conn %d (0 or 1)", d->out_decay, d->anchored,
                           d->in_dac, d->macs_conn);
    uint64_t cells = 0, dig = 0, state = 0, need[5] = {0};
    /* sub-graphs first: the latent node checks their shapes */
    for (int g = d->n_graphs - 1; g >= 0; g--) {
        prime_ggraph *G = &d->g[g];
        if (G->n < 1 || G->n > PRIME_G_MAX_NODES) return prime_error("graph %d: %d nodes (1..%d)", g, G->n, PRIME_G_MAX_NODES);
        for (int i = 0; i < G->n; i++) {
            if (g > 0 && G->node[i].op == PRIME_G_LATENT) return prime_error("graph %d node %d: a latent node in a sub-graph", g, i);
            if (check_node(d, g, i, &cells, &dig, &state, need) != 0) return -1;
        }
    }
    if (d->out_node < -1 || d->out_node >= d->g[0].n) return prime_error("graph: out_node %d out of -1..%d", d->out_node, d->g[0].n - 1);
    const prime_gnode *O = &d->g[0].node[prime_graph_out_node(d)];
    const uint64_t nread = (uint64_t)O->oc * O->oh * O->ow, nin = (uint64_t)d->g[0].node[0].oc * d->g[0].node[0].oh * d->g[0].node[0].ow;
    if (nin > PRIME_MAX_INPUT) return prime_error("graph: input of %llu values above the cap of %d", (unsigned long long)nin, PRIME_MAX_INPUT);
    if (cells > PRIME_MAX_MODEL_CELLS) return prime_error("graph: %llu crossbar cells above the model cap of %d", (unsigned long long)cells, PRIME_MAX_MODEL_CELLS);
    if (dig > PRIME_MAX_MODEL_CELLS) return prime_error("graph: %llu digital weights above the model cap of %d", (unsigned long long)dig, PRIME_MAX_MODEL_CELLS);
    state += (2 + (uint64_t)d->T) * nread + (uint64_t)PRIME_MAX_T * nin + 2 * need[0] + 3 * need[1] + need[2] + 4 * need[3] + need[4];
    if (state > PRIME_MAX_STATE_FLOATS) return prime_error("graph: state of %llu floats above the cap of %d", (unsigned long long)state, PRIME_MAX_STATE_FLOATS);
    uint64_t b = 4 * (state + 2 * dig) + cells * (8 * 4 + 1) + need[0];
    if (b > PRIME_MAX_CTX_BYTES || b > SIZE_MAX) return prime_error("graph: the model needs %llu bytes, above the cap of %u", (unsigned long long)b, PRIME_MAX_CTX_BYTES);
    if (bytes) *bytes = b;
    return 0;
}

int prime_graph_check(prime_gdesc *d) { return prime_graph_plan(d, NULL); }

/* ============================================================ context */

static float *fa(size_t n, int *bad) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) *bad = 1;
    return p;
}

void prime_graph_free(prime_gmodel *m) {
    if (!m) return;
    for (int g = 0; g < PRIME_G_MAX_GRAPHS; g++) {
        if (!m->n[g]) continue;
        for (int i = 0; i < m->d.g[g].n; i++) {
            pg_node *R = &m->n[g][i];
            free(R->y), free(R->u), free(R->s), free(R->sum), free(R->choice);
            if (m->shares) continue; /* a worker: the weights are its parent's */
            float *fl[] = {R->gp_on, R->gn_on, R->gp_off, R->gn_off, R->gp, R->gn, R->wt, R->g2, R->bias, R->aff_a, R->aff_b};
            for (size_t j = 0; j < sizeof fl / sizeof fl[0]; j++) free(fl[j]);
            free(R->mask), free(R->gat);
        }
        free(m->n[g]);
    }
    prime_xscratch *x = &m->xs;
    free(x->acc), free(x->var), free(x->active), free(x->rowoff), free(x->rowval), free(x->rowval2), free(x->zbuf);
    free(x->pixcnt), free(x->pixoff), free(x->pixval), free(x->pixval2), free(x->xpad);
    free(m->cur), free(m->acc), free(m->hist);
    if (!m->shares) free(m->fxblock);
    free(m);
}

void prime_graph_form(prime_gmodel *m, int g, int i) {
    pg_node *R = &m->n[g][i];
    if (!m->d.g[g].node[i].crossbar || m->software) return;
    prime_dev_form(&m->dev, prime_graph_key(&m->d, g, i), (size_t)R->rows * R->cols, R->measured, R->gp_on, R->gn_on,
                   R->gp_off, R->gn_off);
}

void prime_graph_rebind(prime_gmodel *m, int g, int i) {
    pg_node *R = &m->n[g][i];
    if (!m->d.g[g].node[i].crossbar) return;
    R->xb.gp = R->gpe ? R->gpe : R->gp, R->xb.gn = R->gne ? R->gne : R->gn;
    R->xb.fx = m->software ? NULL : &m->fx, R->xb.adc_unit = R->adc_unit;
}

int prime_graph_program(prime_gmodel *m, int g, int i, int form) {
    pg_node *R = &m->n[g][i];
    const prime_gnode *N = &m->d.g[g].node[i];
    if (!N->crossbar) return 0;
    const size_t n = (size_t)R->rows * R->cols;
    const int key = prime_graph_key(&m->d, g, i);
    int rc = 0;
    if (form) prime_graph_form(m, g, i);
    if (m->software) {} /* free weights: wt is what the trainer set */
    else if (prime_fx_programs(&m->fx))
        rc = prime_dev_program_fx(&m->dev, &m->fx, key, R->rows, R->cols, R->mask, R->gp_on, R->gn_on, R->gp_off,
                                  R->gn_off, N->scale, R->gp, R->gn, R->gpe, R->gne, R->wt, R->g2);
    else
        prime_dev_program(&m->dev, key, n, R->mask, R->gp_on, R->gn_on, R->gp_off, R->gn_off, N->scale, R->gp, R->gn,
                          R->wt, R->g2);
    R->xb.colmax = prime_dev_colmax(R->wt, R->rows, R->cols);
    prime_graph_rebind(m, g, i);
    return rc;
}

/* Allocates the state of node (g, i): output, membrane, spikes, a scratch sum, latent picks. 0 or -1. */
static int node_state(prime_gmodel *m, int g, int i) {
    const prime_gnode *N = &m->d.g[g].node[i];
    pg_node *R = &m->n[g][i];
    int bad = 0;
    R->y = fa(R->nout, &bad), R->u = fa(R->nout, &bad), R->s = fa(R->nout, &bad), R->sum = fa(R->nout, &bad);
    R->out = R->y, R->choice = NULL;
    if (N->op == PRIME_G_LATENT) {
        R->choice = calloc((size_t)PRIME_MAX_T * N->c, sizeof(int));
        if (!R->choice) bad = 1;
    }
    return bad ? prime_error("graph: out of memory") : 0;
}

/* Allocates node (g, i): weights, its crossbar view, state. 0 or -1. */
static int node_alloc(prime_gmodel *m, int g, int i) {
    const prime_ggraph *G = &m->d.g[g];
    const prime_gnode *N = &G->node[i];
    pg_node *R = &m->n[g][i];
    int bad = 0;
    const prime_gnode *A = N->op != PRIME_G_INPUT ? &G->node[N->in[0]] : NULL;
    R->nout = (size_t)N->oc * N->oh * N->ow;
    R->nin = A ? (size_t)A->oc * A->oh * A->ow : R->nout;
    if (node_state(m, g, i) != 0) return -1;
    if (N->op == PRIME_G_AFFINE) {
        R->aff_a = fa((size_t)N->oc, &bad), R->aff_b = fa((size_t)N->oc, &bad);
        for (int c = 0; !bad && c < N->oc; c++) R->aff_a[c] = 1.0f;
    }
    if (bad) return prime_error("graph: out of memory");
    if (!prime_graph_weighted(N)) return 0;
    const int fc = N->op == PRIME_G_FC, flat = fc && A->op == PRIME_G_FLATTEN;
    const prime_gnode *src = flat ? &G->node[A->in[0]] : A;
    R->rows = fc ? (int)R->nin : A->oc * N->k * N->k;
    R->cols = N->oc;
    const size_t n = (size_t)R->rows * R->cols;
    R->wt = fa(n, &bad), R->g2 = fa(n, &bad), R->bias = fa((size_t)R->cols, &bad);
    if (N->crossbar) {
        R->gp_on = fa(n, &bad), R->gn_on = fa(n, &bad), R->gp_off = fa(n, &bad), R->gn_off = fa(n, &bad);
        R->gp = fa(n, &bad), R->gn = fa(n, &bad);
        R->mask = malloc(n ? n : 1);
        if (R->mask) memset(R->mask, 1, n);
        else bad = 1;
    }
    if (bad) return prime_error("graph: out of memory for the weights of graph %d node %d", g, i);
    const int op = fc ? PRIME_XB_FC : N->op == PRIME_G_CONV ? PRIME_XB_CONV : PRIME_XB_TCONV;
    R->xb = (prime_xbar){.op = op, .in_c = src->oc, .in_h = src->oh, .in_w = src->ow, .out_c = N->oc,
                         .out_h = N->oh, .out_w = N->ow, .k = fc ? 1 : N->k, .stride = fc ? 1 : N->stride,
                         .pad = fc ? 0 : N->pad, .fc_chw = flat, .rows = R->rows, .cols = R->cols,
                         .row_tiles = (R->rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE, .wt = R->wt, .g2 = R->g2,
                         .gp = R->gp, .gn = R->gn, .scale = N->crossbar ? N->scale : 1.0f, .colmax = 1.0f};
    if (fc) R->xb.dense_macs = (double)R->rows * R->cols;
    else {
        size_t nconn;
        int *conn = prime_xbar_connections(&R->xb, &nconn);
        if (!conn) return -1;
        if (N->op == PRIME_G_TCONV) {
            R->gat = prime_xbar_gather_list(&R->xb, conn, nconn);
            R->xb.gat = R->gat;
            R->xb.dense_macs = (double)nconn * N->oc * A->oc;
        } else {
            R->xb.dense_macs = m->d.macs_conn ? (double)nconn * A->oc * N->oc : (double)N->oh * N->ow * R->rows * R->cols;
        }
        free(conn);
        if (N->op == PRIME_G_TCONV && !R->gat) return -1;
    }
    if (!N->crossbar) R->xb.colmax = 1.0f;
    return 0;
}

/* Output properties: exactly 0/1 (spikes, picks), within [0, 1]. */
static void node_props(prime_gmodel *m, int g, int i) {
    const prime_gnode *N = &m->d.g[g].node[i];
    pg_node *R = &m->n[g][i];
    const pg_node *A = N->op != PRIME_G_INPUT ? &m->n[g][N->in[0]] : NULL;
    int bin = 0, unit = 0;
    if (N->neuron == PRIME_GN_LIF || N->neuron == PRIME_GN_FSVAE) bin = 1;
    else if (N->neuron == PRIME_GN_NONE) {
        if (N->op == PRIME_G_FLATTEN || N->op == PRIME_G_RESHAPE || N->op == PRIME_G_MAXPOOL) bin = A->binary, unit = A->unit;
        else if (N->op == PRIME_G_CONCAT) bin = A->binary && m->n[g][N->in[1]].binary, unit = A->unit && m->n[g][N->in[1]].unit;
        else if (N->op == PRIME_G_AVGPOOL) unit = A->unit;
        else if (N->op == PRIME_G_LATENT) bin = m->n[N->sub[0]][m->d.g[N->sub[0]].n - 1].binary &&
                                             m->n[N->sub[1]][m->d.g[N->sub[1]].n - 1].binary;
    }
    R->binary = bin, R->unit = unit || bin;
}

/* Allocates the read scratch and the readout of m (sized by its nodes' reads); 0 or -1. */
static int model_scratch(prime_gmodel *m) {
    prime_xneed need = {0};
    for (int g = 0; g < m->d.n_graphs; g++)
        for (int i = 0; i < m->d.g[g].n; i++)
            if (prime_graph_weighted(&m->d.g[g].node[i])) prime_xbar_need(&m->n[g][i].xb, &need);
    prime_xscratch *x = &m->xs;
    size_t rc = (size_t)need.rows, pix = (size_t)need.pix;
    int bad = 0;
    x->acc = fa((size_t)need.acc, &bad), x->var = fa((size_t)need.acc, &bad);
    x->active = calloc(need.acc ? (size_t)need.acc : 1, 1);
    x->rowoff = calloc(rc ? rc : 1, sizeof(int32_t)), x->rowval = fa(rc, &bad), x->rowval2 = fa(rc, &bad);
    x->zbuf = fa((size_t)need.cols, &bad);
    x->pixcnt = calloc(pix ? pix : 1, sizeof(int32_t)), x->pixoff = calloc(pix ? pix : 1, sizeof(int32_t));
    x->pixval = fa(pix, &bad), x->pixval2 = fa(pix, &bad), x->xpad = fa((size_t)need.pad, &bad);
    m->cur = fa((size_t)m->n_out, &bad), m->acc = fa((size_t)m->n_out, &bad);
    m->hist_T = m->d.T;
    m->hist = fa((size_t)m->hist_T * m->n_out, &bad);
    if (bad || !x->active || !x->rowoff || !x->pixcnt || !x->pixoff) return prime_error("out of memory");
    return 0;
}

/* Makes a model for description d on device dev (see prime_graph.h); NULL on error. */
prime_gmodel *prime_graph_create(const prime_gdesc *d, const prime_device *dev) {
    if (!d || !dev) { prime_error("prime_graph_create: NULL argument"); return NULL; }
    prime_gmodel *m = calloc(1, sizeof *m);
    if (!m) { prime_error("out of memory"); return NULL; }
    m->d = *d;
    if (prime_graph_plan(&m->d, NULL) != 0 || prime_device_check(dev) != 0) { free(m); return NULL; }
    m->dev = *dev, m->run = prime_graph_default_run(), m->fx = prime_fx_for(dev);
    for (int g = 0; g < m->d.n_graphs; g++) {
        m->n[g] = calloc((size_t)m->d.g[g].n, sizeof(pg_node));
        if (!m->n[g]) { prime_graph_free(m); prime_error("out of memory"); return NULL; }
    }
    for (int g = m->d.n_graphs - 1; g >= 0; g--)
        for (int i = 0; i < m->d.g[g].n; i++) {
            if (node_alloc(m, g, i) != 0) { prime_graph_free(m); return NULL; }
            node_props(m, g, i);
            if (prime_graph_weighted(&m->d.g[g].node[i])) prime_graph_program(m, g, i, 1);
        }
    for (int g = 0; g < m->d.n_graphs; g++) { /* flattens that only FC nodes read are read in place */
        const prime_ggraph *G = &m->d.g[g];
        for (int i = 0; i < G->n; i++) {
            if (G->node[i].op != PRIME_G_FLATTEN || i == G->n - 1 || (g == 0 && i == prime_graph_out_node(&m->d))) continue;
            int only_fc = 1;
            for (int j = i + 1; j < G->n; j++)
                if (G->node[j].in[1] == i || (G->node[j].in[0] == i && G->node[j].op != PRIME_G_FC)) only_fc = 0;
            m->n[g][i].inplace = only_fc;
        }
    }
    for (int i = 0; i < m->d.g[0].n; i++) { /* a sub-graph's input: 0/1 when what the latent node feeds it is */
        const prime_gnode *N = &m->d.g[0].node[i];
        if (N->op != PRIME_G_LATENT) continue;
        const pg_node *A = &m->n[0][N->in[0]], *R = &m->n[0][i];
        pg_node *q = &m->n[N->sub[0]][0], *p = &m->n[N->sub[1]][0];
        q->binary = A->binary && (N->mode || R->binary), q->unit = q->binary || (A->unit && (N->mode || R->unit));
        p->binary = R->binary, p->unit = R->unit;
    }
    const prime_gnode *O = &m->d.g[0].node[prime_graph_out_node(&m->d)];
    m->n_out = O->oc * O->oh * O->ow;
    if (model_scratch(m) != 0) { prime_graph_free(m); return NULL; }
    return m;
}

/* A model for one more thread (prime_graph_internal.h): a copy of m whose
 * nodes point at m's weights, with a state and scratch of its own. */
prime_gmodel *prime_graph_worker(const prime_gmodel *m) {
    if (!m) { prime_error("prime_graph_worker: NULL model"); return NULL; }
    prime_gmodel *k = malloc(sizeof *k);
    if (!k) { prime_error("out of memory"); return NULL; }
    *k = *m;
    k->shares = 1;
    memset(k->n, 0, sizeof k->n);
    memset(&k->xs, 0, sizeof k->xs);
    k->cur = k->acc = k->hist = NULL;
    for (int g = 0; g < k->d.n_graphs; g++) {
        k->n[g] = malloc((size_t)k->d.g[g].n * sizeof(pg_node));
        if (!k->n[g]) { prime_graph_free(k); prime_error("out of memory"); return NULL; }
        memcpy(k->n[g], m->n[g], (size_t)k->d.g[g].n * sizeof(pg_node));
        for (int i = 0; i < k->d.g[g].n; i++) k->n[g][i].y = k->n[g][i].u = k->n[g][i].s = k->n[g][i].sum = NULL, k->n[g][i].choice = NULL;
    }
    for (int g = 0; g < k->d.n_graphs; g++)
        for (int i = 0; i < k->d.g[g].n; i++) {
            if (node_state(k, g, i) != 0) { prime_graph_free(k); return NULL; }
            if (prime_graph_weighted(&k->d.g[g].node[i])) k->n[g][i].xb.fx = m->n[g][i].xb.fx ? &m->fx : NULL;
        }
    if (model_scratch(k) != 0) { prime_graph_free(k); return NULL; }
    return k;
}

const prime_gdesc *prime_graph_desc(const prime_gmodel *m) { return m ? &m->d : NULL; }
prime_device prime_graph_get_device(const prime_gmodel *m) { return m->dev; }
prime_grun prime_graph_get_run(const prime_gmodel *m) { return m->run; }

/* Applies device parameters, re-forming the crossbar nodes when needed; 0 or -1. */
int prime_graph_set_device(prime_gmodel *m, const prime_device *dev) {
    if (!m) return prime_error("prime_graph_set_device: NULL model");
    if (!dev) return prime_error("set_device: NULL argument");
    prime_devfx_params fx = m->fx;
    fx.read.eta = dev->read_noise;
    return prime_graph_set_devfx_with(m, dev, &fx); /* device_wire.c: re-forms / re-programs only if needed */
}

/* Applies run parameters (checked); 0 or -1. */
int prime_graph_set_run(prime_gmodel *m, const prime_grun *r) {
    if (!m || !r) return prime_error("prime_graph_set_run: NULL argument");
    if (r->policy < PRIME_GP_NONE || r->policy > PRIME_GP_CONVERGENCE) return prime_error("graph run: policy %d (0 none, 1 confidence, 2 convergence)", r->policy);
    if (r->policy == PRIME_GP_CONFIDENCE && (m->n_out > PRIME_MAX_CLASSES || m->d.readout == PRIME_GR_TANH))
        return prime_error("graph run: the confidence policy needs logits or a mean readout of at most %d values", PRIME_MAX_CLASSES);
    if (r->policy == PRIME_GP_CONVERGENCE && m->d.readout != PRIME_GR_TANH) return prime_error("graph run: the convergence policy needs the tanh readout");
    if (bad_f(r->alpha, 1e-6f, 1000) || bad_f(r->threshold, 0, 1)) return prime_error("graph run: alpha %g ((0, 1000]) or threshold %g ([0, 1])", r->alpha, r->threshold);
    if (bad_f(r->m_div, 1e-9f, 1e9f) || bad_f(r->m_th, 0, 1e9f) || r->m_window < 1 || r->m_window > PRIME_MAX_T)
        return prime_error("graph run: m_div %g, m_th %g or m_window %d out of range", r->m_div, r->m_th, r->m_window);
    if (r->min_steps < 1 || r->min_steps > PRIME_MAX_T) return prime_error("graph run: min_steps = %d out of 1..%d", r->min_steps, PRIME_MAX_T);
    if ((r->ideal != 0 && r->ideal != 1) || (r->generate != 0 && r->generate != 1)) return prime_error("graph run: ideal and generate are 0 or 1");
    if (r->generate) {
        int lat = -1;
        for (int i = 0; i < m->d.g[0].n; i++) if (m->d.g[0].node[i].op == PRIME_G_LATENT) lat = i;
        if (lat < 0 || prime_graph_out_node(&m->d) < lat) return prime_error("graph run: generate needs a latent node before the output");
    }
    m->run = *r;
    m->inference = 0;
    return 0;
}

/* A network's run (prime_graph_internal.h): min_steps checked, then prime_graph_set_run. */
int prime_graph_apply_run(prime_gmodel *m, const prime_grun *r, const char *what) {
    if (r->min_steps < 1 || r->min_steps > PRIME_MAX_T) return prime_error("%s: min_steps = %d out of 1..%d", what, r->min_steps, PRIME_MAX_T);
    return prime_graph_set_run(m, r);
}

/* ============================================================ parameters */

/* The array and the size of parameter `what` of node (g, i), or NULL. */
static float *param(const prime_gmodel *m, int g, int i, const char *what, size_t *n, int *kind) {
    if (!m || !what) { prime_error("graph param: NULL argument"); return NULL; }
    if (g < 0 || g >= m->d.n_graphs || i < 0 || i >= m->d.g[g].n) { prime_error("graph param: node (%d, %d) does not exist", g, i); return NULL; }
    const prime_gnode *N = &m->d.g[g].node[i];
    pg_node *R = &m->n[g][i];
    const size_t nw = (size_t)R->rows * R->cols;
    *kind = 0;
    if (prime_graph_weighted(N)) {
        if (!strcmp(what, "bias") && N->bias) { *n = (size_t)R->cols; return R->bias; }
        if (!strcmp(what, "weight")) { *n = nw; *kind = N->crossbar ? 4 : 0; return R->wt; }
        if (N->crossbar && !strcmp(what, "mask")) { *n = nw, *kind = 1; return R->wt; }
        if (N->crossbar && !strcmp(what, "gpos")) { *n = nw, *kind = 2; return R->gp_on; }
        if (N->crossbar && !strcmp(what, "gneg")) { *n = nw, *kind = 2; return R->gn_on; }
    }
    if (N->op == PRIME_G_AFFINE && !strcmp(what, "affine_a")) { *n = (size_t)N->oc; return R->aff_a; }
    if (N->op == PRIME_G_AFFINE && !strcmp(what, "affine_b")) { *n = (size_t)N->oc; return R->aff_b; }
    prime_error("graph %d node %d (%s) has no parameter \"%s\"", g, i, op_names[N->op], what);
    return NULL;
}

size_t prime_graph_param_size(const prime_gmodel *m, int g, int i, const char *what) {
    size_t n = 0;
    int kind;
    return param(m, g, i, what, &n, &kind) ? n : 0;
}

/* Sets a parameter (see prime_graph.h); 0 or -1, nothing changed on error. */
int prime_graph_set_param(prime_gmodel *m, int g, int i, const char *what, const float *v, size_t n) {
    size_t want;
    int kind;
    float *p = param(m, g, i, what, &want, &kind);
    if (!p) return -1;
    if (!v || n != want) return prime_error("graph %d node %d: \"%s\" has %zu values, not %zu", g, i, what, want, n);
    if (kind == 4) return prime_error("graph %d node %d: the weights of a crossbar node come from its conductances (set gpos / gneg)", g, i);
    for (size_t j = 0; j < n; j++) {
        if (!isfinite(v[j]) || fabsf(v[j]) > 1e9f) return prime_error("graph %d node %d: \"%s\" value %zu is not finite", g, i, what, j);
        if (kind == 1 && v[j] != 0 && v[j] != 1) return prime_error("graph %d node %d: mask value %zu = %g is not 0 or 1", g, i, j, v[j]);
        if (kind == 2 && !(v[j] >= 0 && v[j] < 1e6f)) return prime_error("graph %d node %d: \"%s\" value %zu is not a conductance in [0, 1e6) uS", g, i, what, j);
    }
    pg_node *R = &m->n[g][i];
    if (kind == 1) for (size_t j = 0; j < n; j++) R->mask[j] = v[j] != 0;
    else memcpy(p, v, n * sizeof(float));
    if (kind == 2 && !R->measured) { /* the other map starts from the formed chip */
        R->measured = 1;
    }
    if (kind) prime_graph_program(m, g, i, 0);
    return 0;
}

/* Copies a parameter into v[n]; 0 or -1. */
int prime_graph_get_param(const prime_gmodel *m, int g, int i, const char *what, float *v, size_t n) {
    size_t want;
    int kind;
    const float *p = param(m, g, i, what, &want, &kind);
    if (!p) return -1;
    if (!v || n != want) return prime_error("graph %d node %d: \"%s\" has %zu values, not %zu", g, i, what, want, n);
    if (kind == 1) for (size_t j = 0; j < n; j++) v[j] = m->n[g][i].mask[j];
    else memcpy(v, p, n * sizeof(float));
    return 0;
}

/* ============================================================ latent choices */

static pg_node *latent(const prime_gmodel *m, int i) {
    if (!m || i < 0 || i >= m->d.g[0].n || m->d.g[0].node[i].op != PRIME_G_LATENT) {
        prime_error("graph 0 node %d is not a latent node", i);
        return NULL;
    }
    return &m->n[0][i];
}

int prime_graph_set_choices(prime_gmodel *m, int i, const int *v, size_t n) {
    pg_node *R = latent(m, i);
    if (!R) return -1;
    const prime_gnode *N = &m->d.g[0].node[i];
    if (!v) { R->forced = 0; return 0; }
    if (N->mode) return prime_error("latent node %d samples z = Bernoulli(mean of k): it has no choices to give", i);
    if (n != (size_t)m->d.T * N->c) return prime_error("latent choices: %zu values, T * c = %d needed", n, m->d.T * N->c);
    for (size_t j = 0; j < n; j++)
        if (v[j] < 0 || v[j] >= N->k) return prime_error("latent choice %zu = %d out of 0..%d", j, v[j], N->k - 1);
    memcpy(R->choice, v, n * sizeof(int));
    R->forced = 1;
    return 0;
}

int prime_graph_get_choices(const prime_gmodel *m, int i, int *v, size_t n) {
    pg_node *R = latent(m, i);
    if (!R) return -1;
    if (!v || n != (size_t)m->d.T * m->d.g[0].node[i].c) return prime_error("latent choices: T * c values needed");
    memcpy(v, R->choice, n * sizeof(int));
    return 0;
}
