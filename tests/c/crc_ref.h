/* crc_ref.h - the model file's CRC-32 (IEEE, as zlib), written apart from
 * src/prime_model.c for the tests that craft model files; header-only. */
#ifndef PRIME_TEST_CRC_REF_H
#define PRIME_TEST_CRC_REF_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32 of n bytes, bit by bit. */
static inline uint32_t crc32_ref(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

/* Rewrites the last 4 bytes of a model file of n bytes with the CRC of the rest. */
static inline void fix_crc(uint8_t *b, size_t n) {
    uint32_t c = crc32_ref(b, n - 4);
    for (int k = 0; k < 4; k++) b[n - 4 + k] = (uint8_t)(c >> (8 * k));
}

#endif
