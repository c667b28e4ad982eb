// app.js - the PRIME lab page: controls, views and plots. All simulation runs in
// worker.js (a module worker that owns the wasm core); this file only sends it
// requests and draws the answers. State lives in `S` (settings) and `V` (view).

import { drawFrame, drawGray, drawRaster, drawBars, linePlot } from './plots.js';
import { classNames, centerDigit } from './lib.js';
import { initReprune, REPRUNE_OPTS } from './reprune.js';
import { drawCompare } from './compare.js';
import { initDevice, deviceUrl } from './devpanel.js';
import { initCrossbar } from './crossbar.js';
import { initInpaint } from './inpaint.js';
import { initUserFiles } from './userfile.js';
import { initGraphView } from './graphview.js';
import { initBatch } from './batch.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const t0 = performance.now();

/* ------------------------------------------------------------ worker RPC */

// index.html starts the worker in its <head> so that the core loads while this
// module is still being fetched; the fallback covers pages that do not.
const worker = window.primeWorker || new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 1;

/* Sends a request; resolves with the reply, rejects with an Error carrying the
 * worker's message. onProgress(done, total) is called for progress messages. */
function call(type, payload = {}, onProgress) {
  const id = nextId++;
  if (workerDead) return Promise.reject(new Error(workerDead));
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ ...payload, id, type });
  });
}
worker.onmessage = (ev) => {
  const m = ev.data, p = pending.get(m.id);
  if (!p) return;
  if (m.type === 'progress') { p.onProgress && p.onProgress(m.done, m.total); return; }
  pending.delete(m.id);
  if (m.type === 'error') p.reject(new Error(m.message)); else p.resolve(m);
};
let workerDead = null; // the message, once the worker has failed to start
function workerFailed(detail) {
  workerDead = 'the simulator core could not start (wasm/prime.js or wasm/prime.wasm missing or broken; run ./build.sh wasm)' +
    (detail ? ': ' + detail : '');
  if (!pending.size) fail(workerDead[0].toUpperCase() + workerDead.slice(1));
  for (const p of pending.values()) p.reject(new Error(workerDead));
  pending.clear();
}
worker.onerror = (ev) => { ev.preventDefault(); workerFailed(ev.message); };
if (window.primeWorkerError) workerFailed(window.primeWorkerError);

/* ------------------------------------------------------------ state */

const S = {};              // settings (the controls)
const V = {                // what the page shows
  models: [], info: null, samples: null, names: [],
  source: null, last: null, cursor: 0, playing: true, runs: 0,
  defaults: null, tab: 'classify', busy: false, queued: false,
  batch: { eval: null, noise: null, th: null }, array: 0,
};

const cssVar = (name, fallback) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
function setStatus(s) { $('status').textContent = s; }
function fail(msg) { const e = $('error'); e.textContent = msg; e.hidden = false; setStatus(''); }
/* The batch stats no longer match the settings (batch.js); a no-op before the tab is set up. */
let batchView = null;
function invalidateBatch(force) { if (batchView) batchView.invalidateBatch(force); }
function drawBatchPlots() { if (batchView) batchView.drawBatchPlots(); }
function clearError() { $('error').hidden = true; $('error').textContent = ''; }

/* Settings as the worker wants them. */
function workerSettings() {
  return {
    device: { readNoise: S.noise, progNoise: S.prog, gOff: S.goff, adcBits: S.adc, stuckOn: S.stuckon, stuckOff: S.stuckoff, chipSeed: S.chip },
    options: S.dev, // device option keys that differ from the model's (devpanel.js)
    run: { policy: S.stop ? 'confidence' : 'none', threshold: S.th, alpha: S.alpha, noiseSeed: S.seed },
  };
}

/* ------------------------------------------------------------ controls */

const SLIDERS = [
  // id, key in S, format
  ['noise', 'noise', (v) => v.toFixed(2)],
  ['prog', 'prog', (v) => +v.toFixed(4) + ''],
  ['goff', 'goff', (v) => v.toFixed(2)],
  ['stuckon', 'stuckon', (v) => (v * 100).toFixed(1) + '%'],
  ['stuckoff', 'stuckoff', (v) => (v * 100).toFixed(1) + '%'],
  ['th', 'th', (v) => v.toFixed(2)],
  ['alpha', 'alpha', (v) => v.toFixed(1)],
  ['T', 'T', (v) => String(v)],
];

function showControls() {
  for (const [id, key, fmt] of SLIDERS) {
    const el = $(id);
    if (+el.max < S[key]) el.max = String(S[key]);
    el.value = String(S[key]);
    $(id + '-o').textContent = fmt(S[key]);
  }
  $('adc').value = String(S.adc);
  if ($('adc').value !== String(S.adc)) { // a resolution not in the list
    const o = document.createElement('option'); o.textContent = String(S.adc); $('adc').append(o); $('adc').value = String(S.adc);
  }
  $('stop').checked = S.stop;
  $('th').disabled = $('alpha').disabled = !S.stop;
  $('chipno').textContent = 'chip #' + S.chip;
  showChipNote();
  $('cursor').max = String(S.T - 1);
}

