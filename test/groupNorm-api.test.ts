// The public GroupNorm / InstanceNorm API: modules against the functions, torch's module
// semantics (train/eval, running statistics), errors, and BatchNorm's ONNX running variance.
import { describe, expect, it } from "vitest";
import { batchNorm, createRuntime, GroupNorm, groupNorm, groupNormBackward, InstanceNorm, instanceNorm } from "../src/index.js";
import { firstBitDifference, normal } from "./data.js";

for (const backend of ["wasm", "js"] as const) {
  describe(`GroupNorm and InstanceNorm modules (${backend})`, () => {
    const rt = createRuntime({ backend });
    const shape = [2, 6, 5], x = normal(60, 1);
    it("GroupNorm.forward equals groupNorm with the module's parameters, NCHW and channels-last", () => {
      for (const channelAxis of [1, -1]) {
        const m = new GroupNorm(3, 6, { runtime: rt, channelAxis });
        m.weight = normal(6, 2);
        m.bias = normal(6, 3);
        const s = channelAxis === 1 ? shape : [2, 5, 6];
        const want = groupNorm(x, s, 3, { weight: m.weight!.slice(), bias: m.bias!.slice(), channelAxis, runtime: rt });
        expect(firstBitDifference(m.forward(x, s), want)).toBe(-1);
        m.dispose();
      }
    });
    it("InstanceNorm tracks running statistics in training and uses them in eval", () => {
      const m = new InstanceNorm(6, { runtime: rt, trackRunningStats: true, affine: true, momentum: 0.5 });
      const rm = new Float32Array(6), rv = new Float32Array(6).fill(1);
      const y = m.forward(x, shape);
      const want = instanceNorm(x, shape, { runningMean: rm, runningVar: rv, momentum: 0.5, weight: new Float32Array(6).fill(1), bias: new Float32Array(6), runtime: rt });
      expect(firstBitDifference(y, want)).toBe(-1);
      expect(firstBitDifference(m.runningMean!, rm)).toBe(-1);
      expect(firstBitDifference(m.runningVar!, rv)).toBe(-1);
      expect(m.runningMean!.some((v) => v !== 0)).toBe(true);
      m.eval();
      const inv = new Float32Array(12);
      const e = m.forward(x, shape);
      const we = instanceNorm(x, shape, { runningMean: rm, runningVar: rv, useInputStats: false, invStdDev: inv, runtime: rt });
      expect(firstBitDifference(e, we)).toBe(-1);
      expect(inv[0]).toBe(inv[6]); // the running statistics, repeated per sample
      m.dispose();
    });
    it("errors: channels not divisible by numGroups, wrong channel count, unknown options", () => {
      expect(() => groupNorm(x, shape, 4, { runtime: rt })).toThrow(/^numGroups: expected a divisor of the 6 channels \(shape\[1\]\), got 4/);
      expect(() => new GroupNorm(4, 6)).toThrow(RangeError);
      expect(() => new InstanceNorm(5, { runtime: rt }).forward(x, shape)).toThrow(/^shape\[1\] \(channels\): expected 5 \(numFeatures\), got number 6/);
      expect(() => instanceNorm(x, shape, { useInputStat: false } as never)).toThrow(/unknown option "useInputStat" \(did you mean "useInputStats"\?\)/);
      expect(() => instanceNorm(x, shape, { useInputStats: false, runtime: rt })).toThrow(/^runningMean: expected a Float32Array or Tensor \(required when useInputStats is false\)/);
      expect(() => groupNormBackward(x, x, shape, 3, { mean: new Float32Array(6), runtime: rt })).toThrow(/^mean and invStdDev: expected both/);
    });
    it("BatchNorm training: populationVariance updates runningVar with the biased variance (ONNX), the default with the unbiased one (PyTorch)", () => {
      const xs = normal(40, 5), s = [10, 4];
      const run = (populationVariance: boolean) => {
        const rv = new Float32Array(4).fill(1);
        batchNorm(xs, s, { channelAxis: -1, training: true, momentum: 1, runningMean: new Float32Array(4), runningVar: rv, populationVariance, runtime: rt });
        return rv;
      };
      const biased = run(true), unbiased = run(false);
      for (let c = 0; c < 4; c++) {
        let m = 0, q = 0;
        for (let n = 0; n < 10; n++) m += xs[n * 4 + c]! / 10;
        for (let n = 0; n < 10; n++) q += (xs[n * 4 + c]! - m) ** 2;
        expect(biased[c]).toBeCloseTo(q / 10, 5);
        expect(unbiased[c]).toBeCloseTo(q / 9, 5);
      }
    });
    it("torch's edge cases: empty batches, one value per group, eps 0 on constant channels", () => {
      // BatchNorm training on an empty batch: an empty result, running statistics as they were, NaN saved statistics.
      for (const s of [[0, 3], [2, 3, 0]]) {
        const rm = Float32Array.of(0.5, -1, 2), rv = Float32Array.of(1, 2, 3), mean = new Float32Array(3), inv = new Float32Array(3);
        const y = batchNorm(new Float32Array(0), s, { training: true, runningMean: rm, runningVar: rv, mean, invStdDev: inv, runtime: rt });
        expect(y.length).toBe(0);
        expect([...rm, ...rv]).toEqual([0.5, -1, 2, 1, 2, 3]);
        expect([...mean, ...inv].every(Number.isNaN)).toBe(true);
      }
      expect(instanceNorm(new Float32Array(0), [2, 3, 0], { runtime: rt }).length).toBe(0);
      // [2, 3, 1] with 3 groups passes torch's check (N * C / G * S = 2): each group is one value, y = bias.
      const b = Float32Array.of(0.25, -0.5, 4);
      expect([...groupNorm(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3, 1], 3, { bias: b, runtime: rt })]).toEqual([...b, ...b]);
      // eps 0, training, a constant channel: invStdDev 0 and y = bias (torch's InvStd); the other channel as usual.
      const xc = Float32Array.of(2, 1, 2, -1, 2, 3, 2, 5), inv = new Float32Array(2);
      const y = batchNorm(xc, [4, 2], { channelAxis: -1, training: true, eps: 0, weight: Float32Array.of(3, 3), bias: Float32Array.of(0.5, 0.5), invStdDev: inv, runtime: rt });
      expect(inv[0]).toBe(0);
      expect([y[0], y[2], y[4], y[6]]).toEqual([0.5, 0.5, 0.5, 0.5]);
      expect(y[1]).toBeCloseTo(0.5 + 3 * (1 - 2) / Math.sqrt(5), 5);
      // The same for instanceNorm on input statistics (torch's instance_norm is batch_norm's training
      // mode), both layouts; groupNorm keeps torch's group_norm: 1 / sqrt(0) and a NaN output.
      const xi = Float32Array.of(2, 2, 2, 1, 4, 7), bi = Float32Array.of(0.25, -0.5);
      for (const channelAxis of [1, -1]) {
        const xs = channelAxis === 1 ? xi : Float32Array.of(2, 1, 2, 4, 2, 7), s = channelAxis === 1 ? [1, 2, 3] : [1, 3, 2];
        const invI = new Float32Array(2);
        const yi = instanceNorm(xs, s, { eps: 0, bias: bi, invStdDev: invI, channelAxis, runtime: rt });
        expect(invI[0]).toBe(0);
        const c0 = channelAxis === 1 ? [0, 1, 2] : [0, 2, 4];
        expect(c0.map((i) => yi[i])).toEqual([0.25, 0.25, 0.25]);
      }
      expect(groupNorm(Float32Array.of(2, 2, 2, 2), [1, 2, 2], 1, { eps: 0, runtime: rt }).every(Number.isNaN)).toBe(true);
    });
  });
}
