/* prime_onnx.c - exports a classification network as an ONNX model, so the
 * same masked network runs on the peers (onnxruntime, anything that reads
 * ONNX) for speed and correctness comparisons (docs/performance.md).
 *
 * The protobuf is written by hand (no dependency): a few wire-format helpers,
 * then ModelProto > GraphProto > NodeProto / TensorProto / ValueInfoProto with
 * the field numbers of onnx/onnx.proto (opset 13, IR version 8).
 *
 * What is exported is the network at zero read noise, ideal ADC and DAC: the
 * weights are the programmed (G+ - G-) * scale of every pair (pruned pairs at
 * their off-state residual), the LIF cells are element-wise ops in the order
 * of the PRIME paper (arXiv 2407.18625), and the T timesteps are unrolled (no Loop: every step is
 * plain nodes, which every runtime optimizes). Early stop is not in the graph:
 * the model also outputs the running mean of the logits after every step,
 * from which a caller applies any stopping rule.
 *
 *   inputs:  frames [T][C][H][W] float
 *   outputs: logits [1][K] (mean output membrane after T steps),
 *            step_logits [T][K] (the same after steps 1..T)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_internal.h"

/* ============================================================ wire format */

static void pb_varint(prime_buf *b, uint64_t v) {
    uint8_t t[10];
    int k = 0;
    do { t[k++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)); v >>= 7; } while (v);
    prime_buf_put(b, t, k);
}
/* Field key: (number << 3) | wire type (0 varint, 2 length-delimited, 5 fixed32). */
static void pb_key(prime_buf *b, int field, int wt) { pb_varint(b, (uint64_t)field << 3 | wt); }
static void pb_int(prime_buf *b, int field, int64_t v) { pb_key(b, field, 0), pb_varint(b, (uint64_t)v); }
static void pb_bytes(prime_buf *b, int field, const void *p, size_t n) { pb_key(b, field, 2), pb_varint(b, n), prime_buf_put(b, p, n); }
static void pb_str(prime_buf *b, int field, const char *s) { pb_bytes(b, field, s, strlen(s)); }
static void pb_float(prime_buf *b, int field, float f) {
    uint8_t t[4];
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++) t[i] = (uint8_t)(u >> (8 * i)); /* little-endian */
    pb_key(b, field, 5), prime_buf_put(b, t, 4);
}
/* Appends sub-message m as field `field` and frees it. */
static void pb_msg(prime_buf *b, int field, prime_buf *m) {
    if (m->oom) b->oom = 1;
    pb_bytes(b, field, m->p, m->n);
    free(m->p);
    memset(m, 0, sizeof *m);
}

/* ============================================================ ONNX messages */

enum { ONNX_FLOAT = 1, ONNX_INT64 = 7, ONNX_DOUBLE = 11 }; /* TensorProto.DataType */
enum { ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_INTS = 7 }; /* AttributeProto.AttributeType */

typedef struct {
    prime_buf graph;   /* GraphProto being built: nodes, initializers, inputs, outputs */
    int names;    /* counter for unique value names */
} onnx_w;

/* A fresh value name "v<k>" in buf (16 bytes). */
static const char *fresh(onnx_w *o, char *buf) {
    snprintf(buf, 16, "v%d", o->names++);
    return buf;
}

/* Float initializer `name` with dims (float data little-endian = host order on
 * every target of this project: x86 and wasm). */
static void init_f32(onnx_w *o, const char *name, const int64_t *dims, int nd, const float *data, size_t n) {
    prime_buf t = {0};
    for (int i = 0; i < nd; i++) pb_int(&t, 1, dims[i]);
    pb_int(&t, 2, ONNX_FLOAT);
    pb_str(&t, 8, name);
    pb_bytes(&t, 9, data, n * sizeof(float));
    pb_msg(&o->graph, 5, &t);
}
static void init_i64(onnx_w *o, const char *name, const int64_t *v, int n) {
    prime_buf t = {0};
    int64_t d = n;
    pb_int(&t, 1, d);
    pb_int(&t, 2, ONNX_INT64);
    pb_str(&t, 8, name);
    pb_bytes(&t, 9, v, (size_t)n * sizeof(int64_t));
    pb_msg(&o->graph, 5, &t);
}
static void init_scalar(onnx_w *o, const char *name, float v) { init_f32(o, name, NULL, 0, &v, 1); }

