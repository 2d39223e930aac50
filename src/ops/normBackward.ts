// layerNormBackward / rmsNormBackward: gradients of layerNorm and rmsNorm (torch's
// native_layer_norm_backward and the RMSNorm autograd formula) for training in the browser.
import { BLOCK } from "../fallback/lanes.js";
import { normBackwardJs } from "../fallback/normBackward.js";
import { invoke, NONE, ROWS, signature, type Call, type Chunk } from "../runtime/call.js";
import type { Tensor } from "../runtime/memory.js";
import type { Float32Like, Runtime } from "../runtime/runtime.js";
import { RMS_NORM_EPS } from "./rmsNorm.js";
import { epsOr, FEATURES, rowDims, shapeSize, type Shape } from "./validate.js";

/** Bytes of per-block partial sums a wasm call keeps at once (zero-copy calls are split to fit). */
const PARTS_BYTES = 256 * 1024;

interface BackwardCommon {
  /** The forward's per-feature weight (length D); absent means 1. */
  weight?: Float32Like | null;
  /**
   * The forward's per-row invStdDev output (length = rows). Absent: recomputed from x with eps
   * (one more read of x; for layerNorm also more accurate on rows far from zero, since the
   * saved float32 mean drops the low part of the mean).
   */
  invStdDev?: Float32Like | null;
  /** Output dL/dx (length = x.length); may be dy itself. Undefined: allocated; null: not computed. */
  dx?: Float32Like | null;
  /** Output dL/dweight (length D). Undefined: allocated; null: not computed. */
  dweight?: Float32Like | null;
  /** Runtime to run in. Default: the tensor's runtime, else the default runtime. */
  runtime?: Runtime;
}

export interface LayerNormBackwardOptions extends BackwardCommon {
  /** The forward's per-row mean output (length = rows); given together with invStdDev. */
  mean?: Float32Like | null;
  /** Output dL/dbias (length D). Undefined: allocated; null: not computed. */
  dbias?: Float32Like | null;
  /** The forward's eps, used when the statistics are recomputed. Default 1e-5. */
  eps?: number;
}

export interface RmsNormBackwardOptions extends BackwardCommon {
  /** The forward's eps, used when invStdDev is recomputed. Default 2^-23. */
  eps?: number;
}

/** Gradients; an output not computed (null in the options) is null. */
export interface NormGradients<T extends Float32Like = Float32Like> {
  dx: T | null;
  dweight: T | null;
  dbias: T | null;
}

/**
 * The declaration of layerNormBackward (rms false) or rmsNormBackward. The kernel writes dx and,
 * per block of BLOCK rows, f64 column partials (dW | dB) into the work area; after each chunk
 * foldBlocks adds the chunk's blocks into the f64 totals in block order and writes dweight/dbias.
 * Work area: totals (16 * cols bytes), then one chunk's block partials.
 */
