/* golden.c - the golden outputs of the shipped models (tests/golden/README.md).
 *
 *   golden write DIR   computes the outputs and writes DIR/<model>.txt
 *   golden check DIR   computes them again and compares with DIR/<model>.txt:
 *                      integers (labels, steps, spikes, counters) exactly,
 *                      floats within |got - want| <= ATOL + RTOL * |want|
 *   golden check-v2 DIR  the same for each model converted to a version-2
 *                      model file first (prime_model_convert = prime convert)
 *
 * Built twice by the Makefile: build/golden (native SIMD) and
 * build/golden-scalar (-DPRIME_NO_SIMD); tests/node/golden.test.mjs computes
 * the same text with the wasm build (SIMD and scalar) and compares it with
 * the same files and tolerance. Change a case here and there together.
 *
 * File format: one "key value" per line; "case NAME" starts a case (the keys
 * after it belong to it); lines starting with # are comments. A value with
 * '.', 'e' or a letter is a float, else an exact integer. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prime.h"
#include "prime_graph.h"
#include "simd.h"

#include "check.h"

#define ATOL 1e-6
#define RTOL 1e-5

/* ============================================================ text buffer */

typedef struct {
    char *s;
    size_t n, cap;
} text;

/* Appends printf-style output to t (grows; exits on out of memory: a test tool). */
static void put(text *t, const char *fmt, ...) {
    va_list a;
    for (;;) {
        va_start(a, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, a);
        va_end(a);
        if (k < 0) { fprintf(stderr, "golden: bad format\n"); exit(2); }
        if (t->s && t->n + (size_t)k < t->cap) { t->n += (size_t)k; return; }
        t->cap = (t->cap + (size_t)k + 1) * 2;
        t->s = realloc(t->s, t->cap);
        if (!t->s) { fprintf(stderr, "golden: out of memory\n"); exit(2); }
    }
}

/* Reads a whole file; malloc'ed bytes (NUL-terminated) or NULL. */
static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)(len > 0 ? len : 0) + 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) { fclose(f); free(b); return NULL; }
    fclose(f);
    b[len] = 0;
    *n = (size_t)len;
    return b;
}

/* ============================================================ inputs */

/* Input image k (w x w, values lo..hi): 0 ring, 1 vertical bar, 2 a "7". */
static void image(int k, int w, float lo, float hi, float *img) {
    float c = (w - 1) / 2.0f;
    for (int y = 0; y < w; y++)
        for (int x = 0; x < w; x++) {
            int on;
            if (k == 0) on = fabs(hypot(y - c, x - c) - w / 4.0) < 2;
            else if (k == 1) on = abs(x - (int)c) <= 1 && y >= w / 6 && y < w - w / 6;
            else on = (y >= w / 5 && y < w / 5 + 3 && x >= w / 4 && x < w - w / 4) ||
                      (y >= w / 5 && y < w - w / 6 && abs(x - (w - w / 4 - 1 - (y - w / 5) / 2)) <= 1);
            img[y * w + x] = on ? hi : lo;
        }
}
static const char *IMAGE_NAMES[3] = {"ring", "bar", "seven"};

/* ============================================================ classifiers */

/* The classifier settings: read noise, noise mode, ADC bits (-1: the model's),
 * early stop (confidence 0.8, the default threshold) or none. */
static const struct { const char *name; float noise; int mode, adc, stop; } CLF_CASES[] = {
    {"noise0", 0, PRIME_NOISE_COLUMN, -1, 0},
    {"noise0-stop", 0, PRIME_NOISE_COLUMN, -1, 1},
    {"noise0.05", 0.05f, PRIME_NOISE_COLUMN, -1, 0},
    {"noise0.05-stop", 0.05f, PRIME_NOISE_COLUMN, -1, 1},
    {"cell0.1-adc6", 0.1f, PRIME_NOISE_CELL, 6, 0},
};

/* The classifier as a layer graph (prime_graph_from_classifier) gives res bit
 * for bit: label, steps, every step's confidence and logits, spikes per
 * layer, counters, energy (so the graph executor meets tests/golden/ too). */
