// A dependency-free SVG line chart over categorical shapes with a log-scale y axis. Each series
// is named at its right end (no legend to match colours against); end labels are pushed apart
// so they never overlap. The y axis spans the data to the nearest 1-2-5 tick, not to whole
// decades, so no band of the chart is empty.
export interface Series {
  name: string;
  values: (number | undefined)[];
  color: string;
  /** Stroke width: the library's own series are drawn thicker. */
  width?: number;
  /** SVG stroke-dasharray, for baselines. */
  dash?: string;
  /** Shown after the name in the end label (e.g. the range of the values). */
  note?: string;
  /** Points drawn at each value (default true). */
  markers?: boolean;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  categories: string[];
  series: Series[];
  yLabel: string;
  /** Tick label text. */
  tick?: (v: number) => string;
  /** Value tooltip text. */
  value?: (v: number) => string;
  /** Notes written just above and below the horizontal line at y = 1 (drawn when given). */
  aboveOne?: string;
  belowOne?: string;
}

/** Where things land, for tests: plot box, y domain and the end labels' boxes. */
export interface ChartLayout {
  plot: { left: number; right: number; top: number; bottom: number };
  domain: [number, number];
  labels: { name: string; y: number; height: number }[];
}

const W = 960, H = 560, L = 64, R = 210, T = 72, B = 48, LABEL_H = 15;
const HALO = `stroke="white" stroke-width="4" paint-order="stroke"`;
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
const plain = (v: number) => (v >= 1 ? String(v) : v.toPrecision(1));
/** Index of the last positive value, -1 if none. */
function lastPoint(values: (number | undefined)[]): number {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== undefined && values[i]! > 0) return i;
  return -1;
}

/** The 1-2-5 ticks from the largest one <= lo to the smallest one >= hi. */
export function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) out.push(Number((m * 10 ** e).toPrecision(1)));
  }
  const first = out.filter((t) => t <= lo).length - 1, last = out.findIndex((t) => t >= hi);
  return out.slice(first, last + 1);
}

export function layout(spec: ChartSpec): ChartLayout {
  const all = spec.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && v > 0));
  const t = ticks(Math.min(...all), Math.max(...all));
  const domain: [number, number] = [t[0]!, t[t.length - 1]!];
  const plot = { left: L, right: W - R, top: T, bottom: H - B };
  const y = yScale(plot, domain);
  const wanted = spec.series.filter((s) => lastPoint(s.values) >= 0)
    .map((s) => ({ name: s.name, y: y(s.values[lastPoint(s.values)]!), height: LABEL_H }));
  // Push labels apart: down from the top, then back up from the bottom edge.
  const labels = [...wanted].sort((a, b) => a.y - b.y);
  for (let i = 1; i < labels.length; i++) labels[i]!.y = Math.max(labels[i]!.y, labels[i - 1]!.y + LABEL_H);
  const floor = plot.bottom + B / 2;
  if (labels.length && labels[labels.length - 1]!.y > floor) labels[labels.length - 1]!.y = floor;
  for (let i = labels.length - 2; i >= 0; i--) labels[i]!.y = Math.min(labels[i]!.y, labels[i + 1]!.y - LABEL_H);
  return { plot, domain, labels };
}

function yScale(plot: ChartLayout["plot"], [lo, hi]: [number, number]): (v: number) => number {
  return (v) => plot.top + ((plot.bottom - plot.top) * (Math.log10(hi) - Math.log10(v))) / (Math.log10(hi) - Math.log10(lo) || 1);
}

export function lineChart(spec: ChartSpec): string {
  const { plot, domain, labels } = layout(spec);
  const y = yScale(plot, domain);
  const x = (i: number) => plot.left + ((plot.right - plot.left) * (i + 0.5)) / spec.categories.length;
  const tick = spec.tick ?? plain, value = spec.value ?? ((v: number) => v.toPrecision(3));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="13">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="26" font-size="18" font-weight="bold">${esc(spec.title)}</text>`,
    ...(spec.subtitle ? [`<text x="${L}" y="48" fill="#444">${esc(spec.subtitle)}</text>`] : []),
    `<text transform="translate(16 ${(plot.top + plot.bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#444">${esc(spec.yLabel)}</text>`,
  ];
  for (const v of ticks(...domain)) {
    const yy = y(v).toFixed(1), major = /^1/.test(String(v));
    out.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${yy}" y2="${yy}" stroke="${major ? "#bbb" : "#e6e6e6"}"/>`);
    out.push(`<text x="${plot.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#444">${esc(tick(v))}</text>`);
  }
  spec.categories.forEach((c, i) => out.push(`<text x="${x(i).toFixed(1)}" y="${plot.bottom + 20}" text-anchor="middle" fill="#444">${esc(c)}</text>`));
  const notes: string[] = []; // drawn over the lines, with a white halo
  if (spec.aboveOne !== undefined && 1 > domain[0] && 1 < domain[1]) {
    notes.push(`<text x="${plot.left + 6}" y="${(y(1) - 8).toFixed(1)}" ${HALO} fill="#444" font-style="italic">${esc(spec.aboveOne)}</text>`);
    notes.push(`<text x="${plot.left + 6}" y="${(y(1) + 18).toFixed(1)}" ${HALO} fill="#444" font-style="italic">${esc(spec.belowOne ?? "")}</text>`);
  }
  // Thicker (emphasised) series last, so they are drawn on top.
  const order = [...spec.series].sort((a, b) => (a.width ?? 2) - (b.width ?? 2));
  for (const s of order) {
    const pts = s.values.map((v, i) => (v === undefined || v <= 0 ? null : { x: x(i), y: y(v), v }));
    let d = "";
    pts.forEach((p, i) => { if (p) d += `${d && pts[i - 1] ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)} `; });
    out.push(`<path d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="${s.width ?? 2}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""} stroke-linejoin="round"/>`);
    if (s.markers === false) continue;
    const r = (s.width ?? 2) + 1.5;
    pts.forEach((p, i) => {
      if (p) out.push(`<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="${r}" fill="${s.color}" stroke="white" stroke-width="1"><title>${esc(`${s.name}, ${spec.categories[i]}: ${value(p.v)}`)}</title></circle>`);
    });
  }
  out.push(...notes);
  for (const l of labels) {
    const s = spec.series.find((k) => k.name === l.name)!;
    const j = lastPoint(s.values), from = { x: x(j), y: y(s.values[j]!) };
    const lx = plot.right + 14;
    out.push(`<path d="M${from.x.toFixed(1)},${from.y.toFixed(1)} L${(plot.right + 4).toFixed(1)},${l.y.toFixed(1)}" stroke="${s.color}" stroke-width="1" opacity="0.6"/>`);
    out.push(`<line x1="${plot.right + 4}" x2="${lx + 16}" y1="${l.y.toFixed(1)}" y2="${l.y.toFixed(1)}" stroke="${s.color}" stroke-width="${Math.max(2.5, s.width ?? 2)}"${s.dash ? ` stroke-dasharray="${s.dash}"` : ""}/>`);
    out.push(`<text x="${lx + 22}" y="${l.y.toFixed(1)}" dominant-baseline="middle"${(s.width ?? 2) > 2.5 ? ` font-weight="bold"` : ""}>${esc(s.name)}${s.note ? ` <tspan fill="#555">${esc(s.note)}</tspan>` : ""}</text>`);
  }
  out.push("</svg>");
  return out.join("\n");
}
