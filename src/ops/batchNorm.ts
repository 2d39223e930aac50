// batchNorm(x, shape, options) and class BatchNorm: torch.nn.functional.batch_norm and
// torch.nn.BatchNorm1d/2d/3d, for a channel axis anywhere (NCHW: channelAxis 1; channels-last
// [N, ..., C]: channelAxis -1). Inference also matches ONNX BatchNormalization-15; its training
// mode does not (its momentum weights the old running value, its running variance is biased).
import { BLOCK } from "../fallback/lanes.js";
import { bnApplyJs, bnFinishJs, bnStatsJs } from "../fallback/batchNorm.js";
import { Tensor } from "../runtime/memory.js";
import { defaultRuntime, resolveRuntime, type Float32Like, type Runtime } from "../runtime/runtime.js";
import { describe } from "../runtime/module.js";
import { assignParam, disposeAll, paramTensor } from "./params.js";
import { checkEps } from "./validate.js";

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

/** rows x C x inner view of a shape around its channel axis. */
interface ChannelView { rows: number; C: number; inner: number; axis: number }

function channelView(shape: unknown, axisIn: unknown, n: number): ChannelView {
  if (!Array.isArray(shape)) throw new TypeError(`shape: expected an array of at least 2 dimensions, got ${describe(shape)}`);
  if (shape.length < 2) throw new RangeError(`shape: expected at least 2 dimensions ([N, C, ...]), got ${shape.length}`);
  let size = 1;
  for (let i = 0; i < shape.length; i++) {
    const s: unknown = shape[i];
    if (typeof s !== "number" || !Number.isInteger(s) || s < 0) throw new RangeError(`shape[${i}]: expected a non-negative integer, got ${describe(s)}`);
    size *= s;
  }
  if (size !== n) throw new RangeError(`x length: expected ${size} (product of shape [${shape.join(", ")}]), got ${n}`);
  const rank = shape.length;
  if (typeof axisIn !== "number" || !Number.isInteger(axisIn) || axisIn < -rank || axisIn >= rank) {
    throw new RangeError(`channelAxis: expected an integer from ${-rank} to ${rank - 1}, got ${describe(axisIn)}`);
  }
  const axis = axisIn < 0 ? axisIn + rank : axisIn;
  const C = shape[axis] as number;
  if (C === 0) throw new RangeError(`shape[${axis}]: expected at least 1 channel, got 0`);
  let rows = 1, inner = 1;
  for (let i = 0; i < axis; i++) rows *= shape[i] as number;
  for (let i = axis + 1; i < rank; i++) inner *= shape[i] as number;
  if (inner === 0) rows = 0; // no elements: nothing to do per row
  return { rows, C, inner: Math.max(inner, 1), axis };
}

