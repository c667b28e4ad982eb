/* test_devfx.c - the device effects of src/device_fx.h: each noise model's
 * per-column summed form against its per-cell reference, programming error,
 * relaxation against the fitted formulas, ADC/DAC codes computed by hand,
 * the exact IR-drop solve against hand-solved 2x2 arrays and a dense nodal
 * (SPICE-style) solve, the fast IR forms against the exact solve, and every
 * parameter out of range. Statistical bounds are 5 standard errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fx.h"
#include "device_opts.h"
#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"

#include "check.h"

/* The golden fingerprint of test_fingerprint: gcc -O2, clang -O3 -DPRIME_NO_SIMD
 * and emcc -O2 -msimd128 (node) builds all print it. */
#define DEVFX_FINGERPRINT 0xc0efe1b0d6e1721aull

/* ============================================================ helpers */

/* Sample mean and standard deviation of x [n]. */
static void stats(const double *x, int n, double *mean, double *sd) {
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) s2 += (x[i] - *mean) * (x[i] - *mean);
    *sd = sqrt(s2 / (n - 1));
}

/* A formed-like pair: G ~ N(30, 4.5) uS, or an off cell (0.5 uS) one time in four. */
static float cell_g(uint64_t seed, uint64_t i) {
    if (prime_rand_uniform(seed, 7, i) < 0.25) return 0.5f + 0.1f * (float)prime_rand_normal(seed, 8, i);
    float g = 30.0f + 4.5f * (float)prime_rand_normal(seed, 9, i);
    return g > 0 ? g : 0;
}

/* ============================================================ noise models */

#define NCOL 64
#define NREAD 8000

/* One column of NCOL pairs read NREAD times in both forms: means and sds
 * against the exact ones (mean sum x w, sd gain sqrt(sum x^2 coef)). */
static void noise_equivalence(const char *name, const prime_noise_params *p) {
    float gp[NCOL], gn[NCOL], x[NCOL];
    const float s = 0.01f;
    double mean = 0, var = 0;
    for (int i = 0; i < NCOL; i++) {
        gp[i] = cell_g(11, 2 * i), gn[i] = cell_g(11, 2 * i + 1);
        x[i] = prime_rand_uniform(12, 0, i) < 0.3 ? 0.0f : (float)prime_rand_uniform(12, 1, i);
        mean += x[i] * (double)((gp[i] - gn[i]) * s);
        var += (double)x[i] * x[i] * prime_fx_noise_coef(p, gp[i], gn[i], s);
    }
    double sd = prime_fx_noise_gain(p) * sqrt(var);
    static double cell[NREAD], col[NREAD];
    for (int r = 0; r < NREAD; r++) {
        float a = 0;
        for (int i = 0; i < NCOL; i++) {
            float z1 = (float)prime_rand_normal(5, (uint64_t)r, 2 * (uint64_t)i);
            float z2 = (float)prime_rand_normal(5, (uint64_t)r, 2 * (uint64_t)i + 1);
            a += x[i] * prime_fx_noise_cell(p, gp[i], gn[i], s, z1, z2);
        }
        cell[r] = a;
        float v = (float)mean;
        float vs = 0;
        for (int i = 0; i < NCOL; i++) vs += x[i] * x[i] * prime_fx_noise_coef(p, gp[i], gn[i], s);
        col[r] = v + prime_fx_noise_column(prime_fx_noise_gain(p), vs, (float)prime_rand_normal(6, 0, (uint64_t)r));
    }
    double mc, sc, mk, sk;
    stats(cell, NREAD, &mc, &sc);
    stats(col, NREAD, &mk, &sk);
    double se_m = 5 * sd / sqrt(NREAD), se_s = 5 / sqrt(2.0 * NREAD); /* relative, for the sd */
    CHECKV(fabs(mc - mean) <= se_m && fabs(mk - mean) <= se_m,
           "%s noise: mean per cell %.5f, per column %.5f, exact %.5f (bound +-%.5f, 5 se of %d reads)", name, mc,
           mk, mean, se_m, NREAD);
    CHECKV(fabs(sc / sd - 1) <= se_s && fabs(sk / sd - 1) <= se_s,
           "%s noise: sd per cell %.5f, per column %.5f, exact %.5f (ratios %.4f, %.4f; bound 1 +- %.4f)", name, sc,
           sk, sd, sc / sd, sk / sd, se_s);
}

static void test_noise_models(void) {
    prime_noise_params p = prime_devfx_default().read;
    p.model = PRIME_NM_CONDUCTANCE, p.eta = 0.1f;
    noise_equivalence("conductance", &p);
    /* the conductance coefficient is prime_device's g2, bit for bit */
    float gp = 31.25f, gn = 27.5f, s = 0.01f;
    CHECK(prime_fx_noise_coef(&p, gp, gn, s) == (gp * gp + gn * gn) * (s * s), "conductance coef == g2");
    p.model = PRIME_NM_WEIGHT, p.eta = 0.2f;
    noise_equivalence("weight", &p);
    p.model = PRIME_NM_ADDITIVE, p.sigma = 1.5f;
    noise_equivalence("additive", &p);
    p.model = PRIME_NM_MEASURED, p.scale = 1;
    prime_fx_sigma_preset(PRIME_PRESET_WAN2022, &p.measured);
    noise_equivalence("measured (wan2022)", &p);
    prime_fx_sigma_preset(PRIME_PRESET_WAN2022_2D, &p.measured);
    noise_equivalence("measured (wan2022_2d)", &p);
    p.measured = (prime_sigma_fn){.kind = PRIME_SIGMA_TABLE, .n = 3, .tg = {0, 20, 40}, .ts = {0.2f, 1.0f, 3.0f}};
    noise_equivalence("measured (table)", &p);
    /* the weight model on a pair with w = 0 reads exactly 0 */
    p.model = PRIME_NM_WEIGHT, p.eta = 0.2f;
    CHECK(prime_fx_noise_cell(&p, 20, 20, 0.01f, 3.0f, -2.0f) == 0, "weight noise of a zero weight is zero");
}

