// types-check.ts - compiled by tests/node/package.test.mjs with tsc --noEmit
// --strict against wasm/prime.d.ts: the API used as README.md and
// docs/architecture.md show it must type-check, and each misuse below (marked
// as an expected error) must be rejected: tsc fails if one is accepted, so a
// declaration that is too loose fails the check as well as one too strict.
import { loadPrime, PrimeError, VERSION, abiMismatches } from '../../wasm/prime.js';
import type { ClassifierModel, ClassifyResult, GraphModel, InpainterModel, InpaintResult, Model, Prime } from '../../wasm/prime.js';

declare const modelBytes: Uint8Array;
declare const pvaeBytes: ArrayBuffer;
declare const img28: Float32Array;
declare const img32: number[];
declare function draw(state: Float32Array): void;

async function readme(): Promise<void> {
  const P: Prime = await loadPrime();
  const m: ClassifierModel = P.loadModel(modelBytes);
  m.setDevice({ readNoise: 0.05, adcBits: 8 });
  m.setDevice({ read_model: 'weight', read_noise: 0.1, t_read: '1d', read_table: [[0, 0.1], [40, 1]], preset: 'paper' });
  const opts: Record<string, string> = m.getDeviceOptions();
  const keys: string[] = P.deviceOptions().map((o) => `${o.key} (${o.help}) = ${o.default}`);
  m.setDevice({ r_row: 1, r_col: 1 });
  const map = m.irdropMap(2, 0);
  const v: number = map.vRow[0] + map.iCol[0] + m.irdropArrays(2).arrays;
  console.log(opts, keys, v);
  m.setRun({ policy: 'confidence', threshold: 0.8, alpha: 2 });
  const r: ClassifyResult = m.classify(P.framesFromImage(img28, 28, 28, 10, 3));
  const label: number = r.label, steps: number = r.stepsUsed, nj: number = r.energyPj / 1000;
  const ratio: number = r.energyRatio, p0: number = r.probs[0], c: number = r.confidence[r.stepsUsed - 1];
  const spikes: Float64Array = r.spikes, reads: number = r.counters.cellReads;
  console.log(label, steps, nj, ratio, p0, c, spikes, reads);
  m.begin(P.framesFromImage(img28, 28, 28));
  while (m.step()) draw(m.layerState(0, 'spikes'));
  const t = m.tiling()[0];
  if (t) console.log(t.rows, t.arrays, t.fill);
  const op: 'conv' | 'fc' | 'avgpool' = m.arch.layers[0].op;
  const run = m.getRun();
  const policy: 'none' | 'confidence' = run.policy;
  m.setRun({ ...P.defaultRun(), policy: 'none' }).setDevice({ ...P.defaultDevice(), chipSeed: 7 });
  const saved: Uint8Array = m.save(), onnx: Uint8Array = m.exportOnnx(10);
  const mask: Uint8Array = m.getMask(0);
  m.setMask(0, mask).setConductances(0, m.getWeights(0, true), new Float32Array(mask.length));
  console.log(op, policy, saved.length, onnx.length, m.totalArrays(), m.array(0).length, m.importNpz(saved));
  m.free();

  const ev = P.eventsFromImage(img28, 28, 28, { seed: 5, contrast: 0.2 });
  const frames: Float32Array = P.binEvents(ev, 10);
  const xs: Uint16Array = ev.x, n: number = P.parseNmnist(modelBytes).count;
  console.log(frames.length, xs.length, n, P.decodeImage(modelBytes, 28, 28, true).length, P.memoryBytes());

  const any: Model = P.load(pvaeBytes);
  if (any.kind === 'classifier') console.log(any.classify(P.framesFromImage(img28, 28, 28)).label, any.arch.nClasses);
  else if (any.kind === 'inpainter') console.log(any.inpaint(img32).stepsUsed, any.arch.latent);
  else console.log(any.graph.readout, any.graph.graphs[0][0].op, any.arch.nodes);

  const imported = P.importModel(modelBytes);
  if (imported.kind === 'graph') {
    const gr: GraphModel = imported;
    gr.setRun({ policy: 'convergence', ideal: true }).setDevice({ readNoise: 0 });
    if (gr.graph.image) {
      const res = gr.inpaint(img32, { hole: new Uint8Array(1024), readNoise: 0.05, choices: null });
      const rec: Float32Array = res.recon, picks: Int32Array | undefined = res.choices;
      console.log(rec, picks, gr.generate({ seed: 3 }).seed, gr.getChoices().length);
    } else {
      const cr = gr.classify(img28, { ideal: true });
      const lab: number = cr.label, p: number = cr.probs[lab], lg: Float32Array = cr.logits;
      console.log(lab, p, lg, cr.counters.dacClipped);
    }
    const sp: number = gr.nodeSpikes(3), all = gr.nodeSpikes().map((x) => x.spikes);
    const w: Float32Array = gr.getParam(1, 'weight'), mk: Uint8Array = gr.getMask(1);
    gr.setMask(1, mk).setParam(2, 'affine_a', new Float32Array(32));
    console.log(sp, all, w, gr.nodeOutput(1).length, P.load(gr.save()).kind);
  } else console.log(imported.arch.nClasses);
  const ip: InpainterModel = P.loadInpainter(pvaeBytes);
  ip.setDevice({ readNoise: 0.02 }).setRun({ policy: 'none', mTh: 0.3, latentSeed: 4 });
  const ipPolicy: 'none' | 'convergence' = ip.getRun().policy;
  const ipSaved: Uint8Array = ip.save();
  ip.begin(img32, { hole: new Uint8Array(ip.size * ip.size) });
  while (ip.step()) console.log(ip.result().steps.length);
  console.log(ipPolicy, ipSaved.length, ip.arch.ch);
  const res: InpaintResult = ip.inpaint(img32, { readNoise: 0.05, earlyStop: true, hole: new Uint8Array(ip.size * ip.size) });
  const recon: Float32Array = res.recon, m1: number = res.m[0], step0: Float32Array = res.steps[0];
  const g = ip.generate({ seed: 42 });
  const seed: number = g.seed;
  const w: Float32Array = ip.getParams(0).w, bias: Float32Array | undefined = ip.getParams(4).bias;
  const u: Float64Array = ip.latentUniforms({ noiseSeed: 2 });
  console.log(recon, m1, step0, seed, w, bias, u, ip.layers[0].crossbar, ip.exportOnnx().length);
  ip.free();

  const version: string = P.version, same: boolean = VERSION === version;
  const bad: string[] = abiMismatches(P.abi);
  console.log(same, bad, P.abi.event_size);
  try { P.loadModel(new Uint8Array(3)); } catch (e) { if (e instanceof PrimeError) console.log(e.message); }
}

