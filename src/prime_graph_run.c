/* prime_graph_run.c - the layer-graph executor (docs/graph.md).
 *
 * One timestep of graph g: nodes in index order, each
 *
 *   op (weight ops: prime_xbar_read, on the macro or digital = an ideal read
 *   of float weights; + bias) -> neuron (PRIME LIF / output cell, FSVAE LIF,
 *   k-bit ReLU, none) -> its output, read by later nodes (HWC).
 *
 * A LATENT node builds the input of its sub-graph (posterior: x_t then
 * z_(t-1); prior: z_(t-1)), runs it, and picks one of k outputs per channel.
 * After each step the readout of graph 0 (logits, mean, decayed tanh sum) and
 * the policy (confidence, convergence) decide whether to go on.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_crossbar.h"
#include "prime_graph_internal.h"
#include "prime_internal.h"
#include "prime_kernels.h"

/* Max pool K x K, stride K, HWC. */
static void maxpool(const float *x, float *y, int C, int IW, int K, int OH, int OW) {
    for (int oy = 0; oy < OH; oy++)
        for (int ox = 0; ox < OW; ox++)
            for (int c = 0; c < C; c++) {
                float v = -INFINITY;
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++) {
                        float a = x[((size_t)(oy * K + ky) * IW + ox * K + kx) * C + c];
                        if (a > v) v = a;
                    }
                y[((size_t)oy * OW + ox) * C + c] = v;
            }
}

/* HWC (C x HW) -> CHW. */
static void to_chw(const float *x, float *y, int C, int HW) {
    for (int c = 0; c < C; c++)
        for (int p = 0; p < HW; p++) y[(size_t)c * HW + p] = x[(size_t)p * C + c];
}

/* The weight op of node (g, i) on input x: cur = read + bias. */
static void weight_op(prime_gmodel *m, int g, int i, const pg_node *A, int t) {
    const prime_gnode *N = &m->d.g[g].node[i];
    pg_node *R = &m->n[g][i];
    const prime_gnode *AN = &m->d.g[g].node[N->in[0]];
    const pg_node *src = A;
    if (N->op == PRIME_G_FC && AN->op == PRIME_G_FLATTEN) src = &m->n[g][AN->in[0]]; /* read CHW rows in place */
    const float *x = src->out;
    float xmax = 1.0f;
    if (g == 0 && src == &m->n[0][0]) xmax = m->in_max; /* the network's input: the DAC's range */
    else if (!src->unit) {
        float mx = 0;
        for (size_t j = 0; j < src->nout; j++) mx = fabsf(x[j]) > mx ? fabsf(x[j]) : mx;
        xmax = mx > 0 ? mx : 1.0f;
    }
    const prime_xread rd = {.noise_seed = m->run.noise_seed, .inference = m->inf_now, .t = t,
                            .key = prime_graph_nkey(&m->d, g, i), .xmax = xmax, .ones = src->binary,
                            .ideal = m->run.ideal || m->software || !N->crossbar};
    if (N->crossbar) {
        prime_xbar_read(&R->xb, &m->xs, &m->dev, &rd, x, R->y, &m->cnt);
    } else if (N->op == PRIME_G_FC && src->binary && !R->xb.fc_chw) {
        /* digital FC on 0/1 inputs: the rows of the non-zero inputs added in order (the ideal read's sums) */
        int32_t *off = m->xs.rowoff;
        int n = 0;
        for (int r = 0; r < R->rows; r++) off[n] = r * R->cols, n += x[r] != 0.0f;
        prime_kernel_gather1(R->y, R->wt, off, n, R->cols);
        m->digital_macs += (double)n * R->cols;
        m->digital_dense += R->xb.dense_macs;
    } else { /* digital: the same accumulation, ideal, counted as digital MACs */
        prime_counters k = {0};
        prime_xbar_read(&R->xb, &m->xs, &m->dev, &rd, x, R->y, &k);
        m->digital_macs += k.dac_drives * R->cols;
        m->digital_dense += k.macs_dense;
    }
    if (N->bias && N->neuron != PRIME_GN_FSVAE) { /* (the FSVAE LIF adds it itself) */
        const size_t npos = R->nout / (size_t)R->cols;
        for (size_t p = 0; p < npos; p++)
            for (int c = 0; c < R->cols; c++) R->y[p * R->cols + c] = R->y[p * R->cols + c] + R->bias[c];
    }
}

