// The in-browser benchmark: every op the library exports that this page knows how to call, on
// every backend this page can get (wasm zero-copy, wasm with copying, the JS fallback, and a
// threaded runtime when the page is cross-origin isolated and the library offers one), over a
// few shapes. Rounds are interleaved across backends so a noisy machine slows all alike; the
// median round is reported. Results go to a chart, a table and window.benchResults.
export const SHAPES = [[1, 768], [64, 768], [512, 768], [32, 4096]];
const ROUNDS = 9;
const BATCH_MS = 20; // each timed batch repeats the call until it lasts this long

/** An op called as f(x, cols, { ...params, out }) with per-feature parameters (weight, bias). */
function rowOp(name, params) {
  return {
    name,
    available: (lib) => typeof lib[name] === "function",
    /** Returns the call to time; arguments are tensors (zero-copy) or plain arrays. */
    prepare(lib, rt, rows, cols, zeroCopy) {
      const x = normal(rows * cols, 1);
      const p = Object.fromEntries(params.map((k, i) => [k, normal(cols, 2 + i)]));
      if (!zeroCopy) {
        const out = new Float32Array(x.length);
        return { call: () => lib[name](x, cols, { ...p, out, runtime: rt }), dispose() {} };
      }
      const tx = rt.from(x), ty = rt.alloc(x.length);
      const tp = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, rt.from(v)]));
      const options = { ...tp, out: ty };
      return {
        call: () => lib[name](tx, cols, options),
        dispose: () => [tx, ty, ...Object.values(tp)].forEach((t) => t.free()),
      };
    },
  };
}

// Ops: add an entry when the library gains one.
const OPS = [rowOp("layerNorm", ["weight", "bias"]), rowOp("rmsNorm", ["weight"])];

/** Backends this page can run, each a runtime + whether its arguments live in wasm memory. */
export async function backends(lib) {
  const list = [], notes = [];
  try {
    const rt = lib.createRuntime({ backend: "wasm" });
    list.push({ name: "wasm zero-copy", rt, zeroCopy: true }, { name: "wasm copying", rt, zeroCopy: false });
  } catch (e) {
    notes.push(`no wasm backend here: ${e.message}`);
  }
  list.push({ name: "JS fallback", rt: lib.createRuntime({ backend: "js" }), zeroCopy: false });
  const threads = await threadedRuntime(lib);
  if (threads.runtime) list.push({ name: `wasm ${threads.count} threads`, rt: threads.runtime, zeroCopy: true });
  notes.push(threads.note);
  return { list, notes };
}

/**
 * The threaded runtime, when this page may use one: it needs SharedArrayBuffer, so cross-origin
 * isolation (COOP/COEP headers, which `npm run demo` sends). Workers start asynchronously.
 */
async function threadedRuntime(lib) {
  const count = Math.max(2, Math.min(navigator.hardwareConcurrency || 2, 8));
  if (!globalThis.crossOriginIsolated || !lib.threadsSupported()) return { note: "threads: page is not cross-origin isolated, so no SharedArrayBuffer: single-threaded" };
  const runtime = await lib.Runtime.create({ threads: count });
  return { runtime, count: runtime.threads, note: `threads: ${runtime.threads} (the page thread + ${runtime.threads - 1} workers)` };
}

function normal(n, seed) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i += 2) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = (s + 1) / 2 ** 32;
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = Math.sqrt(-2 * Math.log(u)), th = (2 * Math.PI * s) / 2 ** 32;
    a[i] = r * Math.cos(th);
    if (i + 1 < n) a[i + 1] = r * Math.sin(th);
  }
  return a;
}

const pause = () => new Promise((r) => setTimeout(r, 0)); // let the page paint between batches

/**
 * Calls per batch so that one batch lasts about BATCH_MS. Warms the call up first (the first
 * calls run in the interpreter and may allocate scratch memory), then doubles the count until
 * a batch is long enough, so a slow cold call cannot shrink the batch to one call.
 */
function calibrate(call) {
  for (let i = 0, t = performance.now(); i < 20 || performance.now() - t < 3 * BATCH_MS; i++) call();
  for (let n = 1; ; n *= 2) {
    const t = performance.now();
    for (let i = 0; i < n; i++) call();
    if (performance.now() - t >= BATCH_MS || n >= 1 << 22) return n;
  }
}

/**
 * Runs the benchmark; `progress(text)` is told what is being measured, and `update(partial)` gets
 * the results so far each time an op and shape is done, so the page can show them as they come.
 */
