// crossbar.js - the Crossbar tab of the page (docs/web.md): each array as a
// conductance heat map on one colour scale with ticks, legend, histogram and a
// hover readout, the IR-drop voltage map of an array (irmap.js), and how the
// layers are tiled on the arrays. app.js wires it in with initCrossbar.

import { drawCrossbar, drawColorbar, drawHistogram, prepare, placeHeat } from './plots.js';
import { drawIrMap } from './irmap.js';

const $ = (id) => document.getElementById(id);

/* ctx: {call, V (view: info, arrayData, irData, xbar*), workerSettings (), fail, cssVar}. */
export function initCrossbar({ call, V, workerSettings, fail, cssVar }) {
  async function showArray() {
    if (!V.info) return;
    const sel = $('arraysel');
    const i = Math.min(parseInt(sel.value || '0', 10) || 0, V.info.totalArrays - 1);
    const ir = V.info.irdrop && $('xbarshow').value === 'ir';
    for (const id of ['xbarhist', 'xbarlegend', 'xbarscale']) $(id).hidden = ir;
    $('def-xbarshow').hidden = !ir;
    if (ir) { showIrMap(i); return; }
    V.irData = null;
    try {
      const r = await call('array', { i, settings: workerSettings() });
      V.arrayData = r;
      if ($('xbarshow').value === 'ir') return; // switched to the IR-drop map meanwhile
      drawArray();
    } catch (err) {
      fail('Crossbar view failed: ' + err.message);
    }
  }

  function layerOfArray(tiling, i) {
    for (let l = 0; l < tiling.length; l++) {
      const t = tiling[l];
      if (t && i >= t.firstArray && i < t.firstArray + t.arrays) return { l, t, k: i - t.firstArray };
    }
    return null;
  }

  /* The IR-drop voltage map of array i (irmap.js) in place of the conductances. */
  async function showIrMap(i) {
    try {
      const r = await call('irmap', { i, settings: workerSettings() });
      V.irData = r;
      const p = drawIrMap($('xbar'), r, Math.min(512, $('xbar').parentElement.clientWidth - 26), drawAxisTicks);
      V.xbarRegion = p.region; V.xbarPlot = p.plot;
      drawColorbar($('xbarbar'), r.vRead, 'V', '(v_read: no drop)');
      hoverAt(V.xbarHover);
      const st = p.stats, pc = (x) => (100 * x).toFixed(2) + '%';
      $('xbarnote').textContent = `Array ${i}: layer ${r.layer + 1}, array ${r.array + 1} of ${r.arrays} of its wire model (${r.rows} used rows x ` +
        `${r.cols} columns of a ${r.tile} x ${r.tile} array), every used row at v_read = ${r.vRead.toFixed(2)} V. Lowest voltage across a cell: ` +
        `${st.min.toFixed(4)} V (${pc(st.min / r.vRead)} of v_read) at row ${st.minRow}, column ${st.minCol}. Column currents ${pc(st.meanErr)} below ` +
        `the ideal array on average, ${pc(st.worstErr)} at worst (exact nodal solve, ${r.iterations} iterations).`;
    } catch (err) {
      V.irData = null;
      const ctx = $('xbar').getContext('2d'); ctx.clearRect(0, 0, $('xbar').width, $('xbar').height);
      $('xbarnote').textContent = `No IR-drop map: ${err.message}. It needs wire resistance: set r_row and r_col (Device effects, ` +
        'IR drop) above 0 ohm, for example 1 ohm per segment.';
    }
  }

  function drawArray() {
    const r = V.arrayData;
    if (!r || V.irData) return;
    const N = 512, g = r.g, d = r.device;
    let x0 = N, y0 = N, x1 = -1, y1 = -1;
    for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) {
      const v = g[y * N + x];
      if (v > 0) { if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
    }
    // one colour scale for every array of the chip: 0 .. g_max (stuck-at-on cells sit at the top)
    const gmax = d.gMax > 0 ? d.gMax : 60;
    let region = { x: 0, y: 0, w: N, h: N };
    if ($('cropused').checked && x1 >= 0) region = { x: 0, y: 0, w: x1 + 1, h: y1 + 1 }; // layers start at cell (0, 0)
    const offBelow = d.gOff > 0 ? d.gOff + 4 * (d.gOffSd || 0) + 1e-6 : 0;
    const off = V.xbarOff || (V.xbarOff = document.createElement('canvas'));
    const c = drawCrossbar(off, g, N, region, gmax, offBelow);
    const P = placeHeat($('xbar'), off, region, Math.min(512, $('xbar').parentElement.clientWidth - 26), drawAxisTicks);
    const aspect = P.aspect;
    V.xbarRegion = region; V.xbarPlot = P;
    drawColorbar($('xbarbar'), gmax);
    drawHistogram($('xbarhist'), g, gmax, offBelow);
    hoverAt(V.xbarHover); // the readout follows the array shown
    const where = layerOfArray(r.tiling, r.i);
    const lname = where ? `layer ${where.l + 1} (${V.info.arch.layers[where.l].op}), tile ${where.k + 1} of ${where.t.arrays}` : 'unused';
    $('xbarnote').textContent = `Array ${r.i}: ${lname}. ${c.used.toLocaleString()} cells in use, ${c.off.toLocaleString()} of them in the off state ` +
      `(${c.used ? (100 * c.off / c.used).toFixed(1) : 0}%). Rows are inputs; columns come in pairs (G+, G-) per output. ` +
      (region.w < N || region.h < N ? `Showing rows 0..${region.h - 1} and columns 0..${region.w - 1} (${region.w >> 1} outputs) of 512 x 512` +
        (region.w / region.h !== aspect ? ', cells stretched to fit.' : '.') : 'Showing the whole array.');
  }

  $('arraysel').addEventListener('change', showArray);
  $('xbarshow').addEventListener('change', showArray);
  $('cropused').addEventListener('change', drawArray);
  /* Row and column ticks around the heat map (cell indices of the array). */
  function drawAxisTicks(ctx, M, pw, ph, reg) {
    ctx.font = '11px system-ui, sans-serif'; ctx.fillStyle = cssVar('--fg', '#222'); ctx.strokeStyle = cssVar('--muted', '#666');
    const step = (n, px) => [1, 2, 5, 10, 20, 25, 50, 100, 128, 256].find((s) => px / (n / s) >= 40) || 512;
    const sx = step(reg.w, pw), sy = step(reg.h, ph);
    ctx.textAlign = 'center'; ctx.textBaseline = 'top';
    for (let v = 0; v <= reg.w; v += sx) { const x = M.l + v / reg.w * pw; ctx.beginPath(); ctx.moveTo(x, M.t + ph); ctx.lineTo(x, M.t + ph + 4); ctx.stroke(); ctx.fillText(String(reg.x + v), x, M.t + ph + 5); }
    ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
    for (let v = 0; v <= reg.h; v += sy) { const y = M.t + v / reg.h * ph; ctx.beginPath(); ctx.moveTo(M.l - 4, y); ctx.lineTo(M.l, y); ctx.stroke(); ctx.fillText(String(reg.y + v), M.l - 6, y); }
    ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
    ctx.fillText('column (G+, G\u2212 pairs per output)', M.l + pw / 2, M.t + ph + 30);
    ctx.save(); ctx.translate(9, M.t + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = 'middle'; ctx.fillText('row (input)', 0, 0); ctx.restore();
  }

  /* The hover readout for the cell under a pointer position (client x, y), on the array shown now. */
  function hoverAt(p) {
    const r = V.irData || V.arrayData, reg = V.xbarRegion, P = V.xbarPlot;
    if (!p || !r || !reg || !P) return;
    const b = $('xbar').getBoundingClientRect();
    const x = reg.x + Math.floor((p[0] - b.left - P.l) / P.pw * reg.w), y = reg.y + Math.floor((p[1] - b.top - P.t) / P.ph * reg.h);
    if (x < reg.x || y < reg.y || x >= reg.x + reg.w || y >= reg.y + reg.h) { $('xbarhover').textContent = '\u00a0'; return; }
    if (V.irData) {
      $('xbarhover').textContent = `array ${r.i}, row ${y}, column ${x}: ${r.v[y * r.cols + x].toFixed(4)} V across the cell`;
      return;
    }
    const v = r.g[y * 512 + x];
    $('xbarhover').textContent = `array ${r.i}, row ${y}, column ${x} (${x % 2 ? 'G\u2212' : 'G+'} of output ${x >> 1}): ` + (v > 0 ? `${v.toFixed(2)} \u00b5S` : 'unused');
  }
  $('xbar').addEventListener('pointermove', (e) => { V.xbarHover = [e.clientX, e.clientY]; hoverAt(V.xbarHover); });

  function fillTiling() {
    const info = V.info, tl = info.tiling, tab = $('tiling');
    let html = '<thead><tr><th scope="col">layer</th><th scope="col">matrix</th><th scope="col">tiles</th><th scope="col">arrays</th><th scope="col">fill</th><th scope="col">first</th></tr></thead><tbody>';
    info.arch.layers.forEach((L, l) => {
      const t = tl[l];
      const name = `${l + 1} ${L.op} ${L.inC}x${L.inH}x${L.inW} &rarr; ${L.outC}x${L.outH}x${L.outW}`;
      if (!t) html += `<tr><td>${name}</td><td colspan="5" class="muted">digital (no crossbar)</td></tr>`;
      else html += `<tr><td>${name}</td><td>${t.rows} x ${t.cols}</td><td>${t.rowTiles} x ${t.colTiles}</td><td>${t.arrays}</td><td>${(100 * t.fill).toFixed(1)}%</td><td>${t.firstArray}</td></tr>`;
    });
    tab.innerHTML = html + `</tbody><tfoot><tr><td>total</td><td></td><td></td><td>${info.totalArrays}</td><td></td><td></td></tr></tfoot>`;
    const sel = $('arraysel');
    sel.innerHTML = '';
    for (let i = 0; i < info.totalArrays; i++) {
      const w = layerOfArray(tl, i);
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = `array ${i}` + (w ? ` (layer ${w.l + 1} ${info.arch.layers[w.l].op}, tile ${w.k + 1}/${w.t.arrays})` : '');
      sel.append(o);
    }
  }

  const LAYER_COLORS = ['#2f6fd6', '#1f8a5b', '#d17a00', '#9b4dca', '#c2362f', '#138d90', '#7a7a00', '#b0467a'];
  function drawTilemap() {
    const info = V.info, n = info.totalArrays;
    const cell = 38, gap = 6;
    const canvas = $('tilemap');
    const { ctx, w } = prepare(canvas, 0, 10);
    const perRow = Math.max(1, Math.floor((w + gap) / (cell + gap)));
    const rows = Math.ceil(n / perRow);
    const { ctx: c2 } = prepare(canvas, 0, rows * (cell + gap) + 22);
    c2.clearRect(0, 0, w, canvas.height);
    for (let i = 0; i < n; i++) {
      const where = layerOfArray(info.tiling, i);
      const x = (i % perRow) * (cell + gap), y = Math.floor(i / perRow) * (cell + gap);
      c2.fillStyle = where ? LAYER_COLORS[where.l % LAYER_COLORS.length] : '#888';
      c2.globalAlpha = 0.25; c2.fillRect(x, y, cell, cell); c2.globalAlpha = 1;
      if (where) { // used fraction of this array
        const t = where.t, rowsHere = Math.min(512, t.rows - Math.floor(where.k / t.colTiles) * 512);
        const colsHere = Math.min(512, 2 * (t.cols) - (where.k % t.colTiles) * 512);
        c2.fillRect(x, y, cell * Math.max(0.04, Math.min(1, colsHere / 512)), cell * Math.max(0.04, Math.min(1, rowsHere / 512)));
      }
      c2.strokeStyle = '#888'; c2.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
      c2.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--fg').trim() || '#222';
      c2.textAlign = 'right'; c2.textBaseline = 'bottom'; c2.fillText(String(i), x + cell - 3, y + cell - 2);
    }
    $('tilelegend').innerHTML = info.arch.layers.map((L, l) => info.tiling[l] ?
      `<span><span class="sw" style="background:${LAYER_COLORS[l % LAYER_COLORS.length]}"></span> layer ${l + 1} (${L.op})</span>` : '').join('') +
      '<span><span class="sw" style="background:#888"></span> unused array</span>';
    c2.textAlign = 'left'; c2.textBaseline = 'bottom';
    c2.fillStyle = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#666';
    c2.fillText('each square is one 512 x 512 array; the filled part is the block of rows and columns a layer uses', 0, rows * (cell + gap) + 18);
    canvas.onclick = (e) => {
      const b = canvas.getBoundingClientRect();
      const i = Math.floor((e.clientY - b.top) / (cell + gap)) * perRow + Math.floor((e.clientX - b.left) / (cell + gap));
      if (i >= 0 && i < n) { $('arraysel').value = String(i); showArray(); }
    };
  }

  return { showArray, drawArray, fillTiling, drawTilemap };
}
