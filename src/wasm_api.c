/* wasm_api.c - flat entry points for wasm/prime.js (compiled into the wasm
 * build only; native callers use prime.h directly).
 *
 * Structs cross the boundary as arrays of doubles in a fixed order (below), so
 * the JS side never depends on C struct layout; lengths and offsets are the
 * PW_* constants of wasm_abi.h, which prime.js reads at load (pw_abi). Seeds travel as doubles: exact
 * up to 2^53. Every function returns 0 / a pointer on success and -1 / 0 on
 * error with prime_last_error() set.
 */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "simd.h"
#include "wasm_abi.h"

#define EXPORT __attribute__((used, visibility("default")))

/* ============================================================ memory */

EXPORT void *pw_malloc(size_t n) { return malloc(n ? n : 1); }
EXPORT void pw_free(void *p) { free(p); }
EXPORT const char *pw_simd(void) { return PRIME_SIMD_NAME; }

/* ============================================================ parameters */

/* Every double from JS is range-checked here before it is cast: a cast of an
 * out-of-range double to int or float is undefined behaviour in C. Field names
 * in the messages are the JS (camelCase) names. */

/* *o = v if v is an integer in [lo, hi]; else -1 with a message naming the field. */
static int as_int(double v, const char *what, int lo, int hi, int *o) {
    if (!(v >= lo && v <= hi) || v != (double)(int)v)
        return prime_error("%s = %g must be an integer in %d..%d", what, v, lo, hi);
    *o = (int)v;
    return 0;
}
/* *o = v if v is an integer in 0..2^53 (seeds travel as doubles); else -1. */
static int as_seed(double v, const char *what, uint64_t *o) {
    if (!(v >= 0 && v <= 9007199254740992.0) || v != (double)(uint64_t)v)
        return prime_error("%s = %g must be an integer in 0..2^53", what, v);
    *o = (uint64_t)v;
    return 0;
}
/* *o = (float)v if v is finite and within float range; else -1. */
static int as_float(double v, const char *what, float *o) {
    if (!(v >= -FLT_MAX && v <= FLT_MAX)) return prime_error("%s = %g is not a finite number in float range", what, v);
    *o = (float)v;
    return 0;
}

/* Device as PW_DEV_FIELDS doubles, in the order of prime_device's fields. */
#define DEV_FIELDS PW_DEV_FIELDS
static void dev_to(const prime_device *d, double *o) {
    double v[] = {(double)d->chip_seed, d->g_dist, d->g_mean, d->g_sd, d->g_off, d->g_off_sd, d->g_max,
                            d->prog_noise, d->stuck_on, d->stuck_off, d->read_noise, d->noise_mode, d->adc_bits,
                            d->adc_fs, d->dac_bits, d->v_read, d->e_cell_pj, d->e_adc_fom_fj, d->e_dac_pj,
                            d->e_neuron_pj, d->e_mac_pj};
    _Static_assert(sizeof v == DEV_FIELDS * sizeof(double), "PW_DEV_FIELDS");
    memcpy(o, v, sizeof v);
}
static int dev_from(const double *v, prime_device *d) {
    int dist, mode; /* enum fields go through an int */
    if (as_seed(v[0], "device: chipSeed", &d->chip_seed) || as_int(v[1], "device: gDist", 0, 1, &dist) ||
        as_float(v[2], "device: gMean", &d->g_mean) || as_float(v[3], "device: gSd", &d->g_sd) ||
        as_float(v[4], "device: gOff", &d->g_off) || as_float(v[5], "device: gOffSd", &d->g_off_sd) ||
        as_float(v[6], "device: gMax", &d->g_max) || as_float(v[7], "device: progNoise", &d->prog_noise) ||
        as_float(v[8], "device: stuckOn", &d->stuck_on) || as_float(v[9], "device: stuckOff", &d->stuck_off) ||
        as_float(v[10], "device: readNoise", &d->read_noise) || as_int(v[11], "device: noiseMode", 0, 1, &mode) ||
        as_int(v[12], "device: adcBits", 0, 24, &d->adc_bits) || as_float(v[13], "device: adcFs", &d->adc_fs) ||
        as_int(v[14], "device: dacBits", 0, 24, &d->dac_bits) || as_float(v[15], "device: vRead", &d->v_read) ||
        as_float(v[16], "device: eCellPj", &d->e_cell_pj) || as_float(v[17], "device: eAdcFomFj", &d->e_adc_fom_fj) ||
        as_float(v[18], "device: eDacPj", &d->e_dac_pj) || as_float(v[19], "device: eNeuronPj", &d->e_neuron_pj) ||
        as_float(v[20], "device: eMacPj", &d->e_mac_pj))
        return -1;
    d->g_dist = (enum prime_dist)dist, d->noise_mode = (enum prime_noise_mode)mode;
    return prime_device_check(d);
}
EXPORT void pw_default_device(double *o) { prime_device d = prime_default_device(); dev_to(&d, o); }
EXPORT void pw_get_device(prime_ctx *c, double *o) { prime_device d = prime_get_device(c); dev_to(&d, o); }
EXPORT int pw_set_device(prime_ctx *c, const double *v) {
    prime_device d;
    if (dev_from(v, &d) != 0) return -1;
    return prime_set_device(c, &d);
}

