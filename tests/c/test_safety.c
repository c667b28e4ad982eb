/* test_safety.c - crafted files and parameters that once bought memory, time
 * or a heap overwrite (docs/model-format.md, "Limits"): each must give a clear
 * error, fast, without a big allocation.
 *
 * How "no big allocation" is checked: the whole test runs with allocations
 * capped, so a loader that asks for more gets NULL and reports "out of
 * memory", which the checks below reject (they want the message naming the
 * cap or the length). Plain builds cap the address space (RLIMIT_AS = what the
 * process maps at start + 512 MiB); ASan builds, where RLIMIT_AS cannot work
 * (the shadow memory), cap each allocation at 128 MiB through ASan's own
 * max_allocation_size_mb. Time: every case must finish within 1 s (the
 * unfixed loader took 3 to 33 s on them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "crc_ref.h"
#include "prime.h"

#if defined(__SANITIZE_ADDRESS__)
#define SAFETY_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SAFETY_ASAN 1
#endif
#endif
#ifdef SAFETY_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=128"; }
#endif

#include "check.h"

/* ============================================================ helpers */

/* CPU seconds of this process: the work a refusal costs, not the time the shared
 * machine made it wait (wall time swung 2-4x under load). */
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The bound of every timed refusal: 1 s of CPU in the product's builds; the
 * ASan + UBSan build runs the same code 3-5x slower, so it gets 4 s. */
#ifdef SAFETY_ASAN
#define TIME_BOUND 4.0
#else
#define TIME_BOUND 1.0
#endif

/* Caps the address space at what is mapped now + 512 MiB (plain builds). */
static void cap_memory(void) {
#ifndef SAFETY_ASAN
    FILE *f = fopen("/proc/self/status", "r");
    long kb = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmSize:", 7)) kb = strtol(line + 7, NULL, 10);
    if (f) fclose(f);
    struct rlimit r = {((rlim_t)kb << 10) + ((rlim_t)512 << 20), RLIM_INFINITY};
    if (kb > 0 && getrlimit(RLIMIT_AS, &r) == 0) {
        r.rlim_cur = ((rlim_t)kb << 10) + ((rlim_t)512 << 20);
        setrlimit(RLIMIT_AS, &r);
    }
#endif
}

typedef struct { uint8_t b[8192]; size_t n; } wbuf;
static void w32(wbuf *w, uint32_t v) { for (int k = 0; k < 4; k++) w->b[w->n++] = (uint8_t)(v >> (8 * k)); }
static void wf(wbuf *w, float f) { uint32_t v; memcpy(&v, &f, 4); w32(w, v); }

/* Writes the size field and the CRC, so only the content can be wrong. */
static void seal(wbuf *w) {
    w->n += 4;
    for (int k = 0; k < 4; k++) w->b[12 + k] = (uint8_t)(w->n >> (8 * k));
    uint32_t c = crc32_ref(w->b, w->n - 4);
    w->n -= 4;
    w32(w, c);
}

/* A .prime file with the given raw (unfinalized) architecture, the default
 * device and run, and no masks: what a crafted header costs to reject. */
