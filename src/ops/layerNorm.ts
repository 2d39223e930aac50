// layerNorm(x, normalizedShape, options): torch.nn.functional.layer_norm / ONNX LayerNormalization
// (axis = -len(normalizedShape), stash_type float32 outputs Mean and InvStdDev).
import { layerNormJs } from "../fallback/layerNorm.js";
import { Tensor } from "../runtime/memory.js";
import { defaultRuntime, runtimeOf, type Float32Like, type Runtime } from "../runtime/runtime.js";
import { checkArray, checkEps, checkLength, checkSeparate, shapeSize, type Shape } from "./validate.js";

export interface LayerNormOptions {
  /** Per-feature scale (length D); absent means 1. */
  weight?: Float32Like | null;
  /** Per-feature shift (length D); absent means 0. */
  bias?: Float32Like | null;
  /** Added to the variance inside the square root. Default 1e-5. */
  eps?: number;
  /** Where to write y (length = x.length). May be x itself (in place). Default: a new array/tensor. */
  out?: Float32Like;
  /** Per-row mean output (length = rows), like ONNX's Mean output. */
  mean?: Float32Like | null;
  /** Per-row 1/sqrt(var + eps) output (length = rows), like ONNX's InvStdDev output. */
  invStdDev?: Float32Like | null;
  /** Runtime to run in. Default: the tensor's runtime, else the default runtime. */
  runtime?: Runtime;
}

/**
 * Normalizes each row of D = product(normalizedShape) elements of x to zero mean and unit
 * variance, then applies weight and bias per feature. Returns `out`, or a new array (a new Tensor
 * when x is a Tensor, which the caller must free).
 */
export function layerNorm<O extends Float32Like>(x: Float32Like, normalizedShape: Shape, options: LayerNormOptions & { out: O }): O;
export function layerNorm(x: Tensor, normalizedShape: Shape, options?: LayerNormOptions): Tensor;
export function layerNorm(x: Float32Array, normalizedShape: Shape, options?: LayerNormOptions): Float32Array;
export function layerNorm(x: Float32Like, normalizedShape: Shape, options?: LayerNormOptions): Float32Like;
export function layerNorm(x: Float32Like, normalizedShape: Shape, options: LayerNormOptions = {}): Float32Like {
  const rt = options.runtime ?? runtimeOf(x) ?? runtimeOf(options.out) ?? runtimeOf(options.weight) ?? runtimeOf(options.bias) ?? defaultRuntime();
  const cols = shapeSize(normalizedShape);
  const n = checkArray(rt, "x", x);
  if (n % cols !== 0) throw new RangeError(`x length: expected a multiple of ${cols} (product of normalizedShape), got ${n}`);
  const rows = n / cols;
  const { weight = null, bias = null, mean = null, invStdDev = null } = options;
  const eps = options.eps === undefined ? 1e-5 : checkEps(options.eps);
  if (weight !== null) checkLength("weight", checkArray(rt, "weight", weight), cols, "product of normalizedShape");
  if (bias !== null) checkLength("bias", checkArray(rt, "bias", bias), cols, "product of normalizedShape");
  if (mean !== null) checkLength("mean", checkArray(rt, "mean", mean), rows, "rows of x");
  if (invStdDev !== null) checkLength("invStdDev", checkArray(rt, "invStdDev", invStdDev), rows, "rows of x");
  let out = options.out;
  if (out !== undefined) {
    checkLength("out", checkArray(rt, "out", out), n, "x length");
    checkSeparate(rt, "out", out, "weight", weight);
    checkSeparate(rt, "out", out, "bias", bias);
    checkSeparate(rt, "out", out, "x", x, true);
  }
  if (mean) checkRowStat(rt, "mean", mean, x, weight, bias, out ?? null);
  if (invStdDev) checkRowStat(rt, "invStdDev", invStdDev, x, weight, bias, out ?? null, mean);

  out ??= x instanceof Tensor ? rt.alloc(n) : new Float32Array(n);
  if (rt.backend === "js") {
    layerNormJs(rt.view(x), rt.view(weight), rt.view(bias), rt.view(out), rt.view(mean), rt.view(invStdDev), rows, cols, eps);
    return out;
  }
  const k = rt.kernels!;
  const s = rt.stager.begin(rows).rowIn(x, cols).rowOut(out, cols).rowOut(mean, 1).rowOut(invStdDev, 1).whole(weight).whole(bias);
  const p = s.p;
  for (let m = s.first(); m > 0; m = s.next()) k.layerNorm(p[0]!, p[4]!, p[5]!, p[1]!, p[2]!, p[3]!, m, cols, eps);
  return out;
}

