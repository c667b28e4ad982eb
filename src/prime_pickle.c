/* prime_pickle.c - a bounded reader of the pickles torch.save writes
 * (protocol 2 to 5 opcodes, data.pkl of the zip format). It is not a Python
 * unpickler: it builds only the values a state_dict holds (dict,
 * collections.OrderedDict, list, tuple, str, int, float, bool, None, tensors
 * via torch._utils._rebuild_tensor_v2 / _rebuild_parameter over the storage
 * classes of persistent ids) and refuses every other global by name, so no
 * code from the file is ever run. Tensors load whatever device they were
 * saved on (the location string is ignored). Limits: prime_archive.h,
 * docs/model-format.md "Limits". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime_archive.h"

enum vkind { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STR, V_TUPLE, V_LIST, V_DICT, V_GLOBAL, V_STORAGE, V_TENSOR };
static const char *const kind_name[] = {"None", "bool", "int", "float", "str", "tuple", "list", "dict",
                                        "global", "storage", "tensor"};

/* the globals a state_dict uses; nothing else is ever looked up */
enum gid { G_ODICT, G_REBUILD_V2, G_REBUILD_PARAM, G_STORAGE };
static const struct { const char *mod, *name; int gid; enum prime_dtype dt; int size; } allowed[] = {
    {"collections", "OrderedDict", G_ODICT, 0, 0},
    {"torch._utils", "_rebuild_tensor_v2", G_REBUILD_V2, 0, 0},
    {"torch._utils", "_rebuild_parameter", G_REBUILD_PARAM, 0, 0},
    {"torch", "FloatStorage", G_STORAGE, PRIME_DT_F32, 4},
    {"torch", "DoubleStorage", G_STORAGE, PRIME_DT_F64, 8},
    {"torch", "HalfStorage", G_STORAGE, PRIME_DT_F16, 2},
    {"torch", "LongStorage", G_STORAGE, PRIME_DT_I64, 8},
    {"torch", "IntStorage", G_STORAGE, PRIME_DT_I32, 4},
    {"torch", "ByteStorage", G_STORAGE, PRIME_DT_U8, 1},
    {"torch", "BoolStorage", G_STORAGE, PRIME_DT_BOOL, 1},
};

typedef struct val {
    enum vkind k;
    int64_t i;           /* int, bool; global: index into allowed[] */
    double f;
    char *s;             /* str */
    int n, cap;          /* tuple / list items; dict: n pairs in items[2k], items[2k+1] */
    struct val **items;
    /* storage */
    int gi;              /* its class, index into allowed[] */
    char key[64];
    uint64_t numel;
    /* tensor */
    struct val *storage;
    uint64_t offset;
    int ndim;
    int64_t shape[PRIME_TENSOR_MAX_DIMS], stride[PRIME_TENSOR_MAX_DIMS];
} val;

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    val **pool;          /* every value made, for freeing */
    size_t npool, cappool;
    val **stack;
    size_t sp;
    size_t *marks;
    size_t nmarks;
    val **memo;
    size_t nmemo;
} vm;

static val *newval(vm *m, enum vkind k) {
    if (m->npool >= PRIME_PICKLE_MAX_VALUES) { prime_error("pickle: more than %u objects (cap)", PRIME_PICKLE_MAX_VALUES); return NULL; }
    if (m->npool == m->cappool) {
        size_t c = m->cappool ? m->cappool * 2 : 256;
        val **np = realloc(m->pool, c * sizeof *np);
        if (!np) { prime_error("pickle: out of memory"); return NULL; }
        m->pool = np, m->cappool = c;
    }
    val *v = calloc(1, sizeof *v);
    if (!v) { prime_error("pickle: out of memory"); return NULL; }
    v->k = k;
    m->pool[m->npool++] = v;
    return v;
}

