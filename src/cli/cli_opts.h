/* cli_opts.h - the option parser of the trainer command lines (prime-train,
 * prime-train_vae, prime-train_clf): a table of "--name" -> typed
 * destination, numbers parsed whole and checked ("--epochs 8x" is refused,
 * not read as 8), an unknown option or a missing value named. Header only:
 * every command-line tool is one source file (Makefile, CLI_NAMES). */
#ifndef PRIME_CLI_OPTS_H
#define PRIME_CLI_OPTS_H

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { CLI_STR, CLI_INT, CLI_FLOAT, CLI_DOUBLE, CLI_U64, CLI_FLAG } cli_type;

typedef struct {
    const char *name; /* "--epochs"; NULL ends the table */
    cli_type type;
    void *dst;        /* const char **, int *, float *, double *, uint64_t *, int * (flag: set to 1) */
    int *set;         /* optional: set to 1 when the option is given */
} cli_opt;

static inline int cli_value(const char *prog, const cli_opt *o, const char *v) {
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case CLI_STR: *(const char **)o->dst = v; return 0;
    case CLI_INT: {
        long x = strtol(v, &end, 10);
        if (end == v || *end || errno || x < INT_MIN || x > INT_MAX) break;
        *(int *)o->dst = (int)x;
        return 0;
    }
    case CLI_U64: {
        if (*v == '-') break;
        unsigned long long x = strtoull(v, &end, 10);
        if (end == v || *end || errno) break;
        *(uint64_t *)o->dst = (uint64_t)x;
        return 0;
    }
    case CLI_FLOAT:
    case CLI_DOUBLE: {
        double x = strtod(v, &end);
        if (end == v || *end || errno || !isfinite(x) || (o->type == CLI_FLOAT && fabs(x) > 3.4e38)) break;
        if (o->type == CLI_FLOAT) *(float *)o->dst = (float)x;
        else *(double *)o->dst = x;
        return 0;
    }
    case CLI_FLAG: break;
    }
    fprintf(stderr, "%s: %s %s: not %s\n", prog, o->name, v,
            o->type == CLI_INT ? "an integer" : o->type == CLI_U64 ? "a non-negative integer" : "a finite number");
    return -1;
}

/* Parses argv[1..argc-1] against opts. Returns 0; 1 for --help / -h (the caller
 * prints its usage and exits 0); or 2 (the usage exit code) after naming the
 * offending argument on stderr. */
static inline int cli_parse(const char *prog, int argc, char **argv, const cli_opt *opts) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
        const cli_opt *o = opts;
        while (o->name && strcmp(o->name, argv[i]) != 0) o++;
        if (!o->name) {
            fprintf(stderr, "%s: unknown option %s\n", prog, argv[i]);
            return 2;
        }
        if (o->type == CLI_FLAG) *(int *)o->dst = 1;
        else if (i + 1 >= argc) {
            fprintf(stderr, "%s: %s needs a value\n", prog, o->name);
            return 2;
        } else if (cli_value(prog, o, argv[++i]) != 0) return 2;
        if (o->set) *o->set = 1;
    }
    return 0;
}

#endif
