// onnx.test.mjs - the ONNX export (src/prime_onnx.c, `prime onnx`) run by
// onnxruntime-node gives the simulator's results at zero noise, ideal ADC and
// DAC, on real inputs (sample images -> synthetic N-MNIST frames).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { loadPrime } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'build/prime');
const modelPath = ['models/nmnist-digits.prime', 'models/random-nmnist.prime']
  .map((p) => path.join(root, p)).find((p) => fs.existsSync(p));
const P = await loadPrime();

/** The first n images of web/samples/mnist-test.psmp as T frames each (docs/data.md). */
function sampleFrames(n, T) {
  const b = fs.readFileSync(path.join(root, 'web/samples/mnist-test.psmp'));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true);
  const seed = Number(dv.getBigUint64(20, true));
  const out = [];
  for (let j = 0; j < Math.min(n, count); j++) {
    const idx = dv.getUint32(28 + 4 * j, true);
    const px = b.subarray(28 + 5 * count + j * w * h, 28 + 5 * count + (j + 1) * w * h);
    out.push(P.framesFromImage(Float32Array.from(px, (k) => k / 255), w, h, T, seed + idx));
  }
  return out;
}

const argmax = (a) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

test('ONNX export = simulator at zero noise, ideal ADC/DAC (labels exact, logits within 1e-4)', async () => {
  const T = 10;
  const onnxPath = path.join(os.tmpdir(), `prime-test-${process.pid}.onnx`);
  execFileSync(cli, ['onnx', modelPath, onnxPath, String(T)]);
  const sess = await ort.InferenceSession.create(onnxPath, { logSeverityLevel: 3 });
  fs.unlinkSync(onnxPath);
  assert.deepEqual(sess.inputNames, ['frames']);
  assert.deepEqual(sess.outputNames, ['logits', 'step_logits']);
  const m = P.loadModel(fs.readFileSync(modelPath));
  m.setDevice({ readNoise: 0, adcBits: 0, dacBits: 0 });
  m.setRun({ policy: 'none' });
  let maxDiff = 0, labels = 0, stepLabels = 0;
  const frames = sampleFrames(40, T);
  for (const x of frames) {
    const r = m.classify(x, T);
    const o = await sess.run({ frames: new ort.Tensor('float32', x, [T, 2, 34, 34]) });
    const lg = o.logits.data, st = o.step_logits.data;
    assert.equal(lg.length, r.nClasses);
    for (let k = 0; k < r.nClasses; k++) maxDiff = Math.max(maxDiff, Math.abs(lg[k] - r.logits[k]));
    labels += argmax(Array.from(lg)) === r.label;
    for (let t = 0; t < T; t++) stepLabels += argmax(Array.from(st.subarray(t * 10, t * 10 + 10))) === r.stepLabel[t];
  }
  m.free();
  console.log(`# ${path.basename(modelPath)}: ${frames.length} samples, max |logit diff| ${maxDiff}, labels ${labels}/${frames.length}`);
  assert.equal(labels, frames.length, 'labels');
  assert.equal(stepLabels, frames.length * T, 'labels after every step');
  assert.ok(maxDiff <= 1e-4, `max logit diff ${maxDiff}`);
});

test('the export follows the model: a changed mask changes the ONNX logits', async () => {
  // Prune every FC weight: the output then carries only the off-state residuals.
  const m = P.loadModel(fs.readFileSync(modelPath));
  m.setDevice({ readNoise: 0, adcBits: 0, dacBits: 0 });
  const x = sampleFrames(1, 4)[0];
  const before = m.classify(x, 4).logits;
  const fc = m.arch.layers.length - 1;
  m.setMask(fc, new Uint8Array(m.getMask(fc).length));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prime-onnx-'));
  const pruned = path.join(dir, 'pruned.prime'), onnxPath = path.join(dir, 'pruned.onnx');
  fs.writeFileSync(pruned, m.save());
  execFileSync(cli, ['onnx', pruned, onnxPath, '4']);
  const sess = await ort.InferenceSession.create(onnxPath, { logSeverityLevel: 3 });
  fs.rmSync(dir, { recursive: true });
  const r = m.classify(x, 4);
  const lg = (await sess.run({ frames: new ort.Tensor('float32', x, [4, 2, 34, 34]) })).logits.data;
  assert.ok(before.some((v, k) => Math.abs(v - lg[k]) > 1e-3), 'pruning the FC layer changed nothing');
  for (let k = 0; k < 10; k++) assert.ok(Math.abs(lg[k] - r.logits[k]) <= 1e-5, `class ${k}: ${lg[k]} vs ${r.logits[k]}`);
  m.free();
});

test('prime onnx rejects a bad T and a bad model file', () => {
  const out = path.join(os.tmpdir(), `prime-bad-${process.pid}.onnx`);
  const bad = spawnSync(cli, ['onnx', modelPath, out, '65']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr.toString(), /T = 65 out of 1\.\.64/);
  const junk = path.join(os.tmpdir(), `prime-junk-${process.pid}.prime`);
  fs.writeFileSync(junk, 'not a model');
  const r = spawnSync(cli, ['onnx', junk, out]);
  fs.unlinkSync(junk);
  assert.notEqual(r.status, 0);
  assert.ok(!fs.existsSync(out));
});
