// Zero-copy tensors and linear memory: growth, free/reuse, staging of plain arrays, in place,
// and no writes outside the tensors a call owns.
import { describe, expect, it } from "vitest";
import { createRuntime, layerNorm, type Runtime } from "../src/index.js";
import { layerNormReference } from "../src/reference/layerNorm.js";
import { firstBitDifference, normal } from "./data.js";

function expectClose(got: Float32Array, x: Float32Array, cols: number): void {
  const ref = new Float64Array(x.length);
  layerNormReference(x, null, null, ref, null, null, x.length / cols, cols, 1e-5);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!));
  expect(got.length).toBe(x.length);
  expect(worst).toBeLessThan(1e-6);
}

for (const backend of ["wasm", "js"] as const) {
  describe(`memory (${backend} backend)`, () => {
    const rt: Runtime = createRuntime({ backend });

    it("tensors survive memory growth: fresh views read the same data and compute correctly", () => {
      const cols = 768, x = normal(16 * cols, 1);
      const tx = rt.from(x), ty = rt.alloc(x.length);
      const old = tx.data;
      const before = rt.arena.byteLength;
      const big = rt.alloc(64 << 20); // 256 MiB: forces growth
      expect(rt.arena.byteLength).toBeGreaterThan(before);
      expect(old.length).toBe(0); // the old view was detached by growth
      expect(firstBitDifference(tx.data, x)).toBe(-1);
      layerNorm(tx, cols, { out: ty });
      expectClose(ty.data, x, cols);
      // and a call that itself grows memory (output allocated inside) keeps inputs intact
      const y2 = layerNorm(tx, cols);
      expectClose(y2.data, x, cols);
      for (const t of [tx, ty, big, y2]) t.free();
    });

    it("free returns memory for reuse; neighbours coalesce; double free throws", () => {
      const a = rt.alloc(1000), b = rt.alloc(1000), c = rt.alloc(1000);
      const bAt = b.byteOffset;
      b.free();
      const d = rt.alloc(900);
      expect(d.byteOffset).toBe(bAt);
      d.free();
      a.free();
      const e = rt.alloc(1900); // a and b's ranges merged
      expect(e.byteOffset).toBe(a.byteOffset);
      expect(() => e.free()).not.toThrow();
      expect(() => e.free()).toThrow(/tensor freed twice/);
      expect(() => e.data).toThrow(/tensor was freed/);
      c.free();
    });

    it("allocation churn does not fragment memory without bound", () => {
      const start = rt.memoryStats();
      let live: ReturnType<Runtime["alloc"]>[] = [];
      let seed = 1;
      for (let i = 0; i < 5000; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        if (live.length > 20 || (seed & 1 && live.length)) live.splice(seed % live.length, 1)[0]!.free();
        else live.push(rt.alloc(1 + (seed % 50000)));
      }
      for (const t of live) t.free();
      live = [];
      const end = rt.memoryStats();
      expect(end.live).toBe(start.live);
      expect(end.inUse).toBe(start.inUse);
      expect(end.freeRanges).toBeLessThanOrEqual(start.freeRanges + 1);
      expect(end.memoryBytes).toBeLessThanOrEqual(Math.max(start.memoryBytes, 32 << 20));
    });

    it("plain arrays are staged in bounded chunks: memory does not grow with repeated or large calls", () => {
      const cols = 1024, x = normal(512 * cols, 2); // 2 MiB, more than one 128 KiB chunk
      const y = layerNorm(x, cols, { runtime: rt });
      expectClose(y, x, cols);
      const after = rt.memoryStats().memoryBytes;
      for (let i = 0; i < 50; i++) layerNorm(x, cols, { runtime: rt, out: y });
      expect(rt.memoryStats().memoryBytes).toBe(after);
    });

    it("in place on tensors and on plain arrays; mixed tensor / plain arguments", () => {
      const cols = 96, x = normal(40 * cols, 3), w = normal(cols, 4), b = normal(cols, 5);
      const expected = layerNorm(x, cols, { weight: w, bias: b, runtime: rt });
      const plain = x.slice();
      expect(layerNorm(plain, cols, { weight: w, bias: b, out: plain, runtime: rt })).toBe(plain);
      expect(firstBitDifference(plain, expected)).toBe(-1);
      const t = rt.from(x), tw = rt.from(w);
      layerNorm(t, cols, { weight: tw, bias: b, out: t });
      expect(firstBitDifference(t.data, expected)).toBe(-1);
      const t2 = rt.from(x), outPlain = new Float32Array(x.length);
      layerNorm(t2, cols, { weight: w, bias: b, out: outPlain });
      expect(firstBitDifference(outPlain, expected)).toBe(-1);
      const outT = rt.alloc(x.length);
      layerNorm(x, cols, { weight: tw, bias: b, out: outT.data });
      expect(firstBitDifference(outT.data, expected)).toBe(-1);
      for (const z of [t, tw, t2, outT]) z.free();
    });

    it("from() reads an array-like whole before allocating: a throwing element leaves nothing allocated, one that grows memory still lands", () => {
      const before = rt.memoryStats();
      const bad = Array.from({ length: 5000 }, () => 1);
      Object.defineProperty(bad, 4000, { get() { throw new Error("element 4000"); } });
      expect(() => rt.from(bad)).toThrow("element 4000");
      expect(rt.memoryStats()).toEqual(before);
      // An element that is not a number: a TypeError naming it, nothing allocated.
      expect(() => rt.from([1, 2, "3", 4] as never)).toThrow(/^values\[2\]: expected a number, got string "3"/);
      expect(rt.memoryStats()).toEqual(before);
      let grown: import("../src/index.js").Tensor | undefined;
      const n = 3000;
      const growing = new Proxy({ length: n }, {
        get(o, k) {
          if (k === "length") return n;
          const i = Number(k);
          if (i === 1500) grown = rt.alloc(1 << 22); // 16 MiB: memory grows while the values are read
          return i * 0.5;
        },
      }) as unknown as ArrayLike<number>;
      const t = rt.from(growing);
      expect(Array.from(t.data)).toEqual(Array.from({ length: n }, (_, i) => i * 0.5));
      t.free();
      grown!.free();
    });

    it("zero rows and zero-length tensors are valid", () => {
      expect(layerNorm(new Float32Array(0), 8, { runtime: rt }).length).toBe(0);
      const z = rt.alloc(0);
      const y = layerNorm(z, [2, 4]);
      expect(y.length).toBe(0);
      z.free();
      y.free();
    });

    it("writes nothing outside the tensors it is given (guards around every argument)", () => {
      const cols = 37, rows = 9;
      const guard = () => { const g = rt.alloc(64); g.data.fill(-12345.5); return g; };
      const layout = [guard(), rt.from(normal(rows * cols, 6)), guard(), rt.alloc(rows * cols), guard(), rt.from(normal(cols, 7)), guard(), rt.alloc(rows), guard(), rt.alloc(rows), guard()];
      const [, x, , out, , w, , mean, , rstd] = layout;
      layerNorm(x!, cols, { out: out!, weight: w!, mean: mean!, invStdDev: rstd! });
      layerNorm(x!, cols, { out: x!, weight: w! }); // in place
      for (const g of layout.filter((_, i) => i % 2 === 0)) expect(g.data.every((v) => v === -12345.5)).toBe(true);
      for (const t of layout) t.free();
    });
  });
}

describe("recovery", () => {
  it("a failed allocation (memory cap) throws RangeError and leaves tensors and the runtime intact", () => {
    const rt = createRuntime({ maxMemoryBytes: 8 << 20 });
    const x = rt.from(normal(64 * 64, 8));
    const keep = x.data.slice();
    const a = rt.alloc(1 << 20); // 4 MiB fits
    expect(() => rt.alloc(1 << 20)).toThrow(/cannot allocate 4194304 bytes of wasm linear memory \(expected total <= 8388608 bytes/);
    expect(() => rt.alloc(4 << 20)).toThrow(/tensor length: expected at most 2097152 elements \(the memory limit\), got 4194304/);
    // a call whose staging scratch cannot be allocated fails cleanly too
    const wide = 1 << 19;
    expect(() => layerNorm(new Float32Array(wide), wide, { runtime: rt, weight: new Float32Array(wide) })).toThrow(/cannot allocate/);
    expect(firstBitDifference(x.data, keep)).toBe(-1);
    const y = layerNorm(x, 64);
    expectClose(y.data, x.data, 64);
    a.free();
    expect(layerNorm(new Float32Array(wide), wide, { runtime: rt }).length).toBe(wide);
  });
});
