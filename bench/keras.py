"""augcore.keras against Keras 3's legacy ImageDataGenerator, timed in this one process.

Both run ``random_transform`` with the seed script's settings (rotation 40, shifts 0.2, shear
0.2, zoom 0.2, horizontal flip, fill "nearest", Keras's default bilinear order 1) on the same
float32 RGB image, unseeded (each draws its own parameters). Times are medians in microseconds;
"speed-up" is Keras's time over augcore's. Targets: >= 10x at 256x256, >= 3x at 28x28.

Run: ``python bench/keras.py`` (``--quick`` for a smoke run). Keras is optional: with
``pip install keras jax`` it runs on the jax backend (no TensorFlow needed); without it only
augcore's times are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from augcore.keras import ImageDataGenerator

SEED_SCRIPT_ARGS = dict(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode="nearest",
)
SIDES = (28, 256)
TARGETS = {28: 3.0, 256: 10.0}


def median_us(run: Callable[[], object], budget_s: float) -> float:
    """Median wall time of ``run`` in microseconds over as many repeats as ``budget_s`` allows."""
    run()  # warm-up
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < 5 or (time.perf_counter() < deadline and len(times) < 5000):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def keras_generator() -> object | None:
    """Keras 3's legacy ImageDataGenerator with the seed's settings, or None if not installed."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    # Running this file puts bench/ first on sys.path, where this very file would pass for the
    # `keras` package: drop that entry so `import keras` finds the real one.
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    try:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator as KerasGenerator
    except ImportError:
        return None
    return KerasGenerator(**SEED_SCRIPT_ARGS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run")
    args = parser.parse_args()
    budget = 0.3 if args.quick else 3.0
    ours = ImageDataGenerator(**SEED_SCRIPT_ARGS)
    theirs = keras_generator()
    rng = np.random.default_rng(0)
    print("random_transform, seed-script settings, float32 RGB, one image per call")
    print(f"{'size':>9} | {'augcore.keras us':>16} | {'Keras 3 us':>10} | {'speed-up':>8} | target")
    print(f"{'-' * 9}-+-{'-' * 16}-+-{'-' * 10}-+-{'-' * 8}-+-------")
    for side in SIDES:
        image = rng.uniform(0, 255, size=(side, side, 3)).astype(np.float32)
        ours_us = median_us(lambda image=image: ours.random_transform(image), budget)
        if theirs is None:
            print(f"{side:>4}x{side:<4} | {ours_us:16.1f} | {'n/a':>10} | {'n/a':>8} | ")
            continue
        keras_us = median_us(lambda image=image: theirs.random_transform(image), budget)
        ratio = keras_us / ours_us
        verdict = "met" if ratio >= TARGETS[side] else "MISSED"
        print(
            f"{side:>4}x{side:<4} | {ours_us:16.1f} | {keras_us:10.1f} | {ratio:7.1f}x | "
            f">= {TARGETS[side]:g}x {verdict}"
        )
    if theirs is None:
        print("Keras is not installed (pip install keras jax): no ratios.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
