// groupNorm / groupNormBackward and class GroupNorm: torch.nn.functional.group_norm and
// torch.nn.GroupNorm, ONNX GroupNormalization-21 (scale and bias per channel), on [N, C, ...spatial]
// (channelAxis 1) or channels-last [N, ...spatial, C] (channelAxis -1), with the same bits in
// both layouts. A "row" is one (sample, group): C / numGroups channels of S spatial positions.
import { foldBlocksJs } from "../fallback/reduce.js";
import { groupNormBackwardJs, groupNormJs, groupNormWorkBytes } from "../fallback/groupNorm.js";
import { align64, invoke, NONE, partsPerChunk, ROWS, signature, type Call, type Chunk } from "../runtime/call.js";
import type { Tensor } from "../runtime/memory.js";
import type { Float32Like, Runtime } from "../runtime/runtime.js";
import { describe } from "../runtime/typed.js";
import { channelAxisOr1, shapeCopy } from "./batchNorm.js";
import type { NormGradients } from "./normBackward.js";
import { assignParam, checkChannels, disposeAll, flag, moduleOptions, moduleRuntime, paramTensor } from "./params.js";
import { checkEps, epsOr, numberError } from "./validate.js";

/** Bytes of per-sample partial sums a backward chunk keeps (calls are split into chunks to fit). */
const PARTS_BYTES = 256 * 1024;

export interface GroupNormOptions {
  /** 1 (default): [N, C, ...spatial]; -1 (or rank - 1): channels-last [N, ...spatial, C]. */
  channelAxis?: number;
  /** Per-channel scale (length C); absent means 1. */
  weight?: Float32Like | null;
  /** Per-channel shift (length C); absent means 0. */
  bias?: Float32Like | null;
  /** Added to the variance inside the square root. Default 1e-5. */
  eps?: number;
  /** Where to write y (length = x.length). May be x itself. Default: a new array/tensor. */
  out?: Float32Like;
  /** Per (sample, group) mean output (length N * numGroups). */
  mean?: Float32Like | null;
  /** Per (sample, group) 1/sqrt(var + eps) output (length N * numGroups). */
  invStdDev?: Float32Like | null;
  /** Runtime to run in. Default: the tensor's runtime, else the default runtime. */
  runtime?: Runtime;
}

export interface GroupNormBackwardOptions {
  channelAxis?: number;
  /** The forward's per-channel weight (length C); absent means 1. */
  weight?: Float32Like | null;
  /** The forward's mean and invStdDev outputs (length N * numGroups), both or neither (absent: recomputed with eps). */
  mean?: Float32Like | null;
  invStdDev?: Float32Like | null;
  /** The forward's eps (used when the statistics are recomputed). Default 1e-5. */
  eps?: number;
  /** Output dL/dx (may be dy itself). Undefined: allocated; null: not computed. */
  dx?: Float32Like | null;
  /** Outputs dL/dweight, dL/dbias (length C). Undefined: allocated; null: not computed. */
  dweight?: Float32Like | null;
  dbias?: Float32Like | null;
  runtime?: Runtime;
}

/**
 * Sizes of [N, C, ...spatial] or [N, ...spatial, C] around the channel axis, for G groups:
 * rows = N * G (sample, group) pairs of M = (C / G) * S elements; cl = 1 for channels-last.
 */
export function groupDims(c: Call, G: number, first = "x"): void {
  const shape = c.scalar("shape") as number[], rank = shape.length, axisIn = c.scalar("channelAxis");
  if (axisIn !== 1 && axisIn !== -1 && axisIn !== rank - 1) {
    throw numberError("channelAxis", "1 (channels first) or -1 (channels last)", axisIn);
  }
  const last = axisIn !== 1 && rank > 2;
  const axis = last ? rank - 1 : 1, C = shape[axis]!;
  let size = 1, S = 1;
  for (const s of shape) size *= s;
  for (let i = 1; i < rank; i++) if (i !== axis) S *= shape[i]!;
  const n = c.len(first);
  if (size !== n) throw new RangeError(`${first} length: expected ${size} (product of shape [${shape.join(", ")}]), got ${n}`);
  if (C === 0) throw new RangeError(`shape[${axis}]: expected at least 1 channel, got 0`);
  if (C % G !== 0) throw new RangeError(`numGroups: expected a divisor of the ${C} channels (shape[${axis}]), got ${G}`);
  const N = shape[0]!;
  Object.assign(c.d, { n, N, C, S: Math.max(S, 1), spatial: S, G, rows: S === 0 ? 0 : N * G, M: (C / G) * Math.max(S, 1), NG: N * G, one: 1, cl: +last });
}

