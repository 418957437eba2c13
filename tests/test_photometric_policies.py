"""RandAugment, TrivialAugmentWide and AutoAugment against torchvision's own tables and ops.

tests/data/torchvision/policies.json holds the op sets, magnitude tables (for a 224 x 160
image), signs and the ImageNet policy, read from torchvision's classes by
tests/make_torchvision_goldens.py; photometric.npz holds torchvision's geometric policy
operations on a photograph. No torch is needed here.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from augcore.plugins import policies
from augcore.plugins.geometric import Rotate
from augcore.plugins.policy_ops import OPS

import augcore

GOLDENS = Path(__file__).parent / "data" / "torchvision"
TABLES = json.loads((GOLDENS / "policies.json").read_text())
FIXTURES = dict(np.load(GOLDENS / "photometric.npz"))
SHAPE = tuple(TABLES["image_size"])
PARAMETERLESS = {"Identity": "identity", "AutoContrast": "autocontrast",
                 "Equalize": "equalize", "Invert": "invert"}  # fmt: skip
NAMES = {**PARAMETERLESS, **{op: cls.name for op, cls in OPS.items()}}
RNG = np.random.default_rng(7)
IMAGES = RNG.integers(0, 256, (4, 28, 36, 3), dtype=np.uint8)


def check_members(members: list[augcore.Step], space: dict, policy: str, bins: int) -> None:
    """Each member is the op of the golden space with torchvision's table and sign.

    Members are in chain order (geometric first, so they fuse with the steps before)."""
    order = policies.members_in_chain_order()
    assert sorted(order) == sorted(space["order"])
    assert [step.transform.name for step in members] == [NAMES[op] for op in order]
    for op, step in zip(order, members, strict=True):
        entry = space[op]
        if entry["magnitudes"] is None:
            assert step.transform.params == ()
            continue
        transform = step.transform
        assert transform.options["policy"] == policy and transform.options["num_bins"] == bins
        table = transform.table(SHAPE).astype(np.float64).tolist()
        assert table == entry["magnitudes"], op  # bit for bit
        assert transform.signed == entry["signed"], op


@pytest.mark.parametrize("bins", [31, 10])
def test_rand_augment_is_torchvisions_op_set_tables_and_bin(bins) -> None:
    group = policies.rand_augment(n=3, m=bins - 1, num_magnitude_bins=bins)
    assert isinstance(group, augcore.SomeOf) and group.n == (3, 3) and len(group.members) == 3
    for slot in group.members:  # independent slots: an op may repeat, as in torchvision
        assert isinstance(slot, augcore.OneOf) and slot.weights is None
        check_members(list(slot.members), TABLES["rand_augment"][str(bins)], "rand_augment", bins)
        magnitudes = [s.transform.options["bin"] for s in slot.members if s.transform.params]
        assert set(magnitudes) == {(bins - 1, bins - 1)}


def test_trivial_augment_is_torchvisions_op_set_tables_and_uniform_bins() -> None:
    group = policies.trivial_augment()
    assert isinstance(group, augcore.OneOf) and group.weights is None
    check_members(list(group.members), TABLES["trivial_augment"]["31"], "trivial_augment", 31)
    assert all(s.transform.options["bin"] == (0, 30) for s in group.members if s.transform.params)


def test_auto_augment_is_torchvisions_imagenet_policy() -> None:
    group = policies.auto_augment()
    space = TABLES["auto_augment"]["space"]
    assert isinstance(group, augcore.OneOf) and group.weights is None
    assert len(group.members) == len(TABLES["auto_augment"]["imagenet"]) == 25
    for sub_policy, pair in zip(group.members, TABLES["auto_augment"]["imagenet"], strict=True):
        assert isinstance(sub_policy, augcore.SomeOf) and sub_policy.n == (2, 2)
        for step, (op, probability, level) in zip(sub_policy.members, pair, strict=True):
            assert step.transform.name == NAMES[op] and step.p == probability
            if level is not None:
                transform = step.transform
                assert transform.options["bin"] == (level, level)
                assert transform.table(SHAPE).astype(np.float64).tolist() == space[op]["magnitudes"]


def test_trivial_augment_draws_ops_bins_and_signs_uniformly() -> None:
    pipeline = augcore.Pipeline([policies.trivial_augment()])
    images = np.zeros((500, 8, 8, 3), np.uint8)
    _, records = pipeline.augment_batch(images, seed=0, per_image=4)
    fired = [record.steps for record in records]
    assert all(len(steps) == 1 for steps in fired)  # exactly one op per output
    ops = Counter(steps[0]["name"] for steps in fired)
    assert set(ops) == {NAMES[op] for op in policies.OP_SET}
    assert all(100 < count < 190 for count in ops.values())  # 2000 / 14 = 143 each
    bins = Counter(steps[0]["params"]["bin"] for steps in fired if steps[0]["params"])
    assert set(bins) == set(range(31))
    signs = [steps[0]["params"]["magnitude"] < 0 for steps in fired
             if steps[0]["name"] == "policy_rotate" and steps[0]["params"]["bin"]]  # fmt: skip
    assert 0.3 < np.mean(signs) < 0.7


def test_auto_augment_fires_each_member_with_its_probability() -> None:
    pipeline = augcore.Pipeline([policies.auto_augment()])
    _, records = pipeline.augment_batch(np.zeros((1000, 6, 6), np.uint8), seed=1, per_image=5)
    # Sub-policy 3 is (Posterize 0.6 bin 7, Posterize 0.6 bin 6): bins tell the members apart.
    counts = Counter(len(record.steps) for record in records)
    assert counts[0] > 0 and counts[2] > 0
    posterize = [step["params"]["bin"] for record in records for step in record.steps
                 if step["name"] == "policy_posterize"]  # fmt: skip
    assert set(posterize) == {8, 7, 6, 5}


@pytest.mark.parametrize("key", sorted(key for key in FIXTURES if key.startswith("policy/")))
def test_geometric_policy_ops_are_torchvisions_affine(key) -> None:
    """Equal to torchvision's nearest affine except where the two round differently.

    torchvision's grid_sample rounds a .5 tie to even and keeps a source coordinate that rounds
    into the image; augcore's kernel rounds ties up and fills (constant mode) whatever lies
    outside [0, n - 1], as scipy does. Every other pixel must be equal.
    """
    _, image_name, _, op, magnitude = key.split("/")
    image = FIXTURES[f"input/{image_name}"]
    transform = OPS[op](policy="trivial_augment", num_bins=31, bin=[0, 0])
    pipeline = augcore.Pipeline([transform], fill_mode="constant", cval=0)
    params = {"bin": 0, "magnitude": float(magnitude)}
    record = {"seed": 0, "key": "t", "k": 0,
              "steps": [{"name": transform.name, "step": 0, "params": params}],
              "fused": [{"steps": [0], "matrix": np.eye(3).tolist()}]}  # fmt: skip
    ours = pipeline.apply_record(image, record)
    matrix = transform.matrices(1, {"magnitude": np.array([float(magnitude)])}, image.shape)[0]
    rows, cols = np.mgrid[: image.shape[0], : image.shape[1]]
    source = np.einsum("ij,jhw->ihw", matrix[:2], np.stack([rows, cols, np.ones_like(rows)]))
    tie = np.any(np.abs(np.abs(source - np.floor(source)) - 0.5) < 1e-6, axis=0)
    limits = np.array(image.shape[:2]).reshape(2, 1, 1) - 1
    border = np.any((source < 0) & (source > -0.5) | (source > limits) & (source < limits + 0.5), 0)
    differ = np.any(ours != FIXTURES[key], axis=2)
    assert not (differ & ~tie & ~border).any(), f"{key}: {int((differ & ~tie & ~border).sum())}"
    assert differ.mean() < 0.12


def test_a_policy_chain_replays_exactly_from_the_manifest(tmp_path) -> None:
    chain = augcore.Pipeline(
        [Rotate(degrees=10), policies.rand_augment(n=2, m=9),
         policies.trivial_augment(), policies.auto_augment()],
        fill_mode="constant",
    )  # fmt: skip
    outs, records = chain.augment_batch(IMAGES, seed=11, per_image=3)
    manifest = tmp_path / "records.jsonl"
    manifest.write_text("".join(json.dumps(r.to_dict()) + "\n" for r in records))
    for i, line in enumerate(manifest.read_text().splitlines()):
        np.testing.assert_array_equal(chain.apply_record(IMAGES[i // 3], json.loads(line)), outs[i])


def test_a_geometric_policy_op_fuses_with_the_geometric_step_before_it() -> None:
    chain = augcore.Pipeline(
        [Rotate(degrees=10), policies.trivial_augment()]
    )
    _, records = chain.augment_batch(IMAGES, seed=2, per_image=50)
    geometric = {NAMES[op] for op in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate")}
    fused = [r for r in records if r.steps[1]["name"] in geometric]
    assert fused and all(r.fused == [r.fused[0]] and r.fused[0]["steps"] == [0, 1] for r in fused)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"rand_augment": {"n": 15}}, "'n' got 15"),
        ({"rand_augment": {"n": 0}}, "'n' got 0"),
        ({"rand_augment": {"m": 31}}, "'m' got 31"),
        ({"rand_augment": {"num_magnitude_bins": 1}}, "'num_magnitude_bins' got 1"),
        ({"trivial_augment": {"bins": 3}}, "unknown parameter 'bins'"),
        ({"auto_augment": {"policy": "cifar10"}}, "unknown parameter 'policy'"),
    ],
)
def test_bad_policy_parameters_are_config_errors_naming_step_and_parameter(entry, message):
    with pytest.raises(augcore.ConfigError, match=r"steps\[0\] \(\w+\): .*" + message):
        augcore.Pipeline.from_config({"steps": [entry]})


def test_policies_from_a_config_are_the_python_groups() -> None:
    config = {
        "steps": [
            {"trivial_augment": {"num_magnitude_bins": 31}},
            {"rand_augment": {"n": 2, "m": 9}, "p": 0.5},
            {"auto_augment": {}},
        ]
    }
    pipeline = augcore.Pipeline.from_config(config)
    expected = augcore.Pipeline(
        [policies.trivial_augment(31), policies.rand_augment(2, 9, p=0.5), policies.auto_augment()]
    )
    assert pipeline == expected
    again = augcore.Pipeline.from_config(pipeline.to_config())
    assert again == pipeline
