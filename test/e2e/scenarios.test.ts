// Every place a user will put the package, each loading it the way that user would, from the
// packed tarball installed by setup.ts: Node CommonJS and ESM, a Vite app, a plain module page,
// a Web Worker, and strict-CSP pages. Each runs fixtures/case.js and must return the bits Node
// computes, so the browser's wasm, Node's wasm and the JS fallback are compared with each other.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { serve, type Served } from "../../scripts/serve.js";
import { launch, open, result } from "./browser.js";

interface CaseResult { backend: string; y: number[]; yTensor: number[]; mean: number[]; invStdDev: number[] }

const consumer = inject("consumer");
const node = (file: string) => JSON.parse(execFileSync(process.execPath, [file], { cwd: consumer, encoding: "utf8" }));

/** The same bits as the reference, from the expected backend, tensors agreeing with arrays. */
function expectSame(got: CaseResult | undefined, backend: string): void {
  expect(got, "scenario returned no result").toBeDefined();
  expect((got as { error?: string }).error).toBeUndefined();
  expect(got!.backend).toBe(backend);
  for (const k of ["y", "yTensor", "mean", "invStdDev"] as const) expect(got![k], k).toEqual(reference[k]);
}

let reference: CaseResult;
let browser: Browser;
const servers: Served[] = [];

beforeAll(async () => {
  reference = node("node-esm.mjs").inline;
  expect(reference.y.length).toBeGreaterThan(0);
  expect(reference.y).toEqual(reference.yTensor);
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.close()));
});

async function served(dir: string, headers?: Record<string, string>): Promise<string> {
  const s = await serve(dir, { headers: () => headers ?? {} });
  servers.push(s);
  return s.url;
}

describe("Node", () => {
  it("ESM import gets the ESM build; inlined kernels, the exported .wasm and the JS fallback agree", () => {
    const r = node("node-esm.mjs");
    expect(r.resolved).toMatch(/node_modules\/layernorm-wasm\/dist\/bundle\/index\.js$/);
    expectSame(r.inline, "wasm");
    expectSame(r.fromFile, "wasm");
    expectSame(r.js, "js");
  });

  it("CommonJS require gets the CommonJS build; same bits", () => {
    const r = node("node-cjs.cjs");
    expect(r.resolved).toMatch(/node_modules\/layernorm-wasm\/dist\/bundle\/index\.cjs$/);
    expectSame(r.inline, "wasm");
    expectSame(r.fromFile, "wasm");
  });
});

describe("Chromium", () => {
  it("a Vite app importing the package by name: built, served, run (inlined kernels and the .wasm asset)", async () => {
    const root = join(consumer, "vite-app");
    // assetsInlineLimit 0: Vite would inline a 3 KB .wasm as a data: URL; force the emitted-file
    // path, the one bundler users report 404s from.
    await build({ root, configFile: false, logLevel: "warn", build: { outDir: "dist", emptyOutDir: true, assetsInlineLimit: 0 } });
    expect(readdirSync(join(root, "dist/assets")).some((f) => f.endsWith(".wasm"))).toBe(true);
    const { page, errors } = await open(browser, await served(join(root, "dist")));
    const r = await result<{ inline: CaseResult; fromUrl: CaseResult; wasmUrl: string }>(page);
    expectSame(r.inline, "wasm");
    expectSame(r.fromUrl, "wasm");
    expect(errors).toEqual([]);
  });

  it("a plain <script type=\"module\"> page with an import map, no bundler", async () => {
    const { page, errors } = await open(browser, (await served(consumer)) + "plain.html");
    expectSame(await result<CaseResult>(page), "wasm");
    expect(errors).toEqual([]);
  });

  it("inside a module Web Worker: compiling the inlined kernels, or given a WebAssembly.Module by the page", async () => {
    const { page, errors } = await open(browser, (await served(consumer)) + "worker.html");
    const r = await result<{ inline: CaseResult & { inWorker: boolean }; given: CaseResult & { inWorker: boolean } }>(page);
    expectSame(r.inline, "wasm");
    expectSame(r.given, "wasm");
    expect(r.inline.inWorker && r.given.inWorker).toBe(true);
    expect(errors).toEqual([]);
  });

  it("strict CSP allowing only 'wasm-unsafe-eval': a precompiled module from the .wasm file, no violations", async () => {
    const policy = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'";
    const { page, errors } = await open(browser, (await served(consumer, { "content-security-policy": policy })) + "csp.html?module");
    const r = await result<CaseResult & { compiled: boolean; violations: string[] }>(page);
    expect(r.compiled).toBe(true);
    expectSame(r, "wasm");
    expect(r.violations).toEqual([]);
    expect(errors).toEqual([]);
  });

  it("CSP that forbids all wasm compilation: the default backend falls back to JS, same bits", async () => {
    const policy = "default-src 'none'; script-src 'self'; connect-src 'self'";
    const { page, errors } = await open(browser, (await served(consumer, { "content-security-policy": policy })) + "csp.html");
    const r = await result<CaseResult & { violations: string[] }>(page);
    expectSame(r, "js");
    expect(r.violations).toEqual(["script-src wasm-eval"]); // one refused compile: the answer is remembered
    expect(errors).toEqual([]);
  });
});

it("the fixtures ran from the installed tarball, not from the repository", () => {
  expect(existsSync(join(consumer, "node_modules/layernorm-wasm/package.json"))).toBe(true);
  expect(existsSync(join(consumer, "node_modules/layernorm-wasm/src"))).toBe(false);
});
