// Same bits in every JS runtime: runs probe.mjs (the built bundle, a fixed set of calls) in Node,
// Deno, Bun and the jsc shell (JavaScriptCore) and asserts that each prints Node's digests.
// A missing runtime fails the test: CI installs all four (.ci/run, package.json) and prints
// their versions.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../..", import.meta.url));
const probe = fileURLToPath(new URL("probe.mjs", import.meta.url));
const bin = (name: string) => `${repo}node_modules/.bin/${name}`;

interface Runtime { cmd: string; args: string[]; threads: boolean }
const runtimes: Record<string, Runtime> = {
  node: { cmd: process.execPath, args: [], threads: true },
  deno: { cmd: bin("deno"), args: ["run", "-A"], threads: true },
  bun: { cmd: bin("bun"), args: [], threads: true },
  // The jsc shell has no Worker: threadsSupported() must say false there.
  jsc: { cmd: process.env.JSC_PATH ?? "jsc", args: ["-m"], threads: false },
};

interface Probe { simd: boolean; threadsSupported: boolean; threadCount?: number; warning?: string; wasm: Record<string, string>; js: Record<string, string>; threads2: Record<string, string> | null }

async function probeIn(name: string): Promise<Probe> {
  const { cmd, args } = runtimes[name]!;
  const env = { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  let stdout: string;
  try {
    ({ stdout } = await run(cmd, [...args, probe], { cwd: repo, env, timeout: 60_000 }));
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === "ENOENT") throw new Error(`${name}: ${cmd} not found (expected it installed: see .ci/run)`);
    throw new Error(`${name}: the probe failed: ${err.message}\n${err.stderr ?? ""}`);
  }
  const line = stdout.split("\n").find((l) => l.startsWith("PROBE "));
  if (!line) throw new Error(`${name}: expected a PROBE line on stdout, got ${JSON.stringify(stdout.slice(0, 500))}`);
  return JSON.parse(line.slice(6)) as Probe;
}

describe("the probe gives Node's output bits in every runtime", () => {
  let reference: Promise<Probe> | undefined;
  const node = () => (reference ??= probeIn("node"));

  test("Node: the backends and 2 threads agree with each other", async () => {
    const p = await node();
    expect(p.simd).toBe(true);
    expect(Object.keys(p.wasm).length).toBeGreaterThanOrEqual(9);
    expect(p.js).toEqual(p.wasm);
    expect(p.threadCount).toBe(2);
    expect(p.threads2).toEqual(p.wasm);
  });

  for (const name of Object.keys(runtimes).filter((n) => n !== "node")) {
    test(name, async () => {
      const [p, ref] = await Promise.all([probeIn(name), node()]);
      expect(p.simd).toBe(true);
      expect(p.wasm).toEqual(ref.wasm);
      expect(p.js).toEqual(ref.wasm);
      expect(p.threadsSupported).toBe(runtimes[name]!.threads);
      if (runtimes[name]!.threads) {
        expect(p.threadCount).toBe(2);
        expect(p.threads2).toEqual(ref.wasm);
      } else {
        expect(p.threads2).toBeNull();
        expect(p.threadCount).toBe(1);
        expect(p.warning).toMatch(/threads requested but this environment has no Worker .*running single-threaded/);
      }
    });
  }
});
