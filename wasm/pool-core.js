// pool-core.js - a pool of workers, each with its own wasm core and a copy of
// one model, that classifies many inputs: the part shared by the Node pool
// (wasm/pool.mjs, worker_threads) and the page's pool (web/pool.js, Web
// Workers). No platform API is used here.
//
// Same bits as one thread: sample i of a batch is inference number first + i
// on whichever worker runs it (model.classifyBatch({first})), and that number
// keys its read-noise stream, so the results equal m.classifyBatch(frames)
// (= frames.map((f) => m.classify(f))) of a model with the same bytes, device
// and run settings, at any number of workers. Inputs go out in chunks from a
// queue (early stop makes samples' costs uneven); results come back in order.
//
// Protocol (one request at a time per worker): {id, op, ...} -> {id, ...reply}
// or {id, error}. ops: 'load' {model, device, run}, 'device' {partial},
// 'run' {partial}, 'batch' {frames, T, first} -> {results}.

/** The request handler of a worker: a function msg -> reply over the API P. */
export function poolHandler(P) {
  let m = null;
  const need = () => { if (!m) throw new Error('pool worker: no model loaded'); return m; };
  return (msg) => {
    switch (msg.op) {
      case 'load':
        if (m) m.free();
        m = null;
        m = P.loadModel(msg.model);
        if (msg.device) m.setDevice(msg.device);
        if (msg.run) m.setRun(msg.run);
        return {};
      case 'device': need().setDevice(msg.partial); return {};
      case 'run': need().setRun(msg.partial); return {};
      case 'batch': return { results: need().classifyBatch(msg.frames, { T: msg.T, first: msg.first }) };
      default: throw new Error(`pool worker: unknown request ${msg.op}`);
    }
  };
}

/**
 * A pool over started workers. Each endpoint is {post(msg), onReply(fn), close()}:
 * post sends one message, onReply registers the function that gets every
 * reply, close ends the worker.
 */
export class PrimePool {
  constructor(endpoints) {
    this.size = endpoints.length;
    this._w = endpoints.map((ep) => {
      const w = { ep, next: 0, pending: new Map() };
      ep.onReply((r) => {
        const p = w.pending.get(r.id);
        if (!p) return;
        w.pending.delete(r.id);
        if (r.error) p.reject(new Error(r.error)); else p.resolve(r);
      });
      return w;
    });
    this._next = 0;      // the inference number of the next sample (as a model's)
    this._cancel = false;
    this._closed = false;
  }
  _call(w, msg) {
    if (this._closed) return Promise.reject(new Error('the pool is closed'));
    const id = ++w.next;
    return new Promise((resolve, reject) => { w.pending.set(id, { resolve, reject }); w.ep.post({ ...msg, id }); });
  }
  _all(msg) { return Promise.all(this._w.map((w) => this._call(w, msg))); }
  /** Loads model bytes (a .prime file) into every worker, then device and run settings. */
  async load(model, { device, run } = {}) {
    await this._all({ op: 'load', model, device, run });
    this._next = 0;
    return this;
  }
  /** Merges partial device parameters in every worker (as model.setDevice). */
  async setDevice(partial) { await this._all({ op: 'device', partial }); return this; }
  /** Merges a partial run policy in every worker; restarts the noise stream (as model.setRun). */
  async setRun(partial) { await this._all({ op: 'run', partial }); this._next = 0; return this; }
  /** The inference number the next sample gets (as model.getInference). */
  getInference() { return this._next; }
  /** Stops a classifyBatch in progress after the chunks already running. */
  cancel() { this._cancel = true; }
  /**
   * Classifies frames (an array of Float32Array [T][C][H][W]) on all workers;
   * resolves to the results in input order, bit for bit those of
   * model.classifyBatch(frames, {T, first}). opts: {T, first (default: the
   * pool's next inference number), chunk (samples per request, default 8),
   * onProgress(done, total)}. After a cancel() it resolves to the results
   * of the first samples that all finished (a prefix) and sets `cancelled`
   * on the array.
   */
  async classifyBatch(frames, opts = {}) {
    const { T, first = this._next, chunk = 8, onProgress } = opts;
    if (!Array.isArray(frames)) throw new Error('classifyBatch: frames must be an array of inputs');
    if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`classifyBatch: chunk = ${chunk} must be an integer >= 1`);
    this._cancel = false;
    const out = new Array(frames.length);
    let taken = 0, done = 0;
    const loop = async (w) => {
      while (taken < frames.length && !this._cancel) {
        const i0 = taken;
        taken = Math.min(frames.length, taken + chunk);
        const r = await this._call(w, { op: 'batch', frames: frames.slice(i0, taken), T, first: first + i0 });
        r.results.forEach((res, k) => { out[i0 + k] = res; });
        done += r.results.length;
        if (onProgress) onProgress(done, frames.length);
      }
    };
    await Promise.all(this._w.map(loop));
    this._next = first + frames.length;
    if (this._cancel) {
      let n = 0;
      while (n < out.length && out[n]) n++;
      const part = out.slice(0, n);
      part.cancelled = true;
      this._next = first + n;
      return part;
    }
    return out;
  }
  /** Ends every worker. */
  close() {
    if (this._closed) return;
    this._closed = true;
    for (const w of this._w) {
      for (const p of w.pending.values()) p.reject(new Error('the pool was closed'));
      w.ep.close();
    }
  }
}
