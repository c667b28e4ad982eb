// pool.test.mjs - the page's pool of Web Workers (web/pool.js): the results
// of a batch with read noise and early stop equal model.classify one at a
// time, bit for bit, with 3 workers; the model's stream moves on as after the
// sequential calls; a cancel returns a prefix. Run: node --test tests/browser/pool.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { skip, H, setUp, tearDown, newPage } from './harness.mjs';

if (skip && process.env.CI === 'true') test('the browser tests can run (CI=true)', () => assert.fail(skip));
before(setUp);
after(tearDown);

const PAGE = `<!doctype html><meta charset="utf-8"><title>pool</title><link rel="icon" href="data:,"><script type="module">
import { loadPrime } from '../wasm/prime.js';
import { startPool, poolClassify } from './pool.js';
import { parsePsmp } from './lib.js';
window.run = async () => {
  const P = await loadPrime();
  const models = await (await fetch('models.json')).json();
  const entry = models.find((e) => e.file.endsWith('.prime'));
  const bytes = new Uint8Array(await (await fetch('../' + entry.file)).arrayBuffer());
  const sm = parsePsmp(new Uint8Array(await (await fetch('../' + entry.samples)).arrayBuffer()));
  const frames = Array.from({ length: 48 }, (_, i) => {
    const img = new Float32Array(sm.w * sm.h);
    for (let k = 0; k < img.length; k++) img[k] = sm.pixels[i * sm.w * sm.h + k] / 255;
    return P.framesFromImage(img, sm.w, sm.h, 10, sm.eventSeed + sm.indices[i]);
  });
  const m = P.loadModel(bytes).setDevice({ readNoise: 0.05 }).setRun({ policy: 'confidence', threshold: 0.8 });
  m.classify(frames[0]); // the stream does not start at 0: the pool must continue it
  const single = frames.map((f) => m.classify(f));
  const after = m.getInference();
  m.setRun({});
  m.classify(frames[0]);
  const pool = await startPool(3);
  const pooled = await poolClassify(m, frames, 10);
  const next = m.getInference();
  let calls = 0;
  const part = await poolClassify(m, frames, 10, () => ++calls >= 2);
  const text = (rs) => JSON.stringify(rs, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v));
  return { size: pool && pool.size, same: text(pooled) === text(single), after, next, partLen: part.length,
    partNext: m.getInference() - next, stopped: single.filter((r) => r.stepsUsed < 10).length };
};
</script>`;

test('web/pool.js: 3 Web Workers give the single-thread results bit for bit', { skip }, async () => {
  H.pages.set('/web/pool-test.html', PAGE);
  const { page, errors } = await newPage();
  await page.goto(`${H.base}/web/pool-test.html`);
  await page.waitForFunction(() => typeof window.run === 'function');
  const r = await page.evaluate(() => window.run());
  assert.equal(r.size, 3, 'the pool started 3 workers');
  assert.ok(r.stopped > 0, 'early stop took effect on some samples');
  assert.equal(r.same, true, 'pool results = model.classify one at a time');
  assert.equal(r.next, r.after, 'the model stream moved on as after the sequential calls');
  assert.ok(r.partLen < 48, `a cancel returns a prefix (${r.partLen} of 48)`);
  assert.equal(r.partNext, r.partLen, 'after a cancel the stream moved on by the samples returned');
  assert.deepEqual(errors, []);
  await page.close();
});
