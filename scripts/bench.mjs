// bench.mjs - speed of the PRIME classification network on every engine, in
// one run: wasm SIMD and wasm scalar (Node), native SIMD and native scalar
// (`prime bench-frames`), onnxruntime-node and onnxruntime-web (its wasm SIMD
// backend, one thread, in Node) on the repo's own ONNX export, and
// PyTorch on the CPU (scripts/bench-torch.py) when Debian's python3-torch is
// installed. Same model, same real inputs (sample images -> synthetic N-MNIST
// frames, docs/data.md), medians over repeats, absolute and as ratios.
// Never part of the tests; the machine is shared, so read ratios within one
// run. Results also go to build/bench.json.
//
//   ./build.sh bench [--n 100] [--repeat 5] [--full 2000] [--quick] [--baseline OLD.wasm] [--vae-model PATH]
//
// --n: samples per timing run (from web/samples/mnist-test.psmp, T = 10);
// --repeat: timing runs per engine and setting (median reported);
// --full: samples of the full test-set evaluation (wasm SIMD, noise on);
// --baseline: an older wasm/prime.wasm to time against this one (before/after).
// --vae-model: another inpainting model for scripts/bench-inpaint.mjs (repeatable).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime } from '../wasm/prime.js';
import { loadOrtWeb, ortWebSession } from './ort-web.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const quick = process.argv.includes('--quick');
const N = +arg('--n', quick ? 30 : 100), R = +arg('--repeat', quick ? 3 : 5), FULL = +arg('--full', 2000);
const T = 10, NOISE = 0.05, STOP = 0.8;
const median = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (v, d = 3) => (v === undefined || v === null || Number.isNaN(v) ? '-' : v.toFixed(d));

const modelPath = ['models/nmnist-digits.prime', 'models/random-nmnist.prime'].map((p) => path.join(root, p)).find((p) => fs.existsSync(p));
const modelBytes = fs.readFileSync(modelPath);
const P = await loadPrime();
const S = await loadPrime({ wasmBytes: fs.readFileSync(path.join(root, 'build/prime-scalar.wasm')) });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prime-bench-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

// ------------------------------------------------------------------ inputs
/** Images of a .psmp sample file -> frames (docs/data.md: seed = event_seed + index). */
function psmpFrames(file, n) {
  const b = fs.readFileSync(file);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true);
  const seed = Number(dv.getBigUint64(20, true));
  const frames = [], labels = [];
  for (let j = 0; j < n; j++) {
    const k = j % count, idx = dv.getUint32(28 + 4 * k, true);
    const px = b.subarray(28 + 5 * count + k * w * h, 28 + 5 * count + (k + 1) * w * h);
    frames.push(P.framesFromImage(Float32Array.from(px, (v) => v / 255), w, h, T, seed + idx));
    labels.push(b[28 + 4 * count + k]);
  }
  return { frames, labels, count };
}
/** The trainer's frame cache (PFRM, docs/data.md): the full test split, or null. */
function cacheFrames(file, n) {
  if (!fs.existsSync(file)) return null;
  const b = fs.readFileSync(file);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.toString('latin1', 0, 4) !== 'PFRM') return null;
  const cnt = dv.getUint32(8, true), t = dv.getUint32(12, true), c = dv.getUint32(16, true), h = dv.getUint32(20, true), w = dv.getUint32(24, true);
  if (t !== T || c * h * w !== 2 * 34 * 34) return null;
  const hdr = dv.getUint32(4, true) >= 2 ? 36 : 28; // v2 adds a u64 synthesizer fingerprint
  const per = t * c * h * w, off = hdr + cnt, m = Math.min(n, cnt);
  const frames = [], labels = [];
  for (let i = 0; i < m; i++) {
    frames.push(Float32Array.from(b.subarray(off + i * per, off + (i + 1) * per)));
    labels.push(b[hdr + i]);
  }
  return { frames, labels };
}

// private copies of the native builds (other jobs may rebuild build/ meanwhile)
for (const b of ['prime', 'prime-scalar']) fs.copyFileSync(path.join(root, 'build', b), path.join(tmp, b));
fs.chmodSync(path.join(tmp, 'prime'), 0o755), fs.chmodSync(path.join(tmp, 'prime-scalar'), 0o755);

const { frames, labels: trueLabels } = psmpFrames(path.join(root, 'web/samples/mnist-test.psmp'), N);
const framesFile = path.join(tmp, 'frames.f32');
{
  const all = new Float32Array(N * frames[0].length);
  frames.forEach((f, i) => all.set(f, i * f.length));
  fs.writeFileSync(framesFile, Buffer.from(all.buffer));
  // kept for profiling the native build (docs/performance.md, per-phase breakdown)
  fs.writeFileSync(path.join(root, 'build/bench-frames.f32'), Buffer.from(all.buffer));
}

