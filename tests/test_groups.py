"""one_of / some_of whose members have their own p < 1: every gate is honoured, none is lost.

The frequencies are counted over thousands of outputs and compared with the product of the
probabilities the docs promise (docs/transforms.md, "Groups"): the group's p, then the choice,
then the chosen member's own p. The draws are deterministic, so these counts never flake;
the tolerance is about five binomial standard deviations.
"""

from __future__ import annotations

import numpy as np
import pytest
from augcore.plugins.geometric import FlipHorizontal, FlipVertical
from augcore.plugins.pixel import Brightness, Grayscale

from augcore import OneOf, Pipeline, SomeOf, Step

N = 4000
TOLERANCE = 5 * np.sqrt(0.25 / N)


def _fired(pipeline: Pipeline) -> dict[str, np.ndarray]:
    """For each transform name, which of N outputs it fired on."""
    images = np.zeros((N, 2, 2, 3), dtype=np.uint8)
    keys = [f"img{i}.png" for i in range(N)]
    _, records = pipeline.augment_batch(images, seed=11, keys=keys)
    names = ("flip_horizontal", "flip_vertical", "brightness", "grayscale")
    fired = {name: np.zeros(N, dtype=bool) for name in names}
    for i, record in enumerate(records):
        for entry in record.steps:
            fired[entry["name"]][i] = True
    return fired


@pytest.mark.parametrize("group_p", [1.0, 0.6])
def test_one_of_fires_at_most_one_member_and_honours_each_members_p(group_p):
    group = OneOf(
        (Step(FlipHorizontal(), p=0.5), Step(FlipVertical(), p=0.3), Step(Brightness())),
        weights=(2, 1, 1),
        p=group_p,
    )
    fired = _fired(Pipeline([group]))
    together = fired["flip_horizontal"].astype(int) + fired["flip_vertical"] + fired["brightness"]
    assert together.max() == 1
    # P(member fires) = group p * its share of the weights * its own p
    expected = {"flip_horizontal": 0.5 * 0.5, "flip_vertical": 0.25 * 0.3, "brightness": 0.25}
    for name, share in expected.items():
        assert abs(fired[name].mean() - group_p * share) < TOLERANCE, name
    assert abs((together == 0).mean() - (1 - group_p * sum(expected.values()))) < TOLERANCE


def test_some_of_picks_n_members_then_each_rolls_its_own_p():
    group = SomeOf(
        (Step(FlipHorizontal(), p=0.5), Step(FlipVertical(), p=0.2), Step(Brightness())),
        n=(2, 2),
        p=0.8,
    )
    fired = _fired(Pipeline([group]))
    together = fired["flip_horizontal"].astype(int) + fired["flip_vertical"] + fired["brightness"]
    assert together.max() == 2
    # each member is among the 2 of 3 chosen with probability 2/3
    expected = {"flip_horizontal": 0.5, "flip_vertical": 0.2, "brightness": 1.0}
    for name, own_p in expected.items():
        assert abs(fired[name].mean() - 0.8 * 2 / 3 * own_p) < TOLERANCE, name


def test_a_nested_group_with_its_own_p_is_one_member_of_its_parent():
    inner = OneOf((Step(FlipVertical()), Step(Grayscale())), p=0.5)
    outer = OneOf((Step(FlipHorizontal(), p=0.4), inner))
    fired = _fired(Pipeline([outer]))
    together = fired["flip_horizontal"].astype(int) + fired["flip_vertical"] + fired["grayscale"]
    assert together.max() == 1
    assert abs(fired["flip_horizontal"].mean() - 0.5 * 0.4) < TOLERANCE
    assert abs(fired["flip_vertical"].mean() - 0.5 * 0.5 * 0.5) < TOLERANCE
    assert abs(fired["grayscale"].mean() - 0.5 * 0.5 * 0.5) < TOLERANCE
