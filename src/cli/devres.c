/* devres.c - the device-effect tables of docs/results.md (scripts/results-device.sh):
 * accuracy of a shipped classifier under each effect of docs/device.md.
 *
 *   prime-devres MODEL mnist|fashion --table eta|relax|ir|adc [--n N] [--threads K]
 *
 * Every pass runs the same N held-out test samples (events synthesized with
 * seed 1001 + index, as prime-results), all T steps, no early stop, read
 * noise seeded per sample; the accuracy is the label after T steps. Device
 * settings are `key=value` options (prime_set_device_options) on top of the
 * model's device. `--table ir` also prints the column-current error of the
 * IR-drop fast form against the exact nodal solve on the model's arrays.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../data.h"
#include "../device_opts.h"
#include "../prime.h"

#define MAXO 8

typedef struct {
    const uint8_t *model;
    size_t mn;
    const prime_frames *fr;
    int n, tid, nth;
    const char *opts[MAXO];
    int nopt;
    int correct;
    double clipped;
    int rc;
} job;

static void *worker(void *arg) {
    job *j = arg;
    prime_ctx *c = prime_load(j->model, j->mn);
    if (!c || prime_set_device_options(c, j->opts, j->nopt) != 0) {
        fprintf(stderr, "pass setup: %s\n", prime_last_error());
        j->rc = -1, prime_free(c);
        return NULL;
    }
    prime_run r = prime_default_run(); /* no stop */
    size_t per = prime_frames_sample_size(j->fr);
    float *x = malloc(per * sizeof(float));
    const int T = j->fr->T;
    for (int i = j->tid; i < j->n; i += j->nth) {
        const uint8_t *src = j->fr->x + (size_t)i * per;
        for (size_t k = 0; k < per; k++) x[k] = src[k];
        r.noise_seed = 1000003ull * (uint64_t)(i + 1); /* independent of the thread split */
        prime_set_run(c, &r);
        prime_result res;
        if (prime_classify(c, x, T, &res) != 0) { j->rc = -1; break; }
        j->correct += res.label == j->fr->y[i];
        j->clipped += res.counters.adc_clipped;
    }
    free(x);
    prime_free(c);
    return NULL;
}

typedef struct {
    const uint8_t *model;
    size_t mn;
    const prime_frames *fr;
    int n, nth;
} setup;

/* Accuracy (%) of one pass with the given settings; *clipped: clipped ADC
 * conversions per sample. -1 on error. */
static double pass(const setup *s, const char *const *opts, int nopt, double *clipped) {
    pthread_t th[16];
    job jobs[16];
    for (int k = 0; k < s->nth; k++) {
        jobs[k] = (job){s->model, s->mn, s->fr, s->n, k, s->nth, {0}, nopt, 0, 0, 0};
        for (int o = 0; o < nopt; o++) jobs[k].opts[o] = opts[o];
        pthread_create(&th[k], NULL, worker, &jobs[k]);
    }
    int correct = 0, rc = 0;
    double cl = 0;
    for (int k = 0; k < s->nth; k++) pthread_join(th[k], NULL), correct += jobs[k].correct, rc |= jobs[k].rc, cl += jobs[k].clipped;
    if (clipped) *clipped = cl / s->n;
    return rc ? -1 : 100.0 * correct / s->n;
}

/* One pass from a list of settings (NULL-terminated); exits on error. */
static double run(const setup *s, const char *a, const char *b, const char *c, const char *d, double *clipped) {
    const char *o[4] = {a, b, c, d};
    int n = 0;
    while (n < 4 && o[n]) n++;
    double acc = pass(s, o, n, clipped);
    if (acc < 0) { fprintf(stderr, "a pass failed\n"); exit(1); }
    return acc;
}

static void table_eta(const setup *s) {
    static const char *eta[] = {"read_noise=0", "read_noise=0.02", "read_noise=0.05", "read_noise=0.1", "read_noise=0.2"};
    printf("| eta | `weight` w(1 + eta N) (the paper's) | `conductance` G(1 + eta N) (ours) |\n|---|---|---|\n");
    for (int k = 0; k < 5; k++) {
        double w = run(s, "preset=paper", eta[k], NULL, NULL, NULL);
        double g = run(s, "preset=paper", "read_model=conductance", eta[k], NULL, NULL);
        printf("| %s | %.2f %% | %.2f %% |\n", eta[k] + 11, w, g);
        fflush(stdout);
    }
    printf("\n");
}

