// Per-call validation of array arguments: type, liveness, owning runtime, length, and shared
// memory between outputs and everything else. Errors name the argument, what was expected and
// what arrived, and are thrown before anything is written.
import { arenaCount, arenaOf, Tensor } from "./memory.js";
import { describe } from "./module.js";
import type { Float32Like, Runtime } from "./runtime.js";

const SLOTS = 12;

/**
 * The array arguments of one call. Each is validated once; for plain Float32Arrays the buffer
 * and byte offset are read once (on Node 20, TypedArray .buffer and .byteOffset cost ~15-25 ns
 * per access, more than the rest of a small call). Outputs are then checked against every other
 * argument for shared memory. One instance per runtime, reset by each call.
 */
export class ArgCheck {
  private rt!: Runtime;
  private n = 0;
  /** Bit i set: slot i is an output / a plain Float32Array. */
  private outMask = 0;
  private plainMask = 0;
  private readonly names: string[] = new Array<string>(SLOTS).fill("");
  private readonly vals: (Float32Like | null)[] = new Array<Float32Like | null>(SLOTS).fill(null);
  private readonly bufs: (ArrayBufferLike | null)[] = new Array<ArrayBufferLike | null>(SLOTS).fill(null);
  /** Byte offset in linear memory (or in the array's own buffer); -1 until read. */
  private readonly starts = new Float64Array(SLOTS);
  private readonly inPlace = new Int8Array(SLOTS);

  reset(rt: Runtime): this {
    this.rt = rt;
    this.n = 0;
    this.outMask = 0;
    this.plainMask = 0;
    return this;
  }

  /** Records a required input; `expected` >= 0 demands that length. Returns its index. */
  input(name: string, v: unknown, expected = -1, what = ""): number {
    if (v === null || v === undefined) throw new TypeError(`${name}: expected a Float32Array or Tensor, got ${describe(v)}`);
    return this.add(name, v, expected, what, -2);
  }

  /** Records an input that may be absent (null or undefined). */
  optional(name: string, v: unknown, expected = -1, what = ""): number {
    return this.add(name, v, expected, what, -2);
  }

  /** Records an output (absent allowed); it may be exactly the input at index `inPlaceWith` (in place), nothing else. */
  output(name: string, v: unknown, expected: number, what: string, inPlaceWith = -1): number {
    return this.add(name, v, expected, what, inPlaceWith);
  }

  /** inPlaceWith: -2 for inputs, else the in-place input index of an output (-1: none). */
  private add(name: string, v: unknown, expected: number, what: string, inPlaceWith: number): number {
    const i = this.n++;
    this.names[i] = name;
    if (v === null || v === undefined) {
      this.vals[i] = null;
      this.starts[i] = 0;
      return i;
    }
    if (inPlaceWith !== -2) {
      this.outMask |= 1 << i;
      this.inPlace[i] = inPlaceWith;
    }
    let length: number;
    if (v instanceof Tensor) {
      if (v.freed) throw new TypeError(`${name}: expected a live tensor, got a freed one`);
      if (v.arena !== this.rt.arena) throw new TypeError(`${name}: expected a tensor of this runtime, got one from another runtime`);
      length = v.length;
      this.vals[i] = v;
      this.starts[i] = v.byteOffset;
    } else if (v instanceof Float32Array) {
      length = v.length;
      this.vals[i] = v;
      this.plain(i, name, v);
    } else {
      throw new TypeError(`${name}: expected a Float32Array or Tensor, got ${describe(v)}`);
    }
    if (expected >= 0 && length !== expected) throw new RangeError(`${name} length: expected ${expected} (${what}), got ${length}`);
    return i;
  }

  private plain(i: number, name: string, v: Float32Array): void {
    const buf = v.buffer;
    const arena = this.rt.arena;
    this.plainMask |= 1 << i;
    this.bufs[i] = buf;
    this.starts[i] = -1;
    if (v.length === 0 && isDetached(buf)) {
      throw new TypeError(`${name}: expected a Float32Array over live memory, got one whose ArrayBuffer is detached (wasm memory grew? read tensor.data again)`);
    }
    if (arena.owns(buf)) {
      this.bufs[i] = arena.buffer; // an earlier SharedArrayBuffer of this memory: same bytes
      const at = this.start(i);
      if (!arena.isLiveUserRange(at, v.length * 4)) {
        throw new RangeError(`${name}: expected a view inside a live tensor, got a view over free or internal wasm memory at byte ${at}`);
      }
    } else if (arenaCount() > 1 && arenaOf(buf)) {
      throw new TypeError(`${name}: expected an array of this runtime, got a view over another runtime's memory`);
    }
  }

  private start(i: number): number {
    if (this.starts[i]! < 0) this.starts[i] = (this.vals[i] as Float32Array).byteOffset;
    return this.starts[i]!;
  }

  private buffer(i: number): ArrayBufferLike | null {
    return (this.plainMask >> i) & 1 ? this.bufs[i]! : this.rt.arena.buffer;
  }

  /** Outputs share memory with no other argument, except an exact in-place input. */
  checkAliasing(): void {
    for (let m = this.outMask; m !== 0; m &= m - 1) {
      const o = 31 - Math.clz32(m & -m);
      const ov = this.vals[o]!;
      if (ov.length === 0) continue;
      for (let a = 0; a < this.n; a++) {
        const av = this.vals[a]!;
        if (a === o || av === null || av.length === 0 || ((this.outMask >> a) & 1 && a > o)) continue;
        if (!((this.plainMask >> o) & 1) && !((this.plainMask >> a) & 1)) {
          // Two tensors: distinct live tensors never overlap (the allocator hands out disjoint blocks).
          if (av === ov && this.inPlace[o] !== a) this.fail(o, a, true);
          continue;
        }
        if (this.buffer(a) !== this.buffer(o)) continue;
        const so = this.start(o), eo = so + ov.length * 4, sa = this.start(a), ea = sa + av.length * 4;
        if (eo <= sa || ea <= so) continue;
        const same = so === sa && eo === ea;
        if (!(same && this.inPlace[o] === a)) this.fail(o, a, same);
      }
    }
  }

  private fail(o: number, a: number, same: boolean): never {
    const inPlace = this.inPlace[o] === a;
    throw new RangeError(`${this.names[o]}: expected memory separate from ${this.names[a]}${inPlace ? " (or exactly the same array, for in place)" : ""}, got ${same ? "the same memory" : "an overlapping array"}`);
  }

  /** Pointer of argument i in linear memory: 0 if absent, -1 if it must be staged. */
  ptr(i: number): number {
    if (!((this.plainMask >> i) & 1)) return this.starts[i]!; // a tensor's offset, or 0 when absent
    return this.bufs[i] === this.rt.arena.buffer ? this.start(i) : -1;
  }
}

function isDetached(buf: ArrayBufferLike): boolean {
  if (buf.byteLength !== 0) return false;
  try {
    new Uint8Array(buf);
    return false;
  } catch {
    return true;
  }
}
