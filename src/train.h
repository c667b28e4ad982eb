/* train.h - native mask trainer for the PRIME classification network.
 *
 * Trains which memristor pairs to keep (edge-popup scores, straight-through
 * estimator) over the random weights of a formed chip, or, in baseline mode,
 * ordinary float weights of the same network. Native only (threads, files).
 *
 *     prime_train_params p = prime_train_default_params();
 *     p.epochs = 5; p.seed = 1;
 *     prime_trainer *tr = prime_trainer_create(&p);        // forms the chip
 *     if (!tr) die(prime_last_error());
 *     prime_trainer_fit(tr, &train_frames, &test_frames); // prints progress
 *     prime_trainer_save_model(tr, "models/x.prime");     // masks -> .prime
 *     prime_trainer_free(tr);
 *
 * The network is prime_arch_nmnist() (the PRIME paper, arXiv 2407.18625): Conv+LIF, Pool,
 * Conv+LIF, Pool, FC + output cell. Internally activations are HWC (channel
 * fastest) so every inner loop is an axpy over output channels, which the
 * compiler vectorizes without reassociating sums (-ffp-contract=off, no
 * -ffast-math): results are bit-identical across builds and thread counts.
 */
#ifndef PRIME_TRAIN_H
#define PRIME_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include "prime.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { PRIME_OPT_ADAM = 0, PRIME_OPT_SGD = 1 };
enum { PRIME_TR_NOISE_WEIGHT = 0, PRIME_TR_NOISE_CONDUCTANCE = 1 };

typedef struct {
    int T;              /* timesteps per sample (10) */
    int epochs;
    int batch;          /* mini-batch size (128) */
    int opt;            /* PRIME_OPT_* */
    float lr;           /* peak learning rate, cosine-decayed per batch */
    float wd;           /* weight decay (L2 on the scores / weights) */
    float momentum;     /* SGD momentum (0.9) */
    float sparsity;     /* fraction of each layer pruned (0.5) */
    uint64_t seed;      /* chip seed and training seed (shuffle, scores) */
    int baseline;       /* 1: train float weights, no mask (software baseline) */
    int hw_aware;       /* 1: read noise on kept weights, off-state residuals */
    float read_noise;   /* eta of the hw-aware read noise, fresh per batch */
    int noise_model;    /* hw-aware noise on each weight: PRIME_TR_NOISE_WEIGHT w (1 + eta N)
                           (the paper's), PRIME_TR_NOISE_CONDUCTANCE w + eta sqrt(G+^2 + G-^2) s N
                           (the simulator's default read model, kept and pruned pairs) */
    int threads;        /* worker threads (2) */
    int c1, c2;         /* output channels of conv1 / conv2 (0: the paper's 12 / 64) */
    int verbose;        /* 1: progress lines on stdout */
    int smooth_spikes;  /* test only: spike = clamp(U - th + 0.5, 0, 1), whose
                           true derivative is the surrogate (gradient checks) */
    const char *checkpoint; /* file written after every epoch, or NULL */
    int resume;         /* 1: continue from `checkpoint` if it exists */
} prime_train_params;

/* Defaults of the PRIME paper (arXiv 2407.18625): T 10, Adam lr 1e-3 wd 5e-4, batch 128,
 * sparsity 0.5, 14 epochs, seed 1, 2 threads. */
prime_train_params prime_train_default_params(void);

typedef struct prime_trainer prime_trainer;

/* A trainer over a freshly formed chip (prime_create with chip_seed = seed);
 * NULL on error (prime_last_error). The caller frees it. */
prime_trainer *prime_trainer_create(const prime_train_params *p);
/* The same over a chip formed with device `dev` (its chip_seed picks the
 * chip; p->seed still seeds the scores and shuffles). */
prime_trainer *prime_trainer_create_on(const prime_train_params *p, const prime_device *dev);
void prime_trainer_free(prime_trainer *tr);

/* Trains for p.epochs epochs on `train` (test may be NULL: evaluated after
 * each epoch otherwise). Writes/reads the checkpoint if set. 0 or -1. */
int prime_trainer_fit(prime_trainer *tr, const prime_frames *train,
                      const prime_frames *test);
/* Accuracy (0..1) and mean loss of the trainer's own forward pass (current
 * masks, no noise) on the first n samples of f (n <= 0: all). 0 or -1. */
int prime_trainer_evaluate(prime_trainer *tr, const prime_frames *f, int n,
                           double *acc, double *loss);
/* Writes the masks into the chip context and saves it as a .prime model at
 * `path`. Not available in baseline mode. 0 or -1. */
int prime_trainer_save_model(prime_trainer *tr, const char *path);
/* The chip context (owned by the trainer), masks as last exported. */
prime_ctx *prime_trainer_ctx(prime_trainer *tr);

