// batchNorm(x, shape, options) and class BatchNorm: torch.nn.functional.batch_norm and
// torch.nn.BatchNorm1d/2d/3d, for a channel axis anywhere (NCHW: channelAxis 1; channels-last
// [N, ..., C]: channelAxis -1). Inference also matches ONNX BatchNormalization-15; its training
// mode does not (its momentum weights the old running value, its running variance is biased).
import { BLOCK } from "../fallback/lanes.js";
import { bnApplyJs, bnFinishJs, bnStatsJs } from "../fallback/batchNorm.js";
import { align64, bool, invoke, ROWS, signature, type Call, type Chunk, type Pass } from "../runtime/call.js";
import type { Tensor } from "../runtime/memory.js";
import type { Float32Like, Runtime } from "../runtime/runtime.js";
import { describe } from "../runtime/typed.js";
import { CHANNEL_NORM_KEYS, ChannelNorm, moduleOptions, type ChannelNormOptions } from "./params.js";
import { epsOr, numberError } from "./validate.js";

/** Bytes of per-block partial sums a wasm call keeps at once (zero-copy calls are split to fit). */
const PARTS_BYTES = 256 * 1024;

export interface BatchNormOptions {
  /** Axis of the channels in `shape` (negative counts from the end). Default 1 (NCHW); -1 for channels-last. */
  channelAxis?: number;
  /** Per-channel scale (length C); absent means 1. */
  weight?: Float32Like | null;
  /** Per-channel shift (length C); absent means 0. */
  bias?: Float32Like | null;
  /** Running mean (length C): read in inference, updated in place in training when given. */
  runningMean?: Float32Like | null;
  /** Running (unbiased) variance (length C): read in inference, updated in place in training when given. */
  runningVar?: Float32Like | null;
  /** Normalise with the batch statistics (and update the running ones). Default false (inference). */
  training?: boolean;
  /** Weight of the new batch statistic in the running update, in [0, 1]. Default 0.1. */
  momentum?: number;
  /**
   * Training: update runningVar with the batch's population (biased) variance, as ONNX
   * BatchNormalization-15 does. Default false: the unbiased variance, as PyTorch does.
   */
  populationVariance?: boolean;
  /** Added to the variance inside the square root. Default 1e-5. */
  eps?: number;
  /** Where to write y (length = x.length). May be x itself (in place). Default: a new array/tensor. */
  out?: Float32Like;
  /** Per-channel output: the mean used (batch mean when training, else the running mean). */
  mean?: Float32Like | null;
  /** Per-channel output: the 1/sqrt(var + eps) used. */
  invStdDev?: Float32Like | null;
  /** Runtime to run in. Default: the tensor's runtime, else the default runtime. */
  runtime?: Runtime;
}

/** A shape read once into a plain array (a Proxy or getter cannot change it later). */
export function shapeCopy(shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`shape: expected an array of at least 2 dimensions, got ${describe(shape)}`);
  const n = shape.length, out: number[] = [];
  if (n < 2) throw new RangeError(`shape: expected at least 2 dimensions ([N, C, ...]), got ${n}`);
  for (let i = 0; i < n; i++) {
    const s: unknown = shape[i];
    if (typeof s !== "number" || !Number.isInteger(s) || s < 0) throw numberError(`shape[${i}]`, "a non-negative integer", s);
    out.push(s);
  }
  return out;
}

/** Sets rows (N before the axis) x C x inner and n of a [..., C, ...] shape around its channel axis. */
export function channelDims(c: Call): void {
  const shape = c.scalar("shape") as number[], axisIn = c.scalar("channelAxis") as number, rank = shape.length;
  let size = 1;
  for (const s of shape) size *= s;
  const n = c.len("x");
  if (size !== n) throw new RangeError(`x length: expected ${size} (product of shape [${shape.join(", ")}]), got ${n}`);
  if (!Number.isInteger(axisIn) || axisIn < -rank || axisIn >= rank) {
    throw numberError("channelAxis", `an integer from ${-rank} to ${rank - 1}`, axisIn);
  }
  const axis = axisIn < 0 ? axisIn + rank : axisIn;
  const C = shape[axis]!;
  if (C === 0) throw new RangeError(`shape[${axis}]: expected at least 1 channel, got 0`);
  let rows = 1, inner = 1;
  for (let i = 0; i < axis; i++) rows *= shape[i]!;
  for (let i = axis + 1; i < rank; i++) inner *= shape[i]!;
  if (inner === 0) rows = 0; // no elements: nothing to do per row
  Object.assign(c.d, { n, rows, C, inner: Math.max(inner, 1), rowLen: C * Math.max(inner, 1), count: rows * Math.max(inner, 1) });
}

