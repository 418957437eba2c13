"""Box reduce: shrink an image by integer factors, averaging boxes, exactly as Pillow does.

A warp that shrinks by 2 or more along an axis samples only some of the input pixels and
aliases; averaging fy x fx boxes first (then warping the reduced image with
``reduced_pull_map``) keeps every input pixel's contribution. ``box_reduce`` equals Pillow's
``Image.reduce((fx, fy))`` on the same array, byte for byte (the compiled part,
``augcore/_reduce.pyx``, states its rounding rules), with two deliberate differences:

- factors are given in numpy's axis order, (rows, columns) = (fy, fx) — Pillow's ``reduce``
  takes (x, y);
- channels are averaged independently; Pillow premultiplies RGBA and LA by alpha first.
  augcore's 4-channel result is Pillow's for an "RGBX"/"CMYK" image (or each band as "L").

Where H or W is not a multiple of its factor, the last row or column of boxes is smaller and
averages the pixels it covers, as in Pillow; the output is (ceil(H / fy), ceil(W / fx)).
"""

from __future__ import annotations

import numpy as np

from augcore._warp_checks import as_channels_last
from augcore.errors import MatrixError, WarpOptionError
from augcore.validation import is_integer

try:
    from augcore import _reduce
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "augcore's compiled box reduce (augcore._reduce) is missing or failed to load. "
        "Reinstall with `pip install .` (or `python setup.py build_ext --inplace` in a checkout)."
    ) from exc

__all__ = ["box_reduce", "box_reduce_batch", "reduce_factors", "reduced_pull_map"]


def box_reduce(image: np.ndarray, factors: int | tuple[int, int]) -> np.ndarray:
    """Average ``factors`` = (fy, fx) boxes of an image, as Pillow's ``Image.reduce((fx, fy))``.

    Args:
        image: (H, W) or channels-last (H, W, C), uint8 or float32.
        factors: one integer for both axes, or (rows, columns) factors, each >= 1. A factor
            larger than its axis averages the whole axis into one pixel.

    Returns:
        A new (ceil(H / fy), ceil(W / fx)[, C]) array of the image's dtype: uint8 rounded as
        Pillow rounds, float32 the mean computed in Pillow's order.

    Raises:
        ImageShapeError, ImageDtypeError: as for ``augcore.warp_affine``.
        WarpOptionError: a factor is not an integer >= 1.

    Example:
        >>> import numpy as np
        >>> from augcore.reduce import box_reduce
        >>> box_reduce(np.array([[0, 2, 4], [6, 8, 11]], dtype=np.uint8), 2)
        array([[4, 8]], dtype=uint8)
    """
    source = as_channels_last(image, "image")
    return _reduce_into(source, _factors(factors), image.ndim == 2)[0]


def box_reduce_batch(images: np.ndarray, factors: int | tuple[int, int]) -> np.ndarray:
    """``box_reduce`` on each image of an (N, H, W[, C]) batch; returns (N, H', W'[, C])."""
    source = as_channels_last(images, "images", batch=True)
    return _reduce_into(source, _factors(factors), images.ndim == 3)


def reduced_pull_map(matrix: np.ndarray, factors: int | tuple[int, int]) -> np.ndarray:
    """The 3x3 pull map(s) into the box-reduced image, given one(s) into the full image.

    Reduced pixel i averages full rows i fy .. i fy + fy - 1, centred on i fy + (fy - 1) / 2,
    so a full-image coordinate x is reduced coordinate (x - (fy - 1) / 2) / fy. (The smaller
    boxes at a remainder edge are centred slightly differently; this map treats them as full.)
    Works for affine (2x3 or 3x3) and projective (3x3) pull maps, one or a stack of N.

    Example:
        >>> import numpy as np
        >>> from augcore.reduce import reduced_pull_map
        >>> reduced_pull_map(np.diag([4.0, 4.0, 1.0]), 2)  # a 4x shrink becomes a 2x one
        array([[ 2.  ,  0.  , -0.25],
               [ 0.  ,  2.  , -0.25],
               [ 0.  ,  0.  ,  1.  ]])
    """
    fy, fx = _factors(factors)
    full = np.asarray(matrix, dtype=np.float64)
    if full.shape[-2:] == (2, 3):
        last = np.broadcast_to([0.0, 0.0, 1.0], (*full.shape[:-2], 1, 3))
        full = np.concatenate([full, last], axis=-2)
    if full.ndim not in (2, 3) or full.shape[-2:] != (3, 3):
        raise MatrixError(f"matrix must be 2x3, 3x3 or (N, 2|3, 3), got shape {full.shape}.")
    return _onto_reduced(full, fy, fx)


def _onto_reduced(full: np.ndarray, fy: object, fx: object) -> np.ndarray:
    """``reduced_pull_map`` of 3x3 map(s), factors given as integers or as (N, 1) int64 arrays
    (one pair per map of an (N, 3, 3) stack)."""
    # Element by element (no matmul), so a map in a stack gets the bits it gets alone: an int
    # and an int64 array both divide as float64, correctly rounded.
    out = full.copy()
    out[..., 0, :] = full[..., 0, :] / fy - (fy - 1) / (2 * fy) * full[..., 2, :]
    out[..., 1, :] = full[..., 1, :] / fx - (fx - 1) / (2 * fx) * full[..., 2, :]
    return out


