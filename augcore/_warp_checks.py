"""The warp kernel's boundary: every argument checked, then the kernel run over threads.

``augcore.warp`` is the typed public face; this module turns its arguments into what the
compiled kernel (``augcore._warp``) expects — C-contiguous (N, H, W, C) arrays, checked
float64 matrices, a mode code — and refuses anything else with a specific ``augcore`` error
that names the parameter and says what to pass instead. Nothing here runs without the GIL: by
the time the kernel drops it, no value can crash it.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from augcore.errors import (
    BatchLengthError,
    ImageShapeError,
    MatrixError,
    OutputArrayError,
    WarpOptionError,
)
from augcore.validation import FILL_MODES, check_image, is_integer, is_number

if TYPE_CHECKING:
    from concurrent.futures import Executor

try:
    from augcore import _warp
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "augcore's compiled warp kernel (augcore._warp) is missing or failed to load. "
        "Reinstall with `pip install .` (or `python setup.py build_ext --inplace` in a checkout); "
        "a C compiler and Cython >= 3 are needed to build it."
    ) from exc

# Beyond this, coordinates lose integer precision and scipy's own index casts overflow.
MAX_COORDINATE = 1e15
# The kernel indexes input pixels with 32 bits.
MAX_PIXELS = 2**31 - 1
#: The largest ``output_shape`` (H' x W' pixels per image) a warp accepts: 2**27, about
#: 11585 x 11585 — 400 MB for uint8 RGB, and below the size Pillow refuses to reopen as a
#: decompression bomb. A fused canvas chain (or a typo) asking for more gets an error before any
#: memory is allocated; the job checks its output shapes against the same constant.
MAX_OUTPUT_PIXELS = 2**27


def as_channels_last(image: object, name: str, *, batch: bool = False) -> np.ndarray:
    """Check an image (or batch) and return it as a C-contiguous (N, H, W, C) array.

    The checks are augcore's one image check (``validation.check_image``), plus the kernel's
    32-bit pixel indexing limit; an empty batch array (N = 0) is allowed and warps to nothing.
    """
    empty_batch = (
        batch and isinstance(image, np.ndarray) and image.ndim in (3, 4) and not len(image)
    )
    if empty_batch:
        check_image(np.zeros((1, *image.shape[1:]), image.dtype), name, batch)
    else:
        image = check_image(image, name, batch)
    lead = 1 if batch else 0
    height, width = image.shape[lead : lead + 2]
    if height * width > MAX_PIXELS:
        raise ImageShapeError(
            f"{name} has {height} x {width} pixels; the kernel indexes with 32 bits and takes "
            f"at most {MAX_PIXELS} pixels per image. Split it into tiles."
        )
    channels = image.shape[lead + 2] if image.ndim == lead + 3 else 1
    # check_image returned a C-contiguous array (an empty batch is contiguous already).
    return image.reshape(len(image) if batch else 1, height, width, channels)


def canvas(output_shape: object, source: np.ndarray) -> tuple[int, int]:
    """The output (H', W') of a warp: ``output_shape`` checked, or the input's own size."""
    if output_shape is None:
        return int(source.shape[1]), int(source.shape[2])
    if (
        not isinstance(output_shape, Sequence)
        or isinstance(output_shape, str)
        or len(output_shape) != 2
        or not all(is_integer(side) and side >= 1 for side in output_shape)
    ):
        raise WarpOptionError(
            f"output_shape must be (height, width) with two integers >= 1, got {output_shape!r} "
            "(the channel axis is kept from the input)."
        )
    height, width = (int(side) for side in output_shape)
    if height * width > MAX_OUTPUT_PIXELS:
        raise WarpOptionError(
            f"output_shape {height} x {width} is {height * width} pixels per image, over the "
            f"limit of {MAX_OUTPUT_PIXELS} (augcore.warp.MAX_OUTPUT_PIXELS); check the sizes "
            "of the chain's crops, resizes and pads, or warp in tiles."
        )
    return height, width


