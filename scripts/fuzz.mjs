// npm run fuzz: the long fuzz mode (minutes; not in CI). Runs the property tests, the canary test
// and the soak with FUZZ=1, which scales every case count up (test/fuzz.ts), in parallel Node
// processes (one per core), and prints the counts each test reported and the total.
// FUZZ_SCALE=0.1 gives a quick run; FC_SEED / FC_PATH replay a fast-check failure.
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";

const shards = Math.max(1, Math.min(4, availableParallelism()));
const jobs = [
  ...Array.from({ length: shards }, (_, i) => ({ name: `properties ${i + 1}/${shards}`, files: ["test/properties.test.ts"], env: { FUZZ_SHARD: String(i), FUZZ_SHARDS: String(shards) } })),
  { name: "canary", files: ["test/canary.test.ts"], env: {} },
  { name: "soak", files: ["test/soak.test.ts"], env: {} },
];
const start = Date.now();
const counts = [];
let failed = false;

function run(job) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn("npx", ["vitest", "run", "--project", "node", "--testTimeout=0", "--reporter=verbose", ...job.files], {
      env: { ...process.env, FUZZ: "1", ...job.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const take = (chunk) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-20000);
      for (const line of text.split("\n")) {
        const m = /FUZZ-COUNT (\{.*?\})(.*)$/.exec(line);
        if (m) {
          const c = JSON.parse(m[1]);
          counts.push({ ...c, extra: m[2].trim() });
          console.log(`  ${c.what.padEnd(40)} ${String(c.n).padStart(9)}  ${m[2].trim()}`);
        }
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("close", (code) => {
      const s = ((Date.now() - t0) / 1000).toFixed(0);
      if (code !== 0) {
        failed = true;
        console.log(`\n${job.name}: FAILED after ${s} s. Last output:\n${tail}`);
      } else console.log(`${job.name}: passed in ${s} s`);
      resolve();
    });
  });
}

console.log(`fuzz: ${jobs.length} jobs, ${shards} at a time (FUZZ_SCALE=${process.env.FUZZ_SCALE ?? 1})`);
const queue = [...jobs];
await Promise.all(Array.from({ length: shards }, async () => {
  for (let job = queue.shift(); job; job = queue.shift()) await run(job);
}));
const total = counts.reduce((s, c) => s + c.n, 0);
const minutes = ((Date.now() - start) / 60000).toFixed(1);
console.log(`\nfuzz: ${total.toLocaleString("en")} cases and calls in ${minutes} min${failed ? " -- FAILED" : ""}`);
process.exit(failed ? 1 : 0);
