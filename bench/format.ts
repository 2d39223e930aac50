// Number and table formatting shared by the benchmarks and the results report (no imports, so
// publishing results does not need a build).

/** A markdown table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => (i ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(" | ")} |`;
  return [line(head), `|${w.map((x, i) => (i ? "-".repeat(x + 1) + ":" : ":" + "-".repeat(x + 1))).join("|")}|`, ...rows.map(line)].join("\n");
}

export const fmt = (v: number, digits = 2): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(digits));
