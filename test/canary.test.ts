// Memory safety: randomized calls of every registry op, in every way of passing arguments, never
// write outside their outputs. Each call lays its arguments out between guard tensors filled with
// a sentinel pattern, and then checks, besides the guards, the whole linear memory: every byte
// outside the call's outputs and the runtime's own blocks (staging scratch, kernel work area,
// thread control) must be unchanged, including the slack after each tensor in its 64-byte block,
// the memory beyond the heap top, and the inputs. Modes:
//  - tensor: every argument a Tensor, each between two guard tensors;
//  - view: every argument a Float32Array view into a larger tensor at a 4-byte (not 16- or
//    64-byte) aligned offset, zero-copy, so kernels run on misaligned pointers, with guard elements
//    on both sides inside the same tensor;
//  - plain: every argument a plain Float32Array (staged through the scratch area), itself a view
//    between guard elements of a larger JS array; the guards and inputs there are checked too;
//  - mixed: each argument at random a tensor, a misaligned view or a plain array.
// In place (out === x, sum === x, dx === dy) is one of the option sets, drawn like the others.
// Runtimes: wasm, JS fallback, and 2 and 3 threads (every call split as finely as possible).
// CI runs 3000 calls (1000 in Chromium); `npm run fuzz` 100,000.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, Runtime, Tensor } from "../src/index.js";
import { ops, sizeOf, type Args, type ArgSpec, type OpEntry } from "../src/registry.js";
import { rng } from "./data.js";
import { build, caseArb, count, fcParams, report, type Case } from "./fuzz.js";

const CALLS = count(3000, 100_000, 1000);
const SENTINEL = 0x7fa5_5a5a; // a NaN payload no kernel produces
type Mode = "tensor" | "view" | "plain" | "mixed";
const MODES: readonly Mode[] = ["tensor", "view", "plain", "mixed"];

let runtimes: Runtime[] = [];
beforeAll(async () => {
  const threaded = await Promise.all([2, 3].map((threads) => Runtime.create({ threads })));
  for (const rt of threaded) { rt.threadMinElements = 0; rt.partElements = 1; }
  runtimes = [createRuntime({ backend: "wasm" }), createRuntime({ backend: "js" }), ...threaded];
});
afterAll(() => { for (const rt of runtimes) rt.shutdown(); });

const label = (rt: Runtime) => (rt.threads > 1 ? `${rt.threads} threads` : rt.backend);

interface Placed {
  /** What the op is given. */
  arg: Float32Array | Tensor;
  /** Byte range in linear memory, or -1 for a JS array. */
  start: number;
  end: number;
  /** JS array holding a plain argument between guards (checked after the call). */
  host?: Float32Array;
  pad?: number;
}

