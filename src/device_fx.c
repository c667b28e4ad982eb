/* device_fx.c - noise models, programming error, relaxation and converter
 * non-idealities of the crossbar read (device_fx.h, docs/device.md). The
 * IR-drop solves live in irdrop.c. Every random draw comes from pmath.h's
 * counter generator and every transcendental from pmath.h or the series
 * below, so each build computes the same bits. */
#include "device_fx.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pmath.h"
#include "prime.h"

/* Fails with "device: <what>_<field> = v out of range [lo, hi]" unless lo <= v <= hi (NaN fails). */
#define RANGE(what, name, v, lo, hi)                                                                   \
    do {                                                                                               \
        double v_ = (double)(v);                                                                       \
        if (!(v_ >= (lo) && v_ <= (hi)))                                                               \
            return prime_error("device: %s%s%s = %g out of range [%g, %g]", (what), *(what) ? "_" : "", \
                               (name), v_, (double)(lo), (double)(hi));                                \
    } while (0)

/* ============================================================ sigma(G) */

/* The fits of Wan et al., "A compute-in-memory chip based on resistive
 * random-access memory", Nature 608, 504 (2022): the cubic of its Extended
 * Data Fig. 3 (1 s, as fitted in CrossSim, valid to 39.26 uS) and quartics in
 * G / 40 uS at 1 s, 1 day and 2 days (as fitted in IBM's aihwkit). */
static const float wan_cubic[4] = {1.053f, 0.2374f, -1.167e-2f, 1.536e-4f};
static const float wan_quartic[3][5] = {
    {0.348f, 16.030f, -43.853f, 45.393f, -16.815f}, /* 1 s */
    {0.701f, 22.086f, -50.773f, 47.095f, -16.458f}, /* 1 day */
    {0.782f, 20.274f, -43.507f, 37.062f, -11.934f}, /* 2 days */
};

/* Fills *f with a preset; 0 or -1. */
int prime_fx_sigma_preset(enum prime_sigma_preset p, prime_sigma_fn *f) {
    if (!f) return prime_error("prime_fx_sigma_preset: NULL argument");
    memset(f, 0, sizeof *f);
    f->kind = PRIME_SIGMA_POLY;
    if (p == PRIME_PRESET_WAN2022) {
        f->n = 4, f->g_ref = 1, f->g_lo = 0, f->g_hi = 39.26f;
        memcpy(f->c, wan_cubic, sizeof wan_cubic);
        return 0;
    }
    if (p >= PRIME_PRESET_WAN2022_1S && p <= PRIME_PRESET_WAN2022_2D) {
        f->n = 5, f->g_ref = 40, f->g_lo = 0, f->g_hi = 40;
        memcpy(f->c, wan_quartic[p - PRIME_PRESET_WAN2022_1S], sizeof wan_quartic[0]);
        return 0;
    }
    return prime_error("sigma preset %d unknown (0 wan2022, 1 wan2022_1s, 2 wan2022_1d, 3 wan2022_2d)", (int)p);
}

/* Returns sigma(G) >= 0 in uS (Horner for the polynomial, linear
 * interpolation for the table, constant beyond its ends). */
double prime_fx_sigma(const prime_sigma_fn *f, double g) {
    double s = 0;
    if (f->kind == PRIME_SIGMA_TABLE) {
        int n = f->n;
        if (g <= f->tg[0]) s = f->ts[0];
        else if (g >= f->tg[n - 1]) s = f->ts[n - 1];
        else {
            int k = 1;
            while (g > f->tg[k]) k++;
            double t = (g - f->tg[k - 1]) / ((double)f->tg[k] - f->tg[k - 1]);
            s = f->ts[k - 1] + t * ((double)f->ts[k] - f->ts[k - 1]);
        }
    } else {
        if (g < f->g_lo) g = f->g_lo;
        if (g > f->g_hi) g = f->g_hi;
        double x = g / f->g_ref;
        for (int k = f->n - 1; k >= 0; k--) s = s * x + f->c[k];
    }
    return s > 0 ? s : 0;
}