/* ============================================================ sigma(G) */

static void test_sigma(void) {
    prime_sigma_fn f;
    CHECK(prime_fx_sigma_preset(PRIME_PRESET_WAN2022, &f) == 0, "preset wan2022");
    double g = 20, want = 1.536e-4 * g * g * g - 1.167e-2 * g * g + 0.2374 * g + 1.053;
    CHECK_NEAR(prime_fx_sigma(&f, g), want, 1e-5, "wan2022 cubic at 20 uS (Wan et al. 2022, Ext. Data Fig. 3)");
    g = 39.26, want = 1.536e-4 * g * g * g - 1.167e-2 * g * g + 0.2374 * g + 1.053;
    CHECK_NEAR(prime_fx_sigma(&f, 50), want, 1e-5, "wan2022 beyond 39.26 uS reads at 39.26 (the fit's range)");
    const double c1d[5] = {0.701, 22.086, -50.773, 47.095, -16.458};
    CHECK(prime_fx_sigma_preset(PRIME_PRESET_WAN2022_1D, &f) == 0, "preset wan2022_1d");
    double x = 25.0 / 40, w = 0;
    for (int k = 4; k >= 0; k--) w = w * x + c1d[k];
    CHECK_NEAR(prime_fx_sigma(&f, 25), w, 1e-5, "wan2022_1d quartic at 25 uS");
    f = (prime_sigma_fn){.kind = PRIME_SIGMA_TABLE, .n = 3, .tg = {0, 20, 40}, .ts = {0.2f, 1.0f, 3.0f}};
    CHECK_NEAR(prime_fx_sigma(&f, 30), 2.0, 1e-6, "table interpolates");
    CHECK_NEAR(prime_fx_sigma(&f, 60), 3.0, 1e-6, "table constant beyond its end");
    f.tg[2] = 10;
    CHECK(prime_fx_sigma_check(&f, "read_sigma_fn") != 0 && strstr(prime_last_error(), "must increase"),
          "table not increasing: %s", prime_last_error());
    CHECK(prime_fx_sigma_preset((enum prime_sigma_preset)9, &f) != 0, "unknown preset: %s", prime_last_error());
}

/* ============================================================ programming */

#define NPROG 20000

static void test_programming(void) {
    prime_noise_params p = prime_devfx_default().prog;
    static double a[NPROG], b[NPROG], d[NPROG];
    const float gp = 30, gn = 20;
    struct { enum prime_noise_model m; float eta, sigma, clip; double sda, sdb; const char *name; } cs[] = {
        {PRIME_NM_CONDUCTANCE, 0.05f, 0, 0, 0.05 * 30, 0.05 * 20, "conductance"},
        {PRIME_NM_ADDITIVE, 0, 1.2f, 0, 1.2, 1.2, "additive"},
        {PRIME_NM_ADDITIVE, 0, 1.2f, 2, 1.2 * 0.959463, 1.2 * 0.959463, "additive, clipped at 2 sd"},
        {PRIME_NM_WEIGHT, 0.1f, 0, 0, 0.5, 0.5, "weight"}, /* each cell moves (30 - 20) 0.1 / 2 */
    };
    for (int c = 0; c < 4; c++) {
        p.model = cs[c].m, p.eta = cs[c].eta, p.sigma = cs[c].sigma, p.clip = cs[c].clip;
        for (int i = 0; i < NPROG; i++) {
            float o1, o2;
            prime_fx_program_pair(&p, gp, gn, 60, 77, 3, (uint64_t)i, &o1, &o2);
            a[i] = o1, b[i] = o2, d[i] = o1 + o2;
        }
        double ma, sa, mb, sb, md, sd;
        stats(a, NPROG, &ma, &sa), stats(b, NPROG, &mb, &sb), stats(d, NPROG, &md, &sd);
        double tol = 5 / sqrt(2.0 * NPROG);
        CHECKV(fabs(ma - gp) <= 5 * cs[c].sda / sqrt(NPROG) && fabs(sa / cs[c].sda - 1) <= tol &&
                   fabs(sb / cs[c].sdb - 1) <= tol,
               "programming %s: G+ mean %.4f (target 30), sd %.4f / %.4f, G- sd %.4f / %.4f (bound 1 +- %.3f)",
               cs[c].name, ma, sa, cs[c].sda, sb, cs[c].sdb, tol);
        if (cs[c].m == PRIME_NM_WEIGHT) CHECK(sd < 1e-4, "weight model keeps G+ + G- (sd %.2g)", sd);
        if (cs[c].clip > 0) {
            double mx = 0;
            for (int i = 0; i < NPROG; i++) mx = fmax(mx, fabs(a[i] - gp));
            CHECK(mx <= 2 * 1.2 + 1e-4, "clipped at 2 sd: max |dG| %.4f", mx);
        }
    }
    /* measured: sd sigma(G) of the Wan fit, clamped to [0, g_max] */
    p.model = PRIME_NM_MEASURED, p.scale = 1, p.clip = 0;
    prime_fx_sigma_preset(PRIME_PRESET_WAN2022, &p.measured);
    for (int i = 0; i < NPROG; i++) {
        float o1, o2;
        prime_fx_program_pair(&p, gp, gn, 60, 78, 3, (uint64_t)i, &o1, &o2);
        a[i] = o1;
    }
    double ma, sa, want = prime_fx_sigma(&p.measured, gp);
    stats(a, NPROG, &ma, &sa);
    CHECKV(fabs(sa / want - 1) <= 5 / sqrt(2.0 * NPROG), "programming measured (wan2022): sd %.4f, fit %.4f at 30 uS",
           sa, want);
    p.model = PRIME_NM_ADDITIVE, p.sigma = 100;
    float lo = 1, hi = 0;
    for (int i = 0; i < 1000; i++) {
        float o1, o2;
        prime_fx_program_pair(&p, 30, 30, 60, 79, 3, (uint64_t)i, &o1, &o2);
        lo = fminf(lo, o1), hi = fmaxf(hi, o1);
    }
    CHECK(lo == 0 && hi == 60, "programmed conductances clamped to [0, g_max]: %g..%g", lo, hi);
}

