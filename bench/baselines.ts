// Plain-JS LayerNorm baselines for the comparison. Both compute in double precision and store
// float32 (what a careful JS author writes); neither is bit-exact with anything.

/** The loop most people write: three passes over the row, one accumulator each. */
export { layerNormReference as naiveLayerNorm } from "../dist/reference/layerNorm.js";

/**
 * A well-tuned plain JS loop: four independent accumulators per reduction (the JIT does not
 * reassociate), 1/D and rstd * weight hoisted, one fused output expression.
 */
export function tunedLayerNorm(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, rows: number, cols: number, eps: number): void {
  const inv = 1 / cols;
  const end4 = cols & ~3;
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, i = 0;
    for (; i < end4; i += 4) { s0 += x[o + i]!; s1 += x[o + i + 1]!; s2 += x[o + i + 2]!; s3 += x[o + i + 3]!; }
    for (; i < cols; i++) s0 += x[o + i]!;
    const m = (s0 + s1 + (s2 + s3)) * inv;
    let q0 = 0, q1 = 0, q2 = 0, q3 = 0;
    for (i = 0; i < end4; i += 4) {
      const d0 = x[o + i]! - m, d1 = x[o + i + 1]! - m, d2 = x[o + i + 2]! - m, d3 = x[o + i + 3]! - m;
      q0 += d0 * d0; q1 += d1 * d1; q2 += d2 * d2; q3 += d3 * d3;
    }
    for (; i < cols; i++) { const d = x[o + i]! - m; q0 += d * d; }
    const rs = 1 / Math.sqrt((q0 + q1 + (q2 + q3)) * inv + eps);
    for (let j = 0; j < cols; j++) y[o + j] = (x[o + j]! - m) * rs * w[j]! + b[j]!;
  }
}
