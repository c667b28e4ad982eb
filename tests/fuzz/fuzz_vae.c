/* fuzz_vae.c - libFuzzer harness: a .pvae inpainting model through
 * prime_vae_load; if it loads and is small, one inpaint of a test image.
 * docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    prime_vae *v = prime_vae_load(data, size);
    if (!v) return 0;
    const prime_vae_arch *a = prime_vae_get_arch(v);
    if (a->size <= 16 && a->ch <= 8 && a->latent <= 64 && a->T <= 4) {
        size_t np = (size_t)a->size * a->size;
        float *img = malloc(np * sizeof *img);
        for (size_t i = 0; i < np; i++) img[i] = (float)(data[i % size]) / 127.5f - 1.0f;
        prime_vae_result r;
        prime_vae_inpaint(v, img, NULL, &r);
        free(img);
    }
    prime_vae_free(v);
    return 0;
}
