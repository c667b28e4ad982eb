/* device_wire.c - the device effects of device_fx.h wired into both networks
 * (docs/device.md, "How the crossbar read calls these").
 *
 * A network keeps prime_devfx_params beside its prime_device. At programming
 * (prime_dev_program_fx) each pair gets the programming error, its faults and
 * the relaxation at t_read from its formed conductances; with IR drop each
 * ir_tile array gets its effective-conductance factors (the fast form of
 * irdrop.c), and the read's weights and column-noise coefficients come from
 * the effective conductances. Converters are drawn once per chip. The read
 * itself (prime_crossbar.c) takes the gain of the read-noise model and, for
 * non-ideal converters, prime_fx_adc per conversion. With every effect off
 * nothing here runs: prime_dev_program and the plain read stay the path, bit
 * for bit.
 *
 * Random streams (layer * 16 + k, after prime_device.c's 0..9): 10 the
 * programming error, 12 / 13 the relaxation of G+ / G-, 14 the ADCs of the
 * layer, 15 the DACs (layer 0 of the network's input).
 */
#include <stdlib.h>
#include <string.h>

#include "device_fx.h"
#include "device_opts.h"
#include "prime.h"
#include "prime_graph_internal.h"
#include "prime_internal.h"
#include "prime_vae_internal.h"

enum { ST_PROG2 = 10, ST_RELAX = 12, ST_ADC = 14, ST_DAC = 15 };

/* The array size of the wire model. */
static int ir_tile(const prime_devfx_params *fx) { return fx->ir_tile ? fx->ir_tile : PRIME_ARRAY_SIZE; }
static int relax_on(const prime_devfx_params *fx) { return fx->relax.model != PRIME_RELAX_NONE && fx->relax.t_read > 0; }

/* 1 when programming with fx differs from prime_dev_program. */
int prime_fx_programs(const prime_devfx_params *fx) {
    return fx->read.model != PRIME_NM_CONDUCTANCE || !prime_fx_noise_off(&fx->prog) || relax_on(fx) ||
           !prime_ir_off(&fx->ir);
}

/* Every effect off, read.eta = d->read_noise. */
prime_devfx_params prime_fx_for(const prime_device *d) {
    prime_devfx_params fx = prime_devfx_default();
    fx.read.eta = d->read_noise;
    return fx;
}

/* Programs n = rows * cols pairs of layer `layer` with the effects (prime_internal.h). */
int prime_dev_program_fx(const prime_device *d, const prime_devfx_params *fx, int layer, int rows, int cols,
                         const uint8_t *mask, const float *gp_on, const float *gn_on, const float *gp_off,
                         const float *gn_off, float sc, float *gp, float *gn, float *gpe, float *gne, float *wt,
                         float *g2) {
    const size_t n = (size_t)rows * cols;
    const int prog = !prime_fx_noise_off(&fx->prog), relax = relax_on(fx);
    const uint64_t st = (uint64_t)layer * 16;
    for (size_t i = 0; i < n; i++) {
        float a = mask[i] ? gp_on[i] : gp_off[i], b = mask[i] ? gn_on[i] : gn_off[i];
        if (prog && (fx->prog_all || !mask[i]))
            prime_fx_program_pair(&fx->prog, a, b, d->g_max, d->chip_seed, st + ST_PROG2, i, &a, &b);
        int fa = prime_dev_fault(d, layer, 0, i), fb = prime_dev_fault(d, layer, 1, i);
        if (fa) a = fa == 1 ? d->g_max : d->g_off;
        if (fb) b = fb == 1 ? d->g_max : d->g_off;
        if (relax && !fa) a = prime_fx_relax(&fx->relax, a, d->chip_seed, st + ST_RELAX, i);
        if (relax && !fb) b = prime_fx_relax(&fx->relax, b, d->chip_seed, st + ST_RELAX + 1, i);
        gp[i] = a, gn[i] = b;
    }
    const float *ep = gp, *en = gn;
    if (gpe && gne && !prime_ir_off(&fx->ir)) { /* per array: G f, the fast form of the wire model */
        const int T = ir_tile(fx), P = T / 2;
        for (int r0 = 0; r0 < rows; r0 += T)
            for (int c0 = 0; c0 < cols; c0 += P) {
                const int nr = rows - r0 < T ? rows - r0 : T, nc = cols - c0 < P ? cols - c0 : P;
                const size_t o = (size_t)r0 * cols + c0;
                if (prime_ir_factors_pairs(&fx->ir, fx->ir_method, gp + o, gn + o, nr, nc, cols, gpe + o, gne + o) != 0)
                    return -1;
            }
        for (size_t i = 0; i < n; i++) gpe[i] *= gp[i], gne[i] *= gn[i];
        ep = gpe, en = gne;
    }
    for (size_t i = 0; i < n; i++) {
        wt[i] = (ep[i] - en[i]) * sc;
        g2[i] = prime_fx_noise_coef(&fx->read, ep[i], en[i], sc);
    }
    return 0;
}

