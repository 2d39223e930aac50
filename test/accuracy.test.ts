// Accuracy against the float64 reference, for every op in the registry.
// - N(0,1) data, D up to 16384, default parameters: max abs error of "row" outputs <= op.accuracy
//   (outputs whose reference gives a scale, like dx, whose size grows with rstd: <= op.adversarial
//   in units of 2^-24 * scale instead).
// - Adversarial finite rows: error of the first output <= op.adversarial, in ulp of the reference,
//   or in units of 2^-24 * scale where the reference gives a scale (results that can cancel, e.g.
//   u * w + b, or the three terms of dx).
// - Every optional input present (affine terms, saved or running statistics): <= op.affine, same units.
// - Outputs that are reductions or per-row/per-channel statistics: <= op.reductions (default 2),
//   in units of 2^-24 * scale (default |ref|).
import { describe, expect, it } from "vitest";
import { defaultParams, ops, type OpEntry, type Params } from "../src/registry.js";
import { errorUnits, makeInputs, reference, run, variants, type Variant } from "./harness.js";

const finiteKinds = ["normal", "offset40000", "offset1e6", "negOffset", "near1e18", "huge1e18", "tiny", "outlierFirst", "outlierLast", "rareOutliers", "alternating", "constant"];

const units = errorUnits;

interface Errors { abs: number; scaled: number; main: number; stats: number }

function measure(op: OpEntry, rows: number, cols: number, kinds: readonly string[], v: Variant, seed: number, p: Params = defaultParams): Errors {
  const inputs = makeInputs(op, rows, cols, kinds, v, seed, p);
  const got = run(op, "tensor", cols, inputs, v, p);
  const { ref, scale } = reference(op, cols, inputs, v, p);
  const roleOf = (name: string) => [...op.outputs, ...op.inputs].find((a) => a.name === name)!.role;
  const main = op.outputs[0]!.name;
  const e: Errors = { abs: 0, scaled: 0, main: 0, stats: 0 };
  for (const name of Object.keys(got)) {
    const g = got[name]!, r = ref[name]!, s = scale[name];
    for (let i = 0; i < g.length; i++) {
      if (roleOf(name) === "row") {
        if (s) e.scaled = Math.max(e.scaled, units(g[i]!, r[i]!, s[i]));
        if (!s || op.absolute?.includes(name)) e.abs = Math.max(e.abs, Math.abs(g[i]! - r[i]!));
        if (name === main) e.main = Math.max(e.main, units(g[i]!, r[i]!, s?.[i]));
      } else {
        e.stats = Math.max(e.stats, units(g[i]!, r[i]!, s?.[i] ?? Math.abs(r[i]!)));
      }
    }
  }
  return e;
}

for (const op of ops) {
  describe(`${op.name}: accuracy vs float64`, () => {
    const all = variants(op).filter((v) => !v.inPlace && !v.broadcast);
    const outNames = op.outputs.filter((a) => a.optional).map((a) => a.name);
    const optionalInputs = op.inputs.filter((a) => a.optional).map((a) => a.name);
    const has = (v: Variant, names: string[]) => names.every((n) => v.present.has(n));
    // All outputs, no optional input / every optional input.
    const plain = all.find((v) => has(v, outNames) && v.present.size === outNames.length)!;
    const full = all.find((v) => has(v, outNames) && has(v, optionalInputs))!;
    const ok = (rows: number, cols: number) => op.accepts?.(rows, cols) ?? true;

    it(`N(0,1) data, D up to 16384: abs error <= ${op.accuracy} (outputs the reference scales: <= ${op.adversarial} x 2^-24 x scale)`, () => {
      let worst: Errors = { abs: 0, scaled: 0, main: 0, stats: 0 };
      for (const cols of [1, 2, 3, 7, 8, 64, 100, 768, 1024, 4096, 16384]) {
        const rows = Math.max(2, Math.min(256, (1 << 19) / cols | 0));
        if (!ok(rows, cols)) continue;
        const e = measure(op, rows, cols, ["normal"], plain, cols);
        worst = { abs: Math.max(worst.abs, e.abs), scaled: Math.max(worst.scaled, e.scaled), main: Math.max(worst.main, e.main), stats: Math.max(worst.stats, e.stats) };
      }
      console.log(`${op.name}: max abs error on N(0,1) data ${worst.abs.toExponential(2)}; scaled ${worst.scaled.toFixed(2)}; statistics/reductions ${worst.stats.toFixed(2)} x 2^-24 |ref|`);
      expect(worst.abs).toBeLessThanOrEqual(op.accuracy);
      expect(worst.scaled).toBeLessThanOrEqual(op.adversarial);
      expect(worst.stats).toBeLessThanOrEqual(op.reductions ?? 2);
    });

    it(`adversarial finite rows: <= ${op.adversarial} (ulp, or 2^-24 x the reference's scale)`, () => {
      let worst = 0, stats = 0;
      for (const cols of [3, 17, 64, 768, 4097]) {
        const rows = finiteKinds.length;
        const e = measure(op, rows, cols, finiteKinds, plain, cols + 3);
        worst = Math.max(worst, e.main);
        stats = Math.max(stats, e.stats);
      }
      console.log(`${op.name}: worst error on adversarial rows ${worst.toFixed(2)}; statistics/reductions ${stats.toFixed(2)}`);
      expect(worst).toBeLessThanOrEqual(op.adversarial);
      expect(stats).toBeLessThanOrEqual(op.reductions ?? 2);
    });

    it(`every optional input present: <= ${op.affine}`, () => {
      let worst = 0, stats = 0;
      for (const cols of [5, 64, 768, 4096, 16384]) {
        const rows = Math.max(2, Math.min(128, (1 << 18) / cols | 0));
        const e = measure(op, rows, cols, ["normal", "offset1e6", "near1e18"], full, cols);
        worst = Math.max(worst, e.main);
        stats = Math.max(stats, e.stats);
      }
      console.log(`${op.name}: error with every optional input ${worst.toFixed(2)}; statistics/reductions ${stats.toFixed(2)}`);
      expect(worst).toBeLessThanOrEqual(op.affine);
      expect(stats).toBeLessThanOrEqual(op.reductions ?? 2);
    });
  });
}
