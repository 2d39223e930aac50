// One call of an op, from its signature: snapshot, then validate, then reserve, then run.
//
// An op declares its arguments once (a Signature): the array arguments in the kernel's terms
// (what each is, its length rule, how far it advances per row, its in-place partner), its scalar
// options, how the named sizes follow from the inputs, and its kernel program. Everything else is
// derived here, the same way for every op:
//  1. snapshot: every option is read exactly once (a getter or Proxy cannot change an answer
//     later); unknown keys are a TypeError naming the nearest valid one;
//  2. validate: arrays are recognised through the intrinsic TypedArray getters and the Tensor
//     brand (never the object's own length/byteOffset/subarray), lengths checked against the
//     declared rules, outputs checked for shared memory with every other argument;
//  3. reserve: every allocation the call makes (its output tensor, the kernels' work area, the
//     staging scratch) happens here, before any pointer is used. Pointers are byte offsets, which
//     growth does not move; every view the call reads or writes is derived from the arena after
//     this point, so growth can never invalidate an accepted argument. A failure frees what was
//     allocated: a call that throws has changed nothing;
//  4. run: the JS fallback on views, or the kernel program on pointers: in one piece when every
//     argument lives in wasm memory, else in row chunks staged through the scratch, on the pool
//     when there is one (copies of one chunk overlap the workers' compute on the next).
import { arenaCount, arenaOf, tensorState, type Tensor, type TensorState } from "./memory.js";
import { defaultExists, defaultRuntime } from "./default.js";
import { unknownOption } from "./keys.js";
import { MAX_PARTS, Runtime, type Float32Like } from "./runtime.js";
import { copyInto, describe, f32Buffer, f32Facts, f32Length, f32View, isDetached, isShared, sameFacts } from "./typed.js";
import type { Kernels } from "./module.js";

/** Named sizes of a call (rows, cols, n = x length, channels, ...). */
export type Dims = Record<string, number>;

export interface ArrayArg {
  name: string;
  /** in: read only; out: written; inout: read and updated in place (running statistics). */
  io: "in" | "out" | "inout";
  /** The dim that is its length. */
  len: string;
  /** The dim of elements it advances per row; absent: read or written whole by every row. */
  per?: string;
  /** May be absent (null or undefined): the kernel gets pointer 0, the fallback null. */
  optional?: boolean;
  /** Output made by the call when undefined (null: not computed, when optional as well). */
  alloc?: boolean;
  /** The input it may be exactly (in place); any other shared memory is a RangeError. */
  inPlace?: string;
  /** Message words for its length rule ("product of normalizedShape"). */
  what: string;
}

/** A token of a kernel's argument list: an array's name (its pointer), a dim or scalar name, ROWS, NONE, a number, or a per-chunk function. */
export type Token = string | number | ((ch: Chunk, c: Call) => number);
/** The rows of the current chunk (or thread part). */
export const ROWS = "#rows";
/** An absent pointer: 0 to the kernel, null to the fallback. */
export const NONE = "#none";

export interface Chunk {
  /** First row and number of rows of the chunk. */
  row0: number;
  rows: number;
  /** Current pointer of an array argument of the pass (staged or direct; 0 when absent). */
  ptr(name: string): number;
}

export interface Pass {
  kernel: keyof Kernels & string;
  args: readonly Token[];
  /** Rows of the pass (default dims.rows) and elements per row (default dims.cols, for threading). */
  rows?: number;
  width?: number;
  /** Chunks and thread parts hold a multiple of `align` rows (a reduction block, a broadcast cycle). */
  align?: number;
  /** Chunks alone hold a multiple of this many rows (default align): a phase token can enter a cycle anywhere. */
  chunkAlign?: number;
  /** At most this many rows per chunk (bounded work area); a multiple of align. */
  maxRows?: number;
  /** Argument index -> bytes it advances per `align` rows within a chunk (per-block partial sums). */
  blockStride?: Readonly<Record<number, number>>;
  /** Argument index -> bytes it advances per thread part (a private work area per part). */
  partStride?: Readonly<Record<number, number>>;
  /** Array arguments the hooks use besides those in `args`. */
  uses?: readonly string[];
  /** Run on the calling thread before / after each chunk's kernel. */
  before?(ch: Chunk): void;
  after?(ch: Chunk): void;
  /** False: never split across threads. */
  threads?: boolean;
}

export interface Signature<R> {
  op: string;
  /** Names of the positional parameters, in order (arrays or scalars). */
  positional: readonly string[];
  /** Array arguments, in the kernel's order. */
  arrays: readonly ArrayArg[];
  /** Scalar parameters (positional or options): parse(value) with undefined giving the default. */
  scalars: Readonly<Record<string, (v: unknown) => unknown>>;
  /** Option keys of sibling ops that this op lacks, with the reason (null or undefined values are accepted). */
  lacks?: Readonly<Record<string, string>>;
  /** Sets c.d from c.s, c.len() and the op's shape rules; throws on bad shapes. */
  dims(c: Call): void;
  /** Extra checks once lengths are known (both-or-neither groups, ...). */
  check?(c: Call): void;
  /** Bytes of kernel work area the wasm program needs (called after the passes are planned: c.plans). */
  work?(c: Call): number;
  /** The wasm program. */
  passes(c: Call): Pass[];
  /** The JS fallback program, on views. */
  js(c: Call): void;
  /** What the op returns: the named array argument (as given or made), or what the function builds. */
  result: string | ((c: Call) => R);
}

/** A compiled signature: the declaration plus what is derived from it once. */
export interface Op<R> extends Omit<Signature<R>, "result"> {
  result(c: Call): R;
  /** Valid option keys (every non-positional name and "runtime"), in declaration order. */
  readonly keys: readonly string[];
  readonly keySet: ReadonlySet<string>;
  readonly index: ReadonlyMap<string, number>;
  readonly scalarNames: readonly string[];
  readonly scalarIndex: ReadonlyMap<string, number>;
  readonly parsers: readonly ((v: unknown) => unknown)[];
  /** Every name's place in a call's snapshot: the positional parameters, then the option keys. */
  readonly names: readonly string[];
  readonly at: ReadonlyMap<string, number>;
  /** Snapshot places of the arrays (declaration order) and of the scalars (scalarNames order). */
  readonly arrayAt: readonly number[];
  readonly scalarAt: readonly number[];
  /** The op's reusable call state, and whether a call is using it (a getter may call the op again). */
  readonly pool: { busy: boolean; call: Call | null };
  /** Index of the op's memo in Runtime.memos. */
  readonly id: number;
  /** The option keys of the last call with only valid keys, and their snapshot places. */
  seen: { keys: string[]; at: number[] };
}

