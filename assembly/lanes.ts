// Shared SIMD helpers for the kernels. Everything here is @inline: the helpers cost no calls.
//
// Every f64 reduction along a row uses one fixed accumulation order, reproduced by
// src/fallback/lanes.ts ("the lane order"):
//   eight f64 lanes, element i < D8 = D - D % 8 goes to lane i % 8, lanes start at +0 and take
//   elements in increasing i; the lanes combine as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)); then
//   the tail i = D8..D-1 is added in order.
//
// The f64 one-pass row statistics (BatchNorm planes; LayerNorm rows and GroupNorm channels the
// f32 two-pass below does not serve): the row is shifted by K, one of its own elements
// (K = f64(x[0]) for a row), so a row like 40000 + noise sums small numbers: s = sum(x - K) and
// q = sum((x - K)^2) in the lane order. With invD = 1/D (one f64 division per call):
// m = s * invD, mean = K + m, var = max(q * invD - m * m, 0).
// The shift bounds the cancellation in q/D - (s/D)^2 by a factor D (K is a row element, so
// (mean - K)^2 <= D * var); in f64 that leaves ~2^-28 relative error in var for D = 16384,
// far below float32 resolution, without a second pass over the row.

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

// The shift K of a row whose first element is e: e itself, or 0 when e is +-Inf or NaN, so that the
// mean is the arithmetic one (+-Inf, or NaN with both infinities or a NaN) wherever an infinity
// sits (with K = Inf, x[0] - K would be NaN). Variance, rstd and output are then NaN (PyTorch).
// @ts-ignore: decorator
@inline export function shiftOf(e: f32): f64 {
  return e - e == 0 ? <f64>e : 0;
}

// LayerNorm's mean and biased variance of the f32 row at xr (d > 0 elements, invD = 1/d). Rows
// of d >= TWO_PASS_MIN take a centered two-pass in f32 lanes ("the f32 two-pass"), about half
// the SIMD operations of the f64 lanes; shorter rows, and the rows it cannot serve, take the f64
// one-pass above (rowMoments64):
//   1. K = f32(x0 + S / 128), S = sum(f32(x - x0)) over the first 128 elements in the f32 block
//      order of rowSumSq (terms x - x0 instead of x^2; x0 = x[0], so 40000 + noise sums noise):
//      an estimate of the mean.
//   2. s = sum(t), q = sum(f32(t * t)), t = f32(x - K), both in the f32 block order (elements
//      i >= D16 add f64(t) and f64(t)^2 in order); m = s * invD, mean = K + m,
//      var = max(q * invD - m^2, 0).
// Step 2 is accepted when m^2 <= q * invD / 8: K is then within 0.4 std of the mean, nothing
// cancels, and var keeps the relative error of q (a sum of squares: near 2^-24, as RMSNorm's).
// Otherwise (the head of the row is not like the rest) step 2 is repeated once with K = f32(K + m).
// Rows where K is not finite (an Inf or NaN, an f32 overflow), where q * invD is not in
// [2^-100, Inf) (constant rows, squares that may be subnormal or overflow) or where the repeat
// fails the same test take the f64 path.
// @ts-ignore: decorator
@inline export function rowMoments(xr: usize, d: i32, invD: f64, inline: bool = false): void {
  if (d >= TWO_PASS_MIN && rowMoments32(xr, d, invD)) return;
  rowMoments64(xr, d, invD, inline);
}

/** Shortest row the f32 two-pass serves (shorter rows: the f64 one-pass, faster there). */
export const TWO_PASS_MIN: i32 = 128;

