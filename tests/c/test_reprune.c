/* test_reprune.c - the step-wise trainer API of re-pruning (src/train_wasm.c,
 * train.h: create_on, warm start, batch step) on a real chip, natively.
 *
 * Checks: a trainer formed with a device takes that device's chip (weights
 * differ between chip seeds, equal for the same); a warm start makes the mask
 * exactly the given one; a bad warm-start mask is refused with a message; the
 * batch step runs and changes the masks; pt_create/pt_add_images/pt_step/
 * pt_evaluate over the shipped digits model (when present) give the shipped
 * masks' accuracy class of result: warm start on chip #1 classifies its own
 * training frames far above chance. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "train.h"
#include "data.h"
#include "pmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

typedef struct pt pt;
pt *pt_create(const uint8_t *bytes, size_t n, double chip_seed, int warm, float lr, int batch,
              int epochs, double seed);
void pt_free(pt *t);
int pt_add_images(pt *t, int s, const uint8_t *pixels, const uint8_t *labels, const uint32_t *indices,
                  int n, int w, int h, double event_seed);
int pt_step(pt *t, int nb, double *stats);
int pt_evaluate(pt *t, int s, int n, double *out);
const uint8_t *pt_mask(pt *t, int wl);
int pt_layer_size(pt *t, int wl);

static void test_api(void) {
    prime_train_params p = prime_train_default_params();
    p.threads = 1; p.verbose = 0; p.batch = 4; p.T = 10;
    prime_device d = prime_default_device();
    d.chip_seed = 5;
    prime_trainer *a = prime_trainer_create_on(&p, &d), *b = prime_trainer_create_on(&p, &d);
    d.chip_seed = 6;
    prime_trainer *c = prime_trainer_create_on(&p, &d);
    CHECK(a && b && c, "trainers formed: %s", prime_last_error());
    if (!a || !b || !c) return;
    size_t n = prime_trainer_layer_size(a, 2);
    float *wa = malloc(n * sizeof(float)), *wb = malloc(n * sizeof(float)), *wc = malloc(n * sizeof(float));
    prime_get_weights(prime_trainer_ctx(a), prime_trainer_layer_index(a, 2), 1, wa, n);
    prime_get_weights(prime_trainer_ctx(b), prime_trainer_layer_index(b, 2), 1, wb, n);
    prime_get_weights(prime_trainer_ctx(c), prime_trainer_layer_index(c, 2), 1, wc, n);
    CHECK(memcmp(wa, wb, n * sizeof(float)) == 0, "same chip seed, same conductances");
    CHECK(memcmp(wa, wc, n * sizeof(float)) != 0, "another chip seed, other conductances");
    free(wa); free(wb); free(wc);

    /* warm start: a mask pruning exactly half, in a pattern unlike the scores' */
    uint8_t *m = malloc(n);
    size_t npr = (size_t)floor(0.5 * (double)n), k = 0;
    for (size_t i = 0; i < n; i++) m[i] = 1;
    for (size_t i = 0; i < n && k < npr; i += 2) { m[i] = 0; k++; }
    for (size_t i = 1; i < n && k < npr; i += 2) { m[i] = 0; k++; }
    CHECK_INT(prime_trainer_warm_start(a, 2, m, n), 0, "warm start");
    CHECK(memcmp(prime_trainer_mask(a, 2), m, n) == 0, "the mask after a warm start is the given one");
    m[1] ^= 1;
    CHECK_INT(prime_trainer_warm_start(a, 2, m, n), -1, "a mask pruning another count is refused");
    CHECK(strstr(prime_last_error(), "prunes") != NULL, "with a message: %s", prime_last_error());
    m[1] ^= 1;

    /* one batch step on sparse random frames changes scores (and so, in time, masks) */
    prime_frames f = {.n = 4, .T = 10, .c = 2, .h = 34, .w = 34};
    size_t ss = prime_frames_sample_size(&f);
    f.x = calloc(4 * ss, 1); f.y = malloc(4);
    for (size_t i = 0; i < 4 * ss; i++) f.x[i] = prime_rand_uniform(3, 1, i) < 0.05 ? 1 : 0;
    for (int i = 0; i < 4; i++) f.y[i] = (uint8_t)i;
    int idx[4] = {0, 1, 2, 3}, cor = -1;
    double loss = NAN;
    for (int s = 0; s < 5; s++)
        CHECK_INT(prime_trainer_batch(a, &f, idx, 4, 0.05f, &loss, &cor), 0, "batch step %d", s);
    CHECK(isfinite(loss) && loss > 0 && cor >= 0 && cor <= 4, "batch loss %g, correct %d", loss, cor);
    prime_trainer_refresh(a);
    size_t diff = 0;
    for (size_t i = 0; i < n; i++) diff += prime_trainer_mask(a, 2)[i] != m[i];
    CHECK(diff > 0, "5 steps at lr 0.05 moved %zu mask bits of the fc layer", diff);
    CHECK_INT(prime_trainer_batch(a, &f, idx, 5, 0.05f, NULL, NULL), -1, "a batch larger than the set is refused");
    free(f.x); free(f.y); free(m);
    prime_trainer_free(a); prime_trainer_free(b); prime_trainer_free(c);
}