let ops = 0;

export function signature<R>(sig: Signature<R>): Op<R> {
  const names = [...sig.arrays.map((a) => a.name), ...Object.keys(sig.scalars)];
  const keys = [...names.filter((n) => !sig.positional.includes(n)), "runtime"];
  const all = [...sig.positional, ...keys], at = new Map(all.map((n, i) => [n, i]));
  // One object shape for every declaration, so the engine's property reads stay monomorphic.
  const arrays = sig.arrays.map((x): ArrayArg => ({
    name: x.name, io: x.io, len: x.len, per: x.per, optional: x.optional ?? false, alloc: x.alloc ?? false, inPlace: x.inPlace, what: x.what,
  }));
  const scalarNames = Object.keys(sig.scalars);
  return {
    ...sig, arrays, result: resultOf(sig), keys, keySet: new Set(keys), index: new Map(sig.arrays.map((a, i) => [a.name, i])), scalarNames, names: all, at,
    arrayAt: sig.arrays.map((a) => at.get(a.name)!), scalarAt: scalarNames.map((n) => at.get(n)!), pool: { busy: false, call: null },
    scalarIndex: new Map(scalarNames.map((n, i) => [n, i])), parsers: scalarNames.map((n) => sig.scalars[n]!), id: ops++, seen: { keys: [], at: [] },
  };
}

/** The op's result function: a named array argument compiles to a read of its slot. */
function resultOf<R>(sig: Signature<R>): (c: Call) => R {
  const name = sig.result;
  if (typeof name !== "string") return name;
  const i = sig.arrays.findIndex((a) => a.name === name);
  if (i < 0) throw new Error(`${sig.op}: result "${name}" is not an array argument`);
  return (c) => c.slots[i]!.value as R;
}

const enum Where { Absent, Memory, Host }

/** One array argument of a call, as validated. */
interface Slot {
  where: Where;
  /** Byte offset in linear memory (Memory), or in `buf` (Host). */
  at: number;
  length: number;
  buf: ArrayBufferLike | null;
  /** The value the caller passed (or the call made), returned as is. */
  value: Float32Like | null;
  /** Made by this call. */
  made: boolean;
  /** As declared, unless the op's check() made an "inout" argument read-only for this call. */
  io: "in" | "out" | "inout";
}

/**
 * One call in progress. Ops read sizes (d), scalars (s) and arguments through it. Each op keeps
 * one and reuses it (a small call allocates next to nothing); a call of the op made while its
 * state is in use (from an option getter) gets a fresh one.
 */
export class Call {
  readonly op: Op<unknown>;
  rt!: Runtime;
  /** Named sizes, set by the op's dims(). */
  d: Dims = {};
  /** Parsed scalars, in Op.scalarNames order (read them with scalar()). */
  sv: unknown[] = [];
  /** Byte offset of the kernels' work area (after reserve). */
  work = 0;
  /** @internal the wasm program and its plans (after reserve) */
  passes: Pass[] | null = null;
  plans: Plan[] = [];
  /** @internal (a memo's, during a replay) */
  slots: Slot[];
  private readonly own: { d: Dims; sv: unknown[]; slots: Slot[] };
  /** @internal a replay put plain arrays into its memo's slots (clear() drops them) */
  hosted = false;
  /** @internal the snapshot: every value as given, by place (Op.names) */
  readonly vals: unknown[];

  constructor(op: Op<unknown>) {
    this.op = op;
    this.vals = new Array<unknown>(op.names.length);
    this.slots = op.arrays.map((a) => ({ where: Where.Absent, at: 0, length: 0, buf: null, value: null, made: false, io: a.io }));
    this.own = { d: this.d, sv: this.sv, slots: this.slots };
  }

  private slot(name: string): Slot {
    return this.slots[this.op.index.get(name)!]!;
  }
  /** Length of an array argument (0 when absent). */
  len(name: string): number {
    return this.slot(name).length;
  }
  /** True when the array argument is present. */
  has(name: string): boolean {
    return this.slot(name).where !== Where.Absent;
  }
  /** The array argument as given (or made), for results. */
  value(name: string): Float32Like | null {
    return this.slot(name).value;
  }
  /** This call only reads `name` (an "inout" argument the kernel will not update: BatchNorm inference). */
  readOnly(name: string): void {
    this.slot(name).io = "in";
  }
  /** Drops every reference the call holds (the state is kept for the next call). */
  clear(): void {
    const own = this.own;
    if (this.slots !== own.slots) {
      // A replay ran on its memo's sizes and slots: they keep its runtime's tensors, never plain arrays.
      if (this.hosted) for (const s of this.slots) if (s.where === Where.Host) s.buf = s.value = null;
      this.hosted = false;
      this.d = own.d;
      this.sv = own.sv;
      this.slots = own.slots;
    } else {
      for (const s of this.slots) s.buf = s.value = null;
      this.passes = null;
      this.plans = [];
    }
    const v = this.vals; // (snapshot() relies on every place being undefined again)
    for (let i = 0; i < v.length; i++) v[i] = undefined;
    this.rt = null as unknown as Runtime; // a kept runtime would keep its whole memory (and workers) alive
  }
  /** The value given for `name`, as snapshotted. */
  given(name: string): unknown {
    return this.vals[this.op.at.get(name)!];
  }
  /** A scalar as parsed. */
  scalar(name: string): unknown {
    return this.sv[this.op.scalarIndex.get(name)!];
  }
  /** A scalar as a number (booleans as 0/1). */
  num(name: string): number {
    const v = this.scalar(name);
    return typeof v === "boolean" ? +v : (v as number);
  }
  /** A Float32Array over the argument's elements, derived now (after reserve); null when absent. */
  view(name: string): Float32Array | null {
    const s = this.slot(name);
    if (s.where === Where.Absent) return null;
    return s.where === Where.Memory ? f32View(this.rt.arena.buffer, s.at, s.length) : f32View(s.buf ?? f32Buffer(s.value), s.at, s.length);
  }
  /**
   * Tokens resolved for the fallback (arrays as views, NONE as null, ROWS as all rows). A plain
   * array is passed itself: kernels only index their arrays, and indexing a genuine Float32Array
   * (subclass or not) reads its elements whatever the object overrides; hooks and results, which
   * call methods, use view().
   */
  jsArgs(tokens: readonly Token[], rows = this.d.rows!): unknown[] {
    const k = compile(this.op, tokens), n = tokens.length, out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      switch (k.kind[i]) {
        case Arg.Array: { const s = this.slots[k.slot[i]!]!; out[i] = s.where === Where.Host ? s.value : this.view(k.name[i]!); break; }
        case Arg.Name: out[i] = this.d[k.name[i]!]; break;
        case Arg.Scalar: out[i] = this.sv[k.slot[i]!]; break;
        case Arg.Rows: out[i] = rows; break;
        case Arg.Fn: out[i] = (tokens[i] as (ch: Chunk, c: Call) => number)({ row0: 0, rows, ptr: () => 0 }, this); break;
        default: out[i] = tokens[i] === NONE ? null : k.value[i];
      }
    }
    return out;
  }
}

