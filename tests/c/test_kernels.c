/* test_kernels.c - the fast crossbar kernels against the plain reference ones
 * (prime_set_reference_kernels(1): scatter over inputs, one column at a time):
 * identical bits on real-sized networks under every device setting, and the
 * read-noise normal (ziggurat) has the moments and tails of N(0, 1). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"

#include "check.h"

/* Random masks pruning half of every weight layer. */
static void masks(prime_ctx *c, uint64_t seed) {
    const prime_arch *a = prime_get_arch(c);
    for (int l = 0; l < a->n_layers; l++) {
        size_t n = prime_layer_weights(&a->layers[l]);
        if (!n) continue;
        uint8_t *m = malloc(n);
        for (size_t i = 0; i < n; i++) m[i] = prime_rand_uniform(seed, 50 + l, i) >= 0.5;
        prime_set_mask(c, l, m, n);
        free(m);
    }
}

/* Runs x through c with the fast or the reference kernels; fills res and the
 * final layer states (membranes of every layer, CHW) into st. */
static void run(prime_ctx *c, const float *x, int T, int ref, prime_result *res, float *st, size_t *nst) {
    prime_set_reference_kernels(ref);
    prime_run r = prime_get_run(c);
    prime_set_run(c, &r); /* same noise stream */
    prime_classify(c, x, T, res);
    size_t k = 0;
    for (int l = 0; l < prime_get_arch(c)->n_layers; l++) {
        size_t n;
        const float *u = prime_layer_state(c, l, 0, &n);
        memcpy(st + k, u, n * sizeof(float));
        k += n;
    }
    *nst = k;
    prime_set_reference_kernels(0);
}

/* Network a at several input densities (sparse inputs take the scatter path
 * in the fast kernels too, dense ones the gather path) and device settings:
 * fast == reference, bit for bit. */
static void check_fast_equals_reference(prime_arch a, const char *name) {
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    if (!c) { CHECK(0, "create: %s", prime_last_error()); return; }
    masks(c, 3);
    const int T = 4;
    size_t nin = (size_t)T * 2 * 34 * 34;
    float *x = malloc(nin * sizeof(float)), *s1 = malloc(40000 * sizeof(float)), *s2 = malloc(40000 * sizeof(float));
    struct { float noise; int adc, dac, mode; } dev[] = {{0, 0, 0, 0}, {0, 14, 16, 0}, {0, 5, 4, 0}, {0.05f, 14, 16, 0}, {0.2f, 6, 0, 0}, {0.05f, 8, 16, 1}};
    float density[] = {0.01f, 0.07f, 0.3f, 1.0f};
    for (size_t di = 0; di < sizeof density / sizeof density[0]; di++) {
        for (size_t i = 0; i < nin; i++)
            x[i] = prime_rand_uniform(9, 1, i) < density[di] ? (float)(1 + (int)(prime_rand_uniform(9, 2, i) * 4)) : 0.0f;
        for (size_t k = 0; k < sizeof dev / sizeof dev[0]; k++) {
            d.read_noise = dev[k].noise, d.adc_bits = dev[k].adc, d.dac_bits = dev[k].dac, d.noise_mode = dev[k].mode;
            prime_set_device(c, &d);
            prime_result r1, r2;
            size_t n1, n2;
            run(c, x, T, 0, &r1, s1, &n1);
            run(c, x, T, 1, &r2, s2, &n2);
            int same = n1 == n2 && !memcmp(s1, s2, n1 * sizeof(float)) && !memcmp(r1.logits, r2.logits, sizeof r1.logits) &&
                       !memcmp(r1.spikes, r2.spikes, sizeof r1.spikes) && r1.counters.cell_reads == r2.counters.cell_reads &&
                       r1.counters.adc_conversions == r2.counters.adc_conversions;
            CHECK(same, "%s: density %.2f noise %.2f adc %d dac %d mode %d: fast and reference kernels differ (spikes %.0f/%.0f vs %.0f/%.0f)",
                  name, density[di], dev[k].noise, dev[k].adc, dev[k].dac, dev[k].mode, r1.spikes[0], r1.spikes[2], r2.spikes[0], r2.spikes[2]);
        }
    }
    free(x), free(s1), free(s2);
    prime_free(c);
}

/* 2,000,000 draws of the read-noise normal: mean, variance, skew, kurtosis
 * within 5 standard errors, tail fractions beyond 1, 2, 3, 4 sigma within 5
 * binomial standard errors of the exact values (the 3.44 ziggurat base). */
static void test_normal_moments(void) {
    const int N = 2000000;
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0, tail[5] = {0};
    for (int i = 0; i < N; i++) {
        double z = prime_dev_normal(0x1234, (uint64_t)i);
        m1 += z, m2 += z * z, m3 += z * z * z, m4 += z * z * z * z;
        for (int k = 1; k <= 4; k++) tail[k] += fabs(z) > k;
    }
    m1 /= N, m2 /= N, m3 /= N, m4 /= N;
    CHECK(fabs(m1) < 5 * sqrt(1.0 / N), "mean %g", m1);
    CHECK(fabs(m2 - 1) < 5 * sqrt(2.0 / N), "variance %g", m2);
    CHECK(fabs(m3) < 5 * sqrt(15.0 / N), "skew %g", m3);
    CHECK(fabs(m4 - 3) < 5 * sqrt(96.0 / N), "kurtosis %g", m4);
    const double exact[5] = {0, 0.31731050786, 0.04550026390, 0.00269979606, 0.00006334248};
    for (int k = 1; k <= 4; k++) {
        double f = tail[k] / N, se = sqrt(exact[k] * (1 - exact[k]) / N);
        CHECK(fabs(f - exact[k]) < 5 * se, "P(|z| > %d) = %g, exact %g", k, f, exact[k]);
    }
}

/* The N-MNIST network (stride 1) and a variant with stride-2 convs (the
 * kernels' general-stride paths). */
static void test_fast_equals_reference(void) {
    prime_arch a = prime_arch_nmnist();
    check_fast_equals_reference(a, "nmnist");
    a.layers[0].stride = 2, a.layers[2].stride = 2;
    CHECK_INT(prime_arch_finalize(&a), 0, "stride-2 variant: %s", prime_last_error());
    check_fast_equals_reference(a, "stride 2");
}

int main(void) {
    test_fast_equals_reference();
    test_normal_moments();
    return check_summary();
}