static size_t craft_model(const prime_arch *a, wbuf *w) {
    w->n = 0;
    memcpy(w->b, "PRIMEMDL", 8), w->n = 8;
    w32(w, 1), w32(w, 0);
    w32(w, (uint32_t)a->task), w32(w, (uint32_t)a->T), w32(w, (uint32_t)a->in_c), w32(w, (uint32_t)a->in_h);
    w32(w, (uint32_t)a->in_w), w32(w, (uint32_t)a->n_classes), w32(w, (uint32_t)a->n_layers);
    for (int i = 0; i < a->n_layers; i++) {
        const prime_layer *l = &a->layers[i];
        w32(w, (uint32_t)l->op), w32(w, (uint32_t)l->out_c), w32(w, (uint32_t)l->k), w32(w, (uint32_t)l->stride);
        w32(w, (uint32_t)l->pad), w32(w, (uint32_t)l->neuron);
        wf(w, l->th), wf(w, l->decay), wf(w, l->leak), wf(w, l->scale), wf(w, l->sparsity);
    }
    prime_device d = prime_default_device();
    w32(w, (uint32_t)d.chip_seed), w32(w, (uint32_t)(d.chip_seed >> 32)), w32(w, (uint32_t)d.g_dist);
    wf(w, d.g_mean), wf(w, d.g_sd), wf(w, d.g_off), wf(w, d.g_off_sd), wf(w, d.g_max), wf(w, d.prog_noise);
    wf(w, d.stuck_on), wf(w, d.stuck_off), wf(w, d.read_noise);
    w32(w, (uint32_t)d.noise_mode), w32(w, (uint32_t)d.adc_bits), wf(w, d.adc_fs), w32(w, (uint32_t)d.dac_bits);
    wf(w, d.v_read), wf(w, d.e_cell_pj), wf(w, d.e_adc_fom_fj), wf(w, d.e_dac_pj), wf(w, d.e_neuron_pj), wf(w, d.e_mac_pj);
    prime_run r = prime_default_run();
    w32(w, (uint32_t)r.policy), wf(w, r.alpha), wf(w, r.threshold), w32(w, (uint32_t)r.min_steps);
    w32(w, (uint32_t)r.noise_seed), w32(w, (uint32_t)(r.noise_seed >> 32));
    seal(w);
    return w->n;
}

static prime_layer layer(int op, int out_c, int k, int neuron) {
    prime_layer l;
    memset(&l, 0, sizeof l);
    l.op = op, l.out_c = out_c, l.k = k, l.stride = 1, l.neuron = neuron;
    l.th = 0.2f, l.decay = 0.8f, l.leak = 0.1f, l.scale = 0.01f, l.sparsity = 0.5f;
    return l;
}

/* Loads bytes; checks it fails within 1 s with a message containing `want`. */
static void expect_reject(const uint8_t *b, size_t n, const char *want, const char *what) {
    double t0 = now_s();
    prime_ctx *c = prime_load(b, n);
    double dt = now_s() - t0;
    CHECK(c == NULL && strstr(prime_last_error(), want) != NULL, "%s (%zu bytes): rejected naming \"%s\", got: %s", what, n,
          want, c ? "(loaded)" : prime_last_error());
    CHECK(dt < TIME_BOUND, "%s: rejected in %.3f s CPU (< %g s)", what, dt, TIME_BOUND);
    prime_free(c);
}

/* ============================================================ .prime */

/* A conv whose out_c*out_h*out_w wraps in 32 bits to exactly 3 (1331 * 2237 * 2885 = 2^33 + 3). */
static void test_wrapped_output(void) {
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.T = 10, a.in_c = 1, a.in_h = 2237, a.in_w = 2885, a.n_classes = 3, a.n_layers = 1;
    a.layers[0] = layer(PRIME_OP_CONV, 1331, 1, PRIME_NEURON_OUTPUT);
    CHECK((uint32_t)(1331u * 2237u * 2885u) == 3u, "the crafted shape wraps to 3 in 32 bits");
    wbuf w;
    expect_reject(w.b, craft_model(&a, &w), "architecture", "wrapped output size");
    prime_arch f = a;
    CHECK(prime_arch_finalize(&f) != 0 && (strstr(prime_last_error(), "cap") || strstr(prime_last_error(), "more than")),
          "finalize refuses the wrapped shape: %s", prime_last_error());
    /* the same with the input inside its cap: the output check itself, in 64 bits */
    a.in_h = 1024, a.in_w = 1024, a.layers[0].out_c = 4096, a.n_classes = 16;
    f = a;
    CHECK(prime_arch_finalize(&f) != 0 && strstr(prime_last_error(), "outputs above the cap"),
          "4096 x 1024 x 1024 outputs (2^32, 0 in 32 bits) refused: %s", prime_last_error());
}

/* The 248-byte file: FC 1000x1000 -> 4096 -> 10, 4.1e9 cells (counted by
 * input channels, 1 x 4096, it once passed the 64M-cell check). */
