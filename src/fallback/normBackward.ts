// JS twin of assembly/normBackward.ts: same statistics, same row sums A = sum(g) and
// B = sum(g * u) (f32 block order, or the f64 lane order), same f32 roundings in the element
// passes, and the same f32 column partials per block of BLOCK rows. The partials of each block
// are promoted and folded into `total` right after the block (fallback/reduce.ts); a left fold
// in block order gives the same bits as the kernel's per-block buffer folded later.
import { BLOCK, moments, rowMoments, rowSumSq } from "./lanes.js";
import { foldBlocksJs } from "./reduce.js";

const fr = Math.fround;

/**
 * dx (may be null, or dy itself), and when `total` is given the f64 sums (dW | dB) over all rows,
 * folded per block of BLOCK rows from row 0 (init: total starts from +0).
 */
export function normBackwardJs(
  dy: Float32Array, x: Float32Array, w: Float32Array | null, mean: Float32Array | null, rstd: Float32Array | null,
  dx: Float32Array | null, total: Float64Array | null, part: Float64Array | null, stats: Float64Array | null,
  rows: number, cols: number, eps: number, rms: boolean,
): void {
  const invD = 1 / cols;
  const part32 = new Float32Array(part ? 2 * cols : 0);
  if (total) total.fill(0, 0, 2 * cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let mhi = 0, mlo = 0, rr: number;
    if (rstd) {
      rr = rstd[r]!;
      if (!rms) mhi = mean![r]!;
    } else {
      if (rms) rowSumSq(x, o, cols, invD);
      else rowMoments(x, o, cols, invD);
      mhi = fr(moments.mean);
      mlo = fr(moments.mean - mhi);
      rr = fr(1 / Math.sqrt(moments.variance + eps));
    }
    if (part && r % BLOCK === 0) part32.fill(0);
    // Pass A: A = sum(g), B = sum(f32(g * u)) in the f32 block order (the f64 lane order for rows
    // whose f32 sums are not finite); column partials dW += f32(dy * u), dB += dy in f32.
    passA(dy, x, w, o, cols, mhi, mlo, rr, part ? part32 : null);
    if (!(rowSum.a - rowSum.a === 0 && rowSum.b - rowSum.b === 0)) sums64(dy, x, w, o, cols, mhi, mlo, rr);
    const ma = rms ? 0 : rowSum.a * invD;
    const mb = rowSum.b * invD;
    if (stats) { stats[2 * r] = ma; stats[2 * r + 1] = mb; }
    if (part && total && (r % BLOCK === BLOCK - 1 || r === rows - 1)) {
      for (let k = 0; k < 2 * cols; k++) part[k] = part32[k]!;
      foldBlocksJs(part, 0, 1, cols, total, false, null, null);
    }
    if (!dx) continue;
    // Pass B: dx = (((g - ahi) - alo) - u * mbf) * r, each step rounded.
    const ahi = fr(ma), alo = fr(ma - ahi), mbf = fr(mb);
    const end = o + cols;
    if (w) {
      for (let i = o, k = 0; i < end; i++, k++) {
        const u = fr(fr(fr(x[i]! - mhi) - mlo) * rr);
        const g = fr(dy[i]! * w[k]!);
        dx[i] = fr(fr(fr(g - ahi) - alo) - fr(u * mbf)) * rr;
      }
    } else {
      for (let i = o; i < end; i++) {
        const u = fr(fr(fr(x[i]! - mhi) - mlo) * rr);
        dx[i] = fr(fr(fr(dy[i]! - ahi) - alo) - fr(u * mbf)) * rr;
      }
    }
  }
}

/** Results of the last passA / sums64. */
const rowSum = { a: 0, b: 0 };

/** passA's f32 lanes: 16 for A, then 16 for B (a Float32Array store rounds to f32). */
const lanes = new Float32Array(32), laneSums = new Float64Array(16);

/**
 * Pass A of assembly/normBackward.ts: u and g per element in f32; A, B in the f32 block order
 * (16 f32 lanes from +0 per block of up to 128 elements, lanes k and k + 8 added in f32 and
 * promoted into the f64 lane order; elements from D16 add f64 terms in order); with `p32`
 * (dW | dB, f32) the column partials.
 */
function passA(
  dy: Float32Array, x: Float32Array, w: Float32Array | null, o: number, cols: number,
  mhi: number, mlo: number, rr: number, p32: Float32Array | null,
): void {
  const L = lanes, S = laneSums.fill(0);
  const d16 = cols & ~15;
  let j = 0;
  while (j < d16) {
    L.fill(0);
    const end = Math.min(j + 128, d16);
    for (; j < end; j++) {
      const i = o + j, k = j & 15, y = dy[i]!;
      const u = fr(fr(fr(x[i]! - mhi) - mlo) * rr), g = w ? fr(y * w[j]!) : y;
      L[k] = L[k]! + g;
      L[16 + k] = L[16 + k]! + fr(g * u);
      if (p32) {
        p32[j] = p32[j]! + fr(y * u);
        p32[cols + j] = p32[cols + j]! + y;
      }
    }
    for (let k = 0; k < 8; k++) {
      S[k] = S[k]! + fr(L[k]! + L[k + 8]!);
      S[8 + k] = S[8 + k]! + fr(L[16 + k]! + L[24 + k]!);
    }
  }
  let A = ((S[0]! + S[4]!) + (S[2]! + S[6]!)) + ((S[1]! + S[5]!) + (S[3]! + S[7]!));
  let B = ((S[8]! + S[12]!) + (S[10]! + S[14]!)) + ((S[9]! + S[13]!) + (S[11]! + S[15]!));
  for (; j < cols; j++) {
    const yj = dy[o + j]!;
    const u = fr(fr(fr(x[o + j]! - mhi) - mlo) * rr);
    const g = w ? fr(yj * w[j]!) : yj;
    A += g;
    B += g * u;
    if (p32) {
      p32[j] = p32[j]! + fr(yj * u);
      p32[cols + j] = p32[cols + j]! + yj;
    }
  }
  rowSum.a = A;
  rowSum.b = B;
}

/** The f64 path of pass A's row sums: f64 terms in the lane order. */
function sums64(
  dy: Float32Array, x: Float32Array, w: Float32Array | null, o: number, cols: number, mhi: number, mlo: number, rr: number,
): void {
  const a = new Float64Array(8), b = new Float64Array(8);
  const d8 = cols & ~7;
  let j = 0;
  for (; j < d8; j++) {
    const i = o + j; // lane j % 8
    const u = fr(fr(fr(x[i]! - mhi) - mlo) * rr);
    const g = w ? fr(dy[i]! * w[j]!) : dy[i]!;
    a[j & 7] = a[j & 7]! + g;
    b[j & 7] = b[j & 7]! + g * u;
  }
  let A = ((a[0]! + a[4]!) + (a[2]! + a[6]!)) + ((a[1]! + a[5]!) + (a[3]! + a[7]!));
  let B = ((b[0]! + b[4]!) + (b[2]! + b[6]!)) + ((b[1]! + b[5]!) + (b[3]! + b[7]!));
  for (; j < cols; j++) {
    const u = fr(fr(fr(x[o + j]! - mhi) - mlo) * rr);
    const g = w ? fr(dy[o + j]! * w[j]!) : dy[o + j]!;
    A += g;
    B += g * u;
  }
  rowSum.a = A;
  rowSum.b = B;
}
