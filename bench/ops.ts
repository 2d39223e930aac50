// `npm run bench`: every op in the registry, on wasm with zero-copy tensors, wasm with plain
// Float32Arrays (copied in and out), the JS fallback and a naive JS loop, side by side; for ops
// with an unfused equivalent (the fused residual add), fused vs separate as a ratio.
// Usage: tsx bench/ops.ts [--full] [--shapes 1x64,512x768] [--ops layerNorm,rmsNorm] [--readme]
// --readme (every op, the default shapes): also writes the tables into README.md between the
// "bench:" markers, so the published block is the run itself, never pasted by hand.
// The library is imported from dist/ (built by tsc): the same source transformed on the fly by
// tsx/esbuild measured 2-3x slower per call, which would misstate the overhead users see.
import { readFileSync, writeFileSync } from "node:fs";
import { createRuntime, Tensor, type Float32Like } from "../dist/index.js";
import { addRowsJs, defaultParams, ops, sizeOf, type AddRows, type Args, type PlainArgs } from "../dist/registry.js";
import { allInputs, freshOutputs } from "./args.js";
import { environment, fmt, label, measure, parseShape, table, type Shape, type Task } from "./lib.js";

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const full = argv.includes("--full");
const shapes: Shape[] = (opt("--shapes") ?? "1x64,1x768,512x768,32x4096,4096x64,4096x4096").split(",").map(parseShape);
const only = opt("--ops")?.split(",");
const readme = argv.includes("--readme");
if (readme && (only || opt("--shapes"))) throw new RangeError("--readme: expected every op on the default shapes, got --ops or --shapes");
const HEAD = ["shape", "wasm zero-copy", "wasm copying", "JS fallback", "naive JS", "zero-copy us/call"];
const FUSED = ["shape", "fused ns/el", "wasm add + norm", "ratio", "JS add + norm", "ratio"];
/** Per op, for --readme: its tables as printed. */
const published: { name: string; matches: string; rows: string[][]; fused: string[][] }[] = [];

// The library's module, plus a benchmark-only SIMD add kernel (bench/wasm/add.ts) instantiated on
// the same memory: the strongest unfused baseline is a wasm add followed by the wasm norm.
const addModule = new WebAssembly.Module(readFileSync(new URL("../build/bench-add.wasm", import.meta.url)));
let addKernel: ((x: number, skip: number, skipLen: number, rb: number, cols: number, s: number, n: number) => void) | undefined;
const wasm = createRuntime({
  instantiate: (module, imports) => {
    addKernel = (new WebAssembly.Instance(addModule, imports).exports as { addRows: NonNullable<typeof addKernel> }).addRows;
    return new WebAssembly.Instance(module, imports).exports;
  },
});
const ptr = (t: Float32Like | null): number => (t === null ? 0 : (t as Tensor).byteOffset);
const addRowsWasm: AddRows = (x, skip, rb, sum, cols) => addKernel!(ptr(x), ptr(skip), skip.length, ptr(rb), cols, ptr(sum), x.length);
const js = createRuntime({ backend: "js" });
const P = defaultParams;

console.log(environment());
console.log(`mode: ${full ? "full" : "quick"}; ns per element of x, median of interleaved rounds; ratio = naive JS time / this time\n`);

