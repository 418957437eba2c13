"""Built-in tone curves: posterize, solarize, equalize, autocontrast and invert.

Each is Pillow's ``ImageOps`` function of the same name (what torchvision's PIL path calls):
on uint8 images a 256-entry table per image and channel, built with Pillow's own arithmetic,
so results equal Pillow's exactly. float32 images (values in [0, 1]) get the same curves in
float, except ``equalize``, whose histogram needs levels: there values are first rounded to
the nearest of 256 levels and the result is in steps of 1/255.

Value rules (colour channels only) are those of ``augcore.plugins._values``.
"""

from __future__ import annotations

import numpy as np
from augcore.plugins._values import (
    apply_luts,
    as_pixels,
    colour_channels,
    finish,
    full_scale,
    kernels,
    per_image,
)

from augcore.hookspecs import hookimpl
from augcore.seeding import Draws
from augcore.transform import ImageShape, Param, Params, PixelTransform

_LEVELS = np.arange(256, dtype=np.int64)


# --- the kernels ------------------------------------------------------------------------------
def posterize(images: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Keep the top ``bits`` bits of each value (float32: ``floor(x 2**bits) / 2**bits``)."""
    if images.dtype == np.uint8:
        masks = (0xFF << (8 - np.asarray(bits, np.int64))) & 0xFF
        return images & masks.astype(np.uint8).reshape((-1,) + (1,) * (images.ndim - 1))
    levels = per_image(2.0 ** np.asarray(bits, np.float64), images.ndim)
    return finish(np.minimum(np.floor(images * levels), levels - 1) / levels, images.dtype)


def solarize(images: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """Invert the values at or above ``threshold`` (a fraction of white: 0.5 is 127.5 on uint8)."""
    scale = full_scale(images.dtype)
    limits = np.asarray(threshold, np.float64) * scale
    if images.dtype == np.uint8:
        tables = np.where(_LEVELS[None, :] >= limits[:, None], 255 - _LEVELS, _LEVELS)
        return apply_luts(images, tables.astype(np.uint8))
    return np.where(images >= per_image(limits, images.ndim), 1.0 - images, images).astype(
        np.float32
    )


def equalize(images: np.ndarray) -> np.ndarray:
    """Flatten each channel's histogram with ``ImageOps.equalize``'s table."""
    quantised = images if images.dtype == np.uint8 else finish(images * 255.0, np.dtype(np.uint8))
    counts = kernels.histograms(as_pixels(quantised))
    nonzero = counts > 0
    last = 255 - np.argmax(nonzero[..., ::-1], axis=-1)
    last_count = np.take_along_axis(counts, last[..., None], axis=-1)[..., 0]
    step = (counts.sum(axis=-1) - last_count) // 255
    safe = np.maximum(step, 1)[..., None]
    before = np.cumsum(counts, axis=-1) - counts
    tables = (step[..., None] // 2 + before) // safe
    identity = (nonzero.sum(axis=-1) <= 1) | (step == 0)
    tables = np.where(identity[..., None], _LEVELS, np.minimum(tables, 255)).astype(np.uint8)
    out = apply_luts(quantised, tables)
    return out if images.dtype == np.uint8 else out.astype(np.float32) / np.float32(255.0)


def autocontrast(images: np.ndarray) -> np.ndarray:
    """Stretch each channel so its darkest value becomes 0 and its lightest white."""
    flat = as_pixels(images)
    low, high = kernels.channel_ranges(flat)
    flat_span = high <= low
    if images.dtype == np.uint8:
        scale = 255.0 / np.where(flat_span, 1.0, high - low)
        # Pillow truncates int(ix * scale + offset), then clips to [0, 255].
        tables = np.trunc(_LEVELS * scale[..., None] - (low * scale)[..., None])
        tables = np.where(flat_span[..., None], _LEVELS, np.clip(tables, 0, 255))
        return apply_luts(images, tables.astype(np.uint8))
    span = np.where(flat_span, 1.0, high - low).astype(np.float32)
    low = np.where(flat_span, 0.0, low).astype(np.float32)
    stretched = (flat - low[:, None, :]) / span[:, None, :]
    return finish(stretched, images.dtype).reshape(images.shape)


def invert(images: np.ndarray) -> np.ndarray:
    """The negative: 255 - x on uint8, 1 - x on float32."""
    if images.dtype == np.uint8:
        return np.subtract(np.uint8(255), images)
    return finish(1.0 - images, images.dtype)


# --- the transforms -------------------------------------------------------------------------
class Posterize(PixelTransform):
    """Keep only the top ``bits`` bits of every value (``ImageOps.posterize``)."""

    name = "posterize"
    params = (
        Param(
            "bits", [4, 8], "int_range", "bits (1..8)", "bits kept, drawn uniformly",
            minimum=1, maximum=8,
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"bits": draws.integers(0, *self.options["bits"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return posterize(images, params["bits"])


class Solarize(PixelTransform):
    """Invert every value at or above a threshold (``ImageOps.solarize``)."""

    name = "solarize"
    params = (
        Param(
            "threshold", [0.5, 1.0], "range", "fraction of white (0.5 = 127.5 on uint8)",
            "values >= threshold are inverted; drawn uniformly", minimum=0.0, maximum=1.0,
            single="upto",
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"threshold": draws.uniform(0, *self.options["threshold"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return solarize(images, params["threshold"])


class Equalize(PixelTransform):
    """Equalise each channel's histogram (``ImageOps.equalize``)."""

    name = "equalize"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return equalize(images)


class Autocontrast(PixelTransform):
    """Stretch each channel to the full range (``ImageOps.autocontrast`` without cutoff)."""

    name = "autocontrast"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return autocontrast(images)


class Invert(PixelTransform):
    """The photographic negative (``ImageOps.invert``): 255 - x, or 1 - x on float32."""

    name = "invert"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return invert(images)


TRANSFORMS = (Posterize, Solarize, Equalize, Autocontrast, Invert)


@hookimpl
def augcore_transforms() -> tuple[type[PixelTransform], ...]:
    return TRANSFORMS
