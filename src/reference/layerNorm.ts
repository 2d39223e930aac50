// Float64 reference for LayerNorm: the textbook two-pass formula in double precision. Writing
// into a Float64Array gives the accuracy reference; into a Float32Array, the naive JS baseline.
export function layerNormReference(
  x: ArrayLike<number>, w: ArrayLike<number> | null, b: ArrayLike<number> | null,
  y: Float64Array | Float32Array, mean: Float64Array | Float32Array | null, rstd: Float64Array | Float32Array | null,
  rows: number, cols: number, eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += x[o + j]!;
    const m = s / cols;
    let q = 0;
    for (let j = 0; j < cols; j++) {
      const t = x[o + j]! - m;
      q += t * t;
    }
    const rs = 1 / Math.sqrt(q / cols + eps);
    if (mean) mean[r] = m;
    if (rstd) rstd[r] = rs;
    for (let j = 0; j < cols; j++) {
      y[o + j] = (x[o + j]! - m) * rs * (w ? w[j]! : 1) + (b ? b[j]! : 0);
    }
  }
}
