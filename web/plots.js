// plots.js - the page's own small canvas plots (no library).
//
// Every function takes a <canvas>, sizes its backing store to the canvas's CSS
// width times devicePixelRatio (height from an aspect ratio or a fixed CSS
// height), and draws in CSS pixels. Nothing here keeps state between calls.

const FONT = '12px system-ui, sans-serif';

/* Sizes `canvas` for sharp drawing; returns {ctx, w, h} in CSS pixels. */
export function prepare(canvas, aspect, minH = 0) {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(120, canvas.clientWidth || canvas.parentElement.clientWidth || 300);
  const h = Math.max(minH, Math.round(w * aspect));
  canvas.style.height = h + 'px';
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.font = FONT;
  return { ctx, w, h };
}

function css(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/* Nice tick values between lo and hi (about n of them). */
function ticks(lo, hi, n = 5) {
  const span = hi - lo || 1;
  const raw = span / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((s) => s * mag).find((s) => span / s <= n) || mag * 10;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(+v.toFixed(10));
  return out;
}

/* Line / scatter plot.
 * opt: {x: [lo, hi], y: [lo, hi], xLabel, yLabel, series: [{points: [[x, y, text?]], color, label, dots, dash}],
 *       hLines: [{y, label, color}], vLines: [{x, label, color}], xInt (integer ticks), aspect,
 *       legend (draw the series' labels, top left)} */
export function linePlot(canvas, opt) {
  const { ctx, w, h } = prepare(canvas, opt.aspect || 0.5, 160);
  const fg = css('--fg', '#222'), grid = css('--grid', '#ddd'), muted = css('--muted', '#666');
  const m = { l: 50, r: 12, t: 12, b: 34 };
  const pw = w - m.l - m.r, ph = h - m.t - m.b;
  const [x0, x1] = opt.x, [y0, y1] = opt.y;
  const X = (v) => m.l + ((v - x0) / (x1 - x0 || 1)) * pw;
  const Y = (v) => m.t + ph - ((v - y0) / (y1 - y0 || 1)) * ph;
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = grid; ctx.fillStyle = muted; ctx.lineWidth = 1;
  ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  for (const v of ticks(y0, y1, 4)) {
    ctx.beginPath(); ctx.moveTo(m.l, Y(v)); ctx.lineTo(m.l + pw, Y(v)); ctx.stroke();
    ctx.fillText(String(+v.toFixed(3)), m.l - 4, Y(v));
  }
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  let xt = ticks(x0, x1, Math.max(3, Math.floor(pw / 60)));
  if (opt.xInt) xt = xt.filter((v) => Number.isInteger(v));
  for (const v of xt) {
    ctx.beginPath(); ctx.moveTo(X(v), m.t + ph); ctx.lineTo(X(v), m.t + ph + 4); ctx.stroke();
    ctx.fillText(String(+v.toFixed(3)), X(v), m.t + ph + 6);
  }
  ctx.strokeStyle = fg;
  ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, m.t + ph); ctx.lineTo(m.l + pw, m.t + ph); ctx.stroke();
  ctx.fillStyle = fg;
  if (opt.xLabel) { ctx.textAlign = 'center'; ctx.textBaseline = 'bottom'; ctx.fillText(opt.xLabel, m.l + pw / 2, h - 1); }
  if (opt.yLabel) {
    ctx.save(); ctx.translate(9, m.t + ph / 2); ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center'; ctx.textBaseline = 'middle'; ctx.fillText(opt.yLabel, 0, 0); ctx.restore();
  }
  for (const l of opt.hLines || []) {
    ctx.strokeStyle = l.color || '#c33'; ctx.setLineDash([5, 4]);
    ctx.beginPath(); ctx.moveTo(m.l, Y(l.y)); ctx.lineTo(m.l + pw, Y(l.y)); ctx.stroke();
    ctx.setLineDash([]); ctx.fillStyle = l.color || '#c33';
    ctx.textAlign = 'right'; ctx.textBaseline = 'bottom';
    if (l.label) ctx.fillText(l.label, m.l + pw - 2, Y(l.y) - 2);
  }
  for (const l of opt.vLines || []) {
    ctx.strokeStyle = l.color || muted; ctx.setLineDash([2, 3]);
    ctx.beginPath(); ctx.moveTo(X(l.x), m.t); ctx.lineTo(X(l.x), m.t + ph); ctx.stroke();
    ctx.setLineDash([]); ctx.fillStyle = l.color || muted;
    ctx.textAlign = X(l.x) + (l.label ? ctx.measureText(l.label).width : 0) + 4 > m.l + pw ? 'right' : 'left'; ctx.textBaseline = 'top';
    if (l.label) ctx.fillText(l.label, X(l.x) + (ctx.textAlign === 'left' ? 3 : -3), m.t + 1);
  }
  for (const s of opt.series || []) {
    const pts = s.points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
    ctx.strokeStyle = s.color || fg; ctx.fillStyle = s.color || fg; ctx.lineWidth = 2;
    if (s.line !== false && pts.length > 1) {
      ctx.setLineDash(s.dash || []);
      ctx.beginPath();
      pts.forEach((p, i) => (i ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))));
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.textAlign = 'center'; ctx.textBaseline = 'bottom';
    const boxes = []; // labels that would overlap one already drawn are left out
    for (const p of pts) {
      ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), s.r || 3.5, 0, 2 * Math.PI); ctx.fill();
      if (p[2] == null) continue;
      const t = String(p[2]), tw = ctx.measureText(t).width, x = X(p[0]), y = Y(p[1]) - 5;
      const box = [x - tw / 2 - 2, y - 13, x + tw / 2 + 2, y];
      if (boxes.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) continue;
      boxes.push(box);
      ctx.fillText(t, x, y);
    }
    ctx.lineWidth = 1;
  }
  if (opt.legend) {
    let ly = m.t + 4;
    ctx.textAlign = 'left'; ctx.textBaseline = 'middle';
    for (const s of (opt.series || []).filter((q) => q.label)) {
      ctx.strokeStyle = s.color || fg; ctx.lineWidth = 2; ctx.setLineDash(s.dash || []);
      ctx.beginPath(); ctx.moveTo(m.l + 8, ly + 6); ctx.lineTo(m.l + 30, ly + 6); ctx.stroke();
      ctx.setLineDash([]); ctx.lineWidth = 1; ctx.fillStyle = fg;
      ctx.fillText(s.label, m.l + 36, ly + 6);
      ly += 16;
    }
  }
  if (opt.empty) {
    ctx.fillStyle = muted; ctx.textAlign = 'center'; ctx.textBaseline = 'middle';
    ctx.fillText(opt.empty, m.l + pw / 2, m.t + ph / 2);
  }
}

