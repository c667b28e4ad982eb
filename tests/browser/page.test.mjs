// page.test.mjs - the web page (web/) in a real browser (Debian chromium via
// playwright-core). Run: node --test tests/browser/
//
// Starts its own static server on 127.0.0.1 (random free port) serving the
// repository root, counts the bytes it sends, and drives the page. Writes
// its screenshots to build/docs-img/ (classify, inpaint, phone, crossbar .png)
// and the load measurements (bytes, time to first result) to
// build/web-figures.md; `make docs-figures` copies them into docs/img/ and
// between the "measured" markers of docs/web.md. The tracked files are never
// written by the test run.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HAVE_WASM = fs.existsSync(path.join(ROOT, 'wasm/prime.js')) && fs.existsSync(path.join(ROOT, 'wasm/prime.wasm'));
const HAVE_BROWSER = fs.existsSync(CHROMIUM);
const skip = !HAVE_WASM ? 'wasm/prime.wasm not built (./build.sh wasm)' : !HAVE_BROWSER ? `no browser at ${CHROMIUM}` : false;
const FIGURES = path.join(ROOT, 'build/docs-img'); // screenshots (make docs-figures copies them to docs/img/)
fs.mkdirSync(FIGURES, { recursive: true });
const figure = (name) => path.join(FIGURES, name);
const argmax = (v) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);

// without the wasm core or the browser the tests skip, but under CI=true that is a failure
if (skip && process.env.CI === 'true') test('the browser tests can run (CI=true)', () => assert.fail(skip));

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png' };

let server, base, browser, bytesSent = 0;
const served = [];
const hidden = new Set(); // paths the server pretends not to have

/* ------------------------------------------------------------ fixtures */

function startServer() {
  return new Promise((resolve) => {
    server = http.createServer((req, res) => {
      const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      const f = path.join(ROOT, p.endsWith('/') ? p + 'index.html' : p);
      if (!f.startsWith(ROOT)) { res.writeHead(403); res.end(); return; }
      if (hidden.has(p)) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
      if (p === '/wasm/prime.wasm' && process.env.PRIME_TEST_WASM) { // another build of the core, e.g. to try a new one
        const buf = fs.readFileSync(process.env.PRIME_TEST_WASM);
        res.writeHead(200, { 'content-type': 'application/wasm' }); res.end(buf); return;
      }
      if (p === '/__host.html') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(hostPage()); return; }
      fs.readFile(f, (err, buf) => {
        if (err) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
        bytesSent += buf.length;
        served.push({ path: p, bytes: buf.length });
        res.writeHead(200, { 'content-type': TYPES[path.extname(f)] || 'application/octet-stream', 'content-length': buf.length });
        res.end(req.method === 'HEAD' ? undefined : buf);
      });
    });
    server.listen(0, '127.0.0.1', () => { base = `http://127.0.0.1:${server.address().port}`; resolve(); });
  });
}

