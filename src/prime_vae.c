/* prime_vae.c - the inpainting network (a pruned fully spiking VAE) on the macro.
 *
 * reference.md §3, docs/inpainting.md. One timestep, step-major (the early
 * stop needs the reconstruction after every step):
 *
 *   masked image 1x32x32 --DAC--> enc1..enc3 (3x3 s2 conv) --> encfc
 *     each: crossbar read (read noise, ADC per row tile) -> folded BN -> LIF
 *   --> post (digital FC + bias, LIF, k spikes per latent) -> q = mean of k
 *   --> z ~ Bernoulli(q) --> decfc --> dec1..dec3 (3x3 s2 transposed conv)
 *   --> out (3x3 s1 transposed conv, crossbar) -> acc = 0.8 acc + y
 *   --> recon_t = tanh(acc) --> m_t = sum |recon_t - recon_t-1| / 100 --> stop?
 *
 * The crossbar layers are masks over random conductances formed with the
 * device model of prime_core.c (prime_dev_form_on/off, faults, ADC, DAC).
 * Inpainting never runs the prior network (PRIOR). Generation
 * (prime_vae_generate, end of file) runs it in place of the encoder and the
 * posterior: z_t ~ Bernoulli(p(z_t | z_(t-1))) --> the same decoder and readout.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"
#include "simd.h"

/* ============================================================ geometry */

/* Returns the paper's architecture (reference.md §3). */
prime_vae_arch prime_vae_default_arch(void) {
    prime_vae_arch a = {32, 128, 20, 16, 32, 0.2f, 0.25f, 0.8f, 0.003f, 0.5f, 0};
    return a;
}

/* Returns the default run: convergence stop, m = L1 / 100, m < 0.2 after 3 decreases. */
prime_vae_run prime_vae_default_run(void) {
    prime_vae_run r = {1, 100.0f, 0.2f, 3, 1, 1, 7};
    return r;
}

/* Returns the default macro with differential weight sd 6.916 uS (§3). */
prime_device prime_vae_default_device(void) {
    prime_device d = prime_default_device();
    d.g_sd = 6.916f / 1.41421356f;
    return d;
}

/* Fills *o with the geometry of layer i (HWC activations); 0 or -1. */
int prime_vae_layer_info(const prime_vae_arch *a, int i, prime_vae_layer *o) {
    if (!a || !o) return prime_error("prime_vae_layer_info: NULL argument");
    if (i < 0 || i >= PRIME_VAE_LAYERS) return prime_error("vae layer %d out of range 0..%d", i, PRIME_VAE_LAYERS - 1);
    const int C = a->ch, L = a->latent, S = a->size, s8 = a->size / 8;
    memset(o, 0, sizeof *o);
    o->k = 3, o->stride = 2, o->pad = 1, o->crossbar = 1, o->bn = 1, o->lif = 1;
    switch (i) {
    case PRIME_VAE_ENC1: o->op = PRIME_VAE_CONV; o->in_c = 1; o->in_h = S; o->out_c = C; o->out_h = S / 2; break;
    case PRIME_VAE_ENC2: o->op = PRIME_VAE_CONV; o->in_c = C; o->in_h = S / 2; o->out_c = C; o->out_h = S / 4; break;
    case PRIME_VAE_ENC3: o->op = PRIME_VAE_CONV; o->in_c = C; o->in_h = S / 4; o->out_c = C; o->out_h = s8; break;
    case PRIME_VAE_ENCFC: o->op = PRIME_VAE_FC; o->in_c = C; o->in_h = s8; o->out_c = L; o->out_h = 1; break;
    case PRIME_VAE_POST: case PRIME_VAE_PRIOR:
        o->op = PRIME_VAE_FC; o->in_c = L; o->in_h = 1; o->out_c = L * a->k; o->out_h = 1;
        o->crossbar = 0, o->bn = 0, o->bias = 1; break;
    case PRIME_VAE_DECFC: o->op = PRIME_VAE_FC; o->in_c = L; o->in_h = 1; o->out_c = C; o->out_h = s8; break;
    case PRIME_VAE_DEC1: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = s8; o->out_c = C; o->out_h = S / 4; break;
    case PRIME_VAE_DEC2: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = S / 4; o->out_c = C; o->out_h = S / 2; break;
    case PRIME_VAE_DEC3: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = S / 2; o->out_c = C; o->out_h = S; break;
    case PRIME_VAE_OUT: o->op = PRIME_VAE_TCONV; o->in_c = C; o->in_h = S; o->out_c = 1; o->out_h = S;
        o->stride = 1, o->bn = 0, o->lif = 0; break;
    }
    o->in_w = o->in_h, o->out_w = o->out_h;
    if (o->op == PRIME_VAE_FC) {
        o->k = 1, o->stride = 1, o->pad = 0;
        o->rows = o->in_c * o->in_h * o->in_w;
        o->cols = o->out_c * o->out_h * o->out_w;
    } else {
        o->rows = o->in_c * o->k * o->k;
        o->cols = o->out_c;
    }
    return 0;
}

/* Connection list of a conv / tconv layer: (in pos, out pos, ky*k+kx) triples,
 * grouped by input position; malloc'ed, NULL on error. */
int *prime_vae_connections(const prime_vae_arch *a, int i, size_t *n) {
    prime_vae_layer g = {0};
    if (prime_vae_layer_info(a, i, &g) != 0) return NULL;
    if (g.op == PRIME_VAE_FC) { prime_error("vae layer %d is fully connected", i); return NULL; }
    size_t cap = (size_t)g.in_h * g.in_w * g.k * g.k * 3;
    int *c = malloc(cap * sizeof(int)), m = 0;
    if (!c) { prime_error("out of memory"); return NULL; }
    const int K = g.k, S = g.stride, P = g.pad;
    for (int iy = 0; iy < g.in_h; iy++)
        for (int ix = 0; ix < g.in_w; ix++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++) {
                    int oy, ox;
                    if (g.op == PRIME_VAE_CONV) { /* out[oy] += in[oy*S - P + ky] */
                        int ty = iy + P - ky, tx = ix + P - kx;
                        if (ty < 0 || tx < 0 || ty % S || tx % S) continue;
                        oy = ty / S, ox = tx / S;
                    } else { /* transposed: out[iy*S - P + ky] += in[iy] */
                        oy = iy * S - P + ky, ox = ix * S - P + kx;
                        if (oy < 0 || ox < 0) continue;
                    }
                    if (oy >= g.out_h || ox >= g.out_w) continue;
                    c[m * 3] = iy * g.in_w + ix, c[m * 3 + 1] = oy * g.out_w + ox, c[m * 3 + 2] = ky * K + kx;
                    m++;
                }
    *n = (size_t)m;
    return c;
}

