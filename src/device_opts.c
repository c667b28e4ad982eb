/* device_opts.c - `key=value` settings of the device (the CLI's repeatable
 * `--device key=value`, and any front end that speaks text): every field of
 * prime_device and of prime_devfx_params by name, checked on the spot.
 * docs/device.md lists the keys with their units and defaults. */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fx.h"
#include "prime.h"
#include "device_opts.h"

enum kind { K_F32, K_F64, K_INT, K_U64, K_ENUM, K_TIME, K_PRESET, K_POLY, K_TABLE, K_SET };

typedef struct {
    const char *key;
    enum kind kind;
    int fx;             /* 0: prime_device field, 1: prime_devfx_params field */
    size_t off;         /* byte offset in its struct */
    const char *names;  /* K_ENUM / K_PRESET: "a|b|c" (index = value) */
    const char *help;   /* unit and meaning */
} opt;

#define D(f) 0, offsetof(prime_device, f)
#define X(f) 1, offsetof(prime_devfx_params, f)

static const opt OPTS[] = {
    {"chip_seed", K_U64, D(chip_seed), NULL, "seed of the electroforming draw"},
    {"g_dist", K_ENUM, D(g_dist), "normal|lognormal", "distribution of a formed cell"},
    {"g_mean", K_F32, D(g_mean), NULL, "uS"}, {"g_sd", K_F32, D(g_sd), NULL, "uS"},
    {"g_off", K_F32, D(g_off), NULL, "uS"}, {"g_off_sd", K_F32, D(g_off_sd), NULL, "uS"},
    {"g_max", K_F32, D(g_max), NULL, "uS"}, {"prog_noise", K_F32, D(prog_noise), NULL, "relative to g_mean"},
    {"stuck_on", K_F32, D(stuck_on), NULL, "fraction"}, {"stuck_off", K_F32, D(stuck_off), NULL, "fraction"},
    {"read_noise", K_F32, D(read_noise), NULL, "eta of the conductance and weight read-noise models"},
    {"noise_mode", K_ENUM, D(noise_mode), "column|cell", "summed (exact, fast) or per-cell (reference) noise"},
    {"adc_bits", K_INT, D(adc_bits), NULL, "bits, 0 = ideal"}, {"adc_fs", K_F32, D(adc_fs), NULL, "relative"},
    {"dac_bits", K_INT, D(dac_bits), NULL, "bits, 0 = ideal"}, {"v_read", K_F32, D(v_read), NULL, "V"},
    {"e_cell_pj", K_F32, D(e_cell_pj), NULL, "pJ"}, {"e_adc_fom_fj", K_F32, D(e_adc_fom_fj), NULL, "fJ/step"},
    {"e_dac_pj", K_F32, D(e_dac_pj), NULL, "pJ"}, {"e_neuron_pj", K_F32, D(e_neuron_pj), NULL, "pJ"},
    {"e_mac_pj", K_F32, D(e_mac_pj), NULL, "pJ"},
    {"read_model", K_ENUM, X(read.model), "conductance|weight|additive|measured", "read-noise model"},
    {"read_sigma", K_F32, X(read.sigma), NULL, "uS (additive)"},
    {"read_scale", K_F32, X(read.scale), NULL, "times sigma(G) (measured)"},
    {"read_preset", K_PRESET, X(read.measured), "wan2022|wan2022_1s|wan2022_1d|wan2022_2d", "sigma(G) fit"},
    {"read_poly", K_POLY, X(read.measured), NULL, "c0,c1,...,ck uS in powers of G/read_g_ref"},
    {"read_g_ref", K_F32, X(read.measured.g_ref), NULL, "uS"},
    {"read_table", K_TABLE, X(read.measured), NULL, "G:sigma,G:sigma,... uS"},
    {"prog_model", K_ENUM, X(prog.model), "conductance|weight|additive|measured", "programming-error model"},
    {"prog_eta", K_F32, X(prog.eta), NULL, "relative (conductance, weight)"},
    {"prog_sigma", K_F32, X(prog.sigma), NULL, "uS (additive)"},
    {"prog_scale", K_F32, X(prog.scale), NULL, "times sigma(G) (measured)"},
    {"prog_clip", K_F32, X(prog.clip), NULL, "sd, 0 = none"},
    {"prog_preset", K_PRESET, X(prog.measured), "wan2022|wan2022_1s|wan2022_1d|wan2022_2d", "sigma(G) fit"},
    {"prog_poly", K_POLY, X(prog.measured), NULL, "c0,c1,...,ck uS in powers of G/prog_g_ref"},
    {"prog_g_ref", K_F32, X(prog.measured.g_ref), NULL, "uS"},
    {"prog_table", K_TABLE, X(prog.measured), NULL, "G:sigma,G:sigma,... uS"},
    {"relax_model", K_ENUM, X(relax.model), "none|cmo|wan2022", "relaxation model"},
    {"t_read", K_TIME, X(relax.t_read), NULL, "s since programming (suffix s, h or d)"},
    {"drift_scale", K_F32, X(relax.drift_scale), NULL, "times the fit"},
    {"r_row", K_F32, X(ir.r_row), NULL, "ohm per row segment"}, {"r_col", K_F32, X(ir.r_col), NULL, "ohm per column segment"},
    {"r_drv", K_F32, X(ir.r_drv), NULL, "ohm, row driver"}, {"r_tia", K_F32, X(ir.r_tia), NULL, "ohm, column sense"},
    {"ir_method", K_ENUM, X(ir_method), "first_order|lines", "fast IR-drop form"},
    {"ir_tile", K_INT, X(ir_tile), NULL, "rows = physical columns of an array in the wire model (16..512)"},
    {"prog_cells", K_ENUM, X(prog_all), "reset|all", "cells the programming error hits: reset (pruned) or all"},
    {"adc_offset", K_F32, X(adc.offset_sd), NULL, "LSB sd per converter"},
    {"adc_gain", K_F32, X(adc.gain_sd), NULL, "relative sd per converter"},
    {"adc_inl", K_ENUM, X(adc.inl), "none|bow|sine", "INL shape"},
    {"adc_inl_lsb", K_F32, X(adc.inl_lsb), NULL, "LSB"}, {"adc_inl_periods", K_INT, X(adc.inl_periods), NULL, "sine periods"},
    {"dac_offset", K_F32, X(dac.offset_sd), NULL, "LSB sd per converter"},
    {"dac_gain", K_F32, X(dac.gain_sd), NULL, "relative sd per converter"},
    {"dac_inl", K_ENUM, X(dac.inl), "none|bow|sine", "INL shape"},
    {"dac_inl_lsb", K_F32, X(dac.inl_lsb), NULL, "LSB"}, {"dac_inl_periods", K_INT, X(dac.inl_periods), NULL, "sine periods"},
    {"preset", K_SET, 0, 0, "paper|off", "paper: the PRIME paper's assumptions (weight noise model, 14-bit ADC, "
                                          "16-bit DAC, no other effect); off: every effect of device_fx.h off"},
};
#define NOPTS (int)(sizeof OPTS / sizeof OPTS[0])

