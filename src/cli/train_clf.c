/* prime-train_clf - trains the classifier of the Inception Score
 * (src/classifier.h) on MNIST digits or Fashion-MNIST, or evaluates one.
 *
 *   prime-train_clf --data mnist --out models/is-mnist.pclf [--hidden 256] [--epochs 8] [--seed 1]
 *   prime-train_clf --eval models/is-mnist.pclf --data mnist     (accuracy, IS of the test set)
 *
 * Images: the train / test split of src/data.c, resized to 32x32 in [-1, 1].
 * One thread, fixed order: the same command writes the same bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classifier.h"
#include "cli_opts.h"
#include "data.h"
#include "prime.h"

/* Accuracy and IS of c on the test split (limit > 0: the first `limit`). */
static int report(prime_clf *c, const char *data, int limit) {
    float *x;
    uint8_t *y;
    int n = prime_images_load32(data, "test", limit, &x, &y);
    if (n < 0) { fprintf(stderr, "%s\n", prime_last_error()); return -1; }
    prime_clf_arch *a = prime_clf_get_arch(c);
    float *pr = malloc(sizeof(float) * (size_t)n * a->classes);
    prime_clf_predict(c, x, n, pr);
    double acc = prime_clf_accuracy(pr, y, n, a->classes);
    printf("test: %d %s images, accuracy %.2f %%, Inception Score of the clean test images %.3f (one split)\n", n, data,
           acc, prime_inception_score(pr, n, a->classes));
    a->test_acc = (float)acc;
    free(pr), free(x), free(y);
    return 0;
}

int main(int argc, char **argv) {
    const char *data = "mnist", *out = NULL, *eval = NULL;
    prime_clf_params p = prime_clf_default_params();
    int hidden = 256, train_limit = 0, test_limit = 0;
    const cli_opt opts[] = {
        {"--data", CLI_STR, &data, NULL}, {"--out", CLI_STR, &out, NULL}, {"--eval", CLI_STR, &eval, NULL},
        {"--hidden", CLI_INT, &hidden, NULL}, {"--epochs", CLI_INT, &p.epochs, NULL}, {"--batch", CLI_INT, &p.batch, NULL},
        {"--lr", CLI_FLOAT, &p.lr, NULL}, {"--shift", CLI_INT, &p.shift, NULL}, {"--seed", CLI_U64, &p.seed, NULL},
        {"--train-limit", CLI_INT, &train_limit, NULL}, {"--test-limit", CLI_INT, &test_limit, NULL}, {NULL, CLI_STR, NULL, NULL}};
    int prc = cli_parse("prime-train_clf", argc, argv, opts);
    if (prc) {
        fprintf(stderr, "usage: prime-train_clf --data mnist|fashion --out FILE [--hidden 256] [--epochs 8] [--batch 64]\n"
                        "                       [--lr 2e-3] [--shift 2] [--seed 1] [--train-limit N] [--test-limit N]\n"
                        "       prime-train_clf --eval FILE --data mnist|fashion [--test-limit N]\n");
        return prc == 1 ? 0 : 2;
    }
    if (eval) {
        uint8_t *b;
        size_t n;
        prime_clf *c = prime_read_file(eval, &b, &n) == 0 ? prime_clf_load(b, n) : NULL;
        if (!c) { fprintf(stderr, "%s: %s\n", eval, prime_last_error()); return 1; }
        free(b);
        printf("%s: %dx%d -> %d -> %d, trained on %s, recorded test accuracy %.2f %%\n", eval, prime_clf_get_arch(c)->side,
               prime_clf_get_arch(c)->side, prime_clf_get_arch(c)->hidden, prime_clf_get_arch(c)->classes,
               prime_clf_get_arch(c)->name, prime_clf_get_arch(c)->test_acc);
        int rc = report(c, data, test_limit);
        prime_clf_free(c);
        return rc ? 1 : 0;
    }
    if (!out) { fprintf(stderr, "--out FILE or --eval FILE required (--help)\n"); return 2; }
    float *x;
    uint8_t *y;
    int n = prime_images_load32(data, "train", train_limit, &x, &y);
    if (n < 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    prime_clf *c = prime_clf_create(32, hidden, 10, p.seed);
    if (!c) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
    snprintf(prime_clf_get_arch(c)->name, 16, "%s", data);
    printf("IS classifier on %s: %d train images, 32x32 -> %d -> 10, Adam lr %g cosine, batch %d, %d epochs, shift %d, seed %llu\n",
           data, n, hidden, p.lr, p.batch, p.epochs, p.shift, (unsigned long long)p.seed);
    clock_t t0 = clock();
    for (int e = 0; e < p.epochs; e++) {
        double loss;
        if (prime_clf_train_epoch(c, x, y, n, e, &p, &loss) != 0) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
        printf("  epoch %d: train loss %.4f (%.0f s CPU)\n", e, loss, (double)(clock() - t0) / CLOCKS_PER_SEC);
        fflush(stdout);
    }
    free(x), free(y);
    if (report(c, data, test_limit) != 0) return 1;
    uint8_t *b;
    size_t nb;
    FILE *f = prime_clf_save(c, &b, &nb) == 0 ? fopen(out, "wb") : NULL;
    if (!f || fwrite(b, 1, nb, f) != nb) { fprintf(stderr, "cannot write %s\n", out); return 1; }
    fclose(f);
    printf("saved %s (%zu bytes)\n", out, nb);
    free(b);
    prime_clf_free(c);
    return 0;
}
