// Runtime options (init, initSync, createRuntime, new Runtime, Runtime.create) are checked the way
// the ops check theirs, before anything is made: an unknown key is a TypeError naming it, the
// nearest valid key and all of them; a value of the wrong kind is a TypeError, one out of range
// a RangeError, each saying what was expected and what arrived. A rejected init leaves the
// default runtime as it was (absent, or unchanged) and starts no worker. Also: wasmBytes() hands
// out a copy, and a module that is not the kernel module says what it lacks.
import { describe, expect, it, vi } from "vitest";
import { createRuntime, initSync, layerNorm, Runtime, wasmBytes, type RuntimeOptions } from "../src/index.js";
import { KERNEL_NAMES } from "../src/runtime/module.js";
import { firstBitDifference, normal } from "./data.js";

const KEYS = "expected one of backend, module, maxMemoryBytes, instantiate, threads";
/** A valid module that is not the kernel module: the 8-byte header alone. */
const EMPTY = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

/**
 * The library in a new module graph: no default runtime yet, and a spy on the pool's start. (In
 * the browser projects the graph is not renewed: there the tests that make the default runtime
 * come last, in the last describe.)
 */
async function fresh() {
  vi.resetModules();
  const lib = await import("../src/index.js");
  const { defaultExists } = await import("../src/runtime/default.js");
  const { Pool } = await import("../src/runtime/pool.js");
  return { lib, defaultExists, start: vi.spyOn(Pool, "start") };
}

function thrown(call: () => unknown): Error {
  try { call(); } catch (e) { return e as Error; }
  throw new Error("expected a throw");
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  throw new Error("expected a rejection");
}

function expectError(e: Error, error: typeof TypeError | typeof RangeError, message: RegExp): void {
  expect(e).toBeInstanceOf(error);
  expect(e.message).toMatch(message);
  // (an unknown key is what arrived: `unknown option "k"; expected one of ...`)
  expect(e.message, "the message says what was expected and what arrived").toMatch(/expected .*got |^\S+: unknown option "[^"]+".*; expected one of /s);
}

describe("unknown runtime option keys", () => {
  const table: { name: string; call: () => unknown; message: RegExp }[] = [
    { name: "createRuntime: backnd", call: () => createRuntime({ backnd: "js", maxMemoryByte: 1 << 20 } as never),
      message: new RegExp(`^createRuntime: unknown option "backnd" \\(did you mean "backend"\\?\\); ${KEYS}$`) },
    { name: "createRuntime: maxMemoryByte", call: () => createRuntime({ maxMemoryByte: 1 << 20 } as never),
      message: /^createRuntime: unknown option "maxMemoryByte" \(did you mean "maxMemoryBytes"\?\)/ },
    { name: "createRuntime: a key far from every valid one has no suggestion", call: () => createRuntime({ gpu: true } as never),
      message: new RegExp(`^createRuntime: unknown option "gpu"; ${KEYS}$`) },
    { name: "new Runtime: modul", call: () => new Runtime({ modul: null } as never),
      message: /^Runtime: unknown option "modul" \(did you mean "module"\?\)/ },
    { name: "initSync: Backend (case)", call: () => initSync({ Backend: "js" } as never),
      message: /^initSync: unknown option "Backend" \(did you mean "backend"\?\)/ },
  ];
  it.each(table)("$name", ({ call, message }) => {
    expectError(thrown(call), TypeError, message);
  });

  it("init({ thread: 2 }) rejects before making the default runtime", async () => {
    const { lib, defaultExists, start } = await fresh();
    const e = await rejected(lib.init({ thread: 2 } as never));
    expectError(e, TypeError, new RegExp(`^init: unknown option "thread" \\(did you mean "threads"\\?\\); ${KEYS}$`));
    expect(defaultExists(), "no default runtime was made").toBe(false);
    expect(start).not.toHaveBeenCalled();
  });

  it("init({ threads: 2, backnd }) rejects and starts no worker", async () => {
    const { lib, defaultExists, start } = await fresh();
    expectError(await rejected(lib.init({ threads: 2, backnd: "js" } as never)), TypeError, /^init: unknown option "backnd" \(did you mean "backend"\?\)/);
    expect(defaultExists()).toBe(false);
    expect(start).not.toHaveBeenCalled();
  });

  it("init({ module: bytes, thread }) rejects before compiling or making anything", async () => {
    const { lib, defaultExists } = await fresh();
    const compile = vi.spyOn(WebAssembly, "compile");
    try {
      expectError(await rejected(lib.init({ module: wasmBytes(), thread: 2 } as never)), TypeError, /^init: unknown option "thread"/);
      expect(compile).not.toHaveBeenCalled();
    } finally {
      compile.mockRestore();
    }
    expect(defaultExists()).toBe(false);
  });

  it("Runtime.create({ threads: 2, thread }) rejects and starts no worker", async () => {
    const { lib, start } = await fresh();
    expectError(await rejected(lib.Runtime.create({ threads: 2, thread: 2 } as never)), TypeError, /^Runtime\.create: unknown option "thread" \(did you mean "threads"\?\)/);
    expect(start).not.toHaveBeenCalled();
  });

  it("options are own enumerable keys, each read once; undefined values are absent", () => {
    let reads = 0;
    const rt = createRuntime({ get backend() { reads++; return "js" as const; } });
    expect(reads).toBe(1);
    expect(rt.backend).toBe("js");
    expect(createRuntime(Object.create({ thread: 2 }) as RuntimeOptions).threads, "an inherited key is not an option").toBe(1);
    expect(createRuntime({ backend: undefined, module: undefined, maxMemoryBytes: undefined, threads: undefined }).backend).toBe("wasm");
  });
});

