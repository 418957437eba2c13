"""Built-in transforms: geometry on non-square images through the real kernel, pixel maths."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage as ndi
from augcore.plugins.geometric import FlipHorizontal, FlipVertical, Rotate, Shear, Shift, Zoom
from augcore.plugins.pixel import Brightness, ChannelShift, Contrast, GaussianNoise, Grayscale
from PIL import Image

import augcore

RNG = np.random.default_rng(20261126)
TALL = RNG.integers(0, 256, (7, 12, 3), dtype=np.uint8)  # non-square, odd x even
WIDE_FLOAT = RNG.random((10, 5), dtype=np.float32)


def run(transform: augcore.Transform, image: np.ndarray, **warp: object) -> np.ndarray:
    out, _ = augcore.Pipeline([transform], **warp).augment(image, seed=0, key="t")
    return out


def matrix_of(transform: augcore.GeometricTransform, shape: tuple[int, ...]) -> np.ndarray:
    """The transform's pull map for one output, through its public sample/matrices contract."""
    draws = augcore.seeding.Draws.for_domain(np.zeros(1, np.uint64), 0)
    return transform.matrices(1, transform.sample(draws, shape), shape)[0]


def pushed(point: tuple[float, float], degrees: float, centre: tuple[float, float]) -> np.ndarray:
    """Where a (row, col) point lands when the picture turns counter-clockwise as seen.

    Independent of augcore: complex numbers in screen axes (x right, y up).
    """
    z = complex(point[1] - centre[1], -(point[0] - centre[0])) * complex(
        math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    )
    return np.array([centre[0] - z.imag, centre[1] + z.real])


# --- geometry: exact equalities ---------------------------------------------------------------
@pytest.mark.parametrize("image", [TALL, WIDE_FLOAT], ids=["uint8-rgb", "float32-2d"])
def test_flips_equal_np_flip_exactly(image: np.ndarray) -> None:
    np.testing.assert_array_equal(run(FlipHorizontal(), image), np.flip(image, axis=1))
    np.testing.assert_array_equal(run(FlipVertical(), image), np.flip(image, axis=0))


@pytest.mark.parametrize("size", [6, 7])
def test_rotate_90_equals_np_rot90_counter_clockwise(size: int) -> None:
    square = RNG.integers(0, 256, (size, size, 3), dtype=np.uint8)
    np.testing.assert_array_equal(run(Rotate(degrees=[90, 90]), square), np.rot90(square))
    np.testing.assert_array_equal(run(Rotate(degrees=[-90, -90]), square), np.rot90(square, -1))


@pytest.mark.parametrize("image", [TALL, WIDE_FLOAT], ids=["uint8-rgb", "float32-2d"])
def test_rotate_180_on_non_square_pivots_on_the_true_centre(image: np.ndarray) -> None:
    np.testing.assert_array_equal(run(Rotate(degrees=[180, 180]), image), np.rot90(image, 2))


# np.pad's name for each fill mode's border (scipy's "reflect" repeats the edge pixel).
PAD_MODES = {"nearest": "edge", "constant": "constant", "reflect": "symmetric"}


@pytest.mark.parametrize("fill_mode", sorted(PAD_MODES))
@pytest.mark.parametrize(("dx", "dy"), [(3, -2), (-4, 5), (0, 1)])
def test_integer_pixel_shift_equals_the_shifted_array(fill_mode: str, dx: int, dy: int) -> None:
    pad = max(abs(dx), abs(dy))
    h, w = TALL.shape[:2]
    widths = ((pad, pad), (pad, pad), (0, 0))
    if fill_mode == "constant":
        padded = np.pad(TALL, widths, constant_values=9)
    else:
        padded = np.pad(TALL, widths, mode=PAD_MODES[fill_mode])
    expected = padded[pad - dy : pad - dy + h, pad - dx : pad - dx + w]
    shift = Shift(x=[dx, dx], y=[dy, dy], unit="pixels")
    np.testing.assert_array_equal(run(shift, TALL, fill_mode=fill_mode, cval=9), expected)


