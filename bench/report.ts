// What the comparison (`npm start`) reports, rendered from its run file alone: the markdown
// tables, the speed-up chart, the ns/element chart and the README's results block. compare.ts
// renders a fresh run with it; publish.ts renders the committed one, so the published tables and
// charts always come from one JSON file and can be re-rendered without re-running anything.
import { lineChart, type ChartSpec, type Series } from "./chart.js";
import { fmt, table } from "./format.js";

/** One comparison run, as compare.ts writes it. */
export interface Run {
  environment: string;
  mode: string;
  shapes: string[];
  /** Name -> description, in column order; the memory.copy roof last. */
  implementations: Record<string, string>;
  nsPerElement: Record<string, Record<string, number>>;
  maxAbsError: Record<string, Record<string, number>>;
  native: Record<string, number>;
  nativeNote: string;
  cold: { importInitMs: number; firstCallMs: number };
  wasmBytes: number;
  wasmGzipBytes: number;
}

export const OURS = "wasm zero-copy", ROOF = "memory.copy", NATIVE = "native C";

// Okabe-Ito colours (distinguishable with the common colour-vision deficiencies); the library's
// own series in black, its zero-copy path thickest; baselines dashed.
const STYLE: Record<string, Pick<Series, "color" | "width" | "dash">> = {
  [OURS]: { color: "#000000", width: 4 },
  "wasm copying": { color: "#000000", width: 2, dash: "8 4" },
  "JS fallback": { color: "#000000", width: 2, dash: "2 3" },
  "ort-web": { color: "#D55E00" },
  "ort-node": { color: "#0072B2" },
  "tfjs-wasm": { color: "#E69F00" },
  "tuned JS": { color: "#009E73" },
  "naive JS": { color: "#CC79A7" },
  [NATIVE]: { color: "#56B4E9", dash: "7 4" },
  [ROOF]: { color: "#888888", dash: "3 3" },
};
const style = (name: string) => STYLE[name] ?? { color: "#666666", dash: "1 2" };

/** Columns of the ns/element table: every implementation, then native C (if it ran), the roof. */
export function columns(run: Run): string[] {
  const impls = Object.keys(run.implementations).filter((k) => k !== ROOF);
  return [...impls, ...(Object.keys(run.native).length ? [NATIVE] : []), ROOF];
}

export function nsPerElement(run: Run, impl: string, shape: string): number | undefined {
  return impl === NATIVE ? run.native[shape] : run.nsPerElement[impl]?.[shape];
}

const shapeSize = (s: string) => s.split("x").map(Number).reduce((a, b) => a * b, 1);

/** The two tables the README shows: ns/element, and ratios for the zero-copy path. */
export function tables(run: Run): { ns: string; ratios: string } {
  const get = (impl: string, s: string) => nsPerElement(run, impl, s);
  const cols = columns(run);
  const ns = table(["shape", ...cols], run.shapes.map((s) => [s, ...cols.map((k) => { const v = get(k, s); return v === undefined ? "-" : fmt(v); })]));
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? "-" : `${fmt(a / b, 2)}x`);
  const ratios = table(
    ["shape", "ort-web / ours", "tfjs-wasm / ours", "ours / native C", "ours / memory.copy", "JS fallback / naive JS", "ours us/call"],
    run.shapes.map((s) => {
      const z = get(OURS, s);
      return [s, ratio(get("ort-web", s), z), ratio(get("tfjs-wasm", s), z), ratio(z, get(NATIVE, s)), ratio(z, get(ROOF, s)), ratio(get("JS fallback", s), get("naive JS", s)), z === undefined ? "-" : fmt((z * shapeSize(s)) / 1000, 3)];
    }),
  );
  return { ns, ratios };
}

const tablesText = (run: Run) => {
  const t = tables(run);
  return ["ns per element (lower is better):", "", t.ns, "", "Ratios for the zero-copy wasm path (peer time / ours: higher is better; ours / baseline: lower is better):", "", t.ratios];
};

/** The whole report: environment, both tables, the headline figures, the native C note. */
export function markdown(run: Run): string {
  const get = (impl: string, s: string) => nsPerElement(run, impl, s);
  const has = (s: string) => get(OURS, s) !== undefined;
  const minOver = (impl: string) => Math.min(...run.shapes.map((s) => (get(impl, s) ?? NaN) / (get(OURS, s) ?? NaN)).filter((v) => !Number.isNaN(v)));
  const summary = [
    `- speed-up over onnxruntime-web: min ${fmt(minOver("ort-web"), 1)}x across the grid; over tfjs-wasm: min ${fmt(minOver("tfjs-wasm"), 1)}x`,
    ...["512x768", "32x4096", "4096x64"].filter((s) => get(NATIVE, s) !== undefined && has(s)).map((s) => `- ${s}: ${fmt(get(OURS, s)!)} ns/el vs native C ${fmt(get(NATIVE, s)!)} = ${fmt(get(OURS, s)! / get(NATIVE, s)!, 2)}x`),
    ...(has("4096x4096") && get(ROOF, "4096x4096") !== undefined ? [`- 4096x4096: ${fmt(get(OURS, "4096x4096")!)} ns/el vs memory.copy ${fmt(get(ROOF, "4096x4096")!)} = ${fmt(get(OURS, "4096x4096")! / get(ROOF, "4096x4096")!, 2)}x`] : []),
    ...["1x64", "1x768"].filter(has).map((s) => `- per call, zero-copy, ${s}: ${fmt((get(OURS, s)! * shapeSize(s)) / 1000, 3)} us`),
    `- JS fallback vs naive JS: worst ${fmt(Math.max(...run.shapes.map((s) => (get("JS fallback", s) ?? 0) / (get("naive JS", s) ?? Infinity))), 2)}x (time ratio; < 1 = faster)`,
    `- wasm binary: ${run.wasmBytes} B (${run.wasmGzipBytes} B gzipped); cold import + init ${fmt(run.cold.importInitMs, 2)} ms, first call ${fmt(run.cold.firstCallMs, 2)} ms (median of 5 fresh processes)`,
  ];
  return [run.environment, "", ...tablesText(run), "", ...summary, ...(run.nativeNote ? ["", run.nativeNote] : [])].join("\n");
}

