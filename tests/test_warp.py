"""The warp kernel against scipy.ndimage.affine_transform, the oracle it promises to match."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from warp_oracle import random_image, scipy_warp

import augcore

MODES = ("nearest", "constant", "reflect", "wrap")
DTYPES = (np.uint8, np.float32)
SHAPES = ((1, 1), (1, 9), (9, 1), (2, 2), (23, 37), (30, 17, 3), (16, 21, 4), (12, 9, 1))
KINDS = ("rotate45", "rotate90", "rotate180", "rotate", "scale", "shear", "flip", "out_of_frame")


def about_centre(linear, shape, translation=(0.0, 0.0)):
    """Pull map applying ``linear`` about the image centre, then shifted by ``translation``."""
    centre = np.array([(shape[0] - 1) / 2, (shape[1] - 1) / 2])
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = centre - linear @ centre + np.asarray(translation)
    return matrix


def rotation(degrees):
    theta = np.deg2rad(degrees)
    return np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])


def random_matrix(rng, shape, kind):
    size = max(shape[:2])
    small_shift = rng.uniform(-3, 3, size=2) + rng.choice([0.0, 0.5], size=2)
    if kind == "rotate45":
        return about_centre(rotation(rng.choice([45, -45, 135])), shape, small_shift)
    if kind == "rotate90":
        return about_centre(rotation(rng.choice([90, -90, 270])), shape)
    if kind == "rotate180":
        return about_centre(rotation(180), shape, rng.integers(-2, 3, size=2))
    if kind == "rotate":
        return about_centre(rotation(rng.uniform(-180, 180)), shape, small_shift)
    if kind == "scale":
        return about_centre(np.diag(rng.uniform(0.3, 3.0, size=2)), shape, small_shift)
    if kind == "shear":
        shear = np.array([[1.0, rng.uniform(-0.8, 0.8)], [rng.uniform(-0.8, 0.8), 1.0]])
        return about_centre(shear @ rotation(rng.uniform(-30, 30)), shape, small_shift)
    if kind == "flip":
        return about_centre(np.diag(rng.choice([-1.0, 1.0], size=2) * [1, -1]), shape)
    # Pushed fully out of frame, sometimes by many image sizes (wrap/reflect fold it back).
    far = rng.choice([-1, 1], size=2) * rng.uniform(1.2, 6.0, size=2) * size
    return about_centre(rotation(rng.uniform(-20, 20)), shape, far)


def assert_matches_scipy(got, expected, order, dtype):
    assert got.shape == expected.shape and got.dtype == expected.dtype
    if order == 0:
        np.testing.assert_array_equal(got, expected)
    elif dtype == np.uint8:
        assert np.abs(got.astype(np.int16) - expected.astype(np.int16)).max(initial=0) <= 1
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matches_scipy_for_many_matrices(shape, dtype, mode, order):
    rng = np.random.default_rng([len(shape), *shape, order, MODES.index(mode)])
    image = random_image(rng, shape, dtype)
    cval = float(rng.integers(0, 256))
    for kind in KINDS:
        matrix = random_matrix(rng, shape, kind)
        got = augcore.warp_affine(image, matrix, order=order, fill_mode=mode, cval=cval)
        expected = scipy_warp(image, matrix, order, mode, cval)
        assert_matches_scipy(got, expected, order, dtype)


@pytest.mark.parametrize("degrees", [45, 90, 180, -90, 135])
@pytest.mark.parametrize("shape", [(64, 64), (40, 57, 3)], ids=["square", "wide"])
def test_exact_rotations_hit_ties_like_scipy(degrees, shape):
    """Rotations by multiples of 45 degrees put many samples exactly on .5 ties."""
    image = random_image(np.random.default_rng(degrees % 360), shape, np.uint8)
    for translation in ((0.0, 0.0), (0.5, -0.5), (3.25, 7.75)):
        matrix = about_centre(rotation(degrees), shape, translation)
        for mode in MODES:
            got = augcore.warp_affine(image, matrix, fill_mode=mode)
            np.testing.assert_array_equal(got, scipy_warp(image, matrix, 0, mode))


@pytest.mark.parametrize("order", [0, 1])
def test_non_contiguous_inputs(order):
    rng = np.random.default_rng(7)
    base = random_image(rng, (40, 50, 5), np.float32)
    matrix = about_centre(rotation(33) * 1.3, (20, 25), (1.5, -2.0))
    views = {
        "strided": base[::2, ::2, :3],
        "reversed": base[::-2, ::-2, 1:4],
        "transposed": base[:25, :20, 0].T,
        "one_channel_of_many": base[:20, :25, 2],
    }
    for name, view in views.items():
        assert not view.flags.c_contiguous, name
        got = augcore.warp_affine(view, matrix, order=order, fill_mode="reflect")
        assert_matches_scipy(got, scipy_warp(view, matrix, order, "reflect"), order, np.float32)


@pytest.mark.parametrize("order", [0, 1])
def test_nan_and_inf_pixels_propagate_like_scipy(order):
    rng = np.random.default_rng(13)
    image = random_image(rng, (25, 31), np.float32)
    image[rng.random(image.shape) < 0.05] = np.nan
    image[rng.random(image.shape) < 0.05] = np.inf
    for mode in MODES:
        for kind in KINDS:
            matrix = random_matrix(rng, image.shape, kind)
            got = augcore.warp_affine(image, matrix, order=order, fill_mode=mode, cval=1.5)
            assert_matches_scipy(
                got, scipy_warp(image, matrix, order, mode, 1.5), order, np.float32
            )


def test_two_by_three_and_three_by_three_agree():
    rng = np.random.default_rng(3)
    image = random_image(rng, (21, 34, 3), np.uint8)
    matrix = random_matrix(rng, image.shape, "shear")
    np.testing.assert_array_equal(
        augcore.warp_affine(image, matrix), augcore.warp_affine(image, matrix[:2])
    )


def test_out_of_frame_fills_with_cval_or_edges():
    image = np.arange(4 * 6, dtype=np.float32).reshape(4, 6)
    away = about_centre(np.eye(2), image.shape, (100.0, 0.0))
    constant = augcore.warp_affine(image, away, fill_mode="constant", cval=-7.5)
    np.testing.assert_array_equal(constant, np.full_like(image, -7.5))
    nearest = augcore.warp_affine(image, away, fill_mode="nearest")
    np.testing.assert_array_equal(nearest, np.broadcast_to(image[-1], image.shape))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_uint8_bilinear_rarely_differs_from_scipy_and_never_by_more_than_one(channels, mode):
    """uint8 order 1 uses float32 lanes: off by one only right next to a .5 rounding boundary."""
    rng = np.random.default_rng(channels)
    image = random_image(rng, (96, 80, channels), np.uint8)
    differing = 0
    for kind in KINDS:
        matrix = random_matrix(rng, image.shape, kind)
        got = augcore.warp_affine(image, matrix, order=1, fill_mode=mode, cval=77)
        diff = np.abs(got.astype(np.int16) - scipy_warp(image, matrix, 1, mode, 77.0))
        assert diff.max() <= 1
        differing += np.count_nonzero(diff)
    assert differing <= 1e-3 * image.size * len(KINDS)


@pytest.mark.parametrize("dtype", DTYPES, ids=["uint8", "float32"])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_identity_is_a_copy(channels, dtype):
    image = random_image(np.random.default_rng(0), (13, 17, channels), dtype)
    for order in (0, 1):
        for mode in MODES:
            got = augcore.warp_affine(image, np.eye(3), order=order, fill_mode=mode)
            np.testing.assert_array_equal(got, image)
            assert not np.shares_memory(got, image)


def test_out_is_filled_and_returned():
    rng = np.random.default_rng(11)
    image = random_image(rng, (19, 23, 3), np.uint8)
    matrix = random_matrix(rng, image.shape, "rotate")
    expected = scipy_warp(image, matrix, 0, "wrap")
    out = np.zeros_like(image)
    assert augcore.warp_affine(image, matrix, fill_mode="wrap", out=out) is out
    np.testing.assert_array_equal(out, expected)
    # A non-contiguous out (a view into a larger array) is filled in place too.
    holder = np.zeros((19, 23, 6), dtype=np.uint8)
    strided_out = holder[:, :, ::2]
    augcore.warp_affine(image, matrix, fill_mode="wrap", out=strided_out)
    np.testing.assert_array_equal(holder[:, :, ::2], expected)
    assert not holder[:, :, 1::2].any()


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("shape", [(6, 15, 11), (5, 14, 9, 3)], ids=["gray", "rgb"])
def test_batch_equals_per_image_for_any_thread_count(shape, order):
    rng = np.random.default_rng(shape[0])
    images = random_image(rng, shape, np.uint8)
    matrices = np.stack([random_matrix(rng, shape[1:], KINDS[i % 8]) for i in range(shape[0])])
    expected = np.stack(
        [
            augcore.warp_affine(img, m, order=order, fill_mode="reflect")
            for img, m in zip(images, matrices, strict=True)
        ]
    )
    for img, m, want in zip(images, matrices, expected, strict=True):
        assert_matches_scipy(want, scipy_warp(img, m, order, "reflect"), order, np.uint8)
    for threads in (1, 2, 3, 16):
        got = augcore.warp_affine_batch(
            images, matrices, order=order, fill_mode="reflect", threads=threads
        )
        np.testing.assert_array_equal(got, expected)
    listed = augcore.warp_affine_batch(
        list(images), matrices[:, :2], order=order, fill_mode="reflect", threads=2
    )
    np.testing.assert_array_equal(listed, expected)
    out = np.empty_like(images)
    assert (
        augcore.warp_affine_batch(
            images, matrices, order=order, fill_mode="reflect", out=out, threads=2
        )
        is out
    )
    np.testing.assert_array_equal(out, expected)


def test_empty_batch_array_gives_an_empty_result():
    images = np.zeros((0, 5, 6, 3), dtype=np.float32)
    got = augcore.warp_affine_batch(images, np.zeros((0, 2, 3)), threads=2)
    assert got.shape == images.shape and got.dtype == images.dtype


def test_batch_of_non_contiguous_images():
    rng = np.random.default_rng(21)
    images = random_image(rng, (4, 20, 30, 3), np.float32)[:, ::2, ::3]
    matrices = np.stack([random_matrix(rng, images.shape[1:], "rotate45") for _ in range(4)])
    got = augcore.warp_affine_batch(images, matrices, fill_mode="constant", cval=2.0)
    for img, m, one in zip(images, matrices, got, strict=True):
        np.testing.assert_array_equal(one, scipy_warp(img, m, 0, "constant", 2.0))


def test_read_only_input_is_accepted():
    image = random_image(np.random.default_rng(2), (8, 9), np.float32)
    image.flags.writeable = False
    matrix = about_centre(rotation(90), image.shape)
    np.testing.assert_array_equal(
        augcore.warp_affine(image, matrix), scipy_warp(image, matrix, 0, "nearest")
    )


# Entries on a 1/8 grid make exact .5 ties common, where rounding order matters most.
grid_entries = st.integers(-24, 24).map(lambda k: k / 8)


@settings(max_examples=150, deadline=None)
@given(
    image=arrays(
        np.uint8, st.tuples(st.integers(1, 9), st.integers(1, 9), st.sampled_from([1, 3]))
    ),
    linear=st.lists(grid_entries, min_size=4, max_size=4),
    shift=st.lists(st.integers(-200, 200).map(lambda k: k / 8), min_size=2, max_size=2),
    mode=st.sampled_from(MODES),
    order=st.sampled_from([0, 1]),
)
def test_property_matches_scipy_on_tie_heavy_matrices(image, linear, shift, mode, order):
    matrix = np.array([[linear[0], linear[1], shift[0]], [linear[2], linear[3], shift[1]]])
    got = augcore.warp_affine(image, matrix, order=order, fill_mode=mode, cval=9)
    assert_matches_scipy(got, scipy_warp(image, matrix, order, mode, 9.0), order, np.uint8)


IMAGE = np.zeros((8, 10, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: augcore.warp_affine(np.zeros(8, np.uint8), np.eye(3)),
            augcore.ImageShapeError,
            "(H, W)",
        ),
        (
            lambda: augcore.warp_affine(np.zeros((2, 3, 4, 5), np.uint8), np.eye(3)),
            augcore.ImageShapeError,
            "(H, W)",
        ),
        (
            lambda: augcore.warp_affine(np.zeros((0, 4), np.uint8), np.eye(3)),
            augcore.ImageShapeError,
            "non-empty",
        ),
        (
            lambda: augcore.warp_affine(np.zeros((4, 4, 0), np.uint8), np.eye(3)),
            augcore.ImageShapeError,
            "non-empty",
        ),
        (
            lambda: augcore.warp_affine(np.broadcast_to(np.uint8(0), (50_000, 50_000)), np.eye(3)),
            augcore.ImageShapeError,
            "tiles",
        ),
        (
            lambda: augcore.warp_affine(np.zeros((4, 4)), np.eye(3)),
            augcore.ImageDtypeError,
            "float64",
        ),
        (
            lambda: augcore.warp_affine(np.zeros((4, 4), bool), np.eye(3)),
            augcore.ImageDtypeError,
            "astype",
        ),
        (lambda: augcore.warp_affine([[1, 2]], np.eye(3)), augcore.ImageShapeError, "asarray"),
        (lambda: augcore.warp_affine(IMAGE, np.eye(2)), augcore.MatrixError, "2x3 or 3x3"),
        (lambda: augcore.warp_affine(IMAGE, np.ones((3, 4))), augcore.MatrixError, "2x3 or 3x3"),
        (
            lambda: augcore.warp_affine(IMAGE, [[1, 0, np.nan], [0, 1, 0]]),
            augcore.MatrixError,
            "NaN",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, [[1, 0, 0], [0, np.inf, 0]]),
            augcore.MatrixError,
            "inf",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, [[1, 0, 0], [0, 1, 0], [0.1, 0, 1]]),
            augcore.MatrixError,
            "[0, 0, 1]",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, [["a", 0, 0], [0, 1, 0]]),
            augcore.MatrixError,
            "numbers",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, [[1e300, 0, 0], [0, 1, 0]]),
            augcore.MatrixError,
            "pull map",
        ),
        (lambda: augcore.warp_affine(IMAGE, np.eye(3), order=3), augcore.WarpOptionError, "order"),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), order=True),
            augcore.WarpOptionError,
            "order",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), order=1.0),
            augcore.WarpOptionError,
            "order",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), fill_mode="mirror"),
            augcore.WarpOptionError,
            "fill_mode",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), fill_mode="constant", cval=np.nan),
            augcore.WarpOptionError,
            "finite",
        ),
        (lambda: augcore.warp_affine(IMAGE, np.eye(3), cval="0"), augcore.WarpOptionError, "cval"),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), cval=256),
            augcore.WarpOptionError,
            "0..255",
        ),
        (
            # Pinned: a negative fill cannot be stored in uint8 (it would wrap to 255).
            lambda: augcore.warp_affine(IMAGE, np.eye(3), fill_mode="constant", cval=-1),
            augcore.WarpOptionError,
            "0..255",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), cval=-0.5),
            augcore.WarpOptionError,
            "0..255",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), out=np.zeros((8, 10), np.uint8)),
            augcore.OutputArrayError,
            "must match",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), out=np.zeros((8, 10, 3), np.float32)),
            augcore.OutputArrayError,
            "must match",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), out=np.broadcast_to(IMAGE, IMAGE.shape)),
            augcore.OutputArrayError,
            "read-only",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), out=IMAGE),
            augcore.OutputArrayError,
            "overlaps",
        ),
        (
            lambda: augcore.warp_affine(IMAGE, np.eye(3), out=[0]),
            augcore.OutputArrayError,
            "numpy array",
        ),
        (
            lambda: augcore.warp_affine_batch(
                np.zeros((2, 4, 4), np.uint8), np.stack([np.eye(3)] * 3)
            ),
            augcore.BatchLengthError,
            "2 images but 3 matrices",
        ),
        (
            lambda: augcore.warp_affine_batch(np.zeros((2, 4, 4), np.uint8), np.eye(3)),
            augcore.MatrixError,
            "(N, 2, 3)",
        ),
        (
            lambda: augcore.warp_affine_batch(np.zeros((4, 4), np.uint8), np.eye(3)[None]),
            augcore.ImageShapeError,
            "(N, H, W)",
        ),
        (
            lambda: augcore.warp_affine_batch([], np.zeros((0, 2, 3))),
            augcore.ImageShapeError,
            "empty",
        ),
        (
            lambda: augcore.warp_affine_batch([IMAGE, IMAGE[:4]], np.stack([np.eye(3)] * 2)),
            augcore.ImageShapeError,
            "share one shape",
        ),
        (
            lambda: augcore.warp_affine_batch(
                np.zeros((2, 4, 4), np.int32), np.stack([np.eye(3)] * 2)
            ),
            augcore.ImageDtypeError,
            "int32",
        ),
        (
            lambda: augcore.warp_affine_batch(IMAGE, np.stack([np.eye(3)] * 8), threads=0),
            augcore.WarpOptionError,
            "threads",
        ),
        (
            lambda: augcore.warp_affine_batch(IMAGE, np.stack([np.eye(3)] * 8), threads=1.5),
            augcore.WarpOptionError,
            "threads",
        ),
    ],
)
def test_bad_input_raises_a_clear_augcore_error(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)
    assert isinstance(info.value, augcore.AugcoreError)


@pytest.mark.parametrize(
    "matrix", [np.eye(3) + 0j, np.eye(3).astype(object) + 1j, [["a", 0, 0]] * 2]
)
def test_matrices_that_are_not_real_numbers_are_refused(matrix) -> None:
    """Complex values were cast to real with only a numpy warning (issue 12, class 5)."""
    with pytest.raises(augcore.MatrixError, match="real numbers"):
        augcore.warp_affine(np.zeros((4, 4), np.uint8), matrix)
