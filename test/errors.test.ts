// Bad input: the right error class, a message naming what was expected and what arrived, nothing
// written to any output, no input changed, and the library still works afterwards.
import { describe, expect, it } from "vitest";
import {
  batchNorm, BatchNorm, createRuntime, groupNorm, GroupNorm, instanceNorm, InstanceNorm, layerNorm, LayerNorm, layerNormBackward, rmsNorm, RMSNorm, rmsNormBackward,
  skipLayerNorm, skipRmsNorm, tensor, type Runtime,
} from "../src/index.js";
import { normal } from "./data.js";

const D = 4, ROWS = 3;

interface Case {
  name: string;
  error: typeof TypeError | typeof RangeError;
  message: RegExp;
  /** Builds arguments in `rt`; returns the call and the arrays that must stay untouched. */
  make(rt: Runtime): { call(): unknown; watch: Float32Array[] };
}

/** Fresh arguments; outputs prefilled with a sentinel. */
function args(rt: Runtime) {
  const x = normal(ROWS * D, 1), weight = normal(D, 2), bias = normal(D, 3);
  const out = new Float32Array(ROWS * D).fill(7), mean = new Float32Array(ROWS).fill(7), invStdDev = new Float32Array(ROWS).fill(7);
  const base = { weight, bias, out, mean, invStdDev, runtime: rt };
  return { x, weight, bias, out, mean, invStdDev, base, all: [x, weight, bias, out, mean, invStdDev] };
}