/* Run policy as PW_RUN_FIELDS doubles: policy, alpha, threshold, min_steps, noise_seed. */
static void run_to(const prime_run *r, double *o) {
    o[0] = r->policy, o[1] = r->alpha, o[2] = r->threshold, o[3] = r->min_steps, o[4] = (double)r->noise_seed;
}
EXPORT void pw_default_run(double *o) { prime_run r = prime_default_run(); run_to(&r, o); }
EXPORT void pw_get_run(prime_ctx *c, double *o) { prime_run r = prime_get_run(c); run_to(&r, o); }
EXPORT int pw_set_run(prime_ctx *c, const double *v) {
    prime_run r;
    int policy;
    if (as_int(v[0], "run: policy", 0, 1, &policy) || as_float(v[1], "run: alpha", &r.alpha) ||
        as_float(v[2], "run: threshold", &r.threshold) || as_int(v[3], "run: minSteps", 1, PRIME_MAX_T, &r.min_steps) ||
        as_seed(v[4], "run: noiseSeed", &r.noise_seed))
        return -1;
    r.policy = (enum prime_policy)policy;
    return prime_set_run(c, &r);
}

/* Architecture: PW_ARCH_HEAD doubles (task, T, in_c, in_h, in_w, n_classes, n_layers)
 * then PW_ARCH_LAYER_FIELDS per layer (op, in_c, in_h, in_w, out_c, out_h, out_w, k, stride,
 * pad, neuron, th, decay, leak, scale, sparsity). */
EXPORT int pw_arch(prime_ctx *c, double *o) {
    const prime_arch *a = prime_get_arch(c);
    double h[] = {a->task, a->T, a->in_c, a->in_h, a->in_w, a->n_classes, a->n_layers};
    _Static_assert(sizeof h == PW_ARCH_HEAD * sizeof(double), "PW_ARCH_HEAD");
    memcpy(o, h, sizeof h);
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        double v[] = {L->op, L->in_c, L->in_h, L->in_w, L->out_c, L->out_h, L->out_w, L->k, L->stride, L->pad,
                        L->neuron, L->th, L->decay, L->leak, L->scale, L->sparsity};
        _Static_assert(sizeof v == PW_ARCH_LAYER_FIELDS * sizeof(double), "PW_ARCH_LAYER_FIELDS");
        memcpy(o + PW_ARCH_HEAD + PW_ARCH_LAYER_FIELDS * l, v, sizeof v);
    }
    return PW_ARCH_HEAD + PW_ARCH_LAYER_FIELDS * a->n_layers;
}

/* ============================================================ results */

/* Result as doubles: [0] label [1] T [2] steps_used [3] n_classes [4] n_layers
 * [5] energy_pj [6] baseline_pj [7] ratio [8..15] counters (cell_reads,
 * adc_conversions, dac_drives, vmm_reads, neuron_updates, macs_dense,
 * timesteps, adc_clipped) [16..31] logits [32..47] probs [48..111] confidence
 * [112..175] step_label [176..191] spikes. 192 doubles (PW_RES_* of wasm_abi.h). */
