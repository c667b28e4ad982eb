/* results.c - evaluates shipped models on held-out data with the simulator
 * and prints the tables of docs/results.md (markdown).
 *
 *   prime-results MODEL DATASET [--n N] [--baseline-log LOG] [--threads K] [--frames F.pfrm]
 *   prime-results inpaint DATASET --masks M [--software S] [--clf C] [--n N]   (inpainting, below)
 *   prime-results shapes DATASET --masks M [--software S] [--rect ...] [--mask-png ...]
 *
 * DATASET is mnist or fashion (test split, events synthesized with seed 1001
 * + index: the trainer's convention, docs/data.md). For every sample the
 * network runs all T steps in step mode, so one pass gives the accuracy and
 * energy at every early-stop threshold (stopping never changes the steps
 * before it). Passes: noise 0 (with the threshold sweep), read noise 0.02,
 * 0.05, 0.1, 0.2, and the ideal ADC. --frames F.pfrm takes the samples from a
 * frame file instead (docs/data.md: e.g. scripts/dvs_emulator.py's independent
 * event model, or scripts/event-frames.mjs with other event parameters).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../classifier.h"
#include "../data.h"
#include "../inpaint_eval.h"
#include "../prime.h"

#define MAXT 16
static const float THRESHOLDS[] = {0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 0.95f};
static const float ALPHAS[] = {2.0f, 1.0f, 0.5f};
#define NAL (int)(sizeof ALPHAS / sizeof ALPHAS[0])
#define NTH (int)(sizeof THRESHOLDS / sizeof THRESHOLDS[0])

typedef struct {
    int label[MAXT];       /* argmax after each step */
    float logits[MAXT][PRIME_MAX_CLASSES]; /* mean output membrane after each step */
    int n_classes;
    double energy[MAXT];   /* energy after each step, pJ */
    double baseline;       /* digital baseline, full T */
} sample_trace;

typedef struct {
    const uint8_t *model;
    size_t model_n;
    const prime_frames *fr;
    int n, T, tid, nthreads;
    prime_device dev;
    sample_trace *out;
    int rc;
} job;

/* Runs the samples tid, tid + nthreads, ... of a pass; fills their traces. */
static void *worker(void *arg) {
    job *j = arg;
    prime_ctx *c = prime_load(j->model, j->model_n);
    if (!c || prime_set_device(c, &j->dev) != 0) { j->rc = -1; prime_free(c); return NULL; }
    prime_run r = prime_default_run(); /* no stop, alpha 2, noise seed 1 */
    prime_set_run(c, &r);
    size_t per = prime_frames_sample_size(j->fr);
    float *x = malloc(per * sizeof(float));
    for (int i = j->tid; i < j->n; i += j->nthreads) {
        const uint8_t *src = j->fr->x + (size_t)i * per;
        for (size_t k = 0; k < per; k++) x[k] = src[k];
        /* noise stream per sample, independent of the thread split */
        r.noise_seed = 1000003ull * (uint64_t)(i + 1);
        prime_set_run(c, &r);
        prime_begin(c, x, j->T);
        sample_trace *s = &j->out[i];
        prime_result res;
        for (int t = 0; t < j->T; t++) {
            prime_step(c);
            prime_result_get(c, &res);
            s->label[t] = res.label, s->energy[t] = res.energy_pj, s->n_classes = res.n_classes;
            memcpy(s->logits[t], res.logits, sizeof res.logits);
        }
        s->baseline = res.baseline_pj;
    }
    free(x);
    prime_free(c);
    return NULL;
}

/* One pass over n samples with device d; traces in out[n]. 0 or -1. */
static int run_pass(const uint8_t *model, size_t mn, const prime_frames *fr, int n, int T,
                    const prime_device *d, int nthreads, sample_trace *out) {
    pthread_t th[16];
    job jobs[16];
    for (int k = 0; k < nthreads; k++) {
        jobs[k] = (job){model, mn, fr, n, T, k, nthreads, *d, out, 0};
        pthread_create(&th[k], NULL, worker, &jobs[k]);
    }
    int rc = 0;
    for (int k = 0; k < nthreads; k++) pthread_join(th[k], NULL), rc |= jobs[k].rc;
    return rc;
}

