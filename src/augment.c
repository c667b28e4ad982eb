/* augment.c - training-set augmentation over the event model (augment.h).
 *
 * Why these draws (docs/training.md, "Augmentation"): a network trained on one
 * setting of the synthesizer learns its quirks (docs/data.md, "The independent
 * event model"). Each copy of an image varies what the recording varies and the
 * synthesizer fixes: who moves (image or camera), the pixels' contrast
 * threshold, the saccade amplitude, background activity, the optics (blur),
 * the display's response (gamma), where the digit sits (shift), and events
 * lost by the sensor (drop).
 */
#include "augment.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime_internal.h"

/* Streams of the draws of one sample (distinct from every other RNG use here). */
enum { AUG_MOTION = 1, AUG_CONTRAST, AUG_AMP, AUG_NOISE, AUG_BLUR, AUG_SHX, AUG_SHY, AUG_GAMMA,
       AUG_DROP, AUG_DROP_EVENT };

prime_aug_params prime_aug_default(void) {
    prime_aug_params a;
    memset(&a, 0, sizeof a);
    a.copies = 1;
    a.seed = 7;
    a.p_camera = 0.5f;
    a.contrast_lo = 0.1f, a.contrast_hi = 0.3f;
    a.amp_lo = 2.0f, a.amp_hi = 5.0f;
    a.noise_lo = 0.0f, a.noise_hi = 2.0f;
    a.blur_hi = 1.0f;
    a.shift = 2;
    a.gamma_lo = 0.5f, a.gamma_hi = 2.0f;
    a.drop_hi = 0.3f;
    return a;
}

static int range_ok(const char *name, float lo, float hi, float min, float max) {
    if (!(lo >= min && lo <= max)) return prime_error("augment: %s_lo = %g outside %g..%g", name, lo, min, max);
    if (!(hi >= min && hi <= max)) return prime_error("augment: %s_hi = %g outside %g..%g", name, hi, min, max);
    if (lo > hi) return prime_error("augment: %s_lo %g > %s_hi %g", name, lo, name, hi);
    return 0;
}

int prime_aug_check(const prime_aug_params *a) {
    if (!a) return prime_error("augment: NULL parameters");
    if (a->copies < 1 || a->copies > 16) return prime_error("augment: copies = %d outside 1..16", a->copies);
    if (!(a->p_camera >= 0 && a->p_camera <= 1)) return prime_error("augment: p_camera = %g outside 0..1", a->p_camera);
    if (range_ok("contrast", a->contrast_lo, a->contrast_hi, 0.02f, 1.0f) ||
        range_ok("amp", a->amp_lo, a->amp_hi, 0.0f, 12.0f) ||
        range_ok("noise", a->noise_lo, a->noise_hi, 0.0f, 50.0f) ||
        range_ok("gamma", a->gamma_lo, a->gamma_hi, 0.25f, 4.0f))
        return -1;
    if (!(a->blur_hi >= 0 && a->blur_hi <= 3)) return prime_error("augment: blur_hi = %g outside 0..3", a->blur_hi);
    if (a->shift < 0 || a->shift > 4) return prime_error("augment: shift = %d outside 0..4", a->shift);
    if (!(a->drop_hi >= 0 && a->drop_hi <= 0.9f)) return prime_error("augment: drop_hi = %g outside 0..0.9", a->drop_hi);
    return 0;
}

uint64_t prime_aug_hash(const prime_aug_params *a, int T) {
    float f[] = {a->p_camera, a->contrast_lo, a->contrast_hi, a->amp_lo, a->amp_hi, a->noise_lo,
                 a->noise_hi, a->blur_hi, a->gamma_lo, a->gamma_hi, a->drop_hi};
    uint64_t h = prime_mix64(a->seed ^ ((uint64_t)a->copies << 40) ^ ((uint64_t)a->shift << 48) ^ (uint64_t)T);
    for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
        uint32_t u;
        memcpy(&u, &f[k], 4);
        h = prime_mix64(h ^ u);
    }
    return h;
}

static float lerp_u(const prime_aug_params *a, int stream, uint64_t key, float lo, float hi) {
    return lo + (hi - lo) * (float)prime_rand_uniform(a->seed, stream, key);
}

/* The transformed image of one sample: shift, gamma, then a Gaussian blur
 * (separable, radius ceil(3 sigma), edges zero). out and tmp: w*h floats. */
