// model-v2.test.mjs - through the wasm API: a model whose conductances were set
// (a measured map, or weights from outside) keeps them over save -> load
// (model file version 2, docs/model-format.md), in the SIMD and scalar builds.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPrime } from '../../wasm/prime.js';

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
