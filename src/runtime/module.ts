// Loading the kernels: the .wasm bytes are inlined at build time (no URL to fetch, so Node,
// browsers and bundlers all work), compiled synchronously once, and shared by every runtime.
import { wasmBase64 } from "./kernels.generated.js";
import { describe } from "./typed.js";

/** The exports of build/layernorm.wasm. */
export interface Kernels {
  heapBase(): number;
  /** Rows per block of the cross-row reductions (a WebAssembly.Global). */
  BLOCK: { value: number };
  /** Test hook: f64 (mean, variance) of each row, or (0, mean square) with rms, to check fallback/lanes.ts bit for bit. */
  moments(x: number, rows: number, cols: number, out: number, rms: number): void;
  /** Benchmark roof: memory.copy of rows * cols floats (row-parallel like the kernels). */
  copyRows(src: number, dst: number, rows: number, cols: number): void;
  layerNorm(x: number, w: number, b: number, y: number, mean: number, rstd: number, rows: number, cols: number, eps: number): void;
  rmsNorm(x: number, w: number, y: number, rstd: number, rows: number, cols: number, eps: number): void;
  skipNorm(
    x: number, skip: number, skipRows: number, skipPhase: number, rb: number, w: number, b: number,
    y: number, sum: number, mean: number, rstd: number, stats: number,
    rows: number, cols: number, eps: number, rms: number,
  ): void;
  normBackward(
    dy: number, x: number, w: number, mean: number, rstd: number, dx: number, parts: number, stats: number,
    rows: number, cols: number, eps: number, rms: number,
  ): void;
  foldBlocks(parts: number, blocks: number, cols: number, total: number, init: number, out0: number, out1: number): void;
  bnStats(x: number, rows: number, C: number, inner: number, K: number, parts: number, first: number): void;
  bnFinish(
    total: number, K: number, count: number, C: number, eps: number, momentum: number, training: number,
    runMean: number, runVar: number, w: number, b: number, params: number, saveMean: number, saveRstd: number, populationVar: number,
  ): void;
  bnApply(x: number, y: number, params: number, rows: number, C: number, inner: number): void;
  groupNorm(
    x: number, w: number, b: number, y: number, mean: number, rstd: number, stats: number, work: number,
    row0: number, rows: number, C: number, S: number, G: number, eps: number, channelsLast: number, zeroRstd: number,
  ): void;
  groupNormBackward(
    dy: number, x: number, w: number, mean: number, rstd: number, dx: number, parts: number, work: number,
    row0: number, rows: number, C: number, S: number, G: number, eps: number, channelsLast: number,
  ): void;
  groupNormWorkBytes(C: number): number;
  /** Test hook: traps (the thread pool's failure path). */
  debugTrap(): void;
}

/**
 * Every export of the kernel module, by name. The type makes the list and the Kernels interface
 * agree (a missing or extra name is a compile error); test/api.test.ts checks the list against
 * the module's real exports.
 */
export const KERNEL_NAMES = [
  "heapBase", "BLOCK", "moments", "copyRows", "layerNorm", "rmsNorm", "skipNorm", "normBackward", "foldBlocks",
  "bnStats", "bnFinish", "bnApply", "groupNorm", "groupNormBackward", "groupNormWorkBytes", "debugTrap",
] as const satisfies readonly (keyof Kernels)[];
type Missing = Exclude<keyof Kernels, (typeof KERNEL_NAMES)[number]>;
const complete: [Missing] extends [never] ? true : Missing = true;
void complete;

let bytes: Uint8Array | undefined;
let compiled: WebAssembly.Module | undefined;
let simd: boolean | undefined;
let unavailable: string | undefined;

/** The kernel module's bytes: a copy of its own for each call (to compile elsewhere and pass back as `module`). */
export function wasmBytes(): Uint8Array {
  return moduleBytes().slice();
}

/** @internal the kernel module's bytes, decoded once and shared: never handed to a caller. */
export function moduleBytes(): Uint8Array {
  if (!bytes) {
    // Node's atob is slow (~1.5 ms for these 10 kB, a third of a cold start); its Buffer is not.
    const B = (globalThis as { Buffer?: { from(s: string, enc: "base64"): Uint8Array } }).Buffer;
    if (B) bytes = new Uint8Array(B.from(wasmBase64, "base64"));
    else {
      const s = atob(wasmBase64);
      bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    }
  }
  return bytes;
}

/** True when this engine can run the SIMD kernels (checked once, by validating the module itself). */
export function simdSupported(): boolean {
  if (simd === undefined) {
    simd = typeof WebAssembly === "object" && WebAssembly.validate(moduleBytes() as BufferSource);
  }
  return simd;
}

/**
 * Why the inlined kernels cannot run here, or "" when they can (checked once). It compiles the
 * module directly (validating first would parse it twice: ~0.6 ms of a cold start) and only on
 * failure asks why: an engine without SIMD rejects the bytes, while a page whose
 * Content-Security-Policy lacks 'wasm-unsafe-eval' accepts them but refuses to compile; either
 * way the "auto" backend falls back to JS rather than throw.
 */
export function wasmUnavailable(): string {
  if (unavailable === undefined) {
    unavailable = "";
    try {
      if (typeof WebAssembly !== "object") throw new Error("no WebAssembly");
      kernelModule();
    } catch (e) {
      unavailable = !simdSupported()
        ? "this engine cannot run WebAssembly SIMD"
        : `this page or engine refuses to compile WebAssembly (${e instanceof Error ? e.message : String(e)}); pass a precompiled module`;
    }
  }
  return unavailable;
}

/** The compiled kernel module: the one passed in by the caller, else compiled from the inlined bytes. */
export function kernelModule(given?: WebAssembly.Module): WebAssembly.Module {
  if (given) {
    if (!(given instanceof WebAssembly.Module)) throw new TypeError(`module: expected a WebAssembly.Module, got ${describe(given)}`);
    return given;
  }
  compiled ??= new WebAssembly.Module(moduleBytes() as BufferSource);
  return compiled;
}

/**
 * `exports` as the kernels, once every name of KERNEL_NAMES is there (functions; BLOCK a global):
 * checked before anything calls them, so a wrong module is a TypeError saying what it lacks.
 * `who`: "module" for an instance's exports, "instantiate" for what that hook returned.
 */
export function asKernels(exports: unknown, who: "module" | "instantiate"): Kernels {
  const expected = who === "module"
    ? "the layernorm-wasm kernel module (exports heapBase, layerNorm, ...)"
    : "the exports of the layernorm-wasm kernel module (heapBase, layerNorm, ...)";
  if (typeof exports !== "object" || exports === null) throw new TypeError(`${who}: expected ${expected}, got ${describe(exports)}`);
  const e = exports as Record<string, unknown>;
  const missing = KERNEL_NAMES.filter((k) => k === "BLOCK" ? typeof e[k] !== "object" || e[k] === null : typeof e[k] !== "function");
  if (missing.length > 0) {
    throw new TypeError(`${who}: expected ${expected}, got ${who === "module" ? "a module" : "an object"} without ${missing.join(", ")}`);
  }
  return e as unknown as Kernels;
}
