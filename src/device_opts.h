/* device_opts.h - `key=value` settings of the device (device_opts.c): every
 * field of prime_device and prime_devfx_params by name, for the CLI's
 * repeatable `--device key=value` and any text front end; and the device
 * effects of a loaded network (device_wire.c). */
#ifndef PRIME_DEVICE_OPTS_H
#define PRIME_DEVICE_OPTS_H

#include <stddef.h>

#include "device_fx.h"
#include "prime.h"

/* Sets one field from "key=value" (numbers; enum names such as
 * read_model=weight; t_read=2d; read_poly=c0,c1,...; read_table=G:s,G:s,...;
 * read_preset=wan2022_1d; preset=paper|off). `read_noise` is the one eta:
 * fx->read.eta always mirrors it. The result must pass prime_device_fx_check;
 * on any error nothing changes. 0 or -1 (message names the key). */
int prime_device_set_option(prime_device *d, prime_devfx_params *fx, const char *kv);
/* n settings in order, all or nothing; 0 or -1. */
int prime_device_set_options(prime_device *d, prime_devfx_params *fx, const char *const *kv, int n);
/* The value of `key` as text prime_device_set_option reads back (buf of n bytes); 0 or -1. */
int prime_device_get_option(const prime_device *d, const prime_devfx_params *fx, const char *key, char *buf, size_t n);
/* The effects of fx that differ from the defaults as "key=value\n" lines (a
 * function of sigma(G) by its preset's name where it is one): the text the
 * model file stores; prime_device_set_options reads it back to the same fx.
 * Returns the length (0: every effect off) or -1 (buf of n bytes too small). */
int prime_devfx_to_text(const prime_device *d, const prime_devfx_params *fx, char *buf, size_t n);
/* The keys: their number, and key k's name and unit/meaning (NULL beyond the end). */
int prime_device_option_count(void);
const char *prime_device_option_key(int k);
const char *prime_device_option_help(int k);
/* prime_device_check, prime_devfx_check, and how they combine (converter
 * non-idealities need the converter: adc_bits >= 2, dac_bits >= 1); 0 or -1. */
int prime_device_fx_check(const prime_device *d, const prime_devfx_params *fx);

/* ------------------------------------------------------ on a network (device_wire.c)
 *
 * A network's device effects sit beside its prime_device (default: every
 * effect off, prime_devfx_default with read.eta = read_noise). Setting them
 * re-programs the formed chip (programming error, relaxation at t_read, IR
 * drop), never re-forms it; forming fields of prime_device still re-form. */
int prime_get_devfx(const prime_ctx *c, prime_devfx_params *fx);
int prime_set_devfx(prime_ctx *c, const prime_devfx_params *fx);
/* "key=value" settings on a network, all or nothing (the device and its effects); 0 or -1. */
int prime_set_device_options(prime_ctx *c, const char *const *kv, int n);
int prime_vae_get_devfx(const prime_vae *v, prime_devfx_params *fx);
int prime_vae_set_devfx(prime_vae *v, const prime_devfx_params *fx);
int prime_vae_set_device_options(prime_vae *v, const char *const *kv, int n);

/* The IR-drop map of one array of weight layer `layer` of a classifier: the
 * array is tile `tile` (row tile major) of the layer's matrix cut into
 * ir_tile x ir_tile arrays (columns in G+/G- pairs), its cells the programmed
 * conductances; every used row driven at v_in[r] V (NULL: v_read). The exact
 * nodal solve (prime_ir_solve) of that array: *rows x *cols nodes written to
 * v_row and v_col (V, each at least ir_tile^2 entries), i_col and i_ideal the
 * column currents with and without wire resistance (uA, ir_tile entries).
 * Needs r_row > 0 and r_col > 0. 0 or -1. */
int prime_irdrop_map(const prime_ctx *c, int layer, int tile, const float *v_in, int *rows, int *cols,
                     double *v_row, double *v_col, double *i_col, double *i_ideal, int *iterations);
/* Number of ir_tile arrays of weight layer `layer` (row tiles x column tiles), or -1. */
int prime_irdrop_tiles(const prime_ctx *c, int layer, int *row_tiles, int *col_tiles);

#endif
