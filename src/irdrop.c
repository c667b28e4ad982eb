/* irdrop.c - wire resistance of a crossbar (device_fx.h, docs/device.md):
 * the exact nodal solve (preconditioned conjugate gradients) and the fast
 * effective-conductance forms a read uses. Units: uS, ohm, V, uA; a
 * resistance r in ohm is a conductance 1e6 / r uS. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device_fx.h"
#include "prime.h"

/* Checks the wire parameters; 0 or -1 naming the field. */
int prime_ir_check(const prime_ir_params *p) {
    if (!(p->r_row >= 0 && p->r_row <= 1e6)) return prime_error("device: r_row = %g ohm out of range [0, 1e6]", (double)p->r_row);
    if (!(p->r_col >= 0 && p->r_col <= 1e6)) return prime_error("device: r_col = %g ohm out of range [0, 1e6]", (double)p->r_col);
    if (!(p->r_drv >= 0 && p->r_drv <= 1e9)) return prime_error("device: r_drv = %g ohm out of range [0, 1e9]", (double)p->r_drv);
    if (!(p->r_tia >= 0 && p->r_tia <= 1e9)) return prime_error("device: r_tia = %g ohm out of range [0, 1e9]", (double)p->r_tia);
    return 0;
}

/* 1 when there is no resistance at all. */
int prime_ir_off(const prime_ir_params *p) { return p->r_row == 0 && p->r_col == 0 && p->r_drv == 0 && p->r_tia == 0; }

/* The bounding box of the non-zero cells: *nr rows, *nc columns from 0. */
static void bbox(const float *g, int rows, int cols, int *nr, int *nc) {
    int r1 = 0, c1 = 0;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            if (g[(size_t)i * cols + j] != 0) {
                if (i + 1 > r1) r1 = i + 1;
                if (j + 1 > c1) c1 = j + 1;
            }
    *nr = r1, *nc = c1;
}

/* ============================================================ exact solve
 *
 * Unknowns: the row nodes a (i,j) and the column nodes b (i,j) of the box.
 * Kirchhoff at a free row node:    (left + right wire + G_ij) a_ij - wire neighbours - G_ij b_ij = source
 * and at a free column node:       (up + down wire + G_ij) b_ij - wire neighbours - G_ij a_ij = 0,
 * where the wire next to the terminal is the terminal's conductance. A zero
 * terminal resistance fixes the first node (at V_i, or at ground); a line with
 * no resistance at all is fixed everywhere. The matrix is symmetric positive
 * definite; the preconditioner M is the same system without the cell
 * couplings -G a b, i.e. every row line and every column line solved exactly
 * (tridiagonal, Thomas algorithm, factored once). */

typedef struct {
    int R, C;
    const float *g;        /* [rows][ld] */
    int ld;
    double gr, gc, gd, gt; /* wire and terminal conductances, uS (0 when the resistance is 0) */
    int row_ideal, row_fix0, col_ideal, col_fix0;
    double *cpa, *ida, *cpb, *idb; /* Thomas factors of the row and column lines */
} nodal;

#define G_(s, i, j) ((double)(s)->g[(size_t)(i) * (s)->ld + (j)])

/* 1 when row node (i,j) / column node (i,j) is an unknown. */
static int free_a(const nodal *s, int j) { return !s->row_ideal && !(s->row_fix0 && j == 0); }
static int free_b(const nodal *s, int i) { return !s->col_ideal && !(s->col_fix0 && i == 0); }

/* Diagonal of row node (i,j) and column node (i,j). */
static double diag_a(const nodal *s, int i, int j) {
    return (j == 0 ? s->gd : s->gr) + (j < s->C - 1 ? s->gr : 0) + G_(s, i, j);
}
static double diag_b(const nodal *s, int i, int j) {
    return (i == 0 ? s->gt : s->gc) + (i < s->R - 1 ? s->gc : 0) + G_(s, i, j);
}