static int push(vm *m, val *v) {
    if (!v) return -1;
    if (m->sp >= PRIME_PICKLE_MAX_STACK) return prime_error("pickle: stack deeper than %d (cap)", PRIME_PICKLE_MAX_STACK);
    m->stack[m->sp++] = v;
    return 0;
}
static val *pop(vm *m) {
    size_t floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp <= floor) { prime_error("pickle: stack underflow at byte %zu (damaged pickle)", m->pos); return NULL; }
    return m->stack[--m->sp];
}
static val *top(vm *m) {
    size_t floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (m->sp <= floor) { prime_error("pickle: stack underflow at byte %zu (damaged pickle)", m->pos); return NULL; }
    return m->stack[m->sp - 1];
}
/* the value just below stack index base (the target of APPENDS / SETITEMS) */
static val *below(vm *m, size_t base) {
    size_t floor = m->nmarks ? m->marks[m->nmarks - 1] : 0;
    if (base <= floor) { prime_error("pickle: stack underflow at byte %zu (damaged pickle)", m->pos); return NULL; }
    return m->stack[base - 1];
}
/* pops the values above the last mark and the mark: *base = first index */
static int pop_mark(vm *m, size_t *base) {
    if (!m->nmarks) return prime_error("pickle: no mark at byte %zu (damaged pickle)", m->pos);
    *base = m->marks[--m->nmarks];
    return 0;
}
static int add_item(val *c, val *x) {
    if (c->n >= c->cap) {
        if (c->cap >= 2 * PRIME_PICKLE_MAX_ITEMS) return prime_error("pickle: a container holds more than %d items (cap)", PRIME_PICKLE_MAX_ITEMS);
        int nc = c->cap ? c->cap * 2 : 8;
        val **ni = realloc(c->items, (size_t)nc * sizeof *ni);
        if (!ni) return prime_error("pickle: out of memory");
        c->items = ni, c->cap = nc;
    }
    c->items[c->n++] = x;
    return 0;
}
static int set_item(val *d, val *k, val *v) {
    if (d->k != V_DICT) return prime_error("pickle: SETITEM on a %s, not a dict", kind_name[d->k]);
    if (add_item(d, k) || add_item(d, v)) return -1;
    return 0;
}
static int append(val *l, val *x) {
    if (l->k != V_LIST) return prime_error("pickle: APPEND on a %s, not a list", kind_name[l->k]);
    return add_item(l, x);
}
static int need(vm *m, size_t k) {
    if (m->n - m->pos < k) return prime_error("pickle: truncated at byte %zu", m->pos);
    return 0;
}
static uint64_t le(const uint8_t *p, int k) {
    uint64_t v = 0;
    for (int i = k - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static val *mkstr(vm *m, const uint8_t *p, size_t len) {
    if (len > PRIME_PICKLE_MAX_STR) { prime_error("pickle: string of %zu bytes (cap %d)", len, PRIME_PICKLE_MAX_STR); return NULL; }
    val *v = newval(m, V_STR);
    if (!v) return NULL;
    v->s = malloc(len + 1);
    if (!v->s) { prime_error("pickle: out of memory"); return NULL; }
    memcpy(v->s, p, len);
    v->s[len] = 0;
    v->i = (int64_t)len;
    return v;
}
static val *mkint(vm *m, int64_t i, enum vkind k) {
    val *v = newval(m, k);
    if (v) v->i = i;
    return v;
}
/* a global by module and name: one of allowed[], or an error naming it */
static val *global(vm *m, const char *mod, const char *name) {
    for (size_t g = 0; g < sizeof allowed / sizeof allowed[0]; g++)
        if (!strcmp(mod, allowed[g].mod) && !strcmp(name, allowed[g].name)) {
            val *v = newval(m, V_GLOBAL);
            if (v) v->i = (int64_t)g;
            return v;
        }
    prime_error("pickle: global %.200s.%.200s is refused: a state_dict holds only tensors, dicts, lists, "
                "tuples, strings and numbers, and no code from a checkpoint is run", mod, name);
    return NULL;
}

static int as_int(const val *v, int64_t *out) {
    if (!v || (v->k != V_INT && v->k != V_BOOL)) return -1;
    *out = v->i;
    return 0;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static val *rebuild_v2(vm *m, val *args) {
    if (args->k != V_TUPLE || args->n < 6 || args->n > 7) { prime_error("pickle: _rebuild_tensor_v2 takes 6 or 7 arguments, got %d", args->k == V_TUPLE ? args->n : -1); return NULL; }
    val *st = args->items[0], *size = args->items[2], *stride = args->items[3];
    int64_t off;
    if (st->k != V_STORAGE) { prime_error("pickle: tensor over a %s, not a storage", kind_name[st->k]); return NULL; }
    if (as_int(args->items[1], &off) || off < 0) { prime_error("pickle: bad tensor storage offset"); return NULL; }
    if (size->k != V_TUPLE || stride->k != V_TUPLE || size->n != stride->n) { prime_error("pickle: tensor size and stride must be tuples of one length"); return NULL; }
    if (size->n > PRIME_TENSOR_MAX_DIMS) { prime_error("pickle: tensor of %d dimensions (cap %d)", size->n, PRIME_TENSOR_MAX_DIMS); return NULL; }
    val *t = newval(m, V_TENSOR);
    if (!t) return NULL;
    t->storage = st, t->offset = (uint64_t)off, t->ndim = size->n;
    /* sizes and strides at most 2^31 and at most 2^26 elements: the reach
     * sum((size - 1) * stride) stays below 2^60, no overflow */
    uint64_t count = 1, last = 0;
    for (int d = 0; d < size->n; d++) {
        int64_t s, r;
        if (as_int(size->items[d], &s) || as_int(stride->items[d], &r) || s < 0 || r < 0 || s > (1ll << 31) || r > (1ll << 31)) {
            prime_error("pickle: bad tensor size or stride in dimension %d", d);
            return NULL;
        }
        t->shape[d] = s, t->stride[d] = r;
        count *= (uint64_t)s;
        if (count > PRIME_IMPORT_MAX_ELEMENTS) { prime_error("pickle: tensor of more than %u elements (cap)", PRIME_IMPORT_MAX_ELEMENTS); return NULL; }
        if (s > 0) last += (uint64_t)(s - 1) * (uint64_t)r;
    }
    if (count > 0 && (t->offset > st->numel || last >= st->numel - t->offset)) {
        prime_error("pickle: tensor reaches past its storage %s (%llu elements)", st->key, (unsigned long long)st->numel);
        return NULL;
    }
    return t;
}

/* REDUCE: callable(args) for the allowed callables */
static val *reduce(vm *m, val *f, val *args) {
    if (f->k != V_GLOBAL) { prime_error("pickle: REDUCE of a %s, not a callable", kind_name[f->k]); return NULL; }
    if (args->k != V_TUPLE) { prime_error("pickle: REDUCE arguments are a %s, not a tuple", kind_name[args->k]); return NULL; }
    const int g = allowed[f->i].gid;
    if (g == G_ODICT) {
        if (args->n != 0) { prime_error("pickle: OrderedDict(...) with arguments is not read (state_dicts use OrderedDict())"); return NULL; }
        return newval(m, V_DICT);
    }
    if (g == G_REBUILD_V2) return rebuild_v2(m, args);
    if (g == G_REBUILD_PARAM) {
        if (args->n != 3 || args->items[0]->k != V_TENSOR) { prime_error("pickle: _rebuild_parameter takes (tensor, requires_grad, hooks)"); return NULL; }
        return args->items[0];
    }
    prime_error("pickle: %s.%s cannot be called (storages come from persistent ids only)", allowed[f->i].mod, allowed[f->i].name);
    return NULL;
}

/* BINPERSID: ('storage', storage class, key, location, numel) */
static val *persistent(vm *m, val *pid) {
    if (pid->k != V_TUPLE || pid->n != 5 || pid->items[0]->k != V_STR || strcmp(pid->items[0]->s, "storage")) {
        prime_error("pickle: persistent id is not a ('storage', class, key, location, numel) tuple");
        return NULL;
    }
    val *cls = pid->items[1], *key = pid->items[2];
    int64_t numel;
    if (cls->k != V_GLOBAL || allowed[cls->i].gid != G_STORAGE) { prime_error("pickle: persistent id names no storage class"); return NULL; }
    if (key->k != V_STR || key->i == 0 || key->i >= 64 || strchr(key->s, '/')) { prime_error("pickle: bad storage key"); return NULL; }
    if (pid->items[3]->k != V_STR) { prime_error("pickle: storage location is not a string"); return NULL; }
    if (as_int(pid->items[4], &numel) || numel < 0 || (uint64_t)numel > PRIME_ZIP_MAX_ENTRY_BYTES) { prime_error("pickle: bad storage size"); return NULL; }
    val *s = newval(m, V_STORAGE);
    if (!s) return NULL;
    s->gi = (int)cls->i;
    memcpy(s->key, key->s, (size_t)key->i + 1);
    s->numel = (uint64_t)numel;
    return s;
}

static int memo_put(vm *m, uint64_t idx, val *v) {
    if (!v) return -1;
    if (idx >= PRIME_PICKLE_MAX_MEMO) return prime_error("pickle: memo index %llu (cap %d)", (unsigned long long)idx, PRIME_PICKLE_MAX_MEMO);
    m->memo[idx] = v;
    if (idx >= m->nmemo) m->nmemo = idx + 1;
    return 0;
}
static int memo_get(vm *m, uint64_t idx) {
    if (idx >= m->nmemo || !m->memo[idx]) return prime_error("pickle: memo entry %llu read before it was written", (unsigned long long)idx);
    return push(m, m->memo[idx]);
}

/* Runs the pickle to STOP; the result in *res. 0 or -1. */
static int run(vm *m, val **res) {
    if (m->n > PRIME_PICKLE_MAX_BYTES) return prime_error("pickle: %zu bytes (cap %u)", m->n, PRIME_PICKLE_MAX_BYTES);
    while (m->pos < m->n) {
        size_t at = m->pos;
        int op = m->p[m->pos++];
        const uint8_t *a = m->p + m->pos;
        val *x, *y, *z;
        size_t base = 0, len;
        switch (op) {
        case 0x80: /* PROTO */
            if (need(m, 1)) return -1;
            if (a[0] < 2 || a[0] > 5) return prime_error("pickle: protocol %d not read (2 to 5)", a[0]);
            m->pos++;
            break;
        case 0x95: /* FRAME */
            if (need(m, 8)) return -1;
            m->pos += 8;
            break;
        case '.': /* STOP */
            if (!(x = pop(m))) return -1;
            *res = x;
            return 0;
        case '(':
            if (m->nmarks >= PRIME_PICKLE_MAX_STACK) return prime_error("pickle: more than %d marks (cap)", PRIME_PICKLE_MAX_STACK);
            m->marks[m->nmarks++] = m->sp;
            break;
        case ')': if (push(m, newval(m, V_TUPLE))) return -1; break;
        case ']': if (push(m, newval(m, V_LIST))) return -1; break;
        case '}': if (push(m, newval(m, V_DICT))) return -1; break;
        case 't': case 'l': case 'd': /* TUPLE, LIST, DICT from the mark */
            if (pop_mark(m, &base)) return -1;
            if (!(x = newval(m, op == 't' ? V_TUPLE : op == 'l' ? V_LIST : V_DICT))) return -1;
            if (op == 'd' && (m->sp - base) % 2) return prime_error("pickle: DICT with an odd number of items");
            for (size_t k = base; k < m->sp; k++)
                if (add_item(x, m->stack[k])) return -1;
            m->sp = base;
            if (push(m, x)) return -1;
            break;
        case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
            int k = op - 0x84;
            val *it[3];
            for (int j = k - 1; j >= 0; j--)
                if (!(it[j] = pop(m))) return -1;
            if (!(x = newval(m, V_TUPLE))) return -1;
            for (int j = 0; j < k; j++)
                if (add_item(x, it[j])) return -1;
            if (push(m, x)) return -1;
            break;
        }
        case 'a': /* APPEND */
            if (!(y = pop(m)) || !(x = top(m)) || append(x, y)) return -1;
            break;
        case 'e': /* APPENDS */
            if (pop_mark(m, &base)) return -1;
            if (!(x = below(m, base))) return -1;
            for (size_t k = base; k < m->sp; k++)
                if (append(x, m->stack[k])) return -1;
            m->sp = base;
            break;
        case 's': /* SETITEM */
            if (!(z = pop(m)) || !(y = pop(m)) || !(x = top(m)) || set_item(x, y, z)) return -1;
            break;
        case 'u': /* SETITEMS */
            if (pop_mark(m, &base)) return -1;
            if ((m->sp - base) % 2) return prime_error("pickle: SETITEMS with an odd number of items");
            if (!(x = below(m, base))) return -1;
            for (size_t k = base; k < m->sp; k += 2)
                if (set_item(x, m->stack[k], m->stack[k + 1])) return -1;
            m->sp = base;
            break;
        case 'N': if (push(m, newval(m, V_NONE))) return -1; break;
        case 0x88: case 0x89: if (push(m, mkint(m, op == 0x88, V_BOOL))) return -1; break;
        case 'J': if (need(m, 4) || push(m, mkint(m, (int32_t)le(a, 4), V_INT))) return -1; m->pos += 4; break;
        case 'K': if (need(m, 1) || push(m, mkint(m, a[0], V_INT))) return -1; m->pos += 1; break;
        case 'M': if (need(m, 2) || push(m, mkint(m, (int64_t)le(a, 2), V_INT))) return -1; m->pos += 2; break;
        case 0x8a: { /* LONG1 */
            if (need(m, 1)) return -1;
            int k = a[0];
            if (k > 8) return prime_error("pickle: integer of %d bytes at byte %zu (at most 8 are read)", k, at);
            if (need(m, 1 + (size_t)k)) return -1;
            uint64_t v = le(a + 1, k);
            if (k > 0 && k < 8 && (a[k] & 0x80)) v |= ~0ull << (8 * k); /* sign-extend */
            if (push(m, mkint(m, (int64_t)v, V_INT))) return -1;
            m->pos += 1 + (size_t)k;
            break;
        }
        case 'G': { /* BINFLOAT, big-endian */
            if (need(m, 8)) return -1;
            uint64_t u = 0;
            for (int j = 0; j < 8; j++) u = u << 8 | a[j];
            if (!(x = newval(m, V_FLOAT))) return -1;
            memcpy(&x->f, &u, 8);
            if (push(m, x)) return -1;
            m->pos += 8;
            break;
        }
        case 'X': case 0x8c: case 0x8d: case 'T': case 'U': case 'B': case 'C': case 0x8e: {
            /* BINUNICODE, SHORT_BINUNICODE, BINUNICODE8, BINSTRING, SHORT_BINSTRING, BINBYTES, SHORT_BINBYTES, BINBYTES8 */
            int k = (op == 0x8c || op == 'U' || op == 'C') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
            if (need(m, (size_t)k)) return -1;
            uint64_t l = le(a, k);
            if (l > PRIME_PICKLE_MAX_STR) return prime_error("pickle: string of %llu bytes at byte %zu (cap %d)", (unsigned long long)l, at, PRIME_PICKLE_MAX_STR);
            len = (size_t)l;
            if (need(m, (size_t)k + len) || push(m, mkstr(m, a + k, len))) return -1;
            m->pos += (size_t)k + len;
            break;
        }
        case 'q': if (need(m, 1) || !(x = top(m)) || memo_put(m, a[0], x)) return -1; m->pos += 1; break;
        case 'r': if (need(m, 4) || !(x = top(m)) || memo_put(m, le(a, 4), x)) return -1; m->pos += 4; break;
        case 0x94: if (!(x = top(m)) || memo_put(m, m->nmemo, x)) return -1; break;
        case 'h': if (need(m, 1) || memo_get(m, a[0])) return -1; m->pos += 1; break;
        case 'j': if (need(m, 4) || memo_get(m, le(a, 4))) return -1; m->pos += 4; break;
        case 'c': { /* GLOBAL "module\nname\n" */
            const uint8_t *e1 = memchr(a, '\n', m->n - m->pos);
            const uint8_t *e2 = e1 ? memchr(e1 + 1, '\n', (size_t)(m->p + m->n - e1 - 1)) : NULL;
            if (!e2 || e1 - a > 200 || e2 - e1 - 1 > 200) return prime_error("pickle: bad GLOBAL at byte %zu", at);
            char mod[256], name[256];
            memcpy(mod, a, (size_t)(e1 - a)), mod[e1 - a] = 0;
            memcpy(name, e1 + 1, (size_t)(e2 - e1 - 1)), name[e2 - e1 - 1] = 0;
            if (push(m, global(m, mod, name))) return -1;
            m->pos = (size_t)(e2 + 1 - m->p);
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            if (!(y = pop(m)) || !(x = pop(m))) return -1;
            if (x->k != V_STR || y->k != V_STR) return prime_error("pickle: STACK_GLOBAL of non-strings");
            if (push(m, global(m, x->s, y->s))) return -1;
            break;
        case 'Q': /* BINPERSID */
            if (!(x = pop(m)) || push(m, persistent(m, x))) return -1;
            break;
        case 'R': /* REDUCE */
            if (!(y = pop(m)) || !(x = pop(m)) || push(m, reduce(m, x, y))) return -1;
            break;
        case 'b': /* BUILD: a dict's attributes (state_dict._metadata) are not kept */
            if (!(y = pop(m)) || !(x = top(m))) return -1;
            if (x->k != V_DICT && x->k != V_TENSOR) return prime_error("pickle: BUILD on a %s", kind_name[x->k]);
            break;
        default:
            return prime_error("pickle: opcode 0x%02x at byte %zu is not one a state_dict uses (not read)", op, at);
        }
    }
    return prime_error("pickle: truncated (no STOP)");
}

static float half_to_float(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 31, f = h & 1023;
    float v = e == 0 ? ldexpf((float)f, -24) : e == 31 ? (f ? NAN : INFINITY) : ldexpf((float)(f | 1024), e - 25);
    return s ? -v : v;
}

/* Converts tensor t (its storage bytes in sb) to a fresh float array. */
static float *to_floats(const val *t, const uint8_t *sb) {
    size_t count = 1;
    for (int d = 0; d < t->ndim; d++) count *= (size_t)t->shape[d];
    float *o = malloc((count ? count : 1) * sizeof(float));
    if (!o) return NULL;
    const int es = allowed[t->storage->gi].size;
    const enum prime_dtype dt = allowed[t->storage->gi].dt;
    int64_t idx[PRIME_TENSOR_MAX_DIMS] = {0};
    for (size_t i = 0; i < count; i++) {
        uint64_t e = t->offset;
        for (int d = 0; d < t->ndim; d++) e += (uint64_t)idx[d] * (uint64_t)t->stride[d];
        const uint8_t *p = sb + e * (uint64_t)es;
        float v;
        switch (dt) {
        case PRIME_DT_F32: memcpy(&v, p, 4); break;
        case PRIME_DT_F64: { double q; memcpy(&q, p, 8); v = (float)q; break; }
        case PRIME_DT_F16: v = half_to_float((uint16_t)le(p, 2)); break;
        case PRIME_DT_I64: v = (float)(int64_t)le(p, 8); break;
        case PRIME_DT_I32: v = (float)(int32_t)le(p, 4); break;
        default: v = (float)p[0]; break;
        }
        o[i] = v;
        for (int d = t->ndim - 1; d >= 0; d--) {
            if (++idx[d] < t->shape[d]) break;
            idx[d] = 0;
        }
    }
    return o;
}

/* Turns the top dict into tensors, reading each storage from the zip. */
static int collect(val *d, const prime_zip *z, const char *prefix, prime_tensor_list *out) {
    if (d->k != V_DICT) return prime_error(".pt: the pickle holds a %s, not a state_dict (a dict of tensors)", kind_name[d->k]);
    for (int k = 0; k < d->n; k += 2) /* a checkpoint wrapping its state_dict */
        if (d->items[k]->k == V_STR && !strcmp(d->items[k]->s, "state_dict") && d->items[k + 1]->k == V_DICT) {
            d = d->items[k + 1];
            break;
        }
    int nt = d->n / 2;
    if (nt > PRIME_IMPORT_MAX_TENSORS) return prime_error(".pt: %d entries (cap %d)", nt, PRIME_IMPORT_MAX_TENSORS);
    out->t = calloc(nt ? (size_t)nt : 1, sizeof *out->t);
    if (!out->t) return prime_error(".pt: out of memory");
    size_t total = 0;
    for (int k = 0; k < d->n; k += 2) {
        val *key = d->items[k], *t = d->items[k + 1];
        if (key->k != V_STR) return prime_error(".pt: a state_dict key is a %s, not a string", kind_name[key->k]);
        if (key->i > PRIME_TENSOR_MAX_NAME) return prime_error(".pt: key %.60s... longer than %d bytes", key->s, PRIME_TENSOR_MAX_NAME);
        if (t->k != V_TENSOR) return prime_error(".pt: entry %s is a %s, not a tensor (a state_dict holds tensors)", key->s, kind_name[t->k]);
        val *st = t->storage;
        char path[PRIME_ZIP_MAX_NAME + 1];
        if (snprintf(path, sizeof path, "%sdata/%s", prefix, st->key) >= (int)sizeof path) return prime_error(".pt: storage path too long");
        int zi = prime_zip_find(z, path);
        if (zi < 0) return prime_error(".pt: entry %s: its storage %s is missing from the archive", key->s, path);
        const int es = allowed[st->gi].size;
        if (z->e[zi].usize != st->numel * (uint64_t)es)
            return prime_error(".pt: entry %s: storage %s holds %zu bytes, the pickle says %llu elements of %d bytes", key->s, path,
                               z->e[zi].usize, (unsigned long long)st->numel, es);
        prime_tensor *pt = &out->t[out->n];
        snprintf(pt->name, sizeof pt->name, "%s", key->s);
        pt->dtype = allowed[st->gi].dt;
        pt->ndim = t->ndim;
        pt->count = 1;
        for (int j = 0; j < t->ndim; j++) pt->shape[j] = (int)t->shape[j], pt->count *= (size_t)t->shape[j];
        total += pt->count;
        if (total > PRIME_IMPORT_MAX_ELEMENTS) return prime_error(".pt: more than %u elements in all (cap)", PRIME_IMPORT_MAX_ELEMENTS);
        uint8_t *sb;
        size_t sl;
        if (prime_zip_read(z, zi, &sb, &sl) != 0) return -1;
        pt->data = to_floats(t, sb);
        free(sb);
        if (!pt->data) return prime_error(".pt: out of memory");
        out->n++;
    }
    return 0;
}

/* Reads data.pkl of a torch.save zip into tensors; 0 or -1. */
int prime_pickle_state_dict(const uint8_t *pkl, size_t n, const prime_zip *z, const char *prefix, prime_tensor_list *out) {
    vm m = {0};
    m.p = pkl, m.n = n;
    m.stack = malloc(PRIME_PICKLE_MAX_STACK * sizeof *m.stack);
    m.memo = calloc(PRIME_PICKLE_MAX_MEMO, sizeof *m.memo);
    m.marks = malloc(PRIME_PICKLE_MAX_STACK * sizeof *m.marks);
    int rc = -1;
    val *res = NULL;
    if (!m.stack || !m.memo || !m.marks) prime_error("pickle: out of memory");
    else if (run(&m, &res) == 0) rc = collect(res, z, prefix, out);
    for (size_t i = 0; i < m.npool; i++) {
        free(m.pool[i]->items);
        free(m.pool[i]->s);
        free(m.pool[i]);
    }
    free(m.pool);
    free(m.stack);
    free(m.memo);
    free(m.marks);
    return rc;
}