/** torch's checks on the statistics of a call: `count` values (computed from the sizes as torch does) must be more than 1. */
export function checkCount(c: Call, count: number, what: string): void {
  if (count === 1) throw new RangeError(`x: expected more than 1 ${what}, got 1 (shape [${(c.scalar("shape") as number[]).join(", ")}])`);
}

function positiveInt(name: string): (v: unknown) => number {
  return (v) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw numberError(name, "a positive integer", v);
    return v;
  };
}

/** The kernels' work area (per-channel statistics, lane tiles): one private area per thread part. */
const laneWork = (c: Call) => groupNormWorkBytes(c.d.C!);

const forward = ["x", "weight", "bias", "out", "mean", "invStdDev", NONE, (_: Chunk, c: Call) => c.work, 0, ROWS, "C", "S", "G", "eps", "cl", 0] as const;

const groupNormOp = signature<Float32Like>({
  op: "groupNorm",
  positional: ["x", "shape", "numGroups"],
  arrays: [
    { name: "x", io: "in", len: "n", per: "M", what: "x length" },
    { name: "weight", io: "in", len: "C", optional: true, what: "channels" },
    { name: "bias", io: "in", len: "C", optional: true, what: "channels" },
    { name: "out", io: "out", len: "n", per: "M", alloc: true, inPlace: "x", what: "x length" },
    { name: "mean", io: "out", len: "NG", per: "one", optional: true, what: "N * numGroups" },
    { name: "invStdDev", io: "out", len: "NG", per: "one", optional: true, what: "N * numGroups" },
  ],
  scalars: { shape: shapeCopy, numGroups: positiveInt("numGroups"), channelAxis: channelAxisOr1, eps: epsOr(1e-5) },
  dims: (c) => groupDims(c, c.scalar("numGroups") as number),
  // torch's group_norm: N * (C / numGroups) * spatial values, so [1, 3, 1] with 3 groups is rejected but [2, 3, 1] is not.
  check: (c) => checkCount(c, c.d.N! * (c.d.C! / c.d.G!) * c.d.spatial!, "value in N * (C / numGroups) * spatial size (torch's group_norm check)"),
  // Parts and chunks hold whole samples: the kernel finds a row's group (its channels' weights) as
  // row % G, and channels-last samples interleave their groups in memory.
  passes: (c) => [{ kernel: "groupNorm", args: forward, width: c.d.M, align: c.d.G, partStride: { 7: laneWork(c) } }],
  work: (c) => laneWork(c) * partsPerChunk(c.plans[0]!),
  js(c) {
    const { rows, C, S, G, cl } = c.d as Record<string, number>;
    groupNormJs(c.view("x")!, c.view("weight"), c.view("bias"), c.view("out")!, c.view("mean"), c.view("invStdDev"), null, 0, rows!, C!, S!, G!, c.num("eps"), !!cl);
  },
  result: "out",
});

/**
 * Group normalisation: per (sample, group) of C / numGroups channels, y = (x - mean) /
 * sqrt(var + eps) * weight[c] + bias[c] (biased variance). `shape` is [N, C, ...spatial] (or
 * channels-last with channelAxis -1). Returns `out`, or a new array (a new Tensor when x is one).
 */
export function groupNorm<O extends Float32Like>(x: Float32Like, shape: readonly number[], numGroups: number, options: GroupNormOptions & { out: O }): O;
export function groupNorm(x: Tensor, shape: readonly number[], numGroups: number, options?: GroupNormOptions): Tensor;
export function groupNorm(x: Float32Array, shape: readonly number[], numGroups: number, options?: GroupNormOptions): Float32Array;
export function groupNorm(x: Float32Like, shape: readonly number[], numGroups: number, options?: GroupNormOptions): Float32Like;
export function groupNorm(x: Float32Like, shape: readonly number[], numGroups: number, options?: GroupNormOptions): Float32Like {
  return invoke(groupNormOp, options, x, shape, numGroups);
}