// The f32 two-pass of rowMoments: sets momentMean and momentVar and returns true, or returns
// false for a row the f64 path must take. Out of line, one copy (an inlined copy in layerNorm
// measured no faster: D >= 128 rows amortise the call; it costs 1.2 kB of module).
export function rowMoments32(xr: usize, d: i32, invD: f64): bool {
  // Step 1: one block of 8 groups of 16.
  const x0 = load<f32>(xr);
  const zv = f32x4.splat(x0);
  let a = f32x4.sub(v128.load(xr), zv), b = f32x4.sub(v128.load(xr, 16), zv);
  let e = f32x4.sub(v128.load(xr, 32), zv), f = f32x4.sub(v128.load(xr, 48), zv);
  for (let i = 16; i < 128; i += 16) {
    const p = xr + (<usize>i << 2);
    a = f32x4.add(a, f32x4.sub(v128.load(p), zv)); b = f32x4.add(b, f32x4.sub(v128.load(p, 16), zv));
    e = f32x4.add(e, f32x4.sub(v128.load(p, 32), zv)); f = f32x4.add(f, f32x4.sub(v128.load(p, 48), zv));
  }
  const ae = f32x4.add(a, e), bf = f32x4.add(b, f);
  let K = headShift(x0, combine8(lo2(ae), hi2(ae), lo2(bf), hi2(bf)));
  const d16 = d & ~15;
  for (let round = 0; round < 2 && K - K == 0; round++) {
    // Step 2.
    const kv = f32x4.splat(K);
    let S0 = f64x2.splat(0), S1 = S0, S2 = S0, S3 = S0;
    let Q0 = S0, Q1 = S0, Q2 = S0, Q3 = S0;
    let i = 0;
    while (i < d16) {
      let p = xr + (<usize>i << 2);
      let a = f32x4.sub(v128.load(p), kv), b = f32x4.sub(v128.load(p, 16), kv);
      let e = f32x4.sub(v128.load(p, 32), kv), f = f32x4.sub(v128.load(p, 48), kv);
      let qa = f32x4.mul(a, a), qb = f32x4.mul(b, b), qe = f32x4.mul(e, e), qf = f32x4.mul(f, f);
      const end = min(i + 128, d16);
      for (i += 16; i < end; i += 16) {
        p = xr + (<usize>i << 2);
        const ta = f32x4.sub(v128.load(p), kv), tb = f32x4.sub(v128.load(p, 16), kv);
        const te = f32x4.sub(v128.load(p, 32), kv), tf = f32x4.sub(v128.load(p, 48), kv);
        a = f32x4.add(a, ta); b = f32x4.add(b, tb); e = f32x4.add(e, te); f = f32x4.add(f, tf);
        qa = f32x4.add(qa, f32x4.mul(ta, ta)); qb = f32x4.add(qb, f32x4.mul(tb, tb));
        qe = f32x4.add(qe, f32x4.mul(te, te)); qf = f32x4.add(qf, f32x4.mul(tf, tf));
      }
      const ae = f32x4.add(a, e), bf = f32x4.add(b, f), qae = f32x4.add(qa, qe), qbf = f32x4.add(qb, qf);
      S0 = f64x2.add(S0, lo2(ae)); S1 = f64x2.add(S1, hi2(ae));
      S2 = f64x2.add(S2, lo2(bf)); S3 = f64x2.add(S3, hi2(bf));
      Q0 = f64x2.add(Q0, lo2(qae)); Q1 = f64x2.add(Q1, hi2(qae));
      Q2 = f64x2.add(Q2, lo2(qbf)); Q3 = f64x2.add(Q3, hi2(qbf));
    }
    let s = combine8(S0, S1, S2, S3);
    let q = combine8(Q0, Q1, Q2, Q3);
    for (; i < d; i++) {
      const t = <f64>(load<f32>(xr + (<usize>i << 2)) - K);
      s += t;
      q += t * t;
    }
    const verdict = roundVerdict(s, q, K, invD);
    if (verdict != RETRY) return verdict == ACCEPT;
    K = retryShift;
  }
  return false;
}

// Step 1's shift from the head's sum s of f32(x - x0) over 128 elements: K = f32(x0 + s / 128).
// @ts-ignore: decorator
@inline export function headShift(x0: f32, s: f64): f32 {
  return <f32>(<f64>x0 + s * 0.0078125);
}

/** Verdicts of roundVerdict. */
export const ACCEPT: i32 = 1, RETRY: i32 = 0, F64_PATH: i32 = 2;
/** The shift of the next round after a RETRY verdict. */
export let retryShift: f32 = 0;

