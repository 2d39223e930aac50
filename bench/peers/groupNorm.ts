/**
 * GroupNorm / InstanceNorm against the peers: onnxruntime-web (one-node GroupNormalization-21 /
 * InstanceNormalization models, wasm backend, 1 thread) and tfjs-wasm (moments over the group axes
 * + broadcasting ops), vs this project's groupNorm kernel called directly on data already in wasm
 * memory, and vs its LayerNorm kernel on the same element count (rows = N * G, cols = (C / G) * S,
 * the same row structure). Every implementation is checked against the float64 reference
 * (max abs error <= 1e-3) before it is timed; variants are timed interleaved, medians reported.
 *
 *   npm run build && npx tsx bench/peers/groupNorm.ts [--time ms-per-variant]
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { groupNormModel } from './onnx-model.js';
import { ensureStableMalloc } from './stable-malloc.js';

ensureStableMalloc();

interface Case { name: string; N: number; C: number; spatial: number[]; G: number; cl: boolean }
const shapes: Omit<Case, 'cl'>[] = [
  { name: '[1,320,64,64] G=32', N: 1, C: 320, spatial: [64, 64], G: 32 },
  { name: '[1,512,128,128] G=32', N: 1, C: 512, spatial: [128, 128], G: 32 },
  { name: '[8,64,56,56] instance', N: 8, C: 64, spatial: [56, 56], G: 64 },
];
const cases: Case[] = shapes.flatMap((s) => [{ ...s, cl: false }, { ...s, cl: true }]);
const argTime = process.argv.indexOf('--time');
const budgetMs = argTime > 0 ? Number(process.argv[argTime + 1]) : 1500;
const eps = 1e-5;

type Run = () => Float32Array | Promise<Float32Array>;
interface Impl { name: string; prepare(c: Case, x: Float32Array, w: Float32Array, b: Float32Array): Promise<{ run: Run; dispose(): void | Promise<void>; checked: boolean }> }

const { createRuntime } = await import(new URL('../../dist/index.js', import.meta.url).href);
const { groupNormReference } = await import(new URL('../../dist/reference/groupNorm.js', import.meta.url).href);
const { groupNormWorkBytes } = await import(new URL('../../dist/fallback/groupNorm.js', import.meta.url).href);
const rt = createRuntime({ backend: 'wasm' });
const K = rt.kernels as Record<string, (...a: number[]) => void>;

const ours: Impl = {
  name: 'groupNorm kernel',
  async prepare(c, x, w, b) {
    const S = c.spatial.reduce((a, v) => a * v, 1);
    const tx = rt.from(x), tw = rt.from(w), tb = rt.from(b), ty = rt.alloc(x.length);
    const tm = rt.alloc(c.N * c.G), tr = rt.alloc(c.N * c.G), work = rt.alloc(groupNormWorkBytes(c.C) / 4);
    return {
      checked: true,
      run() {
        K.groupNorm!(tx.byteOffset, tw.byteOffset, tb.byteOffset, ty.byteOffset, tm.byteOffset, tr.byteOffset, 0, work.byteOffset, 0, c.N * c.G, c.C, S, c.G, eps, +c.cl);
        return ty.data;
      },
      dispose() { for (const t of [tx, tw, tb, ty, tm, tr, work]) t.free(); },
    };
  },
};

// LayerNorm on rows = N * G of cols = M elements: not the same result, so not checked; same bytes moved.
const layerNorm: Impl = {
  name: 'layerNorm kernel (same rows x cols)',
  async prepare(c, x) {
    const S = c.spatial.reduce((a, v) => a * v, 1), cols = (c.C / c.G) * S, rows = c.N * c.G;
    const tx = rt.from(x), tw = rt.from(new Float32Array(cols).fill(1)), tb = rt.alloc(cols), ty = rt.alloc(x.length);
    return {
      checked: false,
      run() {
        K.layerNorm!(tx.byteOffset, tw.byteOffset, tb.byteOffset, ty.byteOffset, 0, 0, rows, cols, eps);
        return ty.data;
      },
      dispose() { for (const t of [tx, tw, tb, ty]) t.free(); },
    };
  },
};

async function ortImpl(): Promise<Impl | string> {
  try {
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.simd = true;
    return {
      name: `onnxruntime-web ${ort.env.versions.web} (wasm, 1 thread)`,
      async prepare(c, x, w, b) {
        const dims = [c.N, c.C, ...c.spatial];
        const session = await ort.InferenceSession.create(groupNormModel(w, b, eps, c.G === c.C ? 0 : c.G, dims, c.cl), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
        const ioDims = c.cl ? [c.N, ...c.spatial, c.C] : dims;
        return {
          checked: true,
          async run() { return (await session.run({ X: new ort.Tensor('float32', x, ioDims) })).Y!.data as Float32Array; },
          dispose: () => session.release(),
        };
      },
    };
  } catch (e) {
    return `onnxruntime-web not loadable: ${(e as Error).message}`;
  }
}

async function tfjsImpl(): Promise<Impl | string> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
    if (!(await tf.setBackend('wasm'))) return 'tfjs wasm backend failed to initialise';
    await tf.ready();
    return {
      name: `tfjs-backend-wasm ${wasm.version_wasm} (moments + broadcasting ops)`,
      async prepare(c, x, w, b) {
        const S = c.spatial.reduce((a, v) => a * v, 1), Cg = c.C / c.G;
        // NCHW: [N, G, Cg*S], moments over axis 2. Channels-last: [N, S, G, Cg], moments over axes 1 and 3.
        const gamma = c.cl ? tf.tensor1d(w) : tf.tensor3d(w, [1, c.C, 1]);
        const beta = c.cl ? tf.tensor1d(b) : tf.tensor3d(b, [1, c.C, 1]);
        return {
          checked: true,
          run() {
            const y = tf.tidy(() => {
              const xt = c.cl ? tf.tensor4d(x, [c.N, S, c.G, Cg]) : tf.tensor3d(x, [c.N, c.G, Cg * S]);
              const { mean, variance } = tf.moments(xt, c.cl ? [1, 3] : [2], true);
              const u = tf.mul(tf.sub(xt, mean), tf.rsqrt(tf.add(variance, eps)));
              const ur = c.cl ? tf.reshape(u, [c.N, S, c.C]) : tf.reshape(u, [c.N, c.C, S]);
              return tf.add(tf.mul(ur, gamma), beta);
            });
            const out = y.dataSync() as Float32Array;
            y.dispose();
            return out;
          },
          dispose() { gamma.dispose(); beta.dispose(); },
        };
      },
    };
  } catch (e) {
    return `tfjs-backend-wasm not loadable: ${(e as Error).message.split('\n')[0]}`;
  }
}

function normal(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  let a = seed >>> 0;
  const r = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

const median = (a: number[]) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]!; };

const impls: Impl[] = [ours, layerNorm];
for (const p of [await ortImpl(), await tfjsImpl()]) {
  if (typeof p === 'string') console.log(`skipped: ${p}`);
  else impls.push(p);
}
console.log(`Node ${process.version}, ${process.platform}/${process.arch}; median ns/element over interleaved rounds (~${budgetMs} ms per variant per case)\n`);

const rows: string[][] = [];
for (const c of cases) {
  const S = c.spatial.reduce((a, v) => a * v, 1), n = c.N * c.C * S;
  const x = normal(n, 1), w = normal(c.C, 2, 0.5, 1), b = normal(c.C, 3);
  const ref = new Float64Array(n);
  groupNormReference(x, w, b, ref, null, null, c.N, c.C, S, c.G, eps, c.cl);
  const prepared: { name: string; run: Run; dispose(): void | Promise<void>; times: number[] }[] = [];
  for (const impl of impls) {
    const p = await impl.prepare(c, x, w, b);
    const y = await p.run();
    if (p.checked) {
      let err = 0;
      for (let i = 0; i < n; i++) err = Math.max(err, Math.abs(y[i]! - ref[i]!));
      if (!(err <= 1e-3)) { console.log(`${impl.name} on ${c.name}${c.cl ? ' channels-last' : ''}: max abs error ${err} > 1e-3, not timed`); await p.dispose(); continue; }
    }
    prepared.push({ name: impl.name, run: p.run, dispose: p.dispose, times: [] });
  }
  const rounds = 5;
  for (let r = 0; r < rounds; r++) {
    for (const p of prepared) {
      const end = performance.now() + budgetMs / rounds;
      do {
        const t0 = performance.now();
        await p.run();
        p.times.push(performance.now() - t0);
      } while (performance.now() < end || p.times.length < 3 * (r + 1));
    }
  }
  const base = prepared.find((p) => p.name === ours.name)!;
  const ns = (p: { times: number[] }) => (median(p.times) * 1e6) / n;
  for (const p of prepared) {
    rows.push([`${c.name}${c.cl ? ' NHWC' : ' NCHW'}`, p.name, ns(p).toFixed(3), (ns(p) / ns(base)).toFixed(2), String(p.times.length)]);
    await p.dispose();
  }
}
const head = ['case', 'implementation', 'ns/element', 'x groupNorm', 'runs'];
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((v, i) => v.padEnd(width[i]!)).join(' | ')} |`;
console.log([line(head), `|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