/* Step-wise training (the caller shuffles and schedules; src/train_wasm.c):
 * one optimizer step at learning rate lr on samples idx[0..m) of train.
 * *loss gets the batch's summed loss, *correct its correct count. 0 or -1. */
int prime_trainer_batch(prime_trainer *tr, const prime_frames *train, const int *idx, int m,
                        float lr, double *loss, int *correct);
/* Warm start: sets weight layer wl's scores (keeping their signs) so that the
 * trainer's mask equals `mask` (n = layer_size; it must prune as many cells as
 * the trainer's sparsity does). 0 or -1. */
int prime_trainer_warm_start(prime_trainer *tr, int wl, const uint8_t *mask, size_t n);
/* Weight layer wl's mask as of the last refresh/evaluate (layer_size bytes,
 * owned by the trainer) and its index in the arch (for prime_set_mask). */
const uint8_t *prime_trainer_mask(const prime_trainer *tr, int wl);
int prime_trainer_layer_index(const prime_trainer *tr, int wl);

/* ------------------------------------------------ internals for tests */

/* Number of weight layers (3) and a layer's weight count; the effective
 * weights the forward pass uses (owned by the trainer, [row][col]). */
int prime_trainer_n_weight_layers(const prime_trainer *tr);
size_t prime_trainer_layer_size(const prime_trainer *tr, int wl);
float *prime_trainer_weff(prime_trainer *tr, int wl);
/* Recomputes the effective weights from scores/masks (no noise). */
void prime_trainer_refresh(prime_trainer *tr);
/* The same with the hw-aware read noise of batch `draw` (as training draws it); 0 or -1. */
int prime_trainer_refresh_noisy(prime_trainer *tr, uint64_t draw);
/* Loss of one sample (frames uint8 [T][2][34][34]) with the current effective
 * weights; if grads != NULL adds dL/dweff of weight layer l to grads[l]
 * (caller-owned arrays of layer_size floats). Returns the loss, NAN on error.
 * logits (may be NULL) receives n_classes floats. */
double prime_trainer_sample_grad(prime_trainer *tr, const uint8_t *x, int label,
                                 float *const *grads, float *logits);
/* Same for a float input (gradient checks with arbitrary inputs). */
double prime_trainer_sample_grad_f(prime_trainer *tr, const float *x, int label,
                                   float *const *grads, float *logits);

/* Layer kernels (prefix prime_tr_: the classifier trainer's), HWC activations,
 * weights [row][col] as in prime.h.
 * conv: in [H][W][C], out [OH][OW][OC], stride 1, zero padding `pad`. */
/* mask[i] = 1 for all but the floor(sparsity * n) smallest |score[i]| (ties
 * by index): the trainers' pruning rule (classifier and VAE). 0 or -1 (out of memory). */
int prime_tr_mask_from_scores(const float *score, size_t n, float sparsity, uint8_t *mask);
void prime_tr_conv_forward(float *out, const float *in, const float *w, int H, int W,
                      int C, int OC, int k, int pad);
void prime_tr_conv_forward_ref(float *out, const float *in, const float *w, int H,
                          int W, int C, int OC, int k, int pad);
/* dw += dL/dw; din (may be NULL) = dL/din, overwritten. wt is w transposed
 * to [oc][ky][kx][ic] (prime_tr_conv_transpose). */
void prime_tr_conv_backward(float *dw, float *din, const float *gout, const float *in,
                       const float *wt, int H, int W, int C, int OC, int k, int pad);
void prime_tr_conv_backward_ref(float *dw, float *din, const float *gout,
                           const float *in, const float *w, int H, int W, int C,
                           int OC, int k, int pad);
void prime_tr_conv_transpose(float *wt, const float *w, int C, int OC, int k);
/* avgpool k x k stride k: in [H][W][C] -> out [H/k][W/k][C]. */
void prime_tr_pool_forward(float *out, const float *in, int H, int W, int C, int k);
void prime_tr_pool_backward(float *din, const float *gout, int H, int W, int C, int k);
/* fc: in [N] (index = matrix row), out [M]; dw += in x gout; din = W gout. */
void prime_tr_fc_forward(float *out, const float *in, const float *w, int N, int M);
void prime_tr_fc_backward(float *dw, float *din, const float *gout, const float *in,
                     const float *w, int N, int M);
/* Hidden LIF over n cells for one step. U holds the membrane (updated in
 * place), s the spikes of the previous step (updated). */
void prime_tr_lif_forward(float *U, float *s, const float *I, int n, float th,
                     float decay, float leak, int smooth);
/* One step of BPTT through the hidden LIF, from the stored membrane U_t.
 * gs: dL/ds_t from the layer above; ga: in = dL/da_{t+1} (zeros at t = T-1),
 * out = dL/da_t; gI: out = dL/dI_t. */
void prime_tr_lif_backward(float *gI, float *ga, const float *gs, const float *U,
                      int n, float th, float decay, float leak, int smooth);

#ifdef __cplusplus
}
#endif
#endif
