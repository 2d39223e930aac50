// The call layer under attack, for every registry op and every argument (issue: one signature per
// op). Each class of defect found in the old per-op wrappers has a test here:
//  - growth: memory grows inside the call (its output tensor, work area or staging scratch) while
//    every other argument is a view over wasm memory; the result must equal the JS fallback's bits;
//  - misspelt option keys are a TypeError that names the key and suggests the right one;
//  - options are read once: getters that answer differently on a second read, and Proxies;
//  - Float32Array subclasses that lie about length/byteOffset/buffer/subarray/species;
//  - forged and mutated tensors;
//  - a trap and a stall in a worker: the call throws a diagnosis, the pool is retired, the next
//    call is right; init() raced with a first call.
import { afterAll, describe, expect, it, vi } from "vitest";
import { createRuntime, layerNorm, rmsNorm, Runtime, Tensor } from "../src/index.js";
import { KERNEL_NAMES, kernelModule } from "../src/runtime/module.js";
import { defaultParams, ops, type Args, type OpEntry, type PlainArgs } from "../src/registry.js";
import { firstBitDifference, normal } from "./data.js";
import { makeInputs, run, variants, type Variant } from "./harness.js";

const ROWS = 5, COLS = 19;

/** The variant with every optional argument present, nothing in place, no broadcast. */
function full(op: OpEntry): Variant {
  return variants(op).filter((v) => !v.inPlace && !v.broadcast).reduce((a, b) => (b.present.size > a.present.size ? b : a));
}

/** Outputs (and updated inputs) of a call, by name, from its outs and its return value. */
function results(op: OpEntry, ret: unknown, outs: Args, a: Args): Record<string, Float32Array> {
  const r: Record<string, Float32Array> = {};
  const data = (v: unknown) => (v instanceof Tensor ? v.data : (v as Float32Array)).slice();
  for (const spec of op.outputs) {
    const named = ret && typeof ret === "object" && !(ret instanceof Float32Array) && !(ret instanceof Tensor) ? (ret as Record<string, unknown>)[spec.name] : spec === op.outputs[0] ? ret : undefined;
    const v = outs[spec.name] ?? named;
    if (v) r[spec.name] = data(v);
  }
  for (const spec of op.inputs) if (spec.updated && a[spec.name]) r[spec.name] = data(a[spec.name]);
  return r;
}

function expectSameBits(got: Record<string, Float32Array>, want: Record<string, Float32Array>, what: string): void {
  for (const [k, w] of Object.entries(want)) {
    expect(got[k], `${what}: ${k} returned`).toBeDefined();
    const d = firstBitDifference(got[k]!, w);
    expect(d, `${what}: ${k} differs from the JS fallback at ${d}`).toBe(-1);
  }
}

const jsResult = (op: OpEntry, inputs: PlainArgs, v: Variant) => run(op, "js", COLS, inputs, v, defaultParams);

