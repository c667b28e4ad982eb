/* events.c - N-MNIST-like event streams: synthesizer, file format, binning.
 *
 * Part of the core (native and wasm): no file I/O, no threads, no libm
 * log/exp (pmath.h instead), so every build emits the same events.
 *
 *   prime_events_from_image  static image -> DVS events along 3 saccades
 *   prime_nmnist_parse/write the N-MNIST binary format, 5 bytes per event
 *   prime_events_bin         events -> T frames [T][2][size][size] of counts
 *
 * The model and its parameters are described in docs/data.md.
 */
#include <stdlib.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"

/* ---------------------------------------------------------------- constants */

/* Offset added to the intensity before the log: the monitor's black level
 * relative to full white (a DVS never sees true zero light); calibrated
 * with the defaults below to about 4,300 events per MNIST digit. */
#define EV_EPS 0.3
/* Stream ids of the counter RNG (key = params.seed). */
#define EV_STREAM_NOISE 0x6e6f697365000000ull /* "noise" + pixel index */
#define EV_MAX_EVENTS ((size_t)PRIME_MAX_EVENTS) /* hard cap, 24 MB of events */

/* Default parameters: see docs/data.md. */
prime_event_params prime_default_event_params(void) {
    return (prime_event_params){.size = 34, .contrast = 0.15f, .noise_rate = 0.2f, .duration_us = 300000,
                                .steps_per_saccade = 100, .amplitude = 3.0f, .seed = 1,
                                .motion = PRIME_MOTION_IMAGE};
}

/* ---------------------------------------------------------------- event list */

typedef struct {
    prime_event *v;
    size_t n, cap;
} ev_list;

/* Appends one event; 0, or -1 (out of memory / cap reached, message set). */
static int ev_push(ev_list *l, int x, int y, int p, uint32_t t) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        if (cap > EV_MAX_EVENTS) cap = EV_MAX_EVENTS;
        if (cap <= l->n)
            return prime_error("events: more than %zu events (lower noise_rate or raise contrast)",
                               EV_MAX_EVENTS);
        prime_event *v = realloc(l->v, cap * sizeof *v);
        if (!v) return prime_error("events: out of memory for %zu events", cap);
        l->v = v;
        l->cap = cap;
    }
    prime_event *e = &l->v[l->n++];
    memset(e, 0, sizeof *e); /* padding too: the buffer is byte-comparable */
    e->x = (uint16_t)x;
    e->y = (uint16_t)y;
    e->p = (uint8_t)p;
    e->t = t;
    return 0;
}

/* Total order on events: time, then y, x, polarity (identical events are
 * interchangeable, so qsort's instability cannot change the output). */
static int ev_cmp(const void *a, const void *b) {
    const prime_event *u = a, *v = b;
    if (u->t != v->t) return u->t < v->t ? -1 : 1;
    if (u->y != v->y) return u->y < v->y ? -1 : 1;
    if (u->x != v->x) return u->x < v->x ? -1 : 1;
    if (u->p != v->p) return u->p < v->p ? -1 : 1;
    return 0;
}

/* ---------------------------------------------------------------- saccades */

/* Image displacement on the sensor (pixels) at fraction u in [0,1] of saccade
 * sac: three saccades along an isosceles triangle, apex first,
 *   V0 = (0, -A/2) -> V1 = (+A/2, +A/2) -> V2 = (-A/2, +A/2) -> V0,
 * each with a smooth (smoothstep) velocity profile. With camera motion the
 * camera follows that path, so the image moves by the opposite displacement
 * (sign = -1). */
static void saccade_pos(double A, double sign, int sac, double u, double *dx, double *dy) {
    static const double vx[4] = {0.0, 0.5, -0.5, 0.0};
    static const double vy[4] = {-0.5, 0.5, 0.5, -0.5};
    double s = u * u * (3.0 - 2.0 * u);
    *dx = sign * A * (vx[sac] + (vx[sac + 1] - vx[sac]) * s);
    *dy = sign * A * (vy[sac] + (vy[sac + 1] - vy[sac]) * s);
}