static void run_graph(prime_gmodel *m, int g, int t, int from);

/* LATENT node i: the sub-graph on (x_t, z_(t-1)) or z_(t-1), one of k per channel. */
static void latent_op(prime_gmodel *m, int i, const pg_node *A, int t) {
    const prime_gnode *N = &m->d.g[0].node[i];
    pg_node *R = &m->n[0][i];
    const int sg = N->sub[m->run.generate ? 1 : 0], C = N->c, K = N->k;
    pg_node *in = &m->n[sg][0];
    size_t o = 0;
    if (!m->run.generate) {
        const prime_gnode *AN = &m->d.g[0].node[N->in[0]];
        to_chw(A->out, in->y, AN->oc, AN->oh * AN->ow); /* torch.cat order: x_t (CHW) then z_(t-1) */
        o = A->nout;
    }
    if (!N->mode) memcpy(in->y + o, R->y, (size_t)C * sizeof(float)); /* z_(t-1): this node's last output (0 at t = 0) */
    else if (m->run.generate) memcpy(in->y, R->y, (size_t)C * sizeof(float));
    run_graph(m, sg, t, 0);
    const pg_node *q = &m->n[sg][m->d.g[sg].n - 1];
    const prime_gnode *QN = &m->d.g[sg].node[m->d.g[sg].n - 1];
    int *ch = R->choice + (size_t)t * C;
    const float *qv = q->out;
    const int spatial = QN->oh * QN->ow != 1; /* a spatial last node: read CHW */
    for (int c = 0; c < C; c++) {
        const double u = prime_rand_uniform(m->run.latent_seed, prime_mix64(m->inf_now * 64 + (uint64_t)t), (uint64_t)c);
        if (N->mode) { /* z = Bernoulli(q), q = the mean of the k outputs (prime_vae.c) */
            float s = 0;
            for (int j = 0; j < K; j++) s = s + qv[(size_t)c * K + j];
            R->y[c] = u < s / (float)K ? 1.0f : 0.0f;
            ch[c] = (int)R->y[c];
            continue;
        }
        if (!R->forced) {
            int j = (int)(u * K);
            ch[c] = j < K ? j : K - 1;
        }
        size_t idx = (size_t)c * K + ch[c];
        if (spatial) idx = (idx % ((size_t)QN->oh * QN->ow)) * QN->oc + idx / ((size_t)QN->oh * QN->ow);
        R->y[c] = qv[idx];
    }
}

/* Neuron of node (g, i) on its op output y. */
static void neuron(prime_gmodel *m, int g, int i) {
    const prime_gnode *N = &m->d.g[g].node[i];
    pg_node *R = &m->n[g][i];
    const int n = (int)R->nout;
    switch (N->neuron) {
    case PRIME_GN_LIF:
        prime_kernel_lif(R->u, R->s, R->y, n, 1.0f - N->decay, N->leak, N->th);
        R->spikes += prime_kernel_count(R->s, n);
        R->out = R->s;
        break;
    case PRIME_GN_OUTPUT:
        prime_kernel_output(R->u, R->sum, R->y, n, N->leak);
        R->out = R->u;
        break;
    case PRIME_GN_FSVAE: { /* with its affine (folded BN) or bias fused: x = a I + b | I + bias */
        const int aff = N->op == PRIME_G_AFFINE;
        const float *I = aff ? m->n[g][N->in[0]].out : R->y;
        R->spikes += prime_kernel_fsvae_lif(R->u, R->s, I, aff ? R->aff_a : NULL, aff ? R->aff_b : NULL,
                                            !aff && N->bias ? R->bias : NULL, N->oh * N->ow, N->oc, N->tau, N->th);
        R->out = R->s;
        break;
    }
    case PRIME_GN_RELUQ: {
        const float levels = (float)((1 << N->qbits) - 1), step = (float)((double)N->qmax / levels);
        for (int j = 0; j < n; j++) {
            float q = floorf(R->y[j] / step + 0.5f);
            q = q < 0 ? 0 : q > levels ? levels : q;
            R->s[j] = q * step;
        }
        R->out = R->s;
        break;
    }
    default: R->out = R->y; break;
    }
}

