// `npm run bench`: every op in the registry, on wasm with zero-copy tensors, wasm with plain
// Float32Arrays (copied in and out), the JS fallback and a naive JS loop, side by side.
// Usage: tsx bench/ops.ts [--full] [--shapes 1x64,512x768] [--ops layerNorm]
// The library is imported from dist/ (built by tsc): the same source transformed on the fly by
// tsx/esbuild measured 2-3x slower per call, which would misstate the overhead users see.
import { createRuntime, type Tensor } from "../dist/index.js";
import { ops, type Args, type OpEntry, type PlainArgs } from "../dist/registry.js";
import { normal } from "../test/data.js";
import { environment, fmt, label, measure, parseShape, table, type Shape, type Task } from "./lib.js";

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const full = argv.includes("--full");
const shapes: Shape[] = (opt("--shapes") ?? "1x64,1x768,512x768,32x4096,4096x64,4096x4096").split(",").map(parseShape);
const only = opt("--ops")?.split(",");

const wasm = createRuntime({ backend: "wasm" });
const js = createRuntime({ backend: "js" });
const EPS = 1e-5;

function sizeOf(role: string, s: Shape): number {
  return role === "row" ? s.rows * s.cols : role === "feature" ? s.cols : s.rows;
}

/** Inputs (all optional ones present) and fresh outputs for one shape. */
function buildArgs(op: OpEntry, s: Shape): { inputs: PlainArgs; outputs: () => PlainArgs } {
  const inputs: PlainArgs = {};
  op.inputs.forEach((a, i) => { inputs[a.name] = normal(sizeOf(a.role, s), 100 + i, a.name === "weight" ? 0.5 : 1, a.name === "weight" ? 1 : 0); });
  const outputs = (): PlainArgs => Object.fromEntries(op.outputs.map((a) => [a.name, a.optional ? null : new Float32Array(sizeOf(a.role, s))]));
  return { inputs, outputs };
}

console.log(environment());
console.log(`mode: ${full ? "full" : "quick"}; ns per element, median of interleaved rounds; ratio = naive JS time / this time\n`);

for (const op of ops.filter((o) => !only || only.includes(o.name))) {
  const rows: string[][] = [];
  for (const s of shapes) {
    const n = s.rows * s.cols;
    const { inputs, outputs } = buildArgs(op, s);
    const tensors: Tensor[] = [];
    const toTensors = (a: PlainArgs): Args => Object.fromEntries(Object.entries(a).map(([k, v]) => {
      if (!v) return [k, null];
      const t = wasm.from(v);
      tensors.push(t);
      return [k, t];
    }));
    const tIn = toTensors(inputs), tOut = toTensors(outputs());
    const pOut = outputs(), jOut = outputs(), nOut = outputs();
    const tasks: Task[] = [
      { name: "wasm zero-copy", fn: () => op.call(wasm, s.cols, tIn, EPS, tOut) },
      { name: "wasm copying", fn: () => op.call(wasm, s.cols, inputs, EPS, pOut) },
      { name: "JS fallback", fn: () => op.call(js, s.cols, inputs, EPS, jOut) },
      { name: "naive JS", fn: () => op.reference(s.cols, inputs, EPS, nOut) },
    ];
    const big = n >= 1 << 22;
    const t = await measure(tasks, { rounds: full ? 7 : big ? 3 : 5, time: full ? 200 : big ? 150 : 60, elements: n });
    const naive = t.get("naive JS")!;
    const cells = tasks.map((k) => `${fmt(t.get(k.name)! / n)} (${fmt(naive / t.get(k.name)!, 1)}x)`);
    rows.push([label(s), ...cells, fmt(t.get("wasm zero-copy")! / 1000, 3)]);
    for (const x of tensors) x.free();
    process.stderr.write(`  ${op.name} ${label(s)} done\n`);
  }
  console.log(`### ${op.name}\n`);
  console.log(table(["shape", "wasm zero-copy", "wasm copying", "JS fallback", "naive JS", "zero-copy us/call"], rows));
  console.log("");
}
