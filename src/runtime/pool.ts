// Threads: workers that share the runtime's WebAssembly.Memory and split a kernel's rows.
//
// A job is described in a control block inside linear memory (kernel index, arguments, and how
// each argument advances per row and per part). The caller bumps a generation counter and
// notifies; every thread, the caller included, claims parts with an atomic counter and runs the
// same kernel code on its rows. Parts are fixed by the shape, not by the thread count, and rows
// are independent (cross-row reductions combine per-part partials in part order), so results are
// bitwise identical for any number of threads. Workers allocate nothing and never grow memory.

// Int32 slots of the control block.
const GEN = 0, PENDING = 1, NEXT = 2, NPARTS = 3, FN = 4, NARGS = 5, ROWS_AT = 6, PART_ROWS = 7, ROWS = 8, EXIT = 9, READY = 10;
/** Float64 areas (in f64 units from byte 64): args, bytes per row, bytes per part. */
const MAX_ARGS = 16;
export const CONTROL_BYTES = 64 + 3 * MAX_ARGS * 8;

/**
 * Claims parts until none are left and runs them. Self-contained (literal slot numbers, no
 * imports): workers run the same function, shipped as source text.
 */
export function runParts(i32: Int32Array, f64: Float64Array, fns: readonly ((...a: number[]) => void)[]): void {
  const fn = fns[i32[4]!]!;
  const nargs = i32[5]!, rowsAt = i32[6]!, partRows = i32[7]!, rows = i32[8]!, nparts = i32[3]!;
  const a = new Array<number>(nargs);
  for (;;) {
    const p = Atomics.add(i32, 2, 1);
    if (p >= nparts) return;
    const r0 = p * partRows;
    for (let i = 0; i < nargs; i++) a[i] = f64[i]! + r0 * f64[16 + i]! + p * f64[32 + i]!;
    a[rowsAt] = Math.min(partRows, rows - r0);
    fn(...a);
  }
}

/**
 * The worker's whole program, shipped as source text (no worker file to serve or bundle). In Node
 * it runs as an ES module given `parentPort`; in browsers as a classic worker using onmessage.
 */
function workerMain(run: typeof runParts, port?: { once(e: "message", f: (m: WorkerStart) => void): void }): void {
  const start = (msg: WorkerStart): void => {
    const exports = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory } }).exports as Record<string, (...a: number[]) => void>;
    const fns = msg.names.map((n) => exports[n]!);
    const buf = msg.memory.buffer;
    const i32 = new Int32Array(buf, msg.control, 16);
    const f64 = new Float64Array(buf, msg.control + 64, 48);
    let seen = Atomics.load(i32, 0);
    Atomics.add(i32, 10, 1);
    Atomics.notify(i32, 10);
    for (;;) {
      Atomics.wait(i32, 0, seen);
      seen = Atomics.load(i32, 0);
      if (Atomics.load(i32, 9)) return;
      run(i32, f64, fns);
      if (Atomics.sub(i32, 1, 1) === 1) Atomics.notify(i32, 1);
    }
  };
  if (port) port.once("message", start);
  else (globalThis as unknown as { onmessage: (e: { data: WorkerStart }) => void }).onmessage = (e) => start(e.data);
}

interface WorkerStart { module: WebAssembly.Module; memory: WebAssembly.Memory; control: number; names: string[] }

const program = `(${workerMain.toString()})(${runParts.toString()}`;

interface WorkerLike {
  postMessage(m: unknown): void;
  terminate(): unknown;
}

