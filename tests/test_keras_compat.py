"""augcore.keras against what real Keras 3 returned and raised (tests/make_keras_compat_goldens.py):
the legacy ``random_*`` functions, integer images, the base ``Iterator``, brightness on a
channels_first generator, and the exception type and message of every error scripts match on.
Keras is not needed here: tests/data/keras/compat.npz holds its results.
"""

from __future__ import annotations

import builtins
import subprocess
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from make_keras_compat_goldens import (
    CHANNELS_FIRST,
    CHANNELS_LAST,
    ERROR_CASES,
    INDEX_CASES,
    INDEX_STEPS,
    INT_CASES,
    INT_PARAMS,
    LAST_AXES,
    LEGACY_CASES,
    X,
    raised,
)
from make_keras_goldens import load_golden
from PIL import Image

import augcore.keras
from augcore import AugcoreError
from augcore.keras import (
    ImageDataGenerator,
    Iterator,
    NumpyArrayIterator,
    apply_affine_transform,
    load_img,
    random_rotation,
)
from augcore.keras._affine import keras_affine_matrix

META, GOLDEN = load_golden("compat.npz")
INPUTS = {"first": CHANNELS_FIRST, "last": CHANNELS_LAST, "signed": CHANNELS_LAST / 100 - 1}


def test_goldens_were_made_from_these_inputs() -> None:
    for key, value in INPUTS.items():
        np.testing.assert_array_equal(GOLDEN[f"input_{key}"], value)
    assert META["legacy"] == [case[0] for case in LEGACY_CASES]
    assert set(META["errors"]) == set(ERROR_CASES)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("case", LEGACY_CASES, ids=[case[0] for case in LEGACY_CASES])
def test_legacy_random_functions_match_keras(case: tuple, seed: int) -> None:
    """Keras after np.random.seed(seed) == augcore.keras with seed=seed (0 for order 0)."""
    name, function, args, kwargs, key = case
    x = INPUTS[key].copy()
    out = getattr(augcore.keras, function)(x, *args, **kwargs, seed=seed)
    expected = GOLDEN[f"legacy_{name}_{seed}"]
    assert out.shape == expected.shape and out.dtype == expected.dtype
    atol = 0 if kwargs.get("interpolation_order") == 0 else 1e-4
    np.testing.assert_allclose(out, expected, rtol=0, atol=atol)
    np.testing.assert_array_equal(x, INPUTS[key])  # the input is left alone


def test_legacy_random_functions_leave_the_global_rng_alone() -> None:
    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    random_rotation(CHANNELS_FIRST, 30)
    augcore.keras.random_brightness(CHANNELS_LAST, (0.5, 1.5))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(
    "index", range(len(INT_CASES)), ids=["-".join(map(str, c)) for c in INT_CASES]
)
def test_integer_images_match_keras(index: int) -> None:
    """Keras warps int arrays through scipy, which rounds half away from zero into the dtype."""
    dtype, order, mode, cval = META["ints"][index]
    image = GOLDEN[f"int_input_{dtype}"]
    for p, params in enumerate(INT_PARAMS):
        out = apply_affine_transform(
            image, *params, **LAST_AXES, fill_mode=mode, cval=cval, order=order
        )
        expected = GOLDEN[f"int_{index}_{p}"]
        assert out.dtype == expected.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("mode", ["nearest", "constant", "reflect", "wrap"])
@pytest.mark.parametrize("dtype", ["float64", "int64", "uint32", "int8"])
def test_order_0_copies_values_of_any_dtype_exactly(dtype: str, mode: str) -> None:
    """Keras = scipy per channel with Keras's matrix; at order 0 values are copied, so even
    float64 values float32 cannot hold and integers beyond 2**24 come back unchanged."""
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(len(dtype) + len(mode))
    if "int" in dtype:  # beyond 2**24 where the dtype allows: float32 could not hold them
        limits = np.iinfo(dtype)
        image = rng.integers(max(limits.min, -(2**40)), min(limits.max, 2**40), (9, 14, 3), dtype)
    else:
        image = rng.normal(size=(9, 14, 3)).astype(dtype)
    params = (23.0, 1.5, -2.5, 8.0, 0.9, 1.1)
    out = apply_affine_transform(image, *params, **LAST_AXES, fill_mode=mode, cval=3.7, order=0)
    matrix = keras_affine_matrix(*params, 9, 14)
    expected = np.stack(
        [
            ndimage.affine_transform(
                image[..., c], matrix[:2, :2], matrix[:2, 2], order=0, mode=mode, cval=3.7
            )
            for c in range(3)
        ],
        axis=-1,
    )
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("index", range(len(INDEX_CASES)), ids=str)
def test_base_iterator_builds_alone_and_yields_keras_index_arrays(index: int) -> None:
    iterator = Iterator(*INDEX_CASES[index])
    for step in range(INDEX_STEPS):
        got = next(iterator.index_generator)
        assert isinstance(got, np.ndarray)
        np.testing.assert_array_equal(got, GOLDEN[f"index_{index}_{step}"])


