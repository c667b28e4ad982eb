/* test_devwire.c - the device effects of device_fx.h through the engine
 * (src/device_wire.c, the crossbar read of prime_crossbar.c): each read-noise
 * model's summed per-column form against its per-cell reference; ADC offset,
 * gain and INL against codes computed by hand; the clipped-conversion counter;
 * relaxation and programming error on the programmed chip against the fitted
 * formulas; the IR-drop fast form of a read against the exact nodal solve;
 * effects off restoring the bits; the model file's device-effects section.
 * (The library functions alone: test_devfx.c.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_opts.h"
#include "pmath.h"
#include "prime.h"

#include "check.h"

/* A network of one FC layer (rows inputs as rows x 1 x 1, or c x 50 x 50 beyond 4096 -> outs) + LIF, then FC outs -> 2 output. */
static prime_arch fc_arch(int rows, int outs, float scale) {
    prime_arch a = {.T = 4, .in_c = rows, .in_h = 1, .in_w = 1, .n_classes = 2, .n_layers = 2};
    if (rows > 4096) a.in_c = rows / 2500, a.in_h = a.in_w = 50; /* rows = c x 50 x 50 */
    a.layers[0] = (prime_layer){.op = PRIME_OP_FC, .out_c = outs, .neuron = PRIME_NEURON_LIF, .th = 0.5f, .decay = 0.5f,
                                .leak = 0.125f, .scale = scale};
    a.layers[1] = (prime_layer){.op = PRIME_OP_FC, .out_c = 2, .neuron = PRIME_NEURON_OUTPUT, .leak = 0.125f, .scale = 1.0f};
    return a;
}

static prime_device ideal_device(void) {
    prime_device d = prime_default_device();
    d.adc_bits = 0, d.dac_bits = 0, d.read_noise = 0, d.prog_noise = 0;
    return d;
}

/* Applies settings; fails the test with the message when one is refused. */
static int set(prime_ctx *c, const char *kv) {
    int rc = prime_set_device_options(c, &kv, 1);
    CHECK(rc == 0, "setting %s: %s", kv, rc ? prime_last_error() : "");
    return rc;
}

/* Layer 0's current of one read of input x (one step, fresh noise per inference). */
static float read0(prime_ctx *c, const float *x, int col) {
    prime_begin(c, x, 1);
    prime_step(c);
    size_t n;
    return prime_layer_state(c, 0, PRIME_STATE_CURRENT, &n)[col];
}

/* ============================================================ noise models */

/* Every read-noise model, both forms: mean and sd of one column against the
 * exact formula sd = gain * sqrt(sum x^2 coef) (device_fx.h). */
