"""Built-in neighbourhood filters: gaussian_blur, sharpness and jpeg_quality.

- ``gaussian_blur`` is torchvision's ``gaussian_blur`` (the kernel of ``GaussianBlur``): a
  normalised Gaussian of the given odd size and sigma, mirrored borders ("reflect": the edge
  value is not repeated), uint8 results rounded. It runs as two compiled 1-D passes
  (separable), columns then rows, on uint8 or float32 directly: float32 images in float32
  (``_blur.h``), uint8 ones with kernels up to 31 taps in 16-bit fixed point
  (``_blur_fixed.h``: within kernel_size / 128 of a level of the exact blur before rounding,
  so about 1% of values land one level off the exactly rounded blur), longer kernels in
  float32.
- ``sharpness`` is ``ImageEnhance.Sharpness``: a blend with Pillow's SMOOTH filter (3x3,
  centre weight 5), whose outermost rows and columns keep their values.
- ``jpeg_quality`` is a Pillow JPEG encode and decode at an integer quality drawn per output
  and recorded, so it equals Pillow at that quality byte for byte.

Value rules (colour channels only) are those of ``augcore.plugins._values``.
"""

from __future__ import annotations

import io

import numpy as np
from augcore.plugins._values import colour_channels, factor_param, finish, kernels
from PIL import Image

from augcore.hookspecs import hookimpl
from augcore.seeding import Draws
from augcore.transform import ImageShape, Param, Params, PixelTransform


# --- the kernels ------------------------------------------------------------------------------
def gaussian_kernels(kernel_size: int, sigma: np.ndarray) -> np.ndarray:
    """(m, kernel_size) float64 normalised Gaussian weights, one row per sigma."""
    half = (kernel_size - 1) / 2.0
    x = np.linspace(-half, half, kernel_size)
    weights = np.exp(-0.5 * (x[None, :] / np.asarray(sigma, np.float64)[:, None]) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


def _stacks(images: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(stack, out, result): the batch as (m, H, W, C), and a new array of its shape with the
    (m, H, W, C) view of it the kernels write. ``result`` owns its memory, so the pipeline
    takes it as it is (an array that is a view, even of a new one, it would copy again)."""
    stack = np.ascontiguousarray(images).reshape((*images.shape[:3], -1))
    result = np.empty(images.shape, images.dtype)
    return stack, result.reshape(stack.shape), result


def gaussian_blur(images: np.ndarray, kernel_size: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Blur each image with its own odd ``kernel_size`` and ``sigma`` (torchvision's result)."""
    stack, out, result = _stacks(images)
    sizes = np.unique(kernel_size)
    for size in sizes:
        weights = gaussian_kernels(int(size), sigma).astype(np.float32)
        if sizes.size == 1:  # the usual case: one kernel size, no gathering
            kernels.gaussian_blur(stack, out, weights)
            break
        which = np.flatnonzero(kernel_size == size)
        blurred = np.empty_like(stack[which])
        kernels.gaussian_blur(stack[which], blurred, weights[which])
        out[which] = blurred
    return result


def sharpen(images: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Blend with the SMOOTH-filtered image (``ImageEnhance.Sharpness``): 0 blurs, 2 sharpens."""
    if images.shape[1] < 3 or images.shape[2] < 3:
        return images.copy()
    stack, out, result = _stacks(images)
    kernels.sharpen(stack, out, np.asarray(factor, np.float32))
    return result


def jpeg_round_trip(images: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """Each image encoded as JPEG by Pillow at its ``quality`` and decoded again."""
    eight_bit = images if images.dtype == np.uint8 else finish(images * 255.0, np.dtype(np.uint8))
    out = np.empty_like(eight_bit)
    for index, image in enumerate(eight_bit):
        plane = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
        buffer = io.BytesIO()
        Image.fromarray(plane).save(buffer, format="JPEG", quality=int(quality[index]))
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            out[index] = np.asarray(decoded).reshape(image.shape)
    return out if images.dtype == np.uint8 else out.astype(np.float32) / np.float32(255.0)


# --- the transforms -------------------------------------------------------------------------
class GaussianBlur(PixelTransform):
    """Gaussian blur with an odd kernel size and a sigma drawn per output (torchvision's)."""

    name = "gaussian_blur"
    params = (
        Param(
            "kernel_size", [3, 7], "int_range", "pixels (odd)",
            "kernel side, drawn uniformly among the odd sizes in the range",
            minimum=1, maximum=255, odd=True,
        ),
        Param(
            "sigma", [0.1, 2.0], "range", "pixels", "standard deviation, drawn uniformly",
            minimum=0.01, maximum=100.0, single="upto",
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        low, high = self.options["kernel_size"]
        steps = draws.integers(0, 0, (high - low) // 2)
        return {"kernel_size": low + 2 * steps, "sigma": draws.uniform(1, *self.options["sigma"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return gaussian_blur(images, params["kernel_size"], params["sigma"])


class Sharpness(PixelTransform):
    """Sharpen (factor > 1) or soften (< 1) as ``ImageEnhance.Sharpness`` does."""

    name = "sharpness"
    params = (factor_param("factor", 0.5, "sharpness factor, drawn uniformly"),)

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"factor": draws.uniform(0, *self.options["factor"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return sharpen(images, params["factor"])


class JpegQuality(PixelTransform):
    """JPEG compression artefacts: a Pillow encode and decode at a quality drawn per output."""

    name = "jpeg_quality"
    params = (
        Param(
            "quality", [50, 95], "int_range", "JPEG quality (1..95)",
            "Pillow's quality setting, drawn uniformly", minimum=1, maximum=95,
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"quality": draws.integers(0, *self.options["quality"])}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        colour_channels(images, self.name)
        return jpeg_round_trip(images, params["quality"])


TRANSFORMS = (GaussianBlur, Sharpness, JpegQuality)


@hookimpl
def augcore_transforms() -> tuple[type[PixelTransform], ...]:
    return TRANSFORMS
