// A runtime = one linear memory (with its allocator and tensors) + the kernels instantiated on it
// + the active backend + optionally a worker pool. Calls run in a runtime through runtime/call.ts.
import { Arena, newTensor, PAGE, PlainMemory, type Tensor } from "./memory.js";
import { asKernels, kernelModule, wasmUnavailable, type Kernels } from "./module.js";
import { unknownOption } from "./keys.js";
import type { Pool } from "./pool.js";
import { copyAcross, describe, f32Facts, f32View, readAll } from "./typed.js";
import { tensorState } from "./memory.js";
import { availableThreads, noThreadsReason, sharedKernelModule, warnNoThreads } from "./shared.js";

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

/** RuntimeOptions as init() takes them: `module` may also be the module's bytes (init compiles them). */
export type InitOptions = Omit<RuntimeOptions, "module"> & { module?: WebAssembly.Module | BufferSource };

/** Every key of RuntimeOptions, in declaration order (a missing or extra name is a compile error). */
const RUNTIME_KEYS = ["backend", "module", "maxMemoryBytes", "instantiate", "threads"] as const satisfies readonly (keyof RuntimeOptions)[];
type MissingKey = Exclude<keyof RuntimeOptions, (typeof RUNTIME_KEYS)[number]>;
const completeKeys: [MissingKey] extends [never] ? true : MissingKey = true;
void completeKeys;

/**
 * Calls with fewer elements stay on the calling thread: waking a worker costs ~10-30 us here,
 * the time LayerNorm needs for ~50K elements. Measured: bench/threads.ts.
 */
export const THREAD_MIN_ELEMENTS = 1 << 17;
/** Rows per part are chosen so a part has about this many elements (a fixed function of the shape). */
export const PART_ELEMENTS = 1 << 15;
/** Parts a threaded job may have: a 20-bit field of the pool's claim word (pool.ts). */
export const MAX_PARTS = 0xfffff;

const MAX_BYTES = 65536 * PAGE;

/**
 * `options` read once (its own enumerable keys, as the ops read theirs) and checked before
 * anything is made: an unknown key is a TypeError naming the nearest valid one; a value of the
 * wrong kind a TypeError, one out of range a RangeError. Undefined values count as absent.
 * `who` names the function in the unknown-key message; `bytes`: module may be bytes (init).
 * @internal
 */
export function runtimeOptions(who: string, options: unknown): RuntimeOptions;
/** @internal */
export function runtimeOptions(who: string, options: unknown, bytes: true): InitOptions;
/** @internal */
export function runtimeOptions(who: string, options: unknown, bytes = false): InitOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) throw new TypeError(`${who} options: expected an object, got ${describe(options)}`);
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(options)) {
    if (!(RUNTIME_KEYS as readonly string[]).includes(k)) throw unknownOption(who, k, RUNTIME_KEYS);
    const v = (options as Record<string, unknown>)[k];
    if (v !== undefined) o[k] = v;
  }
  const { backend, module, maxMemoryBytes, instantiate, threads } = o;
  if (backend !== undefined && backend !== "auto" && backend !== "wasm" && backend !== "js") {
    throw new TypeError(`backend: expected "auto", "wasm" or "js", got ${describe(backend)}`);
  }
  if (module !== undefined && !(typeof WebAssembly === "object" && module instanceof WebAssembly.Module) && !(bytes && (module instanceof ArrayBuffer || ArrayBuffer.isView(module)))) {
    throw new TypeError(`module: expected a WebAssembly.Module${bytes ? " or its bytes (an ArrayBuffer or a typed array)" : ""}, got ${describe(module)}`);
  }
  if (maxMemoryBytes !== undefined && !(typeof maxMemoryBytes === "number" && maxMemoryBytes >= 2 * PAGE && maxMemoryBytes <= MAX_BYTES)) {
    const E = typeof maxMemoryBytes === "number" ? RangeError : TypeError;
    throw new E(`maxMemoryBytes: expected a number from ${2 * PAGE} to ${MAX_BYTES}, got ${describe(maxMemoryBytes)}`);
  }
  if (instantiate !== undefined && typeof instantiate !== "function") {
    throw new TypeError(`instantiate: expected a function (module, imports) => exports, got ${describe(instantiate)}`);
  }
  if (threads !== undefined && threads !== "auto" && !(Number.isInteger(threads) && (threads as number) >= 1 && (threads as number) <= 256)) {
    const E = typeof threads === "number" ? RangeError : TypeError;
    throw new E(`threads: expected an integer from 1 to 256 or "auto", got ${describe(threads)}`);
  }
  return o as InitOptions;
}

export class Runtime {
  readonly arena: Arena;
  /** The wasm kernels, or null when WebAssembly SIMD is unavailable. */
  readonly kernels: Kernels | null;
  private active: Backend;
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
  /** @internal kernel chunks run since the runtime was made (tests check that calls really span several). */
  chunks = 0;
  /** @internal each op's last call here, when a repeat can skip to its kernel calls (call.ts, Memo) */
  memos: unknown[] = [];
  /** Whether the memory is a shared WebAssembly.Memory (threaded runtimes). */
  readonly shared: boolean;
  /** @internal scratch block for kernel work areas (partial sums, per-channel parameters) */
  workPtr = 0;
  workBytes = 0;
  /** The unshared twin (see twin), null where there is none; undefined until first asked. */
  private unshared: Runtime | null | undefined;
  private readonly maxBytes: number;

