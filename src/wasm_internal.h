/* wasm_internal.h - the parameter converters of src/wasm_api.c that
 * src/wasm_graph.c uses too (wasm build only). Each returns 0, or -1 with a
 * message naming the field (the JS name). */
#ifndef PRIME_WASM_INTERNAL_H
#define PRIME_WASM_INTERNAL_H

#include <stdint.h>

#include "prime.h"

#define PW_EXPORT __attribute__((used, visibility("default")))

/* A device as PW_DEV_FIELDS doubles (wasm_abi.h) and back (checked). */
void pw_dev_to(const prime_device *d, double *o);
int pw_dev_from(const double *v, prime_device *d);
/* *o = v if v is an integer in [lo, hi] / a seed in 0..2^53 / a finite float. */
int pw_as_int(double v, const char *what, int lo, int hi, int *o);
int pw_as_seed(double v, const char *what, uint64_t *o);
int pw_as_float(double v, const char *what, float *o);

#endif
