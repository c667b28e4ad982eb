/* train_vae.h - trainer of the inpainting network (native only).
 *
 * Edge-popup masks over the random conductances of the crossbar layers (or, as
 * the software baseline, free float weights of the same shape), batch norm
 * with batch statistics, trained digital latent layers, BPTT over T steps.
 * Layer-major: each layer runs over all B*T frames before the next, so batch
 * norm sees the statistics of the whole batch and all steps.
 *
 *     prime_vt_params p = prime_vt_default_params();
 *     prime_vt *tr = prime_vt_new(&arch, &dev, &p);
 *     for (...) loss = prime_vt_train_batch(tr, clean, B, step, &parts);
 *     prime_vae *v = prime_vt_export(tr);      // masks, folded BN, latent weights
 *
 * Prefix prime_vt_: the VAE trainer. Layer kernels are exported (prime_vt_*_forward /
 * _backward side by side) so that tests/c/test_vae.c can check each against finite differences.
 */
#ifndef PRIME_TRAIN_VAE_H
#define PRIME_TRAIN_VAE_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"

typedef struct {
    float lr;          /* Adam learning rate (1e-3) */
    float beta;        /* weight of the KL term (0.01) */
    float hole_weight; /* weight of hole pixels in the reconstruction loss (1) */
    float surrogate;   /* half-width a of the rectangular surrogate: dS/dU = 1/(2a) (0.5) */
    float bn_momentum; /* running statistics (0.1) */
    uint64_t seed;     /* scores / weights init and latent sampling */
} prime_vt_params;

prime_vt_params prime_vt_default_params(void);

typedef struct prime_vt prime_vt;
/* A trainer; arch->software = 1 trains free weights (the baseline). NULL on error. */
prime_vt *prime_vt_new(const prime_vae_arch *a, const prime_device *d, const prime_vt_params *p);
void prime_vt_free(prime_vt *tr);
/* One Adam step on B clean images (size*size each, [-1, 1]); the centre 8x8
 * is blanked at the input. Returns the loss; parts (may be NULL) gets
 * {reconstruction MSE (weighted), KL, hole MSE}. */
double prime_vt_train_batch(prime_vt *tr, const float *clean, int B, uint64_t step, double parts[3]);
/* The trained network as an inference context (caller frees); NULL on error. */
prime_vae *prime_vt_export(prime_vt *tr);
/* Reconstructions (after T steps) of B clean images with the centre blanked,
 * in eval mode (running BN statistics, this batch's masks). recon: B*size*size. */
int prime_vt_reconstruct(prime_vt *tr, const float *clean, int B, float *recon);
/* Parameter array of layer i (for tests): which 0 scores / weights, 1 bias,
 * 2 gamma, 3 beta, 4 running mean, 5 running var; NULL if it has none. */
float *prime_vt_param(prime_vt *tr, int i, int which, size_t *n);
/* Checkpoint: scores / weights, BN, latent parameters and the Adam state, so
 * that a resumed run continues exactly (0 or -1). */
int prime_vt_save(const prime_vt *tr, const char *path);
int prime_vt_load(prime_vt *tr, const char *path);
uint64_t prime_vt_steps(const prime_vt *tr); /* batches trained so far */

/* ---- layer kernels (F frames; activations [F][n], HWC) ---- */

/* y[F][out] = x[F][in] * W[rows][cols] (conv / tconv via connection list conn,
 * nconn triples; fc when conn is NULL). */
void prime_vt_lin_forward(const prime_vae_layer *g, const int *conn, size_t nconn, const float *W,
                     const float *x, float *y, int F);
/* dW += x^T dy; dx = dy W^T (dx may be NULL). */
void prime_vt_lin_backward(const prime_vae_layer *g, const int *conn, size_t nconn, const float *W,
                      const float *x, const float *dy, float *dW, float *dx, int F);
/* Batch norm over N = rows of n values with C channels (channel = index % C):
 * y -> xhat (in place) and out = gamma*xhat + beta; mean/invstd per channel. */
void prime_vt_bn_forward(float *y, float *out, size_t N, int n, int C, const float *gamma,
                    const float *beta, float *mean, float *invstd);
/* dy from dout; dgamma, dbeta accumulate. */
void prime_vt_bn_backward(const float *dout, const float *xhat, size_t N, int n, int C,
                     const float *gamma, const float *invstd, float *dy, float *dgamma, float *dbeta);
/* Inpainting LIF over [B][T][n]: u = keep*u*(1-o_prev) + x; o = u > th.
 * x is overwritten by u. */
void prime_vt_lif_forward(float *xu, float *s, int B, int T, int n, float keep, float th);
/* BPTT with the reset term detached; surrogate dS/dU = 1/(2a) on |u-th| < a. */
void prime_vt_lif_backward(const float *u, const float *s, const float *ds, float *dx, int B, int T,
                      int n, float keep, float th, float a);
/* recon[B][n] = tanh(sum_t keep^(T-1-t) y[b][t][n]). */
void prime_vt_readout_forward(const float *y, float *recon, int B, int T, int n, float keep);
void prime_vt_readout_backward(const float *recon, const float *drecon, float *dy, int B, int T,
                          int n, float keep);
/* KL(Bernoulli(q) || Bernoulli(p)) summed over n, q and p clamped to
 * [0.01, 0.99]; dq, dp get its gradient (may be NULL). */
double prime_vt_kl(const float *q, const float *p, size_t n, float *dq, float *dp);

#endif