/** One call of `op` laid out in `rt` as `mode` asks; returns the number of guard bytes checked. */
function guardedCall(op: OpEntry, rt: Runtime, mode: Mode, c: Case, layoutSeed: number): number {
  const { v, p, inputs } = build(op, c);
  const r = rng(layoutSeed);
  const specs: { spec: ArgSpec; out: boolean }[] = [
    ...op.inputs.map((spec) => ({ spec, out: !!spec.updated })),
    ...op.outputs.map((spec) => ({ spec, out: true })),
  ].filter(({ spec }) => (!spec.optional || v.present.has(spec.name)) && v.inPlace?.[0] !== spec.name);
  const size = (s: ArgSpec) => (s.broadcast && v.broadcast ? c.cols : sizeOf(op, s.role, c.rows, c.cols));
  const guardTensor = () => rt.alloc(1 + Math.floor(r() * 24));
  const guards: Tensor[] = [guardTensor()];
  const owned: Tensor[] = [];
  const plan: { spec: ArgSpec; out: boolean; how: "tensor" | "view" | "plain"; pad: number; tail: number; t?: Tensor }[] = [];
  for (const { spec, out } of specs) {
    const how = mode === "mixed" ? (["tensor", "view", "plain"] as const)[Math.floor(r() * 3)]! : mode;
    const pad = how === "tensor" ? 0 : 1 + Math.floor(r() * 15), tail = how === "tensor" ? 0 : 1 + Math.floor(r() * 7);
    const item: (typeof plan)[number] = { spec, out, how, pad, tail };
    if (how !== "plain") {
      item.t = rt.alloc(size(spec) + pad + tail);
      owned.push(item.t);
      guards.push(guardTensor());
    }
    plan.push(item);
  }
  // All allocations done: views are current from here on. Fill guards, pads and unused slack with
  // the sentinel, inputs with their values, outputs with the sentinel too.
  const u32 = new Uint32Array(rt.arena.buffer);
  for (const g of guards) u32.fill(SENTINEL, g.byteOffset >> 2, (g.byteOffset >> 2) + Math.ceil(g.length / 16) * 16 || 16);
  for (const t of owned) u32.fill(SENTINEL, t.byteOffset >> 2, (t.byteOffset >> 2) + Math.max(16, Math.ceil(t.length / 16) * 16));
  const placed = new Map<string, Placed>();
  for (const { spec, out, how, pad, t } of plan) {
    const n = size(spec), values = inputs[spec.name];
    if (how === "plain") {
      const host = new Float32Array(pad + n + 4 + Math.floor(r() * 4));
      new Uint32Array(host.buffer).fill(SENTINEL);
      const arg = host.subarray(pad, pad + n);
      if (values && !op.outputs.includes(spec)) arg.set(values);
      placed.set(spec.name, { arg, start: -1, end: -1, host, pad });
    } else {
      const start = t!.byteOffset + 4 * pad;
      const arg = how === "tensor" ? t! : t!.data.subarray(pad, pad + n);
      if (values && !op.outputs.includes(spec)) new Float32Array(rt.arena.buffer, start, n).set(values);
      placed.set(spec.name, { arg, start, end: start + 4 * n });
    }
    void out;
  }
  const a: Args = {}, o: Args = {};
  for (const spec of op.inputs) a[spec.name] = placed.get(spec.name)?.arg ?? null;
  for (const spec of op.outputs) o[spec.name] = v.inPlace?.[0] === spec.name ? a[v.inPlace[1]]! : placed.get(spec.name)?.arg ?? null;

  // Ranges the call may write: its outputs (in place: the input), updated inputs, the runtime's own blocks.
  const writable: [number, number][] = [];
  for (const { spec, out } of specs) {
    const pl = placed.get(spec.name)!;
    if ((out || v.inPlace?.[1] === spec.name) && pl.start >= 0) writable.push([pl.start, pl.end]);
  }
  const internalBefore = rt.arena.internalRanges();
  const before = new Int32Array(rt.arena.buffer).slice();
  const plainBefore = [...placed.values()].filter((pl) => pl.host).map((pl) => pl.host!.slice());

  op.call(rt, c.cols, a, p, o);

  writable.push(...internalBefore, ...rt.arena.internalRanges());
  writable.sort((x, y) => x[0] - y[0]);
  // Word by word (every range is 4-byte aligned), skipping the writable ranges.
  const now = new Int32Array(rt.arena.buffer);
  let from = 0;
  const check = (lo: number, hi: number) => {
    for (let w = lo; w < hi; w++) {
      if (now[w] === before[w]) continue;
      const i = 4 * w;
      const what = [...placed.entries()].find(([, pl]) => pl.start >= 0 && i >= pl.start - 64 && i < pl.end + 64);
      throw new Error(`${op.name} ${c.rows}x${c.cols} [${v.label}] on ${label(rt)} (${mode}): byte ${i} of linear memory changed${what ? ` (near argument ${what[0]} at ${what[1].start}..${what[1].end})` : ""}`);
    }
  };
  for (const [lo, hi] of writable) {
    if (lo >> 2 > from) check(from, Math.min(lo >> 2, before.length));
    from = Math.max(from, hi >> 2);
  }
  check(from, before.length);
  // Plain arguments: guards around them unchanged, inputs (not in place) unchanged.
  let j = 0;
  for (const [name, pl] of placed) {
    if (!pl.host) continue;
    const was = new Uint32Array(plainBefore[j++]!.buffer), is = new Uint32Array(pl.host.buffer);
    const isOut = op.outputs.some((s) => s.name === name) || op.inputs.find((s) => s.name === name)?.updated || v.inPlace?.[1] === name;
    for (let i = 0; i < is.length; i++) {
      const inside = i >= pl.pad! && i < pl.pad! + pl.arg.length;
      if (inside && isOut) continue;
      if (is[i] !== was[i]) throw new Error(`${op.name} ${c.rows}x${c.cols} [${v.label}] on ${label(rt)} (${mode}): plain argument ${name} element ${i - pl.pad!} changed${inside ? "" : " (a guard)"}`);
    }
  }
  for (const t of [...guards, ...owned]) t.free();
  return before.byteLength;
}

describe("canaries: no call writes outside its outputs", () => {
  for (const op of ops) {
    it(`${op.name}: ${Math.ceil(CALLS / ops.length)} randomized calls over runtimes and argument modes`, () => {
      let n = 0, bytes = 0;
      const userBlocks = (rt: Runtime) => rt.memoryStats().live - rt.arena.internalRanges().length;
      const liveBefore = runtimes.map(userBlocks);
      const arb = fc.record({ c: caseArb(op), mode: fc.constantFrom(...MODES), rt: fc.nat({ max: 3 }), layout: fc.nat() });
      fc.assert(fc.property(arb, ({ c, mode, rt, layout }) => {
        bytes += guardedCall(op, runtimes[rt]!, mode, c, layout);
        n++;
      }), fcParams(Math.ceil(CALLS / ops.length)));
      runtimes.forEach((rt, i) => expect(userBlocks(rt), `${label(rt)}: every tensor freed`).toBe(liveBefore[i]));
      report(`${op.name} canary calls`, n, `${(bytes / 2 ** 30).toFixed(1)} GiB of memory compared`);
    });
  }
});

describe("canary self-test", () => {
  it("catches a single stray write one element past an output, and one into a plain array's guard", () => {
    const base = ops[0]!;
    for (const mode of ["tensor", "view", "plain"] as const) {
      const evil: OpEntry = {
        ...base,
        call(rt, cols, a, p, o) {
          base.call(rt, cols, a, p, o);
          const out = o[base.outputs[0]!.name]!;
          if (out instanceof Tensor) new Float32Array(rt.arena.buffer)[(out.byteOffset >> 2) + out.length] = 1;
          else new Float32Array(out.buffer, out.byteOffset, out.length + 1)[out.length] = 1;
        },
      };
      const c: Case = { rows: 3, cols: 7, variant: 0, kinds: ["normal"], others: base.inputs.map(() => "default"), eps: 1e-5, momentum: 0.1, seed: 1, flush: false };
      expect(() => guardedCall(evil, runtimes[0]!, mode, c, 5), mode).toThrow(mode === "plain" ? /plain argument out element 21 changed \(a guard\)/ : /byte \d+ of linear memory changed/);
    }
  });
});