/* The wasm entry points over the shipped model and the shipped training digits. */
static void test_pt(void) {
    uint8_t *mb = NULL, *sb = NULL;
    size_t mn = 0, sn = 0;
    int have = prime_read_file("models/nmnist-digits.prime", &mb, &mn) == 0 &&
               prime_read_file("web/samples/mnist-train.psmp", &sb, &sn) == 0;
    CHECK_DATA(have, "models/nmnist-digits.prime and web/samples/mnist-train.psmp");
    if (!have) { free(mb); free(sb); return; }
    uint32_t n = 0, w = 0, h = 0;
    uint64_t es = 0;
    memcpy(&n, sb + 8, 4); memcpy(&w, sb + 12, 4); memcpy(&h, sb + 16, 4); memcpy(&es, sb + 20, 8);
    int k = n < 64 ? (int)n : 64;
    const uint32_t *ix = (const uint32_t *)(sb + 28);
    const uint8_t *lb = sb + 28 + 4 * n, *px = sb + 28 + 5 * n;
    double st[8], ev[2];
    pt *ref = pt_create(mb, mn, 1, 1, 1e-2f, 32, 1, 1);  /* chip #1, shipped masks */
    pt *fresh = pt_create(mb, mn, 2, 0, 1e-2f, 32, 1, 1); /* chip #2, random scores */
    CHECK(ref && fresh, "pt_create: %s", prime_last_error());
    if (ref && fresh) {
        CHECK_INT(pt_add_images(ref, 0, px, lb, ix, k, (int)w, (int)h, (double)es), 0, "add images");
        CHECK_INT(pt_evaluate(ref, 0, 0, ev), 0, "evaluate");
        CHECK(ev[0] > 0.8, "shipped masks on chip #1: %.1f %% of %d training digits", 100 * ev[0], k);
        CHECK_INT(pt_add_images(fresh, 0, px, lb, ix, k, (int)w, (int)h, (double)es), 0, "add images");
        CHECK_INT(pt_step(fresh, 1, st), 1, "one of two batches done, one left");
        CHECK(st[0] == 1 && st[1] == 2 && st[2] == 1 && isfinite(st[4]), "stats %g %g %g %g", st[0], st[1], st[2], st[4]);
        CHECK_INT(pt_step(fresh, 5, st), 0, "the rest, then done");
        CHECK_INT(pt_step(fresh, 1, st), 0, "nothing more to do");
        CHECK(pt_mask(fresh, 0) != NULL && pt_layer_size(fresh, 0) > 0, "masks readable");
        uint8_t bad = 10;
        CHECK_INT(pt_add_images(fresh, 1, px, &bad, ix, 1, (int)w, (int)h, 0), -1, "label 10 refused");
    }
    CHECK(pt_create(mb, mn, 2, 0, 0, 32, 1, 1) == NULL, "lr 0 refused");
    CHECK(pt_create(mb, 10, 2, 0, 1e-2f, 32, 1, 1) == NULL, "a truncated model refused: %s", prime_last_error());
    pt_free(ref); pt_free(fresh);
    free(mb); free(sb);
}

int main(void) {
    test_api();
    test_pt();
    return check_summary();
}
