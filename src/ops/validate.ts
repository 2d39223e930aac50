// Argument checks shared by every op. Each throws a TypeError or RangeError that names the
// argument, what was expected and what arrived; ops call them all before writing anything.
import { describe } from "../runtime/typed.js";

export type Shape = number | readonly number[];

const MAX_ELEMENTS = 2 ** 31 - 1;

/** The error for a bad number: a TypeError when `v` is not a number at all, else a RangeError. */
export function numberError(name: string, expected: string, v: unknown): TypeError | RangeError {
  return new (typeof v === "number" ? RangeError : TypeError)(`${name}: expected ${expected}, got ${describe(v)}`);
}

/** D = product of the normalized shape (a positive integer or a non-empty array of them). */
export function shapeSize(shape: unknown, name = "normalizedShape"): number {
  if (typeof shape === "number") {
    if (Number.isInteger(shape) && shape > 0 && shape <= MAX_ELEMENTS) return shape;
    throw numberError(name, "a positive integer", shape);
  }
  if (!Array.isArray(shape)) throw new TypeError(`${name}: expected a positive integer or an array of them, got ${describe(shape)}`);
  const n = shape.length; // read once: a Proxy cannot answer differently later
  if (n === 0) throw new RangeError(`${name}: expected at least one dimension, got an empty array`);
  let d = 1;
  for (let i = 0; i < n; i++) {
    const s: unknown = shape[i];
    if (typeof s !== "number" || !Number.isInteger(s) || s <= 0) throw numberError(`${name}[${i}]`, "a positive integer", s);
    d *= s;
  }
  if (d > MAX_ELEMENTS) throw new RangeError(`${name}: expected a product of at most ${MAX_ELEMENTS} elements, got ${d}`);
  return d;
}

export function checkEps(eps: unknown, name = "eps"): number {
  if (typeof eps !== "number" || !(eps >= 0) || eps === Infinity) throw numberError(name, "a finite number >= 0", eps);
  return eps;
}

/** Checks that an argument has exactly `expected` elements. */
export function checkLength(name: string, got: number, expected: number, what: string): void {
  if (got !== expected) throw new RangeError(`${name} length: expected ${expected} (${what}), got ${got}`);
}

/** Rows of an argument of `length` floats in rows of `cols` (the normalized shape's product). */
export function rowsOf(name: string, length: number, cols: number): number {
  if (length % cols !== 0) throw new RangeError(`${name} length: expected a multiple of ${cols} (product of normalizedShape), got ${length}`);
  return length / cols;
}

/** Parses eps: undefined gives `dflt`. */
export function epsOr(dflt: number): (v: unknown) => number {
  return (v) => (v === undefined ? dflt : checkEps(v));
}

/** Sizes of a row op: x holds rows of cols = product(normalizedShape) elements. */
export function rowDims(c: { d: Record<string, number>; scalar(name: string): unknown; len(name: string): number }, first = "x"): void {
  const cols = c.scalar("normalizedShape") as number, n = c.len(first);
  c.d.cols = cols;
  c.d.n = n;
  c.d.rows = rowsOf(first, n, cols);
  c.d.one = 1;
}

export const FEATURES = "product of normalizedShape";