/* ============================================================ relaxation */

#define NREL 20000

static void test_relaxation(void) {
    prime_relax_params p = {.model = PRIME_RELAX_CMO, .t_read = 0, .drift_scale = 1};
    CHECK(prime_fx_relax(&p, 30, 1, 2, 3) == 30.0f, "t_read = 0 reads as formed");
    static double g[NREL];
    const double ts[4] = {1, 3600, 86400, 172800};
    for (int k = 0; k < 4; k++) {
        p.t_read = ts[k];
        for (int i = 0; i < NREL; i++) g[i] = prime_fx_relax(&p, 30, 2024, 5, (uint64_t)i);
        double m, s;
        stats(g, NREL, &m, &s);
        double lt = log(ts[k]);
        double wm = 30 - 0.0890 * lt, s1 = 0.0420 * lt + 0.4118;
        double s2 = 0.0277 * log10(wm) * sqrt(log((ts[k] + 1e-6) / 2e-6)), ws = sqrt(s1 * s1 + s2 * s2);
        CHECKV(fabs(m - wm) <= 5 * ws / sqrt(NREL) && fabs(s / ws - 1) <= 5 / sqrt(2.0 * NREL),
               "CMO relaxation at t = %g s: mean %.4f (fit %.4f), sd %.4f (fit %.4f)", ts[k], m, wm, s, ws);
    }
    p.model = PRIME_RELAX_WAN2022;
    const double c[3][5] = {{0.348, 16.030, -43.853, 45.393, -16.815},
                            {0.701, 22.086, -50.773, 47.095, -16.458},
                            {0.782, 20.274, -43.507, 37.062, -11.934}};
    const double tw[3] = {1, 86400, 172800};
    for (int k = 0; k < 3; k++)
        for (int q = 0; q < 2; q++) {
            double g0 = q ? 30 : 10, x = g0 / 40, ws = 0;
            for (int e = 4; e >= 0; e--) ws = ws * x + c[k][e];
            p.t_read = tw[k];
            for (int i = 0; i < NREL; i++) g[i] = prime_fx_relax(&p, (float)g0, 2024, 6, (uint64_t)i);
            double m, s;
            stats(g, NREL, &m, &s);
            CHECKV(fabs(m - g0) <= 5 * ws / sqrt(NREL) && fabs(s / ws - 1) <= 5 / sqrt(2.0 * NREL),
                   "Wan 2022 relaxation at t = %g s, G0 %g uS: mean %.4f, sd %.4f (fit %.4f)", tw[k], g0, m, s, ws);
        }
    /* a later read of the same chip: the same cell's draw, a larger spread */
    p.t_read = 1;
    float a = prime_fx_relax(&p, 30, 2024, 6, 17);
    p.t_read = 172800;
    float b = prime_fx_relax(&p, 30, 2024, 6, 17);
    prime_relax_params p1 = p;
    p1.t_read = 1;
    double za = (a - 30) / prime_fx_relax_sd(&p1, 30), zb = (b - 30) / prime_fx_relax_sd(&p, 30);
    CHECK_NEAR(za, zb, 1e-4, "one normal per cell at every t_read (deterministic, no re-forming)");
    CHECK(prime_fx_relax(&p, 30, 2024, 6, 17) == b, "relaxation is a pure function");
    /* between the fit's points: sigma interpolated linearly in ln t */
    p.t_read = sqrt(86400.0);
    double s1 = prime_fx_relax_sd(&p1, 20);
    p1.t_read = 86400;
    double mid = 0.5 * (s1 + prime_fx_relax_sd(&p1, 20));
    CHECK_NEAR(prime_fx_relax_sd(&p, 20), mid, 1e-9, "log-time interpolation halfway to 1 day");
    /* out of range */
    p.t_read = 200000;
    CHECK(prime_fx_relax_check(&p) != 0 && strstr(prime_last_error(), "t_read"), "Wan beyond 2 days: %s",
          prime_last_error());
    p.model = PRIME_RELAX_CMO, p.t_read = 0.5;
    CHECK(prime_fx_relax_check(&p) != 0 && strstr(prime_last_error(), "t_read"), "CMO below 1 s: %s",
          prime_last_error());
    p.t_read = -1;
    CHECK(prime_fx_relax_check(&p) != 0 && strstr(prime_last_error(), "t_read"), "negative t_read: %s",
          prime_last_error());
    p.t_read = 10, p.drift_scale = -1;
    CHECK(prime_fx_relax_check(&p) != 0 && strstr(prime_last_error(), "drift_scale"), "drift_scale: %s",
          prime_last_error());
}

/* ============================================================ converters */

