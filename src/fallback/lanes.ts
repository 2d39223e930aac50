// JS twins of assembly/lanes.ts, in exactly the kernel's orders: the f64 "lane order" (eight
// lanes, element i -> lane i % 8, combined ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail in
// order) and, for LayerNorm's row statistics, the "f32 block order" (16 f32 lanes rounded by
// Math.fround after every step, as the kernel's f32x4 lanes round). Any change here must be
// mirrored there, and vice versa.

/** Rows per block of every cross-row reduction (assembly/lanes.ts BLOCK; a test checks they agree). */
export const BLOCK = 32;

const fr = Math.fround;

/** Results of the last rowMoments / rowSumSq call. */
export const moments = { mean: 0, variance: 0 };
/** Results of the last rowSums call. */
export const sums = { s: 0, q: 0 };

/**
 * Mean and biased variance of x[o .. o+d) (d > 0, invD = 1/d), bitwise equal to the wasm kernel's:
 * the centered two-pass in f32 lanes of assembly/lanes.ts ("the f32 block order"), with its f64
 * path for the rows it sends there.
 */
export function rowMoments(x: Float32Array, o: number, d: number, invD: number): void {
  let c = x[o]!;
  if (d >= 16) {
    const h0 = fr(fr(x[o]! + x[o + 4]!) + fr(x[o + 8]! + x[o + 12]!)), h1 = fr(fr(x[o + 1]! + x[o + 5]!) + fr(x[o + 9]! + x[o + 13]!));
    const h2 = fr(fr(x[o + 2]! + x[o + 6]!) + fr(x[o + 10]! + x[o + 14]!)), h3 = fr(fr(x[o + 3]! + x[o + 7]!) + fr(x[o + 11]! + x[o + 15]!));
    c = fr(fr(fr(h0 + h1) + fr(h2 + h3)) * 0.0625);
  }
  for (let pass = 0; pass < 2; pass++) {
    centered16(x, o, d, c);
    const ms = sums.q / d;
    if (!(ms >= TINY && ms < Infinity)) break;
    const m = sums.s / d;
    if (pass === 0 && m * m + m * m > ms) {
      c = fr(c + m);
      continue;
    }
    let v = ms - m * m;
    if (v < 0) v = 0;
    moments.mean = c + m;
    moments.variance = v;
    return;
  }
  let K = x[o]!;
  if (K - K !== 0) K = 0;
  rowSums(x, o, d, K);
  const m = sums.s * invD;
  let v = sums.q * invD - m * m;
  if (v < 0) v = 0;
  moments.mean = K + m;
  moments.variance = v;
}

/** Twin of assembly/lanes.ts TINY. */
const TINY = 2 ** -100;