before(async () => {
  if (skip) return;
  await startServer();
  const { chromium } = await import(path.join(ROOT, 'node_modules/playwright-core/index.mjs'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
});
after(async () => {
  if (browser) await browser.close();
  if (server) server.close();
});

/* Opens the page with query `q`; collects console errors of page and worker. */
async function open(q = '', viewport = { width: 1000, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') errors.push('worker: ' + m.text()); }));
  await page.goto(`${base}/web/${q}`);
  await waitRuns(page, 1);
  return { page, errors };
}

/* Waits until the page has shown at least n classification results. */
async function waitRuns(page, n, timeout = 30000) {
  await page.waitForFunction((k) => +(document.body.dataset.runs || 0) >= k, n, { timeout });
  return +(await page.evaluate(() => document.body.dataset.runs));
}

const runs = (page) => page.evaluate(() => +(document.body.dataset.runs || 0));
const lab = (page) => page.evaluate(() => window.primeLab.snapshot());

async function modelIds() {
  const list = JSON.parse(fs.readFileSync(path.join(ROOT, 'web/models.json'), 'utf8'));
  return list.filter((e) => fs.existsSync(path.join(ROOT, e.file))).map((e) => path.basename(e.file, '.prime'));
}

/* ------------------------------------------------------------ tests */

test('page loads with no console errors and shows a first result; load is measured', { skip }, async () => {
  bytesSent = 0; served.length = 0;
  const t0 = Date.now();
  const { page, errors } = await open();
  const wall = Date.now() - t0;
  const bytes = bytesSent;
  const files = served.map((s) => `${s.path} ${s.bytes}`);
  const s = await lab(page);
  assert.ok(s.result, 'a result is shown');
  assert.equal(s.result.probs.length, s.result.nClasses);
  assert.equal(s.result.label, argmax(s.result.probs), 'the label is the most probable class');
  const sum = s.result.probs.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-3, `probabilities sum to 1 (${sum})`);
  assert.notEqual(await page.textContent('#pred'), '-');
  assert.match(await page.textContent('#steps'), /\d+ of \d+/);
  assert.match(await page.textContent('#energy'), /x (less|more) energy than digital/);
  assert.equal(s.settings.stop, true, 'early stop is on by default');
  // every control has a label (a <label> or an aria-label)
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map((el) => el.id || el.outerHTML));
  assert.deepEqual(unlabelled, []);
  await page.waitForTimeout(300);
  assert.deepEqual(errors, []);
  const firstMs = await page.evaluate(() => window.primeTiming.firstResultMs);
  // screenshot of the classify view, animation paused on step 3
  await page.click('#play');
  await page.fill('#cursor', '2');
  await page.dispatchEvent('#cursor', 'input');
  await page.screenshot({ path: figure('classify.png'), fullPage: true });
  const os = await import('node:os');
  writeMeasured({ bytes, files, firstMs, wall, model: s.model, cores: os.cpus().length, load: os.loadavg()[0] });
  await page.close();
});

test('a shipped sample classifies with the right label (trained model) or with probabilities (random model)', { skip }, async () => {
  const ids = await modelIds();
  const trained = ids.find((id) => id === 'nmnist-digits');
  const { page } = await open(trained ? '?model=nmnist-digits' : '');
  if (trained) {
    let correct = 0;
    for (let i = 0; i < 10; i++) {
      const n = await runs(page);
      await page.fill('#sample', String(i));
      await page.dispatchEvent('#sample', 'change');
      await waitRuns(page, n + 1);
      const s = await lab(page);
      if (s.result.label === s.truth) correct++;
    }
    assert.ok(correct >= 8, `trained model: ${correct} of 10 samples right`);
  } else {
    const s = await lab(page);
    assert.equal(s.result.probs.length, 10);
    assert.ok(Number.isInteger(s.truth) && s.truth >= 0 && s.truth < 10, `the sample has a true label (${s.truth})`);
    assert.equal(s.result.label, argmax(s.result.probs), 'the label is the most probable class');
    assert.match(await page.textContent('#truth'), /true label/);
  }
  await page.close();
});

test('moving the read-noise slider changes the result', { skip }, async () => {
  const { page } = await open('?sample=1');
  const a = await lab(page);
  const n = await runs(page);
  await page.fill('#noise', '0.5');
  await page.dispatchEvent('#noise', 'input');
  await waitRuns(page, n + 1);
  await page.waitForFunction(() => !window.primeLab.snapshot().busy);
  const b = await lab(page);
  assert.equal(await page.textContent('#noise-o'), '0.50');
  assert.equal(b.settings.noise, 0.5);
  assert.equal(b.settings.prog, a.settings.prog, 'other settings keep their exact values');
  assert.equal(b.settings.th, a.settings.th);
  const diff = a.result.logits.reduce((m, v, i) => Math.max(m, Math.abs(v - b.result.logits[i])), 0);
  assert.ok(diff > 1e-4, `logits changed with read noise 0.5 (max diff ${diff})`);
  // sliders work from the keyboard
  const n1 = await runs(page);
  await page.focus('#noise');
  await page.keyboard.press('ArrowLeft');
  await waitRuns(page, n1 + 1);
  assert.equal(await page.textContent('#noise-o'), '0.49');
  assert.match(await page.textContent('#before'), /before the last change/);
  // and a new chip changes the conductances, so the result too
  const n2 = await runs(page);
  await page.click('#newchip');
  await waitRuns(page, n2 + 1);
  const c = await lab(page);
  assert.notEqual(c.settings.chip, b.settings.chip);
  await page.close();
});

/* Draws strokes (lists of [x, y] in 0..1 of the canvas) with the mouse. */
async function drawStrokes(page, strokes) {
  await page.locator('#draw').scrollIntoViewIfNeeded();
  const box = await page.locator('#draw').boundingBox();
  for (const s of strokes) {
    await page.mouse.move(box.x + s[0][0] * box.width, box.y + s[0][1] * box.height);
    await page.mouse.down();
    for (const [x, y] of s.slice(1)) await page.mouse.move(box.x + x * box.width, box.y + y * box.height, { steps: 6 });
    await page.mouse.up();
  }
}

test('a drawn digit classifies', { skip }, async () => {
  const { page, errors } = await open();
  const n = await runs(page);
  await drawStrokes(page, [[[0.5, 0.15], [0.52, 0.5], [0.5, 0.85]]]);
  await waitRuns(page, n + 1);
  const s = await lab(page);
  assert.equal(s.source, 'image');
  assert.match(await page.textContent('#truth'), /your drawing/);
  assert.equal(s.result.label, argmax(s.result.probs), 'the label is the most probable class');
  const ids = await modelIds();
  assert.equal(ids[0], 'nmnist-digits', 'the page opens on the trained digits model');
  assert.equal(s.result.label, 1, 'a vertical stroke is a 1');
  assert.deepEqual(errors, []);
  await page.close();
});

test('an uploaded PNG classifies (dark on light, inverted by the page)', { skip }, async () => {
  const { page, errors } = await open();
  // a PNG made by the browser's own encoder: a black "7" on white paper
  const png = await page.evaluate(async () => {
    const c = document.createElement('canvas'); c.width = 120; c.height = 120;
    const g = c.getContext('2d');
    g.fillStyle = '#fff'; g.fillRect(0, 0, 120, 120);
    g.strokeStyle = '#000'; g.lineWidth = 12; g.lineCap = 'round';
    g.beginPath(); g.moveTo(30, 25); g.lineTo(90, 25); g.lineTo(50, 100); g.stroke();
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
  assert.deepEqual(png.slice(0, 4), [0x89, 0x50, 0x4e, 0x47]);
  const n = await runs(page);
  await page.setInputFiles('#file', { name: 'seven.png', mimeType: 'image/png', buffer: Buffer.from(png) });
  await waitRuns(page, n + 1);
  const s = await lab(page);
  assert.equal(s.source, 'image');
  assert.match(await page.textContent('#truth'), /seven\.png.*inverted/);
  assert.equal(await page.isVisible('#error'), false);
  assert.equal(s.result.label, argmax(s.result.probs), 'the label is the most probable class');
  const ids = await modelIds();
  assert.equal(ids[0], 'nmnist-digits', 'the page opens on the trained digits model');
  assert.equal(s.result.label, 7, 'the trained model reads the 7');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a bad file dropped on the page shows an error and the page keeps working', { skip }, async () => {
  const { page } = await open();
  for (const name of ['broken.png', 'broken.prime']) {
    await page.evaluate((nm) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])], nm, { type: 'application/octet-stream' }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, name);
    await page.waitForSelector('#error:not([hidden])');
    const msg = await page.textContent('#error');
    assert.match(msg, new RegExp(name.replace('.', '\\.')), msg);
    assert.ok(msg.length > name.length + 20, 'the message says why: ' + msg);
  }
  const n = await runs(page);
  await page.click('#next');
  await waitRuns(page, n + 1);
  const s = await lab(page);
  assert.equal(s.source, 'sample');
  assert.equal(s.sample, 1);
  assert.equal(await page.isVisible('#error'), false, 'the error goes away with the next input');
  // a good .prime file dropped on the page becomes the current model
  const bytes = Array.from(fs.readFileSync(path.join(ROOT, 'models/random-nmnist.prime')));
  const n2 = await runs(page);
  await page.evaluate((b) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(b)], 'mine.prime'));
    document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, bytes);
  await waitRuns(page, n2 + 1);
  assert.equal((await lab(page)).model, 'mine');
  assert.equal(await page.inputValue('#model'), 'mine');
  assert.match(await page.textContent('#status'), /Loaded your model mine\.prime/);
  await page.close();
});

