// The list of ops. Tests (equivalence, accuracy, errors) and benchmarks iterate it, so a new op
// is added here once: its public call, its float64 reference, and the shape of its arguments.
import { batchNorm } from "./ops/batchNorm.js";
import { groupNorm, groupNormBackward } from "./ops/groupNorm.js";
import { instanceNorm } from "./ops/instanceNorm.js";
import { groupNormBackwardReference, groupNormReference, groupStats, instanceNormReference } from "./reference/groupNorm.js";
import { layerNorm } from "./ops/layerNorm.js";
import { layerNormBackward, rmsNormBackward } from "./ops/normBackward.js";
import { rmsNorm } from "./ops/rmsNorm.js";
import { skipLayerNorm, skipRmsNorm } from "./ops/skipNorm.js";
import { layerNormReference } from "./reference/layerNorm.js";
import { batchNormReference, normBackwardReference, rmsNormReference, skipSum } from "./reference/norms.js";
import { Tensor } from "./runtime/memory.js";
import { f32Facts } from "./runtime/typed.js";
import type { Float32Like, Runtime } from "./runtime/runtime.js";

/**
 * Sizes of a "rows x cols" case by role (OpEntry.size may change them): "row": rows x cols;
 * "feature": cols; "rowStat": one per row; "channel": one per channel (cols by default).
 */
export type Role = "row" | "feature" | "rowStat" | "channel";
export interface ArgSpec {
  name: string;
  role: Role;
  /** May be omitted (null) in a call. */
  optional?: boolean;
  /** Optional arguments of one group are present or absent together (saved statistics, running statistics). */
  group?: string;
  /** An input the op updates in place (running statistics): compared like an output. */
  updated?: boolean;
  /** An input that may instead be a single row broadcast to every row (a "feature"-sized array). */
  broadcast?: boolean;
  /** Generated values: N(0,1) (default), N(1, 0.5) ("weight") or |N(0,1)| + 0.5 ("positive"). */
  dist?: "normal" | "weight" | "positive";
}
/** Arguments by name; absent optional ones are null. Tensors or views over wasm memory are zero-copy. */
export type Args = Record<string, Float32Like | null>;
/** Plain-array arguments (references and baselines read them directly). */
export type PlainArgs = Record<string, Float32Array | null>;
export type RefArgs = Record<string, Float64Array | Float32Array | null>;
/** Scalar options of a call. */
export interface Params {
  eps: number;
  momentum: number;
}
export const defaultParams: Params = { eps: 1e-5, momentum: 0.1 };

export interface OpEntry {
  name: string;
  /** The PyTorch / ONNX op whose semantics it follows. */
  matches: string;
  inputs: readonly ArgSpec[];
  outputs: readonly ArgSpec[];
  /** Outputs that may be the same array as an input (in place): [output, input] pairs. */
  inPlace?: readonly (readonly [output: string, input: string])[];
  /** Elements of a role for a rows x cols case (default: see Role). */
  size?(role: Role, rows: number, cols: number): number;
  /** False for cases the op rejects by design (BatchNorm training needs > 1 value per channel). */
  accepts?(rows: number, cols: number): boolean;
  /** Scalar values the equivalence test sweeps, besides eps. */
  sweep?: Partial<Record<keyof Params, readonly number[]>>;
  /** Makes generated inputs consistent (e.g. saved statistics computed from x by the forward). */
  prepare?(cols: number, a: PlainArgs, p: Params): void;
  /** Max abs error of "row" outputs vs the float64 reference on N(0,1) rows, default parameters. */
  accuracy: number;
  /**
   * Worst error of the first output on adversarial finite rows, in ulp of the reference, or in
   * units of 2^-24 * scale where the reference gives a scale (results that can cancel).
   */
  adversarial: number;
  /** Same, with every optional input present (affine terms, saved statistics). */
  affine: number;
  /** Row outputs held to `accuracy` on N(0,1) rows as well as to the bounds in units of their scale. */
  absolute?: readonly string[];
  /** Outputs that are reductions over rows (or channels): error in units of 2^-24 * scale (default |ref|). */
  reductions?: number;
  /**
   * Outputs that equal the float32 rounding of the float64 reference exactly on rows of the first
   * input whose elements are all equal and finite, with eps > 0 (PyTorch: a constant row gives
   * exactly the bias). Row outputs are compared on that row, per-row outputs at its index.
   */
  exactOnConstantRows?: readonly string[];
  /**
   * Runs the public API and returns what it returns. `wrap` may replace the options object (tests
   * pass Proxies, getters and misspelt keys through it). An output key left out of `outs` is
   * undefined: the op allocates it.
   */
  call(rt: Runtime, cols: number, a: Args, p: Params, outs: Args, wrap?: Wrap): unknown;
  /** Float64 reference (or, into Float32Arrays, the naive JS baseline for benchmarks); `scales` as in src/reference/norms.ts. */
  reference(cols: number, a: PlainArgs, p: Params, outs: RefArgs, scales?: RefArgs): void;
  /** The unfused equivalent through the public API, with `add` computing the sum (benchmarked against call). */
  separate?(rt: Runtime, cols: number, a: Args, p: Params, outs: Args, add: AddRows): void;
}

