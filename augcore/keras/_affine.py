"""Keras's per-image operations, with the warp on augcore's kernel instead of per-channel scipy.

The affine matrix is built with the same numpy calls, in the same order, as Keras 3's
``keras/src/legacy/preprocessing/image.py``, so every float matches bit for bit and the warp
(identical to ``scipy.ndimage.affine_transform``) reproduces Keras exactly, quirks included:

* rows and columns are swapped after centring (``P @ M @ P``), so ``tx`` (``height_shift_range``)
  moves the image sideways and ``ty`` moves it up and down;
* the centre offsets are not swapped with the axes, so on non-square images rotation, shear and
  zoom pivot about a point off the true centre;
* ``wrap`` is scipy's ``wrap`` (period n - 1), not true tiling.

These are kept on purpose for compatibility; augcore's native transforms
(``augcore.plugins.geometric``) use correct geometry.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import ImageEnhance

from augcore.errors import ImageDtypeError, ImageShapeError
from augcore.keras._image import array_to_img, img_to_array
from augcore.warp import warp_affine

_KERNEL_DTYPES = (np.dtype(np.uint8), np.dtype(np.float32))
# float32 holds every integer below 2**24 exactly: the most pixels an order-0 gather can number.
_EXACT_PIXEL_NUMBERS = 2**24
_SWAP_XY = (1, 0, 2)


def transform_matrix_offset_center(matrix: np.ndarray, x: float, y: float) -> np.ndarray:
    """Conjugate ``matrix`` by a shift to Keras's centre (x/2 - 0.5, y/2 - 0.5)."""
    o_x = float(x) / 2 - 0.5
    o_y = float(y) / 2 - 0.5
    offset_matrix = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset_matrix = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return np.dot(np.dot(offset_matrix, matrix), reset_matrix)


def keras_affine_matrix(
    theta: float,
    tx: float,
    ty: float,
    shear: float,
    zx: float,
    zy: float,
    height: int,
    width: int,
    swap_axes: bool = True,
) -> np.ndarray | None:
    """The 3x3 pull map Keras hands to scipy, or None when Keras would not warp at all."""
    transform_matrix = None
    if theta != 0:
        theta = np.deg2rad(theta)
        transform_matrix = np.array(
            [
                [np.cos(theta), -np.sin(theta), 0],
                [np.sin(theta), np.cos(theta), 0],
                [0, 0, 1],
            ]
        )
    if tx != 0 or ty != 0:
        shift_matrix = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        transform_matrix = (
            shift_matrix if transform_matrix is None else np.dot(transform_matrix, shift_matrix)
        )
    if shear != 0:
        shear = np.deg2rad(shear)
        shear_matrix = np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
        transform_matrix = (
            shear_matrix if transform_matrix is None else np.dot(transform_matrix, shear_matrix)
        )
    if zx != 1 or zy != 1:
        zoom_matrix = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
        transform_matrix = (
            zoom_matrix if transform_matrix is None else np.dot(transform_matrix, zoom_matrix)
        )
    if transform_matrix is None:
        return None
    transform_matrix = transform_matrix_offset_center(transform_matrix, height, width)
    if swap_axes:  # Keras swaps rows 0/1 and columns 0/1: a pure permutation, exact
        transform_matrix = transform_matrix.take(_SWAP_XY, axis=0).take(_SWAP_XY, axis=1)
    return transform_matrix


def _check_axes(x: np.ndarray, row_axis: int, col_axis: int, channel_axis: int) -> None:
    """Keras's checks, in Keras's order, with its messages."""
    axes = {row_axis, col_axis, channel_axis}
    if len(axes) != 3:
        raise ImageShapeError("'row_axis', 'col_axis', and 'channel_axis' must be distinct")
    if axes != {0, 1, 2}:
        raise ImageShapeError(f"Invalid axis' indices: {axes - {0, 1, 2}}")
    if x.ndim != 3:
        raise ImageShapeError(
            "Input arrays must be multi-channel 2D images. "
            f"(Got shape {x.shape}; pass one image with a channel axis.)"
        )
    if channel_axis not in (0, 2):
        raise ImageShapeError("Channels are allowed and the first and last dimensions.")


