// JS twin of assembly/skipNorm.ts: s = (x + skip) [+ rb] rounded per add, stored to sum (or y);
// statistics of s (LayerNorm: rowMoments of lanes.ts on the stored sum, or for D < TWO_PASS_MIN
// its f64 lane-order sums, shift K = shiftOf(s[0]), in the add pass; RMSNorm: rowSumSq on the
// stored sum); then the element pass of fallback/normalize.ts from s to y.
import { moments, rowMoments, rowSumSq, shiftOf, TWO_PASS_MIN } from "./lanes.js";
import { normalizeRowJs } from "./normalize.js";

const fr = Math.fround;

export function skipNormJs(
  x: Float32Array, skip: Float32Array, skipRows: number, skipPhase: number, rb: Float32Array | null, w: Float32Array | null, b: Float32Array | null,
  y: Float32Array, sum: Float32Array | null, mean: Float32Array | null, rstd: Float32Array | null, stats: Float64Array | null,
  rows: number, cols: number, eps: number, rms: boolean,
): void {
  const invD = 1 / cols;
  const dst = sum ?? y;
  const d8 = cols & ~7;
  // LayerNorm rows of D < TWO_PASS_MIN: rowMoments64's sums in the add pass, as the kernel's addRow.
  const fused = !rms && cols < TWO_PASS_MIN;
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const so = ((skipPhase + r) % skipRows) * cols;
    const K = rms ? 0 : shiftOf(rb ? fr(fr(x[o]! + skip[so]!) + rb[0]!) : fr(x[o]! + skip[so]!));
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0, q4 = 0, q5 = 0, q6 = 0, q7 = 0;
    let j = 0;
    for (; j < d8; j += 8) {
      const i = o + j, k = so + j;
      let e0 = fr(x[i]! + skip[k]!), e1 = fr(x[i + 1]! + skip[k + 1]!), e2 = fr(x[i + 2]! + skip[k + 2]!), e3 = fr(x[i + 3]! + skip[k + 3]!);
      let e4 = fr(x[i + 4]! + skip[k + 4]!), e5 = fr(x[i + 5]! + skip[k + 5]!), e6 = fr(x[i + 6]! + skip[k + 6]!), e7 = fr(x[i + 7]! + skip[k + 7]!);
      if (rb) {
        e0 = fr(e0 + rb[j]!); e1 = fr(e1 + rb[j + 1]!); e2 = fr(e2 + rb[j + 2]!); e3 = fr(e3 + rb[j + 3]!);
        e4 = fr(e4 + rb[j + 4]!); e5 = fr(e5 + rb[j + 5]!); e6 = fr(e6 + rb[j + 6]!); e7 = fr(e7 + rb[j + 7]!);
      }
      dst[i] = e0; dst[i + 1] = e1; dst[i + 2] = e2; dst[i + 3] = e3;
      dst[i + 4] = e4; dst[i + 5] = e5; dst[i + 6] = e6; dst[i + 7] = e7;
      if (!fused) continue; // rowSumSq / rowMoments read the stored sum back
      const t0 = e0 - K, t1 = e1 - K, t2 = e2 - K, t3 = e3 - K, t4 = e4 - K, t5 = e5 - K, t6 = e6 - K, t7 = e7 - K;
      s0 += t0; s1 += t1; s2 += t2; s3 += t3; s4 += t4; s5 += t5; s6 += t6; s7 += t7;
      q0 += t0 * t0; q1 += t1 * t1; q2 += t2 * t2; q3 += t3 * t3;
      q4 += t4 * t4; q5 += t5 * t5; q6 += t6 * t6; q7 += t7 * t7;
    }
    let s = ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
    let q = ((q0 + q4) + (q2 + q6)) + ((q1 + q5) + (q3 + q7));
    for (; j < cols; j++) {
      const e = rb ? fr(fr(x[o + j]! + skip[so + j]!) + rb[j]!) : fr(x[o + j]! + skip[so + j]!);
      dst[o + j] = e;
      const t = e - K;
      s += t;
      q += t * t;
    }
    let m = 0, v: number;
    if (rms) {
      rowSumSq(dst, o, cols, invD);
      v = moments.variance;
    } else if (!fused) {
      rowMoments(dst, o, cols, invD);
      m = moments.mean;
      v = moments.variance;
    } else {
      const sm = s * invD;
      v = q * invD - sm * sm;
      if (v < 0) v = 0;
      m = K + sm;
    }
    const rr = fr(1 / Math.sqrt(v + eps));
    const mhi = fr(m), mlo = fr(m - mhi);
    if (mean) mean[r] = mhi;
    if (rstd) rstd[r] = rr;
    if (stats) { stats[2 * r] = m; stats[2 * r + 1] = v; }
    normalizeRowJs(dst, o, y, o, w, b, cols, mhi, mlo, rr, !rms);
  }
}