static void table_relax(const setup *s) {
    static const char *t[] = {"t_read=0", "t_read=1s", "t_read=1h", "t_read=1d", "t_read=2d"};
    static const char *name[] = {"as formed", "1 s", "1 h", "1 day", "2 days"};
    printf("| time since forming | CMO/HfOx drift (`relax_model=cmo`) | Wan et al. 2022 spread (`relax_model=wan2022`) |\n|---|---|---|\n");
    for (int k = 0; k < 5; k++) {
        double a = run(s, "relax_model=cmo", t[k], NULL, NULL, NULL);
        double b = run(s, "relax_model=wan2022", t[k], NULL, NULL, NULL);
        printf("| %s | %.2f %% | %.2f %% |\n", name[k], a, b);
        fflush(stdout);
    }
    printf("\n");
}

/* Column-current error of the fast form against the exact solve, all rows at
 * v_read, every array of every weight layer: max over arrays and columns of
 * |fast - exact| and of |ideal - exact| (the IR effect), in % of the array's
 * ADC full scale (largest sum |w| of a column times v_read). */
static void ir_error(const setup *s, const char *r, const char *tile, double *effect, double *err, int *iters) {
    prime_ctx *c = prime_load(s->model, s->mn);
    const char *o[3] = {r, r[2] == 'r' ? "r_col=0" : NULL, tile};
    char rc_opt[64];
    snprintf(rc_opt, sizeof rc_opt, "r_col=%s", strchr(r, '=') + 1);
    o[1] = rc_opt;
    if (!c || prime_set_device_options(c, o, 3) != 0) { fprintf(stderr, "ir: %s\n", prime_last_error()); exit(1); }
    const prime_arch *a = prime_get_arch(c);
    const prime_device d = prime_get_device(c);
    *effect = *err = 0, *iters = 0;
    for (int l = 0; l < a->n_layers; l++) {
        int rt, ct, n = prime_irdrop_tiles(c, l, &rt, &ct);
        if (n < 0) continue;
        size_t nw = prime_layer_weights(&a->layers[l]);
        const int cols = prime_layer_cols(&a->layers[l]);
        float *w = malloc(nw * sizeof(float));
        prime_get_weights(c, l, 0, w, nw); /* the read's effective weights (G f) */
        prime_devfx_params fx;
        prime_get_devfx(c, &fx);
        const int T = fx.ir_tile ? fx.ir_tile : PRIME_ARRAY_SIZE;
        double *vr = malloc(sizeof(double) * 2 * (size_t)T * T), *vc = vr + (size_t)T * T, ic[512], ii[512];
        const float sc = a->layers[l].scale;
        for (int k = 0; k < n; k++) {
            int rows, pc, it;
            if (prime_irdrop_map(c, l, k, NULL, &rows, &pc, vr, vc, ic, ii, &it) != 0) { fprintf(stderr, "ir map: %s\n", prime_last_error()); exit(1); }
            const int r0 = (k / ct) * T, p0 = (k % ct) * (T / 2);
            double fs = 0;
            for (int j = 0; j < pc / 2; j++) {
                double sum = 0;
                for (int i = 0; i < rows; i++) sum += fabs(w[(size_t)(r0 + i) * cols + p0 + j]);
                fs = fmax(fs, sum * d.v_read);
            }
            for (int j = 0; j < pc / 2; j++) {
                double fast = 0;
                for (int i = 0; i < rows; i++) fast += w[(size_t)(r0 + i) * cols + p0 + j] * d.v_read;
                const double exact = (ic[2 * j] - ic[2 * j + 1]) * sc, ideal = (ii[2 * j] - ii[2 * j + 1]) * sc;
                *err = fmax(*err, 100 * fabs(fast - exact) / fs), *effect = fmax(*effect, 100 * fabs(ideal - exact) / fs);
            }
            if (it > *iters) *iters = it;
        }
        free(w), free(vr);
    }
    prime_free(c);
}

