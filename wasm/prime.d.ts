// prime.d.ts - types of the JavaScript API of PRIME-sim (wasm/prime.js).
//
//   import { loadPrime } from 'prime-sim';
//   const P = await loadPrime();
//   const m = P.load(bytes);                    // Model = ClassifierModel | InpainterModel | GraphModel
//   if (m.kind === 'classifier') {
//     m.setDevice({ readNoise: 0.05 }).setRun({ policy: 'confidence', threshold: 0.8 });
//     const r = m.classify(P.framesFromImage(img28, 28, 28, 10, seed));
//   } else m.inpaint(img32, { readNoise: 0.05 });  // an inpainter, or a layer graph ('graph': m.graph) with an image readout
//
// Checked by tests/node/package.test.mjs (tsc --noEmit on tests/node/types-check.ts).

/** An error reported by the C core (its message) or by the JS layer (bad argument). */
export class PrimeError extends Error {
  constructor(message: string);
  name: 'PrimeError';
}

/** The version of prime.js; loadPrime throws a PrimeError when prime.wasm's differs. */
export const VERSION: string;

/** The ABI table of the wasm module (src/wasm_abi.h): name -> value. */
export type Abi = Readonly<Record<string, number>>;
/** What prime.js decodes by position, compared with the module's table at load. */
export const ABI_EXPECTED: Readonly<Record<string, number>>;
/** The differences between an ABI table and what prime.js expects ([] when they agree). */
export function abiMismatches(abi: Abi, expected?: Readonly<Record<string, number>>, used?: readonly string[]): string[];

/** Bytes of a file: a Uint8Array, an ArrayBuffer or any other view of bytes. */
export type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView;
/** Numbers: a Float32Array (used as is), another typed array or an array (copied). */
export type Floats = Float32Array | ArrayLike<number>;

export interface LoadOptions {
  /** The bytes of prime.wasm (otherwise fetched in a browser, read from disk in Node). */
  wasmBytes?: BufferSource;
  /** Where prime.wasm is (default: next to prime.js). */
  wasmUrl?: string | URL;
  /** Load the scalar build (build/prime-scalar.wasm of a repository checkout; tests, benchmarks). */
  scalar?: boolean;
}

/** Loads the wasm module and returns the API object. */
export function loadPrime(opts?: LoadOptions): Promise<Prime>;

/** Memristor macro parameters (prime.h prime_device, camelCase; docs/device.md). */
export interface Device {
  chipSeed: number;
  /** 0 normal, 1 lognormal */
  gDist: number;
  gMean: number;
  gSd: number;
  gOff: number;
  gOffSd: number;
  gMax: number;
  progNoise: number;
  stuckOn: number;
  stuckOff: number;
  readNoise: number;
  /** 0 one Gaussian per column read, 1 one per cell read */
  noiseMode: number;
  adcBits: number;
  adcFs: number;
  dacBits: number;
  vRead: number;
  eCellPj: number;
  eAdcFomFj: number;
  eDacPj: number;
  eNeuronPj: number;
  eMacPj: number;
}

export type StopPolicy = 'none' | 'confidence';

/** The run policy (prime.h prime_run) as read back. */
export interface Run {
  policy: StopPolicy;
  alpha: number;
  threshold: number;
  minSteps: number;
  noiseSeed: number;
}
/** What setRun takes: any subset; the policy by name or by its number. */
export type RunInput = Partial<Omit<Run, 'policy'>> & { policy?: StopPolicy | number };

/** Parameters of the N-MNIST event synthesizer (docs/data.md). */
export interface EventParams {
  size: number;
  contrast: number;
  noiseRate: number;
  durationUs: number;
  stepsPerSaccade: number;
  amplitude: number;
  seed: number;
  /** 0: the image follows the saccade triangle (default); 1: the camera does, as in the N-MNIST recording. */
  motion: number;
}

/** Events, one entry per index: pixel (x, y), polarity p (1 ON, 0 OFF), time t in us. */
export interface Events {
  x: Uint16Array;
  y: Uint16Array;
  p: Uint8Array;
  t: Uint32Array;
  count: number;
}

export type LayerOp = 'conv' | 'fc' | 'avgpool';
export type NeuronType = 'none' | 'lif' | 'output';
export type LayerStateKind = 'membrane' | 'spikes' | 'current';

