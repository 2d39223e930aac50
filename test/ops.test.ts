// Semantics of the normalization family against PyTorch / onnxruntime behaviour, relations
// between ops that must hold bit for bit, and finite-difference checks of the backward passes.
import { describe, expect, it } from "vitest";
import {
  batchNorm, BatchNorm, createRuntime, layerNorm, layerNormBackward, RMS_NORM_EPS, rmsNorm, RMSNorm, rmsNormBackward,
  skipLayerNorm, skipRmsNorm, Tensor,
} from "../src/index.js";
import { layerNormReference } from "../src/reference/layerNorm.js";
import { rmsNormReference } from "../src/reference/norms.js";
import { firstBitDifference, normal } from "./data.js";

const same = (a: Float32Array, b: Float32Array) => expect(firstBitDifference(a, b)).toBe(-1);

for (const backend of ["wasm", "js"] as const) {
  describe(`normalization family semantics (${backend})`, () => {
    const runtime = createRuntime({ backend });

    it("layerNorm on rows with +-Inf: mean is the arithmetic mean wherever the infinity sits (ONNX's reference); rstd and output NaN (torch)", () => {
      const cols = 37, base = normal(cols, 3);
      const cases: [string, number[], number[], number][] = [
        ["+Inf first", [0], [Infinity], Infinity], ["+Inf middle", [18], [Infinity], Infinity], ["+Inf last", [36], [Infinity], Infinity],
        ["-Inf first", [0], [-Infinity], -Infinity], ["-Inf middle", [20], [-Infinity], -Infinity],
        ["+Inf twice, first and later", [0, 30], [Infinity, Infinity], Infinity],
        ["+Inf first, -Inf last", [0, 36], [Infinity, -Infinity], NaN], ["-Inf first, +Inf middle", [0, 9], [-Infinity, Infinity], NaN],
      ];
      const x = new Float32Array(cases.length * cols);
      cases.forEach(([, at, v], r) => { x.set(base, r * cols); at.forEach((j, k) => { x[r * cols + j] = v[k]!; }); });
      // D = 16 and 17 too: the wasm kernel's vector and scalar paths meet the first element differently.
      for (const d of [cols, 16, 17]) {
        const rows = cases.length, xd = new Float32Array(rows * d);
        for (let r = 0; r < rows; r++) {
          xd.set(base.subarray(0, d), r * d);
          cases[r]![1].forEach((j, k) => { xd[r * d + Math.min(j, d - 1)] = cases[r]![2][k]!; });
        }
        const mean = new Float32Array(rows), inv = new Float32Array(rows);
        const y = layerNorm(xd, d, { mean, invStdDev: inv, runtime });
        cases.forEach(([name, , , want], r) => {
          expect(mean[r], `${name}, D=${d}`).toBe(want);
          expect(inv[r], `${name}, D=${d}`).toBeNaN();
          for (let j = 0; j < d; j++) expect(y[r * d + j], `${name}, D=${d}, y[${j}]`).toBeNaN();
        });
      }
      // the fused residual add follows (skip = 0 gives the same rows)
      const mean = new Float32Array(cases.length);
      skipLayerNorm(x, new Float32Array(x.length), cols, { mean, runtime });
      cases.forEach(([name, , , want], r) => expect(mean[r], name).toBe(want));
    });

    it("rmsNorm: y = x / sqrt(mean(x^2) + eps) * weight; eps defaults to float32 machine epsilon (torch)", () => {
      expect(RMS_NORM_EPS).toBe(1.1920928955078125e-7);
      const cols = 5, x = normal(3 * cols, 1), w = normal(cols, 2);
      const inv = new Float32Array(3);
      const y = rmsNorm(x, cols, { weight: w, invStdDev: inv, runtime });
      const ref = new Float64Array(x.length), rinv = new Float64Array(3);
      rmsNormReference(x, w, ref, rinv, 3, cols, RMS_NORM_EPS);
      for (let i = 0; i < y.length; i++) expect(Math.abs(y[i]! - ref[i]!)).toBeLessThan(4e-7 * (1 + Math.abs(ref[i]!)));
      for (let r = 0; r < 3; r++) expect(inv[r]).toBe(Math.fround(rinv[r]!));
      // zeros stay zeros (eps keeps rstd finite); an infinity gives NaN there and 0 elsewhere
      // (mean square Inf, rstd 0: the formula, as torch); NaN spreads to its row only
      expect(Array.from(rmsNorm(new Float32Array(4), 4, { runtime }))).toEqual([0, 0, 0, 0]);
      expect(Array.from(rmsNorm(new Float32Array([1, Infinity, -2, 3, 1, NaN, 1, 1, 2, 2, 2, 2]), 4, { runtime }))).toEqual([0, NaN, -0, 0, NaN, NaN, NaN, NaN, 1, 1, 1, 1].map((v, i) => (i >= 8 ? Math.fround(2 * Math.fround(1 / Math.sqrt(4 + RMS_NORM_EPS))) : v)));
      // class == functional; in place
      const m = new RMSNorm([cols], { runtime });
      m.weight = w;
      same(m.forward(x), y);
      const z = x.slice();
      expect(m.forward(z, z)).toBe(z);
      same(z, y);
      m.dispose();
    });

    it("skipLayerNorm / skipRmsNorm equal the unfused ops on the float32 sum, bit for bit; sum is x + skip + residualBias", () => {
      const cols = 37, rows = 6, x = normal(rows * cols, 3), skip = normal(rows * cols, 4), rb = normal(cols, 5), w = normal(cols, 6), b = normal(cols, 7);
      const s = new Float32Array(x.length);
      for (let i = 0; i < s.length; i++) s[i] = Math.fround(x[i]! + skip[i]!) + rb[i % cols]!;
      const sum = new Float32Array(x.length), mean = new Float32Array(rows), inv = new Float32Array(rows);
      const y = skipLayerNorm(x, skip, cols, { residualBias: rb, weight: w, bias: b, sum, mean, invStdDev: inv, runtime });
      same(sum, s);
      const m2 = new Float32Array(rows), i2 = new Float32Array(rows);
      same(y, layerNorm(s, cols, { weight: w, bias: b, mean: m2, invStdDev: i2, runtime }));
      same(mean, m2);
      same(inv, i2);
      same(skipRmsNorm(x, skip, cols, { residualBias: rb, weight: w, runtime }), rmsNorm(s, cols, { weight: w, runtime }));
    });

    it("skip broadcast: one row to every row, or S rows to each group of S (onnxruntime's (1, S, H) skip)", () => {
      const H = 8, S = 3, B = 4, x = normal(B * S * H, 8), skipS = normal(S * H, 9);
      const full = new Float32Array(x.length);
      for (let i = 0; i < full.length; i++) full[i] = skipS[i % (S * H)]!;
      same(skipLayerNorm(x, skipS, H, { runtime }), skipLayerNorm(x, full, H, { runtime }));
      const one = skipS.subarray(0, H), fullOne = new Float32Array(x.length);
      for (let i = 0; i < fullOne.length; i++) fullOne[i] = one[i % H]!;
      same(skipRmsNorm(x, one, H, { runtime }), skipRmsNorm(x, fullOne, H, { runtime }));
    });

    it("skip norms in place: sum === x updates the residual stream, out === x overwrites it", () => {
      const cols = 16, x = normal(5 * cols, 10), skip = normal(5 * cols, 11);
      const sum = new Float32Array(x.length), y = skipLayerNorm(x, skip, cols, { sum, runtime });
      const stream = x.slice();
      const y2 = skipLayerNorm(stream, skip, cols, { sum: stream, runtime });
      same(stream, sum);
      same(y2, y);
      const over = x.slice();
      expect(skipLayerNorm(over, skip, cols, { out: over, runtime })).toBe(over);
      same(over, y);
    });

    it("backward matches finite differences of the float64 forward (dx, dweight, dbias)", () => {
      for (const rms of [false, true]) {
        for (const cols of [1, 2, 3, 5, 8, 17]) {
          const rows = 3, eps = 1e-3, x = normal(rows * cols, cols), dy = normal(rows * cols, cols + 1), w = normal(cols, 2, 0.5, 1), b = normal(cols, 3);
          const loss = (xv: ArrayLike<number>, wv: ArrayLike<number>, bv: ArrayLike<number>): number => {
            const y = new Float64Array(rows * cols);
            if (rms) rmsNormReference(xv, wv, y, null, rows, cols, eps);
            else layerNormReference(xv, wv, bv, y, null, null, rows, cols, eps);
            let l = 0;
            for (let i = 0; i < y.length; i++) l += dy[i]! * y[i]!;
            return l;
          };
          const fd = (v: Float32Array, i: number, f: (p: Float64Array) => number): number => {
            const p = Float64Array.from(v), h = 1e-4 * Math.max(1, Math.abs(v[i]!));
            p[i] = v[i]! + h;
            const up = f(p);
            p[i] = v[i]! - h;
            return (up - f(p)) / (2 * h);
          };
          const g = rms ? rmsNormBackward(dy, x, cols, { weight: w, eps, runtime }) : layerNormBackward(dy, x, cols, { weight: w, eps, runtime });
          const close = (got: number, want: number, what: string) => expect(Math.abs(got - want), `${rms ? "rms" : "ln"} D=${cols} ${what}: ${got} vs ${want}`).toBeLessThan(2e-4 * (1 + Math.abs(want)));
          for (let i = 0; i < x.length; i++) close(g.dx![i]!, fd(x, i, (p) => loss(p, w, b)), `dx[${i}]`);
          for (let j = 0; j < cols; j++) close(g.dweight![j]!, fd(w, j, (p) => loss(x, p, b)), `dweight[${j}]`);
          if (!rms) for (let j = 0; j < cols; j++) close(g.dbias![j]!, fd(b, j, (p) => loss(x, w, p)), `dbias[${j}]`);
        }
      }
    });

    it("backward: saved statistics from the forward, dx in place of dy, and outputs skipped with null", () => {
      const cols = 48, rows = 70, x = normal(rows * cols, 12), dy = normal(rows * cols, 13), w = normal(cols, 14, 0.5, 1);
      // RMSNorm's saved invStdDev is exactly the recomputed one: same bits.
      const inv = new Float32Array(rows);
      rmsNorm(x, cols, { weight: w, invStdDev: inv, runtime });
      const rec = rmsNormBackward(dy, x, cols, { weight: w, runtime });
      const sav = rmsNormBackward(dy, x, cols, { weight: w, invStdDev: inv, runtime });
      same(sav.dx!, rec.dx!);
      same(sav.dweight!, rec.dweight!);
      expect(rec.dbias).toBeNull();
      // LayerNorm's saved float32 mean drops the low part of the mean: close, not identical.
      const mean = new Float32Array(rows), linv = new Float32Array(rows);
      layerNorm(x, cols, { weight: w, mean, invStdDev: linv, runtime });
      const lrec = layerNormBackward(dy, x, cols, { weight: w, runtime });
      const lsav = layerNormBackward(dy, x, cols, { weight: w, mean, invStdDev: linv, runtime });
      for (let i = 0; i < x.length; i++) expect(Math.abs(lsav.dx![i]! - lrec.dx![i]!)).toBeLessThan(1e-5);
      // dx === dy in place
      const d = dy.slice();
      const inPlace = layerNormBackward(d, x, cols, { weight: w, dx: d, runtime });
      expect(inPlace.dx).toBe(d);
      same(d, lrec.dx!);
      same(inPlace.dweight!, lrec.dweight!);
      // only the parameter gradients
      const only = layerNormBackward(dy, x, cols, { weight: w, dx: null, runtime });
      expect(only.dx).toBeNull();
      same(only.dweight!, lrec.dweight!);
      same(only.dbias!, lrec.dbias!);
      // zero rows: zero parameter gradients
      const empty = layerNormBackward(new Float32Array(0), new Float32Array(0), cols, { runtime });
      expect(Array.from(empty.dweight!)).toEqual(new Array(cols).fill(0));
    });

    it("BatchNorm follows torch.nn.BatchNorm2d's running statistics (momentum 0.1, unbiased running variance)", () => {
      // torch: bn = BatchNorm2d(1); bn(tensor([[[[1., 2.]]]])) -> running_mean 0.15, running_var 0.95;
      // then bn(tensor([[[[3., 4., 5.]]]])) -> running_mean 0.535, running_var 0.955.
      const bn = new BatchNorm(1, { runtime });
      const y1 = bn.forward(new Float32Array([1, 2]), [1, 1, 1, 2]);
      expect(Array.from(bn.runningMean!)).toEqual([Math.fround(0.15)]);
      expect(Array.from(bn.runningVar!)).toEqual([Math.fround(0.95)]);
      expect(Math.abs(y1[0]! + 0.99998)).toBeLessThan(1e-5); // (1 - 1.5) / sqrt(0.25 + 1e-5)
      bn.forward(new Float32Array([3, 4, 5]), [1, 1, 1, 3]);
      expect(Math.abs(bn.runningMean![0]! - 0.535)).toBeLessThan(1e-7);
      expect(Math.abs(bn.runningVar![0]! - 0.955)).toBeLessThan(1e-7);
      expect(bn.numBatchesTracked).toBe(2);
      // eval: running statistics
      bn.eval();
      const y = bn.forward(new Float32Array([0.535]), [1, 1]);
      expect(y[0]).toBe(0);
      bn.dispose();
    });

    it("BatchNorm: momentum null is a cumulative average; without running statistics batch statistics are used always", () => {
      const cma = new BatchNorm(2, { momentum: null, channelAxis: -1, runtime });
      const a = new Float32Array([1, 10, 3, 30]), b = new Float32Array([5, 50, 7, 70]);
      cma.forward(a, [2, 2]);
      cma.forward(b, [2, 2]);
      expect(Array.from(cma.runningMean!)).toEqual([4, 40]); // mean of the batch means 2, 20 and 6, 60
      cma.dispose();
      const batchOnly = new BatchNorm(2, { trackRunningStats: false, affine: false, channelAxis: -1, runtime }).eval();
      expect(batchOnly.runningMean).toBeNull();
      same(batchOnly.forward(a, [2, 2]), batchNorm(a, [2, 2], { channelAxis: -1, training: true, runtime }));
      const yb = batchOnly.forward(a, [2, 2]); // per channel: mean -+ one standard deviation (1 and 10)
      [-1, -10, 1, 10].forEach((v, i) => expect(Math.abs(yb[i]! - v / Math.sqrt(v * v + 1e-5))).toBeLessThan(1e-7));
    });

    it("BatchNorm: NCHW and channels-last give the same normalisation of the same data (within rounding)", () => {
      const N = 4, C = 3, S = 10, x = normal(N * C * S, 15, 2, 5);
      const nhwc = new Float32Array(x.length);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) nhwc[(n * S + s) * C + c] = x[(n * C + c) * S + s]!;
      const rm1 = new Float32Array(C), rv1 = new Float32Array(C).fill(1), rm2 = rm1.slice(), rv2 = rv1.slice();
      const y1 = batchNorm(x, [N, C, S], { training: true, runningMean: rm1, runningVar: rv1, runtime });
      const y2 = batchNorm(nhwc, [N, S, C], { channelAxis: -1, training: true, runningMean: rm2, runningVar: rv2, runtime });
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let s = 0; s < S; s++) {
        expect(Math.abs(y1[(n * C + c) * S + s]! - y2[(n * S + s) * C + c]!)).toBeLessThan(1e-6);
      }
      for (let c = 0; c < C; c++) expect(Math.abs(rm1[c]! - rm2[c]!)).toBeLessThan(1e-6);
    });

    it("new ops return Tensors for Tensor inputs", () => {
      const t = runtime.from(normal(32, 16)), s = runtime.from(normal(32, 17));
      const outs = [rmsNorm(t, 8), skipLayerNorm(t, s, 8), skipRmsNorm(t, s, 8), batchNorm(t, [4, 8], { channelAxis: -1, training: true })];
      for (const o of outs) expect(o).toBeInstanceOf(Tensor);
      const g = layerNormBackward(s, t, 8);
      expect(g.dx).toBeInstanceOf(Tensor);
      expect(g.dweight).toBeInstanceOf(Tensor);
      for (const o of [...outs, g.dx!, g.dweight!, g.dbias!, t, s] as Tensor[]) o.free();
    });
  });
}
