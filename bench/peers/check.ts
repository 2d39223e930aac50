/**
 * Checks every peer against a float64 LayerNorm reference, then times it with tinybench.
 *   npx tsx bench/peers/check.ts [--shapes 1x64,8x768,512x768,4096x64] [--time 500] [--no-native] [--default-malloc]
 * Prints max abs error per peer and shape (fails with exit code 1 if any is > 1e-3), then a table
 * of ns/element (tinybench p50 per call / elements) and µs per call for the first shape.
 * If the library is built (dist/index.js), it is timed too, for context.
 * Runs itself under fixed glibc malloc thresholds (see stable-malloc.ts) unless --default-malloc.
 */
import { existsSync } from 'node:fs';
import { Bench } from 'tinybench';
import { isUnavailable, memoryCopyRoof, peers, runNative, type Peer, type PeerCase } from './index.js';
import { ensureStableMalloc } from './stable-malloc.js';

ensureStableMalloc();

const TOLERANCE = 1e-3;
const arg = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const shapes = (arg('--shapes') ?? '1x64,8x768,512x768,4096x64')
  .split(',').map((s) => s.split('x').map(Number) as [number, number]);
const time = Number(arg('--time') ?? 500);
const started = performance.now();

/** Deterministic data: each row = a random offset (so the mean matters) + uniform noise. */
function makeCase(rows: number, cols: number): PeerCase {
  let s = 0x2545f491 ^ (rows * 7919 + cols);
  const rand = () => { // mulberry32, uniform in [-1, 1)
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
  };
  const x = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const offset = 3 * rand();
    for (let i = 0; i < cols; i++) x[r * cols + i] = offset + 2 * rand();
  }
  const weight = Float32Array.from({ length: cols }, () => 1 + 0.25 * rand());
  const bias = Float32Array.from({ length: cols }, () => 0.25 * rand());
  return { rows, cols, x, weight, bias, eps: 1e-5 };
}

function maxAbsError(c: PeerCase, y: ArrayLike<number>): number {
  if (y.length !== c.x.length) return Infinity;
  let err = 0;
  for (let r = 0; r < c.rows; r++) {
    const o = r * c.cols;
    let mean = 0, v = 0;
    for (let i = 0; i < c.cols; i++) mean += c.x[o + i]!;
    mean /= c.cols;
    for (let i = 0; i < c.cols; i++) v += (c.x[o + i]! - mean) ** 2;
    const rstd = 1 / Math.sqrt(v / c.cols + c.eps);
    for (let i = 0; i < c.cols; i++) {
      const e = Math.abs((c.x[o + i]! - mean) * rstd * c.weight[i]! + c.bias[i]! - y[o + i]!);
      err = Number.isNaN(e) ? Infinity : Math.max(err, e);
    }
  }
  return err;
}

/** This library, for context (only if built). */
async function self(): Promise<Peer[]> {
  const dist = new URL('../../dist/index.js', import.meta.url);
  if (!existsSync(dist)) return [];
  const ln = await import(dist.href);
  const arrays: Peer = {
    name: 'self (arrays)',
    label: 'layernorm-wasm, Float32Array in, new Float32Array out per call',
    async prepare(c) {
      return { run: () => ln.layerNorm(c.x, [c.cols], { weight: c.weight, bias: c.bias, eps: c.eps }) };
    },
  };
  const tensors: Peer = {
    name: 'self (tensors)',
    label: 'layernorm-wasm, x/weight/bias/out tensors already in wasm memory',
    async prepare(c) {
      const [x, w, b, out] = [ln.tensor(c.x), ln.tensor(c.weight), ln.tensor(c.bias), ln.alloc(c.x.length)];
      return {
        run: () => ln.layerNorm(x, [c.cols], { weight: w, bias: b, eps: c.eps, out }).data,
        dispose: () => { for (const t of [x, w, b, out]) t.free(); },
      };
    },
  };
  return [arrays, tensors];
}