/* Reads the one control that changed (the others keep their exact values:
 * a slider would round the model's float32 defaults to its step). */
function readControl(el) {
  const sl = SLIDERS.find(([id]) => id === el.id);
  if (sl) {
    const [id, key, fmt] = sl;
    S[key] = key === 'T' ? parseInt(el.value, 10) : parseFloat(el.value);
    $(id + '-o').textContent = fmt(S[key]);
  } else if (el.id === 'adc') S.adc = parseInt(el.value, 10);
  else if (el.id === 'stop') S.stop = el.checked;
  $('th').disabled = $('alpha').disabled = !S.stop;
  $('cursor').max = String(S.T - 1);
}

function defaultsFromModel(info) {
  const d = info.device, r = info.run;
  return {
    noise: d.readNoise, prog: d.progNoise, goff: d.gOff, adc: d.adcBits, stuckon: d.stuckOn, stuckoff: d.stuckOff,
    // early stop starts on (PRIME's input-aware stop, arXiv 2407.18625) whatever the file says
    chip: Number(d.chipSeed), stop: true, th: r.threshold, alpha: r.alpha,
    T: info.arch.T, seed: Number(r.noiseSeed) || 1, dev: {},
  };
}

/* URL parameters override the model's defaults once, at start. */
function applyUrl() {
  const num = (k, key, lo, hi) => {
    if (!params.has(k)) return;
    const v = Number(params.get(k));
    if (Number.isFinite(v)) S[key] = Math.min(hi, Math.max(lo, v));
  };
  num('noise', 'noise', 0, 0.5); num('prog', 'prog', 0, 0.5); num('goff', 'goff', 0, 100);
  num('adc', 'adc', 0, 16); num('stuckon', 'stuckon', 0, 0.1); num('stuckoff', 'stuckoff', 0, 0.2);
  num('th', 'th', 0.3, 0.99); num('alpha', 'alpha', 0.5, 5); num('T', 'T', 1, 30); num('chip', 'chip', 0, 2 ** 31);
  if (params.has('stop')) S.stop = params.get('stop') === '1' || params.get('stop') === 'true';
  S.adc = Math.round(S.adc); S.T = Math.round(S.T); S.chip = Math.round(S.chip);
}

function onControl(e) {
  readControl(e.target);
  schedule(); invalidateBatch();
  if (V.tab === 'crossbar') showArray();
  if (V.tab === 'inpaint') refreshInpaint();
}

for (const [id] of SLIDERS) $(id).addEventListener('input', onControl);
$('adc').addEventListener('change', onControl);
$('stop').addEventListener('change', onControl);
/* Sets the chip seed and redraws what depends on it. */
function setChip(seed) {
  S.chip = seed;
  showControls(); schedule(); invalidateBatch();
  if (V.tab === 'crossbar') showArray();
  reprune.update();
}
$('newchip').addEventListener('click', () => setChip((S.chip + 1) % 2 ** 31)); // the next chip: easy to cite as ?chip=N
$('chipback').addEventListener('click', async () => { await reprune.restore(); setChip(V.defaults.chip); });
const reprune = initReprune({ // "Re-prune for this chip" (reprune.js)
  call, chip: () => S.chip, entry: () => V.info && V.info.entry, defaultChip: () => V.defaults && V.defaults.chip,
  changed: () => { showChipNote(); schedule(); invalidateBatch(); if (V.tab === 'crossbar') showArray(); },
});

const devPanel = initDevice({ // the device effects of P.deviceOptions() (devpanel.js)
  call, S, setStatus, showControls, defaults: () => V.defaults,
  changed: () => { schedule(); invalidateBatch(); if (V.tab === 'crossbar') showArray(); if (V.tab === 'inpaint') refreshInpaint(); },
});