def warp_channels(
    x: np.ndarray, matrix: np.ndarray, channel_axis: int, fill_mode: str, cval: float, order: int
) -> np.ndarray:
    """Warp all channels in one kernel call, converting dtypes the kernel lacks.

    uint8 and float32 run as they are. For other dtypes, order 0 warps the pixels' numbers and
    gathers the values, exactly as scipy copies them; order 1 warps in float32: other floats
    (float64, float16) are cast back, matching Keras's float64 to about 1e-5 relative, and other
    integer dtypes are rounded as scipy rounds into an integer array (half away from zero,
    clipped to the dtype): Keras's result for values below 2**24 in magnitude, except pixels
    whose value lies within float32 precision of a .5 rounding boundary.
    """
    dtype = x.dtype
    if not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise ImageDtypeError(
            f"apply_affine_transform supports integer and floating-point images, got {dtype}; "
            "convert with x.astype('float32')."
        )
    channels_last = np.moveaxis(x, channel_axis, -1)
    if dtype in _KERNEL_DTYPES:
        warped = warp_affine(
            np.ascontiguousarray(channels_last), matrix, order=order, fill_mode=fill_mode, cval=cval
        )
    elif order == 0 and x.size // x.shape[channel_axis] < _EXACT_PIXEL_NUMBERS:
        warped = _gather_nearest(channels_last, matrix, fill_mode, cval)
    else:
        warped = warp_affine(
            channels_last.astype(np.float32), matrix, order=order, fill_mode=fill_mode, cval=cval
        )
        warped = _store_like_scipy(warped, dtype)
    return np.moveaxis(warped, -1, channel_axis)


def _gather_nearest(
    channels_last: np.ndarray, matrix: np.ndarray, fill_mode: str, cval: float
) -> np.ndarray:
    """Order 0 for any dtype: warp 1-based pixel numbers (exact in float32), then gather."""
    h, w, c = channels_last.shape
    numbers = np.arange(1, h * w + 1, dtype=np.float32).reshape(h, w)
    picked = warp_affine(numbers, matrix, order=0, fill_mode=fill_mode, cval=0).astype(np.intp)
    flat = channels_last.reshape(h * w, c)
    out = flat[np.maximum(picked, 1) - 1]
    if fill_mode == "constant":  # 0: outside the image, where scipy writes cval
        out[picked == 0] = _store_like_scipy(np.array(cval, np.float64), channels_last.dtype)
    return out


def _store_like_scipy(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """scipy.ndimage's store of a computed value: a cast for floats, and for integers
    ``(type)(v > 0 ? v + 0.5 : v - 0.5)``, clipped here to the dtype."""
    if not np.issubdtype(dtype, np.integer):
        return values.astype(dtype, copy=False)
    wide = values.astype(np.float64)
    rounded = np.where(wide > 0, np.floor(wide + 0.5), np.ceil(wide - 0.5))
    limits = np.iinfo(dtype)
    return np.clip(rounded, limits.min, limits.max).astype(dtype)


def apply_affine_transform(
    x: np.ndarray,
    theta: float = 0,
    tx: float = 0,
    ty: float = 0,
    shear: float = 0,
    zx: float = 1,
    zy: float = 1,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    order: int = 1,
) -> np.ndarray:
    """Keras's ``apply_affine_transform``: same arguments, same pixels (see the module notes).

    ``order`` is 0 or 1 and ``fill_mode`` one of nearest/constant/reflect/wrap (the kernel's).
    The result has the input's dtype (integer images are rounded as scipy rounds them). With
    identity parameters the input is returned as is, as Keras does.
    """
    x = np.asarray(x)
    _check_axes(x, row_axis, col_axis, channel_axis)
    matrix = keras_affine_matrix(
        theta, tx, ty, shear, zx, zy, x.shape[row_axis], x.shape[col_axis], col_axis > row_axis
    )
    if matrix is None:
        return x
    return warp_channels(x, matrix, channel_axis, fill_mode, cval, order)


def apply_channel_shift(x: np.ndarray, intensity: float, channel_axis: int = 0) -> np.ndarray:
    """Add ``intensity`` to every channel, clipped to the image's own min..max (Keras's rule).

    The bounds are the whole image's, so ``channel_axis`` (kept for Keras's signature) does not
    change the result.
    """
    return np.clip(x + intensity, np.min(x), np.max(x))


def apply_brightness_shift(x: np.ndarray, brightness: float, scale: bool = True) -> np.ndarray:
    """Keras's brightness shift: a uint8 PIL round trip (values truncate), channels last."""
    x_min, x_max = np.min(x), np.max(x)
    local_scale = (x_min < 0) or (x_max > 255)
    img = array_to_img(x, data_format="channels_last", scale=local_scale or scale)
    x = img_to_array(ImageEnhance.Brightness(img).enhance(brightness))
    if not scale and local_scale:
        x = x / 255 * (x_max - x_min) + x_min
    return x


def flip_axis(x: Any, axis: int) -> np.ndarray:
    """A reversed view along ``axis``."""
    return np.asarray(x)[(slice(None),) * axis + (slice(None, None, -1),)]