export function checkMomentum(m: unknown): number {
  if (typeof m !== "number" || !(m >= 0 && m <= 1)) throw new RangeError(`momentum: expected a number from 0 to 1, got ${describe(m)}`);
  return m;
}

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
export function batchNorm(x: Float32Like, shape: readonly number[], options: BatchNormOptions = {}): Float32Like {
  const { weight = null, bias = null, runningMean = null, runningVar = null, mean = null, invStdDev = null } = options;
  const training = options.training ?? false;
  if (typeof training !== "boolean") throw new TypeError(`training: expected a boolean, got ${describe(training)}`);
  let out = options.out;
  const rt = resolveRuntime(options.runtime, x, out, runningMean, weight);
  const eps = options.eps === undefined ? 1e-5 : checkEps(options.eps);
  const momentum = options.momentum === undefined ? 0.1 : checkMomentum(options.momentum);
  const A = rt.check.reset(rt);
  const ix = A.input("x", x);
  const n = x.length;
  const { rows, C, inner } = channelView(shape, options.channelAxis ?? 1, n);
  const count = rows * inner;
  if (training && count <= 1) {
    throw new RangeError(`x: expected more than 1 value per channel when training, got ${count} (shape [${shape.join(", ")}])`);
  }
  A.optional("weight", weight, C, "channels");
  A.optional("bias", bias, C, "channels");
  if (training) {
    if ((runningMean === null) !== (runningVar === null)) {
      throw new TypeError(`runningMean and runningVar: expected both or neither, got only ${runningMean === null ? "runningVar" : "runningMean"}`);
    }
    A.output("runningMean", runningMean, C, "channels"); // updated in place: no other argument may share its memory
    A.output("runningVar", runningVar, C, "channels");
  } else {
    if (runningMean === null) throw new TypeError(`runningMean: expected a Float32Array or Tensor (required unless training), got ${describe(options.runningMean)}`);
    if (runningVar === null) throw new TypeError(`runningVar: expected a Float32Array or Tensor (required unless training), got ${describe(options.runningVar)}`);
    A.input("runningMean", runningMean, C, "channels");
    A.input("runningVar", runningVar, C, "channels");
  }
  A.output("out", out, n, "x length", ix);
  A.output("mean", mean, C, "channels");
  A.output("invStdDev", invStdDev, C, "channels");
  A.checkAliasing();

  const made = out === undefined;
  if (out === undefined) out = x instanceof Tensor ? rt.alloc(n) : new Float32Array(n);
  try {
    const rowLen = C * inner;
    if (rt.backend === "js") {
      const params = new Float32Array(5 * C);
      let total: Float64Array | null = null, K: Float32Array | null = null;
      if (training) {
        total = new Float64Array(2 * C);
        K = new Float32Array(C);
        bnStatsJs(rt.view(x), rows, C, inner, K, total, new Float64Array(2 * C));
      }
      bnFinishJs(total, K, count, C, eps, momentum, training, rt.view(runningMean), rt.view(runningVar), rt.view(weight), rt.view(bias),
        params, rt.view(mean), rt.view(invStdDev));
      bnApplyJs(rt.view(x), rt.view(out), params, rows, C, inner);
      return out;
    }
    // Work area: K (C f32) | params (5C f32) | totals (S | Q, 2C f64) | one chunk's block partials.
    const k = rt.kernels!;
    const blockBytes = 16 * C;
    const groupRows = BLOCK * Math.max(1, Math.floor(PARTS_BYTES / (BLOCK * blockBytes)));
    const kOff = 0, paramsOff = align64(4 * C), totalOff = paramsOff + align64(20 * C), partsOff = totalOff + align64(blockBytes);
    const ws = rt.workspace(partsOff + (training ? blockBytes * (groupRows / BLOCK) : 0));
    // Three passes share the staging scratch: reserve the largest before the first writes anything
    // (the finish pass updates the running statistics), so a failed allocation changes nothing.
    const statsPass = () => rt.stager.begin(rows, BLOCK, groupRows).rowIn(x, rowLen);
    const finishPass = () => rt.stager.begin(1).rowIn(runningMean, C).rowIn(runningVar, C).rowIn(weight, C).rowIn(bias, C)
      .rowOut(training ? runningMean : null, C).rowOut(training ? runningVar : null, C).rowOut(mean, C).rowOut(invStdDev, C);
    const applyPass = () => rt.stager.begin(rows).rowIn(x, rowLen).rowOut(out, rowLen);
    const need = Math.max(training ? statsPass().scratchNeed() : 0, finishPass().scratchNeed(), applyPass().scratchNeed());
    if (need > 0) rt.scratch(need);
    if (training) {
      const s = statsPass();
      for (let m = s.first(); m > 0; m = s.next()) {
        if (rt.threadsFor(m * rowLen)) {
          // The shift K (row 0's values) is written before any part reads it; parts are whole blocks.
          if (s.row0 === 0) k.bnStats(s.p[0]!, 0, C, inner, ws + kOff, 0, 1);
          rt.parallel("bnStats", [s.p[0]!, m, C, inner, ws + kOff, ws + partsOff, 0], [4 * rowLen], 1, rowLen, BLOCK, [0, 0, 0, 0, 0, blockBytes]);
        } else k.bnStats(s.p[0]!, m, C, inner, ws + kOff, ws + partsOff, +(s.row0 === 0));
        k.foldBlocks(ws + partsOff, Math.ceil(m / BLOCK), C, ws + totalOff, +(s.row0 === 0), 0, 0);
      }
    }
    // Per-channel finish as one staged "row" of C: running statistics in place, outputs copied back.
    const f = finishPass();
    const q = f.p;
    for (let m = f.first(); m > 0; m = f.next()) {
      k.bnFinish(ws + totalOff, ws + kOff, count, C, eps, momentum, +training, q[0]!, q[1]!, q[2]!, q[3]!, ws + paramsOff, q[6]!, q[7]!);
    }
    const s = applyPass();
    for (let m = s.first(); m > 0; m = s.next()) {
      if (rt.threadsFor(m * rowLen)) rt.parallel("bnApply", [s.p[0]!, s.p[1]!, ws + paramsOff, m, C, inner], [4 * rowLen, 4 * rowLen], 3, rowLen);
      else k.bnApply(s.p[0]!, s.p[1]!, ws + paramsOff, m, C, inner);
    }
    return out;
  } catch (e) {
    // Nothing is returned: free what this call allocated (a later allocation failed).
    if (made && out instanceof Tensor) out.free();
    throw e;
  }
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

export interface BatchNormModuleOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Running-statistics momentum in [0, 1], or null for a cumulative moving average. Default 0.1. */
  momentum?: number | null;
  /** Learnable per-channel weight (ones) and bias (zeros). Default true. */
  affine?: boolean;
  /** Keep running mean (zeros) and variance (ones); without them batch statistics are used always. Default true. */
  trackRunningStats?: boolean;
  /** Channel axis of the inputs (negative counts from the end). Default 1 (NCHW); -1 for channels-last. */
  channelAxis?: number;
  /** Runtime that holds the parameters. Default: the default runtime. */
  runtime?: Runtime;
}