static void test_converters(void) {
    prime_conv_params p = prime_devfx_default().adc;
    prime_conv_unit id = {0, 1};
    /* ideal: the same bits as prime_dev_adc / prime_dev_dac */
    int same = 1;
    for (int i = 0; i < 20000; i++) {
        float v = (float)(2.4 * prime_rand_uniform(3, 0, i) - 1.2), fs = 0.7f;
        int bits = 2 + i % 14;
        if (prime_fx_adc(&p, id, v, fs, bits, NULL) != prime_dev_adc(v, fs, bits)) same = 0;
        if (prime_fx_dac(&p, id, v, 1.3f, 1 + i % 16, NULL) != prime_dev_dac(v, 1.3f, 1 + i % 16)) same = 0;
    }
    CHECK(same, "ideal converters give prime_dev_adc / prime_dev_dac's bits (20000 values)");
    /* hand-computed codes: 4 bits over [-1, 1), lsb 0.125 */
    double clipped = 0;
    CHECK(prime_fx_adc(&p, id, 0.3f, 1, 4, &clipped) == 0.25f, "ideal: 0.3 -> code 2 (2.4 rounds to 2)");
    p.offset_sd = 1; /* any: the unit carries the drawn offset */
    CHECK(prime_fx_adc(&p, (prime_conv_unit){0.5f, 1}, 0.3f, 1, 4, NULL) == 0.375f, "offset +0.5 LSB: 2.9 -> code 3");
    CHECK(prime_fx_adc(&p, (prime_conv_unit){0, 1.25f}, 0.26f, 1, 4, NULL) == 0.375f, "gain 1.25: 2.08 -> 2.6 -> code 3");
    CHECK(prime_fx_adc(&p, (prime_conv_unit){0, 1.0f}, 0.26f, 1, 4, NULL) == 0.25f, "gain 1: 2.08 -> code 2");
    p.offset_sd = 0, p.inl = PRIME_INL_BOW, p.inl_lsb = 0.5f;
    CHECK(prime_fx_adc(&p, id, 0.0f, 1, 4, NULL) == 0.125f, "bow 0.5 LSB at mid-scale: 0 -> code 1");
    CHECK(prime_fx_adc(&p, id, 0.3f, 1, 4, NULL) == 0.375f, "bow: 2.4 + 0.455 -> code 3");
    CHECK(prime_fx_adc(&p, id, 0.75f, 1, 4, NULL) == 0.75f, "bow: 6 + 0.219 -> code 6");
    CHECK_NEAR(prime_fx_inl(&p, 1), 0, 0, "bow is 0 at full scale");
    p.inl = PRIME_INL_SINE, p.inl_lsb = 1, p.inl_periods = 1;
    CHECK(prime_fx_adc(&p, id, 0.5f, 1, 4, NULL) == 0.625f, "sine 1 LSB: 4 + sin(pi/2) -> code 5");
    CHECK(prime_fx_adc(&p, id, -0.5f, 1, 4, NULL) == -0.625f, "sine: -4 - 1 -> code -5");
    double e = 0;
    for (int i = 0; i <= 1000; i++) {
        double x = -1 + i / 500.0;
        e = fmax(e, fabs(prime_fx_inl(&p, x) - sin(3.14159265358979323846 * x)));
    }
    p.inl_periods = 3;
    for (int i = 0; i <= 1000; i++) {
        double x = -1 + i / 500.0;
        e = fmax(e, fabs(prime_fx_inl(&p, x) - sin(3 * 3.14159265358979323846 * x)));
    }
    CHECK(e < 1e-12, "the deterministic sine against libm: max error %.2g", e);
    /* clipping, counted */
    p.inl = PRIME_INL_NONE;
    clipped = 0;
    CHECK(prime_fx_adc(&p, id, 1.0f, 1, 4, &clipped) == 0.875f, "1.0 clips to code 7");
    CHECK(prime_fx_adc(&p, id, -1.0f, 1, 4, &clipped) == -1.0f, "-1.0 is code -8, in range");
    CHECK(prime_fx_adc(&p, id, -1.2f, 1, 4, &clipped) == -1.0f, "-1.2 clips to code -8");
    CHECK_INT((int)clipped, 2, "two clipped conversions counted");
    /* DAC: 3 bits, 8 steps over [0, 1] */
    CHECK(prime_fx_dac(&p, id, 0.3f, 1, 3, NULL) == 0.25f, "dac ideal: 2.4 -> 2");
    CHECK(prime_fx_dac(&p, (prime_conv_unit){0.5f, 1}, 0.3f, 1, 3, NULL) == 0.3125f, "dac offset 0.5 LSB: (2 + 0.5) / 8");
    CHECK(prime_fx_dac(&p, (prime_conv_unit){0, 1.1f}, 0.3f, 1, 3, NULL) == (float)(2 * 1.1 / 8), "dac gain 1.1");
    p.inl = PRIME_INL_BOW, p.inl_lsb = 0.25f;
    CHECK(prime_fx_dac(&p, id, 0.3f, 1, 3, NULL) == 0.279296875f, "dac bow 0.25 LSB: (2 + 0.234375) / 8");
    clipped = 0;
    prime_fx_dac(&p, id, 1.2f, 1, 3, &clipped);
    CHECK_INT((int)clipped, 1, "dac input beyond xmax counted as clipped");
    /* per-converter draws: statistics and determinism */
    p = prime_devfx_default().adc;
    p.offset_sd = 0.8f, p.gain_sd = 0.02f;
    static double off[NREL], gain[NREL];
    for (int i = 0; i < NREL; i++) {
        prime_conv_unit u = prime_fx_conv_draw(&p, 2024, 40, (uint64_t)i);
        off[i] = u.offset_lsb, gain[i] = u.gain;
    }
    double mo, so, mg, sg;
    stats(off, NREL, &mo, &so), stats(gain, NREL, &mg, &sg);
    double tol = 5 / sqrt(2.0 * NREL);
    CHECKV(fabs(so / 0.8 - 1) <= tol && fabs(sg / 0.02 - 1) <= tol && fabs(mg - 1) < 5 * 0.02 / sqrt(NREL),
           "converter draws over %d converters: offset sd %.4f (0.8 LSB), gain mean %.5f sd %.5f (0.02)", NREL, so,
           mg, sg);
    prime_conv_unit u1 = prime_fx_conv_draw(&p, 2024, 40, 5), u2 = prime_fx_conv_draw(&p, 2024, 40, 5);
    CHECK(u1.offset_lsb == u2.offset_lsb && u1.gain == u2.gain, "a converter's draw is a pure function of the chip seed");
}

/* ============================================================ IR drop */

/* Dense nodal reference ("SPICE-style"): every node an unknown, Kirchhoff's
 * current law per node, fixed nodes as identity rows, Gaussian elimination
 * with partial pivoting. Returns the column currents into the sense amps. */
