/* prime_device.c - the memristor device model: forming, faults, programming,
 * DAC, ADC and energy (docs/device.md). Shared by every network on the macro.
 *
 * Every random draw is a pure function of (chip_seed, stream, cell index), the
 * stream keyed by the weight layer and the draw's purpose, so a chip is the
 * same whatever order its layers are formed in.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"

enum { ST_ON = 0, ST_OFF = 2, ST_PROG = 4, ST_FAULT = 6, ST_READ = 8 };

/* Returns the formed on-state conductance of cell `cell` of pair i (uS). */
float prime_dev_form_on(const prime_device *d, int layer, int cell, size_t i) {
    double z = prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_ON + cell, i);
    double g;
    if (d->g_dist == PRIME_DIST_LOGNORMAL) {
        double m = d->g_mean, s = d->g_sd;
        double s2 = prime_log(1.0 + (s * s) / (m * m));
        double mu = prime_log(m) - 0.5 * s2;
        g = prime_exp(mu + sqrt(s2) * z);
    } else {
        g = d->g_mean + d->g_sd * z;
    }
    if (g < 0) g = 0;
    if (g > d->g_max) g = d->g_max;
    return (float)g;
}

/* Returns the conductance a reset (pruned) cell ends at: the off state plus
 * programming noise (Gaussian, clipped at 2 sigma), never below 0 (uS). */
float prime_dev_form_off(const prime_device *d, int layer, int cell, size_t i) {
    double g = d->g_off + d->g_off_sd * prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_OFF + cell, i);
    double z = prime_rand_normal(d->chip_seed, (uint64_t)layer * 16 + ST_PROG + cell, i);
    if (z > 2) z = 2;
    if (z < -2) z = -2;
    g += z * d->prog_noise * d->g_mean;
    return (float)(g < 0 ? 0 : g);
}

/* Returns the fault of a cell: 0 none, 1 stuck at on, 2 stuck at off. */
int prime_dev_fault(const prime_device *d, int layer, int cell, size_t i) {
    if (d->stuck_on <= 0 && d->stuck_off <= 0) return 0;
    double u = prime_rand_uniform(d->chip_seed, (uint64_t)layer * 16 + ST_FAULT + cell, i);
    if (u < d->stuck_on) return 1;
    if (u < (double)d->stuck_on + d->stuck_off) return 2;
    return 0;
}

/* Samples the formed on/off conductances of the n pairs of weight layer
 * `layer` into gp_on/gn_on (unless `measured`: a user's map stays) and
 * gp_off/gn_off. */
void prime_dev_form(const prime_device *d, int layer, size_t n, int measured, float *gp_on, float *gn_on,
                    float *gp_off, float *gn_off) {
    for (size_t i = 0; i < n; i++) {
        if (!measured) {
            gp_on[i] = prime_dev_form_on(d, layer, 0, i);
            gn_on[i] = prime_dev_form_on(d, layer, 1, i);
        }
        gp_off[i] = prime_dev_form_off(d, layer, 0, i);
        gn_off[i] = prime_dev_form_off(d, layer, 1, i);
    }
}

/* Checks d and makes it the current device *cur; returns 1 when a field that
 * shapes the formed chip changed (the caller re-forms), 0 when not, -1 (with
 * the message of prime_device_check) when d is bad and *cur is kept. */
int prime_dev_update(prime_device *cur, const prime_device *d) {
    if (!cur || !d) return prime_error("set_device: NULL argument");
    if (prime_device_check(d) != 0) return -1;
    int reform = prime_dev_forming_changed(cur, d);
    *cur = *d;
    return reform;
}

/* True when the two devices differ in a field that shapes the formed chip. */
int prime_dev_forming_changed(const prime_device *a, const prime_device *b) {
    return a->chip_seed != b->chip_seed || a->g_dist != b->g_dist || a->g_mean != b->g_mean ||
           a->g_sd != b->g_sd || a->g_off != b->g_off || a->g_off_sd != b->g_off_sd ||
           a->g_max != b->g_max || a->prog_noise != b->prog_noise || a->stuck_on != b->stuck_on ||
           a->stuck_off != b->stuck_off;
}


/* Programs n pairs of layer `layer` from their mask: kept pairs at their
 * formed state, pruned pairs reset to off, stuck cells at their fault. Writes
 * the programmed conductances gp/gn, the weights wt = (gp - gn) * scale and
 * g2 = (gp^2 + gn^2) * scale^2 (column noise). Shared by every network. */
void prime_dev_program(const prime_device *d, int layer, size_t n, const uint8_t *mask, const float *gp_on,
                       const float *gn_on, const float *gp_off, const float *gn_off, float sc, float *gp_out,
                       float *gn_out, float *wt, float *g2) {
    for (size_t i = 0; i < n; i++) {
        float gp = mask[i] ? gp_on[i] : gp_off[i];
        float gn = mask[i] ? gn_on[i] : gn_off[i];
        int f = prime_dev_fault(d, layer, 0, i);
        if (f) gp = f == 1 ? d->g_max : d->g_off;
        f = prime_dev_fault(d, layer, 1, i);
        if (f) gn = f == 1 ? d->g_max : d->g_off;
        gp_out[i] = gp, gn_out[i] = gn;
        wt[i] = (gp - gn) * sc;
        g2[i] = (gp * gp + gn * gn) * (sc * sc);
    }
}

/* Returns the ADC full scale of a [rows][cols] matrix at input 1: the largest
 * |column current| any 512-row tile can carry (never 0). */
float prime_dev_colmax(const float *wt, int rows, int cols) {
    double mx = 0;
    for (int r0 = 0; r0 < rows; r0 += PRIME_ARRAY_SIZE) {
        int r1 = r0 + PRIME_ARRAY_SIZE < rows ? r0 + PRIME_ARRAY_SIZE : rows;
        for (int j = 0; j < cols; j++) {
            double s = 0;
            for (int r = r0; r < r1; r++) s += fabsf(wt[(size_t)r * cols + j]);
            if (s > mx) mx = s;
        }
    }
    return (float)(mx > 0 ? mx : 1e-12);
}


/* Quantizes a value to a signed ADC of `bits` over [-fs, fs) (prime_adc). */
float prime_dev_adc(float v, float fs, int bits) { return prime_adc(v, fs, bits); }

/* Quantizes an input to the DAC: 2^bits steps over [-xmax, xmax]. */
float prime_dev_dac(float x, float xmax, int bits) {
    float steps = (float)(1u << bits);
    float q = floorf(x / xmax * steps + 0.5f);
    if (q > steps) q = steps;
    if (q < -steps) q = -steps;
    return q / steps * xmax;
}


/* Energy of the counted work, pJ: cells read, ADC conversions at `adc_bits`
 * (0: counted as 16), DAC drives, digital neuron updates and digital MACs. */
double prime_dev_energy(const prime_device *d, const prime_counters *k, double digital_macs, int adc_bits) {
    double e_adc = d->e_adc_fom_fj * 1e-3 * ldexp(1.0, adc_bits ? adc_bits : 16);
    return k->cell_reads * d->e_cell_pj + k->adc_conversions * e_adc + k->dac_drives * d->e_dac_pj +
           k->neuron_updates * d->e_neuron_pj + digital_macs * d->e_mac_pj;
}

/* Energy of the digital baseline, pJ: the same network dense, `macs` MACs and
 * `neurons` neuron updates a step, for T steps. */
double prime_dev_baseline(const prime_device *d, double macs, double neurons, int T) {
    return (macs * d->e_mac_pj + neurons * d->e_neuron_pj) * T;
}
