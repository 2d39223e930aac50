// GroupNorm forward and backward (InstanceNorm = GroupNorm with G = C) over float32 x holding N
// samples of C channels and S = product of the spatial dims, NCHW ([N, C, S]) or channels-last
// ([N, S, C]). A "row" r = n * G + g is one (sample, group): Cg = C / G channels of S elements,
// M = Cg * S elements. src/fallback/groupNorm.ts is the bit-exact twin.
//
// Forward statistics (the same order in both layouts, so channels-last gives the bits of NCHW):
//   1. per channel c of the row, (mean_c, var_c) = LayerNorm's rowMoments (lanes.ts) of its S
//      values s = 0..S-1: where twoPass(C, S) (S >= 128 and C >= 16) the f32 two-pass (K from
//      the first 128 values, shifted sums in the f32 block order, a second round or the f64 path
//      where its tests say so), else the f64 one-pass (K = shiftOf(first value), the eight-lane
//      f64 order). NCHW runs it on each contiguous plane; channels-last runs the same orders at
//      stride C, 16 channels per tile (statsStrided).
//   2. the group's: mean = sum(mean_c) / Cg, var = (sum(var_c) + sum((mean_c - mean)^2)) / Cg,
//      each sum from +0 with c in increasing order (f64); rstd = 1/sqrt(var + eps). With Cg = 1
//      (InstanceNorm) that is rowMoments of the channel itself.
// A NaN or Inf in a group makes a var_c NaN, hence the whole group NaN; its mean is the arithmetic
// one wherever the Inf sits. A constant group has var exactly 0 and gives y = 0 * w + b.
// Output, in f32, each step rounded: mhi = f32(mean), mlo = f32(mean - mhi), r = f32(rstd); per
// channel sc = r * w[c] (r when there is no weight), sh = b[c] - mlo * sc (b[c] = -0 when absent);
//   y = (x - mhi) * sc + sh
// (x - mhi is exact for x near an offset mean, and mlo's share, mlo * sc, is folded into the shift).
// mean[r] = mhi, rstd[r] = r, stats (f64 pairs) = (mean, var) per row, each optional (0 = absent).
//
// Backward (torch native_group_norm_backward): statistics saved (mhi = mean[r], mlo = 0,
// r = rstd[r]) or recomputed as above. Per element u = ((x - mhi) - mlo) * r in f32 (bitwise the
// forward's normalised value when recomputed). Per channel, in the eight-lane f64 order (element
// s -> lane s % 8, lanes combined ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail in order):
// P_c = sum(dy * u), D_c = sum(dy) in f64 (products of two f32 are exact), written to
// parts[n][c] and parts[n][C + c]. Row totals A = sum_c w_c * D_c, B = sum_c w_c * P_c (f64, c in
// order); ma = A * invM, mb = B * invM; ahi = f32(ma), alo = f32(ma - ahi), mbf = f32(mb); then per
// element in f32, each step rounded: g = dy * w_c, dx = (((g - ahi) - alo) - u * mbf) * r.
// dweight/dbias = foldBlocks(parts, N, C, total, ...): a left fold over samples in order.
//
// Splitting (threads, chunks): a call handles rows row0 .. row0 + rows - 1, any contiguous range of
// [0, N * G). x, y, dy, dx, parts are the whole tensors' bases (not offset); mean, rstd, stats are
// indexed by global row. A call writes only its rows' elements of y/dx, mean/rstd/stats and its
// rows' channels of parts; `work` must be private to the call and hold groupNormWorkBytes(C)
// bytes. y may be x and dx may be dy (in place). The forward's zeroRstd: see rowOut (InstanceNorm's).
import { ACCEPT, combine8, F64_PATH, headShift, hi2, lo2, momentMean, momentVar, RETRY, retryShift, roundVerdict, rowMoments, rowMoments64, setMoments, shiftOf, TWO_PASS_MIN } from "./lanes";

// Spatial positions per block of the channels-last lane tile (a multiple of 8; the results do not
// depend on it). A pair's block reads SB rows of stride C floats, and the next pairs re-read them
// from L1; rows whose stride is a multiple of a large power of two fall into few L1 sets (4 KB
// apart = same set), so SB is 8 x the rows per set cycle, within [16, 128]: C = 320 gets 128,
// C = 512 gets 16 (measured 0.87 -> 0.60 ns/element at [1, 512, 32, 32] against 128).
// @ts-ignore: decorator
@inline function blockRows(rs: usize): i32 {
  const cycle = <i32>(4096 >> min(<i32>ctz(rs), 12));
  return max(16, min(128, 8 * cycle));
}

/** Bytes of `work` a call needs: 16 f64 lanes per channel and 256 bytes of scratch, five f64 and nine f32 per channel. */
export function groupNormWorkBytes(C: i32): i32 {
  return accBytes(C) + 76 * C;
}
// @ts-ignore: decorator
@inline function accBytes(C: i32): i32 {
  return 128 * C + 256;
}

// Layout of work for C channels (indexed by global channel): acc | s1, s2, kf, mc, vc (f64) | p0..p8 (f32).
// p7 holds the f32 shifts K of the two-pass, p0..p6 the element passes' parameters.
// @ts-ignore: decorator
@inline function sumsAt(work: usize, C: i32): usize {
  return work + <usize>accBytes(C);
}
// @ts-ignore: decorator
@inline function paramAt(work: usize, C: i32, k: i32): usize {
  return sumsAt(work, C) + 40 * <usize>C + <usize>(k * C) * 4;
}
// @ts-ignore: decorator
@inline function f64At(work: usize, C: i32, k: i32): usize {
  return sumsAt(work, C) + 8 * <usize>(k * C);
}

let rowMean: f64 = 0;
let rowVar: f64 = 0;

