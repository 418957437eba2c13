"""The plugin host: built-ins, entry-point discovery (fake .dist-info), errors, isolation, CLI."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

import augcore
from augcore import hookspecs
from augcore.cli import main
from augcore.manager import BUILTIN_MODULES

FAKE_SITE = Path(__file__).parent / "fake_site"
BUILTINS = {
    "rotate", "shift", "shear", "zoom", "flip_horizontal", "flip_vertical",
    "crop", "random_resized_crop", "resize", "pad", "perspective", "affine",
    "brightness", "contrast", "channel_shift", "gaussian_noise", "grayscale",
    "color_jitter", "hue", "saturation", "gamma",
    "posterize", "solarize", "equalize", "autocontrast", "invert",
    "gaussian_blur", "sharpness", "jpeg_quality", "erase", "identity",
    "policy_shear_x", "policy_shear_y", "policy_translate_x", "policy_translate_y",
    "policy_rotate", "policy_brightness", "policy_color", "policy_contrast", "policy_sharpness",
    "policy_posterize", "policy_solarize",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _no_plugin_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AUGCORE_DISABLE_PLUGIN_AUTOLOAD",
        "AUGCORE_BLOCK_PLUGINS",
        "AUGCORE_PLUGIN_ERRORS",
    ):
        monkeypatch.delenv(name, raising=False)


def names(manager: augcore.PluginManager) -> set[str]:
    return {info.name for info in manager.transforms()}


def test_builtins_come_from_the_fixed_list() -> None:
    manager = augcore.PluginManager(autoload=False)
    assert names(manager) == BUILTINS
    assert {info.origin.plugin for info in manager.transforms()} == set(BUILTIN_MODULES)
    assert all(info.origin.builtin for info in manager.transforms())


def test_entry_points_are_discovered_from_a_dist_info_on_the_path() -> None:
    manager = augcore.PluginManager()
    info = manager.info("fake_posterize")
    assert (info.origin.plugin, info.origin.distribution, info.origin.version) == (
        "fake",
        "augcore-fake-plugin",
        "1.0.0",
    )
    assert names(manager) == BUILTINS | {"fake_posterize"}


def test_a_third_party_transform_works_from_config_and_replays() -> None:
    pipeline = augcore.Pipeline.from_config(
        {"steps": [{"transform": "rotate", "degrees": 10}, {"transform": "fake_posterize"}]}
    )
    image = np.random.default_rng(0).integers(0, 256, (9, 14, 3), dtype=np.uint8)
    outs, records = pipeline.augment_batch([image, image[::-1].copy()], seed=4, per_image=2)
    for index, record in enumerate(records):
        bits = record.steps[1]["params"]["bits"]
        assert 2 <= bits <= 6
        assert not np.any(outs[index] & np.uint8((1 << (8 - bits)) - 1))  # low bits cleared
        restored = augcore.Record.from_dict(json.loads(json.dumps(record.to_dict())))
        source = image if index < 2 else image[::-1]
        np.testing.assert_array_equal(pipeline.apply_record(source, restored), outs[index])


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_autoload_can_be_turned_off(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if how == "argument":
        manager = augcore.PluginManager(autoload=False)
    else:
        monkeypatch.setenv("AUGCORE_DISABLE_PLUGIN_AUTOLOAD", "1")
        manager = augcore.PluginManager()
    assert "fake_posterize" not in manager
    with pytest.raises(augcore.ConfigError, match="unknown transform 'fake_posterize'"):
        augcore.Pipeline.from_config({"steps": [{"transform": "fake_posterize"}]}, manager)


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_a_plugin_can_be_blocked_by_name(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FAKE_SITE / "broken"))
    if how == "argument":
        manager = augcore.PluginManager(block=["broken", "augcore.plugins.pixel"])
    else:
        monkeypatch.setenv("AUGCORE_BLOCK_PLUGINS", "broken, augcore.plugins.pixel")
        manager = augcore.PluginManager()
    assert "fake_posterize" in manager and "rotate" in manager
    assert "brightness" not in manager


def test_an_import_failure_names_the_plugin_and_its_distribution(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(FAKE_SITE / "broken"))
    with pytest.raises(augcore.PluginImportError) as caught:
        augcore.PluginManager()
    message = str(caught.value)
    for piece in ("'broken'", "augcore-broken-plugin 0.1.0", "ModuleNotFoundError",
                  "AUGCORE_BLOCK_PLUGINS=broken"):  # fmt: skip
        assert piece in message


def test_in_warn_mode_a_broken_plugin_is_skipped_and_the_others_work(monkeypatch) -> None:
    for folder in ("broken", "duplicate", "bad_contract"):
        monkeypatch.syspath_prepend(str(FAKE_SITE / folder))
    with pytest.warns(augcore.PluginWarning) as caught:
        manager = augcore.PluginManager(on_error="warn")
    assert names(manager) == BUILTINS | {"fake_posterize"}
    assert len(manager.problems) == 3 == len(caught)
    assert manager.info("rotate").origin.builtin  # the duplicate did not replace it
    monkeypatch.setenv("AUGCORE_PLUGIN_ERRORS", "warn")
    with pytest.warns(augcore.PluginWarning):
        assert names(augcore.PluginManager()) == BUILTINS | {"fake_posterize"}


def test_an_unknown_transform_in_warn_mode_names_the_plugins_that_failed(monkeypatch) -> None:
    """A config naming a skipped plugin's transform says why it is missing."""
    monkeypatch.syspath_prepend(str(FAKE_SITE / "broken"))
    with pytest.warns(augcore.PluginWarning):
        manager = augcore.PluginManager(on_error="warn")
    with pytest.raises(augcore.ConfigError) as caught:
        augcore.Pipeline.from_config({"steps": [{"transform": "broken_thing"}]}, manager)
    message = str(caught.value)
    assert "unknown transform 'broken_thing'" in message
    assert "These plugins failed to load:" in message
    assert "'broken' from distribution augcore-broken-plugin 0.1.0 failed to import" in message


