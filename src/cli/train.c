/* prime-train - trains PRIME masks (or a software baseline) on synthetic N-MNIST.
 *
 *   prime-train --data mnist --epochs 8 --seed 1 --out models/nmnist-digits.prime
 *
 * Frames are synthesized once per (dataset, split, T) and cached under data/.
 * After training the masks are saved as a .prime model, reloaded with
 * prime_load and evaluated with the real simulator (ideal device: no read
 * noise, no ADC quantization) next to the trainer's own forward pass.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "train.h"
#include "cli_opts.h"
#include "augment.h"
#include "data.h"
#include "prime.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(void) {
    fprintf(stderr,
        "usage: prime-train --data mnist|fashion --out FILE [options]\n"
        "  --epochs E (8)  --batch B (128)  --opt adam|sgd (adam)  --lr X (1e-3; sgd 0.1)\n"
        "  --wd X (5e-4)  --momentum X (0.9)  --sparsity S (0.5)  --seed S (1)  --T T (10)\n"
        "  --train-limit N  --test-limit N  --threads N (2)  --data-seed S (1)\n"
        "  --channels C1,C2 (12,64): output channels of the two conv layers\n"
        "  --motion 0|1 (0): events with the image (0) or the camera (1) following the\n"
        "             saccades (docs/data.md); frame caches are kept apart (-m1)\n"
        "  --augment K: train on K augmented copies of every training image (event\n"
        "             parameters, shift, blur, gamma, event drop drawn per copy; augment.h)\n"
        "             beside the default events; --aug KEY=VALUE sets a range, e.g.\n"
        "             --aug p_camera=0.5 --aug contrast_hi=0.3 (docs/training.md, Augmentation)\n"
        "  --hw-aware [--read-noise 0.05] [--noise-model weight|conductance]: read noise on\n"
        "             the weights in training, fresh per batch: w (1 + eta N) (weight, the\n"
        "             paper's; default) or w + eta sqrt(G+^2 + G-^2) s N on every pair\n"
        "             (conductance, the simulator's default read model)\n"
        "  --baseline  --checkpoint FILE [--resume]\n"
        "  --bench N: time N batches of training (no --out, no evaluation) and print\n"
        "             one JSON line: samples/s by CPU time and by wall time\n");
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Loads cached frames or synthesizes and caches them; limit > 0 keeps only
 * the first `limit` samples (image i always gets event seed dseed + i, so a
 * limited set equals the head of the full one). 0 or -1. */
static int get_frames(const char *name, const char *split, int T, uint64_t dseed, int motion,
                      int limit, prime_frames *out) {
    char path[512], full[512];
    const char *m = motion ? "-m1" : ""; /* the synthesizer's fingerprint is of motion 0 */
    mkdir("data", 0755);
    snprintf(full, sizeof full, "data/frames-%s-%s-T%d-s%llu%s.bin", name, split, T,
             (unsigned long long)dseed, m);
    snprintf(path, sizeof path, "data/frames-%s-%s-T%d-s%llu%s-n%d.bin", name, split, T,
             (unsigned long long)dseed, m, limit);
    if (prime_frames_load(full, out) == 0 || (limit > 0 && prime_frames_load(path, out) == 0)) {
        printf("frames: %s/%s %d samples, cached\n", name, split, out->n);
        if (limit > 0 && limit < out->n) out->n = limit;
        return 0;
    }
    prime_images im;
    if (prime_images_load(name, split, &im) != 0) return -1;
    if (limit > 0 && limit < im.n) im.n = limit;
    else snprintf(path, sizeof path, "%s", full);
    double t0 = now_s();
    prime_event_params ev = prime_default_event_params();
    ev.seed = dseed, ev.motion = motion ? PRIME_MOTION_CAMERA : PRIME_MOTION_IMAGE;
    int rc = prime_frames_from_images_ev(&im, T, &ev, out);
    prime_images_free(&im);
    if (rc != 0) return -1;
    printf("frames: synthesized %d %s/%s samples in %.1f s -> %s\n", out->n, name, split,
           now_s() - t0, path);
    if (prime_frames_save(out, path) != 0)
        fprintf(stderr, "warning: cannot cache frames: %s\n", prime_last_error());
    return 0;
}

