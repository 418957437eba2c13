"""One output per call, bit for bit a batch of one, without numpy's per-call overhead (the
common case: runs that keep the canvas, affine maps, no box reduce).

``augment`` and ``pipeline(image)`` make one image at a time, inside a training loop's
``__getitem__``, where a batch path's fixed costs dominate: about 10 us for each hash on a
1-element numpy array, and as much again for every tiny matrix product. This module makes the
same output with the same numbers, cheaply:

- draws are hashed on Python ints (``seeding.OneDraws``, ``output_root``, ``key_hash``);
- transforms are still called through their vectorised contract with n = 1 (``sample``,
  ``matrices``, ``apply``), so plugins need nothing special and are checked as in a batch;
- only the steps that fire are sampled (a batch samples every step for every output; the
  values of a step that does not fire are never used);
- a run's matrices are composed on Python floats in exactly ``transform.compose``'s order of
  operations, a step that did not fire contributing the identity as in the batch path, so the
  fused matrix and the warp are bit-identical;
- the record is built directly instead of through a ``RecordSequence``.

What this path does not do, it hands back: ``augment_one`` returns None when a run's fused map
is projective or shrinks by 2 or more (box reduce), and the pipeline then makes the output with
the batch code (``augcore.fusion``), draws still hashed on Python ints. Chains that change the
canvas go there directly. tests/test_embedding.py checks outputs and records against
``augment_batch`` for chains with every kind of group, p and transform.
"""

from __future__ import annotations

import math

import numpy as np

from augcore.chain import CompiledChain
from augcore.config import WarpOptions
from augcore.contract import checked_matrices, checked_params
from augcore.fusion import NO_REDUCE, shrink_factors
from augcore.pixels import apply_pixels, sample_shape
from augcore.record import AppliedStep, FusedRun, Record
from augcore.seeding import OneDraws, key_hash, output_root
from augcore.transform import PixelTransform
from augcore.warp import warp_affine

#: The top two rows of an affine pull map, row-major: m00 m01 m02 m10 m11 m12.
Rows = tuple[float, float, float, float, float, float]
_IDENTITY: Rows = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


# Below this, floor(np.hypot(...)) cannot reach 2 whatever math.hypot's last bit: no box reduce.
_SURELY_NO_REDUCE = 1.999


def augment_one(
    chain: CompiledChain, warp: WarpOptions, image: np.ndarray, seed: int, key: str, k: int
) -> tuple[np.ndarray, Record] | None:
    """Output ``(seed, key, k)`` of a checked (H, W[, C]) image whose chain keeps its canvas,
    and its record; None when a run needs the batch code (a projective map, a box reduce)."""
    root = output_root(seed, key_hash(key), k)
    shape = image.shape
    fired = chain.fired(root)
    record = Record(seed, key, k)
    out = image
    for segment in chain.segments:
        first = len(record.steps)
        fused: Rows | None = None
        for index in segment.leaves:
            leaf = chain.leaves[index]
            transform = leaf.step.transform
            if not fired[index][0]:
                if segment.geometric:
                    fused = _IDENTITY if fused is None else _compose(fused, _IDENTITY)
                continue
            draws = OneDraws.for_domain(root, leaf.param_domain)
            params = checked_params(
                transform, transform.sample(draws, sample_shape(transform, shape)), 1
            )
            record.steps.append(
                AppliedStep(
                    name=transform.name,
                    step=leaf.position,
                    params={name: values.tolist()[0] for name, values in params.items()},
                )
            )
            if isinstance(transform, PixelTransform):
                out = apply_pixels(transform, out[None], params)[0]
                continue
            rows = _rows(checked_matrices(transform, transform.matrices(1, params, shape), 1))
            if rows is None:
                return None
            fused = rows if fused is None else _compose(fused, rows)
        if fused is not None and len(record.steps) > first:
            matrix = [list(fused[:3]), list(fused[3:]), [0.0, 0.0, 1.0]]
            if _may_reduce(fused, matrix, shape):
                return None
            out = warp_affine(
                out, np.array(matrix), order=warp.order, fill_mode=warp.fill_mode, cval=warp.cval
            )
            applied = list(range(first, len(record.steps)))
            record.fused.append(FusedRun(steps=applied, matrix=matrix))
    return (image.copy() if out is image else out), record


def _rows(matrices: np.ndarray) -> Rows | None:
    """The top rows of a (1, 3, 3) affine map; None for a projective one."""
    top, middle, last = matrices.tolist()[0]
    if last != [0.0, 0.0, 1.0]:
        return None
    return (top[0], top[1], top[2], middle[0], middle[1], middle[2])


def _may_reduce(rows: Rows, matrix: list[list[float]], shape: tuple[int, ...]) -> bool:
    """Whether the batch code would box-reduce first (``fusion.shrink_factors``, exactly)."""
    if max(math.hypot(rows[0], rows[1]), math.hypot(rows[3], rows[4])) < _SURELY_NO_REDUCE:
        return False
    factors = shrink_factors(np.array([matrix]), (shape[0], shape[1]))
    return tuple(factors[0].tolist()) != NO_REDUCE


def _compose(a: Rows, b: Rows) -> Rows:
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