static void dense_ir(const prime_ir_params *p, const float *g, int R, int C, const float *v, double *icol) {
    int n = 2 * R * C;
    double *A = calloc((size_t)n * (n + 1), sizeof(double));
#define AE(r, c) A[(size_t)(r) * (n + 1) + (c)]
#define NA(i, j) ((i) * C + (j))
#define NB(i, j) (R * C + (i) * C + (j))
    double gr = p->r_row > 0 ? 1e6 / p->r_row : 0, gc = p->r_col > 0 ? 1e6 / p->r_col : 0;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            int a = NA(i, j), b = NB(i, j);
            double G = g[i * C + j];
            /* row node */
            if ((p->r_row == 0 && p->r_drv == 0) || (p->r_drv == 0 && j == 0)) AE(a, a) = 1, AE(a, n) = v[i];
            else {
                AE(a, a) += G, AE(a, b) -= G;
                if (j == 0) AE(a, a) += 1e6 / p->r_drv, AE(a, n) += 1e6 / p->r_drv * v[i];
                else AE(a, a) += gr, AE(a, NA(i, j - 1)) -= gr;
                if (j < C - 1) AE(a, a) += gr, AE(a, NA(i, j + 1)) -= gr;
            }
            /* column node */
            if ((p->r_col == 0 && p->r_tia == 0) || (p->r_tia == 0 && i == 0)) AE(b, b) = 1, AE(b, n) = 0;
            else {
                AE(b, b) += G, AE(b, a) -= G;
                if (i == 0) AE(b, b) += 1e6 / p->r_tia;
                else AE(b, b) += gc, AE(b, NB(i - 1, j)) -= gc;
                if (i < R - 1) AE(b, b) += gc, AE(b, NB(i + 1, j)) -= gc;
            }
        }
    for (int k = 0; k < n; k++) {
        int piv = k;
        for (int r = k + 1; r < n; r++)
            if (fabs(AE(r, k)) > fabs(AE(piv, k))) piv = r;
        for (int c = 0; c <= n; c++) {
            double t = AE(k, c);
            AE(k, c) = AE(piv, c), AE(piv, c) = t;
        }
        for (int r = 0; r < n; r++)
            if (r != k && AE(r, k) != 0) {
                double f = AE(r, k) / AE(k, k);
                for (int c = k; c <= n; c++) AE(r, c) -= f * AE(k, c);
            }
    }
    double *x = malloc(sizeof(double) * n);
    for (int k = 0; k < n; k++) x[k] = AE(k, n) / AE(k, k);
    for (int j = 0; j < C; j++) {
        if (p->r_col == 0 && p->r_tia == 0) { /* every column node at ground: the sum of its cells */
            double s = 0;
            for (int i = 0; i < R; i++) s += g[i * C + j] * x[NA(i, j)];
            icol[j] = s;
        } else if (p->r_tia == 0) /* the current into the grounded first node */
            icol[j] = g[j] * x[NA(0, j)] + (R > 1 ? gc * x[NB(1, j)] : 0);
        else icol[j] = 1e6 / p->r_tia * x[NB(0, j)];
    }
    free(x);
    free(A);
#undef AE
#undef NA
#undef NB
}

/* Random conductances: a rows x cols block of formed-like cells in an
 * R x C array (zeros elsewhere), inputs v in [0, 1] or spikes. */
static void random_array(float *g, int R, int C, int rows, int cols, uint64_t seed) {
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            g[(size_t)i * C + j] = i < rows && j < cols ? cell_g(seed, (uint64_t)i * C + j) : 0;
}

