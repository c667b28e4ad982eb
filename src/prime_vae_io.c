/* prime_vae_io.c - the inpainting network's parameters (masks, weights, BN,
 * latent layers), its .pvae file, and the inpainting metrics. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_internal.h"
#include "prime_vae_internal.h"

/* ============================================================ parameters */
/* Returns crossbar layer i with n = rows*cols checked, or NULL. */
static vlayer *get_layer(const prime_vae *v, int i, size_t n, int crossbar) {
    if (!v) { prime_error("NULL network"); return NULL; }
    if (i < 0 || i >= PRIME_VAE_LAYERS) { prime_error("vae layer %d out of range", i); return NULL; }
    vlayer *L = (vlayer *)&v->L[i];
    if (L->g.crossbar != crossbar) { prime_error("vae layer %d is %s", i, crossbar ? "digital" : "a crossbar layer"); return NULL; }
    if (n != (size_t)L->g.rows * L->g.cols) { prime_error("vae layer %d has %zu weights, not %zu", i, (size_t)L->g.rows * L->g.cols, n); return NULL; }
    return L;
}

int prime_vae_set_mask(prime_vae *v, int i, const uint8_t *mask, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (v->a.software) return prime_error("a software model has weights, not masks");
    for (size_t p = 0; p < n; p++) L->mask[p] = mask[p] ? 1 : 0;
    prime_vae_program(v, i);
    return 0;
}

int prime_vae_set_weights(prime_vae *v, int i, const float *w, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (!v->a.software) return prime_error("weights can only be set on a software model (set masks)");
    memcpy(L->wt, w, n * sizeof(float));
    memset(L->g2, 0, n * sizeof(float));
    prime_vae_program(v, i);
    return 0;
}

int prime_vae_get_formed(const prime_vae *v, int i, int kept, float *w, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (v->a.software) return prime_error("a software model has no formed conductances");
    for (size_t p = 0; p < n; p++)
        w[p] = kept ? (L->gp_on[p] - L->gn_on[p]) * v->a.scale : (L->gp_off[p] - L->gn_off[p]) * v->a.scale;
    return 0;
}

int prime_vae_set_bn(prime_vae *v, int i, const float *a, const float *b, size_t n) {
    if (!v || i < 0 || i >= PRIME_VAE_LAYERS) return prime_error("vae set_bn: bad layer");
    vlayer *L = &v->L[i];
    if (!L->g.bn || n != (size_t)L->g.out_c) return prime_error("vae layer %d: no batch norm with %zu channels", i, n);
    memcpy(L->bn_a, a, n * sizeof(float));
    memcpy(L->bn_b, b, n * sizeof(float));
    return 0;
}

int prime_vae_set_digital(prime_vae *v, int i, const float *w, size_t nw, const float *bias, size_t nb) {
    vlayer *L = get_layer(v, i, nw, 0);
    if (!L) return -1;
    if (nb != L->nout) return prime_error("vae layer %d has %zu biases, not %zu", i, L->nout, nb);
    memcpy(L->wt, w, nw * sizeof(float));
    memcpy(L->bias, bias, nb * sizeof(float));
    return 0;
}

int prime_vae_get_weights(const prime_vae *v, int i, float *w, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    memcpy(w, L->wt, n * sizeof(float));
    return 0;
}

int prime_vae_get_bn(const prime_vae *v, int i, float *a, float *b, size_t n) {
    if (!v || i < 0 || i >= PRIME_VAE_LAYERS) return prime_error("vae get_bn: bad layer");
    const vlayer *L = &v->L[i];
    if (!L->g.bn || n != (size_t)L->g.out_c) return prime_error("vae layer %d: no batch norm with %zu channels", i, n);
    memcpy(a, L->bn_a, n * sizeof(float));
    memcpy(b, L->bn_b, n * sizeof(float));
    return 0;
}

int prime_vae_get_digital(const prime_vae *v, int i, float *w, size_t nw, float *bias, size_t nb) {
    vlayer *L = get_layer(v, i, nw, 0);
    if (!L) return -1;
    if (nb != L->nout) return prime_error("vae layer %d has %zu biases, not %zu", i, L->nout, nb);
    memcpy(w, L->wt, nw * sizeof(float));
    memcpy(bias, L->bias, nb * sizeof(float));
    return 0;
}

