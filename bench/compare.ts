// `npm start`: LayerNorm in this library against its peers, side by side in one process.
//
// Every implementation's output is checked against a float64 reference before it is timed; a
// peer that cannot load is reported and skipped. Timing is interleaved (every implementation
// runs in every round, the median of round medians is kept), on the shape grid below; the native
// C baseline runs in a child process on the same shapes right after.
//
//   tsx bench/compare.ts [--full] [--shapes 1x64,512x768] [--no-native]
//
// Writes bench/results/latest.{json,md,svg}.
import { spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRuntime, wasmBytes } from "../dist/index.js";
import { layerNormReference } from "../dist/reference/layerNorm.js";
import { naiveLayerNorm, tunedLayerNorm } from "./baselines.js";
import { lineChart } from "./chart.js";
import { environment, fmt, label, measure, median, parseShape, table, type Shape } from "./lib.js";
import { ensureStableMalloc, isUnavailable, memoryCopyRoof, peers, runNative, type Peer, type PeerCase } from "./peers/index.js";

ensureStableMalloc(); // re-runs this script with fixed glibc malloc thresholds (see peers/stable-malloc.ts)

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const full = argv.includes("--full");
const GRID = "1x64,1x768,8x768,128x768,512x768,32x4096,512x4096,4096x4096,4096x64";
const shapes: Shape[] = (opt("--shapes") ?? GRID).split(",").map(parseShape);
const TOLERANCE = 1e-4;
const started = performance.now();

/** Rows with a random offset each (so the mean matters) plus N(0,1)-like noise; weight ~1, bias small. */
function makeCase({ rows, cols }: Shape): PeerCase {
  let s = 0x9e3779b9 ^ (rows * 7919 + cols);
  const rand = () => { s = (s + 0x6d2b79f5) | 0; let t = Math.imul(s ^ (s >>> 15), 1 | s); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1; };
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) { const off = 3 * rand(); for (let i = 0; i < cols; i++) x[r * cols + i] = off + 2 * rand(); }
  return { rows, cols, x, weight: Float32Array.from({ length: cols }, () => 1 + 0.25 * rand()), bias: Float32Array.from({ length: cols }, () => 0.25 * rand()), eps: 1e-5 };
}

function maxAbsError(c: PeerCase, y: ArrayLike<number>): number {
  if (y.length !== c.x.length) return Infinity;
  const ref = new Float64Array(c.x.length);
  layerNormReference(c.x, c.weight, c.bias, ref, null, null, c.rows, c.cols, c.eps);
  let e = 0;
  for (let i = 0; i < ref.length; i++) { const d = Math.abs(ref[i]! - y[i]!); e = d > e || Number.isNaN(d) ? (Number.isNaN(d) ? Infinity : d) : e; }
  return e;
}

const wasm = createRuntime({ backend: "wasm" });
const js = createRuntime({ backend: "js" });
const { layerNorm } = await import("../dist/index.js");

const ours: Peer[] = [
  { name: "wasm zero-copy", label: "layernorm-wasm, x/weight/bias/out tensors in wasm memory", async prepare(c) {
    const [x, w, b, out] = [wasm.from(c.x), wasm.from(c.weight), wasm.from(c.bias), wasm.alloc(c.x.length)];
    return { run: () => layerNorm(x, c.cols, { weight: w, bias: b, eps: c.eps, out }).data, dispose: () => { for (const t of [x, w, b, out]) t.free(); } };
  } },
  { name: "wasm copying", label: "layernorm-wasm, plain Float32Arrays copied in and out (output array reused)", async prepare(c) {
    const out = new Float32Array(c.x.length);
    return { run: () => layerNorm(c.x, c.cols, { weight: c.weight, bias: c.bias, eps: c.eps, out, runtime: wasm }) };
  } },
  { name: "JS fallback", label: "layernorm-wasm JS fallback (bit-exact with the wasm kernel)", async prepare(c) {
    const out = new Float32Array(c.x.length);
    return { run: () => layerNorm(c.x, c.cols, { weight: c.weight, bias: c.bias, eps: c.eps, out, runtime: js }) };
  } },
  { name: "naive JS", label: "three-pass double-precision JS loop", async prepare(c) {
    const out = new Float32Array(c.x.length);
    return { run: () => { naiveLayerNorm(c.x, c.weight, c.bias, out, null, null, c.rows, c.cols, c.eps); return out; } };
  } },
  { name: "tuned JS", label: "tuned double-precision JS loop (4 accumulators, hoisted constants)", async prepare(c) {
    const out = new Float32Array(c.x.length);
    return { run: () => { tunedLayerNorm(c.x, c.weight, c.bias, out, c.rows, c.cols, c.eps); return out; } };
  } },
];

