/// <reference lib="esnext.disposable" preserve="true" />
// Linear memory: the allocator (first-fit free list with coalescing, 64-byte blocks), memory
// growth, the views over the buffer (rebuilt here, in one place, whenever growth replaces the
// ArrayBuffer), and tensors. The other module that reads memory.buffer is runtime/call.ts, which
// derives every view a call uses from arena.f32 after the call's allocations are done.
import { setTensorDescriber } from "./typed.js";

const PAGE = 65536;
const ALIGN = 64;

/** Thrown by the allocator when linear memory cannot grow. Errors elsewhere are TypeError/RangeError. */
function outOfMemory(bytes: number, limit: number): RangeError {
  return new RangeError(`cannot allocate ${bytes} bytes of wasm linear memory (expected total <= ${limit} bytes, the memory's maximum)`);
}

/** A live or free range; a live block's `used` bytes from start are what was asked for (the rest is rounding). */
interface Block { start: number; end: number; internal: boolean; used?: number }

/** Current buffer of every arena -> arena, to recognise views over some runtime's memory. */
const arenas = new WeakMap<ArrayBufferLike, Arena>();
let count = 0;
/** The arena whose current memory is `buf`, if any. */
export function arenaOf(buf: ArrayBufferLike): Arena | undefined {
  return arenas.get(buf);
}
/** Number of arenas ever created (views can only be foreign when there is more than one). */
export function arenaCount(): number {
  return count;
}

export class Arena {
  readonly memory: WebAssembly.Memory;
  /** Current buffer and a Float32Array/Uint8Array over all of it; refreshed by refresh() only. */
  buffer!: ArrayBuffer;
  f32!: Float32Array;
  u8!: Uint8Array;
  /** Times refresh() replaced the buffer: a tensor's view is current while its gen matches. */
  gen = 0;
  readonly maxBytes: number;
  /** Free ranges sorted by start; live blocks sorted by start. */
  private free: Block[] = [];
  private live: Block[] = [];
  private top: number;
  /** Largest number of bytes ever in use (live blocks), for soak reports. */
  highWater = 0;
  inUse = 0;
  /** Tensors freed so far: a memo whose tensors were live is still right while this is unchanged. */
  tensorsFreed = 0;

  /** The runtime that owns this memory (opaque here). */
  readonly owner: unknown;
  /** A shared WebAssembly.Memory (threads): growth keeps old views valid instead of detaching them. */
  readonly shared: boolean;

  constructor(memory: WebAssembly.Memory, base: number, maxBytes: number, owner: unknown) {
    this.memory = memory;
    this.owner = owner;
    this.shared = typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
    this.maxBytes = maxBytes;
    this.top = alignUp(base);
    count++;
    this.refresh();
  }

  private refresh(): void {
    this.buffer = this.memory.buffer as ArrayBuffer;
    this.f32 = new Float32Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
    this.gen++;
    arenas.set(this.buffer, this);
  }

  /**
   * True when `buf` is this memory's buffer: the current one, or (shared memory only) an earlier
   * SharedArrayBuffer of it, whose views stay valid after growth. An earlier non-shared buffer
   * is detached and owns nothing.
   */
  owns(buf: ArrayBufferLike): boolean {
    return buf === this.buffer || (this.shared && arenas.get(buf) === this);
  }

  /** Allocates `bytes` (rounded up to 64), growing memory if needed. Throws RangeError when it cannot. */
  alloc(bytes: number, internal = false): number {
    const size = Math.max(ALIGN, alignUp(bytes));
    const free = this.free;
    let ptr = -1;
    for (let i = 0; i < free.length; i++) {
      const f = free[i]!;
      if (f.end - f.start >= size) {
        ptr = f.start;
        f.start += size;
        if (f.start === f.end) free.splice(i, 1);
        break;
      }
    }
    if (ptr < 0) ptr = this.carve(size);
    insertSorted(this.live, { start: ptr, end: ptr + size, internal, used: bytes });
    this.inUse += size;
    if (this.inUse > this.highWater) this.highWater = this.inUse;
    return ptr;
  }

