/* test_augment.c - the training-set augmentation of prime-train --augment (src/augment.c).
 *
 * Synthetic images only (no dataset needed): the identity setting equals the
 * plain synthesizer bit for bit, draws are deterministic and keyed per copy,
 * each transform does what it says, bad parameters are refused by name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "check.h"
#include "data.h"
#include "prime.h"

/* n 28x28 images: a bright bar, its position and width per image. */
static prime_images make_images(int n) {
    prime_images im = {n, 28, 28, calloc((size_t)n * 784, sizeof(float)), calloc((size_t)n, 1)};
    for (int i = 0; i < n; i++) {
        for (int y = 6; y < 22; y++)
            for (int x = 8 + i % 5; x < 13 + i % 5 + i % 3; x++) im.x[(size_t)i * 784 + y * 28 + x] = 0.9f;
        im.y[i] = (uint8_t)(i % 10);
    }
    return im;
}

/* Events per sample (sum of the frame counts). */
static long count(const prime_frames *f, int s) {
    size_t ss = prime_frames_sample_size(f);
    long c = 0;
    for (size_t k = 0; k < ss; k++) c += f->x[(size_t)s * ss + k];
    return c;
}

/* The identity augmentation: every range a point at the synthesizer's default. */
static prime_aug_params identity(uint64_t seed) {
    prime_event_params e = prime_default_event_params();
    prime_aug_params a = prime_aug_default();
    a.seed = seed;
    a.p_camera = 0;
    a.contrast_lo = a.contrast_hi = e.contrast;
    a.amp_lo = a.amp_hi = e.amplitude;
    a.noise_lo = a.noise_hi = e.noise_rate;
    a.blur_hi = 0, a.shift = 0, a.gamma_lo = a.gamma_hi = 1, a.drop_hi = 0;
    return a;
}

int main(void) {
    const int N = 12, T = 10;
    prime_images im = make_images(N);

    /* identity == prime_frames_from_images_ev with the same seeds */
    prime_aug_params a = identity(5);
    prime_frames f, g;
    CHECK_INT(prime_frames_augmented(&im, T, &a, &f), 0, "identity augmentation runs");
    prime_event_params ev = prime_default_event_params();
    ev.seed = 5;
    CHECK_INT(prime_frames_from_images_ev(&im, T, &ev, &g), 0, "plain synthesizer runs");
    CHECK(f.n == N && g.n == N && memcmp(f.x, g.x, (size_t)N * prime_frames_sample_size(&f)) == 0 &&
              memcmp(f.y, g.y, N) == 0,
          "identity augmentation equals the plain synthesizer bit for bit");
    prime_frames_free(&f);
    prime_frames_free(&g);

    /* defaults: deterministic, copies laid out copy-major, copies differ */
    a = prime_aug_default();
    a.copies = 3;
    CHECK_INT(prime_frames_augmented(&im, T, &a, &f), 0, "default augmentation, 3 copies");
    CHECK_INT(prime_frames_augmented(&im, T, &a, &g), 0, "and again");
    size_t ss = prime_frames_sample_size(&f);
    CHECK(f.n == 3 * N && memcmp(f.x, g.x, (size_t)f.n * ss) == 0, "the same parameters give the same bytes");
    int labels_ok = 1, differ = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < N; i++) {
            labels_ok &= f.y[c * N + i] == im.y[i];
            if (c > 0) differ += memcmp(f.x + (size_t)(c * N + i) * ss, f.x + (size_t)i * ss, ss) != 0;
        }
    CHECK(labels_ok, "sample c*n + i carries image i's label");
    CHECK_INT(differ, 2 * N, "every copy of every image differs from copy 0");
    prime_frames_free(&g);
    /* the first copies do not depend on how many copies are made */
    a.copies = 1;
    CHECK_INT(prime_frames_augmented(&im, T, &a, &g), 0, "1 copy");
    CHECK(memcmp(f.x, g.x, (size_t)N * ss) == 0, "copy 0 is the same with 1 or 3 copies");
    CHECK(prime_aug_hash(&a, T) != prime_aug_hash(&(prime_aug_params){.copies = 3}, T), "hash sees copies");
    prime_frames_free(&f);
    prime_frames_free(&g);

    /* event drop thins the stream by about the drawn fraction */
    a = identity(9);
    CHECK_INT(prime_frames_augmented(&im, T, &a, &f), 0, "no drop");
    a.drop_hi = 0.9f;
    CHECK_INT(prime_frames_augmented(&im, T, &a, &g), 0, "drop up to 0.9");
    long c0 = 0, c1 = 0;
    for (int i = 0; i < N; i++) c0 += count(&f, i), c1 += count(&g, i);
    CHECK(c1 < c0 * 0.8 && c1 > c0 * 0.3, "drop <= 0.9 (mean 0.45) keeps %ld of %ld events", c1, c0);
    prime_frames_free(&f);
    prime_frames_free(&g);

    /* lower contrast threshold: more events */
    a = identity(9);
    a.contrast_lo = a.contrast_hi = 0.3f;
    CHECK_INT(prime_frames_augmented(&im, T, &a, &f), 0, "contrast 0.3");
    a.contrast_lo = a.contrast_hi = 0.08f;
    CHECK_INT(prime_frames_augmented(&im, T, &a, &g), 0, "contrast 0.08");
    c0 = c1 = 0;
    for (int i = 0; i < N; i++) c0 += count(&f, i), c1 += count(&g, i);
    CHECK(c1 > 2 * c0, "contrast 0.08 fires more than twice the events of 0.3 (%ld vs %ld)", c1, c0);
    prime_frames_free(&f);
    prime_frames_free(&g);

    /* bad parameters: refused, naming the field, nothing allocated */
    a = prime_aug_default();
    a.copies = 0;
    CHECK(prime_frames_augmented(&im, T, &a, &f) == -1 && strstr(prime_last_error(), "copies") && !f.x,
          "copies 0 refused: %s", prime_last_error());
    a = prime_aug_default();
    a.contrast_lo = 0.5f;
    CHECK(prime_aug_check(&a) == -1 && strstr(prime_last_error(), "contrast"), "contrast_lo > hi refused: %s",
          prime_last_error());
    a = prime_aug_default();
    a.p_camera = 1.5f;
    CHECK(prime_aug_check(&a) == -1 && strstr(prime_last_error(), "p_camera"), "p_camera 1.5 refused");
    a = prime_aug_default();
    a.drop_hi = 0.0f / 0.0f;
    CHECK(prime_aug_check(&a) == -1 && strstr(prime_last_error(), "drop_hi"), "drop_hi NaN refused");
    a = prime_aug_default();
    CHECK(prime_frames_augmented(&im, 0, &a, &f) == -1 && strstr(prime_last_error(), "T = 0"), "T 0 refused");

    free(im.x);
    free(im.y);
    return check_summary();
}
