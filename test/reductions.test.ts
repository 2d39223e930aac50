// Every f64 reduction of the new kernels, compared with its JS twin bit for bit in f64 (float32
// outputs would hide most changes of accumulation order): the fused add's row statistics, the
// backward pass's row sums and its dweight/dbias column sums, and BatchNorm's channel sums.
// Also: splitting a call at block boundaries (as staging chunks and, later, threads do) leaves
// the folded f64 totals unchanged.
import { describe, expect, it } from "vitest";
import { bnStatsJs } from "../src/fallback/batchNorm.js";
import { BLOCK, momentsJs } from "../src/fallback/lanes.js";
import { normBackwardJs } from "../src/fallback/normBackward.js";
import { skipNormJs } from "../src/fallback/skipNorm.js";
import type { Tensor } from "../src/index.js";
import { fillRows, normal, rowKinds } from "./data.js";
import { runtimeFor } from "./harness.js";

const rt = runtimeFor("tensor");
const k = () => rt.kernels!;
const kinds = ["normal", ...Object.keys(rowKinds)];
// Column sums need finite rows (one NaN row makes every total NaN, and NaN == NaN hides any
// order), and a wide range of magnitudes: sums of float32 values within ~29 binary orders of
// magnitude are exact in f64, so their order could not show.
const finite = ["normal", "offset40000", "offset1e6", "negOffset", "near1e18", "huge1e18", "tiny", "outlierFirst", "outlierLast", "alternating", "constant", "denormalMixed", "wideRange"];
const wide = ["wideRange", "alternating", "normal", "huge1e18", "wideRange", "tiny", "outlierFirst", "denormalMixed"];
const f64 = (t: Tensor, n: number) => new Float64Array(t.data.buffer, t.byteOffset, n);
const live: Tensor[] = [];
const T = (a: ArrayLike<number>): Tensor => { const t = rt.from(a); live.push(t); return t; };
const Z = (floats: number): Tensor => { const t = rt.alloc(floats); live.push(t); return t; };
const freeAll = () => { for (const t of live.splice(0)) t.free(); };

/** Index of the first element whose f64 bits differ (NaNs equal), or -1. */
function diff(a: Float64Array, b: Float64Array): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return a.length === b.length ? -1 : a.length;
}

