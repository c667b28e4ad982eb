// prime-device.js - the device-effects part of the JS API (docs/device.md),
// used by prime.js (loadPrime): settings by option key, the option list, the
// IR-drop map of one array. Everything crosses to the wasm core as text
// ("key=value" lines, src/device_opts.h) or as arrays of doubles.

/**
 * Builds the device functions over a loaded module: X its exports, heap the
 * typed-array views, and prime.js's helpers (cstr, withBufs, getF64, putF32,
 * toF32, fail, params, PrimeError, DEVICE_KEYS).
 */
export function deviceApi({ X, heap, cstr, withBufs, getF64, putF32, toF32, fail, params, PrimeError, DEVICE_KEYS }) {
  /** Runs fn with a NUL-terminated UTF-8 copy of str in wasm memory. */
  const withStr = (str, fn) => {
    const b = new TextEncoder().encode(str);
    return withBufs([b.length + 1], (p) => { heap.u8().set(b, p); heap.u8()[p + b.length] = 0; return fn(p); });
  };
  let optionKeys = null;
  /**
   * Device settings as "key=value" lines for prime_device_set_option: option
   * keys (read_model, t_read, r_row, ...) and the camelCase keys of
   * getDevice() (readNoise -> read_noise). Values: numbers, strings ('weight',
   * '1d'), arrays (read_poly: [c0, c1, ...]; read_table: [[G, sigma], ...]).
   */
  const optionLines = (partial, what) => {
    if (!optionKeys) {
      optionKeys = new Set();
      for (let k = 0; k < X.pw_device_option_count(); k++) optionKeys.add(cstr(X.pw_device_option_key(k)));
    }
    const lines = [];
    for (const [k, v] of Object.entries(params(partial, what))) {
      const key = DEVICE_KEYS.includes(k) ? k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()) : k;
      if (!optionKeys.has(key)) throw new PrimeError(`unknown device parameter "${k}" (keys: P.deviceOptions(), docs/device.md)`);
      let val;
      if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new PrimeError(`device parameter ${k} = ${v} must be a finite number`);
        val = String(v);
      } else if (typeof v === 'string') val = v;
      else if (Array.isArray(v)) val = v.map((e) => (Array.isArray(e) ? e.join(':') : String(e))).join(',');
      else throw new PrimeError(`device parameter ${k} must be a number, a string or an array, got ${typeof v}`);
      if (/\n/.test(val)) throw new PrimeError(`device parameter ${k}: a value cannot hold a line break`);
      lines.push(`${key}=${val}`);
    }
    return lines.join('\n');
  };
  /** Every device option key: [{ key, help, default (as text), defaultInpaint }]. */
  const deviceOptions = () => {
    const out = [];
    for (let k = 0; k < X.pw_device_option_count(); k++) {
      const text = (which) => { const p = X.pw_device_option_default(k, which); return p ? cstr(p) : ''; };
      out.push({ key: cstr(X.pw_device_option_key(k)), help: cstr(X.pw_device_option_help(k)),
        default: text(0), defaultInpaint: text(1) }); // one static buffer in C: each read at once
    }
    return out;
  };
  /** Applies settings to a classifier context (vae: an inpainter), all or nothing. */
  const setOptions = (obj, partial, what, vae = false) => {
    const text = optionLines(partial, what);
    const rc = withStr(text, (p) => (vae ? X.pw_vae_set_device_options(obj, p) : X.pw_set_device_options(obj, p)));
    if (rc !== 0) fail(what);
  };
  /** Every option's current value as text, { key: value }. */
  const getOptions = (obj, vae = false) => {
    const o = {};
    for (let k = 0; k < X.pw_device_option_count(); k++) {
      const key = cstr(X.pw_device_option_key(k));
      if (key === 'preset') continue; // an action, not a field
      const p = withStr(key, (pk) => (vae ? X.pw_vae_get_device_option(obj, pk) : X.pw_get_device_option(obj, pk)));
      if (!p) fail('getDeviceOptions');
      o[key] = cstr(p);
    }
    return o;
  };
  /** The arrays of the IR-drop model of a layer. */
  const irdropArrays = (c, layer) => withBufs([24], (p) => {
    const n = X.pw_irdrop_tiles(c, layer, p);
    if (n < 0) fail('irdropArrays');
    const v = getF64(p, 3);
    return { rowTiles: v[0], colTiles: v[1], arrays: n, tile: v[2] };
  });
  /** The exact IR-drop solve of one array (Model.irdropMap). */
  const irdropMap = (c, layer, array, input) => {
    const { tile } = irdropArrays(c, layer);
    const cap = 3 + 2 * tile * tile + 2 * tile;
    const vin = input === null || input === undefined ? null : toF32(input, 'irdropMap: input');
    const nv = vin ? Math.max(vin.length, tile) : 1;
    return withBufs([8 * cap, 4 * nv], (po, pv) => {
      if (vin) { heap.f32().fill(0, pv >> 2, (pv >> 2) + nv); putF32(pv, vin); }
      if (X.pw_irdrop_map(c, layer, array, vin ? pv : 0, po) !== 0) fail('irdropMap');
      const h = getF64(po, 3), r = h[0], n = h[1], nn = r * n, o = (po >> 3) + 3, f = heap.f64();
      const at = (a, len) => Float64Array.from(f.subarray(o + a, o + a + len));
      return { rows: r, cols: n, iterations: h[2], vRow: at(0, nn), vCol: at(nn, nn), iCol: at(2 * nn, n), iIdeal: at(2 * nn + n, n) };
    });
  };
  return { deviceOptions, setOptions, getOptions, irdropArrays, irdropMap };
}
