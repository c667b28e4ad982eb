// prime.js - the JavaScript API of PRIME-sim (ES module; browser and Node).
//
//   import { loadPrime } from './prime.js';
//   const P = await loadPrime();                 // or loadPrime({ wasmBytes }) / ({ wasmUrl })
//   const m = P.load(bytes);                     // any model file: m.kind 'classifier' | 'inpainter' | 'graph'
//   const m2 = P.importModel(ptBytes);           // or of a PyTorch .pt / NumPy .npz checkpoint
//   m.setDevice({ readNoise: 0.05 });
//   m.setRun({ policy: 'confidence', threshold: 0.8 });
//   const r = m.classify(frames, 10);            // Float32Array [T][C][H][W]
//   console.log(r.label, r.stepsUsed, r.energyPj);
//   const ip = P.load(pvaeBytes);                // the same object for the inpainting VAE:
//   ip.inpaint(img32, { readNoise: 0.05 }); ip.generate({ seed: 4 }); ip.save(); ip.exportOnnx();
//   m.free(); ip.free();
//
// Memory rule: a typed-array view of wasm memory is taken through heap() right
// where it is used and never kept across a call that may allocate (memory
// growth detaches old views). Results are copied out. Errors from C become
// PrimeError exceptions carrying the C message.
//
// The C/JS boundary (buffer sizes, offsets, enum values) is defined once, in
// src/wasm_abi.h; loadPrime reads it from the module (pw_abi) and checks it
// against what this file decodes by position (abiMismatches). Types: prime.d.ts.

import { defineModel } from './prime-model.js';
import { deviceApi } from './prime-device.js';
import { GRAPH_ABI_EXPECTED, GRAPH_ABI_USED } from './prime-graph.js';

export class PrimeError extends Error {
  constructor(message) { super(message); this.name = 'PrimeError'; }
}

/** The version of this file; the wasm module's (pw_version) must be the same. */
export const VERSION = '0.1.0';

const DEVICE_KEYS = ['chipSeed', 'gDist', 'gMean', 'gSd', 'gOff', 'gOffSd', 'gMax', 'progNoise', 'stuckOn',
  'stuckOff', 'readNoise', 'noiseMode', 'adcBits', 'adcFs', 'dacBits', 'vRead', 'eCellPj', 'eAdcFomFj',
  'eDacPj', 'eNeuronPj', 'eMacPj'];
const RUN_KEYS = ['policy', 'alpha', 'threshold', 'minSteps', 'noiseSeed'];
const EVENT_KEYS = ['size', 'contrast', 'noiseRate', 'durationUs', 'stepsPerSaccade', 'amplitude', 'seed', 'motion'];
const COUNTER_KEYS = ['cellReads', 'adcConversions', 'dacDrives', 'vmmReads', 'neuronUpdates', 'macsDense', 'timesteps',
  'adcClipped'];

/**
 * What this file decodes by position, against the module's ABI table: the
 * lengths of the key lists above, the heads of the result arrays it unpacks
 * field by field, the widths its DataView calls read, and every key it uses.
 */
export const ABI_EXPECTED = {
  dev_fields: DEVICE_KEYS.length, run_fields: RUN_KEYS.length, event_fields: EVENT_KEYS.length,
  counters: COUNTER_KEYS.length, arch_head: 7, arch_layer_fields: 16, res_head: 8, tiling_fields: 7,
  vae_arch_fields: 11, vae_layer_fields: 10, vae_opt_fields: 9, vae_res_head: 8, vae_run_fields: 7,
  event_x_bytes: 2, event_y_bytes: 2, event_p_bytes: 1, event_t_bytes: 4,
  ...GRAPH_ABI_EXPECTED,
};
const ABI_USED = ['max_layers', 'max_t', 'array_size', 'arch_doubles', 'res_counters', 'res_logits', 'res_probs',
  'res_confidence', 'res_step_label', 'res_spikes', 'res_doubles', 'event_size', 'event_x', 'event_y', 'event_p',
  'event_t', 'op_conv', 'op_fc', 'op_avgpool', 'neuron_none', 'neuron_lif', 'neuron_output', 'stop_none',
  'stop_confidence', 'state_membrane', 'state_spikes', 'state_current', 'vae_layers', 'vae_latent_layer',
  'vae_op_conv', 'vae_op_tconv', 'vae_op_fc', 'vae_stop_none', 'vae_stop_convergence', 'vae_res_m',
  'vae_res_doubles', 'vae_param_weights', 'vae_param_bn_a', 'vae_param_bn_b', 'vae_param_bias', 'model_classifier',
  'model_vae', ...GRAPH_ABI_USED];

