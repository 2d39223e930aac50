// Parameter tensors held by the module classes (RMSNorm, BatchNorm): allocation in wasm memory,
// checked assignment, disposal.
import { bool } from "../runtime/call.js";
import { unknownOption } from "../runtime/keys.js";
import { defaultRuntime } from "../runtime/default.js";
import type { Tensor } from "../runtime/memory.js";
import { Runtime } from "../runtime/runtime.js";
import { copyAcross, describe, f32Facts, f32View, readAll } from "../runtime/typed.js";
import { checkEps, checkLength, numberError } from "./validate.js";

/**
 * A module constructor's options, each own enumerable key read once: an unknown key (torch's
 * snake_case spellings included) is a TypeError naming the nearest valid one, as for the ops.
 */
export function moduleOptions(owner: string, options: unknown, keys: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new TypeError(`${owner} options: expected an object, got ${describe(options)}`);
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(options)) {
    if (!keys.includes(k)) throw unknownOption(owner, k, keys);
    o[k] = (options as Record<string, unknown>)[k];
  }
  return o;
}

/** A module option that is a boolean (`dflt` when absent). */
export const flag = (o: Record<string, unknown>, name: string, dflt: boolean): boolean => bool(name, dflt)(o[name]);

/** The module's runtime: the one given, else the default runtime. */
export function moduleRuntime(o: Record<string, unknown>): Runtime {
  const rt = o.runtime;
  if (rt === undefined) return defaultRuntime();
  if (!(rt instanceof Runtime)) throw new TypeError(`runtime: expected a Runtime, got ${describe(rt)}`);
  return rt;
}

/** A tensor of `n` elements filled with `value`. */
export function paramTensor(rt: Runtime, n: number, value: number): Tensor {
  const t = rt.alloc(n);
  if (value !== 0) t.data.fill(value);
  return t;
}

/** Copies `values` into a module's parameter `t` after checking kind and length. */
export function assignParam(owner: string, name: string, t: Tensor | null, values: unknown, n: number, what: string): void {
  if (!t) throw new TypeError(`${name}: this ${owner} has no ${name}`);
  if (t.freed) throw new TypeError(`${owner}: expected a live module, got one that was disposed`);
  // Everything read before anything is written (a getter may throw, answer differently the
  // second time, or allocate and grow memory): a Float32Array by its intrinsic facts, anything
  // else element by element into a copy.
  const f = f32Facts(values);
  const length = f ? f.length : values !== null && typeof values === "object" ? (values as ArrayLike<number>).length : undefined;
  if (typeof length !== "number") {
    throw new TypeError(`${name}: expected an array of ${n} numbers, got ${describe(values)}`);
  }
  checkLength(name, length, n, what);
  const src = f ? f32View(f.buffer, f.byteOffset, length) : readAll(values as ArrayLike<number>, length, name);
  copyAcross(t.data, src); // t.data after the reads, which may have grown memory
}

/** Frees the live tensors among `ts`. */
export function disposeAll(...ts: (Tensor | null)[]): void {
  for (const t of ts) if (t && !t.freed) t.free();
}

/** A module's channel count against the input shape's (a clear message before the op's own checks). */
export function checkChannels(shape: unknown, channelAxis: number, want: number, what: string): void {
  if (!Array.isArray(shape)) return; // the op reports it
  const axis = channelAxis < 0 ? shape.length + channelAxis : channelAxis;
  if (axis >= 0 && axis < shape.length && shape[axis] !== want) {
    throw new RangeError(`shape[${axis}] (channels): expected ${want} (${what}), got ${describe(shape[axis])}`);
  }
}

/** The option keys BatchNorm and InstanceNorm share (each adds momentum). */
export const CHANNEL_NORM_KEYS = ["eps", "affine", "trackRunningStats", "channelAxis", "runtime", "momentum"] as const;