/* --aug KEY=VALUE: one field of the augmentation; 0 or -1 (message set). */
static int aug_set(prime_aug_params *a, const char *kv) {
    const char *eq = strchr(kv, '=');
    if (!eq) return prime_error("--aug %s: expected KEY=VALUE", kv);
    size_t kl = (size_t)(eq - kv);
    char *end;
    double v = strtod(eq + 1, &end);
    if (end == eq + 1 || *end) return prime_error("--aug %s: the value is not a number", kv);
    static const struct { const char *k; size_t off; } F[] = {
        {"p_camera", offsetof(prime_aug_params, p_camera)},
        {"contrast_lo", offsetof(prime_aug_params, contrast_lo)},
        {"contrast_hi", offsetof(prime_aug_params, contrast_hi)},
        {"amp_lo", offsetof(prime_aug_params, amp_lo)}, {"amp_hi", offsetof(prime_aug_params, amp_hi)},
        {"noise_lo", offsetof(prime_aug_params, noise_lo)},
        {"noise_hi", offsetof(prime_aug_params, noise_hi)},
        {"blur_hi", offsetof(prime_aug_params, blur_hi)},
        {"gamma_lo", offsetof(prime_aug_params, gamma_lo)},
        {"gamma_hi", offsetof(prime_aug_params, gamma_hi)},
        {"drop_hi", offsetof(prime_aug_params, drop_hi)}};
    for (size_t i = 0; i < sizeof F / sizeof F[0]; i++)
        if (strlen(F[i].k) == kl && strncmp(kv, F[i].k, kl) == 0) {
            *(float *)((char *)a + F[i].off) = (float)v;
            return 0;
        }
    if (kl == 5 && strncmp(kv, "shift", 5) == 0) { a->shift = (int)v; return 0; }
    if (kl == 4 && strncmp(kv, "seed", 4) == 0) { a->seed = (uint64_t)v; return 0; }
    return prime_error("--aug %s: unknown key (p_camera, contrast_lo/hi, amp_lo/hi, noise_lo/hi, "
                       "blur_hi, shift, gamma_lo/hi, drop_hi, seed)", kv);
}

/* Appends the augmented copies of the training images to *f (cached under
 * data/ by the parameters' hash). 0 or -1. */
static int add_augmented(const char *name, int T, int limit, const prime_aug_params *a, prime_frames *f) {
    char path[512];
    snprintf(path, sizeof path, "data/frames-aug-%s-train-T%d-%016llx-n%d.bin", name, T,
             (unsigned long long)prime_aug_hash(a, T), limit);
    prime_frames g;
    if (prime_frames_load(path, &g) == 0) {
        printf("frames: %d augmented %s/train samples, cached\n", g.n, name);
    } else {
        prime_images im;
        if (prime_images_load(name, "train", &im) != 0) return -1;
        if (limit > 0 && limit < im.n) im.n = limit;
        double t0 = now_s();
        int rc = prime_frames_augmented(&im, T, a, &g);
        prime_images_free(&im);
        if (rc != 0) return -1;
        printf("frames: synthesized %d augmented %s/train samples (%d copies) in %.1f s -> %s\n", g.n, name,
               a->copies, now_s() - t0, path);
        if (prime_frames_save(&g, path) != 0)
            fprintf(stderr, "warning: cannot cache frames: %s\n", prime_last_error());
    }
    size_t ss = prime_frames_sample_size(f);
    if (g.T != f->T || prime_frames_sample_size(&g) != ss) {
        prime_frames_free(&g);
        return prime_error("augmented frames do not match the training frames' shape");
    }
    uint8_t *x = realloc(f->x, ((size_t)f->n + g.n) * ss), *y;
    if (!x) { prime_frames_free(&g); return prime_error("out of memory for the augmented set"); }
    f->x = x;
    y = realloc(f->y, (size_t)f->n + g.n);
    if (!y) { prime_frames_free(&g); return prime_error("out of memory for the augmented set"); }
    f->y = y;
    memcpy(f->x + (size_t)f->n * ss, g.x, (size_t)g.n * ss);
    memcpy(f->y + f->n, g.y, (size_t)g.n);
    f->n += g.n;
    prime_frames_free(&g);
    return 0;
}

/* Accuracy of the saved model run by the simulator itself (ideal device). */
static int sim_accuracy(const char *path, const prime_frames *f, int n, double *acc) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return prime_error("cannot open %s", path);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *buf = malloc(len);
    if (!buf || fread(buf, 1, len, fp) != (size_t)len) { fclose(fp); free(buf); return prime_error("cannot read %s", path); }
    fclose(fp);
    prime_ctx *c = prime_load(buf, len);
    free(buf);
    if (!c) return -1;
    prime_device d = prime_get_device(c);
    d.read_noise = 0;
    d.adc_bits = 0;
    d.dac_bits = 0;
    if (prime_set_device(c, &d) != 0) { prime_free(c); return -1; }
    size_t ss = prime_frames_sample_size(f);
    float *x = malloc(ss * sizeof(float));
    if (!x) { prime_free(c); return prime_error("out of memory"); }
    int cor = 0;
    prime_result r;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < ss; k++) x[k] = f->x[ss * i + k];
        if (prime_classify(c, x, f->T, &r) != 0) { free(x); prime_free(c); return -1; }
        cor += r.label == f->y[i];
    }
    free(x);
    prime_free(c);
    *acc = (double)cor / n;
    return 0;
}

