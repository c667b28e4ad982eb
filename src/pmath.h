/* pmath.h - deterministic math and counter-based random numbers (internal).
 *
 * libm's log/exp/cos may differ by an ulp between glibc (native) and musl
 * (Emscripten); these use only IEEE basic operations and exact frexp/ldexp,
 * so every build computes the same bits. Compile with -ffp-contract=off.
 *
 * Random numbers are a pure function of (key, stream, counter): splitmix64
 * finalizers over the three words. Any draw can be recomputed in any order,
 * which keeps wasm, native and native scalar builds identical.
 */
#ifndef PRIME_PMATH_H
#define PRIME_PMATH_H

#include <math.h>
#include <stdint.h>

static inline uint64_t prime_mix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* 64 random bits for (key, stream, ctr). */
static inline uint64_t prime_rand_u64(uint64_t key, uint64_t stream, uint64_t ctr) {
    return prime_mix64(prime_mix64(key ^ prime_mix64(stream)) ^ prime_mix64(ctr + 0x632be59bd9b4e019ull));
}

/* Uniform double in the open interval (0, 1). */
static inline double prime_rand_uniform(uint64_t key, uint64_t stream, uint64_t ctr) {
    return ((double)(prime_rand_u64(key, stream, ctr) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Natural log for x > 0 (returns -inf for 0, nan for < 0), within ~1 ulp. */
static inline double prime_log(double x) {
    if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
    if (isinf(x)) return x;
    int e;
    double m = frexp(x, &e); /* x = m * 2^e, m in [0.5, 1) */
    if (m < 0.70710678118654752440) { m *= 2; e -= 1; }
    double s = (m - 1) / (m + 1), s2 = s * s;
    /* 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), |s| < 0.1716 */
    double t = 1.0 / 23;
    t = t * s2 + 1.0 / 21; t = t * s2 + 1.0 / 19; t = t * s2 + 1.0 / 17;
    t = t * s2 + 1.0 / 15; t = t * s2 + 1.0 / 13; t = t * s2 + 1.0 / 11;
    t = t * s2 + 1.0 / 9;  t = t * s2 + 1.0 / 7;  t = t * s2 + 1.0 / 5;
    t = t * s2 + 1.0 / 3;  t = t * s2 + 1.0;
    return 2 * s * t + e * 0.69314718055994530942;
}

/* e^x, within ~1 ulp for |x| < 700. */
static inline double prime_exp(double x) {
    if (x != x) return x;
    if (x > 709) return INFINITY;
    if (x < -745) return 0;
    double kf = floor(x * 1.44269504088896340736 + 0.5);
    int k = (int)kf;
    double r = (x - kf * 0.693145751953125) - kf * 1.42860682030941723212e-6;
    /* Taylor to r^14, |r| <= 0.347 */
    double t = 1.0 / 87178291200.0;
    t = t * r + 1.0 / 6227020800.0; t = t * r + 1.0 / 479001600.0;
    t = t * r + 1.0 / 39916800.0;   t = t * r + 1.0 / 3628800.0;
    t = t * r + 1.0 / 362880.0;     t = t * r + 1.0 / 40320.0;
    t = t * r + 1.0 / 5040.0;       t = t * r + 1.0 / 720.0;
    t = t * r + 1.0 / 120.0;        t = t * r + 1.0 / 24.0;
    t = t * r + 1.0 / 6.0;          t = t * r + 0.5;
    t = t * r + 1.0;                t = t * r + 1.0;
    return ldexp(t, k);
}

/* Standard normal for (key, stream, ctr) by Marsaglia's polar method; the
 * rejection loop walks a sub-counter, so the result is still a pure function. */
static inline double prime_rand_normal(uint64_t key, uint64_t stream, uint64_t ctr) {
    for (uint64_t k = 0; k < 64; k++) {
        uint64_t r = prime_rand_u64(key, stream, (ctr << 6) | k);
        double u = ((double)(r >> 32) + 0.5) * (2.0 / 4294967296.0) - 1.0;
        double v = ((double)(r & 0xffffffffu) + 0.5) * (2.0 / 4294967296.0) - 1.0;
        double s = u * u + v * v;
        if (s < 1.0 && s > 0.0) return u * sqrt(-2.0 * prime_log(s) / s);
    }
    return 0.0; /* probability 0.2146^64: never in practice */
}

#endif
