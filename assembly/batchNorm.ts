// BatchNorm over x viewed as [rows, C, inner] (channel axis in the middle: NCHW has rows = N,
// inner = H*W; channels-last has rows = N*H*W, inner = 1). Three kernels, each reproduced bit
// for bit by src/fallback/batchNorm.ts:
//
// bnStats (training): per-channel shifted sums in f64, K[c] = x[0, c, 0] (stored to K by the
// call with first = true). Block b = rows b*BLOCK .. of this call; parts + b * 2C f64 receives
// S[c] = sum(x - K[c]) then Q[c] = sum((x - K[c])^2) over the block, starting from +0:
//   inner > 1: for each row n in order, each plane (n, c) is summed in the lane order of lanes.ts
//              (rowSums) and added to the block's S[c], Q[c];
//   inner = 1: elements added one row at a time, rows in increasing order.
// foldBlocks then adds the blocks in block order, so chunking never changes the bits. K is
// written by the call that holds row 0 (first = true) before it reads it; a threaded runtime
// first stores K with a rows = 0, first = true call, then runs every row range with first = false.
//
// bnFinish: per channel, from total (S | Q) over M = count elements, or (inference) from the
// running statistics: mean = K + S/M, var = max(Q/M - (S/M)^2, 0) (or mean = runMean,
// var = runVar), rstd = 1/sqrt(var + eps), all in f64. Writes params (5 f32 per channel, see paramOf): mhi = f32(mean),
// mlo = f32(mean - mhi), r = f32(rstd), weight (1 when absent), bias (-0 when absent: u + -0 = u
// exactly). Training also writes saveMean = f32(mean), saveRstd = r, and updates the running
// statistics: run = f32(momentum * stat + (1 - momentum) * run), with the unbiased variance
// var * (M / (M - 1)) for runVar (PyTorch), or with populationVar the biased var itself (ONNX
// BatchNormalization-15 training; v * 1 is exact, so the same code path gives its bits).
// populationVar is the last argument so that older callers passing 14 arguments get false.
//
// bnApply: y = (((x - mhi) - mlo) * r) * w + b in f32, each step rounded, per channel.
import { BLOCK, rowSums, sumS, sumQ } from "./lanes";

export function bnStats(x: usize, rows: i32, C: i32, inner: i32, K: usize, parts: usize, first: bool): void {
  assert(rows >= 0 && C > 0 && inner > 0 && !((x | K | parts) & 3), "bnStats: bad sizes or unaligned pointer");
  const plane = <usize>inner << 2;
  const rowBytes = <usize>C * plane;
  const blockBytes = <usize>C << 4;
  if (first) for (let c = 0; c < C; c++) store<f32>(K + (<usize>c << 2), load<f32>(x + <usize>c * plane));
  for (let n = 0; n < rows; n++) {
    const ps = parts + <usize>(n / BLOCK) * blockBytes, pq = ps + (<usize>C << 3);
    if (n % BLOCK == 0) memory.fill(ps, 0, blockBytes);
    const xr = x + <usize>n * rowBytes;
    if (inner > 1) {
      for (let c = 0; c < C; c++) {
        rowSums(xr + <usize>c * plane, inner, <f64>load<f32>(K + (<usize>c << 2)));
        const o = <usize>c << 3;
        store<f64>(ps + o, load<f64>(ps + o) + sumS);
        store<f64>(pq + o, load<f64>(pq + o) + sumQ);
      }
    } else {
      let c = 0;
      for (; c + 4 <= C; c += 4) {
        const xv = v128.load(xr + (<usize>c << 2)), kv = v128.load(K + (<usize>c << 2));
        const t0 = f64x2.sub(f64x2.promote_low_f32x4(xv), f64x2.promote_low_f32x4(kv));
        const t1 = f64x2.sub(f64x2.promote_low_f32x4(i64x2.shuffle(xv, xv, 1, 0)), f64x2.promote_low_f32x4(i64x2.shuffle(kv, kv, 1, 0)));
        const o = <usize>c << 3;
        v128.store(ps + o, f64x2.add(v128.load(ps + o), t0));
        v128.store(ps + o, f64x2.add(v128.load(ps + o, 16), t1), 16);
        v128.store(pq + o, f64x2.add(v128.load(pq + o), f64x2.mul(t0, t0)));
        v128.store(pq + o, f64x2.add(v128.load(pq + o, 16), f64x2.mul(t1, t1)), 16);
      }
      for (; c < C; c++) {
        const t = <f64>load<f32>(xr + (<usize>c << 2)) - <f64>load<f32>(K + (<usize>c << 2));
        const o = <usize>c << 3;
        store<f64>(ps + o, load<f64>(ps + o) + t);
        store<f64>(pq + o, load<f64>(pq + o) + t * t);
      }
    }
  }
}