/* The 248-byte .prime of docs/model-format.md "Limits" (FC 1000x1000 -> 4096 -> 10,
 * 4.1e9 cells, size field and CRC correct), which once overwrote wasm memory. */
function craftedBigFc() {
  const digits = fs.readFileSync(path.join(ROOT, 'models/nmnist-digits.prime'));
  const b = Buffer.alloc(248);
  b.write('PRIMEMDL', 0, 'latin1');
  [1, 248, 0, 10, 1, 1000, 1000, 10, 2].forEach((v, i) => b.writeUInt32LE(v, 8 + 4 * i));
  [[2, 4096, 1, 1, 0, 1], [2, 10, 1, 1, 0, 2]].forEach((l, i) => {
    l.forEach((v, j) => b.writeUInt32LE(v, 44 + 44 * i + 4 * j));
    [0.2, 0.8, 0.1, 0.01, 0.5].forEach((v, j) => b.writeFloatLE(v, 44 + 44 * i + 24 + 4 * j));
  });
  digits.copy(b, 132, 44 + 5 * 44, 44 + 5 * 44 + 112); // device and run of the shipped model
  let c = ~0;
  for (let i = 0; i < 244; i++) { c ^= b[i]; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); }
  b.writeUInt32LE(~c >>> 0, 244);
  return b;
}

