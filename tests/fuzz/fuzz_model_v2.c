/* fuzz_model_v2.c - libFuzzer harness for model files of version 2 (masks +
 * conductance maps, docs/model-format.md): the input through prime_load; a
 * file that loads must save to the same bytes and load again. Seeds: any
 * version-2 file (tests/c/test_model_v2.c makes them with prime_save after
 * prime_set_conductances). Build like the other harnesses of tests/fuzz/
 * (clang -fsanitize=fuzzer,address,undefined with the core sources of the
 * Makefile's CORE_SRC); with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the
 * CRC is not fatal, so mutations reach the conductance section. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    prime_ctx *c = prime_load(data, size);
    if (!c) return 0;
    uint8_t *b = NULL, *b2 = NULL;
    size_t n = 0, n2 = 0;
    if (prime_save(c, &b, &n) != 0) abort(); /* a loaded model always saves */
    prime_ctx *c2 = prime_load(b, n);
    if (!c2 || prime_save(c2, &b2, &n2) != 0 || n2 != n || memcmp(b, b2, n) != 0) abort(); /* save is a fixed point */
    prime_free_buffer(b), prime_free_buffer(b2);
    prime_free(c2), prime_free(c);
    return 0;
}
