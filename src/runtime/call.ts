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
import { arenaCount, arenaOf, newTensor, tensorState, type Tensor } from "./memory.js";
import { defaultExists, defaultRuntime } from "./default.js";
import { Runtime, type Float32Like } from "./runtime.js";
import { copyInto, describe, f32Facts, f32View, isDetached } from "./typed.js";
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
  /** Bytes of kernel work area the wasm program needs. */
  work?(c: Call): number;
  /** The wasm program. */
  passes(c: Call): Pass[];
  /** The JS fallback program, on views. */
  js(c: Call): void;
  /** What the op returns. */
  result(c: Call): R;
}

/** A compiled signature: the declaration plus what is derived from it once. */
export interface Op<R> extends Signature<R> {
  /** Valid option keys (every non-positional name and "runtime"), in declaration order. */
  readonly keys: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

export function signature<R>(sig: Signature<R>): Op<R> {
  const names = [...sig.arrays.map((a) => a.name), ...Object.keys(sig.scalars)];
  const keys = [...names.filter((n) => !sig.positional.includes(n)), "runtime"];
  return { ...sig, keys, index: new Map(sig.arrays.map((a, i) => [a.name, i])) };
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

/** One call in progress. Ops read sizes (d), scalars (s) and arguments through it. */
export class Call {
  readonly op: Op<unknown>;
  readonly rt: Runtime;
  /** Named sizes, set by the op's dims(). */
  readonly d: Dims = {};
  /** Parsed scalars. */
  readonly s: Record<string, unknown> = {};
  /** Byte offset of the kernels' work area (after reserve). */
  work = 0;
  /** @internal */
  readonly slots: Slot[];
  /** @internal the snapshot (raw values by name) */
  readonly raw: Record<string, unknown>;

  constructor(op: Op<unknown>, rt: Runtime, raw: Record<string, unknown>) {
    this.op = op;
    this.rt = rt;
    this.raw = raw;
    this.slots = new Array<Slot>(op.arrays.length);
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
  /** A scalar as a number (booleans as 0/1). */
  num(name: string): number {
    const v = this.s[name];
    return typeof v === "boolean" ? +v : (v as number);
  }
  /** A Float32Array over the argument's elements, derived now (after reserve); null when absent. */
  view(name: string): Float32Array | null {
    const s = this.slot(name);
    if (s.where === Where.Absent) return null;
    return s.where === Where.Memory ? f32View(this.rt.arena.buffer, s.at, s.length) : f32View(s.buf!, s.at, s.length);
  }
  /** Tokens resolved for the fallback (arrays as views, NONE as null, ROWS as all rows). */
  jsArgs(tokens: readonly Token[], rows = this.d.rows!): unknown[] {
    const ch: Chunk = { row0: 0, rows, ptr: () => 0 };
    return tokens.map((t) => {
      if (typeof t === "number") return t;
      if (typeof t === "function") return t(ch, this);
      if (t === ROWS) return rows;
      if (t === NONE) return null;
      if (this.op.index.has(t)) return this.view(t);
      return t in this.d ? this.d[t] : this.s[t];
    });
  }
}

/** Runs one call of `op`: the whole mechanism described at the top of this file. */
export function invoke<R>(op: Op<R>, positional: readonly unknown[], options: unknown): R {
  const raw = snapshot(op, positional, options);
  const rt = resolveRuntime(op, raw);
  const c = new Call(op as Op<unknown>, rt, raw);
  inspectArrays(c);
  for (const name of Object.keys(op.scalars)) c.s[name] = op.scalars[name]!(raw[name]);
  op.dims(c);
  checkLengths(c);
  op.check?.(c);
  checkAliasing(c);
  const passes = reserve(c);
  try {
    if (passes) for (const p of passes) runPass(c, p);
    else op.js(c);
  } catch (e) {
    release(c);
    throw e;
  }
  return op.result(c);
}

// ---- 1. snapshot ----------------------------------------------------------------------------

function snapshot(op: Op<unknown>, positional: readonly unknown[], options: unknown): Record<string, unknown> {
  const raw: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < op.positional.length; i++) raw[op.positional[i]!] = positional[i];
  if (options === undefined) return raw;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`${op.op} options: expected an object, got ${describe(options)}`);
  }
  const given = Object.keys(options);
  const o = options as Record<string, unknown>;
  for (let i = 0; i < given.length; i++) {
    const k = given[i]!;
    if (op.keys.includes(k)) continue;
    const why = op.lacks?.[k];
    if (why === undefined) throw unknownKey(op, k);
    const v = o[k];
    if (v != null) throw new TypeError(`${k}: expected none (${why}), got ${describe(v)}`);
  }
  for (let i = 0; i < op.keys.length; i++) {
    const k = op.keys[i]!;
    raw[k] = o[k];
  }
  return raw;
}

