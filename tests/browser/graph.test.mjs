// graph.test.mjs - layer-graph models on the page (web/userfile.js, web/graphview.js,
// wasm/prime-graph.js; docs/web.md, "Your own model"): a dropped PyTorch checkpoint
// of the PRIME authors' FSVAE opens in Inpainting and its reconstruction is the one
// P.importModel gives in Node bit for bit (so are its saved model file and its
// .npz); the Fashion CNN layout (a logits readout) shows its label in the graph
// card; a bad checkpoint shows the core's message and changes nothing.
import test, { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, skip, setUp, tearDown, open, lab, figure } from './harness.mjs';
import { loadPrime } from '../../wasm/prime.js';
import { parsePsmp, resizeUp, classNames } from '../../web/lib.js';

before(setUp);
after(tearDown);

const DIR = path.join(ROOT, 'build', 'graph-js');
/* The checkpoints of tests/make_graph_js_fixtures.py (torch): true, or a reason to skip. */
function fixtures(t) {
  const mk = spawnSync('/usr/bin/python3', ['tests/make_graph_js_fixtures.py', DIR], { cwd: ROOT, encoding: 'utf8' });
  if (mk.status === 0) return true;
  if (process.env.CI === 'true') assert.fail(`python3-torch is needed (./build.sh setup installs it): ${mk.stderr}`);
  t.skip('python3-torch is not installed');
  return false;
}
const samples = () => parsePsmp(fs.readFileSync(path.join(ROOT, 'web/samples/mnist-test.psmp')));
const drop = (page, name, buffer) => page.setInputFiles('#file', { name, mimeType: 'application/octet-stream', buffer });

/* Waits until Inpainting shows the dropped file `name` with a finished run; its snapshot. */
async function ipShows(page, name, runsAbove = 0) {
  await page.waitForFunction(([f, k]) => {
    const s = window.primeLab.snapshot().inpaint;
    return s.state === 'ready' && s.file === f && s.runs > k && !s.busy;
  }, ['user:' + name, runsAbove], { timeout: 90000 });
  return lab(page);
}

/* What P.importModel(bytes).inpaint gives in Node for the page's sample, hole and read settings. */
async function nodeInpaint(bytes, snap) {
  const P = await loadPrime();
  const m = P.importModel(bytes), sm = samples(), i = snap.inpaint.sample, n = m.size;
  const img = new Float32Array(sm.w * sm.h);
  for (let k = 0; k < img.length; k++) img[k] = sm.pixels[i * sm.w * sm.h + k] / 255;
  const clean = resizeUp(img, sm.w, sm.h, n, n).map((v) => v * 2 - 1);
  const hole = new Uint8Array(n * n), [hx, hy] = snap.inpaint.hole;
  for (let y = hy; y < hy + 8; y++) for (let x = hx; x < hx + 8; x++) hole[y * n + x] = 1;
  const S = snap.settings;
  const r = m.inpaint(clean, { hole, readNoise: S.noise, adcBits: S.adc, earlyStop: S.stop, noiseSeed: S.seed });
  m.free();
  return r;
}

