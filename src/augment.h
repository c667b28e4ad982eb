/* augment.h - training-set augmentation over the event model (augment.c;
 * native only, used by prime-train --augment).
 *
 * Each augmented copy of an image is synthesized with its own event
 * parameters and image transform, drawn from the counter RNG of pmath.h keyed
 * by (seed, copy, image index): the same set on every build and thread count.
 *
 *     prime_aug_params a = prime_aug_default();   // docs/training.md, "Augmentation"
 *     a.copies = 3;
 *     prime_frames fr;
 *     if (prime_frames_augmented(&im, 10, &a, &fr) != 0) ...prime_last_error()...
 *     // sample c * im.n + i is copy c of image i
 */
#ifndef PRIME_AUGMENT_H
#define PRIME_AUGMENT_H

#include <stdint.h>

#include "data.h"

typedef struct {
    int copies;                 /* variants per image, 1..16 */
    uint64_t seed;              /* draws; copy c of image i uses event seed seed + c * 2^32 + i */
    float p_camera;             /* probability of motion 1 (the camera follows the saccades), 0..1 */
    float contrast_lo, contrast_hi; /* contrast threshold, uniform, 0.02..1 */
    float amp_lo, amp_hi;       /* saccade amplitude, px, uniform, 0..12 */
    float noise_lo, noise_hi;   /* background events per pixel per s, uniform, 0..50 */
    float blur_hi;              /* Gaussian blur of the image, sigma uniform in [0, blur_hi] px, 0..3 */
    int shift;                  /* integer image shift, uniform in [-shift, shift] per axis, 0..4 */
    float gamma_lo, gamma_hi;   /* image gamma v^g (display response), log-uniform, 0.25..4 */
    float drop_hi;              /* events dropped independently with p uniform in [0, drop_hi], 0..0.9 */
} prime_aug_params;

/* The defaults (docs/training.md, "Augmentation"): 1 copy, seed 7, p_camera 0.5,
 * contrast 0.1..0.3, amplitude 2..5 px, noise 0..2 Hz, blur 0..1 px, shift 2,
 * gamma 0.5..2, drop 0..0.3. */
prime_aug_params prime_aug_default(void);
/* Checks every field; 0 or -1 naming the first bad one. */
int prime_aug_check(const prime_aug_params *a);
/* Synthesizes a->copies variants of every image (34 x 34 sensor) into T
 * frames: sample c * im->n + i is copy c of image i, label im->y[i]. Both
 * cores. 0 or -1. */
int prime_frames_augmented(const prime_images *im, int T, const prime_aug_params *a, prime_frames *out);
/* A 64-bit fingerprint of the parameters (cache file names). */
uint64_t prime_aug_hash(const prime_aug_params *a, int T);

#endif