// A group's statistics from its channels' (mean_c, var_c) in work (mc, vc; channels c0 .. c0 + Cg - 1,
// each over S positions): mean = sum(mean_c) / Cg, var = (sum(var_c) + sum((mean_c - mean)^2)) / Cg,
// sums in channel order. A NaN or Inf in a channel makes its var_c NaN (rowMoments), hence the group's.
function combineGroup(work: usize, C: i32, c0: i32, Cg: i32): void {
  const mc = f64At(work, C, 3), vc = f64At(work, C, 4);
  let sm: f64 = 0;
  for (let c = c0; c < c0 + Cg; c++) sm += load<f64>(mc + (<usize>c << 3));
  const mean = sm / <f64>Cg;
  let a: f64 = 0, b: f64 = 0;
  for (let c = c0; c < c0 + Cg; c++) {
    a += load<f64>(vc + (<usize>c << 3));
    const d = load<f64>(mc + (<usize>c << 3)) - mean;
    b += d * d;
  }
  rowMean = mean;
  rowVar = (a + b) / <f64>Cg;
}

// Whether channels of S values take the f32 two-pass (rowMoments32 and its fallbacks) or only the
// f64 one-pass (rowMoments64), in both layouts. Channels-last below 16 channels has no 16-channel
// tile: a transposing variant of the two-pass measured 1.5-1.8x slower there than the f64 lane
// tile at [512, 6, 768] and [64, 3, 4096], so C < 16 keeps the f64 one-pass (NCHW too, same bits).
// @ts-ignore: decorator
@inline function twoPass(C: i32, S: i32): bool {
  return S >= TWO_PASS_MIN && C >= 16;
}

// Statistics of NCHW row at xr (Cg planes of S floats, channels c0 ..): LayerNorm's rowMoments per plane.
function statsPlanes(xr: usize, Cg: i32, S: i32, invS: f64, work: usize, C: i32, c0: i32): void {
  const plane = <usize>S << 2;
  const two = twoPass(C, S);
  for (let j = 0; j < Cg; j++) {
    if (two) rowMoments(xr + <usize>j * plane, S, invS);
    else rowMoments64(xr + <usize>j * plane, S, invS);
    storeMoments(work, C, c0 + j);
  }
  combineGroup(work, C, c0, Cg);
}

// Channels-last: the f32 block order of rowMoments32 (lanes.ts) over positions [0, end) (end a
// multiple of 16) of channels [c0, c1) (C >= 16) of the sample at xs, t = f32(x - K), K per
// channel at kp (f32). Per channel, lane k takes positions s = k (mod 16) of each block of 128;
// lanes k and k + 8 are added in f32 at the end of the block and promoted into f64 lane k, which
// sums the blocks: left in work, s lane k of channel c at 8 (C k + c), q lanes 64 C bytes further.
// Tiles of 16 channels (one cache line per row: a block reads each line once whatever the row
// stride) inside each block of 128 positions (a few hundred kB that stay in L2); a last tile
// that would pass C starts at C - 16 and adds only its channels the tile before did not.
function passBlocks(xs: usize, rs: usize, C: i32, c0: i32, c1: i32, end: i32, kp: usize, work: usize): void {
  const z = f64x2.splat(0);
  const lo = min(c0, C - 16), hi = min(C, c0 + ((c1 - c0 + 15) & ~15));
  for (let k = 0; k < 16; k++) {
    const l = work + <usize>(k * C) * 8;
    for (let c = lo; c < hi; c++) store<f64>(l + (<usize>c << 3), 0);
  }
  const tmp = work + 128 * <usize>C, step = rs << 4, lanes = <usize>C << 3;
  for (let b = 0; b < end; b += 128) {
    const bend = min(b + 128, end);
    touch(xs + <usize>b * rs, xs + <usize>bend * rs);
    for (let c = c0; c < c1; c += 16) {
      const cs = min(c, C - 16), co = <usize>cs << 2;
      const kv0 = v128.load(kp + co), kv1 = v128.load(kp + co, 16), kv2 = v128.load(kp + co, 32), kv3 = v128.load(kp + co, 48);
      // Lanes of channels below c (done by the tile before) add +0: the totals start at +0, so never hold -0.
      for (let u = 0; u < 8; u++) {
        const m = i64x2.replace_lane(i64x2.splat(cs + 2 * u >= c ? -1 : 0), 1, cs + 2 * u + 1 >= c ? -1 : 0);
        v128.store(tmp + 128 + (<usize>u << 4), m);
      }
      for (let k = 0; k < 8; k++) {
        let s0 = z, s1 = z, s2 = z, s3 = z, q0 = z, q1 = z, q2 = z, q3 = z;
        for (let h = 0; h < 2; h++) {
          const first = b + k + 8 * h;
          let p = xs + <usize>first * rs + co;
          let t0 = f32x4.sub(v128.load(p), kv0), t1 = f32x4.sub(v128.load(p, 16), kv1);
          let t2 = f32x4.sub(v128.load(p, 32), kv2), t3 = f32x4.sub(v128.load(p, 48), kv3);
          s0 = t0; s1 = t1; s2 = t2; s3 = t3;
          q0 = f32x4.mul(t0, t0); q1 = f32x4.mul(t1, t1); q2 = f32x4.mul(t2, t2); q3 = f32x4.mul(t3, t3);
          for (let s = first + 16; s < bend; s += 16) {
            p += step;
            t0 = f32x4.sub(v128.load(p), kv0); t1 = f32x4.sub(v128.load(p, 16), kv1);
            t2 = f32x4.sub(v128.load(p, 32), kv2); t3 = f32x4.sub(v128.load(p, 48), kv3);
            s0 = f32x4.add(s0, t0); s1 = f32x4.add(s1, t1); s2 = f32x4.add(s2, t2); s3 = f32x4.add(s3, t3);
            q0 = f32x4.add(q0, f32x4.mul(t0, t0)); q1 = f32x4.add(q1, f32x4.mul(t1, t1));
            q2 = f32x4.add(q2, f32x4.mul(t2, t2)); q3 = f32x4.add(q3, f32x4.mul(t3, t3));
          }
          if (h == 0) {
            v128.store(tmp, s0); v128.store(tmp, s1, 16); v128.store(tmp, s2, 32); v128.store(tmp, s3, 48);
            v128.store(tmp, q0, 64); v128.store(tmp, q1, 80); v128.store(tmp, q2, 96); v128.store(tmp, q3, 112);
          }
        }
        const ls = work + <usize>k * lanes + (co << 1), lq = ls + 8 * lanes;
        addLane(ls, f32x4.add(v128.load(tmp), s0), tmp + 128);
        addLane(ls + 32, f32x4.add(v128.load(tmp, 16), s1), tmp + 160);
        addLane(ls + 64, f32x4.add(v128.load(tmp, 32), s2), tmp + 192);
        addLane(ls + 96, f32x4.add(v128.load(tmp, 48), s3), tmp + 224);
        addLane(lq, f32x4.add(v128.load(tmp, 64), q0), tmp + 128);
        addLane(lq + 32, f32x4.add(v128.load(tmp, 80), q1), tmp + 160);
        addLane(lq + 64, f32x4.add(v128.load(tmp, 96), q2), tmp + 192);
        addLane(lq + 96, f32x4.add(v128.load(tmp, 112), q3), tmp + 224);
      }
    }
  }
}

