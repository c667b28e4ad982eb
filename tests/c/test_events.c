/* test_events.c - N-MNIST format, frame binning, event synthesizer, datasets.
 *
 * Prints one line per check and "N passed, M failed"; exit code 1 on failure.
 * Dataset checks are skipped (with a note) when the data is not installed;
 * under CI=true a missing dataset is a failure (tests/c/check.h).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "pmath.h"
#include "prime.h"

/* ---------------------------------------------------------------- harness */

#include "check.h"

/* 1 if the two event lists hold the same events (field by field). */
static int same_events(const prime_event *a, const prime_event *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i].x != b[i].x || a[i].y != b[i].y || a[i].p != b[i].p || a[i].t != b[i].t) return 0;
    return 1;
}

/* FNV-1a over bytes: a compact fingerprint of an event stream. */
static uint64_t fnv(const uint8_t *b, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* A 28x28 ring ("a zero"): bright between radius 6 and 10, soft edges. */
static void ring(float *img) {
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            float dx = x - 13.5f, dy = y - 13.5f, r2 = dx * dx + dy * dy;
            img[y * 28 + x] = (r2 >= 36 && r2 <= 100) ? 1.0f : (r2 >= 25 && r2 <= 121) ? 0.5f : 0.0f;
        }
}

/* ---------------------------------------------------------------- format */

static void test_format(void) {
    prime_event ev[4] = {{0, 0, 0, 0}, {33, 5, 1, 1234}, {7, 33, 0, 300000}, {12, 13, 1, (1u << 23) - 1}};
    uint8_t *buf;
    size_t n;
    CHECKV(prime_nmnist_write(ev, 4, &buf, &n) == 0 && n == 20, "write 4 events -> 20 bytes");
    CHECKV(buf[5] == 33 && buf[6] == 5 && buf[7] == (0x80 | 0x00) && buf[8] == 0x04 && buf[9] == 0xd2,
          "event 1 bytes: x, y, p<<7 | t>>16, t>>8, t (big-endian 23-bit time)");
    CHECKV(buf[17] == 0xff && buf[18] == 0xff && buf[19] == 0xff, "max timestamp 2^23-1 with ON = ff ff ff");
    prime_event *back;
    size_t m;
    int rc = prime_nmnist_parse(buf, n, &back, &m);
    int same = rc == 0 && m == 4;
    for (size_t i = 0; same && i < 4; i++)
        same = back[i].x == ev[i].x && back[i].y == ev[i].y && back[i].p == ev[i].p && back[i].t == ev[i].t;
    CHECKV(same, "write -> parse round trip");
    if (rc == 0) prime_free_buffer(back);

    back = (prime_event *)1;
    CHECKV(prime_nmnist_parse(buf, 19, &back, &m) == -1 && back == NULL && strstr(prime_last_error(), "multiple of 5"),
          "truncated file (19 bytes) is an error: %s", prime_last_error());
    buf[10] = 34; /* event 2: x = 34 */
    CHECKV(prime_nmnist_parse(buf, n, &back, &m) == -1 && strstr(prime_last_error(), "event 2"),
          "x = 34 is an error naming the event: %s", prime_last_error());
    buf[10] = 7;
    buf[16] = 200; /* event 3: y = 200 */
    CHECKV(prime_nmnist_parse(buf, n, &back, &m) == -1, "y = 200 is an error: %s", prime_last_error());
    CHECKV(prime_nmnist_parse(buf, 0, &back, &m) == 0 && m == 0, "empty file parses to 0 events");
    if (m == 0) prime_free_buffer(back);
    prime_free_buffer(buf);

    prime_event bad = {1, 2, 1, 1u << 23};
    CHECKV(prime_nmnist_write(&bad, 1, &buf, &n) == -1 && buf == NULL, "write rejects t = 2^23: %s",
          prime_last_error());
    bad.t = 5;
    bad.x = 256;
    CHECKV(prime_nmnist_write(&bad, 1, &buf, &n) == -1, "write rejects x = 256");
}

/* ---------------------------------------------------------------- binning */

