#!/usr/bin/env python3
"""Cross-checks bn4j's `fit` and `apply` against PyTorch's batch norm on the same device.

Each case draws fresh random data (awkward sizes, some with large means), trains one layer's
running statistics over 20 batches with `bn4j fit` (random gamma, beta and starting statistics
given as --state-in), then normalizes fresh data and a single example with `bn4j apply`. The same
steps run in PyTorch (torch.nn.functional.batch_norm) in float32 on --device, and in float64 on
the CPU as the reference both are measured against. Backward has no command line; the test suite
checks it (float64 references and PyTorch golden data), on CUDA when run with the backend forced.

  Here (CPU):      /usr/bin/python3 scripts/torch-crosscheck.py
  On a GPU host:   python3 scripts/torch-crosscheck.py --bn4j bundle/bn4j --backend cuda --device cuda

Error of a against b: max |a - b| / max(1, |b|) over the elements (absolute for values up to 1,
relative above). A case fails when ours is further than its tolerance from the float64
reference. Exit status 1 when any case fails. --json writes every figure.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

BATCHES = 20
EPS = 1e-5
# Normalized outputs are O(1) and made of a few float32 roundings; running statistics are fp64
# sums rounded to float once per batch, 20 times.
OUTPUT_TOLERANCE = 2e-5
STATS_TOLERANCE = 4e-6

# (layout, one batch's shape in that layout, last batch's size, mean of the data, momentum or
# None for the cumulative average, num_batches_tracked at the start)
CASES = [
    ("NCHW", (7, 3, 5, 7), 5, 0.0, 0.1, 0),
    ("NCHW", (1, 65, 3, 3), 1, 1e4, None, 0),
    ("NCHW", (13, 17, 11, 13), 2, 300.0, 0.3, 0),
    ("NCHW", (64, 4, 33, 33), 64, -2.0, 0.1, 0),
    ("NCHW", (16, 32, 15, 15), 9, 50.0, None, 5),
    ("NHWC", (7, 5, 7, 65), 3, 1e3, 0.1, 0),
    ("NHWC", (2, 1, 1, 7), 2, 0.0, None, 0),
    ("NHWC", (16, 15, 15, 32), 16, -1e3, 0.01, 0),
    ("NC", (257, 65), 100, 1e4, 0.1, 0),
    ("NC", (3, 1031), 2, 0.0, 0.01, 0),
    ("NC", (65, 1), 65, -50.0, None, 3),
    ("NC", (4096, 8), 4096, 7.0, 0.1, 0),
]


def to_nchw(t, layout):
    """A tensor in PyTorch's (N, C, ...) order; NHWC becomes a channels-last view, not a copy."""
    return t.permute(0, 3, 1, 2) if layout == "NHWC" else t


def from_nchw(t, layout):
    return t.permute(0, 2, 3, 1) if layout == "NHWC" else t


def torch_fit(x, batch, layout, state, momentum, dtype, device):
    """PyTorch's training steps: the outputs of all batches and the running statistics after."""
    def param(name):
        return torch.from_numpy(state[name]).to(device=device, dtype=dtype)

    weight, bias = param("weight"), param("bias")
    mean, var = param("running_mean"), param("running_var")
    tracked = int(state["num_batches_tracked"])
    xs = torch.from_numpy(x).to(device=device, dtype=dtype)
    ys = []
    for start in range(0, x.shape[0], batch):
        tracked += 1
        factor = momentum if momentum is not None else 1.0 / tracked
        y = F.batch_norm(to_nchw(xs[start:start + batch], layout), mean, var, weight, bias, training=True,
                         momentum=factor, eps=EPS)
        ys.append(from_nchw(y, layout))
    return torch.cat(ys), weight, bias, mean, var, tracked


def torch_eval(x, layout, weight, bias, mean, var, dtype, device):
    xs = torch.from_numpy(x).to(device=device, dtype=dtype)
    return from_nchw(F.batch_norm(to_nchw(xs, layout), mean, var, weight, bias, training=False, eps=EPS), layout)


