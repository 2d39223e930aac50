// Threads, Node-specific: process lifetime with a pool.
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("threads in Node", () => {
  it("an idle pool does not keep a Node process alive (also when started as -e with --input-type=module)", () => {
    const script = `import("${new URL("../dist/index.js", import.meta.url).href}").then(async (m) => { await m.init({ threads: 2 }); m.layerNorm(new Float32Array(1 << 18), 1024); console.log("threads", m.getThreads()); })`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 20_000, encoding: "utf8" });
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe("threads 2");
    expect(r.status).toBe(0);
  });
});
