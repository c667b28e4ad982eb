// safety.test.mjs - crafted files and bad parameters through wasm (docs/model-format.md,
// "Limits"): each throws a PrimeError with a clear message, and a second live model
// (models/nmnist-digits.prime) gives bit-identical results before and after each
// attack, so no attack wrote over other objects' memory.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPrime, PrimeError } from '../../wasm/prime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const P = await loadPrime();
const digits = new Uint8Array(fs.readFileSync(path.join(root, 'models/nmnist-digits.prime')));
// the crafted files below patch the fixed layout of model file version 1: the first shipped
// digits model, kept in that version as a fixture (tests/assets/nmnist-digits-v1.prime)
const digitsV1 = new Uint8Array(fs.readFileSync(path.join(root, 'tests/assets/nmnist-digits-v1.prime')));
const vaeBytes = new Uint8Array(fs.readFileSync(path.join(root, 'models/inpaint-mnist.pvae')));

// The witness: a live model and a fixed input, its result taken before any attack.
const witness = P.loadModel(digits);
const img = new Float32Array(28 * 28).map((_, i) => ((i * 37) % 101) / 100);
const frames = P.framesFromImage(img, 28, 28, 10, 5);
witness.setDevice({ readNoise: 0.05 });
// setRun restarts the noise stream, so every classify below draws the same noise
const expected = witness.setRun({ noiseSeed: 11 }).classify(frames);
const unchanged = (what) => {
  const r = witness.setRun({ noiseSeed: 11 }).classify(frames);
  assert.deepEqual([...r.logits], [...expected.logits], `${what}: the other model's logits changed`);
  assert.deepEqual([...r.spikes], [...expected.spikes], `${what}: the other model's spikes changed`);
  assert.equal(r.label, expected.label);
};
/** fn must throw a PrimeError matching re, quickly, and leave the witness unchanged. */
const refuses = (what, fn, re) => {
  const t0 = performance.now();
  assert.throws(fn, (e) => e instanceof PrimeError && re.test(e.message), what);
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `${what}: refused in ${ms.toFixed(0)} ms (< 1 s)`);
  unchanged(what);
};

function crc32(b) {
  let c = ~0;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}
/** A .prime file: header, raw layers [op, out_c, k, stride, pad, neuron], the
 * device and run of nmnist-digits, no masks; size field and CRC correct. */
function craftModel({ T = 10, inC, inH, inW, classes, layers }) {
  const devRun = digitsV1.subarray(44 + 5 * 44, 44 + 5 * 44 + 112);
  const n = 44 + 44 * layers.length + 112 + 4;
  const b = new Uint8Array(n), dv = new DataView(b.buffer);
  b.set(new TextEncoder().encode('PRIMEMDL'));
  [1, n, 0, T, inC, inH, inW, classes, layers.length].forEach((v, i) => dv.setUint32(8 + 4 * i, v, true));
  layers.forEach((l, i) => {
    const o = 44 + 44 * i;
    l.forEach((v, j) => dv.setUint32(o + 4 * j, v, true));
    [0.2, 0.8, 0.1, 0.01, 0.5].forEach((v, j) => dv.setFloat32(o + 24 + 4 * j, v, true));
  });
  b.set(devRun, 44 + 44 * layers.length);
  dv.setUint32(n - 4, crc32(b.subarray(0, n - 4)), true);
  return b;
}
/** the version-1 digits model with one u32 field changed, CRC fixed. */
function patched(offset, value) {
  const b = digitsV1.slice(), dv = new DataView(b.buffer);
  dv.setUint32(offset, value, true);
  dv.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}
const CONV = 1, FC = 2, LIF = 1, OUT = 2;

