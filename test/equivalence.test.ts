// Bitwise equivalence: the wasm kernels (zero-copy tensors and staged plain arrays) against the
// JS fallback, for every op in the registry, on the shape sweep and on adversarial rows.
import { describe, expect, it } from "vitest";
import { ops } from "../src/registry.js";
import { fillRows, firstBitDifference, rowKinds } from "./data.js";
import { makeInputs, modes, run, variants, type Variant } from "./harness.js";
import type { OpEntry } from "../src/registry.js";

const smallD = Array.from({ length: 70 }, (_, i) => i + 1);
const largeD = [127, 128, 129, 255, 256, 257, 768, 1000, 1023, 1024, 1025, 4096, 4097, 16384];
const adversarial = Object.keys(rowKinds);

function rowsFor(cols: number): number[] {
  return cols <= 70 ? [0, 1, 3, 8] : cols <= 1025 ? [1, 5, 64] : [1, 3];
}

/** Runs every mode and asserts each output is bitwise equal to the JS fallback's. */
function assertEquivalent(op: OpEntry, cols: number, rowData: Float32Array, v: Variant, seed: number, eps = 1e-5): void {
  const inputs = makeInputs(op, rowData.length / cols, cols, rowData, v, seed);
  const before = Object.fromEntries(Object.entries(inputs).map(([k, a]) => [k, a?.slice()]));
  const results = modes.map((m) => run(op, m, cols, inputs, v, eps));
  const [js, ...others] = results;
  for (const [i, r] of others.entries()) {
    for (const name of Object.keys(js!)) {
      const at = firstBitDifference(js![name]!, r[name]!);
      if (at >= 0) {
        expect.fail(`${op.name} D=${cols} ${v.label} mode=${modes[i + 1]} output ${name}[${at}]: js ${js![name]![at]} vs ${r[name]![at]}`);
      }
    }
  }
  for (const [k, a] of Object.entries(inputs)) if (a) expect(firstBitDifference(a, before[k]!), `input ${k} modified`).toBe(-1);
}

for (const op of ops) {
  describe(`${op.name}: wasm == js, bit for bit`, () => {
    const vs = variants(op);
    it("every D from 1 to 70, rows 0/1/3/8, every option combination", () => {
      for (const cols of smallD) {
        for (const rows of rowsFor(cols)) {
          const x = fillRows(rows, cols, ["normal"], cols * 31 + rows);
          for (const v of vs) assertEquivalent(op, cols, x, v, cols + rows);
        }
      }
    });
    it("large and boundary D, including multi-chunk staging", () => {
      for (const cols of largeD) {
        for (const rows of rowsFor(cols)) {
          const x = fillRows(rows, cols, ["normal", "offset40000"], cols + rows);
          for (const v of vs) if (v.present.size === 0 || v.present.size === vs.at(-1)!.present.size) assertEquivalent(op, cols, x, v, cols);
        }
      }
    });
    it("adversarial rows: constant, offsets, denormals, 1e18, NaN and +-Inf anywhere", () => {
      for (const cols of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 768, 1025]) {
        const x = fillRows(adversarial.length, cols, adversarial, cols);
        for (const v of vs) assertEquivalent(op, cols, x, v, cols);
      }
    });
    it("eps values: 0, tiny, default, large", () => {
      const x = fillRows(6, 33, ["normal", "constant", "denormal", "offset1e6"], 5);
      for (const eps of [0, 1e-12, 1e-5, 0.1, 1e3]) for (const v of vs) assertEquivalent(op, 33, x, v, 1, eps);
    });
  });
}