static void test_ir_exact(void) {
    /* hand-solved 2x2: G = 1000 uS (1 kohm) everywhere, segments 1 kohm, no terminals, V = (1, 1):
     * a01 = 1/2, b10 = 1/2, a11 = 2/3, b11 = 1/3 -> I = (1000 + 500, 500 + 333.33) uA */
    const float g4[4] = {1000, 1000, 1000, 1000}, v11[2] = {1, 1}, v105[2] = {1, 0.5f};
    double I[2], vr[4], vc[4];
    prime_ir_params p = {.r_row = 1000, .r_col = 1000};
    CHECK(prime_ir_solve(&p, g4, 2, 2, v11, I, vr, vc, NULL) == 0, "2x2 solve: %s", prime_last_error());
    CHECK_NEAR(I[0], 1500, 1e-6, "hand-solved 2x2, column 0 (uA)");
    CHECK_NEAR(I[1], 2500.0 / 3, 1e-6, "hand-solved 2x2, column 1 (uA)");
    CHECK_NEAR(vr[3], 2.0 / 3, 1e-9, "hand-solved 2x2, row node (1,1) (V)");
    CHECK_NEAR(vc[3], 1.0 / 3, 1e-9, "hand-solved 2x2, column node (1,1) (V)");
    /* ideal columns, driver 1 kohm: row 0 at 1 V gives (400, 200) uA, row 1 at 0.5 V half of it */
    p = (prime_ir_params){.r_row = 1000, .r_drv = 1000};
    CHECK(prime_ir_solve(&p, g4, 2, 2, v105, I, NULL, NULL, NULL) == 0, "2x2 ideal columns");
    CHECK_NEAR(I[0], 600, 1e-6, "hand-solved driver + row ladder, column 0");
    CHECK_NEAR(I[1], 300, 1e-6, "hand-solved driver + row ladder, column 1");
    float f[4];
    CHECK(prime_ir_factors(&p, PRIME_IR_LINES, g4, 2, 2, f) == 0 && fabs(f[0] - 0.4) < 1e-6 && fabs(f[1] - 0.2) < 1e-6,
          "lines form is exact with ideal columns: f = (%g, %g), want (0.4, 0.2)", f[0], f[1]);
    /* ideal rows, sense resistance 1 kohm: b0 = 0.6, so 600 uA per column */
    p = (prime_ir_params){.r_col = 1000, .r_tia = 1000};
    CHECK(prime_ir_solve(&p, g4, 2, 2, v11, I, NULL, NULL, NULL) == 0, "2x2 ideal rows");
    CHECK_NEAR(I[0], 600, 1e-6, "hand-solved sense + column ladder, column 0");
    CHECK_NEAR(I[1], 600, 1e-6, "hand-solved sense + column ladder, column 1");
    /* no resistance: the plain read */
    p = (prime_ir_params){0};
    CHECK(prime_ir_solve(&p, g4, 2, 2, v105, I, NULL, NULL, NULL) == 0 && I[0] == 1500 && I[1] == 1500,
          "ideal crossbar reads sum G V exactly");
    /* against the dense nodal reference: random 7 x 6 arrays, several resistance sets, some cells absent */
    const prime_ir_params ps[] = {
        {.r_row = 2.5f, .r_col = 2.5f},
        {.r_row = 1, .r_col = 3, .r_drv = 50, .r_tia = 20},
        {.r_row = 1000, .r_col = 500, .r_drv = 0, .r_tia = 2000},
        {.r_row = 800, .r_col = 0, .r_drv = 300, .r_tia = 0},
        {.r_row = 0, .r_col = 700, .r_drv = 0, .r_tia = 100},
    };
    const int R = 7, C = 6;
    float g[42], vv[7];
    double worst = 0;
    int iters = 0;
    for (int k = 0; k < 5; k++) {
        random_array(g, R, C, R, C, 100 + k);
        g[5] = 0, g[13] = 0, g[41] = 0; /* absent cells, one in the far corner (box trimming) */
        for (int i = 0; i < R; i++) vv[i] = (float)prime_rand_uniform(9, k, i);
        double Ie[6], Id[6];
        prime_ir_solve_info info = {0};
        CHECK(prime_ir_solve(&ps[k], g, R, C, vv, Ie, NULL, NULL, &info) == 0, "solve %d: %s", k, prime_last_error());
        dense_ir(&ps[k], g, R, C, vv, Id);
        double mx = 0, e = 0;
        for (int j = 0; j < C; j++) mx = fmax(mx, fabs(Id[j])), e = fmax(e, fabs(Ie[j] - Id[j]));
        worst = fmax(worst, e / mx);
        iters = info.iterations > iters ? info.iterations : iters;
    }
    CHECKV(worst <= 1e-8, "exact solve against the dense nodal reference, 5 random 7x6 arrays: max relative error %.2g "
           "(bound 1e-8), at most %d iterations", worst, iters);
    /* errors */
    p = (prime_ir_params){.r_row = 0, .r_drv = 10, .r_col = 1};
    CHECK(prime_ir_solve(&p, g4, 2, 2, v11, I, NULL, NULL, NULL) != 0 && strstr(prime_last_error(), "r_row"),
          "zero segments with a terminal refused by the solve: %s", prime_last_error());
    CHECK(prime_ir_factors(&p, PRIME_IR_LINES, g4, 2, 2, f) == 0 && fabs(f[0] - f[1]) < 1e-7,
          "... and one node per line in the fast form (%g, %g)", f[0], f[1]);
    p = (prime_ir_params){.r_row = -1};
    CHECK(prime_ir_check(&p) != 0 && strstr(prime_last_error(), "r_row"), "negative r_row: %s", prime_last_error());
    p = (prime_ir_params){.r_tia = NAN};
    CHECK(prime_ir_check(&p) != 0 && strstr(prime_last_error(), "r_tia"), "NaN r_tia: %s", prime_last_error());
    p = (prime_ir_params){.r_row = 1, .r_col = 1};
    prime_ir_solve_info info = {.max_iter = 1};
    float gbig[64], v8[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    double I8[8];
    random_array(gbig, 8, 8, 8, 8, 3);
    CHECK(prime_ir_solve(&p, gbig, 8, 8, v8, I8, NULL, NULL, &info) != 0 && strstr(prime_last_error(), "convergence"),
          "no convergence reported: %s", prime_last_error());
}

/* Max |approx - exact| and |ideal - exact| over columns, relative to the
 * largest ideal column current, for one array and one input. */
static void ir_errors(const prime_ir_params *p, enum prime_ir_method m, const float *g, const float *f, int R, int C,
                      const float *v, double *err, double *eff) {
    double *Ie = malloc(sizeof(double) * C);
    prime_ir_solve(p, g, R, C, v, Ie, NULL, NULL, NULL);
    (void)m;
    double mx = 0, e = 0, d = 0;
    for (int j = 0; j < C; j++) {
        double id = 0, ap = 0;
        for (int i = 0; i < R; i++) {
            id += (double)v[i] * g[(size_t)i * C + j];
            ap += (double)v[i] * g[(size_t)i * C + j] * f[(size_t)i * C + j];
        }
        mx = fmax(mx, fabs(id)), e = fmax(e, fabs(ap - Ie[j])), d = fmax(d, fabs(id - Ie[j]));
    }
    *err = e / mx, *eff = d / mx;
    free(Ie);
}

static void test_ir_fast(void) {
    /* random arrays: tile size, filled block (rows x cols from the corner);
     * inputs: every row at 1 V, then 10 % of the rows spiking */
    struct { int n, rows, cols; } cs[] = {{128, 128, 128}, {128, 64, 32}, {64, 64, 64}, {256, 40, 256},
                                          {256, 256, 24}, {128, 20, 20}};
    const prime_ir_params p = {.r_row = 1, .r_col = 1, .r_drv = 0, .r_tia = 0};
    for (int c = 0; c < 6; c++) {
        int n = cs[c].n;
        float *g = malloc(sizeof(float) * n * n * 2), *f = g + (size_t)n * n, *v = malloc(sizeof(float) * n);
        random_array(g, n, n, cs[c].rows, cs[c].cols, 500 + c);
        double err[2] = {0, 0}, eff = 0;
        for (int m = 0; m < 2; m++) {
            prime_ir_factors(&p, (enum prime_ir_method)m, g, n, n, f);
            for (int in = 0; in < 2; in++) {
                for (int i = 0; i < n; i++) v[i] = in ? (prime_rand_uniform(31, c, i) < 0.1 ? 1.0f : 0.0f) : 1.0f;
                double e, d;
                ir_errors(&p, (enum prime_ir_method)m, g, f, n, n, v, &e, &d);
                err[m] = fmax(err[m], e), eff = fmax(eff, d);
            }
        }
        /* bounds: lines within 8 % of the effect and 1.5 % of full scale;
         * first order within 15 % of the effect where the effect is under 5 % */
        CHECKV(err[1] <= 0.08 * eff && err[1] <= 0.015,
               "IR lines form, tile %d, block %dx%d, 1 ohm: error %.3f %% of full scale, effect %.2f %% (ratio %.3f, "
               "bound 0.08 and 1.5 %%)", n, cs[c].rows, cs[c].cols, 100 * err[1], 100 * eff, err[1] / eff);
        if (eff < 0.05)
            CHECKV(err[0] <= 0.15 * eff, "IR first-order form, same array: error %.3f %% (ratio %.3f, bound 0.15)",
                   100 * err[0], err[0] / eff);
        free(g), free(v);
    }
    /* pairs wrapper: the same factors as the interleaved physical array */
    float gp[6] = {30, 31, 29, 28, 0.5f, 33}, gn[6] = {0.5f, 25, 30, 31, 27, 0.4f}, fp[6], fn[6], gi[12], fi[12];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) gi[i * 6 + 2 * j] = gp[i * 3 + j], gi[i * 6 + 2 * j + 1] = gn[i * 3 + j];
    prime_ir_params q = {.r_row = 500, .r_col = 300, .r_drv = 100, .r_tia = 50};
    prime_ir_factors(&q, PRIME_IR_LINES, gi, 2, 6, fi);
    CHECK(prime_ir_factors_pairs(&q, PRIME_IR_LINES, gp, gn, 2, 3, 3, fp, fn) == 0, "pairs factors");
    int same = 1;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) same &= fp[i * 3 + j] == fi[i * 6 + 2 * j] && fn[i * 3 + j] == fi[i * 6 + 2 * j + 1];
    CHECK(same, "pairs on physical columns 2j, 2j + 1");
}

