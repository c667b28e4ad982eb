// harness.mjs - the fixtures of the browser tests that import it: a static
// server on 127.0.0.1 (random free port) serving the repository root, Debian
// chromium through playwright-core, and small page helpers.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const HAVE_WASM = fs.existsSync(path.join(ROOT, 'wasm/prime.js')) && fs.existsSync(path.join(ROOT, 'wasm/prime.wasm'));
export const skip = !HAVE_WASM ? 'wasm/prime.wasm not built (make wasm)' : !fs.existsSync(CHROMIUM) ? `no browser at ${CHROMIUM}` : false;
export const FIGURES = path.join(ROOT, 'build/docs-img'); // screenshots (make docs-figures copies them to docs/img/)
export const figure = (name) => { fs.mkdirSync(FIGURES, { recursive: true }); return path.join(FIGURES, name); };

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.png': 'image/png' };

export const H = { base: null, browser: null, server: null, pages: new Map() }; // pages: path -> html served from memory

/* Starts the server and the browser (call from before()). */
export async function setUp() {
  if (skip) return;
  await new Promise((resolve) => {
    H.server = http.createServer((req, res) => {
      const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      if (H.pages.has(p)) { res.writeHead(200, { 'content-type': 'text/html' }); res.end(H.pages.get(p)); return; }
      const f = path.join(ROOT, p.endsWith('/') ? p + 'index.html' : p);
      if (!f.startsWith(ROOT)) { res.writeHead(403); res.end(); return; }
      fs.readFile(f, (err, buf) => {
        if (err) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
        res.writeHead(200, { 'content-type': TYPES[path.extname(f)] || 'application/octet-stream', 'content-length': buf.length });
        res.end(buf);
      });
    });
    H.server.listen(0, '127.0.0.1', () => { H.base = `http://127.0.0.1:${H.server.address().port}`; resolve(); });
  });
  const { chromium } = await import(path.join(ROOT, 'node_modules/playwright-core/index.mjs'));
  H.browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}
/* Closes what setUp started (call from after()). */
export async function tearDown() {
  if (H.browser) await H.browser.close();
  if (H.server) H.server.close();
}

/* A new page that records console errors of the page and its workers. */
export async function newPage(viewport = { width: 1000, height: 900 }, colorScheme = 'light') {
  const page = await H.browser.newPage({ viewport, colorScheme });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') errors.push('worker: ' + m.text()); }));
  return { page, errors };
}

/* Opens the page with query `q` and waits for the first classification result. */
export async function open(q = '', viewport, colorScheme) {
  const { page, errors } = await newPage(viewport, colorScheme);
  await page.goto(`${H.base}/web/${q}`);
  await waitRuns(page, 1);
  return { page, errors };
}

/* Waits until the page has shown at least n classification results. */
export async function waitRuns(page, n, timeout = 30000) {
  await page.waitForFunction((k) => +(document.body.dataset.runs || 0) >= k, n, { timeout });
  return +(await page.evaluate(() => document.body.dataset.runs));
}
export const runs = (page) => page.evaluate(() => +(document.body.dataset.runs || 0));
export const lab = (page) => page.evaluate(() => window.primeLab.snapshot());
/* Waits until no classification is in flight and returns the snapshot. */
export async function settled(page) {
  await page.waitForFunction(() => !window.primeLab.snapshot().busy);
  return lab(page);
}
