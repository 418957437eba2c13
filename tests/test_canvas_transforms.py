"""The canvas transforms on their own, each against an independent oracle.

Crop against slicing, pad against ``np.pad``, resize against Pillow's nearest-neighbour resize,
perspective against OpenCV's ``getPerspectiveTransform``, random_resized_crop against
torchvision's region rule transcribed from its source and fed the same uniform draws.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from augcore.plugins.canvas import Affine, Crop, Pad, Perspective, RandomResizedCrop, Resize
from augcore.plugins.geometric import Rotate, Shear, Shift, Zoom
from PIL import Image

import augcore
from augcore.seeding import Draws
from augcore.transform import compose

RNG = np.random.default_rng(7)
IMAGE = RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8)


def draws(n: int, start: int = 1) -> Draws:
    return Draws(np.arange(start, start + n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15))


def warp(transform: augcore.GeometricTransform, image: np.ndarray, params, **options):
    shape = image.shape
    matrix = transform.matrices(1, params, shape)[0]
    canvas = transform.canvas(shape)[:2]
    if matrix[2, :2].any():
        return augcore.warp_perspective(image, matrix, output_shape=canvas, **options)
    return augcore.warp_affine(image, matrix, output_shape=canvas, **options)


@pytest.mark.parametrize("position", ["center", "random"])
def test_crop_equals_slicing(position: str) -> None:
    crop = Crop(height=20, width=31, position=position)
    params = crop.sample(draws(40), IMAGE.shape)
    for i in range(40):
        one = {name: value[i : i + 1] for name, value in params.items()}
        top, left = int(one["top"][0]), int(one["left"][0])
        assert np.array_equal(warp(crop, IMAGE, one), IMAGE[top : top + 20, left : left + 31])
    if position == "center":  # torchvision's CenterCrop: round((H - h) / 2)
        assert set(params["top"]) == {round(17 / 2)} and set(params["left"]) == {round(22 / 2)}
    else:  # every whole-pixel offset is reachable, none outside
        assert set(params["top"]) <= set(range(18)) and len(set(params["top"])) > 10


def test_crop_larger_than_the_image_is_a_named_error() -> None:
    with pytest.raises(augcore.CanvasError, match=r"crop.*60x10.*37x53"):
        Crop(height=60, width=10).canvas(IMAGE.shape)


@pytest.mark.parametrize(
    ("fill_mode", "numpy_mode"),
    [("constant", "constant"), ("nearest", "edge"), ("reflect", "symmetric")],
)
def test_pad_by_pixels_equals_np_pad(fill_mode: str, numpy_mode: str) -> None:
    pad = Pad(top=3, bottom=1, left=6, right=2)
    got = warp(pad, IMAGE, {}, fill_mode=fill_mode, cval=9)
    extra = {"constant_values": 9} if numpy_mode == "constant" else {}
    assert np.array_equal(got, np.pad(IMAGE, ((3, 1), (6, 2), (0, 0)), mode=numpy_mode, **extra))


def test_pad_to_a_size_centres_and_never_shrinks() -> None:
    pad = Pad(height=40, width=50)
    assert pad.canvas(IMAGE.shape) == (40, 53, 3)
    got = warp(pad, IMAGE, {}, fill_mode="constant")
    assert np.array_equal(got, np.pad(IMAGE, ((1, 2), (0, 0), (0, 0))))


def test_pad_refuses_both_forms() -> None:
    with pytest.raises(augcore.ConfigError, match=r"pad.*not both"):
        Pad(top=1, height=10)


@pytest.mark.parametrize("size", [(74, 106), (50, 60), (37, 53), (25, 40), (20, 29)])
def test_resize_nearest_equals_pillow(size: tuple[int, int]) -> None:
    """Pixel centre onto pixel centre, rounded as Pillow's NEAREST (shrinks below 2x only:
    beyond that the pipeline box-reduces first)."""
    resize = Resize(height=size[0], width=size[1])
    got = warp(resize, IMAGE, {})
    expected = np.asarray(Image.fromarray(IMAGE).resize(size[::-1], Image.Resampling.NEAREST))
    assert np.array_equal(got, expected)


@pytest.mark.parametrize(
    ("options", "canvas"),
    [({"longest": 106}, (74, 106)), ({"shortest": 74}, (74, 106)), ({"longest": 10}, (7, 10))],
)
def test_resize_keeps_the_aspect_ratio(options: dict[str, int], canvas: tuple[int, int]) -> None:
    assert Resize(**options).canvas(IMAGE.shape) == (*canvas, 3)


def test_resize_refuses_two_ways_to_size() -> None:
    with pytest.raises(augcore.ConfigError, match=r"resize.*one\s+way"):
        Resize(longest=100, height=10, width=10)


def test_perspective_matches_opencv_and_torchvision_bounds() -> None:
    height, width = IMAGE.shape[:2]
    perspective = Perspective(distortion_scale=0.6)
    params = perspective.sample(draws(30), IMAGE.shape)
    matrices = perspective.matrices(30, params, IMAGE.shape)
    reach_x, reach_y = int(0.6 * (width // 2)), int(0.6 * (height // 2))
    for corners, pull in zip(params["corners"].reshape(30, 4, 2), matrices, strict=True):
        start = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
        forward = cv2.getPerspectiveTransform(start, corners.astype(np.float32))  # (x, y)
        swap = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], float)  # (x, y) <-> (row, col)
        expected = swap @ np.linalg.inv(forward) @ swap
        assert np.allclose(pull / pull[2, 2], expected / expected[2, 2], atol=1e-6)
        # torchvision's bounds: corners move inwards by at most reach pixels.
        inward = np.abs(corners - start)
        assert (inward[:, 0] <= reach_x).all() and (inward[:, 1] <= reach_y).all()


def _torchvision_region(height: int, width: int, scale, ratio, uniforms) -> tuple[int, ...]:
    """torchvision.transforms.v2.RandomResizedCrop.make_params, transcribed, fed our draws."""
    area = height * width
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for attempt in range(10):
        u_scale, u_ratio, u_row, u_col = uniforms[4 * attempt : 4 * attempt + 4]
        target_area = area * (scale[0] + (scale[1] - scale[0]) * u_scale)
        aspect = math.exp(log_ratio[0] + (log_ratio[1] - log_ratio[0]) * u_ratio)
        w = round(math.sqrt(target_area * aspect))
        h = round(math.sqrt(target_area / aspect))
        if 0 < w <= width and 0 < h <= height:
            return math.floor(u_row * (height - h + 1)), math.floor(u_col * (width - w + 1)), h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        h, w = height, round(height * max(ratio))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


@pytest.mark.parametrize(
    ("shape", "scale", "ratio"),
    [((37, 53), (0.08, 1.0), (3 / 4, 4 / 3)), ((20, 200), (0.5, 1.0), (0.9, 1.1)),
     ((64, 64), (0.9, 1.0), (3.0, 4.0))],
)  # fmt: skip
def test_random_resized_crop_accepts_torchvision_regions(shape, scale, ratio) -> None:
    crop = RandomResizedCrop(height=16, width=24, scale=list(scale), ratio=list(ratio))
    n = 300
    batch = draws(n)
    params = crop.sample(batch, shape)
    uniforms = np.stack([batch.uniform(i) for i in range(40)], axis=1)
    for i in range(n):
        expected = _torchvision_region(*shape, scale, ratio, uniforms[i])
        got = tuple(
            int(params[name][i]) for name in ("top", "left", "region_height", "region_width")
        )
        assert got == expected


def test_random_resized_crop_maps_its_region_onto_the_canvas() -> None:
    crop = RandomResizedCrop(height=16, width=24)
    params = crop.sample(draws(5), IMAGE.shape)
    matrices = crop.matrices(5, params, IMAGE.shape)
    for i, pull in enumerate(matrices):
        top, left = params["top"][i], params["left"][i]
        height, width = params["region_height"][i], params["region_width"][i]
        # The canvas's outer pixel edges land on the region's outer pixel edges.
        assert np.allclose(pull @ [-0.5, -0.5, 1], [top - 0.5, left - 0.5, 1])
        assert np.allclose(pull @ [15.5, 23.5, 1], [top + height - 0.5, left + width - 0.5, 1])


def test_affine_equals_zoom_shear_rotate_shift_in_that_order() -> None:
    options = {"degrees": [-30, 30], "scale": [0.8, 1.2], "shear": [-10, 10]}
    affine = Affine(**options, translate_x=[-0.1, 0.1], translate_y=[-0.2, 0.2])
    params = affine.sample(draws(20), IMAGE.shape)
    shape = IMAGE.shape
    steps = [
        Zoom().matrices(20, {"y": params["scale"], "x": params["scale"]}, shape),
        Shear().matrices(20, {"degrees": params["shear"]}, shape),
        Rotate().matrices(20, {"degrees": params["degrees"]}, shape),
        Shift().matrices(20, {k: params[k] for k in ("x_pixels", "y_pixels")}, shape),
    ]
    fused = compose(compose(compose(steps[0], steps[1]), steps[2]), steps[3])
    assert np.allclose(affine.matrices(20, params, shape), fused, atol=1e-12)
