/* prime.h - PRIME-sim: random-memristor spiking neural network simulator.
 *
 * One public header for the C core (native and WebAssembly builds).
 *
 * Usage:
 *
 *     prime_ctx *ctx = prime_load(bytes, nbytes);          // a .prime model file
 *     if (!ctx) { fprintf(stderr, "%s\n", prime_last_error()); return 1; }
 *     prime_device dev = prime_get_device(ctx);            // as stored in the model
 *     dev.read_noise = 0.05f;                              // 5 % read-to-read noise
 *     prime_set_device(ctx, &dev);                         // no reload, no re-forming
 *     prime_run run = prime_default_run();
 *     run.policy = PRIME_STOP_CONFIDENCE;                  // input-aware early stop
 *     prime_set_run(ctx, &run);
 *     prime_result res;
 *     if (prime_classify(ctx, frames, T, &res) != 0) { ...prime_last_error()... }
 *     printf("label %d after %d of %d steps, %.1f nJ\n",
 *            res.label, res.steps_used, res.T, res.energy_pj / 1000);
 *     prime_free(ctx);
 *
 * Conventions:
 *   - every exported name starts with prime_ / PRIME_;
 *   - functions returning int give 0 on success and -1 on error; functions
 *     returning a pointer give NULL on error; prime_last_error() says why;
 *   - nothing here calls exit() or abort(); bad input is an error, never a crash;
 *   - the caller owns what it passes in; memory returned by prime_* is owned by
 *     the context unless the comment says the caller must prime_free_buffer() it.
 *   - tensors are float32; inputs are [T][C][H][W] (PyTorch order).
 *
 * Determinism: all randomness comes from a counter-based generator keyed by a
 * seed, and all float reductions run in one fixed order, so native, native
 * scalar (-DPRIME_NO_SIMD) and wasm SIMD builds give identical spikes.
 */
#ifndef PRIME_H
#define PRIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the C core, the wasm module (pw_version) and the npm package
 * (package.json, wasm/prime.js VERSION): one number, checked by
 * tests/node/package.test.mjs and by prime.js at load. */
#define PRIME_VERSION_MAJOR 0
#define PRIME_VERSION_MINOR 1
#define PRIME_VERSION_PATCH 0
#define PRIME_STR_(x) #x
#define PRIME_STR(x) PRIME_STR_(x)
#define PRIME_VERSION_STRING \
    PRIME_STR(PRIME_VERSION_MAJOR) "." PRIME_STR(PRIME_VERSION_MINOR) "." PRIME_STR(PRIME_VERSION_PATCH)
#define PRIME_MAX_LAYERS 16
#define PRIME_MAX_T 64
#define PRIME_MAX_CLASSES 16
#define PRIME_ARRAY_SIZE 512 /* crossbar rows = columns */
/* Size caps (docs/model-format.md, "Limits"). Every size an architecture or a
 * model file implies is computed in 64 bits and checked against these before
 * anything is allocated, so the worst accepted file costs at most about
 * PRIME_MAX_CTX_BYTES, in native and wasm (32-bit size_t) builds alike. */
#define PRIME_MAX_DIM 4096                 /* input channels / side, output channels */
#define PRIME_MAX_INPUT (1 << 20)          /* in_c * in_h * in_w values per frame */
#define PRIME_MAX_FAN_IN (1 << 20)         /* rows of one weight layer (FC: in_c*in_h*in_w) */
#define PRIME_MAX_LAYER_OUTPUTS (1 << 22)  /* out_c * out_h * out_w of one layer */
#define PRIME_MAX_LAYER_CELLS (1 << 24)    /* differential pairs (rows * cols) of one layer */
#define PRIME_MAX_MODEL_CELLS (1 << 24)    /* pairs of all layers of one model */
#define PRIME_MAX_STATE_FLOATS (1 << 25)   /* a context's state block, floats */
#define PRIME_MAX_CTX_BYTES (768u << 20)   /* every block of a context together */

/* ---------------------------------------------------------------- errors */

/* The message of the last error in this thread; never NULL, "" if none. */
const char *prime_last_error(void);
/* Set the last error (printf-style); returns -1 so callers can `return prime_error(...)`. */
int prime_error(const char *fmt, ...);

/* ------------------------------------------------------ architecture */

enum prime_op {
    PRIME_OP_CONV = 1,    /* conv2d, no bias, on the crossbar */
    PRIME_OP_FC = 2,      /* fully connected (flattens CHW), on the crossbar */
    PRIME_OP_AVGPOOL = 3, /* average pool k x k, stride k, digital */
};

enum prime_neuron {
    PRIME_NEURON_NONE = 0,
    PRIME_NEURON_LIF = 1,    /* hidden cell: reset, decay, +I, LeakyReLU, threshold */
    PRIME_NEURON_OUTPUT = 2, /* output cell: U = LeakyReLU(U + I); logits = mean U */
};

