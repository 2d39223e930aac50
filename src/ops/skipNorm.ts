// skipLayerNorm / skipRmsNorm: residual add fused with LayerNorm or RMSNorm, like onnxruntime's
// SkipLayerNormalization and SkipSimplifiedLayerNormalization (com.microsoft contrib ops).
import { skipNormJs } from "../fallback/skipNorm.js";
import { invoke, NONE, ROWS, signature, type Call, type Chunk } from "../runtime/call.js";
import type { Tensor } from "../runtime/memory.js";
import type { Float32Like, Runtime } from "../runtime/runtime.js";
import { RMS_NORM_EPS } from "./rmsNorm.js";
import { epsOr, FEATURES, rowDims, shapeSize, type Shape } from "./validate.js";

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
 * The declaration of skipLayerNorm (rms false) or skipRmsNorm: arguments in the kernel's order.
 * `skip` is per row (it advances with x) when it has x's length, else a whole number of rows
 * read whole and entered at each chunk's phase; parts and chunks then hold whole cycles of it.
 */
function skipOp(rms: boolean) {
  const kernel = [
    "x", "skip", "skipRows", (ch: Chunk, c: Call) => (c.d.skipPer ? 0 : ch.row0 % c.d.skipRows!), "residualBias", "weight", rms ? NONE : "bias",
    "out", "sum", rms ? NONE : "mean", "invStdDev", NONE, ROWS, "cols", "eps", +rms,
  ] as const;
  return signature<Float32Like>({
    op: rms ? "skipRmsNorm" : "skipLayerNorm",
    positional: ["x", "skip", "normalizedShape"],
    arrays: [
      { name: "x", io: "in", len: "n", per: "cols", what: "x length" },
      { name: "skip", io: "in", len: "skipLen", per: "skipPer", what: "x length" },
      { name: "residualBias", io: "in", len: "cols", optional: true, what: FEATURES },
      { name: "weight", io: "in", len: "cols", optional: true, what: FEATURES },
      ...(rms ? [] : [{ name: "bias", io: "in", len: "cols", optional: true, what: FEATURES } as const]),
      { name: "out", io: "out", len: "n", per: "cols", alloc: true, inPlace: "x", what: "x length" },
      { name: "sum", io: "out", len: "n", per: "cols", optional: true, inPlace: "x", what: "x length" },
      ...(rms ? [] : [{ name: "mean", io: "out", len: "rows", per: "one", optional: true, what: "rows of x" } as const]),
      { name: "invStdDev", io: "out", len: "rows", per: "one", optional: true, what: "rows of x" },
    ],
    scalars: { normalizedShape: shapeSize, eps: epsOr(rms ? RMS_NORM_EPS : 1e-5) },
    ...(rms ? { lacks: { bias: "skipRmsNorm has no bias after normalising; use residualBias for the sum", mean: "RMSNorm has no mean" } } : {}),
    dims(c) {
      rowDims(c);
      const { n, rows, cols } = c.d as { n: number; rows: number; cols: number };
      const sl = c.len("skip");
      if (sl !== n && (sl === 0 || sl % cols !== 0 || rows % (sl / cols) !== 0)) {
        throw new RangeError(`skip length: expected ${n} (x length) or a whole number of rows of ${cols} that divides the ${rows} rows of x, got ${sl}`);
      }
      c.d.skipLen = sl;
      c.d.skipRows = sl === n ? rows : sl / cols;
      c.d.skipPer = sl === n ? cols : 0;
    },
    passes: (c) => [{ kernel: "skipNorm", args: kernel, align: c.d.skipPer ? 1 : c.d.skipRows!, chunkAlign: 1 }],
    js: (c) => skipNormJs(...(c.jsArgs(kernel) as Parameters<typeof skipNormJs>)),
    result: "out",
  });
}

const skipLayerNormOp = skipOp(false), skipRmsNormOp = skipOp(true);

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
export function skipLayerNorm(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options?: SkipLayerNormOptions): Float32Like {
  return invoke(skipLayerNormOp, options, x, skip, normalizedShape);
}

/**
 * y = rmsNorm(x + skip + residualBias), fused as skipLayerNorm (onnxruntime's
 * SkipSimplifiedLayerNormalization). Bitwise equal to rmsNorm of the float32 sum.
 */
export function skipRmsNorm<O extends Float32Like>(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options: SkipRmsNormOptions & { out: O }): O;
export function skipRmsNorm(x: Tensor, skip: Float32Like, normalizedShape: Shape, options?: SkipRmsNormOptions): Tensor;
export function skipRmsNorm(x: Float32Array, skip: Float32Like, normalizedShape: Shape, options?: SkipRmsNormOptions): Float32Array;
export function skipRmsNorm(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options?: SkipRmsNormOptions): Float32Like;
export function skipRmsNorm(x: Float32Like, skip: Float32Like, normalizedShape: Shape, options?: SkipRmsNormOptions): Float32Like {
  return invoke(skipRmsNormOp, options, x, skip, normalizedShape);
}
