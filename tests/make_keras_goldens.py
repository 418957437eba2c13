"""Write the Keras golden fixtures in tests/data/keras/ from real Keras.

Run once, by hand, with Keras 3 and jax installed (never a dependency of augcore or its tests):

    KERAS_BACKEND=jax python tests/make_keras_goldens.py

Every fixture stores its own inputs next to Keras's outputs, and its parameters as a JSON string,
so the tests need neither Keras nor any random generator to check augcore.keras against them.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

OUT_DIR = Path(__file__).parent / "data" / "keras"

SEED_SCRIPT_ARGS = dict(
    rotation_range=40,
    width_shift_range=0.2,
    height_shift_range=0.2,
    shear_range=0.2,
    zoom_range=0.2,
    horizontal_flip=True,
    fill_mode="nearest",
)

# (theta, tx, ty, shear, zx, zy): exact 90/45 degree turns and integer shifts hit .5 ties.
AFFINE_PARAMS = [
    (0.0, 0.0, 0.0, 0.0, 1.0, 1.0),
    (90.0, 0.0, 0.0, 0.0, 1.0, 1.0),
    (45.0, 0.0, 0.0, 0.0, 1.0, 1.0),
    (0.0, 3.0, -5.0, 0.0, 1.0, 1.0),
    (30.0, 2.5, -1.5, 0.0, 1.0, 1.0),
    (0.0, 0.0, 0.0, 20.0, 0.8, 1.3),
    (-17.3, 2.5, -4.1, 12.0, 1.1, 0.9),
    (10.0, 0.0, 0.0, 0.0, 1.6, 1.6),
]
FILL_MODES = ["nearest", "constant", "reflect", "wrap"]
SHAPES_HWC = [(10, 10, 3), (9, 14, 3), (11, 7, 1)]

# A spread of ImageDataGenerator settings for get_random_transform parity.
RANDOM_CONFIGS = [
    SEED_SCRIPT_ARGS,
    dict(width_shift_range=5, height_shift_range=3),
    dict(width_shift_range=[0.1, 0.3], height_shift_range=[2, 4, 6]),
    dict(width_shift_range=1.0, height_shift_range=2.5, vertical_flip=True),
    dict(zoom_range=[0.5, 1.5], channel_shift_range=20.0, brightness_range=(0.5, 1.5)),
    dict(zoom_range=0.0, rotation_range=5, horizontal_flip=True, vertical_flip=True),
    dict(
        rotation_range=90,
        width_shift_range=0.1,
        height_shift_range=0.3,
        shear_range=45,
        zoom_range=(0.7, 1.2),
        channel_shift_range=0.5,
        brightness_range=[0.2, 1.0],
        horizontal_flip=True,
        vertical_flip=True,
    ),
]


def load_golden(name: str) -> tuple[object, dict[str, np.ndarray]]:
    """A fixture's metadata (decoded JSON) and its arrays."""
    with np.load(OUT_DIR / name) as data:
        arrays = {key: data[key] for key in data.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def _json_value(value):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    raise TypeError(f"not JSON-able: {value!r}")


def _save(name: str, meta, arrays: dict[str, np.ndarray]) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT_DIR / name, meta=np.array(json.dumps(_json_value(meta))), **arrays)


def _image(rng: np.random.Generator, shape, low=0.0, high=255.0) -> np.ndarray:
    return rng.uniform(low, high, size=shape).astype(np.float32)