export interface ArchLayer {
  op: LayerOp;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  outH: number;
  outW: number;
  k: number;
  stride: number;
  pad: number;
  neuron: NeuronType;
  th: number;
  /** fraction of the membrane lost per step: U = U * (1 - decay) */
  decay: number;
  leak: number;
  scale: number;
  sparsity: number;
}

export interface Arch {
  task: number;
  T: number;
  inC: number;
  inH: number;
  inW: number;
  nClasses: number;
  layers: ArchLayer[];
}

export interface Counters {
  cellReads: number;
  adcConversions: number;
  dacDrives: number;
  vmmReads: number;
  neuronUpdates: number;
  macsDense: number;
  timesteps: number;
  /** ADC conversions clamped at the range (counted with ADC non-idealities or adcFs < 1; docs/device.md). */
  adcClipped: number;
}

/** A device setting by option key (P.deviceOptions(), docs/device.md): a number, a name ('weight'),
 * a time ('1d'), a list (read_poly: [c0, c1]) or a table (read_table: [[G, sigma], ...]). */
export type DeviceOptionValue = number | string | number[] | [number, number][];
/** Every option key of the device (P.deviceOptions(), src/device_opts.c). */
export type DeviceOptionKey =
  'chip_seed' |
  'g_dist' |
  'g_mean' |
  'g_sd' |
  'g_off' |
  'g_off_sd' |
  'g_max' |
  'prog_noise' |
  'stuck_on' |
  'stuck_off' |
  'read_noise' |
  'noise_mode' |
  'adc_bits' |
  'adc_fs' |
  'dac_bits' |
  'v_read' |
  'e_cell_pj' |
  'e_adc_fom_fj' |
  'e_dac_pj' |
  'e_neuron_pj' |
  'e_mac_pj' |
  'read_model' |
  'read_sigma' |
  'read_scale' |
  'read_preset' |
  'read_poly' |
  'read_g_ref' |
  'read_table' |
  'prog_model' |
  'prog_eta' |
  'prog_sigma' |
  'prog_scale' |
  'prog_clip' |
  'prog_preset' |
  'prog_poly' |
  'prog_g_ref' |
  'prog_table' |
  'relax_model' |
  't_read' |
  'drift_scale' |
  'r_row' |
  'r_col' |
  'r_drv' |
  'r_tia' |
  'ir_method' |
  'ir_tile' |
  'prog_cells' |
  'adc_offset' |
  'adc_gain' |
  'adc_inl' |
  'adc_inl_lsb' |
  'adc_inl_periods' |
  'dac_offset' |
  'dac_gain' |
  'dac_inl' |
  'dac_inl_lsb' |
  'dac_inl_periods' |
  'preset';
/** Device parameters by camelCase field (Device) or by option key (read_model, t_read, r_row, preset, ...). */
export type DeviceInput = Partial<Device> & Partial<Record<DeviceOptionKey, DeviceOptionValue>>;

/** One device option key (P.deviceOptions()). */
export interface DeviceOption {
  key: string;
  /** unit and meaning */
  help: string;
  /** value on the default classifier device, as text */
  default: string;
  /** value on the default inpainting device, as text */
  defaultInpaint: string;
}

/** An IR-drop voltage map of one array (Model.irdropMap). */
export interface IrdropMap {
  rows: number;
  cols: number;
  iterations: number;
  /** row-wire node voltages, V, rows*cols (row-major) */
  vRow: Float64Array;
  /** column-wire node voltages, V, rows*cols */
  vCol: Float64Array;
  /** column currents with the wires, uA */
  iCol: Float64Array;
  /** column currents of the ideal array, uA */
  iIdeal: Float64Array;
}

/** The result of classify() / result(), copied out of wasm memory. */
export interface ClassifyResult {
  label: number;
  T: number;
  stepsUsed: number;
  nClasses: number;
  /** mean output membrane after stepsUsed steps, nClasses values */
  logits: Float32Array;
  probs: Float32Array;
  /** max probability after each step, stepsUsed values */
  confidence: Float32Array;
  stepLabel: Int32Array;
  /** spikes emitted per layer */
  spikes: Float64Array;
  counters: Counters;
  energyPj: number;
  baselinePj: number;
  energyRatio: number;
}

