// The default runtime: the one ops use when no runtime is given and no argument belongs to
// another. It is made on first use (synchronously: the module is small), or by init(). init()
// never replaces a default runtime that exists: it adopts it when the options fit, else rejects.
import { Runtime, runtimeOptions, type RuntimeOptions } from "./runtime.js";

let current: Runtime | undefined;
/** The init() under way, if any (its options, for the message when a call raced it). */
let pending: Promise<Runtime> | undefined;

/** True once the default runtime exists. */
export function defaultExists(): boolean {
  return current !== undefined;
}

/** The default runtime, created on first use. */
export function defaultRuntime(): Runtime {
  return (current ??= new Runtime());
}

/** Initialises the default runtime synchronously (no threads); adopts an existing one when the options fit. */
export function initSync(options?: RuntimeOptions): Runtime {
  options = runtimeOptions("initSync", options);
  if (pending) throw new Error("initSync: init() is still under way (await it first)");
  return adopt(options, "initSync") ?? (current = new Runtime(options));
}

/** Like initSync, and the only way to give the default runtime threads. */
export async function initAsync(options?: RuntimeOptions): Promise<Runtime> {
  options = runtimeOptions("init", options);
  while (pending) await pending.catch(() => undefined);
  const existing = adopt(options, "init");
  if (existing) return existing;
  const threads = options.threads ?? 1;
  // Without threads nothing needs to wait: the runtime exists before init() returns its promise,
  // so an op called before the promise settles uses it.
  if (threads === 1) return (current = new Runtime(options));
  const made = Runtime.create(options);
  pending = made;
  try {
    const rt = await made;
    if (current) {
      // An op or tensor() made a default runtime while the workers were starting.
      rt.shutdown();
      const again = adopt(options, "init");
      if (again) return again;
    }
    return (current = rt);
  } finally {
    pending = undefined;
  }
}

/**
 * The existing default runtime when `options` fit it (a backend choice is applied); throws when
 * they ask for something it does not have; undefined when there is none yet.
 */
function adopt(options: RuntimeOptions | undefined, who: string): Runtime | undefined {
  const rt = current;
  if (!rt) return undefined;
  const o = options ?? {};
  const wantThreads = o.threads ?? 1;
  const misfit =
    o.module !== undefined ? "a precompiled module" :
    o.maxMemoryBytes !== undefined && o.maxMemoryBytes !== rt.arena.maxBytes ? `maxMemoryBytes ${o.maxMemoryBytes}` :
    o.instantiate !== undefined ? "an instantiate hook" :
    wantThreads !== "auto" && wantThreads !== rt.threads ? `threads: ${wantThreads}` :
    wantThreads === "auto" && rt.threads === 1 && o.threads !== undefined ? 'threads: "auto"' : "";
  if (misfit) {
    throw new Error(`${who}: the default runtime already exists (with ${rt.threads} thread${rt.threads > 1 ? "s" : ""}, backend "${rt.backend}") and cannot take ${misfit}; an op, tensor() or alloc() ran before ${who} finished. Await ${who} before the first call, or use createRuntime()`);
  }
  if (o.backend) rt.setBackend(o.backend);
  return rt;
}