/**
 * Compares an ABI table (name -> value, as read from the module) with what
 * this file expects: returns a list of differences, [] when they agree.
 */
export function abiMismatches(abi, expected = ABI_EXPECTED, used = ABI_USED) {
  const out = [];
  for (const [k, v] of Object.entries(expected)) {
    if (!(k in abi)) out.push(`${k} missing from the module`);
    else if (abi[k] !== v) out.push(`${k} = ${abi[k]} in the module, ${v} in prime.js`);
  }
  for (const k of used) if (!(k in abi)) out.push(`${k} missing from the module`);
  return out;
}
// The wasm build's memory ceiling (-sMAXIMUM_MEMORY=1GB in build.sh): no buffer
// can be larger, and pw_malloc takes a 32-bit size, so a larger request would wrap.
const MAX_ALLOC = 1 << 30;

/** v, if it is a number (no numeric strings) that is an integer in lo..hi when `int`; else throws. */
function num(v, what, int = false, lo = -Infinity, hi = Infinity) {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new PrimeError(`${what} must be a number, got ${typeof v === 'number' ? v : typeof v}`);
  if (int && !Number.isInteger(v)) throw new PrimeError(`${what} = ${v} must be an integer`);
  if (!(v >= lo && v <= hi)) throw new PrimeError(`${what} = ${v} out of range ${lo}..${hi}`);
  return v;
}
/** Throws unless p is undefined/null or a plain object of parameters. */
function params(p, what) {
  if (p === undefined || p === null) return {};
  if (typeof p !== 'object' || Array.isArray(p) || ArrayBuffer.isView(p))
    throw new PrimeError(`${what} expects an object of named parameters, got ${Array.isArray(p) ? 'an array' : typeof p}`);
  return p;
}

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

