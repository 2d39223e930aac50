// Threads: workers that share the runtime's WebAssembly.Memory and split a kernel's rows.
//
// A job is described in a control block inside linear memory (kernel index, arguments, and how
// each argument advances per row and per part). The caller bumps a generation counter and
// notifies; every thread, the caller included, claims parts (below) and runs the same kernel
// code on its rows. Parts are fixed by the shape, not by the thread count, and rows
// are independent (cross-row reductions combine per-part partials in part order), so results are
// bitwise identical for any number of threads. Workers allocate nothing and never grow memory.

// A job's parts are claimed from one 64-bit word: its generation (low 24 bits), its part count
// (20 bits) and the next part (20 bits). A thread claims a part by a compare-exchange on the whole
// word, so a claim succeeds only for the job whose generation the thread woke for and only while
// that job has an unclaimed part: a worker that wakes late, even while the caller writes the next
// job, fails every claim and touches nothing. A successful claim also keeps its job open (the
// caller returns only when every part is done), so the job's description, read after the claim,
// is that job's. So the caller waits for the job's parts, never for the workers: on more threads
// than cores a sleeping worker costs the job nothing (before, every job waited for every worker).

// A call that throws in a worker (a trap) or stops making progress never hangs its caller: every
// thread catches its own failure and still counts its part done, the caller waits on progress
// with a bound, and either way the caller throws an Error naming the kernel and the cause, and
// the pool is retired (the runtime then runs single-threaded, same results).

// Int32 slots of the control block (2 and 3: the claim word).
const GEN = 0, NPARTS = 1, FN = 4, NARGS = 5, ROWS_AT = 6, PART_ROWS = 7, ROWS = 8, EXIT = 9, READY = 10;
const FAIL = 11, DONE = 12, DEBUG_TRAP = 13, DEBUG_STALL = 14, TRAP_FN = 15;
/** Float64 areas (in f64 units from byte 64): args, bytes per row, bytes per part. */
const MAX_ARGS = 16;
/**
 * Per worker: the generation it last woke for, and the part it is running + 1 (0: none); then the
 * number of workers spinning (SPINNERS); then the failure message (length + char codes).
 */
const MAX_WORKERS = 255, STATUS = 64 + 3 * MAX_ARGS * 8, SPINNERS = 2 * MAX_WORKERS, MESSAGE = STATUS + 8 * MAX_WORKERS + 8, MESSAGE_CHARS = 255;
/**
 * How long an idle worker (and a joining caller) spins before it sleeps: a staged call starts a
 * job per chunk, ~100 us apart, and a wake from Atomics.wait costs 20-75 us here. Only workers
 * that just ran a job spin, and a job wakes that many fewer, so spinners never outnumber `wake`.
 */
const SPIN_MS = 0.1;
export const CONTROL_BYTES = MESSAGE + 4 * (MESSAGE_CHARS + 1);

/**
 * Claims parts of job `gen` until none are left and runs them; `me` is the worker index, -1 for
 * the caller. Self-contained (literal slot numbers, no imports): workers run the same function,
 * shipped as source text. A part that throws is recorded (the first failure's thread in FAIL: 1
 * the caller, 2 + w worker w, and a worker's message in `text`) before it counts as done; the
 * caller's own error is returned.
 */
