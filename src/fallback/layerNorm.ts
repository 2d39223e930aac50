// JS twin of assembly/layerNorm.ts: same statistics (fallback/lanes.ts), same f32 roundings
// (Math.fround after every step of the element-wise pass), so the output is bitwise identical.
import { moments, rowMoments } from "./lanes.js";

const fr = Math.fround;

export function layerNormJs(
  x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array,
  mean: Float32Array | null, rstd: Float32Array | null,
  rows: number, cols: number, eps: number,
): void {
  const invD = 1 / cols;
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    rowMoments(x, o, cols, invD);
    const m = moments.mean;
    const mhi = fr(m), mlo = fr(m - mhi);
    const rr = fr(1 / Math.sqrt(moments.variance + eps));
    if (mean) mean[r] = mhi;
    if (rstd) rstd[r] = rr;
    const end = o + cols;
    if (w && b) {
      for (let i = o, j = 0; i < end; i++, j++) y[i] = fr(fr(fr(fr(x[i]! - mhi) - mlo) * rr) * w[j]!) + b[j]!;
    } else if (w) {
      for (let i = o, j = 0; i < end; i++, j++) y[i] = fr(fr(fr(x[i]! - mhi) - mlo) * rr) * w[j]!;
    } else if (b) {
      for (let i = o, j = 0; i < end; i++, j++) y[i] = fr(fr(fr(x[i]! - mhi) - mlo) * rr) + b[j]!;
    } else {
      for (let i = o; i < end; i++) y[i] = fr(fr(x[i]! - mhi) - mlo) * rr;
    }
  }
}