typedef struct {
    enum prime_op op;
    int in_c, in_h, in_w;   /* input shape (filled by prime_arch_finalize) */
    int out_c, out_h, out_w;/* output shape (out_c given; h, w derived) */
    int k, stride, pad;     /* kernel, stride, zero padding (conv, pool) */
    enum prime_neuron neuron; /* applied after this op */
    float th;               /* LIF threshold (0.2 conv, 0.5 hidden FC) */
    float decay;            /* LIF decay, fraction of U lost per step (0.8): U = U * (1 - decay) */
    float leak;             /* LeakyReLU negative slope (0.1) */
    float scale;            /* software scale: weight = (G+ - G-) * scale */
    float sparsity;         /* fraction of weights pruned (training target) */
} prime_layer;

enum prime_task { PRIME_TASK_CLASSIFY = 0 };

typedef struct {
    enum prime_task task;
    int T;                  /* timesteps the model was trained for */
    int in_c, in_h, in_w;   /* input frame shape */
    int n_classes;
    int n_layers;
    prime_layer layers[PRIME_MAX_LAYERS];
} prime_arch;

/* The PRIME classification network of the PRIME paper (arXiv 2407.18625) (N-MNIST, T = 10):
 * Conv(2->12,5,p1)+LIF, Pool2, Conv(12->64,5)+LIF, Pool2, FC(2304->10)+output. */
prime_arch prime_arch_nmnist(void);
/* Derives in/out shapes layer by layer and checks them; 0 or -1. */
int prime_arch_finalize(prime_arch *a);
/* Rows (fan-in) and columns (outputs) of a weight layer's matrix; 0 for pools. */
int prime_layer_rows(const prime_layer *l);
int prime_layer_cols(const prime_layer *l);
/* Number of weights of a layer (rows * cols). */
size_t prime_layer_weights(const prime_layer *l);

/* ------------------------------------------------------ device model */

enum prime_dist { PRIME_DIST_NORMAL = 0, PRIME_DIST_LOGNORMAL = 1 };
enum prime_noise_mode {
    PRIME_NOISE_COLUMN = 0, /* exact summed form: one Gaussian per column read */
    PRIME_NOISE_CELL = 1,   /* reference form: one Gaussian per cell read */
};

/* Everything about the memristor macro. The fields above `read_noise` shape
 * the formed chip (changing them re-forms it); the rest act per read. */
typedef struct {
    uint64_t chip_seed;   /* seed of the electroforming draw ("a new chip") */
    enum prime_dist g_dist; /* distribution of a formed cell */
    float g_mean;         /* mean formed conductance, uS */
    float g_sd;           /* spread of formed conductance, uS (differential
                             weight G+ - G- then has sd g_sd * sqrt 2) */
    float g_off;          /* mean off-state (reset) conductance, uS */
    float g_off_sd;       /* spread of the off-state conductance, uS */
    float g_max;          /* conductance of a cell stuck at on, uS */
    float prog_noise;     /* programming noise on cells that switch, relative
                             to g_mean, Gaussian clipped at 2 sigma */
    float stuck_on;       /* fraction of cells stuck at on (g_max) */
    float stuck_off;      /* fraction of cells stuck at off (g_off) */
    /* per read */
    float read_noise;     /* relative read-to-read noise eta: G' = G(1 + eta N) */
    enum prime_noise_mode noise_mode;
    int adc_bits;         /* ADC resolution, 0 = ideal (no quantization) */
    float adc_fs;         /* ADC full scale relative to the layer's largest
                             possible column current (1 = never clips) */
    int dac_bits;         /* input DAC resolution, 0 = ideal */
    float v_read;         /* read voltage for a full-scale input, V (energy) */
    /* energy constants, pJ (see docs/device.md for sources) */
    float e_cell_pj;      /* one cell read at full G and v_read, per 30 uS */
    float e_adc_fom_fj;   /* ADC Walden figure of merit, fJ per conversion step */
    float e_dac_pj;       /* one row driven by a DAC, per read */
    float e_neuron_pj;    /* one digital neuron update (LIF / pool element) */
    float e_mac_pj;       /* digital baseline: one 8-bit MAC incl. weight fetch */
} prime_device;

/* Defaults of the PRIME paper (arXiv 2407.18625), docs/device.md: differential weight sd 6.352 uS, 14-bit ADC. */
prime_device prime_default_device(void);
/* Checks ranges; 0 or -1 with a message naming the field. */
int prime_device_check(const prime_device *d);

/* ------------------------------------------------------ run policy */

enum prime_policy { PRIME_STOP_NONE = 0, PRIME_STOP_CONFIDENCE = 1 };

