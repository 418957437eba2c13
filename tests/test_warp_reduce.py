"""box_reduce against Pillow's Image.reduce, the peer it promises to equal byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from warp_oracle import random_image

import augcore
from augcore.reduce import box_reduce, box_reduce_batch, reduced_pull_map

SHAPES = [(25, 31), (7, 11), (64, 48), (3, 5), (1, 9), (16, 16)]
FACTORS = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (2, 1), (1, 3), (3, 2), (7, 4), (6, 6), (8, 13)]
PILLOW_MODES = {1: "L", 3: "RGB", 4: "RGBX"}  # RGBX: four channels without alpha premultiply


def pillow_reduce(image: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """Image.reduce((fx, fy)) on the same pixels: uint8 in its multi-band modes, float32 band
    by band in mode "F" (Pillow has no multi-channel float mode)."""
    if image.dtype == np.float32:
        bands = image[..., None] if image.ndim == 2 else image
        reduced = [
            np.asarray(Image.fromarray(np.ascontiguousarray(bands[..., k])).reduce((fx, fy)))
            for k in range(bands.shape[2])
        ]
        return np.stack(reduced, axis=-1).reshape(reduced[0].shape + image.shape[2:])
    channels = 1 if image.ndim == 2 else image.shape[2]
    size = (image.shape[1], image.shape[0])
    pil = Image.frombytes(PILLOW_MODES[channels], size, np.ascontiguousarray(image).tobytes())
    reduced = pil.reduce((fx, fy))
    pixels = np.asarray(reduced.convert("RGBX") if channels == 4 else reduced)
    return pixels.reshape(pixels.shape[:2] + image.shape[2:])


@pytest.mark.parametrize("channels", [None, 1, 3, 4])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_equals_pillow_reduce(shape, dtype, channels):
    rng = np.random.default_rng([*shape, channels or 0])
    image = random_image(rng, shape + ((channels,) if channels else ()), dtype)
    for fy, fx in FACTORS:
        got = box_reduce(image, (fy, fx))
        expected = pillow_reduce(image, fy, fx)
        assert (
            got.shape
            == expected.shape
            == (-(-shape[0] // fy), -(-shape[1] // fx), *image.shape[2:])
        )
        assert got.dtype == image.dtype
        np.testing.assert_array_equal(
            got.view(np.uint8), expected.view(np.uint8), err_msg=f"{fy, fx}"
        )


def test_uint8_extremes_and_rounding():
    """All-255 boxes stay 255 and a box mean of exactly k + 0.5 rounds as Pillow's does."""
    white = np.full((12, 12, 3), 255, np.uint8)
    for factor in range(1, 13):
        assert (box_reduce(white, factor) == 255).all()
    halves = np.tile(np.array([[0, 1], [0, 1]], np.uint8), (6, 6))  # 2x2 means of 0.5
    np.testing.assert_array_equal(box_reduce(halves, 2), pillow_reduce(halves, 2, 2))


def test_two_channels_are_reduced_independently():
    image = random_image(np.random.default_rng(2), (9, 14, 2), np.uint8)
    got = box_reduce(image, (2, 3))
    for k in range(2):
        np.testing.assert_array_equal(got[..., k], pillow_reduce(image[..., k], 2, 3))


def test_a_single_factor_applies_to_both_axes_and_inputs_may_be_strided():
    image = random_image(np.random.default_rng(3), (30, 40, 6), np.uint8)[::-1, ::2, 1:4]
    np.testing.assert_array_equal(box_reduce(image, 3), pillow_reduce(image, 3, 3))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
def test_batch_equals_per_image(dtype):
    images = random_image(np.random.default_rng(4), (5, 19, 23, 3), dtype)
    got = box_reduce_batch(images, (4, 3))
    np.testing.assert_array_equal(got, np.stack([box_reduce(image, (4, 3)) for image in images]))
    gray = images[..., 0]
    np.testing.assert_array_equal(box_reduce_batch(gray, 2)[1], box_reduce(gray[1], 2))


@pytest.mark.parametrize("channels", [1, 3, 4, 5])
def test_wide_and_tall_boxes_equal_pillow_on_every_row_path(channels):
    """Rows wide enough for the AVX2 boxes of one and two columns (and their scalar tails),
    boxes taller than their 16-bit sums take (64 rows), power-of-two and other box sizes."""
    image = random_image(np.random.default_rng(channels), (150, 203, channels), np.uint8)
    for fy, fx in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (5, 1), (64, 2), (65, 2), (70, 1)]:
        expected = np.stack(
            [pillow_reduce(image[..., k], fy, fx) for k in range(channels)], axis=-1
        )
        np.testing.assert_array_equal(box_reduce(image, (fy, fx)), expected, f"{fy, fx}")


