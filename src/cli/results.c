/* results.c - evaluates shipped models on held-out data with the simulator
 * and prints the tables of docs/results.md (markdown).
 *
 *   prime-results MODEL DATASET [--n N] [--baseline-log LOG] [--threads K]
 *
 * DATASET is mnist or fashion (test split, events synthesized with seed 1001
 * + index: the trainer's convention, docs/data.md). For every sample the
 * network runs all T steps in step mode, so one pass gives the accuracy and
 * energy at every early-stop threshold (stopping never changes the steps
 * before it). Passes: noise 0 (with the threshold sweep), read noise 0.02,
 * 0.05, 0.1, 0.2, and the ideal ADC.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../data.h"
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

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    if (b && fread(b, 1, (size_t)len, f) != (size_t)len) free(b), b = NULL;
    fclose(f);
    *n = (size_t)len;
    return b;
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

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: prime-results MODEL mnist|fashion [--n N] [--baseline-log LOG] [--threads K]\n");
        return 2;
    }
    const char *mpath = argv[1], *dname = argv[2], *blog = NULL;
    int n = 2000, nthreads = 2;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--baseline-log")) blog = argv[i + 1];
        else if (!strcmp(argv[i], "--threads")) nthreads = atoi(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (nthreads < 1 || nthreads > 16) nthreads = 2;
    size_t mn;
    uint8_t *model = read_all(mpath, &mn);
    prime_ctx *c = model ? prime_load(model, mn) : NULL;
    if (!c) { fprintf(stderr, "%s: %s\n", mpath, model ? prime_last_error() : "cannot read"); return 1; }
    int T = prime_get_arch(c)->T;
    prime_device d0 = prime_get_device(c);
    prime_free(c);
    if (T > MAXT) { fprintf(stderr, "T = %d > %d\n", T, MAXT); return 1; }
    prime_images im;
    if (prime_images_load(dname, "test", &im) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    if (n > im.n) n = im.n;
    im.n = n;
    prime_frames fr;
    if (prime_frames_from_images(&im, T, 34, 1001, &fr) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    sample_trace *tr = calloc((size_t)n, sizeof *tr);
    double t0 = (double)clock();
    time_t w0 = time(NULL);
    double base_acc = baseline_from_log(blog);

    printf("### %s on %s (%d held-out test samples, T = %d)\n\n", mpath, dname, n, T);
    printf("Command: `build/prime-results %s %s --n %d%s%s`\n\n", mpath, dname, n, blog ? " --baseline-log " : "", blog ? blog : "");
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