@pytest.mark.parametrize(("dx", "dy"), [(3, -2), (-4, 5)])
def test_integer_pixel_shift_with_wrap_repeats_with_period_n_minus_1(dx: int, dy: int) -> None:
    """scipy's "wrap" (docs/transforms.md): index i outside [0, n) reads i mod (n - 1)."""
    h, w = TALL.shape[:2]
    rows, cols = np.arange(h) - dy, np.arange(w) - dx
    rows = np.where((rows >= 0) & (rows < h), rows, rows % (h - 1))
    cols = np.where((cols >= 0) & (cols < w), cols, cols % (w - 1))
    shift = Shift(x=[dx, dx], y=[dy, dy], unit="pixels")
    np.testing.assert_array_equal(run(shift, TALL, fill_mode="wrap"), TALL[np.ix_(rows, cols)])


def test_fractional_shift_is_measured_along_the_axis_it_names() -> None:
    # 0.25 of the width (12) is 3 pixels right; 0 of the height.
    out = run(Shift(x=[0.25, 0.25], y=[0, 0]), TALL, fill_mode="constant")
    np.testing.assert_array_equal(out[:, 3:], TALL[:, :-3])
    assert not out[:, :3].any()
    out = run(Shift(x=[0, 0], y=[-3 / 7, -3 / 7]), TALL, fill_mode="constant")
    np.testing.assert_array_equal(out[:-3], TALL[3:])


# --- geometry: matrices against independent point maths -----------------------------------
@pytest.mark.parametrize("degrees", [30.0, -65.0, 90.0])
@pytest.mark.parametrize("shape", [(7, 12), (12, 7), (9, 9)])
def test_rotation_turns_counter_clockwise_about_the_true_centre(degrees, shape) -> None:
    matrix = matrix_of(Rotate(degrees=[degrees, degrees]), shape)
    centre = ((shape[0] - 1) / 2, (shape[1] - 1) / 2)
    for point in [(0.0, 0.0), (2.0, 5.0), centre, (shape[0] - 1.0, 1.0)]:
        landed = pushed(point, degrees, centre)
        np.testing.assert_allclose(matrix @ [*landed, 1.0], [*point, 1.0], atol=1e-9)


def test_rotation_matches_scipy_rotate_on_a_non_square_image() -> None:
    image = RNG.random((20, 33), dtype=np.float32)
    out = run(Rotate(degrees=[25, 25]), image, order=1, fill_mode="constant")
    expected = ndi.rotate(image, 25, reshape=False, order=1, mode="constant")
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_zoom_magnifies_about_the_centre_per_axis() -> None:
    shape = (7, 12)
    matrix = matrix_of(Zoom(factor=[2, 2]), shape)
    # A point at distance d from the centre (3, 5.5) in the output comes from d / 2 in the input.
    np.testing.assert_allclose(matrix @ [5.0, 1.5, 1.0], [4.0, 3.5, 1.0])
    per_axis = Zoom(factor=[0.5, 2.0], per_axis=True)
    draws = augcore.seeding.Draws.for_domain(np.arange(50, dtype=np.uint64), 0)
    params = per_axis.sample(draws, shape)
    assert not np.array_equal(params["x"], params["y"])
    matrices = per_axis.matrices(50, params, shape)
    np.testing.assert_allclose(matrices[:, 0, 0], 1 / params["y"])
    np.testing.assert_allclose(matrices[:, 1, 1], 1 / params["x"])


def test_zoom_image_matches_scipy_zoom_about_the_centre() -> None:
    image = RNG.random((9, 14), dtype=np.float32)
    out = run(Zoom(factor=[1.5, 1.5]), image, order=1, fill_mode="nearest")
    rows, cols = np.mgrid[0:9, 0:14].astype(np.float64)
    coords = [4 + (rows - 4) / 1.5, 6.5 + (cols - 6.5) / 1.5]
    expected = ndi.map_coordinates(image, coords, order=1, mode="nearest")
    np.testing.assert_allclose(out, expected, atol=1e-4)


def test_positive_shear_leans_the_top_to_the_right() -> None:
    shape = (11, 8)
    matrix = matrix_of(Shear(degrees=[45, 45]), shape)
    # Centre (5, 3.5). Pushed: a point 2 rows above it moves 2 columns right (tan 45 = 1).
    np.testing.assert_allclose(matrix @ [3.0, 5.5, 1.0], [3.0, 3.5, 1.0], atol=1e-12)
    np.testing.assert_allclose(matrix @ [5.0, 3.5, 1.0], [5.0, 3.5, 1.0], atol=1e-12)


