"""Renamed public names keep working with a DeprecationWarning and give the same results;
one error per kind of mistake; the chain model is immutable; plugin hooks go through pluggy.

docs/glossary.md lists every rename tested here.
"""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pluggy
import pytest
from augcore.plugins.geometric import FlipHorizontal, Rotate
from augcore.plugins.pixel import Brightness, Contrast

import augcore
import augcore.config
import augcore.pipeline
import augcore.seeding
from augcore import OneOf, Pipeline, SomeOf, Step
from augcore.chain import ChainStep, as_step
from augcore.config import step_to_config

IMAGES = np.arange(3 * 6 * 7 * 3, dtype=np.uint8).reshape(3, 6, 7, 3)
CHAIN = Pipeline([Rotate(degrees=20), Step(FlipHorizontal(), p=0.5), Brightness()])


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        (augcore, "Records", augcore.RecordSequence),
        (augcore.pipeline, "Records", augcore.RecordSequence),
        (augcore.seeding, "output_streams", augcore.seeding.output_roots),
        (augcore.config, "Node", ChainStep),
        (augcore.config, "as_node", as_step),
        (augcore.config, "node_to_config", step_to_config),
    ],
)
def test_a_renamed_module_attribute_warns_and_is_the_new_object(module, old, new) -> None:
    with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated.*glossary"):
        assert getattr(module, old) is new


def test_an_unknown_module_attribute_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Recordz'"):
        augcore.Recordz  # noqa: B018


def test_augment_batch_variants_is_per_image_with_a_warning() -> None:
    outs, records = CHAIN.augment_batch(IMAGES, seed=4, per_image=2)
    with pytest.warns(DeprecationWarning, match=r"augment_batch\(variants=...\).*per_image="):
        old_outs, old_records = CHAIN.augment_batch(IMAGES, seed=4, variants=2)
    np.testing.assert_array_equal(old_outs, outs)
    assert [r.to_dict() for r in old_records] == [r.to_dict() for r in records]
    assert len(records) == 6
    with pytest.raises(augcore.AugmentOptionError, match="both per_image= and its old name"):
        CHAIN.augment_batch(IMAGES, seed=4, per_image=2, variants=2)


def test_augment_stream_variants_is_per_image_with_a_warning() -> None:
    stream = augcore.AugmentStream(IMAGES, CHAIN, seed=1, batch_size=2, per_image=3, prefetch=0)
    with pytest.warns(DeprecationWarning, match=r"AugmentStream\(variants=...\)"):
        old = augcore.AugmentStream(IMAGES, CHAIN, seed=1, batch_size=2, variants=3, prefetch=0)
    with pytest.warns(DeprecationWarning, match=r"AugmentStream.variants is deprecated"):
        assert old.variants == 3
    assert old.per_image == stream.per_image == 3
    for new_batch, old_batch in zip(stream, old, strict=True):
        np.testing.assert_array_equal(new_batch.images, old_batch.images)
        np.testing.assert_array_equal(new_batch.indices, old_batch.indices)
    with pytest.raises(augcore.StreamOptionError, match="both per_image= and its old name"):
        augcore.AugmentStream(IMAGES, CHAIN, seed=1, per_image=3, variants=3)


def test_draws_for_step_is_for_domain_with_a_warning() -> None:
    roots = np.arange(5, dtype=np.uint64)
    with pytest.warns(DeprecationWarning, match="Draws.for_step is deprecated"):
        old = augcore.seeding.Draws.for_step(roots, 3)
    new = augcore.seeding.Draws.for_domain(roots, 3)
    np.testing.assert_array_equal(old.uniform(0), new.uniform(0))


def test_group_steps_is_members_with_a_warning() -> None:
    group = OneOf([Brightness(), Contrast()])
    with pytest.warns(DeprecationWarning, match="OneOf.steps is deprecated"):
        assert group.steps == group.members == (Step(Brightness()), Step(Contrast()))
    some = SomeOf([Brightness(), Contrast()], n=[0, 1])
    with pytest.warns(DeprecationWarning, match="SomeOf.steps is deprecated"):
        assert some.steps == some.members
    with pytest.warns(DeprecationWarning, match=r"OneOf\(steps=...\) is deprecated"):
        assert OneOf(steps=[Brightness(), Contrast()]) == group
    with pytest.warns(DeprecationWarning, match=r"SomeOf\(steps=...\) is deprecated"):
        assert SomeOf(steps=[Brightness(), Contrast()], n=[0, 1]) == some
    with pytest.raises(augcore.ConfigError, match="needs a non-empty list of members"):
        OneOf()