def make_affine(kimg) -> None:
    """apply_affine_transform: every parameter set x fill mode x order x data format x shape."""
    rng = np.random.default_rng(5)
    arrays, cases = {}, []
    for s, shape in enumerate(SHAPES_HWC):
        arrays[f"input{s}"] = _image(rng, shape)
    arrays["input_u8"] = rng.integers(0, 256, size=(9, 14, 3), dtype=np.uint8)
    for s in range(len(SHAPES_HWC)):
        for params in AFFINE_PARAMS:
            for mode in FILL_MODES:
                for order in (0, 1):
                    for data_format in ("channels_last", "channels_first"):
                        cases.append((f"input{s}", params, mode, order, data_format, 37.5))
    for p in (2, 6):
        for mode in ("constant", "reflect"):
            for order in (0, 1):
                cases.append(("input_u8", AFFINE_PARAMS[p], mode, order, "channels_last", 9.0))
    # Keras only swaps rows and columns when col_axis > row_axis; this case keeps them unswapped.
    cases.append(("input1", AFFINE_PARAMS[6], "nearest", 0, "rows_after_cols", 0.0))
    cases.append(("input1", AFFINE_PARAMS[4], "constant", 1, "rows_after_cols", 0.0))
    meta = []
    for i, (key, params, mode, order, data_format, cval) in enumerate(cases):
        x = arrays[key]
        axes = dict(row_axis=0, col_axis=1, channel_axis=2)
        if data_format == "channels_first":
            x = np.ascontiguousarray(x.transpose(2, 0, 1))
            axes = dict(row_axis=1, col_axis=2, channel_axis=0)
        elif data_format == "rows_after_cols":
            x = np.ascontiguousarray(x.transpose(2, 1, 0))
            axes = dict(row_axis=2, col_axis=1, channel_axis=0)
        theta, tx, ty, shear, zx, zy = params
        y = kimg.apply_affine_transform(
            x, theta, tx, ty, shear, zx, zy, fill_mode=mode, cval=cval, order=order, **axes
        )
        arrays[f"out{i}"] = y
        meta.append(
            dict(
                input=key,
                layout=data_format,
                axes=axes,
                params=params,
                fill_mode=mode,
                order=order,
                cval=cval,
            )
        )
    _save("affine.npz", meta, arrays)


def make_transform(kimg) -> None:
    """apply_transform: channel shift, flips and brightness on top of the warp."""
    rng = np.random.default_rng(6)
    arrays = {"input_255": _image(rng, (9, 12, 3)), "input_signed": _image(rng, (9, 12, 3), -1, 2)}
    arrays["input_gray"] = _image(rng, (8, 11, 1))
    param_sets = [
        dict(theta=12.0, tx=1.5, channel_shift_intensity=30.0),
        dict(theta=-20.0, zx=0.9, zy=1.2, flip_horizontal=True),
        dict(shear=15.0, flip_vertical=True, channel_shift_intensity=-12.5),
        dict(theta=5.0, flip_horizontal=1, flip_vertical=1, brightness=0.6),
        dict(tx=-2.0, ty=1.0, brightness=1.4),
        dict(brightness=0.3, channel_shift_intensity=0.25),
        dict(flip_horizontal=True, flip_vertical=True),
    ]
    gen_settings = [
        dict(fill_mode="nearest", interpolation_order=1),
        dict(fill_mode="constant", cval=100.0, interpolation_order=0),
        dict(fill_mode="reflect", interpolation_order=1),
        dict(fill_mode="wrap", interpolation_order=0),
    ]
    meta = []
    for key in ("input_255", "input_signed", "input_gray"):
        for params in param_sets:
            for settings in gen_settings:
                for data_format in ("channels_last", "channels_first"):
                    # Keras's brightness shift ignores data_format and breaks on channels_first.
                    if "brightness" in params and data_format == "channels_first":
                        continue
                    gen = kimg.ImageDataGenerator(data_format=data_format, **settings)
                    x = arrays[key]
                    if data_format == "channels_first":
                        x = np.ascontiguousarray(x.transpose(2, 0, 1))
                    arrays[f"out{len(meta)}"] = gen.apply_transform(x, params)
                    meta.append(
                        dict(input=key, params=params, settings=settings, data_format=data_format)
                    )
    _save("transform.npz", meta, arrays)


