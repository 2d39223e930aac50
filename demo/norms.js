// BatchNorm vs LayerNorm on a [batch, sequence, features] tensor, drawn as three grids: the input
// and the outputs of the library's batchNorm and layerNorm. Selecting a cell highlights the cells
// whose statistics produced it; the padding toggle shows zeros of padded positions leaking into
// BatchNorm's statistics only.
const B = 3, T = 4, F = 6, EPS = 1e-5;
const LENGTHS = [4, 3, 2]; // real tokens per sequence; the rest is padding
const BASE = [2.0, -1.0, 0.5, 3.0, -2.0, 1.0]; // per-feature offsets: what BatchNorm removes
const WEIGHT = new Float32Array([1.2, 0.8, 1.0, 1.5, 0.6, 1.1]); // "learned" gamma
const BIAS = new Float32Array([0.1, -0.2, 0.0, 0.3, -0.1, 0.05]); // "learned" beta

const at = (b, t, f = 0) => (b * T + t) * F + f;
const isReal = (b, t) => t < LENGTHS[b];

function inputTensor() {
  const x = new Float32Array(B * T * F); // padded positions stay 0
  let s = 7;
  for (let b = 0; b < B; b++) for (let t = 0; t < LENGTHS[b]; t++) for (let f = 0; f < F; f++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[at(b, t, f)] = BASE[f] + (s / 2 ** 32 - 0.5) * 1.6 * (1 + f / 3);
  }
  return x;
}

/** The (b, t) positions taken into the batch: every one when padded, else the real tokens. */
function positions(padded) {
  const rows = [];
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) if (padded || isReal(b, t)) rows.push([b, t]);
  return rows;
}

/** Those positions' feature vectors packed into [rows, F]. */
function pack(x, rows) {
  const packed = new Float32Array(rows.length * F);
  rows.forEach(([b, t], r) => packed.set(x.subarray(at(b, t), at(b, t) + F), r * F));
  return packed;
}

/** The packed output back in place in a [B, T, F] grid; positions left out are NaN. */
function unpack(out, rows) {
  const y = new Float32Array(B * T * F).fill(NaN);
  rows.forEach(([b, t], r) => y.set(out.subarray(r * F, (r + 1) * F), at(b, t)));
  return y;
}

/**
 * BatchNorm by the library, training mode (batch statistics), channels-last: each feature is
 * normalised over every position in the batch.
 */
function batchNorm(lib, x, padded) {
  const rows = positions(padded);
  const mean = new Float32Array(F), invStdDev = new Float32Array(F);
  const out = lib.batchNorm(pack(x, rows), [rows.length, F], { channelAxis: -1, training: true, weight: WEIGHT, bias: BIAS, eps: EPS, mean, invStdDev });
  const pads = rows.filter(([b, t]) => !isReal(b, t)).length;
  const stats = [...mean].map((m, f) => ({ mean: m, variance: 1 / invStdDev[f] ** 2 - EPS, n: rows.length, pads }));
  return { y: unpack(out, rows), stats };
}

/** LayerNorm by the library: each position normalised over its own F features. */
function layerNorm(lib, x, padded) {
  const rows = positions(padded);
  const mean = new Float32Array(rows.length), invStdDev = new Float32Array(rows.length);
  const out = lib.layerNorm(pack(x, rows), F, { weight: WEIGHT, bias: BIAS, eps: EPS, mean, invStdDev });
  const stats = new Map(rows.map(([b, t], r) => [at(b, t), { mean: mean[r], invStdDev: invStdDev[r] }]));
  return { y: unpack(out, rows), stats };
}

const fmt = (v) => (Number.isNaN(v) ? "–" : (v < 0 ? "−" : "") + Math.abs(v).toFixed(2));
function color(v, faded) {
  if (Number.isNaN(v)) return "";
  const a = Math.min(Math.abs(v) / 2.5, 1) * (faded ? 0.12 : 0.55);
  return v >= 0 ? `rgba(224, 49, 49, ${a})` : `rgba(28, 126, 214, ${a})`;
}

