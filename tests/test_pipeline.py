"""The chain: sampling identity, fusion, groups, records and replay."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from augcore.plugins.geometric import FlipHorizontal, Rotate, Shear, Shift, Zoom
from augcore.plugins.pixel import Brightness, ChannelShift, Contrast, GaussianNoise, Grayscale
from hypothesis import given, settings
from hypothesis import strategies as st

import augcore
import augcore.pipeline

RNG = np.random.default_rng(7)
IMAGES = RNG.integers(0, 256, (5, 11, 16, 3), dtype=np.uint8)
KEYS = [f"dir/{i}.png" for i in range(5)]
MIXED = augcore.Pipeline(
    [
        Rotate(degrees=30),
        augcore.Step(Shift(x=0.1, y=0.2), p=0.7),
        augcore.Step(Brightness(), p=0.5),
        Zoom(factor=0.2, per_axis=True),
        augcore.OneOf([Contrast(), GaussianNoise(sigma=4)], weights=[1, 3], p=0.8),
        augcore.SomeOf([FlipHorizontal(), Shear(degrees=5), Grayscale()], n=[1, 2]),
    ],
    order=1,
    fill_mode="reflect",
)


def test_batch_outputs_and_records_equal_single_augment() -> None:
    outs, records = MIXED.augment_batch(IMAGES, seed=11, keys=KEYS, per_image=3)
    assert outs.shape == (15, *IMAGES.shape[1:]) and len(records) == 15
    for i in range(5):
        for k in range(3):
            out, record = MIXED.augment(IMAGES[i], seed=11, key=KEYS[i], k=k)
            np.testing.assert_array_equal(outs[i * 3 + k], out)
            assert records[i * 3 + k] == record
            assert (record.key, record.k, record.seed) == (KEYS[i], k, 11)


@settings(max_examples=25, deadline=None)
@given(
    picks=st.lists(st.integers(0, 4), min_size=1, max_size=6, unique=True),
    variants=st.integers(1, 3),
    seed=st.integers(0, 2**64 - 1),
)
def test_params_of_an_output_do_not_depend_on_batch_size_or_order(picks, variants, seed) -> None:
    _, records = MIXED.augment_batch(
        IMAGES[picks], seed=seed, keys=[KEYS[i] for i in picks], per_image=variants
    )
    for slot, i in enumerate(picks):
        for k in range(variants):
            _, alone = MIXED.augment(IMAGES[i], seed=seed, key=KEYS[i], k=k)
            assert records[slot * variants + k].to_dict() == alone.to_dict()


def test_threads_do_not_change_results() -> None:
    one, _ = MIXED.augment_batch(IMAGES, seed=3, keys=KEYS, per_image=4, threads=1)
    two, _ = MIXED.augment_batch(IMAGES, seed=3, keys=KEYS, per_image=4, threads=2)
    np.testing.assert_array_equal(one, two)


def test_list_input_equals_array_input_and_inputs_are_untouched() -> None:
    before = IMAGES.copy()
    from_array, _ = MIXED.augment_batch(IMAGES, seed=2, keys=KEYS)
    from_list, _ = MIXED.augment_batch(list(IMAGES), seed=2, keys=KEYS)
    np.testing.assert_array_equal(from_array, from_list)
    np.testing.assert_array_equal(IMAGES, before)
    read_only = IMAGES.copy()
    read_only.setflags(write=False)
    np.testing.assert_array_equal(MIXED.augment_batch(read_only, seed=2, keys=KEYS)[0], from_array)
    empty, _ = augcore.Pipeline([]).augment_batch(IMAGES, seed=2, keys=KEYS)
    np.testing.assert_array_equal(empty, IMAGES)
    assert not np.shares_memory(empty, IMAGES)


def test_numpy_integers_are_accepted_and_recorded_as_json_ints() -> None:
    _, record = MIXED.augment(IMAGES[0], seed=np.uint64(5), key="x", k=np.int64(1))
    _, plain = MIXED.augment(IMAGES[0], seed=5, key="x", k=1)
    assert json.dumps(record.to_dict()) == json.dumps(plain.to_dict())


def test_seed_key_and_k_each_change_the_output() -> None:
    base, _ = MIXED.augment(IMAGES[0], seed=1, key="a", k=0)
    for seed, key, k in [(2, "a", 0), (1, "b", 0), (1, "a", 1)]:
        other, _ = MIXED.augment(IMAGES[0], seed=seed, key=key, k=k)
        assert not np.array_equal(base, other)


def test_a_fused_run_is_one_kernel_call_equal_to_one_warp_by_the_composed_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps = [Rotate(degrees=40), Shift(x=0.2, y=0.2), Shear(degrees=10), Zoom(factor=0.2)]
    pipeline = augcore.Pipeline(steps, order=1, fill_mode="constant", cval=3)
    calls = []
    real = augcore.fusion.warp_affine_batch

    def counting(*args, **kwargs):
        calls.append(args[0].shape[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(augcore.fusion, "warp_affine_batch", counting)
    outs, records = pipeline.augment_batch(IMAGES, seed=5, keys=KEYS, per_image=2)
    assert calls == [10]
    for index, record in enumerate(records):
        (run,) = record.fused
        assert run["steps"] == [0, 1, 2, 3]
        # Compose the steps' own matrices independently (numpy matmul, in chain order).
        shape = IMAGES.shape[1:]
        composed = np.eye(3)
        for entry, step in zip(record.steps, steps, strict=True):
            params = {k: np.asarray([v]) for k, v in entry["params"].items()}
            composed = composed @ step.matrices(1, params, shape)[0]
        np.testing.assert_allclose(run["matrix"], composed, rtol=0, atol=1e-12)
        expected = augcore.warp_affine(
            IMAGES[index // 2], np.asarray(run["matrix"]), order=1, fill_mode="constant", cval=3
        )
        np.testing.assert_array_equal(outs[index], expected)


def test_a_pixel_step_between_geometric_steps_splits_the_fused_runs() -> None:
    pipeline = augcore.Pipeline([Rotate(), Brightness(), Shift()])
    _, record = pipeline.augment(IMAGES[0], seed=0, key="x")
    assert [step["name"] for step in record.steps] == ["rotate", "brightness", "shift"]
    assert [run["steps"] for run in record.fused] == [[0], [2]]


def test_probability_zero_never_fires_and_one_always_does() -> None:
    pipeline = augcore.Pipeline(
        [
            augcore.Step(Brightness(), p=0.0),
            augcore.Step(Contrast(), p=1.0),
            augcore.Step(Rotate(), p=0.3),
        ]
    )
    small = np.zeros((4, 4), np.uint8)
    _, records = pipeline.augment_batch([small] * 400, seed=9, per_image=5)
    names = [[step["name"] for step in record.steps] for record in records]
    assert not any("brightness" in n for n in names)
    assert all("contrast" in n for n in names)
    assert 0.25 < np.mean(["rotate" in n for n in names]) < 0.35


def test_one_of_fires_exactly_one_member_by_weight() -> None:
    group = augcore.OneOf([Brightness(), Contrast(), Grayscale()], weights=[0, 1, 3])
    _, records = augcore.Pipeline([group]).augment_batch(
        [np.zeros((3, 3), np.uint8)] * 1000, seed=1, per_image=2
    )
    chosen = [tuple(step["name"] for step in record.steps) for record in records]
    assert all(len(c) == 1 for c in chosen)
    assert ("brightness",) not in chosen
    assert 0.7 < chosen.count(("grayscale",)) / len(chosen) < 0.8


def test_some_of_fires_between_low_and_high_members_in_chain_order() -> None:
    members = [Brightness(), Contrast(), Grayscale(), GaussianNoise()]
    _, records = augcore.Pipeline([augcore.SomeOf(members, n=[1, 3])]).augment_batch(
        [np.zeros((3, 3), np.uint8)] * 600, seed=1
    )
    order = [m.name for m in members]
    counts = set()
    for record in records:
        names = [step["name"] for step in record.steps]
        assert names == sorted(names, key=order.index)
        counts.add(len(names))
    assert counts == {1, 2, 3}


def test_records_round_trip_through_json_and_replay_exactly() -> None:
    outs, records = MIXED.augment_batch(IMAGES, seed=21, keys=KEYS, per_image=2)
    for index, record in enumerate(records):
        text = json.dumps(record.to_dict())
        restored = augcore.Record.from_dict(json.loads(text))
        assert restored == record
        np.testing.assert_array_equal(MIXED.apply_record(IMAGES[index // 2], restored), outs[index])
        from_dict = MIXED.apply_record(IMAGES[index // 2], json.loads(text))
        np.testing.assert_array_equal(from_dict, outs[index])


def test_replaying_with_a_different_pipeline_is_refused() -> None:
    _, record = MIXED.augment(IMAGES[0], seed=0, key="x")
    other = augcore.Pipeline([Brightness(), Rotate()])
    with pytest.raises(augcore.ManifestError, match="replay with the pipeline that made"):
        other.apply_record(IMAGES[0], record)
    with pytest.raises(augcore.ManifestError, match="not a valid augcore record"):
        augcore.Record.from_dict({"seed": 1, "key": "x"})


TAMPERED_RECORDS = [
    (lambda r: r["fused"][0].update(steps=[]), "not a valid augcore record.*fused run"),
    (lambda r: r["fused"][0]["steps"].append(9), "not a valid augcore record.*fused run"),
    (lambda r: r["fused"].append(dict(r["fused"][0])), "not a valid augcore record.*fused run"),
    (lambda r: r["fused"][0].update(steps=[0, 1]), r"step 1 \('brightness'\) is a pixel step"),
    (lambda r: r["fused"].clear(), r"step 0 \('rotate'\) is geometric but in no fused run"),
    (lambda r: r["steps"][0]["params"].clear(), r"step 0 \('rotate'\).*'degrees'"),
    (
        lambda r: r["steps"][0]["params"].update(degrees="ten"),
        r"step 0 \('rotate'\): parameter 'degrees' got 'ten'.*float64",
    ),
    (
        lambda r: r["steps"][1]["params"].update(extra=1),
        r"step 1 \('brightness'\).*params \['extra', 'factor'\].*\['factor'\]",
    ),
    (
        lambda r: r["steps"][2]["params"].update(offsets=[1.0, 2.0]),
        r"step 2 \('channel_shift'\): parameter 'offsets'.*shape \(3,\)",
    ),
    (
        lambda r: r["steps"][3]["params"].update(noise_seed=1.5),
        r"step 3 \('gaussian_noise'\): parameter 'noise_seed' got 1.5.*int64",
    ),
]


@pytest.mark.parametrize(("tamper", "match"), TAMPERED_RECORDS)
def test_a_tampered_record_is_a_manifest_error_naming_the_step(tamper, match) -> None:
    """Replay reads records from files: a bad one is named, never a crash inside a plugin."""
    chain = augcore.Pipeline([Rotate(), Brightness(), ChannelShift(), GaussianNoise()])
    _, record = chain.augment(IMAGES[0], seed=3, key="x")
    data = json.loads(json.dumps(record.to_dict()))
    tamper(data)
    with pytest.raises(augcore.ManifestError, match=match):
        chain.apply_record(IMAGES[0], data)


def test_records_index_like_a_sequence() -> None:
    _, records = MIXED.augment_batch(IMAGES[:2], seed=1, keys=KEYS[:2], per_image=2)
    assert records[-1] == records[3] and [r.k for r in records] == [0, 1, 0, 1]
    assert records[1::2] == [records[1], records[3]]
    with pytest.raises(IndexError):
        records[4]


@pytest.mark.parametrize(
    ("images", "keys", "error", "match"),
    [
        (IMAGES.astype(np.int32), KEYS, augcore.ImageDtypeError, "uint8 and float32"),
        (IMAGES[0, 0], None, augcore.ImageShapeError, r"\(N, H, W\)"),
        (IMAGES, KEYS[:2], augcore.BatchLengthError, "5 images but 2 keys"),
        ([IMAGES[0], IMAGES[0, :5]], None, augcore.ImageShapeError, "share one shape"),
        ([], None, augcore.ImageShapeError, "empty"),
    ],
)
def test_bad_batches_get_clear_errors(images, keys, error, match) -> None:
    with pytest.raises(error, match=match):
        MIXED.augment_batch(images, seed=0, keys=keys)


def test_bad_single_inputs_get_clear_errors() -> None:
    with pytest.raises(augcore.ImageShapeError, match="numpy array"):
        MIXED.augment([[1, 2]], seed=0, key="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        MIXED.augment(IMAGES[0], seed=0, key="x", k=-1)
    with pytest.raises(ValueError, match="per_image must be an integer >= 1"):
        MIXED.augment_batch(IMAGES, seed=0, per_image=0)
    with pytest.raises(ValueError, match="threads must be an integer >= 1"):
        MIXED.augment_batch(IMAGES, seed=0, threads=1.5)
    with pytest.raises(TypeError, match="source keys must be str"):
        MIXED.augment(IMAGES[0], seed=0, key=3)  # type: ignore[arg-type]
    with pytest.raises(augcore.ConfigError, match="fill_mode"):
        augcore.Pipeline([Rotate()], fill_mode="edge")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda: MIXED.augment(IMAGES[0], seed=-1, key="x"),
            "seed must be an integer >= 0 and <= 18446744073709551615, got -1",
        ),
        (lambda: MIXED.augment(IMAGES[0], seed="1", key="x"), "seed must be an int"),
        (lambda: MIXED.augment(IMAGES[0], seed=0, key=b"x"), "source keys must be str"),
        (lambda: MIXED.augment(IMAGES[0], seed=0, key="x", k=True), "k must be an integer"),
        (lambda: MIXED.augment_batch(IMAGES, seed=0, per_image=0), "per_image must be"),
        (lambda: MIXED.augment_batch(IMAGES, seed=0, keys=[1, 2, 3, 4, 5]), "keys must be str"),
        (lambda: MIXED.augment_batch(IMAGES, seed=0, threads=0), "threads must be"),
    ],
)
def test_bad_augment_arguments_are_augcore_errors(call, match) -> None:
    """One augcore class for every bad argument, still caught by ``except ValueError``."""
    with pytest.raises(augcore.AugmentOptionError, match=match) as caught:
        call()
    assert isinstance(caught.value, ValueError)


class _Float32Params(augcore.PixelTransform):
    """Breaks the contract: float32 parameters would not survive JSON exactly."""

    name = "float32_params"

    def sample(self, draws, shape):
        return {"gain": draws.uniform(0).astype(np.float32)}

    def apply(self, images, params):
        return images


class _WrongShape(augcore.PixelTransform):
    """Breaks the contract: drops the channel axis."""

    name = "wrong_shape"

    def apply(self, images, params):
        return images[..., 0]


class _NotFinite(augcore.GeometricTransform):
    """Breaks the contract: a NaN in its matrices (projective ones are allowed since the canvas
    contract; see tests/test_canvas_pipeline.py)."""

    name = "not_finite"

    def matrices(self, n, params, shape):
        out = np.tile(np.eye(3), (n, 1, 1))
        out[:, 0, 2] = np.nan
        return out


class _BadCanvas(augcore.GeometricTransform):
    """Breaks the contract: a canvas that drops the channels."""

    name = "bad_canvas"

    def canvas(self, shape):
        return (4, 4)

    def matrices(self, n, params, shape):
        return np.tile(np.eye(3), (n, 1, 1))


@pytest.mark.parametrize(
    ("transform", "match"),
    [
        (_Float32Params(), "float64, int64 or bool"),
        (_WrongShape(), "must return an array of shape"),
        (_NotFinite(), "NaN or infinite"),
        (_BadCanvas(), "same channels"),
    ],
)
def test_a_transform_breaking_the_contract_is_named(transform, match) -> None:
    with pytest.raises(augcore.PluginContractError, match=f"'{transform.name}'.*{match}"):
        augcore.Pipeline([transform]).augment(IMAGES[0], seed=0, key="x")


def test_default_pipeline_is_the_seed_chain() -> None:
    pipeline = augcore.Pipeline.default()
    config = pipeline.to_config()
    assert [step["transform"] for step in config["steps"]] == [
        "rotate",
        "shift",
        "shear",
        "zoom",
        "flip_horizontal",
    ]
    assert config["steps"][0]["degrees"] == [-40.0, 40.0]
    assert config["steps"][1]["x"] == [-0.2, 0.2] and config["steps"][1]["y"] == [-0.2, 0.2]
    assert config["steps"][2]["degrees"] == [-0.2, 0.2]
    assert config["steps"][3] == {
        "transform": "zoom",
        "factor": [0.8, 1.2],
        "per_axis": True,
        "p": 1.0,
    }
    assert config["steps"][4]["p"] == 0.5
    assert (config["order"], config["fill_mode"]) == (0, "nearest")
    _, records = pipeline.augment_batch([IMAGES[0]] * 400, seed=0)
    flips = np.mean([any(s["name"] == "flip_horizontal" for s in r.steps) for r in records])
    assert 0.42 < flips < 0.58


def test_a_reused_step_object_draws_independently_at_each_place() -> None:
    coin = augcore.Step(Brightness(factor=[2, 2]), p=0.5)
    _, records = augcore.Pipeline([coin, coin]).augment_batch(
        [np.zeros((2, 2), np.uint8)] * 400, seed=0
    )
    fired = [len(record.steps) for record in records]
    assert {0, 1, 2} <= set(fired)  # independent gates, not one shared coin


def test_a_pickled_pipeline_gives_the_same_outputs() -> None:
    copy = pickle.loads(pickle.dumps(MIXED))
    assert copy == MIXED
    np.testing.assert_array_equal(
        copy.augment_batch(IMAGES, seed=8, keys=KEYS)[0],
        MIXED.augment_batch(IMAGES, seed=8, keys=KEYS)[0],
    )
