// compare.js - the current input side by side (docs/web.md, "What it shows"):
// on this chip (memristor: the page's device settings) and in software (the
// same masks and formed conductances, read exactly), each with early stop on
// and off; a table and the confidence of both over every timestep.
// The runs come from worker.js (classify: result.compare).

import { linePlot } from './plots.js';

const css = (name, fallback) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

/* The digital energy of a software run: the digital baseline (all T steps)
 * for the steps it ran (the baseline is linear in the steps, docs/device.md). */
export const digitalPj = (x) => x.baselinePj * x.stepsUsed / x.T;

/* el: the box for the table; canvas: the confidence plot. r: the classify
 * reply; o: {names, fmtEnergy, threshold, stop (early stop of this run)}. */
export function drawCompare(el, canvas, r, o) {
  const c = r.compare;
  if (!c || !c.chip || !c.software || !c.chip.on || !c.software.off) { el.hidden = true; canvas.hidden = true; return; }
  const name = (l) => o.names[l] ?? String(l);
  const cell = (x, sw, mine) => `<td${mine ? ' class="mine"' : ''}>${name(x.label)} (${(100 * x.conf).toFixed(0)}%)` +
    `<br>${x.stepsUsed} of ${x.T} steps<br>${sw ? 'digital ' + o.fmtEnergy(digitalPj(x)) : o.fmtEnergy(x.energyPj)}` +
    `${mine ? '<br><b>this run</b>' : ''}</td>`;
  const agree = c.chip[c.stop ? 'on' : 'off'].label === c.software[c.stop ? 'on' : 'off'].label;
  const on = c.chip.on, off = c.chip.off;
  const saved = off.stepsUsed - on.stepsUsed, esaved = off.energyPj - on.energyPj;
  el.hidden = false;
  el.innerHTML = '<table><caption class="muted">This input, side by side</caption><thead><tr><th scope="col">run</th>' +
    '<th scope="col">early stop on</th><th scope="col">early stop off</th></tr></thead><tbody>' +
    `<tr><th scope="row">memristor chip (your settings)</th>${cell(c.chip.on, false, c.stop)}${cell(c.chip.off, false, !c.stop)}</tr>` +
    `<tr><th scope="row">software (exact weights)</th>${cell(c.software.on, true)}${cell(c.software.off, true)}</tr>` +
    '</tbody></table>' +
    `<p class="muted">Early stop on this chip: ${saved > 0 ? `${saved} of ${off.T} steps and ${o.fmtEnergy(esaved)} saved` : 'no step saved'}` +
    `${on.label === off.label ? ', same label' : ', a different label'}. The chip ${agree ? 'agrees' : 'disagrees'} with software. ` +
    'Software: the same masks and the chip\'s formed conductances read exactly (no read noise, ideal ADC and DAC, none of your ' +
    'forming changes); its energy is the digital baseline for the steps it ran.</p>';
  canvas.hidden = false;
  const T = off.T, pts = (x) => Array.from(x.confidence, (v, t) => [t + 1, v]);
  const c1 = css('--accent2', '#2f6fd6'), c2 = css('--accent', '#1f8a5b'), warn = css('--warn', '#955300');
  const v = [];
  const sw = c.software.on.stepsUsed;
  if (o.stop && on.stepsUsed < T) v.push({ x: on.stepsUsed, label: sw === on.stepsUsed ? `both stop at ${sw}` : `chip stops at ${on.stepsUsed}`, color: c1 });
  if (o.stop && sw < T && sw !== on.stepsUsed) v.push({ x: sw, label: `software at ${sw}`, color: c2 });
  linePlot(canvas, {
    x: [0.5, T + 0.5], y: [0, 1], xInt: true, xLabel: 'timestep (early stop off: every step)', yLabel: 'max probability', aspect: 0.45,
    series: [{ points: pts(off), color: c1, label: 'memristor chip', r: 2.5 }, { points: pts(c.software.off), color: c2, dash: [6, 4], label: 'software', r: 2.5 }],
    hLines: o.stop ? [{ y: o.threshold, label: `threshold ${o.threshold.toFixed(2)}`, color: warn }] : [], vLines: v, legend: true,
  });
}
