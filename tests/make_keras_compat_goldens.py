"""Write tests/data/keras/compat.npz from real Keras: the legacy ``random_*`` functions, integer
images, the base ``Iterator``'s index arrays, a channels_first generator's brightness on a
channels-last sample, and the type and message of every error scripts match on.

Run once, by hand, with Keras 3 and jax installed (never a dependency of augcore's tests):

    KERAS_BACKEND=jax python tests/make_keras_compat_goldens.py

The cases are defined here and imported by tests/test_keras_compat.py, which runs them on
augcore.keras and compares with what Keras returned or raised.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Callable
from typing import Any

import numpy as np
from make_keras_goldens import _image, _save

rng = np.random.default_rng(31)
CHANNELS_FIRST = _image(rng, (3, 11, 9))  # the legacy functions' default axes: (C, H, W)
CHANNELS_LAST = _image(rng, (10, 13, 3))
LAST_AXES = dict(row_axis=0, col_axis=1, channel_axis=2)
CONSTANT_LAST = dict(fill_mode="constant", **LAST_AXES)
REFLECT_ORDER0 = dict(fill_mode="reflect", interpolation_order=0)

# (name, function, args, kwargs, input): each is run after np.random.seed(seed) in Keras and with
# seed=seed in augcore.keras, for seeds 0..2.
LEGACY_CASES = [
    ("rotation", "random_rotation", (30,), {}, "first"),
    ("rotation_last_constant", "random_rotation", (50,), dict(CONSTANT_LAST, cval=7.0), "last"),
    ("rotation_order0_reflect", "random_rotation", (80,), REFLECT_ORDER0, "first"),
    ("shift", "random_shift", (0.2, 0.3), {}, "first"),
    ("shift_last_wrap", "random_shift", (0.4, 0.1), dict(fill_mode="wrap", **LAST_AXES), "last"),
    ("shear", "random_shear", (25,), {}, "first"),
    ("shear_last", "random_shear", (40,), dict(LAST_AXES), "last"),
    ("zoom", "random_zoom", ((0.6, 1.4),), {}, "first"),
    ("zoom_identity", "random_zoom", ((1, 1),), {}, "first"),
    ("zoom_last_constant", "random_zoom", ([0.5, 2.0],), CONSTANT_LAST, "last"),
    ("channel_shift", "random_channel_shift", (40.0,), {}, "first"),
    ("channel_shift_last", "random_channel_shift", (90.0,), dict(channel_axis=2), "last"),
    ("brightness", "random_brightness", ((0.5, 1.5),), {}, "last"),
    ("brightness_unscaled", "random_brightness", ([0.2, 1.8], False), {}, "last"),
    ("brightness_signed", "random_brightness", ((0.5, 1.5), False), {}, "signed"),
]  # fmt: skip

# apply_affine_transform on integer images: (dtype, order, fill_mode, cval), each with two
# parameter sets; values span the dtype's sign so rounding below zero is exercised.
INT_DTYPES = ("int64", "int32", "int16", "uint16", "int8")
INT_CASES = [
    (dtype, order, mode, cval)
    for dtype in INT_DTYPES
    for order in (0, 1)
    for mode, cval in (("nearest", 0.0), ("constant", 0.5), ("reflect", 0.0))
]
INT_PARAMS = [(33.0, 1.5, -2.0, 0.0, 1.0, 1.0), (0.0, 0.5, 0.5, 10.0, 0.9, 1.2)]

# (n, batch_size, shuffle, seed): the base Iterator's first index arrays.
INDEX_CASES = [(0, 32, False, 0), (0, 0, False, 0), (10, 4, True, 3), (7, 3, False, None)]
INDEX_STEPS = 5


def _int_image(dtype: str) -> np.ndarray:
    info = np.iinfo(dtype)
    low, high = max(info.min, -1000), min(info.max, 1000)
    return np.random.default_rng(len(dtype)).integers(low, high + 1, (9, 12, 2)).astype(dtype)


def _frame(pandas: Any, labels: list[Any]) -> Any:
    return pandas.DataFrame({"filename": [f"{i}.png" for i in range(len(labels))], "class": labels})


def _flow(k: Any, *args: Any, **kwargs: Any) -> Any:
    return k.ImageDataGenerator(**kwargs.pop("config", {})).flow(*args, **kwargs)


X = np.zeros((5, 4, 4, 3), np.float32)

# name -> a call raising the error, given a namespace with Keras's (or augcore's) legacy API.
ERROR_CASES: dict[str, Callable[[Any], Any]] = {
    "getitem_past_end": lambda k: _flow(k, X, batch_size=2)[3],
    "x_misc_length": lambda k: _flow(k, (X, np.zeros(4)), np.arange(5)),
    "x_y_length": lambda k: _flow(k, X, np.arange(4)),
    "sample_weight_length": lambda k: _flow(k, X, np.arange(5), sample_weight=np.ones(3)),
    "class_split": lambda k: _flow(
        k, X[:4], np.array([0, 0, 1, 1]), subset="training", config=dict(validation_split=0.5)
    ),
    "flow_subset_name": lambda k: _flow(k, X, subset="test", config=dict(validation_split=0.2)),
    "flow_rank": lambda k: _flow(k, np.arange(5)),
    "fit_rank": lambda k: k.ImageDataGenerator().fit(np.zeros((3, 10, 10))),
    "data_format": lambda k: k.ImageDataGenerator(data_format="unknown"),
    "validation_split": lambda k: k.ImageDataGenerator(validation_split=5),
    "zoom_range": lambda k: k.ImageDataGenerator(zoom_range=(1, 2, 3)),
    "brightness_range": lambda k: k.ImageDataGenerator(brightness_range=0.1),
    "affine_distinct": lambda k: k.apply_affine_transform(np.zeros((3, 4, 4)), 10, row_axis=0),
    "affine_axes": lambda k: k.apply_affine_transform(
        np.zeros((3, 4, 4)), 10, row_axis=3, col_axis=1, channel_axis=0
    ),
    "affine_rank": lambda k: k.apply_affine_transform(np.zeros((4, 4)), 10),
    "affine_channel_axis": lambda k: k.apply_affine_transform(
        np.zeros((3, 4, 4)), 10, row_axis=0, col_axis=2, channel_axis=1
    ),
    "random_zoom_length": lambda k: k.random_zoom(0, zoom_range=[0]),
    "random_brightness_length": lambda k: k.random_brightness(0, [0]),
    "directory_subset_name": lambda k: k.ImageDataGenerator().flow_from_directory(".", subset="x"),
    "directory_color_mode": lambda k: k.ImageDataGenerator().flow_from_directory(
        ".", color_mode="cmyk"
    ),
    "directory_missing": lambda k: k.ImageDataGenerator().flow_from_directory(
        "augcore-no-such-folder"
    ),
    "array_to_img_rank": lambda k: k.array_to_img(np.zeros((4, 4))),
    "array_to_img_channels": lambda k: k.array_to_img(np.zeros((4, 4, 2))),
    "img_to_array_shape": lambda k: k.img_to_array(np.zeros((2, 2, 2, 2))),
    "load_img_path_type": lambda k: k.load_img(123),
    "dataframe_x_col_strings": lambda k: k.ImageDataGenerator().flow_from_dataframe(
        k.pandas.DataFrame({"filename": [1, 2], "class": ["a", "b"]})
    ),
    "dataframe_binary_found": lambda k: k.ImageDataGenerator().flow_from_dataframe(
        _frame(k.pandas, ["a", "b", "c"]), class_mode="binary"
    ),
    "dataframe_binary_given": lambda k: k.ImageDataGenerator().flow_from_dataframe(
        _frame(k.pandas, ["a", "b"]), class_mode="binary", classes=["a", "b", "c"]
    ),
    "dataframe_sparse_strings": lambda k: k.ImageDataGenerator().flow_from_dataframe(
        _frame(k.pandas, [1, 2]), class_mode="sparse"
    ),
    "dataframe_multi_output_list": lambda k: k.ImageDataGenerator().flow_from_dataframe(
        _frame(k.pandas, ["a", "b"]), class_mode="multi_output"
    ),
    "dataframe_weight_numeric": lambda k: k.ImageDataGenerator().flow_from_dataframe(
        _frame(k.pandas, ["a", "b"]).assign(w=["x", "y"]), weight_col="w"
    ),
}


def raised(call: Callable[[Any], Any], api: Any) -> BaseException:
    """The exception ``call(api)`` raises (an AssertionError if it raises none)."""
    try:
        call(api)
    except Exception as exc:
        return exc
    raise AssertionError("expected an exception")


def keras_api() -> Any:
    """Keras 3's legacy module with its image utilities and pandas, as one namespace."""
    import pandas
    from keras.src.legacy.preprocessing import image as kimg
    from keras.src.utils import image_utils

    return types.SimpleNamespace(**{**vars(image_utils), **vars(kimg)}, pandas=pandas)


