// arch-diagram.mjs - draws docs/img/architecture.svg, the data-flow picture of
// docs/architecture.md: model files in, the timestep through the one crossbar
// read, and the two front ends. Hand-placed boxes and arrows, no dependencies;
// the same command always writes the same bytes (tests/node/arch-diagram.test.mjs
// checks the committed file against it).
//
//   node scripts/arch-diagram.mjs [OUT.svg]     (default docs/img/architecture.svg)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const W = 1000, H = 640;
const COLORS = { file: '#e8f1fb', core: '#eef7ea', dev: '#fdf1e3', front: '#f3ecfa', data: '#ffffff' };
const out = [];
const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A box at (x, y) of w x h: a bold title and lines of small text (a line starting with '`' is a file name). */
function box(x, y, w, h, fill, title, lines = []) {
  out.push(`<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="6" fill="${fill}" stroke="#556" stroke-width="1.2"/>`);
  out.push(`<text x="${x + w / 2}" y="${y + 17}" class="t">${esc(title)}</text>`);
  lines.forEach((l, i) => {
    const file = l.startsWith('`');
    out.push(`<text x="${x + w / 2}" y="${y + 34 + 14 * i}" class="${file ? 'f' : 's'}">${esc(file ? l.slice(1) : l)}</text>`);
  });
}
/** An arrow through the points (x0, y0), ..., with an optional label at segment `seg` (default the middle one). */
function arrow(pts, label = '', dy = -5, seg = Math.floor((pts.length - 1) / 2)) {
  const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${x},${y}`).join(' ');
  out.push(`<path d="${d}" fill="none" stroke="#334" stroke-width="1.4" marker-end="url(#a)"/>`);
  if (label) {
    const [x0, y0] = pts[seg], [x1, y1] = pts[seg + 1];
    out.push(`<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2 + dy}" class="l">${esc(label)}</text>`);
  }
}
function lane(y, h, title) {
  out.push(`<rect x="8" y="${y}" width="${W - 16}" height="${h}" rx="8" fill="none" stroke="#aab" stroke-dasharray="4 3"/>`);
  out.push(`<text x="18" y="${y + 15}" class="lane">${esc(title)}</text>`);
}

// ---- lane 1: model files in (docs/model-format.md)
lane(8, 150, 'model in: files and checkpoints');
box(24, 32, 170, 112, COLORS.file, 'model files', ['v1 .prime (classifier)', 'v1 .pvae (inpainting VAE)', 'v2: PRIMEMDL + kind +', 'tagged sections + CRC', 'prime convert IN OUT']);
box(224, 32, 230, 112, COLORS.file, 'v2 container', ['`src/prime_modelfile.c', 'header, section walk, CRC,', 'device / mask / map sections', 'classifier: ARCH DEV RUN MASK COND', 'VAE: VARC DEV VRUN MASK|WGT', 'DIGI BN COND']);
box(484, 32, 220, 112, COLORS.file, 'loaders and savers', ['`src/prime_model.c', 'classifier v2 (+ v1 read),', 'prime_model_kind / _convert', '`src/prime_vae_io.c', 'VAE v2 (+ .pvae v1 read)']);
box(734, 32, 250, 112, COLORS.file, 'import (PyTorch / NumPy)', ['`src/prime_import.c', 'authors\' state_dict -> model', '`src/prime_zip.c  src/prime_pickle.c', 'zip + bounded pickle (.pt)', '`src/prime_npz.c', '.npy / .npz (mask, weight, g+/g-)']);
arrow([[194, 88], [224, 88]]);
arrow([[454, 88], [484, 88]]);
arrow([[734, 88], [704, 88]], 'ctx');

