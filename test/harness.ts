// Runs any registry op the same way on every backend and argument kind, so the equivalence and
// accuracy tests are written once for all ops.
import { createRuntime, type Runtime, type Tensor } from "../src/index.js";
import type { Args, ArgSpec, OpEntry, PlainArgs, RefArgs } from "../src/registry.js";
import { normal } from "./data.js";

/** js: JS fallback; copy: wasm with plain arrays (staged in chunks); tensor: wasm, all args in wasm memory. */
export type Mode = "js" | "copy" | "tensor";
export const modes: readonly Mode[] = ["js", "copy", "tensor"];

let runtimes: Record<"js" | "wasm", Runtime> | undefined;
export function runtimeFor(mode: Mode): Runtime {
  runtimes ??= { js: createRuntime({ backend: "js" }), wasm: createRuntime({ backend: "wasm" }) };
  return mode === "js" ? runtimes.js : runtimes.wasm;
}

export interface Variant {
  /** Optional arguments present in this call. */
  present: ReadonlySet<string>;
  inPlace: boolean;
  label: string;
}

/** Every subset of the op's optional arguments, each with and without in-place. */
export function variants(op: OpEntry): Variant[] {
  const optional = [...op.inputs, ...op.outputs].filter((a) => a.optional).map((a) => a.name);
  const out: Variant[] = [];
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const present = new Set(optional.filter((_, i) => mask & (1 << i)));
    for (const inPlace of op.inPlace ? [false, true] : [false]) {
      out.push({ present, inPlace, label: `${[...present].join("+") || "plain"}${inPlace ? " in-place" : ""}` });
    }
  }
  return out;
}

function size(a: ArgSpec, rows: number, cols: number): number {
  return a.role === "row" ? rows * cols : a.role === "feature" ? cols : rows;
}

/** Inputs for one call: row inputs from `rowData` (the first) or N(0,1); feature inputs N(0,1)-ish. */
export function makeInputs(op: OpEntry, rows: number, cols: number, rowData: Float32Array, v: Variant, seed: number): PlainArgs {
  const a: PlainArgs = {};
  let k = 0;
  for (const spec of op.inputs) {
    if (spec.optional && !v.present.has(spec.name)) { a[spec.name] = null; continue; }
    const n = size(spec, rows, cols);
    a[spec.name] = spec.role === "row" && k++ === 0 ? rowData : normal(n, seed + 17 * k++, spec.name === "weight" ? 0.5 : 1, spec.name === "weight" ? 1 : 0);
  }
  return a;
}

/** Calls the op in `mode`; returns copies of the outputs. */
export function run(op: OpEntry, mode: Mode, cols: number, inputs: PlainArgs, v: Variant, eps: number): Record<string, Float32Array> {
  const rt = runtimeFor(mode);
  const rows = (inputs[op.inputs[0]!.name]!.length / cols) | 0;
  // Plain arrays for js/copy; for tensor mode, tensors first and views only after all allocations.
  const src: Record<string, Float32Array | null> = {};
  for (const spec of op.inputs) src[spec.name] = inputs[spec.name] ? inputs[spec.name]!.slice() : null;
  const outNames: string[] = [];
  for (const spec of op.outputs) {
    if (spec.optional && !v.present.has(spec.name)) { src[spec.name] = null; continue; }
    outNames.push(spec.name);
    if (!(v.inPlace && op.inPlace && spec.name === op.inPlace[0])) src[spec.name] = new Float32Array(size(spec, rows, cols)).fill(NaN);
  }
  const tensors = new Map<string, Tensor>();
  if (mode === "tensor") for (const [k, arr] of Object.entries(src)) if (arr) tensors.set(k, rt.from(arr));
  const view = (k: string): Float32Array | null => (mode === "tensor" ? tensors.get(k)?.data ?? null : src[k] ?? null);
  const a: Args = {};
  for (const spec of op.inputs) a[spec.name] = view(spec.name);
  const outs: Args = {};
  for (const spec of op.outputs) {
    outs[spec.name] = v.inPlace && op.inPlace && spec.name === op.inPlace[0] ? a[op.inPlace[1]]! : view(spec.name);
  }
  op.call(rt, cols, a, eps, outs);
  const result: Record<string, Float32Array> = {};
  for (const k of outNames) {
    const name = v.inPlace && op.inPlace && k === op.inPlace[0] ? op.inPlace[1] : k;
    result[k] = view(name)!.slice();
  }
  for (const t of tensors.values()) t.free();
  return result;
}

/** Float64 reference outputs. */
export function reference(op: OpEntry, cols: number, inputs: PlainArgs, v: Variant, eps: number): Record<string, Float64Array> {
  const rows = (inputs[op.inputs[0]!.name]!.length / cols) | 0;
  const outs: RefArgs = {};
  for (const spec of op.outputs) {
    outs[spec.name] = spec.optional && !v.present.has(spec.name) ? null : new Float64Array(size(spec, rows, cols));
  }
  op.reference(cols, inputs, eps, outs);
  return Object.fromEntries(Object.entries(outs).filter(([, o]) => o)) as Record<string, Float64Array>;
}