int prime_vae_latent_uniforms(const prime_vae *v, double *u, size_t n) {
    if (!v || !u) return prime_error("prime_vae_latent_uniforms: NULL argument");
    if (n != (size_t)v->a.T * v->a.latent) return prime_error("latent uniforms: n = %zu, need T*latent = %d", n, v->a.T * v->a.latent);
    for (int t = 0; t < v->a.T; t++)
        for (int d = 0; d < v->a.latent; d++) u[(size_t)t * v->a.latent + d] = prime_vae_latent_uniform(v, v->inference, t, d);
    return 0;
}
/* ============================================================ file */

/* Format (little-endian): "PRIMEVAE", u32 version 1, arch (11 x 4 bytes),
 * device (u64 seed + 20 x 4 bytes), then per layer in order: crossbar: mask
 * bytes (or float weights if software); digital: weights, biases; BN layers:
 * a[out_c], b[out_c]. The length must match exactly. */
#define VAE_MAGIC "PRIMEVAE"
#define DEV_WORDS 20
_Static_assert(sizeof(prime_device) == 8 + 4 * DEV_WORDS, "prime_device layout: update the vae file format");

typedef struct { const uint8_t *p; size_t n, at; int err; } rbuf;
static void get(rbuf *b, void *dst, size_t n) {
    if (b->err || b->at + n > b->n) { b->err = 1; return; }
    memcpy(dst, b->p + b->at, n);
    b->at += n;
}

/* Serializes arch, device, masks / weights, BN and latent weights; 0 or -1. */
int prime_vae_save(const prime_vae *v, uint8_t **out, size_t *n) {
    if (!v || !out || !n) return prime_error("prime_vae_save: NULL argument");
    prime_buf b = {0};
    uint32_t ver = 1;
    prime_buf_put(&b, VAE_MAGIC, 8);
    prime_buf_put(&b, &ver, 4);
    const prime_vae_arch *a = &v->a;
    int32_t ai[6] = {a->ch, a->latent, a->k, a->T, a->size, a->software};
    float af[5] = {a->th, a->keep, a->out_keep, a->scale, a->sparsity};
    prime_buf_put(&b, ai, sizeof ai);
    prime_buf_put(&b, af, sizeof af);
    prime_buf_put(&b, &v->dev.chip_seed, 8);
    prime_buf_put(&b, (const uint8_t *)&v->dev + 8, 4 * DEV_WORDS);
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        const vlayer *L = &v->L[i];
        size_t nw = (size_t)L->g.rows * L->g.cols;
        if (L->g.crossbar) {
            if (a->software) prime_buf_put(&b, L->wt, nw * 4);
            else prime_buf_put(&b, L->mask, nw);
        } else {
            prime_buf_put(&b, L->wt, nw * 4);
            prime_buf_put(&b, L->bias, L->nout * 4);
        }
        if (L->g.bn) prime_buf_put(&b, L->bn_a, L->g.out_c * 4), prime_buf_put(&b, L->bn_b, L->g.out_c * 4);
    }
    if (b.oom) { free(b.p); return prime_error("out of memory saving the model"); }
    *out = b.p, *n = b.n;
    return 0;
}