/**
 * Runs one call of `op`: the whole mechanism described at the top of this file. The positional
 * values come as separate parameters (an op has one to four), which spares a small call an array.
 */
export function invoke<R>(op: Op<R>, options: unknown, p0: unknown, p1?: unknown, p2?: unknown, p3?: unknown): R {
  const pool = op.pool;
  if (pool.busy) return run(op, positionals(new Call(op as Op<unknown>), p0, p1, p2, p3), options);
  pool.busy = true;
  try {
    return run(op, positionals((pool.call ??= new Call(op as Op<unknown>)), p0, p1, p2, p3), options);
  } finally {
    pool.busy = false;
    pool.call?.clear();
  }
}

/** Puts the positional values in their snapshot places (the first ones). */
function positionals(c: Call, p0: unknown, p1: unknown, p2: unknown, p3: unknown): Call {
  const v = c.vals, P = c.op.positional.length;
  v[0] = p0;
  if (P > 1) v[1] = p1;
  if (P > 2) v[2] = p2;
  if (P > 3) v[3] = p3;
  return c;
}

function run<R>(op: Op<R>, c: Call, options: unknown): R {
  const vals = c.vals;
  snapshot(op, options, vals);
  let rt = resolveRuntime(op, vals);
  if (rt.shared && rt.backend === "wasm") {
    // A repeat of the op's last call in the twin (which only ever ran calls that passed onCaller) goes straight there.
    const t = rt.madeTwin, m = t?.memos[op.id] as Memo | undefined;
    if (m !== undefined && (rt.pool === null || m.elements < rt.threadMinElements)) {
      c.rt = t!;
      if (repeats(c, m)) return replay(c, m);
    }
    if (onCaller(op, rt, vals)) rt = rt.twin ?? rt;
  }
  c.rt = rt;
  const memo = rt.memos[op.id] as Memo | undefined;
  if (memo !== undefined) {
    if (repeats(c, memo)) return replay(c, memo);
    rt.memos[op.id] = undefined;
  }
  c.work = 0;
  c.passes = null;
  c.plans = [];
  inspectArrays(c);
  for (let i = 0; i < op.parsers.length; i++) c.sv[i] = op.parsers[i]!(vals[op.scalarAt[i]!]);
  op.dims(c);
  checkLengths(c);
  op.check?.(c);
  checkAliasing(c);
  reserve(c);
  try {
    const passes = c.passes as Pass[] | null; // set by reserve()
    if (passes) for (let i = 0; i < passes.length; i++) runPass(c, passes[i]!, c.plans[i]!);
    else op.js(c);
  } catch (e) {
    release(c);
    throw e;
  }
  rt.memos[op.id] = remember(c);
  return op.result(c);
}

// ---- a repeated call -------------------------------------------------------------------------

/**
 * What a repeat of the op's last call in a runtime may skip to. An inference loop calls an op with
 * the same arrays and scalars every time, and checking, sizing and planning it again cost several
 * times the kernel on a 1x64 row. Kept for a call (on either backend) whose arrays were Tensors,
 * plain Float32Arrays (not views over wasm memory) or absent, whose other values were primitives,
 * and whose passes each ran in one piece on this thread with no hooks, work area or allocation:
 * everything derived then depends on nothing but those values, so a repeat (the same tensor
 * objects, still live; the same plain arrays, with the same byteOffset and length by the
 * intrinsic getters; the same primitives by Object.is; the runtime still below its thread
 * threshold for the call) makes the same kernel calls. The memo lives on the runtime
 * (Runtime.memos), holds that runtime's tensors, and holds plain arrays only weakly: it keeps
 * nothing alive that the runtime does not.
 */
interface Memo {
  /**
   * By snapshot place (but the last, "runtime": the memo's own): the value, a primitive or a
   * tensor (its state's freed flag checked), or for a plain array WEAK, the array then held as a
   * key of `arrays` with its length and byteOffset by the intrinsic getters.
   */
  vals: unknown[];
  /**
   * Each plain array -> the places it held (bit i: place i). Weak keys keep nothing alive, and a
   * lookup costs a third of a WeakRef's deref (which also keeps its target alive to the end of
   * the job: 24-26 against 70-80 ns a check, measured).
   */
  arrays: WeakMap<object, number>;
  /** The tensors' states, checked for a freed one when the arena has freed any tensor since `freed`. */
  states: TensorState[];
  freed: number;
  /** Places whose value was the number 0: a repeat must give a zero of the same sign. */
  zeros: number[];
  lengths: number[];
  offsets: number[];
  /** Largest pass (rows x width): a pool with a threshold at or below it would thread the call. */
  elements: number;
  /** The call's parsed scalars, sizes and array slots (plain arrays' value and buffer left out), and which slots are plain arrays. */
  sv: unknown[];
  d: Dims;
  slots: Slot[];
  host: number[];
  /** The JS fallback ran (no passes). */
  js: boolean;
  /** The passes run, their plans, the staging scratch they need, and each lean pass's kernel arguments (null: staged). */
  passes: Pass[];
  plans: Plan[];
  scratch: number;
  fns: ((...a: number[]) => void)[];
  args: (number[] | null)[];
}

