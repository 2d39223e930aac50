// Arguments for benchmark and check runs of a registry op, built from its ArgSpecs.
import { sizeOf, type ArgSpec, type OpEntry, type Params, type PlainArgs } from "../dist/registry.js";
import { fillRows, normal } from "../test/data.js";

/** Values of one input by its distribution. */
export function generate(spec: ArgSpec, n: number, seed: number): Float32Array {
  if (spec.dist === "weight") return normal(n, seed, 0.5, 1);
  const a = normal(n, seed);
  if (spec.dist === "positive") for (let i = 0; i < n; i++) a[i] = Math.abs(a[i]!) + 0.5;
  return a;
}

/** Every input present (the first from `kinds` rows when given), made consistent by op.prepare. */
export function allInputs(op: OpEntry, rows: number, cols: number, p: Params, kinds?: readonly string[]): PlainArgs {
  const a: PlainArgs = {};
  op.inputs.forEach((spec, i) => {
    const n = sizeOf(op, spec.role, rows, cols);
    a[spec.name] = i === 0 && kinds ? fillRows(n / cols, cols, kinds, cols) : generate(spec, n, 100 + i);
  });
  op.prepare?.(cols, a, p);
  return a;
}

/**
 * Fresh outputs: required ones, plus every optional one when `all` (or when the op has no
 * required output, like the backward passes, whose optional outputs are the point of the call).
 */
export function freshOutputs(op: OpEntry, rows: number, cols: number, all = false): PlainArgs {
  const every = all || op.outputs.every((a) => a.optional);
  return Object.fromEntries(op.outputs.map((a) => [a.name, !a.optional || every ? new Float32Array(sizeOf(op, a.role, rows, cols)) : null]));
}
