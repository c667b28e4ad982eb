/* irdrop.c - the IR-drop study of docs/device.md: the effect of wire
 * resistance on column currents against the array fill and the tile size,
 * and the error of the fast forms against the exact nodal solve.
 *
 *   prime-irdrop [--r OHM] [--r-term OHM] [--quick]
 *
 * Arrays: formed-like cells (G ~ N(30, 4.5) uS, one in four reset to
 * 0.5 uS) in a block from the corner nearest the drivers and sense amps.
 * Inputs: every row at 1 V (full drive, the worst case) and 10 % of the rows
 * spiking at 1 V. Figures are relative to the largest ideal column current
 * of the array: effect = max |ideal - exact|, error = max |fast - exact|.
 * Times (CPU ms): the exact solve of the full-drive input, and the lines
 * form's factors, computed once per programmed array (a read then costs a
 * plain read). Prints markdown tables (docs/logs/irdrop-study.txt).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../device_fx.h"
#include "../pmath.h"
#include "../prime.h"

/* A formed-like conductance (uS) of cell i of a chip. */
static float cell_g(uint64_t seed, uint64_t i) {
    if (prime_rand_uniform(seed, 7, i) < 0.25) return 0.5f + 0.1f * (float)prime_rand_normal(seed, 8, i);
    float g = 30.0f + 4.5f * (float)prime_rand_normal(seed, 9, i);
    return g > 0 ? g : 0;
}

typedef struct {
    double effect[2], err_lines[2], err_first[2]; /* [input: full, spikes] */
    int iters;
    double ms, fms; /* exact solve, lines factors (once per programming) */
} result;

/* One array: n x n tile, block rows x cols; fills *r. 0 or -1. */
static int study(const prime_ir_params *p, int n, int rows, int cols, uint64_t seed, result *r) {
    size_t nn = (size_t)n * n;
    float *g = calloc(nn * 3, sizeof(float)), *fl = g + nn, *ff = fl + nn, *v = malloc(sizeof(float) * n);
    double *ie = malloc(sizeof(double) * n);
    if (!g || !v || !ie) return -1;
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) g[(size_t)i * n + j] = cell_g(seed, (uint64_t)i * n + j);
    memset(r, 0, sizeof *r);
    clock_t t0 = clock();
    if (prime_ir_factors(p, PRIME_IR_LINES, g, n, n, fl)) return -1;
    r->fms = 1000.0 * (clock() - t0) / CLOCKS_PER_SEC;
    if (prime_ir_factors(p, PRIME_IR_FIRST_ORDER, g, n, n, ff)) return -1;
    for (int in = 0; in < 2; in++) {
        for (int i = 0; i < n; i++) v[i] = in ? (prime_rand_uniform(seed, 31, i) < 0.1 ? 1.0f : 0.0f) : 1.0f;
        prime_ir_solve_info info = {0};
        clock_t t0 = clock();
        if (prime_ir_solve(p, g, n, n, v, ie, NULL, NULL, &info) != 0) return -1;
        double ms = 1000.0 * (clock() - t0) / CLOCKS_PER_SEC;
        if (!in) r->iters = info.iterations, r->ms = ms;
        double mx = 0, e1 = 0, e2 = 0, d = 0;
        for (int j = 0; j < cols; j++) {
            double id = 0, a1 = 0, a2 = 0;
            for (int i = 0; i < rows; i++) {
                size_t k = (size_t)i * n + j;
                id += (double)v[i] * g[k], a1 += (double)v[i] * g[k] * fl[k], a2 += (double)v[i] * g[k] * ff[k];
            }
            mx = fmax(mx, fabs(id)), d = fmax(d, fabs(id - ie[j]));
            e1 = fmax(e1, fabs(a1 - ie[j])), e2 = fmax(e2, fabs(a2 - ie[j]));
        }
        if (mx == 0) mx = 1;
        r->effect[in] = d / mx, r->err_lines[in] = e1 / mx, r->err_first[in] = e2 / mx;
    }
    free(g), free(v), free(ie);
    return 0;
}

