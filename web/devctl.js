// devctl.js - a control for every device field of P.deviceOptions() (wasm/prime.js,
// docs/device.md) that the settings panel has no slider for: read-noise models,
// programming error, relaxation, IR drop, ADC / DAC errors, energy constants.
// Built from the list the core gives, so a field added there appears here with
// its help and unit and no page edit; the page adds a one-line explanation for
// the fields it knows. Each group is shown only on the tabs it acts on, and a
// "Paper's assumptions" button applies the core's `preset=paper`.
// State: a {key: text} of the fields that differ from the model's own values
// (sent with every request as settings.options; worker.js applies them).

const $ = (id) => document.getElementById(id);

/* Fields that have their own control in index.html (or are not a setting). */
export const OWN = new Set(['chip_seed', 'read_noise', 'prog_noise', 'g_off', 'stuck_on', 'stuck_off', 'adc_bits', 'preset']);

/* Groups by key; the first that matches takes the key. tabs: where it acts. */
export const GROUPS = [
  { id: 'read', name: 'Read-noise model', re: /^(read_|noise_mode$)/, tabs: 'classify batch inpaint' },
  { id: 'prog', name: 'Forming and programming', re: /^(prog_|g_)/, tabs: 'classify batch crossbar' },
  { id: 'relax', name: 'Relaxation after programming', re: /^(relax_|t_read$|drift_)/, tabs: 'classify batch inpaint' },
  { id: 'ir', name: 'IR drop (wire resistance)', re: /^(r_|ir_)/, tabs: 'classify batch crossbar inpaint' },
  { id: 'conv', name: 'Converters (ADC, DAC)', re: /^(adc_|dac_|v_read$)/, tabs: 'classify batch inpaint' },
  { id: 'energy', name: 'Energy per operation', re: /^e_/, tabs: 'classify batch inpaint' },
  { id: 'other', name: 'Other device fields', re: /./, tabs: 'classify batch' },
];
export const groupOf = (key) => GROUPS.find((g) => g.re.test(key));
export const TABS_OF = (key) => groupOf(key).tabs.split(' ');

