// Shared SIMD helpers for the kernels. Everything here is @inline: the helpers cost no calls.
//
// Every f64 reduction along a row uses one fixed accumulation order, reproduced by
// src/fallback/lanes.ts ("the lane order"):
//   eight f64 lanes, element i < D8 = D - D % 8 goes to lane i % 8, lanes start at +0 and take
//   elements in increasing i; the lanes combine as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)); then
//   the tail i = D8..D-1 is added in order.
//
// Shifted f64 sums (BatchNorm planes, and LayerNorm rows that leave the f32 path below): the row
// is shifted by K, one of its own elements (K = f64(x[0]) for a row), so a row like 40000 + noise sums small numbers: s = sum(x - K) and
// q = sum((x - K)^2) in the lane order. With invD = 1/D (one f64 division per call):
// m = s * invD, mean = K + m, var = max(q * invD - m * m, 0).
// The shift bounds the cancellation in q/D - (s/D)^2 by a factor D (K is a row element, so
// (mean - K)^2 <= D * var); in f64 that leaves ~2^-28 relative error in var for D = 16384,
// far below float32 resolution, without a second pass over the row.
// Mean square (RMSNorm): q = sum(x^2) in the lane order, ms = q * invD (no shift: x^2 has no
// cancellation).

/** Rows per block of every cross-row (column) reduction: partial sums per block, folded in block order. */
export const BLOCK: i32 = 32;

// Results of the last rowSums / rowMoments / rowSumSq call (module globals are per instance, so
// per thread; they carry nothing from one kernel call to the next).
export let momentMean: f64 = 0;
export let momentVar: f64 = 0;
export let sumS: f64 = 0;
export let sumQ: f64 = 0;

// @ts-ignore: decorator
@inline export function lo2(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}
// @ts-ignore: decorator
@inline export function hi2(v: v128): v128 {
  return f64x2.promote_low_f32x4(i64x2.shuffle(v, v, 1, 0));
}
// @ts-ignore: decorator
@inline export function hsum2(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}
/** Lane-order combination of four f64x2 accumulators holding lanes (0,1), (2,3), (4,5), (6,7). */
// @ts-ignore: decorator
@inline export function combine8(a: v128, b: v128, c: v128, d: v128): f64 {
  return hsum2(f64x2.add(f64x2.add(a, c), f64x2.add(b, d)));
}

// s = sum(x - K), q = sum((x - K)^2) over the f32 row at xr (d elements), in the lane order.
// Out of line: one copy shared by the kernels (a call per row measured no slower than inlining
// at D >= 768; layerNorm keeps inlined copies, which are up to ~10% faster at D = 64).
export function rowSums(xr: usize, d: i32, K: f64): void {
  rowSumsInline(xr, d, K);
}
// @ts-ignore: decorator
@inline export function rowSumsInline(xr: usize, d: i32, K: f64): void {
  const kv = f64x2.splat(K);
  let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
  let q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const p = xr + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16);
    const t0 = f64x2.sub(lo2(a), kv), t1 = f64x2.sub(hi2(a), kv);
    const t2 = f64x2.sub(lo2(b), kv), t3 = f64x2.sub(hi2(b), kv);
    s0 = f64x2.add(s0, t0); q0 = f64x2.add(q0, f64x2.mul(t0, t0));
    s1 = f64x2.add(s1, t1); q1 = f64x2.add(q1, f64x2.mul(t1, t1));
    s2 = f64x2.add(s2, t2); q2 = f64x2.add(q2, f64x2.mul(t2, t2));
    s3 = f64x2.add(s3, t3); q3 = f64x2.add(q3, f64x2.mul(t3, t3));
  }
  let s = combine8(s0, s1, s2, s3);
  let q = combine8(q0, q1, q2, q3);
  for (; i < d; i++) {
    const t = <f64>load<f32>(xr + (<usize>i << 2)) - K;
    s += t;
    q += t * t;
  }
  sumS = s;
  sumQ = q;
}