/* The image as the sensor sees it: clamped to [0,1], zero-padded so that
 * bilinear sampling needs no bounds checks, and the sensor rectangle that
 * can ever see a non-black pixel (pixels outside it never fire). */
typedef struct {
    float *pad;          /* (w + 2P) x (h + 2P) */
    int pw, P;           /* padded width, padding */
    int w, h, size;
    int x0, y0, aw, ah;  /* active sensor rectangle; aw * ah may be 0 */
} scene;

/* Sets up *sc for img (w x h) and displacements within +-A/2; 0 or -1. */
static int scene_init(scene *sc, const float *img, int w, int h, int size, double A) {
    /* source column of sensor pixel x is x + floor(-(size - w)/2 - dx) */
    int ixmin = (int)floor(-(size - w) * 0.5 - A * 0.5) - 1;
    int ixmax = (int)floor(-(size - w) * 0.5 + A * 0.5) + 1;
    int iymin = (int)floor(-(size - h) * 0.5 - A * 0.5) - 1;
    int iymax = (int)floor(-(size - h) * 0.5 + A * 0.5) + 1;
    int D = (ixmax - ixmin > iymax - iymin ? ixmax - ixmin : iymax - iymin);
    sc->P = D + 2;
    sc->pw = w + 2 * sc->P;
    sc->w = w;
    sc->h = h;
    sc->size = size;
    sc->pad = calloc((size_t)sc->pw * (h + 2 * sc->P), sizeof *sc->pad);
    if (!sc->pad) return prime_error("events_from_image: out of memory");
    int bx0 = w, bx1 = -1, by0 = h, by1 = -1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float v = img[(size_t)y * w + x];
            v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; /* NaN -> 0 */
            sc->pad[(size_t)(y + sc->P) * sc->pw + x + sc->P] = v;
            if (v > 0.0f) {
                if (x < bx0) bx0 = x;
                if (x > bx1) bx1 = x;
                if (y < by0) by0 = y;
                if (y > by1) by1 = y;
            }
        }
    sc->x0 = sc->y0 = sc->aw = sc->ah = 0;
    if (bx1 < 0) return 0; /* black image */
    int xa = bx0 - 1 - ixmax, xb = bx1 - ixmin, ya = by0 - 1 - iymax, yb = by1 - iymin;
    if (xa < 0) xa = 0;
    if (ya < 0) ya = 0;
    if (xb > size - 1) xb = size - 1;
    if (yb > size - 1) yb = size - 1;
    if (xa > xb || ya > yb) return 0; /* image entirely off the sensor */
    sc->x0 = xa;
    sc->y0 = ya;
    sc->aw = xb - xa + 1;
    sc->ah = yb - ya + 1;
    return 0;
}

/* Fills I (aw*ah, the active rectangle) with the intensity of the image
 * displaced by (dx, dy): image pixel (i, j) centred at sensor pixel
 * (i + (size - w)/2 + dx, j + (size - h)/2 + dy), bilinear interpolation,
 * black outside the image. */
static void render(const scene *sc, double dx, double dy, double *I) {
    double fxs = -((sc->size - sc->w) * 0.5 + dx), fys = -((sc->size - sc->h) * 0.5 + dy);
    double flx = floor(fxs), fly = floor(fys);
    int ix0 = (int)flx, iy0 = (int)fly;
    double fx = fxs - flx, fy = fys - fly;
    double w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy);
    double w01 = (1 - fx) * fy, w11 = fx * fy;
    for (int y = 0; y < sc->ah; y++) {
        const float *r0 = sc->pad + (size_t)(sc->y0 + y + iy0 + sc->P) * sc->pw + sc->x0 + ix0 + sc->P;
        const float *r1 = r0 + sc->pw;
        double *out = I + (size_t)y * sc->aw;
        for (int x = 0; x < sc->aw; x++)
            out[x] = w00 * r0[x] + w10 * r0[x + 1] + w01 * r1[x] + w11 * r1[x + 1];
    }
}

/* The pixel's log intensity log(I + eps). */
static double log_i(double I, double log_eps) {
    return I > 0 ? prime_log(I + EV_EPS) : log_eps;
}