@pytest.mark.parametrize(("fy", "fx"), [(2, 2), (3, 2), (4, 5)])
def test_reduced_pull_map_lands_on_the_box_centres(fy, fx):
    """An integer shrink that samples box centres, warped from the reduced image through
    ``reduced_pull_map``, reads each reduced pixel exactly: the result is the reduce itself."""
    image = random_image(np.random.default_rng(fy * fx), (fy * 6, fx * 7, 3), np.uint8)
    shrink = np.array([[fy, 0, (fy - 1) / 2], [0, fx, (fx - 1) / 2], [0, 0, 1]], float)
    reduced = box_reduce(image, (fy, fx))
    warped = augcore.warp_affine(reduced, reduced_pull_map(shrink, (fy, fx)), output_shape=(6, 7))
    np.testing.assert_array_equal(warped, reduced)
    np.testing.assert_array_equal(warped, pillow_reduce(image, fy, fx))


@pytest.mark.parametrize("factors", [0, -2, 1.5, True, (2,), (2, 0), (2, 4096), "2", None])
def test_bad_factors_raise_a_named_error(factors):
    with pytest.raises(augcore.WarpOptionError, match="factors"):
        box_reduce(np.zeros((4, 4), np.uint8), factors)


def test_bad_images_raise_the_warp_errors():
    with pytest.raises(augcore.ImageShapeError, match="numpy array"):
        box_reduce([[1, 2]], 2)
    with pytest.raises(augcore.ImageDtypeError, match="float64"):
        box_reduce(np.zeros((4, 4)), 2)
    with pytest.raises(augcore.MatrixError):
        reduced_pull_map(np.eye(4), 2)


def rotation_scale(degrees, scale):
    theta = np.deg2rad(degrees)
    matrix = np.eye(3)
    matrix[:2, :2] = scale * np.array(
        [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    )
    return matrix


@pytest.mark.parametrize(
    ("matrix", "expected"),
    [
        (np.diag([2.0, 3.0, 1.0]), (2, 3)),
        (np.diag([1.9, 0.5, 1.0]), (1, 1)),
        (np.array([[4.0, 0, 7], [0, 1, -3]]), (4, 1)),
        (rotation_scale(90, 2.5), (2, 2)),
        (rotation_scale(33, 3.2), (3, 3)),
        (np.diag([-5.0, 2.0, 1.0]), (5, 2)),  # a flip shrinks as much
    ],
)
def test_reduce_factors_of_affine_maps(matrix, expected):
    assert augcore.reduce.reduce_factors(matrix, (40, 30)) == expected


def test_reduce_factors_of_a_projective_map_take_the_least_shrink_over_the_canvas():
    # x = 4 r / w, w = 1 + r / 40: the row shrink falls from 4 at r = 0 to 1.6 at r = 39.
    matrix = np.array([[4.0, 0, 0], [0, 3, 0], [1 / 40, 0, 1]])
    fy, fx = augcore.reduce.reduce_factors(matrix, (40, 40))
    r = 39.0
    w = 1 + r / 40
    assert fy == int(4 / w**2) == 1
    assert fx == int(3 / w) == 1
    assert augcore.reduce.reduce_factors(matrix, (8, 8)) == (int(4 / (1 + 7 / 40) ** 2), 2)
    with pytest.raises(augcore.MatrixError, match="folds"):
        augcore.reduce.reduce_factors(np.diag([1.0, 1.0, -1.0]), (4, 4))


def test_reduced_pull_map_of_a_stack_equals_each_one():
    rng = np.random.default_rng(12)
    stack = rng.normal(size=(5, 3, 3))
    stack[:, 2] = [0.001, -0.002, 1.0]
    together = reduced_pull_map(stack, (3, 2))
    for one, matrix in zip(together, stack, strict=True):
        np.testing.assert_array_equal(one, reduced_pull_map(matrix, (3, 2)))
    np.testing.assert_array_equal(reduced_pull_map(stack[:, :2], 2)[:, 2], [[0, 0, 1]] * 5)
