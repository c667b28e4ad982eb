/* test_batch.c - prime_classify_batch against prime_classify one at a time:
 * the same results bit for bit (logits, probabilities, confidences, spikes,
 * counters, energy) at 1, 2, 3 and 8 threads, with read noise (column and
 * cell mode) and early stop; the context ends as after the sequential calls;
 * bad input is refused before anything runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "pmath.h"
#include "prime.h"
#include "device_opts.h"

#include "check.h"

/* n inputs of T frames, sample i with its own density (event counts 1..4). */
static float *inputs(int n, size_t per) {
    float *x = malloc((size_t)n * per * sizeof(float));
    for (int i = 0; i < n; i++) {
        const float dens = 0.02f + 0.3f * (float)i / (float)n;
        for (size_t k = 0; k < per; k++) {
            const size_t q = (size_t)i * per + k;
            x[q] = prime_rand_uniform(11, 1, q) < dens ? (float)(1 + (int)(prime_rand_uniform(11, 2, q) * 4)) : 0.0f;
        }
    }
    return x;
}

/* Sample j's membranes of every layer, after the last call on c. */
static size_t states(prime_ctx *c, float *out) {
    size_t k = 0;
    for (int l = 0; l < prime_get_arch(c)->n_layers; l++) {
        size_t n;
        const float *u = prime_layer_state(c, l, PRIME_STATE_MEMBRANE, &n);
        memcpy(out + k, u, n * sizeof(float));
        k += n;
    }
    return k;
}

static void check_setting(prime_ctx *c, const float *x, int n, int T, size_t per, const char *name) {
    prime_result *seq = calloc((size_t)n + 1, sizeof *seq), *bat = calloc((size_t)n + 1, sizeof *bat);
    float *st1 = malloc(60000 * sizeof(float)), *st2 = malloc(60000 * sizeof(float));
    prime_run r = prime_get_run(c);
    prime_set_run(c, &r); /* the stream from inference 0 */
    for (int i = 0; i < n; i++) prime_classify(c, x + (size_t)i * per, T, &seq[i]);
    const size_t ns = states(c, st1);
    prime_classify(c, x, T, &seq[n]); /* the one after: inference n */
    int threads[] = {1, 2, 3, 8, 0};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        prime_set_run(c, &r);
        memset(bat, 0xab, (size_t)(n + 1) * sizeof *bat);
        int rc = prime_classify_batch(c, x, n, T, bat, threads[t]);
        CHECK(rc == 0, "%s, %d threads: batch failed: %s", name, threads[t], prime_last_error());
        int diff = -1;
        for (int i = 0; i < n && diff < 0; i++)
            if (memcmp(&seq[i], &bat[i], sizeof seq[i])) diff = i;
        CHECK(diff < 0, "%s, %d threads: sample %d differs from the one-at-a-time result (label %d/%d, steps %d/%d)",
              name, threads[t], diff, diff >= 0 ? seq[diff].label : 0, diff >= 0 ? bat[diff].label : 0,
              diff >= 0 ? seq[diff].steps_used : 0, diff >= 0 ? bat[diff].steps_used : 0);
        CHECK(prime_get_inference(c) == (uint64_t)n, "%s, %d threads: next inference %llu, want %d", name, threads[t],
              (unsigned long long)prime_get_inference(c), n);
        CHECK(states(c, st2) == ns && !memcmp(st1, st2, ns * sizeof(float)),
              "%s, %d threads: layer states after the batch differ from those after the sequential calls", name, threads[t]);
        prime_classify(c, x, T, &bat[n]);
        CHECK(!memcmp(&seq[n], &bat[n], sizeof seq[n]), "%s, %d threads: the classify after the batch differs", name,
              threads[t]);
    }
    /* the batch in two halves = one batch (the stream continues) */
    prime_set_run(c, &r);
    prime_classify_batch(c, x, n / 2, T, bat, 2);
    prime_classify_batch(c, x + (size_t)(n / 2) * per, n - n / 2, T, bat + n / 2, 2);
    int same = 1;
    for (int i = 0; i < n; i++) same &= !memcmp(&seq[i], &bat[i], sizeof seq[i]);
    CHECK(same, "%s: two half batches differ from the sequential calls", name);
    /* a worker process continues at an inference number */
    prime_set_run(c, &r);
    CHECK(prime_set_inference(c, 5) == 0, "set_inference");
    prime_classify_batch(c, x + 5 * per, n - 5, T, bat + 5, 3);
    same = 1;
    for (int i = 5; i < n; i++) same &= !memcmp(&seq[i], &bat[i], sizeof seq[i]);
    CHECK(same, "%s: a batch from inference 5 differs from samples 5.. of the sequential calls", name);
    free(seq), free(bat), free(st1), free(st2);
}

