// The committed comparison results: the README block and bench/results/* are exactly what
// bench/results/latest.json renders to (so they cannot drift apart by hand edits or a
// half-finished publish), and the charts' layout holds up: end labels never overlap, and the
// y axis spans the data without an empty tick band.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { layout, ticks, type ChartSpec } from "../bench/chart.js";
import { stale } from "../bench/publish.js";
import { columns, nsChart, nsPerElement, nsSpec, OURS, speedupChart, speedupSpec, type Run } from "../bench/report.js";

const run = JSON.parse(readFileSync(new URL("../bench/results/latest.json", import.meta.url), "utf8")) as Run;

it("README results block and bench/results/* are rendered from latest.json (npm run results:publish)", () => {
  expect(stale()).toEqual([]);
});

function expectReadable(spec: ChartSpec): void {
  const { plot, domain, labels } = layout(spec);
  expect(labels.map((l) => l.name).sort()).toEqual(spec.series.map((s) => s.name).sort());
  const ys = labels.map((l) => l.y).sort((a, b) => a - b);
  for (let i = 1; i < ys.length; i++) expect(ys[i]! - ys[i - 1]!, `labels ${i - 1} and ${i}`).toBeGreaterThanOrEqual(labels[0]!.height);
  for (const y of ys) expect(y > 0 && y < plot.bottom + 40, `label at y ${y}`).toBe(true);
  const values = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const t = ticks(...domain);
  expect(domain[0]).toBeLessThanOrEqual(Math.min(...values));
  expect(t[1]!).toBeGreaterThan(Math.min(...values)); // no empty band at the bottom
  expect(domain[1]).toBeGreaterThanOrEqual(Math.max(...values));
  expect(t[t.length - 2]!).toBeLessThan(Math.max(...values)); // nor at the top
}

describe("charts", () => {
  it("ticks are 1-2-5 steps just covering the range", () => {
    expect(ticks(0.15, 265)).toEqual([0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500]);
    expect(ticks(3, 4)).toEqual([2, 5]);
    expect(ticks(1, 10)).toEqual([1, 2, 5, 10]);
  });

  it("end labels of series ending on the same value are pushed apart, inside the chart", () => {
    const spec: ChartSpec = { title: "t", categories: ["a", "b"], yLabel: "y", series: Array.from({ length: 12 }, (_, k) => ({ name: `s${k}`, values: [k + 1, 1], color: "#000" })) };
    expectReadable(spec);
  });

  it("the committed run's speed-up chart: one line per alternative, ours at 1x; readable", () => {
    const svg = speedupChart(run);
    for (const name of ["ort-web", "tfjs-wasm", "ort-node", "tuned JS", "native C", "layernorm-wasm"]) expect(svg).toContain(`>${name} <tspan`);
    // the tooltip of tfjs-wasm at 1x64 is its time over ours
    const ratio = nsPerElement(run, "tfjs-wasm", "1x64")! / nsPerElement(run, OURS, "1x64")!;
    expect(svg).toContain(`<title>tfjs-wasm, 1x64: ${ratio.toFixed(ratio >= 100 ? 0 : ratio >= 10 ? 1 : 2)}x</title>`);
  });

  it("the committed run's ns/element chart names every implementation", () => {
    const svg = nsChart(run);
    for (const name of columns(run)) expect(svg).toContain(`>${name} <tspan`);
  });

  it("layout of both committed charts: no overlapping labels, no empty axis band", () => {
    expectReadable(speedupSpec(run));
    expectReadable(nsSpec(run));
  });
});
