// Soak and recovery, for every registry op:
//  - many calls of varying sizes (every op, tensors / staged plain arrays / mixed, in place or
//    not) keep linear memory bounded: no leaked block, few free ranges, memory and high-water
//    mark reported; results re-checked against the JS fallback along the way;
//  - allocate/free churn between calls does not fragment memory without bound;
//  - memory growth between calls and inside a call (the staging scratch allocated when memory is
//    full) never yields stale views or lost data: tensors keep their values, stale views are
//    refused (or, over shared memory, stay valid), results are the JS fallback's bits;
//  - recovery: with memory capped (maxMemoryBytes) and filled to leave any amount free, a call
//    either completes with the right bits or throws RangeError having changed nothing (inputs,
//    outputs, running statistics, other tensors) and leaked nothing; the runtime works afterwards.
// CI runs 20,000 soak calls (5000 in Chromium); `npm run fuzz` 1,000,000.
import { describe, expect, it } from "vitest";
import {
  batchNorm, createRuntime, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, Runtime, skipLayerNorm, skipRmsNorm, Tensor,
} from "../src/index.js";
import { acceptedShape, defaultParams, ops, sizeOf, type Args, type ArgSpec, type OpEntry, type PlainArgs } from "../src/registry.js";
import { firstBitDifference, rng } from "./data.js";
import { BROWSER, count, FUZZ, report } from "./fuzz.js";
import { makeInputs, run, variants, type Variant } from "./harness.js";

const SOAK_CALLS = count(20_000, 1_000_000, 5000);

function allEqual(a: Float32Array, v: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== v) return false;
  return true;
}

/** User (non-internal) live blocks of a runtime. */
const userBlocks = (rt: Runtime) => rt.memoryStats().live - rt.arena.internalRanges().length;

interface Prepared { op: OpEntry; v: Variant; rows: number; cols: number; inputs: PlainArgs; js: Record<string, Float32Array> }

/** A pool of calls (op, option set, shape, inputs) with their JS fallback results. */
function preparePool(size: number, seed: number): Prepared[] {
  const r = rng(seed);
  const pool: Prepared[] = [];
  for (let i = 0; i < size; i++) {
    const op = ops[i % ops.length]!;
    const vs = variants(op);
    const v = vs[Math.floor(r() * vs.length)]!;
    // Mostly small, sometimes up to 40 x 1500 (several staging chunks).
    const big = r() < 0.1;
    const { rows, cols } = acceptedShape(op, Math.floor(r() * (big ? 40 : 12)), 1 + Math.floor(r() * (big ? 1500 : 96)));
    const inputs = makeInputs(op, rows, cols, ["normal", "offset1e6", "nanMiddle", "constant"], v, i + seed);
    pool.push({ op, v, rows, cols, inputs, js: run(op, "js", cols, inputs, v, defaultParams) });
  }
  return pool;
}

function sameBits(got: Record<string, Float32Array>, want: Record<string, Float32Array>, what: string): void {
  for (const k of Object.keys(want)) {
    const at = firstBitDifference(got[k]!, want[k]!);
    if (at >= 0) throw new Error(`${what}: ${k}[${at}] = ${got[k]![at]}, expected ${want[k]![at]}`);
  }
}

