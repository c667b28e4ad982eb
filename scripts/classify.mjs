// classify.mjs - headless use of the wasm API from Node.
// Usage: node scripts/classify.mjs [MODEL] [IMAGE.png | SAMPLES.psmp] [--noise E] [--stop TH] [--n N]
//   IMAGE: a picture of a digit (dark on light or light on dark; PNG/JPEG/BMP/GIF)
//   SAMPLES: a .psmp sample file (docs/data.md): classifies the first N samples
import fs from 'node:fs';
import { loadPrime } from '../wasm/prime.js';

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? Number(args.splice(i, 2)[1]) : def; };
const noise = opt('--noise', 0), stop = opt('--stop', 0), N = opt('--n', 20);
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
  const t0 = performance.now();
  const count = Math.min(N, n);
  for (let i = 0; i < count; i++) {
    const img = Float32Array.from(b.subarray(px0 + i * w * h, px0 + (i + 1) * w * h), (v) => v / 255);
    const r = m.classify(P.framesFromImage(img, w, h, m.arch.T, seed + idx(i)));
    correct += r.label === lab(i); steps += r.stepsUsed; energy += r.energyPj; base += r.baselinePj;
    if (i < 5) console.log(`sample ${i}: true ${lab(i)} predicted ${r.label} after ${r.stepsUsed} steps, confidence ${r.confidence[r.stepsUsed - 1].toFixed(3)}`);
  }
  const ms = (performance.now() - t0) / count;
  console.log(`${count} samples: accuracy ${(100 * correct / count).toFixed(1)} %, mean timesteps ${(steps / count).toFixed(2)} of ${m.arch.T}, ` +
    `energy ${(energy / count / 1e3).toFixed(1)} nJ/sample (digital baseline ${(base / count / 1e3).toFixed(1)} nJ, ${(base / energy).toFixed(1)}x), ${ms.toFixed(1)} ms/sample`);
} else {
  const img = P.decodeImage(fs.readFileSync(input), 28, 28, true);
  const r = m.classify(P.framesFromImage(img, 28, 28, m.arch.T, 1));
  console.log(`${input}: predicted ${r.label} after ${r.stepsUsed} of ${r.T} steps; probabilities ${Array.from(r.probs, (p) => p.toFixed(2)).join(' ')}`);
  console.log(`energy ${(r.energyPj / 1e3).toFixed(1)} nJ vs digital baseline ${(r.baselinePj / 1e3).toFixed(1)} nJ (${r.energyRatio.toFixed(1)}x)`);
}
m.free();