describe("memory growth inside a call never invalidates an accepted argument", () => {
  for (const op of ops) {
    for (const first of ["tensor", "plain"] as const) {
      it(`${op.name}: ${first} first input, every other argument a view over wasm memory, memory grows during the call`, () => {
        const v = full(op);
        const inputs = makeInputs(op, ROWS, COLS, ["normal", "offset40000"], v, 7);
        const want = jsResult(op, inputs, v);
        const rt = createRuntime({ backend: "wasm" });
        // Tensors for every argument, then a filler up to the end of memory: the call's first
        // allocation (its output tensor, work area or staging scratch) must grow memory.
        const tensors = new Map<string, Tensor>();
        for (const spec of op.inputs) if (inputs[spec.name]) tensors.set(spec.name, rt.from(inputs[spec.name]!));
        const outNames = op.outputs.filter((s) => !s.optional || v.present.has(s.name)).map((s) => s.name).slice(1);
        for (const name of outNames) tensors.set(name, rt.alloc(want[name]!.length));
        const st = rt.memoryStats();
        const filler = rt.alloc(Math.max(1, (st.memoryBytes - st.heapTop) / 4 - 16));
        const before = rt.memoryStats().memoryBytes;
        const a: Args = {}, o: Args = {};
        const firstName = op.inputs[0]!.name;
        for (const spec of op.inputs) {
          const t = tensors.get(spec.name);
          a[spec.name] = !t ? null : spec.name === firstName ? (first === "tensor" ? t : inputs[spec.name]!.slice()) : t.data;
        }
        for (const name of outNames) o[name] = tensors.get(name)!.data;
        // The first output is left out: allocated by the call (a Tensor when the first input is one).
        const ret = op.call(rt, COLS, a, defaultParams, o);
        expect(rt.memoryStats().memoryBytes, "memory grew during the call").toBeGreaterThan(before);
        // Outputs given as views are read back through their tensors (the views are detached now).
        const outs: Args = {};
        for (const name of outNames) outs[name] = tensors.get(name)!;
        const args: Args = { ...a };
        for (const spec of op.inputs) if (spec.updated && tensors.get(spec.name)) args[spec.name] = tensors.get(spec.name)!;
        expectSameBits(results(op, ret, outs, args), want, op.name);
        filler.free();
      });
    }
  }

  it("tensor(t.data) and layerNorm with a module's weight views, many times, across growth", () => {
    const rt = createRuntime({ backend: "wasm" });
    const t = rt.from(normal(1000, 1));
    for (let i = 0; i < 100; i++) expect(rt.from(t.data).length).toBe(1000);
    const x = rt.from(normal(3072, 2)), w = rt.from(normal(768, 3)), b = rt.from(normal(768, 4));
    const want = layerNorm(x.data.slice(), 768, { weight: w.data.slice(), bias: b.data.slice() });
    for (let i = 0; i < 40; i++) {
      const y = layerNorm(x, 768, { weight: w.data, bias: b.data });
      expect(firstBitDifference(y.data, want)).toBe(-1);
    }
  });
});

/** A misspelling of `key`: two neighbours swapped, or (short keys) a letter dropped. */
const misspell = (key: string) => (key.length > 3 ? key.slice(0, 1) + key[2] + key[1] + key.slice(3) : key.slice(0, -1) + key.slice(-1).repeat(2));

describe("unknown option keys are a TypeError naming the key and the nearest valid one", () => {
  for (const op of ops) {
    it(`${op.name}: every option misspelt`, () => {
      const v = full(op);
      const inputs = makeInputs(op, ROWS, COLS, ["normal"], v, 3);
      const rt = createRuntime({ backend: "wasm" });
      let seen: string[] = [];
      op.call(rt, COLS, { ...inputs }, defaultParams, {}, (o) => { seen = Object.keys(o); return o; });
      expect(seen.length).toBeGreaterThan(2);
      for (const key of seen) {
        const bad = misspell(key);
        const a: Args = { ...inputs };
        const mem = new Uint8Array(rt.arena.buffer).slice();
        expect(() => op.call(rt, COLS, a, defaultParams, {}, (o) => {
          const copy: Record<string, unknown> = { ...o, [bad]: (o as Record<string, unknown>)[key] };
          delete copy[key];
          return copy as typeof o;
        }), `${op.name} with "${bad}"`).toThrow(new RegExp(`^\\w+: unknown option "${bad}" \\(did you mean "${key}"\\?\\); expected one of .*\\b${key}\\b`));
        const now = new Uint8Array(rt.arena.buffer).slice(0, mem.length);
        expect(now.every((b, i) => b === mem[i]), "linear memory unchanged").toBe(true);
      }
    });
  }
});

