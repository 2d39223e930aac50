// A runtime = one linear memory (with its allocator and tensors) + the kernels instantiated on it
// + the active backend. Ops find their runtime here, turn their arguments into pointers, and
// stage plain (JS-heap) arrays through a bounded scratch area in row chunks.
import { Arena, arenaCount, arenaOf, PAGE, PlainMemory, Tensor } from "./memory.js";
import { describe, kernelModule, wasmUnavailable, type Kernels } from "./module.js";
import { ArgCheck } from "./args.js";
import type { Pool } from "./pool.js";
import { availableThreads, sharedKernelModule, threadsSupported, warnNoThreads } from "./shared.js";

export type Backend = "wasm" | "js";
export type BackendChoice = Backend | "auto";
/** A float32 tensor argument: a plain Float32Array (copied through wasm memory) or a Tensor (zero-copy). */
export type Float32Like = Float32Array | Tensor;

export interface RuntimeOptions {
  /** "auto" (default): wasm SIMD where the engine supports it, else the JS fallback. */
  backend?: BackendChoice;
  /** A precompiled kernel module (strict-CSP pages, workers, workerd). Default: compiled from inlined bytes. */
  module?: WebAssembly.Module;
  /** Upper bound on linear memory in bytes (rounded down to 64 KiB pages). Default: 4 GiB. */
  maxMemoryBytes?: number;
  /**
   * Advanced: instantiates the kernel module on the runtime's memory (which the module imports as
   * env.memory). The tests use it to load the debug build through @assemblyscript/loader, which
   * supplies env.abort and turns assertion failures into readable errors.
   */
  instantiate?: (module: WebAssembly.Module, imports: { env: { memory: WebAssembly.Memory } }) => object;
  /**
   * Threads that run kernels, the caller included: a number, or "auto" for the hardware's count.
   * Needs asynchronous creation (init(), Runtime.create()) and shared memory (Node, or a
   * cross-origin isolated page); elsewhere the runtime is single-threaded and says so once.
   */
  threads?: number | "auto";
}

/**
 * Calls with fewer elements stay on the calling thread: waking a worker costs ~10-30 us here,
 * the time LayerNorm needs for ~50K elements. Measured: bench/threads.ts.
 */
export const THREAD_MIN_ELEMENTS = 1 << 17;
/** Rows per part are chosen so a part has about this many elements (a fixed function of the shape). */
export const PART_ELEMENTS = 1 << 15;

const MAX_BYTES = 65536 * PAGE;
/** Staged (copied) row data per chunk: small enough to stay in L2 between copy-in and copy-out. */
export const CHUNK_BYTES = 128 * 1024;


export class Runtime {
  readonly arena: Arena;
  /** The wasm kernels, or null when WebAssembly SIMD is unavailable. */
  readonly kernels: Kernels | null;
  private active: Backend;
  readonly stager: Stager;
  /** @internal per-call argument validation table */
  readonly check = new ArgCheck();
  /** @internal scratch block for staged arguments */
  scratchPtr = 0;
  scratchBytes = 0;
  private workers: Pool | null = null;
  /**
   * Calls with fewer elements than this run on the calling thread even with a pool (default
   * THREAD_MIN_ELEMENTS). Results do not depend on it; tests set 0 to push every call through the pool.
   */
  threadMinElements = THREAD_MIN_ELEMENTS;
  /** Elements per part of a threaded call (default PART_ELEMENTS; tests set 1: a part per row or block). */
  partElements = PART_ELEMENTS;
  /** Whether the memory is a shared WebAssembly.Memory (threaded runtimes). */
  readonly shared: boolean;
  /** @internal scratch block for kernel work areas (partial sums, per-channel parameters) */
  workPtr = 0;
  workBytes = 0;

  /**
   * A runtime with threads: resolves once its workers are ready. Without threads (or where
   * shared memory is unavailable) it is the same as `new Runtime(options)`.
   */
  static async create(options: RuntimeOptions = {}): Promise<Runtime> {
    const { threads = 1 } = options;
    if (threads !== "auto" && !(Number.isInteger(threads) && threads >= 1 && threads <= 256)) {
      throw new RangeError(`threads: expected an integer from 1 to 256 or "auto", got ${describe(threads)}`);
    }
    const n = threads === "auto" ? await availableThreads() : threads;
    const rest = { ...options, threads: 1 };
    if (n <= 1) return new Runtime(rest);
    if (!threadsSupported()) {
      warnNoThreads("SharedArrayBuffer is unavailable (a browser page needs Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)");
      return new Runtime(rest);
    }
    if (options.backend === "js" || (!options.module && wasmUnavailable())) {
      warnNoThreads("the JS fallback backend is single-threaded");
      return new Runtime(rest);
    }
    const { CONTROL_BYTES, Pool } = await import("./pool.js"); // loaded only by users of threads
    const rt = new Runtime(rest, true);
    const control = rt.arena.alloc(CONTROL_BYTES, true);
    rt.workers = await Pool.start(n, rt.arena.memory, control, rt.kernels as unknown as Record<string, unknown>, options.module ?? sharedKernelModule());
    return rt;
  }

