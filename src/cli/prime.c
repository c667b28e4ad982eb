/* prime.c - the native command-line tool of PRIME-sim.
 *
 *   prime info MODEL                      architecture, tiling, arrays
 *   prime random-model OUT [SEED]         PRIME network with random 50 % masks
 *   prime classify MODEL INPUT [options]  INPUT: image (png/jpg/bmp/gif), N-MNIST
 *                                         .bin events, or raw float32 frames .f32
 *       --noise ETA --stop TH --alpha A --T N --adc BITS --chip SEED --cell-noise
 *       --import FILE.npz (mask<i>, weight<i>, gpos<i>, gneg<i>; see prime.h)
 *   prime import CKPT OUT                 a PyTorch .pt / NumPy .npz checkpoint in a known
 *                                         layout (prime_import_model) as a model file; the
 *                                         authors' FSVAE and the Fashion CNN as a graph model
 *                                         (prime_graph_import, docs/graph.md)
 *   prime convert MODEL OUT               any model file (v1 .prime / .pvae, v2) as model file v2
 *   prime eval MODEL FRAMES.pfrm [--ideal --stop TH --no-stop --threads N]
 *                                         labels, steps and logits of every sample, JSON
 *                                         (--threads: 0 = one per core, the default; any
 *                                         count gives the same bits: prime_classify_batch)
 *   MODEL may be a checkpoint (.pt, .npz) everywhere: it is imported in memory.
 *   prime bench MODEL [N]                 median time of one classification
 *   prime bench-frames MODEL FRAMES.f32 N [--T 10 --noise ETA --cell-noise --adc B --dac B
 *                      --stop TH --repeat R --threads N]  times N real inputs (FRAMES.f32
 *                                         holds N x [T][2][34][34] floats), prints JSON; one
 *                                         thread unless --threads (0 = one per core)
 *   prime onnx MODEL OUT.onnx [T]         the network as ONNX (zero noise, ideal ADC/DAC);
 *                                         an inpainting MODEL.pvae too (its own T)
 *   prime bench-vae MODEL.pvae IMAGES.f32 N [--noise ETA --adc B --dac B --stop TH --repeat R]
 *                                         times the inpainting network on N images
 *                                         (N x size*size floats in [-1, 1]), prints JSON
 *
 * --stop TH switches the input-aware early stop on with threshold TH in every
 * subcommand: the confidence stop (max p > TH) of the classifier, the
 * convergence stop (m_t < TH, default 0.2 and on) of the inpainting network;
 * --no-stop switches it off (all T steps).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../device_opts.h"
#include "../data.h"
#include "../device_table.h"
#include "../pmath.h"
#include "../prime.h"
#include "../prime_graph.h"
#include "../simd.h"
#include "prime_cli.h"

/* ============================================================ helpers */

/* --threads N: 0 = one per core, else 1..256; 0 or -1 (message printed). */
int threads_opt(const char *v, int *threads) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end || n < 0 || n > 256) { fprintf(stderr, "--threads %s: want 0 (one per core) .. 256\n", v); return -1; }
    *threads = (int)n;
    return 0;
}

/* Reads a whole file; returns malloc'ed bytes or NULL (message printed). */
uint8_t *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", path); return NULL; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(len > 0 ? (size_t)len : 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) { fclose(f); free(b); fprintf(stderr, "cannot read %s\n", path); return NULL; }
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* 1 when the bytes are a checkpoint to import (.pt zip, .npz, .npy), not a model file. */
static int is_checkpoint(const uint8_t *b, size_t n) {
    return n >= 4 && (!memcmp(b, "PK", 2) || !memcmp(b, "\x93NUMPY", 6) || (b[0] == 0x80 && b[1] >= 2 && b[1] <= 5));
}

/* A model file, or a checkpoint imported in memory (prime_import_model). */
prime_ctx *load_model(const char *path) {
    size_t n;
    uint8_t *b = read_file(path, &n);
    if (!b) return NULL;
    const int graph = prime_graph_is_file(b, n);
    prime_ctx *c = graph ? NULL : is_checkpoint(b, n) ? prime_import_model(b, n, NULL) : prime_load(b, n);
    free(b);
    if (graph) fprintf(stderr, "%s: a graph model file (docs/graph.md): use build/prime-graph info / run\n", path);
    else if (!c) fprintf(stderr, "%s: %s\n", path, prime_last_error());
    return c;
}

