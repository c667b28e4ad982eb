/* fuzz_graph.c - libFuzzer harness for graph model files (src/prime_graph_io.c,
 * docs/graph.md): the input through prime_graph_load; a file that loads must
 * save to the same bytes and load again, and run one step on a zero input
 * when it is small. Seeds: tests/fuzz/make_seeds.c (the Fashion CNN, a small
 * FSVAE). With -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the CRC is not
 * fatal, so mutations reach the sections. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_graph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    prime_gmodel *m = prime_graph_load(data, size);
    if (!m) return 0;
    uint8_t *b = NULL, *b2 = NULL;
    size_t n = 0, n2 = 0;
    if (prime_graph_save(m, &b, &n) != 0) abort(); /* a loaded model always saves */
    prime_gmodel *m2 = prime_graph_load(b, n);
    if (!m2 || prime_graph_save(m2, &b2, &n2) != 0 || n2 != n || memcmp(b, b2, n) != 0) abort(); /* save is a fixed point */
    const prime_gdesc *d = prime_graph_desc(m);
    const prime_gnode *in = &d->g[0].node[0];
    size_t nin = (size_t)in->oc * in->oh * in->ow;
    if (n < (1u << 20) && nin <= 4096 && d->T <= 4) { /* small models: one run must not crash */
        float *x = calloc(nin, sizeof(float));
        prime_gresult r;
        if (x) prime_graph_run(m, x, 1, &r);
        free(x);
    }
    prime_free_buffer(b), prime_free_buffer(b2);
    prime_graph_free(m2), prime_graph_free(m);
    return 0;
}
