/* test_import.c - the importer: zip reader and inflate, the bounded pickle
 * reader of torch.save files, the tensor list API, the authors' classification
 * layout -> model, and bad input (every truncation and 10,000 bit flips of a
 * .pt and of a compressed .npz; pickles with other globals). Checkpoints come
 * from tests/make_import_fixtures.py (torch + numpy) under build/import-fixtures;
 * the in-memory cases are made here (zlib for deflate streams). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pmath.h"
#include "data.h"
#include "prime.h"
#include "prime_archive.h"

#include "check.h"

#define FIX "build/import-fixtures"

/* The whole file (malloc'ed; caller frees) or NULL: the project's reader (src/data.c). */
static uint8_t *slurp(const char *path, size_t *n) {
    uint8_t *b = NULL;
    return prime_read_file(path, &b, n) == 0 ? b : NULL;
}

/* raw deflate of n bytes with zlib (level 9) into a malloc'ed buffer */
static uint8_t *deflate_raw(const uint8_t *src, size_t n, size_t *out_n) {
    z_stream s = {0};
    if (deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&s, (uLong)n);
    uint8_t *o = malloc(cap);
    s.next_in = (Bytef *)src, s.avail_in = (uInt)n, s.next_out = o, s.avail_out = (uInt)cap;
    int rc = deflate(&s, Z_FINISH);
    *out_n = cap - s.avail_out;
    deflateEnd(&s);
    if (rc != Z_STREAM_END) { free(o); return NULL; }
    return o;
}

static void test_inflate(void) {
    uint8_t src[5000];
    for (int i = 0; i < 5000; i++) src[i] = (uint8_t)(i % 7 == 0 ? i : i / 100);
    size_t cn;
    uint8_t *c = deflate_raw(src, sizeof src, &cn);
    if (!c) { CHECK(0, "zlib deflate"); return; }
    uint8_t *o = NULL;
    CHECK(prime_inflate_raw(c, cn, sizeof src, 1 << 20, &o) == 0 && o && !memcmp(o, src, sizeof src), "inflate gives the bytes back: %s",
          prime_last_error());
    free(o);
    CHECK(prime_inflate_raw(c, cn, sizeof src - 1, 1 << 20, &o) == -1 && strstr(prime_last_error(), "inflate"),
          "a stream longer than declared is refused: %s", prime_last_error());
    CHECK(prime_inflate_raw(c, cn, sizeof src + 1, 1 << 20, &o) == -1 && strstr(prime_last_error(), "declares"),
          "a stream shorter than declared is refused: %s", prime_last_error());
    CHECK(prime_inflate_raw(c, cn, sizeof src, 4096, &o) == -1 && strstr(prime_last_error(), "cap"), "a size over the cap is refused: %s",
          prime_last_error());
    int ok = 1;
    for (size_t k = 0; k < cn; k++)
        if (prime_inflate_raw(c, k, sizeof src, 1 << 20, &o) == 0) ok = 0, free(o);
    CHECK(ok, "every truncated deflate stream is refused");
    CHECK_INT((int)prime_crc32((const uint8_t *)"123456789", 9), (int)0xCBF43926u, "CRC-32 check value");
    free(c);
}

