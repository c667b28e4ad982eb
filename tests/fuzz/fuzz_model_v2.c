/* fuzz_model_v2.c - libFuzzer harness for model files of version 2 (the
 * sectioned container of docs/model-format.md, every network kind): the input
 * through prime_load or prime_vae_load, by its kind word; a file that loads
 * must save to the same bytes and load again (save is a fixed point). Seeds:
 * version-2 classifiers with conductance maps and version-2 inpainting VAEs
 * (macro with a stored map, software), written by make_seeds.c with
 * prime_save / prime_vae_save. Build like the other harnesses of tests/fuzz/
 * (clang -fsanitize=fuzzer,address,undefined with the core sources of the
 * Makefile's CORE_SRC); with -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION the
 * CRC is not fatal, so mutations reach every section. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"

/* save -> load -> save of a loaded model gives the same bytes; aborts otherwise. */
static void fixed_point_clf(prime_ctx *c) {
    uint8_t *b = NULL, *b2 = NULL;
    size_t n = 0, n2 = 0;
    if (prime_save(c, &b, &n) != 0) abort(); /* a loaded model always saves */
    prime_ctx *c2 = prime_load(b, n);
    if (!c2 || prime_save(c2, &b2, &n2) != 0 || n2 != n || memcmp(b, b2, n) != 0) abort();
    prime_free_buffer(b), prime_free_buffer(b2);
    prime_free(c2);
}

static void fixed_point_vae(prime_vae *v) {
    uint8_t *b = NULL, *b2 = NULL;
    size_t n = 0, n2 = 0;
    if (prime_vae_save(v, &b, &n) != 0) abort();
    prime_vae *v2 = prime_vae_load(b, n);
    if (!v2 || prime_vae_save(v2, &b2, &n2) != 0 || n2 != n || memcmp(b, b2, n) != 0) abort();
    prime_free_buffer(b), prime_free_buffer(b2);
    prime_vae_free(v2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (prime_model_kind(data, size) == PRIME_MODEL_VAE) {
        prime_vae *v = prime_vae_load(data, size);
        if (!v) return 0;
        fixed_point_vae(v);
        prime_vae_free(v);
        return 0;
    }
    prime_ctx *c = prime_load(data, size);
    if (!c) return 0;
    fixed_point_clf(c);
    prime_free(c);
    return 0;
}