typedef struct { const char *name; int type; float f; int64_t i; const int64_t *ints; int n; } attr;

/* One node: op(inputs) -> output, with attributes. */
static void node(onnx_w *o, const char *op, const char *const *in, int nin, const char *out, const attr *at, int nat) {
    prime_buf nd = {0};
    for (int i = 0; i < nin; i++) pb_str(&nd, 1, in[i]);
    pb_str(&nd, 2, out);
    pb_str(&nd, 4, op);
    for (int k = 0; k < nat; k++) {
        prime_buf a = {0};
        pb_str(&a, 1, at[k].name);
        if (at[k].type == ATTR_FLOAT) pb_float(&a, 2, at[k].f);
        if (at[k].type == ATTR_INT) pb_int(&a, 3, at[k].i);
        if (at[k].type == ATTR_INTS)
            for (int j = 0; j < at[k].n; j++) pb_int(&a, 8, at[k].ints[j]);
        pb_int(&a, 20, at[k].type);
        pb_msg(&nd, 5, &a);
    }
    pb_msg(&o->graph, 1, &nd);
}
/* Shorthands returning the output name (written into out, 16 bytes). */
static const char *op2(onnx_w *o, const char *op, const char *a, const char *b, char *out) {
    const char *in[2] = {a, b};
    node(o, op, in, 2, fresh(o, out), NULL, 0);
    return out;
}
static const char *op1(onnx_w *o, const char *op, const char *a, const attr *at, int nat, char *out) {
    node(o, op, &a, 1, fresh(o, out), at, nat);
    return out;
}

/* Graph input/output declaration: a tensor of `type` with fixed dims. */
static void value_info_t(onnx_w *o, int field, const char *name, int type, const int64_t *dims, int nd) {
    prime_buf vi = {0}, tp = {0}, tt = {0}, sh = {0};
    for (int i = 0; i < nd; i++) {
        prime_buf dim = {0};
        pb_int(&dim, 1, dims[i]);
        pb_msg(&sh, 1, &dim);
    }
    pb_int(&tt, 1, type);
    pb_msg(&tt, 2, &sh);
    pb_msg(&tp, 1, &tt);
    pb_str(&vi, 1, name);
    pb_msg(&vi, 2, &tp);
    pb_msg(&o->graph, field, &vi);
}
static void value_info(onnx_w *o, int field, const char *name, const int64_t *dims, int nd) {
    value_info_t(o, field, name, ONNX_FLOAT, dims, nd);
}

/* Graph outputs: `last` = the value after step T, `all` = the T per-step
 * values concatenated on axis 0. */
static void step_outputs(onnx_w *o, char (*steps)[16], int T, const char *last, const char *all) {
    const char *in[1] = {steps[T - 1]};
    node(o, "Identity", in, 1, last, NULL, 0);
    const char *cat[PRIME_MAX_T];
    for (int t = 0; t < T; t++) cat[t] = steps[t];
    attr ax = {"axis", ATTR_INT, 0, 0, NULL, 0};
    node(o, "Concat", cat, T, all, &ax, 1);
}

/* ============================================================ export */

static int finish_model(onnx_w *o, uint8_t **out, size_t *nout);

/* Writes ctx's network unrolled over T steps as ONNX bytes; *out malloc'ed
 * (caller frees with prime_free_buffer). 0 or -1. */
