/* prime_internal.h - the context's layout, shared by the core's .c files. */
#ifndef PRIME_INTERNAL_H
#define PRIME_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "prime.h"
#include "device_fx.h"
#include "prime_crossbar.h"
#include "prime_graph_internal.h"

/* A classifier is a layer graph (prime_graph_clf.c) run by the executor
 * (prime_graph_run.c): the context owns the model and maps its layers onto
 * graph 0's nodes; every cell, state and counter is the model's. */
struct prime_ctx {
    prime_arch arch;
    prime_run run;
    prime_gmodel *g;
    int node[PRIME_MAX_LAYERS]; /* graph 0 node of each layer */
    float *view;           /* prime_layer_state's CHW copy */
    size_t n_in, max_act;
    int n_arrays;
    /* the inference in progress: its frames (the executor reads them in place) */
    float *input;
    size_t input_cap;
    int armed;
    uint64_t inference;    /* the next inference (keys the read-noise stream) */
    int shares_weights;    /* a worker of prime_ctx_worker: the model's weights are its parent's */
};

/* Node of layer l (its cells, state, read), or NULL with an error when l is
 * out of range or, weights = 1, a pool. */
pg_node *prime_ctx_layer(const prime_ctx *c, int l, int weights);

prime_ctx *prime_ctx_new(const prime_arch *arch, const prime_device *dev);
/* A context sharing c's weights with a state block of its own, for one more
 * thread (prime_batch.c); free it (prime_free) before c. NULL on error. */
prime_ctx *prime_ctx_worker(const prime_ctx *c);
/* Checks n input values (finite, |x| <= 1e6), *mx = the largest |x|; 0 or -1. */
int prime_input_check(const float *x, size_t n, float *mx);
/* prime_begin / prime_classify of an input that passed prime_input_check
 * (mx: its largest |x|) with T in range: the batch checks every input first. */
int prime_begin_checked(prime_ctx *c, const float *input, int T, float mx);
int prime_classify_checked(prime_ctx *c, const float *input, int T, float mx, prime_result *r);

/* The size of a classifier of a finalized architecture, every count in 64
 * bits so nothing wraps (not even in wasm's 32-bit size_t). prime_arch_plan
 * (prime_util.c) fills it and refuses sizes over the caps of prime.h, with the
 * classifier's own messages; prime_ctx_new calls it before it builds the graph
 * model (whose prime_graph_plan checks the nodes again). */
typedef struct {
    uint64_t cells;          /* pairs of all weight layers (8 floats + 1 mask byte each) */
    uint64_t ns;             /* outputs of all layers (u, s, cur, out each) */
    uint64_t acc;            /* [tile][pos][oc] scratch entries (floats; `active` bytes) */
    uint64_t max_act, n_in;  /* largest activation (or input) / input values per frame */
    uint64_t rowcap, colcap; /* crossbar scratch: active rows, columns */
    uint64_t state;          /* floats of the state block */
    uint64_t bytes;          /* weights + state + active + the largest input (T = PRIME_MAX_T) */
} prime_ctx_plan;
int prime_arch_plan(const prime_arch *a, prime_ctx_plan *p);

/* The device model (prime_device.c), shared by every network on the macro.
 * `layer` keys the random streams; i is the pair index. */
float prime_dev_form_on(const prime_device *d, int layer, int cell, size_t i);  /* formed G, uS */
float prime_dev_form_off(const prime_device *d, int layer, int cell, size_t i); /* reset G + prog. noise */
int prime_dev_fault(const prime_device *d, int layer, int cell, size_t i);      /* 0, 1 stuck on, 2 off */
float prime_dev_adc(float v, float fs, int bits);   /* signed ADC over [-fs, fs): prime_adc */
/* The ADC inline (the kernels' scalar tails): 2^bits codes over [-fs, fs). */
static inline float prime_adc(float v, float fs, int bits) {
    float half = (float)(1 << (bits - 1));
    float lsb = fs / half;
    float q = floorf(v / lsb + 0.5f);
    if (q > half - 1) q = half - 1;
    if (q < -half) q = -half;
    return q * lsb;
}
/* Forms n pairs: on-state (unless measured) and off-state conductances. */
void prime_dev_form(const prime_device *d, int layer, size_t n, int measured, float *gp_on, float *gn_on,
                    float *gp_off, float *gn_off);
/* 1 when a and b differ in a field that shapes the formed chip (re-form). */
int prime_dev_forming_changed(const prime_device *a, const prime_device *b);
/* Checks d, sets *cur = d; 1 if the chip must be re-formed, 0 if not, -1 on a bad d. */
int prime_dev_update(prime_device *cur, const prime_device *d);
/* Energy of counted work, pJ (ADC at adc_bits, 0 = 16; digital MACs at e_mac_pj). */
double prime_dev_energy(const prime_device *d, const prime_counters *k, double digital_macs, int adc_bits);
/* Digital baseline, pJ: macs and neuron updates per step, for T steps. */
double prime_dev_baseline(const prime_device *d, double macs, double neurons, int T);
/* A growable byte buffer for the writers (.prime, .pvae, ONNX): appends
 * never fail loudly; on allocation failure `oom` is set and later appends are
 * dropped, so a writer checks it once at the end. Start from {0}; free(p). */
typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} prime_buf;
void prime_buf_put(prime_buf *b, const void *src, size_t n);

/* Programs n pairs from their mask (faults applied): gp/gn, wt, g2 out. */
void prime_dev_program(const prime_device *d, int layer, size_t n, const uint8_t *mask, const float *gp_on,
                       const float *gn_on, const float *gp_off, const float *gn_off, float scale, float *gp,
                       float *gn, float *wt, float *g2);
float prime_dev_colmax(const float *wt, int rows, int cols); /* ADC full scale at input 1 */
float prime_dev_dac(float x, float xmax, int bits); /* 2^bits steps over [-xmax, xmax] */
int prime_program_layer(prime_ctx *c, int l); /* 0, or -1 (out of memory in the IR-drop factors) */
/* The classifier of architecture a (finalized) as a layer graph: node_of[l] = its node. 0 or -1. */
int prime_clf_desc(const prime_arch *a, prime_gdesc *d, int *node_of);

/* Device effects on a network (device_wire.c). */
/* 1 when programming with fx differs from prime_dev_program (read model, programming error, relaxation, IR). */
int prime_fx_programs(const prime_devfx_params *fx);
/* prime_dev_program with the effects: programming error, faults, relaxation at
 * t_read -> gp/gn; with IR drop, the effective conductances gpe/gne = G f per
 * ir_tile array; wt and g2 (prime_fx_noise_coef) from the read's conductances. 0 or -1. */
int prime_dev_program_fx(const prime_device *d, const prime_devfx_params *fx, int layer, int rows, int cols,
                         const uint8_t *mask, const float *gp_on, const float *gn_on, const float *gp_off,
                         const float *gn_off, float scale, float *gp, float *gn, float *gpe, float *gne, float *wt,
                         float *g2);
/* The default effects of a network on device d: all off, read.eta = d->read_noise. */
prime_devfx_params prime_fx_for(const prime_device *d);
/* Makes (d, fx) a context's device and effects: checked together, converters
 * drawn, buffers sized; re-forms when a forming field changed, re-programs when
 * the programming changed. On error nothing changes. 0 or -1. */
int prime_set_devfx_with(prime_ctx *c, const prime_device *d, const prime_devfx_params *fx);

/* The normal generator (prime_normal.c): a standard normal for the column read
 * noise, a pure function of (base, ctr) (ziggurat over a SplitMix64 counter
 * stream). Kernels (prime_kernels.c): a switch that forces the plain
 * reference kernels (scatter over inputs, one ADC at a time) so tests can
 * check the fast ones give identical bits. */
float prime_dev_normal(uint64_t base, uint64_t ctr);
void prime_dev_normal_init(void); /* sets up the tables; call before prime_dev_normals */
/* z[j] = prime_dev_normal(base, ctr0 + j) for j < n, by its fast path (same values); its tables are set up by
 * prime_dev_normal_init (or the first prime_dev_normal call). */
void prime_dev_normals(float *restrict z, uint64_t base, uint64_t ctr0, int n);
/* 1 forces the plain reference kernels everywhere (tests), 0 the fast ones (the default);
 * prime_reference_kernels() says which. Process-wide: set it before running, not during. */
void prime_set_reference_kernels(int on);
int prime_reference_kernels(void);
/* out[j] = 0 + val[0]*W[off[0]+j] + val[1]*W[off[1]+j] + ... for j < n (k in order). */
void prime_kernel_gather(float *restrict out, const float *restrict W, const int32_t *restrict off,
              const float *restrict val, int cnt, int n);
/* One read of n columns: v = a (+ eta*sqrt(var)*z if z) (-> ADC of `bits` over
 * [-fs, fs) if bits > 0); cur += v. The same bits as prime_dev_adc per column. */
void prime_kernel_readout(float *restrict cur, const float *restrict a, const float *restrict var,
               const float *restrict z, int n, float eta, float fs, int bits);


/* Early-stop policies (prime_policy.c). The confidence after step t: max of
 * softmax(sum / t / alpha) over K classes, *label its argmax. */
float prime_policy_confidence(const float *sum, int K, int t, float alpha, int *label);
/* Convergence: 1 when m[t] < th and m fell over the `window` steps before
 * (m[t-j] < m[t-j-1] for j < window), never before step window + 1. */
int prime_policy_converged(const float *m, int t, float th, int window);

#endif
