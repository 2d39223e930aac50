// Finishes dist/ after tsc: marks dist/cjs as CommonJS (the package itself is "type": "module",
// so without this Node would read the CommonJS build, and TypeScript its .d.ts, as ESM), and
// copies the raw kernel module for users who compile it themselves (strict CSP, workers, workerd).
import { copyFileSync, writeFileSync } from "node:fs";

const dist = new URL("../dist/", import.meta.url);
writeFileSync(new URL("cjs/package.json", dist), `{ "type": "commonjs" }\n`);
copyFileSync(new URL("../build/layernorm.wasm", import.meta.url), new URL("layernorm.wasm", dist));
