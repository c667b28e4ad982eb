/* train_wasm.c - the mask trainer as a second wasm module (wasm/prime-train.wasm).
 *
 * Re-prunes a shipped model for another chip in the page (docs/web.md,
 * "Re-pruning"): the trainer of src/train.c over the model's device with a new
 * chip seed, on frames synthesized here from sample images exactly as the page
 * does (events.c, seed event_seed + index), driven batch by batch so the
 * worker reports progress and cancels between batches (wasm/prime-train.js).
 *
 *     pt *t = pt_create(model, n, chip_seed, warm, lr, batch, epochs, seed);
 *     pt_add_images(t, 0, pixels, labels, indices, n, 28, 28, event_seed); // train
 *     pt_add_images(t, 1, ...);                                           // test
 *     while (pt_step(t, 1, stats) > 0) ...;  pt_evaluate(t, out);  pt_mask(t, wl);
 *
 * Also builds natively (tests link it with the library); one thread, no files.
 */
#include "train.h"
#include "pmath.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__EMSCRIPTEN__)
#define EXPORT __attribute__((used, visibility("default")))
#else
#define EXPORT
#endif

typedef struct pt {
    prime_trainer *tr;
    prime_frames set[2]; /* 0 train, 1 test */
    int cap[2];
    int *order;
    int epochs, batch;
    float lr;
    uint64_t seed;
    long step;           /* batches done */
    double ep_loss;      /* running sums of the current epoch */
    long ep_correct, ep_n;
} pt;

#if defined(__EMSCRIPTEN__)
/* data.c (files, zlib, threads) is not in the module: its one helper the trainer uses. */
size_t prime_frames_sample_size(const prime_frames *f) {
    return (size_t)f->T * f->c * f->h * f->w;
}
EXPORT void *pt_malloc(size_t n) { return malloc(n ? n : 1); }
EXPORT void pt_free_buf(void *p) { free(p); }
EXPORT const char *pt_last_error(void) { return prime_last_error(); }
#endif

/* Frees a trainer made by pt_create (NULL is fine). */
EXPORT void pt_free(pt *t) {
    if (!t) return;
    prime_trainer_free(t->tr);
    for (int s = 0; s < 2; s++) { free(t->set[s].x); free(t->set[s].y); }
    free(t->order);
    free(t);
}

/* A trainer over the chip of the .prime model `bytes` re-formed with
 * chip_seed (its other device settings kept). warm = 1 starts from the
 * model's masks, 0 from fresh random scores. Adam at peak lr, cosine-decayed
 * over epochs x batches. NULL on error (prime_last_error). */
EXPORT pt *pt_create(const uint8_t *bytes, size_t n, double chip_seed, int warm, float lr,
                     int batch, int epochs, double seed) {
    if (!(lr > 0) || batch < 1 || epochs < 1) {
        prime_error("re-prune: lr > 0, batch >= 1 and epochs >= 1 needed (got %g, %d, %d)",
                    (double)lr, batch, epochs);
        return NULL;
    }
    prime_ctx *m = prime_load(bytes, n);
    if (!m) return NULL;
    prime_device d = prime_get_device(m);
    const prime_arch *a = prime_get_arch(m);
    prime_train_params p = prime_train_default_params();
    p.T = a->T;
    p.batch = batch;
    p.epochs = epochs;
    p.lr = lr;
    p.seed = (uint64_t)seed;
    p.threads = 1;
    p.verbose = 0;
    p.sparsity = a->layers[0].sparsity;
    /* the trainer's network is the model's: conv widths from its file (the Fashion model's
     * conv1 has 24 channels, the digits' 12); any other difference is refused by the mask
     * copy below, naming the layer */
    if (a->n_layers >= 3) {
        p.c1 = a->layers[0].out_c;
        p.c2 = a->layers[2].out_c;
    }
    d.chip_seed = (uint64_t)chip_seed;
    pt *t = calloc(1, sizeof *t);
    if (!t) { prime_free(m); prime_error("re-prune: out of memory"); return NULL; }
    t->tr = prime_trainer_create_on(&p, &d);
    t->epochs = epochs; t->batch = batch; t->lr = lr; t->seed = p.seed;
    int ok = t->tr != NULL;
    for (int wl = 0; ok && wl < prime_trainer_n_weight_layers(t->tr); wl++) {
        size_t nw = prime_trainer_layer_size(t->tr, wl);
        uint8_t *mk = malloc(nw);
        ok = mk && prime_get_mask(m, prime_trainer_layer_index(t->tr, wl), mk, nw) == 0 &&
             (!warm || prime_trainer_warm_start(t->tr, wl, mk, nw) == 0);
        if (!mk) prime_error("re-prune: out of memory");
        free(mk);
    }
    prime_free(m);
    if (!ok) { pt_free(t); return NULL; }
    return t;
}

/* Appends n images (u8 pixels w x h each, labels, original indices) to set
 * s (0 train, 1 test) as T event frames, image j with event seed
 * event_seed + indices[j] (the page's convention, docs/data.md). 0 or -1. */