/* ============================================================ applying (d, fx) */

/* fx with what the read alone uses cleared: equal results mean the same programming. */
static prime_devfx_params prog_part(const prime_devfx_params *fx) {
    prime_devfx_params p;
    memset(&p, 0, sizeof p);
    p.read.model = fx->read.model, p.read.sigma = fx->read.sigma, p.read.measured = fx->read.measured;
    p.prog = fx->prog, p.relax = fx->relax, p.ir = fx->ir, p.ir_method = fx->ir_method;
    p.ir_tile = ir_tile(fx), p.prog_all = fx->prog_all;
    return p;
}

/* The crossbar nodes of a model as device_wire sees them. */
typedef struct {
    int rows, cols, row_tiles; /* 0 rows: no crossbar layer */
    int key;                   /* the device stream key (the converters' stream) */
    float **gpe, **gne;
    prime_conv_unit **adc;
} wl_view;

/* Sizes and fills a new fxblock for (d, fx): the effective conductances (IR
 * drop), the ADC converters per layer, n_dac DAC converters. Writes the
 * pointers into the views (NULL where not needed) and *dac; returns the block
 * (NULL when nothing is needed); *err = 1 on out of memory. */
static void *fx_block(const prime_device *d, const prime_devfx_params *fx, wl_view *w, int nl, size_t n_dac,
                      prime_conv_unit **dac, int *err) {
    const int ir = !prime_ir_off(&fx->ir), adc = !prime_fx_conv_ideal(&fx->adc), dacn = !prime_fx_conv_ideal(&fx->dac);
    size_t floats = 0, units = dacn ? n_dac : 0;
    for (int l = 0; l < nl; l++) {
        if (!w[l].rows) continue;
        if (ir) floats += 2 * (size_t)w[l].rows * w[l].cols;
        if (adc) units += (size_t)w[l].row_tiles * w[l].cols;
    }
    *err = 0, *dac = NULL;
    for (int l = 0; l < nl; l++)
        if (w[l].rows) *w[l].gpe = *w[l].gne = NULL, *w[l].adc = NULL;
    if (!floats && !units) return NULL;
    prime_conv_unit *u = malloc(units * sizeof *u + floats * sizeof(float) + 16);
    if (!u) { *err = 1; prime_error("out of memory for the device effects"); return NULL; }
    float *f = (float *)(u + units);
    prime_conv_unit *q = u;
    if (dacn) {
        for (size_t i = 0; i < n_dac; i++) q[i] = prime_fx_conv_draw(&fx->dac, d->chip_seed, ST_DAC, i);
        *dac = q, q += n_dac;
    }
    for (int l = 0; l < nl; l++) {
        if (!w[l].rows) continue;
        const size_t n = (size_t)w[l].rows * w[l].cols, nu = (size_t)w[l].row_tiles * w[l].cols;
        if (ir) *w[l].gpe = f, *w[l].gne = f + n, f += 2 * n;
        if (adc) {
            for (size_t i = 0; i < nu; i++) q[i] = prime_fx_conv_draw(&fx->adc, d->chip_seed, (uint64_t)w[l].key * 16 + ST_ADC, i);
            *w[l].adc = q, q += nu;
        }
    }
    return u;
}

/* Makes (d, fx) a model's device and effects (prime_graph_internal.h): checked
 * together, the new block first (on error nothing changes), then re-form /
 * re-program what needs it. 0 or -1. */