/* Runs nodes from..n-1 of graph g for step t. */
static void run_graph(prime_gmodel *m, int g, int t, int from) {
    const prime_ggraph *G = &m->d.g[g];
    for (int i = from; i < G->n; i++) {
        const prime_gnode *N = &G->node[i];
        pg_node *R = &m->n[g][i];
        const pg_node *A = N->op != PRIME_G_INPUT ? &m->n[g][N->in[0]] : NULL;
        const prime_gnode *AN = A ? &G->node[N->in[0]] : NULL;
        switch (N->op) {
        case PRIME_G_INPUT: break;
        case PRIME_G_CONV: case PRIME_G_TCONV: case PRIME_G_FC: weight_op(m, g, i, A, t); break;
        case PRIME_G_AVGPOOL: prime_kernel_avgpool(A->out, R->y, AN->oc, AN->ow, N->k, N->oh, N->ow); break;
        case PRIME_G_MAXPOOL: maxpool(A->out, R->y, AN->oc, AN->ow, N->k, N->oh, N->ow); break;
        case PRIME_G_FLATTEN: if (!R->inplace) to_chw(A->out, R->y, AN->oc, AN->oh * AN->ow); break;
        case PRIME_G_RESHAPE: { /* CHW values of the input -> HWC of the new shape */
            const float *x = A->out;
            float *tmp = R->sum; /* the input in CHW first (a reshape has no neuron: sum is free) */
            if (N->mode) { memcpy(R->y, x, R->nout * sizeof(float)); break; } /* HWC order: the values as they lie */
            if (AN->oh * AN->ow != 1) to_chw(x, tmp, AN->oc, AN->oh * AN->ow), x = tmp;
            const int C = N->oc, HW = N->oh * N->ow;
            for (int c = 0; c < C; c++)
                for (int p = 0; p < HW; p++) R->y[(size_t)p * C + c] = x[(size_t)c * HW + p];
            break;
        }
        case PRIME_G_CONCAT: {
            const pg_node *B = &m->n[g][N->in[1]];
            const int ca = AN->oc, cb = G->node[N->in[1]].oc, HW = N->oh * N->ow;
            for (int p = 0; p < HW; p++) {
                memcpy(R->y + (size_t)p * (ca + cb), A->out + (size_t)p * ca, (size_t)ca * sizeof(float));
                memcpy(R->y + (size_t)p * (ca + cb) + ca, B->out + (size_t)p * cb, (size_t)cb * sizeof(float));
            }
            break;
        }
        case PRIME_G_AFFINE: {
            if (N->neuron == PRIME_GN_FSVAE) break; /* fused into the neuron */
            const int C = N->oc;
            for (size_t j = 0; j < R->nout; j++) R->y[j] = R->aff_a[j % C] * A->out[j] + R->aff_b[j % C];
            break;
        }
        case PRIME_G_LATENT: latent_op(m, i, A, t); break;
        }
        neuron(m, g, i);
        /* digital neuron / pool element updates: pools and nodes with a neuron */
        if (N->neuron || N->op == PRIME_G_AVGPOOL || N->op == PRIME_G_MAXPOOL) m->cnt.neuron_updates += (double)R->nout;
    }
}

/* Zeroes the state of every node and the readout. */
static void reset(prime_gmodel *m) {
    for (int g = 0; g < m->d.n_graphs; g++)
        for (int i = 0; i < m->d.g[g].n; i++) {
            pg_node *R = &m->n[g][i];
            const prime_gnode *N = &m->d.g[g].node[i];
            if (N->neuron) memset(R->u, 0, R->nout * sizeof(float)), memset(R->s, 0, R->nout * sizeof(float));
            if (N->neuron == PRIME_GN_OUTPUT) memset(R->sum, 0, R->nout * sizeof(float));
            if (N->op == PRIME_G_LATENT) memset(R->y, 0, R->nout * sizeof(float)); /* z_(-1) = 0; the others are written before they are read */
            R->out = R->y;
            R->spikes = 0;
        }
    memset(m->acc, 0, (size_t)m->n_out * sizeof(float));
    memset(&m->cnt, 0, sizeof m->cnt);
    m->digital_macs = m->digital_dense = 0;
}