  constructor(options: RuntimeOptions = {}, shared = false) {
    const { backend = "auto", module, maxMemoryBytes, instantiate, threads = 1 } = options;
    if (threads !== 1) throw new TypeError(`threads: expected 1 in a synchronous constructor (a runtime with threads starts asynchronously; use init({ threads }) or Runtime.create({ threads })), got ${describe(threads)}`);
    this.shared = shared;
    if (backend !== "auto" && backend !== "wasm" && backend !== "js") {
      throw new TypeError(`backend: expected "auto", "wasm" or "js", got ${describe(backend)}`);
    }
    let maxBytes = MAX_BYTES;
    if (maxMemoryBytes !== undefined) {
      if (typeof maxMemoryBytes !== "number" || !(maxMemoryBytes >= 2 * PAGE) || maxMemoryBytes > MAX_BYTES) {
        throw new RangeError(`maxMemoryBytes: expected a number from ${2 * PAGE} to ${MAX_BYTES}, got ${describe(maxMemoryBytes)}`);
      }
      maxBytes = Math.floor(maxMemoryBytes / PAGE) * PAGE;
    }
    const wasm = module !== undefined || (backend !== "js" && !wasmUnavailable());
    if (backend === "wasm" && !wasm) throw new Error(`backend "wasm" requested, but ${wasmUnavailable()}`);
    let memory: WebAssembly.Memory;
    let base = 64;
    if (typeof WebAssembly === "object") {
      memory = new WebAssembly.Memory({ initial: 1, maximum: maxBytes / PAGE, shared } as WebAssembly.MemoryDescriptor);
    } else {
      memory = new PlainMemory(1) as unknown as WebAssembly.Memory;
    }
    if (wasm) {
      const imports = { env: { memory } };
      const mod = shared && !module ? sharedKernelModule() : kernelModule(module);
      const exports = instantiate ? instantiate(mod, imports) : new WebAssembly.Instance(mod, imports).exports;
      this.kernels = exports as unknown as Kernels;
      base = Math.max(base, this.kernels.heapBase());
    } else {
      this.kernels = null;
    }
    this.arena = new Arena(memory, base, maxBytes, this);
    this.active = backend === "js" || !wasm ? "js" : "wasm";
    this.stager = new Stager(this);
  }

  /** @internal the worker pool, when there is one and it has not been shut down. */
  get pool(): Pool | null {
    return this.workers;
  }

  /** @internal True when a call of `elements` elements should run on the pool. */
  threadsFor(elements: number): boolean {
    return this.workers !== null && elements >= this.threadMinElements;
  }

  /**
   * @internal Runs row kernel `name` on the pool: argument i advances rowStride[i] bytes per row.
   * Parts are a whole number of `align` rows (the cross-row reduction block, or a broadcast cycle)
   * of about PART_ELEMENTS elements, a function of the shape only; blockStride[i] bytes per
   * `align` rows advances per-block outputs (partial sums) with the part.
   */
  parallel(name: string, args: readonly number[], rowStride: readonly number[], rowsAt: number, rowElements: number, align = 1, blockStride?: readonly number[]): void {
    const rows = args[rowsAt]!;
    const partRows = align * Math.max(1, Math.ceil(this.partElements / (rowElements * align)));
    this.workers!.run(name, args, rowStride, rowsAt, rows, partRows, blockStride?.map((b) => (b * partRows) / align));
  }

  /** Threads that run kernels (1 without a pool). */
  get threads(): number {
    return this.workers ? this.workers.threads : 1;
  }

  /** Stops the worker threads; later calls run on the calling thread (same results). */
  shutdown(): void {
    this.workers?.shutdown();
    this.workers = null;
  }

  /** The backend ops use now. */
  get backend(): Backend {
    return this.active;
  }

