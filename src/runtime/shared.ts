// Shared memory for threads: whether this engine can share wasm memory between threads, and the
// kernel module with its memory import rewritten to a shared one. Small and always loaded; the
// worker pool itself (pool.ts) is loaded only when threads are requested.
import { moduleBytes } from "./module.js";

/**
 * Rewrites a module's memory import to a shared one (max 65536 pages). The kernels themselves
 * are unchanged: the threaded runtime runs exactly the single-threaded code.
 */
export function sharedMemoryVariant(bytes: Uint8Array): Uint8Array {
  const leb = (v: number): number[] => { const o: number[] = []; do { let b = v & 127; v >>>= 7; if (v) b |= 128; o.push(b); } while (v); return o; };
  let at = 8;
  const readLeb = (): number => { let v = 0, s = 0, b: number; do { b = bytes[at++]!; v |= (b & 127) << s; s += 7; } while (b & 128); return v >>> 0; };
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const sizeAt = at;
    const size = readLeb();
    const body = at;
    if (id === 2) {
      const out: number[] = [];
      const count = readLeb();
      out.push(...leb(count));
      for (let i = 0; i < count; i++) {
        const from = at;
        for (let name = 0; name < 2; name++) { // module and field names: length, then bytes
          const len = readLeb();
          at += len;
        }
        const kind = bytes[at++]!;
        out.push(...bytes.subarray(from, at));
        if (kind !== 2) throw new Error("sharedMemoryVariant: the kernel module imports something other than its memory");
        const flags = bytes[at++]!;
        const min = readLeb();
        if (flags & 1) readLeb();
        out.push(3, ...leb(min), ...leb(65536));
      }
      const rest = bytes.subarray(body + size);
      return Uint8Array.from([...bytes.subarray(0, sizeAt), ...leb(out.length), ...out, ...rest]);
    }
    at = body + size;
  }
  throw new Error("sharedMemoryVariant: no import section");
}

let sharedModule: WebAssembly.Module | undefined;
let warned = false;

/**
 * True when this engine can run kernels on worker threads over shared memory: SharedArrayBuffer
 * (cross-origin isolated pages), and a way to start workers (a global Worker, or Node's
 * worker_threads), which embedded engines such as the jsc shell lack.
 */
export function threadsSupported(): boolean {
  return noThreadsReason() === "";
}

/** Why threadsSupported() is false ("" when it is true), in words for the warning. */
export function noThreadsReason(): string {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; Blob?: unknown; process?: { versions?: { node?: string } } };
  const workers = g.process?.versions?.node !== undefined || (typeof g.Worker === "function" && g.Blob !== undefined);
  if (!workers) return "this environment has no Worker (an embedded engine such as the jsc shell)";
  if (typeof SharedArrayBuffer === "undefined" || typeof Atomics === "undefined" || g.crossOriginIsolated === false) {
    return "SharedArrayBuffer is unavailable (a browser page needs Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  }
  return "";
}

/** Warns once per process that threads were requested but cannot be used. */
export function warnNoThreads(reason: string): void {
  if (warned) return;
  warned = true;
  console.warn(`layernorm-wasm: threads requested but ${reason}; running single-threaded (results are identical)`);
}

/** The shared-memory kernel module (the inlined bytes with a shared memory import). */
export function sharedKernelModule(): WebAssembly.Module {
  sharedModule ??= new WebAssembly.Module(sharedMemoryVariant(moduleBytes()) as BufferSource);
  return sharedModule;
}

/** Number of hardware threads, for threads: "auto". */
export async function availableThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  try {
    const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ nodeModule("os"))) as { availableParallelism?: () => number; cpus(): unknown[] };
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return 1;
  }
}

/** Hides Node built-in specifiers from bundlers, which would otherwise try to resolve them. */
export function nodeModule(name: string): string {
  return `node:${name}`;
}

