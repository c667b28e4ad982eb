/* train_fit.c - the mask trainer's epoch loop (prime_trainer_fit), its
 * checkpoints and the model export (train.h); the network, masks, threads
 * and optimizer are train.c's (train_internal.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "train.h"
#include "train_internal.h"

/* ================================================================ checkpoint */

#define CKPT_MAGIC 0x54505250u /* "PRPT" */

static int ckpt_save(prime_trainer *tr, const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return prime_error("train: cannot write checkpoint %s", tmp);
    uint32_t hdr[6] = {CKPT_MAGIC, 1, (uint32_t)tr->epoch_done, (uint32_t)tr->p.baseline,
                       (uint32_t)tr->ntot, (uint32_t)tr->p.opt};
    uint64_t st[2] = {(uint64_t)tr->step, tr->p.seed};
    int ok = fwrite(hdr, sizeof hdr, 1, f) == 1 && fwrite(st, sizeof st, 1, f) == 1;
    for (int l = 0; l < PRIME_TR_NW && ok; l++) {
        prime_tr_wlayer *L = &tr->L[l];
        ok = fwrite(L->score, sizeof(float), L->n, f) == L->n &&
             fwrite(L->m, sizeof(float), L->n, f) == L->n &&
             fwrite(L->v, sizeof(float), L->n, f) == L->n;
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) return prime_error("train: writing checkpoint %s failed", path);
    return 0;
}

/* 1 if loaded, 0 if the file does not exist, -1 on a bad file. */
static int ckpt_load(prime_trainer *tr, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint32_t hdr[6];
    uint64_t st[2];
    int ok = fread(hdr, sizeof hdr, 1, f) == 1 && fread(st, sizeof st, 1, f) == 1;
    if (!ok || hdr[0] != CKPT_MAGIC || hdr[1] != 1 || hdr[3] != (uint32_t)tr->p.baseline ||
        hdr[4] != tr->ntot || hdr[5] != (uint32_t)tr->p.opt || st[1] != tr->p.seed) {
        fclose(f);
        return prime_error("train: checkpoint %s does not match this run (mode, seed, optimizer)", path);
    }
    for (int l = 0; l < PRIME_TR_NW && ok; l++) {
        prime_tr_wlayer *L = &tr->L[l];
        ok = fread(L->score, sizeof(float), L->n, f) == L->n &&
             fread(L->m, sizeof(float), L->n, f) == L->n &&
             fread(L->v, sizeof(float), L->n, f) == L->n;
    }
    fclose(f);
    if (!ok) return prime_error("train: checkpoint %s is truncated", path);
    tr->epoch_done = (int)hdr[2];
    tr->step = (long)st[0];
    return 1;
}

/* ================================================================ fit */

static void fmt_time(char *b, size_t n, double s) {
    if (s < 0) s = 0;
    int m = (int)(s / 60);
    snprintf(b, n, "%dm%02ds", m, (int)(s - 60 * m));
}

