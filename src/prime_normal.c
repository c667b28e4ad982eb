/* prime_normal.c - the standard normal generator of the column read noise.
 *
 * Column read noise needs one standard normal per column read (~20,000 per
 * timestep of the PRIME network), so it gets its own generator: the ziggurat
 * of Marsaglia & Tsang (2000) in Doornik's form (2005, independent bits for
 * the strip and the value), 128 strips, over a counter-based stream (64 bits
 * = SplitMix64 at position ctr of a stream keyed by `base`). 98.8 % of draws
 * cost one hash, a table look-up and a multiply; the rest use the wedge test
 * or the exact tail (prime_exp/prime_log: same bits in every build).
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"
#include "prime_kernels.h"

#define ZIG_C 128
#define ZIG_R 3.442619855899
#define ZIG_V 9.91256303526217e-3
static double zig_x[ZIG_C + 1], zig_r[ZIG_C];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

/* Fills the strip tables (run once, by pthread_once). */
static void zig_init(void) {
    double f = prime_exp(-0.5 * ZIG_R * ZIG_R);
    zig_x[0] = ZIG_V / f;
    zig_x[1] = ZIG_R;
    zig_x[ZIG_C] = 0;
    for (int i = 2; i < ZIG_C; i++) {
        zig_x[i] = sqrt(-2 * prime_log(ZIG_V / zig_x[i - 1] + f));
        f = prime_exp(-0.5 * zig_x[i] * zig_x[i]);
    }
    for (int i = 0; i < ZIG_C; i++) zig_r[i] = zig_x[i + 1] / zig_x[i];
}

/* 64 random bits: SplitMix64 of stream `base` at position ctr. */
static inline uint64_t sm64(uint64_t base, uint64_t ctr) { return prime_mix64(base + ctr * 0x9e3779b97f4a7c15ull); }

/* Returns a standard normal, a pure function of (base, ctr < 2^40). */
float prime_dev_normal(uint64_t base, uint64_t ctr) {
    pthread_once(&zig_once, zig_init);
    const uint64_t base2 = base ^ 0x2545f4914f6cdd1dull; /* extra uniforms */
    for (uint64_t k = 0; k < 64; k++) {
        uint64_t c2 = (ctr << 6) | k, h = sm64(base, c2);
        int i = (int)(h & (ZIG_C - 1));
        double u = ((double)(int64_t)(h >> 11) + 0.5) * (1.0 / 4503599627370496.0) - 1.0; /* (-1, 1), 53 bits */
        if (fabs(u) < zig_r[i]) return (float)(u * zig_x[i]);
        if (i == 0) { /* the base strip's tail beyond R (Marsaglia 1964) */
            for (uint64_t j = 0; j < 64; j++) {
                uint64_t g = sm64(base2, (c2 << 6) | j);
                double u1 = ((double)(g >> 32) + 0.5) * (1.0 / 4294967296.0);
                double u2 = ((double)(g & 0xffffffffu) + 0.5) * (1.0 / 4294967296.0);
                double xt = prime_log(u1) / ZIG_R, yt = prime_log(u2);
                if (-2 * yt >= xt * xt) return (float)(u < 0 ? xt - ZIG_R : ZIG_R - xt);
            }
            return (float)(u < 0 ? -ZIG_R : ZIG_R);
        }
        double xv = u * zig_x[i];
        double f0 = prime_exp(-0.5 * (zig_x[i] * zig_x[i] - xv * xv));
        double f1 = prime_exp(-0.5 * (zig_x[i + 1] * zig_x[i + 1] - xv * xv));
        double u3 = ((double)(sm64(base2, c2 << 6) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        if (f1 + u3 * (f0 - f1) < 1.0) return (float)xv;
    }
    return 0.0f; /* probability ~0.012^64: never */
}

/* z[j] = prime_dev_normal(base, ctr0 + j) for j < n, the fast path (98.8 %
 * of draws) inline: the hash input base + (ctr << 6) * phi steps by a
 * constant (same 64-bit value, one multiply less); the rest start over in
 * prime_dev_normal, which repeats this first step and goes on: same value. */
PRIME_CLONES PRIME_NOINLINE void prime_dev_normals(float *restrict z, uint64_t base, uint64_t ctr0, int n) {
    const uint64_t phi = 0x9e3779b97f4a7c15ull;
    uint64_t s = base + (ctr0 << 6) * phi;
    for (int j = 0; j < n; j++, s += phi << 6) {
        const uint64_t h = prime_mix64(s);
        const int i = (int)(h & (ZIG_C - 1));
        const double u = ((double)(int64_t)(h >> 11) + 0.5) * (1.0 / 4503599627370496.0) - 1.0;
        z[j] = fabs(u) < zig_r[i] ? (float)(u * zig_x[i]) : prime_dev_normal(base, ctr0 + (uint64_t)j);
    }
}


/* Sets up the ziggurat tables before prime_dev_normals is used. */
void prime_dev_normal_init(void) { pthread_once(&zig_once, zig_init); }
