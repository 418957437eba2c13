"""augcore.keras against Keras 3's legacy ImageDataGenerator, timed in this one process.

Both run ``random_transform`` with the seed script's settings (rotation 40, shifts 0.2, shear
0.2, zoom 0.2, horizontal flip, fill "nearest", Keras's default bilinear order 1) on the same
float32 RGB image, unseeded (each draws its own parameters). Calls alternate between the two, and
times are medians in microseconds of wall clock and of this process's CPU time (the honest figure
on a shared machine); "speed-up" is Keras's time over augcore's. Targets: >= 10x at 256x256,
>= 3x at 28x28.

Run: ``python bench/keras.py`` (``--quick`` for a smoke run). Keras is optional: with
``pip install keras jax`` it runs on the jax backend (no TensorFlow needed); without it only
augcore's times are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
from bench_common import SEED_SCRIPT_SETTINGS, bench_folder_last

from augcore.keras import ImageDataGenerator

SIDES = (28, 256)
TARGETS = {28: 3.0, 256: 10.0}


def median_times_us(runs: list[Callable[[], object]], budget_s: float) -> list[tuple[float, float]]:
    """(wall, CPU) median microseconds of each of ``runs``, timed alternately so that load from
    other processes hits every contender alike, for as long as ``budget_s`` allows. CPU time
    (this process only) is what a call costs when the machine is shared."""
    for run in runs:
        run()  # warm-up
    samples: list[tuple[list[float], list[float]]] = [([], []) for _ in runs]
    deadline = time.perf_counter() + budget_s
    while len(samples[0][0]) < 5 or (time.perf_counter() < deadline and len(samples[0][0]) < 5000):
        for run, (wall, cpu) in zip(runs, samples, strict=True):
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            run()
            cpu.append(time.process_time() - cpu_start)
            wall.append(time.perf_counter() - wall_start)
    return [(statistics.median(w) * 1e6, statistics.median(c) * 1e6) for w, c in samples]


def keras_generator() -> object | None:
    """Keras 3's legacy ImageDataGenerator with the seed's settings, or None if not installed."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    bench_folder_last()
    try:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator as KerasGenerator
    except ImportError:
        return None
    return KerasGenerator(**SEED_SCRIPT_SETTINGS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    args = parser.parse_args()
    budget = 0.3 if args.quick else 3.0
    ours = ImageDataGenerator(**SEED_SCRIPT_SETTINGS)
    theirs = keras_generator()
    rng = np.random.default_rng(0)
    print("random_transform, seed-script settings, float32 RGB, one image per call;")
    print(f"median us per call, wall clock and CPU (load average {os.getloadavg()[0]:.1f})")
    print(
        f"{'size':>9} | {'augcore wall':>12} | {'Keras wall':>10} | {'speed-up':>8} | "
        f"{'augcore CPU':>11} | {'Keras CPU':>9} | {'speed-up':>8} | target (wall)"
    )
    print("-" * 104)
    for side in SIDES:
        image = rng.uniform(0, 255, size=(side, side, 3)).astype(np.float32)
        runs = [lambda image=image: ours.random_transform(image)]
        if theirs is not None:
            runs.append(lambda image=image: theirs.random_transform(image))
        (ours_wall, ours_cpu), *keras_times = median_times_us(runs, budget)
        if not keras_times:
            print(
                f"{side:>4}x{side:<4} | {ours_wall:12.1f} | {'n/a':>10} | {'n/a':>8} | "
                f"{ours_cpu:11.1f} | {'n/a':>9} | {'n/a':>8} |"
            )
            continue
        ((keras_wall, keras_cpu),) = keras_times
        ratio = keras_wall / ours_wall
        verdict = "met" if ratio >= TARGETS[side] else "MISSED"
        print(
            f"{side:>4}x{side:<4} | {ours_wall:12.1f} | {keras_wall:10.1f} | {ratio:7.1f}x | "
            f"{ours_cpu:11.1f} | {keras_cpu:9.1f} | {keras_cpu / ours_cpu:7.1f}x | "
            f">= {TARGETS[side]:g}x {verdict}"
        )
    if theirs is None:
        print("Keras is not installed (pip install keras jax): no ratios.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