// Reads one word of every cache line in [p, end) in address order, so that the hardware streams
// the block into cache before the tiles read it column-wise (their scattered misses measured 2x
// slower from DRAM than the f64 lane tile's, which walks fewer rows at a time).
let touched: i32 = 0;
function touch(p: usize, end: usize): void {
  let a: i32 = 0;
  for (; p < end; p += 64) a |= load<i32>(p);
  touched |= a;
}

// Adds the four f32 lanes of v, promoted, to the f64 pairs at `at` (masked by the two v128 at mask).
// @ts-ignore: decorator
@inline function addLane(at: usize, v: v128, mask: usize): void {
  v128.store(at, f64x2.add(v128.load(at), v128.and(lo2(v), v128.load(mask))));
  v128.store(at, f64x2.add(v128.load(at, 16), v128.and(hi2(v), v128.load(mask, 16))), 16);
}

// The lane order's combination of passBlocks' eight f64 lanes at a (stride 8 C bytes).
// @ts-ignore: decorator
@inline function laneSum(a: usize, C: i32): f64 {
  const st = <usize>C << 3;
  return ((load<f64>(a) + load<f64>(a + 4 * st)) + (load<f64>(a + 2 * st) + load<f64>(a + 6 * st))) +
    ((load<f64>(a + st) + load<f64>(a + 5 * st)) + (load<f64>(a + 3 * st) + load<f64>(a + 7 * st)));
}

// rowMoments32's tests (roundVerdict) on channel c after a round, s and q in s1, s2: ACCEPT
// (mc, vc written), RETRY (the next shift written to p7) or F64_PATH, also when a second round
// would be the third or its shift is not finite.
// @ts-ignore: decorator
@inline function judge(work: usize, C: i32, c: i32, invS: f64, last: bool): i32 {
  const o = <usize>c << 3;
  const kp = paramAt(work, C, 7) + (<usize>c << 2);
  const verdict = roundVerdict(load<f64>(f64At(work, C, 0) + o), load<f64>(f64At(work, C, 1) + o), load<f32>(kp), invS);
  if (verdict == ACCEPT) storeMoments(work, C, c);
  if (verdict != RETRY) return verdict;
  store<f32>(kp, retryShift);
  return last || retryShift - retryShift != 0 ? F64_PATH : RETRY;
}

// momentMean, momentVar into channel c's mc, vc.
// @ts-ignore: decorator
@inline function storeMoments(work: usize, C: i32, c: i32): void {
  store<f64>(f64At(work, C, 3) + (<usize>c << 3), momentMean);
  store<f64>(f64At(work, C, 4) + (<usize>c << 3), momentVar);
}

// rowMoments64 for channels [c0, c1) of the sample at xs (f64 lane tile), into mc, vc.
function strided64(xs: usize, C: i32, S: i32, c0: i32, c1: i32, work: usize, invS: f64): void {
  const s1 = f64At(work, C, 0), s2 = f64At(work, C, 1), kf = f64At(work, C, 2);
  for (let c = c0; c < c1; c++) store<f64>(kf + (<usize>c << 3), shiftOf(load<f32>(xs + (<usize>c << 2))));
  tileStats(xs, C, S, c0, c1, work, s1, s2);
  for (let c = c0; c < c1; c++) {
    const o = <usize>c << 3;
    setMoments(load<f64>(kf + o), load<f64>(s1 + o) * invS, load<f64>(s2 + o) * invS);
    storeMoments(work, C, c);
  }
}

// Channels-last per-channel (mean_c, var_c) into mc, vc for channels [c0, c1) of the sample at xs:
// bitwise LayerNorm's rowMoments of each channel's S values (so the bits of NCHW): passBlocks
// for the f32 two-pass, the f64 lane tile for the rows it cannot serve and where twoPass says no.
// p8 holds each channel's state, a roundVerdict (RETRY while another round is due).
function statsStrided(xs: usize, C: i32, S: i32, c0: i32, c1: i32, work: usize, invS: f64): void {
  const rs = <usize>C << 2, kp = paramAt(work, C, 7), st = paramAt(work, C, 8);
  const s1 = f64At(work, C, 0), s2 = f64At(work, C, 1);
  const two = twoPass(C, S);
  if (two) {
    passBlocks(xs, rs, C, c0, c1, 128, xs, work);
    for (let c = c0; c < c1; c++) {
      const K = headShift(load<f32>(xs + (<usize>c << 2)), laneSum(work + (<usize>c << 3), C));
      store<f32>(kp + (<usize>c << 2), K);
      store<i32>(st + (<usize>c << 2), K - K == 0 ? RETRY : F64_PATH);
    }
    const S16 = S & ~15;
    for (let round = 0; round < 2; round++) {
      let pending = false;
      for (let c = c0; c < c1; c++) pending = pending || load<i32>(st + (<usize>c << 2)) == RETRY;
      if (!pending) break;
      passBlocks(xs, rs, C, c0, c1, S16, kp, work);
      for (let c = c0; c < c1; c++) {
        if (load<i32>(st + (<usize>c << 2)) != RETRY) continue;
        const o = <usize>c << 3;
        const K = load<f32>(kp + (<usize>c << 2));
        let s = laneSum(work + o, C), q = laneSum(work + 64 * <usize>C + o, C);
        for (let i = S16; i < S; i++) {
          const t = <f64>(load<f32>(xs + <usize>i * rs + (<usize>c << 2)) - K);
          s += t;
          q += t * t;
        }
        store<f64>(s1 + o, s);
        store<f64>(s2 + o, q);
        store<i32>(st + (<usize>c << 2), judge(work, C, c, invS, round == 1));
      }
    }
  }
  // The f64 path for the channels that take it (all of them without the two-pass), runs of
  // consecutive channels in one lane tile.
  for (let c = c0; c < c1;) {
    if (two && load<i32>(st + (<usize>c << 2)) != F64_PATH) { c++; continue; }
    let e = c + 1;
    while (e < c1 && (!two || load<i32>(st + (<usize>e << 2)) == F64_PATH)) e++;
    strided64(xs, C, S, c, e, work, invS);
    c = e;
  }
}