test('a crafted .prime uploaded shows the cap error, and the page then classifies exactly as before', { skip }, async () => {
  const ids = await modelIds();
  const { page, errors } = await open(ids.includes('nmnist-digits') ? '?model=nmnist-digits' : '');
  const before = await lab(page);
  await page.setInputFiles('#file', { name: 'crafted.prime', mimeType: 'application/octet-stream', buffer: craftedBigFc() });
  await page.waitForSelector('#error:not([hidden])');
  const msg = await page.textContent('#error');
  assert.match(msg, /crafted\.prime/, msg);
  assert.match(msg, /above the cap/, msg);
  // the same sample again (away and back): same model, same result, bit for bit
  for (const i of ['1', String(before.sample)]) {
    const n = await runs(page);
    await page.fill('#sample', i);
    await page.dispatchEvent('#sample', 'change');
    await waitRuns(page, n + 1);
  }
  const after = await lab(page);
  assert.equal(after.model, before.model);
  assert.equal(after.result.label, before.result.label);
  assert.deepEqual(after.result.logits, before.result.logits);
  if (ids.includes('nmnist-digits')) assert.equal(after.result.label, after.truth, 'sample classified correctly');
  assert.deepEqual(errors.filter((e) => !/crafted/.test(e)), []);
  await page.close();
});

test('a dropped PyTorch checkpoint (.pt) is imported and becomes the current model', { skip }, async (t) => {
  // tests/make_import_fixtures.py writes clf.pt: the PRIME authors' classification layout, random
  const dir = path.join(ROOT, 'build/import-fixtures');
  const { spawnSync } = await import('node:child_process');
  const mk = spawnSync('/usr/bin/python3', ['tests/make_import_fixtures.py', dir], { cwd: ROOT, encoding: 'utf8' });
  if (mk.status !== 0) {
    if (process.env.CI === 'true') assert.fail(`python3-torch is needed (./build.sh setup installs it): ${mk.stderr}`);
    t.skip('python3-torch is not installed'); return;
  }
  const { page, errors } = await open();
  const n = await runs(page);
  await page.setInputFiles('#file', { name: 'clf.pt', mimeType: 'application/octet-stream', buffer: fs.readFileSync(path.join(dir, 'clf.pt')) });
  await waitRuns(page, n + 1);
  const s = await lab(page);
  assert.equal(s.model, 'clf');
  assert.equal(s.result.logits.length, 10);
  await page.setInputFiles('#file', { name: 'bad-shape.pt', mimeType: 'application/octet-stream', buffer: fs.readFileSync(path.join(dir, 'bad-shape.pt')) });
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /features\.conv1\.weight has shape \(64, 12, 3, 3\)/);
  assert.deepEqual(errors.filter((e) => !/bad-shape/.test(e)), []);
  await page.close();
});

