// `npm run results:publish [-- run.json]`: makes a comparison run the committed one. Renders it
// (default: the last `npm start`, bench/results/runs/latest.json) into bench/results/latest.*
// and the README's results block. `--check` renders the committed latest.json instead and
// exits 1 if any published file or the README block differs from it.
// The prose around the block quotes figures too: reread it after publishing a new run.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { files, readmeWithResults, type Run } from "./report.js";

const results = new URL("./results/", import.meta.url), readmeUrl = new URL("../README.md", import.meta.url);

/** Every published file with its rendered content, README included (absolute paths). */
export function rendered(run: Run): Map<string, string> {
  const out = new Map(Object.entries(files(run)).map(([name, text]) => [fileURLToPath(new URL(name, results)), text]));
  out.set(fileURLToPath(readmeUrl), readmeWithResults(readFileSync(readmeUrl, "utf8"), run));
  return out;
}

/** Published files whose content is not what the committed latest.json renders to. */
export function stale(): string[] {
  const run = JSON.parse(readFileSync(new URL("latest.json", results), "utf8")) as Run;
  return [...rendered(run)].filter(([path, text]) => !existsSync(path) || readFileSync(path, "utf8") !== text).map(([path]) => path);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes("--check")) {
    const bad = stale();
    if (bad.length) {
      console.error(`not rendered from bench/results/latest.json (run npm run results:publish -- bench/results/latest.json):\n  ${bad.join("\n  ")}`);
      process.exit(1);
    }
    console.log("bench/results and the README results block match bench/results/latest.json");
  } else {
    const source = args[0] ?? fileURLToPath(new URL("runs/latest.json", results));
    if (!existsSync(source)) throw new RangeError(`run file (expected the JSON npm start writes, got no file at ${source})`);
    for (const [path, text] of rendered(JSON.parse(readFileSync(source, "utf8")) as Run)) writeFileSync(path, text);
    console.log(`published ${source} to bench/results/ and README.md; reread the README prose that quotes figures`);
  }
}