export interface ChannelNormOptions {
  eps?: number;
  /** Learnable per-channel weight (ones) and bias (zeros). */
  affine?: boolean;
  /** Keep running mean (zeros) and variance (ones). */
  trackRunningStats?: boolean;
  /** Channel axis of the inputs (negative counts from the end). Default 1 (NCHW). */
  channelAxis?: number;
  /** Runtime that holds the parameters. Default: the default runtime. */
  runtime?: Runtime;
}

/**
 * What BatchNorm and InstanceNorm modules share, like torch's _NormBase: per-channel weight and
 * bias, running statistics, training mode, disposal. Parameters live in wasm memory; the getters
 * return live views (read them again after allocations), the setters copy values in.
 */
export abstract class ChannelNorm {
  readonly numFeatures: number;
  readonly eps: number;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  readonly channelAxis: number;
  readonly runtime: Runtime;
  /** Training mode (torch modules start in it). */
  training = true;
  protected readonly w: Tensor | null;
  protected readonly b: Tensor | null;
  protected readonly rm: Tensor | null;
  protected readonly rv: Tensor | null;
  private readonly owner: string;

  /** `o`: the options as moduleOptions read them (CHANNEL_NORM_KEYS and the module's own). */
  protected constructor(owner: string, numFeatures: number, o: Record<string, unknown>, defaults: { affine: boolean; trackRunningStats: boolean }) {
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) throw numberError("numFeatures", "a positive integer", numFeatures);
    const channelAxis = o.channelAxis === undefined ? 1 : o.channelAxis;
    if (!Number.isInteger(channelAxis)) throw numberError("channelAxis", "an integer", channelAxis);
    const affine = flag(o, "affine", defaults.affine), trackRunningStats = flag(o, "trackRunningStats", defaults.trackRunningStats);
    this.owner = owner;
    this.numFeatures = numFeatures;
    this.eps = checkEps(o.eps === undefined ? 1e-5 : o.eps);
    this.affine = affine;
    this.trackRunningStats = trackRunningStats;
    this.channelAxis = channelAxis as number;
    this.runtime = moduleRuntime(o);
    this.w = affine ? paramTensor(this.runtime, numFeatures, 1) : null;
    this.b = affine ? paramTensor(this.runtime, numFeatures, 0) : null;
    this.rm = trackRunningStats ? paramTensor(this.runtime, numFeatures, 0) : null;
    this.rv = trackRunningStats ? paramTensor(this.runtime, numFeatures, 1) : null;
  }

  get weight(): Float32Array | null { return this.w ? this.w.data : null; }
  set weight(v: ArrayLike<number>) { assignParam(this.owner, "weight", this.w, v, this.numFeatures, "numFeatures"); }
  get bias(): Float32Array | null { return this.b ? this.b.data : null; }
  set bias(v: ArrayLike<number>) { assignParam(this.owner, "bias", this.b, v, this.numFeatures, "numFeatures"); }
  get runningMean(): Float32Array | null { return this.rm ? this.rm.data : null; }
  set runningMean(v: ArrayLike<number>) { assignParam(this.owner, "runningMean", this.rm, v, this.numFeatures, "numFeatures"); }
  get runningVar(): Float32Array | null { return this.rv ? this.rv.data : null; }
  set runningVar(v: ArrayLike<number>) { assignParam(this.owner, "runningVar", this.rv, v, this.numFeatures, "numFeatures"); }

  /** Sets training mode (default true); returns this. */
  train(mode = true): this {
    this.training = bool("mode", true)(mode);
    return this;
  }
  /** Inference mode; returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Throws when disposed; checks the input's channel count against numFeatures. */
  protected check(shape: unknown): void {
    if (this.w?.freed || this.rm?.freed) throw new TypeError(`${this.owner}: expected a live module, got one that was disposed`);
    checkChannels(shape, this.channelAxis, this.numFeatures, "numFeatures");
  }

  /** Frees the parameters' and statistics' wasm memory. */
  dispose(): void {
    disposeAll(this.w, this.b, this.rm, this.rv);
  }
}
