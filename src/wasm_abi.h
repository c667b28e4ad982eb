/* wasm_abi.h - the C/JS boundary of the wasm build, defined once.
 *
 * src/wasm_api.c passes structs to wasm/prime.js as arrays of doubles whose
 * lengths and offsets are fixed here; prime.js reads every value below at load
 * through pw_abi_names() / pw_abi() (a name list and an int32 table) and uses
 * them instead of copies of its own: buffer sizes, struct offsets, enum values.
 * Where prime.js decodes fields by position (the camelCase key lists of the
 * device, run and event parameters, the headers of the result arrays) it
 * checks the lengths here against its lists at load and throws a PrimeError
 * naming each difference.
 *
 * To change the layout: edit the constant here and the matching to/from
 * function in wasm_api.c (a _Static_assert there checks the array lengths),
 * then the key list in prime.js; the check at load tells you if you forgot it.
 */
#ifndef PRIME_WASM_ABI_H
#define PRIME_WASM_ABI_H

#include <stddef.h>

#include "prime.h"

/* Parameter structs as doubles, in the order of the struct's fields. */
#define PW_DEV_FIELDS 21   /* prime_device */
#define PW_RUN_FIELDS 5    /* prime_run: policy, alpha, threshold, min_steps, noise_seed */
#define PW_EVENT_FIELDS 8  /* prime_event_params */

/* Architecture: a head (task, T, in_c, in_h, in_w, n_classes, n_layers), then
 * per layer (op, in_c, in_h, in_w, out_c, out_h, out_w, k, stride, pad,
 * neuron, th, decay, leak, scale, sparsity). */
#define PW_ARCH_HEAD 7
#define PW_ARCH_LAYER_FIELDS 16
#define PW_ARCH_DOUBLES (PW_ARCH_HEAD + PW_ARCH_LAYER_FIELDS * PRIME_MAX_LAYERS)

/* Result: a head (label, T, steps_used, n_classes, n_layers, energy_pj,
 * baseline_pj, energy_ratio), the counters (cell_reads, adc_conversions,
 * dac_drives, vmm_reads, neuron_updates, macs_dense, timesteps, adc_clipped), then arrays
 * at fixed offsets. */
#define PW_RES_HEAD 8
#define PW_RES_COUNTERS 8   /* offset of the counters */
#define PW_COUNTERS 8       /* fields of prime_counters (dac_clipped stays native: no room before the logits) */
#define PW_RES_LOGITS 16    /* PRIME_MAX_CLASSES logits */
#define PW_RES_PROBS (PW_RES_LOGITS + PRIME_MAX_CLASSES)
#define PW_RES_CONFIDENCE (PW_RES_PROBS + PRIME_MAX_CLASSES) /* PRIME_MAX_T */
#define PW_RES_STEP_LABEL (PW_RES_CONFIDENCE + PRIME_MAX_T)  /* PRIME_MAX_T */
#define PW_RES_SPIKES (PW_RES_STEP_LABEL + PRIME_MAX_T)      /* PRIME_MAX_LAYERS */
#define PW_RES_DOUBLES (PW_RES_SPIKES + PRIME_MAX_LAYERS)    /* 192 */

/* Tiling of a layer: rows, cols, row_tiles, col_tiles, arrays, fill, first_array. */
#define PW_TILING_FIELDS 7

/* Inpainting network. Arch: size, T, software. Layer: op, in_c, in_h, out_c,
 * out_h, k, rows, cols, crossbar, bn. Options: read_noise, adc_bits, policy,
 * m_div, m_th, m_window, noise_seed, latent_seed, dac_bits. Result: a head
 * (steps_used, T, energy_pj, baseline_pj, energy_ratio, cell_reads,
 * adc_conversions, spikes), then m[0..PRIME_MAX_T). Parameter ids of
 * pw_vae_param: weights, BN a, BN b, digital bias. */