#define NET_MAXL (PRIME_G_MAX_GRAPHS * PRIME_G_MAX_NODES)
int prime_graph_set_devfx_with(prime_gmodel *m, const prime_device *d, const prime_devfx_params *fx_in) {
    if (!m || !d || !fx_in) return prime_error("set_devfx: NULL argument");
    prime_devfx_params fx = *fx_in;
    fx.read.eta = d->read_noise;
    if (prime_device_fx_check(d, &fx) != 0) return -1;
    wl_view w[NET_MAXL];
    pg_node *node[NET_MAXL];
    int gi[NET_MAXL][2], nl = 0;
    for (int g = 0; g < m->d.n_graphs; g++)
        for (int i = 0; i < m->d.g[g].n; i++) {
            const prime_gnode *N = &m->d.g[g].node[i];
            if (!prime_graph_weighted(N) || !N->crossbar || m->software) continue;
            pg_node *R = &m->n[g][i];
            w[nl] = (wl_view){R->rows, R->cols, R->xb.row_tiles, prime_graph_key(&m->d, g, i), &R->gpe, &R->gne, &R->adc_unit};
            node[nl] = R, gi[nl][0] = g, gi[nl][1] = i, nl++;
        }
    const prime_gnode *IN = &m->d.g[0].node[0];
    const size_t n_dac = m->d.in_dac && !m->software ? (size_t)IN->oc * IN->oh * IN->ow : 0;
    const int reform = prime_dev_forming_changed(&m->dev, d);
    prime_devfx_params a = prog_part(&m->fx), b = prog_part(&fx);
    /* IR drop on: the factors live in the new block, so they are computed again */
    const int reprogram = reform || memcmp(&a, &b, sizeof a) != 0 || !prime_ir_off(&fx.ir) || !prime_ir_off(&m->fx.ir);
    float *og[NET_MAXL], *on[NET_MAXL];
    prime_conv_unit *oa[NET_MAXL], *dac;
    for (int l = 0; l < nl; l++) og[l] = node[l]->gpe, on[l] = node[l]->gne, oa[l] = node[l]->adc_unit;
    int err;
    void *blk = fx_block(d, &fx, w, nl, n_dac, &dac, &err);
    if (err) {
        for (int l = 0; l < nl; l++) node[l]->gpe = og[l], node[l]->gne = on[l], node[l]->adc_unit = oa[l];
        return -1;
    }
    free(m->fxblock);
    m->fxblock = blk, m->dac_unit = dac;
    m->dev = *d, m->fx = fx;
    int rc = 0;
    for (int l = 0; l < nl; l++) {
        if (reform) prime_graph_form(m, gi[l][0], gi[l][1]);
        if (reprogram) rc |= prime_graph_program(m, gi[l][0], gi[l][1], 0);
        else prime_graph_rebind(m, gi[l][0], gi[l][1]);
    }
    if (rc) { /* out of memory in the IR factors: a consistent chip without wire resistance */
        m->fx.ir = prime_devfx_default().ir;
        for (int l = 0; l < nl; l++) node[l]->gpe = node[l]->gne = NULL, prime_graph_program(m, gi[l][0], gi[l][1], 0);
        return prime_error("device: out of memory computing the IR-drop factors (wire resistance turned off)");
    }
    return 0;
}

/* ============================================================ public (device_opts.h) */

/* d with the one eta of fx (read_noise = read.eta for conductance and weight). */
static prime_device with_eta(prime_device d, const prime_devfx_params *fx) {
    if (fx->read.model <= PRIME_NM_WEIGHT) d.read_noise = fx->read.eta;
    return d;
}

