// The public API: PyTorch/ONNX semantics, the LayerNorm module, backends and initialisation.
import { describe, expect, it } from "vitest";
import * as lib from "../src/index.js";
import { createRuntime, layerNorm, LayerNorm, Tensor, wasmBytes } from "../src/index.js";
import { layerNormReference } from "../src/reference/layerNorm.js";
import { firstBitDifference, normal } from "./data.js";

for (const backend of ["wasm", "js"] as const) {
  describe(`semantics (${backend})`, () => {
    const runtime = createRuntime({ backend });

    it("a constant row gives exactly the bias (and 0 without one); D = 1 likewise", () => {
      const b = normal(5, 1);
      const x = new Float32Array([3, 3, 3, 3, 3, -1e30, -1e30, -1e30, -1e30, -1e30]);
      const y = layerNorm(x, 5, { bias: b, weight: normal(5, 2), runtime });
      expect(Array.from(y)).toEqual([...b, ...b]);
      expect(Array.from(layerNorm(x, 5, { runtime }))).toEqual(new Array(10).fill(0));
      expect(Array.from(layerNorm(new Float32Array([5, -7, 1e20]), 1, { bias: new Float32Array([0.5]), runtime }))).toEqual([0.5, 0.5, 0.5]);
    });

    it("NaN or Inf in a row makes that row NaN (as PyTorch), other rows are untouched", () => {
      const cols = 9;
      const x = normal(4 * cols, 3);
      x[cols + 4] = NaN;
      x[2 * cols] = Infinity;
      x[3 * cols + 8] = -Infinity;
      const y = layerNorm(x, cols, { runtime });
      const clean = layerNorm(x.subarray(0, cols), cols, { runtime });
      expect(firstBitDifference(y.subarray(0, cols), clean)).toBe(-1);
      for (let r = 1; r < 4; r++) expect(y.subarray(r * cols, (r + 1) * cols).every(Number.isNaN)).toBe(true);
    });

    it("mean and invStdDev outputs match ONNX LayerNormalization's Mean and InvStdDev", () => {
      const cols = 50, rows = 7, x = normal(rows * cols, 4, 3, 40000);
      const mean = new Float32Array(rows), inv = new Float32Array(rows);
      layerNorm(x, cols, { mean, invStdDev: inv, eps: 1e-3, runtime });
      const rm = new Float64Array(rows), ri = new Float64Array(rows);
      layerNormReference(x, null, null, new Float64Array(x.length), rm, ri, rows, cols, 1e-3);
      for (let r = 0; r < rows; r++) {
        expect(mean[r]).toBe(Math.fround(rm[r]!)); // the mean is correctly rounded
        expect(Math.abs(inv[r]! - ri[r]!) / ri[r]!).toBeLessThan(2 ** -23);
      }
    });

    it("normalizedShape may be an array of trailing dims", () => {
      const x = normal(2 * 3 * 4, 5);
      expect(firstBitDifference(layerNorm(x, [3, 4], { runtime }), layerNorm(x, 12, { runtime }))).toBe(-1);
    });

    it("returns out when given, a new Float32Array for arrays and a new Tensor for tensors", () => {
      const x = normal(16, 6), out = new Float32Array(16);
      expect(layerNorm(x, 4, { out, runtime })).toBe(out);
      const y = layerNorm(x, 4, { runtime });
      expect(y).toBeInstanceOf(Float32Array);
      expect(y).not.toBe(x);
      const t = runtime.from(x);
      const ty = layerNorm(t, 4);
      expect(ty).toBeInstanceOf(Tensor);
      expect(firstBitDifference(ty.data, y)).toBe(-1);
      t.free();
      ty.free();
    });

    it("class LayerNorm behaves like torch.nn.LayerNorm", () => {
      const ln = new LayerNorm([2, 3], { runtime });
      expect(Array.from(ln.weight!)).toEqual([1, 1, 1, 1, 1, 1]);
      expect(Array.from(ln.bias!)).toEqual([0, 0, 0, 0, 0, 0]);
      const x = normal(12, 7);
      expect(firstBitDifference(ln.forward(x), layerNorm(x, 6, { runtime }))).toBe(-1);
      const w = normal(6, 8), b = normal(6, 9);
      ln.weight = w;
      ln.bias!.set(b);
      const expected = layerNorm(x, 6, { weight: w, bias: b, runtime });
      expect(firstBitDifference(ln.forward(x), expected)).toBe(-1);
      const inPlace = x.slice();
      expect(ln.forward(inPlace, inPlace)).toBe(inPlace);
      expect(firstBitDifference(inPlace, expected)).toBe(-1);
      ln.dispose();
      const plain = new LayerNorm(6, { elementwiseAffine: false, eps: 0.5, runtime });
      expect(plain.weight).toBeNull();
      expect(plain.bias).toBeNull();
      expect(firstBitDifference(plain.forward(x), layerNorm(x, 6, { eps: 0.5, runtime }))).toBe(-1);
      const noBias = new LayerNorm(6, { bias: false, runtime });
      expect(noBias.bias).toBeNull();
      expect(noBias.weight).not.toBeNull();
    });
  });
}

describe("backends and initialisation", () => {
  it("auto picks wasm where SIMD exists; the default backend can be switched and queried", () => {
    expect(lib.simdSupported()).toBe(true);
    expect(lib.getBackend()).toBe("wasm");
    expect(lib.setBackend("js")).toBe("js");
    expect(lib.getBackend()).toBe("js");
    expect(lib.setBackend("auto")).toBe("wasm");
    expect(() => lib.setBackend("gpu" as never)).toThrow(/backend: expected "auto", "wasm" or "js", got string "gpu"/);
  });

  it("a runtime created with the JS backend cannot switch to wasm, and says why", () => {
    const rt = createRuntime({ backend: "js" });
    expect(() => rt.setBackend("wasm")).toThrow(/backend "wasm" requested, but this runtime was created with backend "js" and has no kernels/);
    expect(rt.setBackend("auto")).toBe("js");
  });

  it("a runtime accepts a precompiled WebAssembly.Module (strict CSP, workers)", () => {
    const module = new WebAssembly.Module(wasmBytes() as BufferSource);
    const rt = createRuntime({ module });
    expect(rt.backend).toBe("wasm");
    const x = normal(64, 1);
    expect(firstBitDifference(layerNorm(x, 16, { runtime: rt }), layerNorm(x, 16))).toBe(-1);
    expect(() => createRuntime({ module: {} as never })).toThrow(/module: expected a WebAssembly.Module, got Object/);
  });

  it("init() is optional, resolves to the backend, and refuses new options once initialised", async () => {
    expect(await lib.init()).toBe("wasm");
    expect(lib.initSync({ backend: "js" })).toBe("js");
    expect(lib.initSync({ backend: "auto" })).toBe("wasm");
    await expect(lib.init({ module: wasmBytes() as BufferSource })).rejects.toThrow(/already exists/);
  });

  it("tensors from alloc/tensor live in the default runtime and work with every call", () => {
    const t = lib.tensor(normal(32, 2));
    const out = lib.alloc(32);
    expect(layerNorm(t, 8, { out })).toBe(out);
    expect(firstBitDifference(out.data, layerNorm(t.data.slice(), 8))).toBe(-1);
    t.free();
    out.free();
  });
});