export function runParts(i32: Int32Array, f64: Float64Array, claim: BigUint64Array, fns: readonly ((...a: number[]) => void)[], me: number, gen: number, status: Int32Array, text: Int32Array): unknown {
  const mine = BigInt(gen & 0xffffff);
  let failure: unknown, fn: ((...a: number[]) => void) | undefined, a: number[] = [];
  let nargs = 0, rowsAt = 0, partRows = 0, rows = 0;
  // Test hooks armed: the caller leaves the parts to the workers until the chosen one took its fault.
  if (me < 0) while (Atomics.load(i32, 13) !== 0 || Atomics.load(i32, 14) !== 0);
  for (;;) {
    const w = Atomics.load(claim, 0);
    if ((w & 0xffffffn) !== mine) return failure;
    const p = Number(w >> 44n), nparts = Number((w >> 24n) & 0xfffffn);
    if (p >= nparts) return failure;
    if (Atomics.compareExchange(claim, 0, w, w + (1n << 44n)) !== w) continue;
    if (me >= 0) Atomics.store(status, 2 * me + 1, p + 1);
    try {
      if (fn === undefined) {
        // Read after a claim: the job cannot end (nor the next one be written) before this part is done.
        fn = fns[i32[4]!]!;
        nargs = i32[5]!, rowsAt = i32[6]!, partRows = i32[7]!, rows = i32[8]!;
        a = new Array<number>(nargs);
      }
      if (me >= 0 && Atomics.load(i32, 13) === me + 1) { Atomics.store(i32, 13, 0); fns[i32[15]!]!(); } // test hook: a real trap
      if (me >= 0 && Atomics.load(i32, 14) === me + 1) { Atomics.store(i32, 14, 0); Atomics.wait(i32, 14, 0, 600_000); } // test hook: a stuck worker
      const r0 = p * partRows;
      for (let i = 0; i < nargs; i++) a[i] = f64[i]! + r0 * f64[16 + i]! + p * f64[32 + i]!;
      a[rowsAt] = Math.min(partRows, rows - r0);
      fn(...a);
    } catch (e) {
      failure ??= e;
      if (Atomics.compareExchange(i32, 11, 0, me + 2) === 0 && me >= 0) {
        const m = String((e as Error)?.message ?? e).slice(0, text.length - 1);
        for (let i = 0; i < m.length; i++) text[i + 1] = m.charCodeAt(i);
        Atomics.store(text, 0, m.length);
      }
    }
    if (me >= 0) Atomics.store(status, 2 * me + 1, 0);
    // The part's writes (and its failure) happen before this count: the caller returns once it reaches nparts.
    if (Atomics.add(i32, 12, 1) === nparts - 1) Atomics.notify(i32, 12);
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
    const claim = new BigUint64Array(buf, msg.control + 8, 1);
    const f64 = new Float64Array(buf, msg.control + 64, 48);
    const status = new Int32Array(buf, msg.control + msg.status, 2 * msg.maxWorkers + 1);
    const text = new Int32Array(buf, msg.control + msg.message, msg.chars + 1);
    const me = msg.index;
    let seen = Atomics.load(i32, 0);
    Atomics.add(i32, 10, 1);
    Atomics.notify(i32, 10);
    const clock = globalThis.performance ?? Date;
    for (;;) {
      // Spin a little before sleeping: a staged call starts a job per chunk, every ~100 us, and a
      // wake from Atomics.wait costs tens of microseconds here. The caller counts the spinners
      // and wakes that many fewer sleepers.
      Atomics.add(status, 2 * msg.maxWorkers, 1);
      for (let k = 1, t0 = clock.now(); Atomics.load(i32, 0) === seen; k++) {
        if ((k & 255) === 0 && clock.now() - t0 > msg.spinMs) break;
      }
      Atomics.sub(status, 2 * msg.maxWorkers, 1);
      Atomics.wait(i32, 0, seen);
      seen = Atomics.load(i32, 0);
      if (Atomics.load(i32, 9)) return;
      Atomics.store(status, 2 * me, seen);
      run(i32, f64, claim, fns, me, seen, status, text);
    }
  };
  if (port) port.once("message", start);
  else (globalThis as unknown as { onmessage: (e: { data: WorkerStart }) => void }).onmessage = (e) => start(e.data);
}

interface WorkerStart {
  module: WebAssembly.Module; memory: WebAssembly.Memory; control: number; names: string[];
  index: number; status: number; maxWorkers: number; message: number; chars: number; spinMs: number;
}

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

const now = (): number => (typeof performance === "object" ? performance.now() : Date.now());