#define PW_VAE_ARCH_FIELDS 11 /* size, T, software, ch, latent, k, th, keep, out_keep, scale, sparsity */
#define PW_VAE_RUN_FIELDS 7   /* policy, m_div, m_th, m_window, min_steps, noise_seed, latent_seed */
#define PW_VAE_LAYER_FIELDS 10
#define PW_VAE_OPT_FIELDS 9
#define PW_VAE_RES_HEAD 8
#define PW_VAE_RES_M PW_VAE_RES_HEAD
#define PW_VAE_RES_DOUBLES (PW_VAE_RES_M + PRIME_MAX_T) /* 72 */
enum { PW_VAE_PARAM_WEIGHTS = 0, PW_VAE_PARAM_BN_A = 1, PW_VAE_PARAM_BN_B = 2, PW_VAE_PARAM_BIAS = 3 };

/* Layer-graph models (prime_graph.h, docs/graph.md; src/wasm_graph.c). Head:
 * n_graphs, T, out_node, readout, out_decay, anchored, in_dac, macs_conn,
 * n_out, then the node count of each of the PRIME_G_MAX_GRAPHS graphs. Node:
 * op, in0, in1, c, h, w, k, stride, pad, out_pad, bias, crossbar, scale,
 * sparsity, neuron, th, decay, leak, tau, qbits, qmax, sub0, sub1, mode, key,
 * nkey, oc, oh, ow. Run (prime_grun): policy, alpha, threshold, m_div, m_th,
 * m_window, min_steps, ideal, generate, noise_seed, latent_seed. Result: a
 * head (steps_used, T, label, n_out, energy_pj, baseline_pj, energy_ratio,
 * digital_macs, spikes), the counters (PW_COUNTERS, then dac_clipped), then
 * confidence[0..PRIME_MAX_T) and m[0..PRIME_MAX_T). */
#define PW_G_MAX_GRAPHS 3  /* PRIME_G_MAX_GRAPHS */
#define PW_G_MAX_NODES 48  /* PRIME_G_MAX_NODES */
#define PW_G_HEAD (9 + PW_G_MAX_GRAPHS)
#define PW_G_NODE_FIELDS 29
#define PW_G_RUN_FIELDS 11
#define PW_G_RES_HEAD 9
#define PW_G_RES_COUNTERS PW_G_RES_HEAD
#define PW_G_COUNTERS (PW_COUNTERS + 1)
#define PW_G_RES_CONFIDENCE (PW_G_RES_COUNTERS + PW_G_COUNTERS)
#define PW_G_RES_M (PW_G_RES_CONFIDENCE + PRIME_MAX_T)
#define PW_G_RES_DOUBLES (PW_G_RES_M + PRIME_MAX_T)

/* The table pw_abi() returns, as X(name, value): every constant above, the
 * sizes and offsets of prime_event, the limits and the enum values of prime.h. */