// ------------------------------------------------------------------ engines
const SETTINGS = [
  { name: 'noise off, stop off', noise: 0, stop: false },
  { name: 'noise off, stop 0.8', noise: 0, stop: true },
  { name: `noise ${NOISE}, stop off`, noise: NOISE, stop: false },
  { name: `noise ${NOISE}, stop 0.8`, noise: NOISE, stop: true },
];

/** CPU milliseconds of this process since c0 (process.cpuUsage): on the shared
 * cores steadier than wall time, and the same measure as the native CPU time. */
const cpuMs = (c0) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e3; };
/** Times an ONNX peer: `run(x)` on every frame set, R times; median CPU ms per
 * sample, its labels and the largest logit difference from the simulator's. */
async function timePeer(run, frames, R, idealRes) {
  const ts = [];
  let outs = [];
  for (let k = 0; k < R; k++) {
    const c0 = process.cpuUsage();
    outs = [];
    for (const x of frames) outs.push((await run(x)).logits.data);
    ts.push(cpuMs(c0));
  }
  let maxDiff = 0;
  outs.forEach((lg, i) => lg.forEach((v, k) => { maxDiff = Math.max(maxDiff, Math.abs(v - idealRes[i].logits[k])); }));
  return { ms: median(ts) / frames.length, labels: outs.map((lg) => lg.indexOf(Math.max(...lg))), maxDiff };
}

/** Times api's classify over all frames R times; returns CPU ms/sample and the last results. */
function timeWasm(api, s) {
  const m = api.loadModel(modelBytes);
  m.setDevice({ readNoise: s.noise });
  const run = { policy: s.stop ? 'confidence' : 'none', threshold: STOP };
  const ts = [];
  let res = [];
  m.setRun(run);
  m.classify(frames[0], T); // warm-up (JIT tiers)
  for (let k = 0; k < R; k++) {
    m.setRun(run); // same noise stream every repeat
    const c0 = process.cpuUsage();
    res = frames.map((x) => m.classify(x, T));
    ts.push(cpuMs(c0));
  }
  m.free();
  return { ms: median(ts) / N, labels: res.map((r) => r.label), steps: res.reduce((a, r) => a + r.stepsUsed, 0) / N, res };
}

/** Runs `prime bench-frames` of a native build. */
function timeNative(bin, s) {
  const args = ['bench-frames', modelPath, framesFile, String(N), '--T', String(T), '--repeat', String(R), '--noise', String(s.noise)];
  if (s.stop) args.push('--stop', String(STOP));
  const j = JSON.parse(execFileSync(path.join(tmp, bin), args, { maxBuffer: 1 << 26 }).toString());
  return { ms: j.cpu_ms_per_sample, labels: j.labels, steps: j.mean_steps, clock: j.clock_ghz };
}

const results = {}; // results[setting][engine] = {ms, labels, steps}
const engines = ['wasm SIMD', 'wasm scalar', 'native SIMD', 'native scalar'];
let clockGhz = 0;
for (const s of SETTINGS) {
  const r = (results[s.name] = {});
  r['wasm SIMD'] = timeWasm(P, s);
  r['wasm scalar'] = timeWasm(S, s);
  r['native SIMD'] = timeNative('prime', s);
  r['native scalar'] = timeNative('prime-scalar', s);
  clockGhz = Math.max(clockGhz, r['native SIMD'].clock || 0);
  process.stderr.write(`.. ${s.name}: wasm SIMD ${fmt(r['wasm SIMD'].ms)} ms/sample\n`);
}

// ---- --baseline OLD.wasm: this wasm SIMD against an older build, alternating
// run by run in this process (CPU time, so the drift of the shared cores hits
// both alike): before/after figures for a kernel change.
const baseFile = arg('--baseline', null), baseline = {};
if (baseFile) {
  const B = await loadPrime({ wasmBytes: fs.readFileSync(baseFile) });
  for (const s of SETTINGS) {
    const ms = [P, B].map((api) => { const m = api.loadModel(modelBytes); m.setDevice({ readNoise: s.noise }); m.classify(frames[0], T); return m; });
    const run = { policy: s.stop ? 'confidence' : 'none', threshold: STOP }, ts = [[], []], labels = [[], []];
    for (let k = 0; k < 2 * R + 1; k++) ms.forEach((m, e) => {
      m.setRun(run);
      const c0 = process.cpuUsage();
      labels[e] = frames.map((x) => m.classify(x, T).label);
      ts[e].push(cpuMs(c0) / N);
    });
    ms.forEach((m) => m.free());
    baseline[s.name] = { now: median(ts[0]), before: median(ts[1]), same: labels[0].every((v, i) => v === labels[1][i]) };
  }
}

