// classify.mjs - headless use of the wasm API from Node.
// Usage: node scripts/classify.mjs [MODEL] [IMAGE.png | SAMPLES.psmp] [--noise E] [--stop TH] [--n N] [--threads K]
//   IMAGE: a picture of a digit (dark on light or light on dark; PNG/JPEG/BMP/GIF)
//   SAMPLES: a .psmp sample file (docs/data.md): classifies the first N samples
//     on K worker threads (wasm/pool.mjs; default one per core, 1 = this thread);
//     the results are the same bits at any K
import fs from 'node:fs';
import os from 'node:os';
import { loadPrime } from '../wasm/prime.js';
import { createPool } from '../wasm/pool.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? Number(args.splice(i, 2)[1]) : def; };
const noise = opt('--noise', 0), stop = opt('--stop', 0), N = opt('--n', 20), threads = opt('--threads', os.availableParallelism());
const model = args[0] || (fs.existsSync('models/nmnist-digits.prime') ? 'models/nmnist-digits.prime' : 'models/random-nmnist.prime');
const input = args[1] || 'web/samples/mnist-test.psmp';

const P = await loadPrime();
const m = P.loadModel(fs.readFileSync(model));
m.setDevice({ readNoise: noise });
if (stop) m.setRun({ policy: 'confidence', threshold: stop });
console.log(`model ${model}: T=${m.arch.T}, ${m.totalArrays()} crossbar arrays, ${P.simd}; read noise ${noise}, early stop ${stop || 'off'}`);

if (input.endsWith('.psmp')) {
  const b = fs.readFileSync(input), dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.toString('latin1', 0, 4) !== 'PSMP') throw new Error(`${input}: not a sample file`);
  const n = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true);
  const seed = Number(dv.getBigUint64(20, true));
  const idx = (i) => dv.getUint32(28 + 4 * i, true);
  const lab = (i) => b[28 + 4 * n + i];
  const px0 = 28 + 5 * n;
  let correct = 0, steps = 0, energy = 0, base = 0;
  const count = Math.min(N, n);
  const frames = Array.from({ length: count }, (_, i) =>
    P.framesFromImage(Float32Array.from(b.subarray(px0 + i * w * h, px0 + (i + 1) * w * h), (v) => v / 255), w, h, m.arch.T, seed + idx(i)));
  const t0 = performance.now();
  let res;
  if (threads > 1 && count > 1) {
    const pool = await createPool({ model: m.save(), device: m.getDevice(), run: m.getRun(), threads });
    try { res = await pool.classifyBatch(frames); } finally { pool.close(); }
  } else res = m.classifyBatch(frames);
  res.forEach((r, i) => {
    correct += r.label === lab(i); steps += r.stepsUsed; energy += r.energyPj; base += r.baselinePj;
    if (i < 5) console.log(`sample ${i}: true ${lab(i)} predicted ${r.label} after ${r.stepsUsed} steps, confidence ${r.confidence[r.stepsUsed - 1].toFixed(3)}`);
  });
  const ms = (performance.now() - t0) / count;
  console.log(`${count} samples: accuracy ${(100 * correct / count).toFixed(1)} %, mean timesteps ${(steps / count).toFixed(2)} of ${m.arch.T}, ` +
    `energy ${(energy / count / 1e3).toFixed(1)} nJ/sample (digital baseline ${(base / count / 1e3).toFixed(1)} nJ, ${(base / energy).toFixed(1)}x), ${ms.toFixed(2)} ms/sample wall on ${threads > 1 && count > 1 ? `${threads} worker threads` : 'this thread'}`);
} else {
  const img = P.decodeImage(fs.readFileSync(input), 28, 28, true);
  const r = m.classify(P.framesFromImage(img, 28, 28, m.arch.T, 1));
  console.log(`${input}: predicted ${r.label} after ${r.stepsUsed} of ${r.T} steps; probabilities ${Array.from(r.probs, (p) => p.toFixed(2)).join(' ')}`);
  console.log(`energy ${(r.energyPj / 1e3).toFixed(1)} nJ vs digital baseline ${(r.baselinePj / 1e3).toFixed(1)} nJ (${r.energyRatio.toFixed(1)}x)`);
}
m.free();
