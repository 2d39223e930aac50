// GroupNorm / InstanceNorm kernels (assembly/groupNorm.ts) called directly, against their JS twins
// (src/fallback/groupNorm.ts, bit for bit), against each other across layouts (channels-last ==
// NCHW, bit for bit), across row splits (as threads split them), against the float64 reference
// (src/reference/groupNorm.ts) and, for the backward, against finite differences.
// Accuracy bounds asserted (units of 2^-24 x the reference's scale; scales in the reference file):
//   y: <= 4 (scale (|xhat| + sigma rstd) |w| + |b|, LayerNorm's); mean per group: <= 2 (scale
//   |mean| + sigma); rstd per group: <= 6 (scale |ref|; the f32 sum of squares, as LayerNorm's);
//   dx: <= 4 (scale rstd (|g| + mean|g| + |xhat| mean|g xhat|)); dweight <= 2, dbias <= 1 (scale sum|.|).
// (Measured worst: y 1.80, mean 0.83, rstd 1.44, dx 2.61, dweight 1.62, dbias 0.58.)
import { describe, expect, it } from "vitest";
import { bnFinishJs, bnStatsJs } from "../src/fallback/batchNorm.js";
import { groupNormWorkBytes, instanceNormRunningUpdate } from "../src/fallback/groupNorm.js";
import { groupNormBackwardReference, groupNormReference, instanceNormReference } from "../src/reference/groupNorm.js";
import { fillRows, firstBitDifference, normal } from "./data.js";
import { diff64, f64, freeAll, jsBackward, jsForward, k, T, transpose, wasmBackward, wasmForward, Z, type Fwd } from "./groupNorm-harness.js";

function expectSameFwd(a: Fwd, b: Fwd, label: string, layoutOf?: (y: Float32Array) => Float32Array): void {
  expect(firstBitDifference(layoutOf ? layoutOf(a.y) : a.y, b.y), `y ${label}`).toBe(-1);
  expect(firstBitDifference(a.mean, b.mean), `mean ${label}`).toBe(-1);
  expect(firstBitDifference(a.rstd, b.rstd), `rstd ${label}`).toBe(-1);
  expect(diff64(a.stats, b.stats), `stats ${label}`).toBe(-1);
}

// Adversarial kinds, one per (sample, group) row, rotating with the case number.
const kinds = ["normal", "offset40000", "constant", "near1e18", "huge1e18", "denormal", "denormalMixed", "nanMiddle", "posInf",
  "negInfFirst", "zeros", "negZeros", "tiny", "outlierFirst", "alternating", "wideRange", "mixed", "sprinkled", "negOffset", "offset1e6"];
const finiteKinds = ["normal", "offset40000", "offset1e6", "negOffset", "near1e18", "huge1e18", "tiny", "outlierFirst", "outlierLast", "alternating", "constant"];
const rot = (all: string[], i: number) => [...all.slice(i % all.length), ...all.slice(0, i % all.length)];

const channelCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65];
const spatial = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 63, 64, 65];
function groupCounts(C: number): number[] {
  const ds = [1, C];
  for (let d = 2; d < C; d++) if (C % d === 0) { ds.push(d); break; }
  return [...new Set(ds)];
}

