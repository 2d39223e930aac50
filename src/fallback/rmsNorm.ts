// JS twin of assembly/rmsNorm.ts: mean square by fallback/lanes.ts rowSumSq, rstd in f64, then the
// uncentered element pass (y = f32(x * r) * w), so the output is bitwise identical.
import { moments, rowSumSq } from "./lanes.js";
import { normalizeRowJs } from "./normalize.js";

const fr = Math.fround;

export function rmsNormJs(
  x: Float32Array, w: Float32Array | null, y: Float32Array, rstd: Float32Array | null,
  rows: number, cols: number, eps: number,
): void {
  const invD = 1 / cols;
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    rowSumSq(x, o, cols, invD);
    const rr = fr(1 / Math.sqrt(moments.variance + eps));
    if (rstd) rstd[r] = rr;
    normalizeRowJs(x, o, y, o, w, null, cols, 0, 0, rr, false);
  }
}