/**
 * Like torch.nn.BatchNorm1d/2d/3d with an explicit channel axis. Starts in training mode (as
 * torch); train() / eval() switch. Parameters and running statistics live in wasm memory.
 */
export class BatchNorm {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly channelAxis: number;
  readonly runtime: Runtime;
  /** Training mode: batch statistics and running-statistics updates. */
  training = true;
  /** Batches seen in training (drives the cumulative average when momentum is null). */
  numBatchesTracked = 0;
  private readonly w: Tensor | null;
  private readonly b: Tensor | null;
  private readonly rm: Tensor | null;
  private readonly rv: Tensor | null;

  constructor(numFeatures: number, options: BatchNormModuleOptions = {}) {
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw new RangeError(`numFeatures: expected a positive integer, got ${describe(numFeatures)}`);
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true, channelAxis = 1 } = options;
    this.numFeatures = numFeatures;
    this.eps = checkEps(eps);
    this.momentum = momentum === null ? null : checkMomentum(momentum);
    if (!Number.isInteger(channelAxis)) throw new RangeError(`channelAxis: expected an integer, got ${describe(channelAxis)}`);
    this.channelAxis = channelAxis;
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.runtime = options.runtime ?? defaultRuntime();
    this.w = affine ? paramTensor(this.runtime, numFeatures, 1) : null;
    this.b = affine ? paramTensor(this.runtime, numFeatures, 0) : null;
    this.rm = trackRunningStats ? paramTensor(this.runtime, numFeatures, 0) : null;
    this.rv = trackRunningStats ? paramTensor(this.runtime, numFeatures, 1) : null;
  }

  /** Live views of the parameters and running statistics (null when absent). Read them again after allocations. */
  get weight(): Float32Array | null { return this.w ? this.w.data : null; }
  set weight(v: ArrayLike<number>) { assignParam("BatchNorm", "weight", this.w, v, this.numFeatures, "numFeatures"); }
  get bias(): Float32Array | null { return this.b ? this.b.data : null; }
  set bias(v: ArrayLike<number>) { assignParam("BatchNorm", "bias", this.b, v, this.numFeatures, "numFeatures"); }
  get runningMean(): Float32Array | null { return this.rm ? this.rm.data : null; }
  set runningMean(v: ArrayLike<number>) { assignParam("BatchNorm", "runningMean", this.rm, v, this.numFeatures, "numFeatures"); }
  get runningVar(): Float32Array | null { return this.rv ? this.rv.data : null; }
  set runningVar(v: ArrayLike<number>) { assignParam("BatchNorm", "runningVar", this.rv, v, this.numFeatures, "numFeatures"); }

  /** Sets training mode (default true); returns this. */
  train(mode = true): this {
    this.training = mode;
    return this;
  }
  /** Inference mode (running statistics); returns this. */
  eval(): this {
    return this.train(false);
  }

  /** y = batchNorm(x) for x of shape `shape` (channel axis as configured); `out` may be x. */
  forward<O extends Float32Like>(x: Float32Like, shape: readonly number[], out: O): O;
  forward(x: Tensor, shape: readonly number[]): Tensor;
  forward(x: Float32Array, shape: readonly number[]): Float32Array;
  forward(x: Float32Like, shape: readonly number[], out?: Float32Like): Float32Like {
    if (this.w?.freed || this.rm?.freed) throw new TypeError("BatchNorm: expected a live module, got one that was disposed");
    const rank = Array.isArray(shape) ? shape.length : 0;
    const axis = this.channelAxis < 0 ? this.channelAxis + rank : this.channelAxis;
    if (Array.isArray(shape) && axis >= 0 && axis < rank && shape[axis] !== this.numFeatures) {
      throw new RangeError(`shape[${axis}] (channels): expected ${this.numFeatures} (numFeatures), got ${describe(shape[axis])}`);
    }
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

  /** Frees the parameters' and statistics' wasm memory. */
  dispose(): void {
    disposeAll(this.w, this.b, this.rm, this.rv);
  }
}