/* Checks a sigma(G) function; 0 or -1 naming `what`. */
int prime_fx_sigma_check(const prime_sigma_fn *f, const char *what) {
    if (f->kind != PRIME_SIGMA_POLY && f->kind != PRIME_SIGMA_TABLE)
        return prime_error("device: %s_kind = %d (0 polynomial, 1 table)", what, (int)f->kind);
    if (f->n < 1 || f->n > PRIME_SIGMA_MAXN)
        return prime_error("device: %s: %d %s, want 1..%d", what, f->n,
                           f->kind == PRIME_SIGMA_POLY ? "coefficients" : "table points", PRIME_SIGMA_MAXN);
    if (f->kind == PRIME_SIGMA_POLY) {
        for (int k = 0; k < f->n; k++)
            if (!isfinite(f->c[k])) return prime_error("device: %s coefficient c%d is not finite", what, k);
        RANGE(what, "g_ref", f->g_ref, 1e-6, 1e6);
        RANGE(what, "g_lo", f->g_lo, 0, 1e6);
        RANGE(what, "g_hi", f->g_hi, f->g_lo, 1e6);
        return 0;
    }
    for (int k = 0; k < f->n; k++) {
        if (!(f->tg[k] >= 0 && f->tg[k] <= 1e6))
            return prime_error("device: %s table: G[%d] = %g out of range [0, 1e6] uS", what, k, (double)f->tg[k]);
        if (!(f->ts[k] >= 0 && f->ts[k] <= 1e6))
            return prime_error("device: %s table: sigma[%d] = %g out of range [0, 1e6] uS", what, k, (double)f->ts[k]);
        if (k && !(f->tg[k] > f->tg[k - 1]))
            return prime_error("device: %s table: G must increase (G[%d] = %g after %g)", what, k, (double)f->tg[k],
                               (double)f->tg[k - 1]);
    }
    return 0;
}

/* ============================================================ noise models */

/* 1 when the source adds no noise. */
int prime_fx_noise_off(const prime_noise_params *p) {
    switch (p->model) {
    case PRIME_NM_CONDUCTANCE:
    case PRIME_NM_WEIGHT: return p->eta == 0;
    case PRIME_NM_ADDITIVE: return p->sigma == 0;
    case PRIME_NM_MEASURED: return p->scale == 0;
    }
    return 1;
}

/* Checks one noise source; 0 or -1 naming the field. */
int prime_fx_noise_check(const prime_noise_params *p, const char *what) {
    if (p->model < PRIME_NM_CONDUCTANCE || p->model > PRIME_NM_MEASURED)
        return prime_error("device: %s_model = %d (0 conductance, 1 weight, 2 additive, 3 measured)", what,
                           (int)p->model);
    RANGE(what, "eta", p->eta, 0, 1);
    RANGE(what, "sigma", p->sigma, 0, 1000);
    RANGE(what, "scale", p->scale, 0, 100);
    RANGE(what, "clip", p->clip, 0, 10);
    { /* checked whatever the model: a bad table is refused when given */
        char w[32];
        snprintf(w, sizeof w, "%s_sigma_fn", what);
        return prime_fx_sigma_check(&p->measured, w);
    }
    return 0;
}

/* The weight of pair (gp, gn) in a column's noise variance (device_fx.h). */
float prime_fx_noise_coef(const prime_noise_params *p, float gp, float gn, float s) {
    switch (p->model) {
    case PRIME_NM_CONDUCTANCE: return (gp * gp + gn * gn) * (s * s);
    case PRIME_NM_WEIGHT: {
        float w = (gp - gn) * s;
        return w * w;
    }
    case PRIME_NM_ADDITIVE: return 2 * (s * s);
    case PRIME_NM_MEASURED: {
        double a = prime_fx_sigma(&p->measured, gp), b = prime_fx_sigma(&p->measured, gn);
        return (float)((a * a + b * b) * ((double)s * s));
    }
    }
    return 0;
}

/* The gain of the summed form. */
float prime_fx_noise_gain(const prime_noise_params *p) {
    switch (p->model) {
    case PRIME_NM_CONDUCTANCE:
    case PRIME_NM_WEIGHT: return p->eta;
    case PRIME_NM_ADDITIVE: return p->sigma;
    case PRIME_NM_MEASURED: return p->scale;
    }
    return 0;
}

/* One column's noise (the operations of the crossbar's column noise today). */
float prime_fx_noise_column(float gain, float var, float z) { return (gain * sqrtf(var)) * z; }

/* The per-cell reference read of one pair. */
float prime_fx_noise_cell(const prime_noise_params *p, float gp, float gn, float s, float z1, float z2) {
    switch (p->model) {
    case PRIME_NM_CONDUCTANCE: return (gp * (1.0f + p->eta * z1) - gn * (1.0f + p->eta * z2)) * s;
    case PRIME_NM_WEIGHT: return ((gp - gn) * s) * (1.0f + p->eta * z1);
    case PRIME_NM_ADDITIVE: return ((gp + p->sigma * z1) - (gn + p->sigma * z2)) * s;
    case PRIME_NM_MEASURED: {
        double a = p->scale * prime_fx_sigma(&p->measured, gp), b = p->scale * prime_fx_sigma(&p->measured, gn);
        return (float)(((gp + a * z1) - (gn + b * z2)) * s);
    }
    }
    return (gp - gn) * s;
}

