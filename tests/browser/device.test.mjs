// device.test.mjs - the device effects of the settings panel (web/devctl.js,
// web/devpanel.js) and the Crossbar view's IR-drop map (web/irmap.js), against
// the core's option list (P.deviceOptions(), wasm/prime.js): a control per
// field with its definition and unit, shown on the tabs it acts on, a bad value
// refused with the core's message, the paper preset in one click and back,
// preset= and dev= in the URL, and the voltage map of an array with wire resistance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, skip as noBrowser, setUp, tearDown, open, waitRuns, runs, lab, settled } from './harness.mjs';

// the device-options API of the core (P.deviceOptions, m.setDevice by key, m.irdropMap: docs/device.md)
const skip = noBrowser || (!fs.readFileSync(path.join(ROOT, 'wasm/prime.js'), 'utf8').includes('deviceOptions') &&
  'wasm/prime.js has no device-options API (P.deviceOptions)');

before(setUp);
after(tearDown);

const options = (page) => page.evaluate(async () => (await (await import('/wasm/prime.js')).loadPrime()).deviceOptions());
const logits = async (page) => (await settled(page)).result.logits;
/* Sets a field and waits until the page has taken it (S.dev); returns the run count before. */
async function setField(page, key, value) {
  const n = await runs(page);
  const el = page.locator('#dev-' + key);
  await el.evaluate((e) => { e.closest('details').open = true; });
  if (await el.evaluate((e) => e.tagName) === 'SELECT') await el.selectOption(String(value));
  else { await el.fill(String(value)); await el.dispatchEvent('change'); }
  await page.waitForFunction(([k, v]) => window.primeLab.snapshot().settings.dev[k] === v, [key, String(value)], { timeout: 60000 });
  return n;
}

test('a control for every device field of the core, with its definition and unit, on the tabs it acts on', { skip, timeout: 120000 }, async () => {
  const { page, errors } = await open('?sample=3');
  const list = await options(page);
  const own = ['chip_seed', 'read_noise', 'prog_noise', 'g_off', 'stuck_on', 'stuck_off', 'adc_bits', 'preset'];
  const want = list.map((o) => o.key).filter((k) => !own.includes(k));
  assert.ok(want.length >= 40, `the core lists ${want.length} fields`);
  for (const k of ['read_model', 't_read', 'relax_model', 'r_row', 'r_col', 'adc_offset', 'adc_inl', 'dac_gain', 'prog_model']) assert.ok(want.includes(k), k);
  const ids = await page.$$eval('#devopts [id^="dev-"]', (els) => els.map((e) => e.id.slice(4)));
  assert.deepEqual(ids.sort(), want.slice().sort(), 'one control per field');
  // every definition: the core's help (unit) and the tabs; the known fields also say what they do
  await page.$$eval('#devopts details', (ds) => ds.forEach((d) => { d.open = true; }));
  for (const o of list.filter((x) => want.includes(x.key))) {
    const def = await page.evaluate((k) => {
      const el = document.getElementById('dev-' + k), d = document.getElementById(el.getAttribute('aria-describedby'));
      return d.offsetParent !== null ? d.textContent : null;
    }, o.key);
    assert.ok(def && def.includes('Unit / meaning: ') && /Acts on (Classify|Batch)/.test(def), `${o.key}: ${def}`);
    assert.ok(def.includes(`Default ${o.default || '-'}`), `${o.key} default`);
  }
  assert.match(await page.textContent('#def-dev-r_row'), /Wire resistance .* ohm per row segment/);
  assert.match(await page.textContent('#def-dev-read_model'), /w\(1 \+ ηN\) \(the paper\)/);
  assert.doesNotMatch(await page.evaluate(() => document.body.innerText), /\buS\b/, 'no "uS" (µS)');
  // only the groups that act on the tab
  const shown = () => page.$$eval('#devopts .devgroup', (gs) => gs.filter((g) => g.offsetParent !== null).map((g) => g.id.slice(9)));
  assert.deepEqual(await shown(), ['read', 'prog', 'relax', 'ir', 'conv', 'energy'].filter((g) => ids.length && g));
  await page.click('#tab-crossbar');
  assert.deepEqual(await shown(), ['prog', 'ir']);
  assert.equal(await page.isVisible('#preset-paper'), false, 'the preset acts on reads: not on Crossbar');
  await page.click('#tab-inpaint');
  assert.deepEqual(await shown(), ['read', 'relax', 'ir', 'conv', 'energy']);
  await page.click('#tab-classify');
  assert.deepEqual(errors, []);
  await page.close();
});

