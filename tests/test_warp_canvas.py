"""``output_shape=``: the warp from one canvas to another, against scipy's ``output_shape=``."""

from __future__ import annotations

import numpy as np
import pytest
from warp_oracle import random_image, scipy_warp

import augcore
from augcore.warp import MAX_OUTPUT_PIXELS

MODES = ("nearest", "constant", "reflect", "wrap")
# (input shape, output (H', W')): shrinking, growing, non-square both ways, one row or column.
CANVASES = [
    ((40, 30), (17, 23)),
    ((21, 35, 3), (64, 48)),
    ((33, 33, 4), (9, 50)),
    ((12, 50, 1), (50, 12)),
    ((1, 9, 3), (5, 4)),
    ((16, 16, 3), (1, 31)),
]


def canvas_maps(rng, in_shape, out_shape):
    """Pull maps from an output canvas to an input one: the resize/crop/pad family plus
    rotations and shears, with .5-tie-prone entries (halves and quarters)."""
    scale = np.array(in_shape[:2]) / np.array(out_shape)
    resize = np.diag([*scale, 1.0])
    resize[:2, 2] = 0.5 * (scale - 1)  # pixel centres on pixel centres, as a resize does
    crop = np.eye(3)
    crop[:2, 2] = rng.integers(-3, 4, size=2) + 0.5 * rng.integers(0, 2, size=2)
    theta = np.deg2rad(rng.uniform(-60, 60))
    turn = np.eye(3)
    turn[:2, :2] = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    turn[:2, :2] *= rng.uniform(0.4, 2.5)
    turn[:2, 2] = (np.array(in_shape[:2]) - 1) / 2 - turn[:2, :2] @ (np.array(out_shape) - 1) / 2
    shear = np.array([[1.0, 0.25, -2.5], [-0.5, 1.0, 1.25], [0.0, 0.0, 1.0]])
    quarter = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, out_shape[0] - 1.0], [0.0, 0.0, 1.0]])
    far = np.eye(3)
    far[:2, 2] = rng.choice([-1, 1], size=2) * rng.uniform(1.5, 5.0) * max(in_shape[:2])
    return [resize, crop, turn, shear, quarter, far, resize @ crop]


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
@pytest.mark.parametrize(("in_shape", "out_shape"), CANVASES, ids=str)
def test_output_shape_matches_scipy(in_shape, out_shape, dtype, mode, order):
    rng = np.random.default_rng([*in_shape, *out_shape, order, MODES.index(mode)])
    image = random_image(rng, in_shape, dtype)
    cval = float(rng.integers(0, 256))
    for matrix in canvas_maps(rng, in_shape, out_shape):
        got = augcore.warp_affine(
            image, matrix, output_shape=out_shape, order=order, fill_mode=mode, cval=cval
        )
        expected = scipy_warp(image, matrix, order, mode, cval, output_shape=out_shape)
        assert got.shape == expected.shape == out_shape + in_shape[2:]
        assert got.dtype == image.dtype
        if order == 0:
            np.testing.assert_array_equal(got, expected)
        elif dtype == np.uint8:
            assert np.abs(got.astype(np.int16) - expected).max() <= 1
        else:
            np.testing.assert_array_equal(got.view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize("order", [0, 1])
def test_batch_output_shape_equals_per_image_for_any_thread_count(order):
    rng = np.random.default_rng(order)
    images = random_image(rng, (7, 26, 19, 3), np.uint8)
    out_shape = (11, 40)
    matrices = np.stack([canvas_maps(rng, images.shape[1:], out_shape)[i] for i in range(7)])
    expected = np.stack(
        [
            scipy_warp(image, matrix, order, "reflect", output_shape=out_shape)
            for image, matrix in zip(images, matrices, strict=True)
        ]
    )
    for threads in (1, 2, 5):
        got = augcore.warp_affine_batch(
            images,
            matrices,
            output_shape=out_shape,
            order=order,
            fill_mode="reflect",
            threads=threads,
        )
        assert got.shape == (7, *out_shape, 3)
        assert np.abs(got.astype(np.int16) - expected).max() <= order
    out = np.empty((7, *out_shape, 3), np.uint8)
    result = augcore.warp_affine_batch(
        images, matrices, output_shape=out_shape, order=order, fill_mode="reflect", out=out
    )
    assert result is out
    np.testing.assert_array_equal(out, got)


def test_output_shape_equal_to_the_input_changes_nothing():
    rng = np.random.default_rng(5)
    image = random_image(rng, (13, 22, 3), np.float32)
    matrix = canvas_maps(rng, image.shape, (13, 22))[2]
    np.testing.assert_array_equal(
        augcore.warp_affine(image, matrix, output_shape=(13, 22), order=1),
        augcore.warp_affine(image, matrix, order=1),
    )


def test_out_of_another_shape_is_filled_in_place_when_strided():
    rng = np.random.default_rng(8)
    image = random_image(rng, (20, 30), np.uint8)
    matrix = canvas_maps(rng, image.shape, (9, 14))[0]
    holder = np.zeros((9, 28), np.uint8)
    augcore.warp_affine(image, matrix, output_shape=(9, 14), out=holder[:, ::2])
    np.testing.assert_array_equal(
        holder[:, ::2], scipy_warp(image, matrix, 0, "nearest", output_shape=(9, 14))
    )
    assert not holder[:, 1::2].any()


IMAGE = np.zeros((8, 10, 3), dtype=np.uint8)
EYE = np.eye(3)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: augcore.warp_affine(IMAGE, EYE, output_shape=(0, 4)), "WarpOptionError", ">= 1"),
        (lambda: augcore.warp_affine(IMAGE, EYE, output_shape=(4,)), "WarpOptionError", "(height"),
        (
            lambda: augcore.warp_affine(IMAGE, EYE, output_shape=(4, 4, 3)),
            "WarpOptionError",
            "channel axis",
        ),
        (lambda: augcore.warp_affine(IMAGE, EYE, output_shape=(4.0, 4)), "WarpOptionError", "two"),
        (lambda: augcore.warp_affine(IMAGE, EYE, output_shape="44"), "WarpOptionError", "(height"),
        (
            lambda: augcore.warp_affine(IMAGE, EYE, output_shape=(2**20, 2**20)),
            "WarpOptionError",
            "MAX_OUTPUT_PIXELS",
        ),
        (
            lambda: augcore.warp_affine_batch(
                np.zeros((3, 4, 4), np.uint8), np.stack([EYE] * 3), output_shape=(100_000, 2_000)
            ),
            "WarpOptionError",
            "over the limit",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, EYE, output_shape=(4, 5), out=IMAGE.copy()),
            "OutputArrayError",
            "(4, 5, 3) uint8",
        ),
        (
            lambda: augcore.warp_affine_batch(
                IMAGE[None], EYE[None], output_shape=(4, 5), out=np.zeros((1, 8, 10, 3), np.uint8)
            ),
            "OutputArrayError",
            "(1, 4, 5, 3)",
        ),
        (
            # A map reaching absurdly far over the (larger) output canvas, not the input's.
            lambda: augcore.warp_affine(
                IMAGE, [[1e10, 0, 0], [0, 1, 0]], output_shape=(200_000, 2)
            ),
            "MatrixError",
            "pull map",
        ),
    ],
)
def test_bad_output_shapes_raise_named_errors(call, error, message):
    with pytest.raises(getattr(augcore, error)) as info:
        call()
    assert message in str(info.value)