/** How a weight layer lies on the 512 x 512 arrays. */
export interface Tiling {
  rows: number;
  cols: number;
  rowTiles: number;
  colTiles: number;
  arrays: number;
  fill: number;
  firstArray: number;
}

export type InpainterOp = 'conv' | 'tconv' | 'fc';

export interface InpainterLayer {
  op: InpainterOp;
  inC: number;
  inH: number;
  outC: number;
  outH: number;
  k: number;
  rows: number;
  cols: number;
  crossbar: boolean;
  bn: boolean;
}

/** Options of inpaint / generate / latentUniforms; each defaults to the model's default run. */
export interface RunOptions {
  readNoise?: number;
  adcBits?: number;
  dacBits?: number;
  /** the convergence early stop (default on) */
  earlyStop?: boolean;
  mDiv?: number;
  mTh?: number;
  mWindow?: number;
  noiseSeed?: number;
  latentSeed?: number;
}
export interface InpaintOptions extends RunOptions {
  /** size * size values, 1 = unknown; default the centre 8 x 8 */
  hole?: Bytes;
}
export interface GenerateOptions extends RunOptions {
  /** picks the sample (integer, default 1) */
  seed?: number;
}

export interface InpaintResult {
  stepsUsed: number;
  T: number;
  energyPj: number;
  baselinePj: number;
  energyRatio: number;
  counters: { cellReads: number; adcConversions: number };
  spikes: number;
  /** convergence measure after each step */
  m: Float64Array;
  /** the image after every step, size * size values in [-1, 1] */
  steps: Float32Array[];
  /** the image after the last step */
  recon: Float32Array;
}
export interface GenerateResult extends InpaintResult {
  seed: number;
}

export interface InpainterParams {
  w: Float32Array;
  a?: Float32Array;
  b?: Float32Array;
  bias?: Float32Array;
}

/** The network a model holds. */
export type ModelKind = 'classifier' | 'inpainter' | 'graph';

/** The architecture of an inpainting network (prime.h prime_vae_arch, camelCase). */
export interface InpainterArch {
  T: number;
  size: number;
  software: boolean;
  ch: number;
  latent: number;
  k: number;
  th: number;
  keep: number;
  outKeep: number;
  scale: number;
  sparsity: number;
  layers: InpainterLayer[];
}

export type InpainterStopPolicy = 'none' | 'convergence';
/** The run of an inpainting network (prime.h prime_vae_run) as read back. */
export interface InpainterRun {
  policy: InpainterStopPolicy;
  mDiv: number;
  mTh: number;
  mWindow: number;
  minSteps: number;
  noiseSeed: number;
  latentSeed: number;
}
export type InpainterRunInput = Partial<Omit<InpainterRun, 'policy'>> & { policy?: InpainterStopPolicy | number };

/**
 * What every model object has (wasm/prime-model.js). Each network also has
 * the other's methods, typed `never`: at run time they throw a PrimeError that
 * names the methods the network has.
 */
export interface ModelBase {
  readonly kind: ModelKind;
  getDevice(): Device;
  /** Merges partial device parameters (camelCase fields and option keys of P.deviceOptions(), all or
   * nothing, PrimeError naming the key); re-forms the chip only if a forming field changed; effects
   * re-program it. */
  setDevice(partial: DeviceInput): this;
  /** Every device option's current value as text. */
  getDeviceOptions(): Record<string, string>;
  /** Replaces a crossbar layer's formed on-state by a conductance map (uS, [row][col]); kept by save(). */
  setConductances(layer: number, gpos: Floats, gneg: Floats): this;
  /** Sets a crossbar layer's mask (1 keep / 0 pruned, [row][col]). */
  setMask(layer: number, mask: Bytes): this;
  /** The model file (version 2, docs/model-format.md). */
  save(): Uint8Array;
  free(): void;
}