export class Pool {
  /** Threads that run kernels, the caller included. */
  readonly threads: number;
  /**
   * A job that makes no progress (no part finished) for this long is diagnosed
   * and the pool retired. A part is ~32K elements (microseconds); the bound only has to outlast
   * the scheduler on a loaded machine.
   */
  stallMs = 30_000;
  private readonly workers: WorkerLike[];
  private readonly i32: Int32Array;
  private readonly claim: BigUint64Array;
  private readonly f64: Float64Array;
  private readonly status: Int32Array;
  private readonly text: Int32Array;
  private readonly fns: ((...a: number[]) => void)[];
  private readonly ids: Map<string, number>;
  private readonly canBlock: boolean;
  /**
   * Workers a job may wake: all of them, or one per core besides the caller's when the pool has
   * more threads than the engine reports cores (a woken thread with no core to run on can only
   * hold up the part it claims). Waiters wake in arrival order, so every worker takes parts.
   */
  private readonly maxWake: number;
  /**
   * Workers the next job wakes, adapted by join(): one fewer after a job whose last parts held
   * the caller up (a worker without a core: the engine's count may be inflated, or the machine
   * busy), one more after `patience` jobs that did not, up to maxWake. A step up that was soon
   * undone doubles the patience (64 to 8192 jobs), so a pool that has too many threads for its
   * cores rarely probes.
   */
  wake: number;
  private started = 0;
  private calm = 0;
  private patience = 64;
  private probing = false;
  private closed = false;
  /** Kernel of the job started and not yet joined, or "". */
  private running = "";
  /** Why the pool was retired, or "". */
  retired = "";
  /** Jobs started (tests check that a call really ran on the pool). */
  jobs = 0;

  private constructor(workers: WorkerLike[], buf: ArrayBufferLike, control: number, fns: ((...a: number[]) => void)[], ids: Map<string, number>, cores: number) {
    this.workers = workers;
    this.threads = workers.length + 1;
    this.maxWake = this.wake = Math.max(1, Math.min(workers.length, cores - 1));
    this.i32 = new Int32Array(buf, control, 16);
    this.claim = new BigUint64Array(buf, control + 8, 1);
    this.f64 = new Float64Array(buf, control + 64, 3 * MAX_ARGS);
    this.status = new Int32Array(buf, control + STATUS, 2 * MAX_WORKERS + 1);
    this.text = new Int32Array(buf, control + MESSAGE, MESSAGE_CHARS + 1);
    this.fns = fns;
    this.ids = ids;
    let canBlock = true;
    try { Atomics.wait(this.i32, READY, -1, 0); } catch { canBlock = false; } // browsers' main thread may not block
    this.canBlock = canBlock;
  }

