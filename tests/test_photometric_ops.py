"""Photometric transforms as pipeline steps: records, replay, float32, erase boxes, bad params."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import pytest
from augcore.plugins import _kernels
from augcore.plugins.filters import GaussianBlur
from augcore.plugins.tone import Equalize

import augcore

RNG = np.random.default_rng(20261129)
RGB = RNG.integers(0, 256, (3, 21, 26, 3), dtype=np.uint8)
GRAY = RNG.integers(0, 256, (3, 21, 26), dtype=np.uint8)
# Every op with sampling ranges wide enough that each output gets different parameters.
STEPS = [
    {"transform": "color_jitter", "brightness": 0.5, "contrast": 0.5, "saturation": 0.5,
     "hue": 0.3},
    {"transform": "hue", "hue": 0.5},
    {"transform": "saturation", "factor": 0.9},
    {"transform": "gamma", "gamma": [0.3, 3.0], "gain": 1.1},
    {"transform": "posterize", "bits": [1, 8]},
    {"transform": "solarize", "threshold": [0.0, 1.0]},
    {"transform": "equalize"},
    {"transform": "autocontrast"},
    {"transform": "invert"},
    {"transform": "gaussian_blur", "kernel_size": [1, 9], "sigma": [0.2, 3.0]},
    {"transform": "sharpness", "factor": [0.0, 3.0]},
    {"transform": "jpeg_quality", "quality": [1, 95]},
    {"transform": "erase", "count": [0, 3]},
    {"transform": "erase", "fill": "noise", "scale": [0.1, 0.4]},
]  # fmt: skip
IDS = [f"{step['transform']}{i}" for i, step in enumerate(STEPS)]


def pipeline(*steps: dict) -> augcore.Pipeline:
    return augcore.Pipeline.from_config({"steps": list(steps)})


@pytest.mark.parametrize("step", STEPS, ids=IDS)
@pytest.mark.parametrize("images", [RGB, GRAY, GRAY[..., None], RGB.astype(np.float32) / 255],
                         ids=["rgb", "gray", "gray1", "float"])  # fmt: skip
def test_records_replay_exactly_and_batches_equal_single_outputs(step, images) -> None:
    chain = pipeline({"transform": "rotate", "degrees": 5}, step)
    outs, records = chain.augment_batch(images, seed=3, per_image=2)
    assert outs.dtype == images.dtype and outs.shape[1:] == images.shape[1:]
    for i, (out, record) in enumerate(zip(outs, records, strict=True)):
        restored = augcore.Record.from_dict(json.loads(json.dumps(record.to_dict())))
        np.testing.assert_array_equal(chain.apply_record(images[i // 2], restored), out)
        single, _ = chain.augment(images[i // 2], seed=3, key=str(i // 2), k=i % 2)
        np.testing.assert_array_equal(single, out)
    if images.dtype == np.float32:
        assert outs.min() >= 0.0 and outs.max() <= 1.0


@pytest.mark.parametrize(
    "step",
    [
        {"transform": "color_jitter", "brightness": [1.4, 1.4], "contrast": [0.6, 0.6],
         "saturation": [1.7, 1.7], "hue": [0.2, 0.2]},
        {"transform": "hue", "hue": [-0.3, -0.3]},
        {"transform": "saturation", "factor": [1.8, 1.8]},
        {"transform": "gamma", "gamma": [0.6, 0.6]},
        {"transform": "posterize", "bits": 3},
        {"transform": "solarize", "threshold": [0.4, 0.4]},
        {"transform": "equalize"},
        {"transform": "autocontrast"},
        {"transform": "invert"},
        {"transform": "gaussian_blur", "kernel_size": 7, "sigma": [1.5, 1.5]},
        {"transform": "sharpness", "factor": [2.5, 2.5]},
        {"transform": "jpeg_quality", "quality": 30},
        {"transform": "erase", "value": 0.6},
        {"transform": "erase", "fill": "noise"},
    ],
    ids=lambda step: step["transform"],
)
def test_float32_images_are_values_in_0_1_and_match_the_uint8_result(step) -> None:
    """float32 x / 255 gives the uint8 result / 255, within one level and clipped to [0, 1].

    Blends on uint8 start from Pillow's integer degenerate images (luma, mean, SMOOTH), on
    float32 from exact ones; the factor amplifies that half level (jitter: four steps of it).
    """
    chain = pipeline(step)
    eight_bit, records = chain.augment_batch(RGB, seed=1)
    floats, float_records = chain.augment_batch(RGB.astype(np.float32) / np.float32(255), seed=1)
    assert floats.dtype == np.float32 and floats.min() >= 0.0 and floats.max() <= 1.0
    if step["transform"] == "erase" and step.get("fill") == "noise":
        # The same boxes and seeds; the noise is drawn at each dtype's own resolution.
        assert [r.to_dict() for r in records] == [r.to_dict() for r in float_records]
        return
    levels = {"color_jitter": 2.5, "sharpness": 1.5}.get(step["transform"], 1.0)
    np.testing.assert_allclose(floats * 255, eight_bit.astype(np.float32), atol=levels + 1e-3)


def test_color_jitter_records_a_permutation_per_output() -> None:
    _, records = pipeline({"transform": "color_jitter"}).augment_batch(RGB, seed=0, per_image=8)
    orders = [tuple(record.steps[0]["params"]["order"]) for record in records]
    assert all(sorted(order) == [0, 1, 2, 3] for order in orders)
    assert len(set(orders)) > 4


def test_color_jitter_skips_pinned_identities_like_torchvision_skips_none() -> None:
    off = {"brightness": [1, 1], "contrast": [1, 1], "saturation": [1, 1], "hue": [0, 0]}
    out, _ = pipeline({"transform": "color_jitter", **off}).augment(RGB[0], seed=0, key="a")
    np.testing.assert_array_equal(out, RGB[0])


def test_gaussian_blur_draws_odd_sizes_within_the_range() -> None:
    step = {"transform": "gaussian_blur", "kernel_size": [3, 11]}
    _, records = pipeline(step).augment_batch(RGB, seed=2, per_image=40)
    sizes = {record.steps[0]["params"]["kernel_size"] for record in records}
    assert sizes == {3, 5, 7, 9, 11}


def test_gaussian_blur_keeps_a_flat_image_and_its_total() -> None:
    flat = np.full((1, 12, 15, 3), 93, np.uint8)
    params = {"kernel_size": np.array([9]), "sigma": np.array([2.5])}
    np.testing.assert_array_equal(GaussianBlur().apply(flat, params), flat)


def test_erase_fills_exactly_the_recorded_boxes() -> None:
    step = {"transform": "erase", "count": [1, 3], "value": 1.0, "scale": [0.05, 0.2]}
    images = np.zeros((4, 30, 40, 3), np.uint8)
    outs, records = pipeline(step).augment_batch(images, seed=5, per_image=5)
    counts = set()
    for out, record in zip(outs, records, strict=True):
        params = record.steps[0]["params"]
        expected = np.zeros((30, 40, 3), np.uint8)
        boxes = list(zip(*(params[key] for key in ("top", "left", "height", "width")), strict=True))
        for top, left, height, width in boxes:
            assert top >= 0 and top + height <= 30 and left >= 0 and left + width <= 40
            if height:
                area = height * width / (30 * 40)
                assert 0.02 < area < 0.3  # the scale range, up to rounding of small boxes
            expected[top : top + height, left : left + width] = 255
        counts.add(sum(1 for box in boxes if box[2]))
        np.testing.assert_array_equal(out, expected)
    assert counts == {1, 2, 3}


def test_erase_noise_is_uniform_and_replays_from_the_seed() -> None:
    step = {"transform": "erase", "fill": "noise", "scale": [0.3, 0.3], "ratio": [1, 1]}
    image = np.zeros((64, 64, 3), np.uint8)
    chain = pipeline(step)
    out, record = chain.augment(image, seed=0, key="n")
    box = out[out.any(axis=2)]
    assert box.size > 3000 and 110 < box.mean() < 145  # uniform over 0..255
    assert isinstance(record.steps[0]["params"]["noise_seed"], int)
    np.testing.assert_array_equal(chain.apply_record(image, record.to_dict()), out)


@pytest.mark.parametrize(
    ("step", "parameter"),
    [
        ({"transform": "gaussian_blur", "kernel_size": 4}, "kernel_size"),
        ({"transform": "gaussian_blur", "kernel_size": 0}, "kernel_size"),
        ({"transform": "gaussian_blur", "kernel_size": [3, 6]}, "kernel_size"),
        ({"transform": "gaussian_blur", "kernel_size": 3.0}, "kernel_size"),
        ({"transform": "jpeg_quality", "quality": 0}, "quality"),
        ({"transform": "jpeg_quality", "quality": [50, 96]}, "quality"),
        ({"transform": "posterize", "bits": 0}, "bits"),
        ({"transform": "posterize", "bits": 9}, "bits"),
        ({"transform": "posterize", "bits": [4.5, 6]}, "bits"),
        ({"transform": "posterize", "bits": [6, 4]}, "bits"),
        ({"transform": "hue", "hue": 0.6}, "hue"),
        ({"transform": "erase", "fill": "nois"}, "fill"),
    ],
)
def test_bad_parameters_are_config_errors_naming_step_and_parameter(step, parameter) -> None:
    with pytest.raises(augcore.ConfigError) as caught:
        pipeline({"transform": "invert"}, step)
    message = str(caught.value)
    assert f"steps[1] ({step['transform']})" in message and f"parameter {parameter!r}" in message


def test_int_range_parameters() -> None:
    param = augcore.Param("bits", [2, 6], "int_range", "bits", "doc", minimum=1, maximum=8)
    assert param.validate([4, 6], "here") == (4, 6)
    assert param.validate(5, "here") == (5, 5)
    for bad in ([4.5, 6], 4.0, True, [1, 9], [3], "4"):
        with pytest.raises(augcore.ConfigError, match="parameter 'bits'"):
            param.validate(bad, "here")
    info = augcore.Param("k", 3, "int_range", "px", "doc", minimum=1, odd=True).to_json()
    assert info["kind"] == "int_range" and info["odd"] and "odd" in info["allowed"]


def test_two_or_four_channel_batches_are_refused_by_the_ops_themselves() -> None:
    """The host hands ops colour channels only; an op never guesses which channel is alpha."""
    with pytest.raises(augcore.ImageShapeError, match="1 \\(gray\\) or 3 \\(RGB\\)"):
        Equalize().apply(np.zeros((1, 4, 4, 4), np.uint8), {})


@pytest.mark.parametrize("step", STEPS, ids=IDS)
def test_rgba_alpha_is_untouched_and_colour_is_the_rgb_result(step) -> None:
    rgba = np.concatenate([RGB, RNG.integers(0, 256, (*RGB.shape[:3], 1), np.uint8)], axis=-1)
    chain = pipeline(step)
    outs, _ = chain.augment_batch(rgba, seed=4)
    colour, _ = chain.augment_batch(np.ascontiguousarray(rgba[..., :3]), seed=4)
    np.testing.assert_array_equal(outs[..., 3], rgba[..., 3])
    np.testing.assert_array_equal(outs[..., :3], colour)


DOCS = Path(__file__).parents[1] / "docs"
PHOTOMETRIC_MODULES = ("color", "tone", "filters", "erase", "policy_ops")


def python_block(path: Path, heading: str, containing: str = "") -> str:
    """The first ```python block of the section under ``heading`` that contains ``containing``."""
    section = path.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]
    return next(block for block in blocks if containing in block)


def test_the_policy_example_in_the_docs_runs() -> None:
    code = python_block(DOCS / "transforms.md", "## Augmentation policies")
    exec(compile(code, "docs/transforms.md", "exec"), {})


def test_the_int_range_example_in_the_plugin_guide_runs() -> None:
    code = python_block(DOCS / "plugins.md", "## 4. Declaring parameters", "int_range")
    exec(compile(code, "docs/plugins.md", "exec"), {"augcore": augcore})


def test_every_photometric_transform_and_parameter_is_documented() -> None:
    docs = (DOCS / "transforms.md").read_text()
    for module in PHOTOMETRIC_MODULES:
        for cls in importlib.import_module(f"augcore.plugins.{module}").TRANSFORMS:
            assert f"`{cls.name}`" in docs and cls.summary(), cls.name
            for param in cls.params:
                assert f"`{param.name}`" in docs and param.doc, (cls.name, param.name)


@pytest.mark.skipif(not _kernels.has_avx2(), reason="this CPU has no AVX2: one build runs")
@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_the_avx2_build_computes_the_same_values_as_the_baseline_build(dtype) -> None:
    from augcore.plugins import _kernels_avx2

    images = RNG.integers(0, 256, (3, 19, 23, 3)).astype(dtype)
    if dtype == np.float32:
        images /= 255
    flat, pixels = images.reshape(3, -1), images.reshape(3, -1, 3)
    factor = np.array([0.3, 1.0, 1.8], np.float32)
    weights = RNG.random((3, 7)).astype(np.float32)
    for name, args in (
        ("blend_constant", (flat, factor, factor)),
        ("blend_luma", (pixels, factor)),
        ("hue_shift", (pixels, factor - 1.2)),
        ("gaussian_blur", (images, weights)),
        ("sharpen", (images, factor)),
    ):
        outs = []
        for module in (_kernels, _kernels_avx2):
            out = np.empty_like(args[0])
            getattr(module, name)(args[0], out, *args[1:])
            outs.append(out)
        np.testing.assert_array_equal(outs[0], outs[1], err_msg=name)
    for name in ("luma_means", "channel_ranges"):
        np.testing.assert_array_equal(
            getattr(_kernels, name)(pixels), getattr(_kernels_avx2, name)(pixels), err_msg=name
        )


@pytest.mark.parametrize(
    ("shape", "size"), [((3, 4, 3), 9), ((1, 7), 5), ((40, 2, 3), 11), ((13, 17, 1), 7)]
)
def test_gaussian_blur_on_images_smaller_than_its_kernel_is_scipys_mirror(shape, size) -> None:
    """Borders mirror without repeating the edge (torch's "reflect" is scipy's "mirror"),
    however many times the kernel reaches past a tiny image."""
    import scipy.ndimage as ndi
    from augcore.plugins.filters import gaussian_kernels

    image = RNG.integers(0, 256, shape).astype(np.uint8)
    step = {"transform": "gaussian_blur", "kernel_size": size, "sigma": [1.3, 1.3]}
    out, _ = pipeline(step).augment(image, seed=0, key="tiny")
    weights = gaussian_kernels(size, np.array([1.3]))[0].astype(np.float32).astype(np.float64)
    expected = image.astype(np.float64)
    for axis in (0, 1):
        expected = ndi.correlate1d(expected, weights, axis=axis, mode="mirror")
    assert np.abs(out.astype(np.float64) - np.rint(expected)).max() <= 1
