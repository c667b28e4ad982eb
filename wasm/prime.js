// prime.js - the JavaScript API of PRIME-sim (ES module; browser and Node).
//
//   import { loadPrime } from './prime.js';
//   const P = await loadPrime();                 // or loadPrime({ wasmBytes }) / ({ wasmUrl })
//   const m = P.loadModel(bytes);                // Uint8Array of a .prime file
//   const m2 = P.importModel(ptBytes);           // or of a PyTorch .pt / NumPy .npz checkpoint
//   m.setDevice({ readNoise: 0.05 });
//   m.setRun({ policy: 'confidence', threshold: 0.8 });
//   const r = m.classify(frames, 10);            // Float32Array [T][C][H][W]
//   console.log(r.label, r.stepsUsed, r.energyPj);
//   m.free();
//
// Memory rule: a typed-array view of wasm memory is taken through heap() right
// where it is used and never kept across a call that may allocate (memory
// growth detaches old views). Results are copied out. Errors from C become
// PrimeError exceptions carrying the C message.
//
// The C/JS boundary (buffer sizes, offsets, enum values) is defined once, in
// src/wasm_abi.h; loadPrime reads it from the module (pw_abi) and checks it
// against what this file decodes by position (abiMismatches). Types: prime.d.ts.

import { deviceApi } from './prime-device.js';

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
  vae_arch_fields: 3, vae_layer_fields: 10, vae_opt_fields: 9, vae_res_head: 8,
  event_x_bytes: 2, event_y_bytes: 2, event_p_bytes: 1, event_t_bytes: 4,
};
const ABI_USED = ['max_layers', 'max_t', 'array_size', 'arch_doubles', 'res_counters', 'res_logits', 'res_probs',
  'res_confidence', 'res_step_label', 'res_spikes', 'res_doubles', 'event_size', 'event_x', 'event_y', 'event_p',
  'event_t', 'op_conv', 'op_fc', 'op_avgpool', 'neuron_none', 'neuron_lif', 'neuron_output', 'stop_none',
  'stop_confidence', 'state_membrane', 'state_spikes', 'state_current', 'vae_layers', 'vae_latent_layer',
  'vae_op_conv', 'vae_op_tconv', 'vae_op_fc', 'vae_stop_none', 'vae_stop_convergence', 'vae_res_m',
  'vae_res_doubles', 'vae_param_weights', 'vae_param_bn_a', 'vae_param_bn_b', 'vae_param_bias'];

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
  const VAE_OPS = { [A.vae_op_conv]: 'conv', [A.vae_op_tconv]: 'tconv', [A.vae_op_fc]: 'fc' };
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

  class Model {
    constructor(ctx) {
      this._c = ctx;
      this.arch = this._arch();
    }
    _ctx() { if (!this._c) throw new PrimeError('model was freed'); return this._c; }
    _arch() {
      return withBufs([8 * A.arch_doubles], (p) => {
        const n = X.pw_arch(this._ctx(), p);
        const v = getF64(p, n);
        const a = { task: v[0], T: v[1], inC: v[2], inH: v[3], inW: v[4], nClasses: v[5], layers: [] };
        const H = A.arch_head, F = A.arch_layer_fields;
        for (let l = 0; l < v[6]; l++) {
          const q = v.subarray(H + F * l, H + F * (l + 1));
          a.layers.push({ op: OPS[q[0]], inC: q[1], inH: q[2], inW: q[3], outC: q[4], outH: q[5], outW: q[6],
            k: q[7], stride: q[8], pad: q[9], neuron: NEURONS[q[10]], th: q[11], decay: q[12], leak: q[13],
            scale: q[14], sparsity: q[15] });
        }
        return a;
      });
    }
    /** Device parameters (see prime.h prime_device), camelCase. */
    getDevice() { return readDevice((p) => X.pw_get_device(this._ctx(), p)); }
    /**
     * Merges partial device parameters: the camelCase fields of getDevice() and
     * every option key of P.deviceOptions() (docs/device.md), e.g.
     *   m.setDevice({ read_model: 'weight', read_noise: 0.1, t_read: '1d', r_row: 1, preset: 'paper' })
     * applied in order, all or nothing (PrimeError naming the key; nothing changes).
     * Re-forms the chip only if a forming field changed; effects re-program it.
     */
    setDevice(partial) {
      const keys = Object.keys(params(partial, 'setDevice'));
      if (keys.every((k) => DEVICE_KEYS.includes(k))) {
        const d = { ...this.getDevice() };
        for (const k of keys) d[k] = num(partial[k], `device parameter ${k}`);
        withBufs([8 * A.dev_fields], (p) => {
          heap.f64().set(DEVICE_KEYS.map((k) => d[k]), p >> 3);
          if (X.pw_set_device(this._ctx(), p) !== 0) fail('setDevice');
        });
        return this;
      }
      DV.setOptions(this._ctx(), partial, 'setDevice');
      return this;
    }
    /** Every device option's current value as text, { key: value } (keys of P.deviceOptions()). */
    getDeviceOptions() { return DV.getOptions(this._ctx()); }
    /** The arrays of the IR-drop model of layer `layer`: { rowTiles, colTiles, arrays, tile } (tile = ir_tile). */
    irdropArrays(layer) { return DV.irdropArrays(this._ctx(), layer); }
    /**
     * The IR-drop voltage map of array `array` of layer `layer` (exact nodal
     * solve, src/irdrop.c; needs r_row and r_col > 0): every used row driven at
     * vRead volts (or input[r]). Returns { rows, cols, iterations, vRow, vCol
     * (Float64Array rows*cols, V: row and column wire nodes), iCol, iIdeal
     * (Float64Array cols, uA: column currents with and without wires) }.
     */
    irdropMap(layer, array = 0, input = null) { return DV.irdropMap(this._ctx(), layer, array, input); }
    getRun() { return readRun((p) => X.pw_get_run(this._ctx(), p)); }
    /** Merges a partial run policy {policy: 'none'|'confidence', alpha, threshold, minSteps, noiseSeed}. */
    setRun(partial) {
      const r = { ...this.getRun() };
      for (const k of Object.keys(params(partial, 'setRun'))) {
        if (!RUN_KEYS.includes(k)) throw new PrimeError(`unknown run parameter "${k}"`);
        r[k] = k === 'policy' && typeof partial[k] === 'string' ? partial[k] : num(partial[k], `run parameter ${k}`);
      }
      const byName = Object.entries(POLICIES).find(([, name]) => name === r.policy);
      const pol = typeof r.policy === 'string' ? (byName ? Number(byName[0]) : -1) : r.policy;
      if (pol < 0) throw new PrimeError(`unknown policy "${r.policy}" (none, confidence)`);
      withBufs([8 * A.run_fields], (p) => {
        heap.f64().set([pol, r.alpha, r.threshold, r.minSteps, r.noiseSeed], p >> 3);
        if (X.pw_set_run(this._ctx(), p) !== 0) fail('setRun');
      });
      return this;
    }
    _frames(frames, T) {
      const f = toF32(frames, 'frames');
      const per = this.arch.inC * this.arch.inH * this.arch.inW;
      if (!Number.isInteger(T) || T < 1 || T > A.max_t) throw new PrimeError(`T = ${T} out of 1..${A.max_t}`);
      if (f.length !== T * per) throw new PrimeError(`frames hold ${f.length} values, expected T*${this.arch.inC}*${this.arch.inH}*${this.arch.inW} = ${T * per}`);
      return f;
    }
    /** Classifies one input [T][C][H][W]; returns the result object (copied out). */
    classify(frames, T = this.arch.T) {
      const f = this._frames(frames, T);
      return withBufs([4 * f.length, 8 * A.res_doubles], (pin, pres) => {
        putF32(pin, f);
        if (X.pw_classify(this._ctx(), pin, T, pres) !== 0) fail('classify');
        return decodeResult(getF64(pres, A.res_doubles));
      });
    }
    /**
     * Classifies many inputs: exactly what frames.map((f) => m.classify(f, T))
     * gives (sample i is inference number `first` + i, which keys its read
     * noise), in chunks of `chunk` samples per call into the core.
     * opts: {T, first (default: the next inference number), chunk (32), onProgress(done, total)}.
     * After it the next inference number is first + frames.length.
     */
    classifyBatch(frames, opts = {}) {
      const { T = this.arch.T, first, chunk = 32, onProgress } = params(opts, 'classifyBatch');
      if (!Array.isArray(frames)) throw new PrimeError('classifyBatch: frames must be an array of inputs');
      num(chunk, 'classifyBatch: chunk', true, 1, 4096);
      const fs = frames.map((f, i) => { try { return this._frames(f, T); } catch (e) { throw new PrimeError(`classifyBatch: input ${i}: ${e.message}`); } });
      if (first !== undefined) this.setInference(first);
      const out = [];
      for (let i0 = 0; i0 < fs.length; i0 += chunk) {
        const part = fs.slice(i0, i0 + chunk), per = part[0].length;
        withBufs([4 * per * part.length, 8 * A.res_doubles * part.length], (pin, pres) => {
          part.forEach((f, k) => putF32(pin + 4 * per * k, f));
          if (X.pw_classify_batch(this._ctx(), pin, part.length, T, pres) !== 0) fail('classifyBatch');
          const v = getF64(pres, A.res_doubles * part.length);
          for (let k = 0; k < part.length; k++) out.push(decodeResult(v.subarray(k * A.res_doubles, (k + 1) * A.res_doubles)));
        });
        if (onProgress) onProgress(out.length, fs.length);
      }
      return out;
    }
    /** The inference number the next input gets (0 after setRun; keys the read-noise stream). */
    getInference() { return X.pw_get_inference(this._ctx()); }
    /** Sets it, so another model object (a worker) continues this one's stream exactly. */
    setInference(next) {
      num(next, 'setInference', true, 0, 2 ** 53 - 1);
      if (X.pw_set_inference(this._ctx(), next) !== 0) fail('setInference');
      return this;
    }
    /** Starts step mode with an input; then step() advances one timestep. */
    begin(frames, T = this.arch.T) {
      const f = this._frames(frames, T);
      withBufs([4 * f.length], (pin) => {
        putF32(pin, f);
        if (X.prime_begin(this._ctx(), pin, T) !== 0) fail('begin');
      });
      return this;
    }
    /** Runs one timestep: true if it ran, false when finished (T reached or early stop). */
    step() {
      const r = X.prime_step(this._ctx());
      if (r < 0) fail('step');
      return r === 1;
    }
    /** The result after the steps run so far. */
    result() {
      return withBufs([8 * A.res_doubles], (p) => {
        if (X.pw_result(this._ctx(), p) !== 0) fail('result');
        return decodeResult(getF64(p, A.res_doubles));
      });
    }
    /** A copy of a layer's state ('membrane' | 'spikes' | 'current'), CHW order. */
    layerState(layer, what = 'spikes') {
      if (!(what in STATES)) throw new PrimeError(`unknown state "${what}" (membrane, spikes, current)`);
      const L = this.arch.layers[layer];
      if (!L) throw new PrimeError(`layer ${layer} out of range`);
      const p = X.prime_layer_state(this._ctx(), layer, STATES[what], 0);
      if (!p) fail('layerState');
      const n = L.outC * L.outH * L.outW;
      return heap.f32().slice(p >> 2, (p >> 2) + n);
    }
    /** Per layer: null for pools, else {rows, cols, rowTiles, colTiles, arrays, fill, firstArray}. */
    tiling() {
      return this.arch.layers.map((L, l) => {
        if (L.op === 'avgpool') return null;
        return withBufs([8 * A.tiling_fields], (p) => {
          if (X.pw_tiling(this._ctx(), l, p) !== 0) fail('tiling');
          const v = getF64(p, A.tiling_fields);
          return { rows: v[0], cols: v[1], rowTiles: v[2], colTiles: v[3], arrays: v[4], fill: v[5], firstArray: v[6] };
        });
      });
    }
    totalArrays() { return X.prime_total_arrays(this._ctx()); }
    /** Conductances (uS) of crossbar array i: Float32Array(512*512), columns in (G+, G-) pairs. */
    array(i) {
      num(i, 'array: index', true, 0, 2 ** 31 - 1);
      const n = A.array_size * A.array_size;
      return withBufs([4 * n], (p) => {
        if (X.prime_get_array(this._ctx(), i, p, n) !== 0) fail('array');
        return heap.f32().slice(p >> 2, (p >> 2) + n);
      });
    }
    _nWeights(layer) {
      const L = this.arch.layers[layer];
      if (!L || L.op === 'avgpool') throw new PrimeError(`layer ${layer} has no weights`);
      return (L.op === 'conv' ? L.inC * L.k * L.k : L.inC * L.inH * L.inW) * L.outC;
    }
    /** The mask of a weight layer: Uint8Array, 1 keep / 0 pruned, [row][col]. */
    getMask(layer) {
      const n = this._nWeights(layer);
      return withBufs([n], (p) => {
        if (X.prime_get_mask(this._ctx(), layer, p, n) !== 0) fail('getMask');
        return heap.u8().slice(p, p + n);
      });
    }
    setMask(layer, mask) {
      const n = this._nWeights(layer);
      const m = toU8(mask, 'mask');
      if (m.length !== n) throw new PrimeError(`mask of layer ${layer} needs ${n} values, got ${m.length}`);
      withBufs([n], (p) => {
        putBytes(p, m);
        if (X.prime_set_mask(this._ctx(), layer, p, n) !== 0) fail('setMask');
      });
      return this;
    }
    /** Weights as programmed ((G+ - G-) * scale), or the formed on-state if kept. */
    getWeights(layer, kept = false) {
      const n = this._nWeights(layer);
      return withBufs([4 * n], (p) => {
        if (X.prime_get_weights(this._ctx(), layer, kept ? 1 : 0, p, n) !== 0) fail('getWeights');
        return heap.f32().slice(p >> 2, (p >> 2) + n);
      });
    }
    /** Replaces a layer's formed conductances by a measured map (uS, [row][col] order). */
    setConductances(layer, gpos, gneg) {
      const n = this._nWeights(layer);
      const gp = toF32(gpos, 'gpos'), gn = toF32(gneg, 'gneg');
      if (gp.length !== n || gn.length !== n) throw new PrimeError(`layer ${layer} needs ${n} conductances per side`);
      withBufs([4 * n, 4 * n], (pp, pn) => {
        putF32(pp, gp); putF32(pn, gn);
        if (X.prime_set_conductances(this._ctx(), layer, pp, pn, n) !== 0) fail('setConductances');
      });
      return this;
    }
    /** Imports masks / weights from a NumPy .npz (see docs/model-format.md); returns arrays used. */
    importNpz(bytes) {
      const b = toU8(bytes, 'npz');
      return withBufs([b.length || 1], (p) => {
        putBytes(p, b);
        const r = X.prime_import_npz(this._ctx(), p, b.length);
        if (r < 0) fail('importNpz');
        return r;
      });
    }
    /** The model file bytes (architecture, device, masks). */
    save() {
      return withBufs([4], (pn) => {
        const p = X.pw_save(this._ctx(), pn);
        if (!p) fail('save');
        const n = heap.u32()[pn >> 2];
        const out = heap.u8().slice(p, p + n);
        X.pw_free(p);
        return out;
      });
    }
    /** The network as ONNX bytes, unrolled over T steps (zero noise, ideal ADC/DAC; docs/performance.md). */
    exportOnnx(T = this.arch.T) {
      if (!Number.isInteger(T) || T < 1 || T > A.max_t) throw new PrimeError(`T = ${T} out of 1..${A.max_t}`);
      return withBufs([4], (pn) => {
        const p = X.pw_onnx_export(this._ctx(), T, pn);
        if (!p) fail('exportOnnx');
        const out = heap.u8().slice(p, p + heap.u32()[pn >> 2]);
        X.pw_free(p);
        return out;
      });
    }
    free() { if (this._c) { X.prime_free(this._c); this._c = 0; } }
  }
  const eventDefaults = eventParams({});
  const vaeDefaults = withBufs([8 * A.vae_opt_fields], (p) => { X.pw_vae_default_options(p); return getF64(p, A.vae_opt_fields); });

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
    /** A Model from .prime bytes; throws PrimeError for a bad file. */
    loadModel(bytes) {
      const b = toU8(bytes, 'model');
      const ctx = withBufs([b.length || 1], (p) => {
        putBytes(p, b);
        return X.prime_load(p, b.length);
      });
      if (!ctx) fail('loadModel');
      return new Model(ctx);
    },
    /** A Model from a checkpoint: a PyTorch .pt/.pth (torch.save zip) or a NumPy .npz/.npy in a known
     * key layout (the PRIME authors' classification state_dict; mask<i>/weight<i>/gpos<i>/gneg<i>),
     * default device (docs/model-format.md, "Importing"); throws PrimeError naming what is wrong. */
    importModel(bytes) {
      const b = toU8(bytes, 'checkpoint');
      const ctx = withBufs([b.length || 1], (p) => {
        putBytes(p, b);
        return X.prime_import_model(p, b.length, 0);
      });
      if (!ctx) fail('importModel');
      return new Model(ctx);
    },
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
    /**
     * An inpainting model (docs/inpainting.md) from .pvae bytes; throws PrimeError.
     *   const ip = P.loadInpainter(bytes);
     *   const r = ip.inpaint(img32, { readNoise: 0.05, earlyStop: true });   // img in [-1, 1]
     *   r.recon (last step), r.steps[t] (every step), r.stepsUsed, r.m[t], r.energyPj
     *   const g = ip.generate({ seed: 42 });   // a new image from the prior, same fields
     *   ip.layers[i], ip.getParams(i): geometry and effective weights (PyTorch peer)
     *   ip.latentUniforms(opts), ip.exportOnnx(): the ONNX peer (docs/performance.md)
     *   ip.free();
     */
    loadInpainter(bytes) {
      const b = toU8(bytes, 'inpainting model');
      let v = withBufs([b.length || 1], (p) => { putBytes(p, b); return X.prime_vae_load(p, b.length); });
      if (!v) fail('loadInpainter');
      const [size, T, software] = withBufs([8 * A.vae_arch_fields], (p) => { X.pw_vae_arch(v, p); return getF64(p, A.vae_arch_fields); });
      const n = size * size;
      const layers = [];
      for (let i = 0; i < A.vae_layers; i++) {
        const g = withBufs([8 * A.vae_layer_fields], (p) => {
          if (X.pw_vae_layer(v, i, p) !== 0) fail('inpainter layer');
          return getF64(p, A.vae_layer_fields);
        });
        layers.push({ op: VAE_OPS[g[0]], inC: g[1], inH: g[2], outC: g[3], outH: g[4], k: g[5], rows: g[6], cols: g[7], crossbar: !!g[8], bn: !!g[9] });
      }
      const D = vaeDefaults, stop = (on) => (on === false ? A.vae_stop_none : on === true ? A.vae_stop_convergence : D[2]);
      const OPT_NUMS = ['readNoise', 'adcBits', 'mDiv', 'mTh', 'mWindow', 'noiseSeed', 'latentSeed', 'dacBits', 'seed'];
      const optArray = (opts) => {
        params(opts, 'inpainter options');
        for (const k of OPT_NUMS) if (opts[k] !== undefined) num(opts[k], `inpainter option ${k}`);
        if (opts.earlyStop !== undefined && typeof opts.earlyStop !== 'boolean')
          throw new PrimeError(`inpainter option earlyStop must be true or false, got ${typeof opts.earlyStop}`);
        return [opts.readNoise ?? D[0], opts.adcBits ?? D[1], stop(opts.earlyStop), opts.mDiv ?? D[3],
          opts.mTh ?? D[4], opts.mWindow ?? D[5], opts.noiseSeed ?? D[6], opts.latentSeed ?? D[7], opts.dacBits ?? D[8]];
      };
      const param = (i, what, len) => withBufs([4 * len], (p) => {
        if (X.pw_vae_param(v, i, what, p, len) !== 0) fail('getParams');
        return heap.f32().slice(p >> 2, (p >> 2) + len);
      });
      const live = () => { if (!v) throw new PrimeError('inpainter was freed'); };
      /* Runs fn(optsPtr, resultPtr) (a pw_vae_* call) with the read options,
       * then copies the result and every step's image out of wasm memory. */
      const run = (opts, what, fn) => {
        return withBufs([8 * A.vae_opt_fields, 8 * A.vae_res_doubles], (po, pr) => {
          heap.f64().set(optArray(opts), po >> 3);
          if (fn(po, pr) !== 0) fail(what);
          const r = getF64(pr, A.vae_res_doubles), s = r[0];
          const steps = [];
          for (let t = 0; t < s; t++) {
            const q = X.prime_vae_recon(v, t);
            steps.push(heap.f32().slice(q >> 2, (q >> 2) + n));
          }
          return {
            stepsUsed: s, T: r[1], energyPj: r[2], baselinePj: r[3], energyRatio: r[4],
            counters: { cellReads: r[5], adcConversions: r[6] }, spikes: r[7],
            m: Float64Array.from(r.subarray(A.vae_res_m, A.vae_res_m + s)), steps, recon: steps[s - 1],
          };
        });
      };
      return {
        size, T, software: !!software, layers,
        /** Inpaints img (size*size in [-1, 1]); opts.hole: size*size 0/1 (1 = unknown), default centre 8x8. */
        inpaint(img, opts = {}) {
          live();
          opts = params(opts, 'inpaint');
          const f = toF32(img, 'image');
          if (f.length !== n) throw new PrimeError(`image holds ${f.length} values, expected ${size}x${size}`);
          const hole = opts.hole ? toU8(opts.hole, 'hole') : null;
          if (hole && hole.length !== n) throw new PrimeError(`hole holds ${hole.length} values, expected ${n}`);
          return withBufs([4 * n, n], (pi, ph) => {
            putF32(pi, f);
            if (hole) putBytes(ph, hole);
            return run(opts, 'inpaint', (po, pr) => X.pw_vae_inpaint(v, pi, hole ? ph : 0, po, pr));
          });
        },
        /**
         * Generates an image from the prior (z_t sampled from p(z_t | z_(t-1)),
         * decoder on the macro). opts.seed (integer, default 1) picks the sample:
         * the same seed and settings give the same image. Other options and the
         * result as inpaint (recon = the generated image, steps[t] every step).
         */
        generate(opts = {}) {
          live();
          opts = params(opts, 'generate');
          const seed = opts.seed ?? 1;
          if (typeof seed !== 'number') throw new PrimeError('generate: seed must be a number');
          return { seed, ...run(opts, 'generate', (po, pr) => X.pw_vae_generate(v, seed, po, pr)) };
        },
        /** Layer i's effective parameters: { w } (crossbar: programmed (G+ - G-)*scale, [rows][cols]), { a, b } folded BN, { bias }. */
        getParams(i) {
          if (!v) throw new PrimeError('inpainter was freed');
          const L = layers[i], out = { w: param(i, A.vae_param_weights, L.rows * L.cols) };
          if (L.bn) out.a = param(i, A.vae_param_bn_a, L.outC), out.b = param(i, A.vae_param_bn_b, L.outC);
          if (!L.crossbar) out.bias = param(i, A.vae_param_bias, L.cols);
          return out;
        },
        /** The uniforms [T][latent] (Float64Array) an inpaint with these options compares with q (z = u < q). */
        latentUniforms(opts = {}) {
          if (!v) throw new PrimeError('inpainter was freed');
          const m = T * layers[A.vae_latent_layer].inC;
          return withBufs([8 * A.vae_opt_fields, 8 * m], (po, pu) => {
            heap.f64().set(optArray(opts), po >> 3);
            if (X.pw_vae_uniforms(v, po, pu) !== 0) fail('latentUniforms');
            return getF64(pu, m);
          });
        },
        /** The network as ONNX bytes (zero noise, ideal ADC/DAC; inputs image, hole, uniforms). */
        exportOnnx() {
          if (!v) throw new PrimeError('inpainter was freed');
          return withBufs([4], (pn) => {
            const p = X.pw_vae_onnx_export(v, pn);
            if (!p) fail('exportOnnx');
            const out = heap.u8().slice(p, p + heap.u32()[pn >> 2]);
            X.pw_free(p);
            return out;
          });
        },
        /** Device option keys (P.deviceOptions()), all or nothing; e.g. { read_model: 'weight', t_read: '1d' }.
         * The options of inpaint() (readNoise, adcBits, dacBits) still set those three fields on every call. */
        setDevice(partial) {
          live();
          DV.setOptions(v, partial, 'setDevice', true);
          return this;
        },
        /** Every device option's current value as text. */
        getDeviceOptions() { live(); return DV.getOptions(v, true); },
        free() { if (v) { X.prime_vae_free(v); v = 0; } },
      };
    },
  };
}
