/* device_fx.h - device effects of the crossbar read: noise models, programming
 * error, relaxation, IR drop, ADC/DAC non-idealities (docs/device.md).
 *
 * A self-contained library: plain functions of the parameters, the formed
 * conductances and the counter RNG of pmath.h (every draw a pure function of
 * (seed, stream, index): the same bits on native, scalar and wasm builds).
 * Nothing here reads a context; the crossbar read calls these at three hook
 * points (docs/device.md, "How the crossbar read calls these"):
 *
 *   per cell, at programming    prime_fx_program_pair, prime_fx_relax,
 *                               prime_ir_factors (effective conductances),
 *                               prime_fx_noise_coef (the column-noise weight)
 *   per column, per read        prime_fx_noise_gain * sqrt(sum x^2 coef) * N
 *                               (or prime_fx_noise_cell per cell: reference)
 *   per conversion              prime_fx_adc / prime_fx_dac
 *
 *     prime_devfx_params fx = prime_devfx_default();   // every effect off
 *     fx.read.model = PRIME_NM_WEIGHT, fx.read.eta = 0.1f; // the PRIME paper's
 *     if (prime_devfx_check(&fx) != 0) ...prime_last_error()...
 *
 * Units: conductances uS, resistances ohm, voltages V, currents uA, times s.
 * Functions returning int give 0 or -1 with prime_last_error() naming the field.
 */
#ifndef PRIME_DEVICE_FX_H
#define PRIME_DEVICE_FX_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------ sigma(G) functions */

/* How a measured spread sigma(G) is given. */
enum prime_sigma_kind {
    PRIME_SIGMA_POLY = 0,  /* sigma = sum_k c[k] (G / g_ref)^k, uS */
    PRIME_SIGMA_TABLE = 1, /* piecewise linear through (tg[k], ts[k]) */
};
/* Presets (prime_fx_sigma_preset). */
enum prime_sigma_preset {
    PRIME_PRESET_WAN2022 = 0,    /* programming error, cubic in G (Wan et al. 2022, CrossSim's fit) */
    PRIME_PRESET_WAN2022_1S = 1, /* deviation 1 s after programming (quartic in G/40 uS, aihwkit's fit) */
    PRIME_PRESET_WAN2022_1D = 2, /* ... after 1 day */
    PRIME_PRESET_WAN2022_2D = 3, /* ... after 2 days */
};
#define PRIME_SIGMA_MAXN 16

typedef struct {
    enum prime_sigma_kind kind;
    int n;                    /* coefficients (poly) or points (table), 1..16 */
    float c[PRIME_SIGMA_MAXN]; /* poly: c_0 first, uS */
    float g_ref;              /* poly: G is divided by this, uS (> 0) */
    float g_lo, g_hi;         /* poly: G is clamped into [g_lo, g_hi] first (the fit's range) */
    float tg[PRIME_SIGMA_MAXN], ts[PRIME_SIGMA_MAXN]; /* table: G increasing, sigma >= 0, uS */
} prime_sigma_fn;

/* Fills *f with a preset; 0 or -1 (unknown preset). */
int prime_fx_sigma_preset(enum prime_sigma_preset p, prime_sigma_fn *f);
/* Returns sigma(G) in uS, never negative (a fit below 0 reads as 0). */
double prime_fx_sigma(const prime_sigma_fn *f, double g);
/* Checks a sigma(G) function; `what` names it in the message. 0 or -1. */
int prime_fx_sigma_check(const prime_sigma_fn *f, const char *what);

/* ------------------------------------------------------ noise models */

enum prime_noise_model {
    PRIME_NM_CONDUCTANCE = 0, /* every cell G (1 + eta N) (the default of prime_device) */
    PRIME_NM_WEIGHT = 1,      /* every pair's weight w (1 + eta N) (the PRIME paper) */
    PRIME_NM_ADDITIVE = 2,    /* every cell G + sigma N, sigma in uS */
    PRIME_NM_MEASURED = 3,    /* every cell G + sigma(G) N */
};

