// JS twins of assembly/lanes.ts, in exactly the kernel's orders: the f64 "lane order" (eight
// lanes, element i -> lane i % 8, combined ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail in
// order) and, for RMSNorm's mean square and LayerNorm's f32 two-pass (rows of D >= TWO_PASS_MIN),
// the "f32 block order" (16 f32 lanes rounded by Math.fround after every step, as the kernel's
// f32x4 lanes round). Any change here must be mirrored there, and vice versa.

/** Rows per block of every cross-row reduction (assembly/lanes.ts BLOCK; a test checks they agree). */
export const BLOCK = 32;

const fr = Math.fround;

/** Results of the last rowMoments / rowSumSq call. */
export const moments = { mean: 0, variance: 0 };
/** Results of the last rowSums call. */
export const sums = { s: 0, q: 0 };

/** Twin of assembly/lanes.ts shiftOf: the row's first element, or 0 if it is not finite (position-independent mean). */
export const shiftOf = (e: number): number => (e - e === 0 ? e : 0);

/** Twin of assembly/lanes.ts TWO_PASS_MIN. */
export const TWO_PASS_MIN = 128;

/** The f32 block order's f64 lanes: lane k (0..7) takes f32(f32 lane k + f32 lane k + 8) at the end of each block. */
const accS = new Float64Array(8), accQ = new Float64Array(8);

/** Eight f64 lanes combined in the lane order. */
const combine = (a: Float64Array): number => ((a[0]! + a[4]!) + (a[2]! + a[6]!)) + ((a[1]! + a[5]!) + (a[3]! + a[7]!));

/**
 * Mean and biased variance of x[o .. o+d) (d > 0, invD = 1/d), bitwise equal to the wasm kernel's:
 * for d >= TWO_PASS_MIN the f32 two-pass of assembly/lanes.ts rowMoments, else (or for the rows
 * it sends there) rowMoments64.
 */
export function rowMoments(x: Float32Array, o: number, d: number, invD: number): void {
  if (d < TWO_PASS_MIN || !twoPass(x, o, d, invD)) rowMoments64(x, o, d, invD);
}

/** Step 1 of the f32 two-pass: K = f32(x0 + S / 128), S = the f32 block order's sum of f32(x - x0) over x[o .. o+128). */
function headMean(x: Float32Array, o: number): number {
  const z = x[o]!;
  for (let k = 0; k < 16; k++) head[k] = x[o + k]! - z; // (Float32Array stores round as f32x4 adds)
  for (let i = o + 16; i < o + 128; i += 16) for (let k = 0; k < 16; k++) head[k] = head[k]! + fr(x[i + k]! - z);
  const l = (k: number) => fr(head[k]! + head[k + 8]!);
  return fr(z + (((l(0) + l(4)) + (l(2) + l(6))) + ((l(1) + l(5)) + (l(3) + l(7)))) * 0.0078125);
}
const head = new Float32Array(16);

