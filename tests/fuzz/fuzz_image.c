/* fuzz_image.c - libFuzzer harness: image bytes through prime_image_decode
 * (our header check, then stb_image, grayscale, resize). The first byte picks
 * the output size (1..32 square, or 28x28 inverted as the page does) so both
 * the shrinking and the enlarging resize run. docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static float out[32 * 32];
    int sel = data[0], side = 1 + (sel & 31), invert = sel >> 7;
    prime_image_decode(data + 1, size - 1, side, side, invert, out);
    return 0;
}
