// The demo page as `npm run demo` serves it, in headless Chromium: the BatchNorm/LayerNorm grids
// react to selection and padding, the benchmark finishes with numbers in its table, and a
// screenshot is saved to test-results/demo.png.
import { mkdirSync } from "node:fs";
import { expect, it } from "vitest";
import { startDemo } from "../../scripts/demo.js";
import { launch, open } from "./browser.js";

interface Bench { backends: string[]; results: { op: string; shape: string; backend: string; nsPerElement: number; usPerCall: number }[] }

it("demo: grids, padding toggle, in-browser benchmark with numbers; screenshot saved", async () => {
  const demo = await startDemo();
  const browser = await launch();
  try {
    const { page, errors } = await open(browser, demo.page);
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true); // the server's COOP/COEP headers

    await page.waitForSelector("html[data-bench=done], html[data-bench=error]", { timeout: 90_000 });
    expect(await page.getAttribute("html", "data-bench"), await page.textContent("#bench-status") ?? "").toBe("done");
    const bench = await page.evaluate(() => (window as unknown as { benchResults: Bench }).benchResults);
    expect(bench.backends).toEqual(expect.arrayContaining(["wasm zero-copy", "wasm copying", "JS fallback"]));
    expect(bench.backends.some((b) => /^wasm \d+ threads$/.test(b)), `backends: ${bench.backends}`).toBe(true); // isolated page: threads
    expect(new Set(bench.results.map((r) => r.op))).toEqual(new Set(["layerNorm", "rmsNorm"]));
    const cells = await page.$$eval("#bench-table td[data-ns]", (tds) => tds.map((td) => Number((td as HTMLElement).dataset.ns)));
    expect(cells.length).toBe(bench.results.length);
    expect(cells.length).toBeGreaterThanOrEqual(4 * 3);
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

    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: "test-results/demo.png", fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
    await demo.close();
  }
});
