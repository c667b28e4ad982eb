/* classifier.c - the Inception-Score classifier (see classifier.h).
 *
 * File format (.pclf), little-endian:
 *     0   8  magic "PRIMECLF"
 *     8   4  version (1)
 *    12   4  side, hidden, classes (3 x u32)
 *    24  16  name (NUL-padded)
 *    40   4  test accuracy, % (f32; -1 unknown)
 *    44   .  f32 W1[side*side][hidden], b1[hidden], W2[hidden][classes], b2[classes]
 *   end   4  CRC-32 (zlib) of every byte before it
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "classifier.h"
#include "pmath.h"
#include "prime.h"

#define CLF_MAGIC "PRIMECLF"
#define CLF_VERSION 1
#define CLF_HEADER 44

struct prime_clf {
    prime_clf_arch a;
    int in;              /* side*side */
    size_t np;           /* parameter count */
    float *p;            /* one block: w1, b1, w2, b2 */
    float *w1, *b1, *w2, *b2;
    float *g, *m, *v;    /* training: gradient and Adam moments (one block, lazily) */
    uint64_t t;          /* Adam steps taken */
};

prime_clf_params prime_clf_default_params(void) {
    return (prime_clf_params){.lr = 2e-3f, .batch = 64, .epochs = 8, .shift = 2, .seed = 1};
}

/* Allocates c with its parameter block (zeroed); NULL on bad sizes. */
static prime_clf *clf_alloc(int side, int hidden, int classes) {
    if (side < 4 || side > 256 || hidden < 1 || hidden > 4096 || classes < 2 || classes > PRIME_MAX_CLASSES) {
        prime_error("classifier: sizes side %d hidden %d classes %d out of range", side, hidden, classes);
        return NULL;
    }
    prime_clf *c = calloc(1, sizeof *c);
    if (!c) { prime_error("classifier: out of memory"); return NULL; }
    c->a = (prime_clf_arch){.side = side, .hidden = hidden, .classes = classes, .test_acc = -1};
    c->in = side * side;
    c->np = (size_t)c->in * hidden + hidden + (size_t)hidden * classes + classes;
    c->p = calloc(c->np, sizeof(float));
    if (!c->p) { free(c); prime_error("classifier: out of memory"); return NULL; }
    c->w1 = c->p, c->b1 = c->w1 + (size_t)c->in * hidden;
    c->w2 = c->b1 + hidden, c->b2 = c->w2 + (size_t)hidden * classes;
    return c;
}

prime_clf *prime_clf_create(int side, int hidden, int classes, uint64_t seed) {
    prime_clf *c = clf_alloc(side, hidden, classes);
    if (!c) return NULL;
    double r1 = sqrt(6.0 / c->in), r2 = sqrt(6.0 / hidden);
    for (size_t i = 0; i < (size_t)c->in * hidden; i++) c->w1[i] = (float)(r1 * (2 * prime_rand_uniform(seed, 0x7731, i) - 1));
    for (size_t i = 0; i < (size_t)hidden * classes; i++) c->w2[i] = (float)(r2 * (2 * prime_rand_uniform(seed, 0x7732, i) - 1));
    return c;
}

void prime_clf_free(prime_clf *c) {
    if (!c) return;
    free(c->p), free(c->g), free(c);
}

prime_clf_arch *prime_clf_get_arch(prime_clf *c) { return c ? &c->a : NULL; }

/* ============================================================ forward / backward */

/* One image: x[in] in [-1, 1] -> hidden h[hidden] (after ReLU) and
 * probabilities pr[classes]. Zero inputs (black pixels) are skipped. */
static void clf_forward(const prime_clf *c, const float *x, float *h, double *pr) {
    const int H = c->a.hidden, K = c->a.classes;
    memcpy(h, c->b1, sizeof(float) * H);
    for (int i = 0; i < c->in; i++) {
        float xi = (x[i] + 1.0f) * 0.5f;
        if (xi == 0.0f) continue;
        const float *w = c->w1 + (size_t)i * H;
        for (int j = 0; j < H; j++) h[j] += xi * w[j];
    }
    for (int j = 0; j < H; j++) h[j] = h[j] > 0 ? h[j] : 0;
    double mx = -1e300, den = 0;
    for (int k = 0; k < K; k++) {
        double s = c->b2[k];
        for (int j = 0; j < H; j++) s += (double)h[j] * c->w2[(size_t)j * K + k];
        pr[k] = s;
        if (s > mx) mx = s;
    }
    for (int k = 0; k < K; k++) den += pr[k] = prime_exp(pr[k] - mx);
    for (int k = 0; k < K; k++) pr[k] /= den;
}

/* Adds the gradient of the cross-entropy of one image (scaled by 1/B) to c->g:
 * dlogit = (p - onehot)/B; dW2 = h dlogit; dh = W2 dlogit (h > 0); dW1 = x' dh. */