function remember(c: Call): Memo | undefined {
  const { rt, vals } = c;
  const passes = c.passes;
  if (c.work !== 0 || typeof WeakMap !== "function" || vals.length > 31) return undefined;
  for (const s of c.slots) if (s.made || (s.where === Where.Memory && !tensorState(s.value))) return undefined;
  if (passes) for (let i = 0; i < passes.length; i++) if (c.plans[i]!.rows > 0 && !onePiece(passes[i]!, c.plans[i]!)) return undefined;
  const m: Memo = {
    vals: [], arrays: new WeakMap(), states: [], freed: rt.arena.tensorsFreed, zeros: [], lengths: [], offsets: [], elements: 0, sv: c.sv.slice(), d: { ...c.d },
    slots: c.slots.map((s) => ({ ...s, ...(s.where === Where.Host ? { buf: null, value: null } : {}) })),
    host: c.slots.flatMap((s, i) => (s.where === Where.Host ? [i] : [])),
    js: false, passes: [], plans: [], scratch: 0, fns: [], args: [],
  };
  for (let i = 0; i < vals.length - 1; i++) { // the last place is "runtime": the memo's own runtime
    const v = vals[i];
    let plain = false, length = 0, offset = 0;
    const st = tensorState(v);
    if (typeof v === "function") return undefined;
    if (typeof v === "object" && v !== null && !st) {
      const f = f32Facts(v);
      if (!f) return undefined; // a value the op parsed itself (an array shape)
      m.arrays.set(v, (m.arrays.get(v) ?? 0) | (1 << i));
      plain = true;
      length = f.length;
      offset = f.byteOffset;
    }
    m.vals.push(plain ? WEAK : v);
    if (st) m.states.push(st);
    if (v === 0) m.zeros.push(i);
    m.lengths.push(length);
    m.offsets.push(offset);
  }
  m.js = passes === null;
  if (passes) for (let i = 0; i < passes.length; i++) {
    const p = passes[i]!, pl = c.plans[i]!;
    if (pl.rows === 0) continue;
    m.elements = Math.max(m.elements, pl.rows * (p.width ?? c.d.cols!));
    m.scratch = Math.max(m.scratch, pl.scratch);
    m.passes.push(p);
    m.plans.push(pl);
    m.fns.push(rt.kernels![p.kernel] as unknown as (...a: number[]) => void);
    m.args.push(pl.staged.length === 0 ? leanArgs(c, p, pl) : null);
  }
  return m;
}

/** A plain array's place in Memo.vals: equal to no value a caller can pass. */
const WEAK = Object.freeze({});

function repeats(c: Call, m: Memo): boolean {
  const { vals, rt } = c;
  if (rt.pool !== null && m.elements >= rt.threadMinElements) return false;
  const mv = m.vals;
  for (let i = 0; i < mv.length; i++) {
    const v = vals[i];
    if (v === mv[i]) continue;
    if (mv[i] !== WEAK || ((m.arrays.get(v as object) ?? 0) & (1 << i)) === 0 || !sameFacts(v, m.lengths[i]!, m.offsets[i]!)) return false;
  }
  for (let j = 0; j < m.zeros.length; j++) if (!Object.is(vals[m.zeros[j]!], mv[m.zeros[j]!])) return false;
  if (m.freed !== rt.arena.tensorsFreed) {
    for (let j = 0; j < m.states.length; j++) if (m.states[j]!.freed) return false;
    m.freed = rt.arena.tensorsFreed;
  }
  return true;
}

function replay<R>(c: Call, m: Memo): R {
  const { op, rt, vals } = c;
  c.sv = m.sv;
  c.d = m.d;
  c.slots = m.slots;
  c.hosted = m.host.length > 0;
  for (let j = 0; j < m.host.length; j++) {
    const i = m.host[j]!, s = m.slots[i]!, v = vals[op.arrayAt[i]!] as Float32Array;
    s.value = v; // (its buffer is read where needed: the staging copies and the fallback use the array itself)
  }
  try {
    if (m.js) op.js(c);
    if (m.scratch > 0) rt.scratch(m.scratch);
    for (let i = 0; i < m.passes.length; i++) {
      const a = m.args[i];
      if (a) {
        rt.chunks++;
        callKernel(m.fns[i]!, a);
      } else runStagedOnce(c, m.passes[i]!, m.plans[i]!, m.fns[i]!);
    }
  } catch (e) {
    rt.memos[op.id] = undefined;
    throw e;
  }
  return op.result(c) as R;
}

// ---- 1. snapshot ----------------------------------------------------------------------------

/**
 * Reads each own enumerable option once (a getter or a Proxy's get trap
 * runs once; an unknown key throws before anything else happens).
 */
function snapshot(op: Op<unknown>, options: unknown, vals: unknown[]): void {
  const P = op.positional.length;
  if (options === undefined) return; // (the other places are undefined: a new call, or clear())
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${op.op} options: expected an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  // for-in reads a literal's keys and values fastest. While the keys come in the order of the
  // last call's (a call site passes the same literal), their places are known; after the first
  // other key, each is looked up. for-in also visits inherited keys, after every own one: they
  // are not options. (The own-key test on for-in's own key, written out as below, costs the JIT a
  // map check, where a bound or Object.hasOwn test costs a lookup; a bundler turns a module const
  // into a var, which the JIT cannot see through. A caller who replaced the intrinsics can at
  // worst make an inherited value count as given.)
  const seen = op.seen, sk = seen.keys;
  let i = 0, fast = true;
  for (const k in o) {
    if (fast && k === sk[i] && Object.prototype.hasOwnProperty.call(o, k)) {
      vals[seen.at[i++]!] = o[k];
      continue;
    }
    fast = false;
    if (!hasOwn(o, k)) continue;
    const at = op.at.get(k);
    if (at !== undefined && at >= P) {
      vals[at] = o[k];
      continue;
    }
    const why = op.lacks?.[k];
    if (why === undefined) throw unknownKey(op, k);
    const v = o[k];
    if (v != null) throw new TypeError(`${k}: expected none (${why}), got ${describe(v)}`);
  }
  if (fast && i === sk.length) return;
  // Remember this call's keys when they are all options.
  const keys = Object.keys(o), at = keys.map((k) => { const a = op.at.get(k); return a !== undefined && a >= P ? a : -1; });
  if (!at.includes(-1)) op.seen = { keys, at }; // (a "lacks" key is checked every time)
}

/** Own-key test for keys other than for-in's: the intrinsic, bound (a caller cannot replace it later). */
const hasOwn = Function.prototype.call.bind(Object.prototype.hasOwnProperty) as (o: object, k: string) => boolean;