describe("options are read once", () => {
  for (const op of ops) {
    it(`${op.name}: a getter that answers differently on a second read, and a Proxy, change nothing`, () => {
      const v = full(op);
      const inputs = makeInputs(op, ROWS, COLS, ["normal"], v, 5);
      const want = jsResult(op, inputs, v);
      const rt = createRuntime({ backend: "wasm" });
      const decoy = rt.alloc(4096);
      decoy.data.fill(3);
      const outs = (): Args => Object.fromEntries(op.outputs.filter((s) => !s.optional || v.present.has(s.name)).map((s) => [s.name, new Float32Array(want[s.name]!.length)]));
      const reads = new Map<string, number>();
      // Getters: the first read gives the real value, every later one a hostile one.
      const fresh = (): PlainArgs => Object.fromEntries(Object.entries(inputs).map(([k, x]) => [k, x ? x.slice() : null]));
      const o1 = outs(), in1 = fresh();
      const r1 = op.call(rt, COLS, in1, defaultParams, o1, (o) => {
        const g: Record<string, unknown> = {};
        for (const [k, val] of Object.entries(o)) {
          Object.defineProperty(g, k, {
            enumerable: true,
            get: () => {
              const n = (reads.get(k) ?? 0) + 1;
              reads.set(k, n);
              return n === 1 ? val : val instanceof Float32Array ? decoy.data : typeof val === "number" ? -1 : val;
            },
          });
        }
        return g as typeof o;
      });
      for (const [k, n] of reads) expect(n, `option ${k} read ${n} times`).toBe(1);
      expectSameBits(results(op, r1, o1, in1), want, `${op.name} (getters)`);
      // A Proxy whose get trap counts reads the same way.
      reads.clear();
      const o2 = outs(), in2 = fresh();
      const r2 = op.call(rt, COLS, in2, defaultParams, o2, (o) => new Proxy(o, {
        get(target, k, recv) {
          if (typeof k === "string") reads.set(k, (reads.get(k) ?? 0) + 1);
          return (reads.get(k as string) ?? 0) > 1 ? decoy.data : Reflect.get(target, k, recv);
        },
      }));
      for (const [k, n] of reads) expect(n, `option ${k} read ${n} times through the Proxy`).toBe(1);
      expectSameBits(results(op, r2, o2, in2), want, `${op.name} (Proxy)`);
      expect(decoy.data.every((x) => x === 3), "the decoy was never written").toBe(true);
    });
  }
});

/** A Float32Array subclass that lies about everything a wrapper could ask it. */
class Liar extends Float32Array {
  static decoy: Float32Array<ArrayBuffer> = new Float32Array(64);
  static get [Symbol.species]() { return Liar.Species; }
  static Species = class extends Float32Array { constructor() { super(Liar.decoy.buffer, 0, 4); } };
  override get length(): number { return 3; }
  override get byteOffset(): number { return 8; }
  override get buffer(): ArrayBuffer { return Liar.decoy.buffer as ArrayBuffer; }
  override subarray(): Float32Array<ArrayBuffer> { return Liar.decoy; }
  override set(): void { throw new Error("Liar.set must not be called"); }
}

describe("arrays are read through the intrinsic getters", () => {
  for (const op of ops) {
    it(`${op.name}: subclasses overriding length, byteOffset, buffer, subarray, set and species, and own shadowing properties`, () => {
      const v = full(op);
      const inputs = makeInputs(op, ROWS, COLS, ["normal"], v, 9);
      const want = jsResult(op, inputs, v);
      for (const backend of ["wasm", "js"] as const) {
        const rt = createRuntime({ backend });
        Liar.decoy.fill(5);
        const liar = (src: Float32Array): Float32Array => {
          const l = new Liar(src.length);
          Float32Array.prototype.set.call(l, src);
          return l;
        };
        const a: Args = {};
        for (const [k, val] of Object.entries(inputs)) a[k] = val ? liar(val) : null;
        const o: Args = {};
        for (const spec of op.outputs) if (!spec.optional || v.present.has(spec.name)) {
          const out = liar(new Float32Array(want[spec.name]!.length));
          if (spec === op.outputs[1]) Object.defineProperty(out, "length", { value: 1 }); // an own property shadowing the getter
          o[spec.name] = out;
        }
        const ret = op.call(rt, COLS, a, defaultParams, o);
        const plain = (x: unknown) => (x ? new Float32Array(x as Float32Array) : x);
        const got = results(op, ret, Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x) as Float32Array])), Object.fromEntries(Object.entries(a).map(([k, x]) => [k, plain(x) as Float32Array])));
        expectSameBits(got, want, `${op.name} (${backend})`);
        expect(Liar.decoy.every((x) => x === 5), "the decoy was never written").toBe(true);
      }
    });
  }
});