/* Loads a network saved by prime_vae_save; NULL on error. */
prime_vae *prime_vae_load(const uint8_t *bytes, size_t n) {
    if (!bytes) { prime_error("prime_vae_load: NULL bytes"); return NULL; }
    rbuf b = {bytes, n, 0, 0};
    char magic[8];
    uint32_t ver = 0;
    get(&b, magic, 8);
    get(&b, &ver, 4);
    if (b.err || memcmp(magic, VAE_MAGIC, 8) != 0) { prime_error("not an inpainting model (magic PRIMEVAE)"); return NULL; }
    if (ver != 1) { prime_error("inpainting model version %u (this build reads 1)", ver); return NULL; }
    int32_t ai[6];
    float af[5];
    get(&b, ai, sizeof ai);
    get(&b, af, sizeof af);
    prime_vae_arch a = {ai[0], ai[1], ai[2], ai[3], ai[4], af[0], af[1], af[2], af[3], af[4], ai[5]};
    prime_device d = prime_vae_default_device();
    get(&b, &d.chip_seed, 8);
    get(&b, (uint8_t *)&d + 8, 4 * DEV_WORDS);
    if (b.err) { prime_error("inpainting model: truncated header"); return NULL; }
    if (prime_vae_arch_check(&a) != 0) { prime_error("inpainting model: %s", prime_last_error()); return NULL; }
    /* the exact length follows from the header: checked before anything is built */
    uint64_t expect = b.at;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(&a, i, &g);
        uint64_t nw = (uint64_t)g.rows * g.cols, nout = (uint64_t)g.out_c * g.out_h * g.out_w;
        expect += g.crossbar ? (a.software ? 4 * nw : nw) : 4 * (nw + nout);
        if (g.bn) expect += 8 * (uint64_t)g.out_c;
    }
    if (expect != n) {
        prime_error("inpainting model: its architecture needs %llu bytes, the file has %zu (%s)", (unsigned long long)expect,
                    n, n < expect ? "truncated" : "trailing bytes");
        return NULL;
    }
    prime_vae *v = prime_vae_create(&a, &d);
    if (!v) return NULL;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        size_t nw = (size_t)L->g.rows * L->g.cols;
        if (L->g.crossbar) {
            if (a.software) { get(&b, L->wt, nw * 4); if (!b.err) memset(L->g2, 0, nw * 4); }
            else get(&b, L->mask, nw);
            if (!b.err) prime_vae_program(v, i);
        } else {
            get(&b, L->wt, nw * 4);
            get(&b, L->bias, L->nout * 4);
        }
        if (L->g.bn) get(&b, L->bn_a, L->g.out_c * 4), get(&b, L->bn_b, L->g.out_c * 4);
    }
    if (b.err || b.at != n) {
        prime_vae_free(v);
        prime_error("inpainting model: %s", b.err ? "truncated" : "trailing bytes");
        return NULL;
    }
    return v;
}
/* ============================================================ metrics */

/* MSE / PSNR in the hole, SSIM (7x7 uniform window, data range 2, constants
 * of Wang et al. 2004) over the composite image; 0 or -1. */
int prime_vae_metrics(const float *recon, const float *clean, const uint8_t *hole,
                      int w, int h, double *mse, double *psnr, double *ssim) {
    if (!recon || !clean || w < 7 || h < 7) return prime_error("prime_vae_metrics: bad arguments");
    double se = 0;
    int n = 0;
    for (int p = 0; p < w * h; p++)
        if (!hole || hole[p]) { double d = (double)recon[p] - clean[p]; se += d * d; n++; }
    double m = n ? se / n : 0;
    if (mse) *mse = m;
    if (psnr) *psnr = m > 0 ? 10 * log10(4.0 / m) : 99.0;
    if (ssim) {
        const double L = 2, C1 = (0.01 * L) * (0.01 * L), C2 = (0.03 * L) * (0.03 * L);
        double acc = 0;
        int cnt = 0;
        for (int y = 0; y + 7 <= h; y++)
            for (int x = 0; x + 7 <= w; x++) {
                double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
                for (int dy = 0; dy < 7; dy++)
                    for (int dx = 0; dx < 7; dx++) {
                        int p = (y + dy) * w + x + dx;
                        double av = (!hole || hole[p]) ? recon[p] : clean[p], bv = clean[p];
                        sa += av, sb += bv, saa += av * av, sbb += bv * bv, sab += av * bv;
                    }
                const double N = 49;
                double ma = sa / N, mb = sb / N;
                double va = (saa - N * ma * ma) / (N - 1), vb = (sbb - N * mb * mb) / (N - 1);
                double cab = (sab - N * ma * mb) / (N - 1);
                acc += ((2 * ma * mb + C1) * (2 * cab + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
                cnt++;
            }
        *ssim = acc / cnt;
    }
    return 0;
}
