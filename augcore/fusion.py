"""One warp per geometric run, across canvas changes, without aliasing on shrink.

A run of consecutive geometric steps becomes one (n, 3, 3) pull map per output: each step's
matrices, composed in order. Every step maps its own canvas onto its input's, so the product
maps the run's final canvas straight onto the input image, and the kernel is called once from
the input to the final canvas. The rules this module keeps:

- A step that did not fire on an output contributes the plain resize of its input onto its
  canvas (pixel centre onto pixel centre): the identity when the step keeps the canvas, so a
  batch stays rectangular whatever fired.
- Where the fused map shrinks by a factor f >= 2 along an input axis (f = the length of the
  input-axis row of the map's Jacobian, its smallest over the canvas corners for a projective
  map), the source is first box-reduced by floor(f) along that axis (``augcore.reduce``, equal
  to Pillow's ``Image.reduce``) and the map is moved onto the reduced image. Each output's
  factors are a function of its own matrix, so single and batch calls give the same bytes;
  outputs with different factors are warped in separate kernel calls.
- The factors are recorded (``reduce`` in a fused run) and replay follows the record, so a
  record without them, written before box reduce existed, replays as it was made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from augcore.reduce import box_reduce_batch
from augcore.transform import ImageShape, compose, is_projective, region_matrices
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


def shrink_factors(matrices: np.ndarray, canvas: tuple[int, int]) -> np.ndarray:
    """(n, 2) integer box-reduce factors for pull maps onto a ``canvas`` output (see above)."""
    n = matrices.shape[0]
    if not is_projective(matrices):
        rows = np.hypot(matrices[:, 0, 0], matrices[:, 0, 1])
        cols = np.hypot(matrices[:, 1, 0], matrices[:, 1, 1])
    else:
        corners = [(0.0, 0.0), (0.0, canvas[1] - 1.0), (canvas[0] - 1.0, 0.0),
                   (canvas[0] - 1.0, canvas[1] - 1.0)]  # fmt: skip
        rows = np.full(n, np.inf)
        cols = np.full(n, np.inf)
        for r, c in corners:
            w = matrices[:, 2, 0] * r + matrices[:, 2, 1] * c + matrices[:, 2, 2]
            row = (matrices[:, 0, 0] * r + matrices[:, 0, 1] * c + matrices[:, 0, 2]) / w
            col = (matrices[:, 1, 0] * r + matrices[:, 1, 1] * c + matrices[:, 1, 2]) / w
            jacobian_row = np.hypot(
                matrices[:, 0, 0] - row * matrices[:, 2, 0],
                matrices[:, 0, 1] - row * matrices[:, 2, 1],
            ) / np.abs(w)
            jacobian_col = np.hypot(
                matrices[:, 1, 0] - col * matrices[:, 2, 0],
                matrices[:, 1, 1] - col * matrices[:, 2, 1],
            ) / np.abs(w)
            rows, cols = np.minimum(rows, jacobian_row), np.minimum(cols, jacobian_col)
    factors = np.floor(np.stack([rows, cols], axis=1))
    return np.where(factors >= 2, np.minimum(factors, 4095), 1).astype(np.int64)


def reduced_maps(matrices: np.ndarray, factors: tuple[int, int]) -> np.ndarray:
    """Pull maps into the image box-reduced by ``factors`` = (rows, columns), given ones into
    the full image: reduced coordinate = (x - (f - 1) / 2) / f, the centre of box x // f."""
    fy, fx = factors
    into_reduced = np.zeros((matrices.shape[0], 3, 3))
    into_reduced[:, 0, 0], into_reduced[:, 0, 2] = 1 / fy, -(fy - 1) / (2 * fy)
    into_reduced[:, 1, 1], into_reduced[:, 1, 2] = 1 / fx, -(fx - 1) / (2 * fx)
    into_reduced[:, 2, 2] = 1.0
    return compose(into_reduced, matrices)


def warp_outputs(
    images: np.ndarray,
    matrices: np.ndarray,
    reduce: np.ndarray,
    canvas: tuple[int, int],
    options: Mapping[str, Any],
    threads: int = 1,
) -> np.ndarray:
    """Warp each image with its map onto ``canvas``, box-reducing first by its factors; one
    kernel call per run of consecutive images with the same factors (just one, when nothing
    shrinks by 2 or more)."""
    pairs = reduce.tolist()
    if all(tuple(pair) == NO_REDUCE for pair in pairs):
        return _warp(images, matrices, canvas, options, threads)
    out = np.empty((images.shape[0], *canvas, *images.shape[3:]), dtype=images.dtype)
    # Consecutive images with the same factors: slices are views, so no source is copied
    # (gathering each factor's images cost as much as the warp for large sources).
    start = 0
    for stop in range(1, len(pairs) + 1):
        if stop < len(pairs) and pairs[stop] == pairs[start]:
            continue
        pair = tuple(pairs[start])
        source, maps = images[start:stop], matrices[start:stop]
        if pair != NO_REDUCE:
            source, maps = box_reduce_batch(source, pair), reduced_maps(maps, pair)
        _warp(source, maps, canvas, options, threads, out=out[start:stop])
        start = stop
    return out


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
