// inpaint.test.mjs - the inpainting model through wasm/prime.js: the same
// reconstruction and the same generated images as the native build (SIMD and
// scalar wasm, SIMD and scalar native: identical bits with read noise on),
// per-step reconstructions, free-form holes, bad input.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime, PrimeError } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const model = path.join(root, 'models/inpaint-mnist.pvae');
const P = await loadPrime();
const S = await loadPrime({ wasmBytes: fs.readFileSync(path.join(root, 'build/prime-scalar.wasm')) });

// the ring of `prime-train_vae --golden`
const ring = Float32Array.from({ length: 1024 }, (_, p) =>
  Math.abs(Math.hypot(Math.floor(p / 32) - 16, (p % 32) - 15.5) - 8) < 2 ? 1 : -1);

const golden = execFileSync(path.join(root, 'build/prime-train_vae'), ['--golden', model]).toString().trim().split('\n');

/* Asserts that result r matches a golden line of the native build. */
function sameAsNative(r, line) {
  const w = line.split(' ');
  const at = (key) => +w[w.indexOf(key) + 1];
  assert.equal(r.stepsUsed, at('steps'), line);
  const sum = r.recon.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - at('sum')) < 1e-3, `sum ${sum} vs native ${at('sum')} (${line})`);
  assert.ok(Math.abs(r.recon[400] - at('p400')) < 1e-6 && Math.abs(r.recon[500] - at('p500')) < 1e-6, line);
  assert.ok(Math.abs(r.energyPj - at('energy')) / at('energy') < 1e-9, line);
}

test('wasm (SIMD and scalar) reconstructs exactly like the native build', () => {
  const lines = golden.filter((l) => l.startsWith('case '));
  assert.equal(lines.length, 2);
  for (const [k, noise] of [[0, 0], [1, 0.05]]) {
    for (const M of [P, S]) {
      const ip = M.loadInpainter(fs.readFileSync(model));
      sameAsNative(ip.inpaint(ring, { readNoise: noise, adcBits: 14 }), lines[k]);
      ip.free();
    }
  }
});

test('wasm (SIMD and scalar) generates the same images from the prior as the native build', () => {
  const lines = golden.filter((l) => l.startsWith('gen '));
  assert.equal(lines.length, 3);
  for (const M of [P, S]) {
    const ip = M.loadInpainter(fs.readFileSync(model));
    for (const line of lines) {
      const w = line.split(' ');
      const r = ip.generate({ seed: +w[w.indexOf('seed') + 1], readNoise: +w[w.indexOf('noise') + 1], adcBits: 14 });
      sameAsNative(r, line);
    }
    ip.free();
  }
});

test('generate: seeded, per-step images in [-1, 1], different seeds differ, errors', () => {
  const ip = P.loadInpainter(fs.readFileSync(model));
  const a = ip.generate({ seed: 3, readNoise: 0.05, earlyStop: false });
  ip.inpaint(ring); // other calls in between change nothing
  const b = ip.generate({ seed: 3, readNoise: 0.05, earlyStop: false });
  const c = ip.generate({ seed: 4, readNoise: 0.05, earlyStop: false });
  assert.equal(a.seed, 3);
  assert.equal(a.stepsUsed, 16);
  assert.equal(a.steps.length, 16);
  assert.ok(a.steps.every((s) => s.length === 1024 && s.every((x) => x >= -1 && x <= 1)));
  assert.deepEqual(b.recon, a.recon, 'the same seed gives the same image');
  assert.equal(b.energyPj, a.energyPj);
  const diff = a.recon.reduce((m, x, i) => m + Math.abs(x - c.recon[i]), 0);
  assert.ok(diff > 1, `seeds 3 and 4 give different images (sum |diff| ${diff})`);
  assert.ok(a.energyPj > 0 && a.energyRatio > 0);
  assert.throws(() => ip.generate({ seed: -1 }), (e) => e instanceof PrimeError && /seed/.test(e.message));
  assert.throws(() => ip.generate({ seed: 1.5 }), (e) => e instanceof PrimeError && /seed/.test(e.message));
  assert.throws(() => ip.generate({ seed: '1' }), PrimeError);
  ip.free();
  assert.throws(() => ip.generate(), (e) => e instanceof PrimeError && /freed/.test(e.message));
});

/** FNV-1a over the bytes of a Float32Array (as `prime bench-vae`). */
const fnv1a = (f) => { let h = 2166136261; for (const b of new Uint8Array(f.buffer, f.byteOffset, f.byteLength)) h = Math.imul(h ^ b, 16777619) >>> 0; return h; };

test('all four builds give identical bits (read noise 0.05, early stop on and off)', () => {
  const imgs = [ring, ring.map((x, p) => (p % 7 ? x : -x)), ring.map((x, p) => x * (p % 3) / 2)];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prime-inpaint-')), 'img.f32');
  const all = new Float32Array(3 * 1024);
  imgs.forEach((im, i) => all.set(im, i * 1024));
  fs.writeFileSync(file, Buffer.from(all.buffer));
  for (const stop of [0, 1]) {
    const native = ['prime', 'prime-scalar'].map((b) => JSON.parse(execFileSync(path.join(root, 'build', b),
      ['bench-vae', model, file, '3', '--noise', '0.05', ...(stop ? ['--stop', '0.2'] : ['--no-stop']), '--repeat', '1']).toString()));
    assert.deepEqual(native[1].hashes, native[0].hashes, 'native scalar vs SIMD');
    for (const M of [P, S]) {
      const ip = M.loadInpainter(fs.readFileSync(model));
      const rs = imgs.map((im) => ip.inpaint(im, { readNoise: 0.05, earlyStop: !!stop }));
      ip.free();
      assert.deepEqual(rs.map((r) => fnv1a(r.recon)), native[0].hashes, 'wasm vs native');
      assert.deepEqual(rs.map((r) => r.stepsUsed), native[0].steps);
    }
  }
  fs.rmSync(path.dirname(file), { recursive: true });
});

test('per-step reconstructions, early stop off, free-form hole, errors', () => {
  const ip = P.loadInpainter(fs.readFileSync(model));
  assert.equal(ip.size, 32);
  assert.equal(ip.T, 16);
  const full = ip.inpaint(ring, { earlyStop: false });
  assert.equal(full.stepsUsed, 16);
  assert.equal(full.steps.length, 16);
  assert.equal(full.m.length, 16);
  assert.ok(full.steps.every((s) => s.length === 1024 && s.every((x) => x >= -1 && x <= 1)));
  const early = ip.inpaint(ring, { earlyStop: true, mTh: 1e9 });
  assert.ok(early.stepsUsed <= 16 && early.stepsUsed >= 5, `steps ${early.stepsUsed}`);
  const hole = new Uint8Array(1024).map((_, p) => ((p >> 5) + (p & 31)) % 5 === 0 ? 1 : 0);
  const r = ip.inpaint(ring, { hole, earlyStop: false });
  assert.equal(r.recon.length, 1024);
  assert.throws(() => ip.inpaint(new Float32Array(10)), PrimeError);
  assert.throws(() => ip.inpaint(ring.map((x) => x * 3)), (e) => e instanceof PrimeError && /\[-1, 1\]/.test(e.message));
  ip.free();
  assert.throws(() => P.loadInpainter(new Uint8Array([1, 2, 3])), (e) => e instanceof PrimeError && /PRIMEVAE/.test(e.message));
});
