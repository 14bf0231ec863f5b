#!/usr/bin/env python3
"""Golden files for the bn4j command-line tests, computed by PyTorch (CPU) as the reference.

Run with Debian's python3-torch:  /usr/bin/python3 scripts/make-cli-golden.py
Writes src/test/resources/golden/cli/:
  x_nchw.npy        float32 (10, 3, 2, 3), mean about 5: three batches of 4, 4, 2 at --batch-size 4
  x_nhwc.npy        the same values in NHWC (10, 2, 3, 3)
  x_nc.npy          float32 (9, 5): batches 4, 4, 1 (the last has 1 value per channel)
  CASE_y.npy        training-mode outputs of every batch, NCHW
  CASE_state.npz    weight, bias, running_mean, running_var, num_batches_tracked after fit
  CASE_eval.npy     eval-mode output of all of x_nchw with that state
  CASE_eval1.npy    eval-mode output of x_nchw[:1] alone
  nc_drop_last_state.npz   fit of x_nc with --batch-size 4 --drop-last (two batches)
  recalibrated_state.npz   momentum_state.npz with running_mean and running_var of all of x_nchw
                           (torch.var, unbiased over all N*H*W values of a channel)
  fold_bn.npz              a BatchNorm state_dict with random gamma, beta and running statistics (C=3)
  fold_linear_w.npy, fold_linear_b.npy   a Linear(4, 3): weight (3, 4), bias (3,)
  fold_conv_w.npy, fold_conv_b.npy       a Conv2d(2, 3, 3): weight (3, 2, 3, 3), bias (3,)
  fold_linear_x.npy, fold_conv_x.npy     inputs (5, 4) and (2, 2, 5, 6)
  fold_KIND_y.npy          bn(layer(x)) in eval mode, unfused
  fold_KIND_fused.npz      weight and bias from torch.nn.utils.fusion.fuse_KIND_bn_eval
CASE: momentum (PyTorch's default 0.1) and cumulative (momentum=None).
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "src", "test", "resources", "golden", "cli")


def fit(x, batch, momentum, drop_last=False):
    c = x.shape[1]
    rm, rv = torch.zeros(c, dtype=torch.float32), torch.ones(c, dtype=torch.float32)
    ys, t = [], 0
    for start in range(0, x.shape[0], batch):
        xb = x[start:start + batch]
        if drop_last and xb.shape[0] < batch:
            break
        t += 1
        factor = momentum if momentum is not None else 1.0 / t
        ys.append(F.batch_norm(xb, rm, rv, None, None, training=True, momentum=factor, eps=1e-5))
    return torch.cat(ys), rm, rv, t


def save_state(path, rm, rv, t):
    """As a BatchNorm2d(C) state_dict saved with numpy: gamma 1 and beta 0, as bn4j fit starts."""
    c = rm.shape[0]
    np.savez(path, weight=np.ones(c, np.float32), bias=np.zeros(c, np.float32), running_mean=rm.numpy(),
             running_var=rv.numpy(), num_batches_tracked=np.int64(t))


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(4)
    x = (torch.randn(10, 3, 2, 3) * 2 + 5).float()
    np.save(os.path.join(OUT, "x_nchw.npy"), x.numpy())
    np.save(os.path.join(OUT, "x_nhwc.npy"), x.permute(0, 2, 3, 1).contiguous().numpy())
    for case, momentum in (("momentum", 0.1), ("cumulative", None)):
        y, rm, rv, t = fit(x, 4, momentum)
        np.save(os.path.join(OUT, case + "_y.npy"), y.numpy())
        save_state(os.path.join(OUT, case + "_state.npz"), rm, rv, t)
        evaluated = F.batch_norm(x, rm, rv, None, None, training=False, eps=1e-5)
        np.save(os.path.join(OUT, case + "_eval.npy"), evaluated.numpy())
        np.save(os.path.join(OUT, case + "_eval1.npy"), evaluated[:1].numpy())
    nc = (torch.randn(9, 5) * 3 - 2).float()
    np.save(os.path.join(OUT, "x_nc.npy"), nc.numpy())
    _, rm, rv, t = fit(nc, 4, 0.1, drop_last=True)
    save_state(os.path.join(OUT, "nc_drop_last_state.npz"), rm, rv, t)
    recalibration(x)
    folding()


def recalibration(x):
    _, rm, rv, t = fit(x, 4, 0.1)
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=True)
    save_state(os.path.join(OUT, "recalibrated_state.npz"), mean, var, t)


def folding():
    torch.manual_seed(24)
    bn = torch.nn.BatchNorm1d(3)
    with torch.no_grad():
        bn.weight.copy_(torch.rand(3) + 0.5)
        bn.bias.copy_(torch.randn(3))
        bn.running_mean.copy_(torch.randn(3) * 2 + 1)
        bn.running_var.copy_(torch.rand(3) * 3 + 0.1)
        bn.num_batches_tracked.fill_(7)
    bn.eval()
    np.savez(os.path.join(OUT, "fold_bn.npz"), **{k: v.numpy() for k, v in bn.state_dict().items()})
    bn2 = torch.nn.BatchNorm2d(3)
    bn2.load_state_dict(bn.state_dict())
    bn2.eval()
    layers = (("linear", torch.nn.Linear(4, 3), torch.randn(5, 4), bn, torch.nn.utils.fusion.fuse_linear_bn_eval),
              ("conv", torch.nn.Conv2d(2, 3, 3), torch.randn(2, 2, 5, 6), bn2, torch.nn.utils.fusion.fuse_conv_bn_eval))
    for kind, layer, x, norm, fuse in layers:
        layer.eval()
        np.save(os.path.join(OUT, "fold_%s_w.npy" % kind), layer.weight.detach().numpy())
        np.save(os.path.join(OUT, "fold_%s_b.npy" % kind), layer.bias.detach().numpy())
        np.save(os.path.join(OUT, "fold_%s_x.npy" % kind), x.numpy())
        with torch.no_grad():
            np.save(os.path.join(OUT, "fold_%s_y.npy" % kind), norm(layer(x)).numpy())
            fused = fuse(layer, norm)
            np.savez(os.path.join(OUT, "fold_%s_fused.npz" % kind), weight=fused.weight.numpy(),
                     bias=fused.bias.numpy())


if __name__ == "__main__":
    main()
