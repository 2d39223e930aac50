// JS twin of assembly/normalize.ts (the element pass shared by rmsNorm and skipNorm): f32
// roundings by Math.fround after every step, in the kernel's order.
const fr = Math.fround;

/** y[yo + j] for j < d from x[xo + j]; centered: ((x - mhi) - mlo) * r, else x * r; then * w[j], + b[j]. */
export function normalizeRowJs(
  x: Float32Array, xo: number, y: Float32Array, yo: number, w: Float32Array | null, b: Float32Array | null,
  d: number, mhi: number, mlo: number, r: number, centered: boolean,
): void {
  const end = xo + d, dy = yo - xo;
  if (centered) {
    if (w && b) for (let i = xo, j = 0; i < end; i++, j++) y[i + dy] = fr(fr(fr(fr(x[i]! - mhi) - mlo) * r) * w[j]!) + b[j]!;
    else if (w) for (let i = xo, j = 0; i < end; i++, j++) y[i + dy] = fr(fr(fr(x[i]! - mhi) - mlo) * r) * w[j]!;
    else if (b) for (let i = xo, j = 0; i < end; i++, j++) y[i + dy] = fr(fr(fr(x[i]! - mhi) - mlo) * r) + b[j]!;
    else for (let i = xo; i < end; i++) y[i + dy] = fr(fr(x[i]! - mhi) - mlo) * r;
  } else {
    if (w) for (let i = xo, j = 0; i < end; i++, j++) y[i + dy] = fr(x[i]! * r) * w[j]!;
    else for (let i = xo; i < end; i++) y[i + dy] = x[i]! * r;
  }
}
