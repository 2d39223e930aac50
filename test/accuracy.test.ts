// Accuracy against the float64 reference, for every op in the registry.
// Plain (no weight/bias): |y - ref| <= op.accuracy absolute on N(0,1) rows, and <= 2.5 ulp(ref)
// for every finite adversarial row whose output is a normal float32.
// With weight and bias: |y - ref| <= 6 * 2^-24 * (|ref - bias| + |bias|): the normalised value's
// <= 2.5 ulp carried through the weight, plus one rounding for each affine step
// (cancellation between u*w and bias can make y itself tiny, so ulp(y) is the wrong yardstick).
import { describe, expect, it } from "vitest";
import { ops } from "../src/registry.js";
import { fillRows } from "./data.js";
import { makeInputs, reference, run, variants } from "./harness.js";

const ulpOf = (v: number): number => 2 ** (Math.max(Math.floor(Math.log2(Math.abs(v))), -126) - 23);
const finiteKinds = ["normal", "offset40000", "offset1e6", "negOffset", "near1e18", "huge1e18", "tiny", "outlierFirst", "outlierLast", "alternating", "constant"];

for (const op of ops) {
  describe(`${op.name}: accuracy vs float64`, () => {
    const all = variants(op).filter((v) => !v.inPlace);
    const plain = all.find((v) => v.present.size === 0)!;
    const affine = all.find((v) => v.present.has("weight") && v.present.has("bias") && !v.present.has("mean"));

    it(`N(0,1) rows, D up to 16384: max abs error <= ${op.accuracy}`, () => {
      let worst = 0;
      for (const cols of [1, 2, 3, 7, 8, 64, 100, 768, 1024, 4096, 16384]) {
        const rows = Math.max(2, Math.min(256, (1 << 19) / cols | 0));
        const inputs = makeInputs(op, rows, cols, fillRows(rows, cols, ["normal"], cols), plain, 1);
        const got = run(op, "tensor", cols, inputs, plain, 1e-5);
        const ref = reference(op, cols, inputs, plain, 1e-5);
        for (const name of Object.keys(got)) {
          const g = got[name]!, r = ref[name]!;
          for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - r[i]!));
        }
      }
      console.log(`${op.name}: max abs error on N(0,1) rows ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(op.accuracy);
    });

    it("adversarial finite rows: <= 2.5 ulp of the reference (normal-range outputs)", () => {
      let worstUlps = 0;
      for (const cols of [3, 17, 768, 4097]) {
        const rows = finiteKinds.length;
        const inputs = makeInputs(op, rows, cols, fillRows(rows, cols, finiteKinds, cols + 3), plain, 2);
        const g = run(op, "tensor", cols, inputs, plain, 1e-5)[op.outputs[0]!.name]!;
        const r = reference(op, cols, inputs, plain, 1e-5)[op.outputs[0]!.name]!;
        for (let i = 0; i < g.length; i++) {
          if (Math.abs(r[i]!) < 2 ** -126) { expect(Math.abs(g[i]! - r[i]!)).toBeLessThan(2 ** -120); continue; }
          const u = Math.abs(g[i]! - r[i]!) / ulpOf(r[i]!);
          if (u > worstUlps) worstUlps = u;
        }
      }
      console.log(`${op.name}: worst error on adversarial rows ${worstUlps.toFixed(2)} ulp`);
      expect(worstUlps).toBeLessThanOrEqual(2.5);
    });

    it.runIf(affine)("with weight and bias: within 6 * 2^-24 of the affine terms", () => {
      let worst = 0;
      for (const cols of [5, 64, 768, 4096, 16384]) {
        const rows = Math.max(2, Math.min(128, (1 << 18) / cols | 0));
        const inputs = makeInputs(op, rows, cols, fillRows(rows, cols, ["normal", "offset1e6", "near1e18"], cols), affine!, 3);
        const g = run(op, "tensor", cols, inputs, affine!, 1e-5)[op.outputs[0]!.name]!;
        const r = reference(op, cols, inputs, affine!, 1e-5)[op.outputs[0]!.name]!;
        const b = inputs.bias!;
        for (let i = 0; i < g.length; i++) {
          const bj = b[i % cols]!;
          const scale = 2 ** -24 * (Math.abs(r[i]! - bj) + Math.abs(bj));
          worst = Math.max(worst, Math.abs(g[i]! - r[i]!) / scale);
        }
      }
      console.log(`${op.name}: affine error <= ${worst.toFixed(2)} x 2^-24 (|y-b|+|b|)`);
      expect(worst).toBeLessThanOrEqual(6);
    });
  });
}
