// reprune.test.mjs - wasm/prime-train.js (the page's re-pruning trainer) in Node:
// the shipped masks on their own chip, a few batches on a new chip, the masks
// carried into the simulator (wasm/prime.js), and errors with their messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadTrainer } from '../../wasm/prime-train.js';
import { loadPrime } from '../../wasm/prime.js';
import { parsePsmp } from '../../web/lib.js';

const root = new URL('../../', import.meta.url);
const model = readFileSync(new URL('models/nmnist-digits.prime', root));
const train = parsePsmp(readFileSync(new URL('web/samples/mnist-train.psmp', root)));
const testSet = parsePsmp(readFileSync(new URL('web/samples/mnist-test.psmp', root)));

test('prime-train.js: shipped masks, a short run on a new chip, masks into the simulator', async () => {
  const T = await loadTrainer();
  const ref = T.create(model, { chipSeed: 1, warm: true });
  ref.addImages('test', testSet, 50);
  assert.ok(ref.evaluate('test').acc >= 0.9, 'the shipped masks on chip #1');
  ref.free();
  assert.throws(() => ref.evaluate(), /already freed/);

  const tr = T.create(model, { chipSeed: 2, lr: 1e-2, batch: 16, epochs: 1 });
  tr.addImages('train', train, 48);
  tr.addImages('test', testSet, 50);
  const before = tr.evaluate('test');
  assert.ok(before.acc < 0.4, `a new chip with fresh scores is near chance: ${before.acc}`);
  let s = tr.step(1);
  assert.deepEqual([s.done, s.total, s.epoch, s.epochs, s.perEpoch, s.left], [1, 3, 1, 1, 3, 2]);
  assert.ok(Number.isFinite(s.loss) && s.loss > 0 && s.lr > 0);
  s = tr.step(10);
  assert.equal(s.left, 0);
  const masks = tr.masks();
  assert.deepEqual(masks.map((m) => m.layer), [0, 2, 4]);
  // the simulator takes them: same sizes, and the chip's kept fraction stays one half
  const P = await loadPrime();
  const m = P.loadModel(model);
  m.setDevice({ chipSeed: 2 });
  for (const { layer, mask } of masks) {
    m.setMask(layer, mask);
    assert.deepEqual(m.getMask(layer), mask);
    const kept = mask.reduce((a, v) => a + v, 0);
    assert.equal(kept, mask.length - Math.floor(mask.length / 2));
  }
  m.free();
  tr.free();
});

test('prime-train.js: the Fashion model (conv1 24 channels) re-prunes on its own widths', async () => {
  const fashion = readFileSync(new URL('models/nmnist-fashion.prime', root));
  const ftest = parsePsmp(readFileSync(new URL('web/samples/fashion-test.psmp', root)));
  const T = await loadTrainer();
  const ref = T.create(fashion, { chipSeed: 1, warm: true });
  ref.addImages('test', ftest, 50);
  // the shipped masks on their own chip: the trainer's network is the model's (88 % on the full test set)
  const { acc } = ref.evaluate('test');
  assert.ok(acc >= 0.7, `the shipped Fashion masks on chip #1: ${acc}`);
  const P = await loadPrime();
  const m = P.loadModel(fashion);
  for (const { layer, mask } of ref.masks()) assert.deepEqual(mask, m.getMask(layer), `layer ${layer}`);
  m.free();
  ref.free();
});

test('prime-train.js: bad input gets a message', async () => {
  const T = await loadTrainer();
  assert.throws(() => T.create(model.subarray(0, 100), { chipSeed: 2 }), /^Error: create: .+/);
  assert.throws(() => T.create(model, { chipSeed: -1 }), /chipSeed must be an integer/);
  assert.throws(() => T.create(model, { chipSeed: 2, lr: 0 }), /lr > 0/);
  const tr = T.create(model, { chipSeed: 2 });
  assert.throws(() => tr.step(1), /no training images/);
  assert.throws(() => tr.evaluate('test'), /nothing to evaluate/);
  assert.throws(() => tr.addImages('valid', testSet), /'train' or 'test'/);
  const bad = { ...testSet, n: 1, labels: Uint8Array.of(10) };
  assert.throws(() => tr.addImages('test', bad), /label 10/);
  tr.free();
});
