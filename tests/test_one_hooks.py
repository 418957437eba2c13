"""The optional one-output hooks (``sample_one``, ``affine_one``) give the batch's bits.

Oracles: each transform's own vectorised ``sample`` (on numpy ``Draws``, not the scalar
``OneDraws``) and ``matrices``; ``augment_batch`` for whole chains; and the same chain with
the hooks taken away (what a plugin without them runs), which must give identical outputs.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

import augcore
from augcore.chain import CompiledChain
from augcore.errors import PluginContractError
from augcore.seeding import Draws, OneDraws, key_hash, output_root
from augcore.transform import GeometricTransform

RNG = np.random.default_rng(21)
SHAPES = [(28, 28, 3), (17, 40), (256, 255, 4), (1, 1, 3)]
HOOKED = [
    augcore.Rotate(degrees=180),
    augcore.Rotate(degrees=[-0.5, 3]),
    augcore.Shift(x=0.3, y=[-0.2, 0.1]),
    augcore.Shift(x=[-7, 7], y=3, unit="pixels"),
    augcore.Shear(degrees=60),
    augcore.Zoom(factor=0.5),
    augcore.Zoom(factor=[0.8, 1.3], per_axis=True),
    augcore.FlipHorizontal(),
    augcore.FlipVertical(),
]


def _bits(values: object) -> object:
    """Floats as their 8 bytes (so -0.0 != 0.0 and every last bit counts), recursively."""
    if isinstance(values, float):
        return struct.pack("<d", values)
    if isinstance(values, dict):
        return {name: _bits(value) for name, value in values.items()}
    if isinstance(values, (list, tuple)):
        return [_bits(value) for value in values]
    return values


@pytest.mark.parametrize("transform", HOOKED, ids=repr)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_hooks_equal_sample_and_matrices_bit_for_bit(
    transform: GeometricTransform, shape: tuple[int, ...]
) -> None:
    roots = RNG.integers(0, 2**63, 300, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    batch = transform.sample(Draws.for_domain(roots, 6), shape)
    matrices = transform.matrices(len(roots), batch, shape)
    for i, root in enumerate(roots.tolist()):
        values = transform.sample_one(OneDraws.for_domain(root, 6), shape)
        assert _bits(values) == _bits({name: array.tolist()[i] for name, array in batch.items()})
        rows = transform.affine_one(values, shape)
        assert _bits(rows) == _bits(matrices[i, :2].ravel().tolist())
        assert matrices[i, 2].tolist() == [0.0, 0.0, 1.0]


class _Plain(GeometricTransform):
    """A built-in's behaviour without its hooks: what a plugin that has none runs."""

    sample_one = GeometricTransform.sample_one
    affine_one = GeometricTransform.affine_one


def _without_hooks(transform: GeometricTransform) -> GeometricTransform:
    kind = type(f"Plain{type(transform).__name__}", (_Plain, type(transform)), {})
    return kind(**transform.options, p=transform.p)


@pytest.mark.parametrize("order, fill_mode", [(0, "nearest"), (1, "reflect"), (1, "constant")])
def test_a_chain_without_hooks_gives_the_same_bits(order: int, fill_mode: str) -> None:
    chain = [
        augcore.Rotate(degrees=40),
        augcore.Shift(x=0.2, y=0.2, p=0.7),
        augcore.Shear(degrees=20, p=0.5),
        augcore.Brightness(p=0.5),
        augcore.Zoom(factor=0.2, per_axis=True),
        augcore.FlipHorizontal(p=0.5),
    ]
    plain = [t if isinstance(t, augcore.Brightness) else _without_hooks(t) for t in chain]
    assert all(type(t).affine_one is GeometricTransform.affine_one for t in plain[:3])
    hooked = augcore.Pipeline(chain, order=order, fill_mode=fill_mode, cval=7)
    unhooked = augcore.Pipeline(plain, order=order, fill_mode=fill_mode, cval=7)
    image = RNG.integers(0, 256, (24, 31, 3), dtype=np.uint8)
    outs, records = hooked.augment_batch(
        np.stack([image] * 2), seed=9, keys=["x", "y"], per_image=8
    )
    for index in range(16):
        key, k = "xy"[index // 8], index % 8
        out, record = hooked.augment(image, seed=9, key=key, k=k)
        plain_out, plain_record = unhooked.augment(image, seed=9, key=key, k=k)
        assert np.array_equal(out, outs[index]) and np.array_equal(out, plain_out)
        assert json.dumps(record.to_dict()) == json.dumps(records[index].to_dict())
        assert json.dumps(record.to_dict()["fused"]) == json.dumps(plain_record.to_dict()["fused"])


def test_fired_one_equals_fired_for_a_chain_without_groups() -> None:
    chain = CompiledChain([augcore.Step(augcore.Rotate(), p=p) for p in (0.0, 0.1, 0.5, 0.93, 1.0)])
    for k in range(200):
        root = output_root(3, key_hash("a"), k)
        assert chain.fired_one(root) == [bool(mask[0]) for mask in chain.fired(root)]


class _BadRows(augcore.Rotate):
    name = "bad_rows"

    def affine_one(self, values, shape):  # type: ignore[no-untyped-def]
        return (1.0, 0.0, float("nan"), 0.0, 1.0, 0.0)


def test_a_bad_affine_one_is_a_contract_error_naming_the_transform() -> None:
    pipeline = augcore.Pipeline([_BadRows()])
    with pytest.raises(PluginContractError, match=r"bad_rows.*affine_one"):
        pipeline.augment(np.zeros((8, 8), np.uint8), seed=0, key="a")