static void test_bin(void) {
    enum { N = 1003, T = 10, S = 34 };
    static prime_event ev[N];
    for (int i = 0; i < N; i++) {
        ev[i].x = (uint16_t)((i * 7) % S);
        ev[i].y = (uint16_t)((i * 13) % S);
        ev[i].p = (uint8_t)(i % 3 == 0);
        ev[i].t = (uint32_t)i * 100;
    }
    static float fr[T * 2 * S * S];
    CHECKV(prime_events_bin(ev, N, T, S, fr) == 0, "bin 1003 events into 10 frames");
    double total = 0;
    int lo = 1 << 30, hi = 0, on_ok = 1;
    for (int k = 0; k < T; k++) {
        double s = 0, on = 0;
        for (int i = 0; i < 2 * S * S; i++) s += fr[k * 2 * S * S + i];
        for (int i = S * S; i < 2 * S * S; i++) on += fr[k * 2 * S * S + i];
        /* expected ON count in chunk [floor(k N/T), floor((k+1) N/T)) */
        int a = k * N / T, b = (k + 1) * N / T, eon = 0;
        for (int i = a; i < b; i++) eon += ev[i].p;
        if (on != eon) on_ok = 0;
        if ((int)s < lo) lo = (int)s;
        if ((int)s > hi) hi = (int)s;
        total += s;
    }
    CHECKV(total == N, "counts sum to the number of events (%.0f)", total);
    CHECKV(hi - lo <= 1 && lo == N / T, "equal events per frame: %d..%d", lo, hi);
    CHECKV(on_ok, "channel 1 holds exactly the ON events of each chunk");
    /* naive reference: event i goes to frame k with k*N/T <= i < (k+1)*N/T */
    static float nv[T * 2 * S * S];
    memset(nv, 0, sizeof nv);
    for (int i = 0, k = 0; i < N; i++) {
        while (i >= (k + 1) * N / T) k++;
        nv[((k * 2 + ev[i].p) * S + ev[i].y) * S + ev[i].x] += 1;
    }
    CHECKV(memcmp(nv, fr, sizeof nv) == 0, "frames equal a naive per-event reference");
    CHECKV(prime_events_bin(ev, N, 0, S, fr) == -1, "T = 0 is an error: %s", prime_last_error());
    CHECKV(prime_events_bin(ev, 5, 10, S, fr) == -1 && strstr(prime_last_error(), "5 events"),
          "5 events into 10 frames is an error: %s", prime_last_error());
    CHECKV(prime_events_bin(ev, N, T, 20, fr) == -1, "event outside a 20x20 sensor is an error: %s",
          prime_last_error());
}

/* ---------------------------------------------------------------- synthesizer */

/* Plain reference of the synthesizer (docs/data.md): every pixel, every
 * sub-step, bounds-checked bilinear sampling and a log per pixel, no band
 * skipping; events in generation order (the caller sorts). */
static int ref_cmp(const void *a, const void *b) {
    const prime_event *u = a, *v = b;
    if (u->t != v->t) return u->t < v->t ? -1 : 1;
    if (u->y != v->y) return u->y < v->y ? -1 : 1;
    if (u->x != v->x) return u->x < v->x ? -1 : 1;
    return (int)u->p - (int)v->p;
}

static double ref_pixel(const float *img, int w, int h, int size, double dx, double dy, int x, int y) {
    double fxs = -((size - w) * 0.5 + dx), fys = -((size - h) * 0.5 + dy);
    double flx = floor(fxs), fly = floor(fys);
    double fx = fxs - flx, fy = fys - fly;
    int sx = x + (int)flx, sy = y + (int)fly;
    double v[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        int xx = sx + (k & 1), yy = sy + (k >> 1);
        if (xx >= 0 && xx < w && yy >= 0 && yy < h) {
            float f = img[yy * w + xx];
            v[k] = f > 0.0f ? (f < 1.0f ? f : 1.0f) : 0.0f;
        }
    }
    double I = (1 - fx) * (1 - fy) * v[0] + fx * (1 - fy) * v[1] + (1 - fx) * fy * v[2] + fx * fy * v[3];
    return I > 0 ? prime_log(I + 0.3) : prime_log(0.3);
}

