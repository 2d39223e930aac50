// Unknown option keys: a TypeError that names the key, suggests the nearest valid one and lists
// them all. No imports, so any module (runtime.ts, call.ts) can use it without a cycle.

/** `where`: unknown option `k`, the nearest of `keys` suggested (case and one typo apart, or a third of it). */
export function unknownOption(where: string, k: string, keys: readonly string[]): TypeError {
  let best = "", dist = Infinity;
  for (const v of keys) {
    const d = editDistance(k.toLowerCase(), v.toLowerCase());
    if (d < dist) { dist = d; best = v; }
  }
  const hint = dist <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean "${best}"?)` : "";
  return new TypeError(`${where}: unknown option "${k}"${hint}; expected one of ${keys.join(", ")}`);
}

/** Optimal string alignment distance (an adjacent swap counts as one edit). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const swap = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1] ? prev[j - 2]! : Infinity;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1), swap);
    }
    prev = cur;
  }
  return prev[b.length]!;
}