def test_a_duplicate_name_names_both_plugins(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(FAKE_SITE / "duplicate"))
    with pytest.raises(augcore.DuplicateTransformError) as caught:
        augcore.PluginManager()
    message = str(caught.value)
    assert "'rotate'" in message and "augcore-dup-plugin 2.0.0" in message
    assert "built-in plugin 'augcore.plugins.geometric'" in message


def test_a_non_transform_names_the_plugin(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(FAKE_SITE / "bad_contract"))
    with pytest.raises(
        augcore.PluginContractError, match=r"augcore-badcontract-plugin 0\.3\.0.*len"
    ):
        augcore.PluginManager()


def test_a_runtime_contract_violation_names_the_distribution(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(FAKE_SITE / "bad_params"))
    pipeline = augcore.Pipeline.from_config({"steps": [{"transform": "badparams_gain"}]})
    with pytest.raises(augcore.PluginContractError) as caught:
        pipeline.augment(np.zeros((4, 4), np.uint8), seed=0, key="x")
    message = str(caught.value)
    assert "'badparams_gain'" in message and "augcore-badparams-plugin 0.2.0" in message
    assert "'gain' must be a float64, int64 or bool array" in message


class _Module:
    """Stands in for an embedder's plugin module; each instance provides the given classes."""

    def __init__(self, *classes: type) -> None:
        self.classes = classes

    @augcore.hookimpl
    def augcore_transforms(self):
        return self.classes


class Solarize(augcore.PixelTransform):
    """Invert values above a threshold."""

    name = "embedded_solarize"
    params = (augcore.Param("threshold", 128, "int", "uint8 levels", "inversion threshold",
                            minimum=0, maximum=255),)  # fmt: skip

    def apply(self, images, params):
        return np.where(images >= self.options["threshold"], 255 - images, images)