/* y = A x over the free nodes (x is 0 on fixed nodes; y is set to 0 there). */
static void nodal_apply(const nodal *s, const double *xa, const double *xb, double *ya, double *yb) {
    const int R = s->R, C = s->C;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            size_t k = (size_t)i * C + j;
            if (free_a(s, j)) {
                double y = diag_a(s, i, j) * xa[k] - G_(s, i, j) * xb[k];
                if (j > 0) y -= s->gr * xa[k - 1];
                if (j < C - 1) y -= s->gr * xa[k + 1];
                ya[k] = y;
            } else ya[k] = 0;
            if (free_b(s, i)) {
                double y = diag_b(s, i, j) * xb[k] - G_(s, i, j) * xa[k];
                if (i > 0) y -= s->gc * xb[k - C];
                if (i < R - 1) y -= s->gc * xb[k + C];
                yb[k] = y;
            } else yb[k] = 0;
        }
}

/* Factors every row and column line (Thomas: c'_k and 1 / pivot_k). */
static void nodal_factor(nodal *s) {
    const int R = s->R, C = s->C;
    for (int i = 0; i < R && !s->row_ideal; i++) {
        double cp = 0;
        for (int j = s->row_fix0; j < C; j++) {
            size_t k = (size_t)i * C + j;
            double piv = diag_a(s, i, j) - (j > s->row_fix0 ? -s->gr * cp : 0);
            s->ida[k] = 1 / piv;
            cp = -s->gr / piv;
            s->cpa[k] = cp;
        }
    }
    for (int j = 0; j < C && !s->col_ideal; j++) {
        double cp = 0;
        for (int i = s->col_fix0; i < R; i++) {
            size_t k = (size_t)i * C + j;
            double piv = diag_b(s, i, j) - (i > s->col_fix0 ? -s->gc * cp : 0);
            s->idb[k] = 1 / piv;
            cp = -s->gc / piv;
            s->cpb[k] = cp;
        }
    }
}

/* z = M^-1 r: each line's tridiagonal solve with the stored factors. */
static void nodal_precond(const nodal *s, const double *ra, const double *rb, double *za, double *zb) {
    const int R = s->R, C = s->C;
    memset(za, 0, sizeof(double) * R * C);
    memset(zb, 0, sizeof(double) * R * C);
    for (int i = 0; i < R && !s->row_ideal; i++) {
        size_t k0 = (size_t)i * C;
        double y = 0;
        for (int j = s->row_fix0; j < C; j++) {
            y = (ra[k0 + j] - (j > s->row_fix0 ? -s->gr * y : 0)) * s->ida[k0 + j];
            za[k0 + j] = y;
        }
        for (int j = C - 2; j >= s->row_fix0; j--) za[k0 + j] -= s->cpa[k0 + j] * za[k0 + j + 1];
    }
    for (int j = 0; j < C && !s->col_ideal; j++) {
        double y = 0;
        for (int i = s->col_fix0; i < R; i++) {
            size_t k = (size_t)i * C + j;
            y = (rb[k] - (i > s->col_fix0 ? -s->gc * y : 0)) * s->idb[k];
            zb[k] = y;
        }
        for (int i = R - 2; i >= s->col_fix0; i--) {
            size_t k = (size_t)i * C + j;
            zb[k] -= s->cpb[k] * zb[k + C];
        }
    }
}

