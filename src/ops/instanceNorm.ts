// instanceNorm and class InstanceNorm: torch.nn.functional.instance_norm and
// torch.nn.InstanceNorm1d/2d/3d, ONNX InstanceNormalization. With input statistics it is
// groupNorm with one group per channel (the same kernel, same bits); running statistics, when
// given, are then updated in place as torch does (the mean over samples of the per-instance mean
// and unbiased variance). With useInputStats false the running statistics normalise every sample
// (BatchNorm's inference kernels).
import { bnApplyJs, bnFinishJs } from "../fallback/batchNorm.js";
import { groupNormJs, groupNormWorkBytes, instanceNormRunningUpdate } from "../fallback/groupNorm.js";
import { align64, bool, invoke, NONE, partsPerChunk, ROWS, signature, type Call, type Chunk, type Pass } from "../runtime/call.js";
import type { Tensor } from "../runtime/memory.js";
import type { Float32Like, Runtime } from "../runtime/runtime.js";
import { describe } from "../runtime/typed.js";
import { bnParamBytes, channelAxisOr1, checkMomentum, momentumOr, shapeCopy } from "./batchNorm.js";
import { checkCount, groupDims } from "./groupNorm.js";
import { CHANNEL_NORM_KEYS, ChannelNorm, moduleOptions, type ChannelNormOptions } from "./params.js";
import { epsOr } from "./validate.js";

export interface InstanceNormOptions {
  /** 1 (default): [N, C, ...spatial]; -1: channels-last [N, ...spatial, C]. */
  channelAxis?: number;
  weight?: Float32Like | null;
  bias?: Float32Like | null;
  /** Running statistics (length C), both or neither: updated in place with input statistics, read without. */
  runningMean?: Float32Like | null;
  runningVar?: Float32Like | null;
  /** Normalise with each instance's own statistics (default true); false: with the running ones. */
  useInputStats?: boolean;
  /** Weight of the new statistic in the running update, in [0, 1]. Default 0.1. */
  momentum?: number;
  eps?: number;
  out?: Float32Like;
  /** The statistics used per (sample, channel) (length N * C); with useInputStats false, the running ones repeated per sample. */
  mean?: Float32Like | null;
  invStdDev?: Float32Like | null;
  runtime?: Runtime;
}


/**
 * Work area. Input statistics: per-row f64 (mean, var) for the running update (16 N C bytes) |
 * the lane areas (one per thread part). Running statistics: BatchNorm's params
 * (5 C f32, after its unused shift area).
 */
const statsBytes = (c: Call) => align64(16 * c.d.NG!);
const lanes = (c: Call) => groupNormWorkBytes(c.d.C!);
const BN_PARAMS = (C: number) => align64(4 * C);

const inputStats = ["x", "weight", "bias", "out", "mean", "invStdDev", (ch: Chunk, c: Call) => c.work + 16 * ch.row0,
  (_: Chunk, c: Call) => c.work + statsBytes(c), 0, ROWS, "C", "S", "C", "eps", "cl", 1] as const; // 1: torch's rstd 0 for a constant instance with eps 0

const op = signature<Float32Like>({
  op: "instanceNorm",
  positional: ["x", "shape"],
  arrays: [
    { name: "x", io: "in", len: "n", per: "xPer", what: "x length" },
    { name: "runningMean", io: "inout", len: "C", optional: true, what: "channels" },
    { name: "runningVar", io: "inout", len: "C", optional: true, what: "channels" },
    { name: "weight", io: "in", len: "C", optional: true, what: "channels" },
    { name: "bias", io: "in", len: "C", optional: true, what: "channels" },
    { name: "out", io: "out", len: "n", per: "xPer", alloc: true, inPlace: "x", what: "x length" },
    { name: "mean", io: "out", len: "NG", per: "statPer", optional: true, what: "N * C" },
    { name: "invStdDev", io: "out", len: "NG", per: "statPer", optional: true, what: "N * C" },
  ],
  scalars: {
    shape: shapeCopy, channelAxis: channelAxisOr1, useInputStats: bool("useInputStats", true),
    momentum: momentumOr(0.1), eps: epsOr(1e-5),
  },
  dims(c) {
    const shape = c.scalar("shape") as number[], last = c.scalar("channelAxis") !== 1 && shape.length > 2;
    groupDims(c, shape[last ? shape.length - 1 : 1] || 1);
    const d = c.d as Record<string, number>;
    if (c.scalar("useInputStats")) Object.assign(d, { xPer: d.S, statPer: 1 });
    else if (d.cl) Object.assign(d, { rows: d.N! * d.S!, xPer: d.C, statPer: 0, inner: 1 }); // BatchNorm's view: [N * S, C]
    else Object.assign(d, { rows: d.N, xPer: d.C! * d.S!, statPer: 0, inner: d.S });
  },
  check(c) {
    if (c.scalar("useInputStats")) checkCount(c, c.d.spatial!, "spatial element when using the input's statistics (torch's instance_norm check)");
    if (c.has("runningMean") !== c.has("runningVar")) {
      throw new TypeError(`runningMean and runningVar: expected both or neither, got only ${c.has("runningMean") ? "runningMean" : "runningVar"}`);
    }
    if (!c.scalar("useInputStats")) {
      for (const name of ["runningMean", "runningVar"]) {
        if (!c.has(name)) throw new TypeError(`${name}: expected a Float32Array or Tensor (required when useInputStats is false), got ${describe(c.given(name))}`);
        c.readOnly(name);
      }
    }
  },
  passes(c): Pass[] {
    const d = c.d as Record<string, number>;
    if (c.scalar("useInputStats")) {
      return [{
        // Whole samples per part, as groupNorm; each part its own lane area.
        kernel: "groupNorm", args: inputStats, width: d.S, align: d.C, blockStride: { 6: 16 * d.C! }, partStride: { 7: lanes(c) },
        after: (ch) => { if (ch.row0 + ch.rows >= d.rows!) runningUpdate(c, new Float64Array(c.rt.arena.buffer, c.work, 2 * d.NG!)); },
      }];
    }
    const params = (_: Chunk, c: Call) => c.work + BN_PARAMS(c.d.C!);
    return [
      { kernel: "bnFinish", rows: 1, width: d.C, threads: false, args: [NONE, NONE, 0, "C", "eps", 0, 0, "runningMean", "runningVar", "weight", "bias", params, NONE, NONE, 0] },
      { kernel: "bnApply", args: ["x", "out", params, ROWS, "C", "inner"], width: d.xPer },
    ];
  },
  work: (c) => (c.scalar("useInputStats") ? statsBytes(c) + lanes(c) * partsPerChunk(c.plans[0]!) : BN_PARAMS(c.d.C!) + bnParamBytes(c.d.C!)),
  js(c) {
    const d = c.d as Record<string, number>;
    if (c.scalar("useInputStats")) {
      const stats = new Float64Array(2 * d.NG!);
      groupNormJs(c.view("x")!, c.view("weight"), c.view("bias"), c.view("out")!, c.view("mean"), c.view("invStdDev"), stats, 0, d.rows!, d.C!, d.S!, d.C!, c.num("eps"), !!d.cl, true);
      runningUpdate(c, stats);
      return;
    }
    const params = new Float32Array(5 * d.C!);
    bnFinishJs(null, null, 0, d.C!, c.num("eps"), 0, false, c.view("runningMean"), c.view("runningVar"), c.view("weight"), c.view("bias"), params, null, null);
    bnApplyJs(c.view("x")!, c.view("out")!, params, d.rows!, d.C!, d.inner!);
  },
  result(c) {
    if (!c.scalar("useInputStats")) repeatRunning(c);
    return c.value("out")!;
  },
});