test('inpainting tab: results with the inpainting core, else a clear not-available state', { skip }, async () => {
  const { page, errors } = await open('?task=inpaint');
  assert.equal(await page.isVisible('#panel-inpaint'), true);
  assert.equal(await page.isVisible('#panel-classify'), false);
  await page.waitForFunction(() => ['ready', 'na'].includes(window.primeLab.snapshot().inpaint.state), null, { timeout: 60000 });
  const st = (await lab(page)).inpaint.state;
  if (st === 'na') {
    // a core without the inpainting API, or no model file: say so, show nothing made up
    assert.match(await page.textContent('#inpaint-na'), /not available/);
    assert.match(await page.textContent('#inpaint-reason'), /Why: .+/);
    assert.equal(await page.isVisible('#inpaint-view'), false);
  } else {
    await page.waitForFunction(() => window.primeLab.snapshot().inpaint.runs >= 1, null, { timeout: 60000 });
    const a = (await lab(page)).inpaint;
    assert.ok(a.stepsUsed >= 1 && a.stepsUsed <= a.T, `steps ${a.stepsUsed} of ${a.T}`);
    assert.equal(a.m.length, a.stepsUsed);
    assert.match(await page.textContent('#ip-steps'), new RegExp(`^${a.stepsUsed} of ${a.T}`));
    assert.match(await page.textContent('#ip-mse'), /MSE \d/);
    // the hole moves from the keyboard and the image is inpainted again
    await page.focus('#ip-input');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction((k) => window.primeLab.snapshot().inpaint.runs > k, a.runs);
    const b = (await lab(page)).inpaint;
    assert.deepEqual(b.hole, [a.hole[0] + 1, a.hole[1]]);
    await page.locator('#panel-inpaint').screenshot({ path: figure('inpaint.png') });
    // settings act here too: no early stop runs all T steps
    await page.uncheck('#stop');
    await page.waitForFunction(() => { const s = window.primeLab.snapshot().inpaint; return !s.busy && s.stepsUsed === s.T; }, null, { timeout: 30000 });
  }
  assert.deepEqual(errors, []);
  // tabs work from the keyboard
  await page.focus('#tab-inpaint');
  await page.keyboard.press('Home');
  assert.equal(await page.getAttribute('#tab-classify', 'aria-selected'), 'true');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isVisible('#panel-batch'), true);
  await page.close();
});

/* Waits until the inpainting view settled on `dataset` (ready or not available). */
async function ipSettled(page, dataset) {
  await page.waitForFunction((d) => { const s = window.primeLab.snapshot().inpaint; return s.dataset === d && ['ready', 'na'].includes(s.state); },
    dataset, { timeout: 60000 });
  return (await lab(page)).inpaint;
}