describe("tensors cannot be forged or redirected", () => {
  const rt = createRuntime({ backend: "wasm" });
  it("Object.create(Tensor.prototype) and a tensor-shaped object are rejected", () => {
    const real = rt.from(normal(8, 1));
    const forged = Object.create(Tensor.prototype) as Tensor;
    for (const fake of [forged, { byteOffset: real.byteOffset, length: 8, data: real.data, arena: rt.arena }]) {
      expect(() => layerNorm(fake as Tensor, 4, { runtime: rt })).toThrow(/^x: expected a Float32Array or Tensor, got /);
    }
    expect(() => forged.byteOffset).toThrow(TypeError);
  });
  it("a tensor's length and byteOffset cannot be changed, and own properties shadowing them are ignored", () => {
    const x = rt.from(normal(8, 2)), victim = rt.from(normal(64, 3));
    const before = victim.data.slice();
    expect(() => { (x as { length: number }).length = 64; }).toThrow(TypeError);
    Object.defineProperty(x, "byteOffset", { value: victim.byteOffset });
    Object.defineProperty(x, "length", { value: 64 });
    const y = layerNorm(x, 4);
    expect(y.length).toBe(8);
    expect(firstBitDifference(victim.data, before), "no write through the shadowing properties").toBe(-1);
  });
  it("prints readably and disposes with Symbol.dispose", () => {
    const t = rt.from([0.5, -1.25, 3]);
    expect(String(t)).toBe("Tensor(3) [0.5, -1.25, 3]");
    expect(`${rt.from(new Float32Array(10))}`).toBe("Tensor(10) [0, 0, 0, 0, 0, 0, ...]");
    // Symbol.dispose where the engine has it (Node 20, Chromium, Firefox); its registered stand-in elsewhere (WebKit 2.50).
    const dispose: symbol = Symbol.dispose ?? Symbol.for("Symbol.dispose");
    const disposable = t as unknown as Record<symbol, () => void>;
    disposable[dispose]!();
    expect(t.freed).toBe(true);
    disposable[dispose]!(); // a second dispose is a no-op
  });
});

describe("the kernel list matches the module", () => {
  it("KERNEL_NAMES (checked against the Kernels interface by the compiler) equals the module's exports", () => {
    const exports = WebAssembly.Module.exports(kernelModule()).map((e) => e.name).sort();
    expect(exports).toEqual([...KERNEL_NAMES].sort());
  });
});

