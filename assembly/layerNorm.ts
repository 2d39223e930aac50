// LayerNorm forward over `rows` float32 rows of `cols` elements.
//
// Algorithm (per row), reproduced bit for bit by src/fallback/layerNorm.ts:
//   1. mean and biased variance by rowMoments (lanes.ts: the f32 two-pass for D >= 128, else the
//      f64 one-pass; it states both accumulation orders), as f64 values.
//   2. rstd = 1 / sqrt(var + eps) in f64.
//   3. The f64 mean is split into two f32 values, mhi = f32(mean), mlo = f32(mean - mhi), and
//      r = f32(rstd). Element j is then computed in f32, each step rounded (normalize.ts):
//        t = (x[j] - mhi) - mlo;  u = t * r;  y[j] = u * w[j] + b[j]
//      (without weight: y = u [+ b]; without bias: y = u [* w]). For rows far from zero
//      (40000 + noise) x - mhi is exact, so the split keeps the mean's accuracy.
// Optional outputs per row: mean[r] = mhi, rstd[r] = r. Pointers of absent tensors are 0.
// No allocation; memory is touched only inside x, w, b, y, mean and rstd.
import { rowMoments, momentMean, momentVar } from "./lanes";
import { normalizeRow, normRow } from "./normalize";

export function layerNorm(
  x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize,
  rows: i32, cols: i32, eps: f64,
): void {
  // Checked in the debug build only (release builds use noAssert); the wrapper validates first.
  assert(rows >= 0 && cols > 0 && !((x | y | w | b | mean | rstd) & 3), "layerNorm: bad sizes or unaligned pointer");
  if (rows <= 0) return;
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  // Software-pipelined: iteration r computes row r's statistics, then normalises row r - 1.
  // The statistics are independent work that hides row r - 1's sqrt/div latency (~25% faster
  // at D = 64), and rowMoments is inlined once. Rows are independent, so the bits are unchanged.
  let m: f64 = 0, v: f64 = 0;
  for (let r = 0; r <= rows; r++) {
    const rs = 1.0 / Math.sqrt(v + eps);
    const pm = m;
    if (r < rows) {
      rowMoments(x + <usize>r * rowBytes, cols, invD, true);
      m = momentMean;
      v = momentVar;
    }
    if (r == 0) continue;
    const off = <usize>(r - 1) * rowBytes;
    const mhi = <f32>pm;
    const mlo = <f32>(pm - <f64>mhi);
    const rr = <f32>rs;
    if (mean) store<f32>(mean + (<usize>(r - 1) << 2), mhi);
    if (rstd) store<f32>(rstd + (<usize>(r - 1) << 2), rr);
    // The common affine case has its own inlined loop (an out-of-line copy with flag branches,
    // normRow, measured 3-5% slower); the other combinations share normRow to save module bytes.
    if (w && b) normalizeRow(x + off, y + off, w, b, cols, mhi, mlo, rr, true, true, true);
    else normRow(x + off, y + off, w, b, cols, mhi, mlo, rr, true);
  }
}