/** A classification network on the simulated macro (a .prime file). */
export interface ClassifierModel extends ModelBase {
  readonly kind: 'classifier';
  readonly arch: Arch;
  getRun(): Run;
  setRun(partial: RunInput): this;
  /** Classifies one input [T][C][H][W]. */
  classify(frames: Floats, T?: number): ClassifyResult;
  /** Classifies many inputs: the results of classify() on each in turn, bit for bit
   * (sample i is inference number first + i, which keys its read noise). */
  classifyBatch(frames: Floats[], opts?: { T?: number; first?: number; chunk?: number;
    onProgress?: (done: number, total: number) => void }): ClassifyResult[];
  /** The inference number the next input gets (0 after setRun). */
  getInference(): number;
  setInference(next: number): this;
  /** Starts step mode; then step() advances one timestep. */
  begin(frames: Floats, T?: number): this;
  /** Runs one timestep: true if it ran, false when finished. */
  step(): boolean;
  result(): ClassifyResult;
  /** A copy of a layer's state, CHW order. */
  layerState(layer: number, what?: LayerStateKind): Float32Array;
  /** Per layer: null for pools. */
  tiling(): (Tiling | null)[];
  totalArrays(): number;
  /** Conductances (uS) of crossbar array i, 512 * 512 values, columns in (G+, G-) pairs. */
  array(i: number): Float32Array;
  /** 1 keep / 0 pruned, [row][col]. */
  getMask(layer: number): Uint8Array;
  getWeights(layer: number, kept?: boolean): Float32Array;
  /** Imports masks / weights / conductances from a NumPy .npz; returns the arrays used. */
  importNpz(bytes: Bytes): number;
  /** The arrays of the IR-drop model of a layer (tile = ir_tile). */
  irdropArrays(layer: number): { rowTiles: number; colTiles: number; arrays: number; tile: number };
  /** The exact IR-drop solve of one array of a layer (needs r_row, r_col > 0); rows driven at vRead or input[r] V. */
  irdropMap(layer: number, array?: number, input?: Floats | null): IrdropMap;
  /** The network as ONNX bytes (zero noise, ideal ADC/DAC), unrolled over T steps. */
  exportOnnx(T?: number): Uint8Array;
  /** Inpainter only: throws a PrimeError on a classifier. */
  inpaint(img: Floats, opts?: InpaintOptions): never;
  generate(opts?: GenerateOptions): never;
  getParams(i: number): never;
  latentUniforms(opts?: RunOptions): never;
}

/** An inpainting network (a .pvae or version-2 file; docs/inpainting.md). */
export interface InpainterModel extends ModelBase {
  readonly kind: 'inpainter';
  readonly arch: InpainterArch;
  readonly size: number;
  readonly T: number;
  readonly software: boolean;
  readonly layers: InpainterLayer[];
  getRun(): InpainterRun;
  setRun(partial: InpainterRunInput): this;
  /** Inpaints img (size * size values in [-1, 1]); options act for this call only. */
  inpaint(img: Floats, opts?: InpaintOptions): InpaintResult;
  /** A new image from the prior. */
  generate(opts?: GenerateOptions): GenerateResult;
  getParams(i: number): InpainterParams;
  /** The uniforms [T][latent] an inpaint with these options compares with q. */
  latentUniforms(opts?: RunOptions): Float64Array;
  /** The network as ONNX bytes (zero noise, ideal ADC/DAC; inputs image, hole, uniforms), over its own T. */
  exportOnnx(T?: number): Uint8Array;
  /** Step mode of an inpaint with the model's device and run; then step() advances one timestep. */
  begin(img: Floats, opts?: { hole?: Bytes }): this;
  /** Runs one timestep: true if it ran, false when finished (T reached or the early stop). */
  step(): boolean;
  /** The result after the steps run so far (steps[t]: every image so far). */
  result(): InpaintResult;
  /** Classifier only: each throws a PrimeError on an inpainter. */
  classify(frames: Floats, T?: number): never;
  classifyBatch(frames: Floats[], opts?: unknown): never;
  getInference(): never;
  setInference(next: number): never;
  layerState(layer: number, what?: LayerStateKind): never;
  tiling(): never;
  totalArrays(): never;
  array(i: number): never;
  getMask(layer: number): never;
  getWeights(layer: number, kept?: boolean): never;
  importNpz(bytes: Bytes): never;
  irdropArrays(layer: number): never;
  irdropMap(layer: number, array?: number, input?: Floats | null): never;
}

// ---------------------------------------------------------------- layer graphs (wasm/prime-graph.js, docs/graph.md)

