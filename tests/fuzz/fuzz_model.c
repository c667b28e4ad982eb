/* fuzz_model.c - libFuzzer harness: a .prime model file through prime_load;
 * if it loads and is small, a save/load round trip and one classification of
 * a 1-step input made from the file's bytes. Built with
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
        uint8_t *out;
        size_t n;
        if (prime_save(c, &out, &n) == 0) {
            prime_ctx *d = prime_load(out, n);
            if (!d) __builtin_trap(); /* what we save must load */
            prime_free(d);
            prime_free_buffer(out);
        }
    }
    prime_free(c);
    return 0;
}