/* Intensity band (I + eps) strictly inside which a pixel with reference r
 * cannot fire: exp(r -+ c) with a 1e-9 relative margin, far wider than the
 * ~1e-16 error of prime_log/prime_exp, so skipping the log there never
 * changes an event. */
static void band(double r, double c, double *lo, double *hi) {
    *lo = prime_exp(r - c) * (1 + 1e-9);
    *hi = prime_exp(r + c) * (1 - 1e-9);
}

/* ---------------------------------------------------------------- synthesizer */

/* Time (us, in [t0, dur)) at which the log intensity, moving linearly from a
 * at t0 to b at t1, crosses level r. */
static uint32_t cross_time(double t0, double t1, double a, double b, double r, double dur) {
    double t = t0 + (t1 - t0) * ((r - a) / (b - a));
    if (t < t0) t = t0;
    uint32_t ti = (uint32_t)t;
    return ti < (uint32_t)dur ? ti : (uint32_t)dur - 1;
}

/* Checks event parameters; 0 or -1 naming the bad field. */
static int check_params(const prime_event_params *p) {
    if (p->size < 1 || p->size > 255)
        return prime_error("event params: size %d outside 1..255", p->size);
    if (!(p->contrast >= 0.01f && p->contrast <= 10.0f))
        return prime_error("event params: contrast %g outside 0.01..10", (double)p->contrast);
    if (!(p->noise_rate >= 0.0f && p->noise_rate <= 1000.0f))
        return prime_error("event params: noise_rate %g outside 0..1000 Hz", (double)p->noise_rate);
    if (p->duration_us < 3 || p->duration_us > 8388607)
        return prime_error("event params: duration_us %d outside 3..8388607 (23-bit timestamps)",
                           p->duration_us);
    if (p->steps_per_saccade < 1 || p->steps_per_saccade > 10000)
        return prime_error("event params: steps_per_saccade %d outside 1..10000",
                           p->steps_per_saccade);
    if (!(p->amplitude >= 0.0f && p->amplitude <= (float)p->size))
        return prime_error("event params: amplitude %g outside 0..size", (double)p->amplitude);
    if (p->motion != PRIME_MOTION_IMAGE && p->motion != PRIME_MOTION_CAMERA)
        return prime_error("event params: motion %d (0 image, 1 camera)", (int)p->motion);
    if ((int64_t)p->steps_per_saccade * p->size * p->size > PRIME_MAX_EVENT_WORK)
        return prime_error("event params: steps_per_saccade %d x size %d^2 above the work cap of %d "
                           "(e.g. 2500 steps at size 34)", p->steps_per_saccade, p->size, PRIME_MAX_EVENT_WORK);
    return 0;
}