/* The lasting note while the chip is not the one the masks were trained for. */
function showChipNote() {
  const d = V.defaults, other = d && S.chip !== d.chip;
  const fit = typeof reprune !== 'undefined' && reprune.fittedFor();
  const text = other && fit === S.chip ? `Chip #${S.chip}: new random conductances, and masks re-pruned for it in this tab ` +
    `(the shipped ones were trained for chip #${d.chip}, which "Back to chip #${d.chip}" restores).` : other ? `Chip #${S.chip}: new random conductances, but the masks were trained for chip #${d.chip}, so ` +
    'they no longer fit: expect near-chance accuracy (run Batch). In PRIME the masks are chosen for each chip; ' +
    `"Back to chip #${d.chip}" restores the trained one.` : '';
  for (const id of ['chipnote', 'chipwarn']) { $(id).hidden = !other; $(id).textContent = text; }
  $('chipback').hidden = !other;
  if (d) $('chipback').textContent = `Back to chip #${d.chip}`;
}
$('reread').addEventListener('click', () => { S.seed += 1; schedule(); invalidateBatch(); if (V.tab === 'inpaint') refreshInpaint(); });
$('reset').addEventListener('click', () => {
  Object.assign(S, V.defaults); showControls(); devPanel.refresh(); schedule(); invalidateBatch();
  if (V.tab === 'crossbar') showArray();
  if (V.tab === 'inpaint') refreshInpaint();
});
$('copylink').addEventListener('click', () => {
  const u = new URL(location.href.split('?')[0]);
  const q = u.searchParams;
  if (V.info) q.set('model', V.info.entry.id);
  if (V.tab !== 'classify') q.set('task', V.tab);
  if (V.source && V.source.kind === 'sample') q.set('sample', V.source.i);
  const d = V.defaults;
  for (const [k, key] of [['noise', 'noise'], ['prog', 'prog'], ['goff', 'goff'], ['adc', 'adc'], ['stuckon', 'stuckon'],
    ['stuckoff', 'stuckoff'], ['th', 'th'], ['alpha', 'alpha'], ['T', 'T'], ['chip', 'chip']]) {
    if (!d || S[key] !== d[key]) q.set(k, String(+(+S[key]).toFixed(5)));
  }
  q.set('stop', S.stop ? '1' : '0');
  if (Object.keys(S.dev).length) q.set('dev', deviceUrl(S.dev));
  if (document.body.classList.contains('embed')) q.set('embed', '1');
  const out = $('linkout'); out.hidden = false; out.value = u.href; out.focus(); out.select();
  if (navigator.clipboard) navigator.clipboard.writeText(u.href).then(() => setStatus('Link copied.'), () => {});
});

/* ------------------------------------------------------------ tabs */

/* Shows only the settings that act on the current tab (data-tabs lists them);
 * a fieldset with none left is hidden too. */
function showTabControls() {
  for (const el of document.querySelectorAll('#settings [data-tabs]')) el.hidden = !el.dataset.tabs.split(' ').includes(V.tab);
  for (const fs of document.querySelectorAll('#settings fieldset')) {
    fs.hidden = ![...fs.querySelectorAll('[data-tabs]')].some((el) => !el.hidden);
  }
}

const TABS = ['classify', 'batch', 'crossbar', 'inpaint'];
function selectTab(name, focus) {
  if (!TABS.includes(name)) name = 'classify';
  V.tab = name;
  for (const t of TABS) {
    const b = $('tab-' + t), on = t === name;
    b.setAttribute('aria-selected', String(on)); b.tabIndex = on ? 0 : -1;
    $('panel-' + t).hidden = !on;
  }
  if (focus) $('tab-' + name).focus();
  showTabControls();
  devPanel.showTab(name);
  if (name === 'inpaint') openInpaint();
  if (name === 'crossbar') { if (V.info) drawTilemap(); showArray(); }
  if (name === 'batch') drawBatchPlots();
  if (name === 'classify') { drawGallery(); if (V.last) render(); }
}
for (const t of TABS) {
  $('tab-' + t).addEventListener('click', () => selectTab(t));
  $('tab-' + t).addEventListener('keydown', (e) => {
    const i = TABS.indexOf(t);
    if (e.key === 'ArrowRight') selectTab(TABS[(i + 1) % TABS.length], true);
    else if (e.key === 'ArrowLeft') selectTab(TABS[(i + TABS.length - 1) % TABS.length], true);
    else if (e.key === 'Home') selectTab(TABS[0], true);
    else if (e.key === 'End') selectTab(TABS[TABS.length - 1], true);
    else return;
    e.preventDefault();
  });
}

/* ------------------------------------------------------------ input sources */

