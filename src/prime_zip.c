/* prime_zip.c - a bounded zip reader for archives in memory: the central
 * directory, stored and deflate entries (deflate through stb_image's zlib
 * decoder, prime_inflate_raw), zip64 sizes, CRC-32 checked on every read.
 * Used by the .npz and .pt importers (docs/model-format.md, "Limits"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime_archive.h"

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* CRC-32 (reflected, polynomial 0xEDB88320), bitwise with a small table. */
uint32_t prime_crc32(const uint8_t *p, size_t n) {
    static uint32_t table[256];
    static int ready = 0;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* Offset of the end-of-central-directory record whose comment ends the file,
 * or -1. */
static long find_eocd(const uint8_t *b, size_t n) {
    if (n < 22) return -1;
    size_t lo = n > 22 + 65535 ? n - 22 - 65535 : 0;
    for (size_t k = n - 22;; k--) {
        if (rd32(b + k) == 0x06054b50u && k + 22 + rd16(b + k + 20) == n) return (long)k;
        if (k == lo) break;
    }
    return -1;
}

/* 1 when the bytes end with a zip end-of-central-directory record. */
int prime_zip_is_zip(const uint8_t *b, size_t n) { return b && find_eocd(b, n) >= 0; }

/* Closes z after an error was set (its message may name an entry); -1. */
static int zfail(prime_zip *z, int rc) {
    prime_zip_close(z);
    return rc;
}

/* Reads the central directory into z; 0 or -1. */
int prime_zip_open(prime_zip *z, const uint8_t *b, size_t n, const char *what) {
    if (!z || !b) return prime_error("prime_zip_open: NULL argument");
    memset(z, 0, sizeof *z);
    snprintf(z->what, sizeof z->what, "%s", what ? what : "zip");
    const char *w = z->what;
    long e = find_eocd(b, n);
    if (e < 0) return prime_error("%s: not a zip file, or truncated (no end-of-central-directory record)", w);
    uint64_t count = rd16(b + e + 10), cd_size = rd32(b + e + 12), cd_off = rd32(b + e + 16);
    if (count == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
        /* zip64: the locator sits just before the record */
        if (e < 20 || rd32(b + e - 20) != 0x07064b50u) return prime_error("%s: zip64 archive without its end-of-central-directory locator", w);
        uint64_t r = rd64(b + e - 20 + 8);
        if (r > n || n - r < 56 || rd32(b + r) != 0x06064b50u) return prime_error("%s: bad zip64 end-of-central-directory record", w);
        count = rd64(b + r + 32), cd_size = rd64(b + r + 40), cd_off = rd64(b + r + 48);
    }
    if (count > PRIME_ZIP_MAX_ENTRIES) return prime_error("%s: %llu entries, more than the cap of %d", w, (unsigned long long)count, PRIME_ZIP_MAX_ENTRIES);
    if (cd_off > n || cd_size > n - cd_off) return prime_error("%s: central directory outside the file (truncated?)", w);
    z->e = calloc(count ? count : 1, sizeof *z->e);
    if (!z->e) return prime_error("%s: out of memory", w);
    z->b = b, z->n = n;
    size_t p = (size_t)cd_off, end = (size_t)(cd_off + cd_size);
    for (uint64_t i = 0; i < count; i++) {
        if (end - p < 46 || rd32(b + p) != 0x02014b50u) { return zfail(z, prime_error("%s: central directory entry %llu damaged", w, (unsigned long long)i)); }
        const uint8_t *h = b + p;
        prime_zip_entry *en = &z->e[i];
        int flags = rd16(h + 8);
        en->method = rd16(h + 10);
        en->crc = rd32(h + 16);
        uint64_t csize = rd32(h + 20), usize = rd32(h + 24), loff = rd32(h + 42);
        size_t nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
        if (end - p - 46 < nlen + xlen + clen) { return zfail(z, prime_error("%s: central directory entry %llu truncated", w, (unsigned long long)i)); }
        if (nlen > PRIME_ZIP_MAX_NAME) { return zfail(z, prime_error("%s: entry name of %zu bytes (cap %d)", w, nlen, PRIME_ZIP_MAX_NAME)); }
        memcpy(en->name, h + 46, nlen);
        en->name[nlen] = 0;
        if (memchr(en->name, 0, nlen)) { return zfail(z, prime_error("%s: entry name with a NUL byte", w)); }
        if (usize == 0xffffffffu || csize == 0xffffffffu || loff == 0xffffffffu) {
            const uint8_t *x = h + 46 + nlen, *xe = x + xlen;
            int found = 0;
            while (xe - x >= 4) {
                size_t id = rd16(x), sz = rd16(x + 2);
                if ((size_t)(xe - x) - 4 < sz) break;
                if (id == 1) {
                    const uint8_t *q = x + 4, *qe = q + sz;
                    if (usize == 0xffffffffu && qe - q >= 8) usize = rd64(q), q += 8;
                    if (csize == 0xffffffffu && qe - q >= 8) csize = rd64(q), q += 8;
                    if (loff == 0xffffffffu && qe - q >= 8) loff = rd64(q), q += 8;
                    found = 1;
                }
                x += 4 + sz;
            }
            if (!found) { return zfail(z, prime_error("%s: entry %s has zip64 sizes without the zip64 field", w, en->name)); }
        }
        if (flags & 1) { return zfail(z, prime_error("%s: entry %s is encrypted (not supported)", w, en->name)); }
        if (en->method != 0 && en->method != 8)
            { return zfail(z, prime_error("%s: entry %s uses compression method %d (stored and deflate are read)", w, en->name, en->method)); }
        if (usize > PRIME_ZIP_MAX_ENTRY_BYTES)
            { return zfail(z, prime_error("%s: entry %s holds %llu bytes, more than the cap of %u", w, en->name, (unsigned long long)usize, PRIME_ZIP_MAX_ENTRY_BYTES)); }
        if (en->method == 0 && csize != usize) { return zfail(z, prime_error("%s: stored entry %s has different sizes", w, en->name)); }
        /* the local header: its name and extra field lengths place the data */
        if (loff > n || n - loff < 30 || rd32(b + loff) != 0x04034b50u)
            { return zfail(z, prime_error("%s: local header of entry %s missing (truncated?)", w, en->name)); }
        size_t lnl = rd16(b + loff + 26), lxl = rd16(b + loff + 28);
        size_t doff = (size_t)loff + 30 + lnl + lxl;
        if (doff > n || csize > n - doff) { return zfail(z, prime_error("%s: entry %s truncated", w, en->name)); }
        en->data_off = doff, en->csize = (size_t)csize, en->usize = (size_t)usize;
        z->count++;
        p += 46 + nlen + xlen + clen;
    }
    return 0;
}

void prime_zip_close(prime_zip *z) {
    if (!z) return;
    free(z->e);
    z->e = NULL, z->count = 0;
}

/* Index of the entry named `name`, or -1. */
int prime_zip_find(const prime_zip *z, const char *name) {
    for (int i = 0; z && i < z->count; i++)
        if (!strcmp(z->e[i].name, name)) return i;
    return -1;
}

/* The uncompressed, CRC-checked bytes of entry i; 0 or -1. */
int prime_zip_read(const prime_zip *z, int i, uint8_t **out, size_t *len) {
    if (!z || !out || !len || i < 0 || i >= z->count) return prime_error("prime_zip_read: bad argument");
    const prime_zip_entry *e = &z->e[i];
    *out = NULL, *len = 0;
    uint8_t *o = NULL;
    if (e->method == 8) {
        if (prime_inflate_raw(z->b + e->data_off, e->csize, e->usize, PRIME_ZIP_MAX_ENTRY_BYTES, &o) != 0)
            return prime_error("%s: entry %s: %s", z->what, e->name, prime_last_error());
    } else {
        o = malloc(e->usize ? e->usize : 1);
        if (!o) return prime_error("%s: out of memory for entry %s", z->what, e->name);
        memcpy(o, z->b + e->data_off, e->usize);
    }
    if (prime_crc32(o, e->usize) != e->crc) {
        free(o);
        return prime_error("%s: entry %s fails its CRC-32 check (damaged file)", z->what, e->name);
    }
    *out = o, *len = e->usize;
    return 0;
}
