/* prime_archive.h - readers under the model importer (internal to the core):
 * zip archives (stored and deflate entries, shared by .pt and .npz), the
 * bounded pickle reader of torch.save files, and the typed tensors they give.
 * Limits: docs/model-format.md, "Limits". */
#ifndef PRIME_ARCHIVE_H
#define PRIME_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"

#define PRIME_ZIP_MAX_ENTRIES 4096
#define PRIME_ZIP_MAX_NAME 255
#define PRIME_ZIP_MAX_ENTRY_BYTES (256u << 20) /* one uncompressed entry */

typedef struct {
    char name[PRIME_ZIP_MAX_NAME + 1];
    size_t data_off;   /* offset of the entry's (compressed) data in the archive */
    size_t csize, usize;
    int method;        /* 0 stored, 8 deflate */
    uint32_t crc;
} prime_zip_entry;

typedef struct {
    const uint8_t *b;
    size_t n;
    int count;
    prime_zip_entry *e;
    char what[8];      /* ".npz" or ".pt": the prefix of error messages */
} prime_zip;

/* 1 when the bytes end with a zip end-of-central-directory record. */
int prime_zip_is_zip(const uint8_t *b, size_t n);
/* Reads the central directory of a zip in memory (the bytes stay the
 * caller's and must outlive z); `what` prefixes error messages. 0 or -1. */
int prime_zip_open(prime_zip *z, const uint8_t *b, size_t n, const char *what);
void prime_zip_close(prime_zip *z);
/* Index of the entry named `name`, or -1 (no error set). */
int prime_zip_find(const prime_zip *z, const char *name);
/* The uncompressed bytes of entry i, CRC checked: *out is malloc'ed (caller
 * frees), *len its size. 0 or -1. */
int prime_zip_read(const prime_zip *z, int i, uint8_t **out, size_t *len);
/* CRC-32 (zip's polynomial) of n bytes. */
uint32_t prime_crc32(const uint8_t *p, size_t n);

/* Inflate (stb_image's zlib decoder, in prime_image.c): raw deflate -> exactly
 * `expected` bytes, at most `cap`. 0 or -1. */
int prime_inflate_raw(const uint8_t *src, size_t n, size_t expected, size_t cap, uint8_t **out);

/* Pickle limits (torch.save's data.pkl). */
#define PRIME_PICKLE_MAX_BYTES (16u << 20)
#define PRIME_PICKLE_MAX_VALUES (1u << 20) /* objects made while reading */
#define PRIME_PICKLE_MAX_STACK 65536
#define PRIME_PICKLE_MAX_MEMO 65536
#define PRIME_PICKLE_MAX_STR 65536
#define PRIME_PICKLE_MAX_ITEMS 65536      /* entries of one dict / list / tuple */

/* Reads a torch.save zip (.pt / .pth) into a tensor list (the state_dict's
 * tensors in file order, or those of its "state_dict" entry). 0 or -1. */
int prime_pt_read(const uint8_t *b, size_t n, prime_tensor_list *out);
/* Reads the pickle of a torch.save zip: `pkl` is data.pkl, storages are read
 * from z under `prefix` + "data/<key>". 0 or -1. */
int prime_pickle_state_dict(const uint8_t *pkl, size_t n, const prime_zip *z, const char *prefix,
                            prime_tensor_list *out);

/* prime_npy_read that also gives the dtype the file holds (prime_model.c). */
int prime_npy_read_typed(const uint8_t *b, size_t n, float **data, int shape[8], int *ndim, enum prime_dtype *dtype);

#endif