#define RES_DOUBLES PW_RES_DOUBLES
static void res_to(const prime_result *r, double *o) {
    memset(o, 0, RES_DOUBLES * sizeof(double));
    o[0] = r->label, o[1] = r->T, o[2] = r->steps_used, o[3] = r->n_classes, o[4] = r->n_layers;
    o[5] = r->energy_pj, o[6] = r->baseline_pj, o[7] = r->energy_ratio;
    const prime_counters *k = &r->counters;
    double cv[] = {k->cell_reads, k->adc_conversions, k->dac_drives, k->vmm_reads, k->neuron_updates, k->macs_dense, k->timesteps,
                  k->adc_clipped};
    _Static_assert(sizeof cv == PW_COUNTERS * sizeof(double), "PW_COUNTERS");
    memcpy(o + PW_RES_COUNTERS, cv, sizeof cv);
    for (int i = 0; i < PRIME_MAX_CLASSES; i++) o[PW_RES_LOGITS + i] = r->logits[i], o[PW_RES_PROBS + i] = r->probs[i];
    for (int t = 0; t < PRIME_MAX_T; t++)
        o[PW_RES_CONFIDENCE + t] = r->confidence[t], o[PW_RES_STEP_LABEL + t] = r->step_label[t];
    for (int l = 0; l < PRIME_MAX_LAYERS; l++) o[PW_RES_SPIKES + l] = r->spikes[l];
}
EXPORT int pw_classify(prime_ctx *c, const float *x, int T, double *o) {
    prime_result r;
    if (prime_classify(c, x, T, &r) != 0) return -1;
    res_to(&r, o);
    return 0;
}
/* n inputs in a row (prime_classify_batch; wasm has no threads: the calling
 * one) into n * RES_DOUBLES doubles; 0 or -1. */
EXPORT int pw_classify_batch(prime_ctx *c, const float *x, int n, int T, double *o) {
    if (n < 1 || n > 4096) return prime_error("pw_classify_batch: n = %d out of 1..4096", n);
    prime_result *r = malloc((size_t)n * sizeof *r);
    if (!r) return prime_error("out of memory for %d results", n);
    int rc = prime_classify_batch(c, x, n, T, r, 1);
    if (rc == 0)
        for (int i = 0; i < n; i++) res_to(&r[i], o + (size_t)i * RES_DOUBLES);
    free(r);
    return rc;
}
/* The next inference number (keys the read noise), as a double (exact < 2^53). */
EXPORT double pw_get_inference(prime_ctx *c) { return (double)prime_get_inference(c); }
EXPORT int pw_set_inference(prime_ctx *c, double next) {
    if (!(next >= 0 && next < 9007199254740992.0) || next != (double)(uint64_t)next)
        return prime_error("inference number %g is not an integer in 0..2^53 - 1", next);
    return prime_set_inference(c, (uint64_t)next);
}
EXPORT int pw_result(prime_ctx *c, double *o) {
    prime_result r;
    if (prime_result_get(c, &r) != 0) return -1;
    res_to(&r, o);
    return 0;
}

/* Tiling of layer l as PW_TILING_FIELDS doubles (rows, cols, row_tiles, col_tiles, arrays, fill, first_array). */
EXPORT int pw_tiling(prime_ctx *c, int l, double *o) {
    prime_tiling t;
    if (prime_get_tiling(c, l, &t) != 0) return -1;
    double v[] = {t.rows, t.cols, t.row_tiles, t.col_tiles, t.arrays, t.fill, t.first_array};
    _Static_assert(sizeof v == PW_TILING_FIELDS * sizeof(double), "PW_TILING_FIELDS");
    memcpy(o, v, sizeof v);
    return 0;
}

/* Saves the model; returns a malloc'ed buffer (pw_free) and its size in *n. */
EXPORT uint8_t *pw_save(prime_ctx *c, size_t *n) {
    uint8_t *b;
    if (prime_save(c, &b, n) != 0) return NULL;
    return b;
}

/* ============================================================ events */

/* Event params as PW_EVENT_FIELDS doubles: size, contrast, noise_rate, duration_us,
 * steps_per_saccade, amplitude, seed, motion. */
