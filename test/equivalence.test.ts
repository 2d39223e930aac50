// Bitwise equivalence: the wasm kernels (zero-copy tensors and staged plain arrays) against the
// JS fallback, for every op in the registry, on the shape sweep and on adversarial rows.
import { describe, expect, it } from "vitest";
import { BLOCK } from "../src/fallback/lanes.js";
import { CHUNK_BYTES } from "../src/runtime/call.js";
import { defaultParams, ops, sizeOf, type OpEntry, type Params } from "../src/registry.js";
import { firstBitDifference, rowKinds } from "./data.js";
import { makeInputs, modes, run, runtimeFor, variants, window, type Variant } from "./harness.js";

const smallD = Array.from({ length: 70 }, (_, i) => i + 1);
const largeD = [127, 128, 129, 255, 256, 257, 768, 1000, 1023, 1024, 1025, 4096, 4097, 16384];
const adversarial = Object.keys(rowKinds);

function rowsFor(cols: number): number[] {
  return cols <= 70 ? [0, 1, 3, 8] : cols <= 1025 ? [1, 5, 64] : [1, 3];
}

/** Runs every mode and asserts each output is bitwise equal to the JS fallback's. */
function assertEquivalent(op: OpEntry, cols: number, rows: number, kinds: readonly string[], v: Variant, seed: number, p: Params = defaultParams): void {
  const inputs = makeInputs(op, rows, cols, kinds, v, seed, p);
  const [js, ...others] = modes.map((m) => run(op, m, cols, inputs, v, p));
  for (const [i, r] of others.entries()) {
    for (const name of Object.keys(js!)) {
      const at = firstBitDifference(js![name]!, r[name]!);
      if (at >= 0) {
        expect.fail(`${op.name} D=${cols} rows=${rows} ${v.label} eps=${p.eps} momentum=${p.momentum} mode=${modes[i + 1]} output ${name}[${at}]: js ${js![name]![at]} vs ${r[name]![at]}`);
      }
    }
  }
}

for (const op of ops) {
  describe(`${op.name}: wasm == js, bit for bit`, () => {
    const vs = variants(op);
    const ok = (rows: number, cols: number) => op.accepts?.(rows, cols) ?? true;
    /** No optional argument, or all of them (each in-place and broadcast form). */
    const extremes = vs.filter((v) => v.present.size === 0 || v.present.size === vs.at(-1)!.present.size);

    it(`every D from 1 to 70, rows 0/1/3/8, all ${vs.length} option combinations in rotation`, () => {
      let i = 0;
      for (const cols of smallD) {
        for (const rows of rowsFor(cols)) {
          if (!ok(rows, cols)) continue;
          for (const v of window(vs, i++, 24)) assertEquivalent(op, cols, rows, ["normal"], v, cols * 31 + rows);
        }
      }
      expect(i * 24).toBeGreaterThanOrEqual(vs.length);
    });
    it("large and boundary D, including multi-chunk staging", () => {
      for (const cols of largeD) {
        for (const rows of rowsFor(cols)) {
          if (!ok(rows, cols)) continue;
          for (const v of extremes) assertEquivalent(op, cols, rows, ["normal", "offset40000"], v, cols + rows);
        }
      }
    });
    it("adversarial rows: constant, offsets, denormals, 1e18, NaN and +-Inf anywhere", () => {
      let i = 0;
      for (const cols of [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 768, 1025]) {
        if (!ok(adversarial.length, cols)) continue;
        for (const v of window(vs, i++, 32)) assertEquivalent(op, cols, adversarial.length, adversarial, v, cols);
      }
    });
    it("eps values: 0, tiny, default, large", () => {
      let i = 0;
      for (const eps of [0, 1e-12, 1e-5, 0.1, 1e3]) {
        for (const v of window(vs, i++, 16)) assertEquivalent(op, 33, 6, ["normal", "constant", "denormal", "offset1e6"], v, 1, { ...defaultParams, eps });
      }
    });
    // Only ops with scalar options besides eps (BatchNorm training's momentum) get this test.
    const sweep = op.sweep;
    if (sweep) it("scalar options swept", () => {
      let i = 0;
      for (const [key, values] of Object.entries(sweep)) {
        for (const value of values) {
          for (const v of window(vs, i++, 16)) assertEquivalent(op, 19, 9, ["normal", "offset1e6", "constant"], v, 2, { ...defaultParams, [key]: value });
        }
      }
    });
    it("calls spanning several staging chunks and reduction blocks equal the zero-copy call", () => {
      const rt = runtimeFor("copy");
      for (const cols of [1000, 64, 7]) {
        // Every staged array alone fills 3.5 chunks, so the call takes at least 4 (block-aligned) chunks.
        const rows = Math.max(3 * BLOCK + 5, Math.ceil((3.5 * CHUNK_BYTES) / (4 * sizeOf(op, "row", 1, cols))));
        for (const v of extremes) {
          const before = rt.chunks;
          assertEquivalent(op, cols, rows, ["normal", "offset40000", "near1e18", "normal"], v, cols);
          expect(rt.chunks - before, `chunks of the staged call (D=${cols}, ${rows} rows)`).toBeGreaterThanOrEqual(4);
        }
      }
    });
  });
}
