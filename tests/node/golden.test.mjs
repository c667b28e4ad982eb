// golden.test.mjs - the wasm build (SIMD and scalar) against the golden outputs
// of the shipped models in tests/golden/ (format and tolerance in
// tests/golden/README.md). The cases mirror tests/c/golden.c, which writes the
// files (`make golden-update`) and checks the native builds (`make golden`).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPrime } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const P = await loadPrime();
const S = await loadPrime({ wasmBytes: fs.readFileSync(path.join(root, 'build/prime-scalar.wasm')) });
const ATOL = 1e-6, RTOL = 1e-5;

/* ------------------------------------------------------------ cases (as tests/c/golden.c) */

const IMAGE_NAMES = ['ring', 'bar', 'seven'];
/* Input image k (w x w, values lo..hi): 0 ring, 1 vertical bar, 2 a "7". */
function image(k, w, lo, hi) {
  const c = (w - 1) / 2, ci = Math.trunc(c), img = new Float32Array(w * w);
  const d = (a, b) => Math.floor(a / b);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      let on;
      if (k === 0) on = Math.abs(Math.hypot(y - c, x - c) - w / 4) < 2;
      else if (k === 1) on = Math.abs(x - ci) <= 1 && y >= d(w, 6) && y < w - d(w, 6);
      else {
        on = (y >= d(w, 5) && y < d(w, 5) + 3 && x >= d(w, 4) && x < w - d(w, 4)) ||
          (y >= d(w, 5) && y < w - d(w, 6) && Math.abs(x - (w - d(w, 4) - 1 - d(y - d(w, 5), 2))) <= 1);
      }
      img[y * w + x] = on ? hi : lo;
    }
  }
  return img;
}

const CLF_CASES = [
  { name: 'noise0', noise: 0, mode: 0, adc: -1, stop: false },
  { name: 'noise0-stop', noise: 0, mode: 0, adc: -1, stop: true },
  { name: 'noise0.05', noise: 0.05, mode: 0, adc: -1, stop: false },
  { name: 'noise0.05-stop', noise: 0.05, mode: 0, adc: -1, stop: true },
  { name: 'cell0.1-adc6', noise: 0.1, mode: 1, adc: 6, stop: false },
];

/* The golden text of a classifier model, computed with api (one module). */
function goldenClassifier(api, bytes) {
  const m = api.loadModel(bytes);
  const T = m.arch.T, d0 = m.getDevice(), out = [];
  const put = (k, v) => out.push(`${k} ${v}`);
  const f = (v) => Number(v).toExponential(9), f17 = (v) => Number(v).toExponential(16); // %.9e, %.17e
  for (let k = 0; k < 3; k++) {
    const x = api.framesFromImage(image(k, 28, 0, 1), 28, 28, T, k + 1);
    for (const c of CLF_CASES) {
      m.setDevice({ readNoise: Math.fround(c.noise), noiseMode: c.mode, adcBits: c.adc >= 0 ? c.adc : d0.adcBits });
      const run = { ...api.defaultRun(), policy: c.stop ? 'confidence' : 'none' };
      m.setRun(run);
      const res = m.classify(x, T);
      out.push(`case ${IMAGE_NAMES[k]}/${c.name}`);
      put('label', res.label);
      put('steps_used', res.stepsUsed);
      m.setRun(run);
      m.begin(x, T);
      while (m.step()) {
        const st = m.result(), t = String(st.stepsUsed).padStart(2, '0');
        put(`t${t}.label`, st.stepLabel[st.stepsUsed - 1]);
        put(`t${t}.conf`, f(st.confidence[st.stepsUsed - 1]));
        st.logits.forEach((v, j) => put(`t${t}.logit${j}`, f(v)));
      }
      res.spikes.forEach((v, l) => put(`spikes.layer${l}`, v));
      const q = res.counters;
      put('cell_reads', q.cellReads); put('adc_conversions', q.adcConversions); put('dac_drives', q.dacDrives);
      put('vmm_reads', q.vmmReads); put('neuron_updates', q.neuronUpdates); put('macs_dense', q.macsDense);
      put('timesteps', q.timesteps);
      put('energy_pj', f17(res.energyPj)); put('baseline_pj', f17(res.baselinePj));
    }
  }
  m.free();
  return out.join('\n');
}

const VAE_CASES = [
  { name: 'noise0-stop', noise: 0, stop: true, gen: 0 },
  { name: 'noise0', noise: 0, stop: false, gen: 0 },
  { name: 'noise0.05-stop', noise: 0.05, stop: true, gen: 0 },
  { name: 'noise0.05', noise: 0.05, stop: false, gen: 0 },
  { name: 'gen1-noise0-stop', noise: 0, stop: true, gen: 1 },
  { name: 'gen2-noise0.05', noise: 0.05, stop: false, gen: 2 },
];
// counters of the inpainting network that the JS result does not carry
const VAE_NOT_IN_JS = /\/(dac_drives|vmm_reads|neuron_updates|macs_dense|timesteps|digital_macs)$/;