/* Gives every weight layer a random mask pruning `sparsity` of it (seeded). */
void random_masks(prime_ctx *c, uint64_t seed, float sparsity) {
    const prime_arch *a = prime_get_arch(c);
    for (int l = 0; l < a->n_layers; l++) {
        size_t n = prime_layer_weights(&a->layers[l]);
        if (!n) continue;
        uint8_t *m = malloc(n);
        for (size_t i = 0; i < n; i++) m[i] = prime_rand_uniform(seed, 1000 + l, i) >= sparsity;
        prime_set_mask(c, l, m, n);
        free(m);
    }
}

/* Random sparse event-count frames [T][2][34][34] (deterministic). */
float *random_frames(int T, uint64_t seed, float density) {
    size_t n = (size_t)T * 2 * 34 * 34;
    float *x = calloc(n, sizeof(float));
    for (size_t i = 0; i < n; i++) {
        double u = prime_rand_uniform(seed, 7, i);
        if (u < density) x[i] = (float)(1 + (int)(prime_rand_uniform(seed, 8, i) * 3));
    }
    return x;
}

double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process (on shared cores, steadier than wall time). */
double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void print_result(const prime_result *r) {
    printf("label %d  steps %d/%d  probs", r->label, r->steps_used, r->T);
    for (int k = 0; k < r->n_classes; k++) printf(" %.3f", r->probs[k]);
    printf("\nconfidence per step:");
    for (int t = 0; t < r->steps_used; t++) printf(" %.3f", r->confidence[t]);
    printf("\nspikes per layer:");
    for (int l = 0; l < r->n_layers; l++) printf(" %.0f", r->spikes[l]);
    const prime_counters *k = &r->counters;
    printf("\ncell reads %.0f, ADC conversions %.0f, DAC drives %.0f, array reads %.0f, neuron updates %.0f\n",
           k->cell_reads, k->adc_conversions, k->dac_drives, k->vmm_reads, k->neuron_updates);
    printf("energy %.2f nJ, digital baseline %.2f nJ, ratio %.1fx\n", r->energy_pj / 1000, r->baseline_pj / 1000, r->energy_ratio);
}

/* ============================================================ commands */

/* prime info of an inpainting model: architecture, run and the layer table. */
static int info_vae(const char *path, const uint8_t *b, size_t n) {
    prime_vae *v = prime_vae_load(b, n);
    if (!v) { fprintf(stderr, "%s: %s\n", path, prime_last_error()); return 1; }
    const prime_vae_arch *a = prime_vae_get_arch(v);
    prime_vae_run r = prime_vae_get_run(v);
    printf("PRIME-sim inpainting model %s (%s): %dx%d, ch %d, latent %d x k %d, T=%d, chip seed %llu; run: %s stop, "
           "m_th %g over %d steps\n", path, a->software ? "software" : "macro", a->size, a->size, a->ch, a->latent, a->k,
           a->T, (unsigned long long)prime_vae_get_device(v).chip_seed,
           r.policy == PRIME_VAE_STOP_CONVERGENCE ? "convergence" : "no", (double)r.m_th, r.m_window);
    static const char *ops[] = {"?", "conv", "tconv", "fc"};
    for (int i = 0; i < PRIME_VAE_LAYERS; i++) {
        prime_vae_layer g;
        prime_vae_layer_info(a, i, &g);
        printf("  %2d %-5s %3dx%2dx%2d -> %4dx%2dx%2d  matrix %dx%d %s%s\n", i, ops[g.op], g.in_c, g.in_h, g.in_w, g.out_c,
               g.out_h, g.out_w, g.rows, g.cols, g.crossbar ? "crossbar" : "digital + bias", g.bn ? ", BN" : "");
    }
    prime_vae_free(v);
    return 0;
}

