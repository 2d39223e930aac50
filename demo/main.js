import * as lib from "layernorm-wasm";
import { benchmark, chart, table } from "./bench.js";
import { mountNorms } from "./norms.js";

// Cold start: the first initialisation decodes and compiles the inlined kernels.
const t0 = performance.now();
const backend = lib.initSync();
const coldMs = performance.now() - t0;

document.getElementById("env").textContent =
  `backend ${backend} (WebAssembly SIMD ${lib.simdSupported() ? "yes" : "no"}), kernels ${lib.wasmBytes().length} B, ` +
  `first init ${coldMs.toFixed(1)} ms · cross-origin isolated: ${globalThis.crossOriginIsolated ? "yes" : "no"} · ` +
  `${navigator.hardwareConcurrency} logical cores · ${navigator.userAgent}`;

window.norms = mountNorms(lib);

const root = document.documentElement;
const status = document.getElementById("bench-status");
const again = document.getElementById("bench-again");

const chartEl = document.getElementById("bench-chart"), tableEl = document.getElementById("bench-table");
let shown; // the results on screen, redrawn when the chart's width changes
const show = (out) => { shown = out; chart(chartEl, out); table(tableEl, out); };
new ResizeObserver(() => shown && chart(chartEl, shown)).observe(chartEl);

async function run() {
  root.dataset.bench = "running";
  again.hidden = true;
  try {
    const started = performance.now();
    const out = await benchmark(lib, (text) => { status.textContent = `measuring ${text}…`; }, show);
    show(out);
    status.textContent = `${out.notes.join(" · ")} · took ${((performance.now() - started) / 1000).toFixed(1)} s`;
    window.benchResults = out;
    root.dataset.bench = "done";
  } catch (e) {
    status.textContent = `benchmark failed: ${e}`;
    root.dataset.bench = "error";
    throw e;
  } finally {
    again.hidden = false;
  }
}

again.addEventListener("click", run);
run();