test('a dropped FSVAE checkpoint (.pt) opens in Inpainting: the reconstruction of P.importModel, bit for bit; its model file and .npz too', { skip, timeout: 300000 }, async (t) => {
  if (!fixtures(t)) return;
  const { page, errors } = await open();
  const pt = fs.readFileSync(path.join(DIR, 'fsvae.pt'));
  await drop(page, 'fsvae.pt', pt);
  const s = await ipShows(page, 'fsvae.pt');
  assert.equal(await page.isVisible('#panel-inpaint'), true, 'the Inpainting tab is shown');
  assert.match(await page.textContent('#ip-note'), /fsvae\.pt \(your file\), a layer graph of 35 nodes, tanh readout, 32 x 32, T = 16/);
  assert.equal(s.inpaint.image.length, 32 * 32);
  const want = await nodeInpaint(pt, s);
  assert.equal(s.inpaint.stepsUsed, want.stepsUsed);
  assert.deepEqual(s.inpaint.image, Array.from(want.recon), 'the page shows what the API gives');
  assert.ok(Math.max(...s.inpaint.image) - Math.min(...s.inpaint.image) > 0.01, 'not a flat image');
  assert.match(await page.textContent('#ip-steps'), new RegExp(`^${want.stepsUsed} of 16`));
  await page.locator('#panel-inpaint').screenshot({ path: figure('graph-inpaint.png') });
  // the dataset choice lists it; generation from its prior works
  assert.ok((await page.$$eval('#ip-data option', (o) => o.map((x) => x.value))).includes('user:fsvae.pt'));
  await page.click('#ip-gen');
  await page.waitForFunction(() => { const g = window.primeLab.snapshot().inpaint.gen; return g && g.runs >= 1 && !g.busy; }, null, { timeout: 60000 });
  assert.equal((await lab(page)).inpaint.gen.file, 'user:fsvae.pt');
  // the same network as a graph model file (P.load) and as a compressed .npz (P.importModel): the same picture
  const P = await loadPrime();
  const m = P.importModel(pt), file = Buffer.from(m.save());
  m.free();
  for (const [name, bytes] of [['fsvae-model.prime', file], ['fsvae.npz', fs.readFileSync(path.join(DIR, 'fsvae.npz'))]]) {
    await drop(page, name, bytes);
    const s2 = await ipShows(page, name);
    assert.equal(s2.inpaint.sample, s.inpaint.sample);
    assert.deepEqual(s2.inpaint.image, s.inpaint.image, `${name}: the same reconstruction`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('a dropped Fashion CNN checkpoint shows its label in the graph card; a bad checkpoint changes nothing', { skip, timeout: 240000 }, async (t) => {
  if (!fixtures(t)) return;
  const { page, errors } = await open();
  const before0 = await lab(page);
  const pt = fs.readFileSync(path.join(DIR, 'fashion.pt'));
  await drop(page, 'fashion.pt', pt);
  await page.waitForFunction(() => +(document.body.dataset.gvruns || 0) >= 1, null, { timeout: 60000 });
  assert.equal(await page.isVisible('#gv'), true);
  assert.match(await page.textContent('#gv-desc'), /a layer graph of 10 nodes, logits readout: input 1 x 28 x 28, 10 outputs, T = 1/);
  // the label of P.importModel(...).classify on test picture 0 with the page's settings
  const P = await loadPrime(), f = P.importModel(pt), sm = samples(), S = before0.settings, names = classNames(before0.model === 'nmnist-fashion' ? 'fashion' : 'mnist', 10);
  const pic = (i) => Float32Array.from(sm.pixels.subarray(i * 784, (i + 1) * 784), (v) => v / 255);
  const want = (i) => f.classify(pic(i), { readNoise: S.noise, adcBits: S.adc, earlyStop: S.stop, noiseSeed: S.seed });
  const r0 = want(0);
  assert.match(await page.textContent('#gv-label'), new RegExp(`^${names[r0.label]} \\((right|wrong)\\)`));
  assert.equal(await page.textContent('#gv-true'), names[sm.labels[0]]);
  assert.match(await page.textContent('#gv-energy'), /x (less|more) energy than digital/);
  await page.locator('#gv').screenshot({ path: figure('graph-card.png') });
  await page.click('#gv-next');
  await page.waitForFunction(() => +(document.body.dataset.gvruns || 0) >= 2, null, { timeout: 60000 });
  assert.equal(await page.inputValue('#gv-sample'), '1');
  assert.match(await page.textContent('#gv-label'), new RegExp(`^${names[want(1).label]} `));
  f.free();
  // a truncated checkpoint: the core's message, and the page as it was
  const label = await page.textContent('#gv-label'), n = await page.evaluate(() => +document.body.dataset.gvruns);
  await drop(page, 'broken.npz', fs.readFileSync(path.join(DIR, 'fsvae.npz')).subarray(0, 5000));
  await page.waitForSelector('#error:not([hidden])');
  const msg = await page.textContent('#error');
  assert.match(msg, /Could not use broken\.npz: .{20,}/, msg);
  const after0 = await lab(page);
  assert.equal(after0.model, before0.model, 'the classifier is the one it was');
  assert.equal(after0.inpaint.state, before0.inpaint.state, 'Inpainting as it was');
  assert.equal(await page.textContent('#gv-name'), 'fashion.pt');
  assert.equal(await page.textContent('#gv-label'), label);
  assert.equal(await page.evaluate(() => +document.body.dataset.gvruns), n);
  // a method the graph lacks is never called: no errors beyond the bad file's
  assert.deepEqual(errors.filter((e) => !/broken/.test(e)), []);
  await page.click('#gv-close');
  assert.equal(await page.isVisible('#gv'), false);
  await page.close();
});