describe("groupNorm kernel == JS twin, bit for bit", () => {
  it("every C in 1..9, 15-17, 31-33, 63-65 x S around the SIMD width x G in {1, smallest divisor, C}, both layouts, adversarial groups, affine or not", () => {
    let n = 0;
    for (const C of channelCounts) for (const S of spatial) for (const G of groupCounts(C)) {
      const sh = { N: 2, C, S, G };
      const x = fillRows(2 * G, (C / G) * S, rot(kinds, n), n);
      const affine = n % 3 !== 2;
      const o = { w: affine ? normal(C, n + 1, 0.5, 1) : null, b: n % 3 === 0 ? normal(C, n + 2) : null };
      for (const cl of [false, true]) {
        const xin = cl ? transpose(x, 2, C, S) : x;
        expectSameFwd(wasmForward(xin, sh, { ...o, cl }), jsForward(xin, sh, { ...o, cl }), `C=${C} S=${S} G=${G} cl=${cl}`);
      }
      n++;
    }
    expect(n).toBeGreaterThan(500);
  });

  it("channels-last gives the bits of NCHW (y transposed, mean, rstd, f64 stats), wasm and JS", () => {
    let n = 0;
    for (const C of channelCounts) for (const S of spatial) for (const G of groupCounts(C)) {
      if ((n++ & 1) === 1 && C * S > 200) continue;
      const sh = { N: 3, C, S, G };
      const x = fillRows(3 * G, (C / G) * S, rot(kinds, n), 100 + n);
      const o = { w: normal(C, n, 0.5, 1), b: normal(C, n + 5) };
      const nchw = wasmForward(x, sh, o);
      const cl = wasmForward(transpose(x, 3, C, S), sh, { ...o, cl: true });
      expectSameFwd(cl, nchw, `wasm C=${C} S=${S} G=${G}`, (y) => transpose(y, 3, C, S, true));
      const jcl = jsForward(transpose(x, 3, C, S), sh, { ...o, cl: true });
      expectSameFwd(jcl, nchw, `js C=${C} S=${S} G=${G}`, (y) => transpose(y, 3, C, S, true));
    }
  });

  it("large shapes ([1, 320, 64x64] G=32, [2, 64, 56x56] instance) and channel strides that change the tile's block rows (C = 512, 1024; S a block multiple + 3), both layouts", () => {
    for (const sh of [{ N: 1, C: 320, S: 4096, G: 32 }, { N: 2, C: 64, S: 3136, G: 64 }, { N: 1, C: 512, S: 100, G: 32 }, { N: 2, C: 320, S: 131, G: 32 }, { N: 1, C: 1024, S: 35, G: 1024 }, { N: 2, C: 256, S: 150, G: 32 }, { N: 1, C: 128, S: 257, G: 4 }, { N: 2, C: 132, S: 130, G: 33 }]) {
      const x = fillRows(sh.N * sh.G, (sh.C / sh.G) * sh.S, ["normal", "offset40000", "near1e18", "tiny"], sh.C);
      const o = { w: normal(sh.C, 1, 0.5, 1), b: normal(sh.C, 2) };
      const nchw = wasmForward(x, sh, o);
      expectSameFwd(nchw, jsForward(x, sh, o), `NCHW ${JSON.stringify(sh)}`);
      const xc = transpose(x, sh.N, sh.C, sh.S);
      const cl = wasmForward(xc, sh, { ...o, cl: true });
      expectSameFwd(cl, jsForward(xc, sh, { ...o, cl: true }), `CL ${JSON.stringify(sh)}`);
      expectSameFwd(cl, nchw, `CL vs NCHW ${JSON.stringify(sh)}`, (y) => transpose(y, sh.N, sh.C, sh.S, true));
    }
  });

  it("S >= 128 (the f32 two-pass where C >= 16, the f64 one-pass below): per-channel adversarial kinds (second rounds, f64 fallbacks), C around the 16-channel tile, splits: wasm NCHW == wasm channels-last == JS, bit for bit", () => {
    const chKinds = ["normal", "headOffset", "outlierFirst", "constant", "offset40000", "zeros", "nanMiddle", "posInf", "negInfFirst", "denormal", "tiny", "huge1e18", "alternating", "outlierLast", "near1e18"];
    let n = 0;
    for (const C of [2, 3, 5, 15, 16, 17, 20, 31, 32, 33, 48, 65]) for (const S of [128, 129, 143, 144, 255, 256, 257, 300]) {
      if ((n++ % 3) !== 0 && C > 17) continue;
      const G = [1, C, C % 2 === 0 ? 2 : 1][n % 3]!, N = 2, R = N * G, sh = { N, C, S, G };
      const x = fillRows(N * C, S, rot(chKinds, n), 300 + n); // one kind per channel
      const o = { w: normal(C, n, 0.5, 1), b: n % 2 ? normal(C, n + 5) : null };
      const nchw = wasmForward(x, sh, o);
      expectSameFwd(jsForward(x, sh, o), nchw, `js C=${C} S=${S} G=${G}`);
      const xc = transpose(x, N, C, S), back = (y: Float32Array) => transpose(y, N, C, S, true);
      expectSameFwd(wasmForward(xc, sh, { ...o, cl: true }), nchw, `wasm cl C=${C} S=${S} G=${G}`, back);
      expectSameFwd(jsForward(xc, sh, { ...o, cl: true }), nchw, `js cl C=${C} S=${S} G=${G}`, back);
      const split = [0, 1, Math.max(1, R - 1), R].filter((v, i, a) => i === 0 || v > a[i - 1]!);
      expectSameFwd(wasmForward(xc, sh, { ...o, cl: true, splits: split }), nchw, `wasm cl split C=${C} S=${S} G=${G}`, back);
    }
    expect(n).toBeGreaterThan(90);
  });

  it("any split of the rows into calls (as threads split them) and y = x in place give the same bits", () => {
    for (const [C, S, G] of [[12, 9, 4], [10, 17, 5], [9, 33, 9], [6, 8, 1], [33, 5, 11], [2, 3, 2]] as const) {
      const N = 3, R = N * G, sh = { N, C, S, G };
      const x = fillRows(R, (C / G) * S, kinds, C * S);
      const o = { w: normal(C, 3, 0.5, 1), b: normal(C, 4) };
      for (const cl of [false, true]) {
        const xin = cl ? transpose(x, N, C, S) : x;
        const whole = wasmForward(xin, sh, { ...o, cl });
        const splits = [[0, 1, R], [0, R - 1, R], [0, 1, 2, 3, 4, R].filter((v, i, a) => v <= R && (v < R || i === a.length - 1)), [0, Math.floor(R / 2), R], Array.from({ length: R + 1 }, (_, i) => i)];
        for (const s of splits) {
          expectSameFwd(wasmForward(xin, sh, { ...o, cl, splits: s }), whole, `split ${s} C=${C} G=${G} cl=${cl}`);
          expectSameFwd(jsForward(xin, sh, { ...o, cl, splits: s }), whole, `js split ${s} C=${C} G=${G} cl=${cl}`);
        }
        expectSameFwd(wasmForward(xin, sh, { ...o, cl, inPlace: true }), whole, `in place C=${C} cl=${cl}`);
        expectSameFwd(jsForward(xin, sh, { ...o, cl, inPlace: true }), whole, `js in place C=${C} cl=${cl}`);
      }
    }
  });

  it("the JS work-size formula is the kernel's", () => {
    for (const C of [1, 2, 3, 31, 320, 2048]) expect(groupNormWorkBytes(C)).toBe(k().groupNormWorkBytes(C));
  });
});