/* What a known field does, in a line (the unit comes from the core's help). */
const EXPLAIN = {
  read_model: 'How read noise \u03b7 enters: on each conductance G(1 + \u03b7N) (ours), on each weight w(1 + \u03b7N) (the paper), additive G + \u03c3N, or a measured \u03c3(G).',
  read_sigma: 'Spread of the additive read-noise model.',
  read_scale: 'Multiplies the measured \u03c3(G) of the read-noise model.',
  read_preset: 'Which measured \u03c3(G) fit the measured read-noise model uses (Wan et al. 2022 RRAM, after 1 s, 1 day, 2 days).',
  read_poly: 'Your own \u03c3(G) for the measured read-noise model, as polynomial coefficients.',
  read_g_ref: 'Reference conductance of the read polynomial.',
  read_table: 'Your own \u03c3(G) for the measured read-noise model, as a table.',
  noise_mode: 'Read noise summed per column (exact and fast) or drawn per cell (the reference).',
  prog_model: 'How the programming error of each cell is drawn (as for read noise); fixed until the next chip.',
  prog_eta: 'Relative programming error (conductance and weight models).',
  prog_sigma: 'Spread of the additive programming error.',
  prog_scale: 'Multiplies the measured \u03c3(G) of the programming error.',
  prog_clip: 'Programming errors are clipped at this many standard deviations.',
  prog_preset: 'Which measured \u03c3(G) fit the programming error uses.',
  prog_poly: 'Your own \u03c3(G) of the programming error, as polynomial coefficients.',
  prog_g_ref: 'Reference conductance of the programming polynomial.',
  prog_table: 'Your own \u03c3(G) of the programming error, as a table.',
  prog_cells: 'Which cells the programming error hits: the reset (pruned) ones or all.',
  g_dist: 'Distribution of a freshly formed cell.',
  g_mean: 'Mean conductance of a formed cell.',
  g_sd: 'Spread of a formed cell (the weight G+ \u2212 G\u2212 has \u221a2 times it).',
  g_off_sd: 'Spread of the off-state residual of a pruned cell.',
  g_max: 'Largest conductance a cell reaches (stuck-at-on cells, top of the Crossbar colour scale).',
  relax_model: 'Conductances drift after programming: none, the CMO/HfOx log-time fit, or the Wan et al. 2022 fits.',
  t_read: 'Time between programming and reading; later reads see more drift (e.g. 1h, 1d).',
  drift_scale: 'Multiplies the drift of the relaxation fit.',
  r_row: 'Wire resistance between two cells of a row; with r_col it makes the IR drop (see the Crossbar map).',
  r_col: 'Wire resistance between two cells of a column.',
  r_drv: 'Resistance of the row driver.',
  r_tia: 'Resistance of the column sense amplifier input.',
  ir_method: 'The fast form of the IR drop used on every read.',
  ir_tile: 'Physical array size of the wire model.',
  adc_fs: 'ADC full scale, relative to the largest column current.',
  adc_offset: 'Offset of each ADC, drawn per chip.',
  adc_gain: 'Gain error of each ADC, drawn per chip.',
  adc_inl: 'Shape of the ADC integral non-linearity.',
  adc_inl_lsb: 'Size of the ADC integral non-linearity.',
  adc_inl_periods: 'Periods of a sine-shaped ADC non-linearity.',
  dac_bits: 'Resolution of the row drivers (DACs); 0 = ideal.',
  dac_offset: 'Offset of each DAC, drawn per chip.',
  dac_gain: 'Gain error of each DAC, drawn per chip.',
  dac_inl: 'Shape of the DAC integral non-linearity.',
  dac_inl_lsb: 'Size of the DAC integral non-linearity.',
  dac_inl_periods: 'Periods of a sine-shaped DAC non-linearity.',
  v_read: 'Read voltage on a driven row (the IR-drop map is in volts of it).',
  e_cell_pj: 'Energy of one cell read (energy figure and breakdown).',
  e_adc_fom_fj: 'ADC energy per conversion step (x 2^bits).',
  e_dac_pj: 'Energy of one row drive.',
  e_neuron_pj: 'Energy of one neuron update.',
  e_mac_pj: 'Energy of one multiply-add of the digital baseline.',
};
/* Choices of the fields the page knows (others take text: the core's error names the choices). */
const CHOICES = {
  read_model: ['conductance', 'weight', 'additive', 'measured'], prog_model: ['conductance', 'weight', 'additive', 'measured'],
  read_preset: ['wan2022', 'wan2022_1s', 'wan2022_1d', 'wan2022_2d'], prog_preset: ['wan2022', 'wan2022_1s', 'wan2022_1d', 'wan2022_2d'],
  relax_model: ['none', 'cmo', 'wan2022'], ir_method: ['first_order', 'lines'], noise_mode: ['column', 'cell'],
  g_dist: ['normal', 'lognormal'], prog_cells: ['reset', 'all'], adc_inl: ['none', 'bow', 'sine'], dac_inl: ['none', 'bow', 'sine'],
};
const UNIT = (help) => help.replace(/^uS\b/, '\u00b5S').replace(/\buS\b/g, '\u00b5S');

/* Builds the controls into #devopts. list: P.deviceOptions(); hooks: {base ()
 * (the model's own values, {key: text}), state () ({key: text} changed), set
 * (key, text | null) -> Promise (rejects with the core's message), preset
 * (name) -> Promise}. Returns {show(tab), refresh()}. */