# --- pixel transforms ---------------------------------------------------------------------
def test_brightness_multiplies_rounds_and_clips_uint8() -> None:
    out = run(Brightness(factor=[1.5, 1.5]), TALL)
    expected = np.clip(np.rint(TALL.astype(np.float64) * 1.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(run(Brightness(factor=[0.5, 0.5]), WIDE_FLOAT), WIDE_FLOAT * 0.5)


def test_contrast_scales_about_the_image_mean() -> None:
    out = run(Contrast(factor=[2, 2]), WIDE_FLOAT)
    mean = WIDE_FLOAT.astype(np.float64).mean()
    np.testing.assert_allclose(out, mean + 2 * (WIDE_FLOAT - mean), atol=1e-5)
    assert out.dtype == np.float32


def test_channel_shift_adds_one_offset_per_channel() -> None:
    out = run(ChannelShift(intensity=[10, 10]), TALL)
    np.testing.assert_array_equal(out, np.clip(TALL.astype(int) + 10, 0, 255))
    image = np.full((4, 5, 3), 100, np.uint8)
    out, record = augcore.Pipeline([ChannelShift(intensity=30)]).augment(image, seed=4, key="c")
    offsets = record.steps[0]["params"]["offsets"]
    assert len(offsets) == 3 and len(set(offsets)) == 3
    for channel in range(3):
        assert np.all(out[..., channel] == np.rint(100 + offsets[channel]))
    _, record = augcore.Pipeline([ChannelShift(intensity=30, per_channel=False)]).augment(
        image, seed=4, key="c"
    )
    assert len(set(record.steps[0]["params"]["offsets"])) == 1


def test_gaussian_noise_has_the_sampled_sigma_and_replays() -> None:
    image = np.zeros((200, 300), np.float32)
    out, record = augcore.Pipeline([GaussianNoise(sigma=[5, 5])]).augment(image, seed=1, key="n")
    assert abs(out.std() - 5) < 0.1 and abs(out.mean()) < 0.1
    assert record.steps[0]["params"]["sigma"] == 5.0
    other, _ = augcore.Pipeline([GaussianNoise(sigma=[5, 5])]).augment(image, seed=1, key="m")
    assert not np.array_equal(out, other)
    restored = augcore.Record.from_dict(json.loads(json.dumps(record.to_dict())))
    replayed = augcore.Pipeline([GaussianNoise(sigma=[5, 5])]).apply_record(image, restored)
    np.testing.assert_array_equal(replayed, out)


def test_grayscale_matches_pillow_luma_and_keeps_alpha() -> None:
    rgba = RNG.integers(0, 256, (6, 9, 4), dtype=np.uint8)
    out = run(Grayscale(), rgba)
    pillow = np.asarray(Image.fromarray(rgba[..., :3]).convert("L")).astype(int)
    for channel in range(3):
        assert np.abs(out[..., channel].astype(int) - pillow).max() <= 1
    np.testing.assert_array_equal(out[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(run(Grayscale(), WIDE_FLOAT), WIDE_FLOAT)


@pytest.mark.parametrize(
    "transform",
    [Brightness(), Contrast(), ChannelShift(), GaussianNoise(), Grayscale(), Rotate(), Zoom()],
    ids=lambda t: t.name,
)
@pytest.mark.parametrize("image", [TALL, WIDE_FLOAT, TALL[..., :1]], ids=["rgb", "2d", "c1"])
def test_outputs_keep_shape_and_dtype(transform: augcore.Transform, image: np.ndarray) -> None:
    out = run(transform, image)
    assert out.shape == image.shape and out.dtype == image.dtype


def test_params_are_declared_with_units_and_docs() -> None:
    for module in (augcore.plugins.geometric, augcore.plugins.pixel):
        for cls in module.TRANSFORMS:
            assert cls.summary(), cls
            for param in cls.params:
                assert param.doc and (param.units or param.kind in ("bool", "choice")), param


def test_every_builtin_and_parameter_is_documented() -> None:
    docs = (Path(__file__).parents[1] / "docs" / "transforms.md").read_text()
    for module in (augcore.plugins.geometric, augcore.plugins.pixel):
        for cls in module.TRANSFORMS:
            assert f"`{cls.name}`" in docs, cls.name
            for param in cls.params:
                assert f"`{param.name}`" in docs, (cls.name, param.name)
