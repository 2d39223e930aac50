// skipLayerNorm / skipRmsNorm: residual add fused with LayerNorm or RMSNorm, like onnxruntime's
// SkipLayerNormalization and SkipSimplifiedLayerNormalization (com.microsoft contrib ops).
import { skipNormJs } from "../fallback/skipNorm.js";
import { Tensor } from "../runtime/memory.js";
import { resolveRuntime, type Float32Like, type Runtime } from "../runtime/runtime.js";
import { describe } from "../runtime/module.js";
import { RMS_NORM_EPS } from "./rmsNorm.js";
import { checkEps, rowsOf, shapeSize, type Shape } from "./validate.js";

interface SkipNormCommon {
  /** Added to the sum before normalising (onnxruntime's `bias` input), length D. */
  residualBias?: Float32Like | null;
  /** Per-feature scale (length D); absent means 1. */
  weight?: Float32Like | null;
  /** Where to write y (length = x.length). May be x itself. Default: a new array/tensor. */
  out?: Float32Like;
  /**
   * Output for the pre-norm sum x + skip + residualBias (length = x.length), what the next
   * residual connection needs (onnxruntime's input_skip_bias_sum). May be x itself (updates the
   * residual stream in place); not the same array as out.
   */
  sum?: Float32Like | null;
  /** Per-row 1/sqrt(var + eps) (or 1/sqrt(mean square + eps)) output (length = rows). */
  invStdDev?: Float32Like | null;
  /** Runtime to run in. Default: the tensor's runtime, else the default runtime. */
  runtime?: Runtime;
}

export interface SkipLayerNormOptions extends SkipNormCommon {
  /** Per-feature shift after normalising (length D); absent means 0. */
  bias?: Float32Like | null;
  /** Default 1e-5 (as layerNorm). */
  eps?: number;
  /** Per-row mean output (length = rows). */
  mean?: Float32Like | null;
}

export interface SkipRmsNormOptions extends SkipNormCommon {
  /** Default 2^-23 (as rmsNorm). */
  eps?: number;
}

/**
 * y = layerNorm(x + skip + residualBias) over rows of D = product(normalizedShape) elements, in
 * one pass over memory for the add and the statistics. `skip` has x's length, or a whole number of
 * rows that divides x's rows (one row: broadcast to every row). Bitwise equal to layerNorm of the
 * float32 sum. Returns `out`, or a new array (a new Tensor when x is a Tensor).
 */
export function skipLayerNorm<O extends Float32Like>(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options: SkipLayerNormOptions & { out: O }): O;
export function skipLayerNorm(x: Tensor, skip: Float32Like, normalizedShape: Shape, options?: SkipLayerNormOptions): Tensor;
export function skipLayerNorm(x: Float32Array, skip: Float32Like, normalizedShape: Shape, options?: SkipLayerNormOptions): Float32Array;
export function skipLayerNorm(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options?: SkipLayerNormOptions): Float32Like;
export function skipLayerNorm(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options: SkipLayerNormOptions = {}): Float32Like {
  return skipNorm(false, x, skip, normalizedShape, options, options.bias ?? null, options.mean ?? null);
}

/**
 * y = rmsNorm(x + skip + residualBias), fused as skipLayerNorm (onnxruntime's
 * SkipSimplifiedLayerNormalization). Bitwise equal to rmsNorm of the float32 sum.
 */
export function skipRmsNorm<O extends Float32Like>(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options: SkipRmsNormOptions & { out: O }): O;
export function skipRmsNorm(x: Tensor, skip: Float32Like, normalizedShape: Shape, options?: SkipRmsNormOptions): Tensor;
export function skipRmsNorm(x: Float32Array, skip: Float32Like, normalizedShape: Shape, options?: SkipRmsNormOptions): Float32Array;
export function skipRmsNorm(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options?: SkipRmsNormOptions): Float32Like;
export function skipRmsNorm(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options: SkipRmsNormOptions = {}): Float32Like {
  const o = options as SkipLayerNormOptions;
  if (o.bias != null) throw new TypeError(`bias: expected none (skipRmsNorm has no bias after normalising; use residualBias for the sum), got ${describe(o.bias)}`);
  if (o.mean != null) throw new TypeError(`mean: expected none (RMSNorm has no mean), got ${describe(o.mean)}`);
  return skipNorm(true, x, skip, normalizedShape, options, null, null);
}