  /**
   * A runtime with threads: resolves once its workers are ready. Without threads (or where
   * shared memory is unavailable) it is the same as `new Runtime(options)`.
   */
  static async create(options?: RuntimeOptions): Promise<Runtime> {
    options = runtimeOptions("Runtime.create", options);
    const { threads = 1 } = options;
    const cores = await availableThreads();
    const n = threads === "auto" ? cores : threads;
    const rest = { ...options, threads: 1 };
    if (n <= 1) return new Runtime(rest);
    const why = noThreadsReason();
    if (why) {
      warnNoThreads(why);
      return new Runtime(rest);
    }
    if (options.backend === "js" || (!options.module && wasmUnavailable())) {
      warnNoThreads("the JS fallback backend is single-threaded");
      return new Runtime(rest);
    }
    const { CONTROL_BYTES, Pool } = await import("./pool.js"); // loaded only by users of threads
    const rt = new Runtime(rest, true);
    const control = rt.arena.alloc(CONTROL_BYTES, true);
    rt.workers = await Pool.start(n, rt.arena.memory, control, rt.kernels as unknown as Record<string, unknown>, options.module ?? sharedKernelModule(), cores);
    return rt;
  }

  constructor(options?: RuntimeOptions, shared = false) {
    const { backend = "auto", module, maxMemoryBytes, instantiate, threads = 1 } = runtimeOptions("Runtime", options);
    if (threads !== 1) throw new TypeError(`threads: expected 1 in a synchronous constructor (a runtime with threads starts asynchronously; use init({ threads }) or Runtime.create({ threads })), got ${describe(threads)}`);
    this.shared = shared;
    // A twin needs the inlined module (a caller's module or instantiate hook serves shared memory only).
    if (!shared || module || instantiate) this.unshared = null;
    const maxBytes = maxMemoryBytes === undefined ? MAX_BYTES : Math.floor(maxMemoryBytes / PAGE) * PAGE;
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
      this.kernels = instantiate ? asKernels(instantiate(mod, imports), "instantiate") : asKernels(new WebAssembly.Instance(mod, imports).exports, "module");
      base = Math.max(base, this.kernels.heapBase());
    } else {
      this.kernels = null;
    }
    this.arena = new Arena(memory, base, maxBytes, this);
    this.maxBytes = maxBytes;
    this.active = backend === "js" || !wasm ? "js" : "wasm";
  }

  /**
   * @internal A shared runtime's single-threaded twin on an unshared memory of its own (made on
   * first use), for calls on plain arrays only that run on the calling thread: V8 copies into and
   * out of a SharedArrayBuffer word by word (0.21-0.33 ns per element against 0.10-0.12), which
   * made such calls 1.37-1.49x slower than in a runtime without threads (LayerNorm 1x768 to
   * 128x768). Same kernels, so the same bits. Null without shared memory or with a caller's module.
   */
  get twin(): Runtime | null {
    if (this.unshared === undefined) this.unshared = new Runtime({ backend: "wasm", maxMemoryBytes: this.maxBytes });
    return this.unshared;
  }

  /** @internal the twin if it was made, else null. */
  get madeTwin(): Runtime | null {
    return this.unshared ?? null;
  }

  /** @internal the worker pool, when there is one and it has not been shut down or retired. */
  get pool(): Pool | null {
    if (this.workers && !this.workers.open) {
      if (this.workers.retired) console.warn(`layernorm-wasm: thread pool retired (${this.workers.retired}); running single-threaded (results are identical)`);
      this.workers = null;
    }
    return this.workers;
  }

  get [Symbol.toStringTag](): string {
    return "Runtime";
  }

  /** Threads that run kernels (1 without a pool). */
  get threads(): number {
    return this.pool ? this.pool.threads : 1;
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
    const t = this.uninitialized(length);
    t.data.fill(0);
    return t;
  }

  private uninitialized(length: number): Tensor {
    this.checkTensorLength(length);
    return newTensor(this.arena, length);
  }

  private checkTensorLength(length: number): void {
    if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`tensor length: expected a non-negative integer, got ${describe(length)}`);
    if (length * 4 > this.arena.maxBytes) throw new RangeError(`tensor length: expected at most ${this.arena.maxBytes / 4} elements (the memory limit), got ${length}`);
  }

  /** A tensor holding a copy of `values` (an array-like of numbers, a Tensor or a view over this memory). */
  from(values: ArrayLike<number> | Tensor): Tensor {
    const st = tensorState(values);
    if (st) {
      if (st.freed) throw new TypeError("values: expected a live tensor, got a freed one");
      values = st.arena === this.arena ? f32View(this.arena.buffer, st.ptr, st.length) : (values as Tensor).data;
    }
    const f = f32Facts(values);
    // Read the source as it is now: allocating may grow memory and detach a view over it, so a
    // view over this memory is remembered by offset and re-derived after the allocation. Any
    // other array-like is read whole before anything is allocated (its getters may throw, or
    // allocate and grow memory under a view of the tensor).
    const own = f && this.arena.owns(f.buffer);
    const length = f ? f.length : checkedLength(values);
    if (!f) this.checkTensorLength(length);
    const src = f ? (own ? null : f32View(f.buffer, f.byteOffset, f.length)) : readAll(values as ArrayLike<number>, length);
    const t = this.uninitialized(length);
    copyAcross(t.data, src ?? f32View(this.arena.buffer, f!.byteOffset, length));
    return t;
  }

  /** Memory accounting: live blocks, free ranges, bytes in use, high-water mark, memory size. */
  memoryStats(): ReturnType<Arena["stats"]> {
    return this.arena.stats();
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


function checkedLength(v: unknown): number {
  const n = typeof v === "object" && v !== null ? (v as { length?: unknown }).length : undefined;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new TypeError(`values: expected an array-like of numbers, got ${describe(v)}`);
  return n;
}