/* A pickle of protocol 2 wrapped as a torch.save zip (stored, no storages). */
static size_t pt_zip(uint8_t *out, const uint8_t *pkl, size_t pn) {
    const char *name = "archive/data.pkl";
    size_t nl = strlen(name), o = 0;
    uint32_t crc = prime_crc32(pkl, pn);
    uint8_t h[30] = {0x50, 0x4b, 0x03, 0x04, 20, 0};
    for (int j = 0; j < 4; j++) h[14 + j] = (uint8_t)(crc >> (8 * j)), h[18 + j] = h[22 + j] = (uint8_t)(pn >> (8 * j));
    h[26] = (uint8_t)nl;
    memcpy(out, h, 30), o = 30;
    memcpy(out + o, name, nl), o += nl;
    memcpy(out + o, pkl, pn), o += pn;
    size_t cd = o;
    uint8_t c[46] = {0x50, 0x4b, 0x01, 0x02, 20, 0, 20, 0};
    for (int j = 0; j < 4; j++) c[16 + j] = (uint8_t)(crc >> (8 * j)), c[20 + j] = c[24 + j] = (uint8_t)(pn >> (8 * j));
    c[28] = (uint8_t)nl;
    memcpy(out + o, c, 46), o += 46;
    memcpy(out + o, name, nl), o += nl;
    uint8_t e[22] = {0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 1, 0, 1, 0};
    size_t cds = o - cd;
    for (int j = 0; j < 4; j++) e[12 + j] = (uint8_t)(cds >> (8 * j)), e[16 + j] = (uint8_t)(cd >> (8 * j));
    memcpy(out + o, e, 22);
    return o + 22;
}

static int read_pickle(const char *pkl, size_t pn) {
    uint8_t *z = malloc(pn + 200);
    size_t zn = pt_zip(z, (const uint8_t *)pkl, pn);
    prime_tensor_list l;
    int rc = prime_tensors_read(z, zn, &l);
    if (rc == 0) prime_tensors_free(&l);
    free(z);
    return rc;
}

static void test_pickle_refusals(void) {
    /* os.system('echo pwned') through REDUCE: refused at the GLOBAL, nothing run */
    static const char os_system[] = "\x80\x02" "cos\nsystem\n" "X\x0a\x00\x00\x00" "echo pwned" "\x85R.";
    CHECK(read_pickle(os_system, sizeof os_system - 1) == -1 && strstr(prime_last_error(), "global os.system is refused"),
          "os.system refused: %s", prime_last_error());
    static const char eval[] = "\x80\x02" "cbuiltins\neval\n" "X\x01\x00\x00\x00" "1" "\x85R.";
    CHECK(read_pickle(eval, sizeof eval - 1) == -1 && strstr(prime_last_error(), "builtins.eval"), "builtins.eval refused: %s",
          prime_last_error());
    /* protocol 4 STACK_GLOBAL with a name built on the stack */
    static const char sg[] = "\x80\x04" "\x8c\x0asubprocess" "\x8c\x05Popen" "\x93" ")R.";
    CHECK(read_pickle(sg, sizeof sg - 1) == -1 && strstr(prime_last_error(), "subprocess.Popen"), "STACK_GLOBAL subprocess.Popen refused: %s",
          prime_last_error());
    static const char storage_call[] = "\x80\x02" "ctorch\nFloatStorage\n" ")R.";
    CHECK(read_pickle(storage_call, sizeof storage_call - 1) == -1 && strstr(prime_last_error(), "cannot be called"),
          "a storage class is not callable: %s", prime_last_error());
    static const char newobj[] = "\x80\x02" "ccollections\nOrderedDict\n" ")\x81.";
    CHECK(read_pickle(newobj, sizeof newobj - 1) == -1 && strstr(prime_last_error(), "opcode 0x81"), "NEWOBJ refused: %s",
          prime_last_error());
    static const char memo[] = "\x80\x02" "h\x05.";
    CHECK(read_pickle(memo, sizeof memo - 1) == -1 && strstr(prime_last_error(), "memo"), "unset memo read refused: %s", prime_last_error());
    static const char notdict[] = "\x80\x02" "]q\x00.";
    CHECK(read_pickle(notdict, sizeof notdict - 1) == -1 && strstr(prime_last_error(), "not a state_dict"), "a list is no state_dict: %s",
          prime_last_error());
    static const char nottensor[] = "\x80\x02" "}X\x05\x00\x00\x00" "epochK\x03s.";
    CHECK(read_pickle(nottensor, sizeof nottensor - 1) == -1 && strstr(prime_last_error(), "epoch is a int"), "a non-tensor entry is named: %s",
          prime_last_error());
    static const char empty[] = "\x80\x02}.";
    prime_tensor_list l;
    uint8_t z[1024];
    size_t zn = pt_zip(z, (const uint8_t *)empty, sizeof empty - 1);
    CHECK(prime_tensors_read(z, zn, &l) == 0 && l.n == 0, "an empty state_dict reads: %s", prime_last_error());
    prime_tensors_free(&l);
    CHECK(prime_import_model(z, zn, NULL) == NULL && strstr(prime_last_error(), "no tensors"), "no tensors: %s", prime_last_error());
    /* 70,000 nested marks: the stack cap, not a crash */
    char *deep = malloc(70010);
    memcpy(deep, "\x80\x02", 2);
    memset(deep + 2, '(', 70000);
    deep[70002] = '.';
    CHECK(read_pickle(deep, 70003) == -1, "deep marks: %s", prime_last_error());
    free(deep);
}