/* max softmax(logits / alpha), as the core's confidence policy computes it. */
static double confidence(const float *lg, int K, float alpha) {
    double mx = -1e300, den = 0;
    for (int k = 0; k < K; k++) if ((double)lg[k] / alpha > mx) mx = (double)lg[k] / alpha;
    for (int k = 0; k < K; k++) den += exp((double)lg[k] / alpha - mx);
    return 1.0 / den;
}

/* Accuracy, mean steps and mean energy when stopping at threshold th with
 * temperature alpha (th > 1: never stop). */
static void summarize(const sample_trace *s, const uint8_t *y, int n, int T, float th, float alpha,
                      double *acc, double *steps, double *energy, double *base) {
    double a = 0, st = 0, e = 0, b = 0;
    for (int i = 0; i < n; i++) {
        int t = T - 1;
        for (int k = 0; k < T && th <= 1; k++)
            if (confidence(s[i].logits[k], s[i].n_classes, alpha) > th) { t = k; break; }
        a += s[i].label[t] == y[i], st += t + 1, e += s[i].energy[t], b += s[i].baseline;
    }
    *acc = 100 * a / n, *steps = st / n, *energy = e / n, *base = b / n;
}

/* The last "test accuracy" percentage in a trainer log, or -1. */
static double baseline_from_log(const char *path) {
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return -1;
    char line[1024];
    double v = -1;
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "test accuracy");
        if (!p) continue;
        p = strpbrk(p, "0123456789");
        if (p) v = atof(p);
    }
    fclose(f);
    return v;
}

/* ================================================================ inpainting
 *
 *   prime-results inpaint DATASET --masks M [--software S] [--clf C] [--n N] [--threads K]
 *   prime-results shapes  DATASET --masks M [--software S] [--n N] [--threads K]
 *                         [--rect X,Y,W,H]... [--mask-png FILE]...
 *
 * inpaint: the metrics table of docs/inpainting.md (centre 8x8 hole) and one line per
 * target; shapes: MSE / PSNR / SSIM per hole shape (rectangles, free-form
 * masks given as images: white = unknown, decoded to 32x32 by stb_image;
 * without --rect / --mask-png, a default set of 13 shapes). Rectangles are
 * X,Y,W,H in pixels of the 32x32 image. Images: the first N of the test split, 32x32 in
 * [-1, 1]. Every number through src/inpaint_eval.c. */

typedef struct {
    const char *data, *masks, *software, *clf;
    int n, threads;
    uint8_t *mb, *sb;   /* model bytes (software may be NULL) */
    size_t mn, sn;
    float *x;           /* n images */
    uint8_t *y;         /* labels */
} ip_ctx;

/* Reads a .pvae file; NULL (and a line on stderr) if it is missing or bad. */
static uint8_t *read_vae(const char *path, size_t *n, int *ch) {
    uint8_t *b = NULL;
    prime_vae *v = path && prime_read_file(path, &b, n) == 0 ? prime_vae_load(b, *n) : NULL;
    if (!v) {
        if (path) fprintf(stderr, "%s: %s\n", path, prime_last_error());
        free(b);
        return NULL;
    }
    if (ch) *ch = prime_vae_get_arch(v)->ch;
    prime_vae_free(v);
    return b;
}

/* IS and classifier accuracy of n composites; is = -1 without a classifier. */
static void is_of(prime_clf *clf, const float *comp, const uint8_t *y, int n, double *is, double *acc) {
    *is = -1, *acc = -1;
    if (!clf) return;
    int K = prime_clf_get_arch(clf)->classes;
    float *pr = malloc(sizeof(float) * (size_t)n * K);
    if (pr && prime_clf_predict(clf, comp, n, pr) == 0)
        *is = prime_inception_score(pr, n, K), *acc = prime_clf_accuracy(pr, y, n, K);
    free(pr);
}

typedef struct {
    prime_inpaint_stats st;
    double is, acc;
    int ok;
} ip_row;