/* One noise source (read-to-read or programming). Off when eta, sigma and
 * the measured function are zero / unused. */
typedef struct {
    enum prime_noise_model model;
    float eta;              /* conductance, weight: relative sd, 0..1 */
    float sigma;            /* additive: sd in uS, 0..1000 */
    float scale;            /* measured: multiplies sigma(G) (1 = the fit), 0..100 */
    prime_sigma_fn measured;
    float clip;             /* programming only: draws clipped at +-clip sd (0 = none), 0..10 */
} prime_noise_params;

/* 1 when the source adds no noise at all. */
int prime_fx_noise_off(const prime_noise_params *p);
/* Checks ranges; `what` ("read", "prog") prefixes the field names. 0 or -1. */
int prime_fx_noise_check(const prime_noise_params *p, const char *what);

/* The exact per-column summed form. A column read sums x_i * (noisy pair
 * weight); each model's noise is a zero-mean Gaussian per cell, so the noise
 * of the sum is one Gaussian of variance gain^2 * sum_i x_i^2 coef_i, where
 * coef_i = prime_fx_noise_coef(pair i) is fixed at programming:
 *   conductance  coef = (G+^2 + G-^2) s^2,          gain = eta
 *   weight       coef = ((G+ - G-) s)^2,            gain = eta
 *   additive     coef = 2 s^2,                      gain = sigma
 *   measured     coef = (sig(G+)^2 + sig(G-)^2) s^2, gain = scale
 * (s = the layer's weight scale). The conductance coef is, bit for bit,
 * prime_device's g2 = (gp * gp + gn * gn) * (s * s). */
float prime_fx_noise_coef(const prime_noise_params *p, float gp, float gn, float s);
/* The gain of the summed form (see prime_fx_noise_coef). */
float prime_fx_noise_gain(const prime_noise_params *p);
/* One column's noise: gain * sqrt(var) * z, var = sum x^2 coef, z ~ N(0, 1). */
float prime_fx_noise_column(float gain, float var, float z);
/* The per-cell reference: pair i's weight in one noisy read, from two
 * standard normals z1 (G+ cell, or the pair for the weight model) and z2. */
float prime_fx_noise_cell(const prime_noise_params *p, float gp, float gn, float s, float z1, float z2);

/* Programming error on one pair: writes the programmed *gp_out, *gn_out
 * (clamped to [0, g_max]) from targets gp, gn. Draws are pure functions of
 * (seed, stream, 2 index) and (seed, stream, 2 index + 1), clipped at
 * +-clip sd when clip > 0; the weight model moves both cells by half of
 * (G+ - G-) eta z in opposite directions. */
void prime_fx_program_pair(const prime_noise_params *p, float gp, float gn, float g_max, uint64_t seed,
                           uint64_t stream, uint64_t index, float *gp_out, float *gn_out);

/* ------------------------------------------------------ relaxation */

enum prime_relax_model {
    PRIME_RELAX_NONE = 0,
    PRIME_RELAX_CMO = 1,     /* CMO/HfOx filamentary RRAM: log-time drift and spread, 1/f read term */
    PRIME_RELAX_WAN2022 = 2, /* Wan et al. 2022 deviation at 1 s, 1 day, 2 days (log-time interpolation) */
};

typedef struct {
    enum prime_relax_model model;
    double t_read;      /* time since forming/programming, s: 0 = as formed; CMO >= 1, Wan 1..172800 */
    float drift_scale;  /* multiplies the mean shift and the spread (1 = the fit), 0..100 */
} prime_relax_params;

/* Checks ranges; 0 or -1. */
int prime_fx_relax_check(const prime_relax_params *p);
/* Returns the conductance at t_read of a cell formed at g0 (>= 0): a pure
 * function of (g0, seed, stream, index), so a later t_read needs no
 * re-forming. Each cell keeps its own normal draws at every t_read (its
 * deviation grows in one direction; the spread at each t is the fit's). */
