// The README's recipes ("Browsers, bundlers, workers and CSP"), run verbatim against the packed
// tarball that setup.ts installed: each block marked `<!-- recipe: NAME (file, how) -->` is
// written to the file it names in a fresh folder of the consumer project and run the way the
// README says (Node; a page served as is; a page built by Vite), and must print LayerNorm's
// output. A fenced block there without a marker fails the test, so no recipe goes unchecked.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serve, type Served } from "../../scripts/serve.js";
import { launch, open } from "./browser.js";

const consumer = inject("consumer");
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const title = "\n## Browsers, bundlers, workers and CSP\n";
const start = readme.indexOf(title);
const section = readme.slice(start, readme.indexOf("\n## ", start + title.length));
const blocks = [...section.matchAll(/(?:<!-- recipe: ([\w-]+)[^\n]*-->\n)?```\w*\n([\s\S]*?)```/g)];
const recipes = new Map(blocks.filter((b) => b[1]).map((b) => [b[1]!, b[2]!]));
const recipe = (name: string): string => {
  const code = recipes.get(name);
  if (code === undefined) throw new Error(`README recipe "${name}" not found (have: ${[...recipes.keys()].join(", ")})`);
  return code;
};

/** layerNorm([1, 2, 3, 4], 4) with the default eps, in float64. */
const expected = [1, 2, 3, 4].map((v) => (v - 2.5) / Math.sqrt(1.25 + 1e-5));
function expectLayerNorm(got: unknown): void {
  const values = Object.values(got as Record<string, number>); // a Float32Array arrives as {0: .., 1: ..}
  expect(values.length, JSON.stringify(got)).toBe(4);
  values.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
}

/** A fresh folder of the consumer project holding `files`. */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(consumer, `readme-${name}`);
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return dir;
}

/** Node's printout of a Float32Array, `Float32Array(4) [ a, b, c, d ]`, as numbers. */
function printedArray(stdout: string): number[] {
  const m = /Float32Array\(\d+\) \[([^\]]*)\]/.exec(stdout);
  expect(m, stdout).not.toBeNull();
  return m![1]!.split(",").map(Number);
}

it("every code block of the README's section is a marked recipe, and all of them are here", () => {
  expect(blocks.length).toBeGreaterThan(0);
  expect(blocks.filter((b) => !b[1]).map((b) => b[2])).toEqual([]);
  expect([...recipes.keys()].sort()).toEqual(["csp-header", "csp-module", "import-map", "node-cjs", "node-esm", "worker", "worker-page"]);
});

describe("Node", () => {
  for (const [name, file] of [["node-esm", "index.mjs"], ["node-cjs", "index.cjs"]] as const) {
    it(`${name}: ${file} run with node, printing what its comment shows`, () => {
      const dir = folder(name, { [file]: recipe(name) });
      const printed = printedArray(execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8" }));
      expectLayerNorm(printed);
      const comment = /^\/\/ (Float32Array\(\d+\) \[.*\])$/m.exec(recipe(name));
      expect(comment, "a `// Float32Array(4) [ ... ]` line with the output").not.toBeNull();
      expect(printed).toEqual(printedArray(comment![1]!));
    });
  }
});

describe("Chromium", () => {
  let browser: Browser;
  const servers: Served[] = [];
  beforeAll(async () => { browser = await launch(); });
  afterAll(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  /** Serves `dir`, opens `path` and returns the first argument of each of the first `count` console.logs. */
  async function run(dir: string, path: string, count: number, headers: Record<string, string> = {}): Promise<unknown[]> {
    const server = await serve(dir, { headers: () => headers });
    servers.push(server);
    const { logged, errors } = await open(browser, server.url + path);
    await expect.poll(() => errors.length > 0 || logged.length >= count, { timeout: 30_000 }).toBe(true);
    expect(errors).toEqual([]);
    return (await Promise.all(logged.slice(0, count))).map((args) => args[0]);
  }

  /** A Vite app: index.html loading main.js, plus `files`; built with Vite's defaults. */
  async function viteApp(name: string, files: Record<string, string>): Promise<string> {
    const root = folder(name, { "index.html": `<!doctype html>\n<meta charset="utf-8">\n<script type="module" src="./main.js"></script>\n`, ...files });
    await build({ root, configFile: false, logLevel: "warn", build: { outDir: "dist", emptyOutDir: true } });
    return join(root, "dist");
  }

  it("import-map: the page served from the project root, no bundler", async () => {
    folder("import-map", { "index.html": recipe("import-map") });
    const [y] = await run(consumer, "readme-import-map/index.html", 1);
    expectLayerNorm(y);
  });

  it("worker-page + worker: a module compiled on the page, posted to a module worker (Vite)", async () => {
    const dist = await viteApp("worker", { "main.js": recipe("worker-page"), "worker.js": recipe("worker") });
    const [y] = await run(dist, "", 1);
    expectLayerNorm(y);
  });

  it("csp-module under the csp-header policy: precompiled module, init says wasm, no violations (Vite)", async () => {
    const policy = /^Content-Security-Policy: (.+)$/m.exec(recipe("csp-header"));
    expect(policy).not.toBeNull();
    const dist = await viteApp("csp", { "main.js": recipe("csp-module") });
    const [backend, y] = await run(dist, "", 2, { "content-security-policy": policy![1]! });
    expect(backend).toBe("wasm");
    expectLayerNorm(y);
  });
});
