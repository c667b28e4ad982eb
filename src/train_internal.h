/* train_internal.h - the mask trainer's layout, shared by train.c (network,
 * masks, threads, optimizer, step-wise use) and train_fit.c (checkpoints,
 * the epoch loop, export). */
#ifndef TRAIN_INTERNAL_H
#define TRAIN_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "train.h"

#define PRIME_TR_CHUNKS 8      /* gradient chunks per batch (fixed: determinism) */
#define PRIME_TR_EVAL_CHUNK 32 /* samples per evaluation chunk */
#define PRIME_TR_NW 3          /* weight layers: conv1, conv2, fc */

typedef struct {
    size_t n;
    int rows, cols;
    float *w;      /* formed on-state weights (G+ - G-) * scale, [row][col] */
    float *r;      /* off-state residuals (hw-aware), else NULL */
    float *s_on, *s_off; /* sqrt(G+^2 + G-^2) * scale kept / pruned (conductance noise), else NULL */
    float *score;  /* trainable: edge-popup scores, or weights (baseline) */
    float *weff;   /* effective weights of the current batch */
    float *m, *v;  /* optimizer state (Adam m, v; SGD uses m) */
    uint8_t *mask;
} prime_tr_wlayer;

typedef struct { /* one thread's buffers for one sample */
    float *x;                    /* T x [H0][W0][C0] */
    float *U1, *P1, *U2, *P2;    /* T x n1, n1p, n2, n2p (P2 in CHW order) */
    float *Uo;                   /* T x NC */
    float *I1, *S1, *I2, *S2, *Q2; /* per-step scratch */
    float *g1, *ga1, *gi1, *gp1, *g2, *ga2, *gi2, *gp2, *gq2;
} prime_tr_ws;

struct prime_trainer {
    prime_train_params p;
    prime_arch a;
    prime_ctx *ctx;
    int li[PRIME_TR_NW];              /* arch layer index of each weight layer */
    int H0, W0, C0;              /* input */
    int k1, pad1, C1, H1, W1;    /* conv1 output */
    int pk1, H1p, W1p;           /* pool1 output */
    int k2, pad2, C2, H2, W2;    /* conv2 output */
    int pk2, H2p, W2p;           /* pool2 output */
    int NC;
    float th1, dec1, leak1, th2, dec2, leak2, leako;
    prime_tr_wlayer L[PRIME_TR_NW];
    float *wt2;                  /* conv2 weff transposed [oc][ky][kx][ic] */
    float *gchunk;               /* PRIME_TR_CHUNKS x total weights */
    size_t ntot;
    int nthreads;
    prime_tr_ws *ws;
    int epoch_done;
    long step;
    float *arena;                /* one allocation for all weight tensors */
    float *wsarena;              /* one allocation for all workspaces */
};

typedef struct {
    prime_trainer *tr;
    const prime_frames *f;
    const int *idx;       /* sample indices of this job */
    int n, nchunks, backward;
    atomic_int next;
    double loss[1024]; /* per chunk (<= 1024 chunks a job) */
    int correct[1024];
} prime_tr_job;

/* Seconds of a monotonic clock. */
double prime_tr_now_s(void);
/* Effective weights of one batch (noise = 1: hw-aware read noise keyed by draw); 0 or -1. */
int prime_tr_make_weff(prime_trainer *tr, int noise, uint64_t draw);
/* Runs job j on the trainer's threads; 0 or -1. */
int prime_tr_run_job(prime_trainer *tr, prime_tr_job *j);
/* One optimizer step over B samples' gradients at learning rate lr. */
void prime_tr_opt_step(prime_trainer *tr, float lr, int B);

#endif