typedef struct {
    enum prime_policy policy;
    float alpha;          /* softmax temperature: p = softmax(mean_logits / alpha) */
    float threshold;      /* stop when max p > threshold */
    int min_steps;        /* never stop before this many steps (>= 1) */
    uint64_t noise_seed;  /* seed of the read-noise stream */
} prime_run;

prime_run prime_default_run(void); /* none, alpha 2, threshold 0.8, seed 1 */

/* ------------------------------------------------------ counters */

typedef struct {
    double cell_reads;      /* memristor cells read (active rows x columns) */
    double adc_conversions; /* column conversions */
    double dac_drives;      /* rows driven (non-zero inputs) */
    double vmm_reads;       /* array read operations */
    double neuron_updates;  /* digital neuron / pool element updates */
    double macs_dense;      /* digital baseline multiply-adds (dense) */
    double timesteps;
    double adc_clipped;     /* conversions clamped at the ADC's range (counted where the
                               ADC has non-idealities or adc_fs < 1: docs/device.md) */
    double dac_clipped;     /* input conversions clamped at the DAC's range (non-ideal DAC) */
} prime_counters;

typedef struct {
    int label;                         /* argmax of the logits */
    int T;                             /* steps allowed */
    int steps_used;                    /* steps actually run */
    int n_classes;
    float logits[PRIME_MAX_CLASSES];   /* mean output membrane after steps_used */
    float probs[PRIME_MAX_CLASSES];    /* softmax(logits / alpha) */
    float confidence[PRIME_MAX_T];     /* max prob after each step 1..steps_used */
    int step_label[PRIME_MAX_T];       /* argmax after each step */
    int n_layers;
    double spikes[PRIME_MAX_LAYERS];   /* spikes emitted per layer (LIF layers) */
    prime_counters counters;
    double energy_pj;                  /* memristor macro + digital neurons */
    double baseline_pj;                /* digital baseline, same network, all T steps */
    double energy_ratio;               /* baseline_pj / energy_pj */
} prime_result;

/* ------------------------------------------------------ context */

typedef struct prime_ctx prime_ctx;

/* A context from a model file in memory; NULL on error. Forms the chip. */
prime_ctx *prime_load(const uint8_t *bytes, size_t n);
/* A context for an architecture with all masks = keep; NULL on error. */
prime_ctx *prime_create(const prime_arch *arch, const prime_device *dev);
void prime_free(prime_ctx *ctx);

/* Serializes the model as a version-2 model file (architecture, device, run,
 * masks, and the conductance maps the chip seed cannot regenerate;
 * docs/model-format.md); *out is malloc'ed, caller frees it with
 * prime_free_buffer(). prime_load reads versions 1 and 2. 0 or -1. */
int prime_save(const prime_ctx *ctx, uint8_t **out, size_t *n);
void prime_free_buffer(void *p);

/* The network in model file bytes: version 1 .prime files are classifiers,
 * .pvae files inpainting models, a version-2 file says its kind. A layer-graph
 * model file (prime_graph.h, docs/graph.md: kind word "GRPH") is read by
 * prime_graph_load / build/prime-graph only: prime_load, prime_vae_load and
 * prime_model_convert refuse it saying so. */
enum prime_model_kind { PRIME_MODEL_CLASSIFIER = 1, PRIME_MODEL_VAE = 2, PRIME_MODEL_GRAPH = 0x48505247 /* "GRPH" */ };
/* The kind of the model file in bytes (enum prime_model_kind), or -1 with an
 * error for bytes that are no model file (only the header is looked at). */
int prime_model_kind(const uint8_t *bytes, size_t n);
/* Any model file (any version, any network) -> the same model as a version-2
 * file (load, then save): *out malloc'ed (prime_free_buffer). 0 or -1. */
int prime_model_convert(const uint8_t *bytes, size_t n, uint8_t **out, size_t *out_n);

const prime_arch *prime_get_arch(const prime_ctx *ctx);
prime_device prime_get_device(const prime_ctx *ctx);
/* Applies device parameters; re-forms the chip only if a forming field changed. */
int prime_set_device(prime_ctx *ctx, const prime_device *dev);
prime_run prime_get_run(const prime_ctx *ctx);
int prime_set_run(prime_ctx *ctx, const prime_run *run);

/* Mask of weight layer `layer`: one byte per weight (1 keep, 0 prune), in the
 * layer's matrix order [row][col] (row = (ic*k + ky)*k + kx for conv, input
 * index in CHW order for FC; col = output channel). Setting re-programs the
 * switched cells (with programming noise). */
int prime_set_mask(prime_ctx *ctx, int layer, const uint8_t *mask, size_t n);
int prime_get_mask(const prime_ctx *ctx, int layer, uint8_t *mask, size_t n);
/* The weights as programmed: (G+ - G-) * scale for every cell pair of the
 * layer, same order as the mask, with the current mask applied (pruned pairs
 * at their off-state residual). `kept` = 1 gives the formed on-state weight of
 * every pair whatever the mask (what a trainer's scores choose from). */
