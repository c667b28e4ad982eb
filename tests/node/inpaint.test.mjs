// inpaint.test.mjs - the inpainting model through wasm/prime.js: identical
// bits in SIMD and scalar wasm and native with read noise on, generation,
// per-step reconstructions, free-form holes, bad input (the golden outputs of
// the shipped models: golden.test.mjs).
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

// a drawn ring, 32 x 32 in [-1, 1]
const ring = Float32Array.from({ length: 1024 }, (_, p) =>
  Math.abs(Math.hypot(Math.floor(p / 32) - 16, (p % 32) - 15.5) - 8) < 2 ? 1 : -1);

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
