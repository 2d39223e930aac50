// Float64 references for the normalization family: textbook formulas in double precision.
// Writing into Float64Arrays gives the accuracy reference; into Float32Arrays, the naive JS
// baseline of the benchmark. Optional `scale` arrays receive, per output element, the magnitude
// that rounding errors are measured against where the result can cancel (the accuracy tests
// divide the error by 2^-24 * scale).
type Out = Float64Array | Float32Array;
type In = ArrayLike<number>;

/** y = x / sqrt(mean(x^2) + eps) * w; rstd per row. */
export function rmsNormReference(x: In, w: In | null, y: Out, rstd: Out | null, rows: number, cols: number, eps: number): void {
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let q = 0;
    for (let j = 0; j < cols; j++) q += x[o + j]! * x[o + j]!;
    const rs = 1 / Math.sqrt(q / cols + eps);
    if (rstd) rstd[r] = rs;
    for (let j = 0; j < cols; j++) y[o + j] = x[o + j]! * rs * (w ? w[j]! : 1);
  }
}

/** The float32 pre-norm sum of the fused ops: s = f32(f32(x + skip) + rb), skip row r % skipRows. */
export function skipSum(x: In, skip: In, rb: In | null, s: Float32Array, rows: number, cols: number): void {
  const skipRows = skip.length === x.length ? rows : skip.length / cols;
  for (let r = 0; r < rows; r++) {
    const o = r * cols, so = (r % skipRows) * cols;
    for (let j = 0; j < cols; j++) {
      const e = Math.fround(x[o + j]! + skip[so + j]!);
      s[o + j] = rb ? e + rb[j]! : e;
    }
  }
}

/** Row statistics in f64 (two-pass): mean and biased variance, or (0, mean square) with rms. */
function rowStats(x: In, o: number, cols: number, rms: boolean): [number, number] {
  if (rms) {
    let q = 0;
    for (let j = 0; j < cols; j++) q += x[o + j]! * x[o + j]!;
    return [0, q / cols];
  }
  let s = 0;
  for (let j = 0; j < cols; j++) s += x[o + j]!;
  const m = s / cols;
  let q = 0;
  for (let j = 0; j < cols; j++) q += (x[o + j]! - m) ** 2;
  return [m, q / cols];
}

/**
 * Backward of layerNorm (rms false) or rmsNorm: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),
 * g = dy * w (rmsNorm: without mean(g)); dweight = sum dy * xhat, dbias = sum dy. Saved mean/rstd
 * are used as given (exact f32 values); otherwise computed in f64.
 * Scales: dx: rstd * (|g| + mean|g| + (|xhat| + f) * mean(|g| (|xhat| + f))); dweight: sum |dy| (|xhat| + f);
 * dbias: sum |dy|; f = sigma * rstd for recomputed LayerNorm statistics (their mean's error), else 0.
 */
export function normBackwardReference(
  rms: boolean, dy: In, x: In, w: In | null, mean: In | null, rstd: In | null,
  dx: Out | null, dweight: Out | null, dbias: Out | null, rows: number, cols: number, eps: number,
  scale?: { dx?: Out | null; dweight?: Out | null; dbias?: Out | null },
): void {
  const dw = new Float64Array(cols), db = new Float64Array(cols), dwAbs = new Float64Array(cols), dbAbs = new Float64Array(cols);
  const xhat = new Float64Array(cols), g = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let m: number, rs: number, fl = 0;
    if (rstd) {
      rs = rstd[r]!;
      m = rms ? 0 : mean![r]!;
    } else {
      const [mm, v] = rowStats(x, o, cols, rms);
      m = mm;
      rs = 1 / Math.sqrt(v + eps);
      // Recomputed LayerNorm statistics carry the mean to ~2^-24 x sigma (layerNorm's scale in
      // src/registry.ts): xhat's errors are relative to |xhat| + sigma * rstd, not |xhat|.
      if (!rms) fl = Math.sqrt(v) * rs;
    }
    let sa = 0, sb = 0, aa = 0, ab = 0;
    for (let j = 0; j < cols; j++) {
      xhat[j] = (x[o + j]! - m) * rs;
      g[j] = dy[o + j]! * (w ? w[j]! : 1);
      sa += g[j]!;
      sb += g[j]! * xhat[j]!;
      aa += Math.abs(g[j]!);
      ab += Math.abs(g[j]!) * (Math.abs(xhat[j]!) + fl);
      dw[j] = dw[j]! + dy[o + j]! * xhat[j]!;
      db[j] = db[j]! + dy[o + j]!;
      dwAbs[j] = dwAbs[j]! + Math.abs(dy[o + j]!) * (Math.abs(xhat[j]!) + fl);
      dbAbs[j] = dbAbs[j]! + Math.abs(dy[o + j]!);
    }
    const ma = rms ? 0 : sa / cols, mb = sb / cols;
    for (let j = 0; j < cols; j++) {
      if (dx) dx[o + j] = rs * (g[j]! - ma - xhat[j]! * mb);
      if (scale?.dx) scale.dx[o + j] = rs * (Math.abs(g[j]!) + (rms ? 0 : aa / cols) + (Math.abs(xhat[j]!) + fl) * ab / cols);
    }
  }
  for (let j = 0; j < cols; j++) {
    if (dweight) dweight[j] = dw[j]!;
    if (dbias) dbias[j] = db[j]!;
    if (scale?.dweight) scale.dweight[j] = dwAbs[j]!;
    if (scale?.dbias) scale.dbias[j] = dbAbs[j]!;
  }
}

/**
 * BatchNorm over x viewed as [rows, C, inner]: per channel mean and biased variance (training,
 * two-pass f64) or the running ones; y = (x - mean) / sqrt(var + eps) * w + b (training with var and
 * eps both 0: 1 / sqrt(...) taken as 0, so y = b, as torch). Training updates
 * runMean/runVar (written to newMean/newVar) with momentum and the unbiased variance.
 */
export function batchNormReference(
  x: In, w: In | null, b: In | null, runMean: In | null, runVar: In | null, training: boolean, momentum: number,
  y: Out, saveMean: Out | null, saveRstd: Out | null, newMean: Out | null, newVar: Out | null,
  rows: number, C: number, inner: number, eps: number,
): void {
  const M = rows * inner;
  for (let c = 0; c < C; c++) {
    let mean: number, v: number;
    if (training) {
      let s = 0;
      for (let n = 0; n < rows; n++) for (let i = 0; i < inner; i++) s += x[(n * C + c) * inner + i]!;
      mean = s / M;
      let q = 0;
      for (let n = 0; n < rows; n++) for (let i = 0; i < inner; i++) q += (x[(n * C + c) * inner + i]! - mean) ** 2;
      v = q / M;
      if (newMean) newMean[c] = (1 - momentum) * runMean![c]! + momentum * mean;
      if (newVar) newVar[c] = (1 - momentum) * runVar![c]! + momentum * v * M / (M - 1);
    } else {
      mean = runMean![c]!;
      v = runVar![c]!;
    }
    const rs = training && v === 0 && eps === 0 ? 0 : 1 / Math.sqrt(v + eps); // torch's InvStd
    if (saveMean) saveMean[c] = mean;
    if (saveRstd) saveRstd[c] = rs;
    const wc = w ? w[c]! : 1, bc = b ? b[c]! : 0;
    for (let n = 0; n < rows; n++) {
      for (let i = 0; i < inner; i++) {
        const k = (n * C + c) * inner + i;
        y[k] = (x[k]! - mean) * rs * wc + bc;
      }
    }
  }
}
