// ort-web.mjs - onnxruntime-web for the benchmarks: the engine a browser user would
// pick instead of PRIME-sim, run in Node on its wasm backend (SIMD build, one
// thread, no proxy worker), its .wasm loaded from node_modules (no download).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** onnxruntime-web's module set up for one wasm thread, or null if not installed. */
export async function loadOrtWeb() {
  const dist = path.join(root, 'node_modules/onnxruntime-web/dist');
  let ort;
  try { ort = await import(pathToFileURL(path.join(dist, 'ort.node.min.mjs')).href); } catch { return null; }
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = dist + path.sep;
  ort.env.logLevel = 'error';
  return ort;
}

/** A wasm-backend session on ONNX bytes (Uint8Array). */
export async function ortWebSession(ort, bytes) {
  return ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', logSeverityLevel: 3 });
}