export async function benchmark(lib, progress, update = () => {}) {
  const { list, notes } = await backends(lib);
  const results = [];
  const out = { results, backends: list.map((b) => b.name), notes };
  for (const op of OPS.filter((o) => o.available(lib))) {
    for (const [rows, cols] of SHAPES) {
      const shape = `${rows}x${cols}`;
      const runs = list.map((be) => ({ be, ...op.prepare(lib, be.rt, rows, cols, be.zeroCopy), times: [] }));
      for (const r of runs) { r.calls = calibrate(r.call); await pause(); }
      for (let round = 0; round < ROUNDS; round++) {
        progress(`${op.name} ${shape}: round ${round + 1} of ${ROUNDS}`);
        for (const r of runs) {
          const t = performance.now();
          for (let i = 0; i < r.calls; i++) r.call();
          r.times.push((performance.now() - t) / r.calls);
          await pause();
        }
      }
      for (const r of runs) {
        const ms = [...r.times].sort((a, b) => a - b)[r.times.length >> 1];
        results.push({ op: op.name, shape, rows, cols, backend: r.be.name, nsPerElement: (ms * 1e6) / (rows * cols), usPerCall: ms * 1e3 });
        r.dispose();
      }
      update(out);
      await pause();
    }
  }
  return out;
}

// Okabe-Ito colours, as in the README's charts: distinguishable with colour-vision deficiencies.
const COLORS = ["#0072B2", "#56B4E9", "#888888", "#009E73", "#E69F00"];
const FONT = 12, CHAR = 6.6; // px; CHAR: an average glyph width at FONT, to lay text out without measuring

/**
 * Grouped horizontal bars: one group per op and shape, one bar per backend, drawn at the
 * element's own width in CSS pixels (never scaled down, so text stays 12 px). Below 560 px the
 * group names go above their bars instead of beside them, and the legend wraps.
 */
export function chart(el, { results, backends: names }) {
  const W = Math.max(280, Math.floor(el.clientWidth || 700));
  const narrow = W < 560;
  const groups = [...new Set(results.map((r) => `${r.op} ${r.shape}`))];
  const max = Math.max(...results.map((r) => r.nsPerElement));
  const barH = 16, gap = narrow ? 10 : 14, left = narrow ? 4 : 150, head = narrow ? 18 : 0, valueRoom = 44;
  const x = (v) => (v / max) * (W - left - valueRoom);
  let svg = "", y = 0;
  // Legend, wrapped to the width.
  let lx = left;
  names.forEach((n, i) => {
    const w = 16 + n.length * CHAR + 18;
    if (lx + w > W && lx > left) { lx = left; y += 18; }
    svg += `<rect x="${lx}" y="${y + 4}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${lx + 16}" y="${y + 14}">${n}</text>`;
    lx += w;
  });
  y += 28;
  for (const g of groups) {
    svg += narrow
      ? `<text x="${left}" y="${y + 12}" font-family="ui-monospace, monospace">${g}</text>`
      : `<text x="${left - 8}" y="${y + (names.length * barH) / 2 + 4}" text-anchor="end" font-family="ui-monospace, monospace">${g}</text>`;
    names.forEach((n, i) => {
      const r = results.find((q) => `${q.op} ${q.shape}` === g && q.backend === n);
      if (!r) return;
      const by = y + head + i * barH;
      svg += `<rect x="${left}" y="${by}" width="${Math.max(1, x(r.nsPerElement))}" height="${barH - 3}" fill="${COLORS[i % COLORS.length]}"><title>${n}: ${r.nsPerElement.toFixed(2)} ns/element</title></rect>`;
      svg += `<text x="${left + x(r.nsPerElement) + 4}" y="${by + barH - 5}">${r.nsPerElement.toFixed(2)}</text>`;
    });
    y += head + names.length * barH + gap;
  }
  y += 10;
  svg += `<text x="${left}" y="${y}" fill="#667">ns per element (lower is faster)</text>`;
  el.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 6}" viewBox="0 0 ${W} ${y + 6}" font-size="${FONT}" role="img" aria-label="benchmark chart">${svg}</svg>`;
}

/** The numbers: ns/element, us/call and speed-up over the JS fallback, per op, shape and backend. */
export function table(el, { results, backends: names }) {
  const groups = [...new Set(results.map((r) => `${r.op} ${r.shape}`))];
  let html = `<thead><tr><th>op shape</th>${names.map((n) => `<th>${n}</th>`).join("")}</tr></thead><tbody>`;
  for (const g of groups) {
    const row = results.filter((r) => `${r.op} ${r.shape}` === g);
    const js = row.find((r) => r.backend === "JS fallback");
    html += `<tr><td>${g}</td>`;
    for (const n of names) {
      const r = row.find((q) => q.backend === n);
      html += r
        ? `<td data-ns="${r.nsPerElement}" data-us="${r.usPerCall}">${r.nsPerElement.toFixed(2)} ns` +
          `<br><small>${r.usPerCall < 10 ? r.usPerCall.toFixed(2) : r.usPerCall.toFixed(0)} µs/call` +
          `${js ? `, ${(js.nsPerElement / r.nsPerElement).toFixed(1)}× JS` : ""}</small></td>`
        : "<td>–</td>";
    }
    html += "</tr>";
  }
  el.innerHTML = html + "</tbody>";
}
