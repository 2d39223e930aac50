/**
 * Every op besides LayerNorm against native C (bench/peers/native/ops.c: plain loops,
 * cc -O3 -msse4.2 -ffast-math, autovectorised): this library's zero-copy wasm call and the C
 * kernel on the same shapes and the same work, one after the other per op and shape, ns per
 * element (median of 3 alternations of the two, each a median over ~0.3 s), and the ratio
 * ours / C (lower is better). LayerNorm's own native column (the faster of SSE intrinsics and
 * these plain loops) is in `npm start`'s main table.
 *
 * The work per call, both sides (every optional input present, as `npm run bench`):
 *   rmsNorm              x, weight -> out
 *   skipLayerNorm        x, skip, residualBias, weight, bias -> out, sum
 *   skipRmsNorm          x, skip, residualBias, weight -> out, sum
 *   layerNormBackward    dy, x, weight, saved mean and invStdDev -> dx, dweight, dbias
 *   rmsNormBackward      dy, x, weight, saved invStdDev -> dx, dweight
 *   batchNormTrainNCHW   x [rows, 3, cols], weight, bias, running statistics -> out (training)
 *
 * Usage: npm run build && npx tsx bench/native-ops.ts [--shapes 512x768,32x4096,4096x64]
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { batchNorm, createRuntime, layerNorm, layerNormBackward, rmsNorm, rmsNormBackward, skipLayerNorm, skipRmsNorm } from "../dist/index.js";
import { normal } from "../test/data.js";

const exec = promisify(execFile);
const argv = process.argv.slice(2);
const at = argv.indexOf("--shapes");
const shapes = (at >= 0 ? argv[at + 1]! : "512x768,32x4096,4096x64").split(",").map((s) => s.split("x").map(Number) as [number, number]);
const all = ["rmsNorm", "skipLayerNorm", "skipRmsNorm", "layerNormBackward", "rmsNormBackward", "batchNormTrainNCHW"] as const;
const oi = argv.indexOf("--ops");
const ops = oi >= 0 ? (argv[oi + 1]!.split(",") as Op[]) : all;
type Op = (typeof all)[number];

const rt = createRuntime({ backend: "wasm" });
const ROUNDS = 3;
const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1]!;

/** A zero-copy call of `op` on rows x cols with every optional input present. */
function prepare(op: Op, rows: number, cols: number): { n: number; run: () => void } {
  const bn = op === "batchNormTrainNCHW", n = rows * cols * (bn ? 3 : 1), d = bn ? 3 : cols;
  const T = (a: Float32Array) => rt.from(a);
  const x = T(normal(n, 1, 1, 0.5)), skip = T(normal(n, 2)), dy = T(normal(n, 3, 1, 0.1));
  const w = T(normal(d, 4, 0.25, 1)), b = T(normal(d, 5, 0.25)), rb = T(normal(d, 6, 0.25));
  const out = rt.alloc(n), sum = rt.alloc(n), dx = rt.alloc(n), dw = rt.alloc(d), db = rt.alloc(d);
  const mean = rt.alloc(rows), inv = rt.alloc(rows), rm = rt.alloc(d), rv = T(new Float32Array(d).fill(1));
  if (op === "layerNormBackward") layerNorm(x, cols, { weight: w, bias: b, out, mean, invStdDev: inv });
  if (op === "rmsNormBackward") rmsNorm(x, cols, { weight: w, out, invStdDev: inv });
  const run = {
    rmsNorm: () => rmsNorm(x, cols, { weight: w, out }),
    skipLayerNorm: () => skipLayerNorm(x, skip, cols, { residualBias: rb, weight: w, bias: b, out, sum }),
    skipRmsNorm: () => skipRmsNorm(x, skip, cols, { residualBias: rb, weight: w, out, sum }),
    layerNormBackward: () => layerNormBackward(dy, x, cols, { weight: w, mean, invStdDev: inv, dx, dweight: dw, dbias: db }),
    rmsNormBackward: () => rmsNormBackward(dy, x, cols, { weight: w, invStdDev: inv, dx, dweight: dw }),
    batchNormTrainNCHW: () => batchNorm(x, [rows, 3, cols], { training: true, runningMean: rm, runningVar: rv, weight: w, bias: b, out }),
  }[op];
  return { n, run };
}

/** Median seconds per call over ~0.3 s of samples of >= 20 us each (the C harness's method). */
function time(run: () => void): number {
  let k = 1;
  for (;;) {
    const t0 = performance.now();
    for (let j = 0; j < k; j++) run();
    if (performance.now() - t0 >= 0.02) break;
    k *= 2;
  }
  for (const t0 = performance.now(); performance.now() - t0 < 50;) run();
  const samples: number[] = [];
  for (const start = performance.now(); performance.now() - start < 300 || samples.length < 5;) {
    const t0 = performance.now();
    for (let j = 0; j < k; j++) run();
    samples.push((performance.now() - t0) / k / 1e3);
  }
  samples.sort((p, q) => p - q);
  return samples[samples.length >> 1]!;
}

const dir = await mkdtemp(path.join(tmpdir(), "layernorm-native-ops-"));
try {
  const cc = process.env.CC ?? "cc", exe = path.join(dir, "ops");
  const flags = ["-O3", "-msse4.2", "-ffast-math"];
  let compiler: string;
  try {
    if (process.arch !== "x64" && process.arch !== "ia32") throw new Error(`needs x86 SSE, this is ${process.arch}`);
    compiler = (await exec(cc, ["--version"])).stdout.split("\n")[0]!.trim();
    await exec(cc, [...flags, "-o", exe, fileURLToPath(new URL("./peers/native/ops.c", import.meta.url)), "-lm"]);
  } catch (e) {
    // As bench/peers/native.ts: no baseline, not a failed run.
    console.log(`native C baseline unavailable (${cc} ${flags.join(" ")}): ${(e as { stderr?: string }).stderr || (e as Error).message}`);
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
  console.log(`Node ${process.version}; native: ${compiler}, ${flags.join(" ")} (plain loops, autovectorised); zero-copy wasm, 1 thread\n`);
  console.log("| op | shape | wasm ns/el | native C ns/el | ours / C | C max abs error |");
  console.log("|:---|:------|-----------:|---------------:|---------:|----------------:|");
  for (const op of ops) {
    for (const [rows, cols] of shapes) {
      const { n, run } = prepare(op, rows, cols);
      // ROUNDS alternations of ours and C, the median of each side's medians (noisy machines).
      const ours: number[] = [], native: number[] = [];
      let err = 0;
      for (let r = 0; r < ROUNDS; r++) {
        ours.push((time(run) * 1e9) / n);
        const c = JSON.parse((await exec(exe, [op, `${rows}x${cols}`])).stdout) as { nsPerElement: number; maxAbsError: number };
        if (!(c.maxAbsError <= 1e-4)) throw new Error(`native ${op} ${rows}x${cols}: max abs error ${c.maxAbsError}`);
        native.push(c.nsPerElement);
        err = c.maxAbsError;
      }
      const o = median(ours), c = median(native);
      console.log(`| ${op} | ${rows}x${cols}${op === "batchNormTrainNCHW" ? " (x3 channels)" : ""} | ${o.toFixed(3)} | ${c.toFixed(3)} | ${(o / c).toFixed(2)}x | ${err.toExponential(1)} |`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
