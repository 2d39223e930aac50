// Equivalence check for the main job: every registry op, wasm (zero-copy and copying) against the
// JS fallback, bit for bit on every output, plus the max error of the first output against the
// float64 reference, relative to max(1, |ref|) (finite values). Exits 1 on a mismatch.
import { createRuntime } from "../dist/index.js";
import { defaultParams, ops, sizeOf, type Args, type PlainArgs, type RefArgs } from "../dist/registry.js";
import { firstBitDifference } from "../test/data.js";
import { allInputs, freshOutputs } from "./args.js";
import { table } from "./lib.js";

const wasm = createRuntime({ backend: "wasm" });
const js = createRuntime({ backend: "js" });
const kinds = ["normal", "offset40000", "constant", "denormal", "near1e18", "nanMiddle", "posInf", "outlierFirst"];
const shapes = [[8, 1], [8, 7], [8, 64], [16, 768], [4, 4097], [2, 16384]] as const;
const P = defaultParams;
let failures = 0;
const rows: string[][] = [];
for (const op of ops) {
  for (const [r, cols] of shapes) {
    if (op.accepts && !op.accepts(r, cols)) continue;
    const inputs = allInputs(op, r, cols, P, kinds);
    const updated = op.inputs.filter((a) => a.updated).map((a) => a.name);
    const copyIn = (): PlainArgs => Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v && updated.includes(k) ? v.slice() : v]));
    const results = (a: PlainArgs, o: PlainArgs): Record<string, Float32Array> => ({ ...o, ...Object.fromEntries(updated.map((k) => [k, a[k]!])) }) as Record<string, Float32Array>;
    const inJs = copyIn(), inCopy = copyIn(), outJs = freshOutputs(op, r, cols, true), outCopy = freshOutputs(op, r, cols, true);
    op.call(js, cols, inJs, P, outJs);
    op.call(wasm, cols, inCopy, P, outCopy);
    const tensors = Object.fromEntries([...Object.entries(inputs), ...Object.entries(freshOutputs(op, r, cols, true))].map(([k, v]) => [k, v ? wasm.from(v) : null]));
    const tIn: Args = Object.fromEntries(op.inputs.map((a) => [a.name, tensors[a.name]!]));
    const tOut: Args = Object.fromEntries(op.outputs.map((a) => [a.name, tensors[a.name]!]));
    op.call(wasm, cols, tIn, P, tOut);
    const j = results(inJs, outJs), c = results(inCopy, outCopy);
    let mismatches = 0;
    for (const name of Object.keys(j)) {
      if (firstBitDifference(j[name]!, c[name]!) >= 0 || firstBitDifference(j[name]!, tensors[name]!.data) >= 0) mismatches++;
    }
    const ref: RefArgs = Object.fromEntries([
      ...op.outputs.map((a) => [a.name, new Float64Array(sizeOf(op, a.role, r, cols))]),
      ...updated.map((k) => [k, Float64Array.from(inputs[k]!)]),
    ]);
    op.reference(cols, inputs, P, ref);
    const main = op.outputs[0]!.name;
    let err = 0;
    for (let i = 0; i < ref[main]!.length; i++) if (Number.isFinite(ref[main]![i]!)) err = Math.max(err, Math.abs(ref[main]![i]! - j[main]![i]!) / Math.max(1, Math.abs(ref[main]![i]!)));
    failures += mismatches;
    rows.push([op.name, `${r}x${cols}`, mismatches ? `MISMATCH (${mismatches} outputs)` : "identical", err.toExponential(2)]);
    for (const t of Object.values(tensors)) t?.free();
  }
}
console.log(`Equivalence: wasm (zero-copy and copying) vs JS fallback, rows of kinds ${kinds.join(", ")}\n`);
console.log(table(["op", "shape", "bits", "max error of the first output vs float64, / max(1, |ref|)"], rows));
console.log("");
if (failures) {
  console.error(`${failures} output(s) differ between backends`);
  process.exit(1);
}
