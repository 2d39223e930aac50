// layerNormBackward / rmsNormBackward: gradients of layerNorm and rmsNorm (torch's
// native_layer_norm_backward and the RMSNorm autograd formula) for training in the browser.
import { BLOCK } from "../fallback/lanes.js";
import { normBackwardJs } from "../fallback/normBackward.js";
import { Tensor } from "../runtime/memory.js";
import { resolveRuntime, type Float32Like, type Runtime } from "../runtime/runtime.js";
import { describe } from "../runtime/module.js";
import { RMS_NORM_EPS } from "./rmsNorm.js";
import { checkEps, rowsOf, shapeSize, type Shape } from "./validate.js";

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
 * Gradients of y = layerNorm(x, normalizedShape, { weight, bias, eps }) given dy = dL/dy:
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * weight, xhat = (x - mean) * rstd;
 * dweight = sum over rows of dy * xhat, dbias = sum over rows of dy. The sums over rows are
 * accumulated in float64 per block of 32 rows and the blocks added in order, so the bits depend
 * on the shape only (not on the backend, staging, or later thread count).
 */
export function layerNormBackward(dy: Tensor, x: Float32Like, normalizedShape: Shape, options?: LayerNormBackwardOptions): NormGradients<Tensor>;
export function layerNormBackward(dy: Float32Array, x: Float32Like, normalizedShape: Shape, options?: LayerNormBackwardOptions): NormGradients<Float32Array>;
export function layerNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options?: LayerNormBackwardOptions): NormGradients;
export function layerNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options: LayerNormBackwardOptions = {}): NormGradients {
  return normBackward(false, dy, x, normalizedShape, options, options.mean ?? null, options.dbias);
}

/**
 * Gradients of y = rmsNorm(x, normalizedShape, { weight, eps }) given dy:
 * dx = rstd * (g - xhat * mean(g * xhat)) with g = dy * weight, xhat = x * rstd;
 * dweight = sum over rows of dy * xhat (deterministic, as layerNormBackward). dbias is always null.
 */
export function rmsNormBackward(dy: Tensor, x: Float32Like, normalizedShape: Shape, options?: RmsNormBackwardOptions): NormGradients<Tensor>;
export function rmsNormBackward(dy: Float32Array, x: Float32Like, normalizedShape: Shape, options?: RmsNormBackwardOptions): NormGradients<Float32Array>;
export function rmsNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options?: RmsNormBackwardOptions): NormGradients;
export function rmsNormBackward(dy: Float32Like, x: Float32Like, normalizedShape: Shape, options: RmsNormBackwardOptions = {}): NormGradients {
  const o = options as LayerNormBackwardOptions;
  if (o.mean != null) throw new TypeError(`mean: expected none (RMSNorm has no mean), got ${describe(o.mean)}`);
  if (o.dbias != null) throw new TypeError(`dbias: expected none (RMSNorm has no bias), got ${describe(o.dbias)}`);
  return normBackward(true, dy, x, normalizedShape, options, null, null);
}

function normBackward(
  rms: boolean, dy: Float32Like, x: Float32Like, normalizedShape: Shape, options: BackwardCommon & { eps?: number },
  mean: Float32Like | null, dbiasIn: Float32Like | null | undefined,
): NormGradients {
  const { weight = null, invStdDev = null, eps: epsIn } = options;
  const rt = resolveRuntime(options.runtime, dy, x, weight, options.dx);
  const cols = shapeSize(normalizedShape);
  const eps = epsIn === undefined ? (rms ? RMS_NORM_EPS : 1e-5) : checkEps(epsIn);
  const A = rt.check.reset(rt);
  const idy = A.input("dy", dy);
  const n = dy.length;
  const rows = rowsOf("dy", n, cols);
  A.input("x", x, n, "dy length");
  A.optional("weight", weight, cols, "product of normalizedShape");
  A.optional("mean", mean, rows, "rows of dy");
  A.optional("invStdDev", invStdDev, rows, "rows of dy");
  if (!rms && (mean === null) !== (invStdDev === null)) {
    throw new TypeError(`mean and invStdDev: expected both (saved by the forward) or neither (recomputed), got only ${mean === null ? "invStdDev" : "mean"}`);
  }
  let dx = options.dx, dweight = options.dweight, dbias = rms ? null : dbiasIn;
  A.output("dx", dx, n, "dy length", idy);
  A.output("dweight", dweight, cols, "product of normalizedShape");
  A.output("dbias", dbias, cols, "product of normalizedShape");
  A.checkAliasing();

  // Tensors this call allocates, freed again if a later allocation fails (nothing is returned then).
  const made: Tensor[] = [];
  const make = (len: number): Float32Like => {
    if (!(dy instanceof Tensor)) return new Float32Array(len);
    const t = rt.alloc(len);
    made.push(t);
    return t;
  };
  try {
    if (dx === undefined) dx = make(n);
    if (dweight === undefined) dweight = make(cols);
    if (dbias === undefined) dbias = make(cols);
    const wantCols = dweight !== null || dbias !== null;
    const result: NormGradients = { dx, dweight, dbias };
    if (rows === 0) {
      if (dweight) rt.view(dweight).fill(0);
      if (dbias) rt.view(dbias).fill(0);
      return result;
    }
    if (rt.backend === "js") {
      const total = wantCols ? new Float64Array(2 * cols) : null;
      normBackwardJs(rt.view(dy), rt.view(x), rt.view(weight), rt.view(mean), rt.view(invStdDev), rt.view(dx),
        total, wantCols ? new Float64Array(2 * cols) : null, null, rows, cols, eps, rms);
      if (total) {
        if (dweight) rt.view(dweight).set(total.subarray(0, cols));
        if (dbias) rt.view(dbias).set(total.subarray(cols));
      }
      return result;
    }
    // Work area: f64 totals (dW | dB), then the partial sums of one chunk's blocks.
    const blockBytes = 16 * cols;
    const groupRows = BLOCK * Math.max(1, Math.floor(PARTS_BYTES / (BLOCK * blockBytes)));
    const total = wantCols ? rt.workspace(blockBytes * (1 + groupRows / BLOCK)) : 0;
    const parts = wantCols ? total + blockBytes : 0;
    const k = rt.kernels!;
    const s = rt.stager.begin(rows, BLOCK, wantCols ? groupRows : 0).rowIn(dy, cols).rowIn(x, cols).rowOut(dx, cols)
      .rowIn(mean, 1).rowIn(invStdDev, 1).whole(weight).wholeOut(dweight).wholeOut(dbias);
    const p = s.p;
    for (let m = s.first(); m > 0; m = s.next()) {
      if (rt.threadsFor(m * cols)) {
        // Parts are whole reduction blocks; each writes its blocks' partial sums, folded below in block order.
        const rb = 4 * cols;
        rt.parallel("normBackward", [p[0]!, p[1]!, p[5]!, p[3]!, p[4]!, p[2]!, parts, 0, m, cols, eps, +rms], [rb, rb, 0, 4, 4, rb], 8, cols, BLOCK, [0, 0, 0, 0, 0, 0, 16 * cols]);
      } else k.normBackward(p[0]!, p[1]!, p[5]!, p[3]!, p[4]!, p[2]!, parts, 0, m, cols, eps, +rms);
      if (wantCols) k.foldBlocks(parts, Math.ceil(m / BLOCK), cols, total, +(s.row0 === 0), p[6]!, p[7]!);
    }
    return result;
  } catch (e) {
    for (const t of made) t.free();
    throw e;
  }
}