static int cmd_info(const char *path) {
    size_t nb;
    uint8_t *bytes = read_file(path, &nb);
    if (!bytes) return 1;
    int kind = prime_model_kind(bytes, nb);
    if (kind == PRIME_MODEL_VAE) {
        int rc = info_vae(path, bytes, nb);
        free(bytes);
        return rc;
    }
    free(bytes);
    prime_ctx *c = load_model(path);
    if (!c) return 1;
    const prime_arch *a = prime_get_arch(c);
    prime_device d = prime_get_device(c);
    printf("PRIME-sim model %s: T=%d input %dx%dx%d, %d classes, chip seed %llu\n", path, a->T, a->in_c, a->in_h,
           a->in_w, a->n_classes, (unsigned long long)d.chip_seed);
    static const char *ops[] = {"?", "conv", "fc", "avgpool"};
    for (int l = 0; l < a->n_layers; l++) {
        const prime_layer *L = &a->layers[l];
        printf("  %d %-7s %3dx%2dx%2d -> %3dx%2dx%2d", l, ops[L->op], L->in_c, L->in_h, L->in_w, L->out_c, L->out_h, L->out_w);
        prime_tiling t;
        if (prime_layer_rows(L) && prime_get_tiling(c, l, &t) == 0) {
            size_t n = prime_layer_weights(L), kept = 0;
            uint8_t *m = malloc(n);
            prime_get_mask(c, l, m, n);
            for (size_t i = 0; i < n; i++) kept += m[i];
            free(m);
            printf("  matrix %dx%d on %d array(s) (%dx%d tiles, %.1f %% full), kept %.1f %%", t.rows, t.cols, t.arrays,
                   t.row_tiles, t.col_tiles, 100 * t.fill, 100.0 * kept / n);
        }
        printf("\n");
    }
    printf("arrays: %d of %dx%d\n", prime_total_arrays(c), PRIME_ARRAY_SIZE, PRIME_ARRAY_SIZE);
    prime_free(c);
    return 0;
}

static int cmd_random_model(const char *out, uint64_t seed) {
    prime_arch a = prime_arch_nmnist();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    if (!c) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    random_masks(c, seed, 0.5f);
    uint8_t *b;
    size_t n;
    if (prime_save(c, &b, &n) != 0) { fprintf(stderr, "%s\n", prime_last_error()); prime_free(c); return 1; }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(b, 1, n, f) != n) { fprintf(stderr, "cannot write %s\n", out); return 1; }
    fclose(f);
    printf("wrote %s (%zu bytes): PRIME N-MNIST network, random masks (seed %llu)\n", out, n, (unsigned long long)seed);
    prime_free_buffer(b);
    prime_free(c);
    return 0;
}

/* Loads INPUT as frames [T][2][34][34]; returns malloc'ed frames or NULL. */
static float *load_input(const char *path, int T, uint64_t seed) {
    size_t n;
    uint8_t *b = read_file(path, &n);
    if (!b) return NULL;
    size_t fsz = (size_t)2 * 34 * 34;
    float *frames = malloc((size_t)T * fsz * sizeof(float));
    const char *ext = strrchr(path, '.');
    int rc = 0;
    if (ext && !strcmp(ext, ".f32")) {
        if (n != (size_t)T * fsz * 4) { fprintf(stderr, "%s: %zu bytes, expected T*2*34*34 floats = %zu\n", path, n, T * fsz * 4); rc = -1; }
        else memcpy(frames, b, n);
    } else if (ext && !strcmp(ext, ".bin")) {
        prime_event *ev;
        size_t cnt;
        rc = prime_nmnist_parse(b, n, &ev, &cnt);
        if (rc == 0) rc = prime_events_bin(ev, cnt, T, 34, frames), prime_free_buffer(ev);
        if (rc) fprintf(stderr, "%s: %s\n", path, prime_last_error());
    } else {
        float img[28 * 28];
        rc = prime_image_decode(b, n, 28, 28, 1, img);
        if (rc == 0) {
            prime_event_params p = prime_default_event_params();
            p.seed = seed;
            prime_event *ev;
            size_t cnt;
            rc = prime_events_from_image(img, 28, 28, &p, &ev, &cnt);
            if (rc == 0) rc = prime_events_bin(ev, cnt, T, 34, frames), prime_free_buffer(ev);
        }
        if (rc) fprintf(stderr, "%s: %s\n", path, prime_last_error());
    }
    free(b);
    if (rc) { free(frames); return NULL; }
    return frames;
}

/* Applies one repeatable `--device key=value` (src/device_opts.h) to d and
 * its effects fx; 0, or -1 after printing why (the message names the key). */