def error(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))))


def numpy_of(t):
    return t.detach().to("cpu").numpy()


def run_bn4j(bn4j, args):
    command = bn4j + args
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError("failed (exit %d): %s\n%s" % (done.returncode, shlex.join(command), done.stderr[-2000:]))


def check_case(case, bn4j, backend, device, work, rng):
    layout, batch_shape, last, mean, momentum, tracked = case
    batch, c = batch_shape[0], batch_shape[-1] if layout == "NHWC" else batch_shape[1]
    n = batch * (BATCHES - 1) + last
    x = (rng.standard_normal((n,) + batch_shape[1:]) * rng.uniform(0.5, 3.0) + mean).astype(np.float32)
    fresh = (rng.standard_normal((max(batch, 2),) + batch_shape[1:]) * 2 + mean).astype(np.float32)
    state = {
        "weight": rng.uniform(-1.5, 1.5, c).astype(np.float32),
        "bias": rng.standard_normal(c).astype(np.float32),
        "running_mean": (rng.standard_normal(c) + mean).astype(np.float32),
        "running_var": rng.uniform(0.5, 2.0, c).astype(np.float32),
        "num_batches_tracked": np.int64(tracked),
    }
    paths = {name: os.path.join(work, name) for name in
             ("x.npy", "fresh.npy", "one.npy", "s0.npz", "s.npz", "y.npy", "eval.npy", "eval1.npy")}
    np.save(paths["x.npy"], x)
    np.save(paths["fresh.npy"], fresh)
    np.save(paths["one.npy"], fresh[:1])
    np.savez(paths["s0.npz"], **state)

    averaging = ["--cumulative"] if momentum is None else ["--momentum", repr(momentum)]
    started = time.monotonic()
    run_bn4j(bn4j, ["fit", "--backend", backend, "--input", paths["x.npy"], "--layout", layout,
                    "--batch-size", str(batch), "--eps", repr(EPS), "--state-in", paths["s0.npz"],
                    "--state-out", paths["s.npz"], "--output", paths["y.npy"]] + averaging)
    for data, out in (("fresh.npy", "eval.npy"), ("one.npy", "eval1.npy")):
        run_bn4j(bn4j, ["apply", "--backend", backend, "--input", paths[data], "--layout", layout,
                        "--state", paths["s.npz"], "--output", paths[out]])
    seconds = time.monotonic() - started
    ours_state = np.load(paths["s.npz"])
    ours = {
        "train_y": np.load(paths["y.npy"]),
        "running_mean": ours_state["running_mean"],
        "running_var": ours_state["running_var"],
        "eval_y": np.load(paths["eval.npy"]),
        "eval_one": np.load(paths["eval1.npy"]),
    }

    def steps(dtype, where):
        y, w, b, m, v, t = torch_fit(x, batch, layout, state, momentum, dtype, where)
        return {"train_y": numpy_of(y), "running_mean": numpy_of(m), "running_var": numpy_of(v),
                "eval_y": numpy_of(torch_eval(fresh, layout, w, b, m, v, dtype, where)),
                "eval_one": numpy_of(torch_eval(fresh[:1], layout, w, b, m, v, dtype, where))}, t

    exact, exact_tracked = steps(torch.float64, "cpu")
    peer, _ = steps(torch.float32, device)
    if device == "cuda":
        torch.cuda.synchronize()
    # The float64 chain keeps its running statistics in fp64, but each side saves them as float32,
    # which alone moves an output by up to half an ulp of the mean times the scale: 2e-3 at a mean
    # of 1e4. So each side's eval outputs are measured against float64 arithmetic on the float32
    # statistics that side holds; the statistics themselves are checked against the fp64 chain.
    def exact_eval(held):
        args = [torch.from_numpy(np.asarray(held[k], dtype=np.float64))
                for k in ("weight", "bias", "running_mean", "running_var")]
        return [numpy_of(torch_eval(data, layout, *args, torch.float64, "cpu")) for data in (fresh, fresh[:1])]

    ours_exact_eval = exact_eval(ours_state)
    peer_exact_eval = exact_eval({"weight": state["weight"], "bias": state["bias"],
                                  "running_mean": peer["running_mean"], "running_var": peer["running_var"]})

    figures = {}
    failures = []
    for name in ours:
        tolerance = STATS_TOLERANCE if name.startswith("running") else OUTPUT_TOLERANCE
        ours_exact, peer_exact = exact[name], exact[name]
        if name.startswith("eval"):
            which = 0 if name == "eval_y" else 1
            ours_exact, peer_exact = ours_exact_eval[which], peer_exact_eval[which]
        ours_error = error(ours[name], ours_exact)
        figures[name] = {
            "ours_vs_float64": ours_error,
            "peer_vs_float64": error(peer[name], peer_exact),
            "ours_vs_peer": error(ours[name], peer[name]),
            "tolerance": tolerance,
        }
        if not ours_error <= tolerance:
            failures.append("%s: error %.3g against float64, tolerance %.0e" % (name, ours_error, tolerance))
    for name in ("weight", "bias"):  # fit trains the statistics only: gamma and beta pass through
        if not np.array_equal(ours_state[name], state[name]):
            failures.append("%s changed by fit" % name)
    if int(ours_state["num_batches_tracked"]) != exact_tracked:
        failures.append("num_batches_tracked %d, expected %d" % (int(ours_state["num_batches_tracked"]), exact_tracked))
    return {
        "layout": layout,
        "batch_shape": list(batch_shape),
        "batches": BATCHES,
        "last_batch": last,
        "mean": mean,
        "averaging": "cumulative" if momentum is None else "momentum %g" % momentum,
        "num_batches_tracked_start": tracked,
        "bn4j_seconds": round(seconds, 2),
        "errors": figures,
        "failures": failures,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bn4j", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "bn4j"),
                        help="the bn4j command (default: scripts/bn4j; on a GPU host bundle/bn4j)")
    parser.add_argument("--backend", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where PyTorch runs")
    parser.add_argument("--seed", type=int, default=None, help="default: a fresh seed, printed")
    parser.add_argument("--json", help="write every figure to this file")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
    rng = np.random.default_rng(seed)
    bn4j = shlex.split(args.bn4j)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    print("# bn4j %s (--backend %s) against PyTorch %s on %s; seed %d" % (
        args.bn4j, args.backend, torch.__version__, device_name, seed))
    print("# error: max |a - b| / max(1, |b|); ours/peer against float64 on the CPU, and ours against the peer")
    print("%-6s %-16s %-5s %-8s %-14s %-13s %10s %10s %10s  %s" % (
        "layout", "batch shape", "last", "mean", "averaging", "output", "ours", "peer", "ours-peer", "result"))
    results = []
    with tempfile.TemporaryDirectory(prefix="bn4j-crosscheck-") as work:
        for case in CASES:
            result = check_case(case, bn4j, args.backend, args.device, work, rng)
            results.append(result)
            for name, e in result["errors"].items():
                verdict = "ok" if e["ours_vs_float64"] <= e["tolerance"] else "FAIL"
                print("%-6s %-16s %-5d %-8g %-14s %-13s %10.2e %10.2e %10.2e  %s" % (
                    result["layout"], "x".join(map(str, result["batch_shape"])), result["last_batch"],
                    result["mean"], result["averaging"], name, e["ours_vs_float64"], e["peer_vs_float64"],
                    e["ours_vs_peer"], verdict))
            for failure in result["failures"]:
                print("  FAIL: " + failure)
    failed = sum(1 for r in results if r["failures"])
    print("# %d cases, %d failed" % (len(results), failed))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"bn4j": args.bn4j, "backend": args.backend, "device": device_name,
                       "torch": torch.__version__, "seed": seed, "cases": results}, out, indent=1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