/** Replaces a call's options object (see OpEntry.call). */
export type Wrap = <T extends object>(options: T) => T;
const same: Wrap = (o) => o;

/** Elements of an argument, as the library reads them (a Float32Array subclass may lie about its length). */
const lengthOf = (a: Float32Like): number => (a instanceof Tensor ? a.length : f32Facts(a)?.length ?? (a as { length: number }).length);

const view = (a: Float32Like | null | undefined): Float32Array | null => (a == null ? null : a instanceof Tensor ? a.data : a);

/** sum = (x + skip) [+ rb] with skip repeated over x and rb over rows of cols, each add rounded to f32. */
export type AddRows = (x: Float32Like, skip: Float32Like, rb: Float32Like | null, sum: Float32Like, cols: number) => void;

/** AddRows as plain JS loops (the f32 stores round each add). */
export const addRowsJs: AddRows = (xa, skipa, rba, suma, cols) => {
  const x = view(xa)!, skip = view(skipa)!, rb = view(rba), s = view(suma)!;
  const n = x.length, sl = skip.length;
  for (let r = 0; r < n; r += sl) for (let i = r, k = 0; k < sl; i++, k++) s[i] = x[i]! + skip[k]!;
  if (rb) for (let r = 0; r < n; r += cols) for (let i = r, j = 0; j < cols; i++, j++) s[i] = s[i]! + rb[j]!;
};

/** Elements of an argument of `role` in a rows x cols case of `op`. */
/**
 * The shape a random case of `op` takes: rows x cols, or when the op rejects that by design, 2 rows
 * (BatchNorm training with one value per channel), then 2 columns (InstanceNorm on input
 * statistics with one spatial element).
 */
export function acceptedShape(op: OpEntry, rows: number, cols: number): { rows: number; cols: number } {
  if (!op.accepts || op.accepts(rows, cols)) return { rows, cols };
  return op.accepts(2, cols) ? { rows: 2, cols } : { rows: 2, cols: 2 };
}

export function sizeOf(op: OpEntry, role: Role, rows: number, cols: number): number {
  if (op.size) return op.size(role, rows, cols);
  return role === "row" ? rows * cols : role === "feature" || role === "channel" ? cols : rows;
}

const rowsOf = (a: PlainArgs, cols: number): number => a.x!.length / cols;

const skipInputs = (rms: boolean): ArgSpec[] => [
  { name: "x", role: "row" }, { name: "skip", role: "row", broadcast: true },
  { name: "residualBias", role: "feature", optional: true }, { name: "weight", role: "feature", optional: true, dist: "weight" },
  ...(rms ? [] : [{ name: "bias", role: "feature", optional: true } as ArgSpec]),
];

let sumScratch = new Float32Array(0);