describe("groupNorm semantics", () => {
  it("a group holding a NaN or an Inf is all NaN; the other groups keep the bits they have without it; a constant group gives exactly the bias", () => {
    const N = 2, C = 12, S = 10, G = 4, sh = { N, C, S, G }, Cg = 3, M = Cg * S;
    const w = normal(C, 1, 0.5, 1), b = normal(C, 2);
    for (const cl of [false, true]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const x = fillRows(N * G, M, ["normal"], 9);
        const clean = x.slice();
        x[1 * M + 7] = bad; // group 1 of sample 0
        x.fill(Math.fround(3.25), 2 * M, 3 * M); // group 2 of sample 0 constant
        clean.fill(Math.fround(3.25), 2 * M, 3 * M);
        const t = (a: Float32Array) => (cl ? transpose(a, N, C, S) : a);
        const back = (a: Float32Array) => (cl ? transpose(a, N, C, S, true) : a);
        for (const f of [wasmForward, jsForward]) {
          const y = back(f(t(x), sh, { w, b, cl }).y), y0 = back(f(t(clean), sh, { w, b, cl }).y);
          for (let i = 0; i < y.length; i++) {
            const row = Math.floor(i / M), c = Math.floor(i / S) % C;
            if (row === 1) expect(y[i], `bad group ${i}`).toBeNaN();
            else if (row === 2) expect(y[i], `constant group ${i}`).toBe(b[c]);
            else expect(Object.is(y[i], y0[i]), `other group ${i}`).toBe(true);
          }
          // Without bias a constant group is exactly zero.
          const z = back(f(t(clean), sh, { w, cl }).y);
          for (let i = 2 * M; i < 3 * M; i++) expect(z[i]).toBe(0);
        }
      }
    }
  });
});

