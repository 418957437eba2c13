"""Masks follow the image exactly: scipy.ndimage is the oracle for every dtype and mode.

Labels of any integer dtype and bool stacks are warped nearest-neighbour (scipy order 0 on the
labels themselves, no byte tricks), heatmaps bilinearly (scipy order 1 in float64).
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy import ndimage
from targets_oracles import pull_map

import augcore
import augcore.targets.geometry
import augcore.targets.masks
import augcore.targets.move
import augcore.targets.types
from augcore.targets import Masks, warp_masks

SHAPE = (37, 53)
PULL = pull_map(SHAPE, degrees=33, scale=(1.2, 0.9), shift=(4, -6))


def scipy_masks(data, pull, order, mode, cval=0.0):
    planes = data.reshape(-1, *SHAPE)
    out = [
        ndimage.affine_transform(
            plane, pull[:2, :2], offset=pull[:2, 2], order=order, mode=mode, cval=cval
        )
        for plane in planes
    ]
    return np.stack(out).reshape(data.shape)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32, np.int64])
@pytest.mark.parametrize("mode", ["nearest", "reflect", "wrap", "constant"])
def test_label_maps_of_any_integer_dtype_equal_scipy_order_0(dtype, mode):
    info = np.iinfo(dtype)
    # scipy resamples through float64 and loses labels beyond ~2**52 (augcore copies any)
    low, high = max(info.min, -(2**48)), min(info.max, 2**48)
    labels = np.random.default_rng(0).integers(low, high, SHAPE, dtype=dtype)
    warped = warp_masks(Masks(labels), PULL, SHAPE, fill_mode=mode).data
    assert warped.dtype == dtype
    assert np.array_equal(warped, scipy_masks(labels, PULL, 0, mode))


def test_instance_stacks_and_bool_masks_equal_scipy_order_0():
    stack = np.random.default_rng(1).random((3, *SHAPE)) > 0.5
    warped = warp_masks(Masks(stack, per_box=True), PULL, SHAPE, fill_mode="reflect")
    assert warped.per_box and warped.data.dtype == bool
    oracle = scipy_masks(stack.astype(np.uint8), PULL, 0, "reflect").astype(bool)
    assert np.array_equal(warped.data, oracle)


@pytest.mark.parametrize(("dtype", "fill"), [(np.uint8, 255), (np.int32, -1), (np.uint16, 0)])
def test_mask_fill_is_a_constant_label_outside_the_source(dtype, fill):
    labels = np.random.default_rng(2).integers(0, 50, SHAPE).astype(dtype)
    warped = warp_masks(Masks(labels), PULL, SHAPE, fill_mode="nearest", mask_fill=fill).data
    assert np.array_equal(warped, scipy_masks(labels, PULL, 0, "constant", cval=fill))
    assert (warped == fill).any()


def test_heatmaps_warp_bilinearly_like_scipy():
    heat = np.random.default_rng(3).random((2, *SHAPE))
    warped = warp_masks(Masks(heat), PULL, SHAPE, fill_mode="constant").data
    assert warped.dtype == np.float64
    oracle = scipy_masks(heat.astype(np.float32).astype(np.float64), PULL, 1, "constant")
    assert np.abs(warped - oracle).max() < 1e-4


def test_bad_masks_and_fills_are_named_errors():
    with pytest.raises(augcore.TargetError, match="dtype"):
        Masks(np.zeros((4, 4), complex))
    with pytest.raises(augcore.TargetError, match=r"\(H, W\) or \(M, H, W\)"):
        Masks(np.zeros((4,), np.uint8))
    with pytest.raises(augcore.TargetError, match="mask_fill=300"):
        warp_masks(Masks(np.zeros(SHAPE, np.uint8)), PULL, SHAPE, mask_fill=300)
    with pytest.raises(augcore.TargetError, match="fill_mode"):
        warp_masks(Masks(np.zeros(SHAPE, np.uint8)), PULL, SHAPE, fill_mode="mirror")


@pytest.mark.parametrize(
    "module",
    [augcore.targets.types, augcore.targets.geometry, augcore.targets.masks, augcore.targets.move],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, extraglobs={"np": np})
    assert result.failed == 0 and (result.attempted > 0 or module is augcore.targets.geometry)