int prime_onnx_export(const prime_ctx *ctx, int T, uint8_t **out, size_t *nout) {
    if (!ctx || !out || !nout) return prime_error("prime_onnx_export: NULL argument");
    const prime_arch *a = prime_get_arch(ctx);
    if (a->task != PRIME_TASK_CLASSIFY) return prime_error("ONNX export: only classification networks");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("ONNX export: T = %d out of 1..%d", T, PRIME_MAX_T);
    onnx_w o = {0};
    char nm[PRIME_MAX_LAYERS][3][16]; /* per layer: weight, keep, th names */
    const int K = a->n_classes;
    int64_t in_dims[4] = {T, a->in_c, a->in_h, a->in_w};
    value_info(&o, 11, "frames", in_dims, 4);

    /* weights as initializers: conv [oc][ic][k][k], FC [rows][cols] = MatMul's B */
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        size_t nw = prime_layer_weights(L);
        if (!nw) continue;
        float *w = malloc(nw * sizeof(float)), *t = malloc(nw * sizeof(float));
        if (!w || !t) { free(w), free(t), free(o.graph.p); return prime_error("ONNX export: out of memory"); }
        prime_get_weights(ctx, l, 0, w, nw);
        snprintf(nm[l][0], 16, "w%d", l);
        if (L->op == PRIME_OP_CONV) {
            int rows = prime_layer_rows(L), cols = L->out_c;
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) t[(size_t)c * rows + r] = w[(size_t)r * cols + c];
            int64_t d[4] = {L->out_c, L->in_c, L->k, L->k};
            init_f32(&o, nm[l][0], d, 4, t, nw);
        } else {
            int64_t d[2] = {prime_layer_rows(L), L->out_c};
            init_f32(&o, nm[l][0], d, 2, w, nw);
        }
        free(w), free(t);
        if (L->neuron == PRIME_NEURON_LIF) {
            snprintf(nm[l][1], 16, "keep%d", l), init_scalar(&o, nm[l][1], 1.0f - L->decay);
            snprintf(nm[l][2], 16, "th%d", l), init_scalar(&o, nm[l][2], L->th);
        }
    }
    init_scalar(&o, "one", 1.0f);
    int64_t flat_shape[2] = {1, -1};
    init_i64(&o, "flat_shape", flat_shape, 2);

    /* state names per layer (membrane u, spikes s), empty = zero (step 1) */
    char u[PRIME_MAX_LAYERS][16], s[PRIME_MAX_LAYERS][16], sum[16] = "", steps[PRIME_MAX_T][16];
    memset(u, 0, sizeof u), memset(s, 0, sizeof s);
    for (int t = 0; t < T; t++) {
        char st[16], en[16], x[16], tmp[16], tmp2[16];
        int64_t v0 = t, v1 = t + 1, ax = 0;
        snprintf(st, 16, "t%d_start", t), init_i64(&o, st, &v0, 1);
        snprintf(en, 16, "t%d_end", t), init_i64(&o, en, &v1, 1);
        if (t == 0) init_i64(&o, "axis0", &ax, 1);
        const char *sl[4] = {"frames", st, en, "axis0"};
        node(&o, "Slice", sl, 4, fresh(&o, x), NULL, 0); /* [1][C][H][W] */
        for (int l = 0; l < a->n_layers; l++) {
            const prime_layer *L = &a->layers[l];
            char cur[16];
            if (L->op == PRIME_OP_AVGPOOL) {
                int64_t k2[2] = {L->k, L->k}, s2[2] = {L->stride, L->stride};
                attr at[2] = {{"kernel_shape", ATTR_INTS, 0, 0, k2, 2}, {"strides", ATTR_INTS, 0, 0, s2, 2}};
                op1(&o, "AveragePool", x, at, 2, cur);
                strcpy(x, cur);
                continue;
            }
            if (L->op == PRIME_OP_CONV) {
                int64_t k2[2] = {L->k, L->k}, s2[2] = {L->stride, L->stride}, p4[4] = {L->pad, L->pad, L->pad, L->pad};
                attr at[3] = {{"kernel_shape", ATTR_INTS, 0, 0, k2, 2}, {"strides", ATTR_INTS, 0, 0, s2, 2},
                              {"pads", ATTR_INTS, 0, 0, p4, 4}};
                const char *in[2] = {x, nm[l][0]};
                node(&o, "Conv", in, 2, fresh(&o, cur), at, 3);
            } else { /* FC: flatten CHW, then x @ W */
                op2(&o, "Reshape", x, "flat_shape", tmp);
                op2(&o, "MatMul", tmp, nm[l][0], cur);
            }
            attr leak = {"alpha", ATTR_FLOAT, L->leak, 0, NULL, 0};
            if (L->neuron == PRIME_NEURON_LIF) {
                /* U = U*(1 - s); U = U*keep; U = U + I; U = LeakyReLU(U); s = U > th */
                char U[16];
                if (t == 0) {
                    strcpy(U, cur);
                } else {
                    op2(&o, "Sub", "one", s[l], tmp);
                    op2(&o, "Mul", u[l], tmp, tmp2);
                    op2(&o, "Mul", tmp2, nm[l][1], tmp);
                    op2(&o, "Add", tmp, cur, U);
                }
                op1(&o, "LeakyRelu", U, &leak, 1, u[l]);
                op2(&o, "Greater", u[l], nm[l][2], tmp);
                attr to = {"to", ATTR_INT, 0, ONNX_FLOAT, NULL, 0};
                op1(&o, "Cast", tmp, &to, 1, s[l]);
                strcpy(x, s[l]);
            } else if (L->neuron == PRIME_NEURON_OUTPUT) {
                /* U = LeakyReLU(U + I); sum += U */
                if (t == 0) strcpy(tmp, cur);
                else op2(&o, "Add", u[l], cur, tmp);
                op1(&o, "LeakyRelu", tmp, &leak, 1, u[l]);
                if (t == 0) strcpy(sum, u[l]);
                else op2(&o, "Add", sum, u[l], tmp2), strcpy(sum, tmp2);
                strcpy(x, u[l]);
            } else {
                strcpy(x, cur);
            }
        }
        /* mean over the steps so far: sum / t (the simulator's division) */
        char tn[16];
        snprintf(tn, 16, "steps%d", t + 1), init_scalar(&o, tn, (float)(t + 1));
        op2(&o, "Div", sum, tn, steps[t]);
    }
    step_outputs(&o, steps, T, "logits", "step_logits"); /* after T steps, and after every step */
    int64_t lo[2] = {1, K}, so[2] = {T, K};
    value_info(&o, 12, "logits", lo, 2);
    value_info(&o, 12, "step_logits", so, 2);
    pb_str(&o.graph, 2, "prime_sim_classify");
    return finish_model(&o, out, nout);
}