function skipEntry(rms: boolean): OpEntry {
  return {
    name: rms ? "skipRmsNorm" : "skipLayerNorm",
    matches: rms ? "onnxruntime SkipSimplifiedLayerNormalization" : "onnxruntime SkipLayerNormalization",
    inputs: skipInputs(rms),
    outputs: [
      { name: "out", role: "row" }, { name: "sum", role: "row", optional: true },
      ...(rms ? [] : [{ name: "mean", role: "rowStat", optional: true } as ArgSpec]), { name: "invStdDev", role: "rowStat", optional: true },
    ],
    inPlace: [["out", "x"], ["sum", "x"]],
    accuracy: 1e-6,
    adversarial: rms ? 3 : 6, // RMSNorm: f32-lane mean square (2.01 seen on constant rows); the issue allows 4 ulp of max(1, |y|)
    affine: 6,
    reductions: 6, // invStdDev (and LayerNorm's mean): the f32 statistics' first-order worst case, as layerNorm's / rmsNorm's
    absolute: ["out"],
    call(rt, cols, a, p, o, wrap = same) {
      // Literal options objects: an object spread measured ~4 us per call on Node 20.
      const residualBias = a.residualBias ?? null, weight = a.weight ?? null, sum = o.sum ?? null, invStdDev = o.invStdDev ?? null;
      if (rms) return skipRmsNorm(a.x!, a.skip!, cols, wrap({ residualBias, weight, eps: p.eps, out: o.out!, sum, invStdDev, runtime: rt }));
      return skipLayerNorm(a.x!, a.skip!, cols, wrap({ residualBias, weight, bias: a.bias ?? null, eps: p.eps, out: o.out!, sum, mean: o.mean ?? null, invStdDev, runtime: rt }));
    },
    reference(cols, a, p, o, sc) {
      const rows = rowsOf(a, cols);
      // A reused scratch for the float32 sum: as the naive baseline, allocating 1.5 MB per call
      // made its time swing with the garbage collector.
      if (sumScratch.length < a.x!.length) sumScratch = new Float32Array(a.x!.length);
      const s = sumScratch.subarray(0, a.x!.length);
      skipSum(a.x!, a.skip!, a.residualBias ?? null, s, rows, cols);
      if (o.sum) o.sum.set(s);
      if (rms) rmsNormReference(s, a.weight ?? null, o.out!, o.invStdDev ?? null, rows, cols, p.eps);
      else {
        layerNormReference(s, a.weight ?? null, a.bias ?? null, o.out!, o.mean ?? null, o.invStdDev ?? null, rows, cols, p.eps);
        layerScale(s, a.weight ?? null, a.bias ?? null, o, sc, rows, cols, p.eps);
      }
    },
    separate(rt, cols, a, p, o, add) {
      // What a caller does without the fused op: the add into `sum`, then the norm of the sum.
      add(a.x!, a.skip!, a.residualBias ?? null, o.sum!, cols);
      if (rms) rmsNorm(o.sum!, cols, { weight: a.weight ?? null, eps: p.eps, out: o.out!, invStdDev: o.invStdDev ?? null, runtime: rt });
      else layerNorm(o.sum!, cols, { weight: a.weight ?? null, bias: a.bias ?? null, eps: p.eps, out: o.out!, mean: o.mean ?? null, invStdDev: o.invStdDev ?? null, runtime: rt });
    },
  };
}

/**
 * LayerNorm's scales (and the fused LayerNorm's, x = the float32 sum): y within units of 2^-24 x
 * (|xhat| + sigma * rstd) * |w| + |b|, the mean within units of 2^-24 x (|mean| + sigma). The
 * f32 two-pass statistics (assembly/lanes.ts rowMoments) carry the mean to about 2^-24 x sigma,
 * as any float32 accumulation does (PyTorch's too): exact where it matters, on rows far from
 * zero (40000 + noise), but not to 2^-24 x |mean| where the mean is near zero, nor every y to an
 * ulp of itself where xhat is near zero; sigma * rstd (1 unless eps dominates the variance) is
 * that term in xhat's units, so a y near zero is held to an ulp of max(1, |xhat|) * |w|, the
 * issue's "ulp of max(1, |y|)". |b| is there because xhat * w and b can cancel.
 */
function layerScale(x: Float32Array, w: Float32Array | null, b: Float32Array | null, o: RefArgs, sc: RefArgs | undefined, rows: number, cols: number, eps: number): void {
  if (!sc) return;
  for (let r = 0; r < rows; r++) {
    let sm = 0, q = 0;
    for (let j = 0; j < cols; j++) sm += x[r * cols + j]!;
    const m = sm / cols;
    for (let j = 0; j < cols; j++) q += (x[r * cols + j]! - m) ** 2;
    const sigma = Math.sqrt(q / cols), rs = 1 / Math.sqrt(q / cols + eps);
    if (sc.mean) sc.mean[r] = Math.abs(m) + sigma;
    if (sc.out) for (let j = 0; j < cols; j++) sc.out[r * cols + j] = (Math.abs((x[r * cols + j]! - m) * rs) + sigma * rs) * Math.abs(w ? w[j]! : 1) + Math.abs(b ? b[j]! : 0);
  }
}

