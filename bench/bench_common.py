"""What several benchmarks share: the seed script's settings and a way to reach the real Keras.

Running ``python bench/<script>.py`` puts bench/ first on ``sys.path``, where bench/keras.py
would pass for the ``keras`` package; ``bench_folder_last()`` moves that entry behind
site-packages so ``import keras`` finds the real one. (Removing it instead would break worker
processes started by a forkserver, which re-import the script, and so this module, with the
parent's ``sys.path``.)
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

# The seed's ImageDataGenerator arguments (shared/seed), as Keras spells them.
SEED_SCRIPT_SETTINGS = dict(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode="nearest",
)

# The same chain in augcore's terms (augcore/data/default.toml) and as the peers spell it.
ROTATE_DEGREES = 40.0
SHIFT_FRACTION = 0.2
SHEAR_DEGREES = 0.2  # Keras reads shear_range in degrees, so the seed's 0.2 is 0.2 degrees.
ZOOM_FRACTION = 0.2


def albumentations_seed_chain(seed: int) -> tuple[Any, str] | None:
    """The seed's chain as an Albumentations Compose (one OpenCV thread), and its version.

    ``A.Affine`` with nearest interpolation and replicated borders, then ``A.HorizontalFlip``;
    None (with the reason on stderr) when Albumentations is not installed.
    """
    try:
        import albumentations as A
        import cv2
    except ImportError as error:
        print(f"albumentations not measured: {error}", file=sys.stderr)
        return None
    compose = A.Compose(
        [
            A.Affine(
                rotate=(-ROTATE_DEGREES, ROTATE_DEGREES),
                translate_percent=(-SHIFT_FRACTION, SHIFT_FRACTION),
                shear=(-SHEAR_DEGREES, SHEAR_DEGREES),
                scale=(1 - ZOOM_FRACTION, 1 + ZOOM_FRACTION),
                interpolation=cv2.INTER_NEAREST,
                border_mode=cv2.BORDER_REPLICATE,
                p=1.0,
            ),
            A.HorizontalFlip(p=0.5),
        ],
        seed=seed,
    )
    cv2.setNumThreads(1)
    return compose, A.__version__


def bench_folder_last() -> None:
    """Move bench/ to the end of ``sys.path`` so ``import keras`` finds the installed package."""
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != here] + [here]


def print_table(columns: list[tuple[str, int]], rows: list[list[str]]) -> None:
    """A Markdown table: ``columns`` are (title, width), the first left-aligned, others right."""

    def line(cells: list[str]) -> str:
        padded = [
            f"{cell:<{width}}" if index == 0 else f"{cell:>{width}}"
            for index, (cell, (_, width)) in enumerate(zip(cells, columns, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    print(line([title for title, _ in columns]))
    print("|" + "|".join("-" * (width + 2) for _, width in columns) + "|")
    for row in rows:
        print(line(row))


def two_sorts(values: np.ndarray) -> tuple[Callable[[], None], Callable[[], None]]:
    """A pure-CPU thread control: two GIL-free numpy sorts of ``values``, serial and on two
    threads. Their time ratio is what a second core gives this machine right now; no thread
    count of augcore can beat it."""

    def serial() -> None:
        np.sort(values)
        np.sort(values)

    def parallel() -> None:
        workers = [threading.Thread(target=np.sort, args=(values,)) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    return serial, parallel


def rounds_option(description: str, default: int, argv: list[str] | None) -> tuple[int, bool]:
    """Parse ``--rounds N`` / ``--quick`` (3 rounds), print the machine line; (rounds, quick)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="few rounds, for a smoke run")
    parser.add_argument("--rounds", type=int, default=default, help="timed rounds (median kept)")
    args = parser.parse_args(argv)
    rounds = 3 if args.quick else args.rounds
    print(f"numpy {np.__version__}, {os.cpu_count()} CPUs, median of {rounds} interleaved rounds")
    return rounds, args.quick