const cpuAndDate = (run: Run) => { const parts = run.environment.split(", "); return `${parts[1]}, ${parts[2]}, ${parts[parts.length - 1]}`; };
const range = (vs: (number | undefined)[], unit = "") => {
  const d = vs.filter((v): v is number => v !== undefined);
  const f = (v: number) => (v < 1 ? v.toPrecision(2) : fmt(v, 1));
  return d.length ? `${f(Math.min(...d))}-${f(Math.max(...d))}${unit}` : "";
};

/**
 * The headline: for each alternative, its time divided by ours (zero-copy) per shape; ours is
 * the line at 1x. Naive JS is left out (tuned JS is the stronger plain-JS baseline and the two
 * lines would lie on each other) and so is the memory.copy roof (no LayerNorm); both are in the
 * ns/element chart.
 */
export function speedupSpec(run: Run): ChartSpec {
  const alternatives = ["ort-web", "tfjs-wasm", "ort-node", "tuned JS", NATIVE].filter((k) => run.shapes.some((s) => nsPerElement(run, k, s) !== undefined));
  const series: Series[] = alternatives.map((k) => {
    const values = run.shapes.map((s) => { const a = nsPerElement(run, k, s), z = nsPerElement(run, OURS, s); return a === undefined || z === undefined ? undefined : a / z; });
    return { name: k, values, note: range(values, "x"), ...style(k), width: 2.5 };
  });
  series.push({ name: "layernorm-wasm", values: run.shapes.map(() => 1), note: "= 1x", color: "#000000", width: 4, markers: false });
  return {
    title: "LayerNorm: how many times faster layernorm-wasm is",
    subtitle: `each alternative's time / layernorm-wasm's (zero-copy tensors), per shape rows x D; ${cpuAndDate(run)}`,
    categories: run.shapes,
    series,
    yLabel: "speed-up of layernorm-wasm (log scale)",
    tick: (v) => `${v}x`,
    value: (v) => `${fmt(v, 2)}x`,
    aboveOne: "↑ layernorm-wasm faster",
    belowOne: "↓ alternative faster",
  };
}

/** Detail: every implementation's ns per element by shape. */
export function nsSpec(run: Run): ChartSpec {
  const series: Series[] = columns(run).map((k) => {
    const values = run.shapes.map((s) => nsPerElement(run, k, s));
    return { name: k, values, note: range(values), ...style(k) };
  });
  return {
    title: "LayerNorm: ns per element by shape (lower is better)",
    subtitle: `layernorm-wasm in black (zero-copy thickest); baselines dashed; ${cpuAndDate(run)}`,
    categories: run.shapes,
    series,
    yLabel: "ns per element (log scale)",
    value: (v) => `${fmt(v)} ns/element`,
  };
}

export const speedupChart = (run: Run): string => lineChart(speedupSpec(run));
export const nsChart = (run: Run): string => lineChart(nsSpec(run));

/** Files under bench/results/ that a published run consists of. */
export function files(run: Run): Record<string, string> {
  return {
    "latest.json": `${JSON.stringify(run, null, 2)}\n`,
    "latest.md": `${markdown(run)}\n`,
    "latest.svg": nsChart(run),
    "latest-speedup.svg": speedupChart(run),
  };
}

export const BEGIN = "<!-- results: generated by `npm run results:publish` from bench/results/latest.json; edit bench/report.ts, not this block -->";
export const END = "<!-- /results -->";

/** The README with its results block (charts, environment, tables) rendered from `run`. */
export function readmeWithResults(readme: string, run: Run): string {
  const i = readme.indexOf(BEGIN), j = readme.indexOf(END);
  if (i < 0 || j < i) throw new RangeError(`README results block (expected "${BEGIN}" ... "${END}", got ${i < 0 ? "no start marker" : "no end marker after it"})`);
  const block = [
    BEGIN,
    "",
    "![LayerNorm: speed-up of layernorm-wasm over each alternative, per shape](bench/results/latest-speedup.svg)",
    "",
    "![LayerNorm: ns per element of every implementation, per shape](bench/results/latest.svg)",
    "",
    "```",
    run.environment,
    "```",
    "",
    ...tablesText(run),
    "",
    "",
  ].join("\n");
  return readme.slice(0, i) + block + readme.slice(j);
}