/** Parses momentum: undefined gives `dflt`. */
export const momentumOr = (dflt: number) => (v: unknown): number => (v === undefined ? dflt : checkMomentum(v));
/** channelAxis: undefined gives 1; checked against the shape's rank by the op's dims. */
export const channelAxisOr1 = (v: unknown): unknown => (v === undefined ? 1 : v);

export function checkMomentum(m: unknown): number {
  if (typeof m !== "number" || !(m >= 0 && m <= 1)) throw numberError("momentum", "a number from 0 to 1", m);
  return m;
}


/** Bytes of bnFinish's params for C channels: 80 per group of 4 channels (paramOf in assembly/batchNorm.ts). */
export const bnParamBytes = (C: number): number => align64(80 * Math.ceil(C / 4));

/**
 * Work area: K (the shift, C f32) | params (mhi, mlo, r, w, b: 80 bytes per 4 channels) | totals (S | Q, 2C f64) |
 * one chunk's block partials (training). Three passes: statistics (training), the per-channel
 * finish (running update, saved statistics, parameters), then the element pass.
 */
const layout = (C: number) => {
  const params = align64(4 * C), total = params + bnParamBytes(C), parts = total + align64(16 * C);
  return { params, total, parts, groupRows: BLOCK * Math.max(1, Math.floor(PARTS_BYTES / (16 * C))) };
};

const op = signature<Float32Like>({
  op: "batchNorm",
  positional: ["x", "shape"],
  arrays: [
    { name: "x", io: "in", len: "n", per: "rowLen", what: "x length" },
    { name: "runningMean", io: "inout", len: "C", optional: true, what: "channels" },
    { name: "runningVar", io: "inout", len: "C", optional: true, what: "channels" },
    { name: "weight", io: "in", len: "C", optional: true, what: "channels" },
    { name: "bias", io: "in", len: "C", optional: true, what: "channels" },
    { name: "out", io: "out", len: "n", per: "rowLen", alloc: true, inPlace: "x", what: "x length" },
    { name: "mean", io: "out", len: "C", optional: true, what: "channels" },
    { name: "invStdDev", io: "out", len: "C", optional: true, what: "channels" },
  ],
  scalars: {
    shape: shapeCopy,
    channelAxis: channelAxisOr1,
    training: bool("training", false),
    momentum: momentumOr(0.1), eps: epsOr(1e-5),
    populationVariance: bool("populationVariance", false),
  },
  dims: channelDims,
  check(c) {
    const { count } = c.d as { count: number };
    if (c.scalar("training")) {
      // (torch's check: an empty batch is valid, and leaves the running statistics as they were)
      if (count === 1) throw new RangeError(`x: expected more than 1 value per channel when training, got 1 (shape [${(c.scalar("shape") as number[]).join(", ")}])`);
      if (c.has("runningMean") !== c.has("runningVar")) {
        throw new TypeError(`runningMean and runningVar: expected both or neither, got only ${c.has("runningMean") ? "runningMean" : "runningVar"}`);
      }
    } else {
      for (const name of ["runningMean", "runningVar"]) {
        if (!c.has(name)) throw new TypeError(`${name}: expected a Float32Array or Tensor (required unless training), got ${describe(c.given(name))}`);
        c.readOnly(name); // inference reads the running statistics only
      }
    }
  },
  work: (c) => {
    const L = layout(c.d.C!);
    return L.parts + (c.scalar("training") ? 16 * c.d.C! * (L.groupRows / BLOCK) : 0);
  },
  passes(c) {
    const k = c.rt.kernels!, { C, inner, rowLen, count } = c.d as Record<string, number>;
    const L = layout(C!), training = c.scalar("training") as boolean;
    const K = (_: Chunk, c: Call) => c.work, params = (_: Chunk, c: Call) => c.work + L.params;
    const total = (_: Chunk, c: Call) => c.work + L.total, parts = (_: Chunk, c: Call) => c.work + L.parts;
    const stats: Pass = {
      kernel: "bnStats", args: ["x", ROWS, "C", "inner", K, parts, 0], width: rowLen, align: BLOCK, maxRows: L.groupRows, blockStride: { 5: 16 * C! },
      // The shift K (row 0's values) is written before any part reads it; parts are whole blocks.
      before: (ch) => { if (ch.row0 === 0) k.bnStats(ch.ptr("x"), 0, C!, inner!, c.work, 0, 1); },
      after: (ch) => k.foldBlocks(c.work + L.parts, Math.ceil(ch.rows / BLOCK), C!, c.work + L.total, +(ch.row0 === 0), 0, 0),
    };
    const finish: Pass = {
      kernel: "bnFinish", rows: 1, width: C, threads: false,
      args: [total, K, count!, "C", "eps", "momentum", "training", "runningMean", "runningVar", "weight", "bias", params, "mean", "invStdDev", "populationVariance"],
    };
    const apply: Pass = { kernel: "bnApply", args: ["x", "out", params, ROWS, "C", "inner"], width: rowLen };
    return training ? [stats, finish, apply] : [finish, apply];
  },
  js(c) {
    const { rows, C, inner, count } = c.d as Record<string, number>, training = c.scalar("training") as boolean;
    const params = new Float32Array(5 * C!);
    let total: Float64Array | null = null, K: Float32Array | null = null;
    if (training) {
      total = new Float64Array(2 * C!);
      K = new Float32Array(C!);
      bnStatsJs(c.view("x")!, rows!, C!, inner!, K, total, new Float64Array(2 * C!));
    }
    bnFinishJs(total, K, count!, C!, c.num("eps"), c.num("momentum"), training, c.view("runningMean"), c.view("runningVar"), c.view("weight"), c.view("bias"),
      params, c.view("mean"), c.view("invStdDev"), c.scalar("populationVariance") as boolean);
    bnApplyJs(c.view("x")!, c.view("out")!, params, rows!, C!, inner!);
  },
  result: "out",
});

