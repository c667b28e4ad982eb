// onnx-vae.test.mjs - the inpainting network's ONNX export (src/prime_onnx.c,
// `prime onnx MODEL.pvae`, ip.exportOnnx()) run by onnxruntime-node gives the
// simulator's reconstructions at zero noise, ideal ADC and DAC, with the
// Bernoulli latent samples reproduced from the same uniforms.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { loadPrime } from '../../wasm/prime.js';
import { digits } from '../../scripts/bench-inpaint.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const model = path.join(root, 'models/inpaint-mnist.pvae');
const P = await loadPrime();
const ideal = { readNoise: 0, adcBits: 0, dacBits: 0, earlyStop: false };

const centre = Float32Array.from({ length: 1024 }, (_, p) => ((p >> 5) >= 12 && (p >> 5) < 20 && (p & 31) >= 12 && (p & 31) < 20 ? 1 : 0));

test('inpainting ONNX export = simulator at zero noise, ideal ADC/DAC (every step within 1e-4)', async () => {
  const ip = P.loadInpainter(fs.readFileSync(model));
  const onnxPath = path.join(os.tmpdir(), `prime-vae-test-${process.pid}.onnx`);
  execFileSync(path.join(root, 'build/prime'), ['onnx', model, onnxPath]);
  const fromCli = fs.readFileSync(onnxPath);
  fs.unlinkSync(onnxPath);
  assert.ok(Buffer.from(ip.exportOnnx()).equals(fromCli), 'the CLI and the JS API export the same bytes');
  const sess = await ort.InferenceSession.create(fromCli, { logSeverityLevel: 3 });
  assert.deepEqual(sess.inputNames, ['image', 'hole', 'uniforms']);
  assert.deepEqual(sess.outputNames, ['recon', 'step_recon']);
  const T = ip.T, lat = ip.layers[4].inC;
  let maxDiff = 0;
  const imgs = digits(12);
  for (const seed of [7, 8]) {
    const u = ip.latentUniforms({ ...ideal, latentSeed: seed });
    assert.equal(u.length, T * lat);
    for (const img of imgs.slice(0, 6)) {
      const r = ip.inpaint(img, { ...ideal, latentSeed: seed });
      const o = await sess.run({
        image: new ort.Tensor('float32', img, [1, 1, 32, 32]), hole: new ort.Tensor('float32', centre, [1, 1, 32, 32]),
        uniforms: new ort.Tensor('float64', u, [T, lat]),
      });
      for (let t = 0; t < T; t++)
        for (let p = 0; p < 1024; p++) maxDiff = Math.max(maxDiff, Math.abs(o.step_recon.data[t * 1024 + p] - r.steps[t][p]));
      for (let p = 0; p < 1024; p++) assert.equal(o.recon.data[p], o.step_recon.data[(T - 1) * 1024 + p]);
    }
  }
  console.log(`# ${path.basename(model)}: 12 inpaintings x ${T} steps, max |recon diff| ${maxDiff}`);
  assert.ok(maxDiff <= 1e-4, `max recon diff ${maxDiff}`);
  // the uniforms matter: other samples give another reconstruction
  const u2 = ip.latentUniforms({ ...ideal, latentSeed: 99 }), u7 = ip.latentUniforms({ ...ideal, latentSeed: 7 });
  const run = async (u) => (await sess.run({ image: new ort.Tensor('float32', imgs[0], [1, 1, 32, 32]),
    hole: new ort.Tensor('float32', centre, [1, 1, 32, 32]), uniforms: new ort.Tensor('float64', u, [T, lat]) })).recon.data;
  const a = await run(u7), b = await run(u2);
  assert.ok(a.some((x, p) => Math.abs(x - b[p]) > 1e-3), 'changing the latent uniforms changed nothing');
  ip.free();
});