/** One grid: header, B blocks of T rows x F cells, optional gamma/beta rows. Returns its cells. */
function buildGrid(el, withParams, onSelect) {
  const add = (cls, text = "") => {
    const d = document.createElement("div");
    d.className = cls;
    d.textContent = text;
    el.append(d);
    return d;
  };
  add("head");
  for (let f = 0; f < F; f++) add("head", `f${f}`);
  const cells = [];
  for (let b = 0; b < B; b++) {
    if (b) add("gap");
    for (let t = 0; t < T; t++) {
      add("rowlabel", `seq${b} t${t}`);
      for (let f = 0; f < F; f++) {
        const c = add("cell");
        c.addEventListener("click", () => onSelect(b, t, f));
        cells[at(b, t, f)] = c;
      }
    }
  }
  const params = [];
  if (withParams) {
    add("gap");
    for (const [name, values] of [["weight γ", WEIGHT], ["bias β", BIAS]]) {
      add("rowlabel", name);
      for (let f = 0; f < F; f++) params.push(add("cell param", fmt(values[f])));
    }
  }
  return { cells, params };
}

export function mountNorms(lib) {
  const x = inputTensor();
  const state = { b: 0, t: 1, f: 2, padded: false };
  const select = (b, t, f) => { Object.assign(state, { b, t, f }); render(); };
  const gx = buildGrid(document.getElementById("grid-x"), false, select);
  const gbn = buildGrid(document.getElementById("grid-bn"), true, select);
  const gln = buildGrid(document.getElementById("grid-ln"), true, select);
  const pad = document.getElementById("pad");
  pad.addEventListener("change", () => { state.padded = pad.checked; render(); });

  // The clean results (no padding in the statistics) are the baseline padding is compared with.
  const cleanBn = batchNorm(lib, x, false), cleanLn = layerNorm(lib, x, false);

  function render() {
    const { b: sb, t: st, f: sf, padded } = state;
    const bn = padded ? batchNorm(lib, x, true) : cleanBn, ln = padded ? layerNorm(lib, x, true) : cleanLn;
    let bnChanged = 0, lnChanged = 0, real = 0;
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) {
      const i = at(b, t, f), realCell = isReal(b, t), counted = realCell || padded;
      const inBn = counted && f === sf, inLn = counted && b === sb && t === st;
      const bnDiff = realCell && !Object.is(bn.y[i], cleanBn.y[i]), lnDiff = realCell && !Object.is(ln.y[i], cleanLn.y[i]);
      if (realCell) { real++; bnChanged += bnDiff; lnChanged += lnDiff; }
      const sel = b === sb && t === st && f === sf;
      paint(gx.cells[i], x[i], !counted, sel, { "bn-group": inBn, "ln-group": inLn });
      paint(gbn.cells[i], bn.y[i], !counted, sel, { "bn-group": inBn, dim: !inBn, changed: bnDiff });
      paint(gln.cells[i], ln.y[i], !counted, sel, { "ln-group": inLn, dim: !inLn, changed: lnDiff });
    }
    for (const g of [gbn, gln]) g.params.forEach((p, k) => p.classList.toggle("feature", k % F === sf));

    const s = bn.stats[sf];
    document.getElementById("stats-bn").textContent =
      `feature ${sf}: mean ${s.mean.toFixed(3)}, variance ${s.variance.toFixed(3)} over ${s.n} cells` +
      `${s.pads ? ` (${s.pads} of them padding zeros)` : ""}, then × γ${sf} + β${sf} in every row.`;
    const l = ln.stats.get(at(sb, st));
    document.getElementById("stats-ln").textContent = l
      ? `sequence ${sb}, position ${st}: mean ${l.mean.toFixed(3)}, 1/σ ${l.invStdDev.toFixed(3)} over its ${F} features only, then × γ + β per feature.`
      : `sequence ${sb}, position ${st} is padding: not part of the batch.`;
    const summary = document.getElementById("pad-summary");
    Object.assign(summary.dataset, { bnChanged, lnChanged, real });
    summary.textContent = padded
      ? `With padding in the batch, ${bnChanged} of ${real} BatchNorm outputs of real tokens changed (dots): the zeros moved every feature's mean and variance. ` +
        `LayerNorm: ${lnChanged} of ${real} changed, bit for bit; each token only sees its own features.`
      : "";
  }

  function paint(c, v, excluded, selected, classes) {
    c.textContent = excluded ? "pad" : fmt(v);
    c.style.background = excluded ? "" : color(v, classes.dim);
    c.classList.toggle("pad", excluded);
    c.classList.toggle("selected", selected);
    for (const [k, on] of Object.entries(classes)) c.classList.toggle(k, Boolean(on));
  }

  render();
  return {
    select,
    setPadded: (on) => { pad.checked = on; state.padded = on; render(); },
    /** What the grids show, with the parameters that made it (for the demo test). */
    shown: () => ({ x, weight: WEIGHT, bias: BIAS, eps: EPS, padded: state.padded, bn: state.padded ? batchNorm(lib, x, true).y : cleanBn.y }),
  };
}