// Step 2's tests on a round with shift K and sums s, q (invD = 1/D): ACCEPT (momentMean and
// momentVar set), RETRY (another round with K = retryShift = f32(K + m)) or F64_PATH. Shared with
// GroupNorm's channels-last two-pass, which must take the same decisions.
// @ts-ignore: decorator
@inline export function roundVerdict(s: f64, q: f64, K: f32, invD: f64): i32 {
  const mq = q * invD;
  if (!(mq >= TINY && mq < Infinity)) return F64_PATH;
  const m = s * invD;
  if (m * m <= mq * 0.125) {
    setMoments(<f64>K, m, mq);
    return ACCEPT;
  }
  retryShift = <f32>(<f64>K + m);
  return RETRY;
}

// momentMean = K + m, momentVar = max(mq - m^2, 0): the shifted statistics' finish.
// @ts-ignore: decorator
@inline export function setMoments(K: f64, m: f64, mq: f64): void {
  let v = mq - m * m;
  if (v < 0) v = 0;
  momentMean = K + m;
  momentVar = v;
}

// The f64 path of rowMoments: the one-pass shifted f64 lane sums described at the top.
// @ts-ignore: decorator
@inline export function rowMoments64(xr: usize, d: i32, invD: f64, inline: bool = false): void {
  const K = shiftOf(load<f32>(xr));
  if (inline) rowSumsInline(xr, d, K);
  else rowSums(xr, d, K);
  setMoments(K, sumS * invD, sumQ * invD);
}

// Mean square of the f32 row at xr (RMSNorm): momentMean = 0, momentVar = Q * invD with
// Q = sum(f32(x * x)) in "the f32 block order" (squares have no cancellation, so f32 lanes keep
// the relative error near 2^-24): groups of 16 elements in 16 f32 lanes (element i -> lane i % 16);
// a block of up to 8 groups starts each lane at its first group's square and adds the next ones
// in f32; lanes k and k + 8 are added in f32 and promoted into eight f64 lanes, combined in the
// lane order; elements i >= D16 = D - D % 16 add f64(x)^2 in order. Rows whose squares could
// overflow or be subnormal, or that hold Inf/NaN (Q * invD not in [2^-100, Inf)), take the f64
// path: q = sum(x^2) in the lane order, momentVar = q * invD.
export function rowSumSq(xr: usize, d: i32, invD: f64): void {
  const d16 = d & ~15;
  let Q0 = f64x2.splat(0), Q1 = Q0, Q2 = Q0, Q3 = Q0;
  let i = 0;
  while (i < d16) {
    let p = xr + (<usize>i << 2);
    let a = v128.load(p), b = v128.load(p, 16), e = v128.load(p, 32), f = v128.load(p, 48);
    a = f32x4.mul(a, a); b = f32x4.mul(b, b); e = f32x4.mul(e, e); f = f32x4.mul(f, f);
    const end = min(i + 128, d16);
    for (i += 16; i < end; i += 16) {
      p = xr + (<usize>i << 2);
      const ta = v128.load(p), tb = v128.load(p, 16), te = v128.load(p, 32), tf = v128.load(p, 48);
      a = f32x4.add(a, f32x4.mul(ta, ta)); b = f32x4.add(b, f32x4.mul(tb, tb));
      e = f32x4.add(e, f32x4.mul(te, te)); f = f32x4.add(f, f32x4.mul(tf, tf));
    }
    const ae = f32x4.add(a, e), bf = f32x4.add(b, f);
    Q0 = f64x2.add(Q0, lo2(ae)); Q1 = f64x2.add(Q1, hi2(ae));
    Q2 = f64x2.add(Q2, lo2(bf)); Q3 = f64x2.add(Q3, hi2(bf));
  }
  let q = combine8(Q0, Q1, Q2, Q3);
  for (; i < d; i++) {
    const t = <f64>load<f32>(xr + (<usize>i << 2));
    q += t * t;
  }
  momentMean = 0;
  momentVar = q * invD;
  if (momentVar >= TINY && momentVar < Infinity) return;
  rowSumSq64(xr, d, invD);
}

/** Below this mean square f32 squares may be subnormal: the row takes the f64 path. */
export const TINY: f64 = 7.888609052210118e-31; // 2^-100

// The f64 path of rowSumSq: q = sum(x^2) in the lane order.
export function rowSumSq64(xr: usize, d: i32, invD: f64): void {
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