static void transform(const prime_aug_params *a, uint64_t key, const float *img, int w, int h, float *out,
                      float *tmp) {
    int dx = 0, dy = 0;
    if (a->shift > 0) {
        int n = 2 * a->shift + 1;
        dx = (int)(prime_rand_u64(a->seed, AUG_SHX, key) % (uint64_t)n) - a->shift;
        dy = (int)(prime_rand_u64(a->seed, AUG_SHY, key) % (uint64_t)n) - a->shift;
    }
    double lg = prime_log(a->gamma_lo) + (prime_log(a->gamma_hi) - prime_log(a->gamma_lo)) *
                                           prime_rand_uniform(a->seed, AUG_GAMMA, key);
    float gam = (float)prime_exp(lg);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int sx = x - dx, sy = y - dy;
            float v = (sx >= 0 && sx < w && sy >= 0 && sy < h) ? img[(size_t)sy * w + sx] : 0.0f;
            v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
            out[(size_t)y * w + x] = (v > 0.0f && gam != 1.0f) ? (float)prime_exp(gam * prime_log(v)) : v;
        }
    float sigma = lerp_u(a, AUG_BLUR, key, 0.0f, a->blur_hi);
    if (sigma < 0.05f) return;
    enum { RMAX = 9 };
    int r = (int)ceilf(3.0f * sigma);
    if (r > RMAX) r = RMAX;
    float k[2 * RMAX + 1], ks = 0;
    for (int i = -r; i <= r; i++) ks += k[i + r] = (float)prime_exp(-0.5 * (double)(i * i) / ((double)sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) k[i] /= ks;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float s = 0;
            for (int i = -r; i <= r; i++)
                if (x + i >= 0 && x + i < w) s += k[i + r] * out[(size_t)y * w + x + i];
            tmp[(size_t)y * w + x] = s;
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float s = 0;
            for (int i = -r; i <= r; i++)
                if (y + i >= 0 && y + i < h) s += k[i + r] * tmp[(size_t)(y + i) * w + x];
            out[(size_t)y * w + x] = s;
        }
}

typedef struct {
    const prime_images *im;
    const prime_aug_params *a;
    prime_frames *out;
    int T, first, step, rc;
    char err[256];
} aug_job;

static void *aug_worker(void *arg) {
    aug_job *j = arg;
    const prime_images *im = j->im;
    const prime_aug_params *a = j->a;
    size_t np = (size_t)im->w * im->h, ss = prime_frames_sample_size(j->out);
    float *buf = malloc(2 * np * sizeof(float));
    if (!buf) {
        snprintf(j->err, sizeof j->err, "out of memory");
        j->rc = -1;
        return NULL;
    }
    int total = im->n * a->copies;
    for (int s = j->first; s < total; s += j->step) {
        int c = s / im->n, i = s % im->n;
        uint64_t key = ((uint64_t)c << 32) | (uint64_t)i;
        transform(a, key, im->x + (size_t)i * np, im->w, im->h, buf, buf + np);
        prime_event_params p = prime_default_event_params();
        p.seed = a->seed + key;
        p.motion = prime_rand_uniform(a->seed, AUG_MOTION, key) < a->p_camera ? PRIME_MOTION_CAMERA
                                                                                : PRIME_MOTION_IMAGE;
        p.contrast = lerp_u(a, AUG_CONTRAST, key, a->contrast_lo, a->contrast_hi);
        p.amplitude = lerp_u(a, AUG_AMP, key, a->amp_lo, a->amp_hi);
        p.noise_rate = lerp_u(a, AUG_NOISE, key, a->noise_lo, a->noise_hi);
        prime_event *ev;
        size_t n;
        if (prime_events_from_image(buf, im->w, im->h, &p, &ev, &n) != 0) {
            snprintf(j->err, sizeof j->err, "copy %d of image %d: %s", c, i, prime_last_error());
            j->rc = -1;
            break;
        }
        double drop = lerp_u(a, AUG_DROP, key, 0.0f, a->drop_hi);
        if (drop > 0) { /* keeps the time order */
            size_t m = 0;
            for (size_t e = 0; e < n; e++)
                if (prime_rand_uniform(p.seed, AUG_DROP_EVENT, e) >= drop) ev[m++] = ev[e];
            n = m;
        }
        prime_frames_bin_u8(ev, n, j->T, j->out->w, j->out->x + (size_t)s * ss);
        free(ev);
        j->out->y[s] = im->y[i];
    }
    free(buf);
    return NULL;
}

int prime_frames_augmented(const prime_images *im, int T, const prime_aug_params *a, prime_frames *out) {
    if (!out) return prime_error("augment: NULL output");
    memset(out, 0, sizeof *out);
    if (prime_aug_check(a) != 0) return -1;
    if (!im || im->n < 0 || (im->n && (!im->x || !im->y))) return prime_error("augment: bad image set");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("augment: T = %d outside 1..%d", T, PRIME_MAX_T);
    if ((uint64_t)im->n * (uint64_t)a->copies > (1u << 24))
        return prime_error("augment: %d images x %d copies is more than 2^24 samples", im->n, a->copies);
    int total = im->n * a->copies;
    out->n = total, out->T = T, out->c = 2, out->h = out->w = 34;
    size_t ss = prime_frames_sample_size(out);
    out->x = malloc(total ? (size_t)total * ss : 1);
    out->y = malloc(total ? (size_t)total : 1);
    if (!out->x || !out->y) {
        prime_frames_free(out);
        return prime_error("augment: out of memory for %d samples", total);
    }
    enum { NT = 2 };
    aug_job jobs[NT];
    pthread_t th[NT];
    int started[NT] = {0};
    for (int t = 0; t < NT; t++) {
        jobs[t] = (aug_job){im, a, out, T, t, NT, 0, {0}};
        started[t] = pthread_create(&th[t], NULL, aug_worker, &jobs[t]) == 0;
        if (!started[t]) aug_worker(&jobs[t]);
    }
    for (int t = 0; t < NT; t++)
        if (started[t]) pthread_join(th[t], NULL);
    for (int t = 0; t < NT; t++)
        if (jobs[t].rc != 0) {
            prime_frames_free(out);
            return prime_error("augment: %s", jobs[t].err);
        }
    return 0;
}