export function initDeviceControls(list, hooks) {
  const box = $('devopts');
  box.innerHTML = '';
  const fields = list.filter((o) => !OWN.has(o.key));
  const inputs = new Map();
  for (const g of GROUPS) {
    const mine = fields.filter((o) => groupOf(o.key) === g);
    if (!mine.length) continue;
    const d = document.createElement('details');
    d.className = 'devgroup'; d.dataset.tabs = g.tabs; d.id = 'devgroup-' + g.id;
    d.innerHTML = `<summary>${g.name} <span class="muted small">(${mine.length})</span></summary>`;
    for (const o of mine) {
      const id = 'dev-' + o.key, def = 'def-' + id;
      const wrap = document.createElement('div');
      wrap.className = 'ctl devctl'; wrap.dataset.tabs = g.tabs;
      const lab = document.createElement('label'); lab.htmlFor = id; lab.textContent = o.key;
      let el;
      if (CHOICES[o.key]) {
        el = document.createElement('select');
        for (const c of CHOICES[o.key]) { const op = document.createElement('option'); op.textContent = c; el.append(op); }
      } else {
        el = document.createElement('input'); el.type = 'text'; el.size = 10; el.spellcheck = false;
        if (/^-?[\d.]+(e-?\d+)?$/i.test(o.default)) el.inputMode = 'decimal';
      }
      el.id = id; el.setAttribute('aria-describedby', def);
      const p = document.createElement('p'); p.className = 'def'; p.id = def;
      const tabs = g.tabs.split(' ').map((t) => ({ classify: 'Classify', batch: 'Batch', crossbar: 'Crossbar', inpaint: 'Inpainting' }[t]));
      p.textContent = `${EXPLAIN[o.key] ? EXPLAIN[o.key] + ' ' : ''}Unit / meaning: ${UNIT(o.help)}. Default ${o.default || '-'}. Acts on ${tabs.join(', ')}.`;
      const err = document.createElement('p'); err.className = 'deverr small'; err.hidden = true; err.setAttribute('role', 'alert');
      el.addEventListener('change', async () => {
        const v = el.value.trim(), base = hooks.base()[o.key];
        try {
          await hooks.set(o.key, v === '' || v === base ? null : v);
          err.hidden = true; el.removeAttribute('aria-invalid');
        } catch (e) {
          err.textContent = e.message; err.hidden = false; el.setAttribute('aria-invalid', 'true');
        }
      });
      wrap.append(lab, el, p, err);
      d.append(wrap);
      inputs.set(o.key, el);
    }
    box.append(d);
  }
  const presetBtn = $('preset-paper');
  const po = list.find((o) => o.key === 'preset');
  presetBtn.hidden = !po; $('def-preset-paper').hidden = !po;
  const what = po && (/^paper: [^(]*\((.*)\); off:/.exec(po.help) || [null, UNIT(po.help)])[1];
  if (po) $('def-preset-paper').textContent = `Sets what the PRIME paper assumes, in one click (the core's preset=paper): ${what}. ` +
    'Read noise \u03b7 stays as set (the paper: robust over 0.02-0.2). Acts on Classify, Batch, Inpainting.';
  presetBtn.onclick = async () => {
    presetBtn.disabled = true;
    try { await hooks.preset('paper'); } finally { presetBtn.disabled = false; }
  };
  return {
    /* Puts the current values into the controls; the one being edited keeps its text unless `all`. */
    refresh(all = false) {
      const base = hooks.base(), st = hooks.state();
      for (const [k, el] of inputs) {
        const v = k in st ? st[k] : base[k] ?? '';
        el.closest('.devctl').classList.toggle('changed', k in st);
        if (!all && el === document.activeElement) continue;
        if (el.tagName === 'SELECT' && ![...el.options].some((op) => op.value === v)) {
          const op = document.createElement('option'); op.textContent = v; el.append(op);
        }
        el.value = v;
      }
      for (const g of box.querySelectorAll('.devgroup')) {
        const n = [...g.querySelectorAll('.devctl.changed')].length;
        g.querySelector('summary span').textContent = `(${g.querySelectorAll('.devctl').length}${n ? `, ${n} changed` : ''})`;
      }
    },
  };
}