describe("runtime option values", () => {
  const table: { name: string; error: typeof TypeError | typeof RangeError; message: RegExp; call: () => unknown }[] = [
    { name: "options not an object", error: TypeError, message: /^createRuntime options: expected an object, got number 5/, call: () => createRuntime(5 as never) },
    { name: "options null", error: TypeError, message: /^Runtime options: expected an object, got null/, call: () => new Runtime(null as never) },
    { name: "backend a number", error: TypeError, message: /^backend: expected "auto", "wasm" or "js", got number 42/, call: () => createRuntime({ backend: 42 as never }) },
    { name: "backend in initSync", error: TypeError, message: /^backend: expected "auto", "wasm" or "js", got string "WASM"/, call: () => initSync({ backend: "WASM" as never }) },
    { name: "threads a string", error: TypeError, message: /^threads: expected an integer from 1 to 256 or "auto", got string "2"/, call: () => createRuntime({ threads: "2" as never }) },
    { name: "threads 0", error: RangeError, message: /^threads: expected an integer from 1 to 256 or "auto", got number 0/, call: () => createRuntime({ threads: 0 }) },
    { name: "threads fractional", error: RangeError, message: /^threads: expected an integer from 1 to 256 or "auto", got number 2.5/, call: () => createRuntime({ threads: 2.5 }) },
    { name: "maxMemoryBytes a string", error: TypeError, message: /^maxMemoryBytes: expected a number from 131072 to 4294967296, got string "1048576"/, call: () => createRuntime({ maxMemoryBytes: "1048576" as never }) },
    { name: "maxMemoryBytes NaN", error: RangeError, message: /^maxMemoryBytes: expected a number from 131072 to 4294967296, got number NaN/, call: () => createRuntime({ maxMemoryBytes: NaN }) },
    { name: "maxMemoryBytes negative", error: RangeError, message: /^maxMemoryBytes: expected a number from 131072 to 4294967296, got number -1/, call: () => createRuntime({ maxMemoryBytes: -1 }) },
    { name: "module bytes in createRuntime (init alone compiles bytes)", error: TypeError, message: /^module: expected a WebAssembly.Module, got Uint8Array\(8\)/, call: () => createRuntime({ module: EMPTY as never }) },
    { name: "instantiate not a function", error: TypeError, message: /^instantiate: expected a function \(module, imports\) => exports, got number 5/, call: () => createRuntime({ instantiate: 5 as never }) },
  ];
  it.each(table)("$name", ({ call, error, message }) => {
    expectError(thrown(call), error, message);
  });

  it("init rejects a wrong kind or range before making anything, and starts no worker", async () => {
    const { lib, defaultExists, start } = await fresh();
    expectError(await rejected(lib.init({ module: "layernorm.wasm" as never })), TypeError, /^module: expected a WebAssembly.Module or its bytes \(an ArrayBuffer or a typed array\), got string "layernorm.wasm"/);
    expectError(await rejected(lib.init({ threads: 0 })), RangeError, /^threads: expected an integer from 1 to 256 or "auto", got number 0/);
    expectError(await rejected(lib.init({ threads: "two" as never })), TypeError, /^threads: expected an integer from 1 to 256 or "auto", got string "two"/);
    expectError(await rejected(lib.init({ threads: 2, maxMemoryBytes: 1000 })), RangeError, /^maxMemoryBytes: expected a number from 131072/);
    expectError(await rejected(lib.Runtime.create({ threads: 2, backend: "gpu" as never })), TypeError, /^backend: expected "auto", "wasm" or "js", got string "gpu"/);
    expect(defaultExists()).toBe(false);
    expect(start).not.toHaveBeenCalled();
  });
});