static void graph_same(const prime_ctx *c, const float *x, int T, const prime_result *res, const char *img, const char *cs) {
    prime_gmodel *g = prime_graph_from_classifier(c);
    prime_gresult r;
    int ok = g && prime_graph_run(g, x, T, &r) == 0 && r.steps_used == res->steps_used && r.label == res->label &&
             !memcmp(&r.counters, &res->counters, sizeof r.counters) &&
             r.energy_pj == res->energy_pj && r.baseline_pj == res->baseline_pj;
    for (int t = 0; ok && t < r.steps_used; t++) ok = r.confidence[t] == res->confidence[t];
    ok = ok && !memcmp(r.out, res->logits, sizeof(float) * (size_t)res->n_classes);
    const prime_gdesc *d = g ? prime_graph_desc(g) : NULL;
    for (int l = 0, i = 1; ok && l < res->n_layers; l++, i++) {
        if (d->g[0].node[i].op == PRIME_G_FLATTEN) i++;
        float sp = 0;
        ok = prime_graph_node_spikes(g, 0, i, &sp) == 0 && sp == res->spikes[l];
    }
    CHECK(ok, "%s/%s: the classifier as a layer graph gives its outputs bit for bit (%s)", img, cs, g ? "" : prime_last_error());
    prime_graph_free(g);
}

/* Appends the golden text of classifier model bytes b to t; 0 or -1. */
static int golden_classifier(const uint8_t *b, size_t n, text *t) {
    prime_ctx *c = prime_load(b, n);
    if (!c) return -1;
    const prime_arch *a = prime_get_arch(c);
    const int T = a->T, per = a->in_c * a->in_h * a->in_w;
    const prime_device d0 = prime_get_device(c);
    float *x = malloc(sizeof(float) * (size_t)T * per);
    float img[28 * 28];
    int rc = x ? 0 : prime_error("out of memory");
    for (int k = 0; k < 3 && !rc; k++) {
        image(k, 28, 0, 1, img);
        prime_event_params ep = prime_default_event_params();
        ep.seed = (uint64_t)(k + 1);
        prime_event *ev;
        size_t nev;
        if (prime_events_from_image(img, 28, 28, &ep, &ev, &nev)) { rc = -1; break; }
        rc = prime_events_bin(ev, nev, T, ep.size, x);
        prime_free_buffer(ev);
        for (size_t s = 0; s < sizeof CLF_CASES / sizeof CLF_CASES[0] && !rc; s++) {
            prime_device d = d0;
            d.read_noise = CLF_CASES[s].noise, d.noise_mode = CLF_CASES[s].mode;
            if (CLF_CASES[s].adc >= 0) d.adc_bits = CLF_CASES[s].adc;
            prime_run r = prime_default_run();
            if (CLF_CASES[s].stop) r.policy = PRIME_STOP_CONFIDENCE;
            prime_result res, st;
            if (prime_set_device(c, &d) || prime_set_run(c, &r) || prime_classify(c, x, T, &res)) { rc = -1; break; }
            put(t, "case %s/%s\n", IMAGE_NAMES[k], CLF_CASES[s].name);
            put(t, "label %d\nsteps_used %d\n", res.label, res.steps_used);
            /* per step, from step mode (the same run again: same noise seed) */
            if (prime_set_run(c, &r) || prime_begin(c, x, T)) { rc = -1; break; }
            int step;
            while ((step = prime_step(c)) == 1 && !(rc = prime_result_get(c, &st))) {
                put(t, "t%02d.label %d\nt%02d.conf %.9e\n", st.steps_used, st.step_label[st.steps_used - 1],
                    st.steps_used, st.confidence[st.steps_used - 1]);
                for (int j = 0; j < st.n_classes; j++) put(t, "t%02d.logit%d %.9e\n", st.steps_used, j, st.logits[j]);
            }
            if (step < 0 || rc) { rc = -1; break; }
            CHECK(st.steps_used == res.steps_used && !memcmp(st.logits, res.logits, sizeof res.logits),
                  "%s/%s: step mode ends where classify does (%d vs %d steps)", IMAGE_NAMES[k],
                  CLF_CASES[s].name, st.steps_used, res.steps_used);
            graph_same(c, x, T, &res, IMAGE_NAMES[k], CLF_CASES[s].name);
            for (int l = 0; l < res.n_layers; l++) put(t, "spikes.layer%d %.0f\n", l, res.spikes[l]);
            const prime_counters *q = &res.counters;
            put(t, "cell_reads %.0f\nadc_conversions %.0f\ndac_drives %.0f\nvmm_reads %.0f\n", q->cell_reads,
                q->adc_conversions, q->dac_drives, q->vmm_reads);
            put(t, "neuron_updates %.0f\nmacs_dense %.0f\ntimesteps %.0f\n", q->neuron_updates, q->macs_dense,
                q->timesteps);
            put(t, "energy_pj %.17e\nbaseline_pj %.17e\n", res.energy_pj, res.baseline_pj);
        }
    }
    free(x);
    prime_free(c);
    return rc;
}

