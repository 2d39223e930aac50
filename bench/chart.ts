// A dependency-free SVG line chart: ns/element by shape, log-scale y, one series per implementation.
export interface Series { name: string; values: (number | undefined)[] }

const COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e", "#000000"];
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export function lineChart(title: string, categories: string[], series: Series[], yLabel: string): string {
  const W = 960, H = 540, L = 70, R = 230, T = 50, B = 60;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && v > 0));
  const lo = Math.floor(Math.log10(Math.min(...all))), hi = Math.ceil(Math.log10(Math.max(...all)));
  const x = (i: number) => L + ((W - L - R) * (i + 0.5)) / categories.length;
  const y = (v: number) => T + ((H - T - B) * (hi - Math.log10(v))) / (hi - lo || 1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>`,
    `<text transform="translate(18 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (let e = lo; e <= hi; e++) {
    for (const m of e < hi ? [1, 2, 5] : [1]) {
      const v = m * 10 ** e, yy = y(v).toFixed(1);
      out.push(`<line x1="${L}" x2="${W - R}" y1="${yy}" y2="${yy}" stroke="${m === 1 ? "#ccc" : "#eee"}"/>`);
      out.push(`<text x="${L - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${v >= 1 ? v : v.toPrecision(1)}</text>`);
    }
  }
  categories.forEach((c, i) => out.push(`<text x="${x(i).toFixed(1)}" y="${H - B + 20}" text-anchor="middle">${esc(c)}</text>`));
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length];
    const pts = s.values.map((v, i) => (v === undefined || v <= 0 ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
    let path = "";
    pts.forEach((p, i) => { if (p) path += `${path && pts[i - 1] ? "L" : "M"}${p} `; });
    out.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of pts) if (p) out.push(`<circle cx="${p.split(",")[0]}" cy="${p.split(",")[1]}" r="3" fill="${color}"/>`);
    const ly = T + 10 + k * 20;
    out.push(`<line x1="${W - R + 15}" x2="${W - R + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${W - R + 46}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}
