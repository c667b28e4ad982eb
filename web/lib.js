// lib.js - small helpers shared by the page (app.js) and the worker (worker.js):
// the .psmp sample file reader, MNIST-style centring of a drawn or uploaded
// picture, class names and URL settings. No DOM, no state.

/* Parses a sample file (little-endian): "PSMP", u32 version = 1, u32 n, u32 w,
 * u32 h, u64 event_seed, n u32 original indices, n u8 labels, n*w*h u8 pixels.
 * Returns {n, w, h, eventSeed (Number), indices, labels, pixels}; throws on a bad file. */
export function parsePsmp(buf) {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 28 || String.fromCharCode(b[0], b[1], b[2], b[3]) !== 'PSMP')
    throw new Error('not a PSMP sample file');
  const version = dv.getUint32(4, true);
  if (version !== 1) throw new Error(`PSMP version ${version} not supported`);
  const n = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true);
  const eventSeed = Number(dv.getBigUint64(20, true));
  const need = 28 + n * 4 + n + n * w * h;
  if (b.length < need || w < 1 || h < 1) throw new Error(`PSMP file truncated (${b.length} of ${need} bytes)`);
  const indices = new Uint32Array(n);
  for (let i = 0; i < n; i++) indices[i] = dv.getUint32(28 + 4 * i, true);
  const labels = b.slice(28 + 4 * n, 28 + 5 * n);
  const pixels = b.slice(28 + 5 * n, need);
  return { n, w, h, eventSeed, indices, labels, pixels };
}

/* A gzip file's contents (the training samples ship as .psmp.gz; made with
 * gzip -9n, docs/web.md), anything else as it is. Browsers and Node 20 both
 * have DecompressionStream. */
export async function gunzipIf(buf) {
  const b = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  if (b.length < 2 || b[0] !== 0x1f || b[1] !== 0x8b) return b;
  const out = new Response(new Blob([b]).stream().pipeThrough(new DecompressionStream('gzip')));
  return new Uint8Array(await out.arrayBuffer());
}

/* Class names by dataset. */
export const CLASS_NAMES = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  fashion: ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'],
};
export function classNames(dataset, n) {
  const base = CLASS_NAMES[dataset] || [];
  return Array.from({ length: n }, (_, i) => base[i] ?? String(i));
}

/* Bilinear sample of a w x h image at (x, y) in pixel-centre coordinates. */
function bilinear(img, w, h, x, y) {
  x = Math.max(0, Math.min(w - 1, x)); y = Math.max(0, Math.min(h - 1, y));
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const x1 = Math.min(w - 1, x0 + 1), y1 = Math.min(h - 1, y0 + 1);
  const fx = x - x0, fy = y - y0;
  return (img[y0 * w + x0] * (1 - fx) + img[y0 * w + x1] * fx) * (1 - fy) +
         (img[y1 * w + x0] * (1 - fx) + img[y1 * w + x1] * fx) * fy;
}

/* MNIST-style centring: the strokes' bounding box is scaled to fit a box x box
 * square (aspect kept), placed in an out x out image and shifted so that the
 * centre of mass sits in the middle. img: Float32Array w*h in [0,1] (bright
 * strokes on black). Returns a new Float32Array(out*out); a blank picture
 * comes back blank. */
export function centerDigit(img, w, h, out = 28, box = 20) {
  let x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    if (img[y * w + x] > 0.1) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  const res = new Float32Array(out * out);
  if (x1 < 0) return res;
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const s = box / Math.max(bw, bh); // output pixels per input pixel
  const ow = Math.max(1, Math.round(bw * s)), oh = Math.max(1, Math.round(bh * s));
  // area-like resampling: average a k x k grid of bilinear samples per output pixel
  const k = Math.max(1, Math.min(8, Math.ceil(1 / s)));
  const small = new Float32Array(ow * oh);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
    let acc = 0;
    for (let j = 0; j < k; j++) for (let i = 0; i < k; i++) {
      const sx = x0 + (x + (i + 0.5) / k) / s - 0.5, sy = y0 + (y + (j + 0.5) / k) / s - 0.5;
      acc += bilinear(img, w, h, sx, sy);
    }
    small[y * ow + x] = acc / (k * k);
  }
  let m = 0, cx = 0, cy = 0;
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) { const v = small[y * ow + x]; m += v; cx += v * x; cy += v * y; }
  cx = m > 0 ? cx / m : ow / 2; cy = m > 0 ? cy / m : oh / 2;
  const dx = Math.round(out / 2 - 0.5 - cx), dy = Math.round(out / 2 - 0.5 - cy);
  let peak = 0;
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
    const X = x + dx, Y = y + dy;
    if (X >= 0 && Y >= 0 && X < out && Y < out) { res[Y * out + X] = small[y * ow + x]; peak = Math.max(peak, small[y * ow + x]); }
  }
  if (peak > 0 && peak < 1) for (let i = 0; i < res.length; i++) res[i] = Math.min(1, res[i] / peak);
  return res;
}