/* ============================================================ inpainting */

/* The inpainting settings, as the JS options of wasm/prime.js (vae_options in
 * src/wasm_api.c): read noise, early stop (convergence) on or off; ADC 14
 * bits, DAC 16 bits, m_div 100, m_th 0.2, window 3, noise seed 1, latent seed 7.
 * gen > 0: generate from the prior with this seed instead of inpainting. */
static const struct { const char *name; float noise; int stop, gen; } VAE_CASES[] = {
    {"noise0-stop", 0, 1, 0},
    {"noise0", 0, 0, 0},
    {"noise0.05-stop", 0.05f, 1, 0},
    {"noise0.05", 0.05f, 0, 0},
    {"gen1-noise0-stop", 0, 1, 1},
    {"gen2-noise0.05", 0.05f, 0, 2},
};
#define VAE_PIXELS 2
static const int VAE_PX[VAE_PIXELS] = {400, 500};

/* The inpainting network as a layer graph (prime_graph_from_vae) gives res
 * bit for bit: steps, every step's reconstruction and m, spikes, counters,
 * digital MACs, energy (so the graph executor meets tests/golden/ too). */
static void graph_same_vae(const prime_vae *v, const float *img, uint64_t gen, const prime_vae_result *res, const char *cs) {
    prime_gmodel *g = prime_graph_from_vae(v);
    const prime_vae_arch *a = prime_vae_get_arch(v);
    const int S = a->size, np = S * S, c0 = S / 2 - 4;
    float *x = malloc(sizeof(float) * np);
    for (int p = 0; x && img && p < np; p++) { /* the central 8 x 8 hole, as prime_vae_inpaint makes it */
        const int y = p / S, xx = p % S;
        x[p] = y >= c0 && y < c0 + 8 && xx >= c0 && xx < c0 + 8 ? -1.0f : img[p];
    }
    prime_gresult r;
    int ok = g && x && (gen ? prime_graph_generate(g, gen, &r) : prime_graph_run(g, x, 1, &r)) == 0 &&
             r.steps_used == res->steps_used && !memcmp(&r.counters, &res->counters, sizeof r.counters) &&
             r.spikes == res->spikes && r.digital_macs == res->digital_macs && r.energy_pj == res->energy_pj &&
             fabs(r.baseline_pj - res->baseline_pj) <= 1e-12 * res->baseline_pj;
    for (int t = 0; ok && t < r.steps_used; t++)
        ok = r.m[t] == res->m[t] && !memcmp(prime_graph_readout(g, t, NULL), prime_vae_recon(v, t), sizeof(float) * np);
    CHECK(ok, "%s: the inpainting network as a layer graph gives its outputs bit for bit (%s)", cs, g ? "" : prime_last_error());
    free(x);
    prime_graph_free(g);
}

