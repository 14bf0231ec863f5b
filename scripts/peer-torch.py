#!/usr/bin/env python3
"""The peer: PyTorch's batch norm on the shapes `bn4j bench` names, timed the way bn4j times itself.

    python3 scripts/peer-torch.py [--device cpu|cuda] [--threads N] [--quick] SHAPE... 

SHAPE is layout:sizes in memory order, e.g. NCHW:64x256x28x28, NHWC:32x56x56x64, NC:4096x1024;
append '/inference' to time inference alone. Prints one line per figure:

    op layout sizes seconds

with op in train_forward, inference, backward, and seconds the median time per call. Training
forward and inference are torch.nn.functional.batch_norm as its users call it; backward is the
ATen op autograd calls (native_batch_norm_backward), so its time holds no forward. On CUDA the
times come from CUDA events and the inputs rotate among copies larger than L2, as bn4j's do.
"""
import argparse
import statistics
import time

import torch
import torch.nn.functional as F

EPS = 1e-5
MOMENTUM = 0.1


def parse(text):
    layout, sizes = text.split(":")
    dims = tuple(int(d) for d in sizes.split("x"))
    if layout == "NHWC":  # PyTorch's logical order is N,C,H,W with channels_last memory
        n, h, w, c = dims
        return layout, dims, (n, c, h, w), torch.channels_last
    return layout, dims, dims, torch.contiguous_format


class Timer:
    def __init__(self, device, quick):
        self.device = device
        self.samples = 5 if quick else 15
        self.min_seconds = 0.01 if quick else 0.05

    def median(self, fn):
        """Median seconds per call over samples of k calls, k grown until a sample is long enough."""
        fn(0)
        k = 1
        while True:
            t = self._sample(fn, k)
            if t * k >= self.min_seconds or k >= 1 << 20:
                break
            k *= 2
        return statistics.median(self._sample(fn, k) for _ in range(self.samples))

    def _sample(self, fn, k):
        if self.device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for i in range(k):
                fn(i)
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1e3 / k
        begin = time.perf_counter()
        for i in range(k):
            fn(i)
        return (time.perf_counter() - begin) / k


def copies_needed(device, nbytes):
    """Enough input copies that repeats are not served from the GPU's L2 (50-60 MB on H100/H200)."""
    if device != "cuda":
        return 1
    return max(1, min(8, -(-256 * 2**20 // max(nbytes, 1))))


def run(spec, device, timer):
    inference_only = spec.endswith("/inference")
    layout, dims, logical, memory_format = parse(spec.split("/")[0])
    c = logical[1]
    gen = torch.Generator().manual_seed(1)
    x = (torch.randn(logical, generator=gen) * 2 + 3).contiguous(memory_format=memory_format).to(device)
    copies = copies_needed(device, x.numel() * 4)
    xs = [x] + [x.clone(memory_format=memory_format) for _ in range(copies - 1)]
    w = torch.ones(c, device=device)
    b = torch.zeros(c, device=device)
    rm = torch.zeros(c, device=device)
    rv = torch.ones(c, device=device)
    name = f"{layout} {'x'.join(map(str, dims))}"
    results = []
    with torch.no_grad():
        if not inference_only:
            t = timer.median(lambda i: F.batch_norm(xs[i % copies], rm, rv, w, b, True, MOMENTUM, EPS))
            results.append(("train_forward", t))
        t = timer.median(lambda i: F.batch_norm(xs[i % copies], rm, rv, w, b, False, MOMENTUM, EPS))
        results.append(("inference", t))
        if not inference_only:
            dy = torch.randn(logical, generator=gen).contiguous(memory_format=memory_format).to(device)
            _, save_mean, save_invstd = torch.ops.aten.native_batch_norm(x, w, b, rm, rv, True, MOMENTUM, EPS)
            mask = [True, True, True]
            t = timer.median(lambda i: torch.ops.aten.native_batch_norm_backward(
                dy, xs[i % copies], w, rm, rv, save_mean, save_invstd, True, EPS, mask))
            results.append(("backward", t))
    for op, seconds in results:
        print(f"{op} {name} {seconds:.9g}", flush=True)
    del xs, x


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("shapes", nargs="+")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("peer-torch: CUDA is not available to PyTorch")
    print(f"# PyTorch {torch.__version__} on {args.device}, {torch.get_num_threads()} CPU threads"
          + (f", {torch.cuda.get_device_name()}, cuDNN {torch.backends.cudnn.version()}" if args.device == "cuda" else ""),
          flush=True)
    timer = Timer(args.device, args.quick)
    for spec in args.shapes:
        run(spec, args.device, timer)


if __name__ == "__main__":
    main()
