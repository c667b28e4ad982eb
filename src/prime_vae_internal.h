/* prime_vae_internal.h - the inpainting network's layout, shared by
 * prime_vae.c (context, step mode), prime_vae_io.c (parameters, file) and
 * prime_graph_clf.c (its graph). The network is a layer graph run by the
 * executor (prime_graph_run.c); a layer here is a view of its nodes. */
#ifndef PRIME_VAE_INTERNAL_H
#define PRIME_VAE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"
#include "prime_graph_internal.h"

/* Layer i of the network: its geometry and where its parameters live in the
 * model (pointers into the nodes' arrays, not copies). */
typedef struct {
    prime_vae_layer g;
    pg_node *n;                 /* its weight node: graph 0 (crossbar), graph 1 (post) or 2 (prior), node 1 */
    float *gp_on, *gn_on, *gp_off, *gn_off, *wt, *g2; /* n's rows*cols arrays */
    uint8_t *mask;
    float *bn_a, *bn_b, *bias;  /* the affine node's a, b (bn layers); n's bias (latent layers) */
    size_t nout;
} vlayer;

struct prime_vae {
    prime_vae_arch a;
    prime_vae_run run;
    prime_gmodel *g;            /* the network (prime_vae_desc) with every parameter */
    vlayer L[PRIME_VAE_LAYERS];
    float *img;                 /* the masked input of the pass (the executor reads it in place) */
    int npix, steps;
    int stepping;               /* step mode: a pass begun and not finished (prime_vae_begin) */
    uint64_t inference;
    prime_vae_result res;
};

/* Checks an architecture and what it would allocate against the caps; 0 or -1. */
int prime_vae_arch_check(const prime_vae_arch *a);
/* Programs crossbar layer i from its mask (or, software, its float weights). */
int prime_vae_program(prime_vae *v, int i); /* 0 or -1 (out of memory in the IR-drop factors) */
/* The latent sampling's uniform for step t, variable d of inference `inf`. */
double prime_vae_latent_uniform(const prime_vae *v, uint64_t inf, int t, int d);
/* The network of architecture a as graphs (prime_graph_clf.c): node_of[i] =
 * layer i's weight node (graph 0; post and prior: node 1 of graph 1 / 2),
 * bn_of[i] its affine node or -1. 0 or -1. */
int prime_vae_desc(const prime_vae_arch *a, prime_gdesc *d, int *node_of, int *bn_of);

#endif