function backwardOp(rms: boolean) {
  const parts = (_ch: Chunk, c: Call) => c.work + 16 * c.d.cols!;
  const kernel = ["dy", "x", "weight", rms ? NONE : "mean", "invStdDev", "dx", parts, NONE, ROWS, "cols", "eps", +rms] as const;
  const wantCols = (c: Call) => c.has("dweight") || (!rms && c.has("dbias"));
  const groupRows = (c: Call) => BLOCK * Math.max(1, Math.floor(PARTS_BYTES / (16 * c.d.cols!)));
  return signature<NormGradients>({
    op: rms ? "rmsNormBackward" : "layerNormBackward",
    positional: ["dy", "x", "normalizedShape"],
    arrays: [
      { name: "dy", io: "in", len: "n", per: "cols", what: "dy length" },
      { name: "x", io: "in", len: "n", per: "cols", what: "dy length" },
      { name: "weight", io: "in", len: "cols", optional: true, what: FEATURES },
      ...(rms ? [] : [{ name: "mean", io: "in", len: "rows", per: "one", optional: true, what: "rows of dy" } as const]),
      { name: "invStdDev", io: "in", len: "rows", per: "one", optional: true, what: "rows of dy" },
      { name: "dx", io: "out", len: "n", per: "cols", optional: true, alloc: true, inPlace: "dy", what: "dy length" },
      { name: "dweight", io: "out", len: "cols", optional: true, alloc: true, what: FEATURES },
      ...(rms ? [] : [{ name: "dbias", io: "out", len: "cols", optional: true, alloc: true, what: FEATURES } as const]),
    ],
    scalars: { normalizedShape: shapeSize, eps: epsOr(rms ? RMS_NORM_EPS : 1e-5) },
    ...(rms ? { lacks: { mean: "RMSNorm has no mean", dbias: "RMSNorm has no bias" } } : {}),
    dims: (c) => rowDims(c, "dy"),
    check(c) {
      if (!rms && c.has("mean") !== c.has("invStdDev")) {
        throw new TypeError(`mean and invStdDev: expected both (saved by the forward) or neither (recomputed), got only ${c.has("mean") ? "mean" : "invStdDev"}`);
      }
    },
    work: (c) => (wantCols(c) ? 16 * c.d.cols! * (1 + groupRows(c) / BLOCK) : 0),
    passes(c) {
      if (!wantCols(c)) return [{ kernel: "normBackward", args: kernel.map((t) => (t === parts ? NONE : t)), align: BLOCK }];
      const k = c.rt.kernels!, cols = c.d.cols!;
      return [{
        kernel: "normBackward", args: kernel, align: BLOCK, maxRows: groupRows(c), blockStride: { 6: 16 * cols }, uses: rms ? ["dweight"] : ["dweight", "dbias"],
        after: (ch) => k.foldBlocks(c.work + 16 * cols, Math.ceil(ch.rows / BLOCK), cols, c.work, +(ch.row0 === 0), ch.ptr("dweight"), rms ? 0 : ch.ptr("dbias")),
      }];
    },
    js(c) {
      const cols = c.d.cols!, total = wantCols(c) ? new Float64Array(2 * cols) : null;
      const a = c.jsArgs(kernel);
      a[6] = total; // the twin folds into `total` as it goes, with one block's partials in `part`
      a.splice(7, 0, total ? new Float64Array(2 * cols) : null);
      normBackwardJs(...(a as Parameters<typeof normBackwardJs>));
      if (total) {
        c.view("dweight")?.set(total.subarray(0, cols));
        if (!rms) c.view("dbias")?.set(total.subarray(cols));
      }
    },
    result(c) {
      if (c.d.rows === 0) { c.view("dweight")?.fill(0); if (!rms) c.view("dbias")?.fill(0); }
      return { dx: c.value("dx"), dweight: c.value("dweight"), dbias: rms ? null : c.value("dbias") };
    },
  });
}

const layerNormBackwardOp = backwardOp(false), rmsNormBackwardOp = backwardOp(true);

/**
 * Gradients of y = layerNorm(x, normalizedShape, { weight, bias, eps }) given dy = dL/dy:
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * weight, xhat = (x - mean) * rstd;
 * dweight = sum over rows of dy * xhat, dbias = sum over rows of dy. The sums over rows are
 * accumulated in float32 per block of 32 rows and the blocks added in float64 in order, so the
 * bits depend on the shape only (not on the backend, staging, or thread count).
 */
export function layerNormBackward(dy: Tensor, x: Float32Like, normalizedShape: Shape, options?: LayerNormBackwardOptions): NormGradients<Tensor>;
export function layerNormBackward(dy: Float32Array, x: Float32Like, normalizedShape: Shape, options?: LayerNormBackwardOptions): NormGradients<Float32Array>;
export function layerNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options?: LayerNormBackwardOptions): NormGradients;
export function layerNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options?: LayerNormBackwardOptions): NormGradients {
  return invoke(layerNormBackwardOp, options, dy, x, normalizedShape);
}

/**
 * Gradients of y = rmsNorm(x, normalizedShape, { weight, eps }) given dy:
 * dx = rstd * (g - xhat * mean(g * xhat)) with g = dy * weight, xhat = x * rstd;
 * dweight = sum over rows of dy * xhat (deterministic, as layerNormBackward). dbias is always null.
 */
export function rmsNormBackward(dy: Tensor, x: Float32Like, normalizedShape: Shape, options?: RmsNormBackwardOptions): NormGradients<Tensor>;
export function rmsNormBackward(dy: Float32Array, x: Float32Like, normalizedShape: Shape, options?: RmsNormBackwardOptions): NormGradients<Float32Array>;
export function rmsNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options?: RmsNormBackwardOptions): NormGradients;
export function rmsNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options?: RmsNormBackwardOptions): NormGradients {
  return invoke(rmsNormBackwardOp, options, dy, x, normalizedShape);
}
