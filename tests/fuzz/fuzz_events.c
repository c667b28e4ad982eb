/* fuzz_events.c - libFuzzer harness: event-synthesizer parameters and a
 * small image from the fuzz bytes through prime_events_from_image, then
 * prime_events_bin with a fuzzed T and size. The parameter struct is filled
 * field by field from raw bytes (any float, NaN and infinities included);
 * the synthesizer runs only when the work it would do is small (sensor
 * side^2 x sub-steps per saccade <= 2,400, <= 0.3 s recorded, noise below
 * 20 events per pixel per second), so one input never
 * takes long: the cost at the documented limits is measured elsewhere.
 * docs/fuzzing.md. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_in in = {data, size, 0};
    prime_event_params p = prime_default_event_params();
    int which = fz_u8(&in);
    if (which & 1) fz_take(&in, &p.size, sizeof p.size);
    if (which & 2) fz_take(&in, &p.contrast, sizeof p.contrast);
    if (which & 4) fz_take(&in, &p.noise_rate, sizeof p.noise_rate);
    if (which & 8) fz_take(&in, &p.duration_us, sizeof p.duration_us);
    if (which & 16) fz_take(&in, &p.steps_per_saccade, sizeof p.steps_per_saccade);
    if (which & 32) fz_take(&in, &p.amplitude, sizeof p.amplitude);
    if (which & 64) fz_take(&in, &p.seed, sizeof p.seed);
    int w = 1 + fz_u8(&in) % 40, h = 1 + fz_u8(&in) % 40;
    int T = (int)(int8_t)fz_u8(&in), bsize = (int)(int16_t)(fz_u8(&in) | fz_u8(&in) << 8);
    static float img[40 * 40];
    for (int i = 0; i < w * h; i++) img[i] = fz_u8(&in) / 255.0f;
    int small = p.size <= 64 && p.steps_per_saccade <= 400 && p.duration_us <= 300000 && !(p.noise_rate >= 20) &&
                (p.size < 1 || p.steps_per_saccade < 1 || p.size * p.size * p.steps_per_saccade <= 2400);
    if (!small) return 0; /* negative and zero values still reach the checks */
    prime_event *ev = NULL;
    size_t count = 0;
    if (prime_events_from_image(img, w, h, &p, &ev, &count) != 0) return 0;
    if (bsize > 0 && bsize <= 64 && T > 0 && T <= PRIME_MAX_T) {
        float *frames = malloc((size_t)T * 2 * bsize * bsize * sizeof *frames);
        prime_events_bin(ev, count, T, bsize, frames);
        free(frames);
    } else if (T < 1 || bsize < 1 || bsize > 4096) {
        static float one[1];
        prime_events_bin(ev, count, T, bsize, one); /* must refuse the sizes, never write */
    }
    prime_free_buffer(ev);
    return 0;
}
