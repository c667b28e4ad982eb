/* classifier.h - the small image classifier behind the Inception Score of
 * the inpainting results (native only; stands in for the Inception network).
 *
 * A one-hidden-layer perceptron on 32x32 images in [-1, 1] (the inpainting
 * convention): x' = (x + 1) / 2, h = ReLU(W1 x' + b1), p = softmax(W2 h + b2).
 * Trained by Adam on cross-entropy, single-threaded, in a fixed order, with
 * every random draw a function of the seed: the same command gives the same
 * bytes. File format (.pclf) in classifier.c, closed by a CRC-32.
 *
 *     prime_clf *c = prime_clf_create(32, 256, 10, seed);
 *     prime_clf_params p = prime_clf_default_params();
 *     for (int e = 0; e < p.epochs; e++) prime_clf_train_epoch(c, x, y, n, e, &p, &loss);
 *     prime_clf_predict(c, imgs, m, probs);              // m x 10 probabilities
 *     double is = prime_inception_score(probs, m, 10);   // exp(E KL(p(y|x) || p(y)))
 *     prime_clf_free(c);
 */
#ifndef PRIME_CLASSIFIER_H
#define PRIME_CLASSIFIER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int side;       /* input side (32): side*side pixels in [-1, 1] */
    int hidden;     /* hidden ReLU units (256 in the shipped models) */
    int classes;    /* outputs (10) */
    char name[16];  /* what it was trained on ("mnist", "fashion"), NUL-padded */
    float test_acc; /* test accuracy recorded by the trainer, % (-1: unknown) */
} prime_clf_arch;

typedef struct {
    float lr;       /* Adam learning rate, cosine-decayed to 0 over all epochs (2e-3) */
    int batch;      /* minibatch (64) */
    int epochs;     /* length of the cosine schedule (8) */
    int shift;      /* augmentation: random shift of each image by up to +-shift pixels (2) */
    uint64_t seed;  /* data order (init takes the seed of prime_clf_create) */
} prime_clf_params;

typedef struct prime_clf prime_clf;

prime_clf_params prime_clf_default_params(void);
/* He-uniform weights from seed, zero biases; NULL on bad sizes / no memory. */
prime_clf *prime_clf_create(int side, int hidden, int classes, uint64_t seed);
void prime_clf_free(prime_clf *c);
prime_clf_arch *prime_clf_get_arch(prime_clf *c); /* owned by c; name/test_acc writable */
/* One epoch (shuffled by p->seed and epoch) over n images x (side*side each)
 * with labels y; *loss (may be NULL) = mean cross-entropy. 0 or -1. */
int prime_clf_train_epoch(prime_clf *c, const float *x, const uint8_t *y, int n, int epoch,
                          const prime_clf_params *p, double *loss);
/* Class probabilities of n images: probs[n][classes]. 0 or -1. */
int prime_clf_predict(const prime_clf *c, const float *x, int n, float *probs);
/* Percentage of argmax(probs[i]) == y[i]. */
double prime_clf_accuracy(const float *probs, const uint8_t *y, int n, int classes);
/* Serializes to *out (malloc'ed, caller frees with free()); 0 or -1. */
int prime_clf_save(const prime_clf *c, uint8_t **out, size_t *n);
/* Parses a .pclf file; NULL with prime_last_error() on a bad file. */
prime_clf *prime_clf_load(const uint8_t *bytes, size_t n);

/* Inception Score of n probability rows over K classes, as one split:
 * exp(mean_i KL(p_i || mean_j p_j)); 1 for identical rows, K for confident
 * predictions spread evenly over K classes. -1 on bad arguments. */
double prime_inception_score(const float *probs, int n, int K);

#ifdef __cplusplus
}
#endif
#endif