describe("a worker that traps or stalls never hangs the caller", () => {
  const made: Runtime[] = [];
  afterAll(() => { for (const rt of made) rt.shutdown(); });
  const threaded = async () => {
    const rt = await Runtime.create({ threads: 2 });
    rt.threadMinElements = 0;
    rt.partElements = 1;
    made.push(rt);
    expect(rt.threads).toBe(2);
    return rt;
  };
  const x = normal(64 * 33, 4), want = layerNorm(x, 33, { runtime: createRuntime({ backend: "js" }) });
  const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
  afterAll(() => warn.mockRestore());

  for (const plain of [false, true]) {
    it(`a trap in a worker (${plain ? "staged plain arrays" : "tensors"}): the call throws naming the kernel, later calls are right`, async () => {
      const rt = await threaded();
      const arg = plain ? x : rt.from(x);
      rt.pool!.debugFault(0, "trap");
      expect(() => layerNorm(arg, 33, { runtime: rt })).toThrow(/^thread pool: kernel "layerNorm" failed on worker 0: .*unreachable.*; the pool was retired/i); // V8 "unreachable", JSC "Unreachable code should not be executed"
      expect(rt.threads).toBe(1);
      const y = layerNorm(arg, 33, { runtime: rt });
      expect(firstBitDifference(y instanceof Tensor ? y.data : y, want)).toBe(-1);
    });
  }

  it("a stalled worker: the wait is bounded and says which worker holds the job", async () => {
    const rt = await threaded();
    rt.pool!.stallMs = 300;
    rt.pool!.debugFault(0, "stall");
    const t = rt.from(x);
    expect(() => layerNorm(t, 33, { runtime: rt })).toThrow(/^thread pool: kernel "layerNorm" made no progress for \d+ ms: \d+ of \d+ parts done; worker 0 still running part \d+/);
    expect(rt.threads).toBe(1);
    expect(firstBitDifference(layerNorm(t, 33, { runtime: rt }).data, want)).toBe(-1);
  });

  it("plain-array calls run on the pool, split into chunks, with the same bits", async () => {
    const rt = await threaded();
    const big = normal(512 * 97, 6), w = normal(97, 7);
    const ref = layerNorm(big, 97, { weight: w, runtime: createRuntime({ backend: "js" }) });
    const jobs = rt.pool!.jobs, chunks = rt.chunks;
    const y = layerNorm(big, 97, { weight: w, runtime: rt });
    expect(rt.pool!.jobs - jobs, "pool jobs").toBeGreaterThan(1);
    expect(rt.chunks - chunks, "staged chunks").toBeGreaterThan(1);
    expect(firstBitDifference(y, ref)).toBe(-1);
  });
});

describe("init() and the default runtime", () => {
  it("init() not awaited, then a first call: the call's runtime is the one init made, tensors stay valid", async () => {
    vi.resetModules();
    const lib = await import("../src/index.js");
    const pending = lib.init();
    const t = lib.tensor(normal(16, 1));
    await pending;
    const y = lib.layerNorm(t, 8, { weight: lib.tensor(normal(8, 2)) });
    expect(y.length).toBe(16);
  });
  it("init({ threads: 2 }) raced by a first call rejects with a message that says so, and the runtime keeps working", async () => {
    vi.resetModules();
    const lib = await import("../src/index.js");
    const pending = lib.init({ threads: 2 });
    const t = lib.tensor(normal(16, 1));
    await expect(pending).rejects.toThrow(/^init: the default runtime already exists \(with 1 thread, backend "wasm"\) and cannot take threads: 2; an op, tensor\(\) or alloc\(\) ran before init finished/);
    expect(lib.layerNorm(t, 8).length).toBe(16);
    expect(lib.getThreads()).toBe(1);
  });
});