// ---- onnxruntime-node on the exported graph (zero noise, ideal ADC/DAC, no early stop)
const ideal = { readNoise: 0, adcBits: 0, dacBits: 0 };
const peers = {};
let idealRes = null;
{
  const m = P.loadModel(modelBytes);
  m.setDevice(ideal);
  m.setRun({ policy: 'none' });
  const ts = [];
  m.classify(frames[0], T);
  for (let k = 0; k < R; k++) {
    const c0 = process.cpuUsage();
    idealRes = frames.map((x) => m.classify(x, T));
    ts.push(cpuMs(c0));
  }
  peers['wasm SIMD (ideal)'] = { ms: median(ts) / N, labels: idealRes.map((r) => r.label) };
  // the same on native, for the peer ratios
  const onnx = path.join(tmp, 'model.onnx');
  execFileSync(path.join(tmp, 'prime'), ['onnx', modelPath, onnx, String(T)]);
  let ort = null;
  try { ort = (await import('onnxruntime-node')).default; } catch { /* reported below */ }
  if (ort) {
    for (const threads of [1]) {
      const sess = await ort.InferenceSession.create(onnx, { intraOpNumThreads: threads, interOpNumThreads: 1, logSeverityLevel: 3 });
      const run = (x) => sess.run({ frames: new ort.Tensor('float32', x, [T, 2, 34, 34]) });
      await run(frames[0]);
      peers[`onnxruntime-node ${ort.env.versions.common} (${threads} thread)`] = await timePeer(run, frames, R, idealRes);
    }
  } else {
    peers['onnxruntime-node'] = { missing: 'not installed (./build.sh setup)' };
  }
  // onnxruntime-web: the browser peer (wasm SIMD, 1 thread), same graph and inputs
  const ortw = await loadOrtWeb();
  if (ortw) {
    const sess = await ortWebSession(ortw, fs.readFileSync(onnx));
    const run = (x) => sess.run({ frames: new ortw.Tensor('float32', x, [T, 2, 34, 34]) });
    for (let k = 0; k < 3; k++) await run(frames[k % N]); // warm-up (wasm tiers)
    peers[`onnxruntime-web ${ortw.env.versions.web} (wasm SIMD, 1 thread)`] = await timePeer(run, frames, R, idealRes);
  } else {
    peers['onnxruntime-web'] = { missing: 'not installed (./build.sh setup)' };
  }
  // PyTorch: weights as raw float32 per layer + a JSON description
  const meta = { T, layers: [] };
  m.arch.layers.forEach((L, l) => {
    const e = { op: L.op, k: L.k, stride: L.stride, pad: L.pad, neuron: L.neuron, th: L.th, decay: L.decay, leak: L.leak, in_c: L.inC };
    if (L.op !== 'avgpool') {
      const w = m.getWeights(l);
      e.rows = L.op === 'conv' ? L.inC * L.k * L.k : L.inC * L.inH * L.inW;
      e.cols = L.outC;
      e.file = `w${l}.f32`;
      fs.writeFileSync(path.join(tmp, e.file), Buffer.from(w.buffer));
    }
    meta.layers.push(e);
  });
  fs.writeFileSync(path.join(tmp, 'weights.json'), JSON.stringify(meta));
  m.free();
  const py = spawnSync('/usr/bin/python3', [path.join(root, 'scripts/bench-torch.py'), path.join(tmp, 'weights.json'), framesFile, String(N), '--repeat', String(R)], { maxBuffer: 1 << 26 });
  if (py.status === 0) {
    const j = JSON.parse(py.stdout.toString());
    let maxDiff = 0;
    j.logits.forEach((lg, i) => lg.forEach((v, k) => { maxDiff = Math.max(maxDiff, Math.abs(v - idealRes[i].logits[k])); }));
    peers[`${j.engine}, batch 1`] = { ms: j.ms_per_sample, labels: j.labels, maxDiff };
    peers[`${j.engine}, batch ${N}`] = { ms: j.batch_ms_per_sample, labels: j.labels, maxDiff };
  } else {
    peers.pytorch = { missing: `not run (${(py.stderr || '').toString().trim().split('\n').pop() || 'python3-torch not installed'})` };
  }
}
{ // native SIMD at the same ideal settings
  const args = ['bench-frames', modelPath, framesFile, String(N), '--T', String(T), '--repeat', String(R), '--noise', '0', '--adc', '0', '--dac', '0'];
  const j = JSON.parse(execFileSync(path.join(tmp, 'prime'), args, { maxBuffer: 1 << 26 }).toString());
  peers['native SIMD (ideal)'] = { ms: j.cpu_ms_per_sample, labels: j.labels };
}

