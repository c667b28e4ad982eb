/* device_opts.h - `key=value` settings of the device (device_opts.c): every
 * field of prime_device and prime_devfx_params by name, for the CLI's
 * repeatable `--device key=value` and any text front end. */
#ifndef PRIME_DEVICE_OPTS_H
#define PRIME_DEVICE_OPTS_H

#include "device_fx.h"
#include "prime.h"

/* Sets one field from "key=value" (numbers; enum names such as
 * read_model=weight; t_read=2d; read_poly=c0,c1,...; read_table=G:s,G:s,...;
 * read_preset=wan2022_1d). `read_noise` sets prime_device.read_noise and its
 * mirror fx->read.eta. The result must pass prime_device_check and
 * prime_devfx_check; on any error nothing changes. 0 or -1 (message names the key). */
int prime_device_set_option(prime_device *d, prime_devfx_params *fx, const char *kv);
/* The keys: their number, and key k's name and unit/meaning (NULL beyond the end). */
int prime_device_option_count(void);
const char *prime_device_option_key(int k);
const char *prime_device_option_help(int k);

#endif