describe("a repeated call (the memo that skips checking and planning) is the same call", () => {
  for (const op of ops) {
    for (const kind of ["tensor", "plain"] as const) {
      it(`${op.name}: ${kind} arguments, called again with new data, freed or resized arrays, other scalars`, () => {
        const v = full(op);
        const rt = createRuntime({ backend: "wasm" });
        const inputs = makeInputs(op, ROWS, COLS, ["normal", "offset40000"], v, 11);
        const want = jsResult(op, inputs, v);
        const wrap = (f: Float32Array): Float32Array | Tensor => (kind === "tensor" ? rt.from(f) : f.slice());
        const a: Args = {}, o: Args = {};
        for (const spec of op.inputs) a[spec.name] = inputs[spec.name] ? wrap(inputs[spec.name]!) : null;
        for (const spec of op.outputs) if (want[spec.name]) o[spec.name] = wrap(new Float32Array(want[spec.name]!.length));
        const updated = op.inputs.filter((s) => s.updated && a[s.name]);
        const reset = () => { for (const s of updated) set(a[s.name]!, inputs[s.name]!); };
        const set = (t: Float32Array | Tensor, f: Float32Array) => (t instanceof Tensor ? t.data : t).set(f);
        const check = (what: string, w = want) => {
          reset();
          const ret = op.call(rt, COLS, a, defaultParams, o);
          expectSameBits(results(op, ret, o, a), w, `${op.name} ${what}`);
        };
        const before = rt.chunks;
        for (let i = 0; i < 3; i++) check(`call ${i + 1}`);
        expect(rt.chunks - before, "the kernels ran on every call").toBeGreaterThanOrEqual(3);
        // The row ops' calls are memoized (the others have hooks or work areas, and run in full every time).
        const memoized = (rt as unknown as { memos: unknown[] }).memos.some((m) => m !== undefined);
        expect(memoized, "a memo was kept").toBe(["layerNorm", "rmsNorm", "skipLayerNorm", "skipRmsNorm"].includes(op.name));
        // New values in the first input: the repeat reads them (it keeps sizes and pointers, never data).
        const x = op.inputs[0]!.name, x2 = inputs[x]!.map((e, i) => e * 0.5 + (i % 3));
        const want2 = jsResult(op, { ...inputs, [x]: x2 }, v);
        set(a[x]!, x2);
        check("new data", want2);
        check("new data again", want2);
        // Between repeats, memory grows and another op's larger plain call moves the staging
        // scratch: a repeat stages through the current scratch and buffer, not the memo's first.
        const scratch = rt.scratchPtr, big = rt.alloc(rt.memoryStats().memoryBytes / 4);
        (op.name === "rmsNorm" ? layerNorm : rmsNorm)(new Float32Array(1 << 16), 1024, { runtime: rt });
        expect(rt.scratchPtr, "the scratch moved").not.toBe(scratch);
        check("after growth and a new scratch", want2);
        big.free();
        set(a[x]!, inputs[x]!);
        // Another eps: a different call.
        const p2 = { ...defaultParams, eps: 0.25 };
        reset();
        const ret = op.call(rt, COLS, a, p2, o);
        expectSameBits(results(op, ret, o, a), run(op, "js", COLS, inputs, v, p2), `${op.name} eps 0.25`);
        check("back to the first eps");
        // The first input freed (tensor) or detached (plain): the repeat is rejected like a new call.
        const o0 = o[op.outputs[0]!.name]!;
        const out0 = (o0 instanceof Tensor ? o0.data : o0).slice();
        if (a[x] instanceof Tensor) {
          (a[x] as Tensor).free();
          expect(() => op.call(rt, COLS, a, defaultParams, o)).toThrow(/expected a live tensor, got a freed one/);
        } else {
          structuredClone((a[x] as Float32Array).buffer, { transfer: [(a[x] as Float32Array).buffer] });
          expect(() => op.call(rt, COLS, a, defaultParams, o)).toThrow(/detached|length/);
        }
        expect(firstBitDifference(o0 instanceof Tensor ? o0.data : o0, out0), "the rejected call wrote nothing").toBe(-1);
      });
    }
  }

  it("plain arrays that trade places, or one array in two places, make a new call, not a repeat", () => {
    for (const backend of ["wasm", "js"] as const) {
      const rt = createRuntime({ backend }), D = 24;
      const src = normal(3 * D, 9), a = src.slice(), b = new Float32Array(3 * D), w = normal(D, 10);
      const once = (x: Float32Array) => layerNorm(x.slice(), D, { weight: w.slice(), runtime: createRuntime({ backend: "js" }) });
      const y1 = once(src), y2 = once(y1), y3 = once(y2);
      for (let i = 0; i < 2; i++) layerNorm(a, D, { weight: w, out: b, runtime: rt }); // a memo: x = a, out = b
      expect(firstBitDifference(b, y1), `${backend}: b = f(a)`).toBe(-1);
      layerNorm(b, D, { weight: w, out: a, runtime: rt }); // the two arrays swapped
      expect(firstBitDifference(a, y2), `${backend}: a = f(b)`).toBe(-1);
      layerNorm(a, D, { weight: w, out: a, runtime: rt }); // in place: a in both places
      expect(firstBitDifference(a, y3), `${backend}: a = f(a) in place`).toBe(-1);
      layerNorm(a, D, { weight: a.subarray(0, D), out: b, runtime: rt }); // a as x and (a view of it) as weight
      expect(firstBitDifference(b, layerNorm(y3.slice(), D, { weight: y3.slice(0, D), runtime: createRuntime({ backend: "js" }) })), `${backend}: a as x and weight`).toBe(-1);
      // Two outputs that were separate arrays, now one: refused as in a new call, nothing written.
      const m1 = new Float32Array(3), r1 = new Float32Array(3);
      for (let i = 0; i < 2; i++) layerNorm(a, D, { out: b, mean: m1, invStdDev: r1, runtime: rt });
      const before = [b.slice(), m1.slice()];
      expect(() => layerNorm(a, D, { out: b, mean: m1, invStdDev: m1, runtime: rt })).toThrow(/^invStdDev: expected memory separate from mean, got the same memory/);
      expect([firstBitDifference(b, before[0]!), firstBitDifference(m1, before[1]!)], `${backend}: nothing written`).toEqual([-1, -1]);
    }
  });

  it("a threaded runtime's small plain-array calls run in its unshared twin, repeats included; tensors, views, large calls and a lowered threshold do not", async () => {
    const rt = await Runtime.create({ threads: 2 });
    try {
      const D = 64, x = normal(8 * D, 11), w = normal(D, 12), want = layerNorm(x, D, { weight: w, runtime: createRuntime({ backend: "wasm" }) });
      const jobs = () => (rt as unknown as { pool: { jobs: number } }).pool.jobs;
      const twin = (rt as unknown as { madeTwin: Runtime | null });
      const out = new Float32Array(x.length);
      for (let i = 0; i < 3; i++) {
        const chunks = rt.chunks;
        expect(layerNorm(x, D, { weight: w, out, runtime: rt })).toBe(out);
        expect(firstBitDifference(out, want)).toBe(-1);
        expect(rt.chunks, `call ${i} ran in the twin`).toBe(chunks);
      }
      const t = twin.madeTwin!;
      expect(t.shared).toBe(false);
      // A tensor argument, or a view over the runtime's memory: the call runs in the runtime itself.
      const tw = rt.from(w);
      let chunks = rt.chunks;
      layerNorm(x, D, { weight: tw, out, runtime: rt });
      expect(rt.chunks).toBeGreaterThan(chunks);
      chunks = rt.chunks;
      layerNorm(x, D, { weight: tw.data, out, runtime: rt });
      expect(rt.chunks).toBeGreaterThan(chunks);
      expect(firstBitDifference(out, want)).toBe(-1);
      tw.free();
      // The twin's repeat is not taken once the threshold lets the pool have the call.
      layerNorm(x, D, { weight: w, out, runtime: rt });
      const before = jobs();
      rt.threadMinElements = 0;
      rt.partElements = D;
      layerNorm(x, D, { weight: w, out, runtime: rt });
      expect(jobs(), "ran on the pool").toBeGreaterThan(before);
      expect(firstBitDifference(out, want)).toBe(-1);
      rt.threadMinElements = 1 << 17;
      rt.partElements = 1 << 15;
      // After shutdown every plain call is the calling thread's: the twin, whatever its size.
      rt.shutdown();
      const big = normal(4096 * D, 13), ref = layerNorm(big, D, { runtime: createRuntime({ backend: "wasm" }) });
      chunks = rt.chunks;
      expect(firstBitDifference(layerNorm(big, D, { runtime: rt }), ref)).toBe(-1);
      expect(rt.chunks).toBe(chunks);
    } finally {
      rt.shutdown();
    }
  });

  it("a plain array over a resizable buffer that shrinks between calls, and a runtime whose thread threshold drops", async () => {
    const rt = createRuntime({ backend: "wasm" });
    // Resizable ArrayBuffer (ES2024; the project's lib is ES2022).
    const D = 16, buf = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(4 * D * 4, { maxByteLength: 4 * D * 8 });
    const x = new Float32Array(buf); // length-tracking
    x.set(normal(4 * D, 5));
    const out = new Float32Array(4 * D);
    expect(layerNorm(x, D, { out, runtime: rt })).toBe(out);
    expect(layerNorm(x, D, { out, runtime: rt })).toBe(out);
    // The same call without out (absent where the memo had a plain array): a new array.
    const fresh = layerNorm(x, D, { runtime: rt });
    expect(fresh).not.toBe(out);
    expect(firstBitDifference(fresh, out)).toBe(-1);
    buf.resize(4 * D * 2);
    expect(x.length).toBe(2 * D);
    expect(() => layerNorm(x, D, { out, runtime: rt })).toThrow(/out length: expected 32 \(x length\), got 64/);
    const rt2 = await Runtime.create({ threads: 2 });
    try {
      const t = rt2.from(normal(64 * D, 6)), y = rt2.alloc(64 * D);
      const want = layerNorm(t.data.slice(), D);
      for (let i = 0; i < 2; i++) layerNorm(t, D, { out: y });
      const jobs = (rt2 as unknown as { pool: { jobs: number } }).pool.jobs;
      rt2.threadMinElements = 0;
      rt2.partElements = D;
      layerNorm(t, D, { out: y });
      expect((rt2 as unknown as { pool: { jobs: number } }).pool.jobs, "the repeat ran on the pool once the threshold allowed it").toBeGreaterThan(jobs);
      expect(firstBitDifference(y.data, want)).toBe(-1);
    } finally {
      rt2.shutdown();
    }
  });

  it("tensors freed between repeats: other tensors leave the repeat alone, one the call uses is refused", () => {
    const rt = createRuntime({ backend: "wasm" });
    const x = rt.from(normal(64, 9)), w = rt.from(normal(16, 10)), b = rt.from(normal(16, 11)), y = rt.alloc(64);
    const want = layerNorm(x.data.slice(), 16, { weight: w.data.slice(), bias: b.data.slice() });
    for (let i = 0; i < 3; i++) {
      rt.alloc(8).free(); // the memo's tensors are checked again after any free, and are still live
      y.data.fill(0);
      expect(layerNorm(x, 16, { weight: w, bias: b, out: y })).toBe(y);
      expect(firstBitDifference(y.data, want)).toBe(-1);
    }
    b.free();
    const before = y.data.slice();
    expect(() => layerNorm(x, 16, { weight: w, bias: b, out: y })).toThrow(/^bias: expected a live tensor, got a freed one/);
    expect(firstBitDifference(y.data, before)).toBe(-1);
  });

  it("an inherited key is not an option, even where the last call gave the same key as its own", () => {
    const rt = createRuntime({ backend: "wasm" });
    const x = normal(64, 12), w = normal(16, 13), other = new Float32Array(64);
    const out = new Float32Array(64);
    for (let i = 0; i < 2; i++) layerNorm(x, 16, { weight: w, runtime: rt, out });
    // for-in gives the same keys in the same order, but `out` comes from the prototype: a new array is returned.
    const o = Object.assign(Object.create({ out: other }) as object, { weight: w, runtime: rt });
    const got = layerNorm(x, 16, o);
    expect(got).not.toBe(other);
    expect(firstBitDifference(got, out)).toBe(-1);
    expect(other.every((e) => e === 0), "the inherited out was not written").toBe(true);
    // And the first key inherited: weight is not applied.
    for (let i = 0; i < 2; i++) layerNorm(x, 16, { out, runtime: rt, weight: w });
    const o2 = Object.assign(Object.create({ weight: w }) as object, { out: other, runtime: rt });
    expect(firstBitDifference(layerNorm(x, 16, o2), layerNorm(x, 16, { runtime: rt }))).toBe(-1);
  });

  it("an option getter that frees a tensor during a repeat: the call sees the freed tensor", () => {
    const rt = createRuntime({ backend: "wasm" });
    const x = rt.from(normal(64, 7)), w = rt.from(normal(16, 8)), y = rt.alloc(64);
    for (let i = 0; i < 2; i++) layerNorm(x, 16, { weight: w, out: y });
    const before = y.data.slice();
    expect(() => layerNorm(x, 16, { weight: w, get out() { w.free(); return y; } })).toThrow(/weight: expected a live tensor, got a freed one/);
    expect(firstBitDifference(y.data, before)).toBe(-1);
  });
});
