// JS twin of assembly/groupNorm.ts: the same per-channel statistics (fallback/lanes.ts rowMoments of
// each channel's values; for channels-last the channel is gathered first), the same channel-order
// group combination and the same f32 roundings (Math.fround after every step), so the output is
// bitwise the kernel's in both layouts. Arguments mirror the kernel's: whole tensors, a row range
// row0 .. row0 + rows - 1 of the N * G (sample, group) rows, per-row outputs indexed globally.
import { moments, rowMoments, rowMoments64, sums, TWO_PASS_MIN } from "./lanes.js";

const fr = Math.fround;

/** Bytes of `work` a wasm call needs (the kernel's groupNormWorkBytes; a test checks they agree). */
export function groupNormWorkBytes(C: number): number {
  return 128 * C + 256 + 76 * C;
}

/** sums.s = sum(dy * u), sums.q = sum(dy) in the lane order, u = f32(((x - mhi) - mlo) * r). */
function laneBack(x: Float32Array, dy: Float32Array, o: number, d: number, stride: number, mhi: number, mlo: number, r: number): void {
  let p0 = 0, p1 = 0, p2 = 0, p3 = 0, p4 = 0, p5 = 0, p6 = 0, p7 = 0;
  let e0 = 0, e1 = 0, e2 = 0, e3 = 0, e4 = 0, e5 = 0, e6 = 0, e7 = 0;
  const d8 = d & ~7;
  const u = (i: number) => fr(fr(fr(x[i]! - mhi) - mlo) * r);
  let i = o;
  for (let k = 0; k < d8; k += 8) {
    const i1 = i + stride, i2 = i1 + stride, i3 = i2 + stride, i4 = i3 + stride, i5 = i4 + stride, i6 = i5 + stride, i7 = i6 + stride;
    const y0 = dy[i]!, y1 = dy[i1]!, y2 = dy[i2]!, y3 = dy[i3]!, y4 = dy[i4]!, y5 = dy[i5]!, y6 = dy[i6]!, y7 = dy[i7]!;
    p0 += y0 * u(i); p1 += y1 * u(i1); p2 += y2 * u(i2); p3 += y3 * u(i3);
    p4 += y4 * u(i4); p5 += y5 * u(i5); p6 += y6 * u(i6); p7 += y7 * u(i7);
    e0 += y0; e1 += y1; e2 += y2; e3 += y3; e4 += y4; e5 += y5; e6 += y6; e7 += y7;
    i = i7 + stride;
  }
  let P = ((p0 + p4) + (p2 + p6)) + ((p1 + p5) + (p3 + p7));
  let D = ((e0 + e4) + (e2 + e6)) + ((e1 + e5) + (e3 + e7));
  for (let k = d8; k < d; k++, i += stride) {
    P += dy[i]! * u(i);
    D += dy[i]!;
  }
  sums.s = P;
  sums.q = D;
}

/** Element offset of (sample n, channel c, position 0) and the stride between positions. */
function at(n: number, c: number, C: number, S: number, channelsLast: boolean): [number, number] {
  return channelsLast ? [n * S * C + c, C] : [(n * C + c) * S, 1];
}

const stat = { mhi: 0, mlo: 0, r: 0, mean: 0, variance: 0 };

/**
 * Row statistics in the kernel's order: each channel's (mean_c, var_c) by LayerNorm's rowMoments
 * (rowMoments64 where the kernel's twoPass(C, S) is false) over its S values, gathered first when
 * channels-last, so both layouts give the same bits; then mean = sum(mean_c) / Cg and
 * var = (sum(var_c) + sum((mean_c - mean)^2)) / Cg, channels in order.
 */
function rowStats(x: Float32Array, n: number, g: number, Cg: number, C: number, S: number, cl: boolean, eps: number, zeroRstd = false): void {
  const invS = 1 / S;
  if (chMean.length < Cg) { chMean = new Float64Array(Cg); chVar = new Float64Array(Cg); }
  if (cl && gathered.length < S) gathered = new Float32Array(S);
  // The kernel's twoPass(C, S): the f32 two-pass only for S >= 128 and C >= 16.
  const moment = S >= TWO_PASS_MIN && C >= 16 ? rowMoments : rowMoments64;
  let sm = 0;
  for (let j = 0; j < Cg; j++) {
    const [o, st] = at(n, g * Cg + j, C, S, cl);
    if (st === 1) moment(x, o, S, invS);
    else {
      for (let i = 0; i < S; i++) gathered[i] = x[o + i * st]!;
      moment(gathered, 0, S, invS);
    }
    chMean[j] = moments.mean;
    chVar[j] = moments.variance;
    sm += moments.mean;
  }
  const mean = sm / Cg;
  let a = 0, b = 0;
  for (let j = 0; j < Cg; j++) {
    a += chVar[j]!;
    const d = chMean[j]! - mean;
    b += d * d;
  }
  stat.mean = mean;
  stat.variance = (a + b) / Cg;
  stat.mhi = fr(stat.mean);
  stat.mlo = fr(stat.mean - stat.mhi);
  stat.r = zeroRstd && stat.variance === 0 && eps === 0 ? 0 : fr(1 / Math.sqrt(stat.variance + eps));
}
let chMean = new Float64Array(0), chVar = new Float64Array(0), gathered = new Float32Array(0);