/* The input frame [C][H][W] -> HWC in graph 0's input node, through the
 * DAC (with its non-idealities when the effects have them). */
static void convert_input(prime_gmodel *m, const float *src) {
    const prime_gnode *IN = &m->d.g[0].node[0];
    float *x = m->n[0][0].y;
    const int HW = IN->oh * IN->ow, C = IN->oc, bits = m->dev.dac_bits;
    const int dac = m->d.in_dac && bits && !m->run.ideal && !m->software;
    if (!dac) {
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) x[(size_t)p * C + c] = src[(size_t)c * HW + p];
    } else
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) {
                const float v = src[(size_t)c * HW + p];
                x[(size_t)p * C + c] = v != 0.0f ? prime_dev_dac(v, m->in_max, bits) : v;
            }
    if (dac && m->dac_unit) /* DACs with non-idealities (device_wire.c): one per input value */
        for (int c = 0; c < C; c++)
            for (int p = 0; p < HW; p++) {
                const size_t j = (size_t)c * HW + p;
                const float v = src[j];
                if (v != 0.0f || m->dac_zeros)
                    x[(size_t)p * C + c] = prime_fx_dac(&m->fx.dac, m->dac_unit[j], v, m->in_max, bits, &m->cnt.dac_clipped);
            }
}

/* Checks an input (finite, |x| <= 1e6); *mx its largest |x|. 0 or -1 naming the value. */
static int check_input(const float *x, size_t n, float *mx) {
    float v = 0;
    for (size_t j = 0; j < n; j++) {
        if (!isfinite(x[j]) || fabsf(x[j]) > 1e6f) return prime_error("graph run: input value %zu is not finite or |x| > 1e6", j);
        v = fabsf(x[j]) > v ? fabsf(x[j]) : v;
    }
    *mx = v;
    return 0;
}

/* Begins a pass (prime_graph_internal.h); 0 or -1. */
int prime_graph_begin_checked(prime_gmodel *m, const float *input, int frames, int T, float mx) {
    const prime_gdesc *d = &m->d;
    if (!T) T = d->T;
    if (T < 1 || T > PRIME_MAX_T) return prime_error("graph run: T = %d out of 1..%d", T, PRIME_MAX_T);
    if (!m->run.generate && frames != 1 && frames != T)
        return prime_error("graph run: %d input frames (1, repeated, or T = %d)", frames, T);
    if (T > m->hist_T) {
        float *h = realloc(m->hist, (size_t)T * m->n_out * sizeof(float));
        if (!h) return prime_error("out of memory for the readout of %d steps", T);
        m->hist = h, m->hist_T = T;
    }
    reset(m);
    m->in_max = m->in_range > 0 ? m->in_range : mx > 0 ? mx : 1.0f;
    m->input = m->run.generate ? NULL : input, m->frames = frames, m->T = T;
    m->t = 0, m->steps = 0, m->done = 0, m->armed = 1, m->label = 0;
    memset(m->conf, 0, sizeof m->conf), memset(m->mval, 0, sizeof m->mval), memset(m->step_label, 0, sizeof m->step_label);
    m->from = 0;
    if (m->run.generate)
        for (int i = 0; i < d->g[0].n; i++) if (d->g[0].node[i].op == PRIME_G_LATENT) { m->from = i; break; }
    m->inf_now = m->inference++;
    if (m->input && frames == 1) convert_input(m, m->input); /* the same frame every step: converted once */
    return 0;
}

