// reprune-worker.js - the module worker that re-prunes the masks for a new chip
// (wasm/prime-train.wasm, docs/web.md "Re-pruning"), apart from worker.js so the
// page keeps classifying while it trains.
//
// Protocol: the page posts {type: 'start', model (URL of the .prime), train,
// test (URLs of .psmp files), chipSeed, refChip, from + masks (the masks on
// screen and the chip they were made for; null: the model's own), opts: {n,
// nTest, epochs, batch, lr, warm (false: fresh scores, true: the model's masks,
// 'project': the masks on screen projected onto this chip), evalEvery}}; the worker answers {type: 'progress', done, total, epoch,
// epochs, loss, acc, elapsed, left (s)} after every batch, {type: 'eval', done,
// elapsed, acc} after the untrained chip and every evalEvery epochs, and at the
// end {type: 'done', cancelled, masks: [{layer, mask}], acc, elapsed}; or
// {type: 'error', message}. {type: 'cancel'} stops between two batches (the
// masks reached so far come back with cancelled: true). With refChip set, a
// {type: 'reference', acc} first gives the shipped masks' accuracy on their chip.

import { loadTrainer } from '../wasm/prime-train.js';
import { parsePsmp, gunzipIf } from './lib.js';
import { transferModel } from './transfer.js';

const base = new URL('../', import.meta.url); // the repository root
let T = null;
let cancelled = false;
const bytes = async (url) => {
  const r = await fetch(new URL(url, base));
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return gunzipIf(await r.arrayBuffer());
};
const yieldToEvents = () => new Promise((r) => setTimeout(r, 0));

async function run({ model, train, test, chipSeed, refChip, from, masks, opts }) {
  const o = { n: 1000, nTest: 300, epochs: 7, batch: 32, lr: 2e-2, warm: false, evalEvery: 1, ...opts };
  const [t, mb, trb, teb] = await Promise.all([T || loadTrainer(), bytes(model), bytes(train), bytes(test)]);
  T = t;
  const t0 = performance.now();
  const el = () => (performance.now() - t0) / 1000;
  const tsm = parsePsmp(teb);
  if (refChip != null) { // the shipped masks on their own chip: the line to reach
    const ref = T.create(mb, { chipSeed: refChip, warm: true });
    try { ref.addImages('test', tsm, o.nTest); self.postMessage({ type: 'reference', acc: ref.evaluate('test').acc }); } finally { ref.free(); }
  }
  // warm 'project': start from the masks on screen (chip `from`) projected onto this chip (transfer.js)
  const P = o.warm === 'project' ? await (await import('../wasm/prime.js')).loadPrime() : null;
  const start = P ? transferModel(P, mb, masks, from ?? refChip, chipSeed) : mb;
  const tr = T.create(start, { chipSeed, warm: !!o.warm, lr: o.lr, batch: o.batch, epochs: o.epochs, seed: 1 });
  try {
    tr.addImages('train', parsePsmp(trb), o.n);
    await yieldToEvents();
    tr.addImages('test', tsm, o.nTest);
    const first = tr.evaluate('test');
    self.postMessage({ type: 'eval', done: 0, elapsed: el(), acc: first.acc });
    const tTrain = performance.now();
    let s, acc = first.acc;
    for (;;) {
      await yieldToEvents(); // lets a cancel in
      if (cancelled) break;
      s = tr.step(1);
      const spent = (performance.now() - tTrain) / 1000;
      self.postMessage({ type: 'progress', done: s.done, total: s.total, epoch: s.epoch, epochs: s.epochs,
        loss: s.loss, acc: s.acc, elapsed: el(), left: spent / s.done * s.left });
      if (s.done % s.perEpoch === 0 && (s.epoch % o.evalEvery === 0 || s.left === 0)) {
        acc = tr.evaluate('test').acc;
        self.postMessage({ type: 'eval', done: s.done, elapsed: el(), acc });
      }
      if (s.left === 0) break;
    }
    if (cancelled) acc = tr.evaluate('test').acc;
    const masks = tr.masks();
    self.postMessage({ type: 'done', cancelled, masks, acc, elapsed: el() }, masks.map((m) => m.mask.buffer));
  } finally {
    tr.free();
  }
}

self.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'cancel') { cancelled = true; return; }
  if (msg.type === 'start') {
    cancelled = false;
    run(msg).catch((err) => self.postMessage({ type: 'error', message: String((err && err.message) || err) }));
  }
};