static void test_types(void) {
    size_t n;
    uint8_t *b = slurp(FIX "/types.pt", &n);
    if (!CHECK_DATA(b, FIX "/types.pt (tests/make_import_fixtures.py, needs python3-torch)")) return;
    prime_tensor_list l;
    CHECK(prime_tensors_read(b, n, &l) == 0, "types.pt reads: %s", prime_last_error());
    CHECK_STR(l.format, "pt", "format");
    CHECK_INT(l.n, 11, "11 tensors");
    static const struct { const char *name; enum prime_dtype dt; int nd, s0, s1; float v[6]; int nv; } want[] = {
        {"f32", PRIME_DT_F32, 2, 2, 3, {0, 0.25f, 0.5f, 0.75f, 1, 1.25f}, 6},
        {"f64", PRIME_DT_F64, 1, 5, 0, {0, 0.25f, 0.5f, 0.75f, 1}, 5},
        {"f16", PRIME_DT_F16, 2, 2, 2, {0, 0.25f, 0.5f, 0.75f}, 4},
        {"i64", PRIME_DT_I64, 1, 4, 0, {-2, -1, 0, 1}, 4},
        {"i32", PRIME_DT_I32, 1, 3, 0, {0, 7, 14}, 3},
        {"u8", PRIME_DT_U8, 1, 5, 0, {0, 50, 100, 150, 200}, 5},
        {"b", PRIME_DT_BOOL, 1, 3, 0, {1, 0, 1}, 3},
        {"transposed", PRIME_DT_F32, 2, 4, 3, {0, 1, 2, 0.25f, 1.25f, 2.25f}, 6}, /* base / 4 transposed */
        {"offset", PRIME_DT_F32, 2, 2, 4, {1, 1.25f, 1.5f, 1.75f, 2, 2.25f}, 6},
        {"scalar", PRIME_DT_I64, 0, 0, 0, {41}, 1},
        {"param", PRIME_DT_F32, 1, 3, 0, {0, 0.25f, 0.5f}, 3},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const prime_tensor *t = prime_tensors_find(&l, want[i].name);
        if (!CHECK(t, "tensor %s present", want[i].name)) continue;
        int ok = t->dtype == want[i].dt && t->ndim == want[i].nd && (t->ndim < 1 || t->shape[0] == want[i].s0) &&
                 (t->ndim < 2 || t->shape[1] == want[i].s1);
        for (int k = 0; ok && k < want[i].nv; k++) ok = t->data[k] == want[i].v[k];
        CHECK(ok, "tensor %s: dtype %s, %d dims, values as saved (first %g %g)", want[i].name, prime_dtype_name(t->dtype), t->ndim,
              t->data[0], t->count > 1 ? t->data[1] : 0);
    }
    prime_tensors_free(&l);
    /* a state_dict of other keys is no model: the first unknown entry is named */
    CHECK(prime_import_model(b, n, NULL) == NULL && strstr(prime_last_error(), "entry f32 matches no layer"),
          "unknown keys named: %s", prime_last_error());
    /* every truncation: a clear error, never a crash */
    int ok = 1;
    for (size_t k = 0; k < n; k++) {
        if (prime_tensors_read(b, k, &l) == 0) { ok = 0; prime_tensors_free(&l); }
        else if (!prime_last_error()[0]) ok = 0;
    }
    CHECK(ok, "every truncation of types.pt (%zu) is refused with a message", n);
    /* 10,000 bit flips: an error with a message, or a file that still reads */
    int refused = 0, readok = 0;
    for (int f = 0; f < 10000; f++) {
        uint8_t *c = malloc(n);
        memcpy(c, b, n);
        uint64_t r = prime_rand_u64(77, 1, (uint64_t)f);
        c[r % n] ^= (uint8_t)(1u << ((r >> 32) & 7));
        if (prime_tensors_read(c, n, &l) == 0) { readok++; prime_tensors_free(&l); }
        else if (prime_last_error()[0]) refused++;
        free(c);
    }
    CHECKV(refused + readok == 10000, "10,000 bit flips of types.pt: %d refused with a message, %d still read", refused, readok);
    free(b);
}