/* Clamps z to +-clip when clip > 0. */
static double clipz(double z, float clip) {
    if (clip > 0) {
        if (z > clip) z = clip;
        if (z < -clip) z = -clip;
    }
    return z;
}

/* Clamps a conductance to [0, g_max]. */
static float clampg(double g, float g_max) { return (float)(g < 0 ? 0 : g > g_max ? g_max : g); }

/* Programming error on one pair (device_fx.h). */
void prime_fx_program_pair(const prime_noise_params *p, float gp, float gn, float g_max, uint64_t seed,
                           uint64_t stream, uint64_t index, float *gp_out, float *gn_out) {
    if (prime_fx_noise_off(p)) {
        *gp_out = clampg(gp, g_max), *gn_out = clampg(gn, g_max);
        return;
    }
    double z1 = clipz(prime_rand_normal(seed, stream, 2 * index), p->clip);
    double z2 = clipz(prime_rand_normal(seed, stream, 2 * index + 1), p->clip);
    double a = gp, b = gn;
    switch (p->model) {
    case PRIME_NM_CONDUCTANCE: a = gp * (1 + p->eta * z1), b = gn * (1 + p->eta * z2); break;
    case PRIME_NM_WEIGHT: {
        double d = ((double)gp - gn) * p->eta * z1;
        a = gp + d / 2, b = gn - d / 2;
        break;
    }
    case PRIME_NM_ADDITIVE: a = gp + p->sigma * z1, b = gn + p->sigma * z2; break;
    case PRIME_NM_MEASURED:
        a = gp + p->scale * prime_fx_sigma(&p->measured, gp) * z1;
        b = gn + p->scale * prime_fx_sigma(&p->measured, gn) * z2;
        break;
    }
    *gp_out = clampg(a, g_max), *gn_out = clampg(b, g_max);
}

/* ============================================================ relaxation */

/* CMO/HfOx filamentary RRAM relaxation (Falcone et al., as fitted in IBM's
 * aihwkit, ReRamCMONoiseModel): mean shift -0.0890 ln t uS, spread
 * 0.0420 ln t + 0.4118 uS, and a 1/f read term 0.0277 log10(G)
 * sqrt(ln((t + t_r) / (2 t_r))) uS with t_r = 1 us (Lombardo et al. 2024). */
#define CMO_MEAN (-0.0890)
#define CMO_SD_A 0.0420
#define CMO_SD_B 0.4118
#define CMO_1F_K 0.0277
#define CMO_1F_TR 1e-6
#define WAN_T1 86400.0
#define WAN_T2 172800.0

/* Checks the relaxation parameters; 0 or -1. */
int prime_fx_relax_check(const prime_relax_params *p) {
    if (p->model < PRIME_RELAX_NONE || p->model > PRIME_RELAX_WAN2022)
        return prime_error("device: relax_model = %d (0 none, 1 cmo, 2 wan2022)", (int)p->model);
    RANGE("", "drift_scale", p->drift_scale, 0, 100);
    if (!(p->t_read >= 0 && p->t_read <= 1e10)) RANGE("", "t_read", p->t_read, 0, 1e10);
    if (p->t_read == 0) return 0;
    if (p->model == PRIME_RELAX_CMO && p->t_read < 1)
        return prime_error("device: t_read = %g s: the CMO/HfOx fit holds from 1 s (0 = as formed)", p->t_read);
    if (p->model == PRIME_RELAX_WAN2022 && !(p->t_read >= 1 && p->t_read <= WAN_T2))
        return prime_error("device: t_read = %g s: the Wan et al. 2022 fits span 1 s to 2 days (172800 s; 0 = as formed)",
                           p->t_read);
    return 0;
}

/* Wan et al.'s deviation sigma at t (1 s .. 2 days): the fits at 1 s, 1 day
 * and 2 days, linearly interpolated in ln t between them (our choice). */
static double wan_sigma_t(double t, double g0) {
    static const double tk[3] = {1, WAN_T1, WAN_T2};
    prime_sigma_fn f[3];
    for (int k = 0; k < 3; k++) prime_fx_sigma_preset((enum prime_sigma_preset)(PRIME_PRESET_WAN2022_1S + k), &f[k]);
    int k = t <= WAN_T1 ? 0 : 1;
    double a = prime_fx_sigma(&f[k], g0), b = prime_fx_sigma(&f[k + 1], g0);
    double u = (prime_log(t) - prime_log(tk[k])) / (prime_log(tk[k + 1]) - prime_log(tk[k]));
    if (t <= 1) u = 0;
    return a + u * (b - a);
}