int prime_trainer_fit(prime_trainer *tr, const prime_frames *train,
                      const prime_frames *test) {
    if (!tr || !train) return prime_error("train: NULL argument");
    const prime_train_params *p = &tr->p;
    if (train->T != p->T || train->c != tr->C0 || train->h != tr->H0 || train->w != tr->W0)
        return prime_error("train: frames are [%d][%d][%d][%d], network wants [%d][%d][%d][%d]",
                           train->T, train->c, train->h, train->w, p->T, tr->C0, tr->H0, tr->W0);
    if (p->checkpoint && p->resume) {
        int r = ckpt_load(tr, p->checkpoint);
        if (r < 0) return -1;
        if (r == 1 && p->verbose)
            printf("resumed from %s after epoch %d (step %ld)\n", p->checkpoint, tr->epoch_done, tr->step);
    }
    int N = train->n, B = p->batch;
    int nb = (N + B - 1) / B;
    long total = (long)nb * p->epochs;
    int *order = malloc(sizeof(int) * N);
    prime_tr_job *j = calloc(1, sizeof *j);
    if (!order || !j) { free(order); free(j); return prime_error("train: out of memory"); }
    double t0 = prime_tr_now_s();
    long done_here = 0;
    for (int ep = tr->epoch_done; ep < p->epochs; ep++) {
        /* shuffle: Fisher-Yates from the counter RNG (seed, epoch) */
        for (int i = 0; i < N; i++) order[i] = i;
        for (int i = N - 1; i > 0; i--) {
            int k = (int)(prime_rand_u64(p->seed, 0x7368756666ull + ep, i) % (uint64_t)(i + 1));
            int t = order[i]; order[i] = order[k]; order[k] = t;
        }
        double el = 0, tep = prime_tr_now_s();
        long ec = 0, en = 0;
        for (int b = 0; b < nb; b++) {
            int m = N - b * B < B ? N - b * B : B;
            tr->step++;
            if (prime_tr_make_weff(tr, 1, (uint64_t)tr->step) != 0) { free(order); free(j); return -1; }
            j->tr = tr; j->f = train; j->idx = order + (size_t)b * B; j->n = m; j->backward = 1;
            j->nchunks = m < PRIME_TR_CHUNKS ? m : PRIME_TR_CHUNKS;
            prime_tr_run_job(tr, j);
            for (int c = 1; c < j->nchunks; c++) { /* ordered sum into chunk 0 */
                float *d = tr->gchunk, *s = tr->gchunk + (size_t)c * tr->ntot;
                for (size_t i = 0; i < tr->ntot; i++) d[i] += s[i];
            }
            double bl = 0;
            for (int c = 0; c < j->nchunks; c++) { bl += j->loss[c]; ec += j->correct[c]; }
            el += bl; en += m;
            double lr = 0.5 * p->lr * (1 + cos(M_PI * (double)(tr->step - 1) / (double)total));
            prime_tr_opt_step(tr, (float)lr, m);
            done_here++;
            if (p->verbose && (b % 10 == 9 || b == nb - 1)) {
                double dt = prime_tr_now_s() - t0;
                double sps = (double)done_here * B / dt;
                char eta[32];
                fmt_time(eta, sizeof eta, (double)(total - tr->step) * B / sps);
                printf("epoch %d/%d batch %d/%d loss %.4f acc %.2f%% lr %.2e %.1f samples/s left %s\n",
                       ep + 1, p->epochs, b + 1, nb, el / en, 100.0 * ec / en, lr, sps, eta);
                fflush(stdout);
            }
        }
        tr->epoch_done = ep + 1;
        if (p->verbose) {
            printf("epoch %d done: train loss %.4f acc %.2f%% (%.0f s)", ep + 1, el / en,
                   100.0 * ec / en, prime_tr_now_s() - tep);
            if (test) {
                double ta, tl;
                if (prime_trainer_evaluate(tr, test, test->n, &ta, &tl) == 0)
                    printf(", test loss %.4f acc %.2f%% (n=%d)", tl, 100.0 * ta, test->n);
            }
            printf("\n");
            fflush(stdout);
        }
        if (p->checkpoint && ckpt_save(tr, p->checkpoint) != 0) { free(order); free(j); return -1; }
    }
    free(order);
    free(j);
    return prime_tr_make_weff(tr, 0, 0);
}

/* ================================================================ export */

int prime_trainer_save_model(prime_trainer *tr, const char *path) {
    if (!tr || !path) return prime_error("train: NULL argument");
    if (tr->p.baseline || !tr->ctx) return prime_error("train: a baseline run has no masks to save");
    if (prime_tr_make_weff(tr, 0, 0) != 0) return -1;
    for (int l = 0; l < PRIME_TR_NW; l++)
        if (prime_set_mask(tr->ctx, tr->li[l], tr->L[l].mask, tr->L[l].n) != 0) return -1;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (prime_save(tr->ctx, &buf, &len) != 0) return -1;
    FILE *f = fopen(path, "wb");
    if (!f) { prime_free_buffer(buf); return prime_error("train: cannot write %s", path); }
    int ok = fwrite(buf, 1, len, f) == len;
    if (fclose(f) != 0) ok = 0;
    prime_free_buffer(buf);
    if (!ok) return prime_error("train: writing %s failed", path);
    return 0;
}

