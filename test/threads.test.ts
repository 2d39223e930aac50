// Threads: the same bits for any thread count, on every registry op; pool lifecycle; fallback.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { groupNorm, instanceNorm, layerNorm, Runtime, threadsSupported } from "../src/index.js";
import { defaultParams, ops } from "../src/registry.js";
import { fillRows, firstBitDifference, rowKinds } from "./data.js";
import { transpose } from "./groupNorm-harness.js";
import { makeInputs, run, variants, window } from "./harness.js";

const counts = [2, 3, "auto"] as const;
let single: Runtime;
let threaded: Runtime[] = [];

beforeAll(async () => {
  single = new Runtime({ backend: "wasm" });
  threaded = await Promise.all(counts.map((threads) => Runtime.create({ threads })));
  // Every call through the pool, however small, in as many parts as possible (a row or a block each).
  for (const rt of threaded) { rt.threadMinElements = 0; rt.partElements = 1; }
});
afterAll(() => { for (const rt of threaded) rt.shutdown(); });

/**
 * `calls` layerNorm calls through `rt`'s pool in one-row parts (shape(i) = [rows, cols] of call
 * i), each giving the bits of the single-threaded runtime; `after` runs after each call.
 */
function manySmallJobs(rt: Runtime, calls: number, shape: (i: number) => [number, number], kinds: string[], after?: () => void): void {
  rt.threadMinElements = 0;
  rt.partElements = 1;
  for (let i = 0; i < calls; i++) {
    const [rows, cols] = shape(i);
    const x = fillRows(rows, cols, kinds, i);
    const a = single.from(x), b = rt.from(x);
    const ya = layerNorm(a, cols), yb = layerNorm(b, cols);
    expect(firstBitDifference(ya.data, yb.data), `call ${i}: ${rows}x${cols}`).toBe(-1);
    for (const t of [a, b, ya, yb]) t.free();
    after?.();
  }
}

