// model-v2.test.mjs - through the wasm API, model file version 2
// (docs/model-format.md) for every network: a model whose conductances were
// set (a measured map, or weights from outside) keeps them over save -> load,
// classifier and inpainter, in the SIMD and scalar builds; the shipped .pvae
// files save as version 2 with identical outputs (and the bytes of `prime
// convert`); one model object whose methods a network lacks throw PrimeError.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { loadPrime, PrimeError } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const P = await loadPrime();
const S = await loadPrime({ wasmBytes: fs.readFileSync(path.join(root, 'build/prime-scalar.wasm')) });
const MODEL = fs.readFileSync(path.join(root, 'models/nmnist-digits.prime'));
const RING = Float32Array.from({ length: 28 * 28 }, (_, p) =>
  Math.abs(Math.hypot(Math.floor(p / 28) - 13.5, (p % 28) - 13.5) - 7) < 2 ? 1 : 0);

/** A deterministic map of n conductances around 30 uS. */
const map = (n, seed) => Float32Array.from({ length: n }, (_, i) => 15 + ((i * 2654435761 + seed * 40503) % 3001) / 100);

for (const [name, M] of [['SIMD', P], ['scalar', S]]) {
  test(`${name}: set conductances survive save -> load (version 2), bit for bit`, () => {
    const m = M.loadModel(MODEL);
    const n = m.getWeights(0).length;
    m.setConductances(0, map(n, 1), map(n, 2));
    m.setDevice({ readNoise: 0.05 });
    const x = M.framesFromImage(RING, 28, 28, 10, 3);
    m.setRun({ noiseSeed: 5 });
    const a = m.classify(x, 10);
    const bytes = m.save();
    assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true), 2, 'saved as version 2');
    assert.ok(bytes.length > MODEL.length + 8 * n, 'the map is in the file');
    const m2 = M.loadModel(bytes);
    m2.setDevice({ readNoise: 0.05 });
    m2.setRun({ noiseSeed: 5 });
    const b = m2.classify(x, 10);
    assert.deepEqual(Array.from(b.logits), Array.from(a.logits));
    assert.deepEqual(Array.from(b.spikes), Array.from(a.spikes));
    assert.equal(b.energyPj, a.energyPj);
    assert.deepEqual(m2.save(), bytes, 'save(load(file)) = file');
    // the map matters: the shipped model (formed cells) gives other logits
    const m0 = M.loadModel(MODEL);
    m0.setDevice({ readNoise: 0.05 });
    m0.setRun({ noiseSeed: 5 });
    assert.notDeepEqual(Array.from(m0.classify(x, 10).logits), Array.from(a.logits));
    m.free(); m2.free(); m0.free();
  });
}

test('weights imported from a numpy .npz survive save -> load (they once fell back to the chip seed)', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const out = path.join(root, 'build', 'model-v2-import.npz');
  try {
    execFileSync('/usr/bin/python3', ['-c', `import numpy as np
r = np.random.default_rng(4)
np.savez('${out}', weight0=r.normal(0, 9, (12,2,5,5)).astype(np.float32), weight2=r.normal(0, 9, (10,2304)).astype(np.float32))`]);
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`python3-numpy is needed (./build.sh setup installs it): ${e.message}`);
    t.skip('Debian python3-numpy is not installed (./build.sh setup installs it)');
    return;
  }
  const m = P.loadModel(MODEL);
  assert.equal(m.importNpz(fs.readFileSync(out)), 2);
  const x = P.framesFromImage(RING, 28, 28, 10, 3);
  const a = m.classify(x, 10);
  const m2 = P.loadModel(m.save());
  assert.deepEqual(Array.from(m2.getWeights(4, true)), Array.from(m.getWeights(4, true)), 'imported FC weights kept');
  assert.deepEqual(Array.from(m2.classify(x, 10).logits), Array.from(a.logits));
  m.free(); m2.free();
});

// ---- every network in model file v2, one model object (wasm/prime-model.js)

const PVAE = ['inpaint-mnist', 'inpaint-fashion', 'inpaint-mnist-software', 'inpaint-fashion-software']
  .map((n) => [n, fs.readFileSync(path.join(root, `models/${n}.pvae`))]);
const ring32 = Float32Array.from({ length: 1024 }, (_, p) =>
  Math.abs(Math.hypot(Math.floor(p / 32) - 16, (p % 32) - 15.5) - 8) < 2 ? 1 : -1);
