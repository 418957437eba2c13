"""What several benchmarks share: the seed script's settings and a way to reach the real Keras.

Running ``python bench/<script>.py`` puts bench/ first on ``sys.path``, where bench/keras.py
would pass for the ``keras`` package; ``bench_folder_last()`` moves that entry behind
site-packages so ``import keras`` finds the real one. (Removing it instead would break worker
processes started by a forkserver, which re-import the script, and so this module, with the
parent's ``sys.path``.)
"""

from __future__ import annotations

import os
import sys

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
