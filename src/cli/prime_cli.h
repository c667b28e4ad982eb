/* prime_cli.h - what the parts of build/prime share: prime.c (the commands,
 * main) and prime_bench.c (bench, bench-frames, bench-vae). */
#ifndef PRIME_CLI_H
#define PRIME_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "../device_opts.h"
#include "../prime.h"

int threads_opt(const char *v, int *threads);
uint8_t *read_file(const char *path, size_t *n);
prime_ctx *load_model(const char *path);
void random_masks(prime_ctx *c, uint64_t seed, float sparsity);
float *random_frames(int T, uint64_t seed, float density);
double now_s(void);
double cpu_s(void);
int device_opt(prime_device *d, prime_devfx_params *fx, const char *kv);

int cmd_bench(const char *path, int n);
int cmd_bench_frames(int argc, char **argv);
int cmd_bench_vae(int argc, char **argv);

#endif
