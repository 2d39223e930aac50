// Per-call validation of array arguments: type, liveness, owning runtime, length, and shared
// memory between outputs and everything else. Errors name the argument, what was expected and
// what arrived, and are thrown before anything is written.
import { arenaCount, arenaOf, Tensor } from "./memory.js";
import { describe } from "./module.js";
import type { Float32Like, Runtime } from "./runtime.js";

const SLOTS = 12;

/**
 * The array arguments of one call. Each is validated once (type, liveness, runtime, length) and
 * its buffer and byte range are read once: on Node 20, TypedArray .buffer and .byteOffset cost
 * ~15-25 ns per access, more than the rest of a small call. Then outputs are checked against
 * every other argument for shared memory. One instance per runtime, reset by each call.
 */
export class ArgCheck {
  private rt!: Runtime;
  private n = 0;
  private readonly names: string[] = new Array<string>(SLOTS).fill("");
  private readonly vals: (Float32Like | null)[] = new Array<Float32Like | null>(SLOTS).fill(null);
  private readonly bufs: (ArrayBufferLike | null)[] = new Array<ArrayBufferLike | null>(SLOTS).fill(null);
  private readonly starts = new Float64Array(SLOTS);
  private readonly outs = new Int8Array(SLOTS);
  private readonly inPlace = new Int8Array(SLOTS);

  /** True while every argument recorded so far is a Tensor (or absent). */
  private tensorsOnly = true;

  reset(rt: Runtime): this {
    this.rt = rt;
    this.n = 0;
    this.tensorsOnly = true;
    return this;
  }

  /** Records a required input; `expected` >= 0 demands that length. Returns its index. */
  input(name: string, v: unknown, expected = -1, what = ""): number {
    if (v === null || v === undefined) throw new TypeError(`${name}: expected a Float32Array or Tensor, got ${describe(v)}`);
    return this.add(name, v, expected, what, 0, -1);
  }

  /** Records an input that may be absent (null or undefined). */
  optional(name: string, v: unknown, expected = -1, what = ""): number {
    return this.add(name, v, expected, what, 0, -1);
  }

  /** Records an output (absent allowed); it may be exactly the input at index `inPlaceWith` (in place), nothing else. */
  output(name: string, v: unknown, expected: number, what: string, inPlaceWith = -1): number {
    return this.add(name, v, expected, what, 1, inPlaceWith);
  }

  private add(name: string, v: unknown, expected: number, what: string, out: number, inPlaceWith: number): number {
    const i = this.n++;
    this.names[i] = name;
    this.outs[i] = out;
    this.inPlace[i] = inPlaceWith;
    this.starts[i] = -1;
    if (v === null || v === undefined) {
      this.vals[i] = null;
      this.bufs[i] = null;
      return i;
    }
    const arena = this.rt.arena;
    if (v instanceof Tensor) {
      if (v.freed) throw new TypeError(`${name}: expected a live tensor, got a freed one`);
      if (v.arena !== arena) throw new TypeError(`${name}: expected a tensor of this runtime, got one from another runtime`);
      this.bufs[i] = arena.buffer;
      this.starts[i] = v.byteOffset;
    } else if (v instanceof Float32Array) {
      const buf = v.buffer;
      if (v.length === 0 && isDetached(buf)) {
        throw new TypeError(`${name}: expected a Float32Array over live memory, got one whose ArrayBuffer is detached (wasm memory grew? read tensor.data again)`);
      }
      if (buf === arena.buffer) {
        const at = v.byteOffset;
        this.starts[i] = at;
        if (!arena.isLiveUserRange(at, v.length * 4)) {
          throw new RangeError(`${name}: expected a view inside a live tensor, got a view over free or internal wasm memory at byte ${at}`);
        }
      } else if (arenaCount() > 1 && arenaOf(buf)) {
        throw new TypeError(`${name}: expected an array of this runtime, got a view over another runtime's memory`);
      }
      this.bufs[i] = buf;
      this.tensorsOnly = false;
    } else {
      throw new TypeError(`${name}: expected a Float32Array or Tensor, got ${describe(v)}`);
    }
    this.vals[i] = v;
    if (expected >= 0 && v.length !== expected) throw new RangeError(`${name} length: expected ${expected} (${what}), got ${v.length}`);
    return i;
  }

  private start(i: number): number {
    if (this.starts[i]! < 0) this.starts[i] = (this.vals[i] as Float32Array).byteOffset;
    return this.starts[i]!;
  }

  /** Outputs share memory with no other argument, except an exact in-place input. */
  checkAliasing(): void {
    if (this.tensorsOnly) {
      // Distinct live tensors never overlap (the allocator hands out disjoint blocks).
      for (let o = 0; o < this.n; o++) {
        const ov = this.vals[o];
        if (!this.outs[o] || !ov || ov.length === 0) continue;
        for (let a = 0; a < this.n; a++) {
          if (a !== o && this.vals[a] === ov && this.inPlace[o] !== a && !(this.outs[a] && a > o)) this.fail(o, a, true);
        }
      }
      return;
    }
    for (let o = 0; o < this.n; o++) {
      const ov = this.vals[o];
      if (!this.outs[o] || !ov || ov.length === 0) continue;
      for (let a = 0; a < this.n; a++) {
        const av = this.vals[a];
        if (a === o || !av || av.length === 0 || this.bufs[a] !== this.bufs[o]) continue;
        if (this.outs[a] && a > o) continue; // each pair of outputs once, reported on the later one
        if (ov instanceof Tensor && av instanceof Tensor && ov !== av) continue; // live tensors never overlap
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
    if (!this.vals[i]) return 0;
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