/* Wraps the graph in a ModelProto (opset 13); *out malloc'ed. 0 or -1. */
static int finish_model(onnx_w *o, uint8_t **out, size_t *nout) {
    prime_buf m = {0}, ops = {0};
    pb_int(&m, 1, 8);                  /* ir_version */
    pb_str(&m, 2, "prime-sim");        /* producer_name */
    pb_str(&m, 3, PRIME_VERSION_STRING);
    pb_str(&ops, 1, "");               /* default domain */
    pb_int(&ops, 2, 13);               /* opset version */
    pb_msg(&m, 8, &ops);
    pb_msg(&m, 7, &o->graph);
    if (m.oom) { free(m.p); return prime_error("ONNX export: out of memory"); }
    *out = m.p, *nout = m.n;
    return 0;
}

/* ============================================================ inpainting network */

/* The inpainting LIF on current x: U = keep*u*(1 - s) + x (at t = 0: U = x,
 * what the simulator computes from u = s = 0); s = U > th. Names in u, s. */
static void vae_lif(onnx_w *o, int t, const char *x, char *u, char *s) {
    char a[16], b[16], c[16];
    if (t == 0) {
        node(o, "Identity", &x, 1, fresh(o, u), NULL, 0);
    } else {
        op2(o, "Mul", "keep", u, a);
        op2(o, "Sub", "one", s, b);
        op2(o, "Mul", a, b, c);
        op2(o, "Add", c, x, u);
    }
    op2(o, "Greater", u, "th", a);
    attr to = {"to", ATTR_INT, 0, ONNX_FLOAT, NULL, 0};
    op1(o, "Cast", a, &to, 1, s);
}