static void print_row(const char *model, const char *noise, const char *stop, const ip_row *r, int energy) {
    char is[32] = "–", acc[32] = "–", steps[32] = "–", saved[32] = "–", en[32] = "–", ratio[32] = "–";
    if (r->is >= 0) snprintf(is, sizeof is, "%.3f", r->is), snprintf(acc, sizeof acc, "%.1f %%", r->acc);
    if (r->st.T) snprintf(steps, sizeof steps, "%.2f", r->st.steps), snprintf(saved, sizeof saved, "%.1f %%", 100 * (1 - r->st.steps / r->st.T));
    if (energy) snprintf(en, sizeof en, "%.0f", r->st.energy_pj / 1e3), snprintf(ratio, sizeof ratio, "%.1fx", r->st.baseline_pj / r->st.energy_pj);
    printf("| %s | %s | %s | %.4f | %.2f | %.4f | %s | %s | %s | %s | %s | %s |\n", model, noise, stop, r->st.mse,
           r->st.psnr, r->st.ssim, is, acc, steps, saved, en, ratio);
}

/* One evaluated configuration (model bytes, noise, policy) with its IS. */
static int ip_run(const ip_ctx *c, const uint8_t *mb, size_t mn, float noise, int policy, prime_clf *clf, float *comp, ip_row *r) {
    if (prime_inpaint_eval(mb, mn, c->x, c->n, NULL, noise, policy, 0, c->threads, &r->st, comp) != 0) {
        fprintf(stderr, "%s\n", prime_last_error());
        return -1;
    }
    is_of(clf, comp, c->y, c->n, &r->is, &r->acc);
    r->ok = 1;
    return 0;
}

static const char *met(int ok) { return ok ? "**met**" : "**not met**"; }

