#!/usr/bin/python3
"""Reference cases from PyTorch and ONNX for the GroupNorm / InstanceNorm / BatchNorm kernels.

Writes test/fixtures/norm-cases.json (fixed seeds, small shapes). Run with Debian's python3:
  apt-get install -y python3-torch python3-onnx && /usr/bin/python3 scripts/torch-cases.py
- torch (1.13): group_norm (y, native_group_norm's mean/rstd, autograd dx/dweight/dbias of
  sum(y * dy)), instance_norm with running statistics and momentum (training and eval), and its
  autograd gradients.
- onnx (1.12): BatchNormalization-15 training mode from _batchnorm_training_mode in
  onnx/backend/test/case/node/batchnorm.py (the function ONNX's own node tests are built from).
  InstanceNormalization's generator function is nested inside its test class (not importable), so
  it is restated here from the spec: per (n, c) mean and biased variance over the spatial axes.
  onnx 1.12 has neither GroupNormalization (added in opset 18, onnx 1.13) nor onnx.reference, so
  GroupNormalization-21 (per-channel scale and bias) is written here from the operator spec in
  numpy and cross-checked against torch.group_norm before it is stored.
"""
import json
import os

import numpy as np
import torch
from onnx.backend.test.case.node.batchnorm import _batchnorm_training_mode

torch.manual_seed(14)
rng = np.random.default_rng(14)


def f32(a):
    # Shortest decimal that rounds back to the same float32 (the test reads it with Math.fround).
    return [float(np.format_float_scientific(v, unique=True)) for v in np.asarray(a, dtype=np.float32).reshape(-1)]


def data(shape, kind):
    x = rng.standard_normal(shape).astype(np.float32)
    if kind == "offset":
        x = (40000 + 1e-2 * x).astype(np.float32)
    elif kind == "constant-group":
        x[0, : shape[1] // 2] = 3.25  # first group(s) of sample 0 constant
    return x


def group_norm_case(shape, groups, eps, kind, affine=True):
    C = shape[1]
    x = data(shape, kind)
    w = (0.5 * rng.standard_normal(C) + 1).astype(np.float32) if affine else None
    b = rng.standard_normal(C).astype(np.float32) if affine else None
    dy = rng.standard_normal(shape).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True) if affine else None
    bt = torch.tensor(b, requires_grad=True) if affine else None
    y = torch.nn.functional.group_norm(xt, groups, wt, bt, eps)
    (y * torch.tensor(dy)).sum().backward()
    N = shape[0]
    S = int(np.prod(shape[2:]))
    _, mean, rstd = torch.native_group_norm(torch.tensor(x), torch.tensor(w) if affine else None, torch.tensor(b) if affine else None, N, C, S, groups, eps)
    case = {"op": "group_norm", "shape": list(shape), "groups": groups, "eps": eps, "kind": kind,
            "x": f32(x), "weight": f32(w) if affine else None, "bias": f32(b) if affine else None,
            "y": f32(y.detach()), "mean": f32(mean), "rstd": f32(rstd),
            "dy": f32(dy), "dx": f32(xt.grad), "dweight": f32(wt.grad) if affine else None, "dbias": f32(bt.grad) if affine else None}
    # ONNX GroupNormalization-21 from the spec (numpy, float32 stash computed in float64 here):
    # per (n, group) mean and biased variance, y = scale[c] * (x - mean) / sqrt(var + eps) + bias[c].
    if affine:
        xg = x.astype(np.float64).reshape(N, groups, -1)
        m = xg.mean(axis=2, keepdims=True)
        v = xg.var(axis=2, keepdims=True)
        yn = ((xg - m) / np.sqrt(v + eps)).reshape(N, C, -1) * w.reshape(1, C, 1) + b.reshape(1, C, 1)
        onnx_y = yn.reshape(shape).astype(np.float32)
        torch_err = float(np.max(np.abs(onnx_y - y.detach().numpy())))
        # torch's float32 statistics lose 40000 + noise (max error ~0.7 here); elsewhere they agree.
        assert kind == "offset" or torch_err < 1e-4, "GroupNormalization-21 spec formula disagrees with torch"
        case["torch_max_abs_error"] = torch_err
        case["onnx_group_normalization_21_y"] = f32(onnx_y)
    return case


