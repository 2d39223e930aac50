// The f64 row statistics of the kernel and of the JS twin, compared bit for bit in f64 (where
// a different accumulation order shows in the last bits; float32 outputs would mostly hide it).
import { describe, expect, it } from "vitest";
import { moments, rowMoments } from "../src/fallback/lanes.js";
import { fillRows, rowKinds } from "./data.js";
import { runtimeFor } from "./harness.js";

describe("row statistics: kernel == fallback in f64", () => {
  it("matches on many D and row kinds, down to the last bit of the double", () => {
    const rt = runtimeFor("tensor");
    const kinds = Object.keys(rowKinds);
    let compared = 0;
    for (const cols of [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 768, 1000, 4097]) {
      const rows = kinds.length * 2;
      const x = fillRows(rows, cols, ["normal", ...kinds], cols * 7);
      const tx = rt.from(x);
      const out = rt.alloc(rows * 4); // rows * 2 doubles
      rt.kernels!.moments(tx.byteOffset, rows, cols, out.byteOffset);
      const got = new Float64Array(out.data.buffer, out.byteOffset, rows * 2);
      for (let r = 0; r < rows; r++) {
        rowMoments(x, r * cols, cols, 1 / cols);
        expect(Object.is(got[2 * r], moments.mean) || (Number.isNaN(got[2 * r]) && Number.isNaN(moments.mean)), `mean D=${cols} row ${r}: ${got[2 * r]} vs ${moments.mean}`).toBe(true);
        expect(Object.is(got[2 * r + 1], moments.variance) || (Number.isNaN(got[2 * r + 1]) && Number.isNaN(moments.variance)), `var D=${cols} row ${r}: ${got[2 * r + 1]} vs ${moments.variance}`).toBe(true);
        compared++;
      }
      tx.free();
      out.free();
    }
    expect(compared).toBeGreaterThan(500);
  });
});
