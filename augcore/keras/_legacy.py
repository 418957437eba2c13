"""Keras's module-level random transforms: ``random_rotation``, ``random_shift``,
``random_shear``, ``random_zoom``, ``random_channel_shift`` and ``random_brightness``.

Same arguments, defaults, draws (one ``uniform`` each, two for the zoom and the shift, in
Keras's order), argument checks and messages as Keras 3's
``keras/src/legacy/preprocessing/image.py``; the warp is ``apply_affine_transform``'s.

Keras draws from the global numpy RNG. These functions never touch it: they draw from the
batch being built when called inside an iterator (as Keras's would, from the reseeded RNG),
otherwise from a stream of this module. ``seed=`` (keyword only, an augcore addition) gives the
values Keras gives after ``np.random.seed(seed)``.
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

import numpy as np

from augcore.errors import ConfigError
from augcore.keras._affine import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
)
from augcore.keras._errors import ArgumentTypeError
from augcore.keras._random import rng_for


def random_rotation(
    x: np.ndarray,
    rg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
    *,
    seed: int | None = None,
) -> np.ndarray:
    """Rotate by a random angle in ``[-rg, rg]`` degrees."""
    theta = rng_for(seed).uniform(-rg, rg)
    axes = (row_axis, col_axis, channel_axis)
    return _warp(x, axes, fill_mode, cval, interpolation_order, theta=theta)


def random_shift(
    x: np.ndarray,
    wrg: float,
    hrg: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
    *,
    seed: int | None = None,
) -> np.ndarray:
    """Shift by random fractions of the size: ``hrg`` of the height, ``wrg`` of the width."""
    rng = rng_for(seed)
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = rng.uniform(-hrg, hrg) * h
    ty = rng.uniform(-wrg, wrg) * w
    axes = (row_axis, col_axis, channel_axis)
    return _warp(x, axes, fill_mode, cval, interpolation_order, tx=tx, ty=ty)


def random_shear(
    x: np.ndarray,
    intensity: float,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
    *,
    seed: int | None = None,
) -> np.ndarray:
    """Shear by a random angle in ``[-intensity, intensity]`` degrees."""
    shear = rng_for(seed).uniform(-intensity, intensity)
    axes = (row_axis, col_axis, channel_axis)
    return _warp(x, axes, fill_mode, cval, interpolation_order, shear=shear)


def random_zoom(
    x: np.ndarray,
    zoom_range: Any,
    row_axis: int = 1,
    col_axis: int = 2,
    channel_axis: int = 0,
    fill_mode: str = "nearest",
    cval: float = 0.0,
    interpolation_order: int = 1,
    *,
    seed: int | None = None,
) -> np.ndarray:
    """Zoom each axis by its own random factor in ``zoom_range`` (above 1 zooms out)."""
    _check_pair(zoom_range, "`zoom_range` should be a tuple or list of two floats.")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = rng_for(seed).uniform(zoom_range[0], zoom_range[1], 2)
    axes = (row_axis, col_axis, channel_axis)
    return _warp(x, axes, fill_mode, cval, interpolation_order, zx=zx, zy=zy)


def random_channel_shift(
    x: np.ndarray, intensity_range: float, channel_axis: int = 0, *, seed: int | None = None
) -> np.ndarray:
    """Add one random value in ``[-intensity_range, intensity_range]`` to every channel."""
    intensity = rng_for(seed).uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def random_brightness(
    x: np.ndarray, brightness_range: Any, scale: bool = True, *, seed: int | None = None
) -> np.ndarray:
    """Scale brightness by a random factor in ``brightness_range`` (a PIL round trip)."""
    _check_pair(brightness_range, "`brightness_range should be tuple or list of two floats.")
    u = rng_for(seed).uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u, scale)


def _warp(
    x: np.ndarray,
    axes: tuple[int, int, int],
    fill_mode: str,
    cval: float,
    order: int,
    **params: float,
) -> np.ndarray:
    row_axis, col_axis, channel_axis = axes
    return apply_affine_transform(
        x,
        **params,
        row_axis=row_axis,
        col_axis=col_axis,
        channel_axis=channel_axis,
        fill_mode=fill_mode,
        cval=cval,
        order=order,
    )


def _check_pair(value: Any, message: str) -> None:
    """Keras's ``len(value) != 2`` check (a value without a length fails as TypeError)."""
    if not isinstance(value, Sized):
        raise ArgumentTypeError(f"{message} Received: {value}")
    if len(value) != 2:
        raise ConfigError(f"{message} Received: {value}")
