// package.test.mjs - the JS API as a package: one version number (package.json,
// src/prime.h, prime.js, prime.wasm), the ABI table read and checked at load,
// the type declarations (tsc on types-check.ts, and every declared member
// against the runtime objects), and `npm pack` installed in a fresh folder and
// imported by its package name.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as api from '../../wasm/prime.js';

const { loadPrime, PrimeError, VERSION, abiMismatches, ABI_EXPECTED } = api;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const TSC_FLAGS = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
  '--lib', 'es2022,dom'];
const P = await loadPrime();
const wasmBytes = fs.readFileSync(path.join(root, 'wasm/prime.wasm'));
const modelBytes = fs.readFileSync(path.join(root, 'models/nmnist-digits.prime'));

/** A 28x28 stroke (a rough 7) in [0, 1]: the input of the classify checks. */
function seven() {
  const img = new Float32Array(28 * 28);
  for (let x = 6; x < 22; x++) img[6 * 28 + x] = img[7 * 28 + x] = 1;
  for (let y = 8; y < 23; y++) { const x = 21 - Math.round((y - 8) * 0.6); img[y * 28 + x] = img[y * 28 + x - 1] = 1; }
  return img;
}

/** Runs a command, returning stdout; on failure the error carries its output. */
function run(cmd, args, cwd) {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout}\n${e.stderr}`);
  }
}

test('one version: package.json, src/prime.h, prime.js and prime.wasm agree', () => {
  const h = fs.readFileSync(path.join(root, 'src/prime.h'), 'utf8');
  const part = (k) => Number(h.match(new RegExp(`#define PRIME_VERSION_${k} (\\d+)`))[1]);
  const header = `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  assert.equal(pkg.version, header, 'package.json version vs src/prime.h');
  assert.equal(VERSION, header, 'prime.js VERSION vs src/prime.h');
  assert.equal(P.version, header, 'pw_version() of prime.wasm vs src/prime.h');
  assert.equal([P.abi.version_major, P.abi.version_minor, P.abi.version_patch].join('.'), header);
});

/** The wasm bytes with every occurrence of `from` replaced by `to` (same length). */
function patched(from, to) {
  assert.equal(from.length, to.length);
  const b = Buffer.from(wasmBytes), f = Buffer.from(from);
  let n = 0;
  for (let i = b.indexOf(f); i >= 0; i = b.indexOf(f, i + 1)) b.write(to, i, 'latin1'), n++;
  assert.ok(n > 0, `"${from}" not found in prime.wasm`);
  return new Uint8Array(b);
}

test('a wasm module of another version is refused at load with a PrimeError', async () => {
  await assert.rejects(loadPrime({ wasmBytes: patched(`${VERSION}\0`, '9.9.9\0') }),
    (e) => e instanceof PrimeError && /prime\.wasm is version 9\.9\.9, prime\.js is version/.test(e.message));
});

test('ABI: the module table agrees with prime.js; a changed or missing entry is named', async () => {
  assert.deepEqual(abiMismatches(P.abi), []);
  assert.ok(Object.isFrozen(P.abi));
  // the values prime.js decodes with (checked against C: src/wasm_abi.h)
  assert.equal(P.abi.event_size, 12);
  assert.equal(P.abi.res_doubles, 192);
  assert.equal(P.abi.vae_res_doubles, 72);
  assert.equal(P.abi.array_size, 512);
  for (const [k, v] of Object.entries(ABI_EXPECTED)) assert.equal(P.abi[k], v, k);
  assert.deepEqual(abiMismatches({ ...P.abi, dev_fields: 22 }), ['dev_fields = 22 in the module, 21 in prime.js']);
  const { res_spikes, ...less } = P.abi;
  assert.equal(res_spikes, 176);
  assert.deepEqual(abiMismatches(less), ['res_spikes missing from the module']);
  assert.deepEqual(abiMismatches(P.abi, { ...ABI_EXPECTED, arch_head: 8 }), ['arch_head = 7 in the module, 8 in prime.js']);
  // end to end: a module whose table names no dev_fields is refused at load
  await assert.rejects(loadPrime({ wasmBytes: patched('dev_fields,', 'dev_fieldz,') }),
    (e) => e instanceof PrimeError && /disagree on the ABI.*dev_fields missing/.test(e.message));
});

test('tsc --noEmit: types-check.ts (README / architecture usage, misuse rejected) against prime.d.ts', () => {
  run(process.execPath, [tsc, ...TSC_FLAGS, path.join(root, 'tests/node/types-check.ts')], root);
});

/** Member names of every interface (with those it extends) and the exported names of a .d.ts. */
function declared(file) {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const own = {}, ext = {}, exported = new Set();
  for (const st of sf.statements) {
    const isExport = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
    if (ts.isInterfaceDeclaration(st)) {
      own[st.name.text] = st.members.map((m) => m.name.getText(sf));
      ext[st.name.text] = (st.heritageClauses || []).flatMap((h) => h.types.map((t) => t.expression.getText(sf)));
    } else if (isExport && (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st))) exported.add(st.name.text);
    else if (isExport && ts.isVariableStatement(st)) st.declarationList.declarations.forEach((d) => exported.add(d.name.text));
  }
  const members = (n) => [...own[n], ...ext[n].flatMap(members)];
  return { members: (n) => new Set(members(n)), exported };
}

test('every member declared in prime.d.ts exists at runtime, and every runtime member is declared', () => {
  const d = declared(path.join(root, 'wasm/prime.d.ts'));
  const same = (name, obj, extra = []) => {
    const keys = new Set([...Object.keys(obj), ...extra].filter((k) => !k.startsWith('_')));
    assert.deepEqual([...keys].sort(), [...d.members(name)].sort(), `${name}: runtime keys vs prime.d.ts`);
  };
  assert.deepEqual(Object.keys(api).sort(), [...d.exported].sort(), 'module exports');
  same('Prime', P);
  const m = P.loadModel(modelBytes);
  const methods = (o) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((k) => k !== 'constructor');
  same('ClassifierModel', m, methods(m));
  same('Arch', m.arch);
  same('ArchLayer', m.arch.layers[0]);
  same('Tiling', m.tiling()[0]);
  same('Device', m.getDevice());
  same('Run', m.getRun());
  same('EventParams', P.defaultEventParams());
  same('Events', P.eventsFromImage(seven(), 28, 28));
  const r = m.classify(P.framesFromImage(seven(), 28, 28, 10, 1));
  same('ClassifyResult', r);
  same('Counters', r.counters);
  m.free();
  const ip = P.load(fs.readFileSync(path.join(root, 'models/inpaint-mnist.pvae')));
  same('InpainterModel', ip, methods(ip));
  same('InpainterArch', ip.arch);
  same('InpainterRun', ip.getRun());
  same('InpainterLayer', ip.layers[0]);
  const img = new Float32Array(ip.size * ip.size).fill(-1);
  same('InpaintResult', ip.inpaint(img));
  same('GenerateResult', ip.generate({ seed: 3 }));
  const params = [ip.getParams(0), ip.getParams(P.abi.vae_latent_layer)]; // BN a, b; digital bias
  same('InpainterParams', Object.assign({}, ...params));
  ip.free();
  // a layer graph (the FSVAE of tests/make_graph_js_fixtures.py; torch makes it)
  const fix = graphFixtures();
  if (!fix) { console.log('# GraphModel members not checked: python3-torch is not installed'); return; }
  const g = P.importModel(fs.readFileSync(path.join(fix, 'fsvae.pt')));
  const own = new Set([...methods(g), ...Object.getOwnPropertyNames(Object.getPrototypeOf(Object.getPrototypeOf(g)))]);
  own.delete('constructor');
  same('GraphModel', g, [...own]);
  same('GraphDescription', g.graph);
  same('GraphArch', g.arch);
  same('GraphNode', g.graph.graphs[0][1]);
  same('GraphRun', g.getRun());
  const gr = g.inpaint(new Float32Array(1024).fill(-1));
  same('GraphImageResult', gr);
  same('Counters', (({ dacClipped, ...c }) => c)(gr.counters));
  g.free();
  const f = P.importModel(fs.readFileSync(path.join(fix, 'fashion.pt')));
  same('GraphClassifyResult', f.classify(new Float32Array(784)), ['choices']); // choices: graphs with a latent only
  f.free();
});

/** The checkpoints of tests/make_graph_js_fixtures.py in build/graph-js, or null without torch. */
function graphFixtures() {
  const dir = path.join(root, 'build', 'graph-js');
  try {
    execFileSync('/usr/bin/python3', ['tests/make_graph_js_fixtures.py', dir], { cwd: root, stdio: 'pipe' });
    return dir;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`python3-torch is needed (./build.sh setup installs it): ${e.message}`);
    return null;
  }
}

test('npm pack: the tarball holds what a consumer needs, installs offline and imports as prime-sim', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prime-pkg-'));
  try {
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', tmp], root));
    const files = info.files.map((f) => f.path).sort();
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'wasm/prime.js', 'wasm/prime-model.js', 'wasm/prime-device.js', 'wasm/prime-graph.js', 'wasm/prime.wasm',
      'wasm/prime.d.ts', 'models/nmnist-digits.prime']) assert.ok(files.includes(f), `${f} in the tarball`);
    assert.deepEqual(files.filter((f) => !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|wasm\/prime(\.(js|wasm|d\.ts)|-model\.js|-device\.js|-graph\.js)|models\/[\w-]+\.prime)$/.test(f)), [],
      'nothing else in the tarball');
    console.log(`# npm pack: ${files.length} files, ${info.size} bytes packed, ${info.unpackedSize} unpacked`);

    const app = path.join(tmp, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(tmp, info.filename)], app);
    fs.writeFileSync(path.join(app, 'main.mjs'), `
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPrime, VERSION } from 'prime-sim';
const P = await loadPrime();
const bytes = fs.readFileSync(fileURLToPath(import.meta.resolve('prime-sim/models/nmnist-digits.prime')));
const m = P.loadModel(bytes);
const img = new Float32Array(${JSON.stringify(Array.from(seven()))});
const r = m.classify(P.framesFromImage(img, 28, 28, 10, 1));
console.log(JSON.stringify({ version: VERSION, wasm: fs.existsSync(fileURLToPath(import.meta.resolve('prime-sim/prime.wasm'))),
  label: r.label, stepsUsed: r.stepsUsed, energyPj: r.energyPj, logits: Array.from(r.logits) }));
`);
    const got = JSON.parse(run(process.execPath, ['main.mjs'], app));
    const m = P.loadModel(modelBytes);
    const want = m.classify(P.framesFromImage(seven(), 28, 28, 10, 1));
    m.free();
    assert.equal(got.version, VERSION);
    assert.equal(got.wasm, true, 'prime-sim/prime.wasm resolves');
    assert.equal(got.label, want.label);
    assert.equal(got.stepsUsed, want.stepsUsed);
    assert.equal(got.energyPj, want.energyPj);
    assert.deepEqual(got.logits, Array.from(want.logits));
    // the types resolve through the package's "exports" too
    fs.writeFileSync(path.join(app, 'main.ts'), `import { loadPrime, type ClassifyResult } from 'prime-sim';
const P = await loadPrime();
declare const bytes: Uint8Array;
const r: ClassifyResult = P.loadModel(bytes).classify(new Float32Array(10 * 2 * 34 * 34));
export const label: number = r.label;
`);
    run(process.execPath, [tsc, ...TSC_FLAGS, 'main.ts'], app);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