int prime_get_weights(const prime_ctx *ctx, int layer, int kept, float *w, size_t n);
/* The read-noise scale of every pair, sqrt(G+^2 + G-^2) * scale (what the
 * conductance noise model multiplies by read_noise * N(0,1) on each read),
 * same order and `kept` meaning as prime_get_weights. */
int prime_get_noise_weights(const prime_ctx *ctx, int layer, int kept, float *s, size_t n);
/* Replace the formed conductances by a measured map: gpos, gneg in uS, one
 * value per pair in matrix order (the on-state of each cell). */
int prime_set_conductances(prime_ctx *ctx, int layer, const float *gpos,
                           const float *gneg, size_t n);

/* Runs one input to the end (or early stop). input: [T][in_c][in_h][in_w].
 * Fills *res. 0 or -1. */
int prime_classify(prime_ctx *ctx, const float *input, int T, prime_result *res);

/* Classifies n inputs, inputs[i] at inputs + i*T*in_c*in_h*in_w, into res[n]:
 * exactly what n prime_classify calls in a row give (sample i is inference
 * number next + i, which keys its read noise), on up to `threads` threads
 * (0 = one per core; 1 = the calling thread only; builds without threads run
 * them all on the calling thread). Every input is checked first: on error
 * nothing has run (the message names the sample). 0 or -1. */
int prime_classify_batch(prime_ctx *ctx, const float *inputs, int n, int T, prime_result *res, int threads);
/* The number of cores online (at least 1): the default thread count. */
int prime_cpu_count(void);
/* The widest vectors the kernels use on this CPU: "avx2" (8 lanes, native
 * x86-64 where the CPU has it; the same bits as every other build), "sse2" or
 * "wasm-simd128" (4 lanes), "scalar". */
const char *prime_kernel_isa(void);
/* The inference number the next input gets (0 after prime_set_run; each
 * classify or begin counts one), which keys its read-noise stream; setting it
 * lets another context (a worker process) continue a stream exactly. */
uint64_t prime_get_inference(const prime_ctx *ctx);
int prime_set_inference(prime_ctx *ctx, uint64_t next);

/* Step-by-step mode for visualization: begin copies the input; step runs one
 * timestep and returns 1, or 0 when finished (T reached or stopped), -1 on
 * error. prime_result_get fills the result so far. */
int prime_begin(prime_ctx *ctx, const float *input, int T);
int prime_step(prime_ctx *ctx);
int prime_result_get(const prime_ctx *ctx, prime_result *res);
/* State of layer `layer` after the last step, CHW order, n = out_c*out_h*out_w.
 * Pointer valid until the next call on ctx. NULL on error. */
enum prime_state {
    PRIME_STATE_MEMBRANE = 0, /* membrane potential */
    PRIME_STATE_SPIKES = 1,   /* spikes (0/1) */
    PRIME_STATE_CURRENT = 2,  /* input current of the last step */
};
const float *prime_layer_state(prime_ctx *ctx, int layer, enum prime_state what, size_t *n);

/* Crossbar view: tiling of each weight layer on 512x512 arrays. */
typedef struct {
    int rows, cols;        /* matrix rows; physical columns = 2 * outputs */
    int row_tiles, col_tiles;
    int arrays;            /* row_tiles * col_tiles */
    double fill;           /* used cells / (arrays * 512 * 512) */
    int first_array;       /* index of its first array in the macro */
} prime_tiling;
int prime_get_tiling(const prime_ctx *ctx, int layer, prime_tiling *t);
/* Total arrays used by the model. */
int prime_total_arrays(const prime_ctx *ctx);
/* Conductances (uS) of one array, 512*512 floats row-major, columns in pairs
 * (G+, G-); unused cells are 0. out must hold 512*512 floats. */
int prime_get_array(const prime_ctx *ctx, int array, float *out, size_t n);

/* ------------------------------------------------------ model import */

/* Imports per-layer arrays from a NumPy .npz (numpy.savez or
 * savez_compressed) into ctx. Entry names, i = index among the weight layers (0 for
 * the first conv, ...), arrays in PyTorch layout [out][in][k][k] or [out][in]:
 *   mask<i>    any dtype, nonzero = keep;
 *   weight<i>  differential conductance G+ - G- in uS (before the layer's
 *              software scale), programmed as G+- = g_mean +- w/2;
 *   gpos<i>, gneg<i>  a measured conductance map (uS) of the positive /
 *              negative cells, replacing the sampled formed state.
 * Returns the number of arrays used, or -1 (an entry of another name, or none,
 * is an error naming it). */
int prime_import_npz(prime_ctx *ctx, const uint8_t *bytes, size_t n);

/* Parses a .npy array: returns 0 and a malloc'ed float array (caller frees with
 * prime_free_buffer), its shape and ndim; -1 on error. */