/* The exact nodal solve (device_fx.h). */
int prime_ir_solve(const prime_ir_params *p, const float *g, int rows, int cols, const float *v, double *i_col,
                   double *v_row, double *v_col, prime_ir_solve_info *info) {
    if (!p || !g || !v || !i_col || rows < 1 || cols < 1) return prime_error("prime_ir_solve: bad argument");
    if (prime_ir_check(p) != 0) return -1;
    if ((p->r_row == 0 && p->r_drv > 0) || (p->r_col == 0 && p->r_tia > 0))
        return prime_error("prime_ir_solve: a line with zero segment resistance and a terminal resistance "
                           "(r_row = 0 < r_drv or r_col = 0 < r_tia) is one node per line: give r_row, r_col > 0");
    double tol = info && info->tol > 0 ? info->tol : 1e-11;
    int max_iter = info && info->max_iter > 0 ? info->max_iter : 20000;
    nodal s = {0};
    bbox(g, rows, cols, &s.R, &s.C);
    s.g = g, s.ld = cols;
    s.gr = p->r_row > 0 ? 1e6 / p->r_row : 0, s.gc = p->r_col > 0 ? 1e6 / p->r_col : 0;
    s.gd = p->r_drv > 0 ? 1e6 / p->r_drv : 0, s.gt = p->r_tia > 0 ? 1e6 / p->r_tia : 0;
    s.row_ideal = p->r_row == 0 && p->r_drv == 0, s.row_fix0 = p->r_drv == 0;
    s.col_ideal = p->r_col == 0 && p->r_tia == 0, s.col_fix0 = p->r_tia == 0;
    const int R = s.R, C = s.C;
    const size_t n = (size_t)R * C;
    for (int j = 0; j < cols; j++) i_col[j] = 0;
    double *buf = calloc(14 * n + 1, sizeof(double));
    if (!buf) return prime_error("prime_ir_solve: out of memory (%d x %d)", R, C);
    double *xa = buf, *xb = xa + n, *ra = xb + n, *rb = ra + n, *za = rb + n, *zb = za + n, *pa = zb + n, *pb = pa + n;
    double *qa = pb + n, *qb = qa + n;
    s.cpa = qb + n, s.ida = s.cpa + n, s.cpb = s.ida + n, s.idb = s.cpb + n;
    int it = 0;
    double rel = 0;
    if (n && !(s.row_ideal && s.col_ideal)) {
        /* right-hand side: the sources, and the fixed nodes moved across */
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++) {
                size_t k = (size_t)i * C + j;
                double vi = v[i];
                if (free_a(&s, j) && j == 0) ra[k] += s.gd * vi;
                if (!s.row_ideal && s.row_fix0 && j == 1) ra[k] += s.gr * vi;
                if (free_b(&s, i) && (s.row_ideal || (s.row_fix0 && j == 0))) rb[k] += G_(&s, i, j) * vi;
            }
        double bn = 0;
        for (size_t k = 0; k < n; k++) bn += ra[k] * ra[k] + rb[k] * rb[k];
        bn = sqrt(bn);
        nodal_factor(&s);
        if (bn > 0) {
            nodal_precond(&s, ra, rb, za, zb);
            memcpy(pa, za, sizeof(double) * n), memcpy(pb, zb, sizeof(double) * n);
            double rz = 0;
            for (size_t k = 0; k < n; k++) rz += ra[k] * za[k] + rb[k] * zb[k];
            for (it = 0; it < max_iter; it++) {
                double rn = 0;
                for (size_t k = 0; k < n; k++) rn += ra[k] * ra[k] + rb[k] * rb[k];
                rel = sqrt(rn) / bn;
                if (rel <= tol) break;
                nodal_apply(&s, pa, pb, qa, qb);
                double pq = 0;
                for (size_t k = 0; k < n; k++) pq += pa[k] * qa[k] + pb[k] * qb[k];
                double al = rz / pq;
                for (size_t k = 0; k < n; k++) {
                    xa[k] += al * pa[k], xb[k] += al * pb[k];
                    ra[k] -= al * qa[k], rb[k] -= al * qb[k];
                }
                nodal_precond(&s, ra, rb, za, zb);
                double rz2 = 0;
                for (size_t k = 0; k < n; k++) rz2 += ra[k] * za[k] + rb[k] * zb[k];
                double be = rz2 / rz;
                rz = rz2;
                for (size_t k = 0; k < n; k++) pa[k] = za[k] + be * pa[k], pb[k] = zb[k] + be * pb[k];
            }
            if (it == max_iter) {
                free(buf);
                return prime_error("prime_ir_solve: no convergence after %d iterations (relative residual %.3g, "
                                   "tolerance %.3g)", it, rel, tol);
            }
        }
    }
    /* fixed nodes back in: rows at their source, columns at ground */
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++)
            if (!free_a(&s, j)) xa[(size_t)i * C + j] = v[i];
    for (int j = 0; j < C; j++) {
        double I = 0;
        if (s.col_ideal)
            for (int i = 0; i < R; i++) I += G_(&s, i, j) * xa[(size_t)i * C + j];
        else if (s.col_fix0) I = G_(&s, 0, j) * xa[j] + (R > 1 ? s.gc * xb[(size_t)C + j] : 0);
        else I = s.gt * xb[j];
        i_col[j] = I;
    }
    /* node voltages over the whole array: beyond the box no current flows */
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            size_t o = (size_t)i * cols + j;
            int bi = i < R ? i : R - 1, bj = j < C ? j : C - 1;
            if (v_row) v_row[o] = i < R && n ? xa[(size_t)i * C + bj] : v[i];
            if (v_col) v_col[o] = j < C && n ? xb[(size_t)bi * C + j] : 0;
        }
    if (info) info->iterations = it, info->residual = rel;
    free(buf);
    return 0;
}