EXPORT int pt_add_images(pt *t, int s, const uint8_t *pixels, const uint8_t *labels,
                         const uint32_t *indices, int n, int w, int h, double event_seed) {
    if (!t || s < 0 || s > 1 || n < 0 || (n && (!pixels || !labels || !indices)) || w < 1 || h < 1)
        return prime_error("re-prune: bad image set");
    prime_event_params ep = prime_default_event_params();
    prime_frames *f = &t->set[s];
    int T = prime_get_arch(prime_trainer_ctx(t->tr))->T;
    f->T = T; f->c = 2; f->h = f->w = ep.size;
    size_t ss = prime_frames_sample_size(f);
    if (f->n + n > t->cap[s]) {
        int cap = f->n + n;
        uint8_t *x = realloc(f->x, (size_t)cap * ss), *y = x ? realloc(f->y, (size_t)cap) : NULL;
        if (x) f->x = x;
        if (y) f->y = y;
        if (!x || !y) return prime_error("re-prune: out of memory for %d samples", cap);
        t->cap[s] = cap;
    }
    float *img = malloc(sizeof(float) * (size_t)w * h), *fr = malloc(sizeof(float) * ss);
    if (!img || !fr) { free(img); free(fr); return prime_error("re-prune: out of memory"); }
    for (int j = 0; j < n; j++) {
        if (labels[j] >= prime_get_arch(prime_trainer_ctx(t->tr))->n_classes) {
            free(img); free(fr);
            return prime_error("re-prune: image %d has label %d", j, labels[j]);
        }
        for (int k = 0; k < w * h; k++) img[k] = pixels[(size_t)j * w * h + k] / 255.0f;
        prime_event *ev = NULL;
        size_t ne;
        ep.seed = (uint64_t)event_seed + indices[j];
        int rc = prime_events_from_image(img, w, h, &ep, &ev, &ne);
        if (rc == 0) rc = prime_events_bin(ev, ne, T, ep.size, fr);
        free(ev);
        if (rc != 0) { free(img); free(fr); return -1; }
        uint8_t *o = f->x + (size_t)f->n * ss;
        for (size_t k = 0; k < ss; k++) o[k] = fr[k] > 255 ? 255 : (uint8_t)fr[k];
        f->y[f->n++] = labels[j];
    }
    free(img); free(fr);
    return 0;
}

/* Runs up to nb more batches. stats (8 doubles) gets: batches done, total
 * batches, epoch (1-based, of the last batch), epochs, the epoch's mean
 * loss and train accuracy so far, the last learning rate, batches per epoch.
 * Returns the batches still to run (0: done), or -1 on error. */
EXPORT int pt_step(pt *t, int nb, double *stats) {
    if (!t || !t->set[0].n) return prime_error("re-prune: no training images");
    int N = t->set[0].n, B = t->batch, per = (N + B - 1) / B;
    long total = (long)per * t->epochs;
    if (!t->order && !(t->order = malloc(sizeof(int) * N))) return prime_error("re-prune: out of memory");
    double lr = 0;
    for (int k = 0; k < nb && t->step < total; k++) {
        int ep = (int)(t->step / per), b = (int)(t->step % per);
        if (b == 0) { /* new epoch: Fisher-Yates from the counter RNG, as prime_trainer_fit */
            for (int i = 0; i < N; i++) t->order[i] = i;
            for (int i = N - 1; i > 0; i--) {
                int q = (int)(prime_rand_u64(t->seed, 0x7368756666ull + ep, i) % (uint64_t)(i + 1));
                int tmp = t->order[i]; t->order[i] = t->order[q]; t->order[q] = tmp;
            }
            t->ep_loss = 0; t->ep_correct = 0; t->ep_n = 0;
        }
        int m = N - b * B < B ? N - b * B : B;
        lr = 0.5 * t->lr * (1 + cos(M_PI * (double)t->step / (double)total));
        double ls;
        int cor;
        if (prime_trainer_batch(t->tr, &t->set[0], t->order + (size_t)b * B, m, (float)lr, &ls, &cor) != 0)
            return -1;
        t->step++;
        t->ep_loss += ls; t->ep_correct += cor; t->ep_n += m;
    }
    if (stats) {
        long s = t->step;
        stats[0] = (double)s; stats[1] = (double)total;
        stats[2] = s ? (double)((s - 1) / per + 1) : 0; stats[3] = t->epochs;
        stats[4] = t->ep_n ? t->ep_loss / t->ep_n : 0;
        stats[5] = t->ep_n ? (double)t->ep_correct / t->ep_n : 0;
        stats[6] = lr; stats[7] = per;
    }
    return (int)(total - t->step);
}

/* Accuracy and mean loss of the current masks on the first n samples of set s
 * (n <= 0: all) into out[0], out[1]. 0 or -1. */
EXPORT int pt_evaluate(pt *t, int s, int n, double *out) {
    if (!t || s < 0 || s > 1 || !t->set[s].n || !out) return prime_error("re-prune: nothing to evaluate");
    return prime_trainer_evaluate(t->tr, &t->set[s], n, &out[0], &out[1]);
}

/* Number of weight layers, the arch layer index of weight layer wl, and its
 * current mask (layer_size bytes, owned by the trainer; NULL on a bad wl). */
EXPORT int pt_n_layers(pt *t) { return t ? prime_trainer_n_weight_layers(t->tr) : 0; }
EXPORT int pt_layer_index(pt *t, int wl) { return t ? prime_trainer_layer_index(t->tr, wl) : -1; }
EXPORT int pt_layer_size(pt *t, int wl) { return t ? (int)prime_trainer_layer_size(t->tr, wl) : 0; }
EXPORT const uint8_t *pt_mask(pt *t, int wl) {
    if (!t) return NULL;
    prime_trainer_refresh(t->tr);
    return prime_trainer_mask(t->tr, wl);
}