int device_opt(prime_device *d, prime_devfx_params *fx, const char *kv) {
    const char *eq = strchr(kv, '=');
    if (eq && eq[1] == '@') { /* KEY=@FILE: a measured table from a file (src/device_table.h) */
        uint8_t *b;
        size_t n;
        char *text = NULL, *opt = NULL;
        int rc = prime_read_file(eq + 2, &b, &n);
        if (rc == 0) {
            rc = prime_device_table_text(b, n, eq + 2, &text);
            free(b);
        }
        if (rc == 0 && !(opt = malloc((size_t)(eq - kv) + strlen(text) + 2))) rc = prime_error("out of memory");
        if (rc == 0) {
            sprintf(opt, "%.*s=%s", (int)(eq - kv), kv, text);
            rc = prime_device_set_option(d, fx, opt);
        }
        free(text);
        free(opt);
        if (rc != 0) fprintf(stderr, "--device %s: %s\n", kv, prime_last_error());
        return rc;
    }
    if (prime_device_set_option(d, fx, kv) != 0) {
        fprintf(stderr, "--device %s: %s\n", kv, prime_last_error());
        return -1;
    }
    return 0;
}

static int cmd_classify(int argc, char **argv) {
    prime_ctx *c = load_model(argv[0]);
    if (!c) return 1;
    prime_device d = prime_get_device(c);
    prime_devfx_params fx;
    prime_get_devfx(c, &fx);
    prime_run r = prime_get_run(c);
    int T = prime_get_arch(c)->T, logits = 0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(o, "--noise")) d.read_noise = (float)atof(v), i++;
        else if (!strcmp(o, "--cell-noise")) d.noise_mode = PRIME_NOISE_CELL;
        else if (!strcmp(o, "--adc")) d.adc_bits = atoi(v), i++;
        else if (!strcmp(o, "--chip")) d.chip_seed = strtoull(v, NULL, 10), i++;
        else if (!strcmp(o, "--stop")) r.policy = PRIME_STOP_CONFIDENCE, r.threshold = (float)atof(v), i++;
        else if (!strcmp(o, "--no-stop")) r.policy = PRIME_STOP_NONE;
        else if (!strcmp(o, "--alpha")) r.alpha = (float)atof(v), i++;
        else if (!strcmp(o, "--T")) T = atoi(v), i++;
        else if (!strcmp(o, "--logits")) logits = 1;
        else if (!strcmp(o, "--device")) { if (device_opt(&d, &fx, v)) { prime_free(c); return 2; } i++; }
        else if (!strcmp(o, "--import")) { /* masks / weights / measured conductances from a .npz */
            size_t nb;
            uint8_t *b = read_file(v, &nb);
            int used = b ? prime_import_npz(c, b, nb) : -1;
            free(b);
            if (used < 0) { fprintf(stderr, "%s: %s\n", v, b ? prime_last_error() : "unreadable"); prime_free(c); return 1; }
            d = prime_get_device(c);
            printf("imported %d arrays from %s\n", used, v);
            i++;
        }
        else { fprintf(stderr, "unknown option %s\n", o); prime_free(c); return 2; }
    }
    fx.read.eta = d.read_noise;
    if (prime_set_device(c, &d) || prime_set_devfx(c, &fx) || prime_set_run(c, &r)) { fprintf(stderr, "%s\n", prime_last_error()); prime_free(c); return 1; }
    if (T < 1 || T > PRIME_MAX_T) { fprintf(stderr, "T out of range\n"); prime_free(c); return 1; }
    float *x = load_input(argv[1], T, 1);
    if (!x) { prime_free(c); return 1; }
    prime_result res;
    int rc = 0;
    if (logits) { /* step by step: the running logits (mean output membrane) after each step */
        rc = prime_begin(c, x, T);
        int st;
        while (!rc && (st = prime_step(c)) == 1) {
            if ((rc = prime_result_get(c, &res)) != 0) break;
            printf("step %d logits", res.steps_used);
            for (int k = 0; k < res.n_classes; k++) printf(" %.9g", res.logits[k]); /* float round trip */
            printf("\n");
        }
        if (!rc && st < 0) rc = -1;
        if (!rc) rc = prime_result_get(c, &res);
    } else rc = prime_classify(c, x, T, &res);
    if (rc) fprintf(stderr, "%s\n", prime_last_error());
    else print_result(&res);
    free(x);
    prime_free(c);
    return rc ? 1 : 0;
}

/* Writes MODEL (classification .prime or inpainting .pvae) as ONNX
 * (src/prime_onnx.c) to OUT. */
