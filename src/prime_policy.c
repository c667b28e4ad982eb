/* prime_policy.c - the early-stop policies (docs/architecture.md):
 * confidence (classification: stop when the softmax of the mean logits is
 * sure enough) and convergence (inpainting: stop when the reconstruction has
 * settled, m_t of the PRIME paper, arXiv 2407.18625). */
#include "pmath.h"
#include "prime.h"
#include "prime_internal.h"

/* Max of softmax(sum[k] / t / alpha) and its argmax (see prime_internal.h). */
float prime_policy_confidence(const float *sum, int K, int t, float alpha, int *label) {
    double lg[PRIME_MAX_CLASSES], mx = -1e300, den = 0;
    int best = 0;
    for (int k = 0; k < K; k++) {
        lg[k] = (double)(sum[k] / (float)t) / alpha;
        if (lg[k] > mx) mx = lg[k], best = k;
    }
    for (int k = 0; k < K; k++) den += prime_exp(lg[k] - mx);
    *label = best;
    return (float)(1.0 / den);
}

/* 1 when the convergence measure m[t] is below th after `window` decreases. */
int prime_policy_converged(const float *m, int t, float th, int window) {
    if (t < window + 1 || !(m[t] < th)) return 0;
    for (int j = 0; j < window; j++)
        if (!(m[t - j] < m[t - j - 1])) return 0;
    return 1;
}