/* Appends the golden text of inpainting model bytes b to t; 0 or -1. */
static int golden_vae(const uint8_t *b, size_t n, text *t) {
    prime_vae *v = prime_vae_load(b, n);
    if (!v) return -1;
    const prime_vae_arch *a = prime_vae_get_arch(v);
    const int S = a->size, np = S * S;
    float *img = malloc(sizeof(float) * np);
    int rc = img ? 0 : prime_error("out of memory");
    const int n_img = a->software ? 1 : 2; /* the software baseline: the ring only */
    for (int k = 0; k < n_img && !rc; k++)
        for (size_t s = 0; s < sizeof VAE_CASES / sizeof VAE_CASES[0] && !rc; s++) {
            if (VAE_CASES[s].gen && k > 0) continue; /* generation takes no image */
            prime_device d = prime_vae_get_device(v);
            d.read_noise = VAE_CASES[s].noise, d.adc_bits = 14, d.dac_bits = 16;
            prime_vae_run r = prime_vae_default_run();
            r.policy = VAE_CASES[s].stop, r.m_div = 100, r.m_th = 0.2f, r.m_window = 3;
            r.noise_seed = 1, r.latent_seed = 7;
            prime_vae_result res;
            if (prime_vae_set_device(v, &d) || prime_vae_set_run(v, &r)) { rc = -1; break; }
            if (VAE_CASES[s].gen) {
                rc = prime_vae_generate(v, (uint64_t)VAE_CASES[s].gen, &res);
                put(t, "case %s\n", VAE_CASES[s].name);
            } else {
                image(k, S, -1, 1, img);
                rc = prime_vae_inpaint(v, img, NULL, &res);
                put(t, "case %s/%s\n", IMAGE_NAMES[k], VAE_CASES[s].name);
            }
            if (rc) break;
            if (!a->software) graph_same_vae(v, VAE_CASES[s].gen ? NULL : img, (uint64_t)VAE_CASES[s].gen, &res, VAE_CASES[s].name);
            put(t, "steps_used %d\n", res.steps_used);
            for (int st = 0; st < res.steps_used; st++) {
                const float *o = prime_vae_recon(v, st);
                double sum = 0, sq = 0;
                for (int p = 0; p < np; p++) sum += o[p], sq += (double)o[p] * o[p];
                put(t, "t%02d.sum %.17e\nt%02d.sumsq %.17e\n", st + 1, sum, st + 1, sq);
                for (int p = 0; p < VAE_PIXELS; p++) put(t, "t%02d.px%d %.9e\n", st + 1, VAE_PX[p], o[VAE_PX[p]]);
                put(t, "t%02d.m %.9e\n", st + 1, res.m[st]);
            }
            const prime_counters *q = &res.counters;
            put(t, "spikes %.0f\ncell_reads %.0f\nadc_conversions %.0f\ndac_drives %.0f\n", res.spikes, q->cell_reads,
                q->adc_conversions, q->dac_drives);
            put(t, "vmm_reads %.0f\nneuron_updates %.0f\nmacs_dense %.0f\ntimesteps %.0f\ndigital_macs %.0f\n",
                q->vmm_reads, q->neuron_updates, q->macs_dense, q->timesteps, res.digital_macs);
            put(t, "energy_pj %.17e\nbaseline_pj %.17e\n", res.energy_pj, res.baseline_pj);
        }
    free(img);
    prime_vae_free(v);
    return rc;
}

/* ============================================================ models */

static const struct { const char *model, *file; int vae; } MODELS[] = {
    {"models/nmnist-digits.prime", "nmnist-digits.txt", 0},
    {"models/nmnist-fashion.prime", "nmnist-fashion.txt", 0},
    {"models/inpaint-mnist.pvae", "inpaint-mnist.txt", 1},
    {"models/inpaint-fashion.pvae", "inpaint-fashion.txt", 1},
    {"models/inpaint-mnist-software.pvae", "inpaint-mnist-software.txt", 1},
    {"models/inpaint-fashion-software.pvae", "inpaint-fashion-software.txt", 1},
};

/* The golden text of model m (header comment included); via_v2: of the
 * model converted to a version-2 model file first (prime_model_convert, as
 * `prime convert` does), which must give the same outputs. 0 or -1. */
static int golden_model(int m, text *t, int via_v2) {
    size_t n;
    uint8_t *b = read_all(MODELS[m].model, &n);
    if (!b) return prime_error("cannot read %s (run from the repository root)", MODELS[m].model);
    if (via_v2) {
        uint8_t *v2;
        size_t n2;
        int rc = prime_model_convert(b, n, &v2, &n2);
        free(b);
        if (rc) return -1;
        if (n2 < 24 || v2[8] != 2 || prime_model_kind(v2, n2) != (MODELS[m].vae ? PRIME_MODEL_VAE : PRIME_MODEL_CLASSIFIER)) {
            prime_free_buffer(v2);
            return prime_error("%s: the converted file is not a version-2 model file of its kind", MODELS[m].model);
        }
        b = malloc(n2);
        if (!b) { prime_free_buffer(v2); return prime_error("out of memory"); }
        memcpy(b, v2, n2), n = n2;
        prime_free_buffer(v2);
    }
    put(t, "# %s: golden outputs (tests/golden/README.md; regenerate: make golden-update)\n", MODELS[m].model);
    int rc = MODELS[m].vae ? golden_vae(b, n, t) : golden_classifier(b, n, t);
    free(b);
    return rc;
}

