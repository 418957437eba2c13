"""``ImageDataGenerator.standardize`` and ``fit``: Keras's normalization and its statistics.

Same operations in the same order as Keras 3's legacy generator (preprocessing function,
rescale, samplewise then featurewise centring and std, ZCA), in place where Keras works in place,
with Keras's warnings when a featurewise setting is used before ``fit``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from augcore.errors import ImageShapeError
from augcore.keras._random import drawing_from, rng_for


class Normalization:
    """The normalization half of ``ImageDataGenerator`` (a base class; settings live there)."""

    preprocessing_function: Callable[[np.ndarray], np.ndarray] | None
    rescale: float | None
    samplewise_center: bool
    samplewise_std_normalization: bool
    featurewise_center: bool
    featurewise_std_normalization: bool
    zca_whitening: bool
    zca_epsilon: float
    mean: np.ndarray | None
    std: np.ndarray | None
    zca_whitening_matrix: np.ndarray | None
    dtype: np.dtype
    data_format: str
    channel_axis: int
    row_axis: int
    col_axis: int
    random_state: np.random.RandomState
    random_transform: Callable[..., np.ndarray]

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Keras's normalization, in place where Keras does it in place."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                self._warn_not_fit("featurewise_center")
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                self._warn_not_fit("featurewise_std_normalization")
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat_x = x.reshape(-1, math.prod(x.shape[-3:]))
                x = np.reshape(flat_x @ self.zca_whitening_matrix, x.shape)
            else:
                self._warn_not_fit("zca_whitening")
        return x

    @staticmethod
    def _warn_not_fit(setting: str) -> None:
        warnings.warn(
            f"This ImageDataGenerator specifies `{setting}`, but it hasn't been fit on any "
            "training data. Fit it first by calling `.fit(numpy_data)`.",
            stacklevel=3,
        )

    def fit(self, x: Any, augment: bool = False, rounds: int = 1, seed: int | None = None) -> None:
        """Compute the featurewise mean/std and the ZCA matrix from sample data (rank 4)."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ImageShapeError(
                f"Input to `.fit()` should have rank 4. Got array with shape: {x.shape}"
            )
        if x.shape[self.channel_axis] not in {1, 3, 4}:
            warnings.warn(
                "Expected input to be images (as Numpy array) following the data format "
                f'convention "{self.data_format}" (channels on axis {self.channel_axis}), i.e. '
                f"expected either 1, 3 or 4 channels on axis {self.channel_axis}. However, it "
                f"was passed an array with shape {x.shape} ({x.shape[self.channel_axis]} "
                "channels).",
                stacklevel=2,
            )
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            ax = np.zeros((rounds * x.shape[0], *x.shape[1:]), dtype=self.dtype)
            # Keras seeds the global RNG here and draws every round from it
            with drawing_from(rng_for(seed, self.random_state)):
                for r in range(rounds):
                    for i in range(x.shape[0]):
                        ax[i + r * x.shape[0]] = self.random_transform(x[i])
            x = ax
        broadcast_shape = [1, 1, 1]
        broadcast_shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.reshape(
                np.mean(x, axis=(0, self.row_axis, self.col_axis)), broadcast_shape
            )
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(
                np.std(x, axis=(0, self.row_axis, self.col_axis)), broadcast_shape
            )
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            flat_x = np.reshape(x, (n, -1))
            u, s, _ = np.linalg.svd(flat_x.T, full_matrices=False)
            s_inv = np.sqrt(n) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * s_inv).dot(u.T)