function useSample(i) {
  const sm = V.samples;
  if (!sm) return;
  i = ((i % sm.n) + sm.n) % sm.n;
  $('sample').value = String(i);
  V.source = { kind: 'sample', i };
  clearError();
  drawGray($('preview'), sm.pixels.subarray(i * sm.w * sm.h, (i + 1) * sm.w * sm.h), sm.w, sm.h, 1 / 255);
  $('truth').textContent = `true label: ${V.names[sm.labels[i]]} (test image #${sm.indices[i]})`;
  if (V.tab === 'classify') drawGallery();
  schedule();
}
/* Thumbnails of the first shipped samples (two rows); click one to use it. */
function drawGallery() {
  const sm = V.samples, c = $('gallery');
  if (!sm) { c.hidden = true; return; }
  c.hidden = false;
  const perRow = 15, rows = 2, n = Math.min(sm.n, perRow * rows);
  const dpr = window.devicePixelRatio || 1;
  const w = c.clientWidth || c.parentElement.clientWidth || 300;
  const cell = w / perRow;
  c.style.height = Math.round(cell * rows) + 'px';
  c.width = Math.round(w * dpr); c.height = Math.round(cell * rows * dpr);
  const g = c.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.imageSmoothingEnabled = false;
  const tile = document.createElement('canvas');
  for (let i = 0; i < n; i++) {
    drawGray(tile, sm.pixels.subarray(i * sm.w * sm.h, (i + 1) * sm.w * sm.h), sm.w, sm.h, 1 / 255);
    const x = (i % perRow) * cell, y = Math.floor(i / perRow) * cell;
    g.drawImage(tile, x + 1, y + 1, cell - 2, cell - 2);
    if (V.source && V.source.kind === 'sample' && V.source.i === i) {
      g.strokeStyle = '#f5c542'; g.lineWidth = 2; g.strokeRect(x + 1, y + 1, cell - 2, cell - 2);
    }
  }
  c.onclick = (e) => {
    const b = c.getBoundingClientRect();
    const i = Math.floor((e.clientY - b.top) / cell) * perRow + Math.floor((e.clientX - b.left) / cell);
    if (i >= 0 && i < n) useSample(i);
  };
  // keyboard: arrows move through the thumbnails (and classify), Home / End jump
  c.onkeydown = (e) => {
    const cur = V.source && V.source.kind === 'sample' && V.source.i < n ? V.source.i : -1;
    const to = { ArrowRight: cur + 1, ArrowLeft: cur - 1, ArrowDown: cur + perRow, ArrowUp: cur - perRow, Home: 0, End: n - 1 }[e.key];
    if (to == null) return;
    e.preventDefault();
    useSample(Math.max(0, Math.min(n - 1, to)));
  };
  const cur = V.source && V.source.kind === 'sample' ? V.source.i : null;
  c.setAttribute('aria-label', 'The first 30 shipped samples: click one, or focus here and use the arrow keys, to classify it' +
    (cur != null && cur < n ? `; sample ${cur} selected` : ''));
}

$('sample').addEventListener('change', () => useSample(parseInt($('sample').value, 10) || 0));
$('prev').addEventListener('click', () => useSample((V.source && V.source.kind === 'sample' ? V.source.i : 0) - 1));
$('next').addEventListener('click', () => useSample((V.source && V.source.kind === 'sample' ? V.source.i : -1) + 1));
$('rand').addEventListener('click', () => V.samples && useSample(Math.floor(Math.random() * V.samples.n)));

function useImage(img, name) {
  V.source = { kind: 'image', img, w: 28, h: 28, seed: 1, name };
  clearError();
  drawGray($('preview'), img, 28, 28);
  $('truth').textContent = name;
  if (V.tab === 'classify') drawGallery();
  schedule();
}

// drawing: white strokes on black, 280 x 280, centred and downsampled to 28 x 28
const draw = $('draw'), dctx = draw.getContext('2d');
function clearDrawing() { dctx.fillStyle = '#000'; dctx.fillRect(0, 0, draw.width, draw.height); }
clearDrawing();
let pen = null;
function penAt(e) {
  const r = draw.getBoundingClientRect();
  return [(e.clientX - r.left) * draw.width / r.width, (e.clientY - r.top) * draw.height / r.height];
}
draw.addEventListener('pointerdown', (e) => {
  draw.setPointerCapture(e.pointerId);
  pen = penAt(e);
  dctx.fillStyle = '#fff'; dctx.beginPath(); dctx.arc(pen[0], pen[1], 11, 0, 2 * Math.PI); dctx.fill();
  e.preventDefault();
});
draw.addEventListener('pointermove', (e) => {
  if (!pen) return;
  const p = penAt(e);
  dctx.strokeStyle = '#fff'; dctx.lineWidth = 22; dctx.lineCap = 'round'; dctx.lineJoin = 'round';
  dctx.beginPath(); dctx.moveTo(pen[0], pen[1]); dctx.lineTo(p[0], p[1]); dctx.stroke();
  pen = p;
});
function penUp() {
  if (!pen) return;
  pen = null;
  const d = dctx.getImageData(0, 0, draw.width, draw.height).data;
  const g = new Float32Array(draw.width * draw.height);
  for (let i = 0; i < g.length; i++) g[i] = d[4 * i] / 255;
  const img = centerDigit(g, draw.width, draw.height, 28, 20);
  if (img.some((v) => v > 0)) useImage(img, 'your drawing');
}
draw.addEventListener('pointerup', penUp);
draw.addEventListener('pointercancel', penUp);
draw.addEventListener('keydown', (e) => { if (e.key === 'Delete' || e.key === 'Backspace') clearDrawing(); });
$('clear').addEventListener('click', clearDrawing);

/* ------------------------------------------------------------ classify */

/* Runs the current input with the current settings; at most one request in
 * flight, the latest settings win. */