float prime_fx_relax(const prime_relax_params *p, float g0, uint64_t seed, uint64_t stream, uint64_t index);
/* The fit's mean of G(t_read) given g0 (before the clamp at 0), uS. */
double prime_fx_relax_mean(const prime_relax_params *p, double g0);
/* The fit's standard deviation of G(t_read) given g0 (before the clamp), uS. */
double prime_fx_relax_sd(const prime_relax_params *p, double g0);

/* ------------------------------------------------------ ADC and DAC */

enum prime_inl_shape {
    PRIME_INL_NONE = 0,
    PRIME_INL_BOW = 1,  /* inl(x) = A (1 - x^2): 0 at both ends, A LSB at mid-scale */
    PRIME_INL_SINE = 2, /* inl(x) = A sin(pi k x): k periods over the full range */
};

/* Non-idealities of one kind of converter (all ADCs, or all DACs). */
typedef struct {
    float offset_sd;    /* sd of each converter's offset, LSB, drawn per chip (0..1000) */
    float gain_sd;      /* sd of each converter's relative gain error (0..0.5) */
    enum prime_inl_shape inl;
    float inl_lsb;      /* INL amplitude A, LSB (0..1000) */
    int inl_periods;    /* sine: k (1..64) */
} prime_conv_params;

/* One converter as drawn for a chip. */
typedef struct {
    float offset_lsb;   /* offset, LSB */
    float gain;         /* 1 + gain error */
} prime_conv_unit;

/* Checks ranges; `what` ("adc", "dac") prefixes the fields. 0 or -1. */
int prime_fx_conv_check(const prime_conv_params *p, const char *what);
/* 1 when p adds nothing (every conversion is the ideal one). */
int prime_fx_conv_ideal(const prime_conv_params *p);
/* Converter `index` of a chip: offset = offset_sd N, gain = 1 + gain_sd N,
 * the normals drawn at (seed, stream, 2 index) and (seed, stream, 2 index + 1). */
prime_conv_unit prime_fx_conv_draw(const prime_conv_params *p, uint64_t seed, uint64_t stream, uint64_t index);
/* INL in LSB at x in [-1, 1] (the input as a fraction of full scale). */
double prime_fx_inl(const prime_conv_params *p, double x);
/* Signed ADC of `bits` (>= 2) over [-fs, fs): u = (v gain) / lsb + offset,
 * code = floor(u + inl(u / 2^(bits-1)) + 0.5) clamped to [-2^(bits-1), 2^(bits-1) - 1];
 * returns code * lsb and adds 1 to *clipped (may be NULL) when it clamped.
 * With p ideal and unit {0, 1}: the same bits as prime_dev_adc. */
float prime_fx_adc(const prime_conv_params *p, prime_conv_unit u, float v, float fs, int bits, double *clipped);
/* Input DAC of `bits`: 2^bits steps over [-xmax, xmax]; code q clamped to
 * +-2^bits (adds 1 to *clipped when it clamped); returns
 * ((q + inl(q / 2^bits)) gain + offset) * xmax / 2^bits.
 * With p ideal and unit {0, 1}: the same bits as prime_dev_dac. */
float prime_fx_dac(const prime_conv_params *p, prime_conv_unit u, float x, float xmax, int bits, double *clipped);

/* ------------------------------------------------------ IR drop (irdrop.c)
 *
 * A crossbar of R rows and C physical columns. Row i is driven at column 0's
 * end: source V_i -- r_drv -- node (i,0) -- r_row -- node (i,1) -- ... ;
 * column j is read at row 0's end: TIA (virtual ground) -- r_tia --
 * node' (0,j) -- r_col -- node' (1,j) -- ... ; cell (i,j) joins node (i,j)
 * to node' (i,j) with conductance G_ij. Every row is driven (0 V where the
 * input is 0). A matrix smaller than the array sits in the corner nearest the
 * drivers and the TIAs (rows and columns from 0). G = 0 is an absent cell. */
