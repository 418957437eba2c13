"""The independent oracles the warp tests compare augcore's kernel with (scipy.ndimage), and
their random test images.

Shared by tests/test_warp*.py (pytest puts tests/ on ``sys.path``).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def random_image(rng, shape, dtype):
    """Test pixels: any uint8 value, or float32 around 0 with both signs."""
    if dtype == np.uint8:
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.normal(0.0, 50.0, size=shape).astype(np.float32)


def per_channel(image, one):
    """``one(channel)`` on a 2-D image, or on each channel of a channels-last one."""
    if image.ndim == 2:
        return one(image)
    return np.stack([one(image[..., c]) for c in range(image.shape[2])], axis=-1)


def scipy_warp(image, matrix, order, mode, cval=0.0, output_shape=None):
    """scipy.ndimage.affine_transform on each channel with the same pull map and canvas."""
    matrix = np.asarray(matrix, dtype=np.float64)

    def one(channel):
        return ndimage.affine_transform(
            channel,
            matrix[:2, :2],
            offset=matrix[:2, 2],
            output_shape=output_shape,
            order=order,
            mode=mode,
            cval=cval,
        )

    return per_channel(image, one)


def projective_coordinates(matrix, output_shape):
    """The documented input coordinates of a projective pull map, in float64, in its order:
    x = ((m02 + r m00) + c m01) / w, w = (m22 + r m20) + c m21."""
    m = np.asarray(matrix, dtype=np.float64)
    r, c = np.meshgrid(
        np.arange(output_shape[0], dtype=np.float64),
        np.arange(output_shape[1], dtype=np.float64),
        indexing="ij",
    )
    w = (m[2, 2] + r * m[2, 0]) + c * m[2, 1]
    return np.stack(
        [((m[0, 2] + r * m[0, 0]) + c * m[0, 1]) / w, ((m[1, 2] + r * m[1, 0]) + c * m[1, 1]) / w]
    )


def scipy_map(image, coordinates, order, mode, cval=0.0):
    """scipy.ndimage.map_coordinates on each channel at (2, H', W') coordinates."""
    return per_channel(
        image,
        lambda channel: ndimage.map_coordinates(
            channel, coordinates, order=order, mode=mode, cval=cval
        ),
    )
