/* fuzz_device.c - libFuzzer harness: device and run parameters from raw
 * bytes (any float, NaN and infinities included) through prime_device_check,
 * prime_set_device (re-forming the chip when a forming field changed),
 * prime_set_run and a 2-step classification of the tiny network; the
 * inpainting network's prime_vae_set_device gets the same device. The
 * networks are created once and reused, as the page does; the rest of the
 * input, as `key=value` lines, sets device effects (src/device_opts.h) on
 * both. docs/fuzzing.md. */
#include "fuzz_common.h"
#include "device_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static prime_ctx *c;
    static prime_vae *v;
    if (!c) {
        prime_arch a = fuzz_tiny_arch();
        prime_device d = prime_default_device();
        prime_vae_arch va = fuzz_tiny_vae_arch();
        prime_device vd = prime_vae_default_device();
        c = prime_create(&a, &d);
        v = prime_vae_create(&va, &vd);
        if (!c || !v) __builtin_trap();
    }
    fuzz_in in = {data, size, 0};
    prime_device d = prime_get_device(c);
    uint32_t mask = fz_u32(&in);
    /* overwrite a chosen subset of the device's 4-byte words (chip_seed is 8) */
    uint8_t *raw = (uint8_t *)&d;
    for (size_t k = 0; k * 4 < sizeof d && k < 32; k++)
        if (mask >> k & 1) fz_take(&in, raw + 4 * k, 4);
    prime_device_check(&d);
    int dev_ok = prime_set_device(c, &d) == 0;
    prime_run r = prime_get_run(c);
    uint8_t rm = fz_u8(&in);
    if (rm & 1) fz_take(&in, &r.policy, sizeof r.policy);
    if (rm & 2) fz_take(&in, &r.alpha, sizeof r.alpha);
    if (rm & 4) fz_take(&in, &r.threshold, sizeof r.threshold);
    if (rm & 8) fz_take(&in, &r.min_steps, sizeof r.min_steps);
    if (rm & 16) fz_take(&in, &r.noise_seed, sizeof r.noise_seed);
    prime_set_run(c, &r);
    int T = 1 + fz_u8(&in) % 2;
    static float x[2 * 2 * 8 * 8];
    for (int i = 0; i < 2 * 2 * 64; i++) x[i] = (float)(fz_u8(&in) & 3);
    /* the rest as `key=value` lines of the device effects (src/device_opts.h),
     * all or nothing, on both networks */
    if (rm & 64) {
        static char text[1024];
        const char *kv[16];
        size_t n = in.n - in.at < sizeof text - 1 ? in.n - in.at : sizeof text - 1;
        fz_take(&in, text, n);
        text[n] = 0;
        int m = 0;
        for (char *p = text; m < 16;) {
            kv[m++] = p;
            char *e = strchr(p, '\n');
            if (!e) break;
            *e = 0, p = e + 1;
        }
        if (prime_set_device_options(c, kv, m) == 0) dev_ok = 1;
        prime_vae_set_device_options(v, kv, m);
        if (rm & 128) { const char *off[] = {"preset=off"}; prime_set_device_options(c, off, 1); }
    }
    prime_result res;
    if (dev_ok) prime_classify(c, x, T, &res);
    if (rm & 32) prime_vae_set_device(v, &d);
    return 0;
}
