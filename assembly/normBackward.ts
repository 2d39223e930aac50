// Backward pass of LayerNorm (rms = false) and RMSNorm (rms = true) over `rows` float32 rows of
// `cols` elements: dx, and per-block partial sums for dweight and dbias.
//
// Algorithm (per row), reproduced bit for bit by src/fallback/normBackward.ts:
//   1. Statistics: saved ones when rstd != 0 (mhi = mean[r], or 0 for RMSNorm; mlo = 0;
//      r = rstd[r]), else recomputed exactly as the forward does (rowMoments / rowSumSq, eps,
//      mhi/mlo split), so u below is then bitwise the forward's normalised value.
//   2. Pass A, element j in f32, each step rounded: u = ((x - mhi) - mlo) * r (RMSNorm: mhi = mlo
//      = 0, and (x - 0) - 0 = x exactly), g = dy * w (g = dy without weight). In f64 (products of
//      two f32 are exact in f64), in the lane order of lanes.ts: A = sum(g), B = sum(g * u).
//      Column partials (when parts != 0): dW[j] += dy * u and dB[j] += dy, in f64, rows in
//      increasing order within a block of BLOCK rows (lanes.ts) starting from +0.
//   3. ma = A / D (0 for RMSNorm), mb = B / D in f64; ma split into f32 ahi + alo as the forward
//      splits the mean, mbf = f32(mb). Pass B, element j in f32, each step rounded:
//        dx = (((g - ahi) - alo) - u * mbf) * r
//      i.e. dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) (RMSNorm: without mean(g)).
// Block b of this call (rows b*BLOCK ..) writes parts + b * 2 * cols f64: dW partial, then dB
// partial. foldBlocks (reduce.ts) adds the blocks in order; the host keeps calls aligned to
// BLOCK rows, so the bits depend on the shape only (not on chunking or thread count).
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
      if (r % BLOCK == 0) memory.fill(pw, 0, <usize>cols << 4);
    }
    passA(dyr, xr, w, pw, cols, mhi, mlo, rr);
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
  // dW += dy * u, dB += dy for four columns, in f64
  const d0 = lo2(dyv), d1 = hi2(dyv);
  v128.store(p, f64x2.add(v128.load(p), f64x2.mul(d0, lo2(u))));
  v128.store(p, f64x2.add(v128.load(p, 16), f64x2.mul(d1, hi2(u))), 16);
  v128.store(db, f64x2.add(v128.load(db), d0));
  v128.store(db, f64x2.add(v128.load(db, 16), d1), 16);
}

// @ts-ignore: decorator
@inline function passA(dyr: usize, xr: usize, w: usize, pw: usize, d: i32, mhi: f32, mlo: f32, r: f32): void {
  // One copy with per-vector branches on weight/partials (predictable; variants cost ~3 KB of wasm).
  const hasW = w != 0, hasP = pw != 0;
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r);
  const pb = pw + (<usize>d << 3);
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0;
  let b0 = a0, b1 = a0, b2 = a0, b3 = a0;
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const o = <usize>i << 2;
    const dy0 = v128.load(dyr + o), dy1 = v128.load(dyr + o, 16);
    const u0 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
    const u1 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o, 16), hv), lv), rv);
    let g0 = dy0, g1 = dy1;
    if (hasW) {
      g0 = f32x4.mul(dy0, v128.load(w + o));
      g1 = f32x4.mul(dy1, v128.load(w + o, 16));
    }
    const e0 = lo2(g0), e1 = hi2(g0), e2 = lo2(g1), e3 = hi2(g1);
    a0 = f64x2.add(a0, e0); b0 = f64x2.add(b0, f64x2.mul(e0, lo2(u0)));
    a1 = f64x2.add(a1, e1); b1 = f64x2.add(b1, f64x2.mul(e1, hi2(u0)));
    a2 = f64x2.add(a2, e2); b2 = f64x2.add(b2, f64x2.mul(e2, lo2(u1)));
    a3 = f64x2.add(a3, e3); b3 = f64x2.add(b3, f64x2.mul(e3, hi2(u1)));
    if (hasP) {
      const q = <usize>i << 3;
      colAcc(pw + q, dy0, u0, pb + q);
      colAcc(pw + q + 32, dy1, u1, pb + q + 32);
    }
  }
  let A = combine8(a0, a1, a2, a3);
  let B = combine8(b0, b1, b2, b3);
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const dyj = load<f32>(dyr + o);
    const u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    let g = dyj;
    if (hasW) g *= load<f32>(w + o);
    A += <f64>g;
    B += <f64>g * <f64>u;
    if (hasP) {
      const q = <usize>i << 3;
      store<f64>(pw + q, load<f64>(pw + q) + <f64>dyj * <f64>u);
      store<f64>(pb + q, load<f64>(pb + q) + <f64>dyj);
    }
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
  for (; i + 4 <= d; i += 4) {
    const o = <usize>i << 2;
    const u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
    let g = v128.load(dyr + o);
    if (hasW) g = f32x4.mul(g, v128.load(w + o));
    const t = f32x4.sub(f32x4.sub(g, ah), al);
    v128.store(dxr + o, f32x4.mul(f32x4.sub(t, f32x4.mul(u, bv)), rv));
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    let g = load<f32>(dyr + o);
    if (hasW) g *= load<f32>(w + o);
    store<f32>(dxr + o, (((g - ahi) - alo) - u * mb) * r);
  }
}