static int inpaint_table(ip_ctx *c) {
    time_t w0 = time(NULL);
    int ch = 0, sch = 0;
    c->mb = read_vae(c->masks, &c->mn, &ch);
    if (!c->mb) { printf("### Inpainting on %s: model %s missing or unreadable, skipped\n\n", c->data, c->masks); return 1; }
    c->sb = read_vae(c->software, &c->sn, &sch);
    uint8_t *cb = NULL;
    size_t cn;
    prime_clf *clf = c->clf && prime_read_file(c->clf, &cb, &cn) == 0 ? prime_clf_load(cb, cn) : NULL;
    if (c->clf && !clf) fprintf(stderr, "%s: %s\n", c->clf, prime_last_error());
    free(cb);
    float *comp = malloc(sizeof(float) * 1024 * (size_t)c->n);
    printf("### Inpainting on %s (%d held-out test images, centre 8x8 hole)\n\n", c->data, c->n);
    printf("Command: `build/prime-results inpaint %s --masks %s%s%s%s%s --n %d`\n\n", c->data, c->masks,
           c->sb ? " --software " : "", c->sb ? c->software : "", clf ? " --clf " : "", clf ? c->clf : "", c->n);
    printf("Memristor masks: `%s` (%d channels). Software baseline (float weights, same shape): ", c->masks, ch);
    if (c->sb) printf("`%s` (%d channels).\n", c->software, sch);
    else printf("%s.\n", c->software ? "**missing** (skipped; its rows and the targets that need it are absent)" : "not given");
    if (clf)
        printf("IS = Inception Score of the %d composites (known pixels from the image, the hole from the network), one split,\n"
               "with the repo's classifier `%s` (MLP, %.2f %% test accuracy; it stands in for the Inception network,\n"
               "docs/inpainting.md); \"clf acc\" = that classifier's accuracy on the composites.\n\n",
               c->n, c->clf, prime_clf_get_arch(clf)->test_acc);
    else printf("IS: no classifier (%s), the IS columns are empty.\n\n", c->clf ? c->clf : "--clf not given");
    printf("| model | read noise | early stop | MSE (hole) | PSNR dB (hole) | SSIM | IS | clf acc | steps | load saved | energy nJ / image | vs digital |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    const float noises[3] = {0, 0.05f, 0.1f};
    ip_row m[3][2], sw[2], ref[3];
    memset(m, 0, sizeof m), memset(sw, 0, sizeof sw), memset(ref, 0, sizeof ref);
    for (int k = 0; k < 3; k++)
        for (int pol = 0; pol < 2; pol++) {
            if (ip_run(c, c->mb, c->mn, noises[k], pol, clf, comp, &m[k][pol]) != 0) return 1;
            char nz[16];
            snprintf(nz, sizeof nz, "%.2f", noises[k]);
            print_row("memristor masks", nz, pol ? "convergence" : "none", &m[k][pol], 1);
            fflush(stdout);
        }
    for (int pol = 0; pol < 2 && c->sb; pol++) {
        if (ip_run(c, c->sb, c->sn, 0, pol, clf, comp, &sw[pol]) != 0) return 1;
        print_row("software baseline", "–", pol ? "convergence" : "none", &sw[pol], 0);
    }
    /* references: the clean images (no hole: IS only), constant fills */
    uint8_t hole[1024] = {0};
    prime_inpaint_rect(hole, 32, 12, 12, 8, 8);
    is_of(clf, c->x, c->y, c->n, &ref[0].is, &ref[0].acc);
    char is[32] = "–", acc[32] = "–";
    if (ref[0].is >= 0) snprintf(is, sizeof is, "%.3f", ref[0].is), snprintf(acc, sizeof acc, "%.1f %%", ref[0].acc);
    printf("| clean test images (no hole) | – | – | – | – | – | %s | %s | – | – | – | – |\n", is, acc);
    const float fills[2] = {-1, 0};
    for (int k = 0; k < 2; k++) {
        prime_inpaint_fill(c->x, c->n, 32, hole, fills[k], &ref[1 + k].st, comp);
        is_of(clf, comp, c->y, c->n, &ref[1 + k].is, &ref[1 + k].acc);
        print_row(k ? "fill the hole with 0 (no model)" : "fill the hole with −1 (no model)", "–", "–", &ref[1 + k], 0);
    }
    printf("\nMSE and PSNR over the 64 hole pixels (PSNR: peak-to-peak 2, mean over images), SSIM over the whole\n"
           "composite (7x7 window); load saved = 1 − mean steps / T; energy on the macro (docs/device.md), \"vs digital\" =\n"
           "the dense digital baseline (%.0f nJ per image at noise 0) / this. The software baseline runs no macro.\n\n",
           m[0][0].st.baseline_pj / 1e3);
    /* targets */
    printf("Targets (docs/inpainting.md):\n\n");
    if (c->sb) {
        printf("- Masked-region PSNR within 1 dB of the software baseline (%.2f dB, no early stop):", sw[0].st.psnr);
        for (int k = 0; k < 3; k++) {
            double d = m[k][0].st.psnr - sw[0].st.psnr;
            printf("%s read noise %.2f: %.2f dB (%+.2f) %s", k ? ";" : "", noises[k], m[k][0].st.psnr, d, met(d >= -1));
        }
        printf(".\n");
        if (clf) {
            printf("- IS within 10 %% of the software baseline (%.3f):", sw[0].is);
            for (int k = 0; k < 3; k++) {
                double d = 100 * (m[k][0].is / sw[0].is - 1);
                printf("%s read noise %.2f: %.3f (%+.1f %%) %s", k ? ";" : "", noises[k], m[k][0].is, d, met(fabs(d) <= 10));
            }
            printf(".\n");
        }
    } else printf("- PSNR and IS against the software baseline: not evaluated (no software baseline model).\n");
    printf("- Early stop saves >= 12.5 %% of the timesteps at <= 0.3 dB PSNR loss (convergence stop vs all %d steps):", m[0][0].st.T);
    for (int k = 0; k < 3; k++) {
        double saved = 100 * (1 - m[k][1].st.steps / m[k][1].st.T), loss = m[k][0].st.psnr - m[k][1].st.psnr;
        printf("%s read noise %.2f: %.1f %% saved, %.2f dB lost %s", k ? ";" : "", noises[k], saved, loss, met(saved >= 12.5 && loss <= 0.3));
    }
    if (c->sb) {
        double saved = 100 * (1 - sw[1].st.steps / sw[1].st.T), loss = sw[0].st.psnr - sw[1].st.psnr;
        printf("; software baseline: %.1f %% saved, %.2f dB lost", saved, loss);
    }
    printf(".\n\n");
    /* the stop's threshold m_th (a parameter; the paper's 0.2 was tuned on its chip) */
    const float mths[7] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.7f, 1.0f};
    printf("Early-stop threshold sweep (memristor masks, convergence stop: m_t fell over 3 steps and m_t < m_th; "
           "load saved, and PSNR lost against all %d steps at the same read noise):\n\n"
           "| m_th | read noise 0: saved | dB lost | read noise 0.05: saved | dB lost |\n|---|---|---|---|---|\n", m[0][0].st.T);
    double best[2] = {-1, -1}, bestm[2] = {0, 0};
    for (int q = 0; q < 7; q++) {
        printf("| %.1f |", mths[q]);
        for (int k = 0; k < 2; k++) {
            prime_inpaint_stats st = m[k][1].st; /* the default m_th: the convergence row above */
            if (mths[q] != prime_vae_default_run().m_th &&
                prime_inpaint_eval(c->mb, c->mn, c->x, c->n, NULL, noises[k], 1, mths[q], c->threads, &st, NULL) != 0) {
                fprintf(stderr, "%s\n", prime_last_error());
                return 1;
            }
            double saved = 100 * (1 - st.steps / st.T), loss = m[k][0].st.psnr - st.psnr;
            printf(" %.1f %% | %.2f |", saved, loss);
            if (loss <= 0.3 && saved > best[k]) best[k] = saved, bestm[k] = mths[q];
        }
        printf("\n");
        fflush(stdout);
    }
    printf("\nMost load saved at <= 0.3 dB lost: read noise 0: %.1f %% (m_th %.1f) %s; read noise 0.05: %.1f %% (m_th %.1f) %s.\n",
           best[0], bestm[0], met(best[0] >= 12.5), best[1], bestm[1], met(best[1] >= 12.5));
    printf("\nEvaluated in %.0f s wall with %d threads.\n\n", difftime(time(NULL), w0), c->threads);
    free(comp), free(c->mb), free(c->sb);
    prime_clf_free(clf);
    return 0;
}