describe("threads", () => {
  it("start where shared memory exists, with the requested counts", () => {
    expect(threadsSupported()).toBe(true);
    expect(threaded.map((rt) => rt.threads).slice(0, 2)).toEqual([2, 3]);
    expect(threaded[2]!.threads).toBeGreaterThanOrEqual(1);
    expect(threaded.every((rt) => rt.shared)).toBe(true);
  });

  // One test per op (each within its own time bound: the registry grows).
  for (const op of ops) it(`${op.name}: thread counts 1, 2, 3 and auto give identical bits (every option set, part boundary)`, () => {
    const kinds = Object.keys(rowKinds);
    {
      for (const [rows, cols] of [[1, 1], [3, 5], [17, 7], [9, 64], [40, 768], [5, 4097], [70, 1000], [2, 16384], [97, 33]] as const) {
        if (op.accepts && !op.accepts(rows, cols)) continue;
        for (const v of variants(op)) {
          const inputs = makeInputs(op, rows, cols, kinds, v, rows * cols);
          const ref = run(op, "tensor", cols, inputs, v, defaultParams, single);
          for (const rt of threaded) {
            const got = run(op, "tensor", cols, inputs, v, defaultParams, rt);
            for (const k of Object.keys(ref)) expect(firstBitDifference(ref[k]!, got[k]!), `${op.name} ${rows}x${cols} ${v.label} threads=${rt.threads} ${k}`).toBe(-1);
          }
        }
      }
    }
  });

  // Staged through the scratch at each array's address mod 8 (V8 copies shared memory word by
  // word only between equally aligned ends): arrays 1 float into their buffers, and chunks of an
  // odd number of odd-length rows, so the skew alternates from chunk to chunk.
  for (const op of ops) it(`${op.name}: plain arrays at odd offsets, staged in chunks on every thread count: the bits of one thread`, () => {
    const kinds = Object.keys(rowKinds);
    for (const [rows, cols] of [[40, 1489], [97, 33], [6, 4097]] as const) {
      if (op.accepts && !op.accepts(rows, cols)) continue;
      const all = variants(op);
      for (const [j, v] of window(all, rows, 4).entries()) {
        const inputs = makeInputs(op, rows, cols, kinds, v, rows * cols + j);
        const ref = run(op, "tensor", cols, inputs, v, defaultParams, single);
        for (const rt of threaded) {
          const got = run(op, "copy", cols, inputs, v, defaultParams, rt, 1);
          for (const k of Object.keys(ref)) expect(firstBitDifference(ref[k]!, got[k]!), `${op.name} ${rows}x${cols} ${v.label} threads=${rt.threads} ${k}`).toBe(-1);
        }
      }
    }
  });

  it("tensors made from arrays at any offset mod 8 hold the same values (copies through the unshared bounce buffer)", () => {
    const rt = threaded[0]!;
    const all = fillRows(1, 40_003, ["normal"], 5);
    for (const shift of [0, 1, 2, 3]) {
      const src = all.subarray(shift, shift + 40_000 - shift);
      const t = rt.from(src);
      expect(firstBitDifference(t.data, src), `shift ${shift}`).toBe(-1);
      const again = rt.from(t.data.subarray(1)); // a view over the pool's own memory at 4 mod 8
      expect(firstBitDifference(again.data, src.subarray(1)), `shift ${shift}, own memory`).toBe(-1);
      t.free();
      again.free();
    }
  });

  it("large calls split across parts at the default threshold give the same bits", () => {
    const rt = threaded[0]!;
    rt.threadMinElements = 1 << 17;
    rt.partElements = 1 << 15;
    const cols = 768, rows = 700; // 537,600 elements: pool path with 700 / ceil(32768/768) = 17 parts
    const x = fillRows(rows, cols, ["normal", "offset40000", "nanMiddle"], 9);
    const a = single.from(x), b = rt.from(x);
    const ya = layerNorm(a, cols), yb = layerNorm(b, cols);
    expect(firstBitDifference(ya.data, yb.data)).toBe(-1);
    for (const t of [a, b, ya, yb]) t.free();
    rt.threadMinElements = 0;
    rt.partElements = 1;
  });

  it("groupNorm and instanceNorm, NCHW and channels-last, one part per sample on every thread: the bits of one thread (each part its own work area)", () => {
    const rt = threaded[0]!;
    rt.threadMinElements = 0;
    rt.partElements = 1;
    const N = 6, C = 48, S = 200;
    const x = fillRows(N * C, S, ["normal", "headOffset", "offset40000", "outlierFirst", "constant"], 21);
    for (const last of [false, true]) {
      const xin = last ? transpose(x, N, C, S) : x, shape = last ? [N, S, C] : [N, C, S], channelAxis = last ? -1 : 1;
      for (const G of [8, C]) {
        const one = groupNorm(xin, shape, G, { channelAxis, runtime: single }), many = groupNorm(xin, shape, G, { channelAxis, runtime: rt });
        expect(firstBitDifference(one, many), `groupNorm G=${G} channels-last=${last}`).toBe(-1);
      }
      const rm1 = new Float32Array(C), rv1 = new Float32Array(C).fill(1), rm2 = rm1.slice(), rv2 = rv1.slice();
      const one = instanceNorm(xin, shape, { channelAxis, runningMean: rm1, runningVar: rv1, runtime: single });
      const many = instanceNorm(xin, shape, { channelAxis, runningMean: rm2, runningVar: rv2, runtime: rt });
      expect(firstBitDifference(one, many), `instanceNorm channels-last=${last}`).toBe(-1);
      expect(firstBitDifference(rm1, rm2), `runningMean channels-last=${last}`).toBe(-1);
      expect(firstBitDifference(rv1, rv2), `runningVar channels-last=${last}`).toBe(-1);
    }
  });

  it("more threads than cores: 8 threads, hundreds of small jobs back to back (sleeping workers wake into later jobs), the same bits", async () => {
    const rt = await Runtime.create({ threads: 8 });
    try {
      const jobs = (rt as unknown as { pool: { jobs: number } }).pool.jobs;
      manySmallJobs(rt, 400, (i) => [2 + (i % 13) * 3, 33], ["normal", "offset40000", "nanMiddle"]);
      expect((rt as unknown as { pool: { jobs: number } }).pool.jobs - jobs, "every call ran on the pool").toBe(400);
    } finally {
      rt.shutdown();
    }
  });

  it("an engine that reports more cores than it has: threads \"auto\" on a claimed 6, the same bits, a bounded number woken per job", async () => {
    const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as object;
    Object.defineProperty(nav, "hardwareConcurrency", { value: 6, configurable: true });
    const rt = await Runtime.create({ threads: "auto" });
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
    try {
      expect(rt.threads).toBe(6);
      const pool = (rt as unknown as { pool: { wake: number } }).pool;
      const woken = new Set<number>();
      manySmallJobs(rt, 300, (i) => [2 + (i % 17) * 5, 24 + (i % 3)], ["normal", "outlierFirst", "denormal"], () => woken.add(pool.wake));
      for (const w of woken) expect(w >= 1 && w <= 5, `wake ${w}`).toBe(true);
    } finally {
      rt.shutdown();
    }
  });

  it("many interleaved calls from async code all come back right", async () => {
    const rt = threaded[1]!;
    const jobs = Array.from({ length: 40 }, async (_, i) => {
      const cols = 32 + i, x = fillRows(64, cols, ["normal"], i);
      await new Promise((r) => setTimeout(r, i % 5));
      const t = rt.from(x);
      const y = layerNorm(t, cols);
      await Promise.resolve();
      const expected = layerNorm(x, cols, { runtime: single });
      const same = firstBitDifference(y.data, expected) === -1;
      t.free();
      y.free();
      return same;
    });
    expect(await Promise.all(jobs)).toEqual(new Array(40).fill(true));
  });

  it("shared-memory views stay valid across growth and are still zero-copy", () => {
    const rt = threaded[0]!;
    const t = rt.from(fillRows(4, 16, ["normal"], 1));
    const view = t.data;
    const big = rt.alloc(16 << 20); // grow
    expect(view.length).toBe(64); // a SharedArrayBuffer view is not detached by growth
    const y = layerNorm(view, 16, { runtime: rt });
    expect(firstBitDifference(y, layerNorm(t.data.slice(), 16, { runtime: single }))).toBe(-1);
    t.free();
    big.free();
  });

  it("after shutdown the runtime runs single-threaded with the same results", async () => {
    const rt = await Runtime.create({ threads: 2 });
    rt.threadMinElements = 0;
    const x = fillRows(32, 100, ["normal"], 5);
    const before = layerNorm(x, 100, { runtime: rt });
    rt.shutdown();
    expect(rt.threads).toBe(1);
    expect(firstBitDifference(layerNorm(x, 100, { runtime: rt }), before)).toBe(-1);
    rt.shutdown(); // idempotent
  });

  it("falls back to one thread, with one warning, where shared memory is unavailable", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    // A page without COOP/COEP: crossOriginIsolated is false (an own property shadows the getter).
    Object.defineProperty(globalThis, "crossOriginIsolated", { value: false, configurable: true });
    try {
      const a = await Runtime.create({ threads: 2 });
      const b = await Runtime.create({ threads: 4 });
      expect([a.threads, b.threads, a.shared]).toEqual([1, 1, false]);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/threads requested but SharedArrayBuffer is unavailable .*Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp.*running single-threaded/);
    } finally {
      delete (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
      warn.mockRestore();
    }
  });

  it("rejects bad thread counts and threads in the synchronous constructor", async () => {
    await expect(Runtime.create({ threads: 0 })).rejects.toThrow(/threads: expected an integer from 1 to 256 or "auto", got number 0/);
    await expect(Runtime.create({ threads: 1.5 })).rejects.toThrow(RangeError);
    expect(() => new Runtime({ threads: 2 })).toThrow(/threads: expected 1 in a synchronous constructor \(a runtime with threads starts asynchronously; use init\(\{ threads \}\) or Runtime.create\(\{ threads \}\)\), got number 2/);
  });
});