function schedule() {
  if (!V.info || !V.source) return;
  if (V.busy) { V.queued = true; return; }
  V.busy = true; V.queued = false;
  const source = V.source;
  call('classify', { source, settings: workerSettings(), T: S.T })
    .then((r) => {
      r.sourceRef = source;
      // same input as before: remember the previous outcome, so a change of settings shows what it did
      V.before = V.last && V.last.sourceRef === source ? V.last.result : null;
      V.last = r;
      V.runs++;
      if (V.runs === 1) {
        window.primeTiming = { firstResultMs: performance.now(), afterScriptMs: performance.now() - t0 };
      }
      if (V.tab === 'classify') render();
      document.body.dataset.runs = String(V.runs);
      setStatus((V.note ? V.note + ' ' : '') + `Ran ${r.result.stepsUsed} of ${r.result.T} timesteps in ${r.ms.toFixed(0)} ms.`);
      V.note = '';
    })
    .catch((err) => fail('Classification failed: ' + err.message))
    .finally(() => { V.busy = false; if (V.queued) schedule(); });
}

/* The one wording of an energy ratio (baseline / ours) on the page. */
function ratioText(ratio) {
  if (!(ratio > 0)) return '-';
  return ratio >= 1 ? `${ratio.toFixed(1)}x less energy than digital` : `${(1 / ratio).toFixed(1)}x more energy than digital`;
}

/* Energy of one run split into cells, ADC, DAC and neurons (docs/device.md, the
 * formula of prime_core.c), drawn as bars with pJ and share. */
function drawEnergyBreakdown(res, d) {
  const k = res.counters, el = $('ebreak');
  if (!d || !k) { el.innerHTML = ''; return; }
  const bits = d.adcBits ? d.adcBits : 16;
  const parts = [['cells', k.cellReads * d.eCellPj], ['ADC', k.adcConversions * d.eAdcFomFj * 1e-3 * 2 ** bits],
    ['DAC', k.dacDrives * d.eDacPj], ['neurons', k.neuronUpdates * d.eNeuronPj]];
  const tot = parts.reduce((a, p) => a + p[1], 0) || 1;
  el.innerHTML = parts.map(([n, e]) => `<span>${n}</span><span class="bar" style="width:${Math.max(0.5, 100 * e / tot).toFixed(1)}%"></span>` +
    `<span>${fmtEnergy(e)} (${(100 * e / tot).toFixed(0)}%)</span>`).join('');
  el.dataset.total = String(tot);
}

function fmtEnergy(pj) {
  if (!Number.isFinite(pj)) return '-';
  if (pj >= 1e6) return (pj / 1e6).toFixed(2) + ' \u00b5J';
  if (pj >= 1e3) return (pj / 1e3).toFixed(2) + ' nJ';
  return pj.toFixed(1) + ' pJ';
}

function render() {
  const r = V.last;
  if (!r) return;
  const res = r.result, T = res.T;
  const truth = V.source && V.source.kind === 'sample' && V.samples ? V.samples.labels[V.source.i] : null;
  // an output where every class has the same value (e.g. a coarse ADC rounds every current to 0) decides nothing
  const degenerate = Math.max(...res.logits) - Math.min(...res.logits) < 1e-6;
  $('pred').textContent = degenerate ? 'none' : V.names[res.label] ?? String(res.label);
  $('degenerate').hidden = !degenerate;
  if (degenerate) $('degenerate').textContent = 'No decision: every output is the same (' + (+res.logits[0].toFixed(3)) + ')' +
    (S.adc && S.adc <= 5 ? `; at ${S.adc} ADC bits the converter rounds every column current to the same level.` : '.') +
    ' The label would be class 0 only by the tie rule.';
  const ok = $('predok');
  if (degenerate) { ok.hidden = false; ok.textContent = 'no decision'; ok.classList.add('wrong'); }
  else if (truth != null) {
    ok.hidden = false; ok.textContent = res.label === truth ? 'correct' : 'wrong';
    ok.classList.toggle('wrong', res.label !== truth);
  } else ok.hidden = true;
  const stopped = res.stepsUsed < T;
  $('steps').textContent = `${res.stepsUsed} of ${T}` + (stopped ? ` (stopped early, ${(100 * (1 - res.stepsUsed / T)).toFixed(0)}% saved)` : '');
  $('energy').textContent = `${fmtEnergy(res.energyPj)} (${ratioText(res.energyRatio)})`;
  $('baseline').textContent = fmtEnergy(res.baselinePj);
  drawEnergyBreakdown(res, r.device);
  const lifs = r.layers.filter((L) => L.neuron === 'lif');
  $('spikes').previousElementSibling.textContent = lifs.length > 1 ? 'spikes per layer' : 'spikes';
  $('spikes').textContent = lifs.map((L) => Math.round(res.spikes[L.layer]).toLocaleString()).join(' / ') || '-';
  V.barLabels = drawBars($('probs'), Array.from(res.probs), V.names, degenerate ? -1 : res.label, truth);
  drawCompare($('compare'), $('cmpconf'), r, { names: V.names, fmtEnergy, threshold: S.th, stop: S.stop });
  const b = V.before, bp = $('before');
  bp.hidden = !b;
  if (b) bp.textContent = `before the last change: ${V.names[b.label] ?? b.label} (${(100 * b.probs[b.label]).toFixed(1)}%), ` +
    `${b.stepsUsed} of ${b.T} steps, ${fmtEnergy(b.energyPj)}`;
  drawConfidence();
  drawSteps();
}

