// The f64 row statistics of the kernel and of the JS twin, compared bit for bit in f64 (where
// a different accumulation order shows in the last bits; float32 outputs would mostly hide it).
import { describe, expect, it } from "vitest";
import { momentsJs } from "../src/fallback/lanes.js";
import { fillRows, rowKinds } from "./data.js";
import { runtimeFor } from "./harness.js";

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

describe("row statistics: kernel == fallback in f64", () => {
  for (const rms of [false, true]) {
    it(`${rms ? "mean square (RMSNorm)" : "mean and variance (LayerNorm)"} match on many D and row kinds, down to the last bit of the double`, () => {
      const rt = runtimeFor("tensor");
      const kinds = Object.keys(rowKinds);
      let compared = 0;
      for (const cols of [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 143, 144, 255, 256, 257, 768, 1000, 4097, 16400]) {
        const rows = kinds.length * 2;
        const x = fillRows(rows, cols, ["normal", ...kinds], cols * 7);
        const tx = rt.from(x);
        const out = rt.alloc(rows * 4); // rows * 2 doubles
        rt.kernels!.moments(tx.byteOffset, rows, cols, out.byteOffset, +rms);
        const got = new Float64Array(out.data.buffer, out.byteOffset, rows * 2);
        const want = new Float64Array(rows * 2);
        momentsJs(x, rows, cols, want, rms);
        for (let i = 0; i < rows * 2; i++) {
          expect(same(got[i]!, want[i]!), `${i & 1 ? "var" : "mean"} D=${cols} row ${i >> 1}: ${got[i]} vs ${want[i]}`).toBe(true);
          compared++;
        }
        tx.free();
        out.free();
      }
      expect(compared).toBeGreaterThan(1000);
    });
  }
});
