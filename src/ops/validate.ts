// Argument checks shared by every op. Each throws a TypeError or RangeError that names the
// argument, what was expected and what arrived; ops call them all before writing anything.
import { Tensor } from "../runtime/memory.js";
import { describe } from "../runtime/module.js";
import { runtimeOf, type Float32Like, type Runtime } from "../runtime/runtime.js";

export type Shape = number | readonly number[];

const MAX_ELEMENTS = 2 ** 31 - 1;

/** D = product of the normalized shape (a positive integer or a non-empty array of them). */
export function shapeSize(shape: Shape, name = "normalizedShape"): number {
  if (typeof shape === "number") {
    if (Number.isInteger(shape) && shape > 0 && shape <= MAX_ELEMENTS) return shape;
    throw new RangeError(`${name}: expected a positive integer, got ${describe(shape)}`);
  }
  if (!Array.isArray(shape)) throw new TypeError(`${name}: expected a positive integer or an array of them, got ${describe(shape)}`);
  if (shape.length === 0) throw new RangeError(`${name}: expected at least one dimension, got an empty array`);
  let d = 1;
  for (let i = 0; i < shape.length; i++) {
    const s: unknown = shape[i];
    if (typeof s !== "number" || !Number.isInteger(s) || s <= 0) {
      throw new RangeError(`${name}[${i}]: expected a positive integer, got ${describe(s)}`);
    }
    d *= s;
  }
  if (d > MAX_ELEMENTS) throw new RangeError(`${name}: expected a product of at most ${MAX_ELEMENTS} elements, got ${d}`);
  return d;
}

export function checkEps(eps: unknown, name = "eps"): number {
  if (typeof eps !== "number" || !(eps >= 0) || eps === Infinity) {
    throw new RangeError(`${name}: expected a finite number >= 0, got ${describe(eps)}`);
  }
  return eps;
}

/**
 * Checks a float32 argument and returns its length: a Float32Array (not detached) or a live
 * Tensor of runtime `rt`; a view over another runtime's memory is refused.
 */
export function checkArray(rt: Runtime, name: string, v: unknown): number {
  if (v instanceof Tensor) {
    if (v.freed) throw new TypeError(`${name}: expected a live tensor, got a freed one`);
    if (v.arena !== rt.arena) throw new TypeError(`${name}: expected a tensor of this runtime, got one from another runtime`);
    return v.length;
  }
  if (v instanceof Float32Array) {
    if (v.length === 0 && isDetached(v.buffer)) {
      throw new TypeError(`${name}: expected a Float32Array over live memory, got one whose ArrayBuffer is detached (wasm memory grew? read tensor.data again)`);
    }
    if (rt.arena.owns(v.buffer)) {
      if (!rt.arena.isLiveUserRange(v.byteOffset, v.byteLength)) {
        throw new RangeError(`${name}: expected a view inside a live tensor, got a view over free or internal wasm memory at byte ${v.byteOffset}`);
      }
    } else if (runtimeOf(v)) {
      throw new TypeError(`${name}: expected an array of this runtime, got a view over another runtime's memory`);
    }
    return v.length;
  }
  throw new TypeError(`${name}: expected a Float32Array or Tensor, got ${describe(v)}`);
}

/** Checks that an argument has exactly `expected` elements. */
export function checkLength(name: string, got: number, expected: number, what: string): void {
  if (got !== expected) throw new RangeError(`${name} length: expected ${expected} (${what}), got ${got}`);
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

function bufferOf(rt: Runtime, v: Float32Like): ArrayBufferLike {
  return v instanceof Tensor ? rt.arena.buffer : v.buffer;
}

/** 0: disjoint (or empty), 1: exactly the same elements, 2: partial overlap. */
export function overlap(rt: Runtime, a: Float32Like, b: Float32Like): 0 | 1 | 2 {
  if (a === b) return a.length ? 1 : 0;
  if (bufferOf(rt, a) !== bufferOf(rt, b)) return 0;
  const sa = a.byteOffset, ea = sa + a.length * 4, sb = b.byteOffset, eb = sb + b.length * 4;
  if (ea <= sb || eb <= sa) return 0;
  return sa === sb && ea === eb ? 1 : 2;
}

/**
 * Output `o` must not share memory with `i`; with inPlace, exactly the same elements are allowed
 * (the caller asked for in-place), a partial overlap never is.
 */
export function checkSeparate(rt: Runtime, oName: string, o: Float32Like | null, iName: string, i: Float32Like | null, inPlace = false): void {
  if (!o || !i) return;
  const k = overlap(rt, o, i);
  if (k === 0 || (k === 1 && inPlace)) return;
  throw new RangeError(`${oName}: expected memory separate from ${iName}${inPlace ? " (or exactly the same array, for in place)" : ""}, got ${k === 1 ? "the same memory" : "an overlapping array"}`);
}
