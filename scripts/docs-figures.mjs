// docs-figures.mjs - copies the figures of the last test run into docs/:
// build/docs-img/*.png -> docs/img/, and build/web-figures.md (load size and
// time to first result) between the "measured" markers of docs/web.md. Both
// are written by tests/browser/page.test.mjs; the test run itself never
// touches docs/. Run: make docs-figures (then review `git diff docs`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const img = path.join(root, 'build/docs-img');
const figures = path.join(root, 'build/web-figures.md');
if (!fs.existsSync(img) && !fs.existsSync(figures)) {
  console.error('no figures in build/ (build/docs-img/, build/web-figures.md): run ./build.sh test first');
  process.exit(1);
}
let n = 0;
for (const f of fs.existsSync(img) ? fs.readdirSync(img).filter((f) => f.endsWith('.png')).sort() : []) {
  fs.copyFileSync(path.join(img, f), path.join(root, 'docs/img', f));
  console.log(`docs/img/${f}`);
  n++;
}
if (fs.existsSync(figures)) {
  const doc = path.join(root, 'docs/web.md');
  const re = /<!-- measured:start[\s\S]*?<!-- measured:end -->/;
  const cur = fs.readFileSync(doc, 'utf8');
  if (!re.test(cur)) { console.error('docs/web.md has no <!-- measured:start --> ... <!-- measured:end --> block'); process.exit(1); }
  const text = fs.readFileSync(figures, 'utf8').trim();
  fs.writeFileSync(doc, cur.replace(re, () => text));
  console.log('docs/web.md (measured block)');
  n++;
}
console.log(`${n} files updated: review \`git diff docs\` before committing`);