/* Runs the next step of the pass: 1 if it ran, 0 when finished, -1 without a begin. */
int prime_graph_step(prime_gmodel *m) {
    if (!m) return prime_error("prime_graph_step: NULL model");
    if (!m->armed) return prime_error("graph step before a begin");
    if (m->done) return 0;
    const prime_gdesc *d = &m->d;
    const prime_grun *ru = &m->run;
    const int t = m->t, T = m->T, K = m->n_out;
    if (m->input && m->frames > 1) convert_input(m, m->input + (size_t)t * m->n[0][0].nout);
    run_graph(m, 0, t, m->from);
    const int on = prime_graph_out_node(d);
    const prime_gnode *ON = &d->g[0].node[on];
    const float *y = m->n[0][on].out; /* the output node's values, CHW */
    if (ON->oc > 1 && ON->oh * ON->ow > 1) to_chw(y, m->cur, ON->oc, ON->oh * ON->ow), y = m->cur;
    else if (d->readout != PRIME_GR_TANH) memcpy(m->cur, y, (size_t)K * sizeof(float)), y = m->cur;
    float *h = m->hist + (size_t)t * K, *acc = m->acc;
    if (d->readout == PRIME_GR_LOGITS) memcpy(h, y, (size_t)K * sizeof(float));
    else if (d->readout == PRIME_GR_MEAN) {
        for (int j = 0; j < K; j++) acc[j] = acc[j] + y[j], h[j] = acc[j] / (float)(t + 1);
    } else {
        if (d->anchored) { /* acc += out_decay^(T-1-t) y */
            const float w = (float)pow((double)d->out_decay, (double)(d->T - 1 - t));
            for (int j = 0; j < K; j++) acc[j] = acc[j] + w * y[j], h[j] = prime_kernel_tanh(acc[j]);
        } else { /* acc = out_decay acc + y */
            const float k = d->out_decay;
            for (int j = 0; j < K; j++) acc[j] = k * acc[j] + y[j], h[j] = prime_kernel_tanh(acc[j]);
        }
        double dm = 0;
        if (t > 0)
            for (int j = 0; j < K; j++) dm += fabs((double)h[j] - (double)h[j - K]);
        m->mval[t] = (float)(dm / ru->m_div);
    }
    m->cnt.neuron_updates += d->readout == PRIME_GR_TANH ? K : 0;
    if (d->readout != PRIME_GR_TANH && K <= PRIME_MAX_CLASSES) {
        const float *s = d->readout == PRIME_GR_MEAN ? m->acc : m->cur;
        m->conf[t] = prime_policy_confidence(s, K, d->readout == PRIME_GR_MEAN ? t + 1 : 1, ru->alpha, &m->step_label[t]);
        m->label = m->step_label[t];
    }
    m->t = m->steps = t + 1;
    m->cnt.timesteps = m->t;
    if (m->t >= T) m->done = 1;
    if (m->t >= ru->min_steps) {
        if (ru->policy == PRIME_GP_CONFIDENCE && m->conf[t] > ru->threshold) m->done = 1;
        if (ru->policy == PRIME_GP_CONVERGENCE && prime_policy_converged(m->mval, t, ru->m_th, ru->m_window)) m->done = 1;
    }
    return 1;
}

/* The result after the steps run so far; 0 or -1. */
int prime_graph_result(const prime_gmodel *m, prime_gresult *r) {
    if (!m || !r) return prime_error("prime_graph_result: NULL argument");
    if (!m->armed || m->t == 0) return prime_error("no step has run yet");
    const prime_gdesc *d = &m->d;
    const int t = m->t, K = m->n_out;
    memset(r, 0, sizeof *r);
    r->steps_used = t, r->T = m->T, r->n_out = K, r->label = m->label;
    r->out = m->hist + (size_t)(t - 1) * K;
    memcpy(r->confidence, m->conf, sizeof r->confidence), memcpy(r->m, m->mval, sizeof r->m);
    for (int g = 0; g < d->n_graphs; g++)
        for (int i = 0; i < d->g[g].n; i++) r->spikes += m->n[g][i].spikes;
    r->counters = m->cnt;
    r->digital_macs = m->digital_macs;
    const prime_device *dv = &m->dev;
    r->energy_pj = prime_dev_energy(dv, &m->cnt, m->digital_macs, m->run.ideal ? 0 : dv->adc_bits);
    r->baseline_pj = prime_dev_baseline(dv, m->cnt.macs_dense / t + m->digital_dense / t, m->cnt.neuron_updates / t, m->T);
    r->energy_ratio = r->energy_pj > 0 ? r->baseline_pj / r->energy_pj : 0;
    return 0;
}