describe("soak", () => {
  it(`${SOAK_CALLS.toLocaleString("en")} calls of varying sizes keep linear memory bounded`, () => {
    const rt = createRuntime({ backend: "wasm" });
    const pool = preparePool(200, 7);
    const r = rng(3);
    const modes = ["tensor", "copy"] as const;
    const baseUser = userBlocks(rt);
    let afterFirstRound = 0, maxFree = 0, checked = 0;
    const ROUND = 1000;
    for (let i = 0; i < SOAK_CALLS; i++) {
      const c = pool[Math.floor(r() * pool.length)]!;
      const mode = modes[i & 1]!;
      const got = run(c.op, mode, c.cols, c.inputs, c.v, defaultParams, rt);
      if (i % 97 === 0) { sameBits(got, c.js, `${c.op.name} ${c.rows}x${c.cols} [${c.v.label}] ${mode} call ${i}`); checked++; }
      if ((i + 1) % ROUND === 0) {
        const s = rt.memoryStats();
        expect(userBlocks(rt), `blocks leaked after ${i + 1} calls`).toBe(baseUser);
        maxFree = Math.max(maxFree, s.freeRanges);
        if (i + 1 === ROUND) afterFirstRound = s.memoryBytes;
      }
    }
    const s = rt.memoryStats();
    // Bounded: the memory reached in the first 1000 calls (every size class seen) at most doubles
    // (the growth step), and free space stays in a few ranges.
    expect(s.memoryBytes).toBeLessThanOrEqual(2 * afterFirstRound);
    expect(maxFree).toBeLessThanOrEqual(8);
    report("soak calls", SOAK_CALLS, `high-water ${(s.highWater / 2 ** 20).toFixed(2)} MiB in use, memory ${(s.memoryBytes / 2 ** 20).toFixed(2)} MiB (after 1000 calls ${(afterFirstRound / 2 ** 20).toFixed(2)}), at most ${maxFree} free ranges, ${checked} results re-checked`);
  });

  it("allocate/free churn between calls does not fragment memory without bound", () => {
    const rt = createRuntime({ backend: "wasm" });
    const pool = preparePool(40, 11);
    const r = rng(5);
    const start = rt.memoryStats();
    const live: Tensor[] = [];
    let worstFree = 0;
    const steps = count(20_000, 200_000, 5000);
    for (let i = 0; i < steps; i++) {
      const u = r();
      if (u < 0.45 && live.length < 40) {
        const t = rt.alloc(1 + Math.floor(r() ** 3 * 60_000));
        t.data.fill(i);
        live.push(t);
      } else if (u < 0.9 && live.length) {
        const t = live.splice(Math.floor(r() * live.length), 1)[0]!;
        expect(t.data[0], "a churned tensor kept its values").toBe(t.length ? t.data[t.length - 1] : undefined);
        t.free();
      } else {
        const c = pool[Math.floor(r() * pool.length)]!;
        sameBits(run(c.op, i & 1 ? "tensor" : "copy", c.cols, c.inputs, c.v, defaultParams, rt), c.js, `${c.op.name} during churn`);
      }
      worstFree = Math.max(worstFree, rt.memoryStats().freeRanges);
    }
    for (const t of live) t.free();
    const end = rt.memoryStats();
    expect(userBlocks(rt)).toBe(0);
    // Free ranges never exceed the live tensors + the runtime's blocks + 1; all freed, they merge.
    expect(worstFree).toBeLessThanOrEqual(40 + 3 + 1);
    // All freed, the ranges merge: at most one on each side of each of the runtime's own blocks.
    expect(end.freeRanges).toBeLessThanOrEqual(start.freeRanges + rt.arena.internalRanges().length + 1);
    expect(end.memoryBytes).toBeLessThanOrEqual(16 << 20);
    report("churn steps", steps, `worst ${worstFree} free ranges, memory ${(end.memoryBytes / 2 ** 20).toFixed(2)} MiB`);
  });
});

