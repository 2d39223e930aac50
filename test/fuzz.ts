// Random cases for the property tests, the canary test and the soak: fast-check arbitraries over
// any registry op (shape, option set, parameters, row kinds, input distributions), and the case
// counts of CI and of `npm run fuzz` (FUZZ=1), which scales every count up.
import fc from "fast-check";
import { acceptedShape, defaultParams, type ArgSpec, type OpEntry, type Params, type PlainArgs } from "../src/registry.js";
import { fillRows, rowKinds } from "./data.js";
import { makeInputs, variants, type InputGen, type Variant } from "./harness.js";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
/** True under `npm run fuzz`. */
export const FUZZ = env.FUZZ === "1";

/** True in the Chromium project (where threads busy-wait on the main thread and everything is slower). */
export const BROWSER = typeof window !== "undefined";

/**
 * `ci` in the normal suite (`browser`, default `ci`, in the Chromium project), `fuzz` under
 * `npm run fuzz` (FUZZ_SCALE multiplies the fuzz count).
 */
export function count(ci: number, fuzz: number, browser = ci): number {
  return FUZZ ? Math.round(fuzz * Number(env.FUZZ_SCALE ?? 1)) : BROWSER ? browser : ci;
}

/**
 * The seed of `npm test`: the suite draws the same random cases on every run and machine, so a CI
 * result is reproducible and a submission cannot fail on a lucky draw. New draws come from
 * `npm run fuzz` (FUZZ=1) or FC_RANDOM=1, which leave the seed to fast-check; a failure they find
 * is fixed and its case kept as a regression test.
 */
export const SUITE_SEED = 20261202;

/**
 * fast-check parameters: numRuns, the suite's fixed seed (a fresh one under FUZZ=1 or
 * FC_RANDOM=1), and FC_SEED (and FC_PATH) when given, to replay a failure that fast-check
 * reported ("seed: ..., path: ...").
 */
export function fcParams(numRuns: number): fc.Parameters<unknown> {
  const p: fc.Parameters<unknown> = { numRuns, endOnFailure: false };
  if (env.FC_SEED) p.seed = Number(env.FC_SEED);
  else if (!FUZZ && env.FC_RANDOM !== "1") p.seed = SUITE_SEED;
  if (env.FC_PATH) p.path = env.FC_PATH;
  return p;
}

/** Reports a count the way scripts/fuzz.mjs collects it (one line, also shown by the CI reporter). */
export function report(what: string, n: number, extra = ""): void {
  console.log(`FUZZ-COUNT ${JSON.stringify({ what, n })}${extra ? ` ${extra}` : ""}`);
}

export interface Case {
  rows: number;
  cols: number;
  variant: number;
  /** Row kinds of the first input, in rotation over its rows. */
  kinds: string[];
  /** Row kinds of the other inputs (by input index), "default" for the spec's own distribution. */
  others: string[];
  eps: number;
  momentum: number;
  seed: number;
  /** Flush subnormal input values to zero (see CaseOptions.subnormal). */
  flush: boolean;
}

const allKinds = Object.keys(rowKinds);
/** eps values: 0 (allowed, but no floor on 1/sqrt(var)), tiny, torch's defaults, large, and anything in between. */
const epsArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(-1) }, // defaultParams.eps (1e-5)
  { weight: 1, arbitrary: fc.constantFrom(0, 1e-12, 2 ** -23, 1e-5, 0.1, 1e3) },
  { weight: 1, arbitrary: fc.double({ min: 1e-12, max: 10, noNaN: true }) },
);

/**
 * Shapes biased small: most cases have a few rows of a few dozen elements (cheap, and where the
 * SIMD tails and lane remainders are), some up to 64 rows x 1100 (plain arrays staged through
 * several 128 KiB chunks), a few with D up to 5000: up to 8 rows in CI (they cost the most), up
 * to 64 under `npm run fuzz`.
 */
export function shapeArb(): fc.Arbitrary<{ rows: number; cols: number }> {
  const w = FUZZ ? [80, 24, 4, 1] : [40, 12, 2, 1];
  return fc.oneof(
    { weight: w[0]!, arbitrary: fc.record({ rows: fc.integer({ min: 0, max: 9 }), cols: fc.integer({ min: 1, max: 40 }) }) },
    { weight: w[1]!, arbitrary: fc.record({ rows: fc.integer({ min: 0, max: 64 }), cols: fc.integer({ min: 1, max: 300 }) }) },
    { weight: w[2]!, arbitrary: fc.record({ rows: fc.integer({ min: 1, max: 64 }), cols: fc.integer({ min: 300, max: 1100 }) }) },
    { weight: w[3]!, arbitrary: fc.record({ rows: fc.integer({ min: 1, max: FUZZ ? 64 : 8 }), cols: fc.integer({ min: 1100, max: 5000 }) }) },
  );
}

