// event-frames.mjs - the images of a .psmp sample file turned into event frames by
// the simulator's synthesizer (prime_events_from_image, docs/data.md), written as a
// frame file (PFRM, docs/data.md) that build/prime-results --frames and
// scripts/realism.py read.
//
//   node scripts/event-frames.mjs SAMPLES.psmp OUT.pfrm [--n N] [--T 10] [--PARAM VALUE ...]
//
// PARAM: any event parameter of the JS API (contrast, noiseRate, durationUs,
// stepsPerSaccade, amplitude); sample i uses seed = event_seed + index(i), the
// trainer's convention. Frames are binned with an equal number of events per
// frame (prime_events_bin), counts clipped at 255 as in the trainer's cache.
import fs from 'node:fs';
import { loadPrime } from '../wasm/prime.js';
import { parsePsmp } from '../web/lib.js';

const args = process.argv.slice(2);
if (args.length < 2 || args[0].startsWith('--')) {
  console.error('usage: node scripts/event-frames.mjs SAMPLES.psmp OUT.pfrm [--n N] [--T 10] [--PARAM VALUE ...]');
  process.exit(2);
}
const [inPath, outPath] = args.splice(0, 2);
const opts = {};
for (let i = 0; i < args.length; i += 2) {
  if (!args[i].startsWith('--') || i + 1 >= args.length) throw new Error(`bad argument "${args[i]}"`);
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`${args[i]}: "${args[i + 1]}" is not a number`);
  opts[args[i].slice(2)] = v;
}
const T = opts.T ?? 10;
delete opts.T;
const s = parsePsmp(fs.readFileSync(inPath));
const n = Math.min(opts.n ?? s.n, s.n);
delete opts.n;
const P = await loadPrime();
// PFRM version 2 with fingerprint 0: "frames from elsewhere", read by
// prime_frames_load_any (the trainer's caches carry the synthesizer's own fingerprint)
const size = 34, per = T * 2 * size * size, hdr = 36;
const out = new Uint8Array(hdr + n + n * per);
const dv = new DataView(out.buffer);
out.set([0x50, 0x46, 0x52, 0x4d]); // "PFRM"
[2, n, T, 2, size, size, 0, 0].forEach((v, i) => dv.setUint32(4 + 4 * i, v, true));
out.set(s.labels.subarray(0, n), hdr);
let events = 0, clipped = 0;
const t0 = performance.now();
for (let i = 0; i < n; i++) {
  const img = Float32Array.from(s.pixels.subarray(i * s.w * s.h, (i + 1) * s.w * s.h), (v) => v / 255);
  const ev = P.eventsFromImage(img, s.w, s.h, { ...opts, size, seed: s.eventSeed + s.indices[i] });
  events += ev.count;
  const fr = P.binEvents(ev, T, size);
  const o = hdr + n + i * per;
  for (let k = 0; k < per; k++) {
    if (fr[k] > 255) clipped++;
    out[o + k] = Math.min(255, fr[k]);
  }
  if (process.stderr.isTTY && (i + 1) % 100 === 0) process.stderr.write(`\r${i + 1}/${n} samples`);
}
if (process.stderr.isTTY) process.stderr.write('\n');
fs.writeFileSync(outPath, out);
console.log(`${outPath}: ${n} samples, T = ${T}, ${(events / n).toFixed(0)} events per sample` +
  `${clipped ? `, ${clipped} counts clipped at 255` : ''}, params ${JSON.stringify(opts)}, ${((performance.now() - t0) / 1e3).toFixed(1)} s`);