int prime_npy_read(const uint8_t *bytes, size_t n, float **data, int shape[8], int *ndim);

/* ------------------------------------------------------ tensors from PyTorch / NumPy */

/* Element types of imported tensors (the dtype they had in the file). */
enum prime_dtype {
    PRIME_DT_F32 = 1, PRIME_DT_F64 = 2, PRIME_DT_F16 = 3,
    PRIME_DT_I64 = 4, PRIME_DT_I32 = 5, PRIME_DT_I8 = 6, PRIME_DT_U8 = 7, PRIME_DT_BOOL = 8,
};
/* Limits of the tensor readers (docs/model-format.md, "Limits"). */
#define PRIME_IMPORT_MAX_BYTES (512u << 20)     /* one input file */
#define PRIME_IMPORT_MAX_TENSORS 4096
#define PRIME_IMPORT_MAX_ELEMENTS (64u << 20)   /* all tensors together */
#define PRIME_TENSOR_MAX_DIMS 8
#define PRIME_TENSOR_MAX_NAME 127

typedef struct {
    char name[PRIME_TENSOR_MAX_NAME + 1]; /* state_dict key or .npz entry (no .npy) */
    enum prime_dtype dtype;
    int ndim;
    int shape[PRIME_TENSOR_MAX_DIMS];
    size_t count;                         /* product of the shape */
    float *data;                          /* count values, C order, as float32 */
} prime_tensor;

typedef struct {
    int n;
    prime_tensor *t;
    char format[8];                       /* "pt", "npz" or "npy" */
} prime_tensor_list;

/* Reads every tensor of a torch.save checkpoint (.pt/.pth zip), a NumPy .npz
 * (stored or compressed) or a single .npy (one tensor named "array") from
 * memory. No code from the file is ever run: the pickle reader knows only
 * the objects of a state_dict and refuses every other global by name.
 * 0 or -1; on success free the list with prime_tensors_free. */
int prime_tensors_read(const uint8_t *bytes, size_t n, prime_tensor_list *out);
void prime_tensors_free(prime_tensor_list *list);
/* The tensor named `name`, or NULL. */
const prime_tensor *prime_tensors_find(const prime_tensor_list *list, const char *name);
/* "float32", "int64", ... */
const char *prime_dtype_name(enum prime_dtype dt);

/* A model from a checkpoint in a known key layout, in one call: today the
 * PRIME authors' classification state_dict (features.conv0, features.conv1,
 * classifier.linear0, each weight + scores; masks from the scores as their
 * layer.py computes them; weights programmed as G+- = g_mean +- w/2) or an
 * .npz of mask<i>/weight<i>/gpos<i>/gneg<i> arrays (prime_import_npz). `dev`
 * NULL = the default device. Every key must be used: an unknown key, a
 * missing one, a wrong shape or dtype is an error naming it. NULL on error. */
prime_ctx *prime_import_model(const uint8_t *bytes, size_t n, const prime_device *dev);
/* The authors' mask rule on n scores: keep where |s| >= the k-th smallest
 * |s|, k = 1 + round(0.01 * 100 * sparsity * (n - 1)) (ties kept); 0 or -1. */
int prime_mask_from_scores(const float *scores, size_t n, float sparsity, uint8_t *mask);

/* ------------------------------------------------------ images */

/* Largest accepted image side, checked from the file header before decoding
 * (docs/web.md, "Images"): a decode then needs at most about 130 MB. */
#ifndef PRIME_IMAGE_MAX_SIDE /* the fuzz build (tests/fuzz/run.sh) lowers it to keep inputs fast */
#define PRIME_IMAGE_MAX_SIDE 4096
#endif

/* Decodes PNG/JPEG/BMP/GIF bytes to grayscale, resizes (area average) to
 * out_w x out_h and writes values in [0,1] to out (row-major); `invert` = 1
 * maps dark strokes on light paper to bright digits. 0 or -1. */
int prime_image_decode(const uint8_t *bytes, size_t n, int out_w, int out_h,
                       int invert, float *out);
/* Resizes a float image by area averaging (downscale) / bilinear (upscale). */
int prime_image_resize(const float *in, int w, int h, float *out, int ow, int oh);

/* ------------------------------------------------------ events (N-MNIST) */

/* Limits of the event functions (docs/data.md, "Limits"): at most
 * PRIME_MAX_EVENTS events per stream (synthesized, parsed or binned), the
 * synthesizer's work steps_per_saccade * size^2 at most PRIME_MAX_EVENT_WORK
 * (2,500 sub-steps at the default 34x34 sensor), and binning into 1..PRIME_MAX_T
 * frames of at most PRIME_MAX_FRAME_VALUES values in all. */