function unknownKey(op: Op<unknown>, k: string): TypeError {
  let best = "", dist = Infinity;
  for (const v of op.keys) {
    const d = editDistance(k.toLowerCase(), v.toLowerCase());
    if (d < dist) { dist = d; best = v; }
  }
  const hint = dist <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : "";
  return new TypeError(`${op.op}: unknown option "${k}"${hint}; expected one of ${op.keys.join(", ")}`);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? prev[j - 2]! : Infinity;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1), swap);
    }
    prev = cur;
  }
  return prev[b.length]!;
}

// ---- 2. validate ----------------------------------------------------------------------------

/**
 * The runtime a call runs in: the one given, else that of the first tensor (or view over wasm
 * memory) among the arrays in declaration order, else the default runtime.
 */
function resolveRuntime(op: Op<unknown>, raw: Record<string, unknown>): Runtime {
  const given = raw.runtime;
  if (given !== undefined) {
    if (!(given instanceof Runtime)) throw new TypeError(`runtime: expected a Runtime, got ${describe(given)}`);
    return given;
  }
  for (const a of op.arrays) {
    const st = tensorState(raw[a.name]);
    if (st) return st.arena.owner as Runtime;
  }
  // Plain arrays may still be views over some runtime's memory, unless no runtime but the default exists.
  if (arenaCount() > 1 || (arenaCount() === 1 && !defaultExists())) {
    for (const a of op.arrays) {
      const f = f32Facts(raw[a.name]);
      const owner = f && arenaOf(f.buffer)?.owner;
      if (owner) return owner as Runtime;
    }
  }
  return defaultRuntime();
}