function unknownKey(op: Op<unknown>, k: string): TypeError {
  return unknownOption(op.op, k, op.keys);
}

// ---- 2. validate ----------------------------------------------------------------------------

/**
 * The runtime a call runs in: the one given, else that of the first tensor (or view over wasm
 * memory) among the arrays in declaration order, else the default runtime.
 */
function resolveRuntime(op: Op<unknown>, vals: unknown[]): Runtime {
  const given = vals[vals.length - 1]; // "runtime" is the last key
  if (given !== undefined) {
    if (!(given instanceof Runtime)) throw new TypeError(`runtime: expected a Runtime, got ${describe(given)}`);
    return given;
  }
  for (const i of op.arrayAt) {
    const st = tensorState(vals[i]);
    if (st) return st.arena.owner as Runtime;
  }
  // Plain arrays may still be views over some runtime's memory, unless no runtime but the default exists.
  if (arenaCount() > 1 || (arenaCount() === 1 && !defaultExists())) {
    for (const i of op.arrayAt) {
      const f = f32Facts(vals[i]);
      const owner = f && arenaOf(f.buffer)?.owner;
      if (owner) return owner as Runtime;
    }
  }
  return defaultRuntime();
}

/**
 * True for a call of `rt` (shared memory) whose arrays are all plain ones outside any shared
 * memory, too small for its pool (or it has none): it runs in the runtime's unshared twin, where
 * its staging copies are memmoves. Results do not depend on where it runs.
 */
function onCaller(op: Op<unknown>, rt: Runtime, vals: unknown[]): boolean {
  let n = 0;
  for (const i of op.arrayAt) {
    const v = vals[i];
    if (v === undefined || v === null) continue;
    const length = f32Length(v);
    if (length < 0) return false; // a tensor, or a value the checks will reject: the call's own path
    const buf = f32Buffer(v);
    if (isShared(buf) || arenaOf(buf)) return false; // a view over some memory
    n = Math.max(n, length);
  }
  return rt.pool === null || n < rt.threadMinElements;
}

function inspectArrays(c: Call): void {
  const { op, rt, vals } = c;
  const arena = rt.arena;
  for (let i = 0; i < op.arrays.length; i++) {
    const a = op.arrays[i]!, v = vals[op.arrayAt[i]!];
    const slot = c.slots[i]!;
    slot.where = Where.Absent;
    slot.at = slot.length = 0;
    slot.buf = slot.value = null;
    slot.made = false;
    slot.io = a.io;
    if (v === undefined || v === null) {
      if (!a.optional && !(a.alloc && v === undefined)) throw new TypeError(`${a.name}: expected a Float32Array or Tensor, got ${describe(v)}`);
      continue;
    }
    const st = tensorState(v);
    if (st) {
      if (st.freed) throw new TypeError(`${a.name}: expected a live tensor, got a freed one`);
      if (st.arena !== arena) throw new TypeError(`${a.name}: expected a tensor of this runtime, got one from another runtime`);
      slot.where = Where.Memory;
      slot.at = st.ptr;
      slot.length = st.length;
      slot.value = v as Tensor;
      continue;
    }
    const f = f32Facts(v);
    if (!f) throw new TypeError(`${a.name}: expected a Float32Array or Tensor, got ${describe(v)}`);
    slot.value = v as Float32Array;
    slot.length = f.length;
    slot.at = f.byteOffset;
    if (f.length === 0 && isDetached(f.buffer)) {
      throw new TypeError(`${a.name}: expected a Float32Array over live memory, got one whose ArrayBuffer is detached (wasm memory grew? read tensor.data again)`);
    }
    if (arena.owns(f.buffer)) {
      if (!arena.isLiveUserRange(f.byteOffset, f.length * 4)) {
        throw new RangeError(`${a.name}: expected a view inside a live tensor, got a view over free or internal wasm memory or past a tensor's end (${f.length} floats at byte ${f.byteOffset})`);
      }
      slot.where = Where.Memory;
    } else if (arenaOf(f.buffer)) {
      throw new TypeError(`${a.name}: expected an array of this runtime, got a view over another runtime's memory`);
    } else {
      slot.where = Where.Host;
      slot.buf = f.buffer;
    }
  }
}

function checkLengths(c: Call): void {
  const { op } = c;
  for (let i = 0; i < op.arrays.length; i++) {
    const a = op.arrays[i]!, s = c.slots[i]!;
    if (s.where === Where.Absent) continue;
    const want = c.d[a.len];
    if (want === undefined) continue; // the op's dims() checked this one itself
    if (s.length !== want) throw new RangeError(`${a.name} length: expected ${want} (${a.what}), got ${s.length}`);
  }
}

/** Outputs share memory with no other argument, except an exact in-place input. */
function checkAliasing(c: Call): void {
  const { op, slots } = c;
  for (let o = 0; o < slots.length; o++) {
    const ao = op.arrays[o]!, so = slots[o]!;
    if (so.io === "in" || so.where === Where.Absent || so.length === 0) continue;
    for (let i = 0; i < slots.length; i++) {
      const si = slots[i]!, ai = op.arrays[i]!;
      if (i === o || si.where !== so.where || si.length === 0) continue;
      if (si.io !== "in" && i > o) continue; // a pair of outputs is reported once, by the later one
      if (si.where === Where.Host && si.buf !== so.buf) continue;
      const eo = so.at + so.length * 4, ei = si.at + si.length * 4;
      if (eo <= si.at || ei <= so.at) continue;
      const same = so.at === si.at && eo === ei;
      if (same && ao.inPlace === ai.name) continue;
      const inPlace = ao.inPlace === ai.name;
      throw new RangeError(`${ao.name}: expected memory separate from ${ai.name}${inPlace ? " (or exactly the same array, for in place)" : ""}, got ${same ? "the same memory" : "an overlapping array"}`);
    }
  }
}

// ---- 3. reserve ------------------------------------------------------------------------------

