// Shared benchmark plumbing: environment line, interleaved timing with tinybench, tables.
import { cpus, platform, release } from "node:os";
import { Bench } from "tinybench";
import { wasmBytes } from "../dist/index.js";

export { fmt, table } from "./format.js";

export interface Shape { rows: number; cols: number }
export const parseShape = (s: string): Shape => {
  const [rows, cols] = s.split("x").map(Number);
  return { rows: rows!, cols: cols! };
};
export const label = (s: Shape): string => `${s.rows}x${s.cols}`;

/** One line describing where the numbers come from. */
export function environment(): string {
  const cpu = cpus()[0]?.model.trim() ?? "unknown CPU";
  return `Node ${process.version} (V8 ${process.versions.v8}), ${cpu}, ${cpus().length} cores, ${platform()} ${release()}, wasm ${wasmBytes().length} B, ${new Date().toISOString().slice(0, 10)}`;
}

export interface Task {
  name: string;
  /** Runs the operation once (or returns a promise). */
  fn: () => unknown;
}

/**
 * Median time per call in nanoseconds for each task. Tasks are interleaved: `rounds` rounds,
 * each running every task for `time` ms in turn; the result is the median of the round medians,
 * so slow drifts of a noisy machine hit every task alike. Calls are batched so that one sample
 * lasts >= ~20 us, keeping timer overhead out of sub-microsecond calls.
 */
export async function measure(tasks: readonly Task[], opts: { rounds: number; time: number; elements: number }): Promise<Map<string, number>> {
  const batch = Math.max(1, Math.ceil(20_000 / Math.max(opts.elements, 1)));
  const perRound = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  for (let r = 0; r < opts.rounds; r++) {
    // iterations: 2 lets a task that is slower than `time` finish its round after two samples.
    const bench = new Bench({ time: opts.time, iterations: 2, warmupTime: r === 0 ? opts.time : 0, warmupIterations: r === 0 ? 2 : 0, warmup: r === 0 });
    for (const t of tasks) {
      const isAsync = t.fn() instanceof Promise;
      bench.add(t.name, isAsync ? async () => { for (let i = 0; i < batch; i++) await t.fn(); } : () => { for (let i = 0; i < batch; i++) t.fn(); });
    }
    await bench.run();
    for (const task of bench.tasks) {
      const res = task.result;
      if (res.state !== "completed") throw new Error(`benchmark task ${task.name} did not complete (${res.state})`);
      perRound.get(task.name)!.push((res.latency.p50 * 1e6) / batch);
    }
  }
  return new Map([...perRound].map(([k, v]) => [k, median(v)]));
}

export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