const cases: Case[] = [
  { name: "x is a plain array", error: TypeError, message: /x: expected a Float32Array or Tensor, got Array\(12\)/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm([...a.x] as never, D, a.base), watch: a.all }; } },
  { name: "x is a Float64Array", error: TypeError, message: /x: expected a Float32Array or Tensor, got Float64Array\(12\)/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(Float64Array.from(a.x) as never, D, a.base), watch: a.all }; } },
  { name: "x is undefined", error: TypeError, message: /x: expected a Float32Array or Tensor, got undefined/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(undefined as never, D, a.base), watch: a.all }; } },
  { name: "x length not a multiple of D", error: RangeError, message: /x length: expected a multiple of 5 .*got 12/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, 5, { runtime: rt, out: a.out }), watch: a.all }; } },
  { name: "normalizedShape empty", error: RangeError, message: /normalizedShape: expected at least one dimension, got an empty array/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, [], a.base), watch: a.all }; } },
  { name: "normalizedShape non-integer", error: RangeError, message: /normalizedShape: expected a positive integer, got number 2.5/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, 2.5, a.base), watch: a.all }; } },
  { name: "normalizedShape zero", error: RangeError, message: /normalizedShape: expected a positive integer, got number 0/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, 0, a.base), watch: a.all }; } },
  { name: "normalizedShape with a zero dim", error: RangeError, message: /normalizedShape\[1\]: expected a positive integer, got number 0/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, [2, 0], a.base), watch: a.all }; } },
  { name: "normalizedShape NaN", error: RangeError, message: /normalizedShape: expected a positive integer, got number NaN/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, NaN, a.base), watch: a.all }; } },
  { name: "normalizedShape a string", error: TypeError, message: /normalizedShape: expected a positive integer or an array of them, got string "4"/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, "4" as never, a.base), watch: a.all }; } },
  { name: "normalizedShape product too large", error: RangeError, message: /normalizedShape: expected a product of at most 2147483647 elements, got 4294967296/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, [65536, 65536], a.base), watch: a.all }; } },
  { name: "weight of the wrong length", error: RangeError, message: /weight length: expected 4 \(product of normalizedShape\), got 5/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, weight: normal(5, 9) }), watch: a.all }; } },
  { name: "bias of the wrong length", error: RangeError, message: /bias length: expected 4 \(product of normalizedShape\), got 3/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, bias: normal(3, 9) }), watch: a.all }; } },
  { name: "weight a plain array", error: TypeError, message: /weight: expected a Float32Array or Tensor, got Array\(4\)/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, weight: [1, 1, 1, 1] as never }), watch: a.all }; } },
  { name: "eps negative", error: RangeError, message: /eps: expected a finite number >= 0, got number -1/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, eps: -1 }), watch: a.all }; } },
  { name: "eps NaN", error: RangeError, message: /eps: expected a finite number >= 0, got number NaN/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, eps: NaN }), watch: a.all }; } },
  { name: "eps infinite", error: RangeError, message: /eps: expected a finite number >= 0, got number Infinity/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, eps: Infinity }), watch: a.all }; } },
  { name: "out of the wrong length", error: RangeError, message: /out length: expected 12 \(x length\), got 11/,
    make: (rt) => { const a = args(rt); const out = new Float32Array(11).fill(7); return { call: () => layerNorm(a.x, D, { ...a.base, out }), watch: [...a.all, out] }; } },
  { name: "mean of the wrong length", error: RangeError, message: /mean length: expected 3 \(rows of x\), got 4/,
    make: (rt) => { const a = args(rt); const mean = new Float32Array(4).fill(7); return { call: () => layerNorm(a.x, D, { ...a.base, mean }), watch: [...a.all, mean] }; } },
  { name: "invStdDev of the wrong length", error: RangeError, message: /invStdDev length: expected 3 \(rows of x\), got 2/,
    make: (rt) => { const a = args(rt); const v = new Float32Array(2).fill(7); return { call: () => layerNorm(a.x, D, { ...a.base, invStdDev: v }), watch: [...a.all, v] }; } },
  { name: "out aliasing weight", error: RangeError, message: /out: expected memory separate from weight, got the same memory/,
    make: (rt) => { const w = normal(D, 4), x = normal(D, 5); return { call: () => layerNorm(x, D, { weight: w, out: w, runtime: rt }), watch: [w, x] }; } },
  { name: "out overlapping bias", error: RangeError, message: /out: expected memory separate from bias, got an overlapping array/,
    make: (rt) => { const buf = new Float32Array(20).fill(7), x = normal(D * 2, 5); return { call: () => layerNorm(x, D, { bias: buf.subarray(0, D), out: buf.subarray(2, 2 + 2 * D), runtime: rt }), watch: [buf, x] }; } },
  { name: "out partly overlapping x", error: RangeError, message: /out: expected memory separate from x \(or exactly the same array, for in place\), got an overlapping array/,
    make: (rt) => { const buf = normal(ROWS * D + D, 6); return { call: () => layerNorm(buf.subarray(0, ROWS * D), D, { out: buf.subarray(D), runtime: rt }), watch: [buf] }; } },
  { name: "mean aliasing invStdDev", error: RangeError, message: /invStdDev: expected memory separate from mean, got the same memory/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, invStdDev: a.mean }), watch: a.all }; } },
  { name: "mean overlapping x", error: RangeError, message: /mean: expected memory separate from x, got an overlapping array/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, mean: a.x.subarray(0, ROWS) }), watch: a.all }; } },
  { name: "freed tensor as x", error: TypeError, message: /x: expected a live tensor, got a freed one/,
    make: (rt) => { const a = args(rt); const t = rt.from(a.x); t.free(); return { call: () => layerNorm(t, D, a.base), watch: a.all }; } },
  { name: "freed tensor as out", error: TypeError, message: /out: expected a live tensor, got a freed one/,
    make: (rt) => { const a = args(rt); const t = rt.alloc(ROWS * D); t.free(); return { call: () => layerNorm(a.x, D, { ...a.base, out: t }), watch: a.all }; } },
  { name: "tensor from another runtime", error: TypeError, message: /weight: expected a tensor of this runtime, got one from another runtime/,
    make: (rt) => { const a = args(rt); const other = createRuntime({ backend: rt.backend }); const w = other.from(a.weight); return { call: () => layerNorm(a.x, D, { ...a.base, weight: w }), watch: a.all }; } },
  { name: "view over another runtime's memory", error: TypeError, message: /bias: expected an array of this runtime, got a view over another runtime's memory/,
    make: (rt) => { const a = args(rt); const other = createRuntime({ backend: rt.backend }); const b = other.from(a.bias); return { call: () => layerNorm(a.x, D, { ...a.base, bias: b.data }), watch: a.all }; } },
  { name: "detached Float32Array", error: TypeError, message: /x: expected a Float32Array over live memory, got one whose ArrayBuffer is detached/,
    make: (rt) => { const a = args(rt); const x = a.x.slice(); structuredClone(x.buffer, { transfer: [x.buffer] }); return { call: () => layerNorm(x, D, a.base), watch: a.all.slice(1) }; } },
  { name: "stale view after memory growth", error: TypeError, message: /x: expected a Float32Array over live memory, got one whose ArrayBuffer is detached \(wasm memory grew\? read tensor.data again\)/,
    make: (rt) => { const a = args(rt); const t = rt.from(a.x); const stale = t.data; const big = rt.alloc(4 << 20); big.free(); return { call: () => layerNorm(stale, D, { ...a.base, runtime: undefined }), watch: a.all }; } },
  { name: "view over freed wasm memory", error: RangeError, message: /x: expected a view inside a live tensor, got a view over free or internal wasm memory/,
    make: (rt) => { const a = args(rt); const keep = rt.alloc(1); const t = rt.from(a.x); const v = t.data; t.free(); return { call: () => layerNorm(v, D, a.base), watch: a.all.slice(1).concat(keep.data) }; } },
];