def main() -> int:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    k = keras_api()
    inputs = {"first": CHANNELS_FIRST, "last": CHANNELS_LAST, "signed": CHANNELS_LAST / 100 - 1}
    arrays: dict[str, np.ndarray] = {f"input_{key}": value for key, value in inputs.items()}
    meta: dict[str, Any] = {"legacy": [], "ints": [], "index": [], "errors": {}}
    for name, function, args, kwargs, key in LEGACY_CASES:
        for seed in range(3):
            np.random.seed(seed)
            arrays[f"legacy_{name}_{seed}"] = getattr(k, function)(
                inputs[key].copy(), *args, **kwargs
            )
        meta["legacy"].append(name)
    for dtype in INT_DTYPES:
        arrays[f"int_input_{dtype}"] = _int_image(dtype)
    for i, (dtype, order, mode, cval) in enumerate(INT_CASES):
        for p, params in enumerate(INT_PARAMS):
            arrays[f"int_{i}_{p}"] = k.apply_affine_transform(
                _int_image(dtype), *params, **LAST_AXES, fill_mode=mode, cval=cval, order=order
            )
        meta["ints"].append([dtype, order, mode, cval])
    for i, case in enumerate(INDEX_CASES):
        iterator = k.Iterator(*case)
        for step in range(INDEX_STEPS):
            arrays[f"index_{i}_{step}"] = next(iterator.index_generator)
        meta["index"].append(list(case))
    # A channels_first generator given a channels-last sample, as fit(augment=True) does.
    generator = k.ImageDataGenerator(data_format="channels_first")
    params = {"theta": 20.0, "brightness": 0.6, "flip_horizontal": True}
    arrays["brightness_channels_first"] = generator.apply_transform(CHANNELS_LAST.copy(), params)
    for name, call in ERROR_CASES.items():
        exc = raised(call, k)
        meta["errors"][name] = [type(exc).__name__, str(exc)]
    _save("compat.npz", meta, arrays)
    print(f"wrote compat.npz: {len(arrays)} arrays, {len(ERROR_CASES)} errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
