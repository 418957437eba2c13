"""The compiled Gaussian blur: both builds alike, and the uint8 fixed-point path against scipy.

The uint8 path (plugins/_blur_fixed.h) is 16-bit fixed point for kernels up to 31 taps and
float32 above; float32 images always take the float path (plugins/_blur.h). scipy.ndimage's
``correlate1d`` in float64 with mode "mirror" (torch's "reflect") is the exact oracle.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as ndi
from augcore.plugins import _kernels
from augcore.plugins.filters import gaussian_blur, gaussian_kernels

RNG = np.random.default_rng(1129)


def exact(image: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The blur in float64 with the float32 weights the kernel receives."""
    weights = weights.astype(np.float32).astype(np.float64)
    values = image.astype(np.float64)
    for axis in (0, 1):
        values = ndi.correlate1d(values, weights, axis=axis, mode="mirror")
    return values


@pytest.mark.skipif(not _kernels.has_avx2(), reason="this CPU has no AVX2: one build runs")
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("size", [3, 9, 31, 33])
def test_both_builds_blur_to_the_same_bytes(dtype, size) -> None:
    """Normalised kernels (the fixed-point path up to 31 taps), a sigma per image, rows that
    are not whole vectors (23 x 3 values) and images shorter than the kernel."""
    from augcore.plugins import _kernels_avx2

    for shape in ((4, 19, 23, 3), (4, 40, 37, 1), (4, 5, 6, 3)):
        images = RNG.integers(0, 256, shape).astype(dtype)
        if dtype == np.float32:
            images /= 255
        weights = gaussian_kernels(size, RNG.uniform(0.3, 6.0, shape[0])).astype(np.float32)
        outs = []
        for module in (_kernels, _kernels_avx2):
            out = np.empty_like(images)
            module.gaussian_blur(images, out, weights)
            outs.append(out)
        np.testing.assert_array_equal(outs[0], outs[1], err_msg=str(shape))


def fixed_point(image: np.ndarray, size: int, sigma: float) -> np.ndarray:
    """The arithmetic _blur_fixed.h documents, in numpy (int64, so nothing can wrap)."""
    w = gaussian_kernels(size, np.array([sigma]))[0].astype(np.float32).astype(np.float64)
    half = size // 2
    weights = np.floor(w[:half] * 65536 + 0.5).astype(np.int64)
    centre = 65536 - 2 * weights.sum()

    def one_pass(values: np.ndarray, axis: int) -> np.ndarray:
        pad = [(0, 0)] * values.ndim
        pad[axis] = (half, half)
        padded = np.pad(values, pad, mode="reflect")

        def tap(k: int) -> np.ndarray:
            return np.take(padded, np.arange(k, k + values.shape[axis]), axis=axis)

        total = (tap(half) * centre) >> 16
        for t in range(half):
            total += ((tap(t) + tap(size - 1 - t)) * weights[t]) >> 16
        return total

    total = one_pass(one_pass(image.astype(np.int64) << 7, 0), 1)
    losses = 1 + np.count_nonzero(weights)
    return ((total + losses + 64) >> 7).astype(np.uint8)


@pytest.mark.parametrize(("size", "sigma"), [(3, 0.8), (9, 1.5), (15, 4.0), (31, 3.0)])
def test_uint8_blur_is_the_documented_fixed_point_arithmetic(size, sigma) -> None:
    image = RNG.integers(0, 256, (37, 41, 3)).astype(np.uint8)
    ours = gaussian_blur(image[None], np.array([size]), np.array([sigma]))[0]
    np.testing.assert_array_equal(ours, fixed_point(image, size, sigma))


@pytest.mark.parametrize(("size", "sigma"), [(3, 0.8), (9, 1.5), (15, 4.0), (31, 9.0)])
def test_uint8_fixed_point_is_within_one_level_and_rarely_off(size, sigma) -> None:
    """Each value within one level of the exact blur rounded, and off by one only where the
    exact value is near a half (the bound of _blur_fixed.h: size / 128 levels)."""
    image = RNG.integers(0, 256, (64, 70, 3)).astype(np.uint8)
    ours = gaussian_blur(image[None], np.array([size]), np.array([sigma]))[0]
    values = exact(image, gaussian_kernels(size, np.array([sigma]))[0])
    off = ours.astype(np.float64) != np.rint(values)
    assert np.abs(ours - np.rint(values)).max() <= 1
    bound = size / 128
    assert np.all(np.abs(np.abs(values[off] - np.floor(values[off])) - 0.5) <= bound)
    assert off.mean() < 0.05


def test_kernels_past_the_fixed_point_limit_are_float32_rounded() -> None:
    """33 taps take the float path: every value is the exact blur rounded, up to float32."""
    image = RNG.integers(0, 256, (40, 45)).astype(np.uint8)
    ours = gaussian_blur(image[None], np.array([33]), np.array([7.0]))[0]
    values = exact(image, gaussian_kernels(33, np.array([7.0]))[0])
    near_half = np.abs(np.abs(values - np.floor(values)) - 0.5) < 1e-3
    np.testing.assert_array_equal(ours[~near_half], np.rint(values)[~near_half])


def test_weights_that_do_not_sum_to_one_are_taken_as_given() -> None:
    """The fixed-point path makes its weights sum to exactly 1; a kernel that does not is
    left to the float path, which uses it as it is."""
    from augcore.plugins._values import kernels

    image = RNG.integers(0, 256, (1, 30, 34, 3)).astype(np.uint8)
    weights = (0.5 * gaussian_kernels(9, np.array([1.5]))).astype(np.float32)
    out = np.empty_like(image)
    kernels.gaussian_blur(image, out, weights)
    assert np.abs(out[0] - np.rint(exact(image[0], weights[0]))).max() <= 1


def test_a_batch_with_a_sigma_and_size_per_image_blurs_each_with_its_own() -> None:
    images = RNG.integers(0, 256, (3, 30, 33, 3)).astype(np.uint8)
    sizes, sigmas = np.array([3, 9, 9]), np.array([0.5, 1.0, 3.0])
    batch = gaussian_blur(images, sizes, sigmas)
    for index in range(3):
        alone = gaussian_blur(images[index : index + 1], sizes[index : index + 1],
                              sigmas[index : index + 1])  # fmt: skip
        np.testing.assert_array_equal(batch[index], alone[0])
        values = exact(images[index], gaussian_kernels(sizes[index], sigmas[index : index + 1])[0])
        assert np.abs(batch[index] - np.rint(values)).max() <= 1
