// Shared SIMD helpers for the kernels. Everything here is @inline: the helpers cost no calls.
//
// Row statistics use one fixed accumulation order, reproduced by src/fallback/lanes.ts:
//   K = f64(x[0]) (the row is shifted by one of its own elements, so a row like 40000 + noise
//   sums small numbers). Eight f64 lanes: element i < D8 = D - D % 8 goes to lane i % 8,
//   s[l] += x[i] - K and q[l] += (x[i] - K)^2, lanes start at +0, elements in increasing i.
//   Lanes combine as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail i = D8..D-1 is added
//   in order. With invD = 1/D (one f64 division per call): m = s * invD, mean = K + m,
//   var = max(q * invD - m * m, 0).
// The shift bounds the cancellation in q/D - (s/D)^2 by a factor D (x[0] is a row element, so
// (mean - K)^2 <= D * var); in f64 that leaves ~2^-28 relative error in var for D = 16384,
// far below float32 resolution, without a second pass over the row.

// Results of the last rowMoments call (module globals are per instance, so per thread).
export let momentMean: f64 = 0;
export let momentVar: f64 = 0;

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

// Mean and biased variance of the f32 row at xr (d > 0 elements, invD = 1/d), in the order above.
// @ts-ignore: decorator
@inline export function rowMoments(xr: usize, d: i32, invD: f64): void {
  const K = <f64>load<f32>(xr);
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
  let s = hsum2(f64x2.add(f64x2.add(s0, s2), f64x2.add(s1, s3)));
  let q = hsum2(f64x2.add(f64x2.add(q0, q2), f64x2.add(q1, q3)));
  for (; i < d; i++) {
    const t = <f64>load<f32>(xr + (<usize>i << 2)) - K;
    s += t;
    q += t * t;
  }
  const m = s * invD;
  let v = q * invD - m * m;
  if (v < 0) v = 0;
  momentMean = K + m;
  momentVar = v;
}

// Writes f64 (mean, variance) pairs of `rows` rows to out. Exported so tests can compare the
// statistics with the JS twin bit for bit, in f64, where any change of order would show.
export function moments(x: usize, rows: i32, cols: i32, out: usize): void {
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  for (let r = 0; r < rows; r++) {
    rowMoments(x + <usize>r * rowBytes, cols, invD);
    store<f64>(out + (<usize>r << 4), momentMean);
    store<f64>(out + (<usize>r << 4), momentVar, 8);
  }
}
