"""One warp per geometric run, across canvas changes, without aliasing on shrink.

A run of consecutive geometric steps becomes one (n, 3, 3) pull map per output: each step's
matrices, composed in order. Every step maps its own canvas onto its input's, so the product
maps the run's final canvas straight onto the input image, and the kernel is called once from
the input to the final canvas. The rules this module keeps:

- A step that did not fire on an output contributes the plain resize of its input onto its
  canvas (pixel centre onto pixel centre): the identity when the step keeps the canvas, so a
  batch stays rectangular whatever fired.
- Where the fused map shrinks by a factor f >= 2 along an input axis
  (``augcore.reduce.reduce_factors``), the source is first box-reduced by floor(f) along that
  axis (equal to Pillow's ``Image.reduce``) and the map is moved onto the reduced image. Each
  output's factors are a function of its own matrix, so single and batch calls give the same bytes;
  outputs with different factors are warped in separate kernel calls.
- The factors are recorded (``reduce`` in a fused run) and replay follows the record, so a
  record without them, written before box reduce existed, replays as it was made.
- A projective step followed by others may pull later steps' samples from beyond its
  horizon (w <= 0: a rotation after a strong perspective reaches past the moved corners),
  where one fused map has no meaning. Such an output is warped in two stages instead: the
  run up to its last projective step onto that step's canvas, then the rest, so those
  samples take the fill as they would step by step. The record says ``stages: 2``; the cut
  is a pure function of the output's matrices, so replay makes the same one. (A projective
  map that folds on its own canvas is refused by the kernel.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import numpy as np

from augcore._warp_checks import (
    affine_rows,
    as_channels_last,
    kernel_args,
    mode_code,
    projective_rows,
    threads_and_executor,
    warp_range,
)
from augcore.reduce import box_reduce_regions, reduce_factors_batch, reduce_plan
from augcore.transform import ImageShape, compose, is_projective, region_matrices
from augcore.warp import warp_affine_batch, warp_perspective_batch

NO_REDUCE = (1, 1)


@dataclass(frozen=True)
class FusedWarp:
    """A geometric run's warp for a batch: the fused maps, the canvas, the box reduce."""

    matrices: np.ndarray  #: (n, 3, 3) fused pull maps, final canvas -> input
    shape: tuple[int, int] | None  #: the final canvas when it differs from the run's input
    reduce: np.ndarray  #: (n, 2) int64 box-reduce factors (rows, columns), 1 = none
    staged: np.ndarray  #: (n,) bool: warped in two stages (see the module docstring)


def plain_resize(n: int, shape: ImageShape, canvas: ImageShape) -> np.ndarray:
    """(n, 3, 3) pull maps resizing a whole ``shape`` image onto ``canvas``; exactly the
    identity when the two sizes are equal."""
    zeros = np.zeros(n, np.int64)
    return region_matrices(zeros, zeros, np.full(n, shape[0]), np.full(n, shape[1]), canvas)


