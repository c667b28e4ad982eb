/* prime_graph.h - layer graphs on the macro: any network of the seeds'
 * layer kinds, run by one executor over the engine's one crossbar read
 * (prime_xbar_read) and device model (prime_device.c). docs/graph.md.
 *
 *   prime_gdesc d = {0};                       // or prime_graph_fashion() / an import
 *   prime_gnode *n = prime_gdesc_add(&d, 0, PRIME_G_INPUT); n->c = 1, n->h = n->w = 28;
 *   ... conv / fc / pools / affine / latent nodes, neurons on any node ...
 *   prime_gmodel *m = prime_graph_create(&d, &dev);     // NULL + prime_last_error()
 *   prime_graph_run(m, input, 1, &r);                   // [C][H][W], repeated T steps
 *   prime_graph_save(m, &bytes, &n); prime_graph_load(bytes, n);
 *
 * A model is up to PRIME_G_MAX_GRAPHS graphs: graph 0 is the network, the
 * others are run by LATENT nodes (the FSVAE posterior q(z_t | x_<=t, z_<t)
 * and prior p(z_t | z_<t)). Nodes run in index order, once per timestep; an
 * input that names the node itself or a later one reads that node's output
 * of the previous step (zeros at step 0): recurrence without cycles.
 * Activations are HWC inside; inputs and readouts are CHW (PyTorch order). */
#ifndef PRIME_GRAPH_H
#define PRIME_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"

#define PRIME_G_MAX_GRAPHS 3
#define PRIME_G_MAX_NODES 48

enum prime_gop {
    PRIME_G_INPUT = 0,   /* graph input: c, h, w (sub-graphs: filled by the LATENT node) */
    PRIME_G_CONV = 1,    /* c out channels, k, stride, pad; optional bias */
    PRIME_G_TCONV = 2,   /* transposed conv: out = (in-1)*stride - 2 pad + k + out_pad; optional bias */
    PRIME_G_FC = 3,      /* c outputs (shape 1x1xc); input read flat (a FLATTEN input: CHW order) */
    PRIME_G_AVGPOOL = 4, /* k x k, stride k */
    PRIME_G_MAXPOOL = 5, /* k x k, stride k */
    PRIME_G_FLATTEN = 6, /* C x H x W -> (C*H*W) x 1 x 1 in CHW order (torch.flatten) */
    PRIME_G_CONCAT = 7,  /* channels of in[0] then in[1] (same H, W) */
    PRIME_G_AFFINE = 8,  /* y = a[c] x + b[c]: folded BN / tdBN (alpha * Vth * gamma / sigma) */
    PRIME_G_RESHAPE = 9, /* the input's CHW values as c x h x w (torch .view) */
    PRIME_G_LATENT = 10, /* Bernoulli latent: c channels, k; sub[0] posterior, sub[1] prior graph */
    PRIME_G_OPS
};
enum prime_gneuron {
    PRIME_GN_NONE = 0,
    PRIME_GN_LIF = 1,    /* PRIME hidden LIF: U *= 1-s; U *= 1-decay; U += I; LeakyReLU(leak); s = U > th */
    PRIME_GN_OUTPUT = 2, /* PRIME output cell: U = LeakyReLU(U + I) */
    PRIME_GN_FSVAE = 3,  /* FSVAE LIF: u = tau*u*(1-o) + x; o = u > th */
    PRIME_GN_RELUQ = 4,  /* ReLU, qbits-bit output over [0, qmax] (round half up) */
    PRIME_GN_KINDS
};
enum prime_greadout {
    PRIME_GR_LOGITS = 0, /* the output node's values after the last step */
    PRIME_GR_MEAN = 1,   /* mean over steps of the output node (PRIME's mean membrane) */
    PRIME_GR_TANH = 2,   /* tanh of a decayed sum: acc = out_decay*acc + y (anchored: acc += out_decay^(T-1-t) y) */
};
enum prime_gpolicy { PRIME_GP_NONE = 0, PRIME_GP_CONFIDENCE = 1, PRIME_GP_CONVERGENCE = 2 };