/** Worst error of got vs ref in units of 2^-24 * scale (scale defaults to |ref|). */
function worstUnits(got: ArrayLike<number>, ref: ArrayLike<number>, scale?: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < got.length; i++) {
    const s = scale ? scale[i]! : Math.abs(ref[i]!);
    const d = Math.abs(got[i]! - ref[i]!);
    e = Math.max(e, d === 0 ? 0 : d / (2 ** -24 * s));
  }
  return e;
}

describe("groupNorm accuracy vs float64", () => {
  it("y <= 4, mean <= 2, rstd <= 6 (units of 2^-24 x scale) on finite adversarial groups, many shapes, both layouts", () => {
    let worst = { y: 0, mean: 0, rstd: 0 };
    let n = 0;
    for (const [N, C, S, G] of [[2, 32, 64, 8], [3, 17, 33, 1], [2, 64, 9, 64], [1, 320, 256, 32], [4, 6, 65, 3], [2, 9, 1, 3], [2, 8, 4096, 2]] as const) {
      const sh = { N, C, S, G };
      const x = fillRows(N * G, (C / G) * S, rot(finiteKinds, n), n + 1);
      const w = normal(C, n + 2, 0.5, 1), b = normal(C, n + 3);
      const ry = new Float64Array(x.length), rm = new Float64Array(N * G), rr = new Float64Array(N * G), sc = new Float64Array(x.length);
      groupNormReference(x, w, b, ry, rm, rr, N, C, S, G, 1e-5, false, sc);
      for (const cl of [false, true]) {
        const got = wasmForward(cl ? transpose(x, N, C, S) : x, sh, { w, b, cl });
        const y = cl ? transpose(got.y, N, C, S, true) : got.y;
        const msc = Array.from(rm, (m, r) => Math.abs(m) + Math.sqrt(Math.max(0, 1 / rr[r]! ** 2 - 1e-5)));
        worst = { y: Math.max(worst.y, worstUnits(y, ry, sc)), mean: Math.max(worst.mean, worstUnits(got.mean, rm, msc)), rstd: Math.max(worst.rstd, worstUnits(got.rstd, rr)) };
      }
      n++;
    }
    console.log(`groupNorm worst units: y ${worst.y.toFixed(2)}, mean ${worst.mean.toFixed(2)}, rstd ${worst.rstd.toFixed(2)}`);
    expect(worst.y).toBeLessThanOrEqual(4);
    expect(worst.mean).toBeLessThanOrEqual(2);
    expect(worst.rstd).toBeLessThanOrEqual(6);
  });
});

describe("instanceNorm (G = C) and its running statistics", () => {
  it("running update from the kernel's f64 stats matches the float64 reference within 1 ulp of float32; normalised output <= 4 units", () => {
    for (const [N, C, S] of [[8, 16, 49], [3, 5, 7], [1, 4, 2]] as const) {
      const x = fillRows(N * C, S, finiteKinds, N + C + S);
      const rm0 = normal(C, 1), rv0 = normal(C, 2).map(Math.abs), w = normal(C, 3, 0.5, 1), b = normal(C, 4);
      for (const cl of [false, true]) {
        const got = wasmForward(cl ? transpose(x, N, C, S) : x, { N, C, S, G: C }, { w, b, cl });
        const rm = rm0.slice(), rv = rv0.slice();
        instanceNormRunningUpdate(got.stats, N, C, S, 0.1, rm, rv);
        const refM = Float64Array.from(rm0), refV = Float64Array.from(rv0), ry = new Float64Array(x.length);
        instanceNormReference(x, w, b, refM, refV, true, 0.1, ry, N, C, S, 1e-5);
        expect(worstUnits(rm, refM, Array.from(refM, (v, c) => Math.max(Math.abs(v), Math.abs(rm0[c]!))))).toBeLessThanOrEqual(1.5);
        expect(worstUnits(rv, refV)).toBeLessThanOrEqual(1.5);
        const sc = new Float64Array(x.length);
        groupNormReference(x, w, b, new Float64Array(x.length), null, null, N, C, S, C, 1e-5, false, sc);
        expect(worstUnits(cl ? transpose(got.y, N, C, S, true) : got.y, ry, sc)).toBeLessThanOrEqual(4);
      }
    }
  });
});