static void test_npz_compressed(void) {
    size_t n;
    uint8_t *b = slurp(FIX "/small.npz", &n);
    if (!CHECK_DATA(b, FIX "/small.npz (tests/make_import_fixtures.py, needs python3-numpy)")) return;
    prime_tensor_list l;
    CHECK(prime_tensors_read(b, n, &l) == 0 && l.n == 3, "compressed npz reads: %s", prime_last_error());
    const prime_tensor *a = prime_tensors_find(&l, "a");
    CHECK(a && a->ndim == 3 && a->shape[2] == 4 && a->dtype == PRIME_DT_F32 && a->data[23] == 5.75f, "a = arange(24)/4 (2, 3, 4)");
    const prime_tensor *bb = prime_tensors_find(&l, "b");
    CHECK(bb && bb->dtype == PRIME_DT_BOOL && bb->count == 200, "b bool (200)");
    prime_tensors_free(&l);
    /* the .npz model path now reads compressed files, and names the entry it cannot use */
    prime_arch ar = prime_arch_nmnist();
    prime_device d = prime_default_device();
    prime_ctx *c = prime_create(&ar, &d);
    CHECK(prime_import_npz(c, b, n) == -1 && strstr(prime_last_error(), "entry a.npy matches no layer"), "npz: unknown entry named: %s",
          prime_last_error());
    int ok = 1;
    for (size_t k = 0; k < n; k++) {
        if (prime_tensors_read(b, k, &l) == 0) { ok = 0; prime_tensors_free(&l); }
        else if (!prime_last_error()[0]) ok = 0;
    }
    CHECK(ok, "every truncation of small.npz (%zu) is refused with a message", n);
    int refused = 0, readok = 0;
    for (int f = 0; f < 10000; f++) {
        uint8_t *x = malloc(n);
        memcpy(x, b, n);
        uint64_t r = prime_rand_u64(78, 1, (uint64_t)f);
        x[r % n] ^= (uint8_t)(1u << ((r >> 32) & 7));
        if (prime_tensors_read(x, n, &l) == 0) { readok++; prime_tensors_free(&l); }
        else if (prime_last_error()[0]) refused++;
        if (f % 10 == 0 && prime_import_npz(c, x, n) < 0 && !prime_last_error()[0]) refused--;
        free(x);
    }
    CHECKV(refused + readok == 10000, "10,000 bit flips of small.npz: %d refused with a message, %d still read", refused, readok);
    prime_free(c);
    free(b);
}

