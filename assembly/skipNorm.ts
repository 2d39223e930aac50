// Fused residual add + LayerNorm or RMSNorm (onnxruntime's SkipLayerNormalization and
// SkipSimplifiedLayerNormalization) over `rows` float32 rows of `cols` elements.
//
// Algorithm (per row), reproduced bit for bit by src/fallback/skipNorm.ts:
//   1. One pass over x, skip and residual bias: s[j] = (x[j] + skip[j]) + rb[j] in f32 (each add
//      rounded; without rb: s = x + skip), stored to `sum` (or, without it, to y as scratch),
//      while the f64 statistics of s accumulate in the lane order of lanes.ts:
//        LayerNorm: shifted by K = f64(s[0]): lanes sum s - K and (s - K)^2 (exactly rowMoments);
//        RMSNorm:   K = 0, the squares lane sum is sum(s^2) (exactly rowSumSq).
//      So the result is bitwise the unfused layerNorm / rmsNorm of the sum.
//   2. rstd = 1 / sqrt(var + eps) (or ms + eps) in f64; mean split into f32 mhi + mlo as in
//      layerNorm (RMSNorm: no mean); the element pass of normalize.ts reads s back (the row is in
//      L1) and writes y.
// skip row r is skip + ((skipPhase + r) % skipRows) * cols: skipRows = rows for a full skip, 1 for
// one row broadcast to every row (or any divisor of rows, like onnxruntime's (1, S, H) skip);
// skipPhase is the skip row of this call's first row.
// Optional per-row outputs: mean (mhi; LayerNorm only), rstd (f32), and `stats` (test hook: f64
// (mean, var) or (0, ms) pairs, bitwise those of lanes.ts moments). Absent pointers are 0.
import { combine8, lo2, hi2 } from "./lanes";
import { normRow } from "./normalize";

let accS: f64 = 0;
let accQ: f64 = 0;

export function skipNorm(
  x: usize, skip: usize, skipRows: i32, skipPhase: i32, rb: usize, w: usize, b: usize,
  y: usize, sum: usize, mean: usize, rstd: usize, stats: usize,
  rows: i32, cols: i32, eps: f64, rms: bool,
): void {
  assert(rows >= 0 && cols > 0 && skipRows > 0 && skipPhase >= 0 && skipPhase < skipRows && !((x | skip | rb | w | b | y | sum | mean | rstd | stats) & 3), "skipNorm: bad sizes or unaligned pointer");
  if (rows <= 0) return;
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  let sr = skipPhase; // skip row of this call's first row (a chunk may start mid-cycle)
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const dst = (sum ? sum : y) + off;
    const sk = skip + <usize>sr * rowBytes;
    if (++sr == skipRows) sr = 0;
    addRow(x + off, sk, rb, dst, cols, rms);
    let m: f64 = 0, v: f64;
    if (rms) {
      v = accQ * invD;
    } else {
      const K = <f64>load<f32>(dst);
      const s = accS * invD;
      v = accQ * invD - s * s;
      if (v < 0) v = 0;
      m = K + s;
    }
    const rr = <f32>(1.0 / Math.sqrt(v + eps));
    const mhi = <f32>m;
    const mlo = <f32>(m - <f64>mhi);
    if (mean) store<f32>(mean + (<usize>r << 2), mhi);
    if (rstd) store<f32>(rstd + (<usize>r << 2), rr);
    if (stats) {
      store<f64>(stats + (<usize>r << 4), m);
      store<f64>(stats + (<usize>r << 4), v, 8);
    }
    normRow(dst, y + off, w, b, cols, mhi, mlo, rr, !rms);
  }
}

// s = (x + sk) [+ rb] stored to dst; accS/accQ = lane-order sums of s - K and (s - K)^2, K = s[0]
// (0 for RMSNorm).
// @ts-ignore: decorator
@inline function addRow(xr: usize, sk: usize, rb: usize, dst: usize, d: i32, rms: bool): void {
  const hasRB = rb != 0; // a per-vector branch: one copy of the loop instead of two
  let s0f = load<f32>(xr) + load<f32>(sk);
  if (hasRB) s0f += load<f32>(rb);
  const K: f64 = rms ? 0 : <f64>s0f;
  const kv = f64x2.splat(K);
  let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
  let q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const o = <usize>i << 2;
    let a = f32x4.add(v128.load(xr + o), v128.load(sk + o));
    let c = f32x4.add(v128.load(xr + o, 16), v128.load(sk + o, 16));
    if (hasRB) {
      a = f32x4.add(a, v128.load(rb + o));
      c = f32x4.add(c, v128.load(rb + o, 16));
    }
    v128.store(dst + o, a);
    v128.store(dst + o, c, 16);
    const t0 = f64x2.sub(lo2(a), kv), t1 = f64x2.sub(hi2(a), kv);
    const t2 = f64x2.sub(lo2(c), kv), t3 = f64x2.sub(hi2(c), kv);
    s0 = f64x2.add(s0, t0); q0 = f64x2.add(q0, f64x2.mul(t0, t0));
    s1 = f64x2.add(s1, t1); q1 = f64x2.add(q1, f64x2.mul(t1, t1));
    s2 = f64x2.add(s2, t2); q2 = f64x2.add(q2, f64x2.mul(t2, t2));
    s3 = f64x2.add(s3, t3); q3 = f64x2.add(q3, f64x2.mul(t3, t3));
  }
  let s = combine8(s0, s1, s2, s3);
  let q = combine8(q0, q1, q2, q3);
  for (; i < d; i++) {
    const o = <usize>i << 2;
    let e = load<f32>(xr + o) + load<f32>(sk + o);
    if (hasRB) e += load<f32>(rb + o);
    store<f32>(dst + o, e);
    const t = <f64>e - K;
    s += t;
    q += t * t;
  }
  accS = s;
  accQ = q;
}