function backwardEntry(rms: boolean): OpEntry {
  return {
    name: rms ? "rmsNormBackward" : "layerNormBackward",
    matches: rms ? "torch.nn.RMSNorm backward (autograd)" : "torch native_layer_norm_backward",
    inputs: [
      { name: "x", role: "row" }, { name: "dy", role: "row" }, { name: "weight", role: "feature", optional: true, dist: "weight" },
      ...(rms ? [] : [{ name: "mean", role: "rowStat", optional: true, group: "saved" } as ArgSpec]),
      { name: "invStdDev", role: "rowStat", optional: true, group: "saved", dist: "positive" },
    ],
    outputs: [
      { name: "dx", role: "row", optional: true }, { name: "dweight", role: "feature", optional: true },
      ...(rms ? [] : [{ name: "dbias", role: "feature", optional: true } as ArgSpec]),
    ],
    inPlace: [["dx", "dy"]],
    accuracy: 1e-6, // no output without a scale: dx is measured in units of 2^-24 * scale
    // dx's first-order worst case, in units u = 2^-24 of the scale r * (|g| + mean|g| + |u| * mean|g * u|):
    // r 1u; u = f32(f32(f32(x - mhi) - mlo) * r) 4u (RMSNorm: f32(x * r), 2u); g = f32(dy * w) 1u;
    // B = sum(f32(g * u)) in f32 lanes of <= 8 terms per block, lanes paired in f32: 1u + 7u + 1u;
    // mb = f32(B / D) 1u + g's 1u + u's 4u (RMSNorm 2u) + B's 9u = 15u (RMSNorm 13u);
    // f32(u * mb) 1u + 4u + 15u = 20u (RMSNorm 16u); the three (RMSNorm: one) f32 subtractions 1u
    // each: 23u (RMSNorm 17u) on the |u| * mean|g * u| term, which dominates (mean(g) on its own
    // term: 1u + 9u + 3u). Measured worst so far 7.03 (RMSNorm, random case; f64 row sums).
    adversarial: rms ? 17 : 23,
    affine: rms ? 17 : 23,
    // dweight / dbias: each block of 32 rows sums f32 terms in f32 (term 1u, 31 adds 31u), blocks
    // added in f64; plus u's 4u (RMSNorm 2u) and the f32 output. (torch's CPU kernel sums every
    // row of a thread in float: (rows - 1)u.)
    reductions: 37,
    prepare(cols, a, p) {
      // Saved statistics as the forward would return them.
      if (!a.invStdDev) return;
      const y = new Float32Array(a.x!.length);
      if (rms) rmsNorm(a.x!, cols, { eps: p.eps, out: y, invStdDev: a.invStdDev });
      else layerNorm(a.x!, cols, { eps: p.eps, out: y, mean: a.mean!, invStdDev: a.invStdDev });
    },
    call(rt, cols, a, p, o, wrap = same) {
      const weight = a.weight ?? null, invStdDev = a.invStdDev ?? null, dx = "dx" in o ? o.dx : undefined, dweight = o.dweight ?? null;
      if (rms) return rmsNormBackward(a.dy!, a.x!, cols, wrap({ weight, invStdDev, eps: p.eps, dx, dweight, runtime: rt }));
      return layerNormBackward(a.dy!, a.x!, cols, wrap({ weight, mean: a.mean ?? null, invStdDev, eps: p.eps, dx, dweight, dbias: o.dbias ?? null, runtime: rt }));
    },
    reference(cols, a, p, o, sc) {
      normBackwardReference(rms, a.dy!, a.x!, a.weight ?? null, a.mean ?? null, a.invStdDev ?? null, o.dx ?? null, o.dweight ?? null, o.dbias ?? null,
        rowsOf(a, cols), cols, p.eps, { dx: sc?.dx ?? null, dweight: sc?.dweight ?? null, dbias: sc?.dbias ?? null });
    },
  };
}

