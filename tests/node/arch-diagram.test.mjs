// arch-diagram.test.mjs - docs/img/architecture.svg (docs/architecture.md) is
// what scripts/arch-diagram.mjs draws: rerun it into build/ and compare bytes,
// and every source file the picture names exists.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('docs/img/architecture.svg is the output of scripts/arch-diagram.mjs, and names only files that exist', () => {
  const out = path.join(root, 'build', 'architecture.svg');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync(process.execPath, [path.join(root, 'scripts/arch-diagram.mjs'), out]);
  const svg = fs.readFileSync(out, 'utf8');
  assert.equal(svg, fs.readFileSync(path.join(root, 'docs/img/architecture.svg'), 'utf8'), 'rerun: node scripts/arch-diagram.mjs');
  const named = [...svg.matchAll(/(?:src|wasm|web)\/[\w/.-]+\.(?:c|h|js|ts|wasm)/g)].map((m) => m[0]);
  assert.ok(named.length > 20, `${named.length} files named`);
  for (const f of new Set(named)) assert.ok(fs.existsSync(path.join(root, f)), `${f} exists`);
});
