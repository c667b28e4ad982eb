// prime-train.js - JS API of wasm/prime-train.wasm, the mask trainer that
// re-prunes a model for another chip (src/train_wasm.c, docs/web.md "Re-pruning").
// Works in Node 20 and browsers (web/reprune-worker.js); one thread.
//
//   const T = await loadTrainer();
//   const tr = T.create(modelBytes, { chipSeed: 2, lr: 2e-2, batch: 32, epochs: 7 });
//   tr.addImages('train', psmp); tr.addImages('test', psmp2);  // parsed .psmp (web/lib.js)
//   while (tr.step(1).left > 0) ...;  tr.evaluate('test');  tr.masks();  tr.free();

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

async function wasmSource(opts) {
  if (opts.wasmBytes) return opts.wasmBytes;
  const url = opts.wasmUrl || new URL('./prime-train.wasm', import.meta.url);
  if (isNode && (url.protocol === undefined || url.protocol === 'file:')) {
    const { readFile } = await import('node:fs/promises');
    return readFile(url);
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/* Loads the trainer module; opts {wasmBytes?, wasmUrl?}. Returns {create}. */
export async function loadTrainer(opts = {}) {
  const { instance } = await WebAssembly.instantiate(await wasmSource(opts), {
    env: { emscripten_notify_memory_growth: () => {} },
  });
  const X = instance.exports;
  if (X._initialize) X._initialize();
  const u8 = () => new Uint8Array(X.memory.buffer);
  const f64 = () => new Float64Array(X.memory.buffer);
  const lastError = () => {
    const p = X.pt_last_error(), b = u8();
    let e = p;
    while (b[e]) e++;
    return new TextDecoder().decode(b.subarray(p, e)) || 'unknown error';
  };
  const fail = (what) => { throw new Error(`${what}: ${lastError()}`); };
  /* Copies bytes into a fresh wasm buffer; returns its pointer (caller frees). */
  const put = (bytes) => {
    const p = X.pt_malloc(bytes.length);
    if (!p) throw new Error('out of wasm memory');
    u8().set(bytes, p);
    return p;
  };
  const SETS = { train: 0, test: 1 };
  const setNo = (s) => {
    if (!(s in SETS)) throw new Error(`set must be 'train' or 'test', got ${s}`);
    return SETS[s];
  };

  /* A trainer over the chip of model `bytes` (.prime) re-formed with chipSeed.
   * o: {chipSeed, warm (start from the model's masks, default false), lr (1e-2),
   * batch (32), epochs (4), seed (1)}. */
  function create(bytes, o = {}) {
    const { chipSeed, warm = false, lr = 1e-2, batch = 32, epochs = 4, seed = 1 } = o;
    if (!Number.isInteger(chipSeed) || chipSeed < 0) throw new Error(`chipSeed must be an integer >= 0, got ${chipSeed}`);
    const pm = put(bytes);
    const h = X.pt_create(pm, bytes.length, chipSeed, warm ? 1 : 0, lr, batch, epochs, seed);
    X.pt_free_buf(pm);
    if (!h) fail('create');
    const sp = X.pt_malloc(8 * 8);
    let freed = false;
    const live = () => { if (freed) throw new Error('trainer already freed'); };
    return {
      /* Adds a parsed .psmp's images (optionally only the first `limit`). */
      addImages(set, s, limit = s.n) {
        live();
        const n = Math.min(limit, s.n), wh = s.w * s.h;
        const px = put(s.pixels.subarray(0, n * wh)), lb = put(s.labels.subarray(0, n));
        const ix = put(new Uint8Array(Uint32Array.from(s.indices.subarray(0, n)).buffer));
        const rc = X.pt_add_images(h, setNo(set), px, lb, ix, n, s.w, s.h, s.eventSeed);
        X.pt_free_buf(px); X.pt_free_buf(lb); X.pt_free_buf(ix);
        if (rc !== 0) fail('addImages');
      },
      /* Runs up to nb batches; returns {done, total, epoch, epochs, loss, acc, lr, perEpoch, left}. */
      step(nb = 1) {
        live();
        const left = X.pt_step(h, nb, sp);
        if (left < 0) fail('step');
        const v = f64().subarray(sp / 8, sp / 8 + 8);
        return { done: v[0], total: v[1], epoch: v[2], epochs: v[3], loss: v[4], acc: v[5], lr: v[6], perEpoch: v[7], left };
      },
      /* {acc, loss} of the current masks on the first n samples of a set (all by default). */
      evaluate(set = 'test', n = 0) {
        live();
        if (X.pt_evaluate(h, setNo(set), n, sp) !== 0) fail('evaluate');
        const v = f64().subarray(sp / 8, sp / 8 + 2);
        return { acc: v[0], loss: v[1] };
      },
      /* The current masks: [{layer (arch index, for model.setMask), mask: Uint8Array}]. */
      masks() {
        live();
        const out = [];
        for (let wl = 0; wl < X.pt_n_layers(h); wl++) {
          const n = X.pt_layer_size(h, wl), p = X.pt_mask(h, wl);
          if (!p) fail('masks');
          out.push({ layer: X.pt_layer_index(h, wl), mask: u8().slice(p, p + n) });
        }
        return out;
      },
      free() { if (!freed) { freed = true; X.pt_free(h); X.pt_free_buf(sp); } },
    };
  }
  return { create };
}