// ---- work per sample: multiply-adds dense and performed, from the counters
const ref = results[SETTINGS[0].name]['wasm SIMD'].res;
const macsDense = median(ref.map((r) => r.counters.macsDense / r.stepsUsed * T));
const macsDone = median(ref.map((r) => r.counters.cellReads / 2));
const refStop = results[SETTINGS[1].name]['wasm SIMD'].res;
const macsDoneStop = median(refStop.map((r) => r.counters.cellReads / 2));

// ---- full test-set evaluation in Node (wasm SIMD, noise on)
const full = {};
{
  const cache = cacheFrames(path.join(root, 'data/frames-mnist-test-T10-s1001.bin'), FULL);
  const set = cache || (() => { const p = psmpFrames(path.join(root, 'web/samples/mnist-test.psmp'), FULL); return { frames: p.frames, labels: p.labels, cycled: p.count }; })();
  full.source = cache ? `data/frames-mnist-test-T10-s1001.bin (first ${set.frames.length} of the test split)` : `web/samples/mnist-test.psmp cycled to ${set.frames.length} (no frame cache: run prime-train once)`;
  full.n = set.frames.length;
  const m = P.loadModel(modelBytes);
  m.setDevice({ readNoise: NOISE });
  for (const stop of [false, true]) {
    m.setRun({ policy: stop ? 'confidence' : 'none', threshold: STOP });
    const t0 = performance.now(), c0 = process.cpuUsage();
    let correct = 0, steps = 0;
    set.frames.forEach((x, i) => { const r = m.classify(x, T); correct += r.label === set.labels[i]; steps += r.stepsUsed; });
    const cpu = process.cpuUsage(c0);
    full[stop ? 'stop' : 'nostop'] = { s: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6, acc: correct / set.frames.length, steps: steps / set.frames.length };
  }
  m.free();
}

// ---- inpainting network (docs/inpainting.md): scripts/bench-inpaint.mjs, on
// models/inpaint-mnist.pvae and every --vae-model PATH
let inpaint = {};
{
  const vaeModels = [path.join(root, 'models/inpaint-mnist.pvae'), ...process.argv.flatMap((a, i) => (a === '--vae-model' ? [path.resolve(process.argv[i + 1])] : []))];
  if (typeof P.loadInpainter !== 'function') inpaint.missing = 'the JS API has no loadInpainter in this build';
  else if (!fs.existsSync(vaeModels[0])) inpaint.missing = 'models/inpaint-mnist.pvae is missing';
  else {
    const { benchInpaint } = await import('./bench-inpaint.mjs');
    inpaint = await benchInpaint({ P, S, bin: tmp, tmp, models: vaeModels, n: quick ? 5 : 20, R: Math.min(R, 3), clockGhz });
  }
}

// ---- device effects (scripts/bench-device.mjs): their cost as ratios to the plain read, in this run
const { benchDevice } = await import('./bench-device.mjs');
const device = benchDevice({ P, modelBytes, frames: frames.slice(0, Math.min(N, 60)), R, T, noise: NOISE });

