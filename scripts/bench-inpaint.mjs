// bench-inpaint.mjs - speed of the inpainting network (docs/inpainting.md) on
// every engine, in one run: wasm SIMD and wasm scalar (Node), native SIMD and
// native scalar (`prime bench-vae`), read noise off / 0.05 x early stop off /
// on; onnxruntime-node and onnxruntime-web (wasm SIMD, 1 thread) on the repo's
// ONNX export and PyTorch on the CPU
// (scripts/bench-torch-vae.py) at zero noise, ideal ADC/DAC; and the limit:
// multiply-adds per image against one core's peak. Every engine must give the
// same reconstructions (bit-identical fingerprints for the four builds,
// within 1e-4 for the peers). Times are CPU time of the timed process
// (the machine is shared), medians over repeats.
//
//   node scripts/bench-inpaint.mjs [--quick] [--n 20] [--repeat 3] [--model PATH]...
//
// Also the "inpainting network" section of scripts/bench.mjs (benchInpaint).
// --model: one or more .pvae files (default models/inpaint-mnist.pvae); a
// 32-channel one in seconds: build/prime-train_vae --out /tmp/v32.pvae --ch 32
// --max-steps 2 --test-limit 5.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime } from '../wasm/prime.js';
import { loadOrtWeb, ortWebSession } from './ort-web.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NOISE = 0.05;
const median = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const fmt = (v, d = 2) => (v === undefined || v === null || Number.isNaN(v) ? '-' : v.toFixed(d));
/** FNV-1a over the bytes of a Float32Array: the fingerprint `prime bench-vae` prints. */
const fnv1a = (f) => { let h = 2166136261; for (const b of new Uint8Array(f.buffer, f.byteOffset, f.byteLength)) h = Math.imul(h ^ b, 16777619) >>> 0; return h; };
const cpuMs = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1000; };

/** n digits of web/samples/mnist-test.psmp (cycled), bilinear to 32x32, in [-1, 1]. */
export function digits(n) {
  const b = fs.readFileSync(path.join(root, 'web/samples/mnist-test.psmp'));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const count = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true);
  const imgs = [];
  for (let j = 0; j < n; j++) {
    const k = j % count, px = b.subarray(28 + 5 * count + k * w * h, 28 + 5 * count + (k + 1) * w * h), o = new Float32Array(1024);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
      const sy = Math.min(h - 1, Math.max(0, (y + 0.5) * h / 32 - 0.5)), sx = Math.min(w - 1, Math.max(0, (x + 0.5) * w / 32 - 0.5));
      const y0 = Math.floor(sy), x0 = Math.floor(sx), y1 = Math.min(h - 1, y0 + 1), x1 = Math.min(w - 1, x0 + 1), fy = sy - y0, fx = sx - x0;
      o[y * 32 + x] = ((px[y0 * w + x0] * (1 - fx) + px[y0 * w + x1] * fx) * (1 - fy) + (px[y1 * w + x0] * (1 - fx) + px[y1 * w + x1] * fx) * fy) / 255 * 2 - 1;
    }
    imgs.push(o);
  }
  return imgs;
}

/**
 * Benchmarks every model; returns { json, lines }.
 * P, S: the wasm SIMD and scalar APIs; bin: folder with private copies of
 * build/prime and build/prime-scalar; tmp: scratch folder; clockGhz: the
 * measured core clock (0: take it from `prime bench-vae`).
 */
