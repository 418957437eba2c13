"""Config files and dicts: validation before any image is touched, and the round trip."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import augcore
from augcore.config import load_config

FULL = {
    "order": 1,
    "fill_mode": "reflect",
    "cval": 0.0,
    "steps": [
        {"transform": "rotate", "degrees": 40, "p": 0.9},
        {"transform": "shift", "x": [0, 4], "y": 2, "unit": "pixels"},
        {"transform": "zoom", "factor": [0.9, 1.3], "per_axis": True},
        {
            "one_of": [{"transform": "brightness"}, {"transform": "contrast", "factor": 0.5}],
            "weights": [2, 1],
            "p": 0.5,
        },
        {
            "some_of": [
                {"transform": "flip_horizontal"},
                {"transform": "gaussian_noise", "sigma": 3},
                {"one_of": [{"transform": "grayscale"}, {"transform": "channel_shift"}]},
            ],
            "n": [1, 2],
        },
    ],
}

TOML = """
order = 1
fill_mode = "reflect"

[[steps]]
transform = "rotate"
degrees = 40
p = 0.9

[[steps]]
transform = "shift"
x = [0, 4]
y = 2
unit = "pixels"

[[steps]]
transform = "zoom"
factor = [0.9, 1.3]
per_axis = true

[[steps]]
one_of = [{ transform = "brightness" }, { transform = "contrast", factor = 0.5 }]
weights = [2, 1]
p = 0.5

