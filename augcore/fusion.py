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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from augcore.reduce import box_reduce_batch, reduced_pull_map
from augcore.transform import ImageShape, is_projective, region_matrices
from augcore.warp import warp_affine_batch, warp_perspective_batch

NO_REDUCE = (1, 1)


@dataclass(frozen=True)
class FusedWarp:
    """A geometric run's warp for a batch: the fused maps, the canvas, the box reduce."""

    matrices: np.ndarray  #: (n, 3, 3) fused pull maps, final canvas -> input
    shape: tuple[int, int] | None  #: the final canvas when it differs from the run's input
    reduce: np.ndarray  #: (n, 2) int64 box-reduce factors (rows, columns), 1 = none


def plain_resize(n: int, shape: ImageShape, canvas: ImageShape) -> np.ndarray:
    """(n, 3, 3) pull maps resizing a whole ``shape`` image onto ``canvas``; exactly the
    identity when the two sizes are equal."""
    zeros = np.zeros(n, np.int64)
    return region_matrices(zeros, zeros, np.full(n, shape[0]), np.full(n, shape[1]), canvas)


def warp_outputs(
    images: np.ndarray,
    matrices: np.ndarray,
    reduce: np.ndarray,
    canvas: tuple[int, int],
    options: Mapping[str, Any],
    threads: int = 1,
) -> np.ndarray:
    """Warp each image with its map onto ``canvas``, box-reducing first by its factors; one
    kernel call per distinct factor pair (just one, when nothing shrinks by 2 or more)."""
    pairs = {tuple(pair) for pair in reduce.tolist()}
    if pairs == {NO_REDUCE}:
        return _warp(images, matrices, canvas, options, threads)
    out = np.empty((images.shape[0], *canvas, *images.shape[3:]), dtype=images.dtype)
    for pair in sorted(pairs):
        which = np.flatnonzero((reduce == pair).all(axis=1))
        source, maps = images[which], matrices[which]
        if pair != NO_REDUCE:
            source, maps = box_reduce_batch(source, pair), reduced_pull_map(maps, pair)
        out[which] = _warp(source, maps, canvas, options, threads)
    return out


def _warp(
    images: np.ndarray,
    matrices: np.ndarray,
    canvas: tuple[int, int],
    options: Mapping[str, Any],
    threads: int,
) -> np.ndarray:
    kernel = warp_perspective_batch if is_projective(matrices) else warp_affine_batch
    size = None if canvas == images.shape[1:3] else canvas
    return kernel(images, matrices, output_shape=size, threads=threads, **options)

