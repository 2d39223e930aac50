// rmsNorm(x, normalizedShape, options): torch.nn.functional.rms_norm / torch.nn.RMSNorm and ONNX
// RMSNormalization (opset 23, stash_type float32), plus an optional per-row InvStdDev output.
import { rmsNormJs } from "../fallback/rmsNorm.js";
import { invoke, ROWS, signature } from "../runtime/call.js";
import type { Tensor } from "../runtime/memory.js";
import type { Float32Like, Runtime } from "../runtime/runtime.js";
import { assignParam, disposeAll, flag, moduleOptions, moduleRuntime, paramTensor } from "./params.js";
import { checkEps, epsOr, FEATURES, rowDims, shapeSize, type Shape } from "./validate.js";

/**
 * Default eps of RMSNorm: float32 machine epsilon 2^-23, what torch.nn.RMSNorm(eps=None) uses for
 * float32 input (torch.finfo(torch.float32).eps). ONNX RMSNormalization's default is 1e-5.
 */
export const RMS_NORM_EPS = 2 ** -23;

export interface RMSNormOptions {
  /** Per-feature scale (length D); absent means 1. */
  weight?: Float32Like | null;
  /** Added to the mean square inside the square root. Default 2^-23 (torch's float32 default). */
  eps?: number;
  /** Where to write y (length = x.length). May be x itself (in place). Default: a new array/tensor. */
  out?: Float32Like;
  /** Per-row 1/sqrt(mean(x^2) + eps) output (length = rows). */
  invStdDev?: Float32Like | null;
  /** Runtime to run in. Default: the tensor's runtime, else the default runtime. */
  runtime?: Runtime;
}

const kernel = ["x", "weight", "out", "invStdDev", ROWS, "cols", "eps"] as const;

/** The whole declaration of rmsNorm: arguments in the kernel's order, sizes, program. */
const op = signature<Float32Like>({
  op: "rmsNorm",
  positional: ["x", "normalizedShape"],
  arrays: [
    { name: "x", io: "in", len: "n", per: "cols", what: "x length" },
    { name: "weight", io: "in", len: "cols", optional: true, what: FEATURES },
    { name: "out", io: "out", len: "n", per: "cols", alloc: true, inPlace: "x", what: "x length" },
    { name: "invStdDev", io: "out", len: "rows", per: "one", optional: true, what: "rows of x" },
  ],
  scalars: { normalizedShape: shapeSize, eps: epsOr(RMS_NORM_EPS) },
  dims: (c) => rowDims(c),
  passes: () => [{ kernel: "rmsNorm", args: kernel }],
  js: (c) => rmsNormJs(...(c.jsArgs(kernel) as Parameters<typeof rmsNormJs>)),
  result: "out",
});

/**
 * y = x / sqrt(mean(x^2) + eps) * weight over each row of D = product(normalizedShape) elements.
 * Returns `out`, or a new array (a new Tensor when x is a Tensor, which the caller must free).
 */
export function rmsNorm<O extends Float32Like>(x: Float32Like, normalizedShape: Shape, options: RMSNormOptions & { out: O }): O;
export function rmsNorm(x: Tensor, normalizedShape: Shape, options?: RMSNormOptions): Tensor;
export function rmsNorm(x: Float32Array, normalizedShape: Shape, options?: RMSNormOptions): Float32Array;
export function rmsNorm(x: Float32Like, normalizedShape: Shape, options?: RMSNormOptions): Float32Like;
export function rmsNorm(x: Float32Like, normalizedShape: Shape, options?: RMSNormOptions): Float32Like {
  return invoke(op, options, x, normalizedShape);
}

export interface RMSNormModuleOptions {
  /** Default 2^-23 (torch.nn.RMSNorm's float32 default). */
  eps?: number;
  /** Learnable per-feature weight (default true). */
  elementwiseAffine?: boolean;
  /** Runtime that holds the weight. Default: the default runtime. */
  runtime?: Runtime;
}

/** Like torch.nn.RMSNorm: holds the weight (ones) in wasm memory. Call dispose() to free it. */
export class RMSNorm {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  readonly runtime: Runtime;
  private readonly cols: number;
  private readonly w: Tensor | null;

  constructor(normalizedShape: Shape, options: RMSNormModuleOptions = {}) {
    this.cols = shapeSize(normalizedShape);
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    const o = moduleOptions("RMSNorm", options, ["eps", "elementwiseAffine", "runtime"]);
    const elementwiseAffine = flag(o, "elementwiseAffine", true);
    this.eps = checkEps(o.eps === undefined ? RMS_NORM_EPS : o.eps);
    this.elementwiseAffine = elementwiseAffine;
    this.runtime = moduleRuntime(o);
    this.w = elementwiseAffine ? paramTensor(this.runtime, this.cols, 1) : null;
  }

  /** Live view of the weight (null without elementwiseAffine). Read it again after allocations. */
  get weight(): Float32Array | null {
    return this.w ? this.w.data : null;
  }
  set weight(values: ArrayLike<number>) {
    assignParam("RMSNorm", "weight", this.w, values, this.cols, FEATURES);
  }

  /** y = rmsNorm(x) with this module's weight; `out` may be x (in place). */
  forward<O extends Float32Like>(x: Float32Like, out: O): O;
  forward(x: Tensor): Tensor;
  forward(x: Float32Array): Float32Array;
  forward(x: Float32Like, out?: Float32Like): Float32Like {
    if (this.w?.freed) throw new TypeError("RMSNorm: expected a live module, got one that was disposed");
    const options: RMSNormOptions = { weight: this.w, eps: this.eps, runtime: this.runtime };
    if (out !== undefined) options.out = out;
    return rmsNorm(x, this.cols, options);
  }

  /** Frees the weight's wasm memory. */
  dispose(): void {
    disposeAll(this.w);
  }
}
