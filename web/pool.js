// pool.js - every core for the page's batch view and sweeps: a pool of Web
// Workers, each with its own wasm core and a copy of the current model
// (wasm/pool-core.js has the scheduler and the protocol, shared with Node's
// wasm/pool.mjs). This one file is both the pool (imported by worker.js) and
// its workers (started as `pool.js?worker`).
//
// Same bits as one thread: a batch continues the model's own noise stream
// (its next inference number), sample i on whichever worker, and moves the
// model's counter on by the samples run, as n model.classify calls would.

import { loadPrime } from '../wasm/prime.js';
import { PrimePool, poolHandler } from '../wasm/pool-core.js';

const isPoolWorker = typeof document === 'undefined' && new URL(import.meta.url).searchParams.has('worker');

let pool = null;     // the started pool (kept for the page's life), or false when workers cannot start
let starting = null;

/** Starts up to `threads` workers (default: the cores, at most 8); null when
 * only one core or no nested workers are available. */
export function startPool(threads = Math.min(8, (globalThis.navigator && navigator.hardwareConcurrency) || 1)) {
  if (pool !== null) return Promise.resolve(pool || null);
  if (!starting) {
    starting = (async () => {
      if (threads < 2 || typeof Worker === 'undefined') return null;
      const url = new URL('./pool.js?worker', import.meta.url);
      const eps = Array.from({ length: threads }, () => {
        const w = new Worker(url, { type: 'module' });
        return { post: (m) => w.postMessage(m), onReply: (fn) => { w.onmessage = (ev) => fn(ev.data); }, close: () => w.terminate(), w };
      });
      const p = new PrimePool(eps);
      eps.forEach((ep, k) => { ep.w.onerror = (ev) => { ev.preventDefault(); for (const q of p._w[k].pending.values()) q.reject(new Error(ev.message || 'pool worker failed')); p._w[k].pending.clear(); }; });
      return p;
    })().then((p) => { pool = p || false; return p; }, () => { pool = false; return null; });
  }
  return starting;
}

/**
 * Classifies frames with `model` (a wasm Model object) on the pool:
 * resolves to the results of frames.map((f) => model.classify(f, T)), bit for
 * bit, or null when there is no pool (the caller then runs them itself).
 * onProgress(done, total) may return true to cancel: the result is then the
 * prefix of samples that finished. The model's next inference number moves on
 * by the samples returned.
 */
export async function poolClassify(model, frames, T, onProgress) {
  const p = await startPool();
  if (!p || frames.length < 2) return null;
  const first = model.getInference();
  try {
    await p.load(model.save(), { device: model.getDevice(), run: model.getRun() });
    const res = await p.classifyBatch(frames, { T, first, onProgress: (d, n) => { if (onProgress && onProgress(d, n)) p.cancel(); } });
    model.setInference(first + res.length);
    return res;
  } catch (e) {
    model.setInference(first);
    throw e;
  }
}

// ---- the worker side
if (isPoolWorker) {
  const ready = loadPrime().then(poolHandler);
  self.onmessage = async (ev) => {
    const msg = ev.data;
    try {
      const handle = await ready;
      self.postMessage({ id: msg.id, ...handle(msg) });
    } catch (e) {
      self.postMessage({ id: msg.id, error: String((e && e.message) || e) });
    }
  };
}