/* ============================================================ parameters */

static void test_params(void) {
    prime_devfx_params p = prime_devfx_default();
    CHECK(prime_devfx_check(&p) == 0, "defaults valid: %s", prime_last_error());
    CHECK(prime_fx_noise_off(&p.read) && prime_fx_noise_off(&p.prog) && prime_ir_off(&p.ir) &&
              prime_fx_conv_ideal(&p.adc) && prime_fx_conv_ideal(&p.dac) && p.relax.model == PRIME_RELAX_NONE,
          "defaults turn every effect off");
    struct { const char *field; void (*set)(prime_devfx_params *); } bad[] = {
        {"read_eta", NULL}, {"prog_sigma", NULL}, {"read_model", NULL}, {"adc_offset", NULL}, {"dac_gain", NULL},
        {"adc_inl", NULL}, {"adc_inl_periods", NULL}, {"r_col", NULL}, {"ir_method", NULL}, {"read_scale", NULL},
        {"prog_clip", NULL}, {"relax_model", NULL}, {"read_sigma_fn", NULL},
    };
    for (int k = 0; k < (int)(sizeof bad / sizeof bad[0]); k++) {
        p = prime_devfx_default();
        switch (k) {
        case 0: p.read.eta = 1.5f; break;
        case 1: p.prog.sigma = -1; break;
        case 2: p.read.model = (enum prime_noise_model)7; break;
        case 3: p.adc.offset_sd = NAN; break;
        case 4: p.dac.gain_sd = 0.9f; break;
        case 5: p.adc.inl = (enum prime_inl_shape)5; break;
        case 6: p.adc.inl = PRIME_INL_SINE, p.adc.inl_periods = 0; break;
        case 7: p.ir.r_col = 2e6f; break;
        case 8: p.ir_method = (enum prime_ir_method)3; break;
        case 9: p.read.scale = 1000; break;
        case 10: p.prog.clip = 11; break;
        case 11: p.relax.model = (enum prime_relax_model)4; break;
        case 12: p.read.model = PRIME_NM_MEASURED, p.read.measured.g_ref = 0; break;
        }
        CHECK(prime_devfx_check(&p) != 0 && strstr(prime_last_error(), bad[k].field), "bad %s: \"%s\"", bad[k].field,
              prime_last_error());
    }
}