#define PRIME_MAX_EVENTS (1 << 21)
#define PRIME_MAX_EVENT_WORK 2890000
#define PRIME_MAX_FRAME_VALUES (1 << 25)

typedef struct {
    uint16_t x, y;     /* pixel, 0..33 */
    uint8_t p;         /* polarity: 1 ON, 0 OFF */
    uint32_t t;        /* microseconds */
} prime_event;

/* Who follows the saccade triangle of docs/data.md: the image (the original
 * synthesizer's choice) or the camera, as in the N-MNIST recording, where the
 * pan-tilt unit moves the sensor and the image moves the opposite way. */
enum prime_motion { PRIME_MOTION_IMAGE = 0, PRIME_MOTION_CAMERA = 1 };

typedef struct {
    int size;            /* sensor side (34) */
    float contrast;      /* log-intensity change that fires an event (0.15) */
    float noise_rate;    /* background noise events per pixel per second */
    int duration_us;     /* total recording (300000: 3 saccades of 100 ms) */
    int steps_per_saccade; /* sub-steps simulated per saccade */
    float amplitude;     /* saccade displacement in pixels */
    uint64_t seed;
    enum prime_motion motion; /* PRIME_MOTION_IMAGE (default) or PRIME_MOTION_CAMERA */
} prime_event_params;

prime_event_params prime_default_event_params(void);
/* Synthesizes an N-MNIST-like stream from a static image (w x h, values 0..1),
 * placed in the centre of the sensor. *events is malloc'ed (prime_free_buffer),
 * sorted by time. 0 or -1. */
int prime_events_from_image(const float *img, int w, int h,
                            const prime_event_params *p,
                            prime_event **events, size_t *count);
/* Parses the real N-MNIST binary format (5 bytes per event). 0 or -1. */
int prime_nmnist_parse(const uint8_t *bytes, size_t n, prime_event **events,
                       size_t *count);
/* Writes the N-MNIST binary format; *out malloc'ed. 0 or -1. */
int prime_nmnist_write(const prime_event *ev, size_t count, uint8_t **out,
                       size_t *n);
/* Bins events into T frames [T][2][size][size] of per-pixel counts, each
 * frame holding an equal number of events (channel 0 OFF, 1 ON). 0 or -1. */
int prime_events_bin(const prime_event *ev, size_t count, int T, int size,
                     float *frames);

#ifdef __cplusplus
}
#endif
#endif /* PRIME_H */

/* ---- Inpainting (docs/inpainting.md) ---- */
/* A pruned fully spiking VAE (FSVAE, the PRIME paper's inpainting network) on the same memristor
 * macro: image inpainting with a convergence early stop. docs/inpainting.md.
 *
 *     prime_vae *v = prime_vae_load(bytes, n);          // models/inpaint-mnist.pvae
 *     prime_vae_run run = prime_vae_default_run();      // convergence stop on
 *     prime_vae_set_run(v, &run);
 *     prime_vae_result r;
 *     prime_vae_inpaint(v, img32x32, NULL, &r);         // NULL hole = centre 8x8
 *     const float *out = prime_vae_recon(v, r.steps_used - 1);  // 32x32 in [-1, 1]
 *     prime_vae_generate(v, 42, &r);                    // a new image from the prior
 *     prime_vae_free(v);
 */
