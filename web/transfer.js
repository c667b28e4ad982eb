// transfer.js - the starting masks of a re-prune (docs/web.md, "Re-pruning"):
// the network of the masks on screen (trained for chip `from`) projected onto
// the random conductances of chip `to`. Per weight layer, with W the weights
// the current masks give on chip `from` and w the on-state weights of every
// cell of chip `to`, the new mask keeps, in this order, the cells where w has
// W's sign (largest W * w first), then cells W leaves pruned (smallest |w|
// first: they add the least to a weight W does not have), and never a cell of
// the opposite sign, until it keeps as many cells as the trainer does
// (all but floor(sparsity * n)). Used by web/reprune-worker.js and
// scripts/bench-reprune.mjs; P is the loaded wasm/prime.js API.

/* The layer's new mask from W (chip `from`, current masks) and w (chip `to`, all cells). */
export function projectMask(W, w, sparsity = 0.5) {
  const n = W.length, keep = n - Math.floor(sparsity * n);
  const idx = Array.from({ length: n }, (_, i) => i);
  const tier = (i) => (W[i] === 0 ? 1 : W[i] * w[i] > 0 ? 2 : 0);
  const key = (i) => (W[i] === 0 ? -Math.abs(w[i]) : W[i] * w[i]);
  idx.sort((a, b) => tier(b) - tier(a) || key(b) - key(a) || a - b);
  const mask = new Uint8Array(n);
  for (let j = 0; j < keep; j++) mask[idx[j]] = 1;
  return mask;
}

/* Model bytes (.prime): the model `bytes` with chip `to` and masks projected
 * from `masks` ([{layer, mask}], the masks on screen; null: the file's own)
 * on chip `from`. */
export function transferModel(P, bytes, masks, from, to) {
  const a = P.loadModel(bytes), b = P.loadModel(bytes);
  try {
    a.setDevice({ chipSeed: from });
    b.setDevice({ chipSeed: to });
    a.arch.layers.forEach((L, l) => {
      if (L.op !== 'conv' && L.op !== 'fc') return;
      const m = masks && masks.find((x) => x.layer === l);
      const mk = m ? m.mask : a.getMask(l), W = a.getWeights(l, true); // on-state weights, then the mask
      for (let i = 0; i < W.length; i++) if (!mk[i]) W[i] = 0;
      b.setMask(l, projectMask(W, b.getWeights(l, true), L.sparsity));
    });
    return b.save();
  } finally { a.free(); b.free(); }
}
