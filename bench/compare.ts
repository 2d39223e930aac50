// `npm start`: LayerNorm in this library against its peers, side by side in one process.
//
// Every implementation's output is checked against a float64 reference before it is timed; a
// peer that cannot load is reported and skipped. Timing is interleaved (every implementation
// runs in every round, the median of round medians is kept), on the shape grid below; the native
// C baseline runs in a child process on the same shapes right after.
//
//   tsx bench/compare.ts [--full] [--shapes 1x64,512x768] [--no-native]
//
// Writes the run to bench/results/runs/ (git-ignored): latest.{json,md,svg}, latest-speedup.svg
// and a time-stamped copy of the JSON. `npm run results:publish` makes a run the committed one.
import { spawnSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { mkdirSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createRuntime, wasmBytes } from "../dist/index.js";
import { layerNormReference } from "../dist/reference/layerNorm.js";
import { naiveLayerNorm, tunedLayerNorm } from "./baselines.js";
import { environment, fmt, label, measure, median, parseShape, type Shape } from "./lib.js";
import { files, markdown, type Run } from "./report.js";
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
const run: Run = {
  environment: environment(), mode: full ? "full" : "quick", shapes: shapeNames,
  implementations: Object.fromEntries([...impls.map((p) => [p.name, p.label]), [roofName, "wasm memory.copy"]]),
  nsPerElement: Object.fromEntries([...ns].map(([k, m]) => [k, Object.fromEntries(m)])),
  maxAbsError: Object.fromEntries([...errors].map(([k, m]) => [k, Object.fromEntries(m)])),
  native: Object.fromEntries(native), nativeNote, cold, wasmBytes: wasmBytes().length, wasmGzipBytes: gzipSync(wasmBytes()).length,
};
console.log(`\n${markdown(run)}\n`);

// Git ignores runs/: a run never changes the committed results (publish.ts does that on purpose).
const dir = new URL("./results/runs/", import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(files(run))) writeFileSync(new URL(name, dir), text);
const stamped = new URL(`${new Date().toISOString().replace(/[:.]/g, "-")}.json`, dir);
writeFileSync(stamped, files(run)["latest.json"]!);
const rel = (u: URL) => relative(process.cwd(), fileURLToPath(u));
console.log(`this run: ${rel(new URL("latest.md", dir))}, charts ${rel(new URL("latest-speedup.svg", dir))} and latest.svg; data ${rel(stamped)}`);
console.log("to publish it to bench/results/ and the README: npm run results:publish");
console.log(`run took ${fmt((performance.now() - started) / 1000, 1)} s`);
if (failures.length) {
  console.error(`\nFAILED:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
process.exit(0); // wasm runtimes and peers keep handles open