test('a field changes the run, a bad value gets the core\'s message and changes nothing, the paper preset and back', { skip, timeout: 120000 }, async () => {
  const { page, errors } = await open('?sample=3');
  const base = await logits(page);
  // wire resistance: the IR drop lowers the column currents, so the outputs move
  let n = await setField(page, 'r_row', 2);
  await waitRuns(page, n + 1);
  n = await setField(page, 'r_col', 2);
  await waitRuns(page, n + 1);
  const s = await settled(page);
  assert.deepEqual(s.settings.dev, { r_row: '2', r_col: '2' });
  assert.notDeepEqual(s.result.logits, base, 'IR drop changes the outputs');
  assert.equal(await page.locator('#devopts .devctl.changed').count(), 2);
  // out of range: refused with the core's message naming the key, nothing changes
  await page.fill('#dev-r_row', '-1'); await page.dispatchEvent('#dev-r_row', 'change');
  await page.waitForFunction(() => document.querySelector('#dev-r_row').getAttribute('aria-invalid') === 'true');
  assert.match(await page.locator('#dev-r_row ~ .deverr').textContent(), /r_row/);
  assert.deepEqual((await settled(page)).settings.dev, { r_row: '2', r_col: '2' });
  // the paper's assumptions in one click: the weight noise model, 14-bit ADC, 16-bit DAC, no other effect
  n = await runs(page);
  await page.click('#preset-paper');
  await waitRuns(page, n + 1);
  const p = await settled(page);
  assert.equal(p.settings.dev.read_model, 'weight');
  assert.equal(p.settings.dev.r_row, undefined, 'no IR drop in the paper preset');
  assert.equal(p.settings.adc, 14);
  assert.match(await page.textContent('#presetnote'), /Paper's assumptions: .*read_model weight/);
  assert.equal(await page.inputValue('#dev-read_model'), 'weight');
  // with read noise the two models differ: the paper's (on each weight) and ours (on each conductance)
  n = await runs(page);
  await page.fill('#noise', '0.2'); await page.dispatchEvent('#noise', 'input');
  await waitRuns(page, n + 1);
  const paper = await logits(page);
  n = await runs(page);
  await page.click('#preset-ours');
  await waitRuns(page, n + 1);
  const ours = await settled(page);
  assert.deepEqual(ours.settings.dev, {});
  assert.equal(ours.settings.noise, 0, 'the model\'s own device: read noise back to 0');
  assert.deepEqual(ours.result.logits, base, 'the model\'s own device gives the first outputs again');
  n = await runs(page);
  await page.fill('#noise', '0.2'); await page.dispatchEvent('#noise', 'input');
  await waitRuns(page, n + 1);
  assert.notDeepEqual(await logits(page), paper, 'read noise 0.2 on each weight differs from 0.2 on each conductance');
  // the link carries the fields
  await page.click('#preset-paper');
  await settled(page);
  await page.click('#copylink');
  const link = await page.inputValue('#linkout');
  assert.match(decodeURIComponent(link), /dev=[^&]*read_model=weight/);
  const again = await open(link.replace(/^.*\/web\//, ''));
  const a = await settled(again.page);
  assert.equal(a.settings.dev.read_model, 'weight');
  assert.equal(a.settings.noise, 0.2);
  assert.deepEqual(a.result.logits, await logits(page), 'the link gives the same run');
  await again.page.close();
  assert.deepEqual(errors, []);
  await page.close();
});

test('preset=paper in the URL applies before the first run; a bad dev= is refused with a message', { skip, timeout: 60000 }, async () => {
  const { page, errors } = await open('?sample=3&preset=paper&noise=0.1');
  const s = await lab(page);
  assert.equal(s.runs, 1);
  assert.equal(s.settings.dev.read_model, 'weight');
  assert.equal(s.settings.noise, 0.1);
  const bad = await open('?sample=3&dev=r_row=-5');
  assert.deepEqual((await lab(bad.page)).settings.dev, {});
  assert.match(await bad.page.textContent('#presetnote'), /device settings of the link were not applied: .*r_row/);
  assert.equal(await bad.page.isVisible('#presetnote'), true);
  await bad.page.close();
  assert.deepEqual(errors, []);
  await page.close();
});

test('crossbar: the IR-drop voltage map of an array, with wire resistance; without it, why not', { skip, timeout: 240000 }, async () => {
  const { page, errors } = await open('?task=crossbar');
  assert.equal(await page.isVisible('#xbarshow'), true);
  await page.selectOption('#xbarshow', 'ir');
  await page.waitForFunction(() => /No IR-drop map/.test(document.getElementById('xbarnote').textContent), null, { timeout: 60000 });
  assert.match(await page.textContent('#xbarnote'), /needs wire resistance: set r_row and r_col/);
  await page.$$eval('#devopts details', (ds) => ds.forEach((d) => { d.open = true; }));
  await setField(page, 'r_row', 1);
  await setField(page, 'r_col', 1);
  await page.waitForFunction(() => /Lowest voltage across a cell/.test(document.getElementById('xbarnote').textContent), null, { timeout: 60000 });
  const m = (await lab(page)).irmap;
  assert.equal(m.i, 0);
  assert.ok(m.rows > 0 && m.cols > 0);
  assert.ok(m.max <= m.vRead + 1e-9 && m.min < m.vRead && m.min > 0.5 * m.vRead, JSON.stringify(m));
  assert.match(await page.textContent('#xbarnote'), /Column currents \d+\.\d+% below the ideal array on average/);
  assert.equal(await page.isVisible('#xbarhist'), false, 'the conductance histogram is not the map\'s');
  // another array, more resistance: the drop grows
  await page.selectOption('#arraysel', '1');
  await page.waitForFunction(() => window.primeLab.snapshot().irmap && window.primeLab.snapshot().irmap.i === 1, null, { timeout: 60000 });
  const m1 = (await lab(page)).irmap;
  await setField(page, 'r_row', 5);
  await page.waitForFunction((x) => window.primeLab.snapshot().irmap.min < x, m1.min, { timeout: 60000 });
  await page.hover('#xbar', { position: { x: 60, y: 20 } });
  assert.match(await page.textContent('#xbarhover'), /array 1, row \d+, column \d+: 0\.\d{4} V across the cell/);
  await page.selectOption('#xbarshow', 'g');
  await page.waitForFunction(() => window.primeLab.snapshot().irmap === null, null, { timeout: 60000 });
  assert.equal(await page.isVisible('#xbarhist'), true);
  assert.deepEqual(errors, []);
  await page.close();
});