// Channels-last lane tile over channels [c0, c1) of the sample at xs (row stride C floats).
// Stats (back = false): t = f64(x) - kf[c]; out1 += t, out2 += t * t.
// Backward: u = f32(((x - p0[c]) - p1[c]) * p2[c]); out1 += f64(dy) * f64(u), out2 += f64(dy).
// Channels go in pairs starting at c0; an odd last channel runs as the pair (c1 - 2, c1 - 1), or
// when the range holds one channel as a pair with a neighbour in the same sample (C >= 2), so
// every load is an in-bounds 64-bit one; lanes are independent and only lanes of [c0, c1) are
// stored (out1/out2 are indexed by global channel). Specialised per mode (tileStats, tileBack):
// one copy with a branch per eight positions measured ~10% slower.
// @ts-ignore: decorator
@inline function laneTile(xs: usize, dys: usize, C: i32, S: i32, c0: i32, c1: i32, work: usize, out1: usize, out2: usize, back: bool): void {
  const rs = <usize>C << 2;
  const S8 = S & ~7;
  const cr = c1 - c0;
  const np = (cr + 1) >> 1;
  const kf = sumsAt(work, C) + 16 * <usize>C;
  const p0 = paramAt(work, C, 0), p1 = paramAt(work, C, 1), p2 = paramAt(work, C, 2);
  const dd = dys - xs;
  let a0 = f64x2.splat(0), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
  let q0 = a0, q1 = a0, q2 = a0, q3 = a0, q4 = a0, q5 = a0, q6 = a0, q7 = a0;
  const SB = blockRows(rs);
  for (let sb = 0; sb <= S8; sb += SB) {
    const last = sb + SB > S8;
    const se = last ? S8 : sb + SB;
    if (back) {
      // The block's x and dy rows in address order first (as passBlocks does): 1.2-1.36x faster
      // at [1, 512, 128x128] channels-last; the forward's small shapes measured ~3% slower with it.
      touch(xs + <usize>sb * rs, xs + <usize>(last ? S : se) * rs);
      touch(dys + <usize>sb * rs, dys + <usize>(last ? S : se) * rs);
    }
    for (let p = 0; p < np; p++) {
      let cs = c0 + 2 * p;
      if (cs + 1 >= c1) cs = cr >= 2 ? c1 - 2 : (c0 > 0 ? c0 - 1 : c0);
      const slot = work + (<usize>p << 8);
      if (sb == 0) {
        a0 = f64x2.splat(0); a1 = a0; a2 = a0; a3 = a0; a4 = a0; a5 = a0; a6 = a0; a7 = a0;
        q0 = a0; q1 = a0; q2 = a0; q3 = a0; q4 = a0; q5 = a0; q6 = a0; q7 = a0;
      } else {
        a0 = v128.load(slot); a1 = v128.load(slot, 16); a2 = v128.load(slot, 32); a3 = v128.load(slot, 48);
        a4 = v128.load(slot, 64); a5 = v128.load(slot, 80); a6 = v128.load(slot, 96); a7 = v128.load(slot, 112);
        q0 = v128.load(slot, 128); q1 = v128.load(slot, 144); q2 = v128.load(slot, 160); q3 = v128.load(slot, 176);
        q4 = v128.load(slot, 192); q5 = v128.load(slot, 208); q6 = v128.load(slot, 224); q7 = v128.load(slot, 240);
      }
      const co = <usize>cs << 2;
      const kv = back ? f64x2.splat(0) : v128.load(kf + (<usize>cs << 3));
      const z = f32x4.splat(0);
      const hv = back ? v128.load64_zero(p0 + co) : z, lv = back ? v128.load64_zero(p1 + co) : z, rv = back ? v128.load64_zero(p2 + co) : z;
      let xp = xs + <usize>sb * rs + co;
      for (let s = sb; s < se; s += 8) {
        if (back) {
          let u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); let d = lo2(v128.load64_zero(xp + dd));
          a0 = f64x2.add(a0, f64x2.mul(d, lo2(u))); q0 = f64x2.add(q0, d); xp += rs;
          u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); d = lo2(v128.load64_zero(xp + dd));
          a1 = f64x2.add(a1, f64x2.mul(d, lo2(u))); q1 = f64x2.add(q1, d); xp += rs;
          u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); d = lo2(v128.load64_zero(xp + dd));
          a2 = f64x2.add(a2, f64x2.mul(d, lo2(u))); q2 = f64x2.add(q2, d); xp += rs;
          u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); d = lo2(v128.load64_zero(xp + dd));
          a3 = f64x2.add(a3, f64x2.mul(d, lo2(u))); q3 = f64x2.add(q3, d); xp += rs;
          u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); d = lo2(v128.load64_zero(xp + dd));
          a4 = f64x2.add(a4, f64x2.mul(d, lo2(u))); q4 = f64x2.add(q4, d); xp += rs;
          u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); d = lo2(v128.load64_zero(xp + dd));
          a5 = f64x2.add(a5, f64x2.mul(d, lo2(u))); q5 = f64x2.add(q5, d); xp += rs;
          u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); d = lo2(v128.load64_zero(xp + dd));
          a6 = f64x2.add(a6, f64x2.mul(d, lo2(u))); q6 = f64x2.add(q6, d); xp += rs;
          u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv); d = lo2(v128.load64_zero(xp + dd));
          a7 = f64x2.add(a7, f64x2.mul(d, lo2(u))); q7 = f64x2.add(q7, d); xp += rs;
        } else {
          let t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a0 = f64x2.add(a0, t); q0 = f64x2.add(q0, f64x2.mul(t, t)); xp += rs;
          t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a1 = f64x2.add(a1, t); q1 = f64x2.add(q1, f64x2.mul(t, t)); xp += rs;
          t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a2 = f64x2.add(a2, t); q2 = f64x2.add(q2, f64x2.mul(t, t)); xp += rs;
          t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a3 = f64x2.add(a3, t); q3 = f64x2.add(q3, f64x2.mul(t, t)); xp += rs;
          t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a4 = f64x2.add(a4, t); q4 = f64x2.add(q4, f64x2.mul(t, t)); xp += rs;
          t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a5 = f64x2.add(a5, t); q5 = f64x2.add(q5, f64x2.mul(t, t)); xp += rs;
          t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a6 = f64x2.add(a6, t); q6 = f64x2.add(q6, f64x2.mul(t, t)); xp += rs;
          t = f64x2.sub(lo2(v128.load64_zero(xp)), kv); a7 = f64x2.add(a7, t); q7 = f64x2.add(q7, f64x2.mul(t, t)); xp += rs;
        }
      }
      if (!last) {
        v128.store(slot, a0); v128.store(slot, a1, 16); v128.store(slot, a2, 32); v128.store(slot, a3, 48);
        v128.store(slot, a4, 64); v128.store(slot, a5, 80); v128.store(slot, a6, 96); v128.store(slot, a7, 112);
        v128.store(slot, q0, 128); v128.store(slot, q1, 144); v128.store(slot, q2, 160); v128.store(slot, q3, 176);
        v128.store(slot, q4, 192); v128.store(slot, q5, 208); v128.store(slot, q6, 224); v128.store(slot, q7, 240);
        continue;
      }
      // Lane combination, then the tail positions in order.
      let A = f64x2.add(f64x2.add(f64x2.add(a0, a4), f64x2.add(a2, a6)), f64x2.add(f64x2.add(a1, a5), f64x2.add(a3, a7)));
      let Q = f64x2.add(f64x2.add(f64x2.add(q0, q4), f64x2.add(q2, q6)), f64x2.add(f64x2.add(q1, q5), f64x2.add(q3, q7)));
      for (let s = S8; s < S; s++) {
        if (back) {
          const u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load64_zero(xp), hv), lv), rv);
          const d = lo2(v128.load64_zero(xp + dd));
          A = f64x2.add(A, f64x2.mul(d, lo2(u)));
          Q = f64x2.add(Q, d);
        } else {
          const t = f64x2.sub(lo2(v128.load64_zero(xp)), kv);
          A = f64x2.add(A, t);
          Q = f64x2.add(Q, f64x2.mul(t, t));
        }
        xp += rs;
      }
      const o = <usize>cs << 3;
      if (cs >= c0) {
        store<f64>(out1 + o, f64x2.extract_lane(A, 0));
        store<f64>(out2 + o, f64x2.extract_lane(Q, 0));
      }
      if (cs + 1 < c1) {
        store<f64>(out1 + o, f64x2.extract_lane(A, 1), 8);
        store<f64>(out2 + o, f64x2.extract_lane(Q, 1), 8);
      }
    }
  }
}

