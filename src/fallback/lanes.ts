// JS twins of assembly/lanes.ts, in exactly the kernel's orders: the f64 "lane order" (eight
// lanes, element i -> lane i % 8, combined ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail in
// order) and, for RMSNorm's mean square, the "f32 block order" (16 f32 lanes rounded by
// Math.fround after every step, as the kernel's f32x4 lanes round). Any change here must be
// mirrored there, and vice versa.

/** Rows per block of every cross-row reduction (assembly/lanes.ts BLOCK; a test checks they agree). */
export const BLOCK = 32;

const fr = Math.fround;

/** Results of the last rowMoments / rowSumSq call. */
export const moments = { mean: 0, variance: 0 };
/** Results of the last rowSums call. */
export const sums = { s: 0, q: 0 };

/** Twin of assembly/lanes.ts shiftOf: the row's first element, or 0 if it is not finite (position-independent mean). */
export const shiftOf = (e: number): number => (e - e === 0 ? e : 0);

/** Mean and biased variance of x[o .. o+d) (d > 0, invD = 1/d), bitwise equal to the wasm kernel's. */
export function rowMoments(x: Float32Array, o: number, d: number, invD: number): void {
  const K = shiftOf(x[o]!);
  rowSums(x, o, d, K);
  const m = sums.s * invD;
  let v = sums.q * invD - m * m;
  if (v < 0) v = 0;
  moments.mean = K + m;
  moments.variance = v;
}

/** sums.s = sum(x - K), sums.q = sum((x - K)^2) over x[o .. o+d), in the lane order. */
export function rowSums(x: Float32Array, o: number, d: number, K: number): void {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
  const end8 = o + (d & ~7), end = o + d;
  let i = o;
  for (; i < end8; i += 8) {
    const t0 = x[i]! - K, t1 = x[i + 1]! - K, t2 = x[i + 2]! - K, t3 = x[i + 3]! - K;
    const t4 = x[i + 4]! - K, t5 = x[i + 5]! - K, t6 = x[i + 6]! - K, t7 = x[i + 7]! - K;
    s0 += t0; s1 += t1; s2 += t2; s3 += t3; s4 += t4; s5 += t5; s6 += t6; s7 += t7;
    q0 += t0 * t0; q1 += t1 * t1; q2 += t2 * t2; q3 += t3 * t3;
    q4 += t4 * t4; q5 += t5 * t5; q6 += t6 * t6; q7 += t7 * t7;
  }
  let s = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
  let q = ((q0 + q4) + (q2 + q6)) + ((q1 + q5) + (q3 + q7));
  for (; i < end; i++) {
    const t = x[i]! - K;
    s += t;
    q += t * t;
  }
  sums.s = s;
  sums.q = q;
}

/**
 * Mean square of x[o .. o+d): moments.mean = 0, moments.variance = Q * invD, Q = sum(f32(x * x))
 * in the f32 block order of assembly/lanes.ts rowSumSq (16 f32 lanes rounded by Math.fround),
 * or its f64 path for the rows it sends there.
 */