/* Parses a whole string as a finite number; 0 or -1. */
static int number(const char *s, double *x) {
    char *e;
    if (!*s) return -1;
    *x = strtod(s, &e);
    return *e || !isfinite(*x) ? -1 : 0;
}

/* Index of `v` in "a|b|c", or -1. */
static int enum_index(const char *names, const char *v) {
    size_t n = strlen(v);
    for (int k = 0; *names; k++) {
        const char *bar = strchr(names, '|');
        size_t len = bar ? (size_t)(bar - names) : strlen(names);
        if (len == n && !strncmp(names, v, n)) return k;
        if (!bar) break;
        names = bar + 1;
    }
    return -1;
}

/* Parses "a,b,c" (K_POLY) or "g:s,g:s" (K_TABLE) into f; 0 or -1. */
static int parse_list(const char *key, const char *v, int table, prime_sigma_fn *f) {
    prime_sigma_fn t = *f;
    t.kind = table ? PRIME_SIGMA_TABLE : PRIME_SIGMA_POLY, t.n = 0;
    if (!table && t.g_ref == 0) t.g_ref = 1;
    if (!table) t.g_lo = 0, t.g_hi = 1e6f;
    char buf[64];
    const char *p = v;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (t.n == PRIME_SIGMA_MAXN) return prime_error("device: %s: more than %d entries", key, PRIME_SIGMA_MAXN);
        if (len >= sizeof buf) return prime_error("device: %s: entry too long", key);
        memcpy(buf, p, len), buf[len] = 0;
        double a, b = 0;
        char *colon = strchr(buf, ':');
        if (table) {
            if (!colon) return prime_error("device: %s: entry '%s' is not G:sigma", key, buf);
            *colon = 0;
            if (number(buf, &a) || number(colon + 1, &b))
                return prime_error("device: %s: entry '%s:%s' is not two numbers", key, buf, colon + 1);
            t.tg[t.n] = (float)a, t.ts[t.n] = (float)b;
        } else {
            if (number(buf, &a)) return prime_error("device: %s: '%s' is not a number", key, buf);
            t.c[t.n] = (float)a;
        }
        t.n++;
        p += len + (c ? 1 : 0);
        if (c && !*p) return prime_error("device: %s: trailing comma", key);
    }
    if (!t.n) return prime_error("device: %s: empty list", key);
    *f = t;
    return 0;
}

