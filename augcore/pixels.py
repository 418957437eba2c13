"""How the host runs a pixel transform: on the colour channels only, alpha put back untouched.

An image with 2 channels (grey + alpha, Pillow's LA) or 4 (RGBA) carries alpha in its last
channel. The host splits it off before a pixel transform samples (the ``shape`` it is given
shows the colour channels only) and applies (``images`` holds only them), then puts it back
unchanged. So every pixel transform, built-in or plugin, keeps alpha without a line of code:
brightness never turns alpha 200 into 255, and noise never makes a transparent pixel grey.
Geometric transforms move alpha with the colours, as they move every channel.
"""

from __future__ import annotations

import numpy as np

from augcore.contract import checked_pixels
from augcore.transform import ImageShape, Params, PixelTransform, Transform

#: Channel counts whose last channel is alpha: grey + alpha, and RGBA.
ALPHA_CHANNELS = (2, 4)


def sample_shape(transform: Transform, shape: ImageShape) -> ImageShape:
    """The image shape ``transform.sample`` is given: a pixel transform's has no alpha."""
    if isinstance(transform, PixelTransform) and len(shape) == 3 and shape[2] in ALPHA_CHANNELS:
        return (shape[0], shape[1], shape[2] - 1)
    return shape


def apply_pixels(transform: PixelTransform, images: np.ndarray, params: Params) -> np.ndarray:
    """``transform.apply`` on the colour channels of ``images`` (m, H, W[, C]); alpha kept.

    Raises PluginContractError (naming the transform) when ``apply`` returns anything but an
    array shaped and typed like the images it was given.
    """
    if images.ndim == 4 and images.shape[3] in ALPHA_CHANNELS:
        colour = np.ascontiguousarray(images[..., :-1])
        changed = checked_pixels(transform, transform.apply(colour, params), colour)
        return np.concatenate([changed, images[..., -1:]], axis=-1)
    return checked_pixels(transform, transform.apply(images, params), images)
