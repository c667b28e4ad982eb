/* prime_bench.c - the timing commands of build/prime: bench, bench-frames,
 * bench-vae (docs/performance.md; scripts/bench.mjs runs them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../device_opts.h"
#include "../pmath.h"
#include "../prime.h"
#include "../simd.h"
#include "prime_cli.h"

static double median(double *v, int n) { /* sorts v */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j] < v[j - 1]; j--) { double t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Prints "key":[v0,v1,...] (key NULL: the bracketed list only), then end. */
static void json_ints(const char *key, const int *v, int n, const char *end) {
    if (key) printf("\"%s\":", key);
    putchar('[');
    for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", v[i]);
    printf("]%s", end);
}

int cmd_bench(const char *path, int n) {
    prime_ctx *c = path ? load_model(path) : NULL;
    if (!c) {
        prime_arch a = prime_arch_nmnist();
        prime_device d = prime_default_device();
        c = prime_create(&a, &d);
        random_masks(c, 99, 0.5f);
    }
    float *x = random_frames(10, 5, 0.06f);
    double *ts = malloc(n * sizeof(double));
    prime_result r;
    for (int i = 0; i < n; i++) {
        double t0 = now_s();
        prime_classify(c, x, 10, &r);
        ts[i] = now_s() - t0;
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && ts[j] < ts[j - 1]; j--) { double t = ts[j]; ts[j] = ts[j - 1]; ts[j - 1] = t; }
    printf("native %s: median %.3f ms per classification (T=10, %d runs)\n", PRIME_SIMD_NAME, ts[n / 2] * 1e3, n);
    free(ts);
    free(x);
    prime_free(c);
    return 0;
}

/* Returns the core clock in GHz, measured: a chain of dependent integer adds
 * (1 cycle each), best of 5 runs of 20 M cycles. */
static double clock_ghz(void) {
    double best = 0;
    for (int k = 0; k < 5; k++) {
        uint64_t x = (uint64_t)k;
        double t0 = now_s();
        for (uint64_t i = 0; i < 5000000; i++) {
            x += i; __asm__ volatile("" : "+r"(x));
            x += i; __asm__ volatile("" : "+r"(x));
            x += i; __asm__ volatile("" : "+r"(x));
            x += i; __asm__ volatile("" : "+r"(x));
        }
        double ghz = 20e6 / (now_s() - t0) / 1e9;
        if (ghz > best && x != 1) best = ghz;
    }
    return best;
}

/* Times N real inputs (one file of N x [T][C][H][W] floats) R times and prints
 * one JSON object: medians over the repeats, labels and steps of the last one
 * (scripts/bench.mjs compares them with the other engines). */
int cmd_bench_frames(int argc, char **argv) {
    prime_ctx *c = load_model(argv[0]);
    if (!c) return 1;
    const prime_arch *a = prime_get_arch(c);
    prime_device d = prime_get_device(c);
    prime_devfx_params fx;
    prime_get_devfx(c, &fx);
    prime_run r = prime_get_run(c);
    int T = a->T, N = atoi(argv[2]), R = 5, threads = 1; /* one thread: the per-core figure */
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(o, "--noise")) d.read_noise = (float)atof(v), i++;
        else if (!strcmp(o, "--cell-noise")) d.noise_mode = PRIME_NOISE_CELL;
        else if (!strcmp(o, "--adc")) d.adc_bits = atoi(v), i++;
        else if (!strcmp(o, "--stop")) r.policy = PRIME_STOP_CONFIDENCE, r.threshold = (float)atof(v), i++;
        else if (!strcmp(o, "--no-stop")) r.policy = PRIME_STOP_NONE;
        else if (!strcmp(o, "--T")) T = atoi(v), i++;
        else if (!strcmp(o, "--repeat")) R = atoi(v), i++;
        else if (!strcmp(o, "--dac")) d.dac_bits = atoi(v), i++;
        else if (!strcmp(o, "--device")) { if (device_opt(&d, &fx, v)) { prime_free(c); return 2; } i++; }
        else if (!strcmp(o, "--threads")) { if (threads_opt(v, &threads)) { prime_free(c); return 2; } i++; }
        else { fprintf(stderr, "unknown option %s\n", o); prime_free(c); return 2; }
    }
    fx.read.eta = d.read_noise;
    if (prime_set_device(c, &d) || prime_set_devfx(c, &fx) || prime_set_run(c, &r)) { fprintf(stderr, "%s\n", prime_last_error()); prime_free(c); return 1; }
    if (N < 1 || R < 1 || T < 1 || T > PRIME_MAX_T) { fprintf(stderr, "bad N, T or repeat\n"); prime_free(c); return 2; }
    size_t per = (size_t)T * a->in_c * a->in_h * a->in_w, n;
    uint8_t *b = read_file(argv[1], &n);
    if (!b) { prime_free(c); return 1; }
    if (n < (size_t)N * per * sizeof(float)) {
        fprintf(stderr, "%s: %zu bytes, need N*T*C*H*W floats = %zu\n", argv[1], n, (size_t)N * per * 4);
        free(b), prime_free(c);
        return 1;
    }
    const float *x = (const float *)b;
    double *ts = malloc(R * sizeof(double)), *cs = malloc(R * sizeof(double)), steps = 0;
    int *labels = malloc(N * sizeof(int)), *used = malloc(N * sizeof(int));
    prime_result *res = malloc((size_t)N * sizeof *res);
    if (!res) { fprintf(stderr, "out of memory\n"); return 1; }
    for (int k = 0; k < R; k++) {
        prime_set_run(c, &r); /* same noise stream every repeat */
        steps = 0;
        double t0 = now_s(), c0 = cpu_s();
        if (prime_classify_batch(c, x, N, T, res, threads) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
        ts[k] = now_s() - t0, cs[k] = cpu_s() - c0;
        for (int i = 0; i < N; i++) labels[i] = res[i].label, used[i] = res[i].steps_used, steps += res[i].steps_used;
    }
    free(res);
    const double med = median(ts, R), cmed = median(cs, R); /* ts sorted: ts[0] is the fastest */
    const double ghz = clock_ghz();
    printf("{\"engine\":\"native %s\",\"isa\":\"%s\",\"threads\":%d,\"clock_ghz\":%.3f,\"n\":%d,\"T\":%d,\"repeats\":%d,\"noise\":%g,\"stop\":%d,"
           "\"median_s\":%.6f,\"min_s\":%.6f,\"ms_per_sample\":%.6f,\"cpu_ms_per_sample\":%.6f,\"samples_per_s\":%.3f,\"mean_steps\":%.4f,",
           PRIME_SIMD_NAME, prime_kernel_isa(), threads ? threads : prime_cpu_count(), ghz, N, T, R, (double)d.read_noise, r.policy, med, ts[0], med / N * 1e3, cmed / N * 1e3, N / med, steps / N);
    json_ints("labels", labels, N, ",");
    json_ints("steps", used, N, "}\n");
    free(ts), free(cs), free(labels), free(used), free(b);
    prime_free(c);
    return 0;
}