static int evp_from(const double *v, prime_event_params *p) {
    *p = prime_default_event_params();
    if (!v) return 0;
    int motion;
    if (as_int(v[0], "events: size", 1, 255, &p->size) || as_float(v[1], "events: contrast", &p->contrast) ||
        as_float(v[2], "events: noiseRate", &p->noise_rate) ||
        as_int(v[3], "events: durationUs", 3, 8388607, &p->duration_us) ||
        as_int(v[4], "events: stepsPerSaccade", 1, 10000, &p->steps_per_saccade) ||
        as_float(v[5], "events: amplitude", &p->amplitude) || as_seed(v[6], "events: seed", &p->seed) ||
        as_int(v[7], "events: motion", 0, 1, &motion))
        return -1;
    p->motion = (enum prime_motion)motion;
    return 0;
}
EXPORT void pw_default_event_params(double *o) {
    prime_event_params p = prime_default_event_params();
    o[0] = p.size, o[1] = p.contrast, o[2] = p.noise_rate, o[3] = p.duration_us, o[4] = p.steps_per_saccade;
    o[5] = p.amplitude, o[6] = (double)p.seed, o[7] = p.motion;
}
/* Events from an image; returns a malloc'ed event array (pw_free), count in *n. */
EXPORT prime_event *pw_events_from_image(const float *img, int w, int h, const double *params, size_t *n) {
    prime_event_params p;
    prime_event *ev;
    if (evp_from(params, &p) != 0 || prime_events_from_image(img, w, h, &p, &ev, n) != 0) return NULL;
    return ev;
}
EXPORT int pw_event_size(void) { return (int)sizeof(prime_event); }
/* Parses N-MNIST bytes; returns a malloc'ed event array (pw_free), count in *n. */
EXPORT prime_event *pw_nmnist_parse(const uint8_t *b, size_t len, size_t *n) {
    prime_event *ev;
    if (prime_nmnist_parse(b, len, &ev, n) != 0) return NULL;
    return ev;
}
/* Image -> events (default params, given seed) -> T frames of size x size. */
EXPORT int pw_frames_from_image(const float *img, int w, int h, int T, double seed, float *frames) {
    double v[PW_EVENT_FIELDS];
    pw_default_event_params(v);
    v[6] = seed;
    size_t n;
    prime_event *ev = pw_events_from_image(img, w, h, v, &n);
    if (!ev) return -1;
    int rc = prime_events_bin(ev, n, T, (int)v[0], frames);
    free(ev);
    return rc;
}

/* ============================================================ ONNX export */

/* The network as ONNX bytes (prime_onnx_export); *n gets the size. The caller
 * frees the returned pointer with pw_free. 0 on error. */
EXPORT uint8_t *pw_onnx_export(prime_ctx *c, int T, uint32_t *n) {
    uint8_t *b;
    size_t len;
    if (prime_onnx_export(c, T, &b, &len) != 0) return 0;
    *n = (uint32_t)len;
    return b;
}

/* ============================================================ inpainting (docs/inpainting.md) */

/* An inpainting model's architecture, PW_VAE_ARCH_FIELDS doubles: size, T,
 * software, ch, latent, k, th, keep, out_keep, scale, sparsity. */
EXPORT void pw_vae_arch(const prime_vae *v, double *o) {
    const prime_vae_arch *a = prime_vae_get_arch(v);
    double h[] = {a->size, a->T, a->software, a->ch, a->latent, a->k, a->th, a->keep, a->out_keep, a->scale, a->sparsity};
    _Static_assert(sizeof h == PW_VAE_ARCH_FIELDS * sizeof(double), "PW_VAE_ARCH_FIELDS");
    memcpy(o, h, sizeof h);
}
/* The device of an inpainting model (dev_to's order), and setting it (re-forms if needed). */
EXPORT void pw_vae_get_device(const prime_vae *v, double *o) { prime_device d = prime_vae_get_device(v); dev_to(&d, o); }
EXPORT int pw_vae_set_device(prime_vae *v, const double *o) {
    prime_device d;
    if (dev_from(o, &d) != 0) return -1;
    return prime_vae_set_device(v, &d);
}
/* The run of an inpainting model, PW_VAE_RUN_FIELDS doubles: policy, m_div, m_th,
 * m_window, min_steps, noise_seed, latent_seed. */
