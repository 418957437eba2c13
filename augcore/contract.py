"""What the host checks in everything a transform hands back: params, matrices, pixels.

Plugins are third-party code; a wrong dtype or shape caught here is a ``PluginContractError``
naming the transform, its module and its distribution, instead of a numpy error deep inside a
warp or a record that does not survive its JSON round trip. The contract itself is documented
on ``augcore.Transform`` (``sample``, ``matrices``, ``apply``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from augcore.errors import PluginContractError
from augcore.manager import describe_transform
from augcore.transform import RECORDABLE_DTYPES, Params, Transform


def checked_params(transform: Transform, params: Any, n: int) -> Params:
    """Sampled params must be arrays of length n with a dtype that round-trips through JSON."""
    if not isinstance(params, dict):
        raise PluginContractError(
            f"{describe_transform(transform)}: sample() must return a dict of arrays"
        )
    for key, value in params.items():
        if (
            not isinstance(value, np.ndarray)
            or value.ndim < 1
            or value.shape[0] != n
            or value.dtype not in RECORDABLE_DTYPES
        ):
            raise PluginContractError(
                f"{describe_transform(transform)}: sampled parameter "
                f"{key!r} must be a float64, int64 or bool array with first axis {n} (so it "
                f"survives the record's JSON round trip), got {value!r:.80}"
            )
    return params


def checked_matrices(transform: Transform, matrices: Any, n: int) -> np.ndarray:
    """Pull maps must be float64 (n, 3, 3) and affine (every last row [0, 0, 1])."""
    if (
        not isinstance(matrices, np.ndarray)
        or matrices.shape != (n, 3, 3)
        or matrices.dtype != np.float64
    ):
        raise PluginContractError(
            f"{describe_transform(transform)}: matrices() must return a float64 "
            f"array of shape ({n}, 3, 3), got {getattr(matrices, 'shape', type(matrices))}"
        )
    if n == 1:  # one output (augment): a list comparison costs far less than numpy reductions
        affine = matrices[0, 2].tolist() == [0.0, 0.0, 1.0]
    else:
        affine = not (matrices[:, 2, :2].any() or (matrices[:, 2, 2] != 1.0).any())
    if not affine:
        raise PluginContractError(
            f"{describe_transform(transform)}: matrices() must be affine, every last row [0, 0, 1]"
        )
    return matrices


def checked_pixels(transform: Transform, changed: Any, given: np.ndarray) -> np.ndarray:
    """``apply`` must return an array of the shape and dtype of the images it was given."""
    if (
        not isinstance(changed, np.ndarray)
        or changed.shape != given.shape
        or changed.dtype != given.dtype
    ):
        got = f"{getattr(changed, 'shape', None)} {getattr(changed, 'dtype', type(changed))}"
        raise PluginContractError(
            f"{describe_transform(transform)}: apply() must return an array of shape "
            f"{given.shape} and dtype {given.dtype}, got {got}"
        )
    return changed
