/* test_clf.c - the Inception-Score classifier and the inpainting metrics
 * helpers: IS on known cases, .pclf round trip and bad files, determinism, a
 * CI-sized check that the classifier learns, and the free-form mask assets. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classifier.h"
#include "data.h"
#include "inpaint_eval.h"
#include "prime.h"

#include "check.h"

/* ------------------------------------------------------------ Inception Score */
static void test_is(void) {
    enum { K = 10, N = 200 };
    static float p[N * K];
    for (int i = 0; i < N * K; i++) p[i] = 1.0f / K; /* uniform predictions */
    double is = prime_inception_score(p, N, K);
    CHECK(fabs(is - 1) < 1e-9, "uniform predictions: IS %.12f, want 1", is);
    memset(p, 0, sizeof p); /* confident, balanced: 20 per class */
    for (int i = 0; i < N; i++) p[i * K + i % K] = 1;
    is = prime_inception_score(p, N, K);
    CHECK(fabs(is - K) < 1e-9, "confident balanced: IS %.12f, want %d", is, K);
    memset(p, 0, sizeof p); /* confident, all one class */
    for (int i = 0; i < N; i++) p[i * K + 3] = 1;
    is = prime_inception_score(p, N, K);
    CHECK(fabs(is - 1) < 1e-9, "confident, one class: IS %.12f, want 1", is);
    memset(p, 0, sizeof p); /* confident over 5 of 10 classes */
    for (int i = 0; i < N; i++) p[i * K + 2 * (i % 5)] = 1;
    is = prime_inception_score(p, N, K);
    CHECK(fabs(is - 5) < 1e-9, "confident over 5 classes: IS %.12f, want 5", is);
    CHECK(prime_inception_score(NULL, N, K) == -1 && prime_inception_score(p, 0, K) == -1, "bad arguments give -1");
    printf("inception score: uniform = 1, confident balanced = %d, one class = 1, five classes = 5 ok\n", K);
}

/* ------------------------------------------------------------ file format */
static void test_file(void) {
    prime_clf *c = prime_clf_create(32, 16, 10, 7);
    CHECK(c != NULL, "create: %s", prime_last_error());
    snprintf(prime_clf_get_arch(c)->name, 16, "mnist");
    prime_clf_get_arch(c)->test_acc = 12.5f;
    uint8_t *b;
    size_t n;
    CHECK_INT(prime_clf_save(c, &b, &n), 0, "save");
    prime_clf *d = prime_clf_load(b, n);
    CHECK(d != NULL, "load: %s", prime_last_error());
    float img[3 * 1024], p1[30], p2[30];
    for (int i = 0; i < 3 * 1024; i++) img[i] = (float)((i * 37 % 101) / 50.0 - 1);
    prime_clf_predict(c, img, 3, p1);
    prime_clf_predict(d, img, 3, p2);
    CHECK(d && memcmp(p1, p2, sizeof p1) == 0, "round trip: same predictions");
    CHECK(d && !strcmp(prime_clf_get_arch(d)->name, "mnist") && prime_clf_get_arch(d)->test_acc == 12.5f, "header round trip");
    uint8_t *b2;
    size_t n2;
    CHECK(d && prime_clf_save(d, &b2, &n2) == 0 && n2 == n && !memcmp(b, b2, n), "save(load(x)) == x");
    if (d) free(b2);
    prime_clf_free(d);
    /* bad files: each gives NULL and says why */
    CHECK(!prime_clf_load(b, 10) && strstr(prime_last_error(), "magic"), "too short: %s", prime_last_error());
    CHECK(!prime_clf_load(b, n - 1) && strstr(prime_last_error(), "bytes"), "truncated: %s", prime_last_error());
    b[100] ^= 1;
    CHECK(!prime_clf_load(b, n) && strstr(prime_last_error(), "checksum"), "flipped bit: %s", prime_last_error());
    b[100] ^= 1;
    b[8] = 2;
    CHECK(!prime_clf_load(b, n) && strstr(prime_last_error(), "version"), "version 2: %s", prime_last_error());
    b[8] = 1;
    b[0] = 'X';
    CHECK(!prime_clf_load(b, n) && strstr(prime_last_error(), "magic"), "magic: %s", prime_last_error());
    b[0] = 'P';
    b[16] = 0xff, b[17] = 0xff; /* hidden 65535 */
    CHECK(!prime_clf_load(b, n) && strstr(prime_last_error(), "range"), "sizes: %s", prime_last_error());
    CHECK(!prime_clf_load(NULL, 0), "NULL");
    CHECK(!prime_clf_create(32, 0, 10, 1) && !prime_clf_create(32, 8, 99, 1), "bad sizes rejected");
    free(b);
    prime_clf_free(c);
    printf("classifier file: round trip, short / truncated / corrupted / version / magic / sizes rejected ok\n");
}

