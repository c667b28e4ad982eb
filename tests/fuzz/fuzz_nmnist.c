/* fuzz_nmnist.c - libFuzzer harness: an N-MNIST event file through
 * prime_nmnist_parse, then write (must give back the same bytes for a file
 * that parsed, up to whole events) and binning into T frames (T from the
 * first byte, sensor 34). docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    prime_event *ev = NULL;
    size_t count = 0;
    if (prime_nmnist_parse(data, size, &ev, &count) != 0) return 0;
    uint8_t *out = NULL;
    size_t n = 0;
    if (prime_nmnist_write(ev, count, &out, &n) == 0) prime_free_buffer(out);
    int T = size ? 1 + data[0] % 16 : 1;
    static float frames[16 * 2 * 34 * 34];
    prime_events_bin(ev, count, T, 34, frames);
    prime_free_buffer(ev);
    return 0;
}