/** Row kinds: mostly N(0,1), then any kind (adversarial, denormal, 1e18, NaN, +-Inf, mixed). */
function kindArb(kinds: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof({ weight: 2, arbitrary: fc.constant("normal") }, { weight: 3, arbitrary: fc.constantFrom(...kinds) });
}

/** Row kinds whose values are subnormal floats throughout (float32 arithmetic on them has no relative precision). */
export const subnormalKinds: readonly string[] = ["denormal", "denormalMixed"];

export interface CaseOptions {
  /**
   * false: no subnormal inputs, for the accuracy bounds, which are relative and float32 has no
   * relative precision below 2^-126: no all-subnormal rows, no 1e-20-scale values in inputs after
   * the first (a product of two could be subnormal), and build() flushes any subnormal value
   * left (from the mixed rows) to zero. Default true.
   */
  subnormal?: boolean;
  /**
   * With eps = 0, replace subnormal rows by 1e-20-scale ones and flush subnormal values to zero:
   * their variance (< 2^-252) makes 1/sqrt(var + eps) overflow float32 (as in PyTorch), where the
   * float64 reference stays finite.
   */
  finiteRstd?: boolean;
}

/** A random case of `op`: every input may take any row kind (the first input per row, the others whole). */
export function caseArb(op: OpEntry, opts: CaseOptions = {}): fc.Arbitrary<Case> {
  const kinds = opts.subnormal === false ? allKinds.filter((k) => !subnormalKinds.includes(k)) : allKinds;
  const nv = variants(op).length;
  const momenta = op.sweep?.momentum ?? [defaultParams.momentum];
  return fc.record({
    shape: shapeArb(),
    variant: fc.nat({ max: nv - 1 }),
    kinds: fc.array(kindArb(kinds), { minLength: 1, maxLength: 5 }),
    others: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant("default") }, { weight: 1, arbitrary: fc.constantFrom(...(opts.subnormal === false ? kinds.filter((k) => k !== "tiny") : kinds)) }), { minLength: op.inputs.length, maxLength: op.inputs.length }),
    eps: epsArb,
    momentum: fc.constantFrom(...momenta),
    seed: fc.nat(),
  }).map(({ shape, ...c }) => {
    const { rows, cols } = acceptedShape(op, shape.rows, shape.cols);
    const eps = c.eps < 0 ? defaultParams.eps : c.eps;
    const tame = (k: string) => (opts.finiteRstd && eps === 0 && subnormalKinds.includes(k) ? "tiny" : k);
    return { ...c, kinds: c.kinds.map(tame), others: c.others.map(tame), rows, cols, eps, flush: opts.subnormal === false || (!!opts.finiteRstd && eps === 0) };
  });
}

export interface Built { v: Variant; p: Params; inputs: PlainArgs }

/** The variant, parameters and inputs of a case. */
export function build(op: OpEntry, c: Case): Built {
  const v = variants(op)[c.variant]!;
  const p: Params = { eps: c.eps, momentum: c.momentum };
  const gen: InputGen = (spec: ArgSpec, n: number, seed: number) => {
    const kind = c.others[op.inputs.indexOf(spec)] ?? "default";
    if (kind === "default" || n === 0) return null;
    // The same row kind over the whole input (one row of n values).
    return fillRows(1, n, [kind], seed);
  };
  const inputs = makeInputs(op, c.rows, c.cols, c.kinds, v, c.seed, p, gen);
  if (c.flush) {
    for (const a of Object.values(inputs)) if (a) for (let i = 0; i < a.length; i++) if (Math.abs(a[i]!) < 2 ** -126) a[i] = 0;
  }
  return { v, p, inputs };
}

export const describeCase = (op: OpEntry, c: Case, v: Variant): string =>
  `${op.name} ${c.rows}x${c.cols} [${v.label}] eps=${c.eps} momentum=${c.momentum} kinds=${c.kinds.join(",")} others=${c.others.join(",")} seed=${c.seed}`;
