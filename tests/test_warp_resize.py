"""The kernel's separable ("resize") path against its general path and scipy.

Axis-aligned maps (m01 = m10 = 0: crops, resizes, pads, shifts, flips and their products) take
per-row and per-column taps; ``_warp.warp_batch(paths=...)`` runs the same map through the
separable path with its widest steps (FASTEST: AVX-512 where the CPU has it, else AVX2), with
AVX2 steps at most (AVX2_STEPS), with scalar rows only (SCALAR) or through the per-pixel passes
every other map takes (GENERAL). All of them must give the same bytes, and
scipy's ``affine_transform`` stays the independent oracle (exact for order 0, +-1 / 1e-4 for
order 1, as everywhere in the kernel).
"""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warp_oracle import random_image, scipy_warp

import augcore
from augcore import _reduce, _warp
from augcore.reduce import box_reduce_batch, box_reduce_regions, reduce_plan, reduced_pull_map
from augcore.validation import FILL_MODES

PATHS = (_warp.FASTEST, _warp.AVX2_STEPS, _warp.SCALAR, _warp.GENERAL)


def kernel(images, matrices, out_shape, order, mode, cval, paths):
    """One warp_batch call on (N, H, W, C) images with (N, 6) affine rows."""
    out = np.zeros((len(images), *out_shape, images.shape[3]), images.dtype)
    _warp.warp_batch(
        images, out, np.ascontiguousarray(matrices), 0, len(images), images.shape[1:],
        out.shape[1:], images.itemsize, order, mode, cval, False, 6, paths,
    )  # fmt: skip
    return out


def diagonal(scale_r, scale_c, shift_r, shift_c):
    return np.array([scale_r, 0.0, shift_r, 0.0, scale_c, shift_c])


def assert_paths_agree_and_match_scipy(image, row, out_shape, order, mode, cval):
    results = [kernel(image[None], row[None], out_shape, order, mode, cval, p) for p in PATHS]
    for paths, result in zip(PATHS[1:], results[1:], strict=True):
        assert result.tobytes() == results[0].tobytes(), (paths, row, out_shape)
    matrix = np.vstack([row.reshape(2, 3), [0.0, 0.0, 1.0]])
    expected = scipy_warp(image, matrix, order, FILL_MODES[mode], cval, output_shape=out_shape)
    got = results[0][0].reshape(expected.shape)
    if order == 0:
        np.testing.assert_array_equal(got, expected)
    else:
        tolerance = 1 if image.dtype == np.uint8 else 1e-4
        assert np.abs(got.astype(np.float64) - expected).max() <= tolerance


def diagonal_cases(in_sides, out_rows, out_cols, channels, dtypes, scales, shifts):
    """Hypothesis' draws of random diagonal maps: sizes, channels, dtype, order, mode, scales
    (row, column) and shifts (fractions of the input), ties, a seed."""
    return given(
        in_size=st.tuples(st.integers(*in_sides), st.integers(*in_sides)),
        out_size=st.tuples(st.integers(*out_rows), st.integers(*out_cols)),
        channels=st.sampled_from(channels),
        dtype=st.sampled_from(dtypes),
        order=st.integers(0, 1),
        mode=st.integers(0, 3),
        scales=st.tuples(st.floats(-scales[0], scales[0]), st.floats(-scales[1], scales[1])),
        shifts=st.tuples(st.floats(*shifts), st.floats(*shifts)),
        ties=st.booleans(),
        seed=st.integers(0, 2**32 - 1),
    )


def check_diagonal_case(
    in_size, out_size, channels, dtype, order, mode, scales, shifts, ties, seed
):
    rng = np.random.default_rng(seed)
    image = random_image(rng, (*in_size, channels), dtype)
    row = diagonal(scales[0], scales[1], shifts[0] * in_size[0], shifts[1] * in_size[1])
    if ties:  # quarters: coordinates on .5 ties and on pixel centres, taps on both edges
        row = np.round(row * 4) / 4
    assert_paths_agree_and_match_scipy(image, row, out_size, order, mode, 77.0)


@settings(max_examples=300, deadline=None)
@diagonal_cases(
    (1, 40), (1, 40), (1, 40), [1, 3, 4, 5], [np.uint8, np.float32], (3, 3), (-1.5, 1.5)
)
def test_random_diagonal_maps_take_the_general_paths_bytes_and_scipys(**case):
    check_diagonal_case(**case)


@settings(max_examples=200, deadline=None)
@diagonal_cases((2, 160), (1, 48), (1, 150), [1, 3, 4], [np.uint8], (2.5, 4.5), (-0.3, 1.3))
def test_uint8_rows_of_many_steps_take_the_general_paths_bytes(**case):
    """Rows of several AVX-512 steps (16 values, 64 bytes for order 0) and a partial one:
    flips, column shrinks whose steps fit 64 bytes but not AVX2's 16, .5 ties, every mode."""
    check_diagonal_case(**case)