/* ------------------------------------------------------------ learning */
static void test_learns(void) {
    float *x, *xt;
    uint8_t *y, *yt;
    int n = prime_images_load32("mnist", "train", 2000, &x, &y);
    int nt = prime_images_load32("mnist", "test", 500, &xt, &yt);
    if (n < 0 || nt < 0) { CHECK(0, "MNIST digits needed (./build.sh setup): %s", prime_last_error()); return; }
    prime_clf_params p = prime_clf_default_params();
    p.epochs = 2;
    double acc[2];
    uint8_t *bytes[2];
    size_t nb[2];
    for (int run = 0; run < 2; run++) { /* twice: same bytes */
        prime_clf *c = prime_clf_create(32, 64, 10, 3);
        double loss = 0;
        for (int e = 0; e < p.epochs; e++) prime_clf_train_epoch(c, x, y, n, e, &p, &loss);
        float *pr = malloc(sizeof(float) * 10 * nt);
        prime_clf_predict(c, xt, nt, pr);
        acc[run] = prime_clf_accuracy(pr, yt, nt, 10);
        prime_clf_save(c, &bytes[run], &nb[run]);
        free(pr);
        prime_clf_free(c);
    }
    CHECK(acc[0] > 80, "2 epochs on 2,000 digits: test accuracy %.1f %% (chance 10 %%)", acc[0]);
    CHECK(nb[0] == nb[1] && !memcmp(bytes[0], bytes[1], nb[0]), "training is deterministic (same bytes twice)");
    printf("classifier learns: %.1f %% on 500 test digits after 2 epochs of 2,000 (chance 10 %%); deterministic ok\n", acc[0]);
    free(bytes[0]), free(bytes[1]), free(x), free(y), free(xt), free(yt);
}

/* ------------------------------------------------------------ holes */
static void test_holes(void) {
    uint8_t h[1024] = {0};
    prime_inpaint_rect(h, 32, 30, -2, 8, 4); /* clipped: x 30..31, y 0..1 */
    int n = 0;
    for (int p = 0; p < 1024; p++) n += h[p];
    CHECK(n == 4 && h[30] && h[31] && h[62] && h[63], "rect clipped to the image: %d pixels", n);
    /* the free-form mask assets decode to a non-trivial hole */
    const char *assets[] = {"tests/assets/mask-stroke.png", "tests/assets/mask-blobs.png"};
    for (int k = 0; k < 2; k++) {
        uint8_t *b;
        size_t nb;
        float g[1024];
        if (prime_read_file(assets[k], &b, &nb) != 0) { CHECK(0, "%s", prime_last_error()); continue; }
        CHECK_INT(prime_image_decode(b, nb, 32, 32, 0, g), 0, "%s: %s", assets[k], prime_last_error());
        free(b);
        int m = 0;
        for (int p = 0; p < 1024; p++) m += g[p] >= 0.5f;
        CHECK(m > 20 && m < 400, "%s: %d hole pixels", assets[k], m);
    }
    /* a fill of the clean values is a perfect inpainting */
    float img[2 * 1024];
    for (int p = 0; p < 2 * 1024; p++) img[p] = -1;
    prime_inpaint_stats st;
    memset(h, 0, sizeof h);
    prime_inpaint_rect(h, 32, 12, 12, 8, 8);
    CHECK(prime_inpaint_fill(img, 2, 32, h, -1, &st, NULL) == 0 && st.mse == 0 && fabs(st.ssim - 1) < 1e-12, "exact fill: mse %g ssim %g", st.mse, st.ssim);
    CHECK(prime_inpaint_fill(img, 2, 32, h, 0, &st, NULL) == 0 && fabs(st.mse - 1) < 1e-12, "fill 0 on -1: mse %g", st.mse);
    printf("holes: rectangles clipped, free-form assets decode, constant fills score as expected ok\n");
}

int main(void) {
    test_is();
    test_file();
    test_holes();
    test_learns();
    return check_summary();
}