static size_t ref_synth(const float *img, int w, int h, const prime_event_params *p, prime_event *out, size_t cap) {
    static const double vx[4] = {0.0, 0.5, -0.5, 0.0}, vy[4] = {-0.5, 0.5, 0.5, -0.5};
    int size = p->size, S = p->steps_per_saccade, N = 3 * S;
    double A = p->amplitude, c = p->contrast, dur = p->duration_us;
    static double ref[255 * 255], L0[255 * 255];
    size_t n = 0;
    for (int k = 0; k <= N; k++) {
        int sac = k == 0 ? 0 : (k - 1) / S;
        double u = k == 0 ? 0.0 : (double)(k - sac * S) / S, e = u * u * (3.0 - 2.0 * u);
        double dx = A * (vx[sac] + (vx[sac + 1] - vx[sac]) * e), dy = A * (vy[sac] + (vy[sac + 1] - vy[sac]) * e);
        double t0 = dur * (k - 1) / N, t1 = dur * k / N;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                int i = y * size + x;
                double b = ref_pixel(img, w, h, size, dx, dy, x, y), a = L0[i];
                L0[i] = b;
                if (k == 0) {
                    ref[i] = b;
                    continue;
                }
                for (int pol = 1; pol >= 0; pol--)
                    while (pol ? b - ref[i] >= c : ref[i] - b >= c) {
                        ref[i] += pol ? c : -c;
                        double t = t0 + (t1 - t0) * ((ref[i] - a) / (b - a));
                        uint32_t ti = (uint32_t)(t < t0 ? t0 : t);
                        if (ti >= (uint32_t)dur) ti = (uint32_t)dur - 1;
                        if (n < cap) out[n] = (prime_event){(uint16_t)x, (uint16_t)y, (uint8_t)pol, ti};
                        n++;
                    }
            }
    }
    for (int i = 0; i < size * size && p->noise_rate > 0; i++) {
        uint64_t st = 0x6e6f697365000000ull + (uint64_t)i;
        double t = 0;
        for (uint64_t j = 0;; j++) {
            t += -prime_log(prime_rand_uniform(p->seed, st, 2 * j)) / (p->noise_rate * 1e-6);
            if (t >= dur) break;
            if (n < cap)
                out[n] = (prime_event){(uint16_t)(i % size), (uint16_t)(i / size),
                                       (uint8_t)(prime_rand_u64(p->seed, st, 2 * j + 1) >> 63), (uint32_t)t};
            n++;
        }
    }
    if (n <= cap) qsort(out, n, sizeof *out, ref_cmp);
    return n;
}

/* The fast synthesizer gives exactly the plain reference's events. */
static void test_reference(void) {
    static prime_event want[200000];
    static float img[40 * 40];
    int cases[4][4] = {{28, 28, 34, 3}, {40, 40, 34, 5}, {20, 12, 34, 3}, {28, 28, 30, 8}};
    for (int k = 0; k < 4; k++) {
        int w = cases[k][0], h = cases[k][1];
        for (int i = 0; i < w * h; i++) {
            uint64_t r = prime_rand_u64(99, (uint64_t)k, (uint64_t)i);
            img[i] = (r & 3) ? 0.0f : (float)((r >> 8) % 256) / 255.0f;
        }
        prime_event_params p = prime_default_event_params();
        p.size = cases[k][2];
        p.amplitude = (float)cases[k][3];
        p.seed = 5 + (uint64_t)k;
        p.steps_per_saccade = 40;
        p.noise_rate = k == 0 ? 0.0f : 3.0f;
        prime_event *got;
        size_t ng;
        size_t nw = ref_synth(img, w, h, &p, want, sizeof want / sizeof *want);
        int rc = prime_events_from_image(img, w, h, &p, &got, &ng);
        CHECKV(rc == 0 && ng == nw && nw <= sizeof want / sizeof *want && same_events(got, want, nw),
              "%dx%d on %dx%d, amplitude %d: %zu events == plain reference (%zu)", w, h, p.size, p.size,
              cases[k][3], ng, nw);
        if (rc == 0) prime_free_buffer(got);
    }
}

