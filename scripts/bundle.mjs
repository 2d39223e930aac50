// Bundles the package entry into one minified file per format: Node's ESM loader takes ~1 ms per
// module file, so the 13 files tsc emits cost ~11 ms of cold import against ~3 ms for one bundle.
// ESM keeps the worker pool as a separate chunk (loaded only with threads); CommonJS inlines it.
// tsc still emits the per-file modules and declarations (types; the benchmarks import the
// per-file build together with the registry, so that both share one copy of the runtime).
import { build } from "esbuild";

const common = { entryPoints: ["src/index.ts"], bundle: true, minify: true, platform: "neutral", target: "es2022", legalComments: "none", logLevel: "warning" };
await build({ ...common, format: "esm", splitting: true, outdir: "dist/bundle", chunkNames: "[name]-[hash]" });
await build({ ...common, format: "cjs", outfile: "dist/bundle/index.cjs" });