#ifndef PRIME_VAE_H
#define PRIME_VAE_H
#ifdef __cplusplus
extern "C" {
#endif

#define PRIME_VAE_LAYERS 11 /* enc1..3, encfc, post, prior, decfc, dec1..3, out */
enum prime_vae_layer_id {
    PRIME_VAE_ENC1 = 0, PRIME_VAE_ENC2, PRIME_VAE_ENC3, PRIME_VAE_ENCFC,
    PRIME_VAE_POST, PRIME_VAE_PRIOR, PRIME_VAE_DECFC,
    PRIME_VAE_DEC1, PRIME_VAE_DEC2, PRIME_VAE_DEC3, PRIME_VAE_OUT,
};
enum prime_vae_op { PRIME_VAE_CONV = 1, PRIME_VAE_TCONV = 2, PRIME_VAE_FC = 3 };
enum prime_vae_policy {
    PRIME_VAE_STOP_NONE = 0,
    PRIME_VAE_STOP_CONVERGENCE = 1, /* stop once the reconstruction settles (prime_vae_run's m_*) */
};

typedef struct {
    int ch;          /* channels of every conv layer (32 in the paper) */
    int latent;      /* latent variables (128) */
    int k;           /* spikes per latent variable: q = mean of k spikes (20) */
    int T;           /* timesteps (16) */
    int size;        /* image side (32) */
    float th;        /* LIF threshold (0.2) */
    float keep;      /* LIF membrane keep: u = keep*u*(1-o) + x (0.25) */
    float out_keep;  /* readout: tanh(sum_t out_keep^(T-1-t) x_t) (0.8) */
    float scale;     /* software scale: weight = (G+ - G-) * scale (0.003) */
    float sparsity;  /* fraction pruned in the crossbar layers (0.5) */
    int software;    /* 1: software baseline (free float weights, no device) */
} prime_vae_arch;

/* One layer's geometry. Activations are HWC; a crossbar layer is a matrix
 * [rows][cols] with rows (ic*k + ky)*k + kx (conv and transposed conv) or the
 * HWC input index (fc), cols = output channels (fc: HWC output index). */
typedef struct {
    enum prime_vae_op op;
    int in_c, in_h, in_w, out_c, out_h, out_w;
    int k, stride, pad;          /* tconv: output = in*stride (output padding stride-1) */
    int rows, cols;
    int crossbar;                /* 1: masked random conductances; 0: digital (latent) */
    int bn, lif;                 /* batch norm (folded at inference), LIF after it */
    int bias;                    /* digital bias (latent layers) */
} prime_vae_layer;

typedef struct {
    enum prime_vae_policy policy;
    float m_div;         /* m_t = sum |recon_t - recon_t-1| / m_div (100) */
    float m_th;          /* stop when m_t < m_th (0.2) ... */
    int m_window;        /* ... and m decreased over this many consecutive steps (3) */
    int min_steps;       /* never stop before (1) */
    uint64_t noise_seed; /* read-noise stream */
    uint64_t latent_seed;/* Bernoulli latent sampling stream */
} prime_vae_run;

typedef struct {
    int T, steps_used;
    float m[PRIME_MAX_T];           /* convergence measure after each step (m[0] = 0) */
    double spikes;                  /* spikes emitted, all LIF layers */
    prime_counters counters;        /* macs_dense: crossbar layers, dense, per step run */
    double digital_macs;            /* latent layer multiply-adds (digital) */
    double energy_pj, baseline_pj, energy_ratio;
} prime_vae_result;

typedef struct prime_vae prime_vae;

prime_vae_arch prime_vae_default_arch(void);  /* the paper's, ch 32 */
prime_vae_run prime_vae_default_run(void);    /* convergence stop, 100, 0.2, 3 */
/* The device of the inpainting network: default macro with g_sd such that
 * the differential weight has sd 6.916 uS. */
prime_device prime_vae_default_device(void);
/* Geometry of layer i of arch a; 0 or -1. */
int prime_vae_layer_info(const prime_vae_arch *a, int i, prime_vae_layer *out);
/* For conv/tconv layer i: the connection list, 3 ints per entry (input
 * position, output position, kernel offset ky*k+kx), *n entries; malloc'ed,
 * caller frees with prime_free_buffer(). NULL on error. */
int *prime_vae_connections(const prime_vae_arch *a, int i, size_t *n);

/* A network with all masks at keep, BN identity, latent weights 0; NULL on error. */
prime_vae *prime_vae_create(const prime_vae_arch *a, const prime_device *dev);
/* Reads a .pvae (version 1) or a version-2 model file of kind VAE; NULL on error. */
prime_vae *prime_vae_load(const uint8_t *bytes, size_t n);
/* Writes a version-2 model file (docs/model-format.md): architecture, device,
 * run, masks (software: weights), digital layers, BN, stored maps. */
int prime_vae_save(const prime_vae *v, uint8_t **out, size_t *n); /* prime_free_buffer */
void prime_vae_free(prime_vae *v);
const prime_vae_arch *prime_vae_get_arch(const prime_vae *v);
prime_device prime_vae_get_device(const prime_vae *v);
int prime_vae_set_device(prime_vae *v, const prime_device *d); /* re-forms if needed */
int prime_vae_set_run(prime_vae *v, const prime_vae_run *r);
prime_vae_run prime_vae_get_run(const prime_vae *v);
/* Crossbar layer: mask (1 byte per pair, rows*cols). Software models: weights. */
int prime_vae_set_mask(prime_vae *v, int layer, const uint8_t *mask, size_t n);
int prime_vae_set_weights(prime_vae *v, int layer, const float *w, size_t n);
/* Formed on-state (kept = 1) or off-state (kept = 0) weights (G+ - G-)*scale
 * of every pair: what a trainer chooses from. */
int prime_vae_get_formed(const prime_vae *v, int layer, int kept, float *w, size_t n);
/* Replaces crossbar layer `layer`'s formed on-state conductances by a map
 * (uS, [row][col], n = rows*cols per side; a measured chip or weights from
 * outside). The map is kept over re-forming and saved (model file v2). */
int prime_vae_set_conductances(prime_vae *v, int layer, const float *gpos, const float *gneg, size_t n);
/* Folded batch norm: y = a*x + b per output channel (n = out_c). */
int prime_vae_set_bn(prime_vae *v, int layer, const float *a, const float *b, size_t n);
/* Digital latent layer (POST, PRIOR): w [rows][cols], bias [cols]. */
int prime_vae_set_digital(prime_vae *v, int layer, const float *w, size_t nw,
                          const float *bias, size_t nb);

/* Getters for other runtimes (ONNX export, PyTorch peer): the programmed
 * weights (G+ - G-)*scale of crossbar layer i (software models: the float
 * weights), n = rows*cols; the folded BN (n = out_c); a digital latent
 * layer's weights and biases. 0 or -1. */
int prime_vae_get_weights(const prime_vae *v, int layer, float *w, size_t n);
int prime_vae_get_bn(const prime_vae *v, int layer, float *a, float *b, size_t n);
int prime_vae_get_digital(const prime_vae *v, int layer, float *w, size_t nw, float *bias, size_t nb);
/* The uniforms in [0, 1) the next prime_vae_inpaint compares with q to
 * sample the Bernoulli latent (z = u < q): u[t*latent + d], n = T*latent. 0 or -1. */
int prime_vae_latent_uniforms(const prime_vae *v, double *u, size_t n);

/* Inpaints one image: img size*size in [-1, 1]; hole size*size bytes (1 =
 * unknown, set to -1 at the input) or NULL for the centre 8x8 square. Runs to
 * T or the early stop; fills *r. 0 or -1. */
int prime_vae_inpaint(prime_vae *v, const float *img, const uint8_t *hole,
                      prime_vae_result *r);
/* Generates one image from the prior: z_t ~ Bernoulli(p(z_t | z_(t-1))), the
 * prior run on its own last sample (z_(-1) = 0, as in training), through the
 * decoder on the macro (same device, read noise, ADC, counters, early stop as
 * prime_vae_inpaint). The same model, device, run and seed give the same
 * image, whatever ran before. Fills *r; per-step images via prime_vae_recon.
 * 0 or -1. */
int prime_vae_generate(prime_vae *v, uint64_t seed, prime_vae_result *r);
/* Step mode of an inpaint: begin takes the image and hole as prime_vae_inpaint;
 * each step runs one timestep and returns 1, or 0 once the pass is over (T
 * reached or the early stop), -1 on error; result_get gives the result so far
 * and prime_vae_recon(v, t) every step run. The same bits as prime_vae_inpaint. */
int prime_vae_begin(prime_vae *v, const float *img, const uint8_t *hole);
int prime_vae_step(prime_vae *v);
int prime_vae_result_get(const prime_vae *v, prime_vae_result *r);
/* Reconstruction (or generated image) after step t (0-based) of the last
 * inpaint or generate, size*size floats in [-1, 1], owned by v; NULL if t was
 * not run. */
const float *prime_vae_recon(const prime_vae *v, int t);
/* Metrics over n pixels in [-1, 1]: MSE and PSNR (peak-to-peak 2) inside the
 * hole (all pixels if hole NULL), SSIM (7x7 window) over the whole w x h image
 * with known pixels taken from `clean`. 0 or -1. */
int prime_vae_metrics(const float *recon, const float *clean, const uint8_t *hole,
                      int w, int h, double *mse, double *psnr, double *ssim);

#ifdef __cplusplus
}
#endif
#endif /* PRIME_VAE_H */

