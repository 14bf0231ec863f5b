#!/usr/bin/env python3
"""Turns JMH's JSON from CpuBatchNormBenchmark into a table of GB/s beside the copy ceiling."""
import json
import sys

PASSES = {"trainForward": 2, "inference": 2, "backward": 3, "scaleCopy": 2}


def elements(shape):
    count = 1
    for d in shape.split(":")[1].split("x"):
        count *= int(d)
    return count


def main(path):
    rows = {}
    for record in json.load(open(path)):
        op = record["benchmark"].rsplit(".", 1)[1]
        shape = record["params"]["shape"]
        micros = record["primaryMetric"]["score"]
        gbps = PASSES[op] * 4 * elements(shape) / (micros * 1e-6) / 1e9
        rows.setdefault(shape, {})[op] = (micros, gbps)
    print(f"{'shape':24} {'op':13} {'time (ms)':>10} {'GB/s':>7} {'copy GB/s':>10} {'of copy':>8}")
    for shape, ops in rows.items():
        copy = ops.get("scaleCopy", (None, float("nan")))[1]
        for op in ("trainForward", "inference", "backward"):
            if op in ops:
                micros, gbps = ops[op]
                print(f"{shape:24} {op:13} {micros / 1000:10.3f} {gbps:7.2f} {copy:10.2f} {gbps / copy:8.0%}")


if __name__ == "__main__":
    main(sys.argv[1])
