// layerNorm(x, normalizedShape, options): torch.nn.functional.layer_norm / ONNX LayerNormalization
// (axis = -len(normalizedShape), stash_type float32 outputs Mean and InvStdDev).
import { layerNormJs } from "../fallback/layerNorm.js";
import { Tensor } from "../runtime/memory.js";
import { defaultRuntime, resolveRuntime, type Float32Like, type Runtime } from "../runtime/runtime.js";
import { checkEps, checkLength, rowsOf, shapeSize, type Shape } from "./validate.js";

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
  const { weight = null, bias = null, mean = null, invStdDev = null, eps: epsIn } = options;
  let out = options.out;
  const rt = resolveRuntime(options.runtime, x, out, weight, bias);
  const cols = shapeSize(normalizedShape);
  const eps = epsIn === undefined ? 1e-5 : checkEps(epsIn);
  const A = rt.check.reset(rt);
  const ix = A.input("x", x);
  const n = x.length;
  const rows = rowsOf("x", n, cols);
  const iw = A.optional("weight", weight, cols, "product of normalizedShape");
  const ib = A.optional("bias", bias, cols, "product of normalizedShape");
  const io = A.output("out", out, n, "x length", ix);
  const im = A.output("mean", mean, rows, "rows of x");
  const ir = A.output("invStdDev", invStdDev, rows, "rows of x");
  A.checkAliasing();

  const made = out === undefined;
  if (out === undefined) out = x instanceof Tensor ? rt.alloc(n) : new Float32Array(n);
  try {
    if (rt.backend === "js") {
      layerNormJs(rt.view(x), rt.view(weight), rt.view(bias), rt.view(out), rt.view(mean), rt.view(invStdDev), rows, cols, eps);
      return out;
    }
    // Zero-copy when every argument lives in wasm memory. Pointers stay valid if the allocation
    // above grew memory (only views are replaced).
    const px = A.ptr(ix), pw = A.ptr(iw), pb = A.ptr(ib), pm = A.ptr(im), pr = A.ptr(ir);
    const py = options.out === undefined ? rt.ptr(out) : A.ptr(io);
    const k = rt.kernels!;
    if (px >= 0 && py >= 0 && pm >= 0 && pr >= 0 && pw >= 0 && pb >= 0) {
      if (rt.threadsFor(n)) { // x and out advance a row at a time, mean and invStdDev a float
        rt.parallel("layerNorm", [px, pw, pb, py, pm, pr, rows, cols, eps], [4 * cols, 0, 0, 4 * cols, 4, 4], 6, cols);
      } else if (rows) k.layerNorm(px, pw, pb, py, pm, pr, rows, cols, eps);
      return out;
    }
    const s = rt.stager.begin(rows).rowIn(x, cols).rowOut(out, cols).rowOut(mean, 1).rowOut(invStdDev, 1).whole(weight).whole(bias);
    const p = s.p;
    for (let m = s.first(); m > 0; m = s.next()) k.layerNorm(p[0]!, p[4]!, p[5]!, p[1]!, p[2]!, p[3]!, m, cols, eps);
    return out;
  } catch (e) {
    // Nothing is returned: free what this call allocated (a later allocation failed).
    if (made && out instanceof Tensor) out.free();
    throw e;
  }
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
