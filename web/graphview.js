// graphview.js - the "Your layer-graph model" card of the Classify tab: a layer
// graph the person dropped whose readout is not an image (the companion paper's
// Fashion CNN, a logits readout; wasm/prime-graph.js), run in the worker on the
// page's test pictures with the read settings on screen: the picture, the label
// against the true one, the class probabilities (softmax(logits / alpha)), steps
// and energy. Image graphs open in Inpainting instead (web/userfile.js).

import { drawBars, drawGray } from './plots.js';
import { classNames } from './lib.js';

const $ = (id) => document.getElementById(id);

/* ctx: {call, S (settings), setStatus, fail, fmtEnergy, ratioText}. */
export function initGraphView({ call, S, setStatus, fail, fmtEnergy, ratioText }) {
  const G = { info: null, i: 0, last: null, busy: false, queued: false, runs: 0 };

  /* Shows the card for the model the worker opened (its openBytes reply). */
  function show(info) {
    G.info = info; G.last = null;
    $('gv').hidden = false;
    $('gv-name').textContent = info.name;
    const a = info.arch, d = info.graph;
    $('gv-desc').textContent = `${info.what}: input ${a.inC} x ${a.inH} x ${a.inW}, ${a.nOut} outputs, T = ${a.T}` +
      (d.latent ? `, a latent of ${d.latent.c} channels` : '') + `; run on the test pictures of this page (${info.samples ? info.samples.n : 0}).`;
    if (info.samples) $('gv-sample').max = String(info.samples.n - 1);
    G.i = Math.min(G.i, info.samples ? info.samples.n - 1 : 0);
    run();
  }
  const opts = () => ({ readNoise: S.noise, adcBits: S.adc, earlyStop: S.stop, noiseSeed: S.seed });

  /* Runs the chosen picture; the latest request wins. */
  function run() {
    if (!G.info) return;
    if (G.busy) { G.queued = true; return; }
    G.busy = true; G.queued = false;
    call('graphRun', { i: G.i, opts: opts() })
      .then((r) => {
        G.last = r; G.runs++;
        render();
        document.body.dataset.gvruns = String(G.runs);
        setStatus(`Your layer graph ${G.info.name}: ${r.stepsUsed} of ${r.T} timesteps in ${r.ms.toFixed(0)} ms.`);
      })
      .catch((err) => fail(`Your layer graph ${G.info.name}: ${err.message}`))
      .finally(() => { G.busy = false; if (G.queued) run(); });
  }

  function render() {
    const r = G.last;
    if (!r) return;
    drawGray($('gv-input'), r.img, r.w, r.h);
    $('gv-sample').value = String(r.i);
    const names = classNames(G.info.dataset, r.nOut);
    $('gv-label').textContent = r.probs ? names[r.label] + (r.truth != null ? (r.label === r.truth ? ' (right)' : ' (wrong)') : '') : '-';
    $('gv-true').textContent = r.truth != null && r.truth < names.length ? names[r.truth] : '-';
    $('gv-steps').textContent = `${r.stepsUsed} of ${r.T}`;
    $('gv-energy').textContent = `${fmtEnergy(r.energyPj)} (${ratioText(r.energyRatio)})`;
    $('gv-probs').hidden = !r.probs;
    if (r.probs) drawBars($('gv-probs'), Array.from(r.probs), names, r.label, r.truth);
    $('gv-out').textContent = r.probs ? '' : `readout: ${r.nOut} values in [${r.lo.toFixed(3)}, ${r.hi.toFixed(3)}]`;
  }

  const pick = (i) => {
    const n = G.info && G.info.samples ? G.info.samples.n : 1;
    G.i = ((i % n) + n) % n;
    run();
  };
  $('gv-sample').addEventListener('change', () => pick(parseInt($('gv-sample').value, 10) || 0));
  $('gv-prev').addEventListener('click', () => pick(G.i - 1));
  $('gv-next').addEventListener('click', () => pick(G.i + 1));
  $('gv-rerun').addEventListener('click', run);
  $('gv-close').addEventListener('click', () => { $('gv').hidden = true; G.info = null; call('graphClose').catch(() => {}); });
  return { G, show, run };
}