/* `key=value` settings: each kind of value, and errors that name the key and change nothing. */
static void test_options(void) {
    prime_device d = prime_default_device();
    prime_devfx_params fx = prime_devfx_default();
    const char *good[] = {"read_model=weight", "read_noise=0.1", "t_read=2d", "relax_model=wan2022", "r_row=1.5",
                          "adc_inl=sine", "adc_inl_periods=3", "chip_seed=77", "g_dist=lognormal",
                          "prog_table=0:0.5,20:1,40:2.5", "read_poly=1,0.5", "read_g_ref=40", "adc_bits=8"};
    int ok = 1;
    for (int k = 0; k < (int)(sizeof good / sizeof good[0]); k++)
        if (prime_device_set_option(&d, &fx, good[k]) != 0) {
            ok = 0;
            printf("  %s: %s\n", good[k], prime_last_error());
        }
    CHECK(ok, "every good setting accepted");
    CHECK(fx.read.model == PRIME_NM_WEIGHT && d.read_noise == 0.1f && fx.read.eta == 0.1f, "read_model, read_noise");
    CHECK(fx.relax.t_read == 172800 && fx.relax.model == PRIME_RELAX_WAN2022, "t_read=2d is 172800 s");
    CHECK(fx.ir.r_row == 1.5f && fx.adc.inl == PRIME_INL_SINE && fx.adc.inl_periods == 3 && d.chip_seed == 77 &&
              d.g_dist == PRIME_DIST_LOGNORMAL && d.adc_bits == 8, "numbers and names");
    CHECK(fx.prog.measured.kind == PRIME_SIGMA_TABLE && fx.prog.measured.n == 3 && fx.prog.measured.ts[2] == 2.5f,
          "prog_table parsed");
    CHECK(fx.read.measured.kind == PRIME_SIGMA_POLY && fx.read.measured.n == 2 && fx.read.measured.g_ref == 40,
          "read_poly and read_g_ref parsed");
    struct { const char *kv, *want; } bad[] = {
        {"read_model=paper", "read_model"}, {"read_noise=abc", "read_noise"}, {"read_noise=0.9", "read_noise"},
        {"t_read=3y", "t_read"}, {"t_read=1e9d", "t_read"}, {"bogus=1", "unknown key 'bogus'"},
        {"r_row", "key=value"}, {"adc_bits=3.5", "adc_bits"}, {"chip_seed=-1", "chip_seed"},
        {"prog_table=0:1,10", "prog_table"}, {"prog_table=5:1,1:2", "must increase"}, {"read_poly=1,", "trailing comma"},
        {"r_tia=-5", "r_tia"}, {"adc_gain=0.7", "adc_gain"}, {"read_preset=wan2023", "read_preset"},
    };
    prime_device d1 = d;
    prime_devfx_params f1 = fx;
    for (int k = 0; k < (int)(sizeof bad / sizeof bad[0]); k++) {
        int rc = prime_device_set_option(&d, &fx, bad[k].kv);
        CHECK(rc != 0 && strstr(prime_last_error(), bad[k].want), "'%s' refused: \"%s\"", bad[k].kv, prime_last_error());
    }
    CHECK(!memcmp(&d, &d1, sizeof d) && !memcmp(&fx, &f1, sizeof fx), "refused settings change nothing");
    int keys = prime_device_option_count(), named = 1;
    for (int k = 0; k < keys; k++) named &= prime_device_option_key(k) && prime_device_option_help(k);
    CHECK(keys > 40 && named && !prime_device_option_key(keys), "%d keys, each with a help text", keys);
}

/* A 64-bit fingerprint of many outputs of every effect (float bits): the
 * same on native, native scalar (-DPRIME_NO_SIMD) and wasm builds. */
static uint64_t fp_acc;
static void fp_f(double x) {
    float f = (float)x;
    uint32_t b;
    memcpy(&b, &f, 4);
    fp_acc = prime_mix64(fp_acc ^ b);
}

static void test_fingerprint(void) {
    prime_devfx_params fx = prime_devfx_default();
    fx.read.model = PRIME_NM_MEASURED, fx.read.scale = 1;
    fx.prog.model = PRIME_NM_ADDITIVE, fx.prog.sigma = 0.7f, fx.prog.clip = 2;
    prime_relax_params cmo = {.model = PRIME_RELAX_CMO, .t_read = 3600, .drift_scale = 1};
    prime_relax_params wan = {.model = PRIME_RELAX_WAN2022, .t_read = 4000, .drift_scale = 1};
    prime_conv_params adc = {.offset_sd = 0.6f, .gain_sd = 0.01f, .inl = PRIME_INL_SINE, .inl_lsb = 0.7f, .inl_periods = 3};
    for (int i = 0; i < 2000; i++) {
        float g = cell_g(42, (uint64_t)i), h = cell_g(43, (uint64_t)i), a, b;
        fp_f(prime_fx_noise_coef(&fx.read, g, h, 0.01f));
        fp_f(prime_fx_noise_cell(&fx.read, g, h, 0.01f, 0.3f, -1.1f));
        prime_fx_program_pair(&fx.prog, g, h, 60, 9, 1, (uint64_t)i, &a, &b);
        fp_f(a), fp_f(b);
        fp_f(prime_fx_relax(&cmo, g, 9, 2, (uint64_t)i)), fp_f(prime_fx_relax(&wan, g, 9, 3, (uint64_t)i));
        prime_conv_unit u = prime_fx_conv_draw(&adc, 9, 4, (uint64_t)i);
        fp_f(prime_fx_adc(&adc, u, (float)(prime_rand_uniform(9, 5, i) * 2 - 1), 1, 10, NULL));
        fp_f(prime_fx_dac(&adc, u, (float)prime_rand_uniform(9, 6, i), 1, 8, NULL));
    }
    const int n = 48;
    float g[48 * 48], f[48 * 48], v[48];
    double I[48];
    random_array(g, n, n, 40, 30, 77);
    for (int i = 0; i < n; i++) v[i] = (float)prime_rand_uniform(9, 7, i);
    prime_ir_params p = {.r_row = 1, .r_col = 2, .r_drv = 10, .r_tia = 5};
    for (int m = 0; m < 2; m++) {
        prime_ir_factors(&p, (enum prime_ir_method)m, g, n, n, f);
        for (int k = 0; k < n * n; k++) fp_f(f[k]);
    }
    prime_ir_solve(&p, g, n, n, v, I, NULL, NULL, NULL);
    for (int j = 0; j < n; j++) fp_f(I[j]);
    CHECKV(fp_acc == DEVFX_FINGERPRINT, "fingerprint of every effect %016llx (golden %016llx, the same on every build)",
           (unsigned long long)fp_acc, (unsigned long long)DEVFX_FINGERPRINT);
}

int main(void) {
    test_noise_models();
    test_sigma();
    test_programming();
    test_relaxation();
    test_converters();
    test_ir_exact();
    test_ir_fast();
    test_params();
    test_options();
    test_fingerprint();
    return check_summary();
}
