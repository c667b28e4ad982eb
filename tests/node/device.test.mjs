// device.test.mjs - the device effects through the JS API (docs/device.md):
// option keys on a loaded model, all-or-nothing errors, the paper preset, the
// option list, the IR-drop map against the column currents, and the native CLI
// giving the same logits as the wasm module for the same settings.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime, PrimeError } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const P = await loadPrime();
const MODEL = path.join(root, 'models/nmnist-digits.prime');
const RING = Float32Array.from({ length: 28 * 28 }, (_, p) =>
  Math.abs(Math.hypot(Math.floor(p / 28) - 13.5, (p % 28) - 13.5) - 7) < 2 ? 1 : 0);
const input = () => P.framesFromImage(RING, 28, 28, 10, 1);

test('deviceOptions lists every key with help and defaults', () => {
  const o = P.deviceOptions();
  const by = Object.fromEntries(o.map((e) => [e.key, e]));
  for (const k of ['read_model', 'read_noise', 't_read', 'relax_model', 'r_row', 'r_col', 'ir_tile', 'adc_offset',
    'adc_inl', 'prog_model', 'preset', 'g_sd'])
    assert.ok(by[k] && by[k].help.length > 0, `key ${k}`);
  assert.equal(by.read_model.default, 'conductance');
  assert.equal(by.read_noise.default, '0');
  assert.equal(Math.fround(Number(by.g_sd.default)), P.defaultDevice().gSd); // 9 digits: the float exactly
  assert.equal(by.t_read.default, '0');
  assert.equal(by.ir_tile.default, '512');
  assert.equal(by.read_preset.default, 'wan2022');
});

test('setDevice by option key: applied, read back, changes the output; off again = as before', () => {
  const m = P.loadModel(fs.readFileSync(MODEL));
  const x = input();
  const eta = m.getDeviceOptions().read_noise;
  m.setRun({ noiseSeed: 1 });
  const base = m.classify(x, 10);
  m.setDevice({ read_model: 'weight', read_noise: 0.1, t_read: '1d', relax_model: 'cmo' });
  const o = m.getDeviceOptions();
  assert.equal(o.read_model, 'weight');
  assert.equal(o.relax_model, 'cmo');
  assert.equal(Number(o.t_read), 86400);
  assert.equal(m.getDevice().readNoise, Math.fround(0.1));
  m.setRun({ noiseSeed: 1 });
  const fx = m.classify(x, 10);
  assert.notDeepEqual(Array.from(fx.logits), Array.from(base.logits));
  m.setDevice({ preset: 'off', read_noise: eta });
  m.setRun({ noiseSeed: 1 });
  assert.deepEqual(Array.from(m.classify(x, 10).logits), Array.from(base.logits), 'every effect off: the same bits');
  m.free();
});

test('bad values: PrimeError naming the key, nothing changed', () => {
  const m = P.loadModel(fs.readFileSync(MODEL));
  const before = m.getDeviceOptions();
  const bad = [[{ read_model: 'paper' }, 'read_model'], [{ t_read: '3y' }, 't_read'], [{ r_row: -1 }, 'r_row'],
    [{ read_noise: 0.9 }, 'read_noise'], [{ nosuch: 1 }, 'unknown device parameter "nosuch"'],
    [{ read_model: 'weight', adc_gain: 0.9 }, 'adc_gain'], [{ adc_bits: 0, adc_offset: 1 }, 'adc_bits']];
  for (const [p, want] of bad) {
    assert.throws(() => m.setDevice(p), (e) => e instanceof PrimeError && e.message.includes(want), JSON.stringify(p));
    assert.deepEqual(m.getDeviceOptions(), before, `nothing changed after ${JSON.stringify(p)}`);
  }
  m.free();
});

test('preset=paper sets the weight model and the macro converters', () => {
  const m = P.loadModel(fs.readFileSync(MODEL));
  m.setDevice({ adc_bits: 8, r_row: 1, preset: 'paper' });
  const o = m.getDeviceOptions();
  assert.equal(o.read_model, 'weight');
  assert.equal(o.adc_bits, '14');
  assert.equal(o.dac_bits, '16');
  assert.equal(o.r_row, '0');
  m.free();
});