describe("groupNormBackward kernel", () => {
  it("== JS twin bit for bit (dx, f64 per-sample partials, folded dweight/dbias), both layouts, saved or recomputed statistics, weight or not", () => {
    let n = 0;
    for (const C of [1, 2, 3, 5, 8, 9, 16, 17, 32, 33, 64]) for (const S of [1, 3, 7, 8, 9, 16, 17, 33, 64, 65]) for (const G of groupCounts(C)) {
      const N = 3, sh = { N, C, S, G };
      const x = fillRows(N * G, (C / G) * S, rot(finiteKinds, n), n), dy = fillRows(N * G, (C / G) * S, rot(["normal", "wideRange", "tiny", "huge1e18"], n), n + 7);
      const w = n % 2 ? normal(C, n, 0.5, 1) : null;
      const saved = n % 3 === 0 ? jsForward(x, sh, { w }) : null;
      for (const cl of [false, true]) {
        const t = (a: Float32Array) => (cl ? transpose(a, N, C, S) : a);
        const o = { w, mean: saved?.mean ?? null, rstd: saved?.rstd ?? null, cl };
        const a = wasmBackward(t(dy), t(x), sh, o), b = jsBackward(t(dy), t(x), sh, o);
        const label = `C=${C} S=${S} G=${G} cl=${cl} saved=${!!saved} w=${!!w}`;
        expect(firstBitDifference(a.dx, b.dx), `dx ${label}`).toBe(-1);
        expect(diff64(a.parts, b.parts), `parts ${label}`).toBe(-1);
        expect(firstBitDifference(a.dw, b.dw), `dw ${label}`).toBe(-1);
        expect(firstBitDifference(a.db, b.db), `db ${label}`).toBe(-1);
        if (cl) {
          const ref = wasmBackward(dy, x, sh, { ...o, cl: false });
          expect(firstBitDifference(transpose(a.dx, N, C, S, true), ref.dx), `dx CL vs NCHW ${label}`).toBe(-1);
          expect(diff64(a.parts, ref.parts), `parts CL vs NCHW ${label}`).toBe(-1);
        }
      }
      n++;
    }
    expect(n).toBeGreaterThan(150);
  });

  it("== twin and == NCHW at channel strides that change the tile's block rows (C = 512, 1024)", () => {
    for (const sh of [{ N: 1, C: 512, S: 37, G: 32 }, { N: 1, C: 1024, S: 35, G: 1024 }, { N: 2, C: 320, S: 131, G: 32 }]) {
      const { N, C, S, G } = sh;
      const x = fillRows(N * G, (C / G) * S, finiteKinds, C), dy = normal(x.length, S), w = normal(C, 1, 0.5, 1);
      const nchw = wasmBackward(dy, x, sh, { w });
      const cl = wasmBackward(transpose(dy, N, C, S), transpose(x, N, C, S), sh, { w, cl: true });
      const js = jsBackward(transpose(dy, N, C, S), transpose(x, N, C, S), sh, { w, cl: true });
      expect(firstBitDifference(cl.dx, js.dx), `dx twin ${C}`).toBe(-1);
      expect(firstBitDifference(transpose(cl.dx, N, C, S, true), nchw.dx), `dx layouts ${C}`).toBe(-1);
      expect(diff64(cl.parts, nchw.parts), `parts layouts ${C}`).toBe(-1);
    }
  });

  it("without dx (dweight/dbias only) the partials are unchanged and dx is not written", () => {
    const sh = { N: 2, C: 6, S: 9, G: 3 };
    const x = fillRows(6, 18, finiteKinds, 5), dy = normal(x.length, 6), w = normal(6, 7, 0.5, 1);
    for (const cl of [false, true]) {
      const full = wasmBackward(dy, x, sh, { w, cl });
      for (const r of [wasmBackward(dy, x, sh, { w, cl, noDx: true }), jsBackward(dy, x, sh, { w, cl, noDx: true })]) {
        expect(diff64(r.parts, full.parts), `parts cl=${cl}`).toBe(-1);
        expect(r.dx.every((v) => v === 0), `dx untouched cl=${cl}`).toBe(true);
      }
    }
  });

  it("row splits and dx = dy in place give the same bits", () => {
    for (const [C, S, G] of [[12, 9, 4], [9, 33, 9], [10, 17, 5], [2, 3, 2]] as const) {
      const N = 3, R = N * G, sh = { N, C, S, G };
      const x = fillRows(R, (C / G) * S, finiteKinds, C), dy = normal(x.length, S), w = normal(C, 1, 0.5, 1);
      for (const cl of [false, true]) {
        const whole = wasmBackward(dy, x, sh, { w, cl });
        for (const s of [[0, 1, R], [0, R - 1, R], [0, 2, 5, R].filter((v, i, a) => v <= R && (v < R || i === a.length - 1)), Array.from({ length: R + 1 }, (_, i) => i)]) {
          for (const r of [wasmBackward(dy, x, sh, { w, cl, splits: s }), jsBackward(dy, x, sh, { w, cl, splits: s }), wasmBackward(dy, x, sh, { w, cl, splits: s, inPlace: true })]) {
            expect(firstBitDifference(r.dx, whole.dx), `dx split ${s} cl=${cl}`).toBe(-1);
            expect(diff64(r.parts, whole.parts), `parts split ${s} cl=${cl}`).toBe(-1);
          }
        }
      }
    }
  });

  it("accuracy vs float64: dx <= 4, dweight <= 2, dbias <= 1 (units of 2^-24 x scale)", () => {
    let worst = { dx: 0, dw: 0, db: 0 };
    for (const [N, C, S, G] of [[4, 32, 64, 8], [3, 17, 33, 1], [2, 64, 9, 64], [1, 320, 256, 32], [40, 6, 5, 3]] as const) {
      const sh = { N, C, S, G };
      const x = fillRows(N * G, (C / G) * S, finiteKinds, C + S), dy = normal(x.length, C), w = normal(C, 2, 0.5, 1);
      const rdx = new Float64Array(x.length), rdw = new Float64Array(C), rdb = new Float64Array(C);
      const sdx = new Float64Array(x.length), sdw = new Float64Array(C), sdb = new Float64Array(C);
      groupNormBackwardReference(dy, x, w, null, null, rdx, rdw, rdb, N, C, S, G, 1e-5, false, { dx: sdx, dweight: sdw, dbias: sdb });
      for (const cl of [false, true]) {
        const g = wasmBackward(cl ? transpose(dy, N, C, S) : dy, cl ? transpose(x, N, C, S) : x, sh, { w, cl });
        const dx = cl ? transpose(g.dx, N, C, S, true) : g.dx;
        worst = { dx: Math.max(worst.dx, worstUnits(dx, rdx, sdx)), dw: Math.max(worst.dw, worstUnits(g.dw, rdw, sdw)), db: Math.max(worst.db, worstUnits(g.db, rdb, sdb)) };
      }
    }
    expect(worst.dx).toBeLessThanOrEqual(4);
    expect(worst.dw).toBeLessThanOrEqual(2);
    expect(worst.db).toBeLessThanOrEqual(1);
  });

  it("matches central finite differences of sum(dy * groupNorm(x, w, b)) (float64 forward), for x, weight and bias", () => {
    const N = 2, C = 6, S = 5, G = 3, sh = { N, C, S, G };
    const x = normal(N * C * S, 1), dy = normal(x.length, 2), w = normal(C, 3, 0.5, 1), b = normal(C, 4);
    const loss = (xx: ArrayLike<number>, ww: ArrayLike<number>, bb: ArrayLike<number>) => {
      const y = new Float64Array(x.length);
      groupNormReference(xx, ww, bb, y, null, null, N, C, S, G, 1e-5);
      let l = 0;
      for (let i = 0; i < y.length; i++) l += dy[i]! * y[i]!;
      return l;
    };
    const fd = (v: ArrayLike<number>, i: number, f: (a: Float64Array) => number) => {
      const h = 1e-4 * Math.max(1, Math.abs(v[i]!));
      const a = Float64Array.from(v), c = Float64Array.from(v);
      a[i] = v[i]! + h; c[i] = v[i]! - h;
      return (f(a) - f(c)) / (2 * h);
    };
    for (const cl of [false, true]) {
      const g = wasmBackward(cl ? transpose(dy, N, C, S) : dy, cl ? transpose(x, N, C, S) : x, sh, { w, cl });
      const dx = cl ? transpose(g.dx, N, C, S, true) : g.dx;
      for (let i = 0; i < x.length; i++) expect(Math.abs(dx[i]! - fd(x, i, (a) => loss(a, w, b))), `dx[${i}]`).toBeLessThan(2e-5);
      for (let c = 0; c < C; c++) {
        expect(Math.abs(g.dw[c]! - fd(w, c, (a) => loss(x, a, b))), `dweight[${c}]`).toBeLessThan(2e-5);
        expect(Math.abs(g.db[c]! - fd(b, c, (a) => loss(x, w, a))), `dbias[${c}]`).toBeLessThan(2e-5);
      }
    }
  });
});