export async function benchInpaint({ P, S, bin, tmp, models, n = 20, R = 3, clockGhz = 0 }) {
  const imgs = digits(n), file = path.join(tmp, 'inpaint-images.f32');
  const hole = Float32Array.from({ length: 1024 }, (_, p) => ((p >> 5) >= 12 && (p >> 5) < 20 && (p & 31) >= 12 && (p & 31) < 20 ? 1 : 0));
  { const all = new Float32Array(n * 1024); imgs.forEach((im, i) => all.set(im, i * 1024)); fs.writeFileSync(file, Buffer.from(all.buffer)); }
  const json = { n, repeats: R, models: [] }, lines = [];
  const say = (l = '') => lines.push(l);
  let ort = null;
  try { ort = (await import('onnxruntime-node')).default; } catch { /* reported below */ }
  const ortw = await loadOrtWeb();

  for (const model of models) {
    const bytes = fs.readFileSync(model);
    const wasm = (api, opts) => { // CPU ms per image (median), fingerprints, steps
      const ip = api.loadInpainter(bytes);
      ip.inpaint(imgs[0], opts); // warm-up (JIT tiers)
      const cpu = [], wall = [];
      let rs = [];
      for (let k = 0; k < R; k++) {
        const c0 = cpuMs(), t0 = performance.now();
        rs = imgs.map((im) => ip.inpaint(im, opts));
        cpu.push(cpuMs() - c0), wall.push(performance.now() - t0);
      }
      ip.free();
      return { ms: median(cpu) / n, wallMs: median(wall) / n, hashes: rs.map((r) => fnv1a(r.recon)), steps: rs.map((r) => r.stepsUsed), recon: rs.map((r) => r.recon), cellReads: rs.map((r) => r.counters.cellReads) };
    };
    const native = (b, args) => {
      const j = JSON.parse(execFileSync(path.join(bin, b), ['bench-vae', model, file, String(n), '--repeat', String(R), ...args], { maxBuffer: 1 << 26 }).toString());
      clockGhz = Math.max(clockGhz, j.clock_ghz);
      return { ms: j.ms_per_image, wallMs: j.wall_ms_per_image, hashes: j.hashes, steps: j.steps, j };
    };
    const rel = path.relative(root, model), m = { model: rel.startsWith('..') ? model : rel, settings: [], peers: {} };
    { const ip = P.loadInpainter(bytes); m.ch = ip.layers[0].outC, m.T = ip.T, m.latent = ip.layers[4].inC; ip.free(); }
    for (const noise of [0, NOISE]) for (const stop of [false, true]) {
      const opts = { readNoise: noise, earlyStop: stop }, args = ['--noise', String(noise), ...(stop ? ['--stop', '0.2'] : ['--no-stop'])];
      const e = { 'wasm SIMD': wasm(P, opts), 'wasm scalar': wasm(S, opts), 'native SIMD': native('prime', args), 'native scalar': native('prime-scalar', args) };
      const ref = e['wasm SIMD'];
      const same = Object.values(e).every((r) => r.hashes.every((h, i) => h === ref.hashes[i]) && r.steps.every((s, i) => s === ref.steps[i]));
      m.settings.push({ name: `noise ${noise ? noise : 'off'}, stop ${stop ? 'on' : 'off'}`, noise, stop, same, steps: ref.steps.reduce((a, b) => a + b, 0) / n, engines: e, work: e['native SIMD'].j });
      process.stderr.write(`.. inpainting ${m.ch} ch, noise ${noise}, stop ${stop}: wasm SIMD ${fmt(ref.ms)} ms/image\n`);
    }

    // ---- peers: zero noise, ideal ADC/DAC, all T steps
    const ideal = { readNoise: 0, adcBits: 0, dacBits: 0, earlyStop: false };
    const base = wasm(P, ideal);
    const diff = (recs) => recs.reduce((mx, r, i) => r.reduce((a, v, p) => Math.max(a, Math.abs(v - base.recon[i][p])), mx), 0);
    m.peers['wasm SIMD'] = { ms: base.ms };
    m.peers['native SIMD'] = { ms: native('prime', ['--noise', '0', '--no-stop', '--adc', '0', '--dac', '0']).ms };
    const ip = P.loadInpainter(bytes);
    const uni = ip.latentUniforms(ideal); // every JS inpaint draws these (inference 0 of its seeds)
    /* one ONNX peer (lib = onnxruntime-node or -web) on the same graph and feeds: median CPU ms per image, max diff */
    const timeOrt = async (lib, sess, warm) => {
      const feeds = (im) => ({ image: new lib.Tensor('float32', im, [1, 1, 32, 32]), hole: new lib.Tensor('float32', hole, [1, 1, 32, 32]), uniforms: new lib.Tensor('float64', uni, [ip.T, m.latent]) });
      for (let k = 0; k < warm; k++) await sess.run(feeds(imgs[k % n])); // warm-up (wasm tiers)
      const cpu = [];
      let recs = [];
      for (let k = 0; k < R; k++) {
        const c0 = cpuMs();
        recs = [];
        for (const im of imgs) recs.push((await sess.run(feeds(im))).recon.data);
        cpu.push(cpuMs() - c0);
      }
      return { ms: median(cpu) / n, maxDiff: diff(recs) };
    };
    if (ort) {
      const sess = await ort.InferenceSession.create(ip.exportOnnx(), { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 });
      m.peers[`onnxruntime-node ${ort.env.versions.common} (1 thread)`] = await timeOrt(ort, sess, 1);
    } else m.peers['onnxruntime-node'] = { missing: 'not installed (./build.sh setup)' };
    if (ortw) { // the browser peer
      m.peers[`onnxruntime-web ${ortw.env.versions.web} (wasm SIMD, 1 thread)`] = await timeOrt(ortw, await ortWebSession(ortw, ip.exportOnnx()), 3);
    } else m.peers['onnxruntime-web'] = { missing: 'not installed (./build.sh setup)' };
    // PyTorch: effective weights from the JS API as raw files + a JSON description
    const meta = { T: ip.T, size: ip.size, ch: m.ch, latent: m.latent, k: ip.layers[4].cols / m.latent, keep: 0.25, th: 0.2, decay: 0.8, uniforms: 'u.f64', layers: [] };
    ip.layers.forEach((L, i) => {
      const pr = i === 5 ? null : ip.getParams(i), e = { ...L };
      for (const [k, v] of Object.entries(pr || {})) { e[k] = `p${i}${k}.f32`; fs.writeFileSync(path.join(tmp, e[k]), Buffer.from(v.buffer)); }
      meta.layers.push(e);
    });
    fs.writeFileSync(path.join(tmp, 'u.f64'), Buffer.from(uni.buffer));
    fs.writeFileSync(path.join(tmp, 'vae.json'), JSON.stringify(meta));
    ip.free();
    const out = path.join(tmp, 'torch-recon.f32');
    const py = spawnSync('/usr/bin/python3', [path.join(root, 'scripts/bench-torch-vae.py'), path.join(tmp, 'vae.json'), file, String(n), out, '--repeat', String(R)], { maxBuffer: 1 << 26 });
    if (py.status === 0) {
      const j = JSON.parse(py.stdout.toString()), r = new Float32Array(fs.readFileSync(out).buffer.slice(0));
      const md = diff(imgs.map((_, i) => r.subarray(i * 1024, (i + 1) * 1024)));
      m.peers[`${j.engine}, batch 1`] = { ms: j.ms_per_image, maxDiff: md };
      m.peers[`${j.engine}, batch ${n}`] = { ms: j.batch_ms_per_image, maxDiff: md };
    } else m.peers.pytorch = { missing: `not run (${(py.stderr || '').toString().trim().split('\n').pop() || 'python3-torch not installed'})` };
    json.models.push(m);
  }

  // ------------------------------------------------------------------ report
  const peak = clockGhz * 8; // G multiply-adds/s: 4 lanes x (2 mul + 2 add pipes), no FMA
  json.clockGhz = clockGhz, json.peakGmacs = peak;
  for (const m of json.models) {
    say(`inpainting network: ${m.model} (${m.ch} channels, T = ${m.T}), ${n} MNIST digits (psmp, bilinear 28->32, [-1, 1]), centre 8x8 hole, median of ${R} runs, CPU time`);
    say(`  ${'setting (mean steps)'.padEnd(26)}${'wasm SIMD'.padStart(17)}${'wasm scalar'.padStart(12)}${'native SIMD'.padStart(13)}${'native scalar'.padStart(14)}${'SIMD/scalar w|n'.padStart(17)}${'wasm/native'.padStart(12)}  same bits`);
    for (const s of m.settings) {
      const e = s.engines, ms = (k) => `${fmt(e[k].ms)} ms`;
      say(`  ${`${s.name} (${fmt(s.steps, 1)})`.padEnd(26)}${`${ms('wasm SIMD')} ${fmt(1000 / e['wasm SIMD'].ms, 0)}/s`.padStart(17)}${ms('wasm scalar').padStart(12)}${ms('native SIMD').padStart(13)}${ms('native scalar').padStart(14)}` +
        `${`${fmt(e['wasm scalar'].ms / e['wasm SIMD'].ms)}x | ${fmt(e['native scalar'].ms / e['native SIMD'].ms)}x`.padStart(17)}${`${fmt(e['wasm SIMD'].ms / e['native SIMD'].ms)}x`.padStart(12)}  ${s.same ? 'yes' : 'NO'}`);
    }
    say(`  peers, zero noise, ideal ADC/DAC, all ${m.T} steps (the ONNX graph takes the latent uniforms as an input):`);
    const pb = m.peers['wasm SIMD'].ms;
    for (const [k, v] of Object.entries(m.peers)) {
      if (v.missing) { say(`    ${k}: ${v.missing}`); continue; }
      say(`    ${k.padEnd(44)}${fmt(v.ms).padStart(8)} ms${fmt(1000 / v.ms, 1).padStart(8)}/s  x${fmt(v.ms / pb)} of wasm SIMD${v.maxDiff !== undefined ? `  max |recon diff| ${v.maxDiff.toExponential(1)}` : ''}`);
    }
    const w = m.settings[0].work, wStop = m.settings[1].work, per = (x) => `${fmt(x / 1e6)} M`;
    const done = w.macs_crossbar + w.macs_digital, dense = w.macs_dense_crossbar + w.macs_dense_digital;
    m.limit = { dense, done, doneStop: wStop.macs_crossbar + wStop.macs_digital, w };
    say(`  work per image (noise off, ${m.T} steps): dense ${per(dense)} multiply-adds (crossbar ${per(w.macs_dense_crossbar)}, digital latent ${per(w.macs_dense_digital)}); performed (event-driven) ${per(done)} (${fmt(100 * done / dense, 1)} %: crossbar ${per(w.macs_crossbar)}, digital ${per(w.macs_digital)}); with early stop ${per(m.limit.doneStop)}`);
    say(`  core clock ${fmt(clockGhz)} GHz measured, one-core peak ${fmt(peak, 1)} G multiply-adds/s (4-wide, 2 mul + 2 add per cycle, no FMA)`);
    for (const k of ['native SIMD', 'wasm SIMD', 'native scalar']) {
      const t = m.settings[0].engines[k].ms / 1000, rate = done / t / 1e9;
      say(`    ${k.padEnd(14)} ${fmt(rate)} G performed multiply-adds/s = ${fmt(100 * rate / peak, 1)} % of peak; dense-equivalent ${fmt(dense / t / 1e9)} G/s`);
    }
    const ortKey = Object.keys(m.peers).find((k) => k.startsWith('onnxruntime') && !m.peers[k].missing);
    if (ortKey) { const rate = dense / (m.peers[ortKey].ms / 1000) / 1e9; say(`    ${'onnxruntime'.padEnd(14)} ${fmt(rate)} G dense multiply-adds/s = ${fmt(100 * rate / peak, 1)} % of peak`); }
    say();
  }
  return { json, lines };
}