function drawConfidence() {
  const res = V.last.result, T = res.T;
  const pts = Array.from(res.confidence, (c, t) => [t + 1, c, V.names[res.stepLabel[t]]]);
  const v = [];
  if (res.stepsUsed < T) v.push({ x: res.stepsUsed, label: `stopped at ${res.stepsUsed}`, color: cssVar('--warn', '#955300') });
  v.push({ x: V.cursor + 1, color: '#f5c542' });
  linePlot($('conf'), {
    x: [0.5, T + 0.5], y: [0, 1], xInt: true, xLabel: 'timestep', yLabel: 'max probability', aspect: 0.55,
    series: [{ points: pts, color: getComputedStyle(document.documentElement).getPropertyValue('--accent2').trim() || '#2f6fd6' }],
    hLines: S.stop ? [{ y: S.th, label: `threshold ${S.th.toFixed(2)}` }] : [],
    vLines: v,
  });
}

function drawSteps() {
  const r = V.last, res = r.result, T = res.T;
  const size = Math.round(Math.sqrt(r.frames.length / T / 2));
  V.cursor = Math.min(V.cursor, T - 1);
  drawFrame($('frame'), r.frames, V.cursor, size);
  const skipped = V.cursor >= res.stepsUsed;
  $('frame').style.opacity = skipped ? 0.35 : 1;
  const f0 = r.frames.subarray(V.cursor * 2 * size * size, (V.cursor + 1) * 2 * size * size);
  let ev = 0;
  for (let i = 0; i < f0.length; i++) ev += f0[i];
  $('framenote').textContent = `frame ${V.cursor + 1} of ${T}: ${Math.round(ev)} events` +
    (skipped ? ` - not run (stopped after step ${res.stepsUsed})` : '');
  $('cursor').value = String(V.cursor);
  $('cursorout').textContent = String(V.cursor + 1);
  const layers = r.layers.map((L) => ({
    name: `${L.layer + 1} ${L.op === 'avgpool' ? 'pool' : L.op}` + (L.neuron === 'output' ? ' out' : ''),
    sub: L.neuron === 'output' ? 'membrane' : `${L.c}x${L.h}x${L.w}`,
    kind: L.neuron === 'output' ? 'membrane' : 'rate',
    n: L.c * L.h * L.w, steps: L.steps,
    total: L.neuron === 'lif' ? Math.round(res.spikes[L.layer]).toLocaleString() + ' spikes' : L.op === 'avgpool' ? 'spike rate' : null,
  }));
  drawRaster($('raster'), layers, T, res.stepsUsed, V.cursor);
}

$('cursor').addEventListener('input', () => { V.cursor = parseInt($('cursor').value, 10); setPlaying(false); if (V.last) { drawSteps(); drawConfidence(); } });
function setPlaying(on) {
  V.playing = on;
  $('play').textContent = on ? 'Pause' : 'Play';
  $('play').setAttribute('aria-pressed', String(on));
}
$('play').addEventListener('click', () => setPlaying(!V.playing));
setInterval(() => {
  if (!V.playing || !V.last || V.tab !== 'classify' || document.hidden) return;
  V.cursor = (V.cursor + 1) % V.last.result.T;
  drawSteps(); drawConfidence();
}, 450);
if (window.matchMedia && matchMedia('(prefers-reduced-motion: reduce)').matches) setPlaying(false);

/* ------------------------------------------------------------ batch (batch.js) */

batchView = initBatch({ call, cancel: () => worker.postMessage({ type: 'cancel' }), S, V, workerSettings, fail, fmtEnergy, ratioText, cssVar });
const { runBatch } = batchView;

/* ------------------------------------------------------------ crossbar (crossbar.js) */

const { showArray, drawArray, fillTiling, drawTilemap } = initCrossbar({ call, V, workerSettings, fail, cssVar });

/* ------------------------------------------------------------ inpainting (inpaint.js) */

const inp = initInpaint({ call, S, V, setStatus, fail, fmtEnergy, ratioText, cssVar, options: () => devPanel.forTab('inpaint') });
const { IP, openInpaint, refreshInpaint, renderInpaint, renderGenerate } = inp;
const initDone = inp.initDone, settingsDone = inp.settingsDone;
// a dropped or chosen file: a picture, or a model / checkpoint into the view that fits it (userfile.js)
initUserFiles({ call, V, clearError, fail, setStatus, useImage, fillModelSelect, adoptModel, selectTab, openInpaintModel: inp.openDataset,
  graphView: initGraphView({ call, S, setStatus, fail, fmtEnergy, ratioText }) });