def instance_norm_case(shape, eps, momentum, use_input_stats):
    C = shape[1]
    x = data(shape, "normal")
    w = (0.5 * rng.standard_normal(C) + 1).astype(np.float32)
    b = rng.standard_normal(C).astype(np.float32)
    rm = rng.standard_normal(C).astype(np.float32)
    rv = (np.abs(rng.standard_normal(C)) + 0.5).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    rmt, rvt = torch.tensor(rm), torch.tensor(rv)
    y = torch.nn.functional.instance_norm(xt, rmt, rvt, wt, bt, use_input_stats, momentum, eps)
    (y * torch.tensor(dy)).sum().backward()
    case = {"op": "instance_norm", "shape": list(shape), "eps": eps, "momentum": momentum, "use_input_stats": use_input_stats,
            "x": f32(x), "weight": f32(w), "bias": f32(b), "running_mean": f32(rm), "running_var": f32(rv),
            "y": f32(y.detach()), "new_running_mean": f32(rmt), "new_running_var": f32(rvt),
            "dy": f32(dy), "dx": f32(xt.grad), "dweight": f32(wt.grad), "dbias": f32(bt.grad)}
    if use_input_stats:
        axes = tuple(range(2, len(shape)))
        x64 = x.astype(np.float64)
        m = x64.mean(axis=axes, keepdims=True)
        v = x64.var(axis=axes, keepdims=True)
        ones = (1,) * (len(shape) - 2)
        onnx_y = (w.reshape(-1, *ones) * (x64 - m) / np.sqrt(v + eps) + b.reshape(-1, *ones)).astype(np.float32)
        assert np.max(np.abs(onnx_y - y.detach().numpy())) < 1e-4, "InstanceNormalization spec formula disagrees with torch"
        case["onnx_instance_normalization_y"] = f32(onnx_y)
    return case


def batch_norm_onnx_training_case(shape, eps, momentum):
    C = shape[1]
    x = data(shape, "normal")
    s = (0.5 * rng.standard_normal(C) + 1).astype(np.float32)
    b = rng.standard_normal(C).astype(np.float32)
    mean = rng.standard_normal(C).astype(np.float32)
    var = (np.abs(rng.standard_normal(C)) + 0.5).astype(np.float32)
    y, out_mean, out_var = _batchnorm_training_mode(x, s, b, mean, var, momentum, eps)
    return {"op": "onnx_batch_normalization_15_training", "shape": list(shape), "eps": eps, "momentum": momentum,
            "x": f32(x), "weight": f32(s), "bias": f32(b), "running_mean": f32(mean), "running_var": f32(var),
            "y": f32(y), "new_running_mean": f32(out_mean), "new_running_var": f32(out_var)}


cases = [
    group_norm_case((2, 4, 3), 2, 1e-5, "normal"),
    group_norm_case((1, 6, 2, 2), 3, 1e-5, "normal"),
    group_norm_case((1, 4, 2, 2, 2), 2, 1e-3, "normal"),
    group_norm_case((2, 2, 5), 1, 1e-5, "normal", affine=False),
    group_norm_case((1, 4, 8), 2, 1e-5, "offset"),
    group_norm_case((2, 4, 3), 2, 1e-5, "constant-group"),
    instance_norm_case((2, 3, 2, 2), 1e-5, 0.1, True),
    instance_norm_case((2, 2, 5), 1e-3, 0.3, True),
    instance_norm_case((2, 2, 3), 1e-5, 0.1, False),
    batch_norm_onnx_training_case((3, 2, 4), 1e-5, 0.9),
]
meta = {"generator": "scripts/torch-cases.py", "torch": torch.__version__, "onnx": __import__("onnx").__version__,
        "note": "onnx 1.12 has no GroupNormalization and no onnx.reference: the onnx_*_y of group and instance norm are the spec formulas in numpy, checked against torch; the BatchNormalization-15 training case comes from onnx's own _batchnorm_training_mode"}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "norm-cases.json")
with open(out, "w") as f:
    json.dump({"meta": meta, "cases": cases}, f, separators=(",", ":"))
print(f"wrote {os.path.normpath(out)}: {len(cases)} cases, {os.path.getsize(out)} bytes")
