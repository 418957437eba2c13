"""Typed Python face of the compiled affine-warp kernel.

Everything is validated here, before the kernel runs without the GIL, so bad input raises a
specific ``augcore`` exception that says what to do instead of crashing inside C.

Results match ``scipy.ndimage.affine_transform`` applied per channel with the same matrix, order,
mode and cval: pixel-exact for order 0, bit-exact for float32 at order 1 (scipy's own double
arithmetic). uint8 at order 1 is computed in float32 lanes for speed and rounded half up like
scipy, so it is within 1 of scipy everywhere and equal to it except where scipy's value lies
within ~1e-5 of a .5 rounding boundary (about 1e-5 of all pixels).
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np

from augcore.errors import (
    BatchLengthError,
    ImageDtypeError,
    ImageShapeError,
    MatrixError,
    OutputArrayError,
    WarpOptionError,
)

try:
    from augcore import _warp
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "augcore's compiled warp kernel (augcore._warp) is missing or failed to load. "
        "Reinstall with `pip install .` (or `python setup.py build_ext --inplace` in a checkout); "
        "a C compiler and Cython >= 3 are needed to build it."
    ) from exc

__all__ = ["FillMode", "warp_affine", "warp_affine_batch"]

FillMode = Literal["nearest", "constant", "reflect", "wrap"]

SUPPORTED_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32))
# Beyond this, coordinates lose integer precision and scipy's own index casts overflow.
MAX_COORDINATE = 1e15
MAX_PIXELS = 2**31 - 1


def warp_affine(
    image: np.ndarray,
    matrix: np.ndarray,
    *,
    order: int = 0,
    fill_mode: FillMode = "nearest",
    cval: float = 0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Warp one image with a pull map: input (row, col) = M @ (out_row, out_col, 1).

    ``image`` is (H, W) or (H, W, C), uint8 or float32; ``matrix`` is 2x3 or 3x3. The result has
    the image's shape and dtype; pass ``out`` to write into an existing array.
    """
    source = _as_channels_last(image, "image")
    matrices = _check_matrices(_as_float_array(matrix, "matrix")[None], source.shape[1:3], "matrix")
    mode = _check_options(order, fill_mode, cval, source.dtype)
    return _run(source, matrices, image, out, int(order), mode, cval, threads=1)


def warp_affine_batch(
    images: np.ndarray | Sequence[np.ndarray],
    matrices: np.ndarray,
    *,
    order: int = 0,
    fill_mode: FillMode = "nearest",
    cval: float = 0,
    out: np.ndarray | None = None,
    threads: int = 1,
) -> np.ndarray:
    """Warp N same-shape images, each with its own matrix, optionally over several threads.

    ``images`` is (N, H, W[, C]) or a sequence of N same-shape arrays; ``matrices`` is (N, 2, 3)
    or (N, 3, 3). Image ``i`` of the result is exactly ``warp_affine(images[i], matrices[i])``
    whatever ``threads`` is: threads only split the batch into chunks of whole images.
    """
    batch = _stack_batch(images)
    source = _as_channels_last(batch, "images", batch=True)
    matrix_array = _as_float_array(matrices, "matrices")
    if matrix_array.ndim == 3 and matrix_array.shape[0] != source.shape[0]:
        raise BatchLengthError(
            f"got {source.shape[0]} images but {matrix_array.shape[0]} matrices; "
            "pass exactly one matrix per image."
        )
    checked = _check_matrices(matrix_array, source.shape[1:3], "matrices")
    mode = _check_options(order, fill_mode, cval, source.dtype)
    if not _is_number(threads, numbers.Integral) or threads < 1:
        raise WarpOptionError(f"threads must be an integer >= 1, got {threads!r}.")
    return _run(source, checked, batch, out, int(order), mode, cval, threads=int(threads))


def _stack_batch(images: object) -> np.ndarray:
    """An (N, H, W[, C]) array from an array or a sequence of same-shape, same-dtype images."""
    if isinstance(images, np.ndarray):
        return images
    if not isinstance(images, Sequence) or isinstance(images, (str, bytes)):
        raise ImageShapeError(
            "images must be an (N, H, W[, C]) array or a sequence of arrays, "
            f"got {type(images).__name__}."
        )
    if not images:
        raise ImageShapeError("images is an empty sequence; pass at least one image.")
    for index, image in enumerate(images):
        if not isinstance(image, np.ndarray):
            raise ImageDtypeError(
                f"images[{index}] is a {type(image).__name__}, not a numpy array; "
                "convert it with numpy.asarray(...)."
            )
        if image.shape != images[0].shape or image.dtype != images[0].dtype:
            raise ImageShapeError(
                f"images[{index}] is {image.shape} {image.dtype} but images[0] is "
                f"{images[0].shape} {images[0].dtype}; a batch needs one shape and dtype "
                "(warp differently sized images in separate calls)."
            )
    return np.stack(images)


