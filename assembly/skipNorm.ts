// Fused residual add + LayerNorm or RMSNorm (onnxruntime's SkipLayerNormalization and
// SkipSimplifiedLayerNormalization) over `rows` float32 rows of `cols` elements.
//
// Algorithm (per row), reproduced bit for bit by src/fallback/skipNorm.ts:
//   1. One pass over x, skip and residual bias: s[j] = (x[j] + skip[j]) + rb[j] in f32 (each add
//      rounded; without rb: s = x + skip), stored to `sum` (or, without it, to y as scratch),
//      LayerNorm: rowMoments of lanes.ts over the stored s (the row is in L1); for D < TWO_PASS_MIN
//        (rowMoments' f64 one-pass) its sums accumulate in the add pass instead, in the lane order,
//        shifted by K = shiftOf(s[0]): lanes sum s - K and (s - K)^2 (exactly rowMoments64);
//      RMSNorm: the same pass sums f32(s * s) in the f32 block order of rowSumSq (lanes.ts), with
//        its f64 path (reading s back) for the rows it sends there: exactly rowSumSq of the sum.
//      So the result is bitwise the unfused layerNorm / rmsNorm of the sum.
//   2. rstd = 1 / sqrt(var + eps) (or ms + eps) in f64; mean split into f32 mhi + mlo as in
//      layerNorm (RMSNorm: no mean); the element pass of normalize.ts reads s back (the row is in
//      L1) and writes y.
// skip row r is skip + ((skipPhase + r) % skipRows) * cols: skipRows = rows for a full skip, 1 for
// one row broadcast to every row (or any divisor of rows, like onnxruntime's (1, S, H) skip);
// skipPhase is the skip row of this call's first row.
// Optional per-row outputs: mean (mhi; LayerNorm only), rstd (f32), and `stats` (test hook: f64
// (mean, var) or (0, ms) pairs, bitwise those of lanes.ts moments). Absent pointers are 0.
import { combine8, lo2, hi2, momentMean, momentVar, rowMoments, rowSumSq64, shiftOf, TINY, TWO_PASS_MIN } from "./lanes";
import { normRow } from "./normalize";

let accS: f64 = 0;
let accQ: f64 = 0;
let accK: f64 = 0;

export function skipNorm(
  x: usize, skip: usize, skipRows: i32, skipPhase: i32, rb: usize, w: usize, b: usize,
  y: usize, sum: usize, mean: usize, rstd: usize, stats: usize,
  rows: i32, cols: i32, eps: f64, rms: bool,
): void {
  assert(rows >= 0 && cols > 0 && skipRows > 0 && skipPhase >= 0 && skipPhase < skipRows && !((x | skip | rb | w | b | y | sum | mean | rstd | stats) & 3), "skipNorm: bad sizes or unaligned pointer");
  if (rows <= 0) return;
  const rowBytes = <usize>cols << 2;
  const invD = 1.0 / <f64>cols;
  let sr = skipPhase; // skip row of this call's first row (a chunk may start mid-cycle)
  const twoPass = !rms && cols >= TWO_PASS_MIN; // LayerNorm statistics by rowMoments of the stored sum
  // Software-pipelined as layerNorm: iteration r adds row r and takes its statistics, then
  // normalises row r - 1 (its sqrt/div latency hidden behind row r's pass; rows are independent,
  // so the bits are unchanged).
  let m: f64 = 0, v: f64 = 0;
  for (let r = 0; r <= rows; r++) {
    const rr = <f32>(1.0 / Math.sqrt(v + eps));
    const pm = m, pv = v;
    if (r < rows) {
      const off = <usize>r * rowBytes;
      const xr = x + off, sk = skip + <usize>sr * rowBytes, dst = (sum ? sum : y) + off;
      // RMSNorm's own copy skips the shift and the unused sum (~20% faster); the residual bias
      // is a per-vector branch (its own copies would cost ~800 bytes for no measured gain).
      if (rms) addRowSq(xr, sk, rb, dst, cols);
      else if (twoPass) addOnly(xr, sk, rb, dst, cols);
      else addRow(xr, sk, rb, dst, cols, false);
      if (++sr == skipRows) sr = 0;
      if (twoPass) {
        rowMoments(dst, cols, invD);
        m = momentMean;
        v = momentVar;
      } else if (rms) {
        v = accQ * invD;
        if (!(v >= TINY && v < Infinity)) {
          rowSumSq64(dst, cols, invD);
          v = momentVar;
        }
      } else {
        const s = accS * invD;
        v = accQ * invD - s * s;
        if (v < 0) v = 0;
        m = accK + s;
      }
    }
    if (r == 0) continue;
    const q = r - 1, off = <usize>q * rowBytes;
    const mhi = <f32>pm;
    const mlo = <f32>(pm - <f64>mhi);
    if (mean) store<f32>(mean + (<usize>q << 2), mhi);
    if (rstd) store<f32>(rstd + (<usize>q << 2), rr);
    if (stats) {
      store<f64>(stats + (<usize>q << 4), pm);
      store<f64>(stats + (<usize>q << 4), pv, 8);
    }
    normRow((sum ? sum : y) + off, y + off, w, b, cols, mhi, mlo, rr, !rms);
  }
}