/* ------------------------------------------------------------ models */

function fillModelSelect(current) {
  const sel = $('model');
  sel.innerHTML = '';
  for (const m of V.models) {
    const o = document.createElement('option');
    o.value = m.id; o.textContent = m.name;
    sel.append(o);
  }
  sel.value = current;
  sel.disabled = V.models.length < 2;
}
$('model').addEventListener('change', async () => {
  try {
    clearError();
    setStatus('Loading the model...');
    const info = await call('open', { modelId: $('model').value });
    await adoptModel(info);
  } catch (err) { fail('Could not open the model: ' + err.message); }
});

const TASKS = { 0: 'classification', classify: 'classification' };

/* Takes a freshly opened model: defaults, samples, tiling, first run. */
async function adoptModel(info, fromUrl) {
  const keepSamples = !info.samples && V.samples;
  V.info = info;
  V.defaults = defaultsFromModel(info);
  Object.assign(S, V.defaults);
  await devPanel.adopt(info, fromUrl ? params : null); // device options: the model's, then the URL's (dev=, preset=)
  if (fromUrl) applyUrl();
  reprune.forget(); // the model's own masks are loaded
  showControls();
  const ds = info.entry.dataset;
  V.names = classNames(ds, info.arch.nClasses);
  $('drawlabel').textContent = ds === 'fashion' ? 'Draw a piece of clothing' : 'Draw a digit';
  if (info.samples) V.samples = info.samples; else if (!keepSamples) V.samples = null;
  $('modelnote').textContent = `${TASKS[info.arch.task] || 'task ' + info.arch.task}, ${info.arch.layers.length} layers, T = ${info.arch.T}, ${info.totalArrays} crossbar arrays` +
    (info.entry.samplesError ? ` (samples missing: ${info.entry.samplesError})` : '');
  fillTiling();
  $('xbarshowrow').hidden = !info.irdrop;
  if (!info.irdrop) $('xbarshow').value = 'g';
  if (V.tab === 'crossbar') drawTilemap();
  if (V.samples) {
    $('sample').max = String(V.samples.n - 1);
    const want = fromUrl && params.has('sample') ? parseInt(params.get('sample'), 10) || 0 : (V.source && V.source.kind === 'sample' ? V.source.i : 0);
    if (V.source && V.source.kind === 'image' && !fromUrl) schedule(); else useSample(want);
  } else if (V.source && V.source.kind === 'image') schedule();
  else setStatus('This model has no shipped samples: draw a digit or upload a picture.');
  if (V.tab === 'crossbar') showArray();
}

/* ------------------------------------------------------------ start */

/* One-figure embeds (?view=NAME): the figure, the controls that act on it, a
 * link to the full lab; no tabs, no model bar (docs/web.md, "One-figure embeds"). */
const VIEWS = {
  confidence: { tab: 'classify', ctl: ['noise', 'stop', 'th'], parts: () => [$('prev').parentElement, $('conf').closest('figure')] },
  raster: { tab: 'classify', ctl: ['noise'], parts: () => [$('prev').parentElement, $('raster').closest('figure')] },
  sweep: { tab: 'batch', ctl: ['adc'], parts: () => [$('sweepnoise'), $('cancel'), $('progress'), $('batchstatus'), $('plotnoise').closest('figure')] },
  inpaint: { tab: 'inpaint', ctl: ['noise', 'stop'],
    parts: () => [$('ip-sample').parentElement, $('ip-input').closest('.ipgrid'), $('ip-steps').closest('dl'), $('ip-stopnote')] },
};
function setupView(name) {
  const v = VIEWS[name];
  if (!v) return null;
  document.body.classList.add('oneview');
  document.body.dataset.view = name;
  const box = document.createElement('div'); box.id = 'viewbox';
  const ctl = document.createElement('div'); ctl.className = 'card viewctl';
  for (const id of v.ctl) ctl.append($(id).closest('.ctl'));
  const parts = v.parts();
  const lead = parts.filter((el) => !el.matches('figure, .ipgrid, dl, .note'));
  for (const el of lead) ctl.append(el);
  box.append(ctl);
  const card = document.createElement('div'); card.className = 'card';
  for (const el of parts.filter((el) => !lead.includes(el))) card.append(el);
  box.append(card);
  const full = new URL(location.href); full.searchParams.delete('view'); full.searchParams.delete('embed');
  const foot = document.createElement('p'); foot.className = 'viewfoot muted';
  foot.innerHTML = `PRIME lab (<a href="https://arxiv.org/abs/2407.18625" target="_blank" rel="noopener">arXiv 2407.18625</a>) &middot; ` +
    `<a href="${full.href}" target="_blank" rel="noopener">open the full lab</a>`;
  box.append(foot);
  $('app').append(box);
  return v;
}