static int cmd_onnx(const char *path, const char *outp, int T) {
    uint8_t *b = NULL;
    size_t n;
    int vae = 0;
    uint8_t *mb = read_file(path, &n);
    if (!mb) return 1;
    if (prime_model_kind(mb, n) == PRIME_MODEL_VAE) { /* inpainting: T is the model's */
        prime_vae *v = prime_vae_load(mb, n);
        vae = 1;
        if (!v || prime_vae_onnx_export(v, &b, &n) != 0) b = NULL;
        else T = prime_vae_get_arch(v)->T;
        prime_vae_free(v);
    }
    free(mb);
    if (!vae) {
        prime_ctx *c = load_model(path);
        if (!c) return 1;
        if (T <= 0) T = prime_get_arch(c)->T;
        if (prime_onnx_export(c, T, &b, &n) != 0) b = NULL;
        prime_free(c);
    }
    if (!b) { fprintf(stderr, "%s: %s\n", path, prime_last_error()); return 1; }
    FILE *f = fopen(outp, "wb");
    int ok = f && fwrite(b, 1, n, f) == n;
    if (f) fclose(f);
    if (!ok) fprintf(stderr, "cannot write %s\n", outp);
    else printf("wrote %s (%zu bytes): ONNX opset 13, %sT = %d unrolled, zero noise, ideal ADC/DAC\n", outp, n,
                vae ? "inpainting, " : "", T);
    prime_free_buffer(b);
    return ok ? 0 : 1;
}

/* prime import CKPT OUT: the checkpoint as a model file (version 2: the
 * imported weights stored as conductance maps), in one command. The file is
 * written only when reloading it gives every imported weight back. The
 * authors' FSVAE and the Fashion CNN layout become a graph model file
 * (prime_graph_import, docs/graph.md). */
static int cmd_import(const char *inp, const char *outp) {
    size_t n;
    uint8_t *b = read_file(inp, &n);
    if (!b) return 1;
    double t0 = now_s();
    uint8_t *out = NULL;
    size_t on = 0;
    const int graph = prime_graph_import_knows(b, n) != 0; /* the authors' FSVAE, the Fashion CNN: a graph model (docs/graph.md) */
    if (graph) {
        prime_gmodel *g = prime_graph_import(b, n, NULL);
        free(b);
        const int rc = g ? prime_graph_save(g, &out, &on) : -1; /* prime_graph_load checks it field by field */
        prime_graph_free(g);
        if (rc) { fprintf(stderr, "%s: %s\n", inp, prime_last_error()); return 1; }
    }
    prime_ctx *c = graph ? NULL : prime_import_model(b, n, NULL);
    double t1 = now_s();
    if (!graph) free(b);
    if (!graph && !c) { fprintf(stderr, "%s: %s\n", inp, prime_last_error()); return 1; }
    if (!graph && prime_save(c, &out, &on) != 0) { fprintf(stderr, "%s\n", prime_last_error()); prime_free(c); return 1; }
    /* reload and compare every weight (kept = 1: the on-state whatever the mask) */
    prime_ctx *r = graph ? NULL : prime_load(out, on);
    const prime_arch *a = graph ? NULL : prime_get_arch(c);
    int same = graph || r != NULL;
    for (int l = 0; !graph && same && l < a->n_layers; l++) {
        size_t nw = prime_layer_weights(&a->layers[l]);
        if (!nw) continue;
        float *w0 = malloc(nw * sizeof(float) * 2), *w1 = w0 ? w0 + nw : NULL;
        same = w0 && prime_get_weights(c, l, 1, w0, nw) == 0 && prime_get_weights(r, l, 1, w1, nw) == 0 &&
               !memcmp(w0, w1, nw * sizeof(float));
        free(w0);
    }
    prime_free(r);
    prime_free(c);
    if (!same) {
        prime_free_buffer(out);
        fprintf(stderr, "%s: imported in %.1f ms, but %s is not written: reloading it would not give the imported weights back; "
                        "use the checkpoint itself as MODEL (prime classify/eval %s ...)\n", inp, (t1 - t0) * 1e3, outp, inp);
        return 3;
    }
    FILE *f = fopen(outp, "wb");
    int ok = f && fwrite(out, 1, on, f) == on;
    if (f) fclose(f);
    prime_free_buffer(out);
    if (!ok) { fprintf(stderr, "cannot write %s\n", outp); return 1; }
    printf("imported %s in %.1f ms, wrote %s (%zu bytes%s)\n", inp, (t1 - t0) * 1e3, outp, on, graph ? ", a graph model: build/prime-graph" : "");
    return 0;
}

