/* prime_batch.c - many inputs in one call, on as many threads as asked.
 *
 * prime_classify_batch(c, inputs, n, T, res, threads) gives exactly what n
 * consecutive prime_classify calls on c give: sample i is inference number
 * c's next + i, which keys its read-noise stream (prime_xread.inference), so
 * every sample draws the noise of the one-at-a-time path whatever thread runs
 * it, and the results are the same bits at any thread count. The extra
 * threads run on worker contexts (prime_ctx_worker: c's weights, their own
 * state); samples are handed out one at a time from a shared counter (early
 * stop makes their cost uneven). The calling thread runs the last sample on c
 * itself, so c is left as after the sequential calls (prime_layer_state, the
 * next inference number). Where threads cannot start (wasm without pthreads)
 * the calling thread runs them all.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prime.h"
#include "prime_internal.h"

#define BATCH_MAX_THREADS 256

typedef struct {
    prime_ctx *base;         /* the caller's context (for the arch) */
    const float *inputs;
    const float *mx;         /* largest |x| of each input (checked) */
    size_t per;              /* floats per sample */
    int n, T;
    uint64_t first;          /* inference number of sample 0 */
    prime_result *res;
    atomic_int next;         /* next sample to hand out (the last is the caller's) */
    atomic_int failed;
    pthread_mutex_t lock;    /* guards err */
    char err[512];
} batch_job;

typedef struct {
    batch_job *job;
    prime_ctx *ctx;
} batch_worker;

/* Classifies samples from the shared counter on ctx until none is left
 * (or one failed); the first failure's message goes to job->err. */
static void run_samples(batch_job *j, prime_ctx *ctx) {
    for (;;) {
        const int i = atomic_fetch_add(&j->next, 1);
        if (i >= j->n - 1 || atomic_load(&j->failed)) return;
        ctx->inference = j->first + (uint64_t)i;
        if (prime_classify_checked(ctx, j->inputs + (size_t)i * j->per, j->T, j->mx[i], &j->res[i]) != 0) {
            pthread_mutex_lock(&j->lock);
            if (!atomic_load(&j->failed)) snprintf(j->err, sizeof j->err, "batch sample %d: %s", i, prime_last_error());
            atomic_store(&j->failed, 1);
            pthread_mutex_unlock(&j->lock);
            return;
        }
    }
}

static void *worker_main(void *arg) {
    batch_worker *w = arg;
    run_samples(w->job, w->ctx);
    return NULL;
}

/* The inference number of the next input (it keys the read-noise stream). */
uint64_t prime_get_inference(const prime_ctx *c) { return c ? c->inference : 0; }
/* Sets it (a worker continues another context's stream); 0 or -1. */
int prime_set_inference(prime_ctx *c, uint64_t next) {
    if (!c) return prime_error("prime_set_inference: NULL context");
    if (next >> 53) return prime_error("inference number %llu out of 0..2^53 - 1", (unsigned long long)next);
    c->inference = next;
    return 0;
}

/* Number of cores online (at least 1). */
int prime_cpu_count(void) {
#ifdef _SC_NPROCESSORS_ONLN
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n >= 1) return n > BATCH_MAX_THREADS ? BATCH_MAX_THREADS : (int)n;
#endif
    return 1;
}

/* Classifies n inputs [n][T][C][H][W] into res[n] with up to `threads`
 * threads (0 = one per core); 0 or -1 (see the top of this file). */
int prime_classify_batch(prime_ctx *c, const float *inputs, int n, int T, prime_result *res, int threads) {
    if (!c) return prime_error("prime_classify_batch: NULL context");
    if (n < 0) return prime_error("prime_classify_batch: n = %d is negative", n);
    if (n == 0) return 0;
    if (!inputs || !res) return prime_error("prime_classify_batch: NULL argument");
    if (T < 1 || T > PRIME_MAX_T) return prime_error("T = %d out of 1..%d", T, PRIME_MAX_T);
    if (threads < 0 || threads > BATCH_MAX_THREADS)
        return prime_error("prime_classify_batch: threads = %d out of 0..%d (0 = one per core)", threads, BATCH_MAX_THREADS);
    if (threads == 0) threads = prime_cpu_count();
    const size_t per = (size_t)T * c->n_in;
    /* every input is checked before anything runs: a bad one costs nothing */
    float *mx = malloc((size_t)n * sizeof(float));
    if (!mx) return prime_error("out of memory for a batch of %d", n);
    for (int i = 0; i < n; i++) {
        if (prime_input_check(inputs + (size_t)i * per, per, &mx[i]) != 0) {
            char msg[480];
            snprintf(msg, sizeof msg, "%s", prime_last_error());
            free(mx);
            return prime_error("batch sample %d: %s", i, msg);
        }
    }
    batch_job j = {.base = c, .inputs = inputs, .mx = mx, .per = per, .n = n, .T = T, .first = c->inference, .res = res};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    pthread_mutex_init(&j.lock, NULL);
    if (threads > n - 1) threads = n - 1 > 0 ? n - 1 : 1;
    batch_worker w[BATCH_MAX_THREADS];
    pthread_t tid[BATCH_MAX_THREADS];
    int started = 0;
    for (int k = 1; k < threads; k++) { /* thread 0 is the caller */
        w[started].job = &j;
        w[started].ctx = prime_ctx_worker(c);
        if (!w[started].ctx) break; /* out of memory: fewer threads, same result */
        if (pthread_create(&tid[started], NULL, worker_main, &w[started]) != 0) {
            prime_free(w[started].ctx);
            break; /* no threads here (wasm): the caller runs them */
        }
        started++;
    }
    run_samples(&j, c);
    for (int k = 0; k < started; k++) {
        pthread_join(tid[k], NULL);
        prime_free(w[k].ctx);
    }
    pthread_mutex_destroy(&j.lock);
    int rc = 0;
    if (atomic_load(&j.failed)) rc = prime_error("%s", j.err);
    else { /* the last sample on c: c ends as after n prime_classify calls */
        c->inference = j.first + (uint64_t)(n - 1);
        if (prime_classify_checked(c, inputs + (size_t)(n - 1) * per, T, mx[n - 1], &res[n - 1]) != 0) rc = -1;
    }
    free(mx);
    if (rc) c->inference = j.first; /* nothing counted on error */
    return rc;
}