// Mean and biased variance of the f32 row at xr (d > 0 elements, invD = 1/d): a centered
// two-pass in f32 lanes ("the f32 block order", reproduced by src/fallback/lanes.ts):
//   Groups of 16 elements go to 16 f32 lanes (element i -> lane i % 16); a block is up to 8 groups
//   (128 elements): each lane starts at the block's first group and adds the next groups in f32,
//   then lanes k and k + 8 are added in f32, and those 8 sums are promoted and added to eight f64
//   lanes (lane k <- f32 lane k), combined as in the lane order; elements past the last full group
//   (i >= D16 = D - D % 16) are added in f64 in order.
//   Pass 1: S1 = sum(x) in that order; c = f32(S1 * invD).
//   Pass 2: t = f32(x - c); S = sum(t), Q = sum(f32(t * t)) in that order (tail: t in f32, sums in f64).
//   mean = c + S / D, var = max(Q / D - (S / D)^2, 0) in f64.
// c is within a few f32 roundings of the mean, so Q / D - (S / D)^2 cancels nothing that matters
// (the trap of a shift by x[0] when x[0] is an outlier); every error is relative to |x - c|.
// A constant row gives t = j ulp exactly, S and Q exact, so mean = x[0] and var = 0 exactly
// (hence the divisions by D, not products with invD). Rows where f32 squares could overflow or
// lose precision, or that hold Inf/NaN (Q / D not in [2^-100, Inf)), take the f64 path:
// rowSums shifted by K = x[0] (K = 0 when x[0] is not finite, so the mean is the arithmetic one,
// +-Inf or NaN, wherever the infinity sits), m = s * invD, mean = K + m, var = max(q * invD - m^2, 0).
// @ts-ignore: decorator
@inline export function rowMoments(xr: usize, d: i32, invD: f64, inline: bool = false): void {
  if (inline) rowMomentsInline(xr, d, invD);
  else rowMomentsShared(xr, d, invD);
}
// One out-of-line copy for normBackward and the moments test hook; layerNorm inlines its own.
export function rowMomentsShared(xr: usize, d: i32, invD: f64): void {
  rowMomentsInline(xr, d, invD);
}
// @ts-ignore: decorator
@inline function rowMomentsInline(xr: usize, d: i32, invD: f64): void {
  const d16 = d & ~15;
  const dd = <f64>d;
  let c = load<f32>(xr);
  if (d16) {
    const h = f32x4.add(f32x4.add(v128.load(xr), v128.load(xr, 16)), f32x4.add(v128.load(xr, 32), v128.load(xr, 48)));
    c = ((f32x4.extract_lane(h, 0) + f32x4.extract_lane(h, 1)) + (f32x4.extract_lane(h, 2) + f32x4.extract_lane(h, 3))) * <f32>0.0625;
  }
  for (let pass = 0; pass < 2; pass++) {
    centered16(xr, d16, d, c);
    const ms = sumQ / dd;
    if (!(ms >= TINY && ms < Infinity)) break;
    const m = sumS / dd;
    if (pass == 0 && m * m + m * m > ms) {
      c = <f32>(<f64>c + m);
      continue;
    }
    let v = ms - m * m;
    if (v < 0) v = 0;
    momentMean = <f64>c + m;
    momentVar = v;
    return;
  }
  let K = <f64>load<f32>(xr);
  if (K - K != 0) K = 0;
  rowSums(xr, d, K);
  const m = sumS * invD;
  let v = sumQ * invD - m * m;
  if (v < 0) v = 0;
  momentMean = K + m;
  momentVar = v;
}

/** Below this mean square the f32 squares of pass 2 may be subnormal: the row takes the f64 path. */
const TINY: f64 = 7.888609052210118e-31; // 2^-100

// Sum of the f32 row at xr (d elements, d16 = d & ~15) in the f32 block order.
// @ts-ignore: decorator
@inline function sum16(xr: usize, d16: i32, d: i32): f64 {
  let F0 = f64x2.splat(0), F1 = F0, F2 = F0, F3 = F0;
  let i = 0;
  while (i < d16) {
    let p = xr + (<usize>i << 2);
    let a = v128.load(p), b = v128.load(p, 16), e = v128.load(p, 32), f = v128.load(p, 48);
    const end = min(i + 128, d16);
    for (i += 16; i < end; i += 16) {
      p = xr + (<usize>i << 2);
      a = f32x4.add(a, v128.load(p)); b = f32x4.add(b, v128.load(p, 16));
      e = f32x4.add(e, v128.load(p, 32)); f = f32x4.add(f, v128.load(p, 48));
    }
    const ae = f32x4.add(a, e), bf = f32x4.add(b, f);
    F0 = f64x2.add(F0, lo2(ae)); F1 = f64x2.add(F1, hi2(ae));
    F2 = f64x2.add(F2, lo2(bf)); F3 = f64x2.add(F3, hi2(bf));
  }
  let s = combine8(F0, F1, F2, F3);
  for (; i < d; i++) s += <f64>load<f32>(xr + (<usize>i << 2));
  return s;
}