[[steps]]
some_of = [
    { transform = "flip_horizontal" },
    { transform = "gaussian_noise", sigma = 3 },
    { one_of = [{ transform = "grayscale" }, { transform = "channel_shift" }] },
]
n = [1, 2]
"""


@pytest.fixture
def manager() -> augcore.PluginManager:
    return augcore.PluginManager(autoload=False)


def test_toml_json_and_dict_give_the_same_pipeline(tmp_path: Path, manager) -> None:
    (tmp_path / "chain.toml").write_text(TOML)
    (tmp_path / "chain.json").write_text(json.dumps(FULL))
    from_dict = augcore.Pipeline.from_config(FULL, manager=manager)
    assert augcore.Pipeline.from_config(tmp_path / "chain.toml", manager=manager) == from_dict
    assert augcore.Pipeline.from_config(str(tmp_path / "chain.json"), manager=manager) == from_dict


def test_to_config_round_trips_through_json(manager) -> None:
    pipeline = augcore.Pipeline.from_config(FULL, manager=manager)
    config = json.loads(json.dumps(pipeline.to_config()))
    again = augcore.Pipeline.from_config(config, manager=manager)
    assert again == pipeline
    assert again.to_config() == config
    # Normalised forms: symmetric numbers become explicit ranges, defaults are written out.
    assert config["steps"][0] == {"transform": "rotate", "degrees": [-40.0, 40.0], "p": 0.9}
    assert config["steps"][1]["y"] == [-2.0, 2.0]
    assert config["steps"][3]["one_of"][0] == {
        "transform": "brightness",
        "factor": [0.8, 1.2],
        "p": 1.0,
    }
    assert config["steps"][4]["some_of"][1]["sigma"] == [0.0, 3.0]


def test_the_default_config_file_parses_and_round_trips(manager) -> None:
    shipped = augcore.pipeline.DEFAULT_CONFIG
    assert shipped.is_file()
    pipeline = augcore.Pipeline.from_config(shipped, manager=manager)
    assert augcore.Pipeline.from_config(pipeline.to_config(), manager=manager) == pipeline
    assert augcore.Pipeline.default() == pipeline


def test_python_built_pipeline_round_trips(manager) -> None:
    from augcore.plugins.geometric import FlipVertical, Rotate
    from augcore.plugins.pixel import Brightness

    pipeline = augcore.Pipeline(
        [Rotate(degrees=[-5, 10]), augcore.SomeOf([FlipVertical(), Brightness()], n=1, p=0.2)],
        fill_mode="constant",
        cval=7,
    )
    assert augcore.Pipeline.from_config(pipeline.to_config(), manager=manager) == pipeline


@pytest.mark.parametrize(
    ("config", "pieces"),
    [
        (
            {"steps": [{"transform": "rotat"}]},
            ["steps[0]", "unknown transform 'rotat'", "did you mean 'rotate'"],
        ),
        (
            {"steps": [{"transform": "rotate"}, {"transform": "zoom", "factr": 0.1}]},
            ["steps[1] (zoom)", "unknown parameter 'factr'", "did you mean 'factor'", "per_axis"],
        ),
        (
            {"steps": [{"transform": "rotate", "degrees": 400}]},
            ["steps[0] (rotate)", "'degrees'", "400", "within [-360, 360]"],
        ),
        (
            {"steps": [{"transform": "rotate", "degrees": "40"}]},
            ["steps[0] (rotate)", "'degrees' got '40'", "[low, high]"],
        ),
        (
            {"steps": [{"transform": "zoom", "factor": [1.2, 0.8]}]},
            ["steps[0] (zoom)", "low > high"],
        ),
        (
            {"steps": [{"transform": "zoom", "per_axis": "yes"}]},
            ["steps[0] (zoom)", "'per_axis'", "true or false"],
        ),
        (
            {"steps": [{"transform": "shift", "unit": "px"}]},
            ["steps[0] (shift)", "'unit'", "one of 'fraction', 'pixels'"],
        ),
        (
            {"steps": [{"transform": "rotate", "p": 1.5}]},
            ["steps[0] (rotate)", "'p' got 1.5", "[0, 1]"],
        ),
        (
            {"steps": [{"one_of": [{"transform": "rotate"}], "weights": [1, 2]}]},
            ["steps[0]", "'weights'", "one number >= 0 per member (1 in all)"],
        ),
        (
            {"steps": [{"some_of": [{"transform": "rotate"}], "n": 2}]},
            ["steps[0]", "'n' got 2", "<= 1"],
        ),
        (
            {"steps": [{"some_of": [{"transform": "rotate", "degres": 3}]}]},
            ["steps[0].some_of[0] (rotate)", "did you mean 'degrees'"],
        ),
        (
            {"steps": [{"one_of": [{"transform": "rotate"}], "wieghts": [1]}]},
            ["steps[0]", "unknown key 'wieghts'", "did you mean 'weights'"],
        ),
        ({"steps": [{"p": 0.5}]}, ["steps[0]", "exactly one of 'transform'"]),
        ({"stepps": []}, ["unknown key 'stepps'", "did you mean 'steps'"]),
        ({"fill_mode": "wrapp"}, ["'fill_mode' got 'wrapp'", "did you mean 'wrap'"]),
        ({"order": 3}, ["'order' got 3", "0 (nearest) or 1 (bilinear)"]),
        ({"steps": {"transform": "rotate"}}, ["'steps' must be a list"]),
        (
            {"steps": [{"transform": ["rotate"]}]},
            ["steps[0]", "unknown transform ['rotate']", "available: affine, autocontrast"],
        ),
        (
            {"steps": [{"one_of": [{"transform": "rotate"}], "weights": 3}]},
            ["steps[0]", "'weights' got 3", "one number >= 0 per member"],
        ),
    ],
)
def test_bad_configs_name_the_step_the_key_and_what_is_allowed(config, pieces, manager) -> None:
    with pytest.raises(augcore.ConfigError) as caught:
        augcore.Pipeline.from_config(config, manager=manager)
    for piece in pieces:
        assert piece in str(caught.value)


def test_python_construction_validates_too() -> None:
    from augcore.plugins.geometric import Rotate

    with pytest.raises(augcore.ConfigError, match="did you mean 'degrees'"):
        Rotate(degree=4)
    with pytest.raises(augcore.ConfigError, match="a chain step must be"):
        augcore.Pipeline(["rotate"])


def test_numpy_numbers_are_accepted_wherever_python_numbers_are(manager) -> None:
    """Values computed with numpy (np.float32 p, np.int64 n and order) are numbers too."""
    config = {
        "order": np.int64(1),
        "steps": [
            {"transform": "rotate", "degrees": np.float32(10), "p": np.float32(0.5)},
            {
                "one_of": [{"transform": "brightness"}, {"transform": "contrast"}],
                "weights": [np.float32(2), np.int64(1)],
            },
            {"some_of": [{"transform": "flip_horizontal"}], "n": np.int64(1)},
        ],
    }
    pipeline = augcore.Pipeline.from_config(config, manager=manager)
    plain = json.loads(json.dumps(pipeline.to_config()))
    assert plain["order"] == 1
    assert plain["steps"][0]["p"] == 0.5
    assert plain["steps"][1]["weights"] == [2.0, 1.0]
    assert plain["steps"][2]["n"] == [1, 1]


def test_groups_built_in_python_need_a_list_of_members() -> None:
    from augcore.plugins.geometric import Rotate

    with pytest.raises(augcore.ConfigError, match="one_of: needs a non-empty list of members"):
        augcore.OneOf(Rotate())  # type: ignore[arg-type]
    with pytest.raises(augcore.ConfigError, match="some_of: needs a non-empty list of members"):
        augcore.SomeOf([])


def test_config_file_problems_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(augcore.ConfigError, match=r"missing\.toml: cannot read"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = [")
    with pytest.raises(augcore.ConfigError, match=r"bad\.toml: not valid TOML"):
        load_config(bad)
    yaml = tmp_path / "chain.yaml"
    yaml.write_text("steps: []")
    with pytest.raises(augcore.ConfigError, match=r"must end in \.toml or \.json"):
        load_config(yaml)
    listing = tmp_path / "list.json"
    listing.write_text("[]")
    with pytest.raises(augcore.ConfigError, match="top level must be a table/object"):
        load_config(listing)


def test_toml_without_tomllib_or_tomli_says_what_to_do(tmp_path, monkeypatch) -> None:
    path = tmp_path / "chain.toml"
    path.write_text(TOML)
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    with pytest.raises(
        augcore.ConfigError, match=r"needs the 'tomli' package.*or write the config as JSON"
    ):
        load_config(path)


def test_a_policy_named_as_a_transform_says_how_to_write_it() -> None:
    with pytest.raises(augcore.ConfigError, match=r"steps\[0\]: 'trivial_augment' is a policy"):
        augcore.Pipeline.from_config({"steps": [{"transform": "trivial_augment"}]})
    augcore.Pipeline.from_config({"steps": [{"trivial_augment": {}}]})
