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


if __name__ == "__main__":
    main()