/**
 * Work area of the backward: f64 totals (dW | dB, 16 C bytes) | one chunk's per-sample partials
 * (16 C bytes per sample) | the channels-last lane areas (one per thread part).
 */
const backLayout = (C: number) => {
  const samples = Math.max(1, Math.floor(PARTS_BYTES / (16 * C)));
  return { samples, parts: align64(16 * C), lanes: align64(16 * C) + align64(16 * C * samples) };
};
const backward = ["dy", "x", "weight", "mean", "invStdDev", "dx", (_: Chunk, c: Call) => c.work + backLayout(c.d.C!).parts,
  (_: Chunk, c: Call) => c.work + backLayout(c.d.C!).lanes, 0, ROWS, "C", "S", "G", "eps", "cl"] as const;

const groupNormBackwardOp = signature<NormGradients>({
  op: "groupNormBackward",
  positional: ["dy", "x", "shape", "numGroups"],
  arrays: [
    { name: "dy", io: "in", len: "n", per: "M", what: "dy length" },
    { name: "x", io: "in", len: "n", per: "M", what: "dy length" },
    { name: "weight", io: "in", len: "C", optional: true, what: "channels" },
    { name: "mean", io: "in", len: "NG", per: "one", optional: true, what: "N * numGroups" },
    { name: "invStdDev", io: "in", len: "NG", per: "one", optional: true, what: "N * numGroups" },
    { name: "dx", io: "out", len: "n", per: "M", optional: true, alloc: true, inPlace: "dy", what: "dy length" },
    { name: "dweight", io: "out", len: "C", optional: true, alloc: true, what: "channels" },
    { name: "dbias", io: "out", len: "C", optional: true, alloc: true, what: "channels" },
  ],
  scalars: { shape: shapeCopy, numGroups: positiveInt("numGroups"), channelAxis: channelAxisOr1, eps: epsOr(1e-5) },
  dims: (c) => groupDims(c, c.scalar("numGroups") as number, "dy"),
  check(c) {
    if (c.has("mean") !== c.has("invStdDev")) {
      throw new TypeError(`mean and invStdDev: expected both (saved by the forward) or neither (recomputed), got only ${c.has("mean") ? "mean" : "invStdDev"}`);
    }
  },
  passes(c) {
    const { C, G } = c.d as Record<string, number>, L = backLayout(C!), k = c.rt.kernels!;
    return [{
      kernel: "groupNormBackward", args: backward, width: c.d.M, align: G, maxRows: G! * L.samples,
      blockStride: { 6: 16 * C! }, partStride: { 7: laneWork(c) }, uses: ["dweight", "dbias"],
      // After each chunk: its samples' partials folded into the totals in sample order.
      after: (ch) => k.foldBlocks(c.work + L.parts, ch.rows / G!, C!, c.work, +(ch.row0 === 0), ch.ptr("dweight"), ch.ptr("dbias")),
    }];
  },
  work: (c) => backLayout(c.d.C!).lanes + laneWork(c) * partsPerChunk(c.plans[0]!),
  js(c) {
    const { rows, N, C, S, G, cl } = c.d as Record<string, number>;
    const parts = new Float64Array(2 * N! * C!);
    groupNormBackwardJs(c.view("dy")!, c.view("x")!, c.view("weight"), c.view("mean"), c.view("invStdDev"), c.view("dx"), parts, 0, rows!, C!, S!, G!, c.num("eps"), !!cl);
    if (rows) foldBlocksJs(parts, 0, N!, C!, new Float64Array(2 * C!), true, c.view("dweight"), c.view("dbias"));
  },
  result(c) {
    if (c.d.rows === 0) { c.view("dweight")?.fill(0); c.view("dbias")?.fill(0); }
    return { dx: c.value("dx"), dweight: c.value("dweight"), dbias: c.value("dbias") };
  },
});