static void clf_backward(prime_clf *c, const float *x, const float *h, const double *pr, int y, float inv_b, float *dh) {
    const int H = c->a.hidden, K = c->a.classes;
    float *gw1 = c->g, *gb1 = gw1 + (size_t)c->in * H, *gw2 = gb1 + H, *gb2 = gw2 + (size_t)H * K;
    float dl[PRIME_MAX_CLASSES];
    for (int k = 0; k < K; k++) dl[k] = (float)(pr[k] - (k == y)) * inv_b, gb2[k] += dl[k];
    for (int j = 0; j < H; j++) {
        float s = 0;
        for (int k = 0; k < K; k++) gw2[(size_t)j * K + k] += h[j] * dl[k], s += c->w2[(size_t)j * K + k] * dl[k];
        dh[j] = h[j] > 0 ? s : 0;
        gb1[j] += dh[j];
    }
    for (int i = 0; i < c->in; i++) {
        float xi = (x[i] + 1.0f) * 0.5f;
        if (xi == 0.0f) continue;
        float *g = gw1 + (size_t)i * H;
        for (int j = 0; j < H; j++) g[j] += xi * dh[j];
    }
}

int prime_clf_train_epoch(prime_clf *c, const float *x, const uint8_t *y, int n, int epoch,
                          const prime_clf_params *p, double *loss) {
    if (!c || !x || !y || !p || n < 1 || p->batch < 1 || p->epochs < 1 || !(p->lr > 0))
        return prime_error("clf_train_epoch: bad arguments");
    if (!c->g) {
        c->g = calloc(3 * c->np, sizeof(float));
        if (!c->g) return prime_error("clf_train_epoch: out of memory");
        c->m = c->g + c->np, c->v = c->m + c->np;
    }
    const int H = c->a.hidden, K = c->a.classes;
    int *perm = malloc(sizeof(int) * n);
    float *h = malloc(sizeof(float) * (2 * H + c->in)), *xs = h + 2 * H;
    double pr[PRIME_MAX_CLASSES];
    if (!perm || !h) { free(perm), free(h); return prime_error("clf_train_epoch: out of memory"); }
    const int S = c->a.side, R = p->shift > 0 && p->shift < S ? p->shift : 0;
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(prime_rand_u64(p->seed, 0x636c66ull + (uint64_t)epoch, (uint64_t)i) % (uint64_t)(i + 1));
        int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
    const int nb = (n + p->batch - 1) / p->batch;
    const double total = (double)nb * p->epochs;
    double sl = 0;
    for (int b = 0; b < nb; b++) {
        int s = b * p->batch, B = n - s < p->batch ? n - s : p->batch;
        memset(c->g, 0, sizeof(float) * c->np);
        for (int q = 0; q < B; q++) {
            int i = perm[s + q];
            if (y[i] >= K) { free(perm), free(h); return prime_error("clf_train_epoch: label %d >= %d classes", y[i], K); }
            /* augmentation: shift by (dx, dy) in [-R, R], background -1 */
            uint64_t r = prime_rand_u64(p->seed, 0x7368ull + (uint64_t)epoch, (uint64_t)i);
            int dx = (int)(r % (2 * R + 1)) - R, dy = (int)((r >> 16) % (2 * R + 1)) - R;
            const float *xi = x + (size_t)i * c->in;
            for (int py = 0; py < S; py++)
                for (int px = 0; px < S; px++) {
                    int sy = py - dy, sx = px - dx;
                    xs[py * S + px] = sy >= 0 && sy < S && sx >= 0 && sx < S ? xi[sy * S + sx] : -1.0f;
                }
            clf_forward(c, xs, h, pr);
            sl -= prime_log(pr[y[i]] > 1e-12 ? pr[y[i]] : 1e-12);
            clf_backward(c, xs, h, pr, y[i], 1.0f / B, h + H);
        }
        /* Adam, cosine-decayed learning rate */
        double step = (double)epoch * nb + b;
        double lr = p->lr * 0.5 * (1 + cos(3.14159265358979323846 * step / total));
        c->t++;
        double c1 = 1 - pow(0.9, (double)c->t), c2 = 1 - pow(0.999, (double)c->t);
        for (size_t k = 0; k < c->np; k++) {
            float g = c->g[k];
            c->m[k] = 0.9f * c->m[k] + 0.1f * g;
            c->v[k] = 0.999f * c->v[k] + 0.001f * g * g;
            c->p[k] -= (float)(lr * (c->m[k] / c1) / (sqrt(c->v[k] / c2) + 1e-8));
        }
    }
    if (loss) *loss = sl / n;
    free(perm), free(h);
    return 0;
}

