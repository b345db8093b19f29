"""Run every benchmark section in one process and print Markdown tables of ratios.

make bench        (or: python -m benchmarks.run)
"""

from __future__ import annotations

import os

# One BLAS thread, set before numpy loads: the batched graph's matrix products are small
# (1,000 x 32), and on a shared 2-core machine OpenBLAS's spinning threads make each one
# ~100x slower (30 ms instead of 0.1 ms under load); one thread also keeps the ratios fair.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import platform
import sys

from benchmarks import (
    bench_batched,
    bench_batchnorm,
    bench_engine,
    bench_mlp,
    bench_playground,
    bench_stepper,
    bench_training,
)


def main() -> None:
    print(f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}\n")
    sections = (bench_engine, bench_mlp, bench_batched, bench_training, bench_batchnorm)
    for section in (*sections, bench_stepper, bench_playground):
        print(section.run(), flush=True)


if __name__ == "__main__":
    main()
