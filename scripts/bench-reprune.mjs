// bench-reprune.mjs - re-pruning a new chip with the page's trainer module
// (wasm/prime-train.wasm), one thread: prints test accuracy against wall and
// CPU time, and chip #1's accuracy for the target (docs/web.md, "Re-pruning").
//
//   node scripts/bench-reprune.mjs [--chip 2] [--n 300] [--epochs 10] [--batch 32]
//        [--lr 1e-2] [--warm 0 | 1 (chip #1's masks) | 2 (chip #1's network projected onto the chip, web/transfer.js)] [--train FILE.psmp] [--seconds 120 (CPU budget)] [--eval-every 2] [--test 300]
//        [--model nmnist-digits|nmnist-fashion (models/NAME.prime; its train / test samples from web/models.json)]
// Wall and CPU time count training only (frame synthesis and evaluation apart);
// on a shared machine CPU time is the one-core figure.
import { readFileSync } from 'node:fs';
import { loadTrainer } from '../wasm/prime-train.js';
import { loadPrime } from '../wasm/prime.js';
import { parsePsmp, gunzipIf } from '../web/lib.js';
import { transferModel } from '../web/transfer.js';

const cpuSince = (c0) => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6; };
const arg = (k, d) => { const i = process.argv.indexOf('--' + k); return i > 0 ? Number(process.argv[i + 1]) : d; };

const chip = arg('chip', 2), n = arg('n', 300), epochs = arg('epochs', 10), batch = arg('batch', 32);
const lr = arg('lr', 1e-2), warm = arg('warm', 0), seconds = arg('seconds', 120);
const evalEvery = arg('eval-every', 2), nTest = arg('test', 300);

const str = (k, d) => { const i = process.argv.indexOf('--' + k); return i > 0 ? process.argv[i + 1] : d; };
const root = new URL('../', import.meta.url);
const name = str('model', 'nmnist-digits');
const entry = JSON.parse(readFileSync(new URL('web/models.json', root))).find((e) => e.file === `models/${name}.prime`);
if (!entry || !entry.train) throw new Error(`--model ${name}: no entry with training samples in web/models.json`);
const model = readFileSync(new URL(entry.file, root));
const train = parsePsmp(await gunzipIf(readFileSync(str('train', null) || new URL(entry.train, root)))); // another .psmp: --train FILE
const test = parsePsmp(readFileSync(new URL(entry.samples, root)));
console.log(`model ${entry.file}, training samples ${str('train', entry.train)} (${train.n}), test samples ${entry.samples}`);

// chip #1's accuracy on the same test samples with the trainer's forward pass
const T = await loadTrainer();
const ref = T.create(model, { chipSeed: 1, warm: true });
ref.addImages('test', test, nTest);
const base = ref.evaluate('test');
ref.free();
console.log(`chip #1 (shipped masks): test acc ${(100 * base.acc).toFixed(1)} % on ${nTest} samples`);

const P = await loadPrime();
const wall0 = performance.now(), cpu0 = process.cpuUsage();
const start = warm === 2 ? transferModel(P, model, null, 1, chip) : model;
const tr = T.create(start, { chipSeed: chip, warm: !!warm, lr, batch, epochs, seed: 1 });
tr.addImages('train', train, n);
tr.addImages('test', test, nTest);
const prep = (performance.now() - wall0) / 1000, prepCpu = (() => { const c = process.cpuUsage(cpu0); return (c.user + c.system) / 1e6; })();
let r = tr.evaluate('test');
console.log(`chip #${chip} ${['fresh scores', 'warm start (chip #1 masks)', 'warm start (chip #1 projected)'][warm]}: untrained test acc ${(100 * r.acc).toFixed(1)} %` +
  ` (frames ready in ${prep.toFixed(1)} s wall, ${prepCpu.toFixed(1)} s CPU); n ${n} epochs ${epochs} batch ${batch} lr ${lr}`);
console.log('epoch  batches  train-loss  train-acc  test-acc  wall-s  cpu-s (training only)  all-cpu-s (with preparation and evaluations)');
let trainWall = 0, trainCpu = 0, s;
for (;;) {
  const w0 = performance.now(), c0 = process.cpuUsage();
  s = tr.step(1);
  trainWall += (performance.now() - w0) / 1000;
  const c = process.cpuUsage(c0); trainCpu += (c.user + c.system) / 1e6;
  const endEpoch = s.done % s.perEpoch === 0;
  if ((endEpoch && (s.epoch % evalEvery === 0 || s.left === 0)) || trainCpu > seconds) {
    r = tr.evaluate('test');
    console.log(`${String(s.epoch).padStart(5)}  ${String(s.done).padStart(7)}  ${s.loss.toFixed(4).padStart(10)}  ` +
      `${(100 * s.acc).toFixed(1).padStart(8)} %  ${(100 * r.acc).toFixed(1).padStart(6)} %  ${trainWall.toFixed(1).padStart(6)}  ${trainCpu.toFixed(1).padStart(5)}  ${cpuSince(cpu0).toFixed(1).padStart(5)}`);
  }
  if (s.left === 0 || trainCpu > seconds) break; // a CPU budget: the machine may be shared
}
const all = process.cpuUsage(cpu0), allCpu = (all.user + all.system) / 1e6, allWall = (performance.now() - wall0) / 1000;
console.log(`final: test acc ${(100 * r.acc).toFixed(1)} % after ${trainWall.toFixed(1)} s wall, ${trainCpu.toFixed(1)} s CPU of training; ` +
  `${allWall.toFixed(1)} s wall, ${allCpu.toFixed(1)} s CPU with the preparation and the evaluations ` +
  `(${(s.done * batch / trainWall).toFixed(0)} samples/s); chip #1 ${(100 * base.acc).toFixed(1)} %, gap ${(100 * (base.acc - r.acc)).toFixed(1)} points`);

// the masks carry over to the simulator (main module): accuracy of the chip itself
const m = P.loadModel(model);
m.setDevice({ chipSeed: chip });
for (const { layer, mask } of tr.masks()) m.setMask(layer, mask);
let ok = 0;
const k = Math.min(100, nTest);
for (let i = 0; i < k; i++) {
  const img = new Float32Array(test.w * test.h);
  for (let j = 0; j < img.length; j++) img[j] = test.pixels[i * img.length + j] / 255;
  const res = m.classify(P.framesFromImage(img, test.w, test.h, 10, test.eventSeed + test.indices[i]));
  ok += res.label === test.labels[i];
}
console.log(`simulator (prime.wasm, chip #${chip}, re-pruned masks): ${ok}/${k} correct`);
tr.free();
