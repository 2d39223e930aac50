// The demo page as `npm run demo` serves it, in headless Chromium: the BatchNorm/LayerNorm grids
// (both computed by the library) react to selection and padding, the benchmark shows results as
// they come and finishes with numbers in its table, the chart stays legible 420 px wide;
// screenshots go to test-results/demo.png and demo-420.png. Then `npm run demo` itself: no
// rebuild when dist/ is up to date, and no server left listening however its process is stopped.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { staleBuild, startDemo } from "../../scripts/demo.js";
import { batchNorm } from "../../src/index.js";
import { launch, open } from "./browser.js";

interface Bench { backends: string[]; results: { op: string; shape: string; backend: string; nsPerElement: number; usPerCall: number }[] }

it("demo: grids, padding toggle, in-browser benchmark with numbers; screenshot saved", async () => {
  const demo = await startDemo();
  const browser = await launch();
  try {
    const { page, errors } = await open(browser, demo.page);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true); // the server's COOP/COEP headers

    // Results appear as each op and shape finishes, not all at the end.
    await page.waitForSelector("html[data-bench=running] #bench-table td[data-ns], html[data-bench=error]", { timeout: 60_000 });
    const early = await page.$$eval("#bench-table td[data-ns]", (tds) => tds.length);
    expect(await page.$$eval("#bench-chart svg rect title", (ts) => ts.length)).toBe(early);
    await page.waitForSelector("html[data-bench=done], html[data-bench=error]", { timeout: 90_000 });
    expect(await page.getAttribute("html", "data-bench"), await page.textContent("#bench-status") ?? "").toBe("done");
    const bench = await page.evaluate(() => (window as unknown as { benchResults: Bench }).benchResults);
    expect(bench.backends).toEqual(expect.arrayContaining(["wasm zero-copy", "wasm copying", "JS fallback"]));
    expect(bench.backends.some((b) => /^wasm \d+ threads$/.test(b)), `backends: ${bench.backends}`).toBe(true); // isolated page: threads
    expect(new Set(bench.results.map((r) => r.op))).toEqual(new Set(["layerNorm", "rmsNorm"]));
    const cells = await page.$$eval("#bench-table td[data-ns]", (tds) => tds.map((td) => Number((td as HTMLElement).dataset.ns)));
    expect(cells.length).toBe(bench.results.length);
    expect(cells.length).toBeGreaterThanOrEqual(4 * 3);
    expect(early).toBeGreaterThan(0);
    expect(early).toBeLessThan(cells.length);
    for (const ns of cells) expect(ns > 0 && Number.isFinite(ns), `ns/element ${ns}`).toBe(true);
    console.log(`in-browser benchmark (${await page.evaluate(() => navigator.userAgent)}), ns/element (us/call):\n` +
      bench.results.map((r) => `  ${r.op} ${r.shape.padEnd(8)} ${r.backend.padEnd(15)} ${r.nsPerElement.toFixed(2).padStart(6)} (${r.usPerCall.toFixed(2)})`).join("\n"));

    // The grids are exercised after the benchmark, so clicks do not run between its batches.
    // Selecting a cell highlights its groups: a feature column over the real tokens for BatchNorm,
    // the token's own row of 6 features for LayerNorm.
    await page.click("#grid-x .cell >> nth=58"); // (2 * 4 + 1) * 6 + 4: sequence 2, position 1, feature 4
    const selected = await page.$$eval("#grid-ln .cell:not(.param)", (cs) => cs.findIndex((c) => c.classList.contains("selected")));
    expect(selected).toBe(58);
    const groups = () => page.evaluate(() => [document.querySelectorAll("#grid-bn .bn-group").length, document.querySelectorAll("#grid-ln .ln-group").length]);
    expect(await groups()).toEqual([4 + 3 + 2, 6]);
    // Padding joins BatchNorm's statistics, changing every real token's output; LayerNorm's stay bit-identical.
    await page.click("#pad");
    expect(await groups()).toEqual([12, 6]);
    expect(await page.$eval("#pad-summary", (e) => ({ ...(e as HTMLElement).dataset }))).toEqual({ bnChanged: "54", lnChanged: "0", real: "54" });
    // The BatchNorm grid is the library's batchNorm (training statistics over all 12 positions).
    const shown = await page.evaluate(() => {
      const s = (window as unknown as { norms: { shown(): { x: Float32Array; weight: Float32Array; bias: Float32Array; eps: number; padded: boolean; bn: Float32Array } } }).norms.shown();
      return { ...s, x: [...s.x], weight: [...s.weight], bias: [...s.bias], bn: [...s.bn] };
    });
    expect(shown.padded).toBe(true);
    const f32 = (a: number[]) => Float32Array.from(a);
    const bn = batchNorm(f32(shown.x), [12, 6], { channelAxis: -1, training: true, weight: f32(shown.weight), bias: f32(shown.bias), eps: shown.eps });
    expect(shown.bn).toEqual([...bn]);

    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/demo.png", fullPage: true });

    // A phone-sized window: the chart is redrawn at its new width (not scaled down, so its text
    // stays 12 px), and nothing makes the page scroll sideways (the table scrolls in its box).
    await page.setViewportSize({ width: 420, height: 900 });
    const chartBox = () => page.$eval("#bench-chart", (el) => ({ box: el.clientWidth, svg: el.querySelector("svg")!.getBoundingClientRect().width, attr: Number(el.querySelector("svg")!.getAttribute("width")), font: getComputedStyle(el.querySelector("svg text")!).fontSize }));
    await expect.poll(async () => (await chartBox()).attr, { timeout: 5_000 }).toBeLessThanOrEqual(420);
    const narrow = await chartBox();
    expect(narrow.attr).toBe(narrow.box);
    expect(narrow.svg).toBeCloseTo(narrow.attr, 0);
    expect(narrow.font).toBe("12px");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(420);
    await page.screenshot({ path: "test-results/demo-420.png", fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
    await demo.close();
  }
});

describe("npm run demo", () => {
  it("rebuilds only when a build input is newer than dist/, or an output is missing", () => {
    const base = mkdtempSync(join(tmpdir(), "layernorm-wasm-demo-"));
    try {
      const at = (file: string, seconds: number) => {
        mkdirSync(dirname(join(base, file)), { recursive: true });
        writeFileSync(join(base, file), "");
        utimesSync(join(base, file), seconds, seconds);
      };
      for (const f of ["src/index.ts", "src/ops/layerNorm.ts", "assembly/index.ts", "package.json"]) at(f, 1000);
      for (const f of ["dist/index.js", "dist/bundle/index.js", "dist/layernorm.wasm", "dist/ops/layerNorm.js"]) at(f, 2000);
      expect(staleBuild(base)).toBeUndefined();
      at("src/ops/layerNorm.ts", 3000);
      expect(staleBuild(base)).toBe("src/ops/layerNorm.ts is newer than dist/");
      at("src/ops/layerNorm.ts", 1000);
      at("dist/ops/layerNorm.js", 500); // one old output is enough
      expect(staleBuild(base)).toBe("assembly/index.ts is newer than dist/");
      at("dist/ops/layerNorm.js", 2000);
      rmSync(join(base, "dist/layernorm.wasm"));
      expect(staleBuild(base)).toBe("dist/layernorm.wasm is missing");
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  const repo = fileURLToPath(new URL("../..", import.meta.url));
  const freePort = () => new Promise<number>((ok) => { const s = createServer().listen(0, "127.0.0.1", () => { const { port } = s.address() as { port: number }; s.close(() => ok(port)); }); });
  const listening = (url: string) => fetch(url).then(() => true, () => false);

  // A terminal's Ctrl-C signals the whole foreground process group; `kill` and a crashing or
  // killed parent reach npm alone.
  for (const [how, stop] of [
    ["Ctrl-C (SIGINT to the process group)", (pid: number) => process.kill(-pid, "SIGINT")],
    ["SIGTERM to npm", (pid: number) => process.kill(pid, "SIGTERM")],
    ["SIGKILL to npm", (pid: number) => process.kill(pid, "SIGKILL")],
  ] as const) {
    it(`up to date: starts without building; ${how} leaves no server listening`, async () => {
      expect(staleBuild(), "dist/ is older than its sources: run npm run build first").toBeUndefined();
      // detached: its own process group, as in a terminal, so the group can be signalled.
      const npm = spawn("npm", ["run", "demo"], { cwd: repo, env: { ...process.env, PORT: String(await freePort()) }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      npm.stdout.on("data", (d) => (output += d));
      npm.stderr.on("data", (d) => (output += d));
      try {
        await expect.poll(() => /layernorm-wasm demo: (\S+)/.test(output), { timeout: 30_000 }).toBe(true);
        const page = /layernorm-wasm demo: (\S+)/.exec(output)![1]!;
        expect(output).toContain("not rebuilding");
        expect(output).not.toContain("> layernorm-wasm@0.1.0 build");
        const res = await fetch(page);
        expect(res.status).toBe(200);
        expect(res.headers.get("cross-origin-embedder-policy")).toBe("require-corp");
        stop(npm.pid!);
        await expect.poll(() => listening(page), { timeout: 10_000 }).toBe(false);
      } finally {
        try { process.kill(-npm.pid!, "SIGKILL"); } catch { /* already gone */ }
      }
    });
  }
});