/** The running update from the per-row f64 statistics (one function for both backends). */
function runningUpdate(c: Call, stats: Float64Array): void {
  if (!c.has("runningMean") || c.d.rows === 0) return;
  const d = c.d as Record<string, number>;
  instanceNormRunningUpdate(stats, d.N!, d.C!, d.S!, c.num("momentum"), c.view("runningMean"), c.view("runningVar"));
}

/** mean / invStdDev outputs without input statistics: the running ones (as bnFinish computes them), per sample. */
function repeatRunning(c: Call): void {
  const mean = c.view("mean"), rstd = c.view("invStdDev");
  if (!mean && !rstd) return;
  const { N, C } = c.d as Record<string, number>, rm = c.view("runningMean")!, rv = c.view("runningVar")!, eps = c.num("eps");
  for (let ch = 0; ch < C!; ch++) {
    const m = Math.fround(rm[ch]!), r = Math.fround(1 / Math.sqrt(rv[ch]! + eps));
    for (let n = 0; n < N!; n++) {
      if (mean) mean[n * C! + ch] = m;
      if (rstd) rstd[n * C! + ch] = r;
    }
  }
}

/**
 * Instance normalisation of x (shape [N, C, ...spatial], or channels-last): per (sample, channel)
 * over the spatial positions, y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c].
 */
export function instanceNorm<O extends Float32Like>(x: Float32Like, shape: readonly number[], options: InstanceNormOptions & { out: O }): O;
export function instanceNorm(x: Tensor, shape: readonly number[], options?: InstanceNormOptions): Tensor;
export function instanceNorm(x: Float32Array, shape: readonly number[], options?: InstanceNormOptions): Float32Array;
export function instanceNorm(x: Float32Like, shape: readonly number[], options?: InstanceNormOptions): Float32Like;
export function instanceNorm(x: Float32Like, shape: readonly number[], options?: InstanceNormOptions): Float32Like {
  return invoke(op, options, x, shape);
}

export interface InstanceNormModuleOptions extends ChannelNormOptions {
  /** Weight of the new statistic in the running update. Default 0.1. affine and trackRunningStats default to false (as torch). */
  momentum?: number;
}

/**
 * Like torch.nn.InstanceNorm1d/2d/3d: starts in training mode; input statistics unless in eval
 * mode with trackRunningStats; running statistics updated in training mode when tracked.
 */
export class InstanceNorm extends ChannelNorm {
  readonly momentum: number;

  constructor(numFeatures: number, options: InstanceNormModuleOptions = {}) {
    const o = moduleOptions("InstanceNorm", options, CHANNEL_NORM_KEYS);
    super("InstanceNorm", numFeatures, o, { affine: false, trackRunningStats: false });
    // (torch's InstanceNorm has no cumulative average: momentum None fails in its forward)
    this.momentum = checkMomentum(o.momentum === undefined ? 0.1 : o.momentum);
  }

  forward<O extends Float32Like>(x: Float32Like, shape: readonly number[], out: O): O;
  forward(x: Tensor, shape: readonly number[]): Tensor;
  forward(x: Float32Array, shape: readonly number[]): Float32Array;
  forward(x: Float32Like, shape: readonly number[], out?: Float32Like): Float32Like {
    this.check(shape);
    const useInputStats = this.training || !this.trackRunningStats;
    const options: InstanceNormOptions = {
      channelAxis: this.channelAxis, weight: this.w, bias: this.b, eps: this.eps, momentum: this.momentum, useInputStats, runtime: this.runtime,
      runningMean: useInputStats && !this.training ? null : this.rm, runningVar: useInputStats && !this.training ? null : this.rv,
    };
    if (out !== undefined) options.out = out;
    return instanceNorm(x, shape, options);
  }
}
