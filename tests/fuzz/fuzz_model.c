/* fuzz_model.c - libFuzzer harness: a .prime model file through prime_load;
 * if it loads and is small, one classification of a 1-step input made from
 * the file's bytes. Built with
 * -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION (the model CRC is then not
 * fatal, so mutations reach the parser). docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    prime_ctx *c = prime_load(data, size);
    if (!c) return 0;
    const prime_arch *a = prime_get_arch(c);
    size_t in = (size_t)a->in_c * a->in_h * a->in_w;
    if (in <= 4096 && fuzz_arch_weights(a) <= (1u << 20)) {
        float *x = malloc(in * sizeof *x);
        for (size_t i = 0; i < in; i++) x[i] = (float)(data[i % size] & 3);
        prime_result r;
        prime_classify(c, x, 1, &r);
        free(x);
    }
    prime_free(c);
    return 0;
}