/* the classification layout: masks equal torch's, weights as G+ - G- */
static void test_classification(void) {
    size_t n, mn, zn, ln;
    uint8_t *b = slurp(FIX "/clf.pt", &n), *mb = slurp(FIX "/clf-masks.npz", &mn), *zb = slurp(FIX "/clf.npz", &zn),
            *lb = slurp(FIX "/legacy.pt", &ln);
    if (!CHECK_DATA(b && mb && zb && lb, FIX "/clf.pt, clf-masks.npz, clf.npz, legacy.pt (tests/make_import_fixtures.py)")) {
        free(b), free(mb), free(zb), free(lb);
        return;
    }
    prime_device d = prime_default_device();
    d.g_off = d.g_off_sd = d.prog_noise = 0, d.stuck_on = d.stuck_off = 0;
    prime_ctx *c = prime_import_model(b, n, &d);
    prime_ctx *cz = prime_import_model(zb, zn, &d);
    CHECK(c != NULL, "clf.pt imports: %s", prime_last_error());
    CHECK(cz != NULL, "clf.npz (compressed, same keys) imports: %s", prime_last_error());
    prime_tensor_list ml, tl;
    CHECK(prime_tensors_read(mb, mn, &ml) == 0 && prime_tensors_read(b, n, &tl) == 0, "reference masks read");
    static const char *const keys[3] = {"features.conv0", "features.conv1", "classifier.linear0"};
    const int layers[3] = {0, 2, 4};
    for (int k = 0; c && cz && k < 3; k++) {
        const prime_layer *L = &prime_get_arch(c)->layers[layers[k]];
        const int rows = prime_layer_rows(L), cols = prime_layer_cols(L);
        size_t nw = (size_t)rows * cols;
        uint8_t *m = malloc(nw), *mz = malloc(nw);
        float *w = malloc(nw * sizeof(float));
        prime_get_mask(c, layers[k], m, nw);
        prime_get_mask(cz, layers[k], mz, nw);
        prime_get_weights(c, layers[k], 1, w, nw);
        char mname[16];
        snprintf(mname, sizeof mname, "mask%d", k);
        char wname[64];
        snprintf(wname, sizeof wname, "%s.weight", keys[k]);
        const prime_tensor *ref = prime_tensors_find(&ml, mname), *wt = prime_tensors_find(&tl, wname);
        size_t diff = 0, kept = 0;
        double maxd = 0;
        for (int o = 0; ref && wt && o < cols; o++)
            for (int r = 0; r < rows; r++) {
                size_t src = (size_t)o * rows + r, dst = (size_t)r * cols + o;
                diff += m[dst] != (ref->data[src] != 0) || mz[dst] != m[dst];
                kept += m[dst];
                double e = fabs(w[dst] - wt->data[src] * 0.01);
                if (e > maxd) maxd = e;
            }
        CHECK(ref && wt && diff == 0, "%s: mask equals torch's kthvalue rule (%zu differ; %zu of %zu kept)", keys[k], diff, kept, nw);
        CHECK(maxd < 1e-7, "%s: programmed weight = weight * 0.01 (max error %.2e)", keys[k], maxd);
        free(m), free(mz), free(w);
    }
    prime_tensors_free(&ml);
    prime_tensors_free(&tl);
    /* save -> reload of an imported model: a version-2 file (the imported
     * weights as conductance maps) that gives identical outputs */
    uint8_t *sv = NULL;
    size_t sn = 0;
    if (c && prime_save(c, &sv, &sn) == 0 && sn >= 12) {
        uint32_t ver = (uint32_t)sv[8] | (uint32_t)sv[9] << 8 | (uint32_t)sv[10] << 16 | (uint32_t)sv[11] << 24;
        if (ver >= 2) {
            prime_ctx *r = prime_load(sv, sn);
            float x[10 * 2 * 34 * 34];
            for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = (float)(prime_rand_u64(9, 2, i) % 11 == 0);
            prime_result a, b2;
            CHECK(r && prime_classify(c, x, 10, &a) == 0 && prime_classify(r, x, 10, &b2) == 0 && a.label == b2.label &&
                      a.steps_used == b2.steps_used && !memcmp(a.logits, b2.logits, sizeof a.logits) && !memcmp(a.spikes, b2.spikes, sizeof a.spikes),
                  "save -> reload of an imported model gives identical outputs (model file v%u): %s", ver, prime_last_error());
            prime_free(r);
        } else {
            CHECK(0, "an imported model saves as model file v2 (conductance maps), got v%u", ver);
        }
    }
    prime_free_buffer(sv);
    prime_free(c);
    prime_free(cz);
    /* the .npz path given a .pt, and a legacy torch file: say what it is and what to do */
    prime_arch ar = prime_arch_nmnist();
    c = prime_create(&ar, &d);
    CHECK(prime_import_npz(c, b, n) == -1 && strstr(prime_last_error(), "PyTorch checkpoint") && strstr(prime_last_error(), "prime import"),
          "a .pt on the .npz path: %s", prime_last_error());
    CHECK(prime_import_npz(c, lb, ln) == -1 && strstr(prime_last_error(), "torch >= 1.6"), "legacy .pt on the .npz path: %s",
          prime_last_error());
    prime_free(c);
    CHECK(prime_import_model(lb, ln, NULL) == NULL && strstr(prime_last_error(), "re-save it with torch >= 1.6 (zip format)"),
          "legacy torch file: %s", prime_last_error());
    free(b), free(mb), free(zb), free(lb);
}