// Three consecutive per-channel parameters k, k+1, k+2 of channel c.
function setParams(work: usize, C: i32, c: i32, k: i32, a: f32, b: f32, d: f32): void {
  const o = <usize>c << 2;
  store<f32>(paramAt(work, C, k) + o, a);
  store<f32>(paramAt(work, C, k + 1) + o, b);
  store<f32>(paramAt(work, C, k + 2) + o, d);
}

function tileStats(xs: usize, C: i32, S: i32, c0: i32, c1: i32, work: usize, out1: usize, out2: usize): void {
  laneTile(xs, xs, C, S, c0, c1, work, out1, out2, false);
}
function tileBack(xs: usize, dys: usize, C: i32, S: i32, c0: i32, c1: i32, work: usize, out1: usize, out2: usize): void {
  laneTile(xs, dys, C, S, c0, c1, work, out1, out2, true);
}

/**
 * Forward over rows row0 .. row0 + rows - 1 (see the header). x, y: [N, C, S] (channelsLast = 0)
 * or [N, S, C]; w, b: C floats or 0; mean, rstd: N * G floats or 0; stats: 2 * N * G f64 or 0;
 * work: groupNormWorkBytes(C) bytes (channels-last only).
 */
export function groupNorm(
  x: usize, w: usize, b: usize, y: usize, mean: usize, rstd: usize, stats: usize, work: usize,
  row0: i32, rows: i32, C: i32, S: i32, G: i32, eps: f64, channelsLast: bool, zeroRstd: bool,
): void {
  assert(rows >= 0 && row0 >= 0 && C > 0 && S > 0 && G > 0 && C % G == 0 && !((x | w | b | y | mean | rstd | stats | work) & 3), "groupNorm: bad sizes or unaligned pointer");
  const Cg = C / G;
  const invS = 1.0 / <f64>S;
  if (!channelsLast || C == 1) {
    const plane = <usize>S << 2;
    for (let r = row0; r < row0 + rows; r++) {
      const off = <usize>r * <usize>Cg * plane;
      const c0 = (r % G) * Cg;
      statsPlanes(x + off, Cg, S, invS, work, C, c0);
      const rr = rowOut(r, mean, rstd, stats, eps, zeroRstd);
      const mhi = <f32>rowMean, mlo = <f32>(rowMean - <f64>mhi);
      for (let j = 0; j < Cg; j++) {
        const c = <usize>(c0 + j) << 2;
        const o = off + <usize>j * plane;
        const sc = scaleOf(rr, w, c);
        applyPlane(x + o, y + o, S, mhi, sc, biasOf(mlo, sc, b, c));
      }
    }
    return;
  }
  for (let r = row0; r < row0 + rows;) {
    const n = r / G, g0 = r % G;
    const g1 = min(G, g0 + row0 + rows - r);
    const c0 = g0 * Cg, c1 = g1 * Cg;
    const xs = x + <usize>n * <usize>S * (<usize>C << 2);
    statsStrided(xs, C, S, c0, c1, work, invS);
    for (let g = g0; g < g1; g++) {
      combineGroup(work, C, g * Cg, Cg);
      const rr = rowOut(n * G + g, mean, rstd, stats, eps, zeroRstd);
      const mhi = <f32>rowMean, mlo = <f32>(rowMean - <f64>mhi);
      for (let c = g * Cg; c < (g + 1) * Cg; c++) {
        const o = <usize>c << 2;
        const sc = scaleOf(rr, w, o);
        setParams(work, C, c, 0, mhi, sc, biasOf(mlo, sc, b, o));
      }
    }
    applyStrided(xs, y + (xs - x), work, C, S, c0, c1, Cg);
    r += g1 - g0;
  }
}