  /** Switches backend; "auto" picks wasm when available. Tensors stay valid: both backends share the memory. */
  setBackend(choice: BackendChoice): Backend {
    if (choice === "auto") this.active = this.kernels ? "wasm" : "js";
    else if (choice === "js") this.active = "js";
    else if (choice === "wasm") {
      if (!this.kernels) throw new Error(`backend "wasm" requested, but ${wasmUnavailable() || "this runtime was created with backend \"js\" and has no kernels"}`);
      this.active = "wasm";
    } else throw new TypeError(`backend: expected "auto", "wasm" or "js", got ${describe(choice)}`);
    return this.active;
  }

  /** A new zero-filled tensor of `length` float32 elements in this runtime's memory. */
  alloc(length: number): Tensor {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`tensor length: expected a non-negative integer, got ${describe(length)}`);
    if (length * 4 > this.arena.maxBytes) throw new RangeError(`tensor length: expected at most ${this.arena.maxBytes / 4} elements (the memory limit), got ${length}`);
    const t = new Tensor(this.arena, length);
    t.data.fill(0);
    return t;
  }

  /** A tensor holding a copy of `values`. */
  from(values: ArrayLike<number>): Tensor {
    const t = this.alloc(values.length);
    t.data.set(values);
    return t;
  }

  /** Memory accounting: live blocks, free ranges, bytes in use, high-water mark, memory size. */
  memoryStats(): ReturnType<Arena["stats"]> {
    return this.arena.stats();
  }

  /**
   * @internal Pointer of an argument living in this memory (Tensor, or a view over the buffer),
   * or -1 for a plain array that must be staged. Validation has already rejected foreign ones.
   */
  ptr(a: Float32Like | null): number {
    if (a === null) return 0;
    if (a instanceof Tensor) return a.byteOffset;
    return this.arena.owns(a.buffer) ? a.byteOffset : -1;
  }

  /** @internal a Float32Array over the argument's elements (Tensor.data or the array itself). */
  view(a: Float32Like): Float32Array;
  view(a: Float32Like | null): Float32Array | null;
  view(a: Float32Like | null): Float32Array | null {
    return a === null ? null : a instanceof Tensor ? a.data : a;
  }

  /** @internal the staging scratch block, at least `bytes` long (reallocated, never shrunk). */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes) this.arena.release(this.scratchPtr);
      this.scratchBytes = 0;
      this.scratchPtr = this.arena.alloc(bytes, true);
      this.scratchBytes = bytes;
    }
    return this.scratchPtr;
  }

  /**
   * @internal the kernels' work area (separate from the staging scratch), at least `bytes` long.
   * Its contents are undefined at the start of a call: kernels initialise what they read.
   */
  workspace(bytes: number): number {
    if (bytes > this.workBytes) {
      if (this.workBytes) this.arena.release(this.workPtr);
      this.workBytes = 0;
      this.workPtr = this.arena.alloc(bytes, true);
      this.workBytes = bytes;
    }
    return this.workPtr;
  }
}

/** The runtime a tensor or a view over wasm memory belongs to, if any. */
export function runtimeOf(a: unknown): Runtime | undefined {
  if (a instanceof Tensor) return a.arena.owner as Runtime;
  if (a instanceof Float32Array) return arenaOf(a.buffer)?.owner as Runtime | undefined;
  return undefined;
}

/**
 * The runtime a call runs in: the one given, else that of the first tensor (or view over wasm
 * memory) among the arguments, else the default runtime.
 */
export function resolveRuntime(given: Runtime | undefined, a: unknown, b?: unknown, c?: unknown, d?: unknown): Runtime {
  if (given !== undefined) {
    if (!(given instanceof Runtime)) throw new TypeError(`runtime: expected a Runtime, got ${describe(given)}`);
    return given;
  }
  if (a instanceof Tensor) return a.arena.owner as Runtime;
  if (b instanceof Tensor) return b.arena.owner as Runtime;
  if (c instanceof Tensor) return c.arena.owner as Runtime;
  if (d instanceof Tensor) return d.arena.owner as Runtime;
  // Plain arrays may still be views over some runtime's memory, unless the default one is all there is.
  if (arenaCount() > (defaultRt ? 1 : 0)) return runtimeOf(a) ?? runtimeOf(b) ?? runtimeOf(c) ?? runtimeOf(d) ?? defaultRuntime();
  return defaultRuntime();
}

let defaultRt: Runtime | undefined;

/** The default runtime, created on first use (synchronous: the module is small). */
export function defaultRuntime(): Runtime {
  return (defaultRt ??= new Runtime());
}

/**
 * Initialises the default runtime with options (a precompiled module, a backend, a memory cap).
 * Optional: the first call initialises implicitly. Throws if the default runtime already exists
 * and options were given, since its tensors would otherwise be orphaned.
 */
