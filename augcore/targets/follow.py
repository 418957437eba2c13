"""Targets follow an output's record: every fused warp of the record, in order.

A record lists the warps that made an output (``fused``: each run's pull map and, when the run
changed the canvas, the ``shape`` it wrote). Targets take the very same warps, so whatever moved the
pixels (a built-in, a plugin's matrix, a crop onto a new canvas) moves the labels with no extra
code, and pixel steps, which are in no fused run, never touch them.

A batch is moved warp by warp: the k-th warp of every output that has one is applied in one
call (masks in one kernel call per canvas), and each output's targets are exactly those its
own record gives on its own, so ``augment`` and ``augment_batch`` agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from augcore.targets.move import (
    DroppedBox,
    MovedTargets,
    TargetOptions,
    Targets,
    move_targets_batch,
)
from augcore.targets.types import CanvasShape


def follow_records(
    targets: Sequence[Targets],
    records: Sequence[Any],
    shape: CanvasShape,
    *,
    options: TargetOptions | None = None,
    fill_mode: str = "nearest",
    threads: int = 1,
) -> list[MovedTargets]:
    """Move ``targets[i]`` through the warps of ``records[i]`` (a ``Record`` or its dict).

    ``shape`` is the (H, W) of the images the records start from.
    """
    options = options or TargetOptions()
    runs = [_runs(record) for record in records]
    state = []
    for item in targets:
        item.check_canvas(shape)
        state.append(MovedTargets(item, np.arange(0 if item.boxes is None else len(item.boxes))))
    shapes = [tuple(shape)] * len(state)
    for level in range(max((len(r) for r in runs), default=0)):
        groups: dict[tuple[Any, ...], list[int]] = {}
        for i, item_runs in enumerate(runs):
            if level < len(item_runs):
                out_shape = run_output_shape(item_runs[level], shapes[i])
                groups.setdefault((shapes[i], out_shape), []).append(i)
        for (in_shape, out_shape), members in groups.items():
            matrices = np.array(
                [runs[i][level]["matrix"] for i in members], dtype=np.float64
            ).reshape(-1, 3, 3)
            moved = move_targets_batch(
                [state[i].targets for i in members],
                matrices,
                in_shape,
                out_shape,
                options=options,
                fill_mode=fill_mode,
                threads=threads,
            )
            for i, step in zip(members, moved, strict=True):
                state[i] = _chain(state[i], step)
                shapes[i] = out_shape
    return state


def _runs(record: Any) -> list[Mapping[str, Any]]:
    fused = record["fused"] if isinstance(record, Mapping) else record.fused
    return list(fused)


def run_output_shape(run: Mapping[str, Any], shape: tuple[int, ...]) -> tuple[int, int]:
    """The canvas a fused run warps onto: its recorded ``shape`` when it changes the canvas,
    else the canvas it started from."""
    recorded = run.get("shape")
    chosen = shape if recorded is None else recorded
    return (int(chosen[0]), int(chosen[1]))


def _chain(before: MovedTargets, step: MovedTargets) -> MovedTargets:
    """Two moves as one: indices of kept and dropped boxes refer to the original boxes."""
    dropped = before.dropped + [
        DroppedBox(index=int(before.kept[d["index"]]), reason=d["reason"]) for d in step.dropped
    ]
    return MovedTargets(step.targets, before.kept[step.kept], sorted(dropped, key=_index))


def _index(dropped: DroppedBox) -> int:
    return dropped["index"]