// Writes the optional per-row outputs from rowMean/rowVar; returns r = f32(rstd). zeroRstd: torch's
// instance_norm (batch_norm's InvStd) takes rstd = 0 for a constant row with eps = 0 (y = bias).
// @ts-ignore: decorator
@inline function rowOut(r: i32, mean: usize, rstd: usize, stats: usize, eps: f64, zeroRstd: bool): f32 {
  const rr = zeroRstd && rowVar == 0 && eps == 0 ? <f32>0 : <f32>(1.0 / Math.sqrt(rowVar + eps));
  if (mean) store<f32>(mean + (<usize>r << 2), <f32>rowMean);
  if (rstd) store<f32>(rstd + (<usize>r << 2), rr);
  if (stats) {
    store<f64>(stats + (<usize>r << 4), rowMean);
    store<f64>(stats + (<usize>r << 4), rowVar, 8);
  }
  return rr;
}

// The first K parameters (p0 ..) of each vector of 4 channels from c0 side by side, 16 K bytes a
// vector, at the start of work (the lane accumulators' area, free once the statistics are done);
// returns where. The element passes then read a vector's parameters at one pointer with immediate
// offsets: K arrays cost an address computation each per vector (V8 does not fold wasm's i32 adds
// into x64 addressing).
function packParams(work: usize, C: i32, c0: i32, c1: i32, K: i32): usize {
  const stride = <usize>K << 4;
  for (let k = 0; k < K; k++) {
    const pk = paramAt(work, C, k);
    for (let c = c0, q = work + (<usize>k << 4); c + 4 <= c1; c += 4, q += stride) v128.store(q, v128.load(pk + (<usize>c << 2)));
  }
  return work;
}

// The element pass's per-channel parameters (see the header): sc = f32(r * w[c]) (r without a
// weight) and sh = f32(b[c] - f32(mlo * sc)) (b absent: -0), so y = (x - mhi) * sc + sh, three
// operations per element (((x - mhi) - mlo) * r * w + b took five, and two more parameter loads
// per vector channels-last, where vectors of four channels straddle groups).
// @ts-ignore: decorator
@inline function scaleOf(r: f32, w: usize, o: usize): f32 {
  return w ? r * load<f32>(w + o) : r;
}
// @ts-ignore: decorator
@inline function biasOf(mlo: f32, sc: f32, b: usize, o: usize): f32 {
  return (b ? load<f32>(b + o) : -0.0) - mlo * sc;
}

// One NCHW plane: y = (x - mhi) * sc + sh.
function applyPlane(xr: usize, yr: usize, d: i32, mhi: f32, sc: f32, sh: f32): void {
  const hv = f32x4.splat(mhi), sv = f32x4.splat(sc), bv = f32x4.splat(sh);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const o = <usize>i << 2;
    v128.store(yr + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(xr + o), hv), sv), bv));
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    store<f32>(yr + o, (load<f32>(xr + o) - mhi) * sc + sh);
  }
}

// Channels-last element pass over channels [c0, c1) of one sample, parameters per channel in work
// (p0 = mhi, p1 = sc, p2 = sh). Rows in address order, R rows per parameter load: R = 1 for rows
// of 512 bytes and more, 2 from 256, else 4. Fewer streams beat fewer loads on long rows: measured
// (A/B in one process, medians of 31 rounds, the whole forward, with the five-parameter pass),
// R = 1 against R = 4: 0.58-0.61 vs 0.70-0.83 ns/element at C = 320 and 512; R = 2 at C = 64:
// 0.53-0.60 vs 0.60-0.67 for R = 1; at C = 6, R = 2 ran ~1.15x slower than R = 4. Four channels
// down 16 rows with the parameters in registers ran 1.15-1.45x slower than R = 4 (the column walk
// defeats the prefetcher).
function applyStrided(xs: usize, ys: usize, work: usize, C: i32, S: i32, c0: i32, c1: i32, Cg: i32): void {
  const rs = <usize>C << 2;
  const p0 = paramAt(work, C, 0), p1 = paramAt(work, C, 1), p2 = paramAt(work, C, 2);
  if (!(Cg & 3) && C >= 128) {
    // Groups of whole vectors (long rows, one row per pass): the group's mhi splatted once per
    // group and row, three loads per four elements (x, sc, sh).
    for (let s = 0; s < S; s++) {
      const xr = xs + <usize>s * rs, yr = ys + <usize>s * rs;
      for (let g = c0; g < c1; g += Cg) {
        const go = <usize>g << 2;
        const h = v128.load32_splat(p0 + go);
        for (let c = g; c < g + Cg; c += 4) {
          const o = <usize>c << 2;
          applyRow(xr + o, yr + o, h, v128.load(p1 + o), v128.load(p2 + o));
        }
      }
    }
    return;
  }
  const iv = packParams(work, C, c0, c1, 3); // (~5% faster at C = 320 and 96 than separate arrays)
  // One copy of the loop per R (a branch on R inside it measured 1.1-1.3x slower at C = 320).
  if (C >= 128) applyRowsOf(xs, ys, rs, S, c0, c1, iv, p0, p1, p2, 1);
  else if (C >= 64) applyRowsOf(xs, ys, rs, S, c0, c1, iv, p0, p1, p2, 2);
  else applyRowsOf(xs, ys, rs, S, c0, c1, iv, p0, p1, p2, 4);
}

