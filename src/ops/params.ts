// Parameter tensors held by the module classes (RMSNorm, BatchNorm): allocation in wasm memory,
// checked assignment, disposal.
import { Tensor } from "../runtime/memory.js";
import type { Runtime } from "../runtime/runtime.js";
import { checkLength } from "./validate.js";

/** A tensor of `n` elements filled with `value`. */
export function paramTensor(rt: Runtime, n: number, value: number): Tensor {
  const t = rt.alloc(n);
  if (value !== 0) t.data.fill(value);
  return t;
}

/** Copies `values` into a module's parameter `t` after checking kind and length. */
export function assignParam(owner: string, name: string, t: Tensor | null, values: unknown, n: number, what: string): void {
  if (!t) throw new TypeError(`${name}: this ${owner} has no ${name}`);
  if (t.freed) throw new TypeError(`${owner}: expected a live module, got one that was disposed`);
  if (values === null || typeof values !== "object" || typeof (values as ArrayLike<number>).length !== "number") {
    throw new TypeError(`${name}: expected an array of ${n} numbers, got ${values === null ? "null" : typeof values}`);
  }
  checkLength(name, (values as ArrayLike<number>).length, n, what);
  t.data.set(values as ArrayLike<number>);
}

/** Frees the live tensors among `ts`. */
export function disposeAll(...ts: (Tensor | null)[]): void {
  for (const t of ts) if (t && !t.freed) t.free();
}