/* shapes: one row per hole; cells "MSE | PSNR | SSIM" of the model (or fill). */
typedef struct {
    char name[96];
    uint8_t hole[1024];
} shape;

static double psnr_of(double mse) { return mse > 0 ? 10 * log10(4 / mse) : 99; }

static int shapes_table(ip_ctx *c, shape *sh, int ns) {
    time_t w0 = time(NULL);
    int ch = 0;
    c->mb = read_vae(c->masks, &c->mn, &ch);
    if (!c->mb) { printf("mask-shape study on %s: model %s missing or unreadable, skipped\n", c->data, c->masks); return 1; }
    c->sb = read_vae(c->software, &c->sn, NULL);
    printf("Mask shapes on %s: %d test images, read noise 0, 14-bit ADC, all 16 steps; masks `%s`%s%s%s.\n"
           "MSE (mean over images) and PSNR = 10 log10(4 / MSE) inside the hole (dB; the PSNR of the mean MSE, so a\n"
           "few images with an empty, exactly filled hole do not dominate), SSIM over the composite; ink = share of\n"
           "hole pixels that are stroke (> 0) in the clean image.\n\n", c->data, c->n, c->masks, c->sb ? ", software baseline `" : "", c->sb ? c->software : "", c->sb ? "`" : "");
    printf("| hole | pixels | ink | masks MSE | PSNR | SSIM |%s fill −1 MSE | PSNR | SSIM |\n|---|---|---|---|---|---|%s---|---|---|\n",
           c->sb ? " software MSE | PSNR | SSIM |" : "", c->sb ? "---|---|---|" : "");
    for (int s = 0; s < ns; s++) {
        int px = 0;
        double ink = 0;
        for (int p = 0; p < 1024; p++) px += sh[s].hole[p] != 0;
        for (int i = 0; i < c->n; i++)
            for (int p = 0; p < 1024; p++) ink += sh[s].hole[p] && c->x[(size_t)i * 1024 + p] > 0;
        if (px == 0) { printf("| %s | 0 | empty hole, skipped |\n", sh[s].name); continue; }
        prime_inpaint_stats a, b, f;
        if (prime_inpaint_eval(c->mb, c->mn, c->x, c->n, sh[s].hole, 0, 0, 0, c->threads, &a, NULL) != 0 ||
            (c->sb && prime_inpaint_eval(c->sb, c->sn, c->x, c->n, sh[s].hole, 0, 0, 0, c->threads, &b, NULL) != 0) ||
            prime_inpaint_fill(c->x, c->n, 32, sh[s].hole, -1, &f, NULL) != 0) {
            fprintf(stderr, "%s\n", prime_last_error());
            return 1;
        }
        printf("| %s | %d | %.0f %% | %.4f | %.2f | %.4f |", sh[s].name, px, 100 * ink / ((double)px * c->n), a.mse, psnr_of(a.mse), a.ssim);
        if (c->sb) printf(" %.4f | %.2f | %.4f |", b.mse, psnr_of(b.mse), b.ssim);
        printf(" %.4f | %.2f | %.4f |\n", f.mse, psnr_of(f.mse), f.ssim);
        fflush(stdout);
    }
    printf("\nEvaluated in %.0f s wall with %d threads.\n", difftime(time(NULL), w0), c->threads);
    free(c->mb), free(c->sb);
    return 0;
}

