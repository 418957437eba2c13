"""Photometric transforms with pinned parameters against Pillow, their independent oracle.

Pillow's ``ImageEnhance`` and ``ImageOps`` are what torchvision's PIL path calls. uint8 results
must be within one level (Pillow truncates its blends where augcore rounds); table-based ops
(posterize, solarize, equalize, autocontrast, invert) and JPEG must be equal. Each op is run
through a Pipeline on real photographs (the bundled samples) in RGB and L.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageEnhance, ImageOps

import augcore

SAMPLES = Path(augcore.__file__).parent / "data" / "samples"
RGB = np.asarray(Image.open(SAMPLES / "texture.jpg").convert("RGB"))[:96, :128].copy()
SHAPES = np.asarray(Image.open(SAMPLES / "shapes.png").convert("RGB"))[:80, :100].copy()
IMAGES = {
    "rgb": RGB,
    "l": np.asarray(Image.fromarray(RGB).convert("L")),
    "shapes": SHAPES,
    "shapes_l": np.asarray(Image.fromarray(SHAPES).convert("L")),
}
JITTER_OFF = {"brightness": [1, 1], "contrast": [1, 1], "saturation": [1, 1], "hue": [0, 0]}


def run(step: dict, image: np.ndarray, seed: int = 0) -> np.ndarray:
    out, _ = augcore.Pipeline.from_config({"steps": [step]}).augment(image, seed=seed, key="x")
    return out


def pil(image: np.ndarray) -> Image.Image:
    return Image.fromarray(image)


def assert_within_one(ours: np.ndarray, theirs: Image.Image | np.ndarray) -> None:
    expected = np.asarray(theirs)
    assert ours.shape == expected.shape and ours.dtype == expected.dtype
    difference = np.abs(ours.astype(np.int16) - expected.astype(np.int16))
    assert difference.max() <= 1, f"max difference {difference.max()}"


@pytest.fixture(params=sorted(IMAGES))
def image(request: pytest.FixtureRequest) -> np.ndarray:
    return IMAGES[request.param]


@pytest.mark.parametrize("factor", [0.0, 0.35, 1.0, 1.6, 2.0])
def test_color_jitter_brightness_is_image_enhance_brightness(image, factor) -> None:
    step = {"transform": "color_jitter", **JITTER_OFF, "brightness": [factor, factor]}
    assert_within_one(run(step, image), ImageEnhance.Brightness(pil(image)).enhance(factor))


@pytest.mark.parametrize("factor", [0.0, 0.35, 1.0, 1.6, 2.0])
def test_color_jitter_contrast_is_image_enhance_contrast(image, factor) -> None:
    step = {"transform": "color_jitter", **JITTER_OFF, "contrast": [factor, factor]}
    assert_within_one(run(step, image), ImageEnhance.Contrast(pil(image)).enhance(factor))


@pytest.mark.parametrize("factor", [0.0, 0.35, 1.0, 1.6, 2.0])
def test_saturation_is_image_enhance_color(image, factor) -> None:
    expected = ImageEnhance.Color(pil(image)).enhance(factor)
    assert_within_one(run({"transform": "saturation", "factor": [factor, factor]}, image), expected)
    jitter = {"transform": "color_jitter", **JITTER_OFF, "saturation": [factor, factor]}
    assert_within_one(run(jitter, image), expected)


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.0, 1.5, 2.0])
def test_sharpness_is_image_enhance_sharpness(image, factor) -> None:
    expected = ImageEnhance.Sharpness(pil(image)).enhance(factor)
    assert_within_one(run({"transform": "sharpness", "factor": [factor, factor]}, image), expected)


@pytest.mark.parametrize("bits", [1, 3, 4, 8])
def test_posterize_is_image_ops_posterize(image, bits) -> None:
    out = run({"transform": "posterize", "bits": bits}, image)
    np.testing.assert_array_equal(out, np.asarray(ImageOps.posterize(pil(image), bits)))


@pytest.mark.parametrize("threshold", [0.0, 0.25, 0.5, 0.8, 1.0])
def test_solarize_is_image_ops_solarize(image, threshold) -> None:
    out = run({"transform": "solarize", "threshold": [threshold, threshold]}, image)
    expected = ImageOps.solarize(pil(image), threshold * 255.0)
    np.testing.assert_array_equal(out, np.asarray(expected))


@pytest.mark.parametrize("name", ["equalize", "autocontrast", "invert"])
def test_parameterless_tone_ops_are_image_ops(image, name) -> None:
    expected = getattr(ImageOps, name)(pil(image))
    np.testing.assert_array_equal(run({"transform": name}, image), np.asarray(expected))


def test_equalize_and_autocontrast_on_narrow_and_flat_histograms() -> None:
    """The corner cases of Pillow's tables: a flat image, two levels, a narrow band."""
    flat = np.full((9, 11, 3), 77, np.uint8)
    two = np.where(np.arange(99).reshape(9, 11) % 3 == 0, 10, 200).astype(np.uint8)
    narrow = (np.arange(99, dtype=np.uint8).reshape(9, 11) % 7 + 100).astype(np.uint8)
    for image in (flat, two, narrow, np.stack([two, narrow, flat[..., 0]], axis=-1)):
        for name in ("equalize", "autocontrast"):
            expected = np.asarray(getattr(ImageOps, name)(pil(image)))
            np.testing.assert_array_equal(run({"transform": name}, image), expected)