/* Returns the CMO 1/f read term's sd at t for a mean conductance g (uS). */
static double cmo_1f_sd(double t, double g) {
    if (!(g > 0)) return 0;
    double l10 = prime_log(g) / 2.30258509299404568402;
    return CMO_1F_K * fabs(l10) * sqrt(prime_log((t + CMO_1F_TR) / (2 * CMO_1F_TR)));
}

/* The fit's mean of G(t_read) given g0. */
double prime_fx_relax_mean(const prime_relax_params *p, double g0) {
    if (p->t_read == 0 || p->model == PRIME_RELAX_NONE) return g0;
    if (p->model == PRIME_RELAX_CMO) return g0 + p->drift_scale * CMO_MEAN * prime_log(p->t_read);
    return g0;
}

/* The relaxation spread alone (the first normal's sd). */
static double relax_spread(const prime_relax_params *p, double g0) {
    if (p->model == PRIME_RELAX_CMO) return p->drift_scale * (CMO_SD_A * prime_log(p->t_read) + CMO_SD_B);
    return p->drift_scale * wan_sigma_t(p->t_read, g0);
}

/* The fit's sd of G(t_read) given g0. */
double prime_fx_relax_sd(const prime_relax_params *p, double g0) {
    if (p->t_read == 0 || p->model == PRIME_RELAX_NONE) return 0;
    double a = relax_spread(p, g0);
    if (p->model != PRIME_RELAX_CMO) return a;
    double b = cmo_1f_sd(p->t_read, prime_fx_relax_mean(p, g0));
    return sqrt(a * a + b * b);
}

/* The conductance of a cell formed at g0 when read at t_read (device_fx.h):
 * mean + spread z1 (+ the CMO 1/f term z2), clamped at 0. */
float prime_fx_relax(const prime_relax_params *p, float g0, uint64_t seed, uint64_t stream, uint64_t index) {
    if (p->t_read == 0 || p->model == PRIME_RELAX_NONE) return g0;
    double m = prime_fx_relax_mean(p, g0);
    double g = m + relax_spread(p, g0) * prime_rand_normal(seed, stream, 2 * index);
    if (p->model == PRIME_RELAX_CMO) g += cmo_1f_sd(p->t_read, m) * prime_rand_normal(seed, stream, 2 * index + 1);
    return (float)(g > 0 ? g : 0);
}

/* ============================================================ converters */

/* Checks one converter kind; 0 or -1 naming the field. */
int prime_fx_conv_check(const prime_conv_params *p, const char *what) {
    RANGE(what, "offset", p->offset_sd, 0, 1000);
    RANGE(what, "gain", p->gain_sd, 0, 0.5);
    if (p->inl < PRIME_INL_NONE || p->inl > PRIME_INL_SINE)
        return prime_error("device: %s_inl = %d (0 none, 1 bow, 2 sine)", what, (int)p->inl);
    RANGE(what, "inl_lsb", p->inl_lsb, 0, 1000);
    if (p->inl == PRIME_INL_SINE) RANGE(what, "inl_periods", p->inl_periods, 1, 64);
    return 0;
}

/* 1 when every conversion is the ideal one. */
int prime_fx_conv_ideal(const prime_conv_params *p) {
    return p->offset_sd == 0 && p->gain_sd == 0 && (p->inl == PRIME_INL_NONE || p->inl_lsb == 0);
}

/* Converter `index` of a chip. */
prime_conv_unit prime_fx_conv_draw(const prime_conv_params *p, uint64_t seed, uint64_t stream, uint64_t index) {
    prime_conv_unit u = {0.0f, 1.0f};
    if (p->offset_sd > 0) u.offset_lsb = (float)(p->offset_sd * prime_rand_normal(seed, stream, 2 * index));
    if (p->gain_sd > 0) u.gain = (float)(1.0 + p->gain_sd * prime_rand_normal(seed, stream, 2 * index + 1));
    return u;
}

/* sin(2 pi y) from IEEE basic operations only (the same bits in every build):
 * reduced to [-pi/2, pi/2], Taylor series to the 19th power (error < 1e-13). */
