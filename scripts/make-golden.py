#!/usr/bin/env python3
"""Golden fixtures for batchnorm4j's tests, computed by PyTorch (CPU) as the independent reference.

Run with Debian's python3-torch:  /usr/bin/python3 scripts/make-golden.py
Writes src/test/resources/golden/*.npz. Each case file holds, in batchnorm4j's layout:
  config_layout (int64: 0 NC, 1 NCHW, 2 NHWC), config_shape (int64 [N, C, H, W]),
  config_eps, config_momentum (float64; NaN = cumulative), config_unbiased (bool),
  weight, bias (the layer's gamma and beta), batches (int64),
  x{i}, y{i}: training-forward input and output of batch i,
  running_mean, running_var, num_batches_tracked: after all batches,
  xt, yt: an inference input (N = 1) and its output with the running statistics,
  dy, dx, dweight, dbias: backward of the last training batch for loss = sum(y * dy),
  dy_eval, dx_eval, dweight_eval, dbias_eval: backward of an eval-mode forward of x0.
Also writes torch_state_dict.npz: a BatchNorm2d state_dict saved with numpy, as PyTorch users save it.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "test", "resources", "golden")
LAYOUTS = {"NC": 0, "NCHW": 1, "NHWC": 2}


def to_layout(t, layout):
    """A PyTorch (N, C[, H, W]) tensor as a float32 array in batchnorm4j's layout."""
    if layout == "NHWC":
        t = t.permute(0, 2, 3, 1)
    return t.detach().contiguous().numpy().astype(np.float32)


def batch_norm_step(x, rm, rv, w, b, momentum, eps, unbiased, nbt):
    """One training step; PyTorch updates unbiased running statistics itself. The biased
    estimator is not a PyTorch option, so that update is done in torch ops from torch.var."""
    if unbiased:
        factor = momentum if momentum is not None else 1.0 / nbt
        return F.batch_norm(x, rm, rv, w, b, training=True, momentum=factor, eps=eps)
    dims = [d for d in range(x.dim()) if d != 1]
    mean = x.detach().mean(dim=dims)
    var = x.detach().var(dim=dims, unbiased=False)
    factor = momentum if momentum is not None else 1.0 / nbt
    y = F.batch_norm(x, None, None, w, b, training=True, eps=eps)
    rm.mul_(1 - factor).add_(factor * mean)
    rv.mul_(1 - factor).add_(factor * var)
    return y


def make_case(name, layout, shape, momentum, unbiased, batches, seed, mean_offset=0.0, eps=1e-5,
              dtype=torch.float32):
    """dtype is what PyTorch computes in; inputs are always float32 values. Data with a large
    mean is computed in float64: PyTorch's float32 CPU kernel is off by about 1e-3 there."""
    g = torch.Generator().manual_seed(seed)
    n, c, h, w = shape
    tshape = (n, c) if layout == "NC" else (n, c, h, w)
    weight = (torch.rand(c, generator=g) + 0.5).to(dtype).requires_grad_(True)
    bias = torch.randn(c, generator=g).to(dtype).requires_grad_(True)
    rm = torch.zeros(c, dtype=dtype)
    rv = torch.ones(c, dtype=dtype)
    out = {
        "config_layout": np.int64(LAYOUTS[layout]),
        "config_shape": np.array(shape, dtype=np.int64),
        "config_eps": np.float64(eps),
        "config_momentum": np.float64(math.nan if momentum is None else momentum),
        "config_unbiased": np.bool_(unbiased),
        "weight": weight.detach().numpy().astype(np.float32),
        "bias": bias.detach().numpy().astype(np.float32),
        "batches": np.int64(batches),
    }
    channel_means = torch.randn(c, generator=g) * 3 + mean_offset
    view = (1, c) + (1,) * (len(tshape) - 2)
    xs = []
    for i in range(batches):
        x = (torch.randn(tshape, generator=g) * (0.5 + torch.rand(c, generator=g).view(view))
             + channel_means.view(view)).to(dtype).requires_grad_(True)
        y = batch_norm_step(x, rm, rv, weight, bias, momentum, eps, unbiased, i + 1)
        out[f"x{i}"] = to_layout(x, layout)
        out[f"y{i}"] = to_layout(y, layout)
        xs.append((x, y))
    out["running_mean"] = rm.numpy().astype(np.float32)
    out["running_var"] = rv.numpy().astype(np.float32)
    out["num_batches_tracked"] = np.int64(batches)

    # Backward of the last training batch.
    x, y = xs[-1]
    dy = torch.randn(tshape, generator=g).to(dtype)
    dx, dw, db = torch.autograd.grad(y, (x, weight, bias), dy)
    out["dy"], out["dx"] = to_layout(dy, layout), to_layout(dx, layout)
    out["dweight"], out["dbias"] = dw.numpy().astype(np.float32), db.numpy().astype(np.float32)

    # Inference on one example, then eval-mode backward on batch 0.
    xt = (torch.randn((1,) + tshape[1:], generator=g) + channel_means.view(view)).to(dtype)
    yt = F.batch_norm(xt, rm, rv, weight, bias, training=False, eps=eps)
    out["xt"], out["yt"] = to_layout(xt, layout), to_layout(yt, layout)
    x0 = xs[0][0].detach().requires_grad_(True)
    y0 = F.batch_norm(x0, rm, rv, weight, bias, training=False, eps=eps)
    dy_eval = torch.randn(tshape, generator=g).to(dtype)
    dx_e, dw_e, db_e = torch.autograd.grad(y0, (x0, weight, bias), dy_eval)
    out["dy_eval"], out["dx_eval"] = to_layout(dy_eval, layout), to_layout(dx_e, layout)
    out["dweight_eval"], out["dbias_eval"] = dw_e.numpy().astype(np.float32), db_e.numpy().astype(np.float32)
    np.savez(os.path.join(OUT, name + ".npz"), **out)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_default_dtype(torch.float32)
    make_case("nc_momentum_unbiased", "NC", (8, 5, 1, 1), 0.1, True, 3, seed=1)
    make_case("nc_cumulative_biased", "NC", (7, 3, 1, 1), None, False, 4, seed=2)
    make_case("nchw_momentum_unbiased", "NCHW", (4, 3, 5, 7), 0.1, True, 3, seed=3)
    make_case("nchw_cumulative_unbiased", "NCHW", (2, 65, 3, 1), None, True, 5, seed=4)
    make_case("nchw_momentum_biased_largemean", "NCHW", (3, 2, 4, 4), 0.3, False, 3, seed=5, mean_offset=1e4,
              dtype=torch.float64)
    make_case("nhwc_momentum_unbiased", "NHWC", (3, 7, 2, 5), 0.1, True, 3, seed=6)
    make_case("nhwc_cumulative_biased", "NHWC", (2, 4, 3, 3), None, False, 3, seed=7)

    bn = torch.nn.BatchNorm2d(6)
    with torch.no_grad():
        bn.weight.copy_(torch.linspace(0.5, 1.5, 6))
        bn.bias.copy_(torch.linspace(-1, 1, 6))
    bn.train()
    g = torch.Generator().manual_seed(11)
    for _ in range(3):
        bn(torch.randn(4, 6, 3, 3, generator=g) * 2 + 1)
    np.savez(os.path.join(OUT, "torch_state_dict.npz"),
             **{k: v.detach().numpy() for k, v in bn.state_dict().items()})


if __name__ == "__main__":
    main()