// s = (x + sk) [+ rb] stored to dst; accQ = Q of rowSumSq (lanes.ts) over s, in its f32 block order.
// @ts-ignore: decorator
@inline function addRowSq(xr: usize, sk: usize, rb: usize, dst: usize, d: i32): void {
  const hasRB = rb != 0;
  const d16 = d & ~15;
  let Q0 = f64x2.splat(0), Q1 = Q0, Q2 = Q0, Q3 = Q0;
  let qa = Q0, qb = Q0, qe = Q0, qf = Q0;
  let i = 0;
  while (i < d16) {
    const end = min(i + 128, d16);
    for (let first = true; i < end; i += 16, first = false) {
      const o = <usize>i << 2;
      let a = f32x4.add(v128.load(xr + o), v128.load(sk + o)), b = f32x4.add(v128.load(xr + o, 16), v128.load(sk + o, 16));
      let e = f32x4.add(v128.load(xr + o, 32), v128.load(sk + o, 32)), f = f32x4.add(v128.load(xr + o, 48), v128.load(sk + o, 48));
      if (hasRB) {
        a = f32x4.add(a, v128.load(rb + o)); b = f32x4.add(b, v128.load(rb + o, 16));
        e = f32x4.add(e, v128.load(rb + o, 32)); f = f32x4.add(f, v128.load(rb + o, 48));
      }
      v128.store(dst + o, a); v128.store(dst + o, b, 16); v128.store(dst + o, e, 32); v128.store(dst + o, f, 48);
      a = f32x4.mul(a, a); b = f32x4.mul(b, b); e = f32x4.mul(e, e); f = f32x4.mul(f, f);
      if (first) {
        qa = a; qb = b; qe = e; qf = f;
      } else {
        qa = f32x4.add(qa, a); qb = f32x4.add(qb, b); qe = f32x4.add(qe, e); qf = f32x4.add(qf, f);
      }
    }
    const ae = f32x4.add(qa, qe), bf = f32x4.add(qb, qf);
    Q0 = f64x2.add(Q0, lo2(ae)); Q1 = f64x2.add(Q1, hi2(ae));
    Q2 = f64x2.add(Q2, lo2(bf)); Q3 = f64x2.add(Q3, hi2(bf));
  }
  let q = combine8(Q0, Q1, Q2, Q3);
  for (; i < d; i++) {
    const o = <usize>i << 2;
    let e = load<f32>(xr + o) + load<f32>(sk + o);
    if (hasRB) e += load<f32>(rb + o);
    store<f32>(dst + o, e);
    q += <f64>e * <f64>e;
  }
  accQ = q;
}

