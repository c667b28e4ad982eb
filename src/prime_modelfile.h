/* prime_modelfile.h - the model file version 2 container (docs/model-format.md),
 * internal to the core: one layout for every network, read and written by
 * prime_model.c (the classifier), prime_vae_io.c (the inpainting VAE) and any
 * later network kind.
 *
 *   "PRIMEMDL", u32 version 2, u32 file size, u32 network kind, u32 section count,
 *   sections (4-byte tag, u32 payload bytes, payload), u32 CRC-32 of all before it.
 *
 * A network declares its sections in an ordered table (prime_mf_spec): a file
 * must hold them in that order, each at most once, the required ones present;
 * a tag the table does not know is an error naming it. To add a section (a
 * device-effects block, a new digital parameter), add a row to the network's
 * table, a writer call in its save and a reader where its load walks the
 * sections. Little-endian throughout. */
#ifndef PRIME_MODELFILE_H
#define PRIME_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "prime.h"
#include "prime_internal.h"

#define PRIME_MF_MAGIC "PRIMEMDL"
#define PRIME_MF_VERSION 2u
#define PRIME_MF_HEAD 24u          /* magic, version, size, kind, section count */
#define PRIME_MF_MAX_SECTIONS 32
#define PRIME_MF_DEVICE_BYTES 88u  /* u64 seed + 20 words (prime_mf_put_device) */
#define PRIME_MF_GRAPH_MSG "a layer-graph model file (docs/graph.md): load it with prime_graph_load or use build/prime-graph"
#define PRIME_MF_MAX_G 1e6f        /* a stored conductance lies in [0, 1e6) uS */

/* ---------------------------------------------------------------- bytes */

typedef struct {
    const uint8_t *p;
    size_t n, off;
    int bad;                       /* set by a read past n */
} prime_rbuf;

uint32_t prime_rd_u32(prime_rbuf *r);
uint64_t prime_rd_u64(prime_rbuf *r);
float prime_rd_f32(prime_rbuf *r);
void prime_wr_u32(prime_buf *b, uint32_t v);
void prime_wr_u64(prime_buf *b, uint64_t v);
void prime_wr_f32(prime_buf *b, float f);
/* The CRC-32 of a model file (IEEE, as zlib's crc32). */
uint32_t prime_mf_crc(const uint8_t *p, size_t n);

/* ---------------------------------------------------------------- writer */

/* Starts a version-2 file of network `kind` in b. */
void prime_mf_begin(prime_buf *b, uint32_t kind);
/* Starts section `tag` (4 characters); returns where its length goes. */
size_t prime_mf_section(prime_buf *b, const char *tag);
/* Ends the section started at `at` (patches its length and the count). */
void prime_mf_section_end(prime_buf *b, size_t at);
/* Patches the size, appends the CRC and hands the bytes out; 0 or -1 (out of memory). */
int prime_mf_finish(prime_buf *b, uint8_t **out, size_t *n);

/* ---------------------------------------------------------------- reader */

typedef struct {
    char tag[5];
    const uint8_t *p;              /* payload */
    uint32_t n;                    /* payload bytes */
} prime_mf_sec;

typedef struct {
    uint32_t kind;
    int count;
    prime_mf_sec s[PRIME_MF_MAX_SECTIONS];
} prime_mf;

typedef struct {
    const char *tag;
    int required;
} prime_mf_spec;

/* The network kind word of a version-2 file (0 when shorter than 20 bytes). */
uint32_t prime_mf_kind(const uint8_t *b, size_t n);
/* 1 if the bytes start as a version-2 container ("PRIMEMDL", version 2, kind != 0). */
int prime_mf_is_v2(const uint8_t *b, size_t n);
/* Checks magic, version, size, CRC and the section walk, then the sections
 * against spec (known tags, in order, once, required present); `what` starts
 * the error messages ("model file", "inpainting model"). 0 or -1. */