  /** Takes `size` bytes from the top of the heap, growing memory; a free block ending at the top is reused. */
  private carve(size: number): number {
    let start = this.top;
    const last = this.free[this.free.length - 1];
    if (last && last.end === this.top) {
      start = last.start;
      this.free.pop();
    }
    const end = start + size;
    if (end > this.buffer.byteLength) {
      if (end > this.maxBytes) {
        if (start !== this.top) this.free.push({ start, end: this.top, internal: false });
        throw outOfMemory(size, this.maxBytes);
      }
      const have = this.buffer.byteLength / PAGE;
      const want = Math.min(Math.max(Math.ceil(end / PAGE), have * 2), this.maxBytes / PAGE);
      try {
        this.memory.grow(want - have);
      } catch {
        if (start !== this.top) this.free.push({ start, end: this.top, internal: false });
        throw outOfMemory(size, this.buffer.byteLength);
      }
      this.refresh();
    }
    this.top = Math.max(this.top, end);
    return start;
  }

  /** Returns a block to the free list, merging neighbours. */
  release(ptr: number): void {
    const i = findBlock(this.live, ptr);
    const blk = this.live[i];
    if (!blk || blk.start !== ptr) throw new RangeError(`no live block starts at ${ptr}`);
    this.live.splice(i, 1);
    this.inUse -= blk.end - blk.start;
    const free = this.free;
    let j = 0;
    while (j < free.length && free[j]!.start < blk.start) j++;
    const prev = free[j - 1], next = free[j];
    if (prev && prev.end === blk.start) {
      prev.end = blk.end;
      if (next && next.start === prev.end) { prev.end = next.end; free.splice(j, 1); }
    } else if (next && next.start === blk.end) {
      next.start = blk.start;
    } else {
      free.splice(j, 0, { start: blk.start, end: blk.end, internal: false });
    }
    // Give the trailing free block back to the top so later large requests can reuse it.
    const last = free[free.length - 1];
    if (last && last.end === this.top) { this.top = last.start; free.pop(); }
  }

  /** True when [ptr, ptr+bytes) lies inside the bytes of one live block handed to a user (not its rounding). */
  isLiveUserRange(ptr: number, bytes: number): boolean {
    const blk = this.live[findBlock(this.live, ptr)];
    return !!blk && !blk.internal && blk.start <= ptr && ptr + bytes <= blk.start + (blk.used ?? blk.end - blk.start);
  }

  /** @internal [start, end) of the live blocks the runtime keeps for itself (staging scratch, kernel work area, thread control). */
  internalRanges(): [number, number][] {
    return this.live.filter((b) => b.internal).map((b) => [b.start, b.end]);
  }

  /** Bytes the memory currently has (pages * 64 KiB). */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  /** Number of live blocks and of free ranges (for fragmentation checks). */
  stats(): { live: number; freeRanges: number; inUse: number; highWater: number; heapTop: number; memoryBytes: number } {
    return { live: this.live.length, freeRanges: this.free.length, inUse: this.inUse, highWater: this.highWater, heapTop: this.top, memoryBytes: this.byteLength };
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** Index of the last block with start <= ptr (or -1). */
function findBlock(blocks: Block[], ptr: number): number {
  let lo = 0, hi = blocks.length - 1, ans = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (blocks[mid]!.start <= ptr) { ans = mid; lo = mid + 1; } else hi = mid - 1;
  }
  return ans;
}

function insertSorted(blocks: Block[], b: Block): void {
  const i = findBlock(blocks, b.start) + 1;
  blocks.splice(i, 0, b);
}

/** A tensor's state, kept in a private field: nothing outside this module can forge or change it. */
export interface TensorState {
  readonly arena: Arena;
  readonly ptr: number;
  readonly length: number;
  freed: boolean;
  view: Float32Array;
  /** The arena's gen when `view` was made. */
  gen: number;
}

const CREATE = Symbol("Tensor.create");
let stateOf: (v: unknown) => TensorState | undefined;
const inspect = Symbol.for("nodejs.util.inspect.custom");
/** Symbol.dispose where the engine has it (Node 20+, recent browsers), else its registered stand-in. */
const dispose: typeof Symbol.dispose = (Symbol.dispose ?? Symbol.for("Symbol.dispose")) as typeof Symbol.dispose;
/**
 * Tensors garbage-collected without free() (a development aid, see Tensor.onLeak). The held value
 * is two numbers: holding the tensor's state would keep its whole memory alive until the callback.
 * free() unregisters, so a callback means a leak.
 */
const leaks = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<string>((where) => Tensor.onLeak?.(`layernorm-wasm: a ${where} was garbage-collected without free(); its wasm memory stays reserved`))
  : undefined;

/**
 * A Float32Array-sized block of wasm linear memory. Calls on tensors copy nothing. `data` is a
 * view over the memory's current buffer: read it again after any call that may allocate (memory
 * growth replaces the buffer, and an old view then has length 0). Free it with free(), or let
 * `using t = ...` do it (Symbol.dispose).
 */
export class Tensor {
  readonly #s: TensorState;
  /**
   * Called with a message when a tensor is garbage-collected without free() (default: none).
   * Set it in development, e.g. `Tensor.onLeak = console.warn`.
   */
  static onLeak: ((message: string) => void) | undefined;

