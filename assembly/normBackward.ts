// Backward pass of LayerNorm (rms = false) and RMSNorm (rms = true) over `rows` float32 rows of
// `cols` elements: dx, and per-block partial sums for dweight and dbias.
//
// Algorithm (per row), reproduced bit for bit by src/fallback/normBackward.ts:
//   1. Statistics: saved ones when rstd != 0 (mhi = mean[r], or 0 for RMSNorm; mlo = 0;
//      r = rstd[r]), else recomputed exactly as the forward does (rowMoments / rowSumSq, eps,
//      mhi/mlo split), so u below is then bitwise the forward's normalised value.
//   2. Pass A, element j in f32, each step rounded: u = ((x - mhi) - mlo) * r (RMSNorm: mhi = mlo
//      = 0, and (x - 0) - 0 = x exactly), g = dy * w (g = dy without weight). A = sum(g) and
//      B = sum(f32(g * u)) in "the f32 block order" of lanes.ts rowSumSq (16 f32 lanes, here
//      from +0 in each block of up to 128 elements; elements from D16 add f64 terms in order).
//      Rows where A or B is not finite (an Inf or NaN, or f32 sums that overflow) recompute
//      both with f64 terms in the lane order (sums64). Column partials (when parts != 0):
//      dW[j] += f32(dy * u) and dB[j] += dy in f32, rows in increasing order within a block of
//      BLOCK rows starting from +0, then promoted to f64 (promoteBlock). f32 sums of <= 8 terms
//      per lane and of <= 32 rows keep ~half the SIMD operations of f64 lanes (1.3-1.4x faster
//      backward); the blocks still add in f64, so the error does not grow with the row count.
//   3. ma = A / D (0 for RMSNorm), mb = B / D in f64; ma split into f32 ahi + alo as the forward
//      splits the mean, mbf = f32(mb). Pass B, element j in f32, each step rounded:
//        dx = (((g - ahi) - alo) - u * mbf) * r
//      i.e. dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (RMSNorm: without mean(g)).
// Block b of this call (rows b*BLOCK ..) writes parts + b * 2 * cols f64: dW partial, then dB
// partial (while the block runs, its second half holds the f32 partials). foldBlocks (reduce.ts)
// adds the blocks in order; the host keeps calls aligned to BLOCK rows, so the bits depend on
// the shape only (not on chunking or thread count). A block whose f32 partial passes 3.4e38
// gives an infinite dweight/dbias even if later blocks would cancel it (torch's float
// accumulators do the same); terms dy * u and dy below 1e37 in magnitude cannot reach it.
// `stats` (test hook): f64 (ma, mb) per row. dx may be dy (in place). Absent pointers are 0.
import { BLOCK, combine8, lo2, hi2, momentMean, momentVar, rowMoments, rowSumSq } from "./lanes";

let sumA: f64 = 0;
let sumB: f64 = 0;

export function normBackward(
  dy: usize, x: usize, w: usize, mean: usize, rstd: usize,
  dx: usize, parts: usize, stats: usize,
  rows: i32, cols: i32, eps: f64, rms: bool,
): void {
  assert(rows >= 0 && cols > 0 && !((dy | x | w | mean | rstd | dx | parts | stats) & 3), "normBackward: bad sizes or unaligned pointer");
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const xr = x + off, dyr = dy + off;
    let mhi: f32 = 0, mlo: f32 = 0, rr: f32;
    if (rstd) {
      rr = load<f32>(rstd + (<usize>r << 2));
      if (!rms) mhi = load<f32>(mean + (<usize>r << 2));
    } else {
      if (rms) rowSumSq(xr, cols, invD);
      else rowMoments(xr, cols, invD);
      const m = momentMean;
      mhi = <f32>m;
      mlo = <f32>(m - <f64>mhi);
      rr = <f32>(1.0 / Math.sqrt(momentVar + eps));
    }
    let pw: usize = 0;
    if (parts) {
      pw = parts + <usize>(r / BLOCK) * (<usize>cols << 4);
      if (r % BLOCK == 0) memory.fill(pw + (<usize>cols << 3), 0, <usize>cols << 3);
    }
    passA(dyr, xr, w, pw, cols, mhi, mlo, rr);
    if (!(sumA - sumA == 0 && sumB - sumB == 0)) sums64(dyr, xr, w, cols, mhi, mlo, rr);
    if (pw && (r % BLOCK == BLOCK - 1 || r == rows - 1)) promoteBlock(pw, cols);
    const ma = rms ? 0 : sumA * invD;
    const mb = sumB * invD;
    if (stats) {
      store<f64>(stats + (<usize>r << 4), ma);
      store<f64>(stats + (<usize>r << 4), mb, 8);
    }
    if (!dx) continue;
    const ahi = <f32>ma;
    const alo = <f32>(ma - <f64>ahi);
    const mbf = <f32>mb;
    passB(dyr, xr, w, dx + off, cols, mhi, mlo, rr, ahi, alo, mbf);
  }
}

