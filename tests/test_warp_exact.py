"""float32 bilinear is bit-identical to scipy, bytes and all, including the edges.

test_warp.py compares float32 results within a tolerance; the kernel promises more (scipy's
double weights and sum, then one cast), so here every byte must match, on the paths that resolve
samples differently: in-bounds taps, clamped "nearest" taps far outside the image, remapped
reflect/wrap taps and constant fills, with 1, 3 and 4 channels.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

import augcore

MODES = ("nearest", "constant", "reflect", "wrap")


def scipy_bytes(image, matrix, mode, cval):
    channels = [
        ndimage.affine_transform(
            image[..., c], matrix[:2, :2], offset=matrix[:2, 2], order=1, mode=mode, cval=cval
        )
        for c in range(image.shape[2])
    ]
    return np.stack(channels, axis=-1).view(np.uint32)


def rotation_about_centre(degrees, scale, shape, shift):
    theta = np.deg2rad(degrees)
    linear = scale * np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    centre = (np.array(shape[:2]) - 1) / 2
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = centre - linear @ centre + np.asarray(shift)
    return matrix


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_float32_bilinear_bytes_equal_scipy(channels, mode):
    rng = np.random.default_rng(channels)
    shape = (33, 47, channels)
    image = rng.normal(0.0, 50.0, size=shape).astype(np.float32)
    image[::5, ::3] = -0.0  # signed zeros: scipy's sum starts at +0.0
    image[1::7, ::4] = -1e-40  # subnormal negatives whose weighted terms underflow to -0.0
    for degrees, scale, shift in [
        (17.0, 1.1, (1.3, -2.1)),
        (-63.0, 2.5, (0.5, 0.25)),
        (90.0, 1.0, (0.0, 0.0)),
        (5.0, 0.7, (80.0, -120.0)),  # mostly far outside: clamped or remapped taps
        (0.0, 1.0, (-1e6 - 0.3, 1e6 + 0.7)),  # every sample far out of frame
    ]:
        matrix = rotation_about_centre(degrees, scale, shape, shift)
        got = augcore.warp_affine(image, matrix, order=1, fill_mode=mode, cval=-2.5)
        np.testing.assert_array_equal(
            got.view(np.uint32), scipy_bytes(image, matrix, mode, -2.5), err_msg=f"{degrees}"
        )