/* ============================================================ fast forms */

/* One line alone (the crossing lines ideal) with a unit source at its
 * terminal: writes the node voltages w [n] of the chain terminal -- r_term --
 * node 0 -- r_seg -- node 1 ..., node k loaded by G[k * stride] to ground.
 * scratch [n]. r_term = 0 fixes node 0 at 1; r_seg = 0 makes the line one node. */
static void ladder(int n, double r_term, double r_seg, const float *G, size_t stride, double *w, double *cp) {
    if (r_seg == 0 && r_term == 0) {
        for (int k = 0; k < n; k++) w[k] = 1;
        return;
    }
    if (r_seg == 0) {
        double s = 0;
        for (int k = 0; k < n; k++) s += G[k * stride];
        double gt = 1e6 / r_term, u = gt / (gt + s);
        for (int k = 0; k < n; k++) w[k] = u;
        return;
    }
    const double gs = 1e6 / r_seg;
    int k0 = 0;
    if (r_term == 0) w[0] = 1, k0 = 1;
    double y = 0, c = 0;
    for (int k = k0; k < n; k++) { /* Thomas forward sweep */
        double d = (k == 0 ? 1e6 / r_term : gs) + (k < n - 1 ? gs : 0) + G[k * stride];
        double rhs = k == 0 ? 1e6 / r_term : (k == 1 && k0 == 1 ? gs : 0);
        double piv = d - (k > k0 ? -gs * c : 0);
        y = (rhs - (k > k0 ? -gs * y : 0)) / piv;
        c = -gs / piv;
        cp[k] = c, w[k] = y;
    }
    for (int k = n - 2; k >= k0; k--) w[k] -= cp[k] * w[k + 1];
}

/* First-order drop of one line per unit source: 1e-6 (r_term S + r_seg
 * sum_m G_m min(m, k)) at every node k, S = sum_m G_m. */
static void first_order(int n, double r_term, double r_seg, const float *G, size_t stride, double *d) {
    double S = 0;
    for (int k = 0; k < n; k++) S += G[k * stride];
    double below = 0, suf = S; /* sum_{m<k} m G_m, sum_{m>=k} G_m */
    for (int k = 0; k < n; k++) {
        d[k] = 1e-6 * (r_term * S + r_seg * (below + k * suf));
        below += (double)k * G[k * stride];
        suf -= G[k * stride];
    }
}

/* Coupled sweeps of the lines form: 1 removes about 40 % of its error on
 * dense arrays (prime-irdrop); more change it by under 0.1 % of full scale. */
#define IR_SWEEPS 1
/* The lines form with `sweeps` coupled sweeps: column lines with their cells
 * loaded by G alpha, row lines by G gamma (sweeps = 0: both loaded by G). */
