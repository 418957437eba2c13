"""Warping masks with the image's own pull map, through the same kernel as the image.

Label and instance masks are sampled nearest-neighbour (order 0), which copies whole source
pixels, so any integer or bool dtype is warped exactly by viewing its bytes as uint8 channels:
an int32 label map is a 4-channel uint8 image to the kernel, an (M, H, W) stack is M channels.
Float masks (heatmaps) are warped bilinearly in float32 and returned in their own dtype.

Outside the source, masks take the image's fill mode, except that "constant" fills labels with
0 (the image's cval is a colour, not a label), and ``mask_fill`` asks for a constant label
(e.g. an ignore index of 255). A constant other than 0 is written through one extra uint8
channel of ones, which comes out 0 exactly where the kernel filled, since one byte-wise cval
cannot spell a multi-byte label.
"""

from __future__ import annotations

import numpy as np

from augcore.errors import TargetError
from augcore.targets.types import CanvasShape, Masks
from augcore.validation import FILL_MODES, is_number
from augcore.warp import warp_perspective_batch


def warp_masks(
    masks: Masks,
    matrix: np.ndarray,
    out_shape: CanvasShape,
    *,
    fill_mode: str = "nearest",
    mask_fill: float | None = None,
) -> Masks:
    """``masks`` warped by the pull map ``matrix`` (scipy (row, col) convention) onto a canvas
    of ``out_shape``; per-box masks stay per-box.

    Example:
        >>> flip = np.array([[1.0, 0, 0], [0, -1, 3], [0, 0, 1]])
        >>> warp_masks(Masks(np.array([[1, 2, 3, 4]], np.int32)), flip, (1, 4)).data.tolist()
        [[4, 3, 2, 1]]
    """
    data = masks.data[None]
    warped = warp_masks_batch(
        data,
        np.asarray(matrix, dtype=np.float64)[None],
        out_shape,
        fill_mode=fill_mode,
        mask_fill=mask_fill,
    )
    return Masks(warped[0], per_box=masks.per_box)


def warp_masks_batch(
    data: np.ndarray,
    matrices: np.ndarray,
    out_shape: CanvasShape,
    *,
    fill_mode: str = "nearest",
    mask_fill: float | None = None,
    threads: int = 1,
) -> np.ndarray:
    """N images' masks (N, H, W) or (N, M, H, W), one pull map each, in one kernel call.

    Returns (N, H', W') or (N, M, H', W') of the input dtype.
    """
    if fill_mode not in FILL_MODES:
        raise TargetError(f"fill_mode must be one of {list(FILL_MODES)}, got {fill_mode!r}")
    if mask_fill is not None and not is_number(mask_fill):
        raise TargetError(f"mask_fill must be a number or None, got {mask_fill!r}")
    stacked = data.ndim == 4
    channels = np.moveaxis(data, 1, -1) if stacked else data[..., None]
    if data.dtype.kind == "f":
        mode = fill_mode if mask_fill is None else "constant"
        floats = np.ascontiguousarray(channels, dtype=np.float32)
        warped = _warp(floats, matrices, out_shape, 1, mode, mask_fill or 0.0, threads)
        warped = warped.astype(data.dtype, copy=False)
    else:
        warped = _warp_labels(channels, matrices, out_shape, fill_mode, mask_fill, threads)
    return np.moveaxis(warped, -1, 1) if stacked else warped[..., 0]


def _warp_labels(
    channels: np.ndarray,
    matrices: np.ndarray,
    out_shape: CanvasShape,
    fill_mode: str,
    mask_fill: float | None,
    threads: int,
) -> np.ndarray:
    """(N, H, W, M) integer/bool labels warped at order 0 through their bytes."""
    dtype = channels.dtype
    if mask_fill is not None:
        _check_fits(mask_fill, dtype)
    n, height, width, count = channels.shape
    raw = np.ascontiguousarray(channels).view(np.uint8).reshape(n, height, width, -1)
    marked = mask_fill is not None and mask_fill != 0
    if marked:
        raw = np.concatenate([raw, np.ones((n, height, width, 1), np.uint8)], axis=-1)
    mode = "constant" if mask_fill is not None else fill_mode
    out = _warp(raw, matrices, out_shape, 0, mode, 0, threads)
    labels = np.ascontiguousarray(out[..., : count * dtype.itemsize]).view(dtype)
    labels = labels.reshape(n, *out_shape, count)
    if marked:
        labels[out[..., -1] == 0] = dtype.type(mask_fill)
    return labels


def _check_fits(value: float, dtype: np.dtype) -> None:
    if dtype.kind == "b":
        valid = value in (0, 1)
    else:
        info = np.iinfo(dtype)
        valid = float(value).is_integer() and info.min <= value <= info.max
    if not valid:
        raise TargetError(f"mask_fill={value!r} is not a value of the masks' dtype {dtype}")


def _warp(
    images: np.ndarray,
    matrices: np.ndarray,
    out_shape: CanvasShape,
    order: int,
    fill_mode: str,
    cval: float,
    threads: int,
) -> np.ndarray:
    """The kernel the image takes: affine maps go to the affine kernel, same bytes."""
    return warp_perspective_batch(
        images,
        matrices,
        output_shape=tuple(out_shape),
        order=order,
        fill_mode=fill_mode,
        cval=cval,
        threads=threads,
    )
