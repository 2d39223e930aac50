// Property-based tests (fast-check) over every registry op, on random shapes (rows 0..64, D
// 1..5000, biased small), random option sets and parameters, and values from mixed distributions
// (N(0,1), offset + tiny noise, constant rows, denormals, magnitudes up to 1e18, sprinkled NaN and
// +-Inf, in the first input and, for (a) and (c), in every other input too):
//  (a) every backend returns the same bits: the JS fallback, wasm with staged plain arrays, wasm
//      with zero-copy tensors, and threaded runtimes (2 and 3 threads, every call split into parts
//      of one row or one reduction block), zero-copy and staged;
//  (b) the result is within the op's documented bound of the float64 reference wherever the
//      reference is finite (see `bound` below);
//  (c) non-finite values follow PyTorch: an output is NaN exactly where the float64 reference
//      (the textbook formula, PyTorch's semantics) is NaN and +-Inf exactly where it is, and the
//      outputs an op declares exact on constant rows (registry `exactOnConstantRows`) equal the
//      reference's float32 rounding there (a constant row gives exactly the bias).
// 1000 runs per property and op in CI; `npm run fuzz` runs many more. On failure fast-check
// prints the seed and path; replay with FC_SEED=<seed> FC_PATH=<path> npx vitest run test/properties.test.ts.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Runtime } from "../src/index.js";
import { ops, type OpEntry } from "../src/registry.js";
import { firstBitDifference } from "./data.js";
import { build, caseArb, count, describeCase, fcParams, report, type Case } from "./fuzz.js";
import { errorUnits, reference, run, type Mode } from "./harness.js";

const RUNS = count(1000, 34_000);
const F32_MAX = 3.4028234663852886e38;

let threaded: Runtime[] = [];
beforeAll(async () => {
  threaded = await Promise.all([2, 3].map((threads) => Runtime.create({ threads })));
  for (const rt of threaded) { rt.threadMinElements = 0; rt.partElements = 1; }
});
afterAll(() => { for (const rt of threaded) rt.shutdown(); });

/** Backends compared with the JS fallback: [label, mode, runtime (default: the mode's own)]. */
function backends(): [string, Mode, Runtime | undefined][] {
  const list: [string, Mode, Runtime | undefined][] = [["copy", "copy", undefined], ["tensor", "tensor", undefined]];
  for (const rt of threaded) list.push([`${rt.threads} threads tensor`, "tensor", rt], [`${rt.threads} threads copy`, "copy", rt]);
  return list;
}

const roleOf = (op: OpEntry, name: string) => [...op.outputs, ...op.inputs].find((a) => a.name === name)!.role;

/**
 * The documented bound for an output: "row" outputs within op.adversarial (op.affine when an
 * optional input is present) in ulp of the reference, or in units of 2^-24 x the reference's
 * scale where it gives one; statistics and reductions within op.reductions (default 2) units of
 * 2^-24 x scale (default |ref|).
 */
function bound(op: OpEntry, name: string, withOptionalInputs: boolean): number {
  if (roleOf(op, name) !== "row") return op.reductions ?? 2;
  return withOptionalInputs ? op.affine : op.adversarial;
}

