"""What docs/plugins.md promises plugin authors, checked against the code.

The JSON tables are read from the page itself, so the documented shape of
``augcore plugins --json`` cannot drift from what the command prints.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import augcore
from augcore.manager import PluginManager

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"


def _documented_tables() -> list[set[str]]:
    """The key columns of the three tables after "augcore plugins --json" in the guide."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text[text.index("**`augcore plugins --json`**") :]
    tables, current = [], None
    for line in section.splitlines():
        match = re.match(r"^\| `(\w+)` \|", line)
        if match:
            current = current if current is not None else set()
            current.add(match.group(1))
        elif current is not None and not line.startswith("|"):
            tables.append(current)
            current = None
        if len(tables) == 3:
            break
    return tables


def test_plugins_json_has_exactly_the_documented_keys() -> None:
    listing_keys, transform_keys, param_keys = _documented_tables()
    result = subprocess.run(
        [sys.executable, "-m", "augcore", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    listing = json.loads(result.stdout)
    assert set(listing) == listing_keys
    names = [entry["name"] for entry in listing["transforms"]]
    assert names == sorted(names)
    for entry in listing["transforms"]:
        assert set(entry) == transform_keys
        for param in entry["params"]:
            optional = {"minimum", "maximum", "choices"}
            assert set(param) - optional == param_keys - optional
            assert set(param) <= param_keys


class _Band(augcore.PixelTransform):
    """Clip into [low, high] (low <= high checked by check_options)."""

    name = "test_band"
    params = (
        augcore.Param("low", 0.0, "float", "value units", "lower bound"),
        augcore.Param("high", 255.0, "float", "value units", "upper bound"),
    )
    checked: ClassVar[list[dict[str, Any]]] = []

    def check_options(self) -> None:
        type(self).checked.append(dict(self.options))
        if self.options["low"] > self.options["high"]:
            raise augcore.ConfigError(f"low {self.options['low']} must be <= high")

    def apply(self, images: np.ndarray, params: Any) -> np.ndarray:
        return np.clip(images, self.options["low"], self.options["high"]).astype(images.dtype)


class _Module:
    """A plugin module for PluginManager.register."""

    @staticmethod
    @augcore.hookimpl
    def augcore_transforms() -> list[type[augcore.Transform]]:
        return [_Band]


def test_check_options_sees_normalised_options_and_refuses() -> None:
    _Band.checked.clear()
    _Band(low=3, high=4)
    assert _Band.checked == [{"low": 3.0, "high": 4.0}]
    with pytest.raises(augcore.ConfigError, match=r"low 5\.0 must be <= high"):
        _Band(low=5, high=4)


def test_check_options_errors_name_the_config_step() -> None:
    manager = PluginManager(autoload=False)
    manager.register(_Module, name="band-plugin")
    config = {"steps": [{"transform": "rotate"}, {"transform": "test_band", "low": 9, "high": 1}]}
    with pytest.raises(augcore.ConfigError, match=r"steps\[1\] \(test_band\).*low 9.0 must be"):
        augcore.Pipeline.from_config(config, manager)
    ok = augcore.Pipeline.from_config({"steps": [{"transform": "test_band", "high": 9}]}, manager)
    assert ok.augment(np.full((4, 4), 50, np.uint8), seed=0, key="a")[0].max() == 9


def test_a_plugin_whose_defaults_fail_check_options_is_refused_when_it_registers() -> None:
    class Broken(_Band):
        name = "test_broken_band"
        params = (
            augcore.Param("low", 9.0, "float", "value units", "lower bound"),
            augcore.Param("high", 1.0, "float", "value units", "upper bound"),
        )

    class Module:
        @staticmethod
        @augcore.hookimpl
        def augcore_transforms() -> list[type[augcore.Transform]]:
            return [Broken]

    manager = PluginManager(autoload=False)
    with pytest.raises(augcore.PluginContractError, match=r"low 9\.0 must be <= high"):
        manager.register(Module, name="broken-band")


class _Named(augcore.PixelTransform):
    """Samples parameters named like the record's own fields."""

    name = "test_named"

    def sample(self, draws: Any, shape: Any) -> dict[str, np.ndarray]:
        return {"name": draws.uniform(0), "step": draws.integers(1, 0, 9), "seed": draws.seeds(2)}

    def apply(self, images: np.ndarray, params: Any) -> np.ndarray:
        return (images + (params["step"] % 2).reshape(-1, *[1] * (images.ndim - 1))).astype(
            images.dtype
        )


def test_no_name_is_reserved_inside_params() -> None:
    pipeline = augcore.Pipeline([_Named()])
    image = np.full((5, 6), 10, np.uint8)
    out, record = pipeline.augment(image, seed=1, key="a", k=3)
    data = json.loads(json.dumps(record.to_dict()))
    assert set(data["steps"][0]["params"]) == {"name", "step", "seed"}
    assert data["steps"][0]["name"] == "test_named"
    assert np.array_equal(pipeline.apply_record(image, data), out)


def test_augment_batch_returns_what_the_guide_says() -> None:
    pipeline = augcore.Pipeline.default()
    images = np.random.default_rng(0).integers(0, 256, (3, 10, 12, 3), dtype=np.uint8)
    outs, records = pipeline.augment_batch(images, seed=2, keys=["a", "b", "c"], per_image=2)
    assert outs.shape == (6, 10, 12, 3) and outs.dtype == np.uint8 and len(records) == 6
    out, record = pipeline.augment(images[1], seed=2, key="b", k=1)
    assert np.array_equal(outs[3], out) and records[3].to_dict() == record.to_dict()
