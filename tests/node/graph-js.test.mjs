// graph-js.test.mjs - layer-graph models through the wasm API (wasm/prime-graph.js,
// docs/graph.md): P.importModel of the PRIME authors' FSVAE state_dict (.pt and
// compressed .npz) and of the Fashion CNN layout gives the model file and the
// outputs of the native build/prime-graph bit for bit; save -> P.load gives the
// same bytes and outputs; bad bytes are a PrimeError and leave the module
// usable; a method the graph lacks is a PrimeError naming the ones it has.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime, PrimeError } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DIR = path.join(root, 'build', 'graph-js');
const CLI = path.join(root, 'build', 'prime-graph');
const CI = process.env.CI === 'true';
const P = await loadPrime();

// the checkpoints (torch); null without torch
function fixtures() {
  try {
    execFileSync('/usr/bin/python3', ['tests/make_graph_js_fixtures.py', DIR], { cwd: root, stdio: 'pipe' });
    return DIR;
  } catch (e) {
    if (CI) throw new Error(`python3-torch / python3-numpy are needed (./build.sh setup installs them): ${e.message}`);
    return null;
  }
}
const FIX = fixtures();
const skip = !FIX && 'python3-torch is not installed (./build.sh setup installs it)';
const file = (f) => path.join(DIR, f);
const cli = (...a) => execFileSync(CLI, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A little-endian .npy (float32 '<f4' or int32 '<i4'). */
function writeNpy(p, data, shape) {
  const descr = data instanceof Int32Array ? '<i4' : '<f4';
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  while ((h.length + 11) % 64) h += ' ';
  h += '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
  fs.writeFileSync(p, Buffer.concat([pre, Buffer.from(h, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
/** A .npy of float32 / int32 (version 1, C order): { data, shape }. */
function readNpy(p) {
  const b = fs.readFileSync(p), n = b.readUInt16LE(8), h = b.subarray(10, 10 + n).toString('latin1');
  const shape = h.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const body = b.subarray(10 + n), copy = new Uint8Array(body).buffer;
  return { shape, data: /'<i4'/.test(h) ? new Int32Array(copy) : new Float32Array(copy) };
}
/** The first index where a and b differ (-1: none), and the largest |a - b|. */
function diff(a, b) {
  let first = -1, max = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) { if (first < 0) first = i; max = Math.max(max, Math.abs(a[i] - b[i])); }
  }
  return { first, max };
}
const IDEAL = { gOff: 0, gOffSd: 0, progNoise: 0, readNoise: 0, adcBits: 0, dacBits: 0, stuckOn: 0, stuckOff: 0 };

/** Every sample of `inputs` run in the wasm, every step's readout, as [N][T][nOut]; and the picks [N][T][c]. */
function wasmRuns(m, x, N, per) {
  const T = m.T, out = [], picks = [];
  for (let s = 0; s < N; s++) {
    const r = m.run(x.subarray(s * per, (s + 1) * per));
    assert.equal(r.stepsUsed, T);
    for (const st of r.steps) out.push(...st);
    if (r.choices) picks.push(...r.choices);
  }
  return { out: Float32Array.from(out), picks: Int32Array.from(picks) };
}

test('FSVAE: P.importModel (.pt and compressed .npz) = build/prime-graph import, byte for byte; outputs = build/prime-graph run bit for bit', { skip }, () => {
  let t0 = performance.now();
  const m = P.importModel(fs.readFileSync(file('fsvae.pt')));
  const msWasm = performance.now() - t0;
  assert.equal(m.kind, 'graph');
  assert.equal(m.graph.readout, 'tanh');
  assert.ok(m.graph.image && m.graph.generates && m.graph.latent.choices, 'an image graph with a latent that picks');
  assert.deepEqual([m.size, m.T, m.graph.latent.c, m.graph.latent.k, m.graph.graphs.length], [32, 16, 128, 20, 3]);
  const mz = P.importModel(fs.readFileSync(file('fsvae.npz')));
  const bytes = m.save();
  assert.ok(Buffer.from(mz.save()).equals(Buffer.from(bytes)), '.npz and .pt import to the same model file');
  mz.free();
  t0 = performance.now();
  cli('import', file('fsvae.pt'), file('fsvae-native.prime'));
  const msNative = performance.now() - t0;
  const native = fs.readFileSync(file('fsvae-native.prime'));
  assert.ok(native.equals(Buffer.from(bytes)), `the wasm import saves the native model file (${bytes.length} bytes)`);
  console.log(`# FSVAE import: wasm ${msWasm.toFixed(0)} ms in this process, native CLI ${msNative.toFixed(0)} ms (process included); model file ${bytes.length} bytes`);

  const { data: x, shape } = readNpy(file('fsvae-in.npy'));
  const N = shape[0], per = 1024;
  // 1) the default device, latent picks drawn from the run's latent seed
  m.setRun({ policy: 'none' });
  let w = wasmRuns(m, x, N, per);
  cli('run', file('fsvae-native.prime'), file('fsvae-in.npy'), file('fsvae-out.npy'), '--choices-out', file('fsvae-picks.npy'));
  let d = diff(w.out, readNpy(file('fsvae-out.npy')).data);
  assert.equal(d.first, -1, `default device: every step's reconstruction bit for bit (first difference at ${d.first}, max ${d.max})`);
  assert.deepEqual(Array.from(w.picks), Array.from(readNpy(file('fsvae-picks.npy')).data), 'the same latent picks');
  // 2) the ideal device with given picks (as scripts/graph-check.py runs it against torch)
  const picks = new Int32Array(N * 16 * 128);
  for (let i = 0; i < picks.length; i++) picks[i] = (i * 7919 + 13) % 20;
  writeNpy(file('fsvae-given.npy'), picks, [N, 16, 128]);
  m.setDevice(IDEAL).setRun({ ideal: true });
  const out = [];
  for (let s = 0; s < N; s++) {
    const r = m.run(x.subarray(s * per, (s + 1) * per), { choices: picks.subarray(s * 2048, (s + 1) * 2048) });
    assert.deepEqual(Array.from(r.choices), Array.from(picks.subarray(s * 2048, (s + 1) * 2048)), 'the given picks were used');
    for (const st of r.steps) out.push(...st);
  }
  cli('run', file('fsvae-native.prime'), file('fsvae-in.npy'), file('fsvae-out2.npy'), '--ideal', '--choices', file('fsvae-given.npy'));
  d = diff(Float32Array.from(out), readNpy(file('fsvae-out2.npy')).data);
  assert.equal(d.first, -1, `ideal device, given picks: bit for bit (first difference at ${d.first}, max ${d.max})`);
  // 3) generation from the prior (run.generate with a latent seed, as --generate SEED)
  m.setRun({ generate: true, latentSeed: 5, ideal: false });
  w = wasmRuns(m, x, N, per);
  cli('run', file('fsvae-native.prime'), file('fsvae-in.npy'), file('fsvae-out3.npy'), '--ideal', '--generate', '5');
  d = diff(w.out, readNpy(file('fsvae-out3.npy')).data);
  assert.equal(d.first, -1, `generate: bit for bit (first difference at ${d.first}, max ${d.max})`);
  const lo = Math.min(...w.out), hi = Math.max(...w.out);
  assert.ok(hi - lo > 0.01, `the outputs are not constant (${lo}..${hi})`);
  m.free();
});

test('Fashion CNN (logits readout): P.importModel = the native import; classify = build/prime-graph run bit for bit', { skip }, () => {
  const f = P.importModel(fs.readFileSync(file('fashion.pt')));
  assert.equal(f.kind, 'graph');
  assert.deepEqual([f.graph.readout, f.arch.inC, f.arch.inH, f.arch.nOut, f.graph.latent, f.size], ['logits', 1, 28, 10, null, null]);
  cli('import', file('fashion.pt'), file('fashion-native.prime'));
  assert.ok(fs.readFileSync(file('fashion-native.prime')).equals(Buffer.from(f.save())), 'the same model file');
  const { data: x, shape } = readNpy(file('fashion-in.npy'));
  for (const ideal of [false, true]) {
    if (ideal) f.setDevice(IDEAL).setRun({ ideal: true });
    cli('run', file('fashion-native.prime'), file('fashion-in.npy'), file('fashion-out.npy'), ...(ideal ? ['--ideal'] : []));
    const want = readNpy(file('fashion-out.npy')).data;
    for (let s = 0; s < shape[0]; s++) {
      const r = f.classify(x.subarray(s * 784, (s + 1) * 784));
      const d = diff(r.logits, want.subarray(s * 10, s * 10 + 10));
      assert.equal(d.first, -1, `${ideal ? 'ideal' : 'default'} device, sample ${s}: logits bit for bit (max ${d.max})`);
      let best = 0;
      for (let k = 1; k < 10; k++) if (r.logits[k] > r.logits[best]) best = k;
      assert.equal(r.label, best);
      assert.ok(Math.abs(r.probs.reduce((a, b) => a + b, 0) - 1) < 1e-6);
      assert.ok(r.energyPj > 0 && r.counters.cellReads > 0);
    }
  }
  f.free();
});

test('save -> P.load: the same bytes and the same outputs (noise on; SIMD and scalar wasm)', { skip }, async () => {
  const m = P.importModel(fs.readFileSync(file('fsvae.pt')));
  m.setDevice({ readNoise: 0.05, adcBits: 8 }).setRun({ policy: 'convergence', noiseSeed: 3, latentSeed: 9 });
  const b = m.save(), m2 = P.load(b);
  assert.equal(m2.kind, 'graph');
  assert.ok(Buffer.from(m2.save()).equals(Buffer.from(b)), 'the reloaded model saves the same bytes');
  assert.deepEqual(m2.getRun(), m.getRun());
  assert.deepEqual(m2.getDevice(), m.getDevice());
  const img = readNpy(file('fsvae-in.npy')).data.subarray(0, 1024);
  const a = m.inpaint(img), c = m2.inpaint(img), g1 = m.generate({ seed: 4 }), g2 = m2.generate({ seed: 4 });
  for (const [u, v, what] of [[a, c, 'inpaint'], [g1, g2, 'generate']]) {
    assert.equal(u.stepsUsed, v.stepsUsed, what);
    for (let t = 0; t < u.stepsUsed; t++) assert.equal(diff(u.steps[t], v.steps[t]).first, -1, `${what} step ${t}`);
    assert.deepEqual(Array.from(u.choices), Array.from(v.choices));
    assert.equal(u.energyPj, v.energyPj);
    assert.deepEqual(u.counters, v.counters);
  }
  // the per-call options act for that call only
  const before = JSON.stringify([m.getDevice(), m.getRun()]);
  m.inpaint(img, { readNoise: 0.2, earlyStop: false, noiseSeed: 11 });
  assert.equal(JSON.stringify([m.getDevice(), m.getRun()]), before);
  const scalarWasm = path.join(root, 'build', 'prime-scalar.wasm');
  if (fs.existsSync(scalarWasm)) {
    const S = await loadPrime({ scalar: true });
    const ms = S.load(b), s = ms.inpaint(img);
    assert.equal(S.simd, 'scalar');
    for (let t = 0; t < a.stepsUsed; t++) assert.equal(diff(a.steps[t], s.steps[t]).first, -1, `scalar = SIMD, step ${t}`);
    assert.equal(s.energyPj, a.energyPj);
    ms.free();
  }
  const f = P.importModel(fs.readFileSync(file('fashion.pt'))), fb = f.save(), f2 = P.load(fb);
  const x = readNpy(file('fashion-in.npy')).data.subarray(0, 784);
  f.setDevice({ readNoise: 0.1 }); f2.setDevice({ readNoise: 0.1 });
  assert.deepEqual(Array.from(f2.classify(x).logits), Array.from(f.classify(x).logits));
  m.free(); m2.free(); f.free(); f2.free();
});

test('bad bytes: truncations and bit flips of a graph model file, a .pt and a compressed .npz are a PrimeError', { skip }, () => {
  const f = P.importModel(fs.readFileSync(file('fashion.pt')));
  const good = f.save(), x = readNpy(file('fashion-in.npy')).data.subarray(0, 784), want = f.classify(x).logits;
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const refused = (fn, what) => {
    try { const m = fn(); m.free(); return false; } catch (e) {
      assert.ok(e instanceof PrimeError, `${what}: ${e}`);
      assert.ok(e.message.length > 10, `${what}: a message (${e.message})`);
      return true;
    }
  };
  const lens = [];
  for (let n = 0; n < 300; n++) lens.push(n);
  for (let k = 0; k < 200; k++) lens.push(rnd(good.length));
  for (const n of lens) assert.ok(refused(() => P.load(good.subarray(0, n)), `model truncated to ${n}`), `truncated to ${n}: refused`);
  let flips = 0;
  for (let k = 0; k < 2000; k++) {
    const b = Uint8Array.from(good), i = rnd(b.length);
    b[i] ^= 1 << rnd(8);
    if (refused(() => P.load(b), `flip at ${i}`)) flips++;
  }
  assert.equal(flips, 2000, 'every flip of a model file is refused (CRC-32)');
  const names = new Set();
  for (const [name, bytes0, nt, nf] of [['fashion.pt', fs.readFileSync(file('fashion.pt')), 200, 400],
    ['fsvae.npz', fs.readFileSync(file('fsvae.npz')), 16, 16]]) {
    const bytes = new Uint8Array(bytes0);
    let caught = 0;
    for (let k = 0; k < nt; k++) {
      const n = k < nt / 2 ? rnd(Math.min(4096, bytes.length)) : rnd(bytes.length);
      if (refused(() => P.importModel(bytes.subarray(0, n)), `${name} truncated to ${n}`)) caught++;
      else assert.fail(`${name} truncated to ${n} imported`);
    }
    let loaded = 0;
    for (let k = 0; k < nf; k++) {
      const b = Uint8Array.from(bytes), i = rnd(b.length);
      b[i] ^= 1 << rnd(8);
      try { P.importModel(b).free(); loaded++; } catch (e) { assert.ok(e instanceof PrimeError, `${name} flip at ${i}: ${e}`); names.add(e.message.slice(0, 40)); }
    }
    console.log(`# ${name}: ${caught} of ${nt} truncations refused; ${nf - loaded} of ${nf} bit flips refused, ${loaded} imported (flips in zip bytes the reader does not use: every entry it reads is CRC-checked)`);
  }
  // flips with the CRC-32 repaired reach the field checks: a PrimeError naming a field, or a model that runs
  const crc = (b, n) => { let c = ~0; for (let i = 0; i < n; i++) { c ^= b[i]; for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1)); } return ~c >>> 0; };
  let named = 0, ran = 0;
  for (let k = 0; k < 300; k++) {
    const b = Uint8Array.from(good), i = k < 200 ? 8 + rnd(Math.min(4096, b.length - 12)) : rnd(b.length - 4);
    b[i] ^= 1 << rnd(8);
    new DataView(b.buffer).setUint32(b.length - 4, crc(b, b.length - 4), true);
    let m = null;
    try { m = P.load(b); } catch (e) { assert.ok(e instanceof PrimeError, `repaired flip at ${i}: ${e}`); named++; continue; }
    try { m.classify(x); ran++; } catch (e) { assert.ok(e instanceof PrimeError, `repaired flip at ${i}, run: ${e}`); } finally { m.free(); }
  }
  console.log(`# graph model file, 300 flips with the CRC repaired: ${named} refused by a field check, ${ran} loaded and ran, no trap`);
  // the module is still sound: the same model gives the same logits
  assert.deepEqual(Array.from(f.classify(x).logits), Array.from(want));
  assert.throws(() => P.importModel(new Uint8Array([1, 2, 3])), PrimeError);
  assert.throws(() => P.load(fs.readFileSync(file('fashion.pt'))), (e) => e instanceof PrimeError && /model file/.test(e.message));
  f.free();
});

test('wrong kind: a method the graph lacks is a PrimeError naming those it has; loadModel / loadInpainter refuse a graph', { skip }, () => {
  const m = P.importModel(fs.readFileSync(file('fsvae.pt'))), f = P.importModel(fs.readFileSync(file('fashion.pt')));
  const lacks = (fn, re) => assert.throws(fn, (e) => e instanceof PrimeError && re.test(e.message), String(fn));
  for (const fn of [() => m.classify(new Float32Array(1024)), () => m.tiling(), () => m.layerState(0), () => m.getWeights(1),
    () => m.classifyBatch([]), () => m.begin(new Float32Array(1024)), () => m.step(), () => m.exportOnnx(), () => m.getParams(0),
    () => m.latentUniforms(), () => m.getDeviceOptions(), () => m.irdropMap(0)])
    lacks(fn, /layer graph \(tanh readout, 35 nodes\), which has no .*it has inpaint\(\), generate\(\), getChoices\(\)\/setChoices\(\), run\(\)/);
  for (const fn of [() => f.inpaint(new Float32Array(784)), () => f.generate(), () => f.getChoices(), () => f.setChoices([0])])
    lacks(fn, /layer graph \(logits readout, 10 nodes\), which has no .*it has classify\(\), run\(\)/);
  lacks(() => m.setDevice({ read_model: 'weight' }), /"read_model" is not a device field of a layer-graph model/);
  lacks(() => m.setRun({ policy: 'sometimes' }), /unknown policy "sometimes"/);
  lacks(() => f.setRun({ policy: 'convergence' }), /convergence policy needs the tanh readout/);
  lacks(() => m.run(new Float32Array(5)), /input holds 5 values, expected 1\*32\*32 = 1024/);
  lacks(() => m.inpaint(new Float32Array(1024).fill(2)), /pixel 0 = 2 is not in \[-1, 1\]/);
  lacks(() => m.setChoices(new Int32Array(16 * 128).fill(20)), /latent choice 0 = 20 out of 0\.\.19/);
  lacks(() => m.getParam(1, 'weights'), /has no parameter "weights"/);
  lacks(() => m.nodeOutput(99), /node = 99 out of range/);
  const b = m.save();
  lacks(() => P.loadModel(b), /this is a layer-graph model, not a classifier: load it with P\.load/);
  lacks(() => P.loadInpainter(b), /this is a layer-graph model, not an inpainting model/);
  // what a graph has works, and free is final
  assert.ok(m.getMask(1).length === 32 * 9 && m.getParam(2, 'affine_a').length === 32);
  assert.ok(m.nodeSpikes().length === 35);
  m.free(); m.free();
  lacks(() => m.inpaint(new Float32Array(1024)), /model was freed/);
  f.free();
});

test('parameters: masks, conductance maps and digital weights set and read back; kept by save()', { skip }, () => {
  const f = P.importModel(fs.readFileSync(file('fashion.pt'))), x = readNpy(file('fashion-in.npy')).data.subarray(0, 784);
  f.setDevice(IDEAL).setRun({ ideal: true });
  const n = f.getMask(2).length, a = f.getParam(2, 'gpos'), b = f.getParam(2, 'gneg'), r0 = f.classify(x).logits;
  assert.equal(n, 9 * 64);
  // a bad map changes nothing (both sides checked first)
  const bad = Float32Array.from(b); bad[5] = -1;
  assert.throws(() => f.setConductances(2, a, bad), (e) => e instanceof PrimeError && /gneg value 5 = -1 is not a conductance/.test(e.message));
  assert.deepEqual(Array.from(f.getParam(2, 'gpos')), Array.from(a));
  // swapping G+ and G- negates the layer's weights; the logits move; save -> load keeps it
  f.setConductances(2, b, a);
  const w = f.getParam(2, 'weight'), mask = f.getMask(2);
  const r1 = f.classify(x).logits;
  assert.notDeepEqual(Array.from(r1), Array.from(r0));
  const f2 = P.load(f.save());
  f2.setDevice(IDEAL).setRun({ ideal: true });
  assert.deepEqual(Array.from(f2.classify(x).logits), Array.from(r1));
  assert.deepEqual(Array.from(f2.getParam(2, 'weight')), Array.from(w));
  // a mask with every cell pruned: the layer reads zeros
  f2.setMask(2, new Uint8Array(n));
  assert.ok(f2.getParam(2, 'weight').every((v) => v === 0));
  assert.ok(mask.some((v) => v === 0) && mask.some((v) => v === 1));
  // a digital layer's weights (the FSVAE posterior) set and read back
  const m = P.importModel(fs.readFileSync(file('fsvae.pt'))), post = m.graph.graphs[1][1];
  assert.deepEqual([post.op, post.crossbar], ['fc', false]);
  const wd = m.getParam(1, 'weight', 1);
  wd[0] += 1;
  m.setParam(1, 'weight', wd, 1);
  assert.equal(m.getParam(1, 'weight', 1)[0], wd[0]);
  assert.throws(() => m.setParam(1, 'weight', new Float32Array(3), 1), /has \d+ values, not 3/);
  m.free(); f.free(); f2.free();
});