/* ============================================================ context */

typedef struct {
    prime_vae_layer g;
    int *conn;
    size_t nconn;
    int *gat; /* conv/tconv by output position: start[npos + 1], then (in pos, k offset) pairs */
    int row_tiles;
    float *gp_on, *gn_on, *gp_off, *gn_off, *gp, *gn, *wt, *g2; /* rows*cols */
    uint8_t *mask;
    float colmax;
    float *bn_a, *bn_b, *bias;  /* out_c, out_c, cols */
    float *u, *s, *cur;         /* state, out size */
    size_t nout;
} vlayer;

struct prime_vae {
    prime_vae_arch a;
    prime_device dev;
    prime_vae_run run;
    vlayer L[PRIME_VAE_LAYERS];
    float *wblock, *sblock;
    uint8_t *mblock, *active;
    float *acc, *var, *x0, *q, *z, *readout, *recon;
    size_t acc_n;
    /* read scratch (one block): per input pixel its non-zero channels (count,
     * row offsets, values); per read the active rows (offsets, values, values^2) */
    int32_t *kblock, *pixcnt, *pixoff, *rowoff;
    float *pixval, *rowval, *rowval2, *zbuf, *xpad;
    int npix, steps, T;
    int gen;                    /* 1: vae_step samples the prior (generation) */
    uint64_t inference;
    prime_vae_result res;
};

static int arch_check(const prime_vae_arch *a) {
    if (a->ch < 1 || a->ch > 256) return prime_error("vae: ch = %d out of 1..256", a->ch);
    if (a->latent < 1 || a->latent > 1024) return prime_error("vae: latent = %d out of 1..1024", a->latent);
    if (a->k < 1 || a->k > 64) return prime_error("vae: k = %d out of 1..64", a->k);
    if (a->T < 1 || a->T > PRIME_MAX_T) return prime_error("vae: T = %d out of 1..%d", a->T, PRIME_MAX_T);
    if (a->size < 8 || a->size > 256 || a->size % 8) return prime_error("vae: size = %d (a multiple of 8, 8..256)", a->size);
    if (!(a->th > 0 && a->th < 100) || !(a->keep >= 0 && a->keep <= 1) || !(a->out_decay >= 0 && a->out_decay <= 1) ||
        !(a->scale > 0 && a->scale < 1e3f) || !(a->sparsity >= 0 && a->sparsity < 1))
        return prime_error("vae: th, keep, out_decay, scale or sparsity out of range");
    if (a->software != 0 && a->software != 1) return prime_error("vae: software = %d (0 macro, 1 software)", a->software);
    /* what prime_vae_create allocates, in 64 bits, against the caps of prime.h */
    uint64_t cells = 0, floats = 0, state = 0, acc = 0, ints = 0, pixcap = 0, rowcap = 0, colcap = 0, padcap = 0;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(a, i, &g);
        uint64_t n = (uint64_t)g.rows * g.cols, nout = (uint64_t)g.out_c * g.out_h * g.out_w;
        uint64_t nin = (uint64_t)g.in_c * g.in_h * g.in_w, rt = ((uint64_t)g.rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
        if (g.crossbar && n > PRIME_MAX_LAYER_CELLS)
            return prime_error("vae layer %d: %d x %d weight matrix above the cap of %d cells", i, g.rows, g.cols,
                               PRIME_MAX_LAYER_CELLS);
        cells += g.crossbar ? n : 0;
        floats += (g.crossbar ? 8 * n : n + nout) + 2 * (uint64_t)g.out_c;
        state += 3 * nout;
        if (rt * nout > acc) acc = rt * nout;
        if (g.op != PRIME_VAE_FC) /* connection triples, then the gather list */
            ints += 3 * (uint64_t)g.in_h * g.in_w * g.k * g.k + (uint64_t)g.out_h * g.out_w + 1 +
                    2 * (uint64_t)g.in_h * g.in_w * g.k * g.k;
        if (nin > pixcap) pixcap = nin;
        if ((uint64_t)g.rows > rowcap) rowcap = (uint64_t)g.rows;
        if ((uint64_t)g.cols > colcap) colcap = (uint64_t)g.cols;
        uint64_t np = (uint64_t)g.in_c * (g.in_h + 2 * g.pad) * (g.in_w + 2 * g.pad);
        if (g.op != PRIME_VAE_FC && np > padcap) padcap = np;
    }
    uint64_t npix = (uint64_t)a->size * a->size;
    state += 2 * acc + 3 * npix + 2 * (uint64_t)a->latent + (uint64_t)PRIME_MAX_T * npix;
    ints += 3 * pixcap + 3 * rowcap + colcap + padcap;
    uint64_t bytes = 4 * (floats + state + ints) + cells + acc;
    if (cells > PRIME_MAX_MODEL_CELLS)
        return prime_error("vae: %llu crossbar cells, above the model cap of %d", (unsigned long long)cells, PRIME_MAX_MODEL_CELLS);
    if (state > PRIME_MAX_STATE_FLOATS)
        return prime_error("vae: state of %llu floats, above the model cap of %d", (unsigned long long)state,
                           PRIME_MAX_STATE_FLOATS);
    if (bytes > PRIME_MAX_CTX_BYTES || bytes > SIZE_MAX)
        return prime_error("vae: the network needs %llu bytes, above the cap of %u", (unsigned long long)bytes,
                           PRIME_MAX_CTX_BYTES);
    return 0;
}

/* Builds L->gat from L->conn: the connections grouped by output position,
 * each group in the order of L->conn (input positions ascending), so a gather
 * meets every output's rows in the order the scatter adds them. 0 or -1. */