/** Step 2's sums over x[o .. o+d) (sums.s = sum t, sums.q = sum f32(t * t), t = f32(x - K)), in the f32 block order. */
function centeredSums(x: Float32Array, o: number, d: number, K: number): void {
  const end16 = o + (d & ~15), end = o + d;
  accS.fill(0);
  accQ.fill(0);
  let i = o;
  while (i < end16) {
    let t0 = fr(x[i + 0]! - K), t1 = fr(x[i + 1]! - K), t2 = fr(x[i + 2]! - K), t3 = fr(x[i + 3]! - K);
    let t4 = fr(x[i + 4]! - K), t5 = fr(x[i + 5]! - K), t6 = fr(x[i + 6]! - K), t7 = fr(x[i + 7]! - K);
    let t8 = fr(x[i + 8]! - K), t9 = fr(x[i + 9]! - K), t10 = fr(x[i + 10]! - K), t11 = fr(x[i + 11]! - K);
    let t12 = fr(x[i + 12]! - K), t13 = fr(x[i + 13]! - K), t14 = fr(x[i + 14]! - K), t15 = fr(x[i + 15]! - K);
    let q0 = fr(t0 * t0), q1 = fr(t1 * t1), q2 = fr(t2 * t2), q3 = fr(t3 * t3);
    let q4 = fr(t4 * t4), q5 = fr(t5 * t5), q6 = fr(t6 * t6), q7 = fr(t7 * t7);
    let q8 = fr(t8 * t8), q9 = fr(t9 * t9), q10 = fr(t10 * t10), q11 = fr(t11 * t11);
    let q12 = fr(t12 * t12), q13 = fr(t13 * t13), q14 = fr(t14 * t14), q15 = fr(t15 * t15);
    const bend = Math.min(i + 128, end16);
    for (i += 16; i < bend; i += 16) {
      let v: number;
      v = fr(x[i + 0]! - K); t0 = fr(t0 + v); q0 = fr(q0 + fr(v * v)); v = fr(x[i + 1]! - K); t1 = fr(t1 + v); q1 = fr(q1 + fr(v * v));
      v = fr(x[i + 2]! - K); t2 = fr(t2 + v); q2 = fr(q2 + fr(v * v)); v = fr(x[i + 3]! - K); t3 = fr(t3 + v); q3 = fr(q3 + fr(v * v));
      v = fr(x[i + 4]! - K); t4 = fr(t4 + v); q4 = fr(q4 + fr(v * v)); v = fr(x[i + 5]! - K); t5 = fr(t5 + v); q5 = fr(q5 + fr(v * v));
      v = fr(x[i + 6]! - K); t6 = fr(t6 + v); q6 = fr(q6 + fr(v * v)); v = fr(x[i + 7]! - K); t7 = fr(t7 + v); q7 = fr(q7 + fr(v * v));
      v = fr(x[i + 8]! - K); t8 = fr(t8 + v); q8 = fr(q8 + fr(v * v)); v = fr(x[i + 9]! - K); t9 = fr(t9 + v); q9 = fr(q9 + fr(v * v));
      v = fr(x[i + 10]! - K); t10 = fr(t10 + v); q10 = fr(q10 + fr(v * v)); v = fr(x[i + 11]! - K); t11 = fr(t11 + v); q11 = fr(q11 + fr(v * v));
      v = fr(x[i + 12]! - K); t12 = fr(t12 + v); q12 = fr(q12 + fr(v * v)); v = fr(x[i + 13]! - K); t13 = fr(t13 + v); q13 = fr(q13 + fr(v * v));
      v = fr(x[i + 14]! - K); t14 = fr(t14 + v); q14 = fr(q14 + fr(v * v)); v = fr(x[i + 15]! - K); t15 = fr(t15 + v); q15 = fr(q15 + fr(v * v));
    }
    accS[0] = accS[0]! + fr(t0 + t8); accQ[0] = accQ[0]! + fr(q0 + q8);
    accS[1] = accS[1]! + fr(t1 + t9); accQ[1] = accQ[1]! + fr(q1 + q9);
    accS[2] = accS[2]! + fr(t2 + t10); accQ[2] = accQ[2]! + fr(q2 + q10);
    accS[3] = accS[3]! + fr(t3 + t11); accQ[3] = accQ[3]! + fr(q3 + q11);
    accS[4] = accS[4]! + fr(t4 + t12); accQ[4] = accQ[4]! + fr(q4 + q12);
    accS[5] = accS[5]! + fr(t5 + t13); accQ[5] = accQ[5]! + fr(q5 + q13);
    accS[6] = accS[6]! + fr(t6 + t14); accQ[6] = accQ[6]! + fr(q6 + q14);
    accS[7] = accS[7]! + fr(t7 + t15); accQ[7] = accQ[7]! + fr(q7 + q15);
  }
  let s = combine(accS), q = combine(accQ);
  for (; i < end; i++) {
    const t = fr(x[i]! - K);
    s += t;
    q += t * t;
  }
  sums.s = s;
  sums.q = q;
}

/** Twin of assembly/lanes.ts rowMoments32: false for a row the f64 path must take. */
function twoPass(x: Float32Array, o: number, d: number, invD: number): boolean {
  let K = headMean(x, o);
  for (let round = 0; round < 2 && K - K === 0; round++) {
    centeredSums(x, o, d, K);
    const mq = sums.q * invD;
    if (!(mq >= TINY && mq < Infinity)) return false;
    const m = sums.s * invD;
    if (m * m <= mq * 0.125) {
      let v = mq - m * m;
      if (v < 0) v = 0;
      moments.mean = K + m;
      moments.variance = v;
      return true;
    }
    K = fr(K + m);
  }
  return false;
}

/** The f64 path of rowMoments: the one-pass shifted f64 lane sums (assembly/lanes.ts rowMoments64). */
export function rowMoments64(x: Float32Array, o: number, d: number, invD: number): void {
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