/* wrong shapes and dtypes, a missing key, an FSVAE layout: named errors */
static void test_layout_errors(void) {
    size_t n;
    uint8_t *b = slurp(FIX "/bad-shape.pt", &n);
    if (!CHECK_DATA(b, FIX "/bad-shape.pt (tests/make_import_fixtures.py)")) return;
    CHECK(prime_import_model(b, n, NULL) == NULL && strstr(prime_last_error(), "entry features.conv1.weight has shape (64, 12, 3, 3)"),
          "wrong shape named: %s", prime_last_error());
    free(b);
    b = slurp(FIX "/bad-dtype.pt", &n);
    CHECK(b && prime_import_model(b, n, NULL) == NULL && strstr(prime_last_error(), "entry features.conv0.scores has dtype int64"),
          "wrong dtype named: %s", prime_last_error());
    free(b);
    b = slurp(FIX "/missing.pt", &n);
    CHECK(b && prime_import_model(b, n, NULL) == NULL && strstr(prime_last_error(), "classifier.linear0.scores is missing"),
          "missing key named: %s", prime_last_error());
    free(b);
    b = slurp(FIX "/extra.pt", &n);
    CHECK(b && prime_import_model(b, n, NULL) == NULL && strstr(prime_last_error(), "entry features.conv0.bias matches no layer"),
          "extra key named: %s", prime_last_error());
    free(b);
    b = slurp(FIX "/fsvae.pt", &n);
    if (CHECK_DATA(b, FIX "/fsvae.pt (tests/make_fsvae_ckpt.py)")) {
        prime_tensor_list l;
        CHECK(prime_tensors_read(b, n, &l) == 0 && prime_tensors_find(&l, "encoder.0.weight") &&
                  prime_tensors_find(&l, "encoder.0.weight")->ndim == 5,
              "the FSVAE checkpoint reads (Conv3d weights with a trailing 1): %s", prime_last_error());
        prime_tensors_free(&l);
        CHECK(prime_import_model(b, n, NULL) == NULL && strstr(prime_last_error(), "FSVAE") && strstr(prime_last_error(), "prime_graph_import"),
              "FSVAE layout recognized: %s", prime_last_error());
    }
    free(b);
}

int main(void) {
    int have = system("/usr/bin/python3 tests/make_import_fixtures.py " FIX " >/dev/null && "
                      "/usr/bin/python3 tests/make_fsvae_ckpt.py " FIX "/fsvae.pt >/dev/null") == 0;
    if (!have) printf("note: the fixtures could not be made (python3-torch / python3-numpy missing?)\n");
    test_inflate();
    test_pickle_refusals();
    test_types();
    test_npz_compressed();
    test_classification();
    test_layout_errors();
    return check_summary();
}
