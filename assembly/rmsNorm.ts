// RMSNorm forward over `rows` float32 rows of `cols` elements.
//
// Algorithm (per row), reproduced bit for bit by src/fallback/rmsNorm.ts:
//   1. mean square ms = sum(x^2) / D in f64 by rowSumSq (lanes.ts states its accumulation order).
//   2. rstd = 1 / sqrt(ms + eps) in f64, r = f32(rstd).
//   3. Element j in f32, each step rounded (normalize.ts, uncentered): u = x[j] * r; y[j] = u * w[j]
//      (without weight: y = u).
// Optional output per row: rstd[r] = r. Pointers of absent tensors are 0.
// No allocation; memory is touched only inside x, w, y and rstd.
import { rowSumSq, momentVar } from "./lanes";
import { normalizeRow, normRow } from "./normalize";

export function rmsNorm(x: usize, w: usize, y: usize, rstd: usize, rows: i32, cols: i32, eps: f64): void {
  assert(rows >= 0 && cols > 0 && !((x | y | w | rstd) & 3), "rmsNorm: bad sizes or unaligned pointer");
  if (rows <= 0) return;
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  rowSumSq(x, cols, invD);
  let v = momentVar;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const rr = <f32>(1.0 / Math.sqrt(v + eps));
    // Next row's statistics first, as in layerNorm: hides this row's sqrt/div latency.
    if (r + 1 < rows) {
      rowSumSq(x + off + rowBytes, cols, invD);
      v = momentVar;
    }
    if (rstd) store<f32>(rstd + (<usize>r << 2), rr);
    // With weight (the usual RMSNorm) the loop inlined here: no call per row (~1.1-1.25x at D = 64, 250 bytes).
    if (w) normalizeRow(x + off, y + off, w, 0, cols, 0, 0, rr, false, true, false);
    else normRow(x + off, y + off, 0, 0, cols, 0, 0, rr, false);
  }
}
