/* check.h - the test harness of every C test (tests/c/test_*.c, tests/c/golden.c).
 *
 *   #include "check.h"
 *   CHECK(cond, "what, with %d values", v);   counts; prints file:line and the message on failure
 *   CHECKV(cond, "what")                      the same, and prints the message when it passes too
 *   CHECK_INT(got, want, "what")              integers equal; on failure prints both
 *   CHECK_NEAR(got, want, tol, "what")        |got - want| <= tol; prints both and the difference
 *   CHECK_STR(got, want, "what")              strings equal; prints both
 *   CHECK_DATA(have, "what is missing")       data a test needs: without it, a note
 *                                             ("skip"), but a failure when CI=true
 *   return check_summary();                   "N passed, N failed" on its own line
 *                                             (the form the CI reads); exit code 1 on failure
 *
 * Header-only, one copy per test program (static counters). */
#ifndef PRIME_TEST_CHECK_H
#define PRIME_TEST_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_passed_, check_failed_;

/* Counts one check; on failure (or when verbose) prints file:line and the
 * printf-style message. Returns ok. */
static inline int check_report_(int ok, int verbose, const char *file, int line, const char *fmt, ...) {
    if (ok) check_passed_++;
    else check_failed_++;
    if (ok && !verbose) return ok;
    printf("%s %s:%d: ", ok ? "ok  " : "FAIL", file, line);
    va_list a;
    va_start(a, fmt);
    vprintf(fmt, a);
    va_end(a);
    printf("\n");
    fflush(stdout);
    return ok;
}

/* The condition is evaluated before the message's arguments (comma operator),
 * so a message may show prime_last_error() as the condition left it. */
static int check_ok_ __attribute__((unused));
#define CHECK(cond, ...) (check_ok_ = !!(cond), check_report_(check_ok_, 0, __FILE__, __LINE__, __VA_ARGS__))
#define CHECKV(cond, ...) (check_ok_ = !!(cond), check_report_(check_ok_, 1, __FILE__, __LINE__, __VA_ARGS__))

/* Counts one comparison; on failure prints file:line, the message and both
 * values (text made by the CHECK_INT/NEAR/STR macros). Returns ok. */
static inline int check_values_(int ok, const char *file, int line, const char *values, const char *fmt, ...) {
    if (ok) { check_passed_++; return ok; }
    check_failed_++;
    printf("FAIL %s:%d: ", file, line);
    va_list a;
    va_start(a, fmt);
    vprintf(fmt, a);
    va_end(a);
    printf(" (%s)\n", values);
    fflush(stdout);
    return ok;
}

#define CHECK_INT(got, want, ...)                                                              \
    do {                                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);                               \
        char v_[256];                                                                          \
        snprintf(v_, sizeof v_, "%s == %s: got %lld, want %lld", #got, #want, g_, w_);         \
        check_values_(g_ == w_, __FILE__, __LINE__, v_, __VA_ARGS__);                          \
    } while (0)

#define CHECK_NEAR(got, want, tol, ...)                                                        \
    do {                                                                                       \
        double g_ = (double)(got), w_ = (double)(want), t_ = (double)(tol);                    \
        char v_[256];                                                                          \
        snprintf(v_, sizeof v_, "%s ~ %s: got %.17g, want %.17g, |diff| %.3g, tolerance %.3g", \
                 #got, #want, g_, w_, fabs(g_ - w_), t_);                                      \
        check_values_(fabs(g_ - w_) <= t_, __FILE__, __LINE__, v_, __VA_ARGS__);               \
    } while (0)

#define CHECK_STR(got, want, ...)                                                              \
    do {                                                                                       \
        const char *g_ = (got), *w_ = (want);                                                  \
        char v_[512];                                                                          \
        snprintf(v_, sizeof v_, "%s == %s: got \"%s\", want \"%s\"", #got, #want,             \
                 g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                      \
        check_values_(g_ && w_ && !strcmp(g_, w_), __FILE__, __LINE__, v_, __VA_ARGS__);       \
    } while (0)

/* 1 when the test runs in CI (CI=true): missing data is then a failure. */
static inline int check_in_ci_(void) {
    const char *ci = getenv("CI");
    return ci && (!strcmp(ci, "true") || !strcmp(ci, "1"));
}

/* Data a test needs: returns have. Without it, prints a skip note, or under
 * CI=true counts a failure (file:line and why). */
#define CHECK_DATA(have, ...) check_data_(!!(have), __FILE__, __LINE__, __VA_ARGS__)
static inline int check_data_(int have, const char *file, int line, const char *fmt, ...) {
    if (have) return 1;
    int ci = check_in_ci_();
    if (ci) check_failed_++;
    printf("%s %s:%d: data missing (%s): ", ci ? "FAIL" : "skip", file, line,
           ci ? "CI=true: a failure" : "set CI=true to fail instead");
    va_list a;
    va_start(a, fmt);
    vprintf(fmt, a);
    va_end(a);
    printf("\n");
    return 0;
}

/* Prints "N passed, N failed" on its own line; returns the exit code (1 on failure). */
static inline int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ != 0;
}

#endif /* PRIME_TEST_CHECK_H */