/* Input event frames, frame t: OFF events (channel 0) magenta, ON (channel 1) green. */
export function drawFrame(canvas, frames, t, size) {
  const ctx = canvas.getContext('2d');
  canvas.width = size; canvas.height = size;
  const img = ctx.createImageData(size, size);
  const n = size * size, base = t * 2 * n;
  let max = 1;
  for (let i = 0; i < 2 * n; i++) max = Math.max(max, frames[base + i]);
  const g = 1 / Math.min(max, 4);
  for (let i = 0; i < n; i++) {
    const off = Math.min(1, frames[base + i] * g), on = Math.min(1, frames[base + n + i] * g);
    img.data[4 * i] = 20 + 235 * off;
    img.data[4 * i + 1] = 20 + 215 * on;
    img.data[4 * i + 2] = 28 + 200 * off + 40 * on;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/* Grayscale image (values 0..1, or 0..255 with scale 1/255) into a canvas of w x h. */
export function drawGray(canvas, px, w, h, scale = 1) {
  const ctx = canvas.getContext('2d');
  canvas.width = w; canvas.height = h;
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = Math.max(0, Math.min(255, px[i] * scale * 255));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/* Spike raster: one band per layer, x = timestep, y = neurons in groups; cell
 * brightness = fraction of the group's neurons that spiked at that step (for a
 * pool: the mean of its pooled spike rates).
 * layers: [{name, sub, total, n, kind: 'rate' | 'membrane',
 *           steps: [Uint8Array n, 0..255 with 255 = spike] or [Float32Array n, signed membrane]}];
 * stop: steps used; T: steps allowed; cursor: highlighted step (0-based). */
export function drawRaster(canvas, layers, T, stop, cursor) {
  const { ctx, w, h } = prepare(canvas, 0, 40 + layers.length * 70);
  const fg = css('--fg', '#222'), muted = css('--muted', '#666');
  const m = { l: 108, r: 10, t: 6, b: 24 };
  const pw = w - m.l - m.r;
  const colW = pw / T;
  const gap = 10;
  const bandH = (h - m.t - m.b - gap * (layers.length - 1)) / layers.length;
  ctx.clearRect(0, 0, w, h);
  let y = m.t;
  for (const L of layers) {
    const groups = Math.max(1, Math.min(L.n, Math.floor(bandH)));
    const per = L.n / groups;
    const gh = bandH / groups;
    ctx.fillStyle = '#0d1117'; ctx.fillRect(m.l, y, pw, bandH);
    if (L.kind === 'membrane') {
      let amax = 1e-6;
      for (const s of L.steps) for (let i = 0; i < L.n; i++) amax = Math.max(amax, Math.abs(s[i]));
      L.steps.forEach((s, t) => {
        for (let i = 0; i < L.n; i++) {
          const v = s[i] / amax;
          ctx.fillStyle = v >= 0 ? `rgba(255,190,60,${v})` : `rgba(90,150,255,${-v})`;
          ctx.fillRect(m.l + t * colW + 1, y + i * (bandH / L.n), colW - 2, Math.max(1, bandH / L.n - 1));
        }
      });
    } else {
      // fraction per group and step, shown relative to the layer's busiest group
      const fr = L.steps.map((s) => {
        const out = new Float32Array(groups);
        for (let g = 0; g < groups; g++) {
          const a = Math.floor(g * per), b = Math.max(a + 1, Math.floor((g + 1) * per));
          let c = 0;
          for (let i = a; i < b; i++) c += s[i];
          out[g] = c / (255 * (b - a)); // values are 0..255 (spike = 255)
        }
        return out;
      });
      let fmax = 1e-9;
      for (const f of fr) for (const v of f) fmax = Math.max(fmax, v);
      fr.forEach((f, t) => {
        for (let g = 0; g < groups; g++) {
          if (f[g] <= 0) continue;
          ctx.fillStyle = `rgba(120,235,165,${Math.pow(f[g] / fmax, 0.8)})`;
          ctx.fillRect(m.l + t * colW + 1, y + g * gh, colW - 2, Math.max(1, gh));
        }
      });
      L.peak = fmax;
    }
    ctx.fillStyle = fg; ctx.textAlign = 'right'; ctx.textBaseline = 'top';
    ctx.fillText(L.name, m.l - 6, y + 2);
    ctx.fillStyle = muted;
    ctx.fillText(L.sub || '', m.l - 6, y + 18);
    if (L.total != null) ctx.fillText(L.total, m.l - 6, y + 34);
    y += bandH + gap;
  }
  // steps not run (early stop) are hatched
  if (stop < T) {
    ctx.fillStyle = 'rgba(128,128,128,0.25)';
    ctx.fillRect(m.l + stop * colW, m.t, (T - stop) * colW, h - m.t - m.b);
  }
  if (cursor != null && cursor >= 0 && cursor < T) {
    ctx.strokeStyle = '#f5c542'; ctx.lineWidth = 2;
    ctx.strokeRect(m.l + cursor * colW + 0.5, m.t, colW - 1, h - m.t - m.b);
    ctx.lineWidth = 1;
  }
  ctx.fillStyle = muted; ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  const every = Math.ceil(22 / colW);
  for (let t = 0; t < T; t++) if ((t + 1) % every === 0 || t === 0) ctx.fillText(String(t + 1), m.l + (t + 0.5) * colW, h - m.b + 4);
  ctx.textAlign = 'right';
  ctx.fillText('step', m.l - 6, h - m.b + 4);
}

/* Horizontal probability bars; `label` (the prediction, -1: none) highlighted and
 * marked with a check when it equals `truth`, a cross when not; the true class
 * (if known and not predicted) says "true". Returns the row labels drawn. */
export function drawBars(canvas, probs, names, label, truth) {
  const rowH = 18;
  const { ctx, w, h } = prepare(canvas, 0, probs.length * rowH + 4);
  const fg = css('--fg', '#222'), accent = css('--accent', '#2a7'), muted = css('--muted', '#888');
  const lw = Math.min(110, Math.max(...names.map((s) => ctx.measureText(s + ' (true)').width)) + 10);
  ctx.clearRect(0, 0, w, h);
  ctx.textBaseline = 'middle';
  const labels = [];
  for (let i = 0; i < probs.length; i++) {
    const y = 2 + i * rowH;
    ctx.fillStyle = i === label ? accent : muted;
    const bw = Math.max(1, (w - lw - 48) * probs[i]);
    ctx.fillRect(lw, y + 2, bw, rowH - 5);
    ctx.fillStyle = fg; ctx.textAlign = 'right';
    const mark = i === label && truth != null ? (label === truth ? ' \u2713' : ' \u2717') : i === truth ? ' (true)' : '';
    ctx.fillText(names[i] + mark, lw - 6, y + rowH / 2);
    labels.push(names[i] + mark);
    ctx.textAlign = 'left';
    ctx.fillText((probs[i] * 100).toFixed(1) + '%', lw + bw + 4, y + rowH / 2);
  }
  return labels; // the row labels as drawn
}

/* Viridis-like colour map, v in [0,1] -> [r,g,b]. */
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
export function viridis(v) {
  v = Math.max(0, Math.min(1, v)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(v)), f = v - i;
  const a = VIRIDIS[i], b = VIRIDIS[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

/* Conductance heat map of one crossbar array region.
 * g: Float32Array(size*size) in uS (0 = unused cell); region {x, y, w, h};
 * gMax: top of the colour scale; offBelow: cells with 0 < G <= offBelow are
 * drawn as pruned (off state). Returns counts {used, off}. */
export function drawCrossbar(canvas, g, size, region, gMax, offBelow) {
  const ctx = canvas.getContext('2d');
  canvas.width = region.w; canvas.height = region.h;
  const img = ctx.createImageData(region.w, region.h);
  let used = 0, off = 0;
  for (let y = 0; y < region.h; y++) {
    for (let x = 0; x < region.w; x++) {
      const v = g[(region.y + y) * size + region.x + x];
      const o = 4 * (y * region.w + x);
      let c;
      if (!(v > 0)) c = [24, 24, 28];
      else if (v <= offBelow) { c = [230, 60, 60]; used++; off++; }
      else { c = viridis(v / gMax); used++; }
      img.data[o] = c[0]; img.data[o + 1] = c[1]; img.data[o + 2] = c[2]; img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  return { used, off };
}

/* Draws the heat-map image `off` (one pixel per cell of `region`) on the
 * canvas cv at most `avail` px wide, cells stretched within 1:2 .. 2:1 so thin
 * blocks stay visible, with room for axis ticks (ticks(ctx, M, pw, ph, region)).
 * Returns the plot box {l, t, r, b, pw, ph, aspect}. */
export function placeHeat(cv, off, region, avail, ticks) {
  const aspect = Math.min(2, Math.max(0.5, region.w / region.h));
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
  ticks(ctx, M, pw, ph, region);
  return { ...M, pw, ph, aspect };
}

/* Colour bar for the crossbar legend: 0 .. max in `unit`, the top end labelled `top`. */
export function drawColorbar(canvas, gMax, unit = '\u00b5S', top = '(g_max)') {
  const { ctx, w, h } = prepare(canvas, 0, 34);
  const fg = css('--fg', '#222');
  ctx.clearRect(0, 0, w, h);
  const bw = w - 20;
  for (let x = 0; x < bw; x++) {
    const c = viridis(x / bw);
    ctx.fillStyle = `rgb(${c[0] | 0},${c[1] | 0},${c[2] | 0})`;
    ctx.fillRect(10 + x, 2, 1, 12);
  }
  ctx.fillStyle = fg; ctx.textBaseline = 'top';
  ctx.textAlign = 'left'; ctx.fillText(`0 ${unit}`, 10, 17);
  ctx.textAlign = 'right'; ctx.fillText(`${gMax.toFixed(unit === 'V' ? 2 : 1)} ${unit} ${top}`, 10 + bw, 17);
}

/* Histogram of the used cells' conductances (log count axis); cells at or
 * below offBelow are drawn red (off state). */
export function drawHistogram(canvas, g, gMax, offBelow, bins = 64) {
  const { ctx, w, h } = prepare(canvas, 0.28, 110);
  const fg = css('--fg', '#222'), muted = css('--muted', '#666');
  const counts = new Float64Array(bins), offs = new Float64Array(bins);
  for (let i = 0; i < g.length; i++) {
    const v = g[i];
    if (!(v > 0)) continue;
    const b = Math.min(bins - 1, Math.floor((v / gMax) * bins));
    counts[b]++;
    if (v <= offBelow) offs[b]++;
  }
  const top = Math.log10(1 + Math.max(1, ...counts));
  const m = { l: 50, r: 12, t: 8, b: 30 };
  const pw = w - m.l - m.r, ph = h - m.t - m.b, bw = pw / bins;
  ctx.clearRect(0, 0, w, h);
  for (let b = 0; b < bins; b++) {
    if (!counts[b]) continue;
    // off-state cells of the bin in red, the rest in the colour of the bin
    const c = viridis((b + 0.5) / bins);
    const bh = (Math.log10(1 + counts[b]) / top) * ph;
    const oh = bh * (offs[b] / counts[b]);
    ctx.fillStyle = `rgb(${c[0] | 0},${c[1] | 0},${c[2] | 0})`;
    ctx.fillRect(m.l + b * bw, m.t + ph - bh, Math.max(1, bw - 1), bh - oh);
    ctx.fillStyle = 'rgb(230,60,60)';
    ctx.fillRect(m.l + b * bw, m.t + ph - oh, Math.max(1, bw - 1), oh);
  }
  ctx.strokeStyle = fg;
  ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, m.t + ph); ctx.lineTo(m.l + pw, m.t + ph); ctx.stroke();
  ctx.fillStyle = muted; ctx.textAlign = 'right'; ctx.textBaseline = 'middle';
  for (let e = 0; e <= top; e++) if (Math.pow(10, e) <= Math.max(...counts) * 1.01) ctx.fillText(String(Math.pow(10, e)), m.l - 4, m.t + ph - (Math.log10(1 + Math.pow(10, e)) / top) * ph);
  ctx.textAlign = 'center'; ctx.textBaseline = 'top';
  for (const v of ticks(0, gMax, Math.max(3, Math.floor(pw / 70)))) ctx.fillText(String(v), m.l + (v / gMax) * pw, m.t + ph + 3);
  ctx.fillStyle = fg; ctx.textBaseline = 'bottom';
  ctx.fillText('conductance (\u00b5S); cells per bin, log scale', m.l + pw / 2, h - 1);
}