/** BatchNorm cases: NCHW maps rows x cols to [rows, 3, cols]; channels-last to [rows, cols] (C = cols). */
function batchNormEntry(training: boolean, nchw: boolean): OpEntry {
  const C = (cols: number) => (nchw ? 3 : cols);
  const shape = (rows: number, cols: number) => (nchw ? [rows, 3, cols] : [rows, cols]);
  const running: ArgSpec[] = [
    { name: "runningMean", role: "channel", ...(training ? { optional: true, group: "running", updated: true } : {}) },
    { name: "runningVar", role: "channel", dist: "positive", ...(training ? { optional: true, group: "running", updated: true } : {}) },
  ];
  return {
    name: `batchNorm${training ? "Train" : "Eval"}${nchw ? "NCHW" : "NHWC"}`,
    // ONNX BatchNormalization-15 agrees in inference only: in training its momentum weights the old
    // running value and its running variance is the population one.
    matches: `torch.nn.BatchNorm1d, ${training ? "training" : "eval"}, on ${nchw ? "[N, C, L] (channel axis 1)" : "[N, C] (channel axis last)"}${training ? "" : "; ONNX BatchNormalization-15"}`,
    inputs: [
      { name: "x", role: "row" }, ...running,
      { name: "weight", role: "channel", optional: true, dist: "weight" }, { name: "bias", role: "channel", optional: true },
    ],
    outputs: [{ name: "out", role: "row" }, { name: "mean", role: "channel", optional: true }, { name: "invStdDev", role: "channel", optional: true }],
    inPlace: [["out", "x"]],
    size: (role, rows, cols) => (role === "row" ? rows * cols * (nchw ? 3 : 1) : role === "rowStat" ? rows : role === "channel" ? C(cols) : cols),
    accepts: (rows, cols) => !training || rows * (nchw ? cols : 1) > 1,
    ...(training ? { sweep: { momentum: [0, 0.1, 0.37, 1] } } : {}),
    accuracy: 1e-6,
    adversarial: training ? 3.5 : 3,
    affine: 6,
    reductions: 2,
    call(rt, cols, a, p, o, wrap = same) {
      const rows = lengthOf(a.x!) / (cols * (nchw ? 3 : 1));
      return batchNorm(a.x!, shape(rows, cols), wrap({
        channelAxis: nchw ? 1 : -1, training, momentum: p.momentum, eps: p.eps, runningMean: a.runningMean ?? null, runningVar: a.runningVar ?? null,
        weight: a.weight ?? null, bias: a.bias ?? null, out: o.out!, mean: o.mean ?? null, invStdDev: o.invStdDev ?? null, runtime: rt,
      }));
    },
    reference(cols, a, p, o, sc) {
      const rows = a.x!.length / (cols * (nchw ? 3 : 1));
      batchNormReference(a.x!, a.weight ?? null, a.bias ?? null, a.runningMean ?? null, a.runningVar ?? null, training, p.momentum, o.out!, o.mean ?? null, o.invStdDev ?? null,
        o.runningMean ?? null, o.runningVar ?? null, rows, C(cols), nchw ? cols : 1, p.eps);
      if (sc?.out && a.bias) {
        const c = C(cols), inner = nchw ? cols : 1;
        for (let i = 0; i < o.out!.length; i++) {
          const b = a.bias[Math.floor(i / inner) % c]!;
          sc.out[i] = Math.abs(o.out![i]! - b) + Math.abs(b);
        }
      }
      if (training && a.runningMean) {
        // Running updates add two terms that can cancel: scale |(1 - m) run| + |m stat|.
        for (let c = 0; c < C(cols); c++) {
          if (sc?.runningMean) sc.runningMean[c] = Math.abs((1 - p.momentum) * a.runningMean[c]!) + Math.abs(o.runningMean![c]! - (1 - p.momentum) * a.runningMean[c]!);
          if (sc?.runningVar) sc.runningVar[c] = Math.abs((1 - p.momentum) * a.runningVar![c]!) + Math.abs(o.runningVar![c]! - (1 - p.momentum) * a.runningVar![c]!);
        }
      }
    },
  };
}

/**
 * GroupNorm's float64 reference, with the scale its errors are measured in: a group mixes rows of
 * the test's different kinds, so x - mean can cancel; the inputs of that difference are float32,
 * so the scale of y is (|x| + |mean|) * rstd * |w| + |b|, plus 2^-28 * sum|x| * rstd * |w| for
 * the mean itself: a float64 sum of the group is off by up to 2^-53 * sum|x| in the kernel and in
 * this reference alike (seen: a group [-1.3e-21, 1e-20, 1000, -1000], whose float64 sum is 0 in
 * either order, gives x̂[0] = 0 with the kernel's shift and -1.8e-24 here; both are 5e-24 from
 * the exact value, which is within 2^-24 units of that term); plus sigma * rstd * |w|, the mean
 * within 2^-24 x (|mean| + sigma) as LayerNorm's: the f32 two-pass carries each channel's mean
 * to about 2^-24 x its sigma.
 */
