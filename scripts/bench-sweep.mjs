// bench-sweep.mjs - an evaluation of many samples on every core in Node: the
// worker_threads pool (wasm/pool.mjs) at 1 and at 2 (or more) workers on the
// same frames, read noise on, wall time and CPU time of the process (all
// threads), the speed-up, and a check that every worker count gives the
// single-thread labels, steps and logits bit for bit. Used by scripts/bench.mjs
// (the "sweeps" target of issue 14: >= 1.8x on 2 cores) on its full test-set
// frames: `./build.sh bench --full 2000 --sweep-threads 1,2`.
//
// Wall time needs a quiet machine: on shared cores another job takes the
// second core and the ratio says nothing (the printout gives the load average).
import os from 'node:os';
import { createPool } from '../wasm/pool.mjs';

/**
 * Times pool.classifyBatch over all frames at each worker count.
 * opts: {modelBytes, frames, labels, T, noise, threads: [1, 2], want (single-thread results, optional)}.
 * Returns {rows: [{threads, wall, cpu, acc, same}], speedup (last / first by wall), lines}.
 */
export async function benchSweep({ modelBytes, frames, labels, T = 10, noise = 0.05, threads = [1, 2], want = null }) {
  const rows = [];
  const key = (rs) => rs.map((r) => `${r.label}:${r.stepsUsed}:${Array.from(r.logits).join(',')}`).join(';');
  let ref = want ? key(want) : null;
  for (const th of threads) {
    const pool = await createPool({ model: modelBytes, device: { readNoise: noise }, run: { policy: 'none' }, threads: th });
    try {
      await pool.classifyBatch(frames.slice(0, 8 * th), { T }); // warm-up: every worker's JIT tiers
      await pool.setRun({});
      const t0 = performance.now(), c0 = process.cpuUsage();
      const rs = await pool.classifyBatch(frames, { T, chunk: 16 });
      const c = process.cpuUsage(c0);
      const k = key(rs);
      if (ref === null) ref = k;
      rows.push({ threads: th, wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6,
        acc: labels ? rs.filter((r, i) => r.label === labels[i]).length / rs.length : null, same: k === ref });
    } finally { pool.close(); }
  }
  const speedup = rows[0].wall / rows[rows.length - 1].wall;
  const lines = [`evaluation on every core (wasm/pool.mjs, worker_threads), ${frames.length} samples, read noise ${noise}, all ${T} steps:`];
  for (const r of rows)
    lines.push(`  ${String(r.threads).padStart(2)} worker${r.threads > 1 ? 's' : ' '} ${r.wall.toFixed(2).padStart(8)} s wall ${r.cpu.toFixed(2).padStart(8)} s CPU  ` +
      `${(frames.length / r.wall).toFixed(1).padStart(7)} samples/s${r.acc !== null ? `  accuracy ${(100 * r.acc).toFixed(1)} %` : ''}  same bits as one thread: ${r.same ? 'yes' : 'NO'}`);
  lines.push(`  speed-up ${threads[threads.length - 1]} workers / ${threads[0]}: ${speedup.toFixed(2)}x by wall time (load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores: needs a quiet machine)`);
  return { rows, speedup, lines };
}