  static {
    stateOf = (v) => (typeof v === "object" && v !== null && #s in v ? (v as Tensor).#s : undefined);
  }

  /** @internal use Runtime.alloc / alloc() / tensor() */
  constructor(token: symbol, arena: Arena, length: number) {
    if (token !== CREATE) throw new TypeError("Tensor: expected to be created by alloc() or tensor(), got a direct constructor call");
    const ptr = arena.alloc(length * 4);
    const state: TensorState = { arena, ptr, length, freed: false, view: new Float32Array(arena.buffer, ptr, length), gen: arena.gen };
    this.#s = state;
    leaks?.register(this, `Tensor(${length}) at byte ${ptr}`, state);
  }

  /** Byte offset of the first element in linear memory. */
  get byteOffset(): number {
    return this.#s.ptr;
  }

  /** Number of float32 elements. */
  get length(): number {
    return this.#s.length;
  }

  /** The tensor's elements, as a view over current linear memory (zero-copy). */
  get data(): Float32Array {
    const s = this.#s;
    if (s.freed) throw new TypeError("tensor was freed (expected a live tensor, got a freed one)");
    // (an integer compare: reading view.buffer costs more than the rest of the getter)
    if (s.gen !== s.arena.gen) {
      s.view = new Float32Array(s.arena.buffer, s.ptr, s.length);
      s.gen = s.arena.gen;
    }
    return s.view;
  }

  /** True once free() has been called. */
  get freed(): boolean {
    return this.#s.freed;
  }

  /** Returns the memory to the allocator. Using the tensor afterwards, or freeing it twice, throws. */
  free(): void {
    const s = this.#s;
    if (s.freed) throw new TypeError("tensor freed twice (expected a live tensor, got a freed one)");
    s.freed = true;
    s.arena.tensorsFreed++;
    leaks?.unregister(s);
    s.arena.release(s.ptr);
  }

  /** `using t = tensor(...)`: frees the tensor at the end of the scope (a no-op when already freed). */
  [dispose](): void {
    if (!this.#s.freed) this.free();
  }

  /** `Tensor(768) [0.12, -0.5, ...]`: the length and the first elements. */
  toString(): string {
    const s = this.#s;
    if (s.freed) return `Tensor(${s.length}) <freed>`;
    const d = this.data, n = Math.min(s.length, 6);
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(String(Number(d[i]!.toPrecision(6))));
    return `Tensor(${s.length}) [${items.join(", ")}${s.length > n ? ", ..." : ""}]`;
  }

  [inspect](): string {
    return this.toString();
  }

  get [Symbol.toStringTag](): string {
    return "Tensor";
  }
}

/** @internal The state of a genuine Tensor, or undefined for anything else (forgeries included). */
export function tensorState(v: unknown): TensorState | undefined {
  return stateOf(v);
}

/** @internal A new tensor of `length` floats (uninitialised). */
export function newTensor(arena: Arena, length: number): Tensor {
  return new Tensor(CREATE, arena, length);
}

setTensorDescriber((v) => {
  const s = stateOf(v);
  return s ? `Tensor(${s.length})${s.freed ? " (freed)" : ""}` : undefined;
});

/**
 * Stand-in for WebAssembly.Memory where WebAssembly itself is missing: growth copies into a new
 * ArrayBuffer and detaches the old one, so stale views fail the same way as with wasm memory.
 */
export class PlainMemory {
  buffer: ArrayBuffer;
  constructor(pages: number) {
    this.buffer = new ArrayBuffer(pages * PAGE);
  }
  grow(pages: number): number {
    const old = this.buffer;
    const next = new ArrayBuffer(old.byteLength + pages * PAGE);
    new Uint8Array(next).set(new Uint8Array(old));
    this.buffer = next;
    structuredClone(old, { transfer: [old] });
    return old.byteLength / PAGE;
  }
}
export { PAGE };
