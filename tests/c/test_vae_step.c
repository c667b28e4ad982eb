/* test_vae_step.c - step mode of the inpainting network (prime_vae_begin /
 * prime_vae_step / prime_vae_result_get): the same bits as prime_vae_inpaint
 * (result, every step's image) with read noise, early stop on and off, on a
 * shipped model; the calls out of order are clear errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data.h"
#include "pmath.h"
#include "prime.h"

static void test_same_bits(const char *file) {
    uint8_t *b = NULL;
    size_t n = 0;
    if (!CHECK(prime_read_file(file, &b, &n) == 0, "%s is readable (run from the repository root)", file)) return;
    prime_vae *v = prime_vae_load(b, n);
    free(b);
    if (!CHECK(v != NULL, "%s loads: %s", file, prime_last_error())) return;
    const prime_vae_arch *a = prime_vae_get_arch(v);
    const int np = a->size * a->size;
    float *img = malloc((size_t)np * sizeof(float)), *imgs = malloc((size_t)a->T * np * sizeof(float));
    for (int p = 0; p < np; p++) img[p] = (float)(2 * prime_rand_uniform(4, 1, (uint64_t)p) - 1);
    for (int stop = 0; stop < 2; stop++) {
        prime_device d = prime_vae_get_device(v);
        d.read_noise = 0.05f;
        prime_vae_run r = prime_vae_default_run();
        r.policy = stop ? PRIME_VAE_STOP_CONVERGENCE : PRIME_VAE_STOP_NONE;
        prime_vae_set_device(v, &d), prime_vae_set_run(v, &r); /* set_run restarts the pass counter */
        prime_vae_result ri, rs;
        CHECK(prime_vae_inpaint(v, img, NULL, &ri) == 0, "inpaint");
        for (int t = 0; t < ri.steps_used; t++) memcpy(imgs + (size_t)t * np, prime_vae_recon(v, t), (size_t)np * sizeof(float));
        prime_vae_set_run(v, &r);
        CHECK(prime_vae_begin(v, img, NULL) == 0, "begin");
        int steps = 0, same_imgs = 1, k;
        while ((k = prime_vae_step(v)) == 1) {
            same_imgs &= !memcmp(prime_vae_recon(v, steps), imgs + (size_t)steps * np, (size_t)np * sizeof(float));
            steps++;
            if (steps > a->T) break;
        }
        CHECK(prime_vae_result_get(v, &rs) == 0 && k == 0, "the steps end with 0 (%d)", k);
        CHECK(steps == ri.steps_used && !memcmp(&rs, &ri, sizeof rs) && same_imgs,
              "%s, early stop %s: %d steps, the result and every image equal prime_vae_inpaint's (%d steps, %.6g pJ / %.6g pJ)",
              file, stop ? "on" : "off", steps, ri.steps_used, rs.energy_pj, ri.energy_pj);
        CHECK_INT(prime_vae_step(v), 0, "a step after the pass ended runs nothing");
    }
    prime_vae_arch sa = *a;
    sa.ch = 2, sa.latent = 4, sa.k = 2, sa.T = 2, sa.size = 8;
    prime_device dd = prime_vae_default_device();
    prime_vae *w = prime_vae_create(&sa, &dd);
    CHECK(w && prime_vae_step(w) == -1 && strstr(prime_last_error(), "prime_vae_begin first"), "step before begin: %s",
          prime_last_error());
    float bad[64];
    for (int p = 0; p < 64; p++) bad[p] = p == 9 ? 3.0f : 0.0f;
    CHECK(w && prime_vae_begin(w, bad, NULL) == -1 && strstr(prime_last_error(), "pixel 9"), "begin with a bad pixel: %s",
          prime_last_error());
    prime_vae_free(w);
    free(img), free(imgs);
    prime_vae_free(v);
}

int main(void) {
    test_same_bits("models/inpaint-mnist.pvae");
    test_same_bits("models/inpaint-fashion-software.pvae");
    return check_summary();
}