/* The presets of the `preset` key: 0 paper, 1 off. Forming fields (the chip)
 * and read_noise (eta) are left as they are. */
static void apply_preset(prime_device *d, prime_devfx_params *fx, int k) {
    const float eta = d->read_noise;
    *fx = prime_devfx_default();
    fx->read.eta = eta;
    if (k == 0) { /* the PRIME paper (arXiv 2407.18625) and its macro: w' = w (1 + eta N), 16-bit DACs, 14-bit ADCs */
        fx->read.model = PRIME_NM_WEIGHT;
        d->adc_bits = 14, d->dac_bits = 16, d->adc_fs = 1.0f, d->noise_mode = PRIME_NOISE_COLUMN;
    }
}

/* Checks a device with its effects, and how they combine; 0 or -1. */
int prime_device_fx_check(const prime_device *d, const prime_devfx_params *fx) {
    if (!d || !fx) return prime_error("prime_device_fx_check: NULL argument");
    if (prime_device_check(d) != 0 || prime_devfx_check(fx) != 0) return -1;
    if (!prime_fx_conv_ideal(&fx->adc) && d->adc_bits < 2)
        return prime_error("device: adc_offset / adc_gain / adc_inl need an ADC (adc_bits >= 2; it is %d)", d->adc_bits);
    if (!prime_fx_conv_ideal(&fx->dac) && d->dac_bits < 1)
        return prime_error("device: dac_offset / dac_gain / dac_inl need a DAC (dac_bits >= 1; it is %d)", d->dac_bits);
    return 0;
}