int prime_clf_predict(const prime_clf *c, const float *x, int n, float *probs) {
    if (!c || !x || !probs || n < 0) return prime_error("clf_predict: bad arguments");
    float *h = malloc(sizeof(float) * c->a.hidden);
    double pr[PRIME_MAX_CLASSES];
    if (!h) return prime_error("clf_predict: out of memory");
    for (int i = 0; i < n; i++) {
        clf_forward(c, x + (size_t)i * c->in, h, pr);
        for (int k = 0; k < c->a.classes; k++) probs[(size_t)i * c->a.classes + k] = (float)pr[k];
    }
    free(h);
    return 0;
}

double prime_clf_accuracy(const float *probs, const uint8_t *y, int n, int K) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int k = 1; k < K; k++) if (probs[(size_t)i * K + k] > probs[(size_t)i * K + best]) best = k;
        ok += best == y[i];
    }
    return n > 0 ? 100.0 * ok / n : 0;
}

/* ============================================================ Inception Score */

double prime_inception_score(const float *probs, int n, int K) {
    if (!probs || n < 1 || K < 1 || K > PRIME_MAX_CLASSES) return -1;
    double py[PRIME_MAX_CLASSES] = {0}, kl = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < K; k++) py[k] += probs[(size_t)i * K + k] / (double)n;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < K; k++) {
            double p = probs[(size_t)i * K + k];
            if (p > 0) kl += p * (prime_log(p) - prime_log(py[k]));
        }
    return prime_exp(kl / n);
}

/* ============================================================ file */

static void put_u32(uint8_t *b, uint32_t v) { b[0] = (uint8_t)v, b[1] = (uint8_t)(v >> 8), b[2] = (uint8_t)(v >> 16), b[3] = (uint8_t)(v >> 24); }
static uint32_t get_u32(const uint8_t *b) { return b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static void put_f32(uint8_t *b, float f) { uint32_t u; memcpy(&u, &f, 4); put_u32(b, u); }
static float get_f32(const uint8_t *b) { uint32_t u = get_u32(b); float f; memcpy(&f, &u, 4); return f; }

int prime_clf_save(const prime_clf *c, uint8_t **out, size_t *n) {
    if (!c || !out || !n) return prime_error("clf_save: NULL argument");
    size_t len = CLF_HEADER + 4 * c->np + 4;
    uint8_t *b = calloc(1, len);
    if (!b) return prime_error("clf_save: out of memory");
    memcpy(b, CLF_MAGIC, 8);
    put_u32(b + 8, CLF_VERSION);
    put_u32(b + 12, (uint32_t)c->a.side), put_u32(b + 16, (uint32_t)c->a.hidden), put_u32(b + 20, (uint32_t)c->a.classes);
    memcpy(b + 24, c->a.name, 16);
    b[39] = 0;
    put_f32(b + 40, c->a.test_acc);
    for (size_t k = 0; k < c->np; k++) put_f32(b + CLF_HEADER + 4 * k, c->p[k]);
    put_u32(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4)));
    *out = b, *n = len;
    return 0;
}

prime_clf *prime_clf_load(const uint8_t *b, size_t n) {
    if (!b || n < CLF_HEADER + 4 || memcmp(b, CLF_MAGIC, 8) != 0) {
        prime_error("not an IS classifier file (magic \"PRIMECLF\" missing or file too short)");
        return NULL;
    }
    if (get_u32(b + 8) != CLF_VERSION) { prime_error("classifier file version %u, this build reads %d", get_u32(b + 8), CLF_VERSION); return NULL; }
    uint32_t side = get_u32(b + 12), hidden = get_u32(b + 16), classes = get_u32(b + 20);
    if (side > 256 || hidden > 4096 || classes > PRIME_MAX_CLASSES) {
        prime_error("classifier file: sizes %u/%u/%u out of range", side, hidden, classes);
        return NULL;
    }
    size_t np = (size_t)side * side * hidden + hidden + (size_t)hidden * classes + classes;
    if (n != CLF_HEADER + 4 * np + 4) {
        prime_error("classifier file: %zu bytes, %zu expected for %ux%u -> %u -> %u", n, CLF_HEADER + 4 * np + 4, side, side, hidden, classes);
        return NULL;
    }
    if ((uint32_t)crc32(0L, b, (uInt)(n - 4)) != get_u32(b + n - 4)) {
        prime_error("classifier file checksum mismatch: the file is corrupted");
        return NULL;
    }
    prime_clf *c = clf_alloc((int)side, (int)hidden, (int)classes);
    if (!c) return NULL;
    memcpy(c->a.name, b + 24, 16);
    c->a.name[15] = 0;
    c->a.test_acc = get_f32(b + 40);
    for (size_t k = 0; k < np; k++) {
        c->p[k] = get_f32(b + CLF_HEADER + 4 * k);
        if (!isfinite(c->p[k])) { prime_clf_free(c); prime_error("classifier file: parameter %zu is not finite", k); return NULL; }
    }
    return c;
}
