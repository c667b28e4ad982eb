// batch.test.mjs - many inputs at once: m.classifyBatch equals classify one at
// a time (wasm SIMD and scalar), the native batch on 2 threads gives the same
// labels and steps, and the worker_threads pool (wasm/pool.mjs) gives the
// single-thread results bit for bit at 1 and 3 workers, across a device sweep.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime, PrimeError } from '../../wasm/prime.js';
import { createPool } from '../../wasm/pool.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const P = await loadPrime();
const S = await loadPrime({ wasmBytes: fs.readFileSync(path.join(root, 'build/prime-scalar.wasm')) });
const modelPath = ['models/nmnist-digits.prime', 'models/random-nmnist.prime'].map((p) => path.join(root, p)).find((p) => fs.existsSync(p));
const bytes = fs.readFileSync(modelPath);

/** The first n digits of the shipped sample file as frames (seed = event_seed + index, docs/data.md). */
function digits(n) {
  const b = fs.readFileSync(path.join(root, 'web/samples/mnist-test.psmp'));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true);
  const seed = Number(dv.getBigUint64(20, true));
  return Array.from({ length: n }, (_, j) => {
    const px = b.subarray(28 + 5 * count + j * w * h, 28 + 5 * count + (j + 1) * w * h);
    return P.framesFromImage(Float32Array.from(px, (v) => v / 255), w, h, 10, seed + dv.getUint32(28 + 4 * j, true));
  });
}
const frames = digits(30);
const SETTINGS = { device: { readNoise: 0.05 }, run: { policy: 'confidence', threshold: 0.8, noiseSeed: 3 } };
const model = (api = P) => api.loadModel(bytes).setDevice(SETTINGS.device).setRun(SETTINGS.run);
/** Results as comparable text: every field, floats by their bits (JSON of typed arrays keeps them exactly). */
const text = (rs) => JSON.stringify(rs, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v));

test('classifyBatch = classify one at a time, bit for bit (SIMD and scalar), and the stream runs on', () => {
  for (const api of [P, S]) {
    const m = model(api);
    const one = frames.map((f) => m.classify(f));
    m.setRun({});
    const all = m.classifyBatch(frames, { chunk: 7 });
    assert.equal(text(all), text(one), `${api.simd}: batch differs from single`);
    assert.equal(m.getInference(), frames.length);
    assert.ok(one.some((r) => r.stepsUsed < 10), 'early stop took effect on some samples');
    m.setRun({});
    const a = m.classifyBatch(frames.slice(0, 11)), b = m.classifyBatch(frames.slice(11));
    assert.equal(text([...a, ...b]), text(one), 'two batches in a row = one');
    const c = m.classifyBatch(frames.slice(20), { first: 20 });
    assert.equal(text(c), text(one.slice(20)), 'a batch from inference 20 = samples 20..');
    m.free();
  }
  const s = model(P).classifyBatch(frames), sc = model(S).classifyBatch(frames);
  assert.equal(text(s), text(sc), 'wasm SIMD and wasm scalar batches agree bit for bit');
});

test('the native batch on 2 threads gives the labels and steps of the wasm batch', () => {
  const bin = path.join(root, 'build/prime');
  if (!fs.existsSync(bin)) assert.fail('build/prime missing (make)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prime-batch-'));
  try {
    const f = path.join(tmp, 'frames.f32'), all = new Float32Array(frames.length * frames[0].length);
    frames.forEach((x, i) => all.set(x, i * x.length));
    fs.writeFileSync(f, Buffer.from(all.buffer));
    const m = P.loadModel(bytes).setDevice({ readNoise: 0.05 }).setRun({ policy: 'confidence', threshold: 0.8 });
    const w = m.classifyBatch(frames);
    m.free();
    for (const threads of ['1', '2']) {
      const j = JSON.parse(execFileSync(bin, ['bench-frames', modelPath, f, String(frames.length), '--noise', '0.05', '--stop', '0.8',
        '--repeat', '1', '--threads', threads]).toString());
      assert.deepEqual(j.labels, w.map((r) => r.label), `${threads} threads: labels`);
      assert.deepEqual(j.steps, w.map((r) => r.stepsUsed), `${threads} threads: steps`);
    }
  } finally { fs.rmSync(tmp, { recursive: true, force: true }); }
});

test('the worker pool gives the single-thread results bit for bit, over a device sweep', async () => {
  const m = model();
  const want = {};
  for (const eta of [0.05, 0.1]) { m.setDevice({ readNoise: eta }).setRun({}); want[eta] = text(frames.map((f) => m.classify(f))); }
  m.free();
  for (const threads of [1, 3]) {
    const pool = await createPool({ model: bytes, ...SETTINGS, threads });
    try {
      assert.equal(pool.size, threads);
      let seen = 0;
      const r = await pool.classifyBatch(frames, { chunk: 4, onProgress: (d) => { seen = d; } });
      assert.equal(text(r), want[0.05], `${threads} workers: pool differs from single thread`);
      assert.equal(seen, frames.length);
      assert.equal(pool.getInference(), frames.length);
      await pool.setDevice({ readNoise: 0.1 });
      await pool.setRun({});
      const a = await pool.classifyBatch(frames.slice(0, 13), { chunk: 5 }), b = await pool.classifyBatch(frames.slice(13), { chunk: 5 });
      assert.equal(text([...a, ...b]), want[0.1], `${threads} workers: two pool batches after setDevice differ`);
    } finally { pool.close(); }
  }
});

test('bad batches are refused with a message naming the input', async () => {
  const m = model();
  assert.throws(() => m.classifyBatch(frames[0]), PrimeError);
  assert.throws(() => m.classifyBatch([frames[0], new Float32Array(5)]), /input 1/);
  assert.throws(() => m.classifyBatch(frames, { chunk: 0 }), /chunk/);
  assert.throws(() => m.classifyBatch(frames, { first: -1 }), /setInference/);
  assert.throws(() => m.classifyBatch(frames, { T: 0 }), /T = 0/);
  const bad = Float32Array.from(frames[1]);
  bad[100] = NaN;
  assert.throws(() => m.classifyBatch([frames[0], bad]), /sample 1: input value 100 is not finite/);
  assert.equal(m.getInference(), 0, 'a refused batch counts no inference');
  assert.deepEqual(m.classifyBatch([]), []);
  m.free();
  const pool = await createPool({ model: bytes, threads: 2 });
  try {
    await assert.rejects(pool.classifyBatch([frames[0], new Float32Array(3)]), /input 1: frames hold 3 values/);
    await assert.rejects(createPool({ model: new Uint8Array([1, 2, 3]), threads: 1 }), /./);
  } finally { pool.close(); }
  await assert.rejects(createPool({ threads: 0 }), /threads = 0/);
});