// ------------------------------------------------------------------ report
const out = [];
const say = (l = '') => out.push(l);
say(`PRIME-sim speed (${new Date().toISOString().slice(0, 16)}Z) - ${os.cpus()[0].model}, ${os.cpus().length} cores (shared), Node ${process.version}`);
say(`model ${path.relative(root, modelPath)}${modelPath.includes('random') ? ' (random 50 % masks: no trained model here yet)' : ''}, T = ${T}, ${N} real inputs (web/samples/mnist-test.psmp -> framesFromImage), median of ${R} runs, CPU time of the process`);
say(`default device (14-bit ADC, 16-bit DAC); read noise column mode; early stop: confidence > ${STOP}`);
say();
for (const s of SETTINGS) {
  const r = results[s.name], base = r['wasm SIMD'].ms;
  say(`${s.name}  (mean steps ${fmt(r['wasm SIMD'].steps, 2)})`);
  say(`  ${'engine'.padEnd(16)}${'ms/sample'.padStart(11)}${'samples/s'.padStart(11)}${'x wasm SIMD'.padStart(13)}  same labels`);
  for (const e of engines) {
    const same = r[e].labels.every((v, i) => v === r['wasm SIMD'].labels[i]);
    say(`  ${e.padEnd(16)}${fmt(r[e].ms).padStart(11)}${fmt(1000 / r[e].ms, 1).padStart(11)}${fmt(r[e].ms / base, 2).padStart(13)}  ${same ? 'yes' : 'NO'}`);
  }
}
if (baseFile) {
  say();
  say(`wasm SIMD now vs ${path.basename(baseFile)} (--baseline), alternating, median of ${2 * R + 1}, CPU ms/sample:`);
  for (const [k, v] of Object.entries(baseline)) say(`  ${k.padEnd(24)} before ${fmt(v.before)}  now ${fmt(v.now)}  ${fmt(v.before / v.now, 2)}x faster  same labels: ${v.same ? 'yes' : 'NO'}`);
}
say();
say('peers, zero noise, ideal ADC/DAC, no early stop (the exported graph runs all T steps):');
const pb = peers['wasm SIMD (ideal)'].ms;
for (const [k, v] of Object.entries(peers)) {
  if (v.missing) { say(`  ${k}: ${v.missing}`); continue; }
  const same = v.labels.filter((x, i) => x === peers['wasm SIMD (ideal)'].labels[i]).length;
  say(`  ${k.padEnd(44)}${fmt(v.ms).padStart(9)} ms${fmt(1000 / v.ms, 1).padStart(9)}/s  x${fmt(v.ms / pb, 2)} of wasm SIMD  labels ${same}/${N}${v.maxDiff !== undefined ? `  max |logit diff| ${v.maxDiff.toExponential(1)}` : ''}`);
}
say();
const sm = results[SETTINGS[0].name];
const peak = clockGhz * 8; // GMAC/s: SSE2 4 lanes x (2 mul + 2 add pipes) as separate mul + add
say(`work per sample (noise off): dense ${(macsDense / 1e6).toFixed(2)} M multiply-adds, performed (event-driven) ${(macsDone / 1e6).toFixed(2)} M (${fmt(100 * macsDone / macsDense, 1)} %), with early stop ${(macsDoneStop / 1e6).toFixed(2)} M`);
say(`core clock measured ${fmt(clockGhz, 2)} GHz (dependent add chain); peak of one core ${fmt(peak, 1)} G multiply-adds/s (4-wide SSE2/wasm SIMD, 2 mul + 2 add per cycle, no FMA: -ffp-contract=off)`);
for (const e of ['native SIMD', 'wasm SIMD', 'native scalar']) {
  const rate = macsDone / (sm[e].ms / 1000) / 1e9;
  say(`  ${e.padEnd(14)} ${fmt(rate, 2)} G performed multiply-adds/s = ${fmt(100 * rate / peak, 1)} % of peak; dense-equivalent ${fmt(macsDense / (sm[e].ms / 1000) / 1e9, 2)} G/s`);
}
say();
say(`full test-set evaluation in Node, wasm SIMD, noise ${NOISE}: ${full.n} samples from ${full.source}`);
say(`  early stop off: ${fmt(full.nostop.s, 2)} s wall, ${fmt(full.nostop.cpu, 2)} s CPU (${fmt(full.nostop.s / full.n * 1000, 2)} ms/sample), accuracy ${fmt(100 * full.nostop.acc, 1)} %`);
say(`  early stop on:  ${fmt(full.stop.s, 2)} s wall, ${fmt(full.stop.cpu, 2)} s CPU (${fmt(full.stop.s / full.n * 1000, 2)} ms/sample), accuracy ${fmt(100 * full.stop.acc, 1)} %, mean steps ${fmt(full.stop.steps, 2)}`);
say(`  (CPU time: this process only, so other jobs on the shared cores count less; load average now ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores)`);
say();
if (inpaint.missing) say(`inpainting network: not benchmarked - ${inpaint.missing}.`);
else inpaint.lines.forEach((l) => say(l));
say();
device.lines.forEach((l) => say(l));
const text = out.join('\n');
console.log(text);
fs.writeFileSync(path.join(root, 'build/bench.json'), JSON.stringify({ results, baseline, peers, macsDense, macsDone, macsDoneStop, clockGhz, full, inpaint: inpaint.json || inpaint, device: device.json, text }, (k, v) => (k === 'res' || k === 'recon' ? undefined : v), 1));