console.log(`malloc: ${process.env.GLIBC_TUNABLES ? `GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES}` : 'glibc defaults (results depend on allocation history)'}`);
const loaded: Peer[] = [];
for (const load of peers) {
  const p = await load();
  if (isUnavailable(p)) console.log(`skipped: ${p.unavailable}`);
  else { loaded.push(p); console.log(`${p.name.padEnd(16)} ${p.label}`); }
}
for (const p of await self()) { loaded.push(p); console.log(`${p.name.padEnd(16)} ${p.label}`); }
console.log(`${'memory.copy'.padEnd(16)} wasm bulk memory.copy of x to y in one wasm memory (bandwidth roof)\n`);

const nsPerEl = new Map<string, Map<string, number>>(); // name -> shape -> ns/element
const usFirst = new Map<string, number>();              // name -> µs per call at shapes[0]
const failures: string[] = [];
const record = (name: string, shape: string, ns: number, us: number) => {
  if (!nsPerEl.has(name)) nsPerEl.set(name, new Map());
  nsPerEl.get(name)!.set(shape, ns);
  if (shape === shapes[0]!.join('x')) usFirst.set(name, us);
};

for (const [rows, cols] of shapes) {
  const shape = `${rows}x${cols}`;
  const c = makeCase(rows, cols);
  const bench = new Bench({ time, warmupTime: time / 5, iterations: 5, warmupIterations: 2, timestampProvider: 'hrtimeNow' });
  const disposers: (() => unknown)[] = [];
  const errors: string[] = [];
  for (const p of loaded) {
    try {
      const prepared = await p.prepare(c);
      if (prepared.dispose) disposers.push(() => prepared.dispose!());
      const err = maxAbsError(c, await prepared.run());
      errors.push(`${p.name} ${err.toExponential(1)}`);
      if (err > TOLERANCE) { failures.push(`${p.name} @ ${shape}: max abs error ${err}`); continue; }
      bench.add(p.name, () => prepared.run());
    } catch (e) {
      failures.push(`${p.name} @ ${shape}: ${(e as Error).message}`);
    }
  }
  const roof = memoryCopyRoof(c.x);
  if (roof.run().some((v, i) => v !== c.x[i])) failures.push(`memory.copy @ ${shape}: wrong copy`);
  bench.add('memory.copy', () => roof.run());
  console.log(`${shape}: max abs error vs float64: ${errors.join(', ')}`);
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') { failures.push(`${task.name} @ ${shape}: timing ${r.state}`); continue; }
    record(task.name, shape, (r.latency.p50! * 1e6) / (rows * cols), r.latency.p50! * 1e3);
  }
  for (const d of disposers) await d();
}

if (!process.argv.includes('--no-native')) {
  const native = await runNative(shapes);
  if (isUnavailable(native)) console.log(`native skipped: ${native.unavailable}`);
  else {
    console.log(`native: ${native.compiler}`);
    for (const r of native.results) {
      if (r.maxAbsError > TOLERANCE) failures.push(`${r.variant} @ ${r.rows}x${r.cols}: max abs error ${r.maxAbsError}`);
      record(r.variant, `${r.rows}x${r.cols}`, r.nsPerElement, r.usPerCall);
    }
    console.log(`native max abs error: ${native.results.map((r) => `${r.variant}@${r.rows}x${r.cols} ${r.maxAbsError.toExponential(1)}`).join(', ')}`);
  }
}

const names = shapes.map((s) => s.join('x'));
const fmt = (v: number | undefined, d = 2) => (v === undefined ? '-' : v.toFixed(d));
console.log(`\nns/element (tinybench p50; native: median of its own harness), and µs per call at ${names[0]}\n`);
console.log(`| implementation | ${names.join(' | ')} | µs/call ${names[0]} |`);
console.log(`|---|${names.map(() => '---:').join('|')}|---:|`);
for (const [name, m] of nsPerEl) console.log(`| ${name} | ${names.map((s) => fmt(m.get(s))).join(' | ')} | ${fmt(usFirst.get(name), 3)} |`);

console.log(`\ncheck run took ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failures.length) {
  console.error(`\nFAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
process.exit(0); // the wasm runtimes keep handles open