int prime_events_from_image(const float *img, int w, int h, const prime_event_params *p,
                            prime_event **events, size_t *count) {
    if (events) *events = NULL;
    if (count) *count = 0;
    if (!img || !p || !events || !count) return prime_error("events_from_image: NULL argument");
    if (w < 1 || h < 1 || w > 4096 || h > 4096)
        return prime_error("events_from_image: image size %dx%d outside 1..4096", w, h);
    if (check_params(p) != 0) return -1;

    int size = p->size, npix = size * size;
    int S = p->steps_per_saccade, nsteps = 3 * S;
    double A = p->amplitude, c = p->contrast, sign = p->motion == PRIME_MOTION_CAMERA ? -1.0 : 1.0;
    double dur = p->duration_us, log_eps = prime_log(EV_EPS);

    scene sc = {0};
    double *ref = NULL, *I0 = NULL, *I1 = NULL, *lo = NULL, *hi = NULL;
    ev_list list = {0};
    int rc = -1;
    if (scene_init(&sc, img, w, h, size, A) != 0) goto done;
    size_t na = (size_t)sc.aw * sc.ah, nb = (na ? na : 1) * sizeof(double);
    ref = malloc(nb);
    I0 = malloc(nb);
    I1 = malloc(nb);
    lo = malloc(nb);
    hi = malloc(nb);
    if (!ref || !I0 || !I1 || !lo || !hi) {
        prime_error("events_from_image: out of memory");
        goto done;
    }

    /* the pixels start adapted to the image at the first vertex */
    double dx, dy;
    saccade_pos(A, sign, 0, 0.0, &dx, &dy);
    render(&sc, dx, dy, I0);
    for (size_t i = 0; i < na; i++) {
        ref[i] = log_i(I0[i], log_eps);
        band(ref[i], c, &lo[i], &hi[i]);
    }

    /* DVS pixels: one event per contrast-threshold crossing of the log
     * intensity L, the crossing time interpolated linearly within the
     * sub-step, the reference moved by c per event */
    for (int k = 1; k <= nsteps && na; k++) {
        int sac = (k - 1) / S, j = k - sac * S;
        saccade_pos(A, sign, sac, (double)j / S, &dx, &dy);
        render(&sc, dx, dy, I1);
        double t0 = dur * (k - 1) / nsteps, t1 = dur * k / nsteps;
        for (size_t i = 0; i < na; i++) {
            double v = I1[i] + EV_EPS;
            if (v > lo[i] && v < hi[i]) continue; /* surely no crossing */
            double a = log_i(I0[i], log_eps), b = log_i(I1[i], log_eps);
            if (b == a) continue;
            double r = ref[i];
            int x = sc.x0 + (int)(i % sc.aw), y = sc.y0 + (int)(i / sc.aw);
            while (b - r >= c) {
                r += c;
                if (ev_push(&list, x, y, 1, cross_time(t0, t1, a, b, r, dur)) != 0) goto done;
            }
            while (r - b >= c) {
                r -= c;
                if (ev_push(&list, x, y, 0, cross_time(t0, t1, a, b, r, dur)) != 0) goto done;
            }
            if (r != ref[i]) {
                ref[i] = r;
                band(r, c, &lo[i], &hi[i]);
            }
        }
        double *tmp = I0; I0 = I1; I1 = tmp;
    }

    /* background activity: a Poisson process per pixel, random polarity */
    if (p->noise_rate > 0.0f) {
        double rate_us = p->noise_rate * 1e-6;
        for (int i = 0; i < npix; i++) {
            uint64_t stream = EV_STREAM_NOISE + (uint64_t)i;
            double t = 0;
            for (uint64_t n = 0;; n++) {
                t += -prime_log(prime_rand_uniform(p->seed, stream, 2 * n)) / rate_us;
                if (t >= dur) break;
                int pol = (int)(prime_rand_u64(p->seed, stream, 2 * n + 1) >> 63);
                if (ev_push(&list, i % size, i / size, pol, (uint32_t)t) != 0) goto done;
            }
        }
    }

    if (list.n > 1) qsort(list.v, list.n, sizeof *list.v, ev_cmp);
    if (list.n == 0) { /* a valid, empty stream: still hand back a buffer */
        list.v = malloc(sizeof *list.v);
        if (!list.v) {
            prime_error("events_from_image: out of memory");
            goto done;
        }
    }
    *events = list.v;
    *count = list.n;
    list.v = NULL;
    rc = 0;
done:
    free(list.v);
    free(sc.pad);
    free(ref);
    free(I0);
    free(I1);
    free(lo);
    free(hi);
    return rc;
}

/* ---------------------------------------------------------------- N-MNIST format */

/* 5 bytes per event, as in Orchard's Read_Ndataset.m:
 *   byte 0 = x, byte 1 = y, byte 2 bit 7 = polarity (1 ON),
 *   timestamp (us, 23 bits) = ((b2 & 0x7f) << 16) | (b3 << 8) | b4. */
