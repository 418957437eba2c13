"""One output per call, bit for bit a batch of one, without numpy's per-call overhead (the
common case: runs that keep the canvas, affine maps, no box reduce).

``augment`` and ``pipeline(image)`` make one image at a time, inside a training loop's
``__getitem__``, where a batch path's fixed costs dominate: about 10 us for each hash on a
1-element numpy array, and as much again for every tiny matrix product. This module makes the
same output with the same numbers, cheaply:

- draws are hashed on Python ints (``seeding.OneDraws``, ``output_root``, ``key_hash``), and
  gates too (``CompiledChain.fired_one``);
- only the steps that fire are sampled (a batch samples every step for every output; the
  values of a step that does not fire are never used);
- a geometric transform with the optional scalar hooks (``sample_one`` and ``affine_one``,
  docs/plugins.md) samples and makes its matrix on Python floats; one without them is called
  through its vectorised contract with n = 1 (``sample``, ``matrices``) and checked as in a
  batch. Pixel transforms always get their arrays (``apply``);
- a run's matrices are composed on Python floats in exactly ``transform.compose``'s order of
  operations, a step that did not fire contributing the identity as in the batch path, so the
  fused matrix and the warp are bit-identical; the warp enters the kernel without re-checking
  what the host has checked (``_warp_checks.warp_trusted``);
- the record is built only when asked for (``OneResult.record``; most training loops never
  read it).

What this path does not do, it hands back: ``augment_one`` returns None when a run's fused map
is projective or shrinks by 2 or more (box reduce), and the pipeline then makes the output with
the batch code (``augcore.fusion``), draws still hashed on Python ints. Chains that change the
canvas go there directly. tests/test_embedding.py checks outputs and records against
``augment_batch`` for chains with every kind of group, p and transform;
tests/test_one_hooks.py checks each built-in's hooks against its batch methods.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from augcore._warp_checks import warp_trusted
from augcore.chain import CompiledChain, Leaf
from augcore.config import WarpOptions
from augcore.contract import checked_matrices, checked_params, checked_rows
from augcore.fusion import NO_REDUCE
from augcore.pixels import apply_pixels, sample_shape
from augcore.record import AppliedStep, FusedRun, Record
from augcore.reduce import reduce_factors_batch
from augcore.seeding import OneDraws, key_hash, output_root
from augcore.transform import AffineRows, GeometricTransform, ImageShape, PixelTransform, Values
from augcore.validation import FILL_MODES

_IDENTITY: AffineRows = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
_LAST_ROW = [0.0, 0.0, 1.0]

# Below this, floor(np.hypot(...)) cannot reach 2 whatever math.hypot's last bit: no box reduce.
_SURELY_NO_REDUCE = 1.999


class OneResult:
    """What one call applied, kept as plain values; ``record()`` builds the ``Record``."""

    __slots__ = ("_applied", "_identity", "_runs")

    def __init__(self, seed: int, key: str, k: int) -> None:
        self._identity = (seed, key, k)
        self._applied: list[tuple[Leaf, Values]] = []
        self._runs: list[tuple[int, int, AffineRows]] = []  # steps [first, end) and the map

    def record(self) -> Record:
        record = Record(*self._identity)
        for leaf, values in self._applied:
            record.steps.append(
                AppliedStep(name=leaf.step.transform.name, step=leaf.position, params=values)
            )
        for first, end, rows in self._runs:
            matrix = [list(rows[:3]), list(rows[3:]), list(_LAST_ROW)]
            record.fused.append(FusedRun(steps=list(range(first, end)), matrix=matrix))
        return record


def augment_one(
    chain: CompiledChain, warp: WarpOptions, image: np.ndarray, seed: int, key: str, k: int
) -> tuple[np.ndarray, OneResult] | None:
    """Output ``(seed, key, k)`` of a checked (H, W[, C]) image whose chain keeps its canvas,
    and what was applied; None when a run needs the batch code (a projective map, a box
    reduce)."""
    root = output_root(seed, key_hash(key), k)
    shape = image.shape
    fired = chain.fired_one(root)
    result = OneResult(seed, key, k)
    applied = result._applied
    kernel_options = (warp.order, FILL_MODES.index(warp.fill_mode), float(warp.cval))
    out = image
    for segment in chain.segments:
        first = len(applied)
        fused: AffineRows | None = None
        for index in segment.leaves:
            leaf = chain.leaves[index]
            if not fired[index]:
                if segment.geometric:
                    fused = _IDENTITY if fused is None else _compose(fused, _IDENTITY)
                continue
            transform = leaf.step.transform
            draws = OneDraws.for_domain(root, leaf.param_domain)
            if isinstance(transform, PixelTransform):
                params = _sampled(transform, draws, sample_shape(transform, shape))
                applied.append((leaf, {name: v.tolist()[0] for name, v in params.items()}))
                out = apply_pixels(transform, out[None], params)[0]
                continue
            values, rows = _geometric(transform, draws, shape)
            if rows is None:
                return None
            applied.append((leaf, values))
            fused = rows if fused is None else _compose(fused, rows)
        if fused is not None and len(applied) > first:
            if _may_reduce(fused, shape):
                return None
            out = warp_trusted(out, np.array(fused).reshape(1, 2, 3), kernel_options)
            result._runs.append((first, len(applied), fused))
    return (image.copy() if out is image else out), result


def _sampled(transform: Any, draws: OneDraws, shape: ImageShape) -> dict[str, np.ndarray]:
    return checked_params(transform, transform.sample(draws, shape), 1)


def _geometric(
    transform: GeometricTransform, draws: OneDraws, shape: ImageShape
) -> tuple[Values, AffineRows | None]:
    """A fired geometric step's record values and affine rows (None when projective): from
    its scalar hooks when it has them, else from ``sample`` and ``matrices`` with n = 1."""
    kind = type(transform)
    if _has_affine_one(kind):
        if _has_sample_one(kind):
            values = transform.sample_one(draws, shape)
        else:
            values = {k: v.tolist()[0] for k, v in _sampled(transform, draws, shape).items()}
        return values, checked_rows(transform, transform.affine_one(values, shape))
    params = _sampled(transform, draws, shape)
    values = {name: v.tolist()[0] for name, v in params.items()}
    top, middle, last = checked_matrices(transform, transform.matrices(1, params, shape), 1)[0]
    if last.tolist() != _LAST_ROW:
        return values, None
    return values, (*top.tolist(), *middle.tolist())  # type: ignore[return-value]


@functools.cache
def _has_affine_one(kind: type[GeometricTransform]) -> bool:
    return kind.affine_one is not GeometricTransform.affine_one


@functools.cache
def _has_sample_one(kind: type[GeometricTransform]) -> bool:
    return kind.sample_one is not GeometricTransform.sample_one


def _may_reduce(rows: AffineRows, shape: tuple[int, ...]) -> bool:
    """Whether the batch code would box-reduce first (exactly as ``reduce_factors_batch``)."""
    if max(math.hypot(rows[0], rows[1]), math.hypot(rows[3], rows[4])) < _SURELY_NO_REDUCE:
        return False
    matrix = [list(rows[:3]), list(rows[3:]), _LAST_ROW]
    factors = reduce_factors_batch(np.array([matrix]), (shape[0], shape[1]))
    return tuple(factors[0].tolist()) != NO_REDUCE


def _compose(a: AffineRows, b: AffineRows) -> AffineRows:
    """``transform.compose`` of two affine maps, on floats, in its exact order of operations."""
    a00, a01, a02, a10, a11, a12 = a
    b00, b01, b02, b10, b11, b12 = b
    return (
        a00 * b00 + a01 * b10,
        a00 * b01 + a01 * b11,
        a00 * b02 + a01 * b12 + a02,
        a10 * b00 + a11 * b10,
        a10 * b01 + a11 * b11,
        a10 * b02 + a11 * b12 + a12,
    )