def make_random_params(kimg) -> None:
    """get_random_transform with a seed, and random_transform's output for the seed's settings."""
    meta = []
    shapes = [((28, 28, 3), "channels_last"), ((20, 30, 3), "channels_last")]
    shapes.append(((3, 20, 30), "channels_first"))
    for config in RANDOM_CONFIGS:
        for shape, data_format in shapes:
            gen = kimg.ImageDataGenerator(data_format=data_format, **config)
            for seed in (0, 1, 42, 12345):
                params = gen.get_random_transform(shape, seed=seed)
                meta.append(
                    dict(
                        config=config,
                        shape=shape,
                        data_format=data_format,
                        seed=seed,
                        params=params,
                    )
                )
    rng = np.random.default_rng(7)
    arrays = {"input": _image(rng, (20, 30, 3))}
    gen = kimg.ImageDataGenerator(**SEED_SCRIPT_ARGS)
    for seed in range(6):
        arrays[f"random_transform{seed}"] = gen.random_transform(arrays["input"], seed=seed)
    _save("random_params.npz", meta, arrays)


def make_standardize(kimg) -> None:
    """fit (featurewise statistics, ZCA, augment rounds) and standardize."""
    rng = np.random.default_rng(8)
    x = _image(rng, (20, 6, 5, 3))
    arrays = {"x": x}
    configs = [
        dict(featurewise_center=True, featurewise_std_normalization=True),
        dict(
            featurewise_center=True,
            featurewise_std_normalization=True,
            data_format="channels_first",
        ),
        dict(zca_whitening=True),
        dict(zca_whitening=True, zca_epsilon=1e-2, rescale=1 / 255.0),
        dict(samplewise_center=True, samplewise_std_normalization=True),
        dict(rescale=1 / 255.0, featurewise_center=True),
    ]
    meta = []
    for i, config in enumerate(configs):
        gen = kimg.ImageDataGenerator(**config)
        data = x.transpose(0, 3, 1, 2).copy() if config.get("data_format") else x
        gen.fit(data)
        arrays[f"standardized{i}"] = gen.standardize(data.copy())
        for attr in ("mean", "std", "zca_whitening_matrix"):
            if getattr(gen, attr) is not None:
                arrays[f"{attr}{i}"] = getattr(gen, attr)
        meta.append(dict(config=config, augment=False))
    aug_config = dict(
        featurewise_center=True, featurewise_std_normalization=True, **SEED_SCRIPT_ARGS
    )
    gen = kimg.ImageDataGenerator(**aug_config)
    gen.fit(x, augment=True, rounds=2, seed=3)
    arrays[f"mean{len(configs)}"] = gen.mean
    arrays[f"std{len(configs)}"] = gen.std
    meta.append(dict(config=aug_config, augment=True, rounds=2, seed=3))
    _save("standardize.npz", meta, arrays)


def run_flow(generator, arrays: dict, flow_kwargs: dict, count: int, by_index: bool) -> list:
    """Build a flow() the way a "flow.npz" entry describes and take ``count`` batches."""
    kwargs = dict(flow_kwargs)
    x = arrays["x"]
    data = (x, [arrays["misc"]]) if kwargs.pop("misc", False) else x
    for key in ("y", "sample_weight"):  # these name arrays stored in the fixture
        if key in kwargs:
            kwargs[key] = arrays[kwargs[key]]
    return take_batches(generator.flow(data, **kwargs), count, by_index)


def take_batches(iterator, count: int, by_index: bool = False) -> list:
    if by_index:
        return [iterator[i] for i in range(count)]
    return [next(iterator) for _ in range(count)]


def flatten_batch(prefix: str, b: int, batch) -> dict[str, np.ndarray]:
    """Name every array of a (x, y, w) / x / ([x, misc], y) batch: "{prefix}_b{b}_p{part}"."""
    flat = {}
    for p, part in enumerate(batch if isinstance(batch, tuple) else (batch,)):
        if isinstance(part, list):
            for m, sub in enumerate(part):
                flat[f"{prefix}_b{b}_p{p}_m{m}"] = np.asarray(sub)
        else:
            flat[f"{prefix}_b{b}_p{p}"] = np.asarray(part)
    return flat


