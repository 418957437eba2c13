"""The example third-party plugin (examples/augcore-example-plugin), loaded from its source tree.

CI also pip-installs it and proves the entry point end to end (.ci/run); here it is registered
explicitly, so the test needs no installation.
"""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest

import augcore
from augcore.config import load_config

EXAMPLE = Path(__file__).parents[1] / "examples" / "augcore-example-plugin"


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> augcore.PluginManager:
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    import augcore_example_plugin

    manager = augcore.PluginManager(autoload=False)
    manager.register(augcore_example_plugin, name="example")
    return manager


def test_the_entry_point_names_the_hook_module() -> None:
    project = load_config(EXAMPLE / "pyproject.toml")
    assert project["project"]["entry-points"]["augcore"] == {"example": "augcore_example_plugin"}
    assert (EXAMPLE / "src" / "augcore_example_plugin" / "__init__.py").is_file()


def test_cutout_erases_exactly_the_recorded_box_and_replays(manager) -> None:
    pipeline = augcore.Pipeline.from_config(
        {"steps": [{"transform": "cutout", "size": [0.2, 0.5], "fill": 7}]}, manager
    )
    image = np.full((20, 30, 3), 200, np.uint8)
    outs, records = pipeline.augment_batch([image] * 3, seed=1, per_image=4)
    for out, record in zip(outs, records, strict=True):
        box = record.steps[0]["params"]
        assert 4 <= box["height"] <= 10 and 6 <= box["width"] <= 15
        expected = image.copy()
        top, left = box["top"], box["left"]
        expected[top : top + box["height"], left : left + box["width"]] = 7
        np.testing.assert_array_equal(out, expected)
        restored = augcore.Record.from_dict(json.loads(json.dumps(record.to_dict())))
        np.testing.assert_array_equal(pipeline.apply_record(image, restored), out)


def test_negative_is_the_negative(manager) -> None:
    pipeline = augcore.Pipeline.from_config({"steps": [{"transform": "negative"}]}, manager)
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    np.testing.assert_array_equal(pipeline.augment(image, seed=0, key="i")[0], 255 - image)
    floats = np.linspace(0, 1, 6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_allclose(pipeline.augment(floats, seed=0, key="f")[0], 1 - floats)


def test_example_params_are_validated_like_builtins(manager) -> None:
    with pytest.raises(augcore.ConfigError, match=r"steps\[0\] \(cutout\).*did you mean 'size'"):
        augcore.Pipeline.from_config({"steps": [{"transform": "cutout", "sise": 0.2}]}, manager)
    with pytest.raises(augcore.ConfigError, match="within"):
        augcore.Pipeline.from_config({"steps": [{"transform": "cutout", "size": 2}]}, manager)


def test_the_guide_example_is_the_example_package(manager) -> None:
    """docs/plugins.md shows the plugin in full; it must behave exactly like the package."""
    guide = (EXAMPLE.parents[1] / "docs" / "plugins.md").read_text()
    section = guide.split("## 5. A complete example", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    module = types.ModuleType("guide_example")
    exec(compile(code, "docs/plugins.md", "exec"), module.__dict__)
    from_guide = augcore.PluginManager(autoload=False, builtins=False)
    from_guide.register(module, name="guide")
    assert {info.name for info in from_guide.transforms()} == {"cutout", "negative"}
    config = {
        "steps": [
            {"transform": "cutout", "size": [0.1, 0.6], "fill": 3},
            {"transform": "negative", "p": 0.5},
        ]
    }
    image = np.random.default_rng(3).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    ours = augcore.Pipeline.from_config(config, manager).augment_batch(
        [image] * 4, seed=9, per_image=3
    )
    guides = augcore.Pipeline.from_config(config, from_guide).augment_batch(
        [image] * 4, seed=9, per_image=3
    )
    np.testing.assert_array_equal(ours[0], guides[0])
    assert [r.to_dict() for r in ours[1]] == [r.to_dict() for r in guides[1]]


def test_quarter_turn_declares_its_canvas_and_equals_rot90(manager) -> None:
    """A third-party geometric transform that changes the canvas: a non-square image turns
    whole (nothing cropped or filled), fused with a built-in step into one warp."""
    pipeline = augcore.Pipeline.from_config(
        {"steps": [{"transform": "quarter_turn", "turns": "odd"}, {"transform": "flip_vertical"}]},
        manager,
    )
    image = np.random.default_rng(5).integers(0, 256, (6, 11, 3), dtype=np.uint8)
    outs, records = pipeline.augment_batch([image], seed=2, per_image=8)
    assert outs.shape == (8, 11, 6, 3)
    turns = [record.steps[0]["params"]["turns"] for record in records]
    assert set(turns) == {1, 3}
    for out, record, t in zip(outs, records, turns, strict=True):
        assert len(record.fused) == 1 and record.steps[0]["canvas"] == [11, 6]
        np.testing.assert_array_equal(out, np.flip(np.rot90(image, t), axis=0))
        np.testing.assert_array_equal(pipeline.apply_record(image, record.to_dict()), out)


def test_quarter_turn_any_needs_a_square_image(manager) -> None:
    pipeline = augcore.Pipeline.from_config({"steps": [{"transform": "quarter_turn"}]}, manager)
    square = np.arange(16, dtype=np.uint8).reshape(4, 4)
    outs, records = pipeline.augment_batch([square], seed=0, per_image=12)
    for out, record in zip(outs, records, strict=True):
        np.testing.assert_array_equal(out, np.rot90(square, record.steps[0]["params"]["turns"]))
    with pytest.raises(augcore.CanvasError, match=r"quarter_turn.*square"):
        pipeline.augment(np.zeros((4, 5), np.uint8), seed=0, key="x")
