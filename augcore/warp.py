"""Typed Python face of the compiled warp kernel: affine and projective pull maps.

Everything is validated (in ``augcore._warp_checks``) before the kernel runs without the GIL,
so bad input raises a specific ``augcore`` exception that says what to do instead of crashing
inside C.

Affine results match ``scipy.ndimage.affine_transform`` applied per channel with the same
matrix, ``output_shape``, order, mode and cval: pixel-exact for order 0, bit-exact for float32 at
order 1 (scipy's own double arithmetic). uint8 at order 1 is computed in float32 lanes for speed
and rounded half up like scipy, so it is within 1 of scipy everywhere and equal to it except
where scipy's value lies within ~1e-5 of a .5 rounding boundary (about 1e-5 of all pixels).

Projective results match ``scipy.ndimage.map_coordinates`` on the coordinates
``x = ((m02 + r m00) + c m01) / w``, ``y = ((m12 + r m10) + c m11) / w`` with
``w = (m22 + r m20) + c m21``, evaluated in float64 in exactly that order (a true division, no
fused multiply-add): with the same rules and tolerances as above. Any other order of evaluation
rounds differently in the last bit, which changes order-0 results only at exact .5 ties.

Threads: a batch call splits its images into ``threads`` ranges of whole images, so results never
depend on the thread count. A caller warping many batches (e.g. ``Pipeline``) should own one
``concurrent.futures.ThreadPoolExecutor`` and pass it as ``executor=``; without it a short-lived
pool is built per call, which costs more than the warp itself on small images.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Literal

import numpy as np

from augcore._warp_checks import (
    MAX_OUTPUT_PIXELS,
    affine_rows,
    as_channels_last,
    as_float_array,
    batch_length,
    canvas,
    mode_code,
    run,
    stack_batch,
    threads_and_executor,
)

__all__ = [
    "MAX_OUTPUT_PIXELS",
    "FillMode",
    "warp_affine",
    "warp_affine_batch",
]

FillMode = Literal["nearest", "constant", "reflect", "wrap"]


def warp_affine(
    image: np.ndarray,
    matrix: np.ndarray,
    *,
    output_shape: tuple[int, int] | None = None,
    order: int = 0,
    fill_mode: FillMode = "nearest",
    cval: float = 0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Warp one image with an affine pull map: input (row, col) = M @ (out_row, out_col, 1).

    Args:
        image: (H, W) or channels-last (H, W, C) array, uint8 or float32 (any strides).
        matrix: 2x3, or 3x3 with last row [0, 0, 1]; row/column pixel coordinates, scipy's
            convention (``scipy.ndimage.affine_transform(image, M[:2, :2], offset=M[:2, 2])``).
        output_shape: (H', W') of the result; default the image's (H, W). The channel axis is
            kept. At most ``MAX_OUTPUT_PIXELS`` pixels.
        order: 0 (nearest) or 1 (bilinear).
        fill_mode: where a sample falls outside the image: "nearest" (edge pixel), "constant"
            (``cval``), "reflect" or "wrap", each as the scipy mode of the same name.
        cval: the "constant" fill value; 0..255 for uint8 images.
        out: optional array to write the result into, shaped and typed like the result and not
            overlapping ``image``.

    Returns:
        The warped image, (H', W') or (H', W', C), of the image's dtype (``out`` if given).

    Raises:
        ImageShapeError: ``image`` is not a numpy array, or has a bad number of axes or an empty
            axis.
        ImageDtypeError: ``image`` is neither uint8 nor float32.
        MatrixError: ``matrix`` has a bad shape, holds NaN/inf, is projective, or maps output
            pixels absurdly far.
        WarpOptionError: a bad ``output_shape``, ``order``, ``fill_mode`` or ``cval``.
        OutputArrayError: ``out`` has the wrong shape or dtype, is read-only or overlaps.

    Example:
        >>> import numpy as np, augcore
        >>> image = np.arange(12, dtype=np.uint8).reshape(3, 4)
        >>> half = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # output (r, c) reads (2r, 2c)
        >>> augcore.warp_affine(image, half, output_shape=(2, 2))
        array([[ 0,  2],
               [ 8, 10]], dtype=uint8)
    """
    source = as_channels_last(image, "image")
    size = canvas(output_shape, source)
    rows = affine_rows(as_float_array(matrix, "matrix")[None], size, "matrix")
    mode = mode_code(order, fill_mode, cval, source.dtype)
    return run(source, image, False, size, rows, out, (int(order), mode, float(cval), False))


def warp_affine_batch(
    images: np.ndarray | Sequence[np.ndarray],
    matrices: np.ndarray,
    *,
    output_shape: tuple[int, int] | None = None,
    order: int = 0,
    fill_mode: FillMode = "nearest",
    cval: float = 0,
    out: np.ndarray | None = None,
    threads: int = 1,
    executor: Executor | None = None,
) -> np.ndarray:
    """Warp N same-shape images, each with its own affine matrix, optionally over threads.

    Image ``i`` of the result is exactly ``warp_affine(images[i], matrices[i], ...)`` whatever
    ``threads`` and ``executor`` are: threads only split the batch into ranges of whole images.

    Args:
        images: (N, H, W[, C]) array, or a sequence of N same-shape, same-dtype arrays.
        matrices: (N, 2, 3) or (N, 3, 3) affine pull maps, one per image.
        output_shape, order, fill_mode, cval: as for ``warp_affine``, shared by every image.
        out: optional (N, H', W'[, C]) array to write into.
        threads: how many ranges to split the batch into (each range one thread; the calling
            thread warps the last one).
        executor: a thread-based ``concurrent.futures.Executor`` the caller owns and reuses
            across calls (with at least ``threads - 1`` workers); the other ranges run on it.
            Without it a pool is built and shut down per call when ``threads > 1``.

    Returns:
        The warped batch, (N, H', W'[, C]), of the images' dtype (``out`` if given).

    Raises:
        The errors of ``warp_affine``, plus ``BatchLengthError`` when the number of matrices is
        not the number of images and ``WarpOptionError`` for bad ``threads``/``executor``.

    Example:
        >>> from concurrent.futures import ThreadPoolExecutor
        >>> import numpy as np, augcore
        >>> images = np.zeros((8, 32, 32, 3), dtype=np.uint8)
        >>> matrices = np.stack([np.eye(3)] * 8)
        >>> with ThreadPoolExecutor(max_workers=1) as pool:  # keep it for many calls
        ...     small = augcore.warp_affine_batch(
        ...         images, matrices * [2, 2, 1], output_shape=(16, 16), threads=2, executor=pool
        ...     )
        >>> small.shape
        (8, 16, 16, 3)
    """
    batch = stack_batch(images)
    source = as_channels_last(batch, "images", batch=True)
    array = as_float_array(matrices, "matrices")
    batch_length(source, array)
    size = canvas(output_shape, source)
    rows = affine_rows(array, size, "matrices")
    mode = mode_code(order, fill_mode, cval, source.dtype)
    chunks = threads_and_executor(threads, executor)
    options = (int(order), mode, float(cval), False)
    return run(source, batch, True, size, rows, out, options, chunks, executor)