typedef struct {
    int op;
    int in[2];          /* input nodes (-1: none); in >= this node: its previous-step output */
    int c, h, w;        /* INPUT / RESHAPE: shape; CONV, TCONV, FC, LATENT: output channels */
    int k, stride, pad, out_pad;
    int bias;           /* weight ops: has a digital bias */
    int crossbar;       /* weight ops: 1 on the macro (mask over formed conductances), 0 digital */
    float scale;        /* crossbar: software scale, weight = (G+ - G-) * scale */
    float sparsity;     /* fraction pruned (metadata for trainers and imports) */
    int neuron;
    float th, decay, leak, tau; /* LIF: th, decay, leak; FSVAE: th, tau */
    int qbits;          /* RELUQ */
    float qmax;
    int sub[2];         /* LATENT: posterior, prior graph (1..) */
    int mode;           /* LATENT: 0 pick one of k (the authors' FSVAE; posterior input x_t then z_(t-1)),
                           1 z = Bernoulli(mean of the k) (prime_vae.c; posterior input x_t); RESHAPE: 1 HWC order */
    int key;            /* device stream key; -1: 64 * graph + node */
    int nkey;           /* read-noise stream key; -1: the device key */
    /* filled by prime_graph_create: output shape */
    int oc, oh, ow;
} prime_gnode;

typedef struct {
    int n;
    prime_gnode node[PRIME_G_MAX_NODES];
} prime_ggraph;

typedef struct {
    int n_graphs;
    prime_ggraph g[PRIME_G_MAX_GRAPHS];
    int T;              /* steps per input (the input is repeated every step) */
    int out_node;       /* graph 0's readout node; -1: the last */
    int readout;        /* prime_greadout */
    float out_decay;
    int anchored;       /* TANH: weights out_decay^(T-1-t) (the authors' MembraneOutputLayer) */
    int in_dac;         /* 1: graph 0's input goes through the DAC (dac_bits) */
    int macs_conn;      /* 1: a conv's dense MACs are its connections (prime_vae.c), 0: every tap (prime_core.c) */
} prime_gdesc;

typedef struct {
    int policy;         /* prime_gpolicy */
    float alpha, threshold;          /* confidence: softmax(logits / alpha) > threshold */
    float m_div, m_th; int m_window; /* convergence: m_t = sum|r_t - r_t-1| / m_div */
    int min_steps;
    int ideal;          /* 1: the software baseline (no read noise, ideal ADC) */
    int generate;       /* 1: LATENT nodes sample the prior; graph 0 runs from the LATENT node on */
    uint64_t noise_seed, latent_seed;
} prime_grun;

typedef struct {
    int steps_used, T, label, n_out;
    const float *out;   /* readout after steps_used (CHW, n_out values; owned by the model) */
    float confidence[PRIME_MAX_T], m[PRIME_MAX_T];
    prime_counters counters;
    double digital_macs, spikes;
    double energy_pj, baseline_pj, energy_ratio;
} prime_gresult;

typedef struct prime_gmodel prime_gmodel;

/* Appends a node of kind op to graph g of d (defaults set: in = previous node,
 * crossbar, scale 0.01, th 0.2, decay 0.8, leak 0.1, tau 0.25, key -1);
 * NULL when full. */
prime_gnode *prime_gdesc_add(prime_gdesc *d, int g, int op);
prime_grun prime_graph_default_run(void);
/* Checks the graphs (shapes, ops, inputs, caps) and fills the output shapes; 0 or -1. */
int prime_graph_check(prime_gdesc *d);
/* A model with every mask at keep, conductances formed from dev's chip seed,
 * digital weights 0, biases 0, affines identity; NULL on error. */
prime_gmodel *prime_graph_create(const prime_gdesc *d, const prime_device *dev);
void prime_graph_free(prime_gmodel *m);
const prime_gdesc *prime_graph_desc(const prime_gmodel *m);
prime_device prime_graph_get_device(const prime_gmodel *m);
int prime_graph_set_device(prime_gmodel *m, const prime_device *dev);
prime_grun prime_graph_get_run(const prime_gmodel *m);
int prime_graph_set_run(prime_gmodel *m, const prime_grun *r);