/**
 * Gradients of y = groupNorm(x, shape, numGroups, { weight, bias, eps }) given dy (torch
 * native_group_norm_backward): dx per (sample, group) = rstd * (g - mean(g) - xhat * mean(g xhat))
 * with g = dy * weight[c]; dweight[c] = sum over samples and positions of dy * xhat, dbias[c] =
 * sum of dy, folded over samples in order (bits depend on the shape only). InstanceNorm's backward
 * is this with numGroups = C.
 */
export function groupNormBackward(dy: Tensor, x: Float32Like, shape: readonly number[], numGroups: number, options?: GroupNormBackwardOptions): NormGradients<Tensor>;
export function groupNormBackward(dy: Float32Array, x: Float32Like, shape: readonly number[], numGroups: number, options?: GroupNormBackwardOptions): NormGradients<Float32Array>;
export function groupNormBackward(dy: Float32Like, x: Float32Like, shape: readonly number[], numGroups: number, options?: GroupNormBackwardOptions): NormGradients;
export function groupNormBackward(dy: Float32Like, x: Float32Like, shape: readonly number[], numGroups: number, options?: GroupNormBackwardOptions): NormGradients {
  return invoke(groupNormBackwardOp, options, dy, x, shape, numGroups);
}

export interface GroupNormModuleOptions {
  eps?: number;
  /** Learnable per-channel weight (ones) and bias (zeros). Default true. */
  affine?: boolean;
  /** 1 (default) or -1 (channels-last inputs). */
  channelAxis?: number;
  runtime?: Runtime;
}

/** Like torch.nn.GroupNorm: weight and bias in wasm memory; forward(x, shape, out?). */
export class GroupNorm {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly channelAxis: number;
  readonly runtime: Runtime;
  private readonly w: Tensor | null;
  private readonly b: Tensor | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormModuleOptions = {}) {
    positiveInt("numGroups")(numGroups);
    positiveInt("numChannels")(numChannels);
    if (numChannels % numGroups !== 0) throw new RangeError(`numGroups: expected a divisor of numChannels ${numChannels}, got ${numGroups}`);
    const o = moduleOptions("GroupNorm", options, ["eps", "affine", "channelAxis", "runtime"]);
    const affine = flag(o, "affine", true), channelAxis = o.channelAxis === undefined ? 1 : o.channelAxis;
    // (the op also takes the last axis as rank - 1: a positive axis other than 1 must be that)
    if (channelAxis !== -1 && !(Number.isInteger(channelAxis) && (channelAxis as number) >= 1)) {
      throw numberError("channelAxis", "1 (channels first) or -1 (channels last)", channelAxis);
    }
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = checkEps(o.eps === undefined ? 1e-5 : o.eps);
    this.affine = affine;
    this.channelAxis = channelAxis as number;
    this.runtime = moduleRuntime(o);
    this.w = affine ? paramTensor(this.runtime, numChannels, 1) : null;
    this.b = affine ? paramTensor(this.runtime, numChannels, 0) : null;
  }

  get weight(): Float32Array | null { return this.w ? this.w.data : null; }
  set weight(v: ArrayLike<number>) { assignParam("GroupNorm", "weight", this.w, v, this.numChannels, "numChannels"); }
  get bias(): Float32Array | null { return this.b ? this.b.data : null; }
  set bias(v: ArrayLike<number>) { assignParam("GroupNorm", "bias", this.b, v, this.numChannels, "numChannels"); }

  /** y = groupNorm(x) for x of shape `shape` with this module's parameters; `out` may be x. */
  forward<O extends Float32Like>(x: Float32Like, shape: readonly number[], out: O): O;
  forward(x: Tensor, shape: readonly number[]): Tensor;
  forward(x: Float32Array, shape: readonly number[]): Float32Array;
  forward(x: Float32Like, shape: readonly number[], out?: Float32Like): Float32Like {
    if (this.w?.freed) throw new TypeError("GroupNorm: expected a live module, got one that was disposed");
    checkChannels(shape, this.channelAxis, this.numChannels, "numChannels");
    const options: GroupNormOptions = { channelAxis: this.channelAxis, weight: this.w, bias: this.b, eps: this.eps, runtime: this.runtime };
    if (out !== undefined) options.out = out;
    return groupNorm(x, shape, this.numGroups, options);
  }

  dispose(): void {
    disposeAll(this.w, this.b);
  }
}