int prime_mf_open(const uint8_t *b, size_t n, const prime_mf_spec *spec, int nspec, prime_mf *mf, const char *what);
/* The section `tag`, or NULL when the file has none. */
const prime_mf_sec *prime_mf_get(const prime_mf *mf, const char *tag);
/* A reader over a section's payload (an absent section reads as empty). */
prime_rbuf prime_mf_reader(const prime_mf_sec *s);
/* 0 if section reader r ended exactly at its end; else -1 naming it. */
int prime_mf_done(const prime_rbuf *r, const char *what, const char *tag);

/* ---------------------------------------------------------------- shared sections */

/* Device: u64 chip_seed, then the 20 words of prime_device in its field order. */
void prime_mf_put_device(prime_buf *b, const prime_device *d);
/* Reads and range-checks (prime_device_check) a device; 0 or -1 naming the field. */
int prime_mf_get_device(prime_rbuf *r, prime_device *d, const char *what);
/* A mask: u32 n, u32 ceil(n/8), the bits (weight i in bit i%8 of byte i/8, 1 keep). */
void prime_mf_put_mask(prime_buf *b, const uint8_t *mask, size_t n);
/* Reads a mask of exactly n weights into mask (one byte each); 0 or -1 naming layer. */
int prime_mf_get_mask(prime_rbuf *r, uint8_t *mask, size_t n, const char *what, const char *layer);
/* A conductance map: u32 flag; 1: u32 n, n f32 G+, n f32 G- (uS). */
void prime_mf_put_map(prime_buf *b, int stored, const float *gpos, const float *gneg, size_t n);
/* Reads one layer's map entry: *g = NULL (flag 0) or a malloc'ed 2n floats
 * (G+ then G-), every value finite in [0, PRIME_MF_MAX_G); 0 or -1 naming the
 * layer and gpos[i] / gneg[i]. */
int prime_mf_get_map(prime_rbuf *r, size_t n, float **g, const char *what, const char *layer);
/* n f32 that must be finite; 0 or -1 naming name[i]. */
int prime_mf_get_floats(prime_rbuf *r, float *dst, size_t n, const char *what, const char *name);
/* Device effects (section DVFX, both networks): the "key=value\n" lines of
 * prime_devfx_to_text, every effect not at its default. Writes the section
 * only when an effect is on (absent = every effect off); 0 or -1. */
#define PRIME_MF_DVFX_MAX 16384    /* bytes of text */
#define PRIME_MF_DVFX_LINES 256
int prime_mf_put_devfx(prime_buf *b, const prime_device *d, const prime_devfx_params *fx);
/* The device sections of every network: "DEV " (prime_mf_put_device), then DVFX when an effect is on. 0 or -1. */
int prime_mf_put_dev(prime_buf *b, const prime_device *d, const prime_devfx_params *fx);
/* Applies section DVFX to a network through set (prime_set_device_options or
 * prime_vae_set_device_options on net), after its maps: the effects re-program
 * the formed chip. The section is checked first (1 to PRIME_MF_DVFX_MAX - 1
 * bytes of text, no NUL, at most PRIME_MF_DVFX_LINES settings); a bad line is
 * named. 0 or -1. */
int prime_mf_apply_devfx(const prime_mf_sec *s, int (*set)(void *net, const char *const *kv, int n), void *net,
                         const char *what);
/* The end of every network's load: a COND section must have stored a map
 * (stored = how many), then DVFX is applied through set. 0 or -1. */
int prime_mf_load_end(const prime_mf *mf, int stored, int (*set)(void *net, const char *const *kv, int n), void *net,
                      const char *what);
/* 0 when the file's network kind is want (or the file is too short to say:
 * prime_mf_open reports it), else -1 naming the kind and its loader. */
int prime_mf_want_kind(const uint8_t *b, size_t n, uint32_t want, const char *what);
/* 1 when the last 4 bytes of b[n] are not the CRC-32 of the rest (never in fuzz builds). */
int prime_mf_crc_bad(const uint8_t *b, size_t n);

#endif