/** A per-row statistics output shares memory with no other argument. */
function checkRowStat(
  rt: Runtime, name: string, o: Float32Like, x: Float32Like, w: Float32Like | null, b: Float32Like | null,
  out: Float32Like | null, mean: Float32Like | null = null,
): void {
  checkSeparate(rt, name, o, "x", x);
  checkSeparate(rt, name, o, "weight", w);
  checkSeparate(rt, name, o, "bias", b);
  checkSeparate(rt, name, o, "out", out);
  checkSeparate(rt, name, o, "mean", mean);
}

export interface LayerNormModuleOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learnable per-feature weight and bias (default true). */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, whether there is a bias (default true). */
  bias?: boolean;
  /** Runtime that holds the parameters. Default: the default runtime. */
  runtime?: Runtime;
}

/**
 * Like torch.nn.LayerNorm: holds weight (ones) and bias (zeros) in wasm memory, so forward()
 * copies no parameters. Call dispose() to free them.
 */
export class LayerNorm {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly runtime: Runtime;
  private readonly cols: number;
  private w: Tensor | null = null;
  private b: Tensor | null = null;

  constructor(normalizedShape: Shape, options: LayerNormModuleOptions = {}) {
    this.cols = shapeSize(normalizedShape);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    const { eps = 1e-5, elementwiseAffine = true, bias = true } = options;
    this.eps = checkEps(eps);
    this.elementwiseAffine = elementwiseAffine;
    this.runtime = options.runtime ?? defaultRuntime();
    if (elementwiseAffine) {
      this.w = this.runtime.alloc(this.cols);
      this.w.data.fill(1);
      if (bias) this.b = this.runtime.alloc(this.cols);
    }
  }

  /** Live view of the weight (null without elementwiseAffine). Read it again after allocations. */
  get weight(): Float32Array | null {
    return this.w ? this.w.data : null;
  }
  set weight(values: ArrayLike<number>) {
    this.assign("weight", this.w, values);
  }

  /** Live view of the bias (null without one). Read it again after allocations. */
  get bias(): Float32Array | null {
    return this.b ? this.b.data : null;
  }
  set bias(values: ArrayLike<number>) {
    this.assign("bias", this.b, values);
  }

  private assign(name: string, t: Tensor | null, values: ArrayLike<number>): void {
    if (!t) throw new TypeError(`${name}: this LayerNorm has no ${name} (elementwiseAffine or bias is false)`);
    if (values === null || typeof values !== "object" || typeof values.length !== "number") {
      throw new TypeError(`${name}: expected an array of ${this.cols} numbers, got ${typeof values}`);
    }
    checkLength(name, values.length, this.cols, "product of normalizedShape");
    t.data.set(values);
  }

  /** y = layerNorm(x) with this module's parameters; `out` may be x (in place). */
  forward<O extends Float32Like>(x: Float32Like, out: O): O;
  forward(x: Tensor): Tensor;
  forward(x: Float32Array): Float32Array;
  forward(x: Float32Like, out?: Float32Like): Float32Like {
    if (this.w?.freed) throw new TypeError("LayerNorm: expected a live module, got one that was disposed");
    const options: LayerNormOptions = { weight: this.w, bias: this.b, eps: this.eps, runtime: this.runtime };
    if (out !== undefined) options.out = out;
    return layerNorm(x, this.cols, options);
  }

  /** Frees the parameters' wasm memory. */
  dispose(): void {
    if (this.w && !this.w.freed) this.w.free();
    if (this.b && !this.b.freed) this.b.free();
  }
}
