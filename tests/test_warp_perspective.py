"""warp_perspective against scipy.ndimage.map_coordinates on the documented coordinates."""

from __future__ import annotations

import numpy as np
import pytest
from warp_oracle import projective_coordinates, random_image, scipy_map, scipy_warp

import augcore

MODES = ("nearest", "constant", "reflect", "wrap")
CANVASES = [
    ((30, 30), (30, 30)),
    ((24, 41, 3), (33, 19)),
    ((37, 22, 4), (12, 48)),
    ((16, 16, 1), (40, 40)),
    ((1, 7, 3), (4, 6)),
]


def random_homography(rng, in_shape, out_shape):
    """A pull map from the output canvas into (and around) the input: an affine part with a
    random turn and zoom, then a tilt whose w stays in [0.5, 1.5] over the canvas, the whole
    matrix scaled by a positive factor (which must not change any sample)."""
    theta = rng.uniform(-0.6, 0.6)
    linear = rng.uniform(0.5, 2.0) * np.array(
        [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    )
    centre_in = (np.array(in_shape[:2]) - 1) / 2
    centre_out = (np.array(out_shape) - 1) / 2
    matrix = np.eye(3)
    matrix[:2, :2] = linear
    matrix[:2, 2] = centre_in - linear @ centre_out + rng.uniform(-4, 4, size=2)
    tilt = rng.uniform(-0.5, 0.5, size=2) / np.maximum(np.array(out_shape) - 1, 1)
    matrix[2] = [*tilt, 1.0]
    return matrix * rng.choice([1.0, 0.37, 3.0])


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
@pytest.mark.parametrize(("in_shape", "out_shape"), CANVASES, ids=str)
def test_matches_map_coordinates_on_the_documented_coordinates(
    in_shape, out_shape, dtype, mode, order
):
    rng = np.random.default_rng([*in_shape, *out_shape, order, MODES.index(mode)])
    image = random_image(rng, in_shape, dtype)
    for _ in range(6):
        matrix = random_homography(rng, in_shape, out_shape)
        got = augcore.warp_perspective(
            image, matrix, output_shape=out_shape, order=order, fill_mode=mode, cval=41
        )
        expected = scipy_map(image, projective_coordinates(matrix, out_shape), order, mode, 41.0)
        assert got.shape == expected.shape == out_shape + in_shape[2:]
        if order == 0:
            np.testing.assert_array_equal(got, expected)  # the same bits: not even a tie differs
        elif dtype == np.uint8:
            assert np.abs(got.astype(np.int16) - expected).max() <= 1
        else:
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_another_evaluation_order_differs_only_at_exact_ties():
    """M @ (r, c, 1) rounds differently in the last bit: order-0 results may then differ, but
    only where a coordinate lies on a .5 tie, and rarely."""
    rng = np.random.default_rng(99)
    image = random_image(rng, (64, 64, 3), np.uint8)
    total = differing = 0
    for _ in range(20):
        matrix = random_homography(rng, image.shape, (64, 64))
        matrix[:2] = np.round(matrix[:2] * 8) / 8  # grid entries: ties become common
        got = augcore.warp_perspective(image, matrix)
        r, c = np.meshgrid(np.arange(64.0), np.arange(64.0), indexing="ij")
        points = np.einsum("ij,jhw->ihw", matrix, np.stack([r, c, np.ones_like(r)]))
        naive = points[:2] / points[2]
        expected = scipy_map(image, naive, 0, "nearest")
        mismatch = np.any(got != expected, axis=-1)
        tie_distance = np.abs(np.abs(naive - np.floor(naive)) - 0.5).min(axis=0)
        assert np.all(tie_distance[mismatch] < 1e-9)
        differing += np.count_nonzero(mismatch)
        total += mismatch.size
    assert differing <= 1e-3 * total


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
def test_a_scaled_affine_matrix_takes_the_projective_kernel_and_gives_the_affine_bytes(
    dtype, order
):
    """w = 2 everywhere: the projective kernel divides exact doubles by 2, so every coordinate,
    .5 ties included, is the affine kernel's; and a last row [0, 0, 1] dispatches to it."""
    rng = np.random.default_rng(order)
    image = random_image(rng, (29, 35, 3), dtype)
    for degrees in (0, 45, 90, 17):
        theta = np.deg2rad(degrees)
        affine = np.array(
            [[np.cos(theta), -np.sin(theta), 3.5], [np.sin(theta), np.cos(theta), -2.25], [0, 0, 1]]
        )
        for mode in MODES:
            options = dict(output_shape=(31, 27), order=order, fill_mode=mode, cval=7)
            want = augcore.warp_affine(image, affine, **options)
            assert not augcore.is_affine(affine * 2)
            np.testing.assert_array_equal(
                augcore.warp_perspective(image, affine * 2, **options), want
            )
            np.testing.assert_array_equal(augcore.warp_perspective(image, affine, **options), want)
            if order == 0:
                np.testing.assert_array_equal(
                    want, scipy_warp(image, affine, 0, mode, 7.0, output_shape=(31, 27))
                )


@pytest.mark.parametrize("order", [0, 1])
def test_batch_equals_per_image_for_any_thread_count(order):
    rng = np.random.default_rng(3 + order)
    images = random_image(rng, (6, 20, 26, 3), np.float32)
    matrices = np.stack([random_homography(rng, images.shape[1:], (15, 30)) for _ in range(6)])
    matrices[2] = np.eye(3)  # one affine member: the batch still takes the projective kernel
    expected = np.stack(
        [
            augcore.warp_perspective(image, matrix, output_shape=(15, 30), order=order)
            for image, matrix in zip(images, matrices, strict=True)
        ]
    )
    for threads in (1, 2, 4):
        got = augcore.warp_perspective_batch(
            images, matrices, output_shape=(15, 30), order=order, threads=threads
        )
        np.testing.assert_array_equal(got, expected)
    affine_only = np.stack([np.eye(3)] * 6)
    np.testing.assert_array_equal(
        augcore.warp_perspective_batch(images, affine_only),
        augcore.warp_affine_batch(images, affine_only),
    )


def test_is_affine():
    assert augcore.is_affine(np.eye(3))
    assert augcore.is_affine(np.eye(3)[:2])
    assert augcore.is_affine(np.stack([np.eye(3)] * 4))
    assert not augcore.is_affine([[1, 0, 0], [0, 1, 0], [0, 1e-12, 1]])
    assert not augcore.is_affine(np.stack([np.eye(3), np.eye(3) * 2]))
    with pytest.raises(augcore.MatrixError):
        augcore.is_affine(np.eye(4))


IMAGE = np.zeros((8, 10, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("matrix", "output_shape", "message"),
    [
        # w = 1 - c / 9: zero at the last column of a 10-wide canvas, exactly.
        ([[1, 0, 0], [0, 1, 0], [0, -1 / 9, 1]], None, "folds"),
        ([[1, 0, 0], [0, 1, 0], [0, 0, -1]], None, "folds"),  # w < 0 everywhere: a push map?
        # Positive over the input-sized canvas, folding on a taller output canvas.
        ([[1, 0, 0], [0, 1, 0], [-0.1, 0, 1]], (20, 10), "folds"),
        ([[1, 0, 0], [0, 1, 0], [0, 0, np.nan]], None, "NaN"),
        ([[1, 0, 0], [0, np.inf, 0], [0, 0, 1]], None, "NaN"),
        ([[1, 0, 0], [0, 1, 0]], None, "3x3"),
        ([[1, 0, 0], [0, 1, 0], [0, 0, 1e-300]], None, "pull map"),
    ],
)
def test_bad_matrices_raise_matrix_errors(matrix, output_shape, message):
    with pytest.raises(augcore.MatrixError) as info:
        augcore.warp_perspective(IMAGE, np.array(matrix, dtype=float), output_shape=output_shape)
    assert message in str(info.value)


def test_w_barely_positive_at_every_corner_is_accepted():
    matrix = np.array([[1.0, 0, 0], [0, 1, 0], [0, -1 / 9.000001, 1]])
    assert augcore.warp_perspective(IMAGE, matrix, fill_mode="constant").shape == IMAGE.shape


def test_batch_errors_name_the_batch():
    with pytest.raises(augcore.MatrixError, match=r"\(N, 3, 3\)"):
        augcore.warp_perspective_batch(IMAGE[None], np.eye(3)[None, :2])
    with pytest.raises(augcore.BatchLengthError):
        augcore.warp_perspective_batch(IMAGE[None], np.stack([np.eye(3)] * 2))
    folded = np.stack([np.eye(3), np.diag([1.0, 1.0, -1.0])])
    with pytest.raises(augcore.MatrixError, match="matrix 1 folds"):
        augcore.warp_perspective_batch(np.stack([IMAGE, IMAGE]), folded)
