// bench-device.mjs - what the device effects of docs/device.md cost a read of
// the PRIME network (wasm SIMD, Node), as ratios to the plain read within one
// run: settings alternate (plain, effect, plain, effect, ...) so the shared
// machine's load falls on both alike; median CPU ms per sample of each.
// Called by scripts/bench.mjs (./build.sh bench); alone:
//   node scripts/bench-device.mjs [--n 60] [--repeat 5]
// The acceptance of issue 12: IR drop's fast form costs at most 2x a plain read.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const median = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const cpuMs = (c0) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e3; };

/** The effects timed, each against the plain read (the model's device, read noise 0.05). */
export const DEVICE_CASES = [
  { name: 'IR drop, 1 ohm segments (fast form)', opts: { r_row: 1, r_col: 1 } },
  { name: 'weight noise model (the paper)', opts: { read_model: 'weight' } },
  { name: 'relaxation, CMO at 1 day', opts: { relax_model: 'cmo', t_read: '1d' } },
  { name: 'ADC offset/gain/INL (per conversion)', opts: { adc_offset: 0.5, adc_gain: 0.01, adc_inl: 'bow', adc_inl_lsb: 0.5 } },
];

/**
 * Times classify of every frame set R times per setting, alternating plain and
 * effect; returns { lines, json }. P: the loaded API, modelBytes: a .prime file.
 */
export function benchDevice({ P, modelBytes, frames, R = 5, T = 10, noise = 0.05 }) {
  const plain = P.loadModel(modelBytes), fx = P.loadModel(modelBytes);
  const lines = [`device effects (docs/device.md), wasm SIMD, read noise ${noise}, no early stop, ${frames.length} inputs, ` +
    `alternating runs, median of ${R}; cost = ms per sample with the effect / without, in this run:`];
  const json = {};
  const timeOnce = (m) => {
    m.setRun({ policy: 'none', noiseSeed: 1 });
    const c0 = process.cpuUsage();
    const labels = frames.map((x) => m.classify(x, T).label);
    return { ms: cpuMs(c0) / frames.length, labels };
  };
  plain.setDevice({ readNoise: noise });
  for (const c of DEVICE_CASES) {
    fx.setDevice({ preset: 'off', read_noise: noise });
    const c0 = process.cpuUsage();
    fx.setDevice(c.opts);
    const setupMs = cpuMs(c0);
    timeOnce(plain), timeOnce(fx); // warm-up
    const a = [], b = [];
    let la, lb;
    for (let k = 0; k < R; k++) {
      const p = timeOnce(plain), q = timeOnce(fx);
      a.push(p.ms), b.push(q.ms), la = p.labels, lb = q.labels;
    }
    const ratio = median(b) / median(a);
    const changed = lb.filter((v, i) => v !== la[i]).length;
    json[c.name] = { plainMs: median(a), effectMs: median(b), ratio, setupMs, changedLabels: changed };
    lines.push(`  ${c.name.padEnd(40)} ${median(a).toFixed(3)} -> ${median(b).toFixed(3)} ms/sample  x${ratio.toFixed(2)}` +
      `  (set-up ${setupMs.toFixed(1)} ms once; ${changed}/${frames.length} labels differ)`);
  }
  const ir = json[DEVICE_CASES[0].name];
  lines.push(`  IR drop's fast form costs x${ir.ratio.toFixed(2)} a plain read (issue 12 asks at most x2): ${ir.ratio <= 2 ? 'met' : 'NOT met'}`);
  plain.free(), fx.free();
  return { lines, json };
}

// alone: frames from web/samples/mnist-test.psmp through the API's framesFromImage
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { loadPrime } = await import('../wasm/prime.js');
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
  const N = +arg('--n', 60), R = +arg('--repeat', 5);
  const P = await loadPrime();
  const b = fs.readFileSync(path.join(root, 'web/samples/mnist-test.psmp'));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // PSMP (docs/data.md), as scripts/bench.mjs reads it: count, w, h, u64 event seed, u32 indices, labels, images
  const count = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true);
  const seed = Number(dv.getBigUint64(20, true)), frames = [];
  for (let j = 0; j < N; j++) {
    const k = j % count, idx = dv.getUint32(28 + 4 * k, true);
    const px = b.subarray(28 + 5 * count + k * w * h, 28 + 5 * count + (k + 1) * w * h);
    frames.push(P.framesFromImage(Float32Array.from(px, (v) => v / 255), w, h, 10, seed + idx));
  }
  const modelBytes = fs.readFileSync(path.join(root, 'models/nmnist-digits.prime'));
  console.log(benchDevice({ P, modelBytes, frames, R }).lines.join('\n'));
}