async function spawn(): Promise<WorkerLike> {
  const g = globalThis as { Worker?: new (url: string) => WorkerLike; Blob?: typeof Blob; URL?: typeof URL; process?: { versions?: { node?: string } } };
  if (g.process?.versions?.node) {
    const specifier = "node:" + "worker_threads"; // kept from bundlers, which would try to resolve it for browsers
    const { Worker } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as { Worker: new (src: URL) => WorkerLike & { unref(): void } };
    // An ES module from a data: URL: independent of how the parent was started (script, module, -e).
    const source = `import { parentPort } from "node:worker_threads"; ${program}, parentPort);`;
    const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`));
    w.unref(); // an idle pool never keeps a Node process alive
    return w;
  }
  if (!g.Worker || !g.Blob || !g.URL) throw new Error("no Worker in this environment");
  return new g.Worker(URL.createObjectURL(new Blob([`${program});`], { type: "text/javascript" })));
}

export class Pool {
  /** Threads that run kernels, the caller included. */
  readonly threads: number;
  private readonly workers: WorkerLike[];
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly fns: ((...a: number[]) => void)[];
  private readonly ids: Map<string, number>;
  private readonly canBlock: boolean;
  private closed = false;

  private constructor(workers: WorkerLike[], i32: Int32Array, f64: Float64Array, fns: ((...a: number[]) => void)[], ids: Map<string, number>) {
    this.workers = workers;
    this.threads = workers.length + 1;
    this.i32 = i32;
    this.f64 = f64;
    this.fns = fns;
    this.ids = ids;
    let canBlock = true;
    try { Atomics.wait(i32, READY, -1, 0); } catch { canBlock = false; } // browsers' main thread may not block
    this.canBlock = canBlock;
  }

  /**
   * Starts `threads - 1` workers on `memory` (shared) with the control block at `control`, and
   * resolves once all of them are ready. `exports` are the caller's own instance of `module`.
   * (This file imports nothing, so bundlers split it off whole: only thread users load it.)
   */
  static async start(threads: number, memory: WebAssembly.Memory, control: number, exports: Record<string, unknown>, module: WebAssembly.Module): Promise<Pool> {
    const names = Object.keys(exports).filter((k) => typeof exports[k] === "function");
    const buf = memory.buffer;
    const i32 = new Int32Array(buf, control, 16);
    const f64 = new Float64Array(buf, control + 64, 3 * MAX_ARGS);
    i32.fill(0);
    const workers = await Promise.all(Array.from({ length: threads - 1 }, () => spawn()));
    for (const w of workers) w.postMessage({ module, memory, control, names });
    // Wait for every worker to report ready (asynchronously: browsers start workers on this thread's loop).
    const deadline = Date.now() + 30_000;
    while (Atomics.load(i32, READY) < workers.length) {
      if (Date.now() > deadline) {
        for (const w of workers) w.terminate();
        throw new Error("thread pool: workers did not start within 30 s");
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const ids = new Map(names.map((n, i) => [n, i]));
    return new Pool(workers, i32, f64, names.map((n) => exports[n] as (...a: number[]) => void), ids);
  }

  /** False after shutdown(). */
  get open(): boolean {
    return !this.closed;
  }

  /**
   * Runs kernel `name` over `rows` rows split into parts of `partRows` rows: argument i of part p
   * is args[i] + r0 * rowStride[i] + p * partStride[i] (r0 = p * partRows), and args[rowsAt] is
   * the part's row count. A pointer argument of 0 means "absent" and is never advanced. Returns
   * when every part is done.
   */
  run(name: string, args: readonly number[], rowStride: readonly number[], rowsAt: number, rows: number, partRows: number, partStride?: readonly number[]): void {
    const { i32, f64 } = this;
    const n = args.length;
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      f64[i] = a;
      f64[16 + i] = a === 0 ? 0 : rowStride[i] ?? 0;
      f64[32 + i] = a === 0 ? 0 : partStride?.[i] ?? 0;
    }
    i32[FN] = this.ids.get(name)!;
    i32[NARGS] = n;
    i32[ROWS_AT] = rowsAt;
    i32[ROWS] = rows;
    i32[PART_ROWS] = partRows;
    i32[NPARTS] = Math.ceil(rows / partRows);
    Atomics.store(i32, NEXT, 0);
    Atomics.store(i32, PENDING, this.workers.length);
    Atomics.add(i32, GEN, 1);
    Atomics.notify(i32, GEN);
    runParts(i32, f64, this.fns);
    // The caller ran out of parts; wait for the workers still finishing theirs.
    for (let p = Atomics.load(i32, PENDING); p !== 0; p = Atomics.load(i32, PENDING)) {
      if (this.canBlock) Atomics.wait(i32, PENDING, p, 1000);
    }
  }

  /** Stops the workers. Later calls of the runtime run on the calling thread. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.i32, EXIT, 1);
    Atomics.add(this.i32, GEN, 1);
    Atomics.notify(this.i32, GEN);
    for (const w of this.workers) w.terminate();
  }
}