static double sin2pi(double y) {
    const double pi = 3.14159265358979323846;
    double th = 2 * pi * (y - floor(y + 0.5)); /* [-pi, pi) */
    if (th > pi / 2) th = pi - th;
    if (th < -pi / 2) th = -pi - th;
    double t2 = th * th, s = 1, term = 1;
    for (int k = 1; k <= 9; k++) {
        term *= -t2 / ((2.0 * k) * (2.0 * k + 1));
        s += term;
    }
    return th * s;
}

/* INL in LSB at x (fraction of full scale, clamped to [-1, 1]). */
double prime_fx_inl(const prime_conv_params *p, double x) {
    if (x < -1) x = -1;
    if (x > 1) x = 1;
    if (p->inl == PRIME_INL_BOW) return p->inl_lsb * (1 - x * x);
    if (p->inl == PRIME_INL_SINE) return p->inl_lsb * sin2pi(0.5 * p->inl_periods * x);
    return 0;
}

/* Signed ADC with offset, gain and INL (device_fx.h). */
float prime_fx_adc(const prime_conv_params *p, prime_conv_unit u, float v, float fs, int bits, double *clipped) {
    float half = (float)(1 << (bits - 1));
    float lsb = fs / half;
    float q;
    if (u.offset_lsb == 0 && u.gain == 1 && (p->inl == PRIME_INL_NONE || p->inl_lsb == 0)) {
        q = floorf(v / lsb + 0.5f); /* prime_dev_adc's operations */
    } else {
        double x = (double)v * u.gain / lsb + u.offset_lsb;
        q = (float)floor(x + prime_fx_inl(p, x / half) + 0.5);
    }
    int clip = 0;
    if (q > half - 1) q = half - 1, clip = 1;
    if (q < -half) q = -half, clip = 1;
    if (clip && clipped) *clipped += 1;
    return q * lsb;
}

/* Input DAC with offset, gain and INL (device_fx.h). */
float prime_fx_dac(const prime_conv_params *p, prime_conv_unit u, float x, float xmax, int bits, double *clipped) {
    float steps = (float)(1u << bits);
    float q = floorf(x / xmax * steps + 0.5f);
    int clip = 0;
    if (q > steps) q = steps, clip = 1;
    if (q < -steps) q = -steps, clip = 1;
    if (clip && clipped) *clipped += 1;
    if (u.offset_lsb == 0 && u.gain == 1 && (p->inl == PRIME_INL_NONE || p->inl_lsb == 0))
        return q / steps * xmax; /* prime_dev_dac's operations */
    double a = (q + prime_fx_inl(p, q / steps)) * u.gain + u.offset_lsb;
    return (float)(a * ((double)xmax / steps));
}

/* ============================================================ all of them */

/* Every effect off. */
prime_devfx_params prime_devfx_default(void) {
    prime_devfx_params p;
    memset(&p, 0, sizeof p);
    p.read.model = p.prog.model = PRIME_NM_CONDUCTANCE;
    p.read.scale = p.prog.scale = 0;
    prime_fx_sigma_preset(PRIME_PRESET_WAN2022, &p.read.measured);
    prime_fx_sigma_preset(PRIME_PRESET_WAN2022, &p.prog.measured);
    p.relax = (prime_relax_params){.model = PRIME_RELAX_NONE, .t_read = 0, .drift_scale = 1};
    p.ir_method = PRIME_IR_LINES;
    p.adc.inl_periods = p.dac.inl_periods = 1;
    p.ir_tile = 512;
    return p;
}

/* Checks every field; 0 or -1. */
int prime_devfx_check(const prime_devfx_params *p) {
    if (!p) return prime_error("prime_devfx_check: NULL argument");
    if (prime_fx_noise_check(&p->read, "read") || prime_fx_noise_check(&p->prog, "prog")) return -1;
    if (prime_fx_relax_check(&p->relax) || prime_ir_check(&p->ir)) return -1;
    if (p->ir_method != PRIME_IR_FIRST_ORDER && p->ir_method != PRIME_IR_LINES)
        return prime_error("device: ir_method = %d (0 first_order, 1 lines)", (int)p->ir_method);
    if (prime_fx_conv_check(&p->adc, "adc") || prime_fx_conv_check(&p->dac, "dac")) return -1;
    if (p->ir_tile != 0 && !(p->ir_tile >= 16 && p->ir_tile <= 512))
        return prime_error("device: ir_tile = %d out of range [16, 512] (0 = 512)", p->ir_tile);
    if (p->prog_all != 0 && p->prog_all != 1) return prime_error("device: prog_cells = %d (0 reset, 1 all)", p->prog_all);
    return 0;
}