/** Arguments of `c` as tensors of `rt` (or plain arrays for names in `plain`); outputs filled with 7. */
function place(c: Prepared, rt: Runtime, plain: (spec: ArgSpec) => boolean): { a: Args; o: Args; tensors: Map<string, Tensor>; arrays: Map<string, Float32Array> } {
  const { op, v, rows, cols, inputs } = c;
  const tensors = new Map<string, Tensor>(), arrays = new Map<string, Float32Array>();
  const size = (s: ArgSpec) => (s.broadcast && v.broadcast ? cols : sizeOf(op, s.role, rows, cols));
  for (const s of [...op.inputs, ...op.outputs]) {
    if ((s.optional && !v.present.has(s.name)) || v.inPlace?.[0] === s.name) continue;
    const values = op.inputs.includes(s) ? inputs[s.name]!.slice() : new Float32Array(size(s)).fill(7);
    if (plain(s)) arrays.set(s.name, values);
    else tensors.set(s.name, rt.from(values));
  }
  const get = (n: string) => tensors.get(n) ?? arrays.get(n) ?? null;
  const a: Args = {}, o: Args = {};
  for (const s of op.inputs) a[s.name] = get(s.name);
  for (const s of op.outputs) o[s.name] = v.inPlace?.[0] === s.name ? a[v.inPlace[1]]! : get(s.name);
  return { a, o, tensors, arrays };
}

/** Copies of what place() made, to compare after a call. */
const valuesOf = (p: ReturnType<typeof place>) => new Map([...[...p.tensors].map(([k, t]) => [k, t.data.slice()] as const), ...[...p.arrays].map(([k, a]) => [k, a.slice()] as const)]);

/** The results of a call made with place(): outputs, then updated inputs (as harness.run returns them). */
function results(c: Prepared, p: ReturnType<typeof place>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const k of Object.keys(c.js)) {
    const name = c.v.inPlace?.[0] === k ? c.v.inPlace[1] : k;
    const t = p.tensors.get(name);
    out[k] = t ? t.data.slice() : p.arrays.get(name)!.slice();
  }
  return out;
}

describe("memory growth in the middle of a sequence of calls", () => {
  for (const shared of [false, true]) {
    it(`tensors keep their data, stale views are ${shared ? "still valid (shared memory)" : "refused"}, results stay exact (${shared ? "2 threads" : "wasm"})`, async () => {
      const pool = preparePool(ops.length * 2, 21);
      let grew = 0;
      for (const [i, c] of pool.entries()) {
        // A fresh runtime per case: each growth doubles memory.
        const rt = shared ? await Runtime.create({ threads: 2 }) : createRuntime({ backend: "wasm" });
        if (shared) { rt.threadMinElements = 0; rt.partElements = 1; }
        try {
          // Tensors, then growth between calls: old Tensor objects still work.
          const p = place(c, rt, () => false);
          const keep = valuesOf(p);
          const views = new Map([...p.tensors].map(([k, t]) => [k, t.data]));
          const before = rt.memoryStats().memoryBytes;
          const big = rt.alloc(before / 4); // at least doubles memory
          grew += +(rt.memoryStats().memoryBytes > before);
          for (const [k, t] of p.tensors) expect(firstBitDifference(t.data, keep.get(k)!), `${c.op.name}: ${k} kept its values across growth`).toBe(-1);
          const stale: Args = {}, staleOut: Args = {};
          for (const s of c.op.inputs) stale[s.name] = c.v.present.has(s.name) || !s.optional ? views.get(s.name)! : null;
          for (const s of c.op.outputs) staleOut[s.name] = c.v.inPlace?.[0] === s.name ? stale[c.v.inPlace[1]]! : views.get(s.name) ?? null;
          if (shared) {
            // Views over a SharedArrayBuffer survive growth: the call through them is zero-copy and exact.
            c.op.call(rt, c.cols, stale, defaultParams, staleOut);
          } else if (c.rows > 0) {
            expect(() => c.op.call(rt, c.cols, stale, defaultParams, staleOut), `${c.op.name}: stale views refused`).toThrow(/expected a Float32Array over live memory, got one whose ArrayBuffer is detached/);
            for (const [k, t] of p.tensors) expect(firstBitDifference(t.data, keep.get(k)!), `${c.op.name}: ${k} untouched by the refused call`).toBe(-1);
            c.op.call(rt, c.cols, p.a, defaultParams, p.o);
          } else c.op.call(rt, c.cols, p.a, defaultParams, p.o);
          sameBits(results(c, p), c.js, `${c.op.name} ${c.rows}x${c.cols} [${c.v.label}] after growth`);
          big.free();
          for (const t of p.tensors.values()) t.free();

          // Growth inside a call: memory filled to its end, then a call with plain arrays among
          // tensors, whose staging scratch must be allocated by growing memory.
          const p2 = place(c, rt, (s) => s !== c.op.inputs[0] && (i & 1) === 0 ? true : s.role !== "row");
          const s0 = rt.memoryStats();
          const filler = rt.alloc(Math.max(0, Math.floor((s0.memoryBytes - s0.heapTop) / 4) - 16));
          filler.data.fill(i);
          const m0 = rt.memoryStats().memoryBytes;
          c.op.call(rt, c.cols, p2.a, defaultParams, p2.o);
          if (rt.memoryStats().memoryBytes > m0) grew++;
          sameBits(results(c, p2), c.js, `${c.op.name} ${c.rows}x${c.cols} [${c.v.label}] growing inside the call`);
          expect(allEqual(filler.data, i), "the filler tensor kept its values").toBe(true);
          filler.free();
          for (const t of p2.tensors.values()) t.free();
          expect(userBlocks(rt)).toBe(0);
        } finally {
          rt.shutdown();
        }
      }
      expect(grew).toBeGreaterThan(pool.length);
    });
  }
});

