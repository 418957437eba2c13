"""Issue 12, class 5: validation is total.

Every config — a dict, a JSON file, a TOML file — builds or raises ConfigError; every config
that builds augments and records (its records are plain JSON). Members tried: arbitrary JSON
values (a hypothesis property), config-shaped values with every known transform and parameter
given arbitrary JSON, deep nesting, integers beyond 64 bits and beyond float range, non-string
keys, non-UTF-8 and non-text files, sampled values that overflow, weights whose sum overflows.
Job options get the same treatment (``JobOptionError``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import augcore
from augcore.errors import AugcoreError, ConfigError, JobOptionError

IMAGE = np.arange(6 * 7 * 3, dtype=np.uint8).reshape(6, 7, 3)
TRANSFORMS = {info.cls.name: info.cls for info in augcore.PluginManager().transforms()}

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**62, max_value=2**70)
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

# Values a config might well hold, so that many generated configs build and get run too.
plausible = (
    st.floats(-50, 50)
    | st.lists(st.floats(-2, 2), min_size=2, max_size=2)
    | st.lists(st.integers(0, 3), min_size=2, max_size=2)
    | st.integers(0, 3)
    | st.booleans()
)
values = st.one_of(plausible, plausible, json_values)


@st.composite
def steps(draw: st.DrawFn, depth: int = 0) -> object:
    """A step or group that looks like a config's, with arbitrary values where values go."""
    kind = draw(
        st.sampled_from(
            ["transform", "transform", "one_of", "some_of"] if depth < 2 else ["transform"]
        )
    )
    if kind == "transform":
        name = draw(st.sampled_from(sorted(TRANSFORMS)))
        names = [param.name for param in TRANSFORMS[name].params] + ["p"]
        options = draw(st.dictionaries(st.sampled_from(names), values, max_size=3))
        return {"transform": name, **options}
    members = draw(st.lists(steps(depth + 1), min_size=0, max_size=3))
    group: dict[str, object] = {kind: members}
    extra = "weights" if kind == "one_of" else "n"
    if draw(st.booleans()):
        group[extra] = draw(values | st.lists(st.floats(allow_nan=False), max_size=3))
    if draw(st.booleans()):
        group["p"] = draw(values)
    return group


configs = st.fixed_dictionaries(
    {"steps": st.lists(steps(), max_size=3)},
    optional={
        "order": values,
        "fill_mode": values | st.sampled_from(["nearest", "constant", "reflect", "wrap"]),
        "cval": values,
    },
)


