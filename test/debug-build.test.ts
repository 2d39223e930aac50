// The debug build (no optimisation, assertions on), loaded through @assemblyscript/loader, which
// supplies env.abort and decodes assertion messages. Its results must equal the release build's
// bit for bit: the optimiser may not change a single rounding.
import { instantiateSync } from "@assemblyscript/loader";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createRuntime, layerNorm } from "../src/index.js";
import { defaultParams, ops, sizeOf } from "../src/registry.js";
import { fillRows, firstBitDifference, rowKinds } from "./data.js";
import { makeInputs, variants } from "./harness.js";

const bytes = readFileSync(new URL("../build/layernorm.debug.wasm", import.meta.url));
const debugRt = createRuntime({
  module: new WebAssembly.Module(bytes),
  instantiate: (module, imports) => instantiateSync(module, imports).exports,
});
const releaseRt = createRuntime({ backend: "wasm" });

describe("debug build", () => {
  it("computes the same bits as the release build", () => {
    for (const op of ops) {
      for (const cols of [1, 5, 8, 33, 768]) {
        const x = fillRows(Object.keys(rowKinds).length, cols, Object.keys(rowKinds), cols);
        for (const v of variants(op).filter((v) => !v.inPlace && !v.broadcast)) {
          const rows = x.length / cols;
          if (op.accepts && !op.accepts(rows, cols)) continue;
          const inputs = makeInputs(op, rows, cols, Object.keys(rowKinds), { ...v, broadcast: false }, 1);
          const outs = (rt: typeof debugRt) => {
            const o = Object.fromEntries(op.outputs.map((a) => [a.name, v.present.has(a.name) || !a.optional ? new Float32Array(sizeOf(op, a.role, rows, cols)) : null]));
            const a = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t && t.slice()])); // updated inputs change
            op.call(rt, cols, a, defaultParams, o);
            for (const s of op.inputs) if (s.updated) o[s.name] = a[s.name] ?? null;
            return o;
          };
          const d = outs(debugRt), r = outs(releaseRt);
          for (const k of Object.keys(d)) if (d[k]) expect(firstBitDifference(d[k]!, r[k]!), `${op.name} ${k} D=${cols}`).toBe(-1);
        }
      }
    }
  });

  it("reports kernel assertion failures with a readable message", () => {
    const x = debugRt.alloc(8), y = debugRt.alloc(8);
    expect(() => debugRt.kernels!.layerNorm(x.byteOffset + 2, 0, 0, y.byteOffset, 0, 0, 1, 4, 1e-5)).toThrow(/abort: layerNorm: bad sizes or unaligned pointer at assembly\/layerNorm.ts:\d+:\d+/);
    expect(firstBitDifference(layerNorm(x, 4, { out: y }).data, new Float32Array(8))).toBe(-1);
  });
});