// ------------------------------------------------------------------ standalone
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv, arg = (k, d) => { const i = argv.indexOf(k); return i > 0 ? argv[i + 1] : d; };
  const quick = argv.includes('--quick');
  const models = argv.flatMap((a, i) => (a === '--model' ? [path.resolve(argv[i + 1])] : []));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prime-bench-inpaint-'));
  process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
  for (const b of ['prime', 'prime-scalar']) fs.copyFileSync(path.join(root, 'build', b), path.join(tmp, b)), fs.chmodSync(path.join(tmp, b), 0o755);
  const P = await loadPrime(), S = await loadPrime({ wasmBytes: fs.readFileSync(path.join(root, 'build/prime-scalar.wasm')) });
  const { json, lines } = await benchInpaint({
    P, S, bin: tmp, tmp, models: models.length ? models : [path.join(root, 'models/inpaint-mnist.pvae')],
    n: +arg('--n', quick ? 5 : 20), R: +arg('--repeat', 3),
  });
  const text = `PRIME-sim inpainting speed (${new Date().toISOString().slice(0, 16)}Z) - ${os.cpus()[0].model}, ${os.cpus().length} cores (shared, load ${os.loadavg()[0].toFixed(1)}), Node ${process.version}\n${lines.join('\n')}`;
  console.log(text);
  fs.writeFileSync(path.join(root, 'build/bench-inpaint.json'), JSON.stringify({ ...json, text }, (k, v) => (k === 'recon' ? undefined : v), 1));
}
