// worker.js - the module worker that owns the PRIME core for the page.
//
// Protocol: the page posts {id, type, ...}; the worker answers with
// {id, type: 'reply', ...} or {id, type: 'error', message}, and, for long
// jobs, {id, type: 'progress', done, total} messages on the way. Requests run
// one at a time in arrival order, except {type: 'cancel'}, which stops the
// batch job in progress at its next sample. Every typed array sent back is a
// copy (views of wasm memory never leave this file).

import { loadPrime } from '../wasm/prime.js';
import { parsePsmp, flattenBackground, centerDigit, resizeUp } from './lib.js';
import { poolClassify } from './pool.js';

let P = null;             // the loaded API
let models = [];          // entries of models.json that loaded: {..., bytes}
let model = null;         // the current model handle
let twin = null;          // the same model in software: the chip as formed from the file, ideal reads (see softwareTwin)
let entry = null;         // its models.json entry
let samples = null;       // parsed sample file of the current model's dataset
const sampleCache = new Map(); // url -> parsed PSMP
const frameCache = new Map();  // `${url}|${i}|${T}` -> Float32Array frames
let cancelled = false;
let inpainter = null;     // the current inpainting model, loaded when its tab opens
let inpaintEntry = null;  // its models.json entry (+ sm: its parsed samples)
const inpainters = new Map(); // file -> {ip, entry}: every inpainting model loaded so far
let userInpaint = [];     // entries (as models.json's) of inpainting networks the person dropped: file = dataset = 'user:NAME'
let userGraph = null;     // {m, name, dataset}: a dropped layer graph whose readout is not an image (graphRun)

const base = new URL('../', import.meta.url); // the repository root

/* ------------------------------------------------------------ helpers */

const yieldToEvents = () => new Promise((r) => setTimeout(r, 0));

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/* The parsed sample file at `url` (relative to the repository root); fetched once. */
function getSamples(url) {
  if (!sampleCache.has(url)) {
    const p = fetchBytes(new URL(url, base)).then(parsePsmp);
    p.catch(() => sampleCache.delete(url));
    sampleCache.set(url, p);
  }
  return sampleCache.get(url);
}

/* Event frames of shipped sample i for T steps (cached). */
function sampleFrames(i, T) {
  const key = `${entry.samples}|${i}|${T}`;
  let f = frameCache.get(key);
  if (!f) {
    const { w, h, pixels, indices, eventSeed } = samples;
    const img = new Float32Array(w * h);
    for (let k = 0; k < w * h; k++) img[k] = pixels[i * w * h + k] / 255;
    f = P.framesFromImage(img, w, h, T, eventSeed + indices[i]);
    if (frameCache.size > 2000) frameCache.clear();
    frameCache.set(key, f);
  }
  return f;
}

/* Device option keys (P.deviceOptions(), wasm/prime.js) set on a model or
 * inpainter: `want` is {key: text} of the fields that differ from the object's
 * own values; keys dropped since the last call go back to those. All or
 * nothing: on a bad value the core throws and nothing changes. */
const optBase = new WeakMap(), optApplied = new WeakMap();
function baseOptions(obj) {
  if (!optBase.has(obj)) optBase.set(obj, typeof obj.getDeviceOptions === 'function' ? obj.getDeviceOptions() : {});
  return optBase.get(obj);
}
function applyOptions(obj, want) {
  if (!want || typeof obj.getDeviceOptions !== 'function' || obj.kind === 'graph') return; // a graph takes the device fields only
  const base = baseOptions(obj), prev = optApplied.get(obj) || {}, delta = {};
  for (const k of Object.keys(prev)) if (!(k in want)) delta[k] = base[k];
  for (const [k, v] of Object.entries(want)) if (prev[k] !== v) delta[k] = v;
  if (Object.keys(delta).length) obj.setDevice(delta);
  optApplied.set(obj, { ...want });
}
/* The option values of obj that differ from its own (after a preset). */
function changedOptions(obj) {
  const base = baseOptions(obj), now = obj.getDeviceOptions(), out = {};
  for (const [k, v] of Object.entries(now)) if (base[k] !== v) out[k] = v;
  return out;
}