EXPORT void pw_vae_get_run(const prime_vae *v, double *o) {
    prime_vae_run r = prime_vae_get_run(v);
    double h[] = {r.policy, r.m_div, r.m_th, r.m_window, r.min_steps, (double)r.noise_seed, (double)r.latent_seed};
    _Static_assert(sizeof h == PW_VAE_RUN_FIELDS * sizeof(double), "PW_VAE_RUN_FIELDS");
    memcpy(o, h, sizeof h);
}
EXPORT int pw_vae_set_run(prime_vae *v, const double *o) {
    prime_vae_run r;
    int policy;
    if (as_int(o[0], "run: policy", 0, 1, &policy) || as_float(o[1], "run: mDiv", &r.m_div) ||
        as_float(o[2], "run: mTh", &r.m_th) || as_int(o[3], "run: mWindow", 1, PRIME_MAX_T, &r.m_window) ||
        as_int(o[4], "run: minSteps", 1, PRIME_MAX_T, &r.min_steps) || as_seed(o[5], "run: noiseSeed", &r.noise_seed) ||
        as_seed(o[6], "run: latentSeed", &r.latent_seed))
        return -1;
    r.policy = (enum prime_vae_policy)policy;
    return prime_vae_set_run(v, &r);
}
/* Saves an inpainting model (model file v2); a malloc'ed buffer (pw_free), its size in *n. */
EXPORT uint8_t *pw_vae_save(const prime_vae *v, size_t *n) {
    uint8_t *b;
    if (prime_vae_save(v, &b, n) != 0) return NULL;
    return b;
}
/* Applies the inpaint / generate options, PW_VAE_OPT_FIELDS doubles: read_noise, adc_bits,
 * policy (0 none, 1 convergence), m_div, m_th, m_window, noise_seed,
 * latent_seed, dac_bits, over the model's own device and run (min_steps is the
 * run's). prime.js fills the options it is not given from the model's. 0 or -1. */
static int vae_options(prime_vae *v, const double *opt) {
    prime_device d = prime_vae_get_device(v);
    prime_vae_run r = prime_vae_get_run(v);
    int policy;
    if (as_float(opt[0], "inpaint: readNoise", &d.read_noise) || as_int(opt[1], "inpaint: adcBits", 0, 24, &d.adc_bits) ||
        as_int(opt[8], "inpaint: dacBits", 0, 24, &d.dac_bits) || as_int(opt[2], "inpaint: earlyStop", 0, 1, &policy) ||
        as_float(opt[3], "inpaint: mDiv", &r.m_div) || as_float(opt[4], "inpaint: mTh", &r.m_th) ||
        as_int(opt[5], "inpaint: mWindow", 1, PRIME_MAX_T, &r.m_window) ||
        as_seed(opt[6], "inpaint: noiseSeed", &r.noise_seed) || as_seed(opt[7], "inpaint: latentSeed", &r.latent_seed))
        return -1;
    r.policy = (enum prime_vae_policy)policy;
    if (prime_vae_set_device(v, &d) != 0) return -1;
    return prime_vae_set_run(v, &r);
}
/* Puts back the device and run a call's options replaced (no re-forming: the
 * options touch read-time fields only). The first error, if any, stays set. */
static void vae_restore(prime_vae *v, const prime_device *d, const prime_vae_run *r) {
    char keep[256];
    snprintf(keep, sizeof keep, "%s", prime_last_error());
    prime_vae_set_device(v, d);
    prime_vae_set_run(v, r);
    if (keep[0]) prime_error("%s", keep);
}
/* Result, PW_VAE_RES_DOUBLES doubles: steps_used, T, energy_pj, baseline_pj, energy_ratio,
 * cell_reads, adc_conversions, spikes, then m[0..63]. */
static void vae_res_to(const prime_vae_result *res, double *o) {
    double h[] = {res->steps_used, res->T, res->energy_pj, res->baseline_pj, res->energy_ratio,
                   res->counters.cell_reads, res->counters.adc_conversions, res->spikes};
    _Static_assert(sizeof h == PW_VAE_RES_HEAD * sizeof(double), "PW_VAE_RES_HEAD");
    memcpy(o, h, sizeof h);
    for (int t = 0; t < PRIME_MAX_T; t++) o[PW_VAE_RES_M + t] = t < res->steps_used ? res->m[t] : 0;
}
/* Inpaints img (size*size in [-1, 1]); hole (size*size bytes, 1 = unknown) or 0
 * for the centre 8x8. opt: vae_options; o: vae_res_to. 0 or -1. */
