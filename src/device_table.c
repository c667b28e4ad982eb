/* device_table.c - a measured sigma(G) table from a file (device_table.h). */
#include "device_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_fx.h"
#include "prime.h"

/* The (G, sigma) pairs of a JSON or text table: every number in order. */
static int parse_text(const char *s, size_t n, const char *name, float *v, int *nv) {
    int k = 0;
    size_t i = 0;
    while (i < n) {
        char c = s[i];
        if (c == '#') { /* comment to the end of the line */
            while (i < n && s[i] != '\n') i++;
            continue;
        }
        if (c == '\0') return prime_error("%s: a NUL byte at offset %zu: not a text table", name, i);
        if (strchr(" \t\r\n,:;[]", c)) { i++; continue; }
        char buf[64];
        size_t j = 0;
        while (i < n && j + 1 < sizeof buf && s[i] != '\0' && strchr("0123456789+-.eE", s[i])) buf[j++] = s[i++];
        buf[j] = 0;
        char *end;
        double x = j ? strtod(buf, &end) : 0;
        if (!j || *end) {
            size_t line = 1;
            for (size_t q = 0; q < i && q < n; q++) line += s[q] == '\n';
            return prime_error("%s, line %zu: '%c' is not part of a number (expected G, sigma pairs)", name,
                               line, j ? buf[0] : c);
        }
        if (k == 2 * PRIME_SIGMA_MAXN)
            return prime_error("%s: more than %d (G, sigma) points", name, PRIME_SIGMA_MAXN);
        v[k++] = (float)x;
    }
    *nv = k;
    return 0;
}

/* The pairs of a tensor file: `g` and `sigma`, or one [n][2] tensor. */
static int parse_tensors(const uint8_t *b, size_t n, const char *name, float *v, int *nv) {
    prime_tensor_list L;
    if (prime_tensors_read(b, n, &L) != 0) return prime_error("%s: %s", name, prime_last_error());
    const prime_tensor *g = prime_tensors_find(&L, "g"), *s = prime_tensors_find(&L, "sigma");
    int rc = 0, k = 0;
    if (g && s) {
        if (g->ndim != 1 || s->ndim != 1 || g->count != s->count)
            rc = prime_error("%s: `g` and `sigma` must be 1-D of equal length", name);
        else if (g->count > PRIME_SIGMA_MAXN)
            rc = prime_error("%s: %zu points, at most %d", name, g->count, PRIME_SIGMA_MAXN);
        else
            for (size_t i = 0; i < g->count; i++) v[k++] = g->data[i], v[k++] = s->data[i];
    } else if (L.n == 1 && L.t[0].ndim == 2 && L.t[0].shape[1] == 2) {
        if (L.t[0].shape[0] > PRIME_SIGMA_MAXN)
            rc = prime_error("%s: %d points, at most %d", name, L.t[0].shape[0], PRIME_SIGMA_MAXN);
        else
            for (size_t i = 0; i < L.t[0].count; i++) v[k++] = L.t[0].data[i];
    } else {
        rc = prime_error("%s: expected tensors `g` and `sigma`, or one [n][2] tensor (found %d tensor%s%s%s)",
                         name, L.n, L.n == 1 ? "" : "s", L.n ? ", the first " : "", L.n ? L.t[0].name : "");
    }
    prime_tensors_free(&L);
    *nv = k;
    return rc;
}

int prime_device_table_text(const uint8_t *bytes, size_t n, const char *name, char **text) {
    if (!text) return prime_error("device table: NULL output");
    *text = NULL;
    if (!bytes && n) return prime_error("device table: NULL input");
    if (!name) name = "table";
    float v[2 * PRIME_SIGMA_MAXN];
    int nv = 0;
    int zip = n >= 4 && bytes[0] == 'P' && bytes[1] == 'K';
    int npy = n >= 6 && bytes[0] == 0x93 && memcmp(bytes + 1, "NUMPY", 5) == 0;
    if (zip || npy ? parse_tensors(bytes, n, name, v, &nv) : parse_text((const char *)bytes, n, name, v, &nv))
        return -1;
    if (nv == 0) return prime_error("%s: no (G, sigma) points", name);
    if (nv % 2) return prime_error("%s: %d numbers, not (G, sigma) pairs", name, nv);
    size_t cap = (size_t)nv * 32 + 1;
    char *t = malloc(cap);
    if (!t) return prime_error("device table: out of memory");
    size_t len = 0;
    for (int i = 0; i < nv; i += 2)
        len += (size_t)snprintf(t + len, cap - len, "%s%.9g:%.9g", i ? "," : "", v[i], v[i + 1]);
    *text = t;
    return 0;
}