test('inpainting tab: generate from the prior (a new seed per press), dataset choice', { skip }, async () => {
  const { page, errors } = await open('?task=inpaint');
  await page.waitForFunction(() => ['ready', 'na'].includes(window.primeLab.snapshot().inpaint.state), null, { timeout: 60000 });
  if ((await lab(page)).inpaint.state === 'na') { await page.close(); return; } // covered by the test above
  // generate: an image, per-step images, the seed moves on with every press (mouse, then keyboard)
  assert.equal(await page.isVisible('#ip-genimg'), false, 'nothing generated before the first press');
  await page.click('#ip-gen');
  await page.waitForFunction(() => { const g = window.primeLab.snapshot().inpaint.gen; return g && g.runs >= 1 && !g.busy; }, null, { timeout: 60000 });
  const g1 = (await lab(page)).inpaint.gen;
  assert.equal(g1.seed, 1);
  assert.equal(g1.image.length, 32 * 32);
  assert.ok(g1.image.every((v) => v >= -1 && v <= 1));
  assert.ok(Math.max(...g1.image) - Math.min(...g1.image) > 0.5, 'the generated image is not flat');
  assert.equal(await page.isVisible('#ip-genimg'), true);
  assert.equal(await page.textContent('#ip-genseed'), '1');
  assert.match(await page.textContent('#ip-gensteps'), new RegExp(`^${g1.stepsUsed} of ${g1.T}`));
  assert.match(await page.textContent('#ip-genenergy'), /x (less|more) energy than digital/);
  const grey = await page.evaluate(() => {
    const c = document.getElementById('ip-genimg'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const v = new Set(); for (let i = 0; i < d.length; i += 4) v.add(d[i]);
    return v.size;
  });
  assert.ok(grey > 4, `the canvas shows the image (${grey} grey levels)`);
  await page.focus('#ip-gen');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => { const g = window.primeLab.snapshot().inpaint.gen; return g.runs >= 2 && !g.busy; }, null, { timeout: 60000 });
  const g2 = (await lab(page)).inpaint.gen;
  assert.equal(g2.seed, 2);
  const diff = g2.image.reduce((m, v, i) => m + Math.abs(v - g1.image[i]), 0);
  assert.ok(diff > 1, `seed 2 gives another image (sum |diff| ${diff})`);
  // the step slider shows earlier steps
  await page.fill('#ip-gencursor', '0');
  await page.dispatchEvent('#ip-gencursor', 'input');
  assert.match(await page.textContent('#ip-gencap'), /after step 1$/);
  // dataset choice: Fashion-MNIST works if its model is here, else says clearly that it is missing
  const labels = await page.$$eval('#ip-data option', (os) => os.map((o) => o.textContent));
  assert.deepEqual(labels, ['MNIST digits', 'Fashion-MNIST']);
  const fashion = fs.existsSync(path.join(ROOT, 'models/inpaint-fashion.pvae'));
  const runs0 = (await lab(page)).inpaint.runs;
  await page.selectOption('#ip-data', 'fashion');
  const f = await ipSettled(page, 'fashion');
  if (fashion) {
    assert.equal(f.state, 'ready');
    await page.waitForFunction((k) => window.primeLab.snapshot().inpaint.runs > k, runs0, { timeout: 60000 });
    assert.equal((await lab(page)).inpaint.file, 'models/inpaint-fashion.pvae');
    assert.equal((await lab(page)).inpaint.gen, null, 'the other model\'s generated image is not kept');
    assert.match(await page.textContent('#ip-note'), /inpaint-fashion\.pvae/);
  } else {
    assert.equal(f.state, 'na');
    assert.match(await page.textContent('#inpaint-reason'), /inpaint-fashion\.pvae: the model file is missing/);
    assert.equal(await page.isVisible('#inpaint-view'), false);
  }
  assert.equal(await page.isVisible('#ip-data'), true, 'the dataset choice stays');
  // and back, from the keyboard
  await page.focus('#ip-data');
  await page.keyboard.press('ArrowUp');
  const m = await ipSettled(page, 'mnist');
  assert.equal(m.state, 'ready');
  assert.equal(await page.isVisible('#inpaint-view'), true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('inpainting tab: a missing Fashion-MNIST model gives a clear message, not a broken page', { skip }, async () => {
  hidden.add('/models/inpaint-fashion.pvae');
  try {
    const { page, errors } = await open('?task=inpaint');
    await page.waitForFunction(() => ['ready', 'na'].includes(window.primeLab.snapshot().inpaint.state), null, { timeout: 60000 });
    if ((await lab(page)).inpaint.state === 'ready') {
      await page.selectOption('#ip-data', 'fashion');
      assert.equal((await ipSettled(page, 'fashion')).state, 'na');
      assert.match(await page.textContent('#inpaint-na'), /not available/);
      assert.match(await page.textContent('#inpaint-reason'), /models\/inpaint-fashion\.pvae: the model file is missing \(HTTP 404\)/);
      await page.selectOption('#ip-data', 'mnist');
      assert.equal((await ipSettled(page, 'mnist')).state, 'ready');
    }
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    hidden.delete('/models/inpaint-fashion.pvae');
  }
});

test('embed parameters take effect and the layout fits 700 px and a 375 px phone', { skip }, async () => {
  const q = '?embed=1&sample=3&noise=0.1&stop=1&th=0.6&T=12&adc=8';
  for (const width of [700, 375]) {
    const { page, errors } = await open(q, { width, height: 800 });
    const s = await lab(page);
    assert.equal(await page.evaluate(() => document.body.classList.contains('embed')), true);
    assert.equal(await page.isVisible('h1'), false);
    assert.equal(s.sample, 3);
    assert.equal(s.settings.noise, 0.1);
    assert.equal(s.settings.stop, true);
    assert.equal(s.settings.th, 0.6);
    assert.equal(s.settings.adc, 8);
    assert.equal(s.result.T, 12);
    assert.equal(await page.inputValue('#sample'), '3');
    assert.equal(await page.isChecked('#stop'), true);
    const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(over <= 0, `no horizontal scroll at ${width} px (overflow ${over} px)`);
    if (width === 375) await page.screenshot({ path: figure('phone.png'), fullPage: false });
    assert.deepEqual(errors, []);
    await page.close();
  }
  // the full layout on a phone scrolls only vertically too
  const { page } = await open('', { width: 375, height: 800 });
  const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(over <= 0, `full layout: no horizontal scroll at 375 px (overflow ${over} px)`);
  // "Copy link" writes a URL that brings the same view back
  const n = await runs(page);
  await page.click('#tosettings'); // folded on a phone; the outcome card opens them
  await page.fill('#noise', '0.2');
  await page.dispatchEvent('#noise', 'input');
  await page.fill('#sample', '7');
  await page.dispatchEvent('#sample', 'change');
  await waitRuns(page, n + 1);
  await page.click('#copylink');
  const link = await page.inputValue('#linkout');
  assert.match(link, /noise=0\.2/);
  assert.match(link, /sample=7/);
  await page.close();
  const again = await open(link.slice(link.indexOf('?')));
  const s2 = await lab(again.page);
  assert.equal(s2.settings.noise, 0.2);
  assert.equal(s2.sample, 7);
  await again.page.close();
});

test('batch: evaluation, cancel, and the threshold sweep agrees with a real early-stop run', { skip }, async () => {
  const { page, errors } = await open('?task=batch&stop=1&th=0.8');
  await page.selectOption('#batchn', '50');
  await page.click('#runbatch');
  await page.waitForFunction(() => /^eval-/.test(document.body.dataset.batch || ''), null, { timeout: 120000 });
  const ev = (await lab(page)).batch.eval;
  assert.equal(ev.n, 50);
  assert.match(await page.textContent('#b-acc'), /%/);
  // one pass without early stop, thresholds applied afterwards: the 0.8 point must equal the real run
  await page.click('#sweepth');
  await page.waitForFunction(() => /^threshold-/.test(document.body.dataset.batch || ''), null, { timeout: 120000 });
  const th = (await lab(page)).batch.th;
  const p8 = th.points.find((p) => p.threshold === 0.8);
  assert.equal(p8.accuracy, ev.accuracy, 'accuracy at threshold 0.8');
  assert.ok(Math.abs(p8.meanSteps - ev.meanSteps) < 1e-9, `mean steps at 0.8: ${p8.meanSteps} vs ${ev.meanSteps}`);
  // cancel a read-noise sweep early
  await page.selectOption('#batchn', '300');
  await page.click('#sweepnoise');
  await page.waitForFunction(() => document.getElementById('progress').value > 0, null, { timeout: 60000 });
  await page.click('#cancel');
  await page.waitForFunction(() => /^noise-/.test(document.body.dataset.batch || ''), null, { timeout: 60000 });
  assert.equal(await page.evaluate(() => document.body.dataset.batch), 'noise-cancelled');
  assert.equal(await page.isDisabled('#cancel'), true);
  assert.equal(await page.isDisabled('#runbatch'), false);
  assert.deepEqual(errors, []);
  await page.close();
});

test('crossbar view draws the arrays and the tiling', { skip }, async () => {
  const { page, errors } = await open('?task=crossbar');
  await page.waitForFunction(() => window.primeLab.snapshot().arrayShown != null);
  await page.selectOption('#arraysel', '1'); // the second conv layer: the fullest array
  await page.waitForFunction(() => window.primeLab.snapshot().arrayShown === 1);
  const s = await lab(page);
  const { loadPrime } = await import(path.join(ROOT, 'wasm/prime.js'));
  const entry = JSON.parse(fs.readFileSync(path.join(ROOT, 'web/models.json'), 'utf8')).find((e) => fs.existsSync(path.join(ROOT, e.file)));
  const model = (await loadPrime()).loadModel(fs.readFileSync(path.join(ROOT, entry.file)));
  assert.equal(s.totalArrays, model.totalArrays(), 'the page shows every array of the model');
  assert.equal(s.totalArrays, model.tiling().reduce((a, t) => a + (t ? t.arrays : 0), 0));
  model.free();
  const rows = await page.locator('#tiling tbody tr').count();
  assert.equal(rows, s.layers);
  assert.match(await page.textContent('#xbarnote'), /cells in use/);
  const nonBlack = await page.evaluate(() => {
    const c = document.getElementById('xbar'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let k = 0; for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 120) k++;
    return k;
  });
  assert.ok(nonBlack > 100, 'the heat map shows cells');
  await page.screenshot({ path: figure('crossbar.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('without the wasm core the page says what is missing', { skip }, async () => {
  for (const missing of ['/wasm/prime.wasm', '/wasm/prime.js']) {
    hidden.add(missing);
    const page = await browser.newPage();
    try {
      await page.goto(`${base}/web/`);
      await page.waitForSelector('#error:not([hidden])', { timeout: 20000 });
      const msg = await page.textContent('#error');
      assert.match(msg, /prime\.(wasm|js)|build\.sh wasm/, msg);
    } finally {
      hidden.delete(missing);
      await page.close();
    }
  }
});

/* A host page made of the <iframe> snippet of docs/web.md, pointed at this server. */
function hostPage() {
  const doc = fs.readFileSync(path.join(ROOT, 'docs/web.md'), 'utf8');
  const m = doc.match(/```html\n([\s\S]*?)```/);
  const snippet = m ? m[1].replace('https://YOUR-HOST/prime-sim', base) : '<p>no snippet in docs/web.md</p>';
  return `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>host</title><body style="width:700px">\n${snippet}</body>`;
}

test('the <iframe> snippet of docs/web.md embeds the page and fits its height', { skip }, async () => {
  const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(`${base}/__host.html`);
  const frame = await (await page.waitForSelector('#prime-lab')).contentFrame();
  await frame.waitForFunction(() => +(document.body.dataset.runs || 0) >= 1, null, { timeout: 30000 });
  const s = await frame.evaluate(() => window.primeLab.snapshot());
  assert.equal(s.sample, 3);
  assert.equal(s.settings.noise, 0.1);
  await page.waitForFunction(() => {
    const f = document.getElementById('prime-lab');
    return f.style.height && Math.abs(parseInt(f.style.height, 10) - f.contentDocument.documentElement.scrollHeight) < 4;
  }, null, { timeout: 10000 });
  assert.equal(await frame.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true);
  assert.deepEqual(errors, []);
  await page.close();
});

/* ------------------------------------------------------------ measurements */

function writeMeasured(m) {
  const kb = (b) => (b / 1024).toFixed(1) + ' KiB';
  const text = [
    '<!-- measured:start (written by tests/browser/page.test.mjs; make docs-figures) -->',
    `Measured ${new Date().toISOString().slice(0, 10)} by \`node --test tests/browser/\` (headless Debian chromium, ` +
      `local server, no cache, ${m.cores}-core machine with load average ${m.load.toFixed(1)}, model \`${m.model}\`):`,
    '',
    `- bytes transferred until the first result: **${kb(m.bytes)}** in ${m.files.length} files`,
    `- time to first result (navigation start to the first drawn result): **${Math.round(m.firstMs)} ms**`,
    '',
    '| file | bytes |', '|---|---:|',
    ...m.files.map((f) => { const [p, b] = f.split(' '); return `| ${p} | ${b} |`; }),
    '<!-- measured:end -->',
  ].join('\n');
  console.log(text);
  fs.writeFileSync(path.join(ROOT, 'build/web-figures.md'), text + '\n');
}