describe("recovery: allocation failure when memory cannot grow", () => {
  const CAP = 2 << 20;
  // Free memory left before the call: none, a few blocks, and sizes around the staging chunk (128 KiB)
  // and the partial-sum area (256 KiB), so every allocation of a call fails at some point.
  const all = [0, 64, 1 << 10, 4 << 10, 16 << 10, 40 << 10, 70 << 10, 100 << 10, 120 << 10, 140 << 10, 170 << 10, 200 << 10, 240 << 10, 280 << 10, 340 << 10, 400 << 10, 600 << 10];
  const frees = FUZZ ? all : BROWSER ? [4 << 10, 100 << 10, 140 << 10, 280 << 10] : [0, 4 << 10, 100 << 10, 140 << 10, 200 << 10, 280 << 10];
  for (const op of ops) {
    it(`${op.name}: with any amount of memory left, a call completes exactly or throws and changes nothing`, () => {
      const vs = variants(op).filter((v) => v.present.size === [...op.inputs, ...op.outputs].filter((a) => a.optional).length || v.present.size === 0);
      let failed = 0, done = 0;
      for (const [k, v] of vs.entries()) {
        // About 40,000 elements per row array (100 rows x 400 for the row norms): each staged one
        // fills 1.2 chunks; with two or more per call the staging and work areas need several hundred KiB.
        const cols = 400, rows = Math.ceil(40_000 / sizeOf(op, "row", 1, cols));
        const inputs = makeInputs(op, rows, cols, ["normal", "offset40000"], v, k);
        const c: Prepared = { op, v, rows, cols, inputs, js: run(op, "js", cols, inputs, v, defaultParams) };
        for (const mode of ["plain", "tensor", "mixed"] as const) {
          for (const free of frees) {
            const rt = createRuntime({ backend: "wasm", maxMemoryBytes: CAP });
            const p = place(c, rt, (s) => mode === "plain" || (mode === "mixed" && s.role !== "row"));
            // Fill memory to leave `free` bytes: a filler tensor with known values (an existing tensor that must survive).
            const s0 = rt.memoryStats();
            const filler = rt.alloc(Math.max(0, Math.floor((CAP - s0.heapTop - free) / 4) - 16));
            filler.data.fill(-3);
            const keep = valuesOf(p);
            const usedBefore = rt.memoryStats().inUse - rt.arena.internalRanges().reduce((s, [a, b]) => s + b - a, 0);
            const blocksBefore = userBlocks(rt);
            let error: unknown;
            try { op.call(rt, cols, p.a, defaultParams, p.o); } catch (e) { error = e; }
            const what = `${op.name} [${v.label}] ${mode}, ${free} bytes free`;
            if (error) {
              failed++;
              expect(error, what).toBeInstanceOf(RangeError);
              expect((error as Error).message, what).toMatch(/^cannot allocate \d+ bytes of wasm linear memory \(expected total <= \d+ bytes/);
              // Nothing changed: every argument (inputs, outputs, running statistics) as before.
              const now = valuesOf(p);
              for (const [name, was] of keep) expect(firstBitDifference(now.get(name)!, was), `${what}: ${name} changed by a failed call`).toBe(-1);
            } else {
              done++;
              sameBits(results(c, p), c.js, what);
            }
            expect(allEqual(filler.data, -3), `${what}: an existing tensor was changed`).toBe(true);
            expect(userBlocks(rt), `${what}: blocks leaked`).toBe(blocksBefore);
            expect(rt.memoryStats().inUse - rt.arena.internalRanges().reduce((s, [a, b]) => s + b - a, 0), `${what}: bytes leaked`).toBe(usedBefore);
            // Still usable: with the filler gone the same call succeeds, exactly.
            filler.free();
            const p2 = place(c, rt, (s) => mode === "plain" || (mode === "mixed" && s.role !== "row"));
            op.call(rt, cols, p2.a, defaultParams, p2.o);
            sameBits(results(c, p2), c.js, `${what}, then again with memory`);
          }
        }
      }
      expect(failed).toBeGreaterThan(0);
      expect(done).toBeGreaterThan(0);
      report(`${op.name} recovery calls`, failed + done, `${failed} failed cleanly, ${done} completed`);
    });
  }
});

describe("recovery: outputs an op allocates itself are freed when a later allocation fails", () => {
  // The registry's calls pass every output; these use the public defaults (no out / dx given), with
  // x a tensor (so the result is a new tensor) and a plain weight (so the call also stages). Memory
  // is left with room for the result but not for the staging scratch.
  const cols = 256, rows = 64, n = rows * cols;
  const w = new Float32Array(cols).fill(1), b = new Float32Array(cols);
  const calls: [string, (x: Tensor, rt: Runtime) => unknown][] = [
    ["layerNorm", (x, rt) => layerNorm(x, cols, { weight: w, runtime: rt })],
    ["rmsNorm", (x, rt) => rmsNorm(x, cols, { weight: w, runtime: rt })],
    ["skipLayerNorm", (x, rt) => skipLayerNorm(x, x, cols, { weight: w, runtime: rt })],
    ["skipRmsNorm", (x, rt) => skipRmsNorm(x, x, cols, { weight: w, runtime: rt })],
    ["layerNormBackward", (x, rt) => layerNormBackward(x, x, cols, { weight: w, runtime: rt })],
    ["rmsNormBackward", (x, rt) => rmsNormBackward(x, x, cols, { weight: w, runtime: rt })],
    ["batchNorm", (x, rt) => batchNorm(x, [rows, cols], { channelAxis: -1, runningMean: b, runningVar: w, runtime: rt })],
  ];
  it.each(calls)("%s", (_name, call) => {
    const CAP = 1 << 20;
    let failed = 0;
    // Room for the results (up to 3 tensors) and a little more, in steps.
    for (let room = 4 * n; room <= 4 * n + 3 * 64 * 64; room += 1024) {
      const rt = createRuntime({ backend: "wasm", maxMemoryBytes: CAP });
      const x = rt.from(new Float32Array(n).fill(0.5));
      const filler = rt.alloc(Math.floor((CAP - rt.memoryStats().heapTop - room) / 4) - 16);
      const blocks = userBlocks(rt);
      try { call(x, rt); } catch (e) {
        expect((e as Error).message).toMatch(/^cannot allocate/);
        expect(userBlocks(rt), `room ${room}: the result allocated before the failure was leaked`).toBe(blocks);
        failed++;
      }
      filler.free();
    }
    expect(failed).toBeGreaterThan(0);
  });
});