// @ts-ignore: decorator
@inline function applyRowsOf(xs: usize, ys: usize, rs: usize, S: i32, c0: i32, c1: i32, iv: usize, p0: usize, p1: usize, p2: usize, R: i32): void {
  let s = 0;
  for (; s + R <= S; s += R) {
    const xr = xs + <usize>s * rs, yr = ys + <usize>s * rs;
    let c = c0;
    for (let q = iv; c + 4 <= c1; c += 4, q += 48) {
      const o = <usize>c << 2;
      const h = v128.load(q), sc = v128.load(q, 16), sh = v128.load(q, 32);
      applyRow(xr + o, yr + o, h, sc, sh);
      if (R >= 2) applyRow(xr + rs + o, yr + rs + o, h, sc, sh);
      if (R == 4) {
        applyRow(xr + 2 * rs + o, yr + 2 * rs + o, h, sc, sh);
        applyRow(xr + 3 * rs + o, yr + 3 * rs + o, h, sc, sh);
      }
    }
    for (; c < c1; c++) for (let k = 0; k < R; k++) applyOne(xr + <usize>k * rs, yr + <usize>k * rs, <usize>c << 2, p0, p1, p2);
  }
  for (; s < S; s++) {
    const xr = xs + <usize>s * rs, yr = ys + <usize>s * rs;
    for (let c = c0; c < c1; c++) applyOne(xr, yr, <usize>c << 2, p0, p1, p2);
  }
}

// @ts-ignore: decorator
@inline function applyRow(xp: usize, yp: usize, h: v128, sc: v128, sh: v128): void {
  v128.store(yp, f32x4.add(f32x4.mul(f32x4.sub(v128.load(xp), h), sc), sh));
}

// @ts-ignore: decorator
@inline function applyOne(xr: usize, yr: usize, o: usize, p0: usize, p1: usize, p2: usize): void {
  store<f32>(yr + o, (load<f32>(xr + o) - load<f32>(p0 + o)) * load<f32>(p1 + o) + load<f32>(p2 + o));
}

let sumP: f64 = 0;
let sumD: f64 = 0;

// P = sum(dy * u), D = sum(dy) over one contiguous plane, in the lane order.
function planeBack(xr: usize, dyr: usize, d: i32, mhi: f32, mlo: f32, r: f32): void {
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r);
  let p0 = f64x2.splat(0), p1 = p0, p2 = p0, p3 = p0, e0 = p0, e1 = p0, e2 = p0, e3 = p0;
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const o = <usize>i << 2;
    const u0 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
    const u1 = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o, 16), hv), lv), rv);
    const y0 = v128.load(dyr + o), y1 = v128.load(dyr + o, 16);
    const d0 = lo2(y0), d1 = hi2(y0), d2 = lo2(y1), d3 = hi2(y1);
    p0 = f64x2.add(p0, f64x2.mul(d0, lo2(u0))); e0 = f64x2.add(e0, d0);
    p1 = f64x2.add(p1, f64x2.mul(d1, hi2(u0))); e1 = f64x2.add(e1, d1);
    p2 = f64x2.add(p2, f64x2.mul(d2, lo2(u1))); e2 = f64x2.add(e2, d2);
    p3 = f64x2.add(p3, f64x2.mul(d3, hi2(u1))); e3 = f64x2.add(e3, d3);
  }
  let P = combine8(p0, p1, p2, p3);
  let D = combine8(e0, e1, e2, e3);
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    const dyj = <f64>load<f32>(dyr + o);
    P += dyj * <f64>u;
    D += dyj;
  }
  sumP = P;
  sumD = D;
}

/**
 * Backward over rows row0 .. row0 + rows - 1 (see the header). dy, x, dx: whole tensors (dx may be
 * dy, or 0 for dweight/dbias only); w: C floats or 0; mean, rstd: N * G floats (both or neither);
 * parts: N * 2C f64, receives (P | D) per sample for the call's channels; work as the forward.
 */
