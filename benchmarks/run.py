"""Run every benchmark section in one process and print Markdown tables of ratios.

make bench        (or: python -m benchmarks.run)
"""

from __future__ import annotations

import platform
import sys

from benchmarks import (
    bench_batchnorm,
    bench_engine,
    bench_mlp,
    bench_playground,
    bench_stepper,
    bench_training,
)


def main() -> None:
    print(f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}\n")
    sections = (bench_engine, bench_mlp, bench_training, bench_batchnorm, bench_stepper)
    for section in (*sections, bench_playground):
        print(section.run(), flush=True)


if __name__ == "__main__":
    main()