/** Allocates everything the call needs and plans the wasm program (none on the JS backend). */
function reserve(c: Call): void {
  const { op, rt } = c;
  const first = c.slots[0]!;
  const asTensor = tensorState(first.value) !== undefined;
  try {
    for (let i = 0; i < op.arrays.length; i++) {
      const a = op.arrays[i]!, s = c.slots[i]!;
      if (!a.alloc || s.where !== Where.Absent || c.vals[op.arrayAt[i]!] === null) continue;
      const n = c.d[a.len]!;
      if (asTensor) {
        const t = rt.alloc(n);
        s.where = Where.Memory;
        s.at = t.byteOffset;
        s.value = t;
      } else {
        const h = new Float32Array(n);
        s.where = Where.Host;
        s.buf = h.buffer;
        s.at = 0;
        s.value = h;
      }
      s.length = n;
      s.made = true;
    }
    if (rt.backend === "wasm") {
      c.passes = op.passes(c);
      let need = 0;
      for (const p of c.passes) {
        const pl = plan(c, p);
        c.plans.push(pl);
        need = Math.max(need, pl.scratch);
      }
      const work = op.work?.(c) ?? 0; // may size per-part areas from c.plans
      if (work > 0) c.work = rt.workspace(work);
      if (need > 0) rt.scratch(need);
    }
  } catch (e) {
    release(c);
    throw e;
  }
}

/** Frees the tensors this call made (it returns nothing). */
function release(c: Call): void {
  for (const s of c.slots) {
    if (!s.made) continue;
    const st = tensorState(s.value);
    if (st && !st.freed) (s.value as Tensor).free();
  }
}

// ---- 4. run ----------------------------------------------------------------------------------

/** Staged chunk bytes per buffer: small enough to stay in L2 between copy-in and copy-out. */
export const CHUNK_BYTES = 128 * 1024;

const enum Arg { Const, Array, Rows, Fn, Name, Scalar }

/** A pass's argument list resolved once per token list: what each token is. */
interface Compiled { kind: Arg[]; slot: number[]; name: string[]; value: number[] }
const compiled = new WeakMap<readonly Token[], Compiled>();

function compile(op: Op<unknown>, args: readonly Token[]): Compiled {
  let k = compiled.get(args);
  if (k) return k;
  k = { kind: [], slot: [], name: [], value: [] };
  for (const t of args) {
    const si = typeof t === "string" ? op.index.get(t) ?? op.scalarIndex.get(t) : undefined;
    k.kind.push(typeof t === "number" || t === NONE ? Arg.Const : typeof t === "function" ? Arg.Fn : t === ROWS ? Arg.Rows
      : op.index.has(t) ? Arg.Array : si !== undefined ? Arg.Scalar : Arg.Name);
    k.slot.push(si ?? -1); // the array slot, or the scalar index
    k.name.push(typeof t === "string" ? t : "");
    k.value.push(typeof t === "number" ? t : 0);
  }
  compiled.set(args, k);
  return k;
}

export interface Plan {
  rows: number;
  chunkRows: number;
  partRows: number;
  threaded: boolean;
  /** Chunk buffers per staged per-row array (2 when copies overlap the pool's compute). */
  buffers: number;
  scratch: number;
  /** The pass's tokens, compiled. */
  k: Compiled;
  /** Staged slots with the scratch offset of their buffer 0 (per-row: chunk buffer; whole: the copy). */
  staged: number[];
  stagedAt: number[];
  /** runStagedOnce's arguments and copies (made on its first run). */
  once: StagedOnce | undefined;
}

interface StagedOnce {
  /** The scratch pointer and arena buffer generation they were made for. */
  scratch: number;
  gen: number;
  args: number[];
  /** Slots copied in (to f32 index inAt) and out (from outViews, over the scratch). */
  ins: number[];
  inAt: number[];
  outs: number[];
  outViews: Float32Array[];
}

/** Every pass is planned before the call reserves anything, so the scratch is taken once, up front. */
/** Thread parts a chunk of a planned pass may be split into (1 when it is not threaded). */
export function partsPerChunk(pl: Plan): number {
  return pl.threaded ? Math.ceil(pl.chunkRows / pl.partRows) : 1;
}

function plan(c: Call, p: Pass): Plan {
  const { op, rt } = c;
  const rows = p.rows ?? c.d.rows!, width = p.width ?? c.d.cols!, align = p.align ?? 1;
  const pool = rt.pool;
  const threaded = pool !== null && p.threads !== false && rows * width >= rt.threadMinElements && rows > align;
  const k = compile(op, p.args);
  const host: number[] = [];
  for (let i = 0; i < k.kind.length; i++) if (k.kind[i] === Arg.Array) addHost(c, host, k.slot[i]!);
  if (p.uses) for (const u of p.uses) addHost(c, host, op.index.get(u)!);
  let rowBytes = 0;
  for (const si of host) rowBytes += 4 * perRow(c, op.arrays[si]!);
  const partRows = align * Math.max(1, Math.ceil(rt.partElements / (Math.max(width, 1) * align)), Math.ceil(rows / (MAX_PARTS * align)));
  const cap = p.maxRows ? Math.min(rows, p.maxRows) : rows;
  let chunkRows = cap;
  if (rowBytes > 0) {
    chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
    // Threaded: 3 parts per thread a chunk. Only the calling thread can copy a plain array, and into
    // shared memory it copies at 0.14-0.16 ns/element against 0.05-0.12 unshared, so its copies
    // take about as long as the workers' parts; 3 a thread measured 1.02-1.05x faster than 2.
    if (threaded) chunkRows = Math.max(chunkRows, 3 * pool.threads * partRows);
    chunkRows = Math.min(cap, chunkRows);
    const ca = p.chunkAlign ?? align;
    if (chunkRows < rows) chunkRows = Math.min(cap, Math.max(ca, chunkRows - (chunkRows % ca)));
  }
  const buffers = threaded && rowBytes > 0 && chunkRows < rows ? 2 : 1;
  // Scratch layout: each staged array once (per-row ones: `buffers` chunk buffers). In-place pairs share.
  const stagedAt: number[] = [];
  let at = 0;
  for (const si of host) {
    const s = c.slots[si]!, a = op.arrays[si]!;
    const partner = a.inPlace !== undefined ? op.index.get(a.inPlace)! : -1;
    const pi = partner >= 0 ? host.indexOf(partner) : -1;
    if (pi >= 0 && pi < stagedAt.length && sameHost(s, c.slots[partner]!)) {
      stagedAt.push(stagedAt[pi]!);
      continue;
    }
    stagedAt.push(at);
    const per = perRow(c, a);
    at += per ? buffers * stageBytes(c, chunkRows * per) : stageBytes(c, s.length);
  }
  return { rows, chunkRows, partRows, threaded, buffers, scratch: rows === 0 ? 0 : at, k, staged: host, stagedAt, once: undefined };
}