describe("f64 reductions: kernel == fallback, bit for bit", () => {
  it("fused residual add: row statistics of the sum (and they equal the unfused statistics)", () => {
    for (const rms of [false, true]) {
      for (const cols of [1, 3, 7, 8, 9, 17, 64, 127, 768, 1025]) {
        const rows = kinds.length;
        const x = fillRows(rows, cols, kinds, cols), skip = fillRows(rows, cols, wide, cols + 1), rb = normal(cols, 3);
        const tx = T(x), ts = T(skip), trb = T(rb), ty = Z(rows * cols), tsum = Z(rows * cols), tst = Z(4 * rows);
        k().skipNorm(tx.byteOffset, ts.byteOffset, rows, 0, trb.byteOffset, 0, 0, ty.byteOffset, tsum.byteOffset, 0, 0, tst.byteOffset, rows, cols, 1e-5, +rms);
        const want = new Float64Array(2 * rows), sum = new Float32Array(rows * cols);
        skipNormJs(x, skip, rows, 0, rb, null, null, new Float32Array(rows * cols), sum, null, null, want, rows, cols, 1e-5, rms);
        const got = f64(tst, 2 * rows);
        expect(diff(got, want), `rms=${rms} D=${cols}`).toBe(-1);
        const unfused = new Float64Array(2 * rows);
        momentsJs(sum, rows, cols, unfused, rms);
        expect(diff(got, unfused), `fused vs unfused statistics rms=${rms} D=${cols}`).toBe(-1);
        freeAll();
      }
    }
  });

  it("backward: row sums mean(g), mean(g * xhat) and the dweight/dbias column sums, for any split at block boundaries", () => {
    for (const rms of [false, true]) {
      for (const cols of [1, 5, 8, 9, 15, 16, 17, 33, 127, 128, 129, 256, 1000]) {
        for (const rows of [1, BLOCK - 1, BLOCK, 3 * BLOCK + 5]) {
          const x = fillRows(rows, cols, finite, cols + rows), dy = fillRows(rows, cols, wide, 7), w = normal(cols, 8, 0.5, 1);
          const tx = T(x), tdy = T(dy), tw = T(w), tdx = Z(rows * cols), tst = Z(4 * rows);
          const blocks = Math.ceil(rows / BLOCK);
          const parts = Z(4 * cols * blocks), total = Z(4 * cols);
          k().normBackward(tdy.byteOffset, tx.byteOffset, tw.byteOffset, 0, 0, tdx.byteOffset, parts.byteOffset, tst.byteOffset, rows, cols, 1e-5, +rms);
          k().foldBlocks(parts.byteOffset, blocks, cols, total.byteOffset, 1, 0, 0);
          const wantStats = new Float64Array(2 * rows), wantTotal = new Float64Array(2 * cols);
          normBackwardJs(dy, x, w, null, null, new Float32Array(rows * cols), wantTotal, new Float64Array(2 * cols), wantStats, rows, cols, 1e-5, rms);
          expect(diff(f64(tst, 2 * rows), wantStats), `row sums rms=${rms} D=${cols} rows=${rows}`).toBe(-1);
          expect(wantTotal.every(Number.isFinite), "finite column sums").toBe(true);
          expect(diff(f64(total, 2 * cols), wantTotal), `column sums rms=${rms} D=${cols} rows=${rows}`).toBe(-1);
          // The same rows in calls of one block each, folded call by call.
          const total2 = Z(4 * cols), part1 = Z(4 * cols);
          for (let r0 = 0; r0 < rows; r0 += BLOCK) {
            const m = Math.min(BLOCK, rows - r0), off = r0 * cols * 4;
            k().normBackward(tdy.byteOffset + off, tx.byteOffset + off, tw.byteOffset, 0, 0, 0, part1.byteOffset, 0, m, cols, 1e-5, +rms);
            k().foldBlocks(part1.byteOffset, 1, cols, total2.byteOffset, +(r0 === 0), 0, 0);
          }
          expect(diff(f64(total2, 2 * cols), wantTotal), `split column sums rms=${rms} D=${cols} rows=${rows}`).toBe(-1);
          freeAll();
        }
      }
    }
  });

  it("backward: rows whose f32 row sums overflow take the f64 sums (finite, and the same bits as the twin)", () => {
    // g = dy * w near 1e38: a block's f32 lane of g (or g * u) overflows, the f64 sums do not.
    for (const rms of [false, true]) {
      for (const cols of [16, 64, 200, 768]) {
        const rows = 3;
        const x = fillRows(rows, cols, ["normal", "outlierFirst", "wideRange"], cols), w = normal(cols, 9, 0.01, 1.5);
        const dy = normal(rows * cols, cols, 0.2).map((v, i) => (i % cols) % 3 === 0 ? 1.1e38 : v * 1e37);
        const tx = T(x), tdy = T(dy), tw = T(w), tdx = Z(rows * cols), tst = Z(4 * rows);
        k().normBackward(tdy.byteOffset, tx.byteOffset, tw.byteOffset, 0, 0, tdx.byteOffset, 0, tst.byteOffset, rows, cols, 1e-5, +rms);
        const wantStats = new Float64Array(2 * rows), wantDx = new Float32Array(rows * cols);
        normBackwardJs(dy, x, w, null, null, wantDx, null, null, wantStats, rows, cols, 1e-5, rms);
        expect(wantStats.every(Number.isFinite), `finite row sums rms=${rms} D=${cols}`).toBe(true);
        expect(diff(f64(tst, 2 * rows), wantStats), `row sums rms=${rms} D=${cols}`).toBe(-1);
        expect(diff(new Float64Array(tdx.data), new Float64Array(wantDx)), `dx rms=${rms} D=${cols}`).toBe(-1);
        freeAll();
      }
    }
  });

  it("BatchNorm: channel shifts and sums (NCHW planes and channels-last), for any split at block boundaries", () => {
    for (const [C, inner] of [[1, 1], [3, 1], [5, 1], [768, 1], [3, 2], [3, 7], [2, 64], [4, 1000]] as const) {
      for (const rows of [2, BLOCK, 2 * BLOCK + 3]) {
        const x = fillRows(rows * C, inner, inner > 1 ? finite : wide, C * inner + rows);
        const tx = T(x), K = Z(C), blocks = Math.ceil(rows / BLOCK), parts = Z(4 * C * blocks), total = Z(4 * C);
        k().bnStats(tx.byteOffset, rows, C, inner, K.byteOffset, parts.byteOffset, 1);
        k().foldBlocks(parts.byteOffset, blocks, C, total.byteOffset, 1, 0, 0);
        const wantK = new Float32Array(C), wantTotal = new Float64Array(2 * C);
        bnStatsJs(x, rows, C, inner, wantK, wantTotal, new Float64Array(2 * C));
        expect(Array.from(K.data)).toEqual(Array.from(wantK));
        expect(diff(f64(total, 2 * C), wantTotal), `C=${C} inner=${inner} rows=${rows}`).toBe(-1);
        expect(wantTotal.every(Number.isFinite), "finite channel sums").toBe(true);
        const total2 = Z(4 * C), part1 = Z(4 * C), K2 = Z(C);
        for (let r0 = 0; r0 < rows; r0 += BLOCK) {
          const m = Math.min(BLOCK, rows - r0);
          k().bnStats(tx.byteOffset + r0 * C * inner * 4, m, C, inner, K2.byteOffset, part1.byteOffset, +(r0 === 0));
          k().foldBlocks(part1.byteOffset, 1, C, total2.byteOffset, +(r0 === 0), 0, 0);
        }
        expect(diff(f64(total2, 2 * C), wantTotal), `split C=${C} inner=${inner} rows=${rows}`).toBe(-1);
        freeAll();
      }
    }
  });

  it("sums of -0 terms start from +0 in both (so they are +0, not -0)", () => {
    const rows = BLOCK + 3, cols = 9;
    const x = normal(rows * cols, 1), dy = new Float32Array(rows * cols).fill(-0);
    const tx = T(x), tdy = T(dy), parts = Z(4 * cols * 2), total = Z(4 * cols);
    k().normBackward(tdy.byteOffset, tx.byteOffset, 0, 0, 0, 0, parts.byteOffset, 0, rows, cols, 1e-5, 0);
    k().foldBlocks(parts.byteOffset, 2, cols, total.byteOffset, 1, 0, 0);
    const want = new Float64Array(2 * cols);
    normBackwardJs(dy, x, null, null, null, null, want, new Float64Array(2 * cols), null, rows, cols, 1e-5, false);
    expect(diff(f64(total, 2 * cols), want)).toBe(-1);
    expect(Object.is(want[cols], 0)).toBe(true);
    freeAll();
  });

  it("the kernels' reduction block equals the host's (chunk alignment depends on it)", () => {
    expect(k().BLOCK.value).toBe(BLOCK);
  });
});