def cpu_flags() -> set[str]:
    """The CPU's feature flags as Linux lists them (empty where it does not)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    lines = [line for line in text.splitlines() if line.startswith("flags")]
    return set(lines[0].split(":", 1)[1].split()) if lines else set()


def test_the_steps_are_the_widest_the_cpu_has():
    flags = cpu_flags()
    if platform.machine() != "x86_64" or not flags:
        pytest.skip("the step widths are for x86-64 Linux CPUs")
    widest = 16 if {"avx512f", "avx512bw", "avx512vbmi"} <= flags else 8 if "avx2" in flags else 0
    assert _warp.resize_step_width() == widest


# Large enough for the AVX2 steps: shrinks below 2 (the box reduce's leftovers), enlargements,
# flips, and maps touching every edge (the bottom row goes through the padded copy).
BIG_MAPS = [
    diagonal(300 / 224, 300 / 224, 100.0, 50.0),  # random_resized_crop's crop
    diagonal(511 / 223, 511 / 223, 0.0, 0.0),  # corner to corner: last row and column
    diagonal(1.9, 1.1, -0.25, -0.25),  # half-pixel borders, as reduced_pull_map gives
    diagonal(0.37, 0.61, -3.0, 7.5),  # enlarging past the top edge
    diagonal(-1.3, 1.7, 300.0, 0.0),  # vertical flip
    diagonal(1.25, -1.5, 0.0, 330.0),  # horizontal flip
    diagonal(1.0, 1.0, -40.5, 350.25),  # a shift half outside
    diagonal(2.6, 3.1, 1.0, 2.0),  # windows over 16 bytes: the general path
]


@pytest.mark.parametrize("channels", [1, 3, 4, 5])
@pytest.mark.parametrize("mode", range(4), ids=FILL_MODES)
@pytest.mark.parametrize("order", [0, 1])
def test_large_uint8_resizes_take_the_general_paths_bytes(channels, mode, order):
    rng = np.random.default_rng([channels, mode, order])
    image = random_image(rng, (257, 301, channels), np.uint8)
    for row in BIG_MAPS:
        assert_paths_agree_and_match_scipy(image, row, (224, 160), order, mode, 200.0)


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
def test_a_batch_mixing_separable_and_general_maps_equals_each_image_alone(dtype, order):
    rng = np.random.default_rng(order)
    images = random_image(rng, (len(BIG_MAPS) + 1, 120, 90, 3), dtype)
    rows = [*BIG_MAPS, np.array([0.9, 0.2, 3.0, -0.1, 1.1, 4.0])]  # a rotation among them
    matrices = np.stack([row.reshape(2, 3) for row in rows])
    batch = augcore.warp_affine_batch(images, matrices, output_shape=(70, 110), order=order)
    for image, matrix, got in zip(images, matrices, batch, strict=True):
        alone = augcore.warp_affine(image, matrix, output_shape=(70, 110), order=order)
        assert got.tobytes() == alone.tobytes()


@pytest.mark.parametrize("dtype", [np.uint8, np.float32], ids=["uint8", "float32"])
def test_the_box_reduce_computes_every_pixel_its_warp_reads(dtype):
    """Boxes outside a map's read region are not computed: poison them, warp, and compare
    with the warp of the whole reduce (an axis reaching outside the image is reduced whole)."""
    rng = np.random.default_rng(5)
    images = random_image(rng, (6, 97, 131, 3), dtype)
    rows = [
        diagonal(2.3, 2.1, 10.0, 20.0),
        diagonal(2.0, 2.0, -0.5, -0.5),  # a corner maps outside the reduced image
        diagonal(-2.2, 2.5, 90.0, 3.0),
        diagonal(2.7, 1.0, 0.0, 60.0),
        np.array([2.1, 0.3, 1.0, -0.2, 2.2, 30.0]),
        diagonal(2.0, 2.0, 400.0, 400.0),  # entirely outside
    ]
    matrices = np.stack([np.vstack([r.reshape(2, 3), [0, 0, 1]]) for r in rows])
    factors, canvas = (2, 2), (31, 37)
    maps = reduced_pull_map(matrices, factors)
    whole = box_reduce_batch(images, factors)
    pairs = np.tile(factors, (len(images), 1))
    reduced_maps, regions = reduce_plan(matrices, pairs, canvas, images.shape[1:3])
    poisoned = np.full_like(whole, np.nan if dtype == np.float32 else 255)
    for reduced_image, (y0, y1, x0, x1), target in zip(whole, regions, poisoned, strict=True):
        target[y0:y1, x0:x1] = reduced_image[y0:y1, x0:x1]
    assert (regions[:, 1] - regions[:, 0] < whole.shape[1]).any()  # some regions are partial
    reduced = box_reduce_regions(images, factors, regions)
    np.testing.assert_array_equal(reduced_maps, maps)
    for order in (0, 1):
        for mode in FILL_MODES:
            options = {"output_shape": canvas, "order": order, "fill_mode": mode, "cval": 9.0}
            expected = augcore.warp_affine_batch(whole, maps, **options)
            for source in (poisoned, reduced):
                got = augcore.warp_affine_batch(source, maps, **options)
                assert got.tobytes() == expected.tobytes(), (order, mode)


def test_a_reduce_region_equals_the_same_boxes_of_the_whole_reduce():
    rng = np.random.default_rng(6)
    images = random_image(rng, (2, 50, 61, 3), np.uint8)
    whole = box_reduce_batch(images, (3, 2))
    out = np.zeros_like(whole)
    regions = np.array([[2, 9, 5, 31], [0, 17, 0, 31]], dtype=np.int64)
    _reduce.reduce_batch(
        images.reshape(-1).view(np.uint8), out.reshape(-1).view(np.uint8), 2, (50, 61, 3), 3, 2,
        1, regions,
    )  # fmt: skip
    inside = np.zeros(out.shape, bool)
    inside[0, 2:9, 5:31] = inside[1] = True
    np.testing.assert_array_equal(out[inside], whole[inside])
    assert not out[~inside].any()
