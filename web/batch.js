// batch.js - the Batch tab of the page (docs/web.md): an evaluation of N shipped
// samples with its stats table, the read-noise sweep and the early-stop
// threshold sweep with their plots, captions that name the settings each ran
// with, and the numbers behind each plot. app.js wires it in with initBatch.

import { linePlot } from './plots.js';

const $ = (id) => document.getElementById(id);

/* ctx: {call, cancel (), S (settings), V (view: samples, batch, defaults, info, tab),
 * workerSettings (), fail, fmtEnergy, ratioText, cssVar (name, fallback)}. */
export function initBatch({ call, cancel, S, V, workerSettings, fail, fmtEnergy, ratioText, cssVar }) {
  const NOISE_SWEEP = [0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
  const TH_SWEEP = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99];
  let batchRunning = false;

  async function runBatch(mode) {
    if (batchRunning || !V.samples) return;
    batchRunning = true;
    for (const id of ['runbatch', 'sweepnoise', 'sweepth']) $(id).disabled = true;
    $('cancel').disabled = false;
    const n = parseInt($('batchn').value, 10);
    const tStart = performance.now();
    $('progress').value = 0;
    $('batchstatus').textContent = 'running...';
    const stext = settingsText(mode); // the settings this run uses (they may move while it runs)
    const sent = JSON.stringify([workerSettings(), S.T]);
    try {
      const r = await call('batch', { n, settings: workerSettings(), T: S.T, mode, values: mode === 'noise' ? NOISE_SWEEP : TH_SWEEP },
        (done, total) => { $('progress').value = done / total; $('batchstatus').textContent = `${done} of ${total} runs`; });
      $('progress').value = r.cancelled ? $('progress').value : 1;
      const secs = ((performance.now() - tStart) / 1000).toFixed(1);
      r.nAsked = n; r.settingsText = stext; r.secs = +secs;
      const key = mode === 'eval' ? 'eval' : mode === 'noise' ? 'noise' : 'th';
      const prev = V.batch[key];
      // a cancelled run never replaces a full one
      const keep = r.cancelled && prev && !prev.cancelled;
      if (!keep) V.batch[key] = r;
      if (mode === 'eval') {
        if (!keep && JSON.stringify([workerSettings(), S.T]) !== sent) { V.batch.eval = null; invalidateBatch(true); }
        else if (!keep) showEval(r);
        $('batchstatus').textContent = `${r.cancelled ? 'Cancelled after' : 'Done:'} ${r.n} samples in ${secs} s (${r.msPerSample.toFixed(1)} ms each).` +
          (keep ? ' The table still shows the last full run.' : '');
      } else {
        $('batchstatus').textContent = `${r.cancelled ? 'Cancelled' : 'Done'}: ${r.points.length} points on ${n} samples in ${secs} s.` +
          (keep ? ' The plot still shows the last full sweep.' : r.cancelled ? ' The plot shows the partial sweep.' : '') +
          (mode === 'threshold' ? ' (one pass without early stop; each threshold stops where the confidence first exceeds it)' : '');
      }
      document.body.dataset.batch = mode + (r.cancelled ? '-cancelled' : '-done');
      drawBatchPlots();
    } catch (err) {
      fail('Batch failed: ' + err.message);
    } finally {
      batchRunning = false;
      for (const id of ['runbatch', 'sweepnoise', 'sweepth']) $(id).disabled = false;
      $('cancel').disabled = true;
    }
  }
  $('runbatch').addEventListener('click', () => runBatch('eval'));
  $('sweepnoise').addEventListener('click', () => runBatch('noise'));
  $('sweepth').addEventListener('click', () => runBatch('threshold'));
  $('cancel').addEventListener('click', () => { cancel(); $('batchstatus').textContent = 'cancelling...'; });

  /* The settings a batch result was run with, in one line (the swept one left out). */
  function settingsText(mode) {
    const parts = [];
    if (mode !== 'noise') parts.push(`read noise ${S.noise.toFixed(2)}`);
    parts.push(`ADC ${S.adc ? S.adc + ' bits' : 'ideal'}`, `programming noise ${+S.prog.toFixed(4)}`);
    if (S.goff !== V.defaults.goff) parts.push(`g_off ${S.goff.toFixed(2)} \u00b5S`);
    if (S.stuckon) parts.push(`stuck on ${(100 * S.stuckon).toFixed(1)}%`);
    if (S.stuckoff) parts.push(`stuck off ${(100 * S.stuckoff).toFixed(1)}%`);
    if (mode !== 'threshold') parts.push(S.stop ? `early stop at ${S.th.toFixed(2)} (alpha ${S.alpha.toFixed(1)})` : 'no early stop');
    parts.push(`T ${S.T}`, `chip #${S.chip}`, `model ${V.info ? V.info.entry.id : '?'}`);
    return parts.join(', ');
  }

  /* Fills the stats table from an evaluation result, with its N and settings. */
  function showEval(r) {
    $('b-acc').textContent = (100 * r.accuracy).toFixed(1) + '%';
    $('b-steps').textContent = `${r.meanSteps.toFixed(2)} of ${r.T}`;
    $('b-saved').textContent = (100 * r.loadSaved).toFixed(1) + '%';
    $('b-energy').textContent = fmtEnergy(r.meanEnergyPj);
    $('b-ratio').textContent = ratioText(r.meanBaselinePj / r.meanEnergyPj);
    $('b-caption').textContent = `${r.cancelled ? 'Partial run (cancelled): ' : ''}${r.n} samples; ${r.settingsText}.`;
  }

  /* Settings changed: the stats table no longer describes them, so it is cleared
   * (the plots keep their captions, which name their own settings). */
  function invalidateBatch(force) {
    if (!V.batch.eval && !force) return;
    V.batch.eval = null;
    for (const id of ['b-acc', 'b-steps', 'b-saved', 'b-energy', 'b-ratio']) $(id).textContent = '-';
    $('b-caption').textContent = 'The settings changed since the last evaluation: press Evaluate for numbers that match them.';
  }

  function drawBatchPlots() {
    if (V.tab !== 'batch') return;
    const nz = V.batch.noise, th = V.batch.th;
    const c1 = cssVar('--accent2', '#2f6fd6'), c2 = cssVar('--accent', '#1f8a5b');
    linePlot($('plotnoise'), {
      x: [0, 0.5], y: [0, 1], xLabel: 'read noise \u03b7', yLabel: 'accuracy', aspect: 0.6,
      series: nz ? [{ points: nz.points.map((p) => [p.noise, p.accuracy]), color: c1 }] : [],
      empty: nz ? null : 'press "Sweep read noise"',
    });
    const T = th ? th.T : S.T;
    const lo = th ? Math.max(0, Math.floor((Math.min(...th.points.map((p) => p.accuracy)) - 0.02) * 10) / 10) : 0;
    linePlot($('plotth'), {
      x: [0, T + 0.5], y: [lo, 1], xLabel: 'mean timesteps', yLabel: 'accuracy', aspect: 0.6,
      series: th ? [{ points: th.points.map((p) => [p.meanSteps, p.accuracy, p.threshold == null ? 'no stop' : p.threshold]), color: c2 }] : [],
      empty: th ? null : 'press "Sweep threshold"',
    });
    const cap = (r, what) => r ? `${r.cancelled ? 'Partial (cancelled): ' : ''}${what}, N = ${r.nAsked} samples; ${r.settingsText}.` : '';
    $('cap-noise').textContent = cap(nz, 'read noise swept');
    $('cap-th').textContent = cap(th, 'threshold swept (alpha ' + (th && th.alpha != null ? (+th.alpha).toFixed(1) : '') + ')');
    fillData('datanoise', nz && nz.points, ['read noise', 'accuracy', 'mean steps', 'energy'],
      (p) => [p.noise, pct(p.accuracy), p.meanSteps.toFixed(2), fmtEnergy(p.meanEnergyPj)]);
    fillData('datath', th && th.points, ['threshold', 'accuracy', 'mean steps', 'load saved'],
      (p) => [p.threshold == null ? 'no stop' : p.threshold, pct(p.accuracy), p.meanSteps.toFixed(2), pct(1 - p.meanSteps / th.T)]);
  }
  const pct = (v) => (100 * v).toFixed(1) + '%';

  /* The numbers behind a plot, in a folded table. */
  function fillData(id, points, head, row) {
    const d = $(id);
    d.hidden = !points;
    if (!points) return;
    d.querySelector('table').innerHTML = '<thead><tr>' + head.map((h) => `<th scope="col">${h}</th>`).join('') + '</tr></thead><tbody>' +
      points.map((p) => '<tr>' + row(p).map((v) => `<td>${v}</td>`).join('') + '</tr>').join('') + '</tbody>';
  }

  return { runBatch, invalidateBatch, drawBatchPlots };
}