static void check_errors(prime_ctx *c, float *x, int n, int T, size_t per) {
    prime_result *res = calloc((size_t)n, sizeof *res), one, ref;
    prime_run r = prime_get_run(c);
    prime_set_run(c, &r);
    prime_classify(c, x, T, &ref);
    prime_set_run(c, &r);
    const float keep = x[3 * per + 17];
    x[3 * per + 17] = 1.0f / 0.0f;
    CHECK(prime_classify_batch(c, x, n, T, res, 2) == -1 && strstr(prime_last_error(), "batch sample 3") &&
              strstr(prime_last_error(), "not finite"),
          "an infinite input in sample 3 is refused, naming it: '%s'", prime_last_error());
    x[3 * per + 17] = keep;
    CHECK(prime_get_inference(c) == 0, "a refused batch counts no inference");
    prime_classify(c, x, T, &one);
    CHECK(!memcmp(&one, &ref, sizeof one), "after a refused batch the stream is where it was");
    CHECK(prime_classify_batch(c, x, n, T, res, -1) == -1 && strstr(prime_last_error(), "threads"), "threads -1: %s",
          prime_last_error());
    CHECK(prime_classify_batch(c, x, n, T, res, 100000) == -1, "threads 100000 refused");
    CHECK(prime_classify_batch(c, x, n, 0, res, 1) == -1 && strstr(prime_last_error(), "T = 0"), "T = 0: %s",
          prime_last_error());
    CHECK(prime_classify_batch(c, NULL, n, T, res, 1) == -1, "NULL inputs refused");
    CHECK(prime_classify_batch(c, x, -1, T, res, 1) == -1, "n = -1 refused");
    CHECK(prime_classify_batch(c, x, 0, T, res, 1) == 0, "n = 0 does nothing");
    CHECK(prime_classify_batch(NULL, x, n, T, res, 1) == -1, "NULL context refused");
    CHECK(prime_set_inference(c, 1ull << 60) == -1, "inference 2^60 refused");
    CHECK(prime_cpu_count() >= 1, "cpu count %d", prime_cpu_count());
    free(res);
}

int main(void) {
    /* the shipped digits model (trained masks, the default device) */
    uint8_t *bytes;
    size_t nb;
    if (prime_read_file("models/nmnist-digits.prime", &bytes, &nb) != 0) { printf("models/nmnist-digits.prime: %s\n", prime_last_error()); return 1; }
    prime_ctx *c = prime_load(bytes, nb);
    free(bytes);
    if (!c) { printf("load: %s\n", prime_last_error()); return 1; }
    const prime_arch a = *prime_get_arch(c);
    prime_device d = prime_get_device(c);
    const int T = 6, n = 24;
    const size_t per = (size_t)T * a.in_c * a.in_h * a.in_w;
    float *x = inputs(n, per);
    struct { float noise; int mode, stop; const char *name; } set[] = {
        {0, PRIME_NOISE_COLUMN, 0, "noise off"},
        {0.05f, PRIME_NOISE_COLUMN, 0, "read noise 0.05"},
        {0.05f, PRIME_NOISE_COLUMN, 1, "read noise 0.05, early stop"},
        {0.1f, PRIME_NOISE_CELL, 1, "cell noise 0.1, early stop"},
    };
    for (size_t k = 0; k < sizeof set / sizeof set[0]; k++) {
        d.read_noise = set[k].noise, d.noise_mode = set[k].mode;
        prime_set_device(c, &d);
        prime_run r = prime_default_run();
        r.policy = set[k].stop ? PRIME_STOP_CONFIDENCE : PRIME_STOP_NONE, r.threshold = 0.5f, r.noise_seed = 7;
        prime_set_run(c, &r);
        check_setting(c, x, set[k].mode == PRIME_NOISE_CELL ? 8 : n, T, per, set[k].name);
    }
    /* device effects on (device_wire.c: IR drop, relaxation, ADC/DAC errors, the weight
     * noise model): the workers read the parent's effect block and free only their own */
    const char *fx[] = {"read_model=weight", "read_noise=0.1", "r_row=1", "r_col=1", "relax_model=cmo",
                        "t_read=1d", "adc_bits=8", "adc_offset=0.5", "adc_gain=0.01", "dac_bits=6",
                        "dac_offset=0.3"};
    CHECK(prime_set_device_options(c, fx, (int)(sizeof fx / sizeof fx[0])) == 0, "device effects on: %s",
          prime_last_error());
    check_setting(c, x, n, T, per, "device effects on");
    check_errors(c, x, n, T, per);
    free(x);
    prime_free(c);
    return check_summary();
}