EXPORT int pw_vae_inpaint(prime_vae *v, const float *img, const uint8_t *hole, const double *opt, double *o) {
    prime_vae_result res;
    const prime_device d0 = prime_vae_get_device(v);
    const prime_vae_run r0 = prime_vae_get_run(v);
    int rc = vae_options(v, opt) != 0 || prime_vae_inpaint(v, img, hole, &res) != 0 ? -1 : 0;
    vae_restore(v, &d0, &r0); /* the options act for this call only */
    if (rc == 0) vae_res_to(&res, o);
    return rc;
}
/* Step mode of an inpaint (prime_vae_begin / prime_vae_step) with the model's
 * own device and run: the result so far, as vae_res_to. 0 or -1. */
EXPORT int pw_vae_result(const prime_vae *v, double *o) {
    prime_vae_result res;
    if (prime_vae_result_get(v, &res) != 0) return -1;
    vae_res_to(&res, o);
    return 0;
}
/* Generates an image from the prior with this seed (an integer in 0..2^53).
 * opt: vae_options; o: vae_res_to. 0 or -1. */
EXPORT int pw_vae_generate(prime_vae *v, double seed, const double *opt, double *o) {
    uint64_t s;
    if (as_seed(seed, "generate: seed", &s) != 0) return -1;
    prime_vae_result res;
    const prime_device d0 = prime_vae_get_device(v);
    const prime_vae_run r0 = prime_vae_get_run(v);
    int rc = vae_options(v, opt) != 0 || prime_vae_generate(v, s, &res) != 0 ? -1 : 0;
    vae_restore(v, &d0, &r0);
    if (rc == 0) vae_res_to(&res, o);
    return rc;
}
/* The latent uniforms (T*latent doubles into u) an inpaint with these options draws. 0 or -1. */
EXPORT int pw_vae_uniforms(prime_vae *v, const double *opt, double *u) {
    const prime_device d0 = prime_vae_get_device(v);
    const prime_vae_run r0 = prime_vae_get_run(v);
    const prime_vae_arch *a = prime_vae_get_arch(v);
    int rc = vae_options(v, opt) != 0 ? -1 : prime_vae_latent_uniforms(v, u, (size_t)a->T * a->latent);
    vae_restore(v, &d0, &r0);
    return rc;
}
/* Layer i's geometry, PW_VAE_LAYER_FIELDS doubles: op, in_c, in_h, out_c, out_h, k, rows, cols, crossbar, bn. 0 or -1. */
EXPORT int pw_vae_layer(const prime_vae *v, int i, double *o) {
    prime_vae_layer g;
    if (prime_vae_layer_info(prime_vae_get_arch(v), i, &g) != 0) return -1;
    double h[] = {g.op, g.in_c, g.in_h, g.out_c, g.out_h, g.k, g.rows, g.cols, g.crossbar, g.bn};
    _Static_assert(sizeof h == PW_VAE_LAYER_FIELDS * sizeof(double), "PW_VAE_LAYER_FIELDS");
    memcpy(o, h, sizeof h);
    return 0;
}
/* Layer i's parameters into out: what 0 = weights (crossbar: programmed;
 * digital: w), 1 = BN a, 2 = BN b, 3 = digital bias; n floats. 0 or -1. */
EXPORT int pw_vae_param(const prime_vae *v, int i, int what, float *out, uint32_t n) {
    prime_vae_layer g;
    if (prime_vae_layer_info(prime_vae_get_arch(v), i, &g) != 0) return -1;
    const size_t nw = (size_t)g.rows * g.cols;
    if (what == PW_VAE_PARAM_WEIGHTS && g.crossbar) return prime_vae_get_weights(v, i, out, n);
    if (what == PW_VAE_PARAM_BN_A || what == PW_VAE_PARAM_BN_B) {
        float *ab = malloc(2 * sizeof(float) * (n ? n : 1));
        int rc = ab ? prime_vae_get_bn(v, i, ab, ab + n, n) : prime_error("out of memory");
        if (rc == 0) memcpy(out, ab + (what == PW_VAE_PARAM_BN_B ? n : 0), n * sizeof(float));
        free(ab);
        return rc;
    }
    if ((what == PW_VAE_PARAM_WEIGHTS || what == PW_VAE_PARAM_BIAS) && !g.crossbar) {
        float *w = malloc(sizeof(float) * (nw + g.cols));
        int rc = w ? prime_vae_get_digital(v, i, w, nw, w + nw, g.cols) : prime_error("out of memory");
        if (rc == 0 && n != (what == PW_VAE_PARAM_WEIGHTS ? nw : (size_t)g.cols)) rc = prime_error("vae layer %d: %u values asked", i, n);
        if (rc == 0) memcpy(out, what == PW_VAE_PARAM_WEIGHTS ? w : w + nw, n * sizeof(float));
        free(w);
        return rc;
    }
    return prime_error("vae layer %d has no parameter %d", i, what);
}
/* The inpainting network as ONNX bytes (prime_vae_onnx_export); *n = length;
 * the caller frees with pw_free. 0 on error. */