describe("a module that is not the kernel module", () => {
  const missing = KERNEL_NAMES.join(", ");

  it("createRuntime({ module }) names the missing exports", () => {
    const e = thrown(() => createRuntime({ module: new WebAssembly.Module(EMPTY) }));
    expectError(e, TypeError, new RegExp(`^module: expected the layernorm-wasm kernel module \\(exports heapBase, layerNorm, \\.\\.\\.\\), got a module without ${missing}$`));
  });

  it("an instantiate hook's result is checked the same way", () => {
    const drop = (name: string) => (m: WebAssembly.Module, imports: { env: { memory: WebAssembly.Memory } }) => {
      const all = { ...new WebAssembly.Instance(m, imports).exports };
      delete all[name];
      return all;
    };
    expectError(thrown(() => createRuntime({ instantiate: drop("layerNorm") })), TypeError,
      /^instantiate: expected the exports of the layernorm-wasm kernel module \(heapBase, layerNorm, \.\.\.\), got an object without layerNorm$/);
    expectError(thrown(() => createRuntime({ instantiate: drop("BLOCK") })), TypeError, /got an object without BLOCK$/);
    expectError(thrown(() => createRuntime({ instantiate: () => undefined as never })), TypeError, /^instantiate: expected the exports of .*, got undefined$/);
    // The hook returning the real exports is accepted.
    const rt = createRuntime({ instantiate: (m, imports) => new WebAssembly.Instance(m, imports).exports });
    const x = normal(24, 1);
    expect(firstBitDifference(layerNorm(x, 8, { runtime: rt }), layerNorm(x, 8, { runtime: createRuntime({ backend: "js" }) }))).toBe(-1);
  });

  it("initSync, init (module or bytes) and Runtime.create({ threads }) reject it and make nothing", async () => {
    const { lib, defaultExists, start } = await fresh();
    expect(() => lib.initSync({ module: new WebAssembly.Module(EMPTY) })).toThrow(/^module: expected the layernorm-wasm kernel module .*got a module without heapBase/);
    await expect(lib.init({ module: EMPTY })).rejects.toThrow(/^module: expected the layernorm-wasm kernel module .*got a module without heapBase/);
    await expect(lib.Runtime.create({ threads: 2, module: new WebAssembly.Module(EMPTY) })).rejects.toThrow(/^module: expected the layernorm-wasm kernel module/);
    expect(defaultExists()).toBe(false);
    expect(start).not.toHaveBeenCalled();
  });
});

describe("wasmBytes()", () => {
  it("returns a fresh copy each call: writing to it changes nothing the library uses", async () => {
    vi.resetModules(); // nothing compiled yet, so a scribble on shared bytes would reach the compiler
    const lib = await import("../src/index.js");
    const m = await import("../src/runtime/module.js");
    const a = lib.wasmBytes(), b = lib.wasmBytes();
    expect(a).not.toBe(b);
    expect(a.buffer).not.toBe(b.buffer);
    expect(a.buffer).not.toBe(m.moduleBytes().buffer);
    expect(Array.from(a)).toEqual(Array.from(b));
    a.fill(0);
    expect(Array.from(lib.wasmBytes().subarray(0, 4))).toEqual([0, 97, 115, 109]);
    expect(Array.from(m.moduleBytes())).toEqual(Array.from(b));
    expect(lib.simdSupported()).toBe(true);
    expect(() => lib.sharedMemoryVariant(m.moduleBytes())).not.toThrow();
    const x = normal(24, 2);
    const y = lib.layerNorm(x, 8, { runtime: lib.createRuntime({ backend: "wasm" }) });
    expect(firstBitDifference(y, layerNorm(x, 8, { runtime: createRuntime({ backend: "js" }) }))).toBe(-1);
  });
});

describe("with a default runtime (last: see fresh)", () => {
  it("after rejected options, good ones work: init({ module: bytes })", async () => {
    const { lib, defaultExists } = await fresh();
    await expect(lib.init({ module: wasmBytes(), threads: "2" as never })).rejects.toThrow(TypeError);
    expect(defaultExists()).toBe(false);
    expect(await lib.init({ module: wasmBytes() })).toBe("wasm");
    expect(defaultExists()).toBe(true);
  });

  it("initSync and init with an unknown key leave an existing default runtime unchanged (no backend switch)", async () => {
    const { lib } = await fresh();
    expect(lib.initSync({ backend: "wasm" })).toBe("wasm");
    expect(() => lib.initSync({ backend: "js", thread: 2 } as never)).toThrow(/^initSync: unknown option "thread"/);
    await expect(lib.init({ backend: "js", maxMemoryByte: 1 << 20 } as never)).rejects.toThrow(/^init: unknown option "maxMemoryByte"/);
    expect(lib.getBackend()).toBe("wasm");
    expect(lib.getThreads()).toBe(1);
  });
});
