// JS twin of assembly/normBackward.ts: same statistics, same f64 lane-order row sums A = sum(g)
// and B = sum(g * u), same f32 roundings in the element passes, and the same column partials per
// block of BLOCK rows. The partials of each block are folded into `total` right after the block
// (fallback/reduce.ts); a left fold in block order gives the same bits as the kernel's
// per-block buffer folded later.
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
  const d8 = cols & ~7;
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
    if (part && r % BLOCK === 0) part.fill(0);
    // Pass A: lane-order sums A = sum(g), B = sum(g * u); column partials dW += dy * u, dB += dy.
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0;
    let j = 0;
    for (; j < d8; j += 8) {
      const i = o + j;
      const u0 = fr(fr(fr(x[i]! - mhi) - mlo) * rr), u1 = fr(fr(fr(x[i + 1]! - mhi) - mlo) * rr);
      const u2 = fr(fr(fr(x[i + 2]! - mhi) - mlo) * rr), u3 = fr(fr(fr(x[i + 3]! - mhi) - mlo) * rr);
      const u4 = fr(fr(fr(x[i + 4]! - mhi) - mlo) * rr), u5 = fr(fr(fr(x[i + 5]! - mhi) - mlo) * rr);
      const u6 = fr(fr(fr(x[i + 6]! - mhi) - mlo) * rr), u7 = fr(fr(fr(x[i + 7]! - mhi) - mlo) * rr);
      const y0 = dy[i]!, y1 = dy[i + 1]!, y2 = dy[i + 2]!, y3 = dy[i + 3]!, y4 = dy[i + 4]!, y5 = dy[i + 5]!, y6 = dy[i + 6]!, y7 = dy[i + 7]!;
      let g0 = y0, g1 = y1, g2 = y2, g3 = y3, g4 = y4, g5 = y5, g6 = y6, g7 = y7;
      if (w) {
        g0 = fr(y0 * w[j]!); g1 = fr(y1 * w[j + 1]!); g2 = fr(y2 * w[j + 2]!); g3 = fr(y3 * w[j + 3]!);
        g4 = fr(y4 * w[j + 4]!); g5 = fr(y5 * w[j + 5]!); g6 = fr(y6 * w[j + 6]!); g7 = fr(y7 * w[j + 7]!);
      }
      a0 += g0; a1 += g1; a2 += g2; a3 += g3; a4 += g4; a5 += g5; a6 += g6; a7 += g7;
      b0 += g0 * u0; b1 += g1 * u1; b2 += g2 * u2; b3 += g3 * u3; b4 += g4 * u4; b5 += g5 * u5; b6 += g6 * u6; b7 += g7 * u7;
      if (part) {
        const pb = cols + j;
        part[j] = part[j]! + y0 * u0; part[j + 1] = part[j + 1]! + y1 * u1; part[j + 2] = part[j + 2]! + y2 * u2; part[j + 3] = part[j + 3]! + y3 * u3;
        part[j + 4] = part[j + 4]! + y4 * u4; part[j + 5] = part[j + 5]! + y5 * u5; part[j + 6] = part[j + 6]! + y6 * u6; part[j + 7] = part[j + 7]! + y7 * u7;
        part[pb] = part[pb]! + y0; part[pb + 1] = part[pb + 1]! + y1; part[pb + 2] = part[pb + 2]! + y2; part[pb + 3] = part[pb + 3]! + y3;
        part[pb + 4] = part[pb + 4]! + y4; part[pb + 5] = part[pb + 5]! + y5; part[pb + 6] = part[pb + 6]! + y6; part[pb + 7] = part[pb + 7]! + y7;
      }
    }
    let A = ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7));
    let B = ((b0 + b4) + (b2 + b6)) + ((b1 + b5) + (b3 + b7));
    for (; j < cols; j++) {
      const yj = dy[o + j]!;
      const u = fr(fr(fr(x[o + j]! - mhi) - mlo) * rr);
      const g = w ? fr(yj * w[j]!) : yj;
      A += g;
      B += g * u;
      if (part) {
        part[j] = part[j]! + yj * u;
        part[cols + j] = part[cols + j]! + yj;
      }
    }
    const ma = rms ? 0 : A * invD;
    const mb = B * invD;
    if (stats) { stats[2 * r] = ma; stats[2 * r + 1] = mb; }
    if (part && total && (r % BLOCK === BLOCK - 1 || r === rows - 1)) foldBlocksJs(part, 0, 1, cols, total, false, null, null);
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