EXPORT uint8_t *pw_vae_onnx_export(const prime_vae *v, uint32_t *n) {
    uint8_t *b;
    size_t len;
    if (prime_vae_onnx_export(v, &b, &len) != 0) return 0;
    *n = (uint32_t)len;
    return b;
}

/* ============================================================ version and ABI */

/* The version string of the C core (PRIME_VERSION_STRING); prime.js checks it. */
EXPORT const char *pw_version(void) { return PRIME_VERSION_STRING; }

#define PW_ABI_NAME(name, value) #name ","
#define PW_ABI_VALUE(name, value) (int32_t)(value),
static const char abi_names[] = PW_ABI_TABLE(PW_ABI_NAME);
static const int32_t abi_values[] = {PW_ABI_TABLE(PW_ABI_VALUE)};
/* The names of the ABI table, comma-separated (each followed by a comma), in
 * the order of pw_abi()'s values. Static. */
EXPORT const char *pw_abi_names(void) { return abi_names; }
/* The ABI table (wasm_abi.h): [0] = number of values n, then the n values. */
EXPORT const int32_t *pw_abi(void) {
    static int32_t t[1 + sizeof abi_values / sizeof abi_values[0]];
    t[0] = (int32_t)(sizeof abi_values / sizeof abi_values[0]);
    memcpy(t + 1, abi_values, sizeof abi_values);
    return t;
}

/* The default inpaint / generate options (vae_options' order): the default
 * device's read noise, ADC and DAC bits and prime_vae_default_run(). */
EXPORT void pw_vae_default_options(double *o) {
    prime_device d = prime_vae_default_device();
    prime_vae_run r = prime_vae_default_run();
    double v[] = {d.read_noise, d.adc_bits, r.policy, r.m_div, r.m_th, r.m_window, (double)r.noise_seed,
                  (double)r.latent_seed, d.dac_bits};
    _Static_assert(sizeof v == PW_VAE_OPT_FIELDS * sizeof(double), "PW_VAE_OPT_FIELDS");
    memcpy(o, v, sizeof v);
}

/* ============================================================ device effects (device_opts.h)
 *
 * Settings cross as text: "key=value" lines, every key of prime_device_set_option. */

#include "device_opts.h"

/* Splits text into at most 256 lines (in place in a copy) and applies them with
 * set (all or nothing); 0 or -1. */
static int options_text(const char *text, int (*set)(void *, const char *const *, int), void *obj) {
    if (!text) return prime_error("device options: NULL text");
    size_t n = strlen(text);
    char *t = malloc(n + 1);
    if (!t) return prime_error("out of memory");
    memcpy(t, text, n + 1);
    const char *kv[256];
    int m = 0;
    for (char *p = t; *p;) {
        char *e = strchr(p, '\n');
        if (e) *e = 0;
        if (*p) {
            if (m == 256) { free(t); return prime_error("device options: more than 256 settings"); }
            kv[m++] = p;
        }
        if (!e) break;
        p = e + 1;
    }
    int rc = set(obj, kv, m);
    free(t);
    return rc;
}
static int set_ctx(void *c, const char *const *kv, int n) { return prime_set_device_options(c, kv, n); }
static int set_vae(void *v, const char *const *kv, int n) { return prime_vae_set_device_options(v, kv, n); }
EXPORT int pw_set_device_options(prime_ctx *c, const char *text) { return options_text(text, set_ctx, c); }
EXPORT int pw_vae_set_device_options(prime_vae *v, const char *text) { return options_text(text, set_vae, v); }

