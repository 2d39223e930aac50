// Float64 references for GroupNorm and InstanceNorm (textbook two-pass formulas in double, as in
// norms.ts). Layout: [N, C, S] (channelsLast false) or [N, S, C]. Optional `scale` arrays receive
// per output element the magnitude rounding errors are measured against (see norms.ts).
type Out = Float64Array | Float32Array;
type In = ArrayLike<number>;

const index = (n: number, c: number, s: number, C: number, S: number, cl: boolean) => (cl ? (n * S + s) * C + c : (n * C + c) * S + s);

/** Mean and biased variance of (sample n, channels c0 .. c0 + Cg - 1), two-pass in f64. */
export function groupStats(x: In, n: number, c0: number, Cg: number, C: number, S: number, cl: boolean): [number, number] {
  let s = 0;
  for (let c = c0; c < c0 + Cg; c++) for (let i = 0; i < S; i++) s += x[index(n, c, i, C, S, cl)]!;
  const m = s / (Cg * S);
  let q = 0;
  for (let c = c0; c < c0 + Cg; c++) for (let i = 0; i < S; i++) q += (x[index(n, c, i, C, S, cl)]! - m) ** 2;
  return [m, q / (Cg * S)];
}

/**
 * torch.nn.functional.group_norm: per (sample, group) y = (x - mean) / sqrt(var + eps) * w[c] + b[c],
 * biased variance; mean/rstd per (sample, group). Scale of y: (|xhat| + sigma * rstd) * |w| + |b|
 * (LayerNorm's: the float32 statistics carry the mean to about 2^-24 x sigma). zeroRstd: rstd 0
 * for var = eps = 0 (torch's instance_norm, batch_norm's InvStd; group_norm gives 1 / 0).
 */
export function groupNormReference(
  x: In, w: In | null, b: In | null, y: Out, mean: Out | null, rstd: Out | null,
  N: number, C: number, S: number, G: number, eps: number, channelsLast = false, scale?: Out | null, zeroRstd = false,
): void {
  const Cg = C / G;
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const [m, v] = groupStats(x, n, g * Cg, Cg, C, S, channelsLast);
      const rs = zeroRstd && v === 0 && eps === 0 ? 0 : 1 / Math.sqrt(v + eps);
      if (mean) mean[n * G + g] = m;
      if (rstd) rstd[n * G + g] = rs;
      for (let c = g * Cg; c < (g + 1) * Cg; c++) {
        const wc = w ? w[c]! : 1, bc = b ? b[c]! : 0;
        for (let i = 0; i < S; i++) {
          const k = index(n, c, i, C, S, channelsLast);
          y[k] = (x[k]! - m) * rs * wc + bc;
          if (scale) scale[k] = (Math.abs((x[k]! - m) * rs) + Math.sqrt(v) * rs) * Math.abs(wc) + Math.abs(bc);
        }
      }
    }
  }
}

/**
 * torch.nn.functional.instance_norm: with useInputStats, group_norm with G = C, and when runMean /
 * runVar are given they are updated in place: run = (1 - momentum) * run + momentum * mean over
 * samples of the per-instance mean (unbiased variance, S / (S - 1)). Without useInputStats the
 * running statistics normalise every sample (they must be given).
 */