/** Returns the bytes of the .wasm file: given, fetched (browser) or read (Node). */
async function wasmSource(opts) {
  if (opts.wasmBytes) return opts.wasmBytes;
  const url = opts.wasmUrl || new URL(opts.scalar ? '../build/prime-scalar.wasm' : './prime.wasm', import.meta.url);
  if (isNode && (typeof url !== 'string' || !/^https?:/.test(url)) && (url.protocol === undefined || url.protocol === 'file:')) {
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new PrimeError(`cannot fetch ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Loads the wasm module and returns the API object.
 * opts: { wasmBytes?: Uint8Array, wasmUrl?: string|URL, scalar?: boolean (the scalar build, tests/bench) }
 */
export async function loadPrime(opts = {}) {
  const bytes = await wasmSource(opts);
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: { emscripten_notify_memory_growth: () => {} },
  });
  const X = instance.exports;
  if (X._initialize) X._initialize();
  const mem = X.memory;
  const heap = {
    u8: () => new Uint8Array(mem.buffer),
    f32: () => new Float32Array(mem.buffer),
    f64: () => new Float64Array(mem.buffer),
    i32: () => new Int32Array(mem.buffer),
    u32: () => new Uint32Array(mem.buffer),
    dv: () => new DataView(mem.buffer),
  };

  const cstr = (p) => {
    const u8 = heap.u8();
    let e = p;
    while (u8[e]) e++;
    return new TextDecoder().decode(u8.subarray(p, e));
  };

  // ---- version and ABI (src/wasm_abi.h), checked before anything else
  if (!X.pw_version || !X.pw_abi || !X.pw_abi_names) {
    throw new PrimeError(`prime.wasm has no version / ABI table: it was built from older sources than prime.js ${VERSION} (rebuild it: ./build.sh wasm)`);
  }
  const wasmVersion = cstr(X.pw_version());
  if (wasmVersion !== VERSION) {
    throw new PrimeError(`prime.wasm is version ${wasmVersion}, prime.js is version ${VERSION}: use the files of one release (or rebuild: ./build.sh wasm)`);
  }
  const A = (() => {
    const names = cstr(X.pw_abi_names()).split(',').filter(Boolean);
    const p = X.pw_abi() >> 2, n = heap.i32()[p];
    if (n !== names.length) throw new PrimeError(`prime.wasm ABI table holds ${n} values for ${names.length} names`);
    const vals = heap.i32().subarray(p + 1, p + 1 + n);
    return Object.freeze(Object.fromEntries(names.map((k, i) => [k, vals[i]])));
  })();
  const bad = abiMismatches(A);
  if (bad.length) throw new PrimeError(`prime.wasm and prime.js disagree on the ABI (src/wasm_abi.h): ${bad.join('; ')}`);
  const OPS = { [A.op_conv]: 'conv', [A.op_fc]: 'fc', [A.op_avgpool]: 'avgpool' };
  const NEURONS = { [A.neuron_none]: 'none', [A.neuron_lif]: 'lif', [A.neuron_output]: 'output' };
  const POLICIES = { [A.stop_none]: 'none', [A.stop_confidence]: 'confidence' };
  const STATES = { membrane: A.state_membrane, spikes: A.state_spikes, current: A.state_current };
  const fail = (what) => { throw new PrimeError(cstr(X.prime_last_error()) || `${what} failed`); };
  /** Allocates n bytes in wasm memory; throws PrimeError when memory is exhausted. */
  const alloc = (n) => {
    if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ALLOC)
      throw new PrimeError(`buffer of ${n} bytes does not fit the wasm memory (at most ${MAX_ALLOC})`);
    const p = X.pw_malloc(n);
    if (!p) throw new PrimeError(`wasm memory exhausted (asked for ${n} bytes)`);
    return p;
  };
  /** Runs fn with temporary buffers of the given byte sizes, freeing them after. */
  const withBufs = (sizes, fn) => {
    const ptrs = [];
    try {
      for (const s of sizes) ptrs.push(alloc(s));
      return fn(...ptrs);
    } finally {
      for (const p of ptrs) X.pw_free(p);
    }
  };
  const putBytes = (p, arr) => heap.u8().set(arr instanceof Uint8Array ? arr : new Uint8Array(arr), p);
  const putF32 = (p, arr) => heap.f32().set(arr, p >> 2);
  const getF64 = (p, n) => Float64Array.from(heap.f64().subarray(p >> 3, (p >> 3) + n));
  const toF32 = (a, what) => {
    if (a instanceof Float32Array) return a;
    if (ArrayBuffer.isView(a) || Array.isArray(a)) return Float32Array.from(a);
    throw new PrimeError(`${what} must be a Float32Array or an array of numbers`);
  };
  const toU8 = (a, what) => {
    if (a instanceof Uint8Array) return a;
    if (a instanceof ArrayBuffer) return new Uint8Array(a);
    if (ArrayBuffer.isView(a)) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    throw new PrimeError(`${what} must be a Uint8Array or ArrayBuffer`);
  };

  // the device effects (docs/device.md): option keys, IR-drop maps (wasm/prime-device.js)
  const DV = deviceApi({ X, heap, cstr, withBufs, getF64, putF32, toF32, fail, params, PrimeError, DEVICE_KEYS });

  const readDevice = (fnPtr) => withBufs([8 * A.dev_fields], (p) => {
    fnPtr(p);
    const v = getF64(p, DEVICE_KEYS.length);
    return Object.fromEntries(DEVICE_KEYS.map((k, i) => [k, v[i]]));
  });
  const readRun = (fnPtr) => withBufs([8 * A.run_fields], (p) => {
    fnPtr(p);
    const v = getF64(p, RUN_KEYS.length);
    const r = Object.fromEntries(RUN_KEYS.map((k, i) => [k, v[i]]));
    r.policy = POLICIES[r.policy];
    return r;
  });
  const eventParams = (partial) => withBufs([8 * A.event_fields], (p) => {
    X.pw_default_event_params(p);
    const v = getF64(p, EVENT_KEYS.length);
    const o = Object.fromEntries(EVENT_KEYS.map((k, i) => [k, v[i]]));
    for (const k of Object.keys(params(partial, 'event parameters'))) {
      if (!EVENT_KEYS.includes(k)) throw new PrimeError(`unknown event parameter "${k}"`);
      o[k] = num(partial[k], `event parameter ${k}`);
    }
    return o;
  });

  /** Decodes a result array of A.res_doubles doubles (layout in src/wasm_abi.h). */
  const decodeResult = (v) => {
    const n = v[3], s = v[2], L = v[4];
    const at = (off, len) => v.subarray(off, off + len);
    return {
      label: v[0], T: v[1], stepsUsed: s, nClasses: n,
      logits: Float32Array.from(at(A.res_logits, n)),
      probs: Float32Array.from(at(A.res_probs, n)),
      confidence: Float32Array.from(at(A.res_confidence, s)),
      stepLabel: Int32Array.from(at(A.res_step_label, s)),
      spikes: Float64Array.from(at(A.res_spikes, L)),
      counters: Object.fromEntries(COUNTER_KEYS.map((k, i) => [k, v[A.res_counters + i]])),
      energyPj: v[5], baselinePj: v[6], energyRatio: v[7],
    };
  };

  const readEvents = (ep, n) => {
    const stride = A.event_size;
    const dv = heap.dv();
    const ev = { x: new Uint16Array(n), y: new Uint16Array(n), p: new Uint8Array(n), t: new Uint32Array(n), count: n };
    for (let i = 0; i < n; i++) {
      const o = ep + i * stride;
      ev.x[i] = dv.getUint16(o + A.event_x, true); ev.y[i] = dv.getUint16(o + A.event_y, true);
      ev.p[i] = dv.getUint8(o + A.event_p); ev.t[i] = dv.getUint32(o + A.event_t, true);
    }
    return ev;
  };

  const Model = defineModel({ X, A, heap, withBufs, fail, putBytes, putF32, getF64, toF32, toU8, num, params, PrimeError,
    DEVICE_KEYS, RUN_KEYS, OPS, NEURONS, POLICIES, STATES, decodeResult, readDevice, readRun, DV });

  const eventDefaults = eventParams({});

  return {
    simd: cstr(X.pw_simd()),
    version: wasmVersion,
    /** The module's ABI table (src/wasm_abi.h), name -> value. */
    abi: A,
    PrimeError,
    /** Default device parameters (prime_default_device). */
    defaultDevice: () => readDevice((p) => X.pw_default_device(p)),
    /** Every device option key (docs/device.md): [{ key, help (unit and meaning), default, defaultInpaint }]. */
    deviceOptions: DV.deviceOptions,
    defaultRun: () => readRun((p) => X.pw_default_run(p)),
    defaultEventParams: () => eventParams({}),
    /**
     * The model of any model file: a classifier (.prime) or an inpainting VAE
     * (.pvae), version 1 or 2 (docs/model-format.md). m.kind says which; a
     * method the network does not have throws a PrimeError (wasm/prime-model.js).
     */
    load(bytes) { return Model.load(bytes); },
    /** A classifier Model (P.load, refusing any other network). */
    loadModel(bytes) { return Model.load(bytes, 'classifier'); },
    /** A Model from a checkpoint: a PyTorch .pt/.pth (torch.save zip) or a NumPy .npz/.npy in a known
     * key layout (docs/model-format.md, "Importing"; docs/graph.md, "Import"), default device: the PRIME
     * authors' FSVAE state_dict or the Fashion CNN layout give a layer-graph model (kind 'graph'); the
     * authors' classification state_dict or mask<i>/weight<i>/gpos<i>/gneg<i> a classifier. Throws
     * PrimeError naming what is wrong. */
    importModel(bytes) { return Model.importCheckpoint(bytes); },
    /** Decodes PNG/JPEG/BMP/GIF bytes to a w*h Float32Array in [0,1] (invert: dark strokes -> bright). */
    decodeImage(bytes, w = 28, h = 28, invert = true) {
      const b = toU8(bytes, 'image');
      num(w, 'decodeImage: width', true, 1, 4096), num(h, 'decodeImage: height', true, 1, 4096);
      return withBufs([b.length || 1, 4 * w * h], (p, po) => {
        putBytes(p, b);
        if (X.prime_image_decode(p, b.length, w, h, invert ? 1 : 0, po) !== 0) fail('decodeImage');
        return heap.f32().slice(po >> 2, (po >> 2) + w * h);
      });
    },
    /** Synthetic N-MNIST events from an image (values 0..1). */
    eventsFromImage(img, w, h, params = {}) {
      const f = toF32(img, 'image');
      num(w, 'eventsFromImage: width', true, 1, 4096), num(h, 'eventsFromImage: height', true, 1, 4096);
      if (f.length !== w * h) throw new PrimeError(`image holds ${f.length} values, expected ${w}x${h}`);
      const o = eventParams(params);
      return withBufs([4 * f.length, 8 * A.event_fields, 4], (pi, pp, pn) => {
        putF32(pi, f);
        heap.f64().set(EVENT_KEYS.map((k) => o[k]), pp >> 3);
        const ep = X.pw_events_from_image(pi, w, h, pp, pn);
        if (!ep) fail('eventsFromImage');
        try { return readEvents(ep, heap.u32()[pn >> 2]); } finally { X.pw_free(ep); }
      });
    },
    /** Parses real N-MNIST bytes (5 bytes per event). */
    parseNmnist(bytes) {
      const b = toU8(bytes, 'events');
      return withBufs([b.length || 1, 4], (p, pn) => {
        putBytes(p, b);
        const ep = X.pw_nmnist_parse(p, b.length, pn);
        if (!ep) fail('parseNmnist');
        try { return readEvents(ep, heap.u32()[pn >> 2]); } finally { X.pw_free(ep); }
      });
    },
    /** Bins events into T frames [T][2][size][size] of counts (equal events per frame). */
    binEvents(ev, T, size = eventDefaults.size) {
      num(T, 'binEvents: T', true, 1, 64), num(size, 'binEvents: size', true, 1, 4096);
      const n = num(ev && ev.count, 'binEvents: ev.count', true, 0, 1 << 21), stride = A.event_size;
      for (const k of ['x', 'y', 'p', 't'])
        if (!ev[k] || ev[k].length < n) throw new PrimeError(`binEvents: ev.${k} must hold ev.count = ${n} values`);
      return withBufs([Math.max(1, n * stride), 4 * T * 2 * size * size], (pe, pf) => {
        const dv = heap.dv();
        for (let i = 0; i < n; i++) {
          const o = pe + i * stride;
          dv.setUint16(o + A.event_x, ev.x[i], true); dv.setUint16(o + A.event_y, ev.y[i], true);
          dv.setUint8(o + A.event_p, ev.p[i]); dv.setUint32(o + A.event_t, ev.t[i], true);
        }
        if (X.prime_events_bin(pe, n, T, size, pf) !== 0) fail('binEvents');
        return heap.f32().slice(pf >> 2, (pf >> 2) + T * 2 * size * size);
      });
    },
    /** Image (w*h, 0..1) -> synthetic events (default params, this seed) -> T frames of 2x34x34. */
    framesFromImage(img, w, h, T = 10, seed = 0) {
      const f = toF32(img, 'image');
      num(w, 'framesFromImage: width', true, 1, 4096), num(h, 'framesFromImage: height', true, 1, 4096);
      num(T, 'framesFromImage: T', true, 1, 64), num(seed, 'framesFromImage: seed', true, 0, 2 ** 53);
      if (f.length !== w * h) throw new PrimeError(`image holds ${f.length} values, expected ${w}x${h}`);
      const size = eventDefaults.size, n = T * 2 * size * size;
      return withBufs([4 * f.length, 4 * n], (pi, pf) => {
        putF32(pi, f);
        if (X.pw_frames_from_image(pi, w, h, T, seed, pf) !== 0) fail('framesFromImage');
        return heap.f32().slice(pf >> 2, (pf >> 2) + n);
      });
    },
    /** Bytes currently held by the wasm memory. */
    memoryBytes: () => mem.buffer.byteLength,
    /** Deprecated: P.load(bytes) gives the same model object (kind 'inpainter') for an
     * inpainting model; this alias refuses any other network. */
    loadInpainter(bytes) { return Model.load(bytes, 'inpainter'); },
  };
}
