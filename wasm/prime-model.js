// prime-model.js - the one model object of wasm/prime.js, for every network:
// the PRIME classifier (kind 'classifier'), the inpainting VAE (kind
// 'inpainter') and layer-graph models (kind 'graph', wasm/prime-graph.js). P.load(bytes) gives one for any model file (docs/model-format.md);
// a method the network does not have throws a PrimeError that says which it has.
//
//   both:        kind, arch, getDevice/setDevice (camelCase fields or the option keys of
//                P.deviceOptions(), docs/device.md), getDeviceOptions, getRun/setRun,
//                setConductances, save, exportOnnx, free
//   both:        begin/step/result (step mode: frames for the classifier, an image for the inpainter)
//   classifier:  classify, layerState, tiling, totalArrays, array, getMask, getWeights, importNpz,
//                irdropArrays, irdropMap
//   inpainter:   size, T, software, layers, inpaint, generate, latentUniforms, getParams
//
// Internal to prime.js: defineModel(env) is called once per loaded module with
// its heap helpers and returns the Model class.

import { defineGraph } from './prime-graph.js';

const VAE_RUN_KEYS = ['policy', 'mDiv', 'mTh', 'mWindow', 'minSteps', 'noiseSeed', 'latentSeed'];
const KIND_METHODS = {
  classifier: 'classify(), classifyBatch(), layerState(), tiling(), getMask(), getWeights(), importNpz(), irdropMap()',
  inpainter: 'inpaint(), generate(), begin()/step() on an image, latentUniforms(), getParams()',
};