/* Weights and folded BN of layer i as initializers "w<i>", "a<i>", "b<i>":
 * conv [oc][ic][k][k], tconv [ic][oc][k][k] (ConvTranspose), fc [rows][cols]
 * with the HWC rows (encoder fc) or columns (decoder fc) reordered to the
 * CHW flatten of ONNX tensors. 0 or -1. */
static int vae_init_layer(onnx_w *o, const prime_vae *v, int i) {
    const prime_vae_arch *a = prime_vae_get_arch(v);
    prime_vae_layer g;
    prime_vae_layer_info(a, i, &g);
    const size_t nw = (size_t)g.rows * g.cols;
    float *w = malloc(nw * sizeof(float)), *t = malloc(nw * sizeof(float));
    float *bn = malloc(2 * (size_t)g.out_c * sizeof(float));
    if (!w || !t || !bn) { free(w), free(t), free(bn); return prime_error("ONNX export: out of memory"); }
    prime_vae_get_weights(v, i, w, nw);
    const int R = g.rows, C = g.cols, KK = g.k * g.k;
    char nm[16];
    snprintf(nm, 16, "w%d", i);
    if (g.op == PRIME_VAE_CONV) { /* row (ic*KK + koff) -> [oc][ic][koff] */
        for (int r = 0; r < R; r++)
            for (int c = 0; c < C; c++) t[(size_t)c * R + r] = w[(size_t)r * C + c];
        int64_t d[4] = {g.out_c, g.in_c, g.k, g.k};
        init_f32(o, nm, d, 4, t, nw);
    } else if (g.op == PRIME_VAE_TCONV) { /* the matrix is already [ic][koff][oc] -> [ic][oc][koff] */
        for (int ic = 0; ic < g.in_c; ic++)
            for (int k = 0; k < KK; k++)
                for (int c = 0; c < C; c++) t[((size_t)ic * C + c) * KK + k] = w[((size_t)ic * KK + k) * C + c];
        int64_t d[4] = {g.in_c, g.out_c, g.k, g.k};
        init_f32(o, nm, d, 4, t, nw);
    } else { /* fc: HWC index p*ch + c <-> CHW index c*hw + p */
        const int hw_in = g.in_h * g.in_w, hw_out = g.out_h * g.out_w;
        for (int r = 0; r < R; r++)
            for (int c = 0; c < C; c++) {
                int rr = (r % g.in_c) * hw_in + r / g.in_c, cc = (c % g.out_c) * hw_out + c / g.out_c;
                t[(size_t)rr * C + cc] = w[(size_t)r * C + c];
            }
        int64_t d[2] = {R, C};
        init_f32(o, nm, d, 2, t, nw);
    }
    if (g.bn) {
        prime_vae_get_bn(v, i, bn, bn + g.out_c, g.out_c);
        int64_t d4[4] = {1, g.out_c, 1, 1}, d1[1] = {g.out_c};
        int fc = g.op == PRIME_VAE_FC && g.out_h == 1;
        snprintf(nm, 16, "a%d", i), init_f32(o, nm, fc ? d1 : d4, fc ? 1 : 4, bn, g.out_c);
        snprintf(nm, 16, "b%d", i), init_f32(o, nm, fc ? d1 : d4, fc ? 1 : 4, bn + g.out_c, g.out_c);
    }
    free(w), free(t), free(bn);
    return 0;
}