describe("bnFinish populationVar (ONNX BatchNormalization-15 training)", () => {
  it("updates the running variance with the biased batch variance when set, the unbiased one when omitted; kernel == twin", () => {
    const rows = 5, C = 7, inner = 9, M = rows * inner;
    const x = fillRows(rows * C, inner, finiteKinds, 3), rm0 = normal(C, 1), rv0 = normal(C, 2).map(Math.abs);
    const K = new Float32Array(C), total = new Float64Array(2 * C);
    bnStatsJs(x, rows, C, inner, K, total, new Float64Array(2 * C));
    for (const pop of [undefined, 0, 1]) {
      const tt = Z(4 * C), tK = T(K), trm = T(rm0), trv = T(rv0), tp = Z(20 * Math.ceil(C / 4)); // params: 80 bytes per 4 channels
      f64(tt, 2 * C).set(total);
      if (pop === undefined) k().bnFinish(tt.byteOffset, tK.byteOffset, M, C, 1e-5, 0.1, 1, trm.byteOffset, trv.byteOffset, 0, 0, tp.byteOffset, 0, 0);
      else k().bnFinish(tt.byteOffset, tK.byteOffset, M, C, 1e-5, 0.1, 1, trm.byteOffset, trv.byteOffset, 0, 0, tp.byteOffset, 0, 0, pop);
      const rm = rm0.slice(), rv = rv0.slice(), params = new Float32Array(5 * C);
      bnFinishJs(total, K, M, C, 1e-5, 0.1, true, rm, rv, null, null, params, null, null, pop === 1);
      expect(firstBitDifference(trv.data, rv), `runVar pop=${pop}`).toBe(-1);
      expect(firstBitDifference(trm.data, rm), `runMean pop=${pop}`).toBe(-1);
      for (let c = 0; c < C; c++) {
        let s = 0, q = 0;
        for (let n = 0; n < rows; n++) for (let i = 0; i < inner; i++) s += x[(n * C + c) * inner + i]!;
        for (let n = 0; n < rows; n++) for (let i = 0; i < inner; i++) q += (x[(n * C + c) * inner + i]! - s / M) ** 2;
        const v = (q / M) * (pop === 1 ? 1 : M / (M - 1));
        const want = 0.9 * rv0[c]! + 0.1 * v;
        expect(Math.abs(rv[c]! - want), `runVar[${c}] pop=${pop}`).toBeLessThanOrEqual(2 ** -23 * Math.abs(want));
      }
      freeAll();
    }
  });
});
