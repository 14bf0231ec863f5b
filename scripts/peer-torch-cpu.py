#!/usr/bin/env python3
"""The peer on the CPU: PyTorch's batch norm as its users call it (torch.nn.functional.batch_norm),
on the shapes of CpuBatchNormBenchmark, with the same thread count. Prints milliseconds per call
(median of repeats) and GB/s at the same floor pass counts as scripts/bench-table.py.
Run with Debian's python3-torch:  /usr/bin/python3 scripts/peer-torch-cpu.py [threads]
"""
import statistics
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = [("NCHW", (64, 256, 28, 28)), ("NCHW", (32, 64, 56, 56)), ("NC", (4096, 1024))]


def timed(fn, repeats=15):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    torch.set_num_threads(threads)
    print(f"PyTorch {torch.__version__}, {threads} threads")
    print(f"{'shape':24} {'op':13} {'time (ms)':>10} {'GB/s':>7}")
    for layout, shape in SHAPES:
        c = shape[1]
        x = torch.randn(shape) * 2 + 3
        dy = torch.randn(shape)
        w, b = torch.ones(c, requires_grad=True), torch.zeros(c, requires_grad=True)
        rm, rv = torch.zeros(c), torch.ones(c)
        nbytes = x.numel() * 4
        name = f"{layout}:{'x'.join(map(str, shape))}"
        with torch.no_grad():
            t = timed(lambda: F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5))
            print(f"{name:24} {'trainForward':13} {t * 1e3:10.3f} {2 * nbytes / t / 1e9:7.2f}")
            t = timed(lambda: F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5))
            print(f"{name:24} {'inference':13} {t * 1e3:10.3f} {2 * nbytes / t / 1e9:7.2f}")
        xg = x.clone().requires_grad_(True)

        def backward():
            y = F.batch_norm(xg, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
            torch.autograd.grad(y, (xg, w, b), dy)

        # Includes the forward that autograd needs; the forward's time is printed above to subtract.
        t = timed(backward)
        print(f"{name:24} {'fwd+backward':13} {t * 1e3:10.3f} {5 * nbytes / t / 1e9:7.2f}")


if __name__ == "__main__":
    main()
