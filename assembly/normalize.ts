// The element-wise pass shared by the row kernels (LayerNorm, RMSNorm, the fused residual add).
//
// Element j of a row, in f32, each step rounded:
//   centered:   t = (x[j] - mhi) - mlo;  u = t * r;  y[j] = u * w[j] + b[j]
//   uncentered: u = x[j] * r;            y[j] = u * w[j]          (RMSNorm)
// without weight: y = u [+ b]; without bias: y = u [* w]. src/fallback/normalize.ts is the twin.
// Vectors of 8, then one of 4, then scalars: every element sees the same operations in the same
// order whichever path it takes, so the split does not change the bits.

// @ts-ignore: decorator
@inline function affine4(t: v128, rv: v128, w: usize, b: usize, o: usize, hasW: bool, hasB: bool): v128 {
  let u = f32x4.mul(t, rv);
  if (hasW) u = f32x4.mul(u, v128.load(w + o));
  if (hasB) u = f32x4.add(u, v128.load(b + o));
  return u;
}

// @ts-ignore: decorator
@inline function center4(x: v128, hv: v128, lv: v128, centered: bool): v128 {
  return centered ? f32x4.sub(f32x4.sub(x, hv), lv) : x;
}

// @ts-ignore: decorator
@inline export function normalizeRow(
  xr: usize, yr: usize, w: usize, b: usize, d: i32,
  mhi: f32, mlo: f32, r: f32, centered: bool, hasW: bool, hasB: bool,
): void {
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r);
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const o = <usize>i << 2;
    const t0 = center4(v128.load(xr + o), hv, lv, centered);
    const t1 = center4(v128.load(xr + o, 16), hv, lv, centered);
    const y0 = affine4(t0, rv, w, b, o, hasW, hasB);
    const y1 = affine4(t1, rv, w, b, o + 16, hasW, hasB);
    v128.store(yr + o, y0);
    v128.store(yr + o, y1, 16);
  }
  if (i + 4 <= d) {
    const o = <usize>i << 2;
    v128.store(yr + o, affine4(center4(v128.load(xr + o), hv, lv, centered), rv, w, b, o, hasW, hasB));
    i += 4;
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    let u = load<f32>(xr + o);
    if (centered) u = (u - mhi) - mlo;
    u *= r;
    if (hasW) u *= load<f32>(w + o);
    if (hasB) u += load<f32>(b + o);
    store<f32>(yr + o, u);
  }
}

// The out-of-line element pass of skipNorm, rmsNorm without weight and layerNorm's rarer
// combinations. The two usual combinations (centered with weight and bias; uncentered with
// weight) get their own loop copies: the flag branches inside one shared loop cost V8 its
// registers (loop values reloaded from the stack every vector), and the copies made skipRmsNorm
// 1.17-1.36x and rmsNorm 1.3-1.5x faster, skipLayerNorm ~1.05x (A/B of the kernels, 31-41
// rounds), for ~570 bytes. The rest share the loop with branches.
export function normRow(xr: usize, yr: usize, w: usize, b: usize, d: i32, mhi: f32, mlo: f32, r: f32, centered: bool): void {
  if (centered && w && b) normalizeRow(xr, yr, w, b, d, mhi, mlo, r, true, true, true);
  else if (!centered && w && !b) normalizeRow(xr, yr, w, 0, d, 0, 0, r, false, true, false);
  else normalizeRow(xr, yr, w, b, d, mhi, mlo, r, centered, w != 0, b != 0);
}
