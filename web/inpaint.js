// inpaint.js - the Inpainting tab of the page (docs/web.md): the dataset choice,
// a shipped test image with a movable 8 x 8 hole filled in by the pruned
// spiking VAE step by step, the change per step m_t and the convergence stop,
// and generation from the prior. The inpainter lives in worker.js; app.js
// wires this in with initInpaint and calls open / refresh / render.

import { linePlot } from './plots.js';

const $ = (id) => document.getElementById(id);

/* ctx: {call, S (settings), V (view: tab), setStatus, fail, fmtEnergy,
 * ratioText, cssVar, options () (device option keys acting on Inpainting)}. */
export function initInpaint({ call, S, V, setStatus, fail, fmtEnergy, ratioText, cssVar, options }) {
  let initDone, settingsDone;
  const initP = new Promise((r) => { initDone = r; }); // settles when the worker's init has answered
  const settingsP = new Promise((r) => { settingsDone = r; }); // settles when S holds the model's defaults and the URL's settings
  const IP = { state: 'idle', info: null, i: 0, hole: [12, 12], last: null, busy: false, queued: false, cursor: 0, runs: 0,
    dataset: null, gen: null, genSeed: 0, genBusy: false, genQueued: false, genCursor: 0, genRuns: 0 };

  /* Loads the inpainting model the first time its tab opens; shows the
   * not-available state if the core or the model file cannot do it. */
  async function openInpaint() {
    if (IP.state === 'ready') { if (!IP.last) runInpaint(); else renderInpaint(); renderGenerate(); return; }
    if (IP.state !== 'idle') return;
    IP.state = 'loading';
    await initP; // the worker loads the core first
    await settingsP; // and the URL settings apply before the first run
    await loadInpaintModel();
  }

  /* Shows the inpainting model `dataset` at once: a file the person dropped
   * ('user:NAME', web/userfile.js), after the worker's init and the URL settings. */
  async function openDataset(dataset) {
    IP.state = 'loading';
    $('inpaint-loading').hidden = false;
    await initP;
    await settingsP;
    await loadInpaintModel(dataset);
  }

  /* Asks the worker for the inpainting model of `dataset` (null: the first that
   * works) and shows it, or the not-available state with the reason. */
  async function loadInpaintModel(dataset = null) {
    let r;
    try {
      r = await call('inpaintOpen', { manifest: './models.json', dataset });
    } catch (err) {
      r = { available: false, reason: err.message };
    }
    $('inpaint-loading').hidden = true;
    IP.last = null; IP.gen = null;
    if (r.datasets && r.datasets.length) {
      const sel = $('ip-data');
      if (sel.options.length !== r.datasets.length) {
        sel.innerHTML = '';
        for (const d of r.datasets) {
          const o = document.createElement('option');
          o.value = d.dataset; o.textContent = DATASET_NAMES[d.dataset] || d.name;
          sel.append(o);
        }
      }
      $('ip-datarow').hidden = false;
    }
    IP.dataset = r.available ? r.entry.dataset : dataset;
    if (IP.dataset) $('ip-data').value = IP.dataset;
    $('inpaint-na').hidden = r.available;
    $('inpaint-view').hidden = !r.available;
    if (!r.available) {
      IP.state = 'na';
      $('inpaint-reason').textContent = 'Why: ' + r.reason;
      setStatus('The inpainting model for this dataset is not available.');
      return;
    }
    IP.state = 'ready'; IP.info = r;
    $('ip-cursor').max = $('ip-gencursor').max = String(r.T - 1);
    if (r.samples) { $('ip-sample').max = String(r.samples.n - 1); IP.i = Math.min(IP.i, r.samples.n - 1); }
    $('ip-note').textContent = r.entry.what ? `Model: ${r.entry.name}, ${r.entry.what}, ${r.size} x ${r.size}, T = ${r.T}.`
      : `Model: ${r.entry.name} (${r.entry.file}), ${r.size} x ${r.size}, T = ${r.T}; how it was trained: docs/inpainting.md.`;
    renderGenerate();
    runInpaint();
  }
  const DATASET_NAMES = { mnist: 'MNIST digits', fashion: 'Fashion-MNIST' };
  $('ip-data').addEventListener('change', () => {
    $('inpaint-loading').hidden = false;
    loadInpaintModel($('ip-data').value);
  });

  /* Settings changed: inpaint again, and generate the shown seed again. */
  function refreshInpaint() {
    runInpaint();
    if (IP.gen) runGenerate(IP.genSeed);
  }

  /* The read settings of the page, for ip.inpaint and ip.generate. */
  const ipOpts = () => ({ readNoise: S.noise, adcBits: S.adc, earlyStop: S.stop, noiseSeed: S.seed, options: options() });

  function holeMask() {
    const n = IP.info.size, h = new Uint8Array(n * n);
    for (let y = IP.hole[1]; y < IP.hole[1] + 8; y++) for (let x = IP.hole[0]; x < IP.hole[0] + 8; x++) h[y * n + x] = 1;
    return h;
  }

  /* Runs the current sample and hole with the current read settings; latest wins. */
  function runInpaint() {
    if (IP.state !== 'ready') return;
    if (IP.busy) { IP.queued = true; return; }
    IP.busy = true; IP.queued = false;
    const opts = ipOpts();
    call('inpaint', { i: IP.i, hole: holeMask(), opts })
      .then((r) => {
        r.noise = opts.readNoise;
        IP.last = r; IP.cursor = r.stepsUsed - 1; IP.runs++;
        document.body.dataset.ipruns = String(IP.runs);
        if (V.tab === 'inpaint') renderInpaint();
        setStatus(`Inpainted in ${r.stepsUsed} of ${r.T} timesteps (${r.ms.toFixed(0)} ms).`);
      })
      .catch((err) => fail('Inpainting failed: ' + err.message))
      .finally(() => { IP.busy = false; if (IP.queued) runInpaint(); });
  }

  /* An n x n [-1, 1] image as grey ImageData; hole pixels (if given) in dark red. */
  function signedImage(ctx, img, n, hole) {
    const im = ctx.createImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const v = Math.max(0, Math.min(255, (img[i] + 1) * 127.5));
      const o = 4 * i;
      if (hole && hole[i]) { im.data[o] = 130; im.data[o + 1] = 36; im.data[o + 2] = 36; }
      else { im.data[o] = im.data[o + 1] = im.data[o + 2] = v; }
      im.data[o + 3] = 255;
    }
    return im;
  }

  /* Draws a [-1, 1] image on the whole canvas; hole pixels (if given) in dark red. */
  function drawSigned(canvas, img, n, hole) {
    canvas.width = n; canvas.height = n;
    const ctx = canvas.getContext('2d');
    ctx.putImageData(signedImage(ctx, img, n, hole), 0, 0);
  }

  /* Energy of an inpaint or generate result against its digital baseline. */
  const ipEnergy = (r) => `${fmtEnergy(r.energyPj)} (${ratioText(r.energyRatio)}; digital baseline ${fmtEnergy(r.baselinePj)})`;

  function renderInpaint() {
    const r = IP.last;
    if (!r) return;
    const n = r.size, hole = holeMask();
    drawSigned($('ip-input'), r.clean, n, hole);
    drawSigned($('ip-clean'), r.clean, n);
    const t = Math.min(IP.cursor, r.stepsUsed - 1);
    const rec = r.steps[t];
    drawSigned($('ip-recon'), rec, n);
    // the input with the hole filled in: known pixels kept, the network's output only inside the hole
    const filled = Float32Array.from(r.clean, (v, i) => (hole[i] ? rec[i] : v));
    drawSigned($('ip-filled'), filled, n);
    $('ip-filledcap').textContent = `hole filled in, step ${t + 1}`;
    $('ip-reconcap').textContent = `raw output, step ${t + 1}`;
    $('ip-cursor').value = String(t); $('ip-cursorout').textContent = String(t + 1);
    $('ip-sample').value = String(r.i);
    const stopped = r.stepsUsed < r.T;
    $('ip-steps').textContent = `${r.stepsUsed} of ${r.T}` + (stopped ? ` (stopped early, ${(100 * (1 - r.stepsUsed / r.T)).toFixed(0)}% saved)` : '');
    $('ip-energy').textContent = ipEnergy(r);
    const sn = $('ip-stopnote');
    sn.hidden = !(S.stop && !stopped);
    if (!sn.hidden) sn.textContent = 'The early stop did not fire: it needs m_t (the change of the output per step) to fall three ' +
      'times in a row and end below 0.2. ' + (r.noise >= 0.05 ? `With read noise ${r.noise.toFixed(2)} every step reads fresh noise, so the ` +
      'output keeps moving and m_t stays above the line (docs/inpainting.md); lower the read noise to see it stop.' :
      'This image still changed too much at the last step.');
    let se = 0, k = 0;
    for (let i = 0; i < n * n; i++) if (hole[i]) { se += (rec[i] - r.clean[i]) ** 2; k++; }
    const mse = se / Math.max(1, k);
    $('ip-mse').textContent = `MSE ${mse.toFixed(3)}, PSNR ${(10 * Math.log10(4 / Math.max(mse, 1e-12))).toFixed(1)} dB (step ${t + 1}, values in [-1, 1])`;
    const pts = Array.from(r.m).map((v, i) => [i + 1, v]).slice(1);
    const top = Math.max(0.3, ...pts.map((p) => p[1])) * 1.1;
    const warn = cssVar('--warn', '#955300');
    linePlot($('ip-m'), {
      x: [0.5, r.T + 0.5], y: [0, top], xInt: true, xLabel: 'timestep', yLabel: 'm_t', aspect: 0.32,
      series: [{ points: pts, color: getComputedStyle(document.documentElement).getPropertyValue('--accent2').trim() || '#2f6fd6' }],
      hLines: S.stop ? [{ y: 0.2, label: 'stop below 0.2' }] : [],
      vLines: [...(stopped ? [{ x: r.stepsUsed, label: `stopped at ${r.stepsUsed}`, color: warn }] : []), { x: t + 1, color: '#f5c542' }],
    });
  }

  function moveHole(x, y) {
    const n = IP.info.size;
    IP.hole = [Math.max(0, Math.min(n - 8, x)), Math.max(0, Math.min(n - 8, y))];
    if (IP.last) drawSigned($('ip-input'), IP.last.clean, n, holeMask());
    runInpaint();
  }
  $('ip-input').addEventListener('click', (e) => {
    if (!IP.info) return;
    const b = $('ip-input').getBoundingClientRect(), n = IP.info.size;
    moveHole(Math.floor((e.clientX - b.left) / b.width * n) - 4, Math.floor((e.clientY - b.top) / b.height * n) - 4);
  });
  $('ip-input').addEventListener('keydown', (e) => {
    if (!IP.info) return;
    const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
    if (!d) return;
    e.preventDefault();
    moveHole(IP.hole[0] + d[0], IP.hole[1] + d[1]);
  });
  function useInpaintSample(i) {
    const n = IP.info && IP.info.samples ? IP.info.samples.n : 1;
    IP.i = ((i % n) + n) % n;
    $('ip-sample').value = String(IP.i);
    runInpaint();
  }
  $('ip-sample').addEventListener('change', () => useInpaintSample(parseInt($('ip-sample').value, 10) || 0));
  $('ip-prev').addEventListener('click', () => useInpaintSample(IP.i - 1));
  $('ip-next').addEventListener('click', () => useInpaintSample(IP.i + 1));
  $('ip-cursor').addEventListener('input', () => { IP.cursor = parseInt($('ip-cursor').value, 10); renderInpaint(); });

  /* Generates from the prior with this seed; latest wins. */
  function runGenerate(seed) {
    if (IP.state !== 'ready') return;
    IP.genSeed = seed;
    if (IP.genBusy) { IP.genQueued = true; return; }
    IP.genBusy = true; IP.genQueued = false;
    $('ip-gen').disabled = true;
    call('generate', { seed, opts: ipOpts() })
      .then((r) => {
        if (IP.state !== 'ready' || r.file !== IP.info.entry.file) return; // the dataset changed meanwhile
        IP.gen = r; IP.genCursor = r.stepsUsed - 1; IP.genRuns++;
        document.body.dataset.ipgenruns = String(IP.genRuns);
        if (V.tab === 'inpaint') renderGenerate();
        setStatus(`Generated seed ${r.seed} in ${r.stepsUsed} of ${r.T} timesteps (${r.ms.toFixed(0)} ms).`);
      })
      .catch((err) => fail('Generation failed: ' + err.message))
      .finally(() => { IP.genBusy = false; $('ip-gen').disabled = false; if (IP.genQueued) runGenerate(IP.genSeed); });
  }

  /* Draws the generated image at the chosen step and every step in a strip. */
  function renderGenerate() {
    const r = IP.gen;
    $('ip-genview').hidden = $('ip-genrow').hidden = !r;
    if (!r) { for (const id of ['ip-genseed', 'ip-gensteps', 'ip-genenergy']) $(id).textContent = '-'; return; }
    const n = r.size, t = Math.min(IP.genCursor, r.stepsUsed - 1);
    drawSigned($('ip-genimg'), r.steps[t], n);
    $('ip-gencap').textContent = `generated, after step ${t + 1}`;
    $('ip-gencursor').value = String(t); $('ip-gencursorout').textContent = String(t + 1);
    const strip = $('ip-genstrip'), ctx = strip.getContext('2d'), gap = 2;
    strip.width = r.T * (n + gap) - gap; strip.height = n;
    ctx.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--bg').trim() || '#fff';
    ctx.fillRect(0, 0, strip.width, strip.height);
    r.steps.forEach((img, k) => ctx.putImageData(signedImage(ctx, img, n), k * (n + gap), 0));
    ctx.strokeStyle = '#f5c542'; ctx.lineWidth = 1;
    ctx.strokeRect(t * (n + gap) + 0.5, 0.5, n - 1, n - 1);
    $('ip-genseed').textContent = String(r.seed);
    $('ip-gensteps').textContent = `${r.stepsUsed} of ${r.T}` + (r.stepsUsed < r.T ? ' (stopped early)' : '');
    $('ip-genenergy').textContent = ipEnergy(r);
  }
  $('ip-gen').addEventListener('click', () => runGenerate(IP.genSeed + 1));
  $('ip-gencursor').addEventListener('input', () => { IP.genCursor = parseInt($('ip-gencursor').value, 10); renderGenerate(); });
  $('ip-genstrip').addEventListener('click', (e) => {
    if (!IP.gen) return;
    const b = $('ip-genstrip').getBoundingClientRect();
    IP.genCursor = Math.max(0, Math.min(IP.gen.stepsUsed - 1, Math.floor((e.clientX - b.left) / b.width * IP.gen.T)));
    renderGenerate();
  });

  return { IP, openInpaint, openDataset, refreshInpaint, renderInpaint, renderGenerate, initDone: () => initDone(), settingsDone: () => settingsDone() };
}