def test_explicit_registration_is_per_manager() -> None:
    first = augcore.PluginManager(autoload=False)
    second = augcore.PluginManager(autoload=False)
    first.register(_Module(Solarize), name="embedder")
    assert "embedded_solarize" in first and "embedded_solarize" not in second
    origin = first.info("embedded_solarize").origin
    assert origin.describe() == "plugin 'embedder' (registered directly)"
    pipeline = augcore.Pipeline.from_config({"steps": [{"transform": "embedded_solarize"}]}, first)
    out, _ = pipeline.augment(np.array([[10, 200]], np.uint8), seed=0, key="s")
    np.testing.assert_array_equal(out, [[10, 55]])
    with pytest.raises(augcore.ConfigError, match="unknown transform 'embedded_solarize'"):
        augcore.Pipeline.from_config({"steps": [{"transform": "embedded_solarize"}]}, second)


def _transform(name: str = "ok", base: type = augcore.PixelTransform, **attributes) -> type:
    def apply(self, images, params):
        return images

    body = {"name": name, "__doc__": "A test transform.", "apply": apply, **attributes}
    return type("T", (base,), body)


@pytest.mark.parametrize(
    ("cls", "match"),
    [
        (_transform(name=""), "lower_snake_case"),
        (_transform(name="Bad Name"), "lower_snake_case"),
        (type("T", (augcore.GeometricTransform,), {"name": "nomatrix"}), r"matrices\(\)"),
        (_transform(params=("degrees",)), "tuple of Param"),
        (_transform(params=(augcore.Param("p", 0.5, "float", "", "x"),)), "not one of"),
        (_transform(params=(augcore.Param("a", 5.0, "float", "", "x", maximum=1),)), "default"),
        (_transform(base=augcore.Transform), "not a subclass"),
    ],
)
def test_contract_violations_are_named(cls: type, match: str) -> None:
    manager = augcore.PluginManager(autoload=False)
    with pytest.raises(augcore.PluginContractError, match=match):
        manager.register(_Module(cls), name="mine")
    assert names(manager) == BUILTINS  # nothing half-registered


@pytest.mark.parametrize(
    ("declaration", "match"),
    [
        (dict(kind="ragne"), r"kind 'ragne'.*did you mean 'range'"),
        (dict(kind="range", single="half"), r"single 'half'.*'symmetric' or 'upto'"),
        (dict(kind="choice"), "kind 'choice' needs choices"),
    ],
)
def test_a_malformed_param_declaration_is_refused_where_it_is_written(declaration, match) -> None:
    """A typo in a Param would otherwise pass silently as some other kind."""
    with pytest.raises(augcore.PluginContractError, match=r"Param 'x': " + match):
        augcore.Param("x", 1, units="", doc="", **declaration)


def test_a_plugin_without_the_hook_is_refused() -> None:
    with pytest.raises(augcore.PluginContractError, match=r"no @augcore\.hookimpl"):
        augcore.PluginManager(autoload=False).register(object(), name="empty")


def test_hookspecs_are_documented_with_an_example() -> None:
    specs = [
        fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if name.startswith("augcore_")
    ]  # fmt: skip
    assert specs
    for spec in specs:
        assert "Example" in (spec.__doc__ or ""), spec.__name__
    assert augcore.hookimpl.project_name == "augcore"


def test_cli_lists_builtins_and_entry_point_plugins_as_json(capsys) -> None:
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    by_name = {entry["name"]: entry for entry in listing["transforms"]}
    assert set(by_name) == BUILTINS | {"fake_posterize"}
    assert by_name["fake_posterize"]["distribution"] == "augcore-fake-plugin"
    assert by_name["fake_posterize"]["version"] == "1.0.0"
    assert by_name["rotate"]["kind"] == "geometric" and by_name["rotate"]["builtin"]
    (degrees,) = by_name["rotate"]["params"]
    assert (degrees["name"], degrees["units"], degrees["minimum"]) == ("degrees", "degrees", -360)
    assert listing["problems"] == []


def test_cli_reports_a_broken_plugin_and_still_lists_the_rest(capsys, monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(FAKE_SITE / "broken"))
    assert main(["plugins"]) == 1
    captured = capsys.readouterr()
    assert "fake_posterize  [pixel, augcore-fake-plugin 1.0.0]" in captured.out
    assert "rotate  [geometric, built-in]" in captured.out
    assert "augcore-broken-plugin 0.1.0 failed to import" in captured.err