/* --bench N: trains N batches of p->batch samples (the first N * batch of the
 * training split, one epoch, no test set) and prints one JSON line with the
 * process CPU time (clock(): all threads) and wall time per sample. 0 or 1. */
static int run_bench(prime_train_params *p, const char *data, uint64_t dseed, int nb) {
    prime_frames trf;
    if (get_frames(data, "train", p->T, dseed, 0, nb * p->batch, &trf) != 0) {
        fprintf(stderr, "prime-train: %s\n", prime_last_error());
        return 1;
    }
    if (trf.n > nb * p->batch) trf.n = nb * p->batch;
    p->epochs = 1;
    p->verbose = 0;
    p->checkpoint = NULL;
    prime_trainer *tr = prime_trainer_create(p);
    if (!tr) { fprintf(stderr, "prime-train: %s\n", prime_last_error()); return 1; }
    clock_t c0 = clock();
    double t0 = now_s();
    int rc = prime_trainer_fit(tr, &trf, NULL);
    double wall = now_s() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    if (rc != 0) { fprintf(stderr, "prime-train: %s\n", prime_last_error()); return 1; }
    printf("{\"engine\": \"prime-train\", \"mode\": \"%s\", \"threads\": %d, \"batch\": %d, \"T\": %d, "
           "\"samples\": %d, \"cpu_s\": %.4f, \"wall_s\": %.4f, \"samples_per_cpu_s\": %.2f, "
           "\"samples_per_wall_s\": %.2f}\n", p->baseline ? "baseline" : "masks", p->threads, p->batch,
           p->T, trf.n, cpu, wall, trf.n / cpu, trf.n / wall);
    prime_trainer_free(tr);
    prime_frames_free(&trf);
    return 0;
}