static void test_big_fc(void) {
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.T = 10, a.in_c = 1, a.in_h = 1000, a.in_w = 1000, a.n_classes = 10, a.n_layers = 2;
    a.layers[0] = layer(PRIME_OP_FC, 4096, 1, PRIME_NEURON_LIF);
    a.layers[1] = layer(PRIME_OP_FC, 10, 1, PRIME_NEURON_OUTPUT);
    wbuf w;
    size_t n = craft_model(&a, &w);
    CHECK(n == 248, "the big-FC file is %zu bytes (248)", n);
    expect_reject(w.b, n, "above the cap", "big FC (4.1e9 cells)");
    /* FC fan-in is the flattened input: 1x2048x1024 = 2^21 rows, over the fan-in cap */
    a.in_h = 2048, a.in_w = 1024, a.in_c = 1, a.layers[0].out_c = 1;
    prime_arch f = a;
    CHECK(prime_arch_finalize(&f) != 0, "FC fan-in 2^21 (in_c = 1) refused: %s", prime_last_error());
}

/* The 204-byte file: one FC 1x1000x1000 -> 10 (10M cells, inside the caps)
 * whose 1.25 MB of masks are missing: refused from the header alone. */
static void test_truncated_masks(void) {
    prime_arch a;
    memset(&a, 0, sizeof a);
    a.T = 10, a.in_c = 1, a.in_h = 1000, a.in_w = 1000, a.n_classes = 10, a.n_layers = 1;
    a.layers[0] = layer(PRIME_OP_FC, 10, 1, PRIME_NEURON_OUTPUT);
    prime_arch f = a;
    CHECK(prime_arch_finalize(&f) == 0, "the architecture itself is within the caps: %s", prime_last_error());
    wbuf w;
    size_t n = craft_model(&a, &w);
    CHECK(n == 204, "the truncated-mask file is %zu bytes (204)", n);
    expect_reject(w.b, n, "needs 1250212 bytes", "masks missing");
}

/* A shipped-shape model whose FC layer says k = 3 (finalize would make it 1). */
static void test_non_canonical(void) {
    prime_arch a = prime_arch_nmnist();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&a, &d);
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK(c && prime_save(c, &b, &n) == 0, "save the PRIME network");
    prime_free(c);
    if (!b) return;
    /* version 2 (prime_save): layers start at 60 (24-byte header, ARCH's tag and length, 28 bytes of header) */
    const size_t fc_k = 60 + 4 * 44 + 8; /* layer 4's k */
    CHECK(b[fc_k] == 1, "FC k is stored as 1");
    wbuf w;
    memcpy(w.b, b, n), w.n = n - 4;
    prime_ctx *ok = prime_load(w.b, n);
    CHECK(ok != NULL, "the canonical file loads: %s", prime_last_error());
    prime_free(ok);
    w.b[fc_k] = 3;
    seal(&w);
    expect_reject(w.b, w.n, "not canonical", "FC layer with k = 3");
    memcpy(w.b, b, n), w.n = n - 4;
    w.b[60 + 1 * 44 + 12] = 3; /* layer 1 (pool 2): stride 3 */
    seal(&w);
    expect_reject(w.b, w.n, "not canonical", "pool with stride 3");
    free(b);
}

/* ============================================================ .pvae */

/* The 144-byte header of an inpainting model: arch ints (ch, latent, k, T,
 * size, software), floats (th, keep, out_keep, scale, sparsity), device. */
static size_t craft_vae(int ch, int latent, int k, int T, int size, uint8_t *b) {
    prime_vae_arch a = prime_vae_default_arch();
    prime_device d = prime_vae_default_device();
    int32_t ai[6] = {ch, latent, k, T, size, 0};
    float af[5] = {a.th, a.keep, a.out_keep, a.scale, a.sparsity};
    uint32_t ver = 1;
    memcpy(b, "PRIMEVAE", 8), memcpy(b + 8, &ver, 4), memcpy(b + 12, ai, 24), memcpy(b + 36, af, 20);
    memcpy(b + 56, &d, 88);
    return 144;
}