/**
 * Batch normalisation over the channel axis of x (shape `shape`): per channel,
 * y = (x - mean) / sqrt(var + eps) * weight + bias. Inference (training false) uses runningMean and
 * runningVar. Training uses the batch's mean and biased variance over every axis but the channel
 * one, and updates the running statistics when given: run = (1 - momentum) * run + momentum * stat,
 * with the unbiased variance for runningVar (PyTorch semantics). Returns `out`, or a new array
 * (a new Tensor when x is a Tensor).
 */
export function batchNorm<O extends Float32Like>(x: Float32Like, shape: readonly number[], options: BatchNormOptions & { out: O }): O;
export function batchNorm(x: Tensor, shape: readonly number[], options?: BatchNormOptions): Tensor;
export function batchNorm(x: Float32Array, shape: readonly number[], options?: BatchNormOptions): Float32Array;
export function batchNorm(x: Float32Like, shape: readonly number[], options?: BatchNormOptions): Float32Like;
export function batchNorm(x: Float32Like, shape: readonly number[], options?: BatchNormOptions): Float32Like {
  return invoke(op, options, x, shape);
}

export interface BatchNormModuleOptions extends ChannelNormOptions {
  /** Running-statistics momentum in [0, 1], or null for a cumulative moving average. Default 0.1. */
  momentum?: number | null;
  /** affine and trackRunningStats default to true (as torch). */
}

/**
 * Like torch.nn.BatchNorm1d/2d/3d with an explicit channel axis. Starts in training mode (as
 * torch); train() / eval() switch. Parameters and running statistics live in wasm memory.
 */
export class BatchNorm extends ChannelNorm {
  readonly momentum: number | null;
  /** Batches seen in training (drives the cumulative average when momentum is null). */
  numBatchesTracked = 0;

  constructor(numFeatures: number, options: BatchNormModuleOptions = {}) {
    const o = moduleOptions("BatchNorm", options, CHANNEL_NORM_KEYS);
    super("BatchNorm", numFeatures, o, { affine: true, trackRunningStats: true });
    const momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.momentum = momentum === null ? null : checkMomentum(momentum);
  }

  /** y = batchNorm(x) for x of shape `shape` (channel axis as configured); `out` may be x. */
  forward<O extends Float32Like>(x: Float32Like, shape: readonly number[], out: O): O;
  forward(x: Tensor, shape: readonly number[]): Tensor;
  forward(x: Float32Array, shape: readonly number[]): Float32Array;
  forward(x: Float32Like, shape: readonly number[], out?: Float32Like): Float32Like {
    this.check(shape);
    const useBatch = this.training || !this.trackRunningStats;
    const update = this.training && this.trackRunningStats;
    let momentum = this.momentum ?? 0;
    if (update) {
      this.numBatchesTracked++;
      if (this.momentum === null) momentum = 1 / this.numBatchesTracked;
    }
    const options: BatchNormOptions = {
      channelAxis: this.channelAxis, weight: this.w, bias: this.b, eps: this.eps, momentum, training: useBatch, runtime: this.runtime,
      runningMean: useBatch && !update ? null : this.rm, runningVar: useBatch && !update ? null : this.rv,
    };
    if (out !== undefined) options.out = out;
    try {
      return batchNorm(x, shape, options);
    } catch (e) {
      if (update) this.numBatchesTracked--;
      throw e;
    }
  }
}