def reduce_factors(matrix: np.ndarray, output_shape: tuple[int, int]) -> tuple[int, int]:
    """The integer (fy, fx) a warp with this pull map should box-reduce its source by first.

    The shrink along an input axis is how far that input coordinate moves per output pixel at
    most: the norm of the matrix row (m00, m01) for rows, (m10, m11) for columns — 2 and 3 for
    a 2x, 3x downscale, s for a rotation scaled by s. For a projective map this is the local
    Jacobian's row, taken at the four output corners, and the smallest is used (the least
    shrink: never blur more than the warp would alias). Each factor is that shrink rounded
    down, at least 1: (1, 1) means no reduce.

    Raises:
        MatrixError: not a finite 2x3 or 3x3 matrix, or one that folds the canvas.

    Example:
        >>> import numpy as np
        >>> from augcore.reduce import reduce_factors
        >>> reduce_factors(np.diag([2.5, 4.0, 1.0]), (100, 50))
        (2, 4)
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape == (2, 3):
        m = np.vstack([m, [0.0, 0.0, 1.0]])
    if m.shape != (3, 3) or not np.isfinite(m).all():
        raise MatrixError(f"matrix must be a finite 2x3 or 3x3 array, got {m.shape}.")
    fy, fx = reduce_factors_batch(m[None], output_shape)[0].tolist()
    return fy, fx


def reduce_factors_batch(matrices: np.ndarray, output_shape: tuple[int, int]) -> np.ndarray:
    """``reduce_factors`` of each of (N, 3, 3) pull maps, as an (N, 2) int64 array.

    Computed element by element, so each map's factors are the same whatever the batch.
    """
    m = matrices
    if not (m[:, 2, :2].any() or (m[:, 2, 2] != 1.0).any()):
        shrinks = [np.hypot(m[:, 0, 0], m[:, 0, 1]), np.hypot(m[:, 1, 0], m[:, 1, 1])]
    else:
        last_r, last_c = output_shape[0] - 1.0, output_shape[1] - 1.0
        shrinks = [np.full(m.shape[0], np.inf), np.full(m.shape[0], np.inf)]
        for r, c in ((0.0, 0.0), (0.0, last_c), (last_r, 0.0), (last_r, last_c)):
            w = m[:, 2, 0] * r + m[:, 2, 1] * c + m[:, 2, 2]
            if not (w > 0).all():
                raise MatrixError("matrix folds the output canvas (w <= 0 at a corner).")
            for k in (0, 1):
                # d(x / w) = (row_k - (x / w) m2) / w for the output (r, c) directions.
                x = (m[:, k, 0] * r + m[:, k, 1] * c + m[:, k, 2]) / w
                local = np.hypot(m[:, k, 0] - x * m[:, 2, 0], m[:, k, 1] - x * m[:, 2, 1]) / w
                shrinks[k] = np.minimum(shrinks[k], local)
    factors = np.floor(np.stack(shrinks, axis=1))
    return np.clip(factors, 1, 4095).astype(np.int64)


def reduce_plan(
    matrices: np.ndarray, factors: np.ndarray, canvas: tuple[int, int], size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """For (N, 3, 3) pull maps onto ``canvas`` from ``size`` (H, W) images, each with its own
    (N, 2) int64 factors: the maps onto the box-reduced images (``reduced_pull_map``; a map
    with factors (1, 1) is returned as it is) and the (N, 4) int64 regions [y0, y1, x0, x1)
    of reduced boxes each one reads.

    A map reads around the input coordinates of its output corners (affine, or projective with
    w > 0 there: either way the canvas maps into their bounding box); a margin of two pixels
    covers every tap of orders 0 and 1. An axis where a corner falls outside the image is
    reduced whole, since the fill modes may take taps anywhere along it.
    """
    fy, fx = factors[:, :1], factors[:, 1:]
    full = np.asarray(matrices, dtype=np.float64)
    reduced = (factors != 1).any(axis=1)[:, None, None]
    maps = np.where(reduced, _onto_reduced(full, fy, fx), full)
    heights, widths = -(-size[0] // fy[:, 0]), -(-size[1] // fx[:, 0])
    zeros = np.zeros_like(heights)
    regions = np.ascontiguousarray(np.stack([zeros, heights, zeros, widths], axis=1))
    _reduce.read_regions(maps, *canvas, regions)
    return maps, regions


def box_reduce_regions(
    source: np.ndarray, factors: tuple[int, int], regions: np.ndarray
) -> np.ndarray:
    """Box-reduce a checked C-contiguous (N, H, W, C) batch by (fy, fx) integers, computing
    only each image's ``regions`` of output boxes (``reduce_plan``); the rest is left
    uninitialised. For callers whose inputs are already checked (``augcore.fusion``)."""
    return _reduce_into(source, factors, False, regions)


def _factors(factors: object) -> tuple[int, int]:
    pair = (factors, factors) if is_integer(factors) else factors
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(is_integer(f) and 1 <= f < 4096 for f in pair)
    ):
        raise WarpOptionError(
            f"factors must be an integer or (rows, columns) integers in 1..4095, got {factors!r}."
        )
    return int(pair[0]), int(pair[1])


def _reduce_into(
    source: np.ndarray,
    factors: tuple[int, int],
    flat: bool,
    regions: np.ndarray | None = None,
) -> np.ndarray:
    """Reduce an (N, H, W, C) batch (only each image's ``regions`` of output boxes, if given:
    see ``_reduce.reduce_batch``); drop the channel axis again when the input had none."""
    count, height, width, channels = source.shape
    fy, fx = factors
    out = np.empty((count, -(-height // fy), -(-width // fx), channels), dtype=source.dtype)
    _reduce.reduce_batch(
        source.reshape(-1).view(np.uint8),
        out.reshape(-1).view(np.uint8),
        count,
        (height, width, channels),
        fy,
        fx,
        source.itemsize,
        regions,
    )
    return out[..., 0] if flat else out