static void test_synth(void) {
    static float img[28 * 28];
    ring(img);
    prime_event_params p = prime_default_event_params();
    CHECKV(p.size == 34 && p.duration_us == 300000, "defaults: 34x34 sensor, 300 ms");
    p.seed = 7;
    prime_event *a, *b;
    size_t na, nb;
    int rc = prime_events_from_image(img, 28, 28, &p, &a, &na);
    CHECKV(rc == 0 && na > 1000, "ring: %zu events", na);
    if (rc != 0) return;
    CHECKV(prime_events_from_image(img, 28, 28, &p, &b, &nb) == 0 && nb == na &&
              same_events(a, b, na),
          "same image + params = same events");
    prime_free_buffer(b);

    size_t on = 0, sac[3] = {0, 0, 0};
    int inside = 1, sorted = 1;
    for (size_t i = 0; i < na; i++) {
        on += a[i].p;
        if (a[i].x >= 34 || a[i].y >= 34 || a[i].p > 1 || a[i].t >= 300000) inside = 0;
        else sac[a[i].t / 100000]++;
        if (i && a[i].t < a[i - 1].t) sorted = 0;
    }
    CHECKV(on > na / 4 && na - on > na / 4, "both polarities: %zu ON, %zu OFF", on, na - on);
    CHECKV(sac[0] > na / 10 && sac[1] > na / 10 && sac[2] > na / 10,
          "events in each saccade: %zu / %zu / %zu", sac[0], sac[1], sac[2]);
    CHECKV(inside, "every event inside 34x34 and 0..300 ms");
    CHECKV(sorted, "events sorted by time");

    /* golden fingerprint: the wasm build must give the same bytes */
    uint8_t *bytes;
    size_t nbytes;
    CHECKV(prime_nmnist_write(a, na, &bytes, &nbytes) == 0, "synthesized stream writes as N-MNIST");
    uint64_t h = fnv(bytes, nbytes);
    /* golden value from this native build, checked identical under Emscripten
     * 3.1.6 (wasm, musl); update it only on a deliberate model change */
    CHECKV(h == 0xa7dffde9c1cc5a81ull, "ring seed 7: %zu events, fingerprint %016llx (golden a7dffde9c1cc5a81)",
          na, (unsigned long long)h);
    prime_free_buffer(bytes);
    prime_free_buffer(a);

    p.seed = 8;
    CHECKV(prime_events_from_image(img, 28, 28, &p, &b, &nb) == 0, "another seed synthesizes");
    prime_free_buffer(b);

    static float blank[28 * 28];
    p.noise_rate = 0;
    rc = prime_events_from_image(blank, 28, 28, &p, &a, &na);
    CHECKV(rc == 0 && na == 0, "blank image without noise: %zu events", na);
    prime_free_buffer(a);
    p.noise_rate = 10;
    rc = prime_events_from_image(blank, 28, 28, &p, &a, &na);
    CHECKV(rc == 0, "blank image with 10 Hz noise");
    /* expected 34*34*0.3*10 = 3468, sd ~59 */
    CHECKV(na > 3200 && na < 3750, "noise count %zu near 3468", na);
    prime_free_buffer(a);

    p = prime_default_event_params();
    p.contrast = 0;
    CHECKV(prime_events_from_image(img, 28, 28, &p, &a, &na) == -1 && strstr(prime_last_error(), "contrast"),
          "contrast 0 is an error: %s", prime_last_error());
    p = prime_default_event_params();
    CHECKV(prime_events_from_image(img, 0, 28, &p, &a, &na) == -1, "0-width image is an error");
    static float big[40 * 40];
    for (int i = 0; i < 40 * 40; i++) big[i] = (float)((i * 37) % 101) / 100.0f;
    CHECKV(prime_events_from_image(big, 40, 40, &p, &a, &na) == 0, "40x40 image (cropped) synthesizes");
    inside = 1;
    for (size_t i = 0; i < na; i++)
        if (a[i].x >= 34 || a[i].y >= 34) inside = 0;
    CHECKV(inside, "40x40 image: all %zu events inside 34x34", na);
    prime_free_buffer(a);
}

