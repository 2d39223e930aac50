// `npm run bench:threads`: 1 vs N threads on large LayerNorms (zero-copy tensors, and plain
// Float32Arrays staged through the scratch with copies overlapping the workers, also at
// byteOffset 4 mod 8, which the staging must match to keep V8's copies word-wide), next to the
// same split applied to a plain memory.copy (the bandwidth roof with N threads) and to
// onnxruntime-node with 1 and N intra-op threads. Also sweeps sizes around the threshold below
// which calls stay on the calling thread, and times pools with more threads than cores (also
// with the engine made to report 4x the cores, as WebKit reports 4 on a 2-core machine).
//
//   tsx bench/threads.ts [--threads 2] [--full]
import { Runtime, type Tensor } from "../dist/index.js";
import { PART_ELEMENTS } from "../dist/runtime/runtime.js";
import { environment, fmt, measure, parseShape, table, type Shape } from "./lib.js";
import { ensureStableMalloc, isUnavailable, onnxruntimeNodeLoader, type PeerCase } from "./peers/index.js";

ensureStableMalloc();
const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const N = Number(opt("--threads") ?? 2);
const full = argv.includes("--full");
const big: Shape[] = ["512x4096", "4096x768", "1024x4096", "4096x4096"].map(parseShape);
const sweep: Shape[] = ["8x768", "32x768", "64x768", "128x768", "256x768", "512x768"].map(parseShape);

const one = new Runtime({ backend: "wasm" });
const many = await Runtime.create({ threads: N });
const pooled = many.threadMinElements;
console.log(environment());
console.log(`threads: 1 vs ${many.threads} (caller + ${many.threads - 1} worker${many.threads > 2 ? "s" : ""}); parts of ~${PART_ELEMENTS} elements; ns per element, median of interleaved rounds\n`);

function data(s: Shape): PeerCase {
  const x = new Float32Array(s.rows * s.cols);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.7) * 2 + (i % 13) * 0.1;
  return { rows: s.rows, cols: s.cols, x, weight: new Float32Array(s.cols).fill(1.5), bias: new Float32Array(s.cols).fill(0.25), eps: 1e-5 };
}

/** Zero-copy LayerNorm and the memory.copy roof in runtime `rt`, through its pool if it has one. */
function setup(rt: Runtime, c: PeerCase) {
  const [x, w, b, y] = [rt.from(c.x), rt.from(c.weight), rt.from(c.bias), rt.alloc(c.x.length)] as Tensor[];
  const k = rt.kernels!;
  const copy = () => {
    const pool = (rt as unknown as { pool: { run(...a: unknown[]): void } | null }).pool; // internal: stripped from the published types
    if (pool) pool.run("copyRows", [x!.byteOffset, y!.byteOffset, c.rows, c.cols], [c.cols * 4, c.cols * 4], 2, c.rows, Math.ceil(PART_ELEMENTS / c.cols));
    else k.copyRows(x!.byteOffset, y!.byteOffset, c.rows, c.cols);
  };
  const yp = new Float32Array(c.x.length);
  // The same plain arrays 4 bytes into their buffers (byteOffset 4 mod 8).
  const off = (a: Float32Array) => { const b = new Float32Array(a.length + 1).subarray(1); b.set(a); return b; };
  const [xo, wo, bo, yo] = [off(c.x), off(c.weight), off(c.bias), off(yp)];
  return {
    layerNorm: () => layerNormCall(rt, x!, w!, b!, y!, c),
    plain: () => layerNorm(c.x, c.cols, { weight: c.weight, bias: c.bias, out: yp, eps: c.eps, runtime: rt }),
    plainOffset: () => layerNorm(xo, c.cols, { weight: wo, bias: bo, out: yo, eps: c.eps, runtime: rt }),
    plainOut: () => yp.slice(),
    copy,
    out: () => y!.data.slice(),
    free: () => { for (const t of [x, w, b, y]) t!.free(); },
  };
}
const { layerNorm } = await import("../dist/index.js");
function layerNormCall(rt: Runtime, x: Tensor, w: Tensor, b: Tensor, y: Tensor, c: PeerCase) {
  return layerNorm(x, c.cols, { weight: w, bias: b, out: y, eps: c.eps, runtime: rt });
}

