"""Two threads against one for ``Pipeline.augment_batch``, next to a pure-CPU two-thread control.

Issue 16's thread targets: ``augment_batch`` with ``threads=2`` at least 1.6x ``threads=1`` at
256x256 and 1.3x at 28x28 (batch 2048). The pipeline owns one thread pool, made on its first
call with ``threads > 1`` and reused by every later call (``Pipeline._pool``; before, every
call built and shut down a pool of its own). The control is the same
pair of runs on work that needs no Python at all (two GIL-free numpy sorts), so a ratio below
target next to a control below 2 says the machine, not augcore, was short of a second core.

Each round times every runner once, interleaved; the table shows medians over rounds.
Run: ``python bench/threads.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import functools
import statistics
import time
from collections.abc import Callable

import numpy as np
from bench_common import rounds_option, two_sorts

import augcore

BENCH_SEED = 0
CASES = ((28, 2048, 1.3), (256, 128, 1.6))  # side, batch, target speed-up of 2 threads


def timed_rounds(runs: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each run over ``rounds`` interleaved rounds, after a warm-up round."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for round_index in range(rounds + 1):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            if round_index:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> None:
    rounds, quick = rounds_option(__doc__.splitlines()[0], 9, argv)
    serial, parallel = two_sorts(np.random.default_rng(BENCH_SEED).random(1_000_000))
    control_runs = {"control 1 thread": serial, "control 2 threads": parallel}
    print(f"{'size':<9}{'batch':>6}  {'2 threads vs 1':>15}{'control':>9}  target")
    rng = np.random.default_rng(BENCH_SEED)
    for side, batch, target in CASES:
        batch = batch // 8 if quick else batch
        images = rng.integers(0, 256, (batch, side, side, 3), dtype=np.uint8)
        pipeline = augcore.Pipeline.default()
        runs = {
            f"{threads}": functools.partial(
                pipeline.augment_batch, images, seed=BENCH_SEED, threads=threads
            )
            for threads in (1, 2)
        }
        medians = timed_rounds({**runs, **control_runs}, rounds)
        speedup = medians["1"] / medians["2"]
        control = medians["control 1 thread"] / medians["control 2 threads"]
        verdict = "met" if speedup >= target else "MISSED"
        ratios = f"{speedup:>14.2f}x{control:>8.2f}x"
        print(f"{side}x{side:<5}{batch:>6}  {ratios}  >= {target}x {verdict}")


if __name__ == "__main__":
    main()
