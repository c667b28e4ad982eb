/* prime_vae_internal.h - the inpainting network's layout, shared by
 * prime_vae.c (context, timestep) and prime_vae_io.c (parameters, file). */
#ifndef PRIME_VAE_INTERNAL_H
#define PRIME_VAE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"
#include "prime_crossbar.h"

typedef struct {
    prime_vae_layer g;
    prime_xbar xb;              /* the crossbar read's view (crossbar layers) */
    int *gat;                   /* tconv: the gather list (prime_xbar_gather_list) */
    size_t nconn;               /* conv / tconv: (input, output, tap) connections */
    float *gp_on, *gn_on, *gp_off, *gn_off, *gp, *gn, *wt, *g2; /* rows*cols */
    uint8_t *mask;
    float *gpe, *gne;           /* IR drop on: effective read conductances (in fxblock), else NULL */
    prime_conv_unit *adc_unit;  /* non-ideal ADC: [row_tiles][cols] converters (in fxblock), else NULL */
    float *bn_a, *bn_b, *bias;  /* out_c, out_c, cols */
    float *u, *s, *cur;         /* state, out size */
    size_t nout;
    int measured;               /* gp_on/gn_on came from a map (prime_vae_set_conductances) */
} vlayer;

struct prime_vae {
    prime_vae_arch a;
    prime_device dev;
    prime_vae_run run;
    vlayer L[PRIME_VAE_LAYERS];
    float *wblock, *sblock;
    uint8_t *mblock;
    float *x0, *q, *z, *readout, *recon;
    prime_xscratch xs;          /* read scratch: xs.active and one int/float block (kblock) apart */
    int32_t *kblock;
    int npix, steps, T;
    int gen;                    /* 1: vae_step samples the prior (generation) */
    int stepping;               /* step mode: a pass begun and not finished (prime_vae_begin) */
    uint64_t inference;
    prime_vae_result res;
    prime_devfx_params fx;      /* device effects beside dev (device_wire.c) */
    void *fxblock;
    prime_conv_unit *dac_unit;  /* non-ideal DAC: one per pixel, else NULL */
    double dac_clipped;         /* clipped input conversions of the inference being set up */
};

/* Checks an architecture and what it would allocate against the caps; 0 or -1. */
int prime_vae_arch_check(const prime_vae_arch *a);
/* Programs crossbar layer i from its mask (or, software, its float weights). */
int prime_vae_program(prime_vae *v, int i); /* 0 or -1 (out of memory in the IR-drop factors) */
/* prime_set_devfx_with for the inpainting network (device_wire.c). */
int prime_vae_set_devfx_with(prime_vae *v, const prime_device *d, const prime_devfx_params *fx);
/* The latent sampling's uniform for step t, variable d of inference `inf`. */
double prime_vae_latent_uniform(const prime_vae *v, uint64_t inf, int t, int d);

#endif