int main(int argc, char **argv) {
    prime_train_params p = prime_train_default_params();
    p.epochs = 8;
    const char *data = NULL, *out = NULL;
    int train_limit = 0, test_limit = 0, lr_set = 0, bench = 0, motion = 0;
    prime_aug_params aug = prime_aug_default();
    aug.copies = 0;
    uint64_t dseed = 1;
    const char *opt = NULL, *aug_spec = NULL, *channels = NULL, *noise_model = NULL;
    const cli_opt opts[] = {
        {"--data", CLI_STR, &data, NULL}, {"--out", CLI_STR, &out, NULL}, {"--epochs", CLI_INT, &p.epochs, NULL},
        {"--batch", CLI_INT, &p.batch, NULL}, {"--opt", CLI_STR, &opt, NULL}, {"--lr", CLI_FLOAT, &p.lr, &lr_set},
        {"--wd", CLI_FLOAT, &p.wd, NULL}, {"--momentum", CLI_FLOAT, &p.momentum, NULL}, {"--sparsity", CLI_FLOAT, &p.sparsity, NULL},
        {"--seed", CLI_U64, &p.seed, NULL}, {"--data-seed", CLI_U64, &dseed, NULL}, {"--motion", CLI_INT, &motion, NULL},
        {"--T", CLI_INT, &p.T, NULL}, {"--augment", CLI_INT, &aug.copies, NULL}, {"--aug", CLI_STR, &aug_spec, NULL},
        {"--train-limit", CLI_INT, &train_limit, NULL}, {"--test-limit", CLI_INT, &test_limit, NULL},
        {"--threads", CLI_INT, &p.threads, NULL}, {"--channels", CLI_STR, &channels, NULL},
        {"--read-noise", CLI_FLOAT, &p.read_noise, NULL}, {"--noise-model", CLI_STR, &noise_model, NULL},
        {"--checkpoint", CLI_STR, &p.checkpoint, NULL}, {"--bench", CLI_INT, &bench, NULL},
        {"--hw-aware", CLI_FLAG, &p.hw_aware, NULL}, {"--baseline", CLI_FLAG, &p.baseline, NULL},
        {"--resume", CLI_FLAG, &p.resume, NULL}, {NULL, CLI_STR, NULL, NULL}};
    int prc = cli_parse("prime-train", argc, argv, opts);
    if (prc) { usage(); return prc == 1 ? 0 : 2; }
    if (opt) {
        if (strcmp(opt, "sgd") == 0) p.opt = PRIME_OPT_SGD;
        else if (strcmp(opt, "adam") == 0) p.opt = PRIME_OPT_ADAM;
        else { fprintf(stderr, "prime-train: --opt %s: sgd or adam\n", opt); return 2; }
    }
    if (aug_spec && aug_set(&aug, aug_spec) != 0) { fprintf(stderr, "prime-train: %s\n", prime_last_error()); return 2; }
    if (channels && (sscanf(channels, "%d,%d", &p.c1, &p.c2) != 2 || p.c1 < 1 || p.c2 < 1)) {
        fprintf(stderr, "prime-train: --channels %s: two positive integers C1,C2\n", channels);
        return 2;
    }
    if (noise_model) {
        if (strcmp(noise_model, "weight") == 0) p.noise_model = PRIME_TR_NOISE_WEIGHT;
        else if (strcmp(noise_model, "conductance") == 0) p.noise_model = PRIME_TR_NOISE_CONDUCTANCE;
        else { fprintf(stderr, "prime-train: --noise-model %s: weight or conductance\n", noise_model); return 2; }
    }
    if (motion != 0 && motion != 1) { usage(); return 2; }
    if (aug.copies != 0 && prime_aug_check(&aug) != 0) {
        fprintf(stderr, "prime-train: %s\n", prime_last_error());
        return 2;
    }
    if (bench > 0) return run_bench(&p, data ? data : "mnist", dseed, bench);
    if (!data || (!out && !p.baseline)) { usage(); return 2; }
    if (p.opt == PRIME_OPT_SGD && !lr_set) p.lr = 0.1f;

    printf("prime-train: data %s, %s, epochs %d, batch %d, %s lr %g wd %g, sparsity %.2f, seed %llu, "
           "T %d%s, threads %d, channels %d,%d\n", data, p.baseline ? "software baseline (float weights)" : "edge-popup masks",
           p.epochs, p.batch, p.opt == PRIME_OPT_SGD ? "sgd" : "adam", p.lr, p.wd, p.sparsity,
           (unsigned long long)p.seed, p.T, p.hw_aware ? (p.noise_model ? ", hw-aware (conductance noise)" : ", hw-aware (weight noise)") : "", p.threads,
           p.c1 ? p.c1 : 12, p.c2 ? p.c2 : 64);
    double t0 = now_s();
    prime_frames trf, tef;
    if (get_frames(data, "train", p.T, dseed, motion, train_limit, &trf) != 0 ||
        get_frames(data, "test", p.T, dseed + 1000, motion, test_limit, &tef) != 0) {
        fprintf(stderr, "prime-train: %s\n", prime_last_error());
        return 1;
    }
    if (aug.copies > 0) {
        printf("augment: %d copies, seed %llu, p_camera %.2f, contrast %.3g..%.3g, amplitude %.3g..%.3g px, "
               "noise %.3g..%.3g Hz, blur <= %.3g px, shift <= %d px, gamma %.3g..%.3g, drop <= %.3g\n",
               aug.copies, (unsigned long long)aug.seed, aug.p_camera, aug.contrast_lo, aug.contrast_hi,
               aug.amp_lo, aug.amp_hi, aug.noise_lo, aug.noise_hi, aug.blur_hi, aug.shift, aug.gamma_lo,
               aug.gamma_hi, aug.drop_hi);
        if (add_augmented(data, p.T, train_limit, &aug, &trf) != 0) {
            fprintf(stderr, "prime-train: %s\n", prime_last_error());
            return 1;
        }
    }
    printf("train %d samples, test %d samples\n", trf.n, tef.n);
    fflush(stdout);

    prime_trainer *tr = prime_trainer_create(&p);
    if (!tr) { fprintf(stderr, "prime-train: %s\n", prime_last_error()); return 1; }
    double t1 = now_s();
    if (prime_trainer_fit(tr, &trf, &tef) != 0) {
        fprintf(stderr, "prime-train: %s\n", prime_last_error());
        return 1;
    }
    double t2 = now_s();
    double acc, loss;
    if (prime_trainer_evaluate(tr, &tef, tef.n, &acc, &loss) != 0) {
        fprintf(stderr, "prime-train: %s\n", prime_last_error());
        return 1;
    }
    printf("final: trainer forward test accuracy %.2f%% (loss %.4f, n=%d); training took %.1f min\n",
           100 * acc, loss, tef.n, (t2 - t1) / 60);
    if (!p.baseline) {
        if (prime_trainer_save_model(tr, out) != 0) {
            fprintf(stderr, "prime-train: %s\n", prime_last_error());
            return 1;
        }
        printf("saved %s\n", out);
        fflush(stdout);
        double sacc = 0;
        double t3 = now_s();
        if (sim_accuracy(out, &tef, tef.n, &sacc) != 0) {
            fprintf(stderr, "prime-train: simulator check failed: %s\n", prime_last_error());
            return 1;
        }
        printf("final: simulator (prime_load + prime_classify, read_noise 0, adc_bits 0) test accuracy "
               "%.2f%% (n=%d, %.1f s)\n", 100 * sacc, tef.n, now_s() - t3);
    }
    printf("total wall time %.1f min\n", (now_s() - t0) / 60);
    prime_trainer_free(tr);
    prime_frames_free(&trf);
    prime_frames_free(&tef);
    return 0;
}