def beyond_horizon(matrices: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """(n,) bool: which projective maps have w <= 0 at a corner of ``canvas`` (w is affine in
    the output coordinates, so the corners decide for the whole canvas)."""
    if not is_projective(matrices):
        return np.zeros(matrices.shape[0], dtype=bool)
    last_r, last_c = canvas[0] - 1.0, canvas[1] - 1.0
    w = [
        matrices[:, 2, 0] * r + matrices[:, 2, 1] * c + matrices[:, 2, 2]
        for r, c in ((0.0, 0.0), (0.0, last_c), (last_r, 0.0), (last_r, last_c))
    ]
    return np.logical_or.reduce([corner <= 0 for corner in w])


def fuse(
    per_leaf: Sequence[np.ndarray], canvas: tuple[int, int], resized: bool
) -> FusedWarp:
    """The run's fused warp: maps composed in order, box-reduce factors, two-stage outputs."""
    matrices = reduce(compose, per_leaf)
    staged = beyond_horizon(matrices, canvas)
    factors = np.ones((matrices.shape[0], 2), dtype=np.int64)
    direct = ~staged
    if direct.any():
        factors[direct] = reduce_factors_batch(matrices[direct], canvas)
    return FusedWarp(matrices, canvas if resized else None, factors, staged)


def warp_run(
    images: np.ndarray,
    warp: FusedWarp,
    per_leaf: Sequence[np.ndarray],
    canvases: Sequence[tuple[int, int]],
    options: Mapping[str, Any],
    threads: int = 1,
) -> np.ndarray:
    """Warp ``images`` (one per fused map) onto the run's canvas: outputs in one warp, and the
    staged ones in two (``canvases[j]`` is the canvas of the run's step j)."""
    canvas = warp.shape or images.shape[1:3]
    if not warp.staged.any():
        return warp_outputs(images, warp.matrices, warp.reduce, canvas, options, threads)
    out = np.empty((images.shape[0], *canvas, *images.shape[3:]), dtype=images.dtype)
    direct = np.flatnonzero(~warp.staged)
    if direct.size:
        out[direct] = warp_outputs(
            images[direct], warp.matrices[direct], warp.reduce[direct], canvas, options, threads
        )
    staged = np.flatnonzero(warp.staged)
    # Cut after each output's last projective step (the last step that is projective for it).
    cut = np.zeros(staged.size, dtype=np.int64)
    for j, matrices in enumerate(per_leaf):
        projective = matrices[staged, 2, :2].any(axis=1) | (matrices[staged, 2, 2] != 1.0)
        cut[projective] = j
    for j in np.unique(cut).tolist():
        which = staged[cut == j]
        first = reduce(compose, [m[which] for m in per_leaf[: j + 1]])
        middle = _warp(images[which], first, canvases[j], options, threads)
        if j + 1 < len(per_leaf):
            rest = reduce(compose, [m[which] for m in per_leaf[j + 1 :]])
            middle = _warp(middle, rest, canvas, options, threads)
        out[which] = middle
    return out


def warp_outputs(
    images: np.ndarray,
    matrices: np.ndarray,
    reduce: np.ndarray,
    canvas: tuple[int, int],
    options: Mapping[str, Any],
    threads: int = 1,
) -> np.ndarray:
    """Warp each image with its map onto ``canvas``, box-reducing first by its factors: one
    checked kernel call when nothing shrinks by 2 or more, else ``_warp_runs``."""
    if all(tuple(pair) == NO_REDUCE for pair in reduce.tolist()):
        return _warp(images, matrices, canvas, options, threads)
    out = np.empty((images.shape[0], *canvas, *images.shape[3:]), dtype=images.dtype)
    _warp_runs(images, matrices, reduce, np.ones(len(images), bool), canvas, options, threads, out)
    return out


def warp_changed(
    images: np.ndarray,
    warp: FusedWarp,
    changed: np.ndarray,
    options: Mapping[str, Any],
    threads: int = 1,
) -> np.ndarray:
    """A new batch like ``images``: the outputs ``changed`` marks warped with their maps onto
    the same canvas, the others copied (with two thirds of a batch changed, gathering the
    sources, copying the batch and scattering the results took as long as the warps). No
    staged outputs."""
    out = np.empty(images.shape, images.dtype)  # C order: _warp_runs writes through a view
    _warp_runs(images, warp.matrices, warp.reduce, changed, images.shape[1:3], options, threads,
               out)  # fmt: skip
    return out


def _warp_runs(
    images: np.ndarray,
    matrices: np.ndarray,
    reduce: np.ndarray,
    fired: np.ndarray,
    canvas: tuple[int, int],
    options: Mapping[str, Any],
    threads: int,
    out: np.ndarray,
) -> None:
    """Into ``out``: the ``fired`` outputs warped (box-reduced first by their factors), the
    others copied from ``images`` (same canvas).

    Everything is checked once for the whole batch, then each run of consecutive outputs alike
    (fired or not, the same factors) is copied, or reduced (only the boxes its maps read) and
    warped, by direct kernel calls on ranges and views: no source is copied (gathering each
    factor's images cost as much as the warp for large sources), and a run costs about 3 us
    over its kernels (a checked call per run cost 13 us for the warp and 28 us for the reduce).
    """
    source = as_channels_last(images, "images", batch=True)
    target = out.reshape(source.shape[0], *canvas, source.shape[3])
    maps, regions = reduce_plan(matrices, reduce, canvas, source.shape[1:3])
    projective = is_projective(maps)
    rows = (projective_rows if projective else affine_rows)(maps, canvas, "matrices")
    order, fill_mode, cval = options["order"], options["fill_mode"], options["cval"]
    mode = mode_code(order, fill_mode, cval, source.dtype)
    kernel_options = (int(order), mode, float(cval), projective)
    executor = options.get("executor")
    chunks = threads_and_executor(threads, executor)
    whole = kernel_args(source, canvas, rows, kernel_options)
    keys = [(bool(fire), tuple(pair)) for fire, pair in zip(fired, reduce.tolist(), strict=True)]
    for start, stop, (fire, pair) in _runs(keys):
        if not fire:
            target[start:stop] = source[start:stop]
        elif pair == NO_REDUCE:
            warp_range(source, target, rows, start, stop, whole, chunks, executor)
        else:
            reduced = box_reduce_regions(source[start:stop], pair, regions[start:stop])
            args = kernel_args(reduced, canvas, rows, kernel_options)
            warp_range(reduced, target[start:stop], rows[start:stop], 0, stop - start, args,
                       chunks, executor)  # fmt: skip


def _runs(keys: Sequence[Any]) -> Iterator[tuple[int, int, Any]]:
    """(start, stop, key) of each run of equal consecutive keys."""
    start = 0
    for stop in range(1, len(keys) + 1):
        if stop == len(keys) or keys[stop] != keys[start]:
            yield start, stop, keys[start]
            start = stop


def _warp(
    images: np.ndarray,
    matrices: np.ndarray,
    canvas: tuple[int, int],
    options: Mapping[str, Any],
    threads: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    kernel = warp_perspective_batch if is_projective(matrices) else warp_affine_batch
    size = None if canvas == images.shape[1:3] else canvas
    return kernel(images, matrices, output_shape=size, threads=threads, out=out, **options)
