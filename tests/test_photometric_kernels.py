"""The fused colour kernel (``color_jitter`` in plugins/_color.pxi) against the one-operation
kernels applied in turn, and its two builds against each other.

torchvision applies ColorJitter's operations one after the other on uint8 tensors, rounding in
between; the fused kernel applies them block by block, in one pass (two with contrast, whose
mean luma is that of the image the operations before it made). These tests pin that the
blocking changes nothing: every order, every skipped operation, gray and RGB, uint8 and
float32, images smaller than a block and spanning several with a ragged last block.
"""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pytest
from augcore.plugins import _kernels
from augcore.plugins._values import kernels

RNG = np.random.default_rng(11)
BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)


def _images(dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    images = RNG.integers(0, 256, shape).astype(dtype)
    images[:, :2] = 255  # saturated and gray pixels: every branch of the hue maths
    images[:, 2:4, ..., :1] = 0
    return images / np.float32(255) if dtype == np.float32 else images


def _one_after_another(pixels: np.ndarray, amounts: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Each image through the one-operation kernels in its order (contrast: the mean luma of
    the image as it is by then, rounded to a level on uint8, then the constant blend)."""
    out = pixels.copy()
    for i, ops in enumerate(order):
        image = out[i : i + 1]
        for op in ops[ops >= 0]:
            amount = amounts[i : i + 1, op]
            if op in (BRIGHTNESS, CONTRAST):
                base = np.zeros(1, np.float32)
                if op == CONTRAST:
                    mean = kernels.luma_means(image)
                    base = (np.floor(mean + 0.5) if pixels.dtype == np.uint8 else mean)
                flat = image.reshape(1, -1)
                kernels.blend_constant(flat, flat, amount, base.astype(np.float32))
            elif pixels.shape[2] == 3:
                kernel = kernels.blend_luma if op == SATURATION else kernels.hue_shift
                kernel(image, image, amount)
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("shape", [(24, 7, 9, 3), (24, 37, 41, 3), (24, 33, 35, 1)])
def test_the_fused_kernel_is_the_operations_one_after_another(dtype, shape) -> None:
    images = _images(dtype, shape)
    pixels = images.reshape(shape[0], -1, shape[3])
    orders = np.array(list(itertools.permutations(range(4))), np.int64)
    order = orders[np.arange(shape[0]) % len(orders)]
    order[::5, 1] = -1  # a skipped operation
    order[3] = -1  # none at all: a copy
    amounts = np.stack(
        [RNG.uniform(0.2, 1.8, shape[0]), RNG.uniform(0.2, 1.8, shape[0]),
         RNG.uniform(0.0, 2.5, shape[0]), RNG.uniform(-0.5, 0.5, shape[0])], axis=1
    ).astype(np.float32)  # fmt: skip
    out = np.empty_like(pixels)
    kernels.color_jitter(pixels, out, amounts, order)
    expected = _one_after_another(pixels, amounts, order)
    np.testing.assert_array_equal(out.view(np.uint8), expected.view(np.uint8))
    np.testing.assert_array_equal(out[3], pixels[3])


def test_the_fused_kernel_works_in_place() -> None:
    pixels = _images(np.uint8, (4, 30, 30, 3)).reshape(4, -1, 3)
    amounts = np.tile(np.array([1.3, 0.7, 1.5, 0.2], np.float32), (4, 1))
    order = np.tile(np.array([2, 1, 3, 0], np.int64), (4, 1))
    expected = np.empty_like(pixels)
    kernels.color_jitter(pixels, expected, amounts, order)
    kernels.color_jitter(pixels, pixels, amounts, order)
    np.testing.assert_array_equal(pixels, expected)


def _wide_builds() -> list:
    """The builds with wider lanes that this CPU runs (each is compared with the baseline)."""
    names = [("_kernels_avx2", _kernels.has_avx2()), ("_kernels_avx512", _kernels.has_avx512())]
    return [pytest.param(name, marks=pytest.mark.skipif(not runs, reason=f"CPU cannot run {name}"))
            for name, runs in names]  # fmt: skip


@pytest.mark.parametrize("build", _wide_builds())
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_the_wide_lanes_compute_the_bits_of_the_baseline_lanes(build, dtype) -> None:
    """16 AVX-512 or 8 AVX lanes, 4 SSE2 lanes, and the scalar reference on the last pixels of
    each block: a 19 x 23 image has pixels 432..435 scalar in one build and in lanes in the
    other. Every kernel of the module, on the same inputs."""
    wide = importlib.import_module(f"augcore.plugins.{build}")
    images = _images(dtype, (24, 19, 23, 3))
    if dtype == np.float32:  # values no image should hold still give the same bits
        images[0, 5, :3] = [np.nan, -0.5, 1.5]
        images[1, 6, :3] = [np.inf, 0.2, -np.inf]
    pixels, flat = images.reshape(24, -1, 3), images.reshape(24, -1)
    order = np.array(list(itertools.permutations(range(4))), np.int64)
    amounts = np.stack(
        [RNG.uniform(0, 3, 24), RNG.uniform(0, 3, 24), RNG.uniform(0, 3, 24),
         RNG.uniform(-0.5, 0.5, 24)], axis=1
    ).astype(np.float32)  # fmt: skip
    factor, weights = amounts[:, 0].copy(), RNG.random((24, 7)).astype(np.float32)
    calls = [
        ("color_jitter", (pixels, amounts, order)),
        ("blend_constant", (flat, factor, factor)),
        ("blend_luma", (pixels, factor)),
        ("hue_shift", (pixels, amounts[:, 3].copy())),
        ("gaussian_blur", (images, weights)),
        ("sharpen", (images, factor)),
    ]
    if dtype == np.uint8:
        tables = RNG.integers(0, 256, (24, 3, 256)).astype(np.uint8)
        calls.append(("apply_tables", (pixels, tables)))
    for name, (source, *rest) in calls:
        outs = []
        for module in (_kernels, wide):
            out = np.empty_like(source)
            getattr(module, name)(source, out, *rest)
            outs.append(out.view(np.uint8))
        np.testing.assert_array_equal(outs[0], outs[1], err_msg=name)
    names = ["luma_means", "channel_ranges"] + (["histograms"] if dtype == np.uint8 else [])
    for name in names:
        base, other = getattr(_kernels, name)(pixels), getattr(wide, name)(pixels)
        np.testing.assert_array_equal(np.stack(base), np.stack(other), err_msg=name)


@pytest.mark.parametrize("shape", [(3, 7, 9, 1), (3, 17, 23, 2), (3, 17, 23, 3), (3, 5, 11, 4)])
def test_the_uint8_table_and_statistics_kernels_are_numpys(shape) -> None:
    """Lane-wise ranges (runs of 48 values and a ragged rest), two-table histograms, lookups
    three values at a time, integer luma sums: each against numpy's plain formula."""
    images = RNG.integers(0, 256, shape).astype(np.uint8)
    images[1] = RNG.integers(100, 103, shape[1:])  # narrow: extremes away from 0 and 255
    pixels = images.reshape(shape[0], -1, shape[3])
    low, high = kernels.channel_ranges(pixels)
    np.testing.assert_array_equal(low, pixels.min(axis=1))
    np.testing.assert_array_equal(high, pixels.max(axis=1))
    expected = [[np.bincount(image[:, c], minlength=256) for c in range(shape[3])]
                for image in pixels]  # fmt: skip
    np.testing.assert_array_equal(kernels.histograms(pixels), expected)
    for per_channel in (shape[3], 1):
        tables = RNG.integers(0, 256, (shape[0], per_channel, 256)).astype(np.uint8)
        out = np.empty_like(pixels)
        kernels.apply_tables(pixels, out, tables)
        channel = np.arange(shape[3]) % per_channel
        expected = tables[np.arange(shape[0])[:, None, None], channel, pixels]
        np.testing.assert_array_equal(out, expected)
    if shape[3] in (1, 3):
        wide = pixels.astype(np.int64)
        lumas = wide[..., 0] if shape[3] == 1 else (
            19595 * wide[..., 0] + 38470 * wide[..., 1] + 7471 * wide[..., 2] + 2**15) >> 16
        np.testing.assert_array_equal(kernels.luma_means(pixels), lumas.mean(axis=1))