/* Runs an input (see prime_graph.h); 0 or -1. */
int prime_graph_run(prime_gmodel *m, const float *input, int frames, prime_gresult *r) {
    if (!m || !r) return prime_error("prime_graph_run: NULL argument");
    float mx = 0;
    if (!m->run.generate) {
        if (!input) return prime_error("prime_graph_run: NULL input");
        if (frames != 1 && frames != m->d.T) return prime_error("graph run: %d input frames (1, repeated, or T = %d)", frames, m->d.T);
        const prime_gnode *IN = &m->d.g[0].node[0];
        if (check_input(input, (size_t)IN->oc * IN->oh * IN->ow * frames, &mx) != 0) return -1;
    }
    if (prime_graph_begin_checked(m, input, frames, 0, mx) != 0) return -1;
    while (prime_graph_step(m) == 1) {}
    return prime_graph_result(m, r);
}

/* Generation from the prior with pass index `seed` (keys the noise and latent
 * streams, as prime_vae_generate); the model's pass counter is kept. 0 or -1. */
int prime_graph_generate(prime_gmodel *m, uint64_t seed, prime_gresult *r) {
    if (!m || !r) return prime_error("prime_graph_generate: NULL argument");
    int lat = -1;
    for (int i = 0; i < m->d.g[0].n; i++) if (m->d.g[0].node[i].op == PRIME_G_LATENT) { lat = i; break; }
    if (lat < 0 || prime_graph_out_node(&m->d) < lat) return prime_error("generate: the graph has no latent node before its output");
    const uint64_t pass = m->inference;
    const int gen = m->run.generate;
    m->inference = seed, m->run.generate = 1;
    int rc = prime_graph_run(m, NULL, 1, r);
    m->inference = pass, m->run.generate = gen;
    return rc;
}

/* The readout after step t of the last run, or NULL. */
const float *prime_graph_readout(const prime_gmodel *m, int t, size_t *n) {
    if (!m) { prime_error("NULL model"); return NULL; }
    if (t < 0 || t >= m->steps) { prime_error("step %d was not run (0..%d)", t, m->steps - 1); return NULL; }
    if (n) *n = (size_t)m->n_out;
    return m->hist + (size_t)t * m->n_out;
}

/* Node (g, i)'s output after the last step, CHW, into v[n]; 0 or -1. */
int prime_graph_node_output(const prime_gmodel *m, int g, int i, float *v, size_t n) {
    if (!m || !v) return prime_error("prime_graph_node_output: NULL argument");
    if (g < 0 || g >= m->d.n_graphs || i < 0 || i >= m->d.g[g].n) return prime_error("node (%d, %d) does not exist", g, i);
    const prime_gnode *N = &m->d.g[g].node[i];
    if (n != m->n[g][i].nout) return prime_error("node (%d, %d) has %zu outputs, not %zu", g, i, m->n[g][i].nout, n);
    if (m->n[g][i].inplace) { /* a flatten read in place: its values are its input's, CHW */
        const prime_gnode *A = &m->d.g[g].node[N->in[0]];
        to_chw(m->n[g][N->in[0]].out, v, A->oc, A->oh * A->ow);
        return 0;
    }
    to_chw(m->n[g][i].out, v, N->oc, N->oh * N->ow);
    return 0;
}

int prime_graph_node_spikes(const prime_gmodel *m, int g, int i, float *spikes) {
    if (!m || !spikes) return prime_error("prime_graph_node_spikes: NULL argument");
    if (g < 0 || g >= m->d.n_graphs || i < 0 || i >= m->d.g[g].n) return prime_error("node (%d, %d) does not exist", g, i);
    *spikes = (float)m->n[g][i].spikes;
    return 0;
}