/* ---------------------------------------------------------------- camera motion */

/* Per-pixel ON and OFF counts of an event stream, [2][size][size]. */
static void pixel_counts(const prime_event *ev, size_t n, int size, int *cnt) {
    memset(cnt, 0, sizeof(int) * 2 * size * size);
    for (size_t i = 0; i < n; i++) cnt[(ev[i].p * size + ev[i].y) * size + ev[i].x]++;
}

/* With camera motion the image moves by the opposite displacement, i.e. the
 * triangle is point-reflected: the events of image I equal, pixel for pixel,
 * the 180-degree rotation of those of rot180(I) under image motion (up to
 * last-bit differences of the sampling, so counted per pixel, not bit for bit). */
static void test_motion(void) {
    enum { W = 28, S = 34 };
    float img[W * W], rot[W * W];
    for (int y = 0; y < W; y++)
        for (int x = 0; x < W; x++) /* an asymmetric "7": a top bar and a diagonal */
            img[y * W + x] = (y >= 5 && y <= 7 && x >= 6 && x <= 22) || (abs(x - (27 - y)) <= 1 && y > 7 && y < 24) ? 1.0f : 0.0f;
    for (int i = 0; i < W * W; i++) rot[i] = img[W * W - 1 - i];
    prime_event_params p = prime_default_event_params();
    p.noise_rate = 0;
    CHECKV(p.motion == PRIME_MOTION_IMAGE, "default motion: the image follows the triangle (shipped models' events)");
    prime_event *a = NULL, *b = NULL, *c = NULL;
    size_t na = 0, nb = 0, nc = 0;
    int rc = prime_events_from_image(rot, W, W, &p, &b, &nb);
    rc |= prime_events_from_image(img, W, W, &p, &c, &nc);
    p.motion = PRIME_MOTION_CAMERA;
    rc |= prime_events_from_image(img, W, W, &p, &a, &na);
    CHECK_INT(rc, 0, "camera and image motion synthesize");
    static int ca[2 * S * S], cb[2 * S * S], cc[2 * S * S];
    pixel_counts(a, na, S, ca), pixel_counts(b, nb, S, cb), pixel_counts(c, nc, S, cc);
    long diff = 0, diff_image = 0, total = 0;
    for (int q = 0; q < 2; q++)
        for (int i = 0; i < S * S; i++) {
            int k = q * S * S + i, kr = q * S * S + (S * S - 1 - i);
            diff += labs((long)ca[k] - cb[kr]), diff_image += labs((long)ca[k] - cc[k]), total += ca[k];
        }
    CHECKV(diff <= total / 50, "camera motion = point-reflected path: %ld of %ld per-pixel counts differ from rot180 (<= 2 %%)",
           diff, total);
    CHECKV(diff_image > total / 4, "camera motion differs from image motion: %ld of %ld counts", diff_image, total);
    p.motion = (enum prime_motion)2;
    CHECK(prime_events_from_image(img, W, W, &p, &c, &nc) == -1 && strstr(prime_last_error(), "motion"),
          "motion 2 refused: %s", prime_last_error());
    prime_free_buffer(a), prime_free_buffer(b), prime_free_buffer(c);
}

/* ---------------------------------------------------------------- datasets */