def _store_batches(arrays: dict, prefix: str, batches: list) -> None:
    for b, batch in enumerate(batches):
        arrays.update(flatten_batch(prefix, b, batch))


def make_flow(kimg) -> None:
    """flow(): shuffling and reseeding per batch, epochs, y, sample weights, subsets, misc x."""
    rng = np.random.default_rng(9)
    x = _image(rng, (10, 8, 6, 3))
    y = np.arange(10) % 3
    weights = np.linspace(0.5, 2.0, 10)
    misc = np.arange(20.0).reshape(10, 2)
    arrays = {"x": x, "y": y, "w": weights, "misc": misc}
    runs = [
        ("seeded_shuffle", dict(**SEED_SCRIPT_ARGS), dict(batch_size=4, seed=7), 6, False),
        (
            "no_shuffle",
            dict(rotation_range=30),
            dict(batch_size=3, shuffle=False, seed=2),
            5,
            False,
        ),
        ("getitem", dict(**SEED_SCRIPT_ARGS), dict(batch_size=4, seed=11), 3, True),
        (
            "y_weights",
            dict(shear_range=10, channel_shift_range=5.0),
            dict(y="y", sample_weight="w", batch_size=4, seed=5),
            4,
            False,
        ),
        (
            "validation",
            dict(validation_split=0.3, rotation_range=10),
            dict(y="y", subset="validation", batch_size=2, seed=3, ignore_class_split=True),
            3,
            False,
        ),
        (
            "training",
            dict(validation_split=0.3, rotation_range=10),
            dict(y="y", subset="training", batch_size=3, seed=3, ignore_class_split=True),
            4,
            False,
        ),
        ("misc", dict(zoom_range=0.3), dict(misc=True, y="y", batch_size=5, seed=13), 3, False),
        (
            "standardized",
            dict(featurewise_center=True, rescale=0.5, horizontal_flip=True),
            dict(batch_size=5, seed=17),
            2,
            False,
        ),
    ]
    meta = []
    for name, config, flow_kwargs, count, by_index in runs:
        gen = kimg.ImageDataGenerator(**config)
        if config.get("featurewise_center"):
            gen.fit(x)
        _store_batches(arrays, name, run_flow(gen, arrays, flow_kwargs, count, by_index))
        meta.append(
            dict(name=name, config=config, flow=flow_kwargs, count=count, by_index=by_index)
        )
    _save("flow.npz", meta, arrays)


def _write_tree(root: Path, arrays: dict) -> list[tuple[str, str]]:
    """Write the class folders of PNG files the directory/dataframe goldens read."""
    from PIL import Image

    rng = np.random.default_rng(10)
    files = []
    sizes = [(12, 9), (8, 8), (10, 14), (9, 9), (13, 7)]
    for c, label in enumerate(["cat", "dog", "owl"]):
        (root / label / "nested").mkdir(parents=True)
        for i in range(4 + c):
            h, w = sizes[(i + c) % len(sizes)]
            pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
            rel = f"{label}/nested/img{i}.png" if i == 3 else f"{label}/img{i}.png"
            Image.fromarray(pixels).save(root / rel)
            arrays[f"file_{len(files)}"] = pixels
            files.append((rel, label))
    return files