static void table_ir(const setup *s) {
    static const char *r[] = {"r_row=0", "r_row=0.25", "r_row=0.5", "r_row=1", "r_row=2"};
    static const char *tiles[] = {"ir_tile=512", "ir_tile=256", "ir_tile=128"};
    printf("| wire resistance (row = column segment) | array | accuracy | column-current effect (max, %% of ADC full scale) "
           "| fast-form error vs exact solve (max, %% of full scale) |\n|---|---|---|---|---|\n");
    for (int k = 0; k < 5; k++)
        for (int t = 0; t < 3; t++) {
            if (k == 0 && t) continue;
            char rc[32];
            snprintf(rc, sizeof rc, "r_col=%s", r[k] + 6);
            double acc = run(s, r[k], rc, tiles[t], NULL, NULL);
            if (k == 0) { printf("| 0 (ideal) | – | %.2f %% | 0 | 0 |\n", acc); continue; }
            double eff, err;
            int it;
            ir_error(s, r[k], tiles[t], &eff, &err, &it);
            printf("| %s Ω | %s | %.2f %% | %.2f %% | %.3f %% |\n", r[k] + 6, tiles[t] + 8, acc, eff, err);
            fflush(stdout);
        }
    printf("\n");
}

static void table_adc(const setup *s) {
    static const char *bits[] = {"adc_bits=14", "adc_bits=8", "adc_bits=6"};
    static const char *errs[][3] = {{"adc_offset=0", NULL, "ideal converters"},
                                    {"adc_offset=1", NULL, "offset sd 1 LSB"},
                                    {"adc_gain=0.02", NULL, "gain error sd 2 %"},
                                    {"adc_inl=bow", "adc_inl_lsb=2", "INL bow 2 LSB"},
                                    {"adc_inl=sine", "adc_inl_lsb=2", "INL sine 2 LSB (1 period)"}};
    printf("| ADC | converter error (per chip) | accuracy |\n|---|---|---|\n");
    for (int b = 0; b < 3; b++)
        for (int e = 0; e < 5; e++) {
            double acc = run(s, bits[b], errs[e][0], errs[e][1], NULL, NULL);
            printf("| %s bits | %s | %.2f %% |\n", bits[b] + 9, errs[e][2], acc);
            fflush(stdout);
        }
    static const char *fs[] = {"adc_fs=0.5", "adc_fs=0.25", "adc_fs=0.1"};
    printf("\nClipping (`adc_fs` < 1: the range as a fraction of the largest possible column current), 8-bit ADC:\n\n"
           "| adc_fs | accuracy | clipped conversions per sample |\n|---|---|---|\n");
    for (int k = 0; k < 3; k++) {
        double cl;
        double acc = run(s, "adc_bits=8", fs[k], NULL, NULL, &cl);
        printf("| %s | %.2f %% | %.1f |\n", fs[k] + 7, acc, cl);
        fflush(stdout);
    }
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: prime-devres MODEL mnist|fashion --table eta|relax|ir|adc [--n N] [--threads K]\n");
        return 2;
    }
    const char *mpath = argv[1], *dname = argv[2], *table = "eta";
    int n = 500, nth = 2;
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--n")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) nth = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--table")) table = argv[i + 1];
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (nth < 1 || nth > 16 || n < 1) { fprintf(stderr, "--threads 1..16, --n >= 1\n"); return 2; }
    size_t mn;
    uint8_t *model = NULL;
    prime_ctx *c = prime_read_file(mpath, &model, &mn) == 0 ? prime_load(model, mn) : NULL;
    if (!c) { fprintf(stderr, "%s: %s\n", mpath, prime_last_error()); return 1; }
    const int T = prime_get_arch(c)->T;
    const prime_device d0 = prime_get_device(c);
    prime_free(c);
    prime_images im = {0};
    prime_frames fr;
    if (prime_images_load(dname, "test", &im) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    if (n > im.n) n = im.n;
    im.n = n;
    if (prime_frames_from_images(&im, T, 34, 1001, &fr) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    setup s = {model, mn, &fr, n, nth};
    time_t w0 = time(NULL);
    printf("`build/prime-devres %s %s --table %s --n %d` (%d held-out test samples, all %d steps, no early stop; "
           "the model's device: read noise %g (`%s`), %d-bit ADC, %d-bit DAC, other effects off unless set):\n\n",
           mpath, dname, table, n, n, T, (double)d0.read_noise, "conductance", d0.adc_bits, d0.dac_bits);
    if (!strcmp(table, "eta")) table_eta(&s);
    else if (!strcmp(table, "relax")) table_relax(&s);
    else if (!strcmp(table, "ir")) table_ir(&s);
    else if (!strcmp(table, "adc")) table_adc(&s);
    else { fprintf(stderr, "--table eta|relax|ir|adc\n"); return 2; }
    fprintf(stderr, "prime-devres %s %s: %.0f s wall\n", table, dname, difftime(time(NULL), w0));
    prime_frames_free(&fr), prime_images_free(&im), free(model);
    return 0;
}
