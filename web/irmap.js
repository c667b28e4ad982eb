// irmap.js - the Crossbar view's IR-drop map (docs/web.md): the voltage across
// every cell of one array from the core's exact nodal solve (worker.js irmap,
// wasm/prime.js irdropMap), every used row driven at v_read; with wire
// resistance the cells far from the drivers and the sense amplifiers see less.

import { viridis, placeHeat } from './plots.js';

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
  const region = { x: 0, y: 0, w: cols, h: rows };
  const plot = placeHeat(cv, off, region, avail, ticks);
  let err = 0, worst = 0, k = 0;
  for (let c = 0; c < r.iCol.length; c++) {
    if (!(Math.abs(r.iIdeal[c]) > 1e-9)) continue;
    const e = (r.iIdeal[c] - r.iCol[c]) / Math.abs(r.iIdeal[c]);
    err += e; worst = Math.max(worst, e); k++;
  }
  return { plot, region, stats: { min: lo, minRow: Math.floor(at / cols), minCol: at % cols, meanErr: k ? err / k : 0, worstErr: worst } };
}
