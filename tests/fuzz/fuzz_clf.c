/* fuzz_clf.c - libFuzzer harness: a .pclf classifier file through
 * prime_clf_load (src/classifier.c). The file's CRC-32 is stamped over the
 * mutated bytes first, so mutations reach the parser behind the checksum;
 * if it loads and is small, one prediction. docs/fuzzing.md. */
#include <zlib.h>

#include "classifier.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    if (size >= 8) {
        uint32_t crc = (uint32_t)crc32(0L, b, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) b[size - 4 + i] = (uint8_t)(crc >> (8 * i)); /* little-endian, as the file */
    }
    prime_clf *c = prime_clf_load(b, size);
    if (c) {
        prime_clf_arch *a = prime_clf_get_arch(c);
        size_t np = (size_t)a->side * a->side;
        if (np <= 4096 && a->hidden <= 512) {
            float *x = malloc((np ? np : 1) * sizeof *x), p[PRIME_MAX_CLASSES];
            for (size_t i = 0; i < np; i++) x[i] = (float)(data[i % size]) / 127.5f - 1.0f;
            prime_clf_predict(c, x, 1, p);
            free(x);
        }
        prime_clf_free(c);
    }
    free(b);
    return 0;
}