console.log(environment());
console.log(`mode: ${full ? "full" : "quick"}; malloc: ${process.env.GLIBC_TUNABLES ? "fixed thresholds (GLIBC_TUNABLES)" : "glibc defaults"}\n`);
const impls: Peer[] = [...ours];
for (const load of peers) {
  const p = await load();
  if (isUnavailable(p)) console.log(`skipped: ${p.unavailable}`);
  else impls.push(p);
}
const roofName = "memory.copy";
for (const p of impls) console.log(`- ${p.name}: ${p.label}`);
console.log(`- ${roofName}: wasm bulk memory.copy of x to y (read + write the same bytes: the bandwidth roof)\n`);

const names = [...impls.map((p) => p.name), roofName];
const ns = new Map<string, Map<string, number>>(names.map((n) => [n, new Map()]));
const errors = new Map<string, Map<string, number>>(names.map((n) => [n, new Map()]));
const failures: string[] = [];
let done = 0;
const progress = (what: string) => {
  const total = shapes.length * names.length, w = 30, k = Math.round((w * done) / total);
  const line = `[${"#".repeat(k)}${".".repeat(w - k)}] ${done}/${total} ${what}`;
  process.stderr.write(process.stderr.isTTY ? `\r${line.padEnd(78)}` : `${line}\n`);
};

for (const s of shapes) {
  const c = makeCase(s), n = s.rows * s.cols;
  const tasks: { name: string; fn: () => unknown }[] = [];
  const disposers: (() => unknown)[] = [];
  for (const p of impls) {
    progress(`${label(s)} ${p.name}: check`);
    try {
      const prepared = await p.prepare(c);
      if (prepared.dispose) disposers.push(() => prepared.dispose!());
      const err = maxAbsError(c, await prepared.run());
      errors.get(p.name)!.set(label(s), err);
      if (err > TOLERANCE) failures.push(`${p.name} @ ${label(s)}: max abs error ${err} > ${TOLERANCE}`);
      else tasks.push({ name: p.name, fn: () => prepared.run() });
    } catch (e) {
      failures.push(`${p.name} @ ${label(s)}: ${(e as Error).message}`);
    }
  }
  const roof = memoryCopyRoof(c.x);
  if (roof.run().some((v, i) => v !== c.x[i])) failures.push(`memory.copy @ ${label(s)}: wrong copy`);
  tasks.push({ name: roofName, fn: () => roof.run() });
  progress(`${label(s)}: timing ${tasks.length} implementations`);
  const big = n >= 1 << 22;
  const t = await measure(tasks, { rounds: full ? 7 : 3, time: full ? 300 : big ? 120 : 50, elements: n });
  for (const [name, v] of t) ns.get(name)!.set(label(s), v / n);
  for (const d of disposers) await d();
  done += names.length;
}
progress("done");
process.stderr.write("\n");

// Native C, same shapes, in a child process (its own median over ~0.3 s per shape).
let nativeNote = "";
const native = new Map<string, number>();
if (!argv.includes("--no-native")) {
  const r = await runNative(shapes.map((s) => [s.rows, s.cols]));
  if (isUnavailable(r)) nativeNote = `native C skipped: ${r.unavailable}`;
  else {
    nativeNote = `native C: ${r.compiler}; baseline per shape = faster of SSE intrinsics and -ffast-math autovectorised loops, -O3 -msse4.2`;
    for (const b of r.baseline) {
      native.set(`${b.rows}x${b.cols}`, b.nsPerElement);
      if (b.maxAbsError > TOLERANCE) failures.push(`native ${b.variant} @ ${b.rows}x${b.cols}: max abs error ${b.maxAbsError}`);
    }
  }
}

// Cold start in fresh processes.
const starts = Array.from({ length: 5 }, () => JSON.parse(spawnSync(process.execPath, [new URL("./startup.mjs", import.meta.url).pathname], { encoding: "utf8" }).stdout) as { importInitMs: number; firstCallMs: number });
const cold = { importInitMs: median(starts.map((s) => s.importInitMs)), firstCallMs: median(starts.map((s) => s.firstCallMs)) };