// s = (x + sk) [+ rb] stored to dst; LayerNorm (!rms): accS/accQ = lane-order sums of s - K and
// (s - K)^2, K = shiftOf(s[0]).
// @ts-ignore: decorator
@inline function addRow(xr: usize, sk: usize, rb: usize, dst: usize, d: i32, rms: bool): void {
  const hasRB = rb != 0;
  let s0f = load<f32>(xr) + load<f32>(sk);
  if (hasRB) s0f += load<f32>(rb);
  const K: f64 = rms ? 0 : shiftOf(s0f);
  const kv = f64x2.splat(K);
  let s0 = f64x2.splat(0), s1 = s0, s2 = s0, s3 = s0;
  let q0 = s0, q1 = s0, q2 = s0, q3 = s0;
  const d8 = d & ~7;
  let i = 0;
  for (; i < d8; i += 8) {
    const o = <usize>i << 2;
    let a = f32x4.add(v128.load(xr + o), v128.load(sk + o));
    let c = f32x4.add(v128.load(xr + o, 16), v128.load(sk + o, 16));
    if (hasRB) {
      a = f32x4.add(a, v128.load(rb + o));
      c = f32x4.add(c, v128.load(rb + o, 16));
    }
    v128.store(dst + o, a);
    v128.store(dst + o, c, 16);
    const t0 = f64x2.sub(lo2(a), kv), t1 = f64x2.sub(hi2(a), kv), t2 = f64x2.sub(lo2(c), kv), t3 = f64x2.sub(hi2(c), kv);
    s0 = f64x2.add(s0, t0); s1 = f64x2.add(s1, t1); s2 = f64x2.add(s2, t2); s3 = f64x2.add(s3, t3);
    q0 = f64x2.add(q0, f64x2.mul(t0, t0));
    q1 = f64x2.add(q1, f64x2.mul(t1, t1));
    q2 = f64x2.add(q2, f64x2.mul(t2, t2));
    q3 = f64x2.add(q3, f64x2.mul(t3, t3));
  }
  let s = combine8(s0, s1, s2, s3);
  let q = combine8(q0, q1, q2, q3);
  for (; i < d; i++) {
    const o = <usize>i << 2;
    let e = load<f32>(xr + o) + load<f32>(sk + o);
    if (hasRB) e += load<f32>(rb + o);
    store<f32>(dst + o, e);
    const t = <f64>e - K;
    s += t;
    q += t * t;
  }
  accS = s;
  accQ = q;
  accK = K;
}

// s = (x + sk) [+ rb] stored to dst, nothing else (LayerNorm rows of D >= TWO_PASS_MIN; 16 wide with
// the residual-bias branch hoisted: 8% faster at 512x768 than 4 wide with it per vector).
// @ts-ignore: decorator
@inline function addOnly(xr: usize, sk: usize, rb: usize, dst: usize, d: i32): void {
  const d16 = d & ~15;
  let i = 0;
  if (rb) {
    for (; i < d16; i += 16) {
      const o = <usize>i << 2;
      v128.store(dst + o, f32x4.add(f32x4.add(v128.load(xr + o), v128.load(sk + o)), v128.load(rb + o)));
      v128.store(dst + o, f32x4.add(f32x4.add(v128.load(xr + o, 16), v128.load(sk + o, 16)), v128.load(rb + o, 16)), 16);
      v128.store(dst + o, f32x4.add(f32x4.add(v128.load(xr + o, 32), v128.load(sk + o, 32)), v128.load(rb + o, 32)), 32);
      v128.store(dst + o, f32x4.add(f32x4.add(v128.load(xr + o, 48), v128.load(sk + o, 48)), v128.load(rb + o, 48)), 48);
    }
  } else {
    for (; i < d16; i += 16) {
      const o = <usize>i << 2;
      v128.store(dst + o, f32x4.add(v128.load(xr + o), v128.load(sk + o)));
      v128.store(dst + o, f32x4.add(v128.load(xr + o, 16), v128.load(sk + o, 16)), 16);
      v128.store(dst + o, f32x4.add(v128.load(xr + o, 32), v128.load(sk + o, 32)), 32);
      v128.store(dst + o, f32x4.add(v128.load(xr + o, 48), v128.load(sk + o, 48)), 48);
    }
  }
  for (; i < d; i++) {
    const o = <usize>i << 2;
    let e = load<f32>(xr + o) + load<f32>(sk + o);
    if (rb) e += load<f32>(rb + o);
    store<f32>(dst + o, e);
  }
}