/** sums.s = sum(t), sums.q = sum(f32(t * t)), t = f32(x - c), over x[o .. o+d) in the f32 block order. */
function centered16(x: Float32Array, o: number, d: number, c: number): void {
  // f64 lane k receives f32(lane k + lane k + 8) of each block's 16 f32 lanes.
  let S0 = 0, S1 = 0, S2 = 0, S3 = 0, S4 = 0, S5 = 0, S6 = 0, S7 = 0;
  let Q0 = 0, Q1 = 0, Q2 = 0, Q3 = 0, Q4 = 0, Q5 = 0, Q6 = 0, Q7 = 0;
  const end16 = o + (d & ~15), end = o + d;
  let i = o;
  while (i < end16) {
    let s0 = fr(x[i + 0]! - c), s1 = fr(x[i + 1]! - c), s2 = fr(x[i + 2]! - c), s3 = fr(x[i + 3]! - c);
    let s4 = fr(x[i + 4]! - c), s5 = fr(x[i + 5]! - c), s6 = fr(x[i + 6]! - c), s7 = fr(x[i + 7]! - c);
    let s8 = fr(x[i + 8]! - c), s9 = fr(x[i + 9]! - c), s10 = fr(x[i + 10]! - c), s11 = fr(x[i + 11]! - c);
    let s12 = fr(x[i + 12]! - c), s13 = fr(x[i + 13]! - c), s14 = fr(x[i + 14]! - c), s15 = fr(x[i + 15]! - c);
    let q0 = fr(s0 * s0), q1 = fr(s1 * s1), q2 = fr(s2 * s2), q3 = fr(s3 * s3);
    let q4 = fr(s4 * s4), q5 = fr(s5 * s5), q6 = fr(s6 * s6), q7 = fr(s7 * s7);
    let q8 = fr(s8 * s8), q9 = fr(s9 * s9), q10 = fr(s10 * s10), q11 = fr(s11 * s11);
    let q12 = fr(s12 * s12), q13 = fr(s13 * s13), q14 = fr(s14 * s14), q15 = fr(s15 * s15);
    const bend = Math.min(i + 128, end16);
    for (i += 16; i < bend; i += 16) {
      const t0 = fr(x[i + 0]! - c), t1 = fr(x[i + 1]! - c), t2 = fr(x[i + 2]! - c), t3 = fr(x[i + 3]! - c);
      s0 = fr(s0 + t0); s1 = fr(s1 + t1); s2 = fr(s2 + t2); s3 = fr(s3 + t3);
      q0 = fr(q0 + fr(t0 * t0)); q1 = fr(q1 + fr(t1 * t1)); q2 = fr(q2 + fr(t2 * t2)); q3 = fr(q3 + fr(t3 * t3));
      const t4 = fr(x[i + 4]! - c), t5 = fr(x[i + 5]! - c), t6 = fr(x[i + 6]! - c), t7 = fr(x[i + 7]! - c);
      s4 = fr(s4 + t4); s5 = fr(s5 + t5); s6 = fr(s6 + t6); s7 = fr(s7 + t7);
      q4 = fr(q4 + fr(t4 * t4)); q5 = fr(q5 + fr(t5 * t5)); q6 = fr(q6 + fr(t6 * t6)); q7 = fr(q7 + fr(t7 * t7));
      const t8 = fr(x[i + 8]! - c), t9 = fr(x[i + 9]! - c), t10 = fr(x[i + 10]! - c), t11 = fr(x[i + 11]! - c);
      s8 = fr(s8 + t8); s9 = fr(s9 + t9); s10 = fr(s10 + t10); s11 = fr(s11 + t11);
      q8 = fr(q8 + fr(t8 * t8)); q9 = fr(q9 + fr(t9 * t9)); q10 = fr(q10 + fr(t10 * t10)); q11 = fr(q11 + fr(t11 * t11));
      const t12 = fr(x[i + 12]! - c), t13 = fr(x[i + 13]! - c), t14 = fr(x[i + 14]! - c), t15 = fr(x[i + 15]! - c);
      s12 = fr(s12 + t12); s13 = fr(s13 + t13); s14 = fr(s14 + t14); s15 = fr(s15 + t15);
      q12 = fr(q12 + fr(t12 * t12)); q13 = fr(q13 + fr(t13 * t13)); q14 = fr(q14 + fr(t14 * t14)); q15 = fr(q15 + fr(t15 * t15));
    }
    S0 += fr(s0 + s8); S1 += fr(s1 + s9); S2 += fr(s2 + s10); S3 += fr(s3 + s11);
    S4 += fr(s4 + s12); S5 += fr(s5 + s13); S6 += fr(s6 + s14); S7 += fr(s7 + s15);
    Q0 += fr(q0 + q8); Q1 += fr(q1 + q9); Q2 += fr(q2 + q10); Q3 += fr(q3 + q11);
    Q4 += fr(q4 + q12); Q5 += fr(q5 + q13); Q6 += fr(q6 + q14); Q7 += fr(q7 + q15);
  }
  let s = ((S0 + S4) + (S2 + S6)) + ((S1 + S5) + (S3 + S7));
  let q = ((Q0 + Q4) + (Q2 + Q6)) + ((Q1 + Q5) + (Q3 + Q7));
  for (; i < end; i++) {
    const t = fr(x[i]! - c);
    s += t;
    q += t * t;
  }
  sums.s = s;
  sums.q = q;
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

/** Mean square of x[o .. o+d): moments.mean = 0, moments.variance = sum(x^2) * invD. */
export function rowSumSq(x: Float32Array, o: number, d: number, invD: number): void {
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
  moments.mean = 0;
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