@pytest.mark.parametrize("quality", [1, 10, 55, 95])
def test_jpeg_quality_is_pillow_at_the_recorded_quality(image, quality) -> None:
    pipeline = augcore.Pipeline.from_config(
        {"steps": [{"transform": "jpeg_quality", "quality": [quality, quality]}]}
    )
    out, record = pipeline.augment(image, seed=0, key="x")
    assert record.steps[0]["params"] == {"quality": quality}
    buffer = io.BytesIO()
    pil(image).save(buffer, format="JPEG", quality=quality)
    np.testing.assert_array_equal(out, np.asarray(Image.open(io.BytesIO(buffer.getvalue()))))


@pytest.mark.parametrize(("gamma", "gain"), [(0.5, 1.0), (1.0, 1.0), (2.2, 1.0), (0.8, 1.3)])
def test_gamma_is_torchvision_pil_gamma_table(image, gamma, gain) -> None:
    """torchvision's PIL ``adjust_gamma`` is ``Image.point`` on this table (written out here)."""
    table = [int((255 + 1 - 1e-3) * gain * pow(level / 255.0, gamma)) for level in range(256)]
    channels = 1 if image.ndim == 2 else 3
    expected = pil(image).point([min(255, v) for v in table] * channels)
    out = run({"transform": "gamma", "gamma": [gamma, gamma], "gain": gain}, image)
    assert_within_one(out, expected)


def test_rgb_with_a_trailing_gray_axis_is_the_same_as_gray() -> None:
    """(H, W, 1) images go through every op exactly as (H, W) ones do."""
    gray = IMAGES["l"]
    for step in (
        {"transform": "equalize"},
        {"transform": "sharpness", "factor": [1.7, 1.7]},
        {"transform": "gaussian_blur", "kernel_size": 5, "sigma": [1.2, 1.2]},
        {"transform": "jpeg_quality", "quality": 40},
        {"transform": "color_jitter"},
    ):
        np.testing.assert_array_equal(run(step, gray[..., None])[..., 0], run(step, gray))


RGBA = np.dstack([RGB, np.random.default_rng(5).integers(0, 256, RGB.shape[:2], dtype=np.uint8)])


@pytest.mark.parametrize(
    ("step", "enhancer", "factor"),
    [
        ({"transform": "color_jitter", **JITTER_OFF, "brightness": [1.4, 1.4]}, "Brightness", 1.4),
        ({"transform": "color_jitter", **JITTER_OFF, "contrast": [0.6, 0.6]}, "Contrast", 0.6),
        ({"transform": "saturation", "factor": [1.7, 1.7]}, "Color", 1.7),
        ({"transform": "sharpness", "factor": [1.9, 1.9]}, "Sharpness", 1.9),
    ],
)
def test_enhancements_on_rgba_are_pillows_with_alpha_untouched(step, enhancer, factor) -> None:
    """Pillow's ImageEnhance keeps an RGBA image's alpha, and so does augcore's host."""
    expected = getattr(ImageEnhance, enhancer)(Image.fromarray(RGBA, "RGBA")).enhance(factor)
    out = run(step, RGBA)
    np.testing.assert_array_equal(out[..., 3], RGBA[..., 3])
    assert_within_one(out, expected)


@pytest.mark.parametrize(
    ("step", "op"),
    [
        ({"transform": "posterize", "bits": 3}, lambda image: ImageOps.posterize(image, 3)),
        ({"transform": "solarize", "threshold": [0.5, 0.5]}, ImageOps.solarize),
        ({"transform": "equalize"}, ImageOps.equalize),
        ({"transform": "autocontrast"}, ImageOps.autocontrast),
        ({"transform": "invert"}, ImageOps.invert),
    ],
)
def test_tone_ops_on_rgba_are_pillows_on_the_colour_with_alpha_untouched(step, op) -> None:
    """ImageOps refuses or changes alpha; augcore gives Pillow's RGB result and keeps alpha."""
    out = run(step, RGBA)
    np.testing.assert_array_equal(out[..., 3], RGBA[..., 3])
    np.testing.assert_array_equal(out[..., :3], np.asarray(op(Image.fromarray(RGB))))