typedef struct {
    float r_row;  /* ohm per cell segment along a row (0..1e6) */
    float r_col;  /* ohm per cell segment along a column (0..1e6) */
    float r_drv;  /* row driver output resistance, ohm (0..1e9) */
    float r_tia;  /* column sense-amplifier input resistance, ohm (0..1e9) */
} prime_ir_params;

/* Checks ranges; 0 or -1. A line with zero segment resistance but a
 * terminal resistance (r_row = 0 < r_drv) is one node: accepted by the fast
 * forms, refused by prime_ir_solve. */
int prime_ir_check(const prime_ir_params *p);
/* 1 when p has no resistance at all (the ideal crossbar). */
int prime_ir_off(const prime_ir_params *p);

typedef struct {
    double tol;       /* stop at ||residual|| <= tol ||rhs|| (0 = 1e-11) */
    int max_iter;     /* 0 = 20000 */
    int iterations;   /* out: conjugate-gradient iterations used */
    double residual;  /* out: the final relative residual */
} prime_ir_solve_info;

/* The exact nodal solve: preconditioned conjugate gradients on the nodal
 * equations (the preconditioner solves every row and column line exactly),
 * over the bounding box of the non-zero cells. g [rows][cols] (ld = cols), v
 * [rows]; writes the column currents i_col [cols] (uA) and, when not NULL,
 * the row and column node voltages [rows][cols] (V). info may be NULL.
 * 0, or -1 (bad argument, out of memory, no convergence). */
int prime_ir_solve(const prime_ir_params *p, const float *g, int rows, int cols, const float *v, double *i_col,
                   double *v_row, double *v_col, prime_ir_solve_info *info);

enum prime_ir_method {
    PRIME_IR_FIRST_ORDER = 0, /* f = 1 - (row drop + column drop), both to first order in r G */
    PRIME_IR_LINES = 1,       /* f = alpha gamma: every row line and every column line solved exactly
                                 with the crossing lines ideal, then once more with the cells
                                 loaded by G gamma (rows) and G alpha (columns) */
};
/* The fast form: effective-conductance factors f [rows][cols] such that
 * i_col[j] ~= sum_i v_i f_ij G_ij for every input v, computed once per
 * programmed array (O(rows cols)); a read then costs a plain read. 0 or -1. */
int prime_ir_factors(const prime_ir_params *p, enum prime_ir_method m, const float *g, int rows, int cols,
                     float *f);
/* The same for a layer stored as differential pairs, gp/gn [rows][outs]
 * (row stride ld), on physical columns 2j (G+) and 2j + 1 (G-): writes fp,
 * fn [rows][outs] (stride ld). 0 or -1. */
int prime_ir_factors_pairs(const prime_ir_params *p, enum prime_ir_method m, const float *gp, const float *gn,
                           int rows, int outs, int ld, float *fp, float *fn);

/* ------------------------------------------------------ all of them */

typedef struct {
    prime_noise_params read;  /* read-to-read noise, drawn per read */
    prime_noise_params prog;  /* programming error, drawn once per programming */
    prime_relax_params relax;
    prime_ir_params ir;
    enum prime_ir_method ir_method;
    prime_conv_params adc, dac;
    int ir_tile;      /* rows = physical columns of the arrays the wire model sees (16..512; 0 = 512) */
    int prog_all;     /* programming error on every cell (1) or only on the cells that switch (0, reset) */
} prime_devfx_params;

/* Every effect off (noise models at conductance with eta 0, no relaxation,
 * no wire resistance, ideal converters). */
prime_devfx_params prime_devfx_default(void);
/* Checks every field; 0 or -1 with a message naming the field. */
int prime_devfx_check(const prime_devfx_params *p);

#endif