export type GraphOp = 'input' | 'conv' | 'tconv' | 'fc' | 'avgpool' | 'maxpool' | 'flatten' | 'concat' | 'affine' | 'reshape' | 'latent';
export type GraphNeuron = 'none' | 'lif' | 'output' | 'fsvae' | 'reluq';
export type GraphReadout = 'logits' | 'mean' | 'tanh';
export type GraphStopPolicy = 'none' | 'confidence' | 'convergence';
export type GraphParam = 'weight' | 'bias' | 'mask' | 'gpos' | 'gneg' | 'affine_a' | 'affine_b';

/** One node of a layer graph (prime_graph.h prime_gnode, camelCase); outC/outH/outW: its output shape. */
export interface GraphNode {
  g: number;
  i: number;
  op: GraphOp;
  in0: number;
  in1: number;
  c: number; h: number; w: number;
  k: number; stride: number; pad: number; outPad: number;
  bias: boolean;
  crossbar: boolean;
  scale: number;
  sparsity: number;
  neuron: GraphNeuron;
  th: number; decay: number; leak: number; tau: number;
  qbits: number; qmax: number;
  sub0: number; sub1: number;
  mode: number;
  key: number; nkey: number;
  outC: number; outH: number; outW: number;
}

/** What a layer-graph model is: its graphs (graph 0 the network, then the latent's posterior and prior). */
export interface GraphDescription {
  T: number;
  outNode: number;
  readout: GraphReadout;
  outDecay: number;
  anchored: boolean;
  inDac: boolean;
  macsConn: boolean;
  /** values of the readout */
  nOut: number;
  input: { c: number; h: number; w: number };
  output: { c: number; h: number; w: number };
  /** the latent node of graph 0; choices: it picks one of k per channel (setChoices / getChoices) */
  latent: { node: number; c: number; k: number; mode: number; choices: boolean } | null;
  graphs: GraphNode[][];
  /** a tanh readout of the input's shape: inpaint() */
  image: boolean;
  /** a latent node before the readout: generate() */
  generates: boolean;
}

export interface GraphArch {
  T: number;
  inC: number;
  inH: number;
  inW: number;
  nOut: number;
  readout: GraphReadout;
  nodes: number;
}

/** The run of a layer-graph model (prime_graph.h prime_grun) as read back. */
export interface GraphRun {
  policy: GraphStopPolicy;
  alpha: number;
  threshold: number;
  mDiv: number;
  mTh: number;
  mWindow: number;
  minSteps: number;
  /** the software baseline: no read noise, ideal ADC */
  ideal: boolean;
  generate: boolean;
  noiseSeed: number;
  latentSeed: number;
}
export type GraphRunInput = Partial<Omit<GraphRun, 'policy'>> & { policy?: GraphStopPolicy | number };

/** Options of run / classify / inpaint / generate on a graph: this call only. */
export interface GraphRunOptions extends RunOptions {
  minSteps?: number;
  ideal?: boolean;
  /** the latent picks, T * c values in 0..k-1 */
  choices?: Int32Array | number[] | null;
}

export interface GraphResult {
  stepsUsed: number;
  T: number;
  /** argmax of the readout (logits / mean readouts) */
  label: number;
  nOut: number;
  /** the readout after the last step (CHW) */
  out: Float32Array;
  /** the readout after every step */
  steps: Float32Array[];
  confidence: Float32Array;
  /** convergence measure after each step (tanh readout) */
  m: Float64Array;
  counters: Counters & { dacClipped: number };
  digitalMacs: number;
  spikes: number;
  energyPj: number;
  baselinePj: number;
  energyRatio: number;
  /** the latent picks of this run, [T][c] */
  choices?: Int32Array;
}
export interface GraphClassifyResult extends GraphResult {
  nClasses: number;
  logits: Float32Array;
  /** softmax(logits / alpha) */
  probs: Float32Array;
}
export interface GraphImageResult extends GraphResult {
  recon: Float32Array;
}