export function initSync(options?: RuntimeOptions): Runtime {
  return reuseDefault(options) ?? (defaultRt = new Runtime(options));
}

let pending: Promise<Runtime> | undefined;

/** Like initSync, and the only way to give the default runtime threads. */
export async function initAsync(options?: RuntimeOptions): Promise<Runtime> {
  if (pending) await pending.catch(() => undefined);
  const existing = reuseDefault(options);
  if (existing) return existing;
  pending = Runtime.create(options);
  try {
    defaultRt = await pending;
  } finally {
    pending = undefined;
  }
  return defaultRt;
}

/** The existing default runtime when `options` fit it (a backend switch is fine); throws if they would replace it. */
function reuseDefault(options?: RuntimeOptions): Runtime | undefined {
  if (!defaultRt) return undefined;
  if (options && (options.module || options.maxMemoryBytes !== undefined || (options.threads !== undefined && options.threads !== defaultRt.threads && !(options.threads === "auto" && defaultRt.threads > 1)))) {
    throw new Error("init: the default runtime already exists (call init before the first op, or use createRuntime())");
  }
  if (options?.backend) defaultRt.setBackend(options.backend);
  return defaultRt;
}

/**
 * Row chunks of staged arguments: the only place that copies between JS arrays and wasm memory.
 * Chunks hold a multiple of `align` rows (except the last), so per-block reductions see the same
 * blocks whatever the chunk size; `maxRows` also splits zero-copy calls (bounded kernel scratch).
 */
const enum Kind { RowIn, RowOut, Whole, WholeOut }
const MAX_SLOTS = 12;

export class Stager {
  /** Pointers for the current chunk, by slot. 0 means "absent". */
  readonly p = new Int32Array(MAX_SLOTS);
  private readonly rt: Runtime;
  private readonly args: (Float32Like | null)[] = new Array(MAX_SLOTS).fill(null);
  private readonly width = new Int32Array(MAX_SLOTS);
  private readonly kind = new Int8Array(MAX_SLOTS);
  private readonly base = new Float64Array(MAX_SLOTS); // direct pointer, or -1 when staged
  private readonly alias = new Int8Array(MAX_SLOTS); // slot whose scratch an in-place output shares, or -1
  private readonly off = new Float64Array(MAX_SLOTS); // scratch offset of staged slots
  private n = 0;
  private rows = 0;
  private r0 = 0;
  private chunk = 0;
  private staged = false;
  private align = 1;
  private maxRows = 0;
  /** @internal chunks handed out since the stager was created (tests check that calls really span several). */
  chunks = 0;

  constructor(rt: Runtime) {
    this.rt = rt;
  }

  /** Starts a call over `rows` rows: chunks of a multiple of `align` rows, at most `maxRows` (0: no cap; a multiple of align). */
  begin(rows: number, align = 1, maxRows = 0): this {
    this.n = 0;
    this.rows = rows;
    this.staged = false;
    this.align = align;
    this.maxRows = maxRows;
    return this;
  }

  /** First row of the current chunk. */
  get row0(): number {
    return this.r0;
  }

  /** Input with `width` floats per row. */
  rowIn(a: Float32Like | null, width: number): this {
    return this.slot(a, width, Kind.RowIn);
  }
  /** Output with `width` floats per row; the same array as an earlier input means in place. */
  rowOut(a: Float32Like | null, width: number): this {
    return this.slot(a, width, Kind.RowOut);
  }
  /** Input read whole by every row (weight, bias). */
  whole(a: Float32Like | null): this {
    return this.slot(a, 0, Kind.Whole);
  }
  /** Output written whole (reductions over rows); copied back after the last chunk. */
  wholeOut(a: Float32Like | null): this {
    return this.slot(a, 0, Kind.WholeOut);
  }

  private slot(a: Float32Like | null, width: number, kind: Kind): this {
    const i = this.n++;
    this.args[i] = a;
    this.width[i] = width;
    this.kind[i] = kind;
    this.alias[i] = -1;
    const ptr = this.rt.ptr(a);
    this.base[i] = ptr;
    if (ptr < 0) {
      this.staged = true;
      if (kind === Kind.RowOut) {
        for (let j = 0; j < i; j++) {
          const b = this.args[j];
          if (this.kind[j] === Kind.RowIn && b instanceof Float32Array && sameStart(b, a as Float32Array)) this.alias[i] = j;
        }
      }
    }
    return this;
  }

  /**
   * Scratch bytes the configured call will stage (0 when nothing is staged), without allocating.
   * An op with several staged passes reserves the largest (Runtime.scratch) before its first pass
   * writes anything, so a failed allocation cannot leave a call half done.
   */
  scratchNeed(): number {
    return this.rows === 0 || !this.staged ? 0 : this.plan();
  }