/* Sets one field from "key=value" (device_opts.h). */
int prime_device_set_option(prime_device *d, prime_devfx_params *fx, const char *kv) {
    if (!d || !fx || !kv) return prime_error("prime_device_set_option: NULL argument");
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv) return prime_error("device: '%s' is not key=value", kv);
    char key[32];
    size_t kl = (size_t)(eq - kv);
    if (kl >= sizeof key) return prime_error("device: unknown key '%.*s'", (int)kl, kv);
    memcpy(key, kv, kl), key[kl] = 0;
    const char *v = eq + 1;
    const opt *o = NULL;
    for (int k = 0; k < NOPTS; k++)
        if (!strcmp(OPTS[k].key, key)) o = &OPTS[k];
    if (!o) return prime_error("device: unknown key '%s' (docs/device.md lists the keys)", key);
    prime_device d0 = *d;
    prime_devfx_params f0 = *fx;
    char *base = o->fx ? (char *)fx : (char *)d;
    void *field = base + o->off;
    double x;
    switch (o->kind) {
    case K_F32:
    case K_F64:
    case K_INT:
    case K_TIME: {
        double mul = 1;
        char num[64];
        snprintf(num, sizeof num, "%s", v);
        size_t n = strlen(num);
        if (o->kind == K_TIME && n > 1 && isalpha((unsigned char)num[n - 1])) {
            char u = num[n - 1];
            mul = u == 's' ? 1 : u == 'h' ? 3600 : u == 'd' ? 86400 : 0;
            if (mul == 0) return prime_error("device: %s = '%s': unit must be s, h or d", key, v);
            num[n - 1] = 0;
        }
        if (number(num, &x)) return prime_error("device: %s = '%s' is not a number (%s)", key, v, o->help);
        x *= mul;
        if (o->kind == K_INT) {
            if (x != floor(x) || fabs(x) > 1e9) return prime_error("device: %s = '%s' is not an integer", key, v);
            *(int *)field = (int)x;
        } else if (o->kind == K_F32) *(float *)field = (float)x;
        else *(double *)field = x;
        break;
    }
    case K_U64: {
        char *e;
        if (!*v || *v == '-') return prime_error("device: %s = '%s' is not an unsigned integer", key, v);
        unsigned long long u = strtoull(v, &e, 10);
        if (*e) return prime_error("device: %s = '%s' is not an unsigned integer", key, v);
        *(uint64_t *)field = u;
        break;
    }
    case K_ENUM: {
        int k = enum_index(o->names, v);
        if (k < 0 && number(v, &x) == 0) { /* or its index (JS passes numbers) */
            int cnt = 1;
            for (const char *q = o->names; (q = strchr(q, '|')); q++) cnt++;
            if (x == floor(x) && x >= 0 && x < cnt) k = (int)x;
        }
        if (k < 0) return prime_error("device: %s = '%s' (one of %s)", key, v, o->names);
        *(int *)field = k; /* every enum here is int-sized */
        break;
    }
    case K_PRESET: {
        int k = enum_index(o->names, v);
        if (k < 0) return prime_error("device: %s = '%s' (one of %s)", key, v, o->names);
        prime_fx_sigma_preset((enum prime_sigma_preset)k, (prime_sigma_fn *)field);
        break;
    }
    case K_POLY:
    case K_TABLE:
        if (parse_list(key, v, o->kind == K_TABLE, (prime_sigma_fn *)field) != 0) return -1;
        break;
    case K_SET: {
        int k = enum_index(o->names, v);
        if (k < 0) return prime_error("device: %s = '%s' (one of %s)", key, v, o->names);
        apply_preset(d, fx, k);
        break;
    }
    }
    fx->read.eta = d->read_noise; /* one eta, two structs (the engine reads read_noise) */
    /* the new value must pass the checks; on failure nothing changes */
    if (prime_device_fx_check(d, fx) != 0) {
        *d = d0, *fx = f0;
        return -1;
    }
    return 0;
}

/* Number of keys, and key k's name and help (NULL beyond the end). */
int prime_device_option_count(void) { return NOPTS; }
const char *prime_device_option_key(int k) { return k >= 0 && k < NOPTS ? OPTS[k].key : NULL; }
const char *prime_device_option_help(int k) { return k >= 0 && k < NOPTS ? OPTS[k].help : NULL; }

/* Appends printf output to buf (size n) at *at, never past the end. */
static void app(char *buf, size_t n, size_t *at, const char *fmt, double a, double b, int two) {
    if (*at >= n) return;
    int w = two ? snprintf(buf + *at, n - *at, fmt, a, b) : snprintf(buf + *at, n - *at, fmt, a);
    if (w > 0) *at += (size_t)w;
}

