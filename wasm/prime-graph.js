// prime-graph.js - layer-graph models (kind 'graph') of the one model object
// of wasm/prime.js: any network of the engine's layer kinds (prime_graph.h,
// docs/graph.md), such as the PRIME authors' FSVAE imported from their
// state_dict or the companion paper's Fashion CNN. P.load(bytes) gives one for
// a graph model file, P.importModel(bytes) for a checkpoint in a layout the
// graph importer knows (.pt or .npz).
//
//   every graph:     kind 'graph', graph (nodes, readout, shapes), arch, getDevice/setDevice
//                    (the camelCase device fields), getRun/setRun, run, getChoices/setChoices,
//                    nodeOutput, nodeSpikes, getParam/setParam, getMask/setMask, setConductances,
//                    save, free
//   logits / mean:   classify (label, logits, probs, confidence per step)
//   image readout:   size, T, inpaint (an image with a hole, as the inpainter), generate (a latent
//                    node: from the prior)
//
// Internal to prime.js: defineGraph(env, Model) is called by defineModel and
// returns the GraphModel class (a Model whose methods are those above; the
// others throw a PrimeError naming what it has).

const OPS = ['input', 'conv', 'tconv', 'fc', 'avgpool', 'maxpool', 'flatten', 'concat', 'affine', 'reshape', 'latent'];
const NEURONS = ['none', 'lif', 'output', 'fsvae', 'reluq'];
const READOUTS = ['logits', 'mean', 'tanh'];
const POLICIES = ['none', 'confidence', 'convergence'];
const RUN_KEYS = ['policy', 'alpha', 'threshold', 'mDiv', 'mTh', 'mWindow', 'minSteps', 'ideal', 'generate', 'noiseSeed', 'latentSeed'];
const NODE_KEYS = ['op', 'in0', 'in1', 'c', 'h', 'w', 'k', 'stride', 'pad', 'outPad', 'bias', 'crossbar', 'scale', 'sparsity',
  'neuron', 'th', 'decay', 'leak', 'tau', 'qbits', 'qmax', 'sub0', 'sub1', 'mode', 'key', 'nkey', 'outC', 'outH', 'outW'];
const COUNTER_KEYS = ['cellReads', 'adcConversions', 'dacDrives', 'vmmReads', 'neuronUpdates', 'macsDense', 'timesteps',
  'adcClipped', 'dacClipped'];
const HEAD = 9; // n_graphs, T, out_node, readout, out_decay, anchored, in_dac, macs_conn, n_out (then node counts)
const RES_HEAD = 9;
// per-call options of inpaint / generate / run (as the inpainter's): device fields, run fields
const CALL_DEVICE = ['readNoise', 'adcBits', 'dacBits'];
const CALL_RUN = ['mDiv', 'mTh', 'mWindow', 'noiseSeed', 'latentSeed', 'minSteps'];

/** What prime-graph.js decodes by position, for prime.js's ABI check (src/wasm_abi.h). */
export const GRAPH_ABI_EXPECTED = {
  g_max_graphs: 3, g_head: HEAD + 3, g_node_fields: NODE_KEYS.length, g_run_fields: RUN_KEYS.length,
  g_res_head: RES_HEAD, g_res_counters: RES_HEAD, g_counters: COUNTER_KEYS.length,
};
export const GRAPH_ABI_USED = ['model_graph', 'g_max_nodes', 'g_res_confidence', 'g_res_m', 'g_res_doubles'];

