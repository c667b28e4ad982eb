/* fuzz_tensors.c - libFuzzer harness: the tensor readers of the importer through
 * prime_tensors_read (a torch.save .pt zip with its bounded pickle reader, a
 * stored or compressed .npz through the shared zip reader and inflate, a .npy).
 * Every tensor it returns must be readable to its last element. docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    prime_tensor_list list;
    if (prime_tensors_read(data, size, &list) == 0) {
        volatile float s = 0;
        for (int i = 0; i < list.n; i++) {
            const prime_tensor *t = &list.t[i];
            size_t count = 1;
            for (int d = 0; d < t->ndim; d++) count *= (size_t)t->shape[d];
            if (count != t->count) __builtin_trap(); /* the shape and the count must agree */
            for (size_t k = 0; k < t->count; k++) s += t->data[k];
        }
        (void)s;
        prime_tensors_free(&list);
    }
    return 0;
}