/* The golden text of an inpainting model, computed with api. */
function goldenVae(api, bytes) {
  const ip = api.loadInpainter(bytes), out = [];
  const put = (k, v) => out.push(`${k} ${v}`);
  const f = (v) => Number(v).toExponential(9), f17 = (v) => Number(v).toExponential(16); // %.9e, %.17e
  for (let k = 0; k < (ip.software ? 1 : 2); k++) {
    for (const c of VAE_CASES) {
      if (c.gen && k > 0) continue;
      const opts = { readNoise: Math.fround(c.noise), adcBits: 14, dacBits: 16, earlyStop: c.stop, mDiv: 100, mTh: 0.2,
        mWindow: 3, noiseSeed: 1, latentSeed: 7 };
      let r;
      if (c.gen) {
        r = ip.generate({ ...opts, seed: c.gen });
        out.push(`case ${c.name}`);
      } else {
        r = ip.inpaint(image(k, ip.size, -1, 1), opts);
        out.push(`case ${IMAGE_NAMES[k]}/${c.name}`);
      }
      put('steps_used', r.stepsUsed);
      r.steps.forEach((o, s) => {
        const t = String(s + 1).padStart(2, '0');
        let sum = 0, sq = 0;
        for (let p = 0; p < o.length; p++) sum += o[p], sq += o[p] * o[p];
        put(`t${t}.sum`, f17(sum)); put(`t${t}.sumsq`, f17(sq));
        put(`t${t}.px400`, f(o[400])); put(`t${t}.px500`, f(o[500]));
        put(`t${t}.m`, f(r.m[s]));
      });
      put('spikes', r.spikes);
      put('cell_reads', r.counters.cellReads); put('adc_conversions', r.counters.adcConversions);
      put('energy_pj', f17(r.energyPj)); put('baseline_pj', f17(r.baselinePj));
    }
  }
  ip.free();
  return out.join('\n');
}

/* ------------------------------------------------------------ comparison (as tests/c/golden.c) */

/* Fields of a golden text: [key, value] with the case name prefixed to keys. */
function parse(text) {
  const out = [];
  let cas = '';
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.indexOf(' ');
    if (sp < 0) continue;
    const k = line.slice(0, sp), v = line.slice(sp + 1);
    if (k === 'case') cas = v;
    else out.push([`${cas}/${k}`, v]);
  }
  return out;
}
const isFloat = (v) => /[.eEa-z]/.test(v);

/* Compares computed text with golden text; returns { n, bad: [messages], maxAbs }. */
function compare(got, want, notInJs) {
  const g = new Map(parse(got)), w = parse(want).filter(([k]) => !(notInJs && notInJs.test(k)));
  const bad = [];
  let maxAbs = 0;
  for (const [k, v] of w) {
    if (!g.has(k)) { bad.push(`${k}: not computed`); continue; }
    const x = g.get(k);
    g.delete(k);
    if (isFloat(v)) {
      const a = Number(x), b = Number(v), d = Math.abs(a - b);
      maxAbs = Math.max(maxAbs, d);
      if (!(d <= ATOL + RTOL * Math.abs(b))) bad.push(`${k}: got ${x}, want ${v}`);
    } else if (x !== v) bad.push(`${k}: got ${x}, want ${v} (exact)`);
  }
  for (const k of g.keys()) bad.push(`${k}: computed, not in the golden file`);
  return { n: w.length, bad, maxAbs };
}

const MODELS = [
  ['models/nmnist-digits.prime', 'nmnist-digits.txt', false],
  ['models/nmnist-fashion.prime', 'nmnist-fashion.txt', false],
  ['models/inpaint-mnist.pvae', 'inpaint-mnist.txt', true],
  ['models/inpaint-fashion.pvae', 'inpaint-fashion.txt', true],
  ['models/inpaint-mnist-software.pvae', 'inpaint-mnist-software.txt', true],
  ['models/inpaint-fashion-software.pvae', 'inpaint-fashion-software.txt', true],
];

for (const [model, file, vae] of MODELS) {
  test(`golden ${file}: wasm SIMD and wasm scalar, of the file and of its version-2 save, give the outputs of tests/golden/ (spikes and counters exact, floats within ${ATOL} + ${RTOL}|x|)`, () => {
    const bytes = fs.readFileSync(path.join(root, model));
    const want = fs.readFileSync(path.join(root, 'tests/golden', file), 'utf8');
    // each build also through the model converted to version 2 by its own save()
    const v2 = (api) => { const m = api.load(bytes); try { return m.save(); } finally { m.free(); } };
    for (const [name, api, b] of [['SIMD', P, bytes], ['scalar', S, bytes], ['SIMD, model file v2', P, v2(P)], ['scalar, model file v2', S, v2(S)]]) {
      if (b !== bytes) assert.equal(new DataView(b.buffer, b.byteOffset).getUint32(8, true), 2, `${name}: version 2`);
      const got = vae ? goldenVae(api, b) : goldenClassifier(api, b);
      const r = compare(got, want, vae ? VAE_NOT_IN_JS : null);
      console.log(`# ${file} wasm ${name}: ${r.n} fields, ${r.bad.length} differ, max float diff ${r.maxAbs}`);
      assert.ok(r.n > 500, `${file}: only ${r.n} fields compared`);
      assert.deepEqual(r.bad.slice(0, 20), [], `${file} wasm ${name}: ${r.bad.length} fields differ`);
    }
  });
}

test('the golden comparison fails on a changed spike count and on a float out of tolerance', () => {
  const want = 'case a\nspikes.layer0 120\nlogit 1.000000000e+00\n';
  assert.equal(compare(want, want).bad.length, 0);
  assert.equal(compare('case a\nspikes.layer0 121\nlogit 1.000000000e+00\n', want).bad.length, 1);
  assert.equal(compare('case a\nspikes.layer0 120\nlogit 1.000000005e+00\n', want).bad.length, 0);
  assert.equal(compare('case a\nspikes.layer0 120\nlogit 1.000100000e+00\n', want).bad.length, 1);
  assert.equal(compare('case a\nspikes.layer0 120\n', want).bad.length, 1);
});
