// pool.mjs - every core of the machine for evaluations of many samples in
// Node: a pool of worker_threads, each with its own wasm core and a copy of
// the model (wasm/pool-core.js has the scheduler and the protocol).
//
//   import { createPool } from '../wasm/pool.mjs';
//   const pool = await createPool({ model: bytes, device: { readNoise: 0.05 }, run: { policy: 'none' } });
//   const results = await pool.classifyBatch(frames, { T: 10 }); // = m.classifyBatch(frames), bit for bit
//   await pool.setDevice({ readNoise: 0.1 });                     // a sweep: same workers, new setting
//   pool.close();                                                 // the workers keep Node running until then
//
// threads: default os.availableParallelism(); each worker holds one wasm
// instance (~20 MB for the PRIME network).
import os from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { loadPrime } from './prime.js';
import { PrimePool, poolHandler } from './pool-core.js';

/**
 * Starts `threads` workers and loads the model in each. opts: {model (bytes
 * of a .prime file), device, run (partial settings), threads, wasmBytes (a
 * prime.wasm other than the shipped one)}. Resolves to a PrimePool.
 */
export async function createPool({ model, device, run, threads = os.availableParallelism(), wasmBytes } = {}) {
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) throw new Error(`createPool: threads = ${threads} out of 1..256`);
  const eps = [];
  for (let k = 0; k < threads; k++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { primePool: true, wasmBytes } });
    eps.push({ post: (m) => w.postMessage(m), onReply: (fn) => w.on('message', fn), close: () => w.terminate(), w });
  }
  const pool = new PrimePool(eps);
  // a worker that dies fails its pending requests
  eps.forEach((ep, k) => ep.w.on('error', (e) => {
    for (const p of pool._w[k].pending.values()) p.reject(e);
    pool._w[k].pending.clear();
  }));
  if (model) {
    try { await pool.load(model, { device, run }); } catch (e) { pool.close(); throw e; }
  }
  return pool;
}

// ---- the worker side
if (!isMainThread && workerData && workerData.primePool) {
  const ready = loadPrime(workerData.wasmBytes ? { wasmBytes: workerData.wasmBytes } : {}).then(poolHandler);
  parentPort.on('message', async (msg) => {
    try {
      const handle = await ready;
      parentPort.postMessage({ id: msg.id, ...handle(msg) });
    } catch (e) {
      parentPort.postMessage({ id: msg.id, error: String((e && e.message) || e) });
    }
  });
}
