// npm run stress:threads [-- RUNS]: the threaded suites (thread pool, pool failures, canaries and
// property tests over 2- and 3-thread runtimes) run RUNS times (default 20) while a busy process
// spins on every core, so workers are descheduled mid-job. Every run must pass and finish within
// its bound: a hung run is killed and counted as a failure (a pool that can wait forever would
// show up here as a timeout, not as a hung script). Prints one line per run and a summary.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

const runs = Number(process.argv[2] ?? process.env.STRESS_RUNS ?? 20);
const RUN_LIMIT_MS = 10 * 60_000;
const suites = ["test/threads.test.ts", "test/threads-node.test.ts", "test/signature.test.ts", "test/canary.test.ts", "test/properties.test.ts"];

// Busy processes, one per core, each with its own deadline (they stop even if this script dies).
const deadline = Date.now() + runs * RUN_LIMIT_MS;
const busy = Array.from({ length: availableParallelism() }, () =>
  spawn(process.execPath, ["-e", `const end = ${deadline}; while (Date.now() < end) {}`], { stdio: "ignore" }));
const stopBusy = () => { for (const b of busy) b.kill("SIGKILL"); };
process.on("exit", stopBusy);
process.on("SIGINT", () => process.exit(130));
process.on("SIGTERM", () => process.exit(143));

function once(i) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn("npx", ["vitest", "run", "--project", "node", ...suites], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { out += d; });
    const timer = setTimeout(() => { try { process.kill(-child.pid, "SIGKILL"); } catch { /* gone */ } }, RUN_LIMIT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const s = ((Date.now() - t0) / 1000).toFixed(1);
      const tests = /Tests\s+(?:\x1b\[[0-9;]*m)*\s*(.*?)\s*(?:\x1b\[[0-9;]*m)*\(\d+\)/.exec(out.replace(/\x1b\[[0-9;]*m/g, ""))?.[1] ?? "";
      const ok = code === 0;
      console.log(`run ${i + 1}/${runs}: ${ok ? "passed" : signal ? `killed after ${s} s (hung)` : `failed (exit ${code})`} in ${s} s ${tests}`);
      if (!ok) console.log(out.split("\n").filter((l) => /FAIL|Error|thread pool/.test(l)).slice(0, 20).join("\n"));
      resolve(ok);
    });
  });
}

let passed = 0;
for (let i = 0; i < runs; i++) if (await once(i)) passed++;
stopBusy();
console.log(`stress:threads: ${passed} passed, ${runs - passed} failed`);
process.exit(passed === runs ? 0 : 1);