/** Arguments of the newer ops: x is ROWS x D; per-channel vectors have D entries for [ROWS, D] batches. */
function more(rt: Runtime) {
  const x = normal(ROWS * D, 1), skip = normal(ROWS * D, 4), dy = normal(ROWS * D, 5), w = normal(D, 2), b = normal(D, 3);
  const out = new Float32Array(ROWS * D).fill(7), sum = new Float32Array(ROWS * D).fill(7);
  const rm = normal(D, 6), rv = new Float32Array(D).fill(1), dw = new Float32Array(D).fill(7), db = new Float32Array(D).fill(7);
  const mean = new Float32Array(ROWS).fill(7), inv = new Float32Array(ROWS).fill(7);
  return { x, skip, dy, w, b, out, sum, rm, rv, dw, db, mean, inv, rt, all: [x, skip, dy, w, b, out, sum, rm, rv, dw, db, mean, inv] };
}
const M = (f: (a: ReturnType<typeof more>) => () => unknown) => (rt: Runtime) => { const a = more(rt); return { call: f(a), watch: a.all }; };

cases.push(
  // rmsNorm
  { name: "rmsNorm: x a Float64Array", error: TypeError, message: /x: expected a Float32Array or Tensor, got Float64Array\(12\)/,
    make: M((a) => () => rmsNorm(Float64Array.from(a.x) as never, D, { runtime: a.rt })) },
  { name: "rmsNorm: weight of the wrong length", error: RangeError, message: /weight length: expected 4 \(product of normalizedShape\), got 3/,
    make: M((a) => () => rmsNorm(a.x, D, { weight: a.w.subarray(1), out: a.out, runtime: a.rt })) },
  { name: "rmsNorm: invStdDev of the wrong length", error: RangeError, message: /invStdDev length: expected 3 \(rows of x\), got 4/,
    make: M((a) => () => rmsNorm(a.x, D, { invStdDev: a.dw, out: a.out, runtime: a.rt })) },
  { name: "rmsNorm: out aliasing weight", error: RangeError, message: /out: expected memory separate from weight, got the same memory/,
    make: M((a) => () => rmsNorm(a.x.subarray(0, D), D, { weight: a.w, out: a.w, runtime: a.rt })) },
  { name: "rmsNorm: eps negative", error: RangeError, message: /eps: expected a finite number >= 0, got number -0.5/,
    make: M((a) => () => rmsNorm(a.x, D, { eps: -0.5, out: a.out, runtime: a.rt })) },
  // skipLayerNorm / skipRmsNorm
  { name: "skip of a length that is not whole rows", error: RangeError, message: /skip length: expected 12 \(x length\) or a whole number of rows of 4 that divides the 3 rows of x, got 5/,
    make: M((a) => () => skipLayerNorm(a.x, a.skip.subarray(0, 5), D, { out: a.out, runtime: a.rt })) },
  { name: "skip of rows that do not divide x's rows", error: RangeError, message: /skip length: expected 12 .*got 8/,
    make: M((a) => () => skipLayerNorm(a.x, a.skip.subarray(0, 8), D, { out: a.out, runtime: a.rt })) },
  { name: "skip missing", error: TypeError, message: /skip: expected a Float32Array or Tensor, got undefined/,
    make: M((a) => () => skipLayerNorm(a.x, undefined as never, D, { out: a.out, runtime: a.rt })) },
  { name: "out aliasing skip", error: RangeError, message: /out: expected memory separate from skip, got the same memory/,
    make: M((a) => () => skipLayerNorm(a.x, a.skip, D, { out: a.skip, runtime: a.rt })) },
  { name: "sum aliasing out", error: RangeError, message: /sum: expected memory separate from out, got the same memory/,
    make: M((a) => () => skipLayerNorm(a.x, a.skip, D, { out: a.out, sum: a.out, runtime: a.rt })) },
  { name: "sum partly overlapping x", error: RangeError, message: /sum: expected memory separate from x \(or exactly the same array, for in place\), got an overlapping array/,
    make: (rt) => { const buf = normal(ROWS * D + D, 9), skip = normal(ROWS * D, 4), out = new Float32Array(ROWS * D); return { call: () => skipLayerNorm(buf.subarray(0, ROWS * D), skip, D, { out, sum: buf.subarray(D), runtime: rt }), watch: [buf, skip, out] }; } },
  { name: "residualBias of the wrong length", error: RangeError, message: /residualBias length: expected 4 \(product of normalizedShape\), got 12/,
    make: M((a) => () => skipRmsNorm(a.x, a.skip, D, { residualBias: a.dy, out: a.out, runtime: a.rt })) },
  { name: "skipRmsNorm given a bias", error: TypeError, message: /bias: expected none \(skipRmsNorm has no bias after normalising; use residualBias for the sum\), got Float32Array\(4\)/,
    make: M((a) => () => skipRmsNorm(a.x, a.skip, D, { bias: a.b, out: a.out, runtime: a.rt } as never)) },
  { name: "skipRmsNorm given a mean output", error: TypeError, message: /mean: expected none \(RMSNorm has no mean\), got Float32Array\(3\)/,
    make: M((a) => () => skipRmsNorm(a.x, a.skip, D, { mean: a.mean, out: a.out, runtime: a.rt } as never)) },
  // backward
  { name: "backward: dy length not a multiple of D", error: RangeError, message: /dy length: expected a multiple of 5 \(product of normalizedShape\), got 12/,
    make: M((a) => () => layerNormBackward(a.dy, a.x, 5, { dx: a.out, runtime: a.rt })) },
  { name: "backward: x of another length than dy", error: RangeError, message: /x length: expected 12 \(dy length\), got 8/,
    make: M((a) => () => layerNormBackward(a.dy, a.x.subarray(0, 8), D, { dx: a.out, runtime: a.rt })) },
  { name: "backward: mean without invStdDev", error: TypeError, message: /mean and invStdDev: expected both \(saved by the forward\) or neither \(recomputed\), got only mean/,
    make: M((a) => () => layerNormBackward(a.dy, a.x, D, { mean: a.mean, dx: a.out, dweight: a.dw, dbias: a.db, runtime: a.rt })) },
  { name: "backward: dx aliasing x", error: RangeError, message: /dx: expected memory separate from x, got the same memory/,
    make: M((a) => () => layerNormBackward(a.dy, a.x, D, { dx: a.x, dweight: a.dw, dbias: a.db, runtime: a.rt })) },
  { name: "backward: dx partly overlapping dy", error: RangeError, message: /dx: expected memory separate from dy \(or exactly the same array, for in place\), got an overlapping array/,
    make: (rt) => { const buf = normal(ROWS * D + D, 9), x = normal(ROWS * D, 1); return { call: () => layerNormBackward(buf.subarray(0, ROWS * D), x, D, { dx: buf.subarray(D), dweight: null, dbias: null, runtime: rt }), watch: [buf, x] }; } },
  { name: "backward: dweight aliasing weight", error: RangeError, message: /dweight: expected memory separate from weight, got the same memory/,
    make: M((a) => () => layerNormBackward(a.dy, a.x, D, { weight: a.w, dx: a.out, dweight: a.w, dbias: a.db, runtime: a.rt })) },
  { name: "backward: dbias of the wrong length", error: RangeError, message: /dbias length: expected 4 \(product of normalizedShape\), got 3/,
    make: M((a) => () => layerNormBackward(a.dy, a.x, D, { dx: a.out, dweight: a.dw, dbias: a.mean, runtime: a.rt })) },
  { name: "backward: invStdDev of the wrong length", error: RangeError, message: /invStdDev length: expected 3 \(rows of dy\), got 4/,
    make: M((a) => () => rmsNormBackward(a.dy, a.x, D, { invStdDev: a.rv, dx: a.out, dweight: a.dw, runtime: a.rt })) },
  { name: "rmsNormBackward given dbias", error: TypeError, message: /dbias: expected none \(RMSNorm has no bias\), got Float32Array\(4\)/,
    make: M((a) => () => rmsNormBackward(a.dy, a.x, D, { dx: a.out, dbias: a.db, runtime: a.rt } as never)) },
  // batchNorm
  { name: "batchNorm: shape not an array", error: TypeError, message: /shape: expected an array of at least 2 dimensions, got number 12/,
    make: M((a) => () => batchNorm(a.x, 12 as never, { runningMean: a.rm, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: shape of rank 1", error: RangeError, message: /shape: expected at least 2 dimensions \(\[N, C, \.\.\.\]\), got 1/,
    make: M((a) => () => batchNorm(a.x, [12], { runningMean: a.rm, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: shape product differs from x length", error: RangeError, message: /x length: expected 8 \(product of shape \[2, 4\]\), got 12/,
    make: M((a) => () => batchNorm(a.x, [2, 4], { runningMean: a.rm, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: shape with a fractional dim", error: RangeError, message: /shape\[1\]: expected a non-negative integer, got number 1.5/,
    make: M((a) => () => batchNorm(a.x, [8, 1.5], { runningMean: a.rm, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: channelAxis out of range", error: RangeError, message: /channelAxis: expected an integer from -2 to 1, got number 2/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: 2, runningMean: a.rm, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: eval without runningMean", error: TypeError, message: /runningMean: expected a Float32Array or Tensor \(required unless training\), got undefined/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: runningVar of the wrong length", error: RangeError, message: /runningVar length: expected 4 \(channels\), got 3/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, runningMean: a.rm, runningVar: a.mean, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: weight of the wrong length (NCHW: C = shape[1])", error: RangeError, message: /weight length: expected 3 \(channels\), got 4/,
    make: M((a) => () => batchNorm(a.x, [1, ROWS, D], { weight: a.w, runningMean: a.mean, runningVar: a.inv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: momentum above 1", error: RangeError, message: /momentum: expected a number from 0 to 1, got number 1.5/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, training: true, momentum: 1.5, runningMean: a.rm, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: momentum NaN", error: RangeError, message: /momentum: expected a number from 0 to 1, got number NaN/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, training: true, momentum: NaN, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: training with one value per channel", error: RangeError, message: /x: expected more than 1 value per channel when training, got 1 \(shape \[1, 12\]\)/,
    make: M((a) => () => batchNorm(a.x, [1, 12], { training: true, out: a.out, runtime: a.rt })) },
  // A scalar of the wrong kind is a TypeError; a number out of range a RangeError (the rows above).
  { name: "eps a string", error: TypeError, message: /eps: expected a finite number >= 0, got string "1e-5"/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, D, { ...a.base, eps: "1e-5" as never }), watch: a.all }; } },
  { name: "eps a bigint", error: TypeError, message: /eps: expected a finite number >= 0, got bigint 1/,
    make: (rt) => { const a = args(rt); return { call: () => rmsNorm(a.x, D, { runtime: rt, out: a.out, eps: 1n as never }), watch: a.all }; } },
  { name: "normalizedShape element a string", error: TypeError, message: /normalizedShape\[1\]: expected a positive integer, got string "2"/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, [2, "2"] as never, a.base), watch: a.all }; } },
  { name: "normalizedShape a numeric string", error: TypeError, message: /normalizedShape: expected a positive integer or an array of them, got string "4"/,
    make: (rt) => { const a = args(rt); return { call: () => layerNorm(a.x, "4" as never, a.base), watch: a.all }; } },
  { name: "batchNorm: momentum a string", error: TypeError, message: /momentum: expected a number from 0 to 1, got string "0.1"/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, training: true, momentum: "0.1" as never, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: shape element a string", error: TypeError, message: /shape\[0\]: expected a non-negative integer, got string "3"/,
    make: M((a) => () => batchNorm(a.x, ["3", D] as never, { channelAxis: -1, training: true, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: channelAxis a string", error: TypeError, message: /channelAxis: expected an integer from -2 to 1, got string "last"/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: "last" as never, training: true, out: a.out, runtime: a.rt })) },
  { name: "groupNorm: numGroups a string", error: TypeError, message: /numGroups: expected a positive integer, got string "2"/,
    make: M((a) => () => groupNorm(a.x, [ROWS, D], "2" as never, { out: a.out, runtime: a.rt })) },
  { name: "groupNorm: channelAxis a string", error: TypeError, message: /channelAxis: expected 1 \(channels first\) or -1 \(channels last\), got string "last"/,
    make: M((a) => () => groupNorm(a.x, [1, ROWS, D], 3, { channelAxis: "last" as never, out: a.out, runtime: a.rt })) },
  // torch's checks on the number of values the statistics are taken over.
  { name: "instanceNorm: one spatial element, input statistics", error: RangeError, message: /x: expected more than 1 spatial element when using the input's statistics \(torch's instance_norm check\), got 1 \(shape \[4, 3, 1\]\)/,
    make: M((a) => () => instanceNorm(a.x, [4, 3, 1], { out: a.out, runtime: a.rt })) },
  { name: "instanceNorm: [N, C] (no spatial dims), input statistics", error: RangeError, message: /x: expected more than 1 spatial element .*got 1 \(shape \[4, 3\]\)/,
    make: M((a) => () => instanceNorm(a.x, [4, 3], { out: a.out, runtime: a.rt })) },
  { name: "groupNorm: N * (C / numGroups) * spatial = 1", error: RangeError, message: /x: expected more than 1 value in N \* \(C \/ numGroups\) \* spatial size \(torch's group_norm check\), got 1 \(shape \[1, 12, 1\]\)/,
    make: M((a) => () => groupNorm(a.x, [1, 12, 1], 12, { out: a.out, runtime: a.rt })) },
  { name: "batchNorm: training with runningMean only", error: TypeError, message: /runningMean and runningVar: expected both or neither, got only runningMean/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, training: true, runningMean: a.rm, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: training, runningVar aliasing runningMean", error: RangeError, message: /runningVar: expected memory separate from runningMean, got the same memory/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, training: true, runningMean: a.rm, runningVar: a.rm, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: training, runningMean aliasing weight", error: RangeError, message: /runningMean: expected memory separate from weight, got the same memory/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, training: true, weight: a.w, runningMean: a.w, runningVar: a.rv, out: a.out, runtime: a.rt })) },
  { name: "batchNorm: training not a boolean", error: TypeError, message: /training: expected a boolean, got number 1/,
    make: M((a) => () => batchNorm(a.x, [ROWS, D], { channelAxis: -1, training: 1 as never, out: a.out, runtime: a.rt })) },
);

for (const backend of ["wasm", "js"] as const) {
  describe(`errors (${backend} backend)`, () => {
    const rt = createRuntime({ backend });
    it.each(cases)("$name", (c) => {
      const { call, watch } = c.make(rt);
      const before = watch.map((a) => a.slice());
      let thrown: unknown;
      try { call(); } catch (e) { thrown = e; }
      expect(thrown, "expected a throw").toBeInstanceOf(c.error);
      expect((thrown as Error).message).toMatch(c.message);
      for (const [i, a] of watch.entries()) expect(Array.from(a), `argument ${i} changed`).toEqual(Array.from(before[i]!));
      // still works afterwards
      const x = normal(2 * D, 11);
      const y = layerNorm(x, D, { runtime: rt });
      expect(Number.isFinite(y[0]!)).toBe(true);
    });
  });
}

describe("LayerNorm module errors", () => {
  it("rejects bad construction and parameters, and use after dispose", () => {
    expect(() => new LayerNorm(0)).toThrow(RangeError);
    expect(() => new LayerNorm(4, { eps: -1 })).toThrow(/eps: expected a finite number >= 0, got number -1/);
    const ln = new LayerNorm(4, { bias: false });
    expect(() => { ln.bias = new Float32Array(4); }).toThrow(/bias: this LayerNorm has no bias/);
    expect(() => { ln.weight = new Float32Array(3); }).toThrow(/weight length: expected 4 \(product of normalizedShape\), got 3/);
    ln.dispose();
    expect(() => ln.forward(new Float32Array(4))).toThrow(/LayerNorm: expected a live module, got one that was disposed/);
  });

  it("parameter setters read the values once, whole, before writing anything", () => {
    const ln = new LayerNorm(3000);
    ln.weight = Array.from({ length: 3000 }, (_, i) => i);
    const before = ln.weight!.slice();
    // A length that changes on the second read, an element that throws half way.
    let reads = 0;
    const shifty = new Proxy([] as number[], { get: (_o, k) => (k === "length" ? (reads++ === 0 ? 3000 : 7) : 1) });
    ln.weight = shifty;
    expect(reads).toBe(1);
    expect(ln.weight!.every((v) => v === 1)).toBe(true);
    ln.weight = before;
    const failing = new Proxy([] as number[], { get: (_o, k) => { if (k === "length") return 3000; if (k === "2000") throw new Error("element 2000"); return -1; } });
    expect(() => { ln.weight = failing; }).toThrow("element 2000");
    expect(Array.from(ln.weight!)).toEqual(Array.from(before));
    // An element getter that grows memory: every value still lands in the parameter.
    const held: import("../src/index.js").Tensor[] = [];
    const growing = new Proxy([] as number[], { get: (_o, k) => { if (k === "length") return 3000; if (k === "1500") held.push(tensor(new Float32Array(1 << 22))); return 2; } });
    ln.weight = growing;
    expect(ln.weight!.every((v) => v === 2)).toBe(true);
    const sub = class extends Float32Array { override get length() { return 3; } };
    ln.weight = new sub(3000).fill(4); // its intrinsic length, not the override
    expect(ln.weight!.every((v) => v === 4)).toBe(true);
    for (const t of held) t.free();
    ln.dispose();
  });

  it("RMSNorm and BatchNorm modules reject bad construction, parameters and shapes", () => {
    expect(() => new RMSNorm([4, 0])).toThrow(/normalizedShape\[1\]: expected a positive integer, got number 0/);
    const rms = new RMSNorm(4, { elementwiseAffine: false });
    expect(() => { rms.weight = new Float32Array(4); }).toThrow(/weight: this RMSNorm has no weight/);
    rms.dispose();
    expect(() => new BatchNorm(0)).toThrow(/numFeatures: expected a positive integer, got number 0/);
    expect(() => new BatchNorm(3, { momentum: -0.1 })).toThrow(/momentum: expected a number from 0 to 1, got number -0.1/);
    const bn = new BatchNorm(3);
    expect(() => bn.forward(new Float32Array(8), [2, 4])).toThrow(/shape\[1\] \(channels\): expected 3 \(numFeatures\), got number 4/);
    expect(bn.numBatchesTracked).toBe(0);
    expect(() => { bn.runningVar = [1, 2]; }).toThrow(/runningVar length: expected 3 \(numFeatures\), got 2/);
    bn.dispose();
    expect(() => bn.forward(new Float32Array(6), [2, 3])).toThrow(/BatchNorm: expected a live module, got one that was disposed/);
  });

  it("module constructors check their options as the ops do: unknown keys (torch's spellings too), kinds, values", () => {
    const bad: [string, () => unknown, typeof TypeError | typeof RangeError, RegExp][] = [
      ["LayerNorm elementwise_affine", () => new LayerNorm(4, { elementwise_affine: false } as never), TypeError, /^LayerNorm: unknown option "elementwise_affine" \(did you mean "elementwiseAffine"\?\); expected one of eps, elementwiseAffine, bias, runtime$/],
      ["RMSNorm epsilon", () => new RMSNorm(4, { epsilon: 1e-6 } as never), TypeError, /^RMSNorm: unknown option "epsilon"; expected one of eps, elementwiseAffine, runtime$/],
      ["GroupNorm afine", () => new GroupNorm(2, 4, { afine: false } as never), TypeError, /^GroupNorm: unknown option "afine" \(did you mean "affine"\?\)/],
      ["BatchNorm track_running_stats", () => new BatchNorm(3, { track_running_stats: false } as never), TypeError, /^BatchNorm: unknown option "track_running_stats" \(did you mean "trackRunningStats"\?\)/],
      ["InstanceNorm momentun", () => new InstanceNorm(3, { momentun: 0.5 } as never), TypeError, /^InstanceNorm: unknown option "momentun" \(did you mean "momentum"\?\)/],
      ["LayerNorm elementwiseAffine a string", () => new LayerNorm(4, { elementwiseAffine: "false" as never }), TypeError, /^elementwiseAffine: expected a boolean, got string "false"/],
      ["BatchNorm affine a string", () => new BatchNorm(3, { affine: "no" as never }), TypeError, /^affine: expected a boolean, got string "no"/],
      ["InstanceNorm trackRunningStats 1", () => new InstanceNorm(3, { trackRunningStats: 1 as never }), TypeError, /^trackRunningStats: expected a boolean, got number 1/],
      ["InstanceNorm momentum null (no cumulative average, as torch)", () => new InstanceNorm(3, { momentum: null as never }), TypeError, /^momentum: expected a number from 0 to 1, got null/],
      ["LayerNorm eps null", () => new LayerNorm(4, { eps: null as never }), TypeError, /^eps: expected a finite number >= 0, got null/],
      ["GroupNorm channelAxis 0", () => new GroupNorm(2, 4, { channelAxis: 0 }), RangeError, /^channelAxis: expected 1 \(channels first\) or -1 \(channels last\), got number 0/],
      ["BatchNorm channelAxis a string", () => new BatchNorm(3, { channelAxis: "1" as never }), TypeError, /^channelAxis: expected an integer, got string "1"/],
      ["LayerNorm runtime not a Runtime", () => new LayerNorm(4, { runtime: {} as never }), TypeError, /^runtime: expected a Runtime, got Object/],
      ["options not an object", () => new LayerNorm(4, 5 as never), TypeError, /^LayerNorm options: expected an object, got number 5/],
    ];
    for (const [label, call, error, message] of bad) {
      let thrown: unknown;
      try { call(); } catch (e) { thrown = e; }
      expect(thrown, label).toBeInstanceOf(error);
      expect((thrown as Error).message, label).toMatch(message);
    }
    const bn = new BatchNorm(3);
    expect(() => bn.train("no" as never)).toThrow(/^mode: expected a boolean, got string "no"/);
    expect(bn.training).toBe(true);
    // Setters: every element a number, checked before anything is written.
    const ln = new LayerNorm(4);
    ln.weight = [1, 2, 3, 4];
    expect(() => { ln.weight = ["a", "b", "c", "d"] as never; }).toThrow(/^weight\[0\]: expected a number, got string "a"/);
    expect(() => { ln.bias = { length: 4 } as never; }).toThrow(/^bias\[0\]: expected a number, got undefined/);
    expect(Array.from(ln.weight!)).toEqual([1, 2, 3, 4]);
    expect(Array.from(ln.bias!)).toEqual([0, 0, 0, 0]);
    ln.dispose();
    bn.dispose();
  });
});