function inspectArrays(c: Call): void {
  const { op, rt, raw } = c;
  const arena = rt.arena;
  for (let i = 0; i < op.arrays.length; i++) {
    const a = op.arrays[i]!, v = raw[a.name];
    const slot: Slot = { where: Where.Absent, at: 0, length: 0, buf: null, value: null, made: false, io: a.io };
    c.slots[i] = slot;
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
        throw new RangeError(`${a.name}: expected a view inside a live tensor, got a view over free or internal wasm memory at byte ${f.byteOffset}`);
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

/** Allocates everything the call needs; returns the wasm program (null on the JS backend). */
function reserve(c: Call): Pass[] | null {
  const { op, rt } = c;
  let passes: Pass[] | null = null;
  const first = c.slots[0]!;
  const asTensor = tensorState(first.value) !== undefined;
  try {
    for (let i = 0; i < op.arrays.length; i++) {
      const a = op.arrays[i]!, s = c.slots[i]!;
      if (!a.alloc || s.where !== Where.Absent || c.raw[a.name] === null) continue;
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
      passes = op.passes(c);
      const work = op.work?.(c) ?? 0;
      if (work > 0) c.work = rt.workspace(work);
      let need = 0;
      for (const p of passes) need = Math.max(need, plan(c, p).scratch);
      if (need > 0) rt.scratch(need);
    }
  } catch (e) {
    release(c);
    throw e;
  }
  return passes;
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

const enum Arg { Const, Array, Rows, Fn }

interface Plan {
  rows: number;
  chunkRows: number;
  partRows: number;
  threaded: boolean;
  /** Chunk buffers per staged per-row array (2 when copies overlap the pool's compute). */
  buffers: number;
  scratch: number;
  /** Per kernel argument: its kind, its constant (pointer base), bytes per row. */
  kind: Arg[];
  base: number[];
  stride: number[];
  /** Array slot of argument i (or -1). */
  slotOf: number[];
  /** Staged slots: slot -> scratch offset of buffer 0 (per-row: chunk buffer; whole: the copy). */
  staged: Map<number, number>;
}

/** Every pass is planned before the call reserves anything, so the scratch is taken once, up front. */
function plan(c: Call, p: Pass): Plan {
  const { op, rt } = c;
  const rows = p.rows ?? c.d.rows!, width = p.width ?? c.d.cols!, align = p.align ?? 1;
  const pool = rt.pool;
  const threaded = pool !== null && p.threads !== false && rows * width >= rt.threadMinElements && rows > align;
  const kind: Arg[] = [], base: number[] = [], stride: number[] = [], slotOf: number[] = [];
  const used = new Set<number>();
  for (const t of p.args) {
    let k = Arg.Const, b = 0, st = 0, si = -1;
    if (typeof t === "number") b = t;
    else if (typeof t === "function") k = Arg.Fn;
    else if (t === ROWS) k = Arg.Rows;
    else if (t === NONE) b = 0;
    else if (op.index.has(t)) {
      si = op.index.get(t)!;
      const a = op.arrays[si]!, s = c.slots[si]!;
      if (s.where !== Where.Absent) {
        k = Arg.Array;
        used.add(si);
        b = s.at;
        st = 4 * perRow(c, a);
      }
    } else b = t in c.d ? c.d[t]! : c.num(t);
    kind.push(k); base.push(b); stride.push(st); slotOf.push(si);
  }
  for (const u of p.uses ?? []) {
    const si = op.index.get(u)!;
    if (c.slots[si]!.where !== Where.Absent) used.add(si);
  }
  let rowBytes = 0, wholeBytes = 0;
  const host: number[] = [];
  for (const si of used) {
    const s = c.slots[si]!, a = op.arrays[si]!;
    if (s.where !== Where.Host) continue;
    host.push(si);
    if (perRow(c, a)) rowBytes += 4 * perRow(c, a);
    else wholeBytes += align64(4 * s.length);
  }
  const partRows = align * Math.max(1, Math.ceil(rt.partElements / (Math.max(width, 1) * align)));
  const cap = p.maxRows ? Math.min(rows, p.maxRows) : rows;
  let chunkRows = cap;
  if (rowBytes > 0) {
    chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / rowBytes));
    if (threaded) chunkRows = Math.max(chunkRows, 2 * pool.threads * partRows);
    chunkRows = Math.min(cap, chunkRows);
    const ca = p.chunkAlign ?? align;
    if (chunkRows < rows) chunkRows = Math.min(cap, Math.max(ca, chunkRows - (chunkRows % ca)));
  }
  const buffers = threaded && rowBytes > 0 && chunkRows < rows ? 2 : 1;
  // Scratch layout: whole arrays, then per-row arrays' chunk buffers. In-place pairs share one.
  const staged = new Map<number, number>();
  let at = 0;
  for (const si of host) {
    const s = c.slots[si]!, a = op.arrays[si]!;
    const partner = a.inPlace ? op.index.get(a.inPlace) : undefined;
    if (partner !== undefined && staged.has(partner) && sameHost(s, c.slots[partner]!)) {
      staged.set(si, staged.get(partner)!);
      continue;
    }
    staged.set(si, at);
    const per = perRow(c, a);
    at += per ? buffers * align64(chunkRows * 4 * per) : align64(4 * s.length);
  }
  return { rows, chunkRows, partRows, threaded, buffers, scratch: rows === 0 ? 0 : at, kind, base, stride, slotOf, staged };
}

/** Elements an argument advances per row in this call (0: read or written whole). */
function perRow(c: Call, a: ArrayArg): number {
  return a.per === undefined ? 0 : c.d[a.per]!;
}

function sameHost(a: Slot, b: Slot): boolean {
  return a.where === Where.Host && b.where === Where.Host && a.buf === b.buf && a.at === b.at && a.length === b.length;
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

function runPass(c: Call, p: Pass): void {
  const pl = plan(c, p);
  if (pl.rows === 0) return;
  const { rt, op } = c;
  const k = rt.kernels!;
  const fn = k[p.kernel] as unknown as (...a: number[]) => void;
  const scratch = pl.staged.size ? rt.scratchPtr : 0;
  const n = pl.kind.length;
  const args = new Array<number>(n);
  const f32 = rt.arena.f32; // current: every allocation of the call is done
  const rowsAt = pl.kind.indexOf(Arg.Rows);

  // Host arrays of this pass: per-row ones move in chunks, whole ones once.
  const rowwise: number[] = [], whole: number[] = [];
  for (const [si] of pl.staged) (perRow(c, op.arrays[si]!) ? rowwise : whole).push(si);
  const hostView = (si: number, from: number, count: number): Float32Array => {
    const s = c.slots[si]!;
    return f32View(s.buf!, s.at + 4 * from, count);
  };
  for (const si of whole) {
    if (c.slots[si]!.io !== "out") copyInto(f32, hostView(si, 0, c.slots[si]!.length), (scratch + pl.staged.get(si)!) >> 2);
  }
  const bufAt = (si: number, buf: number): number => {
    const per = perRow(c, op.arrays[si]!);
    return scratch + pl.staged.get(si)! + buf * align64(pl.chunkRows * 4 * per);
  };
  const copyIn = (row0: number, rows: number, buf: number): void => {
    for (const si of rowwise) {
      if (c.slots[si]!.io === "out") continue;
      const per = perRow(c, op.arrays[si]!);
      copyInto(f32, hostView(si, row0 * per, rows * per), bufAt(si, buf) >> 2);
    }
  };
  const copyOut = (row0: number, rows: number, buf: number): void => {
    for (const si of rowwise) {
      if (c.slots[si]!.io === "in") continue;
      const per = perRow(c, op.arrays[si]!), from = bufAt(si, buf) >> 2;
      copyInto(hostView(si, row0 * per, rows * per), f32.subarray(from, from + rows * per));
    }
  };
  const ptrOf = (si: number, row0: number, buf: number): number => {
    const s = c.slots[si]!;
    if (s.where === Where.Absent) return 0;
    const a = op.arrays[si]!;
    const per = perRow(c, a);
    if (s.where === Where.Memory) return s.at + 4 * row0 * per;
    return per ? bufAt(si, buf) : scratch + pl.staged.get(si)!;
  };
  const chunk = (row0: number, rows: number, buf: number): Chunk => ({ row0, rows, ptr: (name) => ptrOf(op.index.get(name)!, row0, buf) });
  const fill = (ch: Chunk, buf: number): void => {
    for (let i = 0; i < n; i++) {
      const kd = pl.kind[i]!;
      args[i] = kd === Arg.Const ? pl.base[i]! : kd === Arg.Array ? ptrOf(pl.slotOf[i]!, ch.row0, buf) : kd === Arg.Rows ? ch.rows : (p.args[i] as (ch: Chunk, c: Call) => number)(ch, c);
    }
  };
  // Bytes per row of each argument inside a chunk (staged buffers advance like the arrays themselves).
  const rowStride = pl.stride;
  const partStride = p.blockStride ? Array.from({ length: n }, (_, i) => ((p.blockStride![i] ?? 0) * pl.partRows) / (p.align ?? 1)) : undefined;
  const pool = rt.pool;

  for (let row0 = 0, i = 0; row0 < pl.rows; row0 += pl.chunkRows, i++) {
    const rows = Math.min(pl.chunkRows, pl.rows - row0), buf = i % pl.buffers;
    if (i === 0 || pl.buffers === 1) copyIn(row0, rows, buf);
    const ch = chunk(row0, rows, buf);
    rt.chunks++;
    p.before?.(ch);
    fill(ch, buf);
    if (pl.threaded && pool && rows > pl.partRows) {
      pool.start(p.kernel, args, rowStride, rowsAt, rows, pl.partRows, partStride);
      // While the workers compute this chunk: copy the last chunk's results out, the next chunk in.
      if (pl.buffers === 2) {
        if (i > 0) copyOut(row0 - pl.chunkRows, pl.chunkRows, 1 - buf);
        const next = row0 + rows;
        if (next < pl.rows) copyIn(next, Math.min(pl.chunkRows, pl.rows - next), 1 - buf);
      }
      pool.join();
    } else {
      if (pl.buffers === 2 && i > 0) copyOut(row0 - pl.chunkRows, pl.chunkRows, 1 - buf);
      fn(...args);
      if (pl.buffers === 2 && row0 + rows < pl.rows) copyIn(row0 + rows, Math.min(pl.chunkRows, pl.rows - row0 - rows), 1 - buf);
    }
    p.after?.(ch);
    if (pl.buffers === 1) copyOut(row0, rows, buf);
    else if (row0 + rows >= pl.rows) copyOut(row0, rows, buf);
  }
  for (const si of whole) {
    if (c.slots[si]!.io === "in") continue;
    const from = (scratch + pl.staged.get(si)!) >> 2, len = c.slots[si]!.length;
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