static int factors_lines(const prime_ir_params *p, const float *g, int R, int C, int cols, float *f, int sweeps) {
    int L = R > C ? R : C;
    double *w = malloc(sizeof(double) * 2 * L);
    float *load = malloc(sizeof(float) * 3 * (size_t)R * C);
    if (!w || !load) {
        free(w), free(load);
        return prime_error("prime_ir_factors: out of memory");
    }
    double *cp = w + L;
    float *al = load + (size_t)R * C, *ga = al + (size_t)R * C;
    for (size_t k = 0; k < (size_t)R * C; k++) al[k] = ga[k] = 1;
    for (int s = 0; s <= sweeps; s++) {
        for (int j = 0; j < C; j++) { /* column lines, cells loaded by G alpha */
            for (int i = 0; i < R; i++) load[(size_t)i * C + j] = g[(size_t)i * cols + j] * (s ? al[(size_t)i * C + j] : 1);
            ladder(R, p->r_tia, p->r_col, load + j, (size_t)C, w, cp);
            for (int i = 0; i < R; i++) ga[(size_t)i * C + j] = (float)w[i];
        }
        for (int i = 0; i < R; i++) { /* row lines, cells loaded by G gamma */
            for (int j = 0; j < C; j++) load[(size_t)i * C + j] = g[(size_t)i * cols + j] * (sweeps ? ga[(size_t)i * C + j] : 1);
            ladder(C, p->r_drv, p->r_row, load + (size_t)i * C, 1, w, cp);
            for (int j = 0; j < C; j++) al[(size_t)i * C + j] = (float)w[j];
        }
    }
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) f[(size_t)i * cols + j] = al[(size_t)i * C + j] * ga[(size_t)i * C + j];
    free(w), free(load);
    return 0;
}

/* The fast form's factors (device_fx.h). */
int prime_ir_factors(const prime_ir_params *p, enum prime_ir_method m, const float *g, int rows, int cols,
                     float *f) {
    if (!p || !g || !f || rows < 1 || cols < 1) return prime_error("prime_ir_factors: bad argument");
    if (prime_ir_check(p) != 0) return -1;
    if (m != PRIME_IR_FIRST_ORDER && m != PRIME_IR_LINES)
        return prime_error("prime_ir_factors: method %d (0 first_order, 1 lines)", (int)m);
    int R, C;
    bbox(g, rows, cols, &R, &C);
    for (size_t k = 0; k < (size_t)rows * cols; k++) f[k] = 1;
    if (!R) return 0;
    if (m == PRIME_IR_LINES) return factors_lines(p, g, R, C, cols, f, IR_SWEEPS);
    double *w = malloc(sizeof(double) * (R > C ? R : C));
    if (!w) return prime_error("prime_ir_factors: out of memory");
    for (int i = 0; i < R; i++) { /* 1 - row drop */
        first_order(C, p->r_drv, p->r_row, g + (size_t)i * cols, 1, w);
        for (int j = 0; j < C; j++) f[(size_t)i * cols + j] = (float)(1 - w[j]);
    }
    for (int j = 0; j < C; j++) { /* minus the column drop, at least 0 */
        first_order(R, p->r_tia, p->r_col, g + j, (size_t)cols, w);
        for (int i = 0; i < R; i++) {
            float *q = &f[(size_t)i * cols + j];
            double x = *q - w[i];
            *q = (float)(x > 0 ? x : 0);
        }
    }
    free(w);
    return 0;
}

/* The factors of a layer stored as differential pairs (device_fx.h). */
int prime_ir_factors_pairs(const prime_ir_params *p, enum prime_ir_method m, const float *gp, const float *gn,
                           int rows, int outs, int ld, float *fp, float *fn) {
    if (!gp || !gn || !fp || !fn || rows < 1 || outs < 1 || ld < outs)
        return prime_error("prime_ir_factors_pairs: bad argument");
    size_t n = (size_t)rows * 2 * outs;
    float *g = malloc(sizeof(float) * 2 * n);
    if (!g) return prime_error("prime_ir_factors_pairs: out of memory");
    float *f = g + n;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < outs; j++) {
            g[(size_t)i * 2 * outs + 2 * j] = gp[(size_t)i * ld + j];
            g[(size_t)i * 2 * outs + 2 * j + 1] = gn[(size_t)i * ld + j];
        }
    int rc = prime_ir_factors(p, m, g, rows, 2 * outs, f);
    if (rc == 0)
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < outs; j++) {
                fp[(size_t)i * ld + j] = f[(size_t)i * 2 * outs + 2 * j];
                fn[(size_t)i * ld + j] = f[(size_t)i * 2 * outs + 2 * j + 1];
            }
    free(g);
    return rc;
}