/* Writes the value of `key` as prime_device_set_option reads it; 0 or -1. */
int prime_device_get_option(const prime_device *d, const prime_devfx_params *fx, const char *key, char *buf, size_t n) {
    if (!d || !fx || !key || !buf || n < 2) return prime_error("prime_device_get_option: bad argument");
    const opt *o = NULL;
    for (int k = 0; k < NOPTS; k++)
        if (!strcmp(OPTS[k].key, key)) o = &OPTS[k];
    if (!o) return prime_error("device: unknown key '%s' (docs/device.md lists the keys)", key);
    const char *base = o->fx ? (const char *)fx : (const char *)d;
    const void *field = base + o->off;
    size_t at = 0;
    buf[0] = 0;
    switch (o->kind) {
    case K_F32: app(buf, n, &at, "%.9g", *(const float *)field, 0, 0); break;
    case K_F64:
    case K_TIME: app(buf, n, &at, "%.17g", *(const double *)field, 0, 0); break;
    case K_INT: app(buf, n, &at, "%.0f", *(const int *)field, 0, 0); break;
    case K_U64: snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)field); break;
    case K_ENUM: {
        int k = *(const int *)field, i = 0;
        const char *p = o->names;
        while (i < k && (p = strchr(p, '|'))) p++, i++;
        size_t len = p ? strcspn(p, "|") : 0;
        snprintf(buf, n, "%.*s", (int)len, p ? p : "");
        break;
    }
    case K_PRESET: { /* the preset it equals, else "custom" */
        const prime_sigma_fn *f = field;
        snprintf(buf, n, "custom");
        for (int k = 0; k <= PRIME_PRESET_WAN2022_2D; k++) {
            prime_sigma_fn q;
            prime_fx_sigma_preset((enum prime_sigma_preset)k, &q);
            if (f->kind == q.kind && f->n == q.n && f->g_ref == q.g_ref && f->g_lo == q.g_lo && f->g_hi == q.g_hi &&
                !memcmp(f->c, q.c, sizeof q.c)) {
                const char *p = o->names;
                for (int i = 0; i < k; i++) p = strchr(p, '|') + 1;
                snprintf(buf, n, "%.*s", (int)strcspn(p, "|"), p);
                break;
            }
        }
        break;
    }
    case K_POLY:
    case K_TABLE: { /* the list when the function is of this kind, else empty */
        const prime_sigma_fn *f = field;
        if ((o->kind == K_TABLE) != (f->kind == PRIME_SIGMA_TABLE)) break;
        for (int k = 0; k < f->n; k++) {
            if (k) app(buf, n, &at, ",", 0, 0, 0);
            if (o->kind == K_TABLE) app(buf, n, &at, "%.9g:%.9g", f->tg[k], f->ts[k], 1);
            else app(buf, n, &at, "%.9g", f->c[k], 0, 0);
        }
        break;
    }
    case K_SET: snprintf(buf, n, "%s", ""); break; /* an action, not a field */
    }
    if (strlen(buf) + 1 >= n) return prime_error("device: value of %s does not fit %zu bytes", key, n);
    return 0;
}

/* Applies "k=v" settings one after another to copies; *d, *fx change only when all pass. */
int prime_device_set_options(prime_device *d, prime_devfx_params *fx, const char *const *kv, int n) {
    if (!d || !fx || (n > 0 && !kv) || n < 0) return prime_error("prime_device_set_options: bad argument");
    prime_device d1 = *d;
    prime_devfx_params f1 = *fx;
    for (int k = 0; k < n; k++)
        if (prime_device_set_option(&d1, &f1, kv[k]) != 0) return -1;
    *d = d1, *fx = f1;
    return 0;
}

/* Writes the effects of fx that differ from prime_devfx_default() as
 * "key=value\n" lines (the model file's device section, docs/model-format.md);
 * a sigma(G) function as its preset's name when it is one, else its list.
 * Returns the length (0: every effect off), or -1 when buf (n bytes) is too small. */
int prime_devfx_to_text(const prime_device *d, const prime_devfx_params *fx, char *buf, size_t n) {
    prime_device d0 = *d;
    prime_devfx_params f0 = prime_devfx_default();
    f0.read.eta = fx->read.eta;
    size_t at = 0;
    char v[1024], v0[1024], pre[1024];
    if (n) buf[0] = 0;
    for (int k = 0; k < NOPTS; k++) {
        const opt *o = &OPTS[k];
        if (!o->fx || o->kind == K_SET) continue;
        if (prime_device_get_option(d, fx, o->key, v, sizeof v) != 0 ||
            prime_device_get_option(&d0, &f0, o->key, v0, sizeof v0) != 0)
            return -1;
        if (o->kind == K_POLY || o->kind == K_TABLE || !strcmp(o->key, "read_g_ref") || !strcmp(o->key, "prog_g_ref")) {
            /* only for a function that is no preset */
            char pk[32];
            snprintf(pk, sizeof pk, "%.4s_preset", o->key);
            if (prime_device_get_option(d, fx, pk, pre, sizeof pre) != 0) return -1;
            if (strcmp(pre, "custom") || !*v) continue;
        } else if (o->kind == K_PRESET && !strcmp(v, "custom")) continue;
        if (!strcmp(v, v0) && o->kind != K_POLY && o->kind != K_TABLE) continue;
        int w = snprintf(buf + at, at < n ? n - at : 0, "%s=%s\n", o->key, v);
        if (w < 0 || at + (size_t)w >= n) return -1;
        at += (size_t)w;
    }
    return (int)at;
}