def test_the_chain_model_is_built_normalised_and_stays_frozen() -> None:
    step = Step(Rotate(), p=1)
    group = OneOf([step, Contrast()], weights=[1, 3], p=0)
    some = SomeOf([step], n=1)
    assert (type(step.p), group.weights, type(group.p), some.n) == (
        float,
        (1.0, 3.0),
        float,
        (1, 1),
    )
    assert isinstance(group.members, tuple) and group.members[1] == Step(Contrast())
    for value, field in ((step, "p"), (group, "weights"), (some, "n")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, field, 0.5)
    assert dataclasses.replace(step, p=0.25) == Step(Rotate(), p=0.25)
    assert hash(group) == hash(OneOf([Step(Rotate()), Contrast()], weights=(1.0, 3.0), p=0.0))
    assert repr(some) == f"SomeOf(members=({step!r},), n=(1, 1), p=1.0)"
    pipeline = Pipeline([group, some])  # job workers receive pipelines pickled
    assert pickle.loads(pickle.dumps(pipeline)) == pipeline


def test_a_group_error_in_a_config_names_the_group_once() -> None:
    config = {"steps": [{"one_of": [{"transform": "contrast"}], "weights": [1, 2]}]}
    with pytest.raises(augcore.ConfigError) as caught:
        Pipeline.from_config(config)
    assert str(caught.value).startswith("steps[0]: one_of: 'weights' got [1, 2]")
    nested = {"steps": [{"some_of": [{"one_of": [{"transform": "contrast"}], "p": 2}]}]}
    with pytest.raises(augcore.ConfigError) as caught:
        Pipeline.from_config(nested)
    assert str(caught.value).startswith("steps[0].some_of[0]: one_of: 'p' got 2")


@pytest.mark.parametrize("call", [
    lambda: CHAIN.augment([[1, 2]], seed=0, key="x"),
    lambda: CHAIN.augment_batch(5, seed=0),
    lambda: CHAIN.augment_batch([IMAGES[0], "not an image"], seed=0),
    lambda: augcore.warp_affine([[1, 2]], np.eye(3)),
    lambda: augcore.warp_affine_batch([IMAGES[0], [[1, 2]]], np.eye(3)[None].repeat(2, 0)),
])  # fmt: skip
def test_not_an_array_is_one_error_everywhere(call) -> None:
    with pytest.raises(augcore.ImageShapeError, match="numpy array"):
        call()


def test_the_plugin_hook_is_called_through_pluggy() -> None:
    """A hook-call monitor (pluggy's tracing) sees each plugin's augcore_transforms call."""

    class Noop(augcore.PixelTransform):
        """Nothing."""

        name = "noop"

        def apply(self, images, params):
            return images

    class Plugin:
        @augcore.hookimpl
        def augcore_transforms(self):
            return [Noop]

    manager = augcore.PluginManager(autoload=False)
    calls: list[str] = []
    manager._pluggy.add_hookcall_monitoring(
        lambda name, impls, kwargs: calls.append(name), lambda *args: None
    )
    plugin = Plugin()
    manager.register(plugin, name="traced")
    assert calls == ["augcore_transforms"] and "noop" in manager
    assert isinstance(manager._pluggy, pluggy.PluginManager)


def test_a_hook_returning_none_is_a_contract_error() -> None:
    class Plugin:
        @augcore.hookimpl
        def augcore_transforms(self):
            return None

    with pytest.raises(augcore.PluginContractError, match="returned None"):
        augcore.PluginManager(autoload=False).register(Plugin(), name="none")


def test_a_bad_on_error_is_an_augcore_error() -> None:
    with pytest.raises(augcore.ConfigError, match="on_error must be 'raise' or 'warn'"):
        augcore.PluginManager(autoload=False, on_error="ignore")  # type: ignore[arg-type]


def test_one_integer_check_wording_for_pipeline_and_stream() -> None:
    with pytest.raises(augcore.AugmentOptionError, match=r"^k must be an integer >= 0, got -1$"):
        CHAIN.augment(IMAGES[0], seed=0, key="x", k=-1)
    bound = r"seed must be an integer >= 0 and <= 18446744073709551615, got 18446744073709551616$"
    with pytest.raises(augcore.AugmentOptionError, match=bound):
        CHAIN.augment(IMAGES[0], seed=2**64, key="x")
    with pytest.raises(augcore.StreamOptionError, match=bound):
        augcore.AugmentStream(IMAGES, CHAIN, seed=2**64)