  /**
   * Starts `threads - 1` workers on `memory` (shared) with the control block at `control`, and
   * resolves once all of them are ready. `exports` are the caller's own instance of `module`.
   * (This file imports nothing, so bundlers split it off whole: only thread users load it.)
   */
  static async start(threads: number, memory: WebAssembly.Memory, control: number, exports: Record<string, unknown>, module: WebAssembly.Module, cores = threads): Promise<Pool> {
    if (threads - 1 > MAX_WORKERS) throw new RangeError(`threads: expected at most ${MAX_WORKERS + 1}, got ${threads}`);
    const names = Object.keys(exports).filter((k) => typeof exports[k] === "function");
    const buf = memory.buffer;
    new Uint8Array(buf, control, CONTROL_BYTES).fill(0);
    const i32 = new Int32Array(buf, control, 16);
    i32[TRAP_FN] = Math.max(0, names.indexOf("debugTrap"));
    const workers = await Promise.all(Array.from({ length: threads - 1 }, () => spawn()));
    workers.forEach((w, index) => w.postMessage({ module, memory, control, names, index, status: STATUS, maxWorkers: MAX_WORKERS, message: MESSAGE, chars: MESSAGE_CHARS, spinMs: SPIN_MS }));
    // Wait for every worker to report ready (asynchronously: browsers start workers on this thread's loop).
    const deadline = Date.now() + 30_000;
    while (Atomics.load(i32, READY) < workers.length) {
      if (Date.now() > deadline) {
        for (const w of workers) w.terminate();
        throw new Error(`thread pool: ${Atomics.load(i32, READY)} of ${workers.length} workers started within 30 s`);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    const ids = new Map(names.map((n, i) => [n, i]));
    return new Pool(workers, buf, control, names.map((n) => exports[n] as (...a: number[]) => void), ids, cores);
  }

  /** False after shutdown() or retirement. */
  get open(): boolean {
    return !this.closed;
  }

  /** Runs a job to the end (start + join). */
  run(name: string, args: readonly number[], rowStride: readonly number[], rowsAt: number, rows: number, partRows: number, partStride?: readonly number[]): void {
    this.start(name, args, rowStride, rowsAt, rows, partRows, partStride);
    this.join();
  }

  /**
   * Starts kernel `name` over `rows` rows split into parts of `partRows` rows: argument i of part p
   * is args[i] + r0 * rowStride[i] + p * partStride[i] (r0 = p * partRows), and args[rowsAt] is
   * the part's row count (strides are 0 for absent pointers and constants). The
   * workers begin at once; the caller may do other work, then must join().
   */
  start(name: string, args: readonly number[], rowStride: readonly number[], rowsAt: number, rows: number, partRows: number, partStride?: readonly number[]): void {
    if (this.closed) throw new Error(`thread pool: kernel "${name}" started on a pool that was ${this.retired ? `retired (${this.retired})` : "shut down"}`);
    if (this.running) throw new Error(`thread pool: kernel "${name}" started while "${this.running}" was still running`);
    const id = this.ids.get(name);
    if (id === undefined) throw new Error(`thread pool: no kernel "${name}" in the module`);
    const { i32, f64 } = this;
    const n = args.length;
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      f64[i] = a;
      f64[16 + i] = rowStride[i] ?? 0; // the caller gives 0 for absent pointers and constants
      f64[32 + i] = partStride?.[i] ?? 0;
    }
    i32[NARGS] = n;
    i32[ROWS_AT] = rowsAt;
    i32[ROWS] = rows;
    i32[PART_ROWS] = partRows;
    const nparts = Math.ceil(rows / partRows);
    // The claim word's 20-bit part fields (runtime.ts MAX_PARTS: the planner makes parts larger beyond it).
    if (nparts > 0xfffff) throw new Error(`thread pool: kernel "${name}" split into ${nparts} parts, more than ${0xfffff}`);
    // Wake no more workers than there are parts besides the caller's first one, nor than `wake`,
    // less those spinning (all of them while a test hook is armed: the caller waits for the
    // chosen worker's fault).
    const hooked = Atomics.load(i32, DEBUG_TRAP) !== 0 || Atomics.load(i32, DEBUG_STALL) !== 0;
    const wake = hooked ? this.workers.length : Math.min(this.wake, nparts - 1) - Atomics.load(this.status, SPINNERS);
    i32[FN] = id;
    i32[NPARTS] = nparts;
    Atomics.store(i32, FAIL, 0);
    Atomics.store(i32, DONE, 0);
    // Open the job (its generation, its part count, next part 0), then publish it. A worker woken
    // for an older generation fails every claim.
    const gen = (Atomics.load(i32, GEN) + 1) | 0;
    Atomics.store(this.claim, 0, (BigInt(nparts) << 24n) | BigInt(gen & 0xffffff));
    this.running = name;
    this.jobs++;
    Atomics.store(i32, GEN, gen);
    if (wake > 0) Atomics.notify(i32, GEN, wake);
    this.started = now();
  }

  /**
   * Runs parts on the calling thread until none are left, then waits for the parts the workers
   * claimed: a bounded wait on progress. Throws (and retires the pool) when a part failed on any
   * thread or the job stalled; returns when every part is done.
   */
  join(): void {
    const { i32 } = this;
    const name = this.running;
    const gen = Atomics.load(i32, GEN), nparts = i32[NPARTS]!;
    const own = runParts(i32, this.f64, this.claim, this.fns, -1, gen, this.status, this.text);
    const ranOut = now();
    let last = -1, since = ranOut;
    for (let done = Atomics.load(i32, DONE); done < nparts; done = Atomics.load(i32, DONE)) {
      if (done !== last) {
        last = done;
        since = now();
      } else if (now() - since > this.stallMs) {
        const why = `kernel "${name}" made no progress for ${Math.round(now() - since)} ms: ${this.diagnose()}`;
        this.retire(why);
        throw new Error(`thread pool: ${why}; the pool was retired, later calls run on the calling thread`);
      }
      // Sleep only after a short spin: the last worker's part usually ends within microseconds.
      if (this.canBlock && now() - since > SPIN_MS) Atomics.wait(i32, DONE, done, 50);
    }
    // Held up: the workers' last parts took longer than the caller's whole share (and 0.2 ms).
    const held = now() - ranOut;
    if (held > 0.2 && held > ranOut - this.started) {
      if (this.probing) this.patience = Math.min(8192, 2 * this.patience);
      this.wake = Math.max(1, this.wake - 1);
      this.calm = 0;
      this.probing = false;
    } else if (++this.calm >= this.patience) {
      this.calm = 0;
      this.probing = this.wake < this.maxWake;
      if (this.probing) this.wake++;
    }
    this.running = "";
    const fail = Atomics.load(i32, FAIL);
    if (fail === 0) return;
    const who = fail === 1 ? "the calling thread" : `worker ${fail - 2}`;
    const cause = fail === 1 ? String((own as Error)?.message ?? own) : this.message();
    const why = `kernel "${name}" failed on ${who}: ${cause}`;
    this.retire(why);
    throw new Error(`thread pool: ${why}; the pool was retired, later calls run on the calling thread`, own ? { cause: own } : undefined);
  }

  /** What each worker is doing, for a stalled job. */
  private diagnose(): string {
    const gen = Atomics.load(this.i32, GEN);
    const parts = `${Atomics.load(this.i32, DONE)} of ${Atomics.load(this.i32, NPARTS)} parts done`;
    const states = this.workers.map((_, w) => {
      const woke = Atomics.load(this.status, 2 * w), part = Atomics.load(this.status, 2 * w + 1);
      return `worker ${w} ${part > 0 ? `still running part ${part - 1}` : woke === gen ? "idle" : `not woken for this job (last job ${woke})`}`;
    });
    return `${parts}; ${states.join(", ")}`;
  }

  private message(): string {
    const n = Atomics.load(this.text, 0);
    let m = "";
    for (let i = 1; i <= n; i++) m += String.fromCharCode(this.text[i]!);
    return m || "unknown error";
  }

  /** Stops the pool for good after a failure; `why` is kept for later messages. */
  private retire(why: string): void {
    this.retired = why;
    this.running = "";
    this.shutdown();
  }

  /** @internal test hooks: worker `w` traps (or stalls) on its next part. */
  debugFault(w: number, kind: "trap" | "stall"): void {
    if (!(w >= 0 && w < this.workers.length)) throw new RangeError(`worker: expected 0 to ${this.workers.length - 1}, got ${w}`);
    Atomics.store(this.i32, kind === "trap" ? DEBUG_TRAP : DEBUG_STALL, w + 1);
  }

  /** Stops the workers. Later calls of the runtime run on the calling thread. */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.i32, EXIT, 1);
    Atomics.add(this.i32, GEN, 1);
    Atomics.notify(this.i32, GEN);
    Atomics.notify(this.i32, DEBUG_STALL);
    for (const w of this.workers) w.terminate();
  }
}
