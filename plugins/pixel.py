"""Built-in pixel transforms: they change values, never positions, one image at a time.

Values are in the image's own units (0..255 for uint8, whatever range a float32 image uses).
uint8 results are rounded half to even and clipped to [0, 255]; float32 results are not
clipped, since augcore cannot know a float image's range.
"""

from __future__ import annotations

import numpy as np

from augcore.hookspecs import hookimpl
from augcore.seeding import Draws, standard_normal_field
from augcore.transform import ImageShape, Param, Params, PixelTransform, to_image_dtype


def _per_image(values: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape (m,) per-image values to broadcast against an (m, H, W[, C]) batch."""
    return values.reshape((-1,) + (1,) * (ndim - 1))


def _channels(shape: ImageShape) -> int:
    return shape[2] if len(shape) == 3 else 1


class _FactorTransform(PixelTransform):
    """Shared by transforms driven by one multiplier per image, drawn around 1."""

    params = (
        Param(
            "factor",
            0.2,
            "range",
            "multiplier (1 = unchanged)",
            "per-image factor, drawn uniformly",
            minimum=0.0,
            maximum=100.0,
            center=1.0,
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"factor": draws.uniform(0, *self.options["factor"])}


class Brightness(_FactorTransform):
    """Multiply every value by a factor (above 1 brighter, below 1 darker)."""

    name = "brightness"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        factor = _per_image(params["factor"], images.ndim).astype(np.float32)
        return to_image_dtype(images * factor, images.dtype)


class Contrast(_FactorTransform):
    """Scale each image's values away from (factor > 1) or towards (< 1) its mean value."""

    name = "contrast"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        flat = images.reshape(images.shape[0], -1)
        mean = flat.sum(axis=1, dtype=np.float64) / flat.shape[1]
        mean = _per_image(mean, images.ndim).astype(np.float32)
        factor = _per_image(params["factor"], images.ndim).astype(np.float32)
        return to_image_dtype(mean + factor * (images - mean), images.dtype)


class ChannelShift(PixelTransform):
    """Add an offset to every value of each channel (one offset per channel, or one for all)."""

    name = "channel_shift"
    params = (
        Param("intensity", 20.0, "range", "image value units (0..255 for uint8)", "offset"),
        Param("per_channel", True, "bool", "", "draw a separate offset for each channel"),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        low, high = self.options["intensity"]
        count = _channels(shape) if self.options["per_channel"] else 1
        offsets = np.stack([draws.uniform(c, low, high) for c in range(count)], axis=1)
        if count != _channels(shape):
            offsets = np.repeat(offsets, _channels(shape), axis=1)
        return {"offsets": offsets}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        offsets = params["offsets"].astype(np.float32)
        # (m, H, W) images have one channel; (m, H, W, C) one offset per channel.
        offsets = offsets[:, :1, None] if images.ndim == 3 else offsets[:, None, None, :]
        return to_image_dtype(images + offsets, images.dtype)


class GaussianNoise(PixelTransform):
    """Add zero-mean Gaussian noise with a per-image standard deviation ``sigma``.

    The noise field is drawn from a recorded 53-bit seed, so replay reproduces it exactly.
    """

    name = "gaussian_noise"
    params = (
        Param(
            "sigma",
            10.0,
            "range",
            "image value units (0..255 for uint8)",
            "standard deviation of the noise",
            minimum=0.0,
            single="upto",
        ),
    )

    def sample(self, draws: Draws, shape: ImageShape) -> Params:
        return {"sigma": draws.uniform(0, *self.options["sigma"]), "noise_seed": draws.seeds(1)}

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        noise = standard_normal_field(params["noise_seed"], images[0].size)
        noise = noise.reshape(images.shape) * _per_image(params["sigma"], images.ndim).astype(
            np.float32
        )
        return to_image_dtype(images + noise, images.dtype)


# ITU-R BT.601 luma weights, as Pillow's convert("L") uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class Grayscale(PixelTransform):
    """Replace R, G and B by the BT.601 luma (alpha kept); 1- and 2-channel images unchanged."""

    name = "grayscale"

    def apply(self, images: np.ndarray, params: Params) -> np.ndarray:
        if images.ndim != 4 or images.shape[3] < 3:
            return images.copy()
        rgb = images[..., :3].astype(np.float32)
        # Element-wise, not a BLAS dot, so each pixel is computed the same way in any batch.
        weighted = rgb[..., 0] * _LUMA[0] + rgb[..., 1] * _LUMA[1] + rgb[..., 2] * _LUMA[2]
        luma = to_image_dtype(weighted, images.dtype)
        out = images.copy()
        out[..., :3] = luma[..., None]
        return out


TRANSFORMS = (Brightness, Contrast, ChannelShift, GaussianNoise, Grayscale)


@hookimpl
def augcore_transforms() -> tuple[type[PixelTransform], ...]:
    return TRANSFORMS
