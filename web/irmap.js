// irmap.js - the Crossbar view's IR-drop map (docs/web.md): the voltage across
// every cell of one array from the core's exact nodal solve (worker.js irmap,
// wasm/prime.js irdropMap), every used row driven at v_read; with wire
// resistance the cells far from the drivers and the sense amplifiers see less.

import { viridis } from './plots.js';

const css = (name, fallback) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

/* Draws r ({rows, cols, v (V across each cell), vRead, iCol, iIdeal}) on the
 * heat-map canvas with axis ticks (ticks(ctx, M, pw, ph, region)); returns
 * {plot, region, stats} for the hover readout and the caption. */
export function drawIrMap(cv, r, avail, ticks) {
  const { rows, cols, v, vRead } = r;
  let lo = Infinity, at = 0;
  for (let j = 0; j < v.length; j++) if (v[j] < lo) { lo = v[j]; at = j; }
  const off = document.createElement('canvas');
  off.width = cols; off.height = rows;
  const octx = off.getContext('2d'), img = octx.createImageData(cols, rows);
  for (let j = 0; j < v.length; j++) {
    const c = viridis(v[j] / vRead);
    img.data[4 * j] = c[0]; img.data[4 * j + 1] = c[1]; img.data[4 * j + 2] = c[2]; img.data[4 * j + 3] = 255;
  }
  octx.putImageData(img, 0, 0);
  const aspect = Math.min(2, Math.max(0.5, cols / rows));
  const M = { l: 40, b: 30, t: 4, r: 6 };
  const pw = Math.round(aspect >= 1 ? avail : avail * aspect) - M.l - M.r, ph = Math.round(aspect >= 1 ? avail / aspect : avail) - M.t - M.b;
  const dpr = window.devicePixelRatio || 1;
  cv.style.width = pw + M.l + M.r + 'px'; cv.style.height = ph + M.t + M.b + 'px';
  cv.width = Math.round((pw + M.l + M.r) * dpr); cv.height = Math.round((ph + M.t + M.b) * dpr);
  const ctx = cv.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = css('--card', '#fff'); ctx.fillRect(0, 0, pw + M.l + M.r, ph + M.t + M.b);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, M.l, M.t, pw, ph);
  const region = { x: 0, y: 0, w: cols, h: rows };
  ticks(ctx, M, pw, ph, region);
  let err = 0, worst = 0, k = 0;
  for (let c = 0; c < r.iCol.length; c++) {
    if (!(Math.abs(r.iIdeal[c]) > 1e-9)) continue;
    const e = (r.iIdeal[c] - r.iCol[c]) / Math.abs(r.iIdeal[c]);
    err += e; worst = Math.max(worst, e); k++;
  }
  return { plot: { ...M, pw, ph }, region, stats: { min: lo, minRow: Math.floor(at / cols), minCol: at % cols, meanErr: k ? err / k : 0, worstErr: worst } };
}

/* The colour bar of the map: 0 .. v_read volts. */
export function drawVoltBar(canvas, vRead) {
  const dpr = window.devicePixelRatio || 1, w = canvas.clientWidth || 300, h = 34;
  canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr); canvas.style.height = h + 'px';
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const bw = w - 20;
  for (let x = 0; x < bw; x++) {
    const c = viridis(x / bw);
    ctx.fillStyle = `rgb(${c[0] | 0},${c[1] | 0},${c[2] | 0})`;
    ctx.fillRect(10 + x, 2, 1, 12);
  }
  ctx.fillStyle = css('--fg', '#222'); ctx.font = '12px system-ui, sans-serif'; ctx.textBaseline = 'top';
  ctx.textAlign = 'left'; ctx.fillText('0 V', 10, 17);
  ctx.textAlign = 'right'; ctx.fillText(`${vRead.toFixed(2)} V (v_read: no drop)`, 10 + bw, 17);
}