/* Parameters of node (g, i), matrix layout [rows][cols] (rows: (ic*k+ky)*k+kx
 * for conv / tconv, the flat input index for FC; cols: output channels).
 * what: "mask" (bytes as floats 0/1), "gpos", "gneg" (measured on-state
 * conductances, uS: both make the layer measured), "weight" (digital weights;
 * crossbar: read only, the programmed (G+ - G-) * scale), "bias" (cols),
 * "affine_a", "affine_b" (channels). 0 or -1 (n must match). */
int prime_graph_set_param(prime_gmodel *m, int g, int i, const char *what, const float *v, size_t n);
int prime_graph_get_param(const prime_gmodel *m, int g, int i, const char *what, float *v, size_t n);
/* Entries of that parameter, or 0 with an error when the node has none. */
size_t prime_graph_param_size(const prime_gmodel *m, int g, int i, const char *what);

/* Latent choices of LATENT node i of graph 0: [t][c] index in 0..k-1. set:
 * use these (n = T*c) instead of the seeded draw until cleared (v NULL); get:
 * the choices of the last run. 0 or -1. */
int prime_graph_set_choices(prime_gmodel *m, int i, const int *v, size_t n);
int prime_graph_get_choices(const prime_gmodel *m, int i, int *v, size_t n);

/* Runs one input ([frames][C][H][W] of graph 0's INPUT: frames 1, repeated
 * every step, or T; NULL in generate mode) for T steps or to the stop; 0 or -1. */
int prime_graph_run(prime_gmodel *m, const float *input, int frames, prime_gresult *r);
/* Generation from the prior with the pass index `seed` (as prime_vae_generate): 0 or -1. */
int prime_graph_generate(prime_gmodel *m, uint64_t seed, prime_gresult *r);
/* The readout after step t (0-based) of the last run (CHW), or NULL. */
const float *prime_graph_readout(const prime_gmodel *m, int t, size_t *n);
/* Output (CHW) of node (g, i) after the last step, copied into v[n]; 0 or -1. */
int prime_graph_node_output(const prime_gmodel *m, int g, int i, float *v, size_t n);
/* Spikes node (g, i) emitted in the last run (LIF / FSVAE neurons); 0 or -1. */
int prime_graph_node_spikes(const prime_gmodel *m, int g, int i, float *spikes);

/* Model file (docs/graph.md): "PRIMEMDL", version 2, sections GRPH, DEVC,
 * RUN_, PARM, CRC-32. save: malloc'ed buffer (prime_free_buffer); load:
 * NULL + an error naming the first bad field. */
int prime_graph_save(const prime_gmodel *m, uint8_t **out, size_t *n);
prime_gmodel *prime_graph_load(const uint8_t *b, size_t n);
/* 1 when the bytes start like a graph model file. */
int prime_graph_is_file(const uint8_t *b, size_t n);

/* Imports (prime_graph_import.c): the PRIME authors' FSVAE state_dict
 * (Pruning_FSVAE, MNIST config) or this project's Fashion CNN layout
 * (docs/graph.md) from a .pt; NULL + an error naming the entry. */
prime_gmodel *prime_graph_import(const uint8_t *b, size_t n, const prime_device *dev);
/* 1 when the checkpoint's tensors are a layout prime_graph_import knows. */
int prime_graph_import_knows(const uint8_t *b, size_t n);
/* A classifier context (prime_core.c) as a graph model with its masks, maps,
 * device and run: the same outputs bit for bit (prime_graph_clf.c). */
prime_gmodel *prime_graph_from_classifier(const prime_ctx *c);
/* The same for an inpainting network on the macro (prime_vae.c). */
prime_gmodel *prime_graph_from_vae(const prime_vae *v);
/* The companion paper's Fashion-MNIST CNN (arXiv 2311.07164, reference.md §5)
 * as a graph: MaxPool2 -> Conv 1->64 3x3 -> BN -> ReLU4 -> Conv 64->16 3x3 ->
 * MaxPool2 -> BN -> ReLU4 -> FC 400->128 -> ReLU4 -> FC 128->10, logits. */
prime_gdesc prime_graph_fashion(void);
/* The authors' FSVAE (MNIST config) as graphs: latent, k, hidden channels. */
prime_gdesc prime_graph_fsvae(int latent, int k, int ch, int T);

#endif
