"""The checks every boundary of augcore shares: a number, an integer, a mode, an image.

One home for them, so that a config, a kernel call, a job option and a Keras argument accept
and refuse exactly the same values. The predicates (``is_number``, ``is_integer``) leave the
error to the caller; ``require_int`` raises the exception class its caller passes, so each
boundary keeps its own ``augcore.errors`` class while the rule and the wording stay one.
``check_image`` and ``stack_images`` are the one check of images handed to the pipeline: not
an array, a wrong rank or an empty axis is an ``ImageShapeError``, a wrong dtype an
``ImageDtypeError``, as in the warp's checks (``augcore._warp_checks``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from augcore.errors import ConfigError, ImageDtypeError, ImageShapeError

#: The image dtypes augcore handles everywhere (pipeline, stream, warp).
IMAGE_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32))
#: The border modes of the warp kernel, each named as in ``scipy.ndimage``.
FILL_MODES = ("nearest", "constant", "reflect", "wrap")


#: Integers beyond this magnitude have no float value (``float(10**400)`` raises OverflowError).
FLOAT_MAX = sys.float_info.max
#: The largest count, index or variant number: what every int64 in the pipeline can hold.
INT_MAX = 2**63 - 1


def is_number(value: Any) -> bool:
    """A real number given as Python or numpy int or float, one that converts to a float: bools
    are not numbers here, nor are integers beyond float range (``10**400``)."""
    if type(value) is float:  # the common case, without isinstance chains
        return True
    if isinstance(value, int):
        return not isinstance(value, bool) and -FLOAT_MAX <= value <= FLOAT_MAX
    return isinstance(value, (float, np.integer, np.floating))


def is_integer(value: Any) -> bool:
    """A Python or numpy integer that is not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_probability(p: Any, where: str) -> float:
    """``p`` as a float in [0, 1], or a ConfigError naming ``where``."""
    if not is_number(p) or not 0.0 <= p <= 1.0:
        raise ConfigError(f"{where}: 'p' got {p!r}; allowed: a number in [0, 1]")
    return float(p)


def require_int(
    name: str,
    value: Any,
    *,
    minimum: int,
    maximum: int | None = None,
    error: type[Exception],
) -> int:
    """``value`` as an int when it is an integer in [minimum, maximum]; else ``error``.

    Without ``maximum``, values up to 2**63 - 1 are accepted (beyond that no int64 holds them).
    The one count/index/seed check: ``error`` is the caller's ``AugcoreError`` subclass (an
    ``AugmentOptionError`` for ``augment``, a ``StreamOptionError`` for ``AugmentStream``...),
    and the message names the parameter, what is allowed and what it got.
    """
    if maximum is None:  # a count or index still has to fit the int64s it becomes
        maximum = INT_MAX
    if is_integer(value) and minimum <= value <= maximum:
        return int(value)
    upper = "" if maximum == INT_MAX else f" and <= {maximum}"
    if maximum == INT_MAX and is_integer(value) and value > maximum:
        upper = " and < 2**63"
    raise error(f"{name} must be an integer >= {minimum}{upper}, got {value!r}")


def check_image(image: Any, what: str, batch: bool = False) -> np.ndarray:
    """``image`` as a C-contiguous uint8/float32 array of rank 2-3 (4 with ``batch``), non-empty.

    Not an array, a wrong rank or an empty axis: ``ImageShapeError``; a dtype other than
    uint8/float32: ``ImageDtypeError`` (as the warp does; docs/glossary.md, "One error per
    kind of mistake").
    """
    if not isinstance(image, np.ndarray):
        raise ImageShapeError(
            f"{what} must be a numpy array, got {type(image).__name__}; "
            "convert it with numpy.asarray(...)"
        )
    if image.dtype not in IMAGE_DTYPES:
        raise ImageDtypeError(
            f"{what} has dtype {image.dtype}; augcore handles uint8 and float32 "
            "(convert with .astype(np.float32) or to uint8 first)"
        )
    dims = (3, 4) if batch else (2, 3)
    if image.ndim not in dims or 0 in image.shape:
        layout = "(N, H, W) or (N, H, W, C)" if batch else "(H, W) or (H, W, C)"
        raise ImageShapeError(f"{what} has shape {image.shape}; expected non-empty {layout}")
    return np.ascontiguousarray(image)


def stack_images(images: np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, bool]:
    """The images as one (N, H, W[, C]) array, and whether it is a new one (ours to write)."""
    if isinstance(images, np.ndarray):
        return check_image(images, "images", batch=True), False
    if not isinstance(images, Sequence) or isinstance(images, (str, bytes)):
        raise ImageShapeError(
            "images must be an (N, H, W[, C]) numpy array or a sequence of arrays, "
            f"got {type(images).__name__}"
        )
    images = list(images)
    if not images:
        raise ImageShapeError("images is empty; pass at least one image")
    checked = [check_image(image, f"images[{i}]") for i, image in enumerate(images)]
    shapes = {(image.shape, image.dtype) for image in checked}
    if len(shapes) != 1:
        raise ImageShapeError(
            f"images must share one shape and dtype, got {sorted(map(str, shapes))}; "
            "resize them first or call augment per image"
        )
    return np.stack(checked), True