test('crafted .prime files: a clear PrimeError, fast, the other model unchanged', () => {
  // 1331 * 2237 * 2885 outputs wrap to 3 in 32 bits (the heap overwrite of a 573-byte file)
  refuses('wrapped output size',
    () => P.loadModel(craftModel({ inC: 1, inH: 2237, inW: 2885, classes: 3, layers: [[CONV, 1331, 1, 1, 0, OUT]] })),
    /architecture: input 1x2237x2885 has more than/);
  // FC 1000x1000 -> 4096: 4.1e9 cells (nw*33 wrapped in wasm's 32-bit size_t)
  const bigFc = craftModel({ inC: 1, inH: 1000, inW: 1000, classes: 10, layers: [[FC, 4096, 1, 1, 0, LIF], [FC, 10, 1, 1, 0, OUT]] });
  assert.equal(bigFc.length, 248);
  refuses('big FC (248 bytes)', () => P.loadModel(bigFc), /layer 0: 1000000 x 4096 weight matrix above the cap/);
  // 10M cells inside the caps, masks missing: refused from the header, nothing built
  const noMasks = craftModel({ inC: 1, inH: 1000, inW: 1000, classes: 10, layers: [[FC, 10, 1, 1, 0, OUT]] });
  assert.equal(noMasks.length, 204);
  refuses('masks missing (204 bytes)', () => P.loadModel(noMasks), /needs 1250212 bytes .*the file has 204/);
  // non-canonical: the FC layer (4) with k = 3, a pool (1) with stride 3
  refuses('FC with k = 3', () => P.loadModel(patched(44 + 4 * 44 + 8, 3)), /layer 4 \(FC\) is not canonical/);
  refuses('pool with stride 3', () => P.loadModel(patched(44 + 1 * 44 + 12, 3)), /layer 1 \(pool\) is not canonical/);
});

test('crafted .pvae headers: refused before anything is built', () => {
  const header = (ch, latent, k, T, size, software = 0) => {
    const b = vaeBytes.slice(0, 144), dv = new DataView(b.buffer);
    [ch, latent, k, T, size, software].forEach((v, i) => dv.setInt32(12 + 4 * i, v, true));
    return b;
  };
  refuses('vae header without masks', () => P.loadInpainter(header(128, 512, 64, 16, 64)), /needs \d+ bytes, the file has 144 \(truncated\)/);
  refuses('largest vae header', () => P.loadInpainter(header(256, 1024, 64, 64, 256)), /above the cap/);
  refuses('vae software = 2', () => P.loadInpainter(header(32, 128, 20, 16, 32, 2)), /software = 2/);
  refuses('vae one byte short', () => P.loadInpainter(vaeBytes.subarray(0, vaeBytes.length - 1)), /truncated/);
});

test('bad device and run parameters: the field is named, numeric strings refused', () => {
  const m = P.loadModel(digits);
  refuses('gDist 0.5', () => m.setDevice({ gDist: 0.5 }), /gDist = 0.5 must be an integer/);
  refuses('noiseMode 1.7', () => m.setDevice({ noiseMode: 1.7 }), /noiseMode = 1.7 must be an integer/);
  refuses('adcBits 1e10', () => m.setDevice({ adcBits: 1e10 }), /adcBits = 1e\+10 must be an integer in 0..24/);
  refuses('chipSeed 1.5', () => m.setDevice({ chipSeed: 1.5 }), /chipSeed = 1.5 must be an integer/);
  refuses('gMean 1e300 (beyond float)', () => m.setDevice({ gMean: 1e300 }), /gMean = 1e\+300 is not a finite number in float range/);
  refuses('readNoise as a string', () => m.setDevice({ readNoise: '0.1' }), /device parameter readNoise must be a number, got string/);
  refuses('setDevice("str")', () => m.setDevice('str'), /setDevice expects an object of named parameters, got string/);
  refuses('noiseSeed 1.5', () => m.setRun({ noiseSeed: 1.5 }), /noiseSeed = 1.5 must be an integer/);
  refuses('minSteps Infinity', () => m.setRun({ minSteps: Infinity }), /minSteps = inf must be an integer/);
  refuses('alpha as a string', () => m.setRun({ alpha: '2' }), /run parameter alpha must be a number/);
  refuses('setRun([1])', () => m.setRun([1]), /setRun expects an object/);
  // the refused calls changed nothing: same result as a fresh model
  const fresh = P.loadModel(digits);
  assert.deepEqual([...m.classify(frames).logits], [...fresh.classify(frames).logits]);
  fresh.free();
  m.free();
});