const u32 = (b, at) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
/** Everything one inpaint and one generate give, with read noise and the early stop. */
const vaeOutputs = (m) => [m.inpaint(ring32, { readNoise: 0.05, noiseSeed: 3 }), m.generate({ seed: 5, readNoise: 0.05 })]
  .map((r) => ({ ...r, steps: r.steps.map((s) => Array.from(s)), recon: Array.from(r.recon), m: Array.from(r.m) }));

for (const [name, M] of [['SIMD', P], ['scalar', S]]) {
  test(`${name}: the shipped .pvae files load with P.load, save as version 2 and reload with identical outputs`, () => {
    for (const [file, bytes] of PVAE) {
      const m = M.load(bytes);
      assert.equal(m.kind, 'inpainter', file);
      const v2 = m.save();
      assert.equal(new TextDecoder().decode(v2.subarray(0, 8)), 'PRIMEMDL');
      assert.equal(u32(v2, 8), 2, `${file}: version 2`);
      assert.equal(u32(v2, 16), P.abi.model_vae, `${file}: kind VAE`);
      const m2 = M.load(v2);
      assert.equal(m2.kind, 'inpainter');
      assert.deepEqual(m2.save(), v2, `${file}: save(load(v2)) = v2`);
      assert.deepEqual(vaeOutputs(m2), vaeOutputs(m), `${file}: v1 and v2 give the same bits`);
      assert.deepEqual(m2.getRun(), m.getRun());
      m.free(); m2.free();
    }
  });
}

test('prime convert (native) writes the bytes the wasm save writes, for every shipped model', () => {
  const cli = path.join(root, 'build/prime');
  for (const f of ['nmnist-digits.prime', 'nmnist-fashion.prime', 'inpaint-mnist.pvae', 'inpaint-fashion-software.pvae']) {
    const out = path.join(root, 'build', `convert-${f}.v2`);
    execFileSync(cli, ['convert', path.join(root, 'models', f), out]);
    const m = P.load(fs.readFileSync(path.join(root, 'models', f)));
    assert.deepEqual(new Uint8Array(fs.readFileSync(out)), m.save(), f);
    m.free();
  }
});

test('an inpainter with conductance maps and masks set from outside keeps them over save -> load', () => {
  const m = P.load(PVAE[0][1]);
  const L = m.layers[1], n = L.rows * L.cols;
  m.setConductances(1, map(n, 3), map(n, 4));
  m.setMask(7, Uint8Array.from({ length: m.layers[7].rows * m.layers[7].cols }, (_, i) => (i * 7) % 3 !== 0));
  m.setRun({ mTh: 0.3, latentSeed: 11 });
  const bytes = m.save();
  const m2 = P.load(bytes);
  assert.deepEqual(m2.getRun(), m.getRun(), 'the run defaults are in the file');
  assert.deepEqual(vaeOutputs(m2), vaeOutputs(m));
  assert.deepEqual(Array.from(m2.getParams(1).w), Array.from(m.getParams(1).w), 'layer 1 programmed from the map');
  assert.deepEqual(Array.from(m2.getParams(7).w), Array.from(m.getParams(7).w), 'the mask set on dec1 is in the file');
  const m0 = P.load(PVAE[0][1]);
  assert.notDeepEqual(Array.from(m0.getParams(1).w), Array.from(m.getParams(1).w), 'the map matters');
  // the maps survive a re-forming device change
  m.setDevice({ chipSeed: 77 }); m2.setDevice({ chipSeed: 77 });
  assert.deepEqual(vaeOutputs(m2), vaeOutputs(m));
  assert.throws(() => P.load(PVAE[2][1]).setConductances(1, map(n, 1), map(n, 2)), (e) => e instanceof PrimeError && /software/.test(e.message));
  m.free(); m2.free(); m0.free();
});

test('one model object: setDevice / setRun on the inpainter act on inpaint; options act for one call only', () => {
  const m = P.load(PVAE[0][1]);
  const base = vaeOutputs(m);
  const noisy = m.inpaint(ring32, { readNoise: 0.1, earlyStop: false });
  assert.deepEqual(vaeOutputs(m), base, 'a call with options leaves the model as it was');
  m.setDevice({ readNoise: 0.1 }).setRun({ policy: 'none' });
  assert.deepEqual(Array.from(m.inpaint(ring32).recon), Array.from(noisy.recon), 'setDevice + setRun = the same options');
  assert.equal(m.getRun().policy, 'none');
  assert.throws(() => m.setRun({ policy: 'confidence' }), (e) => e instanceof PrimeError && /unknown policy "confidence" \(none, convergence\)/.test(e.message));
  assert.throws(() => m.setRun({ alpha: 2 }), (e) => e instanceof PrimeError && /unknown run parameter "alpha"/.test(e.message));
  m.free();
});

