"""augcore.keras helpers (load_img, save_img, array_to_img, img_to_array) and argument checks."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from augcore.errors import ConfigError, ImageDtypeError, ImageShapeError, InputImageError
from augcore.keras import (
    ImageDataGenerator,
    apply_affine_transform,
    array_to_img,
    img_to_array,
    load_img,
    save_img,
)


@pytest.fixture
def rgb() -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, size=(9, 13, 3), dtype=np.uint8)


def test_img_to_array_and_back_round_trip_rgb_and_gray(rgb: np.ndarray) -> None:
    x = img_to_array(Image.fromarray(rgb))
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, rgb)
    first = img_to_array(Image.fromarray(rgb), data_format="channels_first")
    np.testing.assert_array_equal(first, rgb.transpose(2, 0, 1))
    gray = img_to_array(Image.fromarray(rgb[..., 0]))
    assert gray.shape == (9, 13, 1)
    back = array_to_img(first, data_format="channels_first", scale=False)
    np.testing.assert_array_equal(np.asarray(back), rgb)


def test_array_to_img_scale_stretches_min_max_to_0_255() -> None:
    x = np.linspace(-2.0, 6.0, 2 * 5 * 1).reshape(2, 5, 1)
    img = array_to_img(x)
    assert img.mode == "L"
    x32 = x.astype(np.float32)  # Keras stretches in float32, then truncates
    expected = ((x32 - x32.min()) / (x32.max() - x32.min()) * np.float32(255)).astype(np.uint8)
    np.testing.assert_array_equal(np.asarray(img), expected[..., 0])


def test_array_to_img_rejects_unsupported_shapes() -> None:
    with pytest.raises(ImageShapeError, match="rank 3"):
        array_to_img(np.zeros((4, 4)))
    with pytest.raises(ImageShapeError, match="Unsupported channel number: 2"):
        array_to_img(np.zeros((4, 4, 2)))


def test_load_img_modes_resize_and_aspect_crop(tmp_path: Path, rgb: np.ndarray) -> None:
    path = tmp_path / "a.png"
    Image.fromarray(rgb).save(path)
    assert load_img(path).mode == "RGB"
    assert load_img(str(path), color_mode="grayscale").mode == "L"
    assert load_img(path, color_mode="rgba").mode == "RGBA"
    resized = load_img(path, target_size=(5, 7), interpolation="bilinear")
    expected = Image.fromarray(rgb).resize((7, 5), Image.Resampling.BILINEAR)
    np.testing.assert_array_equal(np.asarray(resized), np.asarray(expected))
    # keep_aspect_ratio: a centred 9x9 crop of the 9x13 image, then the resize
    cropped = load_img(path, target_size=(3, 3), keep_aspect_ratio=True)
    expected = Image.fromarray(rgb[:, 2:11]).resize((3, 3), Image.Resampling.NEAREST)
    np.testing.assert_array_equal(np.asarray(cropped), np.asarray(expected))


def test_load_img_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.png"
    with pytest.raises(InputImageError, match=r"missing\.png"):
        load_img(missing)
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not a png")
    with pytest.raises(InputImageError, match=r"junk\.png: not a readable image"):
        load_img(junk)
    png = tmp_path / "ok.png"
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(png)
    with pytest.raises(ConfigError, match="Invalid interpolation method cubic"):
        load_img(png, target_size=(2, 2), interpolation="cubic")
    load_img(png, target_size=(3, 3), interpolation="cubic")  # no resize: Keras never checks
    with pytest.raises(ConfigError, match="color_mode"):
        load_img(junk, color_mode="cmyk")


def test_save_img_writes_a_readable_file(tmp_path: Path, rgb: np.ndarray) -> None:
    save_img(tmp_path / "out.png", rgb.astype(np.float32), scale=False)
    with Image.open(tmp_path / "out.png") as saved:
        np.testing.assert_array_equal(np.asarray(saved), rgb)
    rgba = np.concatenate([rgb, np.full((9, 13, 1), 255, np.uint8)], axis=-1)
    with pytest.warns(UserWarning, match="RGBA"):
        save_img(tmp_path / "out.jpg", rgba)
    with Image.open(tmp_path / "out.jpg") as saved:
        assert saved.mode == "RGB" and saved.format == "JPEG"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(fill_mode="mirror"), "fill_mode"),
        (dict(interpolation_order=3), "interpolation_order"),
        (dict(zoom_range=[0.5, 1.0, 2.0]), "zoom_range"),
        (dict(brightness_range=0.5), "brightness_range"),
        (dict(validation_split=1.5), "validation_split"),
        (dict(data_format="channels_middle"), "data_format"),
        (dict(dtype=object()), "dtype"),
    ],
)
def test_generator_rejects_bad_arguments_by_name(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ImageDataGenerator(**kwargs)


def test_generator_accepts_keras_dtype_spellings() -> None:
    assert ImageDataGenerator().dtype == np.float32
    assert ImageDataGenerator(dtype="float64").dtype == np.float64
    assert ImageDataGenerator(dtype=np.float16).dtype == np.float16
    framework_dtype = SimpleNamespace(name="float16")  # e.g. a TensorFlow or Keras dtype object
    assert ImageDataGenerator(dtype=framework_dtype).dtype == np.float16


def test_apply_affine_transform_rejects_bad_images() -> None:
    with pytest.raises(ImageShapeError, match="multi-channel 2D images"):
        apply_affine_transform(np.zeros((5, 5), np.float32), theta=10)
    with pytest.raises(ImageShapeError, match="distinct"):
        apply_affine_transform(np.zeros((3, 5, 5), np.float32), theta=10, row_axis=0)
    with pytest.raises(ImageDtypeError, match="complex128"):
        apply_affine_transform(np.zeros((3, 5, 5), np.complex128), theta=10)


def test_brightness_works_channels_first_where_keras_raises() -> None:
    """Keras feeds channels_first arrays to PIL as channels_last; here both layouts agree."""
    x = np.random.default_rng(2).uniform(0, 255, size=(6, 7, 3)).astype(np.float32)
    params = {"theta": 15.0, "brightness": 0.7}
    last = ImageDataGenerator().apply_transform(x.copy(), params)
    first = ImageDataGenerator(data_format="channels_first").apply_transform(
        np.ascontiguousarray(x.transpose(2, 0, 1)), params
    )
    np.testing.assert_array_equal(first, last.transpose(2, 0, 1))


def test_standardize_warns_until_fit() -> None:
    generator = ImageDataGenerator(featurewise_center=True)
    x = np.ones((2, 3, 3, 3), np.float32)
    with pytest.warns(UserWarning, match="hasn't been fit"):
        generator.standardize(x.copy())
    generator.fit(x)
    np.testing.assert_array_equal(generator.standardize(x.copy()), np.zeros_like(x))


def test_importing_augcore_keras_pulls_in_no_framework_or_scipy() -> None:
    code = (
        "import sys, augcore.keras; "
        "print(sorted(m for m in ('keras', 'jax', 'tensorflow', 'scipy', 'pandas') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_fitted_generator_survives_pickling() -> None:
    generator = ImageDataGenerator(featurewise_center=True, rotation_range=20)
    generator.fit(np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 3))
    clone = pickle.loads(pickle.dumps(generator))
    np.testing.assert_array_equal(clone.mean, generator.mean)
    x = np.random.default_rng(3).uniform(0, 255, size=(5, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        clone.random_transform(x, seed=4), generator.random_transform(x, seed=4)
    )