static char opt_buf[1024];
EXPORT int pw_device_option_count(void) { return prime_device_option_count(); }
EXPORT const char *pw_device_option_key(int k) { return prime_device_option_key(k); }
EXPORT const char *pw_device_option_help(int k) { return prime_device_option_help(k); }
/* The value of key k on the default device (which = 0: classifier, 1: inpainting) or on c; NULL on error. */
EXPORT const char *pw_device_option_default(int k, int which) {
    prime_device d = which ? prime_vae_default_device() : prime_default_device();
    prime_devfx_params fx = prime_devfx_default();
    fx.read.eta = d.read_noise;
    const char *key = prime_device_option_key(k);
    if (!key || prime_device_get_option(&d, &fx, key, opt_buf, sizeof opt_buf) != 0) return NULL;
    return opt_buf;
}
/* The text of `key` on (d, fx), in opt_buf; NULL on error. */
static const char *opt_text(prime_device d, const prime_devfx_params *fx, const char *key) {
    return prime_device_get_option(&d, fx, key, opt_buf, sizeof opt_buf) == 0 ? opt_buf : NULL;
}
EXPORT const char *pw_get_device_option(const prime_ctx *c, const char *key) {
    prime_devfx_params fx;
    return c && prime_get_devfx(c, &fx) == 0 ? opt_text(prime_get_device(c), &fx, key) : NULL;
}
EXPORT const char *pw_vae_get_device_option(const prime_vae *v, const char *key) {
    prime_devfx_params fx;
    return v && prime_vae_get_devfx(v, &fx) == 0 ? opt_text(prime_vae_get_device(v), &fx, key) : NULL;
}
/* Arrays of the wire model of layer l: o[0] row tiles, o[1] column tiles, o[2] ir_tile; the count or -1. */
EXPORT int pw_irdrop_tiles(const prime_ctx *c, int l, double *o) {
    int rt, ct;
    int n = prime_irdrop_tiles(c, l, &rt, &ct);
    if (n < 0) return -1;
    prime_devfx_params fx;
    prime_get_devfx(c, &fx);
    o[0] = rt, o[1] = ct, o[2] = fx.ir_tile ? fx.ir_tile : PRIME_ARRAY_SIZE;
    return n;
}
/* The IR-drop map of array `tile` of layer l (prime_irdrop_map): o = [rows, cols, iterations,
 * v_row (rows*cols), v_col (rows*cols), i_col (cols), i_ideal (cols)], at most
 * 3 + 2*T*T + 2*T doubles (T = ir_tile). v_in: NULL or rows volts. 0 or -1. */
EXPORT int pw_irdrop_map(const prime_ctx *c, int l, int tile, const float *v_in, double *o) {
    int rt, ct, rows, cols, it = 0;
    if (prime_irdrop_tiles(c, l, &rt, &ct) < 0 || !o) return -1;
    prime_devfx_params fx;
    prime_get_devfx(c, &fx);
    const size_t T = (size_t)(fx.ir_tile ? fx.ir_tile : PRIME_ARRAY_SIZE);
    double *vr = malloc(sizeof(double) * (2 * T * T + 2 * T));
    if (!vr) return prime_error("irdrop map: out of memory");
    double *vc = vr + T * T, *ic = vc + T * T, *ii = ic + T;
    int rc = prime_irdrop_map(c, l, tile, v_in, &rows, &cols, vr, vc, ic, ii, &it);
    if (rc == 0) {
        const size_t nn = (size_t)rows * cols;
        o[0] = rows, o[1] = cols, o[2] = it;
        memcpy(o + 3, vr, nn * sizeof(double));
        memcpy(o + 3 + nn, vc, nn * sizeof(double));
        memcpy(o + 3 + 2 * nn, ic, cols * sizeof(double));
        memcpy(o + 3 + 2 * nn + cols, ii, cols * sizeof(double));
    }
    free(vr);
    return rc;
}

/* ============================================================ shared with wasm_graph.c (wasm_internal.h) */

#include "wasm_internal.h"
void pw_dev_to(const prime_device *d, double *o) { dev_to(d, o); }
int pw_dev_from(const double *v, prime_device *d) { return dev_from(v, d); }
int pw_as_int(double v, const char *what, int lo, int hi, int *o) { return as_int(v, what, lo, hi, o); }
int pw_as_seed(double v, const char *what, uint64_t *o) { return as_seed(v, what, o); }
int pw_as_float(double v, const char *what, float *o) { return as_float(v, what, o); }