test('irdropMap: the exact solve of one array, its currents below the ideal ones', () => {
  const m = P.loadModel(fs.readFileSync(MODEL));
  assert.throws(() => m.irdropMap(2, 0), /r_row and r_col/);
  m.setDevice({ r_row: 1, r_col: 1 });
  const a = m.irdropArrays(2);
  assert.deepEqual(a, { rowTiles: 1, colTiles: 1, arrays: 1, tile: 512 });
  const r = m.irdropMap(2, 0);
  assert.equal(r.rows, 300);
  assert.equal(r.cols, 128);
  assert.equal(r.vRow.length, 300 * 128);
  assert.ok(r.iterations > 0);
  const vread = m.getDevice().vRead;
  for (let k = 0; k < r.vRow.length; k += 997) assert.ok(r.vRow[k] <= vread + 1e-9 && r.vRow[k] >= r.vCol[k] - 1e-9);
  for (let j = 0; j < r.cols; j++) assert.ok(r.iCol[j] > 0 && r.iCol[j] < r.iIdeal[j], `column ${j}`);
  m.free();
});

test('native (SIMD, scalar) and wasm give the same bits with effects on', () => {
  const prime = path.join(root, 'build/prime');
  if (!fs.existsSync(prime)) return; // make tools builds it (make node does)
  const m = P.loadModel(fs.readFileSync(MODEL));
  const opts = { read_model: 'weight', read_noise: 0.1, relax_model: 'cmo', t_read: '1h', r_row: 0.5, r_col: 0.5,
    adc_bits: 10, adc_offset: 0.5, adc_gain: 0.01, adc_inl: 'bow', adc_inl_lsb: 0.5 };
  m.setDevice(opts);
  m.setRun({ noiseSeed: 1 });
  const x = input();
  const r = m.classify(x, 10);
  const tmp = fs.mkdtempSync(path.join(root, 'build/devtest-'));
  const fin = path.join(tmp, 'ring.f32');
  fs.writeFileSync(fin, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
  const args = ['classify', MODEL, fin, '--no-stop', '--logits'];
  for (const [k, v] of Object.entries(opts)) args.push('--device', `${k}=${v}`);
  try {
    for (const bin of [prime, path.join(root, 'build/prime-scalar')]) { // native SIMD and native scalar
      if (!fs.existsSync(bin)) continue;
      const out = execFileSync(bin, args, { encoding: 'utf8' });
      const last = out.split('\n').filter((l) => l.startsWith('step 10 logits'))[0];
      assert.ok(last, out);
      const cli = last.split(' ').slice(3).map((t) => Math.fround(Number(t))); // printed with 9 digits: the float exactly
      assert.deepEqual(cli, Array.from(r.logits), `${path.basename(bin)} and wasm: the same bits with every kind of effect on`);
    }
  } finally { fs.rmSync(tmp, { recursive: true }); }
  assert.ok(r.counters.adcClipped >= 0);
  m.free();
});

test('the one model object: device effects on both networks, kept by save -> P.load (section DVFX)', () => {
  const has = (b) => Buffer.from(b).includes('DVFX');
  const m = P.load(fs.readFileSync(MODEL));
  const plain = m.save();
  assert.ok(!has(plain), 'effects off: no DVFX section');
  m.setDevice({ read_model: 'weight', read_noise: 0.1, t_read: '1d', relax_model: 'cmo', adc_offset: 0.5 }).setRun({ noiseSeed: 1 });
  const x = input(), r = m.classify(x, 10), b = m.save();
  assert.ok(has(b), 'effects on: a DVFX section');
  const m2 = P.load(b);
  assert.deepEqual(m2.getDeviceOptions(), m.getDeviceOptions(), 'every option back');
  assert.deepEqual(Array.from(m2.setRun({ noiseSeed: 1 }).classify(x, 10).logits), Array.from(r.logits), 'same logits after save -> load');
  assert.ok(m2.result().counters.adcClipped >= 0);
  m.free(), m2.free();
  const ip = P.load(fs.readFileSync(path.join(root, 'models/inpaint-mnist.pvae')));
  assert.equal(ip.kind, 'inpainter');
  assert.throws(() => ip.irdropMap(0), (e) => e instanceof PrimeError && /no irdropMap/.test(e.message));
  const img = Float32Array.from({ length: 32 * 32 }, (_, p) => ((p * 7) % 5 < 2 ? 1 : -1));
  ip.setDevice({ read_model: 'weight', read_noise: 0.05, relax_model: 'wan2022', t_read: '1d' });
  assert.equal(ip.getDeviceOptions().relax_model, 'wan2022');
  const a = ip.inpaint(img), vb = ip.save();
  assert.ok(has(vb), 'inpainter with effects: a DVFX section');
  const ip2 = P.load(vb);
  assert.deepEqual(ip2.getDeviceOptions(), ip.getDeviceOptions());
  assert.deepEqual(Array.from(ip2.inpaint(img).recon), Array.from(a.recon), 'inpainter: same reconstruction after save -> load');
  ip.free(), ip2.free();
});
