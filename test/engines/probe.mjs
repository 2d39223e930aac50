// Cross-runtime probe: imports the built package as a user would and prints, as one JSON line,
// a digest of the output bits of a fixed set of calls on each backend (and on 2 threads where the
// engine has them). test/engines/runtimes.test.ts runs it in Node, Deno, Bun and the jsc shell
// and compares the digests. Plain JS (no TypeScript, no Node APIs) so every runtime runs it as is.
// Input data uses only integer arithmetic and IEEE +,-,*,/ (no Math.sin/log/exp, whose results
// differ between engines), so every engine builds the same inputs.

// The jsc shell has print() but no console.
globalThis.console ??= { log: (...a) => print(a.join(" ")), warn: (...a) => print(a.join(" ")) };

const L = await import("../../dist/bundle/index.js");

let seed = 0x9e3779b9;
function uniform() { // xorshift32 in [-1, 1)
  seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 31 - 1;
}
const gauss = () => uniform() + uniform() + uniform() + uniform(); // roughly normal, spread ~1.15

/** rows x d values: random rows, then the adversarial ones in rotation. */
function rowsOf(rows, d) {
  const x = new Float32Array(rows * d);
  const kinds = [
    () => gauss(),
    () => 40000 + 1e-3 * gauss(), // offset: the textbook E[x^2]-E[x]^2 fails here
    () => 1e18 * gauss(),
    () => 1e-41 * gauss(), // float32 denormals
    () => 1e-3 * gauss(),
  ];
  for (let r = 0; r < rows; r++) {
    const kind = kinds[r % kinds.length];
    for (let i = 0; i < d; i++) x[r * d + i] = kind();
  }
  x[7 * d + (d >> 1)] = NaN; // one NaN row: all NaN out, the other rows unaffected
  x[9 * d] = Infinity;
  return x;
}
const vec = (n, scale, offset) => Float32Array.from({ length: n }, () => offset + scale * gauss());

// FNV-1a over the bytes, two 32-bit lanes with different offsets; NaNs are hashed as one pattern
// because the library promises bits "NaN payloads aside" (engines may canonicalise NaN stores).
function digest(arrays) {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (const arr of arrays) {
    if (arr == null) continue;
    const f = Float32Array.from(arr);
    for (let i = 0; i < f.length; i++) if (f[i] !== f[i]) f[i] = NaN;
    const u = new Uint8Array(f.buffer);
    for (let i = 0; i < u.length; i++) { a = Math.imul(a ^ u[i], 0x01000193); b = Math.imul(b ^ u[i], 0x01000193) ^ (b >>> 15); }
  }
  return (a >>> 0).toString(16).padStart(8, "0") + (b >>> 0).toString(16).padStart(8, "0");
}

// Two shapes: D = 100 (SIMD body plus a tail) on few rows, and D = 768 on enough rows that a
// 2-thread runtime actually splits the call across its workers.
const shapes = [[12, 100], [192, 768]].map(([rows, d]) => ({
  rows, d, x: rowsOf(rows, d), skip: rowsOf(rows, d), dy: vec(rows * d, 1, 0),
  weight: vec(d, 0.5, 1), bias: vec(d, 0.5, 0), residualBias: vec(d, 0.1, 0),
}));
const bnShape = [64, 8, 300]; // N, C, H: 153600 values, also large enough for threads
const bnX = rowsOf(64 * 8, 300);
const bnWeight = vec(8, 0.5, 1), bnBias = vec(8, 0.5, 0);

/** Digest per call on one runtime. */
function run(runtime) {
  const out = {};
  for (const { rows, d, x, skip, dy, weight, bias, residualBias } of shapes) {
    const key = (op) => `${op}_${rows}x${d}`;
    const mean = new Float32Array(rows), invStdDev = new Float32Array(rows);
    const y = L.layerNorm(x, d, { weight, bias, mean, invStdDev, runtime });
    out[key("layerNorm")] = digest([y, mean, invStdDev]);
    const rInv = new Float32Array(rows);
    out[key("rmsNorm")] = digest([L.rmsNorm(x, d, { weight, invStdDev: rInv, runtime }), rInv]);
    const sum = new Float32Array(rows * d), sMean = new Float32Array(rows), sInv = new Float32Array(rows);
    const s = L.skipLayerNorm(x, skip, d, { residualBias, weight, bias, sum, mean: sMean, invStdDev: sInv, runtime });
    out[key("skipLayerNorm")] = digest([s, sum, sMean, sInv]);
    // The backward on finite rows only (a NaN row makes dweight/dbias all NaN, hiding the rest).
    const fin = x.map((v) => (Number.isFinite(v) ? v : 0.5));
    const fMean = new Float32Array(rows), fInv = new Float32Array(rows);
    L.layerNorm(fin, d, { weight, bias, mean: fMean, invStdDev: fInv, runtime });
    const g = L.layerNormBackward(dy, fin, d, { weight, mean: fMean, invStdDev: fInv, runtime });
    out[key("layerNormBackward")] = digest([g.dx, g.dweight, g.dbias]);
  }
  const runningMean = new Float32Array(8), runningVar = new Float32Array(8).fill(1);
  const bMean = new Float32Array(8), bInv = new Float32Array(8);
  const finBn = bnX.map((v) => (Number.isFinite(v) ? v : 0.5));
  const yb = L.batchNorm(finBn, bnShape, { weight: bnWeight, bias: bnBias, training: true, runningMean, runningVar, mean: bMean, invStdDev: bInv, runtime });
  out.batchNormTraining = digest([yb, runningMean, runningVar, bMean, bInv]);
  return out;
}

const result = {
  simd: L.simdSupported(),
  threadsSupported: L.threadsSupported(),
  wasm: run(L.createRuntime({ backend: "wasm" })),
  js: run(L.createRuntime({ backend: "js" })),
  threads2: null,
};
if (result.threadsSupported) {
  const rt = await L.Runtime.create({ threads: 2 });
  result.threadCount = rt.threads;
  result.threads2 = run(rt);
  rt.shutdown();
} else {
  // Threads asked for anyway: one runtime on the calling thread, and a warning saying why.
  const warn = console.warn;
  console.warn = (m) => { result.warning = String(m); };
  const rt = await L.Runtime.create({ threads: 2 });
  console.warn = warn;
  result.threadCount = rt.threads;
}
console.log("PROBE " + JSON.stringify(result));