test('a method the network does not have is a PrimeError that names what it has', () => {
  const ip = P.load(PVAE[0][1]), c = P.load(MODEL);
  assert.equal(c.kind, 'classifier');
  for (const [f, re] of [[() => ip.classify(new Float32Array(10)), /classify\(\): this model is an inpainting VAE.*it has inpaint\(\)/],
    [() => ip.layerState(0), /layerState/], [() => ip.tiling(), /tiling/], [() => ip.importNpz(new Uint8Array(4)), /importNpz/],
    [() => ip.getWeights(0), /getParams/], [() => c.inpaint(ring32), /inpaint\(\): this model is a classifier.*it has classify\(\)/],
    [() => c.generate(), /generate/], [() => c.getParams(0), /getWeights/], [() => c.latentUniforms(), /latentUniforms/]])
    assert.throws(f, (e) => e instanceof PrimeError && re.test(e.message), re.source);
  assert.throws(() => P.loadModel(PVAE[0][1]), (e) => e instanceof PrimeError && /an inpainting model, not a classifier: load it with P.load/.test(e.message));
  assert.throws(() => P.loadInpainter(MODEL), (e) => e instanceof PrimeError && /a classifier, not an inpainting model/.test(e.message));
  assert.throws(() => P.load(new Uint8Array([1, 2, 3])), (e) => e instanceof PrimeError && /PRIMEMDL/.test(e.message));
  assert.throws(() => ip.exportOnnx(10), (e) => e instanceof PrimeError && /own T = 16/.test(e.message));
  ip.free(); c.free();
  assert.throws(() => ip.inpaint(ring32), (e) => e instanceof PrimeError && /freed/.test(e.message));
});

test('a version-2 inpainting file: truncations and bit flips are PrimeErrors, the live model unchanged', () => {
  const live = P.load(PVAE[0][1]), before = vaeOutputs(live);
  const m = P.load(PVAE[0][1]);
  const v2 = m.save();
  m.free();
  let n = 0;
  for (const k of [0, 7, 8, 12, 20, 23, 24, 31, 100, 1000, 100000, v2.length - 5, v2.length - 1]) {
    assert.throws(() => P.load(v2.subarray(0, k)), PrimeError, `truncated to ${k}`);
    n++;
  }
  for (let k = 0; k < 300; k++) {
    const t = v2.slice(), at = (k * 2654435761) % t.length;
    t[at] ^= 1 << (k % 8);
    assert.throws(() => P.load(t), PrimeError, `bit ${k % 8} of byte ${at}`);
    n++;
  }
  assert.deepEqual(vaeOutputs(live), before, `${n} bad files later, the live model gives the same bits`);
  live.free();
});

test('step mode of the inpainter: begin / step / result give the bits of inpaint, step by step', () => {
  const m = P.load(PVAE[0][1]);
  m.setDevice({ readNoise: 0.05 });
  const hole = Uint8Array.from({ length: 1024 }, (_, p) => (p % 32 < 12 ? 1 : 0));
  const whole = m.inpaint(ring32, { hole });
  m.begin(ring32, { hole });
  let k = 0;
  while (m.step()) {
    const r = m.result();
    assert.equal(r.stepsUsed, ++k);
    assert.deepEqual(Array.from(r.steps[k - 1]), Array.from(whole.steps[k - 1]), `step ${k}`);
  }
  const end = m.result();
  assert.equal(end.stepsUsed, whole.stepsUsed);
  assert.equal(end.energyPj, whole.energyPj);
  assert.deepEqual(Array.from(end.m), Array.from(whole.m));
  assert.equal(m.step(), false, 'nothing after the end');
  assert.throws(() => m.begin(ring32, { readNoise: 0.1 }), (e) => e instanceof PrimeError && /setDevice/.test(e.message));
  assert.throws(() => m.begin(new Float32Array(10)), (e) => e instanceof PrimeError && /image holds 10 values/.test(e.message));
  m.free();
});