static int vae_gather_list(vlayer *L) {
    const size_t npos = (size_t)L->g.out_h * L->g.out_w;
    int *g = malloc(sizeof(int) * (npos + 1 + 2 * L->nconn));
    if (!g) return prime_error("out of memory");
    int *start = g, *pair = g + npos + 1;
    memset(start, 0, sizeof(int) * (npos + 1));
    for (size_t c = 0; c < L->nconn; c++) start[L->conn[3 * c + 1] + 1]++;
    for (size_t p = 0; p < npos; p++) start[p + 1] += start[p];
    for (size_t c = 0; c < L->nconn; c++) { /* stable: a counting sort */
        const int *e = L->conn + 3 * c;
        int k = start[e[1]]++;
        pair[2 * k] = e[0], pair[2 * k + 1] = e[2];
    }
    for (size_t p = npos; p > 0; p--) start[p] = start[p - 1];
    start[0] = 0;
    L->gat = g;
    return 0;
}

/* Forms crossbar layer i's on/off conductances (device model of prime_core.c). */
static void vae_form(prime_vae *v, int i) {
    vlayer *L = &v->L[i];
    size_t n = (size_t)L->g.rows * L->g.cols;
    for (size_t p = 0; p < n; p++) {
        L->gp_on[p] = prime_dev_form_on(&v->dev, i, 0, p);
        L->gn_on[p] = prime_dev_form_on(&v->dev, i, 1, p);
        L->gp_off[p] = prime_dev_form_off(&v->dev, i, 0, p);
        L->gn_off[p] = prime_dev_form_off(&v->dev, i, 1, p);
    }
}

/* Programs crossbar layer i from its mask (the device model's prime_dev_program). */
static void vae_program(prime_vae *v, int i) {
    vlayer *L = &v->L[i];
    size_t n = (size_t)L->g.rows * L->g.cols;
    if (!v->a.software)
        prime_dev_program(&v->dev, i, n, L->mask, L->gp_on, L->gn_on, L->gp_off, L->gn_off, v->a.scale, L->gp, L->gn,
                          L->wt, L->g2);
    L->colmax = prime_dev_colmax(L->wt, L->g.rows, L->g.cols);
}

/* Returns a network with masks at keep, BN identity, latent weights 0; NULL on error. */
prime_vae *prime_vae_create(const prime_vae_arch *a, const prime_device *dev) {
    if (!a || !dev) { prime_error("prime_vae_create: NULL argument"); return NULL; }
    if (arch_check(a) != 0 || prime_device_check(dev) != 0) return NULL;
    prime_vae *v = calloc(1, sizeof *v);
    if (!v) { prime_error("out of memory"); return NULL; }
    v->a = *a, v->dev = *dev, v->run = prime_vae_default_run();
    size_t nw = 0, nm = 0, ns = 0, acc = 0, pixcap = 0, rowcap = 0, colcap = 0, padcap = 0;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        prime_vae_layer_info(a, i, &L->g);
        size_t n = (size_t)L->g.rows * L->g.cols;
        L->nout = (size_t)L->g.out_c * L->g.out_h * L->g.out_w;
        L->row_tiles = (L->g.rows + PRIME_ARRAY_SIZE - 1) / PRIME_ARRAY_SIZE;
        nw += (L->g.crossbar ? 8 * n : n + L->nout) + 2 * (size_t)L->g.out_c;
        nm += L->g.crossbar ? n : 0;
        ns += 3 * L->nout;
        size_t t = (size_t)L->row_tiles * L->nout;
        if (t > acc) acc = t;
        if (L->g.op != PRIME_VAE_FC && !(L->conn = prime_vae_connections(a, i, &L->nconn))) { prime_vae_free(v); return NULL; }
        if (L->g.op != PRIME_VAE_FC && vae_gather_list(L) != 0) { prime_vae_free(v); return NULL; }
        size_t nin = (size_t)L->g.in_c * L->g.in_h * L->g.in_w;
        if (nin > pixcap) pixcap = nin;
        if ((size_t)L->g.rows > rowcap) rowcap = (size_t)L->g.rows;
        if ((size_t)L->g.cols > colcap) colcap = (size_t)L->g.cols;
        size_t np = (size_t)L->g.in_c * (L->g.in_h + 2 * L->g.pad) * (L->g.in_w + 2 * L->g.pad);
        if (L->g.op != PRIME_VAE_FC && np > padcap) padcap = np;
    }
    v->npix = a->size * a->size;
    v->acc_n = acc;
    ns += 2 * acc + 3 * (size_t)v->npix + 2 * (size_t)a->latent + (size_t)PRIME_MAX_T * v->npix;
    v->wblock = calloc(nw, sizeof(float));
    v->sblock = calloc(ns, sizeof(float));
    v->mblock = malloc(nm ? nm : 1);
    v->active = malloc(acc ? acc : 1);
    v->kblock = malloc(sizeof(int32_t) * (3 * pixcap + 3 * rowcap + colcap + padcap)); /* int32 and float: 4 bytes */
    if (!v->wblock || !v->sblock || !v->mblock || !v->active || !v->kblock) { prime_vae_free(v); prime_error("out of memory"); return NULL; }
    v->pixcnt = v->kblock, v->pixoff = v->pixcnt + pixcap, v->pixval = (float *)(v->pixoff + pixcap);
    v->rowoff = (int32_t *)(v->pixval + pixcap), v->rowval = (float *)(v->rowoff + rowcap);
    v->rowval2 = v->rowval + rowcap, v->zbuf = v->rowval2 + rowcap, v->xpad = v->zbuf + colcap;
    memset(v->mblock, 1, nm);
    float *p = v->wblock, *s = v->sblock;
    uint8_t *m = v->mblock;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        size_t n = (size_t)L->g.rows * L->g.cols;
        if (L->g.crossbar) {
            L->gp_on = p, p += n; L->gn_on = p, p += n; L->gp_off = p, p += n; L->gn_off = p, p += n;
            L->gp = p, p += n; L->gn = p, p += n; L->wt = p, p += n; L->g2 = p, p += n;
            L->mask = m, m += n;
        } else {
            L->wt = p, p += n; L->bias = p, p += L->nout;
        }
        L->bn_a = p, p += L->g.out_c; L->bn_b = p, p += L->g.out_c;
        for (int c = 0; c < L->g.out_c; c++) L->bn_a[c] = 1.0f;
        L->u = s, s += L->nout; L->s = s, s += L->nout; L->cur = s, s += L->nout;
    }
    v->acc = s, s += acc; v->var = s, s += acc;
    v->x0 = s, s += v->npix; v->readout = s, s += v->npix; s += v->npix;
    v->q = s, s += a->latent; v->z = s, s += a->latent;
    v->recon = s;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++)
        if (v->L[i].g.crossbar) {
            if (!a->software) vae_form(v, i);
            vae_program(v, i);
        }
    return v;
}

