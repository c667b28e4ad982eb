// bench-engine.mjs - the engine of this checkout against the one of an earlier
// commit, on both networks, alternating (ratios from one run on the same
// machine, as docs/performance.md asks):
//
//   node scripts/bench-engine.mjs [--before REV] [--rounds 5] [--n 50] [--repeat 5]
//
// Builds REV's native CLI (make build/prime) in a temporary git worktree, then
// runs `prime bench-frames` (the classifier, models/nmnist-digits.prime, 10
// steps, no early stop) and `prime bench-vae` (models/inpaint-mnist.pvae, 16
// steps, centre hole) of the two builds in turn, `rounds` times each, at read
// noise 0 and 0.05, and prints the median CPU ms per sample of each and
// after / before, and the same of each build's fastest round. Both builds
// must give the same labels / reconstruction fingerprints (printed). Never
// part of the tests (timings are not assertions).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadPrime } from '../wasm/prime.js';
import { digits } from './bench-inpaint.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : d; };
const before = arg('--before', 'HEAD~1'), rounds = +arg('--rounds', '5'), N = +arg('--n', '50');
// timed passes inside each process (the CLI reports their median): a pass over 20 images is ~0.1 s,
// short enough for a scheduler hiccup to move one figure by 10 %
const R = arg('--repeat', '5'), NV = Math.min(N, 50);
const median = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prime-bench-engine-'));
const wt = path.join(tmp, 'before');
const cleanup = () => {
  try { execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', wt], { stdio: 'ignore' }); } catch { /* not made */ }
  fs.rmSync(tmp, { recursive: true, force: true });
};
process.on('exit', cleanup);

const rev = execFileSync('git', ['-C', root, 'rev-parse', '--short', before]).toString().trim();
const head = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).toString().trim();
const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).toString().trim() ? ' + uncommitted changes' : '';
process.stderr.write(`.. building ${rev} in ${wt}\n`);
execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', wt, rev], { stdio: 'ignore' });
execFileSync('make', ['-C', wt, '-j2', 'build/prime'], { stdio: 'ignore' });
execFileSync('make', ['-C', root, '-j2', 'build/prime'], { stdio: 'ignore' });
const bins = { before: path.join(tmp, 'prime-before'), after: path.join(tmp, 'prime-after') };
fs.copyFileSync(path.join(wt, 'build/prime'), bins.before);
fs.copyFileSync(path.join(root, 'build/prime'), bins.after);
for (const b of Object.values(bins)) fs.chmodSync(b, 0o755);

// inputs: N test digits as events (the page's sample file) and as 32x32 images
const P = await loadPrime();
const b = fs.readFileSync(path.join(root, 'web/samples/mnist-test.psmp'));
const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
const count = dv.getUint32(8, true), w = dv.getUint32(12, true), h = dv.getUint32(16, true), seed = Number(dv.getBigUint64(20, true));
const frames = new Float32Array(N * 10 * 2 * 34 * 34);
for (let j = 0; j < N; j++) {
  const k = j % count, idx = dv.getUint32(28 + 4 * k, true);
  const px = b.subarray(28 + 5 * count + k * w * h, 28 + 5 * count + (k + 1) * w * h);
  frames.set(P.framesFromImage(Float32Array.from(px, (v) => v / 255), w, h, 10, seed + idx), j * 10 * 2 * 34 * 34);
}
const framesFile = path.join(tmp, 'frames.f32'), imagesFile = path.join(tmp, 'images.f32');
fs.writeFileSync(framesFile, Buffer.from(frames.buffer));
{ const im = digits(N), all = new Float32Array(N * 1024); im.forEach((x, i) => all.set(x, i * 1024)); fs.writeFileSync(imagesFile, Buffer.from(all.buffer)); }

const cases = [];
for (const noise of [0, 0.05]) {
  cases.push({ name: `classifier, noise ${noise}`, args: ['bench-frames', path.join(root, 'models/nmnist-digits.prime'), framesFile, String(N), '--repeat', R, '--no-stop', '--noise', String(noise)], same: (j) => JSON.stringify(j.labels) });
  cases.push({ name: `inpainting, noise ${noise}`, args: ['bench-vae', path.join(root, 'models/inpaint-mnist.pvae'), imagesFile, String(NV), '--repeat', R, '--no-stop', '--noise', String(noise)], same: (j) => JSON.stringify(j.hashes) });
}
console.log(`engine bench: after = ${head}${dirty}, before = ${rev}; ${N} inputs (inpainting ${NV}), ${rounds} alternated rounds of ${R} timed passes each, CPU ms per sample; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`);
// the median and the fastest round of each: this machine is a VM whose speed flips between two
// levels about 25 % apart (host load), and the fastest round is the figure least moved by that
console.log(`  ${'case'.padEnd(26)}${'median:'.padStart(10)}${''.padStart(10)}${''.padStart(14)}${'fastest:'.padStart(10)}`);
console.log(`  ${''.padEnd(26)}${'before'.padStart(10)}${'after'.padStart(10)}${'after/before'.padStart(14)}${'before'.padStart(10)}${'after'.padStart(10)}${'ratio'.padStart(10)}  same outputs`);
for (const c of cases) {
  const t = { before: [], after: [] }, out = {};
  for (let r = 0; r < rounds; r++)
    for (const k of r % 2 ? ['after', 'before'] : ['before', 'after']) {
      const j = JSON.parse(execFileSync(bins[k], c.args, { maxBuffer: 1 << 26 }).toString().trim().split('\n').pop());
      t[k].push(j.cpu_ms_per_sample ?? j.ms_per_image), out[k] = c.same(j);
    }
  const mb = median(t.before), ma = median(t.after), nb = Math.min(...t.before), na = Math.min(...t.after);
  console.log(`  ${c.name.padEnd(26)}${mb.toFixed(3).padStart(10)}${ma.toFixed(3).padStart(10)}${(ma / mb).toFixed(3).padStart(14)}` +
    `${nb.toFixed(3).padStart(10)}${na.toFixed(3).padStart(10)}${(na / nb).toFixed(3).padStart(10)}  ${out.before === out.after ? 'yes' : 'NO'}`);
}
console.log(`  (load average ${os.loadavg().map((v) => v.toFixed(1)).join(' ')} at the end)`);