export function instanceNormReference(
  x: In, w: In | null, b: In | null, runMean: Out | null, runVar: Out | null, useInputStats: boolean, momentum: number,
  y: Out, N: number, C: number, S: number, eps: number, channelsLast = false,
): void {
  if (useInputStats) {
    const mean = new Float64Array(N * C), rstd = new Float64Array(N * C);
    groupNormReference(x, w, b, y, mean, rstd, N, C, S, C, eps, channelsLast);
    if (N === 0) return; // no instance observed: the running statistics stay as they are
    for (let c = 0; c < C; c++) {
      let sm = 0, sv = 0;
      for (let n = 0; n < N; n++) {
        sm += mean[n * C + c]!;
        sv += groupStats(x, n, c, 1, C, S, channelsLast)[1];
      }
      if (runMean) runMean[c] = (1 - momentum) * runMean[c]! + momentum * sm / N;
      if (runVar) runVar[c] = (1 - momentum) * runVar[c]! + momentum * (sv / N) * S / (S - 1);
    }
    return;
  }
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const m = runMean![c]!, rs = 1 / Math.sqrt(runVar![c]! + eps), wc = w ? w[c]! : 1, bc = b ? b[c]! : 0;
      for (let i = 0; i < S; i++) {
        const k = index(n, c, i, C, S, channelsLast);
        y[k] = (x[k]! - m) * rs * wc + bc;
      }
    }
  }
}

/**
 * Backward of groupNorm (torch native_group_norm_backward): with xhat = (x - mean) * rstd and
 * g = dy * w[c], per (sample, group) dx = rstd * (g - mean(g) - xhat * mean(g * xhat));
 * dweight[c] = sum over n, s of dy * xhat, dbias[c] = sum dy. Saved mean/rstd (per (sample, group))
 * are used as given, else computed in f64.
 * Scales: dx: rstd * (|g| + mean|g| + |xhat| * mean|g xhat|); dweight: sum |dy xhat|; dbias: sum |dy|.
 */
export function groupNormBackwardReference(
  dy: In, x: In, w: In | null, mean: In | null, rstd: In | null,
  dx: Out | null, dweight: Out | null, dbias: Out | null,
  N: number, C: number, S: number, G: number, eps: number, channelsLast = false,
  scale?: { dx?: Out | null; dweight?: Out | null; dbias?: Out | null },
): void {
  const Cg = C / G, M = Cg * S;
  const dw = new Float64Array(C), db = new Float64Array(C), dwAbs = new Float64Array(C), dbAbs = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < G; g++) {
      const r = n * G + g;
      let m: number, rs: number;
      if (rstd) { m = mean![r]!; rs = rstd[r]!; } else {
        const [mm, v] = groupStats(x, n, g * Cg, Cg, C, S, channelsLast);
        m = mm; rs = 1 / Math.sqrt(v + eps);
      }
      let sa = 0, sb = 0, aa = 0, ab = 0;
      for (let c = g * Cg; c < (g + 1) * Cg; c++) {
        const wc = w ? w[c]! : 1;
        for (let i = 0; i < S; i++) {
          const k = index(n, c, i, C, S, channelsLast);
          const xh = (x[k]! - m) * rs, gg = dy[k]! * wc;
          sa += gg; sb += gg * xh; aa += Math.abs(gg); ab += Math.abs(gg * xh);
          dw[c] = dw[c]! + dy[k]! * xh;
          db[c] = db[c]! + dy[k]!;
          dwAbs[c] = dwAbs[c]! + Math.abs(dy[k]! * xh);
          dbAbs[c] = dbAbs[c]! + Math.abs(dy[k]!);
        }
      }
      const ma = sa / M, mb = sb / M;
      for (let c = g * Cg; c < (g + 1) * Cg; c++) {
        const wc = w ? w[c]! : 1;
        for (let i = 0; i < S; i++) {
          const k = index(n, c, i, C, S, channelsLast);
          const xh = (x[k]! - m) * rs, gg = dy[k]! * wc;
          if (dx) dx[k] = rs * (gg - ma - xh * mb);
          if (scale?.dx) scale.dx[k] = rs * (Math.abs(gg) + aa / M + Math.abs(xh) * ab / M);
        }
      }
    }
  }
  for (let c = 0; c < C; c++) {
    if (dweight) dweight[c] = dw[c]!;
    if (dbias) dbias[c] = db[c]!;
    if (scale?.dweight) scale.dweight[c] = dwAbs[c]!;
    if (scale?.dbias) scale.dbias[c] = dbAbs[c]!;
  }
}
