// LayerNorm forward over `rows` float32 rows of `cols` elements.
//
// Algorithm (per row), reproduced bit for bit by src/fallback/layerNorm.ts:
//   1. mean and biased variance in f64 by rowMoments (lanes.ts states its accumulation order).
//   2. rstd = 1 / sqrt(var + eps) in f64.
//   3. The f64 mean is split into two f32 values, mhi = f32(mean), mlo = f32(mean - mhi), and
//      r = f32(rstd). Element j is then computed in f32, each step rounded:
//        t = (x[j] - mhi) - mlo;  u = t * r;  y[j] = u * w[j] + b[j]
//      (without weight: y = u [+ b]; without bias: y = u [* w]). For rows far from zero
//      (40000 + noise) x - mhi is exact, so the split keeps the mean's f64 accuracy.
// Optional outputs per row: mean[r] = mhi, rstd[r] = r. Pointers of absent tensors are 0.
// No allocation; memory is touched only inside x, w, b, y, mean and rstd.
import { rowMoments, momentMean, momentVar } from "./lanes";

export function layerNorm(
  x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize,
  rows: i32, cols: i32, eps: f64,
): void {
  // Checked in the debug build only (release builds use noAssert); the wrapper validates first.
  assert(rows >= 0 && cols > 0 && !((x | y | w | b | mean | rstd) & 3), "layerNorm: bad sizes or unaligned pointer");
  if (rows <= 0) return;
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  rowMoments(x, cols, invD);
  let m = momentMean, v = momentVar;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const rs = 1.0 / Math.sqrt(v + eps);
    const mhi = <f32>m;
    const mlo = <f32>(m - <f64>mhi);
    const rr = <f32>rs;
    // The next row's statistics come first: independent work that hides this row's
    // sqrt/div latency (~25% faster at D = 64; results are unchanged, rows are independent).
    if (r + 1 < rows) {
      rowMoments(x + off + rowBytes, cols, invD);
      m = momentMean;
      v = momentVar;
    }
    if (mean) store<f32>(mean + (<usize>r << 2), mhi);
    if (rstd) store<f32>(rstd + (<usize>r << 2), rr);
    const xr = x + off, yr = y + off;
    if (w) {
      if (b) normalizeRow(xr, yr, w, b, cols, mhi, mlo, rr, true, true);
      else normalizeRow(xr, yr, w, b, cols, mhi, mlo, rr, true, false);
    } else {
      if (b) normalizeRow(xr, yr, w, b, cols, mhi, mlo, rr, false, true);
      else normalizeRow(xr, yr, w, b, cols, mhi, mlo, rr, false, false);
    }
  }
}

// @ts-ignore: decorator
@inline function affine4(t: v128, rv: v128, w: usize, b: usize, o: usize, hasW: bool, hasB: bool): v128 {
  let u = f32x4.mul(t, rv);
  if (hasW) u = f32x4.mul(u, v128.load(w + o));
  if (hasB) u = f32x4.add(u, v128.load(b + o));
  return u;
}

// @ts-ignore: decorator
@inline function normalizeRow(
  xr: usize, yr: usize, w: usize, b: usize, d: i32,
  mhi: f32, mlo: f32, r: f32, hasW: bool, hasB: bool,
): void {
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r);
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const o = <usize>i << 2;
    const t0 = f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv);
    const t1 = f32x4.sub(f32x4.sub(v128.load(xr + o, 16), hv), lv);
    const y0 = affine4(t0, rv, w, b, o, hasW, hasB);
    const y1 = affine4(t1, rv, w, b, o + 16, hasW, hasB);
    v128.store(yr + o, y0);
    v128.store(yr + o, y1, 16);
  }
  if (i + 4 <= d) {
    const o = <usize>i << 2;
    v128.store(yr + o, affine4(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv, w, b, o, hasW, hasB));
    i += 4;
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    let u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    if (hasW) u *= load<f32>(w + o);
    if (hasB) u += load<f32>(b + o);
    store<f32>(yr + o, u);
  }
}