def _builds_and_records_or_refuses(config: object) -> None:
    """Builds, then augments and records, or refuses by name: a ConfigError, or at augment time
    an AugcoreError (a crop larger than the image; a MatrixError or PluginContractError for a
    chain whose sampled values overflow, which ``run`` turns into a ConfigError before writing).
    Never another exception."""
    try:
        pipeline = augcore.Pipeline.from_config(config)
    except ConfigError:
        return
    for k in range(3):
        try:
            _, record = pipeline.augment(IMAGE, seed=k, key=f"x{k}", k=k)
        except AugcoreError:  # named: e.g. a crop larger than this small image
            return
        json.dumps(record.to_dict(), allow_nan=False)  # what the manifest will hold


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_any_json_value_builds_or_is_a_config_error(value):
    _builds_and_records_or_refuses(value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_any_config_shaped_value_builds_and_records_or_is_a_config_error(config):
    _builds_and_records_or_refuses(config)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(configs)
def test_the_same_configs_from_json_files(tmp_path_factory, config):
    path = tmp_path_factory.mktemp("config") / "chain.json"
    path.write_text(json.dumps(config))
    _builds_and_records_or_refuses(path)


def _deep(levels: int) -> dict[str, object]:
    node: dict[str, object] = {"transform": "flip_horizontal"}
    for _ in range(levels):
        node = {"one_of": [node]}
    return {"steps": [node]}


@pytest.mark.parametrize("levels", [50, 5_000])
def test_deep_nesting_is_a_config_error_naming_the_depth(levels):
    with pytest.raises(ConfigError, match="nest"):
        augcore.Pipeline.from_config(_deep(levels))


def test_a_deeply_nested_json_file_is_a_config_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match=r"deep\.json"):
        augcore.Pipeline.from_config(path)


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"steps": [{"transform": "rotate", "degrees": 10**400}]}, "degrees"),
        ({"steps": [{"transform": "rotate", "degrees": [-(2**64), 2**64]}]}, "degrees"),
        ({"steps": [{"transform": "rotate", "p": 10**400}]}, "p"),
        ({"cval": 10**400, "steps": []}, "cval"),
        ({"order": 2**64, "steps": []}, "order"),
        ({"steps": [{"some_of": [{"transform": "flip_vertical"}], "n": 2**64}]}, "n"),
        ({1: 2}, "key"),
        ({"steps": [{1: "rotate"}]}, "key"),
        (
            {
                "steps": [
                    {
                        "one_of": [
                            {"transform": "flip_vertical"},
                            {"transform": "flip_horizontal"},
                        ],
                        "weights": [1e308, 1e308],
                    }
                ]
            },
            "weights",
        ),
        (
            {"steps": [{"one_of": [{"transform": "flip_vertical"}], "weights": [10**400]}]},
            "weights",
        ),
    ],
)
def test_values_beyond_range_are_config_errors_naming_where(config, where):
    with pytest.raises(ConfigError, match=where):
        augcore.Pipeline.from_config(config)


def test_a_run_refuses_a_chain_whose_sampled_values_overflow_before_writing(tmp_path):
    from test_job import make_tree

    data = make_tree(tmp_path / "data", ("a.png",))
    config = {"steps": [{"transform": "shift", "x": 1e308}]}
    with pytest.raises(ConfigError, match="overflow"):
        augcore.run([data], tmp_path / "out", per_image=1, seed=0, config=config, jobs=1)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("latin.json", b'{"steps": [{"transform": "rot\xe9"}]}'),
        ("latin.toml", b'[[steps]]\ntransform = "rot\xe9"\n'),
        ("binary.json", b"\x89PNG\r\n\x1a\n"),
        ("utf16.json", '{"steps": []}'.encode("utf-16")),
    ],
)
def test_a_config_file_that_is_not_utf8_text_is_a_config_error_naming_it(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=name.replace(".", r"\.")):
        augcore.Pipeline.from_config(path)


def test_a_config_that_is_a_fifo_is_refused_not_opened(tmp_path, no_hang):
    import os

    path = tmp_path / "chain.json"
    os.mkfifo(path)
    with pytest.raises(ConfigError, match="FIFO"):
        augcore.Pipeline.from_config(path)


@pytest.mark.parametrize(
    "option",
    [
        {"per_image": 2**64 + 0.5},
        {"per_image": 1.0},
        {"seed": float("inf")},
        {"seed": "0"},
        {"seed": 2**64},
        {"seed": -1},
        {"max_pixels": 0},
        {"size": (2**64, 2**64)},
        {"size": (1.5, 2)},
        {"size": "1e3x10"},
    ],
)
def test_job_options_beyond_range_are_job_option_errors(tmp_path, option):
    arguments = {"per_image": 1, "seed": 0, **option}
    with pytest.raises(JobOptionError):
        augcore.run([tmp_path], tmp_path / "out", **arguments)


def test_api_numbers_beyond_range_are_named_errors():
    pipeline = augcore.Pipeline.default()
    with pytest.raises(augcore.AugmentOptionError, match=r"k must be an integer .* < 2\*\*63"):
        pipeline.augment(IMAGE, seed=0, key="a", k=2**70)
    with pytest.raises(augcore.WarpOptionError, match="cval"):
        augcore.warp_affine(IMAGE, np.eye(3), cval=10**400)
    with pytest.raises(augcore.AugmentOptionError, match="per_image"):
        pipeline.augment_batch([IMAGE], seed=0, per_image=2**64)