/* Prints one table row. */
static void row(const char *what, int n, int rows, int cols, const result *r) {
    printf("| %s | %d | %dx%d | %.1f %% | %.2f %% | %.3f %% | %.2f %% | %.2f %% | %.3f %% | %.2f %% | %d | %.0f | %.1f |\n", what, n,
           rows, cols, 100.0 * rows * cols / ((double)n * n), 100 * r->effect[0], 100 * r->err_lines[0],
           100 * r->err_first[0], 100 * r->effect[1], 100 * r->err_lines[1], 100 * r->err_first[1], r->iters, r->ms, r->fms);
}

static void header(void) {
    printf("| array | tile | block | fill | effect, full | lines err | 1st-order err | effect, 10 %% | lines err | "
           "1st-order err | CG iters | solve ms | lines factors ms |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

int main(int argc, char **argv) {
    prime_ir_params p = {.r_row = 1, .r_col = 1, .r_drv = 0, .r_tia = 0};
    int quick = 0;
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--r") && a + 1 < argc) p.r_row = p.r_col = (float)atof(argv[++a]);
        else if (!strcmp(argv[a], "--r-term") && a + 1 < argc) p.r_drv = p.r_tia = (float)atof(argv[++a]);
        else if (!strcmp(argv[a], "--quick")) quick = 1;
        else {
            fprintf(stderr, "usage: prime-irdrop [--r OHM] [--r-term OHM] [--quick]\n");
            return 2;
        }
    }
    if (prime_ir_check(&p) != 0) {
        fprintf(stderr, "prime-irdrop: %s\n", prime_last_error());
        return 2;
    }
    printf("IR drop study: segments %g ohm (rows and columns), terminals %g ohm; G ~ N(30, 4.5) uS, 1/4 reset to "
           "0.5 uS.\nFigures: max over columns, relative to the largest ideal column current.\n\n",
           (double)p.r_row, (double)p.r_drv);
    printf("## Against fill and tile size (square blocks from the corner)\n\n");
    header();
    const int tiles[3] = {512, 256, 128};
    const double fills[5] = {0.01, 0.05, 0.15, 0.5, 1.0};
    for (int t = 0; t < 3; t++)
        for (int f = 0; f < 5; f++) {
            int n = tiles[t], side = (int)(n * sqrt(fills[f]) + 0.5);
            if (quick && n == 512 && f > 2) continue;
            result r;
            if (study(&p, n, side, side, 100 + t * 10 + f, &r) != 0) {
                fprintf(stderr, "prime-irdrop: %s\n", prime_last_error());
                return 1;
            }
            row("square", n, side, side, &r);
            fflush(stdout);
        }
    /* the PRIME network's layers (build/prime info models/random-nmnist.prime):
     * 50 x 12, 300 x 64, 2304 x 10 weights as pairs (2 physical columns each);
     * a layer taller than the tile spans several arrays (the first shown) */
    printf("\n## The PRIME network's layers (first row tile of each)\n\n");
    header();
    const int lr[3] = {50, 300, 2304}, lc[3] = {24, 128, 20};
    const char *name[3] = {"conv1 50x12", "conv2 300x64", "fc 2304x10"};
    for (int t = 0; t < 3; t++)
        for (int l = 0; l < 3; l++) {
            int n = tiles[t], rows = lr[l] < n ? lr[l] : n, cols = lc[l] < n ? lc[l] : n;
            result r;
            if (study(&p, n, rows, cols, 200 + t * 10 + l, &r) != 0) {
                fprintf(stderr, "prime-irdrop: %s\n", prime_last_error());
                return 1;
            }
            row(name[l], n, rows, cols, &r);
            fflush(stdout);
        }
    return 0;
}