/** Twin of the kernel groupNorm (y may be x). */
export function groupNormJs(
  x: Float32Array, w: Float32Array | null, b: Float32Array | null, y: Float32Array,
  mean: Float32Array | null, rstd: Float32Array | null, stats: Float64Array | null,
  row0: number, rows: number, C: number, S: number, G: number, eps: number, channelsLast: boolean, zeroRstd = false,
): void {
  const Cg = C / G;
  for (let r = row0; r < row0 + rows; r++) {
    const n = Math.floor(r / G), g = r % G;
    rowStats(x, n, g, Cg, C, S, channelsLast, eps, zeroRstd);
    const { mhi, mlo, r: rr } = stat;
    if (mean) mean[r] = mhi;
    if (rstd) rstd[r] = rr;
    if (stats) { stats[2 * r] = stat.mean; stats[2 * r + 1] = stat.variance; }
    for (let c = g * Cg; c < (g + 1) * Cg; c++) {
      const sc = w ? fr(rr * w[c]!) : rr, sh = fr((b ? b[c]! : -0) - fr(mlo * sc));
      const [o, st] = at(n, c, C, S, channelsLast);
      const end = o + S * st;
      for (let i = o; i < end; i += st) y[i] = fr(fr(x[i]! - mhi) * sc) + sh;
    }
  }
}

/** Twin of the kernel groupNormBackward: dx (may be dy, or null) and parts (N * 2C f64: P | D per sample). */
export function groupNormBackwardJs(
  dy: Float32Array, x: Float32Array, w: Float32Array | null, mean: Float32Array | null, rstd: Float32Array | null,
  dx: Float32Array | null, parts: Float64Array,
  row0: number, rows: number, C: number, S: number, G: number, eps: number, channelsLast: boolean,
): void {
  const Cg = C / G, invM = 1 / (Cg * S);
  for (let r = row0; r < row0 + rows; r++) {
    const n = Math.floor(r / G), g = r % G;
    let mhi: number, mlo: number, rr: number;
    if (rstd) {
      mhi = mean![r]!; mlo = 0; rr = rstd[r]!;
    } else {
      rowStats(x, n, g, Cg, C, S, channelsLast, eps);
      ({ mhi, mlo, r: rr } = stat);
    }
    let A = 0, B = 0;
    for (let c = g * Cg; c < (g + 1) * Cg; c++) {
      const [o, st] = at(n, c, C, S, channelsLast);
      laneBack(x, dy, o, S, st, mhi, mlo, rr);
      parts[n * 2 * C + c] = sums.s;
      parts[n * 2 * C + C + c] = sums.q;
      const wc = w ? w[c]! : 1;
      A += wc * sums.q;
      B += wc * sums.s;
    }
    if (!dx) continue;
    const ma = A * invM, mb = B * invM;
    const ahi = fr(ma), alo = fr(ma - ahi), mbf = fr(mb);
    for (let c = g * Cg; c < (g + 1) * Cg; c++) {
      const wc = w ? w[c]! : 1;
      const [o, st] = at(n, c, C, S, channelsLast);
      const end = o + S * st;
      for (let i = o; i < end; i += st) {
        const u = fr(fr(fr(x[i]! - mhi) - mlo) * rr);
        const gg = fr(dy[i]! * wc);
        dx[i] = fr(fr(fr(gg - ahi) - alo) - fr(u * mbf)) * rr;
      }
    }
  }
}

/**
 * InstanceNorm's running update from the forward's f64 stats (mean, var per (sample, channel),
 * G = C), as torch does it (batch_norm on [1, N*C, S] then the mean over samples): per channel,
 * run = f32(momentum * (sum_n stat / N) + (1 - momentum) * run), with the unbiased variance
 * var * S / (S - 1) (S = 1: division by zero gives Inf/NaN as torch does), n summed in order. Both
 * backends call this one function, so it has no twin.
 */
export function instanceNormRunningUpdate(
  stats: Float64Array, N: number, C: number, S: number, momentum: number,
  runMean: Float32Array | null, runVar: Float32Array | null,
): void {
  const keep = 1 - momentum, unbias = S / (S - 1);
  for (let c = 0; c < C; c++) {
    let sm = 0, sv = 0;
    for (let n = 0; n < N; n++) {
      sm += stats[2 * (n * C + c)]!;
      sv += stats[2 * (n * C + c) + 1]!;
    }
    if (runMean) runMean[c] = momentum * (sm / N) + keep * runMean[c]!;
    if (runVar) runVar[c] = momentum * (sv / N) * unbias + keep * runVar[c]!;
  }
}