// `npm run fuzz` runs this file in FUZZ_SHARDS processes at once, each taking every n-th op.
const shards = Number((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.FUZZ_SHARDS ?? 1);
const shard = Number((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.FUZZ_SHARD ?? 0);

for (const [k, op] of ops.entries()) {
  if (k % shards !== shard) continue;
  describe(`${op.name}: properties`, () => {
    it(`(a) all backends and thread counts give the same bits (${RUNS} random cases)`, () => {
      let n = 0;
      fc.assert(fc.property(caseArb(op), (c: Case) => {
        const { v, p, inputs } = build(op, c);
        const js = run(op, "js", c.cols, inputs, v, p);
        for (const [label, mode, rt] of backends()) {
          const got = run(op, mode, c.cols, inputs, v, p, rt);
          for (const name of Object.keys(js)) {
            const at = firstBitDifference(js[name]!, got[name]!);
            if (at >= 0) throw new Error(`${describeCase(op, c, v)}: ${label} ${name}[${at}] = ${got[name]![at]}, js ${js[name]![at]}`);
          }
        }
        n++;
      }), fcParams(RUNS));
      report(`${op.name} equivalence`, n);
    });

    it(`(b) within the documented bound of the float64 reference where it is finite (${RUNS} random cases)`, () => {
      let n = 0, worst = 0;
      fc.assert(fc.property(caseArb(op, { subnormal: false}), (c: Case) => {
        const { v, p, inputs } = build(op, c);
        const got = run(op, "tensor", c.cols, inputs, v, p);
        const { ref, scale } = reference(op, c.cols, inputs, v, p);
        const withOptional = op.inputs.some((a) => a.optional && v.present.has(a.name));
        for (const name of Object.keys(got)) {
          const g = got[name]!, r = ref[name]!, s = scale[name];
          const b = bound(op, name, withOptional);
          const stat = roleOf(op, name) !== "row";
          // A forward output is x̂ * weight (+ bias), and x̂ is a float32: where it falls below 2^-126
          // (a tiny value in a row of huge ones) it is rounded to a multiple of 2^-149, an absolute
          // error up to 2^-150 * |weight| in the output that no ulp of the output bounds (seen:
          // 14 ulp on a 6.9e-34 output with weight 1e6). PyTorch rounds x̂ the same way.
          const w = name === "out" && op.inputs.some((a) => a.name === "weight" && a.role === "feature") ? inputs.weight : null;
          for (let i = 0; i < g.length; i++) {
            const ri = r[i]!;
            if (!Number.isFinite(ri) || Math.abs(ri) > F32_MAX) continue;
            if (s && !Number.isFinite(s[i]!)) continue;
            // Scales below float32's normal range count as 2^-126: subnormals are spaced 2^-149 apart,
            // as ulp() already assumes for the unscaled outputs.
            const sc = s ? s[i]! : stat ? Math.abs(ri) : undefined;
            const e = errorUnits(g[i]!, ri, sc === undefined ? undefined : Math.max(sc, 2 ** -126), w ? 2 ** -150 * Math.abs(w[i % c.cols]!) : 0);
            if (!(e <= b)) throw new Error(`${describeCase(op, c, v)}: ${name}[${i}] = ${g[i]} vs reference ${ri} (scale ${s?.[i]}): ${e.toFixed(2)} units > ${b}`);
            if (e > worst) worst = e;
          }
        }
        n++;
      }), fcParams(RUNS));
      report(`${op.name} accuracy`, n, `worst ${worst.toFixed(2)} units`);
    });

    it(`(c) NaN and +-Inf where PyTorch has them; constant rows exact (${RUNS} random cases)`, () => {
      let n = 0, constantRows = 0;
      const exact = op.exactOnConstantRows ?? [];
      fc.assert(fc.property(caseArb(op, { finiteRstd: true}), (c: Case) => {
        const { v, p, inputs } = build(op, c);
        const got = run(op, "tensor", c.cols, inputs, v, p);
        const { ref } = reference(op, c.cols, inputs, v, p);
        for (const name of Object.keys(got)) {
          const g = got[name]!, r = ref[name]!;
          for (let i = 0; i < g.length; i++) {
            const gi = g[i]!, ri = r[i]!;
            // NaN where the reference is NaN; non-finite where it is +-Inf (NaN allowed: -Inf - -Inf
            // in the shifted statistics, as in PyTorch's Welford update); finite where it is finite.
            const ok = Number.isNaN(ri) ? Number.isNaN(gi) : Math.abs(ri) === Infinity ? gi === ri || Number.isNaN(gi) : Math.abs(ri) > F32_MAX || Number.isFinite(gi);
            if (!ok) throw new Error(`${describeCase(op, c, v)}: ${name}[${i}] = ${gi}, reference ${ri}`);
          }
        }
        if (exact.length && p.eps > 0) {
          const x = inputs[op.inputs[0]!.name]!;
          for (let row = 0; row * c.cols < x.length; row++) {
            const xs = x.subarray(row * c.cols, (row + 1) * c.cols);
            if (!Number.isFinite(xs[0]!) || !xs.every((e) => e === xs[0])) continue;
            constantRows++;
            for (const name of exact) {
              if (!got[name]) continue;
              const per = roleOf(op, name) === "row" ? c.cols : 1;
              for (let i = row * per; i < (row + 1) * per; i++) {
                const gi = got[name]![i]!, want = Math.fround(ref[name]![i]!);
                if (gi !== want && !(Number.isNaN(gi) && Number.isNaN(want))) throw new Error(`${describeCase(op, c, v)}: constant row ${row}: ${name}[${i}] = ${got[name]![i]}, expected exactly ${Math.fround(ref[name]![i]!)}`);
              }
            }
          }
        }
        n++;
      }), fcParams(RUNS));
      report(`${op.name} semantics`, n, exact.length ? `${constantRows} constant rows exact` : "");
    });
  });
}

it("properties ran", () => expect(ops.length).toBeGreaterThan(0));
