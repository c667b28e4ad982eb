// devpanel.js - the "Device effects" part of the settings (docs/web.md): the
// state of the device option keys (S.dev: {key: text} of the fields that differ
// from the model's own values), the controls of devctl.js, the "Paper's
// assumptions" preset, "This model's device", and the `dev=` / `preset=` URL
// parameters. Needs a core with P.deviceOptions(); without one the part stays hidden.

import { initDeviceControls, OWN, TABS_OF } from './devctl.js';

const $ = (id) => document.getElementById(id);

/* S.dev as the `dev` URL parameter (key=value;key=value) and back. */
export const deviceUrl = (dev) => Object.entries(dev).map(([k, v]) => `${k}=${v}`).join(';');
export function parseDeviceUrl(s) {
  const o = {};
  for (const part of String(s || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) o[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return o;
}

/* The page's own controls of device fields: S key -> getDevice() field. */
const FIELDS = { noise: 'readNoise', prog: 'progNoise', goff: 'gOff', adc: 'adcBits', stuckon: 'stuckOn', stuckoff: 'stuckOff' };

/* h: {call, S, setStatus, showControls, defaults () (the model's S values),
 * changed () (rerun what the device acts on)}. */
export function initDevice(h) {
  let options = null, ctl = null, base = {}, tab = 'classify', chain = Promise.resolve();

  function note(text) { $('presetnote').hidden = !text; $('presetnote').textContent = text || ''; }
  function refresh(all = true) { if (ctl) ctl.refresh(all); }

  /* A preset's answer: the page's sliders and S.dev follow the device. */
  function adoptPreset(r) {
    for (const [k, f] of Object.entries(FIELDS)) if (f in r.device) h.S[k] = r.device[f];
    h.S.dev = r.options;
  }
  async function preset(name) {
    const before = { ...h.S.dev, adc_bits: String(h.S.adc) };
    const r = await h.call('preset', { name, options: h.S.dev, own: [...OWN] });
    adoptPreset(r);
    h.showControls(); refresh();
    const now = { ...r.options, adc_bits: String(r.device.adcBits) };
    const moved = Object.keys(now).filter((k) => now[k] !== before[k]).map((k) => `${k} ${now[k]}`);
    note(`Paper's assumptions: ${moved.length ? moved.join(', ') : 'already in use'}; read noise \u03b7 stays ${h.S.noise.toFixed(2)} ` +
      '(each read gives every weight w(1 + \u03b7N), the paper\'s model; docs/device.md). "This model\'s device" goes back.');
    h.changed();
  }

  $('preset-ours').addEventListener('click', () => {
    const d = h.defaults();
    for (const k of Object.keys(FIELDS)) h.S[k] = d[k];
    h.S.dev = {};
    h.showControls(); refresh(); note('');
    h.changed();
  });

  function showTab(name) {
    tab = name;
    const fs = $('devfs');
    if (!ctl) { fs.hidden = true; return; }
    for (const el of fs.querySelectorAll('[data-tabs]')) el.hidden = !el.dataset.tabs.split(' ').includes(name);
    fs.hidden = ![...fs.querySelectorAll('[data-tabs]')].some((el) => !el.hidden);
  }

  return {
    /* The option list of the core (init), or null: no device-options API. */
    list(l) { options = l; },
    /* A model was opened: its own option values; with URL params, `preset=` then `dev=`. */
    async adopt(info, params) {
      base = info.options || {};
      note('');
      if (!options || !info.options) { ctl = null; showTab(tab); return; }
      if (!ctl) {
        ctl = initDeviceControls(options, {
          base: () => base, state: () => h.S.dev,
          set(key, v) { // one at a time, each on the state the one before left
            const run = chain.then(async () => {
              const next = { ...h.S.dev };
              if (v == null) delete next[key]; else next[key] = v;
              await h.call('checkDevice', { options: next }); // the core's message if the value is out of range
              h.S.dev = next; refresh(false); h.changed();
            });
            chain = run.catch(() => {});
            return run;
          },
          preset,
        });
      }
      if (params) {
        try {
          if (params.get('preset')) adoptPreset(await h.call('preset', { name: params.get('preset'), options: {}, own: [...OWN] }));
          const dev = { ...h.S.dev, ...parseDeviceUrl(params.get('dev')) };
          await h.call('checkDevice', { options: dev });
          h.S.dev = dev;
        } catch (err) {
          h.S.dev = {};
          await h.call('checkDevice', { options: {} });
          note('The device settings of the link were not applied: ' + err.message);
        }
      }
      refresh(); showTab(tab);
    },
    refresh,
    showTab,
    /* S.dev restricted to the fields that act on a tab (the inpainter gets those of 'inpaint'). */
    forTab(t) { return Object.fromEntries(Object.entries(h.S.dev || {}).filter(([k]) => TABS_OF(k).includes(t))); },
  };
}