/* prime eval MODEL FRAMES.pfrm: classifies every sample of a PFRM frame file
 * (docs/data.md) and prints one JSON object (labels, steps used, logits at the
 * stop, the import time when MODEL is a checkpoint). --ideal: no residual, no
 * noise, ideal ADC/DAC; --stop TH / --no-stop as classify. */
static int cmd_eval(int argc, char **argv) {
    double t0 = now_s();
    prime_ctx *c = load_model(argv[0]);
    double t_load = now_s() - t0;
    if (!c) return 1;
    prime_device d = prime_get_device(c);
    prime_devfx_params fx;
    prime_get_devfx(c, &fx);
    prime_run r = prime_get_run(c);
    int threads = 0; /* one per core */
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(o, "--device")) { if (device_opt(&d, &fx, v)) { prime_free(c); return 2; } i++; }
        else if (!strcmp(o, "--ideal")) d.g_off = d.g_off_sd = d.prog_noise = d.read_noise = 0, d.adc_bits = d.dac_bits = 0, d.stuck_on = d.stuck_off = 0, fx = prime_devfx_default();
        else if (!strcmp(o, "--stop")) r.policy = PRIME_STOP_CONFIDENCE, r.threshold = (float)atof(v), i++;
        else if (!strcmp(o, "--no-stop")) r.policy = PRIME_STOP_NONE;
        else if (!strcmp(o, "--threads")) { if (threads_opt(v, &threads)) { prime_free(c); return 2; } i++; }
        else { fprintf(stderr, "unknown option %s\n", o); prime_free(c); return 2; }
    }
    fx.read.eta = d.read_noise;
    if (prime_set_device(c, &d) || prime_set_devfx(c, &fx) || prime_set_run(c, &r)) { fprintf(stderr, "%s\n", prime_last_error()); prime_free(c); return 1; }
    size_t n;
    uint8_t *b = read_file(argv[1], &n);
    if (!b) { prime_free(c); return 1; }
    /* PFRM (docs/data.md): version 2 has a u64 synthesizer fingerprint after
     * the dims (36-byte header), version 1 had none (28) */
    uint32_t hd[6];
    if (n >= 28) memcpy(hd, b + 4, sizeof hd);
    const prime_arch *a = prime_get_arch(c);
    const size_t ho = n >= 28 && hd[0] == 2 ? 36 : 28;
    size_t fs = n >= 28 ? (size_t)hd[2] * hd[3] * hd[4] * hd[5] : 0;
    if (n < ho || memcmp(b, "PFRM", 4) || (hd[0] != 1 && hd[0] != 2) || hd[1] > 1000000 || hd[2] < 1 || hd[2] > PRIME_MAX_T ||
        (int)hd[3] != a->in_c || (int)hd[4] != a->in_h || (int)hd[5] != a->in_w || n != ho + hd[1] + hd[1] * fs) {
        fprintf(stderr, "%s: not a PFRM frame file of %dx%dx%d frames\n", argv[1], a->in_c, a->in_h, a->in_w);
        free(b), prime_free(c);
        return 1;
    }
    const uint32_t N = hd[1];
    const int T = (int)hd[2];
    enum { CHUNK = 256 }; /* samples per prime_classify_batch call (the stream runs on across calls) */
    float *x = malloc(fs * CHUNK * sizeof(float));
    prime_result *res = malloc(CHUNK * sizeof *res);
    if (!x || !res) { free(x), free(res), free(b), prime_free(c); return 1; }
    printf("{\"load_ms\": %.3f, \"n\": %u, \"T\": %d, \"samples\": [", t_load * 1e3, N, T);
    int rc = 0;
    for (uint32_t s0 = 0; s0 < N && !rc; s0 += CHUNK) {
        const int m = N - s0 < CHUNK ? (int)(N - s0) : CHUNK;
        const uint8_t *p = b + ho + N + (size_t)s0 * fs;
        for (size_t k = 0; k < (size_t)m * fs; k++) x[k] = p[k];
        if ((rc = prime_classify_batch(c, x, m, T, res, threads)) != 0) { fprintf(stderr, "%s\n", prime_last_error()); break; }
        for (int i = 0; i < m; i++) {
            const uint32_t s = s0 + (uint32_t)i;
            printf("%s\n{\"truth\": %d, \"label\": %d, \"steps\": %d, \"logits\": [", s ? "," : "", b[ho + s], res[i].label, res[i].steps_used);
            for (int k = 0; k < res[i].n_classes; k++) printf("%s%.9g", k ? ", " : "", res[i].logits[k]);
            printf("]}");
        }
    }
    printf("]}\n");
    free(x), free(res), free(b), prime_free(c);
    return rc ? 1 : 0;
}