test('bad event parameters and buffer sizes: refused before any allocation', () => {
  const ev = P.eventsFromImage(img, 28, 28, { seed: 3 });
  refuses('binEvents(ev, 32, 4096) (4 GiB, 0 in 32 bits)', () => P.binEvents(ev, 32, 4096), /buffer of 4294967296 bytes does not fit/);
  refuses('binEvents T = 10.5', () => P.binEvents(ev, 10.5), /T = 10.5 must be an integer/);
  refuses('binEvents T = 2^32 + 10', () => P.binEvents(ev, 2 ** 32 + 10), /T = 4294967306 out of range/);
  refuses('binEvents count > arrays', () => P.binEvents({ ...ev, count: ev.count + 5 }, 10), /ev.x must hold/);
  refuses('events size 1.5', () => P.eventsFromImage(img, 28, 28, { size: 1.5 }), /events: size = 1.5 must be an integer/);
  refuses('events seed -1', () => P.eventsFromImage(img, 28, 28, { seed: -1 }), /events: seed = -1 must be an integer in 0..2\^53/);
  refuses('events contrast string', () => P.eventsFromImage(img, 28, 28, { contrast: '0.1' }), /contrast must be a number/);
  refuses('events amplitude 1e39', () => P.eventsFromImage(img, 28, 28, { amplitude: 1e39 }), /amplitude = 1e\+39 is not a finite number/);
  refuses('events at their limits (work cap)', () => P.eventsFromImage(img, 28, 28, { size: 255, stepsPerSaccade: 10000 }), /work cap/);
  refuses('events every limit (event cap)', () => P.eventsFromImage(img, 28, 28,
    { stepsPerSaccade: 2500, contrast: 0.01, noiseRate: 1000, durationUs: 8388607, amplitude: 34 }), /more than 2097152 events/);
  refuses('eventsFromImage width 2^32 + 28', () => P.eventsFromImage(img, 2 ** 32 + 28, 1), /width = 4294967324 out of range/);
  refuses('framesFromImage seed 1.5', () => P.framesFromImage(img, 28, 28, 10, 1.5), /seed = 1.5 must be an integer/);
  refuses('framesFromImage T 65', () => P.framesFromImage(img, 28, 28, 65), /T = 65 out of range/);
  refuses('decodeImage 1e6 x 1e6', () => P.decodeImage(new Uint8Array(10), 1e6, 1e6), /width = 1000000 out of range/);
});

test('bad inpainter options: the option is named', () => {
  const ip = P.loadInpainter(vaeBytes);
  const x = new Float32Array(ip.size * ip.size).fill(-1);
  const before = ip.inpaint(x, { earlyStop: false });
  refuses('adcBits 3.5', () => ip.inpaint(x, { adcBits: 3.5 }), /inpaint: adcBits = 3.5 must be an integer/);
  refuses('noiseSeed 1.5', () => ip.inpaint(x, { noiseSeed: 1.5 }), /noiseSeed = 1.5 must be an integer/);
  refuses('latentSeed -2', () => ip.inpaint(x, { latentSeed: -2 }), /latentSeed = -2 must be an integer/);
  refuses('mWindow 0', () => ip.inpaint(x, { mWindow: 0 }), /mWindow = 0 must be an integer in 1..64/);
  refuses('mDiv 1e40', () => ip.inpaint(x, { mDiv: 1e40 }), /mDiv = 1e\+40 is not a finite number/);
  refuses('readNoise string', () => ip.inpaint(x, { readNoise: '0.1' }), /readNoise must be a number/);
  refuses('earlyStop "yes"', () => ip.inpaint(x, { earlyStop: 'yes' }), /earlyStop must be true or false/);
  refuses('generate seed 1.5', () => ip.generate({ seed: 1.5 }), /seed = 1.5 must be an integer/);
  refuses('inpaint("str")', () => ip.inpaint(x, 'str'), /inpaint expects an object/);
  assert.deepEqual([...ip.inpaint(x, { earlyStop: false }).recon], [...before.recon], 'the inpainter itself is unchanged');
  ip.free();
});
