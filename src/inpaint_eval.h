/* inpaint_eval.h - metrics of the inpainting network over a set of images
 * (native only; used by prime-results and prime-train_vae --eval).
 *
 *     prime_inpaint_stats st;
 *     float *comp = malloc(n * 1024 * sizeof(float));
 *     prime_inpaint_eval(model_bytes, nbytes, x, n, NULL, 0.05f, 1, 0, 2, &st, comp);
 *     // st.mse, st.psnr (hole), st.ssim (composite), st.steps, st.energy_pj ...
 *     // comp: the composites (known pixels from x, hole from the network)
 */
#ifndef PRIME_INPAINT_EVAL_H
#define PRIME_INPAINT_EVAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int n;                         /* images */
    int T;                         /* timesteps of the model (0 for a fill) */
    double mse, psnr, ssim;        /* means: hole MSE, hole PSNR (dB), SSIM of the composite */
    double steps;                  /* mean timesteps used */
    double energy_pj, baseline_pj; /* mean energy per image on the macro; dense digital baseline */
} prime_inpaint_stats;

/* Marks the rectangle [x, x+w) x [y, y+h) of a size x size hole mask (1 =
 * unknown), clipped to the image; other pixels are left as they are. */
void prime_inpaint_rect(uint8_t *hole, int size, int x, int y, int w, int h);

/* Inpaints n images x (size*size each, [-1, 1]) with the .pvae model in
 * `model` on nthreads threads (1..16) at read noise `noise`, early-stop
 * policy `policy` (0 none, 1 convergence) with threshold m_th (<= 0: the
 * default 0.2; other run fields default). hole:
 * size*size bytes, NULL = centre 8x8. Image i draws its read noise and latent
 * samples from seeds derived from i, so results do not depend on the thread
 * count. composite (n*size*size floats, may be NULL) gets the composites.
 * Fills *st (means over the images, summed in image order). 0 or -1. */
int prime_inpaint_eval(const uint8_t *model, size_t nmodel, const float *x, int n, const uint8_t *hole,
                       float noise, int policy, float m_th, int nthreads, prime_inpaint_stats *st, float *composite);

/* The same metrics when the hole is filled with a constant (no network):
 * the trivial references. composite may be NULL. 0 or -1. */
int prime_inpaint_fill(const float *x, int n, int size, const uint8_t *hole, float value,
                       prime_inpaint_stats *st, float *composite);

#ifdef __cplusplus
}
#endif
#endif
