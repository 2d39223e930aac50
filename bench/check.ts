// Equivalence check for the main job: every registry op, wasm (zero-copy and copying) against the
// JS fallback, bit for bit, plus max error against the float64 reference. Exits 1 on a mismatch.
import { createRuntime } from "../dist/index.js";
import { ops, type Args, type PlainArgs, type RefArgs } from "../dist/registry.js";
import { fillRows, firstBitDifference, normal } from "../test/data.js";
import { table } from "./lib.js";

const wasm = createRuntime({ backend: "wasm" });
const js = createRuntime({ backend: "js" });
const kinds = ["normal", "offset40000", "constant", "denormal", "near1e18", "nanMiddle", "posInf", "outlierFirst"];
const shapes = [[8, 1], [8, 7], [8, 64], [16, 768], [4, 4097], [2, 16384]] as const;
let failures = 0;
const rows: string[][] = [];
for (const op of ops) {
  for (const [r, cols] of shapes) {
    const size = (role: string) => (role === "row" ? r * cols : role === "feature" ? cols : r);
    const inputs: PlainArgs = {};
    op.inputs.forEach((a, i) => { inputs[a.name] = a.role === "row" && i === 0 ? fillRows(r, cols, kinds, cols) : normal(size(a.role), cols + i); });
    const fresh = (): PlainArgs => Object.fromEntries(op.outputs.map((a) => [a.name, new Float32Array(size(a.role))]));
    const outJs = fresh(), outCopy = fresh();
    op.call(js, cols, inputs, 1e-5, outJs);
    op.call(wasm, cols, inputs, 1e-5, outCopy);
    const tensors = Object.fromEntries([...Object.entries(inputs), ...Object.entries(fresh())].map(([k, v]) => [k, v ? wasm.from(v) : null]));
    const tIn: Args = Object.fromEntries(op.inputs.map((a) => [a.name, tensors[a.name]!]));
    const tOut: Args = Object.fromEntries(op.outputs.map((a) => [a.name, tensors[a.name]!]));
    op.call(wasm, cols, tIn, 1e-5, tOut);
    let mismatches = 0;
    for (const a of op.outputs) {
      const j = outJs[a.name]!, c = outCopy[a.name]!, t = tensors[a.name]!.data;
      if (firstBitDifference(j, c) >= 0 || firstBitDifference(j, t) >= 0) mismatches++;
    }
    const ref: RefArgs = Object.fromEntries(op.outputs.map((a) => [a.name, new Float64Array(size(a.role))]));
    op.reference(cols, inputs, 1e-5, ref);
    const main = op.outputs[0]!.name;
    let err = 0;
    for (let i = 0; i < ref[main]!.length; i++) if (Number.isFinite(ref[main]![i]!)) err = Math.max(err, Math.abs(ref[main]![i]! - outJs[main]![i]!));
    failures += mismatches;
    rows.push([op.name, `${r}x${cols}`, mismatches ? `MISMATCH (${mismatches} outputs)` : "identical", err.toExponential(2)]);
    for (const t of Object.values(tensors)) t?.free();
  }
}
console.log(`Equivalence: wasm (zero-copy and copying) vs JS fallback, rows of kinds ${kinds.join(", ")}\n`);
console.log(table(["op", "shape", "bits", "max abs error vs float64 (finite)"], rows));
console.log("");
if (failures) {
  console.error(`${failures} output(s) differ between backends`);
  process.exit(1);
}
