/* fuzz_npz.c - libFuzzer harness: a NumPy .npz archive imported by
 * prime_import_npz into the tiny network (masks, weights, conductance maps),
 * then one classification. The network is created once and reused. docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static prime_ctx *c;
    if (!c) {
        prime_arch a = fuzz_tiny_arch();
        prime_device d = prime_default_device();
        c = prime_create(&a, &d);
        if (!c) __builtin_trap();
    }
    if (prime_import_npz(c, data, size) > 0) {
        static float x[2 * 8 * 8];
        for (int i = 0; i < 128; i++) x[i] = (float)(i % 3);
        prime_result r;
        prime_classify(c, x, 1, &r);
    }
    return 0;
}