export function defineModel(env) {
  const { X, A, heap, withBufs, fail, putBytes, putF32, getF64, toF32, toU8, num, params, PrimeError,
    DEVICE_KEYS, RUN_KEYS, OPS, NEURONS, POLICIES, STATES, decodeResult, readDevice, readRun, DV } = env;
  const VAE_OPS = { [A.vae_op_conv]: 'conv', [A.vae_op_tconv]: 'tconv', [A.vae_op_fc]: 'fc' };
  const VAE_POLICIES = { [A.vae_stop_none]: 'none', [A.vae_stop_convergence]: 'convergence' };
  const OPT_NUMS = ['readNoise', 'adcBits', 'mDiv', 'mTh', 'mWindow', 'noiseSeed', 'latentSeed', 'dacBits', 'seed'];
  const copyOut = (p, n) => { try { return heap.u8().slice(p, p + n); } finally { X.pw_free(p); } };
  /** Bytes from fn(lenPtr) -> pointer (a pw_* writer), copied out and freed. */
  const bytesOf = (what, fn) => withBufs([4], (pn) => {
    const p = fn(pn);
    if (!p) fail(what);
    return copyOut(p, heap.u32()[pn >> 2]);
  });
  const policyNumber = (names, value, list) => {
    if (typeof value !== 'string') return value;
    const hit = Object.entries(names).find(([, name]) => name === value);
    if (!hit) throw new PrimeError(`unknown policy "${value}" (${list})`);
    return Number(hit[0]);
  };

  class Model {
    /** h: the C handle (prime_ctx* or prime_vae*); kind: 'classifier' | 'inpainter'. */
    constructor(h, kind) {
      this._c = h;
      this.kind = kind;
      if (kind === 'classifier') this.arch = this._clfArch();
      else if (kind === 'inpainter') this._vaeInit();
      else this._graphInit();
    }
    _ctx() { if (!this._c) throw new PrimeError('model was freed'); return this._c; }
    /** The handle, if this model is of `kind`; else a PrimeError naming what it has. */
    _as(kind, method) {
      const h = this._ctx();
      if (this.kind !== kind) {
        const net = this.kind === 'classifier' ? 'a classifier' : 'an inpainting VAE';
        throw new PrimeError(`${method}: this model is ${net}, which has no ${method}; it has ${KIND_METHODS[this.kind]}`);
      }
      return h;
    }
    _clf(method) { return this._as('classifier', method); }
    _vae(method) { return this._as('inpainter', method); }

    // ---------------------------------------------------------------- both
    /** Device parameters (prime.h prime_device), camelCase. */
    getDevice() {
      const h = this._ctx();
      return readDevice((p) => (this.kind === 'classifier' ? X.pw_get_device(h, p) : X.pw_vae_get_device(h, p)));
    }
    /**
     * Merges partial device parameters: the camelCase fields of getDevice() and
     * every option key of P.deviceOptions() (docs/device.md), e.g.
     *   m.setDevice({ read_model: 'weight', read_noise: 0.1, t_read: '1d', r_row: 1, preset: 'paper' })
     * applied in order, all or nothing (PrimeError naming the key; nothing changes).
     * Re-forms the chip only if a forming field changed; effects re-program it.
     */
    setDevice(partial) {
      const keys = Object.keys(params(partial, 'setDevice'));
      const clf = this.kind === 'classifier';
      if (!keys.every((k) => DEVICE_KEYS.includes(k))) {
        DV.setOptions(this._ctx(), partial, 'setDevice', !clf);
        return this;
      }
      const d = { ...this.getDevice() };
      for (const k of keys) d[k] = num(partial[k], `device parameter ${k}`);
      withBufs([8 * A.dev_fields], (p) => {
        heap.f64().set(DEVICE_KEYS.map((k) => d[k]), p >> 3);
        const h = this._ctx();
        if ((clf ? X.pw_set_device(h, p) : X.pw_vae_set_device(h, p)) !== 0) fail('setDevice');
      });
      return this;
    }
    /** Every device option's current value as text, { key: value } (keys of P.deviceOptions()). */
    getDeviceOptions() { return DV.getOptions(this._ctx(), this.kind === 'inpainter'); }
    /** The run: classifier {policy 'none'|'confidence', alpha, threshold, minSteps, noiseSeed};
     * inpainter {policy 'none'|'convergence', mDiv, mTh, mWindow, minSteps, noiseSeed, latentSeed}. */
    getRun() {
      const h = this._ctx();
      if (this.kind === 'classifier') return readRun((p) => X.pw_get_run(h, p));
      return withBufs([8 * A.vae_run_fields], (p) => {
        X.pw_vae_get_run(h, p);
        const v = getF64(p, VAE_RUN_KEYS.length), r = Object.fromEntries(VAE_RUN_KEYS.map((k, i) => [k, v[i]]));
        r.policy = VAE_POLICIES[r.policy];
        return r;
      });
    }
    /** Merges a partial run (the keys of getRun; the policy by name or number). */
    setRun(partial) {
      const clf = this.kind === 'classifier', keys = clf ? RUN_KEYS : VAE_RUN_KEYS;
      const r = { ...this.getRun() };
      for (const k of Object.keys(params(partial, 'setRun'))) {
        if (!keys.includes(k)) throw new PrimeError(`unknown run parameter "${k}" (${keys.join(', ')})`);
        r[k] = k === 'policy' && typeof partial[k] === 'string' ? partial[k] : num(partial[k], `run parameter ${k}`);
      }
      r.policy = policyNumber(clf ? POLICIES : VAE_POLICIES, r.policy, clf ? 'none, confidence' : 'none, convergence');
      withBufs([8 * (clf ? A.run_fields : A.vae_run_fields)], (p) => {
        heap.f64().set(keys.map((k) => r[k]), p >> 3);
        const h = this._ctx();
        if ((clf ? X.pw_set_run(h, p) : X.pw_vae_set_run(h, p)) !== 0) fail('setRun');
      });
      return this;
    }
    /** Replaces a crossbar layer's formed on-state by a conductance map (uS, [row][col]); kept by save(). */
    setConductances(layer, gpos, gneg) {
      const n = this.kind === 'classifier' ? this._nWeights(layer) : this._vaeCells(layer);
      const gp = toF32(gpos, 'gpos'), gn = toF32(gneg, 'gneg');
      if (gp.length !== n || gn.length !== n) throw new PrimeError(`layer ${layer} needs ${n} conductances per side`);
      withBufs([4 * n, 4 * n], (pp, pn) => {
        putF32(pp, gp); putF32(pn, gn);
        const h = this._ctx();
        const rc = this.kind === 'classifier' ? X.prime_set_conductances(h, layer, pp, pn, n)
          : X.prime_vae_set_conductances(h, layer, pp, pn, n);
        if (rc !== 0) fail('setConductances');
      });
      return this;
    }
    /** The model file (version 2, docs/model-format.md): everything load() needs to give the same outputs. */
    save() {
      const h = this._ctx();
      return bytesOf('save', (pn) => (this.kind === 'classifier' ? X.pw_save(h, pn) : X.pw_vae_save(h, pn)));
    }
    /** The network as ONNX bytes (zero noise, ideal ADC/DAC; docs/performance.md): the classifier
     * unrolled over T steps (default its T); the inpainter over its own T (inputs image, hole, uniforms). */
    exportOnnx(T = this.arch.T) {
      if (!Number.isInteger(T) || T < 1 || T > A.max_t) throw new PrimeError(`T = ${T} out of 1..${A.max_t}`);
      const h = this._ctx();
      if (this.kind === 'inpainter') {
        if (T !== this.T) throw new PrimeError(`exportOnnx: an inpainting model unrolls its own T = ${this.T}, not ${T}`);
        return bytesOf('exportOnnx', (pn) => X.pw_vae_onnx_export(h, pn));
      }
      return bytesOf('exportOnnx', (pn) => X.pw_onnx_export(h, T, pn));
    }
    free() {
      if (!this._c) return;
      if (this.kind === 'classifier') X.prime_free(this._c); else X.prime_vae_free(this._c);
      this._c = 0;
    }

    // ---------------------------------------------------------------- classifier
    _clfArch() {
      return withBufs([8 * A.arch_doubles], (p) => {
        const n = X.pw_arch(this._c, p);
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
    _frames(frames, T) {
      const f = toF32(frames, 'frames');
      const per = this.arch.inC * this.arch.inH * this.arch.inW;
      if (!Number.isInteger(T) || T < 1 || T > A.max_t) throw new PrimeError(`T = ${T} out of 1..${A.max_t}`);
      if (f.length !== T * per) throw new PrimeError(`frames hold ${f.length} values, expected T*${this.arch.inC}*${this.arch.inH}*${this.arch.inW} = ${T * per}`);
      return f;
    }
    /** Classifies one input [T][C][H][W]; returns the result object (copied out). */
    classify(frames, T = this.arch.T) {
      const h = this._clf('classify()'), f = this._frames(frames, T);
      return withBufs([4 * f.length, 8 * A.res_doubles], (pin, pres) => {
        putF32(pin, f);
        if (X.pw_classify(h, pin, T, pres) !== 0) fail('classify');
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
      const h = this._clf('classifyBatch()');
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
          if (X.pw_classify_batch(h, pin, part.length, T, pres) !== 0) fail('classifyBatch');
          const v = getF64(pres, A.res_doubles * part.length);
          for (let k = 0; k < part.length; k++) out.push(decodeResult(v.subarray(k * A.res_doubles, (k + 1) * A.res_doubles)));
        });
        if (onProgress) onProgress(out.length, fs.length);
      }
      return out;
    }
    /** The inference number the next input gets (0 after setRun; keys the read-noise stream). */
    getInference() { return X.pw_get_inference(this._clf('getInference()')); }
    /** Sets it, so another model object (a worker) continues this one's stream exactly. */
    setInference(next) {
      const h = this._clf('setInference()');
      num(next, 'setInference', true, 0, 2 ** 53 - 1);
      if (X.pw_set_inference(h, next) !== 0) fail('setInference');
      return this;
    }
    /** Starts step mode; then step() advances one timestep. Classifier: begin(frames [T][C][H][W], T);
     * inpainter: begin(img, { hole }) with the model's device and run (setDevice / setRun). */
    begin(input, T = this.arch.T) {
      const h = this._ctx();
      if (this.kind === 'inpainter') return this._vaeBegin(h, input, T === this.arch.T ? {} : T);
      const f = this._frames(input, T);
      withBufs([4 * f.length], (pin) => {
        putF32(pin, f);
        if (X.prime_begin(h, pin, T) !== 0) fail('begin');
      });
      return this;
    }
    /** Runs one timestep: true if it ran, false when finished (T reached or early stop). */
    step() {
      const h = this._ctx();
      const r = this.kind === 'classifier' ? X.prime_step(h) : X.prime_vae_step(h);
      if (r < 0) fail('step');
      return r === 1;
    }
    /** The result after the steps run so far (classifier: as classify; inpainter: as inpaint). */
    result() {
      const h = this._ctx();
      if (this.kind === 'inpainter') return withBufs([8 * A.vae_res_doubles], (p) => this._vaeResult(h, p, X.pw_vae_result(h, p)));
      return withBufs([8 * A.res_doubles], (p) => {
        if (X.pw_result(h, p) !== 0) fail('result');
        return decodeResult(getF64(p, A.res_doubles));
      });
    }
    /** A copy of a layer's state ('membrane' | 'spikes' | 'current'), CHW order. */
    layerState(layer, what = 'spikes') {
      const h = this._clf('layerState()');
      if (!(what in STATES)) throw new PrimeError(`unknown state "${what}" (membrane, spikes, current)`);
      const L = this.arch.layers[layer];
      if (!L) throw new PrimeError(`layer ${layer} out of range`);
      const p = X.prime_layer_state(h, layer, STATES[what], 0);
      if (!p) fail('layerState');
      return heap.f32().slice(p >> 2, (p >> 2) + L.outC * L.outH * L.outW);
    }
    /** Per layer: null for pools, else {rows, cols, rowTiles, colTiles, arrays, fill, firstArray}. */
    tiling() {
      const h = this._clf('tiling()');
      return this.arch.layers.map((L, l) => {
        if (L.op === 'avgpool') return null;
        return withBufs([8 * A.tiling_fields], (p) => {
          if (X.pw_tiling(h, l, p) !== 0) fail('tiling');
          const v = getF64(p, A.tiling_fields);
          return { rows: v[0], cols: v[1], rowTiles: v[2], colTiles: v[3], arrays: v[4], fill: v[5], firstArray: v[6] };
        });
      });
    }
    totalArrays() { return X.prime_total_arrays(this._clf('totalArrays()')); }
    /** Conductances (uS) of crossbar array i: Float32Array(512*512), columns in (G+, G-) pairs. */
    array(i) {
      const h = this._clf('array()');
      num(i, 'array: index', true, 0, 2 ** 31 - 1);
      const n = A.array_size * A.array_size;
      return withBufs([4 * n], (p) => {
        if (X.prime_get_array(h, i, p, n) !== 0) fail('array');
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
      const h = this._clf('getMask()'), n = this._nWeights(layer);
      return withBufs([n], (p) => {
        if (X.prime_get_mask(h, layer, p, n) !== 0) fail('getMask');
        return heap.u8().slice(p, p + n);
      });
    }
    /** Sets a crossbar layer's mask (1 keep / 0 pruned, [row][col]); also on a macro inpainter. */
    setMask(layer, mask) {
      const h = this._ctx(), clf = this.kind === 'classifier';
      const n = clf ? this._nWeights(layer) : this._vaeCells(layer);
      const m = toU8(mask, 'mask');
      if (m.length !== n) throw new PrimeError(`mask of layer ${layer} needs ${n} values, got ${m.length}`);
      withBufs([n], (p) => {
        putBytes(p, m);
        if ((clf ? X.prime_set_mask(h, layer, p, n) : X.prime_vae_set_mask(h, layer, p, n)) !== 0) fail('setMask');
      });
      return this;
    }
    /** Weights as programmed ((G+ - G-) * scale), or the formed on-state if kept. */
    getWeights(layer, kept = false) {
      const h = this._clf('getWeights() (an inpainter has getParams())'), n = this._nWeights(layer);
      return withBufs([4 * n], (p) => {
        if (X.prime_get_weights(h, layer, kept ? 1 : 0, p, n) !== 0) fail('getWeights');
        return heap.f32().slice(p >> 2, (p >> 2) + n);
      });
    }
    /** Imports masks / weights from a NumPy .npz (see docs/model-format.md); returns arrays used. */
    importNpz(bytes) {
      const h = this._clf('importNpz()'), b = toU8(bytes, 'npz');
      return withBufs([b.length || 1], (p) => {
        putBytes(p, b);
        const r = X.prime_import_npz(h, p, b.length);
        if (r < 0) fail('importNpz');
        return r;
      });
    }
    /** The arrays of the IR-drop model of layer `layer`: { rowTiles, colTiles, arrays, tile } (tile = ir_tile). */
    irdropArrays(layer) { return DV.irdropArrays(this._clf('irdropArrays()'), layer); }
    /**
     * The IR-drop voltage map of array `array` of layer `layer` (exact nodal
     * solve, src/irdrop.c; needs r_row and r_col > 0): every used row driven at
     * vRead volts (or input[r]). Returns { rows, cols, iterations, vRow, vCol
     * (Float64Array rows*cols, V: row and column wire nodes), iCol, iIdeal
     * (Float64Array cols, uA: column currents with and without wires) }.
     */
    irdropMap(layer, array = 0, input = null) { return DV.irdropMap(this._clf('irdropMap()'), layer, array, input); }

    // ---------------------------------------------------------------- inpainter
    _vaeInit() {
      const v = getF64Arch(this._c);
      const [size, T, software, ch, latent, k, th, keep, outKeep, scale, sparsity] = v;
      this.size = size, this.T = T, this.software = !!software;
      this.layers = [];
      for (let i = 0; i < A.vae_layers; i++) {
        const g = withBufs([8 * A.vae_layer_fields], (p) => {
          if (X.pw_vae_layer(this._c, i, p) !== 0) fail('inpainter layer');
          return getF64(p, A.vae_layer_fields);
        });
        this.layers.push({ op: VAE_OPS[g[0]], inC: g[1], inH: g[2], outC: g[3], outH: g[4], k: g[5], rows: g[6],
          cols: g[7], crossbar: !!g[8], bn: !!g[9] });
      }
      this.arch = { T, size, software: !!software, ch, latent, k, th, keep, outKeep, scale, sparsity, layers: this.layers };
    }
    _vaeCells(i) {
      const L = this.layers[i];
      if (!L || !L.crossbar) throw new PrimeError(`inpainter layer ${i} is not a crossbar layer`);
      return L.rows * L.cols;
    }
    /** The options array of pw_vae_* (wasm_api.c vae_options): opts over the model's device and run. */
    _opts(opts) {
      params(opts, 'inpainter options');
      for (const k of OPT_NUMS) if (opts[k] !== undefined) num(opts[k], `inpainter option ${k}`);
      if (opts.earlyStop !== undefined && typeof opts.earlyStop !== 'boolean')
        throw new PrimeError(`inpainter option earlyStop must be true or false, got ${typeof opts.earlyStop}`);
      const d = this.getDevice(), r = this.getRun();
      const stop = opts.earlyStop === undefined ? (r.policy === 'convergence' ? 1 : 0) : opts.earlyStop ? 1 : 0;
      return [opts.readNoise ?? d.readNoise, opts.adcBits ?? d.adcBits, stop, opts.mDiv ?? r.mDiv, opts.mTh ?? r.mTh,
        opts.mWindow ?? r.mWindow, opts.noiseSeed ?? r.noiseSeed, opts.latentSeed ?? r.latentSeed, opts.dacBits ?? d.dacBits];
    }
    /** The result at pr (vae_res_to's doubles, rc of the call that wrote it) and every step's image, copied out. */
    _vaeResult(h, pr, rc, what = 'result') {
      if (rc !== 0) fail(what);
      const n = this.size * this.size, r = getF64(pr, A.vae_res_doubles), s = r[0];
      const steps = [];
      for (let t = 0; t < s; t++) {
        const q = X.prime_vae_recon(h, t);
        steps.push(heap.f32().slice(q >> 2, (q >> 2) + n));
      }
      return {
        stepsUsed: s, T: r[1], energyPj: r[2], baselinePj: r[3], energyRatio: r[4],
        counters: { cellReads: r[5], adcConversions: r[6] }, spikes: r[7],
        m: Float64Array.from(r.subarray(A.vae_res_m, A.vae_res_m + s)), steps, recon: steps[s - 1],
      };
    }
    /* Runs fn(optsPtr, resultPtr) (a pw_vae_* call) with the options, then copies the result out. */
    _run(h, opts, what, fn) {
      const o = this._opts(opts);
      return withBufs([8 * A.vae_opt_fields, 8 * A.vae_res_doubles], (po, pr) => {
        heap.f64().set(o, po >> 3);
        return this._vaeResult(h, pr, fn(po, pr), what);
      });
    }
    /** An image and its hole (size*size each), checked. */
    _image(img, opts) {
      const n = this.size * this.size, f = toF32(img, 'image');
      if (f.length !== n) throw new PrimeError(`image holds ${f.length} values, expected ${this.size}x${this.size}`);
      const hole = opts.hole ? toU8(opts.hole, 'hole') : null;
      if (hole && hole.length !== n) throw new PrimeError(`hole holds ${hole.length} values, expected ${n}`);
      return [f, hole];
    }
    _vaeBegin(h, img, opts) {
      opts = params(opts, 'begin');
      for (const k of Object.keys(opts))
        if (k !== 'hole') throw new PrimeError(`begin: option "${k}": step mode runs with the model's device and run (setDevice / setRun)`);
      const [f, hole] = this._image(img, opts), n = f.length;
      withBufs([4 * n, n], (pi, ph) => {
        putF32(pi, f);
        if (hole) putBytes(ph, hole);
        if (X.prime_vae_begin(h, pi, hole ? ph : 0) !== 0) fail('begin');
      });
      return this;
    }
    /** Inpaints img (size*size in [-1, 1]); opts (this call only, over the model's device and run):
     * readNoise, adcBits, dacBits, earlyStop, mDiv, mTh, mWindow, noiseSeed, latentSeed;
     * opts.hole: size*size 0/1 (1 = unknown), default the centre 8x8. */
    inpaint(img, opts = {}) {
      const h = this._vae('inpaint()');
      opts = params(opts, 'inpaint');
      const [f, hole] = this._image(img, opts), n = f.length;
      return withBufs([4 * n, n], (pi, ph) => {
        putF32(pi, f);
        if (hole) putBytes(ph, hole);
        return this._run(h, opts, 'inpaint', (po, pr) => X.pw_vae_inpaint(h, pi, hole ? ph : 0, po, pr));
      });
    }
    /** Generates an image from the prior (z_t ~ p(z_t | z_(t-1)), decoder on the macro); opts.seed
     * (integer, default 1) picks the sample; other options and the result as inpaint. */
    generate(opts = {}) {
      const h = this._vae('generate()');
      opts = params(opts, 'generate');
      const seed = opts.seed ?? 1;
      if (typeof seed !== 'number') throw new PrimeError('generate: seed must be a number');
      return { seed, ...this._run(h, opts, 'generate', (po, pr) => X.pw_vae_generate(h, seed, po, pr)) };
    }
    /** Layer i's effective parameters: { w } (crossbar: programmed (G+ - G-)*scale, [rows][cols]), { a, b } folded BN, { bias }. */
    getParams(i) {
      const h = this._vae('getParams() (a classifier has getWeights())');
      const L = this.layers[i];
      if (!L) throw new PrimeError(`inpainter layer ${i} out of range`);
      const param = (what, len) => withBufs([4 * len], (p) => {
        if (X.pw_vae_param(h, i, what, p, len) !== 0) fail('getParams');
        return heap.f32().slice(p >> 2, (p >> 2) + len);
      });
      const out = { w: param(A.vae_param_weights, L.rows * L.cols) };
      if (L.bn) out.a = param(A.vae_param_bn_a, L.outC), out.b = param(A.vae_param_bn_b, L.outC);
      if (!L.crossbar) out.bias = param(A.vae_param_bias, L.cols);
      return out;
    }
    /** The uniforms [T][latent] (Float64Array) an inpaint with these options compares with q (z = u < q). */
    latentUniforms(opts = {}) {
      const h = this._vae('latentUniforms()');
      const m = this.T * this.layers[A.vae_latent_layer].inC, o = this._opts(opts);
      return withBufs([8 * A.vae_opt_fields, 8 * m], (po, pu) => {
        heap.f64().set(o, po >> 3);
        if (X.pw_vae_uniforms(h, po, pu) !== 0) fail('latentUniforms');
        return getF64(pu, m);
      });
    }
  }
  const getF64Arch = (h) => withBufs([8 * A.vae_arch_fields], (p) => { X.pw_vae_arch(h, p); return getF64(p, A.vae_arch_fields); });

  const GraphModel = defineGraph(env, Model);
  const NET = { classifier: 'a classifier', inpainter: 'an inpainting model', graph: 'a layer-graph model' };

  /** A Model from model file bytes of any network and version (kind from prime_model_kind). */
  Model.load = (bytes, want = null) => {
    const b = toU8(bytes, 'model');
    const r = withBufs([b.length || 1], (p) => {
      putBytes(p, b);
      const kind = X.prime_model_kind(p, b.length);
      if (kind < 0) return { kind };
      const name = kind === A.model_vae ? 'inpainter' : kind === A.model_graph ? 'graph' : 'classifier';
      if (want && name !== want) throw new PrimeError(`this is ${NET[name]}, not ${NET[want]}: load it with P.load(bytes)`);
      const load = name === 'inpainter' ? X.prime_vae_load : name === 'graph' ? X.prime_graph_load : X.prime_load;
      return { kind, name, h: load(p, b.length) };
    });
    if (r.kind < 0 || !r.h) fail('load');
    return r.name === 'graph' ? new GraphModel(r.h) : new Model(r.h, r.name);
  };
  /** A Model from a checkpoint: a layer graph when the graph importer knows its layout (the PRIME
   * authors' FSVAE, the Fashion CNN), else the classifier importer (prime_import_model). */
  Model.importCheckpoint = (bytes) => {
    const b = toU8(bytes, 'checkpoint');
    const r = withBufs([b.length || 1], (p) => {
      putBytes(p, b);
      if (X.prime_graph_import_knows(p, b.length)) return { graph: true, h: X.pw_graph_import(p, b.length, 0) };
      return { graph: false, h: X.prime_import_model(p, b.length, 0) };
    });
    if (!r.h) fail('importModel');
    return r.graph ? new GraphModel(r.h) : new Model(r.h, 'classifier');
  };
  Model.Graph = GraphModel;
  return Model;
}
