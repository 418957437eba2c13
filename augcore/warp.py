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
``concurrent.futures.ThreadPoolExecutor(max_workers=threads - 1)`` (the calling thread warps
one range itself), pass it as ``executor=`` on every call and shut it down when done; without
it a short-lived pool is built per call, which costs more than the warp itself on small images.
No state is kept between calls.

Canvases: ``output_shape=`` sets the result's (H', W'), up to ``MAX_OUTPUT_PIXELS``. A warp
that shrinks by 2 or more along an axis should first box-reduce its source: see
``augcore.reduce`` (``reduce_factors``, ``box_reduce_batch``, ``reduced_pull_map``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from augcore._warp_checks import (
    MAX_OUTPUT_PIXELS,
    affine_rows,
    as_channels_last,
    as_float_array,
    batch_length,
    canvas,
    mode_code,
    projective_rows,
    run,
    threads_and_executor,
)
from augcore.errors import MatrixError
from augcore.validation import stack_images

if TYPE_CHECKING:
    from concurrent.futures import Executor  # not at run time: it imports logging

__all__ = [
    "MAX_OUTPUT_PIXELS",
    "FillMode",
    "is_affine",
    "warp_affine",
    "warp_affine_batch",
    "warp_perspective",
    "warp_perspective_batch",
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
    options = (output_shape, order, fill_mode, cval, out)
    return _warp_one(image, matrix, options, _affine_rows)


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
            across calls (``threads - 1`` workers make the most of it); the other ranges are
            submitted to it, and any a worker has not started by the time the calling thread
            is done with its own, the calling thread warps too (so a busy pool, or a call from
            one of its workers, never blocks). Without it a pool is built and shut down per
            call when ``threads > 1``.

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
    options = (output_shape, order, fill_mode, cval, out)
    return _warp_many(images, matrices, options, threads, executor, _affine_rows)


def warp_perspective(
    image: np.ndarray,
    matrix: np.ndarray,
    *,
    output_shape: tuple[int, int] | None = None,
    order: int = 0,
    fill_mode: FillMode = "nearest",
    cval: float = 0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Warp one image with a 3x3 projective pull map.

    Output pixel (r, c) samples the input at (x, y) = ((m00 r + m01 c + m02) / w,
    (m10 r + m11 c + m12) / w), w = m20 r + m21 c + m22, evaluated as the module docstring
    says. w must be > 0 over the whole output canvas: a map with w <= 0 somewhere folds the
    image through infinity and is refused. A matrix whose last row is [0, 0, 1] takes the
    affine kernel (``is_affine``), which gives the very same bytes, faster.

    Args:
        image: (H, W) or channels-last (H, W, C) array, uint8 or float32.
        matrix: 3x3 projective pull map (row/column coordinates, output -> input); its scale
            is kept as given (w is not normalised), and its sign must make w positive.
        output_shape, order, fill_mode, cval, out: as for ``warp_affine``.

    Returns:
        The warped image, (H', W'[, C]), of the image's dtype (``out`` if given).

    Raises:
        MatrixError: ``matrix`` is not 3x3, holds NaN/inf, folds the image (w <= 0 at some
            output pixel) or maps output pixels absurdly far.
        ImageShapeError, ImageDtypeError, WarpOptionError, OutputArrayError: as for
            ``warp_affine``.

    Example:
        >>> import numpy as np, augcore
        >>> image = np.arange(16, dtype=np.float32).reshape(4, 4)
        >>> tilt = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.25, 1.0]])
        >>> augcore.warp_perspective(image, tilt, order=1)[3]  # row 3 samples (3 / w, c / w)
        array([12.      , 10.4     ,  9.333333,  8.571428], dtype=float32)
    """
    options = (output_shape, order, fill_mode, cval, out)
    return _warp_one(image, matrix, options, _pull_rows)


def warp_perspective_batch(
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
    """Warp N same-shape images, each with its own 3x3 projective pull map.

    Image ``i`` of the result is exactly ``warp_perspective(images[i], matrices[i], ...)``;
    ``threads`` and ``executor`` work as in ``warp_affine_batch``. A batch whose matrices are
    all affine takes the affine kernel.

    Args:
        images: (N, H, W[, C]) array, or a sequence of N same-shape, same-dtype arrays.
        matrices: (N, 3, 3) projective pull maps, one per image.
        output_shape, order, fill_mode, cval, out, threads, executor: as for
            ``warp_affine_batch``.

    Returns:
        The warped batch, (N, H', W'[, C]), of the images' dtype (``out`` if given).

    Raises:
        The errors of ``warp_perspective`` and ``warp_affine_batch``.

    Example:
        >>> import numpy as np, augcore
        >>> images = np.ones((2, 6, 6), dtype=np.uint8)
        >>> tilt = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.05, 0.0, 1.0]])
        >>> warped = augcore.warp_perspective_batch(images, [tilt, tilt], output_shape=(3, 9))
        >>> warped.shape
        (2, 3, 9)
    """
    options = (output_shape, order, fill_mode, cval, out)
    return _warp_many(images, matrices, options, threads, executor, _pull_rows)


def is_affine(matrix: np.ndarray) -> bool:
    """True for a 2x3 matrix, a 3x3 one whose last row is exactly [0, 0, 1], or an (N, 3, 3)
    stack of those: what ``warp_perspective`` sends to the affine kernel.

    Raises:
        MatrixError: ``matrix`` is not 2x3, 3x3 or (N, 2|3, 3) numbers.

    Example:
        >>> import numpy as np, augcore
        >>> augcore.is_affine(np.eye(3)), augcore.is_affine([[1, 0, 0], [0, 1, 0], [0, 1e-9, 1]])
        (True, False)
    """
    array = as_float_array(matrix, "matrix")
    stack = array[None] if array.ndim == 2 else array
    if stack.ndim != 3 or stack.shape[1:] not in ((2, 3), (3, 3)):
        raise MatrixError(f"matrix must be 2x3, 3x3 or (N, 3, 3), got shape {array.shape}.")
    return stack.shape[1] == 2 or bool(np.all(stack[:, 2] == (0.0, 0.0, 1.0)))


def _pull_rows(array: np.ndarray, size: tuple[int, int], name: str) -> tuple[np.ndarray, bool]:
    """Kernel rows for 3x3 pull maps and whether they need the projective kernel."""
    if array.ndim == 3 and array.shape[1:] == (3, 3) and is_affine(array):
        return affine_rows(array, size, name), False
    return projective_rows(array, size, name), True


def _affine_rows(array: np.ndarray, size: tuple[int, int], name: str) -> tuple[np.ndarray, bool]:
    return affine_rows(array, size, name), False


# (output_shape, order, fill_mode, cval, out), as the public functions received them.
_Options = tuple[object, object, object, object, object]
_RowMaker = Callable[[np.ndarray, tuple[int, int], str], tuple[np.ndarray, bool]]


def _warp_one(image: object, matrix: object, options: _Options, rows_of: _RowMaker) -> np.ndarray:
    output_shape, order, fill_mode, cval, out = options
    source = as_channels_last(image, "image")
    size = canvas(output_shape, source)
    rows, projective = rows_of(as_float_array(matrix, "matrix")[None], size, "matrix")
    mode = mode_code(order, fill_mode, cval, source.dtype)  # checks order and cval too
    kernel_options = (int(order), mode, float(cval))
    return run(source, image, False, size, rows, out, (*kernel_options, projective))


def _warp_many(
    images: object,
    matrices: object,
    options: _Options,
    threads: object,
    executor: object,
    rows_of: _RowMaker,
) -> np.ndarray:
    output_shape, order, fill_mode, cval, out = options
    batch = images if isinstance(images, np.ndarray) else stack_images(images)[0]
    source = as_channels_last(batch, "images", batch=True)
    array = as_float_array(matrices, "matrices")
    batch_length(source, array)
    size = canvas(output_shape, source)
    rows, projective = rows_of(array, size, "matrices")
    mode = mode_code(order, fill_mode, cval, source.dtype)  # checks order and cval too
    kernel_options = (int(order), mode, float(cval))
    chunks = threads_and_executor(threads, executor)
    return run(
        source, batch, True, size, rows, out, (*kernel_options, projective), chunks, executor
    )