// @ts-ignore: decorator
@inline function colAcc(p: usize, dyv: v128, u: v128, db: usize): void {
  // dW += f32(dy * u), dB += dy for four columns, in f32 (the block's f32 partials)
  v128.store(p, f32x4.add(v128.load(p), f32x4.mul(dyv, u)));
  v128.store(db, f32x4.add(v128.load(db), dyv));
}

// @ts-ignore: decorator
@inline function passA(dyr: usize, xr: usize, w: usize, pw: usize, d: i32, mhi: f32, mlo: f32, r: f32): void {
  // One copy with per-vector branches on weight/partials (predictable; a branch-free copy for the
  // weight + partials case cost 1.2 kB of wasm for 0-3%, measured).
  const hasW = w != 0, hasP = pw != 0;
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r);
  const p32 = pw + (<usize>d << 3), pb = p32 + (<usize>d << 2);
  let A0 = f64x2.splat(0), A1 = A0, A2 = A0, A3 = A0;
  let B0 = A0, B1 = A0, B2 = A0, B3 = A0;
  const d16 = d & ~15;
  let i = 0;
  while (i < d16) {
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0, a3 = a0;
    let b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    const end = min(i + 128, d16);
    for (; i < end; i += 16) {
      // One vector's chain at a time (same operations and lane order). V8 still schedules the
      // sum updates at the loop's end, so all 16 g and g * u stay live (README, the backward).
      const o = <usize>i << 2;
      const y0 = v128.load(dyr + o);
      const u0 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
      const g0 = hasW ? f32x4.mul(y0, v128.load(w + o)) : y0;
      a0 = f32x4.add(a0, g0); b0 = f32x4.add(b0, f32x4.mul(g0, u0));
      if (hasP) colAcc(p32 + o, y0, u0, pb + o);
      const y1 = v128.load(dyr + o, 16);
      const u1 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o, 16), hv), lv), rv);
      const g1 = hasW ? f32x4.mul(y1, v128.load(w + o, 16)) : y1;
      a1 = f32x4.add(a1, g1); b1 = f32x4.add(b1, f32x4.mul(g1, u1));
      if (hasP) colAcc(p32 + o + 16, y1, u1, pb + o + 16);
      const y2 = v128.load(dyr + o, 32);
      const u2 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o, 32), hv), lv), rv);
      const g2 = hasW ? f32x4.mul(y2, v128.load(w + o, 32)) : y2;
      a2 = f32x4.add(a2, g2); b2 = f32x4.add(b2, f32x4.mul(g2, u2));
      if (hasP) colAcc(p32 + o + 32, y2, u2, pb + o + 32);
      const y3 = v128.load(dyr + o, 48);
      const u3 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o, 48), hv), lv), rv);
      const g3 = hasW ? f32x4.mul(y3, v128.load(w + o, 48)) : y3;
      a3 = f32x4.add(a3, g3); b3 = f32x4.add(b3, f32x4.mul(g3, u3));
      if (hasP) colAcc(p32 + o + 48, y3, u3, pb + o + 48);
    }
    const ac = f32x4.add(a0, a2), bd = f32x4.add(a1, a3), gc = f32x4.add(b0, b2), hd = f32x4.add(b1, b3);
    A0 = f64x2.add(A0, lo2(ac)); A1 = f64x2.add(A1, hi2(ac)); A2 = f64x2.add(A2, lo2(bd)); A3 = f64x2.add(A3, hi2(bd));
    B0 = f64x2.add(B0, lo2(gc)); B1 = f64x2.add(B1, hi2(gc)); B2 = f64x2.add(B2, lo2(hd)); B3 = f64x2.add(B3, hi2(hd));
  }
  let A = combine8(A0, A1, A2, A3);
  let B = combine8(B0, B1, B2, B3);
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const dyj = load<f32>(dyr + o);
    const u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    let g = dyj;
    if (hasW) g *= load<f32>(w + o);
    A += <f64>g;
    B += <f64>g * <f64>u;
    if (hasP) {
      store<f32>(p32 + o, load<f32>(p32 + o) + dyj * u);
      store<f32>(pb + o, load<f32>(pb + o) + dyj);
    }
  }
  sumA = A;
  sumB = B;
}

