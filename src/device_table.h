/* device_table.h - a measured sigma(G) table from a file (device_table.c;
 * native front ends: `prime ... --device read_table=@FILE`).
 *
 * Accepted: JSON or text with the (G, sigma) pairs in order, e.g.
 * `[[10, 0.8], [30, 1.6], [60, 2.1]]`, `10:0.8,30:1.6` or one "G,sigma" /
 * "G sigma" pair per line ('#' starts a comment); a NumPy .npz / .npy or a
 * torch .pt holding tensors `g` and `sigma` (1-D, equal length) or one
 * [n][2] tensor. G in uS increasing, sigma in uS; at most PRIME_SIGMA_MAXN
 * points (the checks on the values are prime_fx_sigma_check's).
 */
#ifndef PRIME_DEVICE_TABLE_H
#define PRIME_DEVICE_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* Converts a table file's bytes to the "G:sigma,G:sigma,..." text of the
 * `*_table` device options; *text is malloc'ed. `name` (the file name)
 * appears in messages. 0 or -1 (prime_last_error says what is wrong). */
int prime_device_table_text(const uint8_t *bytes, size_t n, const char *name, char **text);

#endif