#define PW_ABI_TABLE(X) \
    X(version_major, PRIME_VERSION_MAJOR) \
    X(version_minor, PRIME_VERSION_MINOR) \
    X(version_patch, PRIME_VERSION_PATCH) \
    X(max_layers, PRIME_MAX_LAYERS) \
    X(max_t, PRIME_MAX_T) \
    X(max_classes, PRIME_MAX_CLASSES) \
    X(array_size, PRIME_ARRAY_SIZE) \
    X(dev_fields, PW_DEV_FIELDS) \
    X(run_fields, PW_RUN_FIELDS) \
    X(event_fields, PW_EVENT_FIELDS) \
    X(arch_head, PW_ARCH_HEAD) \
    X(arch_layer_fields, PW_ARCH_LAYER_FIELDS) \
    X(arch_doubles, PW_ARCH_DOUBLES) \
    X(res_head, PW_RES_HEAD) \
    X(res_counters, PW_RES_COUNTERS) \
    X(counters, PW_COUNTERS) \
    X(res_logits, PW_RES_LOGITS) \
    X(res_probs, PW_RES_PROBS) \
    X(res_confidence, PW_RES_CONFIDENCE) \
    X(res_step_label, PW_RES_STEP_LABEL) \
    X(res_spikes, PW_RES_SPIKES) \
    X(res_doubles, PW_RES_DOUBLES) \
    X(tiling_fields, PW_TILING_FIELDS) \
    X(event_size, sizeof(prime_event)) \
    X(event_x, offsetof(prime_event, x)) \
    X(event_y, offsetof(prime_event, y)) \
    X(event_p, offsetof(prime_event, p)) \
    X(event_t, offsetof(prime_event, t)) \
    X(event_x_bytes, sizeof(((prime_event *)0)->x)) \
    X(event_y_bytes, sizeof(((prime_event *)0)->y)) \
    X(event_p_bytes, sizeof(((prime_event *)0)->p)) \
    X(event_t_bytes, sizeof(((prime_event *)0)->t)) \
    X(task_classify, PRIME_TASK_CLASSIFY) \
    X(op_conv, PRIME_OP_CONV) \
    X(op_fc, PRIME_OP_FC) \
    X(op_avgpool, PRIME_OP_AVGPOOL) \
    X(neuron_none, PRIME_NEURON_NONE) \
    X(neuron_lif, PRIME_NEURON_LIF) \
    X(neuron_output, PRIME_NEURON_OUTPUT) \
    X(dist_normal, PRIME_DIST_NORMAL) \
    X(dist_lognormal, PRIME_DIST_LOGNORMAL) \
    X(noise_column, PRIME_NOISE_COLUMN) \
    X(noise_cell, PRIME_NOISE_CELL) \
    X(stop_none, PRIME_STOP_NONE) \
    X(stop_confidence, PRIME_STOP_CONFIDENCE) \
    X(state_membrane, PRIME_STATE_MEMBRANE) \
    X(state_spikes, PRIME_STATE_SPIKES) \
    X(state_current, PRIME_STATE_CURRENT) \
    X(vae_layers, PRIME_VAE_LAYERS) \
    X(vae_latent_layer, PRIME_VAE_POST) \
    X(vae_op_conv, PRIME_VAE_CONV) \
    X(vae_op_tconv, PRIME_VAE_TCONV) \
    X(vae_op_fc, PRIME_VAE_FC) \
    X(vae_stop_none, PRIME_VAE_STOP_NONE) \
    X(vae_stop_convergence, PRIME_VAE_STOP_CONVERGENCE) \
    X(vae_arch_fields, PW_VAE_ARCH_FIELDS) \
    X(vae_layer_fields, PW_VAE_LAYER_FIELDS) \
    X(vae_opt_fields, PW_VAE_OPT_FIELDS) \
    X(vae_run_fields, PW_VAE_RUN_FIELDS) \
    X(model_classifier, PRIME_MODEL_CLASSIFIER) \
    X(model_vae, PRIME_MODEL_VAE) \
    X(vae_res_head, PW_VAE_RES_HEAD) \
    X(vae_res_m, PW_VAE_RES_M) \
    X(vae_res_doubles, PW_VAE_RES_DOUBLES) \
    X(vae_param_weights, PW_VAE_PARAM_WEIGHTS) \
    X(vae_param_bn_a, PW_VAE_PARAM_BN_A) \
    X(vae_param_bn_b, PW_VAE_PARAM_BN_B) \
    X(vae_param_bias, PW_VAE_PARAM_BIAS) \
    X(model_graph, PRIME_MODEL_GRAPH) \
    X(g_max_graphs, PW_G_MAX_GRAPHS) \
    X(g_max_nodes, PW_G_MAX_NODES) \
    X(g_head, PW_G_HEAD) \
    X(g_node_fields, PW_G_NODE_FIELDS) \
    X(g_run_fields, PW_G_RUN_FIELDS) \
    X(g_res_head, PW_G_RES_HEAD) \
    X(g_res_counters, PW_G_RES_COUNTERS) \
    X(g_counters, PW_G_COUNTERS) \
    X(g_res_confidence, PW_G_RES_CONFIDENCE) \
    X(g_res_m, PW_G_RES_M) \
    X(g_res_doubles, PW_G_RES_DOUBLES)

#endif
