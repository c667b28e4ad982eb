// wasm-fuzz.mjs - fuzzes the wasm build under Node: mutated model files
// (.prime, .pvae), images, N-MNIST event files, sample files (web/lib.js
// parsePsmp) and random device / run / event parameters go through the JS API
// of wasm/prime.js. Rules checked on every input:
//   - every exception the API throws is a PrimeError (a wasm trap such as
//     "RuntimeError: memory access out of bounds" is a failure);
//   - no call takes longer than --max-ms (default 2000);
//   - after every batch, a second live model (models/nmnist-digits.prime, loaded
//     first) gives bit-identical results on a fixed input, and at the end a live
//     inpainter (models/inpaint-mnist.pvae) too: memory was not overwritten.
// Seeds: build/fuzz/corpus/ (tests/fuzz/make-corpus.sh) and the shipped models;
// committed failure inputs in tests/fuzz/regress/wasm/<target>-*.bin are
// replayed first. The generator is seeded (--seed), so a run can be repeated.
//
//   node tests/fuzz/wasm-fuzz.mjs [--count 3000] [--seconds 60] [--seed 1] [--wasm FILE]
//
// Prints the inputs per target, how many were accepted / refused, the slowest
// call; exits 1 on a failure (the input is written to build/fuzz/wasm-crash/).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPrime, PrimeError } from '../../wasm/prime.js';
import { parsePsmp } from '../../web/lib.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
const COUNT = +arg('count', 3000), SECONDS = +arg('seconds', 60), SEED = +arg('seed', 1), MAX_MS = +arg('max-ms', 2000);
const BATCH = 50;
const wasmFile = arg('wasm', null);
const P = await loadPrime(wasmFile ? { wasmBytes: fs.readFileSync(wasmFile) } : {});

// ------------------------------------------------------------ seeded PRNG (xorshift32)
let s = (SEED * 2654435761) >>> 0 || 1;
const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
const ri = (n) => Math.floor(rnd() * n);
const pick = (a) => a[ri(a.length)];

// ------------------------------------------------------------ seeds
const readDir = (d, strip = 0) => (fs.existsSync(d) ? fs.readdirSync(d).sort().map((f) => fs.readFileSync(path.join(d, f)).subarray(strip)) : []);
const C = path.join(root, 'build/fuzz/corpus');
const seeds = {
  model: [...readDir(path.join(C, 'model')), fs.readFileSync(path.join(root, 'models/nmnist-digits.prime'))],
  vae: readDir(path.join(C, 'vae')),
  model_v2: readDir(path.join(C, 'model_v2')), // version-2 files of both networks, for P.load
  image: readDir(path.join(C, 'image'), 1), // the C harness's first byte picks the size: dropped
  nmnist: readDir(path.join(C, 'nmnist')),
  psmp: [fs.readFileSync(path.join(root, 'web/samples/mnist-test.psmp')).subarray(0, 28 + 28 * 28 * 3 + 3)],
};
for (const [k, v] of Object.entries(seeds)) if (!v.length) { console.error(`no ${k} seeds: run tests/fuzz/make-corpus.sh first`); process.exit(2); }
// a valid PSMP seed of 3 images: fix its count field
{ const b = Buffer.from(seeds.psmp[0]); b.writeUInt32LE(3, 8); seeds.psmp[0] = b; }