/* Applies {device, options, run} partial settings to the current model. */
function applySettings(s) {
  if (!s) return;
  if (s.device) model.setDevice(s.device);
  if (s.options) applyOptions(model, s.options);
  if (s.run) model.setRun(s.run);
}

function modelInfo() {
  const tiling = model.tiling();
  return {
    entry: strip(entry),
    arch: model.arch,
    device: model.getDevice(),
    run: model.getRun(),
    tiling,
    totalArrays: model.totalArrays(),
    options: typeof model.getDeviceOptions === 'function' ? baseOptions(model) : null, // the file's own values
    irdrop: typeof model.irdropMap === 'function',
  };
}

function strip(e) { const { bytes, sm, ...rest } = e; return rest; }
function inpaintSamplesInfo() {
  const sm = inpaintEntry && inpaintEntry.sm;
  return sm ? { n: sm.n, w: sm.w, h: sm.h, labels: sm.labels } : null;
}

/* The fields of an inpaint or generate result the page draws (copies). */
function ipReply(r) {
  return {
    stepsUsed: r.stepsUsed, T: r.T, energyPj: r.energyPj, baselinePj: r.baselinePj, energyRatio: r.energyRatio,
    m: Float64Array.from(r.m), steps: r.steps.map((a) => Float32Array.from(a)),
  };
}

function copyResult(r) {
  return {
    label: r.label, T: r.T, stepsUsed: r.stepsUsed, nClasses: r.nClasses,
    logits: Float32Array.from(r.logits), probs: Float32Array.from(r.probs),
    confidence: Float32Array.from(r.confidence), stepLabel: Int32Array.from(r.stepLabel),
    spikes: Float64Array.from(r.spikes), counters: { ...r.counters },
    energyPj: r.energyPj, baselinePj: r.baselinePj, energyRatio: r.energyRatio,
  };
}

/* A .prime model file, or a checkpoint (.pt/.pth/.npz/.npy) imported by the core. */
const CHECKPOINT = /\.(pt|pth|npz|npy)$/i;
function loadAny(name, bytes) { return CHECKPOINT.test(name) ? P.importModel(bytes) : P.loadModel(bytes); }

/* The "software" network beside the memristor one: the same masks and the
 * chip's conductances as the model file forms them (chip seed of the page),
 * read exactly (no read noise, ideal ADC and DAC); the page's forming sliders
 * (programming noise, stuck cells, g_off) and read settings do not touch it. */
function softwareTwin(chipSeed) {
  if (!twin) {
    twin = loadAny(entry.file, entry.bytes);
    for (let l = 0; l < model.arch.layers.length; l++) { // the masks of the model (re-pruned ones too)
      const L = model.arch.layers[l];
      if (L.op === 'conv' || L.op === 'fc') twin.setMask(l, model.getMask(l));
    }
  }
  const d = twin.getDevice();
  if (d.chipSeed !== chipSeed || d.readNoise !== 0 || d.adcBits !== 0 || d.dacBits !== 0)
    twin.setDevice({ chipSeed, readNoise: 0, adcBits: 0, dacBits: 0 });
  return twin;
}
function dropTwin() { if (twin) { twin.free(); twin = null; } }

async function openModel(e) {
  const m = loadAny(e.file, e.bytes);
  if (model) model.free();
  dropTwin();
  model = m; entry = e;
  samples = null;
  if (e.samples) {
    try { samples = await getSamples(e.samples); } catch (err) { samples = null; e.samplesError = String(err.message || err); }
  }
  frameCache.clear();
  const info = modelInfo();
  if (samples) info.samples = { n: samples.n, w: samples.w, h: samples.h, labels: samples.labels, indices: samples.indices, pixels: samples.pixels, url: e.samples };
  return info;
}