def as_float_array(matrices: object, name: str) -> np.ndarray:
    """Matrices as contiguous float64; anything that is not real numbers is a MatrixError
    (numpy would cast complex values to real with only a warning, dropping a part)."""
    try:
        array = np.asarray(matrices)
        if array.dtype.kind not in "biufO":  # object arrays convert, or fail below
            raise TypeError(f"got dtype {array.dtype}, not real numbers")
        return np.ascontiguousarray(array, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MatrixError(f"{name} must hold real numbers (2x3 or 3x3 matrices): {exc}") from exc


def _check_layout(array: np.ndarray, name: str, shapes: tuple[tuple[int, int], ...]) -> None:
    if array.ndim != 3 or array.shape[1:] not in shapes:
        words = " or ".join(f"{rows}x{cols}" for rows, cols in shapes)
        if name == "matrix":
            given = array.shape[1:]
            expected = f"a {words} matrix"
        else:
            given = array.shape
            expected = " or ".join(f"an (N, {rows}, {cols})" for rows, cols in shapes) + " array"
        raise MatrixError(f"{name} must be {expected}, got shape {given}.")


def _check_reach(reach: float, array: np.ndarray, name: str) -> None:
    if not math.isfinite(reach) and not np.isfinite(array).all():
        raise MatrixError(f"{name} holds NaN or inf; every entry must be finite.")
    if not reach < MAX_COORDINATE:
        raise MatrixError(
            f"{name} maps output pixels to input coordinates up to {reach:.3g}; keep them within "
            f"+-{MAX_COORDINATE:.0e} (is it a pull map in pixel units?)."
        )


def affine_rows(array: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """Checked (N, 2|3, 3) float64 affine pull maps over an output canvas of ``shape``."""
    _check_layout(array, name, ((2, 3), (3, 3)))
    reach, bad_last_row = _warp.inspect_matrices(array, *shape)
    if bad_last_row >= 0 and not np.isfinite(array).all():
        reach = math.nan
    if bad_last_row >= 0 and math.isfinite(reach):
        raise MatrixError(
            f"{name}: the last row of a 3x3 affine matrix must be [0, 0, 1] (see matrix "
            f"{bad_last_row}); use warp_perspective for projective maps."
        )
    _check_reach(reach, array, name)
    return array  # 2x3 or 3x3: the kernel reads the first two rows (its ``stride``)


def projective_rows(array: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """Checked (N, 3, 3) float64 projective pull maps whose w > 0 over the output canvas."""
    _check_layout(array, name, ((3, 3),))
    reach, folded = _warp.inspect_projective(array, *shape)
    if folded >= 0 and np.isfinite(array).all():
        raise MatrixError(
            f"{name}: matrix {folded} folds the image: w = m20 r + m21 c + m22 must be > 0 at "
            f"every output pixel of the {shape[0]} x {shape[1]} canvas (checked at its corners). "
            "Is it a pull map (output -> input), with w scaled positive?"
        )
    _check_reach(reach if folded < 0 else math.nan, array, name)
    return array


def warp_trusted(
    source: np.ndarray, rows: np.ndarray, kernel_options: tuple[int, int, float]
) -> np.ndarray:
    """Warp one checked (H, W[, C]) image by one (1, 2, 3) float64 affine map onto its own
    canvas, skipping the argument checks the host has already made.

    For ``augcore.one``, whose image passed ``validation.check_image`` (C-contiguous, uint8 or
    float32, non-empty) and whose options were checked when the pipeline was made
    (``kernel_options``: order, ``mode_code``, cval). The map is still inspected by the
    kernel (finite, within ``MAX_COORDINATE``): a product of finite maps can overflow.
    """
    height, width = source.shape[:2]
    if height * width > MAX_PIXELS:
        as_channels_last(source, "image")  # raises the kernel's size limit error
    channels = source.shape[2] if source.ndim == 3 else 1
    reach, _ = _warp.inspect_matrices(rows, height, width)
    _check_reach(reach, rows, "the fused matrix")
    result = np.empty_like(source)
    size = (height, width, channels)
    _warp.warp_batch(
        source.reshape(1, *size), result.reshape(1, *size), rows, 0, 1, size, size,
        source.itemsize, *kernel_options, False, 6,
    )  # fmt: skip
    return result


def mode_code(order: object, fill_mode: object, cval: object, dtype: np.dtype) -> int:
    """Validate order, fill mode and cval; return the kernel's mode code.

    The code is the mode's position in ``FILL_MODES``, the order of ``_warp.pyx``'s enum.
    """
    if not is_integer(order) or order not in (0, 1):
        raise WarpOptionError(f"order must be 0 (nearest) or 1 (bilinear), got {order!r}.")
    if not isinstance(fill_mode, str) or fill_mode not in FILL_MODES:
        raise WarpOptionError(f"fill_mode must be one of {sorted(FILL_MODES)}, got {fill_mode!r}.")
    if not is_number(cval) or not math.isfinite(cval):
        raise WarpOptionError(f"cval must be a finite number, got {cval!r}.")
    if dtype.itemsize == 1 and not 0 <= cval <= 255:  # uint8 (the other dtype is float32)
        raise WarpOptionError(f"cval={cval!r} does not fit a uint8 image; use a value in 0..255.")
    return FILL_MODES.index(fill_mode)


def batch_length(source: np.ndarray, matrices: np.ndarray) -> None:
    if matrices.ndim == 3 and matrices.shape[0] != source.shape[0]:
        raise BatchLengthError(
            f"got {source.shape[0]} images but {matrices.shape[0]} matrices; "
            "pass exactly one matrix per image."
        )


def threads_and_executor(threads: object, executor: object) -> int:
    """Check ``threads`` and ``executor``; return the number of chunks to split a batch into."""
    if not is_integer(threads) or threads < 1:
        raise WarpOptionError(f"threads must be an integer >= 1, got {threads!r}.")
    if executor is not None and not _is_thread_executor(executor):
        raise WarpOptionError(
            f"executor must be a thread-based concurrent.futures.Executor (e.g. a "
            f"ThreadPoolExecutor you keep for many calls), got {type(executor).__name__}: the "
            "kernel writes into the result array in this process."
        )
    return int(threads)


def _is_thread_executor(executor: object) -> bool:
    """True for a concurrent.futures.Executor that is not a process pool.

    concurrent.futures is imported here, not at module level: its process pool pulls in
    multiprocessing, which a one-thread caller (e.g. a ``--jobs 1`` run) never needs. A process
    pool can only exist once its module has been imported.
    """
    from concurrent.futures import Executor

    processes = sys.modules.get("concurrent.futures.process")
    return isinstance(executor, Executor) and not (
        processes is not None and isinstance(executor, processes.ProcessPoolExecutor)
    )


def _check_out(out: object, shape: tuple[int, ...], dtype: np.dtype, source: np.ndarray) -> None:
    """Reject an ``out`` the result cannot be written into safely."""
    if not isinstance(out, np.ndarray):
        raise OutputArrayError(f"out must be a numpy array, got {type(out).__name__}.")
    if out.shape != shape or out.dtype != dtype:
        raise OutputArrayError(
            f"out is {out.shape} {out.dtype}; it must match the result: {shape} {dtype}."
        )
    if not out.flags.writeable:
        raise OutputArrayError("out is read-only; pass a writable array.")
    if np.may_share_memory(out, source) and np.shares_memory(out, source):
        raise OutputArrayError(
            "out overlaps the input; the warp cannot run in place. Pass a separate array."
        )


def run(
    source: np.ndarray,
    like: np.ndarray,
    batch: bool,
    size: tuple[int, int],
    matrices: np.ndarray,
    out: np.ndarray | None,
    kernel_options: tuple[int, int, float, bool],
    chunks: int = 1,
    executor: Executor | None = None,
) -> np.ndarray:
    """Run the kernel on an (N, H, W, C) batch into ``out`` or a new array.

    The result has the layout of ``like`` (the image or batch as given: 2-D or channels last)
    with the rows and columns of ``size``. ``kernel_options`` is (order, mode code, cval,
    projective). With ``chunks`` > 1 the batch is split into that many ranges of whole images
    (``_run_chunks``).
    """
    lead = 1 if batch else 0
    shape = like.shape[:lead] + size + like.shape[lead + 2 :]
    if out is not None:
        _check_out(out, shape, like.dtype, like)
    direct = out is not None and out.flags.c_contiguous
    result = out if direct else np.empty(shape, dtype=like.dtype)
    count = source.shape[0]
    target = result.reshape(count, *size, source.shape[3])
    args = kernel_args(source, size, matrices, kernel_options)
    warp_range(source, target, matrices, 0, count, args, chunks, executor)
    if out is None:
        return result
    if not direct:
        np.copyto(out, result)
    return out


def kernel_args(
    source: np.ndarray,
    size: tuple[int, int],
    matrices: np.ndarray,
    kernel_options: tuple[int, int, float, bool],
) -> tuple:
    """``_warp.warp_batch``'s arguments after the ranges, for a checked (N, H, W, C) source
    warped onto ``size`` by checked ``matrices``; ``kernel_options`` as for ``run``."""
    height, width, channels = source.shape[1:]
    order, mode, cval, projective = kernel_options
    return (
        (height, width, channels),
        (*size, channels),
        source.itemsize,
        order,
        mode,
        cval,
        projective,
        matrices.shape[1] * 3,  # doubles from one matrix to the next: 6 (2x3) or 9 (3x3)
    )


def warp_range(
    source: np.ndarray,
    target: np.ndarray,
    matrices: np.ndarray,
    start: int,
    stop: int,
    args: tuple,
    chunks: int = 1,
    executor: Executor | None = None,
) -> None:
    """Warp images ``start..stop-1`` of checked C-contiguous (N, H, W, C) ``source`` into
    ``target`` (``args`` from ``kernel_args``): on this thread, or in ``chunks`` ranges."""
    chunks = min(chunks, stop - start)
    if chunks <= 1:
        _warp.warp_batch(source, target, matrices, start, stop, *args)
    else:
        _run_chunks(source, target, matrices, args, chunks, executor, start, stop)


def _run_chunks(
    source: np.ndarray,
    target: np.ndarray,
    matrices: np.ndarray,
    kernel_args: tuple,
    chunks: int,
    executor: Executor | None,
    start: int,
    stop: int,
) -> None:
    """Warp ``chunks`` ranges of whole images of ``start..stop-1`` at once: all but the last on
    the executor (or on a pool made for this call), the last on the calling thread.

    The caller then takes back every range no worker has started (newest first: the workers
    take the oldest), so it never waits on a busy or descheduled pool: a saturated machine
    costs no more than one thread, and a call made from inside the executor's own workers
    cannot deadlock. Which thread warps a range changes no byte.
    """
    bounds = [start + (stop - start) * k // chunks for k in range(chunks + 1)]
    ranges = list(itertools.pairwise(bounds))
    owned = None
    if executor is None:
        from concurrent.futures import ThreadPoolExecutor

        owned = ThreadPoolExecutor(max_workers=chunks - 1)
    pool = executor if owned is None else owned
    jobs = []
    try:
        for lo, hi in ranges[:-1]:
            job = pool.submit(_warp.warp_batch, source, target, matrices, lo, hi, *kernel_args)
            jobs.append((job, lo, hi))
        lo, hi = ranges[-1]
        _warp.warp_batch(source, target, matrices, lo, hi, *kernel_args)
        for job, lo, hi in reversed(jobs):
            if job.cancel():
                _warp.warp_batch(source, target, matrices, lo, hi, *kernel_args)
    finally:
        for job, _, _ in jobs:  # started ones finish before the arrays can be reused
            if not job.cancelled():
                job.exception()
        if owned is not None:
            owned.shutdown()
    for job, _, _ in jobs:
        if not job.cancelled():
            job.result()