/* ---- ONNX export (docs/performance.md) ---- */
#ifndef PRIME_ONNX_H
#define PRIME_ONNX_H
#ifdef __cplusplus
extern "C" {
#endif

/* Writes ctx's classification network as an ONNX model (opset 13, written by
 * src/prime_onnx.c without dependencies), unrolled over T steps, at zero read
 * noise, ideal ADC and DAC: weights = the programmed (G+ - G-) * scale, LIF
 * cells as element-wise ops. Input "frames" [T][C][H][W]; outputs "logits"
 * [1][K] (mean output membrane after T steps) and "step_logits" [T][K] (after
 * each step: apply an early stop outside). *out is malloc'ed, caller frees it
 * with prime_free_buffer(). 0 or -1. */
int prime_onnx_export(const prime_ctx *ctx, int T, uint8_t **out, size_t *n);

/* Writes an inpainting network (prime_vae) as ONNX, the T steps unrolled, at
 * zero read noise, ideal ADC and DAC. Inputs "image" [1][1][S][S] in [-1, 1],
 * "hole" [1][1][S][S] (1 = unknown: set to -1), "uniforms" [T][latent]
 * double (prime_vae_latent_uniforms: the Bernoulli samples z = u < q).
 * Outputs "recon" [1][1][S][S] after T steps and "step_recon" [T][1][S][S]
 * after every step (apply the early stop outside). *out malloc'ed
 * (prime_free_buffer). 0 or -1. */
int prime_vae_onnx_export(const prime_vae *v, uint8_t **out, size_t *n);

#ifdef __cplusplus
}
#endif
#endif /* PRIME_ONNX_H */