static void expect_vae_reject(const uint8_t *b, size_t n, const char *want, const char *what) {
    double t0 = now_s();
    prime_vae *v = prime_vae_load(b, n);
    double dt = now_s() - t0;
    CHECK(v == NULL && strstr(prime_last_error(), want) != NULL, "%s: rejected naming \"%s\", got: %s", what, want,
          v ? "(loaded)" : prime_last_error());
    CHECK(dt < TIME_BOUND, "%s: rejected in %.3f s CPU (< %g s)", what, dt, TIME_BOUND);
    prime_vae_free(v);
}

static void test_vae_headers(void) {
    uint8_t b[144];
    /* inside the caps (8.4M crossbar cells, ~410 MB built), masks missing */
    expect_vae_reject(b, craft_vae(128, 512, 64, 16, 64, b), "truncated", "vae header without its masks");
    /* the largest header the field ranges allow (17.8 GB before) */
    expect_vae_reject(b, craft_vae(256, 1024, 64, 64, 256, b), "above the", "largest vae header");
    /* software must be 0 or 1 */
    craft_vae(32, 128, 20, 16, 32, b);
    b[12 + 20] = 2;
    expect_vae_reject(b, 144, "software", "vae software = 2");
}

/* ============================================================ events */

static void test_events(void) {
    prime_event ev[64];
    memset(ev, 0, sizeof ev);
    float frames[2 * 34 * 34];
    /* binEvents(ev, 32, 4096): 2^30 floats, 4 GiB (0 in 32 bits) */
    CHECK(prime_events_bin(ev, 64, 32, 4096, frames) == -1 && strstr(prime_last_error(), "values"),
          "32 frames of 2x4096x4096 refused before touching the buffer: %s", prime_last_error());
    CHECK(prime_events_bin(ev, 64, PRIME_MAX_T + 1, 1, frames) == -1 && strstr(prime_last_error(), "T = 65"),
          "T = 65 refused: %s", prime_last_error());
    CHECK(prime_events_bin(ev, (size_t)PRIME_MAX_EVENTS + 1, 1, 34, frames) == -1 && strstr(prime_last_error(), "cap"),
          "more than PRIME_MAX_EVENTS events refused: %s", prime_last_error());
    CHECK(prime_events_bin(ev, 64, 1, 34, frames) == 0, "64 events into one 34x34 frame still fine");
    /* the synthesizer at its limits: refused by the work cap, or bounded by the event cap */
    static float img[28 * 28];
    for (int i = 0; i < 28 * 28; i++) img[i] = (float)((i * 37) % 101) / 100.0f;
    prime_event_params p = prime_default_event_params();
    p.size = 255, p.steps_per_saccade = 10000;
    prime_event *out = NULL;
    size_t n = 0;
    CHECK(prime_events_from_image(img, 28, 28, &p, &out, &n) == -1 && strstr(prime_last_error(), "work cap"),
          "size 255 x 10000 steps refused: %s", prime_last_error());
    p.size = 34, p.steps_per_saccade = PRIME_MAX_EVENT_WORK / (34 * 34), p.contrast = 0.01f, p.noise_rate = 1000;
    p.duration_us = 8388607, p.amplitude = 34;
    double t0 = now_s();
    int rc = prime_events_from_image(img, 28, 28, &p, &out, &n);
    double dt = now_s() - t0;
    CHECK(rc == -1 && strstr(prime_last_error(), "more than"), "every parameter at its limit: the event cap: %s",
          prime_last_error());
    CHECK(dt < TIME_BOUND, "every event parameter at its limit: %.3f s CPU (< %g s)", dt, TIME_BOUND);
    if (rc == 0) free(out);
    uint8_t *big = calloc((size_t)PRIME_MAX_EVENTS + 1, 5);
    CHECK(big && prime_nmnist_parse(big, ((size_t)PRIME_MAX_EVENTS + 1) * 5, &out, &n) == -1 &&
              strstr(prime_last_error(), "cap"), "an N-MNIST file over the event cap refused: %s", prime_last_error());
    free(big);
}

int main(void) {
    cap_memory();
    test_wrapped_output();
    test_big_fc();
    test_truncated_masks();
    test_non_canonical();
    test_vae_headers();
    test_events();
    return check_summary();
}
