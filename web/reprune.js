// reprune.js - "Re-prune for this chip": trains the masks for the chip on
// screen in web/reprune-worker.js (wasm/prime-train.wasm), shows progress
// (epoch, loss, accuracy, time left) and the test-accuracy curve, and hands
// the masks to the simulator worker (docs/web.md, "Re-pruning").

import { linePlot } from './plots.js';

// The schedule the page runs: tuned with scripts/bench-reprune.mjs (docs/web.md).
export const REPRUNE_OPTS = { n: 3000, nTest: 300, epochs: 3, batch: 32, lr: 2e-2, warm: false, evalEvery: 1 };
const what = (e) => (e && e.dataset === 'mnist' ? 'digits' : 'images');

const $ = (id) => document.getElementById(id);
const fmtS = (s) => (s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${String(Math.round(s % 60)).padStart(2, '0')} s`);

/* Wires the re-prune controls. hooks: {call (simulator worker request),
 * chip () (the chip on screen), entry () (the current models.json entry),
 * defaultChip (), changed (masks
 * replaced or restored: rerun what depends on them)}. Returns {update(), restore()}. */
export function initReprune(hooks) {
  let w = null;           // the running worker
  let fitted = null;      // chip the masks on screen were re-pruned for, or null
  let curve = [];         // [[elapsed s, acc %]]
  let runChip = null;
  let baseline = null;    // the shipped masks' test accuracy on their own chip
  let lastMasks = null;   // the masks of the last run (the ones on screen while fitted is set)

  const url = (u) => new URL('../' + u, import.meta.url).href;

  function show() {
    const e = hooks.entry(), other = hooks.chip() !== hooks.defaultChip();
    $('reprune').hidden = !(e && e.train && other) && !w && !curve.length;
    $('reprune-go').disabled = !!w || !(e && e.train && other) || fitted === hooks.chip();
    $('reprune-cancel').hidden = !w;
    const o = REPRUNE_OPTS;
    if (e && e.train) $('def-reprune').textContent = 'Trains which cells to keep for the chip on screen, in this tab (one core, about a minute): ' +
      `the conductances stay random, the masks adapt. ${o.epochs} passes over ${o.n.toLocaleString('en')} shipped training ${what(e)}, ` +
      `tested after each on the ${o.nTest} shipped test ${what(e)}.`;
  }

  function draw() {
    if (!curve.length) { $('reprune-curve').hidden = true; return; }
    $('reprune-curve').hidden = false;
    const b = baseline;
    linePlot($('reprune-curve'), {
      x: [0, Math.max(10, ...curve.map((p) => p[0]))], y: [0, 100], xLabel: 'time (s)', yLabel: 'test accuracy (%)',
      series: [{ points: curve, color: 'var(--accent)', label: `chip #${runChip}`, dots: true }],
      hLines: b != null ? [{ y: 100 * b, label: `chip #${hooks.defaultChip()} (shipped)` }] : [], aspect: 0.45,
    });
  }

  function finish() { if (w) { w.terminate(); w = null; } show(); }

  async function start() {
    const e = hooks.entry();
    if (!e || !e.train || w) return;
    runChip = hooks.chip(); curve = [];
    $('reprune-bar').hidden = false; $('reprune-bar').value = 0;
    $('reprune-status').textContent = `Preparing the training ${what(e)} (event frames)...`;
    w = new Worker(new URL('./reprune-worker.js', import.meta.url), { type: 'module' });
    show();
    w.onmessage = async (ev) => {
      const m = ev.data;
      if (m.type === 'reference') {
        baseline = m.acc; draw();
      } else if (m.type === 'progress') {
        $('reprune-bar').max = m.total; $('reprune-bar').value = m.done;
        $('reprune-status').textContent = `epoch ${m.epoch}/${m.epochs}, batch ${m.done}/${m.total}: ` +
          `loss ${m.loss.toFixed(3)}, train accuracy ${(100 * m.acc).toFixed(1)} %, ${fmtS(m.elapsed)} so far, about ${fmtS(m.left)} left`;
      } else if (m.type === 'eval') {
        curve.push([m.elapsed, 100 * m.acc]); draw();
      } else if (m.type === 'done') {
        finish();
        if (hooks.chip() !== runChip) { $('reprune-status').textContent = `Re-pruned for chip #${runChip}, but the chip changed: masks not applied.`; return; }
        if (!m.cancelled) curve[curve.length - 1] = [m.elapsed, 100 * m.acc];
        else curve.push([m.elapsed, 100 * m.acc]);
        draw();
        await hooks.call('setMasks', { masks: m.masks });
        fitted = runChip; lastMasks = m.masks;
        $('reprune-status').textContent = `${m.cancelled ? 'Cancelled' : 'Done'} after ${fmtS(m.elapsed)}: ` +
          `test accuracy ${(100 * m.acc).toFixed(1)} % on ${REPRUNE_OPTS.nTest} shipped test ${what(e)} with the masks re-pruned for chip #${runChip}` +
          ` (now in use; "Back to chip #${hooks.defaultChip()}" restores the shipped masks).`;
        $('reprune').dataset.acc = String(m.acc);
        show(); hooks.changed();
      } else if (m.type === 'error') {
        finish();
        $('reprune-status').textContent = 'Re-pruning failed: ' + m.message;
      }
    };
    w.onerror = (ev) => { ev.preventDefault(); finish(); $('reprune-status').textContent = 'Re-pruning failed: ' + (ev.message || 'the trainer could not start'); };
    w.postMessage({ type: 'start', model: url(e.file), train: url(e.train), test: url(e.samples), chipSeed: runChip, refChip: hooks.defaultChip(),
      from: fitted ?? hooks.defaultChip(), masks: fitted != null ? lastMasks : null, opts: REPRUNE_OPTS });
  }

  $('reprune-go').addEventListener('click', start);
  $('reprune-cancel').addEventListener('click', () => { if (w) { w.postMessage({ type: 'cancel' }); $('reprune-status').textContent = 'Cancelling after this batch...'; } });

  return {
    update: show,
    curve: () => curve.map((p) => p.slice()),
    fittedFor: () => fitted,
    /* Another model was opened (with its own masks): drop the run and its state. */
    forget() {
      if (w) { w.terminate(); w = null; }
      fitted = null; curve = []; draw(); $('reprune-bar').hidden = true;
      $('reprune-status').textContent = '';
      delete $('reprune').dataset.acc;
      show();
    },
    /* Back to the shipped masks (the simulator worker reloads them). */
    async restore() {
      if (w) { w.terminate(); w = null; $('reprune-status').textContent = 'Re-pruning stopped.'; }
      if (fitted != null) { fitted = null; await hooks.call('restoreMasks'); }
      curve = []; draw(); $('reprune-bar').hidden = true;
      delete $('reprune').dataset.acc;
      show();
    },
  };
}