async function misuse(): Promise<void> {
  const P = await loadPrime({ wasmUrl: new URL('https://example.org/prime.wasm') });
  const m = P.loadModel(modelBytes);
  // @ts-expect-error: a policy the API does not have
  m.setRun({ policy: 'sometimes' });
  // @ts-expect-error: a misspelled device field
  m.setDevice({ readNois: 0.05 });
  // @ts-expect-error: a misspelled device option key
  m.setDevice({ read_modle: 'weight' });
  // @ts-expect-error: a layer state that does not exist
  m.layerState(0, 'voltage');
  // @ts-expect-error: label is a number
  const s: string = m.classify(img28).label;
  // @ts-expect-error: step() returns a boolean
  const k: number = m.step();
  // @ts-expect-error: a pool's tiling may be null
  const rows: number = m.tiling()[1].rows;
  // @ts-expect-error: loadModel needs bytes
  P.loadModel('models/nmnist-digits.prime');
  // @ts-expect-error: generate takes options, not a seed
  P.loadInpainter(pvaeBytes).generate(42);
  // @ts-expect-error: earlyStop is a boolean
  P.loadInpainter(pvaeBytes).inpaint(img32, { earlyStop: 'yes' });
  // @ts-expect-error: a classifier's policy is not an inpainter's
  P.loadInpainter(pvaeBytes).setRun({ policy: 'confidence' });
  // @ts-expect-error: an inpainter has no classify (its result type is never)
  const lab: number = P.loadInpainter(pvaeBytes).classify(img28).label;
  const gm = P.importModel(modelBytes);
  if (gm.kind === 'graph') {
    // @ts-expect-error: a graph's parameter names are the engine's
    gm.getParam(1, 'weights');
    // @ts-expect-error: a graph has no step mode (its result type is never)
    const more: number = gm.result().stepsUsed;
    // @ts-expect-error: a graph's policy has no 'sometimes'
    gm.setRun({ policy: 'sometimes' });
    console.log(more);
  }
  // @ts-expect-error: loadPrime returns a promise
  P.loadModel === loadPrime().loadModel;
  console.log(s, k, rows, lab);
}

export { readme, misuse };