static void test_noise_models(void) {
    enum { R = 64, N = 6000 };
    prime_arch a = fc_arch(R, 2, 0.01f);
    prime_device d = ideal_device();
    prime_ctx *c = prime_create(&a, &d);
    if (!c) { CHECK(0, "ctx: %s", prime_last_error()); return; }
    float gp[R * 2], gn[R * 2], x[R];
    uint8_t mask[R * 2];
    for (int i = 0; i < R * 2; i++) {
        gp[i] = (float)(2 + 36 * prime_rand_uniform(5, 1, i)), gn[i] = (float)(2 + 36 * prime_rand_uniform(5, 2, i));
        mask[i] = prime_rand_uniform(5, 3, i) > 0.25; /* a quarter reset */
    }
    for (int i = 0; i < R; i++) x[i] = prime_rand_uniform(5, 4, i) < 0.3 ? 0.0f : (float)(0.2 + 0.8 * prime_rand_uniform(5, 5, i));
    prime_set_conductances(c, 0, gp, gn, R * 2);
    prime_set_mask(c, 0, mask, R * 2);
    float *arr = malloc(sizeof(float) * PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
    prime_get_array(c, 0, arr, (size_t)PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE); /* programmed G+, G- of column 0: phys 0, 1 */
    const char *models[][3] = {{"read_model=conductance", "read_noise=0.1", "conductance eta 0.1"},
                               {"read_model=weight", "read_noise=0.1", "weight eta 0.1"},
                               {"read_model=additive", "read_sigma=0.5", "additive 0.5 uS"},
                               {"read_model=measured", "read_scale=1", "measured wan2022"},
                               {"read_preset=wan2022_2d", "read_scale=1.5", "measured wan2022_2d x1.5"}};
    prime_sigma_fn wan, wan2d;
    prime_fx_sigma_preset(PRIME_PRESET_WAN2022, &wan), prime_fx_sigma_preset(PRIME_PRESET_WAN2022_2D, &wan2d);
    for (int m = 0; m < 5; m++) {
        set(c, "preset=off"), set(c, "read_noise=0");
        if (m == 4) set(c, "read_model=measured");
        set(c, models[m][0]), set(c, models[m][1]);
        double mean_x = 0, var = 0, s = 0.01;
        for (int i = 0; i < R; i++) {
            double p = arr[(size_t)i * PRIME_ARRAY_SIZE], q = arr[(size_t)i * PRIME_ARRAY_SIZE + 1], w = (p - q) * s, x2 = (double)x[i] * x[i];
            mean_x += x[i] * w;
            switch (m) {
            case 0: var += x2 * 0.01 * (p * p + q * q) * s * s; break;
            case 1: var += x2 * 0.01 * w * w; break;
            case 2: var += x2 * 0.25 * 2 * s * s; break;
            case 3: var += x2 * (pow(prime_fx_sigma(&wan, p), 2) + pow(prime_fx_sigma(&wan, q), 2)) * s * s; break;
            default: var += x2 * 2.25 * (pow(prime_fx_sigma(&wan2d, p), 2) + pow(prime_fx_sigma(&wan2d, q), 2)) * s * s; break;
            }
        }
        const double sd_want = sqrt(var);
        for (int mode = 0; mode < 2; mode++) {
            set(c, mode ? "noise_mode=cell" : "noise_mode=column");
            prime_run r = prime_default_run();
            prime_set_run(c, &r);
            double s1 = 0, s2 = 0;
            for (int k = 0; k < N; k++) {
                double v = read0(c, x, 0);
                s1 += v, s2 += v * v;
            }
            double mean = s1 / N, sd = sqrt(s2 / N - mean * mean);
            CHECK(fabs(mean - mean_x) < 5 * sd_want / sqrt(N), "%s, %s form: mean %.5f vs %.5f", models[m][2],
                  mode ? "per-cell" : "per-column", mean, mean_x);
            CHECKV(fabs(sd / sd_want - 1) < 5 / sqrt(2.0 * N), "%s, %s form: sd %.5f vs formula %.5f (ratio %.4f, bound 1 +- %.4f)",
                   models[m][2], mode ? "per-cell" : "per-column", sd, sd_want, sd / sd_want, 5 / sqrt(2.0 * N));
        }
    }
    free(arr);
    prime_free(c);
}

/* ============================================================ converters */

/* A 2x2 layer with exact weights (G+ = 10 + w/2, G- = 10 - w/2, scale 1),
 * rows (1, -0.5), (0.25, 0.75); input (0.5, 1): currents 0.75 and 0.5;
 * column sums of |w| 1.25 and 1.25, x_max 1, so fs = adc_fs * 1.25. */
static prime_ctx *adc_ctx(void) {
    prime_arch a = fc_arch(2, 2, 1.0f);
    prime_device d = ideal_device();
    prime_ctx *c = prime_create(&a, &d);
    if (!c) return NULL;
    const float w0[4] = {1.0f, -0.5f, 0.25f, 0.75f}, w1[4] = {0.5f, -1.0f, 2.0f, 0.25f};
    float gp[4], gn[4];
    for (int i = 0; i < 4; i++) gp[i] = 10 + w0[i] / 2, gn[i] = 10 - w0[i] / 2;
    prime_set_conductances(c, 0, gp, gn, 4);
    for (int i = 0; i < 4; i++) gp[i] = 10 + w1[i] / 2, gn[i] = 10 - w1[i] / 2;
    prime_set_conductances(c, 1, gp, gn, 4);
    return c;
}

static void test_adc(void) {
    prime_ctx *c = adc_ctx();
    if (!c) { CHECK(0, "adc ctx: %s", prime_last_error()); return; }
    const float x[2] = {0.5f, 1.0f};
    /* 4 bits over [-1.25, 1.25): lsb 0.15625; u = 4.8, 3.2 */
    set(c, "adc_bits=4");
    CHECK(read0(c, x, 0) == 5 * 0.15625f && read0(c, x, 1) == 3 * 0.15625f, "ideal 4-bit codes 5, 3");
    /* bow INL 0.5 LSB: +0.5 (1 - 0.6^2) = +0.32 -> 5; +0.5 (1 - 0.4^2) = +0.42 -> floor(4.12) = 4 */
    set(c, "adc_inl=bow"), set(c, "adc_inl_lsb=0.5");
    CHECK(read0(c, x, 0) == 5 * 0.15625f && read0(c, x, 1) == 4 * 0.15625f, "bow INL: codes 5, 4 (got %g, %g)",
          read0(c, x, 0) / 0.15625, read0(c, x, 1) / 0.15625);
    /* sine INL 1 LSB, one period: sin(0.6 pi) = sin(0.4 pi) = 0.951 -> floor(6.25) = 6, floor(4.65) = 4 */
    set(c, "adc_inl=sine"), set(c, "adc_inl_lsb=1"), set(c, "adc_inl_periods=1");
    CHECK(read0(c, x, 0) == 6 * 0.15625f && read0(c, x, 1) == 4 * 0.15625f, "sine INL: codes 6, 4 (got %g, %g)",
          read0(c, x, 0) / 0.15625, read0(c, x, 1) / 0.15625);
    /* offset and gain of each converter as drawn for the chip: the code by the formula */
    set(c, "adc_inl=none"), set(c, "adc_offset=2"), set(c, "adc_gain=0.1");
    prime_devfx_params fx;
    prime_get_devfx(c, &fx);
    const prime_device d = prime_get_device(c);
    const double v[2] = {0.75, 0.5};
    int ok = 1;
    for (int j = 0; j < 2; j++) {
        prime_conv_unit u = prime_fx_conv_draw(&fx.adc, d.chip_seed, 14, (uint64_t)j); /* layer 0, stream 14, tile 0 */
        double code = floor(v[j] * u.gain / 0.15625 + u.offset_lsb + 0.5);
        if (code > 7) code = 7;
        if (code < -8) code = -8;
        float got = read0(c, x, j);
        ok &= got == (float)(code * 0.15625);
        if (!ok) printf("  column %d: offset %.3f gain %.4f: code %g, read %g\n", j, u.offset_lsb, u.gain, code, got / 0.15625);
    }
    CHECK(ok, "offset 2 LSB, gain 0.1: codes of the drawn converters");
    /* clipping: adc_fs 0.5 (fs 0.625, lsb 0.078125): u = 9.6 clips, 6.4 does not; layer 0's spike
     * (7 lsb = 0.546875 > 0.5) reads row (0.5, -1) of layer 1 at fs 1.25: no clip. One clipped conversion. */
    set(c, "preset=off"), set(c, "adc_bits=4"), set(c, "adc_fs=0.5");
    prime_result res;
    prime_classify(c, x, 1, &res);
    CHECK(res.counters.adc_clipped == 1, "one clipped conversion counted (%g)", res.counters.adc_clipped);
    size_t n;
    const float *cur = prime_layer_state(c, 0, PRIME_STATE_CURRENT, &n);
    CHECK(cur[0] == 7 * 0.078125f && cur[1] == 6 * 0.078125f, "clipped at code 7, the other at 6");
    set(c, "adc_fs=1");
    prime_classify(c, x, 1, &res);
    CHECK(res.counters.adc_clipped == 0, "adc_fs 1: nothing clips (%g)", res.counters.adc_clipped);
    /* converter errors without a converter are refused, naming the key, nothing changes */
    const char *bad[] = {"adc_bits=0", "adc_offset=1"};
    CHECK(prime_set_device_options(c, bad, 2) != 0 && strstr(prime_last_error(), "adc_bits"), "ADC errors need an ADC: %s",
          prime_last_error());
    CHECK(prime_get_device(c).adc_bits == 4, "refused: nothing changed");
    /* DAC with an offset: the input read as (q + offset) lsb (16 bits over [-1, 1]) */
    set(c, "preset=off"), set(c, "adc_bits=0"), set(c, "dac_bits=4"), set(c, "dac_offset=0.5");
    prime_get_devfx(c, &fx);
    float xq[2];
    for (int i = 0; i < 2; i++) {
        prime_conv_unit u = prime_fx_conv_draw(&fx.dac, prime_get_device(c).chip_seed, 15, (uint64_t)i);
        xq[i] = (float)((floor(x[i] * 16 + 0.5) * u.gain + u.offset_lsb) / 16);
    }
    const float want0 = xq[0] * 1.0f + xq[1] * 0.25f; /* column 0: rows 1, 0.25 */
    CHECK(fabsf(read0(c, x, 0) - want0) < 1e-6f, "DAC offset: column 0 reads %g, want %g", read0(c, x, 0), want0);
    prime_free(c);
}

/* ============================================================ chip state */

/* Conductances of every cell of weight layer l as programmed: G+ and G- per pair. */
static size_t cells(prime_ctx *c, int l, float *gp, float *gn) {
    prime_tiling t;
    prime_get_tiling(c, l, &t);
    float *arr = malloc(sizeof(float) * PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
    for (int k = 0; k < t.arrays; k++) {
        prime_get_array(c, t.first_array + k, arr, (size_t)PRIME_ARRAY_SIZE * PRIME_ARRAY_SIZE);
        int rt = k / t.col_tiles, ct = k % t.col_tiles;
        for (int r = 0; r < PRIME_ARRAY_SIZE && rt * PRIME_ARRAY_SIZE + r < t.rows; r++)
            for (int pc = 0; pc < PRIME_ARRAY_SIZE; pc++) {
                int j = (ct * PRIME_ARRAY_SIZE + pc) / 2;
                if (j >= t.cols) break;
                size_t i = (size_t)(rt * PRIME_ARRAY_SIZE + r) * t.cols + j;
                (pc & 1 ? gn : gp)[i] = arr[(size_t)r * PRIME_ARRAY_SIZE + pc];
            }
    }
    free(arr);
    return (size_t)t.rows * t.cols;
}

/* Relaxation at t_read and programming error on the chip, against the fits. */
static void test_relax_prog(void) {
    enum { R = 10000, P = R * 2 };
    prime_arch a = fc_arch(R, 2, 0.01f);
    prime_device d = ideal_device();
    prime_ctx *c = prime_create(&a, &d);
    if (!c) { CHECK(0, "ctx: %s", prime_last_error()); return; }
    float *g0 = malloc(sizeof(float) * P), *gp = malloc(sizeof(float) * P), *gn = malloc(sizeof(float) * P);
    for (int i = 0; i < P; i++) g0[i] = 30.0f;
    prime_set_conductances(c, 0, g0, g0, P);
    const struct { const char *model, *t; double secs; } pts[] = {
        {"cmo", "1s", 1}, {"cmo", "1h", 3600}, {"cmo", "1d", 86400}, {"cmo", "2d", 172800},
        {"wan2022", "1s", 1}, {"wan2022", "1d", 86400}, {"wan2022", "2d", 172800}};
    for (int k = 0; k < 7; k++) {
        char m[64], t[64];
        snprintf(m, sizeof m, "relax_model=%s", pts[k].model), snprintf(t, sizeof t, "t_read=%s", pts[k].t);
        set(c, "preset=off"), set(c, m), set(c, t);
        size_t n = cells(c, 0, gp, gn);
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) s1 += gp[i] + gn[i], s2 += (double)gp[i] * gp[i] + (double)gn[i] * gn[i];
        const double mean = s1 / (2 * n), sd = sqrt(s2 / (2 * n) - mean * mean);
        prime_devfx_params fx;
        prime_get_devfx(c, &fx);
        const double mw = prime_fx_relax_mean(&fx.relax, 30), sw = prime_fx_relax_sd(&fx.relax, 30);
        CHECKV(fabs(mean - mw) < 5 * sw / sqrt(2.0 * n) && fabs(sd / sw - 1) < 5 / sqrt(4.0 * n),
               "relaxation %s at %s: mean %.4f (fit %.4f), sd %.4f (fit %.4f) uS over %zu cells", pts[k].model, pts[k].t, mean,
               mw, sd, sw, 2 * n);
    }
    /* no re-forming: back at t_read 0 the formed state returns exactly */
    set(c, "t_read=0");
    cells(c, 0, gp, gn);
    int same = 1;
    for (int i = 0; i < P; i++) same &= gp[i] == 30.0f && gn[i] == 30.0f;
    CHECK(same, "t_read = 0: the formed conductances, bit for bit");
    /* programming error on every cell (prog_cells=all): additive 1 uS -> sd 1; clamped at 2 sd: sqrt(E[clamp(z)^2]) = 0.959446 */
    set(c, "preset=off"), set(c, "prog_cells=all"), set(c, "prog_model=additive"), set(c, "prog_sigma=1");
    for (int clip = 0; clip < 2; clip++) {
        if (clip) set(c, "prog_clip=2");
        size_t n = cells(c, 0, gp, gn);
        double s1 = 0, s2 = 0;
        for (size_t i = 0; i < n; i++) s1 += gp[i] + gn[i] - 60, s2 += pow(gp[i] - 30.0, 2) + pow(gn[i] - 30.0, 2);
        const double mean = s1 / (2 * n), sd = sqrt(s2 / (2 * n) - mean * mean), want = clip ? 0.959446 : 1.0;
        CHECKV(fabs(mean) < 5 * want / sqrt(2.0 * n) && fabs(sd / want - 1) < 5 / sqrt(4.0 * n),
               "programming error additive 1 uS%s on kept cells: mean %.4f, sd %.4f (want %.4f)", clip ? ", clip 2 sd" : "",
               mean, sd, want);
    }
    set(c, "prog_cells=reset");
    cells(c, 0, gp, gn);
    same = 1;
    for (int i = 0; i < P; i++) same &= gp[i] == 30.0f && gn[i] == 30.0f;
    CHECK(same, "prog_cells=reset: kept cells are left as formed");
    free(g0), free(gp), free(gn);
    prime_free(c);
}

/* ============================================================ IR drop */

/* One read of a 256 x 64 layer with every row at 1 (ideal ADC, no noise): the
 * fast form against the exact nodal solve of the same array (prime_irdrop_map). */
static void test_irdrop_read(void) {
    enum { R = 256, O = 64 };
    prime_arch a = fc_arch(R, O, 0.01f);
    prime_device d = ideal_device();
    prime_ctx *c = prime_create(&a, &d);
    if (!c) { CHECK(0, "ctx: %s", prime_last_error()); return; }
    uint8_t *mask = malloc(R * O);
    for (int i = 0; i < R * O; i++) mask[i] = prime_rand_u64(9, 1, i) & 1;
    prime_set_mask(c, 0, mask, R * O);
    float x[R], v[R];
    for (int i = 0; i < R; i++) x[i] = 1.0f, v[i] = 1.0f;
    const char *methods[] = {"ir_method=lines", "ir_method=first_order"};
    /* lines: within 8 % of the IR effect and 1.5 % of full scale (the bounds of
     * test_devfx.c on random arrays); first order: only 5 % of full scale (its
     * error grows with the effect, docs/device.md) */
    const double bound_fs[] = {0.015, 0.05}, bound_fx[] = {0.08, 1e9};
    for (int m = 0; m < 2; m++) {
        for (int rs = 0; rs < 2; rs++) {
            set(c, "preset=off"), set(c, methods[m]);
            set(c, rs ? "r_row=1" : "r_row=0.25"), set(c, rs ? "r_col=1" : "r_col=0.25");
            prime_begin(c, x, 1);
            prime_step(c);
            size_t n;
            const float *cur = prime_layer_state(c, 0, PRIME_STATE_CURRENT, &n);
            int rows, cols, it;
            double *vr = malloc(sizeof(double) * 2 * R * 2 * O * 2), *vc = vr + R * 2 * O, ic[2 * O], ii[2 * O];
            int rc = prime_irdrop_map(c, 0, 0, v, &rows, &cols, vr, vc, ic, ii, &it);
            CHECK(rc == 0 && rows == R && cols == 2 * O, "exact solve of the array: %s", rc ? prime_last_error() : "ok");
            double err = 0, effect = 0, fs = 0;
            for (int j = 0; j < O && rc == 0; j++) {
                const double exact = (ic[2 * j] - ic[2 * j + 1]) * 0.01, ideal = (ii[2 * j] - ii[2 * j + 1]) * 0.01;
                err = fmax(err, fabs(cur[j] - exact)), effect = fmax(effect, fabs(ideal - exact));
                fs = fmax(fs, fmax(ii[2 * j], ii[2 * j + 1]) * 0.01);
            }
            CHECKV(err <= bound_fx[m] * effect && err <= bound_fs[m] * fs,
                   "%s, %s ohm: read vs exact max error %.3f %% of the IR effect, %.3f %% of full scale "
                   "(bound %.1f %%); effect %.2f %% of full scale, %d iterations",
                   methods[m] + 10, rs ? "1" : "0.25", 100 * err / effect, 100 * err / fs, 100 * bound_fs[m],
                   100 * effect / fs, it);
            free(vr);
        }
    }
    free(mask);
    prime_free(c);
}

/* ============================================================ off, file */

static void test_off_and_file(void) {
    prime_arch a = prime_arch_nmnist();
    prime_device d = prime_default_device();
    d.read_noise = 0.05f;
    prime_ctx *c = prime_create(&a, &d), *ref = prime_create(&a, &d);
    if (!c || !ref) { CHECK(0, "ctx: %s", prime_last_error()); return; }
    for (int l = 0; l < a.n_layers; l++) {
        size_t nw = prime_layer_weights(&prime_get_arch(c)->layers[l]);
        if (!nw) continue;
        uint8_t *m = malloc(nw);
        for (size_t i = 0; i < nw; i++) m[i] = prime_rand_u64(3, l, i) & 1;
        prime_set_mask(c, l, m, nw), prime_set_mask(ref, l, m, nw);
        free(m);
    }
    float *x = calloc((size_t)10 * 2 * 34 * 34, sizeof(float));
    for (size_t i = 0; i < (size_t)10 * 2 * 34 * 34; i++) x[i] = prime_rand_uniform(4, 0, i) < 0.05 ? 1.0f : 0.0f;
    prime_result r0, r1, r2;
    prime_classify(ref, x, 10, &r0);
    const char *on[] = {"read_model=weight", "relax_model=cmo", "t_read=1h", "r_row=1", "r_col=0.5", "adc_offset=0.5",
                        "prog_model=measured", "prog_scale=0.5", "prog_preset=wan2022_1d", "read_table=0:0.1,30:0.5,60:1"};
    CHECK(prime_set_device_options(c, on, 10) == 0, "effects on: %s", prime_last_error());
    prime_run run = prime_default_run();
    prime_set_run(c, &run);
    prime_classify(c, x, 10, &r1);
    CHECK(memcmp(r0.logits, r1.logits, sizeof r0.logits) != 0, "the effects change the logits");
    /* the model file keeps them: same text, same outputs */
    uint8_t *b;
    size_t n;
    CHECK(prime_save(c, &b, &n) == 0 && memmem(b, n, "DVFX", 4), "saved with a device-effects section (DVFX)");
    prime_ctx *c2 = prime_load(b, n);
    CHECK(c2 != NULL, "load: %s", c2 ? "ok" : prime_last_error());
    if (c2) {
        prime_devfx_params f1, f2;
        prime_get_devfx(c, &f1), prime_get_devfx(c2, &f2);
        char t1[4096], t2[4096];
        prime_device d1 = prime_get_device(c), d2 = prime_get_device(c2);
        prime_devfx_to_text(&d1, &f1, t1, sizeof t1), prime_devfx_to_text(&d2, &f2, t2, sizeof t2);
        CHECK(!strcmp(t1, t2) && strlen(t1) > 50, "device effects survive save/load:\n%.400s", t2);
        prime_set_run(c2, &run);
        prime_classify(c2, x, 10, &r2);
        CHECK(!memcmp(r1.logits, r2.logits, sizeof r1.logits), "same outputs after save/load");
        /* a bad setting in the section is refused with its key */
        uint8_t *bb = malloc(n);
        memcpy(bb, b, n);
        uint8_t *p = memmem(bb, n, "r_row=1", 7);
        if (p) p[6] = '-';
        /* fix the CRC (tests/c/crc_ref.h is the reference; the model's CRC-32 is zlib's) */
        uint32_t crc = 0xffffffffu;
        for (size_t i = 0; i < n - 4; i++) {
            crc ^= bb[i];
            for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
        }
        crc = ~crc;
        for (int k = 0; k < 4; k++) bb[n - 4 + k] = (uint8_t)(crc >> (8 * k));
        prime_ctx *c3 = prime_load(bb, n);
        CHECK(p && !c3 && strstr(prime_last_error(), "r_row"), "bad device-effects line refused: %s", prime_last_error());
        prime_free(c3), free(bb);
        prime_free(c2);
    }
    prime_free_buffer(b);
    /* every effect off again: the bits of a context that never had them */
    const char *off[] = {"preset=off"};
    prime_set_device_options(c, off, 1);
    prime_set_run(c, &run);
    prime_classify(c, x, 10, &r1);
    CHECK(!memcmp(r0.logits, r1.logits, sizeof r0.logits) && r0.counters.cell_reads == r1.counters.cell_reads,
          "effects off: the same logits bit for bit");
    uint8_t *bref;
    size_t nref;
    CHECK(prime_save(c, &b, &n) == 0 && !memmem(b, n, "DVFX", 4) && prime_save(ref, &bref, &nref) == 0 && n == nref &&
              !memcmp(b, bref, n),
          "effects off: no DVFX section, the bytes of a context that never had effects");
    prime_free_buffer(b), prime_free_buffer(bref);
    free(x);
    prime_free(c), prime_free(ref);
}

/* The inpainting network: the same effects through its reads; off again = the same bits. */
static void test_vae(void) {
    FILE *f = fopen("models/inpaint-mnist.pvae", "rb");
    CHECK_DATA(f != NULL, "models/inpaint-mnist.pvae (run from the repository root)");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    size_t got = fread(b, 1, (size_t)n, f);
    fclose(f);
    prime_vae *v = got == (size_t)n ? prime_vae_load(b, got) : NULL;
    free(b);
    if (!v) { CHECK(0, "vae load: %s", prime_last_error()); return; }
    float img[32 * 32], r0[32 * 32], r1[32 * 32];
    for (int p = 0; p < 32 * 32; p++) img[p] = prime_rand_uniform(8, 0, p) < 0.3 ? 1.0f : -1.0f;
    prime_vae_run run = prime_vae_default_run();
    prime_vae_result res;
    prime_vae_set_run(v, &run);
    prime_vae_inpaint(v, img, NULL, &res);
    memcpy(r0, prime_vae_recon(v, res.steps_used - 1), sizeof r0);
    const char *on[] = {"read_model=weight", "read_noise=0.1", "relax_model=wan2022", "t_read=1d", "r_row=1", "r_col=1",
                        "adc_bits=8", "adc_offset=1"};
    CHECK(prime_vae_set_device_options(v, on, 8) == 0, "effects on the inpainting network: %s", prime_last_error());
    prime_vae_set_run(v, &run);
    prime_vae_inpaint(v, img, NULL, &res);
    memcpy(r1, prime_vae_recon(v, res.steps_used - 1), sizeof r1);
    CHECK(memcmp(r0, r1, sizeof r0) != 0, "the effects change the reconstruction");
    /* the model file keeps them (section DVFX of the VAE): same outputs after save/load */
    uint8_t *fb;
    size_t fn;
    CHECK(prime_vae_save(v, &fb, &fn) == 0 && memmem(fb, fn, "DVFX", 4), "VAE saved with a device-effects section");
    prime_vae *v2 = prime_vae_load(fb, fn);
    CHECK(v2 != NULL, "VAE with effects loads: %s", v2 ? "ok" : prime_last_error());
    if (v2) {
        prime_vae_set_run(v2, &run);
        prime_vae_inpaint(v2, img, NULL, &res);
        CHECK(!memcmp(r1, prime_vae_recon(v2, res.steps_used - 1), sizeof r1), "VAE: same reconstruction after save/load");
        uint8_t *fb2;
        size_t fn2;
        CHECK(prime_vae_save(v2, &fb2, &fn2) == 0 && fn2 == fn && !memcmp(fb, fb2, fn), "VAE: save of the loaded = the same bytes");
        prime_free_buffer(fb2);
        prime_vae_free(v2);
    }
    prime_free_buffer(fb);
    prime_device d = prime_vae_get_device(v);
    const char *off[] = {"preset=off", "adc_bits=14", "read_noise=0"};
    CHECK(prime_vae_set_device_options(v, off, 3) == 0 && d.read_noise == 0.1f, "off again");
    prime_vae_set_run(v, &run);
    prime_vae_inpaint(v, img, NULL, &res);
    CHECK(!memcmp(r0, prime_vae_recon(v, res.steps_used - 1), sizeof r0), "effects off: the same reconstruction bit for bit");
    CHECK(prime_vae_save(v, &fb, &fn) == 0 && !memmem(fb, fn, "DVFX", 4), "VAE effects off: no DVFX section");
    prime_free_buffer(fb);
    prime_vae_free(v);
}

int main(void) {
    test_noise_models();
    test_adc();
    test_relax_prog();
    test_irdrop_read();
    test_off_and_file();
    test_vae();
    return check_summary();
}