def _as_channels_last(image: object, name: str, *, batch: bool = False) -> np.ndarray:
    """Check an image (or batch) and return it as a C-contiguous (N, H, W, C) array."""
    if not isinstance(image, np.ndarray):
        raise ImageDtypeError(
            f"{name} must be a numpy array, got {type(image).__name__}; "
            "convert it with numpy.asarray(...)."
        )
    if image.dtype not in SUPPORTED_DTYPES:
        raise ImageDtypeError(
            f"{name} has dtype {image.dtype}; the warp supports uint8 and float32. Convert "
            "with image.astype(numpy.float32), or numpy.clip(image, 0, 255).astype(numpy.uint8)."
        )
    lead = 1 if batch else 0
    if image.ndim not in (2 + lead, 3 + lead):
        layout = "(N, H, W) or (N, H, W, C)" if batch else "(H, W) or (H, W, C)"
        raise ImageShapeError(
            f"{name} must be {layout} with channels last, got shape {image.shape}."
        )
    if 0 in image.shape[lead:]:
        raise ImageShapeError(f"{name} has an empty axis (shape {image.shape}); nothing to warp.")
    if image.shape[lead] * image.shape[lead + 1] > MAX_PIXELS:
        raise ImageShapeError(
            f"{name} has {image.shape[lead]} x {image.shape[lead + 1]} pixels; the kernel "
            f"indexes with 32 bits and takes at most {MAX_PIXELS} pixels per image. Split it "
            "into tiles."
        )
    if image.ndim == 2 + lead:
        image = image[..., None]
    if not batch:
        image = image[None]
    return np.ascontiguousarray(image)


def _as_float_array(matrices: object, name: str) -> np.ndarray:
    try:
        return np.ascontiguousarray(matrices, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MatrixError(f"{name} must hold numbers (2x3 or 3x3 affine matrices): {exc}") from exc


def _check_matrices(array: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """Return (N, 6) float64 rows of 2x3 pull maps, rejecting anything else clearly."""
    if array.ndim != 3 or array.shape[1:] not in ((2, 3), (3, 3)):
        if name == "matrix":
            given = array.shape[1:]
            expected = "a 2x3 or 3x3 matrix"
        else:
            given = array.shape
            expected = "an (N, 2, 3) or (N, 3, 3) array"
        raise MatrixError(f"{name} must be {expected}, got shape {given}.")
    reach, bad_last_row = _warp.inspect_matrices(array, *shape)
    if (not math.isfinite(reach) or bad_last_row >= 0) and not np.isfinite(array).all():
        raise MatrixError(f"{name} holds NaN or inf; every entry must be finite.")
    if bad_last_row >= 0:
        raise MatrixError(
            f"{name}: the last row of a 3x3 affine matrix must be [0, 0, 1] "
            f"(projective warps are not supported); see matrix {bad_last_row}."
        )
    if not reach < MAX_COORDINATE:
        raise MatrixError(
            f"{name} maps output pixels to input coordinates up to {reach:.3g}; keep them within "
            f"+-{MAX_COORDINATE:.0e} (is it a pull map in pixel units?)."
        )
    return np.ascontiguousarray(array[:, :2].reshape(-1, 6))


def _check_options(order: object, fill_mode: object, cval: object, dtype: np.dtype) -> int:
    """Validate order, fill mode and cval; return the kernel's mode code."""
    if not _is_number(order, numbers.Integral) or order not in (0, 1):
        raise WarpOptionError(f"order must be 0 (nearest) or 1 (bilinear), got {order!r}.")
    if not isinstance(fill_mode, str) or fill_mode not in _warp.MODES:
        raise WarpOptionError(f"fill_mode must be one of {sorted(_warp.MODES)}, got {fill_mode!r}.")
    if not _is_number(cval, numbers.Real) or not math.isfinite(cval):
        raise WarpOptionError(f"cval must be a finite number, got {cval!r}.")
    if dtype == np.uint8 and not 0 <= cval <= 255:
        raise WarpOptionError(f"cval={cval!r} does not fit a uint8 image; use a value in 0..255.")
    return _warp.MODES[fill_mode]


def _is_number(value: object, kind: type) -> bool:
    """True for numbers of ``kind`` (numpy scalars included), never for bools."""
    if type(value) is int or (type(value) is float and kind is numbers.Real):
        return True
    return isinstance(value, kind) and not isinstance(value, (bool, np.bool_))


def _check_out(out: object, like: np.ndarray) -> None:
    """Reject an ``out`` the result cannot be written into safely."""
    if not isinstance(out, np.ndarray):
        raise OutputArrayError(f"out must be a numpy array, got {type(out).__name__}.")
    if out.shape != like.shape or out.dtype != like.dtype:
        raise OutputArrayError(
            f"out is {out.shape} {out.dtype}; it must match the input: {like.shape} {like.dtype}."
        )
    if not out.flags.writeable:
        raise OutputArrayError("out is read-only; pass a writable array.")
    if np.shares_memory(out, like):
        raise OutputArrayError(
            "out overlaps the input; the warp cannot run in place. Pass a separate array."
        )


def _run(
    source: np.ndarray,
    matrices: np.ndarray,
    like: np.ndarray,
    out: np.ndarray | None,
    order: int,
    mode: int,
    cval: float,
    threads: int,
) -> np.ndarray:
    """Run the kernel on an (N, H, W, C) batch into ``out`` or a new array shaped like ``like``."""
    if out is not None:
        _check_out(out, like)
    direct = out is not None and out.flags.c_contiguous
    result = out if direct else np.empty(like.shape, dtype=like.dtype)
    target = result.reshape(source.shape)
    count, height, width, channels = source.shape
    geometry = (height, width, channels, source.itemsize, order, mode, float(cval))
    chunks = min(threads, count)
    if chunks <= 1:
        _warp.warp_batch(source, target, matrices, 0, count, *geometry)
    else:
        bounds = [count * k // chunks for k in range(chunks + 1)]
        with ThreadPoolExecutor(max_workers=chunks) as pool:
            jobs = [
                pool.submit(_warp.warp_batch, source, target, matrices, lo, hi, *geometry)
                for lo, hi in itertools.pairwise(bounds)
            ]
            for job in jobs:
                job.result()
    if out is None:
        return result
    if not direct:
        np.copyto(out, result)
    return out