int prime_nmnist_parse(const uint8_t *bytes, size_t n, prime_event **events, size_t *count) {
    if (events) *events = NULL;
    if (count) *count = 0;
    if ((!bytes && n) || !events || !count) return prime_error("nmnist_parse: NULL argument");
    if (n % 5 != 0)
        return prime_error("nmnist_parse: %zu bytes is not a multiple of 5 (truncated file?)", n);
    size_t m = n / 5;
    if (m > EV_MAX_EVENTS)
        return prime_error("nmnist_parse: %zu events, more than the cap of %zu", m, EV_MAX_EVENTS);
    prime_event *ev = malloc((m ? m : 1) * sizeof *ev);
    if (!ev) return prime_error("nmnist_parse: out of memory for %zu events", m);
    for (size_t i = 0; i < m; i++) {
        const uint8_t *b = bytes + 5 * i;
        if (b[0] >= 34 || b[1] >= 34) {
            free(ev);
            return prime_error("nmnist_parse: event %zu at (%u, %u) is outside the 34x34 sensor",
                               i, b[0], b[1]);
        }
        memset(&ev[i], 0, sizeof ev[i]);
        ev[i].x = b[0];
        ev[i].y = b[1];
        ev[i].p = (uint8_t)(b[2] >> 7);
        ev[i].t = ((uint32_t)(b[2] & 0x7f) << 16) | ((uint32_t)b[3] << 8) | b[4];
    }
    *events = ev;
    *count = m;
    return 0;
}

int prime_nmnist_write(const prime_event *ev, size_t count, uint8_t **out, size_t *n) {
    if (out) *out = NULL;
    if (n) *n = 0;
    if ((!ev && count) || !out || !n) return prime_error("nmnist_write: NULL argument");
    if (count > SIZE_MAX / 5) return prime_error("nmnist_write: too many events");
    uint8_t *b = malloc(count ? count * 5 : 1);
    if (!b) return prime_error("nmnist_write: out of memory for %zu events", count);
    for (size_t i = 0; i < count; i++) {
        const prime_event *e = &ev[i];
        if (e->x > 255 || e->y > 255 || e->t >= (1u << 23) || e->p > 1) {
            free(b);
            return prime_error("nmnist_write: event %zu (x %u, y %u, p %u, t %u) does not fit "
                               "(x, y <= 255, p 0/1, t < 2^23 us)",
                               i, e->x, e->y, e->p, e->t);
        }
        uint8_t *o = b + 5 * i;
        o[0] = (uint8_t)e->x;
        o[1] = (uint8_t)e->y;
        o[2] = (uint8_t)((e->p << 7) | ((e->t >> 16) & 0x7f));
        o[3] = (uint8_t)(e->t >> 8);
        o[4] = (uint8_t)e->t;
    }
    *out = b;
    *n = count * 5;
    return 0;
}

/* ---------------------------------------------------------------- binning */

/* Frame k gets the events [floor(k*count/T), floor((k+1)*count/T)) of the
 * time-sorted list (the tonic ToFrame(n_event_bins=T) convention: chunk
 * sizes differ by at most one). */
int prime_events_bin(const prime_event *ev, size_t count, int T, int size, float *frames) {
    if ((!ev && count) || !frames) return prime_error("events_bin: NULL argument");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("events_bin: T = %d outside 1..%d", T, PRIME_MAX_T);
    if (size < 1 || size > 4096) return prime_error("events_bin: size %d outside 1..4096", size);
    if ((int64_t)T * 2 * size * size > PRIME_MAX_FRAME_VALUES)
        return prime_error("events_bin: %d frames of 2x%dx%d are more than %d values", T, size, size,
                           PRIME_MAX_FRAME_VALUES);
    if (count > EV_MAX_EVENTS) return prime_error("events_bin: %zu events, more than the cap of %zu", count, EV_MAX_EVENTS);
    if (count < (size_t)T)
        return prime_error("events_bin: %zu events cannot fill %d frames with an equal "
                           "number of events each (need at least T)", count, T);
    size_t plane = (size_t)size * size;
    memset(frames, 0, (size_t)T * 2 * plane * sizeof *frames);
    for (int k = 0; k < T; k++) {
        size_t lo = (size_t)((unsigned long long)count * k / T);
        size_t hi = (size_t)((unsigned long long)count * (k + 1) / T);
        float *f = frames + (size_t)k * 2 * plane;
        for (size_t i = lo; i < hi; i++) {
            const prime_event *e = &ev[i];
            if (e->x >= size || e->y >= size) {
                memset(frames, 0, (size_t)T * 2 * plane * sizeof *frames);
                return prime_error("events_bin: event %zu at (%u, %u) is outside %dx%d",
                                   i, e->x, e->y, size, size);
            }
            f[(e->p ? plane : 0) + (size_t)e->y * size + e->x] += 1.0f;
        }
    }
    return 0;
}
