/* graph.c - build/prime-graph: layer-graph models from the command line
 * (docs/graph.md).
 *
 *   prime-graph import CKPT.pt OUT.prime   the authors' FSVAE / the Fashion CNN layout -> a graph model file
 *   prime-graph info MODEL                 graphs, nodes, shapes
 *   prime-graph run MODEL IN.npy OUT.npy [--ideal] [--choices C.npy] [--choices-out C.npy] [--generate SEED]
 *       IN: float32 (N, C, H, W); OUT: float32 (N, T, n_out), the readout after every step (no early stop);
 *       C: int32 (N, T, c) latent picks of the model's latent node (given to, or written from, the run).
 *   MODEL may be a .pt: it is imported in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "prime.h"
#include "prime_graph.h"

/* Writes a little-endian .npy of n values (float32 or int32). 0 or -1. */
static int write_npy(const char *path, const void *v, const char *descr, const int *shape, int nd) {
    char h[128];
    size_t n = 1;
    int o = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < nd; i++) o += snprintf(h + o, sizeof h - (size_t)o, "%d,%s", shape[i], i + 1 < nd ? " " : ""), n *= (size_t)shape[i];
    o += snprintf(h + o, sizeof h - (size_t)o, "), }");
    while ((o + 11) % 64) h[o++] = ' ';
    h[o - 1] = '\n';
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(o & 0xff), (unsigned char)(o >> 8)};
    int ok = fwrite(pre, 1, 10, f) == 10 && fwrite(h, 1, (size_t)o, f) == (size_t)o && fwrite(v, 4, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static prime_gmodel *open_model(const char *path) {
    uint8_t *b;
    size_t n;
    if (prime_read_file(path, &b, &n) != 0) { fprintf(stderr, "%s: %s\n", path, prime_last_error()); return NULL; }
    prime_gmodel *m = prime_graph_is_file(b, n) ? prime_graph_load(b, n) : prime_graph_import(b, n, NULL);
    free(b);
    if (!m) fprintf(stderr, "%s: %s\n", path, prime_last_error());
    return m;
}

static int cmd_import(const char *inp, const char *outp) {
    prime_gmodel *m = open_model(inp);
    if (!m) return 1;
    uint8_t *out;
    size_t n;
    int rc = prime_graph_save(m, &out, &n);
    prime_graph_free(m);
    if (rc) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    FILE *f = fopen(outp, "wb");
    int ok = f && fwrite(out, 1, n, f) == n;
    if (f && fclose(f)) ok = 0;
    prime_free_buffer(out);
    if (!ok) { fprintf(stderr, "cannot write %s\n", outp); return 1; }
    printf("imported %s, wrote %s (%zu bytes, graph model)\n", inp, outp, n);
    return 0;
}

static int cmd_info(const char *path) {
    prime_gmodel *m = open_model(path);
    if (!m) return 1;
    const prime_gdesc *d = prime_graph_desc(m);
    static const char *ops[] = {"input", "conv", "tconv", "fc", "avgpool", "maxpool", "flatten", "concat", "affine", "reshape", "latent"};
    static const char *neu[] = {"", " +LIF", " +output", " +FSVAE-LIF", " +ReLU-q"};
    printf("T %d, readout %d, %d graph(s)\n", d->T, d->readout, d->n_graphs);
    for (int g = 0; g < d->n_graphs; g++)
        for (int i = 0; i < d->g[g].n; i++) {
            const prime_gnode *N = &d->g[g].node[i];
            printf("  g%d n%-2d %-8s <- %2d  %d x %d x %d%s%s%s\n", g, i, ops[N->op], N->in[0], N->oc, N->oh, N->ow, neu[N->neuron],
                   (N->op >= 1 && N->op <= 3) ? (N->crossbar ? " crossbar" : " digital") : "", N->bias ? " +bias" : "");
        }
    prime_graph_free(m);
    return 0;
}

static int cmd_run(int argc, char **argv) {
    prime_gmodel *m = open_model(argv[0]);
    if (!m) return 1;
    const prime_gdesc *d = prime_graph_desc(m);
    prime_grun run = prime_graph_get_run(m);
    run.policy = PRIME_GP_NONE;
    const char *cin = NULL, *cout = NULL;
    int gen = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--ideal")) {
            prime_device dv = prime_graph_get_device(m);
            dv.g_off = dv.g_off_sd = dv.prog_noise = dv.read_noise = 0, dv.adc_bits = dv.dac_bits = 0, dv.stuck_on = dv.stuck_off = 0;
            if (prime_graph_set_device(m, &dv)) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
            run.ideal = 1;
        } else if (!strcmp(argv[i], "--choices") && i + 1 < argc) cin = argv[++i];
        else if (!strcmp(argv[i], "--choices-out") && i + 1 < argc) cout = argv[++i];
        else if (!strcmp(argv[i], "--generate") && i + 1 < argc) gen = 1, run.generate = 1, run.latent_seed = strtoull(argv[++i], NULL, 10);
        else { fprintf(stderr, "run: unknown option %s\n", argv[i]); return 2; }
    }
    if (prime_graph_set_run(m, &run)) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    int lat = -1, C = 0;
    for (int i = 0; i < d->g[0].n; i++) if (d->g[0].node[i].op == PRIME_G_LATENT) lat = i, C = d->g[0].node[i].c;
    uint8_t *b;
    size_t nb;
    prime_tensor_list in = {0}, ch = {0};
    if (prime_read_file(argv[1], &b, &nb) || prime_tensors_read(b, nb, &in)) { fprintf(stderr, "%s: %s\n", argv[1], prime_last_error()); return 1; }
    free(b);
    const prime_gnode *I = &d->g[0].node[0];
    const size_t per = (size_t)I->oc * I->oh * I->ow;
    const prime_tensor *x = &in.t[0];
    if (x->ndim != 4 || (size_t)x->shape[1] * x->shape[2] * x->shape[3] != per) {
        fprintf(stderr, "%s: (N, %d, %d, %d) float32 needed\n", argv[1], I->oc, I->oh, I->ow);
        return 1;
    }
    const int N = x->shape[0], T = d->T;
    if (cin) {
        if (prime_read_file(cin, &b, &nb) || prime_tensors_read(b, nb, &ch)) { fprintf(stderr, "%s: %s\n", cin, prime_last_error()); return 1; }
        free(b);
        if (lat < 0 || ch.t[0].count != (size_t)N * T * C) { fprintf(stderr, "%s: (%d, %d, %d) int32 needed\n", cin, N, T, C); return 1; }
    }
    size_t nout = 0;
    float *out = NULL;
    int *picks = lat >= 0 ? malloc(sizeof(int) * (size_t)N * T * C) : NULL;
    for (int s = 0; s < N; s++) {
        if (cin) {
            for (size_t j = 0; j < (size_t)T * C; j++) picks[j] = (int)ch.t[0].data[(size_t)s * T * C + j];
            if (prime_graph_set_choices(m, lat, picks, (size_t)T * C)) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
        }
        prime_gresult r;
        if (prime_graph_run(m, gen ? NULL : x->data + (size_t)s * per, 1, &r)) { fprintf(stderr, "sample %d: %s\n", s, prime_last_error()); return 1; }
        if (!out) nout = (size_t)r.n_out, out = calloc((size_t)N * T * nout, sizeof(float));
        for (int t = 0; t < r.steps_used; t++) memcpy(out + ((size_t)s * T + t) * nout, prime_graph_readout(m, t, NULL), nout * sizeof(float));
        if (lat >= 0) prime_graph_get_choices(m, lat, picks + (size_t)s * T * C, (size_t)T * C);
    }
    const int shape[3] = {N, T, (int)nout}, cs[3] = {N, T, C};
    int rc = write_npy(argv[2], out, "<f4", shape, 3);
    if (rc == 0 && cout && lat >= 0) rc = write_npy(cout, picks, "<i4", cs, 3);
    if (rc) fprintf(stderr, "cannot write the outputs\n");
    free(out), free(picks);
    prime_tensors_free(&in), prime_tensors_free(&ch);
    prime_graph_free(m);
    return rc ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "import")) return cmd_import(argv[2], argv[3]);
    if (argc >= 3 && !strcmp(argv[1], "info")) return cmd_info(argv[2]);
    if (argc >= 5 && !strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    fprintf(stderr, "usage: prime-graph import CKPT OUT | info MODEL | run MODEL IN.npy OUT.npy [--ideal] [--choices C.npy] "
                    "[--choices-out C.npy] [--generate SEED]\n");
    return 2;
}