const shapeNames = shapes.map(label);
const get = (impl: string, s: string) => ns.get(impl)?.get(s);
const cols = [...impls.map((p) => p.name), ...(native.size ? ["native C"] : []), roofName];
const cell = (impl: string, s: string) => { const v = impl === "native C" ? native.get(s) : get(impl, s); return v === undefined ? "-" : fmt(v); };
const nsTable = table(["shape", ...cols], shapeNames.map((s) => [s, ...cols.map((k) => cell(k, s))]));
const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? "-" : `${fmt(a / b, 2)}x`);
const ZC = "wasm zero-copy";
const ratioTable = table(
  ["shape", "ort-web / ours", "tfjs-wasm / ours", "ours / native C", "ours / memory.copy", "JS fallback / naive JS", "ours us/call"],
  shapeNames.map((s) => {
    const z = get(ZC, s), n = shapes[shapeNames.indexOf(s)]!;
    return [s, ratio(get("ort-web", s), z), ratio(get("tfjs-wasm", s), z), ratio(z, native.get(s)), ratio(z, get(roofName, s)), ratio(get("JS fallback", s), get("naive JS", s)), z === undefined ? "-" : fmt((z * n.rows * n.cols) / 1000, 3)];
  }),
);
const gz = gzipSync(wasmBytes()).length;
const minOver = (impl: string) => Math.min(...shapeNames.map((s) => (get(impl, s) ?? NaN) / (get(ZC, s) ?? NaN)).filter((v) => !Number.isNaN(v)));
const summary = [
  `- speed-up over onnxruntime-web: min ${fmt(minOver("ort-web"), 1)}x across the grid; over tfjs-wasm: min ${fmt(minOver("tfjs-wasm"), 1)}x`,
  ...["512x768", "32x4096", "4096x64"].filter((s) => native.has(s) && get(ZC, s)).map((s) => `- ${s}: ${fmt(get(ZC, s)!)} ns/el vs native C ${fmt(native.get(s)!)} = ${fmt(get(ZC, s)! / native.get(s)!, 2)}x`),
  ...(get(ZC, "4096x4096") && get(roofName, "4096x4096") ? [`- 4096x4096: ${fmt(get(ZC, "4096x4096")!)} ns/el vs memory.copy ${fmt(get(roofName, "4096x4096")!)} = ${fmt(get(ZC, "4096x4096")! / get(roofName, "4096x4096")!, 2)}x`] : []),
  ...["1x64", "1x768"].filter((s) => get(ZC, s)).map((s) => `- per call, zero-copy, ${s}: ${fmt((get(ZC, s)! * parseShape(s).rows * parseShape(s).cols) / 1000, 3)} us`),
  `- JS fallback vs naive JS: worst ${fmt(Math.max(...shapeNames.map((s) => (get("JS fallback", s) ?? 0) / (get("naive JS", s) ?? Infinity))), 2)}x (time ratio; < 1 = faster)`,
  `- wasm binary: ${wasmBytes().length} B (${gz} B gzipped); cold import + init ${fmt(cold.importInitMs, 2)} ms, first call ${fmt(cold.firstCallMs, 2)} ms (median of 5 fresh processes)`,
];

const md = [
  `${environment()}`,
  "",
  "ns per element (lower is better):",
  "",
  nsTable,
  "",
  "Ratios for the zero-copy wasm path (peer time / ours: higher is better; ours / baseline: lower is better):",
  "",
  ratioTable,
  "",
  ...summary,
  ...(nativeNote ? ["", nativeNote] : []),
].join("\n");
console.log(`\n${md}\n`);

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
const svg = lineChart(`LayerNorm, ns per element (log scale) - ${environment().split(",")[1]!.trim()}`, shapeNames, cols.map((k) => ({ name: k, values: shapeNames.map((s) => (k === "native C" ? native.get(s) : get(k, s))) })), "ns / element");
const out = (f: string) => new URL(`./results/${f}`, import.meta.url);
writeFileSync(out("latest.svg"), svg);
writeFileSync(out("latest.md"), `${md}\n`);
writeFileSync(out("latest.json"), `${JSON.stringify({
  environment: environment(), mode: full ? "full" : "quick", shapes: shapeNames,
  implementations: Object.fromEntries([...impls.map((p) => [p.name, p.label]), [roofName, "wasm memory.copy"]]),
  nsPerElement: Object.fromEntries([...ns].map(([k, m]) => [k, Object.fromEntries(m)])),
  maxAbsError: Object.fromEntries([...errors].map(([k, m]) => [k, Object.fromEntries(m)])),
  native: Object.fromEntries(native), nativeNote, cold, wasmBytes: wasmBytes().length, wasmGzipBytes: gz,
}, null, 2)}\n`);
console.log(`results: bench/results/latest.md, latest.json; chart: ${out("latest.svg").pathname}`);
console.log(`run took ${fmt((performance.now() - started) / 1000, 1)} s`);
if (failures.length) {
  console.error(`\nFAILED:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
process.exit(0); // wasm runtimes and peers keep handles open
