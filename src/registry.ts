// The list of ops. Tests (equivalence, accuracy, errors) and benchmarks iterate it, so a new op
// is added here once: its public call, its float64 reference, and the shape of its arguments.
import { layerNorm } from "./ops/layerNorm.js";
import { layerNormReference } from "./reference/layerNorm.js";
import type { Float32Like, Runtime } from "./runtime/runtime.js";

/** "row": rows x cols; "feature": cols; "rowStat": one per row. */
export type Role = "row" | "feature" | "rowStat";
export interface ArgSpec {
  name: string;
  role: Role;
  /** May be omitted (null) in a call. */
  optional?: boolean;
}
/** Arguments by name; absent optional ones are null. Tensors or views over wasm memory are zero-copy. */
export type Args = Record<string, Float32Like | null>;
/** Plain-array arguments (references and baselines read them directly). */
export type PlainArgs = Record<string, Float32Array | null>;
export type RefArgs = Record<string, Float64Array | Float32Array | null>;

export interface OpEntry {
  name: string;
  inputs: readonly ArgSpec[];
  outputs: readonly ArgSpec[];
  /** Output that may be the same array as this input (in place). */
  inPlace?: readonly [output: string, input: string];
  /** Documented max abs error vs the float64 reference on N(0,1) rows with default parameters. */
  accuracy: number;
  /** Runs the public API. `eps` is the op's eps/epsilon. */
  call(rt: Runtime, cols: number, a: Args, eps: number, outs: Args): void;
  /** Float64 reference (or, into Float32Arrays, the naive JS baseline for benchmarks). */
  reference(cols: number, a: PlainArgs, eps: number, outs: RefArgs): void;
}

export const ops: readonly OpEntry[] = [
  {
    name: "layerNorm",
    inputs: [{ name: "x", role: "row" }, { name: "weight", role: "feature", optional: true }, { name: "bias", role: "feature", optional: true }],
    outputs: [{ name: "out", role: "row" }, { name: "mean", role: "rowStat", optional: true }, { name: "invStdDev", role: "rowStat", optional: true }],
    inPlace: ["out", "x"],
    accuracy: 1e-6,
    call(rt, cols, a, eps, o) {
      layerNorm(a.x!, cols, { weight: a.weight, bias: a.bias, eps, out: o.out!, mean: o.mean, invStdDev: o.invStdDev, runtime: rt });
    },
    reference(cols, a, eps, o) {
      layerNormReference(a.x!, a.weight!, a.bias!, o.out!, o.mean!, o.invStdDev!, a.x!.length / cols, cols, eps);
    },
  },
];
