"""What the photometric plugins share: value scales, per-image broadcasting, blends, lookups.

Rules the photometric transforms (``color``, ``tone``, ``filters``, ``erase``) keep:

- They see colour channels only: batches (m, H, W), (m, H, W, 1) or (m, H, W, 3). The host
  splits any alpha channel off before ``apply`` and puts it back after, so an op never
  special-cases alpha; 2 or 4 channels reaching an op are refused (``ImageShapeError``).
- uint8 values are 0..255; float32 images are taken to hold values in [0, 1] (torchvision's
  convention for float images) and every result is clipped to [0, 1]. ``full_scale`` is the
  white of each dtype, so one formula serves both.
- uint8 results are rounded half to even and clipped; the blends start from the degenerate
  images Pillow's ``ImageEnhance`` builds (integer luma, integer mean), so results are within
  one level of Pillow's (which truncates where augcore rounds).
"""

from __future__ import annotations

import numpy as np

from augcore.errors import ImageShapeError
from augcore.transform import Param

# Pillow's integer luma, L = (19595 R + 38470 G + 7471 B + 2**15) >> 16 (ITU-R 601-2).
_LUMA_FIXED = (19595, 38470, 7471)
_LUMA_FLOAT = (0.2989, 0.587, 0.114)  # torchvision's weights for float images


def factor_param(name: str, default: float, doc: str) -> Param:
    """A multiplier drawn per output around 1: r means [1 - r, 1 + r], within [0, 100]."""
    return Param(
        name, default, "range", "multiplier (1 = unchanged)", doc,
        minimum=0.0, maximum=100.0, center=1.0,
    )


def full_scale(dtype: np.dtype) -> float:
    """The value of white: 255 for uint8, 1 for float32 images."""
    return 255.0 if dtype == np.uint8 else 1.0


def colour_channels(images: np.ndarray, name: str) -> int:
    """1 or 3: the colour channels of an (m, H, W[, C]) batch; anything else is refused."""
    channels = 1 if images.ndim == 3 else images.shape[3]
    if channels not in (1, 3):
        raise ImageShapeError(
            f"transform {name!r} works on 1 (gray) or 3 (RGB) colour channels, got {channels}; "
            "split alpha off first"
        )
    return channels


def per_image(values: np.ndarray, ndim: int) -> np.ndarray:
    """(m,) per-image values as float32, shaped to broadcast against an (m, H, W[, C]) batch."""
    return np.asarray(values, dtype=np.float32).reshape((-1,) + (1,) * (ndim - 1))


def finish(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float results back to the image dtype: uint8 rounded and clipped, float32 to [0, 1]."""
    if dtype == np.uint8:
        return np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return np.clip(values, 0.0, 1.0).astype(np.float32, copy=False)


def blend(images: np.ndarray, degenerate: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """``degenerate + factor * (images - degenerate)`` per image, as ``Image.blend`` computes it.

    ``degenerate`` broadcasts against ``images``; ``factor`` has one value per image.
    """
    factor = per_image(factor, images.ndim)
    mixed = images.astype(np.float32)
    mixed -= degenerate
    mixed *= factor
    mixed += degenerate
    return finish(mixed, images.dtype)


def luma(images: np.ndarray) -> np.ndarray:
    """(m, H, W) float32 luma of RGB images: Pillow's integer ``convert("L")`` for uint8,
    torchvision's 0.2989 R + 0.587 G + 0.114 B for float32."""
    if images.dtype == np.uint8:
        wide = images.astype(np.int32)
        fixed = wide[..., 0] * _LUMA_FIXED[0] + wide[..., 1] * _LUMA_FIXED[1]
        fixed += wide[..., 2] * _LUMA_FIXED[2] + (1 << 15)
        return (fixed >> 16).astype(np.float32)
    r, g, b = _LUMA_FLOAT
    return images[..., 0] * np.float32(r) + images[..., 1] * np.float32(g) + images[
        ..., 2
    ] * np.float32(b)


def gray(images: np.ndarray) -> np.ndarray:
    """The luma of RGB images, or the gray images themselves, shaped (m, H, W[, 1]) as float32."""
    if images.ndim == 4 and images.shape[3] == 3:
        return luma(images)[..., None]
    return images.astype(np.float32)


def apply_luts(images: np.ndarray, luts: np.ndarray) -> np.ndarray:
    """uint8 images looked up in per-image tables: ``luts`` (m, 256) or (m, C, 256) per channel."""
    m = images.shape[0]
    channels = 1 if images.ndim == 3 else images.shape[3]
    tables = luts.reshape(m, -1, 256)
    if tables.shape[1] == 1 and channels > 1:
        tables = np.repeat(tables, channels, axis=1)
    base = (np.arange(m * tables.shape[1], dtype=np.int32) * 256).reshape(m, 1, 1, -1)
    index = images.reshape(m, images.shape[1], images.shape[2], channels).astype(np.int32)
    index += base
    return tables.reshape(-1).take(index).reshape(images.shape)
