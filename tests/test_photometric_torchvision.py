"""hue, saturation, gamma, gaussian_blur and color_jitter against real torchvision's outputs.

The fixtures were made once by tests/make_torchvision_goldens.py from torchvision v2's tensor
kernels (the versions are in tests/data/torchvision/policies.json); these tests need no torch.
uint8 results must be within one level (torchvision truncates x * 255.999 where augcore
rounds), float32 results within 2e-6 of torchvision's (1e-5 for the blends, whose luma
weights are summed in a different order).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import augcore

GOLDENS = Path(__file__).parent / "data" / "torchvision"
FIXTURES = dict(np.load(GOLDENS / "photometric.npz"))


def cases(kind: str) -> list[str]:
    return sorted(key for key in FIXTURES if key.startswith(kind + "/"))


def pinned(step: dict, key: str) -> np.ndarray:
    """Our output for the golden ``key`` (kind/image/dtype/...), the step's parameters pinned."""
    _, image_name, dtype = key.split("/")[:3]
    image = FIXTURES[f"input/{image_name}"]
    if dtype == "float32":
        image = image.astype(np.float32) / np.float32(255.0)
    out, _ = augcore.Pipeline.from_config({"steps": [step]}).augment(image, seed=0, key="g")
    return out


def assert_close(ours: np.ndarray, key: str, float_tolerance: float = 2e-6) -> None:
    theirs = FIXTURES[key]
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, key
    if ours.dtype == np.uint8:
        worst = np.abs(ours.astype(np.int16) - theirs.astype(np.int16)).max()
        assert worst <= 1, f"{key}: max difference {worst}"
    else:
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=float_tolerance, err_msg=key)


def test_the_fixtures_cover_every_kind() -> None:
    counts = {kind: len(cases(kind)) for kind in ("hue", "saturation", "gamma", "blur", "jitter")}
    assert counts == {"hue": 28, "saturation": 20, "gamma": 16, "blur": 24, "jitter": 18}


@pytest.mark.parametrize("key", cases("hue"))
def test_hue_is_torchvision_adjust_hue(key) -> None:
    hue = float(key.split("/")[3])
    assert_close(pinned({"transform": "hue", "hue": [hue, hue]}, key), key)


@pytest.mark.parametrize("key", cases("saturation"))
def test_saturation_is_torchvision_adjust_saturation(key) -> None:
    factor = float(key.split("/")[3])
    ours = pinned({"transform": "saturation", "factor": [factor, factor]}, key)
    assert_close(ours, key, float_tolerance=1e-5)


@pytest.mark.parametrize("key", cases("gamma"))
def test_gamma_is_torchvision_adjust_gamma(key) -> None:
    gamma, gain = map(float, key.split("/")[3:5])
    assert_close(pinned({"transform": "gamma", "gamma": [gamma, gamma], "gain": gain}, key), key)


@pytest.mark.parametrize("key", cases("blur"))
def test_gaussian_blur_is_torchvision_gaussian_blur(key) -> None:
    size, sigma = int(key.split("/")[3]), float(key.split("/")[4])
    step = {"transform": "gaussian_blur", "kernel_size": size, "sigma": [sigma, sigma]}
    assert_close(pinned(step, key), key)


@pytest.mark.parametrize("key", cases("jitter"))
def test_color_jitter_replays_torchvision_in_the_recorded_order(key) -> None:
    """A hand-written record (order and factors) replays what torchvision computes in that order.

    float32, where no step rounds, must match to 1e-5: that is what pins the order rule. On
    uint8 each of the four steps may differ by a level (torchvision truncates every step where
    augcore rounds) and later factors amplify it: at most 6 levels, under 2.5 on average.
    """
    _, image_name, dtype, index = key.split("/")
    order = [[0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]][int(index)]
    brightness, contrast, saturation, hue = [
        (1.3, 0.7, 1.4, 0.1), (0.6, 1.5, 0.5, -0.2), (1.1, 1.2, 0.0, 0.45)
    ][int(index)]
    params = {"brightness": brightness, "contrast": contrast, "saturation": saturation,
              "hue": hue, "order": order}  # fmt: skip
    record = {"seed": 0, "key": "g", "k": 0, "fused": [],
              "steps": [{"name": "color_jitter", "step": 0, "params": params}]}  # fmt: skip
    image = FIXTURES[f"input/{image_name}"]
    if dtype == "float32":
        image = image.astype(np.float32) / np.float32(255.0)
    pipeline = augcore.Pipeline.from_config({"steps": [{"transform": "color_jitter"}]})
    ours = pipeline.apply_record(image, record)
    if dtype == "float32":
        assert_close(ours, key, float_tolerance=1e-5)
    else:
        difference = np.abs(ours.astype(np.int16) - FIXTURES[key].astype(np.int16))
        assert difference.max() <= 6 and difference.mean() < 2.5, key