export function groupNormBackward(
  dy: usize, x: usize, w: usize, mean: usize, rstd: usize, dx: usize, parts: usize, work: usize,
  row0: i32, rows: i32, C: i32, S: i32, G: i32, eps: f64, channelsLast: bool,
): void {
  assert(rows >= 0 && row0 >= 0 && C > 0 && S > 0 && G > 0 && C % G == 0 && !((dy | x | w | mean | rstd | dx | work) & 3) && !(parts & 7), "groupNormBackward: bad sizes or unaligned pointer");
  const Cg = C / G;
  const invM = 1.0 / (<f64>Cg * <f64>S), invS = 1.0 / <f64>S;
  const partBytes = <usize>C << 4;
  if (!channelsLast || C == 1) {
    const plane = <usize>S << 2;
    for (let r = row0; r < row0 + rows; r++) {
      const off = <usize>r * <usize>Cg * plane;
      const c0 = (r % G) * Cg;
      const pn = parts + <usize>(r / G) * partBytes;
      let mhi: f32, mlo: f32, rr: f32;
      if (rstd) {
        mhi = load<f32>(mean + (<usize>r << 2));
        mlo = 0;
        rr = load<f32>(rstd + (<usize>r << 2));
      } else {
        statsPlanes(x + off, Cg, S, invS, work, C, c0);
        mhi = <f32>rowMean;
        mlo = <f32>(rowMean - <f64>mhi);
        rr = <f32>(1.0 / Math.sqrt(rowVar + eps));
      }
      let A: f64 = 0, B: f64 = 0;
      for (let j = 0; j < Cg; j++) {
        const o = off + <usize>j * plane;
        planeBack(x + o, dy + o, S, mhi, mlo, rr);
        const c = <usize>(c0 + j) << 3;
        store<f64>(pn + c, sumP);
        store<f64>(pn + (<usize>C << 3) + c, sumD);
        const wc = w ? <f64>load<f32>(w + (c >> 1)) : 1;
        A += wc * sumD;
        B += wc * sumP;
      }
      if (!dx) continue;
      const ma = A * invM, mb = B * invM;
      const ahi = <f32>ma, alo = <f32>(ma - <f64>ahi), mbf = <f32>mb;
      for (let j = 0; j < Cg; j++) {
        const o = off + <usize>j * plane;
        backRun(x + o, dy + o, dx + o, S, mhi, mlo, rr, w ? load<f32>(w + (<usize>(c0 + j) << 2)) : 1, ahi, alo, mbf);
      }
    }
    return;
  }
  for (let r = row0; r < row0 + rows;) {
    const n = r / G, g0 = r % G;
    const g1 = min(G, g0 + row0 + rows - r);
    const c0 = g0 * Cg, c1 = g1 * Cg;
    const so = <usize>n * <usize>S * (<usize>C << 2);
    const xs = x + so;
    if (!rstd) {
      statsStrided(xs, C, S, c0, c1, work, invS);
    }
    for (let g = g0; g < g1; g++) {
      const rw = n * G + g;
      let mhi: f32, mlo: f32, rr: f32;
      if (rstd) {
        mhi = load<f32>(mean + (<usize>rw << 2));
        mlo = 0;
        rr = load<f32>(rstd + (<usize>rw << 2));
      } else {
        combineGroup(work, C, g * Cg, Cg);
        mhi = <f32>rowMean;
        mlo = <f32>(rowMean - <f64>mhi);
        rr = <f32>(1.0 / Math.sqrt(rowVar + eps));
      }
      for (let c = g * Cg; c < (g + 1) * Cg; c++) {
        const o = <usize>c << 2;
        setParams(work, C, c, 0, mhi, mlo, rr);
        store<f32>(paramAt(work, C, 3) + o, w ? load<f32>(w + o) : 1);
      }
    }
    const pn = parts + <usize>n * partBytes;
    tileBack(xs, dy + so, C, S, c0, c1, work, pn, pn + (<usize>C << 3));
    if (dx) {
      for (let g = g0; g < g1; g++) {
        let A: f64 = 0, B: f64 = 0;
        for (let c = g * Cg; c < (g + 1) * Cg; c++) {
          const wc = <f64>load<f32>(paramAt(work, C, 3) + (<usize>c << 2));
          A += wc * load<f64>(pn + (<usize>(C + c) << 3));
          B += wc * load<f64>(pn + (<usize>c << 3));
        }
        const ma = A * invM, mb = B * invM;
        const ahi = <f32>ma, alo = <f32>(ma - <f64>ahi), mbf = <f32>mb;
        for (let c = g * Cg; c < (g + 1) * Cg; c++) {
          setParams(work, C, c, 4, ahi, alo, mbf);
        }
      }
      backStrided(xs, dy + so, dx + so, work, C, S, c0, c1);
    }
    r += g1 - g0;
  }
}

// dx = (((g - ahi) - alo) - u * mbf) * r with g = dy * w, u = ((x - mhi) - mlo) * r, over one plane.
// @ts-ignore: decorator
@inline function backRun(xr: usize, dyr: usize, dxr: usize, d: i32, mhi: f32, mlo: f32, r: f32, w: f32, ahi: f32, alo: f32, mb: f32): void {
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r), wv = f32x4.splat(w);
  const ah = f32x4.splat(ahi), al = f32x4.splat(alo), bv = f32x4.splat(mb);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const o = <usize>i << 2;
    const u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
    const g = f32x4.mul(v128.load(dyr + o), wv);
    v128.store(dxr + o, f32x4.mul(f32x4.sub(f32x4.sub(f32x4.sub(g, ah), al), f32x4.mul(u, bv)), rv));
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    const u = ((load<f32>(xr + o) - mhi) - mlo) * r;
    const g = load<f32>(dyr + o) * w;
    store<f32>(dxr + o, (((g - ahi) - alo) - u * mb) * r);
  }
}

// Channels-last dx over channels [c0, c1) of one sample, parameters per channel in work (p0..p6).
function backStrided(xs: usize, dys: usize, dxs: usize, work: usize, C: i32, S: i32, c0: i32, c1: i32): void {
  const rs = <usize>C << 2;
  const p0 = paramAt(work, C, 0), p1 = paramAt(work, C, 1), p2 = paramAt(work, C, 2), p3 = paramAt(work, C, 3);
  const p4 = paramAt(work, C, 4), p5 = paramAt(work, C, 5), p6 = paramAt(work, C, 6);
  const iv = packParams(work, C, c0, c1, 7); // (lane area free after tileBack)
  for (let s = 0; s < S; s++) {
    const so = <usize>s * rs;
    const xr = xs + so, dyr = dys + so, dxr = dxs + so;
    let c = c0;
    for (let q = iv; c + 4 <= c1; c += 4, q += 112) {
      const o = <usize>c << 2;
      const rv = v128.load(q, 32);
      const u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), v128.load(q)), v128.load(q, 16)), rv);
      const g = f32x4.mul(v128.load(dyr + o), v128.load(q, 48));
      const t = f32x4.sub(f32x4.sub(g, v128.load(q, 64)), v128.load(q, 80));
      v128.store(dxr + o, f32x4.mul(f32x4.sub(t, f32x4.mul(u, v128.load(q, 96))), rv));
    }
    for (; c < c1; c++) {
      const o = <usize>c << 2;
      const r = load<f32>(p2 + o);
      const u = ((load<f32>(xr + o) - load<f32>(p0 + o)) - load<f32>(p1 + o)) * r;
      const g = load<f32>(dyr + o) * load<f32>(p3 + o);
      store<f32>(dxr + o, (((g - load<f32>(p4 + o)) - load<f32>(p5 + o)) - u * load<f32>(p6 + o)) * r);
    }
  }
}