function addHost(c: Call, host: number[], si: number): void {
  if (c.slots[si]!.where === Where.Host && !host.includes(si)) host.push(si);
}

/** Elements an argument advances per row in this call (0: read or written whole). */
function perRow(c: Call, a: ArrayArg): number {
  return a.per === undefined ? 0 : c.d[a.per]!;
}

function sameHost(a: Slot, b: Slot): boolean {
  return a.where === Where.Host && b.where === Where.Host && a.buf === b.buf && a.at === b.at && a.length === b.length;
}

/**
 * How far into its staging buffer (0 or 4 bytes) a host array's copy starting at element `from`
 * goes: its address mod 8. Into or out of a SharedArrayBuffer (threads), V8 copies word by word
 * only when both ends agree mod 8, else byte by byte: 1.1-1.5 ns per element against 0.21-0.33.
 */
function skew(c: Call, s: Slot, from: number): number {
  return c.rt.shared ? (s.at + 4 * from) & 4 : 0;
}

/** Bytes of a staging buffer for n floats: with room for skew() in shared memory. */
function stageBytes(c: Call, n: number): number {
  return align64(4 * n + (c.rt.shared ? 4 : 0));
}

/** n rounded up to a multiple of 64 (block and work-area layouts). */
export function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

function runPass(c: Call, p: Pass, pl: Plan): void {
  if (pl.rows === 0) return;
  const { rt } = c;
  const fn = rt.kernels![p.kernel] as unknown as (...a: number[]) => void;
  // Every argument in wasm memory, one piece, this thread: the common small call, kept lean.
  if (lean(p, pl)) {
    rt.chunks++;
    callKernel(fn, leanArgs(c, p, pl));
    return;
  }
  // The same with hooks (a fold after the kernel): runChunks' one chunk without its setup.
  if (pl.staged.length === 0 && !pl.threaded && pl.chunkRows >= pl.rows) {
    const ch: Chunk = { row0: 0, rows: pl.rows, ptr: (name) => { const s = c.slots[c.op.index.get(name)!]!; return s.where === Where.Absent ? 0 : s.at; } };
    rt.chunks++;
    p.before?.(ch);
    callKernel(fn, leanArgs(c, p, pl, ch));
    p.after?.(ch);
    return;
  }
  if (onePiece(p, pl)) runStagedOnce(c, p, pl, fn);
  else runChunks(c, p, pl, fn);
}

/** A pass in one chunk on this thread (a small call on plain arrays): each staged array copied in whole, then out. */
function runStagedOnce(c: Call, p: Pass, pl: Plan, fn: (...a: number[]) => void): void {
  const { rt } = c, arena = rt.arena;
  let o = pl.once;
  // A memo's replays reuse the plan's arguments and views while the scratch and the buffer stay.
  if (o === undefined || o.scratch !== rt.scratchPtr || o.gen !== arena.gen) o = pl.once = stagedOnce(c, p, pl);
  const f32 = arena.f32, slots = c.slots;
  // The caller's array itself: %TypedArray%.prototype.set reads its internal slots, not its properties.
  for (let j = 0; j < o.ins.length; j++) copyInto(f32, slots[o.ins[j]!]!.value as Float32Array, o.inAt[j]!);
  rt.chunks++;
  callKernel(fn, o.args);
  for (let j = 0; j < o.outs.length; j++) copyInto(slots[o.outs[j]!]!.value as Float32Array, o.outViews[j]!);
}

/** runStagedOnce's kernel arguments (staged arrays at their scratch copies) and copies, for the current scratch. */
function stagedOnce(c: Call, p: Pass, pl: Plan): StagedOnce {
  const { rt } = c, scratch = rt.scratchPtr, f32 = rt.arena.f32;
  const args = leanArgs(c, p, pl), k = pl.k;
  const o: StagedOnce = { scratch, gen: rt.arena.gen, args, ins: [], inAt: [], outs: [], outViews: [] };
  for (let j = 0; j < pl.staged.length; j++) {
    const si = pl.staged[j]!, s = c.slots[si]!, at = scratch + pl.stagedAt[j]! + skew(c, s, 0);
    if (s.io !== "out") { o.ins.push(si); o.inAt.push(at >> 2); }
    if (s.io !== "in") { o.outs.push(si); o.outViews.push(f32.subarray(at >> 2, (at >> 2) + s.length)); }
    for (let i = 0; i < k.kind.length; i++) if (k.kind[i] === Arg.Array && k.slot[i] === si) args[i] = at;
  }
  return o;
}

/** A pass that runs in one chunk on this thread, with no hooks. */
function onePiece(p: Pass, pl: Plan): boolean {
  return !pl.threaded && pl.chunkRows >= pl.rows && !p.before && !p.after;
}

/** A pass that runs as one kernel call on this thread, every argument in wasm memory. */
function lean(p: Pass, pl: Plan): boolean {
  return pl.staged.length === 0 && onePiece(p, pl);
}

/** The kernel arguments of a lean pass. */
function leanArgs(c: Call, p: Pass, pl: Plan, ch: Chunk = { row0: 0, rows: pl.rows, ptr: () => 0 }): number[] {
  const k = pl.k, n = k.kind.length, args = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    switch (k.kind[i]) {
      case Arg.Array: { const s = c.slots[k.slot[i]!]!; args[i] = s.where === Where.Absent ? 0 : s.at; break; }
      case Arg.Name: args[i] = c.d[k.name[i]!]!; break;
      case Arg.Scalar: { const v = c.sv[k.slot[i]!]; args[i] = typeof v === "boolean" ? +v : (v as number); break; }
      case Arg.Rows: args[i] = pl.rows; break;
      case Arg.Fn: args[i] = (p.args[i] as (ch: Chunk, c: Call) => number)(ch, c); break;
      default: args[i] = k.value[i]!;
    }
  }
  return args;
}

/**
 * fn(...a) with the arguments spelt out: V8 calls a wasm export directly from optimized code only
 * for a call with a fixed argument count (a spread call takes the generic path, ~0.5 us here).
 */
function callKernel(fn: (...a: number[]) => void, a: number[]): void {
  switch (a.length) {
    case 6: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!);
    case 7: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!);
    case 9: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!);
    case 12: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!);
    case 14: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!);
    case 15: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!);
    case 16: return fn(a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!);
    default: return fn(...a);
  }
}