function groupReference(a: PlainArgs, p: Params, o: RefArgs, sc: RefArgs | undefined, N: number, C: number, S: number, G: number, cl: boolean, zeroRstd = false): void {
  const mean = new Float64Array(N * G), rstd = new Float64Array(N * G), w = a.weight ?? null, b = a.bias ?? null;
  groupNormReference(a.x!, w, b, o.out!, mean, rstd, N, C, S, G, p.eps, cl, null, zeroRstd);
  o.mean?.set(mean);
  o.invStdDev?.set(rstd);
  if (!sc?.out) return;
  const Cg = C / G, group = (i: number) => Math.floor(i / (S * C)) * G + Math.floor((cl ? i % C : Math.floor(i / S) % C) / Cg);
  const sumAbs = new Float64Array(N * G);
  for (let i = 0; i < a.x!.length; i++) sumAbs[group(i)]! += Math.abs(a.x![i]!);
  const sigma = Array.from(rstd, (rs) => (rs === 0 ? 0 : Math.sqrt(Math.max(0, 1 / (rs * rs) - p.eps))));
  if (sc.mean) for (let r = 0; r < N * G; r++) sc.mean[r] = Math.abs(mean[r]!) + sigma[r]!;
  for (let i = 0; i < a.x!.length; i++) {
    const c = cl ? i % C : Math.floor(i / S) % C, r = group(i);
    sc.out[i] = (Math.abs(a.x![i]!) + Math.abs(mean[r]!) + sigma[r]! + 2 ** -28 * sumAbs[r]!) * rstd[r]! * Math.abs(w ? w[c]! : 1) + Math.abs(b ? b[c]! : 0);
  }
}

/**
 * GroupNorm cases: rows x cols maps to N = rows samples of C = 6 channels in 3 groups with S = cols
 * positions, [N, 6, S] or channels-last [N, S, 6].
 */
function groupNormEntry(cl: boolean): OpEntry {
  const C = 6, G = 3;
  const shape = (N: number, S: number) => (cl ? [N, S, C] : [N, C, S]);
  return {
    name: `groupNorm${cl ? "NHWC" : "NCHW"}`,
    matches: `torch.nn.GroupNorm / F.group_norm, ONNX GroupNormalization-21, on ${cl ? "[N, S, C] (channelAxis -1)" : "[N, C, S]"}`,
    inputs: [{ name: "x", role: "row" }, { name: "weight", role: "channel", optional: true, dist: "weight" }, { name: "bias", role: "channel", optional: true }],
    outputs: [{ name: "out", role: "row" }, { name: "mean", role: "rowStat", optional: true }, { name: "invStdDev", role: "rowStat", optional: true }],
    inPlace: [["out", "x"]],
    size: (role, rows, cols) => (role === "row" ? rows * C * cols : role === "rowStat" ? rows * G : C),
    accuracy: 1e-6,
    adversarial: 4,
    affine: 6,
    call(rt, cols, a, p, o, wrap = same) {
      const N = lengthOf(a.x!) / (C * cols);
      return groupNorm(a.x!, shape(N, cols), G, wrap({ channelAxis: cl ? -1 : 1, weight: a.weight ?? null, bias: a.bias ?? null, eps: p.eps, out: o.out!, mean: o.mean ?? null, invStdDev: o.invStdDev ?? null, runtime: rt }));
    },
    reference(cols, a, p, o, sc) {
      const N = a.x!.length / (C * cols);
      groupReference(a, p, o, sc, N, C, cols, G, cl);
    },
  };
}

