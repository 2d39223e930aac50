// Deterministic test data: a seeded RNG and the row generators (normal and adversarial).
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(r: () => number): () => number {
  return () => {
    let u = 0;
    while (u === 0) u = r();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  };
}

export function normal(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const g = gaussian(rng(seed));
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = offset + scale * g();
  return a;
}

/** Adversarial row kinds: each fills one row of `cols` values. */
export const rowKinds: Record<string, (row: Float32Array, g: () => number, r: () => number) => void> = {
  normal: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); },
  constant: (row, g) => row.fill(Math.fround(g() * 100)),
  zeros: (row) => row.fill(0),
  negZeros: (row) => row.fill(-0),
  offset40000: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = 40000 + 1e-3 * g(); },
  offset1e6: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = 1e6 + g(); },
  negOffset: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = -123456.7 + 0.01 * g(); },
  denormal: (row, _g, r) => { for (let i = 0; i < row.length; i++) row[i] = (r() - 0.5) * 2e-40; },
  denormalMixed: (row, g, r) => { for (let i = 0; i < row.length; i++) row[i] = r() < 0.5 ? (r() - 0.5) * 1e-42 : g() * 1e-38; },
  near1e18: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = 1e18 * (1 + 1e-3 * g()); },
  huge1e18: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = 1e18 * g(); },
  tiny: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = 1e-20 * g(); },
  outlierFirst: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[0] = 1e6; },
  outlierLast: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[row.length - 1] = -3e5; },
  // N(0,1) with rare +-1e3 outliers, one of them at x[0]: the trap of statistics shifted by x[0]
  // (at D = 64, (mean - x[0])^2 is ~60 x the variance).
  rareOutliers: (row, g, r) => { for (let i = 0; i < row.length; i++) row[i] = r() < 1 / 32 ? (r() < 0.5 ? -1e3 : 1e3) : g(); row[0] = 1e3; },
  // The first 128 values 1e3 away from the rest: the f32 two-pass's estimate of the mean from the
  // head of the row is far off, so it takes its second round (and at D <= 1024, the f64 path).
  headOffset: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = (i < 128 ? 1e3 : 0) + g(); },
  alternating: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = i % 2 ? 1e10 * g() : 1e-10 * g(); },
  // Magnitudes 2^-60..2^60 at random: every f64 lane sum rounds, so accumulation order shows.
  wideRange: (row, _g, r) => { for (let i = 0; i < row.length; i++) row[i] = (r() < 0.5 ? -1 : 1) * 2 ** (120 * r() - 60); },
  nanFirst: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[0] = NaN; },
  nanMiddle: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[row.length >> 1] = NaN; },
  nanLast: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[row.length - 1] = NaN; },
  posInf: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[(row.length * 2) / 3 | 0] = Infinity; },
  negInfFirst: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[0] = -Infinity; },
  bothInf: (row, g) => { for (let i = 0; i < row.length; i++) row[i] = g(); row[0] = Infinity; row[row.length - 1] = -Infinity; },
  allInf: (row) => row.fill(Infinity),
  // Mixed distributions within one row: N(0,1), offset + tiny noise, denormals, magnitudes up to
  // 1e18, each element drawn at random; then a NaN or +-Inf sprinkled at random positions.
  mixed: (row, g, r) => { for (let i = 0; i < row.length; i++) row[i] = mixedValue(g, r); },
  sprinkled: (row, g, r) => {
    for (let i = 0; i < row.length; i++) row[i] = g();
    for (let k = 0; k < 1 + (row.length >> 6); k++) row[Math.floor(r() * row.length)] = [NaN, Infinity, -Infinity][Math.floor(r() * 3)]!;
  },
};

function mixedValue(g: () => number, r: () => number): number {
  const u = r();
  if (u < 0.3) return g();
  if (u < 0.5) return 40000 + 1e-3 * g();
  if (u < 0.6) return (r() - 0.5) * 2e-40;
  if (u < 0.7) return 1e18 * g();
  if (u < 0.8) return 2 ** (120 * r() - 60) * (r() < 0.5 ? -1 : 1);
  if (u < 0.9) return 0;
  return 1e6 + g();
}

/** Row kinds whose values are all finite. */
export const finiteKinds: readonly string[] = Object.keys(rowKinds).filter((k) => {
  const row = new Float32Array(19);
  rowKinds[k]!(row, gaussian(rng(1)), rng(2));
  return row.every(Number.isFinite);
});

/** rows x cols, row r of kind kinds[r % kinds.length]. */
export function fillRows(rows: number, cols: number, kinds: readonly string[], seed: number): Float32Array {
  const r = rng(seed);
  const g = gaussian(r);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) rowKinds[kinds[i % kinds.length]!]!(out.subarray(i * cols, (i + 1) * cols), g, r);
  return out;
}

/** Index of the first element whose bits differ (NaNs of any payload count as equal), or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return 0;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ua[i] !== ub[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  }
  return -1;
}