/* FNV-1a over n bytes: a fingerprint of a reconstruction (scripts/bench-inpaint.mjs
 * computes the same over the wasm results). */
static uint32_t fnv1a(const void *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ ((const uint8_t *)p)[i]) * 16777619u;
    return h;
}

/* Times the inpainting network (centre hole) on N images, R times, and prints
 * one JSON object: median CPU and wall ms per image, steps and a fingerprint
 * of every final reconstruction, and the work: dense and performed
 * multiply-adds per image, crossbar and digital latent separately. */
int cmd_bench_vae(int argc, char **argv) {
    size_t nb, ni;
    uint8_t *mb = read_file(argv[0], &nb);
    if (!mb) return 1;
    prime_vae *v = prime_vae_load(mb, nb);
    free(mb);
    if (!v) { fprintf(stderr, "%s: %s\n", argv[0], prime_last_error()); return 1; }
    const prime_vae_arch *a = prime_vae_get_arch(v);
    prime_device d = prime_vae_get_device(v);
    prime_devfx_params fx;
    prime_vae_get_devfx(v, &fx);
    prime_vae_run r = prime_vae_default_run();
    int N = atoi(argv[2]), R = 5;
    for (int i = 3; i < argc; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(o, "--noise")) d.read_noise = (float)atof(val), i++;
        else if (!strcmp(o, "--adc")) d.adc_bits = atoi(val), i++;
        else if (!strcmp(o, "--dac")) d.dac_bits = atoi(val), i++;
        else if (!strcmp(o, "--stop")) r.policy = PRIME_VAE_STOP_CONVERGENCE, r.m_th = (float)atof(val), i++;
        else if (!strcmp(o, "--no-stop")) r.policy = PRIME_VAE_STOP_NONE;
        else if (!strcmp(o, "--repeat")) R = atoi(val), i++;
        else if (!strcmp(o, "--device")) { if (device_opt(&d, &fx, val)) { prime_vae_free(v); return 2; } i++; }
        else { fprintf(stderr, "unknown option %s\n", o); prime_vae_free(v); return 2; }
    }
    fx.read.eta = d.read_noise;
    if (prime_vae_set_device(v, &d) || prime_vae_set_devfx(v, &fx) || prime_vae_set_run(v, &r)) { fprintf(stderr, "%s\n", prime_last_error()); prime_vae_free(v); return 1; }
    const size_t npix = (size_t)a->size * a->size;
    float *img = (float *)read_file(argv[1], &ni);
    if (!img || N < 1 || R < 1 || ni < (size_t)N * npix * sizeof(float)) {
        fprintf(stderr, "%s: need N x %zu floats, N >= 1, repeat >= 1\n", argv[1], npix);
        free(img), prime_vae_free(v);
        return 1;
    }
    double *cpu = malloc(R * sizeof(double)), *wall = malloc(R * sizeof(double)), steps = 0, xbar = 0, digital = 0;
    int *used = malloc(N * sizeof(int));
    uint32_t *hash = malloc(N * sizeof(uint32_t));
    prime_vae_result res;
    for (int k = 0; k < R; k++) {
        steps = xbar = digital = 0;
        double t0 = now_s(), c0 = cpu_s();
        for (int i = 0; i < N; i++) {
            prime_vae_set_run(v, &r); /* inference 0 of its streams, as every inpaint of the JS API */
            if (prime_vae_inpaint(v, img + (size_t)i * npix, NULL, &res) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
            used[i] = res.steps_used, steps += res.steps_used;
            xbar += res.counters.cell_reads / 2, digital += res.digital_macs;
            hash[i] = fnv1a(prime_vae_recon(v, res.steps_used - 1), npix * sizeof(float));
        }
        cpu[k] = cpu_s() - c0, wall[k] = now_s() - t0;
    }
    /* dense work per step: every connection of every layer */
    double dense_xbar = 0, dense_digital = 0;
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(a, i, &g);
        size_t nc = 1;
        if (g.op != PRIME_VAE_FC) {
            prime_free_buffer(prime_vae_connections(a, i, &nc));
            nc *= (size_t)g.in_c * g.out_c;
        } else {
            nc = (size_t)g.rows * g.cols;
        }
        if (i == PRIME_VAE_PRIOR) continue; /* not run by inpainting */
        if (g.crossbar) dense_xbar += nc;
        else dense_digital += nc;
    }
    double mc = median(cpu, R), mw = median(wall, R);
    printf("{\"engine\":\"native %s\",\"clock_ghz\":%.3f,\"ch\":%d,\"n\":%d,\"T\":%d,\"repeats\":%d,\"noise\":%g,"
           "\"stop\":%d,\"ms_per_image\":%.6f,\"wall_ms_per_image\":%.6f,\"mean_steps\":%.4f,"
           "\"macs_dense_crossbar\":%.0f,\"macs_dense_digital\":%.0f,\"macs_crossbar\":%.1f,\"macs_digital\":%.1f,\"steps\":",
           PRIME_SIMD_NAME, clock_ghz(), a->ch, N, a->T, R, (double)d.read_noise, r.policy, mc / N * 1e3, mw / N * 1e3,
           steps / N, dense_xbar * a->T, dense_digital * a->T, xbar / N, digital / N);
    json_ints(NULL, used, N, ",\"hashes\":[");
    for (int i = 0; i < N; i++) printf("%s%u", i ? "," : "", hash[i]);
    printf("]}\n");
    free(cpu), free(wall), free(used), free(hash), free(img);
    prime_vae_free(v);
    return 0;
}

