"""What the host checks in everything a transform hands back: params, matrices, pixels.

Plugins are third-party code; a wrong dtype or shape caught here is a ``PluginContractError``
naming the transform, its module and its distribution, instead of a numpy error deep inside a
warp or a record that does not survive its JSON round trip. The contract itself is documented
on ``augcore.Transform`` (``sample``, ``matrices``, ``apply``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from augcore.errors import CanvasError, PluginContractError
from augcore.manager import describe_transform
from augcore.transform import RECORDABLE_DTYPES, AffineRows, ImageShape, Params, Transform
from augcore.validation import is_integer
from augcore.warp import MAX_OUTPUT_PIXELS


def checked_params(transform: Transform, params: Any, n: int) -> Params:
    """Sampled params must be arrays of length n with a dtype that round-trips through JSON."""
    if not isinstance(params, dict):
        raise PluginContractError(
            f"{describe_transform(transform)}: sample() must return a dict of arrays"
        )
    for key, value in params.items():
        if (
            not isinstance(value, np.ndarray)
            or value.ndim < 1
            or value.shape[0] != n
            or value.dtype not in RECORDABLE_DTYPES
        ):
            raise PluginContractError(
                f"{describe_transform(transform)}: sampled parameter "
                f"{key!r} must be a float64, int64 or bool array with first axis {n} (so it "
                f"survives the record's JSON round trip), got {value!r:.80}"
            )
    return params


def checked_canvas(transform: Transform, canvas: Any, shape: ImageShape) -> ImageShape:
    """A canvas is ``shape`` with new positive (H, W), channels kept, within the pixel limit."""
    if (
        not isinstance(canvas, tuple)
        or len(canvas) != len(shape)
        or canvas[2:] != shape[2:]
        or not all(is_integer(side) and side >= 1 for side in canvas[:2])
    ):
        raise PluginContractError(
            f"{describe_transform(transform)}: canvas({shape}) must return the shape with a new "
            f"positive (height, width) and the same channels, got {canvas!r}"
        )
    canvas = (int(canvas[0]), int(canvas[1]), *shape[2:])
    if canvas[0] * canvas[1] > MAX_OUTPUT_PIXELS:
        raise CanvasError(
            f"transform {transform.name!r} would make a {canvas[0]}x{canvas[1]} canvas from a "
            f"{shape[0]}x{shape[1]} image, over the limit of {MAX_OUTPUT_PIXELS} pixels; "
            "choose a smaller size"
        )
    return canvas


def checked_matrices(transform: Transform, matrices: Any, n: int) -> np.ndarray:
    """Pull maps must be float64 (n, 3, 3) and finite; a last row other than [0, 0, 1] makes
    a projective map (the kernel refuses one that folds the canvas)."""
    if (
        not isinstance(matrices, np.ndarray)
        or matrices.shape != (n, 3, 3)
        or matrices.dtype != np.float64
    ):
        raise PluginContractError(
            f"{describe_transform(transform)}: matrices() must return a float64 "
            f"array of shape ({n}, 3, 3), got {getattr(matrices, 'shape', type(matrices))}"
        )
    if n == 1:  # one output (augment): nine floats cost less than numpy's reduction
        finite = all(map(math.isfinite, matrices.ravel().tolist()))
    else:
        finite = bool(np.isfinite(matrices).all())
    if not finite:
        raise PluginContractError(
            f"{describe_transform(transform)}: matrices() returned NaN or infinite values"
        )
    return matrices


def checked_rows(transform: Transform, rows: Any) -> AffineRows:
    """``affine_one`` must return a tuple of six finite numbers (an affine map's top rows)."""
    try:
        good = isinstance(rows, tuple) and len(rows) == 6 and all(map(math.isfinite, rows))
    except TypeError:  # an entry that is not a number
        good = False
    if not good:
        raise PluginContractError(
            f"{describe_transform(transform)}: affine_one() must return a tuple of six finite "
            f"floats (m00, m01, m02, m10, m11, m12), got {rows!r:.80}"
        )
    return rows


def checked_pixels(transform: Transform, changed: Any, given: np.ndarray) -> np.ndarray:
    """``apply`` must return an array of the shape and dtype of the images it was given."""
    if (
        not isinstance(changed, np.ndarray)
        or changed.shape != given.shape
        or changed.dtype != given.dtype
    ):
        got = f"{getattr(changed, 'shape', None)} {getattr(changed, 'dtype', type(changed))}"
        raise PluginContractError(
            f"{describe_transform(transform)}: apply() must return an array of shape "
            f"{given.shape} and dtype {given.dtype}, got {got}"
        )
    return changed