int prime_get_devfx(const prime_ctx *c, prime_devfx_params *fx) {
    return c && fx ? (*fx = c->g->fx, 0) : prime_error("prime_get_devfx: NULL argument");
}
int prime_set_devfx(prime_ctx *c, const prime_devfx_params *fx) {
    if (!c || !fx) return prime_error("prime_set_devfx: NULL argument");
    prime_device d = with_eta(c->g->dev, fx);
    return prime_set_devfx_with(c, &d, fx);
}
int prime_set_device_options(prime_ctx *c, const char *const *kv, int n) {
    if (!c) return prime_error("prime_set_device_options: NULL context");
    prime_device d = c->g->dev;
    prime_devfx_params fx = c->g->fx;
    return prime_device_set_options(&d, &fx, kv, n) ? -1 : prime_set_devfx_with(c, &d, &fx);
}
int prime_vae_get_devfx(const prime_vae *v, prime_devfx_params *fx) {
    return v && fx ? (*fx = v->g->fx, 0) : prime_error("prime_vae_get_devfx: NULL argument");
}
int prime_vae_set_devfx(prime_vae *v, const prime_devfx_params *fx) {
    if (!v || !fx) return prime_error("prime_vae_set_devfx: NULL argument");
    prime_device d = with_eta(v->g->dev, fx);
    return prime_graph_set_devfx_with(v->g, &d, fx);
}
int prime_vae_set_device_options(prime_vae *v, const char *const *kv, int n) {
    if (!v) return prime_error("prime_vae_set_device_options: NULL network");
    prime_device d = v->g->dev;
    prime_devfx_params fx = v->g->fx;
    return prime_device_set_options(&d, &fx, kv, n) ? -1 : prime_graph_set_devfx_with(v->g, &d, &fx);
}

/* ============================================================ the IR-drop map */

/* Tiles of ir_tile arrays of classifier layer l; 0 or -1. */
int prime_irdrop_tiles(const prime_ctx *c, int l, int *rt, int *ct) {
    const pg_node *w = c && l >= 0 && l < c->arch.n_layers ? &c->g->n[0][c->node[l]] : NULL;
    if (!w || !w->rows) return prime_error("irdrop map: layer %d is not a weight layer", l);
    const int T = ir_tile(&c->g->fx);
    const int r = (w->rows + T - 1) / T, q = (2 * w->cols + T - 1) / T;
    if (rt) *rt = r;
    if (ct) *ct = q;
    return r * q;
}

/* The exact solve of one array (device_opts.h). */
int prime_irdrop_map(const prime_ctx *c, int l, int tile, const float *v_in, int *rows, int *cols, double *v_row,
                     double *v_col, double *i_col, double *i_ideal, int *iterations) {
    int rt = 0, ct = 0;
    if (prime_irdrop_tiles(c, l, &rt, &ct) < 0) return -1;
    if (tile < 0 || tile >= rt * ct) return prime_error("irdrop map: array %d of layer %d out of range 0..%d", tile, l, rt * ct - 1);
    if (!rows || !cols || !v_row || !v_col || !i_col || !i_ideal) return prime_error("irdrop map: NULL argument");
    const prime_ir_params *p = &c->g->fx.ir;
    if (!(p->r_row > 0 && p->r_col > 0))
        return prime_error("irdrop map: set the wire resistances first (r_row and r_col > 0 ohm; they are %g, %g)",
                           (double)p->r_row, (double)p->r_col);
    const pg_node *w = &c->g->n[0][c->node[l]];
    const int T = ir_tile(&c->g->fx), r0 = (tile / ct) * T, p0 = (tile % ct) * (T / 2);
    const int nr = w->rows - r0 < T ? w->rows - r0 : T, np = w->cols - p0 < T / 2 ? w->cols - p0 : T / 2, nc = 2 * np;
    float *g = malloc(sizeof(float) * ((size_t)nr * nc + nr));
    if (!g) return prime_error("irdrop map: out of memory");
    float *v = g + (size_t)nr * nc;
    for (int i = 0; i < nr; i++) {
        v[i] = v_in ? v_in[i] : c->g->dev.v_read;
        for (int j = 0; j < np; j++) {
            const size_t k = (size_t)(r0 + i) * w->cols + p0 + j;
            g[(size_t)i * nc + 2 * j] = w->gp[k], g[(size_t)i * nc + 2 * j + 1] = w->gn[k];
        }
    }
    for (int j = 0; j < nc; j++) {
        double s = 0;
        for (int i = 0; i < nr; i++) s += (double)v[i] * g[(size_t)i * nc + j];
        i_ideal[j] = s;
    }
    prime_ir_solve_info info = {0};
    int rc = prime_ir_solve(p, g, nr, nc, v, i_col, v_row, v_col, &info);
    free(g);
    if (rc != 0) return -1;
    *rows = nr, *cols = nc;
    if (iterations) *iterations = info.iterations;
    return 0;
}