/** InstanceNorm cases: [N, 3, S] with input statistics (running statistics updated when given), or normalised by running statistics. */
function instanceNormEntry(useInputStats: boolean): OpEntry {
  const C = 3;
  const running: ArgSpec[] = [
    { name: "runningMean", role: "channel", ...(useInputStats ? { optional: true, group: "running", updated: true } : {}) },
    { name: "runningVar", role: "channel", dist: "positive", ...(useInputStats ? { optional: true, group: "running", updated: true } : {}) },
  ];
  return {
    name: `instanceNorm${useInputStats ? "Train" : "Eval"}`,
    matches: `torch.nn.InstanceNorm1d / F.instance_norm (${useInputStats ? "input statistics, running update" : "running statistics"})${useInputStats ? ", ONNX InstanceNormalization" : ""}`,
    inputs: [{ name: "x", role: "row" }, ...running, { name: "weight", role: "channel", optional: true, dist: "weight" }, { name: "bias", role: "channel", optional: true }],
    outputs: [{ name: "out", role: "row" }, { name: "mean", role: "rowStat", optional: true }, { name: "invStdDev", role: "rowStat", optional: true }],
    inPlace: [["out", "x"]],
    size: (role, rows, cols) => (role === "row" ? rows * C * cols : role === "rowStat" ? rows * C : C),
    // torch rejects one spatial element with input statistics ("Expected more than 1 spatial element").
    accepts: (_rows, cols) => !useInputStats || cols > 1,
    ...(useInputStats ? { sweep: { momentum: [0, 0.1, 0.37, 1] } } : {}),
    accuracy: 1e-6,
    adversarial: 4,
    affine: 6,
    reductions: 3,
    call(rt, cols, a, p, o, wrap = same) {
      const N = lengthOf(a.x!) / (C * cols);
      return instanceNorm(a.x!, [N, C, cols], wrap({
        useInputStats, momentum: p.momentum, eps: p.eps, runningMean: a.runningMean ?? null, runningVar: a.runningVar ?? null,
        weight: a.weight ?? null, bias: a.bias ?? null, out: o.out!, mean: o.mean ?? null, invStdDev: o.invStdDev ?? null, runtime: rt,
      }));
    },
    reference(cols, a, p, o, sc) {
      const N = a.x!.length / (C * cols);
      if (useInputStats) {
        groupReference(a, p, o, sc, N, C, cols, C, false, true);
        if (o.runningMean) instanceNormReference(a.x!, null, null, o.runningMean, o.runningVar!, true, p.momentum, new Float64Array(a.x!.length), N, C, cols, p.eps);
        // The running mean takes momentum x the batch's mean of instance means, each within 2^-24 x (|mean| + sigma).
        if (sc?.runningMean && o.runningMean) {
          for (let c = 0; c < C; c++) {
            let s = 0;
            for (let n = 0; n < N; n++) {
              const [m, v] = groupStats(a.x!, n, c, 1, C, cols, false);
              s += Math.abs(m) + Math.sqrt(v);
            }
            sc.runningMean[c] = Math.abs((1 - p.momentum) * a.runningMean![c]!) + (p.momentum * s) / N;
          }
        }
        return;
      }
      instanceNormReference(a.x!, a.weight ?? null, a.bias ?? null, a.runningMean!, a.runningVar!, false, p.momentum, o.out!, N, C, cols, p.eps);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) {
        if (o.mean) o.mean[n * C + c] = a.runningMean![c]!;
        if (o.invStdDev) o.invStdDev[n * C + c] = 1 / Math.sqrt(a.runningVar![c]! + p.eps);
      }
      if (sc?.out && a.bias) {
        for (let i = 0; i < o.out!.length; i++) {
          const b = a.bias[Math.floor(i / cols) % C]!;
          sc.out[i] = Math.abs(o.out![i]! - b) + Math.abs(b);
        }
      }
    },
  };
}

/** GroupNorm backward cases: [N, 6, S], 3 groups (saved statistics optional). */
const groupNormBackwardEntry: OpEntry = {
  name: "groupNormBackward",
  matches: "torch native_group_norm_backward (F.group_norm autograd)",
  inputs: [
    { name: "x", role: "row" }, { name: "dy", role: "row" }, { name: "weight", role: "channel", optional: true, dist: "weight" },
    { name: "mean", role: "rowStat", optional: true, group: "saved" }, { name: "invStdDev", role: "rowStat", optional: true, group: "saved", dist: "positive" },
  ],
  outputs: [{ name: "dx", role: "row", optional: true }, { name: "dweight", role: "channel", optional: true }, { name: "dbias", role: "channel", optional: true }],
  inPlace: [["dx", "dy"]],
  size: (role, rows, cols) => (role === "row" ? rows * 6 * cols : role === "rowStat" ? rows * 3 : 6),
  accuracy: 1e-6,
  adversarial: 14, // LayerNorm backward's dx pass, same roundings: its first-order worst case (see backwardEntry)
  affine: 14,
  reductions: 4,
  prepare(cols, a, p) {
    if (!a.invStdDev) return;
    const N = a.x!.length / (6 * cols);
    groupNorm(a.x!, [N, 6, cols], 3, { eps: p.eps, out: new Float32Array(a.x!.length), mean: a.mean!, invStdDev: a.invStdDev });
  },
  call(rt, cols, a, p, o, wrap = same) {
    const N = lengthOf(a.x!) / (6 * cols);
    return groupNormBackward(a.dy!, a.x!, [N, 6, cols], 3, wrap({
      weight: a.weight ?? null, mean: a.mean ?? null, invStdDev: a.invStdDev ?? null, eps: p.eps,
      dx: "dx" in o ? o.dx : undefined, dweight: o.dweight ?? null, dbias: o.dbias ?? null, runtime: rt,
    }));
  },
  reference(cols, a, p, o, sc) {
    const N = a.x!.length / (6 * cols);
    groupNormBackwardReference(a.dy!, a.x!, a.weight ?? null, a.mean ?? null, a.invStdDev ?? null, o.dx ?? null, o.dweight ?? null, o.dbias ?? null,
      N, 6, cols, 3, p.eps, false, { dx: sc?.dx ?? null, dweight: sc?.dweight ?? null, dbias: sc?.dbias ?? null });
  },
};

