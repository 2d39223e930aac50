// Shared by the GroupNorm kernel tests: the kernels' type, direct wasm calls through a runtime's
// arena (with a canary after the work area) and the matching JS-twin calls, layout transposes.
import { foldBlocksJs } from "../src/fallback/reduce.js";
import { groupNormBackwardJs, groupNormJs, groupNormWorkBytes } from "../src/fallback/groupNorm.js";
import type { Tensor } from "../src/index.js";
import { runtimeFor } from "./harness.js";

/** The kernels of assembly/groupNorm.ts as the module exports them (booleans as 0/1). */
export interface GroupNormKernels {
  groupNorm(x: number, w: number, b: number, y: number, mean: number, rstd: number, stats: number, work: number,
    row0: number, rows: number, C: number, S: number, G: number, eps: number, channelsLast: number, zeroRstd: number): void;
  groupNormBackward(dy: number, x: number, w: number, mean: number, rstd: number, dx: number, parts: number, work: number,
    row0: number, rows: number, C: number, S: number, G: number, eps: number, channelsLast: number): void;
  groupNormWorkBytes(C: number): number;
  foldBlocks(parts: number, blocks: number, cols: number, total: number, init: number, out0: number, out1: number): void;
  bnStats(x: number, rows: number, C: number, inner: number, K: number, parts: number, first: number): void;
  bnFinish(total: number, K: number, count: number, C: number, eps: number, momentum: number, training: number,
    runMean: number, runVar: number, w: number, b: number, params: number, saveMean: number, saveRstd: number, populationVar?: number): void;
}

export const rt = runtimeFor("tensor");
export const k = () => rt.kernels as unknown as GroupNormKernels;
const live: Tensor[] = [];
export const T = (a: ArrayLike<number>): Tensor => { const t = rt.from(a); live.push(t); return t; };
export const Z = (floats: number): Tensor => { const t = rt.alloc(floats); live.push(t); return t; };
export const freeAll = () => { for (const t of live.splice(0)) t.free(); };
const p = (t: Tensor | null) => (t ? t.byteOffset : 0);
export const f64 = (t: Tensor, n: number) => new Float64Array(t.data.buffer, t.byteOffset, n);
const CANARY = 0x7fa5a5a5;

/** [N, C, S] -> [N, S, C] (and back with inverse). */
export function transpose(x: Float32Array, N: number, C: number, S: number, inverse = false): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
    const a = (n * C + c) * S + s, b = (n * S + s) * C + c;
    if (inverse) out[a] = x[b]!; else out[b] = x[a]!;
  }
  return out;
}

/** Index of the first f64 whose bits differ (NaNs equal), or -1. */
export function diff64(a: Float64Array, b: Float64Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return a.length === b.length ? -1 : a.length;
}

export interface Shape { N: number; C: number; S: number; G: number }
export interface Fwd { y: Float32Array; mean: Float32Array; rstd: Float32Array; stats: Float64Array }
export interface Opts { w?: Float32Array | null; b?: Float32Array | null; cl?: boolean; inPlace?: boolean; splits?: number[]; eps?: number }

/** Work area with a canary block after it; throws if the kernel wrote past groupNormWorkBytes(C). */
function withWork<R>(C: number, f: (work: number) => R): R {
  const bytes = groupNormWorkBytes(C);
  const t = Z(bytes / 4 + 64);
  const tail = new Uint32Array(t.data.buffer, t.byteOffset + bytes, 64).fill(CANARY);
  const r = f(t.byteOffset);
  if (!new Uint32Array(t.data.buffer, t.byteOffset + bytes, 64).every((v) => v === CANARY)) throw new Error(`kernel wrote past its work area (C=${C})`);
  void tail;
  return r;
}