/* prime convert IN OUT: any model file (version 1 .prime / .pvae, or version
 * 2) as a version-2 model file. Written only when reloading it saves to the
 * same bytes. */
static int cmd_convert(const char *inp, const char *outp) {
    size_t n, on = 0, n2 = 0;
    uint8_t *b = read_file(inp, &n), *out = NULL, *again = NULL;
    if (!b) return 1;
    int kind = prime_model_kind(b, n);
    if (kind == PRIME_MODEL_GRAPH) {
        fprintf(stderr, "%s: a graph model file (docs/graph.md), version 2 already: not converted; use build/prime-graph info / run\n", inp);
        free(b);
        return 1;
    }
    int rc = prime_model_convert(b, n, &out, &on);
    free(b);
    if (rc != 0) { fprintf(stderr, "%s: %s\n", inp, prime_last_error()); return 1; }
    if (prime_model_convert(out, on, &again, &n2) != 0 || n2 != on || memcmp(out, again, on) != 0) {
        fprintf(stderr, "%s: the version-2 file does not reload to itself (%s); %s not written\n", inp, prime_last_error(), outp);
        prime_free_buffer(out), prime_free_buffer(again);
        return 3;
    }
    prime_free_buffer(again);
    FILE *f = fopen(outp, "wb");
    int ok = f && fwrite(out, 1, on, f) == on;
    if (f && fclose(f) != 0) ok = 0;
    prime_free_buffer(out);
    if (!ok) { fprintf(stderr, "cannot write %s\n", outp); return 1; }
    printf("wrote %s (%zu bytes): model file version 2, %s\n", outp, on, kind == PRIME_MODEL_VAE ? "inpainting VAE" : "classifier");
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "convert")) return cmd_convert(argv[2], argv[3]);
    if (argc >= 4 && !strcmp(argv[1], "import")) return cmd_import(argv[2], argv[3]);
    if (argc >= 4 && !strcmp(argv[1], "eval")) return cmd_eval(argc - 2, argv + 2);
    if (argc >= 3 && !strcmp(argv[1], "info")) return cmd_info(argv[2]);
    if (argc >= 3 && !strcmp(argv[1], "random-model")) return cmd_random_model(argv[2], argc > 3 ? strtoull(argv[3], NULL, 10) : 7);
    if (argc >= 4 && !strcmp(argv[1], "classify")) return cmd_classify(argc - 2, argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "onnx")) return cmd_onnx(argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 0);
    if (argc >= 5 && !strcmp(argv[1], "bench-frames")) return cmd_bench_frames(argc - 2, argv + 2);
    if (argc >= 5 && !strcmp(argv[1], "bench-vae")) return cmd_bench_vae(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "bench")) return cmd_bench(argc > 2 ? argv[2] : NULL, argc > 3 ? atoi(argv[3]) : 21);
    fprintf(stderr,
            "usage: prime info MODEL | random-model OUT [SEED] | import CKPT OUT | convert MODEL OUT\n"
            "       | eval MODEL FRAMES.pfrm [--ideal --stop TH --no-stop --threads N (0 = cores, default)]\n"
            "       | classify MODEL INPUT [--noise E --cell-noise --adc B\n"
            "       --chip SEED --stop TH --alpha A --T N --import NPZ --logits] | bench [MODEL [N]]\n"
            "       | bench-frames MODEL FRAMES.f32 N [--T N --noise E --cell-noise --adc B --dac B --stop TH --repeat R\n"
            "         --threads N (default 1)]\n"
            "       | onnx MODEL OUT.onnx [T]\n"
            "       | bench-vae MODEL.pvae IMAGES.f32 N [--noise E --adc B --dac B --stop TH --repeat R]\n"
            "--stop TH: early stop on, threshold TH (classifier: confidence; inpainting: convergence m_t); --no-stop: off\n"
            "--device KEY=VALUE (repeatable, classify, eval and bench-*): any device field by name, e.g. g_sd=5,\n"
            "       read_noise=0.1, read_model=weight, t_read=1d, r_row=1, adc_offset=0.5, preset=paper\n"
            "       (keys, units and ranges: docs/device.md; in order, later ones win)\n"
            "--logits (classify): the running logits after every step\n");
    return 2;
}