/** The general case: row chunks, staged arrays copied through the scratch, optionally on the pool. */
function runChunks(c: Call, p: Pass, pl: Plan, fn: (...a: number[]) => void): void {
  const { rt, op } = c;
  const scratch = pl.staged.length ? rt.scratchPtr : 0;
  const k = pl.k, n = k.kind.length;
  const args = new Array<number>(n);
  const f32 = rt.arena.f32; // current: every allocation of the call is done
  const rowsAt = k.kind.indexOf(Arg.Rows);
  // Per argument: present arrays move with the chunk (and, on the pool, with the part: `stride` bytes per row).
  const isArray = k.kind.map((kd, i) => kd === Arg.Array && c.slots[k.slot[i]!]!.where !== Where.Absent);
  const stride = k.kind.map((_, i) => (isArray[i] ? 4 * perRow(c, op.arrays[k.slot[i]!]!) : 0));
  const base = k.kind.map((kd, i) => (kd === Arg.Name ? c.d[k.name[i]!]! : kd === Arg.Scalar ? c.num(k.name[i]!) : k.value[i]!));
  const stagedOf = (si: number): number => pl.stagedAt[pl.staged.indexOf(si)]! + skew(c, c.slots[si]!, 0); // a whole array's copy

  // Host arrays of this pass: per-row ones move in chunks, whole ones once.
  const rowwise: number[] = [], whole: number[] = [];
  for (const si of pl.staged) (perRow(c, op.arrays[si]!) ? rowwise : whole).push(si);
  const hostView = (si: number, from: number, count: number): Float32Array => {
    const s = c.slots[si]!;
    return f32View(s.buf!, s.at + 4 * from, count);
  };
  for (const si of whole) {
    if (c.slots[si]!.io !== "out") copyInto(f32, hostView(si, 0, c.slots[si]!.length), (scratch + stagedOf(si)) >> 2);
  }
  /** Where a per-row array's chunk from row0 goes in chunk buffer `buf`. */
  const bufAt = (si: number, row0: number, buf: number): number => {
    const per = perRow(c, op.arrays[si]!);
    return scratch + pl.stagedAt[pl.staged.indexOf(si)]! + buf * stageBytes(c, pl.chunkRows * per) + skew(c, c.slots[si]!, row0 * per);
  };
  const copyIn = (row0: number, rows: number, buf: number): void => {
    for (const si of rowwise) {
      if (c.slots[si]!.io === "out") continue;
      const per = perRow(c, op.arrays[si]!);
      copyInto(f32, hostView(si, row0 * per, rows * per), bufAt(si, row0, buf) >> 2);
    }
  };
  const copyOut = (row0: number, rows: number, buf: number): void => {
    for (const si of rowwise) {
      if (c.slots[si]!.io === "in") continue;
      const per = perRow(c, op.arrays[si]!), from = bufAt(si, row0, buf) >> 2;
      copyInto(hostView(si, row0 * per, rows * per), f32.subarray(from, from + rows * per));
    }
  };
  const ptrOf = (si: number, row0: number, buf: number): number => {
    const s = c.slots[si]!;
    if (s.where === Where.Absent) return 0;
    const per = perRow(c, op.arrays[si]!);
    if (s.where === Where.Memory) return s.at + 4 * row0 * per;
    return per ? bufAt(si, row0, buf) : scratch + stagedOf(si);
  };
  const chunk = (row0: number, rows: number, buf: number): Chunk => ({ row0, rows, ptr: (name) => ptrOf(op.index.get(name)!, row0, buf) });
  const fill = (ch: Chunk, buf: number): void => {
    for (let i = 0; i < n; i++) {
      const kd = k.kind[i]!;
      args[i] = isArray[i] ? ptrOf(k.slot[i]!, ch.row0, buf) : kd === Arg.Rows ? ch.rows : kd === Arg.Fn ? (p.args[i] as (ch: Chunk, c: Call) => number)(ch, c) : base[i]!;
    }
  };
  const partStride = p.blockStride || p.partStride
    ? Array.from({ length: n }, (_, i) => ((p.blockStride?.[i] ?? 0) * pl.partRows) / (p.align ?? 1) + (p.partStride?.[i] ?? 0))
    : undefined;
  const pool = rt.pool;

  for (let row0 = 0, i = 0; row0 < pl.rows; row0 += pl.chunkRows, i++) {
    const rows = Math.min(pl.chunkRows, pl.rows - row0), buf = i % pl.buffers;
    const next = row0 + rows, nextRows = Math.min(pl.chunkRows, pl.rows - next);
    if (i === 0 || pl.buffers === 1) copyIn(row0, rows, buf);
    const ch = chunk(row0, rows, buf);
    rt.chunks++;
    p.before?.(ch);
    fill(ch, buf);
    if (pl.threaded && pool && rows > pl.partRows) {
      pool.start(p.kernel, args, stride, rowsAt, rows, pl.partRows, partStride);
      try {
        // While the workers compute this chunk: the last chunk's results out, the next chunk in.
        if (pl.buffers === 2) {
          if (i > 0) copyOut(row0 - pl.chunkRows, pl.chunkRows, 1 - buf);
          if (next < pl.rows) copyIn(next, nextRows, 1 - buf);
        }
      } finally {
        pool.join();
      }
    } else {
      if (pl.buffers === 2 && i > 0) copyOut(row0 - pl.chunkRows, pl.chunkRows, 1 - buf);
      callKernel(fn, args);
      if (pl.buffers === 2 && next < pl.rows) copyIn(next, nextRows, 1 - buf);
    }
    p.after?.(ch);
    if (pl.buffers === 1 || next >= pl.rows) copyOut(row0, rows, buf);
  }
  for (const si of whole) {
    if (c.slots[si]!.io === "in") continue;
    const from = (scratch + stagedOf(si)) >> 2, len = c.slots[si]!.length;
    copyInto(hostView(si, 0, len), f32.subarray(from, from + len));
  }
}

/** Parses an optional boolean option. */
export function bool(name: string, dflt: boolean): (v: unknown) => boolean {
  return (v) => {
    if (v === undefined) return dflt;
    if (typeof v !== "boolean") throw new TypeError(`${name}: expected a boolean, got ${describe(v)}`);
    return v;
  };
}

export type { Float32Like };
