// Hostile calls, generated from the registry for every op and every argument (so an op added
// later is covered), plus a table of shape, parameter, runtime and initialisation abuse. Each
// case asserts: the error class; a message naming the argument, what was expected and what
// arrived; nothing written (every array argument and the runtime's whole linear memory are
// byte-identical afterwards); and that the library still works (the op, called correctly on the
// same runtime, returns the JS fallback's bits). test/errors.test.ts holds the hand-written
// per-op error rows; this file adds the categories across all ops.
import { describe, expect, it } from "vitest";
import {
  batchNorm, createRuntime, init, layerNorm, layerNormBackward, rmsNorm, Runtime, skipLayerNorm, Tensor, wasmBytes,
} from "../src/index.js";
import { defaultParams, ops, sizeOf, type ArgSpec, type Args, type OpEntry, type Params, type PlainArgs } from "../src/registry.js";
import { firstBitDifference, normal } from "./data.js";
import { makeInputs, run, variants, type Variant } from "./harness.js";

const ROWS = 3, COLS = 5;

/** A hostile value for one argument: what to pass, the error it must raise. */
interface Hostile {
  kind: string;
  error: typeof TypeError | typeof RangeError;
  /** Message pattern; gets the argument's name. */
  message: (name: string) => RegExp;
  /** The value, made in `rt` from the argument's valid value; `other` is a second runtime. */
  make(rt: Runtime, valid: Float32Array, other: Runtime): unknown;
  /** Only for some arguments. */
  applies?(op: OpEntry, spec: ArgSpec, isFirst: boolean): boolean;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const wrongType = (name: string) => new RegExp(`^${esc(name)}: expected a Float32Array or Tensor, got `);

const hostiles: Hostile[] = [
  { kind: "plain array", error: TypeError, message: wrongType, make: (_rt, v) => Array.from(v) },
  { kind: "Float64Array", error: TypeError, message: wrongType, make: (_rt, v) => Float64Array.from(v) },
  { kind: "Int32Array", error: TypeError, message: wrongType, make: (_rt, v) => Int32Array.from(v) },
  { kind: "DataView", error: TypeError, message: wrongType, make: (_rt, v) => new DataView(v.slice().buffer) },
  { kind: "Uint8Array at an odd byte offset", error: TypeError, message: wrongType, make: (_rt, v) => new Uint8Array(new ArrayBuffer(4 * v.length + 1), 1, 4 * v.length) },
  { kind: "a number", error: TypeError, message: wrongType, make: () => 42 },
  { kind: "a Proxy of a Float32Array", error: TypeError, message: (n) => new RegExp(`^${esc(n)}: expected a Float32Array or Tensor, got an object posing as a Float32Array \\(a Proxy or an imitation, not a genuine one\\)`), make: (_rt, v) => new Proxy(v.slice(), { get: (t, k) => { const got: unknown = Reflect.get(t, k, t); return typeof got === "function" ? got.bind(t) : got; } }) },
  { kind: "one element too many", error: RangeError, message: (n) => new RegExp(`^${esc(n)} length: expected .+, got \\d+`), make: (_rt, v) => normal(v.length + 1, 3), applies: (_op, _s, first) => !first },
  { kind: "one element too few", error: RangeError, message: (n) => new RegExp(`^${esc(n)} length: expected .+, got \\d+`), make: (_rt, v) => normal(Math.max(v.length - 1, 0), 3), applies: (_op, _s, first) => !first },
  { kind: "freed tensor", error: TypeError, message: (n) => new RegExp(`^${esc(n)}: expected a live tensor, got a freed one`), make: (rt, v) => { const t = rt.from(v); t.free(); return t; } },
  { kind: "tensor of another runtime", error: TypeError, message: (n) => new RegExp(`^${esc(n)}: expected a tensor of this runtime, got one from another runtime`), make: (_rt, v, other) => other.from(v) },
  { kind: "view over another runtime's memory", error: TypeError, message: (n) => new RegExp(`^${esc(n)}: expected an array of this runtime, got a view over another runtime's memory`), make: (_rt, v, other) => other.from(v).data },
  { kind: "detached Float32Array", error: TypeError, message: (n) => new RegExp(`^${esc(n)}: expected a Float32Array over live memory, got one whose ArrayBuffer is detached`), make: (_rt, v) => { const a = v.slice(); structuredClone(a.buffer, { transfer: [a.buffer] }); return a; } },
  { kind: "view over freed wasm memory", error: RangeError, message: (n) => new RegExp(`^${esc(n)}: expected a view inside a live tensor, got a view over free or internal wasm memory`), make: (rt, v) => { const t = rt.from(v); const view = t.data; t.free(); return view; }, applies: (_op, spec, first) => !first || spec.role === "row" },
  // A tensor one float short (its block is rounded up to 64 bytes) and a view of the valid length from its start.
  { kind: "view running past a tensor's end", error: RangeError, message: (n) => new RegExp(`^${esc(n)}: expected a view inside a live tensor, got a view over free or internal wasm memory or past a tensor's end \\(\\d+ floats at byte \\d+\\)`), make: (rt, v) => { const t = rt.alloc(v.length - 1); return new Float32Array(t.data.buffer, t.data.byteOffset, v.length); }, applies: (_op, spec, first) => !first || spec.role === "row" },
];

interface Carrier { label: string; tensors: boolean }
const carriers: Carrier[] = [{ label: "plain arrays", tensors: false }, { label: "tensors", tensors: true }];

/** The variant with every optional argument present and nothing in place. */
const fullVariant = (op: OpEntry): Variant => {
  const vs = variants(op).filter((v) => !v.inPlace && !v.broadcast);
  return vs.reduce((a, b) => (b.present.size > a.present.size ? b : a));
};

/** Valid arguments of `op` (all present), plain or as tensors of `rt`; outputs prefilled with 7. */
function validArgs(op: OpEntry, rt: Runtime, tensors: boolean, seed: number): { a: Args; o: Args; plain: PlainArgs; owned: Tensor[] } {
  const v = fullVariant(op);
  const plain = makeInputs(op, ROWS, COLS, ["normal"], v, seed);
  const owned: Tensor[] = [];
  const wrap = (arr: Float32Array | null): Float32Array | Tensor | null => {
    if (!arr || !tensors) return arr;
    const t = rt.from(arr);
    owned.push(t);
    return t;
  };
  const a: Args = {}, o: Args = {};
  for (const spec of op.inputs) a[spec.name] = wrap(plain[spec.name] ?? null);
  for (const spec of op.outputs) {
    const arr = new Float32Array(sizeOf(op, spec.role, ROWS, COLS)).fill(7);
    plain[spec.name] = arr;
    o[spec.name] = wrap(arr);
  }
  return { a, o, plain, owned };
}

/** Copies of every array argument and of the whole linear memory. */
function snapshot(rt: Runtime, args: unknown[]): () => void {
  // Detached arrays and views hold nothing to compare.
  const arrays = args.filter((x): x is Float32Array | Tensor => (ArrayBuffer.isView(x) && x instanceof Float32Array && x.buffer.byteLength > 0) || (x instanceof Tensor && !x.freed));
  const before = arrays.map((x) => (x instanceof Tensor ? x.data.slice() : x.slice()));
  const mem = rt.arena.u8.slice();
  return () => {
    arrays.forEach((x, i) => {
      const now = x instanceof Tensor ? x.data : x;
      expect(firstBitDifference(now, before[i]!), `argument ${i} changed`).toBe(-1);
    });
    const u8 = rt.arena.u8;
    let at = -1;
    for (let i = 0; i < mem.length; i++) if (u8[i] !== mem[i]) { at = i; break; }
    expect(at, "a byte of linear memory changed").toBe(-1);
  };
}

/** Calls `call`; asserts the throw, its class and message, and that nothing was written. */
function expectHostile(rt: Runtime, args: unknown[], call: () => unknown, error: typeof TypeError | typeof RangeError | typeof Error, message: RegExp): void {
  const check = snapshot(rt, args);
  let thrown: unknown;
  try { call(); } catch (e) { thrown = e; }
  expect(thrown, "expected a throw").toBeInstanceOf(error);
  const msg = (thrown as Error).message;
  expect(msg).toMatch(message);
  expect(msg, "the message names what was expected and what arrived").toMatch(/expected .*got /s);
  check();
}

/** The op still computes the JS fallback's bits on `rt`, zero-copy and staged. */
function stillWorks(op: OpEntry, rt: Runtime): void {
  const v = fullVariant(op), p: Params = defaultParams;
  const inputs = makeInputs(op, ROWS + 2, COLS + 3, ["normal", "offset1e6"], v, 99);
  const js = run(op, "js", COLS + 3, inputs, v, p);
  for (const mode of ["tensor", "copy"] as const) {
    const got = run(op, mode, COLS + 3, inputs, v, p, rt.backend === "js" ? undefined : rt);
    for (const k of Object.keys(js)) expect(firstBitDifference(got[k]!, js[k]!), `${op.name} after the error: ${mode} ${k}`).toBe(-1);
  }
}

let distinct = 0;

for (const backend of ["wasm", "js"] as const) {
  describe(`hostile arguments, every op and argument (${backend} backend)`, () => {
    const rt = createRuntime({ backend });
    const other = createRuntime({ backend });
    for (const op of ops) {
      it(`${op.name}: every hostile value in every argument slot`, () => {
        const specs = [...op.inputs.map((s, i) => ({ spec: s, out: false, first: i === 0 })), ...op.outputs.map((s) => ({ spec: s, out: true, first: false }))];
        let n = 0;
        for (const carrier of carriers) {
          for (const { spec, out, first } of specs) {
            for (const h of hostiles) {
              if (h.applies && !h.applies(op, spec, first)) continue;
              const { a, o, plain, owned } = validArgs(op, rt, carrier.tensors, n);
              const bad = h.make(rt, plain[spec.name]!, other);
              (out ? o : a)[spec.name] = bad as Float32Array;
              const all = [...Object.values(a), ...Object.values(o), ...Object.values(plain), bad];
              try {
                expectHostile(rt, all, () => op.call(rt, COLS, a, defaultParams, o), h.error, h.message(spec.name));
              } catch (e) {
                throw new Error(`${op.name} ${spec.name} = ${h.kind} (${carrier.label}): ${(e as Error).message}`);
              }
              for (const t of owned) t.free();
              n++;
            }
          }
        }
        stillWorks(op, rt);
        distinct += n;
        expect(n).toBeGreaterThan(40);
      });

      it(`${op.name}: outputs aliasing or overlapping inputs and each other`, () => {
        let n = 0;
        for (const carrier of carriers) {
          for (const o of op.outputs) {
            for (const i of [...op.inputs, ...op.outputs]) {
              if (i === o) continue;
              const inPlace = op.inPlace?.some(([po, pi]) => po === o.name && pi === i.name);
              const no = sizeOf(op, o.role, ROWS, COLS), ni = sizeOf(op, i.role, ROWS, COLS);
              const { a, o: outs, plain, owned } = validArgs(op, rt, carrier.tensors, n);
              const isOut = op.outputs.includes(i);
              const target = (isOut ? outs : a)[i.name]!;
              if (no === ni && !inPlace) {
                // The same array in two slots.
                outs[o.name] = target;
              } else if (no <= ni && ni > 1) {
                // A view one element into the other argument: overlapping, not the same.
                const view = target instanceof Tensor ? target.data.subarray(1, 1 + Math.min(no, ni - 1)) : target.subarray(1, 1 + Math.min(no, ni - 1));
                if (view.length !== no) { for (const t of owned) t.free(); continue; }
                outs[o.name] = view;
              } else { for (const t of owned) t.free(); continue; }
              const names = `(${esc(o.name)}: expected memory separate from ${esc(i.name)}|${esc(i.name)}: expected memory separate from ${esc(o.name)})`;
              const all = [...Object.values(a), ...Object.values(outs), ...Object.values(plain)];
              try {
                expectHostile(rt, all, () => op.call(rt, COLS, a, defaultParams, outs), RangeError, new RegExp(`^${names}`));
              } catch (e) {
                throw new Error(`${op.name} ${o.name} over ${i.name} (${carrier.label}): ${(e as Error).message}`);
              }
              for (const t of owned) t.free();
              n++;
            }
          }
        }
        stillWorks(op, rt);
        distinct += n;
        expect(n).toBeGreaterThan(2);
      });

      it(`${op.name}: bad eps and scalar options`, () => {
        // A number out of range is a RangeError, a value of another kind a TypeError.
        const bad: [string, Partial<Params>, RegExp][] = [
          ["eps -1", { eps: -1 }, /^eps: expected a finite number >= 0, got number -1/],
          ["eps NaN", { eps: NaN }, /^eps: expected a finite number >= 0, got number NaN/],
          ["eps Infinity", { eps: Infinity }, /^eps: expected a finite number >= 0, got number Infinity/],
          ["eps a string", { eps: "1e-5" as never }, /^eps: expected a finite number >= 0, got string "1e-5"/],
          ["eps null", { eps: null as never }, /^eps: expected a finite number >= 0, got null/],
          ["eps a bigint", { eps: 1n as never }, /^eps: expected a finite number >= 0, got bigint 1/],
        ];
        for (const key of Object.keys(op.sweep ?? {})) {
          bad.push([`${key} -0.5`, { [key]: -0.5 }, new RegExp(`^${key}: expected .*got number -0.5`)], [`${key} NaN`, { [key]: NaN }, new RegExp(`^${key}: expected .*got number NaN`)], [`${key} 2`, { [key]: 2 }, new RegExp(`^${key}: expected .*got number 2`)],
            [`${key} a string`, { [key]: "0.5" as never }, new RegExp(`^${key}: expected .*got string "0.5"`)]);
        }
        for (const [label, p, message] of bad) {
          const { a, o, plain, owned } = validArgs(op, rt, true, 1);
          try {
            const error = Object.values(p).every((v) => typeof v === "number") ? RangeError : TypeError;
            expectHostile(rt, [...Object.values(a), ...Object.values(o), ...Object.values(plain)], () => op.call(rt, COLS, a, { ...defaultParams, ...p }, o), error, message);
          } catch (e) {
            throw new Error(`${op.name} ${label}: ${(e as Error).message}`);
          }
          for (const t of owned) t.free();
        }
        stillWorks(op, rt);
        distinct += bad.length;
      });
    }
  });
}

describe("hostile shapes, sizes, runtimes and initialisation", () => {
  const rt = createRuntime();
  const x = normal(12, 1), out = new Float32Array(12).fill(7);
  const table: { name: string; error: typeof TypeError | typeof RangeError | typeof Error; message: RegExp; call: () => unknown }[] = [
    { name: "normalizedShape negative", error: RangeError, message: /^normalizedShape: expected a positive integer, got number -4/, call: () => layerNorm(x, -4, { out, runtime: rt }) },
    { name: "normalizedShape with a negative dim", error: RangeError, message: /^normalizedShape\[1\]: expected a positive integer, got number -2/, call: () => rmsNorm(x, [2, -2], { out, runtime: rt }) },
    { name: "normalizedShape with a NaN dim", error: RangeError, message: /^normalizedShape\[0\]: expected a positive integer, got number NaN/, call: () => skipLayerNorm(x, x.slice(), [NaN], { out, runtime: rt }) },
    { name: "normalizedShape Infinity", error: RangeError, message: /^normalizedShape: expected a positive integer, got number Infinity/, call: () => layerNormBackward(x, x.slice(), Infinity, { dx: out, dweight: null, dbias: null, runtime: rt }) },
    { name: "normalizedShape product overflowing 2^31", error: RangeError, message: /^normalizedShape: expected a product of at most 2147483647 elements, got 2147488281/, call: () => rmsNorm(x, [46341, 46341], { out, runtime: rt }) },
    { name: "normalizedShape of a non-number", error: TypeError, message: /^normalizedShape\[0\]: expected a positive integer, got string "4"/, call: () => layerNorm(x, ["4"] as never, { out, runtime: rt }) },
    { name: "batchNorm shape with a negative dim", error: RangeError, message: /^shape\[0\]: expected a non-negative integer, got number -3/, call: () => batchNorm(x, [-3, 4], { channelAxis: -1, training: true, out, runtime: rt }) },
    { name: "batchNorm shape with NaN", error: RangeError, message: /^shape\[1\]: expected a non-negative integer, got number NaN/, call: () => batchNorm(x, [3, NaN], { training: true, out, runtime: rt }) },
    { name: "batchNorm shape product beyond 2^32", error: RangeError, message: /^x length: expected 8589934592 \(product of shape \[65536, 65536, 2\]\), got 12/, call: () => batchNorm(x, [65536, 65536, 2], { training: true, out, runtime: rt }) },
    { name: "batchNorm with zero channels", error: RangeError, message: /^shape\[1\]: expected at least 1 channel, got 0/, call: () => batchNorm(new Float32Array(0), [3, 0], { training: true, runtime: rt }) },
    { name: "batchNorm channelAxis fractional", error: RangeError, message: /^channelAxis: expected an integer from -2 to 1, got number 0.5/, call: () => batchNorm(x, [3, 4], { channelAxis: 0.5, training: true, out, runtime: rt }) },
    { name: "tensor length beyond the memory limit", error: RangeError, message: /^tensor length: expected at most 1073741824 elements \(the memory limit\), got 2147483648/, call: () => rt.alloc(2 ** 31) },
    { name: "tensor length negative", error: RangeError, message: /^tensor length: expected a non-negative integer, got number -1/, call: () => rt.alloc(-1) },
    { name: "tensor length fractional", error: RangeError, message: /^tensor length: expected a non-negative integer, got number 1.5/, call: () => rt.alloc(1.5) },
    { name: "tensor length NaN", error: RangeError, message: /^tensor length: expected a non-negative integer, got number NaN/, call: () => rt.alloc(NaN) },
    { name: "maxMemoryBytes below two pages", error: RangeError, message: /^maxMemoryBytes: expected a number from 131072 to 4294967296, got number 1000/, call: () => createRuntime({ maxMemoryBytes: 1000 }) },
    { name: "backend unknown", error: TypeError, message: /^backend: expected "auto", "wasm" or "js", got string "gpu"/, call: () => createRuntime({ backend: "gpu" as never }) },
    { name: "runtime option not a Runtime", error: TypeError, message: /^runtime: expected a Runtime, got Object/, call: () => layerNorm(x, 4, { out, runtime: {} as never }) },
    { name: "double free", error: TypeError, message: /^tensor freed twice \(expected a live tensor, got a freed one\)/, call: () => { const t = rt.alloc(4); t.free(); t.free(); } },
    { name: "data of a freed tensor", error: TypeError, message: /^tensor was freed \(expected a live tensor, got a freed one\)/, call: () => { const t = rt.alloc(4); t.free(); return t.data; } },
    // Initialisation: ops initialise implicitly; what is required is async creation for threads.
    { name: "threads in the synchronous constructor (threads need Runtime.create / init)", error: TypeError, message: /^threads: expected 1 in a synchronous constructor \(a runtime with threads starts asynchronously; .*\), got number 2/, call: () => new Runtime({ threads: 2 }) },
    { name: "threads in createRuntime (synchronous)", error: TypeError, message: /^threads: expected 1 in a synchronous constructor .*got number 3/, call: () => createRuntime({ threads: 3 }) },
  ];

  it.each(table)("$name", (c) => {
    expectHostile(rt, [x, out], c.call, c.error, c.message);
    expect(firstBitDifference(layerNorm(x, 4, { runtime: rt }), layerNorm(x, 4, { runtime: createRuntime({ backend: "js" }) }))).toBe(-1);
    distinct++;
  });

  it("init with options after the first op throws; the default runtime keeps working", async () => {
    layerNorm(normal(8, 2), 4); // creates the default runtime
    await expect(init({ module: wasmBytes() as BufferSource })).rejects.toThrow(/^init: the default runtime already exists \(with 1 thread, backend "wasm"\) and cannot take a precompiled module; an op, tensor\(\) or alloc\(\) ran before init finished\. Await init before the first call, or use createRuntime\(\)/);
    await expect(init({ maxMemoryBytes: 1 << 20 })).rejects.toThrow(/already exists/);
    await expect(Runtime.create({ threads: 0 })).rejects.toThrow(/^threads: expected an integer from 1 to 256 or "auto", got number 0/);
    expect(layerNorm(normal(8, 2), 4).length).toBe(8);
    distinct += 3;
  });

  it(`counts at least 25 distinct hostile calls`, () => {
    console.log(`hostile calls checked: ${distinct}`);
    expect(distinct).toBeGreaterThanOrEqual(25);
  });
});