static void test_dataset(const char *name, int ntrain, int ntest) {
    prime_images tr, te;
    if (prime_images_load(name, "train", &tr) != 0) {
        CHECK_DATA(0, "%s not available: %s", name, prime_last_error());
        return;
    }
    int ok = prime_images_load(name, "test", &te) == 0;
    CHECKV(ok, "%s test split loads", name);
    if (!ok) {
        prime_images_free(&tr);
        return;
    }
    CHECKV(tr.n == ntrain && te.n == ntest && tr.w == 28 && tr.h == 28,
          "%s: %d train + %d test images of %dx%d", name, tr.n, te.n, tr.w, tr.h);
    int seen[10] = {0}, bad = 0;
    for (int i = 0; i < tr.n; i++) {
        if (tr.y[i] > 9) bad = 1;
        else seen[tr.y[i]]++;
    }
    for (int i = 0; i < te.n; i++)
        if (te.y[i] > 9) bad = 1;
    int all = 1;
    for (int d = 0; d < 10; d++) all &= seen[d] > ntrain / 20;
    CHECKV(!bad && all, "%s labels in 0..9, every class present in train", name);
    float mn = 1, mx = 0;
    for (size_t i = 0; i < (size_t)tr.n * 784; i++) {
        if (tr.x[i] < mn) mn = tr.x[i];
        if (tr.x[i] > mx) mx = tr.x[i];
    }
    CHECKV(mn == 0 && mx == 1, "%s pixels span [%g, %g]", name, mn, mx);
    int is_u8 = 1;
    for (size_t i = 0; i < (size_t)tr.n * 784; i++) {
        double k = floor(tr.x[i] * 255.0 + 0.5);
        if (tr.x[i] != (float)(k / 255.0)) is_u8 = 0;
    }
    CHECKV(is_u8, "%s pixels are exactly (float)(k / 255.0) for 8-bit k (the sample file's values)", name);

    /* frames: first 6 test images, compared with prime_events_bin */
    prime_images few = te;
    few.n = 6;
    prime_frames fr;
    ok = prime_frames_from_images(&few, 10, 34, 100, &fr) == 0;
    CHECKV(ok && fr.n == 6 && fr.T == 10 && fr.c == 2 && fr.h == 34, "%s: frames for 6 images", name);
    if (ok) {
        size_t ss = prime_frames_sample_size(&fr);
        static float ref[10 * 2 * 34 * 34];
        int match = 1;
        for (int i = 0; i < 6; i++) {
            prime_event_params p = prime_default_event_params();
            p.seed = 100 + (uint64_t)i; /* the convention: seed + index */
            prime_event *ev;
            size_t n;
            if (prime_events_from_image(few.x + i * 784, 28, 28, &p, &ev, &n) != 0 ||
                prime_events_bin(ev, n, 10, 34, ref) != 0) {
                match = 0;
                break;
            }
            for (size_t k = 0; k < ss; k++)
                if (fr.x[i * ss + k] != (uint8_t)(ref[k] > 255 ? 255 : ref[k])) match = 0;
            prime_free_buffer(ev);
        }
        CHECKV(match, "%s: frames == prime_events_bin(prime_events_from_image(seed + index))", name);
        CHECKV(memcmp(fr.y, te.y, 6) == 0, "%s: frame labels copied", name);

        const char *path = "/tmp/prime_test_frames.bin";
        prime_frames back;
        ok = prime_frames_save(&fr, path) == 0 && prime_frames_load(path, &back) == 0;
        CHECKV(ok && back.n == 6 && back.T == 10 && memcmp(back.x, fr.x, 6 * ss) == 0 &&
                  memcmp(back.y, fr.y, 6) == 0,
              "%s: cache save/load round trip", name);
        if (ok) prime_frames_free(&back);
        FILE *f = fopen(path, "r+b");
        if (f) {
            fseek(f, 12, SEEK_SET); /* T = 11: sizes no longer match */
            fputc(11, f);
            fclose(f);
        }
        CHECKV(prime_frames_load(path, &back) == -1, "%s: corrupted cache rejected: %s", name,
              prime_last_error());
        remove(path);
        prime_frames_free(&fr);
    }
    prime_images_free(&tr);
    prime_images_free(&te);
}

int main(void) {
    test_format();
    test_bin();
    test_synth();
    test_motion();
    test_reference();
    prime_images im;
    CHECKV(prime_images_load("cifar", "train", &im) == -1, "unknown dataset is an error: %s", prime_last_error());
    CHECKV(prime_images_load("mnist", "valid", &im) == -1, "unknown split is an error");
    test_dataset("fashion", 60000, 10000);
    test_dataset("mnist", 8000, 2000);
    return check_summary();
}