/* Frees the network; NULL is fine. */
void prime_vae_free(prime_vae *v) {
    if (!v) return;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) free(v->L[i].conn), free(v->L[i].gat);
    free(v->wblock), free(v->sblock), free(v->mblock), free(v->active), free(v->kblock);
    free(v);
}

const prime_vae_arch *prime_vae_get_arch(const prime_vae *v) { return v ? &v->a : NULL; }
prime_device prime_vae_get_device(const prime_vae *v) { return v->dev; }

/* Applies device parameters; re-forms the conductances if a forming field changed. */
int prime_vae_set_device(prime_vae *v, const prime_device *d) {
    if (!v || !d) return prime_error("prime_vae_set_device: NULL argument");
    if (prime_device_check(d) != 0) return -1;
    prime_device o = v->dev;
    v->dev = *d;
    int reform = o.chip_seed != d->chip_seed || o.g_dist != d->g_dist || o.g_mean != d->g_mean ||
                 o.g_sd != d->g_sd || o.g_off != d->g_off || o.g_off_sd != d->g_off_sd || o.g_max != d->g_max ||
                 o.prog_noise != d->prog_noise || o.stuck_on != d->stuck_on || o.stuck_off != d->stuck_off;
    if (reform && !v->a.software)
        for (int i = 0; i < PRIME_VAE_LAYERS; i++)
            if (v->L[i].g.crossbar) vae_form(v, i), vae_program(v, i);
    return 0;
}

/* Applies the run parameters; 0 or -1. */
int prime_vae_set_run(prime_vae *v, const prime_vae_run *r) {
    if (!v || !r) return prime_error("prime_vae_set_run: NULL argument");
    if (r->policy != 0 && r->policy != 1) return prime_error("vae run: policy %d (0 none, 1 convergence)", r->policy);
    if (!(r->m_div > 0) || !(r->m_th >= 0)) return prime_error("vae run: m_div must be > 0 and m_th >= 0");
    if (r->m_window < 1 || r->m_window > PRIME_MAX_T) return prime_error("vae run: m_window = %d out of 1..%d", r->m_window, PRIME_MAX_T);
    if (r->min_steps < 1 || r->min_steps > PRIME_MAX_T) return prime_error("vae run: min_steps = %d out of 1..%d", r->min_steps, PRIME_MAX_T);
    v->run = *r;
    v->inference = 0;
    return 0;
}

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
    vae_program(v, i);
    return 0;
}