// ------------------------------------------------------------ mutations
const HUGE = [0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0x40000000, 0x10000, 0xFFFF, 0x1000, 65536 * 3, 4097];
/** A mutated copy of seed bytes: bit flips, byte sets, truncation, growth, huge size fields, splices. */
function mutate(seed, kind) {
  let b = Uint8Array.from(seed);
  const k = 1 + ri(3);
  for (let m = 0; m < k; m++) {
    const op = ri(7);
    if (op === 0 && b.length) { for (let j = 1 + ri(8); j > 0; j--) { const i = ri(b.length); b[i] ^= 1 << ri(8); } }
    else if (op === 1 && b.length) { for (let j = 1 + ri(4); j > 0; j--) b[ri(b.length)] = pick([0, 0xFF, 0x7F, 0x80, ri(256)]); }
    else if (op === 2) b = b.subarray(0, ri(b.length + 1)).slice();
    else if (op === 3) { const e = new Uint8Array(b.length + 1 + ri(64)); e.set(b); for (let i = b.length; i < e.length; i++) e[i] = ri(256); b = e; }
    else if ((op === 4 || op === 5) && b.length >= 4) { // a 32-bit field (aligned or not, either endian) set huge
      const i = op === 4 ? ri(b.length >> 2) * 4 : ri(b.length - 3), v = pick(HUGE);
      const dv = new DataView(b.buffer, b.byteOffset);
      dv.setUint32(i, v, rnd() < 0.7);
    } else if (op === 6 && b.length >= 2) { // a 16-bit field set huge (image headers)
      const i = ri(b.length - 1);
      new DataView(b.buffer, b.byteOffset).setUint16(i, pick([0xFFFF, 0x2000, 0x1001, 0, 0x8000]), rnd() < 0.5);
    }
  }
  if (rnd() < 0.05) { const o = pick(seeds[kind]); const c = ri(b.length + 1); const e = new Uint8Array(c + o.length - Math.min(c, o.length)); e.set(b.subarray(0, c)); e.set(o.subarray(c), c); b = e; }
  return b;
}
// The .prime file ends with a CRC-32 and declares its length at byte 12: most
// mutated model files get both fixed up, so the mutations reach the parser.
const CRC_TABLE = new Uint32Array(256).map((_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = (b) => { let c = 0xFFFFFFFF; for (const x of b) c = CRC_TABLE[(c ^ x) & 0xFF] ^ (c >>> 8); return (c ^ 0xFFFFFFFF) >>> 0; };
function fixModel(b) {
  if (b.length < 20 || rnd() < 0.15) return b;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (rnd() < 0.9) dv.setUint32(12, b.length, true);
  dv.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
  return b;
}
const BAD_NUMBERS = [NaN, Infinity, -Infinity, -1, 0, 0.5, 1.7, 1e30, -1e30, 2 ** 31, 2 ** 53, 2 ** 64, 1e-30, '3', 'str', null, undefined, true];
const randValue = (good) => (rnd() < 0.5 ? pick(BAD_NUMBERS) : good * pick([0, 0.5, 1, 1, 2, 10]));

// ------------------------------------------------------------ the live models
const liveModel = P.loadModel(fs.readFileSync(path.join(root, 'models/nmnist-digits.prime')));
const ring = new Float32Array(28 * 28).map((_, i) => { const x = i % 28 - 13.5, y = (i / 28 | 0) - 13.5, r = Math.hypot(x, y); return r > 6 && r < 10 ? 1 : 0; });
const liveFrames = P.framesFromImage(ring, 28, 28, liveModel.arch.T, 5);
liveModel.setDevice({ readNoise: 0.05 });
const fingerprint = (r) => JSON.stringify([r.label, r.stepsUsed, Array.from(new Uint32Array(Float32Array.from(r.logits).buffer)), r.energyPj]);
// the read-noise stream goes on from call to call: restart it for each check
const liveRun = () => { liveModel.setRun({ noiseSeed: 7 }); return fingerprint(liveModel.classify(liveFrames)); };
const liveRef = liveRun();
if (liveRun() !== liveRef) throw new Error('the live model is not repeatable: the check would be meaningless');
let liveInp = null, inpRef = null;
const inpFile = path.join(root, 'models/inpaint-mnist.pvae');
try {
  liveInp = P.loadInpainter(fs.readFileSync(inpFile));
  const img = new Float32Array(liveInp.size * liveInp.size).map((_, i) => ((i * 7919) % 255) / 127.5 - 1);
  const fp = () => { const r = liveInp.inpaint(img, { readNoise: 0.05 }); return JSON.stringify([r.stepsUsed, Array.from(new Uint32Array(Float32Array.from(r.recon).buffer))]); };
  inpRef = fp();
  if (fp() !== inpRef) throw new Error('the live inpainter is not repeatable: the check would be meaningless');
  liveInp.check = () => fp() === inpRef;
} catch (e) {
  if (!(e instanceof PrimeError)) throw e;
  console.log(`note: no live inpainter (${e.message}); only the classifier is checked`);
}
const scratch = P.loadModel(fs.readFileSync(path.join(C, 'model/tiny0.prime'))); // a small model for parameter fuzzing

// ------------------------------------------------------------ targets
const tinyFrames = (m, T) => new Float32Array(T * m.arch.inC * m.arch.inH * m.arch.inW).map((_, i) => i % 3);
const small = (m) => m.arch.inC * m.arch.inH * m.arch.inW <= 4096 && m.arch.layers.every((l) => l.inC * l.outC * l.k * l.k <= 1 << 20 || l.op === 'avgpool');
// Every target takes its whole input as bytes, so a failing input written to
// build/fuzz/wasm-crash/ replays as it is: file targets get a 2-byte prefix
// that picks the sizes, parameter targets get their parameters as JSON
// (NaN, infinities and undefined as {"$": "NaN"} and so on).
const enc = (o) => new TextEncoder().encode(JSON.stringify(o, (k, v) => (typeof v === 'number' && !Number.isFinite(v) ? { $: String(v) } : v === undefined ? { $: 'undefined' } : v)));
const dec = (b) => JSON.parse(new TextDecoder().decode(b), (k, v) => (v && typeof v === 'object' && '$' in v ? (v.$ === 'undefined' ? undefined : Number(v.$)) : v));
const T_ODD = [0, -1, 65, 1000, 2 ** 20, 2 ** 31, NaN, 1.5], SIZE_ODD = [0, -3, 4097, 4096, 2 ** 16, NaN, 2.5];
const TARGETS = {
  loadModel(input) {
    const m = P.loadModel(input);
    try { if (small(m)) m.classify(tinyFrames(m, 1), 1); } finally { m.free(); }
  },
  load(input) { // the one entry point of every network (model file v2 and v1)
    const m = P.load(input);
    try {
      if (m.kind === 'inpainter' && m.size <= 16 && m.T <= 4) m.inpaint(new Float32Array(m.size * m.size).fill(0.5));
      else if (m.kind === 'classifier' && small(m)) m.classify(tinyFrames(m, 1), 1);
      m.save();
    } finally { m.free(); }
  },
  loadInpainter(input) {
    const v = P.loadInpainter(input);
    try { if (v.size <= 16 && v.T <= 4) v.inpaint(new Float32Array(v.size * v.size).fill(0.5)); } finally { v.free(); }
  },
  decodeImage(input) {
    if (input.length < 2) return;
    P.decodeImage(input.subarray(2), 1 + (input[0] & 63), 1 + (input[1] & 63), (input[0] & 128) !== 0);
  },
  parseNmnist(input) { P.parseNmnist(input); },
  binEvents(input) {
    if (input.length < 2) return;
    const ev = P.parseNmnist(input.subarray(2));
    const T = input[0] < 180 ? 1 + (input[0] % 16) : T_ODD[input[0] % T_ODD.length];
    const size = input[1] < 180 ? 1 + (input[1] % 40) : SIZE_ODD[input[1] % SIZE_ODD.length];
    P.binEvents(ev, T, size);
  },
  parsePsmp(input) { parsePsmp(input); },
  setDevice(input) {
    const part = dec(input);
    scratch.setDevice(part);
    scratch.classify(tinyFrames(scratch, 1), 1);
  },
  setRun(input) {
    scratch.setRun(dec(input));
    scratch.classify(tinyFrames(scratch, 2), 2);
  },
  eventsFromImage(input) {
    const { w, h, p } = dec(input);
    P.eventsFromImage(new Float32Array(w * h).map((_, i) => (i * 37 % 101) / 100), w, h, p);
  },
};
/** A random input for a target: a mutated seed file (with its prefix) or random parameters as JSON. */
function makeInput(target) {
  const pre = (b) => { const e = new Uint8Array(b.length + 2); e[0] = ri(256), e[1] = ri(256); e.set(b, 2); return e; };
  switch (target) {
    case 'loadModel': return fixModel(mutate(pick(seeds.model), 'model'));
    case 'loadInpainter': return mutate(pick(seeds.vae), 'vae');
    case 'load': return fixModel(mutate(pick(seeds.model_v2), 'model_v2'));
    case 'decodeImage': return pre(mutate(pick(seeds.image), 'image'));
    case 'parseNmnist': return mutate(pick(seeds.nmnist), 'nmnist');
    case 'binEvents': return pre(mutate(pick(seeds.nmnist), 'nmnist'));
    case 'parsePsmp': return mutate(pick(seeds.psmp), 'psmp');
    case 'setDevice': {
      const d = P.defaultDevice(), keys = Object.keys(d), part = {};
      for (let j = 1 + ri(4); j > 0; j--) { const k = pick(keys); part[k] = randValue(d[k] || 1); }
      if (rnd() < 0.05) part[pick(['nope', '0', 'readnoise'])] = 1;
      return enc(part);
    }
    case 'setRun': {
      const r = P.defaultRun(), part = {};
      for (let j = 1 + ri(3); j > 0; j--) { const k = pick(Object.keys(r)); part[k] = k === 'policy' ? pick(['none', 'confidence', 'x', 0, 1, 2, NaN]) : randValue(r[k] || 1); }
      return enc(part);
    }
    case 'eventsFromImage': {
      const w = 1 + ri(28), h = 1 + ri(28), p = {};
      const base = { size: 34, contrast: 0.15, noiseRate: 0.2, durationUs: 30000, stepsPerSaccade: 10, amplitude: 3, seed: 1 };
      for (const k of Object.keys(base)) p[k] = rnd() < 0.3 ? randValue(base[k]) : base[k];
      // bound the work per input (the cost at the documented limits is a benchmark's business)
      if (typeof p.size === 'number' && p.size > 64) p.size = 64;
      if (typeof p.stepsPerSaccade === 'number' && p.stepsPerSaccade > 50) p.stepsPerSaccade = 50;
      if (typeof p.durationUs === 'number' && p.durationUs > 300000) p.durationUs = 300000;
      if (typeof p.noiseRate === 'number' && p.noiseRate > 20) p.noiseRate = 20;
      return enc({ w, h, p });
    }
  }
  throw new Error(`no input maker for ${target}`);
}

// ------------------------------------------------------------ driver
const stats = Object.fromEntries(Object.keys(TARGETS).map((k) => [k, { n: 0, ok: 0, refused: 0 }]));
let failures = 0, slowest = { ms: 0, target: '' };
const crashDir = path.join(root, 'build/fuzz/wasm-crash');
function fail(target, input, why) {
  failures++;
  fs.mkdirSync(crashDir, { recursive: true });
  const f = path.join(crashDir, `${target}-${failures}.bin`);
  if (input) fs.writeFileSync(f, input);
  console.log(`FAIL ${target}: ${why}${input ? ` (input: ${path.relative(root, f)}, ${input.length} bytes; replay: copy it to tests/fuzz/regress/wasm/)` : ''}`);
}
/** Runs one input on one target and checks the rules. */
function runOne(target, input) {
  const st = stats[target];
  st.n++;
  const t0 = performance.now();
  try { TARGETS[target](input); st.ok++; } catch (e) {
    if (e instanceof PrimeError) st.refused++;
    else if (target === 'parsePsmp' && e instanceof Error && !(e instanceof WebAssembly.RuntimeError)) st.refused++; // a JS parser: plain Error
    else fail(target, input, `threw ${e && e.name}: ${e && e.message}`);
  }
  const ms = performance.now() - t0;
  if (ms > slowest.ms) slowest = { ms, target };
  if (ms > MAX_MS) fail(target, input, `took ${ms.toFixed(0)} ms (limit ${MAX_MS})`);
}
function checkLive(where) {
  let now;
  try { now = liveRun(); } catch (e) { fail('live', null, `live model threw ${e.name}: ${e.message} ${where}`); return false; }
  if (now !== liveRef) { fail('live', null, `the live model's result changed ${where}: memory was overwritten`); return false; }
  return true;
}

// committed failure inputs first
const regress = path.join(root, 'tests/fuzz/regress/wasm');
let replayed = 0;
if (fs.existsSync(regress)) {
  for (const f of fs.readdirSync(regress).sort()) {
    const target = f.split('-')[0];
    if (!TARGETS[target]) continue;
    runOne(target, fs.readFileSync(path.join(regress, f)));
    replayed++;
    checkLive(`after regression input ${f}`);
  }
}
const t0 = Date.now();
let done = 0;
const names = Object.keys(TARGETS);
while (done < COUNT && (Date.now() - t0) / 1000 < SECONDS && failures === 0) {
  for (let j = 0; j < BATCH && done < COUNT; j++, done++) {
    const target = names[done % names.length];
    runOne(target, makeInput(target));
  }
  checkLive(`after input ${done}`);
}
if (liveInp && !liveInp.check()) fail('live', null, "the live inpainter's result changed: memory was overwritten");
const secs = (Date.now() - t0) / 1000;
for (const [k, v] of Object.entries(stats)) console.log(`${k.padEnd(16)} inputs ${String(v.n).padStart(6)}  accepted ${String(v.ok).padStart(6)}  refused ${String(v.refused).padStart(6)}`);
console.log(`wasm fuzz: ${done} inputs (+${replayed} regression) in ${secs.toFixed(1)} s, seed ${SEED}, slowest call ${slowest.ms.toFixed(0)} ms (${slowest.target}), ` +
  `wasm memory ${(P.memoryBytes() / 2 ** 20).toFixed(0)} MiB, live models checked after every ${BATCH}: ${failures ? `${failures} FAILURES` : 'unchanged, no failures'}`);
process.exit(failures ? 1 : 0);