// sumS = sum(t), sumQ = sum(f32(t * t)), t = f32(x - c), over the f32 row at xr in the f32 block order.
// @ts-ignore: decorator
@inline function centered16(xr: usize, d16: i32, d: i32, c: f32): void {
  const cv = f32x4.splat(c);
  let S0 = f64x2.splat(0), S1 = S0, S2 = S0, S3 = S0;
  let Q0 = S0, Q1 = S0, Q2 = S0, Q3 = S0;
  let i = 0;
  while (i < d16) {
    let p = xr + (<usize>i << 2);
    let a = f32x4.sub(v128.load(p), cv), b = f32x4.sub(v128.load(p, 16), cv);
    let e = f32x4.sub(v128.load(p, 32), cv), f = f32x4.sub(v128.load(p, 48), cv);
    let qa = f32x4.mul(a, a), qb = f32x4.mul(b, b), qe = f32x4.mul(e, e), qf = f32x4.mul(f, f);
    const end = min(i + 128, d16);
    for (i += 16; i < end; i += 16) {
      p = xr + (<usize>i << 2);
      const ta = f32x4.sub(v128.load(p), cv), tb = f32x4.sub(v128.load(p, 16), cv);
      const te = f32x4.sub(v128.load(p, 32), cv), tf = f32x4.sub(v128.load(p, 48), cv);
      a = f32x4.add(a, ta); b = f32x4.add(b, tb); e = f32x4.add(e, te); f = f32x4.add(f, tf);
      qa = f32x4.add(qa, f32x4.mul(ta, ta)); qb = f32x4.add(qb, f32x4.mul(tb, tb));
      qe = f32x4.add(qe, f32x4.mul(te, te)); qf = f32x4.add(qf, f32x4.mul(tf, tf));
    }
    const ae = f32x4.add(a, e), bf = f32x4.add(b, f);
    S0 = f64x2.add(S0, lo2(ae)); S1 = f64x2.add(S1, hi2(ae));
    S2 = f64x2.add(S2, lo2(bf)); S3 = f64x2.add(S3, hi2(bf));
    const qae = f32x4.add(qa, qe), qbf = f32x4.add(qb, qf);
    Q0 = f64x2.add(Q0, lo2(qae)); Q1 = f64x2.add(Q1, hi2(qae));
    Q2 = f64x2.add(Q2, lo2(qbf)); Q3 = f64x2.add(Q3, hi2(qbf));
  }
  let s = combine8(S0, S1, S2, S3);
  let q = combine8(Q0, Q1, Q2, Q3);
  for (; i < d; i++) {
    const t = load<f32>(xr + (<usize>i << 2)) - c;
    s += <f64>t;
    q += <f64>t * <f64>t;
  }
  sumS = s;
  sumQ = q;
}

// Mean square of the f32 row at xr (RMSNorm): momentMean = 0, momentVar = sum(x^2) * invD.
export function rowSumSq(xr: usize, d: i32, invD: f64): void {
  let q0 = f64x2.splat(0), q1 = q0, q2 = q0, q3 = q0;
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const p = xr + (<usize>i << 2);
    const a = v128.load(p), b = v128.load(p, 16);
    const t0 = lo2(a), t1 = hi2(a), t2 = lo2(b), t3 = hi2(b);
    q0 = f64x2.add(q0, f64x2.mul(t0, t0));
    q1 = f64x2.add(q1, f64x2.mul(t1, t1));
    q2 = f64x2.add(q2, f64x2.mul(t2, t2));
    q3 = f64x2.add(q3, f64x2.mul(t3, t3));
  }
  let q = combine8(q0, q1, q2, q3);
  for (; i < d; i++) {
    const t = <f64>load<f32>(xr + (<usize>i << 2));
    q += t * t;
  }
  momentMean = 0;
  momentVar = q * invD;
}

// Writes f64 (mean, variance) pairs of `rows` rows to out, or with rms (0, mean square).
// Exported so tests can compare the statistics with the JS twin bit for bit, in f64, where any
// change of order would show.
export function moments(x: usize, rows: i32, cols: i32, out: usize, rms: bool): void {
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  for (let r = 0; r < rows; r++) {
    if (rms) rowSumSq(x + <usize>r * rowBytes, cols, invD);
    else rowMoments(x + <usize>r * rowBytes, cols, invD);
    store<f64>(out + (<usize>r << 4), momentMean);
    store<f64>(out + (<usize>r << 4), momentVar, 8);
  }
}