for (const op of ops.filter((o) => !only || only.includes(o.name))) {
  const rows: string[][] = [], fusedRows: string[][] = [];
  for (const s of shapes) {
    if (op.accepts && !op.accepts(s.rows, s.cols)) continue;
    const n = sizeOf(op, "row", s.rows, s.cols);
    const inputs = allInputs(op, s.rows, s.cols, P);
    const tensors: Tensor[] = [];
    const toTensors = (a: PlainArgs): Args => Object.fromEntries(Object.entries(a).map(([k, v]) => {
      if (!v) return [k, null];
      const t = wasm.from(v);
      tensors.push(t);
      return [k, t];
    }));
    const fresh = () => freshOutputs(op, s.rows, s.cols);
    const tIn = toTensors(inputs), tOut = toTensors(fresh());
    // Updated inputs (running statistics) get their own copies per task.
    const own = (a: PlainArgs): PlainArgs => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v && op.inputs.some((i) => i.name === k && i.updated) ? v.slice() : v]));
    const pIn = own(inputs), jIn = own(inputs), nIn = own(inputs);
    const pOut = fresh(), jOut = fresh();
    const nOut: PlainArgs = { ...fresh(), ...Object.fromEntries(op.inputs.filter((i) => i.updated).map((i) => [i.name, nIn[i.name]!.slice()])) };
    const tasks: Task[] = [
      { name: "wasm zero-copy", fn: () => op.call(wasm, s.cols, tIn, P, tOut) },
      { name: "wasm copying", fn: () => op.call(wasm, s.cols, pIn, P, pOut) },
      { name: "JS fallback", fn: () => op.call(js, s.cols, jIn, P, jOut) },
      { name: "naive JS", fn: () => op.reference(s.cols, nIn, P, nOut) },
    ];
    if (op.separate) {
      // Same outputs both ways (the sum included): fused call vs the add followed by the norm.
      const fOut = toTensors(freshOutputs(op, s.rows, s.cols, true)), sOut = toTensors(freshOutputs(op, s.rows, s.cols, true));
      const separate = op.separate;
      tasks.push(
        { name: "fused", fn: () => op.call(wasm, s.cols, tIn, P, fOut) },
        { name: "wasm add + norm", fn: () => separate(wasm, s.cols, tIn, P, sOut, addRowsWasm) },
        { name: "JS add + norm", fn: () => separate(wasm, s.cols, tIn, P, sOut, addRowsJs) },
      );
    }
    const big = n >= 1 << 22;
    const t = await measure(tasks, { rounds: full ? 7 : big ? 3 : 5, time: full ? 200 : big ? 150 : 60, elements: n });
    const naive = t.get("naive JS")!;
    const cells = tasks.slice(0, 4).map((k) => `${fmt(t.get(k.name)! / n)} (${fmt(naive / t.get(k.name)!, 1)}x)`);
    rows.push([label(s), ...cells, fmt(t.get("wasm zero-copy")! / 1000, 3)]);
    if (op.separate) {
      const f = t.get("fused")!, w = t.get("wasm add + norm")!, j = t.get("JS add + norm")!;
      fusedRows.push([label(s), fmt(f / n), fmt(w / n), `${fmt(w / f)}x`, fmt(j / n), `${fmt(j / f)}x`]);
    }
    for (const x of tensors) x.free();
    process.stderr.write(`  ${op.name} ${label(s)} done\n`);
  }
  published.push({ name: op.name, matches: op.matches, rows, fused: fusedRows });
  console.log(`### ${op.name} (${op.matches})\n`);
  console.log(table(HEAD, rows));
  if (fusedRows.length) {
    console.log(`\nFused vs separate (zero-copy tensors, same outputs including the sum; separate = the add, then the norm):\n`);
    console.log(table(FUSED, fusedRows));
  }
  console.log("");
}

if (readme) {
  const summary = published.flatMap((o) => o.rows.filter((r) => r[0] === "512x768").map((r) => [o.name, ...r.slice(1)]));
  const block = [
    "<!-- bench: generated by `npm run bench -- --readme` (bench/ops.ts); rerun it, do not edit -->",
    "", "```", environment(), "```", "",
    table(["op (512x768)", ...HEAD.slice(1)], summary), "",
    "Fused residual add vs the same outputs computed separately (zero-copy tensors; the sum is an",
    "output both ways). \"wasm add\" is a SIMD add kernel on the same memory (`bench/wasm/add.ts`,",
    "benchmark-only, no argument checks); \"JS add\" is the add as plain JS loops, which is what a",
    "caller of this library would otherwise write:", "",
    ...published.filter((o) => o.fused.length).flatMap((o) => [`${o.name}:`, "", table(FUSED, o.fused), ""]),
    ...published.flatMap((o) => [`<details><summary><code>${o.name}</code> (${o.matches})</summary>`, "", table(HEAD, o.rows), "", "</details>"]),
    "<!-- /bench -->",
  ].join("\n");
  const url = new URL("../README.md", import.meta.url), text = readFileSync(url, "utf8");
  const from = text.indexOf("<!-- bench:"), to = text.indexOf("<!-- /bench -->");
  if (from < 0 || to < from) throw new Error("README.md: expected the <!-- bench: --> ... <!-- /bench --> markers, got none");
  writeFileSync(url, text.slice(0, from) + block + text.slice(to + "<!-- /bench -->".length));
  console.log("wrote the tables into README.md (between the bench: markers)");
}
