// What a browser user downloads, gzipped: the whole ESM entry bundled and minified by Vite (the
// kernels are inlined in it as base64), the same files unbundled as a plain module page loads
// them, and the raw .wasm for those who compile it themselves. `npm run size` prints it;
// test/e2e/package.test.ts holds the package to BUDGET.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, type Rolldown } from "vite";

/**
 * Gzipped bytes of the bundled, minified ESM entry (all exports, kernels included). Raised from
 * 21 kB to 31 kB: the signature layer (option snapshots, intrinsic array checks, unknown-key
 * suggestions) and the pool's failure diagnosis took ~1.5 kB, GroupNorm/InstanceNorm ~7 kB
 * (their kernels doubled the module: 7.9 -> 15.7 kB, 3.5 -> 6.5 kB gzipped). Then to 33 kB: the
 * repeated-call memo, the one-piece staging path and the warning's reasons took the bundle
 * from 29.5 to 31.8 kB. Then to 34 kB: LayerNorm's f32 two-pass statistics (a 1.4-1.56x faster
 * kernel) and its JS twin took it to 33.5 kB (module 16.5 -> 18.3 kB, 6.9 -> 7.5 kB gzipped).
 * Then to 36 kB: GroupNorm/InstanceNorm on LayerNorm's f32 statistics (the channels-last
 * 16-channel tile beside the f64 lane tile it still needs for C < 16, S < 128 and the rows the
 * two-pass sends back; 1.3-2.1x faster NCHW and channels-last at the peer shapes) took it to
 * 35.5 kB (module 18.3 -> 22.5 kB, 7.5 -> 8.9 kB gzipped). Then to 37 kB: the backward passes'
 * f32 row and column sums (pass A in 16 f32 lanes, the f64 row sums kept for rows whose f32 sums
 * overflow, the block promotion; 1.1-1.36x faster backward) and the twin's f32 lanes took it to
 * 36.3 kB (module 22.5 -> 23.7 kB, 8.9 -> 9.4 kB gzipped); the vectorised fold output, 36.4 kB.
 * Then to 38 kB: loop copies of the element pass for the usual weight/bias combinations (normRow
 * and rmsNorm; 1.17-1.5x faster rmsNorm and skipRmsNorm) took it to 36.97 kB (module 24.1 ->
 * 24.9 kB, 9.4 -> 9.6 kB gzipped), at the old budget's edge. Then to 40 kB: runtime options checked
 * before anything is made (unknown keys with a suggestion, kinds and ranges), the kernel module's
 * exports checked, module constructors' options read and checked as the ops' are, torch's edge
 * cases (empty batches, one value per group): 38.7 kB (100.7 -> 105.1 kB raw; V8 compiles ~37 kB
 * of code per ms here, so ~0.1 ms more at import).
 */
export const BUDGET = 40_000;

export interface Size { bytes: number; gzip: number }
export interface Sizes { bundled: Size; lazy: Size; unbundled: Size; wasm: Size }

const gz = (b: Uint8Array | string): number => gzipSync(b, { level: 9 }).length;
const size = (b: Uint8Array | string): Size => ({ bytes: Buffer.byteLength(b), gzip: gz(b) });

/** Sizes of the package in `pkgDir` (its built dist/). */
export async function measure(pkgDir: string): Promise<Sizes> {
  const dist = resolve(pkgDir, "dist");
  // An app build whose entry keeps every export alive (lib mode would keep whitespace in ES output).
  const entry = `import * as lib from ${JSON.stringify(join(dist, "bundle/index.js"))}; globalThis.layernorm = lib;`;
  const out = (await build({
    configFile: false,
    logLevel: "silent",
    plugins: [{ name: "entry", resolveId: (id) => (id === "entry" ? "\0entry" : undefined), load: (id) => (id === "\0entry" ? entry : undefined) }],
    build: { write: false, rollupOptions: { input: "entry" } },
  })) as Rolldown.RolldownOutput | Rolldown.RolldownOutput[];
  // The entry chunk is what every user downloads; the worker pool is a separate chunk that only
  // init({ threads }) / Runtime.create({ threads }) loads.
  const all = [out].flat().flatMap((o) => o.output).filter((o) => o.type === "chunk");
  const chunks = all.filter((c) => c.isEntry);
  if (chunks.length !== 1) throw new Error(`expected one entry chunk, got ${chunks.length}`);
  const lazy = all.filter((c) => !c.isEntry).map((c) => size(c.code)).reduce((a, b) => ({ bytes: a.bytes + b.bytes, gzip: a.gzip + b.gzip }), { bytes: 0, gzip: 0 });
  // Unbundled: every ESM .js file under dist/ except the CommonJS build and test-only modules.
  const files = walk(join(dist, "bundle")).filter((f) => f.endsWith(".js"));
  const unbundled = files.map((f) => size(readFileSync(f))).reduce((a, b) => ({ bytes: a.bytes + b.bytes, gzip: a.gzip + b.gzip }));
  return { bundled: size(chunks[0]!.code), lazy, unbundled, wasm: size(readFileSync(join(dist, "layernorm.wasm"))) };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

export function report(s: Sizes): string {
  const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
  return [
    `bundled + minified (Vite), kernels inlined: ${kb(s.bundled.bytes)}, gzip ${kb(s.bundled.gzip)} (budget ${kb(BUDGET)})`,
    `+ worker pool, loaded only with threads:    ${kb(s.lazy.bytes)}, gzip ${kb(s.lazy.gzip)}`,
    `ESM files a plain module page loads:        ${kb(s.unbundled.bytes)}, gzip ${kb(s.unbundled.gzip)} (sum of per-file gzip; includes the pool chunk)`,
    `layernorm.wasm alone:                       ${kb(s.wasm.bytes)}, gzip ${kb(s.wasm.gzip)}`,
  ].join("\n");
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const s = await measure(fileURLToPath(new URL("..", import.meta.url)));
  console.log(report(s));
  if (s.bundled.gzip > BUDGET) {
    console.error(`over budget by ${s.bundled.gzip - BUDGET} bytes`);
    process.exitCode = 1;
  }
}
