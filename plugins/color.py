"""Built-in colour transforms: color_jitter, hue, saturation and gamma, as torchvision means them.

Each one is the composition torchvision v2 applies (``ColorJitter``, ``adjust_hue``,
``adjust_saturation``, ``adjust_gamma``), with Pillow's degenerate images (integer luma and
mean) for the blends, so uint8 results are within one level of Pillow's ``ImageEnhance`` and
of torchvision's. Hue works in float HSV exactly as torchvision's tensor kernels do.

Value rules (uint8 0..255, float32 in [0, 1] and clipped, colour channels only) are those of
``augcore.plugins._values``. Gray images are left unchanged by hue and saturation, as in both
peers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from augcore.plugins._values import (
    apply_luts,
    blend,
    colour_channels,
    factor_param,
    finish,
    full_scale,
    gray,
    per_image,
)

from augcore.hookspecs import hookimpl
from augcore.seeding import Draws
from augcore.transform import ImageShape, Param, Params, PixelTransform

# torchvision's v2 HSV to RGB table: for sector i = floor(6 h) mod 6, which of (v, p, q, t)
# each of R, G and B takes.
_SECTORS = ((0, 2, 1, 1, 3, 0), (3, 0, 0, 2, 1, 1), (1, 1, 3, 0, 0, 2))


def _hue_param(default: float) -> Param:
    return Param(
        "hue", default, "range", "turns of the colour wheel",
        "hue shift, drawn uniformly (torchvision's hue_factor)", minimum=-0.5, maximum=0.5,
    )


# --- the kernels: each takes an (m, H, W[, C]) batch and (m,) values ----------------------
def adjust_brightness(images: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Blend with black: ``factor * x`` (``ImageEnhance.Brightness``)."""
    return blend(images, np.float32(0.0), factor)


def adjust_contrast(images: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Blend with the image's mean luma, rounded to a level on uint8 (``ImageEnhance.Contrast``)."""
    means = gray(images).reshape(images.shape[0], -1).mean(axis=1, dtype=np.float64)
    if images.dtype == np.uint8:
        means = np.floor(means + 0.5)
    return blend(images, per_image(means, images.ndim), factor)


def adjust_saturation(images: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Blend with the image's own luma (``ImageEnhance.Color``); gray images unchanged."""
    if colour_channels(images, "saturation") == 1:
        return images.copy()
    return blend(images, gray(images), factor)


def adjust_hue(images: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Turn every pixel's hue by ``shift`` (in turns) in float HSV; gray images unchanged."""
    if colour_channels(images, "hue") == 1:
        return images.copy()
    scale = np.float32(full_scale(images.dtype))
    rgb = images.astype(np.float32)
    if images.dtype == np.uint8:
        rgb /= scale
    hue, saturation, value = _rgb_to_hsv(rgb)
    hue += per_image(shift, 3)
    np.remainder(hue, np.float32(1.0), out=hue)
    out = _hsv_to_rgb(hue, saturation, value)
    if images.dtype == np.uint8:
        out *= scale
    return finish(out, images.dtype)


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


def _rgb_to_hsv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """torchvision's ``_rgb_to_hsv``, operation for operation, on (..., 3) float32 in [0, 1]."""
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    maxc = np.maximum(np.maximum(r, g), b)
    minc = np.minimum(np.minimum(r, g), b)
    equal = maxc == minc
    spread = maxc - minc
    one = np.float32(1.0)
    saturation = spread / np.where(equal, one, maxc)
    divisor = np.where(equal, one, spread)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    max_is_r = maxc == r
    max_is_g = (maxc == g) & ~max_is_r
    hue = np.where(max_is_r, bc - gc, np.where(max_is_g, 2.0 + rc - bc, 4.0 + gc - rc))
    hue = hue.astype(np.float32, copy=False) * np.float32(1.0 / 6.0) + one
    return np.fmod(hue, one), saturation, maxc


def _hsv_to_rgb(hue: np.ndarray, saturation: np.ndarray, value: np.ndarray) -> np.ndarray:
    """torchvision's ``_hsv_to_rgb``: (..., 3) float32 from hue, saturation, value in [0, 1]."""
    h6 = hue * np.float32(6.0)
    sector = np.floor(h6)
    fraction = h6 - sector
    sector = np.remainder(sector.astype(np.int32), 6)
    one = np.float32(1.0)
    s_f = saturation * fraction
    p = np.clip((one - saturation) * value, 0.0, 1.0)
    q = np.clip((one - s_f) * value, 0.0, 1.0)
    t = np.clip((s_f + (one - saturation)) * value, 0.0, 1.0)
    vpqt = (value, p, q, t)
    out = np.empty((*hue.shape, 3), dtype=np.float32)
    for channel, row in enumerate(_SECTORS):
        out[..., channel] = np.choose(sector, [vpqt[pick] for pick in row])
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
        kernels: list[tuple[Callable[[np.ndarray, np.ndarray], np.ndarray], str]] = [
            (adjust_brightness, "brightness"),
            (adjust_contrast, "contrast"),
            (adjust_saturation, "saturation"),
            (adjust_hue, "hue"),
        ]
        identity = (1.0, 1.0, 1.0, 0.0)
        out = images
        for position in range(4):
            for op, (kernel, key) in enumerate(kernels):
                if self.options[key] == (identity[op], identity[op]):
                    continue
                which = params["order"][:, position] == op
                if which.all():
                    out = kernel(out, params[key])
                elif which.any():
                    out = out.copy() if out is images else out
                    out[which] = kernel(out[which], params[key][which])
        return out.copy() if out is images else out


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