export function bnFinish(
  total: usize, K: usize, count: f64, C: i32, eps: f64, momentum: f64, training: bool,
  runMean: usize, runVar: usize, w: usize, b: usize, params: usize, saveMean: usize, saveRstd: usize,
  populationVar: bool,
): void {
  assert(C > 0 && !((total | K | runMean | runVar | w | b | params | saveMean | saveRstd) & 3), "bnFinish: bad sizes or unaligned pointer");
  const invM = 1.0 / count;
  const unbias = populationVar ? 1.0 : count / (count - 1.0);
  const keep = 1.0 - momentum;
  for (let c = 0; c < C; c++) {
    const o4 = <usize>c << 2;
    let mean: f64, v: f64;
    if (training && count == 0) {
      // An empty batch: no statistics pass ran; the mean of no values is NaN, and the running
      // statistics stay as they were (torch).
      mean = NaN;
      v = NaN;
    } else if (training) {
      const s = load<f64>(total + (<usize>c << 3)) * invM;
      v = load<f64>(total + (<usize>(c + C) << 3)) * invM - s * s;
      if (v < 0) v = 0;
      mean = <f64>load<f32>(K + o4) + s;
      if (runMean) store<f32>(runMean + o4, <f32>(momentum * mean + keep * <f64>load<f32>(runMean + o4)));
      if (runVar) store<f32>(runVar + o4, <f32>(momentum * (v * unbias) + keep * <f64>load<f32>(runVar + o4)));
    } else {
      mean = <f64>load<f32>(runMean + o4);
      v = <f64>load<f32>(runVar + o4);
    }
    const mhi = <f32>mean;
    // Training with eps = 0 on a constant channel: invStdDev 0, so y = bias (torch's InvStd).
    const rr = training && v == 0 && eps == 0 ? <f32>0 : <f32>(1.0 / Math.sqrt(v + eps));
    const p = paramOf(params, c);
    store<f32>(p, mhi);
    store<f32>(p, <f32>(mean - <f64>mhi), 16);
    store<f32>(p, rr, 32);
    store<f32>(p, w ? load<f32>(w + o4) : <f32>1, 48);
    store<f32>(p, b ? load<f32>(b + o4) : <f32>-0.0, 64);
    if (saveMean) store<f32>(saveMean + o4, mhi);
    if (saveRstd) store<f32>(saveRstd + o4, rr);
  }
}

// Channel c's five parameters: groups of 4 channels, 80 bytes each, parameter k of the group's lane
// l at 16 k + 4 l (channels-last reads a vector's five at one pointer with immediate offsets: five
// arrays cost V8 an address computation each per vector). paramsBytes(C) = 80 * ceil(C / 4).
// @ts-ignore: decorator
@inline function paramOf(params: usize, c: i32): usize {
  return params + <usize>(c >> 2) * 80 + (<usize>(c & 3) << 2);
}

export function bnApply(x: usize, y: usize, params: usize, rows: i32, C: i32, inner: i32): void {
  assert(rows >= 0 && C > 0 && inner > 0 && !((x | y | params) & 3), "bnApply: bad sizes or unaligned pointer");
  const plane = <usize>inner << 2;
  const rowBytes = <usize>C * plane;
  for (let n = 0; n < rows; n++) {
    const xr = x + <usize>n * rowBytes, yr = y + <usize>n * rowBytes;
    if (inner > 1) {
      for (let c = 0; c < C; c++) {
        const p = paramOf(params, c);
        const o = <usize>c * plane;
        applyRun(xr + o, yr + o, inner, load<f32>(p), load<f32>(p, 16), load<f32>(p, 32), load<f32>(p, 48), load<f32>(p, 64));
      }
    } else {
      let c = 0;
      for (let p = params; c + 4 <= C; c += 4, p += 80) {
        const o = <usize>c << 2;
        const t = f32x4.sub(f32x4.sub(v128.load(xr + o), v128.load(p)), v128.load(p, 16));
        const u = f32x4.mul(t, v128.load(p, 32));
        v128.store(yr + o, f32x4.add(f32x4.mul(u, v128.load(p, 48)), v128.load(p, 64)));
      }
      for (; c < C; c++) {
        const o = <usize>c << 2, p = paramOf(params, c);
        store<f32>(yr + o, (((load<f32>(xr + o) - load<f32>(p)) - load<f32>(p, 16)) * load<f32>(p, 32)) * load<f32>(p, 48) + load<f32>(p, 64));
      }
    }
  }
}

// One channel plane with scalar parameters (also GroupNorm's NCHW element pass).
// @ts-ignore: decorator
@inline export function applyRun(xr: usize, yr: usize, d: i32, mhi: f32, mlo: f32, r: f32, w: f32, b: f32): void {
  const hv = f32x4.splat(mhi), lv = f32x4.splat(mlo), rv = f32x4.splat(r), wv = f32x4.splat(w), bv = f32x4.splat(b);
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    const o = <usize>i << 2;
    const u = f32x4.mul(f32x4.sub(f32x4.sub(v128.load(xr + o), hv), lv), rv);
    v128.store(yr + o, f32x4.add(f32x4.mul(u, wv), bv));
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    store<f32>(yr + o, (((load<f32>(xr + o) - mhi) - mlo) * r) * w + b);
  }
}