def make_directory(kimg) -> None:
    """flow_from_directory and flow_from_dataframe over generated PNG class folders."""
    import pandas as pd

    arrays: dict[str, np.ndarray] = {}
    runs = [
        ("directory", "categorical", dict(rotation_range=20),
         dict(target_size=(8, 8), batch_size=4, seed=1)),
        ("directory", "binary_gray", dict(horizontal_flip=True),
         dict(target_size=(6, 10), color_mode="grayscale", classes=["cat", "owl"],
              class_mode="binary", batch_size=3, seed=2)),
        ("directory", "sparse_rgba", dict(zoom_range=0.2),
         dict(target_size=(7, 7), color_mode="rgba", class_mode="sparse", batch_size=5, seed=3,
              interpolation="bilinear")),
        ("directory", "input_subset", dict(validation_split=0.25, shear_range=10),
         dict(target_size=(8, 8), class_mode="input", subset="training", batch_size=4, seed=4)),
        ("directory", "none_validation", dict(validation_split=0.25),
         dict(target_size=(8, 8), class_mode=None, subset="validation", shuffle=False,
              batch_size=2)),
        ("directory", "aspect", dict(),
         dict(target_size=(8, 5), keep_aspect_ratio=True, shuffle=False, class_mode="sparse",
              batch_size=6)),
        ("dataframe", "df_categorical", dict(rotation_range=15),
         dict(target_size=(8, 8), batch_size=4, seed=5)),
        ("dataframe", "df_raw_weights", dict(),
         dict(target_size=(8, 8), y_col="score", class_mode="raw", weight_col="weight",
              batch_size=4, shuffle=False)),
        ("dataframe", "df_multi", dict(horizontal_flip=True),
         dict(target_size=(6, 6), y_col=["score", "weight"], class_mode="multi_output",
              batch_size=3, seed=6)),
    ]  # fmt: skip
    meta: dict = {"runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = _write_tree(root, arrays)
        meta["files"] = files
        frame = pd.DataFrame(
            {
                "filename": [rel for rel, _ in files],
                "class": [label for _, label in files],
                "score": np.linspace(0.0, 1.0, len(files)),
                "weight": np.arange(len(files), dtype=float) + 1,
            }
        )
        for kind, name, config, kwargs in runs:
            gen = kimg.ImageDataGenerator(**config)
            if kind == "directory":
                iterator = gen.flow_from_directory(str(root), **kwargs)
            else:
                iterator = gen.flow_from_dataframe(frame, directory=str(root), **kwargs)
            count = min(3, len(iterator))
            _store_batches(arrays, name, take_batches(iterator, count))
            meta["runs"].append(
                dict(
                    kind=kind,
                    name=name,
                    config=config,
                    kwargs=kwargs,
                    count=count,
                    filenames=iterator.filenames,
                    class_indices=getattr(iterator, "class_indices", None),
                )
            )
    _save("directory.npz", meta, arrays)


def make_saved(kimg) -> None:
    """What flow(save_to_dir=...) writes for the seed's script, with a seed so it can be matched."""
    from PIL import Image

    rng = np.random.default_rng(12)
    arrays = {"input": rng.integers(0, 256, size=(1, 28, 28, 3)).astype(np.float32)}
    gen = kimg.ImageDataGenerator(**SEED_SCRIPT_ARGS)
    meta = []
    # Seeds 100..102 overlap (run r batch b reseeds with 100 + r + b), so Keras would overwrite
    # its own files in one folder: each batch gets a fresh folder here.
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(3):
            seed = 100 + run
            for b in range(3):
                folder = Path(tmp) / f"run{run}_batch{b}"
                folder.mkdir()
                iterator = gen.flow(
                    arrays["input"],
                    batch_size=1,
                    seed=seed,
                    save_to_dir=str(folder),
                    save_prefix="augmented",
                    save_format="tif",
                )
                for _ in range(b):
                    next(iterator)
                before = set(folder.iterdir())
                next(iterator)
                (newest,) = set(folder.iterdir()) - before
                with Image.open(newest) as saved:
                    arrays[f"saved{len(meta)}"] = np.asarray(saved)
                meta.append(dict(seed=seed, batch=b))
    _save("saved.npz", meta, arrays)


def main() -> int:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    from keras.src.legacy.preprocessing import image as kimg

    for make in (
        make_affine,
        make_transform,
        make_random_params,
        make_standardize,
        make_flow,
        make_directory,
        make_saved,
    ):
        make(kimg)
    total = sum(p.stat().st_size for p in OUT_DIR.glob("*.npz"))
    print(f"wrote {len(list(OUT_DIR.glob('*.npz')))} fixtures, {total / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