/** A layer-graph model (a graph model file, or an FSVAE / Fashion CNN checkpoint through importModel). */
export interface GraphModel extends ModelBase {
  readonly kind: 'graph';
  readonly graph: GraphDescription;
  readonly arch: GraphArch;
  readonly T: number;
  /** image graphs with one square channel: its side; else null */
  readonly size: number | null;
  getRun(): GraphRun;
  setRun(partial: GraphRunInput): this;
  /** Runs one input [C][H][W] (repeated every step) or [T][C][H][W]. */
  run(input: Floats, opts?: GraphRunOptions): GraphResult;
  /** logits / mean readouts. */
  classify(input: Floats, opts?: GraphRunOptions): GraphClassifyResult;
  /** image graphs: the hole (default the centre 8 x 8) set to -1. */
  inpaint(img: Floats, opts?: GraphRunOptions & { hole?: Bytes }): GraphImageResult;
  /** graphs with a latent node: from the prior. */
  generate(opts?: GraphRunOptions & { seed?: number }): GraphImageResult & { seed: number };
  getChoices(): Int32Array;
  setChoices(v: Int32Array | number[] | null): this;
  nodeOutput(i: number, g?: number): Float32Array;
  nodeSpikes(i: number, g?: number): number;
  nodeSpikes(): { g: number; i: number; op: GraphOp; neuron: GraphNeuron; spikes: number }[];
  getParam(i: number, what: GraphParam, g?: number): Float32Array;
  setParam(i: number, what: GraphParam, values: Floats, g?: number): this;
  getMask(i: number, g?: number): Uint8Array;
  setMask(i: number, mask: Bytes, g?: number): this;
  setConductances(i: number, gpos: Floats, gneg: Floats, g?: number): this;
  /** No device-effect keys, step mode or ONNX export on a graph: each throws a PrimeError. */
  getDeviceOptions(): never;
  begin(input?: unknown): never;
  step(): never;
  result(): never;
  exportOnnx(T?: number): never;
  classifyBatch(frames: Floats[], opts?: unknown): never;
  layerState(layer: number, what?: LayerStateKind): never;
  tiling(): never;
  totalArrays(): never;
  array(i: number): never;
  getWeights(layer: number, kept?: boolean): never;
  importNpz(bytes: Bytes): never;
  getParams(i: number): never;
  latentUniforms(opts?: RunOptions): never;
  getInference(): never;
  setInference(next: number): never;
  irdropArrays(layer: number): never;
  irdropMap(layer: number, array?: number, input?: Floats | null): never;
}

/** A model of any network: narrow it by `kind`. */
export type Model = ClassifierModel | InpainterModel | GraphModel;
/** @deprecated the inpainter is the one model object now: InpainterModel. */
export type Inpainter = InpainterModel;

/** The API object loadPrime returns. */
export interface Prime {
  /** 'wasm-simd128' or 'scalar' */
  readonly simd: string;
  /** The version of the wasm module (equal to VERSION). */
  readonly version: string;
  readonly abi: Abi;
  readonly PrimeError: typeof PrimeError;
  defaultDevice(): Device;
  /** Every device option key with its help and defaults. */
  deviceOptions(): DeviceOption[];
  defaultRun(): Run;
  defaultEventParams(): EventParams;
  /** The model of any model file (classifier, inpainter or layer graph, version 1 or 2); throws PrimeError for a bad file. */
  load(bytes: Bytes): Model;
  /** A classifier from model file bytes (refuses other networks); throws PrimeError for a bad file. */
  loadModel(bytes: Bytes): ClassifierModel;
  /** A model from a PyTorch .pt/.pth or NumPy .npz/.npy checkpoint in a known key layout
   * (docs/model-format.md, "Importing"; docs/graph.md, "Import"): a layer graph for the authors'
   * FSVAE and the Fashion CNN, else a classifier; throws PrimeError naming the bad entry. */
  importModel(bytes: Bytes): ClassifierModel | GraphModel;
  /** PNG/JPEG/BMP/GIF bytes to a w * h Float32Array in [0, 1]. */
  decodeImage(bytes: Bytes, w?: number, h?: number, invert?: boolean): Float32Array;
  eventsFromImage(img: Floats, w: number, h: number, params?: Partial<EventParams>): Events;
  parseNmnist(bytes: Bytes): Events;
  /** T frames [T][2][size][size] of counts. */
  binEvents(ev: Events, T: number, size?: number): Float32Array;
  /** Image -> synthetic events -> T frames of 2 x 34 x 34. */
  framesFromImage(img: Floats, w: number, h: number, T?: number, seed?: number): Float32Array;
  memoryBytes(): number;
  /** @deprecated use load(bytes): an inpainting model (refuses other networks). */
  loadInpainter(bytes: Bytes): InpainterModel;
}