export const ops: readonly OpEntry[] = [
  {
    name: "layerNorm",
    matches: "torch.nn.LayerNorm / F.layer_norm, ONNX LayerNormalization-17",
    inputs: [{ name: "x", role: "row" }, { name: "weight", role: "feature", optional: true, dist: "weight" }, { name: "bias", role: "feature", optional: true }],
    outputs: [{ name: "out", role: "row" }, { name: "mean", role: "rowStat", optional: true }, { name: "invStdDev", role: "rowStat", optional: true }],
    inPlace: [["out", "x"]],
    accuracy: 1e-6,
    adversarial: 6,
    affine: 6,
    // invStdDev: the f32 lanes' sum of squares is off by up to ~10 roundings relative (8 adds per
    // block, the fold, the square), half of that in 1/sqrt, plus its own rounding: 6 units, first
    // order (2.12 seen: a row with one outlier at x[0]). mean: units of |mean| + sigma.
    reductions: 6,
    absolute: ["out"],
    exactOnConstantRows: ["out", "mean", "invStdDev"],
    call(rt, cols, a, p, o, wrap = same) {
      return layerNorm(a.x!, cols, wrap({ weight: a.weight ?? null, bias: a.bias ?? null, eps: p.eps, out: o.out!, mean: o.mean ?? null, invStdDev: o.invStdDev ?? null, runtime: rt }));
    },
    reference(cols, a, p, o, sc) {
      layerNormReference(a.x!, a.weight ?? null, a.bias ?? null, o.out!, o.mean ?? null, o.invStdDev ?? null, rowsOf(a, cols), cols, p.eps);
      layerScale(a.x!, a.weight ?? null, a.bias ?? null, o, sc, rowsOf(a, cols), cols, p.eps);
    },
  },
  {
    name: "rmsNorm",
    matches: "torch.nn.RMSNorm / F.rms_norm, ONNX RMSNormalization-23",
    inputs: [{ name: "x", role: "row" }, { name: "weight", role: "feature", optional: true, dist: "weight" }],
    outputs: [{ name: "out", role: "row" }, { name: "invStdDev", role: "rowStat", optional: true }],
    inPlace: [["out", "x"]],
    accuracy: 1e-6,
    adversarial: 3, // f32-lane mean square (2.01 seen on constant rows); the issue allows 4 ulp of max(1, |y|)
    affine: 4,
    // invStdDev: the f32 lanes' sum of squares as LayerNorm's (up to ~10 roundings relative, half
    // of that in 1/sqrt, plus its own rounding): 6 units first order (2.01 seen, a constant row of
    // D = 807 under npm run fuzz, against the 2 asserted before).
    reductions: 6,
    call(rt, cols, a, p, o, wrap = same) {
      return rmsNorm(a.x!, cols, wrap({ weight: a.weight ?? null, eps: p.eps, out: o.out!, invStdDev: o.invStdDev ?? null, runtime: rt }));
    },
    reference(cols, a, p, o) {
      rmsNormReference(a.x!, a.weight ?? null, o.out!, o.invStdDev ?? null, rowsOf(a, cols), cols, p.eps);
    },
  },
  skipEntry(false),
  skipEntry(true),
  backwardEntry(false),
  backwardEntry(true),
  batchNormEntry(false, true),
  batchNormEntry(true, true),
  batchNormEntry(false, false),
  batchNormEntry(true, false),
  groupNormEntry(false),
  groupNormEntry(true),
  instanceNormEntry(true),
  instanceNormEntry(false),
  groupNormBackwardEntry,
];