function skipNorm(
  rms: boolean, x: Float32Like, skip: Float32Like, normalizedShape: Shape, options: SkipNormCommon & { eps?: number },
  bias: Float32Like | null, mean: Float32Like | null,
): Float32Like {
  const { residualBias = null, weight = null, sum = null, invStdDev = null, eps: epsIn } = options;
  let out = options.out;
  const rt = resolveRuntime(options.runtime, x, skip, out, weight);
  const cols = shapeSize(normalizedShape);
  const eps = epsIn === undefined ? (rms ? RMS_NORM_EPS : 1e-5) : checkEps(epsIn);
  const A = rt.check.reset(rt);
  const ix = A.input("x", x);
  const n = x.length;
  const rows = rowsOf("x", n, cols);
  const is = A.input("skip", skip);
  const sl = skip.length;
  if (sl !== n && (sl === 0 || sl % cols !== 0 || rows % (sl / cols) !== 0)) {
    throw new RangeError(`skip length: expected ${n} (x length) or a whole number of rows of ${cols} that divides the ${rows} rows of x, got ${sl}`);
  }
  const skipRows = sl === n ? rows : sl / cols;
  const irb = A.optional("residualBias", residualBias, cols, "product of normalizedShape");
  const iw = A.optional("weight", weight, cols, "product of normalizedShape");
  const ib = A.optional("bias", bias, cols, "product of normalizedShape");
  const io = A.output("out", out, n, "x length", ix);
  const isum = A.output("sum", sum, n, "x length", ix);
  const im = A.output("mean", mean, rows, "rows of x");
  const ir = A.output("invStdDev", invStdDev, rows, "rows of x");
  A.checkAliasing();

  const made = out === undefined;
  if (out === undefined) out = x instanceof Tensor ? rt.alloc(n) : new Float32Array(n);
  try {
    if (rows === 0) return out;
    if (rt.backend === "js") {
      skipNormJs(rt.view(x), rt.view(skip), skipRows, 0, rt.view(residualBias), rt.view(weight), rt.view(bias), rt.view(out), rt.view(sum),
        rt.view(mean), rt.view(invStdDev), null, rows, cols, eps, rms);
      return out;
    }
    const k = rt.kernels!;
    const pss = A.ptr(is), px = A.ptr(ix), prb = A.ptr(irb), pw = A.ptr(iw), pb = A.ptr(ib), psum = A.ptr(isum), pm = A.ptr(im), pr = A.ptr(ir);
    const py = options.out === undefined ? rt.ptr(out) : A.ptr(io);
    if (px >= 0 && pss >= 0 && prb >= 0 && pw >= 0 && pb >= 0 && py >= 0 && psum >= 0 && pm >= 0 && pr >= 0) {
      if (rt.threadsFor(n)) {
        // A full skip advances with x; a broadcast one stays put, and parts hold whole cycles of it.
        const rb = 4 * cols, full = skipRows === rows;
        rt.parallel("skipNorm", [px, pss, skipRows, 0, prb, pw, pb, py, psum, pm, pr, 0, rows, cols, eps, +rms],
          [rb, full ? rb : 0, 0, 0, 0, 0, 0, rb, rb, 4, 4], 12, cols, full ? 1 : skipRows);
      } else k.skipNorm(px, pss, skipRows, 0, prb, pw, pb, py, psum, pm, pr, 0, rows, cols, eps, +rms);
      return out;
    }
    // A full skip is chunked with x; a broadcast one is staged whole and entered at the chunk's phase.
    const full = skipRows === rows;
    const s = rt.stager.begin(rows).rowIn(x, cols).rowIn(full ? skip : null, cols).rowOut(out, cols).rowOut(sum, cols)
      .rowOut(mean, 1).rowOut(invStdDev, 1).whole(full ? null : skip).whole(residualBias).whole(weight).whole(bias);
    const p = s.p;
    for (let m = s.first(); m > 0; m = s.next()) {
      k.skipNorm(p[0]!, full ? p[1]! : p[6]!, skipRows, full ? 0 : s.row0 % skipRows, p[7]!, p[8]!, p[9]!, p[2]!, p[3]!, p[4]!, p[5]!, 0, m, cols, eps, +rms);
    }
    return out;
  } catch (e) {
    // Nothing is returned: free what this call allocated (a later allocation failed).
    if (made && out instanceof Tensor) out.free();
    throw e;
  }
}
