// JS twin of assembly/batchNorm.ts: x viewed as [rows, C, inner]. Same shifted f64 channel sums
// per block of BLOCK rows (planes in the lane order when inner > 1, element by element when
// inner = 1), folded into `total` block by block in block order (a left fold: the same bits as the
// kernel's per-block buffers folded later); the same f64 per-channel finish and f32 apply pass.
import { BLOCK, rowSums, sums } from "./lanes.js";
import { foldBlocksJs } from "./reduce.js";

const fr = Math.fround;

/** K[c] = x[0, c, 0]; total = (S | Q) per channel over all rows (rows > 0). */
export function bnStatsJs(x: Float32Array, rows: number, C: number, inner: number, K: Float32Array, total: Float64Array, part: Float64Array): void {
  for (let c = 0; c < C; c++) K[c] = x[c * inner]!;
  total.fill(0, 0, 2 * C);
  const rowLen = C * inner;
  for (let n = 0; n < rows; n++) {
    if (n % BLOCK === 0) part.fill(0, 0, 2 * C);
    const o = n * rowLen;
    if (inner > 1) {
      for (let c = 0; c < C; c++) {
        rowSums(x, o + c * inner, inner, K[c]!);
        part[c] = part[c]! + sums.s;
        part[C + c] = part[C + c]! + sums.q;
      }
    } else {
      for (let c = 0; c < C; c++) {
        const t = x[o + c]! - K[c]!;
        part[c] = part[c]! + t;
        part[C + c] = part[C + c]! + t * t;
      }
    }
    if (n % BLOCK === BLOCK - 1 || n === rows - 1) foldBlocksJs(part, 0, 1, C, total, false, null, null);
  }
}

/**
 * Per-channel parameters (mhi | mlo | r | w | b, 5 x C) and, in training, the running update and saved statistics;
 * populationVar: the running variance takes the biased batch variance (ONNX) instead of the unbiased one (PyTorch).
 */
export function bnFinishJs(
  total: Float64Array | null, K: Float32Array | null, count: number, C: number, eps: number, momentum: number, training: boolean,
  runMean: Float32Array | null, runVar: Float32Array | null, w: Float32Array | null, b: Float32Array | null,
  params: Float32Array, saveMean: Float32Array | null, saveRstd: Float32Array | null,
  populationVar = false,
): void {
  const invM = 1 / count;
  const unbias = populationVar ? 1 : count / (count - 1);
  const keep = 1 - momentum;
  for (let c = 0; c < C; c++) {
    let mean: number, v: number;
    if (training && count === 0) {
      mean = NaN; // an empty batch: the running statistics stay as they were
      v = NaN;
    } else if (training) {
      const s = total![c]! * invM;
      v = total![C + c]! * invM - s * s;
      if (v < 0) v = 0;
      mean = K![c]! + s;
      if (runMean) runMean[c] = momentum * mean + keep * runMean[c]!;
      if (runVar) runVar[c] = momentum * (v * unbias) + keep * runVar[c]!;
    } else {
      mean = runMean![c]!;
      v = runVar![c]!;
    }
    const mhi = fr(mean);
    const rr = training && v === 0 && eps === 0 ? 0 : fr(1 / Math.sqrt(v + eps));
    params[c] = mhi;
    params[C + c] = mean - mhi;
    params[2 * C + c] = rr;
    params[3 * C + c] = w ? w[c]! : 1;
    params[4 * C + c] = b ? b[c]! : -0;
    if (saveMean) saveMean[c] = mhi;
    if (saveRstd) saveRstd[c] = rr;
  }
}

/**
 * y = (((x - mhi) - mlo) * r) * w + b per channel, each step rounded to f32. Steps that are exact
 * identities are skipped, which gives the same bits faster: t - mlo when mlo is +0 (always so in
 * inference: the mean is a float32), u * w when w is 1, u + b when b is -0 (u + -0 = u for every
 * u, zeros included).
 */
export function bnApplyJs(x: Float32Array, y: Float32Array, params: Float32Array, rows: number, C: number, inner: number): void {
  const rowLen = C * inner;
  if (inner > 1) {
    for (let c = 0; c < C; c++) {
      const mhi = params[c]!, mlo = params[C + c]!, r = params[2 * C + c]!, w = params[3 * C + c]!, b = params[4 * C + c]!;
      const noLo = Object.is(mlo, 0), plain = w === 1 && Object.is(b, -0);
      for (let n = 0; n < rows; n++) {
        const o = n * rowLen + c * inner, end = o + inner;
        if (noLo && plain) for (let i = o; i < end; i++) y[i] = fr(x[i]! - mhi) * r;
        else if (noLo) for (let i = o; i < end; i++) y[i] = fr(fr(fr(x[i]! - mhi) * r) * w) + b;
        else for (let i = o; i < end; i++) y[i] = fr(fr(fr(fr(x[i]! - mhi) - mlo) * r) * w) + b;
      }
    }
    return;
  }
  // Channels-last: tiles of 16 rows, channel-outer inside a tile with scalar parameters (measured
  // faster in V8 than five per-element parameter loads, and the tile stays in cache).
  for (let n0 = 0; n0 < rows; n0 += 16) {
    const start = n0 * C, end = Math.min(rows, n0 + 16) * C;
    for (let c = 0; c < C; c++) {
      const mhi = params[c]!, mlo = params[C + c]!, r = params[2 * C + c]!, w = params[3 * C + c]!, b = params[4 * C + c]!;
      if (Object.is(mlo, 0)) for (let i = start + c; i < end; i += C) y[i] = fr(fr(fr(x[i]! - mhi) * r) * w) + b;
      else for (let i = start + c; i < end; i += C) y[i] = fr(fr(fr(fr(x[i]! - mhi) - mlo) * r) * w) + b;
    }
  }
}