def test_channels_first_generator_brightness_on_a_channels_last_sample_matches_keras() -> None:
    """fit(augment=True) hands such samples over: Keras reads them channels-last for PIL."""
    generator = ImageDataGenerator(data_format="channels_first")
    params = {"theta": 20.0, "brightness": 0.6, "flip_horizontal": True}
    out = generator.apply_transform(CHANNELS_LAST.copy(), params)
    np.testing.assert_allclose(out, GOLDEN["brightness_channels_first"], rtol=0, atol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10 "channels" on axis 1: Keras's warning
        generator.fit(np.repeat(CHANNELS_LAST[None], 4, axis=0), augment=True, seed=0)


def test_channels_first_brightness_works_where_keras_raises() -> None:
    """A channels_first image 7 wide: Keras hands PIL 7 "channels" and raises; augcore moves
    the channels last, so both layouts give the same image."""
    x = np.random.default_rng(2).uniform(0, 255, size=(6, 7, 3)).astype(np.float32)
    params = {"theta": 15.0, "brightness": 0.7}
    last = ImageDataGenerator().apply_transform(x.copy(), params)
    first = ImageDataGenerator(data_format="channels_first").apply_transform(
        np.ascontiguousarray(x.transpose(2, 0, 1)), params
    )
    np.testing.assert_array_equal(first.transpose(1, 2, 0), last)


@pytest.fixture(scope="module")
def api() -> types.SimpleNamespace:
    pandas = pytest.importorskip("pandas")
    return types.SimpleNamespace(**vars(augcore.keras), pandas=pandas)


@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_have_keras_type_and_wording(name: str, api: types.SimpleNamespace) -> None:
    """Keras's exception class (augcore's is a subclass of it) and its message first."""
    keras_type, keras_message = META["errors"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        error = raised(ERROR_CASES[name], api)
    assert isinstance(error, AugcoreError)
    assert isinstance(error, getattr(builtins, keras_type))
    assert str(error).startswith(keras_message)


def test_random_zoom_and_brightness_without_a_length_are_type_errors() -> None:
    """Keras's ``len(zoom_range)`` raises TypeError on a bare number."""
    with pytest.raises(TypeError, match="zoom_range"):
        augcore.keras.random_zoom(CHANNELS_FIRST, 0.5)
    with pytest.raises(TypeError, match="brightness_range"):
        augcore.keras.random_brightness(CHANNELS_LAST, 1.5)


def test_past_the_end_is_also_an_index_error() -> None:
    iterator = ImageDataGenerator().flow(X, batch_size=2)
    with pytest.raises(IndexError, match="Sequence has length 3"):
        iterator[3]
    assert len(iterator[2]) == 1


def test_keras_2_spellings_next_and_grayscale(tmp_path: Path) -> None:
    """tf-keras / Keras 2 scripts call iterator.next() and load_img(grayscale=True)."""
    a = ImageDataGenerator().flow(X, batch_size=2, shuffle=True, seed=4)
    b = ImageDataGenerator().flow(X, batch_size=2, shuffle=True, seed=4)
    for _ in range(4):
        np.testing.assert_array_equal(a.next(), next(b))
    path = tmp_path / "rgb.png"
    Image.fromarray(np.full((3, 4, 3), 200, np.uint8)).save(path)
    with pytest.warns(UserWarning, match="grayscale is deprecated"):
        assert load_img(path, grayscale=True).mode == "L"


class _RotatingIterator(NumpyArrayIterator):
    """A Keras-style subclass: one-argument hook, unseeded module-level draws inside."""

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray) -> np.ndarray:
        return np.stack([random_rotation(self.x[j], 45, 0, 1, 2) for j in index_array])


def test_unseeded_draws_in_a_custom_hook_follow_the_flow_seed() -> None:
    """In Keras they come from the global RNG reseeded per batch; here from the batch stream."""
    x = np.random.default_rng(3).uniform(0, 255, (6, 8, 8, 3)).astype(np.float32)
    generator = ImageDataGenerator()
    runs = [_RotatingIterator(x, None, generator, batch_size=2, seed=9) for _ in range(2)]
    batches = [[next(run) for _ in range(3)] for run in runs]
    for first, second in zip(*batches, strict=True):
        np.testing.assert_array_equal(first, second)
    # batch b of a seeded iterator draws from RandomState(seed + b), in Keras's order
    expected = random_rotation(x[2], 45, 0, 1, 2, seed=9 + 1)
    np.testing.assert_array_equal(batches[0][1][0], expected)


def test_augcore_keras_never_imports_keras_and_its_iterators_are_plain_then() -> None:
    code = (
        "import sys, numpy as np\n"
        "from augcore.keras import ImageDataGenerator\n"
        "it = ImageDataGenerator().flow(np.zeros((2, 4, 4, 3)), np.arange(2), batch_size=1)\n"
        "next(it); it[1]\n"
        "assert 'keras' not in sys.modules, 'keras imported'\n"
        "assert [c.__name__ for c in type(it).__mro__] == "
        "['NumpyArrayIterator', 'Iterator', 'object'], type(it).__mro__\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