// ---- lane 2: one timestep (the data flow)
lane(168, 300, 'one timestep, every network: the same pieces');
box(24, 200, 150, 66, COLORS.data, 'input at step t', ['frame t (classifier)', 'masked image (VAE)']);
box(214, 196, 200, 74, COLORS.dev, 'device model', ['`src/prime_device.c', 'forming (chip seed | stored map),', 'faults, programming, DAC, ADC, energy']);
box(214, 298, 220, 140, COLORS.core, 'THE crossbar read', ['`src/prime_crossbar.c', 'the rows of the non-zero inputs,', 'per 512-row tile: x (G+ - G-) scale', '`src/prime_kernels.c', '+ read noise', '`src/prime_normal.c', 'ADC per column read; counters']);
box(462, 298, 165, 98, COLORS.core, 'neuron', ['`src/prime_kernels.c', 'PRIME LIF / output cell', 'FSVAE LIF + folded BN', 'digital: pool, latent z']);
box(655, 298, 160, 98, COLORS.core, 'readout', ['mean membrane -> logits', 'tanh of the decayed sum', '-> image (VAE)']);
box(843, 298, 141, 98, COLORS.core, 'policy', ['`src/prime_policy.c', 'confidence (p > th)', 'convergence (m_t)']);
box(655, 196, 329, 74, COLORS.core, 'the executor: every network a layer graph', ['`src/prime_graph_run.c  src/prime_graph.c', '`src/prime_core.c  src/prime_vae.c  (APIs)', 'result + energy (prime_dev_energy)']);
box(34, 318, 140, 76, COLORS.dev, 'device effects', ['`src/device_fx.c', '`src/irdrop.c', '`src/device_opts.c']);
arrow([[174, 233], [190, 233], [190, 320], [214, 320]], 'DAC', -8);
arrow([[314, 270], [314, 298]], 'G+, G-');
arrow([[174, 360], [214, 360]]);
arrow([[434, 346], [462, 346]], 'I');
arrow([[627, 346], [655, 346]], 'U, spikes');
arrow([[815, 346], [843, 346]]);
arrow([[544, 396], [544, 420], [434, 420]], 'spikes: the next layer', 13);
arrow([[914, 298], [914, 270]], 'stop');
arrow([[914, 396], [914, 452], [18, 452], [18, 233], [24, 233]], 'go on: step t + 1', 12, 1);
arrow([[594, 144], [594, 180], [820, 180], [820, 196]], 'models', -4);

// ---- lane 3: front ends
lane(478, 154, 'front ends (src/prime.h is the only public header)');
box(24, 504, 250, 116, COLORS.front, 'native (gcc)', ['`build/prime (src/cli/prime.c)', 'classify, import, convert, onnx,', 'eval, bench; trainers src/train*.c', '`tests/c/*  build/golden', '`src/prime_onnx.c  ONNX export']);
box(304, 504, 230, 116, COLORS.front, 'wasm (emcc -msimd128)', ['`src/wasm_api.c  src/wasm_abi.h', 'flat entry points, ABI table', '`wasm/prime.wasm', '(scalar: build/prime-scalar.wasm)']);
box(564, 504, 200, 116, COLORS.front, 'JS API', ['`wasm/prime.js  P.load(bytes)', '`wasm/prime-model.js', 'one Model: kind classifier', '| inpainter; save, exportOnnx', '`wasm/prime.d.ts']);
box(794, 504, 190, 116, COLORS.front, 'users', ['Node: tests/node, scripts', '`web/worker.js', '-> web/app.js (the page)']);
arrow([[534, 562], [564, 562]]);
arrow([[764, 562], [794, 562]]);
arrow([[419, 468], [419, 504]], 'calls the core', -4);
arrow([[149, 468], [149, 504]]);

const svg = `<?xml version="1.0" encoding="UTF-8"?>
<!-- docs/img/architecture.svg: written by scripts/arch-diagram.mjs (node scripts/arch-diagram.mjs); do not edit by hand -->
<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">
<defs><marker id="a" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#334"/></marker>
<style>.t{font-size:12.5px;font-weight:bold;text-anchor:middle}.s{font-size:10.5px;text-anchor:middle}.f{font-size:10px;font-family:DejaVu Sans Mono,monospace;text-anchor:middle;fill:#245}.l{font-size:10px;text-anchor:middle;fill:#333;font-style:italic}.lane{font-size:11px;fill:#667;font-weight:bold}</style></defs>
<rect width="${W}" height="${H}" fill="#fcfcfd"/>
${out.join('\n')}
</svg>
`;
const dest = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, 'docs/img/architecture.svg');
fs.writeFileSync(dest, svg);
console.log(`wrote ${path.relative(process.cwd(), dest) || dest} (${svg.length} bytes)`);