/* ------------------------------------------------------------ requests */

const handlers = {
  /* Loads the API and every model of models.json; keeps those that load.
   * Fetches run side by side: the wasm, the list, the models and the sample
   * file of the model the page wants (`want`, else the first in the list). */
  async init({ manifest, want }) {
    const t0 = performance.now();
    const listP = fetch(new URL(manifest, self.location)).then((r) => r.json());
    listP.then((list) => {
      const e = list.find((x) => x.file.endsWith('/' + want + '.prime')) || list[0];
      if (e && e.samples) getSamples(e.samples).catch(() => {});
    }, () => {});
    // model bytes download while the wasm compiles
    const bytesP = listP.then((list) => list.map((e) => e.task === 'inpaint' ? null : fetchBytes(new URL(e.file, base)).catch(() => null)));
    const [api, list, downloads] = await Promise.all([loadPrime(), listP, bytesP]);
    P = api;
    const found = await Promise.all(list.map(async (e, i) => {
      if (e.task === 'inpaint') return null; // loaded when the inpainting tab opens
      try {
        const bytes = await downloads[i];
        if (!bytes) return null;
        P.loadModel(bytes).free(); // loads = parses and forms a chip
        return { ...e, id: e.file.replace(/^.*\//, '').replace(/\.prime$/, ''), bytes };
      } catch (err) {
        return null;
      }
    }));
    models = found.filter(Boolean);
    return {
      models: models.map(strip),
      defaultDevice: P.defaultDevice(),
      deviceOptions: typeof P.deviceOptions === 'function' ? P.deviceOptions() : null,
      defaultRun: P.defaultRun(),
      loadMs: performance.now() - t0,
    };
  },

  async open({ modelId }) {
    const e = models.find((m) => m.id === modelId) || models[0];
    if (!e) throw new Error('no model could be loaded');
    return openModel(e);
  },

  /* A model file or a .pt/.npz checkpoint the person dropped (P.load / P.importModel: any network;
   * a bad file throws the core's message and changes nothing). A classifier becomes the current
   * model; an inpainting VAE or an image layer graph is added to the inpainting models ({view:
   * 'inpaint', dataset}); another layer graph is kept for graphRun ({view: 'graph', ...}). */
  async openBytes({ name, bytes }) {
    const e = { file: name, id: name.replace(/\.(prime|pvae|pt|pth|npz|npy)$/i, ''), name: name + ' (your file)', dataset: entry ? entry.dataset : 'mnist', samples: entry ? entry.samples : null, bytes };
    const m = CHECKPOINT.test(name) ? P.importModel(bytes) : P.load(bytes);
    if (m.kind === 'classifier') {
      m.free();
      models = models.filter((x) => x.id !== e.id).concat([e]);
      return { ...(await openModel(e)), models: models.map(strip) };
    }
    const what = m.kind === 'graph' ? `a layer graph of ${m.arch.nodes} nodes, ${m.graph.readout} readout` : 'an inpainting VAE';
    try {
      const url = e.samples || 'web/samples/mnist-test.psmp', sm = await getSamples(url);
      if (m.kind === 'inpainter' || m.size) {
        const dataset = 'user:' + name, ue = { file: dataset, name: e.name, dataset, samples: url, task: 'inpaint', what };
        const old = inpainters.get(dataset);
        if (old) { if (old.ip === inpainter) inpainter = null; old.ip.free(); }
        inpainters.set(dataset, { ip: m, entry: { ...ue, sm } });
        userInpaint = userInpaint.filter((x) => x.file !== dataset).concat([ue]);
        return { view: 'inpaint', dataset, what };
      }
      if (userGraph) userGraph.m.free();
      userGraph = { m, name, dataset: e.dataset, sm };
      return { view: 'graph', name, what, dataset: e.dataset, arch: m.arch, graph: { readout: m.graph.readout, latent: m.graph.latent },
        samples: { n: sm.n, w: sm.w, h: sm.h } };
    } catch (err) { m.free(); throw err; }
  },

  /* Runs the dropped layer graph on test picture i ([0, 1], resized to its input; copied to every channel). */
  async graphRun({ i, opts }) {
    if (!userGraph) throw new Error('no layer-graph model is open');
    const { m, sm } = userGraph, I = m.graph.input, t0 = performance.now();
    const img = new Float32Array(sm.w * sm.h);
    for (let k = 0; k < img.length; k++) img[k] = sm.pixels[i * sm.w * sm.h + k] / 255;
    if (I.h < sm.h || I.w < sm.w) throw new Error(`its input is ${I.c} x ${I.h} x ${I.w}: the page has ${sm.w} x ${sm.h} pictures`);
    const one = I.h === sm.h && I.w === sm.w ? img : resizeUp(img, sm.w, sm.h, I.w, I.h), x = new Float32Array(I.c * one.length);
    for (let c = 0; c < I.c; c++) x.set(one, c * one.length);
    const r = m.graph.readout === 'tanh' ? m.run(x, opts) : m.classify(x, opts);
    let lo = Infinity, hi = -Infinity;
    for (const v of r.out) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    return { i, truth: sm.labels[i], img, w: sm.w, h: sm.h, label: r.label, nOut: r.nOut, probs: r.probs ? Float32Array.from(r.probs) : null,
      lo, hi, stepsUsed: r.stepsUsed, T: r.T, energyPj: r.energyPj, energyRatio: r.energyRatio, ms: performance.now() - t0 };
  },
  async graphClose() { if (userGraph) { userGraph.m.free(); userGraph = null; } return {}; },

  /* Decodes an image file with the C core, flattens the background (uneven
   * light, grey paper: lib.js flattenBackground) and centres the digit by mass. */
  async decode({ bytes }) {
    const S = 112;
    const flat = flattenBackground(P.decodeImage(bytes, S, S, false), S, S);
    return { img: centerDigit(flat.img, S, S, 28, 20), w: 28, h: 28, inverted: flat.inverted };
  },

  /* Runs one input step by step and returns everything the page draws.
   * source: {kind: 'sample', i} | {kind: 'image', img, w, h, seed}. */
  async classify({ source, settings, T }) {
    applySettings(settings);
    const t0 = performance.now();
    let frames;
    if (source.kind === 'sample') {
      if (!samples) throw new Error('no samples for this model');
      frames = sampleFrames(source.i, T);
    } else {
      frames = P.framesFromImage(source.img, source.w, source.h, T, source.seed ?? 1);
    }
    const arch = model.arch;
    // every layer, every step: spikes of LIF layers (0/1), pooled spike rates
    // of pools (0..1 stored as 0..255), membrane of the output layer
    const watch = arch.layers.map((L, l) => ({ l, L }));
    const steps = watch.map(() => []);
    model.begin(frames, T);
    while (model.step()) {
      watch.forEach(({ l, L }, k) => {
        if (L.neuron === 'output') { steps[k].push(model.layerState(l, 'membrane')); return; }
        const s = model.layerState(l, 'spikes');
        const u = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) u[i] = Math.round(Math.min(1, Math.max(0, s[i])) * 255);
        steps[k].push(u);
      });
    }
    const result = copyResult(model.result());
    // side by side for the same input: early stop on and off, on this chip and in software
    const brief = (r) => ({ label: r.label, conf: r.probs[r.label], stepsUsed: r.stepsUsed, T: r.T, energyPj: r.energyPj,
      baselinePj: r.baselinePj, confidence: Float32Array.from(r.confidence), stepLabel: Int32Array.from(r.stepLabel) });
    const on = settings.run.policy !== 'none';
    const compare = { stop: on, chip: {}, software: {} };
    compare.chip[on ? 'on' : 'off'] = brief(result);
    try {
      model.setRun({ policy: on ? 'none' : 'confidence' });
      compare.chip[on ? 'off' : 'on'] = brief(model.classify(frames, T));
    } finally { model.setRun(settings.run); }
    const sw = softwareTwin(settings.device.chipSeed);
    for (const k of ['on', 'off']) {
      sw.setRun({ ...settings.run, policy: k === 'on' ? 'confidence' : 'none' });
      compare.software[k] = brief(sw.classify(frames, T));
    }
    return {
      compare, device: model.getDevice(),
      frames: Float32Array.from(frames), result,
      layers: watch.map(({ l, L }, k) => ({ layer: l, op: L.op, neuron: L.neuron, c: L.outC, h: L.outH, w: L.outW, steps: steps[k] })),
      ms: performance.now() - t0,
    };
  },

  /* Batch evaluation over the first n shipped samples.
   * mode 'eval': one pass with the settings given;
   * mode 'noise': one pass per read-noise value in `values`;
   * mode 'threshold': one pass without early stop, then, for every threshold in
   *   `values`, the step where the confidence first exceeds it (the same step a
   *   real early-stop run halts at: the run is causal) and the label there. */
  async batch({ id, n, settings, T, mode, values }, post) {
    if (!samples) throw new Error('no samples for this model');
    applySettings(settings);
    n = Math.min(n, samples.n);
    cancelled = false;
    const runs = mode === 'noise' ? values.length : 1;
    const total = n * runs;
    let done = 0, last = performance.now();
    const saved = { dev: model.getDevice(), run: model.getRun() };
    const pass = async () => {
      const rec = { n: 0, correct: 0, steps: 0, energy: 0, baseline: 0, conf: [], stepLabel: [], labels: [], ms: 0 };
      const t0 = performance.now();
      // every core (web/pool.js): the same results as the loop, or null (one core)
      const d0 = done;
      const pooled = await poolClassify(model, Array.from({ length: n }, (_, i) => sampleFrames(i, T)), T,
        (d) => { done = d0 + d; post({ id, type: 'progress', done, total }); return cancelled; });
      for (let i = 0; i < (pooled ? pooled.length : n); i++) {
        const r = pooled ? pooled[i] : model.classify(sampleFrames(i, T), T);
        rec.n++; rec.steps += r.stepsUsed; rec.energy += r.energyPj; rec.baseline += r.baselinePj;
        if (r.label === samples.labels[i]) rec.correct++;
        if (mode === 'threshold') { rec.conf.push(Float32Array.from(r.confidence)); rec.stepLabel.push(Int32Array.from(r.stepLabel)); rec.labels.push(r.label); }
        if (pooled) continue;
        done++;
        if (performance.now() - last > 60) {
          post({ id, type: 'progress', done, total });
          await yieldToEvents();
          last = performance.now();
          if (cancelled) break;
        }
      }
      rec.ms = performance.now() - t0;
      return rec;
    };
    const summary = (rec) => ({
      n: rec.n, accuracy: rec.correct / Math.max(1, rec.n), meanSteps: rec.steps / Math.max(1, rec.n),
      loadSaved: 1 - rec.steps / Math.max(1, rec.n) / T, meanEnergyPj: rec.energy / Math.max(1, rec.n),
      meanBaselinePj: rec.baseline / Math.max(1, rec.n), msPerSample: rec.ms / Math.max(1, rec.n),
    });
    try {
      if (mode === 'eval') {
        const rec = await pass();
        return { mode, T, cancelled, ...summary(rec) };
      }
      if (mode === 'noise') {
        const points = [];
        for (const v of values) {
          model.setDevice({ readNoise: v });
          const rec = await pass();
          if (cancelled) break;
          points.push({ noise: v, ...summary(rec) });
        }
        return { mode, T, cancelled, points };
      }
      if (mode === 'threshold') {
        model.setRun({ policy: 'none' });
        const rec = await pass();
        const minSteps = saved.run.minSteps || 1;
        const points = values.map((th) => {
          let correct = 0, steps = 0;
          for (let k = 0; k < rec.n; k++) {
            const c = rec.conf[k];
            let s = c.length;
            for (let t = minSteps - 1; t < c.length; t++) if (c[t] > th) { s = t + 1; break; }
            steps += s;
            if (rec.stepLabel[k][s - 1] === samples.labels[k]) correct++;
          }
          return { threshold: th, n: rec.n, accuracy: correct / Math.max(1, rec.n), meanSteps: steps / Math.max(1, rec.n) };
        });
        points.push({ threshold: null, n: rec.n, accuracy: rec.correct / Math.max(1, rec.n), meanSteps: rec.steps / Math.max(1, rec.n) });
        return { mode, T, cancelled, points, alpha: saved.run.alpha };
      }
      throw new Error('unknown batch mode ' + mode);
    } finally {
      model.setDevice({ readNoise: saved.dev.readNoise });
      model.setRun(saved.run);
    }
  },

  /* Opens the inpainting model of `dataset` (else the first of models.json
   * that works); {available, reason, datasets} either way: a wasm core without
   * the inpainting API, or a missing model file, is "not available", never an
   * error. datasets: every inpainting entry of models.json, for the chooser. */
  async inpaintOpen({ manifest, dataset }) {
    const list = (await (await fetch(new URL(manifest, self.location))).json()).filter((x) => x.task === 'inpaint').concat(userInpaint);
    const datasets = list.map((e) => ({ dataset: e.dataset, name: e.name, file: e.file }));
    const ready = () => ({ available: true, size: inpainter.size, T: inpainter.T, entry: strip(inpaintEntry), samples: inpaintSamplesInfo(), datasets });
    const want = dataset ? list.filter((e) => e.dataset === dataset) : list;
    if (dataset && !want.length) return { available: false, reason: `no inpainting model for "${dataset}" in web/models.json`, datasets };
    const reasons = [];
    for (const e of want) {
      try {
        if (!inpainters.has(e.file)) {
          if (typeof P.load !== 'function') throw new Error('this build of the core has no inpainting API');
          const r = await fetch(new URL(e.file, base));
          if (!r.ok) throw new Error(`the model file is missing (HTTP ${r.status}): train it or copy it to ${e.file} (docs/inpainting.md)`);
          const ip = P.load(new Uint8Array(await r.arrayBuffer())); // the one model object (wasm/prime-model.js)
          if (ip.kind !== 'inpainter') { ip.free(); throw new Error(`${e.file} is a ${ip.kind}, not an inpainting model`); }
          inpainters.set(e.file, { ip, entry: { ...e, sm: e.samples ? await getSamples(e.samples) : null } });
        }
        ({ ip: inpainter, entry: inpaintEntry } = inpainters.get(e.file));
        return ready();
      } catch (err) {
        reasons.push(`${e.file}: ${err instanceof TypeError ? 'this build of the core has no inpainting API' : err.message}`);
      }
    }
    return { available: false, reason: reasons.join('; ') || 'no inpainting model listed in web/models.json', datasets };
  },

  /* Inpaints shipped sample i: 28x28 -> 32x32 (as the trainer), [-1, 1], the
   * hole (size*size, 1 = unknown) set to -1 by the core. */
  async inpaint({ i, hole, opts }) {
    if (!inpainter) throw new Error('the inpainting model is not loaded');
    const sm = inpaintEntry.sm, n = inpainter.size;
    const img = new Float32Array(sm.w * sm.h);
    for (let k = 0; k < img.length; k++) img[k] = sm.pixels[i * sm.w * sm.h + k] / 255;
    const clean = resizeUp(img, sm.w, sm.h, n, n).map((v) => v * 2 - 1);
    const t0 = performance.now();
    const { options, ...o } = opts;
    applyOptions(inpainter, options);
    const r = inpainter.inpaint(clean, { ...o, hole });
    return { i, label: sm.labels[i], clean, size: n, ms: performance.now() - t0, ...ipReply(r) };
  },

  /* Generates an image from the prior of the current inpainting model. */
  async generate({ seed, opts }) {
    if (!inpainter) throw new Error('the inpainting model is not loaded');
    const t0 = performance.now();
    const { options, ...o } = opts;
    applyOptions(inpainter, options);
    const r = inpainter.generate({ ...o, seed });
    return { seed, size: inpainter.size, ms: performance.now() - t0, file: inpaintEntry.file, ...ipReply(r) };
  },

  /* Masks re-pruned for a chip (reprune-worker.js): [{layer, mask}] into the current model. */
  async setMasks({ masks }) {
    for (const { layer, mask } of masks) model.setMask(layer, mask);
    dropTwin(); // made again with these masks
    return {};
  },

  /* The shipped masks of the current model back (after re-pruning). */
  async restoreMasks() {
    const m = P.loadModel(entry.bytes);
    try {
      for (let l = 0; l < model.arch.layers.length; l++) {
        const L = model.arch.layers[l];
        if (L.op === 'conv' || L.op === 'fc') model.setMask(l, m.getMask(l));
      }
    } finally { m.free(); }
    dropTwin();
    return {};
  },

  /* Checks device options by applying them (all or nothing: a bad value throws, nothing changes). */
  async checkDevice({ options }) {
    applyOptions(model, options);
    return {};
  },

  /* A preset of the core (preset=paper): the device fields and the changed options after it. */
  async preset({ name, options, own }) {
    applyOptions(model, options);
    model.setDevice({ preset: name });
    const changed = changedOptions(model);
    for (const k of own || []) delete changed[k]; // the page's own controls read them from the device
    optApplied.set(model, changed);
    return { device: model.getDevice(), options: changed };
  },

  /* The IR-drop voltage map of crossbar array i (exact solve, wasm/prime.js irdropMap):
   * the voltage across every cell (row node - column node, V) and the column currents. */
  async irmap({ i, settings }) {
    applySettings(settings);
    const t = model.tiling(), l = t.findIndex((x) => x && i >= x.firstArray && i < x.firstArray + x.arrays);
    if (l < 0) throw new Error(`array ${i} holds no layer`);
    const info = model.irdropArrays(l), k = Math.min(i - t[l].firstArray, info.arrays - 1);
    const r = model.irdropMap(l, k);
    const v = new Float32Array(r.rows * r.cols);
    for (let j = 0; j < v.length; j++) v[j] = r.vRow[j] - r.vCol[j];
    return { i, layer: l, array: k, arrays: info.arrays, tile: info.tile, rows: r.rows, cols: r.cols, iterations: r.iterations,
      v, iCol: Float64Array.from(r.iCol), iIdeal: Float64Array.from(r.iIdeal), vRead: model.getDevice().vRead };
  },

  /* Conductances of crossbar array i (Float32Array 512*512, uS). */
  async array({ i, settings }) {
    applySettings(settings);
    return { i, g: Float32Array.from(model.array(i)), device: model.getDevice(), tiling: model.tiling(), totalArrays: model.totalArrays() };
  },
};

let chain = Promise.resolve();
self.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'cancel') { cancelled = true; return; }
  chain = chain.then(async () => {
    try {
      const h = handlers[msg.type];
      if (!h) throw new Error('unknown request ' + msg.type);
      if (!['init', 'open', 'inpaintOpen', 'inpaint', 'generate'].includes(msg.type) && !model) throw new Error('the model is not loaded');
      const out = await h(msg, (m) => self.postMessage(m));
      self.postMessage({ ...out, id: msg.id, type: 'reply' });
    } catch (err) {
      self.postMessage({ id: msg.id, type: 'error', message: String((err && err.message) || err) });
    }
  });
};