export function wasmForward(x: Float32Array, sh: Shape, o: Opts = {}): Fwd {
  const { N, C, S, G } = sh, R = N * G;
  const tx = T(x), tw = o.w ? T(o.w) : null, tb = o.b ? T(o.b) : null;
  const ty = o.inPlace ? tx : Z(x.length), tm = Z(R), tr = Z(R), ts = Z(4 * R);
  const splits = o.splits ?? [0, R];
  withWork(C, (work) => {
    for (let i = 0; i + 1 < splits.length; i++) {
      k().groupNorm(tx.byteOffset, p(tw), p(tb), ty.byteOffset, tm.byteOffset, tr.byteOffset, ts.byteOffset, work,
        splits[i]!, splits[i + 1]! - splits[i]!, C, S, G, o.eps ?? 1e-5, +(o.cl ?? false), 0);
    }
  });
  const out = { y: ty.data.slice(), mean: tm.data.slice(), rstd: tr.data.slice(), stats: f64(ts, 2 * R).slice() };
  freeAll();
  return out;
}

export function jsForward(x: Float32Array, sh: Shape, o: Opts = {}): Fwd {
  const { N, C, S, G } = sh, R = N * G;
  const xx = x.slice(), y = o.inPlace ? xx : new Float32Array(x.length);
  const mean = new Float32Array(R), rstd = new Float32Array(R), stats = new Float64Array(2 * R);
  const splits = o.splits ?? [0, R];
  for (let i = 0; i + 1 < splits.length; i++) {
    groupNormJs(xx, o.w ?? null, o.b ?? null, y, mean, rstd, stats, splits[i]!, splits[i + 1]! - splits[i]!, C, S, G, o.eps ?? 1e-5, o.cl ?? false);
  }
  return { y, mean, rstd, stats };
}

export interface Bwd { dx: Float32Array; parts: Float64Array; dw: Float32Array; db: Float32Array }
export interface BOpts { w?: Float32Array | null; mean?: Float32Array | null; rstd?: Float32Array | null; cl?: boolean; inPlace?: boolean; splits?: number[]; eps?: number; noDx?: boolean }

export function wasmBackward(dy: Float32Array, x: Float32Array, sh: Shape, o: BOpts = {}): Bwd {
  const { N, C, S, G } = sh, R = N * G;
  const tdy = T(dy), tx = T(x), tw = o.w ? T(o.w) : null, tm = o.mean ? T(o.mean) : null, tr = o.rstd ? T(o.rstd) : null;
  const tdx = o.inPlace ? tdy : Z(x.length), tparts = Z(4 * N * C), ttot = Z(4 * C), tdw = Z(C), tdb = Z(C);
  const splits = o.splits ?? [0, R];
  withWork(C, (work) => {
    for (let i = 0; i + 1 < splits.length; i++) {
      k().groupNormBackward(tdy.byteOffset, tx.byteOffset, p(tw), p(tm), p(tr), o.noDx ? 0 : tdx.byteOffset, tparts.byteOffset, work,
        splits[i]!, splits[i + 1]! - splits[i]!, C, S, G, o.eps ?? 1e-5, +(o.cl ?? false));
    }
  });
  k().foldBlocks(tparts.byteOffset, N, C, ttot.byteOffset, 1, tdw.byteOffset, tdb.byteOffset);
  const out = { dx: tdx.data.slice(), parts: f64(tparts, 2 * N * C).slice(), dw: tdw.data.slice(), db: tdb.data.slice() };
  freeAll();
  return out;
}

export function jsBackward(dy: Float32Array, x: Float32Array, sh: Shape, o: BOpts = {}): Bwd {
  const { N, C, S, G } = sh, R = N * G;
  const dyy = dy.slice(), dx = o.inPlace ? dyy : new Float32Array(x.length), parts = new Float64Array(2 * N * C);
  const splits = o.splits ?? [0, R];
  for (let i = 0; i + 1 < splits.length; i++) {
    groupNormBackwardJs(dyy, x, o.w ?? null, o.mean ?? null, o.rstd ?? null, o.noDx ? null : dx, parts, splits[i]!, splits[i + 1]! - splits[i]!, C, S, G, o.eps ?? 1e-5, o.cl ?? false);
  }
  const dw = new Float32Array(C), db = new Float32Array(C);
  foldBlocksJs(parts, 0, N, C, new Float64Array(2 * C), true, dw, db);
  return { dx, parts, dw, db };
}

