// layerNorm(x, normalizedShape, options): torch.nn.functional.layer_norm / ONNX LayerNormalization
// (axis = -len(normalizedShape), stash_type float32 outputs Mean and InvStdDev).
import { layerNormJs } from "../fallback/layerNorm.js";
import { invoke, ROWS, signature } from "../runtime/call.js";
import type { Tensor } from "../runtime/memory.js";
import type { Float32Like, Runtime } from "../runtime/runtime.js";
import { assignParam, disposeAll, flag, moduleOptions, moduleRuntime, paramTensor } from "./params.js";
import { checkEps, epsOr, FEATURES, rowDims, shapeSize, type Shape } from "./validate.js";

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

const kernel = ["x", "weight", "bias", "out", "mean", "invStdDev", ROWS, "cols", "eps"] as const;

/** The whole declaration of layerNorm: arguments in the kernel's order, sizes, program. */
const op = signature<Float32Like>({
  op: "layerNorm",
  positional: ["x", "normalizedShape"],
  arrays: [
    { name: "x", io: "in", len: "n", per: "cols", what: "x length" },
    { name: "weight", io: "in", len: "cols", optional: true, what: FEATURES },
    { name: "bias", io: "in", len: "cols", optional: true, what: FEATURES },
    { name: "out", io: "out", len: "n", per: "cols", alloc: true, inPlace: "x", what: "x length" },
    { name: "mean", io: "out", len: "rows", per: "one", optional: true, what: "rows of x" },
    { name: "invStdDev", io: "out", len: "rows", per: "one", optional: true, what: "rows of x" },
  ],
  scalars: { normalizedShape: shapeSize, eps: epsOr(1e-5) },
  dims: (c) => rowDims(c),
  passes: () => [{ kernel: "layerNorm", args: kernel }],
  js: (c) => layerNormJs(...(c.jsArgs(kernel) as Parameters<typeof layerNormJs>)),
  result: "out",
});

/**
 * Normalizes each row of D = product(normalizedShape) elements of x to zero mean and unit
 * variance, then applies weight and bias per feature. Returns `out`, or a new array (a new Tensor
 * when x is a Tensor, which the caller must free).
 */
export function layerNorm<O extends Float32Like>(x: Float32Like, normalizedShape: Shape, options: LayerNormOptions & { out: O }): O;
export function layerNorm(x: Tensor, normalizedShape: Shape, options?: LayerNormOptions): Tensor;
export function layerNorm(x: Float32Array, normalizedShape: Shape, options?: LayerNormOptions): Float32Array;
export function layerNorm(x: Float32Like, normalizedShape: Shape, options?: LayerNormOptions): Float32Like;
export function layerNorm(x: Float32Like, normalizedShape: Shape, options?: LayerNormOptions): Float32Like {
  return invoke(op, options, x, normalizedShape);
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
    const o = moduleOptions("LayerNorm", options, ["eps", "elementwiseAffine", "bias", "runtime"]);
    const elementwiseAffine = flag(o, "elementwiseAffine", true), bias = flag(o, "bias", true);
    this.eps = checkEps(o.eps === undefined ? 1e-5 : o.eps);
    this.elementwiseAffine = elementwiseAffine;
    this.runtime = moduleRuntime(o);
    if (elementwiseAffine) {
      this.w = paramTensor(this.runtime, this.cols, 1);
      if (bias) this.b = paramTensor(this.runtime, this.cols, 0);
    }
  }

  /** Live view of the weight (null without elementwiseAffine). Read it again after allocations. */
  get weight(): Float32Array | null {
    return this.w ? this.w.data : null;
  }
  set weight(values: ArrayLike<number>) {
    assignParam("LayerNorm", "weight", this.w, values, this.cols, FEATURES);
  }

  /** Live view of the bias (null without one). Read it again after allocations. */
  get bias(): Float32Array | null {
    return this.b ? this.b.data : null;
  }
  set bias(values: ArrayLike<number>) {
    assignParam("LayerNorm", "bias", this.b, values, this.cols, FEATURES);
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
    disposeAll(this.w, this.b);
  }
}