/* A free-form hole from an image file: decoded to 32x32 gray (area
 * average), hole where the gray level is >= 0.5 (white = unknown). 0 or -1. */
static int hole_from_image(const char *path, uint8_t *hole) {
    uint8_t *b;
    size_t n;
    float g[1024];
    if (prime_read_file(path, &b, &n) != 0) return -1;
    int rc = prime_image_decode(b, n, 32, 32, 0, g);
    free(b);
    for (int p = 0; p < 1024 && rc == 0; p++) hole[p] = g[p] >= 0.5f;
    return rc;
}

static int inpaint_main(int argc, char **argv) {
    ip_ctx c = {.data = argv[2], .n = 200, .threads = 2};
    static shape sh[32];
    int ns = 0, shapes = !strcmp(argv[1], "shapes");
    char clf_default[64];
    snprintf(clf_default, sizeof clf_default, "models/is-%s.pclf", c.data);
    c.clf = clf_default;
    for (int i = 3; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        int x, y, w, h;
        if (!strcmp(k, "--masks")) c.masks = v;
        else if (!strcmp(k, "--software")) c.software = v;
        else if (!strcmp(k, "--clf")) c.clf = v;
        else if (!strcmp(k, "--n")) c.n = atoi(v);
        else if (!strcmp(k, "--threads")) c.threads = atoi(v);
        else if (!strcmp(k, "--rect") && ns < 32 && sscanf(v, "%d,%d,%d,%d", &x, &y, &w, &h) == 4) {
            memset(sh[ns].hole, 0, 1024);
            prime_inpaint_rect(sh[ns].hole, 32, x, y, w, h);
            snprintf(sh[ns++].name, sizeof sh[0].name, "rectangle %dx%d at (%d, %d)", w, h, x, y);
        } else if (!strcmp(k, "--mask-png") && ns < 32) {
            if (hole_from_image(v, sh[ns].hole) != 0) { fprintf(stderr, "%s: %s\n", v, prime_last_error()); return 1; }
            snprintf(sh[ns++].name, sizeof sh[0].name, "free-form `%s`", v);
        } else { fprintf(stderr, "unknown option %s\n", k); return 2; }
    }
    if (!c.masks || c.n < 1 || c.threads < 1 || c.threads > 16) { fprintf(stderr, "--masks FILE required; --n >= 1; --threads 1..16\n"); return 2; }
    int n = prime_images_load32(c.data, "test", c.n, &c.x, &c.y);
    if (n < 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    c.n = n;
    int rc;
    if (shapes) {
        if (ns == 0) { /* the default study: sizes and positions of rectangles, two free-form masks */
            static const int R[][4] = {{12, 12, 8, 8}, {14, 14, 4, 4}, {10, 10, 12, 12}, {8, 8, 16, 16}, {12, 4, 8, 8},
                                       {4, 12, 8, 8}, {18, 18, 8, 8}, {0, 0, 8, 8}, {0, 13, 32, 6}, {13, 0, 6, 32}, {0, 16, 32, 16}};
            for (int k = 0; k < (int)(sizeof R / sizeof R[0]); k++) {
                memset(sh[ns].hole, 0, 1024);
                prime_inpaint_rect(sh[ns].hole, 32, R[k][0], R[k][1], R[k][2], R[k][3]);
                snprintf(sh[ns++].name, sizeof sh[0].name, "rectangle %dx%d at (%d, %d)", R[k][2], R[k][3], R[k][0], R[k][1]);
            }
            const char *png[] = {"tests/assets/mask-stroke.png", "tests/assets/mask-blobs.png"};
            for (int k = 0; k < 2; k++)
                if (hole_from_image(png[k], sh[ns].hole) == 0) snprintf(sh[ns++].name, sizeof sh[0].name, "free-form `%s`", png[k]);
                else fprintf(stderr, "%s: %s (skipped)\n", png[k], prime_last_error());
        }
        rc = shapes_table(&c, sh, ns);
    } else rc = inpaint_table(&c);
    free(c.x), free(c.y);
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 3 && (!strcmp(argv[1], "inpaint") || !strcmp(argv[1], "shapes"))) return inpaint_main(argc, argv);
    if (argc < 3) {
        fprintf(stderr, "usage: prime-results MODEL mnist|fashion [--n N] [--baseline-log LOG] [--threads K]\n"
                        "       prime-results inpaint mnist|fashion --masks M.pvae [--software S.pvae] [--clf C.pclf] [--n N] [--threads K]\n"
                        "       prime-results shapes mnist|fashion --masks M.pvae [--software S.pvae] [--n N] [--rect X,Y,W,H]... [--mask-png F]...\n");
        return 2;
    }
    const char *mpath = argv[1], *dname = argv[2], *blog = NULL, *fpath = NULL;
    int n = 2000, nthreads = 2;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--baseline-log")) blog = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) nthreads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--frames")) fpath = argv[i + 1];
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (nthreads < 1 || nthreads > 16) nthreads = 2;
    size_t mn;
    uint8_t *model = NULL;
    prime_ctx *c = prime_read_file(mpath, &model, &mn) == 0 ? prime_load(model, mn) : NULL;
    if (!c) { fprintf(stderr, "%s: %s\n", mpath, prime_last_error()); return 1; }
    int T = prime_get_arch(c)->T;
    prime_device d0 = prime_get_device(c);
    prime_free(c);
    if (T > MAXT) { fprintf(stderr, "T = %d > %d\n", T, MAXT); return 1; }
    prime_images im = {0};
    prime_frames fr;
    if (fpath) { /* samples from a frame file: its own events, its own labels */
        if (prime_frames_load_any(fpath, &fr) != 0) { fprintf(stderr, "%s: %s\n", fpath, prime_last_error()); return 1; }
        if (fr.T != T || fr.c != 2 || fr.h != 34 || fr.w != 34) {
            fprintf(stderr, "%s: frames of %dx%dx%dx%d, the model takes %dx2x34x34\n", fpath, fr.T, fr.c, fr.h, fr.w, T);
            return 1;
        }
        if (n > fr.n) n = fr.n;
    } else {
        if (prime_images_load(dname, "test", &im) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
        if (n > im.n) n = im.n;
        im.n = n;
        if (prime_frames_from_images(&im, T, 34, 1001, &fr) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    }
    sample_trace *tr = calloc((size_t)n, sizeof *tr);
    double t0 = (double)clock();
    time_t w0 = time(NULL);
    double base_acc = baseline_from_log(blog);

    if (fpath) printf("### %s on %s, events from %s (%d held-out test samples, T = %d)\n\n", mpath, dname, fpath, n, T);
    else printf("### %s on %s (%d held-out test samples, T = %d)\n\n", mpath, dname, n, T);
    printf("Command: `build/prime-results %s %s --n %d%s%s%s%s`\n\n", mpath, dname, n, blog ? " --baseline-log " : "",
           blog ? blog : "", fpath ? " --frames " : "", fpath ? fpath : "");
    if (base_acc >= 0) printf("Software baseline (same shape, trained weights, no device): **%.2f %%** test accuracy (from %s).\n\n", base_acc, blog);

    /* accuracy against read noise */
    printf("| device | read noise | accuracy | vs software baseline |\n|---|---|---|---|\n");
    prime_device d = d0;
    d.read_noise = 0, d.adc_bits = 0;
    double acc, st, en, ba;
    if (run_pass(model, mn, &fr, n, T, &d, nthreads, tr)) { fprintf(stderr, "pass failed: %s\n", prime_last_error()); return 1; }
    summarize(tr, fr.y, n, T, 2.0f, 2.0f, &acc, &st, &en, &ba);
    char dv[32] = "n/a";
    if (base_acc >= 0) snprintf(dv, sizeof dv, "%+.2f", acc - base_acc);
    printf("| ideal ADC | 0 | %.2f %% | %s |\n", acc, dv);
    const float noises[] = {0.0f, 0.02f, 0.05f, 0.1f, 0.2f};
    sample_trace *clean = calloc((size_t)n, sizeof *clean);
    for (int k = 0; k < 5; k++) {
        d = d0, d.read_noise = noises[k];
        if (run_pass(model, mn, &fr, n, T, &d, nthreads, tr)) { fprintf(stderr, "pass failed\n"); return 1; }
        if (k == 0) memcpy(clean, tr, (size_t)n * sizeof *tr);
        summarize(tr, fr.y, n, T, 2.0f, 2.0f, &acc, &st, &en, &ba);
        if (base_acc >= 0) snprintf(dv, sizeof dv, "%+.2f", acc - base_acc);
        printf("| %d-bit ADC | %.2f | %.2f %% | %s |\n", d0.adc_bits, noises[k], acc, dv);
    }
    /* early stop sweep at noise 0 */
    double acc_full, st_full, e_full, b_full;
    summarize(clean, fr.y, n, T, 2.0f, 2.0f, &acc_full, &st_full, &e_full, &b_full);
    printf("\nEarly stop (p = softmax(mean logits / alpha), stop when max p > threshold; the paper uses alpha 2,\n"
           "threshold 0.8), %d-bit ADC, no read noise. Load saved = 1 - mean timesteps / T.\n\n", d0.adc_bits);
    printf("| alpha | threshold | accuracy | change | mean timesteps | load saved | energy / sample | vs digital baseline |\n"
           "|---|---|---|---|---|---|---|---|\n");
    printf("| – | off | %.2f %% | 0 | %.2f | 0 %% | %.1f nJ | %.1fx |\n", acc_full, st_full, e_full / 1e3, b_full / e_full);
    for (int a = 0; a < NAL; a++)
        for (int k = 0; k < NTH; k++) {
            summarize(clean, fr.y, n, T, THRESHOLDS[k], ALPHAS[a], &acc, &st, &en, &ba);
            printf("| %.1f | %.2f | %.2f %% | %+.2f | %.2f | %.1f %% | %.1f nJ | %.1fx |\n", ALPHAS[a], THRESHOLDS[k], acc,
                   acc - acc_full, st, 100 * (1 - st / T), en / 1e3, ba / en);
        }
    printf("\nDigital baseline: %.1f nJ per sample (dense network, all %d steps; docs/device.md).\n", b_full / 1e3, T);
    printf("Evaluated in %.0f s wall (%.0f s CPU) with %d threads.\n\n", difftime(time(NULL), w0), ((double)clock() - t0) / CLOCKS_PER_SEC, nthreads);
    free(tr), free(clean), free(model);
    prime_frames_free(&fr);
    prime_images_free(&im);
    return 0;
}