int prime_vae_set_weights(prime_vae *v, int i, const float *w, size_t n) {
    vlayer *L = get_layer(v, i, n, 1);
    if (!L) return -1;
    if (!v->a.software) return prime_error("weights can only be set on a software model (set masks)");
    memcpy(L->wt, w, n * sizeof(float));
    memset(L->g2, 0, n * sizeof(float));
    vae_program(v, i);
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

/* The latent sampling's uniform for step t, variable d of inference `inf`. */
static double latent_uniform(const prime_vae *v, uint64_t inf, int t, int d) {
    return prime_rand_uniform(v->run.latent_seed, prime_mix64(inf * 64 + (uint64_t)t), (uint64_t)d);
}

int prime_vae_latent_uniforms(const prime_vae *v, double *u, size_t n) {
    if (!v || !u) return prime_error("prime_vae_latent_uniforms: NULL argument");
    if (n != (size_t)v->a.T * v->a.latent) return prime_error("latent uniforms: n = %zu, need T*latent = %d", n, v->a.T * v->a.latent);
    for (int t = 0; t < v->a.T; t++)
        for (int d = 0; d < v->a.latent; d++) u[(size_t)t * v->a.latent + d] = latent_uniform(v, v->inference, t, d);
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
    float af[5] = {a->th, a->keep, a->out_decay, a->scale, a->sparsity};
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
    if (arch_check(&a) != 0) { prime_error("inpainting model: %s", prime_last_error()); return NULL; }
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
            if (!b.err) vae_program(v, i);
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

/* ============================================================ one step */

/* tanh from the deterministic exp (same bits in every build). */
static float vtanh(float x) {
    if (x > 20) return 1.0f;
    if (x < -20) return -1.0f;
    double e = prime_exp(2.0 * x);
    return (float)((e - 1) / (e + 1));
}

/* ------------------------------------------------ kernels
 *
 * The crossbar read of a layer at one step has two parts: accumulation of the
 * driven rows into per-tile column sums (and noise variances), then the
 * readout shared with the classifier (k_readout of prime_core.c: column read
 * noise, ADC, sum over row tiles). Accumulation is event-driven: only
 * non-zero inputs drive their rows. The fast path gathers, per output
 * position, the active rows in the order the plain scatter (vae_scatter, the
 * reference) adds them, so both give identical bits. Every layer but the
 * first gets 0/1 spikes: then a row's contribution is the weight itself
 * (1 * w == w exactly) and the gather only adds (k_gather1). */

/* out[j] = 0 + W[off[0]+j] + W[off[1]+j] + ... (k in order) for j < n: k_gather
 * of prime_core.c with every value 1, without the multiplies (identical
 * bits); kept apart because it is measured 20-25 % faster on the VAE. */
static void k_gather1(float *restrict out, const float *restrict W, const int32_t *restrict off, int cnt, int n) {
    int j = 0;
#ifndef PRIME_SCALAR
    for (; j + 8 * PV_W <= n; j += 8 * PV_W) { /* 32 columns: 8 accumulators */
        pv a0 = pv_set1(0.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            a0 = pv_add(a0, pv_load(w)), a1 = pv_add(a1, pv_load(w + PV_W));
            a2 = pv_add(a2, pv_load(w + 2 * PV_W)), a3 = pv_add(a3, pv_load(w + 3 * PV_W));
            a4 = pv_add(a4, pv_load(w + 4 * PV_W)), a5 = pv_add(a5, pv_load(w + 5 * PV_W));
            a6 = pv_add(a6, pv_load(w + 6 * PV_W)), a7 = pv_add(a7, pv_load(w + 7 * PV_W));
        }
        pv_store(out + j, a0), pv_store(out + j + PV_W, a1), pv_store(out + j + 2 * PV_W, a2);
        pv_store(out + j + 3 * PV_W, a3), pv_store(out + j + 4 * PV_W, a4), pv_store(out + j + 5 * PV_W, a5);
        pv_store(out + j + 6 * PV_W, a6), pv_store(out + j + 7 * PV_W, a7);
    }
    for (; j + 4 * PV_W <= n; j += 4 * PV_W) { /* 16 columns */
        pv a0 = pv_set1(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < cnt; k++) {
            const float *w = W + off[k] + j;
            a0 = pv_add(a0, pv_load(w)), a1 = pv_add(a1, pv_load(w + PV_W));
            a2 = pv_add(a2, pv_load(w + 2 * PV_W)), a3 = pv_add(a3, pv_load(w + 3 * PV_W));
        }
        pv_store(out + j, a0), pv_store(out + j + PV_W, a1), pv_store(out + j + 2 * PV_W, a2), pv_store(out + j + 3 * PV_W, a3);
    }
    for (; j + PV_W <= n; j += PV_W) {
        pv a0 = pv_set1(0.0f);
        for (int k = 0; k < cnt; k++) a0 = pv_add(a0, pv_load(W + off[k] + j));
        pv_store(out + j, a0);
    }
#endif
    for (; j < n; j++) {
        float a = 0.0f;
        for (int k = 0; k < cnt; k++) a = a + W[off[k] + j];
        out[j] = a;
    }
}

/* Lists the non-zero entries of x[npix][ic] per pixel, channels ascending
 * (branch-free): v->pixcnt[p], row offsets ic*stride and (unless ones: the
 * input is 0/1 spikes) values at p*ic. Returns the number listed. */
static size_t vae_compact(prime_vae *v, const float *x, int npix, int ic, int stride, int ones) {
    size_t tot = 0;
    for (int p = 0; p < npix; p++) {
        const float *xp = x + (size_t)p * ic;
        int32_t *po = v->pixoff + (size_t)p * ic;
        float *pv1 = v->pixval + (size_t)p * ic;
        int n = 0;
        if (ones)
            for (int c = 0; c < ic; c++) po[n] = c * stride, n += xp[c] != 0.0f;
        else
            for (int c = 0; c < ic; c++) po[n] = c * stride, pv1[n] = xp[c], n += xp[c] != 0.0f;
        v->pixcnt[p] = n;
        tot += (size_t)n;
    }
    return tot;
}

/* acc (and var with noise) of n active rows into out columns [0, OC):
 * offsets off, values val (ignored when ones), their squares val2. */
static void vae_accumulate(const vlayer *L, float *acc, float *var, const int32_t *off, const float *val,
                           const float *val2, int n, int ones, int noise) {
    const int OC = L->g.cols;
    if (ones) {
        k_gather1(acc, L->wt, off, n, OC);
        if (noise) k_gather1(var, L->g2, off, n, OC);
    } else {
        k_gather(acc, L->wt, off, val, n, OC);
        if (noise) k_gather(var, L->g2, off, val2, n, OC);
    }
}

/* A one-column, stride-1 transposed conv with K = 2*pad + 1 (the output
 * layer): its input is dense (most decoder neurons spike), so it is read
 * dense, 4 output positions per vector, every lane adding its rows in the
 * scatter's order (inputs ascending, then channels). A row whose input is 0
 * adds +-0, which leaves a sum that started at +0 unchanged (a sum of
 * finite floats from +0 is never -0): the same bits as the event-driven
 * reference. Counts the rows driven per position as the reference does. */
static double vae_out_dense(prime_vae *v, const vlayer *L, const float *x, int noise) {
    const int IC = L->g.in_c, H = L->g.in_h, W = L->g.in_w, K = L->g.k, P = L->g.pad, KK = K * K;
    const int PW = W + 2 * P, plane = (H + 2 * P) * PW;
    float *xp = v->xpad;
    memset(xp, 0, sizeof(float) * (size_t)IC * plane);
    for (int p = 0; p < H * W; p++) { /* HWC -> zero-padded CHW, and the non-zero inputs per pixel */
        const float *xi = x + (size_t)p * IC;
        float *o = xp + (size_t)(p / W + P) * PW + p % W + P;
        int n = 0;
        for (int c = 0; c < IC; c++) o[(size_t)c * plane] = xi[c], n += xi[c] != 0.0f;
        v->pixcnt[p] = n;
    }
    const int *start = L->gat, *pair = L->gat + H * W + 1;
    double drives = 0;
    for (int pos = 0; pos < H * W; pos++) {
        int n = 0;
        for (int e = start[pos]; e < start[pos + 1]; e++) n += v->pixcnt[pair[2 * e]];
        v->active[pos] = n > 0;
        drives += n;
    }
    for (int oy = 0; oy < H; oy++) {
        int ox = 0;
#ifndef PRIME_SCALAR
        for (; ox + PV_W <= W; ox += PV_W) {
            pv a = pv_set1(0.0f), a2 = a;
            for (int ky = K - 1; ky >= 0; ky--) /* input row oy + P - ky ascending */
                for (int kx = K - 1; kx >= 0; kx--) {
                    const float *xr = xp + (size_t)(oy + 2 * P - ky) * PW + ox + 2 * P - kx;
                    const float *w = L->wt + ky * K + kx, *g2 = L->g2 + ky * K + kx;
                    for (int c = 0; c < IC; c++) {
                        pv xv = pv_load(xr + (size_t)c * plane);
                        a = pv_add(a, pv_mul(xv, pv_set1(w[c * KK])));
                        if (noise) a2 = pv_add(a2, pv_mul(pv_mul(xv, xv), pv_set1(g2[c * KK])));
                    }
                }
            pv_store(v->acc + oy * W + ox, a), pv_store(v->var + oy * W + ox, a2);
        }
#endif
        for (; ox < W; ox++) {
            float a = 0.0f, a2 = 0.0f;
            for (int ky = K - 1; ky >= 0; ky--)
                for (int kx = K - 1; kx >= 0; kx--) {
                    const float *xr = xp + (size_t)(oy + 2 * P - ky) * PW + ox + 2 * P - kx;
                    const float *w = L->wt + ky * K + kx, *g2 = L->g2 + ky * K + kx;
                    for (int c = 0; c < IC; c++) {
                        float xv = xr[(size_t)c * plane];
                        a = a + xv * w[c * KK];
                        if (noise) a2 = a2 + xv * xv * g2[c * KK];
                    }
                }
            v->acc[oy * W + ox] = a, v->var[oy * W + ox] = a2;
        }
    }
    return drives;
}

/* Fast accumulation of crossbar layer L (fc: any row tiles; conv / tconv: one
 * tile): per output position (fc: per tile) the active rows, gathered; ones:
 * the input is 0/1 spikes. Writes acc/var/act of the active reads only.
 * Returns the rows driven. */
static double vae_gather(prime_vae *v, const vlayer *L, const float *x, int ones, int noise) {
    const int OC = L->g.cols, IC = L->g.in_c, KK = L->g.k * L->g.k;
    double drives = 0;
    if (L->g.op == PRIME_VAE_FC) {
        const size_t tot = vae_compact(v, x, 1, L->g.rows, OC, ones);
        size_t k = 0;
        for (int tile = 0; tile < L->row_tiles && k < tot; tile++) {
            const size_t k0 = k, end = (size_t)(tile + 1) * PRIME_ARRAY_SIZE * OC;
            while (k < tot && (size_t)v->pixoff[k] < end) k++;
            const int n = (int)(k - k0);
            if (!n) continue;
            if (noise && !ones)
                for (int q = 0; q < n; q++) v->rowval2[q] = v->pixval[k0 + q] * v->pixval[k0 + q];
            vae_accumulate(L, v->acc + (size_t)tile * OC, v->var + (size_t)tile * OC, v->pixoff + k0, v->pixval + k0,
                           v->rowval2, n, ones, noise);
            v->active[tile] = 1;
            drives += n;
        }
        return drives;
    }
    const int npix = L->g.in_h * L->g.in_w, npos = L->g.out_h * L->g.out_w;
    if (!vae_compact(v, x, npix, IC, KK * OC, ones)) return 0; /* no input: nothing is read */
    const int *start = L->gat, *pair = L->gat + npos + 1;
    int32_t *off = v->rowoff;
    float *val = v->rowval, *val2 = v->rowval2;
    if (ones && OC == 1) { /* one column (the output layer): add the weights as they are met, no list */
        for (int pos = 0; pos < npos; pos++) {
            float a = 0.0f, a2 = 0.0f;
            int n = 0;
            for (int e = start[pos]; e < start[pos + 1]; e++) {
                const int p = pair[2 * e], base = pair[2 * e + 1], m = v->pixcnt[p];
                const int32_t *po = v->pixoff + (size_t)p * IC;
                const float *w = L->wt + base, *g2 = L->g2 + base;
                for (int q = 0; q < m; q++) a = a + w[po[q]];
                if (noise)
                    for (int q = 0; q < m; q++) a2 = a2 + g2[po[q]];
                n += m;
            }
            if (!n) continue;
            v->acc[pos] = a, v->var[pos] = a2;
            v->active[pos] = 1;
            drives += n;
        }
        return drives;
    }
    for (int pos = 0; pos < npos; pos++) {
        int n = 0;
        for (int e = start[pos]; e < start[pos + 1]; e++) {
            const int p = pair[2 * e], base = pair[2 * e + 1] * OC, m = v->pixcnt[p];
            const int32_t *po = v->pixoff + (size_t)p * IC;
            const float *pv1 = v->pixval + (size_t)p * IC;
            for (int q = 0; q < m; q++) off[n + q] = base + po[q];
            if (!ones)
                for (int q = 0; q < m; q++) val[n + q] = pv1[q], val2[n + q] = pv1[q] * pv1[q];
            n += m;
        }
        if (!n) continue;
        vae_accumulate(L, v->acc + (size_t)pos * OC, v->var + (size_t)pos * OC, off, val, val2, n, ones, noise);
        v->active[pos] = 1;
        drives += n;
    }
    return drives;
}

/* Reference accumulation (also the path of convs wider than one 512-row
 * tile): every non-zero input adds its rows to the outputs it reaches, in
 * the order of L->conn. acc/var/act must be zero on entry. Returns rows driven. */
static double vae_scatter(prime_vae *v, const vlayer *L, const float *x, int noise) {
    const int OC = L->g.cols, IC = L->g.in_c;
    const size_t npos = L->g.op == PRIME_VAE_FC ? 1 : (size_t)L->g.out_h * L->g.out_w, out = npos * OC;
    float *acc = v->acc, *var = v->var;
    uint8_t *act = v->active;
    double drives = 0;
    if (L->g.op == PRIME_VAE_FC) {
        for (int r = 0; r < L->g.rows; r++) {
            float xv = x[r];
            if (xv == 0.0f) continue;
            int tile = r / PRIME_ARRAY_SIZE;
            float *a = acc + (size_t)tile * out, *vr = var + (size_t)tile * out;
            const float *w = L->wt + (size_t)r * OC, *g2 = L->g2 + (size_t)r * OC;
            for (int j = 0; j < OC; j++) a[j] = a[j] + xv * w[j];
            if (noise) for (int j = 0; j < OC; j++) vr[j] = vr[j] + xv * xv * g2[j];
            act[tile] = 1;
            drives += 1;
        }
        return drives;
    }
    const int KK = L->g.k * L->g.k;
    for (size_t c = 0; c < L->nconn; c++) {
        const int *e = L->conn + 3 * c;
        const float *xi = x + (size_t)e[0] * IC;
        for (int ic = 0; ic < IC; ic++) {
            float xv = xi[ic];
            if (xv == 0.0f) continue;
            int r = ic * KK + e[2], tile = r / PRIME_ARRAY_SIZE;
            float *a = acc + (size_t)tile * out + (size_t)e[1] * OC;
            const float *w = L->wt + (size_t)r * OC;
            for (int j = 0; j < OC; j++) a[j] = a[j] + xv * w[j];
            if (noise) {
                float *vr = var + (size_t)tile * out + (size_t)e[1] * OC;
                const float *g2 = L->g2 + (size_t)r * OC;
                for (int j = 0; j < OC; j++) vr[j] = vr[j] + xv * xv * g2[j];
            }
            act[(size_t)tile * npos + e[1]] = 1;
            drives += 1;
        }
    }
    return drives;
}

/* Crossbar layer i for one step: x (HWC, in) -> cur (HWC). Row tiles of 512
 * accumulate separately, each read gets column read noise (the exact summed
 * form, as the classifier) and its ADC conversion, then the tiles are summed
 * digitally: the readout of crossbar() in prime_core.c. */
static void vae_read(prime_vae *v, int i, const float *x, int ones, float xmax, float *cur, int t) {
    vlayer *L = &v->L[i];
    const prime_device *d = &v->dev;
    const int OC = L->g.cols, RT = L->row_tiles;
    const size_t npos = L->g.op == PRIME_VAE_FC ? 1 : (size_t)L->g.out_h * L->g.out_w;
    const size_t out = npos * OC;
    const int soft = v->a.software;
    const int noise = !soft && d->read_noise > 0;
    const uint64_t nstream = prime_mix64(((uint64_t)v->inference << 24) ^ ((uint64_t)t << 8) ^ (uint64_t)(i + 32));
    const uint64_t nbase = prime_mix64(v->run.noise_seed ^ prime_mix64(nstream ^ 0x5bd1e995u));
    memset(v->active, 0, npos * RT);
    double drives;
    if (!prime_kernel_reference && L->g.op == PRIME_VAE_TCONV && RT == 1 && OC == 1 && L->g.stride == 1 &&
        L->g.k == 2 * L->g.pad + 1) {
        drives = vae_out_dense(v, L, x, noise);
    } else if (!prime_kernel_reference && (L->g.op == PRIME_VAE_FC || RT == 1)) {
        drives = vae_gather(v, L, x, ones, noise);
    } else {
        memset(v->acc, 0, sizeof(float) * out * RT);
        if (noise) memset(v->var, 0, sizeof(float) * out * RT);
        drives = vae_scatter(v, L, x, noise);
    }
    memset(cur, 0, sizeof(float) * out);
    double conversions = 0, reads = 0;
    const int adc = soft ? 0 : d->adc_bits;
    const float fs = d->adc_fs * L->colmax * xmax;
    for (int tile = 0; tile < RT; tile++)
        for (size_t pos = 0; pos < npos; pos++) {
            if (!v->active[(size_t)tile * npos + pos]) continue;
            reads += 1;
            conversions += OC;
            const size_t o0 = (size_t)tile * out + pos * OC; /* also the noise counter of column 0 */
            if (noise) { /* prime_dev_normal first: it sets up zig_normals' tables (same values) */
                v->zbuf[0] = prime_dev_normal(nbase, o0);
                zig_normals(v->zbuf + 1, nbase, o0 + 1, OC - 1);
            }
            k_readout(cur + pos * OC, v->acc + o0, v->var + o0, noise ? v->zbuf : NULL, OC, d->read_noise, fs, adc);
        }
    prime_counters *k = &v->res.counters;
    k->dac_drives += drives;
    k->cell_reads += drives * 2 * OC;
    k->adc_conversions += conversions;
    k->vmm_reads += reads;
    /* the dense work a digital engine does: every connection (in pos, out pos,
     * tap) x in_c x out_c; for a stride-2 transposed conv that is ~1/4 of
     * out positions x rows, as only the taps that land on a position count */
    k->macs_dense += L->g.op == PRIME_VAE_FC ? (double)L->g.rows * OC : (double)L->nconn * L->g.in_c * OC;
}

/* Folded BN (or the digital bias) and the inpainting LIF on layer i's current,
 * vectorized over the channels of each position; returns the spikes. */
static double vae_neuron(prime_vae *v, int i) {
    vlayer *L = &v->L[i];
    const int C = L->g.out_c;
    const size_t npos = L->nout / (size_t)C;
    const float keep = v->a.keep, th = v->a.th;
    const float *ba = L->g.bn ? L->bn_a : NULL, *bb = L->bn_b;
    float cnt = 0.0f; /* a count: exact in any order */
    for (size_t p = 0; p < npos; p++) {
        float *u = L->u + p * C, *s = L->s + p * C;
        const float *cur = L->cur + p * C, *bias = L->bias ? L->bias + p * C : NULL;
        int j = 0;
#ifndef PRIME_SCALAR
        const pv one = pv_set1(1.0f), vk = pv_set1(keep), vt = pv_set1(th);
        pv n4 = pv_set1(0.0f);
        for (; j + PV_W <= C; j += PV_W) {
            pv x = pv_load(cur + j);
            if (ba) x = pv_add(pv_mul(pv_load(ba + j), x), pv_load(bb + j));
            else if (bias) x = pv_add(x, pv_load(bias + j));
            pv U = pv_add(pv_mul(pv_mul(vk, pv_load(u + j)), pv_sub(one, pv_load(s + j))), x);
            pv S = pv_and(pv_gt(U, vt), one);
            pv_store(u + j, U), pv_store(s + j, S);
            n4 = pv_add(n4, S);
        }
        float lanes[PV_W];
        pv_store(lanes, n4);
        for (int q = 0; q < PV_W; q++) cnt += lanes[q];
#endif
        for (; j < C; j++) {
            float x = cur[j];
            if (ba) x = ba[j] * x + bb[j];
            else if (bias) x = x + bias[j];
            float U = keep * u[j] * (1.0f - s[j]) + x;
            u[j] = U;
            s[j] = U > th ? 1.0f : 0.0f;
            cnt += s[j];
        }
    }
    v->res.counters.neuron_updates += (double)L->nout;
    return cnt;
}

/* Runs step t; returns 1 if the convergence stop fired after it. Inpainting:
 * encoder -> posterior; generation (v->gen): the prior on z_(t-1) (v->z, read
 * before it is overwritten). Then the decoder and the readout. */
static int vae_step(prime_vae *v, int t) {
    const prime_vae_arch *a = &v->a;
    const float *x = v->gen ? v->z : v->x0;
    float xmax = 1.0f;
    for (int i = v->gen ? PRIME_VAE_PRIOR : 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        if (i == PRIME_VAE_PRIOR && !v->gen) continue;
        if (!L->g.crossbar) {
            /* digital FC + bias on the encoder's spikes (prior: on z_(t-1)); k spikes per latent */
            const int n = (int)vae_compact(v, x, 1, L->g.rows, L->g.cols, 1); /* 0/1 inputs */
            k_gather1(L->cur, L->wt, v->pixoff, n, L->g.cols);
            v->res.digital_macs += (double)n * L->g.cols;
            v->res.spikes += vae_neuron(v, i);
            for (int d = 0; d < a->latent; d++) {
                float q = 0;
                for (int j = 0; j < a->k; j++) q = q + L->s[d * a->k + j];
                v->q[d] = q / (float)a->k;
                v->z[d] = latent_uniform(v, v->inference, t, d) < v->q[d] ? 1.0f : 0.0f;
            }
            x = v->z;
            continue;
        }
        vae_read(v, i, x, i != PRIME_VAE_ENC1, xmax, L->cur, t); /* all but the first layer get spikes */
        if (L->g.lif) {
            v->res.spikes += vae_neuron(v, i);
            x = L->s;
        } else {
            x = L->cur;
        }
        xmax = 1.0f;
    }
    /* decayed-membrane readout: acc = decay*acc + y; recon_t = tanh(acc) */
    float *rc = v->recon + (size_t)t * v->npix;
    double m = 0;
    for (int p = 0; p < v->npix; p++) {
        v->readout[p] = a->out_decay * v->readout[p] + x[p];
        rc[p] = vtanh(v->readout[p]);
        if (t > 0) m += fabs((double)rc[p] - (double)rc[p - v->npix]);
    }
    v->res.counters.neuron_updates += v->npix;
    v->res.m[t] = (float)(m / v->run.m_div);
    if (v->run.policy != 1 || t + 1 < v->run.min_steps || t < v->run.m_window + 1) return 0;
    if (!(v->res.m[t] < v->run.m_th)) return 0;
    for (int j = 0; j < v->run.m_window; j++)
        if (!(v->res.m[t - j] < v->res.m[t - j - 1])) return 0;
    return 1;
}

static int vae_run(prime_vae *v, prime_vae_result *r);

/* Inpaints one image (see prime.h); 0 or -1. */
int prime_vae_inpaint(prime_vae *v, const float *img, const uint8_t *hole, prime_vae_result *r) {
    if (!v || !img || !r) return prime_error("prime_vae_inpaint: NULL argument");
    const prime_vae_arch *a = &v->a;
    const int S = a->size, c0 = S / 2 - 4;
    float mx = 0;
    for (int p = 0; p < v->npix; p++) {
        float x = img[p];
        if (!isfinite(x) || x < -1.0001f || x > 1.0001f) return prime_error("inpaint: pixel %d = %g is not in [-1, 1]", p, (double)x);
        int y = p / S, xx = p % S;
        int in_hole = hole ? hole[p] != 0 : (y >= c0 && y < c0 + 8 && xx >= c0 && xx < c0 + 8);
        if (in_hole) x = -1.0f;
        if (v->dev.dac_bits && !a->software) x = prime_dev_dac(x, 1.0f, v->dev.dac_bits);
        v->x0[p] = x;
        if (fabsf(x) > mx) mx = fabsf(x);
    }
    return vae_run(v, r);
}

/* Runs T steps (or to the early stop) from zero state (z_(-1) = 0) and fills
 * v->res, *r and the energy figures; 0. */
static int vae_run(prime_vae *v, prime_vae_result *r) {
    const prime_vae_arch *a = &v->a;
    memset(&v->res, 0, sizeof v->res);
    memset(v->z, 0, (size_t)a->latent * sizeof(float));
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        vlayer *L = &v->L[i];
        memset(L->u, 0, L->nout * sizeof(float));
        memset(L->s, 0, L->nout * sizeof(float));
    }
    memset(v->readout, 0, v->npix * sizeof(float));
    v->T = a->T;
    int t = 0;
    for (; t < a->T; t++)
        if (vae_step(v, t)) { t++; break; }
    v->steps = t;
    v->inference++;
    prime_vae_result *o = &v->res;
    o->T = a->T, o->steps_used = t;
    o->counters.timesteps = t;
    const prime_device *d = &v->dev;
    const prime_counters *k = &o->counters;
    double e_adc = d->e_adc_fom_fj * 1e-3 * ldexp(1.0, d->adc_bits ? d->adc_bits : 16);
    o->energy_pj = k->cell_reads * d->e_cell_pj + k->adc_conversions * e_adc + k->dac_drives * d->e_dac_pj +
                   k->neuron_updates * d->e_neuron_pj + o->digital_macs * d->e_mac_pj;
    /* digital baseline: every layer dense (incl. the latent FC) for all T steps */
    const vlayer *P = &v->L[v->gen ? PRIME_VAE_PRIOR : PRIME_VAE_POST];
    double macs = k->macs_dense / t + (double)P->g.rows * P->g.cols;
    o->baseline_pj = (macs * d->e_mac_pj + k->neuron_updates / t * d->e_neuron_pj) * a->T;
    o->energy_ratio = o->energy_pj > 0 ? o->baseline_pj / o->energy_pj : 0;
    *r = *o;
    return 0;
}

/* Image after step t of the last inpaint or generate (owned by v), or NULL. */
const float *prime_vae_recon(const prime_vae *v, int t) {
    if (!v) { prime_error("NULL network"); return NULL; }
    if (t < 0 || t >= v->steps) { prime_error("step %d was not run (0..%d)", t, v->steps - 1); return NULL; }
    return v->recon + (size_t)t * v->npix;
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

/* ============================================================ generation */

/* Generates one image from the prior (see prime.h); 0 or -1. The pass index
 * that keys the read-noise and latent streams (v->inference) is the seed for
 * this call, so the result depends on the seed only, not on earlier calls. */
int prime_vae_generate(prime_vae *v, uint64_t seed, prime_vae_result *r) {
    if (!v || !r) return prime_error("prime_vae_generate: NULL argument");
    const uint64_t pass = v->inference;
    v->gen = 1;
    v->inference = seed;
    int rc = vae_run(v, r);
    v->gen = 0;
    v->inference = pass;
    return rc;
}