/* Bilinear upscale of a w x h image to ow x oh with pixel centres aligned, the
 * same arithmetic as prime_image_resize's upscale branch (src/prime_image.c),
 * which the inpainting trainer used for 28 -> 32. Returns a new Float32Array. */
export function resizeUp(img, w, h, ow, oh) {
  const out = new Float32Array(ow * oh);
  for (let oy = 0; oy < oh; oy++) for (let ox = 0; ox < ow; ox++) {
    let sx = (ox + 0.5) * w / ow - 0.5, sy = (oy + 0.5) * h / oh - 0.5;
    if (sx < 0) sx = 0;
    if (sy < 0) sy = 0;
    const x0 = Math.floor(sx), y0 = Math.floor(sy);
    const x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    const fx = sx - x0, fy = sy - y0;
    const top = img[y0 * w + x0] * (1 - fx) + img[y0 * w + x1] * fx;
    const bot = img[y1 * w + x0] * (1 - fx) + img[y1 * w + x1] * fx;
    out[oy * ow + ox] = top * (1 - fy) + bot * fy;
  }
  return out;
}

/* Flattens the background of a photographed digit: each pixel is compared with
 * the mean of a (2r+1) x (2r+1) window around it (a local-mean threshold, so
 * uneven light and grey paper drop out); ink is the part darker (or, for light
 * strokes on a dark ground, brighter) than that mean by more than `floor` of the
 * strongest deviation. Polarity: the side whose strong deviations weigh more.
 * img: Float32Array w*h in [0, 1]. Returns {img (bright strokes on black, peak 1),
 * inverted (true: dark ink on light paper)}. */
export function flattenBackground(img, w, h, r = Math.max(4, Math.round(Math.min(w, h) / 6)), floor = 0.3) {
  // summed-area table for the window means
  const S = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) { row += img[y * w + x]; S[(y + 1) * (w + 1) + x + 1] = S[y * (w + 1) + x + 1] + row; }
  }
  const d = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const xa = Math.max(0, x - r), xb = Math.min(w, x + r + 1), ya = Math.max(0, y - r), yb = Math.min(h, y + r + 1);
    const sum = S[yb * (w + 1) + xb] - S[ya * (w + 1) + xb] - S[yb * (w + 1) + xa] + S[ya * (w + 1) + xa];
    d[y * w + x] = img[y * w + x] - sum / ((xb - xa) * (yb - ya));
  }
  let pos = 0, neg = 0, pmax = 0, nmax = 0;
  for (const v of d) { if (v > 0) { pos += v * v * v; pmax = Math.max(pmax, v); } else { neg -= v * v * v; nmax = Math.max(nmax, -v); } }
  const inverted = neg > pos;
  const peak = inverted ? nmax : pmax;
  const out = new Float32Array(w * h);
  if (!(peak > 0.02)) return { img: out, inverted }; // a flat picture: nothing drawn
  for (let i = 0; i < out.length; i++) {
    const v = (inverted ? -d[i] : d[i]) / peak;
    out[i] = v > floor ? Math.min(1, (v - floor) / (1 - floor) * 1.6) : 0;
  }
  return { img: out, inverted };
}

/* Mean of the border pixels of a w x h image (to guess dark-on-light pictures). */
export function borderMean(img, w, h) {
  let s = 0, n = 0;
  for (let x = 0; x < w; x++) { s += img[x] + img[(h - 1) * w + x]; n += 2; }
  for (let y = 1; y < h - 1; y++) { s += img[y * w] + img[y * w + w - 1]; n += 2; }
  return n ? s / n : 0;
}

/* URL parameters the page understands (also written by "Copy link"). */
export const URL_KEYS = {
  task: 'tab: classify | batch | crossbar | inpaint',
  model: 'model name (file name without .prime), e.g. nmnist-digits',
  sample: 'index of the shipped test sample',
  noise: 'read noise eta, 0..0.5',
  prog: 'programming noise, 0..0.5 (relative to gMean)',
  goff: 'off-state residual conductance gOff, uS',
  adc: 'ADC bits, 0 = ideal',
  stuckon: 'fraction of cells stuck at on',
  stuckoff: 'fraction of cells stuck at off',
  stop: 'early stop 1 / 0',
  th: 'early-stop confidence threshold',
  alpha: 'softmax temperature of the early stop',
  T: 'timesteps allowed',
  chip: 'chip seed (which random chip is formed)',
  embed: '1 for the compact layout to put in an iframe',
};
