"""augcore.keras against golden outputs written by real Keras 3 (tests/make_keras_goldens.py).

Keras is not needed here: each fixture holds its inputs, parameters and Keras's outputs.
Order 0 must match exactly; order 1 within 1e-4 (float32) or +-1 (uint8).
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from make_keras_goldens import SEED_SCRIPT_ARGS, load_golden

from augcore.keras import ImageDataGenerator, apply_affine_transform

AFFINE_META, AFFINE = load_golden("affine.npz")
TRANSFORM_META, TRANSFORM = load_golden("transform.npz")
RANDOM_META, RANDOM = load_golden("random_params.npz")
STANDARDIZE_META, STANDARDIZE = load_golden("standardize.npz")


def assert_matches_keras(actual: np.ndarray, expected: np.ndarray, order: int) -> None:
    assert actual.shape == expected.shape
    if order == 0:
        np.testing.assert_array_equal(actual, expected)
    elif expected.dtype == np.uint8:
        assert np.abs(actual.astype(int) - expected.astype(int)).max() <= 1
    else:
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4)


def _input_for(layout: str, image: np.ndarray) -> np.ndarray:
    if layout == "channels_first":
        return np.ascontiguousarray(image.transpose(2, 0, 1))
    if layout == "rows_after_cols":
        return np.ascontiguousarray(image.transpose(2, 1, 0))
    return image


def _case_id(case: dict) -> str:
    return f"{case['input']}-{case['layout']}-{case['fill_mode']}-o{case['order']}-{case['params']}"


def test_goldens_cover_every_mode_order_and_layout() -> None:
    combos = {(c["fill_mode"], c["order"], c["layout"]) for c in AFFINE_META}
    for mode in ("nearest", "constant", "reflect", "wrap"):
        for order in (0, 1):
            for layout in ("channels_last", "channels_first"):
                assert (mode, order, layout) in combos
    shapes = {AFFINE[c["input"]].shape for c in AFFINE_META}
    assert any(h != w for h, w, _ in shapes), "a non-square shape is covered"


@pytest.mark.parametrize("index", range(len(AFFINE_META)), ids=[_case_id(c) for c in AFFINE_META])
def test_apply_affine_transform_matches_keras(index: int) -> None:
    case = AFFINE_META[index]
    x = _input_for(case["layout"], AFFINE[case["input"]])
    out = apply_affine_transform(
        x,
        *case["params"],
        fill_mode=case["fill_mode"],
        cval=case["cval"],
        order=case["order"],
        **case["axes"],
    )
    assert out.dtype == x.dtype
    assert_matches_keras(out, AFFINE[f"out{index}"], case["order"])


def test_float64_input_is_warped_in_float32_and_returned_as_float64() -> None:
    case = next(
        i for i, c in enumerate(AFFINE_META) if c["order"] == 1 and c["layout"] == "channels_last"
    )
    meta = AFFINE_META[case]
    x = AFFINE[meta["input"]].astype(np.float64)
    out = apply_affine_transform(
        x, *meta["params"], fill_mode=meta["fill_mode"], cval=meta["cval"], order=1, **meta["axes"]
    )
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, AFFINE[f"out{case}"], rtol=0, atol=1e-4)


@pytest.mark.parametrize("index", range(len(TRANSFORM_META)))
def test_apply_transform_matches_keras(index: int) -> None:
    case = TRANSFORM_META[index]
    generator = ImageDataGenerator(data_format=case["data_format"], **case["settings"])
    x = TRANSFORM[case["input"]]
    if case["data_format"] == "channels_first":
        x = np.ascontiguousarray(x.transpose(2, 0, 1))
    out = generator.apply_transform(x.copy(), case["params"])
    assert_matches_keras(out, TRANSFORM[f"out{index}"], case["settings"]["interpolation_order"])


@pytest.mark.parametrize("index", range(len(RANDOM_META)))
def test_get_random_transform_draws_keras_values(index: int) -> None:
    case = RANDOM_META[index]
    generator = ImageDataGenerator(data_format=case["data_format"], **case["config"])
    params = generator.get_random_transform(tuple(case["shape"]), seed=case["seed"])
    assert json.loads(json.dumps(params, default=float)) == case["params"]


def test_get_random_transform_leaves_the_global_rng_alone() -> None:
    generator = ImageDataGenerator(rotation_range=40, zoom_range=0.2)
    np.random.seed(123)
    expected_next = np.random.RandomState(123).random_sample()
    generator.get_random_transform((8, 8, 3), seed=5)
    generator.get_random_transform((8, 8, 3))
    assert np.random.random_sample() == expected_next


def test_unseeded_draws_come_from_the_generator_not_numpy_seed() -> None:
    first, second = ImageDataGenerator(rotation_range=40), ImageDataGenerator(rotation_range=40)
    np.random.seed(0)
    a = first.get_random_transform((8, 8, 3))["theta"]
    np.random.seed(0)
    b = second.get_random_transform((8, 8, 3))["theta"]
    assert a != b


@pytest.mark.parametrize("seed", range(6))
def test_random_transform_with_seed_matches_keras(seed: int) -> None:
    generator = ImageDataGenerator(**SEED_SCRIPT_ARGS)
    out = generator.random_transform(RANDOM["input"], seed=seed)
    assert_matches_keras(out, RANDOM[f"random_transform{seed}"], order=1)


@pytest.mark.parametrize("index", range(len(STANDARDIZE_META)))
def test_fit_and_standardize_match_keras(index: int) -> None:
    case = STANDARDIZE_META[index]
    generator = _construct_like_keras(case["config"])
    x = STANDARDIZE["x"]
    if case["config"].get("data_format") == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    if case["augment"]:
        generator.fit(x, augment=True, rounds=case["rounds"], seed=case["seed"])
    else:
        generator.fit(x)
    for attr in ("mean", "std", "zca_whitening_matrix"):
        key = f"{attr}{index}"
        if key in STANDARDIZE:
            np.testing.assert_allclose(getattr(generator, attr), STANDARDIZE[key], rtol=1e-4)
        else:
            assert getattr(generator, attr) is None
    if not case["augment"]:
        np.testing.assert_allclose(
            generator.standardize(x.copy()),
            STANDARDIZE[f"standardized{index}"],
            rtol=1e-4,
            atol=1e-4,
        )


def _construct_like_keras(config: dict) -> ImageDataGenerator:
    """Build the generator, warning exactly when Keras warns: when a setting overrides another."""
    overrides = bool(
        config.get("zca_whitening")
        or (config.get("featurewise_std_normalization") and not config.get("featurewise_center"))
        or (config.get("samplewise_std_normalization") and not config.get("samplewise_center"))
    )
    if overrides:
        with pytest.warns(UserWarning, match="overrides"):
            return ImageDataGenerator(**config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return ImageDataGenerator(**config)