def test_the_pixel_limit_is_exported_for_the_job():
    assert augcore.warp.MAX_OUTPUT_PIXELS == MAX_OUTPUT_PIXELS == 2**27
    side = int(MAX_OUTPUT_PIXELS**0.5)
    with pytest.raises(augcore.WarpOptionError):
        augcore.warp_affine(IMAGE, EYE, output_shape=(side + 1, side + 1))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("shape", "dtype"), [((420, 500, 3), np.uint8), ((300, 480), np.float32)], ids=["rgb", "f32"]
)
def test_sources_over_half_a_megabyte_take_the_prefetching_path_with_the_same_pixels(
    shape, dtype, mode
):
    """Order 0 prefetches source pixels rows ahead only for sources of 512 KiB or more."""
    rng = np.random.default_rng(len(shape))
    image = random_image(rng, shape, dtype)
    assert image.nbytes >= 512 * 1024
    for matrix, out_shape in [
        (canvas_maps(rng, shape, (97, 130))[2], (97, 130)),
        (canvas_maps(rng, shape, shape[:2])[3], shape[:2]),
    ]:
        got = augcore.warp_affine(image, matrix, output_shape=out_shape, fill_mode=mode, cval=5)
        expected = scipy_warp(image, matrix, 0, mode, 5.0, output_shape=out_shape)
        np.testing.assert_array_equal(got, expected)