const ort1 = await onnxruntimeNodeLoader(1)();
const ortN = await onnxruntimeNodeLoader(N)();
const rows: string[][] = [];
for (const s of big) {
  const c = data(s), n = s.rows * s.cols;
  const a = setup(one, c), m = setup(many, c);
  a.layerNorm(); m.layerNorm(); a.plain(); m.plain();
  const ya = a.out(), ym = m.out(), pa = a.plainOut(), pm = m.plainOut();
  const same = ya.every((v, i) => Object.is(v, ym[i]) && Object.is(v, pa[i]) && Object.is(v, pm[i]));
  const tasks = [
    { name: "1 thread", fn: a.layerNorm },
    { name: "N threads", fn: m.layerNorm },
    { name: "plain 1", fn: a.plain },
    { name: "plain N", fn: m.plain },
    { name: "plain+4 N", fn: m.plainOffset },
    { name: "copy 1", fn: a.copy },
    { name: "copy N", fn: m.copy },
  ];
  for (const [name, p] of [["ort 1", ort1], ["ort N", ortN]] as const) {
    if (isUnavailable(p)) continue;
    const prepared = await p.prepare(c);
    tasks.push({ name, fn: () => prepared.run() as unknown as boolean });
  }
  const t = await measure(tasks, { rounds: full ? 7 : 5, time: full ? 400 : 200, elements: n });
  const v = (k: string) => (t.has(k) ? t.get(k)! / n : undefined);
  const sp = (p?: number, q?: number) => (p && q ? `${fmt(p / q, 2)}x` : "-");
  rows.push([`${s.rows}x${s.cols}`, fmt(v("1 thread")!), fmt(v("N threads")!), sp(v("1 thread"), v("N threads")),
    fmt(v("plain 1")!), fmt(v("plain N")!), sp(v("plain 1"), v("plain N")), fmt(v("plain+4 N")!), fmt(v("copy 1")!), fmt(v("copy N")!), sp(v("copy 1"), v("copy N")),
    v("ort 1") ? fmt(v("ort 1")!) : "-", v("ort N") ? fmt(v("ort N")!) : "-", sp(v("ort 1"), v("ort N")), same ? "identical" : "DIFFER"]);
  a.free(); m.free();
  process.stderr.write(`  ${s.rows}x${s.cols} done\n`);
}
console.log(table(["shape", "tensors 1t", `tensors ${N}t`, "speed-up", "plain 1t", `plain ${N}t`, "plain speed-up", `plain +4 B ${N}t`, "copy 1t", `copy ${N}t`, "copy speed-up", "ort-node 1t", `ort-node ${N}t`, "ort speed-up", "bits"], rows));

// Where threads start to pay: the same shapes with the pool forced on, against one thread.
many.threadMinElements = 0;
const srows: string[][] = [];
for (const s of sweep) {
  const c = data(s), n = s.rows * s.cols;
  const a = setup(one, c), m = setup(many, c);
  const t = await measure([{ name: "1", fn: a.layerNorm }, { name: "N", fn: m.layerNorm }], { rounds: 5, time: 100, elements: n });
  srows.push([`${s.rows}x${s.cols}`, String(n), fmt(t.get("1")! / 1000, 1), fmt(t.get("N")! / 1000, 1), `${fmt(t.get("1")! / t.get("N")!, 2)}x`]);
  a.free(); m.free();
}
many.threadMinElements = pooled;
console.log(`\nThreshold sweep (pool forced on; the library uses it from ${pooled} elements):\n`);
console.log(table(["shape", "elements", "1 thread us", `${N} threads us`, "speed-up"], srows));

// Below the threshold with plain arrays the threaded runtime runs the call in its unshared twin:
// it should cost what the same call costs in a runtime without threads.
const prows: string[][] = [];
for (const s of ["1x768", ...sweep.slice(0, 4).map((q) => `${q.rows}x${q.cols}`)].map(parseShape)) {
  const c = data(s), n = s.rows * s.cols;
  const a = setup(one, c), m = setup(many, c);
  const t = await measure([{ name: "1", fn: a.plain }, { name: "N", fn: m.plain }], { rounds: 5, time: 100, elements: n });
  prows.push([`${s.rows}x${s.cols}`, fmt(t.get("1")! / 1000, 2), fmt(t.get("N")! / 1000, 2), `${fmt(t.get("N")! / t.get("1")!, 2)}x`]);
  a.free(); m.free();
}
console.log(`\nBelow the threshold, plain arrays (copying calls): a runtime without threads vs one with ${N}:\n`);
console.log(table(["shape", "1 thread us", `${N} threads us`, "cost"], prows));

// More threads than cores: 2, 4 and 8 threads, with the real count of cores reported and with 4x
// it (an inflated navigator.hardwareConcurrency), against 2 threads in the same rounds.
const cores = (await import("node:os")).availableParallelism();
const orows: string[][] = [];
for (const told of [cores, 4 * cores]) {
  const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as object;
  Object.defineProperty(nav, "hardwareConcurrency", { value: told, configurable: true });
  const pools = await Promise.all([2, 4, 8].map((threads) => Runtime.create({ threads })));
  delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  for (const s of ["512x768", "4096x768"].map(parseShape)) {
    const c = data(s), n = s.rows * s.cols;
    const set = pools.map((rt) => setup(rt, c));
    const t = await measure(set.map((m, i) => ({ name: String(i), fn: m.layerNorm })), { rounds: full ? 7 : 5, time: 200, elements: n });
    const v = (i: number) => t.get(String(i))! / n;
    orows.push([String(told), `${s.rows}x${s.cols}`, ...[0, 1, 2].map((i) => fmt(v(i))), `${fmt(v(1) / v(0), 2)}x`, `${fmt(v(2) / v(0), 2)}x`]);
    for (const m of set) m.free();
  }
  for (const rt of pools) rt.shutdown();
}
console.log(`\nMore threads than cores (${cores} here; tensors, ns per element; cost = time against 2 threads):\n`);
console.log(table(["cores reported", "shape", "2 threads", "4 threads", "8 threads", "4t cost", "8t cost"], orows));
many.shutdown();
process.exit(0);