int prime_vae_onnx_export(const prime_vae *v, uint8_t **out, size_t *nout) {
    if (!v || !out || !nout) return prime_error("prime_vae_onnx_export: NULL argument");
    const prime_vae_arch *a = prime_vae_get_arch(v);
    const int T = a->T, S = a->size, C = a->ch, s8 = a->size / 8, LAT = a->latent;
    onnx_w o = {0};
    int64_t img_dims[4] = {1, 1, S, S}, u_dims[2] = {T, LAT};
    value_info(&o, 11, "image", img_dims, 4);
    value_info(&o, 11, "hole", img_dims, 4);
    value_info_t(&o, 11, "uniforms", ONNX_DOUBLE, u_dims, 2);
    for (int i = 0; i < PRIME_VAE_LAYERS; i++)
        if (i != PRIME_VAE_POST && i != PRIME_VAE_PRIOR && vae_init_layer(&o, v, i) != 0) { free(o.graph.p); return -1; }
    { /* the digital posterior fc: w [latent][latent*k], bias */
        prime_vae_layer g;
        prime_vae_layer_info(a, PRIME_VAE_POST, &g);
        float *w = malloc((size_t)g.rows * g.cols * sizeof(float)), *b = malloc((size_t)g.cols * sizeof(float));
        if (!w || !b) { free(w), free(b), free(o.graph.p); return prime_error("ONNX export: out of memory"); }
        prime_vae_get_digital(v, PRIME_VAE_POST, w, (size_t)g.rows * g.cols, b, g.cols);
        int64_t d2[2] = {g.rows, g.cols}, d1[1] = {g.cols};
        init_f32(&o, "wpost", d2, 2, w, (size_t)g.rows * g.cols);
        init_f32(&o, "bpost", d1, 1, b, g.cols);
        free(w), free(b);
    }
    init_scalar(&o, "one", 1.0f), init_scalar(&o, "keep", a->keep), init_scalar(&o, "th", a->th);
    init_scalar(&o, "decay", a->out_keep), init_scalar(&o, "kdiv", (float)a->k);
    int64_t flat[2] = {1, -1}, lat_shape[2] = {LAT, a->k}, dec_shape[4] = {1, C, s8, s8}, one64 = 1, zero64 = 0;
    init_i64(&o, "flat", flat, 2), init_i64(&o, "lat_shape", lat_shape, 2), init_i64(&o, "dec_shape", dec_shape, 4);
    init_i64(&o, "axis1", &one64, 1), init_i64(&o, "axis0", &zero64, 1);

    /* the masked image: image*(1 - hole) - hole (hole pixels at -1) */
    char x0[16], tmp[16], tmp2[16];
    op2(&o, "Sub", "one", "hole", tmp);
    op2(&o, "Mul", "image", tmp, tmp2);
    op2(&o, "Sub", tmp2, "hole", x0);

    int64_t k2[2] = {3, 3}, s2[2] = {2, 2}, s1[2] = {1, 1}, p4[4] = {1, 1, 1, 1}, op2v[2] = {1, 1};
    attr conv_at[3] = {{"kernel_shape", ATTR_INTS, 0, 0, k2, 2}, {"strides", ATTR_INTS, 0, 0, s2, 2}, {"pads", ATTR_INTS, 0, 0, p4, 4}};
    attr tconv_at[4] = {{"kernel_shape", ATTR_INTS, 0, 0, k2, 2}, {"strides", ATTR_INTS, 0, 0, s2, 2},
                        {"pads", ATTR_INTS, 0, 0, p4, 4}, {"output_padding", ATTR_INTS, 0, 0, op2v, 2}};
    attr out_at[3] = {{"kernel_shape", ATTR_INTS, 0, 0, k2, 2}, {"strides", ATTR_INTS, 0, 0, s1, 2}, {"pads", ATTR_INTS, 0, 0, p4, 4}};
    char u[PRIME_VAE_LAYERS][16], sp[PRIME_VAE_LAYERS][16], acc[16] = "", rec[PRIME_MAX_T][16];
    for (int t = 0; t < T; t++) {
        char x[16], cur[16], st[16], en[16];
        strcpy(x, x0);
        for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
            if (i == PRIME_VAE_PRIOR) continue;
            char w[16], an[16], bn[16];
            snprintf(w, 16, "w%d", i), snprintf(an, 16, "a%d", i), snprintf(bn, 16, "b%d", i);
            if (i == PRIME_VAE_POST) {
                /* digital fc + bias, LIF; q = mean of the k spikes; z = (u_t < q) */
                op2(&o, "MatMul", x, "wpost", tmp);
                op2(&o, "Add", tmp, "bpost", cur);
                vae_lif(&o, t, cur, u[i], sp[i]);
                op2(&o, "Reshape", sp[i], "lat_shape", tmp);
                attr kd = {"keepdims", ATTR_INT, 0, 0, NULL, 0};
                const char *rs[2] = {tmp, "axis1"};
                node(&o, "ReduceSum", rs, 2, fresh(&o, tmp2), &kd, 1);
                char q[16], qd[16], ut[16], lt[16];
                op2(&o, "Div", tmp2, "kdiv", q);
                attr to_d = {"to", ATTR_INT, 0, ONNX_DOUBLE, NULL, 0}, to_f = {"to", ATTR_INT, 0, ONNX_FLOAT, NULL, 0};
                op1(&o, "Cast", q, &to_d, 1, qd);
                int64_t v0 = t, v1 = t + 1;
                snprintf(st, 16, "us%d", t), init_i64(&o, st, &v0, 1);
                snprintf(en, 16, "ue%d", t), init_i64(&o, en, &v1, 1);
                const char *sl[4] = {"uniforms", st, en, "axis0"};
                node(&o, "Slice", sl, 4, fresh(&o, ut), NULL, 0); /* [1][latent] */
                op2(&o, "Less", ut, qd, lt);
                op1(&o, "Cast", lt, &to_f, 1, x);
                continue;
            }
            if (i == PRIME_VAE_ENCFC) {
                op2(&o, "Reshape", x, "flat", tmp);
                op2(&o, "MatMul", tmp, w, cur);
            } else if (i == PRIME_VAE_DECFC) {
                op2(&o, "MatMul", x, w, tmp);
                op2(&o, "Reshape", tmp, "dec_shape", cur);
            } else {
                const char *in[2] = {x, w};
                int tc = i >= PRIME_VAE_DEC1;
                node(&o, tc ? "ConvTranspose" : "Conv", in, 2, fresh(&o, cur), i == PRIME_VAE_OUT ? out_at : tc ? tconv_at : conv_at,
                     i == PRIME_VAE_OUT ? 3 : tc ? 4 : 3);
            }
            if (i == PRIME_VAE_OUT) break;
            op2(&o, "Mul", an, cur, tmp); /* folded BN: a*x + b */
            op2(&o, "Add", tmp, bn, tmp2);
            vae_lif(&o, t, tmp2, u[i], sp[i]);
            strcpy(x, sp[i]);
        }
        /* readout: acc = out_keep*acc + y (initializer named "decay" in the file); recon_t = tanh(acc) */
        if (t == 0) {
            const char *in[1] = {cur};
            node(&o, "Identity", in, 1, fresh(&o, acc), NULL, 0);
        } else {
            op2(&o, "Mul", "decay", acc, tmp);
            op2(&o, "Add", tmp, cur, acc);
        }
        const char *in[1] = {acc};
        node(&o, "Tanh", in, 1, fresh(&o, rec[t]), NULL, 0);
    }
    step_outputs(&o, rec, T, "recon", "step_recon");
    int64_t so[4] = {T, 1, S, S};
    value_info(&o, 12, "recon", img_dims, 4);
    value_info(&o, 12, "step_recon", so, 4);
    pb_str(&o.graph, 2, "prime_sim_inpaint");
    return finish_model(&o, out, nout);
}
