/* inpaint_eval.c - metrics of the inpainting network over an image set (see
 * inpaint_eval.h): threads over images, prime_vae_metrics per image, sums in
 * image order (deterministic for any thread count). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inpaint_eval.h"
#include "prime.h"

void prime_inpaint_rect(uint8_t *hole, int size, int x, int y, int w, int h) {
    for (int r = y < 0 ? 0 : y; r < y + h && r < size; r++)
        for (int c = x < 0 ? 0 : x; c < x + w && c < size; c++) hole[r * size + c] = 1;
}

/* Per-image values, summed in image order at the end. */
typedef struct {
    double mse, psnr, ssim, steps, energy, baseline;
} img_row;

/* Metrics of one reconstruction; writes the composite if asked. 0 or -1. */
static int score(const float *recon, const float *clean, const uint8_t *hole, int size, img_row *row, float *composite) {
    if (prime_vae_metrics(recon, clean, hole, size, size, &row->mse, &row->psnr, &row->ssim) != 0) return -1;
    if (composite)
        for (int p = 0; p < size * size; p++) composite[p] = hole[p] ? recon[p] : clean[p];
    return 0;
}

/* Means of rows[n] into *st. */
static void reduce(const img_row *rows, int n, int T, prime_inpaint_stats *st) {
    memset(st, 0, sizeof *st);
    st->n = n, st->T = T;
    for (int i = 0; i < n; i++) {
        st->mse += rows[i].mse, st->psnr += rows[i].psnr, st->ssim += rows[i].ssim;
        st->steps += rows[i].steps, st->energy_pj += rows[i].energy, st->baseline_pj += rows[i].baseline;
    }
    st->mse /= n, st->psnr /= n, st->ssim /= n, st->steps /= n, st->energy_pj /= n, st->baseline_pj /= n;
}

typedef struct {
    const uint8_t *model;
    size_t nmodel;
    const float *x;
    int n, tid, nthreads, policy;
    const uint8_t *hole;
    float noise, m_th;
    img_row *rows;
    float *composite;
    int rc;
    char err[256];
} job;

/* Images tid, tid + nthreads, ... on a network of its own. */
static void *worker(void *arg) {
    job *j = arg;
    prime_vae *v = prime_vae_load(j->model, j->nmodel);
    if (!v) goto fail;
    const int S = prime_vae_get_arch(v)->size, np = S * S;
    prime_device d = prime_vae_get_device(v);
    d.read_noise = j->noise;
    if (prime_vae_set_device(v, &d) != 0) goto fail;
    prime_vae_run base = prime_vae_default_run();
    for (int i = j->tid; i < j->n; i += j->nthreads) {
        prime_vae_run run = base;
        run.policy = j->policy;
        if (j->m_th > 0) run.m_th = j->m_th;
        run.noise_seed = base.noise_seed + 1000003ull * (uint64_t)i;
        run.latent_seed = base.latent_seed + 1000003ull * (uint64_t)i;
        prime_vae_result r;
        const float *clean = j->x + (size_t)i * np;
        if (prime_vae_set_run(v, &run) != 0 || prime_vae_inpaint(v, clean, j->hole, &r) != 0) goto fail;
        img_row *row = &j->rows[i];
        if (score(prime_vae_recon(v, r.steps_used - 1), clean, j->hole, S, row,
                  j->composite ? j->composite + (size_t)i * np : NULL) != 0) goto fail;
        row->steps = r.steps_used, row->energy = r.energy_pj, row->baseline = r.baseline_pj;
    }
    prime_vae_free(v);
    return NULL;
fail:
    j->rc = -1;
    snprintf(j->err, sizeof j->err, "%s", prime_last_error());
    prime_vae_free(v);
    return NULL;
}

int prime_inpaint_eval(const uint8_t *model, size_t nmodel, const float *x, int n, const uint8_t *hole,
                       float noise, int policy, float m_th, int nthreads, prime_inpaint_stats *st, float *composite) {
    if (!model || !x || n < 1 || !st) return prime_error("inpaint_eval: bad arguments");
    prime_vae *v = prime_vae_load(model, nmodel);
    if (!v) return -1;
    const int S = prime_vae_get_arch(v)->size, T = prime_vae_get_arch(v)->T;
    prime_vae_free(v);
    uint8_t *centre = NULL;
    if (!hole) {
        hole = centre = calloc((size_t)S * S, 1);
        if (centre) prime_inpaint_rect(centre, S, S / 2 - 4, S / 2 - 4, 8, 8); /* as prime_vae_inpaint */
    }
    if (nthreads < 1 || nthreads > 16) nthreads = 1;
    img_row *rows = calloc((size_t)n, sizeof *rows);
    job *jobs = calloc((size_t)nthreads, sizeof *jobs);
    pthread_t th[16];
    if (!rows || !jobs || !hole) { free(rows), free(jobs), free(centre); return prime_error("inpaint_eval: out of memory"); }
    for (int k = 0; k < nthreads; k++) {
        jobs[k] = (job){model, nmodel, x, n, k, nthreads, policy, hole, noise, m_th, rows, composite, 0, ""};
        if (nthreads > 1) pthread_create(&th[k], NULL, worker, &jobs[k]);
        else worker(&jobs[k]);
    }
    int rc = 0;
    for (int k = 0; k < nthreads; k++) {
        if (nthreads > 1) pthread_join(th[k], NULL);
        if (jobs[k].rc && !rc) rc = prime_error("inpaint_eval: %s", jobs[k].err);
    }
    if (!rc) reduce(rows, n, T, st);
    free(rows), free(jobs), free(centre);
    return rc;
}

int prime_inpaint_fill(const float *x, int n, int size, const uint8_t *hole, float value,
                       prime_inpaint_stats *st, float *composite) {
    if (!x || n < 1 || size < 8 || !hole || !st) return prime_error("inpaint_fill: bad arguments");
    const int np = size * size;
    img_row *rows = calloc((size_t)n, sizeof *rows);
    float *fill = malloc(sizeof(float) * np);
    if (!rows || !fill) { free(rows), free(fill); return prime_error("inpaint_fill: out of memory"); }
    for (int p = 0; p < np; p++) fill[p] = value;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        rc = score(fill, x + (size_t)i * np, hole, size, &rows[i], composite ? composite + (size_t)i * np : NULL);
    if (!rc) reduce(rows, n, 0, st);
    free(rows), free(fill);
    return rc;
}