export function rowSumSq(x: Float32Array, o: number, d: number, invD: number): void {
  // f64 lane k receives f32(lane k + lane k + 8) of each block's 16 f32 lanes.
  let Q0 = 0, Q1 = 0, Q2 = 0, Q3 = 0, Q4 = 0, Q5 = 0, Q6 = 0, Q7 = 0;
  const end16 = o + (d & ~15), end = o + d;
  let i = o;
  while (i < end16) {
    let q0 = fr(x[i + 0]! * x[i + 0]!), q1 = fr(x[i + 1]! * x[i + 1]!), q2 = fr(x[i + 2]! * x[i + 2]!), q3 = fr(x[i + 3]! * x[i + 3]!);
    let q4 = fr(x[i + 4]! * x[i + 4]!), q5 = fr(x[i + 5]! * x[i + 5]!), q6 = fr(x[i + 6]! * x[i + 6]!), q7 = fr(x[i + 7]! * x[i + 7]!);
    let q8 = fr(x[i + 8]! * x[i + 8]!), q9 = fr(x[i + 9]! * x[i + 9]!), q10 = fr(x[i + 10]! * x[i + 10]!), q11 = fr(x[i + 11]! * x[i + 11]!);
    let q12 = fr(x[i + 12]! * x[i + 12]!), q13 = fr(x[i + 13]! * x[i + 13]!), q14 = fr(x[i + 14]! * x[i + 14]!), q15 = fr(x[i + 15]! * x[i + 15]!);
    const bend = Math.min(i + 128, end16);
    for (i += 16; i < bend; i += 16) {
      q0 = fr(q0 + fr(x[i + 0]! * x[i + 0]!)); q1 = fr(q1 + fr(x[i + 1]! * x[i + 1]!)); q2 = fr(q2 + fr(x[i + 2]! * x[i + 2]!)); q3 = fr(q3 + fr(x[i + 3]! * x[i + 3]!));
      q4 = fr(q4 + fr(x[i + 4]! * x[i + 4]!)); q5 = fr(q5 + fr(x[i + 5]! * x[i + 5]!)); q6 = fr(q6 + fr(x[i + 6]! * x[i + 6]!)); q7 = fr(q7 + fr(x[i + 7]! * x[i + 7]!));
      q8 = fr(q8 + fr(x[i + 8]! * x[i + 8]!)); q9 = fr(q9 + fr(x[i + 9]! * x[i + 9]!)); q10 = fr(q10 + fr(x[i + 10]! * x[i + 10]!)); q11 = fr(q11 + fr(x[i + 11]! * x[i + 11]!));
      q12 = fr(q12 + fr(x[i + 12]! * x[i + 12]!)); q13 = fr(q13 + fr(x[i + 13]! * x[i + 13]!)); q14 = fr(q14 + fr(x[i + 14]! * x[i + 14]!)); q15 = fr(q15 + fr(x[i + 15]! * x[i + 15]!));
    }
    Q0 += fr(q0 + q8); Q1 += fr(q1 + q9); Q2 += fr(q2 + q10); Q3 += fr(q3 + q11);
    Q4 += fr(q4 + q12); Q5 += fr(q5 + q13); Q6 += fr(q6 + q14); Q7 += fr(q7 + q15);
  }
  let q = ((Q0 + Q4) + (Q2 + Q6)) + ((Q1 + Q5) + (Q3 + Q7));
  for (; i < end; i++) {
    const t = x[i]!;
    q += t * t;
  }
  moments.mean = 0;
  moments.variance = q * invD;
  if (moments.variance >= TINY && moments.variance < Infinity) return;
  rowSumSq64(x, o, d, invD);
}

/** Twin of assembly/lanes.ts TINY. */
const TINY = 2 ** -100;

/** The f64 path of rowSumSq: q = sum(x^2) in the lane order. */
function rowSumSq64(x: Float32Array, o: number, d: number, invD: number): void {
  let q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
  const end8 = o + (d & ~7), end = o + d;
  let i = o;
  for (; i < end8; i += 8) {
    const t0 = x[i]!, t1 = x[i + 1]!, t2 = x[i + 2]!, t3 = x[i + 3]!;
    const t4 = x[i + 4]!, t5 = x[i + 5]!, t6 = x[i + 6]!, t7 = x[i + 7]!;
    q0 += t0 * t0; q1 += t1 * t1; q2 += t2 * t2; q3 += t3 * t3;
    q4 += t4 * t4; q5 += t5 * t5; q6 += t6 * t6; q7 += t7 * t7;
  }
  let q = ((q0 + q4) + (q2 + q6)) + ((q1 + q5) + (q3 + q7));
  for (; i < end; i++) {
    const t = x[i]!;
    q += t * t;
  }
  moments.variance = q * invD;
}

/** Twin of the kernel's test export `moments`: f64 (mean, var) or (0, mean square) per row. */
export function momentsJs(x: Float32Array, rows: number, cols: number, out: Float64Array, rms: boolean): void {
  for (let r = 0; r < rows; r++) {
    if (rms) rowSumSq(x, r * cols, cols, 1 / cols);
    else rowMoments(x, r * cols, cols, 1 / cols);
    out[2 * r] = moments.mean;
    out[2 * r + 1] = moments.variance;
  }
}
