/* fuzz_npy.c - libFuzzer harness: a NumPy .npy array through prime_npy_read.
 * docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    float *arr = NULL;
    int shape[8], nd = 0;
    if (prime_npy_read(data, size, &arr, shape, &nd) == 0) {
        size_t count = 1;
        for (int i = 0; i < nd; i++) count *= (size_t)shape[i];
        volatile float s = 0;
        for (size_t i = 0; i < count; i++) s += arr[i]; /* every element readable */
        (void)s;
        prime_free_buffer(arr);
    }
    return 0;
}