  /** Rows per chunk of a staged call (stored in `chunk`); returns the scratch bytes it needs. */
  private plan(): number {
    const cap = this.maxRows > 0 ? Math.min(this.rows, this.maxRows) : this.rows;
    let rowBytes = 0, wholeBytes = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.base[i]! >= 0 || this.alias[i]! >= 0) continue;
      if (isWhole(this.kind[i]!)) wholeBytes += align64(this.args[i]!.length * 4);
      else rowBytes += this.width[i]! * 4;
    }
    let chunkRows = Math.max(1, Math.min(cap, Math.floor(CHUNK_BYTES / Math.max(rowBytes, 1))));
    if (chunkRows < this.rows) chunkRows = Math.min(cap, Math.max(this.align, chunkRows - (chunkRows % this.align)));
    let need = wholeBytes;
    for (let i = 0; i < this.n; i++) {
      if (this.base[i]! < 0 && this.alias[i]! < 0 && !isWhole(this.kind[i]!)) need += align64(chunkRows * this.width[i]! * 4);
    }
    this.chunk = chunkRows;
    return need;
  }

  /** Sets p for the first chunk and returns its row count (0 when there are no rows). */
  first(): number {
    if (this.rows === 0) return 0;
    this.chunks++;
    if (!this.staged) {
      const cap = this.maxRows > 0 ? Math.min(this.rows, this.maxRows) : this.rows;
      this.chunk = cap;
      this.r0 = 0;
      if (cap === this.rows) {
        for (let i = 0; i < this.n; i++) this.p[i] = this.base[i]!;
        return this.rows;
      }
      return this.load();
    }
    let at = this.rt.scratch(this.plan());
    const f32 = this.rt.arena.f32;
    for (let i = 0; i < this.n; i++) {
      if (this.base[i]! >= 0) continue;
      const a = this.alias[i]!;
      if (a >= 0) { this.off[i] = this.off[a]!; continue; }
      this.off[i] = at;
      if (isWhole(this.kind[i]!)) {
        const src = this.args[i] as Float32Array;
        if (this.kind[i] === Kind.Whole) f32.set(src, at >> 2);
        at += align64(src.length * 4);
      } else at += align64(this.chunk * this.width[i]! * 4);
    }
    this.r0 = 0;
    return this.load();
  }

  /** Copies the finished chunk's outputs back, then prepares the next chunk; 0 when done. */
  next(): number {
    const n = Math.min(this.chunk, this.rows - this.r0);
    if (!this.staged) {
      this.r0 += n;
      if (this.r0 >= this.rows) return 0;
      this.chunks++;
      return this.load();
    }
    const f32 = this.rt.arena.f32;
    for (let i = 0; i < this.n; i++) {
      if (this.kind[i] !== Kind.RowOut || this.base[i]! >= 0) continue;
      const w = this.width[i]!, at = this.off[i]! >> 2;
      (this.args[i] as Float32Array).set(f32.subarray(at, at + n * w), this.r0 * w);
    }
    this.r0 += n;
    if (this.r0 < this.rows) {
      this.chunks++;
      return this.load();
    }
    for (let i = 0; i < this.n; i++) {
      if (this.kind[i] !== Kind.WholeOut || this.base[i]! >= 0) continue;
      const dst = this.args[i] as Float32Array, at = this.off[i]! >> 2;
      dst.set(f32.subarray(at, at + dst.length));
    }
    return 0;
  }

  private load(): number {
    const n = Math.min(this.chunk, this.rows - this.r0);
    const f32 = this.rt.arena.f32;
    for (let i = 0; i < this.n; i++) {
      const w = this.width[i]!;
      const b = this.base[i]!;
      if (b >= 0) {
        this.p[i] = b === 0 || isWhole(this.kind[i]!) ? b : b + this.r0 * w * 4;
        continue;
      }
      this.p[i] = this.off[i]!;
      if (this.kind[i] === Kind.RowIn) {
        const src = this.args[i] as Float32Array;
        f32.set(src.subarray(this.r0 * w, (this.r0 + n) * w), this.off[i]! >> 2);
      }
    }
    return n;
  }
}

function isWhole(k: Kind): boolean {
  return k === Kind.Whole || k === Kind.WholeOut;
}

function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}

function sameStart(a: Float32Array, b: Float32Array): boolean {
  return a === b || (a.buffer === b.buffer && a.byteOffset === b.byteOffset);
}