export function defineGraph(env, Model) {
  const { X, A, heap, withBufs, fail, putBytes, putF32, getF64, toF32, toU8, num, params, PrimeError, DEVICE_KEYS, readDevice } = env;
  const cString = (s) => new TextEncoder().encode(s + '\0');

  /** The description of model h (pw_graph_info) as plain objects. */
  function describe(h) {
    const most = A.g_head + A.g_node_fields * A.g_max_graphs * A.g_max_nodes;
    const v = withBufs([8 * most], (p) => {
      const n = X.pw_graph_info(h, p);
      if (n < 0) fail('graph info');
      return getF64(p, n);
    });
    const graphs = [];
    let k = A.g_head;
    for (let g = 0; g < v[0]; g++) {
      const nodes = [];
      for (let i = 0; i < v[HEAD + g]; i++, k += A.g_node_fields) {
        const q = Object.fromEntries(NODE_KEYS.map((key, j) => [key, v[k + j]]));
        nodes.push({ ...q, g, i, op: OPS[q.op], neuron: NEURONS[q.neuron], bias: !!q.bias, crossbar: !!q.crossbar });
      }
      graphs.push(nodes);
    }
    const nodes0 = graphs[0], out = nodes0[v[2]], inp = nodes0[0];
    const lat = nodes0.find((n) => n.op === 'latent') || null;
    const d = {
      T: v[1], outNode: v[2], readout: READOUTS[v[3]], outDecay: v[4], anchored: !!v[5], inDac: !!v[6], macsConn: !!v[7],
      nOut: v[8], input: { c: inp.outC, h: inp.outH, w: inp.outW }, output: { c: out.outC, h: out.outH, w: out.outW },
      latent: lat ? { node: lat.i, c: lat.c, k: lat.k, mode: lat.mode, choices: lat.mode === 0 } : null, graphs,
    };
    // an image network: tanh readout of the input's shape (an inpainter); else logits / mean: a classifier
    d.image = d.readout === 'tanh' && out.outH > 1 && out.outC === inp.outC && out.outH === inp.outH && out.outW === inp.outW;
    d.generates = !!lat && v[2] > lat.i;
    return d;
  }

  class GraphModel extends Model {
    constructor(h) { super(h, 'graph'); }
    _graphInit() {
      const d = describe(this._c);
      this.graph = d;
      this.T = d.T;
      this.size = d.image && d.input.c === 1 && d.input.h === d.input.w ? d.input.h : null;
      this.arch = { T: d.T, inC: d.input.c, inH: d.input.h, inW: d.input.w, nOut: d.nOut, readout: d.readout,
        nodes: d.graphs.reduce((a, g) => a + g.length, 0) };
    }
    /** The methods this graph has (the error of a method it lacks names them). */
    _methods() {
      const d = this.graph, own = [];
      if (d.readout !== 'tanh') own.push('classify()');
      if (d.image) own.push('inpaint()');
      if (d.generates) own.push('generate()');
      if (d.latent && d.latent.choices) own.push('getChoices()/setChoices()');
      return own.concat(['run()', 'nodeOutput()', 'nodeSpikes()', 'getParam()/setParam()', 'getMask()/setMask()', 'save()']).join(', ');
    }
    _as(kind, method) {
      this._ctx();
      throw new PrimeError(`${method}: this model is a layer graph (${this.graph.readout} readout, ${this.arch.nodes} nodes), which has no ${method}; it has ${this._methods()}`);
    }
    _need(ok, method) { if (!ok) this._as('', method); return this._ctx(); }

    // ---------------------------------------------------------------- device, run, file
    getDevice() { const h = this._ctx(); return readDevice((p) => { if (X.pw_graph_get_device(h, p) !== 0) fail('getDevice'); }); }
    /** Merges partial device parameters (the camelCase fields of getDevice()); re-forms only if a forming field changed. */
    setDevice(partial) {
      const keys = Object.keys(params(partial, 'setDevice'));
      for (const k of keys)
        if (!DEVICE_KEYS.includes(k)) throw new PrimeError(`setDevice: "${k}" is not a device field of a layer-graph model (it takes ${DEVICE_KEYS.join(', ')}; the device-effect keys are for the classifier and the inpainter)`);
      const d = { ...this.getDevice() };
      for (const k of keys) d[k] = num(partial[k], `device parameter ${k}`);
      withBufs([8 * A.dev_fields], (p) => {
        heap.f64().set(DEVICE_KEYS.map((k) => d[k]), p >> 3);
        if (X.pw_graph_set_device(this._ctx(), p) !== 0) fail('setDevice');
      });
      return this;
    }
    getDeviceOptions() { return this._as('', 'getDeviceOptions() (device-effect keys)'); }
    /** {policy 'none'|'confidence'|'convergence', alpha, threshold, mDiv, mTh, mWindow, minSteps, ideal, generate, noiseSeed, latentSeed}. */
    getRun() {
      const h = this._ctx();
      return withBufs([8 * A.g_run_fields], (p) => {
        if (X.pw_graph_get_run(h, p) !== 0) fail('getRun');
        const v = getF64(p, RUN_KEYS.length), r = Object.fromEntries(RUN_KEYS.map((k, i) => [k, v[i]]));
        r.policy = POLICIES[r.policy]; r.ideal = !!r.ideal; r.generate = !!r.generate;
        return r;
      });
    }
    /** Merges a partial run (keys of getRun; policy by name or number, ideal / generate as booleans). */
    setRun(partial) {
      const r = { ...this.getRun() };
      for (const k of Object.keys(params(partial, 'setRun'))) {
        if (!RUN_KEYS.includes(k)) throw new PrimeError(`unknown run parameter "${k}" (${RUN_KEYS.join(', ')})`);
        const v = partial[k];
        if (k === 'policy' && typeof v === 'string') {
          if (!POLICIES.includes(v)) throw new PrimeError(`unknown policy "${v}" (${POLICIES.join(', ')})`);
          r.policy = v;
        } else if ((k === 'ideal' || k === 'generate') && typeof v === 'boolean') r[k] = v;
        else r[k] = num(v, `run parameter ${k}`);
      }
      const vals = RUN_KEYS.map((k) => (k === 'policy' && typeof r.policy === 'string' ? POLICIES.indexOf(r.policy) : typeof r[k] === 'boolean' ? +r[k] : r[k]));
      withBufs([8 * A.g_run_fields], (p) => {
        heap.f64().set(vals, p >> 3);
        if (X.pw_graph_set_run(this._ctx(), p) !== 0) fail('setRun');
      });
      return this;
    }
    /** The graph model file (docs/graph.md, "File"): P.load of it gives the same outputs. */
    save() {
      const h = this._ctx();
      return withBufs([4], (pn) => {
        const p = X.pw_graph_save(h, pn);
        if (!p) fail('save');
        try { return heap.u8().slice(p, p + heap.u32()[pn >> 2]); } finally { X.pw_free(p); }
      });
    }
    exportOnnx() { return this._as('', 'exportOnnx() (ONNX export is for the PRIME classifier and inpainter)'); }
    free() { if (this._c) { X.prime_graph_free(this._c); this._c = 0; } }
    begin() { return this._as('', 'begin() (step mode; run() returns the readout after every step)'); }
    step() { return this._as('', 'step()'); }
    result() { return this._as('', 'result()'); }

    // ---------------------------------------------------------------- running
    /** Runs fn with the call options applied to the device and run, then puts them back. */
    _call(opts, fn) {
      const dev = {}, run = {};
      for (const k of CALL_DEVICE) if (opts[k] !== undefined) dev[k] = num(opts[k], `option ${k}`);
      for (const k of CALL_RUN) if (opts[k] !== undefined) run[k] = num(opts[k], `option ${k}`);
      if (opts.earlyStop !== undefined) {
        if (typeof opts.earlyStop !== 'boolean') throw new PrimeError(`option earlyStop must be true or false, got ${typeof opts.earlyStop}`);
        run.policy = opts.earlyStop ? (this.graph.readout === 'tanh' ? 'convergence' : 'confidence') : 'none';
      }
      if (opts.ideal !== undefined) run.ideal = !!opts.ideal;
      const d0 = Object.keys(dev).length ? this.getDevice() : null, r0 = Object.keys(run).length ? this.getRun() : null;
      const choices = opts.choices !== undefined && opts.choices !== null;
      try {
        if (d0) this.setDevice(dev);
        if (r0) this.setRun(run);
        if (choices) this.setChoices(opts.choices);
        return fn();
      } finally {
        if (choices) X.prime_graph_set_choices(this._c, this.graph.latent.node, 0, 0);
        if (d0) this.setDevice(Object.fromEntries(CALL_DEVICE.map((k) => [k, d0[k]])));
        if (r0) this.setRun(r0);
      }
    }
    /** The result at pr (rc of the call that wrote it), every step's readout and the latent picks, copied out. */
    _result(pr, rc, what) {
      if (rc !== 0) fail(what);
      const h = this._c, v = getF64(pr, A.g_res_doubles), s = v[0], n = v[3];
      const steps = [];
      for (let t = 0; t < s; t++) {
        const q = X.prime_graph_readout(h, t, 0);
        if (!q) fail(what);
        steps.push(heap.f32().slice(q >> 2, (q >> 2) + n));
      }
      const r = {
        stepsUsed: s, T: v[1], label: v[2], nOut: n, energyPj: v[4], baselinePj: v[5], energyRatio: v[6], digitalMacs: v[7],
        spikes: v[8], counters: Object.fromEntries(COUNTER_KEYS.map((k, i) => [k, v[A.g_res_counters + i]])),
        confidence: Float32Array.from(v.subarray(A.g_res_confidence, A.g_res_confidence + s)),
        m: Float64Array.from(v.subarray(A.g_res_m, A.g_res_m + s)), steps, out: steps[s - 1],
      };
      if (this.graph.latent && this.graph.latent.choices) r.choices = this.getChoices();
      return r;
    }
    /**
     * Runs one input, Float32Array [C][H][W] (repeated every step) or [T][C][H][W], for T steps or to
     * the run's stop. opts (this call only): readNoise, adcBits, dacBits, earlyStop, ideal, mDiv, mTh,
     * mWindow, minSteps, noiseSeed, latentSeed, choices (Int32Array T*c: the latent picks).
     * Returns { stepsUsed, T, label, nOut, out, steps (the readout after every step), confidence, m,
     * counters, digitalMacs, spikes, energyPj, baselinePj, energyRatio, choices }.
     */
    run(input, opts = {}) {
      const h = this._ctx();
      opts = params(opts, 'run');
      const f = toF32(input, 'input'), I = this.graph.input, per = I.c * I.h * I.w;
      const frames = f.length === per ? 1 : f.length === this.T * per ? this.T : 0;
      if (!frames) throw new PrimeError(`input holds ${f.length} values, expected ${I.c}*${I.h}*${I.w} = ${per} (or T = ${this.T} times that)`);
      return this._call(opts, () => withBufs([4 * f.length, 8 * A.g_res_doubles], (pi, pr) => {
        putF32(pi, f);
        return this._result(pr, X.pw_graph_run(h, pi, frames, pr), 'run');
      }));
    }
    /** Classifies one input (run's input and options): adds logits (the readout), probs (softmax(logits / alpha)), nClasses. */
    classify(input, opts = {}) {
      this._need(this.graph.readout !== 'tanh', 'classify()');
      const r = this.run(input, opts), alpha = this.getRun().alpha;
      const mx = Math.max(...r.out), e = Array.from(r.out, (x) => Math.exp((x - mx) / alpha)), z = e.reduce((a, b) => a + b, 0);
      return { ...r, nClasses: r.nOut, logits: r.out, probs: Float32Array.from(e, (x) => x / z) };
    }
    /** Inpaints img (size*size in [-1, 1], or the input's C*H*W); opts.hole (0/1 per pixel, 1 = unknown;
     * default the centre 8x8) set to -1; other options as run. The result adds recon (the last step's image). */
    inpaint(img, opts = {}) {
      this._need(this.graph.image, 'inpaint()');
      opts = params(opts, 'inpaint');
      const I = this.graph.input, n = I.c * I.h * I.w, f = Float32Array.from(toF32(img, 'image'));
      if (f.length !== n) throw new PrimeError(`image holds ${f.length} values, expected ${I.c}x${I.h}x${I.w}`);
      const hole = opts.hole ? toU8(opts.hole, 'hole') : null;
      if (hole && hole.length !== n) throw new PrimeError(`hole holds ${hole.length} values, expected ${n}`);
      const c0y = (I.h >> 1) - 4, c0x = (I.w >> 1) - 4;
      for (let p = 0; p < n; p++) {
        if (!(f[p] >= -1.0001 && f[p] <= 1.0001)) throw new PrimeError(`inpaint: pixel ${p} = ${f[p]} is not in [-1, 1]`);
        const q = p % (I.h * I.w), y = Math.floor(q / I.w), x = q % I.w;
        if (hole ? hole[p] : y >= c0y && y < c0y + 8 && x >= c0x && x < c0x + 8) f[p] = -1;
      }
      const { hole: _, ...rest } = opts;
      const r = this.run(f, rest);
      return { ...r, recon: r.out };
    }
    /** Generates from the prior (a latent node before the readout): opts.seed (default 1) is the pass
     * index; other options as run. The result as inpaint's. */
    generate(opts = {}) {
      const h = this._need(this.graph.generates, 'generate()');
      opts = params(opts, 'generate');
      const { seed = 1, ...rest } = opts;
      num(seed, 'generate: seed', true, 0, 2 ** 53);
      const r = this._call(rest, () => withBufs([8 * A.g_res_doubles], (pr) => this._result(pr, X.pw_graph_generate(h, seed, pr), 'generate')));
      return { seed, ...r, recon: r.out };
    }

    // ---------------------------------------------------------------- latent, nodes, parameters
    _latent(method) {
      this._need(this.graph.latent && this.graph.latent.choices, method);
      return this.graph.latent;
    }
    /** The latent picks of the last run, Int32Array [T][c] (one of k per channel and step). */
    getChoices() {
      const L = this._latent('getChoices()'), n = this.T * L.c;
      return withBufs([4 * n], (p) => {
        if (X.prime_graph_get_choices(this._c, L.node, p, n) !== 0) fail('getChoices');
        return heap.i32().slice(p >> 2, (p >> 2) + n);
      });
    }
    /** Uses these picks ([T][c] in 0..k-1) in every run until setChoices(null). */
    setChoices(v) {
      const L = this._latent('setChoices()');
      if (v === null) { X.prime_graph_set_choices(this._c, L.node, 0, 0); return this; }
      if (!ArrayBuffer.isView(v) && !Array.isArray(v)) throw new PrimeError('setChoices: an Int32Array of T*c picks, or null');
      const a = Int32Array.from(v, (x) => num(x, 'latent choice', true, -(2 ** 31), 2 ** 31 - 1));
      withBufs([4 * Math.max(1, a.length)], (p) => {
        heap.i32().set(a, p >> 2);
        if (X.prime_graph_set_choices(this._c, L.node, p, a.length) !== 0) fail('setChoices');
      });
      return this;
    }
    _node(i, g) {
      num(g, 'graph', true, 0, this.graph.graphs.length - 1);
      const N = this.graph.graphs[g][num(i, 'node', true, 0, this.graph.graphs[g].length - 1)];
      return N;
    }
    /** Node (g, i)'s output after the last step, CHW (Float32Array). */
    nodeOutput(i, g = 0) {
      const N = this._node(i, g), n = N.outC * N.outH * N.outW;
      return withBufs([4 * n], (p) => {
        if (X.prime_graph_node_output(this._ctx(), g, i, p, n) !== 0) fail('nodeOutput');
        return heap.f32().slice(p >> 2, (p >> 2) + n);
      });
    }
    /** Spikes node (g, i) emitted in the last run; with no node, every node's: [{ g, i, op, neuron, spikes }]. */
    nodeSpikes(i, g = 0) {
      if (i === undefined) return this.graph.graphs.flat().map((N) => ({ g: N.g, i: N.i, op: N.op, neuron: N.neuron, spikes: this.nodeSpikes(N.i, N.g) }));
      this._node(i, g);
      return withBufs([4], (p) => {
        if (X.prime_graph_node_spikes(this._ctx(), g, i, p) !== 0) fail('nodeSpikes');
        return heap.f32()[p >> 2];
      });
    }
    /** A parameter of node (g, i): 'weight' ([rows][cols]; crossbar: as programmed), 'bias', 'mask',
     * 'gpos', 'gneg' (measured on-state, uS), 'affine_a', 'affine_b' (Float32Array). */
    getParam(i, what, g = 0) {
      this._node(i, g);
      const h = this._ctx(), w = cString(String(what));
      return withBufs([w.length], (pw) => {
        putBytes(pw, w);
        const n = X.prime_graph_param_size(h, g, i, pw);
        if (!n) fail('getParam');
        return withBufs([4 * n], (p) => {
          if (X.prime_graph_get_param(h, g, i, pw, p, n) !== 0) fail('getParam');
          return heap.f32().slice(p >> 2, (p >> 2) + n);
        });
      });
    }
    /** Sets a parameter (the names of getParam; 'weight' of digital nodes only); re-programs crossbar nodes. */
    setParam(i, what, values, g = 0) {
      this._node(i, g);
      const h = this._ctx(), w = cString(String(what)), v = toF32(values, what);
      withBufs([w.length, 4 * Math.max(1, v.length)], (pw, p) => {
        putBytes(pw, w); putF32(p, v);
        if (X.prime_graph_set_param(h, g, i, pw, p, v.length) !== 0) fail('setParam');
      });
      return this;
    }
    /** The mask of crossbar node (g, i): Uint8Array, 1 keep / 0 pruned, [row][col]. */
    getMask(i, g = 0) { return Uint8Array.from(this.getParam(i, 'mask', g)); }
    setMask(i, mask, g = 0) { return this.setParam(i, 'mask', Float32Array.from(toU8(mask, 'mask')), g); }
    /** A measured on-state conductance map of crossbar node (g, i) (uS, [row][col] per side); kept by save(). */
    setConductances(i, gpos, gneg, g = 0) {
      const gp = toF32(gpos, 'gpos'), gn = toF32(gneg, 'gneg'), n = this.getParam(i, 'gpos', g).length;
      for (const [v, side] of [[gp, 'gpos'], [gn, 'gneg']]) { // checked first: both sides or neither
        if (v.length !== n) throw new PrimeError(`setConductances: node ${i} needs ${n} conductances per side, ${side} has ${v.length}`);
        const bad = v.findIndex((x) => !(x >= 0 && x < 1e6));
        if (bad >= 0) throw new PrimeError(`setConductances: ${side} value ${bad} = ${v[bad]} is not a conductance in [0, 1e6) uS`);
      }
      this.setParam(i, 'gpos', gp, g);
      return this.setParam(i, 'gneg', gn, g);
    }
  }
  return GraphModel;
}
