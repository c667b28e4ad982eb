// graph.test.mjs - the layer-graph engine against torch (scripts/graph-check.py,
// docs/graph.md): the PRIME authors' FSVAE imported by `prime-graph import` and
// run with the same latent choices as a torch forward of their equations, and
// the companion paper's Fashion CNN, both within 1e-4 at the ideal device
// (samples where torch has a value within 1e-6 of a threshold / rounding
// boundary are listed and allowed to differ).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CI = process.env.CI === 'true';

test('graph-check: FSVAE and Fashion CNN graphs vs torch forwards (16 inputs, ideal device)', (t) => {
  const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (torch.status !== 0) {
    if (CI) throw new Error('python3-torch / python3-numpy are needed (./build.sh setup installs them)');
    t.skip('python3-torch is not installed (./build.sh setup installs it)');
    return;
  }
  const json = path.join(root, 'build', 'graph', 'check.json');
  const r = spawnSync('/usr/bin/python3', ['scripts/graph-check.py', '--n', '16', '--json', json], { cwd: root, encoding: 'utf8' });
  process.stdout.write(r.stdout || '');
  assert.equal(r.status, 0, `graph-check failed:\n${r.stdout}\n${r.stderr}`);
  const res = JSON.parse(fs.readFileSync(json, 'utf8'));
  for (const k of ['fsvae', 'fashion']) {
    assert.deepEqual(res[k].mismatches, [], `${k}: every sample within 1e-4 (or listed near a threshold)`);
    assert.ok(res[k].max_diff_far <= 1e-4, `${k}: ${res[k].max_diff_far}`);
  }
  assert.ok(res.fsvae.max_diff <= 1e-4, `FSVAE: every sample and step within 1e-4 (${res.fsvae.max_diff})`);
  assert.ok(res.fsvae.recon_range[1] - res.fsvae.recon_range[0] > 0.1, 'the reconstructions are not constant');
  assert.ok(res.fashion.n - res.fashion.near_boundary.length >= res.fashion.n / 2, 'most images are away from a rounding boundary');
});
