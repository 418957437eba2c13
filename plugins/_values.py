"""What the photometric plugins share: value scales, per-image broadcasting, blends, lookups.

Rules the photometric transforms (``color``, ``tone``, ``filters``, ``erase``) keep:

- They see colour channels only: batches (m, H, W), (m, H, W, 1) or (m, H, W, 3). The host
  splits any alpha channel off before ``apply`` and puts it back after, so an op never
  special-cases alpha; 2 or 4 channels reaching an op are refused (``ImageShapeError``).
- uint8 values are 0..255; float32 images are taken to hold values in [0, 1] (torchvision's
  convention for float images) and every result is clipped to [0, 1]. ``full_scale`` is the
  white of each dtype, so one formula serves both.
- uint8 results are rounded half to even and clipped; the blends start from the degenerate
  images Pillow's ``ImageEnhance`` builds (integer luma, integer mean, SMOOTH rounded), so
  results are within one level of Pillow's (which truncates where augcore rounds). The
  per-pixel loops of the colour blends, hue and blur are compiled: ``_kernels.pyx``.
"""

from __future__ import annotations

import numpy as np
from augcore.plugins import _kernels

from augcore.errors import ImageShapeError
from augcore.transform import Param

#: The compiled loops for this CPU: the AVX-512 build where it runs, else the AVX2 one, else
#: the baseline (all compute the same values, see _kernels.pxi).
kernels = _kernels
if _kernels.has_avx512():
    from augcore.plugins import _kernels_avx512 as kernels
elif _kernels.has_avx2():
    from augcore.plugins import _kernels_avx2 as kernels


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


def apply_luts(images: np.ndarray, luts: np.ndarray) -> np.ndarray:
    """uint8 images looked up in per-image tables: ``luts`` (m, 256) or (m, C, 256) per channel."""
    tables = luts.reshape(images.shape[0], -1, 256)  # (m, 1, 256): one table, every channel
    out = np.empty(images.shape, images.dtype)  # owned, not a view: the pipeline keeps it as is
    kernels.apply_tables(as_pixels(images), as_pixels(out), np.ascontiguousarray(tables, np.uint8))
    return out


def as_pixels(images: np.ndarray) -> np.ndarray:
    """The batch as (m, pixels, channels), a view of a contiguous array (what kernels take)."""
    channels = 1 if images.ndim == 3 else images.shape[3]
    return np.ascontiguousarray(images).reshape(images.shape[0], -1, channels)
