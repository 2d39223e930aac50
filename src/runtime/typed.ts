// Reading arrays the caller controls. A Float32Array subclass may override length, byteOffset,
// buffer, subarray or Symbol.species, and any object may pose as one; the engine's own
// %TypedArray% getters cannot be overridden, so every fact the library relies on is read
// through them, once, and copies go through views this module constructs itself.
const TA = Object.getPrototypeOf(Float32Array.prototype) as object;
const uncurry = <T>(f: (this: unknown) => T) => Function.prototype.call.bind(f) as unknown as (self: unknown) => T;
const getter = <T>(key: PropertyKey) => uncurry(Object.getOwnPropertyDescriptor(TA, key)!.get as (this: unknown) => T);
const tagOf = getter<string | undefined>(Symbol.toStringTag);
const lengthOf = getter<number>("length");
const offsetOf = getter<number>("byteOffset");
const bufferOf = getter<ArrayBufferLike>("buffer");
const abBytes = uncurry(Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, "byteLength")!.get as (this: unknown) => number);
const setInto = Function.prototype.call.bind(Float32Array.prototype.set) as unknown as (dst: Float32Array, src: Float32Array, at?: number) => void;

/** What a genuine Float32Array is, read through the intrinsic getters. */
export interface F32Facts { buffer: ArrayBufferLike; byteOffset: number; length: number }

/** The facts of `v` when it is a genuine Float32Array (subclasses included), else null. */
export function f32Facts(v: unknown): F32Facts | null {
  if (typeof v !== "object" || v === null || tagOf(v) !== "Float32Array") return null;
  return { buffer: bufferOf(v), byteOffset: offsetOf(v), length: lengthOf(v) };
}

/** The length of `v` by the intrinsic getter when it is a genuine Float32Array, else -1 (no allocation). */
export function f32Length(v: unknown): number {
  return typeof v === "object" && v !== null && tagOf(v) === "Float32Array" ? lengthOf(v) : -1;
}

/** The buffer of `v` (a genuine Float32Array) by the intrinsic getter. */
export function f32Buffer(v: unknown): ArrayBufferLike {
  return bufferOf(v);
}

/** True when `v` (a genuine Float32Array) still has this length and byteOffset by the intrinsic getters. */
export function sameFacts(v: unknown, length: number, byteOffset: number): boolean {
  return lengthOf(v) === length && offsetOf(v) === byteOffset;
}

/** True when `buf` is a detached (non-shared) ArrayBuffer. */
export function isDetached(buf: ArrayBufferLike): boolean {
  if (isShared(buf)) return false;
  if (abBytes(buf) !== 0) return false;
  try {
    new Uint8Array(buf);
    return false;
  } catch {
    return true;
  }
}

/** A plain Float32Array over `length` floats of `buffer` from byte `byteOffset` (no species, no subclass). */
export function f32View(buffer: ArrayBufferLike, byteOffset: number, length: number): Float32Array {
  return new Float32Array(buffer, byteOffset, length);
}

/** dst.set(src, at) through the intrinsic method. */
export function copyInto(dst: Float32Array, src: Float32Array, at = 0): void {
  setInto(dst, src, at);
}

/**
 * The first `length` elements of an array-like as a new Float32Array, each read once (before the
 * caller allocates or writes anything: a getter may throw, or allocate and grow memory).
 */
export function readAll(values: ArrayLike<number>, length: number, name = "values"): Float32Array {
  const a = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    const v: unknown = values[i];
    if (typeof v !== "number") throw new TypeError(`${name}[${i}]: expected a number, got ${describe(v)}`);
    a[i] = v;
  }
  return a;
}

let bounce: Float32Array | undefined;
/**
 * dst.set(src) (both genuine Float32Arrays) for copies whose ends may disagree mod 8. Into or out
 * of a SharedArrayBuffer V8 copies word by word only when both ends agree mod 8, else byte by byte
 * (1.1-1.5 ns per element against 0.21-0.33 here), so such a copy goes through an unshared 64 KiB
 * buffer, whose copies are memmoves.
 */
export function copyAcross(dst: Float32Array, src: Float32Array): void {
  const at = offsetOf(src), n = lengthOf(src), buf = bufferOf(src);
  if (((offsetOf(dst) ^ at) & 4) === 0 || !(isShared(bufferOf(dst)) || isShared(buf))) return setInto(dst, src, 0);
  const b = (bounce ??= new Float32Array(16384));
  for (let i = 0; i < n; i += b.length) {
    const k = Math.min(b.length, n - i), part = k === b.length ? b : new Float32Array(b.buffer, 0, k);
    setInto(part, new Float32Array(buf, at + 4 * i, k), 0);
    setInto(dst, part, i);
  }
}

/** True for a SharedArrayBuffer. */
export function isShared(buf: ArrayBufferLike): boolean {
  return typeof SharedArrayBuffer !== "undefined" && buf instanceof SharedArrayBuffer;
}

let tensorName: (v: unknown) => string | undefined = () => undefined;
/** @internal memory.ts registers how a Tensor describes itself (brand-checked, not by its constructor's name). */
export function setTensorDescriber(f: (v: unknown) => string | undefined): void {
  tensorName = f;
}

/** Short description of a value for error messages (reads nothing the caller can intercept for typed arrays and tensors). */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "object" || typeof v === "function") {
    const t = tensorName(v);
    if (t) return t;
    const tag = tagOf(v);
    if (tag) return `${tag}(${lengthOf(v)})`;
    if (Array.isArray(v)) return `Array(${v.length})`;
    let name = "object";
    try {
      // The library's own classes name themselves by tag (minified bundles rename classes).
      const own = (v as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];
      const c = (v as object).constructor;
      if (typeof own === "string") name = own;
      else if (typeof c === "function" && c.name) name = c.name;
    } catch { /* a throwing getter: keep "object" */ }
    if (typeof v === "function") return "function";
    // Here only when the intrinsic checks found no typed array: a Proxy of one, or an imitation.
    return /^(?:(?:Float|Int|Uint|BigInt|BigUint)\d+(?:Clamped)?Array|DataView|ArrayBuffer)$/.test(name) ? `an object posing as a ${name} (a Proxy or an imitation, not a genuine one)` : name;
  }
  if (typeof v === "string") return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v)}`;
  return `${typeof v} ${String(v)}`;
}