// The block's f32 partials (dW at pw + 8D, dB at pw + 12D) promoted into its f64 slot (dW at
// pw, dB at pw + 8D), in place: dW first, then dB in increasing j, each f32 read before the f64
// stores reach it.
function promoteBlock(pw: usize, d: i32): void {
  const p32 = pw + (<usize>d << 3), pb = p32 + (<usize>d << 2);
  const d4 = d & ~3;
  let j = 0;
  for (; j < d4; j += 4) {
    const v = v128.load(p32 + (<usize>j << 2));
    v128.store(pw + (<usize>j << 3), lo2(v));
    v128.store(pw + (<usize>j << 3), hi2(v), 16);
  }
  for (; j < d; j++) store<f64>(pw + (<usize>j << 3), <f64>load<f32>(p32 + (<usize>j << 2)));
  for (j = 0; j < d4; j += 4) {
    const v = v128.load(pb + (<usize>j << 2));
    v128.store(p32 + (<usize>j << 3), lo2(v));
    v128.store(p32 + (<usize>j << 3), hi2(v), 16);
  }
  for (; j < d; j++) store<f64>(p32 + (<usize>j << 3), <f64>load<f32>(pb + (<usize>j << 2)));
}

// The f64 path of pass A's row sums (rows whose f32 sums are not finite: an Inf or NaN, or sums
// that overflow f32): A = sum(g), B = sum(g * u) with f64 terms, in the lane order.
function sums64(dyr: usize, xr: usize, w: usize, d: i32, mhi: f32, mlo: f32, r: f32): void {
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r);
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const o = <usize>i << 2;
    const u0 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
    const u1 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o, 16), hv), lv), rv);
    let g0 = v128.load(dyr + o), g1 = v128.load(dyr + o, 16);
    if (w) {
      g0 = f32x4.mul(g0, v128.load(w + o));
      g1 = f32x4.mul(g1, v128.load(w + o, 16));
    }
    const e0 = lo2(g0), e1 = hi2(g0), e2 = lo2(g1), e3 = hi2(g1);
    a0 = f64x2.add(a0, e0); b0 = f64x2.add(b0, f64x2.mul(e0, lo2(u0)));
    a1 = f64x2.add(a1, e1); b1 = f64x2.add(b1, f64x2.mul(e1, hi2(u0)));
    a2 = f64x2.add(a2, e2); b2 = f64x2.add(b2, f64x2.mul(e2, lo2(u1)));
    a3 = f64x2.add(a3, e3); b3 = f64x2.add(b3, f64x2.mul(e3, hi2(u1)));
  }
  let A = combine8(a0, a1, a2, a3);
  let B = combine8(b0, b1, b2, b3);
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    let g = load<f32>(dyr + o);
    if (w) g *= load<f32>(w + o);
    A += <f64>g;
    B += <f64>g * <f64>u;
  }
  sumA = A;
  sumB = B;
}

// @ts-ignore: decorator
@inline function passB(dyr: usize, xr: usize, w: usize, dxr: usize, d: i32, mhi: f32, mlo: f32, r: f32, ahi: f32, alo: f32, mb: f32): void {
  const hasW = w != 0;
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r);
  const ah = f32x4.splat(ahi), al = f32x4.splat(alo), bv = f32x4.splat(mb);
  let i = 0;
  // One loop per case (a branch on w in the loop kept the engine from holding the splats in registers).
  if (hasW) {
    for (; i + 4 <= d; i += 4) {
      const o = <usize>i << 2;
      const u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
      const t = f32x4.sub(f32x4.sub(f32x4.mul(v128.load(dyr + o), v128.load(w + o)), ah), al);
      v128.store(dxr + o, f32x4.mul(f32x4.sub(t, f32x4.mul(u, bv)), rv));
    }
  } else {
    for (; i + 4 <= d; i += 4) {
      const o = <usize>i << 2;
      const u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
      const t = f32x4.sub(f32x4.sub(v128.load(dyr + o), ah), al);
      v128.store(dxr + o, f32x4.mul(f32x4.sub(t, f32x4.mul(u, bv)), rv));
    }
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    let g = load<f32>(dyr + o);
    if (hasW) g *= load<f32>(w + o);
    store<f32>(dxr + o, (((g - ahi) - alo) - u * mb) * r);
  }
}
