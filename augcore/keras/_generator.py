"""``ImageDataGenerator``: Keras's constructor, methods and results, on augcore's kernel.

The class is assembled from three parts: this module (settings, random parameters and their
application), ``_normalization`` (``standardize``, ``fit``) and ``_flows`` (the iterators).

Randomness is the one deliberate difference in mechanism (not in values): Keras draws from the
global numpy RNG and calls ``np.random.seed(seed)`` when given a seed. Here a seed creates
``np.random.RandomState(seed)`` for that call, which yields exactly the same numbers; without a
seed, draws come from the batch being built (inside an iterator, see ``_random``) or from a
RandomState owned by this generator (seeded from the OS). The global numpy RNG is never read or
reseeded, so other code that seeds it is unaffected, and ``np.random.seed(...)`` does not make an
unseeded augcore.keras call repeatable: pass ``seed``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sized
from typing import Any

import numpy as np

from augcore.errors import ConfigError
from augcore.keras._affine import (
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    flip_axis,
    keras_affine_matrix,
)
from augcore.keras._flows import Flows
from augcore.keras._image import DEFAULT_DATA_FORMAT
from augcore.keras._normalization import Normalization
from augcore.keras._random import rng_for
from augcore.keras._saving import SaveLedger, json_ready
from augcore.validation import FILL_MODES

# Constructor settings recorded with every saved image (as resolved: zoom_range as a pair).
_DESCRIBED_SETTINGS = (
    "featurewise_center", "samplewise_center", "featurewise_std_normalization",
    "samplewise_std_normalization", "zca_whitening", "zca_epsilon", "rotation_range",
    "width_shift_range", "height_shift_range", "brightness_range", "shear_range", "zoom_range",
    "channel_shift_range", "fill_mode", "cval", "horizontal_flip", "vertical_flip", "rescale",
    "data_format", "interpolation_order",
)  # fmt: skip


def _as_dtype(dtype: Any) -> np.dtype:
    """Accept what Keras accepts for ``dtype``: strings, numpy types, framework dtype objects."""
    if dtype is None:
        return np.dtype("float32")
    for candidate in (dtype, getattr(dtype, "as_numpy_dtype", None), getattr(dtype, "name", None)):
        if candidate is None:
            continue
        try:
            return np.dtype(candidate)
        except TypeError:
            continue
    raise ConfigError(f"dtype={dtype!r} is not a numpy dtype; use e.g. 'float32'.")


class ImageDataGenerator(Normalization, Flows):
    """Drop-in for ``keras.preprocessing.image.ImageDataGenerator`` (Keras >= 2.9 semantics).

    Every argument means what it means in Keras; ``fill_mode`` must be one of nearest, constant,
    reflect, wrap and ``interpolation_order`` 0 or 1 (the orders augcore's kernel implements).
    ``data_format=None`` is "channels_last" and ``dtype=None`` is "float32".
    """

    def __init__(
        self,
        featurewise_center: bool = False,
        samplewise_center: bool = False,
        featurewise_std_normalization: bool = False,
        samplewise_std_normalization: bool = False,
        zca_whitening: bool = False,
        zca_epsilon: float = 1e-6,
        rotation_range: float = 0,
        width_shift_range: Any = 0.0,
        height_shift_range: Any = 0.0,
        brightness_range: Any = None,
        shear_range: float = 0.0,
        zoom_range: Any = 0.0,
        channel_shift_range: float = 0.0,
        fill_mode: str = "nearest",
        cval: float = 0.0,
        horizontal_flip: bool = False,
        vertical_flip: bool = False,
        rescale: float | None = None,
        preprocessing_function: Callable[[np.ndarray], np.ndarray] | None = None,
        data_format: str | None = None,
        validation_split: float = 0.0,
        interpolation_order: int = 1,
        dtype: Any = None,
    ) -> None:
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        if fill_mode not in FILL_MODES:
            raise ConfigError(
                f"fill_mode must be one of {', '.join(FILL_MODES)}, got {fill_mode!r}."
            )
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = _as_dtype(dtype)
        if isinstance(interpolation_order, bool) or interpolation_order not in (0, 1):
            raise ConfigError(
                f"interpolation_order must be 0 (nearest) or 1 (bilinear), got "
                f"{interpolation_order!r}; higher spline orders are not supported."
            )
        self.interpolation_order = interpolation_order
        data_format = DEFAULT_DATA_FORMAT if data_format is None else data_format
        if data_format not in {"channels_last", "channels_first"}:
            raise ConfigError(
                '`data_format` should be `"channels_last"` (channel after row and column) or '
                '`"channels_first"` (channel before row and column). '
                f"Received: {data_format}"
            )
        self.data_format = data_format
        if self.data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        if validation_split and not 0 < validation_split < 1:
            raise ConfigError(
                "`validation_split` must be strictly between 0 and 1. "
                f" Received: {validation_split}"
            )
        self._validation_split = validation_split
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.zca_whitening_matrix: np.ndarray | None = None
        if isinstance(zoom_range, numbers.Real):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif (
            isinstance(zoom_range, Sized)
            and len(zoom_range) == 2
            and all(isinstance(val, numbers.Real) for val in zoom_range)
        ):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ConfigError(
                "`zoom_range` should be a float or a tuple or list of two floats. "
                f"Received: {zoom_range}"
            )
        self._resolve_overrides(zca_whitening, featurewise_center, featurewise_std_normalization)
        if brightness_range is not None and (
            not isinstance(brightness_range, (tuple, list)) or len(brightness_range) != 2
        ):
            raise ConfigError(
                "`brightness_range should be tuple or list of two floats. "
                f"Received: {brightness_range}"
            )
        self.brightness_range = brightness_range
        self.random_state = np.random.RandomState()
        self.save_ledger = SaveLedger()

    def _resolve_overrides(
        self, zca_whitening: bool, featurewise_center: bool, featurewise_std_normalization: bool
    ) -> None:
        """Keras's implied settings (ZCA and std imply centring), with its warnings."""
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening`, which overrides setting "
                    "of `featurewise_center`.",
                    stacklevel=3,
                )
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn(
                    "This ImageDataGenerator specifies `zca_whitening` which overrides setting "
                    "of `featurewise_std_normalization`.",
                    stacklevel=3,
                )
        if self.featurewise_std_normalization and not self.featurewise_center:
            self.featurewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `featurewise_std_normalization`, which "
                "overrides setting of `featurewise_center`.",
                stacklevel=3,
            )
        if self.samplewise_std_normalization and not self.samplewise_center:
            self.samplewise_center = True
            warnings.warn(
                "This ImageDataGenerator specifies `samplewise_std_normalization`, which "
                "overrides setting of `samplewise_center`.",
                stacklevel=3,
            )

    # --- random transforms -------------------------------------------------------------------
    def get_random_transform(self, img_shape: tuple[int, ...], seed: int | None = None) -> dict:
        """Keras's parameter draws; the same values as Keras for the same ``seed``.

        Without a seed they come from the batch being built (inside an iterator) or from this
        generator's own stream.
        """
        return self.draw_transform(img_shape, rng_for(seed, self.random_state))

    def draw_transform(self, img_shape: tuple[int, ...], rng: np.random.RandomState) -> dict:
        """Draw one image's parameters from ``rng`` in Keras's order (flips always drawn)."""
        img_row_axis = self.row_axis - 1
        img_col_axis = self.col_axis - 1
        theta = rng.uniform(-self.rotation_range, self.rotation_range) if self.rotation_range else 0
        tx = self._draw_shift(self.height_shift_range, img_shape[img_row_axis], rng)
        ty = self._draw_shift(self.width_shift_range, img_shape[img_col_axis], rng)
        shear = rng.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = rng.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (rng.random() < 0.5) * self.horizontal_flip
        flip_vertical = (rng.random() < 0.5) * self.vertical_flip
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = rng.uniform(
                -self.channel_shift_range, self.channel_shift_range
            )
        brightness = None
        if self.brightness_range is not None:
            brightness = rng.uniform(self.brightness_range[0], self.brightness_range[1])
        return {
            "theta": theta,
            "tx": tx,
            "ty": ty,
            "shear": shear,
            "zx": zx,
            "zy": zy,
            "flip_horizontal": flip_horizontal,
            "flip_vertical": flip_vertical,
            "channel_shift_intensity": channel_shift_intensity,
            "brightness": brightness,
        }

    @staticmethod
    def _draw_shift(shift_range: Any, size: int, rng: np.random.RandomState) -> Any:
        """Keras's shift rule: choice for ints/lists, uniform for floats, fractions of ``size``."""
        if not shift_range:
            return 0
        if isinstance(shift_range, float):  # Keras tries choice() first, which draws nothing
            shift = rng.uniform(-shift_range, shift_range)
            return shift * size if shift_range < 1 else shift
        try:  # an int or a 1-D list: a choice, with a random sign
            shift = rng.choice(shift_range)
            shift *= rng.choice([-1, 1])
        except ValueError:  # a float-like value choice() rejects
            shift = rng.uniform(-shift_range, shift_range)
        if np.max(shift_range) < 1:
            shift *= size
        return shift

    def pull_matrix(self, img_shape: tuple[int, ...], params: dict) -> np.ndarray | None:
        """The 3x3 matrix apply_transform hands the kernel for ``params`` (None: no warp)."""
        return keras_affine_matrix(
            params.get("theta", 0),
            params.get("tx", 0),
            params.get("ty", 0),
            params.get("shear", 0),
            params.get("zx", 1),
            params.get("zy", 1),
            img_shape[self.row_axis - 1],
            img_shape[self.col_axis - 1],
        )

    def apply_transform(self, x: np.ndarray, transform_parameters: dict) -> np.ndarray:
        """Warp, channel shift, flips, brightness: Keras's order and results."""
        img_channel_axis = self.channel_axis - 1
        x = apply_affine_transform(
            x,
            transform_parameters.get("theta", 0),
            transform_parameters.get("tx", 0),
            transform_parameters.get("ty", 0),
            transform_parameters.get("shear", 0),
            transform_parameters.get("zx", 1),
            transform_parameters.get("zy", 1),
            row_axis=self.row_axis - 1,
            col_axis=self.col_axis - 1,
            channel_axis=img_channel_axis,
            fill_mode=self.fill_mode,
            cval=self.cval,
            order=self.interpolation_order,
        )
        if transform_parameters.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(
                x, transform_parameters["channel_shift_intensity"], img_channel_axis
            )
        if transform_parameters.get("flip_horizontal", False):
            x = flip_axis(x, self.col_axis - 1)
        if transform_parameters.get("flip_vertical", False):
            x = flip_axis(x, self.row_axis - 1)
        if transform_parameters.get("brightness") is not None:
            x = self._shift_brightness(x, transform_parameters["brightness"], img_channel_axis)
        return x

    @staticmethod
    def _shift_brightness(x: np.ndarray, brightness: float, channel_axis: int) -> np.ndarray:
        """Keras hands the array to PIL as channels_last whatever ``data_format`` says.

        PIL's brightness is per value (alpha kept), so the layout only matters for which axis
        counts as channels. Where Keras accepts the array (1, 3 or 4 on the last axis) it is
        used as Keras uses it; otherwise Keras raises "Unsupported channel number", and here
        the channels are moved last and back instead (channels_first images of other widths).
        """
        if x.shape[-1] in (1, 3, 4):
            return apply_brightness_shift(x, brightness, False)
        channels_last = np.moveaxis(x, channel_axis, -1)
        return np.moveaxis(
            apply_brightness_shift(channels_last, brightness, False), -1, channel_axis
        )

    def random_transform(self, x: np.ndarray, seed: int | None = None) -> np.ndarray:
        """``apply_transform(x, get_random_transform(x.shape, seed))``."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def describe(self) -> dict[str, Any]:
        """This generator's settings as JSON-able data (for the save_to_dir manifest)."""
        settings = {name: getattr(self, name) for name in _DESCRIBED_SETTINGS}
        function = self.preprocessing_function
        settings["preprocessing_function"] = (
            None if function is None else getattr(function, "__qualname__", repr(function))
        )
        settings["validation_split"] = self._validation_split
        settings["dtype"] = self.dtype.name
        return json_ready(settings)
