"""Built-in colour transforms: color_jitter, hue, saturation and gamma, as torchvision means them.

Each one is the composition torchvision v2 applies (``ColorJitter``, ``adjust_hue``,
``adjust_saturation``, ``adjust_gamma``), with Pillow's degenerate images (integer luma and
mean) for the blends, so uint8 results are within one level of Pillow's ``ImageEnhance`` and
of torchvision's. Hue works in float HSV exactly as torchvision's tensor kernels do. The
per-pixel loops are compiled (``plugins/_color.pxi``): ``color_jitter`` applies its
operations block by block while a block of pixels is in L1, rounding in between as one kernel
per operation would (one pass over the image, two when contrast needs the mean luma of what
the operations before it made).

Value rules (uint8 0..255, float32 in [0, 1] and clipped, colour channels only) are those of
``augcore.plugins._values``. Gray images are left unchanged by hue and saturation, as in both
peers.
"""

from __future__ import annotations

import numpy as np
from augcore.plugins._values import (
    apply_luts,
    as_pixels,
    colour_channels,
    factor_param,
    finish,
    kernels,
    per_image,
)

from augcore.hookspecs import hookimpl
from augcore.seeding import Draws
from augcore.transform import ImageShape, Param, Params, PixelTransform


def _hue_param(default: float) -> Param:
    return Param(
        "hue", default, "range", "turns of the colour wheel",
        "hue shift, drawn uniformly (torchvision's hue_factor)", minimum=-0.5, maximum=0.5,
    )


# --- the kernels: each takes an (m, H, W[, C]) batch and (m,) values, and writes its result
# into ``out`` (a new array by default; ``out=images`` works in place: every loop reads a value,
# or a block of values, before writing it) -------------------------------------------------
def adjust_brightness(
    images: np.ndarray, factor: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Blend with black: ``factor * x`` (``ImageEnhance.Brightness``)."""
    return _blend_constant(images, factor, np.zeros(images.shape[0]), out)


def adjust_contrast(
    images: np.ndarray, factor: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Blend with the image's mean luma, rounded to a level on uint8 (``ImageEnhance.Contrast``)."""
    means = kernels.luma_means(as_pixels(images))
    if images.dtype == np.uint8:
        means = np.floor(means + 0.5)
    return _blend_constant(images, factor, means, out)


def adjust_saturation(
    images: np.ndarray, factor: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """Blend with the image's own luma (``ImageEnhance.Color``); gray images unchanged."""
    out = np.empty_like(images) if out is None else out
    if colour_channels(images, "saturation") == 1:
        out[...] = images
        return out
    kernels.blend_luma(as_pixels(images), as_pixels(out), np.asarray(factor, np.float32))
    return out


def adjust_hue(images: np.ndarray, shift: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Turn every pixel's hue by ``shift`` (in turns) in float HSV; gray images unchanged."""
    out = np.empty_like(images) if out is None else out
    if colour_channels(images, "hue") == 1:
        out[...] = images
        return out
    kernels.hue_shift(as_pixels(images), as_pixels(out), np.asarray(shift, np.float32))
    return out


def adjust_gamma(images: np.ndarray, gamma: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """``gain * x ** gamma`` on values in [0, 1] (uint8 through one 256-entry table per image)."""
    if images.dtype == np.uint8:
        levels = np.arange(256, dtype=np.float64) / 255.0
        tables = gain * levels[None, :] ** np.asarray(gamma, np.float64)[:, None] * 255.0
        return apply_luts(images, finish(tables, np.dtype(np.uint8)))
    out = np.power(images, per_image(gamma, images.ndim))
    if gain != 1.0:
        out *= np.float32(gain)
    return finish(out, images.dtype)


def _blend_constant(
    images: np.ndarray, factor: np.ndarray, base: np.ndarray, out: np.ndarray | None
) -> np.ndarray:
    out = np.empty_like(images) if out is None else out
    flat = np.ascontiguousarray(images).reshape(images.shape[0], -1)
    kernels.blend_constant(
        flat, out.reshape(flat.shape), np.asarray(factor, np.float32), base.astype(np.float32)
    )
    return out


# --- the transforms -------------------------------------------------------------------------
class ColorJitter(PixelTransform):
    """Brightness, contrast, saturation and hue in a random order, as torchvision's ColorJitter.

    The order is a permutation drawn per output and recorded (``order``: 0 brightness,
    1 contrast, 2 saturation, 3 hue); a factor pinned at 1 (hue at 0) is skipped.
    """

    name = "color_jitter"
    params = (
        factor_param("brightness", 0.4, "brightness factor, drawn uniformly"),
        factor_param("contrast", 0.4, "contrast factor, drawn uniformly"),
        factor_param("saturation", 0.4, "saturation factor, drawn uniformly"),
        _hue_param(0.1),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        options = self.options
        priorities = np.stack([draws.uniform(4 + j) for j in range(4)], axis=1)
        return {
            "brightness": draws.uniform(0, *options["brightness"]),
            "contrast": draws.uniform(1, *options["contrast"]),
            "saturation": draws.uniform(2, *options["saturation"]),
            "hue": draws.uniform(3, *options["hue"]),
            "order": np.argsort(priorities, axis=1, kind="stable").astype(np.int64),
        }

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        identity = {"brightness": 1.0, "contrast": 1.0, "saturation": 1.0, "hue": 0.0}
        active = np.array([self.options[key] != (value,) * 2 for key, value in identity.items()])
        order = np.where(active[params["order"]], params["order"], -1)
        amounts = np.stack([params[key] for key in identity], axis=1).astype(np.float32)
        out = np.empty_like(images)
        kernels.color_jitter(as_pixels(images), as_pixels(out), amounts, order)
        return out


class Hue(PixelTransform):
    """Turn the hue by a fraction of the colour wheel, as torchvision's ``adjust_hue``."""

    name = "hue"
    params = (_hue_param(0.1),)

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"hue": draws.uniform(0, *self.options["hue"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        return adjust_hue(images, params["hue"])


class Saturation(PixelTransform):
    """Scale colourfulness: 0 gives gray, 1 the image, 2 doubles it (``ImageEnhance.Color``)."""

    name = "saturation"
    params = (factor_param("factor", 0.4, "saturation factor, drawn uniformly"),)

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"factor": draws.uniform(0, *self.options["factor"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        return adjust_saturation(images, params["factor"])


class Gamma(PixelTransform):
    """``gain * x ** gamma`` on values scaled to [0, 1], as torchvision's ``adjust_gamma``."""

    name = "gamma"
    params = (
        Param(
            "gamma", 0.2, "range", "exponent (1 = unchanged)", "gamma, drawn uniformly",
            minimum=0.01, maximum=10.0, center=1.0,
        ),
        Param("gain", 1.0, "float", "multiplier", "applied after the power", minimum=0.0),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"gamma": draws.uniform(0, *self.options["gamma"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return adjust_gamma(images, params["gamma"], self.options["gain"])


TRANSFORMS = (ColorJitter, Hue, Saturation, Gamma)


@hookimpl
def augcore_transforms() -> tuple[type[PixelTransform], ...]:
    return TRANSFORMS
