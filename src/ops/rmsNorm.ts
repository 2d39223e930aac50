// rmsNorm(x, normalizedShape, options): torch.nn.functional.rms_norm / torch.nn.RMSNorm and ONNX
// RMSNormalization (opset 23, stash_type float32), plus an optional per-row InvStdDev output.
import { rmsNormJs } from "../fallback/rmsNorm.js";
import { Tensor } from "../runtime/memory.js";
import { defaultRuntime, resolveRuntime, type Float32Like, type Runtime } from "../runtime/runtime.js";
import { assignParam, disposeAll, paramTensor } from "./params.js";
import { checkEps, rowsOf, shapeSize, type Shape } from "./validate.js";

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

/**
 * y = x / sqrt(mean(x^2) + eps) * weight over each row of D = product(normalizedShape) elements.
 * Returns `out`, or a new array (a new Tensor when x is a Tensor, which the caller must free).
 */
export function rmsNorm<O extends Float32Like>(x: Float32Like, normalizedShape: Shape, options: RMSNormOptions & { out: O }): O;
export function rmsNorm(x: Tensor, normalizedShape: Shape, options?: RMSNormOptions): Tensor;
export function rmsNorm(x: Float32Array, normalizedShape: Shape, options?: RMSNormOptions): Float32Array;
export function rmsNorm(x: Float32Like, normalizedShape: Shape, options?: RMSNormOptions): Float32Like;
export function rmsNorm(x: Float32Like, normalizedShape: Shape, options: RMSNormOptions = {}): Float32Like {
  const { weight = null, invStdDev = null, eps: epsIn } = options;
  let out = options.out;
  const rt = resolveRuntime(options.runtime, x, out, weight, invStdDev);
  const cols = shapeSize(normalizedShape);
  const eps = epsIn === undefined ? RMS_NORM_EPS : checkEps(epsIn);
  const A = rt.check.reset(rt);
  const ix = A.input("x", x);
  const n = x.length;
  const rows = rowsOf("x", n, cols);
  const iw = A.optional("weight", weight, cols, "product of normalizedShape");
  const io = A.output("out", out, n, "x length", ix);
  const ir = A.output("invStdDev", invStdDev, rows, "rows of x");
  A.checkAliasing();

  const made = out === undefined;
  if (out === undefined) out = x instanceof Tensor ? rt.alloc(n) : new Float32Array(n);
  try {
    if (rt.backend === "js") {
      rmsNormJs(rt.view(x), rt.view(weight), rt.view(out), rt.view(invStdDev), rows, cols, eps);
      return out;
    }
    const px = A.ptr(ix), pw = A.ptr(iw), pr = A.ptr(ir);
    const py = options.out === undefined ? rt.ptr(out) : A.ptr(io);
    const k = rt.kernels!;
    if (px >= 0 && py >= 0 && pr >= 0 && pw >= 0) {
      if (rt.threadsFor(n)) rt.parallel("rmsNorm", [px, pw, py, pr, rows, cols, eps], [4 * cols, 0, 4 * cols, 4], 4, cols);
      else if (rows) k.rmsNorm(px, pw, py, pr, rows, cols, eps);
      return out;
    }
    const s = rt.stager.begin(rows).rowIn(x, cols).rowOut(out, cols).rowOut(invStdDev, 1).whole(weight);
    const p = s.p;
    for (let m = s.first(); m > 0; m = s.next()) k.rmsNorm(p[0]!, p[3]!, p[1]!, p[2]!, m, cols, eps);
    return out;
  } catch (e) {
    // Nothing is returned: free what this call allocated (a later allocation failed).
    if (made && out instanceof Tensor) out.free();
    throw e;
  }
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
    const { eps = RMS_NORM_EPS, elementwiseAffine = true } = options;
    this.eps = checkEps(eps);
    this.elementwiseAffine = elementwiseAffine;
    this.runtime = options.runtime ?? defaultRuntime();
    this.w = elementwiseAffine ? paramTensor(this.runtime, this.cols, 1) : null;
  }

  /** Live view of the weight (null without elementwiseAffine). Read it again after allocations. */
  get weight(): Float32Array | null {
    return this.w ? this.w.data : null;
  }
  set weight(values: ArrayLike<number>) {
    assignParam("RMSNorm", "weight", this.w, values, this.cols, "product of normalizedShape");
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