async function start() {
  const view = setupView(params.get('view'));
  if (params.get('embed') === '1' || view) {
    document.body.classList.add('embed');
    $('settings').open = false;
    if (params.get('explain') === '1') $('explainer').classList.add('asked');
    const full = new URL(location.href); full.searchParams.delete('embed');
    $('fulllink').href = full.href; $('fulllink').hidden = false;
    // tell the embedding page our height (see the <iframe> snippet in docs/web.md)
    if (window.parent !== window && window.ResizeObserver) {
      new ResizeObserver(() => window.parent.postMessage({ primeLabHeight: document.documentElement.scrollHeight }, '*'))
        .observe(document.body);
    }
  }
  // a phone: the settings start folded, just above the view (the outcome card has a button that opens them)
  if (window.matchMedia && matchMedia('(max-width: 560px)').matches) $('settings').open = false;
  selectTab(view ? view.tab : params.get('task') || 'classify');
  if (view && params.has('n')) $('batchn').value = String(params.get('n'));
  try {
    const init = await call('init', { manifest: './models.json', want: params.get('model') }).finally(() => initDone());
    V.models = init.models;
    devPanel.list(init.deviceOptions);
    if (!V.models.length) { fail('No model could be loaded: build one (models/*.prime, see docs/web.md).'); return; }
    const want = params.get('model');
    const first = V.models.find((m) => m.id === want) || V.models[0];
    fillModelSelect(first.id);
    const info = await call('open', { modelId: first.id });
    await adoptModel(info, true);
    settingsDone();
    if (view && params.get('view') === 'sweep') runBatch('noise');
    if (want && first.id !== want) $('modelnote').textContent = `model "${want}" is not available here; showing this one. ` + $('modelnote').textContent;
    document.body.dataset.state = 'ready';
  } catch (err) {
    settingsDone();
    fail('Could not start: ' + err.message);
  }
}

$('tosettings').addEventListener('click', () => {
  const d = $('settings');
  d.open = true;
  d.scrollIntoView({ block: 'start' });
  d.querySelector('summary').focus();
});

let resizeTimer = 0;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (V.tab === 'classify') { render(); drawGallery(); }
    if (V.tab === 'batch') drawBatchPlots();
    if (V.tab === 'crossbar' && V.info) { drawTilemap(); if (V.irData) showArray(); else drawArray(); }
    if (V.tab === 'inpaint') { renderInpaint(); renderGenerate(); }
  }, 100);
});

/* For tests and the curious (console): a plain copy of what the page shows. */
window.primeLab = {
  repruneOpts: REPRUNE_OPTS, // the re-pruning schedule (tests shorten it)
  repruneCurve: () => reprune.curve(), // [[s, test accuracy %]]
  snapshot() {
    const r = V.last && V.last.result;
    const plain = (o) => o && Object.fromEntries(Object.entries(o).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v) : v]));
    return {
      model: V.info && V.info.entry.id,
      result: plain(r),
      truth: V.source && V.source.kind === 'sample' && V.samples ? V.samples.labels[V.source.i] : null,
      source: V.source && V.source.kind, sample: V.source && V.source.kind === 'sample' ? V.source.i : null,
      settings: { ...S }, busy: V.busy || V.queued, runs: V.runs,
      compare: V.last && JSON.parse(JSON.stringify(V.last.compare, (k, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v))), degenerate: !!(r && Math.max(...r.logits) - Math.min(...r.logits) < 1e-6),
      batch: JSON.parse(JSON.stringify(V.batch)),
      arrayShown: V.arrayData ? V.arrayData.i : null, barLabels: V.barLabels,
      irmap: V.irData && { i: V.irData.i, rows: V.irData.rows, cols: V.irData.cols, vRead: V.irData.vRead,
        min: V.irData.v.reduce((a, b) => Math.min(a, b), Infinity), max: V.irData.v.reduce((a, b) => Math.max(a, b), -Infinity) },
      xbarScale: V.arrayData ? (V.arrayData.device.gMax > 0 ? V.arrayData.device.gMax : 60) : null,
      totalArrays: V.info && V.info.totalArrays, layers: V.info && V.info.arch.layers.length,
      inpaint: { state: IP.state, runs: IP.runs, sample: IP.i, hole: IP.hole.slice(), dataset: IP.dataset,
        file: IP.info && IP.info.entry.file, busy: IP.busy || IP.queued,
        stepsUsed: IP.last && IP.last.stepsUsed, T: IP.last && IP.last.T, m: IP.last && Array.from(IP.last.m),
        noise: IP.last && IP.last.noise, image: IP.last && Array.from(IP.last.steps[IP.last.stepsUsed - 1]),
        gen: IP.gen && { seed: IP.gen.seed, runs: IP.genRuns, busy: IP.genBusy || IP.genQueued, stepsUsed: IP.gen.stepsUsed,
          T: IP.gen.T, file: IP.gen.file, image: Array.from(IP.gen.steps[IP.gen.stepsUsed - 1]) } },
    };
  },
};

start();