/* ============================================================ comparison */

typedef struct {
    char key[96];
    const char *val;
} field;

/* Splits text s (modified in place) into fields, case names prefixed to keys;
 * *n gets the count. malloc'ed array. */
static field *parse(char *s, size_t *n) {
    size_t cap = 1024, k = 0;
    field *f = malloc(cap * sizeof *f);
    char cas[64] = "";
    for (char *line = strtok(s, "\n"); line && f; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || !line[0]) continue;
        char *sp = strchr(line, ' ');
        if (!sp) continue;
        *sp = 0;
        if (!strcmp(line, "case")) { snprintf(cas, sizeof cas, "%s", sp + 1); continue; }
        if (k == cap) f = realloc(f, (cap *= 2) * sizeof *f);
        if (!f) break;
        snprintf(f[k].key, sizeof f[k].key, "%s/%s", cas, line);
        f[k++].val = sp + 1;
    }
    *n = k;
    return f;
}

/* 1 if value text v is a float (has '.', 'e' or a letter: nan, inf). */
static int is_float(const char *v) {
    for (; *v; v++)
        if (*v == '.' || *v == 'e' || *v == 'E' || (*v >= 'a' && *v <= 'z')) return 1;
    return 0;
}

/* Compares computed text got with golden text want (file name for messages):
 * same keys in the same order, integers exact, floats within tolerance. */
static void compare(const char *name, char *got, char *want) {
    size_t ng, nw;
    field *g = parse(got, &ng), *w = parse(want, &nw);
    double max_abs = 0, max_rel = 0;
    int shown = 0, bad = 0;
    if (!CHECK(g && w && ng == nw, "%s: %zu fields computed, %zu in the golden file", name, ng, nw)) goto out;
    for (size_t i = 0; i < ng; i++) {
        int ok;
        if (strcmp(g[i].key, w[i].key)) {
            ok = 0;
        } else if (is_float(w[i].val)) {
            double a = strtod(g[i].val, NULL), b = strtod(w[i].val, NULL), d = fabs(a - b);
            ok = d <= ATOL + RTOL * fabs(b) || (isnan(a) && isnan(b));
            if (d > max_abs) max_abs = d;
            if (b != 0 && d / fabs(b) > max_rel) max_rel = d / fabs(b);
        } else {
            ok = !strcmp(g[i].val, w[i].val);
        }
        if (ok) check_passed_++;
        else {
            check_failed_++, bad++;
            if (shown++ < 20) printf("FAIL %s: %s: got %s %s, want %s %s\n", name, w[i].key, g[i].key, g[i].val, w[i].key, w[i].val);
        }
    }
    printf("%s: %zu fields, %d differ; max float diff %.3g abs, %.3g rel (tolerance %g + %g * |golden|)\n", name, ng,
           bad, max_abs, max_rel, ATOL, RTOL);
out:
    free(g), free(w);
}

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "write") && strcmp(argv[1], "check") && strcmp(argv[1], "check-v2"))) {
        fprintf(stderr, "usage: golden write|check|check-v2 DIR (run from the repository root;\n"
                        "check-v2: each model converted to a version-2 model file first)\n");
        return 2;
    }
    int write = !strcmp(argv[1], "write"), via_v2 = !strcmp(argv[1], "check-v2");
    printf("golden (%s build): %s %s\n", PRIME_SIMD_NAME, argv[1], argv[2]);
    for (size_t m = 0; m < sizeof MODELS / sizeof MODELS[0]; m++) {
        text t = {0};
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", argv[2], MODELS[m].file);
        if (golden_model((int)m, &t, via_v2)) {
            CHECK(0, "%s: %s", MODELS[m].model, prime_last_error());
        } else if (write) {
            FILE *f = fopen(path, "wb");
            CHECK(f && fwrite(t.s, 1, t.n, f) == t.n, "write %s", path);
            if (f) fclose(f);
            printf("wrote %s (%zu bytes)\n", path, t.n);
        } else {
            size_t n;
            char *want = (char *)read_all(path, &n);
            if (CHECK(want, "cannot read %s (make golden-update writes it)", path)) compare(MODELS[m].file, t.s, want);
            free(want);
        }
        free(t.s);
    }
    return check_summary();
}
