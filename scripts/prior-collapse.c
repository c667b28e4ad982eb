/* prior-collapse.c - why some images generated from the prior are a 3x3 grid
 * of dark dots (docs/inpainting.md, "Generation from the prior"): per seed, the
 * latent bits of the last step and the prior's mean firing rate q.
 *
 *   make -j2 all && gcc -std=c11 -O1 -Isrc -I/usr/include/stb -D_GNU_SOURCE \
 *     -o build/prior-collapse scripts/prior-collapse.c build/obj/native/libprime.a -lm -lz -pthread -fopenmp
 *   build/prior-collapse models/inpaint-mnist.pvae [SEEDS]
 */
#include <stdio.h>
#include <stdlib.h>

#include "prime.h"
#include "prime_vae_internal.h"

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: prior-collapse MODEL.pvae [SEEDS]\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    fclose(f);
    prime_vae *v = prime_vae_load(b, (size_t)n);
    free(b);
    if (!v) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    int seeds = argc > 2 ? atoi(argv[2]) : 16, collapsed = 0;
    for (int s = 1; s <= seeds; s++) {
        prime_vae_result r;
        if (prime_vae_generate(v, (uint64_t)s, &r) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
        int ones = 0;
        double q = 0;
        for (int d = 0; d < v->a.latent; d++) ones += v->z[d] > 0, q += v->q[d];
        collapsed += ones == 0;
        printf("seed %3d: latent bits on at the last step %3d of %d, mean prior rate q %.3f%s\n", s, ones,
               v->a.latent, q / v->a.latent, ones == 0 ? "  <- collapsed to z = 0" : "");
    }
    printf("%d of %d seeds collapsed to z = 0\n", collapsed, seeds);
    prime_vae_free(v);
    return 0;
}
