// import.test.mjs - models from PyTorch / NumPy: P.importModel in wasm (same
// outputs as the native importer), named errors, and the acceptance check
// scripts/import-check.py (the PRIME authors' checkpoint against a torch
// forward of their equations; docs/model-format.md, "Importing").
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime, PrimeError } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const build = path.join(root, 'build');
const P = await loadPrime();
const CKPT = process.env.PRIME_AUTHORS_CKPT || path.join(root, '..', 'shared', 'authors', 'classification.pt');
const FIX = path.join(build, 'import-fixtures');
const CI = process.env.CI === 'true';

// the fixtures of tests/c/test_import.c (torch + numpy); null without them
function fixtures() {
  try {
    execFileSync('/usr/bin/python3', ['tests/make_import_fixtures.py', FIX], { cwd: root, stdio: 'pipe' });
    return FIX;
  } catch (e) {
    if (CI) throw new Error(`python3-torch / python3-numpy are needed (./build.sh setup installs them): ${e.message}`);
    return null;
  }
}

const IDEAL = { gOff: 0, gOffSd: 0, progNoise: 0, readNoise: 0, stuckOn: 0, stuckOff: 0, adcBits: 0, dacBits: 0 };

// PFRM frame file (docs/data.md) -> sample i as Float32Array [T][2][34][34]
function pfrm(file) {
  const b = fs.readFileSync(file);
  const h = new Uint32Array(b.buffer.slice(b.byteOffset + 4, b.byteOffset + 28));
  const [version, n, T, c, hh, w] = h, fs_ = T * c * hh * w;
  const o = version === 2 ? 36 : 28; // version 2: a u64 synthesizer fingerprint after the dims
  return { n, T, sample: (i) => Float32Array.from(b.subarray(o + n + i * fs_, o + n + (i + 1) * fs_)) };
}

test('P.importModel: a torch.save checkpoint in the classification layout, and named errors', (t) => {
  const dir = fixtures();
  if (!dir) { t.skip('python3-torch is not installed (./build.sh setup installs it)'); return; }
  const m = P.importModel(fs.readFileSync(path.join(dir, 'clf.pt')));
  const mz = P.importModel(fs.readFileSync(path.join(dir, 'clf.npz'))); // the same tensors, savez_compressed
  for (const l of [0, 2, 4]) {
    assert.deepEqual(m.getMask(l), mz.getMask(l), `layer ${l}: .pt and compressed .npz give one mask`);
    const kept = m.getMask(l).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(kept / m.getMask(l).length - 0.5) < 0.01, `layer ${l}: about half kept (${kept})`);
  }
  m.free(); mz.free();
  const err = (f) => { try { P.importModel(fs.readFileSync(path.join(dir, f))); } catch (e) { assert.ok(e instanceof PrimeError); return e.message; } return ''; };
  assert.match(err('bad-shape.pt'), /entry features\.conv1\.weight has shape \(64, 12, 3, 3\)/);
  assert.match(err('bad-dtype.pt'), /entry features\.conv0\.scores has dtype int64/);
  assert.match(err('extra.pt'), /entry features\.conv0\.bias matches no layer/);
  assert.match(err('legacy.pt'), /re-save it with torch >= 1\.6 \(zip format\)/);
  assert.throws(() => P.importModel(fs.readFileSync(path.join(root, 'models/random-nmnist.prime'))), /not a checkpoint/);
  // the .npz path of a model, given a .pt, says what it is
  const r = P.loadModel(fs.readFileSync(path.join(root, 'models/random-nmnist.prime')));
  assert.throws(() => r.importNpz(fs.readFileSync(path.join(dir, 'clf.pt'))), /PyTorch checkpoint.*prime import/);
  r.free();
});

test('acceptance: prime import of the authors\' checkpoint vs a torch forward of their equations (200 digits, ideal device)', (t) => {
  const r = spawnSync('/usr/bin/python3', ['scripts/import-check.py', '--ckpt', CKPT, '--json', path.join(build, 'import-check.json')],
    { cwd: root, encoding: 'utf8', env: { ...process.env } });
  process.stdout.write(r.stdout || '');
  if (r.status === 2) {
    if (CI) throw new Error(`the authors' checkpoint is absent (${CKPT}); under CI=true it must be present`);
    t.skip(`the authors' checkpoint is absent (${CKPT})`);
    return;
  }
  assert.equal(r.status, 0, `import-check failed:\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(fs.readFileSync(path.join(build, 'import-check.json'), 'utf8'));
  assert.equal(res.labels_equal, res.n);
  assert.equal(res.steps_equal, res.n);
  assert.ok(res.max_logit_diff_stop <= 1e-4 && res.max_logit_diff_T <= 1e-4);
});

test('the authors\' checkpoint: wasm import, and the saved model file in wasm, give the native outputs bit for bit', (t) => {
  if (!fs.existsSync(CKPT)) {
    if (CI) throw new Error(`the authors' checkpoint is absent (${CKPT}); under CI=true it must be present`);
    t.skip(`the authors' checkpoint is absent (${CKPT}; set PRIME_AUTHORS_CKPT)`);
    return;
  }
  const frames = path.join(build, 'realism/mnist-test-200.pfrm');
  if (!fs.existsSync(frames)) { t.skip('build/realism/mnist-test-200.pfrm is made by the acceptance test above'); return; }
  const native = JSON.parse(execFileSync(path.join(build, 'prime'), ['eval', CKPT, frames, '--ideal', '--stop', '0.8'], { maxBuffer: 1 << 26 }));
  const F = pfrm(frames);
  // the checkpoint imported in wasm, and the model file prime import wrote (the acceptance test above), loaded in wasm
  const saved = path.join(build, 'realism/classification-import.prime');
  const models = [['importModel', P.importModel(fs.readFileSync(CKPT))]];
  if (fs.existsSync(saved)) models.push(['loadModel of the imported model file', P.loadModel(fs.readFileSync(saved))]);
  for (const [how, m] of models) {
    m.setDevice(IDEAL).setRun({ policy: 'confidence', threshold: 0.8 });
    for (let i = 0; i < 20; i++) {
      const r = m.classify(F.sample(i), F.T);
      const s = native.samples[i];
      assert.equal(r.label, s.label, `${how}: sample ${i} label`);
      assert.equal(r.stepsUsed, s.steps, `${how}: sample ${i} steps`);
      for (let k = 0; k < 10; k++) assert.equal(Number(r.logits[k].toPrecision(9)), s.logits[k], `${how}: sample ${i} logit ${k}`);
    }
    m.free();
  }
  assert.equal(models.length, 2, 'prime import wrote the model file');
});
